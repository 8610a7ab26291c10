"""Refused constructs raise s2s_ad errors naming the construct and the line."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from s2s_ad import grad
from s2s_ad.errors import (
    MissingRuleError,
    S2SError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
)


def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as fh:
        fh.read()
    return x


def uses_yield(x):
    yield x * 2


def uses_global(x):
    global COUNTER
    COUNTER = 1
    return x


def uses_nonlocal(x):
    y = x

    def inner():
        nonlocal y
        y = 2.0

    inner()
    return y


async def uses_async(x):
    return x


def uses_class(x):
    class Box:
        pass

    return x


def uses_del(x):
    y = x * 2
    del y
    return x


def uses_import(x):
    import math

    return math.sin(x)


def uses_star_args(*xs):
    return xs[0]


def uses_walrus(x):
    if (y := x * 2) > 1:
        return y
    return x


def uses_for_else(x):
    for i in range(3):
        x = x * 2
        if x > 100.0:
            break
    else:
        x = x + 1
    return x


def uses_starred_call(x):
    args = (x, 2.0)
    return np.power(*args)


def uses_nested_subscript_store(x):
    grid = [[0.0, 0.0], [0.0, 0.0]]
    grid[0][1] = x
    return grid[0][1]


def _scale_in_place(v):
    v[0] = v[0] * 2.0
    return v[0] + v[1]


def uses_callee_writing_its_argument(x):
    buf = np.array([x, x * x])
    s = _scale_in_place(buf)  # changes buf, which is read below
    return s + buf[0]


REFUSED = [
    (uses_try, "try/except"),
    (uses_with, "with statements"),
    (uses_yield, "yield"),
    (uses_global, "global"),
    (uses_nonlocal, "nonlocal"),
    (uses_class, "class definitions"),
    (uses_del, "del statements"),
    (uses_import, "import statements"),
    (uses_walrus, "assignment expressions"),
    (uses_for_else, "else clauses"),
    (uses_starred_call, "starred"),
    (uses_nested_subscript_store, "x[i, j] rather than x[i][j]"),
    (uses_callee_writing_its_argument, "updates its argument 'v' in place"),
]


def _line_of(func, needle):
    lines, first = inspect.getsourcelines(func)
    for offset, line in enumerate(lines):
        if needle in line:
            return first + offset, line.strip()
    raise AssertionError(needle)


NEEDLES = {
    uses_try: "try:",
    uses_with: "with open",
    uses_yield: "yield x",
    uses_global: "global COUNTER",
    uses_nonlocal: "nonlocal y",
    uses_class: "class Box",
    uses_del: "del y",
    uses_import: "import math",
    uses_walrus: ":=",
    uses_for_else: "for i in range(3)",
    uses_starred_call: "np.power(*args)",
    uses_nested_subscript_store: "grid[0][1] = x",
    # The line named is the callee's (a tuple: the function holding it first).
    uses_callee_writing_its_argument: (_scale_in_place, "v[0] = v[0] * 2.0"),
}


@pytest.mark.parametrize("func,what", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_refused_construct_names_line(func, what):
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(func)(1.5)
    message = str(info.value)
    needle = NEEDLES[func]
    where, needle = needle if isinstance(needle, tuple) else (func, needle)
    lineno, text = _line_of(where, needle)
    assert what in message
    assert __file__ in message or __file__.replace(".pyc", ".py") in message
    assert f"line {lineno}" in message
    assert text in message


def _scale_a_copy(v):
    v = v.copy()
    v[0] = v[0] * 2.0
    return v[0] + v[1]


def test_callee_writing_a_copy_of_its_argument_is_differentiated():
    def f(x):
        buf = np.array([x, x * x])
        return _scale_a_copy(buf) + buf[0]

    assert grad(f)(1.5) == pytest.approx(2.0 + 2 * 1.5 + 1.0)


def test_async_function_refused():
    with pytest.raises(S2SError):
        grad(uses_async)(1.0)


def test_varargs_refused():
    with pytest.raises(UnsupportedSyntaxError, match=r"\*args"):
        grad(uses_star_args)(1.0)


class _Opaque:
    """A callable with no source and no rule."""

    def __call__(self, x):
        return x * 2


opaque = np.frompyfunc(lambda v: v * 2, 1, 1)


def calls_c_function(x):
    return opaque(x) + 1.0


def test_missing_rule_names_function_and_line():
    with pytest.raises(MissingRuleError) as info:
        grad(calls_c_function)(1.0)
    message = str(info.value)
    lineno, text = _line_of(calls_c_function, "opaque(x)")
    assert "opaque" in message or "ufunc" in message
    assert f"line {lineno}" in message
    assert text in message
    assert "reverse_rule" in message


def test_builtin_function_has_no_source():
    with pytest.raises(SourceUnavailableError):
        grad(np.sin)(1.0)


def test_exec_function_has_no_source():
    namespace = {}
    exec("def made(x):\n    return x * x\n", namespace)  # noqa: S102 - the point of the test
    with pytest.raises(SourceUnavailableError, match="source"):
        grad(namespace["made"])(1.0)


def square(x, y):
    return x * y


@pytest.mark.parametrize("wrt", ["z", 2, -3, ("x", "q")])
def test_bad_wrt(wrt):
    with pytest.raises(WrtError):
        grad(square, wrt=wrt)


def test_errors_are_s2s_errors():
    assert issubclass(UnsupportedSyntaxError, S2SError)
    assert issubclass(MissingRuleError, S2SError)
