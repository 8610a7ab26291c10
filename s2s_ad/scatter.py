"""Contributions to the same part of an array adjoint, added in one step.

The adjoint of reading ``x[:-1]`` twice is two updates of the same slice,
``x_bar = rt.add_at(x_bar, x, slice(None, -1, None), a)`` and later the
same with ``b``: two helper calls and two passes over the slice.  This pass,
run on each finished generated function, moves the first contribution into
the second, ``rt.add_at(x_bar, x, slice(None, -1, None), a + b)``, when

* both sit in the same block, for the same array ``x`` (of array kind, so
  ``a + b`` adds numbers, never lists) and the same index, written alike
  and made of literals, ``slice`` and names of numbers;
* every statement between them only assigns a pure value (no helper that
  writes into its arguments) or a value popped from the trace to a name,
  and none of them reads or assigns
  ``x_bar``, assigns ``x``, or assigns a name that ``a`` or the index reads
  (so ``a`` and the index, evaluated later, give the same values);
* ``a`` and the index are pure (literals, names of numbers, arithmetic,
  ``slice`` and NumPy or helper functions that only compute a value).

Guarantees: ``rt.add_at`` is linear in its contribution (an index that hits
an entry twice adds twice either way), so the gradient is the one computed
before up to the order of the two additions into each entry (within an ulp;
exact where the slice still held zeros).
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A
from s2s_ad.fusion import Purity
from s2s_ad.reverse import is_comment

Stmts = list[gast.stmt]


def merge_slice_updates(
    block: Stmts, kinds: dict[str, str], rt: str, trace: str, purity: Purity
) -> bool:
    """Merge the updates that qualify in ``block`` and its nested blocks;
    True if any went (their comments are then left without code)."""
    waiting: list[int] = []  # positions of updates that may still move on
    gone: set[int] = set()
    merged = False
    for k, stmt in enumerate(block):
        for sub in A.sub_blocks(stmt):
            merged = merge_slice_updates(sub, kinds, rt, trace, purity) or merged
        if is_comment(stmt):
            continue
        update = _update(stmt, kinds, rt, purity)
        if update is not None:
            for j in waiting:
                if _same_update(block[j], *update):
                    _absorb(stmt, block[j])
                    gone.add(j)
                    break
            # Another update writes into its array in place: nothing moves
            # past it (a value moved might read that array).
            waiting = [k]
        elif (
            waiting  # else nothing is left to keep: no need to ask
            and A.assigned_name(stmt) is not None
            and (
                purity.pure(stmt.value) or A.is_method_call(stmt.value, trace, "pop", 0)
            )
        ):
            waiting = [j for j in waiting if _survives(block[j], stmt)]
        else:
            waiting = []
    if gone:
        block[:] = [s for k, s in enumerate(block) if k not in gone]
    return merged or bool(gone)


def _update(
    stmt: gast.stmt, kinds: dict[str, str], rt: str, purity: Purity
) -> tuple[str, str, gast.expr] | None:
    """``(x_bar, x, index)`` when ``stmt`` is ``x_bar = rt.add_at(x_bar, x,
    index, g)`` with ``x`` of array kind and a pure index and ``g``."""
    target = A.assigned_name(stmt)
    call = stmt.value if target is not None else None
    if not A.is_method_call(call, rt, "add_at", 4):
        return None
    bar, x, index, g = call.args
    if not (
        isinstance(bar, gast.Name)
        and bar.id == target
        and isinstance(x, gast.Name)
        and kinds.get(x.id) == "array"
        and purity.pure(index)
        and purity.pure(g)
    ):
        return None
    return target, x.id, index


def _same_update(stmt: gast.stmt, target: str, x: str, index: gast.expr) -> bool:
    _, other_x, other_index, _ = stmt.value.args
    return (
        stmt.targets[0].id == target
        and other_x.id == x
        and A.structure(other_index) == A.structure(index)
    )


def _absorb(stmt: gast.stmt, earlier: gast.stmt) -> None:
    """``stmt``'s contribution becomes ``earlier``'s plus its own."""
    args = stmt.value.args
    args[3] = gast.BinOp(left=earlier.value.args[3], op=gast.Add(), right=args[3])


def _survives(update: gast.stmt, stmt: gast.stmt) -> bool:
    """Whether ``update`` may still move past ``stmt``, an assignment of a
    pure or popped value that follows it."""
    bar, x, index, g = update.value.args
    written = A.names_stored(stmt)
    if bar.id in A.names(stmt) or x.id in written:
        return False
    return not (written & (A.names_loaded(index) | A.names_loaded(g)))
