"""bench/gpu.py on a machine without CUDA: it runs the separation path on the CPU with a tiny
model, says it is waiting for a GPU and prints its BENCH line; the gate budgets it reports are
read from gpu-gate.ts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "bench" / "gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gate_budgets_come_from_the_engine():
    bench = load_bench()
    assert bench.gate_budget("htdemucs") == 4 * 2**30
    assert bench.gate_budget("mdx_extra") == 7 * 2**30


def test_without_cuda_the_cpu_path_runs_and_waits_for_a_gpu(tmp_path):
    env = dict(os.environ, SFA_BENCH_GPU_FORCE_CPU="1", SFA_BENCH_GPU_CACHE=str(tmp_path))
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu.py")], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert any("waiting for a GPU" in line for line in lines)
    assert lines[-1].startswith("BENCH gpu cuda=none cpu_check=ok") and "device=cpu" in lines[-1]
    assert "CPU path check: tiny on cpu" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "cpu").iterdir()) == ["bass.wav", "drums.wav", "other.wav",
                                                                          "vocals.wav"]
