"""HTDemucs through OpenVINO on the default CPU path (``separation/openvino_core.py``): the
network equals PyTorch's forward, is converted once and cached, sends no telemetry, is kept only
where it measured faster, and any failure falls back to PyTorch, said in the job's result."""

from __future__ import annotations

import json
import os
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

PYDIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYDIR))

from analysis_signals import stereo_mix  # noqa: E402
from sfa_sidecar.separate import separate  # noqa: E402
from sfa_sidecar.separation import openvino_choice as choice  # noqa: E402
from sfa_sidecar.separation import openvino_core as oc  # noqa: E402
from sfa_sidecar.server import Context  # noqa: E402

pytest.importorskip("openvino", reason="openvino is in python/requirements.txt; this venv lacks it")
SR = 44100


class _Sink:
    def send(self, _message):
        pass


@pytest.fixture
def ov_cache(tmp_path, monkeypatch):
    """OpenVINO on, with a cache of its own (no converted model, no verdict yet), in the process too."""
    monkeypatch.setattr(oc, "_compiled", weakref.WeakKeyDictionary())
    monkeypatch.setattr(oc, "_failed", {})
    monkeypatch.setattr(choice, "_verdicts", {})
    monkeypatch.setattr(choice, "_timings", {})
    monkeypatch.setenv("SFA_OPENVINO", "1")
    monkeypatch.setenv("SFA_PRECISION_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "openvino"


def _tiny(repo):
    from demucs.pretrained import get_model

    bag = get_model("tiny", repo=Path(repo))
    model = bag.models[0] if hasattr(bag, "models") else bag
    return model.eval()


@pytest.fixture(scope="module")
def long_mix(tmp_path_factory):
    """12 s of the separation tests' stereo mix: 4+ chunks of the tiny model's 3.9 s segment."""
    path = tmp_path_factory.mktemp("ov-audio") / "mix.wav"
    sf.write(str(path), stereo_mix(12.0, SR), SR, subtype="PCM_16")
    return str(path)


def test_network_equals_pytorchs_forward_and_is_converted_once(repo, ov_cache, monkeypatch):
    import torch

    model = _tiny(repo)
    length = int(model.segment * model.samplerate)
    mix = torch.randn(1, 2, length, generator=torch.Generator().manual_seed(1)) * 0.3
    net = oc.network(model, length, 2)
    assert net is not None, oc.failure(model, length)
    with torch.no_grad():
        ref = model(mix)
    out = net(model, mix)
    assert out.shape == ref.shape and float(ref.abs().max()) > 1e-3
    assert float((out - ref).abs().max()) <= 1e-4
    assert len(list(ov_cache.glob("*/network.xml"))) == 1
    # Two threads: two chunks in flight, each its own request; what comes back is the caller's
    # (the requests' output buffers are reused by the next call).
    assert net.in_flight == 2
    other = mix.flip(-1)
    both = net(model, torch.cat([mix, other]))
    with torch.no_grad():
        ref_other = model(other)
    assert float((both[0] - ref[0]).abs().max()) <= 1e-4 and float((both[1] - ref_other[0]).abs().max()) <= 1e-4
    kept = both.clone()
    net(model, torch.cat([other, mix]) * 0.5)
    assert torch.equal(both, kept)

    # The same weights loaded again (another sidecar, another day): compiled from the cache.
    def no_conversion(*_args):
        raise AssertionError("converted again")

    monkeypatch.setattr(oc, "convert", no_conversion)
    # An earlier version's converted model, untouched for 40 days, and a killed conversion's
    # temporary folder from yesterday: the next compile removes both, and keeps the one in use.
    month_ago = time.time() - 40 * 86400
    in_use = next(ov_cache.glob("*/network.xml")).parent
    stale, killed = ov_cache / "0123456789abcdef-8", ov_cache / "fedcba9876543210-8.4242.tmp"
    for folder, when in ((stale, month_ago), (killed, time.time() - 2 * 86400)):
        folder.mkdir()
        (folder / "network.xml").write_text("<net/>")
        os.utime(folder, (when, when))
    os.utime(in_use / oc.USED_STAMP, (month_ago, month_ago))  # last used a month ago, in use now
    again = oc.network(_tiny(repo), length, 2)
    assert not stale.exists() and not killed.exists()
    assert in_use.exists() and time.time() - (in_use / oc.USED_STAMP).stat().st_mtime < 600
    assert again is not None and float((again(model, mix) - ref).abs().max()) <= 1e-4
    # ... and not compiled either: loaded from OpenVINO's model cache beside the IR.
    assert again.compiled.get_property("LOADED_FROM_CACHE") is True
    assert len(list(ov_cache.glob("*/compiled/*.blob"))) == 1
    # A blob cut short (a sidecar killed while writing it): compiled anew, not given up for PyTorch.
    blob = next(ov_cache.glob("*/compiled/*.blob"))
    blob.write_bytes(blob.read_bytes()[:4096])
    mended = oc.network(_tiny(repo), length, 2)
    assert mended is not None and float((mended(model, mix) - ref).abs().max()) <= 1e-4
    assert mended.compiled.get_property("LOADED_FROM_CACHE") is False
    # Another chunk length (a shorter segment is padded inside forward): PyTorch runs it.
    assert oc.network(model, length // 2, 2) is None


def test_the_stems_step_equals_demucs_mask_and_inverse_stft(repo):
    """Network.stems builds the padded spectrogram in one buffer: the same values as demucs'
    _mask then _ispec, bit for bit."""
    import torch

    model = _tiny(repo)
    length = int(model.segment * model.samplerate)
    mix = torch.randn(1, 2, length, generator=torch.Generator().manual_seed(3)) * 0.3
    z = model._spec(mix)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(1, len(model.sources), 4, z.shape[-2], z.shape[-1], generator=gen).numpy()
    xt = torch.randn(1, len(model.sources), 2, length, generator=gen).numpy()

    class Bare(oc.Network):
        def __init__(self):  # no compiled network: stems() is torch's side only
            self.length = length

    with torch.no_grad():
        ref = torch.from_numpy(xt) + model._ispec(model._mask(z, torch.from_numpy(x)), length)
    assert torch.equal(Bare().stems(model, xt, x), ref)


def test_a_failure_between_start_and_wait_leaves_no_request_running(repo):
    """Two chunks in flight: if the second chunk's STFT fails after the first request started,
    that request is waited for before the error goes up (a later job would find it busy)."""
    import torch

    events = []

    class Request:
        def __init__(self, name):
            self.name = name

        def start_async(self, _inputs):
            events.append(("start", self.name))

        def wait(self):
            events.append(("wait", self.name))

    class Compiled:
        def __init__(self):
            self.made = iter("ab")

        def create_infer_request(self):
            return Request(next(self.made))

    class Failing(oc.Network):
        @staticmethod
        def inputs(model, mix):
            if events:
                raise RuntimeError("the STFT failed")
            return []

    net = Failing(Compiled(), 8, in_flight=2)
    with pytest.raises(RuntimeError, match="the STFT failed"):
        net(object(), torch.zeros(2, 2, 8))
    assert events == [("start", "a"), ("wait", "a")]


def _mapped_files(pointers):
    """The file each address lies in (Linux /proc/self/maps), None where anonymous."""
    spans = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        start, end = (int(x, 16) for x in fields[0].split("-"))
        spans.append((start, end, fields[5] if len(fields) == 6 and fields[5].startswith("/") else None))
    return [next((name for start, end, name in spans if start <= p < end), None) for p in pointers]


def test_the_torch_weights_leave_the_heap_once_openvino_runs_the_model(repo, ov_cache):
    """OpenVINO's forward reads none of the torch model's weights: they were kept on the heap
    beside the plugin's own copy (htdemucs: ~160 MB). Now they are backed by a cache file."""
    import torch

    model = _tiny(repo)
    length = int(model.segment * model.samplerate)
    mix = torch.randn(1, 2, length, generator=torch.Generator().manual_seed(2)) * 0.3
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        ref = model(mix)
    assert oc.network(model, length, 2) is not None
    after = model.state_dict()
    assert sorted(after) == sorted(before) and all(torch.equal(after[k], before[k]) for k in before)
    assert all(p.requires_grad for p in model.parameters())
    with torch.no_grad():
        assert torch.equal(model(mix), ref)  # PyTorch (exact path, measurement) runs on the same bytes
    if sys.platform.startswith("linux"):
        files = _mapped_files([t.data_ptr() for t in after.values() if t.numel()])
        assert files and all(f is not None and f.endswith("torch-weights.pt") for f in files), files


def test_drop_resident_unmaps_the_resident_pages_of_a_read_only_mapping():
    import mmap
    import tempfile

    if not sys.platform.startswith("linux"):
        assert oc.drop_resident(Path("whatever")) == 0
        return

    def resident_kb(address):
        lines = Path("/proc/self/smaps").read_text().splitlines()
        for i, line in enumerate(lines):
            if "-" in line.split()[0] and int(line.split()[0].split("-")[0], 16) == address:
                return next(int(x.split()[1]) for x in lines[i + 1:] if x.startswith("Rss:"))
        raise AssertionError("mapping not found")

    data = np.random.default_rng(0).bytes(1 << 20)
    with tempfile.NamedTemporaryFile(suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        with open(handle.name, "rb") as f:
            view = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        pages = np.frombuffer(view, dtype=np.uint8)
        address = int(pages.__array_interface__["data"][0])
        del pages
        assert bytes(view[:]) == data  # every page touched
        assert resident_kb(address) >= 1000
        assert oc.drop_resident(Path(handle.name)) == len(data)
        assert resident_kb(address) == 0
        assert bytes(view[:]) == data  # read back from the page cache
        view.close()


def test_openvino_telemetry_cannot_load(repo, ov_cache):
    model = _tiny(repo)
    assert oc.network(model, int(model.segment * model.samplerate), 1) is not None
    import openvino.tools.ovc.convert_impl as convert_impl
    import openvino.tools.ovc.telemetry_utils as telemetry_utils

    # importorskip above imported OpenVINO (and its telemetry) first: the hard case.
    assert convert_impl.tm.__name__ == telemetry_utils.tm.__name__ == "openvino.tools.ovc.telemetry_stub"


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _fake_runtime(monkeypatch, clock, torch_s, ov_s):
    """Forward over fakes: PyTorch and OpenVINO 'take' the given seconds on the fake clock."""
    calls = []

    class Net:  # one chunk per call (the sidecar's at one thread)
        in_flight = 1

        def __call__(self, _model, batch):
            clock.now += ov_s
            calls.append("openvino")
            return batch

    net = Net()

    def eager(_model, batch):
        clock.now += torch_s
        calls.append("torch")
        return batch

    def compile_network(*_args, **_kwargs):
        calls.append("compile")
        return net

    monkeypatch.setattr(oc, "network", compile_network)
    monkeypatch.setattr(oc, "in_flight", lambda _threads: Net.in_flight)
    monkeypatch.setattr(oc, "eligible", lambda *_a: True)
    monkeypatch.setattr(oc, "model_key", lambda *_a: "model-1")
    return eager, calls


@pytest.mark.parametrize("torch_s, ov_s, kept", [(2.0, 1.0, "openvino"), (1.0, 1.05, "torch")])
def test_first_job_measures_both_and_keeps_the_faster(ov_cache, monkeypatch, torch_s, ov_s, kept):
    import torch

    clock = _Clock()
    eager, calls = _fake_runtime(monkeypatch, clock, torch_s, ov_s)
    released = []

    def release(what):
        released.append(what)
        calls.append("release")

    monkeypatch.setattr(oc, "release", release)
    allocator_set = []
    monkeypatch.setattr(choice.allocator, "for_runtime", allocator_set.append)
    batch = torch.zeros(1, 2, 8)
    model = object()
    first = choice.Forward(eager, threads=2, clock=clock)
    for _ in range(8):
        first(model, batch)
    # torch, openvino untimed; twice torch, openvino timed; then the faster. Each of PyTorch's
    # turns lets the compiled network go first (its buffers under PyTorch's activations were the
    # first job's peak); each of OpenVINO's loads it again, outside the timed call.
    measured = ["release", "torch", "compile", "openvino"] * 3
    assert calls == measured + (["compile", "openvino"] * 2 if kept == "openvino" else ["release", "torch", "torch"])
    # glibc's allocator is set for each call's runtime before it runs (allocator.MMAP_THRESHOLD)
    assert allocator_set == [c for c in calls if c in ("torch", "openvino")]
    verdicts = json.loads((ov_cache / "verdicts.json").read_text())
    (verdict,) = verdicts.values()
    assert verdict["runtime"] == kept and verdict["gain"] == pytest.approx(torch_s / ov_s, rel=1e-3)
    # where PyTorch won, what was compiled for the measurement is let go at once
    assert released == [model] * (3 if kept == "openvino" else 4)
    assert first.runtime()[0] == "openvino+torch"

    calls.clear()
    later = choice.Forward(eager, threads=2, clock=clock)
    for _ in range(3):
        later(object(), batch)
    # Where PyTorch won, OpenVINO is not even compiled (its memory is not taken).
    assert calls == ([kept] * 3 if kept == "torch" else ["compile", kept] * 3)
    runtime, reason = later.runtime()
    assert runtime == kept and "when measured on this machine" in reason
    # Another thread count is another measurement.
    calls.clear()
    choice.Forward(eager, threads=1, clock=clock)(object(), batch)
    assert calls == ["release", "torch"]  # PyTorch's turn first: nothing compiled under it


def test_short_jobs_add_up_to_a_verdict(ov_cache, monkeypatch):
    """Jobs of two calls each (a short loop at a time): the third job completes the measurement
    that no single one could, and the fourth runs the winner only."""
    import torch

    clock = _Clock()
    eager, calls = _fake_runtime(monkeypatch, clock, 2.0, 1.0)
    batch = torch.zeros(1, 2, 8)
    for _job in range(3):
        job = choice.Forward(eager, threads=2, clock=clock)
        job(object(), batch)
        job(object(), batch)
    assert json.loads((ov_cache / "verdicts.json").read_text()).popitem()[1]["runtime"] == "openvino"
    assert "measured by this sidecar" in job.runtime()[1]
    calls.clear()
    last = choice.Forward(eager, threads=2, clock=clock)
    last(object(), batch)
    last(object(), batch)
    assert [c for c in calls if c != "compile"] == ["openvino", "openvino"]
    assert last.runtime() == ("openvino", "OpenVINO float32 on the CPU (2.00x when measured on this machine)")


def test_two_chunks_in_flight_from_two_threads(ov_cache, monkeypatch):
    """Each call brings in_flight chunks: PyTorch runs them one at a time (the exact path's
    arithmetic and memory), a lone last chunk is not timed, and the verdict names the count."""
    import torch

    assert [oc.in_flight(n) for n in (1, 2, 8)] == [1, 2, 2]
    monkeypatch.setenv("SFA_OPENVINO_IN_FLIGHT", "1")  # a machine short of memory
    assert [oc.in_flight(n) for n in (1, 2, 8)] == [1, 1, 1]
    monkeypatch.delenv("SFA_OPENVINO_IN_FLIGHT")
    assert oc.compile_config(2, 2) == {"INFERENCE_NUM_THREADS": 2, "INFERENCE_PRECISION_HINT": "f32",
                                       "PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 2}
    assert oc.compile_config(1)["PERFORMANCE_HINT"] == "LATENCY" and "NUM_STREAMS" not in oc.compile_config(1)
    clock = _Clock()
    seen = []

    class Net:
        in_flight = 2

        def __call__(self, _model, batch):
            seen.append(("openvino", int(batch.shape[0])))
            clock.now += 1.0
            return batch

    def eager(_model, batch):
        seen.append(("torch", int(batch.shape[0])))
        clock.now += 1.0
        return batch

    monkeypatch.setattr(oc, "network", lambda *_a, **_k: Net())
    monkeypatch.setattr(oc, "eligible", lambda *_a: True)
    monkeypatch.setattr(oc, "model_key", lambda *_a: "model-2")
    forward = choice.Forward(eager, threads=2, clock=clock)
    assert forward.in_flight == 2
    pair = torch.arange(2.0).reshape(2, 1, 1)
    assert torch.equal(forward(object(), pair), pair)  # PyTorch's side: two calls of one chunk, in order
    assert torch.equal(forward(object(), pair), pair)  # OpenVINO's: one call of two
    assert seen == [("torch", 1), ("torch", 1), ("openvino", 2)]
    seen.clear()
    forward(object(), pair[:1])  # an odd last chunk while measuring: OpenVINO (no torch activations beside its own), untimed
    assert seen == [("openvino", 1)]
    assert len(forward.calls["torch"]) == len(forward.calls["openvino"]) == 1
    assert choice.verdict_key_for(object(), 8, 2).endswith("|threads 2|in flight 2")


def _separate(path, out, repo, **extra):
    return separate({"path": path, "outDir": str(out), "model": "tiny", "repo": repo, "shifts": 0, "wavDepth": "float",
                     **extra}, Context("t", _Sink()))


def _stems(folder):
    return {p.stem: sf.read(str(p), dtype="float32")[0] for p in sorted(Path(folder).glob("*.wav"))}


def test_the_op_runs_openvino_on_the_default_path_only(repo, long_mix, ov_cache, tmp_path, monkeypatch):
    from sfa_sidecar import allocator

    allocator_set = []
    monkeypatch.setattr(allocator, "for_runtime", allocator_set.append)
    auto = _separate(long_mix, tmp_path / "auto", repo)
    assert "openvino" in auto["runtime"] and auto["precision"] == "float32", auto["runtimeReason"]
    assert "openvino" in allocator_set and allocator_set[-1] == ""  # OpenVINO's calls, then the writer's
    allocator_set.clear()
    exact = _separate(long_mix, tmp_path / "exact", repo, precision="exact")
    assert exact["runtime"] == "torch"
    # PyTorch's allocator setting for the exact job's chunks (the default's slowed them 1.4-1.8x), then back
    assert allocator_set == ["torch", ""]
    ours, ref = _stems(tmp_path / "auto"), _stems(tmp_path / "exact")
    assert sorted(ours) == sorted(ref) == ["bass", "drums", "other", "vocals"]
    worst = max(float(np.abs(ours[s] - ref[s]).max()) for s in ref)
    assert 0 < worst <= 1e-4  # not the same arithmetic, within the exact path's parity bound


def test_where_openvino_won_two_threads_run_two_chunks_in_flight(repo, long_mix, ov_cache, tmp_path):
    """The real op on a machine whose verdict is OpenVINO: 5 chunks at two threads (two pairs and
    an odd last one), every one through OpenVINO, within the exact path's bound."""
    model = _tiny(repo)
    length = int(model.segment * model.samplerate)
    choice.write_verdict(choice.verdict_key_for(model, length, 2), {"runtime": "openvino", "gain": 1.3})
    auto = _separate(long_mix, tmp_path / "auto", repo, threads=2)
    assert auto["runtime"] == "openvino", auto["runtimeReason"]
    assert "2 chunks in flight" in auto["runtimeReason"] and "1.30x" in auto["runtimeReason"]
    assert len(oc._compiled) == 1  # the sidecar's model, its network compiled
    exact = _separate(long_mix, tmp_path / "exact", repo, precision="exact", threads=2)
    # PyTorch ran the exact job without OpenVINO's buffers under it: the network was let go.
    assert len(oc._compiled) == 0
    ours, ref = _stems(tmp_path / "auto"), _stems(tmp_path / "exact")
    assert 0 < max(float(np.abs(ours[s] - ref[s]).max()) for s in ref) <= 1e-4
    again = _separate(long_mix, tmp_path / "again", repo, threads=2)  # compiled again, from the cache
    assert again["runtime"] == "openvino" and len(oc._compiled) == 1
    assert all(np.array_equal(a, b) for a, b in zip(_stems(tmp_path / "again").values(), ours.values()))


def test_a_failed_conversion_falls_back_to_pytorch_and_says_why(repo, long_mix, ov_cache, tmp_path, monkeypatch):
    def broken(model, length, folder, ov):
        folder.mkdir(parents=True)
        (folder / "network.xml.partial").write_text("")
        raise RuntimeError("Conversion is failed for: aten::stft")

    monkeypatch.setattr(oc, "convert", broken)
    result = _separate(long_mix, tmp_path / "auto", repo)
    assert result["runtime"] == "torch"
    assert "could not convert" in result["runtimeReason"] and "aten::stft" in result["runtimeReason"]
    assert not [p for p in ov_cache.iterdir() if p.is_dir()]  # nothing half-converted is kept
    exact = _separate(long_mix, tmp_path / "exact", repo, precision="exact")
    ours, ref = _stems(tmp_path / "auto"), _stems(tmp_path / "exact")
    assert all(np.array_equal(ours[s], ref[s]) for s in ref)  # PyTorch's own arithmetic


def test_switched_off_by_the_environment(repo, long_mix, ov_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("SFA_OPENVINO", "0")
    assert _separate(long_mix, tmp_path / "auto", repo)["runtime"] == "torch"
    assert not ov_cache.exists()


def test_warm_converts_ahead_of_the_first_job(repo, ov_cache):
    from sfa_sidecar.separate import warm

    result = warm({"model": "tiny", "repo": repo}, Context("t", _Sink()))
    assert result["precision"] == "float32"
    assert len(list(ov_cache.glob("*/network.xml"))) == 1


def test_prune_removes_what_no_install_used_for_a_month(tmp_path):
    now = 1_000_000_000.0
    day = 86400

    def entry(name, age_days, stamp_age_days=None):
        folder = tmp_path / name
        folder.mkdir()
        os.utime(folder, (now - age_days * day,) * 2)
        if stamp_age_days is not None:
            (folder / oc.USED_STAMP).touch()
            os.utime(folder / oc.USED_STAMP, (now - stamp_age_days * day,) * 2)
        return folder

    keep = entry("current-8", 400, 400)  # the one being compiled: never removed
    entry("used-last-week-8", 400, 7)  # another install's, still in use: the stamp counts, not the folder
    entry("old-version-8", 5, 31)
    entry("never-stamped-8", 45)  # from before the stamp existed: the folder's own time
    entry("converting-8.77.tmp", 0.1)  # a conversion running now
    entry("killed-8.78.tmp", 2)
    (tmp_path / ".convert.lock").touch()
    (tmp_path / "verdicts.json").write_text("{}")
    removed = oc.prune(tmp_path, keep=keep, now=now)
    assert sorted(removed) == ["killed-8.78.tmp", "never-stamped-8", "old-version-8"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".convert.lock", "converting-8.77.tmp", "current-8",
                                                            "used-last-week-8", "verdicts.json"]
    assert oc.prune(tmp_path / "missing", keep=keep, now=now) == []

