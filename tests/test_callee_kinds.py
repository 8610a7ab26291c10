"""Kinds across calls of user functions, in specialised reverse-mode code.

A call of a helper function used to make its result, and everything the
caller computed from it, of unknown kind: one helper in a scalar loop made
the whole gradient general code (helpers called per operation, some fifty
times slower).  Now the kinds of the arguments at each call flow into the
callee, whose code is specialised to them, and the kind of its result flows
back.

Every case is checked against central finite differences and against the
code made without the kinds crossing calls (same values; same gradients up
to rounding, as specialised rules may group products differently).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import s2s_ad
from benchmarks.workloads.scalar_loop import (
    acceleration,
    oscillator,
    oscillator_with_helper,
)
from s2s_ad import astutil as A
from s2s_ad import kinds, source
from s2s_ad import program as program_module
from s2s_ad.analysis import analyze
from s2s_ad.errors import TransformError
from s2s_ad.naming import Namer
from s2s_ad.normalize import normalize
from tests.pass_checks import checked_gradients, compare_without


def scaled(x, s):
    return np.sin(x) * s + s * s


def twice_with_other_kinds(x, s):
    # The same helper on an array and on a number: two versions of it.
    return np.sum(scaled(x, s)) + scaled(s, 2.0) * s


def inner(u, w=3.0, *, power=2):
    return u**power * w


def outer(u, t):
    return inner(u, power=3) + inner(t * u, w=t)


def nested(x, y):
    return np.sum(outer(x, y) * x) + outer(y, 0.5)


def growing(x, s):
    # acc is a number at the first call and an array from the second: the
    # helper must be made for both (the joined kind), not the first one.
    acc = 0.0
    for i in range(3):
        t = scaled(acc, s)
        acc = acc + x * t
    return np.sum(acc)


def rec_power(x, n):
    if n == 0:
        return 1.0
    return x * rec_power(x, n - 1)


def recursive(x, y):
    return rec_power(x, 3) * y + math.exp(y)


def polar_pair(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


def tuple_result(r, theta):
    a, b = polar_pair(r, theta)
    return np.sum(a * b) + np.sum(a)


CASES = [
    (oscillator_with_helper, (4.0, 0.3, 1.0, 0.2, 0.01, 40), (0, 1, 2, 3)),
    (twice_with_other_kinds, (np.linspace(0.1, 1.0, 4), 0.7), (0, 1)),
    (nested, (np.linspace(-1.0, 1.0, 3), 0.8), (0, 1)),
    (recursive, (1.3, 0.4), (0, 1)),
    (growing, (np.array([0.3, -0.2, 0.5]), 0.9), (0, 1)),
    (tuple_result, (np.array([0.5, 1.5, 2.0]), np.array([0.2, 0.4, 1.0])), (0, 1)),
    (tuple_result, (1.5, np.array([[0.2], [0.4]])), (0, 1)),
]


def _ids(case) -> str:
    func, args, _ = case
    return func.__name__ + "-" + "-".join(type(a).__name__ for a in args)


def without_callee_kinds(pass_off) -> None:
    def plain(src, nf, wrt, kinds=None, callee_kind=None):
        return analyze(src, nf, wrt, kinds)

    pass_off(program_module, "analyze", plain)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradients_match_finite_differences_and_the_general_calls(case, pass_off):
    func, args, wrt = case
    _, value, grads = checked_gradients(func, args, wrt)
    without_callee_kinds(pass_off)
    compare_without(func, args, wrt, value, grads, rtol=1e-13)


def test_a_helper_in_a_scalar_loop_gets_plain_float_code():
    args = (4.0, 0.3, 1.0, 0.2, 0.01, 40)
    source = s2s_ad.gradient_source(oscillator_with_helper, (0, 1), args=args)
    # The caller's loop and the helper's adjoint are plain arithmetic.
    assert "rt.mul_adjoint" not in source and "rt.acc(" not in source
    assert "def rev_acceleration(saved, u4_bar):" in source
    # It hands its reverse code the saved values themselves, no trace list.
    assert "    return u4, (c, u1, v, x)\n" in source
    assert "    c, u1, v, x = saved\n" in source
    assert "    c_bar = u3_bar * v\n" in source
    # ... and give what the same loop written without the helper gives.
    inline = s2s_ad.value_and_grad(oscillator, wrt=(0, 1))(*args)
    helped = s2s_ad.value_and_grad(oscillator_with_helper, wrt=(0, 1))(*args)
    assert helped == inline


def test_one_helper_called_with_two_kinds_gets_two_versions():
    args = (np.linspace(0.1, 1.0, 4), 0.7)
    source = s2s_ad.gradient_source(twice_with_other_kinds, (0, 1), args=args)
    assert "def fwd_scaled(x, s):" in source
    assert "def fwd_scaled_2(x, s):" in source
    assert "def rev_scaled_2(saved, " in source


def test_the_general_code_keeps_general_callees():
    # Without the arguments' kinds, nothing is known at a call either.
    source = s2s_ad.gradient_source(oscillator_with_helper, (0, 1))
    assert "rt.mul_adjoint" in source
    assert "fwd_acceleration_2" not in source


def test_a_bad_call_is_still_reported_at_its_line():
    def bad(x):
        return acceleration(x, 1.0)  # two arguments missing

    with pytest.raises(TransformError, match="bad call to acceleration") as info:
        s2s_ad.grad(bad)(0.5)
    assert "test_callee_kinds.py" in str(info.value)
    assert "return acceleration(x, 1.0)" in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_sweeps_that_skip_statements_record_the_final_call_kinds(case):
    # kinds.infer skips a statement whose names did not change: the argument
    # kinds it recorded for a call must still be those of full sweeps.
    func, args, _ = case
    src = source.load(func)
    nf = normalize(src, Namer(A.all_names(src.node)))
    params = list(inspect.signature(func).parameters)
    given = {p: kinds.of_value(a) for p, a in zip(params, args)}

    def callee_kind(obj, param_kinds):
        numbers = set(param_kinds.values()) <= {kinds.SCALAR}
        return kinds.SCALAR if numbers else kinds.UNKNOWN

    results = []
    for skip in (True, False):
        sites: dict[int, dict[str, str]] = {}
        found = kinds.infer(src, nf, given, callee_kind, sites, skip_unchanged=skip)
        results.append((found, sites))
    assert results[0] == results[1]
    assert results[0][1], "no call was recorded"
