"""The GPU and Apple paths as they will first run, with torch faked at the device boundary:
MPS refusing an op, out-of-memory handling per model family, memory released after the failure
is gone, allocator caches emptied after every accelerator job, CUDA library allocation failures,
a broken CUDA context, and the hello not touching CUDA contexts. Also the CPU precision choice."""

from __future__ import annotations

import gc
import json
import sys
import types
import weakref
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

PYDIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYDIR))

from sfa_sidecar import environment  # noqa: E402
from sfa_sidecar.errors import BadRequestError, SidecarError  # noqa: E402
from sfa_sidecar.separate import separate  # noqa: E402
from sfa_sidecar.separation import devices, models, precision, runner  # noqa: E402
from sfa_sidecar.server import Context, Server  # noqa: E402

SR = 44100
STEMS = ["drums", "bass", "other", "vocals"]


class Recorder:
    def __init__(self):
        self.messages = []

    def send(self, message):
        self.messages.append(message)


def make_ctx():
    recorder = Recorder()
    return Context("t", recorder), recorder


@pytest.fixture(scope="module")
def mix_path(tmp_path_factory):
    t = np.arange(int(SR * 2.0)) / SR
    wav = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], 1)
    path = tmp_path_factory.mktemp("audio") / "mix.wav"
    sf.write(str(path), wav.astype(np.float32), SR, subtype="PCM_16")
    return str(path)


def on_cpu_unless(fail_on, error):
    """A stand-in for demucs' apply_model: raises ``error`` on the device ``fail_on``, computes
    for real on the CPU otherwise (the model never leaves the CPU: no accelerator here)."""
    from demucs.apply import apply_model

    calls = []

    def fake(model, mix, **kwargs):
        calls.append((str(kwargs["device"]), kwargs["segment"]))
        if kwargs["device"] == fail_on:
            raise error() if callable(error) and not isinstance(error, BaseException) else error
        return apply_model(model, mix, **{**kwargs, "device": "cpu"})

    return fake, calls


def gpu_facts(**extra):
    return devices.DeviceFacts(True, True, cuda_name="Fake GPU", cuda_free_bytes=int(3e9), **extra)


# ------------------------------------------------------------------------------------ MPS

def test_mps_refusing_an_op_falls_back_to_the_cpu_and_says_so(repo, mix_path, tmp_path, monkeypatch):
    fake, calls = on_cpu_unless("mps", NotImplementedError("Output channels > 65536 not supported at the MPS device."))
    monkeypatch.setattr(runner, "device_facts", lambda: devices.DeviceFacts(False, False, mps_available=True,
                                                                             macos=(15, 2)))
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    ctx, rec = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0}, ctx)
    assert [c[0] for c in calls] == ["mps", "cpu"]
    assert result["device"] == "cpu" and "fell back from mps" in result["deviceReason"]
    assert result["fallbacks"][0]["from"] == "mps" and "MPS cannot run" in result["fallbacks"][0]["reason"]
    assert any("retrying on cpu" in m.get("message", "") for m in rec.messages)


def test_auto_skips_mps_where_macos_is_too_old():
    old = devices.DeviceFacts(False, False, mps_available=True, macos=(14, 6, 1))
    device, reason = devices.choose_device("auto", old)
    assert device == "cpu" and "macOS 14.6.1" in reason and "15.1" in reason
    assert devices.choose_device("auto", devices.DeviceFacts(False, False, mps_available=True, macos=(15, 1)))[0] == "mps"
    assert devices.choose_device("mps", old)[0] == "mps"  # forced: runs, and falls back if refused
    assert devices.macos_version("14.6.1") == (14, 6, 1) and devices.macos_version("") is None


# ------------------------------------------------------------------------------------ out of memory

def test_htdemucs_out_of_memory_goes_straight_to_the_cpu(repo, mix_path, tmp_path, monkeypatch):
    import torch

    fake, calls = on_cpu_unless("cuda", torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    monkeypatch.setattr(runner, "device_facts", gpu_facts)
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    ctx, _ = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0}, ctx)
    # HTDemucs pads each chunk back to its training length: a smaller segment would not help.
    assert calls == [("cuda", None), ("cpu", None)]
    assert [(f["from"], f["to"]) for f in result["fallbacks"]] == [("cuda", "cpu")]
    assert result["device"] == "cpu" and "out of memory" in result["deviceReason"]


def test_the_mix_is_normalised_in_the_decoded_buffer(monkeypatch):
    """The model gets the decoded samples normalised in place (a copy held ~85 MB for four
    minutes of stereo through the whole job), with the values of demucs' `(wav - mean) / std`."""
    import torch

    seen = []

    def fake(model, mix, **kwargs):
        seen.append(mix)
        return torch.zeros(1, 4, 2, mix.shape[-1])

    monkeypatch.setattr(runner, "apply_model_fn", fake)
    wav = torch.randn(2, SR, generator=torch.Generator().manual_seed(2)) * 0.4 + 0.01
    ref = wav.mean(0)
    expected = (wav - ref.mean()) / (ref.std() + 1e-8)
    buffer = wav.untyped_storage().data_ptr()
    model = types.SimpleNamespace(segment=44.0, samplerate=SR, sources=STEMS)
    ctx, _ = make_ctx()
    runner.compute_with_fallback(model, wav, "cpu", runner.parse({"path": "x", "outDir": "y", "shifts": 0}), ctx, 0.0, 1.0)
    assert seen[0].untyped_storage().data_ptr() == buffer
    assert torch.equal(seen[0][0], expected)


def test_v3_model_out_of_memory_retries_half_the_segment_first(monkeypatch):
    import torch

    calls = []

    def fake(model, mix, **kwargs):
        calls.append((kwargs["device"], kwargs["segment"]))
        if kwargs["device"] == "cuda":
            raise RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")
        return torch.zeros(1, 4, 2, mix.shape[-1])

    v3 = types.SimpleNamespace(segment=44.0, samplerate=SR, sources=STEMS)  # not an HTDemucs
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    ctx, _ = make_ctx()
    p = runner.parse({"path": "x", "outDir": "y", "shifts": 0})
    _out, device, segment, fallbacks, _prec, _runtime = runner.compute_with_fallback(
        v3, torch.zeros(2, SR), "cuda", p, ctx, 0.0, 1.0)
    assert calls == [("cuda", None), ("cuda", 22.0), ("cpu", 22.0)]
    assert device == "cpu" and segment == 22.0
    assert [(f["fromSegment"], f["toSegment"]) for f in fallbacks] == [(44.0, 22.0), (22.0, 22.0)]


def test_library_allocation_failures_count_as_out_of_memory():
    assert devices.is_out_of_memory(RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"))
    assert devices.is_out_of_memory(RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"))
    assert devices.is_out_of_memory(RuntimeError("cuFFT error: CUFFT_ALLOC_FAILED"))
    assert not devices.is_out_of_memory(RuntimeError("cuDNN error: CUDNN_STATUS_BAD_PARAM"))


def test_memory_is_released_after_the_failed_pass_is_gone(repo, mix_path, tmp_path, monkeypatch):
    import torch

    class Activations:  # stands for the tensors of the failed forward pass
        pass

    alive_at_release = []
    refs = []

    def fake(model, mix, **kwargs):
        if kwargs["device"] == "cuda":
            activations = Activations()
            refs.append(weakref.ref(activations))
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        from demucs.apply import apply_model

        return apply_model(model, mix, **kwargs)

    def release():
        gc.collect()
        alive_at_release.append(bool(refs) and refs[-1]() is not None)

    monkeypatch.setattr(runner, "device_facts", gpu_facts)
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    monkeypatch.setattr(models, "release_memory", release)
    ctx, _ = make_ctx()
    separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0}, ctx)
    assert alive_at_release and not any(alive_at_release)


def test_every_accelerator_job_ends_by_emptying_the_cache(repo, mix_path, tmp_path, monkeypatch):
    fake, _ = on_cpu_unless("none", RuntimeError)
    monkeypatch.setattr(runner, "device_facts", gpu_facts)
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    released = []
    monkeypatch.setattr(models, "release_memory", lambda: released.append("job"))
    ctx, _ = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0}, ctx)
    assert result["device"] == "cuda" and result["fallbacks"] == [] and released == ["job"]
    ctx, _ = make_ctx()
    separate({"path": mix_path, "outDir": str(tmp_path / "c"), "model": "tiny", "repo": repo, "shifts": 0,
              "device": "cpu"}, ctx)
    assert released == ["job"]  # a CPU job has nothing to give back


def test_cpu_jobs_hand_the_heap_back_after_a_cold_load_and_after_every_job(repo, mix_path, tmp_path, monkeypatch):
    """glibc keeps freed memory resident below live blocks: the checkpoint freed under the decoded
    mix was carried into every forward pass, and a warm sidecar idled at its peak."""
    from demucs.apply import apply_model

    events = []

    def fake(model, mix, **kwargs):
        events.append("compute")
        return apply_model(model, mix, **kwargs)

    monkeypatch.setattr(runner, "_cache", None)  # a cold load
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    monkeypatch.setattr(models, "trim_heap", lambda: events.append("trim"))
    params = {"path": mix_path, "model": "tiny", "repo": repo, "shifts": 0, "device": "cpu"}

    # Through the server, as a sidecar runs them: the end-of-job trim waits for the reply.
    class Replies(Recorder):
        def send(self, message):
            super().send(message)
            if message["type"] != "progress":
                events.append(message["type"])

    recorder = Replies()
    server = Server(recorder, {"separate": separate})
    for request_id, extra in [("cold", {}), ("warm", {}), ("failed", {"stems": ["nope"]})]:
        server.contexts[request_id] = Context(request_id, recorder)
        server.pending.put({"type": "request", "id": request_id, "op": "separate",
                            "params": {**params, "outDir": str(tmp_path / request_id), **extra}})
    server.pending.put(None)
    server._work()
    assert events == ["trim", "compute", "result", "trim",  # cold: the checkpoint freed, then the job's buffers
                      "compute", "result", "trim",  # warm: nothing freed by a load
                      "error", "trim"]  # a failed job's buffers too

    # Elsewhere (the cluster actor's context has no reply hook) the job trims before it returns.
    events.clear()
    separate({**params, "outDir": str(tmp_path / "d")}, types.SimpleNamespace(progress=lambda *a, **k: None, check=lambda: None))
    assert events == ["compute", "trim"]


def test_trim_heap_is_glibcs_malloc_trim_where_there_is_one():
    import platform

    import ctypes

    from sfa_sidecar import libc

    models.trim_heap()
    models.trim_heap()  # looked up once
    trim = libc.function("malloc_trim", (ctypes.c_size_t,))
    assert libc.function.cache_info().hits >= 2 and trim is libc.function("malloc_trim", (ctypes.c_size_t,))
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert trim is not None


def test_release_memory_empties_mps_and_only_an_existing_cuda_context(monkeypatch):
    import torch

    emptied = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append("cuda"))
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.mps, "empty_cache", lambda: emptied.append("mps"))
    models.release_memory()
    assert emptied == ["mps"]
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    models.release_memory()
    assert emptied == ["mps", "cuda", "mps"]


# ------------------------------------------------------------------------------------ broken CUDA

def test_a_broken_cuda_context_fails_the_job_and_replaces_the_process(repo, mix_path, tmp_path, monkeypatch):
    fake, _ = on_cpu_unless("cuda", RuntimeError("CUDA error: an illegal memory access was encountered"))
    monkeypatch.setattr(runner, "device_facts", gpu_facts)
    monkeypatch.setattr(runner, "apply_model_fn", fake)
    ctx, _ = make_ctx()
    with pytest.raises(SidecarError) as info:
        separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0}, ctx)
    assert getattr(info.value, "restart_process", False) and "fresh process" in str(info.value)

    # The server replies first, then exits so that the pool starts a fresh sidecar.
    exits = []
    recorder = Recorder()
    server = Server(recorder, {"boom": lambda params, ctx: (_ for _ in ()).throw(info.value)})
    monkeypatch.setattr(Server, "exit_process", staticmethod(lambda code: exits.append((code, len(recorder.messages)))))
    server.contexts["r1"] = Context("r1", recorder)
    server.pending.put({"type": "request", "id": "r1", "op": "boom"})
    server.pending.put(None)
    server._work()
    assert recorder.messages[0]["type"] == "error" and recorder.messages[0]["id"] == "r1"
    assert exits == [(Server.RESTART_EXIT_CODE, 1)]


# ------------------------------------------------------------------------------------ no needless CUDA contexts

def test_hello_reports_gpus_without_creating_contexts(monkeypatch):
    def no_context(*_a):
        raise AssertionError("mem_get_info creates a CUDA context on that device")

    props = types.SimpleNamespace(name="Fake GPU", total_memory=int(24e9))
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 2,
                                   get_device_properties=lambda i: props, mem_get_info=no_context),
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: False)))
    monkeypatch.setitem(sys.modules, "torch", fake)
    found = environment.devices()
    cuda = [d for d in found if d["type"] == "cuda"]
    assert [d["index"] for d in cuda] == [0, 1] and all(d["totalMemory"] == int(24e9) for d in cuda)


def test_a_cpu_job_never_asks_cuda(repo, mix_path, tmp_path, monkeypatch):
    def no_cuda():
        raise AssertionError("a CPU job must not query CUDA")

    monkeypatch.setattr(runner, "device_facts", no_cuda)
    ctx, _ = make_ctx()
    result = separate({"path": mix_path, "outDir": str(tmp_path), "model": "tiny", "repo": repo, "shifts": 0,
                       "device": "cpu"}, ctx)
    assert result["device"] == "cpu"


# ------------------------------------------------------------------------------------ CPU precision

def test_native_bf16_flags():
    assert precision.native_bf16("flags\t\t: fpu avx2 avx512f avx512_bf16\n", "linux") == "avx512_bf16"
    assert precision.native_bf16("flags\t\t: fpu avx2 amx_bf16 amx_tile\n", "linux") == "amx_bf16"
    assert precision.native_bf16("flags\t\t: fpu avx2 fma\n", "linux") is None
    assert precision.native_bf16("Features\t: fp asimd bf16 i8mm\n", "linux") == "bf16"
    assert precision.native_bf16("", "win32") is None


def test_precision_choice_needs_native_bf16_and_a_measured_gain(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("SFA_PRECISION_CACHE", str(tmp_path))
    monkeypatch.setattr(precision, "_measured", None)
    measured = []

    def fast(torch_module):
        measured.append(1)
        return {"float32_s": 1.6, "bf16_s": 1.0, "gain": 1.6}

    assert precision.choose("exact", "cpu", torch, lambda: "avx512_bf16", fast)[0] == "float32"
    assert precision.choose("auto", "cuda", torch, lambda: "avx512_bf16", fast)[0] == "float32"
    used, reason = precision.choose("auto", "cpu", torch, lambda: None, fast)
    assert used == "float32" and "no native bfloat16" in reason and measured == []
    used, reason = precision.choose("auto", "cpu", torch, lambda: "avx512_bf16", fast)
    assert used == "bf16" and "1.60x" in reason and measured == [1, 1]  # a gain for bf16 is confirmed
    # Cached on disk: a fresh process (module state cleared) does not measure again.
    monkeypatch.setattr(precision, "_measured", None)
    assert precision.choose("auto", "cpu", torch, lambda: "avx512_bf16", fast)[0] == "bf16" and measured == [1, 1]
    monkeypatch.setattr(precision, "_measured", None)
    for f in tmp_path.iterdir():
        f.unlink()
    slow = lambda _t: {"float32_s": 1.0, "bf16_s": 1.0, "gain": 1.0}  # noqa: E731
    used, reason = precision.choose("auto", "cpu", torch, lambda: "avx512_bf16", slow)
    assert used == "float32" and "only 1.00x" in reason
    with pytest.raises(BadRequestError):
        precision.choose("half", "cpu", torch)


def test_a_gain_for_bf16_is_confirmed_and_each_thread_count_keeps_its_own(tmp_path, monkeypatch):
    """Another process's load on the float32 runs can make bf16 look faster once: a first gain over
    the bar is measured again and the lower one decides. Entries per thread count live side by side."""
    import torch

    monkeypatch.setenv("SFA_PRECISION_CACHE", str(tmp_path))
    monkeypatch.setattr(precision, "_measured", None)
    gains = iter([1.3, 0.7])
    runs = []

    def noisy(_torch):
        runs.append(1)
        gain = next(gains)
        return {"float32_s": gain, "bf16_s": 1.0, "gain": gain}

    used, reason = precision.choose("auto", "cpu", torch, lambda: "avx512_bf16", noisy)
    assert used == "float32" and "0.70x" in reason and len(runs) == 2
    below = iter([0.8])
    monkeypatch.setattr(precision, "_measured", None)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(before + 1)  # another sidecar's thread count: measured on its own
        assert precision.choose("auto", "cpu", torch, lambda: "avx512_bf16",
                                lambda _t: {"float32_s": 0.8, "bf16_s": 1.0, "gain": next(below)})[0] == "float32"
    finally:
        torch.set_num_threads(before)
    entries = json.loads((tmp_path / "cpu-precision.json").read_text())
    assert sorted(entry["gain"] for entry in entries.values()) == [0.7, 0.8]
    # ... and neither evicted the other: a fresh process at the first thread count measures nothing.
    monkeypatch.setattr(precision, "_measured", None)
    assert precision.choose("auto", "cpu", torch, lambda: "avx512_bf16", noisy)[0] == "float32" and len(runs) == 2


def test_self_measurement_runs_on_this_cpu():
    import torch

    result = precision.self_measure(torch, repeats=1)
    assert result["float32_s"] > 0 and result["bf16_s"] > 0 and result["gain"] > 0


def test_gpu_memory_asks_the_one_device_now():
    asked = []
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(
        is_available=lambda: True, device_count=lambda: 2, current_device=lambda: 0,
        mem_get_info=lambda i: (asked.append(i), (int(5e9), int(24e9)))[1]))
    assert devices.cuda_memory(1, fake) == [{"index": 1, "freeMemory": int(5e9), "totalMemory": int(24e9)}]
    assert devices.cuda_memory(None, fake)[0]["index"] == 0 and asked == [1, 0]
    with pytest.raises(BadRequestError):
        devices.cuda_memory(2, fake)
    no_cuda = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: False))
    assert devices.cuda_memory(None, no_cuda) == []


def test_the_suite_measures_into_its_own_folder():
    """conftest.py: this run's bf16 self-measurement and OpenVINO verdicts stay out of ~/.cache/sfa."""
    import tempfile

    from sfa_sidecar.separation.precision import cache_folder

    assert cache_folder().name.startswith("sfa-test-measurements-")
    assert cache_folder().parent == Path(tempfile.gettempdir())
