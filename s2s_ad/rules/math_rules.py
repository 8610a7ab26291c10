"""Derivative rules for the :mod:`math` module.

Guarantees: every rule works on Python floats and ints (and NumPy scalars)
and gives Python-float adjoints for Python-number arguments; a derivative
that is infinite at a point (``sqrt`` at 0, ``log`` at 0, ``asin`` at ±1)
evaluates to ``inf``/``nan`` there instead of raising ZeroDivisionError or
ValueError, because the primal call itself succeeded.  Functions that are
piecewise constant (``floor``, ``isnan``...) are non-differentiable: their
results carry no gradient.

Templates are parsed, never called; see :mod:`s2s_ad.rules.registry`.
"""

from __future__ import annotations

import math

from s2s_ad import runtime as rt
from s2s_ad.rules.registry import d, elementwise, nondifferentiable, reverse_rule

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


@reverse_rule(math.log)
def log(ans, x, base=None):
    # log(x, b) = ln x / ln b; base=None stands for e (log_of_base gives 1).
    d[x] += rt.div(d[ans], x * rt.log_of_base(base))
    d[base] += rt.div(-d[ans] * ans, base * rt.log_of_base(base))


@reverse_rule(math.pow)
def pow_(ans, x, y):
    d[x] += rt.unbroadcast(d[ans] * rt.pow_base_partial(x, y), x)
    d[y] += rt.unbroadcast(d[ans] * rt.xlogy_safe(ans, x), y)


@reverse_rule(math.hypot)
def hypot(ans, *coordinates):
    d[coordinates] += rt.hypot_adjoint(d[ans], ans, coordinates)


nondifferentiable(
    math.floor,
    math.ceil,
    math.trunc,
    math.isnan,
    math.isinf,
    math.isfinite,
)
