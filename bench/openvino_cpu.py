"""OpenVINO against PyTorch eager on one full-size htdemucs segment, on this CPU: the measurement
behind the default path's runtime choice (python/sfa_sidecar/separation/openvino_core.py).

    python/.venv/bin/python bench/openvino_cpu.py        # or: npm run bench -- openvino

For each thread count (1 and the CPU count): PyTorch eager (the sidecar's forward: no_grad, flash
attention), OpenVINO float32 with the LATENCY hint (one chunk at a time, all threads on it), and
the network the sidecar runs at that thread count (``throughput``: with two threads or more,
two chunks in flight under the THROUGHPUT hint, a stream each; at one thread, LATENCY), on the
same two 7.8 s segments, interleaved, 1 warm-up and ``SFA_BENCH_ROUNDS`` (default 3)
rounds; median wall and CPU seconds per segment, and the outputs' max abs difference and SNR
against eager. The model is the benchmark's random full-size htdemucs (bench/separation.py); its
conversion is cached with the sidecar's own (bench/.cache/separation/sfa-cache).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench"))

import separation as bench_separation  # noqa: E402

os.environ.setdefault("SFA_PRECISION_CACHE", bench_separation.SIDECAR_ENV["SFA_PRECISION_CACHE"])
ROUNDS = int(os.environ.get("SFA_BENCH_ROUNDS", "3"))


def main() -> int:
    import torch
    from demucs.pretrained import get_model

    from sfa_sidecar.separation import chunked, openvino_core

    ov = openvino_core.import_openvino()
    if ov is None:
        print("openvino is not installed in this environment")
        return 1
    bag = get_model(bench_separation.MODEL, repo=bench_separation.ensure_model())
    model = (bag.models[0] if hasattr(bag, "models") else bag).eval()
    length = int(model.segment * model.samplerate)
    gen = torch.Generator().manual_seed(0)
    mixes = [torch.randn(1, 2, length, generator=gen) * 0.2 for _ in range(2)]
    eager = chunked.eager(None, "cpu")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    summary = []
    for threads in sorted({1, cores}):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        sidecar_net = openvino_core.network(model, length, threads)  # what the sidecar runs at this thread count
        prepared_s = time.perf_counter() - t0
        xml = openvino_core.cache_root() / openvino_core.model_key(model, length, ov) / "network.xml"
        latency = openvino_core.Network(ov.Core().compile_model(str(xml), "CPU", openvino_core.compile_config(threads)), length)
        pair = torch.cat(mixes)

        arms = {"pytorch eager": lambda: [eager(model, mix) for mix in mixes],
                "openvino latency": lambda: [latency(model, mix) for mix in mixes],
                f"openvino throughput, {sidecar_net.in_flight} in flight": lambda: list(sidecar_net(model, pair)[:, None])}
        reference = arms["pytorch eager"]()
        for arm in arms.values():
            arm()  # warm-up: kernel selection, first allocations
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in arms}
        outputs = {}
        for _ in range(ROUNDS):
            for name, arm in arms.items():
                w0, c0 = time.perf_counter(), time.process_time()
                outputs[name] = arm()
                times[name].append(((time.perf_counter() - w0) / 2, (time.process_time() - c0) / 2))
        print(f"threads {threads} (openvino prepared in {prepared_s:.1f} s; load average {os.getloadavg()[0]:.2f})")
        base = statistics.median(w for w, _ in times["pytorch eager"])
        for name, samples in times.items():
            wall = statistics.median(w for w, _ in samples)
            cpu = statistics.median(c for _, c in samples)
            diff = max(float((o - r).abs().max()) for o, r in zip(outputs[name], reference))
            signal = sum(float(r.double().pow(2).sum()) for r in reference)
            noise = sum(float((o - r).double().pow(2).sum()) for o, r in zip(outputs[name], reference))
            snr = float("inf") if noise == 0 else 10 * math.log10(signal / noise)
            print(f"  {name:34s} wall {wall:6.2f} s  cpu {cpu:6.2f} s per segment  speedup {base / wall:5.2f}x  "
                  f"max abs {diff:.1e}  SNR {snr:5.1f} dB")
            if name != "pytorch eager":
                summary.append(f"{name.split()[1].rstrip(',')}_t{threads}={base / wall:.3f}")
    print("BENCH openvino " + " ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
