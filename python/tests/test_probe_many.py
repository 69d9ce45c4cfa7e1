"""`probe_many` (one ffmpeg run for a batch of files) gives each file exactly what `probe` gives it
alone: the same result for audio, the same typed error for the rest, in the same order."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from sfa_sidecar import audio, ops
from sfa_sidecar.errors import BadRequestError, SidecarError


def _wav(path, seconds: float, freq: float, rate: int = 44100, channels: int = 2) -> str:
    t = np.arange(int(seconds * rate)) / rate
    y = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(y, channels).tobytes())
    return str(path)


def _alone(path: str):
    try:
        return audio.probe(path)
    except SidecarError as exc:
        return exc


def _same(a, b) -> bool:
    if isinstance(a, SidecarError) or isinstance(b, SidecarError):
        return type(a) is type(b) and a.code == b.code and str(a) == str(b)
    return a.to_json() == b.to_json()


def test_batch_matches_probing_each_file_alone(tmp_path):
    paths = [
        _wav(tmp_path / "a.wav", 0.5, 220),
        _wav(tmp_path / "b mono 48k.wav", 0.25, 330, rate=48000, channels=1),
    ]
    bad = tmp_path / "noise.wav"
    bad.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    header_only = tmp_path / "header.wav"
    header_only.write_bytes((tmp_path / "a.wav").read_bytes()[:44])
    newline = _wav(tmp_path / "new\nline.wav", 0.2, 440)
    paths += [str(bad), _wav(tmp_path / "after-bad.wav", 0.3, 550), str(empty), str(tmp_path / "missing.wav"),
              str(header_only), newline, _wav(tmp_path / "last.wav", 0.1, 660)]

    together = audio.probe_many(paths)

    assert len(together) == len(paths)
    for path, got in zip(paths, together):
        assert _same(got, _alone(path)), path
    assert [getattr(r, "code", "ok") for r in together] == [
        "ok", "ok", "NOT_AUDIO", "ok", "NOT_AUDIO", "FILE_NOT_FOUND", "NOT_AUDIO", "ok", "ok",
    ]
    assert together[1].sample_rate == 48000 and together[1].channels == 1
    assert together[3].duration == pytest.approx(0.3, abs=0.01)


def test_op_reports_each_file_and_validates_its_params(tmp_path):
    good = _wav(tmp_path / "a.wav", 0.2, 220)
    reply = ops.probe_many({"paths": [good, str(tmp_path / "nope.wav")]}, None)
    assert reply["results"][0]["ok"]["sampleRate"] == 44100
    assert reply["results"][1]["error"]["code"] == "FILE_NOT_FOUND"
    for bad in ({}, {"paths": []}, {"paths": [""]}, {"paths": [1]}, {"paths": ["x"] * (audio.PROBE_BATCH_MAX + 1)}):
        with pytest.raises(BadRequestError):
            ops.probe_many(bad, None)
