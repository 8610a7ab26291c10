"""source.load's shortcut for a def's extent agrees with inspect's tokenizer.

``source._parse_def`` finds where a def ends from its indentation and its
parse; ``inspect.getsourcelines`` tokenizes it.  Both must give the same
lines (they make the source digest) and the same tree, or the shortcut must
decline (None), leaving the case to inspect.
"""

from __future__ import annotations

import importlib.util
import inspect
import textwrap
import types

import gast
import pytest

from s2s_ad import source

# Defs with the layouts where a block's end is easy to get wrong: comments
# after the body (indented like it or not), decorators, multi-line headers,
# strings and brackets reaching column 0, one-line defs, nesting, tabs.
MODULE = '''\
import functools


def plain(x):
    return x * 2.0


def trailing_comments(x):
    y = x + 1.0
    return y
    # indented like the body: part of the block

# at column 0: not part of it
z = 1


def shallow_comment(x):
    return x
  # less indented than the body: not part of it


@functools.lru_cache(
    maxsize=None,
)
def decorated(x):
    return x


def black_header(
    a,
    b,
):
    return a + b


def column_zero_docstring(x):
    """Doc.
text at column 0
    """
    return x


def column_zero_bracket(x):
    y = (x +
x)
    return y


def continued(x):
    y = x + \\
        1.0
    return y


def one_line(x): return x
w = 2


def body_on_header(
    x): return x


async def coroutine(x):
    return x


class Box:
    def method(self, x):
        return x
        # still the method's

    @staticmethod
    def static(x):
        if x:
            return 1.0
        return 2.0
    # the class's


def outer(x):
    def inner(y):
        return y * x
    # outer's comment
    return inner


def tabbed(x):
\treturn x


def at_the_end(x):
    return x'''


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    path = tmp_path_factory.mktemp("blocks") / "blocks_module.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location("blocks_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _functions(mod: types.ModuleType) -> list[types.FunctionType]:
    found = []
    for value in vars(mod).values():
        if isinstance(value, type):
            found += [
                v.__func__ if isinstance(v, staticmethod) else v
                for v in vars(value).values()
            ]
        else:
            found.append(value)
    outer = vars(mod)["outer"]
    found.append(outer(1.0))
    found.append(vars(mod)["decorated"].__wrapped__)
    return [f for f in found if isinstance(f, types.FunctionType)]


def _agrees(func: types.FunctionType) -> bool | None:
    """Whether the shortcut agrees with inspect (None: it declined)."""
    lines, first = inspect.getsourcelines(func)
    file_lines, start = inspect.findsource(inspect.unwrap(func))
    found = source._parse_def(file_lines, start, func)
    if found is None:
        return None
    node, got_first, text, block = found
    expected = textwrap.dedent("".join(lines))
    tree = source._parse(max(first, 1), expected)
    return (
        block == lines
        and got_first == max(first, 1)
        and text == expected
        and gast.dump(tree.body[0], include_attributes=True)
        == gast.dump(node, include_attributes=True)
    )


def test_the_layouts_agree_or_decline(module: types.ModuleType) -> None:
    results = {f.__qualname__: _agrees(f) for f in _functions(module)}
    assert False not in results.values(), results
    # The common layouts take the shortcut.
    for name in ("plain", "trailing_comments", "decorated", "black_header"):
        assert results[name] is True, (name, results)
    assert results["Box.method"] is True and results["Box.static"] is True
    assert results["outer.<locals>.inner"] is True


def test_load_gives_inspects_text(module: types.ModuleType) -> None:
    for func in _functions(module):
        if func.__name__ in ("one_line", "body_on_header", "inner"):
            continue  # loaded as inspect isolates them, or refused alike
        lines, _ = inspect.getsourcelines(func)
        assert source.load(func).text == textwrap.dedent("".join(lines))


def test_the_library_agrees() -> None:
    """Every def of a few real modules (this package, textwrap, json)."""
    import json.decoder

    import s2s_ad.normalize

    taken = 0
    for mod in (s2s_ad.normalize, source, textwrap, json.decoder, inspect):
        for value in vars(mod).values():
            if (
                isinstance(value, types.FunctionType)
                and value.__module__ == mod.__name__
            ):
                result = _agrees(value)
                assert result is not False, value
                taken += bool(result)
    assert taken > 50
