"""The analyze / peaks ops: accuracy on synthetic signals, result shape, stems, bad input."""

from __future__ import annotations

import subprocess
import threading
import wave

import numpy as np
import pytest

from analysis_signals import chords, drums
from sfa_sidecar import analyze, audio
from sfa_sidecar.analysis import keys, loudness
from sfa_sidecar.errors import CancelledError, SidecarError
from sfa_sidecar.server import Context

SR = 44100


class Recorder:
    def __init__(self):
        self.messages = []

    def send(self, message):
        self.messages.append(message)


def ctx() -> Context:
    return Context("t", Recorder())


def stereo(y: np.ndarray) -> np.ndarray:
    return np.stack([y, y], axis=1)


# ------------------------------------------------------------------ tables


CAMELOT = {
    "C major": "8B", "G major": "9B", "D major": "10B", "A major": "11B", "E major": "12B", "B major": "1B",
    "F# major": "2B", "Db major": "3B", "Ab major": "4B", "Eb major": "5B", "Bb major": "6B", "F major": "7B",
    "A minor": "8A", "E minor": "9A", "B minor": "10A", "F# minor": "11A", "C# minor": "12A", "G# minor": "1A",
    "Eb minor": "2A", "Bb minor": "3A", "F minor": "4A", "C minor": "5A", "G minor": "6A", "D minor": "7A",
}


@pytest.mark.parametrize("name,code", sorted(CAMELOT.items()))
def test_camelot_table(name, code):
    pc, mode = keys.parse_key(name)
    assert keys.camelot(pc, mode) == code
    assert keys.key_name(pc, mode) == name
    number = (int(code[:-1]) - 8) % 12 + 1
    assert keys.open_key(pc, mode) == f"{number}{'d' if mode == 'major' else 'm'}"


def test_open_key_anchor():
    assert keys.open_key(0, "major") == "1d" and keys.open_key(9, "minor") == "1m"


def test_lufs_reference_sine():
    # BS.1770: a 1 kHz stereo sine with peak -23 dBFS per channel reads -23 LUFS (+-0.1).
    sr = 48000
    t = np.arange(10 * sr) / sr
    y = (10 ** (-23 / 20) * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    assert loudness.integrated_lufs(np.stack([y, y]), sr) == pytest.approx(-23.0, abs=0.1)
    assert loudness.integrated_lufs(np.zeros((2, sr)), sr) is None


# ------------------------------------------------------------------ accuracy on synthetic audio


@pytest.mark.parametrize("bpm", [92.0, 128.0, 170.0])
def test_tempo_of_drum_track(write_wav, bpm):
    path = write_wav(f"drums{bpm:g}.wav", drums(bpm, 20))
    result = analyze.run({"path": str(path)})
    assert result["tempo"]["bpm"] == pytest.approx(bpm, rel=0.04)
    beats = np.diff(result["grid"]["beats"])
    assert np.median(beats) == pytest.approx(60 / bpm, rel=0.05)
    alts = {round(a["bpm"] / result["tempo"]["bpm"], 2) for a in result["tempo"]["alternatives"]}
    assert alts == {2.0, 0.5}


@pytest.mark.parametrize("key", ["A minor", "C major", "Eb major", "F# minor"])
def test_key_of_chord_track(write_wav, key):
    path = write_wav("chords.wav", chords(key, 16))
    result = analyze.run({"path": str(path), "beats": False})
    assert result["key"]["key"] == key
    assert result["key"]["camelot"] == CAMELOT[key]
    assert 0 <= result["key"]["confidence"] <= 1


def _y11(y44: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(y44, 1, 4).astype(np.float32)


@pytest.mark.parametrize("key", ["C minor", "E minor", "C# minor", "Bb minor"])
def test_harmonic_minor_reads_minor(key):
    """A minor i-iv-V-i whose V is major (harmonic minor: the leading tone is heard) must read as
    the minor key: not the parallel major, not the key of the major V, not the relative major."""
    y = chords(key, 20, bpm=100) + 0.6 * drums(100, 20)
    tonic, _ = keys.parse_key(key)
    # The chord stage hears the V as a major triad (the raised 7th) ...
    h = keys.chord_histogram(keys.pitch_spectrogram(_y11(y)))
    assert int(np.argmax(h[:12])) == (tonic + 7) % 12 and h[(tonic + 7) % 12] > 0.1
    # ... and the key is still minor on the right tonic.
    result = keys.key_from_signal(_y11(y))
    assert (result.tonic_pc, result.mode) == (tonic, "minor")
    assert keys.key_name(result.tonic_pc, result.mode) == key
    assert 0.0 <= result.confidence <= 1.0


def _progression(root: int, chords_: list[tuple[int, int]], seconds: float, bpm: float = 100.0) -> np.ndarray:
    """Like analysis_signals.chords, with any progression: (semitones above the root, third)."""
    from analysis_signals import tone

    bar = int(4 * 60.0 / bpm * SR)
    y = np.zeros(int(seconds * SR), np.float32)
    env = np.minimum(1.0, np.linspace(0, 20, bar)) * np.exp(-np.linspace(0, 2, bar))
    i = c = 0
    while i < y.size:
        offset, third = chords_[c % len(chords_)]
        base = 48 + (root + offset) % 12
        n = min(bar, y.size - i)
        seg = sum(tone(440.0 * 2 ** ((m - 69) / 12), n, SR) for m in (base + 12, base + 12 + third, base + 19, base - 12))
        y[i : i + n] += 0.08 * seg * env[:n]
        i += bar
        c += 1
    return y


@pytest.mark.parametrize("tonic", [0, 4, 7, 10])
def test_harmonic_minor_dominant_heavy_reads_minor(tonic):
    """i-V-i-V-iv-V: the major V sounds half the time. A pitch profile alone reads the V's major
    key here (a fifth error); the chord functions (V major is the dominant of the minor i) do not."""
    y = _progression(tonic, [(0, 3), (7, 4), (0, 3), (7, 4), (5, 3), (7, 4)], 20) + 0.6 * drums(100, 20)
    result = keys.key_from_signal(_y11(y))
    assert (result.tonic_pc, result.mode) == (tonic, "minor")


def test_key_method_profile_still_available():
    """The previous method (profile correlation alone) stays callable for comparison."""
    y = _y11(chords("D major", 12))
    old = keys.key_from_signal(y, method="profile")
    new = keys.key_from_signal(y)
    assert keys.key_name(old.tonic_pc, old.mode) == keys.key_name(new.tonic_pc, new.mode) == "D major"
    assert new.scores.shape == (24,) and 0.0 <= new.confidence <= 1.0


def test_key_confidence_silence_is_zero():
    result = keys.key_from_signal(np.zeros(11025 * 4, np.float32))
    assert result.confidence == 0.0


def test_result_shape(write_wav):
    y = drums(120, 12) + chords("A minor", 12)
    path = write_wav("mix.wav", stereo(y))
    r = analyze.run({"path": str(path)})
    # DESIGN.md 4.3 paths (the seed's columns) and the additions.
    for dotted in ("tempo.bpm", "tempo.confidence", "tempo.alternatives", "tempo.stable", "tempo.curve",
                   "grid.beats", "grid.downbeats", "grid.meter", "grid.first_downbeat", "key.key", "key.tonic",
                   "key.mode", "key.camelot", "key.open_key", "key.confidence", "key.runner_up.key",
                   "key.runner_up.camelot", "key.runner_up.score", "energy.rms_mean", "energy.zcr_mean", "energy.rms_windowed_mean",
                   "energy.curve", "energy.loudness_lufs", "energy.peak_db", "energy.level",
                   "spectral.centroid_mean", "spectral.rolloff_mean", "spectral.centroid_sounding_mean",
                   "spectral.rolloff_sounding_mean", "spectral.bandwidth_mean",
                   "spectral.flatness_mean", "duration", "sample_rate", "source", "analyzer_version"):
        node = r
        for part in dotted.split("."):
            assert part in node, dotted
            node = node[part]
    assert r["source"] == "mix" and "candidates" not in r
    assert r["duration"] == pytest.approx(12, abs=0.05) and r["sample_rate"] == SR
    assert abs(len(r["energy"]["curve"]) - 12) <= 1 and all(0 <= v <= 1 for v in r["energy"]["curve"])
    assert 1 <= r["energy"]["level"] <= 10
    assert -40 < r["energy"]["loudness_lufs"] < 0
    assert 0 <= r["tempo"]["confidence"] <= 1
    import json

    json.dumps(r, allow_nan=False)  # what the protocol does


def test_stems_mode(write_wav):
    d, h = drums(124, 15), chords("D minor", 15)
    mix = write_wav("mix.wav", stereo(d + h))
    dp, hp = write_wav("drums.wav", d), write_wav("other.wav", h)
    bp = write_wav("bass.wav", chords("D minor", 15) * 0.5)
    r = analyze.run({"path": str(mix), "stems": {"drums": str(dp), "other": str(hp), "bass": str(bp)}})
    assert r["source"] in ("mix", "stems")
    assert set(r["candidates"]) == {"mix", "stems"}
    assert r["candidates"]["stems"]["tempo"]["bpm"] == pytest.approx(124, rel=0.04)
    assert r["candidates"]["stems"]["key"]["key"] == "D minor"
    assert r["tempo"]["bpm"] == pytest.approx(124, rel=0.04) and r["key"]["key"] == "D minor"
    assert "tempo from the" in r["choice_reason"] and "key from the" in r["choice_reason"]
    assert r["tempo"]["source"] in ("mix", "stems") and r["key"]["source"] in ("mix", "stems")


def test_stems_mode_bad_stem_falls_back_to_mix(write_wav, tmp_path):
    mix = write_wav("mix.wav", drums(110, 10) + chords("C major", 10))
    junk = tmp_path / "drums.wav"
    junk.write_text("not audio")
    r = analyze.run({"path": str(mix), "stems": {"drums": str(junk)}})
    assert r["source"] == "mix"
    assert "NOT_AUDIO" in r["candidates"]["stems"]["errors"]["drums"]
    assert r["candidates"]["stems"]["tempo"] is None


# ------------------------------------------------------------------ bad input


def _code(params: dict) -> str:
    with pytest.raises(SidecarError) as err:
        analyze.run(params)
    return err.value.code


def test_not_audio(tmp_path):
    p = tmp_path / "notes.mp3"
    p.write_text("hello, this is not audio\n" * 100)
    assert _code({"path": str(p)}) == "NOT_AUDIO"
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert _code({"path": str(empty)}) == "NOT_AUDIO"
    assert _code({"path": str(tmp_path / "missing.wav")}) == "FILE_NOT_FOUND"


def test_bad_params(write_wav):
    path = str(write_wav("x.wav", drums(100, 3)))
    assert _code({}) == "BAD_REQUEST"
    assert _code({"path": path, "maxSeconds": "ten"}) == "BAD_REQUEST"
    assert _code({"path": path, "stems": {"guitar": path}}) == "BAD_REQUEST"
    assert _code({"path": path, "beats": "yes"}) == "BAD_REQUEST"


def test_truncated_files(write_wav, tmp_path):
    good = write_wav("good.wav", drums(120, 8))
    data = good.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])  # header promises 8 s, 4 s present
    r = analyze.run({"path": str(cut)})
    assert 3.0 < r["window"]["seconds"] < 5.0 and r["tempo"]["bpm"] > 0
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(data[:44])
    assert _code({"path": str(header_only)}) in ("NOT_AUDIO", "DECODE_FAILED", "TOO_SHORT")


def test_silence_and_too_short(write_wav):
    assert _code({"path": str(write_wav("silence.wav", np.zeros(SR * 5)))}) == "SILENT"
    assert _code({"path": str(write_wav("short.wav", drums(120, 0.5)))}) == "TOO_SHORT"


@pytest.mark.parametrize(
    "name,sr,subtype,channels",
    [("u8.wav", 22050, "PCM_U8", 1), ("hires.wav", 96000, "PCM_24", 2), ("mono.flac", 44100, "PCM_16", 1),
     ("surround.wav", 48000, "PCM_16", 6)],
)
def test_formats(write_wav, name, sr, subtype, channels):
    y = drums(100, 8, sr) + chords("G major", 8, sr)
    y = y / np.abs(y).max() * 0.8
    data = y if channels == 1 else np.stack([y] * channels, axis=1)
    r = analyze.run({"path": str(write_wav(name, data, sr, subtype))})
    assert r["sample_rate"] == sr and r["channels"] == channels
    assert r["tempo"]["bpm"] == pytest.approx(100, rel=0.04)
    assert r["key"]["key"] == "G major"


def test_compressed_input(write_wav, tmp_path):
    wav = write_wav("x.wav", drums(100, 8) + chords("E minor", 8))
    ogg = tmp_path / "x.ogg"
    subprocess.run([audio.ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a", "libvorbis", str(ogg)], check=True)
    r = analyze.run({"path": str(ogg), "beats": False})
    # Decoding is what this test is about: the tonic must survive Vorbis. (The mode of this
    # i-iv-V-i with a major V is a known weak spot: KK + bass weighting can read E major.)
    assert r["key"]["tonic"] == "E" and r["tempo"]["bpm"] == pytest.approx(100, rel=0.04)


def test_two_hour_file_is_windowed(tmp_path):
    # 2 h of 8-bit 8 kHz mono = 58 MB on disk; analysis decodes only a 600 s window.
    sr = 8000
    path = tmp_path / "long.wav"
    second = (128 + 60 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)).astype(np.uint8)
    second[:200] = 250  # a click each second (60 BPM)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(sr)
        block = np.tile(second, 600).tobytes()
        for _ in range(12):
            w.writeframes(block)
    r = analyze.run({"path": str(path), "beats": False})
    assert r["duration"] == pytest.approx(7200, abs=1)
    assert r["window"]["truncated"] is True and r["window"]["seconds"] == pytest.approx(600, abs=1)
    assert r["window"]["start"] == pytest.approx(3300, abs=1)
    short = analyze.run({"path": str(path), "beats": False, "maxSeconds": 30})
    assert short["window"]["seconds"] == pytest.approx(30, abs=0.1)


# ------------------------------------------------------------------ progress and cancellation


def test_progress_stages_and_cancel(write_wav):
    path = str(write_wav("x.wav", drums(120, 10)))
    c = ctx()
    analyze.run({"path": path}, c)
    stages = [m["message"] for m in c.channel.messages]
    assert stages[0] == "probe" and {"tempo", "key"} <= set(stages)
    fractions = [m["fraction"] for m in c.channel.messages]
    assert fractions == sorted(fractions)

    class CancelAt(Recorder):
        def send(self, message):
            super().send(message)
            if message.get("message") == "tempo":
                cancel.cancelled.set()

    cancel = Context("c", CancelAt())
    with pytest.raises(CancelledError):
        analyze.run({"path": path}, cancel)


def test_cancel_during_decode(write_wav):
    c = ctx()
    c.cancelled.set()
    with pytest.raises(CancelledError):
        analyze.run({"path": str(write_wav("x.wav", drums(120, 5)))}, c)


# ------------------------------------------------------------------ peaks and warm


def test_peaks(write_wav):
    t = np.arange(SR * 4) / SR
    left = (0.5 * np.sin(2 * np.pi * 100 * t)).astype(np.float32)
    right = np.where(t < 2, 0.0, 0.9).astype(np.float32) * np.sign(np.sin(2 * np.pi * 50 * t))
    path = str(write_wav("p.wav", np.stack([left, right], axis=1)))
    r = analyze.peaks({"path": path, "points": 100})
    assert r["channels"] == 2 and len(r["peaks"]) == 2 and len(r["peaks"][0]) == 100
    lo, hi = np.array(r["peaks"][0]).T
    assert np.all(lo <= hi) and hi.max() == pytest.approx(0.5, abs=0.02) and lo.min() == pytest.approx(-0.5, abs=0.02)
    right_hi = np.array(r["peaks"][1])[:, 1]
    assert right_hi[:45].max() < 0.01 and right_hi[55:].min() > 0.8
    mixed = analyze.peaks({"path": path, "points": 10, "mixed": True})
    assert mixed["channels"] == 1 and len(mixed["peaks"][0]) == 10
    assert mixed["duration"] == pytest.approx(4, abs=0.01)


def test_warm():
    r = analyze.warm({})
    assert r["warm"] is True


def test_registry_has_ops():
    from sfa_sidecar.ops import registry

    assert {"analyze", "analyze_warm", "peaks"} <= set(registry())


def test_shared_spectral_features_match_librosa():
    import librosa

    from sfa_sidecar.analysis import features

    y = (drums(110, 6, 22050) + chords("B minor", 6, 22050)).astype(np.float32)
    shared = features.stft_and_onsets(y, 22050)
    ours = features.spectral(shared)
    S = shared.mag
    ref = {
        "centroid_mean": librosa.feature.spectral_centroid(S=S, sr=22050).mean(),
        "rolloff_mean": librosa.feature.spectral_rolloff(S=S, sr=22050).mean(),
        "bandwidth_mean": librosa.feature.spectral_bandwidth(S=S, sr=22050).mean(),
        "flatness_mean": librosa.feature.spectral_flatness(S=S).mean(),
    }
    for name, value in ref.items():
        assert ours[name] == pytest.approx(float(value), rel=0.02), name
    assert features.zcr_mean(y) == pytest.approx(float(librosa.feature.zero_crossing_rate(y).mean()), rel=0.02)
