"""Beat grid and downbeats: where the beats and the bars are, for beat-matching and bar lines.

Steady track (``tempo.stable``): the grid is exact, ``first + n x 60/bpm`` over the whole
window, with the phase that lines up the most onset strength (a 1 % wobble in single beats is
the player's, the grid is the tempo's). Drifting track: the beats come from a dynamic-programming
beat tracker (librosa's) started at the global tempo, and follow the drift.

Downbeats: per beat, the harmonic change across it (chords change on the bar line far more often
than inside it: cosine distance between the chroma of the two beats after it and the two before)
plus a little of the low-band accent (kick, bass note), folded by each meter m in {3, 4} and
each phase; the meter and phase whose beats stand out most from the others win. With no contrast at all (a kick on every beat and one
held chord), the first beat starts the bars and the meter is 4/4, the common case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METERS = (4, 3)  # 4 first: it wins ties
CHANGE_CONTEXT = 2  # beats on each side of a beat whose chroma means are compared
# The kick/bass accent only breaks near-ties: on the generated corpus (bench/ANALYSIS.md) kicks
# land off the bar line in half the drum styles (hip-hop, syncopated rock), and weighting them
# like the harmonic change lost ~0.2 downbeat F-measure.
ACCENT_WEIGHT = 0.1
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
    return [max(0.0, float(t)) for t in np.arange(first, seconds, period) if start - period <= t <= end + period / 2]


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
    return [float(t) for t in beats]


def beat_cues(beats: list[float], low: np.ndarray, chroma: np.ndarray, fps: float) -> np.ndarray:
    """Per beat: the harmonic change across it - cosine distance between the mean chroma of the
    CHANGE_CONTEXT beats after it and of those before it (a chord held for a bar or more changes
    on the bar line; a melody note or a passing chord inside the bar moves a 2-beat mean much
    less) - plus ACCENT_WEIGHT x its low-band accent relative to the mean beat's. Absolute scales,
    not standardised: a track whose beats are all alike must show no bar structure."""
    frames = np.clip(np.round(np.asarray(beats) * fps).astype(int), 0, low.size - 1)
    accent = np.array([low[max(0, f - 1) : f + 3].max() for f in frames], dtype=np.float64)
    if frames[0] < 3 and accent.size > 1:
        accent[0] = np.median(accent[1:])  # the envelope has no frame before the start to rise from
    accent = accent / accent.mean() - 1.0 if accent.mean() > 1e-9 else np.zeros_like(accent)
    edges = np.append(frames, chroma.shape[1])
    means = np.stack([chroma[:, a : max(b, a + 1)].mean(axis=1) for a, b in zip(edges[:-1], edges[1:])])
    csum = np.vstack([np.zeros((1, 12)), np.cumsum(means, axis=0)])
    n, k = len(beats), CHANGE_CONTEXT
    idx = np.arange(n)
    after = csum[np.minimum(idx + k, n)] - csum[idx]
    before = csum[idx] - csum[np.maximum(idx - k, 0)]
    norms = np.linalg.norm(after, axis=1) * np.linalg.norm(before, axis=1)
    change = np.where(norms > 1e-12, 1.0 - (after * before).sum(axis=1) / np.maximum(norms, 1e-12), 0.0)
    change[0] = np.median(change[1:]) if n > 1 else 0.0  # nothing before the first beat
    return ACCENT_WEIGHT * accent + change


def choose_bars(cues: np.ndarray) -> tuple[int, int, float]:
    """(beats per bar, index of the first downbeat, contrast of the winner)."""
    best = (4, 0, MIN_CONTRAST)
    for m in METERS:
        if cues.size < 2 * m:
            continue
        for phase in range(m):
            on = np.zeros(cues.size, bool)
            on[phase::m] = True
            contrast = float(cues[on].mean() - cues[~on].mean())
            if contrast > best[2] + 1e-9:
                best = (m, phase, contrast)
    return best


def beat_grid(beats: list[float], low: np.ndarray, chroma: np.ndarray, fps: float) -> Grid:
    if len(beats) < 2:
        return Grid(list(beats), list(beats[:1]), "4/4", beats[0] if beats else None, 0.0)
    cues = beat_cues(beats, low, chroma, fps)
    m, phase, contrast = choose_bars(cues)
    downbeats = beats[phase::m]
    confidence = float(np.clip((contrast - MIN_CONTRAST) / (FULL_CONTRAST - MIN_CONTRAST), 0.0, 1.0))
    return Grid(list(beats), list(downbeats), f"{m}/4", downbeats[0] if downbeats else None, confidence)


def chroma_frames(mag: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """12 x frames chroma of the shared magnitude spectrogram (one matrix product)."""
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft) @ (mag.astype(np.float32) ** 2)
