"""Transform a function and every user function it calls into one program.

The pipeline for each function is a short list of passes::

    load -> fence -> normalize -> analyze -> reverse -> record -> tidy -> emit

The differentiated function becomes ``grad_<name>(params..., seed=None)``,
returning ``(value, gradients)``; made with ``seeded=False`` (for gradient
objects given no seed), ``grad_<name>(params...)``.  Each user function it
calls becomes a pair ``fwd_<name>(trace, params...)`` (its forward sweep,
leaving what its reverse sweep needs on the shared trace) and
``rev_<name>(trace, result_bar)`` (returning the adjoints of all its
parameters), so a call costs one forward and one reverse sweep at any depth,
recursion included.

Guarantees: the generated text depends only on the sources and the options
(deterministic names, no ids), and :class:`Artifact` holds everything needed
to bind the code to a function object again without transforming.
"""

from __future__ import annotations

import builtins
import copy as copy_module
import gc
import hashlib
from dataclasses import dataclass, field
from types import CellType
from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad import emit, fence, sweepindex
from s2s_ad.analysis import add_view_checks, analyze, refuse_parameter_writes
from s2s_ad.arrayopt import fuse_numbers, optimize_array_adjoints
from s2s_ad.copyprop import optimize_functions
from s2s_ad.errors import S2SError
from s2s_ad.exactarrays import Context as ArrayContext
from s2s_ad.exactarrays import optimize_exact_arrays
from s2s_ad.forward import ForwardBuilder, apply_replacements
from s2s_ad.handoff import hand_over_saved
from s2s_ad.kinds import EXACT_FLOAT, SCALAR, UNKNOWN, analysed, exact_rank
from s2s_ad.kinds import infer as infer_kinds
from s2s_ad.naming import Namer
from s2s_ad.normalize import normalize
from s2s_ad.ops import resolve
from s2s_ad.remat import rematerialize
from s2s_ad.reverse import (
    ReverseBuilder,
    drop_empty_pairs,
    resolve_markers,
    tidy_comments,
)
from s2s_ad.scalars import Context as ScalarContext
from s2s_ad.scalars import optimize_scalars
from s2s_ad.source import (
    _MISSING,
    FunctionSource,
    _cells,
    load,
    make_function_def,
)
from s2s_ad.unitseed import propagate_unit_seed


@dataclass
class Unit:
    """One user function and the generated functions made from it."""

    func: Callable[..., Any]
    src: FunctionSource
    role: str  # "top" or "callee"
    names: dict[str, str]  # "grad" | "fwd" | "rev" -> generated function name
    params: list[str]
    namer: Namer
    injections: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, tuple[int, str]] = field(default_factory=dict)
    local_names: set[str] = field(default_factory=set)
    text: str = ""
    code: Any = None
    # A callee's code is specialised to the kinds of its parameters at the
    # calls that use it (None: the general code).
    kinds: dict[str, str] | None = None

    def global_name(self, preferred: str, obj: Any) -> str:
        """A global name in this unit's namespace that refers to ``obj``."""
        for name, value in self.injections.items():
            if value is obj:
                return name
        seen = self.src.namespace.lookup(preferred)
        if seen is obj and preferred not in self.local_names:
            name = preferred  # the user's own global already means obj
        elif preferred in self.namer.taken or seen is not _MISSING:
            name = self.namer.fresh(preferred + "_")
        else:
            name = preferred
            self.namer.reserve(name)
        self.injections[name] = obj
        return name

    def ref_name(self, preferred: str, target: int, which: str) -> str:
        for name, ref in self.refs.items():
            if ref == (target, which):
                return name
        seen = self.src.namespace.lookup(preferred)
        if preferred in self.namer.taken or seen is not _MISSING:
            name = self.namer.fresh(preferred + "_")
        else:
            name = preferred
            self.namer.reserve(name)
        self.refs[name] = (target, which)
        return name


@dataclass
class Artifact:
    """Generated code for a top function and its callees, ready to bind."""

    units: list[Unit]
    source: str
    wrt: tuple[str, ...]
    mode: str = "reverse"


class Program:
    """Builds the generated functions for one (function, wrt) request."""

    def __init__(
        self,
        func: Callable[..., Any],
        wrt: tuple[str, ...],
        src: FunctionSource,
        mode: str = "reverse",
        kinds: dict[str, str] | None = None,
        hook: Callable[..., None] | None = None,
        *,
        seeded: bool = True,
    ) -> None:
        self.wrt = wrt
        self.mode = mode
        # False: the gradient takes no seed (its result must be a number,
        # whose adjoint starts at 1.0), for gradient objects made without one.
        self.seeded = seeded
        self.kinds = (
            {name: analysed(kind) for name, kind in kinds.items()} if kinds else kinds
        )
        # Arguments known to be Python floats (see s2s_ad/scalars.py).
        self.exact_floats = {n for n, k in (kinds or {}).items() if k == EXACT_FLOAT}
        # ... and exact float64 arrays, by rank (see s2s_ad/exactarrays.py).
        self.exact_ranks = {
            n: r for n, k in (kinds or {}).items() if (r := exact_rank(k)) is not None
        }
        # Observes (and may extend) each unit at named stages; used by
        # s2s_ad.tracing only, never for cached artifacts.
        self.hook = hook
        self.units: list[Unit] = []
        self.index: dict[tuple[Any, ...], int] = {}
        self._todo: list[int] = []
        # Result kinds of user functions by (function, parameter kinds); None
        # while one is being worked out (a recursive call: unknown).
        self._result_kinds: dict[tuple[Any, ...], str | None] = {}
        # The transformation allocates many small, short-lived AST nodes; the
        # cyclic garbage collector would rescan them all, over and over.
        collecting = gc.isenabled()
        gc.disable()
        try:
            top = self._new_unit(func, "top", src)
            self._transform(top)
            while self._todo:
                self._transform(self.units[self._todo.pop(0)])
        finally:
            if collecting:
                gc.enable()

    def _new_unit(
        self,
        func: Callable[..., Any],
        role: str,
        src: FunctionSource | None = None,
        kinds: dict[str, str] | None = None,
    ) -> Unit:
        src = src or load(func)
        fence.check(src)
        namer = Namer(A.all_names(src.node))
        name = src.node.name  # "lambda_" for a lambda
        # A second version of one callee (other kinds) is told apart by name.
        versions = sum(1 for u in self.units if u.func is func and u.role == role)
        if versions:
            name = f"{name}_{versions + 1}"
        if self.mode == "forward":
            names = {"entry": namer.exact_or_fresh(f"jvp_{name}")}
        elif role == "top":
            names = {"entry": namer.exact_or_fresh(f"grad_{name}")}
        else:
            names = {
                "fwd": namer.exact_or_fresh(f"fwd_{name}"),
                "rev": namer.exact_or_fresh(f"rev_{name}"),
            }
        args = src.node.args
        positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
        params = [a.id for a in positional + list(args.kwonlyargs)]
        unit = Unit(func, src, role, names, params, namer, kinds=kinds)
        unit.local_names = A.names_stored(src.node)
        self.index[_unit_key(func, role, kinds)] = len(self.units)
        self.units.append(unit)
        return unit

    def _result_kind(self, func: Any, param_kinds: dict[str, str]) -> str:
        """The kind of what ``func`` returns when its parameters have
        ``param_kinds``: the kind analysis of its normalized body, with the
        calls it makes worked out the same way (a recursive call, or a
        function that cannot be transformed, is of unknown kind)."""
        key = _unit_key(func, "result", param_kinds)
        if key in self._result_kinds:
            return self._result_kinds[key] or UNKNOWN
        self._result_kinds[key] = None
        try:
            src = load(func)
            fence.check(src)
            nf = normalize(src, Namer(A.all_names(src.node)))
            kinds = infer_kinds(src, nf, param_kinds, self._result_kind)
        except S2SError:
            kinds = {}  # the callee's own transformation reports it
        result = nf.result if kinds else None
        found = kinds.get(result.id) if isinstance(result, gast.Name) else None
        self._result_kinds[key] = found or UNKNOWN
        return found or UNKNOWN

    def callee_names(
        self, caller: Unit
    ) -> Callable[[Any, dict[str, str] | None], tuple[str, str, list[str]]]:
        def names(
            func: Any, kinds: dict[str, str] | None = None
        ) -> tuple[str, str, list[str]]:
            key = _unit_key(func, "callee", kinds)
            if key not in self.index:
                self._new_unit(func, "callee", kinds=kinds)
                self._todo.append(self.index[key])
            target = self.index[key]
            unit = self.units[target]
            fwd = caller.ref_name(unit.names["fwd"], target, "fwd")
            rev = caller.ref_name(unit.names["rev"], target, "rev")
            return fwd, rev, unit.params

        return names

    def jvp_names(self, caller: Unit) -> Callable[[Any], tuple[str, list[str]]]:
        def names(func: Any) -> tuple[str, list[str]]:
            key = _unit_key(func, "callee", None)
            if key not in self.index:
                self._new_unit(func, "callee")
                self._todo.append(self.index[key])
            target = self.index[key]
            unit = self.units[target]
            return caller.ref_name(unit.names["entry"], target, "entry"), unit.params

        return names

    def _transform(self, unit: Unit) -> None:
        src = unit.src
        nf = normalize(src, unit.namer, unit.global_name)
        if self.hook is not None:
            self.hook("normalized", unit, nf=nf)
        wrt = set(self.wrt) if unit.role == "top" else set(unit.params)
        kinds = self.kinds if unit.role == "top" else unit.kinds
        if unit.role == "callee":
            refuse_parameter_writes(src, nf)
        # Kinds flow into the callees (and their results back) only in
        # specialised reverse-mode code: the general code stays general.
        specialised = self.mode == "reverse" and self.kinds is not None
        activity = analyze(
            src, nf, wrt, kinds, self._result_kind if specialised else None
        )
        add_view_checks(src, nf, activity.view_checks, unit.global_name)
        if self.mode == "forward":
            self._transform_forward(unit, nf, activity, wrt)
            return
        comments: list[str] = []
        builder = ReverseBuilder(
            src,
            nf,
            activity,
            unit.namer,
            comments,
            unit.global_name,
            self.callee_names(unit),
        )
        fwd, rev = builder.block(nf.body)
        if self.hook is not None:
            self.hook("transformed", unit, nf=nf, builder=builder, fwd=fwd, rev=rev)
        result = nf.result
        reads = rematerialize(builder, fwd, rev)  # what reverse_reads(rev) finds
        if unit.role == "top":
            reads |= wrt
        pushed = resolve_markers(builder, fwd, rev, reads)
        drop_empty_pairs(builder, fwd, rev)
        tidy_comments(rev)
        if self.hook is not None:
            self.hook("swept", unit, nf=nf, builder=builder, fwd=fwd, rev=rev)
        rt = builder.rt
        prologue: list[gast.stmt] = []
        for param in sorted(activity.mutated_params):
            # The user's arguments are never mutated, by either sweep.
            prologue.append(A.assign(param, A.call(rt("copy_arg"), [A.load(param)])))
        result_name = result.id if isinstance(result, gast.Name) else None
        result_active = result_name in activity.active
        if unit.role == "top":
            defs = self._assemble_top(
                unit,
                builder,
                fwd,
                rev,
                prologue,
                pushed,
                result,
                result_active,
                comments,
            )
        else:
            locals_read = sorted(n for n in reads if n in nf.locals)
            defs = self._assemble_callee(
                unit,
                builder,
                fwd,
                rev,
                prologue,
                pushed,
                result,
                result_active,
                locals_read,
                comments,
            )
        optimize_functions(defs, builder, fwd)
        optimize_array_adjoints(defs, builder, fwd)
        finish_scalars = None
        if unit.role == "top" and self.exact_floats:
            scalar_context = ScalarContext(
                forward=fwd,
                exact_floats=self.exact_floats,
                wrt=self.wrt,
                scalar_primals={n for n, k in activity.kinds.items() if k == SCALAR},
                adjoints=set(builder.adjoints.values()),
                resolve=lambda node: resolve(src, node, nf.locals),
                rt=A.dotted_name(rt("seed").value),
                to_float=lambda: unit.global_name("float", builtins.float),
                comment=builder.comment,
            )
            finish_scalars = optimize_scalars(defs[0], scalar_context)
        if unit.role == "top" and self.exact_ranks:
            array_context = ArrayContext(
                forward=fwd,
                exact_ranks=self.exact_ranks,
                numbers={n for n, k in activity.kinds.items() if k == SCALAR},
                floats=self.exact_floats,
                primal_of={bar: n for n, bar in builder.adjoints.items()},
                resolve=lambda node: resolve(src, node, nf.locals),
                rt=A.dotted_name(rt("seed").value),
                np_name=lambda: unit.global_name("np", np),
            )
            optimize_exact_arrays(defs[0], array_context)
        if self.exact_floats and (unit.role == "top" or unit.kinds):
            # A callee of a Python-float program is specialised to the kinds
            # its calls pass it: its numbers are fused as the top's are.
            for fdef in defs if unit.role == "callee" else defs[:1]:
                fuse_numbers(fdef, builder, fwd)
        if unit.role == "top" and not self.seeded:
            propagate_unit_seed(
                defs[0],
                fwd,
                set(builder.adjoints.values()),
                A.dotted_name(rt("seed").value),
                builder.comment,
            )
        if finish_scalars is not None:
            finish_scalars()
        if unit.role == "callee":
            hand_over_saved(defs[0], defs[1], builder.trace, unit.namer.exact_or_fresh)
        unit.text = "\n\n".join(emit.function_text(d, comments) for d in defs)

    def _transform_forward(self, unit: Unit, nf, activity, wrt: set[str]) -> None:
        comments: list[str] = []
        builder = ForwardBuilder(
            unit.src,
            nf,
            activity,
            unit.namer,
            comments,
            unit.global_name,
            self.jvp_names(unit),
        )
        body = apply_replacements(builder.block(nf.body))
        rt = builder.rt
        params = unit.params
        ordered_wrt = list(self.wrt) if unit.role == "top" else list(params)
        dots = [builder.dot(p) for p in ordered_wrt]
        prologue: list[gast.stmt] = []
        for param in sorted(activity.mutated_params):
            prologue.append(A.assign(param, A.call(rt("copy_arg"), [A.load(param)])))
        inits = [
            A.assign(dot, A.const(0.0))
            for name, dot in sorted(builder.tangents.items(), key=lambda kv: kv[1])
            if name not in ordered_wrt
        ]
        result = nf.result
        result_dot = (
            builder.tangent_of(result) if isinstance(result, gast.Name) else None
        ) or A.const(0.0)
        finalized = A.call(rt("finalize"), [copy_module.deepcopy(result), result_dot])
        ret = gast.Return(value=A.tuple_([copy_module.deepcopy(result), finalized]))
        full = prologue + inits + body + [ret]
        if unit.role == "top":
            fdef = make_function_def(unit.names["entry"], params + dots, full)
        else:
            dots_name = unit.namer.exact_or_fresh("tangents")
            unpack = A.assign(
                A.tuple_([A.store(d) for d in dots], gast.Store()), A.load(dots_name)
            )
            kwonly = tuple(a.id for a in unit.src.node.args.kwonlyargs)
            positional = [p for p in params if p not in kwonly]
            fdef = make_function_def(
                unit.names["entry"], [dots_name] + positional, [unpack] + full, kwonly
            )
        unit.text = emit.function_text(fdef, comments)

    def _inits(self, names, unit: Unit, value: Any) -> list[gast.stmt]:
        return [A.assign(n, A.const(value)) for n in sorted(names)]

    def _adjoint_inits(
        self, builder: ReverseBuilder, skip: str | None, rev: list[gast.stmt]
    ) -> list[gast.stmt]:
        """``x_bar = 0.0`` for each adjoint, except where the first use of a
        number's adjoint is its first contribution: that becomes a plain
        assignment (``x_bar = g`` rather than zeros plus ``g``)."""
        first = first_contributions(rev, builder)
        return [
            A.assign(bar, A.const(0.0))
            for name, bar in sorted(builder.adjoints.items(), key=lambda kv: kv[1])
            if name != skip and bar not in first
        ]

    def _assemble_top(
        self, unit, builder, fwd, rev, prologue, pushed, result, result_active, comments
    ):
        params = unit.params
        seed = unit.namer.exact_or_fresh("seed") if self.seeded else None
        rt = builder.rt
        body: list[gast.stmt] = list(prologue)
        body += self._inits(pushed - set(params), unit, None)
        body.append(builder.comment("forward sweep", True))
        if builder.uses_trace:
            body.append(A.assign(builder.trace, gast.List(elts=[], ctx=gast.Load())))
        body += fwd
        # The reverse sweep restores overwritten variables, so the value is
        # kept aside first (copied if the reverse sweep restores it in place).
        if isinstance(result, gast.Name):
            value = unit.namer.exact_or_fresh("value")
            saved: gast.expr = A.load(result.id)
            if result.id in builder.act.mutated:
                saved = A.call(rt("copy_arg"), [saved])
            body.append(A.assign(value, saved))
            returned: gast.expr = A.load(value)
        else:
            returned = copy_module.deepcopy(result)
        seed_args = [copy_module.deepcopy(result)] + ([A.load(seed)] if seed else [])
        seeded = A.call(rt("seed"), seed_args)
        if result_active:
            header = "reverse sweep: seed the adjoint of the result"
            # Without a seed, the seed statement may be folded into its uses.
            body.append(builder.comment(header, True, sweep=seed is None))
            body.append(A.assign(builder.adj(result.id), seeded))
        else:
            body.append(A.expr_stmt(seeded))
        body += self._adjoint_inits(builder, result.id if result_active else None, rev)
        body += rev
        grads = []
        for name in self.wrt:
            bar = builder.adjoints.get(name)
            g = A.load(bar) if bar and name in builder.act.active else A.const(0.0)
            grads.append(A.call(rt("finalize"), [A.load(name), g]))
        body.append(gast.Return(value=A.tuple_([returned, A.tuple_(grads)])))
        if seed is None:
            return [make_function_def(unit.names["entry"], params, body)]
        fdef = make_function_def(unit.names["entry"], params + [seed], body)
        fdef.args.defaults = [A.const(None)]
        return [fdef]

    def _assemble_callee(
        self,
        unit,
        builder,
        fwd,
        rev,
        prologue,
        pushed,
        result,
        result_active,
        locals_read,
        comments,
    ):
        params = unit.params
        trace = builder.trace
        body: list[gast.stmt] = list(prologue)
        needed = (pushed | set(locals_read)) - set(params)
        body += self._inits(needed - _assigned_first(fwd), unit, None)
        body.append(A.assign(trace, gast.List(elts=[], ctx=gast.Load())))
        body += fwd
        if locals_read:
            saved = A.tuple_([A.load(n) for n in locals_read])
            body.append(builder.push(saved))
        value = copy_module.deepcopy(result)
        if isinstance(result, gast.Name) and result.id in builder.act.mutated:
            # The reverse sweep undoes writes to it in place (pops appends,
            # restores slots), after the caller has taken it as its value.
            value = A.call(builder.rt("copy_arg"), [value])
        returned = A.tuple_([value, A.load(trace)])
        body.append(gast.Return(value=returned))
        kwonly = tuple(a.id for a in unit.src.node.args.kwonlyargs)
        positional = [p for p in params if p not in kwonly]
        fwd_def = make_function_def(unit.names["fwd"], positional, body, kwonly)

        result_bar = (
            builder.adj(result.id)
            if result_active
            else unit.namer.exact_or_fresh("result_bar")
        )
        rbody: list[gast.stmt] = []
        if locals_read:
            target = A.tuple_([A.store(n) for n in locals_read], gast.Store())
            rbody.append(A.assign(target, builder.pop()))
        rbody += self._adjoint_inits(builder, result.id if result_active else None, rev)
        rbody += rev
        grads = []
        for name in params:
            bar = builder.adjoints.get(name)
            grads.append(
                A.load(bar) if bar and name in builder.act.active else A.const(0.0)
            )
        rbody.append(gast.Return(value=A.tuple_(grads)))
        rev_def = make_function_def(unit.names["rev"], [trace, result_bar], rbody)
        return [fwd_def, rev_def]

    def artifact(self) -> Artifact:
        texts = []
        for i, unit in enumerate(self.units):
            unit.code = emit.compile_text(
                unit.text, code_filename(unit.src, i, unit.text), cellnames(unit)
            )
            texts.append(unit.text)
        return Artifact(self.units, "\n\n".join(texts), self.wrt, self.mode)


def _assigned_first(stmts: list[gast.stmt]) -> set[str]:
    """Names whose first mention in ``stmts`` is a top-level ``name = e``
    with ``e`` not reading ``name``: they need no ``name = None`` first."""
    found: set[str] = set()
    seen: set[str] = set()
    for stmt in stmts:
        mentioned = [n.id for n in A.name_nodes(stmt)]
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
        if (
            isinstance(target, gast.Name)
            and target.id not in seen
            and mentioned.count(target.id) == 1  # the target only
        ):
            found.add(target.id)
        seen.update(mentioned)
    return found


def _unit_key(func: Any, role: str, kinds: dict[str, str] | None) -> tuple[Any, ...]:
    return (id(func), role, tuple(sorted(kinds.items())) if kinds else None)


def code_filename(src: FunctionSource, index: int, text: str) -> str:
    """The file name generated code of unit ``index`` is compiled under.

    Transforming generated code again reads its source back from linecache
    by this name, so texts that differ (another wrt, mode or argument kinds
    of the same function, its gradient and its tangent code, two closures
    of one ``def``) must not share it: a digest of the text tells them
    apart."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return (
        f"<s2s_ad generated: {src.name} from {src.filename}:{src.node.lineno} "
        f"#{index} {digest}>"
    )


def bind(artifact: Artifact, top: Callable[..., Any]) -> Callable[..., Any]:
    """Live generated functions, with the top one bound to ``top``'s globals.

    Injected names (the runtime, other units' functions) and the user
    function's closure variables are closure cells of the generated code --
    the user's own cells, so later changes are seen -- and its globals are the
    user's module globals themselves: every name is read as fast as in the
    user's function."""
    made: list[dict[str, Any]] = []
    all_cells: list[dict[str, CellType]] = []
    for i, unit in enumerate(artifact.units):
        func = top if i == 0 else unit.func
        cells = _cells(func)
        for name, value in unit.injections.items():
            cells[name] = CellType(value)
        for name in unit.refs:
            cells[name] = CellType()
        funcs = emit.define(unit.code, func.__globals__, cells)
        if unit.role == "callee":
            fwd = funcs[unit.names["fwd" if "fwd" in unit.names else "entry"]]
            fwd.__defaults__ = func.__defaults__
            fwd.__kwdefaults__ = func.__kwdefaults__
        made.append(funcs)
        all_cells.append(cells)
    for unit, cells in zip(artifact.units, all_cells):
        for name, (target, which) in unit.refs.items():
            cells[name].cell_contents = made[target][
                artifact.units[target].names[which]
            ]
    return made[0][artifact.units[0].names["entry"]]


def cellnames(unit: Unit) -> list[str]:
    """The names generated code of ``unit`` reads from closure cells."""
    return [*unit.func.__code__.co_freevars, *unit.injections, *unit.refs]


def first_contributions(rev: list[gast.stmt], builder: ReverseBuilder) -> set[str]:
    """Rewrite ``x_bar = x_bar + g`` into ``x_bar = g`` where it is the first
    mention of ``x_bar`` in a straight-line block and x is a number (numbers
    are immutable, so the adjoint never aliases another one).

    In the top-level block that is the first mention overall.  In a loop or
    branch body it applies to adjoints mentioned only in that block, whose
    single reset ``x_bar = 0.0`` at the block's end then becomes dead (the
    next pass through the block starts by assigning) and is removed.
    Returns the adjoint names that then need no initialisation."""
    scalars = {
        bar
        for name, bar in builder.adjoints.items()
        if builder.act.kinds.get(name) in ("scalar", "array", "numeric")
    }
    # An array adjoint that is updated in place (or whose value flows into
    # one that is) may only start as a freshly computed array: starting it
    # as another adjoint would let one be updated in place through both.
    arrays = {
        bar
        for name, bar in builder.adjoints.items()
        if builder.act.kinds.get(name) in ("array", "numeric")
    }
    # The index rematerialize started; copyprop reads it next.  The rewrites
    # below drop a name from a statement, and from its entry.
    scan = _Scan(rev, scalars, builder.name_nodes)
    mutated = _mutated_adjoints(scan.calls)

    def may_start(name: str, value: gast.expr, around: set[str]) -> bool:
        """``around``: names of the statement holding ``value`` (a superset
        of value's, known already: most often it settles the question)."""
        if name not in arrays or _fresh(value):
            return True
        if name in mutated:
            return False
        return around.isdisjoint(mutated) or not (A.names_loaded(value) & mutated)

    only_in: dict[int, list[str]] = {}  # block -> the adjoints only it mentions
    for n, blocks in scan.where.items():
        if len(blocks) == 1:
            only_in.setdefault(next(iter(blocks)), []).append(n)
    done: set[str] = set()

    def visit(block: list[gast.stmt], top: bool) -> None:
        # The names each statement mentions, found once: looking them up per
        # adjoint and statement made this pass quadratic in the block length.
        mentions = [scan.every[id(st)] for st in block]
        # adjoint -> its last mentioning statement (only adjoints are asked)
        last: dict[str, int] = {}
        if top:
            local = set(scalars)
        else:
            for k, names in enumerate(mentions):
                for n in names & scalars:
                    last[n] = k
            # Adjoints living only in this block, reset by its last mention of
            # them: they are zero at the start of every pass through it.
            in_sub_blocks = _names_in_sub_blocks(block, scan.every)
            local = {
                n
                for n in only_in.get(id(block), ())
                if n not in in_sub_blocks and n in last and _is_reset(block[last[n]], n)
            }
        seen: set[str] = set()
        converted: set[str] = set()
        for k, stmt in enumerate(block):
            if stmt.__class__ is not _ASSIGN:
                seen |= mentions[k]
                continue
            target = stmt.targets[0]
            value = stmt.value
            if (
                target.__class__ is _NAME
                and target.id in local
                and target.id not in seen
                and isinstance(value, gast.BinOp)
                and isinstance(value.op, gast.Add)
                and isinstance(value.left, gast.Name)
                and value.left.id == target.id
                and not _loads_more(scan.index, stmt, target.id)
                and may_start(target.id, value.right, mentions[k])
            ):
                stmt.value = value.right
                _forget(scan.index, stmt, value.left)
                converted.add(target.id)
            seen |= mentions[k]  # the rewrite above mentions the same names
        if not top:
            # The final reset is dead: the next pass starts by assigning.  (It
            # mentions only its own adjoint, so deleting one moves no other
            # adjoint's last mention.)
            dead = {last[name] for name in converted}
            block[:] = [st for k, st in enumerate(block) if k not in dead]
            mentions = [m for k, m in enumerate(mentions) if k not in dead]
        done.update(converted)
        _fuse_reset_then_add(block, scalars, may_start, mentions, scan.index)
        for stmt in block:
            for fld in ("body", "orelse"):
                sub = getattr(stmt, fld, None)
                if isinstance(sub, list):
                    visit(sub, False)

    visit(rev, True)
    # The nested function reaches itself through its closure cell: a
    # reference cycle that would keep the scan of the whole sweep alive
    # until the cyclic garbage collector ran.
    visit = None  # type: ignore[assignment]
    return done


def _names_in_sub_blocks(
    block: list[gast.stmt], every: dict[int, set[str]]
) -> set[str]:
    found: set[str] = set()
    for stmt in block:
        for fld in ("body", "orelse"):
            sub = getattr(stmt, fld, None)
            if isinstance(sub, list):
                for st in sub:
                    found |= every[id(st)]
    return found


class _Scan:
    """What first_contributions asks of every statement of a sweep, found
    in one walk (asking it per block level walked nested blocks again at
    every level): ``every`` maps a statement's id to all the names it
    mentions, ``where`` each name of ``scalars`` to the (ids of the) blocks
    holding a statement that mentions it outside its nested blocks
    (``body``/``orelse`` lists, of any node), and ``calls`` holds every call.

    ``index`` (see :mod:`s2s_ad.sweepindex`) gives the nodes of the
    statements an earlier walk saw; the others are walked, and added to it.

    Rewriting ``x_bar = x_bar + g`` to ``x_bar = g`` keeps a statement's
    names, and blocks are rewritten only after their own names were read, so
    the walk before any rewrite serves the whole pass."""

    def __init__(
        self, block: list[gast.stmt], scalars: set[str], index: sweepindex.Index
    ) -> None:
        self.scalars = scalars
        self.index = index
        self.where: dict[str, set[int]] = {}
        self.every: dict[int, set[str]] = {}
        self.calls: list[gast.Call] = []
        for stmt in block:
            self._statement(stmt, id(block))

    def _statement(self, stmt: gast.stmt, block: int) -> set[str]:
        known = self.index.get(id(stmt))  # sweepindex.entry, inlined
        if known is not None and known[0] is stmt:
            names, calls = known[1], known[2]
            fields = stmt.__dict__
            nested = (
                sweepindex.blocks_of(stmt)
                if "body" in fields or "orelse" in fields
                else ()
            )
        else:
            names, calls, nested = sweepindex.statement_nodes(stmt)
            self.index[id(stmt)] = (stmt, names, calls)
        self.calls += calls
        mine = {n.id for n in names}
        where = self.where
        for name in mine & self.scalars:
            found = where.get(name)
            if found is None:
                where[name] = {block}
            else:
                found.add(block)
        every = mine
        for sub in nested:
            for st in sub:
                every |= self._statement(st, id(sub))
        self.every[id(stmt)] = every
        return every


def _loads_more(index: sweepindex.Index, stmt: gast.Assign, name: str) -> bool:
    """For ``x = x + g``: whether ``g`` loads ``name`` (``A.loads(g, name)``),
    read from ``stmt``'s entry in ``index`` where it has one."""
    value = stmt.value
    known = sweepindex.entry(index, stmt)
    left, load = value.left, gast.Load
    if known is None or left.annotation is not None:
        return A.loads(value.right, name)
    return any(
        n.id == name and n.ctx.__class__ is load and n is not left for n in known[1]
    )


def _forget(index: sweepindex.Index, stmt: gast.stmt, gone: gast.Name) -> None:
    """Keep ``index`` right for ``stmt`` after a rewrite removed the name
    ``gone`` from it (and no call, nor any other name)."""
    known = sweepindex.entry(index, stmt)
    if known is None:
        return
    if gone.annotation is not None:  # held names too: found again if asked
        del index[id(stmt)]
    else:
        index[id(stmt)] = (stmt, [n for n in known[1] if n is not gone], known[2])


def _is_reset(stmt: gast.stmt, name: str) -> bool:
    return (
        isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id == name
        and isinstance(stmt.value, gast.Constant)
    )


# Run-time helpers that update their first argument (an adjoint) in place.
_IN_PLACE = frozenset({"add_at", "zero_at"})


def _mutated_adjoints(calls: list[gast.Call]) -> set[str]:
    """Names that may be updated in place: first arguments of the in-place
    run-time helpers, and every argument of a call that is not a run-time
    or NumPy function (a callee's reverse function may update the adjoint
    it is given)."""
    out: set[str] = set()
    for node in calls:
        func = node.func
        module = (
            func.value.id
            if (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name))
            else None
        )
        if module in ("rt", "np") and func.attr not in _IN_PLACE:
            continue
        if module == "rt":
            args = node.args[:1]
        else:
            args = [*node.args, *(k.value for k in node.keywords)]
        out |= {a.id for a in args if isinstance(a, gast.Name)}
    return out


def _fresh(value: gast.expr) -> bool:
    """An expression whose value is a new object (arithmetic on arrays)."""
    return isinstance(value, (gast.BinOp, gast.UnaryOp))


def _first_reset(block: list[gast.stmt], scalars: set[str]) -> int | None:
    """Where the first ``x_bar = <constant>`` of ``block`` (x_bar in
    ``scalars``) is, if there is one."""
    for k, stmt in enumerate(block):
        if stmt.__class__ is _ASSIGN and stmt.value.__class__ is _CONSTANT:
            target = stmt.targets[0]
            if target.__class__ is _NAME and target.id in scalars:
                return k
    return None


_ASSIGN, _CONSTANT, _NAME = gast.Assign, gast.Constant, gast.Name


def _fuse_reset_then_add(
    block: list[gast.stmt],
    scalars: set[str],
    may_start: Callable[[str, gast.expr, set[str]], bool],
    mentions: list[set[str]],
    index: sweepindex.Index,
) -> None:
    """``x_bar = 0.0 ... x_bar = x_bar + g`` (nothing else mentioning x_bar
    between, in the same block) becomes ``... x_bar = g``.  ``mentions``
    holds the names each statement of the block mentions; ``index`` (see
    _Scan) follows the rewrites."""
    # The next statement mentioning each reset adjoint, found in one backward
    # sweep (scanning forward from every reset was quadratic).  Rewrites keep
    # the names a statement mentions, and a deleted reset is never the next
    # mention of a reset still to come, so the sweep stays valid throughout.
    first = _first_reset(block, scalars)
    if first is None:
        return  # nothing to fuse (straight-line code resets no adjoint)
    following: dict[str, int] = {}
    next_mention: dict[int, int] = {}
    for k in range(len(block) - 1, first - 1, -1):
        stmt = block[k]
        target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
        name = target.id if isinstance(target, gast.Name) else None
        if name in scalars and _is_reset(stmt, name) and name in following:
            next_mention[k] = following[name]
        for n in mentions[k] & scalars:  # only adjoints are asked
            following[n] = k
    dead: set[int] = set()
    for k, j in sorted(next_mention.items()):
        name = block[k].targets[0].id
        later = block[j]
        value = later.value if isinstance(later, gast.Assign) else None
        if (
            isinstance(later, gast.Assign)
            and isinstance(later.targets[0], gast.Name)
            and later.targets[0].id == name
            and isinstance(value, gast.BinOp)
            and isinstance(value.op, gast.Add)
            and isinstance(value.left, gast.Name)
            and value.left.id == name
            and not _loads_more(index, later, name)
            and may_start(name, value.right, mentions[j])
        ):
            later.value = value.right
            _forget(index, later, value.left)
            dead.add(k)
    if dead:
        block[:] = [st for k, st in enumerate(block) if k not in dead]
