"""Central finite differences and structural comparison of gradients.

The reference the program table is checked against:

* :func:`numerical_grad` differentiates ``func(*args, **kwargs)`` with respect
  to one argument or a tuple of them, by central differences in float64,
  perturbing one element at a time.  Arguments may be Python floats, NumPy
  scalars, arrays of any shape, or tuple/list/dict containers of them.  The
  caller's arrays are never written to: every evaluation gets fresh copies.
* :func:`assert_grad_close` compares two gradients value by value *and*
  checks that their structure matches (container types, dict keys, lengths,
  array vs scalar, shapes).
* :func:`assert_same_structure` checks that a gradient has the structure of
  the argument it belongs to, including array dtypes.
* :func:`assert_tree_equal` checks two argument trees are identical (used to
  prove that differentiating did not mutate the arguments).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

REL_STEP = 1e-6

Path = tuple[Any, ...]
Location = tuple[str, Any]  # ("pos", index) or ("kw", name)


# -- trees --------------------------------------------------------------------


def _is_real_scalar(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    return isinstance(x, (float, int, np.floating, np.integer))


def to_float64(x: Any) -> Any:
    """A deep copy of ``x`` with every floating array and scalar in float64."""
    if isinstance(x, dict):
        return {k: to_float64(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(to_float64(v) for v in x)
    if isinstance(x, list):
        return [to_float64(v) for v in x]
    if isinstance(x, np.ndarray):
        if np.issubdtype(x.dtype, np.floating):
            return x.astype(np.float64)
        return x.copy()
    if isinstance(x, np.floating):
        return np.float64(x)
    return x


def copy_tree(x: Any) -> Any:
    """A copy of ``x`` sharing no array with it (leaves keep their dtype)."""
    if isinstance(x, dict):
        return {k: copy_tree(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(copy_tree(v) for v in x)
    if isinstance(x, list):
        return [copy_tree(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def _leaves(x: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    """Differentiable leaves of ``x`` with their paths, in a fixed order."""
    if isinstance(x, dict):
        out: list[tuple[Path, Any]] = []
        for k, v in x.items():
            out.extend(_leaves(v, path + (k,)))
        return out
    if isinstance(x, (tuple, list)):
        out = []
        for i, v in enumerate(x):
            out.extend(_leaves(v, path + (i,)))
        return out
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"cannot differentiate an array of dtype {x.dtype}")
        return [(path, x)]
    if isinstance(x, (float, np.floating)):
        return [(path, x)]
    raise TypeError(f"cannot differentiate a {type(x).__name__} leaf at {path}")


def _replace(x: Any, path: Path, value: Any) -> Any:
    """``x`` with the leaf at ``path`` replaced; containers are rebuilt."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(x, dict):
        out = dict(x)
        out[head] = _replace(x[head], rest, value)
        return out
    items = list(x)
    items[head] = _replace(x[head], rest, value)
    return tuple(items) if isinstance(x, tuple) else items


def _map_leaves(x: Any, fn: Callable[[Path, Any], Any], path: Path = ()) -> Any:
    if isinstance(x, dict):
        return {k: _map_leaves(v, fn, path + (k,)) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_map_leaves(v, fn, path + (i,)) for i, v in enumerate(x))
    if isinstance(x, list):
        return [_map_leaves(v, fn, path + (i,)) for i, v in enumerate(x)]
    return fn(path, x)


# -- locating wrt arguments ---------------------------------------------------


def _locate(
    func: Callable[..., Any], target: int | str, nargs: int, kwargs: dict
) -> Location:
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= target < nargs:
            raise IndexError(f"wrt={target} but only {nargs} positional arguments")
        return ("pos", int(target))
    if isinstance(target, str):
        if target in kwargs:
            return ("kw", target)
        names = [
            p.name
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if target in names and names.index(target) < nargs:
            return ("pos", names.index(target))
        raise KeyError(f"wrt={target!r} names no argument that was passed")
    raise TypeError(f"wrt must be an int or a str, not {target!r}")


def resolve_wrt(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    wrt: Any = 0,
) -> tuple[Any, ...]:
    """The argument values ``wrt`` designates, as a tuple (one per target)."""
    kwargs = kwargs or {}
    targets = wrt if isinstance(wrt, tuple) else (wrt,)
    values = []
    for t in targets:
        kind, key = _locate(func, t, len(args), kwargs)
        values.append(args[key] if kind == "pos" else kwargs[key])
    return tuple(values)


# -- finite differences -------------------------------------------------------


def _reduce(out: Any, seed: np.ndarray | None) -> float:
    if seed is None:
        arr = np.asarray(out, dtype=np.float64)
        if arr.ndim != 0:
            raise ValueError(f"function returned shape {arr.shape}; pass a seed")
        return float(arr)
    return float(np.sum(seed * np.asarray(out, dtype=np.float64)))


def numerical_grad(
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    wrt: Any = 0,
    seed: Any = None,
    rel_step: float = REL_STEP,
) -> Any:
    """Central-difference gradient of ``func`` at ``args``.

    ``wrt`` is an index, a parameter name or a tuple of them; a tuple gives a
    tuple of gradients.  ``seed`` (an array or a callable of the output) makes
    this the vector-Jacobian product ``seed . J``: the function value is
    reduced to ``sum(seed * output)``.  Everything is evaluated in float64.
    Scalar leaves get float gradients, array leaves float64 arrays.
    """
    kwargs = kwargs or {}
    args64 = [to_float64(a) for a in args]
    kwargs64 = {k: to_float64(v) for k, v in kwargs.items()}

    seed_value = None
    if seed is not None:
        if callable(seed):
            base = func(*copy_tree(args64), **copy_tree(kwargs64))
            seed = seed(base)
        seed_value = np.asarray(seed, dtype=np.float64)

    def evaluate(a: list[Any], kw: dict[str, Any]) -> float:
        return _reduce(func(*copy_tree(a), **copy_tree(kw)), seed_value)

    targets = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = []
    for t in targets:
        loc = _locate(func, t, len(args64), kwargs64)
        grads.append(_fd_one(evaluate, args64, kwargs64, loc, rel_step))
    return tuple(grads) if isinstance(wrt, tuple) else grads[0]


def _fd_one(
    evaluate: Callable[[list[Any], dict[str, Any]], float],
    args: list[Any],
    kwargs: dict[str, Any],
    loc: Location,
    rel_step: float,
) -> Any:
    kind, key = loc
    root = args[key] if kind == "pos" else kwargs[key]

    def with_root(new_root: Any) -> float:
        if kind == "pos":
            a = list(args)
            a[key] = new_root
            return evaluate(a, kwargs)
        kw = dict(kwargs)
        kw[key] = new_root
        return evaluate(args, kw)

    def leaf_grad(path: Path, leaf: Any) -> Any:
        if isinstance(leaf, np.ndarray):
            g = np.zeros(leaf.shape, dtype=np.float64)
            for idx in np.ndindex(*leaf.shape):
                v = float(leaf[idx])
                h = rel_step * max(1.0, abs(v))
                plus, minus = leaf.copy(), leaf.copy()
                plus[idx] = v + h
                minus[idx] = v - h
                fp = with_root(_replace(root, path, plus))
                fm = with_root(_replace(root, path, minus))
                g[idx] = (fp - fm) / (plus[idx] - minus[idx])
            return g
        v = float(leaf)
        h = rel_step * max(1.0, abs(v))
        scalar = type(leaf) if isinstance(leaf, np.floating) else float
        vp, vm = scalar(v + h), scalar(v - h)
        fp = with_root(_replace(root, path, vp))
        fm = with_root(_replace(root, path, vm))
        return float((fp - fm) / (float(vp) - float(vm)))

    _leaves(root)  # raises on leaves that cannot be differentiated
    return _map_leaves(root, leaf_grad)


# -- comparisons --------------------------------------------------------------


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"ndarray(shape={x.shape}, dtype={x.dtype})"
    return type(x).__name__


def assert_grad_close(
    actual: Any,
    expected: Any,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    path: str = "grad",
) -> None:
    """``actual`` has ``expected``'s structure and close values.

    Containers must be of the same type (tuple/list/dict) with the same length
    or keys; an array must meet an array of the same shape; a scalar must meet
    a scalar (a Python float or a NumPy scalar, never an array).
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), (
            f"{path}: expected dict, got {_describe(actual)}"
        )
        assert set(actual) == set(expected), (
            f"{path}: keys {sorted(map(str, actual))} != {sorted(map(str, expected))}"
        )
        for k in expected:
            assert_grad_close(actual[k], expected[k], rtol, atol, f"{path}[{k!r}]")
        return
    if isinstance(expected, (tuple, list)):
        kind = type(expected)
        assert type(actual) is kind, (
            f"{path}: expected {kind.__name__}, got {_describe(actual)}"
        )
        assert len(actual) == len(expected), (
            f"{path}: length {len(actual)} != {len(expected)}"
        )
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_grad_close(a, e, rtol, atol, f"{path}[{i}]")
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), (
            f"{path}: expected {_describe(expected)}, got {_describe(actual)}"
        )
        assert actual.shape == expected.shape, (
            f"{path}: shape {actual.shape} != {expected.shape}"
        )
        np.testing.assert_allclose(
            np.asarray(actual, dtype=np.float64),
            expected,
            rtol=rtol,
            atol=atol,
            err_msg=path,
        )
        return
    assert _is_real_scalar(expected), f"{path}: bad expected value {expected!r}"
    assert _is_real_scalar(actual) and not isinstance(actual, np.ndarray), (
        f"{path}: expected a scalar, got {_describe(actual)}"
    )
    np.testing.assert_allclose(
        float(actual), float(expected), rtol=rtol, atol=atol, err_msg=path
    )


def assert_same_structure(grad: Any, arg: Any, path: str = "grad") -> None:
    """``grad`` mirrors ``arg``: containers, keys, shapes and array dtypes."""
    if isinstance(arg, dict):
        assert isinstance(grad, dict), f"{path}: expected dict, got {_describe(grad)}"
        assert list(grad) == list(arg) or set(grad) == set(arg), (
            f"{path}: keys {list(grad)} != {list(arg)}"
        )
        for k in arg:
            assert_same_structure(grad[k], arg[k], f"{path}[{k!r}]")
        return
    if isinstance(arg, (tuple, list)):
        assert type(grad) is type(arg), (
            f"{path}: expected {type(arg).__name__}, got {_describe(grad)}"
        )
        assert len(grad) == len(arg), f"{path}: length {len(grad)} != {len(arg)}"
        for i, (g, a) in enumerate(zip(grad, arg)):
            assert_same_structure(g, a, f"{path}[{i}]")
        return
    if isinstance(arg, np.ndarray):
        assert isinstance(grad, np.ndarray), (
            f"{path}: expected {_describe(arg)}, got {_describe(grad)}"
        )
        assert grad.shape == arg.shape, f"{path}: shape {grad.shape} != {arg.shape}"
        assert grad.dtype == arg.dtype, f"{path}: dtype {grad.dtype} != {arg.dtype}"
        return
    if isinstance(arg, (float, np.floating)):
        assert _is_real_scalar(grad) and not isinstance(grad, np.ndarray), (
            f"{path}: expected a float, got {_describe(grad)}"
        )
        if isinstance(arg, float):  # Python float (or np.float64)
            assert isinstance(grad, float), (
                f"{path}: expected a float, got {_describe(grad)}"
            )
        elif isinstance(grad, np.floating):
            assert grad.dtype == arg.dtype, f"{path}: dtype {grad.dtype} != {arg.dtype}"
        return
    raise AssertionError(f"{path}: argument {arg!r} is not differentiable")


def assert_tree_equal(actual: Any, expected: Any, path: str = "arg") -> None:
    """Exact equality of two argument trees, including types and dtypes."""
    assert type(actual) is type(expected), (
        f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    )
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys changed"
        for k in expected:
            assert_tree_equal(actual[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected), f"{path}: length changed"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_equal(a, e, f"{path}[{i}]")
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, f"{path}: dtype changed"
        assert actual.shape == expected.shape, f"{path}: shape changed"
        np.testing.assert_array_equal(actual, expected, err_msg=path)
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
