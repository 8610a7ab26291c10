"""The public API: ``grad``, ``value_and_grad`` and ``@differentiate``.

Guarantees: the user's function is never modified and its arguments are
never mutated; gradients have the structure of their arguments; transforming
happens at most once per (sources, options) in a process, on first use;
every error is an :class:`s2s_ad.errors.S2SError`.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import keyword
import types
from collections.abc import Sequence
from types import CellType
from typing import Any, Callable, Union

import gast
import numpy as np

from s2s_ad import __version__, cache, diskcache, dispatch, emit, fence, ops
from s2s_ad import astutil as A
from s2s_ad import runtime as rt
from s2s_ad.errors import S2SError, WrtError
from s2s_ad.kinds import of_exact_value
from s2s_ad.kinds import of_value as kind_of
from s2s_ad.program import Artifact, Program, bind
from s2s_ad.rules import registry
from s2s_ad.source import _MISSING, FunctionSource, load, unwrap

Wrt = Union[int, str, Sequence[Union[int, str]], None]

__all__ = [
    "Differentiable",
    "differentiate",
    "forward_source",
    "grad",
    "gradient_source",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "jvp_function",
    "value_and_grad",
    "vjp",
]


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return inspect.Signature()


def _parameters(func: Callable[..., Any]) -> list[str]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind
        not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def resolve_wrt(func: Callable[..., Any], wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """Parameter names for ``wrt`` and whether a single gradient is wanted."""
    params = _parameters(func)
    name = getattr(func, "__name__", "the function")
    if wrt is None:
        wrt = 0
    single = isinstance(wrt, (int, str))
    items = [wrt] if single else list(wrt)
    if not items:
        raise WrtError(f"wrt is empty: name at least one parameter of {name}")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise WrtError(
                f"wrt entries must be parameter names or indices, not {item!r}"
            )
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise WrtError(
                    f"wrt={item} is out of range: {name} has {len(params)} "
                    f"parameter(s) {tuple(params)}"
                )
            item = params[item]
        elif item not in params:
            raise WrtError(
                f"wrt={item!r} is not a parameter of {name}; its parameters are {tuple(params)}"
            )
        names.append(item)
    if len(set(names)) != len(names):
        raise WrtError(f"wrt names a parameter twice: {tuple(names)}")
    return tuple(names), single


def _dependencies(
    src: FunctionSource,
    seen: dict[int, FunctionSource],
    guards: list[tuple[FunctionSource, str, Any]],
    values: list[tuple[FunctionSource, str, str]],
) -> None:
    """Load every user function ``src`` calls, transitively, and record the
    objects its called names refer to now (the generated code, and so the
    cache key, depends on them)."""
    # Leaves are neither names nor calls: the walk skips them.  It is made
    # once, for the locals (every name stored) and then for the reads.
    nodes = list(A.walk_inner_in_order(src.node))
    name_class = gast.Name
    local = {
        n.id
        for n in nodes
        if n.__class__ is name_class and isinstance(n.ctx, (gast.Store, gast.Param))
    }
    roots: set[str] = set()
    for node in nodes:
        if (
            node.__class__ is name_class
            and isinstance(node.ctx, gast.Load)
            and node.id not in local
            and node.id not in roots
        ):
            # Global numbers specialise the code by their kind (not value).
            value = src.namespace.lookup(node.id)
            if isinstance(value, (int, float, np.floating, np.integer, np.ndarray)):
                roots.add(node.id)
                values.append((src, node.id, kind_of(value)))
        if node.__class__ is not gast.Call:
            continue
        root = A.root_name(node.func)
        if root is not None and root not in local and root not in roots:
            roots.add(root)
            obj = src.namespace.lookup(root)
            if obj is not _MISSING:
                guards.append((src, root, obj))
        obj = ops.resolve(src, node.func, local)
        if obj is not _MISSING and ops.is_user_function(obj) and id(obj) not in seen:
            try:
                callee = load(obj)
            except S2SError:
                continue  # reported precisely when the call is transformed
            seen[id(obj)] = callee
            _dependencies(callee, seen, guards, values)


Guard = tuple[Any, str, Any, bool]


def _transformed(
    func: Callable[..., Any],
    wrt: tuple[str, ...],
    src: FunctionSource,
    mode: str,
    kinds: dict[str, str] | None,
    seeded: bool = True,
) -> Artifact:
    """The artifact of one transformation, made without the cyclic garbage
    collector: its first run after the transformation would otherwise
    traverse every node of every tree still alive (the artifact is made
    while they are); once the transformation is dropped, few are left."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Program(func, wrt, src, mode, kinds, seeded=seeded).artifact()
    finally:
        if collecting:
            gc.enable()


def build_artifact(
    func: Callable[..., Any],
    wrt: tuple[str, ...],
    mode: str = "reverse",
    kinds: tuple[str, ...] | None = None,
    *,
    seeded: bool = True,
) -> tuple[Artifact, list[Guard]]:
    """The generated code for ``func`` (from the cache when possible), and
    the (namespace, name, object) bindings it was generated for.

    ``kinds`` (one per parameter, see :mod:`s2s_ad.kinds`) specialises the
    code to the kinds of the arguments; None means the general code.
    ``seeded=False`` makes a reverse gradient without a ``seed`` parameter."""
    func = unwrap(func)
    src = load(func)
    deps: dict[int, FunctionSource] = {id(func): src}
    found: list[tuple[FunctionSource, str, Any]] = []
    values: list[tuple[FunctionSource, str, str]] = []
    _dependencies(src, deps, found, values)
    parts = tuple(sorted((s.filename, s.name, s.digest) for s in deps.values()))
    bindings = tuple(sorted((s.digest, root, id(obj)) for s, root, obj in found))
    bindings += tuple(sorted((s.digest, name, kind) for s, name, kind in values))
    key = cache.make_key(
        (
            __version__,
            registry.generation(),
            mode,
            src.filename,
            src.digest,
            wrt,
            parts,
            bindings,
            kinds,
            seeded,
        )
    )
    param_kinds = dict(zip(_parameters(func), kinds)) if kinds else None
    artifact = cache.get_or_build(
        key,
        lambda: _transformed(func, wrt, src, mode, param_kinds, seeded),
        diskcache.Request(func, wrt, mode, kinds, src, deps, seeded),
    )
    # Modules are not rebound in practice; checking them would only cost time.
    guards: list[Guard] = [
        (s.namespace, root, obj, False)
        for s, root, obj in found
        if not isinstance(obj, types.ModuleType)
    ]
    guards += [(s.namespace, name, kind, True) for s, name, kind in values]
    return artifact, guards


def guards_hold(guards: list[Guard]) -> bool:
    """Whether every called name still refers to the object it did, and every
    global number still has the kind the code was specialised to."""
    for ns, name, expected, by_kind in guards:
        value = ns.lookup(name)
        if (kind_of(value) != expected) if by_kind else (value is not expected):
            return False
    return True


class _GradientFunction(functools.partial):
    """What ``grad``/``value_and_grad`` return: call it like the function.

    A ``functools.partial`` of its dispatcher (s2s_ad/dispatch.py) so that a
    call reaches Python code in one step: an instance ``__call__`` written
    in Python costs more than the whole gradient of a small function.
    """

    def __new__(
        cls, func: Callable[..., Any], wrt: Wrt, seed: Any, with_value: bool
    ) -> Any:
        plain = unwrap(func)
        if not inspect.isfunction(plain):
            load(plain)  # raises SourceUnavailableError with the reason
        parameters = _signature(plain).parameters
        kinds = {p.kind for p in parameters.values()}
        if kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
            fence.check(load(plain))  # raises, naming the line
        names, single = resolve_wrt(plain, wrt)
        params, defaults = dispatch.parameters(plain)
        name = plain.__name__
        if not name.isidentifier() or keyword.iskeyword(name):
            name = "gradient"  # a lambda's
        late: list[Callable[..., Any]] = []

        def general(values: tuple[Any, ...], rest: tuple[Any, ...]) -> Any:
            return late[0](*dispatch.regroup(params, values, rest))

        self = super().__new__(
            cls, dispatch.make_dispatcher(name, params, defaults, general)
        )
        late.append(self._call_general)
        self._dispatcher = (name, params, defaults, general)
        self.function, self.wrt, self.single = plain, names, single
        return self

    def _set_lane(self, lane: Any) -> None:
        """Make calls go through a dispatcher with ``lane`` (None: closed)."""
        made = dispatch.make_dispatcher(*self._dispatcher, lane)
        # partial's own state: the function it calls, swapped in one step.
        self.__setstate__((made, (), None, self.__dict__))

    def __init__(
        self, func: Callable[..., Any], wrt: Wrt, seed: Any, with_value: bool
    ) -> None:
        # The function, wrt and dispatcher are settled by __new__.
        self.seed = seed
        self.with_value = with_value
        # Generated code per argument kinds: (artifact, guards, function).
        self._versions: dict[Any, tuple[Artifact, list[Guard], Callable[..., Any]]] = {}
        self._last: Any = None
        # The lane signature of the last call examined for the fast lane,
        # and the kinds of the code the lane runs (None: closed).
        self._fast_seen: tuple[Any, ...] | None = None
        self._fast_kinds: Any = None
        self._signature = inspect.signature(self.function)
        self._params = list(self._signature.parameters)
        # Calls with this many positional arguments and no keywords bind in
        # order (-1: a keyword-only parameter makes that never so).
        keyword_only = inspect.Parameter.KEYWORD_ONLY
        kinds = [p.kind for p in self._signature.parameters.values()]
        self._in_order = -1 if keyword_only in kinds else len(self._params)
        self._wrt_positions = [(self._params.index(n), n) for n in self.wrt]
        # Not functools.update_wrapper: __wrapped__ would make grad(grad(f))
        # differentiate f instead of this gradient.
        for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
            setattr(self, attr, getattr(self.function, attr, None))
        # What inspect.signature reports: the function's, not the dispatcher's.
        self.__signature__ = self._signature

    def __repr__(self) -> str:
        kind = "value_and_grad" if self.with_value else "grad"
        return f"<s2s_ad {kind} of {self.__qualname__} wrt {self.wrt}>"

    def __reduce__(self) -> Any:
        raise TypeError("s2s_ad gradient objects cannot be pickled")

    def __copy__(self) -> _GradientFunction:
        return self  # like a function: it holds no state a copy could own

    def __deepcopy__(self, memo: dict[int, Any]) -> _GradientFunction:
        return self

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # A plain callable as a class attribute, as before (Python 3.13's
        # partial warns that it will bind like a method).
        return self

    @property
    def source(self) -> str:
        """The generated Python source of the derivative: the version made for
        the arguments of the last call (the general one before any call)."""
        return self._version(self._last)[0].source

    def _version(
        self, kinds: tuple[str, ...] | None
    ) -> tuple[Artifact, list[Guard], Callable[..., Any]]:
        version = self._versions.get(kinds)
        if version is None or not guards_hold(version[1]):
            # Code made for argument kinds takes no seed when none is given.
            seeded = kinds is None or self.seed is not None
            artifact, guards = build_artifact(
                self.function, self.wrt, "reverse", kinds, seeded=seeded
            )
            version = (artifact, guards, bind(artifact, self.function))
            self._versions[kinds] = version
        return version

    def _ensure(self) -> Callable[..., Any]:
        return self._version(None)[2]

    def __s2s_function__(self) -> Callable[..., Any]:
        """A plain function with source computing what this object computes
        (one per generated version, so repeated requests agree)."""
        generated = self._ensure()
        cached = getattr(self, "_wrapper", None)
        if cached is None or cached[0] is not generated:
            kind = "value_and_grad" if self.with_value else "grad"
            wrapper = wrapper_function(
                self.function, generated, kind, self.single, self.seed
            )
            self._wrapper = cached = (generated, wrapper)
        return cached[1]

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """All arguments in parameter order, wrt ones checked (ints as floats)."""
        return self._checked(self._bound(args, kwargs))

    def _bound(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """All arguments in parameter order, defaults included."""
        if not kwargs and len(args) == self._in_order:
            return list(args)
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.function.__name__}(): {exc}") from None
        bound.apply_defaults()
        return [bound.arguments[p] for p in self._params]

    def _checked(self, given: list[Any]) -> list[Any]:
        ordered = list(given)
        for position, name in self._wrt_positions:
            value = ordered[position]
            kind = type(value)
            if kind is float:
                continue
            rt.check_wrt_arg(value, name)
            if kind is int:
                ordered[position] = float(value)
        return ordered

    def _lane_signature(self, given: list[Any]) -> dispatch.Signature | None:
        """What calls like this one (``given``: every argument, in parameter
        order) must match to skip the checks (None: no lane): every kind
        fixed by type and dtype, and wrt numbers already floats (an int
        there is converted, which the fast lane does not do)."""
        if any(type(given[i]) is int for i, _ in self._wrt_positions):
            return None
        return dispatch.signature(given)

    def _kinds(self, ordered: Sequence[Any]) -> tuple[str, ...]:
        """The version key: each argument's kind, with Python floats marked
        (their gradients are returned without a call, and NumPy scalars
        computed from them only are converted for the reverse sweep)."""
        return tuple(map(of_exact_value, ordered))

    def _call_general(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        given = self._bound(args, kwargs)
        ordered = self._checked(given)
        kinds = self._kinds(ordered)
        version = self._versions.get(kinds)
        if version is None or (version[1] and not guards_hold(version[1])):
            version = self._version(kinds)
        generated = version[2]
        self._last = kinds
        signature = None if version[1] else self._lane_signature(given)
        lane_stale = self._fast_kinds is not None and kinds != self._fast_kinds
        if signature != self._fast_seen or lane_stale:
            # Each new signature is examined once (a refusal too, so it is
            # not re-examined every call); the lane runs only code made for
            # the kinds of the call that opened it, so calls it serves leave
            # ``_last`` (what ``source`` shows) unchanged.
            self._fast_seen = signature
            if signature is not None:
                seeded = self.seed is not None
                single = self.single
                self._set_lane(
                    (signature, generated, self.seed, seeded, self.with_value, single)
                )
                self._fast_kinds = kinds
            else:
                self._set_lane(None)
                self._fast_kinds = None
        if self.seed is None:
            out = generated(*ordered)
        else:
            out = generated(*ordered, self.seed)
        if self.with_value and not self.single:
            return out  # already (value, grads)
        value, grads = out
        result = grads[0] if self.single else grads
        return (value, result) if self.with_value else result


def grad(
    func: Callable[..., Any], wrt: Wrt = 0, *, seed: Any = None
) -> Callable[..., Any]:
    """The gradient of ``func``'s scalar result with respect to ``wrt``.

    ``wrt`` is a parameter index or name (one gradient) or a tuple of them (a
    tuple of gradients).  For a non-scalar result pass ``seed``, the adjoint
    of the output (an array like the result, or a callable making one from
    the result, e.g. ``np.ones_like``): the gradient is then the
    vector-Jacobian product seed·J.
    """
    return _GradientFunction(func, wrt, seed, with_value=False)


def value_and_grad(
    func: Callable[..., Any], wrt: Wrt = 0, *, seed: Any = None
) -> Callable[..., Any]:
    """Like :func:`grad`, returning ``(value, gradient)`` from one sweep."""
    return _GradientFunction(func, wrt, seed, with_value=True)


def gradient_source(
    func: Callable[..., Any],
    wrt: Wrt = 0,
    args: Sequence[Any] | None = None,
    *,
    seed: Any = None,
) -> str:
    """The generated source of ``func``'s derivative, as text.

    With example ``args``, the code specialised to their kinds (numbers,
    arrays, containers) -- what a call with such arguments runs, taking a
    seed only if one is given; without, the general code."""
    gradient = _GradientFunction(func, wrt, seed, with_value=True)
    kinds = None
    if args is not None:
        kinds = gradient._kinds(gradient._arguments(tuple(args), {}))
    return gradient._version(kinds)[0].source


class Differentiable:
    """A function decorated with ``@differentiate``.

    Calling it calls the original function.  ``.grad(*args)`` and
    ``.value_and_grad(*args)`` differentiate with respect to ``wrt``;
    ``.source`` is the generated code.
    """

    def __init__(
        self, func: Callable[..., Any], wrt: Wrt = None, seed: Any = None
    ) -> None:
        self.__wrapped__ = func
        functools.update_wrapper(self, func)
        if wrt is None:
            wrt = 0
        names, single = resolve_wrt(func, wrt)
        self.wrt = names[0] if single else names
        self.seed = seed
        self._vg = _GradientFunction(func, wrt, seed, with_value=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def grad(self, *args: Any, **kwargs: Any) -> Any:
        return self._vg(*args, **kwargs)[1]

    def value_and_grad(self, *args: Any, **kwargs: Any) -> Any:
        return self._vg(*args, **kwargs)

    @property
    def source(self) -> str:
        return self._vg.source

    @property
    def source_forward(self) -> str:
        """The generated forward-mode (tangent) source, one sweep per direction."""
        names = self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)
        return forward_source(self.__wrapped__, wrt=names)

    def jvp(self, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
        """Forward mode: ``(value, J·tangents)``; see :func:`jvp`."""
        return jvp(self.__wrapped__, primals, tangents)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self) -> str:
        return f"<differentiable {self.__wrapped__.__qualname__} wrt={self.wrt!r}>"


def differentiate(
    func: Callable[..., Any] | None = None, *, wrt: Wrt = None, seed: Any = None
) -> Any:
    """Decorator: ``@differentiate`` or ``@differentiate(wrt=("x1", "x2"))``."""
    if func is None:
        return lambda f: Differentiable(f, wrt, seed)
    return Differentiable(func, wrt, seed)


def jvp(
    func: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Any, Any]:
    """Forward mode: ``(func(*primals), J·tangents)`` in one sweep.

    ``tangents`` pairs with ``primals``; a ``None`` entry (or a shorter
    sequence) means a zero tangent, and such inputs get no tangent code.  A
    tangent has the structure of its primal.
    """
    func = unwrap(func)
    primals = tuple(primals)
    tangents = tuple(tangents) + (None,) * (len(primals) - len(tuple(tangents)))
    if len(tangents) != len(primals):
        raise WrtError(
            f"jvp: {len(tangents)} tangents for {len(primals)} primals of "
            f"{getattr(func, '__name__', 'the function')}"
        )
    params = _parameters(func)
    if len(primals) > len(params):
        raise TypeError(f"{func.__name__}() takes {len(params)} arguments")
    values = list(primals)
    wrt = []
    dots = []
    for name, value, tangent in zip(params, primals, tangents):
        if tangent is None:
            continue
        rt.check_wrt_arg(value, name)
        wrt.append(name)
        dots.append(tangent)
    for i, value in enumerate(values):
        if type(value) is int and params[i] in wrt:
            values[i] = float(value)
    sig = _signature(func)
    bound = sig.bind(*values)
    bound.apply_defaults()
    ordered = [bound.arguments[p] for p in sig.parameters]
    if not wrt:
        return func(*primals), rt.zeros_like(func(*primals))
    artifact, _ = build_artifact(func, tuple(wrt), "forward")
    generated = bind(artifact, func)
    return generated(*ordered, *dots)


def forward_source(func: Callable[..., Any], wrt: Wrt = None) -> str:
    """The generated forward-mode (tangent) source of ``func``."""
    func = unwrap(func)
    if wrt is None:
        names = tuple(_parameters(func))
    else:
        names, _ = resolve_wrt(func, wrt)
    return build_artifact(func, names, "forward")[0].source


def wrapper_function(
    func: Callable[..., Any],
    generated: Callable[..., Any],
    kind: str,
    single: bool,
    seed: Any = None,
) -> Callable[..., Any]:
    """A real Python function, with source in linecache, that calls generated
    code the way the API does, so that it can be transformed again."""
    sig = _signature(func)
    params = []
    star = False
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        params.append(p.name)
    names = [p.name for p in sig.parameters.values()]
    gen_name = generated.__name__
    seed_name = "seed_value" if seed is not None else "None"
    call = f"{gen_name}({', '.join(names + [seed_name])})"
    name = f"{kind}_of_{func.__name__}"
    if kind == "jvp":
        body = f"    return {call}\n"
    else:
        grads = f"{call}[1]" + ("[0]" if single else "")
        if kind == "grad":
            body = f"    return {grads}\n"
        else:
            pick = "[0]" if single else ""
            body = f"    value, grads = {call}\n    return value, grads{pick}\n"
    text = f"def {name}({', '.join(params)}):\n{body}"
    digest = hashlib.sha256(text.encode() + repr(id(generated)).encode()).hexdigest()
    filename = f"<s2s_ad: {kind} of {func.__qualname__} {digest[:12]}>"
    cells = {gen_name: CellType(generated)}
    if seed is not None:
        cells["seed_value"] = CellType(seed)
    code = emit.compile_text(text, filename, cells)
    wrapper = emit.define(code, func.__globals__, cells)[name]
    wrapper.__defaults__ = func.__defaults__
    wrapper.__kwdefaults__ = func.__kwdefaults__
    return wrapper


def vjp(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Reverse mode with the output adjoint chosen later.

    Returns ``(func(*primals), pullback)``; ``pullback(ybar)`` gives the
    adjoints of the primals (one value for one primal, else a tuple), i.e.
    ybar·J.  Each pullback call runs the generated gradient code once.
    """
    value = func(*primals)
    wrt = tuple(range(len(primals))) if len(primals) != 1 else 0

    def pullback(ybar: Any) -> Any:
        return grad(func, wrt=wrt, seed=ybar)(*primals)

    return value, pullback


def _basis(value: Any):
    """Unit directions shaped like ``value`` (a scalar or an array)."""
    if np.ndim(value) == 0:
        yield (), 1.0
        return
    arr = np.asarray(value, dtype=float)
    for index in np.ndindex(arr.shape):
        e = np.zeros_like(arr)
        e[index] = 1.0
        yield index, e


def jacobian(
    func: Callable[..., Any], wrt: Wrt = 0, mode: str = "auto"
) -> Callable[..., Any]:
    """The Jacobian of ``func`` with respect to ``wrt``, as a function.

    The result has shape ``out.shape + in.shape`` (a tuple of such for a
    tuple ``wrt``).  ``mode="forward"`` builds it column by column with
    ``jvp``, ``"reverse"`` row by row with seeded gradients; ``"auto"`` picks
    the one needing fewer sweeps.
    """
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
    target = unwrap(func)
    names, single = resolve_wrt(target, wrt)

    def jac(*args: Any) -> Any:
        params = _parameters(target)
        out = np.asarray(func(*args), dtype=float)
        results = []
        for name in names:
            position = params.index(name)
            x = args[position]
            chosen = mode
            if chosen == "auto":
                chosen = "forward" if np.size(x) <= out.size else "reverse"
            full = np.zeros(out.shape + np.shape(x))
            if chosen == "forward":
                for index, e in _basis(x):
                    tangents = [None] * len(args)
                    tangents[position] = e
                    _, column = jvp(func, args, tangents)
                    full[(Ellipsis,) + tuple(index)] = column
            else:
                for index, e in _basis(out):
                    row = grad(func, wrt=name, seed=e)(*args)
                    full[tuple(index)] = row
            results.append(full if np.ndim(full) else float(full))
        return results[0] if single else tuple(results)

    return jac


def hessian(func: Callable[..., Any], wrt: Wrt = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function: forward mode over the generated
    gradient code (columns by ``jvp`` of ``grad``)."""
    names, single = resolve_wrt(unwrap(func), wrt)
    if not single:
        raise WrtError("hessian takes a single wrt; use jacobian(grad(...)) for blocks")
    return jacobian(grad(func, wrt=names[0]), wrt=names[0], mode="forward")


def hvp(
    func: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> Any:
    """Hessian-vector product H·v by forward mode over reverse mode, without
    forming H: one jvp of the generated gradient code."""
    primals = tuple(primals)
    positions = tuple(i for i, t in enumerate(tangents) if t is not None)
    wrt = positions[0] if len(positions) == 1 else positions
    _, result = jvp(grad(func, wrt=wrt), primals, tangents)
    return result


class _JvpFunction:
    """What :func:`jvp_function` returns: ``df(*primals, *tangents)``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = unwrap(func)
        self._params = _parameters(self.func)
        for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
            setattr(self, attr, getattr(self.func, attr, None))
        self._wrapper: tuple[Any, Callable[..., Any]] | None = None

    def _generated(self) -> Callable[..., Any]:
        artifact, _ = build_artifact(self.func, tuple(self._params), "forward")
        return bind(artifact, self.func)

    def __call__(self, *args: Any) -> tuple[Any, Any]:
        n = len(self._params)
        if len(args) != 2 * n:
            raise TypeError(
                f"{self.__name__} forward derivative takes {n} primals then "
                f"{n} tangents, got {len(args)} arguments"
            )
        return jvp(self.func, args[:n], args[n:])

    def __s2s_function__(self) -> Callable[..., Any]:
        """A plain function with source (generated code can be differentiated)."""
        if self._wrapper is None:
            generated = self._generated()
            self._wrapper = (
                generated,
                _jvp_wrapper(self.func, generated, self._params),
            )
        return self._wrapper[1]


def _jvp_wrapper(
    func: Callable[..., Any], generated: Callable[..., Any], params: list[str]
) -> Callable[..., Any]:
    # jvp_function of a jvp_function already has "x_tangent" parameters.
    dots: list[str] = []
    for p in params:
        name = f"{p}_tangent"
        while name in params or name in dots:
            name += "_"
        dots.append(name)
    names = params + dots
    text = (
        f"def jvp_of_{func.__name__}({', '.join(names)}):\n"
        f"    return {generated.__name__}({', '.join(names)})\n"
    )
    digest = hashlib.sha256(text.encode() + repr(id(generated)).encode()).hexdigest()
    filename = f"<s2s_ad: jvp of {func.__qualname__} {digest[:12]}>"
    cells = {generated.__name__: CellType(generated)}
    code = emit.compile_text(text, filename, cells)
    return emit.define(code, func.__globals__, cells)[f"jvp_of_{func.__name__}"]


def jvp_function(func: Callable[..., Any]) -> Callable[..., Any]:
    """Forward mode as a function: ``df(*primals, *tangents)`` returns
    ``(value, J·tangents)``.  Unlike :func:`jvp` it can be called from a
    function that is itself differentiated (reverse over forward, forward
    over forward)."""
    return _JvpFunction(func)
