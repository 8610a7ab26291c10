"""Indexes built from the reverse sweep's indexed nodes agree with walks.

:class:`s2s_ad.bodyindex.BodyIndex` reads the names of reverse-sweep
statements from ``ReverseBuilder.name_nodes`` (see :mod:`s2s_ad.sweepindex`)
instead of walking them, and :func:`s2s_ad.keepshape.keep_shapes_only`
skips statements whose entries name no candidate (updating the entries of
the statements it rewrites).  Both must find what a walk finds, in the same
order, on every program of the table and on the benchmark's long functions.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np
import pytest

from s2s_ad import arrayopt, keepshape, program, sweepindex
from s2s_ad import astutil as A
from s2s_ad.bodyindex import BodyIndex, _own_names
from s2s_ad.kinds import of_value
from s2s_ad.source import load
from tests.programs import PROGRAMS, program_kinds, program_wrt_names


def _ids(items: Any) -> list[int]:
    return [id(item) for item in items]


def _summary(index: BodyIndex) -> dict[str, Any]:
    return {
        "statements": _ids(index.statements),
        "stores": dict(index.stores),
        "bound": set(index.bound),
        "reading": {k: _ids(v) for k, v in index.reading.items()},
        "storing": {k: _ids(v) for k, v in index.storing.items()},
        "loops": _ids(index.loops),
        "reverse_loads": _ids(index.reverse_loads),
        "reverse_calls": [
            (id(s), id(p), f, k, id(c)) for s, p, f, k, c in index.reverse_calls
        ],
        "plain": index.plain,
        "own": {k: (id(s), _ids(names)) for k, (s, names) in index._own.items()},
    }


def _functions() -> list[tuple[Any, tuple[str, ...], dict[str, str] | None]]:
    found = []
    for entry in PROGRAMS:
        names = program_wrt_names(entry)
        for kinds in (None, program_kinds(entry)):
            found.append((entry.func, names, kinds))
    return found


def _synthesized(tmp_path: Any) -> list[tuple[Any, tuple[str, ...], Any]]:
    from benchmarks import transform

    text = "import numpy as np\n\n\n" + transform.straight_line(60) + "\n\n"
    text += transform.with_loops(60)
    path = tmp_path / "_s2s_ad_index_reuse.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    x = np.full(3, 0.3)
    kinds = {"x": of_value(x), "y": of_value(x), "n": of_value(2)}
    return [
        (module.straight, ("x", "y"), None),
        (module.straight, ("x", "y"), {"x": kinds["x"], "y": kinds["y"]}),
        (module.loops, ("x", "y"), None),
        (module.loops, ("x", "y"), kinds),
    ]


def test_reuse_finds_what_walks_find(monkeypatch: pytest.MonkeyPatch, tmp_path):
    checked = []
    original_index = arrayopt.BodyIndex
    original_keep = arrayopt.keep_shapes_only

    def keeping(body, start, kinds, rt, trace, fresh, known=None):
        done = original_keep(body, start, kinds, rt, trace, fresh, known)
        for stmt in A.statements(body[start:]):
            found = sweepindex.entry(known or {}, stmt)
            if found is not None:
                names, calls, _ = sweepindex.statement_nodes(stmt)
                assert _ids(found[1]) == _ids(names)
                assert _ids(found[2]) == _ids(calls)
        return done

    def indexing(body, start, known=None):
        index = original_index(body, start, known)
        if known is not None:
            walked = original_index(body, start)
            assert _summary(index) == _summary(walked)
            checked.append(len(index.statements))
        return index

    monkeypatch.setattr(arrayopt, "keep_shapes_only", keeping)
    monkeypatch.setattr(arrayopt, "BodyIndex", indexing)
    for func, wrt, kinds in _functions() + _synthesized(tmp_path):
        program.Program(func, wrt, load(func), "reverse", kinds)
    assert sum(checked) > 1000


def test_the_census_with_entries_is_the_census_without(monkeypatch, tmp_path):
    found = []
    original = keepshape._Census

    class Comparing(original):
        def __init__(self, body, start, kinds, rt, trace, known):
            super().__init__(body, start, kinds, rt, trace, known)
            alone = original(body, start, kinds, rt, trace, {})
            assert self.candidates() == alone.candidates()
            assert _ids(self.pops) == _ids(alone.pops)
            assert [(id(s), id(c)) for s, c in self.calls] == [
                (id(s), id(c)) for s, c in alone.calls
            ]
            found.append(len(self.candidates()))

    monkeypatch.setattr(keepshape, "_Census", Comparing)
    for func, wrt, kinds in _functions() + _synthesized(tmp_path):
        program.Program(func, wrt, load(func), "reverse", kinds)
    assert sum(found) > 0


def test_names_known_when_folding_are_those_of_a_walk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """fold_number_factors skips statements by the names the index knows
    (unless merges moved some): as sets, they are those of a walk."""
    checked = []
    original = arrayopt.fold_number_factors

    def checking(reverse, numbers, kinds, adjoints, index=None):
        if index is not None:
            for stmt in A.statements(reverse):
                known = {id(n) for n in index.own_names(stmt)}
                assert known == {id(n) for n in _own_names(stmt)}
                checked.append(stmt)
        return original(reverse, numbers, kinds, adjoints, index)

    monkeypatch.setattr(arrayopt, "fold_number_factors", checking)
    for func, wrt, kinds in _functions() + _synthesized(tmp_path):
        program.Program(func, wrt, load(func), "reverse", kinds)
    assert len(checked) > 1000
