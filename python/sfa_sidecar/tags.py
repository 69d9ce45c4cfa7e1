"""BPM, key and energy in the audio files' own tags (mutagen), written atomically and undoable.

Four logical fields, mapped per container the way DJ software reads them:

    field     ID3 (MP3, WAV, AIFF)   Vorbis (FLAC, Ogg, Opus)   MP4 (M4A)
    bpm       TBPM                    BPM                        tmpo
    key       TKEY                    INITIALKEY                 ----:com.apple.iTunes:initialkey
    comment   COMM (no description)   COMMENT                    \xa9cmt
    grouping  TIT1                    GROUPING                   \xa9grp

A field's raw value is a list of strings (or None when absent): that is what `tags_write`
returns as `previous` for the engine to keep, and what `tags_restore` puts back. Only these
fields change; every other tag and every audio byte stays as it was (mutagen rewrites tag
blocks only). The edit happens on a copy in the same folder, which is fsynced and renamed over
the original, so a crash or a full disk leaves the original file whole.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import BadRequestError, FileMissingError, NotAudioError, SidecarError
from .server import Context, Op

FIELDS = ("bpm", "key", "comment", "grouping")

_ID3_FRAMES = {"bpm": "TBPM", "key": "TKEY", "grouping": "TIT1"}
_VORBIS_KEYS = {"bpm": "BPM", "key": "INITIALKEY", "comment": "COMMENT", "grouping": "GROUPING"}
_MP4_KEY = "----:com.apple.iTunes:initialkey"
_MP4_KEYS = {"bpm": "tmpo", "key": _MP4_KEY, "comment": "\xa9cmt", "grouping": "\xa9grp"}
_ENERGY_PREFIX = re.compile(r"^Energy \d{1,2}(?: - )?")
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


class TagFile:
    """One opened file's four fields, whatever its container."""

    def __init__(self, path: str):
        import mutagen

        try:
            audio = mutagen.File(path)
        except Exception as exc:  # mutagen raises its own error types per format
            raise NotAudioError(f"{path}: its tags cannot be read ({exc}).") from None
        if audio is None:
            raise NotAudioError(f"{path}: not an audio format whose tags we can write (MP3, FLAC, Ogg, Opus, M4A, WAV, AIFF).")
        self.audio = audio
        self.kind = _kind(audio)
        if audio.tags is None:
            audio.add_tags()

    def get(self, field: str) -> list[str] | None:
        tags = self.audio.tags
        if self.kind == "id3":
            if field == "comment":
                frames = [f for f in tags.getall("COMM") if f.desc == ""]
                return [str(t) for t in frames[0].text] if frames else None
            frame = tags.get(_ID3_FRAMES[field])
            return [str(t) for t in frame.text] if frame is not None else None
        key = (_MP4_KEYS if self.kind == "mp4" else _VORBIS_KEYS)[field]
        values = tags.get(key)
        if not values:
            return None
        return [bytes(v).decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]

    def set(self, field: str, values: list[str] | None) -> None:
        tags = self.audio.tags
        if self.kind == "id3":
            from mutagen.id3 import COMM, Frames

            if field == "comment":
                keep = [f for f in tags.getall("COMM") if f.desc != ""]
                tags.delall("COMM")
                for f in keep:
                    tags.add(f)
                if values is not None:
                    tags.add(COMM(encoding=3, lang="eng", desc="", text=values))
                return
            name = _ID3_FRAMES[field]
            tags.delall(name)
            if values is not None:
                tags.add(Frames[name](encoding=3, text=values))
            return
        key = (_MP4_KEYS if self.kind == "mp4" else _VORBIS_KEYS)[field]
        if values is None:
            if key in tags:
                del tags[key]
            return
        if self.kind == "mp4" and field == "bpm":
            tags[key] = [int(round(float(v))) for v in values]
        elif self.kind == "mp4" and key.startswith("----:"):
            from mutagen.mp4 import MP4FreeForm

            tags[key] = [MP4FreeForm(v.encode("utf-8")) for v in values]
        else:
            tags[key] = values

    def save(self) -> None:
        if self.kind == "id3":
            # Keep the file's ID3 version (2.3 for many players' files, else 2.4).
            version = getattr(self.audio.tags, "version", (2, 4, 0))[1]
            self.audio.save(v2_version=3 if version == 3 else 4)
        else:
            self.audio.save()


def _kind(audio: Any) -> str:
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4

    if isinstance(audio, MP4):
        return "mp4"
    tags = audio.tags
    if isinstance(tags, ID3) or type(audio).__name__ in ("MP3", "WAVE", "AIFF", "EasyMP3"):
        return "id3"
    return "vorbis"


def bpm_text(kind: str, bpm: float) -> str:
    """ID3 and MP4 store an integer BPM (ID3v2 TBPM is "an integer ... numerical string"); Vorbis keeps two decimals."""
    if kind in ("id3", "mp4"):
        return str(int(round(bpm)))
    return f"{round(bpm, 2):g}"


def with_energy(existing: list[str] | None, level: int) -> list[str]:
    """`Energy N` in front of the field's text, replacing ours from an earlier write, keeping the user's words."""
    rest = _ENERGY_PREFIX.sub("", existing[0]) if existing else ""
    return [f"Energy {level}" + (f" - {rest}" if rest else "")] + (existing[1:] if existing else [])


def read(path: str) -> dict[str, Any]:
    tags = TagFile(_existing(path))
    return {"format": tags.kind, **{f: (tags.get(f) or [None])[0] for f in FIELDS}}


def _existing(path: str) -> str:
    if not Path(path).is_file():
        raise FileMissingError(f"{path} is missing: it was moved or deleted. Put it back, or remove the track.")
    return path


def _writable(path: str) -> Path:
    """Refuse files and folders marked read-only (checked on the mode bits too, so it holds for root)."""
    p = Path(_existing(path))
    if not os.access(p, os.W_OK) or not (p.stat().st_mode & stat.S_IWUSR):
        raise SidecarError(f"{path} is read-only: make it writable to let us write its tags.", "PERMISSION_DENIED")
    folder = p.parent
    if not os.access(folder, os.W_OK) or not (folder.stat().st_mode & stat.S_IWUSR):
        raise SidecarError(
            f"The folder {folder} is read-only: the tags are written to a copy beside the file first. Make the folder writable.",
            "PERMISSION_DENIED",
        )
    return p


def atomic_edit(path: str, edit: Callable[[str], Any]) -> Any:
    """Run `edit` on a copy in the same folder, fsync it, rename it over `path` (then fsync the folder)."""
    p = _writable(path)
    fd, temp = tempfile.mkstemp(prefix=f".{p.name[:60]}.", suffix=".sfa-tags", dir=p.parent)
    os.close(fd)
    try:
        shutil.copyfile(p, temp)
        shutil.copymode(p, temp)
        st = p.stat()
        try:
            os.chown(temp, st.st_uid, st.st_gid)
        except OSError:
            pass  # not ours to change: the copy keeps our ownership
        result = edit(temp)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, p)
        _fsync_dir(p.parent)
        return result
    except OSError as exc:
        _remove(temp)
        if exc.errno in _DISK_FULL:
            raise SidecarError(f"Cannot write the tags of {path}: the disk is full. Free some space and retry.", "DISK_FULL") from None
        if exc.errno in _DENIED:
            raise SidecarError(f"Cannot write the tags of {path}: permission denied ({exc.strerror}).", "PERMISSION_DENIED") from None
        raise
    except BaseException:
        _remove(temp)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; the rename is durable enough there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(path: str, bpm: float | None, key: str | None, energy: dict[str, Any] | None) -> dict[str, Any]:
    def edit(temp: str) -> dict[str, Any]:
        tags = TagFile(temp)
        wanted: dict[str, list[str]] = {}
        if bpm is not None:
            wanted["bpm"] = [bpm_text(tags.kind, bpm)]
        if key:
            wanted["key"] = [key]
        if energy:
            field = energy["field"]
            wanted[field] = with_energy(tags.get(field), int(energy["level"]))
        previous = {f: tags.get(f) for f in wanted}
        for f, v in wanted.items():
            tags.set(f, v)
        tags.save()
        return {"format": tags.kind, "previous": previous, "written": wanted}

    return atomic_edit(path, edit)


def restore(path: str, previous: dict[str, list[str] | None]) -> dict[str, Any]:
    def edit(temp: str) -> dict[str, Any]:
        tags = TagFile(temp)
        for f, v in previous.items():
            tags.set(f, v)
        tags.save()
        return {"format": tags.kind, "restored": sorted(previous)}

    return atomic_edit(path, edit)


def _path(params: dict[str, Any]) -> str:
    path = params.get("path")
    if not isinstance(path, str) or not path:
        raise BadRequestError("params.path must be a non-empty string")
    return path


def _fields(values: Any) -> dict[str, list[str] | None]:
    if not isinstance(values, dict) or any(k not in FIELDS for k in values):
        raise BadRequestError(f"params.previous must map {', '.join(FIELDS)} to a list of strings or null")
    out: dict[str, list[str] | None] = {}
    for k, v in values.items():
        if v is not None and not (isinstance(v, list) and all(isinstance(s, str) for s in v)):
            raise BadRequestError(f"params.previous.{k} must be a list of strings or null")
        out[k] = v
    return out


def tags_read(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return read(_path(params))


def tags_write(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    bpm = params.get("bpm")
    if bpm is not None and not (isinstance(bpm, (int, float)) and 0 < bpm < 1000):
        raise BadRequestError("params.bpm must be a number in (0, 1000)")
    key = params.get("key")
    if key is not None and not (isinstance(key, str) and 0 < len(key) <= 16):
        raise BadRequestError("params.key must be a short string")
    energy = params.get("energy")
    if energy is not None and not (
        isinstance(energy, dict) and energy.get("field") in ("comment", "grouping") and isinstance(energy.get("level"), int)
    ):
        raise BadRequestError("params.energy must be {field: comment|grouping, level: int}")
    return write(_path(params), bpm, key, energy)


def tags_restore(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return restore(_path(params), _fields(params.get("previous")))


OPS: dict[str, Op] = {"tags_read": tags_read, "tags_write": tags_write, "tags_restore": tags_restore}
