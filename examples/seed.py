"""The worked example from the seed page, differentiated by s2s_ad.

    f(x1, x2) = x1 * exp(-(x1**2 + x2**2) / 2)      at (x1, x2) = (2, 1/2)

Reverse mode runs f once forward, then walks its operations backwards,
accumulating adjoints from the seed  d f / d f = 1.  By hand:

    df/dx1 = exp(-2.125) * (1 - x1**2)   = -0.358299...
    df/dx2 = -x1 * x2 * exp(-2.125)      = -0.119433...

Run it:  python examples/seed.py
Or see only the generated code:  python -m s2s_ad --show-source examples/seed.py:f
"""

import numpy as np

from s2s_ad import differentiate


@differentiate(wrt=("x1", "x2"))
def f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


EXPECTED_VALUE = 0.238866
EXPECTED_GRADIENT = (-0.358299, -0.119433)


def main():
    x1, x2 = 2.0, 0.5
    value, (d_x1, d_x2) = f.value_and_grad(x1, x2)

    print(f"f(x1, x2) = x1 * exp(-(x1**2 + x2**2) / 2)   at x1 = {x1}, x2 = {x2}")
    print()
    print(f"  value      {value: .6f}    (seed: {EXPECTED_VALUE: .6f})")
    print(f"  df/dx1     {d_x1: .6f}    (seed: {EXPECTED_GRADIENT[0]: .6f})")
    print(f"  df/dx2     {d_x2: .6f}    (seed: {EXPECTED_GRADIENT[1]: .6f})")
    print()
    print("Generated source (forward sweep, then the reversed adjoint statements):")
    print()
    for line in f.source.rstrip().splitlines():
        print("    " + line)

    ok = np.allclose(
        [value, d_x1, d_x2], [EXPECTED_VALUE, *EXPECTED_GRADIENT], atol=1e-6
    )
    print()
    print("matches the seed's numbers" if ok else "DOES NOT match the seed's numbers")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
