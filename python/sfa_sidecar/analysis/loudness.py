"""Integrated loudness (LUFS) per ITU-R BS.1770-4, and sample peak.

K-weighting = a high-shelf (+4 dB above ~1.5 kHz, the head's acoustic effect) followed by a
high-pass (RLB, ~38 Hz). The standard gives biquad coefficients for 48 kHz only; like
libebur128/pyloudnorm we derive them for any rate from the analog prototype (same f0, Q, gain)
through the bilinear transform, which reproduces the 48 kHz table to 1e-6.

Gating: mean square over 400 ms blocks with 75 % overlap; absolute gate -70 LUFS; relative
gate 10 LU under the loudness of the blocks that passed the absolute gate.
Channel weights: 1.0 for L, R, C; 1.41 for surround channels (we only ever pass 1 or 2 channels).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal


def _biquads(sr: float) -> list[tuple[np.ndarray, np.ndarray]]:
    # Stage 1: high shelf. Constants from BS.1770 / libebur128.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sr)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b_shelf = np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0])
    a_shelf = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    # Stage 2: RLB high-pass.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sr)
    a0 = 1 + k / q + k * k
    b_hp = np.array([1.0, -2.0, 1.0])
    a_hp = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [(b_shelf, a_shelf), (b_hp, a_hp)]


class LoudnessMeter:
    """Integrated loudness fed block by block (while the decode goes on): the K-weighting
    filters keep their state across blocks, so any split gives the one-pass result."""

    def __init__(self, sr: int, channels: int):
        self.sr = sr
        self.step = int(round(0.1 * sr))
        self.block = int(round(0.4 * sr))
        self.samples = 0
        # One channel at a time, in float32 second-order sections: memory stays ~2x a block.
        self.sos = np.concatenate([signal.tf2sos(b, a) for b, a in _biquads(sr)]).astype(np.float32)
        self.state = [np.zeros((self.sos.shape[0], 2), np.float32) for _ in range(channels)]
        self.pending = np.zeros((channels, 0), np.float32)  # samples short of a whole 100 ms hop
        self.hops: list[np.ndarray] = []  # (channels, hops) mean squares

    def feed(self, x: np.ndarray) -> None:
        """``x`` shaped (channels, samples), any length."""
        x = np.asarray(x, dtype=np.float32)
        self.samples += x.shape[1]
        if self.pending.shape[1]:
            x = np.concatenate([self.pending, x], axis=1)
        whole = x.shape[1] - x.shape[1] % self.step
        self.pending = x[:, whole:].copy()
        if not whole:
            return
        out = np.empty((x.shape[0], whole // self.step))
        for ch in range(x.shape[0]):
            y, self.state[ch] = signal.sosfilt(self.sos, x[ch, :whole], zi=self.state[ch])
            out[ch] = (y.astype(np.float64) ** 2).reshape(-1, self.step).mean(axis=1)
        self.hops.append(out)

    def integrated(self) -> float | None:
        if self.samples < self.block or not self.hops:
            return None
        hop_ms = np.concatenate(self.hops, axis=1)
        if hop_ms.shape[1] < 4:
            return None
        # Mean square per 100 ms hop, then 400 ms blocks = 4 consecutive hops (exact 75 % overlap).
        kernel = np.ones(4) / 4
        blocks = np.stack([np.convolve(ch, kernel, mode="valid") for ch in hop_ms])  # (channels, n_blocks)
        power = blocks.sum(axis=0)  # channel weights 1.0 (mono / stereo)
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10 * np.log10(power)
        keep = loud > -70.0
        if not keep.any():
            return None
        relative = -0.691 + 10 * math.log10(power[keep].mean()) - 10.0
        keep &= loud > relative
        if not keep.any():
            return None
        return float(-0.691 + 10 * math.log10(power[keep].mean()))


def integrated_lufs(x: np.ndarray, sr: int) -> float | None:
    """Integrated loudness of ``x`` shaped (channels, samples); None when everything is gated out."""
    x = np.atleast_2d(x)
    meter = LoudnessMeter(sr, x.shape[0])
    meter.feed(x)
    return meter.integrated()


def peak_db(x: np.ndarray) -> float:
    return amplitude_db(float(np.max(np.abs(x))) if x.size else 0.0)


def amplitude_db(peak: float) -> float:
    return float(20 * math.log10(peak)) if peak > 0 else -120.0
