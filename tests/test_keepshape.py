"""Values read back only for their shape: the trace keeps the shape.

Each gradient is checked against central finite differences, the rewritten
code against the code without the pass, and second derivatives through the
rewritten code (where ``rt.unbroadcast_to`` is differentiated again).
"""

from __future__ import annotations

import textwrap

import astor
import gast
import numpy as np
import pytest

import s2s_ad
from s2s_ad import arrayopt, keepshape
from tests.pass_checks import checked_gradients, compare_without


def rnn(Wx, Wh, xs):
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h**2)


def biased_steps(w, b, x):
    # b (a vector) is broadcast against the matrix h at every step: its
    # adjoint must be summed down from the shape that was traced.
    h = x
    for _ in range(3):
        u = h * w
        h = np.sin(u + b)
    return np.sum(h)


def growing(x, c):
    # The traced shapes differ from one step to the next.
    total = 0.0
    for i in range(1, len(x) + 1):
        v = x[:i] * c
        total = total + np.sum(np.exp(v + c))
    return total


def numbers_sometimes(x, w):
    # s is a Python float before the loop and an array in it: s.shape would
    # fail on the float, so s keeps being traced itself.
    s = 0.0
    for _ in range(3):
        y = s + x * w
        s = np.cos(y)
    return np.sum(s)


def read_for_its_value(a, b):
    # The reverse sweep needs u's entries, not just its shape.
    h = a
    for _ in range(2):
        u = h @ b
        h = u * u
    return np.sum(h)


def _rng(seed):
    return np.random.default_rng(seed)


def _rnn_args():
    rng = _rng(0)
    return (
        0.4 * rng.normal(size=(3, 4)),
        0.4 * rng.normal(size=(4, 4)),
        rng.normal(size=(5, 2, 3)),
    )


# (function, arguments, wrt, names traced by shape, names traced by value)
CASES = [
    (rnn, _rnn_args(), (0, 1), {"u8", "u9"}, {"h"}),
    (
        biased_steps,
        (
            _rng(1).normal(size=(3, 4)),
            _rng(2).normal(size=4),
            _rng(3).normal(size=(3, 4)),
        ),
        (0, 1, 2),
        {"u"},
        {"u1", "h"},
    ),
    (growing, (_rng(4).normal(size=5), _rng(5).normal(size=1)), (0, 1), {"v"}, {"u5"}),
    (numbers_sometimes, (_rng(6).normal(size=3), 0.7), (0, 1), {"u1"}, {"s", "y"}),
    (
        read_for_its_value,
        (0.5 * _rng(7).normal(size=(2, 2)), 0.5 * _rng(8).normal(size=(2, 2))),
        (0, 1),
        set(),
        {"u", "h"},
    ),
]


@pytest.mark.parametrize(
    "func, args, wrt, by_shape, by_value", CASES, ids=[c[0].__name__ for c in CASES]
)
def test_gradients_match_finite_differences_and_the_code_without_the_pass(
    func, args, wrt, by_shape, by_value, pass_off
):
    vg, value, grads = checked_gradients(func, args, wrt)
    text = vg.source
    for name in by_shape:
        assert f"trace.append({name}_shape)" in text
        assert f"{name}_shape = {name}.shape" in text
        assert f"trace.append({name})" not in text
    for name in by_value:
        assert f"trace.append({name})" in text and f"{name}_shape" not in text
    assert ("rt.unbroadcast_to(" in text) is bool(by_shape)
    pass_off(arrayopt, "keep_shapes_only", lambda *args: False)
    assert "unbroadcast_to" not in compare_without(func, args, wrt, value, grads)


def test_the_rnn_traces_shapes_of_its_matrix_products():
    vg = s2s_ad.value_and_grad(rnn, wrt=(0, 1))
    vg(*_rnn_args())
    text = vg.source
    forward = text[: text.index("reverse sweep")]
    for name in ("u8", "u9"):
        assert f"trace.append({name}_shape)" in forward
        assert f"{name}_shape = {name}.shape" in forward
        assert f"trace.append({name})" not in forward
        assert f"{name}_shape = trace.pop()" in text
    assert "rt.unbroadcast_to(u10_bar, u8_shape)" in text


def test_the_general_code_traces_shapes_of_matrix_products_too():
    # Without argument kinds, a matrix product is still a NumPy value.
    text = s2s_ad.gradient_source(rnn, wrt=(0, 1))
    assert "u8_shape = u8.shape" in text


def test_second_derivatives_through_traced_shapes():
    Wx, Wh, xs = _rnn_args()
    V = _rng(9).normal(size=Wh.shape)
    g = s2s_ad.grad(rnn, wrt=1)
    h = 1e-5
    expected = (g(Wx, Wh + h * V, xs) - g(Wx, Wh - h * V, xs)) / (2 * h)
    np.testing.assert_allclose(
        s2s_ad.hvp(rnn, (Wx, Wh, xs), (None, V, None)),
        expected,
        rtol=1e-6,
        atol=1e-8,
    )

    def directional(Wh):
        return np.sum(g(Wx, Wh, xs) * V)

    np.testing.assert_allclose(
        s2s_ad.grad(directional)(Wh), expected, rtol=1e-6, atol=1e-8
    )


def _rewritten(text: str, reverse_from: int, kinds: dict | None = None) -> str:
    fdef = gast.parse(textwrap.dedent(text)).body[0]
    kinds = {"a": "array", "b": "array", **(kinds or {})}
    keepshape.keep_shapes_only(
        fdef.body, reverse_from, kinds, "rt", "trace", lambda base: base
    )
    return astor.to_source(gast.gast_to_ast(fdef))


def test_a_none_the_user_assigns_is_kept():
    text = _rewritten(
        """
        def f(a, b):
            u = None
            trace = []
            trace.append(u)
            u = None
            for _ in range(2):
                flag = u is None
                trace.append(u)
                u = a @ b
            for _ in range(2):
                u_bar = rt.unbroadcast(g, u)
                u = trace.pop()
            u = trace.pop()
        """,
        5,
    )
    assert text.startswith("def f(a, b):\n    u_shape = None\n    trace = []\n")
    assert "    trace.append(u_shape)\n    u = None\n    u_shape = None\n" in text
    assert "        u = a @ b\n        u_shape = u.shape\n" in text
    assert "rt.unbroadcast_to(g, u_shape)" in text
    assert text.count("u_shape = trace.pop()") == 2


@pytest.mark.parametrize(
    "store, kind, fires",
    [
        ("u = a + b", "array", True),  # a NumPy value
        ("u = 0.0", "numeric", False),  # a Python float has no shape
        ("u += a", "array", False),
        ("u, w = a, b", "array", False),
        ("for u in a: pass", "array", False),
    ],
)
def test_names_given_other_values_are_left_alone(store, kind, fires):
    body = f"""
        def f(a, b):
            u = None
            trace = []
            trace.append(u)
            {store}
            trace.append(u)
            u = a @ b
            u_bar = rt.unbroadcast(g, u)
            u = trace.pop()
            u = trace.pop()
        """
    text = _rewritten(body, 6, {"u": kind})
    assert ("u_shape = u.shape" in text) is fires


@pytest.mark.parametrize(
    "reverse, fires",
    [
        ("u_bar = rt.unbroadcast(g, u)", True),
        ("u_bar = rt.unbroadcast(g * u, u)", False),
        ("u = u + 1.0", False),
        ("u_bar = rt.unreduce(g, u)", False),
    ],
)
def test_names_the_reverse_sweep_reads_otherwise_are_left_alone(reverse, fires):
    body = f"""
        def f(a, b):
            u = None
            trace = []
            trace.append(u)
            u = a @ b
            {reverse}
            u = trace.pop()
        """
    assert ("u_shape = u.shape" in _rewritten(body, 4)) is fires
