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
statement).  A pass that rewrites statements afterwards keeps the answers it
relies on valid itself (each use says why it may).
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A

Stmts = list[gast.stmt]
#: Where a call sits: (parent node, field, index in the field's list or None).
Slot = tuple[gast.AST, str, "int | None", gast.Call]

_NAME, _ATTRIBUTE, _CALL = gast.Name, gast.Attribute, gast.Call
_LOAD = gast.Load
_BLOCKS = (gast.If, gast.For, gast.While)


class BodyIndex:
    """One walk over ``body``; ``start`` is where its reverse sweep starts
    (an index into ``body``)."""

    def __init__(self, body: Stmts, start: int) -> None:
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
        #: The calls of the reverse sweep with where they sit, each parent
        #: before what it holds.
        self.reverse_calls: list[Slot] = []
        #: Whether every statement with nested blocks is an if, for or while.
        self.plain = True
        pinned: set[str] = set()
        self._walk(body, start, pinned)
        for name in pinned:
            self.stores[name] = 2

    def _walk(self, body: Stmts, start: int, pinned: set[str]) -> None:
        stores, bound = self.stores, self.bound
        reading, storing = self.reading, self.storing
        loads, calls = self.reverse_loads, self.reverse_calls
        leaves = A.LEAVES
        for k, top in enumerate(body):
            reverse = k >= start
            # (node, its statement): nested statements are walked as nodes
            # too, so that each name is seen once, like a walk of the tree.
            todo: list[tuple[gast.AST, gast.stmt]] = [(top, top)]
            pop, push = todo.pop, todo.append
            while todo:
                node, stmt = pop()
                cls = node.__class__
                if cls is _NAME:
                    name = node.id
                    if node.ctx.__class__ is _LOAD:
                        reading.setdefault(name, []).append(stmt)
                        if reverse:
                            loads.append(node)
                    else:
                        stores[name] = stores.get(name, 0) + 1
                        bound.add(name)
                        storing.setdefault(name, []).append(stmt)
                    if node.annotation is not None:  # a parameter's
                        push((node.annotation, stmt))
                    continue
                if isinstance(node, gast.stmt):
                    stmt = node
                    self.statements.append(node)
                    if cls is gast.For:
                        self.loops.append(node)
                    if isinstance(node, (gast.Global, gast.Nonlocal)):
                        pinned.update(node.names)
                    elif not isinstance(node, _BLOCKS) and (
                        getattr(node, "body", None).__class__ is list
                    ):
                        self.plain = False
                elif cls is _ATTRIBUTE:
                    if (
                        node.ctx.__class__ is not _LOAD
                        and node.value.__class__ is _NAME
                    ):
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
                # Children pushed in reverse, so that statements come out in
                # order (A.statements') and a parent before its children.
                for field in reversed(node._fields):
                    value = fields.get(field)
                    if value.__class__ is list:
                        for i in range(len(value) - 1, -1, -1):
                            item = value[i]
                            if (
                                isinstance(item, gast.AST)
                                and item.__class__ not in leaves
                            ):
                                if reverse and item.__class__ is _CALL:
                                    calls.append((node, field, i, item))
                                push((item, stmt))
                    elif isinstance(value, gast.AST) and value.__class__ not in leaves:
                        if reverse and value.__class__ is _CALL:
                            calls.append((node, field, None, value))
                        push((value, stmt))

    def reading_statements(self, name: str) -> Stmts:
        """The statements that read ``name``, each once, in order of first
        read."""
        return list(dict.fromkeys(self.reading.get(name, ())))
