"""The command-line interface, run as a user runs it: ``python -m s2s_ad``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import s2s_ad
from s2s_ad import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = "examples/seed.py"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # Import this checkout's s2s_ad even when cwd is elsewhere.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return subprocess.run(
        [sys.executable, "-m", "s2s_ad", *args],
        cwd=str(cwd),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def assert_clean_failure(proc: subprocess.CompletedProcess, status: int = 1) -> None:
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


# --- show-source ----------------------------------------------------------


def test_show_source_of_decorated_seed():
    proc = run("--show-source", f"{SEED}:f")
    assert proc.returncode == 0, proc.stderr
    assert "def " in proc.stdout
    # Loading the file must not run its __main__ demo.
    assert "seed's numbers" not in proc.stdout
    assert proc.stderr == ""


def test_show_source_with_arguments_takes_a_seed_only_when_one_is_given(tmp_path):
    path = write(
        tmp_path,
        "seeded.py",
        """
        import numpy as np
        from s2s_ad import differentiate

        def plain(x):
            return np.sum(2.0 * x)

        @differentiate(seed=np.array([1.0, 2.0]))
        def double(x):
            return 2.0 * x
        """,
    )
    for target, header in (
        ("plain", "def grad_plain(x):"),
        ("double", "def grad_double(x, seed=None):"),
    ):
        for extra in ((), ("--stages",)):
            proc = run("--show-source", f"{path}:{target}", "[1.0, 2.0]", *extra)
            assert proc.returncode == 0, proc.stderr
            assert header in proc.stdout


def test_show_source_is_valid_python():
    proc = run("--show-source", f"{SEED}:f")
    assert proc.returncode == 0, proc.stderr
    compile(proc.stdout, "<generated>", "exec")


def test_wrt_names_match_the_decorator():
    default = run("--show-source", f"{SEED}:f")
    explicit = run("--show-source", f"{SEED}:f", "--wrt", "x1,x2")
    assert explicit.returncode == 0, explicit.stderr
    assert "def " in explicit.stdout
    assert explicit.stdout == default.stdout


def test_wrt_index():
    by_index = run("--show-source", f"{SEED}:f", "--wrt", "0")
    assert by_index.returncode == 0, by_index.stderr
    assert "def " in by_index.stdout
    by_name = run("--show-source", f"{SEED}:f", "--wrt", "x1")
    assert by_name.returncode == 0, by_name.stderr
    assert by_index.stdout == by_name.stdout


def test_plain_function_defaults_to_first_parameter(tmp_path):
    write(
        tmp_path,
        "plain.py",
        """
        import numpy as np

        def g(a, b):
            return np.sin(a) * b
        """,
    )
    default = run("--show-source", "plain.py:g", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    first = run("--show-source", "plain.py:g", "--wrt", "a", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert default.stdout == first.stdout
    both = run("--show-source", "plain.py:g", "--wrt", "a,b", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert both.stdout != first.stdout


def test_dotted_function_path_and_sibling_import(tmp_path):
    write(
        tmp_path,
        "helpers.py",
        """
        SCALE = 3.0
        """,
    )
    write(
        tmp_path,
        "model.py",
        """
        import numpy as np
        from helpers import SCALE

        class Model:
            @staticmethod
            def loss(w):
                return SCALE * np.sum(w * w)
        """,
    )
    proc = run("--show-source", "model.py:Model.loss", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "def " in proc.stdout


def test_file_in_another_directory(tmp_path):
    write(tmp_path, "other.py", "def h(x):\n    return x * x\n")
    proc = run("--show-source", f"{tmp_path / 'other.py'}:h")
    assert proc.returncode == 0, proc.stderr
    assert "def " in proc.stdout


# --- failures -------------------------------------------------------------


def test_unknown_function():
    proc = run("--show-source", f"{SEED}:no_such_function")
    assert_clean_failure(proc)
    assert "no_such_function" in proc.stderr


def test_missing_file(tmp_path):
    proc = run("--show-source", "does_not_exist.py:f", cwd=tmp_path)
    assert_clean_failure(proc)
    assert "does_not_exist.py" in proc.stderr


def test_target_without_function():
    proc = run("--show-source", SEED)
    assert_clean_failure(proc)
    assert "FILE:FUNC" in proc.stderr


def test_unsupported_syntax_reports_file_and_line(tmp_path):
    write(
        tmp_path,
        "bad_try.py",
        """
        import numpy as np


        def f(x):
            try:
                y = np.sin(x)
            except ValueError:
                y = x
            return y
        """,
    )
    proc = run("--show-source", "bad_try.py:f", cwd=tmp_path)
    assert_clean_failure(proc)
    assert "bad_try.py" in proc.stderr
    assert "line 5" in proc.stderr
    assert "try" in proc.stderr


def test_unsupported_syntax_in_decorated_function(tmp_path):
    write(
        tmp_path,
        "bad_with.py",
        """
        import contextlib

        from s2s_ad import differentiate


        @differentiate(wrt=("x",))
        def f(x):
            with contextlib.suppress(ValueError):
                x = x * 2.0
            return x
        """,
    )
    proc = run("--show-source", "bad_with.py:f", cwd=tmp_path)
    assert_clean_failure(proc)
    assert "bad_with.py" in proc.stderr
    assert "line 8" in proc.stderr


def test_unknown_wrt_name():
    proc = run("--show-source", f"{SEED}:f", "--wrt", "x9")
    assert_clean_failure(proc)
    assert "x9" in proc.stderr


def test_error_while_importing_the_file(tmp_path):
    write(tmp_path, "broken.py", "import numpy as np\n\nraise RuntimeError('boom')\n")
    proc = run("--show-source", "broken.py:f", cwd=tmp_path)
    assert_clean_failure(proc)
    assert "boom" in proc.stderr
    assert "line 3" in proc.stderr


def test_syntax_error_in_the_file(tmp_path):
    write(tmp_path, "typo.py", "def f(x:\n    return x\n")
    proc = run("--show-source", "typo.py:f", cwd=tmp_path)
    assert_clean_failure(proc)
    assert "typo.py" in proc.stderr


@pytest.mark.parametrize("wrt", ["x1,,x2", "x-1", ""])
def test_malformed_wrt_is_a_usage_error(wrt):
    proc = run("--show-source", f"{SEED}:f", "--wrt", wrt)
    assert_clean_failure(proc, status=2)
    assert "--wrt" in proc.stderr


def test_no_action_is_a_usage_error():
    proc = run()
    assert_clean_failure(proc, status=2)
    assert "usage:" in proc.stderr


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert s2s_ad.__version__ in proc.stdout


# --- in-process -----------------------------------------------------------


def test_main_returns_status(capsys):
    assert cli.main(["--version"]) == 0
    assert s2s_ad.__version__ in capsys.readouterr().out
    assert cli.main(["--show-source", "nowhere.py:f"]) == 1
    assert "nowhere.py" in capsys.readouterr().err
    assert cli.main(["--bogus"]) == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x1,x2", ("x1", "x2")),
        ("0", (0,)),
        (" a , 1 ", ("a", 1)),
    ],
)
def test_parse_wrt(text, expected):
    assert cli.parse_wrt(text) == expected


def test_split_target_uses_last_colon():
    assert cli.split_target(r"C:\models\m.py:Model.loss") == (
        r"C:\models\m.py",
        "Model.loss",
    )


def _console_script() -> str | None:
    """The installed ``s2s-ad`` of this interpreter, if s2s_ad is installed."""
    beside = Path(sys.executable).parent / "s2s-ad"
    if beside.exists():
        return str(beside)
    return shutil.which("s2s-ad")


@pytest.mark.skipif(_console_script() is None, reason="s2s_ad is not installed")
def test_console_script():
    proc = subprocess.run(
        [_console_script(), "--version"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("s2s-ad ")
