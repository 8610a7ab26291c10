"""NumPy ufuncs given constant lists: the list is an array to the ufunc, and
to its derivative rules (``1.0 / b`` or ``p - 1`` are undefined on lists)."""

from __future__ import annotations

import numpy as np
import pytest

from s2s_ad import grad, jvp
from tests.fd import assert_grad_close, numerical_grad


def divide_by_list(x):
    return np.sum(np.divide(x, [1.0, 2.0]))


def list_divided(x):
    return np.sum(np.divide([1.0, 2.0], x) * np.maximum(x, [1.0, 0.5]))


def power_of_list(x):
    return np.sum(np.power(x, [2.0, 3.0]) + np.power([2.0, 3.0], x))


def arctan2_list(x):
    return np.sum(np.arctan2(x, (1.0, 2.0)) * np.log(np.add(x, [1.0, 2.0])))


def hypot_and_subtract(x):
    return np.sum(np.hypot([1.0, 2.0], x) + np.subtract([1.0, 2.0], x) * x)


PROGRAMS = [divide_by_list, list_divided, power_of_list, arctan2_list]
PROGRAMS.append(hypot_and_subtract)


@pytest.mark.parametrize("func", PROGRAMS, ids=lambda f: f.__name__)
def test_both_modes_match_finite_differences(func):
    x = np.array([0.7, 1.3])
    expected = numerical_grad(func, (x,))
    assert_grad_close(grad(func)(x), expected)
    direction = np.array([0.3, -1.1])
    _, derivative = jvp(func, (x,), (direction,))
    assert derivative == pytest.approx(float(expected @ direction), rel=1e-6)
