"""Array values used once, computed where they are used.

Every intermediate of a generated function is a local name, so each array
it makes lives until the function returns: ``u3 = u2 ** 2`` stays in memory
through the whole reverse sweep even when ``u4 = u1 - u3`` was its only use.
Arrays of a million entries each cost fresh pages, where a value dropped as
soon as it is used (as in ``u4 = u1 - u2 ** 2``) leaves its memory to the
next one.  This pass runs on each finished generated function and moves the
value ``e`` of ``t = e`` into the one statement that reads ``t`` when

* ``t`` holds an array (kind ``array`` or ``numeric``; numbers too, kind
  ``scalar``, in the code for Python floats, see
  :func:`s2s_ad.arrayopt.fuse_numbers`), is a local (not declared global
  or nonlocal), and its one read is in a later plain assignment ``s`` of
  the same block (not a return: gradients are named there);
* ``t`` is assigned nowhere else and read nowhere else, or (a value the
  reverse sweep recomputes) every assignment of ``t`` is a plain ``t = e``
  and each read follows its own assignment in one block, with nothing
  between that mentions ``t``: no read can see two assignments;
* ``e`` is pure: arithmetic, names of numbers and arrays, literals, basic
  subscripts, calls of NumPy ufuncs and reductions and of ``rt`` helpers
  that compute a new value from their arguments without changing them;
* every statement between is a pure assignment to a name ``e`` does not
  read, or a push onto the trace (which changes no number or array), and
  what ``s`` evaluates before the read is pure too;
* the statement grown stays short (a few operations, two ``rt`` helpers,
  a helper's result never moved into another helper's arguments), to stay
  readable.  The reverse sweep's comments still name the statements of the
  normalized function (``# u10 = u6 + u9``), whose adjoints keep their
  names even where the forward sweep no longer names ``u10``.

A value used where it is computed also lets NumPy reuse the memory of a
temporary operand for the result (it does when nothing else refers to it).

Guarantees: nothing between the two places changes anything ``e`` reads
(the statements between only bind other names to new values, or append to
the trace list), so ``e``
computes the same value, bit for bit, from the same operands; only when it
is computed moves, and no other name could see ``t``.
"""

from __future__ import annotations

from typing import Any, Callable

import gast
import numpy as np

from s2s_ad import astutil as A
from s2s_ad.bodyindex import BodyIndex
from s2s_ad.reverse import is_comment

Stmts = list[gast.stmt]

#: rt helpers that return a value computed from their arguments and change
#: none of them.
_PURE_HELPERS = {
    "unbroadcast", "unbroadcast_to", "unreduce", "unreduce_mean", "unreduce_max", "div",
    "matmul_adjoint_a", "matmul_adjoint_b", "sign",
}  # fmt: skip
#: NumPy functions (besides ufuncs) that only compute a new value.
_PURE_NUMPY = {"sum", "mean", "max", "min", "amax", "amin", "prod", "dot", "matmul"}
_NUMBER_KINDS = {"scalar", "array", "numeric"}
_LOAD = gast.Load
_FUSED = frozenset({"array", "numeric"})
_NAME = gast.Name
_DECLARATIONS = frozenset({gast.Global, gast.Nonlocal})
#: The compound statements whose blocks the pass follows.
_FOLLOWED = frozenset({gast.If, gast.For, gast.While})
#: At most this many assignments of a name whose values are fused.
_MAX_DEFINITIONS = 4
#: At most this many operations in a statement that takes a value in.
_MAX_OPERATIONS = 6
#: At most this many ``rt`` helper calls in a statement that takes a value in.
_MAX_HELPERS = 2


def _operations(node: gast.AST) -> int:
    """The operations a reader sees in ``node`` (``-2`` and ``slice(1,
    None, None)`` read as literals)."""
    count = 0
    # A walk inlined (asked of both statements of every candidate pair).
    todo = [node]
    pop, append = todo.pop, todo.append
    fields_of, inner = A.NAME_FIELDS, A.INNER
    while todo:
        n = pop()
        cls = n.__class__
        if cls is gast.BinOp:
            count += 1
        elif cls is gast.UnaryOp:
            count += n.operand.__class__ is not gast.Constant
        elif cls is gast.Call:
            func = n.func
            count += not (func.__class__ is gast.Name and func.id == "slice")
        fields = n.__dict__
        for field in fields_of.get(cls) or A.name_fields(cls):
            value = fields.get(field)
            if value.__class__ is list:
                for v in value:
                    if v.__class__ in inner:
                        append(v)
            elif value.__class__ in inner:
                append(value)
    return count


class Purity:
    """Which expressions only compute a value (see the module docstring)."""

    def __init__(
        self, kinds: dict[str, str], rt: str, resolve: Callable[[str], Any]
    ) -> None:
        self.kinds = kinds
        self.rt = rt
        self.resolve = resolve

    def pure(self, node: gast.AST) -> bool:
        if isinstance(node, gast.Name):
            return self.kinds.get(node.id) in _NUMBER_KINDS
        if isinstance(node, gast.Constant):
            return True
        if isinstance(node, gast.BinOp):
            return self.pure(node.left) and self.pure(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.pure(node.operand)
        if isinstance(node, gast.Subscript):
            return self.pure(node.value) and self._index(node.slice)
        if isinstance(node, gast.Call):
            return (
                (self.pure_function(node.func) or self._slice(node.func))
                and not node.keywords
                and all(self.pure(a) for a in node.args)
            )
        return False

    def _index(self, node: gast.AST) -> bool:
        """A basic index of literals, names of numbers and slices of them."""
        if isinstance(node, gast.Slice):
            return all(
                part is None or self.pure(part)
                for part in (node.lower, node.upper, node.step)
            )
        if isinstance(node, gast.Tuple):
            return all(self._index(e) for e in node.elts)
        return self.pure(node)

    def helper_calls(self, node: gast.AST) -> int:
        """How many calls of ``rt`` helpers ``node`` holds."""
        prefix = f"{self.rt}."
        # Only a dotted function name (an attribute) can start with it.
        return sum(
            n.__class__ is gast.Call
            and n.func.__class__ is gast.Attribute
            and (A.dotted_name(n.func) or "").startswith(prefix)
            for n in A.walk_inner(node)
        )

    def in_helper(self, tree: gast.AST, read: gast.Name) -> bool:
        """Whether ``read`` is inside the arguments of an ``rt`` call."""
        prefix = f"{self.rt}."
        return any(
            isinstance(n, gast.Call)
            and (A.dotted_name(n.func) or "").startswith(prefix)
            and any(m is read for m in A.walk_inner(n))
            for n in A.walk_inner(tree)
        )

    def _slice(self, func: gast.expr) -> bool:
        return isinstance(func, gast.Name) and self.resolve(func.id) is slice

    def pure_function(self, func: gast.expr) -> bool:
        name = A.dotted_name(func)
        if name is None or "." not in name:
            return False
        module, attr = name.rsplit(".", 1)
        if module == self.rt:
            return attr in _PURE_HELPERS
        if "." in module or self.resolve(module) is not np:
            return False
        return attr in _PURE_NUMPY or isinstance(getattr(np, attr, None), np.ufunc)

    def evaluated_purely_before(self, stmt: gast.Assign, read: gast.Name) -> bool:
        """Whether what ``stmt`` evaluates before ``read`` changes nothing:
        its value is pure, or a call (of anything) with pure arguments."""
        value = stmt.value
        if self.pure(value):
            return True
        return (
            isinstance(value, gast.Call)
            and A.dotted_name(value.func) is not None
            and all(self.pure(a) for a in value.args)
            and all(self.pure(k.value) for k in value.keywords)
            and any(n is read for n in A.walk_inner(value))
        )


class _Fuser:
    def __init__(
        self,
        body: Stmts,
        purity: Purity,
        kinds: dict[str, str],
        names: BodyIndex,
        fused: frozenset[str],
        trace: str | None,
    ) -> None:
        self.body = body
        self.names = names
        self.purity = purity
        self.kinds = kinds
        self.fused = fused
        self.trace = trace
        self.stores: dict[str, int] = {}
        # name -> [(statement, Name node)] for every read
        self.loads: dict[str, list[tuple[gast.stmt, gast.Name]]] = {}
        # name -> the statements that store it
        self.storing: dict[str, Stmts] = {}
        self.where: dict[int, tuple[Stmts, int]] = {}
        #: block -> the if, for or while statement it belongs to.
        self.owner: dict[int, gast.stmt] = {}
        #: Every statement indexed, in the order of :func:`A.statements`.
        self.order: Stmts = []
        # Only names of the fused kinds are ever asked about: the others
        # (``np``, ``rt``, numbers...) are not indexed.
        self.wanted = {name for name, kind in kinds.items() if kind in fused}
        self._index(body)

    def _index(self, block: Stmts) -> None:
        loads, stores, storing = self.loads, self.stores, self.storing
        wanted, where, order = self.wanted, self.where, self.order
        own_names, plain = self.names.own_names, self.names.plain
        for k, stmt in enumerate(block):
            where[id(stmt)] = (block, k)
            order.append(stmt)
            cls = stmt.__class__
            if cls in _DECLARATIONS:
                # Assigning such a name is seen outside: never drop one.
                for name in stmt.names:
                    self.stores[name] = self.stores.get(name, 0) + 2
            for node in own_names(stmt):
                name = node.id
                if name not in wanted:
                    continue
                # get() before setdefault(): no empty list made per name.
                if node.ctx.__class__ is _LOAD:
                    found = loads.get(name)
                    if found is None:
                        loads[name] = [(stmt, node)]
                    else:
                        found.append((stmt, node))
                else:
                    stores[name] = stores.get(name, 0) + 1
                    found = storing.get(name)
                    if found is None:
                        storing[name] = [stmt]
                    else:
                        found.append(stmt)
            if cls not in _FOLLOWED:
                if not plain and any(True for _ in A.sub_blocks(stmt)):
                    # A compound statement whose blocks this pass does not
                    # follow: everything in it counts as read and stored.
                    for node in A.name_nodes(stmt):
                        self.stores[node.id] = self.stores.get(node.id, 0) + 2
                continue
            for sub in A.sub_blocks(stmt):
                self.owner[id(sub)] = stmt
                self._index(sub)

    def run(self) -> bool:
        """Fuse what the docstring allows; True if anything moved."""
        # The statements indexed are all there are but in blocks of other
        # kinds than an if's, for's or while's (only where not plain).
        statements = self.order if self.names.plain else list(A.statements(self.body))
        # Only an assignment defines a value to move (_fuse asks it first).
        assign = gast.Assign
        gone: list[gast.stmt] = [
            stmt for stmt in statements if stmt.__class__ is assign and self._fuse(stmt)
        ]
        if gone:
            owners = list(self.owner.values()) if self.names.plain else None
            _remove(self.body, gone, self.where, owners)
        return bool(gone)

    def _fuse(self, define: gast.Assign) -> bool:
        # A.assigned_name, inlined (asked of every assignment).
        targets = define.targets
        t = (
            targets[0].id
            if len(targets) == 1 and targets[0].__class__ is _NAME
            else None
        )
        if t not in self.wanted:  # (None is not)
            return False
        stores = self.stores.get(t, 0)
        reads = self.loads.get(t, [])
        if stores == 1 and len(reads) == 1:
            use, node = reads[0]
        elif 1 < stores <= _MAX_DEFINITIONS and len(reads) == stores:
            found = self._only_read(define, t, reads)
            if found is None:
                return False
            use, node = found
        else:
            return False
        value = define.value
        # Cheap tests first: this runs for every assignment of the function.
        if not (
            A.assigned_name(use) is not None
            and self._in_order(define, use)
            and _operations(use.value) + _operations(value) <= _MAX_OPERATIONS
            and self.purity.pure(value)
            # Helper calls nested in helper calls read badly.
            and (
                use.value is node
                or not self.purity.helper_calls(value)
                or (
                    not self.purity.in_helper(use.value, node)
                    and self.purity.helper_calls(use.value)
                    + self.purity.helper_calls(value)
                    <= _MAX_HELPERS
                )
            )
            and self.purity.evaluated_purely_before(use, node)
        ):
            return False
        read = [n for n in A.name_nodes(value) if n.ctx.__class__ is _LOAD]
        if not (
            self._nothing_between(define, use, {n.id for n in read})
            and _replace(use, node, value)
        ):
            return False
        # Only a name read once can be fused, and moving reads never changes
        # how many there are: the lists of names read more often (``np``,
        # ``rt``: thousands of entries) need no update, which would make the
        # pass quadratic.
        for name in read:
            entries = self.loads.get(name.id)
            if entries is not None and len(entries) <= _MAX_DEFINITIONS:
                self.loads[name.id] = [(use if n is name else s, n) for s, n in entries]
        return True

    def _only_read(
        self, define: gast.stmt, t: str, reads: list[tuple[gast.stmt, gast.Name]]
    ) -> tuple[gast.stmt, gast.Name] | None:
        """The one read of ``define``'s value when ``t`` is assigned several
        times (a value the reverse sweep recomputes): every assignment of
        ``t`` is a plain ``t = e``, and in each block the statements that
        mention ``t`` themselves alternate assignment, read, assignment,
        read..., so that each read sees the assignment just before it and
        nothing else (a loop's next pass assigns before it reads).  A
        statement whose nested blocks mention ``t`` sits outside every such
        pair and mentions ``t`` in nothing but those blocks."""
        marks: dict[int, dict[int, str]] = {}  # block -> position -> mark
        blocks: dict[int, Stmts] = {}
        mine = None
        storing = self.storing.get(t, [])
        if len(storing) != self.stores[t]:
            return None  # declared global, or stored in a block not indexed
        for stmt in storing:
            if A.assigned_name(stmt) != t or t in A.names_loaded(stmt.value):
                return None
            if not self._mark(stmt, "store", marks, blocks):
                return None
        for stmt, node in reads:
            if not self._mark(stmt, "read", marks, blocks):
                return None
        for key, positions in marks.items():
            order = sorted(positions)
            pending = None  # position of an assignment not yet read
            for k in order:
                mark = positions[k]
                if mark == "store" and pending is None:
                    pending = k
                elif mark == "read" and pending is not None:
                    if blocks[key][pending] is define:
                        mine = blocks[key][k]
                    pending = None
                elif mark != "nested" or pending is not None:
                    return None
            if pending is not None:
                return None
        if mine is None:
            return None
        matches = [(s, n) for s, n in reads if s is mine]
        return matches[0] if len(matches) == 1 else None

    def _mark(
        self,
        stmt: gast.stmt,
        mark: str,
        marks: dict[int, dict[int, str]],
        blocks: dict[int, Stmts],
    ) -> bool:
        """Note ``stmt``'s mention in its block, and its enclosing statements'
        in theirs; False where two mentions meet at one statement."""
        where = self.where.get(id(stmt))
        while where is not None:
            block, k = where
            positions = marks.setdefault(id(block), {})
            blocks[id(block)] = block
            if k in positions:
                # Two mentions in one compound statement's blocks are fine
                # (its enclosing statements are marked already).
                return mark == positions[k] == "nested"
            positions[k] = mark
            owner = self.owner.get(id(block))
            if owner is None:
                return True
            where = self.where.get(id(owner))
            mark = "nested"
        return False

    def _in_order(self, define: gast.stmt, use: gast.stmt) -> bool:
        block, i = self.where[id(define)]
        other, j = self.where[id(use)]
        return other is block and j > i

    def _nothing_between(
        self, define: gast.stmt, use: gast.stmt, operands: set[str]
    ) -> bool:
        block, i = self.where[id(define)]
        other, j = self.where[id(use)]
        if other is not block or j <= i:
            return False
        for stmt in block[i + 1 : j]:
            if is_comment(stmt) or self._push(stmt):
                continue
            name = A.assigned_name(stmt)
            if name is None or name in operands or not self.purity.pure(stmt.value):
                return False
        return True

    def _push(self, stmt: gast.stmt) -> bool:
        """``trace.append(x)``: it changes no number or array."""
        return (
            self.trace is not None
            and isinstance(stmt, gast.Expr)
            and A.is_method_call(stmt.value, self.trace, "append", 1)
        )


def _replace(stmt: gast.stmt, old: gast.Name, new: gast.expr) -> bool:
    """Put ``new`` where ``old`` is in ``stmt``; False if it is not there."""
    # A walk inlined over the fields that may hold names only (a Name is
    # never a leaf), as in A.name_nodes.
    todo: list[gast.AST] = [stmt]
    pop, push = todo.pop, todo.append
    fields_of, inner = A.NAME_FIELDS, A.INNER
    while todo:
        node = pop()
        cls = node.__class__
        fields = node.__dict__
        for field in fields_of.get(cls) or A.name_fields(cls):
            value = fields.get(field)
            if value is old:
                setattr(node, field, new)
                return True
            if value.__class__ is list:
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return True
                    if item.__class__ in inner:
                        push(item)
            elif value.__class__ in inner:
                push(value)
    return False


def _remove(
    body: Stmts,
    gone: Stmts,
    where: dict[int, tuple[Stmts, int]],
    owners: Stmts | None,
) -> None:
    """Remove the statements ``gone`` from their blocks; a body left empty
    gets a ``pass``.  ``owners``, if known, are all statements with nested
    blocks, each statement in a block of one of them or of ``body`` being
    in ``where``: then only the blocks that lose statements are rebuilt."""
    if owners is None:
        _remove_everywhere(body, {id(s) for s in gone})
        return
    blocks: dict[int, Stmts] = {}
    for stmt in gone:
        block = where[id(stmt)][0]
        blocks[id(block)] = block
    ids = {id(s) for s in gone}
    for block in blocks.values():
        block[:] = [s for s in block if id(s) not in ids]
    # Bodies left empty (or empty already: generated code hardly has one)
    # get a pass, as a rebuild of every block gave them.
    for stmt in owners:
        if not stmt.body:
            stmt.body.append(gast.Pass())


def _remove_everywhere(block: Stmts, gone: set[int]) -> None:
    block[:] = [s for s in block if id(s) not in gone]
    for stmt in block:
        for sub in A.sub_blocks(stmt):
            _remove_everywhere(sub, gone)
            if not sub and sub is getattr(stmt, "body", None):
                sub.append(gast.Pass())


def fuse_single_uses(
    body: Stmts,
    kinds: dict[str, str],
    rt: str,
    resolve: Callable[[str], Any],
    names: BodyIndex | None = None,
    fused: frozenset[str] = _FUSED,
    trace: str | None = None,
) -> bool:
    """Run the pass on one function's body (``names``: its index, if one is
    at hand) for the names of the ``fused`` kinds, ``trace`` being the list
    the forward sweep pushes onto; True if anything moved."""
    names = names or BodyIndex(body, len(body))
    purity = Purity(kinds, rt, resolve)
    return _Fuser(body, purity, kinds, names, fused, trace).run()
