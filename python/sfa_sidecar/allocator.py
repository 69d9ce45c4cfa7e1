"""glibc's allocator, set for the sidecar's work (Linux; elsewhere there is no mallopt and nothing
changes). A user's own MALLOC_* variables or GLIBC_TUNABLES entries are kept."""

from __future__ import annotations

import ctypes
import os

from . import libc

# glibc's mallopt parameters
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8

# Blocks of at least this size are mapped on their own and unmapped when freed. By default
# glibc moves its bar up to the largest block freed (up to 32 MiB), so a separation's 11-42 MB
# tensors came from the heap after the first, whose freed middle stays resident: peak RSS over
# 30 s htdemucs jobs on OpenVINO's path 1437-1467 MB by default, 1333-1366 at 1 MiB (the demucs
# CLI: 1254-1384), at the same speed; so is analysis.
MMAP_THRESHOLD = 1 << 20
# Except while eager PyTorch computes: its forward allocates and frees hundreds of MB of 1-32 MB
# activations per chunk, and mapped anew each time (page faults, unmaps) its chunks took 1.4-1.8x
# as long (the exact path's compute, 30 s htdemucs: 35-38 s against 20-27 s). 32 MiB is where
# glibc's own bar settles after the first chunk: its default speed.
TORCH_MMAP_THRESHOLD = 32 << 20
# What each setting's user override is called: the variable, then the GLIBC_TUNABLES entry.
_OVERRIDES = {
    M_ARENA_MAX: ("MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
    M_MMAP_THRESHOLD: ("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    M_TRIM_THRESHOLD: ("MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
}
_mmap_threshold: list[int] = []  # the value set last (mallopt cannot be read back)


def _set(param: int, value: int) -> bool:
    variable, tunable = _OVERRIDES[param]
    if variable in os.environ or tunable in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    mallopt = libc.function("mallopt", (ctypes.c_int, ctypes.c_int))
    return mallopt is not None and mallopt(param, value) == 1


def configure() -> None:
    """At the sidecar's start, before its first thread."""
    # glibc gives each thread that allocates its own heap (arena); memory freed in one is not
    # reused by another. Ops run on a worker thread, torch's on its pool too, so a separation's
    # freed buffers piled up across arenas: measured on htdemucs, 30 s, 2 threads, peak RSS
    # 1323-1578 MB with the default arenas, 1254-1376 with one, at the same speed.
    _set(M_ARENA_MAX, 1)
    # Free space at the heap's top beyond 4 MiB goes back to the system (a fixed mapping bar
    # leaves this one at glibc's 128 KiB: a system call on most frees).
    _set(M_TRIM_THRESHOLD, 4 << 20)
    for_runtime("")


def for_runtime(runtime: str) -> None:
    """The mapping bar for what computes next: "torch" (eager PyTorch's chunks) or anything else
    (OpenVINO's chunks, loading, writing, analysis)."""
    value = TORCH_MMAP_THRESHOLD if runtime == "torch" else MMAP_THRESHOLD
    if _mmap_threshold[-1:] != [value] and _set(M_MMAP_THRESHOLD, value):
        _mmap_threshold[:] = [value]
