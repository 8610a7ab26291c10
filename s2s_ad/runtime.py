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
* Tangents (forward mode) follow the same conventions: the symbolic zero is
  ``0.0``, a tangent has its value's structure and shape (a list's is a list
  of tangents), and every ``*_tangent`` helper returns ``0.0`` for a zero
  tangent.  The tangent and adjoint helpers of one primitive resolve ties
  and kinks alike, so they are exact transposes of each other.

This module imports only :mod:`math`, :mod:`numpy` and
:mod:`s2s_ad.errors`, so it can be copied next to generated code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


#: Arrays up to this many entries get reduction adjoints filled in, not spread.
_SMALL = 4096
_F64 = np.dtype(np.float64)


def _spread(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only view of 0-d ``g`` with ``shape`` (every stride 0): what
    ``np.broadcast_to`` makes, without its Python overhead."""
    out = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
    out.flags.writeable = False
    return out


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
    if type(g) is np.ndarray and type(x) is np.ndarray:  # the common case, first
        shape = x.shape
        return g if g.shape == shape or not g.ndim else _sum_to(g, shape)
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return float(np.sum(g)) if np.ndim(g) else float(g)
    shape = np.shape(x)
    if np.shape(g) == shape or np.ndim(g) == 0:
        return g
    return _sum_to(np.asarray(g), shape)


def unbroadcast_to(g: Any, shape: tuple[int, ...]) -> Any:
    """:func:`unbroadcast` for an ``x`` that is an ndarray or a NumPy scalar,
    given by its ``shape`` alone (what ``unbroadcast`` reads of such an
    ``x``), so that the forward sweep need not keep ``x`` itself."""
    if type(g) is np.ndarray:  # the common case, first
        return g if g.shape == shape or not g.ndim else _sum_to(g, shape)
    if is_zero(g):
        return 0.0
    if np.shape(g) == shape or np.ndim(g) == 0:
        return g
    return _sum_to(np.asarray(g), shape)


def unreduce(
    g: Any, x: Any, axis: Axis = None, keepdims: bool = False, where: Any = True
) -> Any:
    """The adjoint of ``np.sum(x, axis, keepdims=keepdims, where=where)``.

    ``g`` is broadcast back to ``x``'s shape (entries excluded by ``where``
    get zero).  Without ``where`` the result is a read-only broadcast view:
    no memory is written, and whatever updates an adjoint in place copies a
    read-only one first (small arrays reduced whole are filled instead,
    which is cheaper than making the view).  A Python scalar ``x`` gets
    ``g`` back.
    """
    if is_zero(g):
        return 0.0
    if (
        type(x) is np.ndarray
        and axis is None
        and where is True
        and x.size <= _SMALL
        and (type(g) is float or (type(g) is np.float64 and x.dtype == _F64))
        and x.dtype.kind == "f"
    ):
        # The common small case, first: filling a few thousand entries costs
        # less than the Python overhead of making a zero-stride view.
        out = np.empty_like(x)
        out.fill(g)
        return out
    if _is_py_scalar(x):
        return g
    shape = np.shape(x)
    g = _expand(g, len(shape), axis, keepdims)
    if _is_py_scalar(g) or np.ndim(g) == 0:
        # Keep float32 inputs in float32 rather than promoting through g.
        dtype = _float_dtype(x) if _is_py_scalar(g) else None
        out = _spread(np.asarray(g, dtype=dtype), shape)
    else:
        out = np.broadcast_to(g, shape)
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
    if where is True:
        count = 1
        for a in _axes(axis, len(shape)):
            count *= shape[a]
        # Divide the reduced adjoint, not its broadcast: far fewer entries.
        return unreduce(g / count if count else g, x, axis, keepdims)
    out = unreduce(g, x, axis, keepdims, where)
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


def acc_into(a: Any, b: Any) -> Any:
    """``a + b``, added into ``a`` in place when ``a`` is a writable array of
    ``b``'s shape and dtype.  Only for adjoints no other name can reach
    (arrayopt.py proves it); the result is never ``b`` itself."""
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.flags.writeable
    ):
        a += b
        return a
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
    dtype = x.dtype if type(x) is np.ndarray and x.dtype.kind == "f" else None
    out = np.zeros(shape, dtype=dtype or _float_dtype(x))
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
    if type(x) is np.ndarray and type(idx) is slice and type(g) is np.ndarray:
        # The common case, first, without _writable_for's general checks: an
        # array adjoint updated in place, or the symbolic zero replaced.
        if (
            type(x_bar) is np.ndarray
            and x_bar.shape == x.shape
            and x_bar.dtype.kind in "fc"
            and x_bar.flags.writeable
        ):
            x_bar[idx] += g
            return x_bar
        if type(x_bar) is float and x_bar == 0 and x.dtype.kind == "f":
            bar = np.zeros(x.shape, x.dtype)
            bar[idx] += g
            return bar
        bar = _writable_for(x_bar, x)
        bar[idx] += g
        return bar
    if is_zero(g):
        if is_zero(x_bar) and isinstance(x, (list, tuple)):
            # A list's adjoint keeps its length (see push_adj): g may be a
            # Python float that happens to be 0 rather than a symbolic zero.
            return _rebuild(x, [0.0] * len(x))
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


def zero_at(x_bar: Any, x: Any, idx: Any) -> Any:
    """The adjoint of overwriting ``x[idx] = ...``: the slot's adjoint is zeroed.

    Arrays are updated in place when writable; lists and dicts come back as
    new containers (a dict loses the key, which may not have existed before
    the assignment).  A zero ``x_bar`` of an array or list ``x`` comes back
    as zeros of ``x``'s structure: the shapeless 0.0 would read as a scalar
    to the code that differentiates this call again, and a scalar has no
    entry ``idx`` to clear.
    """
    if is_zero(x_bar):
        if isinstance(x, (list, tuple)):
            return _rebuild(x, [0.0] * len(x))
        if isinstance(x, np.ndarray) and x.ndim:
            return np.zeros(x.shape, dtype=_float_dtype(x))
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


# A set, not a tuple display: the hot paths of seed/finalize test membership
# without rebuilding the tuple (and looking up np.float64) at every call.
_FLOAT_TYPES = frozenset((float, np.float64))


def finalize(x: Any, g: Any) -> Any:
    """The user-facing gradient of argument ``x`` from its adjoint ``g``.

    The result has ``x``'s structure exactly: arrays get ``x``'s shape and
    floating dtype and are always new (never aliasing another gradient or
    the seed); Python numbers give Python floats; NumPy floating scalars
    keep their type; containers are mapped recursively, with zeros for
    missing dict keys and zero entries.
    """
    if type(x) is float and type(g) in _FLOAT_TYPES:
        return float(g)  # the common case, first
    if type(x) is np.ndarray and type(g) is np.ndarray and g.shape == x.shape:
        return g.astype(x.dtype if x.dtype.kind == "f" else np.float64)
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


def finalize_owned(x: Any, g: Any) -> Any:
    """:func:`finalize` for an adjoint that nothing else references (the
    generated code proved it, see arrayopt.py): an ndarray that already has
    ``x``'s shape and floating dtype is returned as it is, not copied."""
    if (
        type(x) is np.ndarray
        and type(g) is np.ndarray
        and g.shape == x.shape
        and g.dtype == x.dtype
        and x.dtype.kind == "f"
        and g.flags.writeable
    ):
        return g
    return finalize(x, g)


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
    if s is None and type(value) in _FLOAT_TYPES:
        return 1.0  # the common case, first
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
    if isinstance(x, (list, tuple)) and isinstance(other, int):
        n = len(x)
        items = [0.0] * n
        for copy_index in range(max(int(other), 0)):
            for i in range(n):
                items[i] = acc(items[i], _item(g, copy_index * n + i))
        return _rebuild(x, items)
    if isinstance(other, (list, tuple)):
        if isinstance(x, int):
            return 0.0  # the count of a repetition
        # An array (or NumPy scalar) times a sequence: NumPy multiplies
        # elementwise.
        other = np.asarray(other)
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


def _plain_matrix_product(g: Any, a: Any, b: Any) -> bool:
    """Whether ``g`` is the full adjoint of ``a @ b`` for plain matrices (the
    case every step of a loop of matrix products has, tested first)."""
    return (
        type(g) is np.ndarray
        and type(a) is np.ndarray
        and type(b) is np.ndarray
        and g.ndim == 2
        and a.ndim == 2
        and b.ndim == 2
        and g.shape[0] == a.shape[0]
        and g.shape[1] == b.shape[1]
    )


def matmul_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``a @ b`` (1-d, 2-d and broadcast stacks)."""
    if _plain_matrix_product(g, a, b):  # the common case, first
        return g @ b.T
    if is_zero(g):
        return 0.0
    A2, B2, G = _matmul_frames(g, a, b)
    ga = np.matmul(G, np.swapaxes(B2, -1, -2))
    return _sum_to(ga, A2.shape).reshape(np.shape(a))


def matmul_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``a @ b`` (1-d, 2-d and broadcast stacks)."""
    if _plain_matrix_product(g, a, b):  # the common case, first
        return a.T @ g
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


# -- tangents: structure ---------------------------------------------------------


def dense_tangent(t: Any, x: Any) -> Any:
    """The tangent ``t`` of ``x`` with every symbolic zero made explicit.

    Numbers and arrays get an array (or float) of ``x``'s shape; a list or
    tuple gets the same container of dense entries, so that NumPy can turn
    it into an array exactly as it turns ``x`` into one.
    """
    if isinstance(x, (list, tuple)):
        return _rebuild(x, [dense_tangent(_item(t, i), v) for i, v in enumerate(x)])
    if is_zero(t):
        return zeros_like(x)
    shape = np.shape(x)
    if np.shape(t) != shape:
        return np.array(np.broadcast_to(t, shape))
    return t


def linear_map(fn: Any, t: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(t, *args, **kwargs)`` for the tangent ``t`` of ``x``, where ``fn``
    is linear in that argument: zero stays zero, and a list tangent is made
    dense first (``np.sum([x, c])`` with only ``x`` varying)."""
    if is_zero(t):
        return 0.0
    return fn(dense_tangent(t, x), *args, **kwargs)


def _tangent_array(t: Any) -> Any:
    """A list/tuple tangent as an array (symbolic zeros filled in)."""
    try:
        return np.asarray(t, dtype=np.float64)
    except ValueError:  # ragged: symbolic zeros beside arrays
        shapes = [np.shape(e) for e in t if not is_zero(e)]
        shape = shapes[0] if shapes else ()
        return np.asarray(
            [np.zeros(shape) if is_zero(e) else _tangent_array(e) for e in t]
        )


def broadcast_tangent(t: Any, x: Any, ans: Any, factor: Any = None) -> Any:
    """The term ``t * factor`` of a broadcasting NumPy function's tangent,
    with ``ans``'s shape, for the tangent ``t`` of its operand ``x`` (a list
    operand's tangent becomes an array, as the list does)."""
    if is_zero(t):
        return 0.0
    if isinstance(x, (list, tuple)):
        t = np.asarray(dense_tangent(t, x), dtype=np.float64)
    if factor is not None:
        t = np.multiply(t, factor)
    return broadcast_like(t, ans)


def select_tangent(t: Any, mask: Any, ans: Any) -> Any:
    """``t`` where ``mask`` holds and 0 elsewhere, with ``ans``'s shape (the
    tangent through np.where and clip; NaN/inf tangents of the branch not
    taken do not leak through)."""
    if is_zero(t):
        return 0.0
    return _like_ans(broadcast_like(np.where(mask, t, 0.0), ans), ans)


def add_tangent(ts: tuple[Any, Any], xs: tuple[Any, Any], ans: Any) -> Any:
    """The tangent of ``a + b`` from the tangents ``ts`` of ``xs = (a, b)``.

    Numbers and arrays: the sum, broadcast to ``ans``.  Lists and tuples are
    concatenated, and so are their tangents (entry by entry, zeros filled in).
    """
    ta, tb = ts
    a, b = xs
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if is_zero(ta) and is_zero(tb):
            return 0.0
        items = [_item(ta, i) for i in range(len(a))]
        items += [_item(tb, i) for i in range(len(b))]
        return _rebuild(ans, items)
    return acc(broadcast_like(ta, ans), broadcast_like(tb, ans))


def mul_tangent(t: Any, other: Any, ans: Any) -> Any:
    """The tangent of ``x * other`` for the tangent ``t`` of ``x``.

    Numbers and arrays: ``t * other`` broadcast to ``ans``.  Repetition of a
    list or tuple (``[a, b] * 3``) repeats the tangent; the integer count of a
    repetition has no tangent.
    """
    if is_zero(t):
        return 0.0
    if isinstance(other, (list, tuple)):
        if isinstance(ans, (list, tuple)):
            return 0.0  # t is the tangent of a repetition's count
        other = np.asarray(other)  # an array times a sequence: elementwise
    if isinstance(ans, (list, tuple)):
        count = max(int(other), 0)
        if count == 0:
            return _rebuild(ans, [])
        return _rebuild(ans, _as_items(t, len(ans) // count) * count)
    return broadcast_like(t * other, ans)


def extreme_tangent(
    ts: tuple[Any, ...], ans: Any, args: tuple[Any, ...], key: Any = None
) -> Any:
    """The tangent of builtin ``max``/``min`` (``max(a, b, ...)`` or
    ``max(iterable)``): that of the winner; tied winners share it equally
    (the average of their tangents), as :func:`extreme_adjoint` splits."""
    if all(is_zero(t) for t in ts):
        return 0.0
    if len(args) == 1:
        items, t = args[0], ts[0]
        if isinstance(items, np.ndarray):
            return max_tangent(t, items, ans, 0)
        if not isinstance(items, (list, tuple)):
            return 0.0
        tangents = [_item(t, i) for i in range(len(items))]
    else:
        items, tangents = args, list(ts)
    weights = _split_extreme(1.0, ans, list(items), key)
    total: Any = 0.0
    for w, tangent in zip(weights, tangents):
        if not is_zero(w) and not is_zero(tangent):
            total = acc(total, w * tangent)
    return broadcast_like(total, ans)


def default_tangent(t: Any, args: tuple[Any, ...]) -> Any:
    """Tangent of ``default=`` in ``max(iterable, default=d)``: t if used."""
    if len(args) == 1 and _length(args[0]) == 0:
        return t
    return 0.0


def sum_tangent(t: Any, iterable: Any, ans: Any) -> Any:
    """The tangent of builtin ``sum(iterable)`` (without ``start``)."""
    if is_zero(t):
        return 0.0
    if isinstance(iterable, (list, tuple)):
        total: Any = 0.0
        for i in range(len(iterable)):
            total = acc(total, _item(t, i))
        return broadcast_like(total, ans)
    if isinstance(iterable, np.ndarray):
        return broadcast_like(np.sum(t, axis=0), ans)
    return 0.0


def hypot_tangent(ts: tuple[Any, ...], coordinates: tuple[Any, ...], ans: Any) -> Any:
    """The tangent of ``math.hypot(*coordinates)``: sum of t * c / ans."""
    if ans == 0 or all(is_zero(t) for t in ts):
        return 0.0
    return float(sum(t * c for t, c in zip(ts, coordinates) if not is_zero(t)) / ans)


# -- tangents and adjoints: reductions ---------------------------------------------


def _array_tangent(t: Any, a: Any) -> Any:
    """The tangent ``t`` of an array-like ``a`` as an array (lists of values
    and of their tangents become arrays, symbolic zeros filled in)."""
    if isinstance(a, (list, tuple)):
        return np.asarray(dense_tangent(t, a), dtype=np.float64)
    return t


def max_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """The tangent of ``np.max``/``np.min`` over ``axis``: that of the
    extreme entry, the average over tied entries (see :func:`unreduce_max`)."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    if _is_py_scalar(a):
        return t
    weights = unreduce_max(1.0, a, ans, axis, keepdims, where)
    return _like_ans(np.sum(weights * t, axis=_axis_arg(axis), keepdims=keepdims), ans)


def _axis_arg(axis: Axis) -> Any:
    """``axis`` as NumPy reductions accept it (tuples stay tuples)."""
    if axis is None or isinstance(axis, (int, np.integer)):
        return axis
    return tuple(int(a) for a in axis)


def _like_ans(out: Any, ans: Any) -> Any:
    """``out`` as a value like ``ans``: a 0-d result for a scalar ``ans`` is a
    scalar (a Python float for a Python number)."""
    if np.ndim(out) == 0 and not isinstance(ans, np.ndarray):
        if _is_py_scalar(ans):
            return float(out)
        return out[()] if isinstance(out, np.ndarray) else out
    return out


def prod_tangent(
    t: Any,
    a: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """The tangent of ``np.prod``: each entry's tangent times the product of
    the others (no division, so zeros are exact)."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    if _is_py_scalar(a):
        return t
    others = prod_adjoint(1.0, a, axis, keepdims, where)
    return np.sum(others * t, axis=_axis_arg(axis), keepdims=keepdims)


def _dof(ddof: Any, correction: Any) -> Any:
    return ddof if correction is None else correction


def var_tangent(
    t: Any,
    a: Any,
    axis: Axis = None,
    ddof: Any = 0,
    keepdims: bool = False,
    correction: Any = None,
) -> Any:
    """The tangent of ``np.var(a, axis, ddof=ddof, keepdims=keepdims)``."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    arr = np.asarray(a)
    centered = arr - np.mean(arr, axis=_axis_arg(axis), keepdims=True)
    scale = 2.0 / (_reduced_count(arr.shape, axis) - _dof(ddof, correction))
    out = scale * np.sum(centered * t, axis=_axis_arg(axis), keepdims=keepdims)
    return float(out) if _is_py_scalar(a) else out


def std_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Axis = None,
    ddof: Any = 0,
    keepdims: bool = False,
    correction: Any = None,
) -> Any:
    """The tangent of ``np.std``: that of var over ``2 * std`` (0 where the
    spread is 0, like :func:`std_adjoint`)."""
    if is_zero(t):
        return 0.0
    tv = var_tangent(t, a, axis, ddof, keepdims, correction)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.asarray(ans) > 0, tv / (2.0 * np.asarray(ans)), 0.0)
    return float(out) if _is_py_scalar(a) else _like_ans(out, ans)


def _along_last(x: Any, axis: Any) -> np.ndarray:
    """``x`` with ``axis`` moved last (flattened when ``axis`` is None)."""
    arr = np.asarray(x)
    return arr.reshape(-1) if axis is None else np.moveaxis(arr, axis, -1)


def _from_last(y: np.ndarray, shape: tuple[int, ...], axis: Any) -> np.ndarray:
    if axis is None:
        return y.reshape(shape)
    return np.moveaxis(y, -1, axis)


def _leave_one_out_cumprod(arr: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``P[..., j, i]`` = product of ``arr[..., k]`` for k <= i, k != j (and
    0 for i < j): ∂ cumprod_i / ∂ a_j, without dividing by a_j."""
    n = arr.shape[-1]
    i = np.arange(n)
    later = i[None, :] > i[:, None]  # [j, i]: i > j
    factors = np.where(later, arr[..., None, :], 1.0)
    tail = np.cumprod(factors, axis=-1)  # prod of a_k for j < k <= i
    head = np.concatenate([np.ones(arr.shape[:-1] + (1,)), y[..., :-1]], axis=-1)
    return np.where(i[None, :] >= i[:, None], head[..., :, None] * tail, 0.0)


def cumprod_tangent(t: Any, a: Any, ans: Any, axis: Any = None) -> Any:
    """The tangent of ``np.cumprod(a, axis)``."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    arr = _along_last(a, axis).astype(_float_dtype(a))
    y = _along_last(ans, axis)
    tt = _along_last(np.broadcast_to(t, np.shape(a)), axis)
    if np.all(arr != 0):
        out = y * np.cumsum(tt / arr, axis=-1)
    else:
        out = np.einsum("...j,...ji->...i", tt, _leave_one_out_cumprod(arr, y))
    return _from_last(out, np.shape(ans), axis)


def cumprod_adjoint(g: Any, a: Any, ans: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.cumprod(a, axis)``."""
    if is_zero(g):
        return 0.0
    arr = _along_last(a, axis).astype(_float_dtype(a))
    y = _along_last(ans, axis)
    gg = _along_last(_full(g, np.shape(ans)), axis)
    if np.all(arr != 0):
        out = np.flip(np.cumsum(np.flip(gg * y, -1), axis=-1), -1) / arr
    else:
        out = np.einsum("...i,...ji->...j", gg, _leave_one_out_cumprod(arr, y))
    out = _from_last(out, np.shape(ans), axis)
    return reshape_adjoint(out, a)


def norm_tangent(
    t: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Any:
    """The tangent of ``np.linalg.norm``: the gradient of :func:`norm_adjoint`
    contracted with ``t`` (ties and kinks resolved the same way)."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, x)
    if _is_py_scalar(x):
        return t * sign(x)
    grad = norm_adjoint(np.ones(np.shape(ans)), x, ans, ord, axis, keepdims)
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else _axes(axis, nd)
    return _like_ans(np.sum(grad * t, axis=axes, keepdims=keepdims), ans)


def clip_mask(
    a: Any, lo: Any, hi: Any, part: int, lo2: Any = None, hi2: Any = None
) -> Any:
    """Where ``np.clip(a, lo, hi)`` selects ``a`` (part 0), ``lo`` (1) or
    ``hi`` (2), with the conventions of :func:`clip_adjoint` (at a bound, the
    entry is ``a``'s).  ``lo2``/``hi2`` are the ``min=``/``max=`` spellings."""
    lo = lo if lo2 is None else lo2
    hi = hi if hi2 is None else hi2
    low = a if lo is None else np.maximum(a, lo)
    to_hi = np.zeros(np.shape(low), dtype=bool) if hi is None else np.greater(low, hi)
    to_lo = np.zeros_like(to_hi) if lo is None else np.less(a, lo) & ~to_hi
    return (~(to_hi | to_lo), to_lo, to_hi)[part]


def item_adjoint(g: Any, x: Any, args: tuple[Any, ...]) -> Any:
    """The adjoint of ``x.item(*args)``: ``g`` at that entry of zeros."""
    if is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return float(g)
    out = np.zeros(np.shape(x), dtype=_float_dtype(x))
    if not args:
        out.reshape(-1)[0] = g
    elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
        out.reshape(-1)[args[0]] = g
    else:
        out[args[0] if len(args) == 1 else tuple(args)] = g
    return out


# -- tangents and adjoints: elementwise ----------------------------------------------


def sinc_derivative(x: Any, n: int = 1) -> Any:
    """The ``n``-th derivative of ``np.sinc`` (``n >= 1``), exact at 0.

    Its own derivative is ``sinc_derivative(x, n + 1)``, so every order has
    the same accuracy.  The closed form divides by powers of x and cancels
    near 0, so a window around 0 sums the Taylor series instead.
    """
    xa = _as_float(x)
    xa = np.asarray(xa, dtype=np.result_type(xa, np.float64))
    out = np.empty(xa.shape, dtype=xa.dtype)
    # The closed form's largest term, n! / (π |x|^(n+1)), exceeds the size of
    # the result, π^n / (n+1), at most 100 times outside this window (about
    # 0.045 for n = 1, 0.8 for n = 8): two digits lost at most either side.
    window = (math.factorial(n) * (n + 1) / 100.0) ** (1.0 / (n + 1)) / np.pi
    near = np.abs(xa) < window
    out[near] = _sinc_derivative_series(xa[near], n, window)
    out[~near] = _sinc_derivative_leibniz(xa[~near], n)
    return _like_scalar(out, x)


def _sinc_derivative_series(x: np.ndarray, n: int, radius: float) -> np.ndarray:
    # sinc(x) = sum_k (-1)^k (πx)^(2k) / (2k+1)! differentiated n times:
    #   sum over m = 0, 1, ... with n + m even of
    #   (-1)^((n+m)/2) π^n (πx)^m / (m! (n+m+1)).
    total = np.zeros(x.shape, dtype=x.dtype)
    power = np.ones(x.shape, dtype=x.dtype)  # (πx)^m / m!
    bound = 1.0  # (π radius)^m / m!, the largest |power|
    px = np.pi * x
    m = 0
    # Past m = 2π radius each term is at most half the one before, so the
    # rest of the series is below twice the current bound.
    while m <= 2.0 * np.pi * radius or bound > 1e-17:
        if (n + m) % 2 == 0:
            sign = -1.0 if (n + m) // 2 % 2 else 1.0
            total += sign * np.pi**n * power / (n + m + 1)
        m += 1
        power = power * px / m
        bound *= np.pi * radius / m
    return total


def _sinc_derivative_leibniz(x: np.ndarray, n: int) -> np.ndarray:
    # Leibniz's rule on sin(πx) · (πx)^-1:
    #   sum_k n!/k! π^(k-1) sin(πx + kπ/2) (-1)^(n-k) / x^(n-k+1).
    sin, cos = np.sin(np.pi * x), np.cos(np.pi * x)
    waves = (sin, cos, -sin, -cos)  # sin(πx + kπ/2) for k mod 4
    total = np.zeros(x.shape, dtype=x.dtype)
    coef = float(math.factorial(n))  # n! / k!
    for k in range(n + 1):
        if k:
            coef /= k
        sign = -1.0 if (n - k) % 2 else 1.0
        total += sign * coef * np.pi ** (k - 1) * waves[k % 4] / x ** (n - k + 1)
    return total


def _nan_first(x1: Any, x2: Any, weight: Any) -> Any:
    """``weight`` with NaN entries of ``x2`` won by ``x1`` and vice versa."""
    n1, n2 = np.isnan(x1), np.isnan(x2)
    w = np.where(n2 & ~n1, 1.0, np.where(n1 & ~n2, 0.0, weight))
    return _like_scalar(w, x1, x2)


def fmax_weight(x1: Any, x2: Any) -> Any:
    """∂fmax(x1, x2)/∂x1: like :func:`maximum_weight`, but a NaN loses."""
    return _nan_first(x1, x2, maximum_weight(x1, x2))


def fmin_weight(x1: Any, x2: Any) -> Any:
    """∂fmin(x1, x2)/∂x1: like :func:`minimum_weight`, but a NaN loses."""
    return _nan_first(x1, x2, minimum_weight(x1, x2))


def xlogy_dy(x: Any, y: Any) -> Any:
    """∂xlogy(x, y)/∂y = x / y, and 0 where x == 0 (xlogy(0, y) is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.equal(x, 0), 0.0, np.true_divide(x, y))
    return _like_scalar(out, x, y)


# -- tangents and adjoints: products --------------------------------------------------


def _T(x: Any) -> np.ndarray:
    """The transpose of (a stack of) matrices: the last two axes swapped."""
    return np.swapaxes(x, -1, -2)


def _as_adjoint_of(out: Any, x: Any) -> Any:
    """``out`` (computed with ``x``'s shape) as the adjoint of ``x``: a Python
    float for a Python number, else an array of ``x``'s exact shape."""
    if _is_py_scalar(x):
        return float(np.sum(out))
    out = np.asarray(out)
    if out.shape != np.shape(x):
        out = _sum_to(out, np.shape(x)) if out.ndim >= np.ndim(x) else out
        out = np.reshape(out, np.shape(x))
    return out


def inner_adjoint(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in ``np.inner(a, b)``."""
    if is_zero(g):
        return 0.0
    x, other = (a, b) if which == 0 else (b, a)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _as_adjoint_of(unbroadcast(g * np.asarray(other), np.asarray(x)), x)
    A, B = np.asarray(a), np.asarray(b)
    G = _full(g, A.shape[:-1] + B.shape[:-1])
    na, nb = A.ndim - 1, B.ndim - 1
    if which == 0:
        out = np.tensordot(G, B, axes=(list(range(na, na + nb)), list(range(nb))))
    else:
        out = np.tensordot(G, A, axes=(list(range(na)), list(range(na))))
    return out


def vdot_adjoint(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in ``np.vdot(a, b)``
    (real arguments: the dot product of the flattened arrays)."""
    if is_zero(g):
        return 0.0
    x, other = (a, b) if which == 0 else (b, a)
    return _as_adjoint_of(g * np.reshape(other, np.shape(x)), x)


def _tensordot_axes(axes: Any, nda: int, ndb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        return list(range(nda - n, nda)), list(range(n))
    axes_a, axes_b = axes
    if isinstance(axes_a, (int, np.integer)):
        axes_a, axes_b = [axes_a], [axes_b]
    return [int(i) % nda for i in axes_a], [int(i) % ndb for i in axes_b]


def tensordot_adjoint(g: Any, a: Any, b: Any, axes: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in
    ``np.tensordot(a, b, axes)``: ``g`` contracted with the other operand's
    free axes, then laid out in the operand's own axis order."""
    if is_zero(g):
        return 0.0
    A, B = np.asarray(a), np.asarray(b)
    axes_a, axes_b = _tensordot_axes(axes, A.ndim, B.ndim)
    free_a = [i for i in range(A.ndim) if i not in axes_a]
    free_b = [i for i in range(B.ndim) if i not in axes_b]
    shape = tuple(A.shape[i] for i in free_a) + tuple(B.shape[i] for i in free_b)
    G = _full(g, shape)
    nfa = len(free_a)
    # tensordot leaves the other operand's contracted axes in increasing order.
    if which == 0:
        out = np.tensordot(G, B, axes=(list(range(nfa, G.ndim)), free_b))
        paired = [axes_a[axes_b.index(i)] for i in sorted(axes_b)]
        out = np.transpose(out, np.argsort(free_a + paired))
        return _as_adjoint_of(out, a)
    out = np.tensordot(A, G, axes=(free_a, list(range(nfa))))
    paired = [axes_b[axes_a.index(i)] for i in sorted(axes_a)]
    out = np.transpose(out, np.argsort(paired + free_b))
    return _as_adjoint_of(out, b)


def kron_adjoint(g: Any, a: Any, b: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in ``np.kron(a, b)``:
    the result is viewed as blocks ``a[i] * b``, interleaving their axes."""
    if is_zero(g):
        return 0.0
    A, B = np.asarray(a), np.asarray(b)
    nd = max(A.ndim, B.ndim)
    A = A.reshape((1,) * (nd - A.ndim) + A.shape)
    B = B.reshape((1,) * (nd - B.ndim) + B.shape)
    pairs = [n for ab in zip(A.shape, B.shape) for n in ab]
    G = _full(g, tuple(m * n for m, n in zip(A.shape, B.shape))).reshape(pairs)
    even, odd = list(range(0, 2 * nd, 2)), list(range(1, 2 * nd, 2))
    if which == 0:
        return _as_adjoint_of(np.tensordot(G, B, axes=(odd, list(range(nd)))), a)
    return _as_adjoint_of(np.tensordot(G, A, axes=(even, list(range(nd)))), b)


_LABELS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_labels(
    subscripts: Any, shapes: list[tuple[int, ...]]
) -> tuple[list[list[str]], list[str], list[str]]:
    """Explicit labels of each operand and of the result (an ellipsis becomes
    fresh labels, aligned from the right), and the labels still unused."""
    if not isinstance(subscripts, str):
        raise ArgumentError(
            "s2s_ad differentiates np.einsum only with a subscripts string "
            "(np.einsum('ij,jk->ik', a, b)), not the sublist form"
        )
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    parts = inputs.split(",")
    unused = [c for c in _LABELS if c not in spec]
    widths = [len(shape) - len(p.replace("...", "")) for p, shape in zip(parts, shapes)]
    n_ell = max([w for p, w in zip(parts, widths) if "..." in p], default=0)
    ell, unused = unused[:n_ell], unused[n_ell:]
    labels = []
    for p, w in zip(parts, widths):
        if "..." in p:
            pre, post = p.split("...")
            labels.append(list(pre) + ell[n_ell - w :] + list(post))
        else:
            labels.append(list(p))
    if arrow:
        pre, _, post = output.partition("...")
        out = list(pre) + (ell if "..." in output else []) + list(post)
    else:
        counts: dict[str, int] = {}
        for p in parts:
            for c in p.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1)
    return labels, out, unused


def einsum_tangent(
    subscripts: Any,
    operands: Sequence[Any],
    tangents: Sequence[Any],
    optimize: Any = False,
) -> Any:
    """The tangent of ``np.einsum(subscripts, *operands)``: einsum is linear
    in each operand, so one einsum per operand with a tangent."""
    total: Any = 0.0
    for i, t in enumerate(tangents):
        if is_zero(t):
            continue
        ops = list(operands)
        ops[i] = dense_tangent(t, operands[i])
        total = acc(total, np.einsum(subscripts, *ops, optimize=optimize))
    return total


def einsum_adjoint(
    g: Any, ans: Any, subscripts: Any, operands: Sequence[Any]
) -> tuple[Any, ...]:
    """The adjoints of the operands of ``np.einsum(subscripts, *operands)``.

    Operand i's adjoint is the einsum of ``g`` with the other operands into
    operand i's labels; a label repeated in operand i (a diagonal) is routed
    through an identity matrix, a label summed in operand i alone through a
    vector of ones, and broadcast (size-1) dimensions are summed back.
    """
    if is_zero(g):
        return (0.0,) * len(operands)
    arrays = [np.asarray(op) for op in operands]
    labels, out, unused = _einsum_labels(subscripts, [x.shape for x in arrays])
    G = _full(g, np.shape(ans))
    sizes: dict[str, int] = {}
    for lab, x in zip(labels + [out], arrays + [G]):
        for c, n in zip(lab, x.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    adjoints = []
    for i, (lab, x) in enumerate(zip(labels, arrays)):
        fresh = iter(unused)
        target: list[str] = []
        extra_subs: list[str] = []
        extra_ops: list[Any] = []
        seen: set[str] = set()
        for c in lab:
            if c in seen:
                f = next(fresh)
                target.append(f)
                extra_subs.append(c + f)
                extra_ops.append(np.eye(sizes[c]))
            else:
                seen.add(c)
                target.append(c)
        present = set(out).union(*(set(lb) for j, lb in enumerate(labels) if j != i))
        for c in sorted(seen - present):
            extra_subs.append(c)
            extra_ops.append(np.ones(sizes[c]))
        others = [arrays[j] for j in range(len(arrays)) if j != i]
        other_subs = ["".join(lb) for j, lb in enumerate(labels) if j != i]
        spec = (
            ",".join(["".join(out)] + other_subs + extra_subs) + "->" + "".join(target)
        )
        adj = np.einsum(spec, G, *others, *extra_ops)
        adjoints.append(_as_adjoint_of(adj, operands[i]))
    return tuple(adjoints)


def _diagonal_index(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    if offset >= 0:
        rows = np.arange(max(0, min(n1, n2 - offset)))
        return rows, rows + offset
    cols = np.arange(max(0, min(n2, n1 + offset)))
    return cols - offset, cols


def diagonal_adjoint(
    g: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, trace: bool = False
) -> Any:
    """The adjoint of ``np.diagonal(a, offset, axis1, axis2)`` (of
    ``np.trace`` with ``trace=True``): ``g`` written onto that diagonal of
    zeros shaped like ``a``."""
    if is_zero(g):
        return 0.0
    shape = np.shape(a)
    out = np.zeros(shape, dtype=_float_dtype(a))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows, cols = _diagonal_index(view.shape[-2], view.shape[-1], int(offset))
    g = np.asarray(g)
    view[..., rows, cols] = g[..., None] if trace else g
    return out


def diag_adjoint(g: Any, v: Any, k: int = 0) -> Any:
    """The adjoint of ``np.diag(v, k)``: the k-th diagonal of ``g`` for a
    vector ``v``, ``g`` written onto the k-th diagonal for a matrix."""
    if is_zero(g):
        return 0.0
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_adjoint(g, v, k, 0, 1)


def inv_tangent(t: Any, ans: Any) -> Any:
    """The tangent of ``np.linalg.inv(a)``: ``-inv(a) @ t @ inv(a)``."""
    if is_zero(t):
        return 0.0
    return -(ans @ t @ ans)


def inv_adjoint(g: Any, ans: Any) -> Any:
    """The adjoint of ``np.linalg.inv(a)``: ``-inv(a)ᵀ @ g @ inv(a)ᵀ``."""
    if is_zero(g):
        return 0.0
    return -(_T(ans) @ g @ _T(ans))


def _trace_last(x: np.ndarray) -> np.ndarray:
    return np.einsum("...ii->...", x)


def det_tangent(t: Any, a: Any, ans: Any) -> Any:
    """The tangent of ``np.linalg.det(a)``: ``det(a) * tr(a⁻¹ t)``."""
    if is_zero(t):
        return 0.0
    return ans * _trace_last(np.linalg.solve(a, t))


def det_adjoint(g: Any, a: Any, ans: Any) -> Any:
    """The adjoint of ``np.linalg.det(a)``: ``g * det(a) * a⁻ᵀ`` (for an
    invertible ``a``)."""
    if is_zero(g):
        return 0.0
    scale = np.asarray(g * ans)[..., None, None]
    return scale * _T(np.linalg.inv(a))


def slogdet_tangent(t: Any, a: Any, ans: Any) -> Any:
    """The tangent of ``np.linalg.slogdet(a)``: the sign's is 0, that of
    ``log|det a|`` is ``tr(a⁻¹ t)``."""
    if is_zero(t):
        return 0.0
    return (0.0, _trace_last(np.linalg.solve(a, t)))


def slogdet_adjoint(g: Any, a: Any) -> Any:
    """The adjoint of ``np.linalg.slogdet(a)`` from the (sign, logdet)
    adjoint pair: ``g_logdet * a⁻ᵀ``."""
    g_log = _item(g, 1)
    if is_zero(g_log):
        return 0.0
    return np.asarray(g_log)[..., None, None] * _T(np.linalg.inv(a))


_NUMPY2 = int(np.__version__.split(".")[0]) >= 2


def _solve_is_vector(a: Any, b: Any) -> bool:
    """Whether np.linalg.solve treats ``b`` as (a stack of) vectors."""
    if _NUMPY2:
        return np.ndim(b) == 1
    return np.ndim(b) == np.ndim(a) - 1


def solve_tangent(t: Any, a: Any, b: Any, ans: Any, which: int) -> Any:
    """The tangent of ``x = np.linalg.solve(a, b)`` from that of ``a``
    (which=0: ``-solve(a, t @ x)``) or ``b`` (1: ``solve(a, t)``)."""
    if is_zero(t):
        return 0.0
    if which == 1:
        return np.linalg.solve(a, dense_tangent(t, b))
    vector = _solve_is_vector(a, b)
    x = np.asarray(ans)[..., None] if vector else ans
    out = -np.linalg.solve(a, t @ x)
    return out[..., 0] if vector else out


def solve_adjoint(g: Any, a: Any, b: Any, ans: Any, which: int) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in
    ``x = np.linalg.solve(a, b)``: ``b̄ = solve(aᵀ, g)``, ``ā = -b̄ xᵀ``."""
    if is_zero(g):
        return 0.0
    vector = _solve_is_vector(a, b)
    G = _full(g, np.shape(ans))
    if vector:
        G = G[..., None]
    b_bar = np.linalg.solve(_T(a), G)
    if which == 1:
        out = b_bar[..., 0] if vector else b_bar
        return _as_adjoint_of(out, b)
    x = np.asarray(ans)[..., None] if vector else np.asarray(ans)
    return _as_adjoint_of(-(b_bar @ _T(x)), a)


def _sym_tangent(t: Any, lower: bool) -> np.ndarray:
    """The symmetric matrix a factorization reading only the lower (upper)
    triangle of its argument sees when that argument moves by ``t``."""
    if lower:
        return np.tril(t) + _T(np.tril(t, -1))
    return np.triu(t) + _T(np.triu(t, 1))


def _sym_adjoint(s: Any, lower: bool) -> np.ndarray:
    """The adjoint of :func:`_sym_tangent`."""
    if lower:
        return np.tril(s) + np.tril(_T(s), -1)
    return np.triu(s) + np.triu(_T(s), 1)


def _phi(x: np.ndarray) -> np.ndarray:
    """The lower triangle of ``x`` with its diagonal halved."""
    n = x.shape[-1]
    return np.tril(x) - 0.5 * x * np.eye(n)


def cholesky_tangent(t: Any, ans: Any, upper: bool = False) -> Any:
    """The tangent of ``np.linalg.cholesky(a)``: ``L Φ(L⁻¹ E L⁻ᵀ)``, with E
    the symmetric matrix read from the triangle of ``t`` NumPy uses."""
    if is_zero(t):
        return 0.0
    L = _T(ans) if upper else np.asarray(ans)
    E = _sym_tangent(t, not upper)
    inner = np.linalg.solve(L, _T(np.linalg.solve(L, E)))
    out = L @ _phi(inner)
    return _T(out) if upper else out


def cholesky_adjoint(g: Any, ans: Any, upper: bool = False) -> Any:
    """The adjoint of ``np.linalg.cholesky(a)`` (the transpose of
    :func:`cholesky_tangent`)."""
    if is_zero(g):
        return 0.0
    L = _T(ans) if upper else np.asarray(ans)
    G = _full(g, np.shape(ans))
    L_bar = _T(G) if upper else G
    P = _phi(_T(L) @ L_bar)
    S = np.linalg.solve(_T(L), _T(np.linalg.solve(_T(L), _T(P))))
    return _sym_adjoint(S, not upper)


def _gaps(w: np.ndarray) -> np.ndarray:
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    off = ~np.eye(w.shape[-1], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(off, 1.0 / np.where(off, diff, 1.0), 0.0)


def _lower(uplo: Any) -> bool:
    return str(uplo).upper() == "L"


def eigh_tangent(t: Any, ans: Any, UPLO: str = "L") -> Any:
    """The tangent of ``np.linalg.eigh(a)`` as (eigenvalues, eigenvectors).

    With Ω = vᵀ E v: ``dw = diag(Ω)``, ``dv = v (F ∘ Ω)`` where
    ``F_ij = 1/(w_j - w_i)``.  Repeated eigenvalues make the eigenvector
    tangent infinite or NaN (eigenvectors are not differentiable there).
    """
    if is_zero(t):
        return 0.0
    w, v = ans[0], ans[1]
    omega = _T(v) @ _sym_tangent(t, _lower(UPLO)) @ v
    dw = np.diagonal(omega, axis1=-2, axis2=-1).copy()
    with np.errstate(invalid="ignore"):
        dv = v @ (_gaps(w) * omega)
    return (dw, dv)


def eigh_adjoint(g: Any, ans: Any, UPLO: str = "L") -> Any:
    """The adjoint of ``np.linalg.eigh(a)`` from the (w̄, v̄) pair:
    ``v (diag(w̄) + F ∘ (vᵀ v̄)) vᵀ``, read back onto the triangle used."""
    if is_zero(g):
        return 0.0
    w, v = ans[0], ans[1]
    g_w, g_v = _item(g, 0), _item(g, 1)
    M: Any = 0.0
    if not is_zero(g_w):
        M = np.eye(w.shape[-1]) * _full(g_w, w.shape)[..., None, :]
    if not is_zero(g_v):
        with np.errstate(invalid="ignore"):
            M = M + _gaps(w) * (_T(v) @ g_v)
    if is_zero(M):
        return 0.0
    return _sym_adjoint(v @ M @ _T(v), _lower(UPLO))


def eigvalsh_tangent(t: Any, a: Any, UPLO: str = "L") -> Any:
    """The tangent of ``np.linalg.eigvalsh(a)``: ``diag(vᵀ E v)``."""
    if is_zero(t):
        return 0.0
    return eigh_tangent(t, np.linalg.eigh(a, UPLO), UPLO)[0]


def eigvalsh_adjoint(g: Any, a: Any, UPLO: str = "L") -> Any:
    """The adjoint of ``np.linalg.eigvalsh(a)``: ``v diag(ḡ) vᵀ``."""
    if is_zero(g):
        return 0.0
    return eigh_adjoint((g, 0.0), np.linalg.eigh(a, UPLO), UPLO)


def _svd_factors(
    a: Any, ans: Any, full_matrices: bool, compute_uv: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, s, v) of the thin SVD of ``a`` (from ``ans`` when it has them)."""
    m, n = np.shape(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise ArgumentError(
            "s2s_ad cannot differentiate np.linalg.svd(a, full_matrices=True) of a "
            f"non-square ({m}x{n}) matrix: the extra singular vectors are not "
            "unique; pass full_matrices=False"
        )
    if compute_uv:
        u, s, vh = ans[0], ans[1], ans[2]
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.asarray(u), np.asarray(s), _T(vh)


def svd_tangent(
    t: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True
) -> Any:
    """The tangent of ``np.linalg.svd(a)``: (du, ds, dvh), or ds alone when
    ``compute_uv`` is false.  Repeated (or, for non-square ``a``, zero)
    singular values make the singular-vector tangents infinite or NaN."""
    if is_zero(t):
        return 0.0
    u, s, v = _svd_factors(a, ans, full_matrices, compute_uv)
    dP = _T(u) @ t @ v
    ds = np.diagonal(dP, axis1=-2, axis2=-1).copy()
    if not compute_uv:
        return ds
    F = _gaps(s * s)
    row, col = s[..., :, None], s[..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        du = u @ (F * (dP * col + row * _T(dP)))
        dv = v @ (F * (row * dP + _T(dP) * col))
        m, n = np.shape(a)[-2:]
        if m > n:
            tv = t @ v
            du = du + (tv - u @ (_T(u) @ tv)) / col
        elif n > m:
            tu = _T(t) @ u
            dv = dv + (tu - v @ (_T(v) @ tu)) / col
    return (du, ds, _T(dv))


def svd_adjoint(
    g: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True
) -> Any:
    """The adjoint of ``np.linalg.svd(a)`` (the transpose of
    :func:`svd_tangent`)."""
    if is_zero(g):
        return 0.0
    u, s, v = _svd_factors(a, ans, full_matrices, compute_uv)
    if not compute_uv:
        g_u, g_s, g_v = 0.0, g, 0.0
    else:
        g_u, g_s = _item(g, 0), _item(g, 1)
        g_vh = _item(g, 2)
        g_v = 0.0 if is_zero(g_vh) else _T(g_vh)
    k = s.shape[-1]
    P: Any = 0.0
    if not is_zero(g_s):
        P = np.eye(k) * _full(g_s, s.shape)[..., None, :]
    row, col = s[..., :, None], s[..., None, :]
    out: Any = 0.0
    m, n = np.shape(a)[-2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        F = _gaps(s * s)
        if not is_zero(g_u):
            Y = F * (_T(u) @ g_u)
            P = P + (Y + _T(Y)) * col
            if m > n:
                out = (g_u - u @ (_T(u) @ g_u)) / col @ _T(v)
        if not is_zero(g_v):
            Z = F * (_T(v) @ g_v)
            P = P + row * (Z + _T(Z))
            if n > m:
                out = acc(out, u @ _T((g_v - v @ (_T(v) @ g_v)) / col))
    if not is_zero(P):
        out = acc(out, u @ P @ _T(v))
    return out


def pinv_tangent(t: Any, a: Any, ans: Any) -> Any:
    """The tangent of ``X = np.linalg.pinv(a)`` (valid where the rank of
    ``a`` is locally constant): ``-X t X + X Xᵀ tᵀ (I - a X)
    + (I - X a) tᵀ Xᵀ X``."""
    if is_zero(t):
        return 0.0
    X, A = np.asarray(ans), np.asarray(a)
    m, n = A.shape[-2:]
    tT = _T(t)
    return (
        -(X @ t @ X)
        + X @ _T(X) @ tT @ (np.eye(m) - A @ X)
        + (np.eye(n) - X @ A) @ tT @ _T(X) @ X
    )


def pinv_adjoint(g: Any, a: Any, ans: Any) -> Any:
    """The adjoint of ``np.linalg.pinv(a)`` (the transpose of
    :func:`pinv_tangent`)."""
    if is_zero(g):
        return 0.0
    X, A = np.asarray(ans), np.asarray(a)
    m, n = A.shape[-2:]
    G = _full(g, X.shape)
    gT = _T(G)
    return (
        -(_T(X) @ G @ _T(X))
        + (np.eye(m) - A @ X) @ gT @ X @ _T(X)
        + _T(X) @ X @ gT @ (np.eye(n) - X @ A)
    )


def _qr_factors(a: Any, ans: Any, mode: str) -> tuple[np.ndarray, np.ndarray]:
    m, n = np.shape(a)[-2:]
    if (
        m < n
        or mode not in ("reduced", "complete", "r")
        or (mode == "complete" and m != n)
    ):
        raise ArgumentError(
            f"s2s_ad differentiates np.linalg.qr of an m x n matrix only for m >= n "
            f"and mode 'reduced' or 'r' (here {m}x{n}, mode {mode!r}): otherwise "
            "Q is not determined uniquely by a"
        )
    if mode == "r":
        return np.linalg.qr(a)
    return np.asarray(ans[0]), np.asarray(ans[1])


def _right_solve_rt(x: Any, r: np.ndarray) -> np.ndarray:
    """``x R⁻¹`` for an upper-triangular (stack of) R."""
    return _T(np.linalg.solve(_T(r), _T(x)))


def qr_tangent(t: Any, a: Any, ans: Any, mode: str = "reduced") -> Any:
    """The tangent of ``np.linalg.qr(a)`` (m >= n): with B = t R⁻¹ and
    C = Qᵀ B, Ω = tril(C, -1) - tril(C, -1)ᵀ, ``dR = (C - Ω) R`` and
    ``dQ = Q Ω + B - Q C``."""
    if is_zero(t):
        return 0.0
    q, r = _qr_factors(a, ans, mode)
    B = _right_solve_rt(t, r)
    C = _T(q) @ B
    low = np.tril(C, -1)
    omega = low - _T(low)
    dr = (C - omega) @ r
    if mode == "r":
        return dr
    return (q @ omega + B - q @ C, dr)


def qr_adjoint(g: Any, a: Any, ans: Any, mode: str = "reduced") -> Any:
    """The adjoint of ``np.linalg.qr(a)`` (m >= n): with M = Qᵀ Q̄ - R̄ Rᵀ,
    ``ā = (Q̄ + Q (tril(M - Mᵀ, -1) - M)) R⁻ᵀ``."""
    if is_zero(g):
        return 0.0
    q, r = _qr_factors(a, ans, mode)
    if mode == "r":
        g_q, g_r = 0.0, g
    else:
        g_q, g_r = _item(g, 0), _item(g, 1)
    M: Any = 0.0
    B_bar: Any = 0.0
    if not is_zero(g_q):
        g_q = _full(g_q, q.shape)
        M = _T(q) @ g_q
        B_bar = g_q
    if not is_zero(g_r):
        M = M - _full(g_r, r.shape) @ _T(r)
    if is_zero(M):
        return 0.0
    C_bar = np.tril(M - _T(M), -1) - M
    B_bar = acc(B_bar, q @ C_bar)
    return _T(np.linalg.solve(r, _T(B_bar)))


# -- tangents and adjoints: shapes and assembly -------------------------------------


def apply_adjoint(fn: Any, g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(g, *args, **kwargs)`` for the adjoint ``g`` of ``ans``, where
    ``fn`` is the adjoint (a rearrangement) of the primal: zero stays zero,
    and a 0-d constant ``g`` is spread to ``ans``'s shape first."""
    if is_zero(g):
        return 0.0
    return fn(_full(g, np.shape(ans)), *args, **kwargs)


def broadcast_to_adjoint(g: Any, array: Any, ans: Any) -> Any:
    """The adjoint of ``np.broadcast_to(array, shape)``: summed back."""
    if is_zero(g):
        return 0.0
    return _as_adjoint_of(
        _sum_to(np.asarray(_full(g, np.shape(ans))), np.shape(array)), array
    )


def tri_adjoint(g: Any, m: Any, ans: Any, k: int = 0, lower: bool = False) -> Any:
    """The adjoint of ``np.triu(m, k)`` (``np.tril`` with ``lower``); a 1-d
    ``m`` was repeated as every row, so its adjoint sums the rows."""
    if is_zero(g):
        return 0.0
    out = (np.tril if lower else np.triu)(_full(g, np.shape(ans)), k)
    return np.sum(out, axis=0) if np.ndim(m) == 1 else out


def tile_adjoint(g: Any, A: Any, reps: Any, ans: Any) -> Any:
    """The adjoint of ``np.tile(A, reps)``: the sum over the copies."""
    if is_zero(g):
        return 0.0
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = np.shape(A)
    nd = max(len(shape), len(reps))
    shape_nd = (1,) * (nd - len(shape)) + shape
    reps_nd = (1,) * (nd - len(reps)) + reps
    pairs = [n for rs in zip(reps_nd, shape_nd) for n in rs]
    G = np.reshape(_full(g, np.shape(ans)), pairs)
    out = np.sum(G, axis=tuple(range(0, 2 * nd, 2)))
    return _as_adjoint_of(out, A)


def repeat_adjoint(g: Any, a: Any, repeats: Any, ans: Any, axis: Any = None) -> Any:
    """The adjoint of ``np.repeat(a, repeats, axis)``: each entry collects
    the adjoints of its copies."""
    if is_zero(g):
        return 0.0
    G = _full(g, np.shape(ans))
    if axis is None:
        n = int(np.size(a))
        source = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
        out = np.zeros(n, dtype=_float_dtype(a))
        np.add.at(out, source, G)
        return _as_adjoint_of(out.reshape(np.shape(a)), a)
    ax = int(axis) % np.ndim(a)
    n = np.shape(a)[ax]
    source = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
    moved = np.moveaxis(G, ax, 0)
    out = np.zeros((n,) + moved.shape[1:], dtype=_float_dtype(a))
    np.add.at(out, source, moved)
    return np.moveaxis(out, 0, ax)


def take_adjoint(
    g: Any, a: Any, indices: Any, ans: Any, axis: Any = None, mode: str = "raise"
) -> Any:
    """The adjoint of ``np.take(a, indices, axis, mode=mode)``: ``g`` added
    at the taken positions (repeated indices accumulate)."""
    if is_zero(g):
        return 0.0
    G = _full(g, np.shape(ans))
    idx = np.asarray(indices)
    out = np.zeros(np.shape(a), dtype=_float_dtype(a))
    if axis is None:
        target = out.reshape(-1)
    else:
        axis = int(axis) % out.ndim
        target = np.moveaxis(out, axis, 0)
        G = np.moveaxis(G, list(range(axis, axis + idx.ndim)), list(range(idx.ndim)))
    n = target.shape[0]
    idx = np.clip(idx, 0, n - 1) if mode == "clip" else idx % n
    np.add.at(target, idx, G)
    return _as_adjoint_of(out, a)


def _along_axis_index(
    indices: Any, ans_shape: tuple[int, ...], shape: tuple[int, ...], axis: Any
) -> tuple[Any, ...]:
    """The index of ``arr`` (of ``shape``) that
    ``np.take_along_axis(arr, indices, axis)`` gathers, for :func:`add_at`."""
    if axis is None:
        return np.unravel_index(np.asarray(indices) % int(np.prod(shape)), shape)
    ax = int(axis) % len(shape)
    fancy: list[Any] = list(np.indices(ans_shape, sparse=True))
    for dim, n in enumerate(shape):
        if n == 1 and dim != ax:
            fancy[dim] = 0  # arr was broadcast along this dimension
    fancy[ax] = np.broadcast_to(indices, ans_shape) % shape[ax]
    return tuple(fancy)


def _sort_order(a: Any, axis: Any) -> tuple[np.ndarray, Any]:
    arr = np.asarray(a)
    if axis is None:
        return np.argsort(arr.reshape(-1), kind="stable"), 0
    return np.argsort(arr, axis=axis, kind="stable"), axis


def sort_tangent(t: Any, a: Any, axis: Any = -1) -> Any:
    """The tangent of ``np.sort(a, axis)``: ``t`` in the sorted order (a
    stable order, so tied entries keep their order in both modes)."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    order, ax = _sort_order(a, axis)
    tt = np.broadcast_to(t, np.shape(a))
    if axis is None:
        tt = np.reshape(tt, -1)
    return np.take_along_axis(tt, order, ax)


def sort_adjoint(g: Any, a: Any, ans: Any, axis: Any = -1) -> Any:
    """The adjoint of ``np.sort(a, axis)``: ``g`` put back where each sorted
    entry came from."""
    if is_zero(g):
        return 0.0
    order, ax = _sort_order(a, axis)
    out = np.zeros(order.shape, dtype=_float_dtype(a))
    np.put_along_axis(out, order, _full(g, np.shape(ans)), ax)
    return out.reshape(np.shape(a))


_PAD_MODES = ("constant", "edge", "wrap", "reflect", "symmetric")


def _pad_source(array: Any, pad_width: Any, mode: str, reflect_type: str) -> np.ndarray:
    """For each entry of ``np.pad(array, ...)``, the flat index of the entry
    of ``array`` it copies (-1 for a constant)."""
    if mode not in _PAD_MODES or reflect_type != "even":
        raise ArgumentError(
            f"s2s_ad differentiates np.pad only in the modes {', '.join(_PAD_MODES)} "
            f"(with reflect_type='even'), not mode={mode!r}"
            + ("" if reflect_type == "even" else f", reflect_type={reflect_type!r}")
        )
    index = np.arange(np.size(array)).reshape(np.shape(array))
    if mode == "constant":
        return np.pad(index, pad_width, mode="constant", constant_values=-1)
    if mode in ("reflect", "symmetric"):
        return np.pad(index, pad_width, mode=mode, reflect_type="even")
    return np.pad(index, pad_width, mode=mode)


def pad_tangent(
    t: Any,
    array: Any,
    pad_width: Any,
    mode: str = "constant",
    reflect_type: str = "even",
) -> Any:
    """The tangent of ``np.pad(array, pad_width, mode)`` from that of
    ``array`` (constant entries get 0)."""
    if is_zero(t):
        return 0.0
    source = _pad_source(array, pad_width, mode, reflect_type)
    flat = np.reshape(np.broadcast_to(t, np.shape(array)), -1)
    if flat.size == 0:
        return np.zeros(source.shape)
    return np.where(source >= 0, flat[np.maximum(source, 0)], 0.0)


def pad_adjoint(
    g: Any,
    array: Any,
    pad_width: Any,
    mode: str = "constant",
    reflect_type: str = "even",
) -> Any:
    """The adjoint of ``array`` in ``np.pad``: each entry collects the
    adjoints of its copies."""
    if is_zero(g):
        return 0.0
    source = _pad_source(array, pad_width, mode, reflect_type)
    G = _full(g, source.shape)
    out = np.zeros(np.size(array), dtype=_float_dtype(array))
    hit = source >= 0
    np.add.at(out, source[hit], G[hit])
    return _as_adjoint_of(out.reshape(np.shape(array)), array)


def pad_constant_tangent(t: Any, array: Any, pad_width: Any, ans: Any) -> Any:
    """The tangent of ``np.pad(..., mode='constant', constant_values=c)``
    from that of a scalar ``c``: ``t`` on the padding."""
    if is_zero(t):
        return 0.0
    _scalar_constant(t)
    source = _pad_source(array, pad_width, "constant", "even")
    return np.where(source < 0, t, 0.0)


def pad_constant_adjoint(g: Any, array: Any, pad_width: Any, constant: Any) -> Any:
    """The adjoint of a scalar ``constant_values`` in ``np.pad``: the sum
    of ``g`` over the padding."""
    if is_zero(g):
        return 0.0
    _scalar_constant(constant)
    source = _pad_source(array, pad_width, "constant", "even")
    out = np.sum(np.where(source < 0, _full(g, source.shape), 0.0))
    return _as_adjoint_of(out, constant)


def _scalar_constant(c: Any) -> None:
    if np.ndim(c) != 0:
        raise ArgumentError(
            "s2s_ad differentiates np.pad with respect to constant_values only "
            "for a single scalar value"
        )


def split_adjoint(g: Any, ans: Sequence[Any], axis: int = 0) -> Any:
    """The adjoint of ``np.split``/``np.array_split`` (and hsplit...): the
    pieces' adjoints (zeros where a piece has none) joined back."""
    if is_zero(g):
        return 0.0
    pieces = [dense_tangent(_item(g, i), piece) for i, piece in enumerate(ans)]
    return np.concatenate(pieces, axis=axis)


_STACKERS = {
    "vstack": (np.atleast_2d, 0),
    "hstack": (np.atleast_1d, 1),
    "dstack": (np.atleast_3d, 2),
    "column_stack": (None, 1),
}


def stacked_adjoint(g: Any, tup: Any, ans: Any, kind: str) -> Any:
    """The adjoint of ``np.vstack``/``hstack``/``dstack``/``column_stack``
    (``kind``) of ``tup``, with ``tup``'s structure."""
    if is_zero(g):
        return 0.0
    promote, axis = _STACKERS[kind]
    shapes = []
    for x in tup:
        if kind == "column_stack":
            shapes.append((np.size(x), 1) if np.ndim(x) < 2 else np.shape(x))
        else:
            shapes.append(np.shape(promote(np.zeros(np.shape(x)))))
    if kind == "hstack" and all(len(s) == 1 for s in shapes):
        axis = 0
    G = _full(g, np.shape(ans))
    bounds = np.cumsum([s[axis] for s in shapes])[:-1]
    parts = np.split(G, bounds, axis=axis)
    out = [reshape_adjoint(p.copy(), x) for p, x in zip(parts, tup)]
    if isinstance(tup, np.ndarray):
        return np.stack(out)
    return _rebuild(tup, out)


def atleast_tangent(fn: Any, ts: Sequence[Any], arys: Sequence[Any], ans: Any) -> Any:
    """The tangent of ``ans = np.atleast_1d/2d/3d(*arys)`` (``fn``)."""
    outs = [0.0 if is_zero(t) else fn(dense_tangent(t, x)) for t, x in zip(ts, arys)]
    if len(outs) == 1:
        return outs[0]
    return _rebuild(ans, outs)


def atleast_adjoint(g: Any, arys: Sequence[Any]) -> tuple[Any, ...]:
    """The adjoints of the arguments of ``np.atleast_1d/2d/3d(*arys)``."""
    if len(arys) == 1:
        return (reshape_adjoint(g, arys[0]),)
    return tuple(reshape_adjoint(_item(g, i), x) for i, x in enumerate(arys))


def broadcast_arrays_tangent(ts: Sequence[Any], args: Sequence[Any], ans: Any) -> Any:
    """The tangent of ``np.broadcast_arrays(*args)``: each broadcast alike."""
    if all(is_zero(t) for t in ts):
        return 0.0
    return _rebuild(ans, [broadcast_like(t, out) for t, out in zip(ts, ans)])


def broadcast_arrays_adjoint(
    g: Any, args: Sequence[Any], ans: Sequence[Any]
) -> tuple[Any, ...]:
    """The adjoints of the arguments of ``np.broadcast_arrays(*args)``."""
    return tuple(
        broadcast_to_adjoint(_item(g, i), x, out)
        for i, (x, out) in enumerate(zip(args, ans))
    )


def _meshgrid_axis(k: int, n: int, indexing: str) -> int:
    if indexing == "xy" and n >= 2 and k < 2:
        return 1 - k
    return k


def meshgrid_tangent(
    ts: Sequence[Any], xi: Sequence[Any], ans: Sequence[Any], indexing: str = "xy"
) -> Any:
    """The tangent of ``np.meshgrid(*xi)``: grid k spreads ``xi[k]``."""
    if all(is_zero(t) for t in ts):
        return 0.0
    n = len(xi)
    outs = []
    for k, (t, grid) in enumerate(zip(ts, ans)):
        if is_zero(t):
            outs.append(0.0)
            continue
        shape = [1] * n
        shape[_meshgrid_axis(k, n, indexing)] = -1
        outs.append(broadcast_like(np.reshape(t, shape), grid))
    return _rebuild(ans, outs)


def meshgrid_adjoint(
    g: Any, xi: Sequence[Any], ans: Sequence[Any], indexing: str = "xy"
) -> tuple[Any, ...]:
    """The adjoints of the arguments of ``np.meshgrid(*xi)``."""
    n = len(xi)
    out = []
    for k, (x, grid) in enumerate(zip(xi, ans)):
        gk = _item(g, k)
        if is_zero(gk):
            out.append(0.0)
            continue
        keep = _meshgrid_axis(k, n, indexing)
        axes = tuple(i for i in range(n) if i != keep)
        total = np.sum(_full(gk, np.shape(grid)), axis=axes)
        out.append(_as_adjoint_of(np.reshape(total, np.shape(x)), x))
    return tuple(out)


def full_tangent(t: Any, ans: Any) -> Any:
    """The tangent of ``np.full(shape, fill_value)`` (and ``full_like``)
    from that of the fill value; integer results have none."""
    if is_zero(t) or not _is_inexact(ans):
        return 0.0
    return np.array(np.broadcast_to(t, np.shape(ans)), dtype=np.result_type(ans))


def _linspace_args(
    endpoints: Sequence[Any], num: Any, endpoint: Any, retstep: Any, axis: Any
) -> tuple[Any, Any, Any, Any]:
    """np.linspace's num, endpoint, retstep, axis, whether given by position
    (after start and stop) or by keyword."""
    given = list(endpoints[2:])
    names = ["num", "endpoint", "retstep", "dtype", "axis"]
    values = {"num": num, "endpoint": endpoint, "retstep": retstep, "axis": axis}
    for name, value in zip(names, given):
        values[name] = value
    return values["num"], values["endpoint"], values["retstep"], values["axis"]


def linspace_tangent(
    ts: Sequence[Any],
    ans: Any,
    endpoints: Sequence[Any],
    num: Any = 50,
    endpoint: Any = True,
    retstep: Any = False,
    axis: Any = 0,
) -> Any:
    """The tangent of ``np.linspace(start, stop, ...)``: linspace is linear
    in (start, stop), so it is linspace of the tangents (a (samples, step)
    pair with ``retstep``).  ``endpoints`` holds the positional arguments."""
    t_start, t_stop = ts[0], ts[1] if len(ts) > 1 else 0.0
    if is_zero(t_start) and is_zero(t_stop):
        return 0.0
    num, endpoint, retstep, axis = _linspace_args(
        endpoints, num, endpoint, retstep, axis
    )
    samples = ans[0] if retstep else ans
    if not _is_inexact(samples):
        return 0.0
    return np.linspace(
        dense_tangent(t_start, endpoints[0]),
        dense_tangent(t_stop, endpoints[1]),
        num,
        endpoint=endpoint,
        retstep=retstep,
        axis=axis,
    )


def arange_tangent(ts: Sequence[Any], args: Sequence[Any], ans: Any) -> Any:
    """The tangent of ``np.arange(*args)``: entry i is ``start + i * step``."""
    if len(args) < 2 or not _is_inexact(ans):
        return 0.0
    out: Any = 0.0
    if not is_zero(ts[0]):
        out = np.full(np.shape(ans), ts[0], dtype=np.result_type(ans))
    if len(args) == 3 and not is_zero(ts[2]):
        out = acc(out, ts[2] * np.arange(np.size(ans), dtype=np.result_type(ans)))
    return out


def array_tangent(t: Any, obj: Any, ans: Any) -> Any:
    """The tangent of ``np.array(obj)``/``np.asarray(obj)``: the tangents
    of ``obj``'s entries as one array of ``ans``'s shape (none for integer
    results)."""
    if is_zero(t) or not _is_inexact(ans):
        return 0.0
    dense = np.array(dense_tangent(t, obj), dtype=np.result_type(ans))
    return dense.reshape(np.shape(ans))


def cast_tangent(t: Any, ans: Any) -> Any:
    """The tangent through ``x.astype(dtype)``: cast alike, none for ints."""
    if is_zero(t) or not _is_inexact(ans):
        return 0.0
    return np.asarray(t).astype(np.result_type(ans))


# -- tangents and adjoints: scipy.special -------------------------------------------


def softmax_tangent(t: Any, ans: Any, axis: Any = None, log: bool = False) -> Any:
    """The tangent of ``scipy.special.softmax`` (``log_softmax`` with
    ``log``): ``s * (t - Σ s t)`` (``t - Σ s t``)."""
    if is_zero(t):
        return 0.0
    s = np.exp(ans) if log else np.asarray(ans)
    centered = t - np.sum(s * t, axis=_axis_arg(axis), keepdims=True)
    return centered if log else s * centered


def softmax_adjoint(g: Any, ans: Any, axis: Any = None, log: bool = False) -> Any:
    """The adjoint of ``scipy.special.softmax`` (``log_softmax`` with ``log``)."""
    if is_zero(g):
        return 0.0
    ax = _axis_arg(axis)
    if log:
        return g - np.exp(ans) * np.sum(g, axis=ax, keepdims=True)
    s = np.asarray(ans)
    return s * (g - np.sum(g * s, axis=ax, keepdims=True))


def _logsumexp_weights(a: Any, ans: Any, axis: Any, keepdims: bool) -> np.ndarray:
    """``exp(a - logsumexp)``: ∂logsumexp/∂b (times b: ∂/∂a)."""
    lse = _expand(np.asarray(ans), np.ndim(a), axis, keepdims)
    with np.errstate(invalid="ignore"):
        return np.exp(np.asarray(a) - lse)


def logsumexp_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    which: int = 0,
) -> Any:
    """The tangent of ``scipy.special.logsumexp(a, axis, b=b)`` from that of
    ``a`` (which=0) or ``b`` (1)."""
    if is_zero(t):
        return 0.0
    w = _logsumexp_weights(a, ans, axis, keepdims)
    if which == 0 and b is not None:
        w = w * b
    full = np.broadcast_to(w * t, np.shape(a))
    out = np.sum(full, axis=_axis_arg(axis), keepdims=keepdims)
    return _like_ans(out, ans)


def logsumexp_adjoint(
    g: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    which: int = 0,
) -> Any:
    """The adjoint of ``a`` (which=0) or ``b`` (1) in
    ``scipy.special.logsumexp(a, axis, b=b)``."""
    if is_zero(g):
        return 0.0
    w = _logsumexp_weights(a, ans, axis, keepdims)
    if which == 0 and b is not None:
        w = w * b
    out = _expand(g, np.ndim(w), axis, keepdims) * w
    return _as_adjoint_of(out, (a, b)[which])


# -- tangents and adjoints: more NumPy functions ----------------------------------------


def diff_adjoint(g: Any, a: Any, ans: Any, n: int = 1, axis: int = -1) -> Any:
    """The adjoint of ``np.diff(a, n, axis)``: minus the differences of the
    zero-padded adjoint, n times."""
    if is_zero(g):
        return 0.0
    G = np.asarray(_full(g, np.shape(ans)))
    nd = G.ndim
    width = [(0, 0)] * nd
    width[int(axis) % nd] = (1, 1)
    for _ in range(int(n)):
        G = -np.diff(np.pad(G, width), axis=axis)
    return G


def append_tangent_part(t: Any, arr: Any, values: Any, axis: Any, which: int) -> Any:
    """The tangent of ``np.append(arr, values, axis)`` from that of ``arr``
    (which=0) or ``values`` (1), the other part zero."""
    if is_zero(t):
        return 0.0
    if which == 0:
        return np.append(dense_tangent(t, arr), np.zeros(np.shape(values)), axis)
    return np.append(np.zeros(np.shape(arr)), dense_tangent(t, values), axis)


def append_adjoint(
    g: Any, arr: Any, values: Any, ans: Any, axis: Any, which: int
) -> Any:
    """The adjoint of ``arr`` (which=0) or ``values`` (1) in ``np.append``."""
    if is_zero(g):
        return 0.0
    G = np.asarray(_full(g, np.shape(ans)))
    if axis is None:
        cut = int(np.size(arr))
        part = G[:cut] if which == 0 else G[cut:]
        return _as_adjoint_of(
            part.reshape(np.shape((arr, values)[which])), (arr, values)[which]
        )
    cut = np.shape(arr)[int(axis)]
    first, second = np.split(G, [cut], axis=axis)
    return _as_adjoint_of((first, second)[which].copy(), (arr, values)[which])


def _kept(a: Any) -> np.ndarray:
    return ~np.isnan(np.asarray(a))


def nansum_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Axis = None,
    keepdims: bool = False,
    mean: bool = False,
) -> Any:
    """The tangent of ``np.nansum`` (``np.nanmean`` with ``mean``): NaN
    entries are left out, so their tangents are."""
    if is_zero(t):
        return 0.0
    t = _array_tangent(t, a)
    kept = _kept(a)
    out = np.sum(np.where(kept, t, 0.0), axis=_axis_arg(axis), keepdims=keepdims)
    if mean:
        out = out / np.sum(kept, axis=_axis_arg(axis), keepdims=keepdims)
    return _like_ans(out, ans)


def nansum_adjoint(
    g: Any, a: Any, axis: Axis = None, keepdims: bool = False, mean: bool = False
) -> Any:
    """The adjoint of ``np.nansum`` (``np.nanmean`` with ``mean``)."""
    if is_zero(g):
        return 0.0
    kept = _kept(a)
    out = unreduce(g, np.asarray(a), axis, keepdims)
    if mean:
        out = out / np.sum(kept, axis=_axis_arg(axis), keepdims=True)
    return _as_adjoint_of(np.where(kept, out, 0.0), a)


def _average_parts(
    a: Any, ans: Any, axis: Any, weights: Any, keepdims: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``a``, the weights broadcast to it, their sum and the average, with
    the reduced dimensions kept."""
    A = np.asarray(a, dtype=np.float64)
    if weights is None:
        W = np.ones(A.shape)
    else:
        W = np.asarray(weights, dtype=np.float64)
        if W.shape != A.shape:  # 1-d weights along axis
            shape = [1] * A.ndim
            shape[int(axis) % A.ndim] = -1
            W = W.reshape(shape)
        W = np.broadcast_to(W, A.shape)
    total = np.sum(W, axis=_axis_arg(axis), keepdims=True)
    avg = _expand(np.asarray(ans), A.ndim, axis, keepdims)
    return A, W, total, avg


def average_tangent(
    t: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    weights: Any = None,
    keepdims: bool = False,
    which: int = 0,
) -> Any:
    """The tangent of ``np.average(a, axis, weights)`` from that of ``a``
    (which=0) or ``weights`` (1): ``Σ w t / Σ w`` or ``Σ (a - avg) t / Σ w``."""
    if is_zero(t):
        return 0.0
    A, W, total, avg = _average_parts(a, ans, axis, weights, keepdims)
    if which == 0:
        part = W * t
    else:
        tw = np.asarray(t, dtype=np.float64)
        if tw.shape != A.shape and tw.ndim == 1 and A.ndim > 1:
            shape = [1] * A.ndim
            shape[int(axis) % A.ndim] = -1
            tw = tw.reshape(shape)
        part = (A - avg) * tw
    out = np.sum(part, axis=_axis_arg(axis), keepdims=True) / total
    return _like_ans(np.reshape(out, np.shape(ans)), ans)


def average_adjoint(
    g: Any,
    a: Any,
    ans: Any,
    axis: Any = None,
    weights: Any = None,
    keepdims: bool = False,
    which: int = 0,
) -> Any:
    """The adjoint of ``a`` (which=0) or ``weights`` (1) in ``np.average``."""
    if is_zero(g):
        return 0.0
    A, W, total, avg = _average_parts(a, ans, axis, weights, keepdims)
    G = _expand(g, A.ndim, axis, keepdims) / total
    if which == 0:
        return _as_adjoint_of(G * W, a)
    out = np.broadcast_to(G * (A - avg), A.shape)
    if np.shape(weights) != A.shape:  # 1-d weights along axis
        ax = int(axis) % A.ndim
        out = np.sum(out, axis=tuple(i for i in range(A.ndim) if i != ax))
    return _as_adjoint_of(out, weights)


def _trapezoid_widths(y: np.ndarray, x: Any, dx: Any, axis: int) -> Any:
    """The interval widths of the trapezoidal rule, broadcast along ``axis``."""
    if x is None:
        return dx
    d = np.diff(np.asarray(x, dtype=np.float64), axis=-1 if np.ndim(x) == 1 else axis)
    if np.ndim(x) == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[axis] = -1
        d = d.reshape(shape)
    return d


def _pair_means(y: np.ndarray, axis: int) -> np.ndarray:
    lo = np.take(y, np.arange(y.shape[axis] - 1), axis=axis)
    hi = np.take(y, np.arange(1, y.shape[axis]), axis=axis)
    return (lo + hi) / 2.0


def trapezoid_tangent(
    t: Any, y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1, which: int = 0
) -> Any:
    """The tangent of ``np.trapezoid(y, x, dx, axis)`` from that of ``y``
    (which=0), ``x`` (1) or ``dx`` (2): the rule is bilinear in (y, widths)."""
    if is_zero(t) or (which == 2 and x is not None):
        return 0.0
    Y = np.asarray(y, dtype=np.float64)
    ax = int(axis) % Y.ndim
    if which == 0:
        T = np.broadcast_to(t, Y.shape)
        return np.sum(_trapezoid_widths(Y, x, dx, ax) * _pair_means(T, ax), axis=ax)
    widths = _trapezoid_widths(Y, t, 0.0, ax) if which == 1 else t
    return np.sum(widths * _pair_means(Y, ax), axis=ax)


def trapezoid_adjoint(
    g: Any, y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1, which: int = 0
) -> Any:
    """The adjoint of ``y`` (which=0), ``x`` (1) or ``dx`` (2) in
    ``np.trapezoid(y, x, dx, axis)``."""
    if is_zero(g) or (which == 2 and x is not None):
        return 0.0
    Y = np.asarray(y, dtype=np.float64)
    ax = int(axis) % Y.ndim
    G = np.expand_dims(np.asarray(g, dtype=np.float64), ax)
    width = [(0, 0)] * Y.ndim
    width[ax] = (1, 1)
    if which == 0:
        w = np.broadcast_to(
            G * _trapezoid_widths(Y, x, dx, ax), _pair_means(Y, ax).shape
        )
        padded = np.pad(w, width)
        return _as_adjoint_of(_pair_means(padded, ax), y)
    c = G * _pair_means(Y, ax)
    if which == 2:
        return _as_adjoint_of(np.sum(c), dx)
    out = -np.diff(np.pad(c, width), axis=ax)
    if np.ndim(x) == 1 and Y.ndim > 1:
        out = np.sum(out, axis=tuple(i for i in range(Y.ndim) if i != ax))
    return _as_adjoint_of(out, x)


def polyval_slope(p: Any, x: Any) -> Any:
    """∂polyval(p, x)/∂x: the derivative polynomial at ``x``."""
    coefficients = np.asarray(p, dtype=np.float64)
    if coefficients.shape[0] < 2:
        return _like_scalar(np.zeros(np.shape(x)), x)
    return _like_scalar(np.polyval(np.polyder(coefficients), x), x)


def polyval_adjoint(g: Any, p: Any, x: Any) -> Any:
    """The adjoint of the coefficients in ``np.polyval(p, x)``: g times the
    powers of ``x``, summed over the points."""
    if is_zero(g):
        return 0.0
    n = len(p)
    X = np.asarray(x, dtype=np.float64)
    powers = X[..., None] ** np.arange(n - 1, -1, -1)
    G = np.broadcast_to(g, X.shape)[..., None]
    out = np.sum(G * powers, axis=tuple(range(X.ndim)))
    return array_adjoint(out, p)


def vecdot_adjoint(g: Any, x1: Any, x2: Any, axis: int = -1, which: int = 0) -> Any:
    """The adjoint of ``x1`` (which=0) or ``x2`` (1) in
    ``np.vecdot(x1, x2, axis=axis)`` (real arguments)."""
    if is_zero(g):
        return 0.0
    x, other = (x1, x2) if which == 0 else (x2, x1)
    full = np.broadcast_shapes(np.shape(x1), np.shape(x2))
    G = np.expand_dims(np.asarray(g), int(axis) % len(full))
    return _as_adjoint_of(np.broadcast_to(G * np.asarray(other), full), x)


def unstack_adjoint(g: Any, x: Any, ans: Sequence[Any], axis: int = 0) -> Any:
    """The adjoint of ``np.unstack(x, axis)``: the pieces' adjoints stacked."""
    if is_zero(g):
        return 0.0
    pieces = [dense_tangent(_item(g, i), piece) for i, piece in enumerate(ans)]
    return np.stack(pieces, axis=axis)


def tolist_adjoint(g: Any, ans: Any, x: Any) -> Any:
    """The adjoint of ``x.tolist()``: the nested list adjoint as an array."""
    if is_zero(g):
        return 0.0
    return np.reshape(np.asarray(dense_tangent(g, ans), dtype=np.float64), np.shape(x))


# -- forward mode (tangents) --------------------------------------------------------


def broadcast_like(t: Any, ans: Any) -> Any:
    """A tangent with the shape of ``ans`` (tangents of broadcast operands).

    The tangent of a list operand of a NumPy function (``np.add([a, b], x)``)
    becomes an array, as the list does, so that terms add as arrays.
    """
    if is_zero(t):
        return t
    if isinstance(t, (list, tuple)) and not isinstance(ans, (list, tuple)):
        if all(is_zero(e) for e in t):
            return 0.0
        t = _tangent_array(t)
    shape = np.shape(ans)
    if np.shape(t) == shape:
        return t
    if is_zero(ans) and np.ndim(t):
        # ans is an adjoint that a Python-float zero collapsed to the
        # symbolic zero (forward over reverse at a point where it vanishes):
        # its tangent keeps its own, real shape.
        return t
    return np.broadcast_to(t, shape).copy()


def setitem_tangent(x_dot: Any, x: Any, idx: Any, v_dot: Any) -> Any:
    """Tangent of ``x`` after ``x[idx] = v``: a new structure, never in place.

    The tangent of a list stays a list, even of zeros (see push_adj)."""
    if is_zero(x_dot) and is_zero(v_dot) and not isinstance(x, (list, tuple)):
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
    """Tangent of ``lst`` after ``lst.append(v)`` (``lst`` already appended).

    Always a list, even of zeros, for the reason given in :func:`push_adj`.
    """
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


def check_not_view(
    value: Any,
    base: Any,
    message: str,
    filename: str,
    lineno: int,
    line: str,
    funcname: str,
) -> None:
    """Refuse ``w = y[i]`` read after a write to ``y`` if ``w`` is a view.

    For a 1-D ``y`` the element is a number, a copy; for a 2-D one it is a
    row sharing ``y``'s memory, which the write changes behind the adjoint
    bookkeeping's back.  Kinds carry no ranks, so the compiler puts this
    check where the static pattern occurs.  Bounds suffice: an array made by
    indexing is either a view into ``y`` or freshly allocated."""
    if (
        isinstance(value, np.ndarray)
        and isinstance(base, np.ndarray)
        and np.may_share_memory(value, base)
    ):
        raise UnsupportedSyntaxError(message, filename, lineno, line, funcname)


def push_adj(lst_bar: Any, lst: Any, g: Any) -> Any:
    """Adjoint of ``x = lst.pop()`` run backwards: the list's adjoint gets the
    element's adjoint back at its end (``lst`` is the list without it).

    Always a list, even of zeros: a zero ``g`` may be a Python float that
    happens to be 0, and the list's length is what ``pop_adj_transpose``
    needs when this adjoint is differentiated again."""
    before = [0.0] * len(lst) if is_zero(lst_bar) else list(lst_bar)
    return before + [g]


def pop_tangent(lst_dot: Any) -> tuple[Any, Any]:
    """Tangents after ``x = lst.pop()``: (x's tangent, the list's tangent)."""
    if is_zero(lst_dot):
        return 0.0, 0.0
    rest = list(lst_dot)
    last = rest.pop()
    return last, rest


# == higher order: support for the rules of this module's own helpers ==========
#
# s2s_ad.rules.runtime_rules gives every public helper of this module a reverse
# and a forward rule, so that generated code can itself be differentiated
# (grad of grad, forward over reverse).  Most helpers are linear in their
# adjoint argument ``g``; the reverse rule of a linear map is its transpose.
# ``<helper>_transpose(v, <the helper's arguments>)`` is the transpose of
# ``<helper>`` with respect to ``g``: it takes the adjoint ``v`` of the
# helper's result and uses the other arguments for shapes and structure only.
# Each transpose is linear in ``v``, and its own transpose is the helper
# again, so the family is closed under differentiation.  Bilinear helpers
# (``mul_adjoint``, ``dot_adjoint_a``...) come with the partner that completes
# their trilinear family (``mul_adjoint_g``, ``dot_adjoint_g``...).
#
# Conventions as above: ``0.0`` is the zero of anything and the transposes
# return ``0.0`` for a zero ``v``; a 0-d ``v`` may stand for a constant array;
# when the helper's ``g`` is a symbolic zero its shape is unknown, so the
# transpose returns the natural shape (that of ``g`` in the generated code);
# nothing here mutates its arguments.  The helpers whose docstrings begin
# "Second derivative only" (``prod_adjoint_hvp``, ``norm_adjoint_partial``,
# ``std_adjoint_partial``, the einsum/solve/slogdet partials...) have no rules
# of their own: a third derivative through them differentiates their
# restatements in :mod:`s2s_ad.rules.runtime_sources`.


def dense(w: Any, like: Any) -> Any:
    """``w`` as a real value with ``like``'s shape, for use as an *operand*
    (a zero becomes zeros, a 0-d constant adjoint is spread).  A Python
    number ``like`` gives a Python float."""
    if _is_py_scalar(like):
        if is_zero(w):
            return 0.0
        return float(np.sum(w)) if np.ndim(w) else w
    shape = np.shape(like)
    if is_zero(w):
        return np.zeros(shape, dtype=_float_dtype(like))
    if isinstance(w, (list, tuple)):
        # The adjoint or tangent of a list may hold symbolic zeros, which
        # NumPy cannot stack with the arrays beside them.
        w = np.asarray(dense_tangent(w, like))
    if np.shape(w) == shape:
        return w
    return np.array(np.broadcast_to(w, shape))


def zero_where(c: Any, value: Any) -> Any:
    """``value`` with exact zeros wherever ``c == 0`` (broadcast together).

    Derivative expressions use it where a factor is 0 but the rest of the
    expression is inf or nan (``0 * inf``), as in ``d/dx p * x ** (p - 1)``
    at ``p == 0``.
    """
    if is_zero(value):
        return 0.0
    with np.errstate(invalid="ignore"):
        out = np.where(np.equal(c, 0), 0.0, value)
    return _like_scalar(out, c, value)


def fpow(x: Any, p: Any) -> Any:
    """``x ** p`` in floating point: inf or nan where Python or NumPy would
    raise (``0.0 ** -1``, integers to negative powers)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _as_float(x) ** p
    return _like_scalar(out, x, p)


def _natural(g: Any, shape: tuple[int, ...]) -> Any:
    """What ``g`` looks like for shape purposes: ``g`` itself, or zeros of the
    natural ``shape`` when ``g`` is a symbolic zero."""
    return np.zeros(shape) if is_zero(g) else g


def _fit(part: Any, g: Any) -> Any:
    """``part`` (an adjoint laid out in g's natural shape) summed down to
    ``g``'s actual shape: a 0-d ``g`` stood for a constant, a Python ``g``
    gets a Python float, a symbolic-zero ``g`` keeps the natural shape."""
    if is_zero(g):
        return part
    return unbroadcast(part, g)


def _kept_shape(
    g: Any, shape: tuple[int, ...], axis: Axis, keepdims: bool
) -> tuple[int, ...]:
    """The shape ``g`` is broadcast from in a reduction's adjoint (with the
    reduced dimensions re-inserted as 1), natural if ``g`` is zero."""
    if is_zero(g):
        reduced = set(_axes(axis, len(shape)))
        return tuple(1 if i in reduced else n for i, n in enumerate(shape))
    return np.shape(_expand(g, len(shape), axis, keepdims))


def _unkeep(
    part: np.ndarray, g: Any, shape: tuple[int, ...], axis: Axis, keepdims: bool
) -> Any:
    """``part`` (with kept reduced dimensions) in ``g``'s layout."""
    if is_zero(g):
        if keepdims or not shape:
            return part
        if axis is None:
            return part.reshape(())[()]
        return np.squeeze(part, axis=_axes(axis, len(shape)))
    if _is_py_scalar(g):
        return float(np.sum(part))
    if np.size(g) != part.size:
        return unbroadcast(part, g)  # a 0-d g stood for a constant
    out = np.reshape(part, np.shape(g))
    return out[()] if out.ndim == 0 else out


# -- transposes of broadcasting and reductions ----------------------------------


def unbroadcast_transpose(v: Any, g: Any, x: Any) -> Any:
    """Transpose of ``g -> unbroadcast(g, x)``: ``v`` spread over g's shape."""
    if is_zero(v):
        return 0.0
    if is_zero(g) or isinstance(g, (list, tuple, dict)):
        return v
    if np.ndim(g) == 0:
        return unbroadcast(v, g)
    # A 0-d v is spread to g's shape here rather than returned as a 0-d
    # "constant adjoint": the shape would be lost, and a later sum of it down
    # to a Python scalar (unbroadcast) would miss the factor g.size, e.g. in
    # the third derivative of sum(((d - mu) / s) ** 2).
    shape = np.shape(g)
    if np.shape(v) == shape:
        return v
    v = np.asarray(v)
    if v.ndim > len(shape):
        v = _sum_to(v, shape)
    return np.array(np.broadcast_to(v, shape))


def unbroadcast_to_transpose(v: Any, g: Any, shape: tuple[int, ...]) -> Any:
    """Transpose of ``g -> unbroadcast_to(g, shape)``: ``v`` spread over g's
    shape (as :func:`unbroadcast_transpose`, which reads nothing of ``x``)."""
    return unbroadcast_transpose(v, g, None)


def unreduce_transpose(
    v: Any,
    g: Any,
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """Transpose of ``g -> unreduce(g, x, axis, keepdims, where)``: ``v``
    summed over the reduced axes (entries excluded by ``where`` drop out)."""
    if is_zero(v):
        return 0.0
    if _is_py_scalar(x):
        return _fit(v, g)
    shape = np.shape(x)
    full = np.asarray(_full(v, shape))
    if where is not True:
        full = np.where(where, full, 0)
    part = _sum_to(full, _kept_shape(g, shape, axis, keepdims))
    return _unkeep(np.asarray(part), g, shape, axis, keepdims)


def _weighted_unreduce_transpose(
    v: Any, g: Any, x: Any, axis: Axis, keepdims: bool, weights: Callable[[], Any]
) -> Any:
    """Transpose of ``g -> weights * unreduce(g, ...)`` for reductions whose
    adjoint spreads ``g`` with fixed per-element weights (mean, max, prod)."""
    if is_zero(v):
        return 0.0
    if _is_py_scalar(x):
        return _fit(v, g)
    scaled = _full(v, np.shape(x)) * weights()
    return unreduce_transpose(scaled, g, x, axis, keepdims, True)


def unreduce_mean_transpose(
    v: Any,
    g: Any,
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """Transpose of ``g -> unreduce_mean(g, x, axis, keepdims, where)``."""
    return _weighted_unreduce_transpose(
        v, g, x, axis, keepdims, lambda: unreduce_mean(1.0, x, axis, keepdims, where)
    )


def unreduce_max_transpose(
    v: Any,
    g: Any,
    x: Any,
    ans: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """Transpose of ``g -> unreduce_max(g, x, ans, axis, keepdims, where)``
    (ties keep their equal shares)."""
    return _weighted_unreduce_transpose(
        v,
        g,
        x,
        axis,
        keepdims,
        lambda: unreduce_max(1.0, x, ans, axis, keepdims, where),
    )


def prod_adjoint_transpose(
    v: Any,
    g: Any,
    a: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """Transpose of ``g -> prod_adjoint(g, a, axis, keepdims, where)``."""
    return _weighted_unreduce_transpose(
        v, g, a, axis, keepdims, lambda: prod_adjoint(1.0, a, axis, keepdims, where)
    )


def prod_adjoint_hvp(
    w: Any,
    g: Any,
    a: Any,
    axis: Axis = None,
    keepdims: bool = False,
    where: Any = True,
) -> Any:
    """Second derivative only: ``H (G w)`` where ``G`` is ``g`` spread over
    ``a``'s shape and ``H[i, j]`` is the product of the entries of ``a`` in
    the reduction of ``i`` other than ``i`` and ``j`` (0 on the diagonal).

    This is both the derivative of ``prod_adjoint(g, a, ...)`` in ``a``
    along ``w`` and its transpose (``H`` is symmetric).  Exact with zeros in
    ``a``: prefix and suffix products, no division.
    """
    if is_zero(w) or is_zero(g) or _is_py_scalar(a):
        return 0.0
    arr = np.asarray(a)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    nd = arr.ndim
    gw = _expand(g, nd, axis, keepdims) * _full(w, arr.shape)
    if where is not True:
        arr = np.where(where, arr, 1)
        gw = np.where(where, gw, 0)
    reduced = _axes(axis, nd)
    kept = [i for i in range(nd) if i not in reduced]
    perm = kept + list(reduced)
    moved = np.transpose(arr, perm)
    lead = moved.shape[: len(kept)]
    flat = moved.reshape(lead + (-1,))
    wflat = np.transpose(np.broadcast_to(gw, arr.shape), perm).reshape(lead + (-1,))
    n = flat.shape[-1]
    dtype = np.result_type(flat.dtype, wflat.dtype)
    pre, pre_dot = np.empty(flat.shape, dtype), np.empty(flat.shape, dtype)
    suf, suf_dot = np.empty(flat.shape, dtype), np.empty(flat.shape, dtype)
    p, pd = np.ones(lead, dtype), np.zeros(lead, dtype)
    s, sd = np.ones(lead, dtype), np.zeros(lead, dtype)
    for i in range(n):
        j = n - 1 - i
        pre[..., i], pre_dot[..., i] = p, pd
        suf[..., j], suf_dot[..., j] = s, sd
        pd = pd * flat[..., i] + p * wflat[..., i]
        p = p * flat[..., i]
        sd = sd * flat[..., j] + s * wflat[..., j]
        s = s * flat[..., j]
    out = (pre_dot * suf + pre * suf_dot).reshape(moved.shape)
    out = np.transpose(out, np.argsort(perm))
    return out if where is True else np.where(where, out, 0)


# -- transposes of containers, seeds and gradients --------------------------------


def getitem_adj_transpose(v: Any, g: Any, idx: Any) -> Any:
    """Transpose of ``g -> getitem_adj(g, idx)``: ``v`` placed at ``idx`` in
    zeros with ``g``'s structure.  A symbolic-zero ``g`` has no structure to
    place it in: a number ``v`` is then taken for ``g`` itself (as for a
    Python float ``g``), anything else carries no gradient."""
    if is_zero(v):
        return 0.0
    if isinstance(g, dict):
        return {idx: v} if idx in g else 0.0
    if isinstance(g, (list, tuple)):
        items = [0.0] * len(g)
        if isinstance(idx, slice):
            for k, pos in enumerate(range(len(g))[idx]):
                items[pos] = _item(v, k)
        else:
            items[idx] = v
        return _rebuild(g, items)
    if isinstance(g, np.ndarray) and g.ndim:
        out = np.zeros(g.shape, dtype=np.result_type(_float_dtype(g), _dtype_arg(v)))
        if _is_basic_index(idx):
            out[idx] += v
        else:
            np.add.at(out, idx, v)
        return out
    if is_zero(g):
        if isinstance(v, (list, tuple, dict)):
            return 0.0
        if np.ndim(v) and not _selects_all(idx):
            # Returning v would put entries where they do not belong (or
            # broadcast them): an error, never a wrong derivative.
            raise TypeError(
                f"cannot place the adjoint of entries {idx!r} in a zero adjoint "
                "whose shape is unknown: this order of derivative through a "
                "write to those entries is not supported"
            )
        return v
    return unbroadcast(v, g)


def _selects_all(idx: Any) -> bool:
    """Whether ``x[idx]`` is all of ``x`` in order (``x[:]``, ``x[...]``)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(
        p is Ellipsis or (isinstance(p, slice) and p == slice(None)) for p in parts
    )


def zeroed_at(v: Any, like: Any, idx: Any) -> Any:
    """``v`` with its entry ``idx`` zeroed, as a new value: :func:`zero_at`
    without writing in place (its own transpose).  ``like`` gives the
    structure when ``v`` is a 0-d constant adjoint."""
    if is_zero(v):
        return 0.0
    if isinstance(v, (dict, list, tuple)):
        return zero_at(v, like, idx)
    if np.ndim(v) == 0:
        if isinstance(like, dict):
            return zero_at({k: v for k in like}, like, idx)
        if isinstance(like, (list, tuple)):
            return zero_at(_rebuild(like, [v] * len(like)), like, idx)
        if np.ndim(like) == 0:
            return zero_at(v, like, idx)  # raises, as the primal zero_at did
        v = np.broadcast_to(v, np.shape(like))
    out = np.array(v)
    out[idx] = 0
    return out


def _dict_get(v: Any, key: Any) -> Any:
    if is_zero(v):
        return 0.0
    return v.get(key, 0.0) if isinstance(v, dict) else v


def _acc_all(parts: list[Any]) -> Any:
    total: Any = 0.0
    for p in parts:
        total = acc(total, p)
    return total


def finalize_transpose(v: Any, x: Any, g: Any) -> Any:
    """Transpose of ``g -> finalize(x, g)``: ``v`` (with ``x``'s structure)
    laid out like ``g``."""
    if is_zero(v):
        return 0.0
    if isinstance(x, dict):
        if isinstance(g, dict) or is_zero(g):
            gets = g if isinstance(g, dict) else {}
            return {
                k: finalize_transpose(_dict_get(v, k), x[k], gets.get(k, 0.0))
                for k in x
            }
        return _acc_all([finalize_transpose(_dict_get(v, k), x[k], g) for k in x])
    if isinstance(x, (list, tuple)):
        parts = [
            finalize_transpose(_item(v, i), e, _item(g, i)) for i, e in enumerate(x)
        ]
        if isinstance(g, (list, tuple)):
            return _rebuild(g, parts)
        if is_zero(g):
            return _rebuild(x, parts)
        if isinstance(g, np.ndarray) and g.ndim:
            return np.stack([dense(p, g[i]) for i, p in enumerate(parts)])
        return _acc_all(parts)
    if isinstance(x, np.ndarray):
        shape = x.shape
        if is_zero(g):
            return _full(v, shape).copy()
        mid = () if np.ndim(g) == 0 else _sum_to_shape(np.shape(g), shape)
        part = _sum_to(np.asarray(_full(v, shape)), mid)
        return unbroadcast_transpose(np.asarray(part), g, x)
    if is_zero(g) or np.ndim(g) == 0:
        return _fit(v, g)
    return v  # a 0-d v: the constant adjoint of every entry of g


def _sum_to_shape(gs: tuple[int, ...], xs: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of ``_sum_to(g, xs)`` for ``g`` of shape ``gs``."""
    lead = len(gs) - len(xs)
    if lead < 0:
        return gs
    tail = gs[lead:]
    return tuple(1 if xs[i] == 1 and tail[i] != 1 else tail[i] for i in range(len(xs)))


def seed_transpose(v: Any, value: Any, s: Any) -> Any:
    """Transpose of ``s -> seed(value, s)``: ``v`` laid out like ``s``.

    A seed that is ``None`` or a callable carries no gradient.
    """
    if is_zero(v) or s is None or callable(s):
        return 0.0
    if is_zero(s):
        return v
    if isinstance(value, dict):
        return {k: seed_transpose(_dict_get(v, k), value[k], e) for k, e in s.items()}
    if isinstance(value, (tuple, list)):
        items = [seed_transpose(_item(v, i), value[i], e) for i, e in enumerate(s)]
        return _rebuild(s, items)
    if isinstance(value, np.ndarray):
        return np.array(_full(v, value.shape))
    return unbroadcast(v, s) if _is_py_scalar(s) else v


def pop_adj_transpose(v: Any, lst_bar: Any) -> Any:
    """Transpose of ``pop_adj``: the pair ``v = (rest, last)`` joined again.

    When ``lst_bar`` and ``rest`` are both symbolic zeros the list's length
    is unknown and a one-entry list is assumed.
    """
    if is_zero(v):
        return 0.0
    rest, last = _item(v, 0), _item(v, 1)
    if isinstance(lst_bar, np.ndarray) and lst_bar.ndim:
        out = np.zeros(lst_bar.shape, dtype=_float_dtype(lst_bar))
        if not is_zero(rest):
            out[:-1] += rest
        if not is_zero(last):
            out[-1] += last
        return out
    if isinstance(lst_bar, (list, tuple)):
        n = len(lst_bar) - 1
    elif _length(rest) is not None:
        n = _length(rest)
    elif is_zero(last):
        return 0.0
    else:
        n = 0
    return _as_items(rest, n) + [last]


def pop_tangent_transpose(v: Any, lst_dot: Any) -> Any:
    """Transpose of ``pop_tangent``: the pair ``v = (last, rest)`` joined."""
    if is_zero(v):
        return 0.0
    return pop_adj_transpose((_item(v, 1), _item(v, 0)), lst_dot)


# -- jointly linear helpers: acc, add_at, the list and slot tangents ------------


def _acc_part(v: Any, own: Any) -> Any:
    """The part of ``v`` (adjoint of ``acc(own, other)``) that flows to ``own``."""
    if is_zero(v):
        return 0.0
    if is_zero(own):
        return v
    if isinstance(own, dict):
        if not isinstance(v, dict):
            return {k: _acc_part(v, e) for k, e in own.items()}
        return {k: _acc_part(v[k], e) for k, e in own.items() if k in v}
    if isinstance(own, (list, tuple)):
        return _rebuild(own, [_acc_part(_item(v, i), e) for i, e in enumerate(own)])
    if isinstance(v, (list, tuple)):
        # acc spread a number over every entry, or an array's rows over them.
        parts = [_acc_part(_item(v, i), _item(own, i)) for i in range(len(v))]
        if isinstance(own, np.ndarray) and own.ndim:
            return np.stack([dense(p, own[i]) for i, p in enumerate(parts)])
        return _acc_all(parts)
    return unbroadcast(v, own)


def _acc_embed(w: Any, k: int, a: Any, b: Any) -> Any:
    """Transpose of :func:`_acc_part`: ``w`` (like operand ``k`` of
    ``acc(a, b)``) laid out like ``acc(a, b)``."""
    own, other = (a, b) if k == 0 else (b, a)
    if is_zero(w):
        return 0.0
    if is_zero(other) or is_zero(own):
        return w
    if isinstance(own, dict) or isinstance(other, dict):
        if isinstance(own, dict) and isinstance(w, dict):
            pairs = [(own.get(key, 0.0), _dict_get(other, key)) for key in w]
            return {
                key: _acc_embed(e, k, *(p if k == 0 else p[::-1]))
                for (key, e), p in zip(w.items(), pairs)
            }
        return w
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        seq = a if isinstance(a, (list, tuple)) else b
        items = [
            _acc_embed(_item(w, i), k, _item(a, i), _item(b, i))
            for i in range(len(seq))
        ]
        return _rebuild(seq, items)
    shape = np.broadcast_shapes(np.shape(own), np.shape(other))
    if np.ndim(w) == 0 or np.shape(w) == shape:
        return w
    return np.array(np.broadcast_to(w, shape))


def _own_copy(v: Any) -> Any:
    return v.copy() if isinstance(v, np.ndarray) else v


def _slot_of(v: Any, x: Any, idx: Any) -> Any:
    """Entry ``idx`` of ``v``, an adjoint with ``x``'s structure."""
    if is_zero(v):
        return 0.0
    if isinstance(x, dict):
        return _dict_get(v, idx)
    if isinstance(x, (list, tuple)):
        if isinstance(idx, slice):
            return [_item(v, pos) for pos in range(len(x))[idx]]
        return _item(v, idx)
    return np.asarray(_full(v, np.shape(x)))[idx]


def _add_at_g_part(v: Any, x: Any, idx: Any, g: Any) -> Any:
    """Transpose of ``g -> add_at(0.0, x, idx, g)``."""
    slot = _slot_of(v, x, idx)
    if is_zero(slot):
        return 0.0
    if isinstance(x, (list, tuple)) and isinstance(idx, slice):
        if isinstance(g, (list, tuple)):
            return _rebuild(g, [_acc_part(s, e) for s, e in zip(slot, g)])
        if isinstance(g, np.ndarray) and g.ndim:
            return np.stack(
                [dense(_acc_part(s, g[k]), g[k]) for k, s in enumerate(slot)]
            )
        return _acc_all([_acc_part(s, g) for s in slot])
    if isinstance(x, (dict, list, tuple)):
        return _acc_part(slot, g)
    return _fit(slot, g)


def _setitem_v_part(v: Any, x: Any, idx: Any, v_dot: Any) -> Any:
    """Transpose of ``v_dot -> setitem_tangent(0.0, x, idx, v_dot)``."""
    slot = _slot_of(v, x, idx)
    if is_zero(slot):
        return 0.0
    if isinstance(x, np.ndarray):
        return _fit(slot, v_dot)
    return slot


def _list_rest(v: Any, n: int) -> Any:
    if is_zero(v):
        return 0.0
    return _as_items(v, n + 1)[:-1]


def _list_last(v: Any, n: int) -> Any:
    if is_zero(v):
        return 0.0
    return _as_items(v, n + 1)[-1]


def _setitem_apply(x_dot: Any, x: Any, idx: Any, v_dot: Any) -> Any:
    if isinstance(x, np.ndarray) and not is_zero(x_dot) and np.ndim(x_dot) == 0:
        x_dot = dense(x_dot, x)
    return setitem_tangent(x_dot, x, idx, v_dot)


_LINEAR_POSITIONS = {
    "acc": (0, 1),
    "add_at": (0, 3),
    "setitem_tangent": (0, 3),
    "append_tangent": (0, 2),
    "push_adj": (0, 2),
}


def linear_apply(name: str, args: Any, dots: Any, k: Any = None) -> Any:
    """The helper ``name`` (jointly linear in some of its arguments) applied
    to ``dots`` in those positions and to ``args`` elsewhere.

    With ``k=None``, ``dots`` has an entry for every argument (those of the
    other positions are ignored); with ``k`` a position, ``dots`` is the one
    value for that position, the other linear positions being zero.  This is
    how forward rules combine several tangents of a container-valued helper
    (``+`` would concatenate lists), and ``linear_apply_transpose`` is its
    transpose.  No argument is written to.
    """
    positions = _LINEAR_POSITIONS[name]
    if k is None:
        parts = {p: _item(dots, p) for p in positions}
    else:
        parts = {p: (dots if p == k else 0.0) for p in positions}
    if all(is_zero(p) for p in parts.values()):
        return 0.0
    if name == "acc":
        if k is not None:
            return _acc_embed(parts[k], k, args[0], args[1])
        return acc(parts[0], parts[1])
    if name == "add_at":
        return add_at(_own_copy(parts[0]), args[1], args[2], parts[3])
    if name == "setitem_tangent":
        return _setitem_apply(parts[0], args[1], args[2], parts[3])
    if name == "append_tangent":
        return append_tangent(parts[0], args[1], parts[2])
    return push_adj(parts[0], args[1], parts[2])


def linear_apply_transpose(name: str, v: Any, args: Any, k: Any = None) -> Any:
    """Transpose of :func:`linear_apply` in ``dots``: the adjoint of the
    argument in position ``k`` (or a tuple with one entry per argument,
    zeros outside the linear positions, when ``k`` is None)."""
    positions = _LINEAR_POSITIONS[name]
    if k is None:
        parts = [
            linear_apply_transpose(name, v, args, p) if p in positions else 0.0
            for p in range(len(args))
        ]
        return tuple(parts)
    if is_zero(v) or k not in positions:
        return 0.0
    if name == "acc":
        return _acc_part(v, args[k])
    if name == "add_at":
        if k == 0:
            return _acc_part(v, args[0])
        return _add_at_g_part(v, args[1], args[2], args[3])
    if name == "setitem_tangent":
        x, idx = args[1], args[2]
        if k == 0:
            out = zeroed_at(v, x, idx)
            return _rebuild(x, list(out)) if isinstance(x, tuple) else out
        return _setitem_v_part(v, x, idx, args[3])
    n = len(args[1]) - (1 if name == "append_tangent" else 0)
    return _list_rest(v, n) if k == 0 else _list_last(v, n)


# -- transposes of the structural adjoints ----------------------------------------


def unstack_transpose(v: Any, g: Any, n: int, axis: int = 0) -> Any:
    """Transpose of ``g -> unstack(g, n, axis)``: the pieces stacked again."""
    if is_zero(v):
        return 0.0
    items = _as_items(v, n)
    if not is_zero(g) and np.ndim(g) == 0:
        return _fit(_acc_all(items), g)
    if is_zero(g):
        nonzero = [p for p in items if not is_zero(p)]
        piece = np.shape(nonzero[0]) if nonzero else ()
        return np.stack([dense(p, np.zeros(piece)) for p in items], axis=axis)
    g = np.asarray(g)
    ax = axis % g.ndim
    out = np.zeros(
        g.shape, dtype=np.result_type(_float_dtype(g), *map(_dtype_arg, items))
    )
    for i, p in enumerate(items):
        if not is_zero(p):
            out[(slice(None),) * ax + (i,)] += p
    return out


def stack_adjoint_transpose(v: Any, g: Any, arrays: Any, axis: int = 0) -> Any:
    """Transpose of ``g -> stack_adjoint(g, arrays, axis)``."""
    if is_zero(v):
        return 0.0
    if isinstance(arrays, np.ndarray):
        part = np.moveaxis(np.asarray(_full(v, arrays.shape)), 0, axis)
    else:
        part = np.stack([dense(_item(v, i), a) for i, a in enumerate(arrays)], axis)
    return _fit(part, g)


def concatenate_adjoint_transpose(
    v: Any, g: Any, arrays: Any, axis: int | None = 0
) -> Any:
    """Transpose of ``g -> concatenate_adjoint(g, arrays, axis)``."""
    if is_zero(v):
        return 0.0
    parts = [np.asarray(dense(_item(v, i), a)) for i, a in enumerate(arrays)]
    if axis is None:
        part = np.concatenate([np.ravel(p) for p in parts])
    else:
        part = np.concatenate(parts, axis=axis)
    return _fit(part, g)


def _densify(v: Any, obj: Any) -> np.ndarray:
    """An adjoint with ``obj``'s (nested) structure as one array of its shape."""
    shape = np.shape(obj)
    if is_zero(v):
        return np.zeros(shape)
    if isinstance(obj, (list, tuple)) and not isinstance(v, np.ndarray):
        if not obj:
            return np.zeros(shape)
        return np.stack([_densify(_item(v, i), e) for i, e in enumerate(obj)])
    return np.asarray(_full(v, shape))


def array_adjoint_transpose(v: Any, g: Any, obj: Any, ans: Any = None) -> Any:
    """Transpose of ``g -> array_adjoint(g, obj, ans)``."""
    if is_zero(v):
        return 0.0
    if ans is not None and not _is_inexact(ans):
        return 0.0
    part = _densify(v, obj)
    if is_zero(g):
        return part
    if np.shape(g) != part.shape and np.size(g) == part.size:
        return np.reshape(part, np.shape(g))
    return _fit(part, g)


def full_adjoint_transpose(v: Any, g: Any, fill_value: Any, ans: Any) -> Any:
    """Transpose of ``g -> full_adjoint(g, fill_value, ans)``."""
    if is_zero(v) or not _is_inexact(ans):
        return 0.0
    return _fit(np.array(np.broadcast_to(v, np.shape(ans))), g)


def linspace_adjoint_transpose(
    v: Any,
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
    """Transpose of ``g -> linspace_adjoint(g, ans, ...)`` (``g`` is the pair
    (samples, step) when ``retstep``)."""
    if is_zero(v):
        return 0.0
    samples = ans[0] if retstep else ans
    if not _is_inexact(samples):
        return 0.0
    num = int(num)
    div = num - 1 if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    weight = 1.0 - t if which == 0 else t
    shape = np.shape(samples)
    ax = axis % len(shape)
    inner = shape[:ax] + shape[ax + 1 :]
    spread = np.asarray(_full(v, inner))
    moved = weight.reshape((num,) + (1,) * len(inner)) * spread[None]
    g_samples = _item(g, 0) if retstep else g
    samples_bar = _fit(np.moveaxis(moved, 0, ax), g_samples)
    if not retstep:
        return samples_bar
    step_bar: Any = 0.0
    if div > 0:
        sign_ = -1.0 if which == 0 else 1.0
        step = np.array(np.broadcast_to(v, np.shape(ans[1]))) * (sign_ / div)
        step_bar = _fit(step, _item(g, 1))
    return (samples_bar, step_bar)


def arange_adjoint_transpose(v: Any, g: Any, ans: Any, args: tuple[Any, ...]) -> Any:
    """Transpose of ``g -> arange_adjoint(g, ans, args)``."""
    if is_zero(v) or not _is_inexact(ans) or len(args) < 2:
        return 0.0
    n = np.size(ans)
    part: Any = np.zeros(n)
    first = _item(v, 0)
    if not is_zero(first):
        part = part + np.sum(first)
    if len(args) == 3:
        last = _item(v, 2)
        if not is_zero(last):
            part = part + np.sum(last) * np.arange(n)
    return _fit(part, g)


def sum_adjoint_transpose(v: Any, g: Any, iterable: Any) -> Any:
    """Transpose of ``g -> sum_adjoint(g, iterable)``."""
    if is_zero(v):
        return 0.0
    if isinstance(iterable, (list, tuple)):
        like = g
        if is_zero(g):
            like = np.zeros(np.broadcast_shapes(*(np.shape(e) for e in iterable)))
        parts = [
            unbroadcast_transpose(_item(v, i), like, e) for i, e in enumerate(iterable)
        ]
        return _fit(_acc_all([dense(p, like) for p in parts]), g)
    if isinstance(iterable, np.ndarray):
        return unreduce_transpose(v, g, iterable, 0)
    return 0.0


def extreme_adjoint_transpose(
    v: Any, g: Any, ans: Any, args: tuple[Any, ...], key: Any = None
) -> Any:
    """Transpose of ``g -> extreme_adjoint(g, ans, args, key)``."""
    if is_zero(v):
        return 0.0
    like = _natural(g, np.shape(ans))
    if len(args) == 1:
        items = args[0]
        if isinstance(items, np.ndarray):
            return unreduce_max_transpose(_item(v, 0), g, items, ans, 0)
        if not isinstance(items, (list, tuple)):
            return 0.0
        v, items = _item(v, 0), list(items)
    else:
        items = list(args)
    weights = _split_extreme(1.0, ans, items, key)
    parts = []
    for i, (w, e) in enumerate(zip(weights, items)):
        if is_zero(w):
            continue
        part = unbroadcast_transpose(_item(v, i), like, e)
        parts.append(dense(part, like) * w)
    if not parts:
        return 0.0
    return _fit(_acc_all(parts), g)


def where_adjoint_transpose(
    v: Any, g: Any, condition: Any, x: Any, branch: bool
) -> Any:
    """Transpose of ``g -> where_adjoint(g, condition, x, branch)``."""
    if is_zero(v):
        return 0.0
    shape = np.broadcast_shapes(np.shape(condition), np.shape(g), np.shape(x))
    spread = np.broadcast_to(v, shape)
    part = np.where(condition, spread, 0) if branch else np.where(condition, 0, spread)
    return _fit(part, g)


def clip_adjoint_transpose(v: Any, g: Any, a: Any, lo: Any, hi: Any, part: int) -> Any:
    """Transpose of ``g -> clip_adjoint(g, a, lo, hi, part)``."""
    if is_zero(v) or (a, lo, hi)[part] is None:
        return 0.0
    mask = clip_mask(a, lo, hi, part)
    shape = np.broadcast_shapes(np.shape(mask), np.shape(g))
    return _fit(np.where(mask, np.broadcast_to(v, shape), 0), g)


def add_adjoint_transpose(v: Any, g: Any, x: Any, other: Any, left: bool) -> Any:
    """Transpose of ``g -> add_adjoint(g, x, other, left)``."""
    if is_zero(v):
        return 0.0
    if isinstance(x, (list, tuple)) and isinstance(other, (list, tuple)):
        n, m = len(x), len(other)
        items: list[Any] = [0.0] * (n + m)
        start = 0 if left else m
        for i in range(n):
            items[start + i] = _item(v, i)
        if isinstance(g, np.ndarray) and g.ndim:
            return np.stack([dense(p, g[i]) for i, p in enumerate(items)])
        return _rebuild(g if isinstance(g, (list, tuple)) else x, items)
    return unbroadcast_transpose(v, g, x)


def transpose_adjoint_transpose(v: Any, g: Any, a: Any, axes: Any = None) -> Any:
    """Transpose of ``g -> transpose_adjoint(g, a, axes)``."""
    if is_zero(v):
        return 0.0
    shape = np.shape(a)
    if not shape:
        return _fit(v, g)
    full = np.asarray(_full(v, shape))
    if axes is None:
        part = np.transpose(full)
    else:
        part = np.transpose(full, [int(ax) % len(shape) for ax in axes])
    return _fit(part, g)


def reshape_adjoint_transpose(v: Any, g: Any, a: Any, order: Any = "C") -> Any:
    """Transpose of ``g -> reshape_adjoint(g, a, order)``."""
    if is_zero(v):
        return 0.0
    if _is_py_scalar(a):
        if is_zero(g) or np.ndim(g) == 0:
            return _fit(v, g)
        return np.full(np.shape(g), v)
    if is_zero(g):
        return v
    if np.ndim(g) == 0:
        return _fit(v, g)
    full = np.asarray(_full(v, np.shape(a)))
    return np.reshape(full, np.shape(g), order=_memory_order(order, a))


def cumsum_adjoint_transpose(v: Any, g: Any, a: Any, axis: Any = None) -> Any:
    """Transpose of ``g -> cumsum_adjoint(g, a, axis)`` (a forward cumsum)."""
    if is_zero(v):
        return 0.0
    shape = np.shape(a)
    if axis is None:
        size = int(np.prod(shape))
        flat = np.ravel(np.asarray(_full(v, shape)))
        return _fit(np.cumsum(_full(flat, (size,))), g)
    return _fit(np.cumsum(np.asarray(_full(v, shape)), axis=axis), g)


def norm_adjoint_transpose(
    v: Any,
    g: Any,
    x: Any,
    ans: Any,
    ord: Any = None,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """Transpose of ``g -> norm_adjoint(g, x, ans, ord, axis, keepdims)``."""
    if is_zero(v):
        return 0.0
    if _is_py_scalar(x):
        return _fit(v * sign(x), g)
    weights = norm_adjoint(1.0, x, ans, ord, axis, keepdims)
    return unreduce_transpose(_full(v, np.shape(x)) * weights, g, x, axis, keepdims)


# -- bilinear families -------------------------------------------------------------


def _product_shape(*values: Any) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(e) for e in values))


def mul_adjoint_g(v: Any, g: Any, x: Any, other: Any) -> Any:
    """Transpose of ``g -> mul_adjoint(g, x, other)`` (bilinear in v, other):
    ``v`` spread over the product's shape, times ``other``, summed to g's."""
    if is_zero(v) or is_zero(other):
        return 0.0
    if isinstance(x, (list, tuple)) and isinstance(other, int):
        items = _as_items(v, len(x)) * max(int(other), 0)
        if isinstance(g, np.ndarray) and g.ndim:
            return np.stack([dense(p, g[i]) for i, p in enumerate(items)])
        return _rebuild(g if isinstance(g, (list, tuple)) else x, items)
    if isinstance(other, (list, tuple)):
        if isinstance(x, int):
            return 0.0  # the count of a repetition
        other = np.asarray(other)  # elementwise, as in mul_adjoint
    shape = _product_shape(g, other, x)
    return _fit(np.broadcast_to(v, shape) * other, g)


def mul_adjoint_other(v: Any, g: Any, x: Any, other: Any) -> Any:
    """Transpose of ``other -> mul_adjoint(g, x, other)`` (bilinear in v, g)."""
    if is_zero(v) or is_zero(g):
        return 0.0
    if (isinstance(x, (list, tuple)) and isinstance(other, int)) or (
        isinstance(other, (list, tuple)) and isinstance(x, int)
    ):
        return 0.0  # sequence repetition: the count carries no gradient
    shape = _product_shape(g, other, x)
    return _fit(np.broadcast_to(v, shape) * g, other)


def dot_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``np.dot(a, b)`` laid out like ``g``: with ``dot_adjoint_a`` and
    ``dot_adjoint_b`` the three partial derivatives of ``<g, dot(a, b)>``."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.dot(a, b), g)


def matmul_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``a @ b`` laid out like ``g`` (see :func:`dot_adjoint_g`)."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.matmul(a, b), g)


def outer_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``np.outer(a, b)`` laid out like ``g`` (see :func:`dot_adjoint_g`)."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.outer(a, b), g)


def var_adjoint_g(
    g: Any, a: Any, b: Any, axis: Axis = None, ddof: Any = 0, keepdims: bool = False
) -> Any:
    """Transpose of ``g -> var_adjoint(g, a, ...)`` applied to ``b``: the sum
    over each reduction of ``b * 2 (a - mean a) / (n - ddof)``, laid out
    like ``g``.  Symmetric in ``a`` and ``b``."""
    if is_zero(a) or is_zero(b):
        return 0.0
    arr = np.asarray(a)
    scale = 2.0 / (_reduced_count(arr.shape, axis) - ddof)
    centered = arr - np.mean(arr, axis=axis, keepdims=True)
    prod = _full(b, arr.shape) * scale * centered
    if _is_py_scalar(a):
        return _fit(float(prod), g)
    return unreduce_transpose(prod, g, a, axis, keepdims)


def std_adjoint_partial(
    w: Any,
    g: Any,
    a: Any,
    ans: Any,
    axis: Axis = None,
    ddof: Any = 0,
    keepdims: bool = False,
    part: int = 0,
) -> Any:
    """Second derivative only: the partial derivatives of
    ``std_adjoint(g, a, ans, ...)`` other than its linear one in ``a``.

    ``part`` 0: the transpose in ``g`` applied to ``w`` (like ``a``);
    2: the transpose in ``ans`` applied to ``w``; 3: the derivative along a
    tangent ``w`` of ``ans``.  0 where the spread ``ans`` is 0.
    """
    if is_zero(w) or (part != 0 and is_zero(g)):
        return 0.0
    arr = np.asarray(a)
    if arr.dtype.kind not in "fc":
        arr = arr.astype(np.float64)
    nd = arr.ndim
    std = _expand(np.asarray(ans), nd, axis, keepdims)
    safe = np.where(std > 0, std, 1.0)
    gk = 0.0 if is_zero(g) else _expand(g, nd, axis, keepdims)
    if part == 3:
        wk = _expand(w, nd, axis, keepdims)
        half = np.where(std > 0, -gk * wk / (2 * safe**2), 0.0)
        out = var_adjoint(half, arr, axis, ddof, True)
        return float(out) if _is_py_scalar(a) else out
    scale = 2.0 / (_reduced_count(arr.shape, axis) - ddof)
    centered = arr - np.mean(arr, axis=axis, keepdims=True)
    q = np.sum(_full(w, arr.shape) * scale * centered, axis=axis, keepdims=True)
    if part == 0:
        kd = np.where(std > 0, q / (2 * safe), 0.0)
        return _unkeep(np.asarray(kd), g, arr.shape, axis, keepdims)
    kd = np.where(std > 0, -q * gk / (2 * safe**2), 0.0)
    return _unkeep(np.asarray(kd), ans, arr.shape, axis, keepdims)


def _norm_derivatives(x: np.ndarray, n: np.ndarray, ord: Any, axes: tuple[int, ...]):
    """(d, e) with ``∂G/∂x = diag(d)`` and ``∂G/∂n = e`` for the gradient
    ``G`` of the norm (``n`` with kept dimensions); None where unsupported."""
    zero = np.zeros_like(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ord is None or (len(axes) == 1 and ord == 2) or ord in ("fro", "f"):
            d = np.where(n > 0, 1.0 / n, 0.0)
            return np.broadcast_to(d, x.shape), np.where(n > 0, -x / n**2, 0.0)
        if len(axes) == 1:
            if ord in (0, 1) or ord == np.inf or ord == -np.inf:
                return zero, zero  # piecewise constant gradients
            p = float(ord)
            ax = np.abs(x)
            grad = np.where(n > 0, np.sign(x) * (ax / n) ** (p - 1), 0.0)
            d = np.where(n > 0, (p - 1) * ax ** (p - 2) / n ** (p - 1), 0.0)
            return d, np.where(n > 0, -(p - 1) * grad / n, 0.0)
        if ord in (1, -1) or ord == np.inf or ord == -np.inf:
            return zero, zero
    return None


_SVD_NORMS = ("nuc", 2, -2)


def _check_svd_norm_hessian(s: np.ndarray, m: int, n: int, ord: Any) -> None:
    """Refuse the second derivative of the nuclear (``s``: singular values,
    largest first) or spectral norm where it does not exist: a zero singular
    value (the nuclear norm, like ``abs``, has a kink there; so has the -2
    norm at its smallest one) or a repeated extreme singular value (the 2 and
    -2 norms are maxima/minima of tied branches).  Zero and tied mean within
    ``np.linalg.matrix_rank``'s tolerance, as a near-tie has a Hessian too
    large to be worth anything."""
    tol = max(m, n) * np.finfo(float).eps * np.max(s, axis=-1, initial=0.0)
    k = np.shape(s)[-1]
    if ord == "nuc":
        if np.any(s[..., k - 1] <= tol):
            what = "the nuclear norm of a rank-deficient matrix"
        else:
            return
    else:
        p, q = (0, 1) if ord == 2 else (k - 1, k - 2)
        which = "largest" if ord == 2 else "smallest"
        if np.any(s[..., p] <= tol):
            fault = "zero"
        elif k > 1 and np.any(np.abs(s[..., p] - s[..., q]) <= tol):
            fault = "repeated"
        else:
            return
        what = f"the ord={ord} norm of a matrix whose {which} singular value is {fault}"
    raise ValueError(
        f"{what} has no second derivative (s2s_ad refuses it rather than "
        "return a one-sided or infinite value)"
    )


def _svd_norm_hvp(x: np.ndarray, w: np.ndarray, ord: Any) -> np.ndarray:
    """The Hessian of the nuclear, 2 or -2 norm of (a stack of) matrices
    ``x`` (last two axes) applied to ``w``: the derivative of the gradient
    ``U Vᵀ`` (or ``u_p v_pᵀ``) along ``w``, from the SVD's perturbation
    formulas.  With ``W̃ = Uᵀ w V``, the core is ``U M Vᵀ``: for the nuclear
    norm ``M = (W̃ - W̃ᵀ) / (s_i + s_j)``, for a single singular pair p only
    row and column p of the usual ``F ∘ (W̃ S + S W̃ᵀ)`` terms; the rest of
    ``w`` outside the spans of U and V adds ``(I - UUᵀ) w V C Vᵀ`` and
    ``U C Uᵀ w (I - VVᵀ)`` with ``C = S⁻¹`` (``e_p e_pᵀ / s_p``)."""
    m, n = x.shape[-2:]
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    _check_svd_norm_hessian(s, m, n, ord)
    v = _T(vh)
    k = s.shape[-1]
    wt = _T(u) @ w @ v
    if ord == "nuc":
        core = (wt - _T(wt)) / (s[..., :, None] + s[..., None, :])
        c = 1.0 / s
    else:
        p = 0 if ord == 2 else k - 1
        e = np.eye(k)[p]
        sp = s[..., p : p + 1]
        gap = sp * sp - s * s
        f = np.where(e == 0.0, 1.0 / np.where(e == 0.0, gap, 1.0), 0.0)
        col, row = wt[..., :, p], wt[..., p, :]
        core = (f * (col * sp + s * row))[..., :, None] * e + e[:, None] * (
            f * (s * col + sp * row)
        )[..., None, :]
        c = e / sp
    out = u @ core @ vh
    if m > n:
        wv = w @ v
        out = out + ((wv - u @ (_T(u) @ wv)) * c[..., None, :]) @ vh
    elif n > m:
        uw = _T(u) @ w
        out = out + u @ ((uw - (uw @ v) @ vh) * c[..., :, None])
    return out


def norm_adjoint_partial(
    w: Any,
    g: Any,
    x: Any,
    ans: Any,
    ord: Any = None,
    axis: Any = None,
    keepdims: bool = False,
    part: int = 1,
) -> Any:
    """Second derivative only: derivatives of
    ``norm_adjoint(g, x, ans, ...) = g * G(x, ans)`` in ``x`` and ``ans``.

    ``part`` 1: along (and, being symmetric, transposed along) ``w`` like
    ``x``; 2: the transpose in ``ans`` applied to ``w`` (like ``x``); 3: the
    derivative along a tangent ``w`` of ``ans``.  Vector norms of any order
    and the matrix norms are supported; the nuclear and spectral (2, -2)
    norms refuse (ValueError) where they have no second derivative.
    """
    if is_zero(w) or is_zero(g):
        return 0.0
    if _is_py_scalar(x):
        return 0.0  # g * sign(x): piecewise constant
    arr = np.asarray(x)
    if not _is_inexact(arr):
        arr = arr.astype(np.float64)
    nd = arr.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(int(a) % nd for a in ((axis,) if np.ndim(axis) == 0 else axis))
    n = np.asarray(ans)
    if not keepdims and n.ndim < nd:
        n = np.expand_dims(n, tuple(sorted(axes)))
    found = _norm_derivatives(arr, n, ord, axes)
    if found is None and len(axes) == 2 and ord in _SVD_NORMS:
        # The gradient U Vᵀ (u_p v_pᵀ) does not involve ans: parts 2 and 3
        # vanish, and part 1 is the (symmetric) Hessian applied to w.
        if part != 1:
            return 0.0
        rows, cols = axes
        moved = np.moveaxis(arr, (rows, cols), (-2, -1))
        w_moved = np.moveaxis(_full(w, arr.shape), (rows, cols), (-2, -1))
        hw = np.moveaxis(_svd_norm_hvp(moved, w_moved, ord), (-2, -1), (rows, cols))
        return _expand(g, nd, tuple(axes), keepdims) * hw
    if found is None:
        raise NotImplementedError(
            f"second derivatives of the {ord!r} matrix norm are not implemented"
        )
    diag, dn = found
    gk = _expand(g, nd, tuple(axes), keepdims)
    if part == 1:
        return gk * diag * _full(w, arr.shape)
    if part == 3:
        return gk * dn * _expand(w, nd, tuple(axes), keepdims)
    kd = np.sum(gk * dn * _full(w, arr.shape), axis=axes, keepdims=True)
    out = kd if keepdims else np.squeeze(kd, axis=axes)
    return _fit(out[()] if out.ndim == 0 else out, ans)


# -- transposes of the forward-mode (tangent) helpers ----------------------------------


def parts(w: Any, n: int) -> tuple[Any, ...]:
    """``w`` as a tuple of ``n`` entries (a symbolic zero gives ``n`` zeros):
    for helpers that unpack a tuple of adjoints or tangents."""
    return tuple(_item(w, i) for i in range(n))


def dense_tangent_transpose(v: Any, t: Any, x: Any) -> Any:
    """Transpose of ``t -> dense_tangent(t, x)``: ``v`` summed to t's shape."""
    if is_zero(v):
        return 0.0
    if isinstance(x, (list, tuple)):
        items = [
            dense_tangent_transpose(_item(v, i), _item(t, i), e)
            for i, e in enumerate(x)
        ]
        return _rebuild(t if isinstance(t, (list, tuple)) else x, items)
    return v if is_zero(t) else unbroadcast(v, t)


def add_tangent_transpose(v: Any, xs: tuple[Any, Any], ans: Any) -> Any:
    """Transpose of ``ts -> add_tangent(ts, xs, ans)``: the pair of parts."""
    a, b = xs
    if is_zero(v):
        return (0.0, 0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        items = _as_items(v, len(a) + len(b))
        return (_rebuild(a, items[: len(a)]), _rebuild(b, items[len(a) :]))
    return (unbroadcast(v, a), unbroadcast(v, b))


def linspace_tangent_transpose(
    v: Any,
    ts: Any,
    ans: Any,
    endpoints: Sequence[Any],
    num: Any = 50,
    endpoint: Any = True,
    retstep: Any = False,
    axis: Any = 0,
) -> Any:
    """Transpose of ``ts -> linspace_tangent(ts, ans, endpoints, ...)``."""
    n = _length(ts) or 2
    if is_zero(v):
        return (0.0,) * n
    num, endpoint, retstep, axis = _linspace_args(
        endpoints, num, endpoint, retstep, axis
    )
    start, stop = endpoints[0], endpoints[1]
    out = tuple(
        linspace_adjoint(v, ans, start, stop, num, endpoint, retstep, axis, which)
        for which in (0, 1)
    )
    return out[:n]


_MAP_OPTIONS = ("axis", "dtype", "keepdims", "where")


def _map_kwargs(options: Any) -> dict[str, Any]:
    values = () if options is None else tuple(options)
    return {k: v for k, v in zip(_MAP_OPTIONS, values) if v is not None}


def linear_map_apply(
    fn: Any, t: Any, x: Any, args: tuple[Any, ...] = (), options: Any = None
) -> Any:
    """``linear_map(fn, t, x, *args, **options)``, with ``options`` the
    values of (axis, dtype, keepdims, where), None where not given."""
    return linear_map(fn, t, x, *args, **_map_kwargs(options))


def _stack_kind(fn: Any) -> str | None:
    for kind in _STACKERS:
        if fn is getattr(np, kind):
            return kind
    return None


def linear_map_transpose(
    fn: Any, v: Any, t: Any, x: Any, args: tuple[Any, ...] = (), options: Any = None
) -> Any:
    """Transpose of ``t -> linear_map_apply(fn, t, x, args, options)`` for the
    functions forward rules pass (sum, mean and the stacking functions)."""
    if is_zero(v):
        return 0.0
    kw = _map_kwargs(options)
    if fn is np.sum or fn is np.mean:
        arr = np.asarray(x) if isinstance(x, (list, tuple)) else x
        axis = kw.get("axis")
        keepdims = bool(kw.get("keepdims", False))
        where = kw.get("where", True)
        spread = unreduce if fn is np.sum else unreduce_mean
        dense_bar = spread(v, arr, axis, keepdims, where)
        if isinstance(x, (list, tuple)):
            dense_bar = array_adjoint(dense_bar, x)
    elif fn is np.stack:
        dense_bar = stack_adjoint(v, x, *args)
    elif fn is np.concatenate:
        dense_bar = concatenate_adjoint(v, x, *args)
    elif _stack_kind(fn) is not None:
        dense_bar = stacked_adjoint(v, x, fn(dense_tangent(0.0, x)), _stack_kind(fn))
    else:
        raise NotImplementedError(
            f"s2s_ad has no transpose of linear_map({getattr(fn, '__name__', fn)})"
        )
    return dense_tangent_transpose(dense_bar, t, x)


def _inverse_rearrangement(fn: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments undoing ``fn(g, *args)`` for the rearrangements that
    reverse rules pass to :func:`apply_adjoint`."""
    if fn is np.moveaxis:
        return (args[1], args[0]) + tuple(args[2:])
    if fn is np.roll or fn is np.rot90:
        return (np.negative(args[0]),) + tuple(args[1:])
    if fn in (np.swapaxes, np.flip, np.fliplr, np.flipud):
        return tuple(args)
    if fn is getattr(np, "matrix_transpose", None):
        return ()
    raise NotImplementedError(
        f"s2s_ad has no transpose of apply_adjoint({getattr(fn, '__name__', fn)})"
    )


def apply_adjoint_call(fn: Any, g: Any, ans: Any, args: tuple[Any, ...] = ()) -> Any:
    """``apply_adjoint(fn, g, ans, *args)`` with the arguments as a tuple."""
    return apply_adjoint(fn, g, ans, *args)


def apply_adjoint_transpose(
    fn: Any, v: Any, g: Any, ans: Any, args: tuple[Any, ...] = ()
) -> Any:
    """Transpose of ``g -> apply_adjoint(fn, g, ans, *args)``: the
    rearrangement undone (its inverse is its transpose)."""
    if is_zero(v):
        return 0.0
    if fn is np.diagonal:
        # Not a rearrangement (it drops the off-diagonal entries): its
        # transpose writes v onto that diagonal of zeros shaped like ans.
        full = np.asarray(_full(v, np.shape(fn(np.zeros(np.shape(ans)), *args))))
        return _fit(diagonal_adjoint(full, ans, *args), g)
    inverse = _inverse_rearrangement(fn, tuple(args))
    shape = np.shape(fn(np.zeros(np.shape(ans)), *args))
    return _fit(fn(np.asarray(_full(v, shape)), *inverse), g)


def stacked_adjoint_transpose(v: Any, g: Any, tup: Any, ans: Any, kind: str) -> Any:
    """Transpose of ``g -> stacked_adjoint(g, tup, ans, kind)``: the pieces
    stacked again as ``np.vstack`` etc. (``kind``) stacks them."""
    if is_zero(v):
        return 0.0
    stacker = {
        "vstack": np.vstack,
        "hstack": np.hstack,
        "dstack": np.dstack,
        "column_stack": np.column_stack,
    }[kind]
    return _fit(stacker(dense_tangent(v, tup)), g)


def atleast_adjoint_transpose(v: Any, g: Any, arys: Sequence[Any]) -> Any:
    """Transpose of ``g -> atleast_adjoint(g, arys)``."""
    if is_zero(v):
        return 0.0
    if len(arys) == 1:
        return reshape_adjoint_transpose(_item(v, 0), g, arys[0])
    items = [
        reshape_adjoint_transpose(_item(v, i), _item(g, i), x)
        for i, x in enumerate(arys)
    ]
    return _rebuild(g if isinstance(g, (list, tuple)) else list(arys), items)


def item_adjoint_transpose(v: Any, g: Any, x: Any, args: tuple[Any, ...]) -> Any:
    """Transpose of ``g -> item_adjoint(g, x, args)``: the entry of ``v``."""
    if is_zero(v):
        return 0.0
    if _is_py_scalar(x):
        return _fit(np.sum(v), g)
    full = np.asarray(_full(v, np.shape(x)))
    if not args:
        entry = full.reshape(-1)[0]
    elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
        entry = full.reshape(-1)[args[0]]
    else:
        entry = full[args[0] if len(args) == 1 else tuple(args)]
    return _fit(entry, g)


def inner_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``np.inner(a, b)`` laid out like ``g`` (see :func:`dot_adjoint_g`)."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.inner(a, b), g)


def vdot_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``np.vdot(a, b)`` laid out like ``g`` (see :func:`dot_adjoint_g`)."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.vdot(a, b), g)


def tensordot_adjoint_g(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """``np.tensordot(a, b, axes)`` laid out like ``g``."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.tensordot(a, b, axes), g)


def kron_adjoint_g(g: Any, a: Any, b: Any) -> Any:
    """``np.kron(a, b)`` laid out like ``g``."""
    if is_zero(a) or is_zero(b):
        return 0.0
    return _fit(np.kron(a, b), g)


# -- second derivatives through einsum and the linear solvers -----------------------


def einsum_adjoint_pairs(
    g: Any, ans: Any, subscripts: Any, operands: Sequence[Any], ws: Any
) -> tuple[Any, ...]:
    """Second derivative only: for each operand j, the sum over the other
    operands i of ``einsum_adjoint`` with operand i replaced by ``ws[i]``
    (the derivative of einsum_adjoint along ``ws``, and its transpose)."""
    n = len(operands)
    out: list[Any] = [0.0] * n
    if is_zero(g) or is_zero(ws):
        return tuple(out)
    for i in range(n):
        w = _item(ws, i)
        if is_zero(w):
            continue
        ops = list(operands)
        ops[i] = dense_tangent(w, operands[i])
        parts_ = einsum_adjoint(g, ans, subscripts, ops)
        for j in range(n):
            if j != i:
                out[j] = acc(out[j], parts_[j])
    return tuple(out)


def einsum_tangent_pairs(
    subscripts: Any,
    operands: Sequence[Any],
    ts: Any,
    ss: Any,
    optimize: Any = False,
) -> Any:
    """Second derivative only: the sum over ordered pairs i != j of the
    einsum with operand i replaced by ``ts[i]`` and j by ``ss[j]``."""
    total: Any = 0.0
    if is_zero(ts) or is_zero(ss):
        return total
    n = len(operands)
    for i in range(n):
        for j in range(n):
            ti, sj = _item(ts, i), _item(ss, j)
            if i == j or is_zero(ti) or is_zero(sj):
                continue
            ops = list(operands)
            ops[i] = dense_tangent(ti, operands[i])
            ops[j] = dense_tangent(sj, operands[j])
            total = acc(total, np.einsum(subscripts, *ops, optimize=optimize))
    return total


def einsum_adjoint_jvp(args: Sequence[Any], dots: Sequence[Any]) -> tuple[Any, ...]:
    """Second derivative only: the tangent of ``einsum_adjoint(*args)`` from
    the tangents ``dots`` of its arguments (g, ans, subscripts, operands)."""
    g, ans, subscripts, operands = args
    first = einsum_adjoint(_item(dots, 0), ans, subscripts, operands)
    second = einsum_adjoint_pairs(g, ans, subscripts, operands, _item(dots, 3))
    return tuple(acc(a, b) for a, b in zip(first, second))


def slogdet_tangent_jvp(args: Sequence[Any], dots: Sequence[Any]) -> Any:
    """Second derivative only: the tangent of ``slogdet_tangent(t, a, ans)``
    from the tangents ``dots`` of (t, a, ans): (0, tr(a⁻¹ ṫ - a⁻¹ ȧ a⁻¹ t))."""
    t, a, _ans = args
    t_dot, a_dot = _item(dots, 0), _item(dots, 1)
    total: Any = 0.0
    if not is_zero(t_dot):
        total = _trace_last(np.linalg.solve(a, dense(t_dot, a)))
    if not is_zero(a_dot) and not is_zero(t):
        inv = np.linalg.inv(a)
        total = acc(total, -_trace_last(inv @ dense(a_dot, a) @ inv @ dense(t, a)))
    return 0.0 if is_zero(total) else (0.0, total)


def solve_x_partial(g: Any, t: Any, a: Any, b: Any, ans: Any, mode: int) -> Any:
    """Second derivative only: the part of ``solve_tangent(t, a, b, x, 0) =
    -a⁻¹ t x`` that depends on ``x``: its transpose applied to ``g`` (mode 0,
    like x) or its derivative along a tangent ``g`` of x (mode 1)."""
    if is_zero(g) or is_zero(t):
        return 0.0
    vector = _solve_is_vector(a, b)
    T = dense(t, a)
    G = np.asarray(_full(g, np.shape(ans)))
    if vector:
        G = G[..., None]
    if mode == 0:
        out = -(_T(T) @ np.linalg.solve(_T(a), G))
    else:
        out = -np.linalg.solve(a, T @ G)
    return out[..., 0] if vector else out


def solve_adjoint_partial(
    w: Any, g: Any, a: Any, b: Any, ans: Any, which: int, part: int
) -> Any:
    """Second derivative only: the nonlinear partial derivatives of
    ``solve_adjoint(g, a, b, x, which)`` (``B = a⁻ᵀ g``; which=1 gives B,
    which=0 gives ``-B xᵀ``).  ``part`` 1: transpose in ``a`` applied to ``w``;
    2: transpose in ``x``; 3: derivative along a tangent ``w`` of ``a``;
    4: along a tangent ``w`` of ``x``."""
    if is_zero(w) or is_zero(g) or (which == 1 and part in (2, 4)):
        return 0.0
    vector = _solve_is_vector(a, b)
    A = np.asarray(a)

    def col(v: Any, shape: tuple[int, ...]) -> np.ndarray:
        v = np.asarray(_full(v, shape))
        return v[..., None] if vector else v

    def uncol(v: np.ndarray) -> np.ndarray:
        return v[..., 0] if vector else v

    X = col(ans, np.shape(ans))
    B = np.linalg.solve(_T(A), col(g, np.shape(ans)))
    if part == 1:
        if which == 1:
            W = col(w, np.shape(ans))
            return _as_adjoint_of(-(B @ _T(np.linalg.solve(A, W))), a)
        W = np.asarray(_full(w, A.shape))
        return _as_adjoint_of(B @ _T(np.linalg.solve(A, W @ X)), a)
    if part == 2:
        W = np.asarray(_full(w, A.shape))
        return _as_adjoint_of(uncol(-(_T(W) @ B)), ans)
    if part == 3:
        Ad = np.asarray(dense(w, a))
        moved = np.linalg.solve(_T(A), _T(Ad) @ B)
        return uncol(-moved) if which == 1 else moved @ _T(X)
    return -(B @ _T(col(w, np.shape(ans))))


def vecdot_adjoint_g(g: Any, x1: Any, x2: Any, axis: int = -1) -> Any:
    """``np.vecdot(x1, x2, axis=axis)`` (real arguments) laid out like ``g``
    (see :func:`dot_adjoint_g`)."""
    if is_zero(x1) or is_zero(x2):
        return 0.0
    return _fit(np.sum(np.asarray(x1) * np.asarray(x2), axis=axis), g)


def broadcast_tangent_t(v: Any, t: Any, x: Any, ans: Any, factor: Any = None) -> Any:
    """Transpose of ``t -> broadcast_tangent(t, x, ans, factor)``: ``v`` times
    the factor, summed back to the operand's shape (a list operand gets a
    list).  With :func:`broadcast_tangent_factor`, the partial derivatives of
    ``<v, broadcast_tangent(t, x, ans, factor)>``."""
    if is_zero(v) or (factor is not None and is_zero(factor)):
        return 0.0
    w = np.asarray(_full(v, np.shape(ans)))
    if factor is not None:
        w = w * factor
    if isinstance(x, (list, tuple)):
        part = array_adjoint(_sum_to(w, np.shape(np.asarray(x, dtype=float))), x)
    else:
        part = unbroadcast(w, x)
    return dense_tangent_transpose(part, t, x)


def broadcast_tangent_factor(
    v: Any, t: Any, x: Any, ans: Any, factor: Any = None
) -> Any:
    """Transpose of ``factor -> broadcast_tangent(t, x, ans, factor)``."""
    if is_zero(v) or is_zero(t) or factor is None:
        return 0.0
    tt = t
    if isinstance(x, (list, tuple)):
        tt = np.asarray(dense_tangent(t, x), dtype=np.float64)
    return _fit(np.asarray(_full(v, np.shape(ans))) * tt, factor)
