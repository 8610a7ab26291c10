"""SUPPORTED.rst lists exactly what the registry holds."""

from __future__ import annotations

from pathlib import Path

from tools.supported_functions import render

ROOT = Path(__file__).resolve().parent.parent


def _entries(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.startswith("- ")}


def test_supported_list_is_current():
    # Every rule registered here is listed (older NumPy versions register a
    # few functions fewer, so the file may list more).
    missing = _entries(render()) - _entries((ROOT / "SUPPORTED.rst").read_text())
    assert not missing, f"run python tools/supported_functions.py; missing {missing}"


def test_supported_list_is_long():
    text = render()
    assert text.count("(reverse, forward)") >= 160
