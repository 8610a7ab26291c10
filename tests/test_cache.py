"""The in-memory cache: one transformation per (sources, options)."""

from __future__ import annotations

import importlib
import sys
import textwrap

import numpy as np
import pytest

import s2s_ad
from s2s_ad import cache_info, grad


def cube(x):
    return x * x * x


def test_second_request_is_a_hit():
    grad(cube)(2.0)
    before = cache_info()
    assert grad(cube)(2.0) == pytest.approx(12.0)
    after = cache_info()
    assert after["misses"] == before["misses"]
    assert after["hits"] == before["hits"] + 1


def test_different_wrt_is_a_different_entry():
    def two(x, y):
        return x * y

    grad(two, wrt=0)(1.0, 2.0)
    before = cache_info()
    assert grad(two, wrt=1)(1.0, 2.0) == pytest.approx(1.0)
    assert cache_info()["misses"] == before["misses"] + 1


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("cache_user_mod", "cache_helper_mod"):
        sys.modules.pop(name, None)


def _write(path, text):
    path.write_text(textwrap.dedent(text))
    importlib.invalidate_caches()


def test_editing_the_function_source_transforms_again(module_dir):
    path = module_dir / "cache_user_mod.py"
    _write(path, "def f(x):\n    return x * x\n")
    import cache_user_mod

    assert grad(cache_user_mod.f)(3.0) == pytest.approx(6.0)
    _write(path, "def f(x):\n    return x * x * x\n")
    before = cache_info()
    importlib.reload(cache_user_mod)
    assert grad(cache_user_mod.f)(3.0) == pytest.approx(27.0)
    assert cache_info()["misses"] == before["misses"] + 1


def test_editing_a_helper_source_transforms_again(module_dir):
    helper = module_dir / "cache_helper_mod.py"
    _write(helper, "def h(x):\n    return 2.0 * x\n")
    user = module_dir / "cache_user_mod.py"
    _write(
        user,
        "import cache_helper_mod\n\ndef f(x):\n    return cache_helper_mod.h(x) * x\n",
    )
    import cache_helper_mod
    import cache_user_mod

    assert grad(cache_user_mod.f)(3.0) == pytest.approx(12.0)
    _write(helper, "def h(x):\n    return 10.0 * x\n")
    importlib.reload(cache_helper_mod)
    before = cache_info()
    assert grad(cache_user_mod.f)(3.0) == pytest.approx(60.0)
    assert cache_info()["misses"] == before["misses"] + 1


def test_closures_share_code_but_not_values():
    def make(scale):
        def f(x):
            return scale * x * x

        return f

    assert grad(make(2.0))(1.0) == pytest.approx(4.0)
    before = cache_info()
    assert grad(make(5.0))(1.0) == pytest.approx(10.0)
    assert cache_info()["misses"] == before["misses"]


def test_module_globals_are_read_at_call_time(module_dir):
    path = module_dir / "cache_user_mod.py"
    _write(path, "K = 2.0\n\ndef f(x):\n    return K * x * x\n")
    import cache_user_mod

    g = grad(cache_user_mod.f)
    assert g(1.0) == pytest.approx(4.0)
    cache_user_mod.K = 3.0
    assert g(1.0) == pytest.approx(6.0)


def test_cache_info_keys():
    info = s2s_ad.cache_info()
    assert {"hits", "misses", "memory_hits"} <= set(info)


def test_closure_cells_are_read_at_call_time():
    scale = 2.0

    def f(x):
        return scale * x * x

    g = grad(f)
    assert g(1.0) == pytest.approx(4.0)
    scale = 3.0  # the generated code shares f's cell, not a copy of it
    assert g(1.0) == pytest.approx(6.0)


def test_generated_code_uses_the_module_dict_as_globals():
    # Reading globals through a plain dict keeps LOAD_GLOBAL on its fast path.
    def f(x):
        return np.sin(x) * x

    g = grad(f)
    g(1.0)
    generated = g.__s2s_function__()
    assert type(generated.__globals__) is dict
    assert generated.__globals__ is f.__globals__
