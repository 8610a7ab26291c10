"""The persistent cache: generated derivatives on disk, shared by processes.

The in-memory cache (:mod:`s2s_ad.cache`) asks this module for an entry
before transforming, and hands it every new artifact to store.  An entry is
one JSON file holding the generated text of each unit and what is needed to
bind it again without transforming: the injected objects as import
references (module and attribute path), the references between units, the
generated names, roles and parameters.  User functions are found again
through the same dependency discovery as the memory key.

Guarantees:

* **Never stale.**  The key covers the source text and first line of the
  differentiated function and of every user function transformed with it;
  the options (wrt, mode, argument kinds); what every free name of those
  sources refers to (modules by name, callables by qualified name and rule,
  other values by type); the content of the rule registry; the source of
  s2s_ad itself and its version; and the versions of Python, NumPy, gast and
  astor.  A request whose inputs cannot be described that way is neither
  stored nor looked up.
* **Never half an entry.**  Entries are written to a temporary file in the
  cache directory and renamed over the final name (``os.replace``), so a
  reader sees a whole entry or none, whatever other processes do.
  Processes racing on the same key each write a complete, equivalent entry.
* **Never executed unchecked.**  Each entry stores the sha256 of its
  content; an entry that does not parse, does not match its hash or its key,
  was written by another user or is writable by others is ignored (and
  replaced by a fresh one), before any of its text is compiled or any of
  its references imported.
* **Never used from a directory others can write to.**  The directory is
  created private (``0o700``); if it is writable by its group or by others,
  or owned by another user, it is not used, with a :class:`CacheDirWarning`
  saying so, and gradients are made without the disk cache.
* **Never a failure.**  A directory that cannot be created, a full disk or a
  bad entry costs a transformation, nothing more.

Location: :func:`set_cache_dir` if called, else the environment variable
``S2S_AD_CACHE_DIR``, else the platform's user cache directory plus
``s2s_ad`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows).
``S2S_AD_CACHE_DIR=off`` and ``set_cache_dir(None)`` disable it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import logging
import os
import re
import stat
import sys
import tempfile
import threading
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Union

import astor
import gast
import numpy as np

import s2s_ad
from s2s_ad import astutil as A
from s2s_ad import emit, ops
from s2s_ad.naming import Namer
from s2s_ad.program import Artifact, Unit, cellnames, code_filename
from s2s_ad.rules import registry
from s2s_ad.source import _MISSING, FunctionSource

__all__ = [
    "CacheDirWarning",
    "cache_dir",
    "clear",
    "default_cache_dir",
    "info",
    "object_reference",
    "resolve_reference",
    "set_cache_dir",
]

log = logging.getLogger("s2s_ad.diskcache")

#: Bumped whenever the layout of an entry changes.
FORMAT = 1
ENV_VAR = "S2S_AD_CACHE_DIR"
_OFF = {"off", "none", "no", "false", "0", "disable", "disabled"}
_ENTRY = re.compile(r"^[0-9a-f]{64}\.json$")
_TEMP_PREFIX = ".tmp-"
_MAX_ENTRY_BYTES = 64 * 1024 * 1024

PathLike = Union[str, "os.PathLike[str]"]


class CacheDirWarning(UserWarning):
    """The cache directory is unsafe (writable by others), so it is not used."""


# -----------------------------------------------------------------------------
# Where the cache lives
# -----------------------------------------------------------------------------

_AUTO = object()
_override: list[Any] = [_AUTO]  # set_cache_dir's setting
_checked: dict[str, tuple[bool, str]] = {}  # directory -> (usable, reason)
_lock = threading.Lock()


def default_cache_dir() -> Path:
    """The platform's user cache directory for s2s_ad (not created)."""
    home = Path.home()
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else home / "AppData" / "Local"
        return root / "s2s_ad" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "s2s_ad"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache"
    return root / "s2s_ad"


def set_cache_dir(path: PathLike | None | object = _AUTO) -> None:
    """Choose the on-disk cache directory for this process.

    ``set_cache_dir("some/dir")`` uses that directory (created on first use),
    ``set_cache_dir(None)`` disables the disk cache, and ``set_cache_dir()``
    goes back to the default: ``$S2S_AD_CACHE_DIR``, else the platform's
    user cache directory.  The in-memory cache is not affected.
    """
    if path is not _AUTO and path is not None:
        path = os.fspath(path)  # type: ignore[arg-type]
        if str(path).strip().lower() in _OFF:
            path = None
    with _lock:
        _override[0] = path


def configured_dir() -> tuple[Path | None, str]:
    """The configured directory (None: disabled) and where the setting came from."""
    setting = _override[0]
    if setting is not _AUTO:
        if setting is None:
            return None, "set_cache_dir(None)"
        return Path(os.path.abspath(str(setting))), "set_cache_dir()"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        if env.lower() in _OFF:
            return None, f"{ENV_VAR}={env}"
        return Path(os.path.abspath(env)), ENV_VAR
    return default_cache_dir(), "default"


def _unsafe(st: os.stat_result) -> str | None:
    """Why a directory or entry with this status must not be trusted."""
    if os.name != "posix":
        return None
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if st.st_mode & stat.S_IWOTH else "its group"
        return f"it is writable by others ({who}; mode {stat.S_IMODE(st.st_mode):04o})"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it is owned by another user (uid {st.st_uid})"
    return None


def _check_dir(path: Path) -> tuple[bool, str]:
    key = str(path)
    with _lock:
        if key in _checked:
            return _checked[key]
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        result = (False, f"cannot create it ({exc.strerror or exc})")
    else:
        if not stat.S_ISDIR(st.st_mode):
            result = (False, "it is not a directory")
        else:
            reason = _unsafe(st)
            result = (False, reason) if reason else (True, "")
            if reason:
                warnings.warn(
                    f"s2s_ad: not using the cache directory {path}: {reason}. "
                    "Its entries are code that gets executed, so gradients are "
                    f"made without the disk cache. Fix it with 'chmod go-w {path}' "
                    f"or choose another directory with {ENV_VAR}.",
                    CacheDirWarning,
                    stacklevel=4,
                )
    with _lock:
        _checked[key] = result
    return result


def cache_dir() -> Path | None:
    """The directory in use (created if needed), or None if the disk cache is
    disabled or the directory is unusable."""
    path, _ = configured_dir()
    if path is None:
        return None
    usable, _ = _check_dir(path)
    return path if usable else None


# -----------------------------------------------------------------------------
# Import references: how an injected object is found again in another process
# -----------------------------------------------------------------------------


def resolve_reference(module: str, path: str) -> Any:
    """Import ``module`` and follow the dotted attribute ``path`` (may be "")."""
    obj: Any = importlib.import_module(module)
    for part in path.split(".") if path else ():
        obj = getattr(obj, part)
    return obj


def object_reference(obj: Any) -> tuple[str, str] | None:
    """``(module, attribute path)`` that imports back to ``obj`` itself, or
    None when there is none (instances, local functions, lambdas...)."""
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
        return (name, "") if sys.modules.get(name) is obj else None
    module = getattr(obj, "__module__", None)
    if isinstance(obj, np.ufunc):
        module = "numpy"
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if "<" in qualname or module not in sys.modules:
        return None
    try:
        found = resolve_reference(module, qualname)
    except (ImportError, AttributeError):
        return None
    return (module, qualname) if found is obj else None


# -----------------------------------------------------------------------------
# The key
# -----------------------------------------------------------------------------

_memo: dict[str, Any] = {}


def _file_digest(path: str) -> str:
    memo = _memo.setdefault("files", {})
    if path not in memo:
        try:
            memo[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            memo[path] = "unreadable"
    return memo[path]


def _package_digest() -> str:
    """sha256 of s2s_ad's own sources: editing the compiler invalidates entries."""
    if "package" not in _memo:
        root = Path(s2s_ad.__file__).parent
        digest = hashlib.sha256()
        for file in sorted(root.rglob("*.py")):
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
        _memo["package"] = digest.hexdigest()
    return _memo["package"]


def _versions() -> tuple[Any, ...]:
    return (
        FORMAT,
        s2s_ad.__version__,
        sys.implementation.name,
        tuple(sys.version_info[:3]),
        np.__version__,
        getattr(gast, "__version__", "?"),
        getattr(astor, "__version__", "?"),
    )


def _template_fingerprint(source: Any) -> Any:
    if source is None:
        return None
    function = getattr(source, "function", None)
    if function is not None:
        try:
            file = inspect.getsourcefile(function) or "?"
        except TypeError:
            file = "?"
        line = getattr(getattr(function, "__code__", None), "co_firstlineno", 0)
        return ("function", os.path.basename(file), line, _file_digest(file))
    text = getattr(source, "text", None) or ""
    return ("text", hashlib.sha256(text.encode()).hexdigest())


def _registry_digest() -> str:
    """sha256 of the rule registry's content (cached per registry generation)."""
    generation = registry.generation()
    memo = _memo.get("registry")
    if memo is not None and memo[0] == generation:
        return memo[1]
    items = []
    for rule in registry.registered():
        items.append(
            repr(
                (
                    rule.label,
                    rule.nondifferentiable,
                    rule.linear,
                    getattr(rule, "elementwise_derivatives", None),
                    getattr(rule, "elementwise_params", None),
                    _template_fingerprint(getattr(rule, "reverse_source", None)),
                    _template_fingerprint(getattr(rule, "forward_source", None)),
                )
            )
        )
    digest = hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()
    _memo["registry"] = (generation, digest)
    return digest


def _describe(obj: Any) -> Any:
    """What an object a source refers to means to the compiler, stably across
    processes (never an id)."""
    if obj is _MISSING:
        return ("missing",)
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__)
    rule = registry.lookup(obj) if callable(obj) else None
    if callable(obj) or isinstance(obj, type):
        module = getattr(obj, "__module__", None)
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        if isinstance(module, str) and isinstance(name, str):
            return (
                "callable",
                module,
                name,
                type(obj).__qualname__,
                rule.label if rule is not None else None,
                ops.is_user_function(obj),
            )
    kind = type(obj)
    return ("value", kind.__module__, kind.__qualname__)


def _ident(src: FunctionSource) -> tuple[str, str, str, int]:
    return (src.filename, src.name, src.digest, int(src.node.lineno))


def _free_names(src: FunctionSource) -> list[str]:
    return sorted(A.names_loaded(src.node) - A.names_stored(src.node))


def disk_key(
    wrt: tuple[str, ...],
    mode: str,
    kinds: Any,
    src: FunctionSource,
    deps: dict[int, FunctionSource],
    seeded: bool = True,
) -> str | None:
    """The on-disk key, or None when the request cannot be keyed stably."""
    idents = [_ident(s) for s in deps.values()]
    if len(set(idents)) != len(idents):
        return None  # two functions with the same source: cannot tell apart
    names = []
    for s in sorted(deps.values(), key=_ident):
        for name in _free_names(s):
            names.append((s.digest, name, _describe(s.namespace.lookup(name))))
    parts = (
        _versions(),
        _package_digest(),
        _registry_digest(),
        mode,
        seeded,
        tuple(wrt),
        repr(kinds),
        _ident(src),
        tuple(sorted(idents)),
        tuple(names),
    )
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


# -----------------------------------------------------------------------------
# Entries
# -----------------------------------------------------------------------------


def _body_digest(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(
    artifact: Artifact, key: str, func: Callable[..., Any], deps: dict[int, Any]
) -> dict[str, Any] | None:
    by_id = {id(s.func): s for s in deps.values()}
    units = []
    for i, unit in enumerate(artifact.units):
        dep = by_id.get(id(unit.func))
        if dep is None or (i == 0 and unit.func is not func):
            log.debug("not stored: %s is not among the discovered sources", unit.func)
            return None
        injections = {}
        for name, obj in unit.injections.items():
            ref = object_reference(obj)
            if ref is None:
                log.debug("not stored: injection %s=%r is not importable", name, obj)
                return None
            injections[name] = list(ref)
        units.append(
            {
                "role": unit.role,
                "source": list(_ident(dep)),
                "names": dict(unit.names),
                "params": list(unit.params),
                "injections": injections,
                "refs": {n: [int(t), str(w)] for n, (t, w) in unit.refs.items()},
                "text": unit.text,
            }
        )
    body = {
        "format": FORMAT,
        "key": key,
        "s2s_ad": s2s_ad.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "function": getattr(func, "__qualname__", "?"),
        "wrt": list(artifact.wrt),
        "mode": artifact.mode,
        "units": units,
    }
    return {"sha256": _body_digest(body), "body": body}


def _decode(
    entry: Any,
    key: str,
    func: Callable[..., Any],
    src: FunctionSource,
    deps: dict[int, FunctionSource],
) -> Artifact | None:
    """An Artifact from a verified entry, or None.  Nothing is compiled or
    imported before the hash and the key have been checked."""
    if not isinstance(entry, dict) or not isinstance(entry.get("body"), dict):
        return None
    body = entry["body"]
    if entry.get("sha256") != _body_digest(body):
        log.warning("s2s_ad: ignoring a corrupted disk cache entry %s", key)
        return None
    if body.get("format") != FORMAT or body.get("key") != key:
        return None
    by_ident = {_ident(s): s for s in deps.values()}
    units: list[Unit] = []
    for i, data in enumerate(body["units"]):
        dep = src if i == 0 else by_ident.get(tuple(data["source"]))
        if dep is None or (i > 0 and dep.func is None):
            return None
        injections = {
            name: resolve_reference(str(mod), str(path))
            for name, (mod, path) in data["injections"].items()
        }
        unit = Unit(
            func=func if i == 0 else dep.func,
            src=dep,
            role=str(data["role"]),
            names={str(k): str(v) for k, v in data["names"].items()},
            params=[str(p) for p in data["params"]],
            namer=Namer(A.all_names(dep.node)),
            injections=injections,
            refs={str(n): (int(t), str(w)) for n, (t, w) in data["refs"].items()},
            local_names=A.names_stored(dep.node),
            text=str(data["text"]),
        )
        unit.code = emit.compile_text(
            unit.text, code_filename(dep, i, unit.text), cellnames(unit)
        )
        units.append(unit)
    if not units:
        return None
    source = "\n\n".join(u.text for u in units)
    wrt = tuple(str(w) for w in body["wrt"])
    return Artifact(units=units, source=source, wrt=wrt, mode=str(body["mode"]))


def _read(path: Path) -> Any:
    """The parsed JSON of an entry file we can trust, or None."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(file.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_ENTRY_BYTES:
            return None
        reason = _unsafe(st)
        if reason:
            log.warning("s2s_ad: ignoring disk cache entry %s: %s", path, reason)
            return None
        data = file.read()
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        log.warning("s2s_ad: ignoring an unreadable disk cache entry %s", path)
        return None


def _write(directory: Path, key: str, entry: dict[str, Any]) -> None:
    data = json.dumps(entry, sort_keys=True, indent=1).encode("utf-8")
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, directory / f"{key}.json")
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


@dataclass
class Request:
    """One gradient request, as the memory cache hands it to the disk cache."""

    func: Callable[..., Any]
    wrt: tuple[str, ...]
    mode: str
    kinds: Any
    src: FunctionSource
    deps: dict[int, FunctionSource]
    seeded: bool = True

    def __post_init__(self) -> None:
        self._key: str | None | object = _AUTO
        self._dir: Path | None = None

    def _where(self) -> tuple[Path, str] | None:
        if self._key is _AUTO:
            self._dir = cache_dir()
            self._key = None
            if self._dir is not None:
                try:
                    self._key = disk_key(
                        self.wrt,
                        self.mode,
                        self.kinds,
                        self.src,
                        self.deps,
                        self.seeded,
                    )
                except Exception:
                    log.debug("cannot key %s", self.func, exc_info=True)
        if self._dir is None or not isinstance(self._key, str):
            return None
        return self._dir, self._key

    def load(self) -> Artifact | None:
        """The stored artifact, or None (absent, stale, corrupted or unusable)."""
        where = self._where()
        if where is None:
            return None
        directory, key = where
        entry = _read(directory / f"{key}.json")
        if entry is None:
            return None
        try:
            artifact = _decode(entry, key, self.func, self.src, self.deps)
        except Exception:
            # The content passed its hash check: an entry of an incompatible
            # layout or a reference that no longer imports, not corruption.
            log.debug("cannot use disk cache entry %s", key, exc_info=True)
            return None
        if artifact is not None:
            log.debug("disk cache hit %s for %s", key, self.src.name)
        return artifact

    def store(self, artifact: Artifact) -> None:
        """Write ``artifact`` (silently skipped if it cannot be stored)."""
        where = self._where()
        if where is None:
            return
        directory, key = where
        try:
            entry = _encode(artifact, key, self.func, self.deps)
            if entry is not None:
                _write(directory, key, entry)
                log.debug("stored %s for %s", key, self.src.name)
        except Exception:
            log.debug("cannot store %s", key, exc_info=True)


# -----------------------------------------------------------------------------
# Maintenance: `s2s-ad cache info` and `s2s-ad cache clear`
# -----------------------------------------------------------------------------


def _files(directory: Path) -> tuple[list[Path], list[Path]]:
    entries, temps = [], []
    try:
        children = list(directory.iterdir())
    except OSError:
        return entries, temps
    for child in children:
        if _ENTRY.match(child.name):
            entries.append(child)
        elif child.name.startswith(_TEMP_PREFIX) and child.name.endswith(".json"):
            temps.append(child)
    return entries, temps


def info() -> dict[str, Any]:
    """The disk cache's state: directory, where it was configured, whether it
    is used (and why not), and how many entries and bytes it holds."""
    path, origin = configured_dir()
    result: dict[str, Any] = {
        "directory": str(path) if path is not None else None,
        "configured_by": origin,
        "enabled": False,
        "reason": "disabled" if path is None else "",
        "entries": 0,
        "bytes": 0,
    }
    if path is None:
        return result
    usable, reason = _check_dir(path)
    result["enabled"] = usable
    result["reason"] = reason
    entries, _ = _files(path)
    result["entries"] = len(entries)
    for entry in entries:
        try:
            result["bytes"] += entry.stat().st_size
        except OSError:
            pass
    return result


def clear() -> int:
    """Delete every entry (and leftover temporary file) in the configured
    directory; only files named like entries are touched.  Returns how many
    entries were deleted."""
    path, _ = configured_dir()
    if path is None or not path.is_dir():
        return 0
    entries, temps = _files(path)
    removed = 0
    for file in entries + temps:
        try:
            file.unlink()
        except OSError:
            continue
        if file in entries:
            removed += 1
    return removed
