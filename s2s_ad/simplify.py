"""Peephole simplification of instantiated rule templates.

Guarantees: every rewrite preserves values for the kinds it is applied
under: ``rt.unbroadcast(e, x)`` becomes ``e`` only where ``e`` already has
``x``'s shape, ``rt.broadcast_like(e, ans)`` becomes ``e`` only where every
operand is a number (so ``e`` is one too), and ``rt.pow_base_partial(a, c)``
with a literal exponent becomes ``c * a ** (c - 1)`` (exact for c ≠ 0), and
``e * rt.div(1.0, d)`` becomes ``e / d`` where every operand is an array (so
``d`` is one too, and NumPy division never raises), else ``rt.div(e, d)``
(the same IEEE quotient, correctly rounded once instead of twice).
"""

from __future__ import annotations

from typing import Callable

import gast

from s2s_ad import astutil as A


class _Peephole:
    """Rewrites bottom-up: children first, then the node itself.

    A hand-written traversal rather than ``gast.NodeTransformer``: it runs
    on every instantiated template, and the generic one (``iter_fields``,
    dispatch by method name) dominated its cost."""

    def __init__(
        self,
        rt: str,
        same_shape: Callable[[gast.expr], bool],
        all_scalar: bool,
        all_array: bool = False,
    ) -> None:
        self.rt = rt
        self.same_shape = same_shape
        self.all_scalar = all_scalar
        self.all_array = all_array

    def visit(self, node: gast.AST) -> gast.AST:
        fields = node.__dict__
        for name in node._fields:
            value = fields.get(name)
            if isinstance(value, gast.AST):
                if value.__class__ in A.LEAVES:
                    continue  # nothing to rewrite in or under it
                new = self.visit(value)
                if new is not value:
                    fields[name] = new
            elif isinstance(value, list):
                value[:] = [
                    self.visit(v)
                    if isinstance(v, gast.AST) and v.__class__ not in A.LEAVES
                    else v
                    for v in value
                ]
        cls = node.__class__
        if cls is gast.Call:
            return self.visit_Call(node)
        if cls is gast.BinOp:
            return self.visit_BinOp(node)
        return node

    def _helper(self, node: gast.Call) -> str | None:
        func = node.func
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and func.value.id == self.rt
        ):
            return func.attr
        return None

    def visit_Call(self, node: gast.Call) -> gast.expr:
        helper = self._helper(node)
        if (
            helper == "unbroadcast"
            and len(node.args) == 2
            and not node.keywords
            and self.same_shape(node.args[1])
        ):
            return node.args[0]
        if helper == "broadcast_like" and len(node.args) == 2 and self.all_scalar:
            return node.args[0]
        if helper == "pow_base_partial" and len(node.args) == 2:
            base, power = node.args
            if (
                isinstance(power, gast.Constant)
                and isinstance(power.value, (int, float))
                and not isinstance(power.value, bool)
                and power.value != 0
            ):
                c = power.value
                if c == 1:
                    return A.const(1.0)
                if c == 2:
                    return gast.BinOp(left=A.const(2), op=gast.Mult(), right=base)
                lowered = gast.BinOp(left=base, op=gast.Pow(), right=A.const(c - 1))
                return gast.BinOp(left=A.const(c), op=gast.Mult(), right=lowered)
        return node

    def visit_BinOp(self, node: gast.BinOp) -> gast.expr:
        # e * rt.div(1.0, d) is e / d when d is an array: NumPy never raises
        # ZeroDivisionError (what rt.div is for); otherwise rt.div(e, d),
        # which gives the same IEEE result.  Either way one pass is saved.
        right = node.right
        if (
            isinstance(node.op, gast.Mult)
            and isinstance(right, gast.Call)
            and self._helper(right) == "div"
            and len(right.args) == 2
            and not right.keywords
            and isinstance(right.args[0], gast.Constant)
            and right.args[0].value == 1.0
        ):
            if self.all_array:
                return gast.BinOp(left=node.left, op=gast.Div(), right=right.args[1])
            return gast.Call(
                func=right.func, args=[node.left, right.args[1]], keywords=[]
            )
        # e * 1.0 and 1.0 * e, left by the folds above.
        if isinstance(node.op, gast.Mult):
            for keep, one in ((node.left, node.right), (node.right, node.left)):
                if (
                    isinstance(one, gast.Constant)
                    and one.value == 1.0
                    and not isinstance(one.value, bool)
                ):
                    return keep
        return node


def rewriter(
    rt: str,
    same_shape: Callable[[gast.expr], bool],
    all_scalar: bool,
    all_array: bool = False,
) -> Callable[[gast.expr], gast.expr]:
    """What :func:`peephole` does at one node, for a builder that makes
    trees bottom-up and so can rewrite each node as it is made (children
    first, as peephole does), without walking the trees again."""
    pass_ = _Peephole(rt, same_shape, all_scalar, all_array)
    call, binop = pass_.visit_Call, pass_.visit_BinOp

    def rewrite(node: gast.expr) -> gast.expr:
        cls = node.__class__
        if cls is gast.Call:
            return call(node)
        if cls is gast.BinOp:
            return binop(node)
        return node

    return rewrite


def peephole(
    stmts: list[gast.stmt],
    rt: str,
    same_shape: Callable[[gast.expr], bool],
    all_scalar: bool,
    all_array: bool = False,
) -> list[gast.stmt]:
    """Simplify instantiated template statements in place; see module doc."""
    pass_ = _Peephole(rt, same_shape, all_scalar, all_array)
    return [pass_.visit(stmt) for stmt in stmts]
