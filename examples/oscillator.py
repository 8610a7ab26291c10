"""Fitting a damped oscillator's stiffness and damping to observations.

A mass on a spring, x'' = -k x - c x', is stepped with semi-implicit Euler in
an ordinary Python loop.  s2s_ad differentiates the whole simulation, loop
included, with respect to the physical parameters k and c: the reverse sweep
walks the time steps backwards, reading each step's saved state.  With those
gradients, sixty steps of gradient descent recover the parameters
that produced the observations.

Run it:  python examples/oscillator.py
"""

import numpy as np

from s2s_ad import value_and_grad

DT = 0.05
STEPS = 120


def simulate(k, c, steps):
    """Positions x(t) for t = DT, 2 DT, ..., starting at rest from x = 1."""
    x = 1.0
    v = 0.0
    positions = np.zeros(steps)
    for i in range(steps):
        a = -k * x - c * v
        v = v + DT * a
        x = x + DT * v
        positions[i] = x
    return positions


def misfit(k, c, observed):
    """Sum of squared gaps between the simulated and the observed positions."""
    x = 1.0
    v = 0.0
    total = 0.0
    for i in range(len(observed)):
        a = -k * x - c * v
        v = v + DT * a
        x = x + DT * v
        total = total + (x - observed[i]) ** 2
    return total


def main():
    true_k, true_c = 4.0, 0.3
    observed = simulate(true_k, true_c, STEPS)

    k, c = 3.0, 1.0
    objective = value_and_grad(misfit, wrt=("k", "c"))

    value, (d_k, d_c) = objective(k, c, observed)
    eps = 1e-6
    fd_k = (misfit(k + eps, c, observed) - misfit(k - eps, c, observed)) / (2 * eps)
    fd_c = (misfit(k, c + eps, observed) - misfit(k, c - eps, observed)) / (2 * eps)
    gradient_ok = np.allclose([d_k, d_c], [fd_k, fd_c], rtol=1e-5)
    print(f"at k = {k}, c = {c}:  misfit {value:.4f}")
    print(f"  d misfit/dk = {d_k: .6f}   (finite differences {fd_k: .6f})")
    print(f"  d misfit/dc = {d_c: .6f}   (finite differences {fd_c: .6f})")
    print()

    learning_rate = 0.01
    for step in range(61):
        value, (d_k, d_c) = objective(k, c, observed)
        if step % 15 == 0:
            print(f"step {step:3d}   misfit {value:9.2e}   k = {k:.4f}   c = {c:.4f}")
        k -= learning_rate * d_k
        c -= learning_rate * d_c

    print()
    print(f"recovered k = {k:.3f} (true {true_k}), c = {c:.3f} (true {true_c})")
    recovered = abs(k - true_k) < 1e-3 and abs(c - true_c) < 1e-3
    return 0 if gradient_ok and recovered else 1


if __name__ == "__main__":
    raise SystemExit(main())
