"""s2s_ad.gastparse.parse makes the tree gast.parse makes."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import gast
import pytest

from s2s_ad import gastparse

_SOURCES = sorted((Path(__file__).parent.parent / "s2s_ad").glob("*.py"))

_SNIPPET = '''
async def f(a: int, /, b=1, *args: "x", c, d=2, **kw) -> None:
    """Doc."""
    global g
    try:
        x = [i async for i in a if i]
    except (ValueError, TypeError) as exc:
        raise
    except Exception:
        pass
    finally:
        del x
    async with a as (b, c):
        await b
    match a:
        case [1, *rest] | {"k": _, **more} if rest:
            pass
        case C(x=1) as y:
            pass
    return lambda q, *, r=3: (q, f"{r!r:>{b}}", ..., b"1", 1j, a[1:2, ::3])


class K(Base, metaclass=M):
    y: int = 0
'''


def _same(a: Any, b: Any) -> bool:
    if a.__class__ is not b.__class__:
        return False
    if isinstance(a, ast.AST):
        return list(a.__dict__) == list(b.__dict__) and all(
            _same(a.__dict__[k], b.__dict__[k]) for k in a.__dict__
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("path", _SOURCES, ids=lambda p: p.name)
def test_package_sources_parse_as_with_gast(path: Path) -> None:
    text = path.read_text()
    assert _same(gast.parse(text), gastparse.parse(text))


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match statements")
def test_every_kind_of_statement_parses_as_with_gast() -> None:
    assert _same(gast.parse(_SNIPPET), gastparse.parse(_SNIPPET))
