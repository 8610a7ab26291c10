"""The derivative rule tables in reverse mode, checked through ``s2s_ad.grad``.

Every entry of the shared case table (``tests/rule_cases.py``) compares
``grad`` with central finite differences in float64 (``tests/fd.py``) and
checks the gradient's structure; ``test_every_registered_rule_is_checked``
fails when a rule is registered without an entry.  Kinks and singular points
(ties of max/min, zeros of abs and sqrt, powers at zero) have exact tests at
the end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from s2s_ad import grad, value_and_grad
from s2s_ad.rules import registry
from tests.fd import (
    assert_grad_close,
    assert_same_structure,
    assert_tree_equal,
    copy_tree,
    numerical_grad,
    resolve_wrt,
)
from tests.rule_cases import (
    CHECKS,
    Check,
    covered_keys,
    is_library_target,
    normal,
    np_exp,
    np_sin,
    op_matmul,
    reduction_sum,
    rule_key,
)

# == running the checks ==========================================================


@pytest.mark.parametrize("case", CHECKS, ids=[c.label for c in CHECKS])
def test_rule_matches_finite_differences(case: Check):
    before = copy_tree(case.args)
    actual = grad(case.func, wrt=case.wrt, seed=case.seed)(*case.args)
    assert_tree_equal(case.args, before)
    expected = numerical_grad(case.func, case.args, wrt=case.wrt, seed=case.seed)
    assert_grad_close(actual, expected, rtol=case.rtol, atol=case.atol)
    values = resolve_wrt(case.func, case.args, wrt=case.wrt)
    assert_same_structure(actual, values if isinstance(case.wrt, tuple) else values[0])


def test_every_registered_rule_is_checked():
    covered = covered_keys()
    missing = [
        rule.label
        for rule in registry.registered()
        if (rule.target is None or is_library_target(rule.target))
        and rule_key(rule) not in covered
    ]
    assert not missing, f"rules without a check in tests/rule_cases.py: {missing}"


def test_every_check_names_a_registered_rule():
    registered = {rule_key(rule) for rule in registry.registered()}
    unknown = [
        (case.label, target)
        for case in CHECKS
        for target in case.covers
        if (target if isinstance(target, str) else id(target)) not in registered
    ]
    assert not unknown


def test_rule_templates_parse():
    for rule in registry.registered():
        if rule.nondifferentiable:
            assert rule.reverse is None
        else:
            assert rule.reverse is not None, rule.label


# == exact values at kinks and singular points ===================================


def max_of(x):
    return np.max(x)


def min_method_of(x):
    return x.min()


def maximum_of(x, y):
    return np.sum(np.maximum(x, y))


def minimum_of(x, y):
    return np.sum(np.minimum(x, y))


def builtin_max_of(x, y):
    return max(x, y)


def builtin_max_list(x, y, z):
    return max([x, y, z])


def test_reduction_ties_split_equally():
    x = np.array([1.0, 3.0, 3.0, -2.0])
    np.testing.assert_array_equal(grad(max_of)(x), [0.0, 0.5, 0.5, 0.0])
    y = np.array([[1.0, -2.0], [-2.0, 5.0]])
    np.testing.assert_array_equal(grad(min_method_of)(y), [[0.0, 0.5], [0.5, 0.0]])


def test_elementwise_ties_split_equally():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 3.0])
    gx, gy = grad(maximum_of, wrt=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 0.5])
    gx, gy = grad(minimum_of, wrt=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.5])


def test_builtin_max_ties_split_equally():
    assert grad(builtin_max_of, wrt=(0, 1))(2.0, 2.0) == (0.5, 0.5)
    assert grad(builtin_max_list, wrt=(0, 1, 2))(2.0, 1.0, 2.0) == (0.5, 0.0, 0.5)


def power_zero(x):
    return np.sum(x**0)


def power_one(x):
    return np.sum(x**1)


def power_square(x):
    return np.sum(x**2)


def power_of_zero(x, y):
    return x**y


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def math_sqrt(x):
    return math.sqrt(x)


def abs_sum(x):
    return np.sum(np.abs(x))


def test_power_at_zero_is_exact():
    x = np.array([0.0, 2.0])
    np.testing.assert_array_equal(grad(power_zero)(x), [0.0, 0.0])
    np.testing.assert_array_equal(grad(power_one)(x), [1.0, 1.0])
    np.testing.assert_array_equal(grad(power_square)(x), [0.0, 4.0])
    assert grad(power_zero)(0.0) == 0.0
    # d/dy 0**y = 0 for y > 0 (not 0 * log 0 = nan)
    assert grad(power_of_zero, wrt=1)(0.0, 2.0) == 0.0
    assert grad(power_of_zero, wrt=0)(0, 0) == 0.0  # ints: no ZeroDivisionError


def test_singular_derivatives_are_infinite_not_errors():
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(
            grad(sqrt_sum)(np.array([0.0, 1.0])), [np.inf, 0.5]
        )
    assert grad(math_sqrt)(0.0) == math.inf
    assert grad(abs_sum)(np.array([0.0, -2.0, 3.0])).tolist() == [0.0, -1.0, 1.0]


def test_float32_arguments_get_float32_gradients():
    x = normal(2, 3).astype(np.float32)
    for func in (np_sin, reduction_sum(1, False), np_exp):
        g = grad(func)(x)
        assert g.dtype == np.float32
    _, g = value_and_grad(op_matmul, wrt=(0, 1))(x, normal(3, 4).astype(np.float32))
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32
