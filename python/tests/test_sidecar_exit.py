"""A sidecar whose analysis runs its key stage in a second thread still answers a cancel and
exits on stdin EOF at once: the key stage had no cancel checks, and waiting for it (seconds on a
long track) ran past the engine's grace, so the engine killed the sidecar (measured before the
fix on a 10-minute file at load 11: cancel answered after 14.2 s, exit on EOF after 7.3 s). The
key stage now stops at its next cancel check, and shutdown waits at most Server.SHUTDOWN_WAIT_S."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from analysis_signals import chords, drums
from sfa_sidecar import analyze
from sfa_sidecar.errors import CancelledError

PYTHON_DIR = Path(__file__).resolve().parent.parent


def test_a_cancel_leaves_while_the_key_thread_still_runs():
    started, release = threading.Event(), threading.Event()

    def slow_key():
        started.set()
        release.wait(5)
        return "late"

    with pytest.raises(CancelledError):
        with analyze._beside(2, slow_key) as future:
            assert started.wait(10)
            raise CancelledError()
    assert future.running()  # left without waiting for it
    queued_started = threading.Event()
    with analyze._beside(2, queued_started.set) as queued:
        assert not queued_started.wait(0.2)  # the next key waits behind the leftover
        release.set()
        queued.result()
    assert future.result(timeout=10) == "late"


def test_the_sidecar_exits_on_stdin_eof_while_a_thread_still_works():
    # The real entry point with a non-daemon thread busy for 60 s, standing in for a key stage
    # that a cancel left: the interpreter's exit would join it.
    script = (
        "import runpy, sys, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "sys.argv = ['sfa_sidecar', '--no-devices']\n"
        "runpy.run_module('sfa_sidecar', run_name='__main__')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PYTHON_DIR, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert json.loads(proc.stdout.readline())["type"] == "hello"
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _analysis(path: Path) -> dict:
    out = analyze.run({"path": str(path)})
    return {k: out[k] for k in ("tempo", "key", "energy", "spectral", "grid")}


def test_an_analysis_cancelled_mid_key_leaves_the_next_one_exact(write_wav):
    """Cancelled while the key thread works on a 1-minute track, then a short track in the same
    sidecar: the same result as a fresh analysis; then EOF ends the sidecar and its ffmpeg."""
    long = write_wav("long.wav", np.tile(drums(124, 15, sr=22050) + chords("E major", 15, sr=22050), 4), sr=22050)
    short = write_wav("short.wav", drums(100, 8) + chords("G minor", 8), sr=44100)
    expected = json.loads(json.dumps(_analysis(short)))
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.Popen([sys.executable, "-m", "sfa_sidecar", "--no-devices"], cwd=PYTHON_DIR, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def send(message: dict) -> None:
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def until_end(request_id: str, cancel_at: str | None = None) -> dict:
        while True:
            line = proc.stdout.readline()
            assert line, "sidecar exited"
            message = json.loads(line)
            if cancel_at and message.get("message") == cancel_at:
                send({"type": "cancel", "id": request_id})
            if message["type"] in ("result", "error") and message["id"] == request_id:
                return message

    try:
        assert json.loads(proc.stdout.readline())["type"] == "hello"
        send({"type": "request", "id": "1", "op": "analyze", "params": {"path": str(long)}})
        assert until_end("1", cancel_at="tempo")["code"] == "CANCELLED"  # the key thread started at "spectrogram"
        send({"type": "request", "id": "2", "op": "analyze", "params": {"path": str(short)}})
        reply = until_end("2")
        assert reply["type"] == "result", reply
        assert {k: reply["result"][k] for k in expected} == expected
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        left = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert left == []
    finally:
        if proc.poll() is None:
            proc.kill()


ENGINE_GRACE_S = 2.0  # src/main/sidecar/client.mjs shutdown(graceMs = 2000): the engine kills after this


@pytest.mark.parametrize("ignore_cancel", [False, True], ids=["honours-cancel", "ignores-cancel"])
@pytest.mark.parametrize("how", ["shutdown", "eof"])
def test_the_sidecar_exits_within_the_engine_grace_while_an_op_is_busy(how, ignore_cancel):
    """A busy op that honours cancel ends at once; one that ignores it (a long library call) is
    left after Server.SHUTDOWN_WAIT_S, so the sidecar still exits before the engine would kill it
    (before: it waited 5 s for the op)."""
    from sfa_sidecar.server import Server

    assert Server.SHUTDOWN_WAIT_S < ENGINE_GRACE_S - 0.3
    proc = subprocess.Popen([sys.executable, "-m", "sfa_sidecar", "--no-devices"], cwd=PYTHON_DIR,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert json.loads(proc.stdout.readline())["type"] == "hello"
        params = {"busySeconds": 30, "ignoreCancel": ignore_cancel}
        proc.stdin.write(json.dumps({"type": "request", "id": "1", "op": "ping", "params": params}) + "\n")
        proc.stdin.flush()
        if not ignore_cancel:
            assert json.loads(proc.stdout.readline())["type"] == "progress"  # the op is running
        else:
            time.sleep(0.3)  # no progress to wait for: give the worker time to enter the op
        started = time.monotonic()
        if how == "shutdown":
            proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
            proc.stdin.flush()
        else:
            proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        took = time.monotonic() - started
        assert took < (0.8 if not ignore_cancel else ENGINE_GRACE_S - 0.2), took
        replies = [json.loads(line) for line in proc.stdout.read().splitlines()]
        if not ignore_cancel:
            assert (replies[-1]["type"], replies[-1]["id"], replies[-1]["code"]) == ("error", "1", "CANCELLED")
    finally:
        if proc.poll() is None:
            proc.kill()


class _CancelAt:
    """An op context cancelled when the analysis reports ``stage`` (the key thread is then running)."""

    def __init__(self, stage: str):
        self.stage, self.cancelled = stage, False

    def progress(self, fraction: float, message: str = "", force: bool = False) -> None:
        self.cancelled = self.cancelled or message == self.stage
        self.check()

    def check(self) -> None:
        if self.cancelled:
            raise CancelledError()


def test_a_cancelled_analysis_ends_its_key_thread_promptly(monkeypatch):
    """The leftover key stage of a cancelled 4-minute analysis stops at its next check instead of
    running to its end (~0.4 s on an idle core before, seconds under load), so the next analysis'
    key does not queue behind it."""
    from sfa_sidecar.analysis.stream import MixStream

    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the key runs in its own thread
    mono = np.tile(drums(124, 15, sr=analyze.SR) + chords("E major", 15, sr=analyze.SR), 16).astype(np.float32)
    stream = MixStream.of(analyze.SR, np.stack([mono, mono]))
    with pytest.raises(CancelledError):
        analyze.analyze_stream(stream, _CancelAt("spectrogram"))
    left = time.monotonic()
    analyze._POOL.submit(lambda: None).result(timeout=30)  # the next key's turn
    waited = time.monotonic() - left
    assert waited < 0.2, f"the next key waited {waited:.2f} s behind the cancelled one"
