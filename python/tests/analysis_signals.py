"""numpy-synthesised test signals with known tempo and key (no fluidsynth needed)."""

from __future__ import annotations

import numpy as np

NOTE = {"C": 0, "C#": 1, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}


def drums(bpm: float, seconds: float, sr: int = 44100, seed: int = 0, bpm_end: float | None = None) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, closed hi-hat on eighths; with ``bpm_end`` the tempo
    glides linearly from ``bpm`` to ``bpm_end`` (a drifting track)."""
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
    k, t = 0, 0.0
    while t < seconds:
        if bpm_end is not None:
            beat = 60.0 / (bpm + (bpm_end - bpm) * t / seconds)
        add(t, kick if k % 2 == 0 else snare)
        add(t, hat)
        add(t + beat / 2, hat * 0.6)
        k += 1
        t += beat
    return y


def tone(freq: float, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    return sum((0.6**h) * np.sin(2 * np.pi * freq * (h + 1) * t) for h in range(4)).astype(np.float32)


def chords(key: str, seconds: float, sr: int = 44100, bpm: float = 120.0, a4: float = 440.0) -> np.ndarray:
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
        seg = sum(tone(a4 * 2 ** ((m - 69) / 12), n, sr) for m in midi)
        y[i : i + n] += 0.08 * seg * env[:n]
        i += bar
        c += 1
    return y


def beat_fixture(bpm: float, seconds: float, sr: int = 22050, chord=(196.0, 246.94, 293.66), seed: int = 0) -> np.ndarray:
    """The e2e fixture of e2e/audio.ts beatWav: a 60 Hz kick on every beat, a noise hat on the
    off-beat, over a held chord (the "Beat Bravo 100" file must read 100 BPM, not 200)."""
    rng = np.random.default_rng(seed)
    i = np.arange(int(round(seconds * sr)))
    t = i / sr
    beat = 60.0 / bpm * sr
    v = sum(np.sin(2 * np.pi * f * t) * 0.12 for f in chord)
    since = i % beat
    kick = since < 0.12 * sr
    v = v + np.where(kick, np.sin(2 * np.pi * 60 * since / sr) * np.exp(-since / (0.03 * sr)) * 0.6, 0.0)
    hat = (i + beat / 2) % beat
    noise = rng.uniform(-1, 1, i.size)
    v = v + np.where(hat < 0.02 * sr, noise * 0.15 * np.exp(-hat / (0.005 * sr)), 0.0)
    return np.round(np.clip(v, -1, 1) * 32767).astype(np.float32) / 32767


def bars(bpm: float, meter: int, seconds: float, pickup: int = 0, sr: int = 22050, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """Drums + a chord per bar in ``meter`` beats per bar, starting ``pickup`` beats before a bar
    line; returns (signal, bar start times). 4/4: kick 1 and 3, snare 2 and 4; 3/4: kick on 1,
    snare on 2 and 3; hats on every eighth; chords i-iv-V-i in A minor with the bass root."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    n = int(seconds * sr)
    y = np.zeros(n, np.float32)
    m = int(0.15 * sr)
    tt = np.arange(m) / sr
    kick = 0.9 * np.sin(2 * np.pi * (50 + 80 * np.exp(-tt * 40)) * tt) * np.exp(-tt * 25)
    snare = 0.4 * rng.standard_normal(m) * np.exp(-tt * 30)
    hat = 0.12 * np.diff(rng.standard_normal(m + 1)) * np.exp(-tt * 120)

    def add(t0: float, sig: np.ndarray) -> None:
        i = int(round(t0 * sr))
        if i < 0 or i >= n:
            return
        k = min(sig.size, n - i)
        y[i : i + k] += sig[:k]

    downbeats = []
    degrees = [(0, 3), (5, 3), (7, 4), (0, 3)]
    k = -pickup
    while (k + pickup) * beat < seconds:
        t = (k + pickup) * beat
        pos = k % meter
        strong = pos == 0 or (meter == 4 and pos == 2)
        add(t, kick if strong else snare)
        add(t, hat)
        add(t + beat / 2, 0.6 * hat)
        if pos == 0:
            if t >= 0:
                downbeats.append(t)
            offset, q = degrees[(k // meter) % 4]
            root = 57 + offset - 12
            length = int(meter * beat * sr)
            start = int(round(t * sr))
            seg_n = min(length, n - start)
            if seg_n > 0:
                env = np.minimum(1.0, np.linspace(0, 30, seg_n)) * np.exp(-np.linspace(0, 1.5, seg_n))
                notes = [root - 12, root + 12, root + 12 + q, root + 19]
                y[start : start + seg_n] += 0.07 * env * sum(tone(440.0 * 2 ** ((p - 69) / 12), seg_n, sr) for p in notes)
        k += 1
    return y, downbeats


def progression(tonic: str, degrees: list[tuple[int, int]], seconds: float = 16.0, sr: int = 44100,
                bpm: float = 120.0) -> np.ndarray:
    """A loop of triads, one per bar, each with its root in the bass: ``degrees`` are (semitones
    above the tonic, third: 4 major / 3 minor)."""
    bar = int(4 * 60.0 / bpm * sr)
    y = np.zeros(int(seconds * sr), np.float32)
    env = np.minimum(1.0, np.linspace(0, 20, bar)) * np.exp(-np.linspace(0, 2, bar))
    i, c = 0, 0
    while i < y.size:
        offset, third = degrees[c % len(degrees)]
        base = 48 + (NOTE[tonic] + offset) % 12
        n = min(bar, y.size - i)
        y[i : i + n] += 0.08 * sum(tone(440.0 * 2 ** ((m - 69) / 12), n, sr) for m in (base + 12, base + 12 + third, base + 19, base - 12)) * env[:n]
        i += bar
        c += 1
    return y


def stereo_mix(seconds: float, sr: int = 44100, seed: int = 7, click_every: float = 0.25) -> np.ndarray:
    """(n, 2) float32 for the separation tests: a tone per channel, a shared 55 Hz bass line and
    noise-burst clicks every ``click_every`` seconds, so every stem of a model has something to carry."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    clicks = np.zeros_like(t)
    clicks[:: int(sr * click_every)] = 1.0
    drums = np.convolve(clicks, rng.standard_normal(1500) * np.exp(-np.arange(1500) / 200), "same") * 0.15
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 55 * t) + drums
    right = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.2 * np.sin(2 * np.pi * 55 * t) + drums
    return np.stack([left, right], 1).astype(np.float32)
