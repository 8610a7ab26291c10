"""``python -m benchmarks --profile NAME``: where s2s_ad's gradient spends time.

Runs the workload's generated ``value_and_grad`` under cProfile for about a
second and prints the functions with the most time of their own (outside the
functions they call), the generated function itself being one of them: its
own time is the Python arithmetic and list operations written into it.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time

from benchmarks.workloads import Workload
from s2s_ad import value_and_grad


def profile(workload: Workload, seconds: float = 1.0, top: int = 25) -> str:
    args = workload.make_args()
    vg = value_and_grad(workload.function, wrt=workload.wrt)
    vg(*args)  # transform outside the profile
    start = time.perf_counter()
    calls = 0
    profiler = cProfile.Profile()
    profiler.enable()
    while calls == 0 or time.perf_counter() - start < seconds:
        vg(*args)
        calls += 1
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return f"{workload.name}: {calls} calls of value_and_grad under cProfile\n" + (
        out.getvalue()
    )
