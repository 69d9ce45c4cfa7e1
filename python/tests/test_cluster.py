"""The cluster driver's own contract: address rules, returned-file checks, error mapping, and, on
a real loopback Ray cluster (head + 1 worker node with 2 CPUs, token auth on), the protocol's
details: the result's ``cluster`` facts and the node named in progress, status, our error codes
surviving the trip, a refused token, a stopped head. What the engine proves end to end on a real
cluster (identical stems and analysis for 8 tracks with both models, cancel, a worker killed, the
head restarted, the engine restarted) is in src/main/cluster/cluster.test.ts, not repeated here.

One cluster for the module (sfa_sidecar.cluster.local), one shared driver process. Order matters:
the stopped head comes last; the teardown proves nothing of the cluster is left running. Skipped,
with the reason printed, where Ray is not installed.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT.parent / "src" / "shared" / "cluster-addresses.json"
TOKEN = "sfa-test-token-3f9c2a"
SR = 44100

ray = pytest.importorskip("ray", reason="Ray is not installed (python/requirements-cluster.txt)")

from analysis_signals import stereo_mix  # noqa: E402
from sfa_sidecar.cluster import address  # noqa: E402
from sfa_sidecar.server import Context  # noqa: E402


# ------------------------------------------------------------------------------------ helpers

class _Sink:
    def __init__(self):
        self.messages = []

    def send(self, message):
        self.messages.append(message)


def local_ctx() -> Context:
    return Context("local", _Sink())


def cluster_cmd(d: Path, *args: str, timeout: float = 300) -> dict:
    proc = subprocess.run([sys.executable, "-m", "sfa_sidecar.cluster.local", *args, "--dir", str(d)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"cluster.local {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Driver:
    """A cluster driver process (python -m sfa_sidecar --cluster) and its protocol."""

    def __init__(self, address_text: str, token: str | None = TOKEN, extra_env: dict[str, str] | None = None):
        env = dict(os.environ, SFA_RAY_ADDRESS=address_text, **(extra_env or {}))
        env.pop("SFA_RAY_TOKEN", None)
        if token:
            env["SFA_RAY_TOKEN"] = token
        self.proc = subprocess.Popen([sys.executable, "-m", "sfa_sidecar", "--cluster"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.lines: "queue.Queue[dict | None]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.started = time.monotonic()
        self.hello = self.lines.get(timeout=60)
        self.hello_seconds = time.monotonic() - self.started
        self.count = 0

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, message: dict):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, op: str, params: dict, timeout: float = 240, on_progress=None):
        """-> (final message, progress messages)."""
        self.count += 1
        rid = f"r{self.count}"
        self.send({"type": "request", "id": rid, "op": op, "params": params})
        progress = []
        deadline = time.monotonic() + timeout
        while True:
            message = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert message is not None, "the driver exited"
            if message.get("id") != rid:
                continue
            if message["type"] == "progress":
                progress.append(message)
                if on_progress:
                    on_progress(message, rid)
                continue
            return message, progress

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send({"type": "shutdown"})
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def write_mix(path: Path, seconds: float, seed: int = 7) -> str:
    sf.write(str(path), stereo_mix(seconds, SR, seed, click_every=0.5), SR, subtype="PCM_16")
    return str(path)


# ------------------------------------------------------------------------------------ no cluster needed

def test_address_rule_matches_the_engines_golden_examples():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    wrong_accepts = [a for a in golden["refused"] if address.is_cluster_address(a)]
    wrong_refusals = [a for a in golden["accepted"] if not address.is_cluster_address(a)]
    assert not wrong_accepts and not wrong_refusals, (wrong_accepts, wrong_refusals)
    # built from the same pieces (JavaScript's RegExp source writes / as \/)
    assert golden["pattern"].replace("\\/", "/") == "^" + address.SOURCE + "$"
    parsed = address.parse("ray://[::1]:10001")
    assert (parsed.client, parsed.host, parsed.port) == (True, "::1", 10001)
    assert not address.parse("localhost:6379").client


def test_a_refused_address_answers_cluster_address_and_says_hello_first():
    driver = Driver("http://evil.example:80")
    try:
        assert driver.hello["type"] == "hello" and driver.hello["cluster"]["address"] is None
        reply, _ = driver.request("separate", {"path": "/nonexistent.wav", "outDir": "/tmp/x"})
        assert reply["type"] == "error" and reply["code"] == "CLUSTER_ADDRESS", reply
    finally:
        driver.close()


def test_nothing_listening_is_unreachable_fast_and_probe_reports_it():
    driver = Driver("127.0.0.1:1")
    try:
        assert driver.hello["devices"] == [] and {"separate", "analyze", "cluster_status", "ping"} <= set(driver.hello["ops"])
        t0 = time.monotonic()
        reply, _ = driver.request("cluster_status", {})
        assert reply["code"] == "CLUSTER_UNREACHABLE", reply
        assert time.monotonic() - t0 < 15
        probe, _ = driver.request("cluster_status", {"probe": True})
        assert probe["type"] == "result" and probe["result"]["connected"] is False and probe["result"]["error"]
    finally:
        driver.close()


def test_ray_missing_is_a_wait_and_a_running_driver_imports_it_once_installed(tmp_path):
    """Ray hidden (a `ray` package that fails to import, first on PYTHONPATH): CLUSTER_NO_RAY, the
    code the engine waits on, also in a probe; the same driver process, after the "install" (the
    hiding package removed), imports the real Ray and gets on to connecting (nothing listens at
    127.0.0.1:1: CLUSTER_UNREACHABLE)."""
    shim = tmp_path / "no-ray"
    (shim / "ray").mkdir(parents=True)
    (shim / "ray" / "__init__.py").write_text("raise ImportError(\"No module named 'ray' (hidden by the test)\")\n")
    clip = tmp_path / "clip.wav"
    sf.write(str(clip), np.zeros((SR, 2), dtype=np.float32), SR)
    driver = Driver("127.0.0.1:1", extra_env={"PYTHONPATH": str(shim)})
    try:
        reply, _ = driver.request("separate", {"path": str(clip), "outDir": str(tmp_path / "out"), "model": "dsp"})
        assert reply["type"] == "error" and reply["code"] == "CLUSTER_NO_RAY", reply
        assert "not installed" in reply["message"] and "sfa cluster install" in reply["message"]
        probe, _ = driver.request("cluster_status", {"probe": True})
        assert probe["result"]["connected"] is False and probe["result"]["error"].startswith("CLUSTER_NO_RAY"), probe
        import shutil  # noqa: PLC0415

        shutil.rmtree(shim)
        reply, _ = driver.request("cluster_status", {})
        assert reply["code"] == "CLUSTER_UNREACHABLE", reply
    finally:
        driver.close()


@pytest.mark.parametrize("name", ["../drums.wav", "/tmp/drums.wav", ".drums.wav", "drums.exe", "dr/ums.wav", "Drums.wav", ""])
def test_returned_files_with_unsafe_names_are_refused_and_nothing_is_written(tmp_path, name):
    from sfa_sidecar.cluster.driver import write_stems
    from sfa_sidecar.errors import SidecarError

    with pytest.raises(SidecarError):
        write_stems(str(tmp_path / "out"), {name: b"RIFF"}, {"drums": {"path": name}})
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "drums.wav").exists()


def test_returned_files_must_be_exactly_the_stems(tmp_path):
    from sfa_sidecar.cluster.driver import write_stems
    from sfa_sidecar.errors import SidecarError

    with pytest.raises(SidecarError):  # an extra file the result does not name
        write_stems(str(tmp_path / "out"), {"drums.wav": b"a", "extra.wav": b"b"}, {"drums": {"path": "drums.wav"}})
    written = write_stems(str(tmp_path / "ok"), {"drums.wav": b"abc"}, {"drums": {"path": "drums.wav", "format": "wav"}})
    assert written["drums"] == {"path": str(tmp_path / "ok" / "drums.wav"), "size": 3, "format": "wav"}
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["drums.wav"]  # no part file left


def test_a_restarted_head_is_a_wait_not_a_refused_token():
    """Ray 2.60 answers a client of a head restarted at the same address with AuthenticationError
    ("WrongClusterID"): that once discarded jobs as CLUSTER_AUTH after a head restart."""
    import ray.exceptions as rex
    from sfa_sidecar.cluster.connection import classify

    restarted = classify(rex.AuthenticationError("RPC error: WrongClusterID: Perhaps the client is accessing GCS "
                                                 "after it has restarted."), "127.0.0.1:6379")
    assert restarted.code == "CLUSTER_UNREACHABLE"
    refused = classify(rex.AuthenticationError("Authentication failed: invalid token"), "127.0.0.1:6379")
    assert refused.code == "CLUSTER_AUTH"


class _StaleGcs:
    """The GCS client of a driver whose head restarted (what Ray 2.60 raises, measured)."""

    def __init__(self):
        self.calls = 0

    def internal_kv_get(self, *args, **kwargs):
        import ray.exceptions as rex

        self.calls += 1
        raise rex.AuthenticationError("RPC error: WrongClusterID: Perhaps the client is accessing GCS after it has restarted.")


def _stale_connection(monkeypatch, text: str):
    import ray
    from sfa_sidecar.cluster.connection import Connection

    gcs = _StaleGcs()
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray._private.worker.global_worker, "gcs_client", gcs, raising=False)
    conn = Connection(address.parse(text), None)
    conn.connected = True
    return conn, gcs


def test_a_local_driver_whose_head_restarted_connects_again_before_the_op(monkeypatch):
    """An idle local-head driver whose head restarted must not touch the old cluster (Ray's core
    aborts the process, which cost the job an attempt): ensure() finds out with one GCS call and
    connects again (a new generation: the driver forgets the old actors)."""
    import ray

    conn, gcs = _stale_connection(monkeypatch, "127.0.0.1:6379")
    reconnected = []
    monkeypatch.setattr("sfa_sidecar.cluster.connection._tcp_open", lambda address: True)
    monkeypatch.setattr(conn, "_connect", lambda r: reconnected.append(r) or setattr(conn, "generation", conn.generation + 1))
    assert conn.ensure() is ray
    assert gcs.calls == 1 and reconnected == [ray] and conn.generation == 1


def test_a_local_driver_whose_head_is_gone_answers_unreachable(monkeypatch):
    from sfa_sidecar.errors import ClusterUnreachableError

    conn, gcs = _stale_connection(monkeypatch, "127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(ClusterUnreachableError):
        conn.ensure()
    assert gcs.calls == 1 and conn.connected is False


def test_a_ray_client_driver_is_not_checked(monkeypatch):
    import ray

    conn, gcs = _stale_connection(monkeypatch, "ray://127.0.0.1:1")  # Ray Client reconnects by itself
    assert conn.ensure() is ray and gcs.calls == 0


# ------------------------------------------------------------------------------------ the cluster

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("raycluster")
    try:
        info = cluster_cmd(d, "up", "--workers", "1", "--cpus", "2", "--token", TOKEN, timeout=400)
    except BaseException:
        cluster_cmd(d, "down")
        raise
    info["dirPath"] = d
    info["tempDir"] = json.loads((d / "cluster.json").read_text())["tempDir"]
    yield info
    cluster_cmd(d, "down")
    leftovers = subprocess.run(["pgrep", "-f", info["tempDir"]], capture_output=True, text=True).stdout.split()
    assert not leftovers, f"Ray processes left running after down: {leftovers}"


@pytest.fixture(scope="module")
def driver(cluster):
    d = Driver(cluster["address"])
    yield d
    d.close()


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    return write_mix(tmp_path_factory.mktemp("clusteraudio") / "short.wav", 2.0)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


NODE_MESSAGE = re.compile(r"running on node 127\.0\.0\.1 \(([0-9a-f]{8})\)")


def test_a_separation_result_carries_where_it_ran_and_its_traffic(driver, cluster, audio, tmp_path):
    from sfa_sidecar.separation import runner

    params = {"path": audio, "model": "dsp"}
    local = runner.run(dict(params, outDir=str(tmp_path / "local")), local_ctx())
    reply, progress = driver.request("separate", dict(params, outDir=str(tmp_path / "cluster")))
    assert reply["type"] == "result", reply
    remote = reply["result"]
    assert _files(tmp_path / "cluster") == _files(tmp_path / "local")  # the stems and nothing else
    for stem, info in remote["stems"].items():
        assert info["path"] == str(tmp_path / "cluster" / f"{stem}.wav")
        assert {k: info[k] for k in ("size", "duration", "format")} == {k: local["stems"][stem][k] for k in ("size", "duration", "format")}
    facts = remote["cluster"]
    assert facts["nodeId"] == cluster["workers"][0]["nodeId"]  # the head has 0 CPUs
    assert facts["nodeIp"] == "127.0.0.1" and facts["bytesSent"] >= os.path.getsize(audio)
    assert facts["bytesReceived"] == sum(i["size"] for i in remote["stems"].values())
    assert 0 <= facts["transferSeconds"] <= facts["totalSeconds"] and 0 <= facts["busySeconds"] <= facts["totalSeconds"]
    messages = [m["message"] for m in progress]
    named = [NODE_MESSAGE.fullmatch(m) for m in messages]
    assert any(named) and next(n for n in named if n).group(1) == facts["nodeId"][:8], messages[:5]
    assert progress[-1]["fraction"] == 1.0 and all(0 <= m["fraction"] <= 1 for m in progress)


def test_cluster_status_lists_nodes_actors_and_a_concurrency_that_fits(driver, cluster):
    reply, _ = driver.request("cluster_status", {})
    status = reply["result"]
    assert status["connected"] is True and status["address"] == cluster["address"]
    alive = {n["nodeId"] for n in status["nodes"] if n["alive"]}
    assert cluster["workers"][0]["nodeId"] in alive and len(alive) == 2  # + the head
    assert (status["cpus"], status["gpus"]) == (2.0, 0.0)
    assert [a["kind"] for a in status["actors"]] == ["separation"] and status["actors"][0]["nodeId"] in alive
    assert status["suggested"] == {"processing": 1, "analysis": 1}  # 1 + 1 actors fit 2 CPUs


def test_suggested_concurrency_never_asks_for_more_cpus_than_there_are():
    from sfa_sidecar.cluster.driver import suggested

    for cpus in range(2, 65):
        for threads in (1, 2, 4, 8):
            s = suggested(cpus, 0, threads)
            assert s["processing"] >= 1 and s["analysis"] >= 1
            if cpus > threads:
                assert s["processing"] * threads + s["analysis"] <= cpus, (cpus, threads, s)
    assert suggested(16, 4, 1) == {"processing": 4, "analysis": 12}


def test_our_own_error_codes_survive_the_trip(driver, tmp_path):
    bogus = tmp_path / "not-audio.wav"
    bogus.write_bytes(b"this is not audio at all" * 100)
    reply, _ = driver.request("separate", {"path": str(bogus), "outDir": str(tmp_path / "out"), "model": "dsp"})
    assert reply["type"] == "error" and reply["code"] in ("NOT_AUDIO", "DECODE_FAILED"), reply
    missing, _ = driver.request("separate", {"path": str(tmp_path / "missing.wav"), "outDir": str(tmp_path / "o")})
    assert missing["code"] == "FILE_NOT_FOUND"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("kind", ["address", "clientAddress"])
def test_a_wrong_token_is_cluster_auth(cluster, kind):
    intruder = Driver(cluster[kind], token="not-the-token")
    try:
        t0 = time.monotonic()
        reply, _ = intruder.request("cluster_status", {}, timeout=120)
        assert reply["type"] == "error" and reply["code"] == "CLUSTER_AUTH", reply
        assert "not-the-token" not in reply["message"]
        assert time.monotonic() - t0 < 40
    finally:
        intruder.close()


def test_a_stopped_head_is_unreachable_for_every_kind_of_driver(cluster, driver, audio, tmp_path):
    """Last (the cluster stays down; the engine test restarts it and proves jobs finish after).
    Through Ray Client (ray://) the driver answers CLUSTER_UNREACHABLE and stays. A local-head
    driver (127.0.0.1:PORT) is a Ray core worker attached to the head's raylet: Ray may end it with
    the raylet; if it is still there it checks its cluster before the op and answers
    CLUSTER_UNREACHABLE; a fresh one answers CLUSTER_UNREACHABLE fast. None of them costs a job
    more than a wait."""
    survivor = Driver(cluster["clientAddress"])
    drivers = [survivor]
    dsp = {"path": audio, "model": "dsp"}
    try:
        first, _ = survivor.request("cluster_status", {})  # connected before the stop
        assert first["type"] == "result" and first["result"]["connected"], first
        cluster_cmd(cluster["dirPath"], "stop-head")
        t0 = time.monotonic()
        reply, _ = survivor.request("separate", dict(dsp, outDir=str(tmp_path / "b")))
        assert reply["type"] == "error" and reply["code"] == "CLUSTER_UNREACHABLE", reply
        assert time.monotonic() - t0 < 30 and survivor.proc.poll() is None
        assert _files(tmp_path / "b") == {}
        status, _ = survivor.request("cluster_status", {"probe": True})
        assert status["result"]["connected"] is False
        if driver.proc.poll() is None:  # the shared local-head driver, attached before the stop
            try:
                attached, _ = driver.request("separate", dict(dsp, outDir=str(tmp_path / "c")), timeout=60)
                assert attached["type"] == "error" and attached["code"] == "CLUSTER_UNREACHABLE", attached
            except AssertionError as exc:
                assert "the driver exited" in str(exc)  # Ray ended it meanwhile
        fresh = Driver(cluster["address"])
        drivers.append(fresh)
        t0 = time.monotonic()
        down, _ = fresh.request("separate", dict(dsp, outDir=str(tmp_path / "d")))
        assert down["code"] == "CLUSTER_UNREACHABLE" and time.monotonic() - t0 < 15, down
    finally:
        for d in drivers:
            d.close()
