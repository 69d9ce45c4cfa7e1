"""A loopback Ray cluster for tests and benchmarks: ``python -m sfa_sidecar.cluster.local CMD``.

Subcommands (each prints one JSON line on stdout):
  up --dir D [--workers 2] [--cpus 1] [--port P] [--token T] [--object-store-mb 200]
  kill-worker --dir D --index I     SIGKILL one worker node (raylet, agents, its Ray workers)
  add-worker --dir D                one more worker node
  stop-head --dir D                 the whole cluster down (Ray workers cannot rejoin a new head
                                    without GCS fault tolerance), state kept
  start-head --dir D [--workers N]  the same address (and token) back, with the workers `up` and
                                    `add-worker` asked for (killed ones come back too), or N
  down --dir D                      everything stopped and the Ray temp dir removed (idempotent)

Every node is ``ray start --block`` in its own session (process group), so one ``killpg`` ends
that node's raylet, agents and Ray worker processes together and nothing is orphaned. Every node
binds to 127.0.0.1 (``--node-ip-address``; a driver must pin ``_node_ip_address`` too: left to
defaults it looks for its node at the interface address and hangs), the dashboard is off, usage
stats are off, and every port is chosen free on 127.0.0.1 (several clusters can run at once).

The head has 0 CPUs, so all actors land on the worker nodes (a killed worker really takes its
actor with it); the head's raylet is still where a local driver attaches. Node death is noticed
in about 2 s (health check every 500 ms, 4 misses) instead of Ray's default ~15 s.

State (ports, pids, token) lives in ``D/cluster.json`` (mode 600: it holds the token); Ray's temp
dir is a short path under /tmp (Unix socket paths are limited to ~107 characters).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
START_TIMEOUT_S = 240.0
FAST_FAILURE_ENV = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "4",
    "RAY_health_check_initial_delay_ms": "0",
    # a raylet waits this long for its dashboard agent's port file, then aborts: at load 20 on 2
    # cores the agent can take longer than the default
    "RAY_agent_register_timeout_ms": "120000",
}


# `ray start --node-ip-address 127.0.0.1` is rewritten to the interface address by
# ray._private.services.resolve_ip_for_localhost (Ray 2.60), so the nodes would advertise (and bind
# to) the LAN address. The launcher keeps loopback as given; the driver does the same
# (connection.py). Processes Ray spawns itself (the Ray Client server's per-client driver, Ray
# workers) resolve "the node's address" through get_node_ip_address(), which answers 127.0.0.1
# when RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (set in ray_env); that flag would also make `ray start`
# refuse to add a worker node, so the launcher itself sets it back on.
LAUNCHER = (
    "import sys, ray._private.services as s, ray._private.ray_constants as c\n"
    "c.ENABLE_RAY_CLUSTER = True\n"
    "_resolve = s.resolve_ip_for_localhost\n"
    "s.resolve_ip_for_localhost = lambda host: host if host == '127.0.0.1' else _resolve(host)\n"
    # Ray gives a starting node 30 s (fixed, node.py) to appear in the GCS; on a loaded machine
    # that is too short, so the launcher's lookup keeps trying for up to 4 minutes instead.
    "import time\n"
    "_get_node = s.get_node\n"
    "def _patient_get_node(*a, **k):\n"
    "    deadline = time.monotonic() + 240\n"
    "    while True:\n"
    "        try:\n"
    "            return _get_node(*a, **k)\n"
    "        except RuntimeError:\n"
    "            if time.monotonic() > deadline:\n"
    "                raise\n"
    "            time.sleep(1)\n"
    "s.get_node = _patient_get_node\n"
    # A starting raylet waits a FIXED 15 s (Ray 2.60; RAY_agent_register_timeout_ms does not apply)
    # for its dashboard agent to write three port files, and aborts when the agent misses it, which
    # a Python agent starting on a loaded 2-core machine does (measured: 40 s). The test cluster
    # runs no dashboard, no metrics export and no agent HTTP server (the minimal agent writes -1 to
    # all three), so the launcher writes those -1s itself, with Ray's own writer, before the raylet
    # starts; the runtime-env agent (needed: py_modules) keeps its own, configurable wait.
    "import inspect\n"
    "from ray._raylet import persist_port, DASHBOARD_AGENT_LISTEN_PORT_NAME, METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME\n"
    "_start_raylet = s.start_raylet\n"
    "def _start_raylet_without_agent_wait(*a, **k):\n"
    "    given = inspect.signature(_start_raylet).bind(*a, **k).arguments\n"
    "    for name in (DASHBOARD_AGENT_LISTEN_PORT_NAME, METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME):\n"
    "        persist_port(given['session_dir'], given['node_id'], name, -1)\n"
    "    return _start_raylet(*a, **k)\n"
    "s.start_raylet = _start_raylet_without_agent_wait\n"
    "from ray.scripts.scripts import main\n"
    "sys.argv[0] = 'ray'\n"
    "main()\n"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _state_path(d: Path) -> Path:
    return d / "cluster.json"


def _load(d: Path) -> dict[str, Any]:
    path = _state_path(d)
    if not path.is_file():
        raise SystemExit(f"no cluster state in {path}: run `up` first")
    return json.loads(path.read_text(encoding="utf-8"))


def _save(d: Path, state: dict[str, Any]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    tmp = _state_path(d).with_suffix(".json.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)
    os.replace(tmp, _state_path(d))


def ray_env(token: str | None) -> dict[str, str]:
    """The environment every node (and a test's driver) runs with."""
    env = dict(os.environ)
    env.update(FAST_FAILURE_ENV)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback for the processes Ray spawns (LAUNCHER)
    env.pop("RAY_ADDRESS", None)
    for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(key, None)
    # Explicit either way: with RAY_AUTH_MODE unset, Ray turns token mode on by itself when it
    # finds ~/.ray/auth_token, which would make the test cluster depend on the user's home.
    env["RAY_AUTH_MODE"] = "token" if token else "disabled"
    if token:
        env["RAY_AUTH_TOKEN"] = token
    return env


def _common_args(name: str, cpus: int, object_store_mb: int) -> list[str]:
    return ["--block", "--node-ip-address", HOST, "--node-name", name, "--num-cpus", str(cpus),
            "--num-gpus", "0", "--object-store-memory", str(object_store_mb * 1024 * 1024),
            "--disable-usage-stats", "--dashboard-agent-listen-port", str(_free_port()),
            "--dashboard-agent-grpc-port", str(_free_port()), "--runtime-env-agent-port", str(_free_port()),
            "--metrics-export-port", str(_free_port()), "--node-manager-port", str(_free_port()),
            "--object-manager-port", str(_free_port()), "--min-worker-port", "0", "--max-worker-port", "0"]


def _spawn(d: Path, name: str, args: list[str], token: str | None) -> int:
    log = open(d / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "start", *args], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env=ray_env(token), start_new_session=True)
    log.close()
    return proc.pid


def _start_head(d: Path, state: dict[str, Any]) -> None:
    args = ["--head", "--port", str(state["port"]), "--ray-client-server-port", str(state["clientPort"]),
            "--include-dashboard", "false", "--dashboard-host", HOST, "--dashboard-port", str(_free_port()),
            "--temp-dir", state["tempDir"],
            *_common_args("head", 0, state["objectStoreMb"])]
    state["head"] = {"pid": _spawn(d, "head", args, state.get("token"))}


def _start_worker(d: Path, state: dict[str, Any], index: int) -> dict[str, Any]:
    name = f"worker{index}"
    args = ["--address", f"{HOST}:{state['port']}", *_common_args(name, state["cpus"], state["objectStoreMb"])]
    return {"index": index, "name": name, "pid": _spawn(d, name, args, state.get("token")), "nodeId": None}


def alive_nodes(address: str, timeout: float = 5.0) -> dict[str, str]:
    """node name -> node id (hex) of the nodes the GCS reports alive."""
    from ray._raylet import GcsClient  # noqa: PLC0415
    from ray.core.generated.gcs_pb2 import GcsNodeInfo  # noqa: PLC0415

    client = GcsClient(address=address)
    infos = client.get_all_node_info(timeout=timeout)
    return {info.node_name: info.node_id.hex() for info in infos.values()
            if info.state == GcsNodeInfo.GcsNodeState.ALIVE}


def _group_pids(pgid: int, marker: str) -> list[int]:
    """Pids in process group ``pgid`` whose command line contains ``marker`` (Linux /proc, else ps)."""
    found = []
    if os.path.isdir("/proc"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                if int(fields[2]) != pgid:  # state, ppid, pgrp
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
        return found
    out = subprocess.run(["ps", "-A", "-o", "pid=,pgid=,command="], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] == str(pgid) and marker in parts[2]:
            found.append(int(parts[0]))
    return found


# The files a starting raylet waits for (Ray 2.60 node_manager.cc) before it serves: its agents'
# ports (the dashboard agent's three are written by LAUNCHER). It has registered with the GCS
# before that wait, so "alive in the GCS" alone is not "started": a node is up once these files
# exist and its raylet still runs.
AGENT_PORT_FILES = ("dashboard_agent_listen_port", "metrics_agent_port", "metrics_export_port", "runtime_env_agent_port")
RESTARTS_PER_NODE = 3


def _node_ready(state: dict[str, Any], node_id: str) -> bool:
    session = Path(state["tempDir"]) / "session_latest"
    return all((session / f"{name}_{node_id}").exists() for name in AGENT_PORT_FILES)


def _wait_alive(d: Path, state: dict[str, Any], names: list[str], timeout: float = START_TIMEOUT_S) -> dict[str, str]:
    """Wait until the named nodes are up (alive in the GCS, agents' ports written, raylet running).
    A node whose start failed (its `ray start` exited, or its raylet started and died: see
    AGENT_PORT_FILES) is killed and started again, up to RESTARTS_PER_NODE times; the head keeps
    its port, so the cluster's address does not change."""
    address = f"{HOST}:{state['port']}"
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    restarts = {name: RESTARTS_PER_NODE for name in names}
    raylet_seen: set[str] = set()
    os.environ.update({k: v for k, v in ray_env(state.get("token")).items() if k.startswith("RAY_AUTH")})

    def node(name: str) -> dict[str, Any]:
        return state["head"] if name == "head" else next(w for w in state["workers"] if w["name"] == name)

    def restart(name: str, why: str) -> None:
        if restarts[name] == 0:
            raise SystemExit(f"Ray node {name} failed to start {RESTARTS_PER_NODE + 1} times ({why}): see the logs in "
                             f"{state['dir']} and {state['tempDir']}/session_latest/logs")
        restarts[name] -= 1
        raylet_seen.discard(name)
        _kill_group(node(name)["pid"])
        sys.stderr.write(f"cluster.local: {name} {why}; starting it again\n")
        if name == "head":
            _start_head(d, state)
        else:
            node(name)["pid"] = _start_worker(d, state, node(name)["index"])["pid"]
        _save(d, state)

    while time.monotonic() < deadline:
        for name in names:
            pid = node(name)["pid"]
            if not _pid_alive(pid):
                restart(name, "exited during start-up")
                continue
            raylets = _group_pids(pid, "raylet/raylet")
            if raylets:
                raylet_seen.add(name)
            elif name in raylet_seen:
                restart(name, "lost its raylet during start-up")
        try:
            nodes = alive_nodes(address)
            up = [name for name in names if name in nodes and name in raylet_seen and _node_ready(state, nodes[name])]
            if len(up) == len(names) and all(_group_pids(node(name)["pid"], "raylet/raylet") for name in names):
                return nodes
        except Exception as exc:  # noqa: BLE001 - the GCS is not up yet
            last = exc
        time.sleep(0.5)
    raise SystemExit(f"the loopback cluster did not come up in {timeout:.0f} s ({last}); logs in {state['dir']}")


def _pid_alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _report(state: dict[str, Any]) -> dict[str, Any]:
    return {"address": f"{HOST}:{state['port']}", "clientAddress": f"ray://{HOST}:{state['clientPort']}",
            "workers": [{"index": w["index"], "nodeId": w["nodeId"], "pid": w["pid"]}
                        for w in state["workers"] if w.get("alive", True)],
            "dir": state["dir"]}


def _bring_up(d: Path, state: dict[str, Any], workers: int) -> dict[str, Any]:
    _start_head(d, state)
    state["workers"] = []
    _save(d, state)
    _wait_alive(d, state, ["head"])
    # One worker at a time: nodes on one host pick their raylet/plasma socket names by looking
    # for a free "raylet.N" in the shared session dir, so two starting at once can take the same
    # name and one dies with "bind: Address already in use".
    for i in range(workers):
        worker = _start_worker(d, state, i)
        state["workers"].append(worker)
        _save(d, state)
        worker["nodeId"] = _wait_alive(d, state, [worker["name"]])[worker["name"]]
        _save(d, state)
    return state


def up(d: Path, workers: int, cpus: int, port: int | None, token: str | None, object_store_mb: int) -> dict[str, Any]:
    if _state_path(d).is_file():
        down(d)
    d.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "dir": str(d), "port": port or _free_port(), "clientPort": _free_port(), "cpus": cpus,
        "objectStoreMb": object_store_mb, "token": token, "workerCount": workers,
        "tempDir": tempfile.mkdtemp(prefix="sfa-ray-", dir="/tmp"), "head": None, "workers": [],
    }
    try:
        _bring_up(d, state, workers)
    except BaseException:
        _stop_all(state)  # the Ray logs stay in tempDir for the post-mortem
        _state_path(d).unlink(missing_ok=True)
        raise
    return _report(state)


def kill_worker(d: Path, index: int) -> dict[str, Any]:
    state = _load(d)
    worker = next((w for w in state["workers"] if w["index"] == index and w.get("alive", True)), None)
    if worker is None:
        raise SystemExit(f"no live worker {index}")
    try:
        os.killpg(worker["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _group_alive(worker["pid"]):
        time.sleep(0.05)
    worker["alive"] = False
    _save(d, state)
    return {"killed": worker["nodeId"]}


def add_worker(d: Path) -> dict[str, Any]:
    state = _load(d)
    worker = _start_worker(d, state, 1 + max([w["index"] for w in state["workers"]], default=-1))
    state["workers"].append(worker)
    state["workerCount"] = int(state.get("workerCount", 0)) + 1
    _save(d, state)
    worker["nodeId"] = _wait_alive(d, state, [worker["name"]])[worker["name"]]
    _save(d, state)
    return {"index": worker["index"], "nodeId": worker["nodeId"], "pid": worker["pid"]}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.05)


def _stop_all(state: dict[str, Any]) -> None:
    """SIGKILL every node's process group at once: nothing of a test cluster's session is worth a
    graceful stop, and its temp dir is removed afterwards."""
    pids = [w["pid"] for w in state.get("workers", [])] + ([state["head"]["pid"]] if state.get("head") else [])
    # all at once (a node whose head vanished lingers), then wait for all
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in pids):
        time.sleep(0.05)
    for worker in state.get("workers", []):
        worker["alive"] = False


def stop_head(d: Path) -> dict[str, Any]:
    state = _load(d)
    _stop_all(state)
    state["head"] = None
    _save(d, state)
    return {"stopped": f"{HOST}:{state['port']}"}


def start_head(d: Path, workers: int | None = None) -> dict[str, Any]:
    state = _load(d)
    if state.get("head") and _group_alive(state["head"]["pid"]):
        raise SystemExit("the head is already running")
    if workers is None:
        workers = int(state.get("workerCount", len(state["workers"])))
    state["workerCount"] = workers
    shutil.rmtree(state["tempDir"], ignore_errors=True)
    os.makedirs(state["tempDir"], exist_ok=True)
    _bring_up(d, state, workers)
    return _report(state)


def down(d: Path) -> dict[str, Any]:
    path = _state_path(d)
    if not path.is_file():
        return {"down": True}
    state = json.loads(path.read_text(encoding="utf-8"))
    _stop_all(state)
    shutil.rmtree(state.get("tempDir") or "/nonexistent", ignore_errors=True)
    path.unlink(missing_ok=True)
    return {"down": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfa_sidecar.cluster.local")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up")
    p_up.add_argument("--workers", type=int, default=2)
    p_up.add_argument("--cpus", type=int, default=1)
    p_up.add_argument("--port", type=int)
    p_up.add_argument("--token")
    p_up.add_argument("--object-store-mb", type=int, default=200)
    p_kill = sub.add_parser("kill-worker")
    p_kill.add_argument("--index", type=int, required=True)
    p_start = sub.add_parser("start-head")
    p_start.add_argument("--workers", type=int, help="worker nodes to start with it (default: as many as before)")
    for name in ("add-worker", "stop-head", "down"):
        sub.add_parser(name)
    for p in sub.choices.values():
        p.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    d = Path(args.dir).resolve()
    if args.cmd == "up":
        out = up(d, args.workers, args.cpus, args.port, args.token, args.object_store_mb)
    elif args.cmd == "kill-worker":
        out = kill_worker(d, args.index)
    elif args.cmd == "add-worker":
        out = add_worker(d)
    elif args.cmd == "stop-head":
        out = stop_head(d)
    elif args.cmd == "start-head":
        out = start_head(d, args.workers)
    else:
        out = down(d)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
