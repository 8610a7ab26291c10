"""Desugar a function into the small core language the transformers handle.

Output guarantees (the *core*):

* Every statement is one of: ``name = expr`` where ``expr`` is a single
  operation whose operands are atoms (names, constants, or static references
  such as ``np.pi``); ``name[index] = atom`` with an index of atoms;
  ``Expr(call)`` for calls kept for their effect (``lst.append(v)``);
  ``if atom:``; ``for name in range(atoms):``; ``while atom:``;
  ``if flag: break`` as the last statement of a loop body (the only jump);
  ``return atom`` as the last top-level statement; and primal-only
  statements (assert, raise, nested def) that carry no derivative.
* No statement assigns a name its own operation reads (``x = x * y`` becomes
  ``u1 = x * y; x = u1``), so a rule reading inputs and output is never
  confused about which value it sees.
* Early ``return``/``break``/``continue`` become flags and guarded blocks;
  comprehensions and for-loops over sequences become indexed ``range`` loops;
  calls to lambdas and functions defined inside the function are inlined.
* Every produced statement carries the line number of the user statement it
  came from.

Temporaries are named ``u1, u2, ...`` in evaluation order (the seed's
notation), avoiding any name the user wrote.
"""

from __future__ import annotations

import builtins
import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import gast

from s2s_ad import astutil as A
from s2s_ad.errors import UnsupportedSyntaxError
from s2s_ad.naming import Namer
from s2s_ad.source import _MISSING, FunctionSource

Stmts = list[gast.stmt]


@dataclass
class NormalizedFunction:
    """A function in core form."""

    params: list[str]
    body: Stmts
    result: gast.expr | None
    locals: set[str] = field(default_factory=set)
    temps: set[str] = field(default_factory=set)


@dataclass
class _LoopFlags:
    brk: str | None = None
    cnt: str | None = None


@dataclass
class _RetFlags:
    flag: str
    value: str


def _scope_names(body: Stmts) -> set[str]:
    """Names bound in a function body, not looking into nested scopes."""
    found: set[str] = set()
    todo: list[gast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, gast.FunctionDef):
            found.add(node.name)
            continue
        if isinstance(
            node, (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.DictComp)
        ):
            continue
        if isinstance(node, gast.Name) and isinstance(
            node.ctx, (gast.Store, gast.Param)
        ):
            found.add(node.id)
        _push_inner(node, todo)
    return found


def _push_inner(node: gast.AST, todo: list[gast.AST]) -> None:
    """Put the children of ``node`` but leaves (contexts, operators,
    constants: no names, no scopes) on ``todo``, in order."""
    fields = node.__dict__
    inner = A.INNER
    cls = node.__class__
    for name in A.NAME_FIELDS.get(cls) or A.name_fields(cls):
        value = fields.get(name)
        if value.__class__ is list:
            todo.extend(v for v in value if v.__class__ in inner)
        elif value.__class__ in inner:
            todo.append(value)


def _param_names(args: gast.arguments) -> list[str]:
    names = [a.id for a in list(getattr(args, "posonlyargs", [])) + list(args.args)]
    names.extend(a.id for a in args.kwonlyargs)
    return names


class _Renamer(gast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id in self.mapping:
            node.id = self.mapping[node.id]
        return node


def _rename(nodes: gast.AST | Stmts, mapping: dict[str, str]) -> gast.AST | Stmts:
    nodes = A.clone(nodes)
    renamer = _Renamer(mapping)
    if isinstance(nodes, list):
        return [renamer.visit(n) for n in nodes]
    return renamer.visit(nodes)


class Normalizer:
    """Turns one user function into core form (see module docstring)."""

    def __init__(
        self,
        src: FunctionSource,
        namer: Namer,
        global_name: Callable[[str, Any], str] | None = None,
    ) -> None:
        self.global_name = global_name
        self.src = src
        self.namer = namer
        fdef = src.node
        nodes, bound = _walk_scope_binding(fdef.body)
        self.locals: set[str] = bound | set(_param_names(fdef.args))
        self.captured = _captured_names(nodes)
        # The body's returns, for run(): found here, not in another walk.
        self._returns = [n for n in nodes if isinstance(n, gast.Return)]
        self.local_defs: dict[str, gast.AST] = {}
        self._collect_local_defs(nodes)
        self._inlining: list[int] = []
        self.temps: set[str] = set()
        self._line: gast.AST | None = fdef
        # Statements made by block(), their trees numbered (see copy_lineno).
        self.numbered: dict[int, gast.AST] = {}

    # -- entry -----------------------------------------------------------

    def run(self) -> NormalizedFunction:
        fdef = self.src.node
        body, result = self.function_body(fdef.body, self._returns)
        return NormalizedFunction(
            _param_names(fdef.args), body, result, set(self.locals), set(self.temps)
        )

    def function_body(
        self, body: Stmts, returns: list[gast.Return] | None = None
    ) -> tuple[Stmts, gast.expr | None]:
        """Core statements of a function body and the atom it returns (given
        ``returns``, the body's return statements, in order, if known)."""
        body = [s for s in body if not _is_docstring(s)]
        if returns is None:
            returns = [n for n in _walk_scope(body) if isinstance(n, gast.Return)]
        simple = not returns or (len(returns) == 1 and body and body[-1] is returns[0])
        if simple:
            jumped, _ = self.jumps(body[:-1] if returns else body, None, None)
            core = self.block(jumped)
            if not returns:
                return core, A.const(None)
            self._line = body[-1]
            pre, value = self.atom(body[-1].value or A.const(None))
            return core + pre, value
        ret = _RetFlags(self.fresh_local("returned"), self.fresh_local("result"))
        jumped, _ = self.jumps(body, None, ret)
        init = [
            A.assign(ret.flag, A.const(False), body[0]),
            A.assign(ret.value, A.const(None), body[0]),
        ]
        return self.block(init + jumped), A.load(ret.value)

    def fresh_local(self, base: str) -> str:
        name = self.namer.exact_or_fresh(base)
        self.locals.add(name)
        return name

    def temp(self) -> str:
        name = self.namer.fresh("u")
        self.locals.add(name)
        self.temps.add(name)
        return name

    def refuse(self, what: str, node: gast.AST | None) -> UnsupportedSyntaxError:
        return self.src.error(
            UnsupportedSyntaxError, what, node if node is not None else self._line
        )

    def _collect_local_defs(self, nodes: list[gast.AST]) -> None:
        """Local functions (defs and lambdas) bound once, among ``nodes``
        (the function body's, as :func:`_walk_scope` lists them)."""
        counts: dict[str, int] = {}
        for node in nodes:
            if isinstance(node, gast.FunctionDef):
                self.local_defs[node.name] = node
                counts[node.name] = counts.get(node.name, 0) + 1
            elif isinstance(node, gast.Assign):
                for target in node.targets:
                    if isinstance(target, gast.Name):
                        counts[target.id] = counts.get(target.id, 0) + 1
                        if isinstance(node.value, gast.Lambda):
                            self.local_defs[target.id] = node.value
        for name, count in counts.items():
            if count > 1 and name in self.local_defs:
                del self.local_defs[name]

    # -- jumps -------------------------------------------------------------

    def jumps(
        self, stmts: Stmts, loop: _LoopFlags | None, ret: _RetFlags | None
    ) -> tuple[Stmts, set[str]]:
        """Replace break/continue/return by flags and guard what follows."""
        out: Stmts = []
        for i, stmt in enumerate(stmts):
            flags: set[str] = set()
            if isinstance(stmt, gast.Break):
                loop.brk = loop.brk or self.fresh_local("stop")
                out.append(A.assign(loop.brk, A.const(True), stmt))
                return out, {loop.brk}
            if isinstance(stmt, gast.Continue):
                loop.cnt = loop.cnt or self.fresh_local("skip")
                out.append(A.assign(loop.cnt, A.const(True), stmt))
                return out, {loop.cnt}
            if isinstance(stmt, gast.Return):
                value = stmt.value if stmt.value is not None else A.const(None)
                out.append(A.assign(ret.value, value, stmt))
                out.append(A.assign(ret.flag, A.const(True), stmt))
                return out, {ret.flag}
            if isinstance(stmt, gast.If):
                body, f1 = self.jumps(stmt.body, loop, ret)
                orelse, f2 = self.jumps(stmt.orelse, loop, ret)
                new = gast.If(test=stmt.test, body=body or [gast.Pass()], orelse=orelse)
                gast.copy_location(new, stmt)
                out.append(new)
                flags = f1 | f2
            elif isinstance(stmt, (gast.For, gast.While)):
                if stmt.orelse:
                    raise self.refuse(
                        "for/while ... else clauses are not supported by s2s_ad", stmt
                    )
                inner = _LoopFlags()
                body, f = self.jumps(stmt.body, inner, ret)
                flags = {ret.flag} & f if ret is not None else set()
                pre: Stmts = []
                if inner.cnt:
                    body = [A.assign(inner.cnt, A.const(False), stmt)] + body
                exits = [x for x in (inner.brk, ret.flag if flags else None) if x]
                if inner.brk:
                    pre.append(A.assign(inner.brk, A.const(False), stmt))
                if exits:
                    exit_if = gast.If(test=_any(exits), body=[gast.Break()], orelse=[])
                    gast.copy_location(exit_if, stmt)
                    body = body + [exit_if]
                new = copy.copy(stmt)
                new.body = body
                out.extend(pre)
                out.append(new)
            else:
                out.append(stmt)
            if flags:
                rest, more = self.jumps(stmts[i + 1 :], loop, ret)
                if rest:
                    guard = gast.If(
                        test=A.not_(_any(sorted(flags))), body=rest, orelse=[]
                    )
                    gast.copy_location(guard, stmts[i + 1])
                    out.append(guard)
                return out, flags | more
        return out, set()

    # -- statements ----------------------------------------------------------

    def block(self, stmts: Stmts) -> Stmts:
        out: Stmts = []
        for stmt in stmts:
            self._line = stmt
            produced = self.stmt(stmt)
            if getattr(stmt, "lineno", None) is not None:
                for node in produced:
                    A.copy_lineno(node, stmt, self.numbered)
                    self.numbered[id(node)] = node
            out.extend(produced)
        return out

    def stmt(self, node: gast.stmt) -> Stmts:
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(
                f"{type(node).__name__} statements are not supported by s2s_ad", node
            )
        return method(node)

    def stmt_Assign(self, node: gast.Assign) -> Stmts:
        if isinstance(node.value, gast.Lambda) and len(node.targets) == 1:
            return [node]
        pre, value = self.expr(node.value)
        if len(node.targets) > 1:
            pre2, value = self.atomize(value)
            pre += pre2
        for target in node.targets:
            pre += self.assign_to(target, value)
        return pre

    def stmt_AnnAssign(self, node: gast.AnnAssign) -> Stmts:
        if node.value is None:
            return []
        return self.stmt_Assign(A.assign(node.target, node.value, node))

    def unaliased_check(self, name: str, node: gast.AST) -> Stmts:
        """``x += v`` updates an array in place, which every other reference
        to it sees; it is rewritten as ``x = x + v``, so where ``x`` may be
        referenced elsewhere (appended, put in a container, copied by name)
        a run-time check refuses arrays with the user's line."""
        if name not in self.captured or self.global_name is None:
            return []
        from s2s_ad import runtime

        rt = self.global_name("rt", runtime)
        lineno = getattr(node, "lineno", None)
        args = [
            A.load(name),
            A.const(self.src.filename),
            A.const(lineno),
            A.const(self.src.line(lineno).strip()),
            A.const(self.src.name),
        ]
        return [
            A.expr_stmt(A.call(A.attr(A.load(rt), "check_not_aliased"), args), node)
        ]

    def stmt_AugAssign(self, node: gast.AugAssign) -> Stmts:
        target = node.target
        if isinstance(target, gast.Name):
            value = gast.BinOp(left=A.load(target.id), op=node.op, right=node.value)
            check = self.unaliased_check(target.id, node)
            return check + self.stmt_Assign(A.assign(A.store(target.id), value, node))
        if isinstance(target, gast.Subscript):
            pre, base = self.local_base(target.value, target)
            pre2, index = self.index(target.slice)
            read = A.subscript(base, index)
            value = gast.BinOp(left=read, op=node.op, right=node.value)
            pre3, value = self.expr(value)
            return (
                pre
                + pre2
                + pre3
                + self.assign_to(A.subscript(base, index, gast.Store()), value)
            )
        raise self.refuse(
            "augmented assignment to attributes is not supported by s2s_ad", node
        )

    def assign_to(self, target: gast.expr, value: gast.expr) -> Stmts:
        if isinstance(target, gast.Name):
            if not A.is_atom(value) and target.id in A.names_loaded(value):
                tmp = self.temp()
                return [A.assign(tmp, value), A.assign(A.store(target.id), A.load(tmp))]
            return [A.assign(A.store(target.id), value)]
        if isinstance(target, gast.Subscript):
            pre, base = self.local_base(target.value, target)
            pre2, index = self.index(target.slice)
            pre3, atom = self.atomize(value)
            store = A.subscript(base, index, gast.Store())
            return pre + pre2 + pre3 + [A.assign(store, atom)]
        if isinstance(target, (gast.Tuple, gast.List)):
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(
                target.elts
            ):
                out: Stmts = []
                atoms = []
                for elt in value.elts:
                    pre, atom = self.atomize(elt)
                    out += pre
                    atoms.append(atom)
                # Simultaneous assignment: read every value before writing any.
                if set(A.names_stored(target)) & set().union(
                    *(A.names_loaded(a) for a in atoms)
                ):
                    copies = []
                    for atom in atoms:
                        if isinstance(atom, gast.Name):
                            tmp = self.temp()
                            out.append(A.assign(tmp, atom))
                            atom = A.load(tmp)
                        copies.append(atom)
                    atoms = copies
                for elt, atom in zip(target.elts, atoms):
                    out += self.assign_to(elt, atom)
                return out
            pre, atom = self.atomize(value)
            out = pre
            for k, elt in enumerate(target.elts):
                out += self.assign_to(elt, A.subscript(atom, A.const(k)))
            return out
        raise self.refuse(
            f"assignment to {type(target).__name__.lower()} targets is not supported by s2s_ad",
            target,
        )

    def local_base(self, node: gast.expr, where: gast.AST) -> tuple[Stmts, gast.Name]:
        if isinstance(node, gast.Name) and node.id in self.locals:
            return [], A.load(node.id)
        raise self.refuse(
            "only writes into a local variable (x[i] = ...) are supported; "
            "write x[i, j] rather than x[i][j], and do not write into globals or attributes",
            where,
        )

    def stmt_Expr(self, node: gast.Expr) -> Stmts:
        if isinstance(node.value, gast.Constant):
            return []
        pre, value = self.expr(node.value)
        if (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and value.func.attr == "pop"
            and not value.args
            and not value.keywords
        ):
            # A discarded pop still moves a value (and its derivative) off
            # the list: make it an assignment the transformers understand.
            return pre + [A.assign(self.temp(), value, node)]
        if isinstance(value, gast.Call):
            return pre + [A.expr_stmt(value, node)]
        return pre

    def stmt_If(self, node: gast.If) -> Stmts:
        pre, test = self.atom(node.test)
        body = self.block(node.body)
        orelse = self.block(node.orelse)
        new = gast.If(test=test, body=body or [gast.Pass()], orelse=orelse)
        return pre + [new]

    def stmt_Break(self, node: gast.Break) -> Stmts:
        return [node]

    def stmt_Pass(self, node: gast.Pass) -> Stmts:
        return []

    def stmt_Assert(self, node: gast.Assert) -> Stmts:
        return [node]

    def stmt_Raise(self, node: gast.Raise) -> Stmts:
        return [node]

    def stmt_FunctionDef(self, node: gast.FunctionDef) -> Stmts:
        return [node]

    def stmt_Return(self, node: gast.Return) -> Stmts:
        raise self.refuse("return in this position is not supported by s2s_ad", node)

    def stmt_While(self, node: gast.While) -> Stmts:
        pre, test = self.expr(node.test)
        body = self.block(node.body)
        if pre or not self.is_operand(test):
            # The test is re-evaluated at the end of every iteration.
            cond = self.fresh_local("cond")
            pre = pre + [A.assign(cond, test, node)]
            again, test2 = self.expr(A.clone(node.test))
            body = body + again + [A.assign(cond, test2, node)]
            test = A.load(cond)
        new = gast.While(test=test, body=body or [gast.Pass()], orelse=[])
        return pre + [new]

    def stmt_For(self, node: gast.For) -> Stmts:
        target, it = node.target, node.iter
        pre: Stmts = []
        elem: gast.expr | None = None
        index_name = self.fresh_local(
            f"{target.id}_index" if isinstance(target, gast.Name) else "index"
        )
        idx = A.load(index_name)
        kind = self.static_callee(it.func) if isinstance(it, gast.Call) else None
        if kind is builtins.range and not it.keywords:
            rng_pre, args = self.atoms(it.args)
            pre += rng_pre
            if isinstance(target, gast.Name):
                self.locals.discard(index_name)
                self.namer.taken.discard(index_name)
                index_name, prefix = target.id, []
            else:
                prefix = [A.assign(target, idx, node)]
            loop = gast.For(
                target=A.store(index_name),
                iter=A.call(A.load("range"), args),
                body=self.block(prefix + node.body) or [gast.Pass()],
                orelse=[],
                type_comment=None,
            )
            return pre + [loop]
        if kind is enumerate and it.args:
            p, seq = self.atom(it.args[0])
            pre += p
            start = it.args[1] if len(it.args) > 1 else None
            counter = (
                idx
                if start is None
                else gast.BinOp(left=idx, op=gast.Add(), right=start)
            )
            elem = A.tuple_([counter, A.subscript(seq, idx)])
            count = A.call(A.load("len"), [seq])
        elif kind is zip and it.args:
            seqs = []
            for arg in it.args:
                p, seq = self.atom(arg)
                pre += p
                seqs.append(seq)
            elem = A.tuple_([A.subscript(s, idx) for s in seqs])
            count = A.call(A.load("min"), [A.call(A.load("len"), [s]) for s in seqs])
            if len(seqs) == 1:
                count = seqs and A.call(A.load("len"), [seqs[0]])
        elif kind is reversed and len(it.args) == 1:
            p, seq = self.atom(it.args[0])
            pre += p
            n = A.call(A.load("len"), [seq])
            elem = A.subscript(
                seq,
                gast.BinOp(
                    left=gast.BinOp(left=n, op=gast.Sub(), right=A.const(1)),
                    op=gast.Sub(),
                    right=idx,
                ),
            )
            count = A.clone(n)
        elif (
            isinstance(it, gast.Call)
            and isinstance(it.func, gast.Attribute)
            and it.func.attr in ("items", "keys", "values")
            and not it.args
        ):
            p, mapping = self.atom(it.func.value)
            pre += p
            keys = self.temp()
            pre.append(A.assign(keys, A.call(A.load("list"), [mapping])))
            key = A.subscript(A.load(keys), idx)
            value = A.subscript(mapping, A.clone(key))
            elem = {"items": A.tuple_([key, value]), "keys": key, "values": value}[
                it.func.attr
            ]
            count = A.call(A.load("len"), [A.load(keys)])
        else:
            p, seq = self.atom(it)
            pre += p
            elem = A.subscript(seq, idx)
            count = A.call(A.load("len"), [seq])
        p, count_atom = self.atom(count)
        pre += p
        prefix = [A.assign(A.clone(target), elem, node)]
        for t in gast.walk(prefix[0].targets[0]):
            if isinstance(t, gast.Name):
                t.ctx = gast.Store()
        loop = gast.For(
            target=A.store(index_name),
            iter=A.call(A.load("range"), [count_atom]),
            body=self.block(prefix + node.body),
            orelse=[],
            type_comment=None,
        )
        return pre + [loop]

    # -- expressions ---------------------------------------------------------

    def static_callee(self, func: gast.expr):
        """The object a call's function expression names, if it is static."""
        path = A.dotted_name(func)
        if path is None:
            return None
        root, *rest = path.split(".")
        if root in self.locals:
            return None
        value = self.src.namespace.lookup(root)
        for part in rest:
            if value is _MISSING:
                return None
            value = getattr(value, part, _MISSING)
        return None if value is _MISSING else value

    def is_operand(self, node: gast.expr) -> bool:
        """Atoms, plus static dotted names (``np.pi``): cheap, pure loads."""
        if A.is_atom(node):
            return True
        if isinstance(node, gast.Attribute):
            root = A.root_name(node)
            return (
                root is not None
                and root not in self.locals
                and A.dotted_name(node) is not None
            )
        return False

    def atom(self, node: gast.expr) -> tuple[Stmts, gast.expr]:
        pre, value = self.expr(node)
        pre2, atom = self.atomize(value)
        return pre + pre2, atom

    def atoms(self, nodes: list[gast.expr]) -> tuple[Stmts, list[gast.expr]]:
        pre: Stmts = []
        out = []
        for node in nodes:
            p, atom = self.atom(node)
            pre += p
            out.append(atom)
        return pre, out

    def atomize(self, value: gast.expr) -> tuple[Stmts, gast.expr]:
        if self.is_operand(value):
            return [], value
        tmp = self.temp()
        stmt = A.assign(tmp, value, self._line)
        if getattr(self._line, "lineno", None) is not None:
            # assign() gave every node of it a line, and nothing changes it
            # later: block() need not walk it again (see copy_lineno).
            self.numbered[id(stmt)] = stmt
        return [stmt], A.load(tmp)

    def expr(self, node: gast.expr) -> tuple[Stmts, gast.expr]:
        """Statements computing the operands, and one operation on atoms."""
        if self.is_operand(node):
            return [], node
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(
                f"{type(node).__name__} expressions are not supported by s2s_ad", node
            )
        return method(node)

    def expr_BinOp(self, node: gast.BinOp) -> tuple[Stmts, gast.expr]:
        p1, left = self.atom(node.left)
        p2, right = self.atom(node.right)
        return p1 + p2, gast.BinOp(left=left, op=node.op, right=right)

    def expr_UnaryOp(self, node: gast.UnaryOp) -> tuple[Stmts, gast.expr]:
        pre, operand = self.atom(node.operand)
        return pre, gast.UnaryOp(op=node.op, operand=operand)

    def expr_Compare(self, node: gast.Compare) -> tuple[Stmts, gast.expr]:
        pre, left = self.atom(node.left)
        pre2, rights = self.atoms(node.comparators)
        return pre + pre2, gast.Compare(left=left, ops=node.ops, comparators=rights)

    def expr_BoolOp(self, node: gast.BoolOp) -> tuple[Stmts, gast.expr]:
        if all(self.is_operand(v) for v in node.values):
            return [], node
        # Short-circuit evaluation as explicit branches: later operands may
        # not be evaluated at all.
        result = self.temp()
        raw: Stmts = [A.assign(result, node.values[0], self._line)]
        inner = raw
        for value in node.values[1:]:
            test = (
                A.load(result)
                if isinstance(node.op, gast.And)
                else A.not_(A.load(result))
            )
            branch = gast.If(
                test=test, body=[A.assign(result, value, self._line)], orelse=[]
            )
            inner.append(branch)
            inner = branch.body
        return self.block(raw), A.load(result)

    def expr_IfExp(self, node: gast.IfExp) -> tuple[Stmts, gast.expr]:
        result = self.temp()
        raw = gast.If(
            test=node.test,
            body=[A.assign(result, node.body, self._line)],
            orelse=[A.assign(result, node.orelse, self._line)],
        )
        A.copy_lineno(raw, self._line)
        return self.block([raw]), A.load(result)

    def expr_Tuple(self, node: gast.Tuple) -> tuple[Stmts, gast.expr]:
        pre, elts = self.atoms(node.elts)
        return pre, A.tuple_(elts)

    def expr_List(self, node: gast.List) -> tuple[Stmts, gast.expr]:
        pre, elts = self.atoms(node.elts)
        return pre, gast.List(elts=elts, ctx=gast.Load())

    def expr_Dict(self, node: gast.Dict) -> tuple[Stmts, gast.expr]:
        if any(k is None for k in node.keys):
            raise self.refuse("dict unpacking (**d) is not supported by s2s_ad", node)
        pre, keys = self.atoms(node.keys)
        pre2, values = self.atoms(node.values)
        return pre + pre2, gast.Dict(keys=keys, values=values)

    def expr_Subscript(self, node: gast.Subscript) -> tuple[Stmts, gast.expr]:
        pre, base = self.atom(node.value)
        pre2, index = self.index(node.slice)
        return pre + pre2, A.subscript(base, index)

    def index(self, node: gast.expr) -> tuple[Stmts, gast.expr]:
        if isinstance(node, gast.Tuple):
            pre: Stmts = []
            elts = []
            for elt in node.elts:
                p, e = self.index(elt)
                pre += p
                elts.append(e)
            return pre, A.tuple_(elts)
        if isinstance(node, gast.Slice):
            pre = []
            parts = []
            for part in (node.lower, node.upper, node.step):
                if part is None:
                    parts.append(None)
                else:
                    p, atom = self.atom(part)
                    pre += p
                    parts.append(atom)
            return pre, gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        return self.atom(node)

    def expr_Attribute(self, node: gast.Attribute) -> tuple[Stmts, gast.expr]:
        pre, value = self.atom(node.value)
        return pre, A.attr(value, node.attr)

    def expr_Lambda(self, node: gast.Lambda) -> tuple[Stmts, gast.expr]:
        return [], node

    def expr_JoinedStr(self, node: gast.AST) -> tuple[Stmts, gast.expr]:
        return [], node

    def expr_Call(self, node: gast.Call) -> tuple[Stmts, gast.expr]:
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.local_defs:
            return self.inline(self.local_defs[func.id], node, func.id)
        if isinstance(func, gast.Lambda):
            return self.inline(func, node, "lambda")
        pre: Stmts = []
        if isinstance(func, gast.Attribute) and not self.is_operand(func):
            p, base = self.atom(func.value)
            pre += p
            func = A.attr(base, func.attr)
        elif not self.is_operand(func):
            p, func = self.atom(func)
            pre += p
        p, args = self.atoms(node.args)
        pre += p
        keywords = []
        for kw in node.keywords:
            p, value = self.atom(kw.value)
            pre += p
            keywords.append(gast.keyword(arg=kw.arg, value=value))
        return pre, A.call(func, args, keywords)

    def inline(
        self, fnode: gast.AST, call: gast.Call, name: str
    ) -> tuple[Stmts, gast.expr]:
        """Inline a call to a lambda or a function defined in this function."""
        if id(fnode) in self._inlining:
            raise self.refuse(
                f"recursive calls to {name!r}, defined inside the function, are not "
                "supported; define it at module level",
                call,
            )
        args = fnode.args
        params = [
            a.id for a in list(getattr(args, "posonlyargs", [])) + list(args.args)
        ]
        defaults = dict(zip(params[len(params) - len(args.defaults) :], args.defaults))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            params.append(arg.id)
            if default is not None:
                defaults[arg.id] = default
        bound: dict[str, gast.expr] = {}
        if len(call.args) > len(params) - len(args.kwonlyargs):
            raise self.refuse(f"too many arguments in call to {name!r}", call)
        for param, value in zip(params, call.args):
            bound[param] = value
        for kw in call.keywords:
            if kw.arg not in params or kw.arg in bound:
                raise self.refuse(
                    f"bad keyword argument {kw.arg!r} in call to {name!r}", call
                )
            bound[kw.arg] = kw.value
        for param in params:
            if param not in bound:
                if param not in defaults:
                    raise self.refuse(
                        f"missing argument {param!r} in call to {name!r}", call
                    )
                bound[param] = defaults[param]
        if isinstance(fnode, gast.Lambda):
            body: Stmts = [gast.Return(value=fnode.body)]
            A.copy_lineno(body[0], call)
        else:
            body = fnode.body
        inner_locals = _scope_names(body) | set(params)
        mapping = {v: self.fresh_local(f"{name}_{v}") for v in sorted(inner_locals)}
        pre: Stmts = []
        for param in params:
            p, value = self.expr(bound[param])
            pre += p + [A.assign(mapping[param], value, call)]
        renamed = _rename(body, mapping)
        saved_defs = self.local_defs
        self.local_defs = {k: v for k, v in saved_defs.items() if k not in inner_locals}
        for node in _walk_scope(renamed):
            if isinstance(node, gast.FunctionDef):
                self.local_defs[node.name] = node
        self._inlining.append(id(fnode))
        saved_line = self._line
        try:
            core, result = self.function_body(renamed)
        finally:
            self._inlining.pop()
            self.local_defs = saved_defs
            self._line = saved_line
        return pre + core, result

    def comprehension(self, node: gast.AST, make: str) -> tuple[Stmts, gast.expr]:
        result = self.temp()
        mapping: dict[str, str] = {}
        for gen in node.generators:
            for name in sorted(A.names_stored(gen.target)):
                mapping[name] = self.fresh_local(name)
        node = _rename(node, mapping)
        if make == "dict":
            inner: gast.stmt = A.assign(
                A.subscript(A.load(result), node.key, gast.Store()),
                node.value,
                self._line,
            )
            init: gast.expr = gast.Dict(keys=[], values=[])
        else:
            inner = A.expr_stmt(
                A.call(A.attr(A.load(result), "append"), [node.elt]), self._line
            )
            init = gast.List(elts=[], ctx=gast.Load())
        for gen in reversed(node.generators):
            if getattr(gen, "is_async", 0):
                raise self.refuse(
                    "async comprehensions are not supported by s2s_ad", node
                )
            for cond in reversed(gen.ifs):
                inner = gast.If(test=cond, body=[inner], orelse=[])
            inner = gast.For(
                target=gen.target,
                iter=gen.iter,
                body=[inner],
                orelse=[],
                type_comment=None,
            )
        A.copy_lineno(inner, self._line)
        raw = [A.assign(result, init, self._line), inner]
        return self.block(raw), A.load(result)

    def expr_ListComp(self, node: gast.ListComp) -> tuple[Stmts, gast.expr]:
        return self.comprehension(node, "list")

    def expr_GeneratorExp(self, node: gast.GeneratorExp) -> tuple[Stmts, gast.expr]:
        return self.comprehension(node, "list")

    def expr_DictComp(self, node: gast.DictComp) -> tuple[Stmts, gast.expr]:
        return self.comprehension(node, "dict")


def _any(names: list[str]) -> gast.expr:
    if len(names) == 1:
        return A.load(names[0])
    return gast.BoolOp(op=gast.Or(), values=[A.load(n) for n in names])


def _is_docstring(stmt: gast.stmt) -> bool:
    return (
        isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _walk_scope(body: Stmts) -> list[gast.AST]:
    """The nodes of statements, in source order, without entering nested
    functions or lambdas, nor listing leaves (contexts, operators,
    constants: no caller wants them)."""
    out: list[gast.AST] = []
    todo: list[gast.AST] = list(reversed(body))
    pop, extend = todo.pop, todo.extend
    function_class, lambda_class = gast.FunctionDef, gast.Lambda
    kids: list[gast.AST] = []
    while todo:
        node = pop()
        out.append(node)
        cls = node.__class__
        if cls is function_class or cls is lambda_class:
            continue
        kids.clear()
        _push_inner(node, kids)
        kids.reverse()
        extend(kids)
    return out


# The nodes whose insides _scope_names does not look into, but _walk_scope
# does (comprehensions but set ones: their own scopes).
_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.DictComp)
_CLOSE = object()  # marks, on the walk's stack, the end of a comprehension


def _walk_scope_binding(body: Stmts) -> tuple[list[gast.AST], set[str]]:
    """``(_walk_scope(body), _scope_names(body))`` in one walk: the names
    are collected but inside the comprehensions the walk enters."""
    out: list[gast.AST] = []
    found: set[str] = set()
    todo: list[Any] = list(reversed(body))
    pop, push, extend = todo.pop, todo.append, todo.extend
    function_class, lambda_class, name_class = gast.FunctionDef, gast.Lambda, gast.Name
    binding = (gast.Store, gast.Param)
    closed = _CLOSE
    depth = 0  # the number of comprehensions the walk is inside
    inner, reversed_fields = A.INNER, _REVERSED_FIELDS
    while todo:
        node = pop()
        if node is closed:
            depth -= 1
            continue
        out.append(node)
        cls = node.__class__
        if cls is function_class or cls is lambda_class:
            if cls is function_class and not depth:
                found.add(node.name)
            continue
        if depth:
            pass
        elif cls is name_class:
            if isinstance(node.ctx, binding):
                found.add(node.id)
        elif cls in _COMPREHENSIONS:
            depth += 1
            push(closed)
        # _push_inner's children, pushed last first: popped in source order.
        fields = node.__dict__
        for name in reversed_fields.get(cls) or _reversed_fields(cls):
            value = fields.get(name)
            if value.__class__ is list:
                extend([v for v in reversed(value) if v.__class__ in inner])
            elif value.__class__ in inner:
                push(value)
    return out, found


# node class -> the fields _push_inner reads, last first.
_REVERSED_FIELDS: dict[type, tuple[str, ...]] = {}


def _reversed_fields(cls: type) -> tuple[str, ...]:
    fields = A.NAME_FIELDS.get(cls) or A.name_fields(cls)
    found = _REVERSED_FIELDS[cls] = fields[::-1]
    return found


def _captured_names(nodes: list[gast.AST]) -> set[str]:
    """Names whose value may also be referenced from elsewhere: appended,
    placed in a container display, or copied to or from another name.
    ``nodes`` are a function body's, as :func:`_walk_scope` lists them."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, (gast.List, gast.Tuple, gast.Set)) and isinstance(
            node.ctx, gast.Load
        ):
            found.update(e.id for e in node.elts if isinstance(e, gast.Name))
        elif isinstance(node, gast.Dict):
            found.update(v.id for v in node.values if isinstance(v, gast.Name))
        elif (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Attribute)
            and node.func.attr in ("append", "insert", "extend", "add")
        ):
            found.update(a.id for a in node.args if isinstance(a, gast.Name))
        elif isinstance(node, gast.Assign) and isinstance(node.value, gast.Name):
            found.add(node.value.id)
            found.update(t.id for t in node.targets if isinstance(t, gast.Name))
    return found


def normalize(
    src: FunctionSource,
    namer: Namer,
    global_name: Callable[[str, Any], str] | None = None,
) -> NormalizedFunction:
    """Core form of ``src`` (see the module docstring for the guarantees)."""
    return Normalizer(src, namer, global_name).run()
