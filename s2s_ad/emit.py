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


def compile_text(text: str, filename: str) -> Any:
    """Compile generated text and make its lines visible to tracebacks."""
    code = compile(text, filename, "exec")
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    return code


def run_code(code: Any, namespace: dict[str, Any]) -> None:
    # Running generated code is this module's purpose.
    exec(code, namespace)  # noqa: S102
