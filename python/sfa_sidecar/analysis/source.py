"""Bounded, streaming decode through the bundled ffmpeg, and waveform peaks.

ffmpeg's stdout is read in chunks into a buffer sized for the requested window, so memory is
bounded by the window (not by the file) and a cancel is noticed between chunks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import numpy as np

from .. import audio
from ..errors import DecodeError, FileMissingError, NotAudioError

CHUNK_BYTES = 1 << 20


def _check_file(path: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileMissingError(f"file not found: {path}")
    if p.stat().st_size == 0:
        raise NotAudioError(f"{p.name} is empty (0 bytes)")
    return p


def _ffmpeg(p: Path, sr: int, channels: int, start: float, seconds: float | None) -> subprocess.Popen:
    args = [audio.ffmpeg_exe(), "-nostdin", "-v", "error"]
    if start > 0:
        args += ["-ss", f"{start:.3f}"]
    args += ["-i", str(p)]
    if seconds is not None:
        args += ["-t", f"{seconds:.3f}"]
    args += ["-vn", "-map", "0:a:0", "-f", "f32le", "-ac", str(channels), "-ar", str(sr), "-"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _widen_pipe(proc.stdout)
    return proc


def _widen_pipe(pipe) -> None:
    """Let ffmpeg run up to a megabyte ahead of us (Linux; the default pipe holds 64 KB), so it
    keeps decoding while we compute on the block before."""
    try:
        import fcntl
    except ImportError:  # Windows
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only (Python >= 3.10)
    if set_size is not None:
        try:
            fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)
        except OSError:  # above /proc/sys/fs/pipe-max-size: the default size works, a little slower
            pass


PIPE_BYTES = 1 << 20


def _finish(proc: subprocess.Popen, p: Path, got_any: bool) -> None:
    stderr = proc.stderr.read().decode("utf-8", "replace")
    rc = proc.wait()
    if not got_any:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        detail = lines[-1] if lines else f"ffmpeg exit {rc}"
        if rc != 0:
            raise NotAudioError(f"{p.name} could not be decoded as audio ({detail})")
        raise DecodeError(f"{p.name} holds no audio samples")


def _stream(path: str, sr: int, channels: int, start: float, seconds: float | None,
            on_chunk: Callable[[np.ndarray], None], check: Callable[[], None] | None) -> None:
    p = _check_file(path)
    proc = _ffmpeg(p, sr, channels, start, seconds)
    frame_bytes = 4 * channels
    got_any = False
    leftover = b""
    try:
        while True:
            data = proc.stdout.read(CHUNK_BYTES)
            if not data:
                break
            data = leftover + data
            usable = len(data) - len(data) % frame_bytes
            leftover = data[usable:]
            if usable:
                got_any = True
                on_chunk(np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels))
            if check is not None:
                check()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    _finish(proc, p, got_any)


class EarlyDecode:
    """An ffmpeg decode started before the file's probe is back, so that the two overlap: taken
    by ``decode_interleaved`` when the probe asks for the same decode (most files: stereo,
    shorter than the window), else ended unread (``discard``)."""

    def __init__(self, path: str, sr: int, channels: int, start: float, seconds: float):
        self.key = (sr, channels, f"{start:.3f}", f"{seconds:.3f}")
        self.proc: subprocess.Popen | None = _ffmpeg(Path(path), sr, channels, start, seconds)

    @classmethod
    def start(cls, path: str, sr: int, channels: int, start: float, seconds: float) -> "EarlyDecode | None":
        p = Path(path)
        if not p.is_file() or p.stat().st_size == 0:
            return None  # the probe gives the error
        return cls(path, sr, channels, start, seconds)

    def take(self, sr: int, channels: int, start: float, seconds: float) -> subprocess.Popen | None:
        proc, self.proc = self.proc, None
        if proc is not None and self.key != (sr, channels, f"{start:.3f}", f"{seconds:.3f}"):
            _end(proc)
            return None
        return proc

    def discard(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            _end(proc)


def _end(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def decode_interleaved(path: str, sr: int, channels: int, start: float, seconds: float,
                       on_block: Callable[[np.ndarray], None] | None, check: Callable[[], None] | None,
                       early: EarlyDecode | None = None) -> np.ndarray:
    """The window decoded straight into one preallocated interleaved (samples, channels) buffer
    (no per-chunk copies, no final concatenation); ``on_block`` sees each newly filled part."""
    p = _check_file(path)
    proc = early.take(sr, channels, start, seconds) if early is not None else None
    capacity = int(seconds * sr) + sr
    buf = np.empty((capacity, channels), "<f4")
    raw = memoryview(buf).cast("B")
    filled = 0  # bytes
    done = 0  # whole frames handed to on_block
    frame_bytes = 4 * channels
    if proc is None:
        proc = _ffmpeg(p, sr, channels, start, seconds)
    try:
        while filled < len(raw):
            n = proc.stdout.readinto(raw[filled : filled + CHUNK_BYTES])
            if not n:
                break
            filled += n
            frames = filled // frame_bytes
            if on_block is not None and frames > done:
                on_block(buf[done:frames])
                done = frames
            if check is not None:
                check()
        if filled == len(raw):
            proc.kill()  # ffmpeg's -t can overshoot by a packet: the window is full
    except BaseException:
        _end(proc)
        raise
    _finish(proc, p, filled >= frame_bytes)
    return buf[: filled // frame_bytes]


def decode_window(path: str, sr: int, channels: int, start: float = 0.0, seconds: float | None = None,
                  check: Callable[[], None] | None = None,
                  on_block: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """float32 (channels, samples) for [start, start + seconds) of the first audio stream.
    ``on_block(samples x channels)``, given a window, is called with each newly decoded part in
    order while ffmpeg goes on decoding (work that streams overlaps the decode)."""
    if seconds is not None:
        return np.ascontiguousarray(decode_interleaved(path, sr, channels, start, seconds, on_block, check).T)
    parts: list[np.ndarray] = []

    def keep(block: np.ndarray) -> None:
        if on_block is not None:
            on_block(block)
        parts.append(block.copy())

    _stream(path, sr, channels, start, seconds, keep, check)
    out = np.concatenate(parts, axis=0) if parts else np.zeros((0, channels), np.float32)
    return np.ascontiguousarray(out.T)


def waveform_peaks(path: str, points: int, channels: int, sr: int = 11025,
                   expected_seconds: float | None = None,
                   check: Callable[[], None] | None = None) -> tuple[np.ndarray, float]:
    """(channels, points, 2) [min, max] pairs and the decoded duration, in one streaming pass."""
    expected = (expected_seconds or 600.0) * sr
    block = max(1, int(expected // (points * 8)))
    mins: list[np.ndarray] = []
    maxs: list[np.ndarray] = []
    tail = [np.zeros((0, channels), np.float32)]
    count = [0]

    def reduce(chunk: np.ndarray) -> None:
        data = np.concatenate([tail[0], chunk], axis=0) if tail[0].size else chunk
        count[0] += chunk.shape[0]
        whole = data.shape[0] - data.shape[0] % block
        tail[0] = data[whole:].copy()
        if whole:
            shaped = data[:whole].reshape(whole // block, block, channels)
            mins.append(shaped.min(axis=1))
            maxs.append(shaped.max(axis=1))

    _stream(path, sr, channels, 0.0, None, reduce, check)
    if tail[0].shape[0]:
        mins.append(tail[0].min(axis=0, keepdims=True))
        maxs.append(tail[0].max(axis=0, keepdims=True))
    lo = np.concatenate(mins, axis=0)  # (blocks, channels)
    hi = np.concatenate(maxs, axis=0)
    n = lo.shape[0]
    points = max(1, min(points, n))
    edges = np.linspace(0, n, points + 1).astype(int)[:-1]
    out = np.stack([np.minimum.reduceat(lo, edges, axis=0), np.maximum.reduceat(hi, edges, axis=0)], axis=-1)
    return np.transpose(out, (1, 0, 2)), count[0] / sr
