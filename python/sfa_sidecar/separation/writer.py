"""Writing stems atomically: every stem goes to ``.<stem>.<ext>.part`` first; only when all
parts are complete are they renamed into place with ``os.replace``. On any error or cancel every
part file is deleted, so a failed job leaves no partial stem behind.

WAV encoding matches demucs' own ``encode_wav`` bit for bit (clamp, scale by 2**15-1 or 2**23-1,
truncate), so that our files equal the CLI's. FLAC and MP3 go through the bundled ffmpeg, with
PCM piped in.
"""

from __future__ import annotations

import errno
import os
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import BadRequestError, SidecarError
from ..audio import ffmpeg_exe

FORMATS = ("wav", "flac", "mp3")
CLIP_MODES = ("rescale", "clamp", "none")


class WriteError(SidecarError):
    code = "WRITE_FAILED"


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def write_error(what: str, exc: OSError) -> WriteError:
    """An OSError while writing stems as a typed error: DISK_FULL and PERMISSION_DENIED name the
    folder and what to do; anything else stays WRITE_FAILED."""
    if exc.errno in _DISK_FULL:
        return WriteError(f"{what}: the disk is full ({exc.strerror}). Free some space, then retry the job.", "DISK_FULL")
    if exc.errno in _DENIED:
        return WriteError(
            f"{what}: permission denied ({exc.strerror}). Make the folder writable, then retry the job.", "PERMISSION_DENIED"
        )
    return WriteError(f"{what}: {exc}")


# Frames encoded at a time: the float32 -> PCM conversion's temporaries stay ~1 MB per stem
# whatever the track's length (whole-stem conversion held ~3x a stem's size per stem).
BLOCK = 1 << 16


def clip_function(wav: np.ndarray, mode: str = "rescale") -> Callable[[np.ndarray], np.ndarray]:
    """demucs.audio.prevent_clip, applied block by block: rescale's divisor comes from the whole
    stem's peak, so every block gets the arithmetic demucs applies to the whole stem."""
    if mode == "none":
        return lambda block: block
    if mode == "rescale":
        # max |x| as max(max x, -min x): the same value without np.abs's temporary copy of the
        # stem, which four writer threads made at once (~340 MB for four minutes: the job's peak).
        peak = float(np.maximum(wav.max(), -wav.min())) if wav.size else 0.0
        if peak * 1.01 <= 1:
            return lambda block: block
        divisor = np.float32(max(1.01 * peak, 1.0))
        return lambda block: block / divisor
    if mode == "clamp":
        return lambda block: np.clip(block, -0.99, 0.99)
    raise BadRequestError(f"clip must be one of {', '.join(CLIP_MODES)}")


def _pcm(block: np.ndarray, kind: str) -> np.ndarray:
    """Interleaved little-endian samples of one block, C-contiguous (written as it is): demucs'
    encode_wav arithmetic (clamp, scale by 2**15-1 or 2**23-1, truncate). ``s24in32`` is 24 bits in
    the top of an int32 (ffmpeg's s32le); ``s24`` the packed 3 bytes of a WAV file."""
    scaled = np.clip(block, -1, 1)
    if kind == "f32":
        return np.ascontiguousarray(scaled.T, dtype="<f4")
    scaled *= 2**15 - 1 if kind == "s16" else 2**23 - 1
    frames = np.empty(scaled.T.shape, dtype="<i2" if kind == "s16" else "<i4")
    frames[...] = scaled.T  # float -> int truncates, as astype does
    if kind == "s16":
        return frames
    frames <<= 8
    return frames if kind == "s24in32" else frames.view(np.uint8).reshape(-1, 4)[:, 1:].copy()


def _blocks(wav: np.ndarray, kind: str, clip: Callable[[np.ndarray], np.ndarray] | None,
            check: Callable[[], None] | None) -> Iterator[np.ndarray]:
    for start in range(0, wav.shape[-1], BLOCK):
        if check is not None:
            check()
        block = wav[:, start:start + BLOCK]
        yield _pcm(clip(block) if clip is not None else block, kind)


def encode_wav(wav: np.ndarray, handle, samplerate: int, depth: Any,
               clip: Callable[[np.ndarray], np.ndarray] | None = None, check: Callable[[], None] | None = None) -> None:
    channels, length = wav.shape
    audio_format, bits, kind = (3, 32, "f32") if depth == "float" else (1, int(depth), "s16" if depth == 16 else "s24")
    fmt = struct.pack("<HHIIHH", audio_format, channels, samplerate,
                      samplerate * channels * bits // 8, channels * bits // 8, bits)
    chunks = [(b"fmt ", fmt)]
    if audio_format == 3:
        chunks.append((b"fact", struct.pack("<I", length)))
    data_size = length * channels * bits // 8
    riff_size = 4 + sum(8 + len(content) for _, content in chunks) + 8 + data_size
    handle.write(b"RIFF" + struct.pack("<I", riff_size) + b"WAVE")
    for name, content in chunks:
        handle.write(name + struct.pack("<I", len(content)))
        handle.write(content)
    handle.write(b"data" + struct.pack("<I", data_size))
    for data in _blocks(wav, kind, clip, check):
        handle.write(data)


def encode_ffmpeg(wav: np.ndarray, path: Path, samplerate: int, fmt: str, depth: Any, bitrate: int,
                  check: Callable[[], None] | None = None, clip: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
    channels = wav.shape[0]
    if fmt == "flac" and depth in (24, "float"):
        kind, in_fmt, codec = "s24in32", "s32le", ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]
    elif fmt == "flac":
        kind, in_fmt, codec = "s16", "s16le", ["-c:a", "flac"]
    else:
        kind, in_fmt, codec = "s16", "s16le", ["-c:a", "libmp3lame", "-b:a", f"{int(bitrate)}k"]
    cmd = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-f", in_fmt, "-ar", str(samplerate),
           "-ac", str(channels), "-i", "pipe:0", *codec, "-f", fmt, str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for data in _blocks(wav, kind, clip, check):
            proc.stdin.write(data)
        proc.stdin.close()
        err = proc.stderr.read()
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        text = err.decode("utf-8", "replace").strip()[-300:]
        if "No space left on device" in text:
            raise write_error(f"cannot write {path}", OSError(errno.ENOSPC, "No space left on device"))
        if "Permission denied" in text or "Read-only file system" in text:
            raise write_error(f"cannot write {path}", OSError(errno.EACCES, "Permission denied"))
        raise WriteError(f"ffmpeg could not encode {fmt}: {text}")


class StemWriter:
    """Collects stems as part files, then commits them all; ``abort`` removes every part."""

    @staticmethod
    def validate(fmt: str = "wav", depth: Any = 16, bitrate: int = 320, clip: str = "rescale") -> None:
        if fmt not in FORMATS:
            raise BadRequestError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if depth not in (16, 24, "float"):
            raise BadRequestError(f"wavDepth must be 16, 24 or 'float', not {depth!r}")
        if clip not in CLIP_MODES:
            raise BadRequestError(f"clip must be one of {', '.join(CLIP_MODES)}, not {clip!r}")

    def __init__(self, out_dir: str | Path, fmt: str = "wav", depth: Any = 16, bitrate: int = 320,
                 samplerate: int = 44100, clip: str = "rescale"):
        self.validate(fmt, depth, bitrate, clip)
        self.out_dir = Path(out_dir)
        self.fmt, self.depth, self.bitrate, self.samplerate, self.clip = fmt, depth, int(bitrate), samplerate, clip
        self.parts: list[tuple[Path, Path, str, int]] = []  # (part, final, stem, samples)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(f"cannot create the output folder {out_dir}", exc) from None

    def add(self, stem: str, wav: np.ndarray, check: Callable[[], None] | None = None) -> None:
        self.add_all({stem: wav}, check)

    def add_all(self, stems: dict[str, np.ndarray], check: Callable[[], None] | None = None) -> None:
        """Encode and write every stem at once, one thread each: numpy's conversions release the
        GIL, so the stems' encoding (or ffmpeg processes) and fsyncs overlap instead of queueing."""
        jobs = []
        for stem, wav in stems.items():
            final = self.out_dir / f"{stem}.{self.fmt}"
            part = self.out_dir / f".{stem}.{self.fmt}.part"
            self.parts.append((part, final, stem, int(wav.shape[-1])))
            jobs.append((part, np.asarray(wav, dtype=np.float32)))
        if len(jobs) == 1:
            self._write(*jobs[0], check)
            return
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="stem-writer") as pool:
            futures = [pool.submit(self._write, part, wav, check) for part, wav in jobs]
        for future in futures:  # all have finished: the first stem's error, in stem order
            future.result()

    def _write(self, part: Path, wav: np.ndarray, check: Callable[[], None] | None) -> None:
        clip = clip_function(wav, self.clip)
        try:
            if self.fmt == "wav":
                with open(part, "wb") as handle:
                    encode_wav(wav, handle, self.samplerate, self.depth, clip, check)
                    handle.flush()
                    os.fsync(handle.fileno())
            else:
                encode_ffmpeg(wav, part, self.samplerate, self.fmt, self.depth, self.bitrate, check, clip)
        except OSError as exc:
            raise write_error(f"cannot write {part}", exc) from None

    def commit(self) -> dict[str, dict[str, Any]]:
        stems: dict[str, dict[str, Any]] = {}
        for part, final, stem, samples in self.parts:
            os.replace(part, final)
            stems[stem] = {"path": str(final), "size": final.stat().st_size,
                           "duration": samples / self.samplerate, "format": self.fmt}
        self.parts = []
        return stems

    def abort(self) -> None:
        for part, _final, _stem, _samples in self.parts:
            try:
                part.unlink()
            except FileNotFoundError:
                pass
        self.parts = []
