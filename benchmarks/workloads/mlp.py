"""A tanh MLP 784-256-10 on a batch of 128, softmax cross-entropy loss."""

import numpy as np

from benchmarks.workloads import Workload


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * (z - lse), axis=1))


def hand(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    ez = np.exp(z)
    s = np.sum(ez, axis=1, keepdims=True)
    value = -np.mean(np.sum(Y * (z - np.log(s)), axis=1))
    dz = (ez / s * np.sum(Y, axis=1, keepdims=True) - Y) / n
    dW2 = h.T @ dz
    db2 = np.sum(dz, axis=0)
    da = (dz @ W2.T) * (1.0 - h * h)
    dW1 = X.T @ da
    db1 = np.sum(da, axis=0)
    return value, (dW1, db1, dW2, db2)


def make_args():
    rng = np.random.default_rng(2)
    W1 = rng.normal(scale=784**-0.5, size=(784, 256))
    b1 = np.zeros(256)
    W2 = rng.normal(scale=256**-0.5, size=(256, 10))
    b2 = np.zeros(10)
    X = rng.normal(size=(128, 784))
    Y = np.eye(10)[rng.integers(0, 10, size=128)]
    return W1, b1, W2, b2, X, Y


WORKLOADS = [
    Workload(
        "mlp",
        mlp_loss,
        hand,
        make_args,
        ("W1", "b1", "W2", "b2"),
        "784-256-10 tanh, batch 128",
    ),
]
