"""Trace memory: what the gradient's forward sweep keeps for the reverse sweep.

A loop of n iterations is run once by itself and once through s2s_ad's
``value_and_grad``, each under ``tracemalloc`` (NumPy reports its array
buffers to it too).  The trace is the gradient's peak minus the function's
peak; divided by n it is the bytes pushed per iteration.  The derivative is
generated and run once before measuring, so only run-time memory counts.
"""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from s2s_ad import value_and_grad


def scalar_loop(k, c, steps):
    x = 1.0
    v = 0.0
    total = 0.0
    for i in range(steps):
        a = -k * x - c * v
        x = x + 0.01 * v
        v = v + 0.01 * a
        total = total + x * x
    return total


def array_loop(w, x, steps):
    for i in range(steps):
        x = np.tanh(w * x + 0.1)
    return np.sum(x)


@dataclass
class MemoryResult:
    loop: str
    iterations: int
    function_peak: int
    gradient_peak: int

    @property
    def trace(self) -> int:
        return self.gradient_peak - self.function_peak

    @property
    def per_iteration(self) -> float:
        return self.trace / self.iterations


def peak_bytes(call: Callable[..., Any], *args: Any) -> int:
    """Peak bytes allocated (and not yet freed) while ``call(*args)`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call(*args)
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - base


CASES = (
    ("floats: 4 scalar statements", scalar_loop, ("k", "c"), lambda n: (4.0, 0.3, n)),
    (
        "arrays: tanh of 100 float64",
        array_loop,
        ("w",),
        lambda n: (np.full(100, 0.9), np.linspace(-1.0, 1.0, 100), n),
    ),
)


def run(sizes: tuple[int, ...]) -> list[MemoryResult]:
    results = []
    for label, func, wrt, make in CASES:
        vg = value_and_grad(func, wrt=wrt)
        vg(*make(3))  # transform now, not while tracing
        for n in sizes:
            args = make(n)
            results.append(
                MemoryResult(
                    label,
                    n,
                    peak_bytes(func, *args),
                    peak_bytes(vg, *args),
                )
            )
    return results
