"""The call path of gradient objects: a fast lane for repeated number calls.

A gradient of a function of a few Python floats costs about a microsecond,
so what surrounds the generated function matters as much as the function.
A gradient object calls a *dispatcher*: a plain function with the user's
parameters (same names, kinds and defaults), so that Python itself binds
positional and keyword arguments, and reports a wrong call the way the
user's function would.  While a lane is open the dispatcher is made for it:
it tests each argument's type (and an array's dtype and number of
dimensions) against the lane's, baked into its text, and calls the
generated code directly; any other call goes to the general path (argument
checks, kind inference, version lookup, guards), as does every call while
the lane is closed.  The general path opens a lane only for types whose
kind the type (and an array's dtype and number of dimensions) decides:
Python floats and ints, NumPy arrays.

Guarantees: the fast lane returns exactly what the general path returns for
such a call, because it is only opened by the general path after it has
run a call with those very types, dtypes and numbers of dimensions and
chosen that generated function; it compares classes and dtypes with
``is`` (a subclass of ``float`` or ``ndarray`` takes the general path; the
``__class__`` attribute is read, not ``type()`` called: half the cost, and
only an object posing as a float, as a mock may, tells them apart); it is
closed whenever the general path picks other code.  The general path gets
the arguments as the call gave them, a missing one left out.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

#: Returned value by result shape: (with value, single wrt) -> expression of
#: ``out``, the generated function's ``(value, gradients)``.
_RESULTS = {
    (True, False): "{out}",
    (True, True): "({out}[0], {out}[1][0])",
    (False, False): "{out}[1]",
    (False, True): "{out}[1][0]",
}

#: Per-parameter closure slots of a dispatcher.
_SLOTS = ("default", "dtype", "ndim")

_MISSING = object()  # an argument not given (no argument is this object)

_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY

#: What each parameter's slot in a lane holds, by argument type.
FLOAT, INT, ARRAY = "float", "int", "array"

#: (type pattern, dtype, number of dimensions) per argument, or None.
Signature = tuple[tuple[str, Any, Any], ...]

Params = tuple[tuple[str, Any, bool], ...]  # (name, kind, has a default)


def parameters(function: Callable[..., Any]) -> tuple[Params, list[Any]]:
    """The parameters of ``function`` as dispatchers are made for them, and
    their defaults (``_MISSING`` where there is none)."""
    params = []
    defaults = []
    for p in inspect.signature(function).parameters.values():
        has = p.default is not inspect.Parameter.empty
        params.append((p.name, p.kind, has))
        defaults.append(p.default if has else _MISSING)
    return tuple(params), defaults


def signature(args: list[Any]) -> Signature | None:
    """What a lane compares, per argument: its type pattern, dtype and number
    of dimensions (None for numbers); None if some argument's kind does not
    follow from its type, dtype and number of dimensions."""
    out = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            out.append((ARRAY, a.dtype, a.ndim))
        elif kind is float:
            out.append((FLOAT, None, None))
        elif kind is int:
            out.append((INT, None, None))
        else:
            return None
    return tuple(out)


def regroup(
    params: Params, values: tuple[Any, ...], rest: tuple[Any, ...]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The call's arguments as ``(args, kwargs)`` from a dispatcher's slots:
    positional ones up to the first missing, the rest by name."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    gap = False
    for (name, kind, _), value in zip(params, values):
        if value is _MISSING:
            gap = gap or kind != _KEYWORD_ONLY
        elif kind == _KEYWORD_ONLY or (gap and kind != _POSITIONAL_ONLY):
            kwargs[name] = value
        elif not gap:
            args.append(value)
        # else: a positional-only parameter after a missing one holds its
        # default (it cannot have been given); the general path applies it.
    return (*args, *rest), kwargs


def make_dispatcher(
    name: str,
    params: Params,
    defaults: list[Any],
    general: Callable[[tuple[Any, ...], tuple[Any, ...]], Any],
    lane: tuple[Signature, Callable[..., Any], Any, bool, bool, bool] | None = None,
) -> Callable[..., Any]:
    """A dispatcher for a function ``name`` with ``params`` and ``defaults``
    (see :func:`parameters`).  Calls go to ``general(values, rest)``, the
    parameters' values (``_MISSING`` where not given) and any extra
    positional arguments (:func:`regroup` makes them a call again), except,
    with ``lane = (signature, function, seed, seeded, with_value, single)``,
    calls whose arguments match ``signature``: those return what
    ``function(*arguments[, seed])`` returns, shaped as the gradient object
    returns it."""
    pattern = None
    closure: list[Any] = [general, _MISSING, *defaults]
    if lane is not None:
        sig, function, seed, seeded, with_value, single = lane
        pattern = (tuple(s[0] for s in sig), seeded, with_value, single)
        closure += [function, seed]
        for kind, dtype, ndim in sig:
            closure += [dtype, ndim] if kind == ARRAY else []
    make = _maker(name, params, pattern)
    return make(*closure)


@functools.cache
def _maker(
    name: str, params: Params, pattern: tuple[Any, ...] | None
) -> Callable[..., Callable[..., Any]]:
    names = [p[0] for p in params]
    labels = ["general", "missing", "rest", "call", "seed", "out"]
    labels += ["float", "int", "ndarray"]
    labels += [f"{label}{i}" for i in range(len(params)) for label in _SLOTS]
    # Internal names are never the user's parameter names.
    suffix = ""
    while any(f"_s2s_{label}{suffix}" in names for label in labels):
        suffix += "_"

    def own(label: str) -> str:
        return f"_s2s_{label}{suffix}"

    signature_text = []
    starred = False  # extra positional arguments are collected, to refuse
    for i, (param, kind, has_default) in enumerate(params):
        if kind == _KEYWORD_ONLY and not starred:
            signature_text.append(f"*{own('rest')}")
            starred = True
        default = own(f"default{i}") if has_default else own("missing")
        signature_text.append(f"{param}={default}")
        if kind == _POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1][1] != _POSITIONAL_ONLY
        ):
            signature_text.append("/")
    if not starred:
        signature_text.append(f"*{own('rest')}")
    closure = [own("general"), own("missing")]
    closure += [own(f"default{i}") for i in range(len(params))]
    values = ", ".join(names) + ("," if len(names) == 1 else "")
    lines = [f"def {name}({', '.join(signature_text)}):"]
    if pattern is not None:
        kinds, seeded, with_value, single = pattern
        closure += [own("call"), own("seed")]
        tests = []
        for i, (param, kind) in enumerate(zip(names, kinds)):
            if kind == ARRAY:
                closure += [own(f"dtype{i}"), own(f"ndim{i}")]
                tests.append(
                    f"{param}.__class__ is {own('ndarray')} "
                    f"and {param}.dtype is {own(f'dtype{i}')} "
                    f"and {param}.ndim == {own(f'ndim{i}')}"
                )
            else:
                tests.append(f"{param}.__class__ is {own(kind)}")
        tests.append(f"not {own('rest')}")
        arguments = ", ".join(names + ([own("seed")] if seeded else []))
        out = own("out")
        lines.append(f"    if {' and '.join(tests)}:")
        lines.append(f"        {out} = {own('call')}({arguments})")
        lines.append(f"        return {_RESULTS[with_value, single].format(out=out)}")
    lines.append(f"    return {own('general')}(({values}), {own('rest')})")
    body = "\n".join("    " + line for line in lines)
    text = (
        f"def make({', '.join(closure)}):\n"
        f"    {own('float')}, {own('int')}, {own('ndarray')} = float, int, ndarray\n"
        f"{body}\n"
        f"    return {name}\n"
    )
    namespace: dict[str, Any] = {"ndarray": np.ndarray}
    code = compile(text, f"<s2s_ad dispatch of {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own text, built above
    return namespace["make"]
