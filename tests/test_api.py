"""The public API contract: grad, value_and_grad, @differentiate, errors."""

from __future__ import annotations

import numpy as np
import pytest

import s2s_ad
from s2s_ad import differentiate, grad, value_and_grad
from s2s_ad.errors import NonScalarOutputError, S2SError, WrtError
from tests.fd import (
    assert_grad_close,
    assert_same_structure,
    assert_tree_equal,
    copy_tree,
    numerical_grad,
)

SEED_VALUE = 0.238866
SEED_GRADIENT = (-0.358299, -0.119433)


def seed_f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def three(a, b, c=2.0):
    return a * b**2 + c**3 * a


def elementwise(x):
    return np.sin(x) * x


# -- the seed example --------------------------------------------------------


def test_seed_example_value_and_gradient():
    value, (d1, d2) = value_and_grad(seed_f, wrt=(0, 1))(2.0, 0.5)
    assert value == pytest.approx(SEED_VALUE, abs=1e-6)
    assert d1 == pytest.approx(SEED_GRADIENT[0], abs=1e-6)
    assert d2 == pytest.approx(SEED_GRADIENT[1], abs=1e-6)


def test_seed_example_grad_by_names():
    d1, d2 = grad(seed_f, wrt=("x1", "x2"))(2.0, 0.5)
    assert (d1, d2) == pytest.approx(SEED_GRADIENT, abs=1e-6)
    assert isinstance(d1, float) and isinstance(d2, float)


def test_seed_example_decorated():
    @differentiate(wrt=("x1", "x2"))
    def f(x1, x2):
        return x1 * np.exp(-0.5 * (x1**2 + x2**2))

    assert f(2.0, 0.5) == pytest.approx(SEED_VALUE, abs=1e-6)
    value, grads = f.value_and_grad(2.0, 0.5)
    assert value == pytest.approx(SEED_VALUE, abs=1e-6)
    assert isinstance(grads, tuple)
    assert grads == pytest.approx(SEED_GRADIENT, abs=1e-6)
    assert f.grad(2.0, 0.5) == pytest.approx(SEED_GRADIENT, abs=1e-6)


# -- @differentiate ----------------------------------------------------------


@differentiate
def bare(x, y):
    return x**3 * y


def test_bare_decorator_differentiates_first_parameter():
    g = bare.grad(2.0, 5.0)
    assert isinstance(g, float)
    assert g == pytest.approx(3 * 2.0**2 * 5.0)
    value, g2 = bare.value_and_grad(2.0, 5.0)
    assert value == pytest.approx(40.0)
    assert g2 == pytest.approx(60.0)


CALLS = []


@differentiate
def logged(x):
    CALLS.append(x)
    return 2.0 * x + 1.0


def test_decorated_object_calls_the_original():
    CALLS.clear()
    assert logged(3.0) == 7.0
    assert CALLS == [3.0]
    assert bare(2.0, 5.0) == 40.0
    assert bare(np.array([1.0, 2.0]), 3.0).tolist() == [3.0, 24.0]


def test_decorated_object_has_source():
    src = bare.source
    assert isinstance(src, str)
    assert "def " in src


def test_decorated_with_keyword_wrt_only():
    @differentiate(wrt="b")
    def f(a, b):
        return a * b**2

    assert f.grad(3.0, 2.0) == pytest.approx(12.0)
    assert f(3.0, 2.0) == 12.0


# -- wrt -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrt, expected",
    [
        (0, 5.0**2 + 8.0),
        ("a", 5.0**2 + 8.0),
        (1, 2 * 3.0 * 5.0),
        ("b", 2 * 3.0 * 5.0),
        (2, 3 * 4.0 * 3.0),
        ("c", 3 * 4.0 * 3.0),
    ],
)
def test_wrt_single(wrt, expected):
    g = grad(three, wrt=wrt)(3.0, 5.0, 2.0)
    assert isinstance(g, float)
    assert g == pytest.approx(expected)


def test_wrt_tuple_keeps_order():
    ga, gb = grad(three, wrt=(0, 1))(3.0, 5.0)
    gb2, ga2 = grad(three, wrt=("b", "a"))(3.0, 5.0)
    gb3, ga3 = grad(three, wrt=(1, "a"))(3.0, 5.0)
    assert (ga, gb) == pytest.approx((33.0, 30.0))
    assert (ga2, gb2) == pytest.approx((ga, gb))
    assert (ga3, gb3) == pytest.approx((ga, gb))


def test_wrt_one_element_tuple_gives_tuple():
    result = grad(three, wrt=("b",))(3.0, 2.0)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0] == pytest.approx(12.0)


def test_default_parameter_not_passed_can_be_differentiated():
    assert grad(three, wrt="c")(3.0, 2.0) == pytest.approx(3 * 4.0 * 3.0)


def test_keyword_arguments_at_call():
    assert grad(three, wrt="b")(3.0, b=2.0, c=1.0) == pytest.approx(12.0)
    assert grad(three, wrt=0)(a=3.0, b=2.0) == pytest.approx(4.0 + 8.0)


@pytest.mark.parametrize("wrt", ["nope", 3, 17, ("a", "nope"), (0, 5)])
def test_wrong_wrt_raises_wrt_error(wrt):
    with pytest.raises(WrtError) as info:
        grad(three, wrt=wrt)(3.0, 2.0)
    assert isinstance(info.value, S2SError)
    assert isinstance(info.value, ValueError)


def test_wrong_wrt_names_the_problem():
    with pytest.raises(WrtError, match="nope"):
        grad(three, wrt="nope")(3.0, 2.0)


def test_wrong_wrt_in_decorator():
    with pytest.raises(WrtError):

        @differentiate(wrt="z")
        def f(x):
            return x

        f.grad(1.0)


# -- non-scalar results and seeds --------------------------------------------


def test_non_scalar_result_without_seed_raises():
    x = np.array([0.1, 0.2, 0.3])
    with pytest.raises(NonScalarOutputError) as info:
        grad(elementwise)(x)
    assert "seed=" in str(info.value)
    assert isinstance(info.value, S2SError)
    with pytest.raises(NonScalarOutputError):
        value_and_grad(elementwise)(x)


def test_seed_gives_vector_jacobian_product(rng):
    x = rng.normal(size=(2, 3))
    seed = rng.normal(size=(2, 3))
    actual = grad(elementwise, seed=seed)(x)
    assert_grad_close(actual, numerical_grad(elementwise, (x,), seed=seed))
    value, vjp = value_and_grad(elementwise, seed=seed)(x)
    np.testing.assert_allclose(value, elementwise(x))
    assert_grad_close(vjp, actual, rtol=1e-12, atol=0)


def test_callable_seed():
    x = np.array([0.5, -1.0, 2.0])
    actual = grad(elementwise, seed=np.ones_like)(x)
    expected = np.sin(x) + x * np.cos(x)
    assert_grad_close(actual, expected, rtol=1e-12, atol=1e-14)


def test_seed_for_matrix_product_with_two_wrt():
    def mm(A, B):
        return A @ B

    rng = np.random.default_rng(1)
    A, B, S = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    gA, gB = grad(mm, wrt=(0, 1), seed=S)(A, B)
    np.testing.assert_allclose(gA, S @ B.T, rtol=1e-12)
    np.testing.assert_allclose(gB, A.T @ S, rtol=1e-12)


def test_decorator_with_seed():
    @differentiate(seed=np.ones_like)
    def f(x):
        return x**2

    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(f.grad(x), 2 * x)


# -- dtypes and structures -------------------------------------------------------


def sum_cubes(x):
    return np.sum(x**3)


def test_float32_in_float32_out():
    x = np.array([0.5, 1.0, -2.0], dtype=np.float32)
    g = grad(sum_cubes)(x)
    assert isinstance(g, np.ndarray)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 2, rtol=1e-5)


def test_float32_matrix_with_float64_partner():
    def f(W, v):
        return np.sum(np.tanh(W @ v))

    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 2)).astype(np.float32)
    v = rng.normal(size=2)
    gW, gv = grad(f, wrt=(0, 1))(W, v)
    assert gW.dtype == np.float32 and gW.shape == (3, 2)
    assert gv.dtype == np.float64 and gv.shape == (2,)
    expected = numerical_grad(f, (W, v), wrt=(0, 1))
    assert_grad_close((gW, gv), expected, rtol=1e-4, atol=1e-5)


def test_float64_array_keeps_dtype_and_shape():
    x = np.arange(6.0).reshape(2, 3)
    g = grad(sum_cubes)(x)
    assert g.dtype == np.float64 and g.shape == (2, 3)
    np.testing.assert_allclose(g, 3 * x**2)


def test_float_in_float_out():
    g = grad(lambda_free_square)(3.0)
    assert isinstance(g, float) and not isinstance(g, np.ndarray)
    assert g == 6.0


def lambda_free_square(x):
    return x * x


def test_python_int_argument_is_differentiated_as_float():
    g = grad(lambda_free_square)(3)
    assert g == pytest.approx(6.0)


def dict_loss(params, x):
    return np.sum((params["w"] * x + params["b"]) ** 2) + params["s"] ** 2


def test_dict_argument_gives_dict_gradient():
    rng = np.random.default_rng(3)
    params = {"w": rng.normal(size=3), "b": rng.normal(size=3), "s": 0.7}
    x = rng.normal(size=3)
    g = grad(dict_loss)(params, x)
    assert_same_structure(g, params)
    assert_grad_close(g, numerical_grad(dict_loss, (params, x)))
    assert isinstance(g["s"], float)


def list_loss(ws):
    return np.sum(ws[0] * ws[1]) + ws[2] ** 3


def test_list_argument_gives_list_gradient():
    ws = [np.array([1.0, 2.0]), np.array([3.0, -1.0]), 0.5]
    g = grad(list_loss)(ws)
    assert type(g) is list and len(g) == 3
    assert_same_structure(g, ws)
    assert_grad_close(g, [np.array([3.0, -1.0]), np.array([1.0, 2.0]), 0.75])


def tuple_loss(wb, x):
    w, b = wb
    return np.sum((w @ x + b) ** 2)


def test_tuple_argument_gives_tuple_gradient():
    rng = np.random.default_rng(4)
    wb = (rng.normal(size=(2, 3)), rng.normal(size=2))
    x = rng.normal(size=3)
    g = grad(tuple_loss)(wb, x)
    assert type(g) is tuple
    assert_same_structure(g, wb)
    assert_grad_close(g, numerical_grad(tuple_loss, (wb, x)))


def test_container_arguments_are_not_mutated():
    params = {"w": np.array([1.0, 2.0, 3.0]), "b": np.zeros(3), "s": 0.5}
    x = np.array([0.5, -0.5, 1.0])
    before = copy_tree((params, x))
    grad(dict_loss)(params, x)
    value_and_grad(dict_loss, wrt=(0, 1))(params, x)
    assert_tree_equal((params, x), before)


# -- generated source and caching ------------------------------------------------


def test_grad_function_has_source():
    src = grad(seed_f, wrt=(0, 1)).source
    assert isinstance(src, str) and "def " in src


def cached_only_here(x):
    return x**4 - 2.0 * x


def test_grad_twice_transforms_once():
    before = s2s_ad.cache_info()
    g1 = grad(cached_only_here)(1.5)
    mid = s2s_ad.cache_info()
    g2 = grad(cached_only_here)(1.5)
    after = s2s_ad.cache_info()
    assert g1 == g2 == pytest.approx(4 * 1.5**3 - 2.0)
    assert mid["misses"] == before["misses"] + 1
    assert after["misses"] == mid["misses"]
    assert after["hits"] > mid["hits"]


def test_original_function_is_not_modified():
    code = seed_f.__code__
    grad(seed_f, wrt=(0, 1))(2.0, 0.5)
    assert seed_f.__code__ is code
    assert seed_f(2.0, 0.5) == pytest.approx(SEED_VALUE, abs=1e-6)


def test_lambda_as_the_differentiated_function():
    square_sum = lambda x: np.sum(x**2)
    g = grad(square_sum)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 4.0])
    assert "def grad_lambda_(" in s2s_ad.gradient_source(square_sum)


def test_repeat_calls_with_the_same_argument_types():
    # The per-call fast path must agree with the general one whatever the
    # order of calls: floats, an int for a wrt argument, arrays, keywords.
    def f(x, y, n):
        return x * y**n

    vg = value_and_grad(f, wrt=(0, 1))
    expected = (12.0, (4.0, 12.0))
    for _ in range(2):
        assert vg(3.0, 2.0, 2) == expected
    value, (gx, gy) = vg(3, 2.0, 2)
    assert (value, gx, gy) == expected[:1] + expected[1]
    assert type(gx) is float
    assert vg(3.0, y=2.0, n=2) == expected
    value, (gx, gy) = vg(np.float32(3.0), 2.0, 2)
    assert type(gx) is np.float32 and gx == 4.0 and gy == 12.0
    assert vg(3.0, 2.0, 2) == expected
    assert vg(3.0, 2.0, 3) == (24.0, (8.0, 36.0))
    with pytest.raises(TypeError, match="n"):
        vg(3.0, 2.0)
