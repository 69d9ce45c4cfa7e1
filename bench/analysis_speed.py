"""Speed of a full analysis of a 4-minute track in a warm sidecar vs the seed's naive way.

    python/.venv/bin/python bench/analysis_speed.py [--no-cold] [--parts]

- warm: the real sidecar (``python -m sfa_sidecar``, cwd python/), pre-warmed with
  ``analyze_warm``, then ``analyze`` of a 4-minute track; best of 3, wall clock around the
  request/response on the protocol. Twice, under the two thread budgets the app gives an
  analysis sidecar (src/main/workers/parallelism.ts: OMP_NUM_THREADS = cores / analysis
  concurrency): all the cores (one track alone: concurrency 1) and one thread (a library-scale
  batch: one sidecar per core, the default concurrency). The BENCH line's warm_s is the first.
- naive: the same feature set the seed's way, in a process of its own whose librosa JIT is
  already warm (we time its second run): librosa.load, beat_track, chroma_cqt, rms,
  spectral_centroid, spectral_rolloff, zero_crossing_rate, each from the waveform; run with each
  budget's thread variables, and the ratios taken against its better run.
- CPU seconds of both (the sidecar's from /proc, ffmpeg included; the naive process's own):
  on a shared machine the wall clock moves with other jobs' load, the CPU time much less.
- cold: the first analysis after the sidecar starts (process start included), once with a
  fresh NUMBA_CACHE_DIR and once with the warm per-user cache.
- parts (``--parts``, in this process, the thread budget of OMP_NUM_THREADS): the CPU seconds of
  each thread's share of a warm analysis (what runs while ffmpeg decodes, the main thread after
  it, the key thread) and ffmpeg's: with the wall clock swamped by other jobs' load, they give
  the critical path on an idle machine.
The test track is generated (drums + chords with numpy), 4 minutes, 44.1 kHz stereo WAV.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / "python" / ".venv" / "bin" / "python"
if not PY.exists():
    PY = Path(sys.executable)
sys.path.insert(0, str(ROOT / "python" / "tests"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

WARM_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "sfa", "numba")
CORES = os.cpu_count() or 2


def threads(n: int) -> dict[str, str]:
    """The thread variables the engine sets for a sidecar (threadVars in parallelism.ts); both
    sides of a comparison run with the same ones."""
    v = str(n)
    return {"OMP_NUM_THREADS": v, "OPENBLAS_NUM_THREADS": v, "MKL_NUM_THREADS": v, "NUMBA_NUM_THREADS": v}

NAIVE = r"""
import sys, time, numpy as np, librosa
def run(path):
    y, sr = librosa.load(path, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr)
    rms = librosa.feature.rms(y=y)
    cent = librosa.feature.spectral_centroid(y=y, sr=sr)
    roll = librosa.feature.spectral_rolloff(y=y, sr=sr)
    zcr = librosa.feature.zero_crossing_rate(y)
    return float(np.atleast_1d(tempo)[0]), int(np.argmax(chroma.mean(axis=1)))
run(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
run(sys.argv[1])
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def make_track(path: Path, seconds: float = 240.0) -> None:
    from analysis_signals import chords, drums

    y = drums(124, seconds) + chords("F minor", seconds, bpm=124)
    y = (y / np.abs(y).max() * 0.8).astype(np.float32)
    sf.write(str(path), np.stack([y, y * 0.9], axis=1), 44100, subtype="PCM_16")


class Sidecar:
    def __init__(self, numba_dir: str, n_threads: int = CORES):
        env = dict(os.environ, NUMBA_CACHE_DIR=numba_dir, **threads(n_threads))
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen([str(PY), "-m", "sfa_sidecar", "--no-devices"], cwd=ROOT / "python", env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        hello = json.loads(self.proc.stdout.readline())
        assert hello["type"] == "hello", hello
        self.n = 0

    def cpu(self) -> float:
        """CPU seconds of the sidecar and its waited-for children (ffmpeg): utime, stime, cutime,
        cstime of /proc/PID/stat. Unlike the wall clock, barely moved by other jobs' load."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def call(self, op: str, params: dict) -> tuple[dict, float]:
        self.n += 1
        rid = str(self.n)
        t0 = time.perf_counter()
        self.proc.stdin.write(json.dumps({"type": "request", "id": rid, "op": op, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = json.loads(self.proc.stdout.readline())
            if msg.get("id") == rid and msg["type"] in ("result", "error"):
                if msg["type"] == "error":
                    raise RuntimeError(msg)
                return msg["result"], time.perf_counter() - t0

    def close(self) -> None:
        self.proc.stdin.write('{"type":"shutdown"}\n')
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


def cold(track: Path, numba_dir: str) -> float:
    car = Sidecar(numba_dir)
    _, elapsed = car.call("analyze", {"path": str(track)})
    total = time.perf_counter() - car.t_start
    car.close()
    return total


def warm_runs(track: Path, n_threads: int) -> tuple[float, float, float, dict]:
    """(best wall, best CPU seconds, the pre-warm op's seconds, a result) of a warm sidecar."""
    car = Sidecar(WARM_CACHE, n_threads)
    _, warm_call = car.call("analyze_warm", {})
    times, cpus = [], []
    for _ in range(3):
        c0 = car.cpu()
        result, t = car.call("analyze", {"path": str(track)})
        times.append(t)
        cpus.append(car.cpu() - c0)
    car.close()
    return min(times), min(cpus), warm_call, result


def naive_run(track: Path, n_threads: int, cwd: str) -> tuple[float, float]:
    naive = subprocess.run([str(PY), "-c", NAIVE, str(track)], capture_output=True, text=True,
                           env=dict(os.environ, NUMBA_CACHE_DIR=WARM_CACHE, **threads(n_threads)), cwd=cwd)
    wall, cpu = (float(v) for v in naive.stdout.strip().splitlines()[-1].split())
    return wall, cpu


def parts(track: Path, runs: int = 4) -> None:
    sys.path.insert(0, str(ROOT / "python"))
    from sfa_sidecar import analyze
    from sfa_sidecar.analysis import stream

    spent: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*args, **kwargs):
            c0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.thread_time() - c0

        setattr(owner, name, wrapper)

    timed(stream.MixStream, "__call__", "main, during the decode")
    timed(analyze, "_mix_features", "main, after the decode")
    timed(analyze, "key_of", "key stage")
    analyze.warm({})
    print(f"parts of a warm analysis, CPU seconds per thread (budget {analyze.thread_budget()} threads)")
    for _ in range(runs):
        spent.clear()
        before, t0 = os.times(), time.perf_counter()
        analyze.run({"path": str(track)})
        wall, after = time.perf_counter() - t0, os.times()
        ffmpeg = after.children_user + after.children_system - before.children_user - before.children_system
        print(f"  wall {wall:.2f}  ffmpeg (probe + decode) {ffmpeg:.2f}  " + "  ".join(f"{k} {v:.2f}" for k, v in spent.items()))
    print(f"  load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    if "--parts" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            track = Path(tmp) / "track.wav"
            make_track(track)
            parts(track)
        return 0
    skip_cold = "--no-cold" in sys.argv[1:]  # the warm/naive comparison only (cold runs take minutes)
    with tempfile.TemporaryDirectory() as tmp:
        track = Path(tmp) / "track.wav"
        make_track(track)
        warm_s, warm_cpu, warm_call, result = warm_runs(track, CORES)
        naive_s, naive_cpu = naive_run(track, CORES, tmp)
        warm1_s, warm1_cpu, _, _ = warm_runs(track, 1)
        naive1_s, naive1_cpu = naive_run(track, 1, tmp)
        cold_warm_cache = float("nan") if skip_cold else cold(track, WARM_CACHE)
        cold_fresh = float("nan") if skip_cold else cold(track, str(Path(tmp) / "fresh-numba"))
    load = os.getloadavg()[0]
    # The naive side at its better thread count (its BLAS threads can spin under load): the ratios
    # never flatter us by a bad choice for the peer.
    naive_best, naive_best_cpu = min(naive_s, naive1_s), min(naive_cpu, naive1_cpu)
    print(f"4-minute track: tempo {result['tempo']['bpm']} BPM, key {result['key']['key']}")
    print(f"{'measure':52s} {f'{CORES} threads':>10s} {'1 thread':>10s}")
    rows = [
        ("warm sidecar analyze, wall (best of 3)", warm_s, warm1_s),
        ("naive per-feature librosa (warm JIT), wall", naive_s, naive1_s),
        ("speedup, wall (vs the naive's better)", naive_best / warm_s, naive_best / warm1_s),
        ("warm sidecar analyze, CPU s incl. ffmpeg (best of 3)", warm_cpu, warm1_cpu),
        ("naive, CPU s", naive_cpu, naive1_cpu),
        ("speedup in CPU time (vs the naive's better)", naive_best_cpu / warm_cpu, naive_best_cpu / warm1_cpu),
    ]
    for name, a, b in rows:
        print(f"{name:52s} {a:10.2f} {b:10.2f}")
    print(f"{'pre-warm op analyze_warm':52s} {warm_call:10.2f}")
    print(f"{'cold: start + first analyze, warm numba cache':52s} {cold_warm_cache:10.2f}")
    print(f"{'cold: start + first analyze, fresh numba cache':52s} {cold_fresh:10.2f}")
    print(f"load average at the end {load:.2f} on {CORES} cores")
    print(f"BENCH analysis-speed warm_s={warm_s:.2f} naive_s={naive_best:.2f} speedup={naive_best / warm_s:.2f} "
          f"cold_s={cold_warm_cache:.2f} cold_fresh_s={cold_fresh:.2f} warm_cpu_s={warm_cpu:.2f} naive_cpu_s={naive_best_cpu:.2f} "
          f"cpu_speedup={naive_best_cpu / warm_cpu:.2f} threads={CORES} warm_1t_s={warm1_s:.2f} "
          f"speedup_1t={naive_best / warm1_s:.2f} warm_1t_cpu_s={warm1_cpu:.2f} cpu_speedup_1t={naive_best_cpu / warm1_cpu:.2f} "
          f"load={load:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
