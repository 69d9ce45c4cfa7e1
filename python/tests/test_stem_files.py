"""NI Stems files read back by the third-party readers: ffprobe (five audio streams of equal
length, only the mix enabled), stempeg (the stems match ours within codec tolerance), mutagen
(BPM and key), and our `stem` box decoding to NI's JSON where NI puts it."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess

import mutagen
import numpy as np
import pytest

from sfa_sidecar import stem_files
from sfa_sidecar.errors import SidecarError

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian's ffmpeg package) is not installed")
SR = 44100


def tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([amp * np.sin(2 * np.pi * freq * t), amp * np.sin(2 * np.pi * freq * 1.01 * t)], axis=1).astype(np.float32)


@pytest.fixture
def six_stems(write_wav):
    freqs = {"drums": 110, "bass": 55, "other": 330, "vocals": 440, "guitar": 660, "piano": 880}
    waves = {n: tone(f, 2.0) for n, f in freqs.items()}
    paths = {n: str(write_wav(f"{n}.wav", w, subtype="FLOAT")) for n, w in waves.items()}
    mix = write_wav("mix.wav", sum(waves.values()), subtype="FLOAT")
    return str(mix), paths, waves


def track_flags(path) -> list[int]:
    """Each trak's tkhd flags: NI players play the one enabled track (flags 3); the stems are in
    the movie but disabled (flags 2), as NI's own files have them."""
    data = open(path, "rb").read()
    a, s = {k: (x, y) for k, x, y in stem_files._children(data, 0, len(data))}[b"moov"]
    flags = []
    for kind, x, y in stem_files._children(data, a + 8, a + s):
        if kind == b"trak":
            tkhd = next(c for c in stem_files._children(data, x + 8, x + y) if c[0] == b"tkhd")
            flags.append(int.from_bytes(data[tkhd[1] + 9 : tkhd[1] + 12], "big"))
    return flags


def udta_stem(path) -> dict:
    data = open(path, "rb").read()
    top = {k: (a, s) for k, a, s in stem_files._children(data, 0, len(data))}
    a, s = top[b"moov"]
    udta = {k: (x, y) for k, x, y in stem_files._children(data, a + 8, a + s)}[b"udta"]
    inner = {k: (x, y) for k, x, y in stem_files._children(data, udta[0] + 8, udta[0] + udta[1])}
    x, y = inner[b"stem"]
    return json.loads(data[x + 8 : x + y])


@needs_ffprobe
@pytest.mark.parametrize("codec", ["aac", "alac"])
def test_stem_mp4_round_trip(six_stems, tmp_path, codec):
    import stempeg

    mix, paths, waves = six_stems
    out = tmp_path / "My Track #1 %.stem.mp4"
    result = stem_files.write_stem_mp4(mix, paths, str(out), codec, {"bpm": 124, "key": "Am", "title": "My Track", "artist": "Me"})
    assert result["folded"] == {"drums": 1, "bass": 1, "other": 3, "vocals": 1}
    assert sorted(p.name for p in tmp_path.iterdir() if "stem" in p.name) == [out.name]

    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(out)], check=True, capture_output=True, text=True,
    ).stdout)
    audio = [s for s in probe["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 5
    assert {s["codec_name"] for s in audio} == {codec}
    assert [s["disposition"]["default"] for s in audio] == [1, 0, 0, 0, 0]
    durations = [float(s["duration"]) for s in audio]
    assert max(durations) - min(durations) < 1e-3 and abs(durations[0] - 2.0) < 0.05
    if codec == "aac":
        assert all(200_000 <= int(s["bit_rate"]) <= 300_000 for s in audio)

    assert track_flags(out) == [3, 2, 2, 2, 2]
    meta = udta_stem(out)
    assert [s["name"] for s in meta["stems"]] == ["drums", "bass", "other", "vocals"]
    assert all(s["color"].startswith("#") and len(s["color"]) == 7 for s in meta["stems"])
    assert set(meta["mastering_dsp"]) == {"compressor", "limiter"} and meta["version"] == 1

    tags = mutagen.File(str(out)).tags
    assert tags["tmpo"] == [124] and bytes(tags["----:com.apple.iTunes:initialkey"][0]) == b"Am" and tags["\xa9nam"] == ["My Track"]

    info = stempeg.Info(str(out))
    assert info.nb_audio_streams == 5
    stems, rate = stempeg.read_stems(str(out), dtype=np.float32)
    assert rate == SR and stems.shape[0] == 5
    expected = [sum(waves.values()), waves["drums"], waves["bass"], waves["other"] + waves["guitar"] + waves["piano"], waves["vocals"]]
    n = min(stems.shape[1], expected[0].shape[0]) - 4096
    for got, want in zip(stems, expected):
        # AAC adds encoder delay; compare after aligning on the best lag.
        got, want = got[2048:n], want[2048:n]
        lag = _best_lag(got[:, 0], want[:, 0])
        g = got[max(0, lag):len(got) + min(0, lag)]
        w = want[max(0, -lag):len(want) - max(0, lag)][: len(g)]
        g = g[: len(w)]
        snr = 10 * np.log10(np.sum(w**2) / max(np.sum((g - w) ** 2), 1e-12))
        assert snr > (60 if codec == "alac" else 20), f"stem SNR {snr:.1f} dB"


def _best_lag(a: np.ndarray, b: np.ndarray, span: int = 1100) -> int:
    corr = [np.dot(a[max(0, k):len(a) + min(0, k)], b[max(0, -k):len(b) - max(0, k)][: len(a) - abs(k)]) for k in range(-span, span + 1, 1)]
    return int(np.argmax(corr)) - span


def test_two_stem_sets_are_refused_with_the_reason(six_stems, tmp_path):
    mix, paths, _ = six_stems
    with pytest.raises(SidecarError) as err:
        stem_files.write_stem_mp4(mix, {"vocals": paths["vocals"], "no_vocals": paths["other"]}, str(tmp_path / "x.stem.mp4"))
    assert "lack drums, bass" in str(err.value)
    assert not list(tmp_path.glob("*.mp4*"))


def test_atom_writer_replaces_an_existing_stem_box(six_stems, tmp_path):
    mix, paths, _ = six_stems
    out = tmp_path / "a.stem.mp4"
    stem_files.write_stem_mp4(mix, paths, str(out), "alac")
    stem_files.add_udta_box(str(out), b"stem", json.dumps({"version": 2}).encode())
    assert udta_stem(out) == {"version": 2}
    data = out.read_bytes()
    kinds = [k for k, _, _ in stem_files._children(data, 0, len(data))]
    assert kinds[-1] == b"moov" and kinds.count(b"moov") == 1
    # the audio still decodes whole after the box was rewritten (bundled ffmpeg: no ffprobe needed)
    from sfa_sidecar.audio import ffmpeg_exe

    decoded = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:a:4", "-f", "f32le", "-"], check=True, capture_output=True)
    assert len(decoded.stdout) == 2 * 4 * int(round(2.0 * SR))


def test_plain_files_per_stem(six_stems, tmp_path):
    _, paths, _ = six_stems
    files = stem_files.write_plain({"drums": paths["drums"], "vocals": paths["vocals"]}, str(tmp_path), "Song: é", "flac")
    assert [p.split("/")[-1] for p in files] == ["Song: é - drums.flac", "Song: é - vocals.flac"]
    assert all(mutagen.File(p).info.sample_rate == SR for p in files)
    assert not [p for p in tmp_path.iterdir() if ".part." in p.name]


def test_mp4_must_end_with_moov(tmp_path):
    p = tmp_path / "x.mp4"
    p.write_bytes(struct.pack(">I4s", 16, b"moov") + b"\0" * 8 + struct.pack(">I4s", 8, b"free"))
    with pytest.raises(ValueError):
        stem_files.add_udta_box(str(p), b"stem", b"{}")


def test_a_full_disk_leaves_no_file_under_the_final_name(six_stems, tmp_path):
    mix, paths, _ = six_stems
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): the disk-full path is untested on this machine")
    try:
        with pytest.raises(SidecarError) as err:
            stem_files.write_stem_mp4(mix, paths, str(small / "x.stem.mp4"), "alac")
        assert err.value.code == "DISK_FULL" and "disk is full" in str(err.value)
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)
