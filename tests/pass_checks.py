"""Checks shared by the tests of single optimisation passes.

A pass must never change a gradient (beyond what its module docstring
allows): :func:`checked_gradients` checks the generated code against central
finite differences, and :func:`compare_without` recomputes with the pass
switched off (see the ``pass_off`` fixture in ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import s2s_ad
from tests.fd import numerical_grad


def checked_gradients(
    func: Callable[..., Any], args: Sequence[Any], wrt: tuple[int, ...]
) -> tuple[Any, Any, tuple[Any, ...]]:
    """``(value_and_grad object, value, gradients)`` at ``args``, each
    gradient checked against central finite differences."""
    vg = s2s_ad.value_and_grad(func, wrt=wrt)
    value, grads = vg(*args)
    for k, g in zip(wrt, grads):
        np.testing.assert_allclose(
            g, numerical_grad(func, args, wrt=k), rtol=1e-6, atol=1e-8
        )
    return vg, value, grads


def compare_without(
    func: Callable[..., Any],
    args: Sequence[Any],
    wrt: tuple[int, ...],
    value: Any,
    grads: tuple[Any, ...],
    rtol: float = 0.0,
) -> str:
    """Recompute with the pass switched off and compare: the same value, and
    gradients of the same types and shapes, equal (within ``rtol``, for a
    pass allowed to reorder additions); the source made without the pass."""
    plain = s2s_ad.value_and_grad(func, wrt=wrt)
    plain_value, plain_grads = plain(*args)
    assert value == plain_value
    for g, p in zip(grads, plain_grads):
        assert type(g) is type(p) and np.shape(g) == np.shape(p)
        np.testing.assert_allclose(g, p, rtol=rtol, atol=0.0)
    return plain.source
