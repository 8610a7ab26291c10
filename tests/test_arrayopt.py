"""Constant factors moved between array adjoints; finalize without a copy.

Every gradient here is also checked against central finite differences:
the rewrites change the order of multiplications, never the derivative.
"""

from __future__ import annotations

import astor
import gast
import numpy as np
import pytest

import s2s_ad
from s2s_ad import arrayopt, fusion, shapes
from s2s_ad import runtime as rt
from tests.fd import numerical_grad


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def shared_adjoint(a, b):
    return np.sum(a + b)


def two_layers(W1, W2, X):
    return np.sum(np.tanh(X @ W1) @ W2)


def negated_in_denominator(x, y):
    # -x feeds a quotient's denominator: its factor must not be moved into
    # a numerator.
    return np.sum(y / (-x * 3.0))


def _source(func, *args, wrt=0):
    vg = s2s_ad.value_and_grad(func, wrt=wrt)
    vg(*args)
    return vg, vg.source


def test_rosenbrock_negations_and_scales_fold_into_literals():
    x = np.random.default_rng(0).uniform(-1.5, 1.5, 7)
    vg, text = _source(rosenbrock, x)
    reverse = text[text.index("reverse sweep") :]
    # The seed (1.0, no seed given) is folded into the literals too.
    assert "-2.0 * u8" in reverse and "200.0 * u4" in reverse
    assert "= -u" not in reverse and "* 100.0" not in reverse
    # Returned as it is (s2s_ad/exactarrays.py) for exact float64 arrays;
    # for others, without a copy when it has x's shape and dtype.
    assert reverse.endswith("return value, (x_bar,)\n")
    _, single = _source(rosenbrock, x.astype(np.float32))
    assert "rt.finalize_owned(x, x_bar)" in single
    expected = numerical_grad(rosenbrock, (x,), wrt=0)
    np.testing.assert_allclose(vg(x)[1], expected, rtol=1e-6, atol=1e-8)


def test_logistic_negations_cancel_and_match_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = (rng.random(40) > 0.5).astype(float)
    w = 0.3 * rng.normal(size=3)
    vg, text = _source(logistic, w, 0.1, X, y, wrt=(0, 1))
    reverse = text[text.index("reverse sweep") :]
    # The chain is one expression: NumPy reuses its temporaries.
    assert "u2_bar = (rt.div(u6_bar, p) - rt.div(u10_bar, u9)) * p / u5 * u4" in (
        reverse
    )
    _, (gw, gb) = vg(w, 0.1, X, y)
    np.testing.assert_allclose(
        gw, numerical_grad(logistic, (w, 0.1, X, y), wrt=0), rtol=1e-6, atol=1e-9
    )
    assert gb == pytest.approx(
        numerical_grad(logistic, (w, 0.1, X, y), wrt=1), rel=1e-6, abs=1e-9
    )


def test_a_shared_adjoint_is_still_copied_for_each_gradient():
    a, b = np.ones(4), np.arange(4.0)
    vg, text = _source(shared_adjoint, a, b, wrt=(0, 1))
    assert "finalize_owned" not in text
    _, (ga, gb) = vg(a, b)
    assert ga is not gb and ga.flags.writeable and gb.flags.writeable
    ga[0] = 99.0
    assert gb[0] == 1.0


def test_owned_gradients_are_fresh_arrays_each_call():
    rng = np.random.default_rng(2)
    W1, W2, X = (
        rng.normal(size=(3, 4)),
        rng.normal(size=(4, 2)),
        rng.normal(size=(5, 3)),
    )
    vg, text = _source(two_layers, W1, W2, X, wrt=(0, 1))
    assert "rt.finalize_owned(W1, W1_bar)" in text
    _, (g1, g2) = vg(W1, W2, X)
    g1_again = vg(W1, W2, X)[1][0]
    assert g1 is not g1_again
    g1[:] = 0.0  # the caller owns what it gets
    np.testing.assert_allclose(vg(W1, W2, X)[1][0], g1_again)
    np.testing.assert_allclose(
        g1_again, numerical_grad(two_layers, (W1, W2, X), wrt=0), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        g2, numerical_grad(two_layers, (W1, W2, X), wrt=1), rtol=1e-6, atol=1e-8
    )


def test_factor_of_a_denominator_is_not_moved_into_a_numerator():
    x = np.array([0.5, -1.5, 2.0])
    y = np.array([1.0, 2.0, -0.5])
    vg, _ = _source(negated_in_denominator, x, y, wrt=(0, 1))
    _, (gx, gy) = vg(x, y)
    args = (x, y)
    np.testing.assert_allclose(gx, numerical_grad(negated_in_denominator, args, wrt=0))
    np.testing.assert_allclose(gy, numerical_grad(negated_in_denominator, args, wrt=1))


def _text(node: gast.expr) -> str:
    text = astor.to_source(gast.gast_to_ast(node)).strip()
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _stmt(text: str) -> gast.Assign:
    return gast.parse(text).body[0]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("y = a * v * b", "a * v * b"),
        ("y = (a * v) / b", "a * v / b"),
        ("y = -v * b", "-v * b"),
        ("y = f(v * 2.0)", "v * 2.0"),
        # Inside a denominator: the product around v, not the quotient.
        ("y = b / (2.0 * v)", "2.0 * v"),
    ],
)
def test_chain_top_finds_the_product_around_a_read(text, expected):
    top = arrayopt._chain_top(_stmt(text), "v")
    assert top is not None
    assert _text(top[0]) == expected


@pytest.mark.parametrize("text", ["y = b / v", "y = b / (c / v)", "y = f(v)", "y = v"])
def test_chain_top_refuses_denominators_and_bare_reads(text):
    assert arrayopt._chain_top(_stmt(text), "v") is None


def test_absorb_folds_into_literals_only():
    rt = "rt"
    node = _stmt("y = g * (2 * u)").value
    folded = arrayopt._absorb(node, -1, rt)
    assert _text(folded) == "g * (-2 * u)"
    assert arrayopt._absorb(_stmt("y = g * u").value, -1, rt) is None
    quotient = arrayopt._absorb(_stmt("y = rt.div(g, u)").value, 3.0, rt)
    assert quotient is None
    scaled = arrayopt._absorb(_stmt("y = rt.div(2.0, u)").value, 3.0, rt)
    assert _text(scaled) == "rt.div(6.0, u)"


def small_rnn(W, xs):
    h = np.zeros(3)
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ W + 0.5 * h)
    return np.sum(h**2)


def _rnn_args():
    rng = np.random.default_rng(3)
    return 0.5 * rng.normal(size=(2, 3)), rng.normal(size=(4, 2))


def test_loop_accumulation_is_in_place_and_matches_finite_differences():
    W, xs = _rnn_args()
    W_before = W.copy()
    vg, text = _source(small_rnn, W, xs)
    assert "W_bar = rt.acc_into(W_bar, " in text
    assert "rt.finalize_owned(W, W_bar)" in text
    g1 = vg(W, xs)[1]
    g2 = vg(W, xs)[1]
    assert g1 is not g2
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(W, W_before)
    np.testing.assert_allclose(
        g1, numerical_grad(small_rnn, (W, xs), wrt=0), rtol=1e-6, atol=1e-9
    )


def test_second_order_through_in_place_accumulation():
    W, xs = _rnn_args()
    V = np.random.default_rng(4).normal(size=W.shape)
    g = s2s_ad.grad(small_rnn)
    h = 1e-5
    expected = (g(W + h * V, xs) - g(W - h * V, xs)) / (2 * h)
    np.testing.assert_allclose(
        s2s_ad.hvp(small_rnn, (W, xs), (V, None)), expected, rtol=1e-6, atol=1e-8
    )

    def directional(W, xs):
        return np.sum(g(W, xs) * V)

    np.testing.assert_allclose(
        s2s_ad.grad(directional)(W, xs), expected, rtol=1e-6, atol=1e-8
    )


# -- shape classes, number stand-ins, fused single uses -----------------------


def sum_of_broadcast(a, b):
    # b is broadcast against a: its adjoint must still be summed down.
    return np.sum(a * b + b)


def sum_of_matmul(A, B):
    return np.sum(A @ B)


def finite_differences(x):
    d = x[1:] - x[:-1]
    return np.sum(np.exp(d) * 3.0 + d**2)


def scaled_sum(x, w):
    # The full sum's adjoint is a product with w, then meets x's class.
    return np.sum(x**2) * w


def written_between(x):
    z = x * 1.0
    t = z * 2.0
    z[0] = 3.0  # t must not be computed after this write
    return np.sum(t * z)


def _check_grads(func, args, wrt):
    vg, text = _source(func, *args, wrt=wrt)
    _, grads = vg(*args)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    for k, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), grads):
        np.testing.assert_allclose(
            g, numerical_grad(func, args, wrt=k), rtol=1e-6, atol=1e-8
        )
    return text


def _reverse(text):
    return text[text.index("reverse sweep") :]


@pytest.mark.parametrize("n", [1, 2, 7])
def test_rosenbrock_keeps_the_seed_a_number_and_fuses_the_forward(n):
    x = np.random.default_rng(5).uniform(-1.5, 1.5, n)
    text = _check_grads(rosenbrock, (x,), 0)
    assert "unreduce" not in text and "unbroadcast" not in text
    assert "u11 = np.sum(100.0 * u4 ** 2 + u8 ** 2)" in text


def test_matrix_slices_share_a_class():
    x = np.random.default_rng(6).normal(size=(5, 3))
    text = _check_grads(finite_differences, (x,), 0)
    assert "unbroadcast" not in text and "unreduce" not in text


def test_broadcast_operand_keeps_its_sum_and_the_seed_its_array():
    a = np.arange(12.0).reshape(3, 4) / 7
    for b in (np.linspace(-1, 1, 4), np.array([[0.5], [1.5], [-2.0]]), 0.7):
        text = _check_grads(sum_of_broadcast, (a, b), (0, 1))
        if isinstance(b, np.ndarray):
            assert "rt.unbroadcast(" in _reverse(text)
            assert "rt.unreduce(" in _reverse(text)


def test_matmul_adjoints_get_the_full_seed_array():
    rng = np.random.default_rng(7)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    text = _check_grads(sum_of_matmul, (A, B), (0, 1))
    assert "rt.unreduce(" in text


def test_a_scaled_seed_stays_a_number_of_any_dtype():
    x = np.linspace(-1.0, 2.0, 5)
    text = _check_grads(scaled_sum, (x, 1.5), (0, 1))
    assert "rt.unreduce(" not in text
    for dtype in (np.float32, np.float64):
        xs = x.astype(dtype)
        for w in (1.5, np.float32(1.5), np.float64(1.5)):
            g = s2s_ad.grad(scaled_sum, wrt=0)(xs, w)
            # What the materialized adjoint gave, bit for bit (the factor 2
            # moves exactly).
            full = rt.unreduce(1.0 * w, xs**2, None, False, True)
            expected = (full * (2 * xs)).astype(dtype)
            assert g.dtype == dtype
            np.testing.assert_array_equal(g, expected)


def test_a_seed_given_by_the_caller_is_spread_the_same():
    x = np.linspace(-1.0, 2.0, 6)
    vg = s2s_ad.value_and_grad(rosenbrock, seed=2.5)
    plain = s2s_ad.grad(rosenbrock)(x)
    np.testing.assert_allclose(vg(x)[1], 2.5 * plain, rtol=1e-14)


def test_nothing_is_computed_after_a_write_into_its_operand():
    x = np.array([0.5, -1.0, 2.0])
    text = _check_grads(written_between, (x,), 0)
    assert "t = z * 2.0" in text


def test_second_order_through_stand_ins_and_fused_code():
    x = np.random.default_rng(8).uniform(-1.0, 1.0, 6)
    v = np.random.default_rng(9).normal(size=6)
    g = s2s_ad.grad(rosenbrock)
    h = 1e-5
    expected = (g(x + h * v) - g(x - h * v)) / (2 * h)
    np.testing.assert_allclose(
        s2s_ad.hvp(rosenbrock, (x,), (v,)), expected, rtol=1e-6, atol=1e-6
    )
    for func in (finite_differences, scaled_sum):
        args = (x,) if func is finite_differences else (x, 0.3)
        hess = s2s_ad.hessian(func)(*args)
        gx = s2s_ad.grad(func)
        fd = np.array(
            [
                (gx(*_shift(args, k, h)) - gx(*_shift(args, k, -h))) / (2 * h)
                for k in range(x.size)
            ]
        )
        np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-6)


def _shift(args, k, h):
    x = args[0].copy()
    x[k] += h
    return (x, *args[1:])


def broadcast_logs(a, b):
    u = np.exp(a * b)  # a's and b's shapes broadcast together
    v = np.log(b * 2.0)  # b's shape
    return np.mean(u * 3.0 + v)


def test_a_shape_is_read_from_a_live_name_of_its_class():
    a = np.linspace(0.1, 1.0, 12).reshape(3, 4)
    for b in (np.linspace(0.5, 1.5, 4), np.full((3, 1), 0.7), np.full((3, 4), 1.1)):
        text = _check_grads(broadcast_logs, (a, b), (0, 1))
        # v was only read for its shape: the shape of b serves, and v is
        # computed where it is used.
        assert "rt.unbroadcast(" in text and ", v)" not in _reverse(text)
        assert "    v = np.log" not in text


def _fused(text: str) -> str:
    body = gast.parse(text).body
    kinds = dict.fromkeys("abcstx", "array")
    fusion.fuse_single_uses(body, kinds, "rt", lambda name: None)
    return "\n".join(astor.to_source(gast.gast_to_ast(s)).strip() for s in body)


@pytest.mark.parametrize(
    "text, expected",
    [
        # Past pure assignments to other names, into the one reader.
        (
            "t = a * 2.0\ns = a + 1.0\nc = t * s + s",
            "s = a + 1.0\nc = a * 2.0 * s + s",
        ),
        # Not past a helper that may write into an array in place.
        (
            "t = a * 2.0\nb = rt.add_at(b, x, 0, a)\nc = t * b",
            "t = a * 2.0\nb = rt.add_at(b, x, 0, a)\nc = t * b",
        ),
        # Not past an assignment to an operand, nor when read twice.
        ("t = a * 2.0\na = b + 1.0\nc = t * a", "t = a * 2.0\na = b + 1.0\nc = t * a"),
        ("t = a * 2.0\nc = t * t", "t = a * 2.0\nc = t * t"),
        # Not into a return, nor a helper result into a helper's arguments.
        ("t = a * 2.0\nreturn t", "t = a * 2.0\nreturn t"),
        (
            "t = rt.div(a, b)\nc = rt.unbroadcast(t, x)",
            "t = rt.div(a, b)\nc = rt.unbroadcast(t, x)",
        ),
        ("t = rt.div(a, b)\nc = t * x", "c = rt.div(a, b) * x"),
    ],
)
def test_fusion_moves_pure_single_uses_only(text, expected):
    assert _fused(text) == expected


def test_fusion_keeps_assignments_to_globals():
    text = "global t\nt = a * 2.0\nc = t * b"
    assert _fused(text) == text


def sums_in_a_loop(x, w):
    total = 0.0
    for k in range(3):
        total = total + np.sum(x * w) * (k + 1.0)
    return total + np.sum((x[1:] - x[:-1]) ** 2)


def test_full_sums_in_and_after_loops_match_finite_differences():
    rng = np.random.default_rng(10)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=3)
    _check_grads(sums_in_a_loop, (x, w), (0, 1))
    v = rng.normal(size=x.shape)
    g = s2s_ad.grad(sums_in_a_loop)
    h = 1e-5
    expected = (g(x + h * v, w) - g(x - h * v, w)) / (2 * h)
    np.testing.assert_allclose(
        s2s_ad.hvp(sums_in_a_loop, (x, w), (v, None)), expected, rtol=1e-6, atol=1e-7
    )


def test_a_name_reshaped_in_place_gets_no_class():
    body = gast.parse(
        "u = a * 2.0\nv = a + 1.0\nu.shape = (2, 2)\nw = u * v\nv.resize((4,))"
    ).body
    kinds = dict.fromkeys("auvw", "array")
    classes = shapes.ShapeClasses(body, ["a"], kinds, lambda name: None)
    assert "u" not in classes.keys and "v" not in classes.keys
    assert "a" in classes.keys
