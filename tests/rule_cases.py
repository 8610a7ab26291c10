"""The shared case table of the derivative rules (reverse and forward mode).

Every rule registered by ``s2s_ad/rules/{builtin,math,numpy}_rules.py`` is
exercised by at least one entry of :data:`CHECKS`: a small function that
calls it, its arguments, and which of them to differentiate.
``tests/test_rules.py`` checks ``grad`` on every entry against central
finite differences; ``tests/test_forward_rules.py`` checks ``jvp`` on the
same entries (finite differences along a random direction, and the
dot-product identity with ``grad``).  Arguments cover scalar, vector, matrix
and broadcasting cases and, for reductions, several ``axis``/``keepdims``
values.  They are drawn away from kinks (ties of max/min, bounds of clip,
zeros of abs), which have their own exact tests.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from s2s_ad.rules import registry

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
    """``grad(func, wrt, seed)(*args)`` must match finite differences, and
    so must ``jvp`` along a random direction of the ``wrt`` arguments.

    ``covers`` names the rules the function exercises: callables, or
    ``"method:name"`` / ``"attribute:name"`` for array methods/attributes.
    ``seed`` (for a function returning an array) is the output adjoint ȳ.
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


def b_slice(x):
    part = slice(1, len(x))
    return np.sum(x[part] ** 2) * x[0]


check("slice", slice, b_slice, normal(4))

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


# The cases below call no helper of their own (each reduces its result inline
# with a position-dependent weighting, like ``weighted``), so that they test
# the rules and nothing else.

NUMPY_2 = int(np.__version__.split(".")[0]) >= 2


def above_one(*shape: int) -> np.ndarray:
    return RNG.uniform(1.2, 3.0, shape)


def spd(n: int, *batch: int) -> np.ndarray:
    """Symmetric positive definite, well conditioned."""
    b = RNG.standard_normal(batch + (n, n))
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def symmetric(n: int) -> np.ndarray:
    """Symmetric with well-separated eigenvalues."""
    q, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    return (q * np.arange(1.0, n + 1)) @ q.T


def invertible(n: int, *batch: int) -> np.ndarray:
    return RNG.standard_normal(batch + (n, n)) + 3.0 * np.eye(n)


# == math (more) =================================================================


def m_log2(x):
    return math.log2(x)


def m_log10(x):
    return math.log10(x)


def m_asinh(x):
    return math.asinh(x)


def m_acosh(x):
    return math.acosh(x)


def m_atanh(x):
    return math.atanh(x)


def m_erf(x):
    return math.erf(x)


def m_erfc(x):
    return math.erfc(x)


def m_degrees(x):
    return math.degrees(x)


def m_radians(x):
    return math.radians(x)


def m_copysign(x, y):
    return math.copysign(x, y) * x


def m_fmod(x, y):
    return math.fmod(x, y)


def m_exp2(x):
    return math.exp2(x)


def m_cbrt(x):
    return math.cbrt(x)


def m_fsum(values):
    return math.fsum(values) ** 2


def m_fsum_generator(x, y):
    return math.fsum([x * y, x, 2.0 * y])


def m_nondifferentiable_more(x):
    k = math.factorial(3) + math.gcd(4, 6)
    if math.isclose(x, 0.0):
        return 0.0
    return x * k


for func, target, point in [
    (m_log2, math.log2, 0.7),
    (m_log10, math.log10, 0.7),
    (m_asinh, math.asinh, -0.7),
    (m_acosh, math.acosh, 1.7),
    (m_atanh, math.atanh, 0.3),
    (m_erf, math.erf, 0.7),
    (m_erfc, math.erfc, -0.4),
    (m_degrees, math.degrees, 0.7),
    (m_radians, math.radians, 40.0),
]:
    check(target.__name__, target, func, point)
check("copysign", math.copysign, m_copysign, -0.7, 0.4, wrt=(0, 1))
check("copysign negative", math.copysign, m_copysign, 0.7, -0.4, wrt=(0, 1))
check("fmod", math.fmod, m_fmod, 2.3, 0.7, wrt=(0, 1))
check("fmod negative", math.fmod, m_fmod, -2.3, 0.7, wrt=(0, 1))
if hasattr(math, "exp2"):
    check("exp2", math.exp2, m_exp2, 0.7)
if hasattr(math, "cbrt"):
    check("cbrt", math.cbrt, m_cbrt, -0.7)
check("fsum", math.fsum, m_fsum, [0.3, -1.0, 2.0])
check("fsum of a list display", math.fsum, m_fsum_generator, 0.3, 1.2, wrt=(0, 1))
check(
    "nondifferentiable math, more",
    (math.factorial, math.gcd, math.isclose),
    m_nondifferentiable_more,
    1.3,
)

# == NumPy elementwise (more) ======================================================


def np_exp2(x):
    return np.sum(np.exp2(x))


def np_arcsinh(x):
    return np.sum(np.arcsinh(x))


def np_arccosh(x):
    return np.sum(np.arccosh(x))


def np_arctanh(x):
    return np.sum(np.arctanh(x))


def np_cbrt(x):
    return np.sum(np.cbrt(x))


def np_fabs(x):
    return np.sum(np.fabs(x) * x)


def np_positive(x):
    return np.sum(np.sin(np.positive(x)))


def np_sinc(x):
    return np.sum(np.sinc(x))


def np_deg2rad(x):
    return np.sum(np.sin(np.deg2rad(x)))


def np_radians(x):
    return np.sum(np.sin(np.radians(x)))


def np_rad2deg(x):
    return np.sum(np.sin(np.rad2deg(x)))


def np_degrees(x):
    return np.sum(np.sin(np.degrees(x)))


def np_real(x):
    return np.sum(np.sin(np.real(x)))


for func, target, domain in [
    (np_exp2, np.exp2, normal),
    (np_arcsinh, np.arcsinh, normal),
    (np_arccosh, np.arccosh, above_one),
    (np_arctanh, np.arctanh, unit),
    (np_cbrt, np.cbrt, positive),
    (np_fabs, np.fabs, normal),
    (np_positive, np.positive, normal),
    (np_sinc, np.sinc, normal),
    (np_deg2rad, np.deg2rad, normal),
    (np_radians, np.radians, normal),
    (np_rad2deg, np.rad2deg, normal),
    (np_degrees, np.degrees, normal),
    (np_real, np.real, normal),
]:
    name = target.__name__
    check(f"{name} matrix", target, func, domain(2, 3))
    check(f"{name} scalar", target, func, float(domain(1)[0]))
check("cbrt negative", np.cbrt, np_cbrt, -positive(2, 3))
check("sinc at zero", np.sinc, np_sinc, np.array([0.0, 0.3, -1.2]))


def np_fmax(x, y):
    return np.sum(np.sin(np.fmax(x, y)))


def np_fmin(x, y):
    return np.sum(np.sin(np.fmin(x, y)))


def np_fmax_nan(x):
    # A NaN loses to a number: x wins there whatever its value.
    return np.sum(np.sin(np.fmax(x, np.array([1.0, np.nan, -1.0]))))


def np_logaddexp(x, y):
    return np.sum(np.sin(np.logaddexp(x, y)))


def np_logaddexp2(x, y):
    return np.sum(np.sin(np.logaddexp2(x, y)))


def np_float_power(x, y):
    return np.sum(np.float_power(x, y))


def np_remainder(x, y):
    return np.sum(np.sin(np.remainder(x, y)))


def np_mod(x, y):
    return np.sum(np.sin(np.mod(x, y)))


def np_fmod(x, y):
    return np.sum(np.sin(np.fmod(x, y)))


MOD_PAIRS = [
    (np.array([0.3, 1.1, -0.3]), 0.7),
    (np.array([[0.3], [2.5], [-1.9]]), np.array([0.7, 0.9])),
    (2.3, 0.7),
]
for func, target, pairs in [
    (np_fmax, np.fmax, BROADCAST_PAIRS),
    (np_fmin, np.fmin, BROADCAST_PAIRS),
    (np_logaddexp, np.logaddexp, BROADCAST_PAIRS),
    (np_logaddexp2, np.logaddexp2, BROADCAST_PAIRS),
    (np_float_power, np.float_power, [(p, n) for n, p in POSITIVE_PAIRS]),
    (np_remainder, np.remainder, MOD_PAIRS),
    (np_mod, np.mod, MOD_PAIRS),
    (np_fmod, np.fmod, MOD_PAIRS),
]:
    sweep(target.__name__, target, func, pairs, wrt=(0, 1))
check("fmax with a NaN", np.fmax, np_fmax_nan, V)


def np_nan_to_num(x):
    # Entries made inf or NaN are replaced by constants: their slope is 0.
    y = x + np.array([0.0, np.inf, -np.inf, np.nan])
    return np.sum(np.sin(np.nan_to_num(y, posinf=3.0, neginf=-3.0)) * np.arange(4.0))


def np_nan_to_num_scalar(x):
    return np.nan_to_num(x) ** 2


check("nan_to_num", np.nan_to_num, np_nan_to_num, normal(4))
check("nan_to_num matrix", np.nan_to_num, np_nan_to_num, normal(3, 4))
check("nan_to_num scalar", np.nan_to_num, np_nan_to_num_scalar, 0.7)

# == NumPy reductions (more) ======================================================


def running_cumprod(axis):
    def f(x):
        out = np.cumprod(x, axis=axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def running_cumprod_method(axis):
    def f(x):
        out = x.cumprod(axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


for axis in (None, 0, 1, -1):
    check(f"cumprod axis={axis}", np.cumprod, running_cumprod(axis), NEAR_ONE)
    check(
        f"cumprod method axis={axis}",
        "method:cumprod",
        running_cumprod_method(axis),
        NEAR_ONE,
    )
WITH_ZEROS = np.array(
    [[1.5, 0.0, 2.0, -0.5], [0.0, 0.0, 3.0, 1.1], [1.0, -2.0, 3.0, 0.5]]
)
check("cumprod with zeros", np.cumprod, running_cumprod(1), WITH_ZEROS)
check("cumprod with zeros flat", np.cumprod, running_cumprod(None), WITH_ZEROS)

# == NumPy products (more) =========================================================


def np_inner(a, b):
    return np.sum(np.sin(np.inner(a, b)))


def np_vdot(a, b):
    return np.sin(np.vdot(a, b))


def np_tensordot(axes):
    def f(a, b):
        return np.sum(np.sin(np.tensordot(a, b, axes)))

    return f


def np_tensordot_keyword(a, b):
    return np.sum(np.sin(np.tensordot(a, b, axes=([1, 0], [0, 1]))))


def np_kron(a, b):
    out = np.kron(a, b)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


sweep(
    "inner",
    np.inner,
    np_inner,
    [
        (normal(3), normal(3)),
        (normal(2, 3), normal(3)),
        (normal(2, 3), normal(4, 3)),
        (normal(2, 2, 3), normal(3)),
        (0.7, normal(2, 3)),
        (normal(2, 3), -0.4),
    ],
    wrt=(0, 1),
)
sweep(
    "vdot",
    np.vdot,
    np_vdot,
    [(normal(3), normal(3)), (normal(2, 3), normal(3, 2))],
    wrt=(0, 1),
)
for axes, pair in [
    (2, (normal(2, 3, 4), normal(3, 4, 5))),
    (1, (normal(2, 3), normal(3, 4))),
    (0, (normal(2), normal(3))),
    (([1, 0], [0, 1]), (normal(3, 2, 4), normal(2, 3, 5))),
    ((1, 0), (normal(2, 3), normal(3, 4))),
    (([-1], [0]), (normal(2, 3), normal(3, 2))),
]:
    check(f"tensordot axes={axes}", np.tensordot, np_tensordot(axes), *pair, wrt=(0, 1))
check(
    "tensordot keyword",
    np.tensordot,
    np_tensordot_keyword,
    normal(3, 2, 4),
    normal(2, 3),
    wrt=(0, 1),
)
sweep(
    "kron",
    np.kron,
    np_kron,
    [
        (normal(3), normal(2)),
        (normal(2, 2), normal(2, 3)),
        (normal(2, 3), normal(3)),
        (0.7, normal(2, 2)),
    ],
    wrt=(0, 1),
)


def np_einsum(subscripts, n):
    def f1(a):
        out = np.einsum(subscripts, a)
        return np.sum(
            np.sin(out) * np.arange(1, np.size(out) + 1).reshape(np.shape(out))
        )

    def f2(a, b):
        out = np.einsum(subscripts, a, b)
        return np.sum(
            np.sin(out) * np.arange(1, np.size(out) + 1).reshape(np.shape(out))
        )

    def f3(a, b, c):
        out = np.einsum(subscripts, a, b, c)
        return np.sum(
            np.sin(out) * np.arange(1, np.size(out) + 1).reshape(np.shape(out))
        )

    return (f1, f2, f3)[n - 1]


def np_einsum_same_operand(x):
    return np.einsum("i,i->", x, x)


for subscripts, operands in [
    ("ij,jk->ik", (normal(2, 3), normal(3, 4))),
    ("ij,jk", (normal(2, 3), normal(3, 4))),
    ("ii->", (normal(3, 3),)),
    ("ii->i", (normal(3, 3),)),
    ("ii", (normal(3, 3),)),
    ("ij->", (normal(2, 3),)),
    ("ij->j", (normal(2, 3),)),
    ("ji", (normal(2, 3),)),
    ("Ba", (normal(2, 3),)),
    ("i,i->", (normal(3), normal(3))),
    ("i,j->ij", (normal(3), normal(2))),
    ("bij,bjk->bik", (normal(2, 2, 3), normal(2, 3, 4))),
    ("...ij,...jk->...ik", (normal(2, 1, 2, 3), normal(3, 3, 4))),
    ("i...,i...->...", (normal(3, 2), normal(3, 1))),
    ("ij,jk,kl->il", (normal(2, 3), normal(3, 3), normal(3, 2))),
    ("iij,j->i", (normal(3, 3, 2), normal(2))),
    (",i->i", (0.7, normal(3))),
]:
    check(
        f"einsum {subscripts!r}",
        np.einsum,
        np_einsum(subscripts, len(operands)),
        *operands,
        wrt=tuple(range(len(operands))),
    )
check("einsum of one operand twice", np.einsum, np_einsum_same_operand, V)

# == NumPy linear algebra (more) ==================================================


def la_trace(offset, axis1, axis2):
    def f(x):
        return np.sum(np.sin(np.trace(x, offset, axis1, axis2)))

    return f


def la_diagonal(offset, axis1, axis2):
    def f(x):
        out = np.diagonal(x, offset, axis1, axis2)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def la_diag(k):
    def f(x):
        out = np.diag(x, k)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def method_trace(x):
    return np.sin(x.trace()) + np.sum(np.sin(x.trace(1)))


def method_diagonal(x):
    out = x.diagonal(-1)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


for offset, axis1, axis2, x in [
    (0, 0, 1, normal(3, 3)),
    (1, 0, 1, normal(3, 4)),
    (-1, 0, 1, normal(4, 3)),
    (0, 1, 2, normal(2, 3, 3)),
    (1, 2, 0, normal(3, 2, 4)),
]:
    label = f"offset={offset} axes=({axis1}, {axis2})"
    check(f"trace {label}", np.trace, la_trace(offset, axis1, axis2), x)
    check(f"diagonal {label}", np.diagonal, la_diagonal(offset, axis1, axis2), x)
for k in (0, 1, -2):
    check(f"diag of a vector k={k}", np.diag, la_diag(k), normal(3))
    check(f"diag of a matrix k={k}", np.diag, la_diag(k), normal(3, 4))
check("trace method", "method:trace", method_trace, normal(3, 3))
check("diagonal method", "method:diagonal", method_diagonal, normal(3, 3))


def la_inv(x):
    out = np.linalg.inv(x)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def la_det(x):
    return np.sum(np.sin(np.linalg.det(x)))


def la_slogdet(x):
    sign, logdet = np.linalg.slogdet(x)
    return np.sum(sign * np.sin(logdet))


def la_solve(a, b):
    out = np.linalg.solve(a, b)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def la_cholesky(x):
    out = np.linalg.cholesky(x)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def la_cholesky_upper(x):
    out = np.linalg.cholesky(x, upper=True)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


NEGATIVE_DET = invertible(3) * np.array([[1.0], [-1.0], [1.0]])
check("inv", np.linalg.inv, la_inv, invertible(3))
check("inv of a stack", np.linalg.inv, la_inv, invertible(2, 2))
check("det", np.linalg.det, la_det, invertible(3))
check("det of a stack", np.linalg.det, la_det, invertible(3, 2))
check("slogdet", np.linalg.slogdet, la_slogdet, invertible(3))
check("slogdet negative", np.linalg.slogdet, la_slogdet, NEGATIVE_DET)
check("slogdet of a stack", np.linalg.slogdet, la_slogdet, invertible(2, 2))
sweep(
    "solve",
    np.linalg.solve,
    la_solve,
    [
        (invertible(3), normal(3)),
        (invertible(3), normal(3, 2)),
        (invertible(3, 2), normal(2, 3, 2)),
    ],
    wrt=(0, 1),
)
check("cholesky", np.linalg.cholesky, la_cholesky, spd(3))
check("cholesky of a stack", np.linalg.cholesky, la_cholesky, spd(3, 2))
if NUMPY_2:  # upper= is new in NumPy 2.0
    check("cholesky upper", np.linalg.cholesky, la_cholesky_upper, spd(3))


def la_eigh(x):
    w, v = np.linalg.eigh(x)
    return np.sum(np.sin(w) * np.arange(w.size).reshape(w.shape)) + np.sum(
        np.sin(v * v) * np.arange(v.size).reshape(v.shape)
    )


def la_eigh_upper(x):
    w, v = np.linalg.eigh(x, "U")
    return np.sum(w * w) + np.sum(np.cos(v * v) * np.arange(v.size).reshape(v.shape))


def la_eigh_values(x):
    return np.sum(np.sin(np.linalg.eigh(x)[0]) * np.arange(4.0))


def la_eigvalsh(x):
    return np.sum(np.sin(np.linalg.eigvalsh(x)) * np.arange(4.0)) + np.sum(
        np.linalg.eigvalsh(x, UPLO="U") ** 2
    )


check("eigh", np.linalg.eigh, la_eigh, symmetric(4))
check("eigh upper", np.linalg.eigh, la_eigh_upper, symmetric(4))
check("eigh eigenvalues only", np.linalg.eigh, la_eigh_values, symmetric(4))
check("eigvalsh", np.linalg.eigvalsh, la_eigvalsh, symmetric(4))


def la_svd(full_matrices):
    def f(x):
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        return (
            np.sum(np.sin(s) * np.arange(s.size).reshape(s.shape))
            + np.sum(np.sin(u * u) * np.arange(u.size).reshape(u.shape))
            + np.sum(np.cos(vh * vh) * np.arange(vh.size).reshape(vh.shape))
            + np.sum(np.sin(u @ vh))
        )

    return f


def la_svd_values(x):
    s = np.linalg.svd(x, compute_uv=False)
    return np.sum(np.sin(s) * np.arange(s.size).reshape(s.shape))


def la_pinv(x):
    out = np.linalg.pinv(x)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def la_qr(x):
    q, r = np.linalg.qr(x)
    return np.sum(np.sin(q) * np.arange(q.size).reshape(q.shape)) + np.sum(
        np.cos(r) * np.arange(r.size).reshape(r.shape)
    )


def la_qr_r(x):
    r = np.linalg.qr(x, mode="r")
    return np.sum(np.cos(r) * np.arange(r.size).reshape(r.shape))


for shape in [(4, 3), (3, 4), (2, 4, 3)]:
    check(f"svd thin {shape}", np.linalg.svd, la_svd(False), normal(*shape))
    check(f"svd values {shape}", np.linalg.svd, la_svd_values, normal(*shape))
    check(f"pinv {shape}", np.linalg.pinv, la_pinv, normal(*shape))
check("svd square", np.linalg.svd, la_svd(True), normal(3, 3))
check("pinv square", np.linalg.pinv, la_pinv, invertible(3))
check("qr tall", np.linalg.qr, la_qr, normal(4, 3))
check("qr square", np.linalg.qr, la_qr, invertible(3))
check("qr of a stack", np.linalg.qr, la_qr, normal(2, 4, 3))
check("qr mode r", np.linalg.qr, la_qr_r, normal(4, 3))

# == NumPy shapes (more) ===========================================================


def sh_swapaxes(x):
    out = np.swapaxes(x, 0, 2)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_swapaxes_method(x):
    out = x.swapaxes(1, -1)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_moveaxis(x):
    out = np.moveaxis(x, 0, -1) * 2.0 + np.moveaxis(x, [0, 1], [2, 0])
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_roll(x):
    out = np.roll(x, 2) + np.roll(x, -1, axis=1) + np.roll(x, (1, 2), axis=(0, 2))
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_repeat(x):
    a = np.repeat(x, 2)
    b = np.repeat(x, [1, 0, 2], axis=1)
    return np.sum(np.sin(a) * np.arange(a.size)) + np.sum(
        np.sin(b) * np.arange(b.size).reshape(b.shape)
    )


def sh_repeat_method(x):
    out = x.repeat(3, axis=0)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_take(x):
    a = np.take(x, [0, 2, 2, 5])
    b = np.take(x, [[1, 0], [1, 1]], axis=1)
    c = np.take(x, 7, mode="wrap") + np.take(x, [-1, 9], axis=1, mode="clip")
    return (
        np.sum(np.sin(a) * np.arange(a.size))
        + np.sum(np.sin(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(1, c.size + 1).reshape(c.shape))
    )


def sh_take_along_axis(x):
    rows = np.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 0]]), axis=1)
    cols = np.take_along_axis(x, np.array([[1, 0, 1]]), 0)
    flat = np.take_along_axis(x, np.array([5, 0, 5, 2]), None)
    return (
        np.sum(np.sin(rows) * np.arange(rows.size).reshape(rows.shape))
        + np.sum(np.cos(cols) * np.arange(cols.size).reshape(cols.shape))
        + np.sum(np.sin(flat) * np.arange(flat.size))
    )


def sh_take_along_axis_broadcast(x):
    out = np.take_along_axis(x, np.array([[0, 2, 1, 1], [2, 2, 0, 1]]), axis=0)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_take_method(x):
    out = x.take([2, 0, 2], axis=-1)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_broadcast_to(x):
    out = np.broadcast_to(x, (4, 2, 3))
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_flip(x):
    out = np.flip(x) + np.flip(x, 0) * 2.0 + np.flip(x, axis=(1, 2)) * 3.0
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_fliplr_flipud(x):
    out = np.fliplr(x) + 2.0 * np.flipud(x)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_rot90(x):
    a = np.rot90(x)
    b = np.rot90(x, 2) + np.rot90(x, -2)
    c = np.rot90(x, 3, axes=(1, 2))
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.sin(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size).reshape(c.shape))
    )


def sh_triu_tril(x):
    out = np.triu(x) + 2.0 * np.tril(x, -1) + 3.0 * np.triu(x, 1) + np.tril(x, 1)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_tile(reps):
    def f(x):
        out = np.tile(x, reps)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def sh_sort(axis):
    def f(x):
        out = np.sort(x, axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def sh_pad(width, mode):
    def f(x):
        out = np.pad(x, width, mode)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def sh_pad_constant(x, c):
    out = np.pad(x, ((1, 0), (2, 1)), constant_values=c)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def sh_atleast(x, y):
    a = np.atleast_1d(x)
    b = np.atleast_2d(y)
    c = np.atleast_3d(y)
    p, q = np.atleast_2d(x, y)
    return (
        np.sum(np.sin(a))
        + np.sum(np.sin(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.cos(c) * np.arange(c.size).reshape(c.shape))
        + np.sum(np.sin(p) * 3.0)
        + np.sum(np.sin(q) * np.arange(q.size).reshape(q.shape))
    )


def sh_atleast_3d(x, y):
    p, q = np.atleast_3d(x, y)
    r = np.atleast_1d(x, y)
    return (
        np.sum(np.sin(p))
        + np.sum(np.sin(q) * np.arange(q.size).reshape(q.shape))
        + np.sum(np.cos(r[1]) * np.arange(r[1].size).reshape(r[1].shape))
    )


for label, func, x in [
    ("swapaxes", sh_swapaxes, T),
    ("moveaxis", sh_moveaxis, T),
    ("roll", sh_roll, T),
    ("repeat", sh_repeat, M),
    ("take", sh_take, M),
    ("broadcast_to", sh_broadcast_to, ROW),
    ("flip", sh_flip, T),
    ("fliplr/flipud", sh_fliplr_flipud, M),
    ("rot90", sh_rot90, T),
    ("triu/tril", sh_triu_tril, normal(3, 4)),
    ("triu/tril of a stack", sh_triu_tril, T),
    ("triu/tril of a vector", sh_triu_tril, normal(3)),
]:
    covers = {
        "fliplr/flipud": (np.fliplr, np.flipud),
        "triu/tril": (np.triu, np.tril),
        "triu/tril of a stack": (np.triu, np.tril),
        "triu/tril of a vector": (np.triu, np.tril),
    }.get(label, getattr(np, label, None))
    check(label, covers, func, x)
check("swapaxes method", "method:swapaxes", sh_swapaxes_method, T)
check("repeat method", "method:repeat", sh_repeat_method, M)
check("take method", "method:take", sh_take_method, M)
check("take_along_axis", np.take_along_axis, sh_take_along_axis, M)
check(
    "take_along_axis broadcast",
    np.take_along_axis,
    sh_take_along_axis_broadcast,
    normal(3, 1),
)
for reps, x in [(2, V), ((2, 1), M), ((2, 1, 2), M), ((3,), M)]:
    check(f"tile reps={reps}", np.tile, sh_tile(reps), x)
for axis in (-1, 0, None):
    check(f"sort axis={axis}", np.sort, sh_sort(axis), distinct(3, 4))
for width, mode in [
    (1, "constant"),
    (((1, 0), (2, 1)), "constant"),
    (2, "edge"),
    ((1, 3), "wrap"),
    (2, "reflect"),
    (((2, 1), (0, 3)), "symmetric"),
]:
    check(f"pad {width} {mode}", np.pad, sh_pad(width, mode), M)
check("pad constant_values", np.pad, sh_pad_constant, M, 0.4, wrt=(0, 1))
check(
    "atleast_1d/2d/3d",
    (np.atleast_1d, np.atleast_2d, np.atleast_3d),
    sh_atleast,
    0.7,
    V,
    wrt=(0, 1),
)
check(
    "atleast_3d/1d of several",
    (np.atleast_3d, np.atleast_1d),
    sh_atleast_3d,
    M,
    V,
    wrt=(0, 1),
)


def sp_split(x):
    a, b = np.split(x, 2, axis=1)
    c, _d, e = np.split(x, [1, 3])
    return (
        np.sum(np.sin(a) * 2.0)
        + np.sum(np.sin(b)) * 3.0
        + np.sum(np.sin(c) * np.arange(c.size))
        + np.sum(np.cos(e) * np.arange(e.size))
    )


def sp_array_split(x):
    pieces = np.array_split(x, 3)
    return (
        np.sum(np.sin(pieces[0]))
        + 2.0 * np.sum(np.sin(pieces[1]))
        + 3.0 * np.sum(np.sin(pieces[2]) * np.arange(pieces[2].size))
    )


def sp_hvd_split(x):
    a, b = np.hsplit(x, 2)
    _c, d = np.vsplit(x, [1])
    e, _f = np.dsplit(x, [3])
    return (
        np.sum(np.sin(a))
        + 2.0 * np.sum(np.sin(b) * np.arange(b.size).reshape(b.shape))
        + 3.0 * np.sum(np.sin(d))
        + np.sum(np.cos(e) * np.arange(e.size).reshape(e.shape))
    )


def sp_hsplit_vector(x):
    a, b = np.hsplit(x, [2])
    return np.sum(np.sin(a)) + 2.0 * np.sum(np.sin(b))


def sp_stackers(x, y):
    a = np.vstack([x, y])
    b = np.hstack((x, y))
    c = np.dstack([x, y])
    d = np.column_stack([x, y])
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.cos(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size).reshape(c.shape))
        + np.sum(np.cos(d) * np.arange(d.size).reshape(d.shape))
    )


def sp_stackers_mixed(m, v):
    a = np.vstack([m, v])
    b = np.column_stack([m, v[:2]])
    c = np.hstack([m[0], v])
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.cos(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size))
    )


def sp_broadcast_arrays(x, y):
    a, b = np.broadcast_arrays(x, y)
    return np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape)) + np.sum(
        np.cos(b) * np.arange(b.size).reshape(b.shape)
    )


def sp_meshgrid(indexing, sparse):
    def f(x, y):
        a, b = np.meshgrid(x, y, indexing=indexing, sparse=sparse)
        return np.sum(np.sin(a + b) * np.arange(1, a.size + 1).reshape(a.shape)) + (
            np.sum(np.cos(b) * np.arange(b.size).reshape(b.shape))
        )

    return f


check("split", np.split, sp_split, normal(4, 4))
check("array_split", np.array_split, sp_array_split, normal(7))
check(
    "hsplit/vsplit/dsplit",
    (np.hsplit, np.vsplit, np.dsplit),
    sp_hvd_split,
    normal(2, 4, 5),
)
check("hsplit of a vector", np.hsplit, sp_hsplit_vector, normal(5))
check(
    "vstack/hstack/dstack/column_stack",
    (np.vstack, np.hstack, np.dstack, np.column_stack),
    sp_stackers,
    V,
    normal(3),
    wrt=(0, 1),
)
check(
    "vstack/hstack/column_stack mixed",
    (np.vstack, np.hstack, np.column_stack),
    sp_stackers_mixed,
    normal(2, 3),
    normal(3),
    wrt=(0, 1),
)
sweep(
    "broadcast_arrays",
    np.broadcast_arrays,
    sp_broadcast_arrays,
    [(COL, ROW), (M, 0.3)],
    wrt=(0, 1),
)
for indexing, sparse in [("xy", False), ("ij", False), ("xy", True)]:
    check(
        f"meshgrid {indexing} sparse={sparse}",
        np.meshgrid,
        sp_meshgrid(indexing, sparse),
        normal(3),
        normal(2),
        wrt=(0, 1),
    )


def np_full_like(x, c):
    out = np.full_like(x, c)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape)) + np.sum(x)


check("full_like scalar", np.full_like, np_full_like, M, 0.3, wrt=(0, 1))
check("full_like row", np.full_like, np_full_like, M, normal(3), wrt=(0, 1))

# == NumPy: more reductions and assembly ==========================================


def mr_diff(n, axis):
    def f(x):
        out = np.diff(x, n, axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def mr_append(axis):
    def f(x, y):
        out = np.append(x, y, axis=axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def mr_nan_reductions(axis, keepdims):
    def f(x):
        y = x + np.array(
            [[0.0, np.nan, 0.0, 0.0], [0.0, 0.0, 0.0, np.nan], [np.nan, 0.0, 0.0, 0.0]]
        )
        return (
            np.sum(np.sin(np.nansum(y, axis=axis, keepdims=keepdims)))
            + np.sum(np.cos(np.nanmean(y, axis, keepdims=keepdims)))
            + np.sum(np.sin(np.nanmax(y, axis=axis, keepdims=keepdims)))
            + np.sum(np.cos(np.nanmin(y, axis=axis, keepdims=keepdims)))
        )

    return f


def mr_average(axis, keepdims):
    def f(x, w):
        return np.sum(np.sin(np.average(x, axis, w)))

    def f_keepdims(x, w):  # keepdims= is new in NumPy 1.23
        return np.sum(np.sin(np.average(x, axis, w, keepdims=True)))

    return f_keepdims if keepdims else f


def mr_average_unweighted(x):
    return np.sin(np.average(x)) + np.sum(np.sin(np.average(x, axis=0)))


def mr_diagflat(x):
    out = np.diagflat(x) + np.diagflat(x, 1)[1:, :-1]
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def mr_trapezoid(x, y):
    return np.sum(np.sin(np.trapezoid(y, x))) + np.sum(np.trapezoid(y, dx=0.5, axis=0))


def mr_trapezoid_dx(y, dx):
    return np.sum(np.sin(np.trapezoid(y, dx=dx)))


def mr_trapezoid_same_shape(y, x):
    return np.sum(np.sin(np.trapezoid(y, x, axis=0)))


def mr_polyval(p, x):
    return np.sum(np.sin(np.polyval(p, x)))


def mr_polyval_list(a, x):
    return np.sin(np.polyval([a, 1.0, a * a], x))


for n, axis in [(1, -1), (2, 1), (1, 0)]:
    check(f"diff n={n} axis={axis}", np.diff, mr_diff(n, axis), normal(3, 4))
for axis, other in [(None, normal(4)), (0, normal(1, 3)), (1, normal(2, 2))]:
    check(f"append axis={axis}", np.append, mr_append(axis), M, other, wrt=(0, 1))
for axis, keepdims in [(None, False), (1, False), (0, True)]:
    check(
        f"nansum/nanmean/nanmax/nanmin axis={axis} keepdims={keepdims}",
        (np.nansum, np.nanmean, np.nanmax, np.nanmin),
        mr_nan_reductions(axis, keepdims),
        distinct(3, 4),
    )
NUMPY_1_23 = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (1, 23)
for axis, keepdims, w in [
    (None, False, positive(2, 3)),
    (1, False, positive(2, 3)),
    (0, True, positive(2, 3)),
    (1, False, positive(3)),
]:
    if keepdims and not NUMPY_1_23:
        continue
    check(
        f"average axis={axis} keepdims={keepdims} weights{w.shape}",
        np.average,
        mr_average(axis, keepdims),
        M,
        w,
        wrt=(0, 1),
    )
check("average unweighted", np.average, mr_average_unweighted, M)
check("diagflat", np.diagflat, mr_diagflat, normal(2, 2))
if hasattr(np, "trapezoid"):
    check(
        "trapezoid",
        np.trapezoid,
        mr_trapezoid,
        np.cumsum(positive(4)),
        normal(3, 4),
        wrt=(0, 1),
    )
    check("trapezoid dx", np.trapezoid, mr_trapezoid_dx, normal(2, 4), 0.3, wrt=(0, 1))
    check(
        "trapezoid x like y",
        np.trapezoid,
        mr_trapezoid_same_shape,
        normal(4, 2),
        np.cumsum(positive(4, 2), axis=0),
        wrt=(0, 1),
    )
if hasattr(np, "trapz"):  # NumPy < 2

    def mr_trapz(x, y):
        return np.sum(np.sin(np.trapz(y, x))) + np.sum(np.trapz(y, dx=0.5, axis=0))

    check("trapz", np.trapz, mr_trapz, np.cumsum(positive(4)), normal(3, 4), wrt=(0, 1))
check("polyval", np.polyval, mr_polyval, normal(4), normal(2, 3), wrt=(0, 1))
check("polyval of a list", np.polyval, mr_polyval_list, 0.7, -0.4, wrt=(0, 1))
check("polyval constant", np.polyval, mr_polyval, normal(1), normal(3), wrt=(0, 1))


def np2_matrix_transpose(x):
    out = np.matrix_transpose(x)
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


def np2_vecdot(x, y):
    return np.sum(np.sin(np.vecdot(x, y)))


def np2_vecdot_axis(x, y):
    return np.sum(np.cos(np.vecdot(x, y, axis=0)))


def np2_astype(x):
    return np.sum(np.sin(np.astype(x, np.float64))) + np.sum(x * np.astype(x, int))


def np2_unstack(x):
    a, b = np.unstack(x, axis=1)[:2]
    return np.sum(np.sin(a)) + 2.0 * np.sum(np.sin(b) * np.arange(b.size))


if hasattr(np, "matrix_transpose"):
    check("matrix_transpose", np.matrix_transpose, np2_matrix_transpose, T)
if hasattr(np, "vecdot"):
    sweep("vecdot", np.vecdot, np2_vecdot, [(M, M), (M, normal(3))], wrt=(0, 1))
    check("vecdot axis=0", np.vecdot, np2_vecdot_axis, M, normal(2, 3), wrt=(0, 1))
if hasattr(np, "astype"):
    check("astype", np.astype, np2_astype, 3.0 * M)
if hasattr(np, "unstack"):
    check("unstack", np.unstack, np2_unstack, M)


def method_tolist(x):
    rows = x.tolist()
    return rows[0][1] * rows[1][2] + np.sin(x.tolist()[1][0])


check("tolist method", "method:tolist", method_tolist, M)

# == NumPy functions of lists ====================================================
# np.f([a, b, 1.0]): the tangent of the list is a list (with symbolic zeros
# for constants), which the rules turn into an array as NumPy does the list.


def lists_of_scalars(a, b):
    u = np.add([a, b], [b, 1.0]) * np.multiply([a, b], [2.0, a])
    v = np.maximum([a, b], [b, 0.0]) + np.remainder([a, b], 0.7)
    w = np.max([a, b, 0.1]) + np.prod([a, b, 1.5]) + np.var([a, b, 1.0])
    z = np.std([a, 2.0, b]) + np.linalg.norm([a, b]) + np.nansum([a, b])
    r = np.sort([b, a, 0.5]) + np.cumprod([a, b, 0.5])
    return np.sum(np.sin(u + v) * np.arange(2.0)) + w + z + np.sum(r * r)


def lists_of_arrays(x, y):
    u = np.max([x, np.zeros(3), y], axis=0) + np.mean([x, np.ones(3)], axis=0)
    v = np.add([x, y], [y, np.ones(3)]) + np.sum([x, 2.0 * y], axis=0)
    w = np.prod([x, y, np.full(3, 2.0)], axis=0) + np.var([x, np.ones(3), y], axis=0)
    return np.sum(np.sin(u) * np.arange(3.0)) + np.sum(np.cos(v)) + np.sum(np.sin(w))


check(
    "functions of lists of scalars",
    (
        np.add,
        np.multiply,
        np.maximum,
        np.remainder,
        np.max,
        np.prod,
        np.var,
        np.std,
        np.linalg.norm,
        np.nansum,
        np.sort,
        np.cumprod,
    ),
    lists_of_scalars,
    0.3,
    1.1,
    wrt=(0, 1),
)
check(
    "functions of lists of arrays",
    (np.max, np.mean, np.add, np.sum, np.prod, np.var),
    lists_of_arrays,
    distinct(3),
    distinct(3) + 0.05,
    wrt=(0, 1),
)


# == NumPy methods and attributes (more) ==========================================


def method_item(x):
    return x.item(1) * x.item((0, 2)) + np.sum(x)


def method_item_scalar(x):
    return x.reshape(1).item() ** 2


def method_conj(x):
    out = x.conj() + 2.0 * x.conjugate() + 3.0 * x.real
    return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))


check("item method", "method:item", method_item, M)
check("item method no index", "method:item", method_item_scalar, normal(1))
check(
    "conj/conjugate/real",
    ("method:conj", "method:conjugate", "attribute:real"),
    method_conj,
    M,
)

# == NumPy shapes and assembly, without helper calls ===============================
# The same rules as the cases using ``weighted`` above, reduced inline.


def inl_shapes(x):
    a = np.transpose(x, (1, 0, 2)) + 2.0 * np.transpose(x, (1, 0, 2))
    b = np.reshape(x, (4, 6), order="F") + np.ravel(x).reshape(4, 6)
    c = np.cumsum(x, axis=1) + np.squeeze(np.expand_dims(x, 0), 0) * np.copy(x)
    d = np.cumsum(x)
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.sin(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size).reshape(c.shape))
        + np.sum(np.sin(d) * np.arange(d.size))
    )


def inl_methods(x):
    a = x.transpose(2, 0, 1) + x.transpose((2, 0, 1)) * 2.0 + x.T.transpose(0, 2, 1)
    b = x.reshape(6, 4) + x.ravel("F").reshape((6, 4)) + x.flatten().reshape(6, 4)
    c = x.cumsum(-1) + x.copy() * x.reshape(2, 1, 3, 4).squeeze(1)
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.cos(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size).reshape(c.shape))
    )


def inl_assembly(x, y):
    a = np.stack([x, y, x], axis=1)
    b = np.concatenate([x, np.ones((2, 3)), y], axis=-1)
    c = np.asarray([[x[0, 0], 1.0], [y[1, 2], x[0, 1]]])
    d = np.stack([x, np.zeros((2, 3))]) + np.full((2, 2, 3), y[0, 0])
    return (
        np.sum(np.sin(a) * np.arange(a.size).reshape(a.shape))
        + np.sum(np.cos(b) * np.arange(b.size).reshape(b.shape))
        + np.sum(np.sin(c) * np.arange(c.size).reshape(c.shape))
        + np.sum(np.sin(d) * np.arange(d.size).reshape(d.shape))
    )


def inl_ranges(a, b):
    s = np.linspace(a, b, 5) + np.linspace(b, a, 5, endpoint=False)
    samples, step = np.linspace(a, b, 4, retstep=True)
    r = np.arange(a, 2.0, b)
    return (
        np.sum(np.sin(s) * np.arange(5.0))
        + np.sum(np.cos(samples) * np.arange(4.0)) * step
        + np.sum(np.sin(r) * np.arange(r.size))
    )


def inl_linspace_arrays(a, b):
    s = np.linspace(a, b, 4, axis=1)
    return np.sum(np.sin(s) * np.arange(s.size).reshape(s.shape))


check(
    "shape functions inline",
    (
        np.transpose,
        np.reshape,
        np.ravel,
        np.cumsum,
        np.squeeze,
        np.expand_dims,
        np.copy,
    ),
    inl_shapes,
    T,
)
check(
    "shape methods inline",
    tuple(
        f"method:{m}"
        for m in ("transpose", "reshape", "ravel", "flatten", "cumsum", "copy")
    )
    + ("method:squeeze", "attribute:T"),
    inl_methods,
    T,
)
check(
    "assembly inline",
    (np.stack, np.concatenate, np.asarray, np.full),
    inl_assembly,
    M,
    normal(2, 3),
    wrt=(0, 1),
)
check(
    "linspace/arange inline", (np.linspace, np.arange), inl_ranges, 0.1, 0.3, wrt=(0, 1)
)
check(
    "linspace arrays inline",
    np.linspace,
    inl_linspace_arrays,
    V,
    V + 1.0,
    wrt=(0, 1),
)


# == NumPy: no gradient (more) ====================================================


def np_nondiff_more(x):
    i = np.argwhere(x > 0)
    j = np.flatnonzero(x > 0)
    (k,) = np.nonzero(x > 0)
    n = np.count_nonzero(x > 0) + np.argpartition(x, 1)[0]
    s = np.searchsorted(np.sort(x), 0.1) + np.digitize(0.2, [0.0, 1.0])
    steps = np.rint(x) + np.trunc(x) + np.fix(x) + np.floor_divide(x, 0.3)
    flags = np.signbit(x) | np.isposinf(x) | np.isneginf(x)
    same = np.array_equal(x, x) and np.any(x > 0) and np.all(x < 10.0)
    cmp = (
        np.equal(x, 0.3) ^ np.not_equal(x, 0.3)
        | np.less(x, 0.0)
        | np.less_equal(x, 0.0)
        | np.greater(x, 1.0)
        | np.greater_equal(x, 1.0)
    )
    logic = np.logical_and(flags, cmp) | np.logical_or(flags, cmp)
    logic = np.logical_xor(logic, np.logical_not(flags))
    scale = np.sum(np.identity(2)) * (n + s + i.size + j.size + k.size)
    total = np.sum(x * steps) + np.sum(x * logic) * scale
    return total * 2.0 if same else total


def nondiff_more_methods(x):
    r = x.round(1)
    i = np.sort(x).searchsorted(0.2)
    return np.sum(x * r) * (i + 1) * x.itemsize * x.nbytes


check(
    "nondifferentiable NumPy, more",
    (
        np.argwhere,
        np.flatnonzero,
        np.nonzero,
        np.count_nonzero,
        np.argpartition,
        np.searchsorted,
        np.digitize,
        np.rint,
        np.trunc,
        np.fix,
        np.floor_divide,
        np.signbit,
        np.isposinf,
        np.isneginf,
        np.array_equal,
        np.any,
        np.all,
        np.equal,
        np.not_equal,
        np.less,
        np.less_equal,
        np.greater,
        np.greater_equal,
        np.logical_and,
        np.logical_or,
        np.logical_xor,
        np.logical_not,
        np.identity,
    ),
    np_nondiff_more,
    np.array([0.33, -1.27, 2.61, 0.74]),
)
check(
    "nondifferentiable methods, more",
    ("method:round", "method:searchsorted", "attribute:itemsize", "attribute:nbytes"),
    nondiff_more_methods,
    np.array([0.33, -1.27, 2.61]),
)

# == raw array results, with a seed (tangent shapes checked exactly) ==============


def raw_inv(x):
    return np.linalg.inv(x)


def raw_cumprod(x):
    return np.cumprod(x, axis=1)


def raw_sort(x):
    return np.sort(x, axis=0)


def raw_pad(x):
    return np.pad(x, ((1, 2), (0, 1)), "reflect")


def raw_kron(a, b):
    return np.kron(a, b)


def raw_einsum(a, b):
    return np.einsum("ij,kj->ik", a, b)


def raw_cholesky(x):
    return np.linalg.cholesky(x)


def raw_max(x):
    return np.max(x, axis=1, keepdims=True)


def raw_take(x):
    return np.take(x, [[2, 0], [1, 1]], axis=1)


for label, func, args, wrt in [
    ("inv", raw_inv, (invertible(3),), 0),
    ("cumprod", raw_cumprod, (NEAR_ONE[0],), 0),
    ("sort", raw_sort, (distinct(3, 2),), 0),
    ("pad", raw_pad, (M,), 0),
    ("kron", raw_kron, (normal(2, 2), normal(3)), (0, 1)),
    ("einsum", raw_einsum, (normal(2, 3), normal(4, 3)), (0, 1)),
    ("cholesky", raw_cholesky, (spd(3),), 0),
    ("max", raw_max, (T,), 0),
    ("take", raw_take, (M,), 0),
]:
    out = func(*args)
    check(
        f"raw {label}",
        getattr(np.linalg, label, None) or getattr(np, label),
        func,
        *args,
        wrt=wrt,
        seed=RNG.standard_normal(np.shape(out)),
    )


# == scipy.special (when SciPy is installed) ========================================

try:
    from scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None


def sc_expit(x):
    return np.sum(np.sin(special.expit(x)))


def sc_logit(x):
    return np.sum(np.sin(special.logit(x)))


def sc_erf(x):
    return np.sum(special.erf(x) * x)


def sc_erfc(x):
    return np.sum(special.erfc(x) * x)


def sc_erfinv(x):
    return np.sum(special.erfinv(x))


def sc_gammaln(x):
    return np.sum(special.gammaln(x))


def sc_gamma(x):
    return np.sum(special.gamma(x))


def sc_digamma(x):
    return np.sum(special.digamma(x))


def sc_xlogy(x, y):
    return np.sum(np.sin(special.xlogy(x, y)))


def sc_xlogy_zero(y):
    return np.sum(special.xlogy(np.array([0.0, 1.5]), y))


def sc_softmax(axis):
    def f(x):
        out = special.softmax(x, axis=axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def sc_log_softmax(axis):
    def f(x):
        out = special.log_softmax(x, axis)
        return np.sum(np.sin(out) * np.arange(out.size).reshape(out.shape))

    return f


def sc_logsumexp(axis, keepdims):
    def f(x):
        return np.sum(np.sin(special.logsumexp(x, axis=axis, keepdims=keepdims)))

    return f


def sc_logsumexp_b(x, b):
    return np.sum(np.sin(special.logsumexp(x, axis=1, b=b)))


if special is not None:
    for func, target, domain in [
        (sc_expit, special.expit, normal),
        (sc_logit, special.logit, lambda *s: RNG.uniform(0.1, 0.9, s)),
        (sc_erf, special.erf, normal),
        (sc_erfc, special.erfc, normal),
        (sc_erfinv, special.erfinv, unit),
        (sc_gammaln, special.gammaln, positive),
        (sc_gamma, special.gamma, positive),
        (sc_digamma, special.digamma, positive),
    ]:
        name = target.__name__
        check(f"scipy {name} matrix", target, func, domain(2, 3))
        check(f"scipy {name} scalar", target, func, float(domain(1)[0]))
    sweep(
        "scipy xlogy",
        special.xlogy,
        sc_xlogy,
        [(normal(2, 3), positive(3)), (0.7, positive(2, 3)), (0.3, 1.1)],
        wrt=(0, 1),
    )
    check("scipy xlogy at x = 0", special.xlogy, sc_xlogy_zero, positive(2))
    for axis in (None, 0, -1):
        check(f"scipy softmax axis={axis}", special.softmax, sc_softmax(axis), M)
        check(
            f"scipy log_softmax axis={axis}",
            special.log_softmax,
            sc_log_softmax(axis),
            M,
        )
    for axis, keepdims in [(None, False), (1, False), ((0, 2), True), (-1, True)]:
        check(
            f"scipy logsumexp axis={axis} keepdims={keepdims}",
            special.logsumexp,
            sc_logsumexp(axis, keepdims),
            T,
        )
    check(
        "scipy logsumexp b",
        special.logsumexp,
        sc_logsumexp_b,
        M,
        positive(3),
        wrt=(0, 1),
    )


# == second and third derivatives: einsum, SVD norms, diagflat, polygamma ==========
#
# Drawn from a generator of their own, so that the data of the cases above
# stay what they were.

_RNG2 = np.random.default_rng(20261127)


def _normal2(*shape: int) -> np.ndarray:
    return _RNG2.standard_normal(shape)


def np_einsum_same_matrix(a):
    return np.sin(np.einsum("ij,ij->", a, a))


def np_einsum_trace_of_product(a, b):
    return np.sin(np.einsum("ij,ji->", a, b)) + np.sum(np.einsum("ii", a) * b)


check("einsum of one matrix twice", np.einsum, np_einsum_same_matrix, _normal2(2, 3))
check(
    "einsum trace of a product",
    np.einsum,
    np_einsum_trace_of_product,
    _normal2(3, 3),
    _normal2(3, 3),
    wrt=(0, 1),
)
for ord in ("nuc", 2, -2):
    for shape in [(3, 3), (4, 2)]:
        check(
            f"matrix norm ord={ord} {shape}",
            np.linalg.norm,
            matrix_norm(ord, None, False),
            _normal2(*shape),
        )
check("diagflat of a vector", np.diagflat, mr_diagflat, _normal2(3))
if hasattr(np, "matrix_transpose"):
    check(
        "matrix_transpose of a matrix",
        np.matrix_transpose,
        np2_matrix_transpose,
        _normal2(2, 3),
    )


def sc_polygamma(x):
    return np.sum(special.polygamma(1, x) * x + np.sin(special.polygamma(2, x)))


def sc_psi_product(x):
    return np.sum(special.psi(x) * x)


if special is not None:
    for label, value in [
        ("scalar", 1.3),
        ("vector", _RNG2.uniform(0.5, 2.0, 3)),
        ("matrix", _RNG2.uniform(0.5, 2.0, (2, 3))),
    ]:
        check(f"scipy polygamma {label}", special.polygamma, sc_polygamma, value)
        check(f"scipy psi times x {label}", special.psi, sc_psi_product, value)


# == coverage =====================================================================


def is_library_target(target: Any) -> bool:
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
        "scipy",
    )


def rule_key(rule: registry.Rule) -> Any:
    if rule.target is not None:
        return id(rule.target)
    name = rule.label.lstrip(".")
    kind = "method" if registry.lookup_method(name) is rule else "attribute"
    return f"{kind}:{name}"


def covered_keys() -> set[Any]:
    keys: set[Any] = set()
    for case in CHECKS:
        for target in case.covers:
            keys.add(target if isinstance(target, str) else id(target))
    return keys
