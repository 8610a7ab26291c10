"""Run-time support for generated derivative code (imported there as ``rt``).

Conventions this module serves:

* The *symbolic zero* adjoint of any value (scalar, array, list, tuple, dict)
  is the Python float ``0.0``; any Python ``int``/``float`` equal to zero is
  read as that zero wherever a structure is expected (:func:`is_zero`).
  Every helper returns ``0.0`` when the adjoint it is given is zero, and
  never builds zero arrays it does not need.
* Helpers are pure, except that :func:`add_at` and :func:`zero_at` may update
  an ndarray *adjoint* in place (adjoints are owned by generated code).
  No helper ever mutates a primal value.
* Adjoints of Python scalars are Python floats; adjoints of arrays are
  arrays of the same shape, except that a 0-d adjoint may stand for an array
  adjoint whose entries are all equal (broadcasting makes it whole later;
  :func:`finalize` always returns the argument's exact structure).
* Ties in max/min-like operations split the gradient equally among the tied
  entries, so the result is the average of the one-sided derivatives.

This module imports only :mod:`math`, :mod:`numpy` and
:mod:`s2s_ad.errors`, so it can be copied next to generated code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from s2s_ad.errors import ArgumentError, NonScalarOutputError, UnsupportedSyntaxError

Axis = Union[None, int, Sequence[int]]

_PY_SCALARS = (bool, int, float)


# -- basics -------------------------------------------------------------------


def is_zero(v: Any) -> bool:
    """Whether ``v`` is the symbolic zero adjoint (a Python number equal to 0)."""
    # type() rather than isinstance(): np.float64 subclasses float, and a
    # NumPy zero is a real value (with a dtype), not the symbolic zero.
    return type(v) in _PY_SCALARS and v == 0


def _is_py_scalar(x: Any) -> bool:
    return type(x) in _PY_SCALARS


def _dtype_arg(x: Any) -> Any:
    """``x`` as an argument of ``np.result_type``: the dtype of NumPy values
    and lists (it refuses lists; and with a NumPy *scalar*, NumPy 1.x would not
    treat Python scalars as weak), Python scalars as themselves."""
    if _is_py_scalar(x):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype
    return np.asarray(x).dtype


def _is_inexact(x: Any) -> bool:
    return np.result_type(_dtype_arg(x)).kind in "fc"


def _float_dtype(x: Any) -> np.dtype:
    """The dtype gradients of ``x`` have: its own if floating, else float64."""
    dtype = np.dtype(np.float64) if _is_py_scalar(x) else np.result_type(_dtype_arg(x))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _copy(v: Any) -> Any:
    return v.copy() if isinstance(v, np.ndarray) else v


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    # The primal call already validated axis; only normalize it here.
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axis))


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the dimensions broadcasting added to ``shape``."""
    lead = g.ndim - len(shape)
    if lead < 0:
        return g
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _expand(g: Any, ndim: int, axis: Axis, keepdims: bool) -> Any:
    """Re-insert the dimensions a reduction over ``axis`` removed from ``g``."""
    if keepdims or axis is None or np.ndim(g) == 0:
        return g
    return np.expand_dims(g, _axes(axis, ndim))


def _full(g: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``g`` as an array of exactly ``shape`` (a 0-d adjoint is spread)."""
    g = np.asarray(g)
    return g if g.shape == shape else np.broadcast_to(g, shape)


def _like_scalar(result: Any, *inputs: Any) -> Any:
    """``result`` typed like the inputs: a Python float when every input was a
    Python scalar, else in the inputs' floating result type (NumPy 1.x would
    promote float32 scalars to float64; ``result_type`` treats Python scalars
    as weak in every version)."""
    if all(_is_py_scalar(x) for x in inputs):
        return float(result)
    dtype = np.result_type(*(_dtype_arg(x) for x in inputs))
    if dtype.kind == "f" and np.result_type(result) != dtype:
        result = np.asarray(result).astype(dtype)
    if isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result


# -- broadcasting and reductions ----------------------------------------------


def unbroadcast(g: Any, x: Any) -> Any:
    """The adjoint of broadcasting ``x``: ``g`` summed down to ``x``'s shape.

    Returns ``g`` itself when the shapes already match, a Python float when
    ``x`` is a Python scalar, and a 0-d ``g`` unchanged (it stands for a
    constant adjoint, broadcast where it is used).
    """
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return float(np.sum(g)) if np.ndim(g) else float(g)
    shape = np.shape(x)
    if np.shape(g) == shape or np.ndim(g) == 0:
        return g
    return _sum_to(np.asarray(g), shape)


def unreduce(
    g: Any, x: Any, axis: Axis = None, keepdims: bool = False, where: Any = True
) -> Any:
    """The adjoint of ``np.sum(x, axis, keepdims=keepdims, where=where)``.

    ``g`` is broadcast back to ``x``'s shape as a new, writable array
    (entries excluded by ``where`` get zero).  A Python scalar ``x`` gets
    ``g`` back.
    """
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return g
    shape = np.shape(x)
    g = _expand(g, len(shape), axis, keepdims)
    if _is_py_scalar(g):
        # Keep float32 inputs in float32 rather than promoting through g.
        out = np.full(shape, g, dtype=_float_dtype(x))
    else:
        out = np.array(np.broadcast_to(g, shape))
    if where is not True:
        out = np.where(where, out, 0)
    return out


def unreduce_mean(
    g: Any, x: Any, axis: Axis = None, keepdims: bool = False, where: Any = True
) -> Any:
    """The adjoint of ``np.mean(x, axis, keepdims=keepdims, where=where)``."""
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return g
    shape = np.shape(x)
    out = unreduce(g, x, axis, keepdims, where)
    if where is True:
        count = 1
        for a in _axes(axis, len(shape)):
            count *= shape[a]
        return out / count if count else out
    count = np.sum(np.broadcast_to(where, shape), axis=axis, keepdims=True)
    return np.divide(out, count, out=np.zeros_like(out), where=count > 0)


def unreduce_max(
    g: Any,
    x: Any,
    ans: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """The adjoint of ``np.max``/``np.min`` (and amax/amin) over ``axis``.

    The gradient goes to the entries equal to the extreme ``ans``.  **Ties
    split the gradient equally**: if k entries share the extreme value, each
    receives ``g / k``.  A NaN extreme sends the gradient to the NaN entries.
    """
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return g
    xa = np.asarray(x)
    ext = _expand(np.asarray(ans), xa.ndim, axis, keepdims)
    hit = xa == ext
    if xa.dtype.kind in "fc":
        hit |= np.isnan(xa) & np.isnan(ext)
    if where is not True:
        hit &= np.asarray(where, dtype=bool)
    red = None if axis is None else _axes(axis, xa.ndim)
    count = np.sum(hit, axis=red, keepdims=True)
    share = _expand(g, xa.ndim, axis, keepdims) / np.maximum(count, 1)
    return np.where(hit, share, 0)


def prod_adjoint(
    g: Any, a: Any, axis: Axis = None, keepdims: bool = False, where: Any = True
) -> Any:
    """The adjoint of ``np.prod(a, axis, keepdims=keepdims, where=where)``.

    Each entry's partial derivative is the product of the *other* entries,
    computed with prefix and suffix products, so zeros in ``a`` are exact
    (no division by ``a``).  Entries excluded by ``where`` get zero.
    """
    if is_zero(g):
        return 0.0
    if _is_py_scalar(a):
        return g
    arr = np.asarray(a)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    if where is not True:
        # Excluded entries multiply in as 1.
        arr = np.where(where, arr, 1)
    nd = arr.ndim
    reduced = _axes(axis, nd)
    kept = [i for i in range(nd) if i not in reduced]
    perm = kept + list(reduced)
    moved = np.transpose(arr, perm)
    lead = moved.shape[: len(kept)]
    flat = moved.reshape(lead + (-1,))
    if flat.shape[-1] == 0:
        return np.zeros(arr.shape, dtype=arr.dtype)
    ones = np.ones(lead + (1,), dtype=arr.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)
    others = (before * after[..., ::-1]).reshape(moved.shape)
    others = np.transpose(others, np.argsort(perm))
    out = others * _expand(g, nd, axis, keepdims)
    return out if where is True else np.where(where, out, 0)


# -- containers ---------------------------------------------------------------


def _item(v: Any, i: Any) -> Any:
    """Entry ``i`` of an adjoint that may be zero, a sequence or an array."""
    if is_zero(v):
        return 0.0
    if isinstance(v, (list, tuple, np.ndarray)):
        return _copy(v[i])
    return v


def _length(v: Any) -> int | None:
    if isinstance(v, (list, tuple)):
        return len(v)
    if isinstance(v, np.ndarray) and v.ndim:
        return len(v)
    return None


def acc(a: Any, b: Any) -> Any:
    """Structure-aware ``a + b`` for adjoints; never mutates ``a`` or ``b``.

    Zero is the identity (``acc(0.0, b) is b``); lists and tuples add
    element-wise (keeping the container type of the first that is one),
    dicts take the union of their keys, numbers and arrays use ``+``.
    """
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    if isinstance(a, dict) or isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = acc(out[key], value) if key in out else value
        return out
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        seq = a if isinstance(a, (list, tuple)) else b
        na, nb = _length(a), _length(b)
        if na is not None and nb is not None and na != nb:
            raise ValueError(f"cannot add adjoints of lengths {na} and {nb}")
        items = [acc(_item(a, i), _item(b, i)) for i in range(len(seq))]
        return tuple(items) if isinstance(seq, tuple) else items
    return a + b


def _is_basic_index(idx: Any) -> bool:
    """Whether ``x[idx]`` is a view (so ``+=`` cannot hit an entry twice)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(
        p is None
        or p is Ellipsis
        or isinstance(p, slice)
        or (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)))
        for p in parts
    )


def _as_items(bar: Any, n: int) -> list[Any]:
    """A fresh list of ``n`` entry adjoints from a list/tuple/array adjoint."""
    if is_zero(bar):
        return [0.0] * n
    if isinstance(bar, np.ndarray) and bar.ndim:
        return [_copy(bar[i]) for i in range(n)]
    return list(bar)


def _writable_for(bar: Any, x: Any) -> np.ndarray:
    """``bar`` as a writable float array of ``x``'s shape (``bar`` if it is)."""
    shape = np.shape(x)
    if (
        isinstance(bar, np.ndarray)
        and bar.shape == shape
        and bar.flags.writeable
        and bar.dtype.kind in "fc"
    ):
        return bar
    out = np.zeros(shape, dtype=_float_dtype(x))
    if not is_zero(bar):
        out += bar
    return out


def add_at(x_bar: Any, x: Any, idx: Any, g: Any) -> Any:
    """The adjoint of reading ``v = x[idx]``: ``x_bar`` with ``g`` added at idx.

    ``x`` may be an ndarray (any index NumPy accepts; repeated integer
    indices accumulate), a list or tuple (int or slice index; the result
    keeps the container type) or a dict (key).  An ndarray ``x_bar`` is
    updated in place and returned; a zero ``x_bar`` is replaced by zeros.
    """
    if is_zero(g):
        return x_bar
    if isinstance(x, dict):
        out = dict(x_bar) if isinstance(x_bar, dict) else {}
        out[idx] = acc(out.get(idx, 0.0), g)
        return out
    if isinstance(x, (list, tuple)):
        items = _as_items(x_bar, len(x))
        if isinstance(idx, slice):
            for k, pos in enumerate(range(len(x))[idx]):
                items[pos] = acc(items[pos], _item(g, k))
        else:
            items[idx] = acc(items[idx], _copy(g))
        return tuple(items) if isinstance(x, tuple) else items
    bar = _writable_for(x_bar, x)
    if _is_basic_index(idx):
        bar[idx] += g
    else:
        np.add.at(bar, idx, g)
    return bar


def getitem_adj(g: Any, idx: Any) -> Any:
    """``g[idx]`` for an adjoint: zero stays zero, arrays come back copied.

    A 0-d ``g`` (a constant adjoint) is its own entry; a dict adjoint missing
    ``idx`` gives zero.
    """
    if is_zero(g):
        return 0.0
    if isinstance(g, dict):
        return g.get(idx, 0.0)
    if isinstance(g, (list, tuple)) or (isinstance(g, np.ndarray) and g.ndim):
        return _copy(g[idx])
    return g


def zero_at(x_bar: Any, idx: Any) -> Any:
    """The adjoint of overwriting ``x[idx] = ...``: the slot's adjoint is zeroed.

    Arrays are updated in place when writable; lists and dicts come back as
    new containers (a dict loses the key, which may not have existed before
    the assignment).
    """
    if is_zero(x_bar):
        return x_bar
    if isinstance(x_bar, dict):
        out = dict(x_bar)
        out.pop(idx, None)
        return out
    if isinstance(x_bar, (list, tuple)):
        items = list(x_bar)
        if isinstance(idx, slice):
            for pos in range(len(items))[idx]:
                items[pos] = 0.0
        else:
            items[idx] = 0.0
        return tuple(items) if isinstance(x_bar, tuple) else items
    if isinstance(x_bar, np.ndarray) and x_bar.ndim:
        if not x_bar.flags.writeable:
            x_bar = x_bar.copy()
        x_bar[idx] = 0
        return x_bar
    raise TypeError(
        f"cannot clear entry {idx!r} of a scalar adjoint {x_bar!r} "
        "(s2s_ad internal error: the adjoint of an indexed value lost its shape)"
    )


def zeros_like(x: Any) -> Any:
    """The zero gradient with ``x``'s structure.

    Floating arrays keep their dtype, other arrays give float64 zeros;
    NumPy floating scalars keep their type, other numbers give ``0.0``;
    tuples, lists and dicts are mapped recursively.
    """
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x))
    if isinstance(x, np.floating):
        return type(x)(0)
    if isinstance(x, np.generic):
        return np.float64(0)
    if isinstance(x, tuple):
        return tuple(zeros_like(v) for v in x)
    if isinstance(x, list):
        return [zeros_like(v) for v in x]
    if isinstance(x, dict):
        return {k: zeros_like(v) for k, v in x.items()}
    return 0.0


def finalize(x: Any, g: Any) -> Any:
    """The user-facing gradient of argument ``x`` from its adjoint ``g``.

    The result has ``x``'s structure exactly: arrays get ``x``'s shape and
    floating dtype and are always new (never aliasing another gradient or
    the seed); Python numbers give Python floats; NumPy floating scalars
    keep their type; containers are mapped recursively, with zeros for
    missing dict keys and zero entries.
    """
    if is_zero(g):
        return zeros_like(x)
    if isinstance(x, dict):
        get = g.get if isinstance(g, dict) else (lambda k, default: g)
        return {k: finalize(v, get(k, 0.0)) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [finalize(v, _item(g, i)) for i, v in enumerate(x)]
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, np.ndarray):
        g = unbroadcast(g, x)
        return np.array(np.broadcast_to(g, x.shape), dtype=_float_dtype(x))
    g = np.sum(g) if np.ndim(g) else g
    if isinstance(x, np.floating):
        return type(x)(g)
    if isinstance(x, np.generic):
        return np.float64(g)
    return float(g)


# -- seeds and arguments ----------------------------------------------------


def _is_scalar_result(value: Any) -> bool:
    if _is_py_scalar(value) or isinstance(value, np.generic):
        return True
    return isinstance(value, np.ndarray) and value.shape == ()


def _seed_example(value: Any, depth: int = 0) -> str:
    """Source text of a seed with ``value``'s structure (for error messages)."""
    if depth > 2:
        return "..."
    if isinstance(value, np.ndarray):
        return f"np.ones({value.shape})" if value.shape else "1.0"
    if isinstance(value, (tuple, list)):
        inner = [_seed_example(v, depth + 1) for v in value[:3]]
        if len(value) > 3:
            inner.append("...")
        text = ", ".join(inner) + (
            "," if isinstance(value, tuple) and len(value) == 1 else ""
        )
        return f"({text})" if isinstance(value, tuple) else f"[{text}]"
    if isinstance(value, dict):
        inner = [
            f"{k!r}: {_seed_example(v, depth + 1)}" for k, v in list(value.items())[:3]
        ]
        return "{" + ", ".join(inner) + "}"
    return "1.0"


def _nonscalar_message(value: Any) -> str:
    if isinstance(value, np.ndarray):
        what = f"an array of shape {value.shape}"
        advice = "Reduce it (e.g. return y.sum())"
    elif isinstance(value, (tuple, list, dict)):
        what = f"a {type(value).__name__}"
        advice = "Return a single scalar"
    else:
        return (
            f"the function returned {type(value).__name__} {value!r:.60}, but grad "
            "needs a scalar (float) result"
        )
    return (
        f"the function returned {what}, but grad needs a scalar result. "
        f"{advice} or pass the output adjoint explicitly: "
        f"grad(f, seed={_seed_example(value)}) computes the vector-Jacobian "
        "product seed·J."
    )


def _check_real(value: Any, path: str) -> None:
    if np.iscomplexobj(value):
        raise ArgumentError(f"{path} is complex; complex values are not supported yet")


def _seed_like(value: Any, s: Any, path: str) -> Any:
    if s is None or is_zero(s):
        return 0.0
    if isinstance(value, dict):
        if not isinstance(s, dict):
            raise ArgumentError(
                f"{path} must be a dict like the result, not {type(s).__name__}"
            )
        extra = [k for k in s if k not in value]
        if extra:
            raise ArgumentError(
                f"{path} has keys {extra!r} that the result does not have"
            )
        return {k: _seed_like(value[k], v, f"{path}[{k!r}]") for k, v in s.items()}
    if isinstance(value, (tuple, list)):
        if not isinstance(s, (tuple, list)) or len(s) != len(value):
            raise ArgumentError(
                f"{path} must be a {type(value).__name__} of {len(value)} adjoints "
                f"like the result, not {type(s).__name__}"
                + (f" of length {len(s)}" if isinstance(s, (tuple, list)) else "")
            )
        items = [
            _seed_like(v, e, f"{path}[{i}]") for i, (v, e) in enumerate(zip(value, s))
        ]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, np.ndarray):
        arr = np.asarray(s)
        _check_real(arr, path)
        if arr.shape != value.shape:
            raise ArgumentError(
                f"{path} has shape {arr.shape}, but the function's result has "
                f"shape {value.shape}; the seed must match it"
            )
        return np.array(arr, dtype=_float_dtype(value))
    if _is_py_scalar(value) or isinstance(value, np.generic):
        _check_real(s, path)
        _check_real(value, "the function's result")
        if np.ndim(s) != 0:
            raise ArgumentError(
                f"{path} has shape {np.shape(s)}, but the function's result is a scalar"
            )
        if isinstance(value, np.floating):
            return type(value)(s)
        return float(s)
    raise ArgumentError(
        f"{path} is given for a result of type {type(value).__name__}, which "
        "carries no gradient; pass 0.0 there"
    )


def seed(value: Any, s: Any = None) -> Any:
    """The adjoint of the function's result ``value``, to start the sweep.

    Without ``s`` the result must be a scalar (seed ``1.0``), else
    :class:`NonScalarOutputError` explains how to reduce it or pass a seed.
    ``s`` may be a callable (called with ``value``, e.g. ``np.ones_like``) or
    a value with the result's structure and shapes; it is copied as floats,
    so the caller's seed is never touched.  ``0.0`` or ``None`` inside a
    container seeds that part with zero.
    """
    if s is None:
        if _is_scalar_result(value):
            _check_real(value, "the function's result")
            return 1.0
        raise NonScalarOutputError(_nonscalar_message(value))
    if callable(s):
        s = s(value)
    return _seed_like(value, s, "seed")


def copy_arg(x: Any) -> Any:
    """A shallow copy of a mutable argument (ndarray, list, dict), else ``x``."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    return x


def check_wrt_arg(x: Any, name: str) -> None:
    """Raise :class:`ArgumentError` if ``x`` cannot be differentiated.

    Integer and boolean arrays (and NumPy integer scalars, which behave like
    them) are refused with a hint to convert them; complex values are
    refused.  Python ints are accepted: they are differentiated as floats.
    Tuples, lists and dicts are checked entry by entry.
    """
    if isinstance(x, dict):
        for key, value in x.items():
            check_wrt_arg(value, f"{name}[{key!r}]")
        return
    if isinstance(x, (tuple, list)):
        for i, value in enumerate(x):
            check_wrt_arg(value, f"{name}[{i}]")
        return
    if isinstance(x, complex) or (
        isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "c"
    ):
        raise ArgumentError(
            f"cannot differentiate with respect to {name!r}: it is complex; "
            "complex inputs are not supported yet"
        )
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "biu":
            what = "a boolean" if x.dtype.kind == "b" else "an integer"
            raise ArgumentError(
                f"cannot differentiate with respect to {name!r}: it is {what} "
                f"array (dtype {x.dtype}); pass floats, e.g. {name}.astype(float)"
            )
        if x.dtype.kind != "f":
            raise ArgumentError(
                f"cannot differentiate with respect to {name!r}: it is an array "
                f"of dtype {x.dtype}; pass a float array"
            )
    elif isinstance(x, np.generic) and x.dtype.kind in "biu":
        raise ArgumentError(
            f"cannot differentiate with respect to {name!r}: it is a NumPy "
            f"integer scalar ({x.dtype}); pass floats, e.g. float({name})"
        )


# -- lists --------------------------------------------------------------------


def pop_adj(lst_bar: Any) -> tuple[Any, Any]:
    """The adjoint of ``lst.append(v)``, run backwards.

    Returns ``(adjoint of lst before the append, adjoint of v)``; the input
    is not mutated.
    """
    if is_zero(lst_bar):
        return 0.0, 0.0
    if isinstance(lst_bar, np.ndarray):
        return lst_bar[:-1].copy(), _copy(lst_bar[-1])
    items = list(lst_bar)
    last = items.pop()
    return items, last


def unstack(g: Any, n: int, axis: int = 0) -> Any:
    """Split an array adjoint into a list of ``n`` adjoints along ``axis``."""
    if is_zero(g):
        return 0.0
    if np.ndim(g) == 0:
        return [g] * n
    g = np.asarray(g)
    return [np.take(g, i, axis=axis) for i in range(n)]


def _rebuild(like: Any, items: list[Any]) -> Any:
    return tuple(items) if isinstance(like, tuple) else items


def stack_adjoint(g: Any, arrays: Any, axis: int = 0) -> Any:
    """The adjoint of ``np.stack(arrays, axis)`` with ``arrays``' structure."""
    if is_zero(g):
        return 0.0
    if isinstance(arrays, np.ndarray):
        return np.array(np.moveaxis(_full(g, _stacked_shape(arrays, axis)), axis, 0))
    parts = unstack(g, len(arrays), axis)
    return _rebuild(arrays, [unbroadcast(p, a) for p, a in zip(parts, arrays)])


def _stacked_shape(arrays: np.ndarray, axis: int) -> tuple[int, ...]:
    inner = list(arrays.shape[1:])
    inner.insert(axis % (len(inner) + 1), arrays.shape[0])
    return tuple(inner)


def concatenate_adjoint(g: Any, arrays: Any, axis: int | None = 0) -> Any:
    """The adjoint of ``np.concatenate(arrays, axis)`` (``axis=None`` too)."""
    if is_zero(g):
        return 0.0
    shapes = [np.shape(a) for a in arrays]
    if axis is None:
        sizes = [int(np.prod(s)) for s in shapes]
        flat = np.ravel(g)
        pieces = np.split(flat, np.cumsum(sizes)[:-1])
        parts = [p.reshape(s) for p, s in zip(pieces, shapes)]
    else:
        ax = axis % len(shapes[0])
        out_shape = list(shapes[0])
        out_shape[ax] = sum(s[ax] for s in shapes)
        g = _full(g, tuple(out_shape))
        bounds = np.cumsum([s[ax] for s in shapes])[:-1]
        parts = [p.copy() for p in np.split(g, bounds, axis=ax)]
    if isinstance(arrays, np.ndarray):
        return np.stack(parts)
    return _rebuild(arrays, parts)


def array_adjoint(g: Any, obj: Any, ans: Any = None) -> Any:
    """The adjoint of ``np.array(obj)`` / ``np.asarray(obj)``.

    ``obj`` may be an array, a scalar or nested lists/tuples of them; the
    adjoint has ``obj``'s structure (lists stay lists, Python scalars get
    floats).  A non-floating result (``dtype=int``) carries no gradient.
    """
    if is_zero(g):
        return 0.0
    if ans is not None and not _is_inexact(ans):
        return 0.0
    shape = np.shape(obj)
    if np.shape(g) != shape:
        # ndmin added leading ones, or g is a 0-d constant adjoint.
        g = (
            np.reshape(g, shape)
            if np.size(g) == int(np.prod(shape))
            else _full(g, shape)
        )
    if isinstance(obj, (list, tuple)):
        return _rebuild(obj, [array_adjoint(g[i], item) for i, item in enumerate(obj)])
    if _is_py_scalar(obj):
        return float(g)
    return _copy(g)


def full_adjoint(g: Any, fill_value: Any, ans: Any) -> Any:
    """The adjoint of ``fill_value`` in ``np.full(shape, fill_value)``."""
    if is_zero(g) or not _is_inexact(ans):
        return 0.0
    return unbroadcast(_full(g, np.shape(ans)), fill_value)


def linspace_adjoint(
    g: Any,
    ans: Any,
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    axis: int = 0,
    which: int = 0,
) -> Any:
    """The adjoint of ``start`` (which=0) or ``stop`` (which=1) in
    ``np.linspace``; sample i is ``start + t_i * (stop - start)``."""
    if is_zero(g):
        return 0.0
    g_step: Any = 0.0
    samples = ans
    if retstep:
        samples = ans[0]
        g, g_step = _item(g, 0), _item(g, 1)
    if not _is_inexact(samples):
        return 0.0
    target = (start, stop)[which]
    num = int(num)
    div = num - 1 if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    weight = 1.0 - t if which == 0 else t
    out: Any = 0.0
    if not is_zero(g):
        moved = np.moveaxis(_full(g, np.shape(samples)), axis, 0)
        out = unbroadcast(np.tensordot(weight, moved, axes=(0, 0)), target)
    if not is_zero(g_step) and div > 0:
        step_bar = g_step / div
        out = acc(out, unbroadcast(-step_bar if which == 0 else step_bar, target))
    return out


def arange_adjoint(g: Any, ans: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The adjoint of ``np.arange(*args)``: entry i is ``start + i * step``,
    so ``stop`` (which only sets the length) gets nothing."""
    out: list[Any] = [0.0] * len(args)
    if is_zero(g) or not _is_inexact(ans):
        return tuple(out)
    if len(args) >= 2:
        out[0] = unbroadcast(np.sum(g), args[0])
    if len(args) == 3:
        out[2] = unbroadcast(np.sum(g * np.arange(np.size(ans))), args[2])
    return tuple(out)


def sum_adjoint(g: Any, iterable: Any) -> Any:
    """The adjoint of builtin ``sum(iterable)`` with ``iterable``'s structure."""
    if is_zero(g):
        return 0.0
    if isinstance(iterable, (list, tuple)):
        return _rebuild(iterable, [_copy(unbroadcast(g, item)) for item in iterable])
    if isinstance(iterable, np.ndarray):
        return unreduce(g, iterable, 0)
    return 0.0  # dict keys, ranges...: nothing differentiable


def extreme_adjoint(
    g: Any, ans: Any, args: tuple[Any, ...], key: Any = None
) -> tuple[Any, ...]:
    """The adjoint of builtin ``max``/``min``, one entry per positional.

    Handles ``max(a, b, ...)`` and ``max(iterable)``.  Without ``key``, ties
    split the gradient equally among the entries equal to the result; with
    ``key``, the entry returned (found by identity) gets it all.
    """
    if is_zero(g):
        return (0.0,) * len(args)
    if len(args) == 1:
        items = args[0]
        if isinstance(items, np.ndarray):
            return (unreduce_max(g, items, ans, 0),)
        if not isinstance(items, (list, tuple)):
            return (0.0,)
        return (_rebuild(items, list(_split_extreme(g, ans, list(items), key))),)
    return tuple(_split_extreme(g, ans, list(args), key))


def _split_extreme(g: Any, ans: Any, items: list[Any], key: Any) -> list[Any]:
    if key is not None:
        hits = [item is ans for item in items]
        if not any(hits):
            hits = [key(item) == key(ans) for item in items][:1]
    else:
        hits = [bool(np.all(item == ans)) for item in items]
    count = sum(hits)
    if key is not None and count > 1:
        # max(..., key=) returns the first of equals: it alone gets the gradient.
        first = hits.index(True)
        hits = [i == first for i in range(len(items))]
        count = 1
    out = []
    for hit, item in zip(hits, items):
        out.append(unbroadcast(g / count, item) if hit else 0.0)
    return out


def default_adjoint(g: Any, args: tuple[Any, ...]) -> Any:
    """Adjoint of ``default=`` in ``max(iterable, default=d)``: g if it was used."""
    if len(args) == 1 and _length(args[0]) == 0:
        return g
    return 0.0


# -- elementwise helpers --------------------------------------------------------


def div(a: Any, b: Any) -> Any:
    """``a / b`` with IEEE results (inf, nan) instead of ZeroDivisionError."""
    try:
        return a / b
    except ZeroDivisionError:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(a) / np.float64(b))


def sign(x: Any) -> Any:
    """The derivative of ``abs``: -1, 0 or 1 (0 at 0, like NumPy's sign)."""
    if _is_py_scalar(x):
        return float((x > 0) - (x < 0))
    return np.sign(x)


def _as_float(x: Any) -> Any:
    if _is_py_scalar(x):
        return np.float64(x)
    arr = np.asarray(x)
    return x if arr.dtype.kind in "fc" else arr.astype(np.float64)


def pow_base_partial(x: Any, p: Any) -> Any:
    """∂(x ** p)/∂x = p * x ** (p - 1), and exactly 0 where p == 0.

    Computed in floating point, so ``0 ** -1`` gives inf and a negative base
    with a fractional exponent gives nan instead of raising.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = p * _as_float(x) ** (p - 1)
    if np.any(np.equal(p, 0)):
        out = np.where(np.equal(p, 0), 0.0, out)
    return _like_scalar(out, x, p)


def xlogy_safe(y: Any, x: Any) -> Any:
    """``y * log(x)``, with 0 wherever ``y == 0`` (even if ``x`` is 0).

    This is ∂(x ** p)/∂p written as ``ans * log(x)``; a negative ``x``
    gives nan (the real derivative does not exist).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = y * np.log(_as_float(x))
    if np.any(np.equal(y, 0)):
        out = np.where(np.equal(y, 0), 0.0, out)
    return _like_scalar(out, y, x)


def _tie_weight(x1: Any, x2: Any, wins: Any) -> Any:
    w = np.where(wins, 1.0, np.where(np.equal(x1, x2), 0.5, 0.0))
    return _like_scalar(w, x1, x2)


def maximum_weight(x1: Any, x2: Any) -> Any:
    """∂maximum(x1, x2)/∂x1: 1 where x1 > x2, 0.5 at ties, else 0."""
    return _tie_weight(x1, x2, np.greater(x1, x2))


def minimum_weight(x1: Any, x2: Any) -> Any:
    """∂minimum(x1, x2)/∂x1: 1 where x1 < x2, 0.5 at ties, else 0."""
    return _tie_weight(x1, x2, np.less(x1, x2))


def where_adjoint(g: Any, condition: Any, x: Any, branch: bool) -> Any:
    """The adjoint of ``x`` in ``np.where(condition, x, y)`` (branch True)
    or of ``y`` (branch False)."""
    if is_zero(g):
        return 0.0
    part = np.where(condition, g, 0) if branch else np.where(condition, 0, g)
    return unbroadcast(part, x)


def clip_adjoint(g: Any, a: Any, lo: Any, hi: Any, part: int) -> Any:
    """The adjoint of ``np.clip(a, lo, hi)`` for ``a`` (part 0), ``lo`` (1)
    or ``hi`` (2).

    The result is ``minimum(maximum(a, lo), hi)``; the gradient goes to
    whichever of the three was selected.  At a bound (``a == lo``) it goes
    to ``a``.  ``None`` means no bound.
    """
    if is_zero(g):
        return 0.0
    target = (a, lo, hi)[part]
    if target is None:
        return 0.0
    low = a if lo is None else np.maximum(a, lo)
    to_hi = np.zeros(np.shape(low), dtype=bool) if hi is None else np.greater(low, hi)
    to_lo = np.zeros_like(to_hi) if lo is None else np.less(a, lo) & ~to_hi
    mask = (~(to_hi | to_lo), to_lo, to_hi)[part]
    return unbroadcast(np.where(mask, g, 0), target)


def add_adjoint(g: Any, x: Any, other: Any, left: bool) -> Any:
    """The adjoint of ``x`` in ``x + other`` (left) or ``other + x``.

    Numbers and arrays unbroadcast; list/tuple concatenation hands ``x``
    its own part of the result's adjoint.
    """
    if is_zero(g):
        return 0.0
    if isinstance(x, (list, tuple)) and isinstance(other, (list, tuple)):
        n = len(x)
        if left:
            return _rebuild(x, [_item(g, i) for i in range(n)])
        start = len(other)
        return _rebuild(x, [_item(g, start + i) for i in range(n)])
    return unbroadcast(g, x)


def mul_adjoint(g: Any, x: Any, other: Any) -> Any:
    """The adjoint of ``x`` in ``x * other``.

    Numbers and arrays: ``unbroadcast(g * other, x)``.  Sequence repetition
    (``[a, b] * 3``): each entry collects the adjoints of its copies; the
    integer count gets nothing.
    """
    if is_zero(g):
        return 0.0
    if isinstance(x, (list, tuple)) and isinstance(other, (int, np.integer)):
        n = len(x)
        items = [0.0] * n
        for copy_index in range(max(int(other), 0)):
            for i in range(n):
                items[i] = acc(items[i], _item(g, copy_index * n + i))
        return _rebuild(x, items)
    if isinstance(other, (list, tuple)):
        return 0.0
    return unbroadcast(g * other, x)


def hypot_adjoint(g: Any, ans: Any, coordinates: tuple[Any, ...]) -> tuple[Any, ...]:
    """The adjoint of ``math.hypot(*coordinates)``: g * c / ans (0 at origin)."""
    if is_zero(g) or ans == 0:
        return (0.0,) * len(coordinates)
    return tuple(float(g * c / ans) for c in coordinates)


def log_of_base(base: Any) -> Any:
    """``log(base)``, or 1 for the natural logarithm (``base=None``)."""
    return 1.0 if base is None else math.log(base)


# -- linear algebra and shapes ------------------------------------------------


def _dot_shape(a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    # dot contracts a's last axis with b's second-to-last (its only, if 1-d).
    return a.shape[:-1] + (b.shape[:-2] + b.shape[-1:] if b.ndim > 1 else ())


def dot_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``np.dot(a, b)`` (any dimensions)."""
    if is_zero(g):
        return 0.0
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    A, B = np.asarray(a), np.asarray(b)
    g = _full(g, _dot_shape(A, B))
    k = max(B.ndim - 2, 0)
    b_other = [i for i in range(B.ndim) if i != k]
    return np.tensordot(g, B, axes=(list(range(A.ndim - 1, g.ndim)), b_other))


def dot_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``np.dot(a, b)`` (any dimensions)."""
    if is_zero(g):
        return 0.0
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    A, B = np.asarray(a), np.asarray(b)
    g = _full(g, _dot_shape(A, B))
    lead = list(range(A.ndim - 1))
    out = np.tensordot(A, g, axes=(lead, lead))
    return np.moveaxis(out, 0, max(B.ndim - 2, 0))


def _matmul_frames(g: Any, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``a``, ``b`` as >=2-d stacks and ``g`` with the dims matmul dropped."""
    A, B = np.asarray(a), np.asarray(b)
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError("matmul: input operand does not have enough dimensions")
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    batch = np.broadcast_shapes(A2.shape[:-2], B2.shape[:-2])
    full = batch + (A2.shape[-2], B2.shape[-1])
    out = full
    if A.ndim == 1:
        out = out[:-2] + out[-1:]
    if B.ndim == 1:
        out = out[:-1]
    G = np.reshape(_full(g, out), full)
    return A2, B2, G


def matmul_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``a @ b`` (1-d, 2-d and broadcast stacks)."""
    if is_zero(g):
        return 0.0
    A2, B2, G = _matmul_frames(g, a, b)
    ga = np.matmul(G, np.swapaxes(B2, -1, -2))
    return _sum_to(ga, A2.shape).reshape(np.shape(a))


def matmul_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``a @ b`` (1-d, 2-d and broadcast stacks)."""
    if is_zero(g):
        return 0.0
    A2, B2, G = _matmul_frames(g, a, b)
    gb = np.matmul(np.swapaxes(A2, -1, -2), G)
    return _sum_to(gb, B2.shape).reshape(np.shape(b))


def outer_adjoint(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in ``np.outer(a, b)``."""
    if is_zero(g):
        return 0.0
    fa, fb = np.ravel(a), np.ravel(b)
    g = _full(g, (fa.size, fb.size))
    part = g @ fb if which == 0 else fa @ g
    return reshape_adjoint(part, (a, b)[which])


def cumsum_adjoint(g: Any, a: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumsum(a, axis)``: a reversed cumulative sum."""
    if is_zero(g):
        return 0.0
    shape = np.shape(a)
    if axis is None:
        # cumsum of the flattened array; the adjoint is laid back out in a's shape.
        g = _full(g, (int(np.prod(shape)),))
        return reshape_adjoint(np.cumsum(g[::-1])[::-1], a)
    g = _full(g, shape)
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _reduced_count(shape: tuple[int, ...], axis: Axis) -> int:
    count = 1
    for ax in _axes(axis, len(shape)):
        count *= shape[ax]
    return count


def var_adjoint(
    g: Any, a: Any, axis: Axis = None, ddof: Any = 0, keepdims: bool = False
) -> Any:
    """The adjoint of ``np.var(a, axis, ddof=ddof, keepdims=keepdims)``."""
    if is_zero(g):
        return 0.0
    arr = np.asarray(a)
    centered = arr - np.mean(arr, axis=axis, keepdims=True)
    scale = 2.0 / (_reduced_count(arr.shape, axis) - ddof)
    out = _expand(g, arr.ndim, axis, keepdims) * scale * centered
    return float(out) if _is_py_scalar(a) else out


def std_adjoint(
    g: Any, a: Any, ans: Any, axis: Axis = None, ddof: Any = 0, keepdims: bool = False
) -> Any:
    """The adjoint of ``np.std``: that of var divided by ``2 * std`` (0 where
    the spread is 0, the one-sided derivatives' average)."""
    if is_zero(g):
        return 0.0
    arr = np.asarray(a)
    std = _expand(np.asarray(ans), arr.ndim, axis, keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(
            std > 0, _expand(g, arr.ndim, axis, keepdims) / (2.0 * std), 0.0
        )
    out = var_adjoint(half, arr, axis, ddof, True)
    return float(out) if _is_py_scalar(a) else out


def _ties(hit: np.ndarray, axis: Any) -> np.ndarray:
    """``hit`` as weights that split equally among the hits along ``axis``."""
    return hit / np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)


def _vector_norm_grad(x: np.ndarray, n: np.ndarray, ord: Any, axis: int) -> Any:
    """∂‖x‖/∂x along ``axis`` (``n`` is the norm with kept dimensions)."""
    ax = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ord is None or ord == 2:
            return np.where(n > 0, x / n, 0.0)
        if ord == np.inf or ord == -np.inf:
            return np.sign(x) * _ties(ax == n, axis)
        if ord == 0:
            return np.zeros_like(x)  # counts nonzeros: piecewise constant
        if ord == 1:
            return np.sign(x)
        p = float(ord)
        return np.where(n > 0, np.sign(x) * (ax / n) ** (p - 1), 0.0)


def _matrix_norm_grad(x: np.ndarray, n: np.ndarray, ord: Any) -> Any:
    """∂‖x‖/∂x for matrices in the last two axes (``n`` with kept dims)."""
    if ord in (None, "fro", "f"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, x / n, 0.0)
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(x, full_matrices=False)
        if ord == "nuc":
            return u @ vt
        # Singular values come sorted, largest first.
        k = slice(0, 1) if ord == 2 else slice(-1, None)
        return u[..., :, k] @ vt[..., k, :]
    ax = np.abs(x)
    if ord in (1, -1):
        sums = np.sum(ax, axis=-2, keepdims=True)
        return np.sign(x) * _ties(sums == n, -1)
    sums = np.sum(ax, axis=-1, keepdims=True)  # ord is inf or -inf: row sums
    return np.sign(x) * _ties(sums == n, -2)


def norm_adjoint(
    g: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Any:
    """The adjoint of ``np.linalg.norm(x, ord, axis, keepdims)``.

    Vector norms of any order and the matrix norms (Frobenius, nuclear,
    spectral, 1, inf and their negative counterparts) are handled; where the
    extreme entry, row or column is tied, the gradient is split equally.
    At ``x == 0`` the 2-norm's gradient is taken as 0.
    """
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return g * sign(x)
    arr = np.asarray(x)
    if not _is_inexact(arr):
        arr = arr.astype(np.float64)
    nd = arr.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis))
    n = np.asarray(ans)
    if not keepdims:
        n = np.expand_dims(n, tuple(sorted(axes))) if n.ndim < nd else n
    gk = _expand(g, nd, tuple(axes), keepdims)
    if ord is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            return gk * np.where(n > 0, arr / n, 0.0)
    if len(axes) == 1:
        return gk * _vector_norm_grad(arr, n, ord, axes[0])
    rows, cols = axes
    moved = np.moveaxis(arr, (rows, cols), (-2, -1))
    n_moved = np.moveaxis(n, (rows, cols), (-2, -1))
    grad = np.moveaxis(_matrix_norm_grad(moved, n_moved, ord), (-2, -1), (rows, cols))
    return gk * grad


def method_axes(args: tuple[Any, ...]) -> Any:
    """``x.transpose(*args)`` arguments as the ``axes`` of ``np.transpose``."""
    if not args:
        return None
    if len(args) == 1 and (args[0] is None or isinstance(args[0], (tuple, list))):
        return args[0]
    return tuple(args)


def transpose_adjoint(g: Any, a: Any, axes: Any = None) -> Any:
    """The adjoint of ``np.transpose(a, axes)``: the inverse permutation."""
    if is_zero(g):
        return 0.0
    shape = np.shape(a)
    if np.ndim(g) == 0:
        return _like_scalar(np.full(shape, g), a) if shape else g
    if axes is None:
        return np.transpose(g)
    perm = [int(ax) % len(shape) for ax in axes]
    return np.transpose(g, np.argsort(perm))


def _memory_order(order: Any, a: Any) -> str:
    if order in ("A", "K"):
        # For ravel/reshape 'A' and 'K' follow the memory layout of a.
        arr = np.asarray(a)
        return "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"
    return order or "C"


def reshape_adjoint(g: Any, a: Any, order: Any = "C") -> Any:
    """The adjoint of any reshape of ``a`` (reshape, ravel, flatten, squeeze,
    expand_dims, float(a)): ``g`` laid back out in ``a``'s shape."""
    if is_zero(g):
        return 0.0
    if _is_py_scalar(a):
        return float(np.sum(g))
    shape = np.shape(a)
    if np.ndim(g) == 0:
        return np.full(shape, g) if shape else g
    return np.reshape(g, shape, order=_memory_order(order, a))


def cast_adjoint(g: Any, ans: Any) -> Any:
    """The adjoint through ``x.astype(dtype)``: g, or zero for integer dtypes."""
    if is_zero(g) or not _is_inexact(ans):
        return 0.0
    return g


# -- forward mode (tangents) --------------------------------------------------------


def broadcast_like(t: Any, ans: Any) -> Any:
    """A tangent with the shape of ``ans`` (tangents of broadcast operands)."""
    if is_zero(t):
        return t
    shape = np.shape(ans)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(t, shape).copy()


def setitem_tangent(x_dot: Any, x: Any, idx: Any, v_dot: Any) -> Any:
    """Tangent of ``x`` after ``x[idx] = v``: a new structure, never in place."""
    if is_zero(x_dot) and is_zero(v_dot):
        return 0.0
    new = zeros_like(x) if is_zero(x_dot) else _copy_container(x_dot)
    if isinstance(new, tuple):
        new = list(new)
    new[idx] = 0.0 if is_zero(v_dot) else v_dot
    return new


def _copy_container(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, dict):
        return dict(v)
    return v


def append_tangent(lst_dot: Any, lst: Any, v_dot: Any) -> Any:
    """Tangent of ``lst`` after ``lst.append(v)`` (``lst`` already appended)."""
    if is_zero(lst_dot) and is_zero(v_dot):
        return 0.0
    before = [0.0] * (len(lst) - 1) if is_zero(lst_dot) else list(lst_dot)
    return before + [v_dot]


def check_not_aliased(
    value: Any, filename: str, lineno: int, line: str, funcname: str
) -> None:
    """Refuse ``x += v`` on an array that other names or containers may share.

    s2s_ad turns ``x += v`` into ``x = x + v``; for an array referenced
    elsewhere, Python's in-place update would be visible there too, so the
    results would differ from the original function.
    """
    if isinstance(value, (np.ndarray, list, dict)):
        raise UnsupportedSyntaxError(
            "in-place update of a mutable value that may be shared (appended to a "
            "list, stored in a container or assigned to another name): s2s_ad "
            "cannot follow in-place writes through aliases; write x = x + v, or "
            "store a copy",
            filename,
            lineno,
            line,
            funcname,
        )


def push_adj(lst_bar: Any, lst: Any, g: Any) -> Any:
    """Adjoint of ``x = lst.pop()`` run backwards: the list's adjoint gets the
    element's adjoint back at its end (``lst`` is the list without it)."""
    if is_zero(lst_bar) and is_zero(g):
        return 0.0
    before = [0.0] * len(lst) if is_zero(lst_bar) else list(lst_bar)
    return before + [g]


def pop_tangent(lst_dot: Any) -> tuple[Any, Any]:
    """Tangents after ``x = lst.pop()``: (x's tangent, the list's tangent)."""
    if is_zero(lst_dot):
        return 0.0, 0.0
    rest = list(lst_dot)
    last = rest.pop()
    return last, rest
