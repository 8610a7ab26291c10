"""The benchmark workloads.

Each module defines the function as a user would write it (module-level,
plain NumPy/Python), a hand-written NumPy ``value_and_grad`` for it (the
reference, returning ``(value, (gradients in wrt order))``), a maker for its
arguments and the parameters to differentiate, and lists them in
``WORKLOADS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Workload:
    name: str
    function: Callable[..., Any]
    hand: Callable[..., Any]
    make_args: Callable[[], tuple[Any, ...]]
    wrt: tuple[str, ...]
    description: str
    #: Peers not timed by ``--quick``, with the reason (e.g. long compilation).
    quick_skip: dict[str, str] = field(default_factory=dict)
    #: Why no peer is timed at all (a variant of a workload they are timed on).
    peers_skip: str = ""
    #: False for a workload shown for information: the targets are about
    #: the workloads of the issue that set them.
    targets: bool = True


def all_workloads() -> list[Workload]:
    from benchmarks.workloads import (
        logistic,
        mlp,
        rnn,
        rosenbrock,
        scalar_loop,
        seed,
    )

    found: list[Workload] = []
    for module in (seed, rosenbrock, mlp, rnn, scalar_loop, logistic):
        found.extend(module.WORKLOADS)
    return found
