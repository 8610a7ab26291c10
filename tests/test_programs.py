"""s2s_ad's gradients of the program table against finite differences.

For each entry of ``tests/programs.py``:

* ``grad`` agrees with central finite differences (float64);
* ``value_and_grad`` returns the function's own value and the same gradient;
* gradients have the structure, shapes and dtypes of their arguments;
* differentiating does not mutate the arguments;
* float32 arguments give float32 gradients;
* where autograd is installed and can run the program, s2s_ad agrees with it
  (and autograd agrees with finite differences, which checks the table).

``ALIASING_PROGRAMS`` (writes through aliases and views) and
``BEYOND_PROGRAMS`` (NumPy functions outside the supported list) must be
differentiated correctly or refused with a located TransformError -- a wrong
gradient is the one outcome that fails.
"""

from __future__ import annotations

import inspect
import math
import sys
import types
import warnings
from typing import Any

import numpy as np
import pytest

from tests import program_helpers, programs
from tests.fd import (
    assert_grad_close,
    assert_same_structure,
    assert_tree_equal,
    copy_tree,
    numerical_grad,
    resolve_wrt,
)
from tests.programs import (
    ALIASING_PROGRAMS,
    BEYOND_PROGRAMS,
    PROGRAMS,
    Program,
)
from tests.programs import program_args as _args
from tests.programs import program_options as _options
from tests.programs import program_seed as _seed

AUTOGRAD_PROGRAMS = [p for p in PROGRAMS if p.autograd]


def _ids(table: list[Program]) -> list[str]:
    return [p.name for p in table]


def _expected(program: Program, args: tuple[Any, ...]) -> Any:
    return numerical_grad(program.func, args, wrt=program.wrt, seed=_seed(program))


def _wrt_values(program: Program, args: tuple[Any, ...]) -> Any:
    values = resolve_wrt(program.func, args, wrt=program.wrt)
    return values if isinstance(program.wrt, tuple) else values[0]


# -- the table itself ---------------------------------------------------------


def test_table_is_large_and_names_are_unique():
    names = _ids(PROGRAMS)
    assert len(names) >= 100
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_program_source_is_retrievable(program: Program):
    source = inspect.getsource(program.func)
    assert "def " in source


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_program_runs_and_reference_is_finite(program: Program):
    args = _args(program)
    out = program.func(*copy_tree(args))
    if program.seed is None:
        assert np.ndim(out) == 0, "a program without seed must return a scalar"
    else:
        assert np.shape(out) == np.shape(_seed(program))
    expected = _expected(program, args)
    leaves = expected if isinstance(program.wrt, tuple) else (expected,)
    for leaf in leaves:
        for x in _flat(leaf):
            assert np.all(np.isfinite(x))


def _flat(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [y for v in tree.values() for y in _flat(v)]
    if isinstance(tree, (tuple, list)):
        return [y for v in tree for y in _flat(v)]
    return [tree]


# -- s2s_ad against finite differences -------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_grad_matches_finite_differences(program: Program):
    from s2s_ad import grad

    args = _args(program)
    actual = grad(program.func, **_options(program))(*args)
    expected = _expected(program, args)
    assert_grad_close(actual, expected, rtol=program.rtol, atol=program.atol)


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_value_and_grad(program: Program):
    from s2s_ad import grad, value_and_grad

    args = _args(program)
    value, gradient = value_and_grad(program.func, **_options(program))(*args)
    expected_value = program.func(*copy_tree(args))
    assert np.shape(value) == np.shape(expected_value)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-14)
    assert_grad_close(
        gradient, grad(program.func, **_options(program))(*args), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_gradient_has_structure_of_argument(program: Program):
    from s2s_ad import grad

    args = _args(program)
    actual = grad(program.func, **_options(program))(*args)
    assert_same_structure(actual, _wrt_values(program, args))


@pytest.mark.parametrize("program", PROGRAMS, ids=_ids(PROGRAMS))
def test_arguments_are_not_mutated(program: Program):
    from s2s_ad import grad, value_and_grad

    args = _args(program)
    before = copy_tree(args)
    grad(program.func, **_options(program))(*args)
    assert_tree_equal(args, before)
    value_and_grad(program.func, **_options(program))(*args)
    assert_tree_equal(args, before)


def _to_float32(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _to_float32(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_to_float32(v) for v in tree)
    if isinstance(tree, np.ndarray) and tree.dtype == np.float64:
        return tree.astype(np.float32)
    return tree


def _has_float32(tree: Any) -> bool:
    return any(isinstance(x, np.ndarray) and x.dtype == np.float32 for x in _flat(tree))


FLOAT32_PROGRAMS = [
    p
    for p in PROGRAMS
    if p.seed is None
    and _has_float32(_to_float32(resolve_wrt(p.func, _args(p), wrt=p.wrt)))
]


@pytest.mark.parametrize("program", FLOAT32_PROGRAMS, ids=_ids(FLOAT32_PROGRAMS))
def test_float32_arguments_give_float32_gradients(program: Program):
    from s2s_ad import grad

    args64 = _args(program)
    args32 = _to_float32(args64)
    actual = grad(program.func, **_options(program))(*args32)
    assert_same_structure(actual, _wrt_values(program, args32))
    # float32 arithmetic: only a loose agreement with the float64 gradient.
    reference = grad(program.func, **_options(program))(*args64)
    assert_grad_close(actual, reference, rtol=1e-3, atol=1e-3)


REFUSABLE_PROGRAMS = ALIASING_PROGRAMS + BEYOND_PROGRAMS


@pytest.mark.parametrize("program", REFUSABLE_PROGRAMS, ids=_ids(REFUSABLE_PROGRAMS))
def test_differentiated_correctly_or_refused(program: Program):
    """Writes through aliases, functions beyond the brief: never a wrong answer."""
    from s2s_ad import grad
    from s2s_ad.errors import TransformError

    args = _args(program)
    before = copy_tree(args)
    try:
        actual = grad(program.func, **_options(program))(*args)
    except TransformError as exc:
        # A refusal must point at the user's code.
        assert exc.lineno is not None and exc.filename is not None
        return
    assert_grad_close(actual, _expected(program, args), program.rtol, program.atol)
    assert_same_structure(actual, _wrt_values(program, args))
    assert_tree_equal(args, before)


REFUSABLE_ON_AUTOGRAD = [p for p in REFUSABLE_PROGRAMS if p.autograd]


@pytest.mark.parametrize(
    "program", REFUSABLE_ON_AUTOGRAD, ids=_ids(REFUSABLE_ON_AUTOGRAD)
)
def test_refusable_program_reference_is_sound(program: Program):
    # The finite-difference reference agrees with autograd where it can run.
    args = _args(program)
    assert_grad_close(
        _autograd_grad(program, args), _expected(program, args), 1e-5, 1e-7
    )


# -- autograd as a second oracle --------------------------------------------------


class _MathOnAutograd:
    """``math`` for autograd: the same names, computed with autograd.numpy."""

    def __init__(self, anp: Any) -> None:
        self.pi, self.e = math.pi, math.e
        self.sin, self.cos, self.tan = anp.sin, anp.cos, anp.tan
        self.exp, self.log1p, self.expm1 = anp.exp, anp.log1p, anp.expm1
        self.sqrt, self.pow = anp.sqrt, anp.power
        self.tanh, self.sinh, self.cosh = anp.tanh, anp.sinh, anp.cosh
        self.asin, self.acos, self.atan = anp.arcsin, anp.arccos, anp.arctan
        self.atan2 = anp.arctan2
        self._anp = anp

    def log(self, x: Any, base: Any = None) -> Any:
        if base is None:
            return self._anp.log(x)
        return self._anp.log(x) / self._anp.log(base)

    def hypot(self, x: Any, y: Any) -> Any:
        return self._anp.sqrt(x * x + y * y)


class _AutogradBridge:
    """Rebinds the table's functions to autograd.numpy and an autograd ``math``.

    Each function of ``tests/programs.py`` and ``tests/program_helpers.py`` is
    recreated with the same code object over a copy of its module's globals in
    which ``np``, ``math``, NumPy functions, helper modules and the other
    functions are replaced by their autograd counterparts.
    """

    def __init__(self) -> None:
        import autograd.numpy as anp

        self.anp = anp
        self.math = _MathOnAutograd(anp)
        self.modules = {m.__name__: m for m in (programs, program_helpers)}
        self.globals: dict[str, dict[str, Any]] = {}
        self.shims: dict[str, types.ModuleType] = {}
        self.functions: dict[int, types.FunctionType] = {}

    def module_globals(self, name: str) -> dict[str, Any]:
        if name not in self.globals:
            new: dict[str, Any] = {}
            self.globals[name] = new
            for key, value in vars(self.modules[name]).items():
                new[key] = self.convert(value)
        return self.globals[name]

    def convert(self, value: Any) -> Any:
        if value is np:
            return self.anp
        if value is math:
            return self.math
        if isinstance(value, types.ModuleType):
            if value.__name__ in self.modules:
                if value.__name__ not in self.shims:
                    shim = types.ModuleType(value.__name__)
                    self.shims[value.__name__] = shim
                    shim.__dict__.update(self.module_globals(value.__name__))
                return self.shims[value.__name__]
            return value
        if isinstance(value, types.FunctionType):
            if value.__module__ in self.modules:
                return self.function(value)
            return value
        if isinstance(value, np.ufunc) or (
            callable(value)
            and not isinstance(value, type)
            and (getattr(value, "__module__", None) or "").startswith("numpy")
        ):
            return getattr(self.anp, getattr(value, "__name__", ""), value)
        return value

    def function(self, func: types.FunctionType) -> types.FunctionType:
        if id(func) not in self.functions:
            closure = None
            if func.__closure__:
                closure = tuple(
                    types.CellType(self.convert(cell.cell_contents))
                    for cell in func.__closure__
                )
            new = types.FunctionType(
                func.__code__,
                self.module_globals(func.__module__),
                func.__name__,
                func.__defaults__,
                closure,
            )
            new.__kwdefaults__ = func.__kwdefaults__
            self.functions[id(func)] = new
        return self.functions[id(func)]


_BRIDGE: list[_AutogradBridge] = []


def _autograd_grad(program: Program, args: tuple[Any, ...]) -> Any:
    autograd = pytest.importorskip("autograd")
    if not _BRIDGE:
        _BRIDGE.append(_AutogradBridge())
    func = _BRIDGE[0].function(program.func)
    params = list(inspect.signature(program.func).parameters)
    targets = program.wrt if isinstance(program.wrt, tuple) else (program.wrt,)
    seed = _seed(program)
    grads = []
    for target in targets:
        argnum = params.index(target) if isinstance(target, str) else target
        with warnings.catch_warnings():
            # autograd warns on zero gradients (e.g. an argument that only
            # reaches the losing side of a min/max).
            warnings.filterwarnings("ignore", "Output seems independent of input")
            if seed is None:
                g = autograd.grad(func, argnum)(*copy_tree(args))
            else:
                vjp, _ = autograd.make_vjp(func, argnum)(*copy_tree(args))
                g = vjp(seed)
        grads.append(_like(g, args[argnum]))
    return tuple(grads) if isinstance(program.wrt, tuple) else grads[0]


def _like(gradient: Any, arg: Any) -> Any:
    """autograd's gradient with the container types of ``arg``."""
    if isinstance(arg, dict):
        return {k: _like(gradient[k], v) for k, v in arg.items()}
    if isinstance(arg, (tuple, list)):
        return type(arg)(_like(g, a) for g, a in zip(gradient, arg))
    if isinstance(arg, np.ndarray):
        return np.asarray(gradient)
    return float(gradient)


@pytest.mark.parametrize("program", AUTOGRAD_PROGRAMS, ids=_ids(AUTOGRAD_PROGRAMS))
def test_autograd_oracle_matches_finite_differences(program: Program):
    args = _args(program)
    assert_grad_close(
        _autograd_grad(program, args),
        _expected(program, args),
        rtol=program.rtol,
        atol=program.atol,
    )


@pytest.mark.parametrize("program", AUTOGRAD_PROGRAMS, ids=_ids(AUTOGRAD_PROGRAMS))
def test_grad_matches_autograd(program: Program):
    expected = _autograd_grad(program, _args(program))
    from s2s_ad import grad

    args = _args(program)
    actual = grad(program.func, **_options(program))(*args)
    assert_grad_close(actual, expected, rtol=1e-9, atol=1e-12)


def test_autograd_bridge_leaves_originals_alone():
    # The bridge builds new function objects; the table keeps plain NumPy.
    assert programs.np is np
    assert programs.math is math
    assert sys.modules["tests.programs"] is programs


# -- the finite-difference reference itself ------------------------------------


def _fd_target(params, x, scale=1.0):
    return scale * (
        np.sum(params["w"] ** 2 * x) + params["pair"][0] * params["pair"][1][0][0]
    )


def test_fd_handles_containers_and_does_not_mutate():
    params = {"w": np.array([1.0, -2.0]), "pair": (3.0, [np.array([0.5, 1.5])])}
    x = np.array([2.0, 4.0])
    before = copy_tree((params, x))
    g = numerical_grad(_fd_target, (params, x), wrt=(0, 1))
    assert_tree_equal((params, x), before)
    expected = (
        {"w": 2 * params["w"] * x, "pair": (0.5, [np.array([3.0, 0.0])])},
        params["w"] ** 2,
    )
    assert_grad_close(g, expected, rtol=1e-8, atol=1e-8)


def test_fd_wrt_names_keywords_and_float32():
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    params = {"w": x32, "pair": (1.0, [np.zeros(1)])}
    g = numerical_grad(_fd_target, (params,), {"x": x32, "scale": 2.0}, wrt="scale")
    assert isinstance(g, float)
    assert g == pytest.approx(float(np.sum(x32.astype(np.float64) ** 3)))
    gx = numerical_grad(_fd_target, (params, x32), wrt="x")
    assert gx.dtype == np.float64
    np.testing.assert_allclose(gx, x32.astype(np.float64) ** 2, rtol=1e-8)


def test_fd_seed_and_callable_seed():
    x = np.array([0.3, -1.2, 2.0])
    seed = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(
        numerical_grad(np.sin, (x,), seed=seed), seed * np.cos(x), rtol=1e-8
    )
    np.testing.assert_allclose(
        numerical_grad(np.sin, (x,), seed=np.ones_like), np.cos(x), rtol=1e-8
    )


def test_structure_checks_reject_mismatches():
    with pytest.raises(AssertionError):
        assert_grad_close(np.zeros(3), 0.0)
    with pytest.raises(AssertionError):
        assert_grad_close([1.0], (1.0,))
    with pytest.raises(AssertionError):
        assert_grad_close({"a": 1.0}, {"b": 1.0})
    with pytest.raises(AssertionError):
        assert_grad_close(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(AssertionError):
        assert_same_structure(np.zeros(2), np.zeros(2, dtype=np.float32))
    with pytest.raises(AssertionError):
        assert_same_structure(np.float64(1.0), np.zeros(()))
