"""Forward mode: tangent statements beside each primal statement.

Input: one function in core form and its activity (``wrt`` = the inputs
that carry tangents).  Output: one statement list computing the primal
values and, after each active statement, the tangent ``x_dot`` of its target.

Guarantees: the primal statements are the original computation, in order;
a tangent is computed right after its primal value, reading only values
current at that point, so no trace is needed; control flow is the primal's
own.  The zero tangent of any structure is ``0.0``; tangents of arrays are
never updated in place (a write into an array makes a new tangent array).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

import gast

from s2s_ad import astutil as A
from s2s_ad import ops as O
from s2s_ad.analysis import Activity
from s2s_ad.errors import MissingRuleError, TransformError
from s2s_ad.kinds import NUMBERS
from s2s_ad.naming import Namer
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.source import FunctionSource
from s2s_ad.sweep import SweepBuilder
from s2s_ad.templates import BindError, bind, instantiate_forward

Stmts = list[gast.stmt]


class ForwardBuilder(SweepBuilder):
    """Builds the tangent-carrying version of one function."""

    def __init__(
        self,
        src: FunctionSource,
        nf: NormalizedFunction,
        activity: Activity,
        namer: Namer,
        comments: list[str],
        global_name: Callable[[str, Any], str],
        callee_name: Callable[[Any], tuple[str, list[str]]],
    ) -> None:
        super().__init__(src, nf, activity, namer, comments, global_name)
        # Statements made by block(), their trees numbered (see copy_lineno).
        self.numbered: dict[int, gast.AST] = {}
        self.callee_name = callee_name
        self.tangents: dict[str, str] = {}

    def dot(self, name: str) -> str:
        if name not in self.tangents:
            self.tangents[name] = self.namer.exact_or_fresh(f"{name}_dot")
        return self.tangents[name]

    def tangent_of(self, node: gast.expr) -> gast.expr | None:
        """The tangent of an operand, or None when it carries none."""
        if self.act.is_active(node):
            return A.load(self.dot(node.id))
        return None

    def tangent_or_zero(self, node: gast.expr) -> gast.expr:
        return self.tangent_of(node) or A.const(0.0)

    # -- blocks ----------------------------------------------------------

    def block(self, stmts: Stmts) -> Stmts:
        out: Stmts = []
        for stmt in stmts:
            produced = self.stmt(stmt)
            if getattr(stmt, "lineno", None) is not None:
                for node in produced:
                    A.copy_lineno(node, stmt, self.numbered)
                    self.numbered[id(node)] = node
            out += produced
        return out

    def stmt(self, stmt: gast.stmt) -> Stmts:
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                return [stmt] + self.assign_name(stmt, target.id)
            return [stmt] + self.assign_slot(stmt, target)
        if isinstance(stmt, gast.Expr):
            return [stmt] + self.expr_stmt(stmt)
        if isinstance(stmt, gast.If):
            new = gast.If(
                test=stmt.test,
                body=self.block(stmt.body) or [gast.Pass()],
                orelse=self.block(stmt.orelse),
            )
            return [new]
        if isinstance(stmt, gast.For):
            new = copy.copy(stmt)
            new.body = self.block(stmt.body) or [gast.Pass()]
            return [new]
        if isinstance(stmt, gast.While):
            new = copy.copy(stmt)
            new.body = self.block(stmt.body) or [gast.Pass()]
            return [new]
        return [stmt]

    # -- assignments -----------------------------------------------------

    def assign_name(self, stmt: gast.Assign, name: str) -> Stmts:
        from s2s_ad.reverse import _popped_list

        owner = _popped_list(stmt.value, self.nf.locals)
        if owner is not None:
            if owner not in self.act.active:
                return []
            item = (
                self.dot(name)
                if name in self.act.active
                else self.namer.fresh("unused")
            )
            target = A.tuple_([A.store(item), A.store(self.dot(owner))], gast.Store())
            call = A.call(self.rt("pop_tangent"), [A.load(self.dot(owner))])
            return [A.assign(target, call)]
        if name not in self.act.active:
            op = O.classify(self.src, stmt.value, self.nf.locals, self.act.kinds)
            self.check_flow(stmt, op)
            return []
        op = O.classify(self.src, stmt.value, self.nf.locals, self.act.kinds)
        target = self.dot(name)
        value = self.tangent_expr(stmt, op, name)
        if isinstance(value, list):  # a user call: already complete statements
            return value
        return [A.assign(target, value)]

    def check_flow(self, stmt: gast.stmt, op: O.Op) -> None:
        if op.kind == "unknown" and any(n in self.act.active for n in op.flow_names()):
            raise self.missing(stmt, op.label)

    def missing(self, stmt: gast.stmt, label: str) -> TransformError:
        return self.src.error(
            MissingRuleError,
            f"no forward-mode derivative rule for {label} (its arguments carry "
            "tangents). Register one with @s2s_ad.forward_rule(...), s2s_ad.linear "
            "or s2s_ad.elementwise",
            stmt,
        )

    def tangent_expr(self, stmt: gast.Assign, op: O.Op, name: str) -> Any:
        value = stmt.value
        if op.kind == "atom":
            return self.tangent_or_zero(value)
        if op.kind == "rule":
            return self.rule_tangent(stmt, op, name)
        if op.kind == "subscript":
            base = self.tangent_of(op.args[0])
            if base is None:
                return A.const(0.0)
            return A.call(self.rt("getitem_adj"), [base, A.index_value(value.slice)])
        if op.kind == "display":
            elts = [self.tangent_or_zero(e) for e in op.args]
            if isinstance(value, gast.Dict):
                return gast.Dict(
                    keys=[copy.deepcopy(k) for k in value.keys], values=elts
                )
            if isinstance(value, gast.List):
                return gast.List(elts=elts, ctx=gast.Load())
            return A.tuple_(elts)
        if op.kind == "user":
            return self.user_call(stmt, op, name)
        if op.kind == "unknown":
            self.check_flow(stmt, op)
        return A.const(0.0)

    def rule_tangent(self, stmt: gast.Assign, op: O.Op, name: str) -> gast.expr:
        rule = op.rule
        template = rule.forward
        if template is not None:
            try:
                bound = bind(template, self.rule_args(op), op.keywords, op.receiver)
                expr = instantiate_forward(
                    template,
                    bound,
                    A.load(name),
                    self.tangent_of,
                    self.global_name,
                    self.tangent_sum(name),
                )
            except BindError as exc:
                raise self.src.error(
                    TransformError,
                    f"cannot apply the forward rule of {op.label}: {exc}",
                    stmt,
                ) from None
            return expr if expr is not None else A.const(0.0)
        if rule.linear is not None:
            return self.linear_tangent(stmt, op)
        raise self.missing(stmt, op.label)

    def tangent_sum(self, name: str) -> Callable[[gast.expr, gast.expr], gast.expr]:
        """How the tangent terms of a rule for ``name`` are added: ``+`` when
        ``name`` is proved a number, else ``rt.acc`` (``+`` would concatenate
        the tangents of a list or tuple result instead of adding them)."""
        if self.act.kinds.get(name) in NUMBERS:
            return _plus
        return lambda left, right: A.call(self.rt("acc"), [left, right])

    def linear_tangent(self, stmt: gast.Assign, op: O.Op) -> gast.expr:
        """The primitive applied to the tangent of its linear argument."""
        argnum, argname = op.rule.linear
        call = copy.deepcopy(stmt.value)
        if op.receiver is not None:
            linear_arg = op.receiver
        elif argname in op.keywords:
            linear_arg = op.keywords[argname]
        elif argnum < len(op.args):
            linear_arg = op.args[argnum]
        else:
            return A.const(0.0)
        # The other arguments of a linear primitive are structure (axes,
        # shapes, indices, counts): they carry no derivative, as in its
        # reverse rule, even when activity analysis cannot prove them
        # constant (a callee's ``axis`` parameter is active like the rest).
        tangent = self.tangent_of(linear_arg)
        if tangent is None:
            return A.const(0.0)
        guard = copy.deepcopy(tangent)
        # Inside a list argument a tangent may hold symbolic zeros: NumPy
        # needs them as arrays of the right shape.
        tangent = A.call(self.rt("dense_tangent"), [tangent, copy.deepcopy(linear_arg)])
        if isinstance(call, gast.Call):
            # out= would write the tangent into the primal's buffer.
            call.keywords = [kw for kw in call.keywords if kw.arg != "out"]
        if isinstance(call, gast.Attribute):
            call.value = tangent
        elif op.receiver is not None:
            call.func.value = tangent
        elif argname in op.keywords:
            for kw in call.keywords:
                if kw.arg == argname:
                    kw.value = tangent
        else:
            call.args[argnum] = tangent
        # A symbolic zero tangent (0.0) may not fit the primitive (axis=1 of
        # a scalar), and its image is zero anyway.
        return gast.IfExp(
            test=A.call(self.rt("is_zero"), [guard]),
            body=A.const(0.0),
            orelse=call,
        )

    def user_call(self, stmt: gast.Assign, op: O.Op, name: str) -> Stmts:
        jvp_name, params = self.callee_name(op.callee)
        try:
            bound = inspect.signature(op.callee).bind(*op.args, **op.keywords)
        except TypeError as exc:
            raise self.src.error(
                TransformError, f"bad call to {op.label}: {exc}", stmt
            ) from None
        dots = []
        for param in params:
            atom = bound.arguments.get(param)
            dots.append(
                self.tangent_or_zero(atom) if atom is not None else A.const(0.0)
            )
        call = stmt.value
        jvp_call = A.call(
            A.load(jvp_name), [A.tuple_(dots)] + list(call.args), list(call.keywords)
        )
        target = A.tuple_([A.store(name), A.store(self.dot(name))], gast.Store())
        # The primal call is replaced: the jvp function returns both values.
        replace = _Replace(targets=[target], value=jvp_call, type_comment=None)
        return [A.copy_lineno(replace, stmt)]

    def assign_slot(self, stmt: gast.Assign, target: gast.Subscript) -> Stmts:
        base = target.value
        if not self.act.is_active(base):
            return []
        value = self.tangent_or_zero(stmt.value)
        call = A.call(
            self.rt("setitem_tangent"),
            [A.load(self.dot(base.id)), base, A.index_value(target.slice), value],
        )
        return [A.assign(self.dot(base.id), call)]

    def expr_stmt(self, stmt: gast.Expr) -> Stmts:
        call = stmt.value
        func = call.func
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and func.attr == "append"
            and len(call.args) == 1
            and func.value.id in self.act.active
        ):
            owner = func.value.id
            value = self.tangent_or_zero(call.args[0])
            new = A.call(
                self.rt("append_tangent"), [A.load(self.dot(owner)), func.value, value]
            )
            return [A.assign(self.dot(owner), new)]
        return []


def _plus(left: gast.expr, right: gast.expr) -> gast.expr:
    return gast.BinOp(left=left, op=gast.Add(), right=right)


class _Replace(gast.Assign):
    """A statement that replaces the primal one before it (user calls)."""


def apply_replacements(stmts: Stmts) -> Stmts:
    out: Stmts = []
    for stmt in stmts:
        if isinstance(stmt, _Replace):
            plain = gast.Assign(
                targets=stmt.targets, value=stmt.value, type_comment=None
            )
            gast.copy_location(plain, stmt)
            out[-1] = plain
            continue
        for fld in ("body", "orelse"):
            sub = getattr(stmt, fld, None)
            if isinstance(sub, list):
                setattr(stmt, fld, apply_replacements(sub))
        out.append(stmt)
    return out
