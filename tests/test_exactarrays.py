"""Exact float64 arrays: NumPy operators where helper calls were.

Every gradient is checked against central finite differences and against
the code made for arrays of unknown rank (the version a float32 or
subclassed array gets is not the one compared: the same float64 arguments
run code made without the pass).
"""

from __future__ import annotations

import numpy as np
import pytest

import s2s_ad
from s2s_ad import program
from s2s_ad.kinds import analysed, exact_rank, of_exact_value
from tests.fd import numerical_grad
from tests.pass_checks import checked_gradients, compare_without


def rnn(Wx, Wh, xs):
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return 0.5 * np.sum(h**2)


def mlp(W1, b1, W2, b2, X):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.mean(np.sum(z[:, :1] - lse, axis=1))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def biased_loop(W, b, xs):
    h = np.zeros((xs.shape[1], W.shape[1]))
    for t in range(len(xs)):
        h = np.sin(xs[t] @ W + b)
    return np.sum(h)


def summed_product(A, B):
    # The product's adjoint is spread from a sum, not summed down to it.
    return np.sum(A @ B)


def stacked(A, B):
    return np.sum(np.tanh(A @ B))


def prefixes(x):
    total = 0.0
    for i in range(1, len(x)):
        total = total + np.sum(np.sin(x[:i]) * x[i])
    return total


def gathered(x, idx):
    # A repeated index adds twice: the update stays rt.add_at.
    return np.sum(np.sin(x[idx]))


def reassigned(W, x):
    W = W * 2.0
    return np.sum(np.tanh(x @ W))


def _rng(seed):
    return np.random.default_rng(seed)


def _rnn_args(steps=4):
    rng = _rng(0)
    return (
        0.5 * rng.normal(size=(3, 4)),
        0.5 * rng.normal(size=(4, 4)),
        rng.normal(size=(steps, 2, 3)),
    )


# (function, arguments, wrt, texts the generated code must hold, and not)
CASES = [
    (
        rnn,
        _rnn_args(),
        (0, 1),
        [
            "h_bar = u9_bar @ Wh.T",
            "Wh_bar = np.zeros_like(Wh)",
            "Wh_bar += h.T @ u9_bar",
            "Wx_bar += u7.T @ u8_bar",
            "return value, (Wx_bar, Wh_bar)",
            "# reverse sweep: the result's adjoint is 1.0\n",
        ],
        ["matmul_adjoint", "acc_into", "finalize", "rt.seed"],
    ),
    (
        mlp,
        (
            0.3 * _rng(1).normal(size=(5, 4)),
            _rng(2).normal(size=4),
            0.3 * _rng(3).normal(size=(4, 3)),
            _rng(15).normal(size=3),
            _rng(4).normal(size=(6, 5)),
        ),
        (0, 1, 2, 3),
        # u3_bar = 0.0 + ... is not proved to have the product's shape.
        ["W1_bar = X.T @ u1_bar", "rt.matmul_adjoint_a(u3_bar, h, W2)"],
        [],
    ),
    (
        rosenbrock,
        (_rng(5).uniform(-1.5, 1.5, 8),),
        (0,),
        [
            "x_bar = np.zeros_like(x)",
            "x_bar[:-1] += ",
            "x_bar[1:] += u1_bar",
            "return value, (x_bar,)",
            "# reverse sweep: the result's adjoint is 1.0\n",
        ],
        ["finalize", "add_at", "rt.seed"],
    ),
    (
        biased_loop,
        (
            0.5 * _rng(6).normal(size=(3, 4)),
            _rng(7).normal(size=4),
            _rng(8).normal(size=(3, 2, 3)),
        ),
        (0, 1),
        ["W_bar += u7.T @ u8_bar", "return value, (W_bar, b_bar)"],
        ["matmul_adjoint"],
    ),
    (
        summed_product,
        (_rng(9).normal(size=(2, 3)), _rng(10).normal(size=(3, 4))),
        (0, 1),
        ["rt.matmul_adjoint_a(", "rt.matmul_adjoint_b("],
        [],
    ),
    (
        stacked,
        (_rng(11).normal(size=(2, 2, 3)), _rng(12).normal(size=(3, 4))),
        (0, 1),
        ["rt.matmul_adjoint_a(", "rt.matmul_adjoint_b("],
        [],
    ),
    (
        prefixes,
        (_rng(16).normal(size=6),),
        (0,),
        ["x_bar[:i] += ", "x_bar[i] += ", "return value, (x_bar,)"],
        ["add_at"],
    ),
    (
        gathered,
        (_rng(17).normal(size=5), np.array([0, 2, 2, 4])),
        (0,),
        ["rt.add_at(x_bar, x, idx, "],
        ["zeros_like"],
    ),
    (
        reassigned,
        (_rng(13).normal(size=(3, 2)), _rng(14).normal(size=(4, 3))),
        (0,),
        ["rt.finalize"],
        ["zeros_like"],
    ),
]


@pytest.mark.parametrize(
    "func, args, wrt, present, absent", CASES, ids=[c[0].__name__ for c in CASES]
)
def test_gradients_match_finite_differences_and_the_code_without_the_pass(
    func, args, wrt, present, absent, pass_off
):
    vg, value, grads = checked_gradients(func, args, wrt)
    text = vg.source
    for piece in present:
        assert piece in text, piece
    for piece in absent:
        assert piece not in text, piece
    for k, g in zip(wrt, grads):
        assert type(g) is np.ndarray and g.dtype == np.float64
        assert g.shape == args[k].shape
    again = vg(*args)[1]
    assert all(a is not b for a, b in zip(again, grads))  # fresh each call
    pass_off(program, "optimize_exact_arrays", lambda *args: None)
    assert "zeros_like" not in compare_without(func, args, wrt, value, grads)


def test_kinds_of_exact_float64_arrays():
    assert of_exact_value(np.ones(3)) == "float64[1d]"
    assert of_exact_value(np.ones((2, 3, 4))) == "float64[3d]"
    assert exact_rank("float64[3d]") == 3 and analysed("float64[2d]") == "array"
    for other in (np.ones(()), np.ones(3, np.float32), np.ones(3).view(Sub), [1.0]):
        assert exact_rank(of_exact_value(other)) is None


class Sub(np.ndarray):
    pass


def elementwise(x):
    return np.sum(np.tanh(x) ** 2)


def test_one_gradient_object_serves_every_rank():
    g = s2s_ad.grad(elementwise)
    for shape in [(3,), (2, 3), (3,), (2, 2, 2), (2, 3)]:
        x = _rng(len(shape)).normal(size=shape)
        got = g(x)
        assert got.shape == shape
        np.testing.assert_allclose(got, 2 * np.tanh(x) / np.cosh(x) ** 2)


def test_other_arrays_keep_the_helpers():
    Wx, Wh, xs = _rnn_args()
    for args in [
        tuple(a.astype(np.float32) for a in (Wx, Wh, xs)),
        (Wx.view(Sub), Wh, xs),
    ]:
        vg = s2s_ad.value_and_grad(rnn, wrt=(0, 1))
        _, (_, gh) = vg(*args)
        assert "rt.matmul_adjoint_a(" in vg.source
        np.testing.assert_allclose(
            gh, numerical_grad(rnn, (Wx, Wh, xs), wrt=1), rtol=1e-3, atol=1e-4
        )


def test_a_loop_that_never_runs_gives_zeros():
    Wx, Wh, _ = _rnn_args()
    xs = np.zeros((0, 2, 3))
    vg = s2s_ad.value_and_grad(rnn, wrt=(0, 1))
    value, (gx, gh) = vg(Wx, Wh, xs)
    assert "np.zeros_like(Wh)" in vg.source
    assert value == 0.0
    np.testing.assert_array_equal(gx, np.zeros_like(Wx))
    np.testing.assert_array_equal(gh, np.zeros_like(Wh))


def test_a_given_seed_scales_the_gradient():
    x = _rng(20).uniform(-1.0, 1.0, 5)
    plain = s2s_ad.grad(rosenbrock)(x)
    scaled = s2s_ad.grad(rosenbrock, seed=2.5)(x)
    np.testing.assert_allclose(scaled, 2.5 * plain, rtol=1e-15)


def test_second_order_through_the_general_code():
    Wx, Wh, xs = _rnn_args()
    V = _rng(21).normal(size=Wh.shape)
    g = s2s_ad.grad(rnn, wrt=1)
    h = 1e-5
    expected = (g(Wx, Wh + h * V, xs) - g(Wx, Wh - h * V, xs)) / (2 * h)
    np.testing.assert_allclose(
        s2s_ad.hvp(rnn, (Wx, Wh, xs), (None, V, None)), expected, rtol=1e-6, atol=1e-8
    )
