"""Decoding and probing any input through the ffmpeg that ships with imageio-ffmpeg.

No ffprobe is needed: probing reads ffmpeg's own stream report, decoding asks ffmpeg for
float32 PCM on a pipe (PCM files that need no conversion are read by libsndfile instead).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DecodeError, FileMissingError, NotAudioError, SidecarError

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([^,\s]+)[^,]*, (\d+) Hz, ([^,]+)")
_CHANNEL_NAMES = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def ffmpeg_exe() -> str:
    # The engine passes the user's choice (SFA_FFMPEG, or the ffmpeg path setting) in SFA_FFMPEG.
    override = os.environ.get("SFA_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class ProbeResult:
    duration: float | None
    sample_rate: int
    channels: int
    codec: str
    tags: dict[str, str]

    def to_json(self) -> dict:
        return {
            "duration": self.duration,
            "sampleRate": self.sample_rate,
            "channels": self.channels,
            "codec": self.codec,
            "tags": self.tags,
        }


def _existing_file(path: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileMissingError(f"file not found: {path}")
    return p


def probe(path: str) -> ProbeResult:
    p = _existing_file(path)
    if p.stat().st_size == 0:
        raise NotAudioError(f"{p.name} is empty (0 bytes)")
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(p)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
    )
    return _from_report(p, proc.stderr)


def _from_report(p: Path, report: str) -> ProbeResult:
    """One input's probe result from ffmpeg's report of it (the whole report, or its section)."""
    stream = _AUDIO_STREAM.search(report)
    if stream is None:
        reason = _last_line(report) or "no audio stream"
        raise NotAudioError(f"{p.name} is not an audio file ffmpeg can read ({reason})")
    codec, rate, layout = stream.group(1), int(stream.group(2)), stream.group(3).strip()
    duration_match = _DURATION.search(report)
    duration = None
    if duration_match:
        h, m, s = duration_match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    duration = _pcm_duration_check(p, codec, rate, _channels(layout), duration)
    return ProbeResult(
        duration=duration, sample_rate=rate, channels=_channels(layout), codec=codec, tags=_container_tags(report)
    )


PROBE_BATCH_MAX = 64
_INPUT_HEADER = re.compile(r"^Input #(\d+), ", re.MULTILINE)


def probe_many(paths: list[str]) -> list[ProbeResult | SidecarError]:
    """Probe many files with one ffmpeg run per batch (`ffmpeg -i a -i b ...` reports every input
    it opens, in order): starting ffmpeg costs more than reading a small file's header, so an
    import of thousands of files spends most of its time there. ffmpeg stops at the first input
    it cannot open; that one is probed on its own (for its own error, exactly as `probe` gives
    it) and the batch goes on after it. Names with line breaks, which could forge a report
    section, are probed on their own too."""
    results: list[ProbeResult | SidecarError | None] = [None] * len(paths)
    batch: list[tuple[int, Path]] = []
    for i, path in enumerate(paths):
        if "\n" in path or "\r" in path or not os.path.isfile(path) or os.path.getsize(path) == 0:
            results[i] = _probe_or_error(path)
        else:
            batch.append((i, Path(path)))
    while batch:
        done = _probe_together(batch, results)
        if done < len(batch):
            i, p = batch[done]
            results[i] = _probe_or_error(str(p))
            done += 1
        batch = batch[done:]
    return [r if r is not None else SidecarError("not probed", "INTERNAL") for r in results]


def _probe_together(batch: list[tuple[int, Path]], results: list) -> int:
    """Probe the batch in one ffmpeg run; returns how many inputs (from the first) it reported."""
    args = [ffmpeg_exe(), "-nostdin", "-hide_banner"]
    for _, p in batch:
        args += ["-i", str(p)]
    try:
        proc = subprocess.run(
            args, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=60
        )
    except subprocess.TimeoutExpired:
        return 0
    headers = list(_INPUT_HEADER.finditer(proc.stderr))
    if [int(m.group(1)) for m in headers] != list(range(len(headers))):
        return 0  # not the report we expect: every file on its own
    # A file ffmpeg opened but the next one failed: its section ends at the error, which is fine.
    reported = len(headers)
    for k, m in enumerate(headers):
        end = headers[k + 1].start() if k + 1 < reported else len(proc.stderr)
        i, p = batch[k]
        try:
            results[i] = _from_report(p, proc.stderr[m.start() : end])
        except SidecarError:
            results[i] = _probe_or_error(str(p))  # its reason worded exactly as a lone probe words it
    return reported


def _probe_or_error(path: str) -> ProbeResult | SidecarError:
    try:
        return probe(path)
    except SidecarError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - as the server types a failed request, per file here
        return SidecarError(f"{type(exc).__name__}: {exc}", "INTERNAL")


_PCM_BITS = re.compile(r"^pcm_[suf](8|16|24|32|64)")


def _pcm_duration_check(p: Path, codec: str, rate: int, channels: int, duration: float | None) -> float | None:
    """Uncompressed audio's duration is only what its header claims: a WAV cut short, or one whose
    header lies (hours of audio in a few bytes), is caught by the file size. Too few bytes for one
    frame is not audio; fewer than claimed shortens the duration to what the file holds."""
    m = _PCM_BITS.match(codec)
    if m is None or rate <= 0 or channels <= 0:
        return duration
    bytes_per_second = rate * channels * int(m.group(1)) / 8
    held = max(0, p.stat().st_size - 44) / bytes_per_second
    if held * rate < 1:
        raise NotAudioError(f"{p.name} holds no audio data (only a header)")
    return held if duration is None else min(duration, held)


_TAG = re.compile(r"^\s{4}(title|artist|album|album_artist|date|genre|bpm|TBPM|initialkey|TKEY)\s*:\s?(.*)$", re.IGNORECASE)


def _container_tags(report: str) -> dict[str, str]:
    """Tags of the container (the lines before the first stream), as ffmpeg prints them."""
    head = report.split("Stream #", 1)[0]
    tags: dict[str, str] = {}
    for line in head.splitlines():
        m = _TAG.match(line)
        if m and m.group(1).lower() not in tags:
            tags[m.group(1).lower()] = m.group(2).strip()[:500]
    return tags


def _channels(layout: str) -> int:
    layout = layout.split("(")[0].strip()
    if layout in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[layout]
    m = re.match(r"(\d+) channels", layout)
    return int(m.group(1)) if m else 2


def _last_line(report: str) -> str:
    lines = [line.strip() for line in report.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


# Files libsndfile reads to the same float32 samples as ffmpeg's f32le output (integer PCM scaled by
# 2**-15 / 2**-23, float as stored), bit for bit: tests/test_audio_native.py checks each pair.
_NATIVE_FORMATS = {"WAV", "WAVEX", "FLAC", "AIFF"}
_NATIVE_SUBTYPES = {"PCM_16", "PCM_24", "FLOAT"}


def _decode_native(p: Path, sample_rate: int, channels: int) -> np.ndarray | None:
    """PCM files already at the wanted rate and channel count, read in-process by libsndfile: no
    ffmpeg process and no pipe (a 30 s WAV in ~10 ms instead of ~70). None where ffmpeg must convert,
    or where libsndfile cannot read the file (ffmpeg then decodes it or names the error)."""
    import soundfile  # noqa: PLC0415 - only the separation sidecar decodes whole files

    try:
        with soundfile.SoundFile(str(p)) as sound:  # one open for the header and the samples
            if (sound.format not in _NATIVE_FORMATS or sound.subtype not in _NATIVE_SUBTYPES
                    or sound.samplerate != sample_rate or sound.channels != channels or sound.frames <= 0):
                return None
            frames = sound.read(dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError):  # soundfile.LibsndfileError is a RuntimeError
        return None
    return np.ascontiguousarray(frames.T) if frames.size else None


def decode(path: str, sample_rate: int = 44100, channels: int = 2, max_seconds: float | None = None) -> np.ndarray:
    """Decode to float32 PCM shaped (channels, samples). Raises NotAudioError/DecodeError."""
    p = _existing_file(path)
    if p.stat().st_size == 0:
        raise NotAudioError(f"{p.name} is empty (0 bytes)")
    if max_seconds is None:
        native = _decode_native(p, sample_rate, channels)
        if native is not None:
            return native
    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(p)]
    if max_seconds is not None:
        args += ["-t", str(max_seconds)]
    args += ["-vn", "-f", "f32le", "-ac", str(channels), "-ar", str(sample_rate), "-"]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True)
    pcm = np.frombuffer(proc.stdout, dtype="<f4")
    if proc.returncode != 0 and pcm.size == 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"ffmpeg exit {proc.returncode}"
        raise NotAudioError(f"{p.name} could not be decoded as audio ({detail})")
    usable = pcm.size - pcm.size % channels
    if usable == 0:
        raise DecodeError(f"{p.name} holds no audio samples")
    return pcm[:usable].reshape(-1, channels).T.copy()
