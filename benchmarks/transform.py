"""Cold transformation time per source line, on synthesized functions.

Two kinds of long functions are written to a temporary module and imported:
straight-line code (one assignment per line, each reading earlier results)
and loop-containing code (a run of ``for`` loops whose bodies overwrite the
same variables and hold an ``if``).  For each size, the in-memory cache is
emptied and ``s2s_ad.gradient_source`` is timed: parsing, normalization,
analysis, the reverse sweep and code generation, everything a first call
pays.  Where s2s_ad specialises code to the kinds of the arguments, the
kinds are those of small float arrays.
"""

from __future__ import annotations

import importlib.util
import inspect
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import s2s_ad
from s2s_ad import cache

_STRAIGHT = (
    "t{i} = np.tanh(t{a} * x + t{b})",
    "t{i} = t{a} * t{b} - 0.5 * t{c}",
    "t{i} = np.sin(t{a}) + y * t{b}",
    "t{i} = t{a} / (1.0 + t{b} ** 2)",
    "t{i} = np.exp(-(t{a} ** 2)) * t{c}",
    "t{i} = 0.3 * t{a} + np.cos(t{b}) * t{c}",
)

_LOOP_BLOCK = (
    "for i in range(n):",
    "    u = np.tanh(s * x + v)",
    "    w = u * v - 0.5 * s",
    "    if i % 3 == 0:",
    "        w = w + np.sin(u) * y",
    "    v = w / (1.0 + u**2)",
    "    s = 0.9 * s + {k} * np.exp(-(v**2)) * u",
    "acc = acc + np.sum(s * v)",
)


def straight_line(lines: int) -> str:
    """A function of about ``lines`` source lines without control flow."""
    body = ["t0 = x * y", "t1 = x + y", "t2 = np.sin(x) * y"]
    i = 3
    while len(body) < lines - 2:
        template = _STRAIGHT[i % len(_STRAIGHT)]
        body.append(template.format(i=i, a=i - 1, b=i - 2, c=i - 3))
        i += 1
    body.append(f"return np.sum(t{i - 1})")
    return "def straight(x, y):\n" + "".join(f"    {line}\n" for line in body)


def with_loops(lines: int) -> str:
    """A function of about ``lines`` source lines made of loops."""
    body = ["acc = 0.0", "s = x * y", "v = x + y"]
    k = 0
    while k == 0 or len(body) + len(_LOOP_BLOCK) < lines - 1:
        k += 1
        body.extend(
            line.format(k=round(0.1 + 0.01 * (k % 7), 2)) for line in _LOOP_BLOCK
        )
    body.append("return acc")
    return "def loops(x, y, n):\n" + "".join(f"    {line}\n" for line in body)


@dataclass
class TransformResult:
    kind: str
    lines: int  # source lines of the function
    generated_lines: int
    seconds: float  # median cold transformation time

    @property
    def ms_per_line(self) -> float:
        return 1e3 * self.seconds / self.lines


def run(sizes: tuple[int, ...], repeats: int) -> list[TransformResult]:
    folder = Path(tempfile.mkdtemp(prefix="s2s_ad_bench_"))
    results = []
    cold_source(warm_up, "x", (1.0,))  # one-time costs (lazy imports) are not counted
    try:
        for n, size in enumerate(sizes):
            text = "import numpy as np\n\n\n" + straight_line(size) + "\n\n"
            text += with_loops(size)
            name = f"_s2s_ad_bench_synth_{n}"
            path = folder / f"{name}.py"
            path.write_text(text)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            try:
                x, y = np.full(3, 0.3), np.full(3, 0.5)
                for kind, func, args in (
                    ("straight-line", module.straight, (x, y)),
                    ("loops", module.loops, (x, y, 2)),
                ):
                    results.append(_time(kind, func, ("x", "y"), args, repeats))
            finally:
                del sys.modules[name]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        cache.clear()
    return results


def cold_source(func, wrt, args) -> str:
    """``gradient_source`` for ``args``' kinds (what a first call transforms),
    or the general code when this s2s_ad version does not specialise."""
    if "args" in inspect.signature(s2s_ad.gradient_source).parameters:
        return s2s_ad.gradient_source(func, wrt=wrt, args=args)
    return s2s_ad.gradient_source(func, wrt=wrt)


def warm_up(x):
    """A function to transform once first, so that lazy imports are not timed."""
    return x * x


def _time(kind: str, func, wrt, args, repeats: int) -> TransformResult:
    lines = len(_source_lines(func))
    times = []
    source = ""
    for _ in range(repeats):
        cache.clear()
        start = time.perf_counter()
        source = cold_source(func, wrt, args)
        times.append(time.perf_counter() - start)
        if times[-1] > 2.0:  # one slow sample is enough
            break
    return TransformResult(
        kind, lines, len(source.splitlines()), statistics.median(times)
    )


def _source_lines(func) -> list[str]:
    return inspect.getsourcelines(func)[0]
