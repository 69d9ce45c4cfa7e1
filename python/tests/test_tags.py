"""Tags written by us, read back by mutagen: the values we stored, the user's other tags and the
audio stream unchanged, and restore bringing the old values back."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import mutagen
import numpy as np
import pytest

from sfa_sidecar import tags
from sfa_sidecar.audio import ffmpeg_exe
from sfa_sidecar.errors import SidecarError

# container -> (extension, ffmpeg codec args, ffmpeg metadata args giving the file its own tags)
FORMATS = {
    "mp3": (".mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3"]),
    "flac": (".flac", ["-c:a", "flac"]),
    "ogg": (".ogg", ["-c:a", "libvorbis"]),
    "opus": (".opus", ["-c:a", "libopus"]),
    "m4a": (".m4a", ["-c:a", "aac", "-b:a", "128k"]),
    "wav": (".wav", ["-c:a", "pcm_s16le", "-write_id3v2", "1"]),
    "aiff": (".aiff", ["-c:a", "pcm_s16be", "-write_id3v2", "1"]),
}


def encode(write_wav, tmp_path: Path, fmt: str, name: str = "track") -> Path:
    t = np.arange(44100 * 2) / 44100
    src = write_wav(f"src-{fmt}.wav", 0.3 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1))
    ext, codec = FORMATS[fmt]
    out = tmp_path / f"{name}{ext}"
    meta = ["-metadata", "title=My Title", "-metadata", "artist=Someone", "-metadata", "album=The Album"]
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), *codec, *meta, str(out)], check=True)
    return out


def audio_md5(path: Path) -> str:
    """The audio stream's hash, copied out of the container without decoding (tags are not part of it)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def other_tags(path: Path) -> dict[str, str]:
    """Title/artist/album as mutagen reads them (the tags we must not touch)."""
    easy = mutagen.File(str(path), easy=True)
    if easy is not None and easy.tags is not None:
        return {k: str(easy.tags.get(k, [None])[0]) for k in ("title", "artist", "album")}
    raw = mutagen.File(str(path))
    return {"id3": str(sorted(k for k in raw.tags.keys() if k[:4] in ("TIT2", "TPE1", "TALB")))}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_write_read_restore_round_trip(write_wav, tmp_path, fmt):
    path = encode(write_wav, tmp_path, fmt)
    tags.atomic_edit(str(path), lambda temp: _set_user_comment(temp))
    before_audio, before_other = audio_md5(path), other_tags(path)
    before = tags.read(str(path))
    assert before["bpm"] is None and before["key"] is None and before["comment"] == "my own words"

    result = tags.write(str(path), 127.96, "Am", {"field": "comment", "level": 7})
    assert result["previous"] == {"bpm": None, "key": None, "comment": ["my own words"]}

    after = tags.read(str(path))
    assert after["bpm"] == ("127.96" if after["format"] == "vorbis" else "128")
    assert after["key"] == "Am"
    assert after["comment"] == "Energy 7 - my own words"
    # what a DJ program's tag reader sees, through mutagen's raw access
    raw = mutagen.File(str(path)).tags
    if after["format"] == "id3":
        assert str(raw["TBPM"].text[0]) == "128" and str(raw["TKEY"].text[0]) == "Am"
    elif after["format"] == "mp4":
        assert raw["tmpo"] == [128] and bytes(raw["----:com.apple.iTunes:initialkey"][0]) == b"Am"
    else:
        assert raw["BPM"] == ["127.96"] and raw["INITIALKEY"] == ["Am"]
    assert audio_md5(path) == before_audio
    assert other_tags(path) == before_other
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".sfa-tags")]

    # writing again replaces our energy prefix rather than stacking it
    again = tags.write(str(path), 127.96, "8A", {"field": "comment", "level": 5})
    assert again["previous"]["comment"] == ["Energy 7 - my own words"]
    assert tags.read(str(path))["comment"] == "Energy 5 - my own words"

    tags.restore(str(path), result["previous"])
    restored = tags.read(str(path))
    assert (restored["bpm"], restored["key"], restored["comment"]) == (None, None, "my own words")
    assert audio_md5(path) == before_audio
    assert other_tags(path) == before_other


def _set_user_comment(temp: str) -> None:
    t = tags.TagFile(temp)
    t.set("comment", ["my own words"])
    t.save()


def test_grouping_field_and_id3_version_kept(write_wav, tmp_path):
    path = encode(write_wav, tmp_path, "mp3")
    assert mutagen.File(str(path)).tags.version[1] == 3
    tags.write(str(path), 90.0, "1m", {"field": "grouping", "level": 3})
    raw = mutagen.File(str(path)).tags
    assert raw.version[1] == 3
    assert str(raw["TIT1"].text[0]) == "Energy 3"
    assert tags.read(str(path))["comment"] is None


def test_read_only_file_and_folder_refused_untouched(write_wav, tmp_path):
    path = encode(write_wav, tmp_path, "flac")
    data = path.read_bytes()
    os.chmod(path, 0o444)
    try:
        with pytest.raises(SidecarError) as err:
            tags.write(str(path), 120.0, "C", None)
        assert err.value.code == "PERMISSION_DENIED" and "read-only" in str(err.value)
    finally:
        os.chmod(path, 0o644)
    folder = tmp_path / "locked"
    folder.mkdir()
    inside = folder / "x.flac"
    inside.write_bytes(data)
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(SidecarError) as err:
            tags.write(str(inside), 120.0, "C", None)
        assert err.value.code == "PERMISSION_DENIED" and "folder" in str(err.value)
    finally:
        os.chmod(folder, 0o755)
    assert path.read_bytes() == data and inside.read_bytes() == data


def test_missing_and_non_audio_files(tmp_path):
    with pytest.raises(SidecarError) as err:
        tags.write(str(tmp_path / "gone.mp3"), 120.0, "C", None)
    assert err.value.code == "FILE_NOT_FOUND" and "moved or deleted" in str(err.value)
    text = tmp_path / "notes.mp3"
    text.write_text("not audio")
    with pytest.raises(SidecarError) as err:
        tags.write(str(text), 120.0, "C", None)
    assert err.value.code == "NOT_AUDIO"
    assert text.read_text() == "not audio"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp3"]


def test_a_failing_edit_leaves_the_original_whole(write_wav, tmp_path):
    path = encode(write_wav, tmp_path, "m4a")
    data = path.read_bytes()

    def boom(temp: str) -> None:
        with open(temp, "r+b") as f:
            f.truncate(10)
        raise OSError(28, "No space left on device")

    with pytest.raises(SidecarError) as err:
        tags.atomic_edit(str(path), boom)
    assert err.value.code == "DISK_FULL"
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".wav"] == [path.name]
