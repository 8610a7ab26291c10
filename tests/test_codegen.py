"""Ahead-of-time code generation: standalone modules that work without s2s_ad.

The generated modules are imported in a child process where importing
s2s_ad fails (a finder on ``sys.meta_path`` refuses it), and their results
are compared with the gradients s2s_ad computes in this process.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2s_ad
from s2s_ad import codegen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: Child preamble: s2s_ad cannot be imported, the generated modules can.
BLOCK = """
import importlib.abc
import json
import sys

import numpy as np


class NoS2SAD(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "s2s_ad" or name.startswith("s2s_ad."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoS2SAD())
try:
    import s2s_ad
except ImportError:
    pass
else:
    raise SystemExit("s2s_ad is importable")


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return np.asarray(value, dtype=float).tolist()


def report(result):
    real = sorted(m for m in sys.modules if m.startswith("s2s_ad."))
    stand_in = getattr(sys.modules.get("s2s_ad"), "stand_in", False)
    print(json.dumps({"result": plain(result), "real": real, "stand_in": stand_in}))
"""


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return np.asarray(value, dtype=float).tolist()


def run(args: list[str], cwd: Path = ROOT, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=str(cwd),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        **kw,
    )


def codegen_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return run(["-m", "s2s_ad", "codegen", *args], cwd=cwd)


def run_without_s2s_ad(out_dir: Path, body: str) -> dict:
    """Run ``body`` in a child where s2s_ad cannot be imported; only the
    directory of the generated modules is on sys.path (not examples/)."""
    script = out_dir / "child_script.py"
    script.write_text(BLOCK + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=str(out_dir),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["real"] == [], "the generated module imported s2s_ad"
    return data


def load_example(name: str):
    """An example module, imported in this process under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        f"_codegen_ref_{name}", EXAMPLES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_close(actual, expected):
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected)
        for key in expected:
            assert_close(actual[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


# -- the examples ----------------------------------------------------------------------


def test_seed_example(tmp_path):
    out = tmp_path / "seed_grad.py"
    proc = codegen_cli("examples/seed.py", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = run_without_s2s_ad(
        tmp_path,
        """
        import seed_grad
        import seed  # found next to the generated module's source reference

        report([
            seed_grad.grad_f(2.0, 0.5),
            seed_grad.value_and_grad_f(2, 0.5),
            seed.f.grad(2.0, 0.5),
            seed.f(2.0, 0.5),
        ])
        """,
    )
    assert data["stand_in"] is True
    ref = load_example("seed")
    value, grads = ref.f.value_and_grad(2.0, 0.5)
    assert_close(data["result"], plain([grads, (value, grads), grads, value]))
    assert data["result"][0] == pytest.approx([-0.358299, -0.119433], abs=5e-7)


def test_logistic_regression_example(tmp_path):
    out = tmp_path / "lr_grad.py"
    proc = codegen_cli(
        "examples/logistic_regression.py",
        "-o",
        str(out),
        "--function",
        "loss:params",
        "--function",
        "predict:params:forward",
    )
    assert proc.returncode == 0, proc.stderr
    data = run_without_s2s_ad(
        tmp_path,
        """
        import lr_grad
        import logistic_regression as lr

        X, y = lr.make_data(40)
        params = {"w": np.array([0.3, -0.1]), "b": 0.2}
        tangent = {"w": np.array([1.0, 0.5]), "b": -1.0}
        report([
            lr_grad.value_and_grad_loss(params, X, y),
            lr_grad.grad_loss(params, X, y),
            lr_grad.jvp_predict((params, X), (tangent, None)),
        ])
        """,
    )
    ref = load_example("logistic_regression")
    X, y = ref.make_data(40)
    params = {"w": np.array([0.3, -0.1]), "b": 0.2}
    tangent = {"w": np.array([1.0, 0.5]), "b": -1.0}
    value, g = s2s_ad.value_and_grad(ref.loss)(params, X, y)
    jvp = s2s_ad.jvp(ref.predict, (params, X), (tangent, None))
    assert_close(data["result"], plain([(value, g), g, jvp]))


def test_oscillator_example(tmp_path):
    out = tmp_path / "osc_grad.py"
    proc = codegen_cli(
        "examples/oscillator.py", "-o", str(out), "--function", "misfit:k,c"
    )
    assert proc.returncode == 0, proc.stderr
    data = run_without_s2s_ad(
        tmp_path,
        """
        import osc_grad
        import oscillator

        observed = oscillator.simulate(4.0, 0.3, 40)
        report([
            osc_grad.value_and_grad_misfit(3.0, 1.0, observed),
            osc_grad.grad_misfit(k=3.5, c=0.5, observed=observed),
        ])
        """,
    )
    ref = load_example("oscillator")
    observed = ref.simulate(4.0, 0.3, 40)
    vg = s2s_ad.value_and_grad(ref.misfit, wrt=("k", "c"))
    expected = [vg(3.0, 1.0, observed), vg(3.5, 0.5, observed)[1]]
    assert_close(data["result"], plain(expected))


@pytest.mark.parametrize("name", ["seed", "logistic_regression", "oscillator"])
def test_generated_text_is_standalone_and_stable(tmp_path, name):
    functions = {
        "seed": [],
        "logistic_regression": ["--function", "loss:params"],
        "oscillator": ["--function", "misfit:k,c"],
    }[name]
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    for out in (first, second):
        proc = codegen_cli(f"examples/{name}.py", "-o", str(out), *functions)
        assert proc.returncode == 0, proc.stderr
    text = first.read_text()
    assert text == second.read_text()
    assert f'"{ROOT}' not in text  # no absolute paths: the text is portable
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(not a.name.startswith("s2s_ad") for a in node.names)
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("s2s_ad")
    assert "Source sha256: " in text.splitlines()[1]
    assert ast.get_docstring(tree)


def test_tools_script_writes_the_same_module(tmp_path):
    by_cli, by_tool = tmp_path / "cli.py", tmp_path / "tool.py"
    assert codegen_cli("examples/seed.py", "-o", str(by_cli)).returncode == 0
    proc = run(["tools/s2s_codegen.py", "examples/seed.py", "-o", str(by_tool)])
    assert proc.returncode == 0, proc.stderr
    assert by_cli.read_text() == by_tool.read_text()


# -- --check ------------------------------------------------------------------------------

MODULE = """
import numpy as np

from s2s_ad import differentiate


@differentiate
def f(x):
    return np.sin(x) * x


@differentiate(wrt=("a", "b"))
def g(a, b):
    return a * b + helper(b)


def helper(v):
    return v * v
"""


def test_check_names_the_stale_functions(tmp_path):
    source = tmp_path / "aot_mod.py"
    source.write_text(textwrap.dedent(MODULE))
    out = tmp_path / "aot_mod_grad.py"
    assert codegen_cli(str(source), "-o", str(out)).returncode == 0
    up_to_date = codegen_cli(str(source), "-o", str(out), "--check")
    assert up_to_date.returncode == 0, up_to_date.stderr
    assert "up to date" in up_to_date.stdout
    written = out.read_text()

    # An edit that changes no generated code keeps the module up to date.
    source.write_text(source.read_text() + "\n# a comment at the end\n")
    assert codegen_cli(str(source), "-o", str(out), "--check").returncode == 0

    # Editing the helper makes g stale, not f.
    source.write_text(source.read_text().replace("return v * v", "return v * v * v"))
    stale = codegen_cli(str(source), "-o", str(out), "--check")
    assert stale.returncode == 1
    assert "stale for: g " in stale.stderr
    assert out.read_text() == written  # --check writes nothing

    source.write_text(source.read_text().replace("np.sin(x) * x", "np.cos(x) * x"))
    stale = codegen_cli(str(source), "-o", str(out), "--check")
    assert stale.returncode == 1
    assert "stale for: f, g " in stale.stderr

    assert codegen_cli(str(source), "-o", str(out)).returncode == 0
    assert codegen_cli(str(source), "-o", str(out), "--check").returncode == 0


def test_check_of_a_missing_output(tmp_path):
    proc = codegen_cli("examples/seed.py", "-o", str(tmp_path / "nope.py"), "--check")
    assert proc.returncode == 1
    assert "stale for: f" in proc.stderr


def test_generated_module_sees_module_globals_at_call_time(tmp_path):
    source = tmp_path / "aot_globals.py"
    source.write_text("K = 2.0\n\n\ndef f(x):\n    return K * x * x\n")
    out = tmp_path / "aot_globals_grad.py"
    proc = codegen_cli(str(source), "-o", str(out), "--function", "f")
    assert proc.returncode == 0, proc.stderr
    data = run_without_s2s_ad(
        tmp_path,
        """
        import aot_globals
        import aot_globals_grad

        first = aot_globals_grad.grad_f(3.0)
        aot_globals.K = 5.0
        report([first, aot_globals_grad.grad_f(3.0)])
        """,
    )
    assert data["result"] == [12.0, 30.0]


def test_errors_are_reported_cleanly(tmp_path):
    source = tmp_path / "aot_empty.py"
    source.write_text("def f(x):\n    return x\n")
    proc = codegen_cli(str(source), "-o", str(tmp_path / "out.py"))
    assert proc.returncode == 1
    assert "nothing to generate" in proc.stderr and "Traceback" not in proc.stderr
    proc = codegen_cli(str(source), "--function", "nope")
    assert proc.returncode == 1 and "no function 'nope'" in proc.stderr
    proc = codegen_cli(str(tmp_path / "missing.py"))
    assert proc.returncode == 1 and "no such file" in proc.stderr


def test_generate_in_process_returns_text(tmp_path, monkeypatch):
    source = tmp_path / "aot_inproc.py"
    source.write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        text = codegen.generate(str(source), ["helper"])
    finally:
        sys.modules.pop("aot_inproc", None)
    assert "def grad_f" not in text  # raw functions are private...
    assert "def _grad_f(" in text and "def _grad_helper(" in text
    assert '__all__ = ["grad_f", "value_and_grad_f", "grad_g", ' in text
    compile(text, "<generated>", "exec")
