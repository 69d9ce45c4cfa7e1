"""Key-method study on the DEV splits only: real compositions (bench/corpus/scores.py, dev
spans, in tune), the dev half of Bach's chorales (``scores.py --collection chorales``, where
rendered) and the generated dev songs (analysis_accuracy.py --compare's set, and two more seeds).
The held-out halves are never read here.

    python/.venv/bin/python bench/key_study.py [--variants a,b,... | --group NAME]

Features (pitch spectrogram, tuning, chroma_cqt) are cached per render in bench/.cache/keyfeat,
so a variant costs milliseconds. Prints, per variant, MIREX weighted / exact and the error kinds
(fifth / relative / parallel / other) on each dev corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench"))
from sfa_sidecar import jit_cache  # noqa: E402

jit_cache.configure()

import numpy as np  # noqa: E402

from analysis_accuracy import key_score  # noqa: E402
from corpus.scores import CHORALES, SCORES, Collection, index_items  # noqa: E402
from sfa_sidecar import analyze  # noqa: E402
from sfa_sidecar.analysis import keys, source  # noqa: E402

FEAT = ROOT / "bench" / ".cache" / "keyfeat"


def features(path: str) -> dict[str, np.ndarray]:
    h = hashlib.sha1(Path(path).read_bytes()).hexdigest()[:16]
    out = FEAT / f"{h}.npz"
    if out.exists():
        f = dict(np.load(out))
    else:
        y = source.decode_window(path, 22050, 1)[0]
        semis, cents = keys.pitch_spectrogram(analyze._down2(y), tuning=True)
        f = {"semis": semis, "cents": np.array(cents)}
        FEAT.mkdir(parents=True, exist_ok=True)
        np.savez(out, **f)
    f["path"] = path
    f["digest"] = h  # the render's content hash, which names every feature cached for it
    return f


def chroma_cqt(f: dict) -> np.ndarray:
    """librosa's chroma_cqt (the costliest feature: computed only for the variants that use it)."""
    if "cqt" in f:
        return f["cqt"]
    out = FEAT / f"{f['digest']}-cqt.npy"
    if not out.exists():
        import librosa

        y = source.decode_window(f["path"], 22050, 1)[0]
        np.save(out, librosa.feature.chroma_cqt(y=y, sr=22050))
    return np.load(out)


def _cached(f: dict, name: str, fn):
    if name not in f:
        f[name] = fn()
    return f[name]


def z(x: np.ndarray) -> np.ndarray:
    return keys._z(np.asarray(x, dtype=float))


def prof(f: dict, profile: str, bass: float = keys.BASS_WEIGHT, harmonics: int = 1, slope: float = 1.0) -> np.ndarray:
    return _cached(f, f"prof-{profile}-{bass}-{harmonics}-{slope}", lambda: z(keys.key_scores(
        keys.chroma_profile(f["semis"], bass), profile, harmonics, slope)))


def cqt(f: dict, profile: str) -> np.ndarray:
    return _cached(f, f"cqt-{profile}", lambda: z(keys.key_scores(chroma_cqt(f).mean(axis=1), profile)))


def path(f: dict) -> np.ndarray:
    return _cached(f, "chord_path", lambda: keys.chord_path(f["semis"]))


def func(f: dict) -> np.ndarray:
    def build():
        p = path(f)
        h = np.bincount(p, minlength=24).astype(float)
        return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))
    return _cached(f, "func", build)


MINOR = np.r_[np.zeros(12), np.ones(12)]
FUNCTIONS_II = keys.FUNCTIONS.copy()
for _t in range(12):  # the major II (V of V, Lydian II) neither for nor against a major key
    FUNCTIONS_II[_t, (_t + 2) % 12] = 0.0


def func2(f: dict) -> np.ndarray:
    def build():
        h = np.bincount(path(f), minlength=24).astype(float)
        return z(FUNCTIONS_II @ (h / max(1.0, h.sum())))
    return _cached(f, "func2", build)


def cad(f: dict, min_frames: int = 2) -> np.ndarray:
    """1.2.0's cadence cue (measured there, not taken): V -> I credited to the mode of the triad
    landed on, every cadence counted, the last one included."""
    def build():
        runs = keys.chord_runs(path(f), min_frames)
        out = np.zeros(24)
        for (a, _), (b, _) in zip(runs[:-1], runs[1:]):
            if a == (b % 12 + 7) % 12:
                out[b] += 1.0
        return z(out / max(1, len(runs) - 1))
    return _cached(f, f"cad{min_frames}", build)


def final(f: dict) -> np.ndarray:
    """The last chord run's triad read as a tonic (a corpus-construction cue: measured, flagged)."""
    def build():
        runs = keys.chord_runs(path(f))
        out = np.zeros(24)
        if runs:
            out[runs[-1][0]] = 1.0
        return z(out)
    return _cached(f, "final", build)


def _sevenths_and_dims() -> np.ndarray:
    """(24, 12): dominant sevenths (root, 3rd, 5th, b7) on C..B, then diminished triads on C..B."""
    t = np.zeros((24, 12), dtype=np.float32)
    for r in range(12):
        t[r, [r, (r + 4) % 12, (r + 7) % 12, (r + 10) % 12]] = 1.0
        t[12 + r, [r, (r + 3) % 12, (r + 6) % 12]] = 1.0
    return t / np.linalg.norm(t, axis=1, keepdims=True)


TEMPLATES48 = np.vstack([keys.TRIADS, _sevenths_and_dims()])


def path48(f: dict, dims: bool = True, bias: float = 0.0) -> np.ndarray:
    """The chord path over triads + dominant sevenths (+ diminished triads)."""
    def build():
        semis = f["semis"]
        active = semis.max(axis=0) > 0
        s = semis[:, active]
        treble = keys._fold(s, keys.BASS_SPLIT, keys.HI_MIDI)
        low = keys._fold(s, keys.LO_MIDI, keys.BASS_SPLIT)
        treble /= np.maximum(np.linalg.norm(treble, axis=0, keepdims=True), 1e-9)
        low /= np.maximum(np.linalg.norm(low, axis=0, keepdims=True), 1e-9)
        t = TEMPLATES48 if dims else TEMPLATES48[:36]
        obs = t @ treble + keys.CHORD_BASS * np.tile(low, (t.shape[0] // 12, 1))
        obs[24:] -= bias  # a triad plus its root's 7th harmonic (31 cents under the b7) is not a V7
        return keys.viterbi_chords(obs)
    return _cached(f, f"path48-{dims}-{bias}", build)


def functions48(v7: float, dim: float, v7_other: float = 0.0, dim_other: float = 0.0) -> np.ndarray:
    w = np.zeros((24, 48))
    w[:, :24] = keys.FUNCTIONS
    w[:, 24:36] = v7_other
    w[:, 36:] = dim_other
    for t in range(12):
        for m in (0, 12):
            w[m + t, 24 + (t + 7) % 12] = v7  # V7 of the key (major V in minor too)
            w[m + t, 36 + (t + 11) % 12] = dim  # vii°
    return w


def func48(f: dict, v7: float, dim: float, dims: bool = True, v7_other: float = 0.0, dim_other: float = 0.0,
           bias: float = 0.0) -> np.ndarray:
    def build():
        p = path48(f, dims, bias)
        h = np.bincount(p, minlength=48).astype(float)
        return z(functions48(v7, dim, v7_other, dim_other) @ (h / max(1.0, h.sum())))
    return _cached(f, f"func48-{v7}-{dim}-{dims}-{v7_other}-{dim_other}-{bias}", build)


def functions_w(iv: float, v: float, minor_v: float | None = None) -> np.ndarray:
    """keys.FUNCTIONS with the IV and V weights of both modes changed (V the major triad a fifth up)."""
    w = keys.FUNCTIONS.copy()
    for t in range(12):
        for m, iv_quality in ((0, 0), (12, 12)):
            w[m + t, iv_quality + (t + 5) % 12] = iv
            w[m + t, (t + 7) % 12] = v if m == 0 or minor_v is None else minor_v
    return w


def funcw(f: dict, iv: float, v: float, minor_v: float | None = None) -> np.ndarray:
    def build():
        h = np.bincount(path(f), minlength=24).astype(float)
        return z(functions_w(iv, v, minor_v) @ (h / max(1.0, h.sum())))
    return _cached(f, f"funcw-{iv}-{v}-{minor_v}", build)


# Diatonic-set profiles: which of the seven-note collections the music uses (what separates a key
# from its dominant is one pitch class: F vs F# for C vs G). Minor with the raised 7th (the V
# chord of harmonic minor), or with both 7ths at half weight.
keys.PROFILES.setdefault("binary-harmonic", ([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1]))
keys.PROFILES.setdefault("binary-both", ([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0.5, 0.5]))


def cad_pc(f: dict, three: bool = False, min_frames: int = 2, raw: bool = False, tail: float = 0.0) -> np.ndarray:
    """Authentic cadences credited to the tonic's pitch class in both modes (a V -> I motion says
    which note is the tonic, not the mode: the chord after V may be a Picardy third or misread).
    ``three``: only predominant -> V -> tonic (IV or ii before the V; iv in minor), which an I -> IV
    motion of the dominant's key cannot imitate as easily."""
    def build():
        runs = keys.chord_runs(path(f), min_frames)
        out = np.zeros(24)
        if len(runs) < 2:
            return out
        chords = [c for c, _ in runs]
        starts = np.cumsum([0] + [n for _, n in runs])[:-1] * keys.KEY_HOP / keys.KEY_SR
        end = sum(n for _, n in runs) * keys.KEY_HOP / keys.KEY_SR
        for i in range(1, len(chords)):
            if tail and (i == len(chords) - 1 or starts[i] > end - tail):
                continue  # the corpus cuts each span after a cadence: cadences near the end are not counted
            a, b = chords[i - 1], chords[i]
            tonic = b % 12
            if a != (tonic + 7) % 12:
                continue
            if three:
                if i < 2:
                    continue
                pre = chords[i - 2]
                if pre not in ((tonic + 5) % 12, 12 + (tonic + 2) % 12, 12 + (tonic + 5) % 12):
                    continue
            out[tonic] += 1.0
            out[12 + tonic] += 1.0
        share = out / (len(chords) - 1)
        return share if raw else z(share)
    return _cached(f, f"cadpc-{three}-{min_frames}-{raw}-{tail}", build)


VARIANTS = {
    "keys.py as it stands": lambda f: keys.combined_scores(f["semis"]),
    "1.2.0 chosen (KK bass2 + func, V/V neutral)": lambda f: prof(f, "krumhansl") + func(f),
    "func alone": lambda f: func(f),
    "0.5 KK + func": lambda f: 0.5 * prof(f, "krumhansl") + func(f),
    "1.5 KK + func": lambda f: 1.5 * prof(f, "krumhansl") + func(f),
    "KK bass1 + func": lambda f: prof(f, "krumhansl", 1.0) + func(f),
    "KK bass3 + func": lambda f: prof(f, "krumhansl", 3.0) + func(f),
    "KK + func(II major neutral)": lambda f: prof(f, "krumhansl") + func2(f),  # = 1.2.0 since keys.FUNCTIONS has it
    "KK + funcII + minor 0.2": lambda f: prof(f, "krumhansl") + func2(f) + MINOR * 0.2,
    "KK + funcII + minor 0.4": lambda f: prof(f, "krumhansl") + func2(f) + MINOR * 0.4,
    "KK + funcII + minor 0.6": lambda f: prof(f, "krumhansl") + func2(f) + MINOR * 0.6,
    "KK + temperley + func": lambda f: prof(f, "krumhansl") + prof(f, "temperley") + func(f),
    "KK bass2 alone": lambda f: prof(f, "krumhansl"),
    "albrecht bass2 + func": lambda f: prof(f, "albrecht") + func(f),
    "temperley bass2 + func": lambda f: prof(f, "temperley") + func(f),
    "cqt albrecht alone": lambda f: cqt(f, "albrecht"),
    "cqt albrecht + func": lambda f: cqt(f, "albrecht") + func(f),
    "cqt albrecht + KK + func": lambda f: cqt(f, "albrecht") + prof(f, "krumhansl") + func(f),
    "KK + func + cad": lambda f: prof(f, "krumhansl") + func(f) + cad(f),
    "KK + func + 0.5cad": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad(f),
    "KK + func + cad1": lambda f: prof(f, "krumhansl") + func(f) + cad(f, 1),
    "KK + func + cad3": lambda f: prof(f, "krumhansl") + func(f) + cad(f, 3),
    "albrecht + func + cad": lambda f: prof(f, "albrecht") + func(f) + cad(f),
    "cqt albrecht + KK + func + cad": lambda f: cqt(f, "albrecht") + prof(f, "krumhansl") + func(f) + cad(f),
    "KK + func + final (flagged)": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * final(f),
    "V7 1 (triads+V7)": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False),
    "V7 2 (triads+V7)": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False),
    "V7 1 other -1": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, -1.0),
    "V7 2 other -0.5": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, -0.5),
    "V7 1 dim 1": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 1.0),
    "V7 2 dim 1": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0),
    "V7 2 dim 0.5": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.5),
    "V7 1 dim 0": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0),
    "V7 1 bias 0.05": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, bias=0.05),
    "V7 2 bias 0.05": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, bias=0.05),
    "V7 2 dim 1 bias 0.05": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, bias=0.05),
    "V7 1 bias 0.1": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, bias=0.1),
    "V7 2 bias 0.1": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, bias=0.1),
    "V7 2 dim 1 bias 0.1": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, bias=0.1),
    "V7 1 bias 0.15": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, bias=0.15),
    "V7 2 bias 0.15": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, bias=0.15),
    "V7 2 dim 1 bias 0.15": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, bias=0.15),
    "V7 1 bias 0.2": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, bias=0.2),
    "V7 2 bias 0.2": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, bias=0.2),
    "V7 2 dim 1 bias 0.2": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, bias=0.2),
    "V7 1 bias 0.3": lambda f: prof(f, "krumhansl") + func48(f, 1.0, 0.0, False, bias=0.3),
    "V7 2 bias 0.3": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 0.0, False, bias=0.3),
    "V7 2 dim 1 bias 0.3": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, bias=0.3),
    "IV 0.75 V 1.25": lambda f: prof(f, "krumhansl") + funcw(f, 0.75, 1.25),
    "IV 0.5 V 1.5": lambda f: prof(f, "krumhansl") + funcw(f, 0.5, 1.5),
    "IV 1 V 1.5": lambda f: prof(f, "krumhansl") + funcw(f, 1.0, 1.5),
    "IV 0.75 V 1": lambda f: prof(f, "krumhansl") + funcw(f, 0.75, 1.0),
    "IV 0.5 V 1": lambda f: prof(f, "krumhansl") + funcw(f, 0.5, 1.0),
    "KK + func + 0.25 binary": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * prof(f, "binary"),
    "KK + func + 0.25 binary bass1": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * prof(f, "binary", 1.0),
    "KK + func + 0.5 binary": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary"),
    "KK + func + 0.5 binary bass1": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary", 1.0),
    "KK + func + 1 binary": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary"),
    "KK + func + 1 binary bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary", 1.0),
    "KK + func + 0.5 binary-harmonic bass1": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary-harmonic", 1.0),
    "KK + func + 0.5 binary-harmonic bass2": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary-harmonic", 2.0),
    "KK + func + 0.5 binary-both bass1": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary-both", 1.0),
    "KK + func + 0.5 binary-both bass2": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * prof(f, "binary-both", 2.0),
    "KK + func + 1 binary-harmonic bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary-harmonic", 1.0),
    "KK + func + 1 binary-harmonic bass2": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary-harmonic", 2.0),
    "KK + func + 1 binary-both bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary-both", 1.0),
    "KK + func + 1 binary-both bass2": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * prof(f, "binary-both", 2.0),
    "KK + func + 1.5 binary-harmonic bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.5 * prof(f, "binary-harmonic", 1.0),
    "KK + func + 1.5 binary-harmonic bass2": lambda f: prof(f, "krumhansl") + func(f) + 1.5 * prof(f, "binary-harmonic", 2.0),
    "KK + func + 1.5 binary-both bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.5 * prof(f, "binary-both", 1.0),
    "KK + func + 1.5 binary-both bass2": lambda f: prof(f, "krumhansl") + func(f) + 1.5 * prof(f, "binary-both", 2.0),
    "KK + func + 1.5 binary bass1": lambda f: prof(f, "krumhansl") + func(f) + 1.5 * prof(f, "binary", 1.0),
    "KK + func + 2 binary bass1": lambda f: prof(f, "krumhansl") + func(f) + 2 * prof(f, "binary", 1.0),
    "KK + func + 0.25 cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f),
    "KK + func + 0.25 cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f, True),
    "KK + func + 0.5 cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f),
    "KK + func + 0.5 cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, True),
    "KK + func + 1 cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f),
    "KK + func + 1 cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f, True),
    "KK + func + 2 raw cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 2.0 * cad_pc(f, raw=True),
    "KK + func + 2 raw cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 2.0 * cad_pc(f, True, raw=True),
    "KK + func + 4 raw cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 4.0 * cad_pc(f, raw=True),
    "KK + func + 4 raw cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 4.0 * cad_pc(f, True, raw=True),
    "KK + func + 8 raw cad both modes": lambda f: prof(f, "krumhansl") + func(f) + 8.0 * cad_pc(f, raw=True),
    "KK + func + 8 raw cad3 both modes": lambda f: prof(f, "krumhansl") + func(f) + 8.0 * cad_pc(f, True, raw=True),
    "KK + func + 0.25 cad + 0.25 cad3": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f) + 0.25 * cad_pc(f, True),
    "KK + func + 0.5 cad + 0.5 cad3": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f) + 0.5 * cad_pc(f, True),
    "KK + func + 0.5 cad (min 3 frames)": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, False, 3),
    "KK + func + 0.5 cad (min 1 frame)": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, False, 1),
    "KK + func + 0.25 cad both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f, tail=4.0),
    "KK + func + 0.25 cad + cad3 both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f, tail=4.0) + 0.25 * cad_pc(f, True, tail=4.0),
    "KK + func + 0.25 cad both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f, tail=8.0),
    "KK + func + 0.25 cad + cad3 both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 0.25 * cad_pc(f, tail=8.0) + 0.25 * cad_pc(f, True, tail=8.0),
    "KK + func + 0.5 cad both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, tail=4.0),
    "KK + func + 0.5 cad + cad3 both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, tail=4.0) + 0.5 * cad_pc(f, True, tail=4.0),
    "KK + func + 0.5 cad both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, tail=8.0),
    "KK + func + 0.5 cad + cad3 both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 0.5 * cad_pc(f, tail=8.0) + 0.5 * cad_pc(f, True, tail=8.0),
    "KK + func + 1 cad both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f, tail=4.0),
    "KK + func + 1 cad + cad3 both, not last 4 s": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f, tail=4.0) + 1.0 * cad_pc(f, True, tail=4.0),
    "KK + func + 1 cad both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f, tail=8.0),
    "KK + func + 1 cad + cad3 both, not last 8 s": lambda f: prof(f, "krumhansl") + func(f) + 1.0 * cad_pc(f, tail=8.0) + 1.0 * cad_pc(f, True, tail=8.0),
    "V7 2 dim 1 other -0.5": lambda f: prof(f, "krumhansl") + func48(f, 2.0, 1.0, True, -0.5, -0.5),
}


# ---------------------------------------------------------------------------------------------
# 1.4.0 study (issue 14, part 3): tonic cues that keys.py can read from its own pitch spectrogram.

def cadences(f: dict) -> np.ndarray:
    """keys.py's cadence term (1.3.0 on): CADENCE_W x z(cadences, none in the last CADENCE_TAIL_S)."""
    return keys.CADENCE_W * cad_pc(f, tail=keys.CADENCE_TAIL_S)


def base13(f: dict) -> np.ndarray:
    """keys.py 1.3.0: z(KK bass x2) + z(chord functions) + 0.25 z(cadences, none in the last 4 s)."""
    return prof(f, "krumhansl") + func(f) + cadences(f)


def first_chord(f: dict, both: bool = True) -> np.ndarray:
    """The first chord run (>= 2 frames) read as a tonic: pieces start on I more often than on V."""
    def build():
        runs = keys.chord_runs(path(f))
        out = np.zeros(24)
        if runs:
            c = runs[0][0]
            out[c] = 1.0
            if both:
                out[(c + 12) % 24] = 1.0 if c < 12 else 1.0
                out[c % 12] = out[12 + c % 12] = 1.0
        return z(out)
    return _cached(f, f"first-{both}", build)


def first_bass(f: dict, seconds: float = 2.0) -> np.ndarray:
    """The bass pitch class of the first sounding seconds, credited to both modes of that tonic."""
    def build():
        semis = f["semis"]
        active = semis.max(axis=0) > 0
        s = semis[:, active][:, : max(1, int(seconds * keys.KEY_SR / keys.KEY_HOP))]
        low = keys._fold(s, keys.LO_MIDI, keys.BASS_SPLIT).sum(axis=1)
        out = np.zeros(24)
        if low.max() > 0:
            pc = int(np.argmax(low))
            out[pc] = out[12 + pc] = 1.0
        return z(out)
    return _cached(f, f"firstbass-{seconds}", build)


def _line(semis: np.ndarray, lo: int, hi: int, top: bool) -> np.ndarray:
    """A voice as semitone numbers per sounding frame: the strongest semitone in [lo, hi) (top=False)
    or the highest semitone within 3 dB-ish (0.8 of the frame's max, log scale) of it (top=True)."""
    midi = np.arange(keys.LO_MIDI, keys.HI_MIDI)
    rows = (midi >= lo) & (midi < hi)
    s = semis[rows]
    active = s.max(axis=0) > 0
    s = s[:, active]
    if s.shape[1] == 0:
        return np.zeros(0, dtype=int)
    if top:
        strong = s >= 0.8 * s.max(axis=0, keepdims=True)
        idx = s.shape[0] - 1 - np.argmax(strong[::-1], axis=0)
    else:
        idx = np.argmax(s, axis=0)
    return midi[rows][idx]


def _runs(line: np.ndarray, min_frames: int = 2) -> list[int]:
    out: list[int] = []
    if line.size == 0:
        return out
    edges = np.flatnonzero(np.diff(line)) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [line.size])))
    for st, n in zip(starts, lengths):
        if n >= min_frames and (not out or out[-1] != line[st]):
            out.append(int(line[st]))
    return out


def leading_tone(f: dict, voice: str = "top", min_frames: int = 1, tail: float = keys.CADENCE_TAIL_S,
                 on_chord: bool = False) -> np.ndarray:
    """Rising semitone steps (leading tone -> tonic) in a voice, credited to both modes of the note
    landed on. ``on_chord``: only when the chord path at the landing frame is a triad on that note."""
    def build():
        semis = f["semis"]
        active = semis.max(axis=0) > 0
        n_tail = int(tail * keys.KEY_SR / keys.KEY_HOP)
        s = semis[:, active]
        if n_tail and s.shape[1] > n_tail:
            s = s[:, :-n_tail]
        lo, hi = (keys.BASS_SPLIT, keys.HI_MIDI) if voice != "bass" else (keys.LO_MIDI, keys.BASS_SPLIT)
        line = _line(s, lo, hi, voice == "top")
        out = np.zeros(24)
        if line.size < 2:
            return out
        p = path(f)[: line.size]
        edges = np.flatnonzero(np.diff(line)) + 1
        steps = 0
        prev = None
        starts = np.concatenate(([0], edges))
        lengths = np.diff(np.concatenate((starts, [line.size])))
        for st, n in zip(starts, lengths):
            if n < min_frames:
                continue
            note = int(line[st])
            if prev is not None and note != prev:
                steps += 1
                if note - prev == 1:
                    pc = note % 12
                    if not on_chord or p[st] % 12 == pc:
                        out[pc] += 1.0
                        out[12 + pc] += 1.0
            prev = note
        return z(out / max(1, steps))
    return _cached(f, f"lt-{voice}-{min_frames}-{tail}-{on_chord}", build)


def late_func(f: dict, share: float = 0.33, tail: float = keys.CADENCE_TAIL_S) -> np.ndarray:
    """Chord functions of the last ``share`` of the sounding frames (the last ``tail`` s left out)."""
    def build():
        p = path(f)
        n_tail = int(tail * keys.KEY_SR / keys.KEY_HOP)
        q = p[: max(1, p.size - n_tail)]
        q = q[int(q.size * (1 - share)):]
        h = np.bincount(q, minlength=24).astype(float)
        return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))
    return _cached(f, f"late-{share}-{tail}", build)


def early_func(f: dict, share: float = 0.33) -> np.ndarray:
    def build():
        p = path(f)
        q = p[: max(1, int(p.size * share))]
        h = np.bincount(q, minlength=24).astype(float)
        return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))
    return _cached(f, f"early-{share}", build)


def long_func(f: dict, power: float = 2.0) -> np.ndarray:
    """Chord functions with each run weighted by its length ** power (long chords: strong beats, the
    harmonic goals; short ones: passing and neighbour chords)."""
    def build():
        runs = keys.chord_runs(path(f))
        h = np.zeros(24)
        for c, n in runs:
            h[c] += float(n) ** power
        return z(keys.FUNCTIONS @ (h / max(1e-9, h.sum())))
    return _cached(f, f"long-{power}", build)


def run_func(f: dict, min_frames: int = 2) -> np.ndarray:
    """Chord functions, one count per chord run of >= ``min_frames`` frames (keys.run_histogram: 1.4.0)."""
    return _cached(f, f"runf-{min_frames}", lambda: z(keys.FUNCTIONS @ keys.run_histogram(path(f), min_frames)))


STUDY14 = {
    "1.3.0 (base)": base13,
    "+0.25 first chord": lambda f: base13(f) + 0.25 * first_chord(f),
    "+0.5 first chord": lambda f: base13(f) + 0.5 * first_chord(f),
    "+0.25 first bass 2s": lambda f: base13(f) + 0.25 * first_bass(f),
    "+0.5 first bass 2s": lambda f: base13(f) + 0.5 * first_bass(f),
    "+0.25 first bass 5s": lambda f: base13(f) + 0.25 * first_bass(f, 5.0),
    "+0.25 LT top": lambda f: base13(f) + 0.25 * leading_tone(f, "top"),
    "+0.5 LT top": lambda f: base13(f) + 0.5 * leading_tone(f, "top"),
    "+0.25 LT top min2": lambda f: base13(f) + 0.25 * leading_tone(f, "top", 2),
    "+0.25 LT top on chord": lambda f: base13(f) + 0.25 * leading_tone(f, "top", 1, on_chord=True),
    "+0.5 LT top on chord": lambda f: base13(f) + 0.5 * leading_tone(f, "top", 1, on_chord=True),
    "+0.25 LT strongest": lambda f: base13(f) + 0.25 * leading_tone(f, "strong"),
    "+0.25 LT strongest on chord": lambda f: base13(f) + 0.25 * leading_tone(f, "strong", 1, on_chord=True),
    "+0.25 LT bass": lambda f: base13(f) + 0.25 * leading_tone(f, "bass"),
    "+0.25 LT bass on chord": lambda f: base13(f) + 0.25 * leading_tone(f, "bass", 1, on_chord=True),
    "+0.25 late third funcs": lambda f: base13(f) + 0.25 * late_func(f),
    "+0.5 late third funcs": lambda f: base13(f) + 0.5 * late_func(f),
    "+0.25 early third funcs": lambda f: base13(f) + 0.25 * early_func(f),
    "funcs per chord run (1.4.0)": lambda f: prof(f, "krumhansl") + run_func(f) + 0.25 * cad_pc(f, tail=4.0),
    "funcs x run length^1": lambda f: prof(f, "krumhansl") + long_func(f, 1.0) + 0.25 * cad_pc(f, tail=4.0),
    "funcs x run length^1.5": lambda f: prof(f, "krumhansl") + long_func(f, 1.5) + 0.25 * cad_pc(f, tail=4.0),
    "funcs x run length^2": lambda f: prof(f, "krumhansl") + long_func(f, 2.0) + 0.25 * cad_pc(f, tail=4.0),
    "+0.5 funcs x run length^2": lambda f: base13(f) + 0.5 * long_func(f, 2.0),
}
VARIANTS.update(STUDY14)





def tonic_w_func(f: dict, tonic: float) -> np.ndarray:
    def build():
        w = keys.FUNCTIONS.copy()
        w[w == keys.TONIC_W] = tonic
        h = np.bincount(path(f), minlength=24).astype(float)
        return z(w @ (h / max(1.0, h.sum())))
    return _cached(f, f"tonicw-{tonic}", build)


def regions(f: dict, window_s: float = 8.0, weight: str = "functions") -> np.ndarray:
    """Local keys (keys.combined_scores per window, half-overlapping; measured with 1.3.0's), then each global key
    scores the local keys with the chord-function weights read at the key level (local key on the
    tonic 2, on IV/V 1, ...): a piece in C visits C, G and F; one in G visits G, D and C."""
    def build():
        semis = f["semis"]
        n = int(window_s * keys.KEY_SR / keys.KEY_HOP)
        hop = max(1, n // 2)
        h = np.zeros(24)
        for s0 in range(0, max(1, semis.shape[1] - n + 1), hop):
            seg = semis[:, s0:s0 + n]
            if not seg.max() > 0:
                continue
            h[int(np.argmax(keys.combined_scores(seg)))] += 1.0
        return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))
    return _cached(f, f"regions-{window_s}", build)


VARIANTS.update({
    "funcs per run min3": lambda f: prof(f, "krumhansl") + run_func(f, 3) + 0.25 * cad_pc(f, tail=4.0),
    "funcs per run min4": lambda f: prof(f, "krumhansl") + run_func(f, 4) + 0.25 * cad_pc(f, tail=4.0),
    "funcs half frame half run": lambda f: prof(f, "krumhansl") + 0.5 * func(f) + 0.5 * run_func(f) + 0.25 * cad_pc(f, tail=4.0),
    "tonic weight 2.5": lambda f: prof(f, "krumhansl") + tonic_w_func(f, 2.5) + 0.25 * cad_pc(f, tail=4.0),
    "tonic weight 3": lambda f: prof(f, "krumhansl") + tonic_w_func(f, 3.0) + 0.25 * cad_pc(f, tail=4.0),
    "V 1.25": lambda f: prof(f, "krumhansl") + funcw(f, 1.0, 1.25) + 0.25 * cad_pc(f, tail=4.0),
    "V 1.5": lambda f: prof(f, "krumhansl") + funcw(f, 1.0, 1.5) + 0.25 * cad_pc(f, tail=4.0),
    "+0.25 regions 8s": lambda f: base13(f) + 0.25 * regions(f, 8.0),
    "+0.5 regions 8s": lambda f: base13(f) + 0.5 * regions(f, 8.0),
    "+0.5 regions 12s": lambda f: base13(f) + 0.5 * regions(f, 12.0),
    "+1 regions 12s": lambda f: base13(f) + 1.0 * regions(f, 12.0),
})


VARIANTS.update({
    "funcs x run length^0.5": lambda f: prof(f, "krumhansl") + long_func(f, 0.5) + 0.25 * cad_pc(f, tail=4.0),
    "funcs x run length^0.25": lambda f: prof(f, "krumhansl") + long_func(f, 0.25) + 0.25 * cad_pc(f, tail=4.0),
    "funcs per run cad 0.5": lambda f: prof(f, "krumhansl") + run_func(f) + 0.5 * cad_pc(f, tail=4.0),
    "funcs per run cad 0": lambda f: prof(f, "krumhansl") + run_func(f),
    "funcs per run min1": lambda f: prof(f, "krumhansl") + run_func(f, 1) + 0.25 * cad_pc(f, tail=4.0),
})



# ---------------------------------------------------------------------------------------------
# 1.5.0 study (issue 14, eighth sitting): the partials. The pitch spectrogram keeps every partial
# and its log compression lifts weak ones: a note's 3rd harmonic (an octave and a fifth up) adds
# its fifth's pitch class, so the tonic triad C-E-G also sounds G, B and D, the notes of the
# dominant's triad, and the dominant was the profile term's most frequent error. Expected partials
# in the profile (keys.sounding_profile, as essentia's Key algorithm builds its "polyphonic"
# profiles; taken), partials taken out of the spectrogram, or other compressions of it. Run a
# group with --group NAME.

def base14(f: dict, kk: np.ndarray | None = None) -> np.ndarray:
    """keys.py 1.4.0 with its KK term replaced by ``kk`` (z-scored key scores)."""
    return (prof(f, "krumhansl") if kk is None else kk) + run_func(f) + cadences(f)


def linear(f: dict) -> np.ndarray:
    """The pitch spectrogram before keys.py's log1p(100 x) (each frame's maximum 1)."""
    return np.expm1(f["semis"]) / 100.0


def suppressed(f: dict, a3: float, a5: float) -> np.ndarray:
    """The pitch spectrogram with each semitone's expected partials from the notes an octave and a
    fifth (a3) and two octaves and a third (a5) below taken out (on the linear scale)."""
    def build():
        lin = linear(f)
        out = lin.copy()
        for shift, a in ((19, a3), (28, a5)):
            if a:
                out[shift:] -= a * lin[:-shift]
        return np.log1p(100.0 * np.clip(out, 0.0, None))
    return _cached(f, f"supp-{a3}-{a5}", build)


def chroma_lin(f: dict, compress: str, threshold: float = 0.0, bass: float = keys.BASS_WEIGHT) -> np.ndarray:
    """The profile term's chroma with another compression of the (per-frame max-normalised) pitch
    spectrogram than keys.py's log1p(100 x): "lin", "sqrt", "log10" (log1p(10 x)); with
    ``threshold``, each frame's 12-bin chroma (max 1) loses the bins under it (essentia's
    pcpThreshold 0.2) before the mean."""
    def build():
        lin = linear(f)
        x = {"lin": lin, "sqrt": np.sqrt(lin), "log10": np.log1p(10.0 * lin), "log100": f["semis"]}[compress]
        w = np.ones(x.shape[0])
        w[: keys.BASS_SPLIT - keys.LO_MIDI] = bass
        frames = keys._fold(x * w[:, None], keys.LO_MIDI, keys.HI_MIDI).astype(float)
        if threshold:
            frames /= np.maximum(frames.max(axis=0, keepdims=True), 1e-12)
            frames[frames < threshold] = 0.0
        return frames.mean(axis=1)
    return _cached(f, f"chromalin-{compress}-{threshold}-{bass}", build)


def kk(chroma: np.ndarray, harmonics: int = 1, slope: float = 1.0) -> np.ndarray:
    return z(keys.key_scores(chroma, "krumhansl", harmonics, slope))


GROUPS: dict[str, dict] = {"suppress": {}, "compression": {}, "sounding": {}, "weight": {}}
for _a3, _a5 in ((0.3, 0.0), (0.5, 0.0), (0.7, 0.0), (1.0, 0.0), (0.5, 0.3), (0.7, 0.5)):
    GROUPS["suppress"][f"KK on suppressed a3 {_a3} a5 {_a5}"] = (
        lambda f, a3=_a3, a5=_a5: base14(f, kk(keys.chroma_profile(suppressed(f, a3, a5), keys.BASS_WEIGHT))))
for _c in ("log100", "log10", "sqrt", "lin"):
    for _t in (0.0, 0.2):
        GROUPS["compression"][f"KK {_c} thr {_t}"] = lambda f, c=_c, t=_t: base14(f, kk(chroma_lin(f, c, t)))
        for _b in (1.0, 2.0):
            for _n, _sl in ((1, 1.0), (4, 0.6), (4, 0.8), (6, 0.8)):
                GROUPS["compression"][f"alone {_c} thr {_t} bass{_b:g} sounding{_n} {_sl}"] = (
                    lambda f, c=_c, t=_t, b=_b, n=_n, sl=_sl: kk(chroma_lin(f, c, t, b), n, sl))
for _n in (4, 5, 6, 7, 8):
    for _sl in (0.6, 0.7, 0.8, 0.9, 1.0):
        GROUPS["sounding"][f"sounding{_n} {_sl} alone"] = lambda f, n=_n, sl=_sl: prof(f, "krumhansl", harmonics=n, slope=sl)
        GROUPS["sounding"][f"sounding{_n} {_sl} + funcs + cad"] = (
            lambda f, n=_n, sl=_sl: base14(f, prof(f, "krumhansl", harmonics=n, slope=sl)))
for _n, _sl in ((5, 1.0), (6, 0.8), (6, 0.9), (6, 1.0)):
    for _w in (1.0, 1.5, 2.0, 3.0):
        GROUPS["weight"][f"{_w:g} sounding{_n} {_sl} + funcs + cad"] = (
            lambda f, n=_n, sl=_sl, w=_w: base14(f, w * prof(f, "krumhansl", harmonics=n, slope=sl)))
def sounding_triads(harmonics: int, slope: float) -> np.ndarray:
    """keys.TRIADS with each note's first ``harmonics`` partials (keys.with_partials), unit rows."""
    t = np.array([keys.with_partials(row > 0, harmonics, slope) for row in keys.TRIADS])
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def path_sounding(f: dict, harmonics: int, slope: float) -> np.ndarray:
    def build():
        obs = keys.chord_observations(f["semis"], templates=sounding_triads(harmonics, slope))
        return keys.viterbi_chords(obs.astype(np.float32))
    return _cached(f, f"pathsnd-{harmonics}-{slope}", build)


def chords_sounding(f: dict, harmonics: int, slope: float) -> np.ndarray:
    """1.5.0's terms with the chord path read through sounding triads."""
    def build():
        p = path_sounding(f, harmonics, slope)
        return (z(keys.FUNCTIONS @ keys.run_histogram(p)), z(keys.cadence_scores(p)))
    funcs, cads = _cached(f, f"chsnd-{harmonics}-{slope}", build)
    return sounding(f) + funcs + keys.CADENCE_W * cads


GROUPS["triads"] = {f"1.5.0, chord path on sounding triads {_n} {_sl}": (lambda f, n=_n, sl=_sl: chords_sounding(f, n, sl))
                    for _n, _sl in ((3, 0.6), (4, 0.6), (6, 0.6), (6, 0.8), (2, 1.0), (1, 1.0))}


def grid(f: dict) -> dict[str, np.ndarray]:
    """The analyzer's own beats and downbeats of the render (analyze.tempo_of + grid_of), cached
    beside its features."""
    def build():
        out = FEAT / f"{f['digest']}-grid.npz"
        if not out.exists():
            y = source.decode_window(f["path"], 22050, 1)[0]
            tempo, shared = analyze.tempo_of(y)
            g = analyze.grid_of(shared, tempo, len(y) / 22050)
            np.savez(out, beats=np.array(g.beats), downbeats=np.array(g.downbeats))
        return dict(np.load(out))
    return _cached(f, "grid", build)


def _frames(f: dict, times: np.ndarray) -> np.ndarray:
    return np.clip((np.asarray(times) * keys.KEY_SR / keys.KEY_HOP).astype(int), 0, len(path(f)) - 1)


def sounding(f: dict) -> np.ndarray:
    return prof(f, "krumhansl", harmonics=keys.PROFILE_HARMONICS, slope=keys.PROFILE_SLOPE)


def chords_at(f: dict, which: str) -> np.ndarray:
    """z(chord functions) of the chords heard at each of the grid's ``which`` (beats, downbeats)."""
    chords = path(f)[_frames(f, grid(f)[which])] if len(grid(f)[which]) else np.zeros(0, dtype=int)
    h = np.bincount(chords, minlength=24).astype(float)
    return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))


def runs_on_downbeats(f: dict, extra: float) -> np.ndarray:
    """1.4.0's run functions with each run that holds a downbeat counted 1 + ``extra`` times."""
    p = path(f)
    edges = np.flatnonzero(np.diff(p)) + 1
    downbeats = np.zeros(len(p), dtype=bool)
    downbeats[_frames(f, grid(f)["downbeats"])] = len(grid(f)["downbeats"]) > 0
    h = np.zeros(24)
    for start, end in zip(np.r_[0, edges], np.r_[edges, len(p)]):
        if end - start >= 2:
            h[p[start]] += 1.0 + extra * bool(downbeats[start:end].any())
    return z(keys.FUNCTIONS @ (h / max(1.0, h.sum())))


def margin(x: np.ndarray) -> float:
    top = np.sort(x)[::-1]
    return float(top[0] - top[1])


def terms15(f: dict) -> tuple[np.ndarray, np.ndarray]:
    """1.5.0's terms: the sounding profile, and chord functions + cadences."""
    return sounding(f), run_func(f) + cadences(f)


# Ninth sitting (bench/ANALYSIS.md, "How sure the gaps to the peers are"): the profile alone where
# its own margin is wide; metrical weight for the chords.
def gated(f: dict, threshold: float) -> np.ndarray:
    """The profile alone where its own margin exceeds ``threshold``, else 1.5.0's sum."""
    p, rest = terms15(f)
    return p if margin(p) > threshold else p + rest


GROUPS["gate"] = {f"profile alone when its margin > {_t}": (lambda f, t=_t: gated(f, t)) for _t in (0.3, 0.5, 0.7, 0.9)}
GROUPS["gate"]["profile alone"] = sounding
GROUPS["downbeats"] = {f"1.5.0 + {_w} chords on downbeats": (lambda f, w=_w: sum(terms15(f)) + w * chords_at(f, "downbeats"))
                       for _w in (0.25, 0.5, 1.0)}
GROUPS["downbeats"]["1.5.0 + 0.5 chords on beats"] = lambda f: sum(terms15(f)) + 0.5 * chords_at(f, "beats")
GROUPS["downbeats"]["1.5.0, functions of the downbeats' chords"] = (
    lambda f: sounding(f) + chords_at(f, "downbeats") + cadences(f))
for _x in (1.0, 2.0, 4.0):
    GROUPS["downbeats"][f"1.5.0, runs holding a downbeat x{1 + _x:g}"] = (
        lambda f, x=_x: sounding(f) + runs_on_downbeats(f, x) + cadences(f))


def among_close(f: dict, width: float) -> np.ndarray:
    """1.5.0's sum, but only the keys whose profile score is within ``width`` of the profile's best
    may win: the chord terms choose among the profile's close candidates, never against it."""
    p, rest = terms15(f)
    return np.where(p >= p.max() - width, p + rest, -np.inf)


# Tenth sitting: the chorales' dev half read the profile alone at 0.973 and keys.py at 0.884 (the
# generated dev songs: 0.744 against 0.834): let the chords break the profile's near-ties only.
GROUPS["close"] = {f"1.5.0 among the profile's keys within {_w}": (lambda f, w=_w: among_close(f, w))
                   for _w in (0.25, 0.5, 0.75, 1.0, 1.5)}
GROUPS["close"]["the profile and chord functions, no cadences"] = lambda f: sounding(f) + run_func(f)
GROUPS["close"]["the profile and cadences, no chord functions"] = lambda f: sounding(f) + cadences(f)
for _t in (0.1, 0.2):
    GROUPS["close"][f"profile alone when its margin > {_t}"] = lambda f, t=_t: gated(f, t)
# Eleventh sitting (chose 1.6.0): the chorales' relative errors came from the chord functions. In a
# major chorale 1.5.0 counted the secondary dominants V/vi and V/ii (E and A major in C) as OUTSIDE
# (-1) for the key and V (+1) for the relative minor, and the minor table's natural-minor III, VI,
# VII credit the relative minor with most of the major key's own chords. Changes to 1.5.0's tables.
MAJOR_150 = {**keys.MAJOR_FUNCTIONS, (4, 0): keys.OUTSIDE_W, (9, 0): keys.OUTSIDE_W}


def table_func(f: dict, major: dict, minor: dict, tag: str) -> np.ndarray:
    """The run functions (1.4.0 on) with other function tables."""
    return _cached(f, f"tablef-{tag}", lambda: z(keys.function_matrix(major, minor) @ keys.run_histogram(path(f))))


def _tables(major_changes: dict, minor_changes: dict) -> tuple[dict, dict]:
    return {**MAJOR_150, **major_changes}, {**keys.MINOR_FUNCTIONS, **minor_changes}


V_VI_II = {(4, 0): keys.NEUTRAL_W, (9, 0): keys.NEUTRAL_W}  # the major key's V/vi and V/ii neutral (1.6.0)
SECONDARY = {
    "tables unchanged (keys.py 1.5.0)": ({}, {}),
    "V/vi neutral": ({(4, 0): keys.NEUTRAL_W}, {}),
    "V/vi and V/ii neutral (1.6.0)": (V_VI_II, {}),
    "V/vi and V/ii other": ({(4, 0): keys.OTHER_W, (9, 0): keys.OTHER_W}, {}),
    "minor III neutral": ({}, {(3, 0): keys.NEUTRAL_W}),
    "minor VII other": ({}, {(10, 0): keys.OTHER_W}),
    "V/vi, V/ii neutral; minor III neutral": (V_VI_II, {(3, 0): keys.NEUTRAL_W}),
    "V/vi, V/ii neutral; minor VII other": (V_VI_II, {(10, 0): keys.OTHER_W}),
    "V/vi neutral; major vi other -> primary": ({(4, 0): keys.NEUTRAL_W, (9, 1): keys.PRIMARY_W}, {}),
    "V/vi, V/ii, V/iii neutral": ({**V_VI_II, (11, 0): keys.NEUTRAL_W}, {}),
    "V/vi, V/ii neutral; minor V/iv neutral": (V_VI_II, {(0, 0): keys.NEUTRAL_W}),
    "V/vi, V/ii neutral; minor V/V neutral": (V_VI_II, {(2, 0): keys.NEUTRAL_W}),
    "every secondary dominant neutral": ({**V_VI_II, (11, 0): keys.NEUTRAL_W}, {(0, 0): keys.NEUTRAL_W, (2, 0): keys.NEUTRAL_W}),
}
GROUPS["secondary"] = {
    f"1.5.0, {_name}": (lambda f, t=_tables(*_changes), tag=_name: sounding(f) + table_func(f, *t, tag) + cadences(f))
    for _name, _changes in SECONDARY.items()}

for _group in GROUPS.values():
    _group["1.4.0 (base)"] = base14
    _group["keys.py as it stands"] = VARIANTS["keys.py as it stands"]
    VARIANTS.update(_group)


def rendered(col: Collection, split: str) -> list[tuple[str, tuple[int, str]]] | None:
    """(in-tune render, truth) of ``col``'s ``split``; None where the collection is not rendered."""
    if not (col.cache / "index.json").exists():
        return None
    return [(i["renders"][0]["path"], (i["tonic"], i["mode"])) for i in index_items(col.cache)
            if i["split"] == split and Path(i["renders"][0]["path"]).exists()]


def dev_items(generated: bool) -> dict[str, list[tuple[str, tuple[int, str]]]]:
    corpora: dict[str, list[tuple[str, tuple[int, str]]]] = {"real dev": rendered(SCORES, "dev") or []}
    # Bach's chorales, their dev half (never their held-out one): rendered by scores.py --collection chorales.
    chorales = rendered(CHORALES, "chorales-dev")
    if chorales is not None:
        corpora["chorales dev"] = chorales
    if generated:
        import corpus as gen

        items = gen.songs("dev", 101, 1) + gen.songs("dev", 102, 1) + gen.songs("devx", 111, 2)
        # Only songs already rendered (another job may be rendering the rest into the shared cache).
        done = [(s, gen.CACHE / f"{s.name}-{gen._digest(s)}") for s in items]
        corpora["generated dev"] = [(str(d / "mix.wav"), (s.tonic, s.mode)) for s, d in done if (d / "truth.json").exists()]
        # Two more dev seeds (1.5.0 study): the 96 songs above showed no cost of the sounding
        # profile that the held-out songs then did. Rendered by the same generator on demand.
        more = gen.songs("dev", 103, 1) + gen.songs("dev", 104, 1)
        gen.render_all(more)
        corpora["generated dev 103-104"] = [(str(gen.CACHE / f"{s.name}-{gen._digest(s)}" / "mix.wav"), (s.tonic, s.mode))
                                            for s in more]
    return corpora


def kind(truth: tuple[int, str], est: tuple[int, str]) -> str:
    s = key_score(truth, est)
    return {1.0: "=", 0.5: "f", 0.3: "r", 0.2: "p"}.get(s, "o")


def unpack(i: int) -> tuple[int, str]:
    return i % 12, "major" if i < 12 else "minor"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="")
    ap.add_argument("--group", choices=sorted(GROUPS), help="one group of variants (1.5.0 study)")
    ap.add_argument("--no-generated", action="store_true")
    ap.add_argument("--cqt", action="store_true", help="also the chroma_cqt variants (slow to extract)")
    ap.add_argument("--buckets", type=float, nargs="*", default=None,
                    help="per dev corpus, how often keys.py's answer is right per confidence bucket, at these margin scales")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="-v: the real errors; -vv: the generated ones too")
    args = ap.parse_args()
    corpora = dev_items(not args.no_generated)
    feats = {name: [(features(p), t, p) for p, t in items] for name, items in corpora.items()}
    if args.buckets is not None:
        for scale in args.buckets or [keys.MARGIN_SCALE]:
            for corpus, rows in feats.items():
                cells = np.zeros((4, 2), dtype=int)
                for f, truth, _ in rows:
                    scores = keys.combined_scores(f["semis"])
                    top = np.sort(scores)[::-1]
                    conf = 1.0 - np.exp(-(top[0] - top[1]) / scale)
                    b = min(3, int(conf * 4))
                    cells[b] += (unpack(int(np.argmax(scores))) == truth, 1)
                print(f"margin scale {scale:g} {corpus:14s} " + "  ".join(
                    f"{lo:.2f}-{lo + 0.25:.2f}: {r}/{n}" for lo, (r, n) in zip((0, 0.25, 0.5, 0.75), cells)))
        return 0
    variants = VARIANTS if not args.variants else {k: VARIANTS[k] for k in args.variants.split(",")}
    if args.group:
        variants = GROUPS[args.group]
    if not args.cqt:
        variants = {k: v for k, v in variants.items() if "cqt" not in k}
    print(f"{'variant':34s} " + " ".join(f"{c + f' ({len(v)})':>26s}" for c, v in feats.items()))
    for name, fn in variants.items():
        cells = []
        for corpus, rows in feats.items():
            ws, xs, kinds = [], [], {"f": 0, "r": 0, "p": 0, "o": 0}
            for f, truth, path in rows:
                scores = fn(f)
                est = unpack(int(np.argmax(scores)))
                ws.append(key_score(truth, est))
                xs.append(float(est == truth))
                k = kind(truth, est)
                if k != "=":
                    kinds[k] += 1
                if args.verbose and k != "=" and (corpus.startswith("real") or args.verbose > 1):
                    print(f"   {name} {corpus}: {Path(path).parent.name[:50]} truth {keys.key_name(*truth)} got {keys.key_name(*est)}")
            cells.append(f"{np.mean(ws):.3f}/{np.mean(xs):.3f} {kinds['f']}/{kinds['r']}/{kinds['p']}/{kinds['o']}")
        print(f"{name:34s} " + " ".join(f"{c:>26s}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
