"""Unit tests of s2s_ad.runtime, the helpers generated code calls as ``rt``.

Each helper is checked against its definition: the adjoint helpers against
the primal operation they reverse (by the dot-product identity
<g, J v> == <J^T g, v>, or against central finite differences), the
structural helpers against hand-written expectations.  Every test also
checks that no input was mutated.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from s2s_ad import runtime as rt
from s2s_ad.errors import ArgumentError, NonScalarOutputError, UnsupportedSyntaxError

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape)


def vjp_check(primal, adjoint, x, out_shape=None):
    """<g, J v> == <adjoint(g), v> for a linear ``primal`` (exact up to rounding)."""
    y = np.asarray(primal(x))
    g = rand(*y.shape)
    v = rand(*np.shape(x))
    lhs = np.sum(g * np.asarray(primal(v)))
    rhs = np.sum(np.asarray(adjoint(g)) * v)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)


def frozen(*arrays):
    """Make arrays read-only so that any mutation raises."""
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return arrays


# -- is_zero ------------------------------------------------------------------


def test_is_zero_only_python_zeros():
    assert rt.is_zero(0.0) and rt.is_zero(0) and rt.is_zero(-0.0)
    assert not rt.is_zero(1.0)
    assert not rt.is_zero(np.float64(0.0))
    assert not rt.is_zero(np.zeros(3))
    assert not rt.is_zero([0.0])


# -- unbroadcast --------------------------------------------------------------


def test_unbroadcast_same_shape_returns_g_itself():
    g = rand(2, 3)
    assert rt.unbroadcast(g, rand(2, 3)) is g


def test_unbroadcast_python_scalar_gives_python_float():
    out = rt.unbroadcast(np.ones((2, 3)), 2.0)
    assert type(out) is float and out == 6.0
    assert type(rt.unbroadcast(np.float64(1.5), 3)) is float
    assert type(rt.unbroadcast(1.5, 3.0)) is float


def test_unbroadcast_scalar_g_is_returned_as_is():
    assert rt.unbroadcast(2.5, np.ones((2, 3))) == 2.5


def test_unbroadcast_zero_stays_zero():
    assert rt.is_zero(rt.unbroadcast(0.0, np.ones(3)))


@pytest.mark.parametrize(
    "x_shape, y_shape",
    [
        ((3,), (2, 3)),
        ((1, 3), (2, 3)),
        ((2, 1), (2, 3)),
        ((), (4,)),
        ((1,), (2, 3)),
        ((2, 1, 4), (5, 2, 3, 4)),
        ((1, 1), (3, 4)),
    ],
)
def test_unbroadcast_is_adjoint_of_broadcast(x_shape, y_shape):
    x = rand(*x_shape)
    vjp_check(
        lambda v: np.broadcast_to(v, y_shape),
        lambda g: rt.unbroadcast(g, x),
        x,
    )
    assert np.shape(rt.unbroadcast(rand(*y_shape), x)) == x_shape


_SHAPED_X = [rand(2, 3), rand(3), rand(2, 1), rand(1, 1), np.float64(0.7), np.zeros(())]


@pytest.mark.parametrize(
    "g, x",
    [
        (g, x)
        for x in _SHAPED_X
        for g in [
            rand(2, 3),
            0.0,
            1.5,
            np.float64(2.5),
            np.array(3.0),
            rand(*np.shape(x)),
        ]
    ],
)
def test_unbroadcast_to_is_unbroadcast_given_the_shape(g, x):
    expected = rt.unbroadcast(g, x)
    out = rt.unbroadcast_to(g, np.shape(x))
    assert type(out) is type(expected)
    assert np.shape(out) == np.shape(expected)
    np.testing.assert_array_equal(out, expected)
    if expected is g:
        assert out is g


def test_unbroadcast_does_not_mutate():
    g, x = frozen(rand(2, 3), rand(3))
    rt.unbroadcast(g, x)


# -- unreduce / unreduce_mean ---------------------------------------------------

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), ()]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_unreduce_is_adjoint_of_sum(axis, keepdims):
    x = rand(2, 3, 4)
    vjp_check(
        lambda v: np.sum(v, axis=axis, keepdims=keepdims),
        lambda g: rt.unreduce(g, x, axis, keepdims),
        x,
    )


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_unreduce_mean_is_adjoint_of_mean(axis, keepdims):
    x = rand(2, 3, 4)
    vjp_check(
        lambda v: np.mean(v, axis=axis, keepdims=keepdims),
        lambda g: rt.unreduce_mean(g, x, axis, keepdims),
        x,
    )


def test_unreduce_where_masks_and_mean_counts():
    x = rand(2, 3)
    where = np.array([[True, False, True], [False, False, True]])
    vjp_check(
        lambda v: np.sum(v, axis=1, where=where),
        lambda g: rt.unreduce(g, x, 1, False, where),
        x,
    )
    every_column = np.array([[True, False, True], [True, True, False]])
    vjp_check(
        lambda v: np.mean(v, axis=0, where=every_column),
        lambda g: rt.unreduce_mean(g, x, 0, False, every_column),
        x,
    )


def test_unreduce_result_is_a_read_only_view_that_in_place_helpers_copy():
    big = rand(80, 60)  # above rt._SMALL entries: spread, not filled
    out = rt.unreduce(1.0, big)
    assert out.shape == (80, 60) and not out.flags.writeable
    assert out.strides == (0, 0) and np.all(out == 1.0)
    x = rand(3, 4)
    small = rt.unreduce(2.0, x)  # a few entries: filled, a new array
    assert small.flags.writeable and small.flags.owndata
    np.testing.assert_array_equal(small, np.full((3, 4), 2.0))
    g = np.ones(4)
    out = rt.unreduce(g, x, 0)
    assert not out.flags.writeable
    # The helpers that update adjoints in place must copy it, never write
    # through to g.
    bar = rt.add_at(out, x, (0, 1), 5.0)
    assert bar[0, 1] == 6.0
    bar = rt.zero_at(rt.unreduce(g, x, 0), x, (1, 2))
    assert bar[1, 2] == 0.0 and bar[0, 2] == 1.0
    np.testing.assert_array_equal(g, np.ones(4))
    grads = rt.finalize(x, rt.unreduce(g, x, 0))
    assert grads.flags.writeable and grads.flags.owndata


def test_unreduce_scalar_x_and_zero():
    assert rt.unreduce(2.0, 3.0) == 2.0
    assert rt.unreduce_mean(2.0, 3.0) == 2.0
    assert rt.is_zero(rt.unreduce(0.0, rand(3)))
    assert rt.is_zero(rt.unreduce_mean(0.0, rand(3)))


def test_unreduce_keeps_float32():
    x = rand(3).astype(np.float32)
    assert rt.unreduce(1.0, x).dtype == np.float32


# -- unreduce_max -------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("reduce", [np.max, np.min])
def test_unreduce_max_matches_finite_differences(axis, keepdims, reduce):
    x = rand(3, 4)  # no ties almost surely
    ans = reduce(x, axis=axis, keepdims=keepdims)
    g = rand(*np.shape(ans))
    got = rt.unreduce_max(g, x, ans, axis, keepdims)
    h = 1e-6
    expected = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        diff = reduce(xp, axis=axis, keepdims=keepdims) - reduce(
            xm, axis=axis, keepdims=keepdims
        )
        expected[idx] = np.sum(g * diff) / (2 * h)
    np.testing.assert_allclose(got, expected, atol=1e-8)


def test_unreduce_max_splits_ties_equally():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    ans = np.max(x, axis=1)
    got = rt.unreduce_max(np.array([1.0, 3.0]), x, ans, 1)
    np.testing.assert_allclose(got, [[0.0, 0.5, 0.5], [1.0, 1.0, 1.0]])
    got = rt.unreduce_max(1.0, x, np.max(x))
    np.testing.assert_allclose(got, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


def test_unreduce_max_nan_goes_to_nan_entries():
    x = np.array([1.0, np.nan, 2.0])
    got = rt.unreduce_max(1.0, x, np.max(x))
    np.testing.assert_array_equal(got, [0.0, 1.0, 0.0])


def test_unreduce_max_where_and_scalar():
    x = np.array([5.0, 1.0, 3.0])
    mask = np.array([False, True, True])
    ans = np.max(x, where=mask, initial=-np.inf)
    np.testing.assert_array_equal(
        rt.unreduce_max(1.0, x, ans, None, False, mask), [0, 0, 1]
    )
    assert rt.unreduce_max(2.0, 4.0, 4.0) == 2.0
    assert rt.is_zero(rt.unreduce_max(0.0, x, 5.0))


# -- prod -----------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_adjoint_matches_finite_differences(axis, keepdims):
    x = rand(2, 3, 2)
    x[0, 1, 1] = 0.0  # a zero is handled exactly
    x[1, 2, 0] = 0.0
    x[1, 2, 1] = 0.0  # two zeros in one slice
    ans = np.prod(x, axis=axis, keepdims=keepdims)
    g = rand(*np.shape(ans))
    got = rt.prod_adjoint(g, x, axis, keepdims)
    h = 1e-6
    expected = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        diff = np.prod(xp, axis=axis, keepdims=keepdims) - np.prod(
            xm, axis=axis, keepdims=keepdims
        )
        expected[idx] = np.sum(g * diff) / (2 * h)
    np.testing.assert_allclose(got, expected, atol=1e-8)


def test_prod_adjoint_scalar_empty_zero():
    assert rt.prod_adjoint(2.0, 3.0) == 2.0
    assert rt.prod_adjoint(1.0, np.zeros(0)).shape == (0,)
    assert rt.is_zero(rt.prod_adjoint(0.0, rand(3)))


# -- acc ------------------------------------------------------------------------


def test_acc_zero_is_identity():
    b = rand(3)
    assert rt.acc(0.0, b) is b
    assert rt.acc(b, 0.0) is b
    assert rt.acc(0, 2.0) == 2.0


def test_acc_numbers_and_arrays_not_in_place():
    a, b = frozen(rand(3), rand(3))
    out = rt.acc(a, b)
    np.testing.assert_array_equal(out, a + b)
    assert out is not a and out is not b
    assert rt.acc(1.5, 2.0) == 3.5


def test_acc_lists_tuples_dicts():
    a = [1.0, 0.0, np.ones(2)]
    b = [0.0, 2.0, np.ones(2)]
    out = rt.acc(a, b)
    assert isinstance(out, list) and out[0] == 1.0 and out[1] == 2.0
    np.testing.assert_array_equal(out[2], [2.0, 2.0])
    assert a == [1.0, 0.0, a[2]] and b[1] == 2.0  # inputs untouched
    np.testing.assert_array_equal(a[2], np.ones(2))
    out = rt.acc((1.0, 0.0), (1.0, 3.0))
    assert out == (2.0, 3.0) and isinstance(out, tuple)
    da, db = {"w": 1.0, "b": 2.0}, {"b": 3.0, "c": 4.0}
    out = rt.acc(da, db)
    assert out == {"w": 1.0, "b": 5.0, "c": 4.0}
    assert da == {"w": 1.0, "b": 2.0} and db == {"b": 3.0, "c": 4.0}


def test_acc_nested_and_list_with_array():
    out = rt.acc([{"w": 1.0}, (1.0, 2.0)], [{"w": 2.0, "v": 1.0}, 0.0])
    assert out == [{"w": 3.0, "v": 1.0}, (1.0, 2.0)]
    # the adjoint of a list that was turned into an array may be an array
    out = rt.acc([1.0, 0.0], np.array([2.0, 3.0]))
    assert isinstance(out, list) and out == [3.0, 3.0]


def test_acc_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        rt.acc([1.0, 2.0], [1.0])


# -- add_at ---------------------------------------------------------------------

INDICES = [
    2,
    -1,
    slice(1, 4),
    slice(None, None, 2),
    slice(None, None, -1),
    np.array([0, 2, 2, 4]),  # repeated indices accumulate
    [1, 1, 1],
    np.array([True, False, True, True, False]),
    (None,),
    Ellipsis,
]


@pytest.mark.parametrize("idx", INDICES, ids=repr)
def test_add_at_is_adjoint_of_getitem_1d(idx):
    x = rand(5)
    vjp_check(lambda v: v[idx], lambda g: rt.add_at(0.0, x, idx, g), x)


INDICES_2D = [
    (1, 2),
    (slice(None), 1),
    (Ellipsis, -1),
    (None, slice(0, 2), None),
    (np.array([0, 0, 1]), np.array([2, 2, 0])),
    (np.array([1, 0, 1]),),
    np.array([[True, False, True, False], [False, True, True, False], [True] * 4]),
    (slice(None, None, -1), np.array([0, 3, 3])),
    (np.array([True, False, True]), slice(1, 3)),
]


@pytest.mark.parametrize("idx", INDICES_2D, ids=repr)
def test_add_at_is_adjoint_of_getitem_2d(idx):
    x = rand(3, 4)
    vjp_check(lambda v: v[idx], lambda g: rt.add_at(0.0, x, idx, g), x)


def test_add_at_updates_array_adjoint_in_place_and_broadcasts_scalar():
    x = rand(4)
    bar = np.ones(4)
    out = rt.add_at(bar, x, slice(0, 2), 2.0)
    assert out is bar
    np.testing.assert_array_equal(bar, [3.0, 3.0, 1.0, 1.0])
    out = rt.add_at(bar, x, np.array([3, 3]), 1.0)
    np.testing.assert_array_equal(out, [3.0, 3.0, 1.0, 3.0])


def test_add_at_zero_g_and_read_only_bar_and_float32():
    x = rand(3)
    bar = np.ones(3)
    assert rt.add_at(bar, x, 0, 0.0) is bar
    ro = np.broadcast_to(np.ones(1), (3,))
    out = rt.add_at(ro, x, 0, 1.0)
    np.testing.assert_array_equal(out, [2.0, 1.0, 1.0])
    np.testing.assert_array_equal(ro, [1.0, 1.0, 1.0])
    x32 = np.ones(3, dtype=np.float32)
    assert rt.add_at(0.0, x32, 1, 1.0).dtype == np.float32
    xi = np.arange(3)
    assert rt.add_at(0.0, xi, 1, 1.0).dtype == np.float64


def test_add_at_array_slice_fast_path_matches_the_general_one():
    g = np.array([1.0, -0.0])
    for x in (np.ones(3), np.ones(3, dtype=np.float32), np.arange(3)):
        for bar in (0.0, np.zeros(3), np.broadcast_to(np.ones(1), (3,)), np.ones(1)):
            kept = isinstance(bar, np.ndarray) and bar.shape == (3,)
            kept = kept and bar.flags.writeable  # updated in place
            dtype = bar.dtype if kept else rt._float_dtype(x)
            expected = np.zeros(3, dtype=dtype)
            expected += bar
            expected[1:] += g
            before = np.array(bar)
            out = rt.add_at(bar, x, slice(1, None), g)
            assert out.dtype == expected.dtype and out.shape == (3,)
            np.testing.assert_array_equal(out, expected)
            assert np.signbit(out).tolist() == np.signbit(expected).tolist()
            if isinstance(bar, np.ndarray) and not bar.flags.writeable:
                np.testing.assert_array_equal(bar, before)  # copied, not written


def test_add_at_never_mutates_x():
    (x,) = frozen(rand(3, 4))
    rt.add_at(0.0, x, (1, 2), 1.0)


def test_add_at_list_tuple_dict():
    lst = [1.0, np.ones(2), 3.0]
    out = rt.add_at(0.0, lst, 1, np.array([1.0, 2.0]))
    assert isinstance(out, list) and len(out) == 3
    assert out[0] == 0.0 and out[2] == 0.0
    np.testing.assert_array_equal(out[1], [1.0, 2.0])
    again = rt.add_at(out, lst, -2, np.array([1.0, 1.0]))
    np.testing.assert_array_equal(again[1], [2.0, 3.0])
    np.testing.assert_array_equal(out[1], [1.0, 2.0])  # earlier adjoint untouched
    out = rt.add_at(0.0, (1.0, 2.0, 3.0), slice(0, 3, 2), [5.0, 7.0])
    assert out == (5.0, 0.0, 7.0)
    out = rt.add_at({"a": 1.0}, {"a": 1.0, "b": 2.0}, "b", 4.0)
    assert out == {"a": 1.0, "b": 4.0}
    out = rt.add_at(out, {"a": 1.0, "b": 2.0}, "b", 1.0)
    assert out == {"a": 1.0, "b": 5.0}


def test_add_at_list_with_array_adjoint():
    # np.sum(lst) gives the list an array adjoint; indexing the list still works
    out = rt.add_at(np.array([1.0, 2.0]), [0.5, 0.5], 0, 1.0)
    assert out == [2.0, 2.0]


# -- getitem_adj / zero_at --------------------------------------------------------


def test_getitem_adj():
    g = rand(3, 4)
    before = g.copy()
    row = rt.getitem_adj(g, 1)
    np.testing.assert_array_equal(row, g[1])
    row += 1.0  # a copy: g is not touched
    np.testing.assert_array_equal(g, before)
    assert rt.is_zero(rt.getitem_adj(0.0, 3))
    assert rt.getitem_adj([1.0, 2.0], 1) == 2.0
    assert rt.getitem_adj((1.0, 2.0, 3.0), slice(1, None)) == (2.0, 3.0)
    assert rt.getitem_adj({"a": 1.0}, "b") == 0.0
    assert rt.getitem_adj(2.5, 7) == 2.5
    inner = np.ones(2)
    got = rt.getitem_adj([inner], 0)
    assert got is not inner


def test_zero_at_arrays_lists_dicts():
    bar = np.ones((2, 3))
    out = rt.zero_at(bar, bar, (0, slice(1, None)))
    np.testing.assert_array_equal(out, [[1, 0, 0], [1, 1, 1]])
    out = rt.zero_at(np.ones(4), np.ones(4), np.array([0, 0, 2]))
    np.testing.assert_array_equal(out, [0, 1, 0, 1])
    ro = np.broadcast_to(np.ones(1), (3,))
    np.testing.assert_array_equal(rt.zero_at(ro, ro, 1), [1, 0, 1])
    lst = [1.0, 2.0, 3.0]
    assert rt.zero_at(lst, lst, 1) == [1.0, 0.0, 3.0] and lst == [1.0, 2.0, 3.0]
    assert rt.zero_at(lst, lst, slice(None, None, 2)) == [0.0, 2.0, 0.0]
    dct = {"a": 1.0, "b": 2.0}
    assert rt.zero_at(dct, dct, "a") == {"b": 2.0} and dct == {"a": 1.0, "b": 2.0}
    assert rt.is_zero(rt.zero_at(0.0, dct, "a"))


def test_zero_at_gives_a_zero_adjoint_its_primal_structure():
    # The next transformation reads a 0.0 adjoint as a scalar, which has no
    # entry to clear: a cleared slot of an array or list needs its shape.
    out = rt.zero_at(0.0, np.ones((2, 3), dtype=np.float32), (1, 2))
    assert out.shape == (2, 3) and out.dtype == np.float32 and not out.any()
    out = rt.zero_at(0.0, np.arange(3), 1)
    assert out.dtype == np.float64 and not out.any()
    assert rt.zero_at(0.0, [1.0, 2.0], 0) == [0.0, 0.0]
    assert rt.zero_at(0.0, (1.0, 2.0, 3.0), 2) == (0.0, 0.0, 0.0)


# -- zeros_like / finalize ---------------------------------------------------------


def test_zeros_like():
    z = rt.zeros_like(np.ones(3, dtype=np.float32))
    assert z.dtype == np.float32 and z.shape == (3,)
    assert rt.zeros_like(np.arange(3)).dtype == np.float64
    assert rt.zeros_like(np.array([True])).dtype == np.float64
    assert type(rt.zeros_like(3)) is float
    assert type(rt.zeros_like(2.5)) is float
    assert type(rt.zeros_like(np.float32(1))) is np.float32
    assert type(rt.zeros_like(np.int64(1))) is np.float64
    z = rt.zeros_like({"a": (1.0, np.ones(2)), "b": [2]})
    assert z["a"][0] == 0.0 and isinstance(z["a"], tuple) and z["b"] == [0.0]
    np.testing.assert_array_equal(z["a"][1], [0.0, 0.0])


def test_finalize_arrays_are_new_and_shaped():
    x = np.ones((2, 3), dtype=np.float32)
    g = np.ones((2, 3))
    out = rt.finalize(x, g)
    assert out.dtype == np.float32 and out is not g
    out = rt.finalize(np.ones((2, 3)), g)
    assert out is not g and out.dtype == np.float64
    out = rt.finalize(np.ones((2, 3)), 1.5)
    np.testing.assert_array_equal(out, np.full((2, 3), 1.5))
    out = rt.finalize(np.ones((2, 3)), np.ones((4, 2, 3)))  # leftover broadcast
    np.testing.assert_array_equal(out, np.full((2, 3), 4.0))
    assert rt.finalize(np.ones(3), 0.0).shape == (3,)


def test_finalize_scalars():
    assert type(rt.finalize(2.0, np.float64(3.0))) is float
    assert type(rt.finalize(2, np.array(3.0))) is float
    assert type(rt.finalize(np.float32(2.0), 3.0)) is np.float32
    assert type(rt.finalize(np.float64(2.0), 0.0)) is np.float64
    assert rt.finalize(2.0, np.ones(3)) == 3.0


def test_finalize_containers():
    x = {"w": np.ones(2), "b": 1.0, "layers": [np.ones(3), (2.0, 3.0)]}
    g = {"w": np.array([1.0, 2.0]), "layers": [0.0, (1.0, 0.0)]}
    out = rt.finalize(x, g)
    assert set(out) == {"w", "b", "layers"}
    np.testing.assert_array_equal(out["w"], [1.0, 2.0])
    assert out["w"] is not g["w"]
    assert out["b"] == 0.0 and type(out["b"]) is float
    assert isinstance(out["layers"], list) and isinstance(out["layers"][1], tuple)
    np.testing.assert_array_equal(out["layers"][0], np.zeros(3))
    assert out["layers"][1] == (1.0, 0.0)
    out = rt.finalize([1.0, 2.0], np.array([3.0, 4.0]))
    assert out == [3.0, 4.0] and all(type(v) is float for v in out)


def test_finalize_never_aliases_two_gradients():
    g = np.ones(3)
    a = rt.finalize(np.zeros(3), g)
    b = rt.finalize(np.zeros(3), g)
    a += 1.0
    np.testing.assert_array_equal(b, np.ones(3))


# -- seed -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [2.0, 3, np.float32(1.0), np.array(2.0), np.int64(3)])
def test_seed_of_scalar_is_one(value):
    s = rt.seed(value)
    assert s == 1.0 and type(s) is float


def test_seed_of_array_without_seed_explains():
    with pytest.raises(NonScalarOutputError) as info:
        rt.seed(np.ones(3))
    msg = str(info.value)
    assert "array of shape (3,)" in msg
    assert "return y.sum()" in msg
    assert "grad(f, seed=np.ones((3,)))" in msg
    assert "vector-Jacobian product" in msg
    with pytest.raises(NonScalarOutputError, match="a tuple"):
        rt.seed((1.0, np.ones(2)))
    with pytest.raises(NonScalarOutputError, match="NoneType"):
        rt.seed(None)


def test_seed_given_value_is_copied_as_float():
    value = np.ones((2, 3), dtype=np.float32)
    s = np.arange(6.0).reshape(2, 3)
    out = rt.seed(value, s)
    assert out is not s and out.dtype == np.float32
    out[0, 0] = 100.0
    assert s[0, 0] == 0.0
    out = rt.seed(np.ones(3), [1, 2, 3])
    assert out.dtype == np.float64
    assert type(rt.seed(2.0, 3)) is float


def test_seed_callable_and_containers():
    out = rt.seed(np.ones(3), np.ones_like)
    np.testing.assert_array_equal(out, np.ones(3))
    out = rt.seed((2.0, np.ones(2)), (1.0, np.array([1.0, 2.0])))
    assert isinstance(out, tuple) and out[0] == 1.0
    out = rt.seed({"a": 1.0, "b": np.ones(2)}, {"b": np.ones(2)})
    assert set(out) == {"b"}
    out = rt.seed([1.0, np.ones(2)], [0.0, None])
    assert rt.is_zero(out[0]) and rt.is_zero(out[1])


@pytest.mark.parametrize(
    "value, s, match",
    [
        (np.ones(3), np.ones(4), r"shape \(4,\).*shape \(3,\)"),
        (np.ones((2, 3)), np.ones(3), r"shape \(3,\)"),
        (2.0, np.ones(2), "scalar"),
        ((1.0, 2.0), (1.0,), "tuple of 2"),
        ({"a": 1.0}, {"b": 1.0}, "keys"),
        (np.ones(2), np.ones(2) * 1j, "complex"),
    ],
)
def test_seed_mismatch_is_argument_error(value, s, match):
    with pytest.raises(ArgumentError, match=match):
        rt.seed(value, s)


# -- arguments ------------------------------------------------------------------


def test_copy_arg():
    a = np.ones(3)
    assert rt.copy_arg(a) is not a
    lst = [a]
    c = rt.copy_arg(lst)
    assert c == lst and c is not lst and c[0] is a  # shallow
    d = {"a": 1}
    assert rt.copy_arg(d) is not d
    t = (1, 2)
    assert rt.copy_arg(t) is t
    assert rt.copy_arg(2.0) == 2.0


def test_check_wrt_arg_accepts_floats_and_ints():
    for ok in (
        1.0,
        2,
        np.ones(3),
        np.float32(1),
        [1.0, np.ones(2)],
        {"a": (1.0,)},
        "s",
    ):
        assert rt.check_wrt_arg(ok, "x") is None


@pytest.mark.parametrize(
    "value, match",
    [
        (np.arange(3), r"'x'.*integer array.*x\.astype\(float\)"),
        (np.array([True]), r"'x'.*boolean array.*x\.astype\(float\)"),
        (np.ones(2, dtype=complex), "complex inputs are not supported yet"),
        (1j, "complex inputs are not supported yet"),
        (np.int64(2), r"integer scalar.*float\(x\)"),
        (np.array(["a"]), "dtype <U1"),
    ],
)
def test_check_wrt_arg_refuses(value, match):
    with pytest.raises(ArgumentError, match=match):
        rt.check_wrt_arg(value, "x")


def test_check_wrt_arg_names_nested_entries():
    with pytest.raises(ArgumentError, match=r"params\['w'\]\[1\]"):
        rt.check_wrt_arg({"w": [np.ones(2), np.arange(2)]}, "params")


# -- lists ----------------------------------------------------------------------


def test_pop_adj():
    bar = [1.0, 2.0, 3.0]
    rest, last = rt.pop_adj(bar)
    assert rest == [1.0, 2.0] and last == 3.0 and bar == [1.0, 2.0, 3.0]
    assert rt.pop_adj(0.0) == (0.0, 0.0)
    arr = np.arange(3.0)
    rest, last = rt.pop_adj(arr)
    np.testing.assert_array_equal(rest, [0.0, 1.0])
    assert last == 2.0
    rest += 1
    np.testing.assert_array_equal(arr, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unstack_is_adjoint_of_stack(axis):
    parts = [rand(2, 3) for _ in range(4)]
    g = rand(*np.stack(parts, axis=axis).shape)
    pieces = rt.unstack(g, 4, axis)
    assert len(pieces) == 4
    lhs = np.sum(g * np.stack(parts, axis=axis))
    rhs = sum(np.sum(p * q) for p, q in zip(pieces, parts))
    np.testing.assert_allclose(lhs, rhs)
    assert rt.is_zero(rt.unstack(0.0, 4))


def test_stack_adjoint_keeps_structure():
    out = rt.stack_adjoint(np.arange(3.0), (1.0, 2.0, 3.0))
    assert out == (0.0, 1.0, 2.0) and all(type(v) is float for v in out)
    out = rt.stack_adjoint(np.ones((2, 3)), [np.ones(2), np.ones(2)], axis=1)
    assert isinstance(out, list) and out[0].shape == (2,)
    arr = rand(3, 2)
    out = rt.stack_adjoint(np.ones((2, 3)), arr, axis=1)
    assert out.shape == (3, 2)


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concatenate_adjoint(axis):
    parts = [rand(2, 3), rand(2, 3) if axis != 0 else rand(4, 3), rand(2, 3)]
    if axis in (1, -1):
        parts[1] = rand(2, 5)
    out = np.concatenate(parts, axis=axis)
    g = rand(*out.shape)
    pieces = rt.concatenate_adjoint(g, parts, axis)
    assert [p.shape for p in pieces] == [p.shape for p in parts]
    lhs = np.sum(g * out)
    rhs = sum(np.sum(p * q) for p, q in zip(pieces, parts))
    np.testing.assert_allclose(lhs, rhs)
    assert isinstance(rt.concatenate_adjoint(g, tuple(parts), axis), tuple)


def test_array_adjoint():
    out = rt.array_adjoint(np.array([1.0, 2.0]), [3.0, 4.0], np.zeros(2))
    assert out == [1.0, 2.0] and all(type(v) is float for v in out)
    out = rt.array_adjoint(np.ones((2, 3)), (np.zeros(3), [0.0, 1.0, 2.0]))
    assert isinstance(out, tuple) and isinstance(out[1], list) and out[0].shape == (3,)
    x = rand(3)
    out = rt.array_adjoint(np.ones((1, 1, 3)), x)  # ndmin=3
    assert out.shape == (3,)
    assert rt.is_zero(rt.array_adjoint(np.ones(2), [1.0, 2.0], np.zeros(2, dtype=int)))


def test_sum_adjoint_and_extremes():
    g = np.ones(2)
    out = rt.sum_adjoint(g, [np.zeros(2), np.zeros(2), 1.0])
    assert out[0] is not out[1] and out[2] == 2.0
    assert rt.sum_adjoint(2.0, (1.0, 2.0)) == (2.0, 2.0)
    np.testing.assert_array_equal(
        rt.sum_adjoint(np.ones(3), rand(4, 3)), np.ones((4, 3))
    )
    assert rt.extreme_adjoint(1.0, 3.0, (3.0, 1.0, 3.0)) == (0.5, 0.0, 0.5)
    assert rt.extreme_adjoint(2.0, 3.0, ([1.0, 3.0],)) == ([0.0, 2.0],)
    a, b = [1.0], [2.0]
    assert rt.extreme_adjoint(1.0, a, (a, b), key=len) == (1.0, 0.0)
    out = rt.extreme_adjoint(1.0, 3.0, (np.array([3.0, 1.0, 3.0]),))
    np.testing.assert_array_equal(out[0], [0.5, 0.0, 0.5])
    assert rt.default_adjoint(1.0, ([],)) == 1.0
    assert rt.default_adjoint(1.0, ([2.0],)) == 0.0


# -- elementwise helpers ----------------------------------------------------------


def test_div_gives_ieee_results_for_python_zero():
    assert rt.div(1.0, 0.0) == math.inf
    assert rt.div(-1.0, 0.0) == -math.inf
    assert math.isnan(rt.div(0.0, 0.0))
    assert rt.div(1, 2) == 0.5


def test_sign():
    assert rt.sign(-2.0) == -1.0 and rt.sign(0.0) == 0.0 and type(rt.sign(3)) is float
    np.testing.assert_array_equal(rt.sign(np.array([-1.0, 0.0, 2.0])), [-1, 0, 1])


def test_pow_base_partial():
    assert (
        rt.pow_base_partial(3.0, 2) == 6.0
        and type(rt.pow_base_partial(3.0, 2)) is float
    )
    assert rt.pow_base_partial(0.0, 0) == 0.0  # d/dx x**0 = 0, even at 0
    assert rt.pow_base_partial(0, 0.0) == 0.0
    assert rt.pow_base_partial(0.0, 1) == 1.0
    assert rt.pow_base_partial(0.0, 0.5) == math.inf
    assert rt.pow_base_partial(-2.0, 3) == 12.0
    assert rt.pow_base_partial(2, -1) == -0.25  # Python ints: no integer-power error
    out = rt.pow_base_partial(np.array([0.0, 2.0]), np.array([0.0, 3.0]))
    np.testing.assert_array_equal(out, [0.0, 12.0])
    out = rt.pow_base_partial(np.arange(3), -1)
    assert out.dtype == np.float64
    assert rt.pow_base_partial(np.float32(2.0), 2).dtype == np.float32


def test_xlogy_safe():
    assert rt.xlogy_safe(0.0, 0.0) == 0.0
    assert rt.xlogy_safe(2.0, math.e) == pytest.approx(2.0)
    assert math.isnan(rt.xlogy_safe(1.0, -1.0))
    np.testing.assert_array_equal(
        rt.xlogy_safe(np.array([0.0, 1.0]), np.array([0.0, 1.0])), [0, 0]
    )


def test_tie_weights():
    assert rt.maximum_weight(2.0, 1.0) == 1.0
    assert rt.maximum_weight(1.0, 1.0) == 0.5
    assert rt.minimum_weight(2.0, 1.0) == 0.0
    w = rt.maximum_weight(np.array([1.0, 2.0, 3.0], dtype=np.float32), 2.0)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, [0.0, 0.5, 1.0])


def test_where_and_clip_adjoints():
    cond = np.array([True, False, True])
    np.testing.assert_array_equal(
        rt.where_adjoint(np.ones(3), cond, np.ones(3), True), cond
    )
    assert rt.where_adjoint(np.ones(3), cond, 1.0, False) == 1.0
    a = np.array([-2.0, -0.5, 0.5, 2.0])
    g = np.ones(4)
    np.testing.assert_array_equal(rt.clip_adjoint(g, a, -1.0, 1.0, 0), [0, 1, 1, 0])
    assert rt.clip_adjoint(g, a, -1.0, 1.0, 1) == 1.0
    assert rt.clip_adjoint(g, a, -1.0, 1.0, 2) == 1.0
    np.testing.assert_array_equal(rt.clip_adjoint(g, a, None, 1.0, 0), [1, 1, 1, 0])
    assert rt.is_zero(rt.clip_adjoint(g, a, None, 1.0, 1))
    # lo > hi: NumPy returns hi everywhere, so hi gets everything
    np.testing.assert_array_equal(rt.clip_adjoint(g, a, 1.0, -1.0, 0), np.zeros(4))
    assert rt.clip_adjoint(g, a, 1.0, -1.0, 2) == 4.0


def test_add_and_mul_adjoints_for_sequences():
    g = [1.0, 2.0, 3.0]
    assert rt.add_adjoint(g, [0.0], [0.0, 0.0], True) == [1.0]
    assert rt.add_adjoint(g, (0.0, 0.0), (0.0,), False) == (2.0, 3.0)
    assert rt.mul_adjoint([1.0, 2.0, 3.0, 4.0], [0.0, 0.0], 2) == [4.0, 6.0]
    assert rt.is_zero(rt.mul_adjoint([1.0, 2.0], 2, [0.0]))
    assert rt.mul_adjoint(np.ones(3), 2.0, np.arange(3.0)) == 3.0


def test_hypot_and_log_base():
    out = rt.hypot_adjoint(1.0, 5.0, (3.0, 4.0))
    assert out == pytest.approx((0.6, 0.8))
    assert rt.hypot_adjoint(1.0, 0.0, (0.0, 0.0)) == (0.0, 0.0)
    assert rt.log_of_base(None) == 1.0
    assert rt.log_of_base(math.e) == pytest.approx(1.0)


# -- linear algebra and shapes ---------------------------------------------------

DOT_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((), (3, 2)),
    ((2, 3), ()),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (5, 4, 6)),
    ((4,), (2, 4, 3)),
]


@pytest.mark.parametrize("a_shape, b_shape", DOT_SHAPES)
def test_dot_adjoints(a_shape, b_shape):
    a, b = rand(*a_shape), rand(*b_shape)
    vjp_check(lambda v: np.dot(v, b), lambda g: rt.dot_adjoint_a(g, a, b), a)
    vjp_check(lambda v: np.dot(a, v), lambda g: rt.dot_adjoint_b(g, a, b), b)
    assert np.shape(rt.dot_adjoint_a(rand(*np.shape(np.dot(a, b))), a, b)) == a_shape
    assert np.shape(rt.dot_adjoint_b(rand(*np.shape(np.dot(a, b))), a, b)) == b_shape


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul_adjoints(a_shape, b_shape):
    a, b = rand(*a_shape), rand(*b_shape)
    vjp_check(lambda v: v @ b, lambda g: rt.matmul_adjoint_a(g, a, b), a)
    vjp_check(lambda v: a @ v, lambda g: rt.matmul_adjoint_b(g, a, b), b)


def test_linear_adjoints_of_zero_and_scalar_seed():
    a, b = rand(2, 3), rand(3, 4)
    assert rt.is_zero(rt.dot_adjoint_a(0.0, a, b))
    assert rt.is_zero(rt.matmul_adjoint_b(0.0, a, b))
    # a 0-d adjoint stands for a constant array adjoint
    np.testing.assert_allclose(rt.matmul_adjoint_a(1.0, a, b), np.ones((2, 4)) @ b.T)
    np.testing.assert_allclose(rt.dot_adjoint_b(1.0, a, b), a.T @ np.ones((2, 4)))


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)])
def test_transpose_adjoint(axes):
    x = rand(2, 3, 4)
    vjp_check(
        lambda v: np.transpose(v, axes), lambda g: rt.transpose_adjoint(g, x, axes), x
    )


def test_method_axes():
    assert rt.method_axes(()) is None
    assert rt.method_axes((None,)) is None
    assert rt.method_axes(((1, 0),)) == (1, 0)
    assert rt.method_axes((1, 0, 2)) == (1, 0, 2)


@pytest.mark.parametrize("order", ["C", "F", "A"])
def test_reshape_adjoint(order):
    x = rand(2, 3, 4)
    vjp_check(
        lambda v: np.reshape(v, (4, 6), order=order),
        lambda g: rt.reshape_adjoint(g, x, order),
        x,
    )
    xf = np.asfortranarray(x)
    vjp_check(
        lambda v: np.ravel(np.asfortranarray(v), order="K"),
        lambda g: rt.reshape_adjoint(g, xf, "K"),
        xf,
    )


def test_reshape_adjoint_scalars_and_constants():
    assert rt.reshape_adjoint(np.ones(1), 2.0) == 1.0
    assert type(rt.reshape_adjoint(np.ones(1), 2.0)) is float
    np.testing.assert_array_equal(
        rt.reshape_adjoint(2.0, np.ones((2, 2))), np.full((2, 2), 2.0)
    )
    assert rt.is_zero(rt.reshape_adjoint(0.0, np.ones(3)))


def test_cast_full_linspace_arange_adjoints():
    assert rt.is_zero(rt.cast_adjoint(np.ones(2), np.ones(2, dtype=int)))
    g = np.ones(2)
    assert rt.cast_adjoint(g, np.ones(2)) is g
    assert rt.full_adjoint(np.ones((2, 3)), 1.0, np.ones((2, 3))) == 6.0
    np.testing.assert_array_equal(
        rt.full_adjoint(np.ones((2, 3)), np.ones(3), np.ones((2, 3))), [2, 2, 2]
    )
    assert rt.is_zero(rt.full_adjoint(np.ones(2), 1, np.ones(2, dtype=int)))
    # linspace(0, 1, 5): t = 0, .25, .5, .75, 1
    g = np.ones(5)
    samples = np.linspace(0.0, 1.0, 5)
    assert rt.linspace_adjoint(
        g, samples, 0.0, 1.0, 5, True, False, 0, 0
    ) == pytest.approx(2.5)
    assert rt.linspace_adjoint(
        g, samples, 0.0, 1.0, 5, True, False, 0, 1
    ) == pytest.approx(2.5)
    ans = np.linspace(0.0, 1.0, 4, endpoint=False, retstep=True)
    out = rt.linspace_adjoint((0.0, 1.0), ans, 0.0, 1.0, 4, False, True, 0, 1)
    assert out == pytest.approx(0.25)
    args = (1.0, 3.0, 0.5)
    out = rt.arange_adjoint(np.ones(4), np.arange(*args), args)
    assert out == (4.0, 0.0, 6.0)


# -- zero in, zero out ---------------------------------------------------------------

ZERO_CALLS = [
    ("unbroadcast", lambda g: rt.unbroadcast(g, np.ones(3))),
    ("unreduce", lambda g: rt.unreduce(g, np.ones((2, 3)), 1)),
    ("unreduce_mean", lambda g: rt.unreduce_mean(g, np.ones((2, 3)), 1)),
    ("unreduce_max", lambda g: rt.unreduce_max(g, np.ones(3), 1.0)),
    ("prod_adjoint", lambda g: rt.prod_adjoint(g, np.ones(3))),
    ("getitem_adj", lambda g: rt.getitem_adj(g, 1)),
    ("unstack", lambda g: rt.unstack(g, 2)),
    ("stack_adjoint", lambda g: rt.stack_adjoint(g, [np.ones(2)] * 2)),
    ("concatenate_adjoint", lambda g: rt.concatenate_adjoint(g, [np.ones(2)] * 2)),
    ("array_adjoint", lambda g: rt.array_adjoint(g, [1.0, 2.0])),
    ("full_adjoint", lambda g: rt.full_adjoint(g, 1.0, np.ones(2))),
    ("linspace_adjoint", lambda g: rt.linspace_adjoint(g, np.ones(3), 0.0, 1.0, 3)),
    ("sum_adjoint", lambda g: rt.sum_adjoint(g, [1.0, 2.0])),
    (
        "where_adjoint",
        lambda g: rt.where_adjoint(g, np.ones(2, bool), np.ones(2), True),
    ),
    ("clip_adjoint", lambda g: rt.clip_adjoint(g, np.ones(2), 0.0, 1.0, 0)),
    ("add_adjoint", lambda g: rt.add_adjoint(g, [1.0], [2.0], left=True)),
    ("mul_adjoint", lambda g: rt.mul_adjoint(g, np.ones(2), 2.0)),
    ("dot_adjoint_a", lambda g: rt.dot_adjoint_a(g, np.ones((2, 3)), np.ones(3))),
    ("dot_adjoint_b", lambda g: rt.dot_adjoint_b(g, np.ones((2, 3)), np.ones(3))),
    ("matmul_adjoint_a", lambda g: rt.matmul_adjoint_a(g, np.ones((2, 3)), np.ones(3))),
    ("matmul_adjoint_b", lambda g: rt.matmul_adjoint_b(g, np.ones((2, 3)), np.ones(3))),
    ("transpose_adjoint", lambda g: rt.transpose_adjoint(g, np.ones((2, 3)))),
    ("reshape_adjoint", lambda g: rt.reshape_adjoint(g, np.ones((2, 3)))),
    ("cast_adjoint", lambda g: rt.cast_adjoint(g, np.ones(2))),
]


@pytest.mark.parametrize(
    "call", [c for _, c in ZERO_CALLS], ids=[n for n, _ in ZERO_CALLS]
)
def test_zero_adjoint_gives_zero(call):
    assert rt.is_zero(call(0.0))


@pytest.mark.parametrize(
    "call",
    [
        lambda g: rt.extreme_adjoint(g, 1.0, (1.0, 2.0)),
        lambda g: rt.arange_adjoint(g, np.arange(1.0, 3.0), (1.0, 3.0)),
        lambda g: rt.hypot_adjoint(g, 5.0, (3.0, 4.0)),
    ],
)
def test_zero_adjoint_gives_zeros_per_argument(call):
    assert all(rt.is_zero(v) for v in call(0.0))


def test_helpers_accept_lists_where_numpy_does():
    # np.mean([a, b]) / np.maximum(x, [..]) hand the helpers Python lists
    np.testing.assert_array_equal(rt.unreduce_mean(1.0, [1.0, 2.0]), [0.5, 0.5])
    assert rt.unbroadcast(np.ones((2, 2)), [1.0, 2.0]).shape == (2,)
    np.testing.assert_array_equal(rt.maximum_weight(np.ones(2), [0.0, 1.0]), [1.0, 0.5])
    assert rt.zeros_like([1.0, np.ones(2)])[1].shape == (2,)


# -- tangents and the adjoints of the broadened NumPy rules ---------------------

SYM = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]])
SQ = rand(3, 3) + 3.0 * np.eye(3)

TANGENT_ZERO_CALLS = [
    ("dense_tangent list", lambda t: rt.linear_map(np.sum, t, [1.0, 2.0])),
    ("select_tangent", lambda t: rt.select_tangent(t, True, np.ones(2))),
    ("add_tangent", lambda t: rt.add_tangent((t, t), ([1.0], [2.0]), [1.0, 2.0])),
    ("mul_tangent", lambda t: rt.mul_tangent(t, 2, [1.0, 1.0])),
    ("extreme_tangent", lambda t: rt.extreme_tangent((t, t), 2.0, (1.0, 2.0))),
    ("sum_tangent", lambda t: rt.sum_tangent(t, [1.0, 2.0], 3.0)),
    ("hypot_tangent", lambda t: rt.hypot_tangent((t, t), (3.0, 4.0), 5.0)),
    ("max_tangent", lambda t: rt.max_tangent(t, np.ones(3), 1.0)),
    ("prod_tangent", lambda t: rt.prod_tangent(t, np.ones(3))),
    ("var_tangent", lambda t: rt.var_tangent(t, np.ones(3))),
    ("std_tangent", lambda t: rt.std_tangent(t, np.ones(3), 0.0)),
    ("cumprod_tangent", lambda t: rt.cumprod_tangent(t, np.ones(3), np.ones(3))),
    ("norm_tangent", lambda t: rt.norm_tangent(t, np.ones(3), 3.0**0.5)),
    ("einsum_tangent", lambda t: rt.einsum_tangent("i,i", (np.ones(2),) * 2, (t, t))),
    ("inv_tangent", lambda t: rt.inv_tangent(t, SQ)),
    ("det_tangent", lambda t: rt.det_tangent(t, SQ, 1.0)),
    ("slogdet_tangent", lambda t: rt.slogdet_tangent(t, SQ, (1.0, 0.0))),
    ("solve_tangent", lambda t: rt.solve_tangent(t, SQ, np.ones(3), np.ones(3), 0)),
    ("cholesky_tangent", lambda t: rt.cholesky_tangent(t, np.eye(3))),
    ("eigh_tangent", lambda t: rt.eigh_tangent(t, np.linalg.eigh(SYM))),
    ("eigvalsh_tangent", lambda t: rt.eigvalsh_tangent(t, SYM)),
    ("svd_tangent", lambda t: rt.svd_tangent(t, SQ, np.linalg.svd(SQ))),
    ("pinv_tangent", lambda t: rt.pinv_tangent(t, SQ, np.linalg.inv(SQ))),
    ("qr_tangent", lambda t: rt.qr_tangent(t, SQ, np.linalg.qr(SQ))),
    ("sort_tangent", lambda t: rt.sort_tangent(t, np.ones(3))),
    ("pad_tangent", lambda t: rt.pad_tangent(t, np.ones(3), 1)),
    ("pad_constant_tangent", lambda t: rt.pad_constant_tangent(t, np.ones(3), 1, 0)),
    ("atleast_tangent", lambda t: rt.atleast_tangent(np.atleast_2d, (t,), (1.0,), 0)),
    ("broadcast_arrays", lambda t: rt.broadcast_arrays_tangent((t,), (1.0,), (1.0,))),
    ("meshgrid_tangent", lambda t: rt.meshgrid_tangent((t,), (np.ones(2),), None)),
    ("full_tangent", lambda t: rt.full_tangent(t, np.ones(2))),
    ("linspace_tangent", lambda t: rt.linspace_tangent((t, t), np.ones(2), (0, 1))),
    ("arange_tangent", lambda t: rt.arange_tangent((t, t), (0.0, 1.0), np.ones(1))),
    ("array_tangent", lambda t: rt.array_tangent(t, [1.0], np.ones(1))),
    ("cast_tangent", lambda t: rt.cast_tangent(t, np.ones(1))),
    ("softmax_tangent", lambda t: rt.softmax_tangent(t, np.ones(2) / 2)),
    ("logsumexp_tangent", lambda t: rt.logsumexp_tangent(t, np.ones(2), 1.0)),
]
ADJOINT_ZERO_CALLS = [
    ("cumprod_adjoint", lambda g: rt.cumprod_adjoint(g, np.ones(3), np.ones(3))),
    ("inner_adjoint", lambda g: rt.inner_adjoint(g, np.ones(2), np.ones(2), 0)),
    ("vdot_adjoint", lambda g: rt.vdot_adjoint(g, np.ones(2), np.ones(2), 1)),
    ("tensordot_adjoint", lambda g: rt.tensordot_adjoint(g, SQ, SQ, 1, 0)),
    ("kron_adjoint", lambda g: rt.kron_adjoint(g, np.ones(2), np.ones(2), 0)),
    ("diagonal_adjoint", lambda g: rt.diagonal_adjoint(g, SQ)),
    ("diag_adjoint", lambda g: rt.diag_adjoint(g, np.ones(2))),
    ("inv_adjoint", lambda g: rt.inv_adjoint(g, SQ)),
    ("det_adjoint", lambda g: rt.det_adjoint(g, SQ, 1.0)),
    ("slogdet_adjoint", lambda g: rt.slogdet_adjoint(g, SQ)),
    ("solve_adjoint", lambda g: rt.solve_adjoint(g, SQ, np.ones(3), np.ones(3), 1)),
    ("cholesky_adjoint", lambda g: rt.cholesky_adjoint(g, np.eye(3))),
    ("eigh_adjoint", lambda g: rt.eigh_adjoint(g, np.linalg.eigh(SYM))),
    ("eigh_adjoint pair", lambda g: rt.eigh_adjoint((g, g), np.linalg.eigh(SYM))),
    ("eigvalsh_adjoint", lambda g: rt.eigvalsh_adjoint(g, SYM)),
    ("svd_adjoint", lambda g: rt.svd_adjoint(g, SQ, np.linalg.svd(SQ))),
    ("pinv_adjoint", lambda g: rt.pinv_adjoint(g, SQ, np.linalg.inv(SQ))),
    ("qr_adjoint", lambda g: rt.qr_adjoint(g, SQ, np.linalg.qr(SQ))),
    ("apply_adjoint", lambda g: rt.apply_adjoint(np.flip, g, np.ones(2))),
    ("broadcast_to_adjoint", lambda g: rt.broadcast_to_adjoint(g, 1.0, np.ones(2))),
    ("tri_adjoint", lambda g: rt.tri_adjoint(g, SQ, SQ)),
    ("tile_adjoint", lambda g: rt.tile_adjoint(g, np.ones(2), 2, np.ones(4))),
    ("repeat_adjoint", lambda g: rt.repeat_adjoint(g, np.ones(2), 2, np.ones(4))),
    ("take_adjoint", lambda g: rt.take_adjoint(g, np.ones(2), [0], np.ones(1))),
    ("sort_adjoint", lambda g: rt.sort_adjoint(g, np.ones(2), np.ones(2))),
    ("pad_adjoint", lambda g: rt.pad_adjoint(g, np.ones(2), 1)),
    ("pad_constant_adjoint", lambda g: rt.pad_constant_adjoint(g, np.ones(2), 1, 0.0)),
    ("split_adjoint", lambda g: rt.split_adjoint(g, [np.ones(1)] * 2)),
    ("stacked_adjoint", lambda g: rt.stacked_adjoint(g, [1.0], np.ones(1), "hstack")),
    ("item_adjoint", lambda g: rt.item_adjoint(g, np.ones(2), ())),
    ("softmax_adjoint", lambda g: rt.softmax_adjoint(g, np.ones(2) / 2)),
    ("logsumexp_adjoint", lambda g: rt.logsumexp_adjoint(g, np.ones(2), 1.0)),
]


@pytest.mark.parametrize(
    "call",
    [c for _, c in TANGENT_ZERO_CALLS + ADJOINT_ZERO_CALLS],
    ids=[n for n, _ in TANGENT_ZERO_CALLS + ADJOINT_ZERO_CALLS],
)
def test_zero_tangent_or_adjoint_gives_zero(call):
    out = call(0.0)
    if isinstance(out, tuple):
        assert all(rt.is_zero(v) for v in out)
    else:
        assert rt.is_zero(out)


def test_dense_tangent_fills_symbolic_zeros():
    t = rt.dense_tangent([np.ones(2), 0.0], [np.ones(2), np.ones(2)])
    assert isinstance(t, list) and t[1].shape == (2,) and not np.any(t[1])
    assert rt.dense_tangent(0.0, (1.0, np.ones(3)))[1].shape == (3,)
    out = rt.linear_map(np.stack, [np.ones(2), 0.0], [np.zeros(2), np.zeros(2)])
    np.testing.assert_array_equal(out, [[1.0, 1.0], [0.0, 0.0]])


def test_add_tangent_concatenates_sequences():
    a, b = (1.0, 2.0), (3.0,)
    assert rt.add_tangent(((0.1, 0.0), 0.0), (a, b), a + b) == (0.1, 0.0, 0.0)
    assert rt.add_tangent((0.0, [0.5]), ([1.0], [2.0]), [1.0, 2.0]) == [0.0, 0.5]
    out = rt.add_tangent((np.ones(3), 2.0), (np.ones(3), 1.0), np.ones(3))
    np.testing.assert_array_equal(out, [3.0, 3.0, 3.0])


def test_mul_tangent_repeats_sequences():
    assert rt.mul_tangent([0.1, 0.2], 2, [1.0, 2.0] * 2) == [0.1, 0.2, 0.1, 0.2]
    assert rt.is_zero(rt.mul_tangent(1.0, [1.0], [1.0]))  # the count of a repeat
    assert rt.mul_tangent((0.1,), 0, ()) == ()
    out = rt.mul_tangent(2.0, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(out, [2.0, 2.0, 2.0])


def test_extreme_tangent_shares_ties_and_follows_key():
    assert rt.extreme_tangent((1.0, 3.0), 2.0, (2.0, 2.0)) == 2.0
    assert rt.extreme_tangent(([1.0, 5.0, 3.0],), 2.0, ([2.0, 1.0, 2.0],)) == 2.0
    # with key=, the first of equals wins alone
    assert rt.extreme_tangent((1.0, 3.0), 2.0, (2.0, 2.0), abs) == 1.0


def tangent_vs_adjoint(tangent, adjoint, x, t, g):
    """<g, tangent(t)> == <adjoint(g), t>, leaf by leaf for containers."""

    def inner(a, b):
        if isinstance(a, (tuple, list)):
            return sum(inner(p, q) for p, q in zip(a, b))
        if rt.is_zero(a) or rt.is_zero(b):
            return 0.0
        return float(np.sum(np.asarray(a) * np.asarray(b)))

    lhs = inner(g, tangent(t))
    rhs = inner(adjoint(g), t)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-12)


def _like(value):
    if isinstance(value, (tuple, list)):
        return tuple(_like(v) for v in value)
    return rand(*np.shape(value))


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 3)])
def test_svd_tangent_and_adjoint_are_transposes(shape):
    a = rand(*shape)
    ans = np.linalg.svd(a, full_matrices=False)
    tangent_vs_adjoint(
        lambda t: rt.svd_tangent(t, a, ans, False),
        lambda g: rt.svd_adjoint(g, a, ans, False),
        a,
        rand(*shape),
        _like(tuple(ans)),
    )
    s = np.linalg.svd(a, compute_uv=False)
    tangent_vs_adjoint(
        lambda t: rt.svd_tangent(t, a, s, True, False),
        lambda g: rt.svd_adjoint(g, a, s, True, False),
        a,
        rand(*shape),
        rand(*s.shape),
    )


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_tangent_and_adjoint_are_transposes(uplo):
    ans = np.linalg.eigh(SYM, uplo)
    tangent_vs_adjoint(
        lambda t: rt.eigh_tangent(t, ans, uplo),
        lambda g: rt.eigh_adjoint(g, ans, uplo),
        SYM,
        rand(3, 3),
        _like(tuple(ans)),
    )
    # eigenvalues read only the triangle UPLO names
    t = np.triu(rand(3, 3), 1) if uplo == "L" else np.tril(rand(3, 3), -1)
    assert not np.any(rt.eigh_tangent(t, ans, uplo)[0])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_tangent_and_adjoint_are_transposes(upper):
    a = SYM @ SYM.T
    L = np.linalg.cholesky(a)
    ans = L.T if upper else L
    tangent_vs_adjoint(
        lambda t: rt.cholesky_tangent(t, ans, upper),
        lambda g: rt.cholesky_adjoint(g, ans, upper),
        a,
        rand(3, 3),
        rand(3, 3),
    )


@pytest.mark.parametrize(
    "shape, mode", [((4, 3), "reduced"), ((3, 3), "complete"), ((4, 3), "r")]
)
def test_qr_tangent_and_adjoint_are_transposes(shape, mode):
    a = rand(*shape)
    ans = np.linalg.qr(a, mode)
    g = rand(*ans.shape) if mode == "r" else _like(tuple(ans))
    tangent_vs_adjoint(
        lambda t: rt.qr_tangent(t, a, ans, mode),
        lambda g: rt.qr_adjoint(g, a, ans, mode),
        a,
        rand(*shape),
        g,
    )


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3)])
def test_pinv_tangent_and_adjoint_are_transposes(shape):
    a = rand(*shape)
    ans = np.linalg.pinv(a)
    tangent_vs_adjoint(
        lambda t: rt.pinv_tangent(t, a, ans),
        lambda g: rt.pinv_adjoint(g, a, ans),
        a,
        rand(*shape),
        rand(*ans.shape),
    )


def test_factorizations_refuse_non_unique_factors():
    wide = rand(2, 3)
    with pytest.raises(ArgumentError, match="full_matrices=False"):
        rt.svd_tangent(rand(2, 3), wide, np.linalg.svd(wide))
    with pytest.raises(ArgumentError, match="m >= n"):
        rt.qr_adjoint(rand(2, 2), wide, np.linalg.qr(wide))
    tall = rand(4, 3)
    with pytest.raises(ArgumentError, match="mode 'complete'"):
        rt.qr_tangent(rand(4, 3), tall, np.linalg.qr(tall, "complete"), "complete")


@pytest.mark.parametrize(
    "subscripts, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ii->i", [(3, 3)]),
        ("ij->", [(2, 3)]),
        ("Ba", [(2, 3)]),
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
        ("i...,i...->...", [(3, 2), (3, 1)]),
        ("iij,j->i", [(3, 3, 2), (2,)]),
    ],
)
def test_einsum_tangent_and_adjoint_are_transposes(subscripts, shapes):
    ops = [rand(*s) for s in shapes]
    ans = np.einsum(subscripts, *ops)
    for i in range(len(ops)):

        def tangent(t, i=i):
            ts = [0.0] * len(ops)
            ts[i] = t
            return rt.einsum_tangent(subscripts, ops, ts)

        tangent_vs_adjoint(
            tangent,
            lambda g, i=i: rt.einsum_adjoint(g, ans, subscripts, ops)[i],
            ops[i],
            rand(*shapes[i]),
            rand(*np.shape(ans)),
        )


def test_einsum_refuses_the_sublist_form():
    with pytest.raises(ArgumentError, match="subscripts string"):
        rt.einsum_adjoint(1.0, 1.0, np.ones(2), [np.ones(2), [0]])


@pytest.mark.parametrize(
    "width, mode",
    [(1, "constant"), ((1, 2), "edge"), (2, "wrap"), (2, "reflect"), (3, "symmetric")],
)
def test_pad_tangent_and_adjoint_are_transposes(width, mode):
    x = rand(2, 3)
    ans = np.pad(x, width, mode)
    tangent_vs_adjoint(
        lambda t: rt.pad_tangent(t, x, width, mode),
        lambda g: rt.pad_adjoint(g, x, width, mode),
        x,
        rand(2, 3),
        rand(*ans.shape),
    )
    t = rand(2, 3)
    np.testing.assert_allclose(
        rt.pad_tangent(t, x, width, mode), np.pad(t, width, mode)
    )


def test_pad_refuses_modes_it_cannot_differentiate():
    with pytest.raises(ArgumentError, match="mode='mean'"):
        rt.pad_adjoint(np.ones(4), np.ones(2), 1, "mean")
    with pytest.raises(ArgumentError, match="reflect_type='odd'"):
        rt.pad_tangent(np.ones(2), np.ones(2), 1, "reflect", "odd")
    with pytest.raises(ArgumentError, match="single scalar"):
        rt.pad_constant_adjoint(np.ones(4), np.ones(2), 1, (0.0, 1.0))


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumprod_tangent_and_adjoint_are_transposes(zeros, axis):
    a = rand(3, 4)
    if zeros:
        a[1, 2] = a[0, 0] = 0.0
    ans = np.cumprod(a, axis)
    tangent_vs_adjoint(
        lambda t: rt.cumprod_tangent(t, a, ans, axis),
        lambda g: rt.cumprod_adjoint(g, a, ans, axis),
        a,
        rand(3, 4),
        rand(*ans.shape),
    )


def test_cumprod_with_zeros_is_exact():
    a = np.array([2.0, 0.0, 3.0])
    # d cumprod / d a1 at a1 = 0: [0, a0, a0 * a2]
    np.testing.assert_array_equal(
        rt.cumprod_tangent(np.array([0.0, 1.0, 0.0]), a, np.cumprod(a)), [0.0, 2.0, 6.0]
    )


def test_take_adjoint_accumulates_repeated_indices_and_modes():
    x = np.zeros(4)
    out = rt.take_adjoint(np.ones(3), x, [1, 1, -1], np.ones(3))
    np.testing.assert_array_equal(out, [0.0, 2.0, 0.0, 1.0])
    out = rt.take_adjoint(np.ones(2), x, [5, -7], np.ones(2), mode="clip")
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0, 1.0])
    out = rt.take_adjoint(np.ones(1), x, [6], np.ones(1), mode="wrap")
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 0.0])


def test_item_adjoint_places_g_at_the_entry():
    x = np.zeros((2, 3))
    assert rt.item_adjoint(2.0, x, (4,))[1, 1] == 2.0
    assert rt.item_adjoint(2.0, x, ((0, 2),))[0, 2] == 2.0
    assert rt.item_adjoint(2.0, x, (1, 0))[1, 0] == 2.0
    assert rt.item_adjoint(2.0, np.zeros(1), ())[0] == 2.0


def test_check_not_view_refuses_only_arrays_sharing_the_base():
    where = ("model.py", 7, "w = a[0]", "loss")
    a = np.arange(6.0).reshape(2, 3)
    with pytest.raises(UnsupportedSyntaxError, match="the message") as info:
        rt.check_not_view(a[1], a, "the message", *where)
    assert (info.value.filename, info.value.lineno) == ("model.py", 7)
    assert info.value.source_line == "w = a[0]"
    y = np.arange(3.0)
    with pytest.raises(UnsupportedSyntaxError):
        rt.check_not_view(y[...], y, "the message", *where)
    # A number, a copy (fancy indexing), an object a list holds: no view.
    rt.check_not_view(y[0], y, "the message", *where)
    rt.check_not_view(a[[0]], a, "the message", *where)
    rt.check_not_view(a[0], [a[0], a[1]], "the message", *where)


def test_getitem_adj_transpose_never_misplaces_entries_of_a_zero_adjoint():
    v = np.array([1.0, 2.0])
    # All of the array, in order: v is the whole adjoint.
    np.testing.assert_array_equal(rt.getitem_adj_transpose(v, 0.0, slice(None)), v)
    assert rt.getitem_adj_transpose(3.0, 0.0, 1) == 3.0
    mask = np.array([True, False, True])
    with pytest.raises(TypeError, match="shape is unknown"):
        rt.getitem_adj_transpose(v, 0.0, mask)
    with pytest.raises(TypeError, match="shape is unknown"):
        rt.getitem_adj_transpose(np.ones(1), 0.0, slice(0, 1))
    # With an array adjoint the entries are placed.
    np.testing.assert_array_equal(
        rt.getitem_adj_transpose(v, np.zeros(3), mask), [1.0, 0.0, 2.0]
    )
