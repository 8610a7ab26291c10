"""Logistic regression: mean cross-entropy on 1e5 x 10 data."""

import numpy as np

from benchmarks.workloads import Workload


def logistic_loss(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def hand(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    value = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    r = (p - y) / len(y)
    return value, (X.T @ r, np.sum(r))


def make_args():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100_000, 10))
    w_true = rng.normal(size=10)
    y = (X @ w_true + rng.normal(size=100_000) > 0).astype(float)
    return 0.1 * rng.normal(size=10), 0.0, X, y


WORKLOADS = [
    Workload("logistic", logistic_loss, hand, make_args, ("w", "b"), "1e5 x 10 data"),
]
