"""Rematerialization: recompute cheap numbers in the reverse sweep instead of
saving them on the trace.

A statement ``t = e`` inside a loop overwrites ``t`` on every pass, so when
the reverse sweep reads ``t`` the forward sweep pushes its old value and the
reverse sweep pops it back (see :mod:`s2s_ad.reverse`).  When ``e`` is one
arithmetic operation on local names and number constants, computing it again
costs less than the push and the pop, and saves the trace memory.

The pass relies on the invariant of :mod:`s2s_ad.reverse`: while the adjoint
code of a statement S runs, every variable the reverse sweep reads holds the
value it had just after S ran in the forward sweep.  Each name assignment,
slot write, append, pop and loop variable is undone right after the adjoint
code of its statement, and a variable assigned once is never changed; the
pass runs before the pushes are decided, so an operand it makes the reverse
sweep read is saved like any other.  (Other in-place method calls are not
undone, which is one reason operands must be numbers.)

It rewrites the definition D (``t = e``, in a block B) only when all of this
holds:

* ``t`` is a local number (kind ``scalar``), overwritten (so it is pushed),
  and ``e`` is a unary or binary arithmetic operation, or a copy, whose
  operands are number constants and locals or parameters other than ``t``;
* every reverse-sweep read of ``t`` lies in the adjoint code of D or of the
  statements after D in B up to the last one, S, that reads it, with no
  statement in between assigning ``t``;
* no statement after D up to and including S assigns or writes into an
  operand of ``e``.

Then, just before the adjoint code of S, the operands hold their values
from D (nothing between changed them, and the invariant restores everything
later statements changed), so ``t = e`` computes exactly the value D
computed, bit for bit.  That recomputation replaces the pop after D's
adjoint code, and the push before D goes.  No reverse code outside that
window reads ``t``, so the value ``t`` keeps afterwards is never seen.
Candidates whose operands are themselves recomputed are left alone, and so
are those that would make the reverse sweep read (and so save) an operand it
did not read before: that would trade one push for another.

Guarantees: gradients are unchanged bit for bit; the trace holds fewer
values; the forward sweep is unchanged except for dropped pushes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gast

from s2s_ad import astutil as A
from s2s_ad import sweepindex
from s2s_ad.emit import statement_text
from s2s_ad.reverse import PUSH, RESTORE, UNPOP, marker_kind

if TYPE_CHECKING:
    from s2s_ad.reverse import ReverseBuilder

Stmts = list[gast.stmt]

# Operations that cost less than a push and a pop, are pure, and on numbers
# give the same result every time they run on the same values.
_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod, gast.Pow)
_UNARY = (gast.USub, gast.UAdd)


@dataclass
class _Plan:
    name: str
    value: gast.expr
    operands: set[str]
    push: gast.stmt  # the PUSH marker before D in the forward sweep
    restore: gast.stmt  # the RESTORE marker after D's adjoint code
    anchor: gast.stmt  # first statement of S's adjoint code
    like: gast.stmt  # D, for line numbers


def rematerialize(builder: ReverseBuilder, fwd: Stmts, rev: Stmts) -> set[str]:
    """Recompute what the module docstring allows.

    Returns the names the reverse sweep reads afterwards, exactly what
    :func:`s2s_ad.reverse.reverse_reads` would find: finding them is a walk
    over the whole reverse sweep, which this pass needs anyway."""
    loads = _sweep_loads(rev, builder.name_nodes)
    reads = set(loads)
    variables = builder.nf.locals | set(builder.nf.params)
    found = [
        (parts, j, operands)
        for parts in builder.blocks
        for j in range(len(parts))
        if (operands := _cheap_definition(builder, parts[j][0], variables)) is not None
    ]
    plans = [
        plan
        for parts, j, operands in found
        if (plan := _plan(builder, parts, j, operands, reads, loads)) is not None
    ]
    names = {p.name for p in plans}
    # A recomputed operand is right only inside its own window: keep it simple.
    plans = [p for p in plans if not p.operands & names]
    if not plans:
        return reads
    fwd_lists = _owners(fwd)
    rev_lists = _owners(rev)
    for plan in plans:
        _remove(fwd_lists, plan.push)
        _remove(rev_lists, plan.restore)
        owner = rev_lists[id(plan.anchor)]
        recompute = A.assign(plan.name, plan.value)
        A.copy_lineno(recompute, plan.like)
        note = builder.comment(f"recomputed, not saved: {statement_text(plan.like)}")
        at = _index(owner, plan.anchor)
        owner[at:at] = [note, recompute]
        rev_lists[id(recompute)] = owner
        reads |= A.names_loaded(note) | A.names_loaded(recompute)
    return reads


def _cheap_definition(
    builder: ReverseBuilder, stmt: gast.stmt, variables: set[str]
) -> set[str] | None:
    """The operands of ``t = e`` if ``t`` is an overwritten local number and
    ``e`` a cheap pure operation not reading ``t``, else None."""
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return None
    name = stmt.targets[0].id
    act = builder.act
    if (
        name not in builder.nf.locals
        or name in builder.nf.params
        or name in builder.tapes
        or act.kinds.get(name) != "scalar"
        or not act.overwritten(name)
    ):
        return None
    operands = _operands(stmt.value, variables)
    if operands is None or name in operands:
        return None
    return operands


def _plan(
    builder: ReverseBuilder,
    parts: list[tuple[gast.stmt, Stmts, Stmts]],
    j: int,
    operands: set[str],
    reads: set[str],
    loads: Counter[str],
) -> _Plan | None:
    """The rewrite of the definition ``parts[j]``, if the conditions of the
    module docstring hold for it."""
    act = builder.act
    stmt, f, r = parts[j]
    name = stmt.targets[0].id
    if name not in reads:
        return None  # never pushed in the first place
    # Recomputing must not make the reverse sweep read (and save) a new value.
    if any(o not in reads and act.overwritten(o) for o in operands):
        return None
    push = _find_marker(f, PUSH, name)
    restore = _find_marker(r, RESTORE, name)
    if push is None or restore is None:
        return None
    last = None
    seen = 0
    for k in range(j, len(parts)):
        later, _, later_rev = parts[k]
        if k > j and name in _writes(later):
            break
        count = _reverse_loads(later_rev)[name]
        if count:
            last = k
            seen += count
            if seen == loads[name]:
                break
    if last is None or seen != loads[name]:
        return None  # some reverse code outside the window reads it
    for k in range(j + 1, last + 1):
        if operands & _writes(parts[k][0]):
            return None
    anchor_rev = parts[last][2]
    if not anchor_rev:
        return None
    return _Plan(name, stmt.value, operands, push, restore, anchor_rev[0], stmt)


def _operands(value: gast.expr, variables: set[str]) -> set[str] | None:
    """The names a cheap pure operation reads, or None if it is not one."""
    if isinstance(value, gast.BinOp) and isinstance(value.op, _OPS):
        atoms = [value.left, value.right]
    elif isinstance(value, gast.UnaryOp) and isinstance(value.op, _UNARY):
        atoms = [value.operand]
    else:
        atoms = [value]  # a copy ``t = x``
    names: set[str] = set()
    for atom in atoms:
        if isinstance(atom, gast.Name) and atom.id in variables:
            names.add(atom.id)
        elif not (
            isinstance(atom, gast.Constant)
            and isinstance(atom.value, (int, float))
            and not isinstance(atom.value, bool)
        ):
            return None
    return names


def _writes(stmt: gast.stmt) -> set[str]:
    """Names a statement may rebind or change in place, nested blocks included."""
    found: set[str] = set()
    for node in A.walk_inner(stmt):
        if isinstance(node, gast.Name) and not isinstance(node.ctx, gast.Load):
            found.add(node.id)  # assigned, a parameter, or deleted
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(
            node.ctx, (gast.Store, gast.Del)
        ):
            root = A.root_name(node)
            if root is not None:
                found.add(root)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
            root = A.root_name(node.func.value)
            if root is not None:
                found.add(root)  # a method may mutate its receiver
        elif isinstance(node, gast.FunctionDef):
            found.add(node.name)
    return found


def _reverse_loads(stmts: Stmts) -> Counter[str]:
    """How often reverse code reads each name, counted as reverse_reads does
    (markers skipped, except that putting a popped element back reads it)."""
    counts: Counter[str] = Counter()
    todo: list[gast.AST] = list(stmts)
    pop, append = todo.pop, todo.append
    name_class, expr_class, load_class = gast.Name, gast.Expr, gast.Load
    fields_of, inner = A.NAME_FIELDS, A.INNER
    # A plain stack walk over __dict__ (gast.walk and getattr are slower, and
    # this sees every node); leaves hold no names, and neither do the fields
    # that hold only leaves.
    while todo:
        node = pop()
        cls = node.__class__
        if cls is name_class:
            if node.ctx.__class__ is load_class:
                counts[node.id] += 1
            if node.annotation is None:
                continue
        elif cls is expr_class:
            kind = marker_kind(node)
            if kind == UNPOP:
                counts[node.value.args[1].id] += 1
            if kind:
                continue
        fields = node.__dict__
        for fld in fields_of.get(cls) or A.name_fields(cls):
            value = fields.get(fld)
            if value.__class__ is list:
                for v in value:
                    if v.__class__ in inner:
                        append(v)
            elif value.__class__ in inner:
                append(value)
    return counts


def _sweep_loads(rev: Stmts, index: sweepindex.Index) -> Counter[str]:
    """``_reverse_loads(rev)``, walked statement by statement so that each
    statement but the markers gets its entry in ``index`` (see
    :mod:`s2s_ad.sweepindex`) for the passes after this one."""
    counts: Counter[str] = Counter()
    load_class, expr_class = gast.Load, gast.Expr
    todo = [rev]
    while todo:
        for stmt in todo.pop():
            if stmt.__class__ is expr_class:  # markers are expressions
                kind = marker_kind(stmt)
                if kind == UNPOP:
                    counts[stmt.value.args[1].id] += 1
                if kind:
                    continue
            names, calls, nested = sweepindex.statement_nodes(stmt)
            index[id(stmt)] = (stmt, names, calls)
            # Counted in C (Counter.update of a list).
            counts.update([n.id for n in names if n.ctx.__class__ is load_class])
            todo += nested
    return counts


def _find_marker(stmts: Stmts, kind: str, name: str) -> gast.stmt | None:
    for stmt in stmts:
        if marker_kind(stmt) == kind and stmt.value.args[0].id == name:
            return stmt
    return None


def _owners(stmts: Stmts) -> dict[int, Stmts]:
    """The statement list holding each statement, nested blocks included."""
    owners: dict[int, Stmts] = {}
    todo = [stmts]
    while todo:
        block = todo.pop()
        for stmt in block:
            owners[id(stmt)] = block
            for fld in ("body", "orelse"):
                sub = getattr(stmt, fld, None)
                if isinstance(sub, list):
                    todo.append(sub)
    return owners


def _index(block: Stmts, stmt: gast.stmt) -> int:
    return next(k for k, s in enumerate(block) if s is stmt)


def _remove(owners: dict[int, Stmts], stmt: gast.stmt) -> None:
    block = owners.pop(id(stmt))
    del block[_index(block, stmt)]
