"""Activity analysis: which variables need adjoints.

A variable is *varied* if it may depend, through differentiable operations,
on a wrt input, and *useful* if the result may depend on it.  Only variables
both varied and useful (*active*) get adjoints.  The analysis is
flow-insensitive (one fact per name for the whole function), so it is
conservative: every variable that can carry a gradient is marked active.

Guarantees: ``active`` ⊆ locals; statements whose target is inactive need no
adjoint code; a call whose arguments are all inactive needs no rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import gast

from s2s_ad import ops as O
from s2s_ad.kinds import NUMBERS
from s2s_ad.kinds import infer as infer_kinds
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.source import FunctionSource


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

    def is_active(self, node: gast.expr | None) -> bool:
        return isinstance(node, gast.Name) and node.id in self.active

    def overwritten(self, name: str) -> bool:
        return self.assign_counts.get(name, 0) > 1


def _walk(body: list[gast.stmt], in_loop: bool):
    for stmt in body:
        yield stmt, in_loop
        if isinstance(stmt, gast.If):
            yield from _walk(stmt.body, in_loop)
            yield from _walk(stmt.orelse, in_loop)
        elif isinstance(stmt, (gast.For, gast.While)):
            yield from _walk(stmt.body, True)


def analyze(
    src: FunctionSource,
    nf: NormalizedFunction,
    wrt: set[str],
    param_kinds: dict[str, str] | None = None,
) -> Activity:
    edges: dict[str, set[str]] = {}
    counts: dict[str, int] = {p: 1 for p in nf.params}
    numeric_votes: dict[str, bool] = {}
    mutated: set[str] = set()

    def link(target: str, sources: list[str]) -> None:
        edges.setdefault(target, set()).update(sources)

    def count(name: str, in_loop: bool) -> None:
        counts[name] = counts.get(name, 0) + (2 if in_loop else 1)

    for stmt, in_loop in _walk(nf.body, False):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name) and _pops(stmt.value, nf.locals):
                owner = stmt.value.func.value.id
                link(target.id, [owner])
                count(target.id, in_loop)
                mutated.add(owner)
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
                base = target.value.id
                value = stmt.value
                link(base, [value.id] if isinstance(value, gast.Name) else [])
                mutated.add(base)
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
                mutated.add(func.value.id)
        elif isinstance(stmt, gast.For):
            count(stmt.target.id, True)
            numeric_votes[stmt.target.id] = False

    _refuse_aliased_writes(src, nf, mutated)
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
    containers = _containers(nf)
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
    for stmt, _ in _walk(nf.body, False):
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
    kinds = infer_kinds(src, nf, param_kinds or {})
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


def _refuse_aliased_writes(
    src: FunctionSource, nf: NormalizedFunction, mutated: set[str]
) -> None:
    """Refuse in-place writes through a name that may alias another one.

    ``z = y; z[1] = v`` changes ``y`` too; the adjoint bookkeeping follows
    names, not memory, so such programs would get wrong gradients.
    """
    from s2s_ad.errors import UnsupportedSyntaxError

    for stmt, _ in _walk(nf.body, False):
        if not (
            isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
        ):
            continue
        target = stmt.targets[0].id
        source = _alias_source(stmt.value)
        if source is None or source in nf.temps or target in nf.temps:
            continue
        if isinstance(stmt.value, gast.Subscript) and target not in mutated:
            continue  # reading an element or a slice only matters if written
        if target in mutated or source in mutated:
            written = target if target in mutated else source
            raise src.error(
                UnsupportedSyntaxError,
                f"{target!r} may share memory with {source!r}, and {written!r} is "
                "written in place; s2s_ad cannot follow writes through aliases. "
                "Copy first (e.g. .copy()) or write into the original directly",
                stmt,
            )


def _containers(nf: NormalizedFunction) -> set[str]:
    """Names that may hold lists, tuples or dicts (``+`` concatenates them)."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for stmt, _ in _walk(nf.body, False):
            if not (
                isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
            ):
                continue
            name = stmt.targets[0].id
            value = stmt.value
            hit = isinstance(value, (gast.List, gast.Tuple, gast.Dict))
            if isinstance(value, gast.Call) and isinstance(value.func, gast.Name):
                hit = hit or value.func.id in ("list", "tuple", "dict", "sorted")
            if isinstance(value, gast.BinOp):
                operands = (value.left, value.right)
                hit = hit or any(
                    isinstance(o, gast.Name) and o.id in found for o in operands
                )
            if isinstance(value, gast.Name):
                hit = hit or value.id in found
            if hit and name not in found:
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
        for stmt, _ in _walk([top], False):
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
