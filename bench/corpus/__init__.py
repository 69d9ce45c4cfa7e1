"""A synthesised analysis corpus with ground truth: MIDI written here, rendered by fluidsynth.

Every song has a known key (all 24, each tonic and mode), a known tempo (70-180 BPM), chords
from a realistic progression, a bass line, a melody and a GM drum kit (channel 10). Drums and
the harmonic parts are rendered separately, so every song also comes with ground-truth stems;
the mix is their sum.

Splits that share no progression and no instrument:
- ``dev``: what may be looked at while choosing methods;
- ``devx``: more dev material (also only for choosing methods): progressions that start or end
  off the tonic, other instruments, and arrangement variants (``Song.variant``): ``harmonic``
  (minor: the V chord always major, melody with the raised 7th), ``melodic`` (minor: raised 6th
  and 7th in the melody, major V), ``sparse`` (no chord instrument: bass and melody only),
  ``nobass`` (no bass line);
- ``heldout``: what the benchmark reports. Reviewers can add their own held-out seeds
  (``--seed``), which draw new tempos, melodies, voicings and drum variations.

Rendering needs Debian's ``fluidsynth`` and ``fluid-soundfont-gm``. Renders are cached in
``bench/.cache/`` (git-ignored), keyed by the generator version and the song's parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 2
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "corpus"
RENDER_SR = 44100
PPQ = 480

NOTE_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]
MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
MINOR_SCALE = [0, 2, 3, 5, 7, 8, 10]

# Progressions as scale degrees (0-based) of the mode's scale; "V" in minor uses the raised 7th.
PROGRESSIONS = {
    "dev": {
        "major": [[0, 3, 4, 0], [0, 4, 5, 3], [1, 4, 0, 0], [0, 5, 3, 4]],
        "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2]],
    },
    "devx": {
        "major": [[3, 4, 0, 0], [5, 1, 4, 0], [0, 3, 1, 4], [4, 3, 0, 0], [0, 0, 3, 4], [3, 5, 4, 0]],
        "minor": [[0, 3, 4, 4], [5, 6, 0, 0], [3, 4, 0, 0], [0, 4, 0, 4], [2, 6, 0, 4], [5, 3, 4, 0]],
    },
    "heldout": {
        "major": [[0, 3, 0, 4], [5, 3, 0, 4], [0, 2, 3, 4], [3, 0, 4, 4], [0, 1, 3, 4]],
        "minor": [[0, 5, 3, 4], [0, 3, 6, 5], [0, 6, 5, 4], [3, 0, 4, 0], [0, 2, 6, 3]],
    },
}
# GM programs (0-based). Chords, melody, bass: disjoint between the splits.
INSTRUMENTS = {
    "dev": {"chords": [0, 48, 16, 89], "melody": [73, 80, 11], "bass": [33, 38]},
    "devx": {"chords": [1, 19, 24, 46, 52, 61, 88], "melody": [40, 68, 74, 82], "bass": [36, 37, 43]},
    "heldout": {"chords": [4, 25, 50, 90, 18, 27], "melody": [65, 56, 81, 12, 71], "bass": [32, 34, 35, 39]},
}
DRUM_STYLES = ["rock", "four", "hiphop", "sixteenth", "sparse"]
VARIANTS = ["", "harmonic", "melodic", "sparse", "nobass"]  # devx only; "" = the usual arrangement


@dataclass
class Song:
    name: str
    split: str
    tonic: int
    mode: str
    bpm: float
    progression: list[int]
    chords_program: int
    melody_program: int
    bass_program: int
    drum_style: str
    seed: int
    variant: str = ""  # see VARIANTS; left out of the cache digest when empty (older renders stay valid)

    @property
    def key(self) -> str:
        return f"{(NOTE_NAMES if self.mode == 'major' else MINOR_NAMES)[self.tonic]} {self.mode}"


def songs(split: str, seed: int, per_key: int = 1) -> list[Song]:
    rng = np.random.default_rng(seed)
    out = []
    for rep in range(per_key):
        for mode in ("major", "minor"):
            for tonic in range(12):
                progs = PROGRESSIONS[split][mode]
                inst = INSTRUMENTS[split]
                out.append(
                    Song(
                        name=f"{split}-{seed}-{rep}-{NOTE_NAMES[tonic]}{'' if mode == 'major' else 'm'}",
                        split=split,
                        tonic=tonic,
                        mode=mode,
                        bpm=float(round(rng.uniform(70, 180), 1)),
                        progression=list(progs[int(rng.integers(len(progs)))]),
                        chords_program=int(rng.choice(inst["chords"])),
                        melody_program=int(rng.choice(inst["melody"])),
                        bass_program=int(rng.choice(inst["bass"])),
                        drum_style=str(rng.choice(DRUM_STYLES)),
                        seed=int(rng.integers(1 << 30)),
                    )
                )
                if split == "devx":
                    out[-1].variant = str(rng.choice(VARIANTS))
    return out


# ---------------------------------------------------------------------------------------------
# MIDI


def _vlq(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"negative MIDI delta {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(events: list[tuple[int, bytes]], bpm: float) -> bytes:
    """Type-0 SMF. ``events``: (tick, raw message bytes)."""
    tempo = int(round(60_000_000 / bpm))
    body = b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big") + b"\x00\xff\x58\x04\x04\x02\x18\x08"
    last = 0
    # note-offs before note-ons at the same tick
    for tick, msg in sorted(events, key=lambda e: (e[0], 0 if (e[1][0] & 0xF0) == 0x80 else 1)):
        body += _vlq(tick - last) + msg
        last = tick
    body += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, PPQ) + b"MTrk" + struct.pack(">I", len(body)) + body


def _note(events, ch, tick, dur, pitch, vel):
    tick = max(0, int(tick))
    events.append((tick, bytes([0x90 | ch, pitch, max(1, min(127, int(vel)))])))
    events.append((int(tick + dur), bytes([0x80 | ch, pitch, 0])))


def _drums(events, rng, style: str, bars: int):
    ch, beat = 9, PPQ
    for bar in range(bars):
        t0 = bar * 4 * beat
        hum = lambda: int(rng.integers(-8, 9))  # noqa: E731
        if bar % 8 == 0:
            _note(events, ch, t0, beat, 49, 100)
        for b in range(4):
            t = t0 + b * beat
            if style == "four":
                _note(events, ch, t, beat // 4, 36, 115)
                if b in (1, 3):
                    _note(events, ch, t + hum(), beat // 4, 39, 95)
                _note(events, ch, t + beat // 2 + hum(), beat // 4, 46, 70)
            else:
                if b == 0 or (b == 2 and style != "sparse"):
                    _note(events, ch, t, beat // 4, 36, 115)
                if style == "hiphop" and b == 1:
                    _note(events, ch, t + beat // 2, beat // 4, 36, 95)
                if style == "rock" and b == 2:
                    _note(events, ch, t + beat // 2, beat // 4, 36, 90)
                if b in (1, 3):
                    _note(events, ch, t + hum(), beat // 4, 38, 105)
            if style in ("rock", "hiphop"):
                for h in range(2):
                    _note(events, ch, t + h * beat // 2 + hum(), beat // 8, 42, 80 if h == 0 else 60)
            elif style == "sixteenth":
                for h in range(4):
                    _note(events, ch, t + h * beat // 4 + hum(), beat // 8, 42, (85, 50, 65, 50)[h])
                if b == 0 or b == 2:
                    _note(events, ch, t, beat // 4, 36, 110)
            elif style == "sparse":
                _note(events, ch, t + hum(), beat // 8, 51, 70)


def _bars_per_chord(song: Song) -> int:
    return 2 if song.bpm > 140 else 1


def song_bars(song: Song) -> int:
    """Number of 4/4 bars in the song (bar k starts at k x 240 / bpm seconds): ~30 s of music."""
    per_chord = _bars_per_chord(song)
    return int(np.ceil(30.0 / (240.0 / song.bpm) / (4 * per_chord))) * 4 * per_chord


def song_midi(song: Song) -> tuple[bytes, bytes]:
    """(harmonic parts, drums) as two MIDI files."""
    rng = np.random.default_rng(song.seed)
    scale = MAJOR_SCALE if song.mode == "major" else MINOR_SCALE
    bars_per_chord = _bars_per_chord(song)
    bars = song_bars(song)
    harm: list[tuple[int, bytes]] = []
    for ch, prog in ((0, song.chords_program), (1, song.melody_program), (2, song.bass_program)):
        harm.append((0, bytes([0xC0 | ch, prog])))
    always_raised = song.mode == "minor" and song.variant in ("harmonic", "melodic")
    play_chords = song.variant != "sparse"
    play_bass = song.variant != "nobass"
    beat = PPQ
    base = 60 + song.tonic if song.tonic < 7 else 48 + song.tonic  # chord register around C4

    def degree_pitch(deg: int, root_octave: int, raised: bool, raised6: bool = False) -> int:
        octave, d = divmod(deg, 7)
        semis = scale[d]
        if raised and song.mode == "minor" and d == 6:
            semis = 11
        if raised6 and song.mode == "minor" and d == 5:
            semis = 9
        return root_octave + 12 * octave + semis

    chord_style = int(rng.integers(3))
    for bar in range(bars):
        deg = song.progression[(bar // bars_per_chord) % len(song.progression)]
        raised = song.mode == "minor" and deg == 4 and song.progression.count(4) > 0 and rng.random() < 0.5
        if always_raised:
            raised = deg == 4
        triad = [degree_pitch(deg + k, base, raised) for k in (0, 2, 4)]
        if rng.random() < 0.25:
            triad.append(degree_pitch(deg + 6, base, raised))  # a seventh sometimes
        t0 = bar * 4 * beat
        if not play_chords:
            pass
        elif chord_style == 0:  # sustained
            for p in triad:
                _note(harm, 0, t0, 4 * beat - 20, p, 70)
        elif chord_style == 1:  # on beats
            for b in range(4):
                for p in triad:
                    _note(harm, 0, t0 + b * beat, beat - 40, p, 65 if b % 2 else 75)
        else:  # arpeggio
            for i in range(8):
                _note(harm, 0, t0 + i * beat // 2, beat // 2, triad[i % len(triad)] + (12 if i >= 4 else 0), 70)
        # bass: root, sometimes fifth, eighth or quarter notes
        root = degree_pitch(deg, base - 24 if base - 24 >= 33 else base - 12, raised)
        for b in range(4):
            p = root + (7 if (b == 2 and rng.random() < 0.4) else 0)
            if play_bass:
                _note(harm, 2, t0 + b * beat, beat - 30, p, 95)
        # melody: chord tones on strong beats, scale tones between
        for b in range(4):
            if rng.random() < 0.2:
                continue
            if b % 2 == 0:
                p = triad[int(rng.integers(3))] + 12
            else:
                p = degree_pitch(deg + int(rng.integers(-2, 5)), base + 12, raised or always_raised,
                                 song.variant == "melodic")
            length = beat if rng.random() < 0.7 else beat // 2
            _note(harm, 1, t0 + b * beat, length - 20, p, 85)
    drums: list[tuple[int, bytes]] = []
    _drums(drums, rng, song.drum_style, bars)
    return midi_bytes(harm, song.bpm), midi_bytes(drums, song.bpm)


# ---------------------------------------------------------------------------------------------
# Rendering


def have_fluidsynth() -> bool:
    return shutil.which("fluidsynth") is not None and os.path.exists(SOUNDFONT)


def _digest(song: Song) -> str:
    fields = asdict(song)
    if not fields["variant"]:
        del fields["variant"]  # songs without a variant keep their pre-variant digest
    blob = json.dumps([GENERATOR_VERSION, fields], sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:12]


def _render(mid: bytes, out: Path) -> None:
    """fluidsynth's rendering of ``mid`` to ``out``, in a folder of the caller's own (``render``
    renames the whole folder into place, so no file here needs a temporary name)."""
    midi = out.with_suffix(".mid")
    midi.write_bytes(mid)
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-F", str(out), "-r", str(RENDER_SR), "-g", "0.5", SOUNDFONT, str(midi)],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    midi.unlink()


def render(song: Song) -> dict[str, Path]:
    """Paths of the rendered ``mix``, ``drums`` and ``harmonic`` WAVs (cached)."""
    import soundfile as sf

    folder = CACHE / f"{song.name}-{_digest(song)}"
    paths = {k: folder / f"{k}.wav" for k in ("mix", "drums", "harmonic")}
    if (folder / "truth.json").exists():
        return paths
    # Rendered into a folder of this thread's own, then renamed into place whole: two benchmark
    # workers started together may render the same song, and neither may read or replace a file
    # the other is writing. The first rename wins; a later one drops its copy.
    work = folder.with_name(f"{folder.name}.{os.getpid()}-{threading.get_ident()}.part")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    part = {k: work / p.name for k, p in paths.items()}
    harm_mid, drum_mid = song_midi(song)
    _render(harm_mid, part["harmonic"])
    _render(drum_mid, part["drums"])
    h, sr = sf.read(part["harmonic"], dtype="float32", always_2d=True)
    d, _ = sf.read(part["drums"], dtype="float32", always_2d=True)
    n = max(len(h), len(d))
    mix = np.zeros((n, 2), np.float32)
    mix[: len(h)] += h
    mix[: len(d)] += d
    peak = float(np.abs(mix).max()) or 1.0
    if peak > 0.99:  # keep the sum from clipping; scale the stems alike
        for p, x in ((part["harmonic"], h), (part["drums"], d)):
            sf.write(p, x / peak * 0.99, sr, subtype="PCM_16")
        mix = mix / peak * 0.99
    sf.write(part["mix"], mix, sr, subtype="PCM_16")
    (work / "truth.json").write_text(json.dumps(asdict(song)))
    if folder.exists() and not (folder / "truth.json").exists():
        shutil.rmtree(folder, ignore_errors=True)  # left half-written by an older build
    try:
        work.rename(folder)
    except OSError:  # another worker's copy is in place: the same song, rendered alike
        shutil.rmtree(work, ignore_errors=True)
    return paths


def render_all(items: list[Song], workers: int = 2) -> list[dict[str, Path]]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(render, items))
