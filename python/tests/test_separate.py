"""The separate op end to end: parity with the demucs CLI, cancel, bad input, OOM fallback,
formats, warm/models ops, and the protocol through a spawned sidecar. Uses a tiny random
HTDemucs built by ``sfa_sidecar.separation.tiny_model`` (no download)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

PYDIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYDIR))

from analysis_signals import stereo_mix  # noqa: E402
from sfa_sidecar import audio  # noqa: E402
from sfa_sidecar.errors import CancelledError, SidecarError  # noqa: E402
from sfa_sidecar.separate import models as models_op, separate, warm  # noqa: E402
from sfa_sidecar.separation import devices, runner  # noqa: E402
from sfa_sidecar.server import Context  # noqa: E402

SR = 44100
STEMS = ["drums", "bass", "other", "vocals"]


class Recorder:
    def __init__(self, on_send=None):
        self.messages = []
        self.on_send = on_send

    def send(self, message):
        self.messages.append(message)
        if self.on_send:
            self.on_send(message)


def make_ctx(on_send=None):
    recorder = Recorder()
    ctx = Context("t", recorder)
    if on_send:
        recorder.on_send = lambda m: on_send(m, ctx)
    return ctx, recorder


@pytest.fixture(scope="session")
def mix_path(tmp_path_factory):
    """6 s of stereo: two tones, a bass line and clicks, 16-bit PCM like a real file."""
    path = tmp_path_factory.mktemp("audio") / "mix.wav"
    sf.write(str(path), stereo_mix(6.0, SR), SR, subtype="PCM_16")
    return str(path)


def run_cli(args, out):
    """The demucs CLI as a user runs it; with a seed, through a wrapper seeding Python's random
    the way our op's ``seed`` does (the CLI itself never seeds, so shifts > 0 differ per run)."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "demucs", *args, "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def run_cli_seeded(seed, args, out):
    code = ("import random, sys; random.seed(%d); from demucs.separate import main; main(sys.argv[1:])" % seed)
    proc = subprocess.run([sys.executable, "-c", code, *args, "-o", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def compare(ours_dir, cli_dir):
    worst = 0.0
    for stem in STEMS:
        ours, sr1 = sf.read(str(Path(ours_dir) / f"{stem}.wav"), dtype="float32")
        cli, sr2 = sf.read(str(Path(cli_dir) / f"{stem}.wav"), dtype="float32")
        assert sr1 == sr2 == SR and ours.shape == cli.shape
        assert np.abs(cli).max() > 1e-3  # the tiny model's stems carry signal
        worst = max(worst, float(np.abs(ours - cli).max()))
    return worst


# ------------------------------------------------------------------------------------ parity

def test_parity_with_the_cli_shifts_0(repo, mix_path, tmp_path):
    args = ["--repo", repo, "-n", "tiny", "--float32", "--shifts", "0", "--segment", "3", "--overlap", "0.4"]
    run_cli([*args, mix_path], tmp_path / "cli")
    ctx, rec = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path / "ours"), "model": "tiny", "repo": repo,
                       "shifts": 0, "segment": 3, "overlap": 0.4, "wavDepth": "float"}, ctx)
    assert compare(tmp_path / "ours", tmp_path / "cli" / "tiny" / "mix") <= 1e-4
    assert result["device"] == "cpu" and result["sampleRate"] == SR and set(result["stems"]) == set(STEMS)
    assert set(result["timings"]) == {"decode", "load", "compute", "write", "total"}
    fractions = [m["fraction"] for m in rec.messages if m["type"] == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_parity_with_the_cli_seeded_shift(repo, mix_path, tmp_path):
    args = ["--repo", repo, "-n", "tiny", "--float32", "--shifts", "1"]
    run_cli_seeded(1234, [*args, mix_path], tmp_path / "cli")
    ctx, _ = make_ctx()
    separate({"path": mix_path, "outDir": str(tmp_path / "ours"), "model": "tiny", "repo": repo, "shifts": 1,
              "seed": 1234, "wavDepth": "float"}, ctx)
    assert compare(tmp_path / "ours", tmp_path / "cli" / "tiny" / "mix") <= 1e-4


# ------------------------------------------------------------------------------------ cancel, errors

def test_cancel_mid_compute_leaves_no_files(repo, mix_path, tmp_path):
    # Cancelled as the compute starts, noticed by the chunk loop's progress call. (Waiting for the
    # "chunk 1/" message was timing-dependent: progress is throttled to ten messages a second, and
    # the tiny model's chunks can all finish inside one tenth, so that message is never sent.)
    def cancel_when_compute_starts(message, ctx):
        if message.get("type") == "progress" and message.get("message", "").startswith("separating on"):
            ctx.cancelled.set()

    ctx, rec = make_ctx(cancel_when_compute_starts)
    out = tmp_path / "out"
    with pytest.raises(CancelledError) as raised:
        separate({"path": mix_path, "outDir": str(out), "model": "tiny", "repo": repo, "shifts": 0,
                  "segment": 1}, ctx)
    assert not out.exists() or list(out.iterdir()) == []
    assert any(entry.path.name == "chunked.py" for entry in raised.traceback)  # in the chunk loop
    assert not any(m.get("message", "").startswith("writing") for m in rec.messages)


def test_cancel_while_writing_removes_every_part(mix_path, tmp_path):
    def cancel_when_writing(message, ctx):
        if message.get("message", "").startswith("writing drums, bass"):
            ctx.cancelled.set()

    ctx, _ = make_ctx(cancel_when_writing)
    out = tmp_path / "out"
    with pytest.raises(CancelledError):
        separate({"path": mix_path, "outDir": str(out), "model": "dsp", "format": "flac"}, ctx)
    assert list(out.iterdir()) == []


def test_corrupt_input_is_not_audio(tmp_path, repo):
    bad = tmp_path / "song.mp3"
    bad.write_bytes(b"this is not an mp3 at all" * 100)
    for model in ("dsp", "tiny"):
        ctx, _ = make_ctx()
        with pytest.raises(SidecarError) as info:
            separate({"path": str(bad), "outDir": str(tmp_path / "o"), "model": model, "repo": repo}, ctx)
        assert info.value.code == "NOT_AUDIO" and "song.mp3" in str(info.value)
    ctx, _ = make_ctx()
    with pytest.raises(SidecarError) as info:
        separate({"path": str(tmp_path / "missing.wav"), "outDir": str(tmp_path / "o"), "model": "dsp"}, ctx)
    assert info.value.code == "FILE_NOT_FOUND"
    assert not (tmp_path / "o").exists()


def test_unknown_model_and_stem(repo, mix_path, tmp_path):
    ctx, _ = make_ctx()
    with pytest.raises(SidecarError) as info:
        separate({"path": mix_path, "outDir": str(tmp_path), "model": "nope", "repo": repo}, ctx)
    assert info.value.code == "MODEL_UNAVAILABLE"
    with pytest.raises(SidecarError) as info:
        separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "twoStems": "piano"},
                 ctx)
    assert info.value.code == "BAD_REQUEST" and "piano" in str(info.value)
    with pytest.raises(SidecarError) as info:
        separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "segment": 5}, ctx)
    assert info.value.code == "BAD_REQUEST"


def test_forced_cuda_without_gpu_is_device_unavailable(repo, mix_path, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "device_facts", lambda: devices.DeviceFacts(False, False))
    ctx, _ = make_ctx()
    with pytest.raises(SidecarError) as info:
        separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "device": "cuda"}, ctx)
    assert info.value.code == "DEVICE_UNAVAILABLE"


# OOM, MPS and other device fallbacks: test_separate_devices.py


# ------------------------------------------------------------------------------------ outputs

def test_stem_selection_instrumental_and_mp3(repo, mix_path, tmp_path):
    ctx, _ = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0,
                       "stems": ["vocals", "drums"], "instrumental": True, "format": "mp3"}, ctx)
    assert list(result["stems"]) == ["vocals", "drums", "instrumental"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drums.mp3", "instrumental.mp3", "vocals.mp3"]
    for info in result["stems"].values():
        assert info["format"] == "mp3" and info["size"] > 10000 and info["duration"] == pytest.approx(6.0)
        decoded = audio.decode(info["path"], SR, 2)
        assert abs(decoded.shape[1] / SR - 6.0) < 0.06
    assert result["warm"] is True  # loaded by an earlier test in this session


def test_dsp_through_the_op_sums_to_the_mix(mix_path, tmp_path):
    ctx, rec = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "dsp", "wavDepth": "float",
                       "clip": "none"}, ctx)
    assert result["device"] == "cpu" and result["model"] == "dsp"
    total = sum(sf.read(result["stems"][s]["path"], dtype="float32")[0] for s in STEMS)
    mix = audio.decode(mix_path, SR, 2).T
    assert np.abs(total - mix).max() < 1e-4


def test_warm_and_models_ops(repo):
    ctx, _ = make_ctx()
    result = warm({"model": "tiny", "repo": repo, "device": "cpu"}, ctx)
    assert result["model"] == "tiny" and result["sources"] == STEMS and result["device"] == "cpu"
    assert warm({"model": "tiny", "repo": repo}, ctx)["warm"] is True
    exact = warm({"model": "tiny", "repo": repo, "device": "cpu", "precision": "exact"}, ctx)
    assert (exact["precision"], exact["precisionReason"]) == ("float32", "exact: float32 as requested")
    listing = models_op({"repo": repo}, ctx)
    assert "tiny" in listing["repoModels"]


# ------------------------------------------------------------------------------------ protocol

def test_protocol_end_to_end_with_progress_then_result(repo, mix_path, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sfa_sidecar", "--no-devices"], cwd=str(PYDIR),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    timer = threading.Timer(90, proc.kill)
    timer.start()
    try:
        hello = json.loads(proc.stdout.readline())
        assert hello["type"] == "hello" and {"separate", "warm", "models"} <= set(hello["ops"])
        request = {"type": "request", "id": "s1", "op": "separate",
                   "params": {"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo,
                              "shifts": 0, "twoStems": "vocals", "wavDepth": 24}}
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        fractions = []
        while True:
            message = json.loads(proc.stdout.readline())
            assert message["id"] == "s1", message
            if message["type"] == "progress":
                fractions.append(message["fraction"])
                continue
            break
        assert message["type"] == "result", message
        result = message["result"]
        assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
        assert sorted(result["stems"]) == ["no_vocals", "vocals"]
        assert sf.info(result["stems"]["vocals"]["path"]).subtype == "PCM_24"
        proc.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()


def test_weights_in_the_torch_hub_cache_load_without_the_network(repo, tmp_path, monkeypatch):
    import shutil

    import demucs.hf

    from sfa_sidecar.separation import models

    def no_network(*args, **kwargs):
        raise AssertionError("the Hugging Face hub must not be asked")

    monkeypatch.setattr(demucs.hf, "get_hf_model", no_network)
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    shutil.copy(next(Path(repo).glob("*.th")), hub / "955717e8-8726e21a.th")  # stands in for htdemucs
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert models.installed("htdemucs") and not models.installed("htdemucs_ft")
    model = models.load_demucs("htdemucs", None)
    assert list(model.sources) == STEMS
