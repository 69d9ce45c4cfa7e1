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
# STFT frames per step (~12 s of audio): the unit of progress and of a cancel's delay.
BLOCK = 1024


def _stft(x: np.ndarray):
    from scipy.signal import stft  # noqa: PLC0415

    _f, _t, spec = stft(x, fs=SAMPLERATE, window="hann", nperseg=NFFT, noverlap=NFFT - HOP, boundary="even",
                        padded=True)
    return spec  # (freqs, frames) for one channel


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    from scipy.signal import istft  # noqa: PLC0415

    _t, x = istft(spec, fs=SAMPLERATE, window="hann", nperseg=NFFT, noverlap=NFFT - HOP, boundary=True)
    x = x[..., :length]
    if x.shape[-1] < length:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])
    return x.astype(np.float32)


def _blocks(frames: int) -> list[tuple[int, int]]:
    return [(a, min(frames, a + BLOCK)) for a in range(0, frames, BLOCK)]


def _median_along_time(mag: np.ndarray, kernel: int, step: Callable[[], None]) -> np.ndarray:
    """median_filter(mag, (1, kernel), mode="reflect") in blocks of frames, equal to one call.

    Each block reads kernel // 2 frames past its ends, so a window is cut only at the track's
    own ends, where a single call reflects the same way."""
    from scipy.ndimage import median_filter  # noqa: PLC0415

    out = np.empty_like(mag)
    halo = kernel // 2
    frames = mag.shape[1]
    for a, b in _blocks(frames):
        lo, hi = max(0, a - halo), min(frames, b + halo)
        out[:, a:b] = median_filter(mag[:, lo:hi], size=(1, kernel), mode="reflect")[:, a - lo:b - lo]
        step()
    return out


def separate(wav: np.ndarray, progress: Callable[[float, str], None] | None = None,
             kernel: int = 17) -> tuple[dict[str, np.ndarray], list[str]]:
    """wav (channels, samples) float32 at 44.1 kHz -> ({stem: (channels, samples)}, warnings).

    The work goes in steps of at most one channel or one block of frames, each followed by a
    progress report: a 10-minute mix reports every second or two, and a cancel (checked in the
    report) lands as soon, instead of after a minute of one median filter."""
    from scipy.ndimage import median_filter  # noqa: PLC0415

    report = progress or (lambda _p, _m: None)
    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim == 1:
        wav = wav[None]
    length = wav.shape[-1]
    channels = wav.shape[0]
    warnings: list[str] = []
    mono = channels == 1 or float(np.max(np.abs(wav[0] - wav[1]))) < 1e-6
    if mono:
        warnings.append("mono input: the dsp 'vocals' stem is only the harmonic mid band (weak)")

    # Steps: one STFT per channel, two passes over the blocks of frames, one inverse STFT per stem
    # and channel. The frame count is known before the STFT (scipy pads to whole hops).
    blocks = _blocks(1 + -(-length // HOP))
    total = channels + 2 * len(blocks) + 3 * channels
    done = [0]

    def step(message: str) -> None:
        done[0] += 1
        report(min(done[0] / total, 0.99), message)

    report(0.0, "stft")
    spectra = []
    for c in range(channels):
        spectra.append(_stft(wav[c]))
        step("stft")
    spec = np.stack(spectra)  # (channels, freqs, frames)
    del spectra
    if spec.shape[-1] != blocks[-1][1]:
        blocks = _blocks(spec.shape[-1])
    mag = np.abs(spec).mean(axis=0)  # masks from the channel average: one pair of median filters
    harm = _median_along_time(mag, kernel, lambda: step("harmonic/percussive split"))

    freqs = np.linspace(0, SAMPLERATE / 2, spec.shape[1])[:, None]
    low = 1.0 / (1.0 + (freqs / 150.0) ** 8)  # smooth low-pass at ~150 Hz
    band = (1.0 - low) / (1.0 + (freqs / 7000.0) ** 4)  # vocal band ~150 Hz - 7 kHz
    eps = 1e-10
    masks = {name: np.empty(mag.shape, dtype=np.float32) for name in ("drums", "bass", "vocals")}
    for a, b in blocks:
        # The median across frequencies is per frame: a block of frames needs nothing past its ends.
        perc = median_filter(mag[:, a:b], size=(kernel, 1), mode="reflect")
        p_mask = perc**2 / (harm[:, a:b] ** 2 + perc**2 + eps)
        h_mask = 1.0 - p_mask
        if mono:
            centre = 1.0
        else:
            left, right = spec[0, :, a:b], spec[1, :, a:b]
            cross = np.abs(left * np.conj(right))
            centre = (2 * cross / (np.abs(left) ** 2 + np.abs(right) ** 2 + eps)) ** 4
        masks["drums"][:, a:b] = p_mask
        masks["bass"][:, a:b] = h_mask * low
        masks["vocals"][:, a:b] = h_mask * band * centre
        step("masks")
    del mag, harm

    stems: dict[str, np.ndarray] = {}
    for name, mask in masks.items():
        stem = np.empty_like(wav)
        for c in range(channels):
            stem[c] = _istft(spec[c] * mask, length)
            step(f"resynthesis ({name})")
        stems[name] = stem
    other = wav - stems["drums"] - stems["bass"] - stems["vocals"]
    report(1.0, "done")
    return {"drums": stems["drums"], "bass": stems["bass"], "other": other.astype(np.float32),
            "vocals": stems["vocals"]}, warnings
