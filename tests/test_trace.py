"""Seeing the trace: the seed's tables, summaries of arrays, the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import s2s_ad
from s2s_ad import differentiate, tracing, value_and_grad
from s2s_ad.tracing import summarize, trace

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.rst"
UPDATE = os.environ.get("S2S_AD_UPDATE_README") == "1"
TRACE_COMMAND = "$ python -m s2s_ad --trace examples/seed.py:f 2 0.5"


@differentiate(wrt=("x1", "x2"))
def seed_f(x1, x2):
    return x1 * np.exp(-0.5 * (x1**2 + x2**2))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return subprocess.run(
        [sys.executable, "-m", "s2s_ad", *args],
        cwd=str(ROOT),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- the seed's numbers ------------------------------------------------------------


def test_seed_forward_values_in_order():
    report = trace(seed_f, 2.0, 0.5)
    rows = [(s.name, s.value) for s in report.forward]
    names = [name for name, _ in rows]
    assert names == ["u1", "u2", "u3", "u4", "u5", "u6"]
    values = [value for _, value in rows]
    expected = [4.0, 0.25, 4.25, -2.125, np.exp(-2.125), 2 * np.exp(-2.125)]
    assert values == pytest.approx(expected)
    assert report.forward[-1].value == pytest.approx(0.238866, abs=5e-7)
    assert [s.statement for s in report.forward][:2] == ["u1 = x1 ** 2", "u2 = x2 ** 2"]


def test_seed_adjoints_in_reverse_order():
    report = trace(seed_f, 2.0, 0.5)
    reverse = report.reverse
    assert (reverse[0].name, reverse[0].value) == ("u6_bar", 1.0)
    order = [s.name for s in reverse]
    # Each adjoint is complete before it is used: u5 before u4, ..., u1 last
    # of the intermediates; x1 collects twice (u6 = x1*u5 and u1 = x1**2).
    assert order.index("u5_bar") < order.index("u4_bar") < order.index("u3_bar")
    assert order.index("u3_bar") < order.index("u1_bar")
    assert order.count("x1_bar") == 2
    assert report.values("u3_bar")[-1] == pytest.approx(-0.5 * np.exp(-2.125) * 2)
    assert report.values("x1_bar")[-1] == pytest.approx(-0.358299, abs=5e-7)
    assert report.values("x2_bar")[-1] == pytest.approx(-0.119433, abs=5e-7)
    assert report.gradient == pytest.approx((-0.358299, -0.119433), abs=5e-7)
    assert report.value == pytest.approx(0.238866, abs=5e-7)


def test_seed_table_text():
    text = str(trace(seed_f, 2.0, 0.5))
    assert re.search(r"u1 = x1 \*\* 2 +-> 4\n", text)
    assert re.search(r"u6 = x1 \* u5 +-> 0.238866\n", text)
    assert re.search(r"u6_bar = seed +-> 1\n", text)
    assert "df/dx1 = -0.358299" in text
    assert "df/dx2 = -0.119433" in text
    assert text.index("forward sweep") < text.index("reverse sweep")
    assert text.index("reverse sweep") < text.index("gradient:")


def test_trace_agrees_with_value_and_grad():
    def f(x, y):
        z = np.sin(x) * y
        return z * z + x / y

    report = trace(f, 0.7, 1.3, wrt=(0, 1))
    value, grads = value_and_grad(f, wrt=(0, 1))(0.7, 1.3)
    assert report.value == pytest.approx(value)
    assert report.gradient == pytest.approx(grads)
    single = trace(f, 0.7, 1.3)
    assert single.gradient == pytest.approx(grads[0])
    assert "df/dx = " in str(single) and "df/dy" not in str(single)


def test_tracing_is_not_cached():
    before = s2s_ad.cache_info()
    trace(seed_f, 2.0, 0.5)
    after = s2s_ad.cache_info()
    assert after["misses"] == before["misses"]
    assert after["entries"] == before["entries"]


# -- loops, helpers and arrays -------------------------------------------------------


def power_sum(x, n):
    total = 0.0
    term = 1.0
    for i in range(n):
        term = term * x
        total = total + term
    return total


def test_loop_values_every_iteration():
    report = trace(power_sum, 2.0, 3)
    assert report.values("term", "forward") == [1.0, 2.0, 4.0, 8.0]
    assert report.values("i", "forward") == [0, 1, 2]
    assert report.values("i", "reverse") == [2, 1, 0]
    assert report.gradient == pytest.approx(1 + 2 * 2.0 + 3 * 2.0**2)
    text = str(report)
    assert "for i in range(n):  i = 2" in text


def scale(v, s):
    return s * v


def uses_helper(x):
    return scale(x, 3.0) * x


def test_helper_rows_name_their_function():
    report = trace(uses_helper, 2.0)
    functions = {s.function for s in report.steps if s.sweep != "input"}
    assert functions == {"uses_helper", "scale"}
    assert "(in scale)" in str(report)
    assert report.gradient == pytest.approx(12.0)


def indexed(x):
    return x[0] * x[1] + x[1] * x[2]


def test_array_adjoints_are_snapshots():
    x = np.array([1.0, 2.0, 3.0])
    report = trace(indexed, x)
    bars = report.values("x_bar")
    assert len(bars) >= 2
    assert not np.allclose(bars[0], bars[-1])  # later updates did not leak back
    np.testing.assert_allclose(bars[-1], [2.0, 4.0, 2.0])
    np.testing.assert_allclose(report.gradient, [2.0, 4.0, 2.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert "float64[3] [" in str(report)


def test_summaries():
    assert summarize(0.25) == "0.25"
    assert summarize(np.float64(np.exp(-2.125))) == "0.119433"
    assert summarize(3) == "3"
    assert summarize(np.array([1.0, 2.0])) == "float64[2] [1 2]"
    assert summarize(np.arange(10.0)) == "float64[10] [0 1 2 3 ... 9]"
    assert summarize(np.zeros((3, 4))) == "float64[3x4] [0 0 0 0 ... 0]"
    assert summarize(np.array(2.5)) == "2.5"
    assert summarize([1.0, np.ones(2)]) == "[1, float64[2] [1 1]]"
    assert summarize((1.0,)) == "(1,)"
    assert summarize({"w": np.ones(7), "b": 0.5}) == (
        "{'w': float64[7] [1 1 1 1 ... 1], 'b': 0.5}"
    )
    assert summarize(list(range(6))) == "[0, 1, 2, 3, ... (6 items)]"
    assert summarize(None) == "None"


def test_arguments_are_summarized_in_the_header():
    def loss(w, X):
        return np.sum((X @ w) ** 2)

    X = np.arange(200.0).reshape(100, 2) / 100
    text = str(trace(loss, np.array([0.5, -0.5]), X))
    assert "X = float64[100x2] [0 0.01 0.02 0.03 ... 1.99]" in text


# -- stages ----------------------------------------------------------------------------


def test_stages_show_each_step():
    text = tracing.stages(seed_f)
    assert "stage 1/3: normalized" in text
    assert "stage 2/3: transformed" in text
    assert "stage 3/3: final" in text
    core = text[text.index("stage 1/3") : text.index("stage 2/3")]
    assert "def f(x1, x2):" in core or "def seed_f(x1, x2):" in core
    assert "u1 = x1 ** 2" in core and "return u6" in core
    assert "__s2s_push__" in text
    assert text.rstrip().endswith(seed_f.source.rstrip())


def test_stages_of_a_helper_include_both_functions():
    text = tracing.stages(uses_helper)
    core = text[text.index("stage 1/3") : text.index("stage 2/3")]
    assert "def uses_helper(x):" in core and "def scale(v, s):" in core


# -- the command line ------------------------------------------------------------------


def test_cli_trace_prints_the_seed_table():
    proc = run_cli("--trace", "examples/seed.py:f", "2", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert re.search(r"u1 = x1 \*\* 2 +-> 4\n", out)
    assert re.search(r"u6 = x1 \* u5 +-> 0.238866\n", out)
    assert "df/dx1 = -0.358299" in out
    assert "df/dx2 = -0.119433" in out


def test_cli_trace_wrt_and_expressions():
    proc = run_cli(
        "--trace",
        "examples/oscillator.py:misfit",
        "3",
        "1",
        "simulate(4.0, 0.3, 3)",
        "--wrt",
        "k,c",
    )
    assert proc.returncode == 0, proc.stderr
    assert "observed = float64[3] [" in proc.stdout
    assert "df/dk = " in proc.stdout and "df/dc = " in proc.stdout


def test_cli_trace_bad_argument_is_a_clean_error():
    proc = run_cli("--trace", "examples/seed.py:f", "2", "no_such_name")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "no_such_name" in proc.stderr


def test_cli_show_source_stages():
    proc = run_cli("--show-source", "examples/seed.py:f", "--stages")
    assert proc.returncode == 0, proc.stderr
    assert "stage 1/3: normalized" in proc.stdout
    assert "def grad_f(x1, x2, seed=None):" in proc.stdout


# -- the README listing ------------------------------------------------------------------


def _listing_span(text: str) -> tuple[int, int]:
    start = text.index(TRACE_COMMAND)
    start = text.rindex("\n", 0, start) + 1
    match = re.match(r"(?:(?: {4}.*)?\n)+", text[start:])
    assert match
    return start, start + len(match.group(0).rstrip("\n")) + 1


def test_readme_trace_listing_is_the_real_output():
    proc = run_cli("--trace", "examples/seed.py:f", "2", "0.5")
    assert proc.returncode == 0, proc.stderr
    text = README_PATH.read_text(encoding="utf-8")
    start, end = _listing_span(text)
    lines = [TRACE_COMMAND] + proc.stdout.rstrip("\n").split("\n")
    block = "".join(f"    {line}".rstrip() + "\n" for line in lines)
    if UPDATE:
        README_PATH.write_text(text[:start] + block + text[end:], encoding="utf-8")
        text = README_PATH.read_text(encoding="utf-8")
    assert text[start : start + len(block)] == block, (
        "README.rst's --trace listing is not the real output; refresh it with "
        "S2S_AD_UPDATE_README=1 python -m pytest tests/test_trace.py"
    )
