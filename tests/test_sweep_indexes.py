"""Indexes that passes over the reverse sweep hand on to later passes agree
with a fresh walk: ``ReverseBuilder.name_nodes`` (see s2s_ad.sweepindex:
started by rematerialize, completed by first_contributions, read by
copyprop) holds, for each statement it names, exactly the Name and Call
nodes the statement holds when first_contributions and copyprop run."""

from __future__ import annotations

import inspect
from typing import Any

import gast
import pytest

from s2s_ad import astutil as A
from s2s_ad import program, sweepindex
from s2s_ad.kinds import of_value
from s2s_ad.source import load
from tests.programs import PROGRAMS, program_args


def _wrt_names(func: Any, wrt: Any) -> tuple[str, ...]:
    params = list(inspect.signature(func).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return tuple(params[w] if isinstance(w, int) else w for w in items)


def _check(index: sweepindex.Index) -> int:
    """Assert every entry of ``index`` agrees with a fresh walk; the count."""
    for stmt, names, calls in index.values():
        fresh_names, fresh_calls, _ = sweepindex.statement_nodes(stmt)
        assert sorted(map(id, names)) == sorted(map(id, fresh_names))
        assert sorted(map(id, calls)) == sorted(map(id, fresh_calls))
        if isinstance(stmt, (gast.Assign, gast.Expr)):
            assert sorted(map(id, names)) == sorted(map(id, A.name_nodes(stmt)))
    return len(index)


@pytest.mark.parametrize("specialise", [False, True])
def test_name_nodes_agree_with_a_fresh_walk(
    monkeypatch: pytest.MonkeyPatch, specialise: bool
) -> None:
    checked = []
    first = program.first_contributions
    optimize = program.optimize_functions

    def first_checking(rev: Any, builder: Any) -> set[str]:
        checked.append(_check(builder.name_nodes))
        # The scan reading the index finds what it finds without one.
        scalars = set(builder.adjoints.values())
        shared = program._Scan(rev, scalars, builder.name_nodes)
        alone = program._Scan(rev, scalars, {})
        assert shared.every == alone.every and shared.where == alone.where
        assert sorted(map(id, shared.calls)) == sorted(map(id, alone.calls))
        return first(rev, builder)

    def checking(defs: Any, builder: Any, fwd: Any) -> None:
        checked.append(_check(builder.name_nodes))
        optimize(defs, builder, fwd)

    monkeypatch.setattr(program, "first_contributions", first_checking)
    monkeypatch.setattr(program, "optimize_functions", checking)
    for entry in PROGRAMS:
        args = program_args(entry)
        params = list(inspect.signature(entry.func).parameters)
        kinds = {p: of_value(a) for p, a in zip(params, args)} if specialise else None
        wrt = _wrt_names(entry.func, entry.wrt)
        program.Program(entry.func, wrt, load(entry.func), "reverse", kinds)
    assert sum(checked) > 0
