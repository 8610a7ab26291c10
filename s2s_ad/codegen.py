"""Ahead-of-time code generation: derivatives written to a standalone module.

``s2s-ad codegen MODULE -o OUT.py`` (or ``python tools/s2s_codegen.py``)
writes, for every ``@differentiate``-decorated function of MODULE and every
function named with ``--function NAME[:WRT][:MODE]``, the code s2s_ad
generates for it, as an ordinary Python module that can be committed and
imported where s2s_ad is not installed.

Guarantees of the written module:

* It imports nothing from s2s_ad.  The run-time helpers the generated code
  calls are copied into it from ``s2s_ad/runtime.py`` (and the error classes
  they raise from ``s2s_ad/errors.py``), only those needed, and gathered in
  a namespace ``rt``.  If s2s_ad is not installed, it puts a small stand-in
  named ``s2s_ad`` in ``sys.modules`` before importing the user's modules,
  so that their ``from s2s_ad import differentiate`` still works (the
  decorator then only marks the function; ``f.grad`` and
  ``f.value_and_grad`` call the generated code).
* It imports the user's modules: each generated function reads the
  globals (and closure) of the function it was made from, at call time,
  exactly as code generated in-process does.
* For a reverse-mode function ``f`` it exposes ``grad_f`` and
  ``value_and_grad_f`` with the semantics of :func:`s2s_ad.grad` and
  :func:`s2s_ad.value_and_grad` (same signature as ``f``; one gradient for a
  single ``wrt``, a tuple for a tuple); for forward mode ``jvp_f(primals,
  tangents)`` like :func:`s2s_ad.jvp`.  The code is the general code (not
  specialised to argument kinds).
* Its text depends only on the sources and the options (no absolute paths,
  no dates), so ``--check`` can tell, by regenerating, whether it is stale;
  a header line records a fingerprint per function, so ``--check`` names
  the stale functions.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import re
import sys
import traceback
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import s2s_ad
from s2s_ad import errors as errors_module
from s2s_ad import runtime as runtime_module
from s2s_ad.api import Differentiable, _parameters, build_artifact, resolve_wrt
from s2s_ad.diskcache import object_reference
from s2s_ad.errors import S2SError
from s2s_ad.program import Artifact, Unit
from s2s_ad.source import unwrap

__all__ = ["CodegenError", "Target", "generate", "load_module", "main", "stale"]

FINGERPRINTS = "# s2s-ad codegen fingerprints: "


class CodegenError(S2SError):
    """The module cannot be generated (import error, unknown function, an
    object the generated code needs that cannot be imported...)."""


# -----------------------------------------------------------------------------
# Finding the module and the functions
# -----------------------------------------------------------------------------


def _dotted_name(path: str) -> tuple[str, str]:
    """The import name of the file at ``path`` and the directory to put on
    ``sys.path`` for it (the first directory above its packages)."""
    directory, filename = os.path.split(path)
    parts = [os.path.splitext(filename)[0]]
    if parts[0] == "__init__":
        parts = []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    return ".".join(parts), directory


def _brief(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def load_module(target: str) -> types.ModuleType:
    """Import ``target``: a file path (imported under its own module name,
    its package root put on ``sys.path``) or an importable module name."""
    is_path = target.endswith(".py") or os.sep in target or "/" in target
    if is_path:
        path = os.path.abspath(target)
        if not os.path.isfile(path):
            raise CodegenError(f"no such file: {target}")
        name, root = _dotted_name(path)
        if not name or not all(p.isidentifier() for p in name.split(".")):
            raise CodegenError(
                f"{target} is not importable as a module (name {name!r})"
            )
        if root not in sys.path:
            sys.path.insert(0, root)
    else:
        name = target
    try:
        module = importlib.import_module(name)
    except S2SError:
        raise
    except (Exception, SystemExit) as exc:
        raise CodegenError(f"error while importing {target}: {_brief(exc)}") from exc
    if is_path:
        found = getattr(module, "__file__", None)
        if not found or not os.path.samefile(found, path):
            raise CodegenError(
                f"importing {name!r} gives {found}, not {target}: the name is taken "
                "by another module; pass an importable module name instead"
            )
    return module


@dataclass
class Target:
    """One function to generate code for."""

    name: str  # the suffix of the public names (grad_<name>)
    path: str  # attribute path in the module
    func: Callable[..., Any]
    wrt: tuple[str, ...]
    single: bool
    mode: str = "reverse"
    seed: bool = False  # the decorated object carries a seed


def _parse_spec(spec: str) -> tuple[str, tuple[str | int, ...] | None, str]:
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise CodegenError(f"expected NAME[:WRT][:MODE], got {spec!r}")
    name = parts[0]
    wrt: tuple[str | int, ...] | None = None
    mode = "reverse"
    rest = parts[1:]
    if rest and rest[-1] in ("reverse", "forward"):
        mode = rest.pop()
    if len(rest) > 1:
        raise CodegenError(f"expected NAME[:WRT][:MODE], got {spec!r}")
    if rest and rest[0]:
        items: list[str | int] = []
        for item in rest[0].split(","):
            item = item.strip()
            if item.lstrip("-").isdigit():
                items.append(int(item))
            elif item.isidentifier():
                items.append(item)
            else:
                raise CodegenError(f"{item!r} in {spec!r} is not a parameter")
        wrt = tuple(items)
    return name, wrt, mode


def collect(module: types.ModuleType, specs: Sequence[str] = ()) -> list[Target]:
    """The decorated functions of ``module`` (in definition order), then the
    functions named by ``specs`` (``NAME[:WRT][:MODE]``; naming a decorated
    function again overrides its options)."""
    targets: dict[str, Target] = {}
    for attr, obj in vars(module).items():
        if not isinstance(obj, Differentiable):
            continue
        func = unwrap(obj)
        if getattr(func, "__module__", None) != module.__name__:
            continue  # imported from elsewhere
        names, single = resolve_wrt(func, obj.wrt)
        targets[attr] = Target(
            attr, attr, func, names, single, "reverse", obj.seed is not None
        )
    for spec in specs:
        path, wrt, mode = _parse_spec(spec)
        obj: Any = module
        for part in path.split("."):
            if not part.isidentifier() or not hasattr(obj, part):
                raise CodegenError(f"{module.__name__} has no function {path!r}")
            obj = getattr(obj, part)
        func = unwrap(obj)
        seed = isinstance(obj, Differentiable) and obj.seed is not None
        if wrt is None and isinstance(obj, Differentiable):
            names, single = resolve_wrt(func, obj.wrt)
        elif wrt is None and mode == "forward":
            names, single = tuple(_parameters(func)), False
        else:
            names, single = resolve_wrt(func, wrt[0] if wrt and len(wrt) == 1 else wrt)
        public = path.replace(".", "_")
        targets[public] = Target(public, path, func, names, single, mode, seed)
    return list(targets.values())


# -----------------------------------------------------------------------------
# The run-time helpers, copied
# -----------------------------------------------------------------------------


@dataclass
class _Statement:
    module: str
    node: ast.stmt
    text: str
    defines: set[str]
    uses: set[str]
    internal: dict[str, str] = field(default_factory=dict)  # name -> module
    external_import: bool = False


def _statements(module: types.ModuleType) -> list[_Statement]:
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    lines = source.splitlines()
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        first = min(
            [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]
        )
        text = "\n".join(lines[first - 1 : node.end_lineno])
        uses = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        defines: set[str] = set()
        internal: dict[str, str] = {}
        external = False
        if isinstance(node, ast.ImportFrom) and not node.level:
            source_module = node.module or ""
            inside = source_module.split(".")[0] == "s2s_ad"
            for alias in node.names:
                name = alias.asname or alias.name
                one = f"from {source_module} import {alias.name}"
                one += f" as {alias.asname}" if alias.asname else ""
                link = {name: source_module} if inside else {}
                stmt = _Statement(module.__name__, node, one, {name}, set(), link)
                stmt.external_import = not inside
                out.append(stmt)
            continue
        if isinstance(node, ast.Import):
            external = True
            for alias in node.names:
                defines.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defines.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    defines.add(sub.id)
        out.append(
            _Statement(module.__name__, node, text, defines, uses, internal, external)
        )
    return out


def _runtime_code(needed: set[str]) -> tuple[list[str], str, set[str]]:
    """(import lines, code, names defined) of the run-time definitions that
    ``needed`` (names in s2s_ad.runtime) depend on, in source order."""
    modules = {
        runtime_module.__name__: _statements(runtime_module),
        errors_module.__name__: _statements(errors_module),
    }
    chosen: dict[str, set[int]] = {name: set() for name in modules}
    todo = [(runtime_module.__name__, n) for n in sorted(needed)]
    done: set[tuple[str, str]] = set()
    while todo:
        module, name = todo.pop()
        if (module, name) in done:
            continue
        done.add((module, name))
        if module not in modules:
            raise CodegenError(
                f"generated code needs {module}.{name}, which is not copied"
            )
        for index, stmt in enumerate(modules[module]):
            if name not in stmt.defines:
                continue
            if name in stmt.internal:
                todo.append((stmt.internal[name], name))
                continue
            chosen[module].add(index)
            for used in stmt.uses:
                todo.append((module, used))
    imports: list[str] = []
    names_from: dict[str, list[str]] = {}
    code: list[str] = []
    defined: set[str] = set()
    for module in (errors_module.__name__, runtime_module.__name__):
        for index, stmt in enumerate(modules[module]):
            if index not in chosen[module]:
                continue
            if stmt.external_import and stmt.text.startswith("from "):
                source, _, name = stmt.text[len("from ") :].partition(" import ")
                if name not in names_from.setdefault(source, []):
                    names_from[source].append(name)
            elif stmt.external_import:
                imports.append(stmt.text)
            else:
                code.append(stmt.text)
            defined |= stmt.defines
    for source, names in names_from.items():
        imports.append(f"from {source} import {', '.join(sorted(names))}")
    return imports, "\n\n\n".join(code), defined


# -----------------------------------------------------------------------------
# The infrastructure of the written module
# -----------------------------------------------------------------------------

_INFRASTRUCTURE = '''
class _Globals(dict):
    """Globals of a generated function: its own names first, then the closure
    and the module globals of the user function it was made from, read at
    each access (so later changes to module state are seen)."""

    def __init__(self, function, names):
        super().__init__(names)
        self["__builtins__"] = builtins
        self.function = function
        code = function.__code__
        self.cells = dict(zip(code.co_freevars, function.__closure__ or ()))

    def __missing__(self, key):
        cell = self.cells.get(key)
        if cell is not None:
            try:
                return cell.cell_contents
            except ValueError:
                pass
        return self.function.__globals__[key]


def _unwrap(obj):
    seen = set()
    while hasattr(obj, "__wrapped__") and id(obj) not in seen:
        seen.add(id(obj))
        obj = obj.__wrapped__
    return obj


def _attribute(module, path):
    """``module.<path>``; ``module`` is a module or the name of one."""
    obj = importlib.import_module(module) if isinstance(module, str) else module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _namespace(module, path, names):
    """Globals for the code generated from ``module.<path>``."""
    return _Globals(_unwrap(_attribute(module, path)), names)


def _install(raw, namespace, user_defaults=False):
    """``raw`` (defined above) as a function reading ``namespace``."""
    function = types.FunctionType(
        raw.__code__, namespace, raw.__name__, raw.__defaults__
    )
    if user_defaults:
        function.__defaults__ = namespace.function.__defaults__
        function.__kwdefaults__ = namespace.function.__kwdefaults__
    return function


def _gradient(raw, namespace, name, wrt, single, with_value, seed=None):
    """What s2s_ad.grad (or value_and_grad) returns, for generated ``raw``."""
    function = namespace.function
    signature = inspect.signature(function)

    def gradient(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{function.__name__}(): {exc}") from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        for param in wrt:
            rt.check_wrt_arg(values[param], param)
            if type(values[param]) is int:
                values[param] = float(values[param])
        value, grads = raw(*[values[p] for p in signature.parameters], seed)
        result = grads[0] if single else grads
        return (value, result) if with_value else result

    what = "value and gradient" if with_value else "gradient"
    gradient.__name__ = gradient.__qualname__ = name
    gradient.__doc__ = f"The {what} of {function.__name__} with respect to {wrt}."
    gradient.__signature__ = signature
    return gradient


def _jvp(raw, namespace, name, wrt):
    """What s2s_ad.jvp computes, for generated ``raw``: tangents may be given
    (not None) only for the parameters in ``wrt``."""
    function = namespace.function
    signature = inspect.signature(function)
    params = list(signature.parameters)

    def jvp(primals, tangents):
        primals = tuple(primals)
        tangents = tuple(tangents)
        tangents += (None,) * (len(primals) - len(tangents))
        values = list(primals)
        dots = {}
        for i, (param, tangent) in enumerate(zip(params, tangents)):
            if tangent is None:
                continue
            if param not in wrt:
                raise ValueError(
                    f"{name} was generated for tangents of {wrt}, not of {param!r}"
                )
            rt.check_wrt_arg(values[i], param)
            if type(values[i]) is int:
                values[i] = float(values[i])
            dots[param] = tangent
        bound = signature.bind(*values)
        bound.apply_defaults()
        ordered = [bound.arguments[p] for p in params]
        return raw(*ordered, *[dots.get(p, 0.0) for p in wrt])

    jvp.__name__ = jvp.__qualname__ = name
    jvp.__doc__ = f"(value, J @ tangents) of {function.__name__}, tangents of {wrt}."
    return jvp


def _stand_in_for_s2s_ad():
    """Let the user's modules import when s2s_ad is not installed: put a
    module named s2s_ad in sys.modules whose ``differentiate`` only marks a
    function (its .grad and .value_and_grad are the generated ones once
    imported) and whose other functions fail when called."""
    if sys.modules.get("s2s_ad") is not None:
        return  # the real s2s_ad, or a stand-in made before
    try:
        if importlib.util.find_spec("s2s_ad") is not None:
            return  # installed: the user's modules import it as usual
    except (ImportError, ValueError):
        pass
    stand_in = types.ModuleType("s2s_ad", "Stand-in for s2s_ad (not installed).")
    stand_in.stand_in = True
    stand_in.generated = {}

    class S2SError(Exception):
        """Base class of s2s_ad errors."""

    def missing(what):
        def fail(*args, **kwargs):
            raise S2SError(
                f"s2s_ad.{what} is not available: s2s_ad is not installed, and "
                "this process runs code generated ahead of time"
            )

        return fail

    class Differentiable:
        """A function marked by the stand-in ``differentiate``."""

        def __init__(self, function, wrt=None, seed=None):
            functools.update_wrapper(self, function)
            self.wrt = wrt
            self.seed = seed

        def __call__(self, *args, **kwargs):
            return self.__wrapped__(*args, **kwargs)

        def __get__(self, obj, objtype=None):
            return self if obj is None else functools.partial(self, obj)

        def _generated(self, kind):
            key = (id(self.__wrapped__), kind)
            return stand_in.generated.get(key) or missing(f"{kind} of {self.__name__}")

        def grad(self, *args, **kwargs):
            return self._generated("grad")(*args, **kwargs)

        def value_and_grad(self, *args, **kwargs):
            return self._generated("value_and_grad")(*args, **kwargs)

    def differentiate(func=None, *, wrt=None, seed=None):
        if func is None:
            return lambda f: Differentiable(f, wrt, seed)
        return Differentiable(func, wrt, seed)

    def deferred(what):
        def make(*args, **kwargs):
            return missing(what)

        return make

    stand_in.S2SError = S2SError
    stand_in.Differentiable = Differentiable
    stand_in.differentiate = differentiate
    for what in ("grad", "value_and_grad", "vjp", "jacobian", "hessian"):
        setattr(stand_in, what, deferred(what))
    for what in ("jvp", "hvp", "gradient_source", "forward_source", "trace"):
        setattr(stand_in, what, missing(what))
    sys.modules["s2s_ad"] = stand_in


def _register(module, path, **functions):
    """Make ``module.<path>.grad`` (etc.) the generated code, under the stand-in."""
    stand_in = sys.modules.get("s2s_ad")
    if not getattr(stand_in, "stand_in", False):
        return
    function = _unwrap(_attribute(module, path))
    for kind, generated in functions.items():
        stand_in.generated[(id(function), kind)] = generated


def _import(name, relative_path=None):
    """Import the user's module ``name``; if it is not on sys.path, from the
    file at ``relative_path`` (relative to this file)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if relative_path is None or exc.name not in (name, name.split(".")[0]):
            raise
    # Put the directory above the module's packages on sys.path, as running
    # the module would, so that its own imports of its siblings work too.
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, *relative_path.split("/")))
    root = os.path.dirname(path)
    for _ in range(name.count(".")):
        root = os.path.dirname(root)
    sys.path.insert(0, root)
    return importlib.import_module(name)
'''

_OWN_IMPORTS = [
    "import builtins",
    "import functools",
    "import importlib",
    "import importlib.util",
    "import inspect",
    "import os",
    "import sys",
    "import types",
]


# -----------------------------------------------------------------------------
# Generating
# -----------------------------------------------------------------------------


def _banner(title: str) -> str:
    rule = "# " + "-" * 77
    lines = [rule] + [f"# {line}".rstrip() for line in title.splitlines()] + [rule]
    return "\n".join(lines)


def _lit(value: Any) -> str:
    """Python source for a string or a tuple of strings, double-quoted."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        items = [_lit(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return repr(value)


def _identifier(text: str) -> str:
    return re.sub(r"\W", "_", text)


@dataclass
class _Emitted:
    unit: Unit
    module: str  # user module holding the function
    path: str  # attribute path of the function in it
    namespace: str  # OUT.py name of its namespace
    raw: dict[str, str]  # generated def name -> OUT.py name
    injections: dict[str, str]  # name -> OUT.py expression
    refs: list[tuple[str, Any, str]] = field(default_factory=list)
    text: str = ""
    written: bool = False


class _Writer:
    """Collects what goes into the written module."""

    def __init__(self, module: types.ModuleType, out_path: str | None) -> None:
        self.module = module
        self.out_path = out_path
        self.taken: set[str] = set()
        self.emitted: dict[Any, _Emitted] = {}
        self.order: list[_Emitted] = []
        self.modules: dict[str, str] = {}  # user module name -> OUT.py alias
        self.helpers: set[str] = {"check_wrt_arg"}
        self.attributes: dict[tuple[str, str], str] = {}
        self.injected_runtime: set[str] = set()
        self.std_modules: set[str] = set()

    def fresh(self, base: str) -> str:
        name, count = base, 1
        while name in self.taken:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        return name

    # -- where objects come from ---------------------------------------------

    def module_alias(self, name: str) -> str:
        if name not in self.modules:
            self.modules[name] = self.fresh("_module_" + _identifier(name))
        return self.modules[name]

    def locate(self, func: Callable[..., Any]) -> tuple[str, str]:
        """(module name, attribute path) under which ``func`` can be found."""
        module_name = getattr(func, "__module__", None)
        module = sys.modules.get(module_name or "")
        where = f"{getattr(func, '__qualname__', func)}"
        if module is None or module_name == "__main__":
            raise CodegenError(
                f"cannot generate standalone code for {where}: it is not defined "
                "in an importable module"
            )
        qualname = getattr(func, "__qualname__", "")
        if "<" not in qualname:
            obj: Any = module
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            if obj is not None and unwrap(obj) is func:
                return module_name, qualname
        for attr, obj in vars(module).items():
            if unwrap(obj) is func:
                return module_name, attr
        raise CodegenError(
            f"cannot generate standalone code for {where}: it is not reachable "
            f"as an attribute of {module_name} (a local function?)"
        )

    def expression(self, name: str, obj: Any) -> str:
        """An expression in the written module for the injected ``obj``."""
        if obj is runtime_module:
            return "rt"
        if isinstance(obj, types.ModuleType):
            if obj.__name__ == "numpy":
                return "np"
            if obj.__name__ in ("math", "copy"):
                self.std_modules.add(obj.__name__)
                return obj.__name__
            return f"importlib.import_module({_lit(obj.__name__)})"
        ref = object_reference(obj)
        internal = (runtime_module.__name__, errors_module.__name__)
        if ref is not None and ref[0] in internal and "." not in ref[1]:
            self.injected_runtime.add(ref[1])
            return ref[1]
        if ref is None or ref[0].split(".")[0] == "s2s_ad":
            raise CodegenError(
                f"cannot generate standalone code: the generated code uses {name} "
                f"= {obj!r}, which cannot be imported without s2s_ad"
            )
        key = ref
        if key not in self.attributes:
            base = "_" + _identifier(ref[1].split(".")[-1])
            self.attributes[key] = self.fresh(base)
        return self.attributes[key]

    # -- units -----------------------------------------------------------------

    def add(self, artifact: Artifact) -> list[_Emitted]:
        """The emitted units of ``artifact`` (shared with earlier artifacts
        where a unit is the same code for the same function)."""
        result: list[_Emitted] = []
        keys: list[Any] = []
        for unit in artifact.units:
            inj = tuple(
                sorted(
                    (n, repr(object_reference(o))) for n, o in unit.injections.items()
                )
            )
            refs = tuple(
                sorted(
                    (n, id(artifact.units[t].func), artifact.units[t].role, w)
                    for n, (t, w) in unit.refs.items()
                )
            )
            keys.append((id(unit.func), unit.role, unit.text, inj, refs))
        for unit, key in zip(artifact.units, keys):
            if key in self.emitted:
                result.append(self.emitted[key])
                continue
            module_name, path = self.locate(unit.func)
            self.module_alias(module_name)
            raw = {
                gen: self.fresh("_" + gen) for gen in sorted(set(unit.names.values()))
            }
            injections = {
                name: self.expression(name, obj)
                for name, obj in sorted(unit.injections.items())
            }
            for name, obj in unit.injections.items():
                if obj is runtime_module:
                    self.helpers |= _attributes_of(unit.text, name)
            emitted = _Emitted(
                unit,
                module_name,
                path,
                self.fresh("_ns_" + _identifier(unit.src.name)),
                raw,
                injections,
                text=_rename_defs(unit.text, raw),
            )
            self.emitted[key] = emitted
            self.order.append(emitted)
            result.append(emitted)
        for emitted, unit in zip(result, artifact.units):
            if emitted.refs:
                continue
            for name, (target, which) in sorted(unit.refs.items()):
                emitted.refs.append((name, result[target], which))
        return result


def _attributes_of(text: str, name: str) -> set[str]:
    return {
        node.attr
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
    }


def _rename_defs(text: str, raw: dict[str, str]) -> str:
    """``text`` with its top-level ``def NAME(`` lines renamed by ``raw``."""
    lines = text.splitlines()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name in raw:
            line = lines[node.lineno - 1]
            old = f"def {node.name}("
            if not line.startswith(old):
                raise CodegenError(f"unexpected generated line {line!r}")
            lines[node.lineno - 1] = f"def {raw[node.name]}(" + line[len(old) :]
    return "\n".join(lines) + "\n"


def _source_digest(artifact: Artifact) -> str:
    parts = sorted({(u.src.name, u.src.digest) for u in artifact.units})
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _describe_target(target: Target) -> str:
    wrt = ", ".join(target.wrt)
    if target.mode == "forward":
        return f"forward mode, tangents of {wrt}"
    if target.single:
        return f"gradient with respect to {wrt}"
    return f"gradient with respect to ({wrt}), a tuple"


def generate(
    module: str | types.ModuleType,
    functions: Sequence[str] = (),
    out_path: str | None = None,
) -> str:
    """The text of the standalone module for ``module`` (a file path, an
    importable name or a module object).  ``out_path`` is where it will be
    written (used only to find the user's module relative to it)."""
    if not isinstance(module, types.ModuleType):
        module = load_module(module)
    targets = collect(module, functions)
    if not targets:
        raise CodegenError(
            f"nothing to generate: {module.__name__} has no @differentiate function "
            "(name functions with --function NAME[:WRT])"
        )
    writer = _Writer(module, out_path)
    writer.taken |= set(_reserved_names())
    home = writer.module_alias(module.__name__)
    for statements in (_statements(runtime_module), _statements(errors_module)):
        for stmt in statements:
            writer.taken |= stmt.defines
    sections: list[tuple[Target, Artifact, list[_Emitted], str]] = []
    for target in targets:
        artifact, _ = build_artifact(target.func, target.wrt, target.mode)
        emitted = writer.add(artifact)
        sections.append((target, artifact, emitted, _source_digest(artifact)))
    public: dict[str, list[str]] = {}
    for target, *_ in sections:
        kinds = ["jvp"] if target.mode == "forward" else ["grad", "value_and_grad"]
        names = [f"{kind}_{target.name}" for kind in kinds]
        for name in names:
            if name in writer.taken:
                raise CodegenError(f"two functions would be named {name}")
            writer.taken.add(name)
        public[target.name] = names
    imports, runtime_text, _ = _runtime_code(writer.helpers | writer.injected_runtime)
    return _assemble(
        module, writer, home, sections, public, imports, runtime_text, out_path
    )


def _reserved_names() -> list[str]:
    names = ["rt", "np", "math", "copy", "__all__"]
    names += ["builtins", "functools", "importlib", "inspect", "os", "sys", "types"]
    tree = ast.parse(_INFRASTRUCTURE)
    names += [
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    ]
    return names


def _assemble(
    module: types.ModuleType,
    writer: _Writer,
    home: str,
    sections: list[tuple[Target, Artifact, list[_Emitted], str]],
    public: dict[str, list[str]],
    imports: list[str],
    runtime_text: str,
    out_path: str | None,
) -> str:
    module_file = getattr(module, "__file__", None) or ""
    shown = os.path.basename(module_file) or module.__name__
    digest = hashlib.sha256(
        repr(sorted((t.name, d) for t, _, _, d in sections)).encode()
    ).hexdigest()
    fingerprints = {}
    for target, _, emitted, source in sections:
        data = [target.mode, target.wrt, target.single, target.seed, source]
        data += [(e.text, sorted(e.injections.items())) for e in emitted]
        text = json.dumps(data, sort_keys=True, default=str)
        fingerprints[target.name] = hashlib.sha256(text.encode()).hexdigest()[:16]
    all_names = [n for names in public.values() for n in names]

    out: list[str] = []
    out.append(
        f"# Generated by s2s_ad {s2s_ad.__version__} (s2s-ad codegen) from {shown}, "
        f"module {module.__name__}.\n"
        f"# Source sha256: {digest}\n"
        "# Do not edit: regenerate with `s2s-ad codegen`; `--check` says whether "
        "this file is stale.\n"
        + FINGERPRINTS
        + json.dumps(fingerprints, sort_keys=True)
    )
    listing = []
    for target, *_ in sections:
        params = ", ".join(_parameters(target.func))
        wrt = ", ".join(target.wrt)
        wrt = wrt if target.single else f"({wrt}) as a tuple"
        path = target.path
        for name in public[target.name]:
            if name.startswith("value_and_grad_"):
                text = f"the value of {path} and its gradient with respect to {wrt}"
            elif name.startswith("jvp_"):
                params = "primals, tangents"
                text = f"(value of {path}, J @ tangents), tangents of {wrt}"
            else:
                text = f"the gradient of {path} with respect to {wrt}"
            listing.append(f"    {name}({params}):\n        {text}")
    out.append(
        f'"""Derivatives of functions in {module.__name__}, generated ahead of time '
        "by s2s_ad.\n\n"
        + "\n".join(listing)
        + "\n\nThis module does not import s2s_ad; it imports NumPy and "
        f"{module.__name__}\n(the generated functions read its globals, as the "
        'originals do).\n"""'
    )
    std = set(_OWN_IMPORTS) | {f"import {m}" for m in writer.std_modules}
    third = {"import numpy as np"}
    for line in imports:
        (third if "numpy" in line else std).add(line)
    std_lines = sorted(x for x in std if x.startswith("import "))
    std_lines += sorted(x for x in std if not x.startswith("import "))
    out.append(
        "from __future__ import annotations\n\n"
        + "\n".join(std_lines)
        + "\n\n"
        + "\n".join(sorted(set(third)))
        + "\n\n__all__ = ["
        + ", ".join(_lit(n) for n in all_names)
        + "]"
    )
    out[:3] = [out[0] + "\n" + out[1] + "\n\n" + out[2]]
    out.append(
        _banner(
            f"Run-time helpers, copied from s2s_ad {s2s_ad.__version__} "
            "(s2s_ad/errors.py, s2s_ad/runtime.py)"
        )
    )
    out.append(runtime_text)
    helpers = sorted(writer.helpers)
    out.append(
        "rt = types.SimpleNamespace(\n"
        + "".join(f"    {h}={h},\n" for h in helpers)
        + ")"
    )
    out.append(_banner("Binding generated code to the user's modules"))
    out.append(_INFRASTRUCTURE.strip())
    lines = ["_stand_in_for_s2s_ad()"]
    for name, alias in writer.modules.items():
        relative = None
        user_module = sys.modules.get(name)
        file = getattr(user_module, "__file__", None)
        if name == module.__name__ and file and out_path:
            base = os.path.dirname(os.path.abspath(out_path))
            relative = Path(os.path.relpath(file, base)).as_posix()
        arg = f", {_lit(relative)}" if relative else ""
        lines.append(f"{alias} = _import({_lit(name)}{arg})")
    for (mod, path), alias in sorted(writer.attributes.items(), key=lambda kv: kv[1]):
        lines.append(f"{alias} = _attribute({_lit(mod)}, {_lit(path)})")
    out.append("\n".join(lines))

    for target, artifact, emitted, source in sections:
        fresh = [e for e in emitted if not e.written]
        line = getattr(target.func, "__code__", None)
        where = f"line {line.co_firstlineno}" if line else ""
        out.append(
            _banner(
                f"{target.path} ({shown}, {where}): {_describe_target(target)}\n"
                f"source sha256 {source}"
            )
        )
        for e in fresh:
            out.append(e.text.rstrip())
            e.written = True
        if not fresh:
            out.append(f"# (the code of {target.path} is above)")

    out.append(_banner("Namespaces and public functions"))
    lines = []
    for e in writer.order:
        alias = writer.modules[e.module]
        names = (
            "{" + ", ".join(f"{_lit(k)}: {v}" for k, v in e.injections.items()) + "}"
        )
        lines.append(f"{e.namespace} = _namespace({alias}, {_lit(e.path)}, {names})")
        for gen, raw in e.raw.items():
            user = e.unit.role == "callee" and gen == e.unit.names.get(
                "fwd", e.unit.names.get("entry")
            )
            flag = ", user_defaults=True" if user else ""
            lines.append(f"{raw} = _install({raw}, {e.namespace}{flag})")
    for e in writer.order:
        for name, target_unit, which in e.refs:
            gen = target_unit.unit.names[which]
            lines.append(f"{e.namespace}[{_lit(name)}] = {target_unit.raw[gen]}")
    out.append("\n".join(lines))
    lines = []
    for target, artifact, emitted, _ in sections:
        top = emitted[0]
        raw = top.raw[top.unit.names["entry"]]
        alias = home
        seed = f", seed={alias}.{target.path}.seed" if target.seed else ""
        wrt = _lit(tuple(target.wrt))
        if target.mode == "forward":
            (name,) = public[target.name]
            lines.append(f"{name} = _jvp({raw}, {top.namespace}, {_lit(name)}, {wrt})")
            continue
        grad_name, vg_name = public[target.name]
        for name, with_value in ((grad_name, False), (vg_name, True)):
            lines.append(
                f"{name} = _gradient(\n    {raw}, {top.namespace}, {_lit(name)}, {wrt}, "
                f"single={target.single}, with_value={with_value}{seed}\n)"
            )
        lines.append(
            f"_register({alias}, {_lit(target.path)}, grad={grad_name}, "
            f"value_and_grad={vg_name})"
        )
    out.append("\n".join(lines))
    return "\n\n\n".join(part.strip("\n") for part in out) + "\n"


# -----------------------------------------------------------------------------
# Checking
# -----------------------------------------------------------------------------


def _fingerprints(text: str) -> dict[str, str]:
    for line in text.splitlines()[:10]:
        if line.startswith(FINGERPRINTS):
            try:
                data = json.loads(line[len(FINGERPRINTS) :])
            except ValueError:
                return {}
            return (
                {str(k): str(v) for k, v in data.items()}
                if isinstance(data, dict)
                else {}
            )
    return {}


def stale(
    module: str | types.ModuleType, out_path: str, functions: Sequence[str] = ()
) -> list[str]:
    """The functions whose code in ``out_path`` is not what would be generated
    now ([] when the file is up to date; ``["<module>"]`` when only the
    module-level parts differ, e.g. the run-time helpers)."""
    fresh = generate(module, functions, out_path)
    try:
        current = Path(out_path).read_text(encoding="utf-8")
    except OSError:
        current = ""
    if current == fresh:
        return []
    old, new = _fingerprints(current), _fingerprints(fresh)
    names = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
    return names or ["<module>"]


# -----------------------------------------------------------------------------
# Command line
# -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``s2s-ad codegen`` and ``tools/s2s_codegen.py``."""
    parser.add_argument(
        "module", metavar="MODULE", help="a Python file or an importable module name"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.py",
        help="the module to write (default: print it)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write: exit 1, naming the functions, if OUT.py is stale",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME[:WRT][:MODE]",
        help="also generate NAME (WRT: comma-separated parameter names or "
        "positions; MODE: reverse or forward); repeatable",
    )


def run(args: argparse.Namespace) -> int:
    """Carry out parsed ``codegen`` arguments; the exit status."""
    if args.check:
        if not args.output:
            raise CodegenError("--check needs -o OUT.py")
        names = stale(args.module, args.output, args.function)
        if names:
            sys.stderr.write(
                f"{args.output} is stale for: {', '.join(names)} "
                f"(regenerate with: s2s-ad codegen {args.module} -o {args.output})\n"
            )
            return 1
        sys.stdout.write(f"{args.output} is up to date\n")
        return 0
    text = generate(args.module, args.function, args.output)
    if not args.output:
        sys.stdout.write(text)
        return 0
    directory = os.path.dirname(os.path.abspath(args.output))
    temp = os.path.join(directory, f".{os.path.basename(args.output)}.tmp{os.getpid()}")
    with open(temp, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)
    os.replace(temp, args.output)
    return 0


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """``tools/s2s_codegen.py``: the same as ``s2s-ad codegen``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write the derivatives of a module's functions to a "
        "standalone module that does not need s2s_ad.",
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return run(args)
    except S2SError as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return 1
