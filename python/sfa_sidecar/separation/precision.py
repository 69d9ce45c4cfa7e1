"""Reduced precision on the CPU, only where the CPU computes bfloat16 natively.

Demucs on the CPU is bound by its convolutions and matrix products. A CPU with AVX-512 BF16 or
AMX runs them in bfloat16 at up to twice the float32 rate (measured on an AMD EPYC with AVX-512
BF16: 1.62x for one htdemucs segment, stems at 48.6 dB SNR against float32); a CPU without it
emulates bfloat16 and gets slower. So:

- ``exact``: float32, the CLI's arithmetic.
- ``auto`` (default): bfloat16 autocast on the CPU only when the CPU says it has native bf16
  (``avx512_bf16``/``amx_bf16`` in /proc/cpuinfo, ``FEAT_BF16`` on Apple silicon) AND a short
  self-measurement (a few convolutions and matrix products shaped like htdemucs', ~0.5 s, run
  once per machine, torch version and thread count, confirmed by a second run where it favours
  bf16, cached on disk) finds it at least ``MIN_GAIN`` faster.
  Accelerators keep float32 here.
- ``bf16``: bfloat16 autocast regardless (for measurements; slower on CPUs without native bf16).
- ``int8``: the transformer's linear layers in int8 (``quantize.py``; fbgemm runs them natively
  on AVX2). Opt-in only: ``auto`` does not pick it. Measured on an AMD EPYC with AVX2 and no
  AVX-512 (1 thread, CPU time, loaded machine): the transformer 1.28x faster with its
  feed-forward layers in int8, a whole segment only ~1.05x (the convolutions and the attention
  itself stay float32); stems 130 dB SNR against float32 with the benchmark's random weights,
  whose layer scales (1e-4) mute the transformer, and 39.9 dB with those layer scales set to 1
  -- at the 40 dB floor, and unmeasured on trained weights.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import BadRequestError

PRECISIONS = ("auto", "exact", "bf16", "int8")
MIN_GAIN = 1.15  # bf16 must beat float32 by this much in the self-measurement to be used
_lock = threading.Lock()
_measured: dict[str, Any] | None = None


def native_bf16(cpuinfo: str | None = None, system: str | None = None) -> str | None:
    """The CPU feature that computes bfloat16 natively, or None."""
    system = system or sys.platform
    if system.startswith("linux"):
        if cpuinfo is None:
            try:
                cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
            except OSError:
                return None
        for line in cpuinfo.splitlines():
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                for flag in ("amx_bf16", "avx512_bf16", "bf16"):  # "bf16": arm64 Linux (Graviton 3+)
                    if flag in flags:
                        return flag
                return None
        return None
    if system == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True,
                                 timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        return "FEAT_BF16" if out == "1" else None
    return None


def cache_folder() -> Path:
    """Where the CPU measurements (and openvino_core's converted models) are kept."""
    return Path(os.environ.get("SFA_PRECISION_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sfa"))


def _cache_file() -> Path:
    return cache_folder() / "cpu-precision.json"


def _machine_key(torch: Any, flag: str) -> str:
    return f"{platform.machine()}|{platform.processor()}|{flag}|torch {torch.__version__}|threads {torch.get_num_threads()}"


def self_measure(torch: Any, repeats: int = 3) -> dict[str, float]:
    """Time a small htdemucs-shaped workload in float32 and under bfloat16 autocast, alternating
    (so load from other processes hits both alike); best of ``repeats`` each."""
    gen = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv1d(96, 192, 8, stride=4)
    lin = torch.nn.Linear(384, 1536)
    x = torch.randn(1, 96, 16384, generator=gen)
    tokens = torch.randn(1, 1024, 384, generator=gen)

    def work(bf16: bool) -> float:
        t0 = time.perf_counter()
        with torch.inference_mode(), (torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()):
            for _ in range(2):
                conv(x)
                lin(tokens)
        return time.perf_counter() - t0

    work(False), work(True)  # first calls pay for kernel selection
    f32, bf16 = [], []
    for _ in range(repeats):
        f32.append(work(False))
        bf16.append(work(True))
    return {"float32_s": min(f32), "bf16_s": min(bf16), "gain": min(f32) / max(min(bf16), 1e-9)}


def _confirmed(torch: Any, measure: Callable[[Any], dict[str, float]]) -> dict[str, float]:
    """The self-measurement, taken twice where the first run favours bf16: under load another
    process's work can land on the float32 runs (measured here on an AVX-512 BF16 Xeon, where
    bf16 is slower: gains of 0.57-0.64 with 1.14 among them), and a chance verdict for bf16 would
    be kept for good and give this machine other stems than its neighbours. The lower gain counts."""
    first = measure(torch)
    if first["gain"] < MIN_GAIN:
        return first
    second = measure(torch)
    return first if first["gain"] <= second["gain"] else second


def measured_gain(torch: Any, flag: str, measure: Callable[[Any], dict[str, float]] = self_measure) -> dict[str, Any]:
    """The self-measurement for this machine, from the disk cache or run now (once per process).
    The cache keeps one entry per key (thread counts differ between sidecars), so none evicts
    another and measures again."""
    global _measured
    with _lock:
        key = _machine_key(torch, flag)
        if _measured is not None and _measured.get("key") == key:
            return _measured
        path = _cache_file()
        try:
            entries = json.loads(path.read_text())
        except (OSError, ValueError):
            entries = {}
        if not isinstance(entries, dict):
            entries = {}
        elif isinstance(entries.get("key"), str):
            entries = {entries["key"]: entries}  # the earlier one-entry format
        if isinstance(entries.get(key), dict):
            _measured = entries[key]
            return _measured
        result = {"key": key, **_confirmed(torch, measure)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({**entries, key: result}))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: measure again next time
        _measured = result
        return result


def choose(requested: str | None, device: str, torch: Any = None,
           flag_fn: Callable[[], str | None] = native_bf16,
           measure: Callable[[Any], dict[str, float]] = self_measure) -> tuple[str, str]:
    """(precision used: "float32" | "bf16" | "int8", reason)."""
    requested = (requested or "auto").lower()
    if requested not in PRECISIONS:
        raise BadRequestError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == "exact":
        return "float32", "exact: float32 as requested"
    if device != "cpu":
        return "float32", f"float32 on {device}"
    if requested == "bf16":
        return "bf16", "bf16: forced"
    if requested == "int8":
        from . import quantize  # noqa: PLC0415

        if not quantize.engine_ready():
            return "float32", "float32: this torch has no int8 engine for the CPU"
        return "int8", "int8: the transformer's linear layers in int8, as requested (not exact)"
    flag = flag_fn()
    if flag is None:
        return "float32", "float32: this CPU has no native bfloat16"
    if torch is None:
        import torch  # noqa: PLC0415
    result = measured_gain(torch, flag, measure)
    if result["gain"] >= MIN_GAIN:
        return "bf16", f"bf16: native on this CPU ({flag}), {result['gain']:.2f}x faster when measured"
    return "float32", f"float32: bf16 was only {result['gain']:.2f}x when measured on this CPU ({flag})"


def autocast_for(precision: str, device: str) -> Callable[[], Any] | None:
    if precision != "bf16":
        return None
    import torch  # noqa: PLC0415

    return lambda: torch.autocast("cpu" if device == "cpu" else device, dtype=torch.bfloat16)
