"""The cluster driver's ops: ``separate``, ``analyze``, ``cluster_status`` and ``ping``.

Each op validates its params the way the local op does (the same ``parse``), reads the input
files here, ships them by value to a warm actor, streams the actor's progress back, and writes
what comes back into ``outDir`` atomically. Results are the local op's result plus ``cluster``.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import BadRequestError, CancelledError, ClusterUnreachableError, FileMissingError, NodeLostError, SidecarError
from ..server import Context
from .address import ClusterAddress
from .connection import Connection, _probe_tcp, classify

POLL_S = 0.2
# An actor that no node has room for (all CPUs/GPUs taken) waits this long before the job is
# given back as CLUSTER_UNREACHABLE (the engine snoozes it without spending an attempt).
ACTOR_START_TIMEOUT_S = 180.0
# An actor holds its CPUs/GPU while it lives, even idle: one idle this long is released, so that
# the other pool's actors (separation vs analysis drivers share the cluster) can be placed.
IDLE_RELEASE_S = float(os.environ.get("SFA_CLUSTER_IDLE_S", "120"))
# Stem files the driver accepts back: the local writer's names (separation/writer.py), nothing else.
STEM_FILE = re.compile(r"[a-z][a-z0-9_]{0,40}\.(?:wav|flac|mp3)", re.ASCII)
MODEL_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(?:th|yaml|yml)", re.ASCII)
ANALYSIS_STEMS = ("drums", "bass", "other", "vocals")


def _read(path: Any, what: str = "params.path") -> tuple[str, bytes]:
    if not isinstance(path, str) or not path:
        raise BadRequestError(f"{what} must be a non-empty string")
    try:
        with open(path, "rb") as handle:
            return os.path.basename(path), handle.read()
    except FileNotFoundError:
        raise FileMissingError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise BadRequestError(f"{what} is a folder, not a file: {path}") from None
    except PermissionError:
        raise SidecarError(f"permission denied reading {path}", "PERMISSION_DENIED") from None


def _repo_files(repo: str, model: str) -> dict[str, bytes]:
    """The files of a local model repo that ``model`` needs (its yaml and the signatures it names,
    or its own .th), by name; the whole repo's model files when none match, so that the node
    gives the local op's own error for a model the repo lacks."""
    from ..separation.models import _bag_signatures  # noqa: PLC0415 - the loader's own reading

    root = Path(repo)
    if not root.is_dir():
        raise BadRequestError(f"model repo {repo} is not a folder")
    candidates = [p for p in sorted(root.iterdir()) if p.is_file() and MODEL_FILE.fullmatch(p.name)]
    if not candidates:
        raise BadRequestError(f"model repo {repo} holds no model files (*.th, *.yaml)")
    sigs = _bag_signatures(model, root) or [model]

    def wanted(p: Path) -> bool:
        if p.name == f"{model}.yaml":
            return True
        return p.suffix == ".th" and any(p.stem == sig or p.stem.startswith(f"{sig}-") for sig in sigs)

    chosen = [p for p in candidates if wanted(p)] or candidates
    return {p.name: p.read_bytes() for p in chosen}


def write_stems(out_dir: str, files: dict[str, bytes], stems: dict[str, Any]) -> dict[str, Any]:
    """Write the returned stem files atomically (all parts first, then renames), with the local
    writer's part names; refuse any name that is not a plain stem file name."""
    wanted = {}
    for stem, info in stems.items():
        name = info.get("path") if isinstance(info, dict) else None
        if not isinstance(name, str) or not STEM_FILE.fullmatch(name) or name not in files:
            raise SidecarError(f"the cluster returned an unexpected stem file name {name!r}", "INTERNAL")
        wanted[stem] = name
    if set(files) != set(wanted.values()):
        raise SidecarError(f"the cluster returned unexpected files: {sorted(set(files) - set(wanted.values()))}", "INTERNAL")
    folder = Path(out_dir)
    from ..separation.writer import write_error  # noqa: PLC0415 - the local writer's error mapping

    parts: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            part, final = folder / f".{name}.part", folder / name
            parts.append((part, final))
            with open(part, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for part, final in parts:
            os.replace(part, final)
    except OSError as exc:
        for part, _final in parts:
            part.unlink(missing_ok=True)
        raise write_error(f"cannot write stems into {out_dir}", exc) from None
    out = {}
    for stem, name in wanted.items():
        info = dict(stems[stem])
        info["path"] = str(folder / name)
        info["size"] = (folder / name).stat().st_size
        out[stem] = info
    return out


def suggested(cpus: float, gpus: float, per_actor: int) -> dict[str, int]:
    """Concurrency that fits the cluster when every driver holds one warm actor: one separation
    per GPU (each also takes 1 CPU); on a CPU-only cluster separation actors of ``per_actor``
    CPUs leave at least one CPU for analysis; analysis gets the CPUs left, at least 1."""
    cpus_i = int(cpus)
    if gpus >= 1:
        processing = int(gpus)
        return {"processing": processing, "analysis": max(1, cpus_i - processing)}
    processing = max(1, (cpus_i - 1) // per_actor) if cpus_i > per_actor else 1
    return {"processing": processing, "analysis": max(1, cpus_i - processing * per_actor)}


class Driver:
    def __init__(self, address: ClusterAddress, token: str | None, threads: int | None):
        self.address = address
        self.connection = Connection(address, token)
        self.threads = threads
        self.actors: dict[str, Any] = {}  # kind -> handle
        self.where: dict[str, dict[str, Any]] = {}  # kind -> node facts
        self.repo_refs: dict[str, Any] = {}  # digest -> [ObjectRef] of the repo's files
        self.repo_given: dict[str, set[str]] = {}  # kind -> digests its current actor has been sent
        self.repo_cache: dict[tuple, tuple[str, dict[str, bytes]]] = {}  # (repo, model, files' stat) -> (digest, files)
        self.lock = threading.RLock()  # actors/where/in_flight, shared with the idle reaper
        self.in_flight: set[str] = set()
        self.last_used: dict[str, float] = {}
        self.reaper: threading.Thread | None = None
        self.generation = 0  # the connection's generation the fields above belong to

    def _reap_idle(self) -> None:
        while True:
            time.sleep(min(5.0, IDLE_RELEASE_S))
            with self.lock:
                if not self.connection.connected:
                    continue
                for kind in list(self.actors):
                    if kind not in self.in_flight and time.monotonic() - self.last_used.get(kind, 0.0) > IDLE_RELEASE_S:
                        import ray  # noqa: PLC0415 - imported already: we are connected

                        self._drop(ray, kind)

    # ------------------------------------------------------------------------------ actors

    def _gpus(self, ray: Any) -> float:
        return float(ray.cluster_resources().get("GPU", 0))

    def _actor(self, ray: Any, kind: str) -> Any:
        if kind in self.actors:
            return self.actors[kind]
        from . import actors  # noqa: PLC0415

        if self.reaper is None:
            self.reaper = threading.Thread(target=self._reap_idle, name="sfa-actor-reaper", daemon=True)
            self.reaper.start()
        if kind == "separation":
            if self._gpus(ray) > 0:
                options = {"num_gpus": 1, "num_cpus": 1}
            else:
                options = {"num_cpus": self.threads or 1}
            handle = ray.remote(**options, max_concurrency=4)(actors.SeparationActor).remote(self.threads)
        else:
            handle = ray.remote(num_cpus=1, max_concurrency=4)(actors.AnalysisActor).remote()
        self.actors[kind] = handle
        return handle

    def _placed(self, ray: Any, kind: str, ctx: Context) -> dict[str, Any]:
        """Where the ``kind`` actor runs, once it has started (bounded; a cancel is honoured)."""
        if kind in self.where:
            return self.where[kind]
        ref = self.actors[kind].where.remote()
        deadline = time.monotonic() + ACTOR_START_TIMEOUT_S
        while not ray.wait([ref], timeout=POLL_S)[0]:
            if ctx.cancelled.is_set():
                raise CancelledError()
            if time.monotonic() > deadline:
                self._drop(ray, kind)
                raise ClusterUnreachableError(
                    f"no node of the Ray cluster at {self.address.text} had room for a {kind} actor within "
                    f"{ACTOR_START_TIMEOUT_S:.0f} s (all CPUs/GPUs busy?); the job waits and is tried again")
        self.where[kind] = ray.get(ref)
        return self.where[kind]

    def _drop(self, ray: Any, kind: str) -> None:
        handle = self.actors.pop(kind, None)
        self.where.pop(kind, None)
        self.repo_given.pop(kind, None)
        if handle is not None:
            try:
                ray.kill(handle)
            except Exception:  # noqa: BLE001 - it is dead already
                pass

    # ------------------------------------------------------------------------------ running

    def _call(self, kind: str, ctx: Context, submit) -> tuple[dict[str, Any], dict[str, Any], float]:
        """Run one job on the ``kind`` actor: (reply, where, seconds). Progress and cancel are
        relayed; Ray failures become NODE_LOST / CLUSTER_UNREACHABLE / CLUSTER_AUTH."""
        ray = self._ensure()
        try:
            ctx.check()
            with self.lock:
                self.in_flight.add(kind)
                if kind not in self.where:
                    ctx.progress(0.0, f"starting a {kind} actor on the cluster", force=True)
                actor = self._actor(ray, kind)
            where = self._placed(ray, kind, ctx)
            ctx.progress(0.0, f"running on node {where['nodeIp']} ({where['nodeId'][:8]})", force=True)
            job = uuid.uuid4().hex
            started = time.perf_counter()
            ref = submit(ray, actor, job)
            last = None
            while True:
                ready, _ = ray.wait([ref], timeout=POLL_S)
                if ready:
                    break
                if ctx.cancelled.is_set():
                    self._cancel(ray, actor, job, ref)
                    raise CancelledError()
                try:
                    snapshot = ray.get(actor.progress.remote(job), timeout=5)
                except ray.exceptions.GetTimeoutError:
                    snapshot = None
                if snapshot is not None and tuple(snapshot) != last and not ctx.cancelled.is_set():
                    last = tuple(snapshot)
                    ctx.progress(snapshot[0], snapshot[1])
            reply = ray.get(ref)
            return reply, where, time.perf_counter() - started
        except SidecarError:
            raise
        except Exception as exc:  # noqa: BLE001 - Ray's failures, typed
            error = classify(exc, self.address.text)
            if error.code == "INTERNAL" and not self._head_reachable():
                # e.g. Ray Client's "Cannot invoke RPC on closed channel" once its server is gone
                self._forget_cluster()
                raise ClusterUnreachableError(
                    f"lost the connection to the Ray cluster at {self.address.text}: its head is not reachable"
                ) from None
            if error.code == "NODE_LOST":
                self._drop(ray, kind)
                if not self._head_reachable():
                    self._forget_cluster()
                    raise ClusterUnreachableError(
                        f"lost the connection to the Ray cluster at {self.address.text}: its head is not reachable"
                    ) from None
            elif error.code == "CLUSTER_UNREACHABLE":
                self._forget_cluster()
            raise error from None
        finally:
            with self.lock:
                self.in_flight.discard(kind)
                self.last_used[kind] = time.monotonic()

    def _ensure(self) -> Any:
        """Connected ``ray``; after a reconnect (a restarted head) the actors, placements and objects
        of the old connection are forgotten: they belong to a cluster that is gone."""
        ray = self.connection.ensure()
        with self.lock:
            if self.connection.generation != self.generation:
                self.generation = self.connection.generation
                self.actors.clear()
                self.where.clear()
                self.repo_refs.clear()
                self.repo_given.clear()
        return ray

    def _forget_cluster(self) -> None:
        """The connection is gone: so are our actors and the objects we put."""
        with self.lock:
            self.connection.lost()
            self.actors.clear()
            self.where.clear()
            self.repo_refs.clear()
            self.repo_given.clear()

    def _head_reachable(self) -> bool:
        try:
            _probe_tcp(self.address)
            return True
        except ClusterUnreachableError:
            return False

    def _cancel(self, ray: Any, actor: Any, job: str, ref: Any) -> None:
        """Ask the actor to stop the job (its op notices at the next check) and cancel the Ray
        task, then answer at once: the engine kills a sidecar that takes over 1.5 s to answer a
        cancel. The actor runs one job at a time, so the next job waits there for this one to end;
        nothing of a cancelled job is ever written here."""
        try:
            actor.cancel.remote(job)
            ray.cancel(ref)
        except Exception:  # noqa: BLE001 - the task may have finished in between
            pass

    def _repo_digest(self, repo: str, model: str) -> tuple[str, dict[str, bytes]]:
        """(digest, files) of a local model repo's files for ``model``, read and hashed once while
        they are unchanged (a full-size model is ~80 MB: reading and hashing it cost every job
        ~0.3 s)."""
        root = Path(repo)
        try:
            stats = tuple(sorted((p.name, st.st_size, st.st_mtime_ns, st.st_ino)
                                 for p in root.iterdir() if MODEL_FILE.fullmatch(p.name) and (st := p.stat())))
        except OSError:
            stats = None
        key = (str(root), model, stats)
        if stats is not None and key in self.repo_cache:
            return self.repo_cache[key]
        files = _repo_files(repo, model)
        digest = hashlib.sha256(b"".join(n.encode() + b"\0" + hashlib.sha256(d).digest()
                                         for n, d in sorted(files.items()))).hexdigest()
        if stats is not None:
            self.repo_cache = {key: (digest, files)}  # the last one only: bounded memory
        return digest, files

    @staticmethod
    def _raise_reply_error(reply: dict[str, Any]) -> None:
        error = reply.get("error")
        if error:
            raise SidecarError(str(error.get("message", "cluster error")), str(error.get("code", "INTERNAL")),
                               detail=error.get("detail") if isinstance(error.get("detail"), dict) else None)

    def _reply_error_restart(self, kind: str, reply: dict[str, Any]) -> None:
        if isinstance(reply.get("error"), dict) and reply["error"].get("restart"):
            ray = self._ensure()
            self._drop(ray, kind)

    # ------------------------------------------------------------------------------ ops

    def separate(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        from ..separation import runner  # noqa: PLC0415 - the local op's validation, no torch

        t0 = time.perf_counter()
        p = runner.parse(params)
        audio_name, audio = _read(p["path"])
        repo_arg = None
        sent = len(audio)
        if p["repo"] is not None:
            repo_arg = self._repo_digest(p["repo"], p["model"])
        remote_params = {k: v for k, v in params.items() if k not in ("path", "outDir", "repo")}

        def submit(ray: Any, actor: Any, job: str) -> Any:
            nonlocal sent
            repo = None
            if repo_arg is not None:
                digest, files = repo_arg
                if digest not in self.repo_refs:
                    self.repo_refs[digest] = [ray.put(files)]
                given = self.repo_given.setdefault("separation", set())
                if digest not in given:  # the actor fetches the files once (it keeps them by digest)
                    given.add(digest)
                    sent += sum(len(d) for d in files.values())
                repo = (digest, self.repo_refs[digest])  # the ref inside a list: fetched only if needed
            return actor.separate.remote(job, remote_params, audio_name, ray.put(audio), repo)

        reply, where, seconds = self._call("separation", ctx, submit)
        self._reply_error_restart("separation", reply)
        self._raise_reply_error(reply)
        ctx.check()  # a cancel that raced the reply: nothing is written
        files = reply.get("files") or {}
        result = dict(reply["result"])
        result["stems"] = write_stems(p["outDir"], files, result["stems"])
        received = sum(len(d) for d in files.values())
        result["cluster"] = self._cluster_facts(where, seconds, reply, sent, received, time.perf_counter() - t0)
        ctx.progress(1.0, "done", force=True)
        return result

    def analyze(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        t0 = time.perf_counter()
        audio_name, audio = _read(params.get("path"))
        stems_param = params.get("stems") or {}
        if not isinstance(stems_param, dict) or any(k not in ANALYSIS_STEMS for k in stems_param):
            raise BadRequestError(f"params.stems must map some of {', '.join(ANALYSIS_STEMS)} to file paths")
        stems = {name: _read(path, f"params.stems.{name}") for name, path in stems_param.items()}
        sent = len(audio) + sum(len(d) for _, d in stems.values())
        remote_params = {k: v for k, v in params.items() if k not in ("path", "stems")}

        def submit(ray: Any, actor: Any, job: str) -> Any:
            return actor.analyze.remote(job, remote_params, audio_name, ray.put(audio), stems or None)

        reply, where, seconds = self._call("analysis", ctx, submit)
        self._raise_reply_error(reply)
        result = dict(reply["result"])
        result["cluster"] = self._cluster_facts(where, seconds, reply, sent, 0, time.perf_counter() - t0)
        return result

    @staticmethod
    def _cluster_facts(where: dict[str, Any], seconds: float, reply: dict[str, Any], sent: int, received: int,
                       total: float) -> dict[str, Any]:
        busy = float(reply.get("busySeconds") or 0.0)
        return {"nodeId": where["nodeId"], "nodeIp": where["nodeIp"], "actor": where["actor"],
                # the round trip minus the actor's own work: object-store transfers and scheduling
                "transferSeconds": round(max(0.0, seconds - busy), 4), "busySeconds": round(busy, 4),
                "totalSeconds": round(total, 4), "bytesSent": sent, "bytesReceived": received}

    def cluster_status(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        try:
            ray = self._ensure()
            nodes = [{"nodeId": n["NodeID"], "ip": n["NodeManagerAddress"], "alive": bool(n["Alive"]),
                      "cpus": float(n.get("Resources", {}).get("CPU", 0)), "gpus": float(n.get("Resources", {}).get("GPU", 0))}
                     for n in ray.nodes()]
        except SidecarError as exc:
            if params.get("probe") and exc.code in ("CLUSTER_UNREACHABLE", "CLUSTER_AUTH", "CLUSTER_NO_RAY"):
                return self._probe_answer(exc)
            raise
        except Exception as exc:  # noqa: BLE001
            self._forget_cluster()
            error = classify(exc, self.address.text)
            if error.code == "INTERNAL" and not self._head_reachable():
                error = ClusterUnreachableError(f"the Ray cluster at {self.address.text} is not reachable ({exc})")
            if params.get("probe") and error.code in ("CLUSTER_UNREACHABLE", "CLUSTER_AUTH"):
                return self._probe_answer(error)
            raise error from None
        alive = [n for n in nodes if n["alive"]]
        cpus = sum(n["cpus"] for n in alive)
        gpus = sum(n["gpus"] for n in alive)
        return {
            "address": self.address.text, "connected": True, "nodes": nodes,
            "actors": [{"kind": kind, "nodeId": self.where.get(kind, {}).get("nodeId"), "state": "alive"}
                       for kind in self.actors],
            "cpus": cpus, "gpus": gpus, "suggested": suggested(cpus, gpus, self.threads or 1),
        }

    def _probe_answer(self, exc: SidecarError) -> dict[str, Any]:
        return {"address": self.address.text, "connected": False, "error": f"{exc.code}: {exc}",
                "nodes": [], "actors": [], "cpus": 0, "gpus": 0, "suggested": {"processing": 1, "analysis": 1}}

    def ping(self, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return {"pong": True, "pid": os.getpid(), "cluster": {"address": self.address.text,
                                                              "connected": self.connection.connected}}

    def ops(self) -> dict[str, Any]:
        return {"separate": self.separate, "analyze": self.analyze, "cluster_status": self.cluster_status,
                "ping": self.ping}


class RefusedAddress:
    """The ops of a driver whose address was refused: every op answers CLUSTER_ADDRESS."""

    def __init__(self, error: SidecarError):
        self.error = error

    def ops(self) -> dict[str, Any]:
        def refuse(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
            raise self.error

        return {"separate": refuse, "analyze": refuse, "cluster_status": refuse,
                "ping": lambda params, ctx: {"pong": True, "pid": os.getpid()}}


def build(environ: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    """(ops holder, hello's cluster facts) from the environment."""
    from .address import parse  # noqa: PLC0415

    env = os.environ if environ is None else environ
    raw = env.get("SFA_RAY_ADDRESS", "")
    threads_raw = env.get("SFA_CLUSTER_THREADS")
    threads = int(threads_raw) if threads_raw and threads_raw.isdigit() and int(threads_raw) > 0 else None
    try:
        address = parse(raw)
    except SidecarError as exc:
        return RefusedAddress(exc), {"address": None, "error": str(exc)}
    token = env.get("SFA_RAY_TOKEN") or None
    return Driver(address, token, threads), {"address": address.text}


__all__ = ["Driver", "build", "write_stems", "NodeLostError"]
