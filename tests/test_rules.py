"""The derivative rule tables, checked through ``s2s_ad.grad``.

Every rule registered by ``s2s_ad/rules/{builtin,math,numpy}_rules.py`` is
exercised by at least one entry of :data:`CHECKS` (a small function that
calls it), and ``test_every_registered_rule_is_checked`` fails when a rule
is added without one.  Each check compares ``grad`` with central finite
differences in float64 (``tests/fd.py``) and checks the gradient's
structure, over scalar, vector, matrix and broadcasting arguments and, for
reductions, several ``axis``/``keepdims`` values.  Arguments are drawn away
from kinks (ties of max/min, bounds of clip, zeros of abs), which have their
own exact tests at the end.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

RNG = np.random.default_rng(7)


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def unit(*shape: int) -> np.ndarray:
    return RNG.uniform(-0.8, 0.8, shape)


def distinct(*shape: int) -> np.ndarray:
    """Entries at least 0.1 apart (so max/min/argsort have no near-ties)."""
    n = int(np.prod(shape))
    values = (np.arange(n) - n / 2) * 0.37 + RNG.uniform(-0.05, 0.05, n)
    return RNG.permutation(values).reshape(shape)


NUMPY_2_1 = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)

# Shapes reused by many checks.
M = normal(2, 3)
V = normal(3)
COL = normal(2, 1)
ROW = normal(1, 3)
T = distinct(2, 3, 4)
BROADCAST_PAIRS = [
    (normal(2, 3), normal(3)),
    (normal(2, 1), normal(1, 3)),
    (0.7, normal(2, 3)),
    (normal(2, 3), -0.4),
    (0.3, 1.1),
]


@dataclass(frozen=True)
class Check:
    """``grad(func, wrt, seed)(*args)`` must match finite differences.

    ``covers`` names the rules the function exercises: callables, or
    ``"method:name"`` / ``"attribute:name"`` for array methods/attributes.
    """

    label: str
    covers: tuple[Any, ...]
    func: Callable[..., Any]
    args: tuple[Any, ...]
    wrt: Any = 0
    seed: Any = None
    rtol: float = 1e-5
    atol: float = 1e-7


CHECKS: list[Check] = []


def check(
    label: str, covers: Any, func: Callable[..., Any], *args: Any, **options: Any
) -> None:
    covers = covers if isinstance(covers, tuple) else (covers,)
    CHECKS.append(Check(label, covers, func, args, **options))


def sweep(label, covers, func, arg_sets, **options) -> None:
    for i, args in enumerate(arg_sets):
        check(f"{label}[{i}]", covers, func, *args, **options)


# == operators ===================================================================


def op_add(x, y):
    return np.sum(np.sin(x + y))


def op_add_lists(x, y):
    items = [x] + [y, x]
    return items[0] * items[1] * items[2]


def op_add_tuples(x, y):
    items = (x, 2.0) + (y,)
    return items[0] * items[2] + items[1]


def op_sub(x, y):
    return np.sum(np.sin(x - y))


def op_mul(x, y):
    return np.sum(np.sin(x * y))


def op_mul_lists(x, y):
    items = [x, y] * 2
    return items[0] * items[3] + items[2] * items[2]


def op_truediv(x, y):
    return np.sum(np.sin(x / y))


def op_pow_int(x):
    return np.sum(x**3)


def op_pow_float(x):
    return np.sum(x**2.5)


def op_pow_both(x, y):
    return np.sum(x**y)


def op_pow_base(x):
    return np.sum(2.0**x)


def op_mod(x, y):
    return np.sum(np.sin(x % y))


def op_floordiv(x):
    return np.sum(x * (x // 0.7))


def op_matmul(a, b):
    return np.sum(np.sin(a @ b))


def op_neg(x):
    return np.sum(np.sin(-x))


def op_pos(x):
    return np.sum(np.sin(+x))


sweep("add", operator.add, op_add, BROADCAST_PAIRS, wrt=(0, 1))
check("add lists", operator.add, op_add_lists, 0.3, 0.7, wrt=(0, 1))
check("add tuples", operator.add, op_add_tuples, 0.3, 0.7, wrt=(0, 1))
sweep("sub", operator.sub, op_sub, BROADCAST_PAIRS, wrt=(0, 1))
sweep("mul", operator.mul, op_mul, BROADCAST_PAIRS, wrt=(0, 1))
check("mul lists", operator.mul, op_mul_lists, 0.3, 0.7, wrt=(0, 1))
sweep(
    "truediv",
    operator.truediv,
    op_truediv,
    [
        (M, positive(3)),
        (COL, positive(1, 3)),
        (0.7, positive(2, 3)),
        (M, 1.3),
        (0.3, 1.1),
    ],
    wrt=(0, 1),
)
check("pow int", operator.pow, op_pow_int, normal(2, 3))
check("pow int scalar", operator.pow, op_pow_int, -0.6)
check("pow float", operator.pow, op_pow_float, positive(2, 3))
sweep(
    "pow both",
    operator.pow,
    op_pow_both,
    [
        (positive(2, 3), normal(3)),
        (positive(2, 1), normal(1, 3)),
        (1.3, normal(3)),
        (1.3, 0.4),
    ],
    wrt=(0, 1),
)
check("pow base", operator.pow, op_pow_base, normal(3))
sweep(
    "mod",
    operator.mod,
    op_mod,
    [
        (np.array([0.3, 1.1, -0.3]), 0.7),
        (np.array([[0.3], [2.5]]), np.array([0.7, 0.9])),
    ],
    wrt=(0, 1),
)
check("floordiv", operator.floordiv, op_floordiv, np.array([0.3, 1.1, -0.3]))
sweep(
    "matmul",
    operator.matmul,
    op_matmul,
    [
        (normal(3), normal(3)),
        (normal(2, 3), normal(3)),
        (normal(3), normal(3, 4)),
        (normal(2, 3), normal(3, 4)),
        (normal(5, 2, 3), normal(3, 4)),
        (normal(2, 1, 2, 3), normal(4, 3, 2)),
        (normal(3), normal(5, 3, 4)),
    ],
    wrt=(0, 1),
)
check("neg", operator.neg, op_neg, M)
check("neg scalar", operator.neg, op_neg, 0.4)
check("pos", operator.pos, op_pos, M)

# == builtins ====================================================================


def b_abs(x):
    return abs(x) * x


def b_abs_array(x):
    return np.sum(abs(x) * x)


def b_float(x):
    return float(x) ** 2


def b_float_of_sum(x):
    return float(np.sum(x)) ** 2


def b_pow(x, y):
    return pow(x, 3) + pow(x, y)


def b_max_min_args(x, y):
    return max(x, y, 0.1) * 3.0 + min(x, y) * 2.0


def b_max_min_list(values):
    return max(values) * 2.0 + min(values)


def b_max_of_array(x):
    return max(x) * 2.0


def b_sum_scalars(x, y):
    return sum([x, y, x]) ** 2


def b_sum_arrays(values):
    return np.sum(np.sin(sum(values)))


def b_sum_start(values, x):
    return np.sum(np.sin(sum(values, x)))


def b_sum_generator(values):
    return sum(v * v for v in values)


def b_nondifferentiable(x, values):
    n = len(values)
    total = 0.0
    for i in range(n):
        total = total + x * values[i]
    print(end="")
    if isinstance(x, float) and bool(x):
        total = total * int(x + 2.5)
    return total + round(x) * x


check("abs", abs, b_abs, -0.7)
check("abs positive", abs, b_abs, 1.3)
check("abs array", abs, b_abs_array, normal(2, 3))
check("float", float, b_float, 0.7)
check("float of sum", float, b_float_of_sum, V)
check("pow", pow, b_pow, 1.3, 0.4, wrt=(0, 1))
check("max/min args", (max, min), b_max_min_args, 0.3, 0.7, wrt=(0, 1))
check("max/min args other order", (max, min), b_max_min_args, 0.9, -0.2, wrt=(0, 1))
check("max/min list", (max, min), b_max_min_list, [0.3, -1.0, 2.0])
check("max/min tuple", (max, min), b_max_min_list, (0.3, -1.0, 2.0))
check("max of array", max, b_max_of_array, np.array([0.3, -1.0, 2.0]))
check("sum scalars", sum, b_sum_scalars, 0.3, 0.7, wrt=(0, 1))
check("sum arrays", sum, b_sum_arrays, [normal(2, 3), normal(2, 3), normal(2, 3)])
check("sum start", sum, b_sum_start, [normal(3), normal(3)], normal(2, 3), wrt=(0, 1))
check("sum generator", sum, b_sum_generator, [0.3, -1.0, 2.0])
check(
    "nondifferentiable builtins",
    (len, range, print, isinstance, bool, int, round),
    b_nondifferentiable,
    0.7,
    [0.5, 2.0, -1.0],
    wrt=(0, 1),
)

# == math ========================================================================


def m_sin(x):
    return math.sin(x)


def m_cos(x):
    return math.cos(x)


def m_tan(x):
    return math.tan(x)


def m_exp(x):
    return math.exp(x)


def m_expm1(x):
    return math.expm1(x)


def m_log1p(x):
    return math.log1p(x)


def m_sqrt(x):
    return math.sqrt(x)


def m_tanh(x):
    return math.tanh(x)


def m_sinh(x):
    return math.sinh(x)


def m_cosh(x):
    return math.cosh(x)


def m_asin(x):
    return math.asin(x)


def m_acos(x):
    return math.acos(x)


def m_atan(x):
    return math.atan(x)


def m_fabs(x):
    return math.fabs(x) * x


def m_log(x):
    return math.log(x)


def m_log_base(x, base):
    return math.log(x, base)


def m_pow(x, y):
    return math.pow(x, y)


def m_hypot2(x, y):
    return math.hypot(x, y)


def m_hypot3(x, y, z):
    return math.hypot(x, y, z)


def m_atan2(y, x):
    return math.atan2(y, x)


def m_nondifferentiable(x):
    y = x * math.floor(x) + x * math.ceil(x) + x * math.trunc(x)
    if math.isnan(x) or math.isinf(x) or not math.isfinite(x):
        return 0.0
    return y


for func, target, point in [
    (m_sin, math.sin, 0.7),
    (m_cos, math.cos, 0.7),
    (m_tan, math.tan, 0.7),
    (m_exp, math.exp, 0.7),
    (m_expm1, math.expm1, 0.7),
    (m_log1p, math.log1p, 0.7),
    (m_sqrt, math.sqrt, 0.7),
    (m_tanh, math.tanh, 0.7),
    (m_sinh, math.sinh, 0.7),
    (m_cosh, math.cosh, 0.7),
    (m_asin, math.asin, 0.3),
    (m_acos, math.acos, 0.3),
    (m_atan, math.atan, 0.7),
    (m_fabs, math.fabs, -0.7),
    (m_log, math.log, 0.7),
]:
    check(target.__name__, target, func, point)
check("log base", math.log, m_log_base, 3.0, 2.0, wrt=(0, 1))
check("pow", math.pow, m_pow, 1.3, 0.4, wrt=(0, 1))
check("hypot 2", math.hypot, m_hypot2, 0.3, -0.7, wrt=(0, 1))
check("hypot 3", math.hypot, m_hypot3, 0.3, -0.7, 1.2, wrt=(0, 1, 2))
check("atan2", math.atan2, m_atan2, 0.3, -0.7, wrt=(0, 1))
check(
    "nondifferentiable math",
    (math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite),
    m_nondifferentiable,
    1.3,
)

# == NumPy elementwise ===========================================================


def np_exp(x):
    return np.sum(np.exp(x))


def np_expm1(x):
    return np.sum(np.expm1(x))


def np_log(x):
    return np.sum(np.log(x))


def np_log1p(x):
    return np.sum(np.log1p(x))


def np_log2(x):
    return np.sum(np.log2(x))


def np_log10(x):
    return np.sum(np.log10(x))


def np_sin(x):
    return np.sum(np.sin(x))


def np_cos(x):
    return np.sum(np.cos(x))


def np_tan(x):
    return np.sum(np.tan(x))


def np_tanh(x):
    return np.sum(np.tanh(x))


def np_sinh(x):
    return np.sum(np.sinh(x))


def np_cosh(x):
    return np.sum(np.cosh(x))


def np_arcsin(x):
    return np.sum(np.arcsin(x))


def np_arccos(x):
    return np.sum(np.arccos(x))


def np_arctan(x):
    return np.sum(np.arctan(x))


def np_sqrt(x):
    return np.sum(np.sqrt(x))


def np_abs(x):
    return np.sum(np.abs(x) * x)


def np_negative(x):
    return np.sum(np.sin(np.negative(x)))


def np_square(x):
    return np.sum(np.square(x))


def np_reciprocal(x):
    return np.sum(np.reciprocal(x))


for func, target, domain in [
    (np_exp, np.exp, normal),
    (np_expm1, np.expm1, normal),
    (np_log, np.log, positive),
    (np_log1p, np.log1p, positive),
    (np_log2, np.log2, positive),
    (np_log10, np.log10, positive),
    (np_sin, np.sin, normal),
    (np_cos, np.cos, normal),
    (np_tan, np.tan, unit),
    (np_tanh, np.tanh, normal),
    (np_sinh, np.sinh, normal),
    (np_cosh, np.cosh, normal),
    (np_arcsin, np.arcsin, unit),
    (np_arccos, np.arccos, unit),
    (np_arctan, np.arctan, normal),
    (np_sqrt, np.sqrt, positive),
    (np_abs, np.absolute, positive),
    (np_negative, np.negative, normal),
    (np_square, np.square, normal),
    (np_reciprocal, np.reciprocal, positive),
]:
    name = target.__name__
    check(f"{name} matrix", target, func, domain(2, 3))
    check(f"{name} scalar", target, func, float(domain(1)[0]))
check("abs negative", np.absolute, np_abs, -positive(2, 3))


def np_add(x, y):
    return np.sum(np.sin(np.add(x, y)))


def np_subtract(x, y):
    return np.sum(np.sin(np.subtract(x, y)))


def np_multiply(x, y):
    return np.sum(np.sin(np.multiply(x, y)))


def np_divide(x, y):
    return np.sum(np.sin(np.divide(x, y)))


def np_true_divide(x, y):
    return np.sum(np.sin(np.true_divide(x, y)))


def np_power(x, y):
    return np.sum(np.power(x, y))


def np_maximum(x, y):
    return np.sum(np.sin(np.maximum(x, y)))


def np_minimum(x, y):
    return np.sum(np.sin(np.minimum(x, y)))


def np_arctan2(x, y):
    return np.sum(np.arctan2(x, y))


def np_hypot(x, y):
    return np.sum(np.hypot(x, y))


POSITIVE_PAIRS = [
    (normal(2, 3), positive(3)),
    (normal(2, 1), positive(1, 3)),
    (0.7, positive(2, 3)),
    (normal(2, 3), 1.3),
]
for func, target, pairs in [
    (np_add, np.add, BROADCAST_PAIRS),
    (np_subtract, np.subtract, BROADCAST_PAIRS),
    (np_multiply, np.multiply, BROADCAST_PAIRS),
    (np_divide, np.divide, POSITIVE_PAIRS),
    (np_true_divide, np.true_divide, POSITIVE_PAIRS),
    (np_power, np.power, [(p, n) for n, p in POSITIVE_PAIRS]),
    (np_maximum, np.maximum, BROADCAST_PAIRS),
    (np_minimum, np.minimum, BROADCAST_PAIRS),
    (np_arctan2, np.arctan2, BROADCAST_PAIRS),
    (np_hypot, np.hypot, BROADCAST_PAIRS),
]:
    sweep(target.__name__, target, func, pairs, wrt=(0, 1))


def np_where(x, y):
    return np.sum(np.sin(np.where(x > 0, x, y * 2.0)))


def np_clip(x):
    return np.sum(np.sin(np.clip(x, -0.5, 0.5)) * np.arange(4.0))


def np_clip_arrays(x, lo, hi):
    return np.sum(np.sin(np.clip(x, lo, hi)))


def np_clip_keywords(x, lo, hi):
    return np.sum(np.sin(np.clip(x, min=lo, max=hi)))


def np_clip_one_sided(x, lo):
    return np.sum(np.sin(np.clip(x, lo, None)))


def np_mean_of_list(a, b):
    return np.mean([a, b, 2.0 * a]) * np.sum([a, b])


def np_maximum_with_list(x):
    return np.sum(np.sin(np.maximum(x, [0.0, 0.5, -2.0])))


def np_float64(x):
    return np.float64(x) ** 2


def np_float64_array(x):
    return np.sum(np.float64(x) ** 2)


CLIP_X = np.array([[-1.0, -0.2, 0.3, 0.9], [0.45, -0.7, 0.1, 2.0]])
CLIP_LO = np.array([-0.5, -0.5, 0.25, 0.0])
CLIP_HI = np.array([[0.5], [0.2]])
sweep("where", np.where, np_where, [(M, V), (V, 0.3), (COL, ROW)], wrt=(0, 1))
check("clip constants", np.clip, np_clip, CLIP_X[0])
check("clip arrays", np.clip, np_clip_arrays, CLIP_X, CLIP_LO, CLIP_HI, wrt=(0, 1, 2))
check("clip one-sided", np.clip, np_clip_one_sided, CLIP_X, CLIP_LO, wrt=(0, 1))
if NUMPY_2_1:
    check(
        "clip keywords",
        np.clip,
        np_clip_keywords,
        CLIP_X,
        CLIP_LO,
        CLIP_HI,
        wrt=(0, 1, 2),
    )
check("mean/sum of a list", (np.mean, np.sum), np_mean_of_list, 0.3, 0.7, wrt=(0, 1))
check("maximum with a list", np.maximum, np_maximum_with_list, V)
check("float64", np.float64, np_float64, 0.7)
check("float64 array", np.float64, np_float64_array, M)

# == NumPy reductions ============================================================

AXES = [None, 0, 1, -1, (0, 2), (2, 0, 1)]


def reduction_sum(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.sum(x, axis=axis, keepdims=keepdims)))

    return f


def reduction_mean(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.mean(x, axis, keepdims=keepdims)))

    return f


def reduction_max(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.max(x, axis=axis, keepdims=keepdims)))

    return f


def reduction_min(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.min(x, axis=axis, keepdims=keepdims)))

    return f


def reduction_amax(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.amax(x, axis=axis, keepdims=keepdims)))

    return f


def reduction_amin(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.amin(x, axis=axis, keepdims=keepdims)))

    return f


def reduction_prod(axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.prod(x, axis=axis, keepdims=keepdims)))

    return f


def method_sum(axis, keepdims):
    def f(x):
        return np.sum(np.sin(x.sum(axis=axis, keepdims=keepdims)))

    return f


def method_mean(axis, keepdims):
    def f(x):
        return np.sum(np.sin(x.mean(axis, keepdims=keepdims)))

    return f


def method_max(axis, keepdims):
    def f(x):
        return np.sum(np.sin(x.max(axis=axis, keepdims=keepdims)))

    return f


def method_min(axis, keepdims):
    def f(x):
        return np.sum(np.sin(x.min(axis=axis, keepdims=keepdims)))

    return f


def method_prod(axis, keepdims):
    def f(x):
        return np.sum(np.sin(x.prod(axis=axis, keepdims=keepdims)))

    return f


# A product of 24 entries must stay near 1 for finite differences to be accurate.
NEAR_ONE = RNG.uniform(0.8, 1.2, (2, 3, 4)) * RNG.choice([-1.0, 1.0], (2, 3, 4))
for factory, covers, x in [
    (reduction_sum, np.sum, T),
    (reduction_mean, np.mean, T),
    (reduction_max, np.max, T),
    (reduction_min, np.min, T),
    (reduction_amax, np.amax, T),
    (reduction_amin, np.amin, T),
    (reduction_prod, np.prod, NEAR_ONE),
    (method_sum, "method:sum", T),
    (method_mean, "method:mean", T),
    (method_max, "method:max", T),
    (method_min, "method:min", T),
    (method_prod, "method:prod", NEAR_ONE),
]:
    for axis in AXES:
        for keepdims in (False, True):
            label = f"{factory.__name__} axis={axis} keepdims={keepdims}"
            check(label, covers, factory(axis, keepdims), x)


def np_sum_where(x):
    return np.sum(np.sin(np.sum(x, axis=1, where=x > 0)))


def np_mean_where(x):
    return np.sum(np.sin(np.mean(x, axis=0, where=np.abs(x) > 0.2)))


def np_sum_scalar(x):
    return np.sum(x) * np.mean(x) * np.max(x) * np.prod(x)


def np_prod_with_zeros(x):
    return np.sum(np.prod(x, axis=1))


def np_sum_initial(x, start):
    return np.sum(np.sin(np.sum(x, axis=0, initial=start))) + np.sin(
        x.sum(initial=start)
    )


check("sum where", np.sum, np_sum_where, distinct(3, 4))
check("sum initial", (np.sum, "method:sum"), np_sum_initial, M, 0.3, wrt=(0, 1))
check("mean where", np.mean, np_mean_where, distinct(4, 3))
check("reductions of a scalar", (np.sum, np.mean, np.max, np.prod), np_sum_scalar, 0.7)
check(
    "prod with zeros",
    np.prod,
    np_prod_with_zeros,
    np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]]),
)


def np_prod_where(x):
    return np.sum(np.sin(np.prod(x, axis=0, where=x > -0.5)))


check("prod where", np.prod, np_prod_where, NEAR_ONE[0])


def spread_var(axis, ddof, keepdims):
    def f(x):
        return np.sum(np.sin(np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)))

    return f


def spread_std(axis, ddof, keepdims):
    def f(x):
        return np.sum(np.sin(np.std(x, axis, ddof=ddof, keepdims=keepdims)))

    return f


def spread_var_method(axis, ddof, keepdims):
    def f(x):
        return np.sum(np.sin(x.var(axis=axis, ddof=ddof, keepdims=keepdims)))

    return f


def spread_std_method(axis, ddof, keepdims):
    def f(x):
        return np.sum(np.sin(x.std(axis=axis, ddof=ddof, keepdims=keepdims)))

    return f


for factory, covers in [
    (spread_var, np.var),
    (spread_std, np.std),
    (spread_var_method, "method:var"),
    (spread_std_method, "method:std"),
]:
    for axis, ddof, keepdims in [
        (None, 0, False),
        (1, 1, False),
        ((0, 2), 0, True),
        (-1, 0, True),
    ]:
        label = f"{factory.__name__} axis={axis} ddof={ddof} keepdims={keepdims}"
        check(label, covers, factory(axis, ddof, keepdims), T)


def running_cumsum(axis):
    def f(x):
        return weighted(np.cumsum(x, axis=axis))

    return f


def running_cumsum_method(axis):
    def f(x):
        return weighted(x.cumsum(axis))

    return f


for axis in (None, 0, 1, -1):
    check(f"cumsum axis={axis}", np.cumsum, running_cumsum(axis), T)
    check(f"cumsum method axis={axis}", "method:cumsum", running_cumsum_method(axis), T)


# == NumPy linear algebra and shapes =============================================


def np_dot(a, b):
    return np.sum(np.sin(np.dot(a, b)))


def np_matmul(a, b):
    return np.sum(np.sin(np.matmul(a, b)))


def method_dot(a, b):
    return np.sum(np.sin(a.dot(b)))


DOT_PAIRS = [
    (normal(3), normal(3)),
    (normal(2, 3), normal(3)),
    (normal(3), normal(3, 4)),
    (normal(2, 3), normal(3, 4)),
    (0.7, normal(3, 2)),
    (normal(2, 3), -0.4),
    (normal(2, 3, 4), normal(4)),
    (normal(2, 3, 4), normal(5, 4, 2)),
]
sweep("dot", np.dot, np_dot, DOT_PAIRS, wrt=(0, 1))
sweep(
    "dot method",
    "method:dot",
    method_dot,
    [p for p in DOT_PAIRS if np.ndim(p[0])],
    wrt=(0, 1),
)
sweep(
    "matmul",
    np.matmul,
    np_matmul,
    [
        (normal(2, 3), normal(3)),
        (normal(2, 3), normal(5, 3, 4)),
        (normal(3), normal(3)),
    ],
    wrt=(0, 1),
)


def np_outer(a, b):
    return np.sum(np.sin(np.outer(a, b)))


def vector_norm(ord, axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.linalg.norm(x, ord, axis, keepdims)))

    return f


def matrix_norm(ord, axis, keepdims):
    def f(x):
        return np.sum(np.sin(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)))

    return f


sweep(
    "outer",
    np.outer,
    np_outer,
    [(V, normal(4)), (M, normal(2, 2)), (0.7, V)],
    wrt=(0, 1),
)
for ord in (None, 2, 1, 3, 0.5, np.inf, -np.inf, 0):
    check(
        f"vector norm ord={ord}",
        np.linalg.norm,
        vector_norm(ord, None, False),
        distinct(5),
    )
    check(f"vector norm ord={ord} axis=1", np.linalg.norm, vector_norm(ord, 1, True), T)
check("norm of a scalar", np.linalg.norm, vector_norm(None, None, False), -0.7)
check("norm of a tensor", np.linalg.norm, vector_norm(None, None, False), T)
for ord in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    check(
        f"matrix norm ord={ord}",
        np.linalg.norm,
        matrix_norm(ord, None, False),
        distinct(3, 4),
    )
    check(
        f"matrix norm ord={ord} axis=(2, 0)",
        np.linalg.norm,
        matrix_norm(ord, (2, 0), True),
        T,
    )


def weighted(t):
    """A weighting that makes every entry's position matter."""
    return np.sum(np.sin(t) * np.arange(t.size).reshape(t.shape))


def shape_transpose(axes):
    def f(x):
        return weighted(np.transpose(x, axes))

    return f


def np_transpose_default(x):
    return weighted(np.transpose(x))


def method_transpose_none(x):
    return weighted(x.transpose())


def method_transpose_varargs(x):
    return weighted(x.transpose(1, 0, 2))


def method_transpose_tuple(x):
    return weighted(x.transpose((2, 0, 1)))


def attribute_T(x):
    return weighted(x.T)


def np_reshape(x):
    return weighted(np.reshape(x, (4, 6)))


def np_reshape_fortran(x):
    return weighted(np.reshape(x, (4, -1), order="F"))


def np_reshape_keyword(x):
    return weighted(np.reshape(x, shape=(6, 4)))


def method_reshape_varargs(x):
    return weighted(x.reshape(4, 6))


def method_reshape_tuple(x):
    return weighted(x.reshape((3, -1), order="F"))


def np_ravel(x):
    return weighted(np.ravel(x)) + weighted(np.ravel(x, order="F"))


def method_ravel(x):
    return weighted(x.ravel()) + weighted(x.ravel("F"))


def method_flatten(x):
    return weighted(x.flatten()) + weighted(x.flatten(order="F"))


def np_squeeze(x):
    return weighted(np.squeeze(x)) + weighted(np.squeeze(x, axis=1))


def method_squeeze(x):
    return weighted(x.squeeze()) + weighted(x.squeeze(axis=1))


def np_expand_dims(x):
    return weighted(np.expand_dims(x, 1))


def np_copy(x):
    return weighted(np.copy(x))


def method_copy(x):
    return weighted(x.copy())


def method_astype(x):
    return weighted(x.astype(float)) + np.sum(x * x.astype(int))


def method_clip(x):
    return np.sum(np.sin(x.clip(-0.5, 0.5))) + np.sum(np.sin(x.clip(min=0.0)))


def method_clip_arrays(x, lo, hi):
    return np.sum(np.sin(x.clip(lo, hi)))


for axes in [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)]:
    check(f"transpose axes={axes}", np.transpose, shape_transpose(axes), T)
check("transpose default", np.transpose, np_transpose_default, T)
check("transpose method ()", "method:transpose", method_transpose_none, T)
check("transpose method varargs", "method:transpose", method_transpose_varargs, T)
check("transpose method tuple", "method:transpose", method_transpose_tuple, T)
check("T", "attribute:T", attribute_T, T)
check("T of a vector", "attribute:T", attribute_T, V)
check("reshape", np.reshape, np_reshape, T)
check("reshape order F", np.reshape, np_reshape_fortran, T)
if NUMPY_2_1:  # shape= was newshape= before NumPy 2.1
    check("reshape keyword", np.reshape, np_reshape_keyword, T)
check("reshape method varargs", "method:reshape", method_reshape_varargs, T)
check("reshape method tuple", "method:reshape", method_reshape_tuple, T)
check("ravel", np.ravel, np_ravel, T)
check("ravel method", "method:ravel", method_ravel, T)
check("flatten method", "method:flatten", method_flatten, T)
check("squeeze", np.squeeze, np_squeeze, normal(2, 1, 3))
check("squeeze method", "method:squeeze", method_squeeze, normal(2, 1, 3))
check("expand_dims", np.expand_dims, np_expand_dims, M)
check("copy", np.copy, np_copy, M)
check("copy method", "method:copy", method_copy, M)
check("astype method", "method:astype", method_astype, 3.0 * M)
check("clip method", "method:clip", method_clip, CLIP_X)
check(
    "clip method arrays",
    "method:clip",
    method_clip_arrays,
    CLIP_X,
    CLIP_LO,
    CLIP_HI,
    wrt=(0, 1, 2),
)

# == NumPy containers and constructors ===========================================


def np_array_of_scalars(x, y):
    a = np.array([x, y, 2.0])
    return np.sum(np.sin(a) * np.arange(3.0))


def np_array_of_arrays(x, y):
    return weighted(np.array([x, y]))


def np_array_ndmin(x):
    return weighted(np.array(x, ndmin=3))


def np_array_int(x):
    return np.sum(x * np.array(x, dtype=int))


def np_asarray(x):
    return weighted(np.asarray(x))


def np_asarray_list(x, y):
    return weighted(np.asarray([[x, y], [y, 1.0]]))


def shape_stack(axis):
    def f(x, y):
        return weighted(np.stack([x, y, x], axis=axis))

    return f


def shape_concatenate(axis):
    def f(x, y):
        return weighted(np.concatenate([x, y, x], axis=axis))

    return f


def np_concatenate_tuple(x, y):
    return weighted(np.concatenate((x, y)))


def np_full(x):
    return weighted(np.full((2, 3), x))


def np_linspace(a, b):
    return weighted(np.linspace(a, b, 5)) + weighted(
        np.linspace(a, b, 4, endpoint=False)
    )


def np_linspace_arrays(a, b):
    return weighted(np.linspace(a, b, 4, axis=1))


def np_linspace_retstep(a, b):
    samples, step = np.linspace(a, b, 5, retstep=True)
    return weighted(samples) * step


def np_arange(a, b):
    return weighted(np.arange(a, 2.0, b))


check("array of scalars", np.array, np_array_of_scalars, 0.3, -0.7, wrt=(0, 1))
check("array of arrays", np.array, np_array_of_arrays, M, M + 1.0, wrt=(0, 1))
check("array ndmin", np.array, np_array_ndmin, V)
check("array dtype=int", np.array, np_array_int, 3.0 * M)
check("asarray", np.asarray, np_asarray, M)
check("asarray nested lists", np.asarray, np_asarray_list, 0.3, -0.7, wrt=(0, 1))
for axis in (0, 1, -1):
    check(
        f"stack axis={axis}", np.stack, shape_stack(axis), M, normal(2, 3), wrt=(0, 1)
    )
for axis in (0, 1, -1, None):
    check(
        f"concatenate axis={axis}",
        np.concatenate,
        shape_concatenate(axis),
        M,
        normal(2, 3),
        wrt=(0, 1),
    )
check(
    "concatenate tuple", np.concatenate, np_concatenate_tuple, V, normal(2), wrt=(0, 1)
)
check("full scalar", np.full, np_full, 0.7)
check("full row", np.full, np_full, V)
check("linspace", np.linspace, np_linspace, 0.5, 2.0, wrt=(0, 1))
check("linspace arrays", np.linspace, np_linspace_arrays, V, V + 1.0, wrt=(0, 1))
check("linspace retstep", np.linspace, np_linspace_retstep, 0.5, 2.0, wrt=(0, 1))
check("arange", np.arange, np_arange, 0.1, 0.3, wrt=(0, 1))

# == NumPy: no gradient ==========================================================


def np_constructors(x):
    n = np.empty(3).size + np.empty_like(x).size
    z = (
        np.zeros(3)
        + np.ones(3)
        + np.zeros_like(x)
        + np.ones_like(x)
        + np.full_like(x, 2.0)
    )
    return np.sum(x * z) * n + np.sum(np.eye(3) @ x)


def np_index_functions(x):
    i = np.argmax(x)
    j = np.argmin(x)
    order = np.argsort(x)
    return x[i] * x[j] + np.sum(x[order] * np.arange(x.size))


def np_piecewise_constant(x):
    steps = np.floor(x) + np.ceil(x) + np.round(x) + np.around(x, 1) + np.sign(x)
    return np.sum(x * steps)


def np_shape_functions(x):
    return np.sum(x) * np.shape(x)[0] * np.ndim(x) * np.size(x)


def np_predicates(x):
    y = np.where(np.isfinite(x) & ~np.isnan(x) & ~np.isinf(x), x, 0.0)
    if np.allclose(x, 0.0):
        return 0.0
    return np.sum(y * y) + np.sum(x * np.isclose(x, 0.3))


def nondiff_methods(x):
    i = x.argmax()
    j = x.argmin()
    order = x.argsort()
    (nz,) = x.nonzero()
    ok = (x > -10.0).all() and (x > 0).any()
    total = x[i] * x[j] + np.sum(x[order] * np.arange(3.0)) + np.sum(x[nz])
    return total * 2.0 if ok else total


def nondiff_attributes(x):
    return np.sum(x.astype(x.dtype)) * x.shape[0] * x.ndim * x.size


check(
    "constructors",
    (np.zeros, np.ones, np.zeros_like, np.ones_like, np.empty, np.empty_like)
    + (np.full_like, np.eye),
    np_constructors,
    V,
)
check(
    "index functions",
    (np.argmax, np.argmin, np.argsort),
    np_index_functions,
    distinct(5),
)
check(
    "piecewise constant",
    (np.floor, np.ceil, np.round, np.around, np.sign),
    np_piecewise_constant,
    np.array([0.33, -1.27, 2.61]),
)
check("shape functions", (np.shape, np.ndim, np.size), np_shape_functions, M)
check(
    "predicates",
    (np.isfinite, np.isnan, np.isinf, np.allclose, np.isclose),
    np_predicates,
    V,
)
check(
    "nondifferentiable methods",
    tuple(
        f"method:{m}" for m in ("argmax", "argmin", "argsort", "nonzero", "all", "any")
    ),
    nondiff_methods,
    np.array([0.3, -1.2, 2.1]),
)
check(
    "nondifferentiable attributes",
    tuple(f"attribute:{a}" for a in ("dtype", "shape", "ndim", "size"))
    + ("method:astype",),
    nondiff_attributes,
    M,
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


def _is_library_target(target: Any) -> bool:
    """Rules our tables register (users may add rules for their own functions)."""
    if isinstance(target, np.ufunc):
        return True
    module = getattr(target, "__module__", None) or ""
    return module.split(".")[0] in (
        "numpy",
        "math",
        "builtins",
        "operator",
        "_operator",
    )


def _rule_key(rule: registry.Rule) -> Any:
    if rule.target is not None:
        return id(rule.target)
    name = rule.label.lstrip(".")
    kind = "method" if registry.lookup_method(name) is rule else "attribute"
    return f"{kind}:{name}"


def _covered() -> set[Any]:
    keys: set[Any] = set()
    for case in CHECKS:
        for target in case.covers:
            keys.add(target if isinstance(target, str) else id(target))
    return keys


def test_every_registered_rule_is_checked():
    covered = _covered()
    missing = [
        rule.label
        for rule in registry.registered()
        if (rule.target is None or _is_library_target(rule.target))
        and _rule_key(rule) not in covered
    ]
    assert not missing, f"rules without a check in tests/test_rules.py: {missing}"


def test_every_check_names_a_registered_rule():
    registered = {_rule_key(rule) for rule in registry.registered()}
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
