"""Small constructors and queries for gast trees used by every pass.

Guarantees: constructors return complete nodes (every field set), so trees
built here convert to ``ast`` and compile without further fixing except
locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gast


def load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def const(value: Any) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def assign(
    target: gast.expr, value: gast.expr, like: gast.AST | None = None
) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    node = gast.Assign(targets=[target], value=value, type_comment=None)
    if like is not None:
        copy_lineno(node, like)
    return node


def attr(value: gast.expr, name: str) -> gast.Attribute:
    return gast.Attribute(value=value, attr=name, ctx=gast.Load())


def dotted(path: str) -> gast.expr:
    """``a.b.c`` as a load expression."""
    parts = path.split(".")
    node: gast.expr = load(parts[0])
    for part in parts[1:]:
        node = attr(node, part)
    return node


def call(
    func: Any, args: Iterable[gast.expr] = (), keywords: Iterable[gast.keyword] = ()
) -> gast.Call:
    if isinstance(func, str):
        func = dotted(func)
    return gast.Call(func=func, args=list(args), keywords=list(keywords))


def expr_stmt(value: gast.expr, like: gast.AST | None = None) -> gast.Expr:
    node = gast.Expr(value=value)
    if like is not None:
        copy_lineno(node, like)
    return node


def subscript(value: gast.expr, index: gast.expr, ctx: Any = None) -> gast.Subscript:
    return gast.Subscript(value=value, slice=index, ctx=ctx or gast.Load())


def tuple_(elts: list[gast.expr], ctx: Any = None) -> gast.Tuple:
    return gast.Tuple(elts=list(elts), ctx=ctx or gast.Load())


def if_(
    test: gast.expr, body: list[gast.stmt], orelse: list[gast.stmt] | None = None
) -> gast.If:
    return gast.If(test=test, body=body or [gast.Pass()], orelse=orelse or [])


def not_(value: gast.expr) -> gast.UnaryOp:
    return gast.UnaryOp(op=gast.Not(), operand=value)


def copy_lineno(node: gast.AST, like: gast.AST) -> gast.AST:
    lineno = getattr(like, "lineno", None)
    if lineno is not None:
        for sub in gast.walk(node):
            if getattr(sub, "lineno", None) is None and "lineno" in sub._attributes:
                sub.lineno = lineno
                sub.col_offset = 0
    return node


def names_loaded(node: gast.AST) -> set[str]:
    return {
        n.id
        for n in gast.walk(node)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    }


def names_stored(node: gast.AST) -> set[str]:
    return {
        n.id
        for n in gast.walk(node)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
    }


def all_names(node: gast.AST) -> set[str]:
    found = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
    for n in gast.walk(node):
        if isinstance(n, (gast.FunctionDef, gast.ClassDef)):
            found.add(n.name)
    return found


def is_atom(node: gast.expr) -> bool:
    """Names, constants and negated numeric constants: free to re-evaluate."""
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return isinstance(node.operand, gast.Constant)
    return False


def root_name(node: gast.expr) -> str | None:
    """``x`` for ``x``, ``x.a.b``; None otherwise."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def dotted_name(node: gast.expr) -> str | None:
    """``np.linalg.norm`` for that expression; None if not a dotted name."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def index_value(index: gast.expr) -> gast.expr:
    """An index as an ordinary value: ``a:b`` becomes ``slice(a, b, None)``."""
    import copy

    if isinstance(index, gast.Slice):
        parts = [
            copy.deepcopy(p) if p is not None else const(None)
            for p in (index.lower, index.upper, index.step)
        ]
        return call(load("slice"), parts)
    if isinstance(index, gast.Tuple):
        return tuple_([index_value(e) for e in index.elts])
    return copy.deepcopy(index)
