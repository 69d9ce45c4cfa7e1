"""The analysis work that can be done while ffmpeg is still decoding.

Fed the decoded (samples, channels) blocks in order, ``MixStream`` keeps the peak, the loudness
meter, the mono downmix (the mean of the channels, as librosa.load makes it), the frames of the
shared STFT and the half-rate signal of the key stage. Every value equals the one-pass
computation on the whole signal bit for bit (the filters keep their state, each STFT frame and
each decimated sample is computed once its samples have all arrived; tested), so streaming
changes when the work is done, not its result: ffmpeg decodes on one core while this runs.
"""

from __future__ import annotations

import numpy as np

from . import features, loudness

HALF = features.N_FFT // 2


class HalfRate:
    """``scipy.signal.resample_poly(x, 1, 2)`` computed block by block: the same filter through
    ``upfirdn``, each output sample from a segment holding its whole support (identical values)."""

    def __init__(self, capacity: int):
        from scipy.signal import firwin

        # resample_poly's design for down = 2: a 41-tap Kaiser (beta 5) low-pass at half band,
        # in the input's precision, shifted by 2 zeros so that output k is centred on input 2k.
        taps = firwin(2 * self.HALF_LEN + 1, 0.5, window=("kaiser", 5.0)).astype(np.float32)
        self.h = np.concatenate([np.zeros(2, np.float32), taps])
        self.out = np.empty((capacity + 1) // 2, np.float32)
        self.done = 0

    HALF_LEN = 20
    SKIP = (HALF_LEN + 2) // 2  # resample_poly's n_pre_remove: upfirdn outputs before output 0
    REACH = 2 * SKIP  # output k reads inputs up to 2k + REACH

    def advance(self, x: np.ndarray, final: bool) -> None:
        """Compute the outputs whose inputs ``x`` (everything so far) already holds."""
        from scipy.signal import upfirdn

        n_out = (x.size + 1) // 2
        last = n_out if final else min(n_out, (x.size - 1 - self.REACH) // 2 + 1)
        if last <= self.done:
            return
        a = max(0, 2 * self.done + self.REACH - (self.h.size - 1))
        a -= a % 2  # an even start keeps the filter's phase
        seg = upfirdn(self.h, x[a:], 1, 2)
        first = self.done + self.SKIP - a // 2
        self.out[self.done : last] = seg[first : first + last - self.done]
        self.done = last

    @property
    def signal(self) -> np.ndarray:
        return self.out[: self.done]


class MixStream:
    def __init__(self, sr: int, channels: int, capacity: int):
        self.sr = sr
        self.channels = channels
        self.meter = loudness.LoudnessMeter(sr, channels)
        self.peak = 0.0
        self.samples = 0
        self.capacity = capacity
        # The mono signal with the STFT's centring pad on both sides (zeros, as librosa pads).
        self._padded = np.zeros(capacity + 2 * HALF, np.float32)
        self._frames = features.stft_frames(self._padded)
        self._mag = np.empty((self._frames.shape[0], HALF + 1), np.float32)
        self._stft_done = 0
        self.half = HalfRate(capacity)
        self.finished = False

    def __call__(self, block: np.ndarray) -> None:
        """Take the next decoded (samples, channels) block."""
        n = block.shape[0]
        if n == 0:
            return
        if self.samples + n > self.capacity:
            raise ValueError("more samples than the stream was sized for")
        self.meter.feed(block.T)
        self.peak = max(self.peak, float(block.max()), -float(block.min()))
        mono = self._padded[HALF + self.samples : HALF + self.samples + n]
        if self.channels == 1:
            mono[:] = block[:, 0]
        else:  # the channels' mean, summed in mean's order (its own pass over the block: 15x slower)
            np.add(block[:, 0], block[:, 1], out=mono)
            for ch in range(2, self.channels):
                mono += block[:, ch]
            mono /= self.channels
        self.samples += n
        # Frames whose last sample has arrived (frame i ends at mono sample i * HOP + HALF).
        ready = max(0, (self.samples - HALF) // features.HOP + 1)
        self._advance_stft(min(ready, self._frames.shape[0]))
        self.half.advance(self.mono, final=False)

    def _advance_stft(self, ready: int) -> None:
        if ready > self._stft_done:
            features.magnitude_into(self._frames, self._mag, self._stft_done, ready)
            self._stft_done = ready

    def finish(self) -> "MixStream":
        """The decode is over: the last frames (zero-padded at the end) and half-rate samples."""
        if not self.finished:
            self.finished = True
            self._advance_stft(1 + self.samples // features.HOP)
            self.half.advance(self.mono, final=True)
        return self

    @property
    def mono(self) -> np.ndarray:
        return self._padded[HALF : HALF + self.samples]

    @property
    def mag(self) -> np.ndarray:
        """(bins, frames) magnitude: ``features.magnitude(self.mono)``."""
        return self._mag[: 1 + self.samples // features.HOP].T

    @property
    def half_rate(self) -> np.ndarray:
        return self.half.signal

    @classmethod
    def of(cls, sr: int, stereo: np.ndarray) -> "MixStream":
        """A stream fed a whole decoded (channels, samples) signal at once."""
        stream = cls(sr, stereo.shape[0], stereo.shape[1])
        stream(stereo.T)
        return stream.finish()
