"""Operator rules specialised to numbers (the ``"numeric"`` variant).

The general operator rules in :mod:`builtin_rules` also handle list and
tuple concatenation and repetition.  When kind inference proves both
operands of ``+ - * / **`` are numbers or arrays, the compiler uses these
instead: they read like the maths (``d[a] += d[ans] * b``), and the
compiler drops ``rt.unbroadcast``/``rt.broadcast_like`` where the shapes
cannot differ.

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import operator

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import d, forward_rule, reverse_rule, t


@reverse_rule(operator.add, variant="numeric")
def add(ans, a, b):
    d[a] += rt.unbroadcast(d[ans], a)
    d[b] += rt.unbroadcast(d[ans], b)


@forward_rule(operator.add, variant="numeric")
def add_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a], ans)
    t[ans] += rt.broadcast_like(t[b], ans)


@reverse_rule(operator.sub, variant="numeric")
def sub(ans, a, b):
    d[a] += rt.unbroadcast(d[ans], a)
    d[b] += rt.unbroadcast(-d[ans], b)


@forward_rule(operator.sub, variant="numeric")
def sub_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a], ans)
    t[ans] += rt.broadcast_like(-t[b], ans)


@reverse_rule(operator.mul, variant="numeric")
def mul(ans, a, b):
    d[a] += rt.unbroadcast(d[ans] * b, a)
    d[b] += rt.unbroadcast(d[ans] * a, b)


@forward_rule(operator.mul, variant="numeric")
def mul_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a] * b, ans)
    t[ans] += rt.broadcast_like(a * t[b], ans)


# A division by zero raises in the primal sweep first, so the adjoints may
# divide freely.
@reverse_rule(operator.truediv, variant="numeric")
def truediv(ans, a, b):
    d[a] += rt.unbroadcast(d[ans] / b, a)
    d[b] += rt.unbroadcast(-d[ans] * ans / b, b)


@forward_rule(operator.truediv, variant="numeric")
def truediv_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a] / b, ans)
    t[ans] += rt.broadcast_like(-t[b] * ans / b, ans)


@reverse_rule(operator.pow, variant="numeric")
def pow_(ans, a, b):
    d[a] += rt.unbroadcast(d[ans] * rt.pow_base_partial(a, b), a)
    d[b] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, a), b)


@forward_rule(operator.pow, variant="numeric")
def pow_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a] * rt.pow_base_partial(a, b), ans)
    t[ans] += rt.broadcast_like(t[b] * rt.xlogy_safe(ans, a), ans)
