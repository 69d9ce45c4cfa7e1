"""The registry of operations this sidecar serves. Each op module adds itself here."""

from __future__ import annotations

import os
import time
from typing import Any

from . import audio, environment
from .errors import BadRequestError
from .server import Context, Op
from .separate import ops as _separation_ops  # separate/warm/models; torch loads lazily
from .stem_files import OPS as _stem_file_ops
from .tags import OPS as _tag_ops  # mutagen loads inside the ops


def _path_param(params: dict[str, Any]) -> str:
    path = params.get("path")
    if not isinstance(path, str) or not path:
        raise BadRequestError("params.path must be a non-empty string")
    return path


def probe(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return audio.probe(_path_param(params)).to_json()


def probe_many(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """`probe` for up to PROBE_BATCH_MAX files (an import's batch): one result or error per path, in order."""
    paths = params.get("paths")
    if not isinstance(paths, list) or not paths or len(paths) > audio.PROBE_BATCH_MAX or not all(isinstance(x, str) and x for x in paths):
        raise BadRequestError(f"params.paths must be a list of 1 to {audio.PROBE_BATCH_MAX} non-empty strings")
    return {
        "results": [
            {"error": {"code": r.code, "message": str(r)}} if isinstance(r, Exception) else {"ok": r.to_json()}
            for r in audio.probe_many(paths)
        ]
    }


def doctor(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"versions": environment.versions(), "devices": environment.devices(), "ffmpeg": audio.ffmpeg_exe()}


def ping(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Liveness check. `busySeconds` keeps the sidecar busy (diagnostics and tests of cancel and
    crash handling); with `ignoreCancel` it sleeps without looking at the cancel flag, like a
    long library call would."""
    busy = float(params.get("busySeconds", 0) or 0)
    deadline = time.monotonic() + min(busy, 600.0)
    while time.monotonic() < deadline:
        if params.get("ignoreCancel"):
            time.sleep(deadline - time.monotonic())
            break
        ctx.progress(1 - (deadline - time.monotonic()) / busy, "busy")
        time.sleep(0.02)
    return {"pong": True, "pid": os.getpid()}


def registry() -> dict[str, Op]:
    # Op modules import their heavy libraries (torch, librosa) inside the op, so that a sidecar
    # used only for probing starts fast.
    return {"probe": probe, "probe_many": probe_many, "doctor": doctor, "ping": ping, **_analysis_ops(), **_separation_ops(), **_tag_ops, **_stem_file_ops}


def _analysis_ops() -> dict[str, Op]:
    from .analyze import OPS  # analyze.py imports librosa lazily, inside the ops

    return OPS
