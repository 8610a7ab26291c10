"""The persistent cache, seen from several processes.

Every test uses its own cache directory through ``S2S_AD_CACHE_DIR`` (the
suite as a whole uses a private one, see conftest.py), never the user's.
What happened in a process is read from the ``cache_info()`` it prints: a
miss is a transformation actually run, a disk hit is an entry loaded.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2s_ad
from s2s_ad import cache, diskcache, grad

ROOT = Path(__file__).resolve().parent.parent

HELPER = """
def h(x):
    return 2.0 * x * x
"""

USER = """
import numpy as np

import dc_helper


def f(x, y):
    return dc_helper.h(x) * np.sin(y)
"""

CHILD = """
import json
import sys

import dc_user
from s2s_ad import cache_info, value_and_grad

value, grads = value_and_grad(dc_user.f, wrt=(0, 1))(1.5, 0.3)
info = cache_info()
print(json.dumps({
    "value": float(value),
    "grads": [float(g) for g in grads],
    "disk_hits": info["disk_hits"],
    "misses": info["misses"],
    "disk_dir": info["disk_dir"],
}))
"""


def expected(scale: float = 2.0) -> tuple[float, list[float]]:
    x, y = 1.5, 0.3
    return scale * x * x * np.sin(y), [
        2 * scale * x * np.sin(y),
        scale * x * x * np.cos(y),
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with a user module calling a helper in another module."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "dc_helper.py").write_text(textwrap.dedent(HELPER))
    (src / "dc_user.py").write_text(textwrap.dedent(USER))
    (src / "child.py").write_text(textwrap.dedent(CHILD))
    return src


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def child_env(cache_dir: Path | str, src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["S2S_AD_CACHE_DIR"] = str(cache_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(src)])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(
    src: Path, cache_dir: Path | str
) -> tuple[dict, subprocess.CompletedProcess]:
    proc = subprocess.run(
        [sys.executable, str(src / "child.py")],
        cwd=str(src),
        env=child_env(cache_dir, src),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if p.suffix == ".json")


def check_result(result: dict, scale: float = 2.0) -> None:
    value, grads = expected(scale)
    assert result["value"] == pytest.approx(value)
    assert result["grads"] == pytest.approx(grads)


# -- across processes ------------------------------------------------------------------


def test_second_process_loads_from_disk(project, cache_dir):
    first, _ = run_child(project, cache_dir)
    check_result(first)
    assert (first["misses"], first["disk_hits"]) == (1, 0)
    assert first["disk_dir"] == str(cache_dir)
    assert len(entries(cache_dir)) == 1

    second, _ = run_child(project, cache_dir)
    check_result(second)
    assert (second["misses"], second["disk_hits"]) == (0, 1)


def test_editing_a_helper_source_transforms_again(project, cache_dir):
    run_child(project, cache_dir)
    helper = project / "dc_helper.py"
    helper.write_text(helper.read_text().replace("2.0 * x * x", "5.0 * x * x"))
    edited, _ = run_child(project, cache_dir)
    check_result(edited, scale=5.0)
    assert (edited["misses"], edited["disk_hits"]) == (1, 0)
    again, _ = run_child(project, cache_dir)
    check_result(again, scale=5.0)
    assert (again["misses"], again["disk_hits"]) == (0, 1)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not json at all")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _tamper(path: Path) -> None:
    """Valid JSON whose generated text was changed (the stored hash was not)."""
    entry = json.loads(path.read_text())
    unit = entry["body"]["units"][0]
    unit["text"] += "\nimport os\nos._exit(42)\n"
    path.write_text(json.dumps(entry))


def _wrong_key(path: Path) -> None:
    """A well-formed entry for another request, copied under this key."""
    entry = json.loads(path.read_text())
    entry["body"]["key"] = "0" * 64
    entry["sha256"] = diskcache._body_digest(entry["body"])
    path.write_text(json.dumps(entry))


@pytest.mark.parametrize(
    "damage",
    [_truncate, _garbage, _empty, _tamper, _wrong_key],
    ids=["truncated", "garbage", "empty", "tampered", "wrong-key"],
)
def test_damaged_entries_are_ignored_and_regenerated(project, cache_dir, damage):
    run_child(project, cache_dir)
    (entry,) = entries(cache_dir)
    damage(entry)
    result, proc = run_child(project, cache_dir)  # exit status 42 if executed
    check_result(result)
    assert (result["misses"], result["disk_hits"]) == (1, 0)
    if damage is not _wrong_key:
        assert "s2s_ad: ignoring" in proc.stderr
    # The fresh transformation replaced the damaged entry.
    again, _ = run_child(project, cache_dir)
    assert (again["misses"], again["disk_hits"]) == (0, 1)


def test_concurrent_writers(project, cache_dir):
    env = child_env(cache_dir, project)
    procs = [
        subprocess.Popen(
            [sys.executable, str(project / "child.py")],
            cwd=str(project),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, out + err
        check_result(json.loads(out.strip().splitlines()[-1]))
    names = sorted(p.name for p in cache_dir.iterdir())
    assert len(names) == 1 and names[0].endswith(".json"), names  # no temp files
    after, _ = run_child(project, cache_dir)
    assert (after["misses"], after["disk_hits"]) == (0, 1)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_directory_writable_by_others_is_refused(project, cache_dir):
    cache_dir.mkdir()
    os.chmod(cache_dir, 0o777)
    result, proc = run_child(project, cache_dir)
    check_result(result)
    assert "writable by others" in proc.stderr
    assert result["disk_dir"] is None
    assert list(cache_dir.iterdir()) == []
    os.chmod(cache_dir, 0o700)
    result, proc = run_child(project, cache_dir)
    assert "writable by others" not in proc.stderr
    assert result["disk_dir"] == str(cache_dir)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_an_entry_writable_by_others_is_ignored(project, cache_dir):
    run_child(project, cache_dir)
    (entry,) = entries(cache_dir)
    os.chmod(entry, 0o666)
    result, _ = run_child(project, cache_dir)
    assert (result["misses"], result["disk_hits"]) == (1, 0)


def test_off_disables_the_disk_cache(project, tmp_path):
    result, _ = run_child(project, "off")
    check_result(result)
    assert result["disk_dir"] is None
    assert not (project / "off").exists()


def test_new_directory_is_private(project, cache_dir):
    run_child(project, cache_dir / "nested")
    mode = stat.S_IMODE((cache_dir / "nested").stat().st_mode)
    if os.name == "posix":
        assert mode & 0o077 == 0
        (entry,) = entries(cache_dir / "nested")
        assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0


# -- in this process -------------------------------------------------------------------


def quartic(x):
    return x**4 + 3.0 * x


def test_set_cache_dir_and_clear(tmp_path):
    try:
        s2s_ad.set_cache_dir(tmp_path / "here")
        cache.clear()
        assert grad(quartic)(1.0) == pytest.approx(7.0)
        assert s2s_ad.cache_info()["disk_dir"] == str(tmp_path / "here")
        assert len(entries(tmp_path / "here")) == 1
        info = diskcache.info()
        assert info["enabled"] and info["entries"] == 1 and info["bytes"] > 0
        # Memory forgotten: the next request is a disk hit, not a miss.
        cache.clear()
        assert grad(quartic)(2.0) == pytest.approx(35.0)
        assert s2s_ad.cache_info()["disk_hits"] == 1
        assert s2s_ad.cache_info()["misses"] == 0
        (tmp_path / "here" / "notes.txt").write_text("not ours")
        assert diskcache.clear() == 1
        assert entries(tmp_path / "here") == []
        assert (tmp_path / "here" / "notes.txt").exists()  # only entries deleted
        s2s_ad.set_cache_dir(None)
        cache.clear()
        grad(quartic)(1.0)
        assert s2s_ad.cache_info()["disk_dir"] is None
        assert entries(tmp_path / "here") == []
    finally:
        s2s_ad.set_cache_dir()
        cache.clear()


def cubic(x):
    return x**3


def test_unimportable_injections_are_not_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "object_reference", lambda obj: None)
    try:
        s2s_ad.set_cache_dir(tmp_path)
        cache.clear()
        assert grad(cubic)(2.0) == pytest.approx(12.0)
        assert entries(tmp_path) == []
    finally:
        s2s_ad.set_cache_dir()
        cache.clear()


def test_the_suite_uses_a_private_cache():
    configured = os.environ["S2S_AD_CACHE_DIR"]
    assert str(diskcache.default_cache_dir()) != configured
    assert diskcache.configured_dir() == (Path(configured), "S2S_AD_CACHE_DIR")


def test_default_directory_per_platform(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert diskcache.default_cache_dir() == tmp_path / "xdg" / "s2s_ad"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert diskcache.default_cache_dir() == Path.home() / ".cache" / "s2s_ad"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert diskcache.default_cache_dir() == Path.home() / "Library/Caches/s2s_ad"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert diskcache.default_cache_dir() == tmp_path / "local" / "s2s_ad" / "Cache"


def test_object_references():
    import math

    assert diskcache.object_reference(np) == ("numpy", "")
    assert diskcache.object_reference(np.exp) == ("numpy", "exp")
    assert diskcache.object_reference(math.sin) == ("math", "sin")
    assert diskcache.object_reference(diskcache.clear) == ("s2s_ad.diskcache", "clear")
    assert diskcache.object_reference(lambda x: x) is None
    assert diskcache.object_reference(object()) is None
    assert diskcache.resolve_reference("numpy", "linalg.norm") is np.linalg.norm


# -- the command line ------------------------------------------------------------------


def cli(cache_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = child_env(cache_dir, ROOT)
    return subprocess.run(
        [sys.executable, "-m", "s2s_ad", *args],
        cwd=str(ROOT),
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_cache_info_and_clear(project, cache_dir):
    run_child(project, cache_dir)
    info = cli(cache_dir, "cache", "info")
    assert info.returncode == 0, info.stderr
    assert f"directory: {cache_dir}" in info.stdout
    assert "in use" in info.stdout
    assert "entries:   1 " in info.stdout
    cleared = cli(cache_dir, "cache", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "removed 1 entries" in cleared.stdout
    assert entries(cache_dir) == []
    other = cache_dir.parent / "other"
    info = cli(cache_dir, "cache", "info", "--cache-dir", str(other))
    assert f"directory: {other}" in info.stdout
    off = cli(cache_dir, "cache", "info", "--cache-dir", "off")
    assert "disabled" in off.stdout


def test_cli_cache_dir_option(cache_dir):
    proc = cli(
        cache_dir.parent / "unused",
        "--show-source",
        "examples/seed.py:f",
        "--cache-dir",
        str(cache_dir),
    )
    assert proc.returncode == 0, proc.stderr
    assert len(entries(cache_dir)) == 1
