"""The derivative rule registry.

A rule is written as a *template*: a small Python function that is never
called, only parsed, whose body reads like the maths of the derivative::

    @reverse_rule(np.sin)
    def sin(ans, x):
        d[x] += d[ans] * np.cos(x)

The first parameter names the primal result; the others mirror the
primitive's own parameters (names and defaults), so a call's positional and
keyword arguments bind to them exactly as they bind to the primitive.
``d[name] += expr`` accumulates into that argument's adjoint.  The compiler
substitutes the real variable names and drops the statements of arguments
that carry no gradient.

Guarantees: every registered target maps to exactly one :class:`Rule`
(registering again replaces the rule, so users can override ours); lookups
never raise; templates are parsed lazily, once.
"""

from __future__ import annotations

import inspect
import math
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import gast
import numpy as np

__all__ = [
    "Rule",
    "Template",
    "d",
    "elementwise",
    "forward_rule",
    "linear",
    "lookup",
    "lookup_attribute",
    "lookup_method",
    "nondifferentiable",
    "registered",
    "reverse_rule",
    "t",
    "transpose_pair",
]


class _AdjointPlaceholder:
    """``d`` in rule templates: ``d[x]`` means "the adjoint of x"."""

    def __getitem__(self, key: Any) -> Any:
        raise TypeError("d[...] only has meaning inside a rule template")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("d[...] only has meaning inside a rule template")

    def __repr__(self) -> str:
        return "d"


d = _AdjointPlaceholder()
t = _AdjointPlaceholder()  # t[x] in forward templates: the tangent of x


@dataclass
class Template:
    """A parsed rule template.

    ``params`` lists (name, kind) with kind one of ``"pos"``, ``"var"``
    (``*args``), ``"kwonly"``; ``defaults`` maps names to default-value
    expressions (gast); ``result`` is the name standing for the primal result.
    """

    name: str
    result: str
    params: list[tuple[str, str]]
    defaults: dict[str, gast.expr]
    body: list[gast.stmt]
    globals: dict[str, Any]
    origin: str


@dataclass
class _Source:
    """Where a template comes from: a function, or generated text."""

    function: Callable[..., Any] | None = None
    text: str | None = None
    globals: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    parsed: Template | None = None

    def template(self) -> Template:
        if self.parsed is None:
            if self.function is not None:
                text = textwrap.dedent(inspect.getsource(self.function))
                glb = dict(self.function.__globals__)
                origin = _origin(self.function)
            else:
                text, glb, origin = self.text or "", dict(self.globals), self.origin
            self.parsed = _parse_template(text, glb, origin)
        return self.parsed


@dataclass
class Rule:
    """Everything s2s_ad knows about differentiating one primitive.

    ``linear`` names the argument (position, keyword) in which the primitive
    is linear: its forward rule is the primitive applied to that tangent.
    """

    target: Any
    label: str
    nondifferentiable: bool = False
    reverse_source: _Source | None = None
    forward_source: _Source | None = None
    linear: tuple[int, str] | None = None
    elementwise_derivatives: tuple[str | None, ...] | None = None
    elementwise_params: tuple[str, ...] = ()

    @property
    def reverse(self) -> Template | None:
        """The reverse-mode template, parsed on first use."""
        if self.nondifferentiable or self.reverse_source is None:
            return None
        return self.reverse_source.template()

    @property
    def forward(self) -> Template | None:
        """The forward-mode template, parsed on first use."""
        if self.nondifferentiable or self.forward_source is None:
            return None
        return self.forward_source.template()


def _origin(fn: Callable[..., Any]) -> str:
    try:
        return f"{inspect.getsourcefile(fn)}:{fn.__code__.co_firstlineno}"
    except (TypeError, OSError):  # pragma: no cover - templates are files
        return getattr(fn, "__qualname__", "template")


def _parse_template(text: str, glb: dict[str, Any], origin: str) -> Template:
    tree = gast.parse(text)
    fdef = tree.body[0]
    assert isinstance(fdef, gast.FunctionDef), "rule templates are functions"
    args = fdef.args
    positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
    if not positional:
        raise TypeError(f"rule template at {origin} needs a result parameter")
    params: list[tuple[str, str]] = []
    defaults: dict[str, gast.expr] = {}
    names = [a.id for a in positional]
    for name, default in zip(names[len(names) - len(args.defaults) :], args.defaults):
        defaults[name] = default
    params.extend((n, "pos") for n in names[1:])
    if args.vararg is not None:
        params.append((args.vararg.id, "var"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append((arg.id, "kwonly"))
        if default is not None:
            defaults[arg.id] = default
    body = [s for s in fdef.body if not _is_docstring(s)]
    glb.setdefault("np", np)
    glb.setdefault("math", math)
    if "rt" not in glb:
        from s2s_ad import runtime

        glb["rt"] = runtime
    return Template(fdef.name, names[0], params, defaults, body, glb, origin)


def _is_docstring(stmt: gast.stmt) -> bool:
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant)


_BY_ID: dict[int, Rule] = {}
# Specialised rules, e.g. ("numeric"): operators on numbers only, chosen by
# the compiler when kind inference proves both operands are numbers.
_VARIANTS: dict[tuple[int, str], Rule] = {}
_GENERATION = [0]


def generation() -> int:
    """Changes whenever a rule is registered (generated code depends on it)."""
    _load_tables()
    return _GENERATION[0]


_METHODS: dict[str, Rule] = {}
_ATTRIBUTES: dict[str, Rule] = {}


def _label(target: Any) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", "?")
    if isinstance(target, np.ufunc):
        module = "numpy"
    if module in ("builtins", ""):
        return name
    return f"{module}.{name}"


def _slot(table: dict[Any, Rule], key: Any, target: Any, label: str) -> Rule:
    _GENERATION[0] += 1
    rule = table.get(key)
    if rule is None or rule.nondifferentiable:
        rule = table[key] = Rule(target, label)
    return rule


def _rules_for(
    targets: Sequence[Any],
    method: str | None,
    attribute: str | None,
    variant: str | None = None,
) -> list[Rule]:
    if variant is not None:
        return [_slot(_VARIANTS, (id(x), variant), x, _label(x)) for x in targets]
    rules = [_slot(_BY_ID, id(x), x, _label(x)) for x in targets]
    if method is not None:
        rules.append(_slot(_METHODS, method, None, f".{method}"))
    if attribute is not None:
        rules.append(_slot(_ATTRIBUTES, attribute, None, f".{attribute}"))
    return rules


def reverse_rule(
    *targets: Any,
    method: str | None = None,
    attribute: str | None = None,
    variant: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated template as the reverse rule of ``targets``.

    With ``method="sum"`` the template is for the array method ``x.sum(...)``
    (its second parameter is ``self``); with ``attribute="T"`` for ``x.T``.
    Registering again replaces the previous reverse rule.
    """

    def register(template: Callable[..., Any]) -> Callable[..., Any]:
        for rule in _rules_for(targets, method, attribute, variant):
            rule.reverse_source = _Source(function=template)
        return template

    return register


def forward_rule(
    *targets: Any,
    method: str | None = None,
    attribute: str | None = None,
    variant: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated template as the forward (tangent) rule.

    Its parameters are those of a reverse template; its body is ``t[ans] +=
    expr`` statements, one per argument, where ``t[x]`` is the tangent of
    ``x``.  A statement whose argument carries no tangent is dropped; the
    kept ones are summed.
    """

    def register(template: Callable[..., Any]) -> Callable[..., Any]:
        for rule in _rules_for(targets, method, attribute, variant):
            rule.forward_source = _Source(function=template)
        return template

    return register


def linear(
    *targets: Any,
    argnum: int = 0,
    argname: str = "a",
    method: str | None = None,
    attribute: str | None = None,
) -> None:
    """Declare the targets linear in one argument (position, keyword name).

    Their forward rule is then the target itself applied to the tangent of
    that argument, the other arguments unchanged.  For a method or an
    attribute the receiver is the linear argument.
    """
    for rule in _rules_for(targets, method, attribute):
        rule.linear = (argnum, argname)


def elementwise(target: Any, params: str, *derivatives: str | None) -> None:
    """Register an elementwise function from its partial derivatives.

    ``params`` names the parameters (``"x"`` or ``"x1, x2"``); each derivative
    is an expression in those names and ``ans`` (the result).  Both a reverse
    and a forward rule are made.  Binary rules sum the adjoint back over
    broadcast dimensions (reverse) and broadcast tangents to the result's
    shape (forward).  ``None`` marks a parameter with no derivative.
    """
    names = tuple(p.strip() for p in params.split(",") if p.strip())
    if len(names) != len(derivatives):
        raise TypeError(
            f"{_label(target)}: {len(names)} params, {len(derivatives)} derivatives"
        )
    head = f"def elementwise_rule(ans, {', '.join(names)}):"
    reverse, forward = [head], [head]
    for name, expr in zip(names, derivatives):
        if expr is None:
            continue
        factor = "" if expr.strip() in ("1", "1.0") else f" * ({expr})"
        term = f"d[ans]{factor}"
        tangent = f"t[{name}]{factor}"
        if len(names) > 1:
            term = f"rt.unbroadcast({term}, {name})"
            tangent = f"rt.broadcast_like({tangent}, ans)"
        reverse.append(f"    d[{name}] += {term}")
        forward.append(f"    t[ans] += {tangent}")
    for lines in (reverse, forward):
        if len(lines) == 1:
            lines.append("    pass")
    glb = _caller_globals()
    origin = f"elementwise rule for {_label(target)}"
    for rule in _rules_for([target], None, None):
        rule.reverse_source = _Source(
            text="\n".join(reverse) + "\n", globals=glb, origin=origin
        )
        rule.forward_source = _Source(
            text="\n".join(forward) + "\n", globals=glb, origin=origin
        )
        rule.elementwise_derivatives = tuple(derivatives)
        rule.elementwise_params = names


def transpose_pair(helper: Any, transpose: Any, params: str) -> None:
    """Register the rules of a run-time helper linear in its first parameter
    and of its transpose, which takes ``v`` and then the helper's parameters.

    ``params`` lists the helper's parameters with their defaults
    (``"g, arrays, axis=0"``).  The reverse rule of each of the two is the
    other applied to the adjoint, its forward rule itself applied to the
    tangent (the other parameters unchanged), so the pair is closed under
    differentiation.  Both are called as ``rt.<name>`` in the templates.
    """
    names = [p.split("=")[0].strip() for p in params.split(",")]
    g, rest = names[0], "".join(f", {n}" for n in names[1:])
    h, ht = f"rt.{helper.__name__}", f"rt.{transpose.__name__}"
    glb = _caller_globals()
    for target, signature, reverse, forward in (
        (
            helper,
            params,
            f"d[{g}] += {ht}(d[out], {g}{rest})",
            f"t[out] += {h}(t[{g}]{rest})",
        ),
        (
            transpose,
            f"v, {params}",
            f"d[v] += {h}(d[out]{rest})",
            f"t[out] += {ht}(t[v], {g}{rest})",
        ),
    ):
        origin = f"transpose-pair rule for {_label(target)}"
        for rule in _rules_for([target], None, None):
            for kind, line in (("reverse", reverse), ("forward", forward)):
                text = f"def {kind}_rule(out, {signature}):\n    {line}\n"
                source = _Source(text=text, globals=glb, origin=origin)
                setattr(rule, f"{kind}_source", source)


def _caller_globals() -> dict[str, Any]:
    """The globals of the rule table calling the registering function."""
    caller = sys._getframe(2).f_globals
    return {k: v for k, v in caller.items() if not k.startswith("__")}


def nondifferentiable(
    *targets: Any, methods: Sequence[str] = (), attributes: Sequence[str] = ()
) -> None:
    """Declare that these results carry no gradient (argmax, floor, len...)."""
    _GENERATION[0] += 1
    for target in targets:
        _BY_ID[id(target)] = Rule(target, _label(target), nondifferentiable=True)
    for name in methods:
        _METHODS[name] = Rule(None, f".{name}", nondifferentiable=True)
    for name in attributes:
        _ATTRIBUTES[name] = Rule(None, f".{name}", nondifferentiable=True)


_LOADED = False


def _load_tables() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    # Imported for their registrations; the order lets later tables override.
    from s2s_ad.rules import (  # noqa: F401
        builtin_rules,
        math_rules,
        numpy_rules,
        operator_rules,
        runtime_rules,
    )


def lookup(target: Any, variant: str | None = None) -> Rule | None:
    """The rule registered for a callable (its ``variant`` if any), or None."""
    _load_tables()
    if variant is not None and (id(target), variant) in _VARIANTS:
        return _VARIANTS[(id(target), variant)]
    return _BY_ID.get(id(target))


def lookup_method(name: str) -> Rule | None:
    """The rule for the array method ``name``, or None."""
    _load_tables()
    return _METHODS.get(name)


def lookup_attribute(name: str) -> Rule | None:
    """The rule for the array attribute ``name``, or None."""
    _load_tables()
    return _ATTRIBUTES.get(name)


def registered() -> Iterator[Rule]:
    """Every registered rule: functions, then methods, then attributes."""
    _load_tables()
    yield from _BY_ID.values()
    yield from _METHODS.values()
    yield from _ATTRIBUTES.values()
