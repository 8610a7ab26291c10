"""Small constructors and queries for gast trees used by every pass.

Guarantees: constructors return complete nodes (every field set), so trees
built here convert to ``ast`` and compile without further fixing except
locations.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

import gast

_AST = gast.AST
# Field values that need no copying: immutable leaves of a tree.
IMMUTABLE = frozenset({str, int, float, complex, bool, bytes, type(None), type(...)})


#: Node classes without child nodes (contexts, operators, constants).
LEAVES = frozenset(
    cls
    for base in (
        gast.expr_context,
        gast.operator,
        gast.unaryop,
        gast.cmpop,
        gast.boolop,
    )
    for cls in base.__subclasses__()
) | {gast.Constant}


_EMPTY = LEAVES - {gast.Constant}  # node classes without any fields


def clone(node: Any) -> Any:
    """A deep copy of a gast tree (or list of trees), like ``copy.deepcopy``
    but several times faster: it knows nodes hold only nodes, lists of nodes
    and immutable leaves, and needs no memo (trees share no nodes)."""
    if isinstance(node, list):
        return [clone(n) if isinstance(n, _AST) else n for n in node]
    cls = node.__class__
    new = cls.__new__(cls)
    fields = new.__dict__
    if cls in _EMPTY:
        fields.update(node.__dict__)  # no nodes inside, nothing to copy deeply
        return new
    for key, value in node.__dict__.items():
        kind = value.__class__
        if kind in IMMUTABLE:  # first: names, numbers and locations abound
            pass
        elif kind is list:
            value = [clone(v) if isinstance(v, _AST) else v for v in value]
        elif isinstance(value, _AST):
            value = clone(value)
        else:
            value = copy.deepcopy(value)
        fields[key] = value
    return new


def children(node: gast.AST) -> list[gast.AST]:
    """The child nodes of ``node`` in ``ast.iter_child_nodes`` order (which
    is several times slower, being a generator over ``ast.iter_fields``)."""
    out = []
    fields = node.__dict__
    for name in node._fields:
        value = fields.get(name)
        if isinstance(value, _AST):
            out.append(value)
        elif value.__class__ is list:
            out.extend(v for v in value if isinstance(v, _AST))
    return out


def walk(node: gast.AST) -> Iterator[gast.AST]:
    """Every node of a tree, ``node`` included, in no particular order.

    Faster than ``gast.walk`` (which goes through ``ast.iter_child_nodes``);
    for the queries below, which collect sets, order does not matter."""
    todo = [node]
    pop, append, extend = todo.pop, todo.append, todo.extend
    while todo:
        node = pop()
        yield node
        fields = node.__dict__
        for name in node._fields:
            value = fields.get(name)
            if isinstance(value, _AST):
                append(value)
            elif value.__class__ is list:
                extend(v for v in value if isinstance(v, _AST))


def walk_inner(node: gast.AST) -> Iterator[gast.AST]:
    """The nodes of :func:`walk` but for leaves (contexts, operators,
    constants), in the same order, cheaper.  Like :func:`walk`, it reads a
    node's children after yielding it: the caller may replace them first."""
    return _inner_nodes(node, breadth_first=False)


def walk_in_order(node: gast.AST) -> Iterator[gast.AST]:
    """Every node of a tree, ``node`` included, breadth first: the order of
    ``gast.walk``, where it matters (the first of several nodes found),
    at a third of its cost."""
    todo = deque([node])
    popleft, extend = todo.popleft, todo.extend
    while todo:
        node = popleft()
        extend(children(node))
        yield node


def walk_inner_in_order(node: gast.AST) -> Iterator[gast.AST]:
    """The nodes of :func:`walk_in_order` but for leaves (contexts,
    operators, constants), in the same order, at a fraction of its cost."""
    return _inner_nodes(node, breadth_first=True)


def _inner_nodes(node: gast.AST, breadth_first: bool) -> Iterator[gast.AST]:
    """The non-leaf nodes of a tree: first in, first out (the order of
    :func:`walk_in_order`), or last in, first out (that of :func:`walk`)."""
    todo = deque([node])
    pop, push = (todo.popleft if breadth_first else todo.pop), todo.append
    fields_of, inner = NAME_FIELDS, INNER
    while todo:
        node = pop()
        yield node
        fields = node.__dict__
        for field in fields_of.get(node.__class__) or name_fields(node.__class__):
            value = fields.get(field)
            if value.__class__ is list:
                for v in value:
                    if v.__class__ in inner:
                        push(v)
            elif value.__class__ in inner:
                push(value)


# The constructors below make a third of all nodes of a transformation.  They
# fill a new node's fields directly: gast's generic constructor does the same
# (it only updates the node's __dict__ with its keywords) at twice the cost.
_Name, _Load, _Store = gast.Name, gast.Load, gast.Store
_Assign, _Expr = gast.Assign, gast.Expr
_Constant, _Attribute, _Call = gast.Constant, gast.Attribute, gast.Call


def load(name: str) -> gast.Name:
    node = _Name.__new__(_Name)
    fields = node.__dict__
    fields["id"] = name
    fields["ctx"] = _Load.__new__(_Load)
    fields["annotation"] = None
    fields["type_comment"] = None
    return node


def store(name: str) -> gast.Name:
    node = _Name.__new__(_Name)
    fields = node.__dict__
    fields["id"] = name
    fields["ctx"] = _Store.__new__(_Store)
    fields["annotation"] = None
    fields["type_comment"] = None
    return node


def const(value: Any) -> gast.Constant:
    node = _Constant.__new__(_Constant)
    fields = node.__dict__
    fields["value"] = value
    fields["kind"] = None
    return node


def assign(
    target: gast.expr, value: gast.expr, like: gast.AST | None = None
) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    node = _Assign.__new__(_Assign)
    fields = node.__dict__
    fields["targets"] = [target]
    fields["value"] = value
    fields["type_comment"] = None
    if like is not None:
        copy_lineno(node, like)
    return node


def attr(value: gast.expr, name: str) -> gast.Attribute:
    node = _Attribute.__new__(_Attribute)
    fields = node.__dict__
    fields["value"] = value
    fields["attr"] = name
    fields["ctx"] = _Load.__new__(_Load)
    return node


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
    node = _Call.__new__(_Call)
    fields = node.__dict__
    fields["func"] = func
    fields["args"] = list(args)
    fields["keywords"] = list(keywords)
    return node


def expr_stmt(value: gast.expr, like: gast.AST | None = None) -> gast.Expr:
    node = _Expr.__new__(_Expr)
    node.__dict__["value"] = value
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


def copy_lineno(
    node: gast.AST, like: gast.AST, done: dict[int, gast.AST] | None = None
) -> gast.AST:
    """Give ``like``'s line to every node of ``node``'s tree lacking one.

    ``done`` holds (by id) trees known to have a line everywhere already,
    which are not walked again: blocks number the statements they produce,
    and a compound statement's tree holds its inner blocks' statements (in
    its ``body`` and ``orelse``, the only lists where they are looked for)."""
    lineno = getattr(like, "lineno", None)
    if lineno is None or (done and id(node) in done):
        return node
    # walk() inlined, as this runs on every generated statement, reading only
    # the fields that may hold nodes with lines (see name_fields): contexts
    # and operators (a third of all nodes) have no line number nor children,
    # and names and constants (another third) are leaves done on the spot.
    lined, inner, fields_of = _LINED, INNER, NAME_FIELDS
    name_class, constant_class = _Name, _Constant
    skip = done or None  # the blocks left out, if any
    todo = [node]
    pop, push = todo.pop, todo.append
    while todo:
        sub = pop()
        cls = sub.__class__
        fields = sub.__dict__
        if fields.get("lineno") is None and cls in lined:
            sub.lineno = lineno
            sub.col_offset = 0
        for name in fields_of.get(cls) or name_fields(cls):
            value = fields.get(name)
            if value.__class__ is list:
                if skip is not None and (name == "body" or name == "orelse"):
                    value = [v for v in value if id(v) not in skip]
            else:
                value = (value,)
            for child in value:
                kind = child.__class__
                if kind is constant_class or (
                    kind is name_class and child.__dict__.get("annotation") is None
                ):
                    if child.__dict__.get("lineno") is None:
                        child.lineno = lineno
                        child.col_offset = 0
                elif kind in inner:
                    push(child)
    return node


# The fields of a statement that hold statements (or except handlers).
_STATEMENT_LISTS = ("body", "orelse", "handlers", "finalbody")


def number_statements(
    stmts: list[gast.stmt], like: gast.AST, done: dict[int, gast.AST]
) -> None:
    """Give ``like``'s line to every statement of ``stmts``, and of the
    blocks nested in them, lacking one; ``done`` as for :func:`copy_lineno`.

    For code that is only ever printed, never compiled from its tree: the
    expressions inside are left as they are (numbering them was a walk of
    every node of every generated statement)."""
    lineno = getattr(like, "lineno", None)
    if lineno is None:
        return
    todo = list(stmts)
    pop, extend = todo.pop, todo.extend
    while todo:
        stmt = pop()
        if id(stmt) in done:
            continue
        if getattr(stmt, "lineno", None) is None and "lineno" in stmt._attributes:
            stmt.lineno = lineno
            stmt.col_offset = 0
        fields = stmt.__dict__
        for name in _STATEMENT_LISTS:
            value = fields.get(name)
            if value.__class__ is list:
                extend(value)


def assigned_name(stmt: gast.stmt) -> str | None:
    """``a`` when ``stmt`` is ``a = ...`` (one plain name target), else None."""
    # Exact classes (nothing subclasses gast's): asked of every statement by
    # several passes.
    if stmt.__class__ is _Assign:
        targets = stmt.targets
        if len(targets) == 1 and targets[0].__class__ is _Name:
            return targets[0].id
    return None


def sub_blocks(stmt: gast.stmt) -> list[list[gast.stmt]]:
    """The statement lists nested directly in ``stmt`` (its body, orelse)."""
    fields = stmt.__dict__
    body = fields.get("body")
    orelse = fields.get("orelse")
    if body.__class__ is not list:
        return [orelse] if orelse.__class__ is list else []
    return [body, orelse] if orelse.__class__ is list else [body]


def own_stores(stmt: gast.stmt) -> set[str]:
    """Names a statement stores itself (a loop its target, not its body; a
    ``with`` or ``try`` every name it holds, to be safe)."""
    if isinstance(stmt, (gast.For, gast.AsyncFor)):
        return names_stored(stmt.target)
    if isinstance(stmt, (gast.If, gast.While)):
        return names_stored(stmt.test)
    if any(True for _ in sub_blocks(stmt)):
        return names(stmt)
    return names_stored(stmt)


def is_method_call(node: Any, owner: str, attr: str, nargs: int) -> bool:
    """Whether ``node`` is ``owner.attr(...)`` with ``nargs`` positional
    arguments and no keywords (``owner`` a plain name, e.g. ``rt``)."""
    return (
        node.__class__ is gast.Call
        and node.func.__class__ is gast.Attribute
        and node.func.attr == attr
        and node.func.value.__class__ is gast.Name
        and node.func.value.id == owner
        and len(node.args) == nargs
        and not node.keywords
    )


def own_parts(stmt: gast.stmt) -> list[gast.AST]:
    """The trees of ``stmt`` itself, without its nested blocks."""
    if isinstance(stmt, (gast.If, gast.While)):
        return [stmt.test]
    if isinstance(stmt, gast.For):
        return [stmt.target, stmt.iter]
    return [stmt]


def statements(body: list[gast.stmt]) -> Iterator[gast.stmt]:
    """Every statement of ``body`` and of the blocks nested in it, in order.

    A statement's blocks are read after it is yielded (the caller may
    replace them first), and lists are read as they are at each step."""
    # A stack of the blocks being read, not nested generators: a statement
    # deep in loops was passed up through every level's generator.
    stack: list[Iterator[gast.stmt]] = [iter(body)]
    while stack:
        for stmt in stack[-1]:
            yield stmt
            fields = stmt.__dict__
            if "body" in fields or "orelse" in fields:
                stack.append(chain.from_iterable(sub_blocks(stmt)))
                break
        else:
            stack.pop()


def name_nodes(node: gast.AST) -> list[gast.Name]:
    """The Name nodes of a tree, in no particular order."""
    found = []
    keep = found.append
    fields_of = NAME_FIELDS
    inner = INNER
    # walk() inlined: passes over whole sweeps ask this of every statement.
    # Only the fields that may hold nodes other than leaves (contexts,
    # operators, constants, which hold no names) are read.
    todo = [node]
    pop, push = todo.pop, todo.append
    while todo:
        sub = pop()
        cls = sub.__class__
        fields = sub.__dict__
        if cls is _Name:
            keep(sub)
            value = fields.get("annotation")  # a parameter's
            if value.__class__ in inner:
                push(value)
            continue
        for field in fields_of.get(cls) or name_fields(cls):
            value = fields.get(field)
            if value.__class__ is list:
                for v in value:
                    if v.__class__ in inner:
                        push(v)
            elif value.__class__ in inner:
                push(value)
    return found


def _all_subclasses(base: type) -> list[type]:
    found = [base]
    for sub in base.__subclasses__():
        found += _all_subclasses(sub)
    return found


#: Every node class but the leaves: the nodes that may hold names, calls,
#: operations.  Walks that look for those push only these (a set lookup is
#: cheaper than ``isinstance`` and a test for leaves).
INNER = frozenset(_all_subclasses(_AST)) - LEAVES
# The node classes with a line number (statements, expressions, handlers...).
_LINED = frozenset(c for c in _all_subclasses(_AST) if "lineno" in c._attributes)
# Fields that hold no nodes but leaves: strings, numbers, contexts, operators.
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "type_comment", "kind"}
    | {"level", "module", "is_async", "conversion", "simple"}
)
#: node class -> its other fields, the only ones such walks need to read
#: (filled by :func:`name_fields`: ``NAME_FIELDS.get(cls) or name_fields(cls)``).
NAME_FIELDS: dict[type, tuple[str, ...]] = {}


def name_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class ``cls`` that may hold inner nodes."""
    fields = NAME_FIELDS[cls] = tuple(
        f for f in getattr(cls, "_fields", ()) if f not in _LEAF_FIELDS
    )
    return fields


def names_loaded(node: gast.AST) -> set[str]:
    return {n.id for n in name_nodes(node) if isinstance(n.ctx, gast.Load)}


def loads(node: gast.AST, name: str) -> bool:
    """Whether ``name in names_loaded(node)``, without collecting the rest."""
    for n in name_nodes(node):
        if n.id == name and isinstance(n.ctx, gast.Load):
            return True
    return False


def names_stored(node: gast.AST) -> set[str]:
    return {
        n.id for n in name_nodes(node) if isinstance(n.ctx, (gast.Store, gast.Param))
    }


def names(node: gast.AST) -> set[str]:
    """Every name a tree mentions (loaded, stored or deleted)."""
    return {n.id for n in name_nodes(node)}


_LIST = object()  # marks a list in structure()'s result
_MISSING = object()


def structure(node: Any) -> Any:
    """A value equal for two trees exactly when their ``gast.dump`` texts
    are, several times cheaper to make (and ``gast.dump`` leaves its
    recursive closure behind as cyclic garbage at every call)."""
    if isinstance(node, _AST):
        cls = node.__class__
        parts: list[Any] = [cls.__name__]
        for name in node._fields:
            value = getattr(node, name, _MISSING)
            # What gast.dump leaves out: missing fields, defaulted Nones and
            # empty lists.
            if value is _MISSING or (value is None and getattr(cls, name, 0) is None):
                continue
            if value.__class__ is list and not value:
                continue
            parts.append((name, structure(value)))
        return tuple(parts)
    if isinstance(node, list):
        return (_LIST, *(structure(v) for v in node))
    return repr(node)


def all_names(node: gast.AST) -> set[str]:
    """Every name a tree mentions, and the names of the defs and classes in it."""
    found = {n.id for n in name_nodes(node)}
    # name_nodes does not enter leaves, which hold no defs either.
    defs = (gast.FunctionDef, gast.ClassDef)
    todo = [node]
    pop, extend = todo.pop, todo.extend
    while todo:  # statements only: defs are not found inside expressions
        stmt = pop()
        if isinstance(stmt, defs):
            found.add(stmt.name)
        fields = stmt.__dict__
        for name in _DEF_LISTS:
            value = fields.get(name)
            if value.__class__ is list:
                extend(value)
    return found


# Where statements are: blocks, except handlers, and the cases of a match.
_DEF_LISTS = (*_STATEMENT_LISTS, "cases")


# The queries below test exact classes (nothing subclasses gast's Name,
# Constant, Attribute, UnaryOp): passes ask them of every operand.


def is_atom(node: gast.expr) -> bool:
    """Names, constants and negated numeric constants: free to re-evaluate."""
    cls = node.__class__
    if cls is _Name or cls is _Constant:
        return True
    if cls is _UnaryOp and node.op.__class__ in _SIGNS:
        return node.operand.__class__ is _Constant
    return False


_UnaryOp = gast.UnaryOp
_SIGNS = (gast.USub, gast.UAdd)


def root_name(node: gast.expr) -> str | None:
    """``x`` for ``x``, ``x.a.b``; None otherwise."""
    while node.__class__ is _Attribute:
        node = node.value
    return node.id if node.__class__ is _Name else None


def dotted_name(node: gast.expr) -> str | None:
    """``np.linalg.norm`` for that expression; None if not a dotted name."""
    if node.__class__ is _Name:
        return node.id
    parts = []
    while node.__class__ is _Attribute:
        parts.append(node.attr)
        node = node.value
    if node.__class__ is not _Name:
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def index_value(index: gast.expr) -> gast.expr:
    """An index as an ordinary value: ``a:b`` becomes ``slice(a, b, None)``."""
    if isinstance(index, gast.Slice):
        parts = [
            clone(p) if p is not None else const(None)
            for p in (index.lower, index.upper, index.step)
        ]
        return call(load("slice"), parts)
    if isinstance(index, gast.Tuple):
        return tuple_([index_value(e) for e in index.elts])
    return clone(index)
