"""Hostile files at the sidecar's edges: WAV headers that lie, and stems written to a full or
read-only disk (typed errors the engine turns into DISK_FULL / PERMISSION_DENIED)."""

from __future__ import annotations

import errno
import struct
import wave

import numpy as np
import pytest

from sfa_sidecar import audio
from sfa_sidecar.errors import NotAudioError
from sfa_sidecar.separation.writer import write_error


def _wav(path, seconds: float, rate: int = 44100) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.zeros(int(seconds * rate) * 2, dtype=np.int16)).tobytes())


def test_header_only_wav_is_not_audio(tmp_path):
    src = tmp_path / "a.wav"
    _wav(src, 2)
    only = tmp_path / "header.wav"
    only.write_bytes(src.read_bytes()[:44])
    with pytest.raises(NotAudioError, match="no audio data"):
        audio.probe(str(only))


def test_wav_claiming_hours_gets_the_duration_it_holds(tmp_path):
    f = tmp_path / "liar.wav"
    _wav(f, 1)
    data = bytearray(f.read_bytes())
    struct.pack_into("<I", data, 4, 0xFFFFFFF0)
    struct.pack_into("<I", data, 40, 0xFFFFFFD0)
    f.write_bytes(bytes(data))
    probe = audio.probe(str(f))
    assert probe.duration is None or probe.duration <= 1.01


def test_truncated_wav_duration_is_what_the_file_holds(tmp_path):
    f = tmp_path / "cut.wav"
    _wav(f, 2)
    f.write_bytes(f.read_bytes()[: 44 + 44100 * 4 // 2])  # half a second of stereo 16-bit
    assert audio.probe(str(f)).duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "err,code",
    [(errno.ENOSPC, "DISK_FULL"), (errno.EACCES, "PERMISSION_DENIED"), (errno.EROFS, "PERMISSION_DENIED"), (errno.EIO, "WRITE_FAILED")],
)
def test_write_errors_are_typed(err, code):
    e = write_error("cannot write /x/.vocals.wav.part", OSError(err, "boom"))
    assert e.code == code
    assert "/x/" in str(e)
