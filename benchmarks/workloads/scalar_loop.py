"""A damped oscillator x'' = -k x - c x' stepped by explicit Euler on floats."""

from benchmarks.workloads import Workload

STEPS = 1000


def oscillator(k, c, x0, v0, dt, steps):
    x = x0
    v = v0
    energy = 0.0
    for i in range(steps):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        energy = energy + dt * x * x
    return energy


def acceleration(k, c, x, v):
    return -k * x - c * v


def oscillator_with_helper(k, c, x0, v0, dt, steps):
    """The same steps, the acceleration computed by a helper function."""
    x = x0
    v = v0
    energy = 0.0
    for i in range(steps):
        a = acceleration(k, c, x, v)
        x = x + dt * v
        v = v + dt * a
        energy = energy + dt * x * x
    return energy


def hand(k, c, x0, v0, dt, steps):
    xs = [x0]
    vs = [v0]
    x, v, energy = x0, v0, 0.0
    for _ in range(steps):
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        energy += dt * x * x
        xs.append(x)
        vs.append(v)
    dk = dc = 0.0
    bx = bv = 0.0  # adjoints of the state after the current step
    for i in range(steps, 0, -1):
        bx += 2.0 * dt * xs[i]
        ba = dt * bv
        bx, bv = bx - k * ba, bv + dt * bx - c * ba
        dk -= xs[i - 1] * ba
        dc -= vs[i - 1] * ba
    return energy, (dk, dc)


def make_args():
    return (4.0, 0.3, 1.0, 0.0, 0.01, STEPS)


WORKLOADS = [
    Workload(
        "scalar_loop",
        oscillator,
        hand,
        make_args,
        ("k", "c"),
        f"explicit Euler, {STEPS} steps, Python floats",
        # JAX runs each of the ~10,000 scalar operations through its tracers
        # (seconds a call); jax.jit unrolls the Python loop and compiles the
        # 1000 steps for over a minute.  The full run times both.
        quick_skip={"jax": "seconds a call", "jax.jit": "compiles for > 1 min"},
    ),
    Workload(
        "scalar_loop_helper",
        oscillator_with_helper,
        hand,
        make_args,
        ("k", "c"),
        "scalar_loop with a helper function called per step",
        peers_skip="see scalar_loop",
        targets=False,
    ),
]
