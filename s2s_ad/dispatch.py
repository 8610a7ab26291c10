"""The call path of gradient objects: a fast lane for repeated number calls.

A gradient of a function of a few Python floats costs about a microsecond,
so what surrounds the generated function matters as much as the function.
``make_dispatcher`` builds, once per (number of parameters, result shape),
a plain function that calls the generated code directly when a call passes
arguments exactly like those of the call that opened the lane (positional
only; each of the same type, and arrays of the same dtype and number of
dimensions), and otherwise hands the call to the general path (binding,
argument checks, kind inference, version lookup, guards).  The general
path opens the lane only for types whose kind the type (and an array's
dtype and number of dimensions) decides: Python floats and ints, NumPy
arrays.

Guarantees: the fast lane returns exactly what the general path returns for
such a call, because it is only opened by the general path after it has
run a call with those very types, dtypes and numbers of dimensions and
chosen that generated function; it compares types and dtypes with ``is``
(a subclass of ``float`` or ``ndarray`` takes the general path); it is
closed whenever the general path picks other code.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

#: Returned value by result shape: (with value, single wrt) -> expression of
#: ``out``, the generated function's ``(value, gradients)``.
_RESULTS = {
    (True, False): "out",
    (True, True): "(out[0], out[1][0])",
    (False, False): "out[1]",
    (False, True): "out[1][0]",
}


class _Closed:
    """A type no argument has: the fast lane is closed while a slot holds it."""


_MISSING = object()  # an argument not given


@functools.cache
def _maker(arity: int, with_value: bool, single: bool) -> Callable[..., Any]:
    args = [f"a{i}" for i in range(arity)]
    slots = [f"t{i}, d{i}, n{i}" for i in range(arity)]
    checks = " and ".join(
        f"type(a{i}) is t{i} and (d{i} is None or (a{i}.dtype is d{i} "
        f"and a{i}.ndim == n{i}))"
        for i in range(arity)
    )
    unpack = ", ".join(args) + ("," if arity == 1 else "")
    # The lane is one tuple, replaced whole, so a call in another thread
    # never pairs the types of one lane with the function of another.
    # Positional-only parameters spare building an argument tuple; a
    # parameter left out holds ``missing`` (no argument is that object).
    text = f"""
def make(general, closed, missing):
    lane = ({"closed, None, None, " * arity}None, None)

    def dispatch({", ".join(f"{a}=missing" for a in args)}, /, *rest, **kwargs):
        {", ".join(slots)}, call, seed = lane
        if {checks} and not rest and not kwargs:
            out = call({", ".join(args)}, seed)
            return {_RESULTS[with_value, single]}
        given = tuple(a for a in ({unpack}) if a is not missing)
        return general(given + rest, kwargs)

    def open_lane(signature, function, fixed_seed):
        nonlocal lane
        lane = (*signature, function, fixed_seed)

    def close_lane():
        nonlocal lane
        lane = ({"closed, None, None, " * arity}None, None)

    return dispatch, open_lane, close_lane
"""
    namespace: dict[str, Any] = {}
    code = compile(text, f"<s2s_ad dispatch {arity}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own text, built above
    return namespace["make"]


def make_dispatcher(
    arity: int, with_value: bool, single: bool, general: Callable[..., Any]
) -> tuple[Callable[..., Any], Callable[..., None], Callable[[], None]]:
    """``(dispatch, open_lane, close_lane)`` for a gradient object.

    ``dispatch(*args, **kwargs)`` is the object's call; ``general(args,
    kwargs)`` computes the final result the slow way.  ``open_lane(signature,
    function, seed)`` makes calls whose arguments match ``signature`` (see
    :func:`signature`) run ``function(*args, seed)`` directly;
    ``close_lane()`` sends every call to ``general`` again.
    """
    if arity == 0:
        return (lambda *a, **k: general(a, k)), (lambda *a: None), (lambda: None)
    return _maker(arity, with_value, single)(general, _Closed, _MISSING)


def signature(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What a lane compares, flat: (type, dtype or None, number of
    dimensions or None) per argument; None if some argument's kind does not
    follow from its type, dtype and number of dimensions."""
    out: list[Any] = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            out += (kind, a.dtype, a.ndim)
        elif kind is float or kind is int:
            out += (kind, None, None)
        else:
            return None
    return tuple(out)
