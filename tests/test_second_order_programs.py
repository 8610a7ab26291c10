"""Second derivatives over the whole scalar-output program table.

Every program of ``tests/programs.py`` with a scalar result (the selection
``tests/test_forward.py`` runs forward mode on) gets its Hessian-vector
product H·v two ways, each transforming generated gradient code again:

* forward over reverse: ``s2s_ad.hvp``, a jvp of the gradient code;
* reverse over reverse: ``s2s_ad.grad`` of ``<grad f(x), v>``.

Both must agree with central finite differences of the first-order gradient
along ``v`` (the first-order gradient itself is checked against finite
differences of ``f`` elsewhere).  ``v`` has the structure of the wrt
arguments: numbers, arrays, and lists, tuples and dicts of them.

The last tests pin the order-aware alias check that second order relies on:
generated code fills a list and then names it (``u1.append(...)`` in a loop,
then ``ys = u1``), which is no write through an alias, while a write that
can run after the alias is made (later, or earlier in an enclosing loop)
still is.  Then an element read after a write to its array: a number for a
1-D array (differentiated), a view for a row of a 2-D one (refused when the
code runs, with the user's line); and results a called function's reverse
sweep undoes in place, which must keep their value.
"""

from __future__ import annotations

import functools
import inspect
import zlib
from typing import Any, Callable

import numpy as np
import pytest

import s2s_ad
from s2s_ad.errors import UnsupportedSyntaxError
from tests.fd import copy_tree
from tests.programs import PROGRAMS, Program

SCALAR_OUTPUT = [p for p in PROGRAMS if p.seed is None and p.rtol <= 1e-4]
STEP = 1e-5
RTOL = 1e-4

Path = tuple[Any, ...]


def _positions(program: Program) -> tuple[int, ...]:
    """The wrt positions in argument order: ``hvp`` answers in that order."""
    params = list(inspect.signature(program.func).parameters)
    wrt = program.wrt if isinstance(program.wrt, tuple) else (program.wrt,)
    return tuple(sorted(w if isinstance(w, int) else params.index(w) for w in wrt))


def _leaves(x: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    if isinstance(x, (list, tuple)):
        return [leaf for i, v in enumerate(x) for leaf in _leaves(v, (*path, i))]
    if isinstance(x, dict):
        return [leaf for k, v in x.items() for leaf in _leaves(v, (*path, k))]
    return [(path, x)]


def _random_like(x: Any, rng: np.random.Generator) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_random_like(v, rng) for v in x)
    if isinstance(x, dict):
        return {k: _random_like(v, rng) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


def _step(x: Any, v: Any, h: float) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, h) for a, b in zip(x, v))
    if isinstance(x, dict):
        return {k: _step(x[k], v[k], h) for k in x}
    return x + h * v


def _flat(x: Any) -> np.ndarray:
    parts = [np.ravel(np.asarray(leaf, dtype=float)) for _, leaf in _leaves(x)]
    return np.concatenate(parts) if parts else np.zeros(0)


@functools.cache
def _reference(name: str) -> tuple[tuple[Any, ...], tuple[Any, ...], np.ndarray]:
    """Arguments, tangents (None off wrt) and the finite-difference H·v."""
    program = next(p for p in SCALAR_OUTPUT if p.name == name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = tuple(program.make_args(rng))
    positions = _positions(program)
    tangents: list[Any] = [None] * len(args)
    for i in positions:
        tangents[i] = _random_like(args[i], rng)
    gradient = s2s_ad.grad(program.func, wrt=positions)

    def along(h: float) -> np.ndarray:
        moved = [
            _step(a, tangents[i], h) if i in positions else copy_tree(a)
            for i, a in enumerate(args)
        ]
        return _flat(gradient(*moved))

    fd = (along(STEP) - along(-STEP)) / (2 * STEP)
    return args, tuple(tangents), fd


def _assert_close(actual: Any, fd: np.ndarray) -> None:
    scale = 1.0 + float(np.max(np.abs(fd), initial=0.0))
    np.testing.assert_allclose(_flat(actual), fd, rtol=RTOL, atol=10 * RTOL * scale)


def _contract(gradients, paths, directions):
    """``<gradients, directions>``, leaf by leaf (paths index into containers)."""
    total = 0.0
    for path, direction in zip(paths, directions):
        item = gradients
        for key in path:
            item = item[key]
        total = total + np.sum(item * direction)
    return total


def _directional(
    gradient: Callable[..., Any], paths: list[Path], directions: list[Any], arity: int
) -> Callable[..., Any]:
    """``<gradient(...), directions>`` as a function of ``arity`` arguments.

    s2s_ad reads the source of what it differentiates and takes no ``*args``,
    hence one definition per arity."""

    def one(a):
        return _contract(gradient(a), paths, directions)

    def two(a, b):
        return _contract(gradient(a, b), paths, directions)

    def three(a, b, c):
        return _contract(gradient(a, b, c), paths, directions)

    def four(a, b, c, d):
        return _contract(gradient(a, b, c, d), paths, directions)

    def five(a, b, c, d, e):
        return _contract(gradient(a, b, c, d, e), paths, directions)

    return (one, two, three, four, five)[arity - 1]


IDS = [p.name for p in SCALAR_OUTPUT]


@pytest.mark.parametrize("program", SCALAR_OUTPUT, ids=IDS)
def test_forward_over_reverse(program: Program):
    args, tangents, fd = _reference(program.name)
    before = copy_tree(args)
    # hvp answers in argument order, as _reference's gradient does.
    _assert_close(s2s_ad.hvp(program.func, args, tangents), fd)
    np.testing.assert_equal(_flat(args), _flat(before))


@pytest.mark.parametrize("program", SCALAR_OUTPUT, ids=IDS)
def test_reverse_over_reverse(program: Program):
    args, tangents, fd = _reference(program.name)
    positions = _positions(program)
    gradient = s2s_ad.grad(program.func, wrt=positions)
    # One path per leaf of the tuple of gradients, the tangent's leaf along it.
    paths: list[Path] = []
    directions: list[Any] = []
    for k, i in enumerate(positions):
        for path, leaf in _leaves(tangents[i]):
            paths.append((k, *path))
            directions.append(leaf)
    directional = _directional(gradient, paths, directions, len(args))
    before = copy_tree(args)
    _assert_close(s2s_ad.grad(directional, wrt=positions)(*args), fd)
    np.testing.assert_equal(_flat(args), _flat(before))


# -- the order-aware alias check ------------------------------------------------


def fill_then_name(x):
    # A comprehension written out, as first-order gradient code has them.
    acc = []
    for i in range(3):
        acc.append(x[i] ** 2 * x[(i + 1) % 3])
    ys = acc
    return sum(ys) * ys[0]


def fill_read_then_name(x):
    # The reverse sweep pops acc again (it reads acc), so the gradient code
    # writes acc while ys is still read: first order only.
    acc = []
    s = 0.0
    for i in range(3):
        acc.append(x[i] * s + x[i])
        s = s + sum(acc) * x[i]
    ys = acc
    return s + ys[0] * sum(ys)


def fill_then_return(x):
    # The reverse sweep pops acc again (it reads acc): the returned value must
    # be a copy made before.
    acc = []
    s = 1.0
    for i in range(3):
        acc.append(x[i] * s)
        s = s + sum(acc)
    ys = acc
    return ys


def write_earlier_in_loop(x):
    z = np.zeros(3)
    y = np.zeros(3)
    for i in range(3):
        z[i] = x[i] * 2.0  # from the second pass on, this writes y
        z = y
    return np.sum(y * x)


def append_after_naming(x):
    acc = [x[0]]
    ys = acc
    acc.append(x[1] * 2.0)
    return sum(ys) * x[2]


def view_read_after_write(x):
    y = x * 1.0
    w = y[0:2]
    y[0] = 5.0
    return np.sum(w * x[:2])


def view_read_before_write(x):
    y = x * 1.0
    w = y[1:3]
    u = w * x[:2]
    y[1:3] = u
    return np.sum(y**2)


def view_renewed_in_loop(x):
    y = x * 1.0
    for i in range(2):
        w = y[i : i + 2]  # a fresh view each pass, read before the write
        u = w * x[i]
        y[i : i + 2] = u
    return np.sum(y**2)


def view_read_after_write_in_loop(x):
    y = x * 1.0
    s = 0.0
    for i in range(2):
        w = y[i : i + 2]
        y[i] = 2.0 * x[i]
        s = s + np.sum(w * x[i])
    return s


def read_between_alias_and_write(x):
    # The reverse sweep reads ys again (for sum(ys)) after the append ran,
    # and nothing obliges it to undo the append first.
    acc = [x[0]]
    ys = acc
    t = sum(ys)
    acc.append(x[1] * 2.0)
    return t * x[2] + acc[1]


def _fd_grad(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = STEP
        out[i] = (f(x + e) - f(x - e)) / (2 * STEP)
    return out


X = np.array([0.3, 0.7, 1.1])


@pytest.mark.parametrize(
    "func",
    [fill_then_name, fill_read_then_name, view_read_before_write, view_renewed_in_loop],
)
def test_writes_before_the_alias_are_differentiated(func: Callable[..., Any]):
    np.testing.assert_allclose(s2s_ad.grad(func)(X), _fd_grad(func, X), rtol=1e-6)


def _assert_second_order_both_ways(func: Callable[..., Any]) -> None:
    """H.v by forward over reverse and by reverse over reverse, against
    central differences of the gradient at X."""
    v = np.array([0.5, -1.0, 2.0])
    gradient = s2s_ad.grad(func)
    fd = (gradient(X + STEP * v) - gradient(X - STEP * v)) / (2 * STEP)
    _assert_close(s2s_ad.hvp(func, (X,), (v,)), fd)
    directional = _directional(s2s_ad.grad(func, wrt=(0,)), [(0,)], [v], 1)
    _assert_close(s2s_ad.grad(directional)(X), fd)


@pytest.mark.parametrize("func", [fill_then_name, view_read_before_write])
def test_writes_before_the_alias_are_differentiated_twice(func: Callable[..., Any]):
    _assert_second_order_both_ways(func)


def test_a_returned_alias_of_a_filled_list_keeps_its_value():
    weights = [1.0, 2.0, 3.0]
    value, gradient = s2s_ad.value_and_grad(fill_then_return, seed=weights)(X)
    assert value == fill_then_return(X)

    def weighted(x):
        return np.dot(fill_then_return(x), weights)

    np.testing.assert_allclose(gradient, _fd_grad(weighted, X), rtol=1e-6)


@pytest.mark.parametrize(
    "func",
    [
        write_earlier_in_loop,
        append_after_naming,
        read_between_alias_and_write,
        view_read_after_write,
        view_read_after_write_in_loop,
    ],
)
def test_writes_that_can_follow_the_alias_are_refused(func: Callable[..., Any]):
    with pytest.raises(UnsupportedSyntaxError, match="may share memory"):
        s2s_ad.grad(func)(X)


# -- an element read that may be a view -------------------------------------------


def element_read_after_write(x):
    # For a 1-D y, s is a number: the write to y does not reach it.
    y = x * 1.0
    s = y[0]
    y[1] = 5.0 * x[2]
    return s * y[1] * s + np.sum(y * x)


def element_read_after_write_in_loop(x):
    y = x * 1.0
    t = 0.0
    for i in range(2):
        s = y[i]
        y[i + 1] = s * x[i]
        t = t + s * s * x[2]
    return t + np.sum(y**2)


def row_read_after_write(x):
    a = np.outer(x, x)
    w = a[0]  # a row: a view into a
    a[0, 1] = 5.0
    return np.sum(w * x)


ROW_LINE = row_read_after_write.__code__.co_firstlineno + 2  # w = a[0]


def row_of_parameter(a, x):
    w = a[0]
    a[0, 1] = 5.0
    return np.sum(w * x)


@pytest.mark.parametrize(
    "func", [element_read_after_write, element_read_after_write_in_loop]
)
def test_an_element_read_after_a_write_is_a_number(func: Callable[..., Any]):
    np.testing.assert_allclose(s2s_ad.grad(func)(X), _fd_grad(func, X), rtol=1e-6)
    v = np.array([0.5, -1.0, 2.0])
    _, tangent = s2s_ad.jvp(func, (X,), (v,))
    fd = (func(X + STEP * v) - func(X - STEP * v)) / (2 * STEP)
    np.testing.assert_allclose(tangent, fd, rtol=1e-6)


@pytest.mark.parametrize(
    "func", [element_read_after_write, element_read_after_write_in_loop]
)
def test_an_element_read_after_a_write_is_differentiated_twice(
    func: Callable[..., Any],
):
    _assert_second_order_both_ways(func)


def _refused_row(call: Callable[[], Any]) -> UnsupportedSyntaxError:
    with pytest.raises(UnsupportedSyntaxError) as info:
        call()
    return info.value


def test_a_row_read_after_a_write_is_refused_with_the_users_line():
    error = _refused_row(lambda: s2s_ad.grad(row_read_after_write)(X))
    assert error.filename == __file__
    assert error.lineno == ROW_LINE
    assert error.source_line.strip().startswith("w = a[0]")
    assert error.funcname == "row_read_after_write"
    message = str(error)
    assert "'w' may share memory with 'a'" in message
    assert f"written in place (line {ROW_LINE + 1})" in message
    assert "w = a[0]" in message and f"line {ROW_LINE}" in message


def test_a_row_of_a_parameter_is_refused_in_every_mode():
    a = np.arange(6.0).reshape(2, 3) * 0.1 + 0.3
    x = np.array([0.4, 0.5, 0.6])
    before = a.copy()
    calls = [
        lambda: s2s_ad.grad(row_of_parameter)(a, x),
        lambda: s2s_ad.jvp(row_of_parameter, (a, x), (a, x)),
        lambda: s2s_ad.hvp(row_of_parameter, (a, x), (a, x)),
        lambda: s2s_ad.grad(_directional(s2s_ad.grad(row_of_parameter), [()], [a], 2))(
            a, x
        ),
    ]
    for call in calls:
        error = _refused_row(call)
        assert error.lineno == row_of_parameter.__code__.co_firstlineno + 1
        assert "'w' may share memory with 'a'" in str(error)
    np.testing.assert_equal(a, before)


def test_a_row_at_second_order_is_refused():
    v = np.array([0.5, -1.0, 2.0])
    for call in [
        lambda: s2s_ad.hvp(row_read_after_write, (X,), (v,)),
        lambda: s2s_ad.grad(
            _directional(s2s_ad.grad(row_read_after_write), [()], [v], 1)
        )(X),
    ]:
        assert _refused_row(call).lineno == ROW_LINE


# -- a called function's result that its reverse sweep undoes in place ------------


def filled_list(x):
    acc = []
    s = 1.0
    for i in range(3):
        acc.append(x[i] * s)
        s = s + sum(acc)  # read: the reverse sweep pops acc to restore it
    return acc


def filled_dict(x):
    d = {"a": x[0] * 1.0, "b": x[1]}
    for i in range(2):
        d["a"] = d["a"] * x[2] + d["b"]  # restored in place by the reverse sweep
    return d


def filled_array(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] * np.sum(y) + x[i]
    return y


def calls_filled_list(x):
    ys = filled_list(x)
    return ys


def calls_filled_dict(x):
    ys = filled_dict(x)
    return ys


def calls_filled_array(x):
    ys = filled_array(x)
    return ys


def _weighted(value: Any, weights: Any) -> float:
    if isinstance(value, dict):
        return sum(value[k] * weights[k] for k in value)
    return float(np.dot(value, weights))


@pytest.mark.parametrize(
    "func, weights",
    [
        (filled_list, [1.0, 2.0, 3.0]),
        (calls_filled_list, [1.0, 2.0, 3.0]),
        (filled_dict, {"a": 1.0, "b": 2.0}),
        (calls_filled_dict, {"a": 1.0, "b": 2.0}),
        (filled_array, np.array([1.0, 2.0, 3.0])),
        (calls_filled_array, np.array([1.0, 2.0, 3.0])),
    ],
)
def test_a_result_the_reverse_sweep_undoes_keeps_its_value(
    func: Callable[..., Any], weights: Any
):
    value, gradient = s2s_ad.value_and_grad(func, seed=weights)(X)
    expected = func(X)
    if isinstance(expected, dict):
        assert value == expected
    else:
        np.testing.assert_array_equal(value, expected)
    fd = _fd_grad(lambda x: _weighted(func(x), weights), X)
    np.testing.assert_allclose(gradient, fd, rtol=1e-6)
