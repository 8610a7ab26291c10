"""In-memory cache of generated derivatives.

Key: a hash of the source text (and file) of the differentiated function and
of every user function it calls, transitively, plus the options and the
s2s_ad version.  Editing any of those sources changes the key, so a stale
derivative is never returned.  Guarantees: :func:`get_or_build` runs the
builder at most once per key in a process, and asks the on-disk cache
(:mod:`s2s_ad.diskcache`) before running it; :func:`cache_info` counts
memory hits, disk hits and misses (a miss is a transformation actually run).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable
from typing import Any, Callable

_LOCK = threading.Lock()
_ENTRIES: dict[str, Any] = {}
_COUNTS = {"hits": 0, "disk_hits": 0, "misses": 0}


def make_key(parts: tuple[Hashable, ...]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def get_or_build(key: str, build: Callable[[], Any], disk: Any = None) -> Any:
    """The entry for ``key``: from memory, else from ``disk`` (an object with
    ``load() -> value | None`` and ``store(value)``), else built (and stored)."""
    with _LOCK:
        if key in _ENTRIES:
            _COUNTS["hits"] += 1
            return _ENTRIES[key]
    value = disk.load() if disk is not None else None
    counter = "disk_hits"
    if value is None:
        value = build()
        counter = "misses"
        if disk is not None:
            disk.store(value)
    with _LOCK:
        _COUNTS[counter] += 1
        _ENTRIES.setdefault(key, value)
        return _ENTRIES[key]


def cache_info() -> dict[str, Any]:
    """Counts for this process: ``memory_hits`` (also ``hits``), ``disk_hits``,
    ``misses`` (transformations run) and ``entries`` (in memory), and
    ``disk_dir``, the on-disk cache directory in use (None if none)."""
    from s2s_ad import diskcache

    directory = diskcache.cache_dir()
    with _LOCK:
        return {
            "hits": _COUNTS["hits"],
            "memory_hits": _COUNTS["hits"],
            "disk_hits": _COUNTS["disk_hits"],
            "misses": _COUNTS["misses"],
            "entries": len(_ENTRIES),
            "disk_dir": str(directory) if directory is not None else None,
        }


def clear() -> None:
    """Forget every cached derivative (counts too)."""
    with _LOCK:
        _ENTRIES.clear()
        for name in _COUNTS:
            _COUNTS[name] = 0
