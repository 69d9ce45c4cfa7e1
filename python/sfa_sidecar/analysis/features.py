"""One STFT, many features: everything librosa can compute from a magnitude spectrogram is
computed from the same one (the seed recomputed the STFT for each feature)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_FFT = 2048
HOP = 512
ACCENT_FMAX = 400.0  # Hz: kick and snare fundamentals, bass; decides the tempo octave (tempo.py)


@dataclass
class Shared:
    sr: int
    hop: int
    mag: np.ndarray  # (1 + n_fft/2, frames) magnitude
    onset_env: np.ndarray  # (frames,) spectral flux of the log-mel spectrogram
    onset_low: np.ndarray  # (frames,) the same below ACCENT_FMAX: kick, snare body, bass; no hi-hats

    @property
    def fps(self) -> float:
        return self.sr / self.hop


STFT_BLOCK = 1024  # frames per FFT call: bounds the float32 frame copy to ~8 MB


def stft_frames(padded: np.ndarray) -> np.ndarray:
    """(frames, N_FFT) strided view of the frames of a signal already padded by N_FFT/2 each side."""
    frames = 1 + (padded.size - N_FFT) // HOP
    return np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:frames]


def magnitude_into(frames: np.ndarray, out: np.ndarray, a: int, b: int) -> None:
    """|rfft| of the windowed ``frames[a:b]`` into ``out[a:b]`` (frames-major); each frame's value
    does not depend on how the frames are split between calls (so a streamed STFT is this one)."""
    from scipy.fft import rfft

    window = _hann()
    for lo in range(a, b, STFT_BLOCK):
        hi = min(b, lo + STFT_BLOCK)
        np.abs(rfft(frames[lo:hi] * window, axis=1), out=out[lo:hi])


_HANN: list[np.ndarray] = []


def _hann() -> np.ndarray:
    if not _HANN:
        from scipy.signal import get_window

        _HANN.append(get_window("hann", N_FFT, fftbins=True).astype(np.float32))
    return _HANN[0]


def magnitude(y: np.ndarray) -> np.ndarray:
    """|STFT| exactly as ``librosa.stft(y, n_fft=N_FFT, hop_length=HOP)`` at its defaults (centred,
    zero padding, periodic Hann), in single precision: librosa's transform runs in double
    precision and then transposes, ~3x the CPU time for the same magnitudes (within 1e-6 of the
    peak). Returned as a (bins, frames) view of a frames-major array (no transpose copy)."""
    y = np.asarray(y, dtype=np.float32)
    frames = stft_frames(np.pad(y, (N_FFT // 2, N_FFT // 2)))
    out = np.empty((frames.shape[0], N_FFT // 2 + 1), np.float32)
    magnitude_into(frames, out, 0, frames.shape[0])
    return out.T


def stft_and_onsets(y: np.ndarray, sr: int, mag: np.ndarray | None = None) -> Shared:
    """The shared spectrogram and onset envelopes; ``mag``: ``magnitude(y)`` when already made."""
    import librosa

    mag = magnitude(y) if mag is None else mag
    mel_basis = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=96, fmax=min(11025, sr / 2))
    mel = mel_basis @ np.square(mag)  # what librosa.feature.melspectrogram(S=mag**2) computes
    mel_db = librosa.power_to_db(mel, ref=np.max)
    env = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP)
    return Shared(sr, HOP, mag, env.astype(np.float32), low_flux(mag, sr).astype(np.float32))


def low_flux(mag: np.ndarray, sr: int) -> np.ndarray:
    """Onset strength below ACCENT_FMAX on a gently compressed magnitude (log1p(100 x), not dB):
    a dB flux makes a hi-hat's faint noise in the empty low bins jump as much as a kick does, and
    then off-beat hats vote for double time (the "kick on every beat, hat on the off-beat" case)."""
    freqs = np.linspace(0, sr / 2, mag.shape[0])
    low = mag[freqs < ACCENT_FMAX]
    top = float(low.max()) if low.size else 0.0
    if top <= 0:
        return np.zeros(mag.shape[1], np.float32)
    low = np.log1p(100.0 * low / top)
    flux = np.maximum(0.0, np.diff(low, axis=1, prepend=low[:, :1])).sum(axis=0)
    # The same frame convention as librosa's onset_strength (centred frames: shift by n_fft/2).
    shift = N_FFT // (2 * HOP)
    return np.concatenate([np.zeros(shift), flux[:-shift]]) if flux.size > shift else np.zeros_like(flux)


def spectral(shared: Shared) -> dict:
    """Means of centroid, rolloff (85 %), bandwidth (p=2) and flatness, in one pass over the
    shared magnitude spectrogram (librosa normalises the whole matrix again for each feature,
    which cost ~2 s on a 4-minute track; tests check the two agree).

    ``centroid_mean`` and ``rolloff_mean`` are the seed's columns with the seed's meaning: the
    mean over every frame of librosa's ``spectral_centroid``/``spectral_rolloff`` at their
    defaults, where a silent frame counts as 0 Hz (DESIGN.md 4.3). ``*_sounding_mean`` are the
    same over the frames that hold sound only (a track's silences do not pull them down)."""
    S, sr = shared.mag, shared.sr
    freqs = np.linspace(0, sr / 2, S.shape[0], dtype=np.float32)[:, None]
    frames = S.shape[1]
    total = S.sum(axis=0)
    nonzero = total > 0  # librosa's per-frame definitions: an all-zero frame reads 0 Hz
    if not nonzero.any():
        return {"centroid_mean": 0.0, "rolloff_mean": 0.0, "centroid_sounding_mean": 0.0,
                "rolloff_sounding_mean": 0.0, "bandwidth_mean": 0.0, "flatness_mean": 1.0}
    if not nonzero.all():
        S = S[:, nonzero]
        total = total[nonzero]
    loud = total > 1e-6  # sounding: not digital silence nor its window-edge leakage
    f = freqs[:, 0]
    # Moments as matrix-vector products (one pass each, no frequency-weighted copies of S):
    # bandwidth^2 = E[f^2] - centroid^2, the same sum librosa takes around the centroid.
    centroid = (f @ S) / total
    bandwidth = np.sqrt(np.maximum(((f * f) @ S) / total - centroid * centroid, 0.0))
    # One scratch matrix for the three whole-spectrogram passes below (fresh 40 MB temporaries
    # cost their page faults each time); S's own layout, so every pass runs down its columns.
    scratch = np.empty_like(S)
    cumulative = np.cumsum(S, axis=0, out=scratch)
    rolloff_bin = np.argmax(cumulative >= 0.85 * cumulative[-1], axis=0)
    rolloff = f[rolloff_bin]
    # log(max(S^2, 1e-10)) = 2 log(max(S, 1e-5)): librosa's flatness without the squared copy's log.
    log_mean = 2.0 * np.log(np.maximum(S, 1e-5, out=scratch), out=scratch).mean(axis=0)
    power_mean = np.maximum(np.square(S, out=scratch), 1e-10, out=scratch).mean(axis=0)
    flatness = np.exp(log_mean) / power_mean
    return {
        "centroid_mean": round(float(centroid.sum() / frames), 2),
        "rolloff_mean": round(float(rolloff.sum() / frames), 2),
        "centroid_sounding_mean": round(float(centroid[loud].mean()), 2) if loud.any() else 0.0,
        "rolloff_sounding_mean": round(float(rolloff[loud].mean()), 2) if loud.any() else 0.0,
        "bandwidth_mean": round(float(bandwidth[loud].mean()), 2) if loud.any() else 0.0,
        "flatness_mean": round(float(flatness[loud].mean()), 5) if loud.any() else 1.0,
    }


def rms_windowed_frames(shared: Shared) -> np.ndarray:
    """RMS per frame of the Hann-windowed STFT (the energy curve's source; ~0.6 x the seed's
    rectangular-frame RMS on steady sound, which is the window's own RMS)."""
    import librosa

    return librosa.feature.rms(S=shared.mag, frame_length=N_FFT)[0]


def _frame_sums(padded: np.ndarray) -> np.ndarray:
    """Sum of ``padded`` over each of librosa's frames (N_FFT long, hop HOP) of a signal already
    padded by N_FFT/2 each side: frames fall on whole HOP blocks, so a frame is N_FFT/HOP
    consecutive block sums - one pass, no running sum over millions of samples."""
    n_frames = 1 + (padded.size - N_FFT) // HOP
    per = N_FFT // HOP
    need = (n_frames + per - 1) * HOP
    if padded.size < need:
        padded = np.pad(padded, (0, need - padded.size))
    sums = padded[:need].reshape(-1, HOP).sum(axis=1, dtype=np.float64)
    return np.lib.stride_tricks.sliding_window_view(sums, per)[:n_frames].sum(axis=1)


def rms_mean(y: np.ndarray) -> float:
    """The seed's ``energy``: mean of ``librosa.feature.rms(y=y)`` at its defaults (centred
    2048-sample rectangular frames, hop 512, zero padding), from block sums (no STFT)."""
    if y.size == 0:
        return 0.0
    half = N_FFT // 2
    power = _frame_sums(np.pad(np.square(y, dtype=np.float32), (half, half))) / N_FFT
    return float(np.sqrt(np.maximum(power, 0.0)).mean())


def zcr_mean(y: np.ndarray) -> float:
    """The seed's ``zero_crossing_rate`` mean: librosa's defaults (centred 2048-sample frames
    padded with the edge value, hop 512, |y| <= 1e-10 counts as 0, 0 counts as positive, a
    frame's first sample is not a crossing)."""
    if y.size == 0:
        return 0.0
    y = np.where(np.abs(y) <= 1e-10, 0.0, y)
    half = N_FFT // 2
    signs = np.signbit(np.pad(y, (half, half), mode="edge"))
    change = np.zeros(signs.size, np.float32)
    change[1:] = signs[1:] != signs[:-1]
    counts = _frame_sums(change)
    # A frame's first sample is compared with the one before the frame: librosa does not count it.
    counts -= change[np.arange(counts.size) * HOP]
    return float(np.mean(counts / N_FFT))


def energy_curve(rms: np.ndarray, fps: float, seconds: float) -> list[float]:
    """~1 value per second: RMS in dBFS mapped from [-60, 0] to [0, 1] (absolute, comparable)."""
    n = max(1, int(round(seconds)))
    edges = np.linspace(0, rms.size, n + 1).astype(int)
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        seg = rms[a:max(b, a + 1)]
        power = float(np.mean(seg**2)) if seg.size else 0.0
        db = 10 * np.log10(power) + 3.01 if power > 0 else -120.0  # +3 dB: sine RMS -> peak scale
        out.append(round(float(np.clip((db + 60.0) / 60.0, 0.0, 1.0)), 3))
    return out


def energy_level(lufs: float | None, onset_rate: float, bpm: float) -> int:
    """DJ energy 1..10. Loudness dominates (-30 LUFS -> 0, -6 LUFS -> 1), then the density of
    onsets (0 -> 0, >= 6 per second -> 1) and tempo (80 BPM -> 0, 150 -> 1):
    level = 1 + round(9 * (0.6 * loud + 0.25 * density + 0.15 * tempo)).
    So a quiet ambient piece lands at 1-3, a club track at -8 LUFS with busy drums at 8-10."""
    loud = 0.0 if lufs is None else float(np.clip((lufs + 30.0) / 24.0, 0.0, 1.0))
    density = float(np.clip(onset_rate / 6.0, 0.0, 1.0))
    tempo = float(np.clip((bpm - 80.0) / 70.0, 0.0, 1.0))
    return int(1 + round(9 * (0.6 * loud + 0.25 * density + 0.15 * tempo)))


def onset_rate(env: np.ndarray, fps: float) -> float:
    import librosa

    if env.size < 3 or not np.any(env > 0):
        return 0.0
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=int(fps * HOP), hop_length=HOP)
    return float(len(onsets) / (env.size / fps))
