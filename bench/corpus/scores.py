"""Real compositions for the key benchmark: public-domain scores from music21's corpus, rendered
through fluidsynth, in three collections:

- ``scores``: the composers' folders (FOLDERS), split by work into dev and held-out;
- ``chorales``: J. S. Bach's four-part chorales (music21's ``bach`` folder), halves by a hash of
  each chorale's name; no key method was chosen on them before they were measured. One render per
  span, no detuned twins (the scores' twins answer the tuning question); each chorale is its own work;
- ``chorales-disputed``: the chorale spans that pass readings 1 and 2 below but not 3, rendered
  alike: a check of what the third reading (a key-profile method) selects.

Run with the peers venv (music21 lives there, never in the app's):
    bench/.venv-peers/bin/python bench/corpus/scores.py [--collection chorales|chorales-disputed]

The truth describes the rendered span, not the whole score. From each movement up to two spans
are taken: the opening (from the first bar to the last authentic cadence in the home key that
ends within MAX_SECONDS) and the close (the last MAX_SECONDS or less, ending on the final
cadence); a short piece is one span, whole. A span is kept only when three readings agree:

1. the key signature in force over the whole span (one signature, no change inside; the
   lowest part's, so transposing instruments do not count) gives the major tonic or the
   relative minor's;
2. the span ends on an authentic cadence on that tonic: a chord whose bass is the tonic and
   whose notes are all in its triad, after a chord with the dominant in the bass and the
   leading tone above it; the mode is whichever of the two tonics the cadence lands on;
3. music21's own key analysis of the span (``stream.analyze('key')``) names the same key.

Spans failing any of these (modal, modulating, ending elsewhere) are counted by reason and left
out. Each kept span is rendered COPIES times, each time transposed to the next key of its split
and mode round the circle of fifths (so that the set covers all 24 keys) and with the next
soundfont (so that a span is heard through both), every bar played once (``played_once``:
music21's MIDI export would play its repeats again), cut one second after the cadence chord ends,
and every render has a detuned twin (DETUNE_CENTS in turn for each soundfont: resampled, a record
played off A4 = 440 Hz), so that the detuned score and the in-tune one cover the same spans, all
of them (with a twin for every other span, one near-tie moved the gap between them by 0.024). Split by work (a quartet's movements stay
together; each work's side is kept in splits.json beside this file), new works balanced greedily:
no piece has renders in both splits.
Everything lands in bench/.cache/<collection>/<name>/ (index: bench/.cache/<collection>/index.json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE_ROOT = Path(__file__).resolve().parent.parent / ".cache"
# Each work's split, kept in the repository: the cache can be lost (a new machine), and a rebuilt
# corpus must not move a work that the key method was chosen on into the held-out split. New works
# are added here by the greedy rule (split()) when the corpus grows; commit the file with them.
SPLITS = Path(__file__).resolve().parent / "splits.json"
# Tonal, multi-voice scores only (the folk collections are single melodies; the early-music
# folders are modal). Paths inside music21's corpus; a .krn twin of an .mxl is skipped.
FOLDERS = ("beethoven", "haydn", "mozart", "schumann_robert", "schumann_clara", "chopin", "corelli", "cpebach",
           "handel", "joplin", "schubert", "weber", "verdi", "beach", "johnson_j_r", "liliuokalani", "leadSheet")
SKIP = {"opus133.mxl"}  # the Grosse Fuge: a 15-minute fugue through many keys (and the slowest parse)
# MuseScore_General.sf3 is left out: fluidsynth decompresses its Vorbis samples at load, and
# renders with it timed out (> 3-10 minutes) on the shared 2-core machine.
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
MAX_SECONDS = 45.0  # a span's length at the score's tempo (bounded render and peer time)
MIN_SECONDS = 12.0
TAIL_SECONDS = 1.0  # kept after the cadence chord ends (the release)
RENDER_SR = 44100
DETUNE_CENTS = (25.0, -35.0, 40.0, -20.0)
MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]
# Renders per span (same split). With one render per major span, a rebuild that drew other keys
# and soundfonts moved the in-tune score from 0.961 to 0.901 (bench/ANALYSIS.md, "Corpus
# rebuilt"): which key and soundfont a span is heard in decides some answers, so each span is
# heard in several. (Minor spans, about 1 in 8 in these scores, were rendered 3 times from the
# start so that every minor key is heard.)
COPIES = 3
VERSION = 2  # bump when the span rule changes: cached truths of older rules are ignored


@dataclass(frozen=True)
class Collection:
    """Which of music21's folders, rendered how: ``copies`` renders per span, a detuned twin of
    each or not, and its works split into dev and held-out halves by ``SPLITS`` (balanced) or,
    where ``side`` names the collection's own halves, by a hash of each work (``hashed_side``;
    with ``halves`` off, every work on ``side``). ``music21_agrees``: the spans whose third
    reading, music21's key analysis, agrees (the truth rule), or, for a check of what that rule
    selects, only those where it disagrees (their truth then rests on signature and cadence)."""

    name: str
    folders: tuple[str, ...]
    copies: int
    twins: bool
    side: str | None = None
    halves: bool = True
    music21_agrees: bool = True

    @property
    def cache(self) -> Path:
        return CACHE_ROOT / self.name


SCORES = Collection("scores", FOLDERS, COPIES, twins=True)
CHORALES = Collection("chorales", ("bach",), 1, twins=False, side="chorales")
# The chorale spans the truth rule left out only because music21's profile analysis disagreed:
# whether that rule favours profile methods (bench/ANALYSIS.md, "Bach's chorales").
DISPUTED = Collection("chorales-disputed", ("bach",), 1, twins=False, side="chorales-disputed", halves=False,
                      music21_agrees=False)
COLLECTIONS = {c.name: c for c in (SCORES, CHORALES, DISPUTED)}
CACHE = SCORES.cache  # where the callers that name no collection read


def hashed_side(prefix: str, work: str) -> str:
    """``<prefix>-dev`` or ``<prefix>-heldout`` by the work's name alone: a work never changes side
    as the collection grows, and nothing about its music chose it."""
    return f"{prefix}-{'dev' if int(hashlib.sha1(work.encode()).hexdigest(), 16) % 2 == 0 else 'heldout'}"


def soundfonts() -> list[str]:
    return [p for p in SOUNDFONTS if os.path.exists(p)]


def key_name(tonic: int, mode: str) -> str:
    return f"{(MAJOR_NAMES if mode == 'major' else MINOR_NAMES)[tonic % 12]} {mode}"


def sources(col: Collection = SCORES) -> list[Path]:
    import music21

    root = Path(music21.__file__).parent / "corpus"
    found: list[Path] = []
    for folder in col.folders:
        for p in sorted((root / folder).rglob("*")):
            if p.name in SKIP:
                continue
            if p.suffix in (".mxl", ".xml", ".musicxml") or (p.suffix == ".krn" and not p.with_suffix(".mxl").exists()):
                found.append(p)
    return found


def corpus_file(source: str) -> Path:
    """A span's score in this checkout's music21 corpus: the cached spans keep the absolute path
    of the checkout that parsed them (it is part of each render's tag, so it stays as written)."""
    import music21

    return Path(music21.__file__).parent / "corpus" / source.split("/music21/corpus/", 1)[-1]


def write_index(items: list[dict], rejects: dict[str, int], cache: Path = CACHE) -> None:
    part = cache / "index.json.part"
    part.write_text(json.dumps({"items": items, "rejected": rejects}, indent=1))
    os.replace(part, cache / "index.json")


def index_items(cache: Path = CACHE) -> list[dict]:
    """The index's items with each render's path in this checkout's cache (the index is written
    with the paths of the checkout that rendered them)."""
    items = json.loads((cache / "index.json").read_text())["items"]
    for item in items:
        for r in item["renders"]:
            r["path"] = str(cache / item["name"] / Path(r["path"]).name)
    return items


def work_of(path: Path) -> str:
    """The work a file belongs to: a quartet's movements share their folder."""
    import music21

    rel = path.relative_to(Path(music21.__file__).parent / "corpus")
    return str(rel.parent if rel.stem.startswith("movement") else rel.with_suffix(""))


def seconds_at(stream, ql: float) -> float:
    """Seconds from the stream's start to offset ``ql`` at its metronome marks (music21's MIDI tempo)."""
    total = 0.0
    for start, end, mark in stream.metronomeMarkBoundaries():
        if ql <= start:
            break
        total += (min(ql, end) - start) * mark.secondsPerQuarter()
    return total


def cadences(chords: list[tuple], major_tonic: int) -> list[tuple[int, float, float, str]]:
    """Authentic cadences on the signature's major or relative minor tonic, from chordified
    events (offset, duration, pitch classes, bass pc, measure number): (measure, offset, end, mode)."""
    out = []
    for i, (off, dur, pcs, bass, meas) in enumerate(chords):
        for tonic, mode, third in ((major_tonic, "major", 4), ((major_tonic + 9) % 12, "minor", 3)):
            triad = {tonic, (tonic + third) % 12, (tonic + 7) % 12}
            if bass != tonic or not pcs <= triad:
                continue
            j = i - 1  # the previous harmony: the last event with another bass
            while j >= 0 and chords[j][3] == tonic:
                j -= 1
            if j >= 0 and chords[j][3] == (tonic + 7) % 12 and (tonic + 11) % 12 in chords[j][2]:
                # The tonic chord lasts while the bass stays on the tonic.
                end = off + dur
                k = i + 1
                while k < len(chords) and chords[k][3] == tonic and chords[k][2] <= triad:
                    end = chords[k][0] + chords[k][1]
                    k += 1
                out.append((meas, off, end, mode))
    return out


def spans_of(path: Path, music21_agrees: bool = True) -> tuple[list[dict], dict[str, int]]:
    """Candidate spans of one score that pass the three-way agreement, and the rejects by reason."""
    from music21 import chord, converter, key

    rejects: dict[str, int] = {}

    def reject(reason: str) -> None:
        rejects[reason] = rejects.get(reason, 0) + 1

    try:
        score = converter.parse(str(path)).toSoundingPitch()
    except Exception:  # noqa: BLE001 - a score music21 cannot read is left out
        reject("unreadable")
        return [], rejects
    if not score.parts:
        reject("no parts")
        return [], rejects
    sigs = [(float(s.getOffsetInHierarchy(score.parts[-1])), s.sharps)
            for s in score.parts[-1].recurse().getElementsByClass(key.KeySignature)]
    if not sigs:
        reject("no key signature")
        return [], rejects
    sigs.sort()
    flat = score.chordify()
    events = []
    for c in flat.recurse().getElementsByClass(chord.Chord):
        if not c.pitches:
            continue
        events.append((float(c.getOffsetInHierarchy(flat)), float(c.quarterLength),
                       frozenset(p.pitchClass for p in c.pitches), c.bass().pitchClass, c.measureNumber))
    if not events:
        reject("no notes")
        return [], rejects
    measures = {m.number: float(m.getOffsetInHierarchy(score.parts[0])) for m in score.parts[0].getElementsByClass("Measure")}
    piece_end = max(off + dur for off, dur, *_ in events)

    def signature_over(a: float, b: float) -> int | None:
        before = [s for o, s in sigs if o <= a + 1e-6] or [sigs[0][1]]
        inside = {s for o, s in sigs if a + 1e-6 < o < b - 1e-6}
        return before[-1] if not inside or inside == {before[-1]} else None

    found: list[dict] = []
    first_measure = min(measures)

    def last_measure(end: float) -> int:  # the bar holding the cadence chord's end
        return max(n for n, o in measures.items() if o < end - 1e-6)

    # Opening: the last home cadence ending within MAX_SECONDS of the start.
    sig0 = signature_over(0.0, 0.0)
    opening = [c for c in cadences(events, (7 * sig0) % 12)
               if MIN_SECONDS <= seconds_at(score, c[2]) <= MAX_SECONDS and signature_over(0.0, c[2]) == sig0]
    if opening:
        _, off, end, mode = opening[-1]
        found.append({"part": "opening", "m0": first_measure, "m1": last_measure(end), "q0": 0.0, "q_end": end, "mode": mode, "sig": sig0})
    else:
        reject("no home cadence in the opening")
    # Close: the final cadence (the last tonic chord reaches the piece's last beat), and the
    # span before it, from a bar line, at most MAX_SECONDS long, not overlapping the opening.
    sig_end = [s for o, s in sigs if o <= piece_end][-1]
    final = [c for c in cadences(events, (7 * sig_end) % 12) if c[2] >= piece_end - 1e-6]
    if final:
        _, off, end, mode = final[-1]
        opened = found[0]["q_end"] if found else 0.0
        starts = [(n, o) for n, o in sorted(measures.items())
                  if o >= opened - 1e-6 and seconds_at(score, end) - seconds_at(score, o) <= MAX_SECONDS]
        if starts and seconds_at(score, end) - seconds_at(score, starts[0][1]) >= MIN_SECONDS:
            n0, q0 = starts[0]
            sig = signature_over(q0, end)
            if sig is not None:
                found.append({"part": "close", "m0": n0, "m1": last_measure(end), "q0": q0, "q_end": end, "mode": mode, "sig": sig})
            else:
                reject("signature changes in the close")
        elif not found:
            reject("too short or too long")
    else:
        reject("no final cadence on the signature's tonic (modal or ends elsewhere)")
    kept = []
    for span in found:
        tonic = (7 * span["sig"]) % 12 if span["mode"] == "major" else (7 * span["sig"] + 9) % 12
        excerpt = score.measures(span["m0"], span["m1"])
        try:
            k = excerpt.analyze("key")
        except Exception:  # noqa: BLE001 - music21 cannot analyse this excerpt
            reject("music21 analysis failed")
            continue
        if ((k.tonic.pitchClass, k.mode) == (tonic, span["mode"])) != music21_agrees:
            reject(f"music21 analysis {'disagrees' if music21_agrees else 'agrees'} ({span['part']})")
            continue
        span.update(tonic=tonic, excerpt=excerpt, analysis=f"{k.tonic.name} {k.mode}",
                    seconds=seconds_at(excerpt, span["q_end"] - span["q0"]) + TAIL_SECONDS)
        kept.append(span)
    return kept, rejects


def render(midi: Path, soundfont: str, seconds: float, out: Path) -> None:
    """The first ``seconds`` of fluidsynth's rendering of ``midi``, faded out and normalised.

    fluidsynth streams raw 16-bit stereo to a pipe and is stopped once the span is read: some of
    music21's MIDI exports make it run on for hours after the music (it wrote 0.4-1.5 GB files
    and hit the time limit), so its own end is never waited for."""
    import soundfile as sf

    need = int(seconds * RENDER_SR) * 2 * 2
    proc = subprocess.Popen(["fluidsynth", "-ni", "-q", "-T", "raw", "-O", "s16", "-F", "-", "-r", str(RENDER_SR), "-g", "0.6",
                             soundfont, str(midi)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    timer = threading.Timer(300, proc.kill)
    timer.start()
    try:
        chunks, got = [], 0
        while got < need:
            chunk = proc.stdout.read(min(1 << 20, need - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()
    raw = b"".join(chunks)
    if got < need // 2:
        raise RuntimeError(f"fluidsynth gave {got} of {need} bytes")
    y = np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i2").reshape(-1, 2).astype(np.float32) / 32768.0
    fade = min(y.shape[0], int(0.3 * RENDER_SR))
    y[y.shape[0] - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(y).max()) or 1.0
    part = out.with_suffix(".part.wav")
    sf.write(part, y / peak * 0.9, RENDER_SR, subtype="PCM_16")
    os.replace(part, out)


def detune(src: Path, cents: float, out: Path) -> None:
    """Play the render 2^(cents/1200) faster: every pitch moves by `cents` (and the tempo a little)."""
    import soundfile as sf
    from scipy.signal import resample

    y, sr = sf.read(src, dtype="float32", always_2d=True)
    n = int(round(y.shape[0] / 2 ** (cents / 1200)))
    part = out.with_suffix(".part.wav")  # a killed build leaves no cut-short twin behind
    sf.write(part, np.clip(resample(y, n, axis=0), -1, 1), sr, subtype="PCM_16")
    os.replace(part, out)


def select(col: Collection = SCORES, cached_only: bool = False) -> tuple[list[dict], dict[str, int]]:
    """Every span that passes, with its source (cached per score: parsing and chordifying a
    quartet movement takes a while). Smallest scores first."""
    folder = col.cache / f"spans-v{VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    spans, rejects = [], {}
    for path in sorted(sources(col), key=lambda p: p.stat().st_size):
        cache = folder / (work_of(path).replace("/", "-") + "-" + path.stem + ".json")
        if cache.exists():
            kept, rej = json.loads(cache.read_text())
        elif cached_only:
            rejects["not parsed (--cached-only)"] = rejects.get("not parsed (--cached-only)", 0) + 1
            continue
        else:
            kept, rej = spans_of(path, col.music21_agrees)
            for s in kept:
                s.pop("excerpt")
                s.update(source=str(path), work=work_of(path))
                print(f"  {work_of(path):32s} {path.stem:12s} {s['part']:7s} m{s['m0']}-{s['m1']} "
                      f"{key_name(s['tonic'], s['mode']):9s} {s['seconds']:.0f} s", flush=True)
            print(f"  {path.name}: {len(kept)} kept, rejected {rej}", flush=True)
            cache.write_text(json.dumps([kept, rej]))
        for k, v in rej.items():
            rejects[k] = rejects.get(k, 0) + v
        spans.extend(kept)
    spans.sort(key=lambda s: (s["source"], s["part"]))
    return spans, rejects


def split(spans: list[dict], frozen: dict[str, str] | None = None) -> dict[str, str]:
    """Work -> 'dev' / 'heldout': the works of an earlier index keep their side (a growing corpus
    never moves a work that results were already read on); the others, biggest first, each to the
    split with fewer spans so far."""
    count: dict[str, int] = {}
    for s in spans:
        count[s["work"]] = count.get(s["work"], 0) + 1
    out = {w: side for w, side in (frozen or {}).items() if w in count}
    sizes = {"dev": 0, "heldout": 0}
    for w, side in out.items():
        sizes[side] += count[w]
    for work in sorted((w for w in count if w not in out), key=lambda w: (-count[w], w)):
        side = min(sizes, key=lambda k: (sizes[k], k))
        out[work] = side
        sizes[side] += count[work]
    return out


def earlier_renders(cache: Path = CACHE) -> dict[tuple[str, str, int], dict]:
    """(source, part, copy) -> the index entry of a span rendered by an earlier run: it keeps its
    key, soundfont and detuning, so a grown corpus re-renders nothing and re-runs no peer."""
    if not (cache / "index.json").exists():
        return {}
    return {(i["source"], i["part"], i["copy"]): i for i in index_items(cache)}


def played_once(excerpt):
    """The span as its truth was read: every measure once, in score order. music21's MIDI export
    expands repeats, so a span holding a repeat sign played up to twice its ``seconds`` and its
    render, cut there, ended before the cadence its key was taken from (69 of 189 renders until
    2026-12-03), and badly formed repeats failed to render at all (ExpanderException). Repeat
    barlines become plain ones; D.C./segno marks and volta brackets go (both endings play, as the
    cadence search read them)."""
    from music21 import bar, repeat, spanner

    for measure in excerpt.recurse().getElementsByClass("Measure"):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = bar.Barline("regular")
    for mark in list(excerpt.recurse().getElementsByClass((repeat.RepeatExpression, spanner.RepeatBracket))):
        mark.activeSite.remove(mark)
    return excerpt


# Renders made before played_once() carry no "once" in their truth: they are made again (one with
# no repeat sign comes out the same bytes, so the peers' cached answers still hold for it).
PLAYED_ONCE = "once"


def make_renders(group: list[tuple[dict, dict]], fonts: list[str], cache: Path = CACHE) -> list[tuple[dict, str | None]]:
    """Render (and detune) the renders of one score that are missing or were made with its repeats
    expanded; (info, why it failed or None)."""
    from music21 import converter

    score = None
    out: list[tuple[dict, str | None]] = []
    for s, info in group:
        folder = cache / info["name"]
        wav = Path(info["renders"][0]["path"])
        stale = not info.get(PLAYED_ONCE)
        if stale or not all(Path(r["path"]).exists() for r in info["renders"]):
            folder.mkdir(parents=True, exist_ok=True)
            if stale or not wav.exists():
                if score is None:
                    score = converter.parse(str(corpus_file(s["source"]))).toSoundingPitch()
                excerpt = played_once(score.measures(s["m0"], s["m1"]))
                midi = folder / "score.mid"
                try:
                    (excerpt.transpose(info["shift"]) if info["shift"] else excerpt).write("midi", fp=str(midi))
                    render(midi, fonts[[Path(f).name for f in fonts].index(info["soundfont"])], s["seconds"], wav)
                except Exception as exc:  # noqa: BLE001 - render timeouts: counted
                    out.append((info, f"no render ({type(exc).__name__})"))
                    continue
                info = {**info, PLAYED_ONCE: True}
            for r in info["renders"][1:]:
                detune(wav, r["cents"], Path(r["path"]))
        (folder / "truth.json").write_text(json.dumps(info))
        out.append((info, None))
    return out


def plan_renders(col: Collection, spans: list[dict], sides: dict[str, str], earlier: dict[tuple[str, str, int], dict],
                 fonts: list[str]) -> list[tuple[dict, dict]]:
    """(span, index entry) of every render: an earlier run's entry where there is one, else a new
    one, transposed round the circle of fifths of its side and mode, with the next soundfont
    (and, where the collection has twins, the next detuning)."""
    jobs: list[tuple[dict, dict]] = []
    # The new spans continue the earlier ones' round of keys, soundfonts and detunings.
    counters: dict[tuple[str, str], int] = {}
    per_split: dict[str, int] = {}
    for i in earlier.values():
        counters[(i["split"], i["mode"])] = counters.get((i["split"], i["mode"]), 0) + 1
        per_split[i["split"]] = per_split.get(i["split"], 0) + 1
    all_copies = [(s, c) for s in spans for c in range(col.copies)]
    jobs.extend((s, {**earlier[(s["source"], s["part"], c)], "split": sides[s["work"]]})
                for s, c in all_copies if (s["source"], s["part"], c) in earlier)
    for s, copy in ((s, c) for s, c in all_copies if (s["source"], s["part"], c) not in earlier):
        side = sides[s["work"]]
        k = counters.get((side, s["mode"]), 0)
        counters[(side, s["mode"])] = k + 1
        index = per_split.get(side, 0)
        per_split[side] = index + 1
        target = (k * 7 + (0 if side == "dev" else 3)) % 12  # round the circle of fifths: far keys early
        shift = (target - s["tonic"] + 6) % 12 - 6  # the nearest transposition, -6..+5 semitones
        font = fonts[index % len(fonts)]
        # A later copy's tag names its copy: two copies may draw the same key and soundfont.
        # (Renders already in the index keep the names they were made with.)
        named = [VERSION, s["source"], s["part"], s["m0"], s["m1"], shift, font] + ([copy] if copy else [])
        tag = hashlib.sha1(json.dumps(named).encode()).hexdigest()[:10]
        name = f"{s['work'].replace('/', '-')}-{Path(s['source']).stem}-{s['part']}-{tag}"
        folder = col.cache / name
        wav = folder / "render.wav"
        renders = [{"path": str(wav), "cents": 0.0}]
        if col.twins:
            cents = DETUNE_CENTS[(index // len(fonts)) % len(DETUNE_CENTS)]
            renders.append({"path": str(folder / f"detuned{cents:+.0f}.wav"), "cents": cents})
        info = {"name": name, "source": s["source"], "work": s["work"], "part": s["part"], "copy": copy,
                "measures": [s["m0"], s["m1"]], "key": key_name(target, s["mode"]), "tonic": target, "mode": s["mode"],
                "shift": shift, "soundfont": Path(font).name, "split": side, "music21": s["analysis"],
                "seconds": round(s["seconds"], 2), "renders": renders}
        jobs.append((s, info))
    return jobs


def build(col: Collection = SCORES, cached_only: bool = False) -> list[dict]:
    fonts = soundfonts()
    if len(fonts) < 2 or shutil.which("fluidsynth") is None:
        sys.exit("fluidsynth and two soundfonts are needed: apt-get install -y fluidsynth fluid-soundfont-gm "
                 "timgm6mb-soundfont")
    spans, rejects = select(col, cached_only)
    earlier = earlier_renders(col.cache)
    if col.side:
        sides = {s["work"]: hashed_side(col.side, s["work"]) if col.halves else col.side for s in spans}
    else:
        frozen = json.loads(SPLITS.read_text()) if SPLITS.exists() else {}
        sides = split(spans, {**frozen, **{i["work"]: i["split"] for i in earlier.values()}})
        if any(frozen.get(w) != side for w, side in sides.items()):
            SPLITS.write_text(json.dumps({**frozen, **sides}, indent=1, sort_keys=True) + "\n")
    jobs = plan_renders(col, spans, sides, earlier, fonts)
    done: list[dict] = []
    order = {info["name"]: n for n, (_, info) in enumerate(jobs)}
    # Processes, not threads (music21's parse is pure Python: threads took turns on one core), at
    # most two (a quartet movement's parse holds ~1.5 GB and takes up to a minute), each score
    # parsed once for all its renders.
    by_source: dict[str, list[tuple[dict, dict]]] = {}
    for job in jobs:
        by_source.setdefault(job[0]["source"], []).append(job)
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        futures = [pool.submit(make_renders, group, fonts, col.cache) for group in by_source.values()]
        for future in as_completed(futures):
            for info, why in future.result():
                if why:
                    rejects[why] = rejects.get(why, 0) + 1
                    continue
                done.append(info)
                # Written after every score: the peers can start on the first renders (analysis_peers.py).
                write_index(sorted(done, key=lambda i: order[i["name"]]), rejects, col.cache)
                print(f"{info['name']:60s} {info['split']:7s} {info['key']:9s} shift {info['shift']:+d} "
                      f"{info['seconds']:5.1f} s {info['soundfont']}", flush=True)
    items = sorted(done, key=lambda i: order[i["name"]])
    write_index(items, rejects, col.cache)
    return items


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cached-only", action="store_true",
                    help="only the scores whose spans are already selected (parsing the big quartets takes long)")
    ap.add_argument("--collection", choices=sorted(COLLECTIONS), default=SCORES.name)
    args = ap.parse_args()
    col = COLLECTIONS[args.collection]
    items = build(col, args.cached_only)
    keys = {i["key"] for i in items}
    by_split = {s: sum(1 for i in items if i["split"] == s) for s in sorted({i["split"] for i in items})}
    print(f"{len(items)} spans ({by_split}), {len({i['work'] for i in items})} works, {len(keys)} distinct keys, "
          f"index at {col.cache / 'index.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
