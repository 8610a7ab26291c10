"""Activity analysis: which variables need adjoints.

A variable is *varied* if it may depend, through differentiable operations,
on a wrt input, and *useful* if the result may depend on it.  Only variables
both varied and useful (*active*) get adjoints.  The analysis is
flow-insensitive (one fact per name for the whole function), so it is
conservative: every variable that can carry a gradient is marked active.

Guarantees: ``active`` ⊆ locals; statements whose target is inactive need no
adjoint code; a call whose arguments are all inactive needs no rule.

The pass also refuses (``UnsupportedSyntaxError``) an in-place write that a
second name sharing the memory could observe, since adjoints follow names,
not memory; statement order and loops are taken into account, so a list
filled and only then given another name is accepted.  ``mutated`` holds
every name written in place and every name that may share memory with one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gast

from s2s_ad import astutil as A
from s2s_ad import ops as O
from s2s_ad.kinds import CONTAINER, NUMBERS, CalleeKind
from s2s_ad.kinds import infer as infer_kinds
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.source import FunctionSource


@dataclass
class ViewCheck:
    """``target = source[index]`` read after a write to ``source``: wrong
    numbers if the element is a view (a row of a 2-D array), fine if it is a
    number (an entry of a 1-D one).  Only the run time knows which."""

    stmt: gast.Assign
    target: str
    source: str
    write_line: int | None


@dataclass
class Activity:
    active: set[str]
    varied: set[str]
    useful: set[str]
    numeric: set[str]
    assign_counts: dict[str, int] = field(default_factory=dict)
    mutated_params: set[str] = field(default_factory=set)
    mutated: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)
    view_checks: list[ViewCheck] = field(default_factory=list)
    # Parameter kinds of each user-function call, by id of the call node.
    call_kinds: dict[int, dict[str, str]] = field(default_factory=dict)

    def is_active(self, node: gast.expr | None) -> bool:
        return isinstance(node, gast.Name) and node.id in self.active

    def overwritten(self, name: str) -> bool:
        return self.assign_counts.get(name, 0) > 1


def _walk(body: list[gast.stmt], loops: tuple[gast.stmt, ...] = ()):
    """Every statement in text order, with the loops enclosing it.

    Loops are given innermost last, so two statements share a loop (and can
    each run after the other) exactly when their loop tuples intersect."""
    for stmt in body:
        yield stmt, loops
        if isinstance(stmt, gast.If):
            yield from _walk(stmt.body, loops)
            yield from _walk(stmt.orelse, loops)
        elif isinstance(stmt, (gast.For, gast.While)):
            yield from _walk(stmt.body, (*loops, stmt))


def analyze(
    src: FunctionSource,
    nf: NormalizedFunction,
    wrt: set[str],
    param_kinds: dict[str, str] | None = None,
    callee_kind: CalleeKind | None = None,
) -> Activity:
    edges: dict[str, set[str]] = {}
    counts: dict[str, int] = {p: 1 for p in nf.params}
    numeric_votes: dict[str, bool] = {}

    def link(target: str, sources: list[str]) -> None:
        edges.setdefault(target, set()).update(sources)

    def count(name: str, in_loop: bool) -> None:
        counts[name] = counts.get(name, 0) + (2 if in_loop else 1)

    # Every statement with its loops, in text order: walked once, read by
    # each of the sweeps below.
    order = list(_walk(nf.body))
    for stmt, loops in order:
        in_loop = bool(loops)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name) and _pops(stmt.value, nf.locals):
                owner = stmt.value.func.value.id
                link(target.id, [owner])
                count(target.id, in_loop)
                numeric_votes[target.id] = False
            elif isinstance(target, gast.Name):
                op = O.classify(src, stmt.value, nf.locals)
                link(target.id, op.flow_names())
                count(target.id, in_loop)
                numeric = op.numeric or (
                    op.kind == "nondiff" and isinstance(stmt.value, gast.Constant)
                )
                numeric_votes[target.id] = (
                    numeric_votes.get(target.id, True) and numeric
                )
            elif isinstance(target, gast.Subscript) and isinstance(
                target.value, gast.Name
            ):
                value = stmt.value
                link(
                    target.value.id, [value.id] if isinstance(value, gast.Name) else []
                )
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            func = stmt.value.func
            if (
                isinstance(func, gast.Attribute)
                and isinstance(func.value, gast.Name)
                and func.attr == "append"
                and stmt.value.args
            ):
                arg = stmt.value.args[0]
                link(func.value.id, [arg.id] if isinstance(arg, gast.Name) else [])
        elif isinstance(stmt, gast.For):
            count(stmt.target.id, True)
            numeric_votes[stmt.target.id] = False

    # Names sharing memory with a written one see its writes too, and the
    # reverse sweep's in-place restores: copies made for mutated names
    # (arguments, the returned value) must cover them as well.
    call_kinds: dict[int, dict[str, str]] = {}
    kinds = infer_kinds(src, nf, param_kinds or {}, callee_kind, call_kinds)
    mutated, view_checks = _refuse_aliased_writes(src, nf, kinds, order)
    # Both are reachability along the edges (forwards from wrt, backwards
    # from the result), found by a search: re-sweeping every edge until
    # nothing changes takes one sweep per link of the longest chain.
    readers: dict[str, list[str]] = {}
    for target, sources in edges.items():
        for source in sources:
            readers.setdefault(source, []).append(target)
    varied = _reachable(set(wrt), readers)
    useful = _reachable(
        {nf.result.id} if isinstance(nf.result, gast.Name) else set(), edges
    )
    containers = _containers(order)
    # A parameter's incoming value is not among the votes: only its kind
    # (below) can make it numeric.
    numeric = {
        n
        for n, v in numeric_votes.items()
        if v and n not in containers and n not in nf.params
    }

    # A copy of a number is a number: names assigned only numbers or copies
    # of numeric names are numeric too.
    copies: dict[str, set[str]] = {}
    values: dict[str, list[gast.expr]] = {}  # every value assigned to a name
    for stmt, _ in order:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            values.setdefault(stmt.targets[0].id, []).append(stmt.value)
            if isinstance(stmt.value, gast.Name):
                copies.setdefault(stmt.targets[0].id, set()).add(stmt.value.id)
    changed = True
    while changed:
        changed = False
        for name, sources in copies.items():
            if name in numeric or name in containers or name in nf.params:
                continue
            others = [
                v
                for v in values[name]
                if not (isinstance(v, gast.Name) and v.id in sources)
            ]
            if sources <= numeric and all(_is_number(v, src, nf) for v in others):
                numeric.add(name)
                changed = True
    numeric |= {n for n, k in kinds.items() if k in NUMBERS}
    return Activity(
        varied & useful,
        varied,
        useful,
        numeric,
        counts,
        mutated & set(nf.params),
        mutated,
        kinds,
        view_checks,
        call_kinds,
    )


def _reachable(start: set[str], links: Mapping[str, Iterable[str]]) -> set[str]:
    """``start`` and every name reachable from it through ``links``."""
    found = set(start)
    todo = list(start)
    while todo:
        for name in links.get(todo.pop(), ()):
            if name not in found:
                found.add(name)
                todo.append(name)
    return found


# Methods whose result may share memory with the receiver.
_VIEW_METHODS = {"reshape", "ravel", "view", "transpose", "swapaxes", "squeeze"}


def _alias_source(value: gast.expr) -> str | None:
    """The local a value may share memory with (``y``, ``y[1:3]``, ``y.T``)."""
    if isinstance(value, gast.Name):
        return value.id
    if isinstance(value, (gast.Subscript, gast.Attribute)) and isinstance(
        value.value, gast.Name
    ):
        return value.value.id
    if (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and value.func.attr in _VIEW_METHODS
        and isinstance(value.func.value, gast.Name)
    ):
        return value.func.value.id
    return None


Place = tuple[int, tuple[gast.stmt, ...]]  # position in the text, loops around


def _runs_after(first: Place, then: Place) -> bool:
    """Whether statement ``then`` may run after ``first`` has run.

    Later in the text, or anywhere in a loop enclosing both: the next
    iteration runs it after ``first`` whatever their order in the body."""
    if then[0] >= first[0]:
        return True
    inner = {id(loop) for loop in first[1]}
    return any(id(loop) in inner for loop in then[1])


def _refuse_aliased_writes(
    src: FunctionSource,
    nf: NormalizedFunction,
    kinds: Mapping[str, str],
    order: list[tuple[gast.stmt, tuple[gast.stmt, ...]]],
) -> tuple[set[str], list[ViewCheck]]:
    """Refuse an in-place write that another name holding the memory can see.

    ``z = y; z[1] = v`` changes ``y`` too; the adjoint bookkeeping follows
    names, not memory, so such programs would get wrong gradients.  Only
    writes that may run after the statement making the alias count (see
    ``_runs_after``): filling a list and then naming it (``u1.append(v)`` in a
    loop, then ``ys = u1``, as generated gradient code does) is fine.

    After the alias, the new name (``z``) is never written.  The old one
    (``y``) may be only while no other name that may share its memory is
    read after the alias: the reverse sweep runs the reads between alias and
    write again after the write, and the returned value counts as read at
    the end.  Reading an element is no alias; an array's slice (``w =
    y[1:3]``) is a view, which must not be read after a write to ``y``.
    So is an array's element where the array has more than one dimension
    (``w = y[0]``, a row), which kinds cannot tell (they carry no ranks): such
    reads are returned as ``ViewCheck``s for a run-time check instead.

    Returns the names that are written in place or may share memory with
    one that is: the writes (and the reverse sweep's undoing of them) reach
    all of these, so copies made for written names (arguments, the returned
    value) must cover them too; and the view checks.  ``order`` lists
    ``_walk(nf.body)``.
    """
    from s2s_ad.errors import UnsupportedSyntaxError

    writes: dict[str, list[Place]] = {}
    for position, (stmt, loops) in enumerate(order):
        for name in _writes_in_place(stmt):
            writes.setdefault(name, []).append((position, loops))
    reads: dict[str, list[Place]] = {}

    def reads_of(names: set[str]) -> list[Place]:
        if not reads:  # found on first need: most functions never ask
            end: Place = (len(order), ())
            for position, (stmt, loops) in enumerate(order):
                # A while test runs again after each pass through its body.
                inside = (*loops, stmt) if isinstance(stmt, gast.While) else loops
                now, later = _reads(stmt)
                for name in now:
                    reads.setdefault(name, []).append((position, inside))
                for name in later:  # by a nested function, whenever called
                    reads.setdefault(name, []).append(end)
            if isinstance(nf.result, gast.Name):
                reads.setdefault(nf.result.id, []).append(end)
        return [r for name in names for r in reads.get(name, ())]

    aliases: list[tuple[gast.Assign, Place, str, str]] = []
    partners: dict[str, set[str]] = {}
    for position, (stmt, loops) in enumerate(order):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            source = _alias_source(stmt.value)
            if source is not None:
                target = stmt.targets[0].id
                aliases.append((stmt, (position, loops), target, source))
                partners.setdefault(target, set()).add(source)
                partners.setdefault(source, set()).add(target)
    blocks = _blocks(nf.body)
    # Generated code reads a view after its source was written only once its
    # reverse sweep has put the slot's old value back (an augmented
    # assignment's ``u1 = y[1:4]`` ... ``y[1:4] = u4``): the values agree.
    generated = src.filename.startswith("<s2s_ad generated")

    checks: list[ViewCheck] = []
    for stmt, here, target, source in aliases:
        if source in nf.temps or target in nf.temps:
            continue  # the normalizer's own names, used as it knows is safe
        if any(_runs_after(here, w) for w in writes.get(target, ())):
            written = target
        elif any(_runs_after(here, w) for w in writes.get(source, ())):
            written = source
            used = reads_of(_reachable({target}, partners) - {source})
            if not isinstance(stmt.value, gast.Subscript):
                seen = any(_runs_after(here, r) for r in used)
            elif kinds.get(source) == CONTAINER or generated:
                # A list's slice is a copy and its element an object the list
                # merely holds.  Reads replayed by the reverse sweep come after
                # it has put the slot's old value back, as for augmented
                # assignments.
                seen = False
            else:
                stale = [
                    w
                    for w in writes[source]
                    if _runs_after(here, w)
                    and any(_stale(here, w, r, blocks) for r in used)
                ]
                if stale and not _slices(stmt.value):
                    line = getattr(order[stale[0][0]][0], "lineno", None)
                    checks.append(ViewCheck(stmt, target, source, line))
                    continue
                seen = bool(stale)
            if not seen:
                continue
        else:
            continue
        raise src.error(
            UnsupportedSyntaxError,
            f"{target!r} may share memory with {source!r}, and {written!r} is "
            "written in place; s2s_ad cannot follow writes through aliases. "
            "Copy first (e.g. .copy()) or write into the original directly",
            stmt,
        )
    return _reachable(set(writes), partners), checks


def add_view_checks(
    src: FunctionSource,
    nf: NormalizedFunction,
    checks: list[ViewCheck],
    global_name: Callable[[str, Any], str],
) -> None:
    """Put ``rt.check_not_view`` after each flagged element read in ``nf``.

    The check refuses, with the user's line, an element that turns out to be
    an array sharing memory with its source; an Expr statement, it is kept
    in the forward sweep only and has no derivative, at any order."""
    if not checks:
        return
    from s2s_ad import runtime

    rt = A.load(global_name("rt", runtime))
    after: dict[int, gast.stmt] = {}
    for check in checks:
        stmt = check.stmt
        lineno = getattr(stmt, "lineno", None)
        where = f" (line {check.write_line})" if check.write_line else ""
        message = (
            f"{check.target!r} may share memory with {check.source!r}: the "
            "element read here is an array sharing its memory (a view, as a row "
            f"of a 2-D array is), and {check.source!r} is written in place{where} "
            f"before {check.target!r} is read again; s2s_ad cannot follow writes "
            "through aliases. Copy first (e.g. .copy()) or write into the "
            "original directly"
        )
        args = [
            A.load(check.target),
            A.load(check.source),
            A.const(message),
            A.const(src.filename),
            A.const(lineno),
            A.const(src.line(lineno).strip()),
            A.const(src.name),
        ]
        call = A.call(A.attr(rt, "check_not_view"), args)
        after[id(stmt)] = A.expr_stmt(call, stmt)

    def insert(block: list[gast.stmt]) -> None:
        for i in reversed(range(len(block))):
            stmt = block[i]
            if id(stmt) in after:
                block.insert(i + 1, after[id(stmt)])
            for name in ("body", "orelse"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                    insert(inner)

    insert(nf.body)


def _stale(alias: Place, write: Place, read: Place, blocks: dict[int, int]) -> bool:
    """Whether ``read`` may see the alias made at ``alias`` after ``write``.

    Not when the alias statement comes before the read in the same block
    and the write does not lie between them: every pass reaching the read
    made the alias afresh since the write (``w = y[i:i + 2]`` in a loop)."""
    if not _runs_after(write, read):
        return False
    renewed = (
        blocks[alias[0]] == blocks.get(read[0])
        and alias[0] < read[0]
        and not alias[0] < write[0] < read[0]
    )
    return not renewed


def _blocks(body: list[gast.stmt]) -> dict[int, int]:
    """The block (statement list) of each statement, by ``_walk`` position."""
    found: dict[int, int] = {}

    def visit(block: list[gast.stmt]) -> None:
        for stmt in block:
            found[len(found)] = id(block)
            if isinstance(stmt, gast.If):
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, (gast.For, gast.While)):
                visit(stmt.body)

    visit(body)
    return found


def _reads(stmt: gast.stmt) -> tuple[set[str], set[str]]:
    """Names ``stmt`` reads itself, and names functions it defines read.

    A compound statement reads its header only; its body is walked apart."""
    if isinstance(stmt, (gast.If, gast.While)):
        parts: list[gast.AST] = [stmt.test]
    elif isinstance(stmt, gast.For):
        parts = [stmt.iter]
    else:
        parts = [stmt]
    now: set[str] = set()
    later: set[str] = set()
    for part in parts:
        for node in A.walk_inner(part):
            if isinstance(node, (gast.FunctionDef, gast.Lambda)):
                later |= {
                    n.id
                    for n in A.walk_inner(node)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
                }
            elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                now.add(node.id)
    return now, later


def _slices(value: gast.Subscript) -> bool:
    """Whether ``value`` slices (``y[1:3]``, ``y[:, 0]``) rather than indexes."""
    index = value.slice
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(part, gast.Slice) for part in parts)


def _containers(order: list[tuple[gast.stmt, tuple[gast.stmt, ...]]]) -> set[str]:
    """Names that may hold lists, tuples or dicts (``+`` concatenates them),
    among the statements ``order`` (``_walk``'s, listed)."""
    found: set[str] = set()
    # Displays and list()/tuple()/dict()/sorted() calls make containers: one
    # sweep finds them.  Copies and binary operations make one only when an
    # operand is one: those are swept again until nothing changes (the
    # closure found is the same in any order).
    pending: list[tuple[str, list[str]]] = []
    for stmt, _ in order:
        if not (
            isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
        ):
            continue
        name = stmt.targets[0].id
        value = stmt.value
        if isinstance(value, (gast.List, gast.Tuple, gast.Dict)) or (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Name)
            and value.func.id in ("list", "tuple", "dict", "sorted")
        ):
            found.add(name)
        elif isinstance(value, gast.BinOp):
            operands = [
                o.id for o in (value.left, value.right) if isinstance(o, gast.Name)
            ]
            if operands:
                pending.append((name, operands))
        elif isinstance(value, gast.Name):
            pending.append((name, [value.id]))
    changed = True
    while changed:
        changed = False
        for name, operands in pending:
            if name not in found and any(o in found for o in operands):
                found.add(name)
                changed = True
    return found


def _is_number(value: gast.expr, src: FunctionSource, nf: NormalizedFunction) -> bool:
    if isinstance(value, gast.Constant):
        return isinstance(value.value, (int, float)) and not isinstance(
            value.value, bool
        )
    return O.classify(src, value, nf.locals).numeric


def _pops(value: gast.expr, local_names: set[str]) -> bool:
    from s2s_ad.reverse import _popped_list

    return _popped_list(value, local_names) is not None


def _writes_in_place(stmt: gast.stmt) -> set[str]:
    """Names whose value ``stmt`` itself updates in place."""
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            return {target.value.id}
        value = stmt.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute):
            owner = value.func.value
            if value.func.attr == "pop" and isinstance(owner, gast.Name):
                return {owner.id}
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        func = stmt.value.func
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and func.attr in ("append", "pop")
        ):
            return {func.value.id}
    return set()


def refuse_parameter_writes(src: FunctionSource, nf: NormalizedFunction) -> None:
    """Refuse a called function that updates an argument in place.

    Its caller sees the change (the argument is the caller's object), but
    generated code gives each function its own copy of what it writes, so
    the caller would compute with the old value: a wrong number.  A
    parameter rebound first (``v = v.copy()``) is the function's own."""
    from s2s_ad.errors import UnsupportedSyntaxError

    if src.filename.startswith("<s2s_ad generated"):
        # Generated reverse functions pop the trace their caller hands over
        # and never reads again: by design, not an aliasing bug.
        return
    watched = set(nf.params)
    for top in nf.body:
        for stmt, _ in _walk([top]):
            written = _writes_in_place(stmt) & watched
            if written:
                name = min(written)
                raise src.error(
                    UnsupportedSyntaxError,
                    f"{src.name}() updates its argument {name!r} in place, which "
                    "changes the caller's value too; s2s_ad cannot follow that. "
                    f"Copy it first ({name} = {name}.copy()) or return the new "
                    "value",
                    stmt,
                )
        if isinstance(top, gast.Assign) and isinstance(top.targets[0], gast.Name):
            watched.discard(top.targets[0].id)
