"""The call path of gradient objects: a fast lane for repeated number calls.

A gradient of a function of a few Python floats costs about a microsecond,
so what surrounds the generated function matters as much as the function.
``make_dispatcher`` builds, once per (number of parameters, result shape),
a plain function that calls the generated code directly when a call passes
exactly the argument types of the call that opened the lane (positional
only, each a ``float`` or ``int``), and otherwise hands the call to the
general path (binding, kind inference, version lookup, guards).

Guarantees: the fast lane returns exactly what the general path returns for
such a call, because it is only opened by the general path after it has
run a call with those very types and chosen that generated function; it
tests each argument's type with ``is`` (a subclass of ``float`` takes the
general path); it is closed whenever the general path picks other code.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

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
    types = [f"t{i}" for i in range(arity)]
    checks = " and ".join(f"type({a}) is {t}" for a, t in zip(args, types))
    unpack = ", ".join(args) + ("," if arity == 1 else "")
    # The lane is one tuple, replaced whole, so a call in another thread
    # never pairs the types of one lane with the function of another.
    # Positional-only parameters spare building an argument tuple; a
    # parameter left out holds ``missing`` (no argument is that object).
    text = f"""
def make(general, closed, missing):
    lane = ({"closed, " * arity}None, None)

    def dispatch({", ".join(f"{a}=missing" for a in args)}, /, *rest, **kwargs):
        {", ".join(types)}, call, seed = lane
        if {checks} and not rest and not kwargs:
            out = call({", ".join(args)}, seed)
            return {_RESULTS[with_value, single]}
        given = tuple(a for a in ({unpack}) if a is not missing)
        return general(given + rest, kwargs)

    def open_lane(arg_types, function, fixed_seed):
        nonlocal lane
        lane = (*arg_types, function, fixed_seed)

    def close_lane():
        nonlocal lane
        lane = ({"closed, " * arity}None, None)

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
    kwargs)`` computes the final result the slow way.  ``open_lane(types,
    function, seed)`` makes calls with exactly ``types`` (one per
    parameter) run ``function(*args, seed)`` directly; ``close_lane()``
    sends every call to ``general`` again.
    """
    if arity == 0:
        return (lambda *a, **k: general(a, k)), (lambda *a: None), (lambda: None)
    return _maker(arity, with_value, single)(general, _Closed, _MISSING)
