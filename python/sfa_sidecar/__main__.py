"""Entry point: ``python -m sfa_sidecar``. Claims stdout for the protocol, says hello, serves."""

from __future__ import annotations

import os
import sys


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this sidecar when the app that started it dies (even by
    SIGKILL), so an orphan never keeps working (or writing stems) after an app crash. Elsewhere the
    sidecar notices its stdin closing and stops at the op's next cancellation check."""
    import ctypes
    import signal

    from . import libc

    prctl = libc.function("prctl", (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong))
    if prctl is not None:
        PR_SET_PDEATHSIG = 1
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # best effort; stdin EOF still stops the sidecar


# glibc's mallopt parameters; each setting names the environment variable and the GLIBC_TUNABLES
# entry that set it instead (a user's own is kept).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MALLOC_SETTINGS = (
    # glibc gives each thread that allocates its own heap (arena); memory freed in one is not
    # reused by another. Ops run on a worker thread, torch's on its pool too, so a separation's
    # freed buffers piled up across arenas: measured on htdemucs, 30 s, 2 threads, peak RSS
    # 1323-1578 MB with the default arenas, 1254-1376 with one, at the same speed.
    (M_ARENA_MAX, 1, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
    # Blocks of 1 MiB and more (tensors, arrays) are mapped on their own and unmapped when freed.
    # By default glibc raises this bar to the largest block freed so far (up to 32 MiB), so after
    # the first chunk a separation's 11-42 MB tensors came from the heap, whose freed middle stays
    # resident: peak RSS over three 30 s htdemucs jobs 1437-1467 MB by default, 1361-1364 with
    # this (the demucs CLI: 1384), at the same speed.
    (M_MMAP_THRESHOLD, 1 << 20, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    # Free space at the heap's top beyond 4 MiB goes back to the system (fixing the bar above
    # also fixes this one, at 128 KiB: a system call on most frees).
    (M_TRIM_THRESHOLD, 4 << 20, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
)


def _malloc_settings() -> None:
    """Set glibc's allocator for a sidecar's large, short-lived buffers (Linux; elsewhere there is
    no mallopt and nothing changes). Called before the first thread starts."""
    import ctypes

    from . import libc

    mallopt = libc.function("mallopt", (ctypes.c_int, ctypes.c_int))
    if mallopt is None:
        return
    for param, value, variable, tunable in MALLOC_SETTINGS:
        if variable not in os.environ and tunable not in os.environ.get("GLIBC_TUNABLES", ""):
            mallopt(param, value)


def main() -> int:
    _die_with_parent()
    _malloc_settings()
    from .protocol import Channel

    channel = Channel.claim_stdout()
    from .jit_cache import configure

    configure()

    from . import PROTOCOL_VERSION, environment
    from .server import Server

    if "--cluster" in sys.argv:
        # The cluster driver: the same protocol, its ops run on a Ray cluster (cluster/__init__.py).
        from .cluster.driver import build

        driver, facts = build()
        ops = driver.ops()
        channel.send({"type": "hello", "protocol": PROTOCOL_VERSION, "pid": os.getpid(), "ops": sorted(ops),
                      "versions": environment.versions(), "devices": [], "cluster": facts})
        Server(channel, ops).serve()
        return 0

    from .ops import registry

    ops = registry()
    channel.send(
        {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "ops": sorted(ops),
            "versions": environment.versions(),
            "devices": environment.devices() if "--no-devices" not in sys.argv else [],
        }
    )
    Server(channel, ops).serve()
    # The replies are flushed; a thread still computing (an analysis' key stage left by a cancel,
    # an op that ignored it) must not hold the exit past the engine's grace, as the interpreter's
    # join of non-daemon threads would. (The cluster driver above exits normally: Ray's atexit.)
    Server.exit_process(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
