"""End to end: spawn the sidecar, send analyze, get progress messages and the result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from analysis_signals import chords, drums

PYTHON_DIR = Path(__file__).resolve().parent.parent


def test_sidecar_analyze_end_to_end(write_wav):
    path = write_wav("mix.wav", drums(126, 10) + chords("A minor", 10))
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfa_sidecar", "--no-devices"], cwd=PYTHON_DIR, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        hello = json.loads(proc.stdout.readline())
        assert hello["type"] == "hello" and {"analyze", "peaks", "analyze_warm"} <= set(hello["ops"])
        for rid, op, params in (("w", "analyze_warm", {}), ("1", "analyze", {"path": str(path)}),
                                ("2", "peaks", {"path": str(path), "points": 50}),
                                ("3", "analyze", {"path": str(path) + ".missing"})):
            proc.stdin.write(json.dumps({"type": "request", "id": rid, "op": op, "params": params}) + "\n")
        proc.stdin.flush()
        got: dict[str, list] = {}
        deadline = time.monotonic() + 120
        while len([m for ms in got.values() for m in ms if m["type"] in ("result", "error")]) < 4:
            assert time.monotonic() < deadline
            line = proc.stdout.readline()
            assert line, "sidecar exited"
            msg = json.loads(line)
            got.setdefault(msg["id"], []).append(msg)
        progress = [m for m in got["1"] if m["type"] == "progress"]
        result = got["1"][-1]
        assert progress and result["type"] == "result"
        assert result["result"]["tempo"]["bpm"] > 0 and result["result"]["key"]["key"] == "A minor"
        assert got["2"][-1]["result"]["channels"] == 1 and len(got["2"][-1]["result"]["peaks"][0]) == 50
        assert got["3"][-1]["type"] == "error" and got["3"][-1]["code"] == "FILE_NOT_FOUND"
        proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
        proc.stdin.flush()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
