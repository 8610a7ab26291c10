"""Programs whose generated source is pinned byte for byte (tests/golden/)."""

import numpy as np


def seed(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def loop_with_break(x, n):
    total = 0.0
    for i in range(n):
        if total > 10.0:
            break
        total = total + x * i
    return total


def branches(x, y):
    if x > y:
        z = x * y
    elif x > 0:
        z = np.sin(x)
    else:
        return y**2
    return z + x


GOLDEN = {
    "seed": (seed, ("x1", "x2")),
    "loop_with_break": (loop_with_break, ("x",)),
    "branches": (branches, ("x", "y")),
}
