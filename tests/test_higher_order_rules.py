"""Second and third derivatives through einsum, the SVD matrix norms
(nuclear, 2, -2), diagflat, matrix_transpose and scipy.special.psi/polygamma.

Each once stopped at some order: einsum's second-derivative helpers had no
restatement (a third derivative raised MissingRuleError), the nuclear and
spectral norms raised NotImplementedError at second order, reverse over
reverse of diagflat and matrix_transpose lacked a transpose of
``rt.apply_adjoint``, and psi's derivative (polygamma) had no rule.  The
cases come from ``tests/rule_cases.py``; every derivative is checked against
central differences (float64) of the derivative one order below, which the
first-order tests there check in turn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import s2s_ad
from s2s_ad import grad, jvp
from s2s_ad import runtime as rt
from tests import rule_cases
from tests import test_runtime_rules as trr
from tests.fd import copy_tree, numerical_grad

EINSUM_LABELS = [
    "einsum 'ij,jk->ik'",
    "einsum 'ii->'",
    "einsum 'i,j->ij'",
    "einsum 'bij,bjk->bik'",
    "einsum 'ij,jk,kl->il'",
    "einsum of one operand twice",
    "einsum of one matrix twice",
    "einsum trace of a product",
]
NORM_LABELS = [
    f"matrix norm ord={ord}{where}"
    for ord in ("nuc", 2, -2)
    for where in ("", " axis=(2, 0)", " (3, 3)", " (4, 2)")
]
STRUCTURAL_LABELS = ["diagflat", "diagflat of a vector"]
if hasattr(np, "matrix_transpose"):
    STRUCTURAL_LABELS += ["matrix_transpose", "matrix_transpose of a matrix"]
SCIPY_LABELS = [
    f"scipy {name} {shape}"
    for name in ("psi", "psi times x", "polygamma")
    for shape in ("scalar", "vector", "matrix")
    if not (name == "psi" and shape == "vector")
]
LABELS = EINSUM_LABELS + NORM_LABELS + STRUCTURAL_LABELS + SCIPY_LABELS
# The other third-order mode orders on a selection (each takes a second).
MIXED_LABELS = [
    "einsum 'ij,jk->ik'",
    "einsum 'bij,bjk->bik'",
    "einsum 'ij,jk,kl->il'",
    "einsum of one matrix twice",
    "einsum trace of a product",
    "matrix norm ord=nuc (4, 2)",
    "matrix norm ord=2 (3, 3)",
    "matrix norm ord=-2 axis=(2, 0)",
    "diagflat of a vector",
    *STRUCTURAL_LABELS[2:3],
    "scipy psi times x vector",
    "scipy polygamma matrix",
]


def _case(label: str) -> Any:
    if label.startswith("scipy"):
        pytest.importorskip("scipy.special")
    found = [c for c in rule_cases.CHECKS if c.label == label]
    assert len(found) == 1, label
    return found[0]


def test_the_cases_exist():
    labels = {c.label for c in rule_cases.CHECKS}
    missing = [label for label in LABELS if label not in labels]
    if not any(label.startswith("scipy") for label in labels):
        missing = [label for label in missing if not label.startswith("scipy")]
    assert not missing


@pytest.mark.parametrize("label", LABELS)
def test_hessian_vector_products(label):
    """H w by reverse over reverse and forward over reverse."""
    trr.test_hessian_vector_products_through_helpers_from_source(_case(label))


@pytest.mark.parametrize("label", LABELS)
def test_second_derivatives_of_forward_mode(label):
    """Reverse over forward and forward over forward (jvp_function)."""
    trr.test_second_derivatives_of_forward_mode_through_helpers_from_source(
        _case(label)
    )


@pytest.mark.parametrize("label", LABELS)
def test_third_derivatives(label):
    """T[w, u, .] by reverse over reverse over reverse and by forward over
    reverse over reverse."""
    trr.test_third_derivatives_through_helpers_from_source(_case(label))


def _third_order_expected(case: Any):
    """(args, pos, w, u, <grad of <H w, u>>) by differences of reverse over
    reverse (itself checked against differences of the gradient)."""
    args, pos, w, u = trr._second_order_setup(case)
    hw = grad(grad(case.func, wrt=pos, seed=case.seed), wrt=pos, seed=w)
    expected = numerical_grad(
        lambda *xs: trr._tree_inner(hw(*xs), u), args, wrt=pos, rel_step=1e-5
    )
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    return args, pos, w, u, expected, {"rtol": 1e-4, "atol": 1e-5 * scale}


def _zeros_like_tree(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_zeros_like_tree(e) for e in x)
    return np.zeros_like(x) if isinstance(x, np.ndarray) else 0.0


@pytest.mark.parametrize("label", MIXED_LABELS)
def test_third_derivatives_reverse_over_forward_over_reverse(label):
    """grad of <H w, u> where H w comes from forward over reverse (the
    forward rules of the adjoint helpers: einsum_adjoint_jvp and the like)."""
    case = _case(label)
    args, pos, w, u, expected, tol = _third_order_expected(case)
    g = grad(case.func, wrt=pos, seed=case.seed)
    df = s2s_ad.jvp_function(g)
    tangents = trr._tangents_at(args, pos, w)
    value = g(*copy_tree(args))
    seed = (_zeros_like_tree(value), u)
    actual = grad(df, wrt=pos, seed=seed)(*copy_tree(args), *tangents)
    trr._assert_tree_allclose(actual, expected, **tol)


@pytest.mark.parametrize("label", MIXED_LABELS)
def test_third_derivatives_forward_over_forward_over_forward(label):
    """d/ds of the forward-over-forward second derivative along u, w at
    x + s v: the tangent helpers' second derivatives (einsum_tangent_pairs
    and the like) differentiated once more, in forward mode."""
    case = _case(label)
    if case.seed is not None:
        pytest.skip("scalar functions only")
    args, pos, w, u, expected, tol = _third_order_expected(case)
    rng = np.random.default_rng(5)
    v = tuple(trr._direction(args[p], rng) for p in pos)
    df = s2s_ad.jvp_function(case.func)
    ddf = s2s_ad.jvp_function(df)
    n = len(args)
    ws = trr._tangents_at(args, pos, w)
    us = trr._tangents_at(args, pos, u)
    zeros = trr._tangents_at(args, pos, tuple(np.zeros_like(x) for x in w))
    primals = (*copy_tree(args), *ws, *us, *zeros)
    dots = trr._tangents_at(args, pos, v) + [None] * (3 * n)
    _, (_, (_, third)) = jvp(ddf, primals, dots)
    np.testing.assert_allclose(
        float(third), trr._tree_inner(expected, v), rtol=tol["rtol"], atol=tol["atol"]
    )


@pytest.mark.parametrize("label", EINSUM_LABELS + NORM_LABELS)
def test_restated_helpers_compute_what_they_restate(label, monkeypatch):
    """Every call second-order code makes to einsum's and the norm's
    second-derivative helpers gives the same result through its definition
    (which third-order code differentiates)."""
    case = _case(label)
    names = ["einsum_adjoint_pairs", "einsum_tangent_pairs", "einsum_adjoint_jvp"]
    names += ["norm_adjoint_partial"]
    calls = trr.spy_on_helpers(monkeypatch, names)
    args, pos, w, _ = trr._second_order_setup(case)
    g = grad(case.func, wrt=pos, seed=case.seed)
    grad(g, wrt=pos, seed=w)(*copy_tree(args))
    jvp(g, copy_tree(args), trr._tangents_at(args, pos, w))
    df = s2s_ad.jvp_function(case.func)
    dots = trr._tangents_at(args, pos, w) + [None] * len(args)
    jvp(df, (*copy_tree(args), *trr._tangents_at(args, pos, w)), dots)
    assert calls
    for helper, a, out in calls:
        again = helper.__s2s_function__()(*a)
        trr._assert_tree_allclose(again, out, rtol=1e-10, atol=1e-12)


# == where the SVD norms have no second derivative: refused, not a number =====


def spectral(x):
    return np.linalg.norm(x, 2)


def smallest(x):
    return np.linalg.norm(x, -2)


def nuclear(x):
    return np.linalg.norm(x, "nuc")


_Q = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0]
DEGENERATE = [
    (spectral, np.eye(3), "largest singular value is repeated"),
    (spectral, _Q, "largest singular value is repeated"),
    (spectral, np.zeros((2, 3)), "largest singular value is zero"),
    (smallest, np.diag([3.0, 1.0, 1.0]), "smallest singular value is repeated"),
    (smallest, np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 1.0]), "is zero"),
    (nuclear, np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 1.0]), "rank-deficient"),
    (nuclear, np.zeros((3, 2)), "rank-deficient"),
]


@pytest.mark.parametrize("f, x, message", DEGENERATE)
def test_svd_norms_refuse_where_there_is_no_second_derivative(f, x, message):
    w = np.random.default_rng(4).standard_normal(x.shape)
    g = grad(f)
    with pytest.raises(ValueError, match=message):
        grad(g, seed=w)(x)
    with pytest.raises(ValueError, match=message):
        jvp(g, (x,), (w,))
    with pytest.raises(ValueError, match=message):
        s2s_ad.hessian(f)(x)


# Second derivatives exist here (the nuclear norm is smooth at full rank, tied
# or not; the spectral norm needs only its largest singular value simple), but
# the third goes through the SVD's derivative, which needs them all distinct.
SECOND_BUT_NOT_THIRD = [
    (nuclear, np.eye(3)),
    (nuclear, _Q),
    (nuclear, np.diag([3.0, 1.0, 1.0])),
    (spectral, np.diag([3.0, 1.0, 1.0])),
    (spectral, np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 1.0])),
]


@pytest.mark.parametrize("f, x", SECOND_BUT_NOT_THIRD)
def test_svd_norms_at_tied_singular_values(f, x):
    w = np.random.default_rng(6).standard_normal(x.shape)
    g = grad(f)
    expected = numerical_grad(lambda y: float(np.sum(g(y) * w)), [x], rel_step=1e-6)
    np.testing.assert_allclose(grad(g, seed=w)(x), expected, atol=1e-6)
    np.testing.assert_allclose(jvp(g, (x,), (w,))[1], expected, atol=1e-6)
    with pytest.raises(ValueError, match="needs distinct"):
        grad(grad(g, seed=w), seed=w)(x)


# == psi and polygamma against SciPy's own values ==============================


try:
    from scipy import special
except ImportError:  # SciPy is optional: the tests that need it skip
    special = None


def psi_sum(x):
    return np.sum(special.psi(x))


def test_derivatives_of_psi_are_polygamma():
    pytest.importorskip("scipy.special")
    x = np.array([0.6, 1.7, 3.2])
    first = grad(psi_sum)
    second = grad(first, seed=np.ones(3))
    third = grad(second, seed=np.ones(3))
    np.testing.assert_allclose(first(x), special.polygamma(1, x), rtol=1e-12)
    np.testing.assert_allclose(second(x), special.polygamma(2, x), rtol=1e-12)
    np.testing.assert_allclose(third(x), special.polygamma(3, x), rtol=1e-12)
    np.testing.assert_allclose(
        s2s_ad.hessian(psi_sum)(x), np.diag(special.polygamma(2, x)), rtol=1e-12
    )


# == the transposes reverse over reverse uses ====================================


def _apply_adjoint_pair(fn, ans, args):
    g_shape = np.shape(fn(np.zeros(np.shape(ans)), *args))
    rng = np.random.default_rng(8)
    g, v = rng.standard_normal(np.shape(ans)), rng.standard_normal(g_shape)
    lhs = float(np.sum(rt.apply_adjoint(fn, g, ans, *args) * v))
    rhs = float(np.sum(g * rt.apply_adjoint_transpose(fn, v, g, ans, args)))
    return lhs, rhs


@pytest.mark.parametrize(
    "ans, args",
    [(np.diagflat(np.arange(3.0)), (0,)), (np.diagflat(np.arange(3.0), 1), (1,))]
    + [(np.diagflat(np.arange(3.0), -2), (-2,))],
)
def test_transpose_of_the_diagonal_adjoint(ans, args):
    lhs, rhs = _apply_adjoint_pair(np.diagonal, ans, args)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    assert rt.is_zero(rt.apply_adjoint_transpose(np.diagonal, 0.0, 1.0, ans, args))


@pytest.mark.skipif(not hasattr(np, "matrix_transpose"), reason="NumPy < 2")
def test_transpose_of_the_matrix_transpose_adjoint():
    lhs, rhs = _apply_adjoint_pair(np.matrix_transpose, np.ones((2, 3, 4)), ())
    assert lhs == pytest.approx(rhs, rel=1e-12)


# == compiler fixes the tests above needed ======================================


def cubic(x):
    return np.sum(x * x * x)


def test_jvp_function_of_a_jvp_function():
    """Its tangent parameters do not collide with the inner one's."""
    ddf = s2s_ad.jvp_function(s2s_ad.jvp_function(cubic))
    x, t, xd = np.array([0.5, 2.0]), np.array([1.0, -1.0]), np.array([0.3, 0.7])
    (_, _), (_, second) = ddf(x, t, xd, np.zeros(2))
    np.testing.assert_allclose(second, np.sum(6.0 * x * t * xd))


def test_gradient_code_survives_tangent_code_of_the_same_function():
    """Each generated text has its own linecache entry: differentiating the
    gradient code again after tangent code of the same function was made
    still finds its source (once: SourceUnavailableError, 'grad_cubic'
    could not be isolated in the tangent code's text)."""
    x, w = np.array([0.5, 2.0]), np.ones(2)
    g = grad(cubic)
    grad(g, seed=w)(x)
    df = s2s_ad.jvp_function(cubic)
    grad(df, wrt=0, seed=(0.0, 1.0))(x, w)
    jvp(df, (x, w), (w, None))
    np.testing.assert_allclose(grad(grad(grad(cubic), seed=w), seed=w)(x), 6.0 * w)


@pytest.mark.parametrize("f", [spectral, smallest, nuclear])
def test_full_hessians_of_the_svd_norms(f):
    """s2s_ad.hessian (forward over reverse, column by column) against
    differences of the gradient, and symmetric."""
    x = np.random.default_rng(9).standard_normal((3, 2))
    g = grad(f)
    h = s2s_ad.hessian(f)(x)
    assert h.shape == (3, 2, 3, 2)
    step = 1e-6
    for i in np.ndindex(3, 2):
        e = np.zeros((3, 2))
        e[i] = step
        column = (g(x + e) - g(x - e)) / (2 * step)
        np.testing.assert_allclose(h[..., i[0], i[1]], column, atol=1e-7)
    flat = h.reshape(6, 6)
    np.testing.assert_allclose(flat, flat.T, atol=1e-12)
