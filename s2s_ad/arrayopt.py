"""Fewer passes over arrays in finished reverse code.

Array adjoints pay for every elementwise operation with a pass over memory,
and rules compose literally: the adjoint of ``1.0 - head`` negates a whole
array (``u7_bar = -u8_bar``) that was just made by ``u9_bar * (2 * u8)``,
and ``u5_bar = u6_bar * 100.0`` scales one that is next multiplied by
``(2 * u4)``.  This pass runs on each finished generated function and

* moves a constant factor (a negation, ``* c`` or ``c *``, also under the
  linear helpers ``rt.unbroadcast``/``rt.unreduce``/``rt.unreduce_mean``)
  out of the definition of an array adjoint read exactly once, into a
  literal factor of the expression that reads it (``u9_bar * (-2 * u8)``)
  or, failing that, into a literal factor of the definition of the adjoint
  it negates or scales; the definition left is a plain name copy, which
  costs nothing;
* returns array adjoints that nothing else can reach without the copy
  ``rt.finalize`` makes (``rt.finalize_owned``), when every value the
  adjoint is ever given is an array the generated code made for it alone;
  when such an adjoint is read only to be accumulated into (``g = g + e``,
  e.g. a weight's gradient summed over the steps of a loop), it is updated
  in place (``rt.acc_into``) instead of reallocated each time.

Before these, :mod:`s2s_ad.keepshape` traces only the shapes of values
the reverse sweep reads for nothing else, and :mod:`s2s_ad.shapes` drops
``rt.unbroadcast`` calls whose shapes provably match and keeps the adjoint
of a full sum a number where that is exact; after them,
:mod:`s2s_ad.scatter` merges updates of the same slice of an adjoint,
``v * (c * e)`` becomes ``(c * v) * e`` for a number ``v``, and
:mod:`s2s_ad.fusion` computes single-use arrays where they are used, so
that no local keeps them alive (each module states what it guarantees).

Guarantees of the two rewrites above: only adjoints of array kind are
rewritten, each with a single definition and a single read, so moving a
constant factor between them changes no other value; the factors are
folded exactly (products of the literals) and the only numerical change is
the order of multiplication (within an ulp per element).  ``rt.finalize_owned`` returns its argument
only when it is an ndarray of the primal's shape and dtype, else it copies
like ``rt.finalize``.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import gast

from s2s_ad import astutil as A
from s2s_ad.accumulate import gather_accumulations
from s2s_ad.bodyindex import BodyIndex
from s2s_ad.copyprop import reverse_start
from s2s_ad.fusion import Purity, fuse_single_uses
from s2s_ad.keepshape import keep_shapes_only
from s2s_ad.reverse import tidy_comments, tidy_comments_before_return
from s2s_ad.scatter import merge_slice_updates
from s2s_ad.shapes import fold_number_factors, optimize_shapes

if TYPE_CHECKING:
    from s2s_ad.reverse import ReverseBuilder

Stmts = list[gast.stmt]

#: rt helpers linear in their first argument (a factor moves through them).
_LINEAR_IN_FIRST = {"unbroadcast", "unbroadcast_to", "unreduce", "unreduce_mean"}
#: rt helpers whose result is a new array (never one of their arguments).
_FRESH_HELPERS = {"matmul_adjoint_a", "matmul_adjoint_b"}
_NUMBER_KINDS = {"scalar", "array", "numeric"}
_LOAD = gast.Load


def optimize_array_adjoints(
    defs: list[gast.FunctionDef], builder: ReverseBuilder, fwd: Stmts
) -> None:
    """Run both rewrites on each generated function of one transformation."""
    kinds = builder.act.kinds
    # Numeric ones too: NumPy results whose rank is unknown (never lists).
    arrays = {
        bar
        for name, bar in builder.adjoints.items()
        if kinds.get(name) in ("array", "numeric")
    }
    if not arrays:
        return
    name_kinds = _name_kinds(builder)
    rt = A.dotted_name(builder.rt("x").value)
    forward = {id(stmt) for stmt in fwd}
    primal_of = {bar: name for name, bar in builder.adjoints.items()}
    adjoint_names = set(primal_of)
    for fdef in defs:
        params = [a.id for a in fdef.args.args if isinstance(a, gast.Name)]
        # The forward sweep never mentions an adjoint: only what follows its
        # last statement is looked at (and indexed).
        body = fdef.body
        start = reverse_start(body, forward)
        # First, as it adds statements and names to both sweeps: the names it
        # rewrites are assigned in loops, which the shape pass never classes.
        if builder.uses_trace and keep_shapes_only(
            body,
            start,
            name_kinds,
            rt,
            builder.trace,
            builder.namer.exact_or_fresh,
            builder.name_nodes,
        ):
            start = reverse_start(body, forward)
        # One index of the body's names for all the passes below.  Each pass
        # that rewrites a statement tells it (BodyIndex.rewritten); a pass
        # added here that does not must build a new one after it.
        names = BodyIndex(body, start, builder.name_nodes)
        resolve = _resolver(fdef, names, builder.src.namespace)
        numbers = optimize_shapes(
            body, params, name_kinds, primal_of, resolve, rt, names
        )
        rest = body[start:]
        index = _FactorMover(rest, arrays, name_kinds, rt, names).run()
        _own_finalized(rest, arrays, rt, index)
        merged = merge_slice_updates(
            rest, name_kinds, rt, builder.trace, Purity(name_kinds, rt, resolve)
        )
        body[start:] = rest
        # The index knows each statement's names unless merges moved some.
        known = None if merged else names
        fold_number_factors(body[start:], numbers, name_kinds, adjoint_names, known)
        if merged:
            names = BodyIndex(body, start)  # statements went, others changed
        fused = fuse_single_uses(
            body, name_kinds, rt, resolve, names, trace=builder.trace
        )
        if fused or merged:
            tidy_comments_before_return(body)


def fuse_numbers(fdef: gast.FunctionDef, builder: ReverseBuilder, fwd: Stmts) -> None:
    """Fuse the single-use values of numbers too (not only of arrays) in
    ``fdef``, then gather its accumulations of number adjoints: for Python
    floats, where a statement costs about what its operation costs, fewer
    statements make a faster gradient."""
    body = fdef.body
    names = BodyIndex(body, len(body))
    resolve = _resolver(fdef, names, builder.src.namespace)
    rt = A.dotted_name(builder.rt("x").value)
    name_kinds = _name_kinds(builder)
    trace = builder.trace if builder.uses_trace else None
    fused = fuse_single_uses(
        body, name_kinds, rt, resolve, names, frozenset(_NUMBER_KINDS), trace
    )
    numbers = {
        bar
        for name, bar in builder.adjoints.items()
        if builder.act.kinds.get(name) == "scalar"
    }
    start = reverse_start(body, {id(stmt) for stmt in fwd})
    purity = Purity(name_kinds, rt, resolve)
    if gather_accumulations(body, start, numbers, purity, trace) or fused:
        tidy_comments_before_return(body)


def _name_kinds(builder: ReverseBuilder) -> dict[str, str]:
    """The kind of every primal and adjoint (an adjoint's is its primal's)."""
    kinds = builder.act.kinds
    name_kinds = dict(kinds)
    for name, bar in builder.adjoints.items():
        name_kinds.setdefault(bar, kinds.get(name, "unknown"))
    return name_kinds


def _resolver(fdef: gast.FunctionDef, names: BodyIndex, namespace: Any) -> Any:
    """The value a free name of ``fdef`` refers to (None for its locals);
    ``names`` indexes its body (whose rewrites never bind a new name)."""
    local = set(names.bound)
    for field in fdef._fields:
        value = getattr(fdef, field, None)
        parts = value if isinstance(value, list) else [value]
        if field == "body":
            continue
        for part in parts:
            if isinstance(part, gast.AST):
                local.update(
                    n.id for n in A.name_nodes(part) if not isinstance(n.ctx, gast.Load)
                )
    known: dict[str, Any] = {}

    def resolve(name: str) -> Any:
        if name not in known:
            known[name] = None if name in local else namespace.lookup(name)
        return known[name]

    return resolve


def _number(node: gast.expr) -> Any:
    """The value of a numeric literal (not a bool), else None."""
    if isinstance(node, gast.Constant):
        v = node.value
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
    return None


def _folded(value: float) -> gast.expr:
    """A literal for ``value``: negative ones as ``-c`` (as a person writes)."""
    if value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=A.const(-value))
    return A.const(value)


def _literal(node: gast.expr) -> Any:
    """The value of ``c`` or ``-c`` for a numeric literal ``c``, else None."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return _number(node)


def _accumulation(stmt: gast.stmt) -> gast.expr | None:
    """``e`` when ``stmt`` is ``a = a + e`` with ``e`` not mentioning ``a``."""
    name = A.assigned_name(stmt)
    value = getattr(stmt, "value", None)
    if (
        name is not None
        and isinstance(value, gast.BinOp)
        and isinstance(value.op, gast.Add)
        and isinstance(value.left, gast.Name)
        and value.left.id == name
        and name not in A.names(value.right)
    ):
        return value.right
    return None


class _Index:
    """Names per statement, gathered in one pass over the statements (their
    names come from the :class:`BodyIndex`, no tree is walked): each
    statement's own names (not in its nested blocks), and where each name is
    read and stored.  Passes query it instead of walking subtrees again
    (nested loops would make that quadratic).  The names a statement
    mentions with its nested blocks are gathered only when asked, from the
    statements as they were when the index was built.  Reads and stores
    are gathered for the names ``wanted`` only (the only ones asked about)."""

    def __init__(self, body: Stmts, names: BodyIndex, wanted: set[str]) -> None:
        self.names = names  # of the whole function, kept up to date
        self.wanted = wanted
        self.order: list[gast.stmt] = []  # pre-order, as A.statements
        self.own: dict[int, list[gast.Name]] = {}
        #: name -> the statements that read it, once per read.
        self.reads: dict[str, list[gast.stmt]] = {}
        #: name -> the statements that store it: an assignment once per
        #: store, any other statement (a loop target...) twice, so that a
        #: name it stores is never taken for one defined once.
        self.defs: dict[str, list[gast.stmt]] = {}
        # id(compound statement) -> the statements nested in it directly.
        self._nested: dict[int, Stmts] = {}
        self._deep: dict[int, tuple[set[str], set[str]]] = {}
        self._visit(body)

    def _visit(self, block: Stmts) -> None:
        order, own_of, reads, defs = self.order, self.own, self.reads, self.defs
        own_names, wanted = self.names.own_names, self.wanted
        for stmt in block:
            order.append(stmt)
            own = own_of[id(stmt)] = own_names(stmt)
            assign = stmt.__class__ is gast.Assign
            for n in own:
                if n.id not in wanted:
                    continue
                if n.ctx.__class__ is _LOAD:
                    found = reads.get(n.id)
                    if found is None:
                        reads[n.id] = [stmt]
                    else:
                        found.append(stmt)
                elif assign:
                    defs.setdefault(n.id, []).append(stmt)
                else:
                    # Stored by a loop target or similar: never rewritten.
                    defs.setdefault(n.id, []).extend([stmt, stmt])
            fields = stmt.__dict__
            if "body" in fields or "orelse" in fields:
                nested = self._nested[id(stmt)] = []
                for sub in A.sub_blocks(stmt):
                    nested += sub
                    self._visit(sub)

    def reading(self, name: str) -> Stmts:
        """The statements that read ``name`` themselves, each once, in order."""
        return list(dict.fromkeys(self.reads.get(name, ())))

    def storing(self, name: str) -> Stmts:
        """The statements that store ``name`` themselves, each once, in order."""
        return list(dict.fromkeys(self.defs.get(name, ())))

    def deep(self, stmt: gast.stmt) -> tuple[set[str], set[str]]:
        """The names ``stmt`` mentions and those it stores, its nested
        blocks included (as they were when the index was built)."""
        found = self._deep.get(id(stmt))
        if found is None:
            own = self.own[id(stmt)]
            names = {n.id for n in own}
            stored = {n.id for n in own if n.ctx.__class__ is not _LOAD}
            for inner in self._nested.get(id(stmt), ()):
                inner_names, inner_stored = self.deep(inner)
                names |= inner_names
                stored |= inner_stored
            found = self._deep[id(stmt)] = (names, stored)
        return found

    def reads_in(self, stmt: gast.stmt, name: str) -> list[gast.Name]:
        """The reads of ``name`` in ``stmt`` itself."""
        return [
            n
            for n in self.own[id(stmt)]
            if n.id == name and isinstance(n.ctx, gast.Load)
        ]


class _FactorMover:
    def __init__(
        self,
        body: Stmts,
        arrays: set[str],
        kinds: dict[str, str],
        rt: str,
        names: BodyIndex,
    ) -> None:
        self.body = body
        self.names = names
        self.arrays = arrays
        self.kinds = kinds
        self.rt = rt
        self.linear = {f"{rt}.{h}" for h in _LINEAR_IN_FIRST}

    def _census(self) -> _Index:
        """Where each name is assigned and read, over the whole function."""
        index = _Index(self.body, self.names, self.arrays)
        self.defs = index.defs
        self.reads = index.reads
        return index

    def _single(self, name: str) -> tuple[gast.Assign, gast.stmt] | None:
        defs, reads = self.defs.get(name, []), self.reads.get(name, [])
        if len(defs) != 1 or len(reads) != 1:
            return None
        (define,) = defs
        if A.assigned_name(define) is None:
            return None
        return define, reads[0]

    def run(self) -> _Index:
        """Move the factors; the index of the function as it is left."""
        # Moving a factor rewrites expressions inside the same statements and
        # never adds or removes a name, so one census serves every pass.
        index = self._census()
        candidates = [
            stmt for stmt in index.order if A.assigned_name(stmt) in self.arrays
        ]
        for _ in range(8):  # each success removes a factor; a few suffice
            moved = [stmt for stmt in candidates if self._move(stmt)]
            if not moved:
                break
        if _merge_negated_starts(self.body, self.arrays, index):
            tidy_comments(self.body)
            index = self._census()
        for name in sorted(self.arrays):
            self._flip_negated_difference(name)
        return index

    def _flip_negated_difference(self, name: str) -> None:
        """``v = a - b`` read once as ``-v`` becomes ``v = b - a`` read as
        ``v`` (exact: rounding is symmetric)."""
        found = self._single(name)
        if found is None:
            return
        define, use = found
        value = define.value
        if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Sub)):
            return
        for node in A.walk_inner(use):
            for field in ("left", "right", "operand", "value"):
                child = getattr(node, field, None)
                if (
                    isinstance(child, gast.UnaryOp)
                    and isinstance(child.op, gast.USub)
                    and isinstance(child.operand, gast.Name)
                    and child.operand.id == name
                ):
                    setattr(node, field, child.operand)
                    define.value = gast.BinOp(
                        left=value.right, op=gast.Sub(), right=value.left
                    )
                    return

    def _move(self, define: gast.Assign) -> bool:
        split = self._factor(define.value)
        if split is None:
            return False
        factor, rest = split
        # Forward, into the one expression that reads this adjoint.
        found = self._single(define.targets[0].id)
        if found is not None:
            site = _chain_top(found[1], define.targets[0].id)
            if site is not None and self._numbers_only(site[0]):
                absorbed = _absorb(site[0], factor, self.rt)
                if absorbed is not None:
                    site[1](absorbed)
                    define.value = rest
                    return True
        # Backward, into the definition of the adjoint this one copies, when
        # that one is read here only (and so on, through copies).
        if isinstance(rest, gast.Name) and self._through(define)(rest.id, factor):
            define.value = rest
            return True
        return False

    def _through(self, reader: gast.stmt) -> Any:
        """A hook for :func:`_absorb`: fold a factor into the definition of an
        adjoint that ``reader`` alone reads."""

        def fold(name: str, factor: float) -> bool:
            if name not in self.arrays:
                return False
            found = self._single(name)
            if found is None or found[1] is not reader:
                return False
            define = found[0]
            value = define.value
            if (
                factor == -1
                and isinstance(value, gast.BinOp)
                and isinstance(value.op, gast.Sub)
            ):
                # -(a - b) is b - a exactly: rounding is symmetric.
                define.value = gast.BinOp(
                    left=value.right, op=gast.Sub(), right=value.left
                )
                return True
            if not self._numbers_only(value):
                return False
            absorbed = _absorb(value, factor, self.rt, self._through(define))
            if absorbed is None:
                return False
            define.value = absorbed
            return True

        return fold

    def _factor(self, value: gast.expr) -> tuple[float, gast.expr] | None:
        """``value`` as ``factor * rest`` with a literal factor ≠ 1."""
        if (
            isinstance(value, gast.UnaryOp)
            and isinstance(value.op, gast.USub)
            and _literal(value.operand) is None
        ):
            return -1, value.operand
        if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):
            for lit, other in ((value.right, value.left), (value.left, value.right)):
                c = _literal(lit)
                if c is not None and c not in (0, 1) and _literal(other) is None:
                    return c, other
        if (
            isinstance(value, gast.Call)
            and value.args
            and not value.keywords
            and A.dotted_name(value.func) in self.linear
        ):
            inner = self._factor(value.args[0])
            if inner is not None:
                call = gast.Call(
                    func=value.func, args=[inner[1], *value.args[1:]], keywords=[]
                )
                return inner[0], call
        return None

    def _numbers_only(self, node: gast.expr) -> bool:
        """Every name in ``node`` holds a number or an array (so ``c * y``
        scales rather than repeats a list)."""
        return all(
            self.kinds.get(n.id) in _NUMBER_KINDS
            for n in A.name_nodes(node)
            if n.id != self.rt.split(".")[0]
        )


def _absorb(
    node: gast.expr, factor: float, rt: str, through: Any = None
) -> gast.expr | None:
    """``factor * node`` with the factor folded into a literal of ``node``'s
    product (or the numerator of ``rt.div``), or None when it has none.
    ``through(name, factor)``, if given, may fold it into the definition of
    a name in the product instead (returning whether it did)."""
    if isinstance(node, gast.Name):
        return node if through is not None and through(node.id, factor) else None
    c = _literal(node)
    if c is not None:
        return _folded(c * factor)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        if factor == -1:
            return node.operand
        return _absorb(node.operand, -factor, rt, through)
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        # Literals first: folding into a name's definition is the fallback.
        for hook in (None, through):
            for side in ("left", "right"):
                inner = _absorb(getattr(node, side), factor, rt, hook)
                if inner is None:
                    continue
                parts = {"left": node.left, "right": node.right, side: inner}
                return gast.BinOp(left=parts["left"], op=node.op, right=parts["right"])
        return None
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
        inner = _absorb(node.left, factor, rt, through)
        if inner is not None:
            return gast.BinOp(left=inner, op=node.op, right=node.right)
        return None
    if (
        isinstance(node, gast.Call)
        and A.dotted_name(node.func) == f"{rt}.div"
        and len(node.args) == 2
        and not node.keywords
    ):
        inner = _absorb(node.args[0], factor, rt, through)
        if inner is not None:
            return gast.Call(func=node.func, args=[inner, node.args[1]], keywords=[])
    return None


def _chain_top(stmt: gast.stmt, name: str) -> tuple[gast.expr, Any] | None:
    """The largest product (``*``, ``/`` numerator, unary minus) around the
    read of ``name`` in ``stmt``'s value, and a setter to replace it."""
    if not isinstance(stmt, gast.Assign):
        return None
    path: list[tuple[gast.AST, str, int | None]] = []
    if not _find(stmt, "value", None, name, path):
        return None
    top = None
    # path[k] locates the k-th node on the way down; the last is the name.
    for k in range(len(path) - 2, -1, -1):
        parent, field, index = path[k]
        node = (
            getattr(parent, field) if index is None else getattr(parent, field)[index]
        )
        scales = (
            isinstance(node, gast.BinOp)
            and (
                isinstance(node.op, gast.Mult)
                # Only the numerator scales a quotient.
                or (isinstance(node.op, gast.Div) and path[k + 1][1] == "left")
            )
        ) or (isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub))
        if not scales:
            break
        top = (parent, field, index)
    if top is None:
        return None
    parent, field, index = top
    node = getattr(parent, field) if index is None else getattr(parent, field)[index]

    def replace(new: gast.expr) -> None:
        if index is None:
            setattr(parent, field, new)
        else:
            getattr(parent, field)[index] = new

    return node, replace


def _find(
    parent: gast.AST,
    field: str,
    index: int | None,
    name: str,
    path: list[tuple[gast.AST, str, int | None]],
) -> bool:
    node = getattr(parent, field) if index is None else getattr(parent, field)[index]
    path.append((parent, field, index))
    if isinstance(node, gast.Name):
        if node.id == name and isinstance(node.ctx, gast.Load):
            return True
    elif isinstance(node, gast.AST):
        for sub in node._fields:
            value = getattr(node, sub, None)
            if isinstance(value, list):
                for k, v in enumerate(value):
                    if isinstance(v, gast.expr) and _find(node, sub, k, name, path):
                        return True
            elif isinstance(value, gast.expr) and _find(node, sub, None, name, path):
                return True
    path.pop()
    return False


def _negated_start(stmt: gast.stmt, arrays: set[str]) -> bool:
    """``v = -w`` for an array adjoint ``v`` and a name ``w``."""
    return (
        A.assigned_name(stmt) in arrays
        and isinstance(stmt.value, gast.UnaryOp)
        and isinstance(stmt.value.op, gast.USub)
        and isinstance(stmt.value.operand, gast.Name)
    )


def _merge_negated_starts(body: Stmts, arrays: set[str], index: _Index) -> bool:
    """``v = -w`` then ``v = v + e`` becomes ``v = e - w`` (exact), in each
    block, when nothing between mentions ``v`` or assigns ``w``."""
    changed = False
    for stmt in body:
        for sub in A.sub_blocks(stmt):
            changed |= _merge_negated_starts(sub, arrays, index)
    # (Exact classes first: asked of every statement.)
    found = [
        (i, stmt)
        for i, stmt in enumerate(body)
        if stmt.__class__ is gast.Assign
        and stmt.value.__class__ is gast.UnaryOp
        and _negated_start(stmt, arrays)
    ]
    if not found:
        return changed
    # Where each name is mentioned and stored in this block, in order, so
    # that finding the next mention does not rescan the block.
    mentions: dict[str, list[int]] = {}
    stores: dict[str, list[int]] = {}
    for k, stmt in enumerate(body):
        names, stored = index.deep(stmt)
        for name in names:
            mentions.setdefault(name, []).append(k)
        for name in stored:
            stores.setdefault(name, []).append(k)
    starts = []
    for i, stmt in found:
        v, w = stmt.targets[0].id, stmt.value.operand.id
        seen = mentions[v]
        at = bisect.bisect_right(seen, i)
        if at == len(seen):
            continue
        j = seen[at]
        written = stores.get(w, [])
        if bisect.bisect_right(written, i) != bisect.bisect_left(written, j):
            continue  # w is assigned in between
        later = body[j]
        added = _accumulation(later)
        if A.assigned_name(later) == v and added is not None:
            later.value = gast.BinOp(
                left=added, op=gast.Sub(), right=stmt.value.operand
            )
            index.names.rewritten(later)
            starts.append(i)
    # The pairs are independent: a start is never another pair's update.
    for i in reversed(starts):
        del body[i]
    return changed or bool(starts)


# -- finalize without a copy ------------------------------------------------


def _own_finalized(body: Stmts, arrays: set[str], rt: str, index: _Index) -> None:
    """``rt.finalize(x, g)`` -> ``rt.finalize_owned(x, g)`` for adjoints
    ``g`` that only ever hold arrays made for them, read nowhere else but
    as operands of arithmetic (which makes new arrays) or as the updated
    argument of ``rt.add_at`` assigned back to themselves."""
    if not body or not isinstance(body[-1], gast.Return):
        return
    finalize = f"{rt}.finalize"
    calls = [
        node
        for node in A.walk_inner(body[-1])
        if isinstance(node, gast.Call)
        and A.dotted_name(node.func) == finalize
        and len(node.args) == 2
        and isinstance(node.args[1], gast.Name)
        and node.args[1].id in arrays
    ]
    if not calls:
        return
    names = [c.args[1].id for c in calls]
    for call in calls:
        g = call.args[1].id
        if names.count(g) == 1 and _owned(index, g, rt, call):
            call.func = A.dotted(f"{rt}.finalize_owned")
            index.names.rewritten(body[-1])
            _accumulate_in_place(index, g, rt, call)


def _accumulate_in_place(index: _Index, g: str, rt: str, final: gast.Call) -> None:
    """``g = g + e`` -> ``g = rt.acc_into(g, e)`` for an owned adjoint ``g``
    read nowhere else: no other statement can see the update in place, and
    none needs an older value of ``g`` (so neither does the code that
    differentiates this code again)."""
    updates = []
    for stmt in index.reading(g):
        reads = index.reads_in(stmt, g)
        if A.assigned_name(stmt) == g and _accumulation(stmt) is not None:
            updates.append(stmt)
        elif not (len(reads) == 1 and reads[0] is final.args[1]):
            return
    for stmt in updates:
        stmt.value = A.call(
            A.dotted(f"{rt}.acc_into"), [stmt.value.left, stmt.value.right]
        )
        index.names.rewritten(stmt)


def _owned(index: _Index, g: str, rt: str, final: gast.Call) -> bool:
    fresh_calls = {f"{rt}.{h}" for h in _FRESH_HELPERS}
    add_at = f"{rt}.add_at"
    for stmt in index.storing(g):
        if isinstance(stmt, gast.Assign):
            if A.assigned_name(stmt) is None:
                return False
            value = stmt.value
            if isinstance(value, (gast.BinOp, gast.UnaryOp)):
                pass  # arithmetic on an array makes a new one
            elif _literal(value) is not None:
                pass  # a number: finalize_owned converts it
            elif (
                isinstance(value, gast.Call)
                and A.dotted_name(value.func) in fresh_calls
            ):
                pass
            elif (
                isinstance(value, gast.Call)
                and A.dotted_name(value.func) == add_at
                and isinstance(value.args[0], gast.Name)
                and value.args[0].id == g
            ):
                pass  # updates g (copying a read-only one): still g's own
            else:
                return False
        else:
            return False  # a loop target or the like
    return all(
        _reads_ok(stmt, index.reads_in(stmt, g), g, add_at, final)
        for stmt in index.reading(g)
    )


def _reads_ok(
    stmt: gast.stmt, reads: list[gast.Name], g: str, add_at: str, final: gast.Call
) -> bool:
    """Whether the ``reads`` of ``g`` in ``stmt`` let no other name hold it."""
    allowed: set[int] = set()
    for part in A.own_parts(stmt):
        for node in A.walk_inner(part):
            if isinstance(node, gast.BinOp):
                allowed.update(id(s) for s in (node.left, node.right))
            elif isinstance(node, gast.UnaryOp):
                allowed.add(id(node.operand))
            elif isinstance(node, gast.Call) and node is final:
                allowed.add(id(node.args[1]))
            elif (
                isinstance(node, gast.Call)
                and A.dotted_name(node.func) == add_at
                and A.assigned_name(stmt) == g
                and stmt.value is node
            ):
                allowed.add(id(node.args[0]))
    return all(id(n) in allowed for n in reads)
