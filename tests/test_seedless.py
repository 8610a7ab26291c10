"""Gradients made without a seed, and the dispatcher that calls them.

A gradient object given no seed runs code made without one (s2s_ad/api.py):
its result's adjoint starts at 1.0, which for Python floats lets the code
drop its multiplications by 1.0, write ``2.0 * x`` for ``2 * x`` and return
gradients without ``float()`` (s2s_ad/scalars.py).  Each is checked against
the same function's gradient seeded with ``1.0`` (bit for bit, type
included) and against finite differences.  The dispatcher
(s2s_ad/dispatch.py) binds arguments as the user's function does: keyword
calls, defaults and keyword-only parameters take the fast lane, and a wrong
call fails as a call of the user's function would.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from benchmarks.workloads.scalar_loop import oscillator
from s2s_ad import dispatch, grad, gradient_source, value_and_grad
from s2s_ad.errors import NonScalarOutputError
from tests.fd import numerical_grad


def seed_f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def linear(x, y):
    return 3 * x + 2 * y  # gradients made of int literals only


def identity(x, y):
    return x


def squares(x, y):
    return x * x + 2 * y * y - 4 * x * y


def with_division(x, y):
    return np.exp(x) / y  # the reverse sweep divides: no conversions


def loop_result(x, y):
    s = x
    for _ in range(3):
        s = s * y + x  # the result's adjoint is reassigned in the loop
    return s


def power_sum(x, y):
    total = 0.0
    term = 1.0
    for _ in range(3):
        term = term * x
        total = total + term * y
    return total


CASES = [
    (power_sum, (0.7, 1.5), (0, 1)),
    (seed_f, (2.0, 0.5), (0, 1)),
    (seed_f, (-0.3, 1.7), (0, 1)),
    (oscillator, (4.0, 0.3, 1.0, 0.0, 0.01, 50), (0, 1)),
    (linear, (0.5, -1.5), (0, 1)),
    (identity, (0.5, -1.5), (0, 1)),
    (squares, (0.5, -1.5), (0, 1)),
    (with_division, (0.5, 2.0), (0, 1)),
    (loop_result, (0.7, 0.4), (0, 1)),
]


@pytest.mark.parametrize("func, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_unseeded_gradients_equal_the_seeded_ones_bit_for_bit(func, args, wrt):
    text = gradient_source(func, wrt, args)
    assert f"def grad_{func.__name__}({', '.join(_params(func))}):" in text
    value, grads = value_and_grad(func, wrt)(*args)
    seeded_value, seeded = value_and_grad(func, wrt, seed=1.0)(*args)
    assert value == seeded_value and type(value) is type(seeded_value)
    assert list(grads) == list(seeded)
    assert [type(g) for g in grads] == [type(g) for g in seeded] == [float] * 2
    fd = numerical_grad(func, args, wrt=wrt)
    np.testing.assert_allclose(grads, fd, rtol=1e-6, atol=1e-9)
    # Warm calls (the fast lane) return the same.
    assert value_and_grad(func, wrt)(*args) == (value, grads)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def tanh_layer(W, x):
    return np.mean(np.tanh(W @ x) ** 2)


ARRAY_CASES = [
    (rosenbrock, (np.linspace(-1.2, 1.3, 9),), 0),
    (rosenbrock, (np.linspace(-1.2, 1.3, 9).astype(np.float32),), 0),
    (tanh_layer, (np.eye(3) + 0.1, np.array([0.3, -0.2, 0.5])), (0, 1)),
    (seed_f, (np.float64(2.0), np.float64(0.5)), (0, 1)),
]


def _each(gradients, wrt):
    return gradients if isinstance(wrt, tuple) else (gradients,)


@pytest.mark.parametrize(
    "func, args, wrt",
    ARRAY_CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(ARRAY_CASES)],
)
def test_arrays_and_numpy_scalars_unseeded_equal_seeded(func, args, wrt):
    text = gradient_source(func, wrt, args)
    assert text.startswith(f"def grad_{func.__name__}({', '.join(_params(func))}):")
    value, grads = value_and_grad(func, wrt)(*args)
    seeded_value, seeded = value_and_grad(func, wrt, seed=1.0)(*args)
    assert value == seeded_value and type(value) is type(seeded_value)
    for got, want in zip(_each(grads, wrt), _each(seeded, wrt)):
        assert type(got) is type(want)
        assert getattr(got, "dtype", None) == getattr(want, "dtype", None)
        np.testing.assert_array_equal(got, want)
    fd = numerical_grad(func, args, wrt=wrt)
    for got, want in zip(_each(grads, wrt), _each(fd, wrt)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def _params(func):
    return func.__code__.co_varnames[: func.__code__.co_argcount]


def test_what_the_float_rewrites_do_to_the_seed_example():
    text = gradient_source(seed_f, (0, 1), (2.0, 0.5))
    assert text.startswith("def grad_seed_f(x1, x2):\n")
    assert "u6_bar" not in text  # the 1.0 multiplied nothing
    assert "x1_bar = u5\n" in text
    assert "(2.0 * x2)" in text and "(2 * x2)" not in text
    assert text.endswith("return value, (x1_bar, x2_bar)\n")
    # A division in the reverse sweep keeps NumPy scalars: float() stays.
    assert "float(" in gradient_source(with_division, (0, 1), (0.5, 2.0))
    # Reads of the result's adjoint that are not products read the literal.
    text = gradient_source(rosenbrock, 0, (np.linspace(-1.2, 1.3, 9),))
    assert "200.0 * u4" in text and "u11_bar" not in text and "u10_bar" not in text
    assert "total_bar" not in gradient_source(power_sum, (0, 1), (0.7, 1.5))
    # A reassigned result adjoint keeps its multiplications.
    assert "s_bar * " in gradient_source(loop_result, (0, 1), (0.7, 0.4))


def test_a_given_seed_gets_code_that_takes_it():
    g = grad(seed_f, (0, 1), seed=2.0)
    got = g(2.0, 0.5)
    assert g.source.startswith("def grad_seed_f(x1, x2, seed=None):\n")
    want = grad(seed_f, (0, 1))(2.0, 0.5)
    assert got == (2.0 * want[0], 2.0 * want[1])
    arrays = grad(lambda x: 2.0 * x, seed=np.array([1.0, -1.0]))(np.ones(2))
    np.testing.assert_array_equal(arrays, [2.0, -2.0])


def test_a_non_scalar_result_without_a_seed_is_still_refused():
    g = grad(lambda x: 2.0 * x)
    with pytest.raises(NonScalarOutputError, match="seed"):
        g(np.ones(3))
    with pytest.raises(NonScalarOutputError, match="seed"):
        g(np.ones(3))  # again, warm


# -- the dispatcher -----------------------------------------------------------


def scaled(x, scale=2.0, *, power=2, shift=0.0):
    return scale * x**power + shift


def positional_only(x, y=3.0, /, z=1.0):
    return x * y * z


def clashing(_s2s_call, _s2s_general, type, float):
    return _s2s_call * _s2s_general * type * float


def test_keywords_defaults_and_keyword_only_parameters():
    g = grad(scaled, (0, 1))
    want = (2.0 * 2 * 1.5, 1.5**2)
    for _ in range(3):  # cold, then warm
        assert g(1.5) == pytest.approx(want, rel=1e-15)
        assert g(x=1.5) == pytest.approx(want, rel=1e-15)
        assert g(1.5, scale=2.0, power=2) == pytest.approx(want, rel=1e-15)
    # The calls by keyword and with defaults ran in the fast lane.
    assert "_s2s_call" in g.func.__code__.co_freevars
    assert g(1.5, 3.0, power=3, shift=1.0) == pytest.approx((3 * 3 * 1.5**2, 1.5**3))
    assert g(1.5) == pytest.approx(want, rel=1e-15)
    fd = numerical_grad(lambda x, s: scaled(x, s, power=3), (1.5, 3.0), wrt=(0, 1))
    np.testing.assert_allclose(g(1.5, 3.0, power=3), fd, rtol=1e-6)


def test_positional_only_parameters():
    g = grad(positional_only, (0, 1, 2))
    for _ in range(2):
        assert g(2.0, 3.0, z=0.5) == pytest.approx((1.5, 1.0, 6.0))
        assert g(2.0) == pytest.approx((3.0, 2.0, 6.0))
    with pytest.raises(TypeError, match="positional"):
        g(x=2.0)
    with pytest.raises(TypeError):
        g(2.0, y=1.0)  # y is positional-only


def test_parameters_named_like_the_dispatchers_own_names():
    g = grad(clashing, (0, 1, 2, 3))
    for _ in range(2):
        assert g(1.0, 2.0, 3.0, 4.0) == pytest.approx((24.0, 12.0, 8.0, 6.0))


def test_wrong_calls_fail_as_the_users_function_would():
    g = grad(seed_f, 0)
    for _ in range(2):  # cold, then with a lane open
        g(2.0, 0.5)
        with pytest.raises(TypeError, match="seed_f.*unexpected keyword argument 'z'"):
            g(2.0, 0.5, z=1.0)
        with pytest.raises(TypeError, match="seed_f.*multiple values.*'x1'"):
            g(2.0, 0.5, x1=1.0)
        with pytest.raises(TypeError, match="seed_f.*'x2'"):
            g(2.0)
        with pytest.raises(TypeError, match="seed_f"):
            g(2.0, 0.5, 1.0)
        with pytest.raises(TypeError, match="seed_f.*'x1'"):
            g(x2=0.5)


def test_a_lambda_and_a_lane_that_changes():
    g = value_and_grad(lambda x, n: np.sum(x**n))
    assert g(2.0, 3) == (8.0, 12.0)
    assert g(2.0, 3) == (8.0, 12.0)
    value, slope = g(np.array([1.0, 2.0]), 2)
    assert value == 5.0 and list(slope) == [2.0, 4.0]
    assert g(2.0, 2) == (4.0, 4.0)
    assert g(2.0, 3.0) == (8.0, 12.0)


M = dispatch._MISSING


@pytest.mark.parametrize(
    "signature, values, rest, want",
    [
        (lambda a, b, c: 0, (1, 2, 3), (), ((1, 2, 3), {})),
        (lambda a, b, c: 0, (1, 2, 3), (4,), ((1, 2, 3, 4), {})),
        (lambda a, b, c: 0, (1, M, 3), (), ((1,), {"c": 3})),
        (lambda a, b, c: 0, (M, 2, 3), (), ((), {"b": 2, "c": 3})),
        (lambda a, b, *, c: 0, (1, 2, 3), (4,), ((1, 2, 4), {"c": 3})),
        (lambda a, b, *, c: 0, (1, M, 3), (), ((1,), {"c": 3})),
        (lambda a, b, *, c: 0, (1, 2, M), (), ((1, 2), {})),
        (lambda a, b=2, /, c=3: 0, (M, 2, 3), (), ((), {"c": 3})),
    ],
)
def test_regroup_gives_the_general_path_the_call_as_made(signature, values, rest, want):
    params, _ = dispatch.parameters(signature)
    assert dispatch.regroup(params, values, rest) == want


def keyword_only(x, *, k):
    return k * x


def test_a_keyword_only_parameter_is_never_filled_by_position():
    g = grad(keyword_only)
    assert g(2.0, k=3.0) == 3.0
    with pytest.raises(TypeError, match="positional"):
        g(2.0, 3.0)


def test_the_signature_reported_is_the_functions():
    assert inspect.signature(grad(scaled)) == inspect.signature(scaled)
