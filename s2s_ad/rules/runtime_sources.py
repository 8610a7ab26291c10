"""Derivatives from source for the run-time helpers of factorizations etc.

The adjoints and tangents of ``np.linalg.cholesky``, ``eigh``, ``svd``...
(``rt.cholesky_adjoint``, ``rt.eigh_tangent``...) are nonlinear in several
arguments at once, so hand-written rules for them would need rules of their
own at the next order, and so on.  Instead, each is restated here in plain
NumPy, calling only functions that have rules, and the compiler
differentiates that source as it does a user function: ``grad(grad(f))``,
``hessian`` and third derivatives through a Cholesky factor work like those
of any user code, to the order the functions used here support.

Generated code keeps calling the fast helpers of :mod:`s2s_ad.runtime`.
``@source_of(helper)`` gives the helper ``__s2s_function__`` (the protocol by
which an object tells the compiler which Python function stands for it), so
differentiating a call to the helper transforms the decorated definition.
The helpers that give second derivatives of ``np.prod``, ``np.linalg.norm``,
``np.std``, ``np.linalg.solve``, ``np.linalg.slogdet`` and ``np.einsum``
(``rt.prod_adjoint_hvp``...) are restated the same way, so third and higher
derivatives through those functions work too.

``tests/test_runtime_rules.py`` checks that every definition returns what
its helper returns, and the derivatives through them to third order.

The definitions are written for the compiler, not for speed: no ``with``
(``np.errstate``), so divisions that may meet a zero go through ``rt.div``;
shapes and flags come from ``np.shape``/``np.ndim`` (which carry no
derivative); symbolic zeros (``0.0``) are tested with ``rt.is_zero``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import nondifferentiable

# The compiler transforms the Python functions of modules other than numpy,
# math, builtins and s2s_ad itself, and of modules that set this marker
# (ops.is_user_function); the code it generates from a function runs with
# that function's globals, so the code generated from the definitions below
# is transformed again at the next order too.
__s2s_ad_transform__ = True

Function = Callable[..., Any]


def source_of(helper: Function) -> Callable[[Function], Function]:
    """Make the decorated definition the source the compiler differentiates
    for ``helper`` (same parameters, same results)."""

    def register(definition: Function) -> Function:
        helper.__s2s_function__ = lambda: definition  # type: ignore[attr-defined]
        return definition

    return register


# -- small pieces ------------------------------------------------------------------


def _mT(x):
    """The transpose of (a stack of) matrices."""
    return np.swapaxes(x, -1, -2)


def _is_number(x):
    """Whether ``x`` is a Python number (not a NumPy scalar)."""
    return isinstance(x, (int, float)) and not isinstance(x, np.generic)


def _like_scalar(result, x):
    """``result`` as a Python float when ``x`` is a Python number."""
    if _is_number(x):
        return float(result)
    return result


def _as_adjoint_of(out, x):
    """``out`` (computed with ``x``'s shape) as the adjoint of ``x``."""
    if _is_number(x):
        return float(np.sum(out))
    out = np.asarray(out)
    if np.shape(out) != np.shape(x):
        if np.ndim(out) >= np.ndim(x):
            out = rt.unbroadcast(out, x)
        out = np.reshape(out, np.shape(x))
    return out


def _to_axis(v, ndim, axis):
    """A 1-d ``v`` shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(v, shape)


def _sum_but(v, axis):
    """``v`` summed over every axis but ``axis``."""
    return np.sum(np.reshape(np.moveaxis(v, axis, 0), (np.shape(v)[axis], -1)), 1)


def _gaps(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    off = np.eye(np.shape(w)[-1]) == 0.0
    return np.where(off, rt.div(1.0, np.where(off, diff, 1.0)), 0.0)


def _phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * x * np.eye(np.shape(x)[-1])


def _sym_tangent(t, lower):
    if lower:
        return np.tril(t) + _mT(np.tril(t, -1))
    return np.triu(t) + _mT(np.triu(t, 1))


def _sym_adjoint(s, lower):
    if lower:
        return np.tril(s) + np.tril(_mT(s), -1)
    return np.triu(s) + np.triu(_mT(s), 1)


def _lower(UPLO):
    return UPLO == "L" or UPLO == "l"


# -- cumprod -----------------------------------------------------------------------


def _along_last(x, axis):
    if axis is None:
        return np.reshape(x, -1)
    return np.moveaxis(x, axis, -1)


def _from_last(y, like, axis):
    if axis is None:
        return np.reshape(y, np.shape(like))
    return np.moveaxis(y, -1, axis)


def _leave_one_out_cumprod(arr, y):
    """``P[..., j, i]``: the product of ``arr[..., k]`` for k <= i, k != j
    (0 for i < j), i.e. ∂ cumprod_i / ∂ a_j without dividing by a_j."""
    n = np.shape(arr)[-1]
    i = np.arange(n)
    factors = np.where(i[None, :] > i[:, None], arr[..., None, :], 1.0)
    tail = np.cumprod(factors, axis=-1)
    head = np.concatenate([np.ones(np.shape(arr)[:-1] + (1,)), y[..., :-1]], axis=-1)
    return np.where(i[None, :] >= i[:, None], head[..., :, None] * tail, 0.0)


@source_of(rt.cumprod_tangent)
def cumprod_tangent(t: Any, a: Any, ans: Any, axis: Any = None) -> Any:
    if rt.is_zero(t):
        return 0.0
    arr = _along_last(np.asarray(a), axis)
    y = _along_last(ans, axis)
    tt = _along_last(np.asarray(rt.dense_tangent(t, a)), axis)
    if np.all(arr != 0):
        out = y * np.cumsum(tt / arr, axis=-1)
    else:
        out = np.einsum("...j,...ji->...i", tt, _leave_one_out_cumprod(arr, y))
    return _from_last(out, ans, axis)


@source_of(rt.cumprod_adjoint)
def cumprod_adjoint(g: Any, a: Any, ans: Any, axis: Any = None) -> Any:
    if rt.is_zero(g):
        return 0.0
    arr = _along_last(np.asarray(a), axis)
    y = _along_last(ans, axis)
    gg = _along_last(rt.dense(g, ans), axis)
    if np.all(arr != 0):
        out = np.flip(np.cumsum(np.flip(gg * y, -1), axis=-1), -1) / arr
    else:
        out = np.einsum("...i,...ji->...j", gg, _leave_one_out_cumprod(arr, y))
    return rt.reshape_adjoint(_from_last(out, ans, axis), a)


# -- cholesky ----------------------------------------------------------------------


@source_of(rt.cholesky_tangent)
def cholesky_tangent(t: Any, ans: Any, upper: Any = False) -> Any:
    if rt.is_zero(t):
        return 0.0
    if upper:
        L = _mT(ans)
    else:
        L = ans
    E = _sym_tangent(rt.dense(t, ans), not upper)
    inner = np.linalg.solve(L, _mT(np.linalg.solve(L, E)))
    out = L @ _phi(inner)
    if upper:
        return _mT(out)
    return out


@source_of(rt.cholesky_adjoint)
def cholesky_adjoint(g: Any, ans: Any, upper: Any = False) -> Any:
    if rt.is_zero(g):
        return 0.0
    G = rt.dense(g, ans)
    if upper:
        L = _mT(ans)
        L_bar = _mT(G)
    else:
        L = ans
        L_bar = G
    P = _phi(_mT(L) @ L_bar)
    S = np.linalg.solve(_mT(L), _mT(np.linalg.solve(_mT(L), _mT(P))))
    return _sym_adjoint(S, not upper)


# -- eigh, eigvalsh ----------------------------------------------------------------


@source_of(rt.eigh_tangent)
def eigh_tangent(t: Any, ans: Any, UPLO: Any = "L") -> Any:
    if rt.is_zero(t):
        return 0.0
    w = ans[0]
    v = ans[1]
    omega = _mT(v) @ _sym_tangent(rt.dense(t, v), _lower(UPLO)) @ v
    dw = np.copy(np.diagonal(omega, 0, -2, -1))
    dv = v @ (_gaps(w) * omega)
    return (dw, dv)


@source_of(rt.eigh_adjoint)
def eigh_adjoint(g: Any, ans: Any, UPLO: Any = "L") -> Any:
    if rt.is_zero(g):
        return 0.0
    w = ans[0]
    v = ans[1]
    g_w = rt.getitem_adj(g, 0)
    g_v = rt.getitem_adj(g, 1)
    M = 0.0
    if not rt.is_zero(g_w):
        M = np.eye(np.shape(w)[-1]) * rt.dense(g_w, w)[..., None, :]
    if not rt.is_zero(g_v):
        M = M + _gaps(w) * (_mT(v) @ rt.dense(g_v, v))
    if rt.is_zero(M):
        return 0.0
    return _sym_adjoint(v @ M @ _mT(v), _lower(UPLO))


@source_of(rt.eigvalsh_tangent)
def eigvalsh_tangent(t: Any, a: Any, UPLO: Any = "L") -> Any:
    if rt.is_zero(t):
        return 0.0
    return eigh_tangent(t, np.linalg.eigh(a, UPLO), UPLO)[0]


@source_of(rt.eigvalsh_adjoint)
def eigvalsh_adjoint(g: Any, a: Any, UPLO: Any = "L") -> Any:
    if rt.is_zero(g):
        return 0.0
    return eigh_adjoint((g, 0.0), np.linalg.eigh(a, UPLO), UPLO)


# -- svd, pinv ---------------------------------------------------------------------


def _svd_factors(a, ans, compute_uv):
    """(u, s, v) of the thin SVD of ``a`` (from ``ans`` when it has them;
    the primal rule already refused the shapes whose factors are not unique)."""
    if compute_uv:
        return ans[0], ans[1], _mT(ans[2])
    usv = np.linalg.svd(a, full_matrices=False)
    return usv[0], usv[1], _mT(usv[2])


@source_of(rt.svd_tangent)
def svd_tangent(
    t: Any, a: Any, ans: Any, full_matrices: Any = True, compute_uv: Any = True
) -> Any:
    if rt.is_zero(t):
        return 0.0
    u, s, v = _svd_factors(a, ans, compute_uv)
    T = rt.dense(t, a)
    dP = _mT(u) @ T @ v
    ds = np.copy(np.diagonal(dP, 0, -2, -1))
    if not compute_uv:
        return ds
    F = _gaps(s * s)
    row = s[..., :, None]
    col = s[..., None, :]
    du = u @ (F * (dP * col + row * _mT(dP)))
    dv = v @ (F * (row * dP + _mT(dP) * col))
    m = np.shape(a)[-2]
    n = np.shape(a)[-1]
    if m > n:
        tv = T @ v
        du = du + rt.div(tv - u @ (_mT(u) @ tv), col)
    elif n > m:
        tu = _mT(T) @ u
        dv = dv + rt.div(tu - v @ (_mT(v) @ tu), col)
    return (du, ds, _mT(dv))


@source_of(rt.svd_adjoint)
def svd_adjoint(
    g: Any, a: Any, ans: Any, full_matrices: Any = True, compute_uv: Any = True
) -> Any:
    if rt.is_zero(g):
        return 0.0
    u, s, v = _svd_factors(a, ans, compute_uv)
    if compute_uv:
        g_u = rt.getitem_adj(g, 0)
        g_s = rt.getitem_adj(g, 1)
        g_vh = rt.getitem_adj(g, 2)
        g_v = 0.0
        if not rt.is_zero(g_vh):
            g_v = _mT(rt.dense(g_vh, ans[2]))
    else:
        g_u = 0.0
        g_s = g
        g_v = 0.0
    P = 0.0
    if not rt.is_zero(g_s):
        P = np.eye(np.shape(s)[-1]) * rt.dense(g_s, s)[..., None, :]
    row = s[..., :, None]
    col = s[..., None, :]
    m = np.shape(a)[-2]
    n = np.shape(a)[-1]
    F = _gaps(s * s)
    out = 0.0
    if not rt.is_zero(g_u):
        g_u = rt.dense(g_u, u)
        Y = F * (_mT(u) @ g_u)
        P = P + (Y + _mT(Y)) * col
        if m > n:
            out = rt.div(g_u - u @ (_mT(u) @ g_u), col) @ _mT(v)
    if not rt.is_zero(g_v):
        Z = F * (_mT(v) @ g_v)
        P = P + row * (Z + _mT(Z))
        if n > m:
            out = rt.acc(out, u @ _mT(rt.div(g_v - v @ (_mT(v) @ g_v), col)))
    if not rt.is_zero(P):
        out = rt.acc(out, u @ P @ _mT(v))
    return out


@source_of(rt.pinv_tangent)
def pinv_tangent(t: Any, a: Any, ans: Any) -> Any:
    if rt.is_zero(t):
        return 0.0
    X = ans
    A = a
    m = np.shape(a)[-2]
    n = np.shape(a)[-1]
    T = rt.dense(t, a)
    tT = _mT(T)
    return (
        -(X @ T @ X)
        + X @ _mT(X) @ tT @ (np.eye(m) - A @ X)
        + (np.eye(n) - X @ A) @ tT @ _mT(X) @ X
    )


@source_of(rt.pinv_adjoint)
def pinv_adjoint(g: Any, a: Any, ans: Any) -> Any:
    if rt.is_zero(g):
        return 0.0
    X = ans
    A = a
    m = np.shape(a)[-2]
    n = np.shape(a)[-1]
    gT = _mT(rt.dense(g, ans))
    return (
        -(_mT(X) @ _mT(gT) @ _mT(X))
        + (np.eye(m) - A @ X) @ gT @ X @ _mT(X)
        + _mT(X) @ X @ gT @ (np.eye(n) - X @ A)
    )


# -- qr ----------------------------------------------------------------------------


def _qr_factors(a, ans, mode):
    """(Q, R) of ``a`` (the primal rule already refused the other modes)."""
    if mode == "r":
        qr = np.linalg.qr(a)
        return qr[0], qr[1]
    return ans[0], ans[1]


@source_of(rt.qr_tangent)
def qr_tangent(t: Any, a: Any, ans: Any, mode: Any = "reduced") -> Any:
    if rt.is_zero(t):
        return 0.0
    q, r = _qr_factors(a, ans, mode)
    B = _mT(np.linalg.solve(_mT(r), _mT(rt.dense(t, a))))
    C = _mT(q) @ B
    low = np.tril(C, -1)
    omega = low - _mT(low)
    dr = (C - omega) @ r
    if mode == "r":
        return dr
    return (q @ omega + B - q @ C, dr)


@source_of(rt.qr_adjoint)
def qr_adjoint(g: Any, a: Any, ans: Any, mode: Any = "reduced") -> Any:
    if rt.is_zero(g):
        return 0.0
    q, r = _qr_factors(a, ans, mode)
    if mode == "r":
        g_q = 0.0
        g_r = g
    else:
        g_q = rt.getitem_adj(g, 0)
        g_r = rt.getitem_adj(g, 1)
    M = 0.0
    B_bar = 0.0
    if not rt.is_zero(g_q):
        g_q = rt.dense(g_q, q)
        M = _mT(q) @ g_q
        B_bar = g_q
    if not rt.is_zero(g_r):
        M = M - rt.dense(g_r, r) @ _mT(r)
    if rt.is_zero(M):
        return 0.0
    C_bar = np.tril(M - _mT(M), -1) - M
    B_bar = rt.acc(B_bar, q @ C_bar)
    return _mT(np.linalg.solve(r, _mT(B_bar)))


# -- average -----------------------------------------------------------------------


def _expand(g, axis, keepdims):
    """``g`` with the dimensions a reduction over ``axis`` removed put back."""
    if keepdims or axis is None or np.ndim(g) == 0:
        return g
    return np.expand_dims(g, axis)


def _average_parts(a, ans, axis, weights, keepdims):
    """``a``, the weights broadcast to it, their sum and the average, with
    the reduced dimensions kept."""
    A = np.asarray(a) * 1.0
    ndim = np.ndim(A)
    if weights is None:
        W = np.ones(np.shape(A))
    else:
        W = np.asarray(weights) * 1.0
        if np.shape(W) != np.shape(A):
            W = _to_axis(W, ndim, int(axis) % ndim)
        W = np.broadcast_to(W, np.shape(A))
    total = np.sum(W, axis=axis, keepdims=True)
    return A, W, total, _expand(ans, axis, keepdims)


@source_of(rt.average_tangent)
def average_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    weights: Any = None,
    keepdims: Any = False,
    which: Any = 0,
) -> Any:
    if rt.is_zero(t):
        return 0.0
    A, W, total, avg = _average_parts(a, ans, axis, weights, keepdims)
    if which == 0:
        part = W * np.asarray(rt.dense_tangent(t, a))
    else:
        tw = np.asarray(rt.dense_tangent(t, weights)) * 1.0
        if np.shape(tw) != np.shape(A):
            tw = _to_axis(tw, np.ndim(A), int(axis) % np.ndim(A))
        part = (A - avg) * tw
    out = np.reshape(np.sum(part, axis=axis, keepdims=True) / total, np.shape(ans))
    if np.ndim(out) == 0 and not isinstance(ans, np.ndarray):
        return _like_scalar(out, ans)
    return out


@source_of(rt.average_adjoint)
def average_adjoint(
    g: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    weights: Any = None,
    keepdims: Any = False,
    which: Any = 0,
) -> Any:
    if rt.is_zero(g):
        return 0.0
    A, W, total, avg = _average_parts(a, ans, axis, weights, keepdims)
    G = _expand(g, axis, keepdims) / total
    if which == 0:
        return _as_adjoint_of(G * W, a)
    out = np.broadcast_to(G * (A - avg), np.shape(A))
    if np.shape(weights) != np.shape(A):
        out = _sum_but(out, int(axis) % np.ndim(A))
    return _as_adjoint_of(out, weights)


# -- trapezoid ---------------------------------------------------------------------


def _trapezoid_widths(y, x, dx, axis):
    """The interval widths, broadcast along ``axis`` of ``y``."""
    if x is None:
        return dx
    if np.ndim(x) == 1:
        d = np.diff(np.asarray(x) * 1.0)
        if np.ndim(y) > 1:
            d = _to_axis(d, np.ndim(y), axis)
        return d
    return np.diff(np.asarray(x) * 1.0, axis=axis)


def _pair_means(y, axis):
    n = np.shape(y)[axis]
    lo = np.take(y, np.arange(n - 1), axis=axis)
    hi = np.take(y, np.arange(1, n), axis=axis)
    return (lo + hi) / 2.0


@source_of(rt.trapezoid_tangent)
def trapezoid_tangent(
    t: Any, y: Any, x: Any = None, dx: Any = 1.0, axis: Any = -1, which: Any = 0
) -> Any:
    if rt.is_zero(t) or (which == 2 and x is not None):
        return 0.0
    Y = np.asarray(y) * 1.0
    ax = int(axis) % np.ndim(Y)
    if which == 0:
        T = np.broadcast_to(np.asarray(rt.dense_tangent(t, y)), np.shape(Y))
        return np.sum(_trapezoid_widths(Y, x, dx, ax) * _pair_means(T, ax), axis=ax)
    if which == 1:
        widths = _trapezoid_widths(Y, rt.dense_tangent(t, x), 0.0, ax)
    else:
        widths = t
    return np.sum(widths * _pair_means(Y, ax), axis=ax)


@source_of(rt.trapezoid_adjoint)
def trapezoid_adjoint(
    g: Any, y: Any, x: Any = None, dx: Any = 1.0, axis: Any = -1, which: Any = 0
) -> Any:
    if rt.is_zero(g) or (which == 2 and x is not None):
        return 0.0
    Y = np.asarray(y) * 1.0
    ax = int(axis) % np.ndim(Y)
    G = np.expand_dims(np.asarray(g) * 1.0, ax)
    width = [(0, 0)] * np.ndim(Y)
    width[ax] = (1, 1)
    if which == 0:
        means = _pair_means(Y, ax)
        w = np.broadcast_to(G * _trapezoid_widths(Y, x, dx, ax), np.shape(means))
        return _as_adjoint_of(_pair_means(np.pad(w, width), ax), y)
    c = G * _pair_means(Y, ax)
    if which == 2:
        return _as_adjoint_of(np.sum(c), dx)
    out = -np.diff(np.pad(c, width), axis=ax)
    if np.ndim(x) == 1 and np.ndim(Y) > 1:
        out = _sum_but(out, ax)
    return _as_adjoint_of(out, x)


# -- polyval -----------------------------------------------------------------------


@source_of(rt.polyval_slope)
def polyval_slope(p: Any, x: Any) -> Any:
    coefficients = np.asarray(p) * 1.0
    n = np.shape(coefficients)[0]
    if n < 2:
        return _like_scalar(np.zeros(np.shape(x)), x)
    derivative = coefficients[:-1] * np.arange(n - 1, 0, -1)
    return _like_scalar(np.polyval(derivative, x), x)


@source_of(rt.polyval_adjoint)
def polyval_adjoint(g: Any, p: Any, x: Any) -> Any:
    if rt.is_zero(g):
        return 0.0
    X = np.asarray(x) * 1.0
    G = np.broadcast_to(g, np.shape(X))
    # Powers by repeated products, not X ** k: the derivatives of a power
    # with exponent 0 at X = 0 would be 0 * inf.
    sums = []
    power = np.ones(np.shape(X))
    for _ in range(len(p)):
        sums.append(np.sum(G * power))
        power = power * X
    return rt.array_adjoint(np.array(sums[::-1]), p)


# -- einsum: second-derivative helpers -------------------------------------------
#
# einsum is multilinear, so its second derivatives are einsums (and einsum
# adjoints) with two operands replaced; restated here so that third and higher
# derivatives go through np.einsum's and rt.einsum_adjoint's own rules.  They
# return lists where the helpers return tuples (tuple() has no rule); adjoints
# of either kind add up the same way.


def _einsum_with(operands, i, replacement):
    """``operands`` with entry ``i`` replaced (dense, like the operand)."""
    ops = []
    for k in range(len(operands)):
        if k == i:
            ops.append(rt.dense_tangent(replacement, operands[k]))
        else:
            ops.append(operands[k])
    return ops


@source_of(rt.einsum_adjoint_pairs)
def einsum_adjoint_pairs(
    g: Any, ans: Any, subscripts: Any, operands: Any, ws: Any
) -> Any:
    n = len(operands)
    # All adjoints with operand i replaced first, then summed per operand:
    # writing into a list of totals would be an in-place write.
    replaced = []
    for i in range(n):
        w = rt.getitem_adj(ws, i)
        if rt.is_zero(g) or rt.is_zero(w):
            replaced.append(0.0)
        else:
            ops = _einsum_with(operands, i, w)
            replaced.append(rt.einsum_adjoint(g, ans, subscripts, ops))
    out = []
    for j in range(n):
        total = 0.0
        for i in range(n):
            if i != j:
                total = rt.acc(total, rt.getitem_adj(replaced[i], j))
        out.append(total)
    return out


def _zero_at(items, i, n):
    """The ``n`` entries of ``items`` (a sequence or a zero), entry ``i`` zero."""
    out = []
    for k in range(n):
        if k == i:
            out.append(0.0)
        else:
            out.append(rt.getitem_adj(items, k))
    return out


@source_of(rt.einsum_tangent_pairs)
def einsum_tangent_pairs(
    subscripts: Any, operands: Any, ts: Any, ss: Any, optimize: Any = False
) -> Any:
    total = 0.0
    if rt.is_zero(ts) or rt.is_zero(ss):
        return total
    n = len(operands)
    for i in range(n):
        ti = rt.getitem_adj(ts, i)
        if not rt.is_zero(ti):
            # Operand i replaced by ts[i], then one other (j != i) by ss[j]:
            # the tangent of that einsum along ss without entry i.
            with_t = _einsum_with(operands, i, ti)
            others = _zero_at(ss, i, n)
            total = rt.acc(
                total, rt.einsum_tangent(subscripts, with_t, others, optimize)
            )
    return total


@source_of(rt.einsum_adjoint_jvp)
def einsum_adjoint_jvp(args: Any, dots: Any) -> Any:
    g = args[0]
    ans = args[1]
    subscripts = args[2]
    operands = args[3]
    first = rt.einsum_adjoint(rt.getitem_adj(dots, 0), ans, subscripts, operands)
    second = einsum_adjoint_pairs(g, ans, subscripts, operands, rt.getitem_adj(dots, 3))
    out = []
    for i in range(len(operands)):
        out.append(rt.acc(first[i], second[i]))
    return out


# -- solve, slogdet ----------------------------------------------------------------

_NUMPY2 = int(np.__version__.split(".")[0]) >= 2


def _solve_is_vector(a, b):
    """Whether np.linalg.solve treats ``b`` as (a stack of) vectors."""
    if _NUMPY2:
        return np.ndim(b) == 1
    return np.ndim(b) == np.ndim(a) - 1


def _col(v, like, vector):
    v = rt.dense(v, like)
    if vector:
        return v[..., None]
    return v


def _uncol(v, vector):
    if vector:
        return v[..., 0]
    return v


@source_of(rt.solve_x_partial)
def solve_x_partial(g: Any, t: Any, a: Any, b: Any, ans: Any, mode: Any) -> Any:
    if rt.is_zero(g) or rt.is_zero(t):
        return 0.0
    vector = _solve_is_vector(a, b)
    T = rt.dense(t, a)
    G = _col(g, ans, vector)
    if mode == 0:
        out = -(_mT(T) @ np.linalg.solve(_mT(a), G))
    else:
        out = -np.linalg.solve(a, T @ G)
    return _uncol(out, vector)


@source_of(rt.solve_adjoint_partial)
def solve_adjoint_partial(
    w: Any, g: Any, a: Any, b: Any, ans: Any, which: Any, part: Any
) -> Any:
    if rt.is_zero(w) or rt.is_zero(g) or (which == 1 and (part == 2 or part == 4)):
        return 0.0
    vector = _solve_is_vector(a, b)
    A = np.asarray(a)
    X = _col(ans, ans, vector)
    B = np.linalg.solve(_mT(A), _col(g, ans, vector))
    if part == 1:
        if which == 1:
            W = _col(w, ans, vector)
            return _as_adjoint_of(-(B @ _mT(np.linalg.solve(A, W))), a)
        W = rt.dense(w, A)
        return _as_adjoint_of(B @ _mT(np.linalg.solve(A, W @ X)), a)
    if part == 2:
        W = rt.dense(w, A)
        return _as_adjoint_of(_uncol(-(_mT(W) @ B), vector), ans)
    if part == 3:
        Ad = rt.dense(w, a)
        moved = np.linalg.solve(_mT(A), _mT(Ad) @ B)
        if which == 1:
            return _uncol(-moved, vector)
        return moved @ _mT(X)
    return -(B @ _mT(_col(w, ans, vector)))


def _trace(x):
    return np.trace(x, 0, -2, -1)


@source_of(rt.slogdet_tangent_jvp)
def slogdet_tangent_jvp(args: Any, dots: Any) -> Any:
    t = args[0]
    a = args[1]
    t_dot = rt.getitem_adj(dots, 0)
    a_dot = rt.getitem_adj(dots, 1)
    total = 0.0
    if not rt.is_zero(t_dot):
        total = _trace(np.linalg.solve(a, rt.dense(t_dot, a)))
    if not rt.is_zero(a_dot) and not rt.is_zero(t):
        inv = np.linalg.inv(a)
        total = rt.acc(total, -_trace(inv @ rt.dense(a_dot, a) @ inv @ rt.dense(t, a)))
    if rt.is_zero(total):
        return 0.0
    return (0.0, total)


# -- std, norm: second-derivative helpers ------------------------------------------


def _axes_of(axis, ndim):
    """``axis`` as a sorted tuple of non-negative ints (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    if np.ndim(axis) == 0:
        axis = (axis,)
    if ndim == 0:
        return tuple(0 for _ in axis)
    return tuple(int(a) % ndim for a in axis)


# Axis arithmetic carries no derivative (the compiler would otherwise see
# the parameters it reads, active in the callers, flow into tuple()).
nondifferentiable(_axes_of)


def _expand_to(g, ndim, axis, keepdims):
    """Re-insert the dimensions a reduction over ``axis`` removed from ``g``."""
    if keepdims or axis is None or np.ndim(g) == 0:
        return g
    return np.expand_dims(g, _axes_of(axis, ndim))


def _float_array(a):
    arr = np.asarray(a)
    if arr.dtype.kind not in "fc":
        return arr * 1.0
    return arr


def _unkeep(part, g, shape, axis, keepdims):
    """``part`` (with kept reduced dimensions) in ``g``'s layout."""
    if rt.is_zero(g):
        if keepdims or len(shape) == 0:
            return part
        if axis is None:
            return np.reshape(part, ())
        return np.squeeze(part, axis=_axes_of(axis, len(shape)))
    if _is_number(g):
        return float(np.sum(part))
    if np.size(g) != np.size(part):
        return rt.unbroadcast(part, g)
    return np.reshape(part, np.shape(g))


@source_of(rt.std_adjoint_partial)
def std_adjoint_partial(
    w: Any,
    g: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    ddof: Any = 0,
    keepdims: Any = False,
    part: Any = 0,
) -> Any:
    if rt.is_zero(w) or (part != 0 and rt.is_zero(g)):
        return 0.0
    arr = _float_array(a)
    nd = np.ndim(arr)
    std = _expand_to(np.asarray(ans), nd, axis, keepdims)
    positive = std > 0
    safe = np.where(positive, std, 1.0)
    gk = 0.0
    if not rt.is_zero(g):
        gk = _expand_to(g, nd, axis, keepdims)
    if part == 3:
        wk = _expand_to(w, nd, axis, keepdims)
        half = np.where(positive, -gk * wk / (2.0 * safe * safe), 0.0)
        out = rt.var_adjoint(half, arr, axis, ddof, True)
        if _is_number(a):
            return float(out)
        return out
    count = 1
    for ax in _axes_of(axis, nd):
        count = count * np.shape(arr)[ax]
    scale = 2.0 / (count - ddof)
    centered = arr - np.mean(arr, axis=axis, keepdims=True)
    q = np.sum(rt.dense(w, arr) * scale * centered, axis=axis, keepdims=True)
    if part == 0:
        kd = np.where(positive, q / (2.0 * safe), 0.0)
        return _unkeep(kd, g, np.shape(arr), axis, keepdims)
    kd = np.where(positive, -q * gk / (2.0 * safe * safe), 0.0)
    return _unkeep(kd, ans, np.shape(arr), axis, keepdims)


def _norm_derivatives(x, n, ord, axes):
    """(d, e) with ``∂G/∂x = diag(d)`` and ``∂G/∂n = e`` for the gradient
    ``G`` of the norm (``n`` with kept dimensions); None where unsupported."""
    zero = np.zeros(np.shape(x))
    positive = n > 0
    safe = np.where(positive, n, 1.0)
    if ord is None or (len(axes) == 1 and ord == 2) or ord == "fro" or ord == "f":
        d = np.where(positive, 1.0 / safe, 0.0)
        e = np.where(positive, -x / (safe * safe), 0.0)
        return np.broadcast_to(d, np.shape(x)), e
    if len(axes) == 1:
        if ord == 0 or ord == 1 or ord == np.inf or ord == -np.inf:
            return zero, zero
        p = float(ord)
        ax = np.abs(x)
        ratio = ax / safe
        grad = np.where(positive, np.sign(x) * ratio ** (p - 1), 0.0)
        d = np.where(positive, (p - 1) * ratio ** (p - 2) / safe, 0.0)
        return d, np.where(positive, -(p - 1) * grad / safe, 0.0)
    if ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf:
        return zero, zero
    return None


# Where the nuclear and spectral norms have no second derivative is decided
# on values alone; the check carries no derivative.
nondifferentiable(rt._check_svd_norm_hessian)


def _check_distinct_singular_values(s, m, n, ord):
    """Refuse third derivatives that would go through the SVD's derivative
    where it breaks down: tied singular values (or a zero one of a non-square
    matrix) make its singular-vector tangents infinite, and the norm's third
    derivative would come out NaN or, with a near-tie, meaningless."""
    tol = max(m, n) * np.finfo(float).eps * np.max(s, axis=-1, initial=0.0)
    tied = np.any(np.abs(np.diff(s, axis=-1)) <= tol[..., None])
    if tied or (m != n and np.any(np.min(s, axis=-1) <= tol)):
        raise ValueError(
            f"third derivatives of the ord={ord!r} matrix norm go through the "
            "SVD's derivative, which needs distinct (and, for a non-square "
            "matrix, nonzero) singular values"
        )


nondifferentiable(_check_distinct_singular_values)


def _svd_norm_hvp(x, w, ord):
    """As ``rt._svd_norm_hvp``: the Hessian of the nuclear, 2 or -2 norm of
    (a stack of) matrices applied to ``w``, through np.linalg.svd (so its
    derivatives are the SVD's)."""
    m = np.shape(x)[-2]
    n = np.shape(x)[-1]
    factors = np.linalg.svd(x, full_matrices=False)
    u = factors[0]
    s = factors[1]
    vh = factors[2]
    rt._check_svd_norm_hessian(s, m, n, ord)
    _check_distinct_singular_values(s, m, n, ord)
    v = _mT(vh)
    k = np.shape(s)[-1]
    wt = _mT(u) @ w @ v
    if ord == "nuc":
        core = (wt - _mT(wt)) / (s[..., :, None] + s[..., None, :])
        c = 1.0 / s
    else:
        p = 0
        if ord != 2:
            p = k - 1
        e = np.eye(k)[p]
        sp = s[..., p : p + 1]
        off = e == 0.0
        f = np.where(off, rt.div(1.0, np.where(off, sp * sp - s * s, 1.0)), 0.0)
        col = wt[..., :, p]
        row = wt[..., p, :]
        core = (f * (col * sp + s * row))[..., :, None] * e + e[:, None] * (
            f * (s * col + sp * row)
        )[..., None, :]
        c = e / sp
    out = u @ core @ vh
    if m > n:
        wv = w @ v
        out = out + ((wv - u @ (_mT(u) @ wv)) * c[..., None, :]) @ vh
    if n > m:
        uw = _mT(u) @ w
        out = out + u @ ((uw - (uw @ v) @ vh) * c[..., :, None])
    return out


@source_of(rt.norm_adjoint_partial)
def norm_adjoint_partial(
    w: Any,
    g: Any,
    x: Any,
    ans: Any,
    ord: Any = None,
    axis: Any = None,
    keepdims: Any = False,
    part: Any = 1,
) -> Any:
    if rt.is_zero(w) or rt.is_zero(g) or _is_number(x):
        return 0.0
    arr = _float_array(x)
    nd = np.ndim(arr)
    axes = _axes_of(axis, nd)
    n = np.asarray(ans)
    if not keepdims and np.ndim(n) < nd:
        n = np.expand_dims(n, axes)
    found = _norm_derivatives(arr, n, ord, axes)
    if found is None and len(axes) == 2 and (ord == "nuc" or ord == 2 or ord == -2):
        if part != 1:
            return 0.0
        rows = axes[0]
        cols = axes[1]
        moved = np.moveaxis(arr, (rows, cols), (-2, -1))
        w_moved = np.moveaxis(rt.dense(w, arr), (rows, cols), (-2, -1))
        hw = np.moveaxis(_svd_norm_hvp(moved, w_moved, ord), (-2, -1), (rows, cols))
        return _expand_to(g, nd, axes, keepdims) * hw
    if found is None:
        raise NotImplementedError(
            f"second derivatives of the {ord!r} matrix norm are not implemented"
        )
    diag = found[0]
    dn = found[1]
    gk = _expand_to(g, nd, axes, keepdims)
    if part == 1:
        return gk * diag * rt.dense(w, arr)
    if part == 3:
        return gk * dn * _expand_to(w, nd, axes, keepdims)
    kd = np.sum(gk * dn * rt.dense(w, arr), axis=axes, keepdims=True)
    if keepdims:
        out = kd
    else:
        out = np.squeeze(kd, axis=axes)
    if rt.is_zero(ans):
        return out
    return rt.unbroadcast(out, ans)


# -- prod: second-derivative helper ------------------------------------------------


def _reduction_perm(axis, ndim):
    """(perm, inverse, kept): the kept axes first, then the reduced ones."""
    reduced = sorted(_axes_of(axis, ndim))
    kept = [i for i in range(ndim) if i not in reduced]
    perm = kept + reduced
    return tuple(perm), tuple(int(i) for i in np.argsort(perm)), len(kept)


nondifferentiable(_reduction_perm)


@source_of(rt.prod_adjoint_hvp)
def prod_adjoint_hvp(
    w: Any,
    g: Any,
    a: Any,
    axis: Any = None,
    keepdims: Any = False,
    where: Any = True,
) -> Any:
    if rt.is_zero(w) or rt.is_zero(g) or _is_number(a):
        return 0.0
    arr = _float_array(a)
    nd = np.ndim(arr)
    gw = _expand_to(g, nd, axis, keepdims) * rt.dense(w, arr)
    if where is not True:
        arr = np.where(where, arr, 1.0)
        gw = np.where(where, gw, 0.0)
    perm, inverse, nkept = _reduction_perm(axis, nd)
    moved = np.transpose(arr, perm)
    lead = np.shape(moved)[:nkept]
    flat = np.reshape(moved, lead + (-1,))
    gw = np.transpose(np.broadcast_to(gw, np.shape(arr)), perm)
    wflat = np.reshape(gw, lead + (-1,))
    n = np.shape(flat)[-1]
    eye = np.eye(n)
    # H[..., i, j]: the product of the entries other than i and j (0 for i = j),
    # as products of factors with entries i and j replaced by 1: no division.
    skip = (eye[:, None, :] + eye[None, :, :]) > 0.0
    H = np.prod(np.where(skip, 1.0, flat[..., None, None, :]), axis=-1)
    H = np.where(eye == 0.0, H, 0.0)
    out = np.reshape((H @ wflat[..., None])[..., 0], np.shape(moved))
    out = np.transpose(out, inverse)
    if where is True:
        return out
    return np.where(where, out, 0.0)
