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
from pathlib import Path
from typing import Any, Callable

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


def prevent_clip(wav: np.ndarray, mode: str = "rescale") -> np.ndarray:
    """demucs.audio.prevent_clip on numpy."""
    if mode == "none":
        return wav
    if mode == "rescale":
        peak = float(np.abs(wav).max()) if wav.size else 0.0
        return wav / np.float32(max(1.01 * peak, 1.0)) if peak * 1.01 > 1 else wav
    if mode == "clamp":
        return np.clip(wav, -0.99, 0.99)
    raise BadRequestError(f"clip must be one of {', '.join(CLIP_MODES)}")


def _pcm(wav: np.ndarray, bits: int) -> bytes:
    frames = np.clip(wav, -1, 1).T
    if bits == 16:
        return (frames * (2**15 - 1)).astype("<i2").tobytes()
    if bits == 24:
        ints = (frames * (2**23 - 1)).astype("<i4") << 8
        return ints.tobytes()  # 24 bits in the top of an int32 (stripped for wav, s32le for ffmpeg)
    raise ValueError(bits)


def encode_wav(wav: np.ndarray, handle, samplerate: int, depth: Any) -> None:
    channels, length = wav.shape
    if depth == "float":
        audio_format, bits = 3, 32
        data = np.clip(wav, -1, 1).T.astype("<f4").tobytes()
    else:
        audio_format, bits = 1, int(depth)
        data = _pcm(wav, bits)
        if bits == 24:
            data = np.frombuffer(data, dtype=np.uint8).reshape(-1, 4)[:, 1:].tobytes()
    fmt = struct.pack("<HHIIHH", audio_format, channels, samplerate,
                      samplerate * channels * bits // 8, channels * bits // 8, bits)
    chunks = [(b"fmt ", fmt)]
    if audio_format == 3:
        chunks.append((b"fact", struct.pack("<I", length)))
    chunks.append((b"data", data))
    riff_size = 4 + sum(8 + len(content) for _, content in chunks)
    handle.write(b"RIFF" + struct.pack("<I", riff_size) + b"WAVE")
    for name, content in chunks:
        handle.write(name + struct.pack("<I", len(content)))
        handle.write(content)


def encode_ffmpeg(wav: np.ndarray, path: Path, samplerate: int, fmt: str, depth: Any, bitrate: int,
                  check: Callable[[], None] | None = None) -> None:
    channels = wav.shape[0]
    if fmt == "flac" and depth in (24, "float"):
        data, in_fmt, codec = _pcm(wav, 24), "s32le", ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]
    elif fmt == "flac":
        data, in_fmt, codec = _pcm(wav, 16), "s16le", ["-c:a", "flac"]
    else:
        data, in_fmt, codec = _pcm(wav, 16), "s16le", ["-c:a", "libmp3lame", "-b:a", f"{int(bitrate)}k"]
    cmd = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-f", in_fmt, "-ar", str(samplerate),
           "-ac", str(channels), "-i", "pipe:0", *codec, "-f", fmt, str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        view = memoryview(data)
        step = 1 << 20
        for start in range(0, len(view), step):
            if check is not None:
                check()
            proc.stdin.write(view[start:start + step])
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
        final = self.out_dir / f"{stem}.{self.fmt}"
        part = self.out_dir / f".{stem}.{self.fmt}.part"
        self.parts.append((part, final, stem, int(wav.shape[-1])))
        wav = prevent_clip(np.asarray(wav, dtype=np.float32), self.clip)
        try:
            if self.fmt == "wav":
                with open(part, "wb") as handle:
                    encode_wav(wav, handle, self.samplerate, self.depth)
                    handle.flush()
                    os.fsync(handle.fileno())
            else:
                encode_ffmpeg(wav, part, self.samplerate, self.fmt, self.depth, self.bitrate, check)
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
