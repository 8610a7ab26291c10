"""Indexes that passes over the reverse sweep hand on to later passes agree
with a fresh walk: ``ReverseBuilder.name_nodes`` (found by
``program.first_contributions``, used by copyprop's liveness) holds, for each
statement it names, exactly the Name nodes the statement holds when copyprop
runs."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from s2s_ad import astutil as A
from s2s_ad import program
from s2s_ad.kinds import of_value
from s2s_ad.source import load
from tests.programs import PROGRAMS, program_args


def _wrt_names(func: Any, wrt: Any) -> tuple[str, ...]:
    params = list(inspect.signature(func).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return tuple(params[w] if isinstance(w, int) else w for w in items)


@pytest.mark.parametrize("specialise", [False, True])
def test_name_nodes_agree_with_a_fresh_walk(
    monkeypatch: pytest.MonkeyPatch, specialise: bool
) -> None:
    checked = []
    optimize = program.optimize_functions

    def checking(defs: Any, builder: Any, fwd: Any) -> None:
        for stmt, nodes in builder.name_nodes.values():
            fresh = A.name_nodes(stmt)
            assert sorted(map(id, nodes)) == sorted(map(id, fresh))
            checked.append(stmt)
        optimize(defs, builder, fwd)

    monkeypatch.setattr(program, "optimize_functions", checking)
    for entry in PROGRAMS:
        args = program_args(entry)
        params = list(inspect.signature(entry.func).parameters)
        kinds = {p: of_value(a) for p, a in zip(params, args)} if specialise else None
        wrt = _wrt_names(entry.func, entry.wrt)
        program.Program(entry.func, wrt, load(entry.func), "reverse", kinds)
    assert checked
