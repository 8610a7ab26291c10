"""The result's adjoint in a gradient made without a seed: the literal 1.0.

Without a seed, ``rt.seed(r)`` returns exactly the Python float ``1.0``, or
raises (a result that is not a real number).  So in the reverse sweep of
such a gradient, an adjoint assigned once, at the top level, by ``rt.seed(r)``
(one argument), by the literal ``1.0`` or by another such adjoint, holds
that very float wherever it is read.  This pass, run on the finished top
gradient function, makes every read of it the literal ``1.0``, keeps
``rt.seed(r)`` as a check, drops the assignments, and folds a product of
two numeric literals (``200.0 * 1.0``: what Python's compiler folds
anyway, so the listing shows the code that runs).

Guarantees: values, types and errors are unchanged: each replaced read
would have read the object ``1.0``, and no read comes before the one
assignment (that would be an unbound name, which the pass leaves alone).
"""

from __future__ import annotations

from typing import Callable

import gast

from s2s_ad import astutil as A
from s2s_ad.copyprop import reverse_start
from s2s_ad.reverse import is_comment, tidy_comments_before_return

Stmts = list[gast.stmt]

_HEADER = "reverse sweep: the result's adjoint is 1.0"


def propagate_unit_seed(
    fdef: gast.FunctionDef,
    forward: Stmts,
    adjoints: set[str],
    rt: str,
    comment: Callable[..., gast.stmt],
) -> None:
    """The rewrite, in place (``forward``: the forward-sweep statements,
    ``adjoints``: the adjoint variables' names, ``comment``:
    :meth:`ReverseBuilder.comment`)."""
    body = fdef.body
    start = reverse_start(body, {id(s) for s in forward})
    stores: dict[str, int] = {}
    for stmt in A.statements(body):
        for name in A.own_stores(stmt):
            stores[name] = stores.get(name, 0) + 1
    units: set[str] = set()
    k = start
    while k < len(body):
        stmt = body[k]
        name = A.assigned_name(stmt)
        if (
            name in adjoints
            and stores.get(name) == 1
            and _unit_value(stmt.value, units, rt)
            and not any(name in A.names_loaded(s) for s in body[start:k])
        ):
            seed = not units
            units.add(name)
            if isinstance(stmt.value, gast.Call):
                body[k] = A.expr_stmt(stmt.value)  # the check stays
            else:
                del body[k]
                if seed and k > start and is_comment(body[k - 1]):
                    body[k - 1] = comment(_HEADER, True, sweep=True)
                continue
        elif units:
            _replace_reads(stmt, units)
        k += 1
    if len(units) > 1:  # the comments of the copies dropped
        reverse = body[start:]
        tidy_comments_before_return(reverse)
        body[start:] = reverse


def _unit_value(node: gast.expr, units: set[str], rt: str) -> bool:
    if isinstance(node, gast.Name):
        return node.id in units
    return is_one(node) or is_unseeded(node, rt)


def is_one(node: gast.expr) -> bool:
    """Whether ``node`` is the literal ``1.0`` (a float, not ``1``)."""
    return (
        isinstance(node, gast.Constant)
        and type(node.value) is float
        and node.value == 1.0
    )


def is_unseeded(node: gast.expr, rt: str) -> bool:
    """Whether ``node`` is ``rt.seed(r)``, a seed without a seed given:
    exactly ``1.0``, or it raises."""
    return (
        isinstance(node, gast.Call)
        and A.dotted_name(node.func) == f"{rt}.seed"
        and len(node.args) == 1
        and not node.keywords
    )


def _replace_reads(stmt: gast.stmt, units: set[str]) -> None:
    """Reads of ``units`` in ``stmt`` become ``1.0``; products of two
    numeric literals are folded."""
    for node in _post_order(stmt):
        for field in node._fields:
            child = node.__dict__.get(field)
            if isinstance(child, gast.AST):
                node.__dict__[field] = _literal(child, units)
            elif isinstance(child, list):
                child[:] = [
                    _literal(c, units) if isinstance(c, gast.AST) else c for c in child
                ]


def _post_order(tree: gast.AST) -> list[gast.AST]:
    """The nodes of ``tree``, children before parents."""
    order: list[gast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        order.append(node)
        for field in node._fields:
            child = node.__dict__.get(field)
            if isinstance(child, gast.AST):
                todo.append(child)
            elif isinstance(child, list):
                todo.extend(c for c in child if isinstance(c, gast.AST))
    order.reverse()
    return order


def _literal(node: gast.AST, units: set[str]) -> gast.AST:
    if isinstance(node, gast.Name) and node.id in units:
        return A.const(1.0)
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        left, right = _number(node.left), _number(node.right)
        if left is not None and right is not None and 1.0 in (left, right):
            product = left * right
            if product < 0:
                return gast.UnaryOp(op=gast.USub(), operand=A.const(-product))
            return A.const(product)
    return node


def _number(node: gast.AST) -> float | None:
    """The value of a numeric literal, ``-2`` included (a bool is not one);
    ``1.0`` counts only as the float."""
    sign = 1
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node, sign = node.operand, -1
    if not isinstance(node, gast.Constant) or type(node.value) not in (int, float):
        return None
    if node.value == 1 and type(node.value) is int:
        return None  # 1 * 1.0 would fold to a float where 1 stood
    return sign * node.value
