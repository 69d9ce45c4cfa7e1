"""Entry point: ``python -m sfa_sidecar``. Claims stdout for the protocol, says hello, serves."""

from __future__ import annotations

import os
import sys


def main() -> int:
    from .protocol import Channel

    channel = Channel.claim_stdout()
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "sfa", "numba"))

    from . import PROTOCOL_VERSION, environment
    from .ops import registry
    from .server import Server

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
