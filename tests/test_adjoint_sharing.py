"""Array adjoints may share one array when nothing updates them in place.

Starting an adjoint as another one (``z_bar = u_bar`` instead of a copy)
saves a pass over memory, but is only sound while neither is updated in
place.  These programs put a shared adjoint next to each in-place update
generated code makes (an indexed read, an indexed write, a callee's reverse
sweep) and check the gradients against central differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from s2s_ad import gradient_source, value_and_grad
from tests.fd import assert_grad_close, numerical_grad


def shared_then_indexed_read(x):
    y = x * 2.0
    z = y + y  # both operands' adjoints start as z's adjoint
    w = z[1:]  # reverse: z's adjoint is updated in place at [1:]
    return np.sum(w * w) + np.sum(y * z)


def shared_then_indexed_write(x):
    y = x * 3.0
    z = y - 1.0
    z[0] = 5.0  # reverse: z's adjoint entry 0 is zeroed in place
    return np.sum(z * y) + np.sum(np.sin(y))


def _scaled_with_first_cleared(v):
    w = v * 1.5
    w[0] = 0.0  # reverse: the adjoint of the result is updated in place
    return w


def shared_into_callee(x):
    y = np.cos(x)
    z = y + y
    w = _scaled_with_first_cleared(z)
    return np.sum(w * y) + np.sum(z * z)


def shared_in_loop(x):
    acc = x * 0.0
    for i in range(3):
        y = x * (i + 1.0)
        acc = acc + y
        acc = acc + acc[::-1] * 0.5
    return np.sum(acc * acc)


PROGRAMS = [
    shared_then_indexed_read,
    shared_then_indexed_write,
    shared_into_callee,
    shared_in_loop,
]


@pytest.mark.parametrize("func", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=["vector", "matrix"])
def test_gradient_matches_finite_differences(func, shape, rng):
    x = rng.normal(size=shape)
    before = x.copy()
    value, grad = value_and_grad(func)(x)
    assert value == pytest.approx(func(x.copy()))
    assert_grad_close(grad, numerical_grad(func, (x.copy(),), 0))
    np.testing.assert_array_equal(x, before)


def test_a_shared_adjoint_is_generated_where_nothing_writes_in_place(rng):
    # The point of the rule: here the adjoint of y + y is used as is.
    def f(x):
        y = np.exp(x)
        z = y + y
        return np.sum(z)

    source = gradient_source(f, args=(rng.normal(size=3),))
    assert "u1_bar = 0.0" not in source and " + rt.unbroadcast(" not in source
