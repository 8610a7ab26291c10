"""Adaptive, timeit-style timing: medians of repeated, interleaved runs.

Each call is first calibrated: how many calls make one run last at least
``min_time`` (1, 2, 5, 10, 20, ... calls, as ``timeit.Timer.autorange``
does).  Then the calls being compared are timed in rounds, one run of each
per round, so that a burst of load from elsewhere on the machine slows all
of them alike and their ratios stay meaningful; each reports the median
time per call over its runs.  Slow calls get fewer runs so that one
measurement stays within ``budget`` seconds: at least 3, except for a call
slower than ``budget / 3`` by itself, which may be timed only once.  The
garbage collector is left on (a collected cycle is part of what a user
pays) and a full collection runs before each round.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Settings:
    min_time: float  # seconds one run must last at least
    repeats: int  # runs to take the median of
    budget: float  # rough cap on the seconds one measurement takes


QUICK = Settings(min_time=0.02, repeats=3, budget=1.0)
FULL = Settings(min_time=0.2, repeats=7, budget=8.0)


@dataclass
class Timing:
    per_call: float  # median seconds per call
    number: int  # calls per run
    runs: list[float] = field(default_factory=list)  # seconds per call, each run


def _run(call: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return time.perf_counter() - start


@dataclass
class _Plan:
    call: Callable[[], Any]
    number: int
    repeats: int
    runs: list[float]


def _calibrate(call: Callable[[], Any], settings: Settings) -> _Plan:
    number = 1
    while True:
        elapsed = _run(call, number)
        if elapsed >= settings.min_time:
            break
        number = _next_number(number)  # 1, 2, 5, 10, 20, 50, ...
    affordable = int(settings.budget / max(elapsed, 1e-9))
    repeats = min(settings.repeats, max(affordable, 3 if number > 1 else 1))
    return _Plan(call, number, repeats, [elapsed / number])


def measure_all(
    calls: dict[str, Callable[[], Any]],
    settings: Settings,
    progress: Callable[[str], None] = lambda name: None,
) -> dict[str, Timing]:
    """Median seconds per call of each ``call()``, timed in interleaved rounds.

    The calls must be warmed up already (compiled, transformed, cached).
    """
    plans = {}
    for name, call in calls.items():
        progress(name)
        gc.collect()
        plans[name] = _calibrate(call, settings)
    while any(len(p.runs) < p.repeats for p in plans.values()):
        for plan in plans.values():
            if len(plan.runs) < plan.repeats:
                gc.collect()
                plan.runs.append(_run(plan.call, plan.number) / plan.number)
    return {
        name: Timing(statistics.median(p.runs), p.number, p.runs)
        for name, p in plans.items()
    }


def measure(call: Callable[[], Any], settings: Settings) -> Timing:
    """Median seconds per call of one ``call()`` (already warmed up)."""
    return measure_all({"call": call}, settings)["call"]


def _next_number(number: int) -> int:
    digits = 10 ** (len(str(number)) - 1)
    lead = number // digits
    return {1: 2, 2: 5, 5: 10}[lead] * digits


def format_seconds(seconds: float) -> str:
    """``1.23 ms``-style text with three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{_three(seconds / scale)} {unit}"
    return f"{_three(seconds / 1e-9)} ns"


def _three(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"
