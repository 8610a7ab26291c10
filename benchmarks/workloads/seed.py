"""The seed example: f(x1, x2) = x1 exp(-(x1² + x2²)/2) on Python floats."""

import numpy as np

from benchmarks.workloads import Workload


def f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def hand(x1, x2):
    e = np.exp(-0.5 * (x1 * x1 + x2 * x2))
    return x1 * e, (e * (1.0 - x1 * x1), -x1 * x2 * e)


def make_args():
    return (2.0, 0.5)


WORKLOADS = [
    Workload("seed", f, hand, make_args, ("x1", "x2"), "scalars (2.0, 0.5)"),
]
