"""The JSON-lines protocol between the engine and this sidecar.

Every message is one JSON object on one line; protocol.json lists each message's fields (the
engine's src/main/sidecar/protocol.ts is checked against the same file).

Engine -> sidecar:
  {"type": "request", "id": "r1", "op": "probe", "params": {...}}
  {"type": "cancel", "id": "r1"}          cancels request r1 (its op raises CancelledError)
  {"type": "shutdown"}                    finish the current request, then exit 0

Sidecar -> engine:
  {"type": "hello", "protocol": 1, "pid": 123, "versions": {...}, "devices": [...]}
  {"type": "progress", "id": "r1", "fraction": 0.42, "message": "chunk 3/8"}     fraction in [0, 1]
  {"type": "result", "id": "r1", "result": {...}}
  {"type": "error", "id": "r1" | null, "code": "NOT_AUDIO", "message": "...", "detail": {...}}

The protocol owns the process's real stdout. Everything else that writes to fd 1 (library
prints, C extensions, progress bars) is redirected to stderr before any library is imported,
so it can never corrupt the stream.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, TextIO


class Channel:
    """Writes protocol messages to a private copy of the original stdout, one line at a time."""

    def __init__(self, out: TextIO):
        self._out = out
        self._lock = threading.Lock()

    @classmethod
    def claim_stdout(cls) -> "Channel":
        # Keep the real stdout for the protocol, then point fd 1 at stderr so that anything a
        # library prints (Python or C level) lands in the log, not in the JSON stream.
        sys.stdout.flush()
        proto_fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(os.fdopen(proto_fd, "w", encoding="utf-8", buffering=1))

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":"), allow_nan=False, default=_jsonable)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


def _jsonable(value: Any) -> Any:
    # numpy scalars and arrays reach us from librosa; convert instead of failing the reply.
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
