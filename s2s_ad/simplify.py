"""Peephole simplification of instantiated rule templates.

Guarantees: every rewrite preserves values for the kinds it is applied
under: ``rt.unbroadcast(e, x)`` becomes ``e`` only where ``e`` already has
``x``'s shape, ``rt.broadcast_like(e, ans)`` becomes ``e`` only where every
operand is a number (so ``e`` is one too), and ``rt.pow_base_partial(a, c)``
with a literal exponent becomes ``c * a ** (c - 1)`` (exact for c ≠ 0).
"""

from __future__ import annotations

from typing import Callable

import gast

from s2s_ad import astutil as A


class _Peephole(gast.NodeTransformer):
    def __init__(
        self, rt: str, same_shape: Callable[[gast.expr], bool], all_scalar: bool
    ) -> None:
        self.rt = rt
        self.same_shape = same_shape
        self.all_scalar = all_scalar

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
        self.generic_visit(node)
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
        self.generic_visit(node)
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


def peephole(
    stmts: list[gast.stmt],
    rt: str,
    same_shape: Callable[[gast.expr], bool],
    all_scalar: bool,
) -> list[gast.stmt]:
    """Simplify instantiated template statements in place; see module doc."""
    pass_ = _Peephole(rt, same_shape, all_scalar)
    return [pass_.visit(stmt) for stmt in stmts]
