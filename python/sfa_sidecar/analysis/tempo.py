"""Tempo: onset envelope -> autocorrelation -> comb score over a fine BPM grid -> octave choice.

1. Onset strength: spectral flux of the log-mel spectrogram (computed from the shared STFT).
2. Global autocorrelation of the (locally de-meaned) envelope, normalised to 1 at lag 0.
3. Comb score C(bpm) = mean of the ACF at 1, 2, 3, 4 beat periods (interpolated between lags,
   so a 512-sample hop still gives ~0.2 % BPM resolution). The comb peaks at the true tempo
   and at its octaves (x2, /2): picking the octave is the real problem (librosa doubles slow
   tempos and halves fast ones).
4. Octave choice among the comb's best tempo times 2^k inside [MIN_BPM, MAX_BPM]: each
   candidate is scored by its comb score, by how much stronger the ACF of the low band (< 400 Hz
   : kick, snare body, bass; not the hi-hats, whose eighths would vote for double time) is
   on its beats than on its half-beats (a beat carries accents that its off-beats lack), and a broad log-normal prior
   centred on DJ tempos. The winner's share of the total is the octave confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_BPM = 60.0
MAX_BPM = 200.0
PRIOR_CENTER = 112.0  # geometric centre of the 70-180 BPM span DJs play
PRIOR_OCTAVES = 0.9  # std of the log2 prior, in octaves


def _interp(acf: np.ndarray, lags: np.ndarray) -> np.ndarray:
    return np.interp(lags, np.arange(acf.size), acf, right=0.0)


def autocorrelation(env: np.ndarray, max_lag: int) -> np.ndarray:
    env = np.asarray(env, dtype=np.float64)
    if env.size < 4:
        return np.zeros(max_lag)
    # Remove a 1 s moving average so loudness changes do not look like periodicity.
    width = 43
    kernel = np.ones(width) / width
    env = env - np.convolve(env, kernel, mode="same")
    env = np.maximum(env, 0.0)
    n = env.size
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(env, size)
    acf = np.fft.irfft(spec * np.conj(spec), size)[: min(max_lag, n)]
    # Unbiased: divide by the overlap, so long lags are not penalised for the shrinking window.
    acf = acf / (n - np.arange(acf.size))
    if acf[0] <= 0:
        return np.zeros(max_lag)
    acf = acf / acf[0]
    if acf.size < max_lag:
        acf = np.pad(acf, (0, max_lag - acf.size))
    return acf


@dataclass
class TempoResult:
    bpm: float
    confidence: float
    alternatives: list[dict] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)
    periodicity: float = 0.0
    octave_share: float = 0.0

    def to_json(self) -> dict:
        return {
            "bpm": round(self.bpm, 2),
            "confidence": round(self.confidence, 3),
            "alternatives": self.alternatives,
            "beats": [round(t, 3) for t in self.beats],
        }


def comb_scores(acf: np.ndarray, fps: float, bpms: np.ndarray, harmonics: int = 4) -> np.ndarray:
    bpms = np.asarray(bpms, dtype=np.float64)
    period = 60.0 * fps / bpms
    total = np.zeros_like(bpms)
    count = np.zeros_like(bpms)
    for k in range(1, harmonics + 1):
        lag = k * period
        ok = lag < acf.size - 1
        total[ok] += _interp(acf, lag[ok])
        count[ok] += 1
    return total / np.maximum(count, 1)


def _octave_features(acf: np.ndarray, accent_acf: np.ndarray, fps: float, bpm: float) -> tuple[float, float]:
    period = 60.0 * fps / bpm
    comb = float(comb_scores(acf, fps, np.array([bpm]))[0])
    on = float(np.mean(_interp(accent_acf, np.array([period, 2 * period]))))
    off = float(np.mean(_interp(accent_acf, np.array([0.5 * period, 1.5 * period]))))
    return comb, on - off


def _prior(bpm: float) -> float:
    return float(np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTER) / PRIOR_OCTAVES) ** 2))


def estimate_tempo(env: np.ndarray, fps: float, accent_env: np.ndarray | None = None) -> TempoResult:
    duration = env.size / fps
    acf = autocorrelation(env, int(fps * 6.0))
    accent_acf = acf if accent_env is None else autocorrelation(accent_env, int(fps * 6.0))
    bpms = np.exp(np.linspace(np.log(40.0), np.log(250.0), 2400))
    comb = comb_scores(acf, fps, bpms)
    # The comb scores a period's multiples too (T/2, T/3 of a click track tie with T), so take
    # the fastest clearly strong local maximum; the octave step below decides between x2 and /2.
    peaks = np.flatnonzero((comb[1:-1] >= comb[:-2]) & (comb[1:-1] > comb[2:])) + 1
    strong = peaks[comb[peaks] >= 0.85 * comb.max()] if peaks.size else np.array([int(np.argmax(comb))])
    best = float(bpms[int(strong.max())]) if strong.size else float(bpms[int(np.argmax(comb))])
    # Contrast of the best comb score against the comb's median: how periodic the signal is.
    periodicity = float(np.clip((comb.max() - np.median(comb)) / 0.3, 0.0, 1.0))

    candidates = []
    for k in range(-3, 4):
        b = best * 2.0**k
        if MIN_BPM * 0.97 <= b <= MAX_BPM * 1.03:
            candidates.append(b)
    if not candidates:
        candidates = [best]
    weights = []
    for b in candidates:
        c, accent = _octave_features(acf, accent_acf, fps, b)
        weights.append(max(c, 1e-6) * np.exp(3.0 * accent) * _prior(b))
    weights = np.asarray(weights)
    share = weights / weights.sum()
    choice = int(np.argmax(share))
    bpm = candidates[choice]
    octave_share = float(share[choice])
    confidence = float(np.clip(periodicity * (0.3 + 0.7 * octave_share), 0.0, 1.0))
    if duration < 5.0:
        confidence *= duration / 5.0

    def score_of(b: float) -> float:
        for cand, s in zip(candidates, share):
            if abs(cand - b) < 1e-6 * b:
                return float(s)
        c, accent = _octave_features(acf, accent_acf, fps, b)
        w = max(c, 1e-6) * np.exp(3.0 * accent) * _prior(b)
        return float(w / (weights.sum() + w))

    alternatives = [
        {"bpm": round(bpm * 2, 2), "score": round(score_of(bpm * 2), 3)},
        {"bpm": round(bpm / 2, 2), "score": round(score_of(bpm / 2), 3)},
    ]
    return TempoResult(bpm, confidence, alternatives, [], periodicity, octave_share)


def track_beats(env: np.ndarray, sr: int, hop: int, bpm: float) -> list[float]:
    import librosa

    if env.size < 8 or not np.any(env > 0):
        return []
    _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=hop, bpm=bpm, units="time", trim=True)
    return [float(t) for t in beats]
