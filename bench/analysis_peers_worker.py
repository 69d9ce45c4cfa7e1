"""Peer estimators, run inside bench/.venv-peers (bench/setup_peers.sh): essentia and madmom never
enter the app's environment (AGPL; non-commercial models).

    bench/.venv-peers/bin/python bench/analysis_peers_worker.py [--tempo] < paths.txt > results.jsonl

Key peers by default; ``--tempo``: the tempo peers instead (cached apart by analysis_peers.py:
madmom's CNN key and its RNN beats cost ~45 s and ~70 s per 30-s clip on the loaded 2-core machine).

One JSON line per input path: ``{"path", "keys": {estimator: "A minor"}, "tempo": {estimator: bpm},
"seconds": {estimator: s}}``. Configured the way each tool's docs recommend: essentia's
KeyExtractor with its defaults except ``profileType`` (bgate is its default), MonoLoader at
44.1 kHz; RhythmExtractor2013 with ``method='multifeature'``; madmom's CNNKeyRecognitionProcessor
+ key_prediction_to_label, and RNNBeatProcessor + TempoEstimationProcessor(fps=100).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

PROFILES = ("bgate", "edma", "temperley", "krumhansl")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tempo", action="store_true", help="the tempo peers instead of the key peers")
    ap.add_argument("--no-madmom", action="store_true")
    args = ap.parse_args()
    import essentia
    import essentia.standard as es

    essentia.log.warningActive = False
    extractors = {} if args.tempo else {p: es.KeyExtractor(profileType=p) for p in PROFILES}
    rhythm = es.RhythmExtractor2013(method="multifeature") if args.tempo else None
    if not args.no_madmom:
        from madmom.features.beats import RNNBeatProcessor
        from madmom.features.key import CNNKeyRecognitionProcessor, key_prediction_to_label
        from madmom.features.tempo import TempoEstimationProcessor

        cnn_key = None if args.tempo else CNNKeyRecognitionProcessor()
        beat_rnn = RNNBeatProcessor() if args.tempo else None
        tempo_est = TempoEstimationProcessor(fps=100) if args.tempo else None
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        out: dict = {"path": path, "keys": {}, "tempo": {}, "seconds": {}}
        t0 = time.perf_counter()
        audio = es.MonoLoader(filename=path, sampleRate=44100)()
        load = time.perf_counter() - t0
        for name, extractor in extractors.items():
            t = time.perf_counter()
            key, scale, _strength = extractor(audio)
            out["keys"][f"essentia-{name}"] = f"{key} {scale}"
            out["seconds"][f"essentia-{name}"] = round(time.perf_counter() - t + load, 4)
        if rhythm is not None:
            t = time.perf_counter()
            bpm = rhythm(audio)[0]
            out["tempo"]["essentia-rhythm2013"] = float(bpm)
            out["seconds"]["essentia-rhythm2013"] = round(time.perf_counter() - t + load, 4)
        if not args.no_madmom:
            if cnn_key is not None:
                t = time.perf_counter()
                out["keys"]["madmom-cnn"] = key_prediction_to_label(cnn_key(path))
                out["seconds"]["madmom-cnn"] = round(time.perf_counter() - t, 4)
            if beat_rnn is not None:
                t = time.perf_counter()
                tempi = tempo_est(beat_rnn(path))
                out["tempo"]["madmom"] = float(tempi[0][0]) if len(tempi) else 0.0
                out["seconds"]["madmom-tempo"] = round(time.perf_counter() - t, 4)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
