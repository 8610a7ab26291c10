"""Run the s2s_ad benchmarks and print the tables.

    python -m benchmarks            # full run (5-9 minutes on 2 cores)
    python -m benchmarks --quick    # short run (under a minute)
    python benchmarks/run.py ...    # the same

For every workload (see benchmarks/workloads/), in one process: the time of
the function itself, of s2s_ad's ``value_and_grad``, of the hand-written
NumPy gradient and of each installed peer (autograd; JAX without and with
``jit``, compilation excluded; PyTorch eager in float64), each the median of
repeated timed runs (see benchmarks/timing.py).  Before any gradient is
timed it is checked against the hand-written one; a gradient that differs,
or that cannot be computed, is reported as FAILED or MISMATCH and not timed.
Then the cold transformation time per source line of long synthesized
functions (benchmarks/transform.py) and the memory the forward sweep keeps
for the reverse sweep in long loops (benchmarks/memory.py).

Every library runs on one thread.  The exit status is 1 when s2s_ad failed
on a workload or computed a wrong gradient, 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchmarks

benchmarks.pin_threads()  # done on import already; it must precede NumPy's

import numpy as np

import s2s_ad
from benchmarks import memory, profiling, transform
from benchmarks.peers import Peer, all_peers
from benchmarks.timing import FULL, QUICK, Settings, format_seconds, measure_all
from benchmarks.workloads import Workload, all_workloads
from s2s_ad import cache, value_and_grad

# The quick run too measures the sizes the transformation target is about
# (one sample each: about half a minute).
TRANSFORM_SIZES = {"quick": (10, 100, 1000, 2000), "full": (10, 100, 1000, 2000)}
TRANSFORM_REPEATS = {"quick": 1, "full": 3}
MEMORY_SIZES = {"quick": (1_000, 10_000), "full": (1_000, 10_000, 100_000)}

#: s2s_ad ÷ hand-written limits, by workload name (prefix).
HAND_TARGETS = {
    "seed": 1.5,
    "scalar_loop": 1.5,
    "rosenbrock": 1.10,
    "mlp": 1.10,
    "rnn": 1.10,
    "logistic": 1.10,
}
GRAD_OVER_FUNCTION_TARGET = 3.0
PEER_SPEEDUP_TARGET = 20.0  # on seed and scalar_loop, vs autograd and jax
PEER_SPEEDUP_WORKLOADS = ("seed", "scalar_loop")
PEER_SPEEDUP_PEERS = ("autograd", "jax")
TRANSFORM_TARGET_MS = 2.0  # per source line, at 1000 lines


@dataclass
class Row:
    workload: Workload
    times: dict[str, float] = field(default_factory=dict)  # column -> seconds
    notes: dict[str, str] = field(default_factory=dict)  # column -> text instead
    failure: str = ""  # why s2s_ad's gradient was not timed
    transform_seconds: float | None = None


_START = time.perf_counter()


def log(message: str) -> None:
    """Progress, on stderr, with the seconds elapsed since the start."""
    elapsed = time.perf_counter() - _START
    print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def compare(workload: Workload, got: Any, want: Any, function_value: Any) -> str | None:
    """Why ``got`` = (value, grads) is not ``want`` (the hand-written one), or None."""
    try:
        value, grads = got
        grads = tuple(grads)
    except (TypeError, ValueError):
        return f"returned {type(got).__name__}, not (value, gradients)"
    want_grads = want[1]
    if not np.allclose(value, function_value, rtol=1e-9, atol=0.0):
        return f"value {value!r} differs from the function's {function_value!r}"
    if len(grads) != len(want_grads):
        return f"{len(grads)} gradients, expected {len(want_grads)}"
    for name, g, ref in zip(workload.wrt, grads, want_grads):
        g = np.asarray(g, dtype=float)
        ref = np.asarray(ref, dtype=float)
        if g.shape != ref.shape:
            return f"gradient of {name} has shape {g.shape}, expected {ref.shape}"
        scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
        if not np.allclose(g, ref, rtol=1e-6, atol=1e-9 * scale):
            err = float(np.max(np.abs(g - ref)))
            return (
                f"gradient of {name} differs from the hand-written one "
                f"(max abs error {err:.3g}, max |reference| {scale:.3g})"
            )
    return None


def run_workload(
    workload: Workload, peers: list[Peer], settings: Settings, quick: bool
) -> Row:
    row = Row(workload)
    args = workload.make_args()
    function_value = workload.function(*args)
    hand_out = workload.hand(*args)
    if not np.allclose(hand_out[0], function_value, rtol=1e-9):
        raise AssertionError(  # a bug in the workload module, not in s2s_ad
            f"{workload.name}: hand-written value {hand_out[0]!r} differs from "
            f"the function's {function_value!r}"
        )

    calls: dict[str, Callable[[], Any]] = {
        "function": lambda: workload.function(*args),
        "hand": lambda: workload.hand(*args),
    }

    try:
        cache.clear()
        start = time.perf_counter()
        transform.cold_source(workload.function, workload.wrt, args)
        row.transform_seconds = time.perf_counter() - start
        vg = value_and_grad(workload.function, wrt=workload.wrt)
        problem = compare(workload, vg(*args), hand_out, function_value)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        problem = first_line(exc)
    if problem:
        row.failure = problem
        row.notes["s2s_ad"] = "FAILED"
        log(f"  {workload.name}: s2s_ad FAILED: {problem}")
    else:
        calls["s2s_ad"] = lambda: vg(*args)

    for peer in peers:
        if not peer.available:
            row.notes[peer.name] = f"n/a ({peer.reason})"
            continue
        if workload.peers_skip:
            row.notes[peer.name] = workload.peers_skip
            continue
        if quick and peer.name in workload.quick_skip:
            row.notes[peer.name] = f"--quick: {workload.quick_skip[peer.name]}"
            continue
        try:
            start = time.perf_counter()
            call, convert = peer.prepare(workload, args)
            if time.perf_counter() - start > 1.0:
                log(
                    f"  {workload.name}: {peer.name} prepared (compiled) in "
                    f"{time.perf_counter() - start:.1f} s"
                )
            problem = compare(workload, convert(call()), hand_out, function_value)
        except Exception as exc:  # noqa: BLE001 - a peer's failure is reported
            problem = first_line(exc)
            row.notes[peer.name] = f"FAILED: {problem}"
            log(f"  {workload.name}: {peer.name} FAILED: {problem}")
            continue
        if problem:
            row.notes[peer.name] = "MISMATCH"
            log(f"  {workload.name}: {peer.name} MISMATCH: {problem}")
            continue
        calls[peer.name] = call

    timings = measure_all(
        calls, settings, lambda column: log(f"  {workload.name}: {column}")
    )
    for column, timing in timings.items():
        row.times[column] = timing.per_call
        if len(timing.runs) == 1 and timing.number == 1:
            row.notes[column] = "1 call"
    return row


# -- output -----------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in headers]
    for cells in rows:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(cells) for cells in rows])


def ratio(top: float | None, bottom: float | None) -> str:
    if top is None or bottom is None or bottom == 0:
        return "-"
    value = top / bottom
    if value >= 100:
        return f"{value:.0f}"
    if value >= 0.01:
        return f"{value:.2f}"
    return f"{value:.1e}"


def cell_time(row: Row, column: str) -> str:
    if column in row.times:
        star = "*" if row.notes.get(column) == "1 call" else ""
        return format_seconds(row.times[column]) + star
    return row.notes.get(column, "-")


def peer_ratio(row: Row, peer: Peer) -> str:
    if row.failure:
        return "-"
    if peer.name in row.times:
        return ratio(row.times[peer.name], row.times.get("s2s_ad"))
    return row.notes.get(peer.name, "-")


def header(mode: str, settings: Settings, peers: list[Peer]) -> str:
    lines = [
        (
            f"s2s_ad {s2s_ad.__version__} benchmarks, {mode} run, "
            f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}"
        ),
        (
            f"Python {platform.python_version()} "
            f"({platform.python_implementation()}) on {platform.system()} "
            f"{platform.machine()}, {os.cpu_count()} CPUs; "
            f"NumPy {np.__version__} ({_blas()})"
        ),
        "threads: 1 for every library ("
        + ", ".join(f"{v}={os.environ.get(v)}" for v in benchmarks.THREAD_VARIABLES)
        + f"; XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}"
        + "; torch.set_num_threads(1))",
        "peers: " + _peer_versions(peers),
        (
            f"timing: median per call of up to {settings.repeats} runs "
            f"(fewer for slow calls), each repeating the call for >= "
            f"{settings.min_time} s; compared calls interleaved; gc enabled; "
            "all in this one process"
        ),
    ]
    lines.append(
        "s2s_ad caches: disk cache off (S2S_AD_CACHE_DIR=off), memory cache "
        "cleared before each cold transformation"
    )
    tuned = [
        f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")
    ]
    lines.append(
        "malloc: "
        + (", ".join(tuned) if tuned else "C library defaults (no MALLOC_* set)")
        + "; large-array timings depend on it (see benchmarks/README.md)"
    )
    if benchmarks.NUMPY_PREIMPORTED:
        lines.append(
            "WARNING: NumPy was imported before the thread limits were set; "
            "its BLAS may use several threads"
        )
    return "\n".join(lines)


def _peer_versions(peers: list[Peer]) -> str:
    if not peers:
        return "none (--no-peers)"
    notes = {"jax": " (float64: jax_enable_x64; timed without and with jit)"}
    seen: dict[str, str] = {}
    for p in peers:
        if p.module not in seen:
            seen[p.module] = (
                f"{p.module} {p.version}{notes.get(p.module, '')}"
                if p.available
                else f"{p.module} n/a ({p.reason})"
            )
    return "; ".join(seen.values())


def _blas() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"BLAS {blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older NumPy: no dict form
        return "BLAS unknown"


def workload_tables(rows: list[Row], peers: list[Peer]) -> str:
    columns = ["function", "s2s_ad", "hand"] + [p.name for p in peers]
    times = table(
        ["workload", "transform"] + columns,
        [
            [
                r.workload.name,
                "-"
                if r.transform_seconds is None
                else format_seconds(r.transform_seconds),
            ]
            + [cell_time(r, c) for c in columns]
            for r in rows
        ],
    )
    ratios = []
    for r in rows:
        t = r.times
        if r.failure:
            cells = [
                r.workload.name,
                "FAILED",
                "(below)",
                ratio(t.get("hand"), t.get("function")),
                "",
            ] + ["" for _ in peers]
            ratios.append(cells)
            continue
        ratios.append(
            [
                r.workload.name,
                ratio(t.get("s2s_ad"), t.get("function")),
                ratio(t.get("s2s_ad"), t.get("hand")),
                ratio(t.get("hand"), t.get("function")),
                _target_text(r),
            ]
            + [peer_ratio(r, p) for p in peers]
        )
    ratio_table = table(
        ["workload", "grad/fn", "s2s/hand", "hand/fn", "target s2s/hand"]
        + [f"{p.name}/s2s" for p in peers],
        ratios,
    )
    failures = [f"FAILED: {r.workload.name}: {r.failure}" for r in rows if r.failure]
    if any("1 call" in r.notes.values() for r in rows):
        times += "\n* one call only: slower than the time budget of a measurement"
    text = (
        "Time per call (median; transform = cold transformation of the "
        "workload):\n\n" + times + "\n\nRatios (grad = s2s_ad value_and_grad; "
        "peer/s2s > 1 means s2s_ad is faster):\n\n" + ratio_table
    )
    if failures:
        text += "\n\n" + "\n".join(failures)
    return text


def _target_text(row: Row) -> str:
    limit = _hand_target(row.workload)
    return "-" if limit is None else f"<= {limit:.2f}"


def _hand_target(workload: Workload) -> float | None:
    if not workload.targets:
        return None
    name = workload.name
    for prefix, limit in HAND_TARGETS.items():
        if name.startswith(prefix):
            return limit
    return None


def transform_table(results: list[transform.TransformResult]) -> str:
    return "Cold transformation (cache cleared, gradient_source):\n\n" + table(
        ["function", "source lines", "generated lines", "time", "ms/line"],
        [
            [
                r.kind,
                str(r.lines),
                str(r.generated_lines),
                format_seconds(r.seconds),
                f"{r.ms_per_line:.2f}",
            ]
            for r in results
        ],
    )


def memory_table(results: list[memory.MemoryResult]) -> str:
    return (
        "Trace memory (tracemalloc peak of value_and_grad minus the "
        "function's peak):\n\n"
        + table(
            [
                "loop",
                "iterations",
                "function peak",
                "gradient peak",
                "trace",
                "bytes/iter",
            ],
            [
                [
                    r.loop,
                    f"{r.iterations:,}",
                    _bytes(r.function_peak),
                    _bytes(r.gradient_peak),
                    _bytes(r.trace),
                    f"{r.per_iteration:.0f}",
                ]
                for r in results
            ],
        )
    )


def _bytes(n: float) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def targets(
    rows: list[Row],
    transforms: list[transform.TransformResult],
    peers: list[Peer],
) -> str:
    checks: list[tuple[str, str, bool | None]] = []
    for r in rows:
        name = r.workload.name
        if r.failure:
            checks.append((f"{name}: gradient computed and correct", "FAILED", False))
            continue
        if not r.workload.targets:
            continue
        limit = _hand_target(r.workload)
        s2s = r.times.get("s2s_ad")
        if limit is not None and "hand" in r.times:
            value = s2s / r.times["hand"]
            checks.append(
                (f"{name}: s2s/hand <= {limit:.2f}", f"{value:.2f}", value <= limit)
            )
        value = s2s / r.times["function"]
        checks.append(
            (
                f"{name}: grad/fn <= {GRAD_OVER_FUNCTION_TARGET:.0f}",
                f"{value:.2f}",
                value <= GRAD_OVER_FUNCTION_TARGET,
            )
        )
        if name in PEER_SPEEDUP_WORKLOADS:
            for peer in peers:
                if peer.name not in PEER_SPEEDUP_PEERS:
                    continue
                label = f"{name}: >= {PEER_SPEEDUP_TARGET:.0f}x faster than {peer.name}"
                if peer.name in r.times:
                    value = r.times[peer.name] / s2s
                    checks.append(
                        (label, f"{value:.1f}x", value >= PEER_SPEEDUP_TARGET)
                    )
                else:
                    checks.append((label, r.notes.get(peer.name, "n/a"), None))
    for t in transforms:
        if t.lines >= 900:  # the 1000- and 2000-line functions
            checks.append(
                (
                    (
                        f"transform {t.kind}, {t.lines} lines: "
                        f"<= {TRANSFORM_TARGET_MS:.0f} ms/line"
                    ),
                    f"{t.ms_per_line:.2f} ms/line",
                    t.ms_per_line <= TRANSFORM_TARGET_MS,
                )
            )
    verdict = {True: "ok", False: "MISS", None: "n/a"}
    return "Targets:\n\n" + table(
        ["target", "measured", "result"],
        [[label, value, verdict[ok]] for label, value, ok in checks],
    )


# -- main -------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time s2s_ad's generated gradients against the function, "
        "hand-written NumPy gradients and the installed peers.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="short run (under a minute)"
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated workload names or prefixes (default: all)",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="time s2s_ad and NumPy only"
    )
    parser.add_argument(
        "--skip-transform", action="store_true", help="no transformation timing"
    )
    parser.add_argument(
        "--skip-memory", action="store_true", help="no trace memory measurement"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, run s2s_ad's gradient of each selected "
        "workload under cProfile and print where the time goes",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # Cold transformation must be cold: no persistent (disk) cache of
    # generated code, whatever the environment says (the in-memory cache is
    # cleared before each cold transformation).  Set here, not on import, so
    # that importing a workload (as the tests do) changes nothing.
    os.environ["S2S_AD_CACHE_DIR"] = "off"
    options = parse(argv)
    mode = "quick" if options.quick else "full"
    settings = QUICK if options.quick else FULL
    peers = [] if options.no_peers or options.profile else all_peers()
    workloads = all_workloads()
    if options.only:
        wanted = [w.strip() for w in options.only.split(",") if w.strip()]
        workloads = [w for w in workloads if any(w.name.startswith(p) for p in wanted)]
        if not workloads:
            log(f"no workload matches {options.only!r}")
            return 2

    if options.profile:
        for workload in workloads:
            print(profiling.profile(workload))
        return 0

    print(header(mode, settings, peers), flush=True)
    transform.cold_source(transform.warm_up, "x", (1.0,))  # one-time imports
    rows = []
    for workload in workloads:
        log(f"{workload.name} ({workload.description})")
        rows.append(run_workload(workload, peers, settings, options.quick))

    transforms: list[transform.TransformResult] = []
    if not options.skip_transform:
        log("cold transformation of synthesized functions")
        transforms = transform.run(TRANSFORM_SIZES[mode], TRANSFORM_REPEATS[mode])
    memories: list[memory.MemoryResult] = []
    if not options.skip_memory:
        log("trace memory")
        memories = memory.run(MEMORY_SIZES[mode])

    sections = [workload_tables(rows, peers)]
    if transforms:
        sections.append(transform_table(transforms))
    if memories:
        sections.append(memory_table(memories))
    sections.append(targets(rows, transforms, peers))
    print()
    print("\n\n".join(sections))

    if options.json:
        _write_json(options.json, mode, rows, transforms, memories, peers)
    return 1 if any(r.failure for r in rows) else 0


def _write_json(
    path: str,
    mode: str,
    rows: list[Row],
    transforms: list[transform.TransformResult],
    memories: list[memory.MemoryResult],
    peers: list[Peer],
) -> None:
    data = {
        "mode": mode,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "s2s_ad": s2s_ad.__version__,
        "peers": {p.name: p.version if p.available else None for p in peers},
        "workloads": [
            {
                "name": r.workload.name,
                "seconds": r.times,
                "notes": r.notes,
                "failure": r.failure or None,
                "transform_seconds": r.transform_seconds,
            }
            for r in rows
        ],
        "transform": [
            {
                "kind": t.kind,
                "lines": t.lines,
                "generated_lines": t.generated_lines,
                "seconds": t.seconds,
            }
            for t in transforms
        ],
        "memory": [
            {
                "loop": m.loop,
                "iterations": m.iterations,
                "function_peak": m.function_peak,
                "gradient_peak": m.gradient_peak,
            }
            for m in memories
        ],
    }
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
