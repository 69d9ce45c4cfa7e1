"""Cluster benchmark: what running a job through Ray costs, measured on a loopback cluster.

    python/.venv/bin/python bench/cluster.py        (npm run bench -- cluster)
    SFA_BENCH_CLUSTER_MODEL=htdemucs_rand ...       also the full-size random htdemucs (slow on CPU)

(a) per-job overhead: the same 30 s clip separated by a warm local sidecar and by a warm cluster
    driver (tiny model from a local repo, threads 1, so compute is small and the overhead shows),
    5 jobs each after a warm-up job, interleaved. The overhead is measured inside each cluster
    job: the driver's whole op time minus the time the actor spent in the (unchanged) local op,
    i.e. reading the file, shipping the 5 MB WAV out and the four stems (21 MB) back, scheduling,
    progress polling and writing the stems again here. The two wall-clock medians are printed
    too; on a shared 2-core machine their difference is mostly other processes' load.
(b) object-store transfer rate: an echo actor on a worker node gets a 5 MB payload and returns
    4 x 5 MB; MB/s = bytes moved / round trip (median of 5), through the same connection code
    the driver uses.
(c) a batch of 8 clips (dsp model, 30 s) on 1 worker node (one driver) and on 2 worker nodes (two
    drivers, 4 clips each, as the engine runs them with concurrency 2). On 2 shared CPU cores the
    speed-up is not meaningful (the nodes share the same cores); it shows the overhead holds.
(d) a model, not a measurement: the batch time for 10,000 four-minute tracks on N GPU nodes from
    the measured overhead and transfer rate and an ASSUMED GPU rate of 40x real time (the issue's
    figure for one GPU), with the driver's link ASSUMED to be 1 Gbit/s (117 MB/s) where that is
    slower than the measured loopback rate: every track's WAV goes out and four WAV stems come
    back through the user's machine, so the batch is bound by max(compute / N, bytes / link).
The last line is the machine-readable summary.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYDIR = ROOT / "python"
PY = str(PYDIR / ".venv" / "bin" / "python") if (PYDIR / ".venv" / "bin" / "python").exists() else sys.executable
CACHE = ROOT / "bench" / ".cache" / "cluster"
SR = 44100
SECONDS = float(os.environ.get("SFA_BENCH_SECONDS", 30.0))
TOKEN = "sfa-bench-token"
REPEAT = 5
GPU_RATE = 40.0  # ASSUMED: x real time per GPU node (issue 16)
TRACK_S = 240.0  # ASSUMED: four-minute tracks
LINK_MB_S = 117.0  # ASSUMED: the driver's 1 Gbit/s link
sys.path.insert(0, str(PYDIR))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cluster_cmd(d: Path, *args: str) -> dict:
    proc = subprocess.run([PY, "-m", "sfa_sidecar.cluster.local", *args, "--dir", str(d)], cwd=PYDIR,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"cluster.local {args}: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def clips(n: int) -> list[Path]:
    import numpy as np
    import soundfile as sf

    folder = CACHE / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"clip{i}_{int(SECONDS)}s.wav"
        if not path.exists():
            rng = np.random.default_rng(i)
            t = np.arange(int(SR * SECONDS)) / SR
            left = 0.2 * np.sin(2 * np.pi * 110 * (i + 1) * t) + 0.05 * rng.standard_normal(t.size)
            right = 0.2 * np.sin(2 * np.pi * 165 * (i + 1) * t) + 0.05 * rng.standard_normal(t.size)
            sf.write(str(path), np.stack([left, right], 1).astype(np.float32), SR, subtype="PCM_16")
        out.append(path)
    return out


def tiny_repo() -> Path:
    repo = CACHE / "models"
    if not (repo / "tiny.yaml").exists() and not list(repo.glob("tiny*.th")):
        subprocess.run([PY, "-c", f"from sfa_sidecar.separation.tiny_model import build; build({str(repo)!r}, 'tiny', seed=0)"],
                       cwd=PYDIR, check=True, stdout=subprocess.DEVNULL)
    return repo


def full_repo() -> Path:
    repo = ROOT / "bench" / ".cache" / "separation" / "models"
    if not (repo / "htdemucs_rand.yaml").exists():
        subprocess.run([PY, "-m", "sfa_sidecar.separation.tiny_model", str(repo), "--name", "htdemucs_rand", "--full-size"],
                       cwd=PYDIR, check=True, stdout=subprocess.DEVNULL)
    return repo


class Sidecar:
    """A local sidecar or a cluster driver, spoken to over the protocol."""

    def __init__(self, address: str | None = None):
        env = dict(os.environ)
        args = [PY, "-m", "sfa_sidecar", "--no-devices"]
        if address:
            env.update(SFA_RAY_ADDRESS=address, SFA_RAY_TOKEN=TOKEN)
            args = [PY, "-m", "sfa_sidecar", "--cluster"]
        self.proc = subprocess.Popen(args, cwd=PYDIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert json.loads(self.proc.stdout.readline())["type"] == "hello"
        self.n = 0

    def request(self, op: str, params: dict) -> tuple[dict, float]:
        self.n += 1
        t0 = time.perf_counter()
        self.proc.stdin.write(json.dumps({"type": "request", "id": str(self.n), "op": op, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = json.loads(self.proc.stdout.readline())
            if msg["type"] == "progress":
                continue
            if msg["type"] == "error":
                raise RuntimeError(f"{op}: {msg}")
            return msg["result"], time.perf_counter() - t0

    def close(self) -> None:
        self.proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def per_job(sides: list[Sidecar], clip: Path, out: Path, params: dict) -> tuple[list[list[float]], list[dict]]:
    """Interleaved jobs on each side: (walls per side, the last side's results)."""
    for k, side in enumerate(sides):
        side.request("separate", dict(params, path=str(clip), outDir=str(out / f"warm{k}")))
    walls: list[list[float]] = [[] for _ in sides]
    results = []
    for i in range(REPEAT):
        for k, side in enumerate(sides):
            result, wall = side.request("separate", dict(params, path=str(clip), outDir=str(out / f"s{k}job{i}")))
            walls[k].append(wall)
            if k == len(sides) - 1:
                results.append(result)
    return walls, results


def transfer_rate(address: str) -> float:
    """MB/s of a 5 MB payload out and 4 x 5 MB back, through an echo actor on a worker node."""
    os.environ["RAY_AUTH_MODE"], os.environ["RAY_AUTH_TOKEN"] = "token", TOKEN
    from sfa_sidecar.cluster.address import parse
    from sfa_sidecar.cluster.connection import Connection

    ray = Connection(parse(address), TOKEN).ensure()

    class Echo:
        def echo(self, payload: bytes) -> list[bytes]:
            # four distinct objects: pickle would send one object four times by reference
            return [payload[:-1] + bytes([i]) for i in range(4)]

    actor = ray.remote(num_cpus=1)(Echo).remote()
    payload = os.urandom(5 * 1024 * 1024)
    ray.get(actor.echo.remote(ray.put(payload)))  # warm
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        back = ray.get(actor.echo.remote(ray.put(payload)))
        times.append(time.perf_counter() - t0)
        assert len(back) == 4 and back[0][:-1] == payload[:-1] and sum(len(b) for b in back) == 4 * len(payload)
    ray.kill(actor)
    ray.shutdown()
    return 5 * len(payload) / 1e6 / statistics.median(times)


def batch(addresses: list[str], files: list[Path], out: Path) -> float:
    drivers = [Sidecar(a) for a in addresses]
    for i, d in enumerate(drivers):  # warm actors (one per driver, one node each)
        d.request("separate", {"path": str(files[0]), "outDir": str(out / f"warm{i}"), "model": "dsp"})
    shares = [files[i::len(drivers)] for i in range(len(drivers))]
    nodes: set[str] = set()

    def run(d: Sidecar, share: list[Path], k: int) -> None:
        for j, clip in enumerate(share):
            result, _ = d.request("separate", {"path": str(clip), "outDir": str(out / f"d{k}_{j}"), "model": "dsp"})
            nodes.add(result["cluster"]["nodeId"])

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(d, s, k)) for k, (d, s) in enumerate(zip(drivers, shares))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for d in drivers:
        d.close()
    log(f"    batch of {len(files)} on {len(nodes)} node(s): {wall:.2f} s")
    return wall


def model_hours(n_gpu: int, overhead_s: float, transfer_mb_s: float, tracks: int = 10_000) -> tuple[float, float, float]:
    """(hours, compute-bound hours, link-bound hours) for ``tracks`` four-minute tracks."""
    wav_mb = TRACK_S * SR * 2 * 2 / 1e6
    moved_mb = wav_mb * 5  # the mix out, four stems back
    link = min(LINK_MB_S, transfer_mb_s)
    compute = tracks * (TRACK_S / GPU_RATE + overhead_s) / n_gpu
    network = tracks * moved_mb / link
    return max(compute, network) / 3600, compute / 3600, network / 3600


def main() -> int:
    CACHE.mkdir(parents=True, exist_ok=True)
    files = clips(8)
    repo = tiny_repo()
    work = Path(tempfile.mkdtemp(prefix="sfa-bench-cluster-"))
    d = work / "cluster"
    log("starting a loopback cluster (head + 1 worker, 1 CPU) ...")
    info = cluster_cmd(d, "up", "--workers", "1", "--cpus", "1", "--token", TOKEN, "--object-store-mb", "300")
    try:
        address = info["address"]
        params = {"model": "tiny", "repo": str(repo), "threads": 1, "precision": "exact", "shifts": 0}
        log(f"(a) per-job overhead, tiny model, {SECONDS:.0f} s clip ({files[0].stat().st_size / 1e6:.1f} MB WAV)")
        local, driver = Sidecar(), Sidecar(address)
        (local_walls, cluster_walls), results = per_job([local, driver], files[0], work / "a", params)
        local.close()
        driver.close()
        overhead = statistics.median(r["cluster"]["totalSeconds"] - r["cluster"]["busySeconds"] for r in results)
        transfer_s = statistics.median(r["cluster"]["transferSeconds"] for r in results)
        moved = results[0]["cluster"]["bytesSent"] + results[0]["cluster"]["bytesReceived"]
        print(f"local warm sidecar   median {statistics.median(local_walls):.3f} s  ({', '.join(f'{w:.2f}' for w in local_walls)})")
        print(f"cluster driver       median {statistics.median(cluster_walls):.3f} s  ({', '.join(f'{w:.2f}' for w in cluster_walls)})")
        print(f"overhead per job     {overhead:.3f} s (target <= 0.3 s): op time minus the actor's op time; of which "
              f"{transfer_s:.3f} s round trip outside the actor (objects out and back, {moved / 1e6:.1f} MB)")
        extra = ""
        if os.environ.get("SFA_BENCH_CLUSTER_MODEL") == "htdemucs_rand":
            big = {"model": "htdemucs_rand", "repo": str(full_repo()), "threads": 1, "precision": "exact", "shifts": 0}
            short = clips(1)[0]
            local, driver = Sidecar(), Sidecar(address)
            (lw, cw), big_results = per_job([local, driver], short, work / "big", big)
            local.close()
            driver.close()
            big_overhead = statistics.median(r["cluster"]["totalSeconds"] - r["cluster"]["busySeconds"] for r in big_results)
            print(f"full-size random htdemucs: local {statistics.median(lw):.2f} s, cluster {statistics.median(cw):.2f} s, "
                  f"overhead {big_overhead:.3f} s")
            extra = f" overhead_htdemucs_s={big_overhead:.3f}"

        log("(b) object-store transfer rate")
        rate = transfer_rate(address)
        print(f"object store: 5 MB out + 20 MB back at {rate:.0f} MB/s (loopback)")

        log("(c) batch of 8 (dsp model)")
        one = batch([address], files, work / "b1")
        cluster_cmd(d, "add-worker")
        two = batch([address, address], files, work / "b2")
        print(f"batch of 8 x {SECONDS:.0f} s: 1 worker node {one:.2f} s, 2 worker nodes {two:.2f} s "
              f"(2 shared CPU cores: the nodes compete for them)")

        print(f"model (ASSUMED: {TRACK_S / 60:.0f}-min tracks, GPU {GPU_RATE:.0f}x real time, driver link "
              f"{min(LINK_MB_S, rate):.0f} MB/s; measured: overhead {max(overhead, 0):.3f} s/job):")
        for n in (1, 2, 4, 8, 16, 32):
            h, c, net = model_hours(n, max(overhead, 0.0), rate)
            print(f"  10,000 tracks on {n:>2} GPU nodes: {h:6.2f} h (compute {c:6.2f} h, driver link {net:5.2f} h)")
        h8 = model_hours(8, max(overhead, 0.0), rate)[0]
        print(f"BENCH cluster overhead_s={overhead:.3f} transfer_mb_s={rate:.0f} batch8_1node_s={one:.2f} "
              f"batch8_2node_s={two:.2f} model_10k_tracks_8gpu_h={h8:.2f}{extra}")
    finally:
        cluster_cmd(d, "down")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
