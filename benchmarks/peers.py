"""The libraries s2s_ad is compared with, each optional.

Every peer runs the *same* workload code as s2s_ad: the function is rebound
to a copy of its module globals in which ``np`` is the peer's NumPy-like
module (``autograd.numpy``, ``jax.numpy``, or a few-line shim over torch).
A peer's ``prepare`` turns the workload's arguments into the peer's own
(device arrays, tensors that require grad) once, outside the timing, and
returns a zero-argument call and a function converting its output to
``(value, tuple of NumPy gradients)`` for the correctness check.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

Prepared = tuple[Callable[[], Any], Callable[[Any], tuple[Any, tuple[Any, ...]]]]


def rebind(func: Callable[..., Any], module: Any) -> Callable[..., Any]:
    """``func`` (and the functions of its module it can call) with ``np = module``."""
    namespace = dict(func.__globals__)
    namespace["np"] = module
    for name, value in list(namespace.items()):
        if (
            isinstance(value, types.FunctionType)
            and value.__module__ == func.__module__
        ):
            namespace[name] = _copy(value, namespace)
    return namespace[func.__name__]


def _copy(func: types.FunctionType, namespace: dict[str, Any]) -> Callable[..., Any]:
    new = types.FunctionType(
        func.__code__, namespace, func.__name__, func.__defaults__, func.__closure__
    )
    new.__kwdefaults__ = func.__kwdefaults__
    return new


def argnums(func: Callable[..., Any], wrt: tuple[str, ...]) -> tuple[int, ...]:
    params = list(inspect.signature(func).parameters)
    return tuple(params.index(name) for name in wrt)


@dataclass
class Peer:
    name: str
    module: str  # what must be importable
    available: bool = False
    version: str = ""
    reason: str = ""  # why it is not available

    def load(self) -> None:
        try:
            lib = importlib.import_module(self.module)
        except Exception as exc:  # noqa: BLE001 - any import failure means absent
            self.reason = (
                "not installed"
                if isinstance(exc, ImportError)
                else f"import failed: {exc}"
            )
            return
        try:
            self.version = importlib.metadata.version(self.module)
        except importlib.metadata.PackageNotFoundError:
            self.version = getattr(lib, "__version__", "?")
        self.available = True
        self.setup(lib)

    def setup(self, lib: Any) -> None:
        """Library-wide settings (threads, precision)."""

    def prepare(self, workload: Any, args: tuple[Any, ...]) -> Prepared:
        raise NotImplementedError


class Autograd(Peer):
    def prepare(self, workload: Any, args: tuple[Any, ...]) -> Prepared:
        import autograd
        import autograd.numpy as anp

        func = rebind(workload.function, anp)
        nums = argnums(workload.function, workload.wrt)
        vg = autograd.value_and_grad(func, argnum=nums if len(nums) > 1 else nums[0])

        def convert(out: Any) -> tuple[Any, tuple[Any, ...]]:
            value, grads = out
            return value, tuple(grads) if len(nums) > 1 else (grads,)

        return (lambda: vg(*args)), convert


class Jax(Peer):
    """JAX without ``jit`` (op by op) or with it (compiled before timing)."""

    def __init__(self, name: str, jit: bool) -> None:
        super().__init__(name, "jax")
        self.jit = jit

    def setup(self, lib: Any) -> None:
        lib.config.update("jax_enable_x64", True)  # float64, like NumPy

    def prepare(self, workload: Any, args: tuple[Any, ...]) -> Prepared:
        import jax
        import jax.numpy as jnp

        func = rebind(workload.function, jnp)
        nums = argnums(workload.function, workload.wrt)
        vg = jax.value_and_grad(func, argnums=nums)
        jargs = tuple(
            jax.device_put(a) if isinstance(a, np.ndarray) else a for a in args
        )
        if self.jit:
            static = tuple(
                i
                for i, a in enumerate(args)
                if isinstance(a, int) and not isinstance(a, bool)
            )
            vg = jax.jit(vg, static_argnums=static)
            jax.block_until_ready(vg(*jargs))  # compile outside the timing

        def convert(out: Any) -> tuple[Any, tuple[Any, ...]]:
            value, grads = out
            return np.asarray(value), tuple(np.asarray(g) for g in grads)

        return (lambda: jax.block_until_ready(vg(*jargs))), convert


class _TorchNumpy:
    """The few NumPy functions the workloads call, over torch tensors."""

    def __init__(self, torch: Any) -> None:
        self._t = torch
        self.exp = torch.exp
        self.log = torch.log
        self.tanh = torch.tanh
        self.sin = torch.sin
        self.cos = torch.cos

    def _reduce(self, op: Any, x: Any, axis: Any, keepdims: bool) -> Any:
        if axis is None:
            return op(x)
        return op(x, dim=axis, keepdim=keepdims)

    def sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self._t.sum, x, axis, keepdims)

    def mean(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self._t.mean, x, axis, keepdims)

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if axis is None:
            return self._t.max(x)
        return self._t.amax(x, dim=axis, keepdim=keepdims)

    def zeros(self, shape: Any) -> Any:
        return self._t.zeros(shape, dtype=self._t.float64)


class Torch(Peer):
    """PyTorch eager mode, float64, ``torch.autograd.grad`` each call."""

    def setup(self, lib: Any) -> None:
        lib.set_num_threads(1)
        try:
            lib.set_num_interop_threads(1)
        except RuntimeError:  # already set, or work already started
            pass

    def prepare(self, workload: Any, args: tuple[Any, ...]) -> Prepared:
        import torch

        func = rebind(workload.function, _TorchNumpy(torch))
        nums = argnums(workload.function, workload.wrt)
        targs = []
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray):
                a = torch.from_numpy(np.array(a, dtype=np.float64))
            elif i in nums:
                a = torch.tensor(a, dtype=torch.float64)
            if i in nums:
                a.requires_grad_(True)
            targs.append(a)
        inputs = [targs[i] for i in nums]

        def call() -> Any:
            out = func(*targs)
            return out, torch.autograd.grad(out, inputs)

        def convert(out: Any) -> tuple[Any, tuple[Any, ...]]:
            value, grads = out
            return value.item(), tuple(g.detach().numpy() for g in grads)

        return call, convert


def all_peers() -> list[Peer]:
    peers: list[Peer] = [
        Autograd("autograd", "autograd"),
        Jax("jax", jit=False),
        Jax("jax.jit", jit=True),
        Torch("torch", "torch"),
    ]
    for peer in peers:
        peer.load()
    return peers
