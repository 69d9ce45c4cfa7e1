"""A separator that needs no download: classic DSP masks on the STFT, offered as model ``dsp``.

Honestly lower quality than any Demucs model; it exists so the app can separate something
offline before the weights are installed.

- drums: the percussive part of a harmonic/percussive split (median filtering, soft masks);
- bass: the harmonic part below ~150 Hz (smooth low-pass mask);
- vocals: the harmonic part panned to the centre (inter-channel similarity mask, Avendano
  style) weighted by a vocal band (~150 Hz-7 kHz). On mono input every bin looks centred, so the
  "vocals" are just the harmonic mid band: the result says so;
- other: the mix minus the three above (in the time domain, so the stems sum to the mix).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

SOURCES = ["drums", "bass", "other", "vocals"]
SAMPLERATE = 44100
CHANNELS = 2
NFFT = 2048
HOP = 512


def _stft(x: np.ndarray):
    from scipy.signal import stft  # noqa: PLC0415

    _f, _t, spec = stft(x, fs=SAMPLERATE, window="hann", nperseg=NFFT, noverlap=NFFT - HOP, boundary="even",
                        padded=True)
    return spec  # (channels, freqs, frames)


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    from scipy.signal import istft  # noqa: PLC0415

    _t, x = istft(spec, fs=SAMPLERATE, window="hann", nperseg=NFFT, noverlap=NFFT - HOP, boundary=True)
    x = x[..., :length]
    if x.shape[-1] < length:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])
    return x.astype(np.float32)


def separate(wav: np.ndarray, progress: Callable[[float, str], None] | None = None,
             kernel: int = 17) -> tuple[dict[str, np.ndarray], list[str]]:
    """wav (channels, samples) float32 at 44.1 kHz -> ({stem: (channels, samples)}, warnings)."""
    from scipy.ndimage import median_filter  # noqa: PLC0415

    report = progress or (lambda _p, _m: None)
    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim == 1:
        wav = wav[None]
    length = wav.shape[-1]
    warnings: list[str] = []
    mono = wav.shape[0] == 1 or float(np.max(np.abs(wav[0] - wav[1]))) < 1e-6
    if mono:
        warnings.append("mono input: the dsp 'vocals' stem is only the harmonic mid band (weak)")

    report(0.05, "stft")
    spec = _stft(wav)  # (C, F, T)
    mag = np.abs(spec).mean(axis=0)  # masks from the channel average: one pair of median filters
    report(0.2, "harmonic/percussive split")
    harm = median_filter(mag, size=(1, kernel), mode="reflect")
    report(0.45, "harmonic/percussive split")
    perc = median_filter(mag, size=(kernel, 1), mode="reflect")
    report(0.7, "masks")
    eps = 1e-10
    p_mask = perc**2 / (harm**2 + perc**2 + eps)
    h_mask = 1.0 - p_mask

    freqs = np.linspace(0, SAMPLERATE / 2, spec.shape[1])[:, None]
    low = 1.0 / (1.0 + (freqs / 150.0) ** 8)  # smooth low-pass at ~150 Hz
    band = (1.0 - low) / (1.0 + (freqs / 7000.0) ** 4)  # vocal band ~150 Hz - 7 kHz
    if mono:
        centre = np.ones_like(mag)
    else:
        left, right = spec[0], spec[1]
        cross = np.abs(left * np.conj(right))
        centre = (2 * cross / (np.abs(left) ** 2 + np.abs(right) ** 2 + eps)) ** 4

    drums_mask = p_mask
    bass_mask = h_mask * low
    vocals_mask = h_mask * band * centre
    report(0.8, "resynthesis")
    drums = _istft(spec * drums_mask, length)
    bass = _istft(spec * bass_mask, length)
    vocals = _istft(spec * vocals_mask, length)
    other = wav - drums - bass - vocals
    report(1.0, "done")
    return {"drums": drums, "bass": bass, "other": other.astype(np.float32), "vocals": vocals}, warnings
