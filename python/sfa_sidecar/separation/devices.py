"""Choosing the compute device and thread count.

``choose_device`` is a pure function of what torch reports (``DeviceFacts``), so the selection
logic is tested without a GPU; ``device_facts`` gathers those facts from a (possibly faked) torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequestError, SidecarError

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(SidecarError):
    code = "DEVICE_UNAVAILABLE"


@dataclass
class DeviceFacts:
    torch_cuda_build: bool  # torch.version.cuda (or hip) is set: this torch can use a GPU at all
    cuda_available: bool
    cuda_name: str | None = None
    cuda_free_bytes: int | None = None
    cuda_total_bytes: int | None = None
    mps_available: bool = False
    cuda_error: str | None = None
    macos: tuple[int, ...] | None = None


def device_facts(torch: Any = None) -> DeviceFacts:
    """Ask torch (the real module unless one is given) what it can run on."""
    if torch is None:
        import torch  # noqa: PLC0415 - lazy on purpose
    version = getattr(torch, "version", None)
    cuda_build = bool(getattr(version, "cuda", None) or getattr(version, "hip", None))
    facts = DeviceFacts(torch_cuda_build=cuda_build, cuda_available=False)
    try:
        facts.cuda_available = bool(torch.cuda.is_available())
        if facts.cuda_available:
            index = torch.cuda.current_device()
            facts.cuda_name = torch.cuda.get_device_name(index)
            try:
                free, total = torch.cuda.mem_get_info(index)
                facts.cuda_free_bytes, facts.cuda_total_bytes = int(free), int(total)
            except Exception:  # noqa: BLE001 - memory info is a nicety
                pass
    except Exception as exc:  # noqa: BLE001 - a broken driver means "no CUDA", with the reason
        facts.cuda_available = False
        facts.cuda_error = f"{type(exc).__name__}: {exc}"
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    try:
        facts.mps_available = bool(mps is not None and mps.is_available())
    except Exception:  # noqa: BLE001
        facts.mps_available = False
    if facts.mps_available:
        facts.macos = macos_version()
    return facts


def cuda_memory(index: Any = None, torch: Any = None) -> list[dict[str, int]]:
    """Free and total bytes of one CUDA device now ([] without CUDA)."""
    if torch is None:
        import torch  # noqa: PLC0415
    if not torch.cuda.is_available():
        return []
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                              or not 0 <= index < torch.cuda.device_count()):
        raise BadRequestError(f"params.index must be a CUDA device index, not {index!r}")
    index = torch.cuda.current_device() if index is None else index
    free, total = torch.cuda.mem_get_info(index)
    return [{"index": int(index), "freeMemory": int(free), "totalMemory": int(total)}]


def _cuda_label(facts: DeviceFacts) -> str:
    label = f"cuda: {facts.cuda_name or 'CUDA device'}"
    if facts.cuda_free_bytes is not None:
        label += f", {facts.cuda_free_bytes / 1e9:.1f} GB free"
    return label


def _no_cuda_reason(facts: DeviceFacts) -> str:
    if not facts.torch_cuda_build:
        return "torch has no CUDA"
    if facts.cuda_error:
        return f"CUDA failed ({facts.cuda_error})"
    return "no CUDA device found"


MPS_LABEL = "mps: Apple Metal (unsupported ops fall back to the CPU)"


def choose_device(requested: str | None, facts: DeviceFacts) -> tuple[str, str]:
    """Return (device, reason). ``auto`` prefers CUDA, then Apple MPS, then the CPU."""
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise BadRequestError(f"device must be one of {', '.join(DEVICES)}, not {requested!r}")
    if requested == "cpu":
        return "cpu", "cpu: forced by the user"
    if requested == "cuda":
        if not facts.cuda_available:
            raise DeviceUnavailableError(
                f"CUDA was requested but is not available ({_no_cuda_reason(facts)}); "
                "choose 'auto' or 'cpu'",
                detail={"requested": "cuda", "reason": _no_cuda_reason(facts)},
            )
        return "cuda", _cuda_label(facts) + " (forced by the user)"
    if requested == "mps":
        if not facts.mps_available:
            raise DeviceUnavailableError(
                "Apple MPS was requested but is not available on this machine; choose 'auto' or 'cpu'",
                detail={"requested": "mps"},
            )
        return "mps", MPS_LABEL + " (forced by the user)"
    if facts.cuda_available:
        return "cuda", _cuda_label(facts)
    if facts.mps_available:
        if facts.macos is not None and facts.macos < MPS_MIN_MACOS:
            version = ".".join(str(v) for v in facts.macos)
            return "cpu", (f"cpu: MPS skipped, macOS {version} rejects htdemucs' long convolutions "
                           f"(needs {MPS_MIN_MACOS[0]}.{MPS_MIN_MACOS[1]})")
        return "mps", MPS_LABEL
    return "cpu", f"cpu: {_no_cuda_reason(facts)}"


def thread_count(threads: Any = None, cpu_count: int | None = None, concurrency: int | None = None) -> int:
    """Threads for torch: the engine's ``threads`` if given, else the CPUs shared by the sidecars."""
    if threads not in (None, 0, ""):
        try:
            n = int(threads)
        except (TypeError, ValueError):
            raise BadRequestError(f"threads must be a positive integer, not {threads!r}") from None
        if n < 1:
            raise BadRequestError(f"threads must be a positive integer, not {threads!r}")
        return n
    if cpu_count is None:
        try:
            cpu_count = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            cpu_count = os.cpu_count() or 1
    if concurrency is None:
        try:
            concurrency = int(os.environ.get("SFA_SIDECAR_CONCURRENCY", "1"))
        except ValueError:
            concurrency = 1
    return max(1, cpu_count // max(1, concurrency))


# Allocation failures inside CUDA libraries surface as RuntimeErrors with their own status names.
_OOM_MARKERS = ("out of memory", "cublas_status_alloc_failed", "cudnn_status_alloc_failed",
                "cufft_alloc_failed", "cusolver_status_alloc_failed", "hipblas_status_alloc_failed",
                "miopenstatusallocfailed")
# Errors after which the CUDA context of this process is unusable ("sticky"): every later CUDA
# call fails the same way, so the sidecar must be replaced, not retried in place.
_STICKY_MARKERS = ("illegal memory access", "device-side assert", "unspecified launch failure",
                   "misaligned address", "illegal instruction", "an illegal address",
                   "cuda error: unknown error", "context is destroyed", "launch timed out")


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA/MPS out-of-memory, whichever way torch or a CUDA library reports it."""
    try:
        import torch  # noqa: PLC0415

        oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
        if oom_type is not None and isinstance(exc, oom_type):
            return True
    except Exception:  # noqa: BLE001
        pass
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in _OOM_MARKERS)


def is_broken_context(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and any(marker in str(exc).lower() for marker in _STICKY_MARKERS)


def is_mps_unsupported(exc: BaseException, device: str) -> bool:
    """An op MPS refuses at run time (PYTORCH_ENABLE_MPS_FALLBACK only covers ops with no MPS
    kernel): e.g. a convolution output longer than 65536 on macOS before 15.1, which htdemucs'
    first time-branch layer produces for a 7.8 s segment."""
    return device == "mps" and isinstance(exc, NotImplementedError)


MPS_MIN_MACOS = (15, 1)


def macos_version(mac_ver: str | None = None) -> tuple[int, ...] | None:
    import platform  # noqa: PLC0415

    text = mac_ver if mac_ver is not None else platform.mac_ver()[0]
    try:
        return tuple(int(part) for part in text.split(".")) if text else None
    except ValueError:
        return None


class GpuContextLostError(SidecarError):
    """The CUDA context is corrupted; the sidecar exits after replying so the app starts a fresh one."""

    code = "INTERNAL"
    restart_process = True
