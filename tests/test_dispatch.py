"""The call path of gradient objects: the fast lane for repeated number calls
and exact-float gradients agree with the general path in value and type."""

from __future__ import annotations

import copy
import importlib.util
import pickle

import numpy as np
import pytest

from s2s_ad import S2SError, grad, value_and_grad
from tests.fd import numerical_grad


def seed_f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def power(x, n):
    return x**n


def summed(x1, x2):
    return np.sum(seed_f(x1, x2))


def _expected(x1, x2):
    """The seed's value (a NumPy float, as np.exp makes it) and gradients
    (Python floats, like the arguments)."""
    e = np.exp(-0.5 * (x1 * x1 + x2 * x2))
    return x1 * e, (float(e * (1.0 - x1 * x1)), float(-x1 * x2 * e))


def _flatten(x):
    return [v for item in x for v in _flatten(item)] if isinstance(x, tuple) else [x]


class FloatSubclass(float):
    pass


@pytest.mark.parametrize("with_value", [True, False])
@pytest.mark.parametrize("wrt", [0, 1, (0, 1), (1, 0)])
def test_repeated_calls_agree_with_the_first(with_value, wrt):
    make = value_and_grad if with_value else grad
    g = make(seed_f, wrt)
    results = [g(2.0, 0.5) for _ in range(3)]  # the 2nd and 3rd take the lane
    value, grads = _expected(2.0, 0.5)
    fd = numerical_grad(seed_f, (2.0, 0.5), wrt=(0, 1))
    np.testing.assert_allclose(grads, fd, rtol=1e-6)
    picked = (
        grads[wrt]
        if isinstance(wrt, int)
        else tuple(grads[i] for i in wrt)  # in the order asked
    )
    want = (value, picked) if with_value else picked
    flat_want = _flatten(want)
    for got in results:
        flat = _flatten(got)
        assert flat == pytest.approx(flat_want, rel=1e-15)
        assert [type(v) for v in flat] == [type(v) for v in flat_want]


def test_each_argument_type_gets_its_own_code():
    g = grad(seed_f, (0, 1))
    as_floats = g(2.0, 0.5)
    assert all(type(v) is float for v in as_floats)
    as_numpy = g(np.float64(2.0), np.float64(0.5))
    assert all(type(v) is np.float64 for v in as_numpy)
    as_single = g(np.float32(2.0), np.float32(0.5))
    assert all(type(v) is np.float32 for v in as_single)
    again = g(2.0, 0.5)  # back to floats after other types
    assert all(type(v) is float for v in again)
    np.testing.assert_allclose(as_floats, again)
    np.testing.assert_allclose(as_floats, as_numpy)
    arrays = grad(summed, (0, 1))(np.array([2.0, 1.0]), np.array([0.5, 0.5]))
    assert all(type(v) is np.ndarray for v in arrays)
    np.testing.assert_allclose([a[0] for a in arrays], as_floats)


def test_a_float_subclass_and_ints_take_the_general_path():
    g = grad(seed_f, 0)
    first = g(2.0, 0.5)
    assert g(FloatSubclass(2.0), 0.5) == pytest.approx(first)
    assert g(2, 0.5) == pytest.approx(first)  # an int wrt argument is converted
    assert type(g(2, 0.5)) is float
    assert g(2.0, 0.5) == first


def test_non_differentiated_ints_and_keywords():
    g = grad(power, 0)
    for n in (2, 3, 2, 3):
        assert g(1.5, n) == pytest.approx(n * 1.5 ** (n - 1))
    assert g(1.5, n=3) == pytest.approx(3 * 1.5**2)
    assert g(x=1.5, n=2) == pytest.approx(3.0)
    want = numerical_grad(power, (1.5, 4), wrt=0)
    assert g(1.5, 4) == pytest.approx(want, rel=1e-6)


def test_wrong_arguments_still_raise_on_a_warm_gradient():
    g = grad(seed_f, 0)
    g(2.0, 0.5)
    with pytest.raises(TypeError, match="seed_f"):
        g(2.0)
    with pytest.raises(TypeError, match="seed_f"):
        g(2.0, 0.5, 1.0)
    with pytest.raises(S2SError, match="x1"):
        g(np.arange(3), 0.5)  # an integer array


def test_source_shows_the_code_the_last_call_ran():
    g = grad(seed_f, 0)
    g(2.0, 0.5)
    g(2.0, 0.5)
    # Made for Python floats and no seed: the gradient is returned as it is.
    assert "return value, (x1_bar,)" in g.source
    g(np.float64(2.0), 0.5)
    assert "rt.finalize(x1, x1_bar)" in g.source
    g(2.0, 0.5)
    assert "return value, (x1_bar,)" in g.source


def test_as_a_class_attribute_it_is_not_bound():
    class Model:
        gradient = grad(seed_f, 0)

    assert Model().gradient(2.0, 0.5) == pytest.approx(_expected(2.0, 0.5)[1][0])


def test_repr_pickling_and_copies():
    g = value_and_grad(seed_f, (0, 1))
    assert "seed_f" in repr(g)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(g)
    model = {"loss": g, "weights": [1.0]}
    copied = copy.deepcopy(model)
    assert copied["loss"] is g and copy.copy(g) is g
    assert copied["loss"](2.0, 0.5)[0] == g(2.0, 0.5)[0]


def test_a_shadowed_float_is_not_called(tmp_path):
    path = tmp_path / "shadowing.py"
    path.write_text("float = lambda v: 'shadowed'\n\n\ndef f(x):\n    return x * x\n")
    spec = importlib.util.spec_from_file_location("shadowing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g = grad(module.f, 0)
    assert g(3.0) == 6.0
    assert type(g(3.0)) is float


def weighted(x, a, n):
    return np.sum(a * x**n)


def test_array_arguments_take_the_lane_by_type_and_dtype():
    g = grad(weighted, 0)
    x, a = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    want = 2 * a * x
    for _ in range(3):
        got = g(x, a, 2)
        np.testing.assert_allclose(got, want)
        assert got.dtype == np.float64 and got is not x
    np.testing.assert_allclose(got, numerical_grad(weighted, (x, a, 2), wrt=0))
    single = g(x.astype(np.float32), a, 2)  # another dtype: its own gradient dtype
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, want, rtol=1e-6)
    ints = g(x, np.array([1, 2, 3]), 2)  # an integer array where none is wrt
    np.testing.assert_allclose(ints, 2 * np.array([1, 2, 3]) * x)
    np.testing.assert_allclose(g(x, a, 2), want)


@pytest.mark.parametrize(
    "bad", [np.array([1, 2, 3]), np.array([1.0 + 1j, 2.0, 3.0])], ids=["int", "complex"]
)
def test_a_warm_lane_still_refuses_bad_arrays(bad):
    g = grad(weighted, 0)
    a = np.ones(3)
    g(np.ones(3), a, 2)
    g(np.ones(3), a, 2)
    with pytest.raises(S2SError, match="'x'"):
        g(bad, a, 2)


def test_an_array_subclass_takes_the_general_path():
    g = grad(weighted, 0)
    x, a = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    first = g(x, a, 3)
    sub = g(x.view(FloatArray), a, 3)
    np.testing.assert_allclose(sub, first)


class FloatArray(np.ndarray):
    pass
