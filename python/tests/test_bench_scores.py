"""bench/corpus/scores.py (the real-composition key corpus): the split keeps the works of an
earlier index where they were, renders are found in the reading checkout's cache, and a MIDI file
whose end lies hours after the music renders only the span asked for."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def load_scores():
    spec = importlib.util.spec_from_file_location("bench_scores", ROOT / "bench" / "corpus" / "scores.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spans(*works: tuple[str, int]) -> list[dict]:
    return [{"work": w} for w, n in works for _ in range(n)]


def test_split_keeps_earlier_works_and_balances_the_new_ones():
    scores = load_scores()
    spans = _spans(("a", 3), ("b", 2), ("c", 1))
    fresh = scores.split(spans)
    assert fresh == {"a": "dev", "b": "heldout", "c": "heldout"}
    # A big new work would move the others under the plain greedy rule; with the earlier index
    # frozen they stay, and only the new ones are balanced against them.
    grown = spans + _spans(("d", 5), ("e", 1))
    assert scores.split(grown)["a"] != "dev" or scores.split(grown)["b"] != "heldout"
    kept = scores.split(grown, fresh)
    assert {w: kept[w] for w in fresh} == fresh
    assert kept["d"] == "dev" and kept["e"] == "heldout"  # sides before d: dev 3, heldout 3


def test_index_paths_resolve_in_this_checkout(tmp_path):
    scores = load_scores()
    item = {"name": "piece-opening-abc", "renders": [{"path": "/elsewhere/scores/piece-opening-abc/render.wav", "cents": 0.0},
                                                     {"path": "/elsewhere/scores/piece-opening-abc/detuned+25.wav", "cents": 25.0}]}
    (tmp_path / "index.json").write_text(json.dumps({"items": [item], "rejected": {}}))
    [got] = scores.index_items(tmp_path)
    assert [r["path"] for r in got["renders"]] == [str(tmp_path / "piece-opening-abc" / "render.wav"),
                                                   str(tmp_path / "piece-opening-abc" / "detuned+25.wav")]


def _midi_with_a_late_end(path: Path, hours: float) -> None:
    """One second of A4 (120 BPM, 480 ticks a beat), then a silent event `hours` later."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus" / "__init__.py")
    corpus = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(corpus)  # registered first: its dataclasses look their module up
    late = 960 + int(hours * 3600 * 2 * corpus.PPQ)
    path.write_bytes(corpus.midi_bytes([(0, bytes([0x90, 69, 100])), (960, bytes([0x80, 69, 0])),
                                        (late, bytes([0x90, 60, 0]))], bpm=120))


def test_render_stops_at_the_span_when_the_midi_runs_on(tmp_path):
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        pytest.skip("fluidsynth and TimGM6mb are needed (apt-get install fluidsynth timgm6mb-soundfont)")
    scores = load_scores()
    midi = tmp_path / "late.mid"
    _midi_with_a_late_end(midi, hours=3)  # fluidsynth left to itself renders all 3 hours
    out = tmp_path / "render.wav"
    t0 = time.monotonic()
    scores.render(midi, str(SOUNDFONT), 2.0, out)
    assert time.monotonic() - t0 < 60
    y, sr = sf.read(out, always_2d=True)
    assert sr == scores.RENDER_SR and y.shape == (2 * sr, 2)
    assert np.abs(y[: sr // 2]).max() > 0.5  # the note is there (normalised to 0.9)
    assert not (tmp_path / "render.part.wav").exists()
