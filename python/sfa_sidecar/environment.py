"""What this Python environment offers: package versions and compute devices."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = ("torch", "demucs", "librosa", "numpy", "soundfile", "imageio-ffmpeg", "spotdl", "yt-dlp")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def devices() -> list[dict]:
    """CPU always; CUDA devices with name and total memory; Apple MPS when torch offers it.

    No ``mem_get_info`` here: it creates a CUDA context (hundreds of MB) on every GPU it asks,
    in every sidecar, even those that only probe files. Free memory is asked for when a GPU job
    is about to start (the ``gpu_memory`` op)."""
    found: list[dict] = [{"type": "cpu", "name": platform.processor() or platform.machine()}]
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - a broken torch is reported, not fatal
        found[0]["detail"] = f"torch unavailable: {exc}"
        return found
    try:
        if torch.cuda.is_available():
            for index in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(index)
                found.append({"type": "cuda", "index": index, "name": props.name, "totalMemory": int(props.total_memory)})
    except Exception as exc:  # noqa: BLE001
        print(f"cuda query failed: {exc}", file=sys.stderr)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append({"type": "mps", "name": "Apple Metal"})
    return found
