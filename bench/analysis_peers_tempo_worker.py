"""Tempo and downbeat peers, run inside bench/.venv-peers (bench/setup_peers.sh): essentia and
madmom never enter the app's environment (AGPL; non-commercial models).

    bench/.venv-peers/bin/python bench/analysis_peers_tempo_worker.py ESTIMATOR < paths.txt > results.jsonl

ESTIMATOR, each configured the way its docs recommend:
- ``essentia-rhythm2013``: RhythmExtractor2013(method='multifeature') on MonoLoader at 44.1 kHz;
- ``madmom-tempo``: RNNBeatProcessor + TempoEstimationProcessor(fps=100), the strongest tempo;
- ``madmom-downbeats``: RNNDownBeatProcessor + DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4],
  fps=100), the downbeat times.
One JSON line per path: ``{"path", "estimator", "bpm" or "downbeats", "seconds"}``.
"""

from __future__ import annotations

import json
import sys
import time


def make(name: str):
    if name == "essentia-rhythm2013":
        import essentia
        import essentia.standard as es

        essentia.log.warningActive = False
        rhythm = es.RhythmExtractor2013(method="multifeature")
        return lambda path: {"bpm": float(rhythm(es.MonoLoader(filename=path, sampleRate=44100)())[0])}
    if name == "madmom-tempo":
        from madmom.features.beats import RNNBeatProcessor
        from madmom.features.tempo import TempoEstimationProcessor

        rnn, est = RNNBeatProcessor(), TempoEstimationProcessor(fps=100)

        def tempo(path: str) -> dict:
            tempi = est(rnn(path))
            return {"bpm": float(tempi[0][0]) if len(tempi) else 0.0}

        return tempo
    if name == "madmom-downbeats":
        from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

        rnn, dbn = RNNDownBeatProcessor(), DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)

        def downbeats(path: str) -> dict:
            beats = dbn(rnn(path))
            return {"downbeats": [float(t) for t, pos in beats if int(pos) == 1]}

        return downbeats
    raise SystemExit(f"unknown estimator {name}")


def main() -> int:
    name = sys.argv[1]
    run = make(name)
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        t0 = time.perf_counter()
        out = {"path": path, "estimator": name, **run(path)}
        out["seconds"] = round(time.perf_counter() - t0, 3)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
