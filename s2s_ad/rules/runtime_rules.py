"""Derivative rules for the run-time helpers that generated code calls.

Generated derivative code is ordinary Python calling :mod:`s2s_ad.runtime`
(imported there as ``rt``), ``copy.copy`` and the operators.  With a reverse
and a forward rule for every public helper, that code can be transformed
again: ``grad(grad(f))``, forward over reverse (``hessian``, ``hvp``),
reverse over forward.

Most helpers are *linear* in their adjoint argument ``g`` (the other
arguments only give shapes and structure).  The forward rule of a linear map
is the map applied to the tangent; the reverse rule is its transpose, the
``rt.<helper>_transpose`` functions, whose own rules lead back to the helper,
so the family is closed under differentiation (``transpose_pair`` registers
the four rules of such a pair from the helper's parameters).  Bilinear helpers (the
adjoints of ``*``, ``np.dot``, ``@``, ``np.outer``, ``np.var``) come with the
partner completing their trilinear form (``rt.mul_adjoint_g``,
``rt.dot_adjoint_g``...); operands read by such helpers are passed through
``rt.dense`` so a symbolic zero or a 0-d constant adjoint keeps its shape.

Helpers that are jointly linear in several arguments and return containers
(``acc``, ``add_at``, ``setitem_tangent``, ``append_tangent``, ``push_adj``)
use one forward term, ``rt.linear_apply(name, args, t[args])``, whose
transpose ``rt.linear_apply_transpose`` is their reverse rule.  (Several
terms would be fine too: the compiler adds the terms of a result that is not
proved a number with ``rt.acc``, which adds lists entry by entry.)

Piecewise-constant helpers (weights, signs, checks) are non-differentiable.
Where a second derivative is not closed under this scheme (products, norms,
standard deviations, einsum, solve, slogdet), it is computed by a
helper without a rule here; all are restated in
:mod:`s2s_ad.rules.runtime_sources` (third derivatives tested).  The
adjoints and tangents of matrix decompositions, cumprod, np.average,
np.polyval and np.trapezoid have no rules here either: they are nonlinear
in several arguments at once, and the compiler differentiates their plain-NumPy restatements in
:mod:`s2s_ad.rules.runtime_sources` instead (as deep as the functions
used there allow: third derivatives through all of them are tested).

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import copy

import numpy as np

from s2s_ad import runtime as rt

# Imported for what it registers: the factorization helpers and a few others
# are differentiated from plain-NumPy definitions there, not by rules here.
from s2s_ad.rules import runtime_sources  # noqa: F401
from s2s_ad.rules.registry import (
    d,
    elementwise,
    forward_rule,
    nondifferentiable,
    reverse_rule,
    t,
    transpose_pair,
)

# -- no gradient: checks, weights, signs -------------------------------------------

nondifferentiable(
    rt.is_zero,
    rt.zeros_like,
    rt.check_wrt_arg,
    rt.check_not_aliased,
    rt.check_not_view,
    rt.sign,
    rt.maximum_weight,
    rt.minimum_weight,
    rt.method_axes,
    # Generated code spells an index x[a:b] as slice(a, b); its bounds may
    # be computed from active values (len, shapes) but carry no derivative.
    slice,
)

# -- copies -----------------------------------------------------------------------


@reverse_rule(copy.copy, copy.deepcopy, rt.copy_arg)
def copy_(out, x, memo=None, _nil=None):
    d[x] += d[out]


@forward_rule(copy.copy, copy.deepcopy, rt.copy_arg)
def copy_tangent(out, x, memo=None, _nil=None):
    t[out] += t[x]


# -- elementwise helpers ------------------------------------------------------------

elementwise(rt.div, "a, b", "rt.div(1.0, b)", "rt.div(-ans, b)")
elementwise(rt.log_of_base, "base", "rt.div(1.0, base)")
# d/dx p x^(p-1) = p (p-1) x^(p-2), exactly 0 where p == 0 (the helper is 0
# there for every x); d/dp = x^(p-1) (1 + p log x).
elementwise(
    rt.pow_base_partial,
    "x, p",
    "rt.zero_where(p, p * rt.pow_base_partial(x, p - 1))",
    "rt.fpow(x, p - 1) * (1.0 + rt.xlogy_safe(p, x))",
)
# y log x with 0 where y == 0: d/dy = log x, d/dx = y / x (0 where y == 0).
elementwise(
    rt.xlogy_safe, "y, x", "rt.xlogy_safe(1.0, x)", "rt.zero_where(y, rt.div(y, x))"
)
elementwise(rt.fpow, "x, p", "rt.pow_base_partial(x, p)", "rt.xlogy_safe(ans, x)")
elementwise(rt.zero_where, "c, value", None, "rt.zero_where(c, 1.0)")


@reverse_rule(rt.dense)
def dense(out, w, like):
    d[w] += rt.unbroadcast(d[out], w)


@forward_rule(rt.dense)
def dense_forward(out, w, like):
    t[out] += rt.dense(t[w], like)


@reverse_rule(rt.broadcast_like)
def broadcast_like(out, t, ans):
    d[t] += rt.unbroadcast(d[out], t)


@forward_rule(rt.broadcast_like)
def broadcast_like_tangent(out, t, ans):
    t[out] += rt.broadcast_like(t[t], ans)


@reverse_rule(rt.hypot_adjoint)
def hypot_adjoint(out, g, ans, coordinates):
    # out = g * c / ans (0 where ans == 0); tuple adjoints and tangents are
    # handled as arrays, which + adds entry by entry.
    d[g] += rt.zero_where(
        ans,
        rt.div(np.sum(np.multiply(np.asarray(d[out]), np.asarray(coordinates))), ans),
    )
    d[ans] += rt.zero_where(
        ans, rt.div(-np.sum(np.multiply(np.asarray(d[out]), np.asarray(out))), ans)
    )
    d[coordinates] += np.multiply(rt.zero_where(ans, rt.div(g, ans)), d[out])


@forward_rule(rt.hypot_adjoint)
def hypot_adjoint_tangent(out, g, ans, coordinates):
    t[out] += np.multiply(rt.zero_where(ans, rt.div(t[g], ans)), coordinates)
    t[out] += np.multiply(rt.zero_where(ans, rt.div(g, ans)), t[coordinates])
    t[out] += np.multiply(rt.zero_where(ans, rt.div(-t[ans], ans)), out)


# -- broadcasting and reductions ----------------------------------------------------


transpose_pair(rt.unbroadcast, rt.unbroadcast_transpose, "g, x")
transpose_pair(rt.unbroadcast_to, rt.unbroadcast_to_transpose, "g, shape")
transpose_pair(
    rt.unreduce, rt.unreduce_transpose, "g, x, axis=None, keepdims=False, where=True"
)
transpose_pair(
    rt.unreduce_mean,
    rt.unreduce_mean_transpose,
    "g, x, axis=None, keepdims=False, where=True",
)
# The tie weights are piecewise constant in x and ans.
transpose_pair(
    rt.unreduce_max,
    rt.unreduce_max_transpose,
    "g, x, ans, axis=None, keepdims=False, where=True",
)


@reverse_rule(rt.prod_adjoint)
def prod_adjoint(out, g, a, axis=None, keepdims=False, where=True):
    d[g] += rt.prod_adjoint_transpose(d[out], g, a, axis, keepdims, where)
    d[a] += rt.prod_adjoint_hvp(rt.dense(d[out], a), g, a, axis, keepdims, where)


@forward_rule(rt.prod_adjoint)
def prod_adjoint_tangent(out, g, a, axis=None, keepdims=False, where=True):
    t[out] += rt.prod_adjoint(t[g], a, axis, keepdims, where)
    t[out] += rt.prod_adjoint_hvp(rt.dense(t[a], a), g, a, axis, keepdims, where)


@reverse_rule(rt.prod_adjoint_transpose)
def prod_adjoint_transpose(out, v, g, a, axis=None, keepdims=False, where=True):
    d[v] += rt.prod_adjoint(d[out], a, axis, keepdims, where)
    d[a] += rt.prod_adjoint_hvp(rt.dense(v, a), d[out], a, axis, keepdims, where)


@forward_rule(rt.prod_adjoint_transpose)
def prod_adjoint_transpose_tangent(out, v, g, a, axis=None, keepdims=False, where=True):
    t[out] += rt.prod_adjoint_transpose(t[v], g, a, axis, keepdims, where)
    t[out] += rt.unreduce_transpose(
        rt.dense(v, a)
        * rt.prod_adjoint_hvp(rt.dense(t[a], a), 1.0, a, axis, keepdims, where),
        g,
        a,
        axis,
        keepdims,
    )


# -- containers, seeds and gradients -------------------------------------------------


# acc_into is acc updating its first argument in place (only where the
# compiler proved nothing else holds it): the same derivative.
@reverse_rule(rt.acc_into)
@reverse_rule(rt.acc)
def acc(out, a, b):
    d[a] += rt.linear_apply_transpose("acc", d[out], (a, b), 0)
    d[b] += rt.linear_apply_transpose("acc", d[out], (a, b), 1)


@forward_rule(rt.acc_into)
@forward_rule(rt.acc)
def acc_tangent(out, *args):
    t[out] += rt.linear_apply("acc", args, t[args])


@reverse_rule(rt.add_at)
def add_at(out, x_bar, x, idx, g):
    d[x_bar] += rt.linear_apply_transpose("add_at", d[out], (x_bar, x, idx, g), 0)
    d[g] += rt.linear_apply_transpose("add_at", d[out], (x_bar, x, idx, g), 3)


@forward_rule(rt.add_at)
def add_at_tangent(out, *args):
    t[out] += rt.linear_apply("add_at", args, t[args])


@reverse_rule(rt.setitem_tangent)
def setitem_tangent(out, x_dot, x, idx, v_dot):
    args = (x_dot, x, idx, v_dot)
    d[x_dot] += rt.linear_apply_transpose("setitem_tangent", d[out], args, 0)
    d[v_dot] += rt.linear_apply_transpose("setitem_tangent", d[out], args, 3)


@forward_rule(rt.setitem_tangent)
def setitem_tangent_tangent(out, *args):
    t[out] += rt.linear_apply("setitem_tangent", args, t[args])


@reverse_rule(rt.append_tangent)
def append_tangent(out, lst_dot, lst, v_dot):
    args = (lst_dot, lst, v_dot)
    d[lst_dot] += rt.linear_apply_transpose("append_tangent", d[out], args, 0)
    d[v_dot] += rt.linear_apply_transpose("append_tangent", d[out], args, 2)


@forward_rule(rt.append_tangent)
def append_tangent_tangent(out, *args):
    t[out] += rt.linear_apply("append_tangent", args, t[args])


@reverse_rule(rt.push_adj)
def push_adj(out, lst_bar, lst, g):
    args = (lst_bar, lst, g)
    d[lst_bar] += rt.linear_apply_transpose("push_adj", d[out], args, 0)
    d[g] += rt.linear_apply_transpose("push_adj", d[out], args, 2)


@forward_rule(rt.push_adj)
def push_adj_tangent(out, *args):
    t[out] += rt.linear_apply("push_adj", args, t[args])


@reverse_rule(rt.linear_apply)
def linear_apply(out, name, args, dots, k=None):
    d[dots] += rt.linear_apply_transpose(name, d[out], args, k)


@forward_rule(rt.linear_apply)
def linear_apply_tangent(out, name, args, dots, k=None):
    t[out] += rt.linear_apply(name, args, t[dots], k)


@reverse_rule(rt.linear_apply_transpose)
def linear_apply_transpose(out, name, v, args, k=None):
    d[v] += rt.linear_apply(name, args, d[out], k)


@forward_rule(rt.linear_apply_transpose)
def linear_apply_transpose_tangent(out, name, v, args, k=None):
    t[out] += rt.linear_apply_transpose(name, t[v], args, k)


transpose_pair(rt.getitem_adj, rt.getitem_adj_transpose, "g, idx")


@reverse_rule(rt.zero_at)
def zero_at(out, x_bar, x, idx):
    d[x_bar] += rt.zeroed_at(d[out], x, idx)


@forward_rule(rt.zero_at)
def zero_at_tangent(out, x_bar, x, idx):
    t[out] += rt.zeroed_at(t[x_bar], x, idx)


@reverse_rule(rt.zeroed_at)
def zeroed_at(out, v, like, idx):
    d[v] += rt.zeroed_at(d[out], like, idx)


@forward_rule(rt.zeroed_at)
def zeroed_at_tangent(out, v, like, idx):
    t[out] += rt.zeroed_at(t[v], like, idx)


# finalize_owned is finalize without the copy (where the compiler proved
# nothing else holds the adjoint): the same derivative.
@reverse_rule(rt.finalize_owned)
@reverse_rule(rt.finalize)
def finalize(out, x, g):
    d[g] += rt.finalize_transpose(d[out], x, g)


@forward_rule(rt.finalize_owned)
@forward_rule(rt.finalize)
def finalize_tangent(out, x, g):
    t[out] += rt.finalize(x, t[g])


@reverse_rule(rt.finalize_transpose)
def finalize_transpose(out, v, x, g):
    d[v] += rt.finalize(x, d[out])


@forward_rule(rt.finalize_transpose)
def finalize_transpose_tangent(out, v, x, g):
    t[out] += rt.finalize_transpose(t[v], x, g)


@reverse_rule(rt.seed)
def seed(out, value, s=None):
    # The seed is linear in s; the result's value only picks its structure.
    d[s] += rt.seed_transpose(d[out], value, s)


@forward_rule(rt.seed)
def seed_tangent(out, value, s=None):
    t[out] += rt.seed(value, t[s])


@reverse_rule(rt.seed_transpose)
def seed_transpose(out, v, value, s):
    d[v] += rt.seed(value, d[out])


@forward_rule(rt.seed_transpose)
def seed_transpose_tangent(out, v, value, s):
    t[out] += rt.seed_transpose(t[v], value, s)


transpose_pair(rt.pop_adj, rt.pop_adj_transpose, "lst_bar")
transpose_pair(rt.pop_tangent, rt.pop_tangent_transpose, "lst_dot")
transpose_pair(rt.unstack, rt.unstack_transpose, "g, n, axis=0")
# -- adjoints of NumPy and builtin functions, linear in g ----------------------------


transpose_pair(rt.stack_adjoint, rt.stack_adjoint_transpose, "g, arrays, axis=0")
transpose_pair(
    rt.concatenate_adjoint, rt.concatenate_adjoint_transpose, "g, arrays, axis=0"
)
transpose_pair(rt.array_adjoint, rt.array_adjoint_transpose, "g, obj, ans=None")
transpose_pair(rt.full_adjoint, rt.full_adjoint_transpose, "g, fill_value, ans")
transpose_pair(
    rt.linspace_adjoint,
    rt.linspace_adjoint_transpose,
    "g, ans, start, stop, num=50, endpoint=True, retstep=False, axis=0, which=0",
)
transpose_pair(rt.arange_adjoint, rt.arange_adjoint_transpose, "g, ans, args")
transpose_pair(rt.sum_adjoint, rt.sum_adjoint_transpose, "g, iterable")
transpose_pair(
    rt.extreme_adjoint, rt.extreme_adjoint_transpose, "g, ans, args, key=None"
)


@reverse_rule(rt.default_adjoint)
def default_adjoint(out, g, args):
    d[g] += rt.default_adjoint(d[out], args)


@forward_rule(rt.default_adjoint)
def default_adjoint_tangent(out, g, args):
    t[out] += rt.default_adjoint(t[g], args)


transpose_pair(rt.where_adjoint, rt.where_adjoint_transpose, "g, condition, x, branch")
transpose_pair(rt.clip_adjoint, rt.clip_adjoint_transpose, "g, a, lo, hi, part")
transpose_pair(rt.add_adjoint, rt.add_adjoint_transpose, "g, x, other, left")
transpose_pair(rt.transpose_adjoint, rt.transpose_adjoint_transpose, "g, a, axes=None")
transpose_pair(rt.reshape_adjoint, rt.reshape_adjoint_transpose, "g, a, order='C'")
transpose_pair(rt.cumsum_adjoint, rt.cumsum_adjoint_transpose, "g, a, axis=None")


@reverse_rule(rt.cast_adjoint)
def cast_adjoint(out, g, ans):
    d[g] += rt.cast_adjoint(d[out], ans)


@forward_rule(rt.cast_adjoint)
def cast_adjoint_tangent(out, g, ans):
    t[out] += rt.cast_adjoint(t[g], ans)


@reverse_rule(rt.norm_adjoint)
def norm_adjoint(out, g, x, ans, ord=None, axis=None, keepdims=False):
    d[g] += rt.norm_adjoint_transpose(d[out], g, x, ans, ord, axis, keepdims)
    d[x] += rt.norm_adjoint_partial(d[out], g, x, ans, ord, axis, keepdims, 1)
    d[ans] += rt.norm_adjoint_partial(d[out], g, x, ans, ord, axis, keepdims, 2)


@forward_rule(rt.norm_adjoint)
def norm_adjoint_tangent(out, g, x, ans, ord=None, axis=None, keepdims=False):
    t[out] += rt.norm_adjoint(t[g], x, ans, ord, axis, keepdims)
    t[out] += rt.norm_adjoint_partial(t[x], g, x, ans, ord, axis, keepdims, 1)
    t[out] += rt.norm_adjoint_partial(t[ans], g, x, ans, ord, axis, keepdims, 3)


@reverse_rule(rt.norm_adjoint_transpose)
def norm_adjoint_transpose(out, v, g, x, ans, ord=None, axis=None, keepdims=False):
    d[v] += rt.norm_adjoint(d[out], x, ans, ord, axis, keepdims)
    d[x] += rt.norm_adjoint_partial(v, d[out], x, ans, ord, axis, keepdims, 1)
    d[ans] += rt.norm_adjoint_partial(v, d[out], x, ans, ord, axis, keepdims, 2)


@forward_rule(rt.norm_adjoint_transpose)
def norm_adjoint_transpose_tangent(
    out, v, g, x, ans, ord=None, axis=None, keepdims=False
):
    t[out] += rt.norm_adjoint_transpose(t[v], g, x, ans, ord, axis, keepdims)
    t[out] += rt.unreduce_transpose(
        rt.dense(v, x)
        * rt.norm_adjoint_partial(t[x], 1.0, x, ans, ord, axis, keepdims, 1),
        g,
        x,
        axis,
        keepdims,
    )
    t[out] += rt.unreduce_transpose(
        rt.dense(v, x)
        * rt.norm_adjoint_partial(t[ans], 1.0, x, ans, ord, axis, keepdims, 3),
        g,
        x,
        axis,
        keepdims,
    )


@reverse_rule(rt.std_adjoint)
def std_adjoint(out, g, a, ans, axis=None, ddof=0, keepdims=False):
    w = rt.dense(d[out], a)
    d[g] += rt.std_adjoint_partial(w, g, a, ans, axis, ddof, keepdims, 0)
    d[a] += rt.std_adjoint(g, w, ans, axis, ddof, keepdims)
    d[ans] += rt.std_adjoint_partial(w, g, a, ans, axis, ddof, keepdims, 2)


@forward_rule(rt.std_adjoint)
def std_adjoint_tangent(out, g, a, ans, axis=None, ddof=0, keepdims=False):
    t[out] += rt.std_adjoint(t[g], a, ans, axis, ddof, keepdims)
    t[out] += rt.std_adjoint(g, rt.dense(t[a], a), ans, axis, ddof, keepdims)
    t[out] += rt.std_adjoint_partial(t[ans], g, a, ans, axis, ddof, keepdims, 3)


# -- bilinear families ------------------------------------------------------------
#
# mul_adjoint(g, x, other) = unbroadcast(g * other, x) and its two partners
# are the partial derivatives of sum(g * other * v) (broadcast together).


@reverse_rule(rt.mul_adjoint)
def mul_adjoint(out, g, x, other):
    d[g] += rt.mul_adjoint_g(d[out], g, x, other)
    d[other] += rt.mul_adjoint_other(d[out], g, x, other)


@forward_rule(rt.mul_adjoint)
def mul_adjoint_tangent(out, g, x, other):
    t[out] += rt.mul_adjoint(t[g], x, other)
    t[out] += rt.mul_adjoint(g, x, t[other])


@reverse_rule(rt.mul_adjoint_g)
def mul_adjoint_g(out, v, g, x, other):
    d[v] += rt.mul_adjoint(d[out], x, other)
    d[other] += rt.mul_adjoint_other(v, d[out], x, other)


@forward_rule(rt.mul_adjoint_g)
def mul_adjoint_g_tangent(out, v, g, x, other):
    t[out] += rt.mul_adjoint_g(t[v], g, x, other)
    t[out] += rt.mul_adjoint_g(v, g, x, t[other])


@reverse_rule(rt.mul_adjoint_other)
def mul_adjoint_other(out, v, g, x, other):
    d[v] += rt.mul_adjoint(g, x, d[out])
    d[g] += rt.mul_adjoint_g(v, g, x, d[out])


@forward_rule(rt.mul_adjoint_other)
def mul_adjoint_other_tangent(out, v, g, x, other):
    t[out] += rt.mul_adjoint_other(t[v], g, x, other)
    t[out] += rt.mul_adjoint_other(v, t[g], x, other)


# dot_adjoint_a, dot_adjoint_b and dot_adjoint_g are the partial derivatives
# of <g, dot(a, b)>; each has the shape of one slot and reads the other two.


@reverse_rule(rt.dot_adjoint_a)
def dot_adjoint_a(out, g, a, b):
    d[g] += rt.dot_adjoint_g(g, rt.dense(d[out], a), b)
    d[b] += rt.dot_adjoint_b(g, rt.dense(d[out], a), b)


@forward_rule(rt.dot_adjoint_a)
def dot_adjoint_a_tangent(out, g, a, b):
    t[out] += rt.dot_adjoint_a(t[g], a, b)
    t[out] += rt.dot_adjoint_a(g, a, rt.dense(t[b], b))


@reverse_rule(rt.dot_adjoint_b)
def dot_adjoint_b(out, g, a, b):
    d[g] += rt.dot_adjoint_g(g, a, rt.dense(d[out], b))
    d[a] += rt.dot_adjoint_a(g, a, rt.dense(d[out], b))


@forward_rule(rt.dot_adjoint_b)
def dot_adjoint_b_tangent(out, g, a, b):
    t[out] += rt.dot_adjoint_b(t[g], a, b)
    t[out] += rt.dot_adjoint_b(g, rt.dense(t[a], a), b)


@reverse_rule(rt.dot_adjoint_g)
def dot_adjoint_g(out, g, a, b):
    d[a] += rt.dot_adjoint_a(d[out], a, b)
    d[b] += rt.dot_adjoint_b(d[out], a, b)


@forward_rule(rt.dot_adjoint_g)
def dot_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.dot_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.dot_adjoint_g(g, a, rt.dense(t[b], b))


@reverse_rule(rt.matmul_adjoint_a)
def matmul_adjoint_a(out, g, a, b):
    d[g] += rt.matmul_adjoint_g(g, rt.dense(d[out], a), b)
    d[b] += rt.matmul_adjoint_b(g, rt.dense(d[out], a), b)


@forward_rule(rt.matmul_adjoint_a)
def matmul_adjoint_a_tangent(out, g, a, b):
    t[out] += rt.matmul_adjoint_a(t[g], a, b)
    t[out] += rt.matmul_adjoint_a(g, a, rt.dense(t[b], b))


@reverse_rule(rt.matmul_adjoint_b)
def matmul_adjoint_b(out, g, a, b):
    d[g] += rt.matmul_adjoint_g(g, a, rt.dense(d[out], b))
    d[a] += rt.matmul_adjoint_a(g, a, rt.dense(d[out], b))


@forward_rule(rt.matmul_adjoint_b)
def matmul_adjoint_b_tangent(out, g, a, b):
    t[out] += rt.matmul_adjoint_b(t[g], a, b)
    t[out] += rt.matmul_adjoint_b(g, rt.dense(t[a], a), b)


@reverse_rule(rt.matmul_adjoint_g)
def matmul_adjoint_g(out, g, a, b):
    d[a] += rt.matmul_adjoint_a(d[out], a, b)
    d[b] += rt.matmul_adjoint_b(d[out], a, b)


@forward_rule(rt.matmul_adjoint_g)
def matmul_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.matmul_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.matmul_adjoint_g(g, a, rt.dense(t[b], b))


@reverse_rule(rt.outer_adjoint)
def outer_adjoint(out, g, a, b, which):
    # which=0: the adjoint of a (bilinear in g, b); which=1: of b (in g, a).
    d[g] += (
        rt.outer_adjoint_g(g, rt.dense(d[out], a), b)
        if which == 0
        else rt.outer_adjoint_g(g, a, rt.dense(d[out], b))
    )
    d[a] += 0.0 if which == 0 else rt.outer_adjoint(g, a, rt.dense(d[out], b), 0)
    d[b] += rt.outer_adjoint(g, rt.dense(d[out], a), b, 1) if which == 0 else 0.0


@forward_rule(rt.outer_adjoint)
def outer_adjoint_tangent(out, g, a, b, which):
    t[out] += rt.outer_adjoint(t[g], a, b, which)
    t[out] += 0.0 if which == 0 else rt.outer_adjoint(g, rt.dense(t[a], a), b, 1)
    t[out] += rt.outer_adjoint(g, a, rt.dense(t[b], b), 0) if which == 0 else 0.0


@reverse_rule(rt.outer_adjoint_g)
def outer_adjoint_g(out, g, a, b):
    d[a] += rt.outer_adjoint(d[out], a, b, 0)
    d[b] += rt.outer_adjoint(d[out], a, b, 1)


@forward_rule(rt.outer_adjoint_g)
def outer_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.outer_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.outer_adjoint_g(g, a, rt.dense(t[b], b))


# var_adjoint(g, a) = g * 2 (a - mean a) / (n - ddof) (g spread over the
# reductions) is bilinear; var_adjoint_g(g, a, b) is symmetric in a and b.


@reverse_rule(rt.var_adjoint)
def var_adjoint(out, g, a, axis=None, ddof=0, keepdims=False):
    d[g] += rt.var_adjoint_g(g, a, rt.dense(d[out], a), axis, ddof, keepdims)
    d[a] += rt.var_adjoint(g, rt.dense(d[out], a), axis, ddof, keepdims)


@forward_rule(rt.var_adjoint)
def var_adjoint_tangent(out, g, a, axis=None, ddof=0, keepdims=False):
    t[out] += rt.var_adjoint(t[g], a, axis, ddof, keepdims)
    t[out] += rt.var_adjoint(g, rt.dense(t[a], a), axis, ddof, keepdims)


@reverse_rule(rt.var_adjoint_g)
def var_adjoint_g(out, g, a, b, axis=None, ddof=0, keepdims=False):
    d[a] += rt.var_adjoint(d[out], rt.dense(b, a), axis, ddof, keepdims)
    d[b] += rt.var_adjoint(d[out], rt.dense(a, b), axis, ddof, keepdims)


@forward_rule(rt.var_adjoint_g)
def var_adjoint_g_tangent(out, g, a, b, axis=None, ddof=0, keepdims=False):
    t[out] += rt.var_adjoint_g(g, rt.dense(t[a], a), b, axis, ddof, keepdims)
    t[out] += rt.var_adjoint_g(g, a, rt.dense(t[b], b), axis, ddof, keepdims)


# -- no gradient: masks and weights of the forward rules --------------------------

nondifferentiable(rt.clip_mask, rt.fmax_weight, rt.fmin_weight)

# xlogy_dy(x, y) = x / y with 0 where x == 0.
elementwise(rt.xlogy_dy, "x, y", "rt.div(1.0, y)", "rt.zero_where(x, rt.div(-ans, y))")


# Each derivative of sinc is the next one: exact at 0 to every order.
@reverse_rule(rt.sinc_derivative)
def sinc_derivative(out, x, n=1):
    d[x] += d[out] * rt.sinc_derivative(x, n + 1)


@forward_rule(rt.sinc_derivative)
def sinc_derivative_tangent(out, x, n=1):
    t[out] += t[x] * rt.sinc_derivative(x, n + 1)


@reverse_rule(rt.parts)
def parts(out, w, n):
    d[w] += d[out]


@forward_rule(rt.parts)
def parts_tangent(out, w, n):
    t[out] += rt.parts(t[w], n)


# -- tangent helpers (forward-mode code): linear in their tangents -----------------


transpose_pair(rt.dense_tangent, rt.dense_tangent_transpose, "t, x")


@reverse_rule(rt.add_tangent)
def add_tangent(out, ts, xs, ans):
    d[ts] += rt.add_tangent_transpose(d[out], xs, ans)


@forward_rule(rt.add_tangent)
def add_tangent_tangent(out, ts, xs, ans):
    t[out] += rt.add_tangent(t[ts], xs, ans)


@reverse_rule(rt.add_tangent_transpose)
def add_tangent_transpose(out, v, xs, ans):
    d[v] += rt.add_tangent(rt.parts(d[out], 2), xs, ans)


@forward_rule(rt.add_tangent_transpose)
def add_tangent_transpose_tangent(out, v, xs, ans):
    t[out] += rt.add_tangent_transpose(t[v], xs, ans)


@reverse_rule(rt.mul_tangent)
def mul_tangent(out, t, other, ans):
    # broadcast(t * other): the mul_adjoint family transposes it.
    d[t] += rt.mul_adjoint(d[out], t, other)
    d[other] += rt.mul_adjoint(d[out], other, t)


@forward_rule(rt.mul_tangent)
def mul_tangent_tangent(out, t, other, ans):
    t[out] += rt.mul_tangent(t[t], other, ans)
    t[out] += rt.mul_tangent(t, t[other], ans)


@reverse_rule(rt.select_tangent)
def select_tangent(out, t, mask, ans):
    d[t] += rt.unbroadcast(rt.select_tangent(d[out], mask, out), t)


@forward_rule(rt.select_tangent)
def select_tangent_tangent(out, t, mask, ans):
    t[out] += rt.select_tangent(t[t], mask, ans)


@reverse_rule(rt.max_tangent)
def max_tangent(out, t, a, ans, axis=None, keepdims=False, where=True):
    d[t] += rt.unbroadcast(rt.unreduce_max(d[out], a, ans, axis, keepdims, where), t)


@forward_rule(rt.max_tangent)
def max_tangent_tangent(out, t, a, ans, axis=None, keepdims=False, where=True):
    t[out] += rt.max_tangent(t[t], a, ans, axis, keepdims, where)


@reverse_rule(rt.prod_tangent)
def prod_tangent(out, t, a, axis=None, keepdims=False, where=True):
    d[t] += rt.unbroadcast(rt.prod_adjoint(d[out], a, axis, keepdims, where), t)
    d[a] += rt.prod_adjoint_hvp(rt.dense(t, a), d[out], a, axis, keepdims, where)


@forward_rule(rt.prod_tangent)
def prod_tangent_tangent(out, t, a, axis=None, keepdims=False, where=True):
    t[out] += rt.prod_tangent(t[t], a, axis, keepdims, where)
    t[out] += rt.unreduce_transpose(
        rt.dense(t, a)
        * rt.prod_adjoint_hvp(rt.dense(t[a], a), 1.0, a, axis, keepdims, where),
        out,
        a,
        axis,
        keepdims,
    )


@reverse_rule(rt.var_tangent)
def var_tangent(out, t, a, axis=None, ddof=0, keepdims=False, correction=None):
    dof = ddof if correction is None else correction
    d[t] += rt.unbroadcast(rt.var_adjoint(d[out], a, axis, dof, keepdims), t)
    d[a] += rt.var_adjoint(d[out], rt.dense(t, a), axis, dof, keepdims)


@forward_rule(rt.var_tangent)
def var_tangent_tangent(out, t, a, axis=None, ddof=0, keepdims=False, correction=None):
    t[out] += rt.var_tangent(t[t], a, axis, ddof, keepdims, correction)
    t[out] += rt.var_tangent(t, rt.dense(t[a], a), axis, ddof, keepdims, correction)


@reverse_rule(rt.std_tangent)
def std_tangent(out, t, a, ans, axis=None, ddof=0, keepdims=False, correction=None):
    dof = ddof if correction is None else correction
    w = rt.dense(t, a)
    d[t] += rt.unbroadcast(rt.std_adjoint(d[out], a, ans, axis, dof, keepdims), t)
    d[a] += rt.std_adjoint(d[out], w, ans, axis, dof, keepdims)
    d[ans] += rt.std_adjoint_partial(w, d[out], a, ans, axis, dof, keepdims, 2)


@forward_rule(rt.std_tangent)
def std_tangent_tangent(
    out, t, a, ans, axis=None, ddof=0, keepdims=False, correction=None
):
    t[out] += rt.std_tangent(t[t], a, ans, axis, ddof, keepdims, correction)
    t[out] += rt.std_tangent(
        t, rt.dense(t[a], a), ans, axis, ddof, keepdims, correction
    )
    t[out] += rt.zero_where(ans, rt.div(-t[ans], ans)) * out


@reverse_rule(rt.norm_tangent)
def norm_tangent(out, t, x, ans, ord=None, axis=None, keepdims=False):
    w = rt.dense(t, x)
    d[t] += rt.unbroadcast(rt.norm_adjoint(d[out], x, ans, ord, axis, keepdims), t)
    d[x] += rt.norm_adjoint_partial(w, d[out], x, ans, ord, axis, keepdims, 1)
    d[ans] += rt.norm_adjoint_partial(w, d[out], x, ans, ord, axis, keepdims, 2)


@forward_rule(rt.norm_tangent)
def norm_tangent_tangent(out, t, x, ans, ord=None, axis=None, keepdims=False):
    t[out] += rt.norm_tangent(t[t], x, ans, ord, axis, keepdims)
    t[out] += rt.unreduce_transpose(
        rt.dense(t, x)
        * rt.norm_adjoint_partial(t[x], 1.0, x, ans, ord, axis, keepdims, 1),
        out,
        x,
        axis,
        keepdims,
    )
    t[out] += rt.unreduce_transpose(
        rt.dense(t, x)
        * rt.norm_adjoint_partial(t[ans], 1.0, x, ans, ord, axis, keepdims, 3),
        out,
        x,
        axis,
        keepdims,
    )


@reverse_rule(rt.sum_tangent)
def sum_tangent(out, t, iterable, ans):
    d[t] += rt.sum_adjoint(d[out], iterable)


@forward_rule(rt.sum_tangent)
def sum_tangent_tangent(out, t, iterable, ans):
    t[out] += rt.sum_tangent(t[t], iterable, ans)


@reverse_rule(rt.extreme_tangent)
def extreme_tangent(out, ts, ans, args, key=None):
    d[ts] += rt.extreme_adjoint(d[out], ans, args, key)


@forward_rule(rt.extreme_tangent)
def extreme_tangent_tangent(out, ts, ans, args, key=None):
    t[out] += rt.extreme_tangent(t[ts], ans, args, key)


@reverse_rule(rt.default_tangent)
def default_tangent(out, t, args):
    d[t] += rt.default_tangent(d[out], args)


@forward_rule(rt.default_tangent)
def default_tangent_tangent(out, t, args):
    t[out] += rt.default_tangent(t[t], args)


@reverse_rule(rt.hypot_tangent)
def hypot_tangent(out, ts, coordinates, ans):
    # out = sum(t * c) / ans (0 where ans == 0).
    scale = rt.zero_where(ans, rt.div(d[out], ans))
    d[ts] += np.multiply(scale, coordinates)
    d[coordinates] += np.multiply(scale, rt.dense_tangent(ts, coordinates))
    d[ans] += rt.zero_where(ans, rt.div(-d[out] * out, ans))


@forward_rule(rt.hypot_tangent)
def hypot_tangent_tangent(out, ts, coordinates, ans):
    t[out] += rt.zero_where(
        ans,
        rt.div(
            np.sum(np.multiply(rt.dense_tangent(t[ts], coordinates), coordinates)), ans
        ),
    )
    t[out] += rt.zero_where(
        ans,
        rt.div(
            np.sum(
                np.multiply(
                    rt.dense_tangent(ts, coordinates),
                    rt.dense_tangent(t[coordinates], coordinates),
                )
            ),
            ans,
        ),
    )
    t[out] += rt.zero_where(ans, rt.div(-out * t[ans], ans))


@reverse_rule(rt.full_tangent)
def full_tangent(out, t, ans):
    d[t] += rt.full_adjoint(d[out], t, ans)


@forward_rule(rt.full_tangent)
def full_tangent_tangent(out, t, ans):
    t[out] += rt.full_tangent(t[t], ans)


@reverse_rule(rt.linspace_tangent)
def linspace_tangent(
    out, ts, ans, endpoints, num=50, endpoint=True, retstep=False, axis=0
):
    d[ts] += rt.linspace_tangent_transpose(
        d[out], ts, ans, endpoints, num, endpoint, retstep, axis
    )


@forward_rule(rt.linspace_tangent)
def linspace_tangent_tangent(
    out, ts, ans, endpoints, num=50, endpoint=True, retstep=False, axis=0
):
    t[out] += rt.linspace_tangent(t[ts], ans, endpoints, num, endpoint, retstep, axis)


@reverse_rule(rt.linspace_tangent_transpose)
def linspace_tangent_transpose(
    out, v, ts, ans, endpoints, num=50, endpoint=True, retstep=False, axis=0
):
    d[v] += rt.linspace_tangent(
        rt.parts(d[out], 2), ans, endpoints, num, endpoint, retstep, axis
    )


@forward_rule(rt.linspace_tangent_transpose)
def linspace_tangent_transpose_tangent(
    out, v, ts, ans, endpoints, num=50, endpoint=True, retstep=False, axis=0
):
    t[out] += rt.linspace_tangent_transpose(
        t[v], ts, ans, endpoints, num, endpoint, retstep, axis
    )


@reverse_rule(rt.arange_tangent)
def arange_tangent(out, ts, args, ans):
    d[ts] += rt.arange_adjoint(d[out], ans, args)


@forward_rule(rt.arange_tangent)
def arange_tangent_tangent(out, ts, args, ans):
    t[out] += rt.arange_tangent(t[ts], args, ans)


@reverse_rule(rt.array_tangent)
def array_tangent(out, t, obj, ans):
    d[t] += rt.array_adjoint(d[out], obj, ans)


@forward_rule(rt.array_tangent)
def array_tangent_tangent(out, t, obj, ans):
    t[out] += rt.array_tangent(t[t], obj, ans)


@reverse_rule(rt.cast_tangent)
def cast_tangent(out, t, ans):
    d[t] += rt.unbroadcast(rt.cast_adjoint(d[out], ans), t)


@forward_rule(rt.cast_tangent)
def cast_tangent_tangent(out, t, ans):
    t[out] += rt.cast_tangent(t[t], ans)


@reverse_rule(rt.linear_map)
def linear_map(out, fn, t, x, *args, axis=None, dtype=None, keepdims=None, where=None):
    d[t] += rt.linear_map_transpose(
        fn, d[out], t, x, args, (axis, dtype, keepdims, where)
    )


@forward_rule(rt.linear_map)
def linear_map_tangent(
    out, fn, t, x, *args, axis=None, dtype=None, keepdims=None, where=None
):
    t[out] += rt.linear_map_apply(fn, t[t], x, args, (axis, dtype, keepdims, where))


@reverse_rule(rt.linear_map_apply)
def linear_map_apply(out, fn, t, x, args=(), options=None):
    d[t] += rt.linear_map_transpose(fn, d[out], t, x, args, options)


@forward_rule(rt.linear_map_apply)
def linear_map_apply_tangent(out, fn, t, x, args=(), options=None):
    t[out] += rt.linear_map_apply(fn, t[t], x, args, options)


@reverse_rule(rt.linear_map_transpose)
def linear_map_transpose(out, fn, v, t, x, args=(), options=None):
    d[v] += rt.linear_map_apply(fn, d[out], x, args, options)


@forward_rule(rt.linear_map_transpose)
def linear_map_transpose_tangent(out, fn, v, t, x, args=(), options=None):
    t[out] += rt.linear_map_transpose(fn, t[v], t, x, args, options)


# -- structural adjoints of NumPy functions: linear in g ---------------------------


@reverse_rule(rt.apply_adjoint)
def apply_adjoint(out, fn, g, ans, *args):
    d[g] += rt.apply_adjoint_transpose(fn, d[out], g, ans, args)


@forward_rule(rt.apply_adjoint)
def apply_adjoint_tangent(out, fn, g, ans, *args):
    t[out] += rt.apply_adjoint_call(fn, t[g], ans, args)


@reverse_rule(rt.apply_adjoint_call)
def apply_adjoint_call(out, fn, g, ans, args=()):
    d[g] += rt.apply_adjoint_transpose(fn, d[out], g, ans, args)


@forward_rule(rt.apply_adjoint_call)
def apply_adjoint_call_tangent(out, fn, g, ans, args=()):
    t[out] += rt.apply_adjoint_call(fn, t[g], ans, args)


@reverse_rule(rt.apply_adjoint_transpose)
def apply_adjoint_transpose(out, fn, v, g, ans, args=()):
    d[v] += rt.apply_adjoint_call(fn, d[out], ans, args)


@forward_rule(rt.apply_adjoint_transpose)
def apply_adjoint_transpose_tangent(out, fn, v, g, ans, args=()):
    t[out] += rt.apply_adjoint_transpose(fn, t[v], g, ans, args)


@reverse_rule(rt.broadcast_to_adjoint)
def broadcast_to_adjoint(out, g, array, ans):
    d[g] += rt.unbroadcast(rt.broadcast_like(d[out], ans), g)


@forward_rule(rt.broadcast_to_adjoint)
def broadcast_to_adjoint_tangent(out, g, array, ans):
    t[out] += rt.broadcast_to_adjoint(t[g], array, ans)


@reverse_rule(rt.tri_adjoint)
def tri_adjoint(out, g, m, ans, k=0, lower=False):
    d[g] += rt.unbroadcast(
        rt.tri_adjoint(rt.broadcast_like(d[out], ans), ans, ans, k, lower), g
    )


@forward_rule(rt.tri_adjoint)
def tri_adjoint_tangent(out, g, m, ans, k=0, lower=False):
    t[out] += rt.tri_adjoint(t[g], m, ans, k, lower)


@reverse_rule(rt.tile_adjoint)
def tile_adjoint(out, g, A, reps, ans):
    d[g] += rt.unbroadcast(np.tile(rt.dense(d[out], A), reps), g)


@forward_rule(rt.tile_adjoint)
def tile_adjoint_tangent(out, g, A, reps, ans):
    t[out] += rt.tile_adjoint(t[g], A, reps, ans)


@reverse_rule(rt.repeat_adjoint)
def repeat_adjoint(out, g, a, repeats, ans, axis=None):
    d[g] += rt.unbroadcast(np.repeat(rt.dense(d[out], a), repeats, axis), g)


@forward_rule(rt.repeat_adjoint)
def repeat_adjoint_tangent(out, g, a, repeats, ans, axis=None):
    t[out] += rt.repeat_adjoint(t[g], a, repeats, ans, axis)


@reverse_rule(rt.take_adjoint)
def take_adjoint(out, g, a, indices, ans, axis=None, mode="raise"):
    d[g] += rt.unbroadcast(np.take(rt.dense(d[out], a), indices, axis, mode=mode), g)


@forward_rule(rt.take_adjoint)
def take_adjoint_tangent(out, g, a, indices, ans, axis=None, mode="raise"):
    t[out] += rt.take_adjoint(t[g], a, indices, ans, axis, mode)


@reverse_rule(rt.sort_adjoint)
def sort_adjoint(out, g, a, ans, axis=-1):
    d[g] += rt.unbroadcast(rt.sort_tangent(d[out], a, axis), g)


@forward_rule(rt.sort_adjoint)
def sort_adjoint_tangent(out, g, a, ans, axis=-1):
    t[out] += rt.sort_adjoint(t[g], a, ans, axis)


@reverse_rule(rt.sort_tangent)
def sort_tangent(out, t, a, axis=-1):
    d[t] += rt.unbroadcast(rt.sort_adjoint(d[out], a, out, axis), t)


@forward_rule(rt.sort_tangent)
def sort_tangent_tangent(out, t, a, axis=-1):
    t[out] += rt.sort_tangent(t[t], a, axis)


@reverse_rule(rt.pad_adjoint)
def pad_adjoint(out, g, array, pad_width, mode="constant", reflect_type="even"):
    d[g] += rt.unbroadcast(
        rt.pad_tangent(d[out], array, pad_width, mode, reflect_type), g
    )


@forward_rule(rt.pad_adjoint)
def pad_adjoint_tangent(out, g, array, pad_width, mode="constant", reflect_type="even"):
    t[out] += rt.pad_adjoint(t[g], array, pad_width, mode, reflect_type)


@reverse_rule(rt.pad_tangent)
def pad_tangent(out, t, array, pad_width, mode="constant", reflect_type="even"):
    d[t] += rt.unbroadcast(
        rt.pad_adjoint(d[out], array, pad_width, mode, reflect_type), t
    )


@forward_rule(rt.pad_tangent)
def pad_tangent_tangent(out, t, array, pad_width, mode="constant", reflect_type="even"):
    t[out] += rt.pad_tangent(t[t], array, pad_width, mode, reflect_type)


@reverse_rule(rt.pad_constant_adjoint)
def pad_constant_adjoint(out, g, array, pad_width, constant):
    d[g] += rt.unbroadcast(rt.pad_constant_tangent(d[out], array, pad_width, g), g)


@forward_rule(rt.pad_constant_adjoint)
def pad_constant_adjoint_tangent(out, g, array, pad_width, constant):
    t[out] += rt.pad_constant_adjoint(t[g], array, pad_width, constant)


@reverse_rule(rt.pad_constant_tangent)
def pad_constant_tangent(out, t, array, pad_width, ans):
    d[t] += rt.pad_constant_adjoint(d[out], array, pad_width, t)


@forward_rule(rt.pad_constant_tangent)
def pad_constant_tangent_tangent(out, t, array, pad_width, ans):
    t[out] += rt.pad_constant_tangent(t[t], array, pad_width, ans)


@reverse_rule(rt.split_adjoint)
def split_adjoint(out, g, ans, axis=0):
    d[g] += rt.concatenate_adjoint(d[out], ans, axis)


@forward_rule(rt.split_adjoint)
def split_adjoint_tangent(out, g, ans, axis=0):
    t[out] += rt.split_adjoint(t[g], ans, axis)


transpose_pair(rt.stacked_adjoint, rt.stacked_adjoint_transpose, "g, tup, ans, kind")
transpose_pair(rt.atleast_adjoint, rt.atleast_adjoint_transpose, "g, arys")


@reverse_rule(rt.atleast_tangent)
def atleast_tangent(out, fn, ts, arys, ans):
    d[ts] += rt.atleast_adjoint(d[out], arys)


@forward_rule(rt.atleast_tangent)
def atleast_tangent_tangent(out, fn, ts, arys, ans):
    t[out] += rt.atleast_tangent(fn, t[ts], arys, ans)


@reverse_rule(rt.broadcast_arrays_adjoint)
def broadcast_arrays_adjoint(out, g, args, ans):
    d[g] += rt.broadcast_arrays_tangent(rt.dense_tangent(d[out], args), args, ans)


@forward_rule(rt.broadcast_arrays_adjoint)
def broadcast_arrays_adjoint_tangent(out, g, args, ans):
    t[out] += rt.broadcast_arrays_adjoint(t[g], args, ans)


@reverse_rule(rt.broadcast_arrays_tangent)
def broadcast_arrays_tangent(out, ts, args, ans):
    d[ts] += rt.broadcast_arrays_adjoint(d[out], args, ans)


@forward_rule(rt.broadcast_arrays_tangent)
def broadcast_arrays_tangent_tangent(out, ts, args, ans):
    t[out] += rt.broadcast_arrays_tangent(t[ts], args, ans)


@reverse_rule(rt.meshgrid_adjoint)
def meshgrid_adjoint(out, g, xi, ans, indexing="xy"):
    d[g] += rt.meshgrid_tangent(rt.dense_tangent(d[out], xi), xi, ans, indexing)


@forward_rule(rt.meshgrid_adjoint)
def meshgrid_adjoint_tangent(out, g, xi, ans, indexing="xy"):
    t[out] += rt.meshgrid_adjoint(t[g], xi, ans, indexing)


@reverse_rule(rt.meshgrid_tangent)
def meshgrid_tangent(out, ts, xi, ans, indexing="xy"):
    d[ts] += rt.meshgrid_adjoint(d[out], xi, ans, indexing)


@forward_rule(rt.meshgrid_tangent)
def meshgrid_tangent_tangent(out, ts, xi, ans, indexing="xy"):
    t[out] += rt.meshgrid_tangent(t[ts], xi, ans, indexing)


transpose_pair(rt.item_adjoint, rt.item_adjoint_transpose, "g, x, args")


@reverse_rule(rt.diagonal_adjoint)
def diagonal_adjoint(out, g, a, offset=0, axis1=0, axis2=1, trace=False):
    d[g] += rt.unbroadcast(
        np.trace(rt.dense(d[out], a), offset, axis1, axis2)
        if trace
        else np.diagonal(rt.dense(d[out], a), offset, axis1, axis2),
        g,
    )


@forward_rule(rt.diagonal_adjoint)
def diagonal_adjoint_tangent(out, g, a, offset=0, axis1=0, axis2=1, trace=False):
    t[out] += rt.diagonal_adjoint(t[g], a, offset, axis1, axis2, trace)


@reverse_rule(rt.diag_adjoint)
def diag_adjoint(out, g, v, k=0):
    d[g] += rt.unbroadcast(np.diag(rt.dense(d[out], v), k), g)


@forward_rule(rt.diag_adjoint)
def diag_adjoint_tangent(out, g, v, k=0):
    t[out] += rt.diag_adjoint(t[g], v, k)


# -- more bilinear families: inner, vdot, tensordot, kron -------------------------


@reverse_rule(rt.inner_adjoint)
def inner_adjoint(out, g, a, b, which):
    d[g] += (
        rt.inner_adjoint_g(g, rt.dense(d[out], a), b)
        if which == 0
        else rt.inner_adjoint_g(g, a, rt.dense(d[out], b))
    )
    d[a] += 0.0 if which == 0 else rt.inner_adjoint(g, a, rt.dense(d[out], b), 0)
    d[b] += rt.inner_adjoint(g, rt.dense(d[out], a), b, 1) if which == 0 else 0.0


@forward_rule(rt.inner_adjoint)
def inner_adjoint_tangent(out, g, a, b, which):
    t[out] += rt.inner_adjoint(t[g], a, b, which)
    t[out] += 0.0 if which == 0 else rt.inner_adjoint(g, rt.dense(t[a], a), b, 1)
    t[out] += rt.inner_adjoint(g, a, rt.dense(t[b], b), 0) if which == 0 else 0.0


@reverse_rule(rt.inner_adjoint_g)
def inner_adjoint_g(out, g, a, b):
    d[a] += rt.inner_adjoint(d[out], a, b, 0)
    d[b] += rt.inner_adjoint(d[out], a, b, 1)


@forward_rule(rt.inner_adjoint_g)
def inner_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.inner_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.inner_adjoint_g(g, a, rt.dense(t[b], b))


@reverse_rule(rt.vdot_adjoint)
def vdot_adjoint(out, g, a, b, which):
    d[g] += (
        rt.vdot_adjoint_g(g, rt.dense(d[out], a), b)
        if which == 0
        else rt.vdot_adjoint_g(g, a, rt.dense(d[out], b))
    )
    d[a] += 0.0 if which == 0 else rt.vdot_adjoint(g, a, rt.dense(d[out], b), 0)
    d[b] += rt.vdot_adjoint(g, rt.dense(d[out], a), b, 1) if which == 0 else 0.0


@forward_rule(rt.vdot_adjoint)
def vdot_adjoint_tangent(out, g, a, b, which):
    t[out] += rt.vdot_adjoint(t[g], a, b, which)
    t[out] += 0.0 if which == 0 else rt.vdot_adjoint(g, rt.dense(t[a], a), b, 1)
    t[out] += rt.vdot_adjoint(g, a, rt.dense(t[b], b), 0) if which == 0 else 0.0


@reverse_rule(rt.vdot_adjoint_g)
def vdot_adjoint_g(out, g, a, b):
    d[a] += rt.vdot_adjoint(d[out], a, b, 0)
    d[b] += rt.vdot_adjoint(d[out], a, b, 1)


@forward_rule(rt.vdot_adjoint_g)
def vdot_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.vdot_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.vdot_adjoint_g(g, a, rt.dense(t[b], b))


@reverse_rule(rt.tensordot_adjoint)
def tensordot_adjoint(out, g, a, b, axes, which):
    d[g] += (
        rt.tensordot_adjoint_g(g, rt.dense(d[out], a), b, axes)
        if which == 0
        else rt.tensordot_adjoint_g(g, a, rt.dense(d[out], b), axes)
    )
    d[a] += (
        0.0 if which == 0 else rt.tensordot_adjoint(g, a, rt.dense(d[out], b), axes, 0)
    )
    d[b] += (
        rt.tensordot_adjoint(g, rt.dense(d[out], a), b, axes, 1) if which == 0 else 0.0
    )


@forward_rule(rt.tensordot_adjoint)
def tensordot_adjoint_tangent(out, g, a, b, axes, which):
    t[out] += rt.tensordot_adjoint(t[g], a, b, axes, which)
    t[out] += (
        0.0 if which == 0 else rt.tensordot_adjoint(g, rt.dense(t[a], a), b, axes, 1)
    )
    t[out] += (
        rt.tensordot_adjoint(g, a, rt.dense(t[b], b), axes, 0) if which == 0 else 0.0
    )


@reverse_rule(rt.tensordot_adjoint_g)
def tensordot_adjoint_g(out, g, a, b, axes=2):
    d[a] += rt.tensordot_adjoint(d[out], a, b, axes, 0)
    d[b] += rt.tensordot_adjoint(d[out], a, b, axes, 1)


@forward_rule(rt.tensordot_adjoint_g)
def tensordot_adjoint_g_tangent(out, g, a, b, axes=2):
    t[out] += rt.tensordot_adjoint_g(g, rt.dense(t[a], a), b, axes)
    t[out] += rt.tensordot_adjoint_g(g, a, rt.dense(t[b], b), axes)


@reverse_rule(rt.kron_adjoint)
def kron_adjoint(out, g, a, b, which):
    d[g] += (
        rt.kron_adjoint_g(g, rt.dense(d[out], a), b)
        if which == 0
        else rt.kron_adjoint_g(g, a, rt.dense(d[out], b))
    )
    d[a] += 0.0 if which == 0 else rt.kron_adjoint(g, a, rt.dense(d[out], b), 0)
    d[b] += rt.kron_adjoint(g, rt.dense(d[out], a), b, 1) if which == 0 else 0.0


@forward_rule(rt.kron_adjoint)
def kron_adjoint_tangent(out, g, a, b, which):
    t[out] += rt.kron_adjoint(t[g], a, b, which)
    t[out] += 0.0 if which == 0 else rt.kron_adjoint(g, rt.dense(t[a], a), b, 1)
    t[out] += rt.kron_adjoint(g, a, rt.dense(t[b], b), 0) if which == 0 else 0.0


@reverse_rule(rt.kron_adjoint_g)
def kron_adjoint_g(out, g, a, b):
    d[a] += rt.kron_adjoint(d[out], a, b, 0)
    d[b] += rt.kron_adjoint(d[out], a, b, 1)


@forward_rule(rt.kron_adjoint_g)
def kron_adjoint_g_tangent(out, g, a, b):
    t[out] += rt.kron_adjoint_g(g, rt.dense(t[a], a), b)
    t[out] += rt.kron_adjoint_g(g, a, rt.dense(t[b], b))


# -- softmax and logsumexp -----------------------------------------------------
#
# With s the softmax (exp(ans) for log_softmax): softmax_tangent(t) =
# s (t - sum s t) and softmax_adjoint(g) = s (g - sum g s) are the same
# symmetric map (log: t - sum s t and its transpose g - s sum g); their
# derivatives in ans are written with NumPy, so they differentiate again.


@reverse_rule(rt.softmax_tangent)
def softmax_tangent(out, t, ans, axis=None, log=False):
    w = rt.dense(d[out], ans)
    d[t] += rt.softmax_adjoint(d[out], ans, axis, log)
    d[ans] += (
        -np.exp(ans) * t * np.sum(w, axis=axis, keepdims=True)
        if log
        else w * (t - np.sum(ans * t, axis=axis, keepdims=True))
        - t * np.sum(w * ans, axis=axis, keepdims=True)
    )


@forward_rule(rt.softmax_tangent)
def softmax_tangent_tangent(out, t, ans, axis=None, log=False):
    t[out] += rt.softmax_tangent(t[t], ans, axis, log)
    t[out] += rt.broadcast_like(
        -np.sum(np.exp(ans) * t[ans] * t, axis=axis, keepdims=True)
        if log
        else t[ans] * (t - np.sum(ans * t, axis=axis, keepdims=True))
        - ans * np.sum(t * t[ans], axis=axis, keepdims=True),
        ans,
    )


@reverse_rule(rt.softmax_adjoint)
def softmax_adjoint(out, g, ans, axis=None, log=False):
    w = rt.dense(d[out], ans)
    gd = rt.dense(g, ans)
    d[g] += rt.softmax_tangent(d[out], ans, axis, log)
    d[ans] += (
        -w * np.exp(ans) * np.sum(gd, axis=axis, keepdims=True)
        if log
        else w * (gd - np.sum(ans * gd, axis=axis, keepdims=True))
        - gd * np.sum(w * ans, axis=axis, keepdims=True)
    )


@forward_rule(rt.softmax_adjoint)
def softmax_adjoint_tangent(out, g, ans, axis=None, log=False):
    t[out] += rt.softmax_adjoint(t[g], ans, axis, log)
    t[out] += (
        -np.exp(ans) * t[ans] * np.sum(rt.dense(g, ans), axis=axis, keepdims=True)
        if log
        else t[ans] * (g - np.sum(g * ans, axis=axis, keepdims=True))
        - ans * np.sum(rt.dense(g, ans) * t[ans], axis=axis, keepdims=True)
    )


# logsumexp: with w = exp(a - ans) (times b for a's part), the adjoint is
# g * w and the tangent sum(w * t); w moves with a (as w) and ans (as -w).


@reverse_rule(rt.logsumexp_adjoint)
def logsumexp_adjoint(out, g, a, ans, axis=None, b=None, keepdims=False, which=0):
    wa = rt.broadcast_like(rt.dense(d[out], out), a)
    gw = rt.logsumexp_adjoint(g, a, ans, axis, b if which == 0 else None, keepdims, 0)
    d[g] += rt.logsumexp_tangent(d[out], a, ans, axis, b, keepdims, which)
    d[a] += wa * gw
    d[ans] += -rt.logsumexp_tangent(
        wa * rt.unreduce(g, a, axis, keepdims), a, ans, axis, b, keepdims, which
    )
    d[b] += (
        rt.unbroadcast(wa * rt.logsumexp_adjoint(g, a, ans, axis, None, keepdims, 0), b)
        if which == 0
        else 0.0
    )


@forward_rule(rt.logsumexp_adjoint)
def logsumexp_adjoint_tangent(
    out, g, a, ans, axis=None, b=None, keepdims=False, which=0
):
    t[out] += rt.logsumexp_adjoint(t[g], a, ans, axis, b, keepdims, which)
    t[out] += rt.unbroadcast(
        rt.logsumexp_adjoint(g, a, ans, axis, b if which == 0 else None, keepdims, 0)
        * rt.dense(t[a], a),
        a if which == 0 else b,
    )
    t[out] += rt.unbroadcast(
        -rt.logsumexp_adjoint(g, a, ans, axis, b if which == 0 else None, keepdims, 0)
        * rt.unreduce(t[ans], a, axis, keepdims),
        a if which == 0 else b,
    )
    t[out] += (
        rt.logsumexp_adjoint(g, a, ans, axis, None, keepdims, 0)
        * rt.broadcast_like(t[b], a)
        if which == 0
        else 0.0
    )


@reverse_rule(rt.logsumexp_tangent)
def logsumexp_tangent(out, t, a, ans, axis=None, b=None, keepdims=False, which=0):
    ta = rt.broadcast_like(t, a)
    d[t] += rt.logsumexp_adjoint(d[out], a, ans, axis, b, keepdims, which)
    d[a] += ta * rt.logsumexp_adjoint(
        d[out], a, ans, axis, b if which == 0 else None, keepdims, 0
    )
    d[ans] += -rt.logsumexp_tangent(
        ta * rt.unreduce(d[out], a, axis, keepdims), a, ans, axis, b, keepdims, which
    )
    d[b] += (
        rt.unbroadcast(
            ta * rt.logsumexp_adjoint(d[out], a, ans, axis, None, keepdims, 0), b
        )
        if which == 0
        else 0.0
    )


@forward_rule(rt.logsumexp_tangent)
def logsumexp_tangent_tangent(
    out, t, a, ans, axis=None, b=None, keepdims=False, which=0
):
    t[out] += rt.logsumexp_tangent(t[t], a, ans, axis, b, keepdims, which)
    t[out] += rt.logsumexp_tangent(
        rt.broadcast_like(t, a) * rt.dense(t[a], a), a, ans, axis, b, keepdims, which
    )
    t[out] += -rt.logsumexp_tangent(
        rt.broadcast_like(t, a) * rt.unreduce(t[ans], a, axis, keepdims),
        a,
        ans,
        axis,
        b,
        keepdims,
        which,
    )
    t[out] += (
        rt.logsumexp_tangent(
            rt.broadcast_like(t, a) * rt.broadcast_like(t[b], a),
            a,
            ans,
            axis,
            None,
            keepdims,
            0,
        )
        if which == 0
        else 0.0
    )


# -- inverse, determinants, solve ------------------------------------------------
#
# inv_tangent(t, A) = -A t A and inv_adjoint(g, A) = -Aᵀ g Aᵀ (A = inv(a))
# transpose each other; their derivatives in A are products, written with
# np.matmul and np.swapaxes.


@reverse_rule(rt.inv_tangent)
def inv_tangent(out, t, ans):
    w = rt.dense(d[out], ans)
    td = rt.dense(t, ans)
    at = np.swapaxes(ans, -1, -2)
    d[t] += rt.inv_adjoint(d[out], ans)
    d[ans] += -(w @ at @ np.swapaxes(td, -1, -2) + np.swapaxes(td, -1, -2) @ at @ w)


@forward_rule(rt.inv_tangent)
def inv_tangent_tangent(out, t, ans):
    t[out] += rt.inv_tangent(t[t], ans)
    t[out] += -(
        rt.dense(t[ans], ans) @ rt.dense(t, ans) @ ans
        + ans @ rt.dense(t, ans) @ rt.dense(t[ans], ans)
    )


@reverse_rule(rt.inv_adjoint)
def inv_adjoint(out, g, ans):
    w = rt.dense(d[out], ans)
    gd = rt.dense(g, ans)
    at = np.swapaxes(ans, -1, -2)
    d[g] += rt.inv_tangent(d[out], ans)
    d[ans] += -(gd @ at @ np.swapaxes(w, -1, -2) + np.swapaxes(w, -1, -2) @ at @ gd)


@forward_rule(rt.inv_adjoint)
def inv_adjoint_tangent(out, g, ans):
    t[out] += rt.inv_adjoint(t[g], ans)
    t[out] += -(
        np.swapaxes(rt.dense(t[ans], ans), -1, -2)
        @ rt.dense(g, ans)
        @ np.swapaxes(ans, -1, -2)
        + np.swapaxes(ans, -1, -2)
        @ rt.dense(g, ans)
        @ np.swapaxes(rt.dense(t[ans], ans), -1, -2)
    )


# det_adjoint(g, a, d) = g d a⁻ᵀ; det_tangent(t, a, d) = d tr(a⁻¹ t).  The
# derivative of a⁻ᵀ is written with inv_tangent / inv_adjoint of inv(a).


@reverse_rule(rt.det_adjoint)
def det_adjoint(out, g, a, ans):
    w = rt.dense(d[out], a)
    inv = np.linalg.inv(a)
    overlap = np.sum(w * np.swapaxes(inv, -1, -2), axis=(-2, -1))
    d[g] += rt.unbroadcast(ans * overlap, g)
    d[ans] += rt.unbroadcast(g * overlap, ans)
    d[a] += rt.inv_adjoint(
        np.swapaxes(w, -1, -2) * np.expand_dims(g * ans, (-2, -1)), inv
    )


@forward_rule(rt.det_adjoint)
def det_adjoint_tangent(out, g, a, ans):
    t[out] += rt.det_adjoint(t[g], a, ans)
    t[out] += rt.det_adjoint(g, a, t[ans])
    t[out] += np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(
        rt.inv_tangent(rt.dense(t[a], a), np.linalg.inv(a)), -1, -2
    )


@reverse_rule(rt.det_tangent)
def det_tangent(out, t, a, ans):
    w = rt.dense(d[out], ans)
    d[t] += rt.det_adjoint(d[out], a, ans)
    d[ans] += rt.unbroadcast(w * rt.det_tangent(t, a, 1.0), ans)
    d[a] += rt.inv_adjoint(
        np.swapaxes(rt.dense(t, a), -1, -2) * np.expand_dims(w * ans, (-2, -1)),
        np.linalg.inv(a),
    )


@forward_rule(rt.det_tangent)
def det_tangent_tangent(out, t, a, ans):
    t[out] += rt.det_tangent(t[t], a, ans)
    t[out] += rt.det_tangent(t, a, t[ans])
    t[out] += ans * np.trace(
        rt.inv_tangent(rt.dense(t[a], a), np.linalg.inv(a)) @ rt.dense(t, a),
        axis1=-2,
        axis2=-1,
    )


@reverse_rule(rt.slogdet_adjoint)
def slogdet_adjoint(out, g, a):
    w = rt.dense(d[out], a)
    inv = np.linalg.inv(a)
    d[g] += (0.0, np.sum(w * np.swapaxes(inv, -1, -2), axis=(-2, -1)))
    d[a] += rt.inv_adjoint(
        np.swapaxes(w, -1, -2) * np.expand_dims(rt.getitem_adj(g, 1), (-2, -1)), inv
    )


@forward_rule(rt.slogdet_adjoint)
def slogdet_adjoint_tangent(out, g, a):
    t[out] += rt.slogdet_adjoint(t[g], a)
    t[out] += np.expand_dims(rt.getitem_adj(g, 1), (-2, -1)) * np.swapaxes(
        rt.inv_tangent(rt.dense(t[a], a), np.linalg.inv(a)), -1, -2
    )


@reverse_rule(rt.slogdet_tangent)
def slogdet_tangent(out, t, a, ans):
    d[t] += rt.slogdet_adjoint(d[out], a)
    d[a] += rt.inv_adjoint(
        np.swapaxes(rt.dense(t, a), -1, -2)
        * np.expand_dims(rt.getitem_adj(d[out], 1), (-2, -1)),
        np.linalg.inv(a),
    )


@forward_rule(rt.slogdet_tangent)
def slogdet_tangent_tangent(out, *args):
    # One term: the result is a (sign, logdet) pair, which + would concatenate.
    t[out] += rt.slogdet_tangent_jvp(args, t[args])


@reverse_rule(rt.solve_tangent)
def solve_tangent(out, t, a, b, ans, which):
    # which=1: out = a⁻¹ t; which=0: out = -a⁻¹ t x.  Either way
    # d out / d a = -a⁻¹ (da) out.
    d[t] += rt.solve_adjoint(d[out], a, b, ans, which)
    d[a] += rt.solve_adjoint(d[out], a, b, out, 0)
    d[ans] += 0.0 if which == 1 else rt.solve_x_partial(d[out], t, a, b, ans, 0)


@forward_rule(rt.solve_tangent)
def solve_tangent_tangent(out, t, a, b, ans, which):
    t[out] += rt.solve_tangent(t[t], a, b, ans, which)
    t[out] += rt.solve_tangent(t[a], a, b, out, 0)
    t[out] += 0.0 if which == 1 else rt.solve_x_partial(t[ans], t, a, b, ans, 1)


@reverse_rule(rt.solve_adjoint)
def solve_adjoint(out, g, a, b, ans, which):
    d[g] += rt.solve_tangent(d[out], a, b, ans, which)
    d[a] += rt.solve_adjoint_partial(d[out], g, a, b, ans, which, 1)
    d[ans] += rt.solve_adjoint_partial(d[out], g, a, b, ans, which, 2)


@forward_rule(rt.solve_adjoint)
def solve_adjoint_tangent(out, g, a, b, ans, which):
    t[out] += rt.solve_adjoint(t[g], a, b, ans, which)
    t[out] += rt.solve_adjoint_partial(t[a], g, a, b, ans, which, 3)
    t[out] += rt.solve_adjoint_partial(t[ans], g, a, b, ans, which, 4)


# -- einsum: multilinear in its operands ---------------------------------------


@reverse_rule(rt.einsum_tangent)
def einsum_tangent(out, subscripts, operands, tangents, optimize=False):
    d[tangents] += rt.einsum_adjoint(d[out], out, subscripts, operands)
    d[operands] += rt.einsum_adjoint_pairs(d[out], out, subscripts, operands, tangents)


@forward_rule(rt.einsum_tangent)
def einsum_tangent_tangent(out, subscripts, operands, tangents, optimize=False):
    t[out] += rt.einsum_tangent(subscripts, operands, t[tangents], optimize)
    t[out] += rt.einsum_tangent_pairs(
        subscripts, operands, tangents, t[operands], optimize
    )


@reverse_rule(rt.einsum_adjoint)
def einsum_adjoint(out, g, ans, subscripts, operands):
    w = rt.parts(d[out], len(operands))
    d[g] += rt.unbroadcast(rt.einsum_tangent(subscripts, operands, w), g)
    d[operands] += rt.einsum_adjoint_pairs(g, ans, subscripts, operands, w)


@forward_rule(rt.einsum_adjoint)
def einsum_adjoint_tangent(out, *args):
    # One term: the result is a tuple, which + would concatenate.
    t[out] += rt.einsum_adjoint_jvp(args, t[args])


# -- append, diff, nansum, tolist, unstack, vecdot ------------------------------


@reverse_rule(rt.append_adjoint)
def append_adjoint(out, g, arr, values, ans, axis, which):
    d[g] += rt.unbroadcast(rt.append_tangent_part(d[out], arr, values, axis, which), g)


@forward_rule(rt.append_adjoint)
def append_adjoint_tangent(out, g, arr, values, ans, axis, which):
    t[out] += rt.append_adjoint(t[g], arr, values, ans, axis, which)


@reverse_rule(rt.append_tangent_part)
def append_tangent_part(out, t, arr, values, axis, which):
    d[t] += rt.unbroadcast(rt.append_adjoint(d[out], arr, values, out, axis, which), t)


@forward_rule(rt.append_tangent_part)
def append_tangent_part_tangent(out, t, arr, values, axis, which):
    t[out] += rt.append_tangent_part(t[t], arr, values, axis, which)


@reverse_rule(rt.diff_adjoint)
def diff_adjoint(out, g, a, ans, n=1, axis=-1):
    d[g] += rt.unbroadcast(np.diff(rt.dense(d[out], a), n, axis), g)


@forward_rule(rt.diff_adjoint)
def diff_adjoint_tangent(out, g, a, ans, n=1, axis=-1):
    t[out] += rt.diff_adjoint(t[g], a, ans, n, axis)


@reverse_rule(rt.nansum_adjoint)
def nansum_adjoint(out, g, a, axis=None, keepdims=False, mean=False):
    d[g] += rt.unbroadcast(rt.nansum_tangent(d[out], a, out, axis, keepdims, mean), g)


@forward_rule(rt.nansum_adjoint)
def nansum_adjoint_tangent(out, g, a, axis=None, keepdims=False, mean=False):
    t[out] += rt.nansum_adjoint(t[g], a, axis, keepdims, mean)


@reverse_rule(rt.nansum_tangent)
def nansum_tangent(out, t, a, ans, axis=None, keepdims=False, mean=False):
    d[t] += rt.unbroadcast(rt.nansum_adjoint(d[out], a, axis, keepdims, mean), t)


@forward_rule(rt.nansum_tangent)
def nansum_tangent_tangent(out, t, a, ans, axis=None, keepdims=False, mean=False):
    t[out] += rt.nansum_tangent(t[t], a, ans, axis, keepdims, mean)


@reverse_rule(rt.tolist_adjoint)
def tolist_adjoint(out, g, ans, x):
    d[g] += rt.array_adjoint(rt.dense(d[out], x), ans, None)


@forward_rule(rt.tolist_adjoint)
def tolist_adjoint_tangent(out, g, ans, x):
    t[out] += rt.tolist_adjoint(t[g], ans, x)


@reverse_rule(rt.unstack_adjoint)
def unstack_adjoint(out, g, x, ans, axis=0):
    d[g] += rt.unstack(rt.dense(d[out], x), len(ans), axis)


@forward_rule(rt.unstack_adjoint)
def unstack_adjoint_tangent(out, g, x, ans, axis=0):
    t[out] += rt.unstack_adjoint(t[g], x, ans, axis)


@reverse_rule(rt.vecdot_adjoint)
def vecdot_adjoint(out, g, x1, x2, axis=-1, which=0):
    d[g] += (
        rt.vecdot_adjoint_g(g, rt.dense(d[out], x1), x2, axis)
        if which == 0
        else rt.vecdot_adjoint_g(g, x1, rt.dense(d[out], x2), axis)
    )
    d[x1] += (
        0.0 if which == 0 else rt.vecdot_adjoint(g, x1, rt.dense(d[out], x2), axis, 0)
    )
    d[x2] += (
        rt.vecdot_adjoint(g, rt.dense(d[out], x1), x2, axis, 1) if which == 0 else 0.0
    )


@forward_rule(rt.vecdot_adjoint)
def vecdot_adjoint_tangent(out, g, x1, x2, axis=-1, which=0):
    t[out] += rt.vecdot_adjoint(t[g], x1, x2, axis, which)
    t[out] += (
        0.0 if which == 0 else rt.vecdot_adjoint(g, rt.dense(t[x1], x1), x2, axis, 1)
    )
    t[out] += (
        rt.vecdot_adjoint(g, x1, rt.dense(t[x2], x2), axis, 0) if which == 0 else 0.0
    )


@reverse_rule(rt.vecdot_adjoint_g)
def vecdot_adjoint_g(out, g, x1, x2, axis=-1):
    d[x1] += rt.vecdot_adjoint(d[out], x1, x2, axis, 0)
    d[x2] += rt.vecdot_adjoint(d[out], x1, x2, axis, 1)


@forward_rule(rt.vecdot_adjoint_g)
def vecdot_adjoint_g_tangent(out, g, x1, x2, axis=-1):
    t[out] += rt.vecdot_adjoint_g(g, rt.dense(t[x1], x1), x2, axis)
    t[out] += rt.vecdot_adjoint_g(g, x1, rt.dense(t[x2], x2), axis)


# broadcast_tangent(t, x, ans, factor) = broadcast(t * factor): with
# broadcast_tangent_t and broadcast_tangent_factor, the partial derivatives
# of sum(v * t * factor).


@reverse_rule(rt.broadcast_tangent)
def broadcast_tangent(out, t, x, ans, factor=None):
    d[t] += rt.broadcast_tangent_t(d[out], t, x, ans, factor)
    d[factor] += rt.broadcast_tangent_factor(d[out], t, x, ans, factor)


@forward_rule(rt.broadcast_tangent)
def broadcast_tangent_tangent(out, t, x, ans, factor=None):
    t[out] += rt.broadcast_tangent(t[t], x, ans, factor)
    t[out] += rt.broadcast_tangent(t, x, ans, t[factor])


@reverse_rule(rt.broadcast_tangent_t)
def broadcast_tangent_t(out, v, t, x, ans, factor=None):
    d[v] += rt.broadcast_tangent(d[out], x, ans, factor)
    d[factor] += rt.broadcast_tangent_factor(v, d[out], x, ans, factor)


@forward_rule(rt.broadcast_tangent_t)
def broadcast_tangent_t_tangent(out, v, t, x, ans, factor=None):
    t[out] += rt.broadcast_tangent_t(t[v], t, x, ans, factor)
    t[out] += rt.broadcast_tangent_t(v, t, x, ans, t[factor])


@reverse_rule(rt.broadcast_tangent_factor)
def broadcast_tangent_factor(out, v, t, x, ans, factor=None):
    d[v] += rt.broadcast_tangent(t, x, ans, d[out])
    d[t] += rt.broadcast_tangent_t(v, t, x, ans, d[out])


@forward_rule(rt.broadcast_tangent_factor)
def broadcast_tangent_factor_tangent(out, v, t, x, ans, factor=None):
    t[out] += rt.broadcast_tangent_factor(t[v], t, x, ans, factor)
    t[out] += rt.broadcast_tangent_factor(v, t[t], x, ans, factor)
