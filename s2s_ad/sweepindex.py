"""The Name and Call nodes of reverse-sweep statements, found once.

Several passes over the reverse sweep (rematerialization, first
contributions, copy propagation) each needed the names of every statement,
and each walked every tree for them.  The first walk now records what it
finds in an :data:`Index`, and later passes read it.

Guarantees: an entry ``index[id(stmt)] == (stmt, names, calls)`` holds the
Name and Call nodes of ``stmt`` outside its nested blocks (``body`` and
``orelse`` lists, of any node), as :func:`statement_nodes` finds them and
in that order (:class:`s2s_ad.bodyindex.BodyIndex` relies on it) --
provided every pass that removes or adds a node inside a statement's
expressions updates or drops its entry (renaming a Name in place keeps it
right; so does putting a new Name where one was, in its place in the list,
as :mod:`s2s_ad.keepshape` does).  Passes after copy propagation that do not
keep the entries right never read them again.  :func:`entry` checks the statement itself, not just its id, so a
new statement reusing a dropped one's id is never mistaken for it.
"""

from __future__ import annotations

import gast

from s2s_ad import astutil as A

Entry = tuple[gast.stmt, list[gast.Name], list[gast.Call]]
Index = dict[int, Entry]

_Name, _Call = gast.Name, gast.Call


def statement_nodes(
    stmt: gast.stmt,
) -> tuple[list[gast.Name], list[gast.Call], list[list[gast.stmt]]]:
    """The Name nodes and Call nodes of ``stmt`` outside its nested blocks,
    and those blocks (its ``body`` and ``orelse`` lists, of any node)."""
    names: list[gast.Name] = []
    calls: list[gast.Call] = []
    nested: list[list[gast.stmt]] = []
    todo: list[gast.AST] = [stmt]
    pop, append = todo.pop, todo.append
    keep_name, keep_call = names.append, calls.append
    inner, fields_of = A.INNER, A.NAME_FIELDS
    # A plain stack walk over __dict__ (gast.walk and getattr are slower, and
    # this sees every node of a sweep); leaves hold no names, and neither do
    # the fields that hold only leaves.
    while todo:
        node = pop()
        cls = node.__class__
        if cls is _Name:
            keep_name(node)
            if node.__dict__.get("annotation") is None:
                continue  # its other fields hold no names (a third of all)
        elif cls is _Call:
            keep_call(node)
        fields = node.__dict__
        for fld in fields_of.get(cls) or A.name_fields(cls):
            value = fields.get(fld)
            if value.__class__ is list:
                if fld == "body" or fld == "orelse":
                    nested.append(value)
                    continue
                for v in value:
                    if v.__class__ in inner:
                        append(v)
            elif value.__class__ in inner:
                append(value)
    return names, calls, nested


def entry(index: Index, stmt: gast.stmt) -> Entry | None:
    """``stmt``'s entry in ``index``, if it has one."""
    found = index.get(id(stmt))
    return found if found is not None and found[0] is stmt else None


def blocks_of(stmt: gast.stmt) -> list[list[gast.stmt]]:
    """The blocks nested in a statement: its ``body`` and ``orelse`` lists
    (what :func:`statement_nodes` finds for a statement, whose expressions
    hold no blocks)."""
    fields = stmt.__dict__
    if "body" not in fields and "orelse" not in fields:
        return []
    return [
        sub for fld in ("body", "orelse") if (sub := fields.get(fld)).__class__ is list
    ]
