"""NumPy scalars converted to Python floats for the reverse sweep
(s2s_ad/scalars.py): only where certainly exact, and never changing a
gradient, its type or an error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from s2s_ad import grad, gradient_source, value_and_grad
from tests.fd import numerical_grad

CONVERTED = "float(u"


def seed_f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def trig(x, y):
    a = np.sin(x) * np.cos(y)
    b = np.tanh(a + 2.0 * x) - a * y
    return b * np.exp(-x)


def with_division(x, y):
    return np.exp(x) / y


def with_cube(x):
    return np.exp(x) ** 3


def in_a_loop(x):
    s = 0.0
    for _ in range(3):
        s = s + np.exp(x * s)
    return s


def reassigned(x):
    e = np.exp(x)
    e = e * np.sin(x)
    return e * x


def comparison(x):
    flag = np.isfinite(x)
    return np.exp(x) * x if flag else x


def root_at_zero(x):
    return np.sqrt(x) * np.exp(x)


@pytest.mark.parametrize(
    "func, args",
    [
        (seed_f, (2.0, 0.5)),
        (seed_f, (-0.3, 1.7)),
        (trig, (0.4, -1.1)),
        (trig, (3.0, 2.0)),
    ],
)
def test_converted_gradients_are_bit_identical(func, args):
    text = gradient_source(func, (0, 1), args)
    assert CONVERTED in text
    assert "NumPy scalars as Python floats" in text
    value, grads = value_and_grad(func, (0, 1))(*args)
    # NumPy-scalar arguments get the unconverted code: same bits.
    ref_value, ref_grads = value_and_grad(func, (0, 1))(*map(np.float64, args))
    assert CONVERTED not in gradient_source(func, (0, 1), tuple(map(np.float64, args)))
    assert value == ref_value and type(value) is type(ref_value)
    assert [float(g) for g in grads] == [float(g) for g in ref_grads]
    assert all(type(g) is float for g in grads)
    fd = numerical_grad(func, args, wrt=(0, 1))
    np.testing.assert_allclose(grads, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "func, args, unconverted",
    [
        (with_division, (0.5, 2.0), "float(u"),  # the reverse sweep divides
        (with_cube, (0.5,), "float(u"),  # ... or raises to a power
        (in_a_loop, (0.3,), "float(s)"),  # assigned in a loop
        (reassigned, (0.7,), "float(e)"),  # assigned twice
    ],
)
def test_not_converted_where_floats_could_behave_differently(func, args, unconverted):
    wrt = tuple(range(len(args)))
    assert unconverted not in gradient_source(func, wrt, args)
    got = grad(func, wrt)(*args)
    np.testing.assert_allclose(got, numerical_grad(func, args, wrt=wrt), rtol=1e-6)


def test_a_non_float_ufunc_result_is_not_converted():
    text = gradient_source(comparison, 0, (0.5,))
    assert "float(flag)" not in text
    assert grad(comparison)(0.5) == pytest.approx(np.exp(0.5) * 1.5)


def test_an_infinite_gradient_stays_infinite():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = grad(root_at_zero)(0.0)
        want = grad(root_at_zero)(np.float64(0.0))
    assert np.isinf(got) and got == want


def converted_by_hand(x1, x2):
    # What the pass emits, as user code: differentiable again.
    u5 = np.exp(-0.5 * (x1**2 + x2**2))
    u5 = float(u5)
    return x1 * u5


def test_higher_order_and_the_conversion_as_user_code():
    hess = grad(grad(seed_f, 0), (0, 1))(2.0, 0.5)
    fd = numerical_grad(grad(seed_f, 0), (2.0, 0.5), wrt=(0, 1))
    np.testing.assert_allclose(hess, fd, rtol=1e-6)
    third = grad(grad(grad(seed_f, 0), 0), 0)(2.0, 0.5)
    fd3 = numerical_grad(grad(grad(seed_f, 0), 0), (2.0, 0.5), wrt=0)
    assert third == pytest.approx(fd3, rel=1e-5)
    np.testing.assert_allclose(
        grad(converted_by_hand, (0, 1))(2.0, 0.5), grad(seed_f, (0, 1))(2.0, 0.5)
    )
    np.testing.assert_allclose(
        grad(grad(converted_by_hand, 0), 0)(2.0, 0.5),
        grad(grad(seed_f, 0), 0)(2.0, 0.5),
    )
