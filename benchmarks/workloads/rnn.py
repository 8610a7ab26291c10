"""A tanh RNN unrolled over T = 50 steps in a Python loop."""

import numpy as np

from benchmarks.workloads import Workload

T, BATCH, INPUT, HIDDEN = 50, 16, 32, 64


def rnn_loss(Wx, Wh, xs, target):
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return 0.5 * np.sum((h - target) ** 2)


def hand(Wx, Wh, xs, target):
    hs = [np.zeros((xs.shape[1], Wh.shape[0]))]
    for t in range(len(xs)):
        hs.append(np.tanh(xs[t] @ Wx + hs[-1] @ Wh))
    diff = hs[-1] - target
    value = 0.5 * np.sum(diff**2)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    dh = diff
    for t in range(len(xs) - 1, -1, -1):
        da = dh * (1.0 - hs[t + 1] ** 2)
        dWx += xs[t].T @ da
        dWh += hs[t].T @ da
        dh = da @ Wh.T
    return value, (dWx, dWh)


def make_args():
    rng = np.random.default_rng(3)
    Wx = rng.normal(scale=INPUT**-0.5, size=(INPUT, HIDDEN))
    Wh = rng.normal(scale=0.9 * HIDDEN**-0.5, size=(HIDDEN, HIDDEN))
    xs = rng.normal(size=(T, BATCH, INPUT))
    target = rng.uniform(-0.5, 0.5, size=(BATCH, HIDDEN))
    return Wx, Wh, xs, target


WORKLOADS = [
    Workload(
        "rnn",
        rnn_loss,
        hand,
        make_args,
        ("Wx", "Wh"),
        f"T={T}, hidden {HIDDEN}, input {INPUT}, batch {BATCH}",
    ),
]
