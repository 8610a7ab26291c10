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
``sign``, ``shape``...) are non-differentiable; ``full``, ``linspace`` and
``arange`` do depend on their fill value, endpoints and step, and have rules.

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import numpy as np

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import d, elementwise, nondifferentiable, reverse_rule

# -- elementwise ------------------------------------------------------------------

elementwise(np.exp, "x", "ans")
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
elementwise(np.sqrt, "x", "rt.div(0.5, ans)")
elementwise(np.absolute, "x", "rt.sign(x)")  # np.abs is the same ufunc
elementwise(np.negative, "x", "-1.0")
elementwise(np.square, "x", "2.0 * x")
elementwise(np.reciprocal, "x", "-ans * ans")
elementwise(
    np.maximum, "x1, x2", "rt.maximum_weight(x1, x2)", "rt.maximum_weight(x2, x1)"
)
elementwise(
    np.minimum, "x1, x2", "rt.minimum_weight(x1, x2)", "rt.minimum_weight(x2, x1)"
)
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


@reverse_rule(np.add)
def add(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans], x1)
    d[x2] += rt.unbroadcast(d[ans], x2)


@reverse_rule(np.subtract)
def subtract(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans], x1)
    d[x2] += rt.unbroadcast(-d[ans], x2)


@reverse_rule(np.multiply)
def multiply(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans] * x2, x1)
    d[x2] += rt.unbroadcast(d[ans] * x1, x2)


@reverse_rule(np.power)
def power(ans, x1, x2):
    d[x1] += rt.unbroadcast(d[ans] * rt.pow_base_partial(x1, x2), x1)
    d[x2] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, x1), x2)


@reverse_rule(np.where)
def where(ans, condition, x=None, y=None, /):
    d[x] += rt.where_adjoint(d[ans], condition, x, True)
    d[y] += rt.where_adjoint(d[ans], condition, y, False)


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


@reverse_rule(np.float64)
def float64(ans, x=0.0):
    d[x] += rt.reshape_adjoint(d[ans], x)


# -- reductions -------------------------------------------------------------------


@reverse_rule(np.sum)
def sum_(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[a] += rt.unreduce(d[ans], a, axis, keepdims, where)
    d[initial] += rt.unbroadcast(d[ans], initial)


@reverse_rule(np.mean)
def mean(ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    d[a] += rt.unreduce_mean(d[ans], a, axis, keepdims, where)


@reverse_rule(np.max, np.min, np.amax, np.amin)
def max_(ans, a, axis=None, out=None, keepdims=False, initial=None, where=True):
    d[a] += rt.unreduce_max(d[ans], a, ans, axis, keepdims, where)


@reverse_rule(np.prod)
def prod(
    ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[a] += rt.prod_adjoint(d[ans], a, axis, keepdims, where)


# var/std leave out where= and mean=, so calls using them are refused rather
# than differentiated wrongly; correction= is the array-API name of ddof.


@reverse_rule(np.var)
def var(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    dof = ddof if correction is None else correction
    d[a] += rt.var_adjoint(d[ans], a, axis, dof, keepdims)


@reverse_rule(np.std)
def std(
    ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None
):
    dof = ddof if correction is None else correction
    d[a] += rt.std_adjoint(d[ans], a, ans, axis, dof, keepdims)


@reverse_rule(np.cumsum)
def cumsum(ans, a, axis=None, dtype=None, out=None):
    d[a] += rt.cumsum_adjoint(d[ans], a, axis)


# -- linear algebra and shapes ------------------------------------------------------


@reverse_rule(np.dot)
def dot(ans, a, b, out=None):
    d[a] += rt.dot_adjoint_a(d[ans], a, b)
    d[b] += rt.dot_adjoint_b(d[ans], a, b)


@reverse_rule(np.matmul)
def matmul(ans, x1, x2, /, out=None):
    d[x1] += rt.matmul_adjoint_a(d[ans], x1, x2)
    d[x2] += rt.matmul_adjoint_b(d[ans], x1, x2)


@reverse_rule(np.outer)
def outer(ans, a, b, out=None):
    d[a] += rt.outer_adjoint(d[ans], a, b, 0)
    d[b] += rt.outer_adjoint(d[ans], a, b, 1)


@reverse_rule(np.linalg.norm)
def norm(ans, x, ord=None, axis=None, keepdims=False):
    d[x] += rt.norm_adjoint(d[ans], x, ans, ord, axis, keepdims)


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


@reverse_rule(np.asarray)
def asarray(ans, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    d[a] += rt.array_adjoint(d[ans], a, ans)


@reverse_rule(np.stack)
def stack(ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += rt.stack_adjoint(d[ans], arrays, axis)


@reverse_rule(np.concatenate)
def concatenate(ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    d[arrays] += rt.concatenate_adjoint(d[ans], arrays, axis)


# -- array methods and attributes -------------------------------------------------


@reverse_rule(method="sum")
def sum_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.unreduce(d[ans], self, axis, keepdims, where)
    d[initial] += rt.unbroadcast(d[ans], initial)


@reverse_rule(method="mean")
def mean_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, *, where=True
):
    d[self] += rt.unreduce_mean(d[ans], self, axis, keepdims, where)


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


@reverse_rule(method="prod")
def prod_method(
    ans, self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True
):
    d[self] += rt.prod_adjoint(d[ans], self, axis, keepdims, where)


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


@reverse_rule(method="cumsum")
def cumsum_method(ans, self, axis=None, dtype=None, out=None):
    d[self] += rt.cumsum_adjoint(d[ans], self, axis)


@reverse_rule(method="dot")
def dot_method(ans, self, b, out=None):
    d[self] += rt.dot_adjoint_a(d[ans], self, b)
    d[b] += rt.dot_adjoint_b(d[ans], self, b)


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


@reverse_rule(method="astype")
def astype_method(ans, self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[self] += rt.cast_adjoint(d[ans], ans)


@reverse_rule(method="clip")
def clip_method(ans, self, min=None, max=None, out=None):
    d[self] += rt.clip_adjoint(d[ans], self, min, max, 0)
    d[min] += rt.clip_adjoint(d[ans], self, min, max, 1)
    d[max] += rt.clip_adjoint(d[ans], self, min, max, 2)


@reverse_rule(attribute="T")
def T(ans, self):
    d[self] += rt.transpose_adjoint(d[ans], self)


# -- constructors whose values depend on their arguments ---------------------------


@reverse_rule(np.full)
def full(ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    d[fill_value] += rt.full_adjoint(d[ans], fill_value, ans)


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


@reverse_rule(np.arange)
def arange(ans, *args, dtype=None, device=None, like=None):
    # arange([start,] stop[, step]): entry i is start + i * step.
    d[args] += rt.arange_adjoint(d[ans], ans, args)


# -- no gradient ------------------------------------------------------------------

nondifferentiable(
    # constructors: the result does not depend on the values of the arguments
    np.zeros,
    np.ones,
    np.zeros_like,
    np.ones_like,
    np.empty,
    np.empty_like,
    np.full_like,
    np.eye,
    # integer-, boolean- or shape-valued results
    np.argmax,
    np.argmin,
    np.argsort,
    np.floor,
    np.ceil,
    np.round,
    np.around,
    np.sign,
    np.shape,
    np.ndim,
    np.size,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.allclose,
    np.isclose,
    methods=("argmax", "argmin", "argsort", "nonzero", "any", "all"),
    attributes=("shape", "ndim", "size", "dtype"),
)
