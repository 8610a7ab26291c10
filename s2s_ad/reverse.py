"""Reverse mode: a forward sweep that records, then reversed adjoints.

Input: one function in core form (see :mod:`s2s_ad.normalize`) and its
activity.  Output: the forward sweep and the reverse sweep as statement
lists.

Guarantees:

* The forward sweep computes exactly what the original computes, in the
  same order; it only adds pushes onto ``trace`` (branch taken, loop trip
  counts, and old values of variables that are overwritten and read again
  by the reverse sweep) and calls the forward halves of user functions.
* Invariant of the reverse sweep: just before the adjoint code of statement
  S runs, every variable the reverse sweep reads holds the value it had just
  after S ran in the forward sweep.  Overwrites are undone by popping the
  saved value right after S's adjoint code.
* Adjoints start at ``0.0`` (the zero of any structure) and are accumulated,
  never assumed; the adjoint of a variable is reset when the variable is
  assigned more than once, since each assignment starts a new value.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import gast

from s2s_ad import astutil as A
from s2s_ad import ops as O
from s2s_ad import runtime, sweepindex
from s2s_ad.analysis import Activity
from s2s_ad.emit import statement_text
from s2s_ad.errors import MissingRuleError, TransformError, UnsupportedSyntaxError
from s2s_ad.naming import Namer
from s2s_ad.normalize import NormalizedFunction
from s2s_ad.simplify import peephole, rewriter
from s2s_ad.source import FunctionSource
from s2s_ad.sweep import SweepBuilder
from s2s_ad.templates import BindError, bind, instantiate

Stmts = list[gast.stmt]

PUSH = "__s2s_push__"
RESTORE = "__s2s_restore__"
PUSH_SLOT = "__s2s_push_slot__"
RESTORE_SLOT = "__s2s_restore_slot__"
UNAPPEND = "__s2s_unappend__"
UNPOP = "__s2s_unpop__"
COMMENT = "__s2s_comment_{}__"

_MUTATING_METHODS = {
    "extend",
    "insert",
    "pop",
    "remove",
    "update",
    "sort",
    "reverse",
    "fill",
    "clear",
    "setdefault",
    "popitem",
    "resize",
    "put",
    "itemset",
}


# Exact class tests below (nothing subclasses gast's nodes): these are asked
# of every statement of a sweep, by several passes.
_Expr, _Call, _Name = gast.Expr, gast.Call, gast.Name
_BinOp, _Add, _Assign = gast.BinOp, gast.Add, gast.Assign


def _marker(kind: str, *args: gast.expr) -> gast.Expr:
    return A.expr_stmt(A.call(A.load(kind), args))


def _number(stmts: Stmts, like: gast.stmt, done: dict[int, gast.AST]) -> None:
    """``A.number_statements(stmts, like, done)``, done on the spot for the
    statements without nested blocks (nearly all that block() makes)."""
    lineno = getattr(like, "lineno", None)
    if lineno is None:
        return
    for stmt in stmts:
        cls = stmt.__class__
        if cls is _Assign or cls is _Expr:
            if getattr(stmt, "lineno", None) is None:
                stmt.lineno = lineno
                stmt.col_offset = 0
        else:
            A.number_statements([stmt], like, done)


def _add(left: gast.expr, right: gast.expr) -> gast.BinOp:
    """``left + right``, as ``gast.BinOp(left=..., op=gast.Add(), right=...)``
    makes it (made directly: one per accumulation)."""
    node = _BinOp.__new__(_BinOp)
    fields = node.__dict__
    fields["left"] = left
    fields["op"] = _Add.__new__(_Add)
    fields["right"] = right
    return node


def marker_kind(stmt: gast.stmt) -> str | None:
    if stmt.__class__ is _Expr and stmt.value.__class__ is _Call:
        func = stmt.value.func
        if func.__class__ is _Name and func.id.startswith("__s2s_"):
            return func.id
    return None


def is_comment(stmt: gast.stmt) -> bool:
    if stmt.__class__ is not _Expr:
        return False
    value = stmt.value
    return value.__class__ is _Name and value.id.startswith("__s2s_comment_")


@dataclass
class Pair:
    """A reverse construct and the bookkeeping that exists only to serve it."""

    rev: gast.stmt
    extras: list[gast.stmt] = field(default_factory=list)


class ReverseBuilder(SweepBuilder):
    """Builds forward and reverse sweeps for one function."""

    def __init__(
        self,
        src: FunctionSource,
        nf: NormalizedFunction,
        activity: Activity,
        namer: Namer,
        comments: list[str],
        global_name: Callable[[str, Any], str],
        callee_names: Callable[..., tuple[str, str, list[str]]],
    ) -> None:
        super().__init__(src, nf, activity, namer, comments, global_name)
        # Statements made by block(), numbered (see number_statements).
        self.numbered: dict[int, gast.AST] = {}
        self.callee_names = callee_names
        self.adjoints: dict[str, str] = {}
        self.tapes: dict[str, str] = {}
        self.pairs: list[Pair] = []
        self.trace = namer.exact_or_fresh("trace")
        self.uses_trace = False
        # Each block's (statement, forward code, reverse code), for later
        # passes that reason about the reverse code of a statement.
        self.blocks: list[list[tuple[gast.stmt, Stmts, Stmts]]] = []
        # The nodes of the reverse sweep's statements (see s2s_ad.sweepindex),
        # found by rematerialize's walk, completed by first_contributions's,
        # read by copyprop: names may be renamed in place, but a pass that
        # removes or adds a node must update or drop the statement's entry.
        self.name_nodes: sweepindex.Index = {}

    # -- names -----------------------------------------------------------

    def adj(self, name: str) -> str:
        if name not in self.adjoints:
            self.adjoints[name] = self.namer.exact_or_fresh(f"{name}_bar")
        return self.adjoints[name]

    def push(self, value: gast.expr) -> gast.Expr:
        self.uses_trace = True
        return A.expr_stmt(A.call(A.attr(A.load(self.trace), "append"), [value]))

    def pop(self) -> gast.Call:
        self.uses_trace = True
        return A.call(A.attr(A.load(self.trace), "pop"))

    def comment(
        self, text: str, header: bool = False, *, sweep: bool = False
    ) -> gast.Expr:
        """A comment line: on a statement, a header over several, or the
        header of a sweep (which stays even if the code under it goes)."""
        self.comments.append(text)
        kind = "m" if sweep else "h" if header else "s"
        return A.expr_stmt(A.load(COMMENT.format(f"{kind}{len(self.comments) - 1}")))

    def accumulate(self, target: gast.expr, value: gast.expr) -> gast.stmt | None:
        # self.act.is_active(target), inlined: asked for every accumulation.
        if target.__class__ is not _Name or target.id not in self.act.active:
            return None
        name = target.id
        bar = self.adj(name)
        if name in self.act.numeric:
            new = _add(A.load(bar), value)
        else:
            new = A.call(self.rt("acc"), [A.load(bar), value])
        return A.assign(bar, new)

    # -- blocks ----------------------------------------------------------

    def block(self, stmts: Stmts) -> tuple[Stmts, Stmts]:
        fwd: Stmts = []
        parts: list[tuple[gast.stmt, Stmts, Stmts]] = []
        for stmt in stmts:
            f, r = self.stmt(stmt)
            if getattr(stmt, "lineno", None) is not None:
                # Later passes and tracing read statements' lines only, and
                # the sweeps reach Python as text, never as trees.
                both = f + r
                _number(both, stmt, self.numbered)
                numbered = self.numbered
                for node in both:
                    numbered[id(node)] = node
            fwd += f
            parts.append((stmt, f, r))
        self.blocks.append(parts)
        rev: Stmts = []
        last_line = None
        for stmt, _, r in reversed(parts):
            if not r:
                continue
            line = getattr(stmt, "lineno", None)
            if line != last_line and any(not marker_kind(x) for x in r):
                text = self.src.line(line).strip()
                rev.append(
                    self.comment(
                        f"line {line}: {text}" if text else f"line {line}", True
                    )
                )
                last_line = line
            rev += r
        return fwd, rev

    def stmt(self, stmt: gast.stmt) -> tuple[Stmts, Stmts]:
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                return self.assign_name(stmt, target.id)
            return self.assign_slot(stmt, target)
        if isinstance(stmt, gast.Expr):
            return self.expr_stmt(stmt)
        if isinstance(stmt, gast.If):
            return self.if_stmt(stmt)
        if isinstance(stmt, gast.For):
            return self.for_stmt(stmt)
        if isinstance(stmt, gast.While):
            return self.while_stmt(stmt)
        return [stmt], []

    def primal_comment(self, stmt: gast.stmt) -> gast.Expr:
        return self.comment(statement_text(stmt))

    # -- assignments -----------------------------------------------------

    def assign_name(self, stmt: gast.Assign, name: str) -> tuple[Stmts, Stmts]:
        value = stmt.value
        owner = _popped_list(value, self.nf.locals)
        if owner is not None:
            return self.assign_pop(stmt, name, owner)
        op = O.classify(self.src, value, self.nf.locals, self.act.kinds)
        fwd_stmt: gast.stmt = stmt
        rev: Stmts = []
        if name in self.act.active:
            if op.kind == "user":
                fwd_value, adjoint = self.user_call(stmt, op, name)
                tape = self.tapes[name]
                both = A.tuple_([A.store(name), A.store(tape)], gast.Store())
                fwd_stmt = A.assign(both, fwd_value, stmt)
            else:
                adjoint = self.adjoint_of(stmt, op, name)
            if adjoint:
                rev = [self.primal_comment(stmt)] + adjoint
            if self.act.overwritten(name):
                rev.append(A.assign(self.adj(name), A.const(0.0)))
        else:
            self.check_flow(stmt, op)
        fwd = [_marker(PUSH, A.load(name)), fwd_stmt]
        restore = [_marker(RESTORE, A.load(name))]
        if name in self.tapes and fwd_stmt is not stmt:
            tape = self.tapes[name]
            fwd.insert(0, _marker(PUSH, A.load(tape)))
            restore.append(_marker(RESTORE, A.load(tape)))
        return fwd, rev + restore

    def assign_pop(
        self, stmt: gast.Assign, name: str, owner: str
    ) -> tuple[Stmts, Stmts]:
        """``x = lst.pop()``: the element's adjoint goes back onto the list's."""
        rev: Stmts = []
        if owner in self.act.active:
            item = A.load(self.adj(name)) if name in self.act.active else A.const(0.0)
            call = A.call(
                self.rt("push_adj"), [A.load(self.adj(owner)), A.load(owner), item]
            )
            rev = [self.primal_comment(stmt), A.assign(self.adj(owner), call)]
        if name in self.act.active and self.act.overwritten(name):
            rev.append(A.assign(self.adj(name), A.const(0.0)))
        fwd = [_marker(PUSH, A.load(name)), stmt]
        restore = [
            _marker(UNPOP, A.load(owner), A.load(name)),
            _marker(RESTORE, A.load(name)),
        ]
        return fwd, rev + restore

    def check_flow(self, stmt: gast.stmt, op: O.Op) -> None:
        """Refuse an unknown call whose arguments carry gradient anyway."""
        if op.kind == "unknown" and any(n in self.act.active for n in op.flow_names()):
            raise self.missing(stmt, op)

    def missing(self, stmt: gast.stmt, op: O.Op) -> TransformError:
        return self.src.error(
            MissingRuleError,
            f"no derivative rule for {op.label} (its arguments carry gradient, and it "
            "has no Python source to differentiate). Register one with "
            "@s2s_ad.reverse_rule(...) (or s2s_ad.elementwise for an elementwise "
            "function), or declare it s2s_ad.nondifferentiable(...)",
            stmt,
        )

    def adjoint_of(self, stmt: gast.Assign, op: O.Op, name: str) -> Stmts:
        value = stmt.value
        bar = self.adj(name)
        if op.kind == "atom":
            acc = self.accumulate(value, A.load(bar))
            return [acc] if acc is not None else []
        if op.kind == "rule":
            template = op.rule.reverse
            if template is None:
                return []
            try:
                bound = bind(template, self.rule_args(op), op.keywords, op.receiver)
                # Simplified as made where the arguments hold nothing to
                # simplify (they are atoms in core form), else afterwards.
                rewrite, node_rewrite = self.simplifier(op)
                plain = _plain(bound)
                stmts = instantiate(
                    template,
                    bound,
                    A.load(name),
                    bar,
                    self.accumulate,
                    self.global_name,
                    self.namer,
                    node_rewrite if plain else None,
                )
                return stmts if plain else [rewrite(s) for s in stmts]
            except BindError as exc:
                raise self.src.error(
                    TransformError,
                    f"cannot apply the derivative rule of {op.label}: {exc}",
                    stmt,
                ) from None
        if op.kind == "subscript":
            base = op.args[0]
            if not self.act.is_active(base):
                return []
            base_bar = self.adj(base.id)
            call = A.call(
                self.rt("add_at"),
                [A.load(base_bar), base, A.index_value(value.slice), A.load(bar)],
            )
            return [A.assign(base_bar, call)]
        if op.kind == "display":
            out = []
            keys = (
                value.keys
                if isinstance(value, gast.Dict)
                else [A.const(k) for k in range(len(value.elts))]
            )
            for key, elt in zip(keys, op.args):
                item = A.call(self.rt("getitem_adj"), [A.load(bar), A.clone(key)])
                acc = self.accumulate(elt, item)
                if acc is not None:
                    out.append(acc)
            return out
        if op.kind == "unknown":
            self.check_flow(stmt, op)
        return []

    def kind(self, node: gast.expr) -> str:
        if isinstance(node, gast.Name):
            return self.act.kinds.get(node.id, "unknown")
        if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)):
            return "scalar"
        return "scalar" if A.is_atom(node) else "unknown"

    def simplifier(
        self, op: O.Op
    ) -> tuple[Callable[[gast.stmt], gast.stmt], Callable[[gast.expr], gast.expr]]:
        """The peephole rewrite (see :mod:`s2s_ad.simplify`) for the adjoint
        code of ``op``: broadcasting helpers are dropped where kinds prove
        shapes cannot differ.  The first function simplifies a statement's
        whole tree, the second just the call or operation it is given."""
        operands = list(op.args) if op.receiver is None else []
        kinds = [self.kind(a) for a in operands]
        all_scalar = bool(kinds) and all(k == "scalar" for k in kinds)
        all_array = bool(kinds) and all(k == "array" for k in kinds)
        # The operands as compared with a node (see _shape_key), made once,
        # when first needed.
        keys: list[Any] = []

        def same_shape(node: gast.expr) -> bool:
            if not operands or len(operands) > 2:
                return False
            if not keys:
                keys.extend(_shape_key(a) for a in operands)
            key = _shape_key(node)
            found = False  # node is one of the operands
            others_scalar = True  # the other operands are numbers
            for o, k in zip(keys, kinds):
                if o == key:
                    found = True
                elif k != "scalar":
                    others_scalar = False
            if not found:
                return False
            return others_scalar and self.kind(node) in ("scalar", "array", "numeric")

        rt = self.global_name("rt", runtime)
        node_rewrite = rewriter(rt, same_shape, all_scalar, all_array)

        def rewrite(stmt: gast.stmt) -> gast.stmt:
            return peephole([stmt], rt, same_shape, all_scalar, all_array)[0]

        return rewrite, node_rewrite

    def user_call(
        self, stmt: gast.Assign, op: O.Op, name: str
    ) -> tuple[gast.expr, Stmts]:
        # The callee's code is specialised to what this call passes it.
        given = self.act.call_kinds.get(id(stmt.value))
        fwd_name, rev_name, params = self.callee_names(op.callee, given)
        try:
            bound = inspect.signature(op.callee).bind(*op.args, **op.keywords)
        except TypeError as exc:
            raise self.src.error(
                TransformError, f"bad call to {op.label}: {exc}", stmt
            ) from None
        call = stmt.value
        # The callee keeps its own trace and hands it back: no function
        # mutates a list it was given, so generated code transforms again.
        tape = self.namer.fresh(f"{name}_trace")
        self.nf.locals.add(tape)
        self.act.assign_counts[tape] = self.act.assign_counts.get(name, 1)
        self.tapes[name] = tape
        fwd_value = A.call(A.load(fwd_name), list(call.args), list(call.keywords))
        parts = self.namer.fresh(f"{getattr(op.callee, '__name__', 'call')}_bars")
        rev: Stmts = [
            A.assign(
                parts,
                A.call(A.load(rev_name), [A.load(tape), A.load(self.adj(name))]),
            )
        ]
        for param, atom in bound.arguments.items():
            acc = self.accumulate(
                atom, A.subscript(A.load(parts), A.const(params.index(param)))
            )
            if acc is not None:
                rev.append(acc)
        return fwd_value, rev

    def assign_slot(
        self, stmt: gast.Assign, target: gast.Subscript
    ) -> tuple[Stmts, Stmts]:
        base = target.value
        index = target.slice
        value = stmt.value
        rev: Stmts = []
        if self.act.is_active(base):
            bar = self.adj(base.id)
            slot = A.call(self.rt("getitem_adj"), [A.load(bar), A.index_value(index)])
            acc = self.accumulate(value, A.call(self.rt("unbroadcast"), [slot, value]))
            if acc is not None:
                rev.append(acc)
            rev.append(
                A.assign(
                    bar,
                    A.call(
                        self.rt("zero_at"),
                        [A.load(bar), A.load(base.id), A.index_value(index)],
                    ),
                )
            )
            rev = [self.primal_comment(stmt)] + rev
        fwd = [_marker(PUSH_SLOT, base, A.clone(index)), stmt]
        return fwd, rev + [_marker(RESTORE_SLOT, base, A.clone(index))]

    def expr_stmt(self, stmt: gast.Expr) -> tuple[Stmts, Stmts]:
        call = stmt.value
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            owner = func.value.id
            if func.attr == "append" and len(call.args) == 1 and not call.keywords:
                rev: Stmts = []
                if owner in self.act.active:
                    bar = self.adj(owner)
                    item = self.namer.fresh("item_bar")
                    target = A.tuple_([A.store(bar), A.store(item)], gast.Store())
                    rev = [
                        self.primal_comment(stmt),
                        A.assign(target, A.call(self.rt("pop_adj"), [A.load(bar)])),
                    ]
                    acc = self.accumulate(call.args[0], A.load(item))
                    if acc is not None:
                        rev.append(acc)
                return [stmt], rev + [_marker(UNAPPEND, A.load(owner))]
            if func.attr in _MUTATING_METHODS and owner in self.act.varied:
                raise self.src.error(
                    UnsupportedSyntaxError,
                    f"in-place method .{func.attr}() on a value that carries gradient is not "
                    "supported by s2s_ad (build a new value instead)",
                    stmt,
                )
        return [stmt], []

    # -- control flow ----------------------------------------------------

    def if_stmt(self, stmt: gast.If) -> tuple[Stmts, Stmts]:
        if (
            len(stmt.body) == 1
            and isinstance(stmt.body[0], gast.Break)
            and not stmt.orelse
        ):
            return [stmt], []
        fb, rb = self.block(stmt.body)
        fo, ro = self.block(stmt.orelse)
        fwd_if = gast.If(test=stmt.test, body=fb or [gast.Pass()], orelse=fo)
        if isinstance(stmt.test, gast.Constant):
            rev_if = gast.If(test=stmt.test, body=rb or [gast.Pass()], orelse=ro)
            self.pairs.append(Pair(rev_if))
            return [fwd_if], [rev_if]
        # The branch taken is pushed at the end of each branch, after the
        # pushes its body made, so the reverse sweep pops it first.
        taken, not_taken = self.push(A.const(True)), self.push(A.const(False))
        fwd_if.body = fwd_if.body + [taken]
        fwd_if.orelse = fwd_if.orelse + [not_taken]
        rev_if = gast.If(test=self.pop(), body=rb or [gast.Pass()], orelse=ro)
        self.pairs.append(Pair(rev_if, [taken, not_taken]))
        return [fwd_if], [rev_if]

    def _has_exit(self, body: Stmts) -> bool:
        last = body[-1] if body else None
        return (
            isinstance(last, gast.If)
            and len(last.body) == 1
            and isinstance(last.body[0], gast.Break)
        )

    def for_stmt(self, stmt: gast.For) -> tuple[Stmts, Stmts]:
        var = stmt.target.id
        fb, rb = self.block(stmt.body)
        iterable = A.clone(stmt.iter)
        extras: Stmts = []
        pre: Stmts = []
        post: Stmts = []
        rev_pre: Stmts = []
        if self._has_exit(stmt.body):
            counter = self.namer.fresh("n_iter")
            init = A.assign(counter, A.const(0))
            incr = A.assign(
                counter,
                gast.BinOp(left=A.load(counter), op=gast.Add(), right=A.const(1)),
            )
            save = self.push(A.load(counter))
            restore = A.assign(counter, self.pop())
            fb = [incr] + fb
            pre, post, rev_pre = [init], [save], [restore]
            extras = [init, incr, save, restore]
            iterable = A.subscript(
                iterable, gast.Slice(lower=None, upper=A.load(counter), step=None)
            )
        fwd_loop = gast.For(
            target=A.store(var), iter=stmt.iter, body=fb, orelse=[], type_comment=None
        )
        rev_loop = gast.For(
            target=A.store(var),
            iter=A.call(A.load("reversed"), [iterable]),
            body=rb or [gast.Pass()],
            orelse=[],
            type_comment=None,
        )
        self.pairs.append(Pair(rev_loop, extras))
        fwd = [_marker(PUSH, A.load(var))] + pre + [fwd_loop] + post
        rev = rev_pre + [rev_loop, _marker(RESTORE, A.load(var))]
        return fwd, rev

    def while_stmt(self, stmt: gast.While) -> tuple[Stmts, Stmts]:
        fb, rb = self.block(stmt.body)
        counter = self.namer.fresh("n_iter")
        init = A.assign(counter, A.const(0))
        incr = A.assign(
            counter, gast.BinOp(left=A.load(counter), op=gast.Add(), right=A.const(1))
        )
        save = self.push(A.load(counter))
        restore = A.assign(counter, self.pop())
        loop_var = self.namer.exact_or_fresh("_")
        fwd_loop = gast.While(test=stmt.test, body=[incr] + fb, orelse=[])
        rev_loop = gast.For(
            target=A.store(loop_var),
            iter=A.call(A.load("range"), [A.load(counter)]),
            body=rb or [gast.Pass()],
            orelse=[],
            type_comment=None,
        )
        self.pairs.append(Pair(rev_loop, [init, incr, save, restore]))
        return [init, fwd_loop, save], [restore, rev_loop]


# -- to-be-recorded: resolving the markers -----------------------------------


def reverse_reads(rev: Stmts) -> set[str]:
    """Primal names the reverse sweep reads (markers excluded)."""
    found: set[str] = set()
    todo: list[gast.AST] = list(rev)
    while todo:
        node = todo.pop()
        kind = marker_kind(node) if isinstance(node, gast.stmt) else None
        if kind == UNPOP:
            # Putting the element back reads its (popped) value.
            found.add(node.value.args[1].id)
        if kind:
            continue
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            found.add(node.id)
        todo.extend(gast.iter_child_nodes(node))
    return found


def resolve_markers(
    builder: ReverseBuilder, fwd: Stmts, rev: Stmts, reads: set[str]
) -> set[str]:
    """Turn kept markers into pushes/pops; drop the others.

    A variable's old value is saved only if the reverse sweep reads it and it
    is assigned more than once.  Returns the names whose pushes were kept
    (they must exist before their first push).
    """
    act = builder.act
    pushed: set[str] = set()
    copy_name = builder.global_name("copy", copy)

    def rewrite(stmts: Stmts) -> Stmts:
        out: Stmts = []
        for stmt in stmts:
            # Markers are expressions; most statements are not.
            kind = marker_kind(stmt) if stmt.__class__ is _Expr else None
            if kind is None:
                fields = stmt.__dict__
                if "body" in fields or "orelse" in fields:
                    for fld in ("body", "orelse"):
                        sub = fields.get(fld)
                        if isinstance(sub, list):
                            setattr(stmt, fld, rewrite(sub))
                out.append(stmt)
                continue
            args = stmt.value.args
            name = args[0].id
            keep = name in reads and (
                kind not in (PUSH, RESTORE) or act.overwritten(name)
            )
            if not keep:
                continue
            new: gast.stmt
            if kind == PUSH:
                pushed.add(name)
                new = builder.push(A.load(name))
            elif kind == RESTORE:
                new = A.assign(name, builder.pop())
            elif kind == PUSH_SLOT:
                old = A.subscript(A.load(name), args[1])
                new = builder.push(A.call(A.attr(A.load(copy_name), "copy"), [old]))
            elif kind == RESTORE_SLOT:
                new = A.assign(
                    A.subscript(A.load(name), args[1], gast.Store()), builder.pop()
                )
            elif kind == UNPOP:
                new = A.expr_stmt(A.call(A.attr(A.load(name), "append"), [args[1]]))
            else:  # UNAPPEND
                new = A.expr_stmt(A.call(A.attr(A.load(name), "pop")))
            # As block() numbers them (_number, inlined: new is an assignment
            # or an expression, made without a line).
            lineno = getattr(stmt, "lineno", None)
            if lineno is not None and getattr(new, "lineno", None) is None:
                new.lineno = lineno
                new.col_offset = 0
            out.append(new)
        return out

    fwd[:] = rewrite(fwd)
    rev[:] = rewrite(rev)
    # rewrite refers to itself, a reference cycle that would keep builder
    # (and so every tree of the transformation) alive until the next garbage
    # collection, which would then have to traverse them all.
    rewrite = None
    return pushed


def drop_empty_pairs(builder: ReverseBuilder, fwd: Stmts, rev: Stmts) -> None:
    """Remove reverse loops/branches with nothing to do, and their bookkeeping."""
    deleted: set[int] = set()

    def empty(stmts: Stmts) -> bool:
        return all(
            isinstance(s, gast.Pass) or is_comment(s) or id(s) in deleted for s in stmts
        )

    for pair in builder.pairs:
        body = getattr(pair.rev, "body", [])
        orelse = getattr(pair.rev, "orelse", [])
        if empty(body) and empty(orelse):
            deleted.add(id(pair.rev))
            deleted.update(id(x) for x in pair.extras)
    # One filter of each sweep, nested blocks included, once all are known
    # (whether a block is empty does not depend on filtering it first).
    fwd[:] = _filter(fwd, deleted)
    rev[:] = _filter(rev, deleted)


def _filter(stmts: Stmts, deleted: set[int]) -> Stmts:
    out = []
    for stmt in stmts:
        if id(stmt) in deleted:
            continue
        fields = stmt.__dict__
        if "body" in fields or "orelse" in fields:  # few statements have blocks
            for fld in ("body", "orelse"):
                sub = fields.get(fld)
                if isinstance(sub, list):
                    kept = _filter(sub, deleted)
                    if fld == "body" and not kept:
                        kept = [gast.Pass()]
                    setattr(stmt, fld, kept)
        out.append(stmt)
    stmts[:] = out
    return stmts


def tidy_comments(stmts: Stmts) -> Stmts:
    """Drop comments left without code after them; fill emptied blocks."""
    for stmt in stmts:
        fields = stmt.__dict__
        if "body" not in fields and "orelse" not in fields:
            continue
        for fld in ("body", "orelse"):
            sub = fields.get(fld)
            if sub.__class__ is list:
                tidy_comments(sub)
                if fld == "body" and not sub:
                    sub.append(gast.Pass())
    # One pass, the same result as deleting the first dangling comment until
    # none is left (which was quadratic): the statements kept so far are
    # settled but for the last, whose next statement a deletion may change.
    kept: Stmts = []
    for stmt in stmts:
        # Only a comment (an expression) can dangle, and only before another
        # comment (an expression too); most statements are not.
        if stmt.__class__ is _Expr:
            while kept and kept[-1].__class__ is _Expr and _dangling(kept[-1], stmt):
                kept.pop()
        kept.append(stmt)
    while kept and _dangling(kept[-1], None):
        kept.pop()
    stmts[:] = kept
    return stmts


def tidy_comments_before_return(body: Stmts) -> None:
    """:func:`tidy_comments` on a function body whose adjoint code a pass
    removed: a comment left just before the final return dangles too."""
    tail = [body.pop()] if body and isinstance(body[-1], gast.Return) else []
    tidy_comments(body)
    body += tail


def _dangling(stmt: gast.stmt, nxt: gast.stmt | None) -> bool:
    """A comment with no code of its own after it, given the next statement."""
    if not is_comment(stmt):
        return False
    if stmt.value.id.startswith("__s2s_comment_m"):
        return nxt is None
    return nxt is None or (
        is_comment(nxt) and (_is_header(nxt) or not _is_header(stmt))
    )


def _is_header(stmt: gast.stmt) -> bool:
    return stmt.value.id.startswith(("__s2s_comment_h", "__s2s_comment_m"))


def _shape_key(node: gast.expr) -> Any:
    """A value equal for two trees exactly when their ``gast.dump`` texts
    are: the name and context of a plain name (by far the most common
    operand), else the tree's structure."""
    if (
        node.__class__ is gast.Name
        and node.annotation is None
        and node.type_comment is None
    ):
        return (node.id, node.ctx.__class__)
    return A.structure(node)


_ATOMS = (gast.Name, gast.Constant)


def _plain(bound: dict[str, Any]) -> bool:
    """No call or binary operation in the trees bound to a template's
    parameters: nothing there that the peephole rewrite would change."""
    for value in bound.values():
        if value.__class__ in _ATOMS:
            continue  # the common case in core form
        for tree in value if isinstance(value, list) else [value]:
            if isinstance(tree, gast.AST) and any(
                isinstance(n, (gast.Call, gast.BinOp)) for n in A.walk_inner(tree)
            ):
                return False
    return True


def _popped_list(value: gast.expr, local_names: set[str]) -> str | None:
    """``lst`` when ``value`` is ``lst.pop()`` on a local list, else None."""
    if (
        isinstance(value, gast.Call)
        and not value.args
        and not value.keywords
        and isinstance(value.func, gast.Attribute)
        and value.func.attr == "pop"
        and isinstance(value.func.value, gast.Name)
        and value.func.value.id in local_names
    ):
        return value.func.value.id
    return None
