"""The Rosenbrock function of N variables, vectorized."""

import numpy as np

from benchmarks.workloads import Workload


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hand(x):
    head = x[:-1]
    d = x[1:] - head**2
    e = 1.0 - head
    value = np.sum(100.0 * d**2 + e**2)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * head * d - 2.0 * e
    g[1:] += 200.0 * d
    return value, (g,)


def _maker(n):
    def make_args():
        rng = np.random.default_rng(1)
        return (rng.uniform(-1.5, 1.5, size=n),)

    return make_args


WORKLOADS = [
    Workload(
        f"rosenbrock N={n:.0e}".replace("e+0", "e"),
        rosenbrock,
        hand,
        _maker(n),
        ("x",),
        f"x of {n} float64",
    )
    for n in (1_000, 1_000_000)
]
