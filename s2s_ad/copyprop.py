"""Copy propagation and dead-store elimination for adjoints.

The reverse sweep moves adjoints through plain copies -- the adjoint of
``energy = u10`` is ``u10_bar = energy_bar``, that of ``u10 = energy + u9``
is ``energy_bar = u10_bar; u9_bar = u10_bar`` -- and resets adjoints to zero
where nothing reads them again (``energy_bar = 0.0`` before the return).
This pass runs on each finished generated function and

* replaces a read of ``a`` by ``b`` after a copy ``a = b``, as long as
  neither has been assigned since, within one straight-line block, for the
  adjoints of numbers only (``scalar`` kind: immutable, so no update in
  place can make ``a`` and ``b`` differ); a copy ``b = b`` that this
  produces is dropped;
* then removes assignments to adjoints whose value no path reads again
  (liveness over the structured blocks, loops iterated to a fixed point),
  when the assigned value is a constant or a name, so that removing it
  cannot remove an effect or an exception.

Guarantees: the only changes are reads of number adjoints renamed to a name
holding the same value, and removed assignments to adjoints that nothing
reads, so every value computed is the one computed before, bit for bit.
Code that does not mention adjoints (the forward sweep) is untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gast

from s2s_ad import astutil as A
from s2s_ad import sweepindex
from s2s_ad.reverse import tidy_comments_before_return

if TYPE_CHECKING:
    from s2s_ad.reverse import ReverseBuilder

Stmts = list[gast.stmt]


def optimize_functions(
    defs: list[gast.FunctionDef], builder: ReverseBuilder, fwd: Stmts
) -> None:
    """Run the pass on each generated function of one reverse transformation.

    ``fwd`` is the forward sweep: its statements never mention adjoints, so
    only what follows its last statement in a function needs looking at."""
    adjoints = set(builder.adjoints.values())
    scalars = {
        bar
        for name, bar in builder.adjoints.items()
        if builder.act.kinds.get(name) == "scalar"
    }
    forward = {id(stmt) for stmt in fwd}
    for fdef in defs:
        body = fdef.body
        start = reverse_start(body, forward)
        rest = body[start:]
        if optimize_adjoints(rest, scalars, adjoints, builder.name_nodes):
            tidy_comments_before_return(rest)
        body[start:] = rest


def reverse_start(body: Stmts, forward: set[int]) -> int:
    """Where ``body`` stops holding forward-sweep statements (ids in
    ``forward``): what follows is the only part that mentions adjoints."""
    return 1 + max((k for k, s in enumerate(body) if id(s) in forward), default=-1)


def optimize_adjoints(
    body: Stmts,
    scalars: set[str],
    adjoints: set[str],
    known: sweepindex.Index | None = None,
) -> bool:
    """Propagate copies among ``scalars``, then drop dead stores to
    ``adjoints`` (``scalars`` ⊆ ``adjoints``), in place; True if any
    statement went.  ``known`` may give the nodes of statements (see
    :mod:`s2s_ad.sweepindex`), as :attr:`ReverseBuilder.name_nodes` does:
    renaming names in place, this pass keeps it right."""
    known = known or {}
    changed = _propagate(body, scalars, known) if scalars else False
    return _drop_dead(body, set(), adjoints, known) or changed


# -- copy propagation ----------------------------------------------------------


def _propagate(block: Stmts, names: set[str], known: sweepindex.Index) -> bool:
    """Propagate copies within ``block`` and, afresh, within each nested block;
    True if a statement went.  ``known`` as for :func:`optimize_adjoints`."""
    copies: dict[str, str] = {}  # a -> b: a holds the value of b right now
    out: Stmts = []
    dropped = False
    for stmt in block:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            # Only the header (a test, an iterable) runs before the blocks;
            # the blocks start afresh, since they may run any number of times.
            header = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            if copies:
                _substitute(A.name_nodes(header), copies)
                _kill(copies, _stored(A.name_nodes(stmt)))
            dropped |= _propagate(stmt.body, names, known)
            dropped |= _propagate(stmt.orelse, names, known)
            if not stmt.body:
                stmt.body = [gast.Pass()]
            out.append(stmt)
            continue
        nodes = None
        if copies:
            nodes = _name_nodes(stmt, known)
            _substitute(nodes, copies)
        target = _copy_target(stmt, names)
        if target is not None:
            source = stmt.value.id
            if source == target:
                dropped = True
                continue  # ``b = b`` after substitution: nothing to do
            _kill(copies, {target})
            copies[target] = source
        elif copies:
            _kill(copies, _stored(nodes if nodes is not None else A.name_nodes(stmt)))
        out.append(stmt)
    block[:] = out
    return dropped


def _copy_target(stmt: gast.stmt, names: set[str]) -> str | None:
    """``a`` if the statement is ``a = b`` with both in ``names``."""
    if (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id in names
        and isinstance(stmt.value, gast.Name)
        and stmt.value.id in names
    ):
        return stmt.targets[0].id
    return None


def _substitute(nodes: list[gast.Name], copies: dict[str, str]) -> None:
    """Rename the loads among ``nodes`` (a tree's names) that ``copies`` maps."""
    if copies:
        for name in nodes:
            if isinstance(name.ctx, gast.Load) and name.id in copies:
                name.id = copies[name.id]


def _kill(copies: dict[str, str], stored: set[str]) -> None:
    for key in [k for k, v in copies.items() if k in stored or v in stored]:
        del copies[key]


# -- dead stores ---------------------------------------------------------------


class _Liveness:
    """Backward liveness of ``names`` over structured blocks."""

    def __init__(self, names: set[str], known: sweepindex.Index) -> None:
        self.names = names
        # Name nodes found by an earlier walk, spared walking again.
        self.known = known
        # Per simple statement: (names it reads, names it assigns), both
        # within ``names``; loops are scanned repeatedly, statements are not
        # changed while scanning, and walking a tree costs more than a lookup.
        self.facts: dict[int, tuple[set[str], set[str]]] = {}
        # The same for assignments and expressions, with the statement and
        # the adjoint it stores if it is a dead store when that adjoint is
        # not live (see dead_store): nearly every statement scanned.
        self.simple: dict[int, tuple[gast.stmt, set[str], set[str], str | None]] = {}

    def scan(self, block: Stmts, live: set[str], remove: bool) -> bool:
        """Walk ``block`` backwards turning ``live`` (the names live after it)
        into those live before it; with ``remove``, drop the dead stores met.
        A dead store counts as gone (its operand is not a use), so a chain of
        copies that ends unread goes in one pass.  True if any was found."""
        found = False
        kept: Stmts = []
        simple = self.simple
        for stmt in reversed(block):
            facts = simple.get(id(stmt))
            if facts is None or facts[0] is not stmt:
                cls = stmt.__class__
                if cls is _ASSIGN or cls is _EXPR:
                    facts = simple[id(stmt)] = self.simple_facts(stmt)
                else:
                    facts = None
            if facts is not None:
                target = facts[3]
                if target is not None and target not in live:  # a dead store
                    found = True
                    if not remove:
                        kept.append(stmt)
                    continue
                live -= facts[2]
                live |= facts[1]
                kept.append(stmt)
                continue
            if self.dead_store(stmt, live):
                found = True
                if not remove:
                    kept.append(stmt)
                continue
            found |= self.stmt(stmt, live, remove)
            kept.append(stmt)
        if remove:
            kept.reverse()
            block[:] = kept
        return found

    def dead_store(self, stmt: gast.stmt, live: set[str]) -> bool:
        """An assignment of a constant or a name to an adjoint nobody reads."""
        return (
            isinstance(stmt, gast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and stmt.targets[0].id in self.names
            and stmt.targets[0].id not in live
            and isinstance(stmt.value, (gast.Name, gast.Constant))
        )

    def stmt(self, stmt: gast.stmt, live: set[str], remove: bool) -> bool:
        names = self.names
        if isinstance(stmt, gast.If):
            other = set(live)
            found = self.scan(stmt.body, live, remove)
            found |= self.scan(stmt.orelse, other, remove)
            if not stmt.body:
                stmt.body = [gast.Pass()]
            live |= other | (_loaded(stmt.test) & names)
            return found
        if isinstance(stmt, (gast.For, gast.While)) and not stmt.orelse:
            header = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            used = _loaded(header) & names
            # Live at the end of the body: what is live after the loop, or at
            # the top of another pass (a while loop evaluates its test first).
            end = set(live) | (used if isinstance(stmt, gast.While) else set())
            while True:
                top = set(end)
                self.scan(stmt.body, top, remove=False)
                if top <= end:
                    break
                end |= top
            found = self.scan(stmt.body, set(end), remove)
            if not stmt.body:
                stmt.body = [gast.Pass()]
            live |= end | used
            return found
        facts = self.facts.get(id(stmt))
        if facts is None:
            facts = self.facts[id(stmt)] = self.opaque(stmt)
        live -= facts[1]
        live |= facts[0]
        return False

    def simple_facts(
        self, stmt: gast.stmt
    ) -> tuple[gast.stmt, set[str], set[str], str | None]:
        """An assignment's or expression's entry in ``self.simple``."""
        loaded, stored = self.opaque(stmt)
        target = None
        if (
            stmt.__class__ is _ASSIGN
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and stmt.targets[0].id in self.names
            and isinstance(stmt.value, (gast.Name, gast.Constant))
        ):
            target = stmt.targets[0].id
        return stmt, loaded, stored, target

    def opaque(self, stmt: gast.stmt) -> tuple[set[str], set[str]]:
        """What a statement other than if/for/while reads and assigns among
        ``names``; nothing is removed inside it."""
        names = self.names
        loaded: set[str] = set()
        stored: set[str] = set()
        cls = stmt.__class__
        fields = stmt.__dict__
        compound = (cls is not _ASSIGN and cls is not _EXPR) and any(
            fields.get(fld).__class__ is list
            for fld in ("body", "orelse", "finalbody", "handlers")
            if fld in fields
        )
        for n in _name_nodes(stmt, self.known):
            if n.id in names:
                # ``del a`` needs ``a`` bound: a use, like a load.  Anything a
                # compound statement (a nested def, a loop with else) mentions
                # counts as read, since its blocks are not followed.
                ctx = n.ctx.__class__
                if compound or ctx is _LOAD or ctx is _DEL:
                    loaded.add(n.id)
                else:
                    stored.add(n.id)
        return loaded, stored


_LOAD, _DEL = gast.Load, gast.Del


def _drop_dead(
    block: Stmts,
    live: set[str],
    names: set[str],
    known: sweepindex.Index,
) -> bool:
    """Remove dead stores to ``names`` from ``block``; True if any went."""
    return _Liveness(names, known).scan(block, live, remove=True)


# -- names -----------------------------------------------------------------------


def _name_nodes(stmt: gast.stmt, known: sweepindex.Index) -> list[gast.Name]:
    """``A.name_nodes(stmt)``, read from ``known`` if it is there (the
    entries hold no nested blocks' names: only statements without them)."""
    cls = stmt.__class__
    entry = sweepindex.entry(known, stmt) if cls is _ASSIGN or cls is _EXPR else None
    return entry[1] if entry is not None else A.name_nodes(stmt)


_ASSIGN, _EXPR = gast.Assign, gast.Expr


def _loaded(node: gast.AST) -> set[str]:
    return {n.id for n in A.name_nodes(node) if isinstance(n.ctx, gast.Load)}


def _stored(nodes: list[gast.Name]) -> set[str]:
    """The names among ``nodes`` (a tree's names) that are not loads."""
    return {n.id for n in nodes if not isinstance(n.ctx, gast.Load)}
