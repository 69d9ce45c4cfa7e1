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


def test_each_venv_gets_its_own_folder(tmp_path):
    """Two venvs made from one base interpreter (their python links to the same file) differ."""
    import venv

    keys = set()
    for name in ("a", "b"):
        venv.create(tmp_path / name, with_pip=False, symlinks=True)
        python = tmp_path / name / ("Scripts" if os.name == "nt" else "bin") / "python"
        out = subprocess.run([str(python), "-c", "from sfa_sidecar import jit_cache; print(jit_cache.environment_key())"],
                             env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}, capture_output=True, text=True, check=True)
        keys.add(out.stdout.strip())
    assert len(keys) == 2


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


def test_exclusive_holds_off_every_other_process(tmp_path):
    """Two processes each hold the lock 0.5 s and log when: the spans never overlap."""
    log = tmp_path / "spans.txt"
    code = ("import sys, time; from sfa_sidecar import jit_cache\n"
            "with jit_cache.exclusive():\n"
            "    start = time.monotonic(); time.sleep(0.5)\n"
            "    open(sys.argv[1], 'a').write(f'{start} {time.monotonic()}\\n')\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update({jit_cache.ROOT_VARIABLE: str(tmp_path / "root"), "PYTHONPATH": str(PACKAGE_ROOT)})
    procs = [subprocess.Popen([sys.executable, "-c", code, str(log)], env=env) for _ in range(3)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 3
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))


def test_compile_once_runs_once_per_process(monkeypatch, tmp_path):
    monkeypatch.setattr(jit_cache, "_compiled", False)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv(jit_cache.ROOT_VARIABLE, str(tmp_path))
    calls = []
    jit_cache.compile_once(lambda: calls.append(1))
    jit_cache.compile_once(lambda: calls.append(2))
    assert calls == [1]
