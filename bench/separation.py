"""Speed benchmark: stem separation through our warm sidecar vs the demucs CLI.

    python/.venv/bin/python bench/separation.py          # 30 s clips, batch of 4
    SFA_BENCH_QUICK=1 python/.venv/bin/python bench/separation.py   # 10 s clips, batch of 2

Uses a randomly initialised full-size htdemucs (same architecture and compute as the published
one; built once into bench/.cache/models by sfa_sidecar.separation.tiny_model --full-size), since
the real weights cannot be downloaded here. Both sides use the same settings, as demucs documents
them: the same model (``--repo DIR -n NAME``), segment (the model's), ``--overlap 0.25``,
``--shifts 1``, 16-bit wav, and the same thread count (torch's default, the CPU count: our
sidecar gets ``threads`` = CPU count explicitly).

(a) single track: our sidecar cold (spawn + hello + model load + separate) vs one
    `python -m demucs` call, on our default path (``precision: auto``); then the median of
    ``SFA_BENCH_COLD_RUNS`` (default 3) cold sidecars against the median of the CLI's calls.
(b) batch: N tracks through the warm sidecar vs N CLI calls (interleaved, so that load from
    other processes hits both sides alike); per-track overhead = wall - model compute.
(c) the exact path (``precision: exact``, float32 in PyTorch): its speed against the CLI (the same
    runs when the default path is PyTorch float32 on this CPU) and its parity with the CLI at shifts 0
    (``--float32`` output, max abs difference), plus the SNR of the default path's stems
    against exact float32 (inf when they are the same path).
(d) peak RSS: VmHWM of the sidecar over the default path's jobs (the cold one, then the batch:
    ``ours_peak_mb``) and over the whole run (``ours_peak_all_mb``: also the exact path's PyTorch
    run in the same warm sidecar, beside OpenVINO's buffers, which a CLI process never has);
    each CLI process's ru_maxrss from os.wait4.
(e) CPU seconds of both sides (the CLI's from os.wait4, the sidecar's from /proc/PID/stat per
    request): on a machine shared with other work, the ratio of work done, next to the wall-clock
    ratios. SFA_BENCH_SECONDS sets the clip length (e.g. 2 for a smoke run).
(f) a song's length (SFA_BENCH_SONG_SECONDS, default 240; 0 skips it): what grows with the track
    (the mix, the stems, their overlap-add) next to the model's fixed memory. One fresh sidecar on
    the default path against one CLI call, peak RSS each (``song_peak_mb``, ``song_cli_peak_mb``)
    and wall time (``song_ratio``).
(0) first, one job as a user's first: where the default path runs OpenVINO (openvino_core.py),
    it converts the model once (cached in bench/.cache/separation/sfa-cache) and measures
    OpenVINO against PyTorch on its chunks; its time is printed, the figures above come after it.
SFA_BENCH_PRECISION (default ``auto``) sets the precision of the path under test, e.g. ``int8``
for the opt-in int8 transformer: its figures then stand in the "default path" rows and its SNR
against exact float32 is printed.
The last line is the machine-readable summary.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYDIR = ROOT / "python"
PY = str(PYDIR / ".venv" / "bin" / "python") if (PYDIR / ".venv" / "bin" / "python").exists() else sys.executable
CACHE = ROOT / "bench" / ".cache" / "separation"
QUICK = os.environ.get("SFA_BENCH_QUICK") == "1"
SECONDS = float(os.environ.get("SFA_BENCH_SECONDS", 10.0 if QUICK else 30.0))
BATCH = 2 if QUICK else 4
# Our cold sidecars (each a new process, as the CLI's every call): the first before the batch,
# the others each before one of the CLI's calls. The machines are noisy (one CLI call swung from
# 21 to 37 s between runs), so the median of several cold runs on each side is the steady figure.
COLD_RUNS = max(1, min(BATCH, int(os.environ.get("SFA_BENCH_COLD_RUNS", 1 if QUICK else 3))))
SONG_SECONDS = float(os.environ.get("SFA_BENCH_SONG_SECONDS", 0 if QUICK else 240))
MODEL = "htdemucs_rand"
SR = 44100
PRECISION = os.environ.get("SFA_BENCH_PRECISION", "auto")
# The sidecars' cache of CPU measurements and OpenVINO's converted model: the benchmark's own, kept
# between runs (a user converts once per model too; the preparation step below says what it cost).
SIDECAR_ENV = {"SFA_PRECISION_CACHE": str(CACHE / "sfa-cache")}
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_model() -> Path:
    repo = CACHE / "models"
    if not (repo / f"{MODEL}.yaml").exists():
        log("building the full-size random htdemucs ...")
        subprocess.run([PY, "-m", "sfa_sidecar.separation.tiny_model", str(repo), "--name", MODEL, "--full-size"],
                       cwd=str(PYDIR), check=True, stdout=subprocess.DEVNULL)
    return repo


def ensure_clips() -> list[Path]:
    return [ensure_clip(i, SECONDS) for i in range(BATCH)]


def ensure_clip(i: int, seconds: float) -> Path:
    import numpy as np
    import soundfile as sf

    folder = CACHE / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"clip{i}_{int(seconds)}s.wav"
    if not path.exists():
        rng = np.random.default_rng(i)
        t = np.arange(int(SR * seconds)) / SR
        base = 110 * (i + 1)
        left = 0.2 * np.sin(2 * np.pi * base * t) + 0.1 * np.sin(2 * np.pi * 55 * t) \
            + 0.05 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2 * t) > 0.8)
        right = 0.2 * np.sin(2 * np.pi * base * 1.5 * t) + 0.1 * np.sin(2 * np.pi * 55 * t)
        sf.write(str(path), np.stack([left, right], 1).astype(np.float32), SR, subtype="PCM_16")
    return path


def ensure_warmup_clip() -> Path:
    import numpy as np
    import soundfile as sf

    path = CACHE / "clips" / "warmup_2s.wav"
    if not path.exists():
        t = np.arange(2 * SR) / SR
        sf.write(str(path), np.stack([np.sin(2 * np.pi * 220 * t)] * 2, 1).astype(np.float32) * 0.2, SR)
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux /proc): compares the work done by both
    sides on a machine shared with other processes, where wall time mostly measures the others."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Sidecar:
    def __init__(self, env: dict | None = None):
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([PY, "-m", "sfa_sidecar", "--no-devices"], cwd=str(PYDIR),
                                     env={**os.environ, **SIDECAR_ENV, **(env or {})}, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        hello = json.loads(self.proc.stdout.readline())
        assert hello["type"] == "hello", hello
        self.hello_s = time.perf_counter() - self.t0
        self.n = 0
        self.last_cpu = 0.0  # CPU seconds of the last request

    def request(self, op: str, params: dict) -> tuple[dict, float]:
        self.n += 1
        rid = f"b{self.n}"
        t0 = time.perf_counter()
        c0 = cpu_seconds(self.proc.pid)
        self.proc.stdin.write(json.dumps({"type": "request", "id": rid, "op": op, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = json.loads(self.proc.stdout.readline())
            if msg.get("type") == "progress":
                continue
            if msg.get("type") == "error":
                raise RuntimeError(f"sidecar error: {msg}")
            wall = time.perf_counter() - t0  # before reading /proc: that read waits while the sidecar trims its heap
            self.last_cpu = cpu_seconds(self.proc.pid) - c0
            return msg["result"], wall

    def close(self) -> float:
        """Shut down; return the peak RSS in MB."""
        hwm = vm_hwm_mb(self.proc.pid)
        self.proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
        self.proc.stdin.flush()
        _pid, _status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = 0
        return max(hwm or 0.0, usage.ru_maxrss / 1024)


CLI_CPU: list[float] = []  # CPU seconds of each CLI call, in order


def run_cli(repo: Path, clip: Path, out: Path, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one `python -m demucs` call; its CPU time goes to CLI_CPU."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "demucs", "--repo", str(repo), "-n", MODEL, "--shifts", "1", "--overlap", "0.25",
                             *extra, "-o", str(out), str(clip)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": str(THREADS)})
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"demucs CLI failed: {proc.stderr.read().decode()[-1000:]}")
    CLI_CPU.append(usage.ru_utime + usage.ru_stime)
    return wall, usage.ru_maxrss / 1024


def read_stems(folder: Path) -> dict[str, "np.ndarray"]:
    import numpy as np  # noqa: F401
    import soundfile as sf

    return {p.stem: sf.read(str(p), dtype="float32")[0] for p in sorted(folder.glob("*.wav"))}


def compare(ours: dict, ref: dict) -> tuple[float, float]:
    """(max abs difference, SNR dB of ours against ref) over all stems."""
    import numpy as np

    assert sorted(ours) == sorted(ref) and ours, (sorted(ours), sorted(ref))
    worst, signal, noise = 0.0, 0.0, 0.0
    for name in ref:
        diff = ours[name].astype(np.float64) - ref[name]
        worst = max(worst, float(np.abs(diff).max()))
        signal += float((ref[name].astype(np.float64) ** 2).sum())
        noise += float((diff ** 2).sum())
    return worst, (float("inf") if noise == 0 else 10 * math.log10(signal / noise))


def main() -> int:
    t_bench = time.perf_counter()
    repo = ensure_model()
    clips = ensure_clips()
    out = CACHE / "out"
    shutil.rmtree(out, ignore_errors=True)
    log(f"clips: {BATCH} x {SECONDS:.0f} s; model {MODEL} (random full-size htdemucs); threads {THREADS}")

    base = {"model": MODEL, "repo": str(repo), "shifts": 1, "overlap": 0.25, "format": "wav", "wavDepth": 16,
            "threads": THREADS, "precision": PRECISION}
    # --- (0) preparation, once per machine and model: where the default path runs OpenVINO, the
    # first job converts the model (cached on disk) and measures it against PyTorch on its chunks.
    t0 = time.perf_counter()
    prep_car = Sidecar()
    # 80 s: enough chunks for the measurement (three calls each way, two chunks a call where two
    # run at once) whatever SFA_BENCH_SECONDS says.
    prep, _ = prep_car.request("separate", {**base, "path": str(ensure_clip(0, 80.0)), "outDir": str(out / "ours" / "prep")})
    prep_car.close()
    prep_s = time.perf_counter() - t0
    log(f"preparation (first job on this machine, cached afterwards): {prep_s:.1f} s; {prep['runtime']}: {prep['runtimeReason']}")

    # --- (a) single track: ours cold (spawn + hello + load + separate), then one CLI call
    t0 = time.perf_counter()
    car = Sidecar()
    hello_s = car.hello_s
    first, first_wall = car.request("separate", {**base, "path": str(clips[0]), "outDir": str(out / "ours" / "cold")})
    cold = time.perf_counter() - t0
    cold_cpu = cpu_seconds(car.proc.pid)  # everything the sidecar did: start, load, separate
    first_peak = vm_hwm_mb(car.proc.pid) or 0.0  # after one job, as the CLI's (one job per process)
    precision, precision_reason = first["precision"], first["precisionReason"]
    runtime, runtime_reason = first["runtime"], first["runtimeReason"]
    default_is_exact = precision == "float32" and runtime == "torch"
    log(f"ours cold: hello {hello_s:.2f} s + request {first_wall:.2f} s = {cold:.2f} s "
        f"(load {first['timings']['load']:.2f}, compute {first['timings']['compute']:.2f}); {precision_reason}")

    # --- (b) batch, interleaved (CLI call i, then our warm request i); before the first
    # COLD_RUNS - 1 CLI calls, another cold sidecar on the same clip
    cli_walls, cli_peaks, results, walls, cpus, colds = [], [], [], [], [], [cold]
    for i, clip in enumerate(clips):
        if 0 < i < COLD_RUNS:
            t0 = time.perf_counter()
            cold_car = Sidecar()
            cold_car.request("separate", {**base, "path": str(clip), "outDir": str(out / "ours" / f"cold{i}")})
            colds.append(time.perf_counter() - t0)
            cold_car.close()
            log(f"{clip.name}: ours cold {colds[-1]:.2f} s")
        wall, peak = run_cli(repo, clip, out / "cli")
        cli_walls.append(wall)
        cli_peaks.append(peak)
        res, wall = car.request("separate", {**base, "path": str(clip), "outDir": str(out / "ours" / f"t{i}")})
        results.append(res)
        walls.append(wall)
        cpus.append(car.last_cpu)
        timings = res["timings"]
        log(f"{clip.name}: cli {cli_walls[-1]:.2f} s (peak {peak:.0f} MB); ours warm {wall:.2f} s "
            f"(compute {timings['compute']:.2f}, decode {timings['decode']:.3f}, write {timings['write']:.3f}, "
            f"outside the job {wall - timings['total']:.3f})")
    batch_ours = sum(walls)
    default_peak = max(first_peak, vm_hwm_mb(car.proc.pid) or 0.0)  # the default path's jobs only

    # --- (c) the exact path: speed (only if the default path is not already float32) and parity
    exact_cold = cold
    if not default_is_exact:
        t0 = time.perf_counter()
        exact_car = Sidecar()
        exact_car.request("separate", {**base, "precision": "exact", "path": str(clips[0]),
                                       "outDir": str(out / "ours" / "exact")})
        exact_cold = time.perf_counter() - t0
        exact_car.close()
        log(f"exact path cold: {exact_cold:.2f} s")
    exact_ratio = exact_cold / cli_walls[0]
    zero = {**base, "shifts": 0, "wavDepth": "float", "path": str(clips[0])}
    run_cli(repo, clips[0], out / "cli0", ("--shifts", "0", "--float32"))
    cli0 = read_stems(out / "cli0" / MODEL / clips[0].stem)
    car.request("separate", {**zero, "precision": "exact", "outDir": str(out / "ours" / "exact0")})
    exact0 = read_stems(out / "ours" / "exact0")
    parity_max_abs, _ = compare(exact0, cli0)
    if not default_is_exact:
        car.request("separate", {**zero, "outDir": str(out / "ours" / "auto0")})
        _, snr = compare(read_stems(out / "ours" / "auto0"), exact0)
    else:
        snr = float("inf")  # the default path is the exact float32 path on this CPU
    log(f"parity (exact vs CLI, shifts 0): max abs {parity_max_abs:.2e}; default path SNR vs float32 {snr:.1f} dB")
    ours_peak_all = car.close()

    # --- (f) a song's length: one fresh sidecar, one CLI call
    song_peak = song_cli_peak = song_ratio = float("nan")
    if SONG_SECONDS > 0:
        song = ensure_clip(9, SONG_SECONDS)
        song_cli_wall, song_cli_peak = run_cli(repo, song, out / "cli-song")
        t0 = time.perf_counter()
        song_car = Sidecar()
        song_car.request("separate", {**base, "path": str(song), "outDir": str(out / "ours" / "song")})
        song_ratio = (time.perf_counter() - t0) / song_cli_wall
        song_peak = song_car.close()
        log(f"song of {SONG_SECONDS:.0f} s: ours cold {song_ratio * song_cli_wall:.1f} s, peak {song_peak:.0f} MB; "
            f"cli {song_cli_wall:.1f} s, peak {song_cli_peak:.0f} MB")

    computes = [r["timings"]["compute"] for r in results]
    overhead = sum(w - c for w, c in zip(walls, computes)) / len(walls)
    cli_overhead = sum(w - c for w, c in zip(cli_walls, computes)) / len(walls)
    batch_cli = sum(cli_walls)
    single_cold_ratio = cold / cli_walls[0]
    # Every CLI call is a cold process; one call's wall swung by a third between runs here (PyTorch's
    # 2-thread speed does), so the ratio is also given against the median of the four.
    single_median_ratio = cold / statistics.median(cli_walls)
    # ... and, the steadiest figure, the median of our cold runs against the median of the CLI's.
    single_medians_ratio = statistics.median(colds) / statistics.median(cli_walls)
    single_warm_ratio = walls[0] / cli_walls[0]
    # A track the app separates once its sidecar holds the model (loaded while a link downloads,
    # src/main/workers/separation-warmup.ts, or by the track before it): a warm job; medians again.
    single_warm_medians_ratio = statistics.median(walls) / statistics.median(cli_walls)
    rtf = sum(computes) / (len(computes) * SECONDS)
    cli_cpus = CLI_CPU[:len(clips)]
    single_cpu_ratio = cold_cpu / cli_cpus[0]
    batch_cpu_speedup = sum(cli_cpus) / sum(cpus)
    runtime_label = f"{runtime}-{precision}"

    rows = [
        ("clip seconds x tracks", f"{SECONDS:.0f} x {BATCH}", f"{SECONDS:.0f} x {BATCH}", ""),
        ("single track, cold (spawn+hello+load+separate) s", f"{cold:.2f}", f"{cli_walls[0]:.2f}", f"{single_cold_ratio:.3f}"),
        ("single track, cold, against the CLI's median call s", f"{cold:.2f}", f"{statistics.median(cli_walls):.2f}",
         f"{single_median_ratio:.3f}"),
        (f"single track, cold: median of our {len(colds)} against the CLI's {len(cli_walls)} s",
         f"{statistics.median(colds):.2f}", f"{statistics.median(cli_walls):.2f}", f"{single_medians_ratio:.3f}"),
        ("single track, warm sidecar s", f"{walls[0]:.2f}", f"{cli_walls[0]:.2f}", f"{single_warm_ratio:.3f}"),
        (f"single track, warm (the app's): median of our {len(walls)} against the CLI's {len(cli_walls)} s",
         f"{statistics.median(walls):.2f}", f"{statistics.median(cli_walls):.2f}", f"{single_warm_medians_ratio:.3f}"),
        ("exact path (float32), cold s", f"{exact_cold:.2f}", f"{cli_walls[0]:.2f}", f"{exact_ratio:.3f}"),
        ("single track, cold: CPU seconds", f"{cold_cpu:.1f}", f"{cli_cpus[0]:.1f}", f"{single_cpu_ratio:.3f}"),
        (f"batch of {BATCH}: CPU seconds", f"{sum(cpus):.1f}", f"{sum(cli_cpus):.1f}", f"speedup {batch_cpu_speedup:.3f}"),
        ("sidecar start to hello s", f"{hello_s:.2f}", "-", ""),
        (f"batch of {BATCH} s", f"{batch_ours:.2f}", f"{batch_cli:.2f}", f"speedup {batch_cli / batch_ours:.3f}"),
        ("per-track overhead s (wall - compute)", f"{overhead:.3f}", f"{cli_overhead:.3f}", ""),
        ("model compute per track s (ours)", f"{sum(computes) / len(computes):.2f}", "-", ""),
        ("peak RSS MB (default path: cold job, batch)", f"{default_peak:.0f}", f"{max(cli_peaks):.0f}",
         f"{default_peak / max(cli_peaks):.3f}"),
        ("peak RSS MB (whole run, exact path too)", f"{ours_peak_all:.0f}", f"{max(cli_peaks):.0f}",
         f"{ours_peak_all / max(cli_peaks):.3f}"),
        ("peak RSS MB after the first job", f"{first_peak:.0f}", f"{cli_peaks[0]:.0f}", f"{first_peak / cli_peaks[0]:.3f}"),
        (f"song of {SONG_SECONDS:.0f} s, cold: peak RSS MB", f"{song_peak:.0f}", f"{song_cli_peak:.0f}",
         f"{song_peak / song_cli_peak:.3f}"),
        (f"song of {SONG_SECONDS:.0f} s, cold: wall", "-", "-", f"{song_ratio:.3f}"),
        ("rtf cpu (compute / audio)", f"{rtf:.3f}", "-", ""),
        ("parity exact vs CLI --float32, shifts 0: max abs", f"{parity_max_abs:.2e}", "-", ""),
        ("default path vs exact float32: SNR dB", f"{snr:.1f}", "-", ""),
        ("default path precision", precision, "float32", precision_reason),
        ("default path runtime", runtime, "torch", runtime_reason),
        ("preparation: first job on this machine s", f"{prep_s:.1f}", "-", prep["runtimeReason"]),
        ("benchmark wall s", f"{time.perf_counter() - t_bench:.0f}", "-", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'figure'.ljust(width)}  {'ours':>12}  {'cli':>10}  ratio")
    for label, ours_v, cli_v, ratio in rows:
        print(f"{label.ljust(width)}  {ours_v:>12}  {cli_v:>10}  {ratio}")
    print(f"BENCH separation single_ratio={single_cold_ratio:.3f} batch_speedup={batch_cli / batch_ours:.3f} "
          f"overhead_s={overhead:.3f} ours_peak_mb={default_peak:.0f} cli_peak_mb={max(cli_peaks):.0f} "
          f"parity_max_abs={parity_max_abs:.2e} parity_snr_db={snr:.1f} runtime={runtime_label} "
          f"single_warm_ratio={single_warm_ratio:.3f} exact_ratio={exact_ratio:.3f} cli_overhead_s={cli_overhead:.3f} "
          f"rtf_cpu={rtf:.3f} single_cpu_ratio={single_cpu_ratio:.3f} batch_cpu_speedup={batch_cpu_speedup:.3f} "
          f"ours_peak_all_mb={ours_peak_all:.0f} song_peak_mb={song_peak:.0f} song_cli_peak_mb={song_cli_peak:.0f} "
          f"song_ratio={song_ratio:.3f} single_ratio_cli_median={single_median_ratio:.3f} "
          f"single_ratio_medians={single_medians_ratio:.3f} cold_runs={len(colds)} "
          f"single_warm_ratio_medians={single_warm_medians_ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
