"""The streamed analysis (work done while ffmpeg decodes, the key stage beside the rest) gives
bit for bit what the one-pass functions give on the whole signal."""

from __future__ import annotations

import numpy as np
import pytest

from analysis_signals import chords, drums
from sfa_sidecar import analyze
from sfa_sidecar.analysis import features, loudness
from sfa_sidecar.analysis.source import decode_interleaved
from sfa_sidecar.analysis.stream import MixStream

SR = 22050


def _signal(seconds: float = 12.0) -> np.ndarray:
    y = drums(118, seconds, SR) + chords("D minor", seconds, SR, bpm=118)
    left = (y / np.abs(y).max() * 0.7).astype(np.float32)
    right = (np.roll(left, 317) * 0.8).astype(np.float32)
    return np.stack([left, right])  # (channels, samples); the channels differ


def _fed_in_blocks(stereo: np.ndarray, sizes: list[int]) -> MixStream:
    stream = MixStream(SR, stereo.shape[0], stereo.shape[1] + 5000)
    interleaved = np.ascontiguousarray(stereo.T)
    at = 0
    for n in sizes:
        stream(interleaved[at : at + n])
        at += n
    stream(interleaved[at:])
    return stream.finish()


@pytest.mark.parametrize("sizes", [[1, 511, 512, 1023, 4097], [70000, 3, 100000], []])
def test_stream_equals_one_pass(sizes):
    stereo = _signal()
    stream = _fed_in_blocks(stereo, sizes)
    mono = analyze._mono(stereo)
    assert np.array_equal(stream.mono, mono)
    assert np.array_equal(stream.mag, features.magnitude(mono))
    assert np.array_equal(stream.half_rate, analyze._down2(mono))
    assert stream.meter.integrated() == loudness.integrated_lufs(stereo, SR)
    assert stream.peak == float(np.max(np.abs(stereo)))


def test_stream_downmix_of_three_channels_is_the_mean():
    stereo = _signal(3.0)
    three = np.concatenate([stereo, stereo[:1] * 0.3])
    assert np.array_equal(_fed_in_blocks(three, [777]).mono, analyze._mono(three))


def test_stream_mono_file_and_too_many_samples():
    mono = _signal(3.0)[:1]
    stream = _fed_in_blocks(mono, [999])
    assert np.array_equal(stream.mono, mono[0])
    assert np.array_equal(stream.mag, features.magnitude(mono[0]))
    small = MixStream(SR, 1, 10)
    with pytest.raises(ValueError):
        small(np.zeros((11, 1), np.float32))


def test_streamed_decode_equals_decode_then_analysis(write_wav):
    stereo = _signal(8.0)
    path = str(write_wav("s.wav", stereo.T, sr=SR))
    stream = MixStream(SR, 2, 9 * SR)
    blocks = []

    def feed(block):
        blocks.append(block.shape[0])
        stream(block)

    whole = decode_interleaved(path, SR, 2, 0.0, 9.0, feed, None)
    stream.finish()
    assert sum(blocks) == whole.shape[0] == stereo.shape[1]
    assert np.array_equal(stream.mono, analyze._mono(np.ascontiguousarray(whole.T)))


def test_thread_budget(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert analyze.thread_budget() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "0")
    assert analyze.thread_budget() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert analyze.thread_budget() >= 1


def _comparable(result: dict) -> dict:
    return {
        "tempo": result["tempo"].to_json(),
        "key": result["key"].to_json(),
        "energy": result["energy"],
        "spectral": result["spectral"],
        "grid": result["grid"].to_json(),
    }


def test_one_thread_and_two_threads_agree(monkeypatch):
    stereo = _signal()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = _comparable(analyze.analyze_signal(stereo, with_grid=True))
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    two = _comparable(analyze.analyze_signal(stereo, with_grid=True))
    assert one == two
    assert one["key"]["key"] == "D minor"


def test_early_decode_is_taken_when_the_probe_agrees(write_wav, tmp_path):
    from sfa_sidecar.analysis.source import EarlyDecode

    stereo = _signal(4.0)
    path = str(write_wav("e.wav", stereo.T, sr=SR))
    plain = decode_interleaved(path, SR, 2, 0.0, 600.0, None, None)
    early = EarlyDecode.start(path, SR, 2, 0.0, 600.0)
    proc = early.proc
    assert np.array_equal(decode_interleaved(path, SR, 2, 0.0, 600.0, None, None, early), plain)
    assert early.proc is None and proc.returncode == 0  # read to its end, not killed

    other = EarlyDecode.start(path, SR, 2, 0.0, 600.0)
    proc = other.proc
    mono = decode_interleaved(path, SR, 1, 0.0, 600.0, None, None, other)  # the probe said mono
    assert mono.shape == (plain.shape[0], 1) and proc.returncode is not None and other.proc is None
    (tmp_path / "empty.wav").write_bytes(b"")
    for name in ("missing.wav", "empty.wav"):  # the probe reports these
        assert EarlyDecode.start(str(tmp_path / name), SR, 2, 0.0, 600.0) is None


def test_cancel_after_probe_ends_the_early_decode(write_wav, monkeypatch):
    from sfa_sidecar.analysis import source
    from sfa_sidecar.errors import CancelledError
    from sfa_sidecar.server import Context

    started = []
    real_start = source.EarlyDecode.start.__func__

    def spy(cls, *args):
        early = real_start(cls, *args)
        started.append(early.proc)
        return early

    monkeypatch.setattr(source.EarlyDecode, "start", classmethod(spy))

    class CancelAtProbe:
        def send(self, message):
            if message.get("message") == "probe":
                c.cancelled.set()

    c = Context("c", CancelAtProbe())
    path = str(write_wav("x.wav", _signal(4.0).T, sr=SR))
    with pytest.raises(CancelledError):
        analyze.run({"path": path}, c)
    assert len(started) == 1 and started[0].returncode is not None  # killed and waited for
