"""Where each name of a finished generated function is stored and read.

The passes run on each generated function (:mod:`s2s_ad.arrayopt`,
:mod:`s2s_ad.shapes`) ask the same questions of its whole body: how often a
name may be assigned, which names are local, which statements read a name,
which ``rt`` helper calls the reverse sweep holds.  A generated function has
thousands of statements, so :class:`BodyIndex` answers them from one walk
instead of a walk per question.

Guarantees: the answers are those of the body as it was when the index was
built; every node is visited once (by a walk that, unlike
:func:`s2s_ad.astutil.walk`, skips leaves and attributes each node to its
statement), or, for a reverse-sweep assignment or expression whose nodes
the sweep index holds (see :mod:`s2s_ad.sweepindex`, exact when the index
is built after copy propagation), its Name nodes are read from there, in
the order the walk finds them, with the same answers
(tests/test_index_reuse.py).  A pass that rewrites statements afterwards
keeps the answers it relies on valid itself (each use says why it may).
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A
from s2s_ad import sweepindex

Stmts = list[gast.stmt]
#: Where a call sits: (its statement, parent node, field, index in the
#: field's list or None).
Slot = tuple[gast.stmt, gast.AST, str, "int | None", gast.Call]

_NAME, _ATTRIBUTE, _CALL = gast.Name, gast.Attribute, gast.Call
_ASSIGN, _EXPR = gast.Assign, gast.Expr
#: The attribute names of the functions whose calls :attr:`BodyIndex.reverse_calls`
#: lists (the only ones asked about).
HELPERS = frozenset({"unbroadcast", "unreduce"})
_LOAD = gast.Load
_NODE, _STMT = 1, 2


def _all_node_classes(base: type) -> list[type]:
    found = [base]
    for sub in base.__subclasses__():
        found += _all_node_classes(sub)
    return found


#: node class -> _NODE or _STMT; leaves (contexts, operators, constants)
#: and field values that are no nodes have none: the walk skips them.
_KINDS: dict[type, int] = {
    cls: _STMT if issubclass(cls, gast.stmt) else _NODE
    for cls in _all_node_classes(gast.AST)
    if cls not in A.LEAVES
}
# Fields that hold no nodes with names (strings, numbers, contexts and
# operators): most fields of the most common nodes.
_NO_NAMES = frozenset({"ctx", "op", "ops", "id", "attr", "type_comment", "kind"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(
            f for f in cls._fields if f not in _NO_NAMES
        )
    return fields


class BodyIndex:
    """One walk over ``body``; ``start`` is where its reverse sweep starts
    (an index into ``body``).  ``known`` may give the nodes of statements
    of the reverse sweep (see :mod:`s2s_ad.sweepindex`), in the order a
    walk finds them: those of plain assignments and expressions are read
    from it instead of walked."""

    def __init__(
        self, body: Stmts, start: int, known: sweepindex.Index | None = None
    ) -> None:
        #: Every statement, nested ones included, in :func:`A.statements` order.
        self.statements: Stmts = []
        #: How often each name may be assigned: its stores, and 2 for names
        #: declared global or nonlocal or whose shape may change without
        #: assigning them (an attribute store, ``a.resize(...)``).
        self.stores: dict[str, int] = {}
        #: Names bound anywhere in the body (stored, or a parameter of a
        #: lambda or nested function).
        self.bound: set[str] = set()
        #: name -> the statements that read it, nearest enclosing statement
        #: first (a statement may repeat).
        self.reading: dict[str, Stmts] = {}
        #: name -> the statements that store it, nearest enclosing statement.
        self.storing: dict[str, Stmts] = {}
        #: The for statements.
        self.loops: list[gast.For] = []
        #: The Name nodes the reverse sweep loads.
        self.reverse_loads: list[gast.Name] = []
        #: The calls of the reverse sweep of a function named as one of
        #: :data:`HELPERS` (``rt.unbroadcast(...)``...) with where they sit,
        #: each parent before what it holds.
        self.reverse_calls: list[Slot] = []
        #: Whether every statement with nested blocks is an if, for or while.
        self.plain = True
        # id(statement) -> (statement, the Name nodes of its own part).
        self._own: dict[int, tuple[gast.stmt, list[gast.Name]]] = {}
        self._pinned: set[str] = set()
        self._known = known or {}
        for k, stmt in enumerate(body):
            self._statement(stmt, k >= start)
        for name in self._pinned:
            self.stores[name] = 2

    def _statement(self, stmt: gast.stmt, reverse: bool) -> None:
        """Index ``stmt`` and the statements nested in it, in order."""
        self.statements.append(stmt)
        cls = stmt.__class__
        if reverse and (cls is _ASSIGN or cls is _EXPR) and self._indexed(stmt):
            return
        if cls is gast.If or cls is gast.While:
            self._part(stmt, "test", reverse)
        elif cls is gast.For:
            self.loops.append(stmt)
            self._part(stmt, "target", reverse)
            self._part(stmt, "iter", reverse)
        else:
            if cls is gast.Global or cls is gast.Nonlocal:
                self._pinned.update(stmt.names)
            elif getattr(stmt, "body", None).__class__ is list:
                self.plain = False  # its blocks are found by the walk
            self._walk(stmt, stmt, reverse)
            return
        for sub in (stmt.body, stmt.orelse):
            for inner in sub:
                self._statement(inner, reverse)

    def _indexed(self, stmt: gast.stmt) -> bool:
        """Index reverse-sweep ``stmt`` (an assignment or expression) from
        its entry in ``known``, if it has one and holds no node the walk
        does more with than with a name: a helper call (its parent is
        needed), a ``resize`` call, a store into an attribute (only in a
        target that is no plain name, which the walk finds)."""
        found = self._known.get(id(stmt))  # sweepindex.entry, inlined
        if found is None or found[0] is not stmt:
            return False
        if stmt.__class__ is _ASSIGN:
            for target in stmt.targets:
                if target.__class__ is not _NAME:
                    return False
        for call in found[2]:
            func = call.func
            if func.__class__ is _ATTRIBUTE and (
                func.attr in HELPERS or func.attr == "resize"
            ):
                return False
        stores, bound = self.stores, self.bound
        reading, storing, loads = self.reading, self.storing, self.reverse_loads
        names = found[1]
        self._own[id(stmt)] = (stmt, list(names))
        for node in names:
            name = node.id
            if node.ctx.__class__ is _LOAD:
                found = reading.get(name)
                if found is None:
                    reading[name] = [stmt]
                else:
                    found.append(stmt)
                loads.append(node)
            else:
                stores[name] = stores.get(name, 0) + 1
                bound.add(name)
                found = storing.get(name)
                if found is None:
                    storing[name] = [stmt]
                else:
                    found.append(stmt)
        return True

    def _part(self, stmt: gast.stmt, field: str, reverse: bool) -> None:
        tree = getattr(stmt, field)
        if reverse and _helper_call(tree):
            self.reverse_calls.append((stmt, stmt, field, None, tree))
        self._walk(tree, stmt, reverse)

    def _walk(self, tree: gast.AST, stmt: gast.stmt, reverse: bool) -> None:
        """Index the nodes of ``tree``, part of ``stmt``; statements inside
        (in blocks of other kinds than an if's, for's or while's) as their
        own."""
        stores, bound, pinned = self.stores, self.bound, self._pinned
        reading, storing = self.reading, self.storing
        loads, calls = self.reverse_loads, self.reverse_calls
        own = self._own.get(id(stmt))
        if own is None:
            own = self._own[id(stmt)] = (stmt, [])
        mine = own[1]
        kinds, fields_of, helpers = _KINDS, _CHILD_FIELDS, HELPERS
        todo = [tree]
        pop, push = todo.pop, todo.append
        while todo:
            node = pop()
            cls = node.__class__
            if cls is _NAME:
                mine.append(node)
                name = node.id
                # get() before setdefault(): no empty list made per name.
                if node.ctx.__class__ is _LOAD:
                    found = reading.get(name)
                    if found is None:
                        reading[name] = [stmt]
                    else:
                        found.append(stmt)
                    if reverse:
                        loads.append(node)
                else:
                    stores[name] = stores.get(name, 0) + 1
                    bound.add(name)
                    found = storing.get(name)
                    if found is None:
                        storing[name] = [stmt]
                    else:
                        found.append(stmt)
                if node.annotation is not None:  # a parameter's
                    push(node.annotation)
                continue
            if cls is _ATTRIBUTE:
                if node.ctx.__class__ is not _LOAD and node.value.__class__ is _NAME:
                    pinned.add(node.value.id)
            elif cls is _CALL:
                func = node.func
                if (
                    func.__class__ is _ATTRIBUTE
                    and func.attr == "resize"
                    and func.value.__class__ is _NAME
                ):
                    pinned.add(func.value.id)
            fields = node.__dict__
            for field in fields_of.get(cls) or _child_fields(cls):
                value = fields.get(field)
                if value.__class__ is list:
                    for i, item in enumerate(value):
                        kind = kinds.get(item.__class__)
                        if kind is _NODE:
                            if (
                                reverse
                                and item.__class__ is _CALL
                                and item.func.__class__ is _ATTRIBUTE
                                and item.func.attr in helpers
                            ):
                                calls.append((stmt, node, field, i, item))
                            push(item)
                        elif kind is _STMT:
                            self._statement(item, reverse)
                else:
                    kind = kinds.get(value.__class__)
                    if kind is _NODE:
                        if (
                            reverse
                            and value.__class__ is _CALL
                            and value.func.__class__ is _ATTRIBUTE
                            and value.func.attr in helpers
                        ):
                            calls.append((stmt, node, field, None, value))
                        push(value)

    def reading_statements(self, name: str) -> Stmts:
        """The statements that read ``name``, each once, in order of first
        read."""
        return list(dict.fromkeys(self.reading.get(name, ())))

    def own_names(self, stmt: gast.stmt) -> list[gast.Name]:
        """The Name nodes of ``stmt`` itself, not of the blocks nested in it
        (but for blocks of other kinds than if, for and while: a function
        defined inside is all its statement's).  Valid for a statement
        rewritten since the index was built once :meth:`rewritten` was told."""
        if not self.plain:
            return _own_names(stmt)
        found = self._own.get(id(stmt))
        if found is None:
            # A statement without names, or one made or rewritten since.
            found = self._own[id(stmt)] = (stmt, _own_names(stmt))
        return found[1]

    def replaced(self, stmt: gast.stmt, old: gast.Name, new: gast.Name | None) -> None:
        """Tell that the Name node ``new`` took the place of ``old`` in
        ``stmt`` (None: ``old`` went): the names of ``stmt`` itself stay
        known without a walk, in the order a walk finds them.  Only for a
        rewrite that replaces a subtree by another or by one of its own
        subtrees, with each Name node of ``stmt`` it removes told."""
        found = self._own.get(id(stmt))
        if found is None or not self.plain:
            return
        names = found[1]
        for k, node in enumerate(names):
            if node is old:
                if new is None:
                    del names[k]
                else:
                    names[k] = new
                return

    def rewritten(self, stmt: gast.stmt) -> None:
        """Forget what the index knows of the names of ``stmt`` itself (its
        other answers stay those of the body as it was)."""
        self._own.pop(id(stmt), None)


def _helper_call(node: gast.AST) -> bool:
    """A call of a function named ``<...>.h`` for ``h`` in :data:`HELPERS`."""
    return (
        node.__class__ is _CALL
        and node.func.__class__ is _ATTRIBUTE
        and node.func.attr in HELPERS
    )


def _own_names(stmt: gast.stmt) -> list[gast.Name]:
    return [n for part in A.own_parts(stmt) for n in A.name_nodes(part)]
