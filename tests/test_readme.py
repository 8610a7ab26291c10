"""README.rst stays true: its commands, and its listings of generated code.

Its ``>>>`` examples run as doctests in the same pytest run (setup.cfg adds
README.rst to testpaths and collects ``*.rst`` files as doctests).

The listings of generated code are golden files kept inside the README.
When the code generator changes on purpose, refresh them and review the
diff::

    S2S_AD_UPDATE_README=1 python -m pytest tests/test_readme.py
    git diff README.rst
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from s2s_ad import cli

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.rst"
UPDATE = os.environ.get("S2S_AD_UPDATE_README") == "1"

SEED_COMMAND = "$ python -m s2s_ad --show-source examples/seed.py:f"
#: (text just before the ``::`` of the listing, whether its first line is
#: the command that prints it)
SEED_LISTING = ("for any function in a file", True)
LOOP_LISTING = ("Its derivative, as ``python -m s2s_ad", False)


def readme() -> str:
    return README_PATH.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The body of the README section called ``title``."""
    lines = readme().splitlines()
    start = lines.index(title) + 2  # skip the underline
    for i in range(start, len(lines) - 1):
        text, underline = lines[i], lines[i + 1]
        is_underline = underline and set(underline) <= set("=-~")
        if text and is_underline and len(underline) >= len(text):
            return "\n".join(lines[start:i])
    return "\n".join(lines[start:])


def console_commands(text: str) -> list[str]:
    return [line.strip()[2:] for line in text.splitlines() if line.strip()[:2] == "$ "]


def _block_span(text: str, marker: str) -> tuple[int, int]:
    """Start and end offsets of the indented block of the ``::`` after marker."""
    colons = text.index("::\n\n", text.index(marker)) + 4
    match = re.match(r"(?:(?: {4}.*)?\n)+", text[colons:])
    assert match, f"no literal block after {marker!r}"
    end = colons + len(match.group(0).rstrip("\n")) + 1
    return colons, end


def listing(marker: str, has_command: bool) -> str:
    start, end = _block_span(readme(), marker)
    lines = [line[4:] for line in readme()[start:end].splitlines()]
    if has_command:
        assert lines[0] == SEED_COMMAND
        lines = lines[1:]
    return "\n".join(lines) + "\n"


def write_listing(marker: str, has_command: bool, body: str) -> None:
    text = readme()
    start, end = _block_span(text, marker)
    lines = ([SEED_COMMAND] if has_command else []) + body.rstrip("\n").split("\n")
    block = "".join(f"    {line}".rstrip() + "\n" for line in lines)
    README_PATH.write_text(text[:start] + block + text[end:], encoding="utf-8")


def show_source(target: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--show-source", target]) == 0
    return out.getvalue()


def doctest_function(name: str) -> str:
    """Source of the function ``name`` defined in a README doctest."""
    lines = readme().splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(f">>> def {name}("))
    body = [lines[start][4:]]
    for line in lines[start + 1 :]:
        if not line.startswith("..."):
            break
        body.append(line[4:])
    return "\n".join(body) + "\n"


def check_listing(marker: str, has_command: bool, actual: str, how: str) -> None:
    if UPDATE:
        write_listing(marker, has_command, actual)
    expected = listing(marker, has_command)
    assert expected == actual, (
        f"README.rst's listing after {marker!r} is not what {how} prints; "
        "refresh it with S2S_AD_UPDATE_README=1 python -m pytest "
        "tests/test_readme.py and review the diff"
    )


# ---------------------------------------------------------------------------


def test_quick_start_has_exactly_two_commands():
    commands = console_commands(section("Quick start"))
    assert len(commands) == 2, commands
    install_and_demo, install_and_test = commands
    assert "examples/seed.py" in install_and_demo
    assert "pytest" in install_and_test


def test_ci_runs_the_quick_start_test_command_verbatim():
    test_command = console_commands(section("Quick start"))[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().split("\n")]
    assert test_command in ci_lines


def test_seed_listing_is_the_real_output():
    actual = show_source(f"{ROOT / 'examples' / 'seed.py'}:f")
    check_listing(*SEED_LISTING, actual, "--show-source examples/seed.py:f")


def test_loop_listing_is_the_real_output(tmp_path):
    module = tmp_path / "readme_loop.py"
    module.write_text("import numpy as np\n\n\n" + doctest_function("power_sum"))
    actual = show_source(f"{module}:power_sum")
    check_listing(*LOOP_LISTING, actual, "--show-source on power_sum")


@pytest.mark.parametrize(
    "script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name
)
def test_examples_are_listed(script):
    assert f"examples/{script.name}" in section("Examples")


@pytest.mark.parametrize(
    "workload, function, wrt, marker",
    [
        # The reverse loop made for the rnn's float64 arrays.
        ("rnn", "rnn_loss", ("Wx", "Wh"), "reads like the hand-written one"),
        # The reverse loop made for scalar_loop's Python floats.
        (
            "scalar_loop",
            "oscillator",
            ("k", "c"),
            "reads like its hand-written gradient",
        ),
    ],
)
def test_benchmark_excerpts_are_in_the_real_output(workload, function, wrt, marker):
    # An excerpt, comments left out, of the code made for the benchmark's
    # arguments.
    import importlib

    import s2s_ad

    module = importlib.import_module(f"benchmarks.workloads.{workload}")
    vg = s2s_ad.value_and_grad(getattr(module, function), wrt=wrt)
    vg(*module.make_args())
    generated = [line[4:] for line in vg.source.splitlines() if "#" not in line]
    excerpt = listing(marker, False).splitlines()
    start = generated.index(excerpt[0])
    assert generated[start : start + len(excerpt)] == excerpt
