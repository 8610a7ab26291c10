"""From a function object to its parsed source and its name environment.

Guarantees: :func:`load` returns the function's ``gast.FunctionDef`` with
decorators removed and line numbers that are the real line numbers in the
user's file, together with the names the function can see (globals, closure
cells, builtins) looked up *at run time*, so a generated derivative sees the
same module state as the original function does.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import gast

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
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot differentiate {name!r}: its source code is not available "
            f"({exc}); functions built with exec/eval or typed at an interactive "
            "prompt have no source file. Define it in a module file."
        ) from None
    first = max(first, 1)
    text = textwrap.dedent("".join(lines))
    try:
        # Blank lines in front give every node its line in the user's file.
        tree = parse("\n" * (first - 1) + text, first - 1)
    except SyntaxError:
        tree = None
    node = _find_def(tree, func, first - 1) if tree is not None else None
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


def _find_def(
    tree: gast.Module, func: Callable[..., Any], offset: int
) -> gast.FunctionDef | None:
    """The def (or lambda, turned into a def) in ``tree`` that made ``func``.

    A lambda's def and return are numbered ``offset`` lines early, as when
    the tree was numbered from the source snippet and moved afterwards
    without them (generated names and error locations depend on it)."""
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
        for made in (ret, fdef):
            made.lineno -= offset
            made.end_lineno -= offset
        return fdef
    return None


def parse(text: str, offset: int = 0) -> gast.Module:
    """``gast.parse(text)`` followed by ``gast.increment_lineno(tree,
    offset)`` for a text whose first ``offset`` lines are blank.

    gast's translator is a generic NodeTransformer, several times slower
    than parsing itself; this one builds the same nodes directly."""
    return _to_gast(ast.parse(text), offset)


# ast class -> (gast class, its fields to copy), built on first use.
_GAST_PLANS: dict[type, tuple[type, tuple[str, ...]] | None] = {}
# gast's translator adds ``type_params`` (empty) to defs on Pythons whose
# ast lacks it.
_ADD_TYPE_PARAMS = "type_params" in gast.FunctionDef._fields and (
    "type_params" not in ast.FunctionDef._fields
)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _gast_plan(cls: type) -> tuple[type, tuple[str, ...]] | None:
    target = getattr(gast, cls.__name__, None)
    plan = None if target is None else (target, cls._fields)
    _GAST_PLANS[cls] = plan
    return plan


def _to_gast(node: ast.AST, offset: int) -> Any:
    # Nodes are made with __new__ and their __dict__ filled, in the order
    # gast's translator gives it: gast's constructors cost several times more.
    cls = node.__class__
    fields = node.__dict__
    if cls is ast.Name:
        ctx = fields["ctx"].__class__
        new = _NEW(_NAME)
        new.__dict__.update(
            id=fields["id"],
            ctx=_NEW(_CONTEXTS[ctx]),
            annotation=None,
            type_comment=None,
        )
    elif cls is ast.arg:
        annotation = fields["annotation"]
        if annotation is not None:
            annotation = _to_gast(annotation, offset)
        new = gast.Name(fields["arg"], gast.Param(), annotation, fields["type_comment"])
    elif cls is ast.ExceptHandler and node.name:
        new = gast.ExceptHandler(
            _value(node.type, offset),
            # Made without a location: gast.increment_lineno then gave it one.
            gast.Name(
                node.name,
                gast.Store(),
                None,
                None,
                lineno=offset,
                end_lineno=offset,
            ),
            _value(node.body, offset),
        )
    else:
        plan = _GAST_PLANS[cls] if cls in _GAST_PLANS else _gast_plan(cls)
        if plan is None:
            return None  # as gast's translator: not a node gast knows
        target, names = plan
        new = _NEW(target)
        values = new.__dict__
        for name in names:
            if name in fields:
                value = fields[name]
                if isinstance(value, ast.AST):
                    value = _to_gast(value, offset)
                elif value.__class__ is list:
                    value = [_value(v, offset) for v in value]
                values[name] = value
        if _ADD_TYPE_PARAMS and cls in _DEFS:
            values["type_params"] = []
        for name in node._attributes:
            if name in fields:
                values[name] = fields[name]
        return new
    values = new.__dict__
    for name in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if name in fields:
            values[name] = fields[name]
    return new


_NEW = gast.AST.__new__
_NAME = gast.Name
_CONTEXTS = {ast.Load: gast.Load, ast.Store: gast.Store, ast.Del: gast.Del}


def _value(value: Any, offset: int) -> Any:
    if isinstance(value, ast.AST):
        return _to_gast(value, offset)
    if value.__class__ is list:
        return [_value(v, offset) for v in value]
    return value


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
