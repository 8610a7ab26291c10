"""User functions imported by the programs in ``tests/programs.py``.

They live in their own module so the test table exercises calls to functions
imported from another file (``import program_helpers as ph`` and
``from program_helpers import affine``), whose source and globals differ from
the caller's.
"""

import math

import numpy as np

HELPER_SCALE = 0.75


def scaled_square(x, scale):
    return scale * x * x


def affine(x, w=2.0, b=0.5):
    return w * x + b


def polar(x, y):
    r = math.sqrt(x * x + y * y)
    theta = math.atan2(y, x)
    return r, theta


def dense(x, W, b):
    return np.tanh(x @ W + b)


def inner_poly(x):
    return 3.0 * x**2 - x + 1.0


def outer_poly(x):
    # Calls another helper of this module and reads this module's global.
    return inner_poly(x) * inner_poly(2.0 * x) + HELPER_SCALE * x


def sum_squares_from(xs, i):
    # Recursion over a list: xs[i]**2 + xs[i+1]**2 + ...
    if i == len(xs):
        return 0.0
    return xs[i] ** 2 + sum_squares_from(xs, i + 1)


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def weighted(x, *, weight, bias=0.0):
    return weight * x + bias


def mean_and_spread(v):
    m = np.mean(v)
    s = np.sqrt(np.mean((v - m) ** 2))
    return m, s
