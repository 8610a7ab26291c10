"""Python-float gradients in fewer statements: values of numbers fused into
their one use (recomputed values too), and adjoint accumulations gathered.

End to end, every gradient is checked against central finite differences
and, bit for bit, against the code made without the two rewrites; each
rewrite is checked on small generated-code fragments too, including where
it must not apply.
"""

from __future__ import annotations

import math
import textwrap

import astor
import gast
import numpy as np
import pytest

import s2s_ad
from benchmarks.workloads.scalar_loop import oscillator
from s2s_ad import accumulate
from s2s_ad import program as program_module
from s2s_ad.fusion import Purity, fuse_single_uses
from tests.fd import assert_tree_equal
from tests.pass_checks import checked_gradients, compare_without
from tests.programs import PROGRAMS, program_args, program_options


def negated_twice(x, y):
    t = -x
    return t * y + np.sin(t) * x


def branchy(x, y):
    z = x * y
    if z > 0.0:
        z = -z * np.exp(y)
    else:
        w = math.cos(x) - y
        z = z + w * w
    return z * x - y / x


def while_loop(x):
    total = 0.0
    while total < 5.0:
        total = total + x * x - 0.1 * x
    return total


def mixed(x, s):
    # An array and a Python float: the float's adjoints get the rewrites.
    u = s * 2.0
    w = -u * s
    return np.sum(x * w) + u * u


CASES = [
    (oscillator, (4.0, 0.3, 1.0, 0.2, 0.01, 30), (0, 1, 2, 3)),
    (negated_twice, (0.7, -1.3), (0, 1)),
    (branchy, (0.8, 0.4), (0, 1)),
    (branchy, (-0.8, 0.4), (0, 1)),
    (while_loop, (0.9,), (0,)),
    (mixed, (np.array([0.3, -0.7, 1.1]), 0.6), (0, 1)),
]


@pytest.mark.parametrize(
    "func, args, wrt", CASES, ids=[f"{c[0].__name__}{c[1][0]}" for c in CASES]
)
def test_gradients_match_finite_differences_and_the_code_without_the_pass(
    func, args, wrt, pass_off
):
    vg, value, grads = checked_gradients(func, args, wrt)
    pass_off(program_module, "fuse_numbers", lambda *args: None)
    plain = compare_without(func, args, wrt, value, grads)
    assert len(vg.source.splitlines()) < len(plain.splitlines())


FLOAT_PROGRAMS = [p for p in PROGRAMS if any(type(a) is float for a in program_args(p))]


@pytest.mark.parametrize(
    "program", FLOAT_PROGRAMS, ids=[p.name for p in FLOAT_PROGRAMS]
)
def test_every_program_with_float_arguments_is_unchanged_bit_for_bit(program, pass_off):
    # The rewrites run wherever an argument is a Python float: across the
    # whole program table, values and gradients equal those made without.
    args = program_args(program)
    value, grads = s2s_ad.value_and_grad(program.func, **program_options(program))(
        *args
    )
    pass_off(program_module, "fuse_numbers", lambda *args: None)
    plain = s2s_ad.value_and_grad(program.func, **program_options(program))(*args)
    assert_tree_equal((value, grads), plain)


def test_the_oscillator_reads_like_its_source_and_its_hand_written_gradient():
    vg = s2s_ad.value_and_grad(oscillator, wrt=(0, 1))
    vg(4.0, 0.3, 1.0, 0.0, 0.01, 10)
    source = vg.source
    for line in (
        "a = -k * x - c * v",
        "x = x + dt * v",
        "energy = energy + dt * x * x",
        "x_bar = x_bar + dt * x + x * dt",  # the seed is 1.0: no factor
        "v_bar = v_bar + x_bar * dt - a_bar * c",
        "x_bar = x_bar - a_bar * k",
        "k_bar = k_bar - a_bar * x",
    ):
        assert f"        {line}\n" in source
    code = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith("#")
    )
    assert "u1" not in code and "u3_bar" not in code


# -- fusion of values assigned more than once ----------------------------------

KINDS = {n: "scalar" for n in ("a", "b", "c", "t", "x", "y", "z", "a_bar", "b_bar")}


def _fused(text: str) -> str:
    fdef = gast.parse(textwrap.dedent(text)).body[0]
    fuse_single_uses(
        fdef.body,
        KINDS,
        "rt",
        lambda name: np if name == "np" else None,
        None,
        frozenset({"scalar"}),
        "trace",
    )
    return astor.to_source(gast.gast_to_ast(fdef))


def test_a_recomputed_value_is_fused_in_both_sweeps():
    text = _fused(
        """
        def f(x, y, n):
            for i in range(n):
                t = x * y
                trace.append(z)
                z = t + 1.0
            for i in range(n):
                t = x * y
                b_bar = a_bar * t
        """
    )
    assert "z = x * y + 1.0" in text and "b_bar = a_bar * (x * y)" in text
    assert "t =" not in text


@pytest.mark.parametrize(
    "body",
    [
        # The next pass of the loop reads the value first.
        "for i in range(n):\n    z = t + 1.0\n    t = x * y\nt = x * y\nz = t",
        # Two reads of one assignment.
        "t = x * y\nz = t + 1.0\nt = x * y\nz = t * t",
        "t = x * y\nz = t + 1.0\nt = x * y\nz = t + 1.0\nb = t",
        # A loop between reads it.
        "t = x * y\nfor i in range(n):\n    z = t\nt = x * y\nz = t",
        # A while loop's test reads what its body assigns last.
        "t = x * y\nz = t\nwhile t < 1.0:\n    t = x * y\n    z = t + z",
        # An assignment of another form.
        "t = x * y\nz = t\nt += 1.0\nz = t",
        # A list other than the trace.
        "t = x * y\nother.append(z)\nz = t\nt = x\nz = t",
    ],
)
def test_a_value_assigned_twice_is_not_fused_where_another_read_could_see_it(body):
    text = _fused("def f(x, y, n):\n" + textwrap.indent(body, "    "))
    assert text.count("t = x * y") == body.count("t = x * y")


# -- negations -----------------------------------------------------------------


def _gathered(text: str, numbers=("a_bar", "b_bar", "c_bar", "t")) -> str:
    fdef = gast.parse(textwrap.dedent(text)).body[0]
    purity = Purity(KINDS | {n: "scalar" for n in numbers}, "rt", lambda name: None)
    accumulate.gather_accumulations(fdef.body, 0, set(numbers), purity, "trace")
    return astor.to_source(gast.gast_to_ast(fdef))


def test_a_negated_adjoint_read_as_a_factor_goes():
    text = _gathered(
        """
        def f(x, y):
            t = -a_bar
            b_bar = b_bar + t * x
            c_bar = c_bar - y * (t * x)
            c_bar = c_bar + t / y
        """
    )
    assert "t" not in text.replace("return", "")
    assert "b_bar = b_bar - a_bar * x" in text
    assert "c_bar = c_bar + y * (a_bar * x) - a_bar / y" in text


@pytest.mark.parametrize(
    "use",
    [
        "b_bar = b_bar + x / t",  # a divisor: left as it is
        "b_bar = t + x",
        "b_bar = np.sin(t)",
        "b_bar = b_bar + t * x\n    a_bar = 2.0\n    c_bar = c_bar + t",
        "b_bar = b_bar + t * x\n    t = 1.0\n    c_bar = c_bar + t",
    ],
)
def test_a_negation_stays_where_a_read_is_no_factor_of_a_sum(use):
    text = _gathered(f"def f(x, y):\n    t = -a_bar\n    {use}\n")
    assert "t = -a_bar" in text


@pytest.mark.parametrize(
    "before, after",
    [
        ("a_bar + -(b_bar * x)", "a_bar - b_bar * x"),
        ("a_bar - b_bar * -x", "a_bar + b_bar * x"),
        ("a_bar + -b_bar * -x", "a_bar + b_bar * x"),
        ("a_bar + -b_bar / x + x * y", "a_bar - b_bar / x + x * y"),
        ("a_bar + x / -b_bar", "a_bar + x / -b_bar"),  # a divisor stays
        ("a_bar + np.sin(-x)", "a_bar + np.sin(-x)"),
    ],
)
def test_adding_a_negation_subtracts(before, after):
    text = _gathered(f"def f(x, y):\n    a_bar = {before}\n")
    assert f"a_bar = {after}\n" in text


# -- accumulations gathered ----------------------------------------------------


def test_accumulations_of_one_adjoint_are_gathered():
    text = _gathered(
        """
        def f(x, y):
            a_bar = a_bar + x * y
            z = trace.pop()
            b_bar = b_bar + z
            a_bar = a_bar - b_bar * y
        """
    )
    assert "a_bar = a_bar + x * y - b_bar * y" in text
    assert text.count("a_bar =") == 1


@pytest.mark.parametrize(
    "between",
    [
        "b_bar = a_bar * 2.0",  # reads the adjoint between
        "x = trace.pop()",  # changes what the first one added
        "x = 2.0",
        "b_bar = f(y)",  # may do anything
        "if y: pass",
    ],
)
def test_accumulations_stay_apart_when_something_between_could_tell(between):
    text = _gathered(
        f"""
        def f(x, y):
            a_bar = a_bar + x * y
            {between}
            a_bar = a_bar + y
        """
    )
    assert text.count("a_bar = a_bar +") == 2


def test_an_accumulation_reading_its_adjoint_is_not_gathered():
    text = _gathered("def f(x):\n    a_bar = a_bar + x\n    a_bar = a_bar + a_bar\n")
    assert text.count("a_bar = a_bar +") == 2
