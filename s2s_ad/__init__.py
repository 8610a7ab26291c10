"""s2s_ad: automatic differentiation of Python/NumPy by source transformation.

``grad``/``value_and_grad``/``@differentiate`` read a function's source,
generate a new Python function (a forward sweep that records what the
reverse sweep needs, then the reversed adjoint statements) and run it;
``jvp`` generates forward-mode code (tangents beside each statement).
``trace`` shows every intermediate value and adjoint of one run; generated
code is cached in memory and on disk (``cache_info``, ``set_cache_dir``).
"""

__version__ = "0.1.0"

from s2s_ad.api import (
    Differentiable,
    differentiate,
    forward_source,
    grad,
    gradient_source,
    hessian,
    hvp,
    jacobian,
    jvp,
    jvp_function,
    value_and_grad,
    vjp,
)
from s2s_ad.cache import cache_info
from s2s_ad.diskcache import set_cache_dir
from s2s_ad.errors import S2SError
from s2s_ad.rules.builtin_rules import stop_gradient
from s2s_ad.rules.registry import (
    d,
    elementwise,
    forward_rule,
    linear,
    nondifferentiable,
    reverse_rule,
    t,
)
from s2s_ad.tracing import trace

__all__ = [
    "Differentiable",
    "S2SError",
    "cache_info",
    "d",
    "differentiate",
    "elementwise",
    "forward_rule",
    "forward_source",
    "grad",
    "gradient_source",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "jvp_function",
    "linear",
    "nondifferentiable",
    "reverse_rule",
    "set_cache_dir",
    "stop_gradient",
    "t",
    "trace",
    "value_and_grad",
    "vjp",
]
