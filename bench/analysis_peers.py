"""Every key/tempo estimator on every corpus, in one run: ours, the seed's naive method, and the
peers (essentia KeyExtractor bgate/edma/temperley/krumhansl, RhythmExtractor2013; madmom CNN key,
RNN + TempoEstimationProcessor) from the benchmark-only venv (bench/setup_peers.sh).

    python/.venv/bin/python bench/analysis_peers.py [--pieces 48] [--generated-per-key 1]

Corpora: real compositions (bench/corpus/scores.py: music21 scores, 24 keys, 2-3 soundfonts) -
in tune (dev and held-out halves reported apart) and detuned (+25/-35 cents); Bach's chorales
(``scores.py --collection chorales``: a second held-out set, never tuned on); the generated
held-out songs (bench/corpus, seed 202) for key and tempo. Key: MIREX weighted / exact. Tempo:
Accuracy1 / Accuracy2. Ours also per confidence bucket (how often the top key is right).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench"))
from sfa_sidecar import jit_cache  # noqa: E402

jit_cache.configure()

import numpy as np  # noqa: E402

from analysis_accuracy import acc1, acc2, key_score, naive  # noqa: E402
from corpus import render_all, songs  # noqa: E402
from corpus.scores import COLLECTIONS, SCORES, index_items  # noqa: E402
from sfa_sidecar import analyze  # noqa: E402
from sfa_sidecar.analysis import keys, source  # noqa: E402

PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"
CORPUS_TAG = {"real dev": "real_dev", "real heldout": "real_heldout", "real chorales-dev": "real_chorales_dev",
              "real chorales-heldout": "real_chorales_heldout", "real chorales-disputed": "real_chorales_disputed",
              "real detuned": "real_detuned", "real in tune (the detuned ones' twins)": "real_twins",
              "generated": "generated"}
TWINS = "real in tune (the detuned ones' twins)"
BUCKETS = (0.0, 0.25, 0.5, 0.75, 1.0001)


def have_peers() -> bool:
    return PEERS_PYTHON.exists()


PEER_CACHE = ROOT / "bench" / ".cache" / "peers"
PEER_VERSION = 2  # bump when the worker's estimators or their settings change


def score_corpus(rebuild: bool = False) -> list[dict]:
    """The real-composition renders (bench/corpus/scores.py builds them once, with the peers' venv):
    the composers' scores, then Bach's chorales where they have been rendered (a second held-out set),
    and the chorale spans left out only because music21's analysis disagreed (a check of that rule)."""
    if rebuild or not (SCORES.cache / "index.json").exists():
        subprocess.run([str(PEERS_PYTHON), str(ROOT / "bench" / "corpus" / "scores.py")], check=True, stdin=subprocess.DEVNULL)
    items = index_items()
    for col in (c for c in COLLECTIONS.values() if c is not SCORES):
        if (col.cache / "index.json").exists():
            items += index_items(col.cache)
        else:
            print(f"{col.name}: not rendered, so not measured (bench/.venv-peers/bin/python bench/corpus/scores.py "
                  f"--collection {col.name})", file=sys.stderr)
    return items


def digest(path: str, tempo: bool, version: int = PEER_VERSION) -> str:
    """The peers' answers are cached per render content (re-running ours never re-runs them)."""
    h = hashlib.sha1(f"{version} {tempo}".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def run_peers(paths: list[str], tempo: bool, cached_only: bool = False, essentia_only: bool = False) -> dict[str, dict]:
    """Peer answers per path; with ``cached_only`` only those already cached (missing ones are
    left out of the table, whose cells say n). ``essentia_only``: essentia's estimators alone,
    cached apart (seconds a clip, where madmom's CNN key costs ~45-60 s): a clip madmom has not
    reached yet still counts for essentia's cells."""
    PEER_CACHE.mkdir(parents=True, exist_ok=True)
    cached = {p: PEER_CACHE / f"{digest(p, tempo)}.json" for p in paths}
    for p in paths:  # version 1 ran the same key peers (it also ran the tempo ones on request)
        old = PEER_CACHE / f"{digest(p, tempo, 1)}.json"
        if not tempo and not cached[p].exists() and old.exists():
            cached[p] = old
    partial = {p: PEER_CACHE / f"{digest(p, tempo)}-essentia.json" for p in paths}
    target = partial if essentia_only else cached
    todo = [p for p in paths if not cached[p].exists() and not target[p].exists()]
    if todo and not cached_only:
        args = ([str(PEERS_PYTHON), str(ROOT / "bench" / "analysis_peers_worker.py")] + (["--tempo"] if tempo else [])
                + (["--no-madmom"] if essentia_only else []))
        def next_clip() -> str | None:
            # Checked just before it is sent: a second worker (--reverse) that has met this one
            # half-way finds the clips already answered and stops instead of running them again.
            while todo:
                path = todo.pop(0)
                if not cached[path].exists() and not target[path].exists():
                    return path
            return None

        with subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
            while (path := next_clip()) is not None:
                proc.stdin.write(path + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:  # the worker died: its exit status says why
                    break
                r = json.loads(line)  # one line per clip, cached as it comes (a long run can be cut)
                target[r["path"]].write_text(json.dumps(r))
                print(f"  peers: {Path(r['path']).parent.name[:40]} {r['keys']} {r['tempo']}", flush=True)
            proc.stdin.close()
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, args)
    found = {p: cached[p] if cached[p].exists() else partial[p] for p in paths}
    return {p: json.loads(f.read_text()) for p, f in found.items() if f.exists()}


OURS_CACHE = ROOT / "bench" / ".cache" / "ours"


def ours_and_naive(path: str, key_only: bool) -> tuple[dict, tuple]:
    """Ours (cached per render, analyzer version and the keys module's source) and the seed's."""
    from sfa_sidecar.analysis import ANALYZER_VERSION

    tag = hashlib.sha1((ANALYZER_VERSION + str(key_only) + Path(keys.__file__).read_text()).encode()).hexdigest()[:8]
    out = OURS_CACHE / f"{digest(path, False)}-{tag}.json"
    if out.exists():
        r, nk, nt = json.loads(out.read_text())
        return r, ((tuple(nk) if nk else None), nt)
    if key_only:  # analyze.run's key path (decode, mono, key_of) without the tempo and grid stages
        kr = analyze.key_of(analyze._mono(source.decode_window(path, analyze.SR, 2)))
        r = {"key": kr.to_json(), "tempo": {"bpm": None}}
    else:
        r = analyze.run({"path": path, "beats": False})
        r = {"key": r["key"], "tempo": {"bpm": r["tempo"]["bpm"]}}
    nk, nt = naive_cached(path, key_only)
    OURS_CACHE.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r, nk, nt]))
    return r, ((tuple(nk) if nk else None), nt)


def naive_cached(path: str, key_only: bool) -> tuple:
    """The seed's answers do not change with our analyzer: taken from any earlier entry of this
    render (its chroma_cqt costs ~5-20 s a clip)."""
    d = digest(path, False)
    for old in sorted(OURS_CACHE.glob(f"{d}-*.json")):
        _, nk, nt = json.loads(old.read_text())
        if nk and (key_only or nt is not None):
            return tuple(nk), (None if key_only else nt)
    return naive_key(path) if key_only else naive(path)


def naive_key(path: str) -> tuple[tuple[int, str], None]:
    """The seed's key alone (analysis_accuracy.naive without its beat tracker)."""
    import librosa

    y, sr = librosa.load(path, sr=22050, mono=True)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
    tonic = int(np.argmax(chroma))
    major, minor = (np.roll(np.array(p, float), tonic) for p in keys.PROFILES["binary"])
    return (tonic, "major" if np.dot(chroma, major) >= np.dot(chroma, minor) else "minor"), None


def parse(name: str) -> tuple[int, str]:
    tonic, mode = name.split()
    return keys.parse_key(f"{tonic} {mode.lower()}")


def evaluate(per_key: int, verbose: bool, with_peers: bool = True, peers_only: bool = False, corpora: str = "all",
             tempo: bool = True, cached_only: bool = False, reverse: bool = False, limit: int | None = None,
             key_only: bool = False, essentia_only: bool = False) -> dict:
    real = (score_corpus() if corpora in ("all", "real") else [])[:limit]
    gen = songs("heldout", 202, per_key) if per_key > 0 and corpora in ("all", "generated") else []
    gen_paths = [p["mix"] for p in render_all(gen)]
    entries = []  # (corpus, path, truth key, truth bpm or None)
    twins: set[str] = set()  # in-tune renders that have a detuned twin (the detuned column's reference)
    # What a render's errors are shared with: a work's renders (its spans, keys, soundfonts, twins)
    # err together; each generated song stands alone. The paired comparison resamples these.
    cluster: dict[str, str] = {}
    for item in real:
        for r in item["renders"]:
            corpus = "real detuned" if r["cents"] else f"real {item['split']}"
            entries.append((corpus, r["path"], (item["tonic"], item["mode"]), None, r["cents"]))
            cluster[r["path"]] = item["work"]
        if len(item["renders"]) > 1:
            twins.add(item["renders"][0]["path"])
    for song, path in zip(gen, gen_paths):
        entries.append(("generated", str(path), (song.tonic, song.mode), song.bpm, 0.0))
        cluster[str(path)] = song.name
    t0 = time.monotonic()
    if with_peers:
        # In-tune renders first: on a loaded machine madmom may not reach the detuned ones.
        ordered = sorted(entries, key=lambda e: e[0] == "real detuned")
        if reverse:  # a second worker: each group from its end
            ordered = [e for e in ordered if e[0] != "real detuned"][::-1] + [e for e in ordered if e[0] == "real detuned"][::-1]
        peers = run_peers([e[1] for e in ordered], False, cached_only, essentia_only)
        if tempo:
            gen_paths = [e[1] for e in entries if e[0] == "generated"]
            for path, r in run_peers(gen_paths[:: -1 if reverse else 1], True, cached_only).items():
                peers.setdefault(path, {"keys": {}, "tempo": {}})["tempo"] = r["tempo"]
        if peers_only:
            return {}
    else:  # ours and the seed's only (madmom needs ~2 min per clip on a loaded 2-core machine)
        peers = {e[1]: {"keys": {}, "tempo": {}} for e in entries}
    peer_s = time.monotonic() - t0
    rows: dict[tuple[str, str, str], list[float]] = {}
    by_path: dict[tuple[str, str], dict[str, float]] = {}  # (corpus, estimator) -> render -> MIREX weighted
    buckets: list[tuple[str, float, bool]] = []
    tuning_err: list[float] = []

    def add(corpus: str, est: str, metric: str, value: float) -> None:
        rows.setdefault((corpus, est, metric), []).append(value)

    ours_all = {e[1]: ours_and_naive(e[1], key_only) for e in entries}  # slow part first: the peers fill meanwhile
    if with_peers and cached_only:
        peers = run_peers([e[1] for e in entries], False, True)
        if tempo:
            for path, r in run_peers([e[1] for e in entries if e[0] == "generated"], True, True).items():
                peers.setdefault(path, {"keys": {}, "tempo": {}})["tempo"] = r["tempo"]
    for corpus, path, truth, bpm, cents in entries:
        r, naive_est = ours_all[path]
        estimates = {"ours": (keys.parse_key(r["key"]["key"]), r["tempo"]["bpm"]), "seed-naive": naive_est}
        p = peers.get(path, {"keys": {}, "tempo": {}})
        if "madmom-cnn" in p["keys"]:  # ours again on just the clips the peers reached: a paired comparison
            estimates["ours-on-peer-clips"] = (estimates["ours"][0], None)
        for name, label in p["keys"].items():
            estimates[name] = (parse(label), None)
        for name, value in p["tempo"].items():
            estimates.setdefault(name, (None, None))
            estimates[name] = (estimates[name][0], value)
        for est, (k, t) in estimates.items():
            if k is not None:
                weighted = key_score(truth, k)
                for c in (corpus, TWINS) if path in twins else (corpus,):
                    add(c, est, "kw", weighted)
                    add(c, est, "kx", float(k == truth))
                    by_path.setdefault((c, est), {})[path] = weighted
            if bpm is not None and t is not None and not key_only:
                add(corpus, est, "a1", float(acc1(bpm, t)))
                add(corpus, est, "a2", float(acc2(bpm, t)))
        buckets.append((corpus, r["key"]["confidence"], estimates["ours"][0] == truth))
        if cents:
            tuning_err.append(abs(r["key"].get("tuning_cents", 0.0) - cents))
        if verbose:
            print(f"{corpus:13s} {Path(path).parent.name[:34]:34s} truth {keys.key_name(*truth):9s} ours {r['key']['key']:9s}"
                  f" {r['key']['confidence']:.2f} tuning {r['key'].get('tuning_cents')} | "
                  + " ".join(f"{n}={lbl}" for n, lbl in p["keys"].items()), flush=True)
    counts = {c: sum(1 for e in entries if e[0] == c) for c in {e[0] for e in entries}}
    counts[TWINS] = len(twins)
    return {"rows": rows, "buckets": buckets, "tuning_err": tuning_err, "peer_seconds": peer_s, "counts": counts,
            "by_path": by_path, "cluster": cluster}


NOT_PEERS = ("ours", "ours-on-peer-clips", "seed-naive")
BOOTSTRAP_ROUNDS = 4000


def paired_difference(ours: dict[str, float], peer: dict[str, float], cluster: dict[str, str],
                      rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> tuple[float, float, float, int, int]:
    """Ours minus a peer, MIREX weighted, on the renders both answered: (difference, 95% interval
    low, high, renders, clusters). The interval comes from a bootstrap over clusters (a work's renders
    are drawn together), so a gap of one or two renders reads as what it is."""
    paths = sorted(set(ours) & set(peer))
    if not paths:
        return float("nan"), float("nan"), float("nan"), 0, 0
    groups: dict[str, list[float]] = {}
    for p in paths:
        groups.setdefault(cluster.get(p, p), []).append(ours[p] - peer[p])
    sums = np.array([sum(v) for v in groups.values()])
    sizes = np.array([len(v) for v in groups.values()])
    rng = np.random.default_rng(seed)
    draws = rng.integers(len(sums), size=(rounds, len(sums)))
    means = sums[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(sums.sum() / sizes.sum()), float(low), float(high), len(paths), len(sums)


def report(result: dict) -> dict[str, float]:
    rows = result["rows"]
    corpora = [c for c in CORPUS_TAG if result["counts"].get(c)]
    estimators = sorted({e for (_, e, _) in rows}, key=lambda e: (e != "ours", e))
    mean = lambda c, e, m: float(np.mean(rows[(c, e, m)])) if (c, e, m) in rows else float("nan")  # noqa: E731
    print("\nkey: MIREX weighted / exact  (n = " + ", ".join(f"{c} {result['counts'][c]}" for c in corpora) + ")")
    print(f"| estimator | {' | '.join(corpora)} |")
    print("|---|" + "---|" * len(corpora))
    for e in estimators:
        cells = [f"{mean(c, e, 'kw'):.3f} / {mean(c, e, 'kx'):.3f}"
                 + (f" (n {len(rows[(c, e, 'kw')])})" if len(rows[(c, e, "kw")]) != result["counts"][c] else "")
                 if (c, e, "kw") in rows else "" for c in corpora]
        print(f"| {e} | {' | '.join(cells)} |")
    print("\nours against the best peer of each corpus, on the renders both answered (MIREX weighted;"
          " 95% interval: bootstrap over works / songs)")
    print("| corpus | best peer | ours - peer | 95% interval | renders / clusters |")
    print("|---|---|---|---|---|")
    for c in corpora:
        peers = [e for e in estimators if e not in NOT_PEERS and (c, e, "kw") in rows]
        if not peers or (c, "ours") not in result["by_path"]:
            continue
        best = max(peers, key=lambda e: mean(c, e, "kw"))
        d, lo, hi, n, k = paired_difference(result["by_path"][(c, "ours")], result["by_path"][(c, best)], result["cluster"])
        print(f"| {c} | {best} {mean(c, best, 'kw'):.3f} | {d:+.3f} | {lo:+.3f} .. {hi:+.3f} | {n} / {k} |")
    print("\ntempo on the generated corpus: Accuracy1 / Accuracy2")
    for e in estimators:
        if ("generated", e, "a1") in rows:
            print(f"| {e} | {mean('generated', e, 'a1'):.3f} / {mean('generated', e, 'a2'):.3f} |")
    print("\nours: how often the top key is exactly right, per confidence bucket (right / n)")
    print("| confidence | real compositions (all renders) | generated |")
    print("|---|---|---|")
    for lo, hi in zip(BUCKETS[:-1], BUCKETS[1:]):
        cells = []
        for group in ("real", "generated"):
            sel = [ok for c, conf, ok in result["buckets"] if c.startswith(group) and lo <= conf < hi]
            cells.append(f"{sum(sel)} / {len(sel)}" + (f" ({np.mean(sel):.2f})" if sel else ""))
        print(f"| {lo:.2f}-{min(hi, 1):.2f} | {cells[0]} | {cells[1]} |")
    if result["tuning_err"]:
        print(f"tuning estimate on detuned renders: median error {np.median(result['tuning_err']):.1f} cents")
    out = {f"{e}:{CORPUS_TAG[c]}": (mean(c, e, "kw"), mean(c, e, "kx")) for e in estimators for c in corpora
           if (c, e, "kw") in rows}
    out.update({f"{e}:tempo": (mean("generated", e, "a1"), mean("generated", e, "a2")) for e in estimators
                if ("generated", e, "a1") in rows})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generated-per-key", type=int, default=1, help="0: real compositions only")
    ap.add_argument("--no-peers", action="store_true", help="ours and the seed's naive method only")
    ap.add_argument("--peers-only", action="store_true", help="fill the peers' cache and stop (run it in the background)")
    ap.add_argument("--corpora", choices=("all", "real", "generated"), default="all")
    ap.add_argument("--no-tempo-peers", action="store_true", help="key peers only (madmom's tempo: ~70 s a clip)")
    ap.add_argument("--cached-peers", action="store_true", help="report the peers' cached answers only (n per cell)")
    ap.add_argument("--reverse", action="store_true", help="peers: work through the clips from the end (a second worker)")
    ap.add_argument("--key-only", action="store_true",
                    help="key estimators only: ours through analyze's key path, the seed's chroma_cqt key (no tempo)")
    ap.add_argument("--essentia-only", action="store_true",
                    help="with --peers-only: essentia's key estimators alone (seconds a clip), cached apart from madmom's")
    ap.add_argument("--limit", type=int, default=None, help="the first N real spans only (a smoke run)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not have_peers():  # music21 (the scores) lives there too
        print("the peers' venv is missing: bench/setup_peers.sh", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    result = evaluate(args.generated_per_key, args.verbose, not args.no_peers, args.peers_only, args.corpora,
                      not args.no_tempo_peers and not args.key_only, args.cached_peers, args.reverse, args.limit,
                      args.key_only, args.essentia_only)
    if args.peers_only:
        print(f"peers cached ({time.monotonic() - t0:.0f} s)")
        return 0
    out = report(result)
    print(f"({time.monotonic() - t0:.0f} s)")
    # Every estimator on every corpus: key weighted/exact, tempo Accuracy1/Accuracy2.
    print("BENCH analysis-peers " + " ".join(f"{k}={a:.3f}/{b:.3f}" for k, (a, b) in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
