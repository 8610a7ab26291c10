"""Deterministic, collision-free names for generated code.

Guarantees: a :class:`Namer` never returns a name used by the user's code or
returned before, and returns the same sequence for the same input, so the
generated source is byte-stable (golden tests and caching rely on it).
"""

from __future__ import annotations

from collections.abc import Iterable


class Namer:
    """Hands out fresh names, avoiding every name in ``taken``."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken: set[str] = set(taken)
        self._counters: dict[str, int] = {}

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def exact_or_fresh(self, base: str) -> str:
        """``base`` itself when free, else ``base_2``, ``base_3``..."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self.fresh(base + "_")

    def fresh(self, prefix: str) -> str:
        """``prefix1``, ``prefix2``, ... (numbered per prefix)."""
        count = self._counters.get(prefix, 0)
        while True:
            count += 1
            name = f"{prefix}{count}"
            if name not in self.taken:
                self._counters[prefix] = count
                self.taken.add(name)
                return name
