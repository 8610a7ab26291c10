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
    calls: list[tuple[Any, tuple[Any, ...], Any]] = []
    for name in names:
        helper = getattr(rt, name)

        def spy(*a: Any, _helper: Any = helper) -> Any:
            out = _helper(*a)
            calls.append((_helper, copy_tree(a), copy_tree(out)))
            return out

        spy.__s2s_function__ = helper.__s2s_function__  # type: ignore[attr-defined]
        monkeypatch.setattr(rt, name, spy)
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
