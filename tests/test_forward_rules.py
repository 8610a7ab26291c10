"""The derivative rule tables in forward mode, checked through ``s2s_ad.jvp``.

Every entry of the shared case table (``tests/rule_cases.py``, the cases the
reverse rules are checked on) is run through ``jvp`` along a random
direction ẋ of its differentiated arguments, and

* the tangent is compared with central finite differences along ẋ;
* the dot-product identity ⟨ȳ, J·ẋ⟩ = ⟨Jᵀ·ȳ, ẋ⟩ is checked between ``jvp``
  and ``grad`` (ȳ is the case's seed, or 1 for a scalar result), so forward
  and reverse rules are exact transposes of each other, kinks included;
* symbolic-zero tangents (``0.0`` for an array) flow through every rule and
  give a zero tangent.

``test_every_rule_has_a_forward_rule`` fails when a differentiable rule has
no forward rule (a ``linear`` declaration, a forward template, or an
``elementwise`` registration).  Exact tests at kinks mirror those of the
reverse rules.
"""

from __future__ import annotations

import inspect
import math
import zlib
from typing import Any

import numpy as np
import pytest

from s2s_ad import grad, jvp
from s2s_ad.rules import registry
from tests.fd import assert_grad_close, assert_tree_equal, copy_tree, to_float64
from tests.rule_cases import CHECKS, Check

STEP = 1e-6


# -- trees ----------------------------------------------------------------------


def _direction(x: Any, rng: np.random.Generator) -> Any:
    """A random tangent with the structure, shapes and dtypes of ``x``."""
    if isinstance(x, dict):
        return {k: _direction(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_direction(v, rng) for v in x]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape).astype(x.dtype)
    if isinstance(x, np.floating):
        return type(x)(rng.standard_normal())
    return float(rng.standard_normal())


def _axpy(x: Any, h: float, v: Any) -> Any:
    """``x + h * v`` leaf by leaf (``v`` None leaves ``x`` alone)."""
    if v is None:
        return copy_tree(x)
    if isinstance(x, dict):
        return {k: _axpy(x[k], h, v[k]) for k in x}
    if isinstance(x, (list, tuple)):
        items = [_axpy(a, h, b) for a, b in zip(x, v)]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, np.ndarray):
        return x + h * v
    return type(x)(x + h * v) if isinstance(x, np.floating) else x + h * v


def _difference(plus: Any, minus: Any, h: float) -> Any:
    """``(plus - minus) / 2h`` leaf by leaf, in float64."""
    if isinstance(plus, dict):
        return {k: _difference(plus[k], minus[k], h) for k in plus}
    if isinstance(plus, (list, tuple)):
        items = [_difference(a, b, h) for a, b in zip(plus, minus)]
        return tuple(items) if isinstance(plus, tuple) else items
    diff = (
        np.asarray(plus, dtype=np.float64) - np.asarray(minus, dtype=np.float64)
    ) / (2 * h)
    return diff if isinstance(plus, np.ndarray) else float(diff)


def _inner(a: Any, b: Any) -> float:
    """⟨a, b⟩ summed over matching leaves (a Python 0.0 is a zero leaf)."""
    if isinstance(a, dict):
        return sum(_inner(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return sum(_inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, np.float64)))


def _is_zero_tree(x: Any) -> bool:
    if isinstance(x, dict):
        return all(_is_zero_tree(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_is_zero_tree(v) for v in x)
    return not np.any(np.asarray(x))


def _scale(x: Any) -> float:
    """The largest magnitude among the leaves of ``x``."""
    if isinstance(x, dict):
        return max([_scale(v) for v in x.values()], default=0.0)
    if isinstance(x, (list, tuple)):
        return max([_scale(v) for v in x], default=0.0)
    return float(np.max(np.abs(x), initial=0.0))


# -- cases ----------------------------------------------------------------------


def _positions(case: Check) -> tuple[int, ...]:
    targets = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    names = list(inspect.signature(case.func).parameters)
    return tuple(t if isinstance(t, int) else names.index(t) for t in targets)


def _setup(case: Check) -> tuple[list[Any], list[Any]]:
    """The case's arguments in float64, and a random direction for each
    differentiated argument (None for the others)."""
    rng = np.random.default_rng(zlib.crc32(case.label.encode()))
    args = [to_float64(a) for a in case.args]
    tangents: list[Any] = [None] * len(args)
    for pos in _positions(case):
        tangents[pos] = _direction(args[pos], rng)
    return args, tangents


def _along(case: Check, args: list[Any], tangents: list[Any], h: float) -> Any:
    moved = [_axpy(a, h, v) for a, v in zip(args, tangents)]
    return case.func(*moved)


CASES = [pytest.param(case, id=case.label) for case in CHECKS]


@pytest.mark.parametrize("case", CASES)
def test_jvp_matches_finite_differences(case: Check):
    args, tangents = _setup(case)
    before = copy_tree(args)
    value, tangent = jvp(case.func, args, tangents)
    assert_tree_equal(args, before)
    expected_value = case.func(*copy_tree(args))
    assert_grad_close(value, expected_value, rtol=1e-12, atol=1e-14, path="value")
    h = STEP * max(1.0, max(_scale(args[p]) for p in _positions(case)))
    expected = _difference(
        _along(case, args, tangents, h), _along(case, args, tangents, -h), h
    )
    assert_grad_close(
        tangent, expected, rtol=case.rtol, atol=max(case.atol, 1e-6), path="tangent"
    )


@pytest.mark.parametrize("case", CASES)
def test_jvp_is_the_transpose_of_grad(case: Check):
    args, tangents = _setup(case)
    _, tangent = jvp(case.func, args, tangents)
    gradient = grad(case.func, wrt=case.wrt, seed=case.seed)(*args)
    grads = gradient if isinstance(case.wrt, tuple) else (gradient,)
    ybar = 1.0 if case.seed is None else case.seed
    if callable(ybar):
        ybar = ybar(case.func(*copy_tree(args)))
    forward = _inner(ybar, tangent)
    reverse = sum(_inner(g, tangents[p]) for g, p in zip(grads, _positions(case)))
    scale = max(1.0, abs(forward), abs(reverse))
    assert abs(forward - reverse) <= 1e-9 * scale, (forward, reverse)


@pytest.mark.parametrize("case", CASES)
def test_symbolic_zero_tangents_flow_through(case: Check):
    args, tangents = _setup(case)
    zeros = [None if t is None else 0.0 for t in tangents]
    _value, tangent = jvp(case.func, args, zeros)
    assert _is_zero_tree(tangent), tangent


def test_every_rule_has_a_forward_rule():
    missing = [
        rule.label
        for rule in registry.registered()
        if not rule.nondifferentiable
        and rule.linear is None
        and rule.forward_source is None
    ]
    assert not missing, f"differentiable rules without a forward rule: {missing}"


def test_forward_templates_parse():
    for rule in registry.registered():
        if rule.forward_source is not None and not rule.nondifferentiable:
            assert rule.forward is not None, rule.label


# == exact values at kinks and singular points ===================================


def max_of(x):
    return np.max(x)


def min_method_of(x):
    return x.min()


def maximum_of(x, y):
    return np.sum(np.maximum(x, y))


def builtin_max_of(x, y):
    return max(x, y)


def builtin_max_list(x, y, z):
    return max([x, y, z])


def clip_of(x):
    return np.sum(np.clip(x, -1.0, 1.0))


def abs_sum(x):
    return np.sum(np.abs(x))


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def power_zero(x):
    return np.sum(x**0)


def power_of_zero(x, y):
    return x**y


def math_sqrt(x):
    return math.sqrt(x)


def test_reduction_ties_share_the_tangent():
    x = np.array([1.0, 3.0, 3.0, -2.0])
    _, t = jvp(max_of, (x,), (np.array([5.0, 1.0, 2.0, 7.0]),))
    assert t == 1.5  # the average of the tied entries' tangents
    y = np.array([[1.0, -2.0], [-2.0, 5.0]])
    _, t = jvp(min_method_of, (y,), (np.array([[0.0, 1.0], [3.0, 0.0]]),))
    assert t == 2.0


def test_elementwise_ties_share_the_tangent():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 3.0])
    _, t = jvp(maximum_of, (x, y), (np.ones(3), np.zeros(3)))
    assert t == 0.5 + 1.0 + 0.5


def test_builtin_max_ties_share_the_tangent():
    assert jvp(builtin_max_of, (2.0, 2.0), (1.0, 3.0))[1] == 2.0
    assert jvp(builtin_max_list, (2.0, 1.0, 2.0), (1.0, 5.0, 2.0))[1] == 1.5


def test_clip_bounds_belong_to_the_argument():
    x = np.array([-1.0, 0.5, 1.0, 2.0])
    _, t = jvp(clip_of, (x,), (np.ones(4),))
    assert t == 3.0


def test_singular_tangents_are_exact():
    assert jvp(abs_sum, (np.array([0.0, -2.0, 3.0]),), (np.ones(3),))[1] == 0.0
    with np.errstate(divide="ignore"):
        assert jvp(sqrt_sum, (np.array([0.0, 1.0]),), (np.array([1.0, 0.0]),))[1] == (
            np.inf
        )
    assert jvp(math_sqrt, (0.0,), (1.0,))[1] == math.inf
    assert jvp(power_zero, (np.array([0.0, 2.0]),), (np.ones(2),))[1] == 0.0
    assert jvp(power_of_zero, (0.0, 2.0), (None, 1.0))[1] == 0.0


def np_sin(x):
    return np.sin(x)


def matmul_of(a, b):
    return a @ b


def test_float32_tangents_stay_float32():
    x = np.ones((2, 3), np.float32)
    _, t = jvp(np_sin, (x,), (np.ones((2, 3), np.float32),))
    assert t.dtype == np.float32
    b = np.ones((3, 2), np.float32)
    _, t = jvp(matmul_of, (x, b), (x, None))
    assert t.dtype == np.float32
