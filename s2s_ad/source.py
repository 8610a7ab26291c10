"""From a function object to its parsed source and its name environment.

Guarantees: :func:`load` returns the function's ``gast.FunctionDef`` with
decorators removed and line numbers that are the real line numbers in the
user's file, together with the names the function can see (globals, closure
cells, builtins) looked up *at run time*, so a generated derivative sees the
same module state as the original function does.
"""

from __future__ import annotations

import builtins
import gc
import hashlib
import inspect
import linecache
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import gast

from s2s_ad import gastparse
from s2s_ad.errors import SourceUnavailableError, TransformError

_MISSING = object()


class Namespace(dict):
    """Globals for generated code: injected names first, then the user's.

    Generated functions are compiled with an instance as their globals.  Names
    we inject (the runtime, derivative functions) live in the dict itself; any
    other name falls through to the user function's closure cells and module
    globals, looked up at each access so later changes to module state are
    seen, exactly as by the original function.
    """

    def __init__(self, user_globals: dict[str, Any], cells: dict[str, Any]) -> None:
        super().__init__()
        self.user_globals = user_globals
        self.cells = cells
        self["__builtins__"] = builtins

    def __missing__(self, key: str) -> Any:
        cell = self.cells.get(key)
        if cell is not None:
            try:
                return cell.cell_contents
            except ValueError:
                pass
        return self.user_globals[key]

    def lookup(self, name: str) -> Any:
        """Value of a free name as the user function sees it, or _MISSING."""
        if name in self.cells:
            try:
                return self.cells[name].cell_contents
            except ValueError:
                return _MISSING
        scope = self.user_globals
        if name in scope:
            return scope[name]
        if isinstance(scope, Namespace):
            # Generated code differentiated again: its globals chain on.
            return scope.lookup(name)
        return getattr(builtins, name, _MISSING)


@dataclass
class FunctionSource:
    """A user function ready for transformation."""

    func: Callable[..., Any] | None
    name: str
    node: gast.FunctionDef
    filename: str
    lines: list[str]
    namespace: Namespace
    text: str
    digest: str = field(default="")

    def line(self, lineno: int | None) -> str:
        if lineno is None or not (1 <= lineno <= len(self.lines)):
            return ""
        return self.lines[lineno - 1].rstrip("\n")

    def error(
        self, cls: type, message: str, node: gast.AST | None = None
    ) -> TransformError:
        lineno = getattr(node, "lineno", None) if node is not None else None
        if lineno is None:
            lineno = self.node.lineno
        return cls(message, self.filename, lineno, self.line(lineno), self.name)


def _cells(func: Callable[..., Any]) -> dict[str, Any]:
    code = func.__code__
    closure = func.__closure__ or ()
    return dict(zip(code.co_freevars, closure))


def unwrap(func: Any) -> Callable[..., Any]:
    """The plain Python function behind decorators we know about.

    s2s_ad's own derivative objects (``grad(f)``...) stand for generated
    code: they provide a real function with source via ``__s2s_function__``,
    which makes generated code valid input (higher-order derivatives).
    """
    if hasattr(func, "__s2s_function__"):
        return func.__s2s_function__()
    seen = set()
    while hasattr(func, "__wrapped__") and id(func) not in seen:
        seen.add(id(func))
        func = func.__wrapped__
    return func


def load(func: Callable[..., Any]) -> FunctionSource:
    """Parse ``func``'s source; raise SourceUnavailableError if impossible."""
    func = unwrap(func)
    name = getattr(func, "__name__", repr(func))
    if not inspect.isfunction(func):
        raise SourceUnavailableError(
            f"cannot differentiate {name!r}: it is not a Python function defined "
            "in a source file (builtins and C extensions have no source; register "
            "a derivative rule for them instead)"
        )
    filename = func.__code__.co_filename
    try:
        file_lines, start = inspect.findsource(inspect.unwrap(func))
    except (OSError, TypeError) as exc:
        raise _no_source(name, exc) from None
    found = _parse_def(file_lines, start, func)
    if found is None:
        # What inspect.getsourcelines does, tokenizing the def to find its
        # end; the same errors, from the same source text.
        try:
            lines, first = inspect.getsourcelines(func)
        except (OSError, TypeError) as exc:
            raise _no_source(name, exc) from None
        first = max(first, 1)
        text = textwrap.dedent("".join(lines))
        tree = _parse(first, text)
        found = (_find_def(tree, func) if tree is not None else None, first, text)
        found = found + (lines,)
    node, first, text, lines = found
    if node is None:
        raise SourceUnavailableError(
            f"cannot differentiate {name!r}: its source at {filename}:{first} could "
            "not be isolated (a lambda sharing a line with other code?). Define it "
            "with def."
        )
    node.decorator_list = []
    all_lines = linecache.getlines(filename) or lines
    namespace = Namespace(func.__globals__, _cells(func))
    digest = hashlib.sha256(text.encode()).hexdigest()
    return FunctionSource(
        func, name, node, filename, all_lines, namespace, text, digest
    )


def _no_source(name: str, exc: Exception) -> SourceUnavailableError:
    return SourceUnavailableError(
        f"cannot differentiate {name!r}: its source code is not available "
        f"({exc}); functions built with exec/eval or typed at an interactive "
        "prompt have no source file. Define it in a module file."
    )


def _parse(first: int, text: str) -> gast.Module | None:
    """The tree of ``text``, the lines of a file from line ``first`` on
    (dedented), with the line numbers of the file; None on a syntax error."""
    # Parsing allocates a node per token, none in a cycle: the cyclic garbage
    # collector would only rescan them, over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Blank lines in front give every node its line in the user's file
        # at once; moving the lines afterwards walked the whole tree again.
        return gastparse.parse("\n" * (first - 1) + text)
    except SyntaxError:
        return None
    finally:
        if collecting:
            gc.enable()


# A def's first line (its decorators' when it has any), as inspect.findsource
# finds it: the only starts the fast path below handles (not lambdas).
_DEF_START = re.compile(r"\s*(async\s+)?def\s|\s*@")
_DEF_LINE = re.compile(r"\s*(async\s+)?def\s")


def _parse_def(
    lines: list[str], start: int, func: Callable[..., Any]
) -> tuple[gast.FunctionDef, int, str, list[str]] | None:
    """``func``'s def parsed from the file ``lines``, where it starts at index
    ``start``: (def, first line number, dedented text, its lines), the text
    and lines exactly those of ``inspect.getsourcelines``; or None where this
    shortcut does not apply (the caller then asks inspect).

    inspect finds the def's end by tokenizing it; here a scan of indentation
    proposes the end (the first line of code indented no deeper than the
    def), and the parse checks it: a cut inside a bracket, a string or a
    continued line is a syntax error, and the parse must give one def whose
    body starts on a line of its own.  The text then ends, as inspect's
    does, with the def's last line or a later comment indented like the
    body, whichever comes last."""
    head = lines[start] if start < len(lines) else ""
    if not _DEF_START.match(head):
        return None
    indent = _indent(head)
    if head[indent] in "\t\f":
        return None  # columns are not character counts
    def_line = start
    while not _DEF_LINE.match(lines[def_line]):  # past the decorators
        def_line += 1
        if def_line == len(lines):
            return None
    last_code = def_line  # the last line of code before the cut
    comments: list[tuple[int, int]] = []  # (index, column) after last_code
    for index in range(def_line + 1, len(lines)):
        line = lines[index]
        rest = line.lstrip(" ")
        if not rest or rest[0] in "\r\n":
            continue
        column = len(line) - len(rest)
        if rest[0] in "\t\f":
            return None  # columns are not character counts
        if rest[0] == "#":
            comments.append((index, column))
            continue
        if column <= indent and rest[0] not in ")]}":
            break
        last_code = index
        comments.clear()
    first = start + 1
    candidate = textwrap.dedent("".join(lines[start : last_code + 1]))
    tree = _parse(first, candidate)
    if tree is None or len(tree.body) != 1:
        return None
    node = tree.body[0]
    if (
        node.__class__ not in (gast.FunctionDef, gast.AsyncFunctionDef)
        or node.name != func.__name__
        or node.end_lineno != last_code + 1
    ):
        return None
    # The body must start a line of its own (else inspect's rules differ):
    # its offset in the dedented text is then its line's indentation less
    # the margin dedent removed (spaces: bytes and characters agree).
    margin = indent - _indent(candidate)
    body_column = _indent(lines[node.body[0].lineno - 1])
    if body_column <= indent or node.body[0].col_offset != body_column - margin:
        return None
    end = last_code
    for index, column in comments:
        if column >= body_column:
            end = index
    block = lines[start : end + 1]
    if end == last_code:
        return node, first, candidate, block
    text = textwrap.dedent("".join(block))
    if not text.startswith(candidate):
        return None  # the comments changed the margin: parse the text itself
    return node, first, text, block


def _indent(line: str) -> int:
    """The number of spaces ``line`` starts with."""
    return len(line) - len(line.lstrip(" "))


def _find_def(tree: gast.Module, func: Callable[..., Any]) -> gast.FunctionDef | None:
    """The def (or lambda, turned into a def) in ``tree`` that made ``func``."""
    first = tree.body[0] if tree.body else None
    if (
        isinstance(first, (gast.FunctionDef, gast.AsyncFunctionDef))
        and first.name == func.__name__
    ):
        return first
    params = list(inspect.signature(func).parameters)
    lambdas = [n for n in gast.walk(tree) if isinstance(n, gast.Lambda)]
    matches = [lam for lam in lambdas if _arg_names(lam.args) == params]
    if func.__name__ == "<lambda>" and len(matches) == 1:
        lam = matches[0]
        ret = gast.Return(value=lam.body)
        gast.copy_location(ret, lam.body)
        fdef = gast.FunctionDef(
            name="lambda_",
            args=lam.args,
            body=[ret],
            decorator_list=[],
            returns=None,
            type_comment=None,
            **_type_params(),
        )
        gast.copy_location(fdef, lam)
        return fdef
    return None


def _arg_names(args: gast.arguments) -> list[str]:
    names = [a.id for a in list(getattr(args, "posonlyargs", [])) + list(args.args)]
    if args.vararg is not None:
        names.append(args.vararg.id)
    names.extend(a.id for a in args.kwonlyargs)
    if args.kwarg is not None:
        names.append(args.kwarg.id)
    return names


def _type_params() -> dict[str, Any]:
    """gast >= 0.6 FunctionDef has a type_params field."""
    if "type_params" in gast.FunctionDef._fields:
        return {"type_params": []}
    return {}


def make_function_def(
    name: str, params: list[str], body: list[gast.stmt], kwonly: tuple[str, ...] = ()
) -> gast.FunctionDef:
    """A FunctionDef with plain positional (and keyword-only) parameters."""

    def arg(p: str) -> gast.Name:
        return gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)

    args = gast.arguments(
        args=[arg(p) for p in params],
        posonlyargs=[],
        vararg=None,
        kwonlyargs=[arg(p) for p in kwonly],
        kw_defaults=[None for _ in kwonly],
        kwarg=None,
        defaults=[],
    )
    return gast.FunctionDef(
        name=name,
        args=args,
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        **_type_params(),
    )
