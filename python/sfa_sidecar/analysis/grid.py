"""Beat grid and downbeats: where the beats and the bars are, for beat-matching and bar lines.

Steady track (``tempo.stable``): the grid is exact, ``first + n x 60/bpm`` over the whole
window, with the phase that lines up the most onset strength (a 1 % wobble in single beats is
the player's, the grid is the tempo's). Drifting track: the beats come from a dynamic-programming
beat tracker (librosa's) started at the global tempo, and follow the drift.

Downbeats: per beat, the harmonic change across it (chords change on the bar line far more often
than inside it: cosine distance between the chroma of the two beats after it and the two before),
measured in the bass register (below BASS_FMAX: the bass note changes with the chord and, unlike
the melody above it, rarely inside the bar) and over the whole spectrum, plus a little of the
kick accent (below KICK_FMAX), folded by each meter m in {3, 4} and each phase; the meter and
phase whose beats stand out most from the others win. With no contrast at all (a kick on every
beat and one held chord), the first beat starts the bars and the meter is 4/4, the common case.
The grid spans the music: leading and trailing beats without an onset (a silent intro, the
reverb tail) are left out, so no bar line is drawn after the last note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METERS = (4, 3)  # 4 first: it wins ties
CHANGE_CONTEXT = 2  # beats on each side of a beat whose chroma means are compared
# Bands whose chroma change marks the bar lines, with their weights (chosen on the dev corpus,
# bench/ANALYSIS.md): the bass register alone found every dev bar phase where the whole
# spectrum (melody notes moving inside the bar) missed 1 in 8; the whole spectrum stays in for
# music without a bass line.
CHANGE_BANDS = ((0.0, 250.0, 1.0), (0.0, None, 1.0))  # (low Hz, high Hz or None: Nyquist, weight)
# The kick accent only breaks near-ties: kicks land off the bar line in half the corpus's drum
# styles (hip-hop, syncopated rock); the band below 150 Hz holds the kick, not the snare body.
ACCENT_WEIGHT = 0.1
KICK_FMAX = 150.0
# 4/4 is the meter of nearly all the music DJs play: a 3/4 fold must stand out this many times
# more than the best 4/4 fold to win (on dev, a bass line held 2 bars at 153 BPM with no chords
# folded 1.2x better in 3 than in 4).
THREE_FOUR_MARGIN = 1.5
EDGE_LEVEL = 0.25  # a first/last beat whose onset is below this x the median beat's is not music
MIN_CONTRAST = 0.02  # below this the beats are alike: bars start on the first beat, in 4/4
FULL_CONTRAST = 0.2  # contrast for downbeat confidence 1
# The onset envelope's peak trails the onset by about one frame (its frames are centred and its
# flux is a difference with the frame before); measured on click tracks, see test_analyze_grid.
ONSET_LAG_SECONDS = 0.025


@dataclass
class Grid:
    beats: list[float]
    downbeats: list[float]
    meter: str
    first_downbeat: float | None
    downbeat_confidence: float

    def to_json(self) -> dict:
        return {
            "beats": [round(t, 3) for t in self.beats],
            "downbeats": [round(t, 3) for t in self.downbeats],
            "meter": self.meter,
            "first_downbeat": None if self.first_downbeat is None else round(self.first_downbeat, 3),
            "downbeat_confidence": round(self.downbeat_confidence, 3),
        }


def grid_phase(env: np.ndarray, fps: float, bpm: float) -> float:
    """The offset in [0, period) seconds where a comb at ``bpm`` collects the most onset strength."""
    period = 60.0 * fps / bpm  # frames
    frames = np.arange(env.size, dtype=np.float64)
    n = np.arange(int(env.size / period) + 1)
    phases = np.linspace(0.0, period, 96, endpoint=False)

    def collected(ph: np.ndarray) -> np.ndarray:
        pos = ph[:, None] + n[None, :] * period
        return np.interp(pos, frames, env, right=0.0).sum(axis=1)

    score = collected(phases)
    i = int(np.argmax(score))
    a, b, c = score[i - 1], score[i], score[(i + 1) % phases.size]
    denom = a - 2 * b + c
    step = phases[1] - phases[0]
    offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
    phase = (phases[i] + np.clip(offset, -1, 1) * step) % period
    seconds = float(phase / fps - ONSET_LAG_SECONDS)
    # A beat right at the start stays the first beat (clamped to 0 by the caller), not a period later.
    return seconds if seconds > -0.05 else seconds + 60.0 / bpm


def steady_beats(env: np.ndarray, low: np.ndarray, fps: float, bpm: float, seconds: float) -> list[float]:
    """The beats a person taps: the phase is taken on the full-band onsets plus the low band
    (each scaled to its own maximum), so a kick on the beat outweighs an off-beat hi-hat."""
    mix = env / max(float(env.max()), 1e-9) + low[: env.size] / max(float(low.max()), 1e-9)
    first = grid_phase(mix, fps, bpm)
    period = 60.0 / bpm
    start, end = music_span(env, fps)
    # No beats where there is no music (a silent intro, a reverb tail). A beat of slack before the
    # first onset: an onset right at t=0 barely shows in the envelope (no frame before it).
    beats = [max(0.0, float(t)) for t in np.arange(first, seconds, period) if start - period <= t <= end + period / 2]
    return trim_to_music(beats, env, fps)


def beat_onsets(beats: list[float], env: np.ndarray, fps: float) -> np.ndarray:
    """Per beat, the strongest onset within a frame before to two after it (the envelope lags)."""
    frames = np.clip(np.round((np.asarray(beats) + ONSET_LAG_SECONDS) * fps).astype(int), 0, max(env.size - 1, 0))
    return np.array([env[max(0, f - 1) : f + 3].max() if env.size else 0.0 for f in frames], dtype=np.float64)


def trim_to_music(beats: list[float], env: np.ndarray, fps: float) -> list[float]:
    """Without the leading and trailing beats that carry no onset (below EDGE_LEVEL x the median
    beat's): a render's reverb tail or a fade keeps the envelope above the music span's floor for
    a bar or two, and a bar line drawn there marks nothing (the score has no bar there)."""
    if len(beats) < 4:
        return beats
    strength = beat_onsets(beats, env, fps)
    if beats[0] * fps < 3:
        strength[0] = np.median(strength)  # no frame before the start for an onset at t=0 to rise from
    music = np.flatnonzero(strength >= EDGE_LEVEL * float(np.median(strength)))
    if music.size == 0:
        return beats
    return beats[int(music[0]) : int(music[-1]) + 1]


def music_span(env: np.ndarray, fps: float) -> tuple[float, float]:
    """(first, last) time where the onset envelope reaches a tenth of its 95th percentile."""
    if env.size == 0:
        return 0.0, 0.0
    level = 0.1 * float(np.quantile(env, 0.95))
    active = np.flatnonzero(env > level) if level > 0 else np.arange(env.size)
    if active.size == 0:
        return 0.0, env.size / fps
    return active[0] / fps - ONSET_LAG_SECONDS, active[-1] / fps


def tracked_beats(env: np.ndarray, sr: int, hop: int, bpm: float) -> list[float]:
    import librosa

    if env.size < 8 or not np.any(env > 0):
        return []
    _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=hop, bpm=bpm, units="time", trim=True)
    return trim_to_music([float(t) for t in beats], env, sr / hop)


def band_chroma_filters(sr: int, n_fft: int) -> list[tuple[slice, np.ndarray, float]]:
    """(bins, 12 x bins float32 chroma filter, weight) per CHANGE_BANDS entry (float32 like the
    spectrogram: a float64 filter would make numpy copy the whole power matrix to float64)."""
    import librosa

    full = librosa.filters.chroma(sr=sr, n_fft=n_fft)
    freqs = np.linspace(0, sr / 2, full.shape[1])
    out = []
    for lo, hi, weight in CHANGE_BANDS:
        inside = np.flatnonzero((freqs >= lo) & (freqs < (hi if hi is not None else np.inf)))
        bins = slice(int(inside[0]), int(inside[-1]) + 1)  # a band is contiguous: a view, no copy
        out.append((bins, full[:, bins].astype(np.float32), weight))
    return out


def beat_means(x: np.ndarray, beats: list[float], fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(beats x rows) mean of the (rows x frames) ``x`` over each beat (its frame to the next
    beat's; the last to the end) and the beats' frames."""
    frames = np.clip(np.round(np.asarray(beats) * fps).astype(int), 0, x.shape[1] - 1)
    frames = np.maximum.accumulate(frames)
    starts = np.unique(frames)
    sums = np.add.reduceat(x, starts, axis=1)
    counts = np.diff(np.append(starts, x.shape[1]))
    means = sums / np.maximum(counts, 1)[None, :]
    return means[:, np.searchsorted(starts, frames)].T, frames


def harmonic_change(means: np.ndarray, k: int = CHANGE_CONTEXT) -> np.ndarray:
    """Per beat: cosine distance between the mean chroma (beats x 12) of the k beats after it and
    of the k before it (a chord held for a bar or more changes on the bar line; a melody note or a
    passing chord inside the bar moves a k-beat mean much less)."""
    csum = np.vstack([np.zeros((1, means.shape[1])), np.cumsum(means, axis=0)])
    n = means.shape[0]
    idx = np.arange(n)
    after = csum[np.minimum(idx + k, n)] - csum[idx]
    before = csum[idx] - csum[np.maximum(idx - k, 0)]
    norms = np.linalg.norm(after, axis=1) * np.linalg.norm(before, axis=1)
    change = np.where(norms > 1e-12, 1.0 - (after * before).sum(axis=1) / np.maximum(norms, 1e-12), 0.0)
    change[0] = np.median(change[1:]) if n > 1 else 0.0  # nothing before the first beat
    return change


def beat_cues(beats: list[float], mag: np.ndarray, fps: float, sr: int, n_fft: int) -> np.ndarray:
    """Per beat: the weighted harmonic change of each CHANGE_BANDS band (weights summing to 1)
    plus ACCENT_WEIGHT x its kick accent (flux below KICK_FMAX) relative to the mean beat's.
    Absolute scales, not standardised: a track whose beats are all alike must show no bar structure."""
    power = np.square(mag, dtype=np.float32)
    bands = band_chroma_filters(sr, n_fft)
    total = sum(w for _, _, w in bands)
    # Chroma per frame (small matrix products), then its mean per beat.
    per_beat = [(beat_means(f @ power[bins], beats, fps), w) for bins, f, w in bands]
    frames = per_beat[0][0][1]
    change = sum(w / total * harmonic_change(means) for (means, _), w in per_beat)
    freqs = np.linspace(0, sr / 2, mag.shape[0])
    kick = mag[freqs < KICK_FMAX]
    kick = np.log1p(100.0 * kick / max(float(kick.max()), 1e-12))
    flux = np.maximum(0.0, np.diff(kick, axis=1, prepend=kick[:, :1])).sum(axis=0)
    accent = np.array([flux[max(0, f - 1) : f + 3].max() for f in frames], dtype=np.float64)
    if frames[0] < 3 and accent.size > 1:
        accent[0] = np.median(accent[1:])  # the envelope has no frame before the start to rise from
    accent = accent / accent.mean() - 1.0 if accent.mean() > 1e-9 else np.zeros_like(accent)
    return ACCENT_WEIGHT * accent + change


def choose_bars(cues: np.ndarray) -> tuple[int, int, float]:
    """(beats per bar, index of the first downbeat, contrast of the winner)."""
    best = (4, 0, MIN_CONTRAST)
    best_score = MIN_CONTRAST
    for m in METERS:
        if cues.size < 2 * m:
            continue
        for phase in range(m):
            on = np.zeros(cues.size, bool)
            on[phase::m] = True
            contrast = float(cues[on].mean() - cues[~on].mean())
            score = contrast if m == 4 else contrast / THREE_FOUR_MARGIN
            if score > best_score + 1e-9:
                best, best_score = (m, phase, contrast), score
    return best


def beat_grid(beats: list[float], mag: np.ndarray, fps: float, sr: int, n_fft: int) -> Grid:
    """Bars and meter of ``beats`` from the (bins x frames) magnitude spectrogram ``mag``."""
    if len(beats) < 2:
        return Grid(list(beats), list(beats[:1]), "4/4", beats[0] if beats else None, 0.0)
    cues = beat_cues(beats, mag, fps, sr, n_fft)
    m, phase, contrast = choose_bars(cues)
    downbeats = beats[phase::m]
    confidence = float(np.clip((contrast - MIN_CONTRAST) / (FULL_CONTRAST - MIN_CONTRAST), 0.0, 1.0))
    return Grid(list(beats), list(downbeats), f"{m}/4", downbeats[0] if downbeats else None, confidence)
