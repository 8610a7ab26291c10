"""Command-line interface: ``s2s-ad`` and ``python -m s2s_ad``.

Show the derivative s2s_ad generates for a function in a file::

    python -m s2s_ad --show-source examples/seed.py:f
    python -m s2s_ad --show-source model.py:Model.loss --wrt w,b

``FILE:FUNC`` loads FILE as a module (its own directory first on ``sys.path``
so its sibling imports work, under a module name of its own so nothing in
``sys.modules`` is replaced) and looks FUNC up in it; FUNC may be a dotted
attribute path.  ``--wrt`` takes a comma-separated list of parameter names
or positions.  Without it, a function decorated with ``@differentiate`` keeps
the options of its decorator, and a plain function is differentiated with
respect to its first parameter.

See the numbers, the stages, the cache, and write code ahead of time::

    python -m s2s_ad --trace examples/seed.py:f 2 0.5
    python -m s2s_ad --show-source examples/seed.py:f --stages
    python -m s2s_ad cache info            # or: cache clear
    python -m s2s_ad codegen examples/seed.py -o seed_grad.py [--check]

``--trace`` arguments are Python literals (lists become float arrays) or
expressions evaluated in FILE's namespace.  ``--cache-dir DIR`` (``off`` to
disable) chooses the on-disk cache for one run.

:func:`main` returns the exit status: 0 on success, 1 when the work fails
(missing file or function, or an s2s_ad error such as unsupported syntax,
reported on stderr without a traceback), 2 for a malformed command line.
Further actions are added as entries of :data:`ACTIONS` (options) or of
:data:`COMMANDS` (subcommands: :func:`main` hands the rest of the command
line to the subcommand's own parser, since argparse subparsers cannot follow
the optional ``ARG`` list of the top-level parser).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Callable, Union

import numpy as np

import s2s_ad
from s2s_ad import codegen, diskcache, tracing
from s2s_ad.api import Differentiable, differentiate
from s2s_ad.errors import S2SError

Wrt = tuple[Union[str, int], ...]


class CLIError(Exception):
    """A failure to report on stderr as one message, with exit status 1."""


# ---------------------------------------------------------------------------
# Loading FILE:FUNC
# ---------------------------------------------------------------------------


def split_target(target: str) -> tuple[str, str]:
    """``"path/to/file.py:Name.attr"`` -> ``("path/to/file.py", "Name.attr")``.

    The last colon separates, so Windows drive letters (``C:\\x.py:f``) work.
    """
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise CLIError(f"expected FILE:FUNC, got {target!r}")
    return path, name


def _module_name(path: str) -> str:
    """A module name for ``path`` that cannot clash with an importable one."""
    stem = os.path.splitext(os.path.basename(path))[0]
    stem = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"_s2s_ad_cli_{stem}_{digest}"


def load_file(path: str) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module."""
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    path = os.path.abspath(path)
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except S2SError:
        # e.g. a decorator in the file refused the function: report it as is.
        del sys.modules[name]
        raise
    except (Exception, SystemExit) as exc:
        del sys.modules[name]
        raise CLIError(f"error while importing {path}:\n{_brief(exc, path)}") from exc
    return module


def _brief(exc: BaseException, path: str) -> str:
    """The exception and where in ``path`` it happened, without the traceback."""
    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == path:
            where = f'  File "{frame.filename}", line {frame.lineno}\n'
            if frame.line:
                where += f"    {frame.line}\n"
    last = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    return where + last


def find_function(module: ModuleType, dotted: str, path: str) -> Any:
    """``module.<dotted>``, following attributes one name at a time."""
    obj: Any = module
    walked = []
    for part in dotted.split("."):
        if not part.isidentifier():
            raise CLIError(f"invalid function name {dotted!r}")
        walked.append(part)
        try:
            obj = getattr(obj, part)
        except AttributeError:
            what = ".".join(walked)
            raise CLIError(f"{path} has no function {what!r}") from None
    if not callable(obj):
        raise CLIError(f"{dotted!r} in {path} is not a function")
    return obj


def parse_wrt(text: str) -> Wrt:
    """``"x1,x2"`` -> ``("x1", "x2")``; ``"0,2"`` -> ``(0, 2)``; mixed allowed."""
    items: list[str | int] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise argparse.ArgumentTypeError(
                f"empty name in {text!r} (use e.g. --wrt x1,x2 or --wrt 0)"
            )
        if item.lstrip("-").isdigit():
            items.append(int(item))
        elif item.isidentifier():
            items.append(item)
        else:
            raise argparse.ArgumentTypeError(
                f"{item!r} is neither a parameter name nor a position"
            )
    return tuple(items)


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------


def derivative_source(obj: Any, wrt: Wrt | None, mode: str = "reverse") -> str:
    """The source of the derivative s2s_ad generates for ``obj``."""
    if mode == "forward":
        func = obj.__wrapped__ if isinstance(obj, Differentiable) else obj
        if wrt is None and isinstance(obj, Differentiable):
            wrt = obj.wrt if isinstance(obj.wrt, tuple) else (obj.wrt,)
        return s2s_ad.forward_source(func, wrt=wrt)
    if isinstance(obj, Differentiable):
        if wrt is None:
            return obj.source
        return differentiate(obj.__wrapped__, wrt=wrt, seed=obj.seed).source
    if wrt is None:
        wrt = (_first_parameter(obj),)
    return differentiate(obj, wrt=wrt).source


def parse_value(text: str) -> Any:
    """A command-line example argument: a Python literal (``2``, ``0.5``,
    ``[1.0, 2.0]``); lists become float arrays."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise CLIError(f"cannot read argument {text!r} as a Python literal") from None
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return value


def _first_parameter(func: Callable[..., Any]) -> str:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    if not params:
        name = getattr(func, "__qualname__", repr(func))
        raise CLIError(f"{name} has no parameter to differentiate with respect to")
    return params[0]


def show_source(args: argparse.Namespace) -> int:
    path, name = split_target(args.show_source)
    func = find_function(load_file(path), name, path)
    mode = getattr(args, "mode", "reverse")
    examples = [parse_value(v) for v in getattr(args, "args", None) or []]
    if getattr(args, "stages", False):
        text = tracing.stages(func, args.wrt, mode, tuple(examples) or None)
    elif examples and mode == "reverse":
        target = func.__wrapped__ if isinstance(func, Differentiable) else func
        wrt = args.wrt
        if wrt is None:
            wrt = (
                func.wrt if isinstance(func, Differentiable) else _first_parameter(func)
            )
        seed = func.seed if isinstance(func, Differentiable) else None
        text = s2s_ad.gradient_source(target, wrt=wrt, args=examples, seed=seed)
    else:
        text = derivative_source(func, args.wrt, mode)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _trace_value(text: str, module: ModuleType) -> Any:
    """A ``--trace`` argument: a literal, else an expression in the module."""
    try:
        return parse_value(text)
    except CLIError:
        pass
    try:
        return eval(text, dict(vars(module)))  # the user's own input
    except Exception as exc:  # noqa: BLE001 - reported as a CLI error
        raise CLIError(f"cannot evaluate argument {text!r}: {exc}") from None


def trace(args: argparse.Namespace) -> int:
    path, name = split_target(args.trace)
    module = load_file(path)
    func = find_function(module, name, path)
    values = [_trace_value(v, module) for v in getattr(args, "args", None) or []]
    report = tracing.trace(func, *values, wrt=args.wrt)
    sys.stdout.write(str(report))
    return 0


#: Top-level actions: (option dest, handler).  Exactly one runs per call.
ACTIONS: list[tuple[str, Callable[[argparse.Namespace], int]]] = [
    ("show_source", show_source),
    ("trace", trace),
]


def cache_command(args: argparse.Namespace) -> int:
    """``s2s-ad cache info`` and ``s2s-ad cache clear``."""
    if args.what == "clear":
        where = diskcache.configured_dir()[0]
        removed = diskcache.clear()
        sys.stdout.write(f"removed {removed} entries from {where}\n")
        return 0
    info = diskcache.info()
    if info["directory"] is None:
        status = f"disabled ({info['configured_by']})"
    elif info["enabled"]:
        status = "in use"
    else:
        status = f"not used: {info['reason']}"
    sys.stdout.write(
        f"directory: {info['directory']} (from {info['configured_by']})\n"
        f"status:    {status}\n"
        f"entries:   {info['entries']} ({info['bytes']} bytes)\n"
    )
    return 0


def _cache_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="on-disk cache directory for this run ('off' disables it; default "
        "$S2S_AD_CACHE_DIR, else the user cache directory)",
    )


def _cache_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} cache",
        description="Show or clear the on-disk cache of generated derivatives.",
    )
    parser.add_argument("what", choices=("info", "clear"))
    _cache_dir_option(parser)
    parser.set_defaults(func=cache_command)
    return parser


def _codegen_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} codegen",
        description="Write the derivatives of a module's @differentiate "
        "functions (and of --function ones) to a standalone module that does "
        "not import s2s_ad.",
    )
    codegen.add_arguments(parser)
    _cache_dir_option(parser)
    parser.set_defaults(func=codegen.run)
    return parser


#: Subcommands: name -> parser maker (given the program name); the parser
#: sets ``func``, the handler.
COMMANDS: dict[str, Callable[[str], argparse.ArgumentParser]] = {
    "cache": _cache_parser,
    "codegen": _codegen_parser,
}


# ---------------------------------------------------------------------------
# Parser and entry point
# ---------------------------------------------------------------------------


def _prog() -> str:
    if os.path.basename(sys.argv[0] or "") == "__main__.py":
        return "python -m s2s_ad"
    return "s2s-ad"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Source-to-source automatic differentiation for Python/NumPy.",
        epilog="example: %(prog)s --show-source examples/seed.py:f --wrt x1,x2",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {s2s_ad.__version__}"
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--show-source",
        metavar="FILE:FUNC",
        help="print the generated gradient source of FUNC defined in FILE",
    )
    action.add_argument(
        "--trace",
        metavar="FILE:FUNC",
        help="run FUNC at the ARGs and print every intermediate value, then "
        "every adjoint, in the order the sweeps compute them",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="with --show-source: print the source after every pipeline stage",
    )
    _cache_dir_option(parser)
    parser.add_argument(
        "--wrt",
        type=parse_wrt,
        metavar="NAMES",
        help="comma-separated parameter names or positions to differentiate "
        "with respect to (default: the decorator's, else the first parameter)",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="ARG",
        help="with --show-source: example arguments (Python literals); the "
        "source shown is then the code specialised to their kinds, as a "
        "gradient without a seed runs it. With "
        "--trace: the arguments (literals or expressions in FILE)",
    )
    parser.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="with --show-source: reverse-mode gradient (default) or "
        "forward-mode tangent code",
    )
    _add_commands(parser)
    return parser


def _add_commands(parser: argparse.ArgumentParser) -> None:
    """List the subcommands of :data:`COMMANDS` in the help text."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  %(prog)s --show-source examples/seed.py:f --wrt x1,x2\n"
        "  %(prog)s --trace examples/seed.py:f 2 0.5\n\n"
        "commands (see %(prog)s COMMAND --help):\n"
        "  cache {info,clear}           the on-disk cache of generated code\n"
        "  codegen MODULE -o OUT.py     write derivatives to a module that "
        "does not need s2s_ad"
    )


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if getattr(args, "cache_dir", None) is not None:
        diskcache.set_cache_dir(args.cache_dir)
    handler = getattr(args, "func", None)
    if handler is not None:
        return handler(args)
    for dest, action in ACTIONS:
        if getattr(args, dest, None) is not None:
            return action(args)
    parser.print_usage(sys.stderr)
    sys.stderr.write(f"{parser.prog}: error: nothing to do (see --help)\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        parser = COMMANDS[argv[0]](parser.prog)
        argv = argv[1:]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    try:
        return _dispatch(parser, args)
    except (CLIError, S2SError) as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return 1
