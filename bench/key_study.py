"""Key-method study on the DEV splits only: real compositions (bench/corpus/scores.py, dev
spans, in tune) and the 96 generated dev songs (analysis_accuracy.py --compare's set). The
held-out halves are never read here.

    python/.venv/bin/python bench/key_study.py [--variants a,b,...]

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
from corpus.scores import index_items  # noqa: E402
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
    return f


def chroma_cqt(f: dict) -> np.ndarray:
    """librosa's chroma_cqt (the costliest feature: computed only for the variants that use it)."""
    if "cqt" in f:
        return f["cqt"]
    h = hashlib.sha1(Path(f["path"]).read_bytes()).hexdigest()[:16]
    out = FEAT / f"{h}-cqt.npy"
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


def prof(f: dict, profile: str, bass: float = keys.BASS_WEIGHT) -> np.ndarray:
    return _cached(f, f"prof-{profile}-{bass}", lambda: z(keys.key_scores(keys.chroma_profile(f["semis"], bass), profile)))


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


def dev_items(generated: bool) -> dict[str, list[tuple[str, tuple[int, str]]]]:
    corpora: dict[str, list[tuple[str, tuple[int, str]]]] = {}
    index_path = ROOT / "bench" / ".cache" / "scores" / "index.json"
    items = index_items() if index_path.exists() else []
    corpora["real dev"] = [(i["renders"][0]["path"], (i["tonic"], i["mode"])) for i in items
                           if i["split"] == "dev" and Path(i["renders"][0]["path"]).exists()]
    if generated:
        import corpus as gen

        items = gen.songs("dev", 101, 1) + gen.songs("dev", 102, 1) + gen.songs("devx", 111, 2)
        # Only songs already rendered (another job may be rendering the rest into the shared cache).
        done = [(s, gen.CACHE / f"{s.name}-{gen._digest(s)}") for s in items]
        corpora["generated dev"] = [(str(d / "mix.wav"), (s.tonic, s.mode)) for s, d in done if (d / "truth.json").exists()]
    return corpora


def kind(truth: tuple[int, str], est: tuple[int, str]) -> str:
    s = key_score(truth, est)
    return {1.0: "=", 0.5: "f", 0.3: "r", 0.2: "p"}.get(s, "o")


def unpack(i: int) -> tuple[int, str]:
    return i % 12, "major" if i < 12 else "minor"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="")
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
