"""Whole-file decoding: PCM files already at the wanted rate and channel count are read by libsndfile
in-process, and must give exactly the samples ffmpeg's f32le pipe gives (the Demucs CLI decodes
through ffmpeg, so the exact separation path's parity depends on it); everything else still goes
through ffmpeg."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfa_sidecar import audio  # noqa: E402
from sfa_sidecar.errors import NotAudioError  # noqa: E402

SR = 44100


def signal(channels: int, seconds: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(7)
    frames = rng.uniform(-1.0, 1.0, (int(SR * seconds), channels)).astype(np.float32)
    frames[:4] = [[1.0] * channels, [-1.0] * channels, [0.0] * channels, [0.999] * channels]  # extremes
    return frames


def through_ffmpeg(path: Path, channels: int, monkeypatch) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(audio, "_decode_native", lambda *_args: None)
        return audio.decode(str(path), SR, channels)


@pytest.mark.parametrize(("fmt", "subtype", "ext"), [
    ("WAV", "PCM_16", "wav"), ("WAV", "PCM_24", "wav"), ("WAV", "FLOAT", "wav"), ("WAVEX", "PCM_24", "wav"),
    ("FLAC", "PCM_16", "flac"), ("FLAC", "PCM_24", "flac"), ("AIFF", "PCM_16", "aiff"), ("AIFF", "PCM_24", "aif"),
])
@pytest.mark.parametrize("channels", [1, 2])
def test_native_read_equals_ffmpeg_bit_for_bit(tmp_path, monkeypatch, fmt, subtype, ext, channels):
    path = tmp_path / f"in.{ext}"
    soundfile.write(str(path), signal(channels), SR, format=fmt, subtype=subtype)
    native = audio._decode_native(path, SR, channels)
    assert native is not None, "this file should not need ffmpeg"
    ffmpeg = through_ffmpeg(path, channels, monkeypatch)
    assert native.dtype == ffmpeg.dtype == np.float32 and native.flags.c_contiguous
    assert native.shape == ffmpeg.shape == (channels, int(SR * 0.5))
    np.testing.assert_array_equal(native, ffmpeg)
    np.testing.assert_array_equal(audio.decode(str(path), SR, channels), ffmpeg)


@pytest.mark.parametrize("case", ["other rate", "mono to stereo", "ogg", "8-bit", "window"])
def test_anything_to_convert_goes_through_ffmpeg(tmp_path, monkeypatch, case):
    path = tmp_path / ("in.ogg" if case == "ogg" else "in.wav")
    rate, channels = (22050 if case == "other rate" else SR), (1 if case == "mono to stereo" else 2)
    fmt, subtype = ("OGG", "VORBIS") if case == "ogg" else ("WAV", "PCM_U8" if case == "8-bit" else "PCM_16")
    soundfile.write(str(path), signal(channels), rate, format=fmt, subtype=subtype)
    calls = []
    real = audio._decode_native
    monkeypatch.setattr(audio, "_decode_native", lambda *a: calls.append(r := real(*a)) or r)
    decoded = audio.decode(str(path), SR, 2, max_seconds=0.25 if case == "window" else None)
    assert calls == ([] if case == "window" else [None])
    seconds = 0.25 if case == "window" else int(SR * 0.5) / rate
    assert decoded.shape[0] == 2 and decoded.shape[1] == pytest.approx(SR * seconds, abs=2)


def test_a_damaged_wav_still_gets_ffmpegs_error(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    assert audio._decode_native(path, SR, 2) is None
    with pytest.raises(NotAudioError, match="broken.wav could not be decoded"):
        audio.decode(str(path), SR, 2)
