"""Tempo and downbeat peers on the generated corpus, cached per render (madmom needs minutes per
clip on a loaded 2-core machine, so they are collected once, in the background, and the accuracy
report reads whatever the cache holds).

    nice -n 15 python/.venv/bin/python bench/analysis_peers_tempo.py --collect [--budget-s 3600]
    python/.venv/bin/python bench/analysis_accuracy.py   # prints the peers' rows from the cache

Estimators (bench/analysis_peers_tempo_worker.py, in bench/.venv-peers): essentia
RhythmExtractor2013 (multifeature), madmom RNN beats + TempoEstimationProcessor, madmom RNN
downbeats + DBNDownBeatTrackingProcessor. Collected estimator by estimator over the held-out
songs in corpus order, so a cut-short run covers a prefix of the corpus for each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import CACHE as CORPUS_CACHE, _digest, render_all, songs  # noqa: E402

PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"
CACHE = ROOT / "bench" / ".cache" / "peers-tempo"
ESTIMATORS = ("essentia-rhythm2013", "madmom-tempo", "madmom-downbeats")


def cache_file(mix: Path, estimator: str) -> Path:
    return CACHE / mix.parent.name / f"{estimator}.json"


def cached(mixes: list[Path]) -> dict[str, dict[Path, dict]]:
    """{estimator: {mix path: result}} for what the cache holds."""
    out: dict[str, dict[Path, dict]] = {e: {} for e in ESTIMATORS}
    for e in ESTIMATORS:
        for mix in mixes:
            f = cache_file(mix, e)
            if f.exists():
                out[e][mix] = json.loads(f.read_text())
    return out


def collect(mixes: list[Path], budget_s: float, estimators: tuple[str, ...] = ESTIMATORS) -> None:
    deadline = time.monotonic() + budget_s
    for e in estimators:
        todo = [m for m in mixes if not cache_file(m, e).exists()]
        if not todo or time.monotonic() > deadline:
            continue
        proc = subprocess.Popen([str(PEERS_PYTHON), str(ROOT / "bench" / "analysis_peers_tempo_worker.py"), e],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdin and proc.stdout
        proc.stdin.write("\n".join(str(m) for m in todo) + "\n")
        proc.stdin.close()
        for line in proc.stdout:
            r = json.loads(line)
            f = cache_file(Path(r["path"]), e)
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(r))
            print(f"{e} {Path(r['path']).parent.name} {r.get('bpm', '')} {r['seconds']} s", flush=True)
            if time.monotonic() > deadline:
                proc.kill()
                break
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collect", action="store_true")
    ap.add_argument("--budget-s", type=float, default=3600.0)
    ap.add_argument("--estimators", default=",".join(ESTIMATORS), help="comma-separated subset, in order")
    args = ap.parse_args()
    if not PEERS_PYTHON.exists():
        print("bench/.venv-peers is missing: run bench/setup_peers.sh", file=sys.stderr)
        return 2
    items = songs("heldout", 202, 2)
    if args.collect:  # only what is rendered already (a render job may be running beside it)
        folders = [CORPUS_CACHE / f"{s.name}-{_digest(s)}" for s in items]
        collect([f / "mix.wav" for f in folders if (f / "truth.json").exists()], args.budget_s,
                tuple(args.estimators.split(",")))
    mixes = [p["mix"] for p in render_all(items)]
    have = cached(mixes)
    print(" ".join(f"{e}={len(have[e])}/{len(mixes)}" for e in ESTIMATORS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
