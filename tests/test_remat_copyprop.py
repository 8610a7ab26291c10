"""Rematerialization (s2s_ad.remat) and adjoint copy propagation
(s2s_ad.copyprop): each pass fires where it should, stays away where it
would be wrong, and leaves gradients bit for bit what they were without it.

The programs are built so that a pass ignoring one of its conditions would
change the gradient: an operand reassigned between a temporary's definition
and its last use, a variable read before its definition in the loop body
(the value of the previous pass), temporaries in branches, nested loops.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np
import pytest

import s2s_ad
from benchmarks.workloads.scalar_loop import oscillator
from s2s_ad import program, remat
from s2s_ad.kinds import of_value
from s2s_ad.reverse import reverse_reads
from s2s_ad.source import load
from tests.fd import assert_grad_close, numerical_grad


def build(
    func: Callable[..., Any],
    wrt: tuple[str, ...],
    args: tuple[Any, ...],
    specialise: bool = True,
) -> tuple[str, Callable[..., Any]]:
    """Generated source and gradient function, specialised to ``args``' kinds
    or general, built directly (no cache, so monkeypatched passes count)."""
    params = list(inspect.signature(func).parameters)
    kinds = {p: of_value(a) for p, a in zip(params, args)} if specialise else None
    prog = program.Program(func, wrt, load(func), "reverse", kinds)
    artifact = prog.artifact()
    return artifact.source, program.bind(artifact, func)


def without_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the pass, the reads are found by walking the reverse sweep.
    monkeypatch.setattr(program, "rematerialize", lambda b, f, rev: reverse_reads(rev))
    monkeypatch.setattr(program, "optimize_functions", lambda *a: None)


# -- programs ------------------------------------------------------------------


def operand_reassigned(x, n):
    s = 0.0
    y = x
    for i in range(n):
        t = y * 0.5
        y = y + x  # t's operand changes before t is read below
        s = s + t * y
    return s


def read_before_definition(x, n):
    s = 0.1
    t = 1.0
    for i in range(n):
        s = s * t + x  # the t of the previous pass
        t = s * x
        s = s + t * t  # this pass's t
    return s + t * t


def in_branches(x, n):
    s = 0.2
    for i in range(n):
        if s > 1.0:
            w = s * x
            s = s + w * w  # w recomputed inside the branch
        else:
            t = x + 0.3
            s = s + t * s
        s = s * 0.9
    return s


def after_branch(x, n):
    s = 0.2
    for i in range(n):
        if i % 2 == 0:
            t = x * s
            s = s + t * t  # read in the branch...
        else:
            t = s - x
        s = s + t * x  # ...and after it, whichever branch defined it
    return s


def nested(x, n, m):
    s = 0.1
    for i in range(n):
        a = x * s
        for j in range(m):
            b = a * x  # a's operand s changes in this inner loop
            s = s + b * b * 0.01
        s = s + a * a
    return s


def chained(x, n):
    s = 0.3
    for i in range(n):
        a = s * x
        c = a * s
        b = a * x  # an operand that could itself be recomputed
        s = c + b * b + 0.5
    return s


def while_loop(x, y):
    s = 0.0
    n = 0
    while n < 4:
        t = x * y
        s = s + t * s + t * t
        n = n + 1
    return s


def live_reset(x, y):
    z = x * y
    if z > 0.0:
        z = z * x
    return z + y


def array_copies(x, w):
    y = x * w
    z = y
    return np.sum(z * z)


CASES = [
    (oscillator, ("k", "c"), (4.0, 0.3, 1.0, 0.0, 0.01, 50)),
    (operand_reassigned, ("x",), (0.7, 5)),
    (read_before_definition, ("x",), (0.4, 6)),
    (in_branches, ("x",), (0.8, 7)),
    (after_branch, ("x",), (0.3, 5)),
    (nested, ("x",), (0.5, 3, 4)),
    (chained, ("x",), (0.9, 4)),
    (while_loop, ("x", "y"), (0.6, 0.9)),
    (live_reset, ("x", "y"), (0.5, 1.5)),
    (live_reset, ("x", "y"), (-0.5, 1.5)),
    (array_copies, ("x", "w"), (np.array([1.0, 2.0]), np.array([0.5, -1.0]))),
]
IDS = [f"{func.__name__}-{k}" for k, (func, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("specialise", [True, False], ids=["kinds", "general"])
@pytest.mark.parametrize("func, wrt, args", CASES, ids=IDS)
def test_gradients_agree_with_finite_differences(func, wrt, args, specialise):
    _, grad = build(func, wrt, args, specialise)
    value, grads = grad(*args)
    assert np.all(value == func(*args))
    for name, g in zip(wrt, grads):
        expected = numerical_grad(func, args, wrt=name)
        assert_grad_close(g, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("specialise", [True, False], ids=["kinds", "general"])
@pytest.mark.parametrize("func, wrt, args", CASES, ids=IDS)
def test_gradients_are_exactly_those_without_the_passes(
    func, wrt, args, specialise, monkeypatch
):
    source, optimized = build(func, wrt, args, specialise)
    with monkeypatch.context() as m:
        without_passes(m)
        plain_source, plain = build(func, wrt, args, specialise)
    value, grads = optimized(*args)
    plain_value, plain_grads = plain(*args)
    assert np.array_equal(value, plain_value)
    for g, p in zip(grads, plain_grads):
        assert np.array_equal(g, p)  # bit for bit, not merely close
    assert source.count("\n") <= plain_source.count("\n")


# -- rematerialization ---------------------------------------------------------


def test_loop_temporaries_are_recomputed_not_pushed():
    source, _ = build(oscillator, ("k", "c"), CASES[0][2])
    # u1 = -k (loop-invariant) and u8 = dt * x are read by the reverse sweep.
    assert "u1 = -k" in source and "u8 = dt * x" in source
    assert "trace.append(u1)" not in source
    assert "trace.append(u8)" not in source
    assert "recomputed, not saved: u1 = -k" in source
    rev = source.split("# reverse sweep")[1]
    assert "u1 = -k" in rev and "u8 = dt * x" in rev
    assert "u1 = trace.pop()" not in rev and "u8 = trace.pop()" not in rev
    # x and v are overwritten and cannot be recomputed: still saved.
    assert "trace.append(x)" in source and "trace.append(v)" in source


def test_operand_reassigned_before_the_use_keeps_the_push():
    source, _ = build(operand_reassigned, ("x",), (0.7, 5))
    assert "trace.append(t)" in source
    assert "recomputed" not in source


def test_value_from_the_previous_pass_keeps_the_push():
    source, _ = build(read_before_definition, ("x",), (0.4, 6))
    assert "trace.append(t)" in source
    assert "recomputed" not in source


def test_temporary_inside_a_branch_is_recomputed_there():
    source, _ = build(in_branches, ("x",), (0.8, 7))
    assert "recomputed, not saved: w = s * x" in source
    assert "trace.append(w)" not in source


def test_temporary_read_after_its_branch_keeps_the_push():
    source, _ = build(after_branch, ("x",), (0.3, 5))
    assert "trace.append(t)" in source
    assert "recomputed" not in source


def test_nested_loops_recompute_only_where_operands_are_unchanged():
    source, _ = build(nested, ("x",), (0.5, 3, 4))
    # b = a * x: a and x do not change before b's use in the inner loop.
    assert "recomputed, not saved: b = a * x" in source
    # a = x * s: the inner loop changes s before a is used there.
    assert "trace.append(a)" in source
    assert "recomputed, not saved: a =" not in source


def test_recomputed_operands_are_not_used_to_recompute():
    source, _ = build(chained, ("x",), (0.9, 4))
    assert "recomputed, not saved: a = s * x" in source
    assert "trace.append(b)" in source


def test_general_code_is_not_rematerialized():
    # Without argument kinds a temporary is not known to be a number.
    source = s2s_ad.gradient_source(oscillator, wrt=("k", "c"))
    assert "trace.append(u1)" in source


# -- copy propagation and dead adjoints ------------------------------------------


def test_copy_chains_collapse():
    source, _ = build(oscillator, ("k", "c"), CASES[0][2])
    rev = source.split("# reverse sweep")[1]
    # energy_bar = u10_bar; u9_bar = u10_bar; ... now reads energy_bar directly.
    for name in ("u10_bar", "u9_bar", "u7_bar", "u6_bar", "u5_bar", "u4_bar"):
        assert name not in rev, name
    assert "energy_bar * x" in rev
    # No self-copies and no line comments left without code.
    assert "energy_bar = energy_bar" not in rev


def test_dead_adjoint_resets_go():
    source, _ = build(oscillator, ("k", "c"), CASES[0][2])
    lines = source.splitlines()
    loop = lines.index("    for i in reversed(range(steps)):")
    after = [line for line in lines[loop + 1 :] if not line.startswith("        ")]
    # Resets of adjoints nothing reads again, before the return.
    for reset in ("energy_bar = 0.0", "x_bar = 0.0", "v_bar = 0.0"):
        assert f"    {reset}" not in after
    # The comment of ``energy = 0.0`` only announced its dead reset.
    assert not any("energy = 0.0" in line for line in after)


def test_array_adjoints_are_not_propagated():
    args = CASES[-1][2]
    source, _ = build(array_copies, ("x", "w"), args)
    # z_bar = u1_bar style copies of arrays stay: arrays may be updated in place.
    assert "y_bar = z_bar" in source


@pytest.mark.parametrize("specialise", [True, False], ids=["kinds", "general"])
@pytest.mark.parametrize("func, wrt, args", CASES, ids=IDS)
def test_reads_returned_are_those_of_the_rewritten_sweep(
    func, wrt, args, specialise, monkeypatch
):
    # Program uses what rematerialize returns instead of walking again.
    seen = []

    def checked(builder, fwd, rev):
        reads = remat.rematerialize(builder, fwd, rev)
        seen.append(reads == reverse_reads(rev))
        return reads

    monkeypatch.setattr(program, "rematerialize", checked)
    build(func, wrt, args, specialise)
    assert seen and all(seen)
