"""Shared pytest configuration for the s2s_ad test suite."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator, so every run draws the same arguments."""
    return np.random.default_rng(20240601)
