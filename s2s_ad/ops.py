"""What each core statement computes: the bridge from syntax to rules.

Guarantees: :func:`classify` maps every core expression to one
:class:`Op`, resolving calls to the Python objects they name in the user's
namespace, and lists the names through which a gradient can flow.  It never
raises: an unresolvable call is reported as kind ``"unknown"`` and the
transformer decides whether that is an error (only when gradient flows).
"""

from __future__ import annotations

import inspect
import math
import operator
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.rules import registry
from s2s_ad.source import _MISSING, FunctionSource

BINOPS = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
    gast.MatMult: operator.matmul,
    gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos}

# NumPy functions returning lists/tuples: their adjoints are containers.
_CONTAINER_RESULTS = {
    "split", "array_split", "hsplit", "vsplit", "dsplit", "meshgrid",
    "broadcast_arrays", "eigh", "svd", "qr", "slogdet", "linspace",
    "atleast_1d", "atleast_2d", "atleast_3d", "unstack",
}  # fmt: skip
_NUMERIC_METHODS = {
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "dot",
    "reshape",
    "ravel",
    "flatten",
    "transpose",
    "std",
    "var",
    "clip",
    "squeeze",
    "astype",
    "cumsum",
    "cumprod",
}


@dataclass
class Op:
    """One core operation.

    kind: ``atom`` (a copy), ``rule`` (instantiate ``rule.reverse`` with
    ``args``/``keywords``), ``subscript``, ``display`` (tuple/list/dict),
    ``user`` (call to a user function, ``callee``), ``nondiff``, ``unknown``.
    """

    kind: str
    label: str = ""
    rule: registry.Rule | None = None
    args: list[gast.expr] = field(default_factory=list)
    keywords: dict[str, gast.expr] = field(default_factory=dict)
    callee: Any = None
    receiver: gast.expr | None = None
    numeric: bool = False

    def flow_names(self) -> list[str]:
        """Names whose adjoints this operation can contribute to."""
        if self.kind in ("nondiff",):
            return []
        nodes = list(self.args) + list(self.keywords.values())
        if self.receiver is not None:
            nodes.append(self.receiver)
        names = []
        for node in nodes:
            if isinstance(node, gast.Name):
                names.append(node.id)
            elif isinstance(node, (gast.Tuple, gast.List)):
                names.extend(e.id for e in node.elts if isinstance(e, gast.Name))
        return names


def resolve(src: FunctionSource, node: gast.expr, local_names) -> Any:
    """The object a static dotted name refers to, or _MISSING."""
    path = A.dotted_name(node)
    if path is None:
        return _MISSING
    root, *rest = path.split(".")
    if root in local_names:
        return _MISSING
    value = src.namespace.lookup(root)
    for part in rest:
        if value is _MISSING:
            return _MISSING
        value = getattr(value, part, _MISSING)
    return value


def label_of(obj: Any, fallback: str) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", None)
    if isinstance(obj, np.ufunc):
        return f"numpy.{obj.__name__}"
    if name and module and module != "builtins":
        return f"{module}.{name}"
    return name or fallback


#: A module global that makes the compiler transform the module's functions
#: even inside s2s_ad (see s2s_ad/rules/runtime_sources.py).
TRANSFORM_MARKER = "__s2s_ad_transform__"


def is_user_function(obj: Any) -> bool:
    """Python functions we transform rather than look up rules for."""
    if not inspect.isfunction(obj):
        return False
    if obj.__globals__.get(TRANSFORM_MARKER) is True:
        return True  # s2s_ad's own differentiable restatements
    module = getattr(obj, "__module__", "") or ""
    top = module.split(".")[0]
    return top not in ("numpy", "scipy", "math", "s2s_ad", "builtins")


def classify(
    src: FunctionSource,
    value: gast.expr,
    local_names,
    kinds: dict[str, str] | None = None,
) -> Op:
    """The operation ``value`` performs.  With ``kinds`` (from kind
    inference), operators on proven numbers use their ``numeric`` rules."""
    if isinstance(value, gast.Name):
        return Op("atom", args=[value]) if value.id in local_names else Op("nondiff")
    if isinstance(value, gast.Constant) or A.is_atom(value):
        return Op("nondiff")
    if isinstance(value, gast.BinOp):
        fn = BINOPS.get(type(value.op))
        numbers = kinds is not None and all(
            _is_number(operand, kinds) for operand in (value.left, value.right)
        )
        rule = registry.lookup(fn, "numeric" if numbers else None) if fn else None
        return _rule_op(rule, _op_symbol(value.op), [value.left, value.right], {}, True)
    if isinstance(value, gast.UnaryOp):
        fn = UNARYOPS.get(type(value.op))
        if fn is None:
            return Op("nondiff")
        return _rule_op(
            registry.lookup(fn), _op_symbol(value.op), [value.operand], {}, True
        )
    if isinstance(value, (gast.Compare, gast.BoolOp, gast.Lambda, gast.JoinedStr)):
        return Op("nondiff")
    if isinstance(value, gast.Subscript):
        if isinstance(value.value, gast.Name) and value.value.id in local_names:
            return Op("subscript", args=[value.value])
        return Op("nondiff")
    if isinstance(value, gast.Attribute):
        if A.root_name(value) not in local_names:
            return Op("nondiff")
        rule = registry.lookup_attribute(value.attr)
        op = _rule_op(rule, "." + value.attr, [], {}, value.attr == "T")
        op.receiver = value.value
        return op
    if isinstance(value, (gast.Tuple, gast.List, gast.Dict)):
        elts = value.values if isinstance(value, gast.Dict) else value.elts
        return Op("display", args=list(elts))
    if isinstance(value, gast.Call):
        return _classify_call(src, value, local_names)
    return Op("nondiff")


def _classify_call(src: FunctionSource, call: gast.Call, local_names) -> Op:
    keywords = {kw.arg: kw.value for kw in call.keywords}
    func = call.func
    if isinstance(func, gast.Attribute) and A.root_name(func) in local_names:
        rule = registry.lookup_method(func.attr)
        op = _rule_op(
            rule,
            "." + func.attr,
            list(call.args),
            keywords,
            func.attr in _NUMERIC_METHODS,
        )
        op.receiver = func.value
        if op.kind == "unknown":
            op.label = f"method .{func.attr}()"
        return op
    obj = resolve(src, func, local_names)
    if hasattr(obj, "__s2s_function__") and not isinstance(obj, type):
        # grad(...) and jvp_function(...) objects stand for generated code.
        obj = obj.__s2s_function__()
    label = A.dotted_name(func) or "this call"
    if obj is _MISSING:
        return Op("unknown", label=label, args=list(call.args), keywords=keywords)
    rule = registry.lookup(obj)
    if rule is not None:
        numeric = _numeric_callable(obj)
        op = _rule_op(rule, label, list(call.args), keywords, numeric)
        return op
    if is_user_function(obj):
        return Op(
            "user", label=label, args=list(call.args), keywords=keywords, callee=obj
        )
    if inspect.isclass(obj) and not issubclass(obj, (int, float, np.generic)):
        return Op(
            "unknown",
            label=label_of(obj, label),
            args=list(call.args),
            keywords=keywords,
        )
    return Op(
        "unknown", label=label_of(obj, label), args=list(call.args), keywords=keywords
    )


def _numeric_callable(obj: Any) -> bool:
    if isinstance(obj, np.ufunc):
        return True
    module = getattr(obj, "__module__", "") or ""
    if module == "math" or obj in vars(math).values():
        return True
    if module.startswith("numpy"):
        return getattr(obj, "__name__", "") not in _CONTAINER_RESULTS
    return False


def _rule_op(
    rule: registry.Rule | None,
    label: str,
    args: list[gast.expr],
    keywords: dict[str, gast.expr],
    numeric: bool,
) -> Op:
    if rule is None:
        return Op("unknown", label=label, args=args, keywords=keywords)
    if rule.nondifferentiable:
        return Op("nondiff", label=label)
    return Op(
        "rule", label=label, rule=rule, args=args, keywords=keywords, numeric=numeric
    )


#: The label of each operator (made once: asked for every operation).
_OPERATOR_LABELS = {
    cls: f"operator {symbol}"
    for cls, symbol in {
        gast.Add: "+",
        gast.Sub: "-",
        gast.Mult: "*",
        gast.Div: "/",
        gast.Pow: "**",
        gast.MatMult: "@",
        gast.FloorDiv: "//",
        gast.Mod: "%",
        gast.USub: "unary -",
        gast.UAdd: "unary +",
    }.items()
}


def _op_symbol(op: gast.AST) -> str:
    found = _OPERATOR_LABELS.get(type(op))
    return found if found is not None else f"operator {type(op).__name__}"


def _is_number(node: gast.expr, kinds: dict[str, str]) -> bool:
    if isinstance(node, gast.Name):
        return kinds.get(node.id) in ("scalar", "array", "numeric")
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    return A.is_atom(node)
