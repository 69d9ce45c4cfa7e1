"""numba's cache folder: one per environment under the engine's root; numba's own variable wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sfa_sidecar import jit_cache

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def test_folder_is_keyed_by_environment_under_the_engines_root(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv(jit_cache.ROOT_VARIABLE, str(tmp_path))
    chosen = jit_cache.configure()
    assert Path(chosen).parent == tmp_path
    assert Path(chosen).name == jit_cache.environment_key()
    assert os.environ["NUMBA_CACHE_DIR"] == chosen


def test_another_numba_gets_another_folder(monkeypatch):
    before = jit_cache.environment_key()
    real = jit_cache._version
    monkeypatch.setattr(jit_cache, "_version", lambda p: "0.0.0" if p == "numba" else real(p))
    assert jit_cache.environment_key() != before


def test_a_users_numba_cache_dir_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv(jit_cache.ROOT_VARIABLE, str(tmp_path / "root"))
    assert jit_cache.configure() == str(tmp_path / "mine")


def test_numba_compiles_into_the_keyed_folder(tmp_path):
    """A real Python process: numba writes its cache where configure() pointed it."""
    script = tmp_path / "kernel.py"
    script.write_text("import os\nfrom sfa_sidecar import jit_cache\njit_cache.configure()\nimport numba\n\n"
                      "@numba.njit(cache=True)\ndef f(x):\n    return x + 1\n\nf(1)\nprint(os.environ['NUMBA_CACHE_DIR'])\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env[jit_cache.ROOT_VARIABLE] = str(tmp_path / "root")
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder.parent == tmp_path / "root"
    assert any(p.suffix == ".nbi" for p in folder.rglob("*"))
