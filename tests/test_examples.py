"""Every script in examples/ runs, succeeds and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

#: Lines each example must print.  A new example needs an entry here.
EXPECTED = {
    "seed.py": [
        "value       0.238866",
        "df/dx1     -0.358299",
        "df/dx2     -0.119433",
        "def ",
        "matches the seed's numbers",
    ],
    "logistic_regression.py": [
        "gradient check: max |s2s_ad - finite differences|",
        "step 200",
        "training accuracy",
    ],
    "oscillator.py": [
        "d misfit/dk",
        "step  60",
        "recovered k = 4.000 (true 4.0), c = 0.300 (true 0.3)",
    ],
}


def test_every_example_has_expectations():
    assert sorted(p.name for p in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=str(ROOT),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    for text in EXPECTED[script.name]:
        assert text in proc.stdout, f"{text!r} missing from:\n{proc.stdout}"
    # Examples are meant to finish in about a second; this only catches hangs
    # and gross slowdowns without being flaky on a busy CI machine.
    assert elapsed < 30, f"{script.name} took {elapsed:.1f} s"
