"""numpy-synthesised test signals with known tempo and key (no fluidsynth needed)."""

from __future__ import annotations

import numpy as np

NOTE = {"C": 0, "C#": 1, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}


def drums(bpm: float, seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, closed hi-hat on eighths."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(seconds * sr), np.float32)
    beat = 60.0 / bpm

    def add(t0: float, sig: np.ndarray) -> None:
        i = int(t0 * sr)
        n = min(sig.size, y.size - i)
        if n > 0:
            y[i : i + n] += sig[:n]

    n = int(0.15 * sr)
    tt = np.arange(n) / sr
    kick = 0.9 * np.sin(2 * np.pi * (50 + 80 * np.exp(-tt * 40)) * tt) * np.exp(-tt * 25)
    snare = 0.5 * rng.standard_normal(n) * np.exp(-tt * 30) + 0.3 * np.sin(2 * np.pi * 190 * tt) * np.exp(-tt * 30)
    hat = 0.15 * np.diff(rng.standard_normal(n + 1)) * np.exp(-tt * 120)
    k = 0
    while k * beat < seconds:
        t = k * beat
        add(t, kick if k % 2 == 0 else snare)
        add(t, hat)
        add(t + beat / 2, hat * 0.6)
        k += 1
    return y


def tone(freq: float, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    return sum((0.6**h) * np.sin(2 * np.pi * freq * (h + 1) * t) for h in range(4)).astype(np.float32)


def chords(key: str, seconds: float, sr: int = 44100, bpm: float = 120.0) -> np.ndarray:
    """A i-iv-V-i (minor) or I-IV-V-I (major) progression, with bass roots, one chord per bar."""
    tonic, mode = key.split()
    root = NOTE[tonic]
    third = 3 if mode == "minor" else 4
    degrees = [(0, third), (5, third), (7, 4), (0, third)]
    bar = int(4 * 60.0 / bpm * sr)
    y = np.zeros(int(seconds * sr), np.float32)
    env = np.minimum(1.0, np.linspace(0, 20, bar)) * np.exp(-np.linspace(0, 2, bar))
    i, c = 0, 0
    while i < y.size:
        offset, q = degrees[c % 4]
        base = 48 + (root + offset) % 12  # MIDI, C3..B3
        midi = [base + 12, base + 12 + q, base + 19, base - 12]
        n = min(bar, y.size - i)
        seg = sum(tone(440.0 * 2 ** ((m - 69) / 12), n, sr) for m in midi)
        y[i : i + n] += 0.08 * seg * env[:n]
        i += bar
        c += 1
    return y
