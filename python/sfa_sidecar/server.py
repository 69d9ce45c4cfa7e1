"""The request loop: one reader thread for control messages, one worker thread for ops.

Requests run one at a time, in arrival order, on the worker thread, so models and JIT caches
stay warm between them. The reader keeps reading while an op runs, so a ``cancel`` or a
``shutdown`` is seen at once; ops notice a cancel at their next ``ctx.check()`` or progress
report. The engine runs several sidecars when it wants parallelism.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import BadRequestError, CancelledError, SidecarError
from .protocol import Channel

Op = Callable[[dict[str, Any], "Context"], dict[str, Any]]


@dataclass
class Context:
    """What an op gets besides its params: progress reporting and cancellation."""

    request_id: str
    channel: Channel
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Housekeeping that must not delay the reply (e.g. handing freed memory back): run by the
    # server once the result or error has been sent.
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    _last_progress: float = 0.0
    _last_fraction: float = -1.0

    def check(self) -> None:
        if self.cancelled.is_set():
            raise CancelledError()

    def progress(self, fraction: float, message: str = "", force: bool = False) -> None:
        """Report progress in [0, 1]; throttled to ~10 messages per second, never backwards."""
        self.check()
        fraction = max(0.0, min(1.0, float(fraction)))
        if fraction < self._last_fraction:
            fraction = self._last_fraction
        now = time.monotonic()
        if not force and now - self._last_progress < 0.1 and fraction < 1.0:
            return
        self._last_progress = now
        self._last_fraction = fraction
        self.channel.send({"type": "progress", "id": self.request_id, "fraction": fraction, "message": message})


class Server:
    def __init__(self, channel: Channel, ops: dict[str, Op]):
        self.channel = channel
        self.ops = ops
        self.pending: "queue.Queue[dict[str, Any] | None]" = queue.Queue()
        self.contexts: dict[str, Context] = {}
        self.lock = threading.Lock()

    RESTART_EXIT_CODE = 75

    # How long shutdown (or stdin EOF) waits for the running op to notice its cancel. The engine
    # kills a sidecar that has not exited 2 s after asking (src/main/sidecar/client.mjs,
    # shutdown(graceMs = 2000)): waiting less leaves time to flush and exit on our own, so the
    # replies already sent are not cut off. An op that ignores its cancel is abandoned, and the
    # caller exits through exit_process, which does not join threads.
    SHUTDOWN_WAIT_S = 1.5

    @staticmethod
    def exit_process(code: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def serve(self, stdin=None) -> None:
        stdin = stdin or sys.stdin
        worker = threading.Thread(target=self._work, name="sfa-worker", daemon=True)
        worker.start()
        for line in stdin:
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
                if not isinstance(message, dict):
                    raise ValueError("a message must be a JSON object")
            except ValueError as exc:
                self.channel.send(_error(None, BadRequestError(f"unreadable message: {exc}")))
                continue
            kind = message.get("type")
            if kind == "request":
                request_id = str(message.get("id", ""))
                if not request_id:
                    self.channel.send(_error(None, BadRequestError("a request needs an id")))
                    continue
                with self.lock:
                    self.contexts[request_id] = Context(request_id, self.channel)
                self.pending.put(message)
            elif kind == "cancel":
                with self.lock:
                    ctx = self.contexts.get(str(message.get("id")))
                if ctx:
                    ctx.cancelled.set()
            elif kind == "shutdown":
                break
            else:
                self.channel.send(_error(None, BadRequestError(f"unknown message type: {kind!r}")))
        # stdin closed or shutdown: cancel the running op and queued work, give the op a moment
        # to notice (its error reply goes out), then leave it.
        with self.lock:
            for ctx in self.contexts.values():
                ctx.cancelled.set()
        self.pending.put(None)
        worker.join(timeout=self.SHUTDOWN_WAIT_S)

    def _work(self) -> None:
        while True:
            message = self.pending.get()
            if message is None:
                return
            request_id = str(message["id"])
            with self.lock:
                ctx = self.contexts[request_id]
            try:
                ctx.check()
                op = self.ops.get(str(message.get("op")))
                if op is None:
                    raise BadRequestError(f"unknown op {message.get('op')!r}; known: {', '.join(sorted(self.ops))}")
                params = message.get("params") or {}
                if not isinstance(params, dict):
                    raise BadRequestError("params must be an object")
                result = op(params, ctx)
                self.channel.send({"type": "result", "id": request_id, "result": result})
            except SidecarError as exc:
                self.channel.send(_error(request_id, exc))
                if getattr(exc, "restart_process", False):
                    # This process is unusable (e.g. a corrupted CUDA context): having replied,
                    # exit so that the pool starts a fresh sidecar for the next request.
                    self.exit_process(self.RESTART_EXIT_CODE)
            except MemoryError:
                self.channel.send(_error(request_id, SidecarError("out of memory", "OUT_OF_MEMORY")))
            except Exception as exc:  # noqa: BLE001 - any library failure becomes a typed reply
                traceback.print_exc(file=sys.stderr)
                self.channel.send(
                    _error(request_id, SidecarError(f"{type(exc).__name__}: {exc}", "INTERNAL"))
                )
            finally:
                with self.lock:
                    self.contexts.pop(request_id, None)
                for housekeeping in ctx.after_reply:
                    try:
                        housekeeping()
                    except Exception:  # noqa: BLE001 - the reply is out; the next request must still run
                        traceback.print_exc(file=sys.stderr)


def _error(request_id: str | None, exc: SidecarError) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "code": exc.code, "message": str(exc), "detail": exc.detail}
