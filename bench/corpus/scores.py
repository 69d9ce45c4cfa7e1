"""Real compositions for the key benchmark: public-domain scores from music21's corpus (not its
Bach chorales: those are kept for an independent check), rendered through fluidsynth.

Run with the peers venv (music21 lives there, never in the app's):
    bench/.venv-peers/bin/python bench/corpus/scores.py --pieces 48

Ground truth from the score: the key signature at the start, the mode from the final chord's
bass (the major tonic -> major, the relative minor's tonic -> minor); pieces whose signature
changes, whose final bass is neither (modal endings, endings in another key) or that have no key
signature are left out and counted. Each kept piece is transposed so that the set covers all 24
keys (piece i goes to tonic i mod 12 in its own mode), its first MAX_MEASURES rendered with one
of the soundfonts in turn, cut to its first CLIP_SECONDS, and also detuned by DETUNE_CENTS (resampled: a record
played off A4 = 440 Hz). Split: pieces alternate dev / held-out in the (sorted) candidate order,
so no piece has renders in both. Everything lands in bench/.cache/scores/<name>/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "scores"
COMPOSERS = ("mozart", "haydn", "beethoven", "corelli", "schubert", "schumann", "joplin", "handel", "monteverdi",
             "palestrina", "chopin", "scarlatti", "cpebach", "clementi")
# MuseScore_General.sf3 is left out: fluidsynth decompresses its Vorbis samples at load, and
# renders with it timed out (> 3-10 minutes) on the shared 2-core machine.
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
MAX_MEASURES = 40  # only the opening is rendered (CLIP_SECONDS of it kept): bounded render time
CLIP_SECONDS = 60.0
RENDER_SR = 44100
DETUNE_CENTS = (25.0, -35.0)  # one detuned render each for every other piece
PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]


def soundfonts() -> list[str]:
    return [p for p in SOUNDFONTS if os.path.exists(p)]


def truth_of(score) -> tuple[int, str] | None:
    """(tonic pitch class, mode) from the key signature and the final bass, or None."""
    from music21 import key, note, chord

    sigs = list(score.recurse().getElementsByClass(key.KeySignature))
    if not sigs:
        return None
    sharps = {s.sharps for s in sigs}
    if len(sharps) != 1:  # the signature changes: a modulating piece
        return None
    major_tonic = (7 * sigs[0].sharps) % 12
    minor_tonic = (major_tonic + 9) % 12
    lowest = None
    last_offset = None
    for el in score.flatten().notes:
        end = el.offset + el.quarterLength
        if last_offset is None or end >= last_offset - 1e-6:
            pitches = el.pitches if isinstance(el, chord.Chord) else [el.pitch]
            if last_offset is None or end > last_offset + 1e-6:
                last_offset, lowest = end, None
            for p in pitches:
                if lowest is None or p.ps < lowest.ps:
                    lowest = p
    if lowest is None:
        return None
    bass = int(round(lowest.ps)) % 12
    if bass == major_tonic:
        return major_tonic, "major"
    if bass == minor_tonic:
        return minor_tonic, "minor"
    return None


def key_name(tonic: int, mode: str) -> str:
    return f"{(MAJOR_NAMES if mode == 'major' else MINOR_NAMES)[tonic % 12]} {mode}"


def candidates(limit: int) -> list[Path]:
    from music21 import corpus

    paths: list[Path] = []
    for composer in COMPOSERS:
        try:
            found = sorted(Path(p) for p in corpus.getComposer(composer))
        except Exception:  # noqa: BLE001 - a composer missing from this music21 version
            continue
        paths.extend(p for p in found if p.suffix in (".mxl", ".xml", ".musicxml", ".krn", ".abc", ".mid"))
    # Round-robin over composers so a small run still spans several styles.
    by_composer: dict[str, list[Path]] = {}
    for p in paths:
        by_composer.setdefault(next(c for c in COMPOSERS if c in str(p).lower()), []).append(p)
    ordered: list[Path] = []
    while len(ordered) < limit * 4 and any(by_composer.values()):
        for c in list(by_composer):
            if by_composer[c]:
                ordered.append(by_composer[c].pop(0))
    return ordered


def render(midi: Path, soundfont: str, out: Path) -> None:
    part = out.with_suffix(".part.wav")
    subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(part), "-r", str(RENDER_SR), "-g", "0.6", soundfont, str(midi)],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    import soundfile as sf

    y, sr = sf.read(part, dtype="float32", always_2d=True)
    y = y[: int(CLIP_SECONDS * sr)]
    peak = float(np.abs(y).max()) or 1.0
    sf.write(out, y / peak * 0.9, sr, subtype="PCM_16")
    part.unlink()


def detune(src: Path, cents: float, out: Path) -> None:
    """Play the render 2^(cents/1200) faster: every pitch moves by `cents` (and the tempo a little)."""
    import soundfile as sf
    from scipy.signal import resample

    y, sr = sf.read(src, dtype="float32", always_2d=True)
    n = int(round(y.shape[0] / 2 ** (cents / 1200)))
    sf.write(out, np.clip(resample(y, n, axis=0), -1, 1), sr, subtype="PCM_16")


def build(pieces: int) -> list[dict]:
    from music21 import converter

    fonts = soundfonts()
    if len(fonts) < 2 or shutil.which("fluidsynth") is None:
        sys.exit("fluidsynth and two soundfonts are needed: apt-get install -y fluidsynth fluid-soundfont-gm "
                 "musescore-general-soundfont timgm6mb-soundfont")
    CACHE.mkdir(parents=True, exist_ok=True)
    items: list[dict] = []
    skipped: dict[str, int] = {}
    for path in candidates(pieces):
        if len(items) >= pieces:
            break
        name = f"{path.parent.name}-{path.stem}".replace(" ", "_")
        folder = CACHE / name
        meta = folder / "truth.json"
        if meta.exists():
            info = json.loads(meta.read_text())
            if info.get("skip"):
                skipped[info["skip"]] = skipped.get(info["skip"], 0) + 1
                continue
            items.append(info)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        try:
            score = converter.parse(str(path))
        except Exception:  # noqa: BLE001 - a score music21 cannot read is left out
            meta.write_text(json.dumps({"skip": "unreadable"}))
            skipped["unreadable"] = skipped.get("unreadable", 0) + 1
            continue
        truth = truth_of(score)
        if truth is None:
            meta.write_text(json.dumps({"skip": "modal, modulating or no signature"}))
            skipped["modal, modulating or no signature"] = skipped.get("modal, modulating or no signature", 0) + 1
            continue
        index = len(items)
        tonic, mode = truth
        target = index % 12
        shift = (target - tonic + 6) % 12 - 6  # the nearest transposition, -6..+5 semitones
        midi = folder / "score.mid"
        try:
            try:
                opening = score.measures(0, MAX_MEASURES)
                (opening.transpose(shift) if shift else opening).write("midi", fp=str(midi))
            except Exception:  # noqa: BLE001 - a slice music21 cannot export: the whole score
                (score.transpose(shift) if shift else score).write("midi", fp=str(midi))
        except Exception:  # noqa: BLE001 - badly formed repeats and the like: left out, counted
            meta.write_text(json.dumps({"skip": "no MIDI export"}))
            skipped["no MIDI export"] = skipped.get("no MIDI export", 0) + 1
            continue
        font = fonts[index % len(fonts)]
        wav = folder / "render.wav"
        try:
            render(midi, font, wav)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
            meta.write_text(json.dumps({"skip": "render failed or too slow"}))
            skipped["render failed or too slow"] = skipped.get("render failed or too slow", 0) + 1
            continue
        renders = [{"path": str(wav), "cents": 0.0}]
        if index % 2 == 0:
            cents = DETUNE_CENTS[(index // 2) % len(DETUNE_CENTS)]
            det = folder / f"detuned{cents:+.0f}.wav"
            detune(wav, cents, det)
            renders.append({"path": str(det), "cents": cents})
        info = {"name": name, "source": str(path), "key": key_name(target, mode), "tonic": target, "mode": mode,
                "shift": shift, "soundfont": Path(font).name, "split": "dev" if index % 2 == 0 else "heldout",
                "renders": renders}
        meta.write_text(json.dumps(info))
        items.append(info)
        print(f"{name:40s} {info['key']:9s} shift {shift:+d} {Path(font).name}", flush=True)
    (CACHE / "index.json").write_text(json.dumps({"items": items, "skipped": skipped}, indent=1))
    return items


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pieces", type=int, default=48)
    args = ap.parse_args()
    items = build(args.pieces)
    keys = {i["key"] for i in items}
    print(f"{len(items)} pieces, {len(keys)} distinct keys, index at {CACHE / 'index.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
