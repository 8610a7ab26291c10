"""Kind inference: which variables hold numbers, arrays or containers.

Specialising generated code to the kinds of the arguments a gradient is
called with lets adjoints of plain numbers be plain arithmetic: no
structure-aware accumulation, no broadcasting reductions where shapes
cannot differ, operator rules without list concatenation support.

Kinds: ``scalar`` (a Python or NumPy number), ``array`` (an ndarray),
``numeric`` (one of the two), ``container`` (list, tuple, dict) and
``unknown``.  Guarantees: the inference is sound for every execution path
(a fixpoint over all assignments, joining kinds); ``unknown`` is used
whenever a kind cannot be proved, and unknown-kind code is the general code.

Calls of user functions: given ``callee_kind``, a call's result has the
kind the callee's own inference gives its result for the kinds of the
arguments at that call (the caller works that out, see
``Program._result_kind``); the kinds of those arguments, at the fixpoint,
are what the callee's specialised code is made for.  Both stay sound: the
arguments' kinds hold at every execution of the call.
"""

from __future__ import annotations

import builtins
import inspect
import math
from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad import ops
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.ops import _CONTAINER_RESULTS
from s2s_ad.source import _MISSING, FunctionSource

SCALAR, ARRAY, NUMERIC, CONTAINER, UNKNOWN = (
    "scalar",
    "array",
    "numeric",
    "container",
    "unknown",
)
NUMBERS = (SCALAR, ARRAY, NUMERIC)

#: An argument that is exactly a Python ``float``.  Only the key of a
#: generated version and the code around the sweeps use it (a gradient is
#: then ``float(x_bar)``, no call; see also s2s_ad/scalars.py); the
#: analysis sees ``scalar``.
EXACT_FLOAT = "float"

_NUMERIC_METHODS = {
    "sum", "mean", "max", "min", "prod", "dot", "reshape", "ravel", "flatten",
    "transpose", "std", "var", "clip", "squeeze", "astype", "cumsum", "cumprod", "copy",
}  # fmt: skip


def of_value(value: object) -> str:
    """The kind of a run-time argument."""
    if type(value) is float:
        return SCALAR
    if isinstance(value, np.ndarray):
        return ARRAY if value.dtype.kind in "fc" else UNKNOWN
    if isinstance(value, (float, np.floating)) or (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    ):
        return SCALAR
    if isinstance(value, (list, tuple, dict)):
        return CONTAINER
    return UNKNOWN


#: An argument that is exactly an ``np.ndarray`` of dtype float64 with at
#: least one dimension: ``float64[2d]`` for a matrix.  As for exact floats,
#: only the version key and s2s_ad/exactarrays.py use it; the analysis sees
#: ``array``.
_EXACT_ARRAY = "float64[{}d]"
_F64 = np.dtype(np.float64)


def exact_array(ndim: int) -> str:
    """The kind of an exact float64 ndarray of ``ndim`` (>= 1) dimensions."""
    return _EXACT_ARRAY.format(ndim)


def exact_rank(kind: str | None) -> int | None:
    """The number of dimensions an exact float64 array kind names, else None."""
    if kind and kind.startswith("float64[") and kind.endswith("d]"):
        return int(kind[8:-2])
    return None


def of_exact_value(value: object) -> str:
    """The kind of a run-time argument, Python floats and float64 arrays of
    exact type marked."""
    kind = type(value)
    if kind is float:
        return EXACT_FLOAT
    if kind is np.ndarray and value.dtype == _F64 and value.ndim:  # type: ignore[attr-defined]
        return exact_array(value.ndim)  # type: ignore[attr-defined]
    return of_value(value)


def analysed(kind: str | None) -> str | None:
    """The kind the analysis works with (``scalar`` for an exact float,
    ``array`` for an exact float64 array)."""
    if kind == EXACT_FLOAT:
        return SCALAR
    return ARRAY if exact_rank(kind) is not None else kind


def join(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a in NUMBERS and b in NUMBERS:
        return NUMERIC
    return UNKNOWN


def _arith(kinds: list[str | None]) -> str | None:
    # Kinds are strings or None: ``in`` and ``count`` compare them as the
    # generator tests did, without making generators (asked of every
    # arithmetic operation).
    if None in kinds:
        return None
    if kinds.count(SCALAR) == len(kinds):
        return SCALAR
    for k in kinds:
        if k not in NUMBERS:
            return UNKNOWN
    return ARRAY if ARRAY in kinds else NUMERIC


def _kind_targets(body: list[gast.stmt]) -> list[tuple[str, gast.expr | str | None]]:
    """The statements of ``body`` (nested ones included, in text order) that
    give a name a kind: (name, assigned value) for ``name = value``, (name,
    None) for a loop over ``name``, (name, "append") for ``name.append(x)``."""
    found: list[tuple[str, gast.expr | str | None]] = []
    for stmt in A.statements(body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            found.append((stmt.targets[0].id, stmt.value))
        elif isinstance(stmt, gast.For):
            found.append((stmt.target.id, None))
        elif (
            isinstance(stmt, gast.Expr)
            and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Attribute)
            and stmt.value.func.attr == "append"
            and isinstance(stmt.value.func.value, gast.Name)
        ):
            found.append((stmt.value.func.value.id, "append"))
    return found


#: The kind of a user function's result given its parameters' kinds
#: (see ``infer``).
CalleeKind = Callable[[Any, dict[str, str]], str]


def infer(
    src: FunctionSource,
    nf: NormalizedFunction,
    params: dict[str, str],
    callee_kind: CalleeKind | None = None,
    sites: dict[int, dict[str, str]] | None = None,
    *,
    skip_unchanged: bool = True,
) -> dict[str, str]:
    """The kind of every local of ``nf``, given the kinds of its parameters.

    A call of a user function has the kind ``callee_kind(function, kinds of
    its parameters at this call)`` returns (unknown without it); ``sites``,
    if given, receives those parameter kinds by ``id`` of the call node, as
    they are at the fixpoint (the last evaluation of each call: a call
    skipped below was last evaluated with the kinds it would see again).
    ``skip_unchanged=False`` evaluates every statement at every sweep: the
    reference the tests compare the default with (the same kinds)."""
    kinds: dict[str, str | None] = {p: params.get(p, UNKNOWN) for p in nf.params}
    global_kinds: dict[str, str] = {}
    reads: list[str] = []  # the locals whose kinds kind() looked up

    def kind(node: gast.expr) -> str | None:
        # Not recursive on purpose: a nested function calling itself is a
        # reference cycle, keeping ``nf`` (the whole function) alive until
        # the next garbage collection, which then has to traverse all of it.
        cls = node.__class__  # exact classes: gast's have no subclasses
        if cls is gast.UnaryOp and node.operand.__class__ is gast.Constant:
            node = node.operand  # -c has the kind of c
            cls = gast.Constant
        if cls is gast.Constant:
            v = node.value
            return (
                SCALAR
                if isinstance(v, (int, float)) and not isinstance(v, bool)
                else UNKNOWN
            )
        if cls is gast.Name:
            if node.id in nf.locals:
                reads.append(node.id)
                return kinds.get(node.id)
            # A global number: the gradient function re-checks its kind at
            # each call (see api.guards_hold).
            value = src.namespace.lookup(node.id)
            found = of_value(value) if value is not _MISSING else UNKNOWN
            if found in NUMBERS:
                global_kinds[node.id] = found
            return found
        return UNKNOWN

    def value_kind(value: gast.expr) -> str | None:
        if A.is_atom(value):  # names and constants among them
            return kind(value)
        if isinstance(value, gast.BinOp):
            left, right = kind(value.left), kind(value.right)
            if isinstance(value.op, gast.MatMult):
                return _arith([left, right]) and NUMERIC
            if CONTAINER in (left, right) and isinstance(
                value.op, (gast.Add, gast.Mult)
            ):
                return CONTAINER if UNKNOWN not in (left, right) else UNKNOWN
            return _arith([left, right])
        if isinstance(value, gast.UnaryOp):
            return (
                kind(value.operand) if not isinstance(value.op, gast.Not) else UNKNOWN
            )
        if isinstance(value, (gast.Tuple, gast.List, gast.Dict)):
            return CONTAINER
        if isinstance(value, gast.Subscript):
            base = kind(value.value)
            if base == ARRAY and isinstance(value.slice, gast.Slice):
                return ARRAY  # slicing an array never gives a number
            return NUMERIC if base in (ARRAY, NUMERIC) else UNKNOWN
        if isinstance(value, gast.Attribute):
            if value.attr == "T":
                base = kind(value.value)
                return base if base in NUMBERS else UNKNOWN
            return UNKNOWN
        if isinstance(value, gast.Call):
            return call_kind(value)
        return UNKNOWN

    def call_kind(call: gast.Call) -> str | None:
        args = [kind(a) for a in call.args]
        func = call.func
        if isinstance(func, gast.Attribute) and A.root_name(func) in nf.locals:
            base = kind(func.value) if isinstance(func.value, gast.Name) else UNKNOWN
            if func.attr in _NUMERIC_METHODS and base in (ARRAY, NUMERIC):
                return NUMERIC
            return UNKNOWN
        obj = ops.resolve(src, func, nf.locals)
        if obj is _MISSING:
            return UNKNOWN
        if callee_kind is not None and ops.is_user_function(obj):
            return user_call_kind(call, obj)
        if isinstance(obj, np.ufunc):
            return _arith(args) if args else UNKNOWN
        module = getattr(obj, "__module__", "") or ""
        if module == "math" or obj in vars(math).values():
            return SCALAR
        if obj is builtins.float:
            return SCALAR
        if obj in (builtins.abs, builtins.min, builtins.max) and args:
            return SCALAR if all(a == SCALAR for a in args) else UNKNOWN
        if module.startswith("numpy") and callable(obj):
            name = getattr(obj, "__name__", "")
            return UNKNOWN if name in _CONTAINER_RESULTS else NUMERIC
        return UNKNOWN

    def user_call_kind(call: gast.Call, obj: Any) -> str | None:
        given = _bind(obj, call)
        if given is None:
            return UNKNOWN  # a bad call: the reverse sweep reports it
        param_kinds: dict[str, str] = {}
        for param, value in given.items():
            found = kind(value) if isinstance(value, gast.expr) else of_value(value)
            if found is None:
                return None  # an argument not assigned yet on this pass
            param_kinds[param] = found
        if sites is not None:
            sites[id(call)] = param_kinds
        return callee_kind(obj, param_kinds)

    # The fixpoint of the joins, sweeping the statements in text order until
    # nothing changes; a statement none of whose names changed since it was
    # last evaluated is skipped: it would give the kind it gave then, which
    # its target's kind already holds (the join only grows), so the sweeps
    # end with the same kinds as when every statement is evaluated.
    targets = _kind_targets(nf.body)
    read_by: list[tuple[str, ...]] = [()] * len(targets)
    evaluated = [-1] * len(targets)  # the tick of each one's last evaluation
    changed_at: dict[str, int] = {}  # name -> the tick of its last change
    tick = 0
    changed = True
    while changed:
        changed = False
        for index, (name, value) in enumerate(targets):
            last = evaluated[index]
            if (
                skip_unchanged
                and last >= 0
                and all(changed_at.get(read, -1) <= last for read in read_by[index])
            ):
                continue
            evaluated[index] = tick
            tick += 1
            if value is None:  # a loop target
                new = join(kinds.get(name), SCALAR)
            elif value.__class__ is str:  # a list appended to
                new = join(kinds.get(name), CONTAINER)
            else:
                reads.clear()
                new = join(kinds.get(name), value_kind(value))
                read_by[index] = tuple(reads)
            if new != kinds.get(name):
                kinds[name] = new
                changed_at[name] = tick
                changed = True
    result = {k: (v or UNKNOWN) for k, v in kinds.items()}
    # Global numbers read as operands (never given adjoints).
    for name, found in global_kinds.items():
        result.setdefault(name, found)
    return result


def _bind(obj: Any, call: gast.Call) -> dict[str, Any] | None:
    """Each parameter of ``obj`` and what a call gives it: the argument's
    node, else the default's value; None for a call that cannot bind, or
    parameters that gather several arguments (``*args``, ``**kwargs``)."""
    if any(isinstance(a, gast.Starred) for a in call.args) or any(
        kw.arg is None for kw in call.keywords
    ):
        return None
    try:
        signature = inspect.signature(obj)
        bound = signature.bind(*call.args, **{kw.arg: kw.value for kw in call.keywords})
    except (TypeError, ValueError):
        return None
    given: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            return None
        given[name] = bound.arguments.get(name, param.default)
    return given
