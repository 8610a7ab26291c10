"""Seeing the trace: every intermediate value and every adjoint, in order.

:func:`trace` runs a function's forward and reverse sweeps at given
arguments and returns a :class:`TraceReport` that prints like the tables of
reverse-mode AD in textbooks: the intermediate values ``u1, u2, ...`` in the
order the forward sweep computes them, each beside the core-form statement
that made it, then the adjoints ``u_bar = df/du`` in the order the reverse
sweep computes them, down to the gradient.  :func:`stages` shows the source
after each stage of the pipeline.

How: the code is generated again with an observer (``Program(hook=...)``)
that inserts a recording call after every forward assignment and every
adjoint assignment.  This instrumented code is never cached (neither in
memory nor on disk) and the normal path never runs it.

Guarantees: the values are those the generated code computes at the given
arguments (arrays are copied when recorded, so later in-place updates of
adjoints do not change them); the value and gradient reported are those the
instrumented code returns, the same as ``value_and_grad`` would; the user's
arguments are not mutated.
"""

from __future__ import annotations

import copy
import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad import emit
from s2s_ad import runtime as rt
from s2s_ad.api import Differentiable, Wrt, _parameters, resolve_wrt
from s2s_ad.kinds import of_exact_value
from s2s_ad.program import Program, Unit, bind
from s2s_ad.reverse import is_comment
from s2s_ad.source import load, make_function_def, unwrap

__all__ = ["Step", "TraceReport", "stages", "summarize", "trace"]

_COMMENT_INDEX = re.compile(r"^__s2s_comment_([hsm])(\d+)__$")


# -----------------------------------------------------------------------------
# Summaries of values
# -----------------------------------------------------------------------------


def _number(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".6g")
    if isinstance(value, (complex, np.complexfloating)):
        return format(complex(value), ".6g")
    return repr(value)


def summarize(value: Any, items: int = 4) -> str:
    """A one-line summary: numbers to 6 significant digits, arrays as their
    dtype and shape and a few entries, containers item by item (at most
    ``items`` of each)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _number(value[()])
        flat = value.ravel()
        if flat.size <= items + 2:
            shown = " ".join(_number(v) for v in flat)
        else:
            head = " ".join(_number(v) for v in flat[:items])
            shown = f"{head} ... {_number(flat[-1])}"
        shape = "x".join(str(n) for n in value.shape) or "()"
        return f"{value.dtype}[{shape}] [{shown}]"
    if isinstance(value, (list, tuple)):
        parts = [summarize(v, items) for v in value[:items]]
        if len(value) > items:
            parts.append(f"... ({len(value)} items)")
        if isinstance(value, tuple):
            return "(" + ", ".join(parts) + ("," if len(value) == 1 else "") + ")"
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, dict):
        keys = list(value)
        parts = [f"{k!r}: {summarize(value[k], items)}" for k in keys[:items]]
        if len(keys) > items:
            parts.append(f"... ({len(keys)} keys)")
        return "{" + ", ".join(parts) + "}"
    if value is None or isinstance(value, (bool, int, float, complex, np.generic)):
        return _number(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _snapshot(value: Any) -> Any:
    """A copy of ``value`` that later in-place updates cannot change."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple, dict)):
        try:
            return copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - fall back to the summary text
            return summarize(value)
    return value


# -----------------------------------------------------------------------------
# The report
# -----------------------------------------------------------------------------


@dataclass
class Step:
    """One row of the trace.

    ``sweep`` is ``"input"``, ``"forward"`` or ``"reverse"``; ``name`` the
    variable assigned (``u3``, ``x1_bar``); ``statement`` the generated
    statement that assigned it (accumulations shown as ``a += e``);
    ``function`` the user function it belongs to; ``line`` the line of the
    user's source it came from; ``context`` for adjoints, the primal
    statement being reversed.
    """

    sweep: str
    name: str
    statement: str
    value: Any
    function: str = ""
    line: int | None = None
    source_line: str = ""
    context: str = ""
    loop: bool = False


@dataclass
class TraceReport:
    """The result of :func:`trace`; ``str(report)`` is the printable table."""

    function: str
    arguments: dict[str, Any]
    wrt: tuple[str, ...]
    value: Any
    gradient: Any
    steps: list[Step] = field(default_factory=list)
    single: bool = False

    @property
    def forward(self) -> list[Step]:
        """The intermediate values, in the order they were computed (loop
        counters excluded)."""
        return [s for s in self.steps if s.sweep == "forward" and not s.loop]

    @property
    def reverse(self) -> list[Step]:
        """The adjoints, in the order the reverse sweep computed them (loop
        counters excluded)."""
        return [s for s in self.steps if s.sweep == "reverse" and not s.loop]

    def values(self, name: str, sweep: str | None = None) -> list[Any]:
        """Every value recorded for the variable ``name``, in order."""
        return [
            s.value
            for s in self.steps
            if s.name == name and (sweep is None or s.sweep == sweep)
        ]

    def __str__(self) -> str:
        return self.format()

    def format(self, width: int = 44) -> str:
        """The table as text; statements are padded to ``width`` columns."""
        args = ", ".join(f"{k} = {summarize(v)}" for k, v in self.arguments.items())
        out = [
            f"{self.function}({', '.join(self.arguments)}) at {args}",
            f"gradient with respect to {', '.join(self.wrt)}",
            "",
            "forward sweep: each intermediate value, in the order computed",
        ]
        top = self.function
        marker: Any = None
        for step in self.steps:
            if step.sweep == "input":
                out.append(_row(step.name, "(argument)", step.value, width))
                continue
            if step.sweep != "forward":
                continue
            where = (step.function, step.line)
            if where != marker and step.line is not None:
                inside = "" if step.function == top else f" (in {step.function})"
                text = step.source_line.strip()
                out.append(f"  # line {step.line}{inside}: {text}")
                marker = where
            out.append(_row(step.statement, "", step.value, width, step.loop))
        out.append(f"value = {summarize(self.value)}")
        out.append("")
        out.append(
            "reverse sweep: each adjoint (name_bar = df/dname), in the order computed"
        )
        marker = None
        context: Any = None
        for step in self.steps:
            if step.sweep != "reverse":
                continue
            where = (step.function, step.line)
            if where != marker and step.line is not None:
                inside = "" if step.function == top else f" (in {step.function})"
                out.append(f"  # line {step.line}{inside}: {step.source_line.strip()}")
                marker = where
                context = None
            if step.context and step.context != context:
                out.append(f"  #   {step.context}")
                context = step.context
            out.append(_row(step.statement, "", step.value, width, step.loop))
        out.append("")
        out.append("gradient:")
        grads = (self.gradient,) if self.single else tuple(self.gradient)
        for name, g in zip(self.wrt, grads):
            out.append(f"  df/d{name} = {summarize(g)}")
        return "\n".join(out) + "\n"


def _row(statement: str, note: str, value: Any, width: int, loop: bool = False) -> str:
    if loop:
        return f"  {statement}:  {statement.split()[1]} = {summarize(value)}"
    left = f"  {statement}".ljust(width)
    right = summarize(value)
    return f"{left} -> {right}" + (f"   {note}" if note else "")


# -----------------------------------------------------------------------------
# Instrumentation
# -----------------------------------------------------------------------------


@dataclass
class _Spec:
    sweep: str
    name: str
    statement: str
    function: str
    line: int | None
    source_line: str
    context: str
    loop: bool


class _Recorder:
    """Inserts ``record(i, value)`` calls and collects the values at run time."""

    def __init__(self) -> None:
        self.specs: list[_Spec] = []
        self.steps: list[Step] = []

    def __call__(self, index: int, value: Any) -> None:
        spec = self.specs[index]
        self.steps.append(
            Step(
                spec.sweep,
                spec.name,
                spec.statement,
                _snapshot(value),
                spec.function,
                spec.line,
                spec.source_line,
                spec.context,
                spec.loop,
            )
        )

    def hook(self, stage: str, unit: Unit, **data: Any) -> None:
        if stage != "swept":
            return
        nf, builder = data["nf"], data["builder"]
        self.unit = unit
        self.record = unit.global_name("record", self)
        variables = set(nf.locals) | set(nf.params)
        adjoints = set(builder.adjoints.values())
        fwd, rev = data["fwd"], data["rev"]
        fwd[:] = self._forward(fwd, variables)
        self.variables = variables
        seeded: list[gast.stmt] = []
        result = nf.result
        if isinstance(result, gast.Name) and result.id in builder.act.active:
            bar = builder.adjoints.get(result.id)
            if bar is not None:
                origin = "seed" if unit.role == "top" else "from the caller"
                seeded = [self._call("reverse", bar, f"{bar} = {origin}", None, "")]
        rev[:] = seeded + self._reverse(rev, adjoints, builder.comments, [""])

    def _call(
        self,
        sweep: str,
        name: str,
        text: str,
        like: gast.AST | None,
        context: str,
        loop: bool = False,
    ) -> gast.stmt:
        line = getattr(like, "lineno", None)
        source_line = self.unit.src.line(line)
        spec = _Spec(
            sweep, name, text, self.unit.src.name, line, source_line, context, loop
        )
        self.specs.append(spec)
        call = A.call(A.load(self.record), [A.const(len(self.specs) - 1), A.load(name)])
        stmt = A.expr_stmt(call)
        if like is not None and line is not None:
            A.copy_lineno(stmt, like)
        return stmt

    def _loop(self, stmt: gast.stmt, sweep: str, variables: set[str]) -> None:
        """Record a for loop's variable at the start of each iteration."""
        target = getattr(stmt, "target", None)
        if not isinstance(stmt, gast.For) or not isinstance(target, gast.Name):
            return
        if target.id not in variables or not stmt.body:
            return
        text = f"for {target.id} in {_expr_text(stmt.iter)}"
        row = self._call(sweep, target.id, text, stmt, "", loop=True)
        stmt.body.insert(0, row)

    def _forward(self, stmts: list[gast.stmt], variables: set[str]) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in stmts:
            _descend(stmt, lambda body: self._forward(body, variables))
            self._loop(stmt, "forward", variables)
            out.append(stmt)
            if not isinstance(stmt, gast.Assign) or len(stmt.targets) != 1:
                continue
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                target = target.value
            if isinstance(target, gast.Name) and target.id in variables:
                text = emit.statement_text(stmt)
                out.append(self._call("forward", target.id, text, stmt, ""))
        return out

    def _reverse(
        self,
        stmts: list[gast.stmt],
        adjoints: set[str],
        comments: list[str],
        context: list[str],
    ) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for stmt in stmts:
            if is_comment(stmt):
                match = _COMMENT_INDEX.match(stmt.value.id)
                if match:
                    kind, index = match.group(1), int(match.group(2))
                    context[0] = comments[index] if kind == "s" else ""
                out.append(stmt)
                continue
            _descend(
                stmt, lambda body: self._reverse(body, adjoints, comments, context)
            )
            self._loop(stmt, "reverse", self.variables)
            out.append(stmt)
            if not isinstance(stmt, gast.Assign) or _is_zero(stmt.value):
                continue
            for target in stmt.targets:
                names = target.elts if isinstance(target, gast.Tuple) else [target]
                for node in names:
                    if isinstance(node, gast.Name) and node.id in adjoints:
                        text = _adjoint_text(stmt, node.id)
                        out.append(
                            self._call("reverse", node.id, text, stmt, context[0])
                        )
        return out


def _descend(stmt: gast.stmt, rewrite: Callable[[list[gast.stmt]], list]) -> None:
    for name in ("body", "orelse"):
        body = getattr(stmt, name, None)
        if isinstance(body, list) and body:
            setattr(stmt, name, rewrite(body))


def _is_zero(node: gast.expr) -> bool:
    return (
        isinstance(node, gast.Constant) and node.value == 0 and node.value is not False
    )


def _expr_text(node: gast.expr) -> str:
    return emit.statement_text(A.expr_stmt(copy.deepcopy(node)))


def _adjoint_text(stmt: gast.Assign, name: str) -> str:
    """The statement, with accumulations ``a = a + e`` / ``a = rt.acc(a, e)``
    shown as ``a += e``."""
    value = stmt.value
    if (
        isinstance(value, gast.BinOp)
        and isinstance(value.op, gast.Add)
        and isinstance(value.left, gast.Name)
        and value.left.id == name
    ):
        return f"{name} += {_expr_text(value.right)}"
    if (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and value.func.attr == "acc"
        and len(value.args) == 2
        and isinstance(value.args[0], gast.Name)
        and value.args[0].id == name
    ):
        return f"{name} += {_expr_text(value.args[1])}"
    return emit.statement_text(stmt)


# -----------------------------------------------------------------------------
# Entry points
# -----------------------------------------------------------------------------


def _prepare(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], wrt: Wrt, seed: Any
) -> tuple[Callable[..., Any], tuple[str, ...], bool, list[Any], dict[str, str], Any]:
    if isinstance(func, Differentiable):
        if wrt is None:
            wrt = func.wrt
        if seed is None:
            seed = func.seed
    target = unwrap(func)
    names, single = resolve_wrt(target, wrt)
    signature = inspect.signature(target)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{target.__name__}(): {exc}") from None
    bound.apply_defaults()
    values = dict(bound.arguments)
    for name in names:
        rt.check_wrt_arg(values[name], name)
        if type(values[name]) is int:
            values[name] = float(values[name])
    ordered = [values[p] for p in signature.parameters]
    kinds = dict(zip(_parameters(target), (of_exact_value(v) for v in ordered)))
    return target, names, single, ordered, kinds, seed


def trace(
    func: Callable[..., Any],
    *args: Any,
    wrt: Wrt = None,
    seed: Any = None,
    **kwargs: Any,
) -> TraceReport:
    """Run ``func``'s forward and reverse sweeps at ``args`` and record every
    intermediate value and adjoint; ``print()`` the result to see them.

    ``wrt`` and ``seed`` are those of :func:`s2s_ad.grad` (for a function
    decorated with ``@differentiate``, its own by default).
    """
    target, names, single, ordered, kinds, seed = _prepare(
        func, args, kwargs, wrt, seed
    )
    recorder = _Recorder()
    # The code a gradient object runs for these arguments (no seed given:
    # made without one).
    program = Program(
        target,
        names,
        load(target),
        "reverse",
        kinds=kinds,
        hook=recorder.hook,
        seeded=seed is not None,
    )
    generated = bind(program.artifact(), target)
    params = list(inspect.signature(target).parameters)
    inputs = [
        Step("input", p, p, _snapshot(v), target.__name__)
        for p, v in zip(params, ordered)
    ]
    value, grads = generated(*ordered) if seed is None else generated(*ordered, seed)
    return TraceReport(
        function=target.__name__,
        arguments=dict(zip(params, ordered)),
        wrt=names,
        value=value,
        gradient=grads[0] if single else grads,
        steps=inputs + recorder.steps,
        single=single,
    )


def stages(
    func: Callable[..., Any],
    wrt: Wrt = None,
    mode: str = "reverse",
    args: tuple[Any, ...] | None = None,
) -> str:
    """The source after each stage of the pipeline, as text: the normalized
    core form of every function transformed, the forward and reverse sweeps
    as first built (with their to-be-recorded markers), and the final
    generated source.  ``args`` are example arguments, as for
    :func:`s2s_ad.gradient_source`."""
    if isinstance(func, Differentiable) and wrt is None:
        wrt = func.wrt
    seeded = isinstance(func, Differentiable) and func.seed is not None
    target = unwrap(func)
    if wrt is None and mode == "forward":
        names = tuple(_parameters(target))
    else:
        names, _ = resolve_wrt(target, wrt)
    kinds = None
    if args is not None:
        _, _, _, _, kinds, _ = _prepare(target, tuple(args), {}, names, None)
    normalized: list[str] = []
    transformed: list[str] = []

    def hook(stage: str, unit: Unit, **data: Any) -> None:
        where = f"# {unit.src.name}, from {unit.src.filename}:{unit.src.node.lineno}"
        if stage == "normalized":
            normalized.append(where + "\n" + _core_text(unit, data["nf"]))
        elif stage == "transformed":
            builder = data["builder"]
            parts = [where]
            for label, body in (("forward", data["fwd"]), ("reverse", data["rev"])):
                fdef = make_function_def(
                    f"{label}_sweep_of_{unit.src.name}",
                    list(data["nf"].params) if label == "forward" else [],
                    copy.deepcopy(body) or [gast.Pass()],
                )
                parts.append(emit.function_text(fdef, builder.comments).rstrip())
            transformed.append("\n\n".join(parts) + "\n")

    # With arguments, what gradient_source shows for them: a seed is taken
    # only if the decorated function has one.
    program = Program(
        target,
        names,
        load(target),
        mode,
        kinds=kinds,
        hook=hook,
        seeded=seeded or not kinds,
    )
    final = program.artifact().source
    sections = [
        ("normalized: the core form, one operation per statement", normalized),
        (
            (
                "transformed: forward sweep and reversed adjoint statements as "
                "first built; __s2s_push__/__s2s_restore__ mark values that may "
                "need saving"
            ),
            transformed,
        ),
        (
            (
                "final: saves kept only where the reverse sweep reads the value, "
                "empty loops dropped, sweeps assembled"
            ),
            [final],
        ),
    ]
    if mode == "forward":
        sections = [sections[0], ("final: the tangent code", [final])]
    out = []
    for number, (title, texts) in enumerate(sections, 1):
        out.append(f"# ===== stage {number}/{len(sections)}: {title} =====\n")
        out.extend(t if t.endswith("\n") else t + "\n" for t in texts)
    return "\n".join(out)


def _core_text(unit: Unit, nf: Any) -> str:
    result = nf.result if nf.result is not None else A.const(None)
    body = copy.deepcopy(nf.body) + [gast.Return(value=copy.deepcopy(result))]
    fdef = make_function_def(unit.src.name, list(nf.params), body)
    return emit.function_text(fdef, [])
