"""In-memory cache of generated derivatives.

Key: a hash of the source text (and file) of the differentiated function and
of every user function it calls, transitively, plus the options and the
s2s_ad version.  Editing any of those sources changes the key, so a stale
derivative is never returned.  Guarantees: :func:`get_or_build` runs the
builder at most once per key in a process; :func:`cache_info` counts hits and
misses (a miss is a transformation actually run).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable
from typing import Any, Callable

_LOCK = threading.Lock()
_ENTRIES: dict[str, Any] = {}
_COUNTS = {"hits": 0, "misses": 0}


def make_key(parts: tuple[Hashable, ...]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def get_or_build(key: str, build: Callable[[], Any]) -> Any:
    with _LOCK:
        if key in _ENTRIES:
            _COUNTS["hits"] += 1
            return _ENTRIES[key]
    value = build()
    with _LOCK:
        _COUNTS["misses"] += 1
        _ENTRIES.setdefault(key, value)
        return _ENTRIES[key]


def cache_info() -> dict[str, int]:
    """``{"hits", "misses", "memory_hits", "entries"}`` for this process."""
    with _LOCK:
        return {
            "hits": _COUNTS["hits"],
            "memory_hits": _COUNTS["hits"],
            "misses": _COUNTS["misses"],
            "entries": len(_ENTRIES),
        }


def clear() -> None:
    """Forget every cached derivative (counts too)."""
    with _LOCK:
        _ENTRIES.clear()
        _COUNTS["hits"] = 0
        _COUNTS["misses"] = 0
