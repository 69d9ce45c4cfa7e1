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
5. Refinement to two decimals (``refine_bpm``): the comb reads one lag grid (~0.2-0.5 % steps);
   a grid 0.5 % off drifts a whole beat in ~50 bars. The whole-track Fourier transform of the
   onset envelope, summed over the first 4 harmonics of the beat frequency, peaks at the
   period that lines up the most onsets over the whole track; its resolution grows with the
   track's length, and the centred 2048-sample frames make the envelope a smooth function of
   sub-frame onset times, so the peak (parabola-interpolated) lands within ~0.01 BPM on steady
   material.
6. Stability (``tempo_curve``): the same refinement on overlapping segments; a track whose local
   tempi spread or stray more than ``STABLE_TOLERANCE`` is not steady, and gets
   ``stable: false`` and its curve instead of a false exact number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_BPM = 60.0
MAX_BPM = 200.0
PRIOR_CENTER = 112.0  # geometric centre of the 70-180 BPM span DJs play
PRIOR_OCTAVES = 0.9  # std of the log2 prior, in octaves
HARMONICS = 4  # beat-frequency harmonics summed by the refinement (a beat's onsets are sharp)
STABLE_TOLERANCE = 0.012  # local tempi within 1.2 % of each other and of the global one: steady
SEGMENT_SECONDS = 16.0  # segment of the tempo curve (hop: half of it)
SNAP_LOSS = 0.0005  # a whole/half BPM this close to the peak's harmonic power is taken (_snap)
SNAP_MAX_BPM = 0.05  # and never further than this from the peak


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
    periodicity: float = 0.0
    octave_share: float = 0.0
    stable: bool = True
    curve: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "bpm": round(self.bpm, 2),
            "confidence": round(self.confidence, 3),
            "stable": self.stable,
            "curve": self.curve,
            "alternatives": self.alternatives,
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


def _harmonic_power(env: np.ndarray, fps: float, bpms: np.ndarray) -> np.ndarray:
    """Sum over the first HARMONICS multiples of each tempo's beat frequency of |DFT(env)|^2.

    ``bpms`` evenly spaced (a refinement grid): one chirp-z transform per harmonic evaluates the
    DFT on exactly that zoomed frequency grid in O(N log N) (scipy's zoom_fft); a direct sum over
    N frames per candidate cost ~0.1 s per call on a 4-minute track. Fewer than 4 values: direct."""
    from scipy.signal import zoom_fft

    bpms = np.asarray(bpms, dtype=np.float64)
    total = np.zeros(bpms.size)
    if bpms.size < 4:
        n = np.arange(env.size)
        for k in range(1, HARMONICS + 1):
            f = k * bpms / (60.0 * fps)
            total += np.abs(np.exp(-2j * np.pi * np.outer(f, n)) @ env) ** 2
        return total
    for k in range(1, HARMONICS + 1):
        lo, hi = k * bpms[0] / (60.0 * fps), k * bpms[-1] / (60.0 * fps)  # cycles per frame
        total += np.abs(zoom_fft(env, [lo, hi], m=bpms.size, fs=1.0, endpoint=True)) ** 2
    return total


def refine_bpm(env: np.ndarray, fps: float, bpm: float, span: float = 0.03, points: int = 25) -> float:
    """The tempo within ``span`` (relative) of ``bpm`` whose harmonics carry the most of the
    whole envelope's energy: a coarse-to-fine search with a parabola through the peak."""
    env = np.asarray(env, dtype=np.float64)
    if env.size < 8 or not np.any(env > 0):
        return bpm
    # Hann taper: without it the sidelobes of the envelope's other strong lines (its mean, the
    # hats' double-time line) lean on the peak and bias short clips by ~0.02 BPM.
    env = (env - env.mean()) * np.hanning(env.size)
    lo, hi = bpm * (1 - span), bpm * (1 + span)
    best = bpm
    for _ in range(3):
        bpms = np.linspace(lo, hi, points)
        power = _harmonic_power(env, fps, bpms)
        i = int(np.clip(np.argmax(power), 1, points - 2))
        a, b, c = power[i - 1 : i + 2]
        denom = a - 2 * b + c
        step = bpms[1] - bpms[0]
        offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
        best = float(bpms[i] + np.clip(offset, -1.0, 1.0) * step)
        lo, hi = best - 2 * step, best + 2 * step
    return _snap(env, fps, best)


def _snap(tapered: np.ndarray, fps: float, bpm: float) -> float:
    """A whole (else half) BPM near the peak that the envelope cannot tell from it (harmonic
    power within SNAP_LOSS of the peak's) is taken instead: music made in a DAW or on a drum
    machine sits on such a tempo, and a short clip's peak is a few hundredths wide. On a
    4-minute track the peak is narrow enough that only ~0.002 BPM can move this way."""
    peak = float(_harmonic_power(tapered, fps, np.array([bpm, bpm]))[0])
    for candidate in (round(bpm), round(bpm * 2) / 2):
        if candidate > 0 and abs(candidate - bpm) <= SNAP_MAX_BPM:
            power = float(_harmonic_power(tapered, fps, np.array([candidate, candidate]))[0])
            if power >= (1.0 - SNAP_LOSS) * peak:
                return float(candidate)
    return bpm


def _segment_power(tapered: np.ndarray, fps: float, bpms: np.ndarray) -> np.ndarray:
    """``_harmonic_power`` of each row of ``tapered`` (segments x frames) at that row's own
    tempi (segments x points), for every segment in one pass of small matrix products."""
    n = np.arange(tapered.shape[1])
    total = np.zeros(bpms.shape)
    for k in range(1, HARMONICS + 1):
        f = k * bpms / (60.0 * fps)  # cycles per frame
        basis = np.exp(-2j * np.pi * f[:, :, None] * n[None, None, :])
        total += np.abs(np.einsum("spn,sn->sp", basis, tapered)) ** 2
    return total


def _grid_power(tapered: np.ndarray, fps: float, centres: np.ndarray, step: float, points: int) -> np.ndarray:
    """Harmonic power of each segment on an evenly spaced grid around its own centre:
    e^{-2pi i k (c + j d) n} = e^{-2pi i k c n} (e^{-2pi i k d n})^j, so a segment's grid is one
    modulation by its centre and one product with a (frames x points) matrix shared by all."""
    n = np.arange(tapered.shape[1])
    j = np.arange(points) - (points - 1) / 2
    total = np.zeros((tapered.shape[0], points))
    for k in range(1, HARMONICS + 1):
        centre = np.exp(-2j * np.pi * k * (centres / (60.0 * fps))[:, None] * n[None, :])
        steps = np.exp(-2j * np.pi * k * (step / (60.0 * fps)) * n[:, None] * j[None, :])
        total += np.abs((tapered * centre) @ steps) ** 2
    return total


def refine_segments(parts: np.ndarray, fps: float, bpm: float, span: float = 0.08, points: int = 33) -> np.ndarray:
    """``refine_bpm`` (the same zooms, parabolas and snapping) of every row of ``parts``
    (segments x frames) at once: on a 4-minute track the 29 segments cost one call's worth of
    small matrix products instead of 29 x 12 chirp-z transforms."""
    tapered = (parts - parts.mean(axis=1, keepdims=True)) * np.hanning(parts.shape[1])[None, :]
    rows = np.arange(parts.shape[0])
    centres = np.full(parts.shape[0], float(bpm))
    step = 2 * span * bpm / (points - 1)
    for _ in range(3):
        power = _grid_power(tapered, fps, centres, step, points)
        i = np.clip(np.argmax(power, axis=1), 1, points - 2)
        a, b, c = power[rows, i - 1], power[rows, i], power[rows, i + 1]
        denom = a - 2 * b + c
        offset = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, -1.0), 0.0)
        centres = centres + (i - (points - 1) / 2 + np.clip(offset, -1.0, 1.0)) * step
        step = 4 * step / (points - 1)  # the next zoom spans +-2 of this zoom's steps
    # _snap, per segment: a whole (else half) BPM within SNAP_MAX_BPM that loses < SNAP_LOSS power.
    whole, half = np.round(centres), np.round(centres * 2) / 2
    power = _segment_power(tapered, fps, np.stack([centres, whole, half], axis=1))
    out = centres.copy()
    for cand, col in ((half, 2), (whole, 1)):  # whole wins over half: applied last
        ok = (np.abs(cand - centres) <= SNAP_MAX_BPM) & (power[:, col] >= (1.0 - SNAP_LOSS) * power[:, 0]) & (cand > 0)
        out = np.where(ok, cand, out)
    return out


def tempo_curve(env: np.ndarray, fps: float, bpm: float) -> tuple[bool, list[dict]]:
    """(stable, [{time, bpm}]): the refinement on overlapping segments around the global tempo.

    Tracks shorter than two segments are called stable (too short to tell a drift from noise)."""
    seg = max(int(SEGMENT_SECONDS * fps), int(16 * 60.0 / bpm * fps))
    if env.size < 2 * seg:
        return True, []
    env = np.asarray(env, dtype=np.float64)
    starts = [s for s in range(0, env.size - seg + 1, seg // 2) if np.any(env[s : s + seg] > 0)]
    if not starts:
        return True, []
    local_bpms = refine_segments(np.stack([env[s : s + seg] for s in starts]), fps, bpm)
    curve = [{"time": round((s + seg / 2) / fps, 2), "bpm": round(float(b), 2)} for s, b in zip(starts, local_bpms)]
    # Unsteady: the local tempi spread (a glide) or sit away from the global one (a change).
    # One odd segment (a break, a fill) does not count; a tenth of them does (the quantiles).
    lo, hi = np.quantile(local_bpms, [0.1, 0.9])
    spread = (hi - lo) / bpm
    away = float(np.quantile(np.abs(np.asarray(local_bpms) / bpm - 1.0), 0.9))
    stable = bool(spread <= STABLE_TOLERANCE and away <= STABLE_TOLERANCE)
    return stable, curve


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
    coarse = candidates[choice]
    bpm = refine_bpm(env, fps, coarse)
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
        {"bpm": round(bpm * 2, 2), "score": round(score_of(coarse * 2), 3)},
        {"bpm": round(bpm / 2, 2), "score": round(score_of(coarse / 2), 3)},
    ]
    stable, curve = tempo_curve(env, fps, bpm)
    if not stable:
        confidence *= 0.5
    return TempoResult(bpm, confidence, alternatives, periodicity, octave_share, stable, curve)
