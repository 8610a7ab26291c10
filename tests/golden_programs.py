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


def spring_force(k, x):
    return -k * x


def spring(k, x0, n):
    x = x0
    for i in range(n):
        x = x + 0.1 * spring_force(k, x)
    return x * x


# name: (function, wrt, example arguments or None for the general code)
GOLDEN = {
    "seed": (seed, ("x1", "x2"), None),
    "seed_floats": (seed, ("x1", "x2"), (2.0, 0.5)),
    "loop_with_break": (loop_with_break, ("x",), None),
    "loop_with_break_floats": (loop_with_break, ("x",), (1.5, 4)),
    "branches": (branches, ("x", "y"), None),
    "spring": (spring, ("k",), None),
    "spring_floats": (spring, ("k",), (2.0, 1.0, 5)),
}
