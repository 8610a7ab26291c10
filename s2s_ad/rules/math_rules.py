"""Derivative rules for the :mod:`math` module.

Guarantees: every rule works on Python floats and ints (and NumPy scalars)
and gives Python-float adjoints for Python-number arguments; a derivative
that is infinite at a point (``sqrt`` at 0, ``log`` at 0, ``asin`` at ±1)
evaluates to ``inf``/``nan`` there instead of raising ZeroDivisionError or
ValueError, because the primal call itself succeeded.  Functions that are
piecewise constant (``floor``, ``isnan``...) are non-differentiable: their
results carry no gradient.  Every differentiable rule also has a forward
(tangent) rule: ``elementwise`` makes both from the partial derivatives.

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import math

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import (
    d,
    elementwise,
    forward_rule,
    nondifferentiable,
    reverse_rule,
    t,
)

elementwise(math.sin, "x", "math.cos(x)")
elementwise(math.cos, "x", "-math.sin(x)")
elementwise(math.tan, "x", "1.0 + ans * ans")
elementwise(math.exp, "x", "ans")
elementwise(math.expm1, "x", "ans + 1.0")
elementwise(math.log1p, "x", "rt.div(1.0, 1.0 + x)")
elementwise(math.sqrt, "x", "rt.div(0.5, ans)")
elementwise(math.tanh, "x", "1.0 - ans * ans")
elementwise(math.sinh, "x", "math.cosh(x)")
elementwise(math.cosh, "x", "math.sinh(x)")
# |x| <= 1 here (else the primal raised), so 1 - x*x >= 0 in floating point.
elementwise(math.asin, "x", "rt.div(1.0, math.sqrt(1.0 - x * x))")
elementwise(math.acos, "x", "rt.div(-1.0, math.sqrt(1.0 - x * x))")
elementwise(math.atan, "x", "1.0 / (1.0 + x * x)")
elementwise(math.fabs, "x", "rt.sign(x)")
# math.atan2 takes (y, x): the angle of the point (x, y).
elementwise(math.atan2, "y, x", "rt.div(x, x * x + y * y)", "rt.div(-y, x * x + y * y)")
elementwise(math.log2, "x", "rt.div(1.0, x * math.log(2.0))")
elementwise(math.log10, "x", "rt.div(1.0, x * math.log(10.0))")
elementwise(math.asinh, "x", "1.0 / math.sqrt(x * x + 1.0)")
elementwise(math.acosh, "x", "rt.div(1.0, math.sqrt(x * x - 1.0))")
elementwise(math.atanh, "x", "rt.div(1.0, 1.0 - x * x)")
elementwise(math.erf, "x", "2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
elementwise(math.erfc, "x", "-2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
elementwise(math.degrees, "x", "180.0 / math.pi")
elementwise(math.radians, "x", "math.pi / 180.0")
# copysign(x, y) = |x| with the sign of y: piecewise constant in y.
elementwise(math.copysign, "x, y", "rt.sign(x) * math.copysign(1.0, y)", None)
# fmod(x, y) = x - trunc(x / y) * y.
elementwise(math.fmod, "x, y", "1.0", "-float(math.trunc(x / y))")
if hasattr(math, "exp2"):  # Python >= 3.11
    elementwise(math.exp2, "x", "ans * math.log(2.0)")
if hasattr(math, "cbrt"):  # Python >= 3.11
    elementwise(math.cbrt, "x", "rt.div(1.0, 3.0 * ans * ans)")


@reverse_rule(math.log)
def log(ans, x, base=None):
    # log(x, b) = ln x / ln b; base=None stands for e (log_of_base gives 1).
    d[x] += rt.div(d[ans], x * rt.log_of_base(base))
    d[base] += rt.div(-d[ans] * ans, base * rt.log_of_base(base))


@forward_rule(math.log)
def log_tangent(ans, x, base=None):
    t[ans] += rt.div(t[x], x * rt.log_of_base(base))
    t[ans] += rt.div(-t[base] * ans, base * rt.log_of_base(base))


@reverse_rule(math.pow)
def pow_(ans, x, y):
    d[x] += rt.unbroadcast(d[ans] * rt.pow_base_partial(x, y), x)
    d[y] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, x), y)


@forward_rule(math.pow)
def pow_tangent(ans, x, y):
    t[ans] += t[x] * rt.pow_base_partial(x, y)
    t[ans] += t[y] * rt.xlogy_safe(ans, x)


@reverse_rule(math.hypot)
def hypot(ans, *coordinates):
    d[coordinates] += rt.hypot_adjoint(d[ans], ans, coordinates)


@forward_rule(math.hypot)
def hypot_tangent(ans, *coordinates):
    t[ans] += rt.hypot_tangent(t[coordinates], coordinates, ans)


@reverse_rule(math.fsum)
def fsum(ans, seq):
    d[seq] += rt.sum_adjoint(d[ans], seq)


@forward_rule(math.fsum)
def fsum_tangent(ans, seq):
    t[ans] += rt.sum_tangent(t[seq], seq, ans)


nondifferentiable(
    math.floor,
    math.ceil,
    math.trunc,
    math.isnan,
    math.isinf,
    math.isfinite,
    math.isclose,
    math.factorial,
    math.gcd,
)
