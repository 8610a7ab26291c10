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
    "lookup",
    "lookup_attribute",
    "lookup_method",
    "nondifferentiable",
    "registered",
    "reverse_rule",
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
class Rule:
    """Everything s2s_ad knows about differentiating one primitive."""

    target: Any
    label: str
    reverse_source: Callable[..., Any] | None = None
    reverse_text: str | None = None
    template_globals: dict[str, Any] = field(default_factory=dict)
    nondifferentiable: bool = False
    elementwise_derivatives: tuple[str | None, ...] | None = None
    elementwise_params: tuple[str, ...] = ()
    _reverse: Template | None = field(default=None, repr=False)

    @property
    def reverse(self) -> Template | None:
        """The reverse-mode template, parsed on first use."""
        if self.nondifferentiable:
            return None
        if self._reverse is None:
            if self.reverse_source is not None:
                text = textwrap.dedent(inspect.getsource(self.reverse_source))
                glb = dict(self.reverse_source.__globals__)
                origin = _origin(self.reverse_source)
            elif self.reverse_text is not None:
                text = self.reverse_text
                glb = dict(self.template_globals)
                origin = f"elementwise rule for {self.label}"
            else:
                return None
            self._reverse = _parse_template(text, glb, origin)
        return self._reverse


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


def _store(target: Any, rule: Rule, method: str | None, attribute: str | None) -> None:
    if method is not None:
        _METHODS[method] = rule
    elif attribute is not None:
        _ATTRIBUTES[attribute] = rule
    else:
        _BY_ID[id(target)] = rule


def reverse_rule(
    *targets: Any, method: str | None = None, attribute: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated template as the reverse rule of ``targets``.

    With ``method="sum"`` the template is for the array method ``x.sum(...)``
    (its second parameter is ``self``); with ``attribute="T"`` for ``x.T``.
    """

    def register(template: Callable[..., Any]) -> Callable[..., Any]:
        if method is not None or attribute is not None:
            label = f".{method or attribute}"
            _store(None, Rule(None, label, reverse_source=template), method, attribute)
        for target in targets:
            _store(
                target,
                Rule(target, _label(target), reverse_source=template),
                None,
                None,
            )
        return template

    return register


def elementwise(target: Any, params: str, *derivatives: str | None) -> None:
    """Register an elementwise function from its partial derivatives.

    ``params`` names the parameters (``"x"`` or ``"x1, x2"``); each derivative
    is an expression in those names and ``ans`` (the result).  Binary rules sum
    the adjoint back over broadcast dimensions.  ``None`` marks a parameter
    with no derivative.
    """
    names = tuple(p.strip() for p in params.split(",") if p.strip())
    if len(names) != len(derivatives):
        raise TypeError(
            f"{_label(target)}: {len(names)} params, {len(derivatives)} derivatives"
        )
    lines = [f"def elementwise_rule(ans, {', '.join(names)}):"]
    for name, expr in zip(names, derivatives):
        if expr is None:
            continue
        term = f"d[ans] * ({expr})"
        if len(names) > 1:
            term = f"rt.unbroadcast({term}, {name})"
        lines.append(f"    d[{name}] += {term}")
    if len(lines) == 1:
        lines.append("    pass")
    caller = sys._getframe(1).f_globals
    glb = {k: v for k, v in caller.items() if not k.startswith("__")}
    rule = Rule(
        target,
        _label(target),
        reverse_text="\n".join(lines) + "\n",
        template_globals=glb,
        elementwise_derivatives=tuple(derivatives),
        elementwise_params=names,
    )
    _store(target, rule, None, None)


def nondifferentiable(
    *targets: Any, methods: Sequence[str] = (), attributes: Sequence[str] = ()
) -> None:
    """Declare that these results carry no gradient (argmax, floor, len...)."""
    for target in targets:
        _store(target, Rule(target, _label(target), nondifferentiable=True), None, None)
    for name in methods:
        _store(None, Rule(None, f".{name}", nondifferentiable=True), name, None)
    for name in attributes:
        _store(None, Rule(None, f".{name}", nondifferentiable=True), None, name)


_LOADED = False


def _load_tables() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    # Imported for their registrations; the order lets later tables override.
    from s2s_ad.rules import builtin_rules, math_rules, numpy_rules  # noqa: F401


def lookup(target: Any) -> Rule | None:
    """The rule registered for a callable, or None."""
    _load_tables()
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
