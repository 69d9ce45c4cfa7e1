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
    """CPU always; CUDA devices with name and memory; Apple MPS when torch offers it."""
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
                free, total = torch.cuda.mem_get_info(index)
                found.append(
                    {"type": "cuda", "index": index, "name": props.name, "totalMemory": total, "freeMemory": free}
                )
    except Exception as exc:  # noqa: BLE001
        print(f"cuda query failed: {exc}", file=sys.stderr)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append({"type": "mps", "name": "Apple Metal"})
    return found
