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


def main() -> int:
    _die_with_parent()
    from .allocator import configure as configure_allocator

    configure_allocator()
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
