"""Key estimation: pitch-class profiles from a long-window STFT, correlated with key profiles.

Why this method (measured in bench/ANALYSIS.md): key needs frequency resolution, not time
resolution. A 8192-point STFT of the signal resampled to 11025 Hz has 1.35 Hz bins, enough to
separate semitones down to ~55 Hz (bass notes matter most for the tonic), and costs a fraction
of ``chroma_cqt``. We keep only spectral peaks (which removes most of the broadband drum
energy: a cheap harmonic emphasis, no HPSS), map them to semitones, compress with a log, fold
to 12 pitch classes and average over time; the bass register gets extra weight.
The averaged profile is correlated (Pearson) with 24 rotated Krumhansl-Kessler profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

PITCHES_SHARP = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
# Spelling DJs see most: flats for major keys with many sharps in theory; C#/G# minor.
MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]

PROFILES: dict[str, tuple[list[float], list[float]]] = {
    # Krumhansl & Kessler (1982), probe-tone ratings.
    "krumhansl": (
        [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
        [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
    ),
    # Temperley (2007), Kostka-Payne corpus: probability that a pitch class occurs in a segment.
    "temperley": (
        [0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400],
        [0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330],
    ),
    # Albrecht & Shanahan (2013), duration-weighted distributions from a large corpus.
    "albrecht": (
        [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081],
        [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052],
    ),
    # The naive baseline: binary scale templates.
    "binary": (
        [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1],
        [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
    ),
}
DEFAULT_PROFILE = "krumhansl"  # chosen on the dev split, see bench/ANALYSIS.md


def camelot(tonic_pc: int, mode: str) -> str:
    """Camelot wheel code: C major = 8B, A minor = 8A; a fifth up = +1."""
    major_pc = tonic_pc if mode == "major" else (tonic_pc + 3) % 12
    number = (7 + 7 * major_pc) % 12 + 1
    return f"{number}{'B' if mode == 'major' else 'A'}"


def open_key(tonic_pc: int, mode: str) -> str:
    """Open Key notation (Traktor): C major = 1d, A minor = 1m."""
    cam = camelot(tonic_pc, mode)
    number = (int(cam[:-1]) - 8) % 12 + 1
    return f"{number}{'d' if mode == 'major' else 'm'}"


def key_name(tonic_pc: int, mode: str) -> str:
    return f"{tonic_name(tonic_pc, mode)} {mode}"


def tonic_name(tonic_pc: int, mode: str) -> str:
    return (MAJOR_NAMES if mode == "major" else MINOR_NAMES)[tonic_pc % 12]


def parse_key(name: str) -> tuple[int, str]:
    """"A minor" / "Bb major" / "F# minor" -> (pitch class, mode)."""
    tonic, mode = name.strip().split()
    letter = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[tonic[0].upper()]
    for accidental in tonic[1:]:
        letter += 1 if accidental == "#" else -1 if accidental == "b" else 0
    return letter % 12, mode.lower()


@lru_cache(maxsize=8)
def _semitone_map(sr: int, n_fft: int, lo_midi: int, hi_midi: int) -> np.ndarray:
    """(n_semitones, n_bins) weights: each bin contributes to its nearest semitone, cos-tapered."""
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    with np.errstate(divide="ignore"):
        midi = 69 + 12 * np.log2(np.maximum(freqs, 1e-6) / 440.0)
    n = hi_midi - lo_midi
    weights = np.zeros((n, freqs.size), dtype=np.float32)
    for i in range(n):
        d = midi - (lo_midi + i)
        mask = np.abs(d) < 0.5
        weights[i, mask] = np.cos(np.pi * d[mask]) ** 2
    return weights


KEY_SR = 11025
KEY_NFFT = 8192
KEY_HOP = 2048
LO_MIDI = 28  # E1 (41 Hz)
HI_MIDI = 96  # C7 (2093 Hz)
BASS_SPLIT = 52  # below E3: bass register
BASS_WEIGHT = 2.0  # the bass register counts double (roots carry the tonic); chosen on dev


def pitch_spectrogram(y11: np.ndarray, peaks_only: bool = True) -> np.ndarray:
    """(semitones LO_MIDI..HI_MIDI, frames) log-compressed energy from a long-window STFT at 11025 Hz."""
    if y11.size < KEY_NFFT:
        y11 = np.pad(y11, (0, KEY_NFFT - y11.size))
    n_frames = 1 + (y11.size - KEY_NFFT) // KEY_HOP
    frames = np.lib.stride_tricks.sliding_window_view(y11, KEY_NFFT)[::KEY_HOP][:n_frames]
    window = np.hanning(KEY_NFFT).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames * window, axis=1)).T.astype(np.float32)  # (bins, frames)
    if peaks_only:
        # Keep local maxima along frequency: tonal partials survive, broadband noise mostly not.
        peak = (mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:])
        masked = np.zeros_like(mag)
        masked[1:-1][peak] = mag[1:-1][peak]
        mag = masked
    semis = _semitone_map(KEY_SR, KEY_NFFT, LO_MIDI, HI_MIDI) @ mag
    # Per-frame normalisation then log compression (loud passages do not dominate).
    semis /= np.maximum(semis.max(axis=0, keepdims=True), 1e-9)
    return np.log1p(100.0 * semis)


def chroma_profile(semis: np.ndarray, bass_weight: float = 1.0) -> np.ndarray:
    """Fold a pitch spectrogram to a 12-bin mean chroma (C = index 0)."""
    weights = np.ones(semis.shape[0], dtype=np.float32)
    weights[: BASS_SPLIT - LO_MIDI] = bass_weight
    pcs = (np.arange(LO_MIDI, HI_MIDI) % 12)
    weighted = (semis * weights[:, None]).mean(axis=1)
    chroma = np.zeros(12)
    np.add.at(chroma, pcs, weighted)
    return chroma


@dataclass
class KeyResult:
    tonic_pc: int
    mode: str
    confidence: float
    scores: np.ndarray  # (24,) correlations: 0..11 major on C..B, 12..23 minor on C..B
    runner_up: tuple[int, str, float]

    def to_json(self) -> dict:
        rpc, rmode, rscore = self.runner_up
        return {
            "key": key_name(self.tonic_pc, self.mode),
            "tonic": tonic_name(self.tonic_pc, self.mode),
            "mode": self.mode,
            "camelot": camelot(self.tonic_pc, self.mode),
            "open_key": open_key(self.tonic_pc, self.mode),
            "confidence": round(self.confidence, 3),
            "score": round(float(self.scores.max()), 4),
            "runner_up": {
                "key": key_name(rpc, rmode),
                "camelot": camelot(rpc, rmode),
                "score": round(float(rscore), 4),
            },
        }


def key_scores(chroma: np.ndarray, profile: str = DEFAULT_PROFILE) -> np.ndarray:
    major, minor = (np.asarray(p, dtype=float) for p in PROFILES[profile])
    c = np.asarray(chroma, dtype=float)
    c = c - c.mean()
    cn = np.linalg.norm(c)
    scores = np.zeros(24)
    if cn < 1e-12:
        return scores
    for mode_index, prof in enumerate((major, minor)):
        p = prof - prof.mean()
        p /= np.linalg.norm(p)
        for tonic in range(12):
            scores[mode_index * 12 + tonic] = float(np.dot(c / cn, np.roll(p, tonic)))
    return scores


def estimate_key(chroma: np.ndarray, profile: str = DEFAULT_PROFILE) -> KeyResult:
    scores = key_scores(chroma, profile)
    order = np.argsort(scores)[::-1]
    best, second = int(order[0]), int(order[1])
    s1, s2 = float(scores[best]), float(scores[second])
    # Confidence: how well the best profile fits (correlation) times how clearly it beats the
    # runner-up (a margin of 0.1 in correlation is already a clear win on real music).
    fit = max(0.0, min(1.0, (s1 - 0.3) / 0.5))
    margin = 1.0 - float(np.exp(-max(0.0, s1 - s2) / 0.05))
    confidence = float(np.clip(fit * (0.35 + 0.65 * margin), 0.0, 1.0))

    def unpack(i: int) -> tuple[int, str]:
        return i % 12, "major" if i < 12 else "minor"

    tonic, mode = unpack(best)
    rt, rm = unpack(second)
    return KeyResult(tonic, mode, confidence, scores, (rt, rm, s2))


def key_from_signal(y11: np.ndarray, profile: str = DEFAULT_PROFILE, bass_weight: float = BASS_WEIGHT) -> KeyResult:
    return estimate_key(chroma_profile(pitch_spectrogram(y11), bass_weight), profile)
