"""From gast trees to readable source text and live function objects.

Guarantees: the text is produced by astor from the tree alone, so the same
tree always gives the same bytes; comment markers become ``#`` comments; the
compiled code is registered in :mod:`linecache` under its own file name, so
tracebacks and ``inspect.getsource`` show the generated lines (which also
makes generated code valid input for another transformation).
"""

from __future__ import annotations

import ast
import linecache
import re
from collections.abc import Iterable
from types import CellType, CodeType, FunctionType
from typing import Any

import astor
import gast

_COMMENT = re.compile(r"^(\s*)__s2s_comment_[hs](\d+)__$", re.MULTILINE)


def _one_line(source: list[str]) -> str:
    """astor's default wraps long lines at odd places; keep one per line."""
    return "".join(source)


def _to_ast(node: gast.AST) -> ast.AST:
    tree = gast.gast_to_ast(node)
    ast.fix_missing_locations(tree)
    return tree


def statement_text(stmt: gast.stmt) -> str:
    """One statement as a single line of source (for comments)."""
    module = gast.Module(body=[stmt], type_ignores=[])
    text = astor.to_source(_to_ast(module), pretty_source=_one_line).strip()
    return " ".join(line.strip() for line in text.splitlines())


def function_text(fdef: gast.FunctionDef, comments: list[str]) -> str:
    module = gast.Module(body=[fdef], type_ignores=[])
    text = astor.to_source(_to_ast(module), pretty_source=_one_line)

    def put(match: re.Match[str]) -> str:
        return f"{match.group(1)}# {comments[int(match.group(2))]}"

    return _COMMENT.sub(put, text)


_SCOPE = "__s2s_scope__"


def compile_text(text: str, filename: str, cellnames: Iterable[str] = ()) -> Any:
    """Compile generated text and make its lines visible to tracebacks.

    The text's functions are compiled nested in a scope whose parameters are
    ``cellnames``, so those names become closure variables of the generated
    functions (fast to read, and the user's own closure cells can be shared)
    while every other free name is an ordinary global of the user's module.
    Line numbers are those of ``text``, which is what linecache holds."""
    names = sorted(set(cellnames))
    tree = ast.parse(text, filename)
    scope = ast.parse(f"def {_SCOPE}({', '.join(names)}):\n    pass").body[0]
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    listing = ", ".join(f"{d!r}: {d}" for d in defined)
    scope.body = [*tree.body, ast.parse(f"return {{{listing}}}").body[0]]
    ast.fix_missing_locations(scope)
    code = compile(ast.Module(body=[scope], type_ignores=[]), filename, "exec")
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    return code


def define(
    code: Any, module_globals: dict[str, Any], cells: dict[str, CellType]
) -> dict[str, FunctionType]:
    """The functions of code made by :func:`compile_text`, with
    ``module_globals`` as globals and their closure variables read from
    ``cells`` (which must hold every name given as ``cellnames``).  Cells for
    the functions' own names are added to ``cells`` and filled, so they can
    call each other; a cell may be filled later (mutual references)."""
    scope_code = next(
        c for c in code.co_consts if isinstance(c, CodeType) and c.co_name == _SCOPE
    )
    params = scope_code.co_varnames[: scope_code.co_argcount]
    # Run once with placeholders only to evaluate each def (its defaults);
    # the functions are then rebuilt on the shared cells.
    made = FunctionType(scope_code, module_globals)(*(None for _ in params))
    out: dict[str, FunctionType] = {}
    for name in made:
        cells.setdefault(name, CellType())
    for name, func in made.items():
        closure = tuple(cells[v] for v in func.__code__.co_freevars)
        rebuilt = FunctionType(
            func.__code__, module_globals, name, func.__defaults__, closure
        )
        rebuilt.__kwdefaults__ = func.__kwdefaults__
        cells[name].cell_contents = rebuilt
        out[name] = rebuilt
    return out
