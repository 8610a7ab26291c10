"""The program table: small functions whose gradients are checked.

Every entry of :data:`PROGRAMS` is a :class:`Program`: a module-level function
(or a closure built here by a factory), a ``make_args(rng)`` returning the
positional arguments, and ``wrt``.  ``tests/test_programs.py`` checks s2s_ad's
gradient of each against central finite differences (``tests/fd.py``) and,
for entries marked ``autograd=True``, against autograd.

Arguments are drawn away from the points where a program is not
differentiable (kinks of abs/max, branch boundaries, loop exit thresholds),
so finite differences are a valid reference.  Programs registered more than
once (``cf_if_else_*``, ...) are run with arguments that take different
branches.

``autograd=False`` marks programs autograd cannot run (item assignment into
arrays, ``float()`` of a traced value, in-place operators on NumPy arrays).

Two further tables are held to a weaker contract -- differentiated correctly
or refused with a located error, never a wrong gradient: ``ALIASING_PROGRAMS``
(writes through an alias or a view) and ``BEYOND_PROGRAMS`` (NumPy functions
outside the documented list).
"""

from __future__ import annotations

import inspect
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from tests import program_helpers as ph
from tests.program_helpers import affine, horner, polar, scaled_square

Wrt = Union[int, str, tuple[Union[int, str], ...]]


@dataclass(frozen=True)
class Program:
    name: str
    func: Callable[..., Any]
    make_args: Callable[[np.random.Generator], tuple[Any, ...]]
    wrt: Wrt = 0
    autograd: bool = True
    # For programs with a non-scalar result: rng -> output adjoint (seed=).
    seed: Callable[[np.random.Generator], Any] | None = None
    rtol: float = 1e-5
    atol: float = 1e-7


def program_args(program: Program) -> tuple[Any, ...]:
    """The program's arguments, drawn from a generator seeded by its name."""
    rng = np.random.default_rng(zlib.crc32(program.name.encode()))
    return tuple(program.make_args(rng))


def program_seed(program: Program) -> Any:
    """The output adjoint for a program with a non-scalar result, else None."""
    if program.seed is None:
        return None
    rng = np.random.default_rng(zlib.crc32(program.name.encode()) + 1)
    return program.seed(rng)


def program_options(program: Program) -> dict[str, Any]:
    """Keyword arguments of ``grad``/``value_and_grad`` for the program."""
    options: dict[str, Any] = {"wrt": program.wrt}
    seed = program_seed(program)
    if seed is not None:
        options["seed"] = seed
    return options


def program_wrt_names(program: Program) -> tuple[str, ...]:
    """The program's ``wrt`` as parameter names."""
    params = list(inspect.signature(program.func).parameters)
    items = program.wrt if isinstance(program.wrt, tuple) else (program.wrt,)
    return tuple(params[w] if isinstance(w, int) else w for w in items)


def program_kinds(
    program: Program, kind_of: Callable[[Any], str] | None = None
) -> dict[str, str]:
    """The kind of each of the program's arguments (``kind_of``, by default
    :func:`s2s_ad.kinds.of_value`), by parameter name."""
    if kind_of is None:
        from s2s_ad.kinds import of_value as kind_of
    params = list(inspect.signature(program.func).parameters)
    return {p: kind_of(a) for p, a in zip(params, program_args(program))}


# =============================================================================
# Arithmetic
# =============================================================================


def arith_add_sub(x, y):
    return x + y - 2.0 * x + y * 3.0 - 1.5 - (y - x)


def arith_mul_div(x, y):
    return x * y / (x + 2.0) - y / x + 1.0 / (x * y)


def arith_pow_float(x):
    return x**2.5 + x**-0.5 + x**0.5 * 3.0


def arith_pow_int(x):
    return x**3 - 2 * x**2 + x**1 - x**-2


def arith_pow_zero(x, y):
    return x**0 * y + y**0 + x * y + x**0.0


def arith_exp_base(x):
    return 2**x + 3.0 ** (x / 2) + math.e**x


def arith_pow_both(x, y):
    return x**y + y ** (x * 0.5)


def arith_unary(x, y):
    z = -x
    return z * y + (-(x - y)) ** 2 + (+x) * -y


def arith_aug_assign(x, y):
    z = x
    z += y
    z -= 0.5 * x
    z *= y
    z /= x + 3.0
    z **= 2
    z += z * x
    return z


def arith_aug_assign_array(x, y):
    z = x * 1.0
    z += y
    z *= x
    z -= y**2
    z /= 2.0
    z **= 2
    return np.sum(z)


def arith_aug_assign_fresh_array(x, s):
    z = np.ones(3)
    z *= s
    z += x
    z **= 2
    total = 0.0
    total += np.sum(z)
    total *= s
    return total


def arith_ifexp(x, y):
    a = x * y if x > y else x + y
    return a * (y if y > 0 else -y)


def arith_ifexp_nested(x):
    return x**2 if x > 1.0 else (x**3 if x > 0.0 else -x * 2.0)


def arith_overwrite(x):
    x = x * x
    x = x + 1.0
    x = math.sin(x)
    return x * 2.0


def arith_repeated_reassign(x, y):
    a = x
    a = a * y
    a = a + x
    a = a * a
    b = a
    a = 3.0
    a = a * b + x
    b = b - a * y
    return a * b + b


def arith_int_subcomputation(x, b):
    n = int(b)
    shape = (n, 2)
    z = np.zeros(shape)
    z = z + x
    k = n * 2 + 1
    return np.sum(z * z) * k + x * n


def arith_int_from_shape(x):
    n = len(x)
    m = x.shape[0] * 2
    w = np.ones((m,))
    half = n // 2
    return np.sum(x) * n + np.sum(w[:n] * x**2) + np.sum(x[:half]) / half


def arith_constant_subexpressions(x):
    c = 2**3 + 1
    k = c / 3 - 1
    d = c % 4 + c // 2
    return x * c + k * x**2 + d * x**3


def arith_scalar_array_mix(x, s):
    return np.sum(s * x + x / s - s**2 + 2.0**x)


def arith_division_chain(x, y):
    return x / y / (x + y) - (x - y) / (x * y) ** 2


# =============================================================================
# math and builtins
# =============================================================================


def math_trig(x):
    return math.sin(x) * math.cos(x) + math.tan(x) + math.sin(2.0 * x) ** 2


def math_exp_log(x):
    return math.exp(x) * math.log(x) + math.log(x, 3.0) + math.log(x, 5)


def math_log_base_active(x, b):
    return math.log(x, b) * x


def math_log1p_expm1(x):
    return math.log1p(x) * math.expm1(x * 0.5) + math.log1p(x**2)


def math_sqrt_pow(x, y):
    return math.sqrt(x) + math.pow(x, y) + math.pow(x, 2) + math.pow(2.0, y)


def math_hyperbolic(x):
    return math.tanh(x) + math.sinh(x) * math.cosh(x) - math.tanh(2 * x) ** 2


def math_inverse_trig(x):
    return math.asin(x) + math.acos(x / 2) + math.atan(3 * x)


def math_atan2_hypot(x, y):
    return math.atan2(y, x) + math.hypot(x, y) + math.atan2(x * y, 1.0 + x)


def math_constants(x):
    return math.pi * x**2 + math.e * math.cos(math.pi * x)


def builtin_abs(x, y):
    return abs(x - y) + abs(x) * y + abs(-2.0 * y)


def builtin_min_max(x, y):
    return min(x, y) * 2.0 + max(x * y, 0.1) + max(x, 1.0) - min(y, 0.0)


def builtin_min_max_many(x, y, z):
    return max(x, y, z) - min(x, y, z) + min(x * 2.0, y)


def builtin_sum_pow(x, y):
    return sum([x, y, x * y]) + pow(x, 3) + pow(y, 0.5) + sum((x, 2.0 * y), 1.0)


def builtin_float(x, y):
    a = float(x) * y
    b = float(x * y + 1.0)
    return a + b**2


def builtin_abs_array(x):
    return np.sum(abs(x) * x) + abs(np.sum(x))


def builtin_max_min_over_array(x):
    return max(x) + min(x) * 2.0


def builtin_sum_over_array(x):
    return sum(x**2) + sum(x[:2])


# =============================================================================
# NumPy: elementwise
# =============================================================================


def np_exp_log(x):
    return np.sum(np.exp(x) * np.log(x) + np.log(x**2 + 1.0))


def np_trig_tanh(x):
    return np.sum(np.sin(x) * np.cos(2.0 * x) + np.tanh(x) ** 2)


def np_sqrt_abs(x):
    return np.sum(np.sqrt(np.abs(x)) + np.abs(x) * x)


def np_power(x, p):
    return np.sum(np.power(x, 3) + np.power(x, p) + np.power(2.0, x))


def np_power_arrays(x, y):
    return np.sum(np.power(x, y))


def np_maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) * 2.0 + np.minimum(x, 0.5) + np.maximum(0.0, y - x))


def np_where(x, y):
    return np.sum(np.where(x > 0, x * y, y**2) + np.where(y > x, 1.0, x))


def np_relu(x):
    return np.sum(np.where(x > 0.0, x, 0.0) ** 2 + np.maximum(x, 0.0) * x)


def np_funcs_on_float(x):
    return np.exp(x) + np.sin(x) * np.sqrt(x) + np.tanh(x) ** 2


def np_elementwise_chain(x):
    return np.sum(np.log(np.exp(np.sin(x)) + np.cos(x) ** 2))


def np_negation(x):
    return np.sum(-x * np.abs(-x) + (-x) ** 3)


# =============================================================================
# NumPy: reductions
# =============================================================================


def np_sum_axis(x):
    s0 = np.sum(x, axis=0)
    s1 = np.sum(x, axis=1)
    return np.sum(s0**2) + np.sum(s1**3)


def np_sum_keepdims(x):
    s = np.sum(x, axis=1, keepdims=True)
    return np.sum(x / s) + np.sum(s**2)


def np_mean_axis(x):
    a = np.mean(x)
    b = np.sum(np.mean(x, axis=0) ** 2)
    c = np.sum(np.mean(x, axis=-1, keepdims=True) * x)
    return a + b + c


def np_max_axis(x):
    a = np.max(x)
    b = np.sum(np.max(x, axis=0) ** 2)
    c = np.sum(np.max(x, axis=1, keepdims=True) * x)
    return a + b + c


def np_sum_tuple_axis(x):
    return np.sum(np.sum(x, axis=(0, 2)) ** 2) + np.sum(np.mean(x, axis=1) ** 2)


def np_logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def np_variance(x):
    m = np.mean(x, axis=0, keepdims=True)
    return np.sum(np.mean((x - m) ** 2, axis=0))


# =============================================================================
# NumPy: linear algebra, shapes, fresh arrays
# =============================================================================


def np_dot_vectors(x, y):
    return np.dot(x, y) ** 2


def np_dot_matvec(W, x):
    return np.sum(np.tanh(np.dot(W, x)))


def np_dot_matmat(A, B):
    return np.sum(np.dot(A, B) * np.dot(B.T, A.T).T)


def np_matmul(A, B):
    return np.sum((A @ B) ** 2)


def np_matmul_quadratic_form(A, v):
    return v @ A @ v


def np_matmul_chain(A, B, C):
    return np.sum(np.tanh(A @ B @ C))


def np_transpose(A):
    return np.sum(A.T @ A) + np.sum(np.transpose(A) * A.T)


def np_reshape(x):
    y = np.reshape(x, (3, 4))
    z = x.reshape(2, 6)
    return np.sum(y @ y.T) + np.sum(z[0] * z[1])


def np_fresh_arrays(x):
    z = np.zeros(3)
    o = np.ones((2, 3))
    zl = np.zeros_like(x)
    ol = np.ones_like(x)
    return np.sum((x + o) ** 2) + np.sum(zl * x) + np.sum(z) + np.sum(ol * x**3)


def np_outer_by_reshape(x, y):
    return np.sum((x.reshape(-1, 1) * y.reshape(1, -1)) ** 2)


# =============================================================================
# Broadcasting
# =============================================================================


def bcast_row_matrix(v, M):
    return np.sum((v + M) ** 2)


def bcast_col_row(a, b):
    return np.sum(np.sin(a * b))


def bcast_scalar_matrix(s, M):
    return np.sum(s * M + M / s)


def bcast_3d(a, b):
    return np.sum((a + b) ** 2 * a)


def bcast_0d_array(s, v):
    return np.sum(s * v) ** 2 + s


def bcast_numpy_scalar(s, M):
    return np.sum(np.exp(s * M)) * s


def bcast_center_rows(x):
    m = np.mean(x, axis=1, keepdims=True)
    return np.sum((x - m) ** 2)


def bcast_matrix_col(M, c):
    return np.sum(M * c - c**2 / M)


def bcast_aug_assign(x, b):
    z = x * 1.0
    z += b
    z *= b
    return np.sum(z**2)


# =============================================================================
# Control flow
# =============================================================================


def cf_if_else(x):
    if x > 1.0:
        y = x**2
    else:
        y = -(x**3)
    return y * 2.0


def cf_if_elif_else(x, y):
    if x > y:
        r = x * y
    elif x > 0:
        r = x + y**2
    else:
        r = math.exp(x) * y
    return r * x


def cf_if_array_condition(x):
    if np.sum(x) > 0:
        return np.sum(x**2)
    return np.sum(np.exp(x))


def cf_if_no_else(x):
    y = x
    if x < 2.0:
        y = y * 3.0
    return y * x


def cf_nested_if(x, y):
    z = x * y
    if x > 0:
        if y > 0:
            z = z + x**2
        else:
            z = z - y**2
    else:
        z = z * z
        if y > x:
            z = z + y
    return z


def cf_for_range(x, n):
    acc = 0.0
    for i in range(n):
        acc = acc + x**i / (i + 1)
    return acc


def cf_for_range_start_stop_step(x, n):
    acc = x
    for i in range(1, n, 2):
        acc = acc * 0.5 + math.sin(x * i)
    return acc


def cf_for_over_array(x):
    total = 0.0
    for v in x:
        total = total + v**2 * np.sin(v)
    return total


def cf_for_over_list(xs):
    acc = 1.0
    for v in xs:
        acc = acc * v + 1.0
    return acc


def cf_for_over_literal_list(x):
    acc = 0.0
    for c in [1.0, 2.0, 3.5]:
        acc = acc + c * x**c
    return acc


def cf_for_over_rows(M, v):
    acc = 0.0
    for row in M:
        acc = acc + np.dot(row, v) ** 2
    return acc


def cf_while_halving(x):
    y = x
    while y > 0.1:
        y = y * 0.5
    return y * y + x


def cf_while_counter_newton(a):
    y = a
    i = 0
    while i < 6:
        y = 0.5 * (y + a / y)
        i += 1
    return y


def cf_while_value_growth(x):
    s = x
    k = 0
    while s < 10.0:
        s = s * 1.5 + x
        k += 1
    return s / k


def cf_while_true_break(x):
    acc = x
    while True:
        acc = acc * 1.1 + 0.1 * math.sin(acc)
        if acc > 5.0:
            break
    return acc


def cf_nested_loops(x, n):
    acc = 0.0
    for i in range(n):
        for j in range(i):
            acc = acc + x[i] * x[j] * (j + 1)
    return acc


def cf_nested_loops_matrix(A):
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            total = total + A[i, j] ** 2 * (i + 1) - j * A[i, j]
    return total


def cf_break(x):
    acc = 0.0
    for i in range(len(x)):
        if acc > 2.0:
            break
        acc = acc + x[i] ** 2
    return acc


def cf_continue(x):
    acc = 0.0
    for v in x:
        if v < 0:
            continue
        acc = acc + v**3
    return acc


def cf_return_in_loop(x):
    for i in range(len(x)):
        if x[i] > 0.8:
            return x[i] * i + np.sum(x[:i] ** 2)
    return np.sum(x)


def cf_multiple_returns(x, y):
    if x > y:
        return x * y
    if x > 0:
        return x - y**2
    return y**2 * x


def cf_loop_carry_array(x, n):
    y = x
    for _ in range(n):
        y = np.tanh(y * 1.1 + 0.1)
    return np.sum(y**2)


def cf_loop_variable_after_loop(x, n):
    y = x
    for i in range(n):
        y = x * i + y * 0.5
    return y + i * x


def cf_nested_break_continue(A):
    acc = 0.0
    for row in A:
        for v in row:
            if v < 0:
                continue
            if v > 0.9:
                break
            acc = acc + v**2
    return acc


def cf_enumerate_zip(x, y):
    acc = 0.0
    for i, v in enumerate(x):
        acc = acc + i * v**2
    for a, b in zip(x, y):
        acc = acc + a * b
    return acc


# =============================================================================
# Subscripts: reads and writes
# =============================================================================


def sub_read_index(x, i):
    return x[i] * x[-1] + x[0] ** 2


def sub_slices(x):
    return np.sum(x[1:4] * x[2:5]) + np.sum(x[:3]) + np.sum(x[-2:] ** 2)


def sub_step_slices(x):
    return np.sum(x[::2] * x[1::2]) + np.sum(x[::-1] * x) + np.sum(x[1:7:3])


def sub_2d_index(A):
    a = A[0, 1] * A[1, 2]
    b = np.sum(A[:, 0] ** 2) + np.sum(A[1, :] * A[0])
    return a + b + np.sum(A[:, 1:3] ** 3)


def sub_index_array(x, idx):
    return np.sum(x[idx] ** 2) + np.sum(x[idx] * x[: len(idx)])


def sub_bool_mask(x):
    mask = x > 0
    return np.sum(x[mask] ** 2) + np.sum(x[x < 0])


def sub_none_index(x, y):
    return np.sum((x[:, None] * y[None, :]) ** 2)


def sub_write_index(x):
    y = np.zeros(4)
    y[0] = x[0] * 2.0
    y[1] = x[1] ** 2
    y[3] = x[0] * x[2]
    return np.sum(y * y)


def sub_write_slice_aug(x):
    y = np.ones(6)
    y[1:4] += x[:3] * 2.0
    y[::2] -= x[::2]
    y[3:] *= x[3:]
    return np.sum(y**2)


def sub_write_in_loop(x, n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] ** 2 + (y[i - 1] if i > 0 else 0.0)
    return np.sum(y * x)


def sub_overwrite_slot(x):
    y = np.zeros(3)
    y[0] = x[0]
    t = y[0] * 2.0
    y[0] = t * x[1]
    y[0] = y[0] + x[2]
    y[1] = y[0] ** 2
    y[0] = 7.0
    return np.sum(y) + y[1] * x[0]


def sub_overwrite_in_loop(x, n):
    y = np.zeros(2)
    acc = 0.0
    for i in range(n):
        y[0] = x[i] * y[1] + 1.0
        y[1] = np.sin(y[0]) + x[i]
        acc = acc + y[1] ** 2
    return acc


def sub_write_2d(A):
    B = np.zeros((2, 3))
    B[0, :] = A[1, :] * 2.0
    B[1] = A[0] ** 2
    B[:, 0] = B[:, 0] * A[:, 2]
    B[1, 1] = B[0, 1] * B[1, 2]
    return np.sum(B**2)


def sub_write_into_derived(x):
    y = x * 1.0
    y[2] = y[1] * y[3]
    y[1] = y[2] + y[0]
    return np.sum(y**2)


def sub_write_bool_mask(x):
    y = x * 1.0
    y[y < 0] = 0.0
    return np.sum(y**2 * x)


def sub_read_in_loop(x):
    acc = 0.0
    for i in range(1, len(x)):
        acc = acc + x[i] * x[i - 1]
    return acc


def sub_list_index(xs):
    return xs[0] * xs[2] + xs[-1] ** 2


# =============================================================================
# Calls to user functions
# =============================================================================


def _square(v):
    return v * v


def _cube_plus(v, c):
    return v**3 + c * v


def _cube_plus_two(v):
    return _cube_plus(v, 2.0)


def _sum_diff(a, b):
    return a + b, a - b


def _step(acc, x, rate=0.5):
    return acc * rate + np.sin(x * acc)


def _rec_power(x, n):
    if n == 0:
        return 1.0
    return x * _rec_power(x, n - 1)


def call_same_module(x):
    return _square(x) + _cube_plus(x, 2.0)


def call_imported(x, y):
    return ph.scaled_square(x, y) + scaled_square(y, 3.0) + ph.inner_poly(x * y)


def call_keyword_default(x, y):
    return affine(x, y) + affine(x, w=y, b=1.0) + affine(b=x, x=y, w=2.0) + affine(x)


def call_keyword_only(x, y):
    return ph.weighted(x, weight=y) + ph.weighted(y, bias=x, weight=2.0)


def call_returning_tuple(x, y):
    s, d = _sum_diff(x, y)
    r, theta = polar(x, y)
    both = _sum_diff(x * y, y)
    return s * d + r * theta + both[0] * both[1]


def call_nested(x):
    return _square(_cube_plus(_square(x), 1.0))


def call_in_loop(x, n):
    acc = 1.0
    for _ in range(n):
        acc = _step(acc, x)
    return acc


def call_recursive_power(x, n):
    return _rec_power(x, n)


def call_recursive_list(xs):
    return ph.sum_squares_from(xs, 0)


def call_dense_layer(W, b, x):
    return np.sum(ph.dense(x, W, b) ** 2)


def call_helper_chain(x):
    return ph.outer_poly(x)


def call_array_tuple_helper(v):
    m, s = ph.mean_and_spread(v)
    return m * s


def call_horner(coeffs, x):
    return horner(coeffs, x)


# =============================================================================
# Names: globals, closures, lambdas, comprehensions
# =============================================================================

SCALE = 1.7
OFFSET = -0.3
GLOBAL_W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
ACTIVATION = np.tanh
SQUARE = _square


def names_global_constants(x):
    return x * SCALE + OFFSET * x**2


def names_global_array(x):
    return np.sum(np.sin(GLOBAL_W @ x))


def names_global_functions(x):
    return SQUARE(x) + ACTIVATION(x) * _square(x)


def make_scaled(scale):
    def scaled(x):
        return scale * x**2 + math.sin(scale * x)

    return scaled


def make_poly(coeffs):
    def poly(x):
        acc = 0.0
        for i in range(len(coeffs)):
            acc = acc + coeffs[i] * x**i
        return acc

    return poly


def make_composed(outer, inner, weight):
    def composed(x):
        return weight * outer(inner(x))

    return composed


closure_scale = make_scaled(1.5)
closure_coeffs = make_poly((1.0, -2.0, 0.5, 0.25))
closure_compose = make_composed(_square, _cube_plus_two, 0.5)


def names_lambda(x):
    sq = lambda v: v * v
    f = lambda a, b=2.0: a * b + sq(a)
    return f(x) + f(x, b=x)


def names_lambda_closure(x, y):
    f = lambda v: v * y + x
    return f(x) * f(y)


def names_listcomp(x):
    ys = [v**2 for v in x]
    return sum(ys) * ys[0]


def names_genexp(xs):
    return sum(v**2 for v in xs)


def names_listcomp_condition(x):
    return sum([x[i] * i for i in range(len(x)) if i % 2 == 0])


def names_nested_comprehension(A):
    rows = [np.sum(row**2) for row in A]
    return sum(sum(v * w for w in row) for row, v in zip(A, rows))


# =============================================================================
# Containers
# =============================================================================


def cont_tuple_pack_unpack(x, y):
    t = (x, y * 2.0)
    a, b = t
    b, a = a, b
    return a * b**2 + t[0]


def cont_list_append_sum(x, n):
    out = []
    for i in range(n):
        out.append(x ** (i + 1))
    return sum(out)


def cont_list_append_index(x):
    out = []
    for v in x:
        out.append(np.exp(v))
    return out[0] * out[-1] + out[1]


def cont_list_append_stack(x, n):
    rows = []
    for i in range(n):
        rows.append(x * (i + 1.0))
    M = np.stack(rows)
    return np.sum(M**2 * np.sin(M))


def cont_tuple_arg(params, x):
    w, b = params
    return np.sum((x * w + b) ** 2)


def cont_list_arg(xs):
    return np.sum(xs[0] * xs[1]) + np.sum(xs[2] ** 2)


def cont_dict_arg(params, x):
    h = np.tanh(x @ params["w"] + params["b"])
    return np.sum(h**2)


def cont_nested_dict_arg(params, x):
    h = x
    for W in params["layers"]:
        h = np.tanh(h @ W)
    return params["scale"] * np.sum(h**2)


def cont_tuple_index(x):
    r = (x, x**2, 3.0)[1]
    return r * (x, 2.0 * x)[-1]


def cont_dict_literal(x):
    d = {"a": x * 2.0, "b": x**2}
    return d["a"] * d["b"]


def cont_list_item_assign(x):
    lst = [x, x * 2.0, 3.0]
    lst[2] = lst[0] * lst[1]
    lst[0] = lst[2] + 1.0
    return lst[0] * lst[1] + lst[2]


def cont_np_array_from_list(x, y):
    v = np.array([x, y, x * y])
    return np.sum(v**2)


# =============================================================================
# Array methods and attributes on active values
# =============================================================================


def meth_T_shape(A):
    n, m = A.shape
    return np.sum(A.T @ A) / (n * m)


def meth_sum_mean_max(A):
    return A.sum() + A.mean() * 2.0 + A.max() + A.sum(axis=0).max()


def meth_dot_reshape(x, y):
    return x.dot(y) + np.sum(x.reshape(2, 3).sum(axis=1) ** 2)


def meth_chain(A):
    return (A * 2.0).T.reshape(-1).sum() + (A**2).mean(axis=1).sum()


def meth_keepdims(A):
    return np.sum(A / A.sum(axis=1, keepdims=True)) + A.max(axis=0, keepdims=True).sum()


# =============================================================================
# Realistic programs
# =============================================================================


def real_seed_example(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def real_seed_example_math(x1, x2):
    return x1 * math.exp(-0.5 * (x1**2 + x2**2))


def real_logistic_regression(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def real_mlp_softmax_ce(params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    m = np.max(logits, axis=1, keepdims=True)
    shifted = logits - m
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def real_mlp_int_labels(W1, W2, X, labels):
    h = np.tanh(X @ W1)
    logits = h @ W2
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    n = X.shape[0]
    return -np.sum(logp[np.arange(n), labels]) / n


def real_euler_oscillator(k, c, x0, v0, n):
    x = x0
    v = v0
    dt = 0.05
    for _ in range(n):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
    return x**2 + v**2


def real_rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def real_rosenbrock_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def real_ridge_regression(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.dot(r, r) / len(y) + lam * np.sum(w**2)


def real_rnn(Wh, Wx, xs):
    h = np.zeros(Wh.shape[0])
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    return np.sum(h**2)


# =============================================================================
# Non-scalar results, differentiated with a seed (vector-Jacobian products)
# =============================================================================


def vjp_elementwise(x):
    return np.sin(x) * x


def vjp_matmul(A, B):
    return A @ B


def vjp_vector_from_scalar(x):
    return np.array([x, x**2, math.sin(x)]) * 2.0


# =============================================================================
# Harder cases: names shared with callees, aliasing, accumulation, edge values
# =============================================================================


def edge_unused_argument(x, y):
    return x**2 * 3.0


def edge_argument_only_in_condition(x, y):
    if y > 0:
        return x * 2.0
    return x * 3.0


def edge_floor_round(x):
    k = math.floor(x)
    r = round(x * 10.0)
    return (x - k) ** 2 + r * x


def edge_docstring_assert(x):
    """A docstring and an assertion: neither changes the derivative."""
    assert x > 0, "x must be positive"
    y = x**3
    return y


def edge_shadow_global_names(x):
    SCALE = 3.0
    _square = x * 2.0
    return SCALE * _square + x


def edge_power_negative_base(x):
    return np.sum(np.power(x, 3) + x**2 + np.power(x, 2.0))


def edge_cast_and_float(x):
    y = x.astype(np.float64)
    z = np.float64(2.0) * y
    return np.sum(z.T) + float(np.sum(x**2))


def edge_1d_transpose(x):
    return x.T @ x + np.sum(x.T * x)


def cf_bool_ops(x, y):
    if x > 0 and y > 0:
        r = x * y
    elif x > 0 or y > 1.0:
        r = x + y
    else:
        r = x - y
    if not x < -5.0:
        r = r * 2.0
    if 0.0 < x < 10.0:
        r = r + x**2
    return r


def cf_reversed_range(x):
    acc = 0.0
    for i in range(len(x) - 1, -1, -1):
        acc = acc * 0.5 + x[i]
    return acc


def cf_conditional_assign_in_loop(x):
    last = 0.0
    gain = 0.0
    best = x[0]
    for v in x:
        if v > best:
            gain = gain + (v - best) ** 2
            best = v
        last = v * best
    return best * 2.0 + last + gain


def cf_return_in_nested_loops(A):
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if A[i, j] > 1.5:
                return A[i, j] ** 2 * (i + j)
    return np.sum(A)


def cf_while_compound_condition(x):
    i = 0
    acc = 0.0
    while i < len(x) and acc < 3.0:
        acc = acc + x[i] ** 2
        i += 1
    return acc * i


def sub_aug_index_in_loop(x, n):
    y = np.zeros(3)
    for i in range(n):
        y[i % 3] += x[i] * y[(i + 1) % 3] + x[i]
    return np.sum(y**2)


def sub_fill_matrix_in_loops(x):
    n = len(x)
    D = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            D[i, j] = (x[i] - x[j]) ** 2
    return np.sum(np.exp(-D))


def sub_write_through_alias(x):
    y = np.zeros(3)
    z = y
    z[1] = x * 2.0
    return np.sum(y**2) + y[1] * x


def sub_write_through_view(x):
    y = np.ones(4)
    v = y[1:3]
    v[0] = x**2
    return np.sum(y * x)


def sub_copy_then_write(x):
    y = x.copy()
    y[0] = y[0] * y[1]
    return np.sum(y**2) + np.sum(x)


def sub_ellipsis(A):
    return np.sum(A[..., 0] * A[..., -1])


def sub_accumulate_rows(M, x):
    acc = np.zeros(M.shape[1])
    for i in range(M.shape[0]):
        acc += M[i] * x[i]
    return np.sum(np.sin(acc))


def _halve_twice(v):
    v = v * 0.5
    v = v * 0.5
    return v


def _rec_smooth(x, depth):
    if depth == 0:
        return np.sum(x**2)
    return _rec_smooth(np.tanh(x) * 1.5, depth - 1) + np.sum(x) * 0.1


def _scaled_with_count(x):
    return x * 3.0, 4


def _with_global_default(x, s=SCALE):
    return s * x**2


def call_callee_reassigns_parameter(x):
    v = x * 2.0
    w = _halve_twice(v)
    return v * w + x


def call_recursive_array(x, depth):
    return _rec_smooth(x, depth)


def call_returning_constant_pair(x):
    y, k = _scaled_with_count(x)
    return y * k


def call_global_default(x):
    return _with_global_default(x) + _with_global_default(x, SCALE * 2.0)


def cont_sum_list_of_arrays(x):
    parts = [x * 2.0, x**2, np.sin(x)]
    return np.sum(sum(parts))


def cont_list_of_tuples_arg(pairs):
    acc = 0.0
    for a, b in pairs:
        acc = acc + a * b**2
    return acc


def cont_list_aug_item(x):
    lst = [x, 2.0 * x]
    lst[0] += x**2
    lst[1] *= lst[0]
    return lst[0] + lst[1]


def cont_np_sum_of_list(x, y):
    return np.sum([x * y, x**2, y]) + np.mean(np.array([x, y]))


def names_comprehension_over_local(x, y):
    factors = [1.0, 2.0, 3.0]
    terms = [f * x + y for f in factors]
    return sum(t**2 for t in terms)


def real_gaussian_nll(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    z = (data - mu) / sigma
    return np.sum(0.5 * z**2 + log_sigma + 0.5 * np.log(2 * np.pi))


def real_attention(Q, K, V):
    scores = Q @ K.T / np.sqrt(Q.shape[1])
    scores = scores - np.max(scores, axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / np.sum(w, axis=1, keepdims=True)
    return np.sum((w @ V) ** 2)


def real_unrolled_gradient_descent(w0, lr, X, y, n):
    w = w0
    for _ in range(n):
        r = X @ w - y
        g = X.T @ r / len(y)
        w = w - lr * g
    return np.sum((X @ w - y) ** 2)


def real_layernorm(x, gamma, beta):
    m = np.mean(x, axis=-1, keepdims=True)
    v = np.mean((x - m) ** 2, axis=-1, keepdims=True)
    xn = (x - m) / np.sqrt(v + 1e-5)
    return np.sum(np.tanh(xn * gamma + beta))


def real_polynomial_fit(coeffs, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        loss = loss + (ph.horner(coeffs, x) - y) ** 2
    return loss / len(xs)


def edge_identity(x):
    return x


def edge_constant_result(x):
    return 2.0


def edge_chained_assignment(x):
    a = b = x * 2.0
    a = a + 1.0
    return a * b


def np_positional_axis(x):
    return np.sum(np.sum(x, 0) ** 2) + np.sum(np.mean(x, 1) ** 3) + x.sum(1).max()


def names_nested_def(x, y):
    def inner(v, w=1.0):
        return v * y + w * x

    return inner(x) * inner(2.0, w=y)


def _as_dict(x):
    return {"double": 2.0 * x, "square": x**2}


def call_helper_returning_dict(x):
    d = _as_dict(x)
    return d["double"] * d["square"]


def sub_reverse_index_arithmetic(x, n):
    acc = 0.0
    for i in range(n):
        acc = acc + x[n - 1 - i] * (i + 1) + x[(i * 2) % n] ** 2
    return acc


def alias_aug_assign(x):
    y = np.zeros(3)
    z = y
    z += x
    return np.sum(y**2) * x


def alias_reshape_view(x):
    y = np.ones(4)
    v = y.reshape(2, 2)
    v[0, 0] = x * 3.0
    return np.sum(y * x)


def alias_transpose_view(x):
    y = np.ones((2, 3))
    t = y.T
    t[2, 1] = x**2
    return np.sum(y**2)


def alias_row_in_loop(x):
    M = np.ones((3, 2))
    for row in M:
        row[0] = row[0] * x
    return np.sum(M**2)


def alias_chained_subscript_write(x):
    y = np.ones(4)
    y[1:3][0] = x * 5.0
    return np.sum(y * x)


def alias_append_then_mutate(x):
    acc = np.zeros(2)
    rows = []
    for i in range(3):
        acc += x[i]
        rows.append(acc)
    return np.sum(np.stack(rows) ** 2)


def alias_list(x):
    a = [x, 1.0]
    b = a
    b[0] = x * 3.0
    return a[0] * x


def cf_param_reassigned_in_loop(x, n):
    for _ in range(n):
        x = x * 0.9 + 0.1 * np.sin(x)
    return np.sum(x**2)


def cf_var_defined_in_branch(x):
    if x > 0:
        y = x**2
        z = y * 3.0
    else:
        y = -x
    if x > 0:
        y = y + z
    return y


def cf_long_loop(x, n):
    acc = x
    for i in range(n):
        acc = acc + 0.001 * np.sin(acc + i * 0.01)
    return acc


def sub_chained_read(A):
    acc = 0.0
    for i in range(len(A)):
        acc = acc + A[i][0] * A[i][-1]
    return acc


def beyond_concatenate(x, y):
    return np.sum(np.concatenate([x, y * 2.0]) ** 2)


def beyond_ravel_flatten(A):
    return np.sum(np.ravel(A) * A.flatten() ** 2) + np.sum(A.ravel() ** 3)


def beyond_outer(x, y):
    return np.sum(np.outer(x, y) ** 2)


def beyond_clip(x):
    return np.sum(np.clip(x, -0.5, 0.5) ** 2 * x)


def beyond_prod(x):
    return np.prod(x) + x.prod()


def beyond_cumsum(x):
    return np.sum(np.cumsum(x) ** 2)


def beyond_linalg_norm(x):
    return np.linalg.norm(x) * 2.0


def beyond_min(A):
    return np.min(A) + np.sum(A.min(axis=1) ** 2)


def beyond_std_var(A):
    return np.std(A) + np.sum(np.var(A, axis=0))


def beyond_square_log1p(x):
    return np.sum(np.square(x) + np.log1p(x**2) + np.expm1(x) + np.arctan(x))


def beyond_expand_squeeze(x):
    col = np.expand_dims(x, 1)
    return np.sum(np.squeeze(col * col.T) ** 2)


def vjp_loop_output(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) * 1.1 + x
    return y


# =============================================================================
# Argument factories
# =============================================================================


def _u(rng, lo, hi, shape=None):
    """Uniform float (shape None) or float64 array."""
    if shape is None:
        return float(rng.uniform(lo, hi))
    return rng.uniform(lo, hi, size=shape)


def _signed(rng, lo, hi, shape):
    """Array with magnitudes in [lo, hi] and random signs (away from 0)."""
    return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _n(rng, shape):
    return rng.normal(size=shape)


def _mlp_params(rng):
    return {
        "W1": 0.5 * _n(rng, (4, 5)),
        "b1": 0.1 * _n(rng, (5,)),
        "W2": 0.5 * _n(rng, (5, 3)),
        "b2": 0.1 * _n(rng, (3,)),
    }


def _one_hot(rng, n, k):
    Y = np.zeros((n, k))
    Y[np.arange(n), rng.integers(0, k, size=n)] = 1.0
    return Y


def _return_in_loop_args(rng):
    x = _u(rng, 0.0, 0.7, 6)
    x[3] = 0.9
    return (x,)


def _rows_with_signs(rng):
    # Values in (-1, -0.1) or (0.1, 0.85), with a few above 0.9 to break.
    A = _signed(rng, 0.1, 0.85, (4, 5))
    A[1, 2] = 0.95
    A[3, 1] = 0.97
    return (A,)


def _nested_return_args(rng):
    A = rng.uniform(-1.0, 1.0, size=(3, 4))
    A[1, 2] = 2.0
    return (A,)


P = Program
PROGRAMS = [
    # -- arithmetic --
    P(
        "arith_add_sub",
        arith_add_sub,
        lambda r: (_u(r, 0.5, 1.5), _u(r, -1, 1)),
        (0, 1),
    ),
    P("arith_mul_div", arith_mul_div, lambda r: (_u(r, 1, 2), _u(r, 0.5, 1.5)), (0, 1)),
    P("arith_pow_float", arith_pow_float, lambda r: (_u(r, 0.5, 2.0),)),
    P("arith_pow_int", arith_pow_int, lambda r: (_u(r, -1.5, -0.5),)),
    P(
        "arith_pow_zero",
        arith_pow_zero,
        lambda r: (_u(r, 0.5, 2), _u(r, -2, 2)),
        (0, 1),
    ),
    P("arith_exp_base", arith_exp_base, lambda r: (_u(r, -1, 1.5),)),
    P(
        "arith_pow_both",
        arith_pow_both,
        lambda r: (_u(r, 0.5, 2), _u(r, 0.5, 2)),
        (0, 1),
    ),
    P(
        "arith_unary",
        arith_unary,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
        autograd=False,
    ),
    P(
        "arith_aug_assign",
        arith_aug_assign,
        lambda r: (_u(r, 0.5, 1.5), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "arith_aug_assign_array",
        arith_aug_assign_array,
        lambda r: (_u(r, -1, 1, 4), _u(r, -1, 1, 4)),
        (0, 1),
        autograd=False,
    ),
    P(
        "arith_aug_assign_fresh_array",
        arith_aug_assign_fresh_array,
        lambda r: (_u(r, -1, 1, 3), _u(r, 0.5, 1.5)),
        (0, 1),
        autograd=False,
    ),
    P(
        "arith_ifexp_true",
        arith_ifexp,
        lambda r: (_u(r, 1.5, 2), _u(r, 0.2, 1)),
        (0, 1),
    ),
    P(
        "arith_ifexp_false",
        arith_ifexp,
        lambda r: (_u(r, -2, -1), _u(r, -0.9, -0.2)),
        (0, 1),
    ),
    P("arith_ifexp_nested_a", arith_ifexp_nested, lambda r: (_u(r, 1.2, 2),)),
    P("arith_ifexp_nested_b", arith_ifexp_nested, lambda r: (_u(r, 0.2, 0.8),)),
    P("arith_ifexp_nested_c", arith_ifexp_nested, lambda r: (_u(r, -1, -0.2),)),
    P("arith_overwrite", arith_overwrite, lambda r: (_u(r, -1, 1),)),
    P(
        "arith_repeated_reassign",
        arith_repeated_reassign,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "arith_int_subcomputation",
        arith_int_subcomputation,
        lambda r: (_u(r, -1, 1), 3.7),
    ),
    P("arith_int_from_shape", arith_int_from_shape, lambda r: (_u(r, -1, 1, 6),)),
    P(
        "arith_constant_subexpressions",
        arith_constant_subexpressions,
        lambda r: (_u(r, -1, 1),),
    ),
    P(
        "arith_scalar_array_mix",
        arith_scalar_array_mix,
        lambda r: (_u(r, -1, 1, 5), _u(r, 0.5, 1.5)),
        (0, 1),
    ),
    P(
        "arith_division_chain",
        arith_division_chain,
        lambda r: (_u(r, 1, 2), _u(r, 0.2, 0.8)),
        (0, 1),
    ),
    # -- math and builtins --
    P("math_trig", math_trig, lambda r: (_u(r, 0.2, 1.0),)),
    P("math_exp_log", math_exp_log, lambda r: (_u(r, 0.5, 2.0),)),
    P(
        "math_log_base_active",
        math_log_base_active,
        lambda r: (_u(r, 2, 4), _u(r, 1.5, 3)),
        (0, 1),
    ),
    P("math_log1p_expm1", math_log1p_expm1, lambda r: (_u(r, 0.1, 1.5),)),
    P("math_sqrt_pow", math_sqrt_pow, lambda r: (_u(r, 0.5, 2), _u(r, 0.5, 2)), (0, 1)),
    P("math_hyperbolic", math_hyperbolic, lambda r: (_u(r, -1, 1),)),
    P("math_inverse_trig", math_inverse_trig, lambda r: (_u(r, 0.1, 0.8),)),
    P(
        "math_atan2_hypot",
        math_atan2_hypot,
        lambda r: (_u(r, -1.5, -0.5), _u(r, 0.3, 1)),
        (0, 1),
    ),
    P("math_constants", math_constants, lambda r: (_u(r, -1, 1),)),
    P("builtin_abs", builtin_abs, lambda r: (_u(r, 0.2, 0.5), _u(r, 1, 2)), (0, 1)),
    P(
        "builtin_min_max",
        builtin_min_max,
        lambda r: (_u(r, 1.5, 2), _u(r, 0.2, 0.5)),
        (0, 1),
    ),
    P(
        "builtin_min_max_many",
        builtin_min_max_many,
        lambda r: (_u(r, 0.4, 0.6), _u(r, 1.4, 1.6), _u(r, 0.9, 1.1)),
        (0, 1, 2),
    ),
    P(
        "builtin_sum_pow",
        builtin_sum_pow,
        lambda r: (_u(r, -1, 1), _u(r, 0.5, 2)),
        (0, 1),
    ),
    P(
        "builtin_float",
        builtin_float,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
        autograd=False,
    ),
    P("builtin_abs_array", builtin_abs_array, lambda r: (_signed(r, 0.2, 1, 5),)),
    P("builtin_max_min_over_array", builtin_max_min_over_array, lambda r: (_n(r, 5),)),
    P("builtin_sum_over_array", builtin_sum_over_array, lambda r: (_n(r, 5),)),
    # -- numpy elementwise --
    P("np_exp_log", np_exp_log, lambda r: (_u(r, 0.5, 2, 5),)),
    P("np_trig_tanh", np_trig_tanh, lambda r: (_n(r, (2, 3)),)),
    P("np_sqrt_abs", np_sqrt_abs, lambda r: (_signed(r, 0.2, 1, (2, 3)),)),
    P("np_power", np_power, lambda r: (_u(r, 0.5, 2, 4), _u(r, 0.5, 2.5)), (0, 1)),
    P(
        "np_power_arrays",
        np_power_arrays,
        lambda r: (_u(r, 0.5, 2, 4), _u(r, -1, 2, 4)),
        (0, 1),
    ),
    P("np_maximum_minimum", np_maximum_minimum, lambda r: (_n(r, 6), _n(r, 6)), (0, 1)),
    P("np_where", np_where, lambda r: (_n(r, 6), _n(r, 6)), (0, 1)),
    P("np_relu", np_relu, lambda r: (_n(r, (3, 4)),)),
    P("np_funcs_on_float", np_funcs_on_float, lambda r: (_u(r, 0.5, 2),)),
    P("np_elementwise_chain", np_elementwise_chain, lambda r: (_n(r, 5),)),
    P("np_negation", np_negation, lambda r: (_signed(r, 0.2, 1, 4),)),
    # -- numpy reductions --
    P("np_sum_axis", np_sum_axis, lambda r: (_n(r, (3, 4)),)),
    P("np_sum_keepdims", np_sum_keepdims, lambda r: (_u(r, 0.5, 1.5, (3, 4)),)),
    P("np_mean_axis", np_mean_axis, lambda r: (_n(r, (3, 4)),)),
    P("np_max_axis", np_max_axis, lambda r: (_n(r, (3, 4)),)),
    P("np_sum_tuple_axis", np_sum_tuple_axis, lambda r: (_n(r, (2, 3, 4)),)),
    P("np_logsumexp", np_logsumexp, lambda r: (_n(r, 6),)),
    P("np_variance", np_variance, lambda r: (_n(r, (5, 3)),)),
    # -- numpy linear algebra and shapes --
    P("np_dot_vectors", np_dot_vectors, lambda r: (_n(r, 4), _n(r, 4)), (0, 1)),
    P("np_dot_matvec", np_dot_matvec, lambda r: (_n(r, (3, 4)), _n(r, 4)), (0, 1)),
    P("np_dot_matmat", np_dot_matmat, lambda r: (_n(r, (2, 3)), _n(r, (3, 4))), (0, 1)),
    P("np_matmul", np_matmul, lambda r: (_n(r, (2, 3)), _n(r, (3, 4))), (0, 1)),
    P(
        "np_matmul_quadratic_form",
        np_matmul_quadratic_form,
        lambda r: (_n(r, (3, 3)), _n(r, 3)),
        (0, 1),
    ),
    P(
        "np_matmul_chain",
        np_matmul_chain,
        lambda r: (_n(r, (2, 3)), _n(r, (3, 4)), _n(r, (4, 2))),
        (0, 1, 2),
    ),
    P("np_transpose", np_transpose, lambda r: (_n(r, (2, 3)),)),
    P("np_reshape", np_reshape, lambda r: (_n(r, 12),)),
    P("np_fresh_arrays", np_fresh_arrays, lambda r: (_n(r, (2, 3)),)),
    P(
        "np_outer_by_reshape",
        np_outer_by_reshape,
        lambda r: (_n(r, 3), _n(r, 4)),
        (0, 1),
    ),
    # -- broadcasting --
    P(
        "bcast_row_matrix",
        bcast_row_matrix,
        lambda r: (_n(r, 3), _n(r, (2, 3))),
        (0, 1),
    ),
    P("bcast_col_row", bcast_col_row, lambda r: (_n(r, (2, 1)), _n(r, (1, 3))), (0, 1)),
    P(
        "bcast_scalar_matrix",
        bcast_scalar_matrix,
        lambda r: (_u(r, 0.5, 1.5), _n(r, (2, 3))),
        (0, 1),
    ),
    P("bcast_3d", bcast_3d, lambda r: (_n(r, (4, 1, 3)), _n(r, (2, 3))), (0, 1)),
    P(
        "bcast_0d_array",
        bcast_0d_array,
        lambda r: (np.array(_u(r, 0.5, 1.5)), _n(r, 4)),
        (0, 1),
    ),
    P(
        "bcast_numpy_scalar",
        bcast_numpy_scalar,
        lambda r: (np.float64(_u(r, 0.2, 0.8)), _n(r, (2, 3))),
        (0, 1),
    ),
    P("bcast_center_rows", bcast_center_rows, lambda r: (_n(r, (3, 4)),)),
    P(
        "bcast_matrix_col",
        bcast_matrix_col,
        lambda r: (_u(r, 0.5, 1.5, (3, 4)), _n(r, (3, 1))),
        (0, 1),
    ),
    P(
        "bcast_aug_assign",
        bcast_aug_assign,
        lambda r: (_n(r, (2, 3)), _n(r, 3)),
        (0, 1),
        autograd=False,
    ),
    # -- control flow --
    P("cf_if_else_true", cf_if_else, lambda r: (_u(r, 1.2, 2),)),
    P("cf_if_else_false", cf_if_else, lambda r: (_u(r, -1, 0.8),)),
    P(
        "cf_if_elif_else_if",
        cf_if_elif_else,
        lambda r: (_u(r, 1, 2), _u(r, -1, 0.5)),
        (0, 1),
    ),
    P(
        "cf_if_elif_else_elif",
        cf_if_elif_else,
        lambda r: (_u(r, 0.2, 0.8), _u(r, 1, 2)),
        (0, 1),
    ),
    P(
        "cf_if_elif_else_else",
        cf_if_elif_else,
        lambda r: (_u(r, -2, -1), _u(r, -0.5, 1)),
        (0, 1),
    ),
    P(
        "cf_if_array_condition_true",
        cf_if_array_condition,
        lambda r: (_u(r, 0.1, 1, 4),),
    ),
    P(
        "cf_if_array_condition_false",
        cf_if_array_condition,
        lambda r: (_u(r, -1, -0.1, 4),),
    ),
    P("cf_if_no_else_taken", cf_if_no_else, lambda r: (_u(r, 0.5, 1.5),)),
    P("cf_if_no_else_skipped", cf_if_no_else, lambda r: (_u(r, 2.5, 3),)),
    P(
        "cf_nested_if_pp",
        cf_nested_if,
        lambda r: (_u(r, 0.2, 1), _u(r, 0.2, 1)),
        (0, 1),
    ),
    P(
        "cf_nested_if_pn",
        cf_nested_if,
        lambda r: (_u(r, 0.2, 1), _u(r, -1, -0.2)),
        (0, 1),
    ),
    P(
        "cf_nested_if_np",
        cf_nested_if,
        lambda r: (_u(r, -1, -0.2), _u(r, 0.2, 1)),
        (0, 1),
    ),
    P("cf_for_range", cf_for_range, lambda r: (_u(r, 0.5, 1.5), 5)),
    P("cf_for_range_zero_trips", cf_for_range, lambda r: (_u(r, 0.5, 1.5), 0)),
    P(
        "cf_for_range_start_stop_step",
        cf_for_range_start_stop_step,
        lambda r: (_u(r, -1, 1), 8),
    ),
    P("cf_for_over_array", cf_for_over_array, lambda r: (_n(r, 5),)),
    P(
        "cf_for_over_list",
        cf_for_over_list,
        lambda r: ([_u(r, -1, 1) for _ in range(4)],),
    ),
    P(
        "cf_for_over_literal_list",
        cf_for_over_literal_list,
        lambda r: (_u(r, 0.5, 1.5),),
    ),
    P(
        "cf_for_over_rows",
        cf_for_over_rows,
        lambda r: (_n(r, (4, 3)), _n(r, 3)),
        (0, 1),
    ),
    P("cf_while_halving", cf_while_halving, lambda r: (_u(r, 1.0, 1.4),)),
    P("cf_while_counter_newton", cf_while_counter_newton, lambda r: (_u(r, 1, 4),)),
    P("cf_while_value_growth", cf_while_value_growth, lambda r: (_u(r, 0.55, 0.65),)),
    P("cf_while_true_break", cf_while_true_break, lambda r: (_u(r, 1.0, 1.2),)),
    P("cf_nested_loops", cf_nested_loops, lambda r: (_n(r, 5), 5)),
    P("cf_nested_loops_matrix", cf_nested_loops_matrix, lambda r: (_n(r, (3, 4)),)),
    P("cf_break", cf_break, lambda r: (_u(r, 0.5, 1.0, 8),)),
    P("cf_continue", cf_continue, lambda r: (_signed(r, 0.2, 1, 6),)),
    P("cf_return_in_loop", cf_return_in_loop, _return_in_loop_args),
    P("cf_return_after_loop", cf_return_in_loop, lambda r: (_u(r, 0, 0.7, 6),)),
    P(
        "cf_multiple_returns_first",
        cf_multiple_returns,
        lambda r: (_u(r, 1, 2), _u(r, 0, 0.8)),
        (0, 1),
    ),
    P(
        "cf_multiple_returns_second",
        cf_multiple_returns,
        lambda r: (_u(r, 0.2, 0.8), _u(r, 1, 2)),
        (0, 1),
    ),
    P(
        "cf_multiple_returns_last",
        cf_multiple_returns,
        lambda r: (_u(r, -2, -1), _u(r, -0.5, 1)),
        (0, 1),
    ),
    P("cf_loop_carry_array", cf_loop_carry_array, lambda r: (_n(r, 4), 4)),
    P(
        "cf_loop_variable_after_loop",
        cf_loop_variable_after_loop,
        lambda r: (_u(r, -1, 1), 4),
    ),
    P("cf_nested_break_continue", cf_nested_break_continue, _rows_with_signs),
    P("cf_enumerate_zip", cf_enumerate_zip, lambda r: (_n(r, 4), _n(r, 4)), (0, 1)),
    # -- subscripts --
    P("sub_read_index", sub_read_index, lambda r: (_n(r, 5), 2)),
    P("sub_slices", sub_slices, lambda r: (_n(r, 6),)),
    P("sub_step_slices", sub_step_slices, lambda r: (_n(r, 8),)),
    P("sub_2d_index", sub_2d_index, lambda r: (_n(r, (3, 4)),)),
    P(
        "sub_index_array",
        sub_index_array,
        lambda r: (_n(r, 6), np.array([0, 2, 2, 4, 0])),
    ),
    P("sub_bool_mask", sub_bool_mask, lambda r: (_signed(r, 0.2, 1, 6),)),
    P("sub_none_index", sub_none_index, lambda r: (_n(r, 3), _n(r, 4)), (0, 1)),
    P("sub_write_index", sub_write_index, lambda r: (_n(r, 3),), autograd=False),
    P(
        "sub_write_slice_aug",
        sub_write_slice_aug,
        lambda r: (_n(r, 6),),
        autograd=False,
    ),
    P("sub_write_in_loop", sub_write_in_loop, lambda r: (_n(r, 5), 5), autograd=False),
    P("sub_overwrite_slot", sub_overwrite_slot, lambda r: (_n(r, 3),), autograd=False),
    P(
        "sub_overwrite_in_loop",
        sub_overwrite_in_loop,
        lambda r: (_n(r, 4), 4),
        autograd=False,
    ),
    P("sub_write_2d", sub_write_2d, lambda r: (_n(r, (2, 3)),), autograd=False),
    P(
        "sub_write_into_derived",
        sub_write_into_derived,
        lambda r: (_n(r, 5),),
        autograd=False,
    ),
    P(
        "sub_write_bool_mask",
        sub_write_bool_mask,
        lambda r: (_signed(r, 0.2, 1, 6),),
        autograd=False,
    ),
    P("sub_read_in_loop", sub_read_in_loop, lambda r: (_n(r, 6),)),
    P(
        "sub_list_index",
        sub_list_index,
        lambda r: ([_u(r, -1, 1) for _ in range(3)],),
    ),
    # -- calls --
    P("call_same_module", call_same_module, lambda r: (_u(r, -1, 1),)),
    P("call_imported", call_imported, lambda r: (_u(r, -1, 1), _u(r, -1, 1)), (0, 1)),
    P(
        "call_keyword_default",
        call_keyword_default,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "call_keyword_only",
        call_keyword_only,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "call_returning_tuple",
        call_returning_tuple,
        lambda r: (_u(r, 0.5, 1.5), _u(r, 0.5, 1.5)),
        (0, 1),
    ),
    P("call_nested", call_nested, lambda r: (_u(r, -1, 1),)),
    P("call_in_loop", call_in_loop, lambda r: (_u(r, -1, 1), 4)),
    P("call_recursive_power", call_recursive_power, lambda r: (_u(r, -1.5, 1.5), 5)),
    P(
        "call_recursive_list",
        call_recursive_list,
        lambda r: ([_u(r, -1, 1) for _ in range(4)],),
    ),
    P(
        "call_dense_layer",
        call_dense_layer,
        lambda r: (_n(r, (3, 2)), _n(r, 2), _n(r, (4, 3))),
        (0, 1, 2),
    ),
    P("call_helper_chain", call_helper_chain, lambda r: (_u(r, -1, 1),)),
    P("call_array_tuple_helper", call_array_tuple_helper, lambda r: (_n(r, 5),)),
    P("call_horner", call_horner, lambda r: (_n(r, 4), _u(r, -1, 1)), (0, 1)),
    # -- names --
    P("names_global_constants", names_global_constants, lambda r: (_u(r, -1, 1),)),
    P("names_global_array", names_global_array, lambda r: (_n(r, 3),)),
    P("names_global_functions", names_global_functions, lambda r: (_u(r, -1, 1),)),
    P("closure_scale", closure_scale, lambda r: (_u(r, -1, 1),)),
    P("closure_coeffs", closure_coeffs, lambda r: (_u(r, -1, 1),)),
    P("closure_compose", closure_compose, lambda r: (_u(r, -1, 1),)),
    P("names_lambda", names_lambda, lambda r: (_u(r, -1, 1),)),
    P(
        "names_lambda_closure",
        names_lambda_closure,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P("names_listcomp", names_listcomp, lambda r: (_n(r, 4),)),
    P("names_genexp", names_genexp, lambda r: ([_u(r, -1, 1) for _ in range(4)],)),
    P("names_listcomp_condition", names_listcomp_condition, lambda r: (_n(r, 6),)),
    P(
        "names_nested_comprehension",
        names_nested_comprehension,
        lambda r: (_n(r, (3, 2)),),
    ),
    # -- containers --
    P(
        "cont_tuple_pack_unpack",
        cont_tuple_pack_unpack,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P("cont_list_append_sum", cont_list_append_sum, lambda r: (_u(r, -1, 1), 4)),
    P("cont_list_append_index", cont_list_append_index, lambda r: (_n(r, 4),)),
    P("cont_list_append_stack", cont_list_append_stack, lambda r: (_n(r, 3), 3)),
    P("cont_tuple_arg", cont_tuple_arg, lambda r: ((_n(r, 3), _u(r, -1, 1)), _n(r, 3))),
    P("cont_list_arg", cont_list_arg, lambda r: ([_n(r, 3), _n(r, 3), _n(r, (2, 2))],)),
    P(
        "cont_dict_arg",
        cont_dict_arg,
        lambda r: ({"w": _n(r, (3, 2)), "b": _n(r, 2)}, _n(r, (4, 3))),
    ),
    P(
        "cont_nested_dict_arg",
        cont_nested_dict_arg,
        lambda r: (
            {"layers": [_n(r, (3, 4)), _n(r, (4, 2))], "scale": _u(r, 0.5, 1.5)},
            _n(r, (2, 3)),
        ),
    ),
    P("cont_tuple_index", cont_tuple_index, lambda r: (_u(r, -1, 1),)),
    P("cont_dict_literal", cont_dict_literal, lambda r: (_u(r, -1, 1),)),
    P("cont_list_item_assign", cont_list_item_assign, lambda r: (_u(r, -1, 1),)),
    P(
        "cont_np_array_from_list",
        cont_np_array_from_list,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    # -- array methods --
    P("meth_T_shape", meth_T_shape, lambda r: (_n(r, (3, 2)),)),
    P("meth_sum_mean_max", meth_sum_mean_max, lambda r: (_n(r, (3, 4)),)),
    P(
        "meth_dot_reshape",
        meth_dot_reshape,
        lambda r: (_n(r, 6), _n(r, 6)),
        (0, 1),
        autograd=False,
    ),
    P("meth_chain", meth_chain, lambda r: (_n(r, (2, 3)),)),
    P("meth_keepdims", meth_keepdims, lambda r: (_u(r, 0.5, 1.5, (3, 4)),)),
    # -- realistic --
    P("real_seed_example_point", real_seed_example, lambda r: (2.0, 0.5), ("x1", "x2")),
    P(
        "real_seed_example",
        real_seed_example,
        lambda r: (_n(r, None), _n(r, None)),
        ("x1", "x2"),
    ),
    P(
        "real_seed_example_arrays",
        real_seed_example,
        lambda r: (_n(r, 3), _n(r, 3)),
        (0, 1),
        seed=lambda r: _n(r, 3),
    ),
    P(
        "real_seed_example_math",
        real_seed_example_math,
        lambda r: (_n(r, None), _n(r, None)),
        ("x2", "x1"),
    ),
    P(
        "real_logistic_regression",
        real_logistic_regression,
        lambda r: (
            _n(r, 3),
            _u(r, -0.5, 0.5),
            _n(r, (8, 3)),
            (r.uniform(size=8) > 0.5) * 1.0,
        ),
        ("w", "b"),
    ),
    P(
        "real_mlp_softmax_ce",
        real_mlp_softmax_ce,
        lambda r: (_mlp_params(r), _n(r, (6, 4)), _one_hot(r, 6, 3)),
    ),
    P(
        "real_mlp_int_labels",
        real_mlp_int_labels,
        lambda r: (
            0.5 * _n(r, (4, 5)),
            0.5 * _n(r, (5, 3)),
            _n(r, (6, 4)),
            r.integers(0, 3, size=6),
        ),
        (0, 1),
    ),
    P(
        "real_euler_oscillator",
        real_euler_oscillator,
        lambda r: (_u(r, 1, 3), _u(r, 0.1, 0.5), _u(r, 0.5, 1.5), _u(r, -1, 1), 40),
        ("k", "c", "x0", "v0"),
    ),
    P("real_rosenbrock", real_rosenbrock, lambda r: (_u(r, -1.5, 1.5, 5),), atol=1e-5),
    P(
        "real_rosenbrock_loop",
        real_rosenbrock_loop,
        lambda r: (_u(r, -1.5, 1.5, 5),),
        atol=1e-5,
    ),
    P(
        "real_ridge_regression",
        real_ridge_regression,
        lambda r: (_n(r, 3), _n(r, (10, 3)), _n(r, 10), 0.1),
    ),
    P(
        "real_rnn",
        real_rnn,
        lambda r: (0.5 * _n(r, (3, 3)), 0.5 * _n(r, (3, 2)), _n(r, (4, 2))),
        (0, 1, 2),
    ),
    # -- harder cases --
    P(
        "edge_unused_argument",
        edge_unused_argument,
        lambda r: (_u(r, -1, 1), _n(r, 3)),
        (0, 1),
    ),
    P(
        "edge_argument_only_in_condition",
        edge_argument_only_in_condition,
        lambda r: (_u(r, -1, 1), _u(r, 0.5, 1)),
        (0, 1),
    ),
    P(
        "edge_floor_round",
        edge_floor_round,
        lambda r: (_u(r, 1.2, 1.24),),
        autograd=False,
    ),
    P("edge_docstring_assert", edge_docstring_assert, lambda r: (_u(r, 0.5, 1.5),)),
    P("edge_shadow_global_names", edge_shadow_global_names, lambda r: (_u(r, -1, 1),)),
    P(
        "edge_power_negative_base",
        edge_power_negative_base,
        lambda r: (_signed(r, 0.3, 1.5, 5),),
    ),
    P(
        "edge_cast_and_float",
        edge_cast_and_float,
        lambda r: (_n(r, (2, 3)),),
        autograd=False,
    ),
    P("edge_1d_transpose", edge_1d_transpose, lambda r: (_n(r, 4),)),
    P("cf_bool_ops_and", cf_bool_ops, lambda r: (_u(r, 0.2, 1), _u(r, 0.2, 1)), (0, 1)),
    P(
        "cf_bool_ops_or",
        cf_bool_ops,
        lambda r: (_u(r, 0.2, 1), _u(r, -1, -0.2)),
        (0, 1),
    ),
    P(
        "cf_bool_ops_else",
        cf_bool_ops,
        lambda r: (_u(r, -1, -0.2), _u(r, -1, 0.8)),
        (0, 1),
    ),
    P("cf_reversed_range", cf_reversed_range, lambda r: (_n(r, 5),)),
    P(
        "cf_conditional_assign_in_loop",
        cf_conditional_assign_in_loop,
        lambda r: (_n(r, 6),),
    ),
    P("cf_return_in_nested_loops", cf_return_in_nested_loops, _nested_return_args),
    P(
        "cf_while_compound_condition",
        cf_while_compound_condition,
        lambda r: (_u(r, 0.5, 1, 8),),
    ),
    P(
        "sub_aug_index_in_loop",
        sub_aug_index_in_loop,
        lambda r: (_n(r, 7), 7),
        autograd=False,
    ),
    P(
        "sub_fill_matrix_in_loops",
        sub_fill_matrix_in_loops,
        lambda r: (_n(r, 4),),
        autograd=False,
    ),
    P(
        "sub_copy_then_write",
        sub_copy_then_write,
        lambda r: (_n(r, 4),),
        autograd=False,
    ),
    P("sub_ellipsis", sub_ellipsis, lambda r: (_n(r, (2, 3, 4)),)),
    P(
        "sub_accumulate_rows",
        sub_accumulate_rows,
        lambda r: (_n(r, (3, 4)), _n(r, 3)),
        (0, 1),
        autograd=False,
    ),
    P(
        "call_callee_reassigns_parameter",
        call_callee_reassigns_parameter,
        lambda r: (_u(r, -1, 1),),
    ),
    P("call_recursive_array", call_recursive_array, lambda r: (_n(r, 3), 3)),
    P(
        "call_returning_constant_pair",
        call_returning_constant_pair,
        lambda r: (_u(r, -1, 1),),
    ),
    P("call_global_default", call_global_default, lambda r: (_u(r, -1, 1),)),
    P("cont_sum_list_of_arrays", cont_sum_list_of_arrays, lambda r: (_n(r, 4),)),
    P(
        "cont_list_of_tuples_arg",
        cont_list_of_tuples_arg,
        lambda r: ([(_u(r, -1, 1), _u(r, -1, 1)) for _ in range(3)],),
    ),
    P("cont_list_aug_item", cont_list_aug_item, lambda r: (_u(r, -1, 1),)),
    P(
        "cont_np_sum_of_list",
        cont_np_sum_of_list,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "names_comprehension_over_local",
        names_comprehension_over_local,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "real_gaussian_nll",
        real_gaussian_nll,
        lambda r: (_n(r, None), _u(r, -0.5, 0.5), _n(r, 10)),
        (0, 1),
    ),
    P(
        "real_attention",
        real_attention,
        lambda r: (_n(r, (3, 4)), _n(r, (5, 4)), _n(r, (5, 2))),
        (0, 1, 2),
    ),
    P(
        "real_unrolled_gradient_descent",
        real_unrolled_gradient_descent,
        lambda r: (_n(r, 3), 0.1, _n(r, (8, 3)), _n(r, 8), 5),
        ("w0", "lr"),
    ),
    P(
        "real_layernorm",
        real_layernorm,
        lambda r: (_n(r, (3, 5)), _n(r, 5), _n(r, 5)),
        (0, 1, 2),
    ),
    P(
        "real_polynomial_fit",
        real_polynomial_fit,
        lambda r: (_n(r, 3), _n(r, 6), _n(r, 6)),
    ),
    P(
        "vjp_loop_output",
        vjp_loop_output,
        lambda r: (_n(r, 4), 3),
        seed=lambda r: _n(r, 4),
    ),
    P("edge_identity", edge_identity, lambda r: (_u(r, -1, 1),)),
    P(
        "edge_identity_array",
        edge_identity,
        lambda r: (_n(r, 3),),
        seed=lambda r: _n(r, 3),
    ),
    P("edge_constant_result", edge_constant_result, lambda r: (_u(r, -1, 1),)),
    P("edge_chained_assignment", edge_chained_assignment, lambda r: (_u(r, -1, 1),)),
    P("np_positional_axis", np_positional_axis, lambda r: (_n(r, (3, 4)),)),
    P(
        "names_nested_def",
        names_nested_def,
        lambda r: (_u(r, -1, 1), _u(r, -1, 1)),
        (0, 1),
    ),
    P(
        "call_helper_returning_dict",
        call_helper_returning_dict,
        lambda r: (_u(r, -1, 1),),
    ),
    P(
        "sub_reverse_index_arithmetic",
        sub_reverse_index_arithmetic,
        lambda r: (_n(r, 5), 5),
    ),
    P(
        "cf_param_reassigned_in_loop",
        cf_param_reassigned_in_loop,
        lambda r: (_n(r, 3), 4),
    ),
    P(
        "cf_var_defined_in_branch_true",
        cf_var_defined_in_branch,
        lambda r: (_u(r, 0.2, 1),),
    ),
    P(
        "cf_var_defined_in_branch_false",
        cf_var_defined_in_branch,
        lambda r: (_u(r, -1, -0.2),),
    ),
    P("cf_long_loop", cf_long_loop, lambda r: (_u(r, -1, 1), 1000)),
    P("call_deep_recursion", call_recursive_power, lambda r: (_u(r, 0.98, 1.02), 60)),
    P("sub_chained_read", sub_chained_read, lambda r: (_n(r, (3, 4)),)),
    # -- non-scalar results with a seed --
    P(
        "vjp_elementwise",
        vjp_elementwise,
        lambda r: (_n(r, (2, 3)),),
        seed=lambda r: _n(r, (2, 3)),
    ),
    P(
        "vjp_matmul",
        vjp_matmul,
        lambda r: (_n(r, (2, 3)), _n(r, (3, 4))),
        (0, 1),
        seed=lambda r: _n(r, (2, 4)),
    ),
    P(
        "vjp_vector_from_scalar",
        vjp_vector_from_scalar,
        lambda r: (_u(r, -1, 1),),
        seed=lambda r: _n(r, 3),
    ),
]
del P


# Programs that write through an alias or a view of an array (or list): the
# write changes another name's value.  s2s_ad must either differentiate them
# correctly or refuse them with UnsupportedSyntaxError -- never return a wrong
# gradient.  They are kept out of PROGRAMS because refusing is allowed.
def _one_scalar(rng):
    return (_u(rng, -1, 1),)


# autograd cannot write into arrays, so none of these runs on autograd.
ALIASING_PROGRAMS = [
    Program(func.__name__, func, make_args, autograd=False)
    for func, make_args in [
        (sub_write_through_alias, _one_scalar),
        (sub_write_through_view, _one_scalar),
        (alias_aug_assign, _one_scalar),
        (alias_reshape_view, _one_scalar),
        (alias_transpose_view, _one_scalar),
        (alias_row_in_loop, _one_scalar),
        (alias_chained_subscript_write, _one_scalar),
        (alias_list, _one_scalar),
        (alias_append_then_mutate, lambda r: (_n(r, (3, 2)),)),
    ]
]

# NumPy functions outside the brief's list: s2s_ad must differentiate them
# correctly or refuse them with a TransformError (e.g. MissingRuleError).
BEYOND_PROGRAMS = [
    Program(
        "beyond_concatenate", beyond_concatenate, lambda r: (_n(r, 3), _n(r, 2)), (0, 1)
    ),
    Program("beyond_ravel_flatten", beyond_ravel_flatten, lambda r: (_n(r, (2, 3)),)),
    Program("beyond_outer", beyond_outer, lambda r: (_n(r, 3), _n(r, 2)), (0, 1)),
    Program("beyond_clip", beyond_clip, lambda r: (_signed(r, 0.2, 0.4, 3),)),
    Program("beyond_clip_outside", beyond_clip, lambda r: (_signed(r, 0.6, 1, 3),)),
    Program("beyond_prod", beyond_prod, lambda r: (_signed(r, 0.5, 1.5, 4),)),
    Program("beyond_cumsum", beyond_cumsum, lambda r: (_n(r, 5),)),
    Program("beyond_linalg_norm", beyond_linalg_norm, lambda r: (_n(r, 4),)),
    Program("beyond_min", beyond_min, lambda r: (_n(r, (3, 4)),)),
    Program("beyond_std_var", beyond_std_var, lambda r: (_n(r, (3, 4)),)),
    Program("beyond_square_log1p", beyond_square_log1p, lambda r: (_n(r, 4),)),
    Program("beyond_expand_squeeze", beyond_expand_squeeze, lambda r: (_n(r, 3),)),
]
