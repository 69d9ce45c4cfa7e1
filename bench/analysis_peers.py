"""Every key/tempo estimator on every corpus, in one run: ours, the seed's naive method, and the
peers (essentia KeyExtractor bgate/edma/temperley/krumhansl, RhythmExtractor2013; madmom CNN key,
RNN + TempoEstimationProcessor) from the benchmark-only venv (bench/setup_peers.sh).

    python/.venv/bin/python bench/analysis_peers.py [--pieces 48] [--generated-per-key 1]

Corpora: real compositions (bench/corpus/scores.py: music21 scores, 24 keys, 2-3 soundfonts) -
in tune (dev and held-out halves reported apart) and detuned (+25/-35 cents); the generated
held-out songs (bench/corpus, seed 202) for key and tempo. Key: MIREX weighted / exact. Tempo:
Accuracy1 / Accuracy2. Ours also per confidence bucket (how often the top key is right).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "sfa", "numba"))

import numpy as np  # noqa: E402

from analysis_accuracy import acc1, acc2, key_score, naive  # noqa: E402
from corpus import render_all, songs  # noqa: E402
from sfa_sidecar import analyze  # noqa: E402
from sfa_sidecar.analysis import keys  # noqa: E402

PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"
BUCKETS = (0.0, 0.25, 0.5, 0.75, 1.0001)


def have_peers() -> bool:
    return PEERS_PYTHON.exists()


def score_corpus(pieces: int) -> list[dict]:
    subprocess.run([str(PEERS_PYTHON), str(ROOT / "bench" / "corpus" / "scores.py"), "--pieces", str(pieces)],
                   check=True, stdin=subprocess.DEVNULL)
    index = json.loads((ROOT / "bench" / ".cache" / "scores" / "index.json").read_text())
    return index["items"]


def run_peers(paths: list[str], tempo: bool) -> dict[str, dict]:
    args = [str(PEERS_PYTHON), str(ROOT / "bench" / "analysis_peers_worker.py")] + (["--tempo"] if tempo else [])
    proc = subprocess.run(args, input="\n".join(paths) + "\n", capture_output=True, text=True, check=True)
    return {r["path"]: r for r in map(json.loads, proc.stdout.splitlines())}


def parse(name: str) -> tuple[int, str]:
    tonic, mode = name.split()
    return keys.parse_key(f"{tonic} {mode.lower()}")


def evaluate(pieces: int, per_key: int, verbose: bool, with_peers: bool = True) -> dict:
    real = score_corpus(pieces)
    gen = songs("heldout", 202, per_key) if per_key > 0 else []
    gen_paths = [p["mix"] for p in render_all(gen)]
    entries = []  # (corpus, path, truth key, truth bpm or None)
    for item in real:
        for r in item["renders"]:
            corpus = "real detuned" if r["cents"] else f"real {item['split']}"
            entries.append((corpus, r["path"], (item["tonic"], item["mode"]), None, r["cents"]))
    for song, path in zip(gen, gen_paths):
        entries.append(("generated", str(path), (song.tonic, song.mode), song.bpm, 0.0))
    t0 = time.monotonic()
    if with_peers:
        peers = run_peers([e[1] for e in entries if e[0] != "generated"], tempo=False)
        peers.update(run_peers([e[1] for e in entries if e[0] == "generated"], tempo=True))
    else:  # ours and the seed's only (madmom needs ~2 min per clip on a loaded 2-core machine)
        peers = {e[1]: {"keys": {}, "tempo": {}} for e in entries}
    peer_s = time.monotonic() - t0
    rows: dict[tuple[str, str, str], list[float]] = {}
    buckets: list[tuple[float, bool]] = []
    tuning_err: list[float] = []

    def add(corpus: str, est: str, metric: str, value: float) -> None:
        rows.setdefault((corpus, est, metric), []).append(value)

    for corpus, path, truth, bpm, cents in entries:
        r = analyze.run({"path": path, "beats": False})
        estimates = {"ours": (keys.parse_key(r["key"]["key"]), r["tempo"]["bpm"])}
        nk, nt = naive(path)
        estimates["seed naive"] = (nk, nt)
        p = peers[path]
        for name, label in p["keys"].items():
            estimates[name] = (parse(label), None)
        for name, value in p["tempo"].items():
            estimates.setdefault(name, (None, None))
            estimates[name] = (estimates[name][0], value)
        for est, (k, t) in estimates.items():
            if k is not None:
                add(corpus, est, "kw", key_score(truth, k))
                add(corpus, est, "kx", float(k == truth))
            if bpm is not None and t is not None:
                add(corpus, est, "a1", float(acc1(bpm, t)))
                add(corpus, est, "a2", float(acc2(bpm, t)))
        buckets.append((r["key"]["confidence"], estimates["ours"][0] == truth))
        if cents:
            tuning_err.append(abs(r["key"].get("tuning_cents", 0.0) - cents))
        if verbose:
            print(f"{corpus:13s} {Path(path).parent.name[:34]:34s} truth {keys.key_name(*truth):9s} ours {r['key']['key']:9s}"
                  f" {r['key']['confidence']:.2f} tuning {r['key'].get('tuning_cents')} | "
                  + " ".join(f"{n}={lbl}" for n, lbl in p["keys"].items()), flush=True)
    return {"rows": rows, "buckets": buckets, "tuning_err": tuning_err, "peer_seconds": peer_s,
            "counts": {c: sum(1 for e in entries if e[0] == c) for c in {e[0] for e in entries}}}


def report(result: dict) -> dict[str, float]:
    rows = result["rows"]
    corpora = [c for c in ("real dev", "real heldout", "real detuned", "generated") if c in result["counts"]]
    estimators = sorted({e for (_, e, _) in rows}, key=lambda e: (e != "ours", e))
    mean = lambda c, e, m: float(np.mean(rows[(c, e, m)])) if (c, e, m) in rows else float("nan")  # noqa: E731
    print("\nkey: MIREX weighted / exact  (n = " + ", ".join(f"{c} {result['counts'][c]}" for c in corpora) + ")")
    print(f"| estimator | {' | '.join(corpora)} |")
    print("|---|" + "---|" * len(corpora))
    for e in estimators:
        cells = [f"{mean(c, e, 'kw'):.3f} / {mean(c, e, 'kx'):.3f}" if (c, e, "kw") in rows else "" for c in corpora]
        print(f"| {e} | {' | '.join(cells)} |")
    print("\ntempo on the generated corpus: Accuracy1 / Accuracy2")
    for e in estimators:
        if ("generated", e, "a1") in rows:
            print(f"| {e} | {mean('generated', e, 'a1'):.3f} / {mean('generated', e, 'a2'):.3f} |")
    print("\nours: how often the top key is exactly right, per confidence bucket (all corpora)")
    conf = np.array([c for c, _ in result["buckets"]])
    right = np.array([r for _, r in result["buckets"]])
    for lo, hi in zip(BUCKETS[:-1], BUCKETS[1:]):
        sel = (conf >= lo) & (conf < hi)
        if sel.any():
            print(f"  confidence {lo:.2f}-{min(hi, 1):.2f}: {right[sel].mean():.3f} right of {int(sel.sum())}")
    if result["tuning_err"]:
        print(f"tuning estimate on detuned renders: median error {np.median(result['tuning_err']):.1f} cents")
    best_peer_real = max((mean(c, e, "kw") for c in corpora if c.startswith("real") for e in estimators
                          if e.startswith(("essentia", "madmom"))), default=float("nan"))
    out = {
        "real_kw": float(np.mean([v for c in corpora if c.startswith("real") for v in rows.get((c, "ours", "kw"), [])])),
        "real_kx": float(np.mean([v for c in corpora if c.startswith("real") for v in rows.get((c, "ours", "kx"), [])])),
        "real_heldout_kw": mean("real heldout", "ours", "kw"),
        "detuned_kw": mean("real detuned", "ours", "kw"),
        "best_peer_real_kw": best_peer_real,
        "bgate_real_heldout_kw": mean("real heldout", "essentia-bgate", "kw"),
        "madmom_real_heldout_kw": mean("real heldout", "madmom-cnn", "kw"),
        "gen_kw": mean("generated", "ours", "kw"),
        "bgate_gen_kw": mean("generated", "essentia-bgate", "kw"),
        "rhythm2013_acc1": mean("generated", "essentia-rhythm2013", "a1"),
        "madmom_acc1": mean("generated", "madmom", "a1"),
    }
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pieces", type=int, default=48)
    ap.add_argument("--generated-per-key", type=int, default=1, help="0: real compositions only")
    ap.add_argument("--no-peers", action="store_true", help="ours and the seed's naive method only")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not have_peers():  # music21 (the scores) lives there too
        print("the peers' venv is missing: bench/setup_peers.sh", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    out = report(evaluate(args.pieces, args.generated_per_key, args.verbose, not args.no_peers))
    print(f"({time.monotonic() - t0:.0f} s)")
    print("BENCH analysis-peers " + " ".join(f"{k}={v:.3f}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
