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
    positional, varargs, names = _signature(template)
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


# id(template) -> (a weak reference to it, its signature: see _signature).
_SIGNATURES: dict[
    int, tuple[weakref.ref[Template], tuple[list[str], list[str], set[str]]]
] = {}


def _signature(template: Template) -> tuple[list[str], list[str], set[str]]:
    """The names of the template's positional parameters, of its ``*args``
    (none or one), and of all its parameters, found once per template (it is
    bound at every call of its function)."""
    entry = _SIGNATURES.get(id(template))
    if entry is None or entry[0]() is not template:
        params = template.params
        signature = (
            [n for n, kind in params if kind == "pos"],
            [n for n, kind in params if kind == "var"],
            {n for n, _ in params},
        )
        entry = _SIGNATURES[id(template)] = (weakref.ref(template), signature)
    return entry[1]


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
            return _copy(self.result)
        if name in self.bound:
            value = self.bound[name]
            if isinstance(value, list):
                return A.tuple_([A.clone(v) for v in value])
            if value is self.t.defaults.get(name):
                # A default is template code: its names are template globals.
                return _Globals(self.t, self.global_name).visit(A.clone(value))
            return _copy(value)
        return None


def _copy(node: gast.expr) -> gast.expr:
    """``A.clone(node)``, faster for the most common argument, a plain name
    (the generic copy looks at every field's class)."""
    if node.__class__ is _Name and node.annotation is None:
        ctx = node.ctx
        if not ctx.__dict__:
            new = _Name.__new__(_Name)
            fields = new.__dict__
            fields.update(node.__dict__)
            fields["ctx"] = ctx.__class__.__new__(ctx.__class__)
            return new
    return A.clone(node)


_Name = gast.Name


Plan = Callable[[_Substitute], Any]
# id(template) -> (a weak reference to it, its steps: see _steps).
_STEPS: dict[int, tuple[weakref.ref[Template], list[Step]]] = {}
_EMPTY = A.LEAVES - {gast.Constant}  # node classes without any fields
# What instantiate does with one template statement: "acc" (``d[p] +=
# value``: the plan makes the value, the key names p), "stmt" (the plan
# makes the statement) or "pass" (nothing).
Step = tuple[str, Plan, str]


def _steps(template: Template) -> list[Step]:
    """Per template statement what :func:`instantiate` does with it, decided
    once per template (it is instantiated at every call of its function)."""
    entry = _STEPS.get(id(template))
    if entry is None or entry[0]() is not template:
        stored = set(_stored_names(template))
        steps = [_step(stmt, template, stored) for stmt in template.body]
        entry = _STEPS[id(template)] = (weakref.ref(template), steps)
    return entry[1]


def _step(stmt: gast.stmt, template: Template, stored: set[str]) -> Step:
    if _is_accumulation(stmt):
        key = stmt.target.slice
        if not isinstance(key, gast.Name) or not any(
            key.id == p for p, _ in template.params
        ):
            return ("bad", _no_plan, "")
        return ("acc", compile_plan(stmt.value, template, stored), key.id)
    if isinstance(stmt, gast.Pass):
        return ("pass", _no_plan, "")
    return ("stmt", compile_plan(stmt, template, stored), "")


def _no_plan(sub: _Substitute) -> None:
    return None


def _is_accumulation(stmt: gast.stmt) -> bool:
    """``d[...] += value``."""
    return (
        isinstance(stmt, gast.AugAssign)
        and isinstance(stmt.target, gast.Subscript)
        and isinstance(stmt.target.value, gast.Name)
        and stmt.target.value.id == "d"
    )


def compile_plan(node: gast.AST, template: Template, stored: set[str]) -> Plan:
    """A function making what ``_Substitute.visit(node)`` makes: the same
    tree, every node's fields in the same order, children made (and
    rewritten) before their parent, in field order.

    Written out as Python source once per template statement, constructing
    the tree directly: deciding per call what becomes of each template node
    and walking its fields cost several times the copying itself.  Rare
    cases are left to the generic ``_Substitute`` methods."""
    writer = _PlanWriter(template, stored)
    result = writer.node(node)
    lines = ["def make(sub):", "    rewrite = sub.rewrite"]
    lines += ["    " + line for line in writer.lines]
    lines.append(f"    return {result}")
    namespace = dict(writer.constants)
    code = compile("\n".join(lines) + "\n", f"<template {template.origin}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own text, built above
    return namespace["make"]


class _PlanWriter:
    """Writes the statements of a compiled plan (see :func:`compile_plan`):
    ``node`` returns the variable that holds the made copy of a node."""

    def __init__(self, template: Template, stored: set[str]) -> None:
        self.t = template
        self.stored = stored
        self.params = {p for p, _ in template.params}
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {
            "_clone": A.clone,
            "_load": A.load,
            "_Name": gast.Name,
        }
        self.count = 0

    def const(self, value: Any) -> str:
        """A global name of the plan holding ``value``."""
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def fresh(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def node(self, node: gast.AST) -> str:
        cls = node.__class__
        fields = node.__dict__
        out = self.fresh()
        if cls in _EMPTY and not fields:
            self.lines.append(f"{out} = {self.const(cls)}.__new__({self.const(cls)})")
        elif cls is gast.Constant and all(
            v.__class__ in A.IMMUTABLE for v in fields.values()
        ):
            self.made(out, cls, fields)
        elif cls in A.LEAVES:
            self.lines.append(f"{out} = _clone({self.const(node)})")
        elif cls is gast.Name:
            self.name(out, node)
        elif self.is_adjoint(node):
            key = node.slice
            if key.__class__ is gast.Name and key.id == self.t.result:
                self.lines.append(f"{out} = _load(sub.result_adj)")
            else:  # raises BindError
                self.lines.append(f"{out} = sub.visit_Subscript({self.const(node)})")
        else:
            self.generic(out, node)
        return out

    def is_adjoint(self, node: gast.AST) -> bool:
        """``d[...]``."""
        base = node.__dict__.get("value")
        return (
            node.__class__ is gast.Subscript
            and base.__class__ is gast.Name
            and base.id == "d"
        )

    def made(self, out: str, cls: type, fields: dict[str, Any]) -> None:
        """``out``: a new ``cls`` node with a copy of ``fields``."""
        self.lines.append(f"{out} = {self.const(cls)}.__new__({self.const(cls)})")
        self.lines.append(f"{out}.__dict__.update({self.const(fields)})")

    def generic(self, out: str, node: gast.AST) -> None:
        replaced: list[tuple[str, str]] = []
        for key, value in node.__dict__.items():
            if value.__class__ is list:
                parts = [
                    self.node(v) if isinstance(v, gast.AST) else self.const(v)
                    for v in value
                ]
                replaced.append((key, "[" + ", ".join(parts) + "]"))
            elif value.__class__ not in A.IMMUTABLE and isinstance(value, gast.AST):
                replaced.append((key, self.node(value)))
        cls = node.__class__
        self.made(out, cls, node.__dict__)
        if replaced:
            self.lines.append(f"d = {out}.__dict__")
            self.lines += [f"d[{key!r}] = {value}" for key, value in replaced]
        if cls is gast.Call or cls is gast.BinOp:
            self.lines.append(f"if rewrite is not None: {out} = rewrite({out})")

    def name(self, out: str, node: gast.Name) -> None:
        """What ``_Substitute.visit_Name`` makes of a copy of ``node``."""
        name = node.id
        if node.annotation is not None or node.ctx.__dict__:
            self.lines.append(f"{out} = sub.visit_Name(_clone({self.const(node)}))")
        elif name in self.stored:  # a temporary (instantiate names them all)
            self.renamed(out, node, f"sub.temps[{name!r}]")
        elif name == self.t.result or name in self.params:
            self.argument(out, node)
        elif name in self.t.globals:
            value = self.const(self.t.globals[name])
            self.renamed(out, node, f"sub.global_name({name!r}, {value})")
        else:
            self.renamed(out, node, repr(name))

    def argument(self, out: str, node: gast.Name) -> None:
        """What visit_Name makes of the result or a parameter, without first
        copying the name it replaces; a plain name (most arguments) is
        copied on the spot, as ``_copy`` would."""
        name = node.id
        if name == self.t.result:
            self.lines.append("a = sub.result")
            plain = "a.__class__ is _Name"
        else:
            # A default is template code, left to argument().
            default = self.const(self.t.defaults.get(name))
            self.lines.append(f"a = sub.bound.get({name!r})")
            plain = f"a.__class__ is _Name and a is not {default}"
        fallback = (
            f"sub.argument({name!r}) or sub.visit_Name(_clone({self.const(node)}))"
        )
        self.lines += [
            f"if {plain} and a.annotation is None and not a.ctx.__dict__:",
            f"    {out} = _Name.__new__(_Name)",
            f"    {out}.__dict__.update(a.__dict__)",
            f"    {out}.__dict__['ctx'] = a.ctx.__class__.__new__(a.ctx.__class__)",
            "else:",
            f"    {out} = {fallback}",
        ]

    def renamed(self, out: str, node: gast.Name, new_id: str) -> None:
        ctx = self.const(node.ctx.__class__)
        self.made(out, gast.Name, node.__dict__)
        self.lines.append(f"d = {out}.__dict__")
        self.lines.append(f"d['id'] = {new_id}")
        self.lines.append(f"d['ctx'] = {ctx}.__new__({ctx})")


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
    for kind, plan, key in _steps(template):
        if kind == "acc":
            value = plan(sub)
            target = bound[key]
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
        elif kind == "stmt":
            out.append(plan(sub))
        elif kind == "bad":
            raise BindError(f"template {template.origin}: d[...] of a non-parameter")
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
