"""Whether OpenVINO (``openvino_core``) or eager PyTorch runs the default path's chunks on this
machine, by measurement.

Why measure: OpenVINO's gain depends on the CPU and the threads (on a 2-vCPU Xeon, `npm run
bench -- openvino`: 2.2x PyTorch's speed with two threads and two chunks in flight, 1.02x with
one thread), and a fixed choice that is wrong for a user's CPU would make separations slower
than the demucs CLI's. The first long job on a machine runs three calls each way (the first of
each untimed; a call is the chunks in flight) and keeps OpenVINO only when it is at least
``MIN_GAIN`` faster; the verdict is stored per machine, versions, model, thread count and chunks
in flight, and where PyTorch won nothing is compiled.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

from .. import allocator
from . import openvino_core as oc

MIN_GAIN = 1.1  # OpenVINO must beat eager PyTorch by this much on the real chunks to be kept


def prepare(model: Any, threads: int, progress: Callable[[str], None] | None = None) -> bool:
    """Convert and compile an HTDemucs for the chunks a job gives it (its training segment),
    unless this machine already measured PyTorch faster for it."""
    length = int(getattr(model, "segment", 0) * getattr(model, "samplerate", 0))
    if not oc.eligible(model, length) or stored_choice(model, length, threads) == "torch":
        return False
    return oc.network(model, length, threads, progress) is not None


def _verdict_file() -> Path:
    return oc.cache_root() / "verdicts.json"


def verdict_key(model_key_: str, threads: int) -> str:
    return (f"{platform.machine()}|{platform.processor()}|{os.cpu_count()}|{model_key_}|threads {threads}"
            f"|in flight {oc.in_flight(threads)}")


def verdict_key_for(model: Any, length: int, threads: int) -> str:
    return verdict_key(oc.model_key(model, length, oc.import_openvino()), threads)


def stored_choice(model: Any, length: int, threads: int) -> str | None:
    """"openvino" or "torch" where this machine has measured this model at this thread count."""
    return (read_verdict(verdict_key_for(model, length, threads)) or {}).get("runtime")


_verdicts: dict[str, dict[str, Any]] = {}  # this process's own, where the file cannot be written


def read_verdict(key: str) -> dict[str, Any] | None:
    try:
        return json.loads(_verdict_file().read_text()).get(key) or _verdicts.get(key)
    except (OSError, ValueError):
        return _verdicts.get(key)


def write_verdict(key: str, verdict: dict[str, Any]) -> None:
    _verdicts[key] = verdict
    path = _verdict_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            known = json.loads(path.read_text())
        except (OSError, ValueError):
            known = {}
        known[key] = verdict
        tmp = oc.temp_path(path)
        tmp.write_text(json.dumps(known, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: measured again next time


TIMED_ROUNDS = 2  # calls timed on each side after one untimed call each (first calls select kernels)
# Per verdict key, this process's measured calls each way: short jobs add up to a verdict.
_timings: dict[str, dict[str, list[float]]] = {}


class Forward:
    """What each chunk goes through for one job: OpenVINO where it is faster here, else PyTorch.

    Each call brings ``in_flight`` chunks (two where the sidecar has two threads or more):
    OpenVINO runs them side by side, PyTorch one after the other; a job's odd last chunk comes
    alone. Until a verdict exists for this machine, model, thread count and chunks in flight,
    calls alternate: PyTorch, OpenVINO (both untimed), then ``TIMED_ROUNDS`` timed calls each
    (before each of PyTorch's, the compiled network is let go, and loaded again for OpenVINO's);
    the faster (by at least ``MIN_GAIN`` for OpenVINO) runs the rest and the verdict is stored.
    The calls are counted per sidecar process, so that jobs too short for the measurement (loops,
    samples) add up to it instead of alternating for ever. ``used`` says what ran (for the job's
    result)."""

    def __init__(self, eager: Callable[[Any, Any], Any], threads: int, progress: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.eager, self.threads, self.progress, self.clock = eager, threads, progress, clock
        self.in_flight = oc.in_flight(threads)  # chunks per call: the caller batches this many
        self.calls: dict[str, list[float]] = {"torch": [], "openvino": []}  # this process's, once the key is known
        self.timed = False  # this job measured
        self.used: set[str] = set()
        self.reason = ""
        self.verdict_key: str | None = None  # the verdict this job consulted (for runtime())
        self.choice: dict[str, str] = {}  # verdict key -> runtime, once known (not read again per chunk)

    def __call__(self, model: Any, batch: Any) -> Any:
        length = int(batch.shape[-1])
        if not oc.eligible(model, length):
            self.reason = ("PyTorch: OpenVINO is not installed" if oc.import_openvino() is None else
                           "PyTorch: OpenVINO runs HTDemucs on chunks of its training segment only")
            return self._run("torch", model, batch)
        self.verdict_key = verdict_key_for(model, length, self.threads)
        self.calls = _timings.setdefault(self.verdict_key, {"torch": [], "openvino": []})
        choice = self.choice.get(self.verdict_key) or (read_verdict(self.verdict_key) or {}).get("runtime")
        if choice:
            self.choice[self.verdict_key] = choice
        if choice == "torch":
            return self._run("torch", model, batch)
        measuring = choice is None and batch.shape[0] >= self.in_flight
        if measuring and len(self.calls["torch"]) <= len(self.calls["openvino"]):
            # PyTorch's turn in the measurement: OpenVINO's compiled network goes first, so that
            # PyTorch's activations (~720 MB for htdemucs) never sit on its requests' buffers
            # (~620 MB): the first job on a machine peaked at their sum, 2.9 GB. OpenVINO's next
            # turn loads it again from the model cache (~0.7 s, untimed; its first call after a
            # reload measured within 4% of the next, so a lean, if any, is towards PyTorch).
            oc.release(model)
            return self._measure("torch", model, batch)
        net = oc.network(model, length, self.threads, self.progress)
        if net is None:
            self.reason = f"PyTorch: OpenVINO could not convert the model ({oc.failure(model, length)})"
            return self._run("torch", model, batch)
        if not measuring:
            # The verdict, or a job's odd last chunk while measuring: not comparable with the full
            # calls (untimed); alone it gets one stream's threads, and PyTorch would add its
            # activations to OpenVINO's buffers.
            return self._run("openvino", model, batch, net)
        return self._measure("openvino", model, batch, net)

    def _measure(self, side: str, model: Any, batch: Any, net: oc.Network | None = None) -> Any:
        """One timed call of the measurement; after the last, the verdict (stored for the machine)."""
        out = self._run(side, model, batch, net, timed=True)
        if min(len(self.calls["torch"]), len(self.calls["openvino"])) > TIMED_ROUNDS:
            torch_s, ov_s, gain = self._measured()
            self.choice[self.verdict_key] = "openvino" if gain >= MIN_GAIN else "torch"
            if self.choice[self.verdict_key] == "torch":
                oc.release(model)  # compiled for the measurement only
            write_verdict(self.verdict_key, {
                "runtime": self.choice[self.verdict_key], "gain": round(gain, 3),
                "torch_s": round(torch_s, 3), "openvino_s": round(ov_s, 3),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        return out

    def _measured(self) -> tuple[float, float, float]:
        """Mean seconds per timed chunk (the first of each side is untimed) and PyTorch / OpenVINO."""
        torch_s = sum(self.calls["torch"][1:]) / len(self.calls["torch"][1:])
        ov_s = sum(self.calls["openvino"][1:]) / len(self.calls["openvino"][1:])
        return torch_s, ov_s, torch_s / max(ov_s, 1e-9)

    def _run(self, side: str, model: Any, batch: Any, net: oc.Network | None = None, timed: bool = False) -> Any:
        import torch  # noqa: PLC0415

        allocator.for_runtime(side)
        t0 = self.clock()
        if side == "openvino" and net is not None:
            out = net(model, batch)
        else:  # one chunk at a time: the exact path's arithmetic, and one forward's memory
            outs = [self.eager(model, batch[i:i + 1]) for i in range(int(batch.shape[0]))]
            out = outs[0] if len(outs) == 1 else torch.cat(outs, 0)
        if timed:
            self.calls[side].append(self.clock() - t0)
            self.timed = True
        self.used.add(side)
        return out

    def runtime(self) -> tuple[str, str]:
        """("openvino" | "torch" | "openvino+torch", why) for the job's result."""
        if self.used == {"openvino"}:
            flight = f", {self.in_flight} chunks in flight" if self.in_flight > 1 else ""
            return "openvino", f"OpenVINO float32 on the CPU{flight} ({self._gain_text()})"
        if "openvino" in self.used:
            return "openvino+torch", f"measuring OpenVINO against PyTorch on this machine ({self._gain_text()})"
        return "torch", self.reason or f"PyTorch: OpenVINO was not faster on this CPU ({self._gain_text()})"

    def _gain_text(self) -> str:
        if self.timed and self.calls["torch"][1:] and self.calls["openvino"][1:]:
            return f"{self._measured()[2]:.2f}x measured by this sidecar"
        verdict = read_verdict(self.verdict_key) if self.verdict_key else None
        return f"{verdict['gain']:.2f}x when measured on this machine" if verdict else "not measured"
