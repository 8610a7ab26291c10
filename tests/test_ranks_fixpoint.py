"""Ranks skips evaluations that cannot change, and finds what it found.

:meth:`s2s_ad.ranks.Ranks._fixpoint` evaluates a name again only when a
name its last evaluation read has changed since.  Here every question the
exact-array pass asks is asked of such a ``Ranks`` and of one evaluating
every name in every round (the plain greatest fixpoint), side by side: the
answers, and every name solved, agree.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, ClassVar

import numpy as np
import pytest

from s2s_ad import exactarrays, program
from s2s_ad.kinds import of_exact_value as of_value
from s2s_ad.ranks import _UNSET, Ranks, _known, join
from s2s_ad.source import load
from tests.programs import PROGRAMS, program_kinds, program_wrt_names


class _EveryRound(Ranks):
    """The fixpoint evaluating every name in every round."""

    def _fixpoint(self, names: list[str], cyclic: bool) -> None:
        state = self._state
        for name in names:
            state[name] = _UNSET
        for _ in range(64 if cyclic else 1):
            changed = False
            for name in names:
                if state[name] is None:
                    continue
                new: Any = _UNSET
                for expr in self.values[name]:
                    new = join(new, None if expr is None else self.of(expr))
                    if new is None:
                        break
                if new != state[name]:
                    state[name] = new
                    changed = True
            if not changed or not cyclic:
                break
        else:
            for name in names:
                state[name] = None
        for name in names:
            found = state.pop(name)
            self._solved[name] = found if _known(found) else None


class _Twins:
    """Both, asked the same questions in the same order."""

    asked: ClassVar[list[int]] = []

    def __init__(self, *args: Any) -> None:
        self.ranks = Ranks(*args)
        self.plain = _EveryRound(*args)

    def __getattr__(self, attr: str) -> Any:
        found = getattr(self.ranks, attr)
        if not callable(found):
            return found

        def both(*args: Any) -> Any:
            answer = found(*args)
            assert answer == getattr(self.plain, attr)(*args)
            assert self.ranks._solved == self.plain._solved
            _Twins.asked.append(1)
            return answer

        return both


def _loops_module(tmp_path: Any) -> Any:
    from benchmarks import transform

    path = tmp_path / "_s2s_ad_ranks_loops.py"
    text = "import numpy as np\n\n\n" + transform.with_loops(150)
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def test_skipping_evaluations_changes_no_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(exactarrays, "Ranks", _Twins)
    _Twins.asked = []
    cases = []
    for entry in PROGRAMS:
        kinds = program_kinds(entry, of_value)  # exact kinds: float64[1d], ...
        cases.append((entry.func, program_wrt_names(entry), kinds))
    x = np.full(3, 0.3)
    loops = _loops_module(tmp_path).loops
    cases.append(
        (loops, ("x", "y"), {"x": of_value(x), "y": of_value(x), "n": of_value(2)})
    )
    for func, names, kinds in cases:
        program.Program(func, names, load(func), "reverse", kinds)
    assert len(_Twins.asked) > 100
