"""Derivative rules for NumPy functions, array methods and attributes.

Guarantees: parameter names and defaults mirror NumPy's own, so positional
and keyword calls bind as they do in NumPy (``np.sum(x, axis=1,
keepdims=True)``, ``x.reshape(2, 3)``, ``x.reshape((2, 3))``); a keyword a
rule cannot honour (``where=`` of ``np.var``) is left out of its template,
so such a call is refused instead of differentiated wrongly.  Binary
elementwise rules sum adjoints back over broadcast dimensions; reductions
handle ``axis`` as None, an int (negative too) or a tuple, with or without
``keepdims``; ``max``/``min`` reductions, ``np.maximum``/``np.minimum`` and
the max-like norms split the gradient equally among ties.  Constructors
whose values do not depend on their arguments (``zeros``, ``ones_like``,
``eye``...) and integer- or boolean-valued results (``argmax``, ``floor``,
``sign``, ``shape``...) are non-differentiable; ``full``, ``full_like``,
``linspace`` and ``arange`` do depend on their fill value, endpoints and
step, and have rules.

Every differentiable rule has a forward (tangent) rule beside its reverse
one: either ``linear(...)`` (the primitive applied to the tangent) or a
``@forward_rule`` template.  Both modes resolve ties and kinks the same way,
so forward and reverse derivatives are transposes of each other.

Functions returning several arrays (``np.linalg.eigh``, ``svd``, ``qr``,
``slogdet``, ``split``...) have tuple or list tangents and adjoints, one
entry per result (the symbolic zero ``0.0`` for an entry with none).
Factorizations are differentiated where their results are differentiable
functions of the input: distinct eigenvalues and singular values, full-rank
``pinv``, and ``qr``/thin ``svd`` shapes whose factors are unique (others are
refused at run time with :class:`s2s_ad.errors.ArgumentError`).

Optional: when :mod:`scipy.special` is importable, rules for some of its
functions are registered too.

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import numpy as np

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import (
    d,
    elementwise,
    forward_rule,
    linear,
    nondifferentiable,
    reverse_rule,
    t,
)

# -- elementwise: one argument ------------------------------------------------------

elementwise(np.exp, "x", "ans")
elementwise(np.exp2, "x", "ans * np.log(2.0)")
elementwise(np.expm1, "x", "ans + 1.0")
elementwise(np.log, "x", "rt.div(1.0, x)")
elementwise(np.log1p, "x", "rt.div(1.0, 1.0 + x)")
elementwise(np.log2, "x", "rt.div(1.0, x * np.log(2.0))")
elementwise(np.log10, "x", "rt.div(1.0, x * np.log(10.0))")
elementwise(np.sin, "x", "np.cos(x)")
elementwise(np.cos, "x", "-np.sin(x)")
elementwise(np.tan, "x", "1.0 + ans * ans")
elementwise(np.tanh, "x", "1.0 - ans * ans")
elementwise(np.sinh, "x", "np.cosh(x)")
elementwise(np.cosh, "x", "np.sinh(x)")
elementwise(np.arcsin, "x", "rt.div(1.0, np.sqrt(1.0 - x * x))")
elementwise(np.arccos, "x", "rt.div(-1.0, np.sqrt(1.0 - x * x))")
elementwise(np.arctan, "x", "rt.div(1.0, 1.0 + x * x)")
elementwise(np.arcsinh, "x", "1.0 / np.sqrt(x * x + 1.0)")
elementwise(np.arccosh, "x", "rt.div(1.0, np.sqrt(x * x - 1.0))")
elementwise(np.arctanh, "x", "rt.div(1.0, 1.0 - x * x)")
elementwise(np.sqrt, "x", "rt.div(0.5, ans)")
elementwise(np.cbrt, "x", "rt.div(1.0, 3.0 * ans * ans)")
elementwise(np.absolute, "x", "rt.sign(x)")  # np.abs is the same ufunc
elementwise(np.fabs, "x", "rt.sign(x)")
elementwise(np.negative, "x", "-1.0")
elementwise(np.positive, "x", "1.0")
elementwise(np.square, "x", "2.0 * x")
elementwise(np.reciprocal, "x", "-ans * ans")
elementwise(np.sinc, "x", "rt.sinc_derivative(x)")
elementwise(np.deg2rad, "x", "np.pi / 180.0")
elementwise(np.radians, "x", "np.pi / 180.0")
elementwise(np.rad2deg, "x", "180.0 / np.pi")
elementwise(np.degrees, "x", "180.0 / np.pi")

# -- elementwise: two arguments ------------------------------------------------------

elementwise(
    np.maximum, "x1, x2", "rt.maximum_weight(x1, x2)", "rt.maximum_weight(x2, x1)"
)
elementwise(
    np.minimum, "x1, x2", "rt.minimum_weight(x1, x2)", "rt.minimum_weight(x2, x1)"
)
# fmax/fmin ignore NaNs: a NaN operand loses to a number.
elementwise(np.fmax, "x1, x2", "rt.fmax_weight(x1, x2)", "rt.fmax_weight(x2, x1)")
elementwise(np.fmin, "x1, x2", "rt.fmin_weight(x1, x2)", "rt.fmin_weight(x2, x1)")
elementwise(np.divide, "x1, x2", "rt.div(1.0, x2)", "rt.div(-ans, x2)")
if np.true_divide is not np.divide:  # pragma: no cover - an alias in NumPy >= 1.x
    elementwise(np.true_divide, "x1, x2", "rt.div(1.0, x2)", "rt.div(-ans, x2)")
elementwise(
    np.arctan2,
    "x1, x2",
    "rt.div(x2, x1 * x1 + x2 * x2)",
    "rt.div(-x1, x1 * x1 + x2 * x2)",
)
elementwise(np.hypot, "x1, x2", "rt.div(x1, ans)", "rt.div(x2, ans)")
elementwise(np.logaddexp, "x1, x2", "np.exp(x1 - ans)", "np.exp(x2 - ans)")
elementwise(np.logaddexp2, "x1, x2", "np.exp2(x1 - ans)", "np.exp2(x2 - ans)")
elementwise(
    np.float_power, "x1, x2", "rt.pow_base_partial(x1, x2)", "rt.xlogy_safe(ans, x1)"
)
# remainder(x1, x2) = x1 - floor(x1 / x2) * x2 (np.mod is the same ufunc);
# fmod truncates instead of flooring.
elementwise(np.remainder, "x1, x2", "1.0", "-np.floor_divide(x1, x2)")
elementwise(np.fmod, "x1, x2", "1.0", "-np.trunc(np.true_divide(x1, x2))")


@reverse_rule(np.add)
def add(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans], x1)
    d[x2] += rt.unbroadcast(d[ans], x2)


@forward_rule(np.add)
def add_tangent(ans, x1, x2):
    t[ans] += rt.broadcast_tangent(t[x1], x1, ans)
    t[ans] += rt.broadcast_tangent(t[x2], x2, ans)


@reverse_rule(np.subtract)
def subtract(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans], x1)
    d[x2] += rt.unbroadcast(-d[ans], x2)


@forward_rule(np.subtract)
def subtract_tangent(ans, x1, x2):
    t[ans] += rt.broadcast_tangent(t[x1], x1, ans)
    t[ans] += rt.broadcast_tangent(t[x2], x2, ans, -1.0)


@reverse_rule(np.multiply)
def multiply(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans] * x2, x1)
    d[x2] += rt.unbroadcast(d[ans] * x1, x2)


@forward_rule(np.multiply)
def multiply_tangent(ans, x1, x2):
    t[ans] += rt.broadcast_tangent(t[x1], x1, ans, x2)
    t[ans] += rt.broadcast_tangent(t[x2], x2, ans, x1)


@reverse_rule(np.power)
def power(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans] * rt.pow_base_partial(x1, x2), x1)
    d[x2] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, x1), x2)


@forward_rule(np.power)
def power_tangent(ans, x1, x2):
    t[ans] += rt.broadcast_tangent(t[x1], x1, ans, rt.pow_base_partial(x1, x2))
    t[ans] += rt.broadcast_tangent(t[x2], x2, ans, rt.xlogy_safe(ans, x1))


@reverse_rule(np.where)
def where(ans, condition, x=None, y=None, /):
    d[x] += rt.where_adjoint(d[ans], condition, x, True)
    d[y] += rt.where_adjoint(d[ans], condition, y, False)


@forward_rule(np.where)
def where_tangent(ans, condition, x=None, y=None, /):
    t[ans] += rt.select_tangent(t[x], condition, ans)
    t[ans] += rt.select_tangent(t[y], np.logical_not(condition), ans)


@reverse_rule(np.clip)
def clip(ans, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    # NumPy >= 2.1 also spells the bounds min= and max=.
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    d[a] += rt.clip_adjoint(d[ans], a, lo, hi, 0)
    d[a_min] += rt.clip_adjoint(d[ans], a, lo, hi, 1)
    d[a_max] += rt.clip_adjoint(d[ans], a, lo, hi, 2)
    d[min] += rt.clip_adjoint(d[ans], a, lo, hi, 1)
    d[max] += rt.clip_adjoint(d[ans], a, lo, hi, 2)


@forward_rule(np.clip)
def clip_tangent(ans, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    # The tangent of whichever of a, the lower and the upper bound was selected.
    t[ans] += rt.select_tangent(t[a], rt.clip_mask(a, a_min, a_max, 0, min, max), ans)
    t[ans] += rt.select_tangent(
        t[a_min], rt.clip_mask(a, a_min, a_max, 1, min, max), ans
    )
    t[ans] += rt.select_tangent(
        t[a_max], rt.clip_mask(a, a_min, a_max, 2, min, max), ans
    )
    t[ans] += rt.select_tangent(t[min], rt.clip_mask(a, a_min, a_max, 1, min, max), ans)
    t[ans] += rt.select_tangent(t[max], rt.clip_mask(a, a_min, a_max, 2, min, max), ans)


@reverse_rule(np.float64)
def float64(ans, x=0.0):
    d[x] += rt.reshape_adjoint(d[ans], x)


linear(np.float64, argname="x")


@reverse_rule(np.nan_to_num)
def nan_to_num(ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # Slope 1 at finite entries, 0 at those replaced by constants.
    d[x] += rt.select_tangent(d[ans], np.isfinite(x), x)


@forward_rule(np.nan_to_num)
def nan_to_num_tangent(ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    t[ans] += rt.select_tangent(t[x], np.isfinite(x), ans)


@reverse_rule(np.real)
def real(ans, val):
    # Arguments are real (complex ones are refused): real() is the identity.
    d[val] += rt.array_adjoint(d[ans], val, ans)


linear(np.real, argname="val")

# -- reductions -------------------------------------------------------------------


@reverse_rule(np.sum)
def sum_(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[a] += rt.unreduce(d[ans], a, axis, keepdims, where)
    d[initial] += rt.unbroadcast(d[ans], initial)


@forward_rule(np.sum)
def sum_tangent(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    # Not linear(): initial= is added, not summed.
    t[ans] += rt.linear_map(
        np.sum, t[a], a, axis=axis, dtype=dtype, keepdims=keepdims, where=where
    )
    t[ans] += rt.broadcast_like(t[initial], ans)


@reverse_rule(np.mean)
def mean(ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    d[a] += rt.unreduce_mean(d[ans], a, axis, keepdims, where)


@forward_rule(np.mean)
def mean_tangent(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True
):
    # linear_map rather than linear(): a is often a list of values.
    t[ans] += rt.linear_map(
        np.mean, t[a], a, axis=axis, dtype=dtype, keepdims=keepdims, where=where
    )


@reverse_rule(np.max, np.min, np.amax, np.amin)
def max_(ans, a, axis=None, out=None, keepdims=False, initial=None, where=True):
    d[a] += rt.unreduce_max(d[ans], a, ans, axis, keepdims, where)


@forward_rule(np.max, np.min, np.amax, np.amin)
def max_tangent(ans, a, axis=None, out=None, keepdims=False, initial=None, where=True):
    t[ans] += rt.max_tangent(t[a], a, ans, axis, keepdims, where)


@reverse_rule(np.prod)
def prod(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[a] += rt.prod_adjoint(d[ans], a, axis, keepdims, where)


@forward_rule(np.prod)
def prod_tangent(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    t[ans] += rt.prod_tangent(t[a], a, axis, keepdims, where)


# var/std leave out where= and mean=, so calls using them are refused rather
# than differentiated wrongly; correction= is the array-API name of ddof.


@reverse_rule(np.var)
def var(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    dof = ddof if correction is None else correction
    d[a] += rt.var_adjoint(d[ans], a, axis, dof, keepdims)


@forward_rule(np.var)
def var_tangent(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    t[ans] += rt.var_tangent(t[a], a, axis, ddof, keepdims, correction)


@reverse_rule(np.std)
def std(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    dof = ddof if correction is None else correction
    d[a] += rt.std_adjoint(d[ans], a, ans, axis, dof, keepdims)


@forward_rule(np.std)
def std_tangent(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    t[ans] += rt.std_tangent(t[a], a, ans, axis, ddof, keepdims, correction)


@reverse_rule(np.cumsum)
def cumsum(ans, a, axis=None, dtype=None, out=None):
    d[a] += rt.cumsum_adjoint(d[ans], a, axis)


linear(np.cumsum)


@reverse_rule(np.cumprod)
def cumprod(ans, a, axis=None, dtype=None, out=None):
    d[a] += rt.cumprod_adjoint(d[ans], a, ans, axis)


@forward_rule(np.cumprod)
def cumprod_tangent(ans, a, axis=None, dtype=None, out=None):
    t[ans] += rt.cumprod_tangent(t[a], a, ans, axis)


@reverse_rule(np.linalg.norm)
def norm(ans, x, ord=None, axis=None, keepdims=False):
    d[x] += rt.norm_adjoint(d[ans], x, ans, ord, axis, keepdims)


@forward_rule(np.linalg.norm)
def norm_tangent(ans, x, ord=None, axis=None, keepdims=False):
    t[ans] += rt.norm_tangent(t[x], x, ans, ord, axis, keepdims)


# -- products -------------------------------------------------------------------------


@reverse_rule(np.dot)
def dot(ans, a, b, out=None):
    d[a] += rt.dot_adjoint_a(d[ans], a, b)
    d[b] += rt.dot_adjoint_b(d[ans], a, b)


@forward_rule(np.dot)
def dot_tangent(ans, a, b, out=None):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.dot(t[a], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.dot(a, t[b])


@reverse_rule(np.matmul)
def matmul(ans, x1, x2, /, out=None):
    d[x1] += rt.matmul_adjoint_a(d[ans], x1, x2)
    d[x2] += rt.matmul_adjoint_b(d[ans], x1, x2)


@forward_rule(np.matmul)
def matmul_tangent(ans, x1, x2, /, out=None):
    t[ans] += 0.0 if rt.is_zero(t[x1]) else np.matmul(t[x1], x2)
    t[ans] += 0.0 if rt.is_zero(t[x2]) else np.matmul(x1, t[x2])


@reverse_rule(np.outer)
def outer(ans, a, b, out=None):
    d[a] += rt.outer_adjoint(d[ans], a, b, 0)
    d[b] += rt.outer_adjoint(d[ans], a, b, 1)


@forward_rule(np.outer)
def outer_tangent(ans, a, b, out=None):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.outer(t[a], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.outer(a, t[b])


@reverse_rule(np.inner)
def inner(ans, a, b, /):
    d[a] += rt.inner_adjoint(d[ans], a, b, 0)
    d[b] += rt.inner_adjoint(d[ans], a, b, 1)


@forward_rule(np.inner)
def inner_tangent(ans, a, b, /):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.inner(t[a], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.inner(a, t[b])


@reverse_rule(np.vdot)
def vdot(ans, a, b, /):
    d[a] += rt.vdot_adjoint(d[ans], a, b, 0)
    d[b] += rt.vdot_adjoint(d[ans], a, b, 1)


@forward_rule(np.vdot)
def vdot_tangent(ans, a, b, /):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.vdot(t[a], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.vdot(a, t[b])


@reverse_rule(np.tensordot)
def tensordot(ans, a, b, axes=2):
    d[a] += rt.tensordot_adjoint(d[ans], a, b, axes, 0)
    d[b] += rt.tensordot_adjoint(d[ans], a, b, axes, 1)


@forward_rule(np.tensordot)
def tensordot_tangent(ans, a, b, axes=2):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.tensordot(t[a], b, axes)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.tensordot(a, t[b], axes)


@reverse_rule(np.kron)
def kron(ans, a, b):
    d[a] += rt.kron_adjoint(d[ans], a, b, 0)
    d[b] += rt.kron_adjoint(d[ans], a, b, 1)


@forward_rule(np.kron)
def kron_tangent(ans, a, b):
    t[ans] += 0.0 if rt.is_zero(t[a]) else np.kron(t[a], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.kron(a, t[b])


@reverse_rule(np.einsum)
def einsum(
    ans,
    subscripts,
    *operands,
    out=None,
    dtype=None,
    order="K",
    casting="safe",
    optimize=False,
):
    d[operands] += rt.einsum_adjoint(d[ans], ans, subscripts, operands)


@forward_rule(np.einsum)
def einsum_tangent(
    ans,
    subscripts,
    *operands,
    out=None,
    dtype=None,
    order="K",
    casting="safe",
    optimize=False,
):
    t[ans] += rt.einsum_tangent(subscripts, operands, t[operands], optimize)


# -- linear algebra ---------------------------------------------------------------


@reverse_rule(np.trace)
def trace(ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] += rt.diagonal_adjoint(d[ans], a, offset, axis1, axis2, True)


linear(np.trace)


@reverse_rule(np.diagonal)
def diagonal(ans, a, offset=0, axis1=0, axis2=1):
    d[a] += rt.diagonal_adjoint(d[ans], a, offset, axis1, axis2)


linear(np.diagonal)


@reverse_rule(np.diag)
def diag(ans, v, k=0):
    d[v] += rt.diag_adjoint(d[ans], v, k)


linear(np.diag, argname="v")


@reverse_rule(np.linalg.inv)
def inv(ans, a):
    d[a] += rt.inv_adjoint(d[ans], ans)


@forward_rule(np.linalg.inv)
def inv_tangent(ans, a):
    t[ans] += rt.inv_tangent(t[a], ans)


@reverse_rule(np.linalg.det)
def det(ans, a):
    d[a] += rt.det_adjoint(d[ans], a, ans)


@forward_rule(np.linalg.det)
def det_tangent(ans, a):
    t[ans] += rt.det_tangent(t[a], a, ans)


@reverse_rule(np.linalg.slogdet)
def slogdet(ans, a):
    d[a] += rt.slogdet_adjoint(d[ans], a)


@forward_rule(np.linalg.slogdet)
def slogdet_tangent(ans, a):
    t[ans] += rt.slogdet_tangent(t[a], a, ans)


@reverse_rule(np.linalg.solve)
def solve(ans, a, b):
    d[a] += rt.solve_adjoint(d[ans], a, b, ans, 0)
    d[b] += rt.solve_adjoint(d[ans], a, b, ans, 1)


@forward_rule(np.linalg.solve)
def solve_tangent(ans, a, b):
    t[ans] += rt.solve_tangent(t[a], a, b, ans, 0)
    t[ans] += rt.solve_tangent(t[b], a, b, ans, 1)


# NumPy's factorizations of symmetric matrices read one triangle of their
# argument; the rules differentiate with respect to the entries actually read.


@reverse_rule(np.linalg.cholesky)
def cholesky(ans, a, /, *, upper=False):
    d[a] += rt.cholesky_adjoint(d[ans], ans, upper)


@forward_rule(np.linalg.cholesky)
def cholesky_tangent(ans, a, /, *, upper=False):
    t[ans] += rt.cholesky_tangent(t[a], ans, upper)


@reverse_rule(np.linalg.eigh)
def eigh(ans, a, UPLO="L"):
    d[a] += rt.eigh_adjoint(d[ans], ans, UPLO)


@forward_rule(np.linalg.eigh)
def eigh_tangent(ans, a, UPLO="L"):
    t[ans] += rt.eigh_tangent(t[a], ans, UPLO)


@reverse_rule(np.linalg.eigvalsh)
def eigvalsh(ans, a, UPLO="L"):
    d[a] += rt.eigvalsh_adjoint(d[ans], a, UPLO)


@forward_rule(np.linalg.eigvalsh)
def eigvalsh_tangent(ans, a, UPLO="L"):
    t[ans] += rt.eigvalsh_tangent(t[a], a, UPLO)


# hermitian= is left out of svd and pinv: it reads one triangle, which these
# rules do not model, so such calls are refused.


@reverse_rule(np.linalg.svd)
def svd(ans, a, full_matrices=True, compute_uv=True):
    d[a] += rt.svd_adjoint(d[ans], a, ans, full_matrices, compute_uv)


@forward_rule(np.linalg.svd)
def svd_tangent(ans, a, full_matrices=True, compute_uv=True):
    t[ans] += rt.svd_tangent(t[a], a, ans, full_matrices, compute_uv)


@reverse_rule(np.linalg.pinv)
def pinv(ans, a, rcond=None, *, rtol=None):
    d[a] += rt.pinv_adjoint(d[ans], a, ans)


@forward_rule(np.linalg.pinv)
def pinv_tangent(ans, a, rcond=None, *, rtol=None):
    t[ans] += rt.pinv_tangent(t[a], a, ans)


@reverse_rule(np.linalg.qr)
def qr(ans, a, mode="reduced"):
    d[a] += rt.qr_adjoint(d[ans], a, ans, mode)


@forward_rule(np.linalg.qr)
def qr_tangent(ans, a, mode="reduced"):
    t[ans] += rt.qr_tangent(t[a], a, ans, mode)


# -- shapes (linear in the array: the forward rule applies them to tangents) ---------


@reverse_rule(np.transpose)
def transpose(ans, a, axes=None):
    d[a] += rt.transpose_adjoint(d[ans], a, axes)


@reverse_rule(np.reshape)
def reshape(ans, a, shape=None, order="C", *, newshape=None, copy=None):
    # newshape= is the NumPy < 2.1 spelling of shape=.
    d[a] += rt.reshape_adjoint(d[ans], a, order)


@reverse_rule(np.ravel)
def ravel(ans, a, order="C"):
    d[a] += rt.reshape_adjoint(d[ans], a, order)


@reverse_rule(np.squeeze)
def squeeze(ans, a, axis=None):
    d[a] += rt.reshape_adjoint(d[ans], a)


@reverse_rule(np.expand_dims)
def expand_dims(ans, a, axis):
    d[a] += rt.reshape_adjoint(d[ans], a)


@reverse_rule(np.copy)
def copy(ans, a, order="K", subok=False):
    d[a] += d[ans]


linear(np.transpose, np.reshape, np.ravel, np.squeeze, np.expand_dims, np.copy)


@reverse_rule(np.swapaxes)
def swapaxes(ans, a, axis1, axis2):
    d[a] += rt.apply_adjoint(np.swapaxes, d[ans], ans, axis1, axis2)


@reverse_rule(np.moveaxis)
def moveaxis(ans, a, source, destination):
    d[a] += rt.apply_adjoint(np.moveaxis, d[ans], ans, destination, source)


@reverse_rule(np.roll)
def roll(ans, a, shift, axis=None):
    d[a] += rt.apply_adjoint(np.roll, d[ans], ans, np.negative(shift), axis)


@reverse_rule(np.repeat)
def repeat(ans, a, repeats, axis=None):
    d[a] += rt.repeat_adjoint(d[ans], a, repeats, ans, axis)


@reverse_rule(np.take)
def take(ans, a, indices, axis=None, out=None, mode="raise"):
    d[a] += rt.take_adjoint(d[ans], a, indices, ans, axis, mode)


@reverse_rule(np.take_along_axis)
def take_along_axis(ans, arr, indices, axis=-1):
    # The adjoint of a gather is a scatter-add (repeated indices accumulate).
    d[arr] += rt.add_at(
        0.0,
        arr,
        rt._along_axis_index(indices, np.shape(ans), np.shape(arr), axis),
        d[ans],
    )


linear(np.swapaxes, np.moveaxis, np.roll, np.repeat, np.take)
linear(np.take_along_axis, argname="arr")


@reverse_rule(np.broadcast_to)
def broadcast_to(ans, array, shape, subok=False):
    d[array] += rt.broadcast_to_adjoint(d[ans], array, ans)


linear(np.broadcast_to, argname="array")


@reverse_rule(np.flip)
def flip(ans, m, axis=None):
    d[m] += rt.apply_adjoint(np.flip, d[ans], ans, axis)


@reverse_rule(np.fliplr)
def fliplr(ans, m):
    d[m] += rt.apply_adjoint(np.fliplr, d[ans], ans)


@reverse_rule(np.flipud)
def flipud(ans, m):
    d[m] += rt.apply_adjoint(np.flipud, d[ans], ans)


@reverse_rule(np.rot90)
def rot90(ans, m, k=1, axes=(0, 1)):
    d[m] += rt.apply_adjoint(np.rot90, d[ans], ans, -k, axes)


@reverse_rule(np.triu)
def triu(ans, m, k=0):
    d[m] += rt.tri_adjoint(d[ans], m, ans, k)


@reverse_rule(np.tril)
def tril(ans, m, k=0):
    d[m] += rt.tri_adjoint(d[ans], m, ans, k, True)


linear(np.flip, np.fliplr, np.flipud, np.rot90, np.triu, np.tril, argname="m")


@reverse_rule(np.tile)
def tile(ans, A, reps):
    d[A] += rt.tile_adjoint(d[ans], A, reps, ans)


linear(np.tile, argname="A")


@reverse_rule(np.sort)
def sort(ans, a, axis=-1, kind=None, *, stable=None):
    # order= (structured arrays) is left out.
    d[a] += rt.sort_adjoint(d[ans], a, ans, axis)


@forward_rule(np.sort)
def sort_tangent(ans, a, axis=-1, kind=None, *, stable=None):
    t[ans] += rt.sort_tangent(t[a], a, axis)


@reverse_rule(np.pad)
def pad(
    ans,
    array,
    pad_width,
    mode="constant",
    *,
    stat_length=None,
    constant_values=0,
    end_values=0,
    reflect_type="even",
):
    d[array] += rt.pad_adjoint(d[ans], array, pad_width, mode, reflect_type)
    d[constant_values] += rt.pad_constant_adjoint(
        d[ans], array, pad_width, constant_values
    )


@forward_rule(np.pad)
def pad_tangent(
    ans,
    array,
    pad_width,
    mode="constant",
    *,
    stat_length=None,
    constant_values=0,
    end_values=0,
    reflect_type="even",
):
    t[ans] += rt.pad_tangent(t[array], array, pad_width, mode, reflect_type)
    t[ans] += rt.pad_constant_tangent(t[constant_values], array, pad_width, ans)


@reverse_rule(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast(ans, *arys):
    d[arys] += rt.atleast_adjoint(d[ans], arys)


@forward_rule(np.atleast_1d)
def atleast_1d_tangent(ans, *arys):
    t[ans] += rt.atleast_tangent(np.atleast_1d, t[arys], arys, ans)


@forward_rule(np.atleast_2d)
def atleast_2d_tangent(ans, *arys):
    t[ans] += rt.atleast_tangent(np.atleast_2d, t[arys], arys, ans)


@forward_rule(np.atleast_3d)
def atleast_3d_tangent(ans, *arys):
    t[ans] += rt.atleast_tangent(np.atleast_3d, t[arys], arys, ans)


# -- splitting and joining ---------------------------------------------------------


@reverse_rule(np.split, np.array_split)
def split(ans, ary, indices_or_sections, axis=0):
    d[ary] += rt.split_adjoint(d[ans], ans, axis)


@reverse_rule(np.hsplit)
def hsplit(ans, ary, indices_or_sections):
    d[ary] += rt.split_adjoint(d[ans], ans, 1 if np.ndim(ary) > 1 else 0)


@reverse_rule(np.vsplit)
def vsplit(ans, ary, indices_or_sections):
    d[ary] += rt.split_adjoint(d[ans], ans, 0)


@reverse_rule(np.dsplit)
def dsplit(ans, ary, indices_or_sections):
    d[ary] += rt.split_adjoint(d[ans], ans, 2)


linear(np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, argname="ary")


@reverse_rule(np.array)
def array(
    ans,
    object,
    dtype=None,
    *,
    copy=True,
    order="K",
    subok=False,
    ndmin=0,
    ndmax=0,
    like=None,
):
    d[object] += rt.array_adjoint(d[ans], object, ans)


@forward_rule(np.array)
def array_tangent(
    ans,
    object,
    dtype=None,
    *,
    copy=True,
    order="K",
    subok=False,
    ndmin=0,
    ndmax=0,
    like=None,
):
    t[ans] += rt.array_tangent(t[object], object, ans)


@reverse_rule(np.asarray)
def asarray(ans, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    d[a] += rt.array_adjoint(d[ans], a, ans)


@forward_rule(np.asarray)
def asarray_tangent(
    ans, a, dtype=None, order=None, *, device=None, copy=None, like=None
):
    t[ans] += rt.array_tangent(t[a], a, ans)


@reverse_rule(np.stack)
def stack(ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += rt.stack_adjoint(d[ans], arrays, axis)


@forward_rule(np.stack)
def stack_tangent(ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    t[ans] += rt.linear_map(np.stack, t[arrays], arrays, axis)


@reverse_rule(np.concatenate)
def concatenate(ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += rt.concatenate_adjoint(d[ans], arrays, axis)


@forward_rule(np.concatenate)
def concatenate_tangent(
    ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"
):
    t[ans] += rt.linear_map(np.concatenate, t[arrays], arrays, axis)


@reverse_rule(np.vstack)
def vstack(ans, tup, *, dtype=None, casting="same_kind"):
    d[tup] += rt.stacked_adjoint(d[ans], tup, ans, "vstack")


@forward_rule(np.vstack)
def vstack_tangent(ans, tup, *, dtype=None, casting="same_kind"):
    t[ans] += rt.linear_map(np.vstack, t[tup], tup)


@reverse_rule(np.hstack)
def hstack(ans, tup, *, dtype=None, casting="same_kind"):
    d[tup] += rt.stacked_adjoint(d[ans], tup, ans, "hstack")


@forward_rule(np.hstack)
def hstack_tangent(ans, tup, *, dtype=None, casting="same_kind"):
    t[ans] += rt.linear_map(np.hstack, t[tup], tup)


@reverse_rule(np.dstack)
def dstack(ans, tup):
    d[tup] += rt.stacked_adjoint(d[ans], tup, ans, "dstack")


@forward_rule(np.dstack)
def dstack_tangent(ans, tup):
    t[ans] += rt.linear_map(np.dstack, t[tup], tup)


@reverse_rule(np.column_stack)
def column_stack(ans, tup):
    d[tup] += rt.stacked_adjoint(d[ans], tup, ans, "column_stack")


@forward_rule(np.column_stack)
def column_stack_tangent(ans, tup):
    t[ans] += rt.linear_map(np.column_stack, t[tup], tup)


@reverse_rule(np.broadcast_arrays)
def broadcast_arrays(ans, *args, subok=False):
    d[args] += rt.broadcast_arrays_adjoint(d[ans], args, ans)


@forward_rule(np.broadcast_arrays)
def broadcast_arrays_tangent(ans, *args, subok=False):
    t[ans] += rt.broadcast_arrays_tangent(t[args], args, ans)


@reverse_rule(np.meshgrid)
def meshgrid(ans, *xi, copy=True, sparse=False, indexing="xy"):
    d[xi] += rt.meshgrid_adjoint(d[ans], xi, ans, indexing)


@forward_rule(np.meshgrid)
def meshgrid_tangent(ans, *xi, copy=True, sparse=False, indexing="xy"):
    t[ans] += rt.meshgrid_tangent(t[xi], xi, ans, indexing)


# -- constructors whose values depend on their arguments ---------------------------


@reverse_rule(np.full)
def full(ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    d[fill_value] += rt.full_adjoint(d[ans], fill_value, ans)


@forward_rule(np.full)
def full_tangent(
    ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None
):
    t[ans] += rt.full_tangent(t[fill_value], ans)


@reverse_rule(np.full_like)
def full_like(
    ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None
):
    # The values come from fill_value alone; a only lends its shape.
    d[fill_value] += rt.full_adjoint(d[ans], fill_value, ans)


@forward_rule(np.full_like)
def full_like_tangent(
    ans, a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None
):
    t[ans] += rt.full_tangent(t[fill_value], ans)


@reverse_rule(np.linspace)
def linspace(
    ans,
    start,
    stop,
    num=50,
    endpoint=True,
    retstep=False,
    dtype=None,
    axis=0,
    *,
    device=None,
):
    d[start] += rt.linspace_adjoint(
        d[ans], ans, start, stop, num, endpoint, retstep, axis, 0
    )
    d[stop] += rt.linspace_adjoint(
        d[ans], ans, start, stop, num, endpoint, retstep, axis, 1
    )


@forward_rule(np.linspace)
def linspace_tangent(
    ans,
    *endpoints,
    num=50,
    endpoint=True,
    retstep=False,
    dtype=None,
    axis=0,
    device=None,
):
    # One statement for start and stop (endpoints holds every positional
    # argument): with retstep the tangent is a (samples, step) pair, and
    # separate terms would be summed as tuples.
    t[ans] += rt.linspace_tangent(
        t[endpoints], ans, endpoints, num, endpoint, retstep, axis
    )


@reverse_rule(np.arange)
def arange(ans, *args, dtype=None, device=None, like=None):
    # arange([start,] stop[, step]): entry i is start + i * step.
    d[args] += rt.arange_adjoint(d[ans], ans, args)


@forward_rule(np.arange)
def arange_tangent(ans, *args, dtype=None, device=None, like=None):
    t[ans] += rt.arange_tangent(t[args], args, ans)


# -- more reductions and assembly ---------------------------------------------------


@reverse_rule(np.diff)
def diff(ans, a, n=1, axis=-1):
    # prepend= and append= are left out: constants there would enter the tangent.
    d[a] += rt.diff_adjoint(d[ans], a, ans, n, axis)


@forward_rule(np.diff)
def diff_tangent(ans, a, n=1, axis=-1):
    t[ans] += rt.linear_map(np.diff, t[a], a, n, axis)


@reverse_rule(np.append)
def append(ans, arr, values, axis=None):
    d[arr] += rt.append_adjoint(d[ans], arr, values, ans, axis, 0)
    d[values] += rt.append_adjoint(d[ans], arr, values, ans, axis, 1)


@forward_rule(np.append)
def append_tangent(ans, arr, values, axis=None):
    t[ans] += rt.append_tangent_part(t[arr], arr, values, axis, 0)
    t[ans] += rt.append_tangent_part(t[values], arr, values, axis, 1)


# The NaN-ignoring reductions leave out initial= and where=.


@reverse_rule(np.nansum)
def nansum(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += rt.nansum_adjoint(d[ans], a, axis, keepdims)


@forward_rule(np.nansum)
def nansum_tangent(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    t[ans] += rt.nansum_tangent(t[a], a, ans, axis, keepdims)


@reverse_rule(np.nanmean)
def nanmean(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += rt.nansum_adjoint(d[ans], a, axis, keepdims, True)


@forward_rule(np.nanmean)
def nanmean_tangent(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    t[ans] += rt.nansum_tangent(t[a], a, ans, axis, keepdims, True)


@reverse_rule(np.nanmax, np.nanmin)
def nanmax(ans, a, axis=None, out=None, keepdims=False):
    # NaN entries never equal the extreme, so they get nothing.
    d[a] += rt.unreduce_max(d[ans], a, ans, axis, keepdims)


@forward_rule(np.nanmax, np.nanmin)
def nanmax_tangent(ans, a, axis=None, out=None, keepdims=False):
    t[ans] += rt.max_tangent(t[a], a, ans, axis, keepdims)


@reverse_rule(np.average)
def average(ans, a, axis=None, weights=None, *, keepdims=False):
    # returned= is left out: with it the result is a pair.
    d[a] += rt.average_adjoint(d[ans], a, ans, axis, weights, keepdims, 0)
    d[weights] += rt.average_adjoint(d[ans], a, ans, axis, weights, keepdims, 1)


@forward_rule(np.average)
def average_tangent(ans, a, axis=None, weights=None, *, keepdims=False):
    t[ans] += rt.average_tangent(t[a], a, ans, axis, weights, keepdims, 0)
    t[ans] += rt.average_tangent(t[weights], a, ans, axis, weights, keepdims, 1)


@reverse_rule(np.diagflat)
def diagflat(ans, v, k=0):
    d[v] += rt.reshape_adjoint(rt.apply_adjoint(np.diagonal, d[ans], ans, k), v)


linear(np.diagflat, argname="v")

_TRAPEZOID = [
    f for f in (getattr(np, "trapezoid", None), getattr(np, "trapz", None)) if f
]


@reverse_rule(*_TRAPEZOID)
def trapezoid(ans, y, x=None, dx=1.0, axis=-1):
    d[y] += rt.trapezoid_adjoint(d[ans], y, x, dx, axis, 0)
    d[x] += rt.trapezoid_adjoint(d[ans], y, x, dx, axis, 1)
    d[dx] += rt.trapezoid_adjoint(d[ans], y, x, dx, axis, 2)


@forward_rule(*_TRAPEZOID)
def trapezoid_tangent(ans, y, x=None, dx=1.0, axis=-1):
    t[ans] += rt.trapezoid_tangent(t[y], y, x, dx, axis, 0)
    t[ans] += rt.trapezoid_tangent(t[x], y, x, dx, axis, 1)
    t[ans] += rt.trapezoid_tangent(t[dx], y, x, dx, axis, 2)


@reverse_rule(np.polyval)
def polyval(ans, p, x):
    d[p] += rt.polyval_adjoint(d[ans], p, x)
    d[x] += rt.unbroadcast(d[ans] * rt.polyval_slope(p, x), x)


@forward_rule(np.polyval)
def polyval_tangent(ans, p, x):
    # polyval is linear in p, but not through rt.linear_map: its image also
    # moves with x, which linear_map's own rules would not see.
    t[ans] += np.polyval(rt.dense_tangent(t[p], p), x)
    t[ans] += t[x] * rt.polyval_slope(p, x)


# NumPy >= 2 (array API) functions.

if hasattr(np, "matrix_transpose"):

    @reverse_rule(np.matrix_transpose)
    def matrix_transpose(ans, x, /):
        d[x] += rt.apply_adjoint(np.matrix_transpose, d[ans], ans)

    linear(np.matrix_transpose, argname="x")

if hasattr(np, "vecdot"):

    @reverse_rule(np.vecdot)
    def vecdot(ans, x1, x2, /, *, axis=-1):
        d[x1] += rt.vecdot_adjoint(d[ans], x1, x2, axis, 0)
        d[x2] += rt.vecdot_adjoint(d[ans], x1, x2, axis, 1)

    @forward_rule(np.vecdot)
    def vecdot_tangent(ans, x1, x2, /, *, axis=-1):
        t[ans] += 0.0 if rt.is_zero(t[x1]) else np.vecdot(t[x1], x2, axis=axis)
        t[ans] += 0.0 if rt.is_zero(t[x2]) else np.vecdot(x1, t[x2], axis=axis)


if hasattr(np, "astype"):

    @reverse_rule(np.astype)
    def astype(ans, x, dtype, /, *, copy=True, device=None):
        d[x] += rt.cast_adjoint(d[ans], ans)

    @forward_rule(np.astype)
    def astype_tangent(ans, x, dtype, /, *, copy=True, device=None):
        t[ans] += rt.cast_tangent(t[x], ans)


if hasattr(np, "unstack"):

    @reverse_rule(np.unstack)
    def unstack(ans, x, /, *, axis=0):
        d[x] += rt.unstack_adjoint(d[ans], x, ans, axis)

    linear(np.unstack, argname="x")


# -- array methods and attributes -------------------------------------------------


@reverse_rule(method="sum")
def sum_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.unreduce(d[ans], self, axis, keepdims, where)
    d[initial] += rt.unbroadcast(d[ans], initial)


@forward_rule(method="sum")
def sum_method_tangent(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    t[ans] += rt.linear_map(
        np.sum, t[self], self, axis=axis, dtype=dtype, keepdims=keepdims, where=where
    )
    t[ans] += rt.broadcast_like(t[initial], ans)


@reverse_rule(method="mean")
def mean_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, *, where=True
):
    d[self] += rt.unreduce_mean(d[ans], self, axis, keepdims, where)


@forward_rule(method="mean")
def mean_method_tangent(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, *, where=True
):
    t[ans] += rt.linear_map(
        np.mean, t[self], self, axis=axis, dtype=dtype, keepdims=keepdims, where=where
    )


@reverse_rule(method="max")
def max_method(
    ans, self, axis=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.unreduce_max(d[ans], self, ans, axis, keepdims, where)


@reverse_rule(method="min")
def min_method(
    ans, self, axis=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.unreduce_max(d[ans], self, ans, axis, keepdims, where)


@forward_rule(method="max")
def max_method_tangent(
    ans, self, axis=None, out=None, keepdims=False, initial=None, where=True
):
    t[ans] += rt.max_tangent(t[self], self, ans, axis, keepdims, where)


@forward_rule(method="min")
def min_method_tangent(
    ans, self, axis=None, out=None, keepdims=False, initial=None, where=True
):
    t[ans] += rt.max_tangent(t[self], self, ans, axis, keepdims, where)


@reverse_rule(method="prod")
def prod_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.prod_adjoint(d[ans], self, axis, keepdims, where)


@forward_rule(method="prod")
def prod_method_tangent(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    t[ans] += rt.prod_tangent(t[self], self, axis, keepdims, where)


@reverse_rule(method="var")
def var_method(
    ans,
    self,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    correction=None,
):
    dof = ddof if correction is None else correction
    d[self] += rt.var_adjoint(d[ans], self, axis, dof, keepdims)


@forward_rule(method="var")
def var_method_tangent(
    ans,
    self,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    correction=None,
):
    t[ans] += rt.var_tangent(t[self], self, axis, ddof, keepdims, correction)


@reverse_rule(method="std")
def std_method(
    ans,
    self,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    correction=None,
):
    dof = ddof if correction is None else correction
    d[self] += rt.std_adjoint(d[ans], self, ans, axis, dof, keepdims)


@forward_rule(method="std")
def std_method_tangent(
    ans,
    self,
    axis=None,
    dtype=None,
    out=None,
    ddof=0,
    keepdims=False,
    *,
    correction=None,
):
    t[ans] += rt.std_tangent(t[self], self, ans, axis, ddof, keepdims, correction)


@reverse_rule(method="cumsum")
def cumsum_method(ans, self, axis=None, dtype=None, out=None):
    d[self] += rt.cumsum_adjoint(d[ans], self, axis)


@reverse_rule(method="cumprod")
def cumprod_method(ans, self, axis=None, dtype=None, out=None):
    d[self] += rt.cumprod_adjoint(d[ans], self, ans, axis)


@forward_rule(method="cumprod")
def cumprod_method_tangent(ans, self, axis=None, dtype=None, out=None):
    t[ans] += rt.cumprod_tangent(t[self], self, ans, axis)


@reverse_rule(method="dot")
def dot_method(ans, self, b, out=None):
    d[self] += rt.dot_adjoint_a(d[ans], self, b)
    d[b] += rt.dot_adjoint_b(d[ans], self, b)


@forward_rule(method="dot")
def dot_method_tangent(ans, self, b, out=None):
    t[ans] += 0.0 if rt.is_zero(t[self]) else np.dot(t[self], b)
    t[ans] += 0.0 if rt.is_zero(t[b]) else np.dot(self, t[b])


@reverse_rule(method="reshape")
def reshape_method(ans, self, *shape, order="C", copy=None):
    d[self] += rt.reshape_adjoint(d[ans], self, order)


@reverse_rule(method="ravel")
def ravel_method(ans, self, order="C"):
    d[self] += rt.reshape_adjoint(d[ans], self, order)


@reverse_rule(method="flatten")
def flatten_method(ans, self, order="C"):
    d[self] += rt.reshape_adjoint(d[ans], self, order)


@reverse_rule(method="squeeze")
def squeeze_method(ans, self, axis=None):
    d[self] += rt.reshape_adjoint(d[ans], self)


@reverse_rule(method="transpose")
def transpose_method(ans, self, *axes):
    d[self] += rt.transpose_adjoint(d[ans], self, rt.method_axes(axes))


@reverse_rule(method="copy")
def copy_method(ans, self, order="C"):
    d[self] += d[ans]


@reverse_rule(method="trace")
def trace_method(ans, self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[self] += rt.diagonal_adjoint(d[ans], self, offset, axis1, axis2, True)


@reverse_rule(method="diagonal")
def diagonal_method(ans, self, offset=0, axis1=0, axis2=1):
    d[self] += rt.diagonal_adjoint(d[ans], self, offset, axis1, axis2)


@reverse_rule(method="swapaxes")
def swapaxes_method(ans, self, axis1, axis2):
    d[self] += rt.apply_adjoint(np.swapaxes, d[ans], ans, axis1, axis2)


@reverse_rule(method="repeat")
def repeat_method(ans, self, repeats, axis=None):
    d[self] += rt.repeat_adjoint(d[ans], self, repeats, ans, axis)


@reverse_rule(method="take")
def take_method(ans, self, indices, axis=None, out=None, mode="raise"):
    d[self] += rt.take_adjoint(d[ans], self, indices, ans, axis, mode)


@reverse_rule(method="item")
def item_method(ans, self, *args):
    d[self] += rt.item_adjoint(d[ans], self, args)


@reverse_rule(method="tolist")
def tolist_method(ans, self):
    d[self] += rt.tolist_adjoint(d[ans], ans, self)


@reverse_rule(method="conj")
def conj_method(ans, self):
    # Arguments are real: the conjugate is the identity.
    d[self] += d[ans]


@reverse_rule(method="conjugate")
def conjugate_method(ans, self):
    d[self] += d[ans]


for _name in (
    "cumsum",
    "reshape",
    "ravel",
    "flatten",
    "squeeze",
    "transpose",
    "copy",
    "trace",
    "diagonal",
    "swapaxes",
    "repeat",
    "take",
    "item",
    "conj",
    "conjugate",
    "tolist",
):
    linear(method=_name)


@reverse_rule(method="astype")
def astype_method(ans, self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[self] += rt.cast_adjoint(d[ans], ans)


@forward_rule(method="astype")
def astype_method_tangent(
    ans, self, dtype, order="K", casting="unsafe", subok=True, copy=True
):
    t[ans] += rt.cast_tangent(t[self], ans)


@reverse_rule(method="clip")
def clip_method(ans, self, min=None, max=None, out=None):
    d[self] += rt.clip_adjoint(d[ans], self, min, max, 0)
    d[min] += rt.clip_adjoint(d[ans], self, min, max, 1)
    d[max] += rt.clip_adjoint(d[ans], self, min, max, 2)


@forward_rule(method="clip")
def clip_method_tangent(ans, self, min=None, max=None, out=None):
    t[ans] += rt.select_tangent(t[self], rt.clip_mask(self, min, max, 0), ans)
    t[ans] += rt.select_tangent(t[min], rt.clip_mask(self, min, max, 1), ans)
    t[ans] += rt.select_tangent(t[max], rt.clip_mask(self, min, max, 2), ans)


@reverse_rule(attribute="T")
def T(ans, self):
    d[self] += rt.transpose_adjoint(d[ans], self)


@reverse_rule(attribute="real")
def real_attribute(ans, self):
    d[self] += d[ans]


linear(attribute="T")
linear(attribute="real")

# -- no gradient ------------------------------------------------------------------

nondifferentiable(
    # constructors: the result does not depend on the values of the arguments
    np.zeros,
    np.ones,
    np.zeros_like,
    np.ones_like,
    np.empty,
    np.empty_like,
    np.eye,
    np.identity,
    # integer-, boolean- or shape-valued results
    np.argmax,
    np.argmin,
    np.argsort,
    np.argwhere,
    np.argpartition,
    np.nonzero,
    np.flatnonzero,
    np.count_nonzero,
    np.searchsorted,
    np.digitize,
    # piecewise-constant results
    np.floor,
    np.ceil,
    np.round,
    np.around,
    np.rint,
    np.trunc,
    np.fix,
    np.floor_divide,
    np.sign,
    np.signbit,
    # shape queries
    np.shape,
    np.ndim,
    np.size,
    # predicates and comparisons
    np.isnan,
    np.isinf,
    np.isfinite,
    np.isposinf,
    np.isneginf,
    np.allclose,
    np.isclose,
    np.array_equal,
    np.equal,
    np.not_equal,
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.logical_and,
    np.logical_or,
    np.logical_not,
    np.logical_xor,
    np.any,
    np.all,
    methods=(
        "argmax",
        "argmin",
        "argsort",
        "nonzero",
        "any",
        "all",
        "round",
        "searchsorted",
    ),
    attributes=("shape", "ndim", "size", "dtype", "itemsize", "nbytes"),
)

# -- scipy.special (optional) -----------------------------------------------------

try:
    from scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None

if special is not None:
    elementwise(special.expit, "x", "ans * (1.0 - ans)")
    elementwise(special.logit, "x", "rt.div(1.0, x * (1.0 - x))")
    elementwise(special.erf, "x", "2.0 / np.sqrt(np.pi) * np.exp(-x * x)")
    elementwise(special.erfc, "x", "-2.0 / np.sqrt(np.pi) * np.exp(-x * x)")
    elementwise(special.erfinv, "x", "np.sqrt(np.pi) / 2.0 * np.exp(ans * ans)")
    elementwise(special.gammaln, "x", "special.digamma(x)")
    elementwise(special.gamma, "x", "ans * special.digamma(x)")
    elementwise(special.digamma, "x", "special.polygamma(1, x)")
    # The order n is an integer: no derivative in it.
    elementwise(special.polygamma, "n, x", None, "special.polygamma(n + 1, x)")
    # xlogy(0, y) is 0 for every y: no slope in y where x is 0.
    elementwise(special.xlogy, "x, y", "np.log(y)", "rt.xlogy_dy(x, y)")

    @reverse_rule(special.softmax)
    def softmax(ans, x, axis=None):
        d[x] += rt.softmax_adjoint(d[ans], ans, axis)

    @forward_rule(special.softmax)
    def softmax_tangent(ans, x, axis=None):
        t[ans] += rt.softmax_tangent(t[x], ans, axis)

    @reverse_rule(special.log_softmax)
    def log_softmax(ans, x, axis=None):
        d[x] += rt.softmax_adjoint(d[ans], ans, axis, True)

    @forward_rule(special.log_softmax)
    def log_softmax_tangent(ans, x, axis=None):
        t[ans] += rt.softmax_tangent(t[x], ans, axis, True)

    # return_sign= is left out: with it the result is a pair.
    @reverse_rule(special.logsumexp)
    def logsumexp(ans, a, axis=None, b=None, keepdims=False):
        d[a] += rt.logsumexp_adjoint(d[ans], a, ans, axis, b, keepdims, 0)
        d[b] += rt.logsumexp_adjoint(d[ans], a, ans, axis, b, keepdims, 1)

    @forward_rule(special.logsumexp)
    def logsumexp_tangent(ans, a, axis=None, b=None, keepdims=False):
        t[ans] += rt.logsumexp_tangent(t[a], a, ans, axis, b, keepdims, 0)
        t[ans] += rt.logsumexp_tangent(t[b], a, ans, axis, b, keepdims, 1)
