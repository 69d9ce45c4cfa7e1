"""The sidecar speaks exactly the protocol in sfa_sidecar/protocol.json (the engine's TypeScript
declarations are checked against the same file by src/main/sidecar/protocol.test.ts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from sfa_sidecar import PROTOCOL, PROTOCOL_VERSION
from sfa_sidecar.ops import registry
from sfa_sidecar.server import Server

ROOT = Path(__file__).resolve().parent.parent


class Recorder:
    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    def send(self, message: dict) -> None:
        # the real channel's encoding, so a value JSON cannot carry fails here too
        with self.lock:
            self.messages.append(json.loads(json.dumps(message, allow_nan=False)))


def assert_follows(message: dict, direction: str) -> None:
    kinds = PROTOCOL[direction]
    assert message["type"] in kinds, f"{message['type']!r} is not a {direction} message in protocol.json"
    spec = kinds[message["type"]]
    keys = set(message)
    assert set(spec["required"]) <= keys, f"{message['type']} lacks {set(spec['required']) - keys}"
    assert keys <= set(spec["required"]) | set(spec["optional"]), f"{message['type']} has undeclared {keys - set(spec['required']) - set(spec['optional'])}"


def test_every_message_the_server_sends_is_declared():
    lines = [
        {"type": "request", "id": "1", "op": "ping", "params": {"busySeconds": 0.3}},
        {"type": "request", "id": "2", "op": "no-such-op", "params": {}},
        {"type": "request", "id": "3", "op": "ping", "params": {"busySeconds": 30}},
        {"type": "cancel", "id": "3"},
        {"type": "whatever"},
    ]
    for line in lines:
        if line["type"] in PROTOCOL["toSidecar"]:
            assert_follows(line, "toSidecar")
    rec = Recorder()
    server = Server(rec, registry())  # type: ignore[arg-type]
    # the cancel must arrive while request 3 runs: feed it after a pause, then shut down
    reader, writer = os.pipe()

    def feed():
        with os.fdopen(writer, "w") as w:
            for line in lines[:3]:
                w.write(json.dumps(line) + "\n")
            w.flush()
            threading.Event().wait(1.0)
            w.write(json.dumps(lines[3]) + "\n" + json.dumps(lines[4]) + "\nnot json\n")
            w.flush()
            threading.Event().wait(0.5)
            w.write(json.dumps({"type": "shutdown"}) + "\n")

    threading.Thread(target=feed, daemon=True).start()
    with os.fdopen(reader) as r:
        server.serve(r)
    types = [m["type"] for m in rec.messages]
    assert {"progress", "result", "error"} <= set(types), types
    for message in rec.messages:
        assert_follows(message, "fromSidecar")
    codes = {m["id"]: m["code"] for m in rec.messages if m["type"] == "error"}
    assert codes["2"] == "BAD_REQUEST" and codes["3"] == "CANCELLED" and codes[None] == "BAD_REQUEST"


def test_hello_is_declared_and_carries_the_version():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "sfa_sidecar", "--no-devices"],
        input=json.dumps({"type": "shutdown"}) + "\n", capture_output=True, text=True, env=env, timeout=120, cwd=ROOT,
    )
    hello = json.loads(proc.stdout.splitlines()[0])
    assert_follows(hello, "fromSidecar")
    assert hello["type"] == "hello" and hello["protocol"] == PROTOCOL_VERSION == PROTOCOL["version"]

