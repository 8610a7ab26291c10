"""kinds.infer skips statements whose names did not change since it last
evaluated them: the kinds must be those of evaluating every statement at
every sweep, for every program of the table, general and specialised."""

from __future__ import annotations

import inspect

import pytest

from s2s_ad import astutil as A
from s2s_ad import kinds, source
from s2s_ad.errors import S2SError
from s2s_ad.naming import Namer
from s2s_ad.normalize import normalize
from tests import programs

TABLE = [*programs.PROGRAMS, *programs.ALIASING_PROGRAMS, *programs.BEYOND_PROGRAMS]


@pytest.mark.parametrize("program", TABLE, ids=[p.name for p in TABLE])
def test_skipping_gives_every_sweeps_kinds(program: programs.Program) -> None:
    try:
        src = source.load(program.func)
        nf = normalize(src, Namer(A.all_names(src.node)))
    except S2SError:
        pytest.skip("refused before kinds are inferred")
    params = list(inspect.signature(program.func).parameters)
    args = programs.program_args(program)
    specialised = {p: kinds.of_value(a) for p, a in zip(params, args)}
    for param_kinds in ({}, specialised):
        fast = kinds.infer(src, nf, param_kinds)
        slow = kinds.infer(src, nf, param_kinds, skip_unchanged=False)
        assert fast == slow
