"""Rules for the run-time helpers, so that generated code is differentiable.

``s2s_ad/rules/runtime_rules.py`` gives every public helper of
``s2s_ad/runtime.py`` that generated code or a rule template calls a reverse
and a forward rule.  This file checks them:

* every entry of :data:`CHECKS` is a small function calling helpers directly
  (as generated code does); its ``grad`` and its ``jvp`` along a random
  direction are compared with central finite differences, over scalars,
  vectors, matrices, broadcasting and containers;
* the transposes the reverse rules use satisfy the dot-product identity
  ``<H(g), v> = <g, H_transpose(v)>`` exactly, including symbolic zeros and
  0-d constant adjoints;
* ``test_every_referenced_helper_has_a_rule`` fails when a rule template or
  the compiler calls a public helper that has no rule, and
  ``test_every_runtime_rule_is_checked`` when a rule has no check here;
* end to end, second derivatives of small programs (``grad(grad(f))``,
  reverse over reverse with a seed, forward over reverse) match finite
  differences of the gradient;
* the helpers differentiated from source (factorizations, cumprod, average,
  trapezoid, polyval; see ``s2s_ad/rules/runtime_sources.py``) compute what
  their definitions compute, and every rule-table case through them has
  Hessian-vector products (both ways) and, for one case per helper, third
  derivatives matching central differences;
* list adjoints keep their length, third derivatives through traces, an
  array times a list, and a list-valued forward rule with several terms.
"""

from __future__ import annotations

import copy
import inspect
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import s2s_ad
from s2s_ad import grad, jvp, ops
from s2s_ad import runtime as rt
from s2s_ad.rules import registry
from s2s_ad.rules.registry import d
from tests import rule_cases
from tests.fd import (
    assert_grad_close,
    assert_same_structure,
    assert_tree_equal,
    copy_tree,
    numerical_grad,
    to_float64,
)

RNG = np.random.default_rng(1234)


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def distinct(*shape: int) -> np.ndarray:
    """Entries at least 0.3 apart (no near-ties for max/min)."""
    n = int(np.prod(shape))
    values = (np.arange(n) - n / 2) * 0.37 + RNG.uniform(-0.05, 0.05, n)
    return RNG.permutation(values).reshape(shape)


@dataclass(frozen=True)
class Check:
    """``grad`` and ``jvp`` of ``func`` at ``args`` in the positions ``wrt``
    must match finite differences.  ``covers`` names the helpers it calls."""

    label: str
    covers: tuple[Any, ...]
    func: Callable[..., Any]
    args: tuple[Any, ...]
    wrt: tuple[int, ...] = (0,)
    rtol: float = 1e-5
    atol: float = 1e-7


CHECKS: list[Check] = []


def check(label: str, covers: Any, func: Callable[..., Any], *args: Any, **kw: Any):
    covers = covers if isinstance(covers, tuple) else (covers,)
    CHECKS.append(Check(label, covers, func, args, **kw))


def sweep(label: str, covers: Any, func: Callable[..., Any], arg_sets, **kw: Any):
    for i, args in enumerate(arg_sets):
        check(f"{label}[{i}]", covers, func, *args, **kw)


# == elementwise helpers ===========================================================


def c_div(a, b):
    return np.sum(np.sin(rt.div(a, b)))


def c_pow_base_partial(x, p):
    return np.sum(np.sin(rt.pow_base_partial(x, p)))


def c_xlogy_safe(y, x):
    return np.sum(np.sin(rt.xlogy_safe(y, x)))


def c_log_of_base(base):
    return rt.log_of_base(base) ** 2


def c_fpow(x, p):
    return np.sum(np.sin(rt.fpow(x, p)))


def c_zero_where(c, value):
    return np.sum(np.sin(rt.zero_where(c, value)))


def c_dense(w, like):
    return np.sum(np.sin(rt.dense(w, like)))


def c_broadcast_like(t, ans):
    return np.sum(np.sin(rt.broadcast_like(t, ans)))


sweep(
    "div",
    rt.div,
    c_div,
    [(normal(2, 3), positive(3)), (0.7, positive(2, 1)), (0.3, 1.7), (normal(3), 2.0)],
    wrt=(0, 1),
)
sweep(
    "pow_base_partial",
    rt.pow_base_partial,
    c_pow_base_partial,
    [(positive(2, 3), normal(3)), (positive(3), 2.0), (1.3, 0.6), (0.8, normal(2))],
    wrt=(0, 1),
)
check("pow_base_partial p=0", rt.pow_base_partial, c_pow_base_partial, 1.3, 0.0)
sweep(
    "xlogy_safe",
    rt.xlogy_safe,
    c_xlogy_safe,
    [(normal(2, 3), positive(3)), (0.4, positive(2)), (1.1, 0.7)],
    wrt=(0, 1),
)
check("log_of_base", rt.log_of_base, c_log_of_base, 2.5)
sweep(
    "fpow",
    rt.fpow,
    c_fpow,
    [(positive(2, 3), normal(3)), (1.4, 3.0), (positive(3), 0.5)],
    wrt=(0, 1),
)
check(
    "zero_where",
    rt.zero_where,
    c_zero_where,
    np.array([0.0, 1.3, 0.0]),
    normal(2, 3),
    wrt=(1,),
)
sweep(
    "dense",
    rt.dense,
    c_dense,
    [(normal(3), normal(2, 3)), (0.5, normal(2, 2)), (normal(2, 3), normal(2, 3))],
    wrt=(0, 1),
)
check("dense of a scalar", rt.dense, c_dense, 0.4, 1.5, wrt=(0, 1))
sweep(
    "broadcast_like",
    rt.broadcast_like,
    c_broadcast_like,
    [(normal(3), normal(2, 3)), (0.5, normal(2, 2)), (normal(2, 1), normal(2, 3))],
    wrt=(0, 1),
)


def c_hypot_adjoint(g, ans, x, y):
    out = rt.hypot_adjoint(g, ans, (x, y))
    return out[0] * out[1] + np.sin(out[0])


check(
    "hypot_adjoint",
    rt.hypot_adjoint,
    c_hypot_adjoint,
    0.7,
    1.3,
    0.4,
    -0.9,
    wrt=(0, 1, 2, 3),
)

# == broadcasting and reductions ====================================================


def c_unbroadcast(g, x):
    return np.sum(np.sin(rt.unbroadcast(g, x)))


def c_unbroadcast_t(v, g, x):
    return np.sum(np.sin(rt.unbroadcast_transpose(v, g, x)))


UNBROADCAST_ARGS = [
    (normal(2, 3), normal(3)),
    (normal(2, 3), normal(2, 1)),
    (normal(2, 3), normal(2, 3)),
    (normal(3), 0.7),
    (0.4, normal(3)),
    (normal(4, 2, 3), normal(1, 3)),
    (0.3, 1.2),
]
sweep("unbroadcast", rt.unbroadcast, c_unbroadcast, UNBROADCAST_ARGS, wrt=(0, 1))
sweep(
    "unbroadcast_transpose",
    rt.unbroadcast_transpose,
    c_unbroadcast_t,
    [
        (normal(3), normal(2, 3), normal(3)),
        (normal(2, 1), normal(2, 3), normal(2, 1)),
        (normal(1, 3), normal(4, 2, 3), normal(1, 3)),
        (0.3, normal(3), 0.7),
        (normal(3), 0.5, normal(3)),
        (normal(2, 3), normal(2, 3), normal(2, 3)),
    ],
    wrt=(0, 1, 2),
)


def c_unbroadcast_to(g, shape):
    return np.sum(np.sin(rt.unbroadcast_to(g, shape)))


def c_unbroadcast_to_t(v, g, shape):
    return np.sum(np.sin(rt.unbroadcast_to_transpose(v, g, shape)))


# The shape-only forms, for x an ndarray or a NumPy scalar.
sweep(
    "unbroadcast_to",
    rt.unbroadcast_to,
    c_unbroadcast_to,
    [
        (normal(2, 3), (3,)),
        (normal(2, 3), (2, 1)),
        (normal(2, 3), (2, 3)),
        (normal(4, 2, 3), (1, 3)),
        (normal(3), ()),
        (0.4, (3,)),
    ],
    wrt=(0,),
)
sweep(
    "unbroadcast_to_transpose",
    rt.unbroadcast_to_transpose,
    c_unbroadcast_to_t,
    [
        (normal(3), normal(2, 3), (3,)),
        (normal(2, 1), normal(2, 3), (2, 1)),
        (normal(1, 3), normal(4, 2, 3), (1, 3)),
        (normal(2, 3), normal(2, 3), (2, 3)),
        (0.3, normal(3), ()),
    ],
    wrt=(0, 1),
)

T = distinct(2, 3, 4)
MASK = RNG.uniform(size=(2, 3, 4)) > 0.3
REDUCTIONS = [
    (None, False, True, 0.7),
    (1, False, True, normal(2, 4)),
    ((0, 2), True, True, normal(1, 3, 1)),
    (-1, False, True, normal(2, 3)),
    (1, True, MASK, normal(2, 1, 4)),
    (2, False, MASK, normal(2, 3)),
]


def c_unreduce(g, x, axis, keepdims, where):
    return np.sum(np.sin(rt.unreduce(g, x, axis, keepdims, where)))


def c_unreduce_t(v, g, x, axis, keepdims, where):
    return np.sum(np.sin(rt.unreduce_transpose(v, g, x, axis, keepdims, where)))


def c_unreduce_mean(g, x, axis, keepdims, where):
    return np.sum(np.sin(rt.unreduce_mean(g, x, axis, keepdims, where)))


def c_unreduce_mean_t(v, g, x, axis, keepdims, where):
    return np.sum(np.sin(rt.unreduce_mean_transpose(v, g, x, axis, keepdims, where)))


for i, (axis, keepdims, where, g) in enumerate(REDUCTIONS):
    v = normal(2, 3, 4)
    check(
        f"unreduce[{i}]",
        rt.unreduce,
        c_unreduce,
        g,
        T,
        axis,
        keepdims,
        where,
        wrt=(0, 1),
    )
    check(
        f"unreduce_transpose[{i}]",
        rt.unreduce_transpose,
        c_unreduce_t,
        v,
        g,
        T,
        axis,
        keepdims,
        where,
        wrt=(0, 1, 2),
    )
    check(
        f"unreduce_mean[{i}]",
        rt.unreduce_mean,
        c_unreduce_mean,
        g,
        T,
        axis,
        keepdims,
        where,
        wrt=(0, 1),
    )
    check(
        f"unreduce_mean_transpose[{i}]",
        rt.unreduce_mean_transpose,
        c_unreduce_mean_t,
        v,
        g,
        T,
        axis,
        keepdims,
        where,
        wrt=(0, 1, 2),
    )
check(
    "unreduce scalar", rt.unreduce, c_unreduce, 0.5, 1.3, None, False, True, wrt=(0, 1)
)
check(
    "unreduce_transpose scalar",
    rt.unreduce_transpose,
    c_unreduce_t,
    0.4,
    0.5,
    1.3,
    None,
    False,
    True,
    wrt=(0, 1, 2),
)


def c_unreduce_max(g, x, ans, axis, keepdims):
    return np.sum(np.sin(rt.unreduce_max(g, x, ans, axis, keepdims)))


def c_unreduce_max_t(v, g, x, ans, axis, keepdims):
    return np.sum(np.sin(rt.unreduce_max_transpose(v, g, x, ans, axis, keepdims)))


for i, (axis, keepdims, _, g) in enumerate(REDUCTIONS[:4]):
    ans = np.max(T, axis=axis, keepdims=keepdims)
    # The tie weights are piecewise constant in x and ans: only g varies.
    check(
        f"unreduce_max[{i}]",
        rt.unreduce_max,
        c_unreduce_max,
        g,
        T,
        ans,
        axis,
        keepdims,
    )
    check(
        f"unreduce_max_transpose[{i}]",
        rt.unreduce_max_transpose,
        c_unreduce_max_t,
        normal(2, 3, 4),
        g,
        T,
        ans,
        axis,
        keepdims,
    )

# Factors near 1 (signs mixed), so products stay moderate.
P = RNG.uniform(0.7, 1.3, (2, 3, 4)) * RNG.choice([-1.0, 1.0], (2, 3, 4))
A_WITH_ZERO = P.copy()
A_WITH_ZERO[0, 1, 2] = 0.0


def c_prod_adjoint(g, a, axis, keepdims, where):
    return np.sum(np.sin(rt.prod_adjoint(g, a, axis, keepdims, where)))


def c_prod_adjoint_t(v, g, a, axis, keepdims, where):
    return np.sum(np.sin(rt.prod_adjoint_transpose(v, g, a, axis, keepdims, where)))


for i, (axis, keepdims, where, g) in enumerate(REDUCTIONS):
    for label, a in (("", P), (" with a zero", A_WITH_ZERO)):
        check(
            f"prod_adjoint{label}[{i}]",
            rt.prod_adjoint,
            c_prod_adjoint,
            g,
            a,
            axis,
            keepdims,
            where,
            wrt=(0, 1),
        )
        check(
            f"prod_adjoint_transpose{label}[{i}]",
            rt.prod_adjoint_transpose,
            c_prod_adjoint_t,
            normal(2, 3, 4),
            g,
            a,
            axis,
            keepdims,
            where,
            wrt=(0, 1, 2),
        )


# == containers: acc, add_at, indexing, slots ======================================


def c_acc(a, b):
    return np.sum(np.sin(rt.acc(a, b)))


def c_acc_list(a, b):
    s = rt.acc(a, b)
    return np.sin(s[0]) * s[1] + np.sum(np.sin(s[2]))


def c_acc_dict(a, b):
    s = rt.acc(a, b)
    return s["p"] * s["q"] + np.sum(np.sin(s["r"]))


def c_acc_scalar_into_list(a, b):
    s = rt.acc(a, b)
    return s[0] * s[1]


sweep(
    "acc",
    rt.acc,
    c_acc,
    [(normal(2, 3), normal(3)), (0.5, normal(3)), (normal(3), 0.0), (0.3, 0.9)],
    wrt=(0, 1),
)
check(
    "acc lists",
    rt.acc,
    c_acc_list,
    [0.3, 0.5, normal(2)],
    [0.2, -0.4, normal(2)],
    wrt=(0, 1),
)
check(
    "acc tuples",
    rt.acc,
    c_acc_list,
    (0.3, 0.5, normal(2)),
    (0.2, -0.4, normal(2)),
    wrt=(0, 1),
)
check(
    "acc dicts",
    rt.acc,
    c_acc_dict,
    {"p": 0.3, "q": 0.8},
    {"q": -0.5, "r": normal(3)},
    wrt=(0, 1),
)
check(
    "acc number into list", rt.acc, c_acc_scalar_into_list, 0.6, [0.2, -1.1], wrt=(0, 1)
)


def c_acc_into(a, b):
    # a * 1.0: acc_into adds into its first argument, which must be fresh.
    return np.sum(np.sin(rt.acc_into(a * 1.0, b)))


sweep(
    "acc_into",
    rt.acc_into,
    c_acc_into,
    [
        (normal(2, 3), normal(2, 3)),
        (normal(2, 3), normal(3)),
        (0.5, normal(3)),
        (0.3, 0.9),
    ],
    wrt=(0, 1),
)


def c_add_at(x_bar, x, g, idx):
    xb = x_bar * 1.0  # add_at may write into an array adjoint it is given
    return np.sum(np.sin(rt.add_at(xb, x, idx, g)))


def c_add_at_zero(x, g, idx):
    return np.sum(np.sin(rt.add_at(0.0, x, idx, g)))


def c_add_at_list(x_bar, x, g):
    out = rt.add_at(x_bar, x, 1, g)
    return out[0] * out[1] + np.sum(np.sin(out[2]))


def c_add_at_slice(x_bar, x, g1, g2):
    out = rt.add_at(x_bar, x, slice(0, 2), [g1, g2])
    return out[0] * out[1] + np.sum(np.sin(out[2]))


def c_add_at_dict(x_bar, x, g):
    out = rt.add_at(x_bar, x, "q", g)
    return out["p"] * np.sin(out["q"])


ADD_AT_INDEXES = [
    (1, normal(4)),
    (slice(0, 2), normal(2, 4)),
    (np.array([0, 2, 0]), normal(3, 4)),
    ((0, slice(None)), normal(4)),
    ((1, 2), 0.7),
    (np.array([1, 1]), 0.4),
]
for i, (idx, g) in enumerate(ADD_AT_INDEXES):
    check(
        f"add_at[{i}]",
        rt.add_at,
        c_add_at,
        normal(3, 4),
        normal(3, 4),
        g,
        idx,
        wrt=(0, 1, 2),
    )
    check(
        f"add_at into zero[{i}]",
        rt.add_at,
        c_add_at_zero,
        normal(3, 4),
        g,
        idx,
        wrt=(0, 1),
    )
check(
    "add_at constant adjoint",
    rt.add_at,
    c_add_at,
    0.3,
    normal(3, 4),
    normal(4),
    2,
    wrt=(0, 1, 2),
)
check(
    "add_at list",
    rt.add_at,
    c_add_at_list,
    [0.5, -0.1, normal(2)],
    [0.2, 0.3, normal(2)],
    0.7,
    wrt=(0, 1, 2),
)
check(
    "add_at tuple",
    rt.add_at,
    c_add_at_list,
    (0.5, -0.1, normal(2)),
    (0.2, 0.3, normal(2)),
    0.7,
    wrt=(0, 1, 2),
)
check(
    "add_at zero list",
    rt.add_at,
    c_add_at_list,
    0.0,
    [0.2, 0.3, normal(2)],
    0.7,
    wrt=(1, 2),
)
check(
    "add_at list slice",
    rt.add_at,
    c_add_at_slice,
    [0.5, -0.1, normal(2)],
    [0.2, 0.3, normal(2)],
    0.7,
    -0.2,
    wrt=(0, 1, 2, 3),
)
check(
    "add_at dict",
    rt.add_at,
    c_add_at_dict,
    {"p": 0.5, "q": 0.2},
    {"p": 1.0, "q": 2.0},
    0.7,
    wrt=(0, 1, 2),
)
check(
    "add_at dict new key",
    rt.add_at,
    c_add_at_dict,
    {"p": 0.5},
    {"p": 1.0, "q": 2.0},
    0.7,
    wrt=(0, 1, 2),
)


def c_getitem_adj(g, idx):
    return np.sum(np.sin(rt.getitem_adj(g, idx)))


def c_getitem_adj_dict(g):
    return np.sin(rt.getitem_adj(g, "q")) + rt.getitem_adj(g, "missing")


def c_getitem_adj_t(v, g, idx):
    out = rt.getitem_adj_transpose(v, g, idx)
    return np.sum(np.sin(out))


def c_getitem_adj_t_list(v, g):
    out = rt.getitem_adj_transpose(v, g, 1)
    return out[0] + np.sin(out[1]) * 2.0 + np.sum(out[2])


def c_getitem_adj_t_dict(v, g):
    out = rt.getitem_adj_transpose(v, g, "q")
    return np.sin(out["q"])


GETITEM_INDEXES = [
    (1, normal(4)),
    (slice(1, 3), normal(2, 4)),
    (np.array([0, 2, 0]), normal(3, 4)),
    ((2, 3), 0.5),
]
for i, (idx, v) in enumerate(GETITEM_INDEXES):
    check(f"getitem_adj[{i}]", rt.getitem_adj, c_getitem_adj, normal(3, 4), idx)
    check(
        f"getitem_adj_transpose[{i}]",
        rt.getitem_adj_transpose,
        c_getitem_adj_t,
        v,
        normal(3, 4),
        idx,
        wrt=(0, 1),
    )
check("getitem_adj 0-d", rt.getitem_adj, c_getitem_adj, 0.7, 2)
check("getitem_adj list", rt.getitem_adj, c_getitem_adj, [0.3, normal(2)], 1)
check("getitem_adj dict", rt.getitem_adj, c_getitem_adj_dict, {"p": 0.1, "q": 0.4})
check(
    "getitem_adj_transpose 0-d",
    rt.getitem_adj_transpose,
    c_getitem_adj_t,
    0.3,
    0.7,
    2,
    wrt=(0, 1),
)
check(
    "getitem_adj_transpose list",
    rt.getitem_adj_transpose,
    c_getitem_adj_t_list,
    0.6,
    [0.3, 0.5, normal(2)],
    wrt=(0, 1),
)
check(
    "getitem_adj_transpose dict",
    rt.getitem_adj_transpose,
    c_getitem_adj_t_dict,
    0.6,
    {"p": 0.3, "q": 0.5},
    wrt=(0, 1),
)


def c_zero_at(x_bar, idx):
    xb = x_bar * 1.0  # zero_at may write into an array adjoint it is given
    return np.sum(np.sin(rt.zero_at(xb, x_bar, idx)))


def c_zero_at_list(x_bar):
    out = rt.zero_at(x_bar, x_bar, 0)
    return np.sin(out[0]) + out[1] * 2.0


def c_zero_at_dict(x_bar):
    out = rt.zero_at(x_bar, x_bar, "q")
    return out["p"] * 3.0


def c_zeroed_at(v, like, idx):
    return np.sum(np.sin(rt.zeroed_at(v, like, idx)))


for i, idx in enumerate([1, slice(0, 2), (0, 2), np.array([2, 0])]):
    check(f"zero_at[{i}]", rt.zero_at, c_zero_at, normal(3, 4), idx)
    check(
        f"zeroed_at[{i}]",
        rt.zeroed_at,
        c_zeroed_at,
        normal(3, 4),
        normal(3, 4),
        idx,
        wrt=(0, 1),
    )
check("zeroed_at constant", rt.zeroed_at, c_zeroed_at, 0.8, normal(3, 4), 1, wrt=(0, 1))
check("zero_at list", rt.zero_at, c_zero_at_list, [0.4, 0.9])
check("zero_at dict", rt.zero_at, c_zero_at_dict, {"p": 0.4, "q": 0.9})


def c_setitem_tangent(x_dot, x, v_dot, idx):
    return np.sum(np.sin(rt.setitem_tangent(x_dot, x, idx, v_dot)))


def c_setitem_tangent_list(x_dot, x, v_dot):
    out = rt.setitem_tangent(x_dot, x, 1, v_dot)
    return out[0] * out[1] + np.sin(out[2])


def c_setitem_tangent_dict(x_dot, x, v_dot):
    out = rt.setitem_tangent(x_dot, x, "q", v_dot)
    return out["p"] * np.sin(out["q"])


check(
    "setitem_tangent",
    rt.setitem_tangent,
    c_setitem_tangent,
    normal(3, 4),
    normal(3, 4),
    normal(4),
    1,
    wrt=(0, 1, 2),
)
check(
    "setitem_tangent broadcast",
    rt.setitem_tangent,
    c_setitem_tangent,
    normal(3, 4),
    normal(3, 4),
    0.6,
    (slice(None), 2),
    wrt=(0, 1, 2),
)
check(
    "setitem_tangent zero",
    rt.setitem_tangent,
    c_setitem_tangent,
    0.0,
    normal(3, 4),
    normal(2, 4),
    slice(0, 2),
    wrt=(1, 2),
)
check(
    "setitem_tangent list",
    rt.setitem_tangent,
    c_setitem_tangent_list,
    [0.3, 0.2, 0.8],
    [1.0, 2.0, 3.0],
    0.5,
    wrt=(0, 1, 2),
)
check(
    "setitem_tangent tuple",
    rt.setitem_tangent,
    c_setitem_tangent_list,
    (0.3, 0.2, 0.8),
    (1.0, 2.0, 3.0),
    0.5,
    wrt=(0, 1, 2),
)
check(
    "setitem_tangent dict",
    rt.setitem_tangent,
    c_setitem_tangent_dict,
    {"p": 0.3, "q": 0.1},
    {"p": 1.0, "q": 2.0},
    0.5,
    wrt=(0, 1, 2),
)

# == lists: append and pop in both modes ============================================


def c_pop_adj(lst_bar):
    rest, last = rt.pop_adj(lst_bar)
    return rest[0] * last + np.sum(np.sin(rest[1]))


def c_pop_adj_t(rest, last, lst_bar):
    out = rt.pop_adj_transpose((rest, last), lst_bar)
    return out[0] * out[2] + np.sum(np.sin(out[1]))


def c_pop_tangent(lst_dot):
    last, rest = rt.pop_tangent(lst_dot)
    return rest[0] * last + np.sum(np.sin(rest[1]))


def c_pop_tangent_t(last, rest, lst_dot):
    out = rt.pop_tangent_transpose((last, rest), lst_dot)
    return out[0] * out[2] + np.sum(np.sin(out[1]))


def c_push_adj(lst_bar, lst, g):
    out = rt.push_adj(lst_bar, lst, g)
    return out[0] * out[2] + np.sin(out[1])


def c_append_tangent(lst_dot, lst, v_dot):
    out = rt.append_tangent(lst_dot, lst, v_dot)
    return out[0] * out[2] + np.sin(out[1])


check("pop_adj", rt.pop_adj, c_pop_adj, [0.3, normal(2), 0.7])
check("pop_adj array", rt.pop_adj, c_pop_adj, normal(3, 2)[:, 0])
check(
    "pop_adj_transpose",
    rt.pop_adj_transpose,
    c_pop_adj_t,
    [0.2, normal(2)],
    0.6,
    [0.3, normal(2), 0.7],
    wrt=(0, 1, 2),
)
check(
    "pop_adj_transpose of zero",
    rt.pop_adj_transpose,
    c_pop_adj_t,
    [0.2, normal(2)],
    0.6,
    0.0,
    wrt=(0, 1),
)
check("pop_tangent", rt.pop_tangent, c_pop_tangent, [0.3, normal(2), 0.7])
check(
    "pop_tangent_transpose",
    rt.pop_tangent_transpose,
    c_pop_tangent_t,
    0.6,
    [0.2, normal(2)],
    [0.3, normal(2), 0.7],
    wrt=(0, 1, 2),
)
check("push_adj", rt.push_adj, c_push_adj, [0.3, 0.4], [1.0, 2.0], 0.9, wrt=(0, 1, 2))
check("push_adj zero", rt.push_adj, c_push_adj, 0.0, [1.0, 2.0], 0.9, wrt=(1, 2))
check(
    "append_tangent",
    rt.append_tangent,
    c_append_tangent,
    [0.3, 0.4],
    [1.0, 2.0, 3.0],
    0.9,
    wrt=(0, 1, 2),
)
check(
    "append_tangent zero",
    rt.append_tangent,
    c_append_tangent,
    0.0,
    [1.0, 2.0, 3.0],
    0.9,
    wrt=(1, 2),
)


def c_linear_apply(a, b, da, db):
    out = rt.linear_apply("acc", (a, b), (da, db))
    return np.sum(np.sin(out))


def c_linear_apply_part(a, b, w):
    return np.sum(np.sin(rt.linear_apply("acc", (a, b), w, 1)))


def c_linear_apply_t(v, a, b):
    parts = rt.linear_apply_transpose("acc", v, (a, b))
    return np.sum(np.sin(parts[0])) + np.sum(parts[1] ** 2)


def c_linear_apply_t_part(v, x_bar, x, g):
    part = rt.linear_apply_transpose("add_at", v, (x_bar, x, 1, g), 3)
    return np.sum(np.sin(part))


check(
    "linear_apply",
    rt.linear_apply,
    c_linear_apply,
    normal(2, 3),
    normal(3),
    normal(2, 3),
    normal(3),
    wrt=(0, 1, 2, 3),
)
check(
    "linear_apply one part",
    rt.linear_apply,
    c_linear_apply_part,
    normal(2, 3),
    normal(3),
    normal(3),
    wrt=(0, 1, 2),
)
check(
    "linear_apply_transpose",
    rt.linear_apply_transpose,
    c_linear_apply_t,
    normal(2, 3),
    normal(2, 3),
    normal(3),
    wrt=(0, 1, 2),
)
check(
    "linear_apply_transpose one part",
    rt.linear_apply_transpose,
    c_linear_apply_t_part,
    normal(3, 4),
    normal(3, 4),
    normal(3, 4),
    normal(4),
    wrt=(0, 1, 2, 3),
)

# == seeds, arguments and gradients ===================================================


def c_seed(value, s):
    return np.sum(np.sin(rt.seed(value, s)))


def c_seed_tuple(value, s):
    out = rt.seed(value, s)
    return out[0] * np.sum(np.sin(out[1]))


def c_seed_dict(value, s):
    out = rt.seed(value, s)
    return np.sin(out["a"]) * 3.0


def c_seed_t(v, value, s):
    return np.sum(np.sin(rt.seed_transpose(v, value, s)))


check("seed", rt.seed, c_seed, normal(2, 3), normal(2, 3), wrt=(0, 1))
check("seed scalar", rt.seed, c_seed, 1.3, 0.7, wrt=(0, 1))
check(
    "seed tuple", rt.seed, c_seed_tuple, (0.5, normal(2)), (0.3, normal(2)), wrt=(0, 1)
)
check("seed dict", rt.seed, c_seed_dict, {"a": 0.5, "b": 0.2}, {"a": 0.3}, wrt=(0, 1))
check(
    "seed_transpose",
    rt.seed_transpose,
    c_seed_t,
    normal(2, 3),
    normal(2, 3),
    normal(2, 3),
    wrt=(0, 1, 2),
)
check(
    "seed_transpose scalar", rt.seed_transpose, c_seed_t, 0.4, 1.3, 0.7, wrt=(0, 1, 2)
)


def c_copy_arg(x):
    return np.sum(np.sin(rt.copy_arg(x)))


def c_copy(x):
    return np.sum(np.sin(copy.copy(x)))


def c_deepcopy(xs):
    y = copy.deepcopy(xs)
    return y[0] * np.sum(np.sin(y[1]))


check("copy_arg", rt.copy_arg, c_copy_arg, normal(2, 3))
check("copy.copy", copy.copy, c_copy, normal(3))
check("copy.copy scalar", copy.copy, c_copy, 0.4)
check("copy.deepcopy", copy.deepcopy, c_deepcopy, [0.4, normal(3)])


def c_finalize(x, g):
    return np.sum(np.sin(rt.finalize(x, g)))


def c_finalize_list(x, g):
    out = rt.finalize(x, g)
    return out[0] * np.sum(np.sin(out[1]))


def c_finalize_dict(x, g):
    out = rt.finalize(x, g)
    return out["a"] * np.sum(np.sin(out["b"]))


def c_finalize_t(v, x, g):
    return np.sum(np.sin(rt.finalize_transpose(v, x, g)))


def c_finalize_t_list(v, x, g):
    out = rt.finalize_transpose(v, x, g)
    return out[0] * np.sum(np.sin(out[1]))


FINALIZE_ARGS = [
    (normal(2, 3), normal(2, 3)),
    (normal(2, 3), normal(3)),
    (normal(3), normal(2, 3)),
    (normal(2, 3), 0.6),
    (0.5, 0.8),
    (0.5, normal(3)),
    (normal(2, 1), normal(4, 2, 3)),
]
sweep("finalize", rt.finalize, c_finalize, FINALIZE_ARGS, wrt=(0, 1))


def c_finalize_owned(x, g):
    return np.sum(np.sin(rt.finalize_owned(x, g)))


sweep("finalize_owned", rt.finalize_owned, c_finalize_owned, FINALIZE_ARGS, wrt=(0, 1))
for i, (x, g) in enumerate(FINALIZE_ARGS):
    v = normal(*np.shape(x)) if np.ndim(x) else 0.3
    check(
        f"finalize_transpose[{i}]",
        rt.finalize_transpose,
        c_finalize_t,
        v,
        x,
        g,
        wrt=(0, 1, 2),
    )
check(
    "finalize list",
    rt.finalize,
    c_finalize_list,
    [0.3, normal(2)],
    [0.8, normal(2)],
    wrt=(0, 1),
)
check(
    "finalize tuple",
    rt.finalize,
    c_finalize_list,
    (0.3, normal(2)),
    (0.8, normal(2)),
    wrt=(0, 1),
)
check(
    "finalize dict",
    rt.finalize,
    c_finalize_dict,
    {"a": 0.3, "b": normal(2)},
    {"b": normal(2)},
    wrt=(0, 1),
)
check(
    "finalize_transpose list",
    rt.finalize_transpose,
    c_finalize_t_list,
    [0.6, normal(2)],
    [0.3, normal(2)],
    [0.8, normal(2)],
    wrt=(0, 1, 2),
)


# == adjoints of NumPy and builtin functions ==========================================


def c_unstack(g, n, axis):
    parts = rt.unstack(g, n, axis)
    return np.sum(np.sin(parts[0])) * np.sum(parts[1]) + np.sum(np.cos(parts[n - 1]))


def c_unstack_t(v0, v1, v2, g, axis):
    return np.sum(np.sin(rt.unstack_transpose([v0, v1, v2], g, 3, axis)))


check("unstack", rt.unstack, c_unstack, normal(3, 4), 3, 0)
check("unstack axis", rt.unstack, c_unstack, normal(2, 3), 3, 1)
check("unstack 0-d", rt.unstack, c_unstack, 0.7, 3, 0)
check(
    "unstack_transpose",
    rt.unstack_transpose,
    c_unstack_t,
    normal(4),
    normal(4),
    normal(4),
    normal(3, 4),
    0,
    wrt=(0, 1, 2, 3),
)
check(
    "unstack_transpose axis",
    rt.unstack_transpose,
    c_unstack_t,
    normal(2),
    normal(2),
    normal(2),
    normal(2, 3),
    1,
    wrt=(0, 1, 2, 3),
)
check(
    "unstack_transpose 0-d",
    rt.unstack_transpose,
    c_unstack_t,
    0.2,
    0.5,
    -0.3,
    0.7,
    0,
    wrt=(0, 1, 2, 3),
)


def c_stack_adjoint(g, a, b, axis):
    parts = rt.stack_adjoint(g, [a, b], axis)
    return np.sum(np.sin(parts[0])) + np.sum(parts[1] ** 2)


def c_stack_adjoint_t(v0, v1, g, a, b, axis):
    return np.sum(np.sin(rt.stack_adjoint_transpose([v0, v1], g, [a, b], axis)))


def c_stack_adjoint_array(g, arrays, axis):
    return np.sum(np.sin(rt.stack_adjoint(g, arrays, axis)))


for axis in (0, 1, -1):
    shape = [2, 3]
    shape.insert(axis % 3, 2)
    check(
        f"stack_adjoint axis {axis}",
        rt.stack_adjoint,
        c_stack_adjoint,
        normal(*shape),
        normal(2, 3),
        normal(2, 3),
        axis,
        wrt=(0, 1, 2),
    )
    check(
        f"stack_adjoint_transpose axis {axis}",
        rt.stack_adjoint_transpose,
        c_stack_adjoint_t,
        normal(2, 3),
        normal(2, 3),
        normal(*shape),
        normal(2, 3),
        normal(2, 3),
        axis,
        wrt=(0, 1, 2, 3, 4),
    )
check(
    "stack_adjoint scalars",
    rt.stack_adjoint,
    c_stack_adjoint,
    normal(2),
    0.3,
    0.5,
    0,
    wrt=(0, 1, 2),
)
check(
    "stack_adjoint of an array",
    rt.stack_adjoint,
    c_stack_adjoint_array,
    normal(3, 2),
    normal(2, 3),
    1,
    wrt=(0, 1),
)


def c_concatenate_adjoint(g, a, b, axis):
    parts = rt.concatenate_adjoint(g, [a, b], axis)
    return np.sum(np.sin(parts[0])) + np.sum(parts[1] ** 2)


def c_concatenate_adjoint_t(v0, v1, g, a, b, axis):
    return np.sum(np.sin(rt.concatenate_adjoint_transpose([v0, v1], g, [a, b], axis)))


for label, g, a, b, axis in [
    ("axis 0", normal(5, 3), normal(2, 3), normal(3, 3), 0),
    ("axis 1", normal(2, 5), normal(2, 1), normal(2, 4), 1),
    ("axis None", normal(7), normal(2, 2), normal(3), None),
]:
    check(
        f"concatenate_adjoint {label}",
        rt.concatenate_adjoint,
        c_concatenate_adjoint,
        g,
        a,
        b,
        axis,
        wrt=(0, 1, 2),
    )
    check(
        f"concatenate_adjoint_transpose {label}",
        rt.concatenate_adjoint_transpose,
        c_concatenate_adjoint_t,
        normal(*np.shape(a)),
        normal(*np.shape(b)),
        g,
        a,
        b,
        axis,
        wrt=(0, 1, 2, 3, 4),
    )


def c_array_adjoint(g, obj, ans):
    return np.sum(np.sin(rt.array_adjoint(g, obj, ans)))


def c_array_adjoint_nested(g, x, y):
    out = rt.array_adjoint(g, [[x, y], [2.0, x]], None)
    return np.sin(out[0][0]) * out[0][1] + out[1][0] * out[1][1]


def c_array_adjoint_t(v, g, obj, ans):
    return np.sum(np.sin(rt.array_adjoint_transpose(v, g, obj, ans)))


def c_array_adjoint_t_list(v0, v1, g):
    return np.sum(np.sin(rt.array_adjoint_transpose([v0, v1], g, [0.5, 0.3], None)))


check(
    "array_adjoint",
    rt.array_adjoint,
    c_array_adjoint,
    normal(2, 3),
    normal(2, 3),
    None,
    wrt=(0, 1),
)
check(
    "array_adjoint ndmin",
    rt.array_adjoint,
    c_array_adjoint,
    normal(1, 3),
    normal(3),
    None,
    wrt=(0, 1),
)
check(
    "array_adjoint 0-d",
    rt.array_adjoint,
    c_array_adjoint,
    0.6,
    normal(2, 3),
    None,
    wrt=(0, 1),
)
check(
    "array_adjoint nested",
    rt.array_adjoint,
    c_array_adjoint_nested,
    normal(2, 2),
    0.4,
    0.7,
    wrt=(0, 1, 2),
)
check(
    "array_adjoint_transpose",
    rt.array_adjoint_transpose,
    c_array_adjoint_t,
    normal(2, 3),
    normal(2, 3),
    normal(2, 3),
    None,
    wrt=(0, 1, 2),
)
check(
    "array_adjoint_transpose ndmin",
    rt.array_adjoint_transpose,
    c_array_adjoint_t,
    normal(3),
    normal(1, 3),
    normal(3),
    None,
    wrt=(0, 1, 2),
)
check(
    "array_adjoint_transpose list",
    rt.array_adjoint_transpose,
    c_array_adjoint_t_list,
    0.4,
    0.9,
    normal(2),
    wrt=(0, 1, 2),
)


def c_full_adjoint(g, fill_value, ans):
    return np.sum(np.sin(rt.full_adjoint(g, fill_value, ans)))


def c_full_adjoint_t(v, g, fill_value, ans):
    return np.sum(np.sin(rt.full_adjoint_transpose(v, g, fill_value, ans)))


check(
    "full_adjoint",
    rt.full_adjoint,
    c_full_adjoint,
    normal(2, 3),
    0.5,
    normal(2, 3),
    wrt=(0, 1, 2),
)
check(
    "full_adjoint row",
    rt.full_adjoint,
    c_full_adjoint,
    normal(2, 3),
    normal(3),
    normal(2, 3),
    wrt=(0, 1, 2),
)
check(
    "full_adjoint_transpose",
    rt.full_adjoint_transpose,
    c_full_adjoint_t,
    0.8,
    normal(2, 3),
    0.5,
    normal(2, 3),
    wrt=(0, 1, 2, 3),
)
check(
    "full_adjoint_transpose row",
    rt.full_adjoint_transpose,
    c_full_adjoint_t,
    normal(3),
    normal(2, 3),
    normal(3),
    normal(2, 3),
    wrt=(0, 1, 2, 3),
)


def c_linspace_adjoint(g, ans, start, stop, num, endpoint, axis, which):
    out = rt.linspace_adjoint(g, ans, start, stop, num, endpoint, False, axis, which)
    return np.sum(np.sin(out))


def c_linspace_adjoint_step(g, step_bar, ans, start, stop, num, which):
    out = rt.linspace_adjoint(
        (g, step_bar), ans, start, stop, num, True, True, 0, which
    )
    return np.sum(np.sin(out))


def c_linspace_adjoint_t(v, g, ans, start, stop, num, endpoint, axis, which):
    out = rt.linspace_adjoint_transpose(
        v, g, ans, start, stop, num, endpoint, False, axis, which
    )
    return np.sum(np.sin(out))


def c_linspace_adjoint_t_step(v, g, step_bar, ans, start, stop, num, which):
    out = rt.linspace_adjoint_transpose(
        v, (g, step_bar), ans, start, stop, num, True, True, 0, which
    )
    return np.sum(np.sin(out[0])) + np.sin(out[1])


LS = np.linspace(0.5, 2.0, 5)
LS2 = np.linspace(normal(3), normal(3), 4, axis=1)
for which in (0, 1):
    check(
        f"linspace_adjoint[{which}]",
        rt.linspace_adjoint,
        c_linspace_adjoint,
        normal(5),
        LS,
        0.5,
        2.0,
        5,
        True,
        0,
        which,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"linspace_adjoint no endpoint[{which}]",
        rt.linspace_adjoint,
        c_linspace_adjoint,
        normal(5),
        LS,
        0.5,
        2.0,
        5,
        False,
        0,
        which,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"linspace_adjoint arrays[{which}]",
        rt.linspace_adjoint,
        c_linspace_adjoint,
        normal(3, 4),
        LS2,
        normal(3),
        normal(3),
        4,
        True,
        1,
        which,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"linspace_adjoint retstep[{which}]",
        rt.linspace_adjoint,
        c_linspace_adjoint_step,
        normal(5),
        0.7,
        (LS, 0.375),
        0.5,
        2.0,
        5,
        which,
        wrt=(0, 1),
    )
    check(
        f"linspace_adjoint_transpose[{which}]",
        rt.linspace_adjoint_transpose,
        c_linspace_adjoint_t,
        0.6,
        normal(5),
        LS,
        0.5,
        2.0,
        5,
        True,
        0,
        which,
        wrt=(0, 1, 2, 3, 4),
    )
    check(
        f"linspace_adjoint_transpose arrays[{which}]",
        rt.linspace_adjoint_transpose,
        c_linspace_adjoint_t,
        normal(3),
        normal(3, 4),
        LS2,
        normal(3),
        normal(3),
        4,
        True,
        1,
        which,
        wrt=(0, 1, 2, 3, 4),
    )
    check(
        f"linspace_adjoint_transpose retstep[{which}]",
        rt.linspace_adjoint_transpose,
        c_linspace_adjoint_t_step,
        0.6,
        normal(5),
        0.7,
        (LS, 0.375),
        0.5,
        2.0,
        5,
        which,
        wrt=(0, 1, 2),
    )


def c_arange_adjoint(g, ans, start, stop, step):
    out = rt.arange_adjoint(g, ans, (start, stop, step))
    return np.sin(out[0]) * out[2] + out[1]


def c_arange_adjoint_t(v0, v2, g, ans, start, stop, step):
    out = rt.arange_adjoint_transpose((v0, 0.0, v2), g, ans, (start, stop, step))
    return np.sum(np.sin(out))


AR = np.arange(0.5, 3.0, 0.6)
check(
    "arange_adjoint",
    rt.arange_adjoint,
    c_arange_adjoint,
    normal(5),
    AR,
    0.5,
    3.0,
    0.6,
    wrt=(0, 1),
)
check(
    "arange_adjoint_transpose",
    rt.arange_adjoint_transpose,
    c_arange_adjoint_t,
    0.4,
    -0.7,
    normal(5),
    AR,
    0.5,
    3.0,
    0.6,
    wrt=(0, 1, 2, 3),
)


def c_sum_adjoint(g, a, b):
    out = rt.sum_adjoint(g, [a, b])
    return np.sum(np.sin(out[0])) + np.sum(out[1] ** 2)


def c_sum_adjoint_array(g, items):
    return np.sum(np.sin(rt.sum_adjoint(g, items)))


def c_sum_adjoint_t(v0, v1, g, a, b):
    return np.sum(np.sin(rt.sum_adjoint_transpose([v0, v1], g, [a, b])))


def c_sum_adjoint_t_array(v, g, items):
    return np.sum(np.sin(rt.sum_adjoint_transpose(v, g, items)))


check(
    "sum_adjoint",
    rt.sum_adjoint,
    c_sum_adjoint,
    normal(2, 3),
    normal(3),
    normal(2, 3),
    wrt=(0, 1, 2),
)
check(
    "sum_adjoint scalars", rt.sum_adjoint, c_sum_adjoint, 0.4, 0.5, -0.2, wrt=(0, 1, 2)
)
check(
    "sum_adjoint array",
    rt.sum_adjoint,
    c_sum_adjoint_array,
    normal(3),
    normal(4, 3),
    wrt=(0, 1),
)
check(
    "sum_adjoint_transpose",
    rt.sum_adjoint_transpose,
    c_sum_adjoint_t,
    normal(3),
    normal(2, 3),
    normal(2, 3),
    normal(3),
    normal(2, 3),
    wrt=(0, 1, 2, 3, 4),
)
check(
    "sum_adjoint_transpose array",
    rt.sum_adjoint_transpose,
    c_sum_adjoint_t_array,
    normal(4, 3),
    normal(3),
    normal(4, 3),
    wrt=(0, 1, 2),
)


def c_extreme_adjoint(g, ans, a, b, c):
    out = rt.extreme_adjoint(g, ans, (a, b, c))
    return np.sin(out[0]) + out[1] * 2.0 + np.sin(out[2])


def c_extreme_adjoint_list(g, ans, items):
    out = rt.extreme_adjoint(g, ans, (items,))
    return np.sin(out[0][0]) + out[0][1] * 2.0 + np.sin(out[0][2])


def c_extreme_adjoint_array(g, ans, items):
    out = rt.extreme_adjoint(g, ans, (items,))
    return np.sum(np.sin(out[0]))


def c_extreme_adjoint_t(v0, v1, v2, g, ans, a, b, c):
    out = rt.extreme_adjoint_transpose((v0, v1, v2), g, ans, (a, b, c))
    return np.sum(np.sin(out))


def c_extreme_adjoint_t_array(v, g, ans, items):
    return np.sum(np.sin(rt.extreme_adjoint_transpose((v,), g, ans, (items,))))


check(
    "extreme_adjoint", rt.extreme_adjoint, c_extreme_adjoint, 0.7, 1.2, 0.3, 1.2, -0.5
)
check(
    "extreme_adjoint list",
    rt.extreme_adjoint,
    c_extreme_adjoint_list,
    0.7,
    1.2,
    [0.3, 1.2, -0.5],
)
check(
    "extreme_adjoint array",
    rt.extreme_adjoint,
    c_extreme_adjoint_array,
    0.7,
    1.2,
    np.array([0.3, 1.2, -0.5]),
)
check(
    "extreme_adjoint_transpose",
    rt.extreme_adjoint_transpose,
    c_extreme_adjoint_t,
    0.4,
    -0.3,
    0.8,
    0.7,
    1.2,
    0.3,
    1.2,
    -0.5,
    wrt=(0, 1, 2, 3),
)
check(
    "extreme_adjoint_transpose array",
    rt.extreme_adjoint_transpose,
    c_extreme_adjoint_t_array,
    normal(3),
    0.7,
    1.2,
    np.array([0.3, 1.2, -0.5]),
    wrt=(0, 1),
)


def c_default_adjoint(g, items):
    return np.sin(rt.default_adjoint(g, (items,)))


check("default_adjoint used", rt.default_adjoint, c_default_adjoint, 0.7, [])
check("default_adjoint unused", rt.default_adjoint, c_default_adjoint, 0.7, [1.0])


def c_where_adjoint(g, x, branch):
    return np.sum(np.sin(rt.where_adjoint(g, COND, x, branch)))


def c_where_adjoint_t(v, g, x, branch):
    return np.sum(np.sin(rt.where_adjoint_transpose(v, g, COND, x, branch)))


COND = np.array([True, False, True])
for branch in (True, False):
    check(
        f"where_adjoint {branch}",
        rt.where_adjoint,
        c_where_adjoint,
        normal(2, 3),
        normal(2, 3),
        branch,
        wrt=(0, 1),
    )
    check(
        f"where_adjoint broadcast {branch}",
        rt.where_adjoint,
        c_where_adjoint,
        normal(2, 3),
        0.5,
        branch,
        wrt=(0, 1),
    )
    check(
        f"where_adjoint_transpose {branch}",
        rt.where_adjoint_transpose,
        c_where_adjoint_t,
        normal(2, 3),
        normal(2, 3),
        normal(2, 3),
        branch,
        wrt=(0, 1, 2),
    )
    check(
        f"where_adjoint_transpose broadcast {branch}",
        rt.where_adjoint_transpose,
        c_where_adjoint_t,
        0.4,
        normal(2, 3),
        0.5,
        branch,
        wrt=(0, 1, 2),
    )

CLIP_A = np.array([[-1.5, -0.2, 0.4], [1.7, 0.1, -0.9]])


def c_clip_adjoint(g, a, lo, hi, part):
    return np.sum(np.sin(rt.clip_adjoint(g, a, lo, hi, part)))


def c_clip_adjoint_t(v, g, a, lo, hi, part):
    return np.sum(np.sin(rt.clip_adjoint_transpose(v, g, a, lo, hi, part)))


for part in (0, 1, 2):
    check(
        f"clip_adjoint[{part}]",
        rt.clip_adjoint,
        c_clip_adjoint,
        normal(2, 3),
        CLIP_A,
        -0.5,
        0.8,
        part,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"clip_adjoint rows[{part}]",
        rt.clip_adjoint,
        c_clip_adjoint,
        normal(2, 3),
        CLIP_A,
        np.array([-0.5, 0.0, 0.2]),
        0.8,
        part,
        wrt=(0, 1, 2, 3),
    )
    v = normal(3) if part == 1 else normal(2, 3) if part == 0 else 0.3
    lo = np.array([-0.5, 0.0, 0.2])
    check(
        f"clip_adjoint_transpose[{part}]",
        rt.clip_adjoint_transpose,
        c_clip_adjoint_t,
        v,
        normal(2, 3),
        CLIP_A,
        lo,
        0.8,
        part,
        wrt=(0, 1, 2, 3, 4),
    )
check(
    "clip_adjoint no bound",
    rt.clip_adjoint,
    c_clip_adjoint,
    normal(2, 3),
    CLIP_A,
    None,
    0.8,
    0,
    wrt=(0, 1, 3),
)


def c_add_adjoint(g, x, other, left):
    return np.sum(np.sin(rt.add_adjoint(g, x, other, left)))


def c_add_adjoint_lists(g, x, other, left):
    out = rt.add_adjoint(g, x, other, left)
    return np.sin(out[0]) * out[1]


def c_add_adjoint_t(v, g, x, other, left):
    return np.sum(np.sin(rt.add_adjoint_transpose(v, g, x, other, left)))


def c_add_adjoint_t_lists(v0, v1, g, x, other, left):
    out = rt.add_adjoint_transpose([v0, v1], g, x, other, left)
    return np.sin(out[0]) * out[1] + np.sin(out[2]) * out[3] + out[4]


for left in (True, False):
    check(
        f"add_adjoint {left}",
        rt.add_adjoint,
        c_add_adjoint,
        normal(2, 3),
        normal(3),
        normal(2, 3),
        left,
        wrt=(0, 1, 2),
    )
    check(
        f"add_adjoint lists {left}",
        rt.add_adjoint,
        c_add_adjoint_lists,
        [0.1, 0.5, -0.3, 0.8, 1.1],
        [0.4, 0.2],
        [1.0, 2.0, 3.0],
        left,
        wrt=(0, 1, 2),
    )
    check(
        f"add_adjoint_transpose {left}",
        rt.add_adjoint_transpose,
        c_add_adjoint_t,
        normal(3),
        normal(2, 3),
        normal(3),
        normal(2, 3),
        left,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"add_adjoint_transpose lists {left}",
        rt.add_adjoint_transpose,
        c_add_adjoint_t_lists,
        0.4,
        0.7,
        [0.1, 0.5, -0.3, 0.8, 1.1],
        [0.4, 0.2],
        [1.0, 2.0, 3.0],
        left,
        wrt=(0, 1, 2, 3, 4),
    )


def c_transpose_adjoint(g, a, axes):
    return np.sum(np.sin(rt.transpose_adjoint(g, a, axes)) * W234)


def c_transpose_adjoint_t(v, g, a, axes):
    return np.sum(np.sin(rt.transpose_adjoint_transpose(v, g, a, axes)))


W234 = normal(2, 3, 4)
for label, g, axes in [
    ("reversed", normal(4, 3, 2), None),
    ("perm", normal(3, 4, 2), (1, 2, 0)),
    ("negative", normal(2, 4, 3), (0, -1, 1)),
    ("0-d", 0.6, (1, 2, 0)),
]:
    check(
        f"transpose_adjoint {label}",
        rt.transpose_adjoint,
        c_transpose_adjoint,
        g,
        normal(2, 3, 4),
        axes,
        wrt=(0, 1),
    )
    check(
        f"transpose_adjoint_transpose {label}",
        rt.transpose_adjoint_transpose,
        c_transpose_adjoint_t,
        normal(2, 3, 4),
        g,
        normal(2, 3, 4),
        axes,
        wrt=(0, 1, 2),
    )


def c_reshape_adjoint(g, a, order):
    return np.sum(np.sin(rt.reshape_adjoint(g, a, order)) * np.cos(a))


def c_reshape_adjoint_t(v, g, a, order):
    return np.sum(np.sin(rt.reshape_adjoint_transpose(v, g, a, order)))


for label, g, a, order in [
    ("C", normal(6), normal(2, 3), "C"),
    ("F", normal(3, 2), normal(2, 3), "F"),
    ("0-d", 0.4, normal(2, 3), "C"),
    ("to scalar", normal(1, 1), 0.7, "C"),
]:
    check(
        f"reshape_adjoint {label}",
        rt.reshape_adjoint,
        c_reshape_adjoint,
        g,
        a,
        order,
        wrt=(0, 1),
    )
    v = normal(*np.shape(a)) if np.ndim(a) else 0.3
    check(
        f"reshape_adjoint_transpose {label}",
        rt.reshape_adjoint_transpose,
        c_reshape_adjoint_t,
        v,
        g,
        a,
        order,
        wrt=(0, 1, 2),
    )


def c_cumsum_adjoint(g, a, axis):
    return np.sum(np.sin(rt.cumsum_adjoint(g, a, axis)))


def c_cumsum_adjoint_t(v, g, a, axis):
    return np.sum(np.sin(rt.cumsum_adjoint_transpose(v, g, a, axis)))


for label, g, axis in [
    ("None", normal(6), None),
    ("0", normal(2, 3), 0),
    ("1", normal(2, 3), 1),
    ("0-d", 0.5, 1),
]:
    check(
        f"cumsum_adjoint {label}",
        rt.cumsum_adjoint,
        c_cumsum_adjoint,
        g,
        normal(2, 3),
        axis,
        wrt=(0, 1),
    )
    check(
        f"cumsum_adjoint_transpose {label}",
        rt.cumsum_adjoint_transpose,
        c_cumsum_adjoint_t,
        normal(2, 3),
        g,
        normal(2, 3),
        axis,
        wrt=(0, 1, 2),
    )


def c_cast_adjoint(g, ans):
    return np.sum(np.sin(rt.cast_adjoint(g, ans)))


check(
    "cast_adjoint",
    rt.cast_adjoint,
    c_cast_adjoint,
    normal(2, 3),
    normal(2, 3),
    wrt=(0, 1),
)
check(
    "cast_adjoint to int",
    rt.cast_adjoint,
    c_cast_adjoint,
    normal(2, 3),
    np.arange(6).reshape(2, 3),
)

# == norms, variances, products of two adjoints ======================================


def c_norm_adjoint(g, x, ans, ord, axis, keepdims):
    return np.sum(np.sin(rt.norm_adjoint(g, x, ans, ord, axis, keepdims)))


def c_norm_adjoint_t(v, g, x, ans, ord, axis, keepdims):
    return np.sum(np.sin(rt.norm_adjoint_transpose(v, g, x, ans, ord, axis, keepdims)))


NX = distinct(3, 4) / 2.0
NORMS = [
    (None, None, False, True),
    (None, 1, False, True),
    (2, 0, True, True),
    (3, 1, False, True),
    (1.5, None, False, True),
    ("fro", (0, 1), False, True),
    (1, 1, False, False),
    (np.inf, 0, False, False),
    (np.inf, None, False, False),
    (1, (0, 1), True, False),
]
for i, (ord, axis, keepdims, smooth) in enumerate(NORMS):
    x = NX.ravel() if ord == 1.5 else NX
    ans = np.linalg.norm(x, ord, axis, keepdims)
    g = normal(*np.shape(ans)) if np.ndim(ans) else 0.7
    # Piecewise-constant gradients (1 and inf norms) select entries by
    # comparing with ans: only g may move.
    wrt = (0, 1, 2) if smooth else (0,)
    check(
        f"norm_adjoint[{i}]",
        rt.norm_adjoint,
        c_norm_adjoint,
        g,
        x,
        ans,
        ord,
        axis,
        keepdims,
        wrt=wrt,
    )
    check(
        f"norm_adjoint_transpose[{i}]",
        rt.norm_adjoint_transpose,
        c_norm_adjoint_t,
        normal(*np.shape(x)),
        g,
        x,
        ans,
        ord,
        axis,
        keepdims,
        wrt=tuple(p + 1 for p in wrt) + (0,),
    )
check(
    "norm_adjoint scalar",
    rt.norm_adjoint,
    c_norm_adjoint,
    0.7,
    -1.3,
    1.3,
    None,
    None,
    False,
    wrt=(0,),
)
check(
    "norm_adjoint_transpose scalar",
    rt.norm_adjoint_transpose,
    c_norm_adjoint_t,
    0.4,
    0.7,
    -1.3,
    1.3,
    None,
    None,
    False,
    wrt=(0, 1),
)


def c_var_adjoint(g, a, axis, ddof, keepdims):
    return np.sum(np.sin(rt.var_adjoint(g, a, axis, ddof, keepdims)))


def c_var_adjoint_g(g, a, b, axis, ddof, keepdims):
    return np.sum(np.sin(rt.var_adjoint_g(g, a, b, axis, ddof, keepdims)))


def c_std_adjoint(g, a, ans, axis, ddof, keepdims):
    return np.sum(np.sin(rt.std_adjoint(g, a, ans, axis, ddof, keepdims)))


for i, (axis, ddof, keepdims) in enumerate(
    [(None, 0, False), (1, 1, False), ((0, 2), 0, True), (-1, 0, False)]
):
    ans = np.var(T, axis=axis, ddof=ddof, keepdims=keepdims)
    g = normal(*np.shape(ans)) if np.ndim(ans) else 0.7
    check(
        f"var_adjoint[{i}]",
        rt.var_adjoint,
        c_var_adjoint,
        g,
        T,
        axis,
        ddof,
        keepdims,
        wrt=(0, 1),
    )
    check(
        f"var_adjoint_g[{i}]",
        rt.var_adjoint_g,
        c_var_adjoint_g,
        g,
        T,
        normal(2, 3, 4),
        axis,
        ddof,
        keepdims,
        wrt=(0, 1, 2),
    )
    check(
        f"std_adjoint[{i}]",
        rt.std_adjoint,
        c_std_adjoint,
        g,
        T,
        np.sqrt(ans),
        axis,
        ddof,
        keepdims,
        wrt=(0, 1, 2),
    )
check(
    "var_adjoint scalar",
    rt.var_adjoint,
    c_var_adjoint,
    0.5,
    1.3,
    None,
    0,
    False,
    wrt=(0, 1),
)
check(
    "std_adjoint 0-d g",
    rt.std_adjoint,
    c_std_adjoint,
    0.5,
    T,
    np.std(T, axis=1),
    1,
    0,
    False,
    wrt=(0, 1, 2),
)


def c_mul_adjoint(g, x, other):
    return np.sum(np.sin(rt.mul_adjoint(g, x, other)))


def c_mul_adjoint_g(v, g, x, other):
    return np.sum(np.sin(rt.mul_adjoint_g(v, g, x, other)))


def c_mul_adjoint_other(v, g, x, other):
    return np.sum(np.sin(rt.mul_adjoint_other(v, g, x, other)))


def c_mul_adjoint_repeat(g, x):
    out = rt.mul_adjoint(g, x, 2)
    return np.sin(out[0]) * out[1]


def c_mul_adjoint_g_repeat(v0, v1, g, x):
    out = rt.mul_adjoint_g([v0, v1], g, x, 2)
    return np.sin(out[0]) * out[1] + out[2] * out[3]


MUL_ARGS = [
    (normal(2, 3), normal(3), normal(2, 3)),
    (normal(2, 3), normal(2, 3), normal(3)),
    (normal(2, 3), 0.6, normal(2, 3)),
    (normal(3), normal(3), 1.7),
    (0.4, 0.6, 1.2),
    (normal(2, 3), normal(2, 1), normal(1, 3)),
]
for i, (g, x, other) in enumerate(MUL_ARGS):
    check(
        f"mul_adjoint[{i}]", rt.mul_adjoint, c_mul_adjoint, g, x, other, wrt=(0, 1, 2)
    )
    v = normal(*np.shape(x)) if np.ndim(x) else 0.3
    check(
        f"mul_adjoint_g[{i}]",
        rt.mul_adjoint_g,
        c_mul_adjoint_g,
        v,
        g,
        x,
        other,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"mul_adjoint_other[{i}]",
        rt.mul_adjoint_other,
        c_mul_adjoint_other,
        v,
        g,
        x,
        other,
        wrt=(0, 1, 2, 3),
    )
check(
    "mul_adjoint repetition",
    rt.mul_adjoint,
    c_mul_adjoint_repeat,
    [0.2, 0.5, -0.4, 0.9],
    [1.0, 2.0],
    wrt=(0, 1),
)
check(
    "mul_adjoint_g repetition",
    rt.mul_adjoint_g,
    c_mul_adjoint_g_repeat,
    0.3,
    0.8,
    [0.2, 0.5, -0.4, 0.9],
    [1.0, 2.0],
    wrt=(0, 1, 2, 3),
)


def c_dot_a(g, a, b):
    return np.sum(np.sin(rt.dot_adjoint_a(g, a, b)))


def c_dot_b(g, a, b):
    return np.sum(np.sin(rt.dot_adjoint_b(g, a, b)))


def c_dot_g(g, a, b):
    return np.sum(np.sin(rt.dot_adjoint_g(g, a, b)))


def c_matmul_a(g, a, b):
    return np.sum(np.sin(rt.matmul_adjoint_a(g, a, b)))


def c_matmul_b(g, a, b):
    return np.sum(np.sin(rt.matmul_adjoint_b(g, a, b)))


def c_matmul_g(g, a, b):
    return np.sum(np.sin(rt.matmul_adjoint_g(g, a, b)))


def c_outer(g, a, b, which):
    return np.sum(np.sin(rt.outer_adjoint(g, a, b, which)))


def c_outer_g(g, a, b):
    return np.sum(np.sin(rt.outer_adjoint_g(g, a, b)))


for i, (a, b) in enumerate(
    [
        (normal(3), normal(3)),
        (normal(2, 3), normal(3)),
        (normal(3), normal(3, 4)),
        (normal(2, 3), normal(3, 4)),
        (normal(2, 2, 3), normal(4, 3, 2)),
        (0.7, normal(2, 3)),
        (normal(3), -0.4),
    ]
):
    g = np.dot(a, b)
    g = normal(*np.shape(g)) if np.ndim(g) else 0.6
    for label, func, covers in [
        ("dot_adjoint_a", c_dot_a, rt.dot_adjoint_a),
        ("dot_adjoint_b", c_dot_b, rt.dot_adjoint_b),
        ("dot_adjoint_g", c_dot_g, rt.dot_adjoint_g),
    ]:
        check(f"{label}[{i}]", covers, func, g, a, b, wrt=(0, 1, 2))
check(
    "dot_adjoint_a 0-d g",
    rt.dot_adjoint_a,
    c_dot_a,
    0.6,
    normal(2, 3),
    normal(3),
    wrt=(0, 1, 2),
)
for i, (a, b) in enumerate(
    [
        (normal(2, 3), normal(3, 4)),
        (normal(3), normal(3, 4)),
        (normal(2, 3), normal(3)),
        (normal(3), normal(3)),
        (normal(5, 2, 3), normal(3, 4)),
        (normal(2, 1, 2, 3), normal(4, 3, 2)),
    ]
):
    g = np.matmul(a, b)
    g = normal(*np.shape(g)) if np.ndim(g) else 0.6
    for label, func, covers in [
        ("matmul_adjoint_a", c_matmul_a, rt.matmul_adjoint_a),
        ("matmul_adjoint_b", c_matmul_b, rt.matmul_adjoint_b),
        ("matmul_adjoint_g", c_matmul_g, rt.matmul_adjoint_g),
    ]:
        check(f"{label}[{i}]", covers, func, g, a, b, wrt=(0, 1, 2))
for i, (a, b) in enumerate([(normal(3), normal(4)), (normal(2, 2), normal(3))]):
    g = normal(np.size(a), np.size(b))
    for which in (0, 1):
        check(
            f"outer_adjoint[{i}, {which}]",
            rt.outer_adjoint,
            c_outer,
            g,
            a,
            b,
            which,
            wrt=(0, 1, 2),
        )
    check(
        f"outer_adjoint_g[{i}]", rt.outer_adjoint_g, c_outer_g, g, a, b, wrt=(0, 1, 2)
    )


# == tangent helpers (forward-mode code) ============================================


def c_parts(w0, w1):
    p = rt.parts((w0, w1), 2)
    return np.sin(p[0]) * p[1]


def c_dense_tangent(t, x):
    return np.sum(np.sin(rt.dense_tangent(t, x)))


def c_dense_tangent_list(t0, x0, x1):
    out = rt.dense_tangent([t0, 0.0], [x0, x1])
    return np.sum(np.sin(out[0])) + np.sum(out[1] ** 2)


def c_dense_tangent_t(v, t, x):
    return np.sum(np.sin(rt.dense_tangent_transpose(v, t, x)))


check("parts", rt.parts, c_parts, 0.3, 0.8, wrt=(0, 1))
check(
    "dense_tangent",
    rt.dense_tangent,
    c_dense_tangent,
    normal(3),
    normal(2, 3),
    wrt=(0, 1),
)
check(
    "dense_tangent scalar",
    rt.dense_tangent,
    c_dense_tangent,
    0.6,
    normal(2, 2),
    wrt=(0, 1),
)
check(
    "dense_tangent list",
    rt.dense_tangent,
    c_dense_tangent_list,
    normal(2),
    normal(2),
    normal(3),
    wrt=(0, 1, 2),
)
check(
    "dense_tangent_transpose",
    rt.dense_tangent_transpose,
    c_dense_tangent_t,
    normal(2, 3),
    normal(3),
    normal(2, 3),
    wrt=(0, 1, 2),
)


def c_add_tangent(ta, tb, a, b, ans):
    return np.sum(np.sin(rt.add_tangent((ta, tb), (a, b), ans)))


def c_add_tangent_lists(ta0, tb0, a, b, ans):
    out = rt.add_tangent(([ta0, 0.0], [tb0]), (a, b), ans)
    return np.sin(out[0]) * out[2] + out[1]


def c_add_tangent_t(v, a, b, ans):
    ta, tb = rt.add_tangent_transpose(v, (a, b), ans)
    return np.sum(np.sin(ta)) + np.sum(tb**2)


A23, B3 = normal(2, 3), normal(3)
check(
    "add_tangent",
    rt.add_tangent,
    c_add_tangent,
    normal(2, 3),
    normal(3),
    A23,
    B3,
    A23 + B3,
    wrt=(0, 1, 2, 3),
)
check(
    "add_tangent lists",
    rt.add_tangent,
    c_add_tangent_lists,
    0.4,
    -0.7,
    [1.0, 2.0],
    [3.0],
    [1.0, 2.0, 3.0],
    wrt=(0, 1),
)
check(
    "add_tangent_transpose",
    rt.add_tangent_transpose,
    c_add_tangent_t,
    normal(2, 3),
    A23,
    B3,
    A23 + B3,
    wrt=(0, 1, 2),
)


def c_mul_tangent(t, other, ans):
    return np.sum(np.sin(rt.mul_tangent(t, other, ans)))


def c_mul_tangent_list(t0, t1):
    out = rt.mul_tangent([t0, t1], 2, [1.0, 2.0, 1.0, 2.0])
    return np.sin(out[0]) * out[3] + out[2]


check(
    "mul_tangent",
    rt.mul_tangent,
    c_mul_tangent,
    normal(3),
    normal(2, 3),
    A23,
    wrt=(0, 1, 2),
)
check(
    "mul_tangent scalar",
    rt.mul_tangent,
    c_mul_tangent,
    0.5,
    normal(2, 3),
    A23,
    wrt=(0, 1, 2),
)
check("mul_tangent list", rt.mul_tangent, c_mul_tangent_list, 0.3, 0.9, wrt=(0, 1))


def c_select_tangent(t, ans):
    return np.sum(np.sin(rt.select_tangent(t, COND, ans)))


check(
    "select_tangent", rt.select_tangent, c_select_tangent, normal(2, 3), A23, wrt=(0, 1)
)
check(
    "select_tangent broadcast",
    rt.select_tangent,
    c_select_tangent,
    normal(3),
    A23,
    wrt=(0, 1),
)


def c_max_tangent(t, a, ans, axis, keepdims):
    return np.sum(np.sin(rt.max_tangent(t, a, ans, axis, keepdims)))


def c_prod_tangent(t, a, axis, keepdims, where):
    return np.sum(np.sin(rt.prod_tangent(t, a, axis, keepdims, where)))


def c_var_tangent(t, a, axis, ddof, keepdims):
    return np.sum(np.sin(rt.var_tangent(t, a, axis, ddof, keepdims)))


def c_var_tangent_correction(t, a, axis, correction):
    return np.sum(np.sin(rt.var_tangent(t, a, axis, 0, False, correction)))


def c_std_tangent(t, a, ans, axis, ddof, keepdims):
    return np.sum(np.sin(rt.std_tangent(t, a, ans, axis, ddof, keepdims)))


def c_norm_tangent(t, x, ans, ord, axis, keepdims):
    return np.sum(np.sin(rt.norm_tangent(t, x, ans, ord, axis, keepdims)))


for i, (axis, keepdims, where, _) in enumerate(REDUCTIONS):
    if where is True:
        ans = np.max(T, axis=axis, keepdims=keepdims)
        check(
            f"max_tangent[{i}]",
            rt.max_tangent,
            c_max_tangent,
            normal(2, 3, 4),
            T,
            ans,
            axis,
            keepdims,
        )
    check(
        f"prod_tangent[{i}]",
        rt.prod_tangent,
        c_prod_tangent,
        normal(2, 3, 4),
        A_WITH_ZERO,
        axis,
        keepdims,
        where,
        wrt=(0, 1),
    )
for i, (axis, ddof, keepdims) in enumerate(
    [(None, 0, False), (1, 1, False), ((0, 2), 0, True)]
):
    std = np.std(T, axis=axis, ddof=ddof, keepdims=keepdims)
    check(
        f"var_tangent[{i}]",
        rt.var_tangent,
        c_var_tangent,
        normal(2, 3, 4),
        T,
        axis,
        ddof,
        keepdims,
        wrt=(0, 1),
    )
    check(
        f"std_tangent[{i}]",
        rt.std_tangent,
        c_std_tangent,
        normal(2, 3, 4),
        T,
        std,
        axis,
        ddof,
        keepdims,
        wrt=(0, 1, 2),
    )
check(
    "var_tangent correction",
    rt.var_tangent,
    c_var_tangent_correction,
    normal(2, 3, 4),
    T,
    2,
    1,
    wrt=(0, 1),
)
check(
    "prod_tangent scalar",
    rt.prod_tangent,
    c_prod_tangent,
    0.4,
    1.3,
    None,
    False,
    True,
    wrt=(0, 1),
)
for i, (ord, axis, keepdims, smooth) in enumerate(NORMS):
    x = NX.ravel() if ord == 1.5 else NX
    ans = np.linalg.norm(x, ord, axis, keepdims)
    check(
        f"norm_tangent[{i}]",
        rt.norm_tangent,
        c_norm_tangent,
        normal(*np.shape(x)),
        x,
        ans,
        ord,
        axis,
        keepdims,
        wrt=(0, 1, 2) if smooth else (0,),
    )


def c_sum_tangent(t0, t1, a, b, ans):
    return np.sum(np.sin(rt.sum_tangent([t0, t1], [a, b], ans)))


def c_sum_tangent_array(t, items, ans):
    return np.sum(np.sin(rt.sum_tangent(t, items, ans)))


check(
    "sum_tangent",
    rt.sum_tangent,
    c_sum_tangent,
    normal(3),
    normal(2, 3),
    B3,
    A23,
    A23 + B3,
    wrt=(0, 1, 2, 3),
)
check(
    "sum_tangent array",
    rt.sum_tangent,
    c_sum_tangent_array,
    normal(4, 3),
    normal(4, 3),
    normal(3),
    wrt=(0, 1),
)


def c_extreme_tangent(t0, t1, t2, ans, a, b, c):
    return np.sin(rt.extreme_tangent((t0, t1, t2), ans, (a, b, c)))


def c_extreme_tangent_list(t, ans, items):
    return np.sin(rt.extreme_tangent((t,), ans, (items,)))


def c_default_tangent(t, items):
    return np.sin(rt.default_tangent(t, (items,)))


check(
    "extreme_tangent",
    rt.extreme_tangent,
    c_extreme_tangent,
    0.4,
    -0.3,
    0.8,
    1.2,
    0.3,
    1.2,
    -0.5,
    wrt=(0, 1, 2),
)
check(
    "extreme_tangent list",
    rt.extreme_tangent,
    c_extreme_tangent_list,
    [0.4, -0.3, 0.8],
    1.2,
    [0.3, 1.2, -0.5],
)
check("default_tangent", rt.default_tangent, c_default_tangent, 0.6, [])


def c_hypot_tangent(t0, t1, x, y, ans):
    return np.sin(rt.hypot_tangent((t0, t1), (x, y), ans))


check(
    "hypot_tangent",
    rt.hypot_tangent,
    c_hypot_tangent,
    0.4,
    -0.3,
    0.8,
    1.2,
    1.5,
    wrt=(0, 1, 2, 3, 4),
)


def c_full_tangent(t, ans):
    return np.sum(np.sin(rt.full_tangent(t, ans)))


check("full_tangent", rt.full_tangent, c_full_tangent, 0.7, A23, wrt=(0, 1))
check("full_tangent row", rt.full_tangent, c_full_tangent, normal(3), A23, wrt=(0, 1))


def c_linspace_tangent(t0, t1, ans, start, stop):
    return np.sum(np.sin(rt.linspace_tangent((t0, t1), ans, (start, stop), 5)))


def c_linspace_tangent_t(v, t0, t1, ans, start, stop):
    out = rt.linspace_tangent_transpose(v, (t0, t1), ans, (start, stop, 5))
    return np.sin(out[0]) * out[1]


check(
    "linspace_tangent",
    rt.linspace_tangent,
    c_linspace_tangent,
    0.3,
    -0.6,
    LS,
    0.5,
    2.0,
    wrt=(0, 1, 2, 3, 4),
)
check(
    "linspace_tangent_transpose",
    rt.linspace_tangent_transpose,
    c_linspace_tangent_t,
    normal(5),
    0.3,
    -0.6,
    LS,
    0.5,
    2.0,
    wrt=(0, 1, 2, 3),
)


def c_arange_tangent(t0, t2, ans, start, stop, step):
    return np.sum(np.sin(rt.arange_tangent((t0, 0.0, t2), (start, stop, step), ans)))


check(
    "arange_tangent",
    rt.arange_tangent,
    c_arange_tangent,
    0.3,
    -0.6,
    AR,
    0.5,
    3.0,
    0.6,
    wrt=(0, 1, 2),
)


def c_array_tangent(t, obj, ans):
    return np.sum(np.sin(rt.array_tangent(t, obj, ans)))


def c_array_tangent_list(t0, t1, x, y, ans):
    return np.sum(np.sin(rt.array_tangent([t0, t1], [x, y], ans)))


check(
    "array_tangent",
    rt.array_tangent,
    c_array_tangent,
    normal(2, 3),
    A23,
    A23,
    wrt=(0, 1, 2),
)
check(
    "array_tangent list",
    rt.array_tangent,
    c_array_tangent_list,
    0.3,
    -0.2,
    0.5,
    0.7,
    np.array([0.5, 0.7]),
    wrt=(0, 1, 2, 3),
)


def c_cast_tangent(t, ans):
    return np.sum(np.sin(rt.cast_tangent(t, ans)))


check("cast_tangent", rt.cast_tangent, c_cast_tangent, normal(2, 3), A23, wrt=(0, 1))


def c_linear_map_sum(t, x, axis, keepdims):
    return np.sum(np.sin(rt.linear_map(np.sum, t, x, axis=axis, keepdims=keepdims)))


def c_linear_map_mean(t, x):
    return np.sum(np.sin(rt.linear_map(np.mean, t, x, axis=0, where=True)))


def c_linear_map_list(t0, x0, x1):
    return np.sin(rt.linear_map(np.sum, [t0, 0.0], [x0, x1]))


def c_linear_map_stack(t0, t1, a, b, fn, axis):
    return np.sum(np.sin(rt.linear_map(fn, [t0, t1], [a, b], axis)))


def c_linear_map_vstack(t0, t1, a, b):
    return np.sum(np.sin(rt.linear_map(np.vstack, [t0, t1], [a, b])))


def c_linear_map_apply(t, x):
    return np.sum(np.sin(rt.linear_map_apply(np.sum, t, x, (), (1, None, True, None))))


def c_linear_map_t(v, t, x):
    return np.sum(np.sin(rt.linear_map_transpose(np.mean, v, t, x, (), (1,))))


check(
    "linear_map sum",
    rt.linear_map,
    c_linear_map_sum,
    normal(2, 3),
    A23,
    1,
    False,
    wrt=(0, 1),
)
check(
    "linear_map sum keepdims",
    rt.linear_map,
    c_linear_map_sum,
    normal(3),
    A23,
    0,
    True,
    wrt=(0, 1),
)
check(
    "linear_map mean", rt.linear_map, c_linear_map_mean, normal(2, 3), A23, wrt=(0, 1)
)
check(
    "linear_map list", rt.linear_map, c_linear_map_list, 0.4, 0.5, -0.3, wrt=(0, 1, 2)
)
for fn in (np.stack, np.concatenate):
    check(
        f"linear_map {fn.__name__}",
        rt.linear_map,
        c_linear_map_stack,
        normal(2, 3),
        normal(3),
        A23,
        B3 * np.ones((2, 1)),
        fn,
        0,
        wrt=(0, 1, 2, 3),
    )
check(
    "linear_map vstack",
    rt.linear_map,
    c_linear_map_vstack,
    normal(2, 3),
    normal(3),
    A23,
    B3,
    wrt=(0, 1, 2, 3),
)
check(
    "linear_map_apply",
    rt.linear_map_apply,
    c_linear_map_apply,
    normal(2, 3),
    A23,
    wrt=(0, 1),
)
check(
    "linear_map_transpose",
    rt.linear_map_transpose,
    c_linear_map_t,
    normal(2),
    normal(2, 3),
    A23,
    wrt=(0, 1, 2),
)

# == structural adjoints of NumPy functions ============================================


def c_apply_adjoint(g, ans, fn, a1, a2):
    return np.sum(np.sin(rt.apply_adjoint(fn, g, ans, a1, a2)) * W234)


def c_apply_adjoint_flip_axis(g, ans, axis):
    return np.sum(np.sin(rt.apply_adjoint(np.flip, g, ans, axis)) * W234)


def c_apply_adjoint_flip(g, ans):
    return np.sum(np.sin(rt.apply_adjoint(np.fliplr, g, ans)) * W234[0])


def c_apply_adjoint_call(g, ans):
    return np.sum(np.sin(rt.apply_adjoint_call(np.roll, g, ans, (-1, 2))) * W234)


def c_apply_adjoint_t(v, g, ans, fn, a1, a2):
    return np.sum(np.sin(rt.apply_adjoint_transpose(fn, v, g, ans, (a1, a2))))


# (fn, the primal's arguments, the arguments apply_adjoint gets to undo it)
REARRANGEMENTS = [
    (np.swapaxes, (0, 2), (0, 2)),
    (np.moveaxis, (0, 2), (2, 0)),
    (np.roll, (1, 1), (-1, 1)),
    (np.rot90, (1, (1, 2)), (-1, (1, 2))),
]
for fn, primal, undo in REARRANGEMENTS:
    ans = fn(W234, *primal)
    g = normal(*ans.shape)
    name = fn.__name__
    check(
        f"apply_adjoint {name}",
        rt.apply_adjoint,
        c_apply_adjoint,
        g,
        ans,
        fn,
        *undo,
        wrt=(0, 1),
    )
    check(
        f"apply_adjoint_transpose {name}",
        rt.apply_adjoint_transpose,
        c_apply_adjoint_t,
        normal(2, 3, 4),
        g,
        ans,
        fn,
        *undo,
        wrt=(0, 1, 2),
    )
check(
    "apply_adjoint flip",
    rt.apply_adjoint,
    c_apply_adjoint_flip_axis,
    normal(2, 3, 4),
    np.flip(W234, (0, 2)),
    (0, 2),
    wrt=(0, 1),
)
check(
    "apply_adjoint fliplr",
    rt.apply_adjoint,
    c_apply_adjoint_flip,
    normal(3, 4),
    normal(3, 4),
    wrt=(0, 1),
)
check(
    "apply_adjoint_call",
    rt.apply_adjoint_call,
    c_apply_adjoint_call,
    normal(2, 3, 4),
    normal(2, 3, 4),
    wrt=(0, 1),
)


def c_broadcast_to_adjoint(g, array, ans):
    return np.sum(np.sin(rt.broadcast_to_adjoint(g, array, ans)))


check(
    "broadcast_to_adjoint",
    rt.broadcast_to_adjoint,
    c_broadcast_to_adjoint,
    normal(2, 3),
    B3,
    A23,
    wrt=(0, 1, 2),
)
check(
    "broadcast_to_adjoint scalar",
    rt.broadcast_to_adjoint,
    c_broadcast_to_adjoint,
    normal(2, 3),
    0.5,
    A23,
    wrt=(0, 1, 2),
)


def c_tri_adjoint(g, m, ans, k, lower):
    return np.sum(np.sin(rt.tri_adjoint(g, m, ans, k, lower)))


SQ = normal(3, 3)
for k, lower in [(0, False), (1, True), (-1, False)]:
    check(
        f"tri_adjoint {k} {lower}",
        rt.tri_adjoint,
        c_tri_adjoint,
        normal(3, 3),
        SQ,
        SQ,
        k,
        lower,
        wrt=(0, 1, 2),
    )
check(
    "tri_adjoint row",
    rt.tri_adjoint,
    c_tri_adjoint,
    normal(3, 3),
    normal(3),
    SQ,
    0,
    False,
    wrt=(0, 1, 2),
)


def c_tile_adjoint(g, A, reps, ans):
    return np.sum(np.sin(rt.tile_adjoint(g, A, reps, ans)))


def c_repeat_adjoint(g, a, repeats, ans, axis):
    return np.sum(np.sin(rt.repeat_adjoint(g, a, repeats, ans, axis)))


def c_take_adjoint(g, a, indices, ans, axis, mode):
    return np.sum(np.sin(rt.take_adjoint(g, a, indices, ans, axis, mode)))


check(
    "tile_adjoint",
    rt.tile_adjoint,
    c_tile_adjoint,
    normal(4, 9),
    A23,
    (2, 3),
    np.tile(A23, (2, 3)),
    wrt=(0, 1, 3),
)
check(
    "tile_adjoint scalar",
    rt.tile_adjoint,
    c_tile_adjoint,
    normal(3),
    0.5,
    3,
    np.tile(0.5, 3),
    wrt=(0, 1, 3),
)
check(
    "repeat_adjoint",
    rt.repeat_adjoint,
    c_repeat_adjoint,
    normal(6),
    A23,
    1,
    np.repeat(A23, 1),
    None,
    wrt=(0, 1, 3),
)
check(
    "repeat_adjoint axis",
    rt.repeat_adjoint,
    c_repeat_adjoint,
    normal(2, 5),
    A23,
    [1, 2, 2],
    np.repeat(A23, [1, 2, 2], 1),
    1,
    wrt=(0, 1, 3),
)
IDX = np.array([[0, 2], [2, 1]])
check(
    "take_adjoint",
    rt.take_adjoint,
    c_take_adjoint,
    normal(2, 2),
    A23,
    IDX,
    np.take(A23, IDX),
    None,
    "raise",
    wrt=(0, 1, 3),
)
check(
    "take_adjoint axis",
    rt.take_adjoint,
    c_take_adjoint,
    normal(2, 2, 2),
    A23,
    IDX,
    np.take(A23, IDX, 1),
    1,
    "wrap",
    wrt=(0, 1, 3),
)


def c_sort_adjoint(g, a, ans, axis):
    return np.sum(np.sin(rt.sort_adjoint(g, a, ans, axis)))


def c_sort_tangent(t, a, axis):
    return np.sum(np.sin(rt.sort_tangent(t, a, axis)) * np.arange(6.0).reshape(2, 3))


def c_sort_tangent_flat(t, a, axis):
    return np.sum(np.sin(rt.sort_tangent(t, a, axis)) * np.arange(6.0))


DA = distinct(2, 3)
check(
    "sort_adjoint", rt.sort_adjoint, c_sort_adjoint, normal(2, 3), DA, np.sort(DA), -1
)
check(
    "sort_adjoint axis 0",
    rt.sort_adjoint,
    c_sort_adjoint,
    normal(2, 3),
    DA,
    np.sort(DA, 0),
    0,
)
check(
    "sort_adjoint flat",
    rt.sort_adjoint,
    c_sort_adjoint,
    normal(6),
    DA,
    np.sort(DA, None),
    None,
)
check("sort_tangent", rt.sort_tangent, c_sort_tangent, normal(2, 3), DA, -1)
check("sort_tangent flat", rt.sort_tangent, c_sort_tangent_flat, normal(2, 3), DA, None)


def c_pad_adjoint(g, array, pad_width, mode):
    return np.sum(np.sin(rt.pad_adjoint(g, array, pad_width, mode)))


def c_pad_tangent(t, array, pad_width, mode):
    return np.sum(np.sin(rt.pad_tangent(t, array, pad_width, mode)))


def c_pad_constant_adjoint(g, array, pad_width, constant):
    return np.sin(rt.pad_constant_adjoint(g, array, pad_width, constant))


def c_pad_constant_tangent(t, array, pad_width, ans):
    return np.sum(np.sin(rt.pad_constant_tangent(t, array, pad_width, ans)))


for mode in ("constant", "edge", "reflect", "wrap"):
    padded = np.pad(A23, ((1, 0), (2, 1)), mode=mode)
    check(
        f"pad_adjoint {mode}",
        rt.pad_adjoint,
        c_pad_adjoint,
        normal(*padded.shape),
        A23,
        ((1, 0), (2, 1)),
        mode,
        wrt=(0, 1),
    )
    check(
        f"pad_tangent {mode}",
        rt.pad_tangent,
        c_pad_tangent,
        normal(2, 3),
        A23,
        ((1, 0), (2, 1)),
        mode,
        wrt=(0, 1),
    )
check(
    "pad_constant_adjoint",
    rt.pad_constant_adjoint,
    c_pad_constant_adjoint,
    normal(3, 6),
    A23,
    ((1, 0), (2, 1)),
    0.5,
    wrt=(0, 1, 3),
)
check(
    "pad_constant_tangent",
    rt.pad_constant_tangent,
    c_pad_constant_tangent,
    0.7,
    A23,
    ((1, 0), (2, 1)),
    np.pad(A23, ((1, 0), (2, 1))),
    wrt=(0, 1),
)


def c_split_adjoint(g0, g1, pieces, axis):
    return np.sum(np.sin(rt.split_adjoint([g0, g1], pieces, axis)))


def c_stacked_adjoint(g, a, b, ans, kind):
    parts_ = rt.stacked_adjoint(g, [a, b], ans, kind)
    return np.sum(np.sin(parts_[0])) + np.sum(parts_[1] ** 2)


def c_stacked_adjoint_t(v0, v1, g, a, b, ans, kind):
    return np.sum(np.sin(rt.stacked_adjoint_transpose([v0, v1], g, [a, b], ans, kind)))


PIECES = np.split(normal(2, 4), [1], axis=1)
check(
    "split_adjoint",
    rt.split_adjoint,
    c_split_adjoint,
    normal(2, 1),
    normal(2, 3),
    PIECES,
    1,
    wrt=(0, 1, 2),
)
for kind in ("vstack", "hstack", "dstack", "column_stack"):
    a, b = normal(3), normal(3)
    ans = getattr(np, kind)([a, b])
    check(
        f"stacked_adjoint {kind}",
        rt.stacked_adjoint,
        c_stacked_adjoint,
        normal(*ans.shape),
        a,
        b,
        ans,
        kind,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"stacked_adjoint_transpose {kind}",
        rt.stacked_adjoint_transpose,
        c_stacked_adjoint_t,
        normal(3),
        normal(3),
        normal(*ans.shape),
        a,
        b,
        ans,
        kind,
        wrt=(0, 1, 2, 3, 4, 5),
    )


def c_atleast_adjoint(g, x):
    return np.sum(np.sin(rt.atleast_adjoint(g, (x,))[0]))


def c_atleast_adjoint_two(g0, g1, x, y):
    out = rt.atleast_adjoint([g0, g1], (x, y))
    return np.sin(out[0]) * np.sum(out[1])


def c_atleast_adjoint_t(v, g, x):
    return np.sum(np.sin(rt.atleast_adjoint_transpose((v,), g, (x,))))


def c_atleast_tangent(t, x, ans):
    return np.sum(np.sin(rt.atleast_tangent(np.atleast_2d, (t,), (x,), ans)))


def c_atleast_tangent_two(t0, t1, x, y, ans):
    out = rt.atleast_tangent(np.atleast_1d, (t0, t1), (x, y), ans)
    return np.sum(np.sin(out[0])) * np.sum(out[1])


check(
    "atleast_adjoint",
    rt.atleast_adjoint,
    c_atleast_adjoint,
    normal(1, 3),
    B3,
    wrt=(0, 1),
)
check(
    "atleast_adjoint two",
    rt.atleast_adjoint,
    c_atleast_adjoint_two,
    normal(1),
    normal(3),
    0.5,
    B3,
    wrt=(0, 1, 2, 3),
)
check(
    "atleast_adjoint_transpose",
    rt.atleast_adjoint_transpose,
    c_atleast_adjoint_t,
    normal(3),
    normal(1, 3),
    B3,
    wrt=(0, 1, 2),
)
check(
    "atleast_tangent",
    rt.atleast_tangent,
    c_atleast_tangent,
    normal(3),
    B3,
    np.atleast_2d(B3),
    wrt=(0, 1, 2),
)
check(
    "atleast_tangent two",
    rt.atleast_tangent,
    c_atleast_tangent_two,
    0.4,
    normal(3),
    0.5,
    B3,
    [np.atleast_1d(0.5), B3],
    wrt=(0, 1, 2, 3),
)


def c_broadcast_arrays_adjoint(g0, g1, a, b, ans):
    out = rt.broadcast_arrays_adjoint([g0, g1], (a, b), ans)
    return np.sum(np.sin(out[0])) * np.sum(out[1])


def c_broadcast_arrays_tangent(t0, t1, a, b, ans):
    out = rt.broadcast_arrays_tangent((t0, t1), (a, b), ans)
    return np.sum(np.sin(out[0])) + np.sum(out[1] ** 2)


BA = np.broadcast_arrays(A23, B3)
check(
    "broadcast_arrays_adjoint",
    rt.broadcast_arrays_adjoint,
    c_broadcast_arrays_adjoint,
    normal(2, 3),
    normal(2, 3),
    A23,
    B3,
    BA,
    wrt=(0, 1, 2, 3),
)
check(
    "broadcast_arrays_tangent",
    rt.broadcast_arrays_tangent,
    c_broadcast_arrays_tangent,
    normal(2, 3),
    normal(3),
    A23,
    B3,
    BA,
    wrt=(0, 1, 2, 3),
)


def c_meshgrid_adjoint(g0, g1, x, y, ans, indexing):
    out = rt.meshgrid_adjoint([g0, g1], (x, y), ans, indexing)
    return np.sum(np.sin(out[0])) * np.sum(out[1])


def c_meshgrid_tangent(t0, t1, x, y, ans, indexing):
    out = rt.meshgrid_tangent((t0, t1), (x, y), ans, indexing)
    return np.sum(np.sin(out[0])) + np.sum(out[1] ** 2)


for indexing in ("xy", "ij"):
    mx, my = normal(3), normal(2)
    grids = np.meshgrid(mx, my, indexing=indexing)
    check(
        f"meshgrid_adjoint {indexing}",
        rt.meshgrid_adjoint,
        c_meshgrid_adjoint,
        normal(*grids[0].shape),
        normal(*grids[1].shape),
        mx,
        my,
        grids,
        indexing,
        wrt=(0, 1, 2, 3),
    )
    check(
        f"meshgrid_tangent {indexing}",
        rt.meshgrid_tangent,
        c_meshgrid_tangent,
        normal(3),
        normal(2),
        mx,
        my,
        grids,
        indexing,
        wrt=(0, 1, 2, 3),
    )


def c_item_adjoint(g, x, args):
    return np.sum(np.sin(rt.item_adjoint(g, x, args)))


def c_item_adjoint_t(v, g, x, args):
    return np.sin(rt.item_adjoint_transpose(v, g, x, args))


for args in [(), (4,), ((1, 2),), (1, 2)]:
    check(
        f"item_adjoint {args}",
        rt.item_adjoint,
        c_item_adjoint,
        0.7,
        A23,
        args,
        wrt=(0, 1),
    )
    check(
        f"item_adjoint_transpose {args}",
        rt.item_adjoint_transpose,
        c_item_adjoint_t,
        normal(2, 3),
        0.7,
        A23,
        args,
        wrt=(0, 1, 2),
    )
check("item_adjoint scalar", rt.item_adjoint, c_item_adjoint, 0.7, 1.5, (), wrt=(0, 1))


def c_diagonal_adjoint(g, a, offset, axis1, axis2, trace):
    return np.sum(np.sin(rt.diagonal_adjoint(g, a, offset, axis1, axis2, trace)))


def c_diag_adjoint(g, v, k):
    return np.sum(np.sin(rt.diag_adjoint(g, v, k)))


for offset in (0, 1, -1):
    check(
        f"diagonal_adjoint {offset}",
        rt.diagonal_adjoint,
        c_diagonal_adjoint,
        normal(*np.diagonal(W234, offset, 0, 2).shape),
        W234,
        offset,
        0,
        2,
        False,
        wrt=(0, 1),
    )
check(
    "diagonal_adjoint trace",
    rt.diagonal_adjoint,
    c_diagonal_adjoint,
    normal(3),
    W234,
    1,
    0,
    2,
    True,
    wrt=(0, 1),
)
check(
    "diag_adjoint vector",
    rt.diag_adjoint,
    c_diag_adjoint,
    normal(3),
    normal(4, 4),
    1,
    wrt=(0, 1),
)
check(
    "diag_adjoint matrix",
    rt.diag_adjoint,
    c_diag_adjoint,
    normal(4, 4),
    normal(3),
    -1,
    wrt=(0, 1),
)

# == inner, vdot, tensordot, kron ======================================================


def c_product_adjoint(fn, g, a, b, which):
    return np.sum(np.sin(fn(g, a, b, which)))


def c_tensordot_adjoint(g, a, b, axes, which):
    return np.sum(np.sin(rt.tensordot_adjoint(g, a, b, axes, which)))


def c_product_g(fn, g, a, b):
    return np.sum(np.sin(fn(g, a, b)))


def c_tensordot_g(g, a, b, axes):
    return np.sum(np.sin(rt.tensordot_adjoint_g(g, a, b, axes)))


def c_inner(g, a, b, which):
    return np.sum(np.sin(rt.inner_adjoint(g, a, b, which)))


def c_vdot(g, a, b, which):
    return np.sum(np.sin(rt.vdot_adjoint(g, a, b, which)))


def c_kron(g, a, b, which):
    return np.sum(np.sin(rt.kron_adjoint(g, a, b, which)))


def c_inner_g(g, a, b):
    return np.sum(np.sin(rt.inner_adjoint_g(g, a, b)))


def c_vdot_g(g, a, b):
    return np.sum(np.sin(rt.vdot_adjoint_g(g, a, b)))


def c_kron_g(g, a, b):
    return np.sum(np.sin(rt.kron_adjoint_g(g, a, b)))


PRODUCTS = [
    (
        "inner",
        np.inner,
        c_inner,
        c_inner_g,
        rt.inner_adjoint,
        rt.inner_adjoint_g,
        [(normal(2, 3), normal(4, 3)), (normal(3), normal(3)), (0.6, normal(2))],
    ),
    (
        "vdot",
        np.vdot,
        c_vdot,
        c_vdot_g,
        rt.vdot_adjoint,
        rt.vdot_adjoint_g,
        [(normal(2, 3), normal(3, 2)), (normal(4), normal(4))],
    ),
    (
        "kron",
        np.kron,
        c_kron,
        c_kron_g,
        rt.kron_adjoint,
        rt.kron_adjoint_g,
        [(normal(2, 2), normal(3, 2)), (normal(2), normal(3, 1))],
    ),
]
for name, op, func, func_g, helper, helper_g, pairs in PRODUCTS:
    for i, (a, b) in enumerate(pairs):
        res = op(a, b)
        g = normal(*np.shape(res)) if np.ndim(res) else 0.6
        for which in (0, 1):
            check(
                f"{name}_adjoint[{i}, {which}]",
                helper,
                func,
                g,
                a,
                b,
                which,
                wrt=(0, 1, 2),
            )
        check(f"{name}_adjoint_g[{i}]", helper_g, func_g, g, a, b, wrt=(0, 1, 2))
for i, (a, b, axes) in enumerate(
    [(normal(2, 3, 4), normal(3, 4, 2), 2), (normal(3, 2), normal(4, 3), ([0], [1]))]
):
    g = normal(*np.shape(np.tensordot(a, b, axes)))
    for which in (0, 1):
        check(
            f"tensordot_adjoint[{i}, {which}]",
            rt.tensordot_adjoint,
            c_tensordot_adjoint,
            g,
            a,
            b,
            axes,
            which,
            wrt=(0, 1, 2),
        )
    check(
        f"tensordot_adjoint_g[{i}]",
        rt.tensordot_adjoint_g,
        c_tensordot_g,
        g,
        a,
        b,
        axes,
        wrt=(0, 1, 2),
    )


def c_xlogy_dy(x, y):
    return np.sum(np.sin(rt.xlogy_dy(x, y)))


def c_sinc_derivative(x):
    return np.sum(np.sin(rt.sinc_derivative(x)))


def c_sinc_derivative_n(x, n):
    return np.sum(np.sin(rt.sinc_derivative(x, n)))


check("xlogy_dy", rt.xlogy_dy, c_xlogy_dy, normal(2, 3), positive(3), wrt=(0, 1))
check(
    "xlogy_dy at 0",
    rt.xlogy_dy,
    c_xlogy_dy,
    np.array([0.0, 0.5]),
    positive(2),
    wrt=(1,),
)
check("sinc_derivative", rt.sinc_derivative, c_sinc_derivative, normal(2, 3))
near_zero = np.array([0.0, 1e-3, -0.3, 0.99, 1.2, -2.5])
for n in (1, 2, 5):
    check(
        f"sinc_derivative n={n}",
        rt.sinc_derivative,
        c_sinc_derivative_n,
        near_zero,
        n,
    )


# == softmax, logsumexp, linear algebra, einsum ======================================


def c_softmax_tangent(t, ans, axis, log):
    return np.sum(np.sin(rt.softmax_tangent(t, ans, axis, log)))


def c_softmax_adjoint(g, ans, axis, log):
    return np.sum(np.sin(rt.softmax_adjoint(g, ans, axis, log)))


SM = np.exp(A23) / np.sum(np.exp(A23), axis=1, keepdims=True)
for log in (False, True):
    ans = np.log(SM) if log else SM
    for axis in (1, None):
        check(
            f"softmax_tangent log={log} axis={axis}",
            rt.softmax_tangent,
            c_softmax_tangent,
            normal(2, 3),
            ans,
            axis,
            log,
            wrt=(0, 1),
        )
        check(
            f"softmax_adjoint log={log} axis={axis}",
            rt.softmax_adjoint,
            c_softmax_adjoint,
            normal(2, 3),
            ans,
            axis,
            log,
            wrt=(0, 1),
        )


def c_lse_adjoint(g, a, ans, b, axis, keepdims, which):
    return np.sum(np.sin(rt.logsumexp_adjoint(g, a, ans, axis, b, keepdims, which)))


def c_lse_tangent(t, a, ans, b, axis, keepdims, which):
    return np.sum(np.sin(rt.logsumexp_tangent(t, a, ans, axis, b, keepdims, which)))


LB = positive(2, 3)
for axis, keepdims in [(1, False), (None, False), (0, True)]:
    for b in (None, LB):
        ans = np.log(
            np.sum(
                np.exp(A23) * (1.0 if b is None else b), axis=axis, keepdims=keepdims
            )
        )
        g = normal(*np.shape(ans)) if np.ndim(ans) else 0.6
        label = f"axis={axis} keepdims={keepdims} b={b is not None}"
        for which in (0, 1) if b is not None else (0,):
            t = normal(2, 3)
            wrt = (0, 1, 2, 3) if b is not None else (0, 1, 2)
            check(
                f"logsumexp_adjoint {label} which={which}",
                rt.logsumexp_adjoint,
                c_lse_adjoint,
                g,
                A23,
                ans,
                b,
                axis,
                keepdims,
                which,
                wrt=wrt,
            )
            check(
                f"logsumexp_tangent {label} which={which}",
                rt.logsumexp_tangent,
                c_lse_tangent,
                t,
                A23,
                ans,
                b,
                axis,
                keepdims,
                which,
                wrt=wrt,
            )

SPD = normal(3, 3) + 3.0 * np.eye(3)
SPD_STACK = normal(2, 3, 3) + 3.0 * np.eye(3)


def c_inv_tangent(t, ans):
    return np.sum(np.sin(rt.inv_tangent(t, ans)))


def c_inv_adjoint(g, ans):
    return np.sum(np.sin(rt.inv_adjoint(g, ans)))


for label, m in (("", SPD), (" stack", SPD_STACK)):
    inv = np.linalg.inv(m)
    check(
        f"inv_tangent{label}",
        rt.inv_tangent,
        c_inv_tangent,
        normal(*m.shape),
        inv,
        wrt=(0, 1),
    )
    check(
        f"inv_adjoint{label}",
        rt.inv_adjoint,
        c_inv_adjoint,
        normal(*m.shape),
        inv,
        wrt=(0, 1),
    )


def c_det_adjoint(g, a, ans):
    return np.sum(np.sin(rt.det_adjoint(g, a, ans)))


def c_det_tangent(t, a, ans):
    return np.sum(np.sin(rt.det_tangent(t, a, ans)))


def c_slogdet_adjoint(g0, g1, a):
    return np.sum(np.sin(rt.slogdet_adjoint((g0, g1), a)))


def c_slogdet_tangent(t, a, ans):
    out = rt.slogdet_tangent(t, a, ans)
    return np.sum(np.sin(out[1]))


for label, m in (("", SPD), (" stack", SPD_STACK)):
    det = np.linalg.det(m)
    g = normal(*det.shape) if det.ndim else 0.4
    check(
        f"det_adjoint{label}", rt.det_adjoint, c_det_adjoint, g, m, det, wrt=(0, 1, 2)
    )
    check(
        f"det_tangent{label}",
        rt.det_tangent,
        c_det_tangent,
        normal(*m.shape),
        m,
        det,
        wrt=(0, 1, 2),
    )
    check(
        f"slogdet_adjoint{label}",
        rt.slogdet_adjoint,
        c_slogdet_adjoint,
        g,
        g * 0.5,
        m,
        wrt=(1, 2),
    )
    check(
        f"slogdet_tangent{label}",
        rt.slogdet_tangent,
        c_slogdet_tangent,
        normal(*m.shape),
        m,
        np.linalg.slogdet(m),
        wrt=(0, 1),
    )


def c_solve_tangent(t, a, b, x, which):
    return np.sum(np.sin(rt.solve_tangent(t, a, b, x, which)))


def c_solve_adjoint(g, a, b, x, which):
    return np.sum(np.sin(rt.solve_adjoint(g, a, b, x, which)))


for label, b in (("vector", normal(3)), ("matrix", normal(3, 2))):
    x = np.linalg.solve(SPD, b)
    for which in (0, 1):
        t = normal(3, 3) if which == 0 else normal(*b.shape)
        check(
            f"solve_tangent {label} which={which}",
            rt.solve_tangent,
            c_solve_tangent,
            t,
            SPD,
            b,
            x,
            which,
            wrt=(0, 1, 2, 3),
        )
        check(
            f"solve_adjoint {label} which={which}",
            rt.solve_adjoint,
            c_solve_adjoint,
            normal(*x.shape),
            SPD,
            b,
            x,
            which,
            wrt=(0, 1, 2, 3),
        )


def c_einsum_tangent(t0, t1, a, b):
    return np.sum(np.sin(rt.einsum_tangent("ij,jk->ik", (a, b), (t0, t1))))


def c_einsum_tangent3(t0, t2, u, m, v):
    return np.sin(rt.einsum_tangent("i,ij,j->", (u, m, v), (t0, 0.0, t2)))


def c_einsum_adjoint(g, ans, a, b):
    parts_ = rt.einsum_adjoint(g, ans, "ij,jk->ik", (a, b))
    return np.sum(np.sin(parts_[0])) + np.sum(parts_[1] ** 2)


def c_einsum_adjoint3(g, ans, u, m, v):
    parts_ = rt.einsum_adjoint(g, ans, "i,ij,j->", (u, m, v))
    return np.sum(np.sin(parts_[0])) + np.sum(parts_[1] ** 2) + np.sum(parts_[2])


EA, EB = normal(2, 3), normal(3, 4)
check(
    "einsum_tangent",
    rt.einsum_tangent,
    c_einsum_tangent,
    normal(2, 3),
    normal(3, 4),
    EA,
    EB,
    wrt=(0, 1, 2, 3),
)
check(
    "einsum_tangent three",
    rt.einsum_tangent,
    c_einsum_tangent3,
    normal(2),
    normal(3),
    normal(2),
    normal(2, 3),
    normal(3),
    wrt=(0, 1, 2, 3, 4),
)
check(
    "einsum_adjoint",
    rt.einsum_adjoint,
    c_einsum_adjoint,
    normal(2, 4),
    EA @ EB,
    EA,
    EB,
    wrt=(0, 1, 2, 3),
)
check(
    "einsum_adjoint three",
    rt.einsum_adjoint,
    c_einsum_adjoint3,
    0.7,
    0.0,
    normal(2),
    normal(2, 3),
    normal(3),
    wrt=(0, 2, 3, 4),
)


# == append, diff, nansum, tolist, unstack, vecdot ====================================


def c_append_adjoint(g, arr, values, ans, axis, which):
    return np.sum(np.sin(rt.append_adjoint(g, arr, values, ans, axis, which)))


def c_append_tangent_part(t, arr, values, axis, which):
    return np.sum(np.sin(rt.append_tangent_part(t, arr, values, axis, which)))


for axis in (0, None):
    ap = np.append(A23, normal(1, 3), axis)
    for which in (0, 1):
        part = A23 if which == 0 else normal(1, 3)
        check(
            f"append_adjoint axis={axis} which={which}",
            rt.append_adjoint,
            c_append_adjoint,
            normal(*ap.shape),
            A23,
            normal(1, 3),
            ap,
            axis,
            which,
            wrt=(0, 1, 2, 3),
        )
        check(
            f"append_tangent_part axis={axis} which={which}",
            rt.append_tangent_part,
            c_append_tangent_part,
            normal(*part.shape),
            A23,
            normal(1, 3),
            axis,
            which,
            wrt=(0, 1, 2),
        )


def c_diff_adjoint(g, a, ans, n, axis):
    return np.sum(np.sin(rt.diff_adjoint(g, a, ans, n, axis)))


for n, axis in [(1, -1), (2, 0), (2, 1)]:
    df = np.diff(normal(4, 5), n, axis)
    check(
        f"diff_adjoint n={n} axis={axis}",
        rt.diff_adjoint,
        c_diff_adjoint,
        normal(*df.shape),
        normal(4, 5),
        df,
        n,
        axis,
        wrt=(0, 1, 2),
    )


NANS = A23.copy()
NANS[0, 1] = np.nan


def c_nansum_adjoint(g, axis, keepdims, mean):
    return np.sum(np.sin(rt.nansum_adjoint(g, NANS, axis, keepdims, mean)))


def c_nansum_tangent(t, ans, axis, keepdims, mean):
    return np.sum(np.sin(rt.nansum_tangent(t, NANS, ans, axis, keepdims, mean)))


for axis, keepdims in [(None, False), (1, False), (0, True)]:
    for mean in (False, True):
        ans = (np.nanmean if mean else np.nansum)(NANS, axis=axis, keepdims=keepdims)
        g = normal(*np.shape(ans)) if np.ndim(ans) else 0.6
        label = f"axis={axis} keepdims={keepdims} mean={mean}"
        check(
            f"nansum_adjoint {label}",
            rt.nansum_adjoint,
            c_nansum_adjoint,
            g,
            axis,
            keepdims,
            mean,
        )
        check(
            f"nansum_tangent {label}",
            rt.nansum_tangent,
            c_nansum_tangent,
            normal(2, 3),
            ans,
            axis,
            keepdims,
            mean,
            wrt=(0, 1),
        )


def c_tolist_adjoint(g0, g1, x):
    return np.sum(np.sin(rt.tolist_adjoint([g0, g1], x.tolist(), x)))


def c_unstack_adjoint(g0, g1, g2, x, axis):
    return np.sum(np.sin(rt.unstack_adjoint((g0, g1, g2), x, UNSTACKED, axis)))


check(
    "tolist_adjoint",
    rt.tolist_adjoint,
    c_tolist_adjoint,
    [0.3, 0.5],
    [0.1, -0.4],
    normal(2, 2),
    wrt=(0, 1, 2),
)
UNSTACKED = [normal(2), normal(2), normal(2)]
check(
    "unstack_adjoint",
    rt.unstack_adjoint,
    c_unstack_adjoint,
    normal(2),
    normal(2),
    normal(2),
    normal(2, 3),
    1,
    wrt=(0, 1, 2, 3),
)


def c_vecdot(g, x1, x2, axis, which):
    return np.sum(np.sin(rt.vecdot_adjoint(g, x1, x2, axis, which)))


def c_vecdot_g(g, x1, x2, axis):
    return np.sum(np.sin(rt.vecdot_adjoint_g(g, x1, x2, axis)))


for x1, x2, axis in [(normal(2, 3), normal(3), -1), (normal(3, 2), normal(3, 2), 0)]:
    g = normal(*np.sum(x1 * x2, axis=axis).shape)
    for which in (0, 1):
        check(
            f"vecdot_adjoint axis={axis} which={which}",
            rt.vecdot_adjoint,
            c_vecdot,
            g,
            x1,
            x2,
            axis,
            which,
            wrt=(0, 1, 2),
        )
    check(
        f"vecdot_adjoint_g axis={axis}",
        rt.vecdot_adjoint_g,
        c_vecdot_g,
        g,
        x1,
        x2,
        axis,
        wrt=(0, 1, 2),
    )


def c_broadcast_tangent(t, x, ans, factor):
    return np.sum(np.sin(rt.broadcast_tangent(t, x, ans, factor)))


def c_broadcast_tangent_list(t0, x, ans, factor):
    return np.sum(np.sin(rt.broadcast_tangent([t0, 0.0, 0.4], x, ans, factor)))


def c_broadcast_tangent_t(v, t, x, ans, factor):
    return np.sum(np.sin(rt.broadcast_tangent_t(v, t, x, ans, factor)))


def c_broadcast_tangent_factor(v, t, x, ans, factor):
    return np.sum(np.sin(rt.broadcast_tangent_factor(v, t, x, ans, factor)))


for label, t, x, factor in [
    ("row", normal(3), B3, normal(2, 3)),
    ("column", normal(2, 1), normal(2, 1), normal(3)),
    ("scalar", 0.4, 0.9, normal(2, 3)),
    ("no factor", normal(3), B3, None),
]:
    wrt = (0, 1, 2) if factor is None else (0, 1, 2, 3)
    check(
        f"broadcast_tangent {label}",
        rt.broadcast_tangent,
        c_broadcast_tangent,
        t,
        x,
        A23,
        factor,
        wrt=wrt,
    )
    check(
        f"broadcast_tangent_t {label}",
        rt.broadcast_tangent_t,
        c_broadcast_tangent_t,
        normal(2, 3),
        t,
        x,
        A23,
        factor,
        wrt=tuple(p + 1 for p in wrt) + (0,),
    )
    if factor is not None:
        check(
            f"broadcast_tangent_factor {label}",
            rt.broadcast_tangent_factor,
            c_broadcast_tangent_factor,
            normal(2, 3),
            t,
            x,
            A23,
            factor,
            wrt=(0, 1, 2, 3, 4),
        )
check(
    "broadcast_tangent list",
    rt.broadcast_tangent,
    c_broadcast_tangent_list,
    0.3,
    [1.0, 2.0, 3.0],
    A23,
    normal(2, 3),
    wrt=(0, 1, 3),
)


# == running the checks ============================================================


def _axpy(x: Any, h: float, t: Any) -> Any:
    """``x + h * t`` for argument trees (``t`` None: ``x`` unchanged)."""
    if t is None:
        return copy_tree(x)
    if isinstance(x, dict):
        return {k: _axpy(v, h, t[k]) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_axpy(v, h, e) for v, e in zip(x, t)]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, np.ndarray):
        return x + h * t
    return type(x)(x + h * t) if isinstance(x, np.floating) else float(x + h * t)


def _direction(x: Any, rng: np.random.Generator) -> Any:
    if isinstance(x, dict):
        return {k: _direction(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_direction(v, rng) for v in x]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


def _setup(case: Check) -> tuple[list[Any], list[Any]]:
    rng = np.random.default_rng(zlib.crc32(case.label.encode()))
    args = [to_float64(a) for a in case.args]
    tangents: list[Any] = [None] * len(args)
    for pos in case.wrt:
        tangents[pos] = _direction(args[pos], rng)
    return args, tangents


def _directional_fd(case: Check, args: list[Any], tangents: list[Any]) -> float:
    h = 1e-6
    plus = case.func(*[_axpy(a, h, t) for a, t in zip(args, tangents)])
    minus = case.func(*[_axpy(a, -h, t) for a, t in zip(args, tangents)])
    return float((plus - minus) / (2 * h))


@pytest.mark.parametrize("case", CHECKS, ids=[c.label for c in CHECKS])
def test_grad_matches_finite_differences(case: Check):
    args = [to_float64(a) for a in case.args]
    before = copy_tree(args)
    actual = grad(case.func, wrt=case.wrt)(*args)
    assert_tree_equal(args, before)
    expected = numerical_grad(case.func, args, wrt=case.wrt)
    assert_grad_close(actual, expected, rtol=case.rtol, atol=case.atol)
    assert_same_structure(actual, tuple(args[p] for p in case.wrt))


@pytest.mark.parametrize("case", CHECKS, ids=[c.label for c in CHECKS])
def test_jvp_matches_finite_differences(case: Check):
    args, tangents = _setup(case)
    before = copy_tree(args)
    value, tangent = jvp(case.func, args, tangents)
    assert_tree_equal(args, before)
    np.testing.assert_allclose(value, case.func(*copy_tree(args)), rtol=1e-12)
    expected = _directional_fd(case, args, tangents)
    np.testing.assert_allclose(
        float(tangent), expected, rtol=case.rtol, atol=case.atol * 10
    )


# == coverage ========================================================================

ROOT = Path(s2s_ad.__file__).parent

# Second derivatives only: helpers with neither a rule nor a restatement, so
# that a third transformation through them is refused by name.  None is left:
# those of einsum, prod, norm, std, solve and slogdet are restated in source
# (see FROM_SOURCE); sinc's derivatives are one helper whose rule calls it at
# the next order.
SECOND_DERIVATIVE_ONLY: set[str] = set()


# Differentiated from source: their adjoints and tangents are nonlinear in
# several arguments at once, so the compiler transforms a plain-NumPy
# restatement of each (s2s_ad/rules/runtime_sources.py) instead of a rule.
FROM_SOURCE = {
    f"{name}_{kind}"
    for name in ("cholesky", "eigh", "eigvalsh", "svd", "pinv", "qr", "cumprod")
    for kind in ("tangent", "adjoint")
} | {
    "average_adjoint",
    "average_tangent",
    "polyval_adjoint",
    "polyval_slope",
    "trapezoid_adjoint",
    "trapezoid_tangent",
    # Once second derivative only: restated in source for higher orders.
    "slogdet_tangent_jvp",
    "solve_x_partial",
    "solve_adjoint_partial",
    "norm_adjoint_partial",
    "std_adjoint_partial",
    "prod_adjoint_hvp",
    "einsum_adjoint_pairs",
    "einsum_tangent_pairs",
    "einsum_adjoint_jvp",
}
WITHOUT_RULES = SECOND_DERIVATIVE_ONLY | FROM_SOURCE


def _public_helpers() -> dict[str, Any]:
    return {
        name: obj
        for name, obj in vars(rt).items()
        if inspect.isfunction(obj)
        and obj.__module__ == rt.__name__
        and not name.startswith("_")
    }


def _referenced_helpers() -> set[str]:
    """Helpers named in the rule tables (``rt.name``) and by the compiler
    (``rt("name")``, or spelled out as an attribute in normalize.py and
    analysis.py)."""
    names: set[str] = set()
    for path in sorted((ROOT / "rules").glob("*.py")):
        names |= set(re.findall(r"\brt\.([A-Za-z_]\w*)", path.read_text()))
    for module in ("reverse", "forward", "program", "normalize", "api", "analysis"):
        text = (ROOT / f"{module}.py").read_text()
        names |= set(re.findall(r"""\brt\(\s*["']([A-Za-z_]\w*)["']""", text))
        names |= set(re.findall(r"""\(rt\),\s*["']([A-Za-z_]\w*)["']""", text))
    return {n for n in names if not n.startswith("_")}


def test_compiler_helpers_are_found():
    """The scan sees the helpers every generated function calls."""
    found = _referenced_helpers()
    assert {"acc", "add_at", "seed", "finalize", "check_not_aliased"} <= found
    assert "check_not_view" in found


def test_every_referenced_helper_has_a_rule():
    public = _public_helpers()
    referenced = _referenced_helpers()
    unknown = sorted(referenced - set(public))
    assert not unknown, f"rule tables name helpers runtime.py lacks: {unknown}"
    missing = sorted(
        name
        for name in referenced - WITHOUT_RULES
        if registry.lookup(public[name]) is None
    )
    assert not missing, f"helpers without a derivative rule: {missing}"


def test_every_public_helper_has_a_rule():
    """Stronger than the above: a new helper needs a rule even before a
    template uses it."""
    missing = sorted(
        name
        for name, fn in _public_helpers().items()
        if name not in WITHOUT_RULES and registry.lookup(fn) is None
    )
    assert not missing, f"public helpers without a derivative rule: {missing}"


def test_helpers_without_rules_are_refused():
    """They exist, and have no rule (so a transformation through them fails
    with a MissingRuleError naming them); one that gains a rule should leave
    the list."""
    for name in WITHOUT_RULES:
        assert registry.lookup(getattr(rt, name)) is None, name
    for name in SECOND_DERIVATIVE_ONLY:
        assert not hasattr(getattr(rt, name), "__s2s_function__"), name


def test_helpers_from_source_are_the_listed_ones():
    found = {
        name
        for name, fn in _public_helpers().items()
        if hasattr(fn, "__s2s_function__")
    }
    assert found == FROM_SOURCE


def _signature(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()
    ]


def test_definitions_take_their_helpers_arguments():
    for name in sorted(FROM_SOURCE):
        helper = getattr(rt, name)
        definition = helper.__s2s_function__()
        assert definition is not helper
        assert ops.is_user_function(definition), name
        assert _signature(definition) == _signature(helper), name


def through_tangent_pairs(x):
    return rt.einsum_tangent_pairs("i,i->", [x, x], [x, 0.0], [0.0, x])


def test_a_second_derivative_helper_is_differentiated_from_its_source():
    """Once refused by name (no rule): einsum_tangent_pairs("i,i->", ...)
    here is sum(x**2), whose gradient is 2x."""
    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(grad(through_tangent_pairs)(x), 2.0 * x)


def test_every_runtime_rule_is_checked():
    covered = {id(t) for case in CHECKS for t in case.covers}
    targets = list(_public_helpers().values()) + [copy.copy, copy.deepcopy]
    missing = sorted(
        registry.lookup(fn).label
        for fn in targets
        if registry.lookup(fn) is not None
        and not registry.lookup(fn).nondifferentiable
        and id(fn) not in covered
    )
    assert not missing, f"runtime rules without a check here: {missing}"


def test_every_rule_has_both_modes():
    for fn in list(_public_helpers().values()) + [copy.copy, copy.deepcopy]:
        rule = registry.lookup(fn)
        if rule is None or rule.nondifferentiable:
            continue
        assert rule.reverse is not None, rule.label
        assert rule.forward is not None or rule.linear is not None, rule.label


# == transposes: the dot-product identity, exactly ====================================


def _inner(a: Any, b: Any) -> float:
    """Sum of products of two adjoint structures (a symbolic zero is 0; a
    number or 0-d value facing a container or array spreads over it)."""
    if rt.is_zero(a) or rt.is_zero(b):
        return 0.0
    if isinstance(a, dict) or isinstance(b, dict):
        if not isinstance(a, dict):
            return sum(_inner(a, v) for v in b.values())
        if not isinstance(b, dict):
            return sum(_inner(v, b) for v in a.values())
        return sum(_inner(a[k], b[k]) for k in a if k in b)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        n = len(a) if isinstance(a, (list, tuple)) else len(b)
        return sum(_inner(rt._item(a, i), rt._item(b, i)) for i in range(n))
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


X234 = normal(2, 3, 4)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -1.0, 0.5]])
LISTX = [0.3, normal(2), -1.2]
DICTX = {"p": 0.5, "q": normal(2)}

# (label, H(g), T(v, g), a g, a v): T must be the transpose of H in g.
PAIRS: list[tuple[str, Callable, Callable, Any, Any]] = [
    (
        "unbroadcast",
        lambda g: rt.unbroadcast(g, normal(3)),
        lambda v, g: rt.unbroadcast_transpose(v, g, normal(3)),
        normal(2, 3),
        normal(3),
    ),
    (
        "unbroadcast to a shape",
        lambda g: rt.unbroadcast_to(g, (2, 1)),
        lambda v, g: rt.unbroadcast_to_transpose(v, g, (2, 1)),
        normal(2, 3),
        normal(2, 1),
    ),
    (
        "unbroadcast to a number",
        lambda g: rt.unbroadcast(g, 0.4),
        lambda v, g: rt.unbroadcast_transpose(v, g, 0.4),
        normal(2, 3),
        0.9,
    ),
    (
        "unreduce",
        lambda g: rt.unreduce(g, X234, 1, False, MASK),
        lambda v, g: rt.unreduce_transpose(v, g, X234, 1, False, MASK),
        normal(2, 4),
        normal(2, 3, 4),
    ),
    (
        "unreduce of a zero g",
        lambda g: rt.unreduce(normal(1, 3, 1) * 0 + 1.0, X234, (0, 2), True),
        lambda v, g: rt.unreduce_transpose(v, 0.0, X234, (0, 2), True),
        np.ones((1, 3, 1)),
        normal(2, 3, 4),
    ),
    (
        "unreduce_mean",
        lambda g: rt.unreduce_mean(g, X234, (0, 2), True, MASK),
        lambda v, g: rt.unreduce_mean_transpose(v, g, X234, (0, 2), True, MASK),
        normal(1, 3, 1),
        normal(2, 3, 4),
    ),
    (
        "unreduce_max with ties",
        lambda g: rt.unreduce_max(g, TIES, TIES.max(1), 1),
        lambda v, g: rt.unreduce_max_transpose(v, g, TIES, TIES.max(1), 1),
        normal(2),
        normal(2, 4),
    ),
    (
        "unreduce_max constant adjoint",
        lambda g: rt.unreduce_max(g, TIES, TIES.max(1), 1),
        lambda v, g: rt.unreduce_max_transpose(v, g, TIES, TIES.max(1), 1),
        normal(2),
        0.6,
    ),
    (
        "prod_adjoint",
        lambda g: rt.prod_adjoint(g, A_WITH_ZERO, 2, False, MASK),
        lambda v, g: rt.prod_adjoint_transpose(v, g, A_WITH_ZERO, 2, False, MASK),
        normal(2, 3),
        normal(2, 3, 4),
    ),
    (
        "getitem_adj fancy",
        lambda g: rt.getitem_adj(g, np.array([0, 2, 0])),
        lambda v, g: rt.getitem_adj_transpose(v, g, np.array([0, 2, 0])),
        normal(3, 4),
        normal(3, 4),
    ),
    (
        "getitem_adj list slice",
        lambda g: rt.getitem_adj(g, slice(0, 2)),
        lambda v, g: rt.getitem_adj_transpose(v, g, slice(0, 2)),
        [0.3, 0.5, 0.9],
        [0.2, -0.4],
    ),
    (
        "getitem_adj dict",
        lambda g: rt.getitem_adj(g, "q"),
        lambda v, g: rt.getitem_adj_transpose(v, g, "q"),
        {"p": 0.2, "q": normal(2)},
        normal(2),
    ),
    (
        "zeroed_at",
        lambda g: rt.zeroed_at(g, X234, (0, slice(1, 3))),
        lambda v, g: rt.zeroed_at(v, X234, (0, slice(1, 3))),
        normal(2, 3, 4),
        normal(2, 3, 4),
    ),
    (
        "finalize broadcast",
        lambda g: rt.finalize(normal(2, 1), g),
        lambda v, g: rt.finalize_transpose(v, normal(2, 1), g),
        normal(4, 2, 3),
        normal(2, 1),
    ),
    (
        "finalize list",
        lambda g: rt.finalize(LISTX, g),
        lambda v, g: rt.finalize_transpose(v, LISTX, g),
        [0.5, 0.0, 0.7],
        [0.1, normal(2), 0.3],
    ),
    (
        "finalize dict",
        lambda g: rt.finalize(DICTX, g),
        lambda v, g: rt.finalize_transpose(v, DICTX, g),
        {"q": normal(2)},
        {"p": 0.3, "q": normal(2)},
    ),
    (
        "seed",
        lambda s: rt.seed((0.5, normal(2)), s),
        lambda v, s: rt.seed_transpose(v, (0.5, normal(2)), s),
        (0.3, normal(2)),
        (0.8, normal(2)),
    ),
    (
        "pop_adj",
        lambda g: rt.pop_adj(g),
        lambda v, g: rt.pop_adj_transpose(v, g),
        [0.3, 0.6, 0.9],
        ([0.2, -0.1], 0.5),
    ),
    (
        "unstack",
        lambda g: rt.unstack(g, 3, 1),
        lambda v, g: rt.unstack_transpose(v, g, 3, 1),
        normal(2, 3),
        [normal(2), normal(2), normal(2)],
    ),
    (
        "stack_adjoint",
        lambda g: rt.stack_adjoint(g, [normal(2), normal(2)], 1),
        lambda v, g: rt.stack_adjoint_transpose(v, g, [normal(2), normal(2)], 1),
        normal(2, 2),
        [normal(2), normal(2)],
    ),
    (
        "concatenate_adjoint",
        lambda g: rt.concatenate_adjoint(g, [normal(2, 2), normal(2, 3)], 1),
        lambda v, g: rt.concatenate_adjoint_transpose(
            v, g, [normal(2, 2), normal(2, 3)], 1
        ),
        normal(2, 5),
        [normal(2, 2), normal(2, 3)],
    ),
    (
        "array_adjoint",
        lambda g: rt.array_adjoint(g, [[0.1, 0.2], [0.3, 0.4]], None),
        lambda v, g: rt.array_adjoint_transpose(v, g, [[0.1, 0.2], [0.3, 0.4]], None),
        normal(2, 2),
        [[0.5, -0.5], [1.5, 0.25]],
    ),
    (
        "linspace_adjoint",
        lambda g: rt.linspace_adjoint(g, (LS, 0.375), 0.5, 2.0, 5, True, True, 0, 1),
        lambda v, g: rt.linspace_adjoint_transpose(
            v, g, (LS, 0.375), 0.5, 2.0, 5, True, True, 0, 1
        ),
        (normal(5), 0.3),
        0.7,
    ),
    (
        "extreme_adjoint with ties",
        lambda g: rt.extreme_adjoint(g, 1.2, (0.3, 1.2, 1.2)),
        lambda v, g: rt.extreme_adjoint_transpose(v, g, 1.2, (0.3, 1.2, 1.2)),
        0.8,
        (0.1, 0.4, -0.6),
    ),
    (
        "clip_adjoint at the bounds",
        lambda g: rt.clip_adjoint(g, np.array([-0.5, 0.0, 0.8]), -0.5, 0.8, 0),
        lambda v, g: rt.clip_adjoint_transpose(
            v, g, np.array([-0.5, 0.0, 0.8]), -0.5, 0.8, 0
        ),
        normal(3),
        normal(3),
    ),
    (
        "add_adjoint lists",
        lambda g: rt.add_adjoint(g, [1.0, 2.0], [3.0], False),
        lambda v, g: rt.add_adjoint_transpose(v, g, [1.0, 2.0], [3.0], False),
        [0.3, 0.4, 0.5],
        [0.7, -0.2],
    ),
    (
        "norm_adjoint inf with ties",
        lambda g: rt.norm_adjoint(g, TIES, np.abs(TIES).max(1), np.inf, 1),
        lambda v, g: rt.norm_adjoint_transpose(
            v, g, TIES, np.abs(TIES).max(1), np.inf, 1
        ),
        normal(2),
        normal(2, 4),
    ),
    (
        "linear_apply acc",
        lambda d_: rt.linear_apply("acc", (LISTX, 0.5), d_),
        lambda v, d_: rt.linear_apply_transpose("acc", v, (LISTX, 0.5)),
        ([0.1, normal(2), 0.2], 0.4),
        [0.5, normal(2), -0.3],
    ),
    (
        "linear_apply add_at",
        lambda d_: rt.linear_apply("add_at", (0.0, X234, (1, 2), 0.0), d_),
        lambda v, d_: rt.linear_apply_transpose("add_at", v, (0.0, X234, (1, 2), 0.0)),
        (normal(2, 3, 4), None, None, normal(4)),
        normal(2, 3, 4),
    ),
    (
        "linear_apply setitem_tangent",
        lambda d_: rt.linear_apply("setitem_tangent", (0.0, (1.0, 2.0), 1, 0.0), d_),
        lambda v, d_: rt.linear_apply_transpose(
            "setitem_tangent", v, (0.0, (1.0, 2.0), 1, 0.0)
        ),
        ((0.3, 0.4), None, None, 0.9),
        [0.6, -0.1],
    ),
    (
        "linear_apply push_adj",
        lambda d_: rt.linear_apply("push_adj", (0.0, [1.0, 2.0], 0.0), d_),
        lambda v, d_: rt.linear_apply_transpose("push_adj", v, (0.0, [1.0, 2.0], 0.0)),
        ([0.3, 0.4], None, 0.9),
        [0.6, -0.1, 0.5],
    ),
    (
        "add_tangent",
        lambda ts: rt.add_tangent(ts, (A23, B3), A23 + B3),
        lambda v, ts: rt.add_tangent_transpose(v, (A23, B3), A23 + B3),
        (normal(2, 3), normal(3)),
        normal(2, 3),
    ),
    (
        "linear_map sum of a list",
        lambda t_: rt.linear_map(np.sum, t_, [0.5, -0.3]),
        lambda v, t_: rt.linear_map_transpose(np.sum, v, t_, [0.5, -0.3]),
        [0.2, 0.7],
        0.9,
    ),
    (
        "apply_adjoint moveaxis",
        lambda g: rt.apply_adjoint(np.moveaxis, g, np.moveaxis(X234, 0, 2), 2, 0),
        lambda v, g: rt.apply_adjoint_transpose(
            np.moveaxis, v, g, np.moveaxis(X234, 0, 2), (2, 0)
        ),
        normal(3, 4, 2),
        normal(2, 3, 4),
    ),
    (
        "stacked_adjoint",
        lambda g: rt.stacked_adjoint(g, [B3, B3], np.vstack([B3, B3]), "vstack"),
        lambda v, g: rt.stacked_adjoint_transpose(
            v, g, [B3, B3], np.vstack([B3, B3]), "vstack"
        ),
        normal(2, 3),
        [normal(3), normal(3)],
    ),
]


@pytest.mark.parametrize(
    "label, helper, transpose, g, v", PAIRS, ids=[p[0] for p in PAIRS]
)
def test_transpose_identity(label, helper, transpose, g, v):
    lhs = _inner(helper(g), v)
    rhs = _inner(g, transpose(v, g))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "label, helper, transpose, g, v", PAIRS, ids=[p[0] for p in PAIRS]
)
def test_transposes_of_zero_are_zero(label, helper, transpose, g, v):
    assert _is_zero_tree(transpose(0.0, g))


def _is_zero_tree(x: Any) -> bool:
    """A symbolic zero, or a tuple of them (one per argument)."""
    if isinstance(x, tuple):
        return all(_is_zero_tree(e) for e in x)
    return rt.is_zero(x)


def test_transposes_do_not_write_to_their_arguments():
    for _label, helper, transpose, g, v in PAIRS:
        before_g, before_v = copy_tree(g), copy_tree(v)
        helper(g)
        transpose(v, g)
        assert_tree_equal(g, before_g)
        assert_tree_equal(v, before_v)


# == end to end: second derivatives of programs =======================================


def cube(x):
    return x**3


def scalar_program(x):
    y = np.sin(x) * x**2 + np.exp(-x) / (1.0 + x * x)
    if y > 0.0:
        y = y * y
    return y + math_like(x)


def math_like(x):
    total = 0.0
    for i in range(3):
        total = total + x ** (i + 1) / (i + 1.0)
    return total


def scalar_loop(x):
    s = 0.0
    i = 0
    while i < 4:
        s = s + x * s + np.tanh(x)
        i = i + 1
    return s


def test_grad_of_grad_of_cube():
    assert grad(grad(cube))(2.0) == 12.0


@pytest.mark.parametrize("f", [cube, scalar_program, scalar_loop])
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_grad_of_grad_matches_finite_differences(f, x):
    actual = grad(grad(f))(x)
    expected = numerical_grad(grad(f), [x])
    assert actual == pytest.approx(expected, rel=1e-5, abs=1e-7)


def p_elementwise(x):
    return np.sum(np.sin(x) * x**2)


def p_loop(x):
    total = 0.0
    for i in range(3):
        total = total + np.sum(x * x) * np.exp(-x[i])
    return total


def p_linear_algebra(x):
    y = x[0] * x[1] + np.dot(x, x)
    A = np.outer(x, x)
    return y * np.tanh(x[2]) + np.sum(A @ x) + np.max(x) * np.mean(x**3)


def p_slots(x):
    if x[0] > 0:
        y = x * 2.0
    else:
        y = x * 3.0
    z = y.copy()
    z[1] = z[0] * z[2]
    return np.sum(z**2)


def p_reductions(x):
    return np.prod(x) + np.var(x) + np.std(x) + np.linalg.norm(x)


def p_tuples(x):
    a, b, c = x[0], x[1], x[2]
    t = (a * b, c)
    return t[0] ** 3 + t[1] * a


def p_while(x):
    i = 0
    s = 0.0
    while i < 3:
        s = s + x[i] ** 2 * s + x[i]
        i = i + 1
    return s


def p_list(x):
    lst = []
    for i in range(3):
        lst.append(x[i] * x[i])
    return lst[0] * lst[1] + lst[2]


def p_dict(x):
    p = {"a": x[0], "b": x[1:]}
    return p["a"] ** 2 * np.sum(np.cos(p["b"]))


PROGRAMS = [
    p_elementwise,
    p_loop,
    p_linear_algebra,
    p_slots,
    p_reductions,
    p_tuples,
    p_while,
    p_list,
    p_dict,
]
XP = np.array([0.3, -0.7, 1.1])


def _hessian_by_differences(f: Callable[..., Any], x: np.ndarray) -> np.ndarray:
    g = grad(f)
    return np.stack(
        [numerical_grad(lambda y, i=i: g(y)[i], [x]) for i in range(len(x))]
    )


@pytest.mark.parametrize("f", PROGRAMS, ids=[f.__name__ for f in PROGRAMS])
def test_reverse_over_reverse_hessian(f):
    expected = _hessian_by_differences(f, XP)
    rows = [grad(grad(f), seed=e)(XP) for e in np.eye(3)]
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f", PROGRAMS, ids=[f.__name__ for f in PROGRAMS])
def test_forward_over_reverse_hessian(f):
    expected = _hessian_by_differences(f, XP)
    actual = s2s_ad.hessian(f)(XP)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)


# == derivatives from source: factorizations, cumprod, average, trapezoid, polyval ==
#
# The helpers in FROM_SOURCE are differentiated by transforming the plain-NumPy
# definitions of s2s_ad/rules/runtime_sources.py.  Every case of the rule table
# that goes through one of them is checked here at second order, both ways
# (reverse over reverse and forward over reverse), against central differences
# of the gradient; a selection also at third order.

_TRAPEZOID = [
    f for f in (getattr(np, "trapezoid", None), getattr(np, "trapz", None)) if f
]
SOURCE_TARGETS = [
    np.cumprod,
    "method:cumprod",
    np.linalg.cholesky,
    np.linalg.eigh,
    np.linalg.eigvalsh,
    np.linalg.svd,
    np.linalg.pinv,
    np.linalg.qr,
    np.average,
    np.polyval,
    *_TRAPEZOID,
]


def _covers_a_source_target(case: Any) -> bool:
    return any(
        c is t or (isinstance(c, str) and c == t)
        for c in case.covers
        for t in SOURCE_TARGETS
    )


SOURCE_CASES = [c for c in rule_cases.CHECKS if _covers_a_source_target(c)]


def test_every_helper_from_source_has_second_order_cases():
    assert len(SOURCE_CASES) >= 40
    labels = " ".join(c.label for c in SOURCE_CASES)
    for word in ("cholesky", "eigh", "eigvalsh", "svd", "pinv", "qr", "cumprod"):
        assert word in labels, word
    for word in ("average", "trapezoid", "polyval", "with zeros", "upper", "stack"):
        assert word in labels, word


def _positions(case: Any) -> tuple[int, ...]:
    params = list(inspect.signature(case.func).parameters)
    wrt = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    return tuple(w if isinstance(w, int) else params.index(w) for w in wrt)


def _assert_tree_allclose(actual: Any, expected: Any, rtol: float, atol: float):
    """Leaf by leaf; a symbolic zero (0.0) matches zeros of any shape, a list
    of numbers an array of them."""
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_tree_allclose(a, e, rtol, atol)
        return
    a = np.asarray(0.0 if rt.is_zero(actual) else actual, dtype=float)
    e = np.asarray(0.0 if rt.is_zero(expected) else expected, dtype=float)
    if a.ndim and e.ndim:
        assert a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def _tangents_at(args: list[Any], pos: tuple[int, ...], parts: tuple[Any, ...]):
    tangents: list[Any] = [None] * len(args)
    for p, part in zip(pos, parts):
        tangents[p] = part
    return tangents


def _tree_inner(a: tuple[Any, ...], b: tuple[Any, ...]) -> float:
    return sum(_inner(x, y) for x, y in zip(a, b))


def _second_order_setup(case: Any):
    args = [to_float64(a) for a in case.args]
    pos = _positions(case)
    rng = np.random.default_rng(zlib.crc32(case.label.encode()) + 2)
    w = tuple(_direction(args[p], rng) for p in pos)
    u = tuple(_direction(args[p], rng) for p in pos)
    return args, pos, w, u


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.label for c in SOURCE_CASES])
def test_hessian_vector_products_through_helpers_from_source(case):
    """H w by reverse over reverse and by forward over reverse, against
    central differences of <grad, w> (H is symmetric)."""
    args, pos, w, _ = _second_order_setup(case)
    g = grad(case.func, wrt=pos, seed=case.seed)
    expected = numerical_grad(
        lambda *xs: _tree_inner(g(*xs), w), args, wrt=pos, rel_step=1e-5
    )
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    tol = {"rtol": max(case.rtol, 1e-5), "atol": 1e-6 * scale}
    before = copy_tree(args)
    reverse = grad(g, wrt=pos, seed=w)(*args)
    assert_tree_equal(args, before)
    _assert_tree_allclose(reverse, expected, **tol)
    _, forward = jvp(g, copy_tree(args), _tangents_at(args, pos, w))
    _assert_tree_allclose(forward, expected, **tol)


# One case per helper pair (transforming third-order code takes seconds).
THIRD_ORDER_LABELS = [
    "cholesky upper",
    "eigh",
    "svd thin (4, 3)",
    "pinv (3, 4)",
    "qr mode r",
    "cumprod with zeros",
    "average axis=1 keepdims=False weights(3,)",
    "trapezoid x like y",
    "polyval of a list",
]
THIRD_ORDER_CASES = [c for c in SOURCE_CASES if c.label in THIRD_ORDER_LABELS]


def test_third_order_cases_exist():
    assert sorted(c.label for c in THIRD_ORDER_CASES) == sorted(THIRD_ORDER_LABELS)


@pytest.mark.parametrize(
    "case", THIRD_ORDER_CASES, ids=[c.label for c in THIRD_ORDER_CASES]
)
def test_third_derivatives_through_helpers_from_source(case):
    """T[w, u, .] by reverse over reverse over reverse and by forward over
    reverse over reverse, against central differences of <H w, u>."""
    args, pos, w, u = _second_order_setup(case)
    hw = grad(grad(case.func, wrt=pos, seed=case.seed), wrt=pos, seed=w)
    expected = numerical_grad(
        lambda *xs: _tree_inner(hw(*xs), u), args, wrt=pos, rel_step=1e-5
    )
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    tol = {"rtol": 1e-4, "atol": 1e-5 * scale}
    _assert_tree_allclose(grad(hw, wrt=pos, seed=u)(*copy_tree(args)), expected, **tol)
    _, forward = jvp(hw, copy_tree(args), _tangents_at(args, pos, u))
    _assert_tree_allclose(forward, expected, **tol)


def spy_on_helpers(monkeypatch: Any, names: Any) -> list[Any]:
    """Replace the named runtime helpers by spies recording (helper, args,
    result) of every call; generated code keeps differentiating them from
    the helpers' own restatements."""
    calls: list[tuple[Any, tuple[Any, ...], Any]] = []
    for name in names:
        helper = getattr(rt, name)

        def spy(*a: Any, _helper: Any = helper) -> Any:
            out = _helper(*a)
            calls.append((_helper, copy_tree(a), copy_tree(out)))
            return out

        spy.__s2s_function__ = helper.__s2s_function__  # type: ignore[attr-defined]
        monkeypatch.setattr(rt, name, spy)
    return calls


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.label for c in SOURCE_CASES])
def test_definitions_compute_what_their_helpers_compute(case, monkeypatch):
    """Every call the first-order code makes to a helper in FROM_SOURCE gives
    the same result through the helper's definition (which is what the
    higher-order code runs instead)."""
    calls = spy_on_helpers(monkeypatch, FROM_SOURCE)
    args, pos, w, _ = _second_order_setup(case)
    grad(case.func, wrt=pos, seed=case.seed)(*copy_tree(args))
    jvp(case.func, copy_tree(args), _tangents_at(args, pos, w))
    assert calls
    for helper, a, out in calls:
        again = helper.__s2s_function__()(*a)
        _assert_tree_allclose(again, out, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_log_determinant_by_cholesky():
    """H[i, j] of 2 sum(log(diag(cholesky(A)))) = log det A is
    -tr(A^-1 E_i A^-1 E_j) (E: the symmetric unit perturbations)."""

    a = rule_cases.spd(3)
    H = s2s_ad.hessian(logdet_by_cholesky)(a)
    inv = np.linalg.inv(a)
    # The gradient reads the lower triangle: perturb a_ij (i >= j) only.
    expected = np.zeros((3, 3, 3, 3))
    for i in range(3):
        for j in range(i + 1):
            for k in range(3):
                for m in range(k + 1):
                    e1, e2 = _lower_unit(i, j), _lower_unit(k, m)
                    expected[i, j, k, m] = -np.trace(inv @ e1 @ inv @ e2)
    np.testing.assert_allclose(H, expected, rtol=1e-9, atol=1e-12)
    g = grad(logdet_by_cholesky)
    fd = np.stack(
        [numerical_grad(lambda x, n=n: g(x).ravel()[n], [a]) for n in range(9)]
    ).reshape(3, 3, 3, 3)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-7)


def logdet_by_cholesky(a):
    return 2.0 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a))))


def _lower_unit(i: int, j: int) -> np.ndarray:
    """The symmetric matrix cholesky sees when a[i, j] (i >= j) moves by 1."""
    e = np.zeros((3, 3))
    e[i, j] = 1.0
    return e + e.T - np.diag(np.diag(e))


def spectral_energy(a):
    w, v = np.linalg.eigh(a)
    s = np.linalg.svd(a @ a.T + a, compute_uv=False)
    return np.sum(w**3) + np.sum(v[0] ** 2 * w) + np.sum(np.sqrt(s))


def test_hessian_and_hvp_through_eigh_and_svd():
    a = rule_cases.symmetric(4)
    H = s2s_ad.hessian(spectral_energy)(a)
    g = grad(spectral_energy)
    fd = np.stack(
        [numerical_grad(lambda x, n=n: g(x).ravel()[n], [a]) for n in range(16)]
    ).reshape(4, 4, 4, 4)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(3).standard_normal((4, 4))
    np.testing.assert_allclose(
        s2s_ad.hvp(spectral_energy, (a,), (v,)),
        np.einsum("ijkl,kl->ij", H, v),
        rtol=1e-9,
        atol=1e-9,
    )


# == list adjoints keep their length (higher order through lists and traces) =======


def test_list_adjoints_built_from_zeros_keep_their_length():
    """A zero g may be a Python float that happens to be 0: the list's
    adjoint (or tangent) still has one entry per item, which is what the
    transposes of pop_adj and pop_tangent need at the next order."""
    assert rt.push_adj(0.0, [1.0, 2.0], 0.0) == [0.0, 0.0, 0.0]
    assert rt.add_at(0.0, [1.0, 2.0], 1, 0.0) == [0.0, 0.0]
    assert rt.add_at(0.0, (1.0, 2.0), 0, 0.0) == (0.0, 0.0)
    assert rt.append_tangent(0.0, [1.0, 2.0], 0.0) == [0.0, 0.0]
    assert rt.setitem_tangent(0.0, [1.0, 2.0], 0, 0.0) == [0.0, 0.0]
    assert rt.is_zero(rt.setitem_tangent(0.0, np.ones(2), 0, 0.0))
    assert rt.pop_adj_transpose((0.0, 0.5), [0.0, 0.0]) == [0.0, 0.5]


def read_after_append(x):
    items = [x]
    items.append(2.0 * x)
    y = items[1]
    return y * y


def appended_then_summed(a, b, z):
    items = [a]
    items.append(b)
    return np.sum(np.array(items)) * z


def test_second_derivatives_where_a_list_adjoint_is_zero():
    # At x = 0 the adjoint of the read item is the float 0.0.
    assert grad(grad(read_after_append))(0.0) == pytest.approx(8.0)
    assert s2s_ad.hessian(read_after_append)(0.0) == pytest.approx(8.0)
    # At z = 0 the list's adjoint is 0.0; the mixed derivatives are 1.
    g = grad(appended_then_summed, wrt=(0, 1, 2))
    seed = (0.0, 0.0, 1.0)
    assert grad(g, wrt=(0, 1, 2), seed=seed)(1.0, 2.0, 0.0) == (1.0, 1.0, 0.0)
    _, row = jvp(g, (1.0, 2.0, 0.0), seed)
    assert row == pytest.approx((1.0, 1.0, 0.0))


def branch_and_loop(x):
    y = x
    if x < 2.0:
        y = y * 3.0
    s = 0.0
    for i in range(3):
        s = s + y * np.sin(x + i)
    i = 0
    while i < 2:
        y = y * x
        i = i + 1
    return y + s


def branch_and_loop_third(x):
    """d³/dx³ of branch_and_loop for x < 2: y ends as 3x³, and the loop adds
    the terms 3x sin(x + i), whose third derivatives are -9 sin - 3x cos."""
    return 18.0 + sum(-9.0 * np.sin(x + i) - 3.0 * x * np.cos(x + i) for i in range(3))


def test_third_derivative_through_branches_loops_and_their_traces():
    """Generated code restores overwritten values from a trace list; third
    order differentiates the transposes of its pushes and pops."""
    second = grad(grad(branch_and_loop))
    third = grad(second)
    for x in (0.7, -1.3, 0.0):
        expected = branch_and_loop_third(x)
        assert third(x) == pytest.approx(expected, rel=1e-9)
        assert jvp(second, (x,), (1.0,))[1] == pytest.approx(expected, rel=1e-9)


# == the * of arrays and sequences ==================================================


def times_a_list(x):
    return np.sum(np.sin(x * [1.0, 2.0]) + [3.0, -1.0] * x)


def list_times_count(x):
    items = [x, 2.0 * x] * 2
    return items[0] * items[3] + items[1]


def test_an_array_times_a_list_is_elementwise_in_every_order():
    x = np.array([0.3, -0.8])
    g = grad(times_a_list)
    np.testing.assert_allclose(g(x), np.cos(x * [1.0, 2.0]) * [1.0, 2.0] + [3.0, -1.0])
    _, t = jvp(times_a_list, (x,), (np.ones(2),))
    assert t == pytest.approx(float(np.sum(g(x))))
    expected = np.diag(-np.sin(x * [1.0, 2.0]) * [1.0, 4.0])
    np.testing.assert_allclose(s2s_ad.hessian(times_a_list)(x), expected, atol=1e-12)
    rows = [grad(g, seed=e)(x) for e in np.eye(2)]
    np.testing.assert_allclose(np.stack(rows), expected, atol=1e-12)
    # Repetition by a Python int is still repetition.
    assert grad(list_times_count)(0.5) == pytest.approx(4.0 * 0.5 + 2.0)
    assert grad(grad(list_times_count))(0.5) == pytest.approx(4.0)


# == forward rules whose result is a list: terms added entry by entry ==============


def pair_of(x, y):
    """A primitive returning a list (its rules are registered below)."""
    return [x * y, x + 2.0 * y]


# Templates are parsed, never run: t[...] reads no binding (this module uses t
# as an ordinary name elsewhere).
@s2s_ad.reverse_rule(pair_of)
def _pair_of_reverse(ans, x, y):
    d[x] += rt.getitem_adj(d[ans], 0) * y + rt.getitem_adj(d[ans], 1)
    d[y] += rt.getitem_adj(d[ans], 0) * x + 2 * rt.getitem_adj(d[ans], 1)


@s2s_ad.forward_rule(pair_of)
def _pair_of_forward(ans, x, y):
    # Two terms, each a list: + would concatenate them into four entries.
    t[ans] += [t[x] * y, t[x]]
    t[ans] += [x * t[y], 2.0 * t[y]]


def uses_pair(x, y):
    p = pair_of(x, y)
    return p[0] * p[1] + np.sin(p[1])


def test_list_valued_forward_rule_with_two_terms():
    args = (0.7, -0.4)
    for tangents in [(1.0, 0.0), (0.0, 1.0), (0.3, -1.2)]:
        value, tangent = jvp(uses_pair, args, tangents)
        h = 1e-6
        plus = uses_pair(*(a + h * t_ for a, t_ in zip(args, tangents)))
        minus = uses_pair(*(a - h * t_ for a, t_ in zip(args, tangents)))
        assert tangent == pytest.approx((plus - minus) / (2 * h), rel=1e-7)
        assert value == uses_pair(*args)
    source = s2s_ad.forward_source(uses_pair, wrt=(0, 1))
    assert "rt.acc(" in source
    # Only a result proved to be a number is summed with +.
    assert "+ rt.mul_tangent" not in s2s_ad.forward_source(uses_pair, wrt=(0, 1))
    np.testing.assert_allclose(
        grad(uses_pair, wrt=(0, 1))(*args),
        numerical_grad(uses_pair, list(args), wrt=(0, 1)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.label for c in SOURCE_CASES])
def test_second_derivatives_of_forward_mode_through_helpers_from_source(case):
    """The tangent helpers' definitions: reverse over forward and forward
    over forward (through ``jvp_function``) against the same differences."""
    args, pos, w, u = _second_order_setup(case)
    g = grad(case.func, wrt=pos, seed=case.seed)
    expected = numerical_grad(
        lambda *xs: _tree_inner(g(*xs), w), args, wrt=pos, rel_step=1e-5
    )
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    tol = {"rtol": max(case.rtol, 1e-5), "atol": 1e-6 * scale}
    df = s2s_ad.jvp_function(case.func)
    value = case.func(*copy_tree(args))
    ybar = 1.0 if case.seed is None else case.seed
    zero = np.zeros_like(value) if isinstance(value, np.ndarray) else 0.0
    tangents = _tangents_at(args, pos, w)
    # d/dx <ybar, J(x) w> = H w.
    rof = grad(df, wrt=pos, seed=(zero, ybar))(*copy_tree(args), *tangents)
    _assert_tree_allclose(rof, expected, **tol)
    # d/ds <ybar, J(x + s u) w> = <H w, u>.
    dots = _tangents_at(args, pos, u) + [None] * len(args)
    _, (_, fof) = jvp(df, (*copy_tree(args), *tangents), dots)
    np.testing.assert_allclose(_inner(fof, ybar), _tree_inner(expected, u), **tol)


def test_third_derivative_through_a_tangent_definition():
    """Reverse over reverse over forward: the code generated from
    cholesky_tangent's definition is itself differentiated again."""
    case = next(c for c in SOURCE_CASES if c.label == "cholesky upper")
    args, pos, w, u = _second_order_setup(case)
    df = s2s_ad.jvp_function(case.func)
    tangents = _tangents_at(args, pos, w)
    # <H w, .> by reverse over forward, then its derivative along u.
    hw = grad(df, wrt=pos, seed=(0.0, 1.0))

    def along_u(*xs: Any) -> float:
        return _tree_inner(hw(*xs, *tangents), u)

    expected = numerical_grad(along_u, args, wrt=pos, rel_step=1e-5)
    actual = grad(hw, wrt=pos, seed=u)(*copy_tree(args), *tangents)
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
    _assert_tree_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale)


def first_large(x):
    for i in range(len(x)):
        if x[i] > 0.8:
            return x[i] * x[i] * i + np.sum(x[:i] ** 3)
    return np.sum(x)


def test_slices_with_computed_bounds_at_second_order():
    """Generated code builds x[:i] as slice(None, i), i restored from its
    trace; the slice carries no derivative."""
    x = np.array([0.3, -0.7, 1.1, 0.4])
    g = grad(first_large)
    expected = np.stack([numerical_grad(lambda y, i=i: g(y)[i], [x]) for i in range(4)])
    np.testing.assert_allclose(s2s_ad.hessian(first_large)(x), expected, atol=1e-7)
    rows = [grad(g, seed=e)(x) for e in np.eye(4)]
    np.testing.assert_allclose(np.stack(rows), expected, atol=1e-7)


# == third derivatives through second-derivative helpers restated in source ==
#
# The helpers that compute second derivatives of solve, slogdet... (once
# "second derivative only") are restated in runtime_sources.py too; one case
# per function at third order, both ways, as above.
THIRD_ORDER_FROM_SECOND_LABELS = [
    "solve[0]",
    "solve[1]",
    "solve[2]",
    "slogdet",
    "slogdet of a stack",
    "spread_std axis=1 ddof=1 keepdims=False",
    "spread_std axis=(0, 2) ddof=0 keepdims=True",
    "spread_std_method axis=None ddof=0 keepdims=False",
    "vector norm ord=None axis=1",
    "vector norm ord=3",
    "vector norm ord=0.5 axis=1",
    "matrix norm ord=fro axis=(2, 0)",
    "norm of a tensor",
    "reduction_prod axis=None keepdims=False",
    "reduction_prod axis=(0, 2) keepdims=True",
    "method_prod axis=1 keepdims=False",
    "prod with zeros",
    "prod where",
    "sinc matrix",
    "sinc scalar",
    "sinc at zero",
]
THIRD_ORDER_FROM_SECOND_CASES = [
    c for c in rule_cases.CHECKS if c.label in THIRD_ORDER_FROM_SECOND_LABELS
]


def test_third_order_from_second_cases_exist():
    labels = sorted(c.label for c in THIRD_ORDER_FROM_SECOND_CASES)
    assert labels == sorted(THIRD_ORDER_FROM_SECOND_LABELS)


@pytest.mark.parametrize(
    "case",
    THIRD_ORDER_FROM_SECOND_CASES,
    ids=[c.label for c in THIRD_ORDER_FROM_SECOND_CASES],
)
def test_third_derivatives_through_second_derivative_helpers(case):
    test_third_derivatives_through_helpers_from_source(case)


RESTATED_SECOND_DERIVATIVE_HELPERS = [
    "solve_x_partial",
    "solve_adjoint_partial",
    "slogdet_tangent_jvp",
    "norm_adjoint_partial",
    "std_adjoint_partial",
    "prod_adjoint_hvp",
]
# sinc's derivatives of every order are one helper with a rule (no source).
RESTATED_CASES = [c for c in THIRD_ORDER_FROM_SECOND_CASES if "sinc" not in c.label]


@pytest.mark.parametrize("case", RESTATED_CASES, ids=[c.label for c in RESTATED_CASES])
def test_restated_second_derivative_helpers_compute_what_they_restate(
    case, monkeypatch
):
    """Every call second-order code makes to a restated helper gives the same
    result through its definition."""
    from s2s_ad.rules import runtime_sources  # noqa: F401  (registers them)

    assert set(RESTATED_SECOND_DERIVATIVE_HELPERS) <= FROM_SOURCE
    calls = spy_on_helpers(monkeypatch, RESTATED_SECOND_DERIVATIVE_HELPERS)
    args, pos, w, _ = _second_order_setup(case)
    g = grad(case.func, wrt=pos, seed=case.seed)
    grad(g, wrt=pos, seed=w)(*copy_tree(args))
    jvp(g, copy_tree(args), _tangents_at(args, pos, w))
    # slogdet_tangent_jvp serves forward over forward only (checked below).
    assert calls or "slogdet" in case.label
    for helper, a, out in calls:
        again = helper.__s2s_function__()(*a)
        _assert_tree_allclose(again, out, rtol=1e-10, atol=1e-12)


def test_slogdet_tangent_jvp_definition_computes_what_it_restates():
    from s2s_ad.rules import runtime_sources  # noqa: F401  (registers them)

    a = rule_cases.invertible(3, 2)
    rng = np.random.default_rng(7)
    t, t_dot, a_dot = (rng.standard_normal(a.shape) for _ in range(3))
    ans = np.linalg.slogdet(a)
    definition = rt.slogdet_tangent_jvp.__s2s_function__()
    for dots in [(t_dot, a_dot, 0.0), (0.0, a_dot, 0.0), (t_dot, 0.0, 0.0)]:
        expected = rt.slogdet_tangent_jvp((t, a, ans), dots)
        _assert_tree_allclose(
            definition((t, a, ans), dots), expected, rtol=1e-10, atol=1e-12
        )
    assert rt.is_zero(definition((t, a, ans), (0.0, 0.0, 0.0)))
