"""Stems for DJ software: NI Stems files (`.stem.mp4`) and plain per-stem audio files.

An NI Stems file is an MP4 with five audio tracks in a fixed order: the mix (the only track
enabled, so any player plays it), then drums, bass, other, vocals. A `stem` box in `moov/udta`
holds JSON naming and colouring the four stems plus the mastering block Traktor applies on
playback (NI's Stems specification; the same defaults stempeg ships). We encode with the bundled
ffmpeg (AAC 256 kbps, or ALAC), put BPM and key in the iTunes tags with mutagen, and add the
`stem` box with our own small atom writer. Everything happens on a temporary file in the target
folder, renamed to the final name only when complete.

Six-stem models fold into the four: guitar and piano (and any stem not named drums, bass or
vocals) are mixed into "other".
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .audio import ffmpeg_exe, probe
from .errors import BadRequestError, FileMissingError
from .separation.writer import write_error
from .server import Context, Op
from .tags import TagFile

NI_ORDER = ("drums", "bass", "other", "vocals")
NI_COLOURS = {"drums": "#009E73", "bass": "#D55E00", "other": "#CC79A7", "vocals": "#56B4E9"}
# NI's mastering defaults (compressor and limiter off): playback sounds like the stems as written.
MASTERING_DSP = {
    "compressor": {
        "enabled": False, "ratio": 3, "output_gain": 0.5, "release": 0.3, "attack": 0.003,
        "input_gain": 0.5, "threshold": 0, "hp_cutoff": 300, "dry_wet": 50,
    },
    "limiter": {"enabled": False, "release": 0.05, "threshold": 0, "ceiling": -0.35},
}
SAMPLE_RATE = 44100
CODECS = {"aac": ["-c:a", "aac", "-b:a", "256k"], "alac": ["-c:a", "alac"]}
SAMPLE_FORMATS = {"aac": "fltp", "alac": "s16p"}
PLAIN = {"wav": ["-c:a", "pcm_s16le"], "flac": ["-c:a", "flac"], "mp3": ["-c:a", "libmp3lame", "-b:a", "320k"]}


def stem_metadata() -> dict[str, Any]:
    return {"version": 1, "mastering_dsp": MASTERING_DSP, "stems": [{"name": n, "color": NI_COLOURS[n]} for n in NI_ORDER]}


def fold(stems: dict[str, str]) -> dict[str, list[str]]:
    """The four NI stems from any stem set: drums, bass and vocals as they are, the rest into other."""
    missing = [n for n in ("drums", "bass", "vocals") if n not in stems]
    if missing:
        raise BadRequestError(
            f"NI Stems need drums, bass, other and vocals; these stems ({', '.join(sorted(stems))}) lack {', '.join(missing)}. "
            "Separate with a four- or six-stem model (htdemucs, htdemucs_6s)."
        )
    parts = {n: [stems[n]] for n in ("drums", "bass", "vocals")}
    parts["other"] = [p for n, p in sorted(stems.items()) if n not in parts]
    return {n: parts[n] for n in NI_ORDER}


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the boxes in data[start:end]."""
    out = []
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8 : i + 16])[0]
        elif size == 0:
            size = end - i
        if size < 8 or i + size > end:
            raise ValueError(f"damaged MP4 box {kind!r} at {i}")
        out.append((kind, i, size))
        i += size
    return out


def add_udta_box(path: str, kind: bytes, payload: bytes) -> None:
    """Put a `kind` box (replacing one of that type) into moov/udta. The moov box must be the file's
    last box, as ffmpeg writes it without faststart: growing it then moves no sample data, so no
    chunk offset changes."""
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        top: list[tuple[bytes, int, int]] = []
        at = 0
        while at < size:
            f.seek(at)
            head = f.read(16)
            box_size, box_kind = struct.unpack(">I4s", head[:8])
            if box_size == 1:
                box_size = struct.unpack(">Q", head[8:16])[0]
            elif box_size == 0:
                box_size = size - at
            top.append((box_kind, at, box_size))
            at += box_size
        moov = [b for b in top if b[0] == b"moov"]
        if len(moov) != 1 or top[-1][0] != b"moov":
            raise ValueError("the MP4 must end with its moov box")
        _, offset, moov_size = moov[0]
        f.seek(offset)
        data = f.read(moov_size)
        parts = []
        udta_done = False
        for child_kind, child_at, child_size in _children(data, 8, len(data)):
            child = data[child_at : child_at + child_size]
            if child_kind == b"udta":
                inner = [data[a : a + s] for k, a, s in _children(data, child_at + 8, child_at + child_size) if k != kind]
                child = _box(b"udta", b"".join(inner) + _box(kind, payload))
                udta_done = True
            parts.append(child)
        if not udta_done:
            parts.append(_box(b"udta", _box(kind, payload)))
        f.seek(offset)
        f.write(_box(b"moov", b"".join(parts)))
        f.truncate()


def _existing(path: Any, what: str) -> str:
    if not isinstance(path, str) or not path:
        raise BadRequestError(f"{what} must be a file path")
    if not Path(path).is_file():
        raise FileMissingError(f"{what} is missing: {path} (moved or deleted).")
    return os.path.abspath(path)


def _temp_beside(target: Path, suffix: str) -> str:
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name[:60]}.", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise write_error(f"cannot write into {target.parent}", exc) from None
    os.close(fd)
    return temp


def _ffmpeg(args: list[str], target: Path) -> None:
    done = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], capture_output=True, text=True)
    if done.returncode != 0:
        text = done.stderr.strip()[-600:]
        if "No space left" in text:
            raise write_error(f"cannot write {target}", OSError(28, "No space left on device"))
        if "Permission denied" in text or "Read-only file system" in text:
            raise write_error(f"cannot write {target}", OSError(13, "Permission denied"))
        raise BadRequestError(f"ffmpeg could not write {target.name}: {text}")


@contextmanager
def _written_atomically(target: Path, suffix: str) -> Iterator[str]:
    """A temporary file beside `target` for the body to write; fsynced and renamed over `target`
    when the body succeeds, removed whatever happens, so no partial file is left under the final name."""
    temp = _temp_beside(target, suffix)
    try:
        yield temp
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except OSError as exc:
        raise write_error(f"cannot write {target}", exc) from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def write_stem_mp4(mix: str, stems: dict[str, str], out: str, codec: str = "aac", tags: dict[str, Any] | None = None) -> dict[str, Any]:
    if codec not in CODECS:
        raise BadRequestError(f"codec must be one of {', '.join(CODECS)}")
    target = Path(out).resolve()
    parts = fold({n: _existing(p, f"the {n} stem") for n, p in stems.items()})
    inputs = [_existing(mix, "the mix")] + [p for n in NI_ORDER for p in parts[n]]
    duration = probe(inputs[0]).duration
    if not duration:
        raise BadRequestError(f"cannot tell the length of {mix}")
    samples = int(round(duration * SAMPLE_RATE))
    fmt = SAMPLE_FORMATS[codec]
    # Every stream resampled to 44.1 kHz stereo and padded or cut to the mix's exact length.
    shape = f"aresample={SAMPLE_RATE},aformat=sample_fmts={fmt}:channel_layouts=stereo,apad=whole_len={samples},atrim=end_sample={samples}"
    graph = [f"[0:a]{shape}[s0]"]
    index = 1
    for i, name in enumerate(NI_ORDER, start=1):
        labels = "".join(f"[{index + k}:a]" for k in range(len(parts[name])))
        mixed = f"amix=inputs={len(parts[name])}:normalize=0:duration=longest," if len(parts[name]) > 1 else ""
        graph.append(f"{labels}{mixed}{shape}[s{i}]")
        index += len(parts[name])
    args: list[str] = []
    for p in inputs:
        args += ["-i", p]
    args += ["-filter_complex", ";".join(graph)]
    for i in range(5):
        args += ["-map", f"[s{i}]"]
    args += CODECS[codec]
    args += ["-disposition:a:0", "default"] + [a for i in range(1, 5) for a in (f"-disposition:a:{i}", "0")]
    for i, name in enumerate(("mix",) + NI_ORDER):
        args += [f"-metadata:s:a:{i}", f"handler_name={name}"]
    args += ["-map_metadata", "-1", "-brand", "M4A ", "-f", "mp4"]
    with _written_atomically(target, ".part.mp4") as temp:
        _ffmpeg([*args, temp], target)
        _tag(temp, tags or {})
        add_udta_box(temp, b"stem", json.dumps(stem_metadata()).encode("utf-8"))
    return {"file": str(target), "streams": 5, "samples": samples, "sampleRate": SAMPLE_RATE, "folded": {n: len(parts[n]) for n in NI_ORDER}}


def _tag(path: str, tags: dict[str, Any]) -> None:
    from mutagen.mp4 import MP4

    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    for key, atom in (("title", "\xa9nam"), ("artist", "\xa9ART"), ("album", "\xa9alb")):
        if tags.get(key):
            audio.tags[atom] = [str(tags[key])]
    audio.save()
    file = TagFile(path)
    if isinstance(tags.get("bpm"), (int, float)):
        file.set("bpm", [str(tags["bpm"])])
    if tags.get("key"):
        file.set("key", [str(tags["key"])])
    file.save()


def write_plain(stems: dict[str, str], folder: str, base: str, fmt: str) -> list[str]:
    if fmt not in PLAIN:
        raise BadRequestError(f"format must be one of {', '.join(PLAIN)}")
    out = []
    for name, path in sorted(stems.items()):
        source = _existing(path, f"the {name} stem")
        target = (Path(folder) / f"{base} - {name}.{fmt}").resolve()
        with _written_atomically(target, f".part.{fmt}") as temp:
            _ffmpeg(["-i", source, "-map", "0:a", *PLAIN[fmt], "-f", fmt, temp], target)
        out.append(str(target))
    return out


def _stems_param(params: dict[str, Any]) -> dict[str, str]:
    stems = params.get("stems")
    if not isinstance(stems, dict) or not stems or not all(isinstance(k, str) and isinstance(v, str) for k, v in stems.items()):
        raise BadRequestError("params.stems must map stem names to file paths")
    return stems


def stems_mp4(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    out = params.get("out")
    if not isinstance(out, str) or not out.endswith(".stem.mp4"):
        raise BadRequestError("params.out must be a path ending in .stem.mp4")
    return write_stem_mp4(params.get("mix"), _stems_param(params), out, params.get("codec", "aac"), params.get("tags"))


def stems_plain(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    folder, base = params.get("dir"), params.get("base")
    if not isinstance(folder, str) or not isinstance(base, str) or not base or "/" in base or "\\" in base:
        raise BadRequestError("params.dir must be a folder and params.base a file name without folders")
    return {"files": write_plain(_stems_param(params), folder, base, params.get("format", "wav"))}


OPS: dict[str, Op] = {"stems_mp4": stems_mp4, "stems_plain": stems_plain}
