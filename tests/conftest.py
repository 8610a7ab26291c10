"""Shared pytest configuration for the s2s_ad test suite."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import s2s_ad

_CACHE_DIR: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Keep the suite away from the user's on-disk cache: every test, and
    every subprocess a test starts (they inherit the environment), uses a
    private temporary cache directory, set before collection."""
    path = tempfile.mkdtemp(prefix="s2s_ad_test_cache_")
    _CACHE_DIR.append(path)
    os.environ["S2S_AD_CACHE_DIR"] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    for path in _CACHE_DIR:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator, so every run draws the same arguments."""
    return np.random.default_rng(20240601)


@pytest.fixture
def pass_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``pass_off(module, name, replacement)`` switches an optimisation pass
    off for the rest of the test. No cache may then answer with code made
    with the pass: the disk cache is off, the in-memory one emptied (and
    emptied again afterwards, forgetting the code made without it)."""

    def switch_off(module: Any, name: str, replacement: Any) -> None:
        monkeypatch.setenv("S2S_AD_CACHE_DIR", "off")
        monkeypatch.setattr(module, name, replacement)
        s2s_ad.cache.clear()

    yield switch_off
    s2s_ad.cache.clear()
