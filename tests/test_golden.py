"""The generated source of a few programs, byte for byte.

Regenerate after an intended change with ``python tools/update_golden.py``
and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from s2s_ad import gradient_source
from tests.golden_programs import GOLDEN

HERE = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_is_pinned(name):
    func, wrt, args = GOLDEN[name]
    expected = (HERE / f"{name}.py.txt").read_text()
    assert gradient_source(func, wrt=wrt, args=args) == expected


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_is_deterministic(name):
    func, wrt, args = GOLDEN[name]
    from s2s_ad import cache

    first = gradient_source(func, wrt=wrt, args=args)
    cache.clear()
    assert gradient_source(func, wrt=wrt, args=args) == first
