"""bench/corpus/scores.py (the real-composition key corpus): the split keeps the works of an
earlier index where they were, the chorales are a held-out side of their own, renders are found
in the reading checkout's cache, and a MIDI file whose end lies hours after the music renders
only the span asked for."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
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
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)  # registered first: its dataclasses look their module up
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


def _span(work: str, tonic: int, mode: str) -> dict:
    return {"source": f"/x/music21/corpus/{work}.mxl", "work": work, "part": "opening", "m0": 1, "m1": 9,
            "tonic": tonic, "mode": mode, "analysis": "-", "seconds": 20.0}


def test_the_chorales_split_by_work_and_render_once_without_twins():
    scores = load_scores()
    works = [f"bach/bwv{n}" for n in range(1, 201)]
    halves = [scores.hashed_side("chorales", w) for w in works]
    assert set(halves) == {"chorales-dev", "chorales-heldout"} and 80 <= halves.count("chorales-dev") <= 120
    assert halves == [scores.hashed_side("chorales", w) for w in reversed(works)][::-1]  # the work alone decides
    spans = [_span(f"bach/bwv{n}", n % 12, "major" if n % 3 else "minor") for n in range(1, 7)]
    fonts = ["/sf/A.sf2", "/sf/B.sf2"]
    sides = {s["work"]: "chorales-dev" for s in spans}
    chorales = scores.plan_renders(scores.CHORALES, spans, sides, {}, fonts)
    assert [info["split"] for _, info in chorales] == ["chorales-dev"] * 6
    assert all(len(info["renders"]) == 1 and info["renders"][0]["cents"] == 0.0 for _, info in chorales)
    assert all(Path(info["renders"][0]["path"]).parent.parent == scores.CACHE_ROOT / "chorales" for _, info in chorales)
    assert {info["soundfont"] for _, info in chorales} == {"A.sf2", "B.sf2"}  # heard through both
    majors = [info["tonic"] for s, info in chorales if s["mode"] == "major"]
    assert len(set(majors)) == len(majors)  # each major span in another key, round the circle of fifths
    # The composers' scores: three renders a span, each with its detuned twin, in their own cache.
    composers = scores.plan_renders(scores.SCORES, spans[:2], {"bach/bwv1": "dev", "bach/bwv2": "heldout"}, {}, fonts)
    assert len(composers) == 2 * scores.COPIES
    assert all(len(info["renders"]) == 2 and info["renders"][1]["cents"] != 0 for _, info in composers)
    assert all(Path(info["renders"][0]["path"]).parent.parent == scores.CACHE for _, info in composers)
    # A second run keeps what the first planned (no render made again, no peer run again); only a
    # new side is written into its entry.
    earlier = {(s["source"], s["part"], info["copy"]): info for s, info in chorales[:3]}
    again = scores.plan_renders(scores.CHORALES, spans, {**sides, "bach/bwv1": "chorales-heldout"}, earlier, fonts)
    assert [info for _, info in again[1:3]] == [info for _, info in chorales[1:3]]
    assert again[0][1] == {**chorales[0][1], "split": "chorales-heldout"}


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


PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"
PLAYED_ONCE_CHECK = """
import importlib.util, json, sys, tempfile
from pathlib import Path
import mido
from music21 import bar, meter, note, repeat, spanner, stream
spec = importlib.util.spec_from_file_location("scores", sys.argv[1])
scores = sys.modules.setdefault("scores", importlib.util.module_from_spec(spec))
spec.loader.exec_module(scores)

def span(marks=False):
    part = stream.Part()
    for i, pitch in enumerate(["C4", "D4", "E4", "F4"]):
        m = stream.Measure(number=i + 1)
        if i == 0:
            m.append(meter.TimeSignature("4/4"))
        m.append(note.Note(pitch, type="whole"))
        part.append(m)
    ms = part.getElementsByClass("Measure")
    ms[0].leftBarline = bar.Repeat(direction="start")
    ms[1].rightBarline = bar.Repeat(direction="end")
    if marks:
        ms[3].append(repeat.DaCapoAlFine())
        ms[1].append(repeat.Fine())
        part.insert(0, spanner.RepeatBracket(ms[1], number=1))
    score = stream.Score()
    score.append(part)
    return score

def pitches(score):
    path = Path(tempfile.mkdtemp()) / "span.mid"
    score.write("midi", fp=str(path))
    return [m.note for t in mido.MidiFile(str(path)).tracks for m in t if m.type == "note_on" and m.velocity > 0]

left = scores.played_once(span(marks=True)).recurse().getElementsByClass((repeat.RepeatMark, spanner.RepeatBracket))
print(json.dumps([pitches(span()), pitches(scores.played_once(span())), len(left)]))
"""


def test_a_span_with_repeat_signs_is_rendered_once():
    """music21's MIDI export plays repeats again: the render outlasted its span and was cut before
    the cadence its key came from. music21 lives in the peers' venv only."""
    if not PEERS_PYTHON.exists():
        pytest.skip("the peers' venv is not installed (bench/setup_peers.sh): music21 and mido live there")
    out = subprocess.run([str(PEERS_PYTHON), "-c", PLAYED_ONCE_CHECK, str(ROOT / "bench" / "corpus" / "scores.py")],
                         capture_output=True, text=True, timeout=120, check=True).stdout.strip().splitlines()[-1]
    expanded, once, marks_left = json.loads(out)
    assert expanded == [60, 62, 60, 62, 64, 65]  # the export plays measures 1-2 twice (the case guarded against)
    assert once == [60, 62, 64, 65]  # C D E F, each once, in score order
    assert marks_left == 0  # no repeat sign, D.C., Fine or volta bracket is left to expand
