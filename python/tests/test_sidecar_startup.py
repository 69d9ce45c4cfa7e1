"""A sidecar's start imports no heavy library: the engine starts one per job slot, and a job that
times out or is cancelled while its sidecar is still starting never reaches the op (the engine
sends the request only after the hello). scipy.signal alone took 5 s to import on a loaded
2-core machine, which made every analysis sidecar start that slowly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_ROOT = Path(__file__).resolve().parent.parent

# Imported by ops when they run, never for the op list or the hello.
HEAVY = ("scipy", "librosa", "numba", "sklearn", "torch", "demucs", "soundfile", "threadpoolctl")

# What ``python -m sfa_sidecar`` imports before its hello (__main__.main), then the loaded modules.
STARTUP = f"""
import json, sys
from sfa_sidecar.protocol import Channel
from sfa_sidecar import jit_cache, environment, PROTOCOL_VERSION
from sfa_sidecar.server import Server
from sfa_sidecar.ops import registry
ops = registry()
environment.versions()
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"ops": sorted(ops), "heavy": heavy}}))
"""


def test_the_op_list_and_hello_import_no_heavy_library():
    out = subprocess.run([sys.executable, "-c", STARTUP], cwd=PYTHON_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "analyze" in loaded["ops"] and "separate" in loaded["ops"]
    assert loaded["heavy"] == []


ARENAS = """
import ctypes, sys, threading
from sfa_sidecar import allocator
if sys.argv[1] == "one":
    allocator.configure()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
kept = [libc.malloc(4096)]
worker = threading.Thread(target=lambda: kept.append(libc.malloc(4096)))  # as the ops' worker thread
worker.start()
worker.join()
libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def test_the_sidecar_allocates_from_one_malloc_arena():
    """Separation's freed buffers were spread over the worker's and torch's threads' arenas, and
    not reused across them: a higher peak RSS than the demucs CLI's (issue 17)."""
    if not sys.platform.startswith("linux"):
        return
    import os

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    counts = {}
    for mode in ("default", "one"):
        out = subprocess.run([sys.executable, "-c", ARENAS, mode], cwd=PYTHON_ROOT, capture_output=True, text=True,
                             timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        counts[mode] = sum(line.startswith("Arena ") for line in out.stderr.splitlines())
    if counts["default"] < 2:
        return  # not glibc's allocator (malloc_stats prints no arenas)
    assert counts == {"default": 2, "one": 1}


FREED_BLOCKS = """
import ctypes, sys
from sfa_sidecar import allocator
if sys.argv[1] != "default":
    allocator.configure()
    allocator.for_runtime(sys.argv[1])
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
MB = 2**20
libc.free(libc.malloc(12 * MB))  # a freed tensor: glibc's default raises its mapping bar above 12 MB
blocks = [libc.malloc(12 * MB) for _ in range(8)]  # the next chunk's tensors
for b in blocks:
    ctypes.memset(b, 1, 12 * MB)
kept = libc.malloc(64 * 1024)  # something still held above them (the heap's top cannot shrink)
before = rss_mb()
for b in blocks:
    libc.free(b)
print(before - rss_mb())
"""


def test_freed_tensors_go_back_to_the_system_at_once_around_openvino_only():
    """glibc's default moved a separation's tensors into the heap after the first was freed, and
    the heap's freed middle stayed resident: ~100 MB more at the sidecar's peak on OpenVINO's path
    (issue 17). PyTorch's eager path keeps glibc's reuse: its activations, mapped anew on every
    chunk, took 1.4-1.8x as long."""
    if not sys.platform.startswith("linux"):
        pytest.skip("mallopt is glibc's (Linux)")
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    returned = {}
    for mode in ("default", "openvino", "torch"):
        out = subprocess.run([sys.executable, "-c", FREED_BLOCKS, mode], cwd=PYTHON_ROOT, capture_output=True, text=True,
                             timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        returned[mode] = float(out.stdout.strip())
    if returned["default"] > 90:
        pytest.skip(f"not glibc's allocator: its default returned them too ({returned})")
    assert returned["default"] < 10 and returned["openvino"] > 90 and returned["torch"] < 10, returned


def test_a_users_allocator_setting_is_kept(monkeypatch):
    from sfa_sidecar import allocator, libc

    calls = []
    monkeypatch.setattr(libc, "function", lambda *_a, **_k: lambda param, value: calls.append((param, value)) or 1)
    monkeypatch.setattr(allocator, "_mmap_threshold", [])
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000")
    allocator.configure()
    allocator.for_runtime("openvino")  # already set
    allocator.for_runtime("torch")
    allocator.for_runtime("torch")  # set once
    assert calls == [(allocator.M_MMAP_THRESHOLD, 1 << 20), (allocator.M_MMAP_THRESHOLD, 32 << 20)]
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    allocator.for_runtime("openvino")
    assert len(calls) == 2
