"""Instantiate rule templates into adjoint statements.

Guarantees: :func:`instantiate` returns statements that read only the call's
own argument atoms, the primal result, the result's adjoint, fresh temporaries
and the template's globals (under the names ``global_name`` gives them);
``d[p] += e`` becomes an accumulation into p's adjoint and is dropped when p
carries no gradient; if nothing is accumulated, nothing is emitted.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Union

import gast

from s2s_ad import astutil as A
from s2s_ad.naming import Namer
from s2s_ad.rules.registry import Template

Bound = dict[str, Union[gast.expr, list[gast.expr]]]


class BindError(Exception):
    """A call's arguments do not fit the rule template's signature."""


def bind(
    template: Template,
    args: list[gast.expr],
    keywords: dict[str, gast.expr],
    receiver: gast.expr | None = None,
) -> Bound:
    """Bind call arguments (ASTs) to the template parameters, like a call."""
    bound: Bound = {}
    positional = [n for n, kind in template.params if kind == "pos"]
    varargs = [n for n, kind in template.params if kind == "var"]
    names = [n for n, _ in template.params]
    args = list(args)
    if receiver is not None:
        args = [receiver] + args
    for name, value in zip(positional, args):
        bound[name] = value
    extra = args[len(positional) :]
    if extra and not varargs:
        raise BindError(
            f"takes {len(positional)} positional arguments but {len(args)} were given"
        )
    if varargs:
        bound[varargs[0]] = extra
    for key, value in keywords.items():
        if key not in names or key in varargs:
            raise BindError(f"got an unexpected keyword argument {key!r}")
        if key in bound:
            raise BindError(f"got multiple values for argument {key!r}")
        bound[key] = value
    for name, kind in template.params:
        if name not in bound:
            if name not in template.defaults:
                raise BindError(f"missing required argument {name!r}")
            bound[name] = template.defaults[name]
    return bound


class _Globals(gast.NodeTransformer):
    """Renames a template's global names to their generated-code names."""

    def __init__(
        self, template: Template, global_name: Callable[[str, Any], str]
    ) -> None:
        self.t = template
        self.global_name = global_name

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id in self.t.globals:
            node.id = self.global_name(node.id, self.t.globals[node.id])
        return node


class _Substitute(gast.NodeTransformer):
    """Copies template code with the call's pieces substituted.

    ``visit`` never changes the template: it returns a new tree, built in
    one pass (copying first and then transforming the copy costs twice as
    much, and templates are instantiated once per differentiated call)."""

    def __init__(
        self,
        template: Template,
        bound: Bound,
        result: gast.expr,
        result_adj: str,
        temps: dict[str, str],
        global_name: Callable[[str, Any], str],
        rewrite: Callable[[gast.expr], gast.expr] | None = None,
    ) -> None:
        self.t = template
        self.bound = bound
        self.result = result
        self.result_adj = result_adj
        self.temps = temps
        self.global_name = global_name
        self.rewrite = rewrite

    def visit(self, node: gast.AST) -> gast.AST:
        cls = node.__class__
        if cls in A.LEAVES:
            return A.clone(node)
        if cls is gast.Name:
            return self.visit_Name(A.clone(node))
        if cls is gast.Subscript:
            return self.visit_Subscript(node)
        return self.generic_visit(node)

    def generic_visit(self, node: gast.AST) -> gast.AST:
        """A copy of ``node`` whose child nodes are visited."""
        cls = node.__class__
        new = cls.__new__(cls)
        fields = new.__dict__
        for key, value in node.__dict__.items():
            kind = value.__class__
            if kind is list:
                value = [self.visit(v) if isinstance(v, gast.AST) else v for v in value]
            elif kind not in A.IMMUTABLE and isinstance(value, gast.AST):
                value = self.visit(value)
            fields[key] = value
        if self.rewrite is not None and (cls is gast.Call or cls is gast.BinOp):
            return self.rewrite(new)
        return new

    def visit_Subscript(self, node: gast.Subscript) -> gast.expr:
        if isinstance(node.value, gast.Name) and node.value.id == "d":
            key = node.slice
            if isinstance(key, gast.Name) and key.id == self.t.result:
                return A.load(self.result_adj)
            raise BindError(f"template {self.t.origin} reads d[...] of an argument")
        return self.generic_visit(node)

    def visit_Name(self, node: gast.Name) -> gast.expr:
        name = node.id
        if name in self.temps:
            node.id = self.temps[name]
            return node
        found = self.argument(name)
        if found is not None:
            return found
        if name in self.t.globals:
            node.id = self.global_name(name, self.t.globals[name])
        return node

    def argument(self, name: str) -> gast.expr | None:
        """A copy of what the result or parameter ``name`` stands for, or
        None if it is neither (nor bound)."""
        if name == self.t.result:
            return A.clone(self.result)
        if name in self.bound:
            value = self.bound[name]
            if isinstance(value, list):
                return A.tuple_([A.clone(v) for v in value])
            if value is self.t.defaults.get(name):
                # A default is template code: its names are template globals.
                return _Globals(self.t, self.global_name).visit(A.clone(value))
            return A.clone(value)
        return None


Plan = Callable[[_Substitute], Any]
# id(template) -> (a weak reference to it, a plan per statement: of the value
# of ``d[p] += value``, else of the statement).
_PLANS: dict[int, tuple[weakref.ref[Template], list[Plan]]] = {}
_EMPTY = A.LEAVES - {gast.Constant}  # node classes without any fields


def _plans(template: Template) -> list[Plan]:
    entry = _PLANS.get(id(template))
    if entry is None or entry[0]() is not template:
        stored = set(_stored_names(template))
        plans = [
            _plan(stmt.value if _is_accumulation(stmt) else stmt, template, stored)
            for stmt in template.body
        ]
        entry = _PLANS[id(template)] = (weakref.ref(template), plans)
    return entry[1]


def _is_accumulation(stmt: gast.stmt) -> bool:
    """``d[...] += value``."""
    return (
        isinstance(stmt, gast.AugAssign)
        and isinstance(stmt.target, gast.Subscript)
        and isinstance(stmt.target.value, gast.Name)
        and stmt.target.value.id == "d"
    )


def _plan(node: gast.AST, template: Template, stored: set[str]) -> Plan:
    """A function making what ``_Substitute.visit(node)`` makes (the same
    tree, fields in the same order, children made in the same order).

    A template is instantiated at every call of its function; deciding once
    per template node what becomes of it and which of its fields hold nodes
    leaves only the copying itself to every call."""
    cls = node.__class__
    fields = node.__dict__
    if cls in _EMPTY and not fields:
        return lambda sub: cls.__new__(cls)
    if cls in A.LEAVES:
        return lambda sub: A.clone(node)
    if cls is gast.Name:
        return _name_plan(node, template, stored)
    base = fields.get("value")
    if cls is gast.Subscript and base.__class__ is gast.Name and base.id == "d":
        return lambda sub: sub.visit_Subscript(node)
    children: list[tuple[str, Any, bool]] = []  # (field, plan(s), is a list)
    for key, value in fields.items():
        if value.__class__ is list:
            parts = [
                (_plan(v, template, stored), None)
                if isinstance(v, gast.AST)
                else (None, v)
                for v in value
            ]
            children.append((key, parts, True))
        elif value.__class__ not in A.IMMUTABLE and isinstance(value, gast.AST):
            children.append((key, _plan(value, template, stored), False))
    rewritten = cls is gast.Call or cls is gast.BinOp

    def make(sub: _Substitute) -> gast.AST:
        new = cls.__new__(cls)
        made = new.__dict__
        made.update(fields)  # every field in order; children replaced below
        for key, plan, many in children:
            if many:
                made[key] = [p(sub) if p is not None else v for p, v in plan]
            else:
                made[key] = plan(sub)
        if rewritten and sub.rewrite is not None:
            return sub.rewrite(new)
        return new

    return make


def _name_plan(node: gast.Name, template: Template, stored: set[str]) -> Plan:
    """:func:`_plan` of a name: what ``_Substitute.visit_Name`` makes of it."""
    name = node.id
    if node.annotation is not None or node.ctx.__dict__:
        return lambda sub: sub.visit_Name(A.clone(node))
    fields = node.__dict__
    ctx = node.ctx.__class__

    def renamed(new_id: str) -> gast.Name:
        new = _Name.__new__(_Name)
        made = new.__dict__
        made.update(fields)
        made["id"] = new_id
        made["ctx"] = ctx.__new__(ctx)
        return new

    if name in stored:  # a temporary (instantiate names them all)
        return lambda sub: renamed(sub.temps[name])
    if name == template.result or any(name == p for p, _ in template.params):
        # What visit_Name makes, without first copying the name it replaces.
        return lambda sub: sub.argument(name) or sub.visit_Name(A.clone(node))
    if name in template.globals:
        value = template.globals[name]
        return lambda sub: renamed(sub.global_name(name, value))
    return lambda sub: renamed(name)


_Name = gast.Name


# id(template) -> (a weak reference to it, the names its statements store in
# order); a template is instantiated at every call of its function.
_STORED: dict[int, tuple[weakref.ref[Template], list[str]]] = {}


def _stored_names(template: Template) -> list[str]:
    """The names each statement stores, sorted per statement."""
    entry = _STORED.get(id(template))
    if entry is None or entry[0]() is not template:
        names = [n for stmt in template.body for n in sorted(A.names_stored(stmt))]
        entry = _STORED[id(template)] = (weakref.ref(template), names)
    return entry[1]


def instantiate(
    template: Template,
    bound: Bound,
    result: gast.expr,
    result_adj: str,
    accumulate: Callable[[gast.expr, gast.expr], gast.stmt | None],
    global_name: Callable[[str, Any], str],
    namer: Namer,
    rewrite: Callable[[gast.expr], gast.expr] | None = None,
) -> list[gast.stmt]:
    """Adjoint statements for one call; see the module docstring.

    ``rewrite`` (see :func:`s2s_ad.simplify.rewriter`) is applied to every
    call and binary operation made from template code, children first, as
    it is made; the bound argument trees are copied as they are."""
    temps: dict[str, str] = {}
    for name in _stored_names(template):
        if name not in temps:
            temps[name] = namer.fresh(name)
    sub = _Substitute(template, bound, result, result_adj, temps, global_name, rewrite)
    out: list[gast.stmt] = []
    accumulated = False
    for stmt, plan in zip(template.body, _plans(template)):
        if _is_accumulation(stmt):
            key = stmt.target.slice
            if not isinstance(key, gast.Name) or key.id not in bound:
                raise BindError(
                    f"template {template.origin}: d[...] of a non-parameter"
                )
            value = plan(sub)
            target = bound[key.id]
            if isinstance(target, list):
                names = [t for t in target]
                if not any(accumulate(t, A.const(0.0)) for t in names):
                    continue
                tmp = namer.fresh("parts")
                out.append(A.assign(tmp, value))
                for k, t in enumerate(names):
                    acc = accumulate(t, A.subscript(A.load(tmp), A.const(k)))
                    if acc is not None:
                        out.append(acc)
                        accumulated = True
                continue
            acc = accumulate(target, value)
            if acc is not None:
                out.append(acc)
                accumulated = True
            continue
        if isinstance(stmt, gast.Pass):
            continue
        out.append(plan(sub))
    return out if accumulated else []


class _SubstituteForward(_Substitute):
    """Also replaces ``t[p]`` by the tangent of the argument bound to p."""

    def __init__(
        self, template: Template, bound: Bound, result: gast.expr, tangents, global_name
    ) -> None:
        super().__init__(template, bound, result, "", {}, global_name)
        self.tangents = tangents
        self.missing = False

    def visit_Subscript(self, node: gast.Subscript) -> gast.expr:
        if isinstance(node.value, gast.Name) and node.value.id == "t":
            key = node.slice
            if not isinstance(key, gast.Name) or key.id not in self.bound:
                raise BindError(f"template {self.t.origin}: t[...] of a non-parameter")
            value = self.bound[key.id]
            if isinstance(value, list):
                parts = [self.tangents(v) for v in value]
                if all(p is None for p in parts):
                    self.missing = True
                    return A.const(0.0)
                return A.tuple_([p if p is not None else A.const(0.0) for p in parts])
            tangent = self.tangents(value)
            if tangent is None:
                self.missing = True
                return A.const(0.0)
            return tangent
        return super().visit_Subscript(node)


def instantiate_forward(
    template: Template,
    bound: Bound,
    result: gast.expr,
    tangents: Callable[[gast.expr], gast.expr | None],
    global_name: Callable[[str, Any], str],
    combine: Callable[[gast.expr, gast.expr], gast.expr] | None = None,
) -> gast.expr | None:
    """The tangent of a call's result as one expression, or None if zero.

    Each ``t[ans] += expr`` statement contributes ``expr`` unless a tangent it
    reads is absent (its argument carries none).  The terms are joined with
    ``combine(left, right)``, by default ``left + right`` (right for numbers;
    the caller passes a structure-aware sum when the result may be a list).
    """
    terms: list[gast.expr] = []
    for stmt in template.body:
        if isinstance(stmt, gast.Pass):
            continue
        if not (
            isinstance(stmt, gast.AugAssign)
            and isinstance(stmt.target, gast.Subscript)
            and isinstance(stmt.target.value, gast.Name)
            and stmt.target.value.id == "t"
        ):
            raise BindError(
                f"forward template {template.origin}: only t[ans] += ... allowed"
            )
        sub = _SubstituteForward(template, bound, result, tangents, global_name)
        value = sub.visit(stmt.value)
        if not sub.missing:
            terms.append(value)
    if not terms:
        return None
    total = terms[0]
    for term in terms[1:]:
        if combine is None:
            total = gast.BinOp(left=total, op=gast.Add(), right=term)
        else:
            total = combine(total, term)
    return total
