"""What runs on the cluster: the separation and analysis actors.

Each actor is a long-lived Ray actor process on some node, holding its models warm between jobs
(the same ``separation/runner.py`` and ``analyze.py`` a local sidecar runs: not a second
implementation). A job arrives as data: the audio file's bytes (through Ray's object store), the
params, and, for a model from a local repo, the repo's files (sent once per actor, kept by content
digest). The actor writes them to its own temp folder, runs the op there, and returns data only:
the op's result (paths made relative) and the stem files' bytes. Errors raised by our own code
come back as ``{"error": {code, message, detail}}`` so their code survives the trip unchanged.

The actors are threaded (``max_concurrency``): while ``separate``/``analyze`` runs on one thread,
the driver's ``progress`` polls and ``cancel`` calls are served on the others. A job's context
is the sidecar's ``Context`` contract (``progress``/``check``) over an Event and a snapshot.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .. import jit_cache
from ..errors import CancelledError, SidecarError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}", re.ASCII)


class JobContext:
    """The op's view of one job: cancellation and the latest progress (read by ``progress``)."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.fraction = 0.0
        self.message = ""
        self.lock = threading.Lock()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise CancelledError()

    def progress(self, fraction: float, message: str = "", force: bool = False) -> None:
        self.check()
        with self.lock:
            self.fraction = max(self.fraction, max(0.0, min(1.0, float(fraction))))
            self.message = message

    def snapshot(self) -> tuple[float, str]:
        with self.lock:
            return self.fraction, self.message


def _safe_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def error_reply(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SidecarError):
        return {"error": {"code": exc.code, "message": str(exc), "detail": exc.detail,
                          "restart": bool(getattr(exc, "restart_process", False))}}
    if isinstance(exc, MemoryError):
        return {"error": {"code": "OUT_OF_MEMORY", "message": "out of memory on the cluster node", "detail": {}}}
    return {"error": {"code": "INTERNAL", "message": f"{type(exc).__name__}: {exc}", "detail": {}}}


class _Base:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sfa-cluster-"))
        self.jobs: dict[str, JobContext] = {}
        self.lock = threading.Lock()
        # One job at a time: the driver answers a cancel at once, and the next job waits here
        # until the cancelled one has reached its next check and let go.
        self.busy = threading.Lock()
        jit_cache.configure()

    def where(self) -> dict[str, Any]:
        import ray  # noqa: PLC0415

        context = ray.get_runtime_context()
        node_id = context.get_node_id()
        ip = next((n["NodeManagerAddress"] for n in ray.nodes() if n["NodeID"] == node_id), None)
        return {"nodeId": node_id, "nodeIp": ip, "actor": context.get_actor_id(), "pid": os.getpid()}

    def progress(self, job: str) -> tuple[float, str] | None:
        ctx = self.jobs.get(job)
        return ctx.snapshot() if ctx else None

    def cancel(self, job: str) -> bool:
        ctx = self.jobs.get(job)
        if ctx:
            ctx.cancelled.set()
        return ctx is not None

    def _run(self, job: str, body) -> dict[str, Any]:
        ctx = JobContext()
        with self.lock:
            self.jobs[job] = ctx
        with self.busy:
            work = Path(tempfile.mkdtemp(prefix="job-", dir=self.root))
            started = time.perf_counter()
            try:
                ctx.check()
                reply = body(ctx, work)
            except BaseException as exc:  # noqa: BLE001 - every failure travels back as data
                reply = error_reply(exc)
            finally:
                shutil.rmtree(work, ignore_errors=True)
                with self.lock:
                    self.jobs.pop(job, None)
        reply["busySeconds"] = time.perf_counter() - started
        return reply

    @staticmethod
    def _write_input(work: Path, name: str, stem: str, data: bytes) -> str:
        path = work / f"{stem}{_safe_suffix(name)}"
        path.write_bytes(data)
        return str(path)


class SeparationActor(_Base):
    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self.threads = threads
        self.repos: dict[str, str] = {}

    def _repo(self, digest: str, files_ref: list) -> str:
        """A model repo's files, unpacked once per actor under its digest."""
        if digest not in self.repos:
            import ray  # noqa: PLC0415

            files: dict[str, bytes] = ray.get(files_ref[0])
            folder = self.root / f"repo-{digest[:16]}"
            folder.mkdir(exist_ok=True)
            for name, data in files.items():
                if not SAFE_NAME.fullmatch(name):
                    raise SidecarError(f"refused model file name {name!r}", "BAD_REQUEST")
                (folder / name).write_bytes(data)
            self.repos[digest] = str(folder)
        return self.repos[digest]

    def separate(self, job: str, params: dict[str, Any], audio_name: str, audio: bytes,
                 repo: tuple[str, list] | None = None) -> dict[str, Any]:
        def body(ctx: JobContext, work: Path) -> dict[str, Any]:
            from ..separation import runner  # noqa: PLC0415 - torch loads here, on the node

            local = dict(params)
            local["path"] = self._write_input(work, audio_name, "input", audio)
            local["outDir"] = str(work / "out")
            if repo is not None:
                local["repo"] = self._repo(repo[0], repo[1])
            if local.get("threads") is None and self.threads:
                local["threads"] = self.threads
            result = runner.run(local, ctx)
            files: dict[str, bytes] = {}
            for info in result["stems"].values():
                path = Path(info["path"])
                files[path.name] = path.read_bytes()
                info["path"] = path.name
            return {"result": result, "files": files}

        return self._run(job, body)


class AnalysisActor(_Base):
    def analyze(self, job: str, params: dict[str, Any], audio_name: str, audio: bytes,
                stems: dict[str, tuple[str, bytes]] | None = None) -> dict[str, Any]:
        def body(ctx: JobContext, work: Path) -> dict[str, Any]:
            from .. import analyze  # noqa: PLC0415

            local = dict(params)
            local["path"] = self._write_input(work, audio_name, "input", audio)
            if stems:
                local["stems"] = {stem: self._write_input(work, name, f"stem-{stem}", data)
                                  for stem, (name, data) in stems.items()}
            return {"result": analyze.run(local, ctx)}

        return self._run(job, body)
