"""Trace the shape of a value that the reverse sweep reads only for its shape.

The adjoint of ``u10 = u8 + u9`` is ``u8_bar = rt.unbroadcast(u10_bar, u8)``:
it reads ``u8`` only for its shape.  When ``u8`` is overwritten before the
reverse sweep runs (in a loop), the forward sweep pushes every value it
takes onto the trace, so a loop of T steps keeps T arrays alive for T
shapes.  :mod:`s2s_ad.shapes` drops such calls when it can prove the shapes
equal, but only for names assigned once, never for these (so this pass,
run first on each finished generated function, takes nothing from it).
It gives such a name ``x`` a companion ``x_shape`` and traces that
instead:

* after each assignment ``x = e`` in the forward sweep comes
  ``x_shape = x.shape`` (``x_shape = None`` after ``x = None``), and the
  generated placeholder ``x = None`` pushed before the first value becomes
  ``x_shape = None``;
* ``trace.append(x)`` becomes ``trace.append(x_shape)``, and in the reverse
  sweep ``x = trace.pop()`` becomes ``x_shape = trace.pop()``;
* ``rt.unbroadcast(g, x)`` becomes ``rt.unbroadcast_to(g, x_shape)``.

It applies only when every value ``x`` is given in the forward sweep is an
ndarray or a NumPy scalar (``x`` of array kind, or a matrix product), for
which ``unbroadcast`` reads nothing but the shape; when the reverse sweep
reads ``x`` nowhere else and assigns it only from the trace; and when the
forward sweep assigns ``x`` only by plain ``x = ...`` statements and pushes
it.  Then ``x_shape`` holds ``x.shape`` wherever the reverse sweep read
``x``, and ``unbroadcast_to`` computes from it what ``unbroadcast``
computed: every value is unchanged.
"""

from __future__ import annotations

from typing import Callable

import gast

from s2s_ad import astutil as A
from s2s_ad import sweepindex

Stmts = list[gast.stmt]


def _numpy_valued(value: gast.expr, kind: str | None) -> bool:
    """Whether assigning ``value`` to a name of ``kind`` gives it an ndarray
    or a NumPy scalar (the kinds analysis never calls a Python number an
    array; a matrix product of numbers is never a Python number)."""
    if kind == "array":
        return True
    return isinstance(value, gast.BinOp) and isinstance(value.op, gast.MatMult)


class _Census:
    """Which names qualify: the forward sweep looked at statement by
    statement, the reverse sweep's names only where a candidate appears."""

    def __init__(
        self,
        body: Stmts,
        start: int,
        kinds: dict[str, str],
        rt: str,
        trace: str,
        known: sweepindex.Index,
    ) -> None:
        self.known = known
        self.bad: set[str] = set()
        self.pushed: set[str] = set()
        self.read: set[str] = set()
        self.trace = trace
        #: The reverse sweep's ``x = trace.pop()`` of a candidate ``x``.
        self.pops: Stmts = []
        #: The reverse sweep's ``rt.unbroadcast(g, x)`` of a candidate ``x``,
        #: each with its statement.
        self.calls: list[tuple[gast.stmt, gast.Call]] = []
        # Forward sweep: plain assignments of NumPy values (or the None
        # placeholder) are the only stores allowed; pushes are noted.
        for stmt in A.statements(body[:start]):
            if isinstance(stmt, gast.Assign):
                target = A.assigned_name(stmt)
                if target is None or not (
                    _none(stmt.value) or _numpy_valued(stmt.value, kinds.get(target))
                ):
                    self.bad |= {n for t in stmt.targets for n in A.names(t)}
            elif isinstance(stmt, gast.Expr):
                if A.is_method_call(stmt.value, trace, "append", 1) and isinstance(
                    stmt.value.args[0], gast.Name
                ):
                    self.pushed.add(stmt.value.args[0].id)
            elif isinstance(stmt, (gast.AugAssign, gast.For)):
                self.bad |= A.names(stmt.target)
            elif not isinstance(stmt, _STORING_NOTHING):
                self.bad |= A.names(stmt)  # with, try, del...: to be safe
        live = self.pushed - self.bad
        # Reverse sweep: a name is read only as unbroadcast's ``x`` and
        # assigned only from the trace.
        self._reverse(body[start:], live, rt, trace)

    def _reverse(self, block: Stmts, live: set[str], rt: str, trace: str) -> bool:
        """Look at the statements of ``block`` and of the blocks nested in
        it, in order, while a candidate is left; False once none is."""
        known = self.known
        for stmt in block:
            if not live:
                return False  # every candidate is out: the rest cannot matter
            cls = stmt.__class__
            # sweepindex.entry, inlined: asked of every statement.
            indexed = known.get(id(stmt)) if cls is _ASSIGN or cls is _EXPR else None
            if indexed is not None and indexed[0] is stmt:
                # The statement's nodes are indexed (see s2s_ad.sweepindex):
                # most name no candidate, and none needs a walk.
                names = [n for n in indexed[1] if n.id in live]
                if names:
                    x_of = {
                        id(call.args[1]): call
                        for call in indexed[2]
                        if A.is_method_call(call, rt, "unbroadcast", 2)
                    }
                    self._reverse_uses(stmt, [(n, x_of.get(id(n))) for n in names])
                    live -= self.bad
                continue
            for part in A.own_parts(stmt):
                found = _live_names(part, live)
                if found:
                    uses = [
                        (name, parent if _x_of_unbroadcast(name, parent, rt) else None)
                        for name, parent in found
                    ]
                    self._reverse_uses(stmt, uses)
                    live -= self.bad
            fields = stmt.__dict__
            if "body" in fields or "orelse" in fields:
                for sub in A.sub_blocks(stmt):
                    if not self._reverse(sub, live, rt, trace):
                        return False
        return True

    def _reverse_uses(
        self, stmt: gast.stmt, found: list[tuple[gast.Name, gast.Call | None]]
    ) -> None:
        """Note the reads of candidates ``found`` in ``stmt``, each with the
        ``rt.unbroadcast(g, x)`` call whose ``x`` it is (else None): those and
        the assignment from the trace are fine, any other puts a name out."""
        popped = (
            stmt.targets[0]
            if isinstance(stmt, gast.Assign)
            and A.assigned_name(stmt) is not None
            and A.is_method_call(stmt.value, self.trace, "pop", 0)
            else None
        )
        for name, call in found:
            if name is popped:
                self.pops.append(stmt)
            elif call is not None:
                self.read.add(name.id)
                self.calls.append((stmt, call))
            else:
                self.bad.add(name.id)

    def candidates(self) -> set[str]:
        return (self.pushed & self.read) - self.bad


#: Statements that assign no variable of the function.
_STORING_NOTHING = (
    gast.If, gast.While, gast.Return, gast.Pass, gast.Break, gast.Continue,
)  # fmt: skip


def _live_names(part: gast.AST, live: set[str]) -> list[tuple[gast.Name, gast.AST]]:
    """The Name nodes of ``part`` whose names are in ``live``, each with its
    parent node (None for ``part`` itself)."""
    found: list[tuple[gast.Name, gast.AST]] = []
    todo: list[tuple[gast.AST, gast.AST]] = [(part, None)]
    pop, push = todo.pop, todo.append
    fields_of, inner = A.NAME_FIELDS, A.INNER
    # A.name_nodes inlined, keeping parents.
    while todo:
        node, parent = pop()
        cls = node.__class__
        fields = node.__dict__
        if cls is _NAME:
            if node.id in live:
                found.append((node, parent))
            value = fields.get("annotation")  # a parameter's
            if value.__class__ in inner:
                push((value, node))
            continue
        for field in fields_of.get(cls) or A.name_fields(cls):
            value = fields.get(field)
            if value.__class__ is list:
                for v in value:
                    if v.__class__ in inner:
                        push((v, node))
            elif value.__class__ in inner:
                push((value, node))
    return found


_NAME, _ASSIGN, _EXPR = gast.Name, gast.Assign, gast.Expr


def _x_of_unbroadcast(name: gast.Name, parent: gast.AST, rt: str) -> bool:
    return A.is_method_call(parent, rt, "unbroadcast", 2) and parent.args[1] is name


def _none(node: gast.expr) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


def keep_shapes_only(
    body: Stmts,
    start: int,
    kinds: dict[str, str],
    rt: str,
    trace: str,
    fresh: Callable[[str], str],
    known: sweepindex.Index | None = None,
) -> bool:
    """Trace shapes instead of the values of the names that qualify (see the
    module docstring) in one generated function's ``body``, whose reverse
    sweep begins at ``start``; True if any did.  ``known`` may give the
    nodes of reverse-sweep statements (see :mod:`s2s_ad.sweepindex`); the
    entries of the statements rewritten are updated."""
    known = {} if known is None else known
    census = _Census(body, start, kinds, rt, trace, known)
    names = census.candidates()
    if not names:
        return False
    shape_of = {name: fresh(f"{name}_shape") for name in sorted(names)}
    _forward(body, start, shape_of, trace)
    for stmt in census.pops:
        target = stmt.targets[0]
        if target.id in shape_of:
            stmt.targets[0] = A.store(shape_of[target.id])
            _replaced(known, stmt, target, stmt.targets[0])
    for stmt, call in census.calls:
        x = call.args[1]
        if x.id in shape_of:
            call.func.attr = "unbroadcast_to"
            call.args[1] = A.load(shape_of[x.id])
            _replaced(known, stmt, x, call.args[1])
    return True


def _replaced(
    known: sweepindex.Index, stmt: gast.stmt, old: gast.Name, new: gast.Name
) -> None:
    """Keep ``stmt``'s entry in ``known`` right after the Name node ``new``
    took the place of ``old`` (the same place in a walk)."""
    found = sweepindex.entry(known, stmt)
    if found is not None:
        names = found[1]
        for k, node in enumerate(names):
            if node is old:
                names[k] = new
                return


def _forward(
    block: Stmts, end: int, shape_of: dict[str, str], trace: str, top: bool = True
) -> None:
    """The forward-sweep part of the rewrite in ``block[:end]``.  At the top,
    ``x = None`` before ``trace = []`` is the generated placeholder (its
    value is only ever pushed): it becomes ``x_shape = None``.  Anywhere
    else it is the user's, kept and followed by ``x_shape = None``."""
    out: Stmts = []
    placeholders = top
    for stmt in block[:end]:
        for sub in A.sub_blocks(stmt):
            _forward(sub, len(sub), shape_of, trace, False)
        name = A.assigned_name(stmt)
        if name == trace:
            placeholders = False
        if name in shape_of:
            if not _none(stmt.value):
                out.append(stmt)
                stmt = A.assign(
                    A.store(shape_of[name]), A.attr(A.load(name), "shape"), stmt
                )
            elif placeholders:
                stmt.targets[0] = A.store(shape_of[name])
            else:
                out.append(stmt)
                stmt = A.assign(A.store(shape_of[name]), A.const(None), stmt)
        elif isinstance(stmt, gast.Expr) and A.is_method_call(
            stmt.value, trace, "append", 1
        ):
            pushed = stmt.value.args[0]
            if isinstance(pushed, gast.Name) and pushed.id in shape_of:
                stmt.value.args[0] = A.load(shape_of[pushed.id])
        out.append(stmt)
    block[:end] = out
