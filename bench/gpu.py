"""GPU readiness: separation speed and memory on CUDA, the GPU gate's concurrency, OOM fallback.

    npm run bench -- gpu                      # or: python/.venv/bin/python bench/gpu.py

On a CUDA machine (about 3-4 minutes on a datacenter GPU):
(a) real-time factor (audio seconds per compute second) of htdemucs and htdemucs_ft on a 60 s
    clip, through our runner (shifts 1, overlap 0.25, the defaults), with peak GPU memory
    (max_memory_allocated / max_memory_reserved). The weights are the published ones when they are
    already in the torch hub cache, else random weights of the same full-size architecture (the
    compute is the same; NOTES.md), built into bench/.cache/gpu/models;
(b) how many separations the engine's GPU gate lets run at once (free memory now / the model's
    budget from src/main/workers/gpu-gate.ts) and the throughput of that many sidecars
    separating together, against one;
(c) the out-of-memory path on a forced small budget (torch.cuda.set_per_process_memory_fraction):
    max_memory_reserved at segment 7.8 s vs 3.9 s (HTDemucs pads chunks back to 7.8 s in eval,
    so the two should match: the reason the runner skips the half-segment retry for it), then a
    job that runs out of memory: its fallbacks, and the memory still reserved after it (should be
    ~0: the runner empties the cache once the failed pass is gone).
Without CUDA it runs the same code path on the CPU with a tiny model and a 4 s clip (a check
that the script works), says that it is waiting for a GPU, and exits 0.
The last line is the machine-readable summary: BENCH gpu ...
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYDIR = ROOT / "python"
sys.path.insert(0, str(PYDIR))
PY = str(PYDIR / ".venv" / "bin" / "python") if (PYDIR / ".venv" / "bin" / "python").exists() else sys.executable
CACHE = Path(os.environ.get("SFA_BENCH_GPU_CACHE", ROOT / "bench" / ".cache" / "gpu"))
SR = 44100
GATE_TS = ROOT / "src" / "main" / "workers" / "gpu-gate.ts"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def gate_budget(model: str) -> int:
    """The gate's budget for ``model``, read from gpu-gate.ts (the one place it is written)."""
    text = GATE_TS.read_text()
    gib = 2 ** 30
    ht = int(re.search(r"HTDEMUCS_BYTES = (\d+) \* GiB", text).group(1)) * gib
    v3 = int(re.search(r"V3_BYTES = (\d+) \* GiB", text).group(1)) * gib
    v3_models = re.search(r"V3_MODELS = new Set\(\[([^\]]*)\]", text).group(1)
    return v3 if f"'{model}'" in v3_models else ht


class Ctx:
    """What an op gets from the server, for calling the runner in-process."""

    def progress(self, pct: float, message: str = "", force: bool = False) -> None:
        pass

    def check(self) -> None:
        pass


def ensure_models(full: bool) -> tuple[Path | None, list[str]]:
    """A local repo with the models to time: pretrained ones from the hub cache, else random."""
    from sfa_sidecar.separation import models
    from sfa_sidecar.separation.tiny_model import build

    repo = CACHE / ("models" if full else "tiny-models")
    names = ["htdemucs", "htdemucs_ft"] if full else ["tiny"]
    if full and all(models.installed(n) for n in names):
        return None, names  # the published weights, already downloaded
    repo.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (repo / f"{name}.yaml").exists():
            continue
        log(f"building {name} with random weights ...")
        if name == "htdemucs_ft":  # a bag of 4 full-size htdemucs, like the published one
            sigs = [build(repo, f"_ft{i}", full_size=True, seed=10 + i).stem for i in range(4)]
            (repo / "htdemucs_ft.yaml").write_text(f"models: {sigs!r}\n")
        else:
            build(repo, name, full_size=full, seed=0)
    return repo, names


def ensure_clip(seconds: float) -> Path:
    import numpy as np
    import soundfile as sf

    path = CACHE / f"clip_{int(seconds)}s.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        t = np.arange(int(SR * seconds)) / SR
        mix = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 55 * t) + 0.05 * rng.standard_normal(t.size)
        sf.write(str(path), np.stack([mix, mix * 0.8], 1).astype(np.float32), SR, subtype="PCM_16")
    return path


def separate(repo: Path | None, model: str, clip: Path, device: str, out: Path, **extra) -> dict:
    from sfa_sidecar.separation import runner

    params = {"path": str(clip), "outDir": str(out), "model": model, "device": device, **extra}
    if repo is not None:
        params["repo"] = str(repo)
    return runner.run(params, Ctx())


def concurrent_throughput(repo: Path | None, model: str, clip: Path, n: int, seconds: float) -> float:
    """Audio seconds per wall second with ``n`` sidecars separating at once (each warmed first)."""
    cars = []
    for _ in range(n):
        proc = subprocess.Popen([PY, "-m", "sfa_sidecar"], cwd=str(PYDIR), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        json.loads(proc.stdout.readline())
        cars.append(proc)

    def request(proc, rid: str, op: str, params: dict) -> None:
        proc.stdin.write(json.dumps({"type": "request", "id": rid, "op": op, "params": params}) + "\n")
        proc.stdin.flush()
        while True:
            msg = json.loads(proc.stdout.readline())
            if msg.get("type") == "progress":
                continue
            if msg.get("type") == "error":
                raise RuntimeError(msg)
            return

    base = {"model": model, "device": "cuda", **({"repo": str(repo)} if repo is not None else {})}
    for i, proc in enumerate(cars):
        request(proc, f"w{i}", "warm", base)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=request, args=(proc, f"s{i}", "separate",
                                                      {**base, "path": str(clip), "outDir": str(CACHE / "out" / f"c{n}-{i}")}))
               for i, proc in enumerate(cars)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for proc in cars:
        proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
        proc.stdin.flush()
        proc.wait(timeout=60)
    return n * seconds / wall


def run_cuda(torch) -> str:
    gib = 2 ** 30
    repo, names = ensure_models(full=True)
    seconds = 60.0
    clip = ensure_clip(seconds)
    free, total = torch.cuda.mem_get_info()
    log(f"GPU: {torch.cuda.get_device_name()} ({total / gib:.1f} GiB, {free / gib:.1f} free); "
        f"{'pretrained' if repo is None else 'random-weight'} models")
    figures: dict[str, str] = {}
    for name in names:
        separate(repo, name, ensure_clip(8.0), "cuda", CACHE / "out" / "warm")  # load + kernels
        torch.cuda.reset_peak_memory_stats()
        result = separate(repo, name, clip, "cuda", CACHE / "out" / name)
        rtf = seconds / result["timings"]["compute"]
        figures[f"rtf_{name}"] = f"{rtf:.1f}"
        figures[f"peak_alloc_mb_{name}"] = f"{torch.cuda.max_memory_allocated() / 2**20:.0f}"
        figures[f"peak_reserved_mb_{name}"] = f"{torch.cuda.max_memory_reserved() / 2**20:.0f}"
        log(f"{name}: {rtf:.1f}x real time (compute {result['timings']['compute']:.2f} s for {seconds:.0f} s), "
            f"peak allocated {figures[f'peak_alloc_mb_{name}']} MB, reserved {figures[f'peak_reserved_mb_{name}']} MB")

    # (b) the gate's concurrency for htdemucs and the throughput it gives
    from sfa_sidecar.separation import models

    models.release_memory()
    free, _ = torch.cuda.mem_get_info()
    allowed = max(1, free // gate_budget("htdemucs"))
    n = int(min(allowed, 4))  # 4 sidecars show the trend without hours of model loading
    single = concurrent_throughput(repo, "htdemucs", clip, 1, seconds)
    many = concurrent_throughput(repo, "htdemucs", clip, n, seconds) if n > 1 else single
    figures.update(gate_allows=str(allowed), concurrent=str(n), throughput_1=f"{single:.1f}",
                   throughput_n=f"{many:.1f}")
    log(f"gate allows {allowed} htdemucs jobs at {free / gib:.1f} GiB free; throughput 1 job {single:.1f}x "
        f"real time, {n} jobs {many:.1f}x")

    # (c) forced small budget: segment 7.8 vs 3.9 s, then an OOM and what stays reserved after it
    reserved = {}
    for segment in (7.8, 3.9):
        models.release_memory()
        torch.cuda.reset_peak_memory_stats()
        separate(repo, "htdemucs", ensure_clip(8.0), "cuda", CACHE / "out" / f"seg{segment}", segment=segment, shifts=0)
        reserved[segment] = torch.cuda.max_memory_reserved() / 2**20
    budget = max(0.02, 0.5 * reserved[7.8] * 2**20 / total)
    torch.cuda.set_per_process_memory_fraction(budget)
    models.release_memory()
    result = separate(repo, "htdemucs", ensure_clip(8.0), "cuda", CACHE / "out" / "oom", shifts=0)
    after = torch.cuda.memory_reserved() / 2**20
    torch.cuda.set_per_process_memory_fraction(1.0)
    steps = "+".join(f"{f['from']}->{f['to']}@{f['toSegment']:g}" for f in result["fallbacks"]) or "none"
    figures.update(reserved_mb_seg7_8=f"{reserved[7.8]:.0f}", reserved_mb_seg3_9=f"{reserved[3.9]:.0f}",
                   oom_fallbacks=steps, reserved_mb_after_oom=f"{after:.0f}", oom_device=result["device"])
    log(f"max_memory_reserved: segment 7.8 s {reserved[7.8]:.0f} MB, 3.9 s {reserved[3.9]:.0f} MB; forced budget "
        f"{budget * total / 2**20:.0f} MB: fallbacks {steps}, ended on {result['device']}, reserved after {after:.0f} MB")
    return " ".join(f"{k}={v}" for k, v in figures.items())


def run_cpu_check() -> str:
    repo, names = ensure_models(full=False)
    clip = ensure_clip(4.0)
    t0 = time.perf_counter()
    result = separate(repo, names[0], clip, "auto", CACHE / "out" / "cpu", shifts=0)
    wall = time.perf_counter() - t0
    log(f"CPU path check: {names[0]} on {result['device']} ({result['deviceReason']}) in {wall:.1f} s, "
        f"stems {sorted(result['stems'])}, gate budget for htdemucs {gate_budget('htdemucs') / 2**30:.0f} GiB")
    print("no CUDA device here: waiting for a GPU (run `npm run bench -- gpu` on a CUDA machine)")
    return f"cuda=none cpu_check=ok cpu_check_s={wall:.1f} device={result['device']}"


def main() -> int:
    import torch

    started = time.perf_counter()
    summary = run_cuda(torch) if torch.cuda.is_available() and os.environ.get("SFA_BENCH_GPU_FORCE_CPU") != "1" \
        else run_cpu_check()
    print(f"BENCH gpu {summary} bench_s={time.perf_counter() - started:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
