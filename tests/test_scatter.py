"""Updates of the same slice of an array adjoint merged into one.

End to end, every gradient is checked against central finite differences
and against the code made without the pass; the rewrite itself is checked
on small generated-code fragments, including where it must not apply.
"""

from __future__ import annotations

import re
import textwrap

import astor
import gast
import numpy as np
import pytest

import s2s_ad
from s2s_ad import arrayopt, scatter
from s2s_ad.fusion import Purity
from tests.pass_checks import checked_gradients, compare_without


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def three_reads(x, w):
    return np.sum(np.sin(x[1:]) * w + x[1:] ** 2 + np.exp(x[1:] * w))


def rows(A):
    # Two reads of row 0 and one of row 1 (an integer index).
    return np.sum(A[0] * A[1]) + np.sum(np.tanh(A[0]))


def in_a_loop(x):
    total = 0.0
    for i in range(1, len(x)):
        total = total + np.sum(x[:i] ** 2 * np.cos(x[:i]))
    return total


def from_a_list(xs):
    return xs[0] * xs[1] + xs[0] ** 2


def _rng(seed):
    return np.random.default_rng(seed)


CASES = [
    (rosenbrock, (_rng(0).uniform(-1.5, 1.5, 9),), (0,), 1),
    (three_reads, (_rng(1).normal(size=6), _rng(2).normal(size=5)), (0, 1), 2),
    # Row 0's updates are not merged across row 1's (see below).
    (rows, (_rng(3).normal(size=(3, 4)),), (0,), 0),
    (in_a_loop, (_rng(4).normal(size=5),), (0,), 1),
    (from_a_list, ([0.3, -1.2],), (0,), 0),
]


def _add_ats(text):
    # With exact float64 arrays, an update may be written ``x_bar[:-1] += e``.
    return text.count("rt.add_at(") + len(re.findall(r"_bar\[[^\]]*\] \+= ", text))


@pytest.mark.parametrize(
    "func, args, wrt, merged", CASES, ids=[c[0].__name__ for c in CASES]
)
def test_gradients_match_finite_differences_and_the_code_without_the_pass(
    func, args, wrt, merged, pass_off
):
    vg, value, grads = checked_gradients(func, args, wrt)
    pass_off(arrayopt, "merge_slice_updates", lambda *args: False)
    # The order of two additions into each entry may differ.
    plain = compare_without(func, args, wrt, value, grads, rtol=1e-14)
    assert _add_ats(plain) - _add_ats(vg.source) == merged


def test_rosenbrock_updates_the_head_once():
    vg = s2s_ad.value_and_grad(rosenbrock)
    vg(_rng(5).normal(size=4))
    assert "x_bar[:-1] += -2.0 * u8 + u4_bar * (-2 * u2)" in vg.source


def _merged(text: str, kinds: dict | None = None) -> str:
    fdef = gast.parse(textwrap.dedent(text)).body[0]
    kinds = {
        "x": "array",
        "x_bar": "array",
        "a": "array",
        "b": "array",
        **(kinds or {}),
    }
    purity = Purity(kinds, "rt", lambda name: slice if name == "slice" else None)
    scatter.merge_slice_updates(fdef.body, kinds, "rt", "trace", purity)
    return astor.to_source(gast.gast_to_ast(fdef))


UPDATE_A = "x_bar = rt.add_at(x_bar, x, slice(None, -1, None), a * 2)"
UPDATE_B = "x_bar = rt.add_at(x_bar, x, slice(None, -1, None), b)"


@pytest.mark.parametrize(
    "between, merges",
    [
        ("", True),
        ("b = a * 3.0", True),  # b is read by the later update only
        ("b = trace.pop()", True),
        ("a = trace.pop()", False),
        ("b = other.pop()", False),
        ("a = b * 3.0", False),  # the first contribution would change
        ("c = x_bar * 2.0", False),  # reads the adjoint between
        ("x = b * 1.0", False),
        ("x_bar = rt.add_at(x_bar, x, slice(1, None, None), b)", False),
        ("b = rt.acc_into(b, a)", False),  # writes in place
        ("if a: pass", False),
    ],
)
def test_what_may_stand_between_two_updates(between, merges):
    text = _merged(
        f"""
        def f(x, a, b):
            {UPDATE_A}
            {between}
            {UPDATE_B}
        """,
        {"c": "array"},
    )
    assert (text.count("rt.add_at(") == 1 + ("add_at" in between)) is merges
    if merges:
        assert "slice(None, -1, None), a * 2 + b)" in text


@pytest.mark.parametrize(
    "later, merges",
    [
        (UPDATE_B, True),
        ("x_bar = rt.add_at(x_bar, x, slice(None, -2, None), b)", False),
        ("x_bar = rt.add_at(x_bar, y, slice(None, -1, None), b)", False),
        ("y_bar = rt.add_at(y_bar, x, slice(None, -1, None), b)", False),
        ("x_bar = rt.add_at(x_bar, x, slice(None, -1, None), f(b))", False),
    ],
)
def test_only_updates_of_the_same_slice_merge(later, merges):
    text = _merged(
        f"""
        def f(x, a, b):
            {UPDATE_A}
            {later}
        """,
        {"y": "array", "y_bar": "array"},
    )
    assert (text.count("rt.add_at(") == 1) is merges


def test_updates_of_a_list_are_never_added_together():
    text = _merged(
        """
        def f(x, a, b):
            x_bar = rt.add_at(x_bar, x, 0, a)
            x_bar = rt.add_at(x_bar, x, 0, b)
        """,
        {"x": "container"},
    )
    assert text.count("rt.add_at(") == 2


def test_updates_in_nested_blocks_merge_within_their_block():
    text = _merged(
        f"""
        def f(x, a, b):
            for i in range(3):
                {UPDATE_A}
                {UPDATE_B}
            {UPDATE_B}
        """
    )
    assert text.count("rt.add_at(") == 2
    assert "        x_bar = rt.add_at(x_bar, x, slice(None, -1, None), a * 2 + b)" in (
        text
    )
