"""Adjoints of Python floats accumulated in fewer statements.

For arguments that are exactly Python floats, a statement of the generated
gradient costs about what the one or two operations in it cost, so the
reverse sweep of a scalar loop runs at the speed of its statement count.
This pass runs on the top gradient function of such a version, after
:mod:`s2s_ad.fusion`, and rewrites its adjoints of numbers (kind
``scalar``):

1. ``a = a + -(e)`` becomes ``a = a - e``, and ``a = a + y * -(e)``
   becomes ``a = a - y * e`` (a negated factor of a product or dividend of
   a quotient added to ``a``).  A negated adjoint ``t = -s``
   whose every read is a factor of a product that is added or subtracted
   (``p + t * y``, ``p - y * t``) goes, each such ``p + t * y`` becoming
   ``p - s * y``: ``t`` is assigned once, its reads follow it in its own
   block, and nothing between assigns ``s``.
2. An accumulation ``a = a + e1`` moves down to the next statement that
   mentions ``a`` when that is ``a = a + e2`` too, and the two become
   ``a = a + e1 + e2``.  Only plain assignments that neither mention ``a``
   nor assign a name ``e1`` reads stand between, ``e1`` and ``e2`` do not
   read ``a``, and ``e1`` is pure (arithmetic on numbers, NumPy ufuncs).

Guarantees: every value is the one computed before, bit for bit.  For
numbers, negation is exact and rounding to nearest is symmetric, so
``(-s) * y`` is ``-(s * y)``, ``(-s) / y`` is ``-(s / y)`` and ``p + -q`` is
``p - q``; Python evaluates ``a + e1 + e2`` as ``(a + e1) + e2``, the same
additions in the same order, and ``e1`` reads the same values where it
moved (nothing between changes them, and computing it changes nothing).
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A
from s2s_ad.fusion import Purity
from s2s_ad.reverse import is_comment

Stmts = list[gast.stmt]

#: At most this many operations in a statement that gathers accumulations.
_MAX_OPERATIONS = 8
_SIGN_FLIP = {gast.Add: gast.Sub, gast.Sub: gast.Add}


def gather_accumulations(
    body: Stmts, start: int, numbers: set[str], purity: Purity, trace: str | None
) -> bool:
    """Both rewrites on the reverse sweep ``body[start:]`` for the adjoints
    named in ``numbers`` (adjoints of kind scalar), ``trace`` being the list
    it pops from; True if any happened."""
    rest = body[start:]
    changed = _fold_negations(rest, numbers)
    changed |= _gather(rest, numbers, purity, trace)
    body[start:] = rest
    return changed


# -- 1. negations ------------------------------------------------------------


def _fold_negations(block: Stmts, numbers: set[str]) -> bool:
    changed = False
    for stmt in A.statements(block):
        if A.assigned_name(stmt) in numbers:
            changed |= _subtract(stmt.value)
    reads = _reads(block)
    for sub in [block, *_blocks(block)]:
        gone = []
        for k, stmt in enumerate(sub):
            t = A.assigned_name(stmt)
            value = getattr(stmt, "value", None)
            if (
                t in numbers
                and isinstance(value, gast.UnaryOp)
                and isinstance(value.op, gast.USub)
                and isinstance(value.operand, gast.Name)
                and _negated_reads(sub, k, t, value.operand.id, reads.get(t, []))
            ):
                gone.append(stmt)
                # Those reads now read ``s``: a later negation of ``s``
                # must see them.
                reads.setdefault(value.operand.id, []).extend(reads.pop(t))
        if gone:
            sub[:] = [s for s in sub if all(s is not g for g in gone)]
            changed = True
    return changed


def _subtract(node: gast.expr) -> bool:
    """In place, along the sums of ``node`` (``p + e1 - e2...``): a negated
    factor of a term, ``p + y * -(e)``, turns the sum around, ``p - y * e``
    (``p + -(e)`` becomes ``p - e``); True if any did."""
    changed = False
    while isinstance(node, gast.BinOp) and type(node.op) in _SIGN_FLIP:
        changed |= _unnegate(node, node, "right")
        node = node.left
    return changed


def _unnegate(total: gast.BinOp, parent: gast.AST, field: str) -> bool:
    """Drop the negations among the factors of ``parent.field`` (products,
    and dividends of quotients), flipping ``total`` for each."""
    node = getattr(parent, field)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        setattr(parent, field, node.operand)
        total.op = _SIGN_FLIP[type(total.op)]()
        _unnegate(total, parent, field)
        return True
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        left = _unnegate(total, node, "left")
        return _unnegate(total, node, "right") or left
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
        return _unnegate(total, node, "left")
    return False


def _negated_reads(
    block: Stmts,
    k: int,
    t: str,
    s: str,
    reads: list[tuple[gast.stmt, list[gast.AST]]],
) -> bool:
    """Rewrite every read of ``t`` (assigned by ``block[k]``, ``t = -s``)
    to read ``s`` with the sum it is a factor of flipped, when each such
    read qualifies (see the module docstring); True if they all did."""
    later = {id(stmt): j for j, stmt in enumerate(block) if j > k}
    last = max((later.get(id(stmt), -1) for stmt, _ in reads), default=-1)
    if not reads or any(id(stmt) not in later for stmt, _ in reads):
        return False
    if _stored_in(block[k + 1 : last + 1], {s, t}):
        return False
    sums = [_flippable_sum(path) for _, path in reads]
    if any(found is None for found in sums):
        return False
    for (_, path), total in zip(reads, sums):
        path[-1].id = s
        total.op = _SIGN_FLIP[type(total.op)]()
    return True


def _flippable_sum(path: list[gast.AST]) -> gast.BinOp | None:
    """The ``p + m`` or ``p - m`` whose right operand ``m`` holds the read at
    the end of ``path`` (root first) as a factor of products and
    dividends only; None if there is none."""
    node = path[-1]
    for parent in reversed(path[:-1]):
        if not isinstance(parent, gast.BinOp):
            return None
        if type(parent.op) in _SIGN_FLIP:
            return parent if parent.right is node else None
        if not (
            isinstance(parent.op, gast.Mult)
            or (isinstance(parent.op, gast.Div) and parent.left is node)
        ):
            return None
        node = parent
    return None


def _reads(block: Stmts) -> dict[str, list[tuple[gast.stmt, list[gast.AST]]]]:
    """name -> (statement, path from the statement's value to the Name) for
    every read in the plain assignments of ``block`` and its nested blocks;
    a read anywhere else gets an empty path (it never qualifies)."""
    found: dict[str, list[tuple[gast.stmt, list[gast.AST]]]] = {}
    for stmt in A.statements(block):
        if A.assigned_name(stmt) is not None:
            _paths(stmt, stmt.value, [], found)
        else:
            for part in A.own_parts(stmt):
                for n in A.name_nodes(part):
                    if isinstance(n.ctx, gast.Load):
                        found.setdefault(n.id, []).append((stmt, [n]))
    return found


def _paths(stmt: gast.stmt, node: gast.AST, path: list[gast.AST], found) -> None:
    path = [*path, node]
    if isinstance(node, gast.Name):
        found.setdefault(node.id, []).append((stmt, path))
        return
    for child in A.children(node):
        _paths(stmt, child, path, found)


def _blocks(block: Stmts):
    for stmt in A.statements(block):
        yield from A.sub_blocks(stmt)


def _stored_in(stmts: Stmts, names: set[str]) -> bool:
    for stmt in stmts:
        for n in A.name_nodes(stmt):
            if n.id in names and not isinstance(n.ctx, gast.Load):
                return True
    return False


# -- 2. accumulations gathered -------------------------------------------------


def _terms(stmt: gast.stmt, numbers: set[str]) -> tuple[str, list[gast.expr]] | None:
    """``a`` and ``e1, e2...`` when ``stmt`` is ``a = a + e1 - e2...``, ``a``
    an adjoint of a number that no ``e`` reads."""
    a = A.assigned_name(stmt)
    if a not in numbers:
        return None
    terms = []
    node = stmt.value
    while isinstance(node, gast.BinOp) and type(node.op) in _SIGN_FLIP:
        if a in A.names(node.right):
            return None
        terms.append(node.right)
        node = node.left
    if terms and isinstance(node, gast.Name) and node.id == a:
        return a, terms
    return None


def _gather(block: Stmts, numbers: set[str], purity: Purity, trace: str | None) -> bool:
    changed = False
    for sub in [block, *_blocks(block)]:
        k = 0
        while k < len(sub):
            if _gather_at(sub, k, numbers, purity, trace):
                changed = True
            else:
                k += 1
    return changed


def _gather_at(
    block: Stmts, k: int, numbers: set[str], purity: Purity, trace: str | None
) -> bool:
    """Move ``block[k]`` into the next accumulation of its name; True if it
    went."""
    first = _terms(block[k], numbers)
    if first is None or not all(purity.pure(e) for e in first[1]):
        return False
    a, terms = first
    operands = set().union(*(A.names(e) for e in terms))
    for j in range(k + 1, len(block)):
        stmt = block[j]
        if is_comment(stmt):
            continue
        second = _terms(stmt, numbers)
        if second is not None and second[0] == a:
            return _merge(block, k, j)
        target = A.assigned_name(stmt)
        if (
            target is None
            or target == a
            or target in operands
            or a in A.names(stmt.value)
            or not (purity.pure(stmt.value) or _pop(stmt.value, trace))
        ):
            return False
    return False


def _pop(node: gast.expr, trace: str | None) -> bool:
    return trace is not None and A.is_method_call(node, trace, "pop", 0)


def _merge(block: Stmts, k: int, j: int) -> bool:
    first, second = block[k], block[j]
    if _operations(first.value) + _operations(second.value) > _MAX_OPERATIONS:
        return False
    # The ``a`` that starts the second chain becomes the first's whole value.
    node = second.value
    while isinstance(node.left, gast.BinOp):
        node = node.left
    node.left = first.value
    del block[k]
    return True


def _operations(node: gast.AST) -> int:
    return sum(
        isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Call)) for n in A.walk(node)
    )
