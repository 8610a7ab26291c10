"""Derivatives of ``np.sinc`` at every order, at and near x = 0.

sinc's closed-form derivatives divide by powers of x, so code that switches
to a constant at x == 0 is exact only to the order whose derivative the
constant stands for; past it the result is silently wrong.  The helper
``rt.sinc_derivative(x, n)`` gives the n-th derivative for any n and its
rule calls it with n + 1, so every order is checked here against the
closed forms at 0 (0 for odd n, (-1)^(n/2) π^n / (n + 1) for even n), an
independent quadrature of sinc^(n)(x) = π^n ∫_0^1 t^n cos(πxt + nπ/2) dt,
and central differences of the order below.
"""

from __future__ import annotations

import numpy as np
import pytest

import s2s_ad
from s2s_ad import grad, jvp
from s2s_ad import runtime as rt

POINTS = [0.0, 1e-3, 0.3]


def at_zero(n: int) -> float:
    return 0.0 if n % 2 else (-1) ** (n // 2) * np.pi**n / (n + 1)


def by_quadrature(x: float, n: int) -> float:
    nodes, weights = np.polynomial.legendre.leggauss(120)
    t = (nodes + 1.0) / 2.0
    integrand = t**n * np.cos(np.pi * x * t + n * np.pi / 2)
    return float(np.pi**n * np.sum(weights * integrand) / 2.0)


def scale(n: int) -> float:
    """The size of sinc's n-th derivative near 0, for absolute tolerances."""
    return np.pi**n / (n + 1)


@pytest.mark.parametrize("n", range(1, 13))
def test_helper_is_exact_at_zero(n):
    assert rt.sinc_derivative(0.0, n) == pytest.approx(at_zero(n), rel=1e-14)
    got = rt.sinc_derivative(np.array([0.0, -0.0]), n)
    np.testing.assert_allclose(got, at_zero(n), rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("n", range(1, 13))
def test_helper_matches_quadrature(n):
    # Dense enough to cross the switch from series to closed form, wherever
    # it is for this n.
    xs = np.geomspace(1e-9, 40.0, 97) * np.resize([1.0, -1.0], 97)
    got = rt.sinc_derivative(xs, n)
    expected = [by_quadrature(x, n) for x in xs]
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12 * scale(n))


def test_helper_keeps_input_types():
    assert type(rt.sinc_derivative(0.5, 3)) is float
    assert rt.sinc_derivative(np.float32(0.5), 2).dtype == np.float32
    assert rt.sinc_derivative(np.arange(3), 2).dtype == np.float64
    assert rt.sinc_derivative(np.zeros((2, 0)), 4).shape == (2, 0)


def sinc(x):
    return np.sinc(x)


def reverse_tower(depth: int):
    func = sinc
    for _ in range(depth):
        func = grad(func)
    return func


def forward_tower(depth: int):
    """sinc differentiated ``depth`` times in forward mode."""
    func = sinc
    for _ in range(depth):
        func = _slope_of(func)
    return func


def _slope_of(func):
    dual = s2s_ad.jvp_function(func)

    def slope(x):
        return dual(x, 1.0)[1]

    return slope


def _check(n: int, x: float, got: float, below) -> None:
    expected = at_zero(n) if x == 0.0 else by_quadrature(x, n)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-12 * scale(n))
    h = 1e-4
    fd = (below(x + h) - below(x - h)) / (2 * h)
    assert got == pytest.approx(fd, rel=1e-6, abs=1e-6 * scale(n))


@pytest.mark.parametrize("x", POINTS)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_reverse_tower(n, x):
    _check(n, x, reverse_tower(n)(x), reverse_tower(n - 1))


@pytest.mark.parametrize("x", POINTS)
@pytest.mark.parametrize("n", [4, 5])
def test_forward_tower(n, x):
    _check(n, x, forward_tower(n)(x), forward_tower(n - 1))


@pytest.mark.parametrize("x", POINTS)
def test_fourth_order_forward_over_reverse(x):
    assert jvp(reverse_tower(3), (x,), (1.0,))[1] == pytest.approx(
        reverse_tower(4)(x), rel=1e-12, abs=1e-12
    )
    _check(4, x, jvp(reverse_tower(3), (x,), (1.0,))[1], reverse_tower(3))


@pytest.mark.parametrize("x", POINTS)
def test_fifth_order_reverse_over_forward(x):
    # Five nested reverse transformations are refused (an alias through the
    # trace), so the fifth order mixes modes.
    _check(5, x, grad(forward_tower(4))(x), forward_tower(4))
    _check(5, x, grad(grad(forward_tower(3)))(x), forward_tower(4))


WEIGHTS = np.array([0.0, 1.0, -0.5, 2.0])


def scaled_sum(s):
    return np.sum(np.sinc(s * WEIGHTS))


@pytest.mark.parametrize("s", [0.0, 0.2])
def test_fourth_order_through_an_array_containing_zero(s):
    # d^n/ds^n sum_i sinc(s w_i) = sum_i w_i^n sinc^(n)(s w_i)
    got = grad(grad(grad(grad(scaled_sum))))(s)
    expected = sum(w**4 * by_quadrature(s * w, 4) for w in WEIGHTS)
    assert got == pytest.approx(expected, rel=1e-10)
