"""Derivative rules for Python builtins and the :mod:`operator` module.

The compiler maps ``+ - * / ** @ %`` and unary ``-``/``+`` onto the
:mod:`operator` functions, so these rules define what the operators mean for
gradients.

Guarantees: operator rules accept any mix of Python scalars, NumPy scalars
and arrays, summing adjoints back over broadcast dimensions (a Python-scalar
operand gets a Python float); ``+`` and ``*`` on lists and tuples
(concatenation, repetition) route each entry's adjoint back to where it came
from.  ``x ** p`` has derivative exactly 0 in ``x`` where ``p == 0``, and
``0 ** p`` has derivative 0 in ``p``.  Builtin ``max``/``min`` split the
gradient equally among tied arguments.

Every rule has a forward (tangent) rule beside its reverse one, with the same
conventions: the tangent of a concatenation is the concatenation of the
tangents (one forward statement for both operands, since separate terms
would be summed), a repetition repeats the tangent, and tied ``max``/``min``
arguments share it (the average of their tangents).

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import builtins
import operator

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

# -- operators ------------------------------------------------------------------


@reverse_rule(operator.add)
def add(ans, a, b):
    # Not plain unbroadcast: + also concatenates lists and tuples.
    d[a] += rt.add_adjoint(d[ans], a, b, left=True)
    d[b] += rt.add_adjoint(d[ans], b, a, left=False)


@forward_rule(operator.add)
def add_tangent(ans, *operands):
    # One statement for both operands: concatenated lists and tuples need
    # their tangents joined, and separate terms would be summed.
    t[ans] += rt.add_tangent(t[operands], operands, ans)


@reverse_rule(operator.sub)
def sub(ans, a, b):
    d[a] += rt.unbroadcast(d[ans], a)
    d[b] += rt.unbroadcast(-d[ans], b)


@forward_rule(operator.sub)
def sub_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a], ans)
    t[ans] += rt.broadcast_like(-t[b], ans)


@reverse_rule(operator.mul)
def mul(ans, a, b):
    # Not unbroadcast(d[ans] * b, a): * also repeats lists and tuples.
    d[a] += rt.mul_adjoint(d[ans], a, b)
    d[b] += rt.mul_adjoint(d[ans], b, a)


@forward_rule(operator.mul)
def mul_tangent(ans, a, b):
    t[ans] += rt.mul_tangent(t[a], b, ans)
    t[ans] += rt.mul_tangent(t[b], a, ans)


elementwise(operator.truediv, "a, b", "rt.div(1.0, b)", "rt.div(-ans, b)")


@reverse_rule(operator.pow)
def pow_op(ans, a, b):
    d[a] += rt.unbroadcast(d[ans] * rt.pow_base_partial(a, b), a)
    d[b] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, a), b)


@forward_rule(operator.pow)
def pow_op_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a] * rt.pow_base_partial(a, b), ans)
    t[ans] += rt.broadcast_like(t[b] * rt.xlogy_safe(ans, a), ans)


@reverse_rule(operator.mod)
def mod(ans, a, b):
    # a % b = a - b * floor(a / b): slope 1 in a, -floor(a / b) in b.
    d[a] += rt.unbroadcast(d[ans], a)
    d[b] += rt.unbroadcast(-d[ans] * (a // b), b)


@forward_rule(operator.mod)
def mod_tangent(ans, a, b):
    t[ans] += rt.broadcast_like(t[a], ans)
    t[ans] += rt.broadcast_like(-t[b] * (a // b), ans)


@reverse_rule(operator.matmul)
def matmul_op(ans, a, b):
    d[a] += rt.matmul_adjoint_a(d[ans], a, b)
    d[b] += rt.matmul_adjoint_b(d[ans], a, b)


@forward_rule(operator.matmul)
def matmul_op_tangent(ans, a, b):
    t[ans] += 0.0 if rt.is_zero(t[a]) else t[a] @ b
    t[ans] += 0.0 if rt.is_zero(t[b]) else a @ t[b]


@reverse_rule(operator.neg)
def neg(ans, a):
    d[a] += -d[ans]


@forward_rule(operator.neg)
def neg_tangent(ans, a):
    t[ans] += -t[a]


@reverse_rule(operator.pos)
def pos(ans, a):
    d[a] += d[ans]


@forward_rule(operator.pos)
def pos_tangent(ans, a):
    t[ans] += t[a]


# Floor division is piecewise constant in both operands.
nondifferentiable(operator.floordiv)

# -- builtins -------------------------------------------------------------------

elementwise(builtins.abs, "x", "rt.sign(x)")


@reverse_rule(builtins.float)
def float_(ans, x=0.0):
    d[x] += rt.reshape_adjoint(d[ans], x)


linear(builtins.float, argname="x")


@reverse_rule(builtins.pow)
def pow_(ans, base, exp, mod=None):
    d[base] += rt.unbroadcast(d[ans] * rt.pow_base_partial(base, exp), base)
    d[exp] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, base), exp)


@forward_rule(builtins.pow)
def pow_tangent(ans, base, exp, mod=None):
    t[ans] += rt.broadcast_like(t[base] * rt.pow_base_partial(base, exp), ans)
    t[ans] += rt.broadcast_like(t[exp] * rt.xlogy_safe(ans, base), ans)


@reverse_rule(builtins.max, builtins.min)
def extreme(ans, *args, key=None, default=None):
    # Covers max(a, b, ...) and max(iterable); see rt.extreme_adjoint for ties.
    d[args] += rt.extreme_adjoint(d[ans], ans, args, key)
    d[default] += rt.default_adjoint(d[ans], args)


@forward_rule(builtins.max, builtins.min)
def extreme_tangent(ans, *args, key=None, default=None):
    # Tied winners share: the tangent is the average of theirs.
    t[ans] += rt.extreme_tangent(t[args], ans, args, key)
    t[ans] += rt.default_tangent(t[default], args)


@reverse_rule(builtins.sum)
def sum_(ans, iterable, /, start=0):
    d[iterable] += rt.sum_adjoint(d[ans], iterable)
    d[start] += rt.unbroadcast(d[ans], start)


@forward_rule(builtins.sum)
def sum_tangent(ans, iterable, /, start=0):
    t[ans] += rt.sum_tangent(t[iterable], iterable, ans)
    t[ans] += rt.broadcast_like(t[start], ans)


nondifferentiable(
    builtins.len,
    builtins.range,
    builtins.int,
    builtins.bool,
    builtins.round,
    builtins.isinstance,
    builtins.print,
)


# -- stop_gradient ----------------------------------------------------------------


def stop_gradient(x):
    """``x`` itself, as a value through which no derivative flows.

    Inside a differentiated function, ``stop_gradient(y)`` treats ``y`` as a
    constant: its value is used, the gradient does not propagate into it.
    """
    return x


nondifferentiable(stop_gradient)
