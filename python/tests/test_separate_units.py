"""Unit tests for the separation package: device choice, threads, LRU cache, DSP separator,
writer formats, params and the catalogue. No neural network runs here."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfa_sidecar import audio  # noqa: E402
from sfa_sidecar.errors import BadRequestError  # noqa: E402
from sfa_sidecar.separation import devices, dsp, models, runner  # noqa: E402
from sfa_sidecar.separation.writer import BLOCK, StemWriter, encode_wav  # noqa: E402

SR = 44100


def fake_torch(cuda_build=True, cuda=False, name="NVIDIA H200", free=139.2e9, mps=False, broken=False):
    def is_available():
        if broken:
            raise RuntimeError("driver too old")
        return cuda

    cuda_mod = types.SimpleNamespace(
        is_available=is_available, current_device=lambda: 0, get_device_name=lambda i: name,
        mem_get_info=lambda i: (int(free), int(150e9)))
    return types.SimpleNamespace(
        version=types.SimpleNamespace(cuda="12.4" if cuda_build else None, hip=None),
        cuda=cuda_mod,
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: mps)))


# ------------------------------------------------------------------------------------ devices

def test_auto_prefers_cuda_with_name_and_free_memory():
    facts = devices.device_facts(fake_torch(cuda=True, mps=True))
    assert devices.choose_device("auto", facts) == ("cuda", "cuda: NVIDIA H200, 139.2 GB free")


def test_auto_then_mps_then_cpu():
    assert devices.choose_device("auto", devices.device_facts(fake_torch(cuda=False, mps=True)))[0] == "mps"
    device, reason = devices.choose_device(None, devices.device_facts(fake_torch(cuda_build=False)))
    assert (device, reason) == ("cpu", "cpu: torch has no CUDA")
    device, reason = devices.choose_device("auto", devices.device_facts(fake_torch(cuda_build=True, cuda=False)))
    assert (device, reason) == ("cpu", "cpu: no CUDA device found")
    device, reason = devices.choose_device("auto", devices.device_facts(fake_torch(broken=True)))
    assert device == "cpu" and "driver too old" in reason


def test_forced_devices():
    facts = devices.device_facts(fake_torch(cuda=True, mps=True))
    assert devices.choose_device("cpu", facts) == ("cpu", "cpu: forced by the user")
    assert devices.choose_device("mps", facts)[0] == "mps"
    assert devices.choose_device("CUDA", facts)[0] == "cuda"
    no_gpu = devices.device_facts(fake_torch(cuda_build=False))
    with pytest.raises(devices.DeviceUnavailableError) as info:
        devices.choose_device("cuda", no_gpu)
    assert info.value.code == "DEVICE_UNAVAILABLE" and "torch has no CUDA" in str(info.value)
    with pytest.raises(devices.DeviceUnavailableError):
        devices.choose_device("mps", no_gpu)
    with pytest.raises(BadRequestError):
        devices.choose_device("tpu", no_gpu)


def test_real_torch_here_is_cpu():
    device, reason = devices.choose_device("auto", devices.device_facts())
    assert device in ("cpu", "cuda", "mps") and reason.startswith(device + ":")


def test_mps_fallback_env_is_set():
    import os

    assert os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK") == "1"


def test_thread_count():
    assert devices.thread_count(3, cpu_count=16, concurrency=4) == 3
    assert devices.thread_count(None, cpu_count=16, concurrency=4) == 4
    assert devices.thread_count(None, cpu_count=2, concurrency=4) == 1
    with pytest.raises(BadRequestError):
        devices.thread_count(-1)


def test_out_of_memory_detection():
    import torch

    assert devices.is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate"))
    assert devices.is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert not devices.is_out_of_memory(RuntimeError("shape mismatch"))
    assert not devices.is_out_of_memory(ValueError("out of memory"))


# ------------------------------------------------------------------------------------ LRU cache

def test_lru_evicts_least_recently_used_and_empties_gpu_cache(monkeypatch):
    import torch

    emptied = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(1))
    loads = []
    cache = models.ModelCache(2, loader=lambda name, repo: loads.append(name) or object())
    a, warm = cache.get("a")
    assert not warm
    cache.get("b")
    assert cache.get("a") == (a, True)  # a is now the most recent
    cache.get("c")  # evicts b
    assert [k[0] for k in cache.keys()] == ["a", "c"]
    assert cache.evictions == [("b", None)] and emptied == [1]
    cache.get("b")  # reloads b, evicts a
    assert loads == ["a", "b", "c", "b"] and [k[0] for k in cache.keys()] == ["c", "b"]


def test_loading_skips_the_random_init_and_gives_the_checkpoint_exactly(repo):
    import torch
    from demucs.htdemucs import HTDemucs
    from sfa_sidecar.separation.tiny_model import TINY_KWARGS

    torch.manual_seed(1)
    rng = torch.get_rng_state()
    with models.random_init_skipped():
        HTDemucs(**TINY_KWARGS)
    assert torch.equal(torch.get_rng_state(), rng)  # no random number was drawn to fill a weight
    HTDemucs(**TINY_KWARGS)
    assert not torch.equal(torch.get_rng_state(), rng)  # and outside, layers fill as usual

    bag = models.load_demucs("tiny", repo)
    package = torch.load(next(Path(repo).glob("*.th")), "cpu", weights_only=False)
    state = bag.models[0].state_dict()
    assert state.keys() == package["state"].keys()
    assert all(torch.equal(state[k], v) for k, v in package["state"].items())


def test_only_the_loading_thread_skips_the_fills_and_only_while_it_loads(tmp_path):
    import threading

    import torch

    def draws(build) -> bool:
        rng = torch.get_rng_state()
        build()
        return not torch.equal(torch.get_rng_state(), rng)

    (tmp_path / "bad.yaml").write_text("models: ['bad']\n")
    (tmp_path / "bad.th").write_bytes(b"not a checkpoint" * 8)
    with pytest.raises(models.ModelUnavailableError, match="could not be read"):
        models.load_demucs("bad", str(tmp_path))
    assert draws(lambda: torch.nn.Linear(8, 8))  # after a load that failed while building
    seen = []
    with models.random_init_skipped():
        other = threading.Thread(target=lambda: seen.append(draws(lambda: torch.nn.Linear(8, 8))))
        other.start()
        other.join()
        assert not draws(lambda: torch.nn.MultiheadAttention(8, 2))
    assert seen == [True]  # another thread, meanwhile


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated"])
def test_a_damaged_model_file_is_a_clear_error_that_names_the_repo(tmp_path, damage):
    from sfa_sidecar.separation.tiny_model import build

    th = build(tmp_path, "tiny")
    data = th.read_bytes()
    th.write_bytes({"garbage": b"not a checkpoint" * 8, "empty": b"", "truncated": data[: len(data) // 2]}[damage])
    with pytest.raises(models.ModelUnavailableError) as error:
        models.load_demucs("tiny", str(tmp_path))
    assert f"in the model repo {tmp_path} could not be read" in str(error.value)
    assert "download" not in str(error.value)  # a local repo's files: no download would help


# ------------------------------------------------------------------------------------ DSP

def _mix(seconds=4.0, stereo=True, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    voice = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.3 * np.sin(2 * np.pi * 5 * t))
    bass = 0.3 * np.sin(2 * np.pi * 55 * t)
    clicks = np.zeros_like(t)
    clicks[:: SR // 2] = 1.0
    drums = np.convolve(clicks, rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300), "same") * 0.2
    left = voice + bass + drums + 0.1 * np.sin(2 * np.pi * 660 * t)
    right = voice + bass + drums - 0.1 * np.sin(2 * np.pi * 660 * t)
    wav = np.stack([left, right]) if stereo else np.stack([left, left])
    return (wav * 0.5).astype(np.float32)


@pytest.mark.parametrize("stereo", [True, False])
def test_dsp_stems_sum_to_the_mix(stereo):
    wav = _mix(stereo=stereo)
    seen = []
    stems, warnings = dsp.separate(wav, lambda f, m: seen.append(f))
    assert list(stems) == ["drums", "bass", "other", "vocals"]
    total = sum(stems.values())
    assert total.shape == wav.shape
    assert float(np.abs(total - wav).max()) < 1e-5
    assert seen == sorted(seen) and seen[-1] == 1.0
    for name, stem in stems.items():
        assert np.abs(stem).max() > 1e-3, name  # each stem carries something
    assert bool(warnings) == (not stereo)
    # the bass stem is mostly low frequencies
    spec = np.abs(np.fft.rfft(stems["bass"][0]))
    freqs = np.fft.rfftfreq(stems["bass"].shape[-1], 1 / SR)
    assert (spec[freqs < 150] ** 2).sum() > 5 * (spec[freqs >= 300] ** 2).sum()


@pytest.mark.parametrize("frames", [5, 40, 41, 49, 57])
def test_dsp_median_in_blocks_equals_one_call(monkeypatch, frames):
    from scipy.ndimage import median_filter

    monkeypatch.setattr(dsp, "BLOCK", 8)  # blocks shorter than the kernel; a last block of 1 frame at 41, 49, 57
    mag = np.random.default_rng(frames).random((33, frames), dtype=np.float32)
    steps = []
    blocked = dsp._median_along_time(mag, 17, lambda: steps.append(1))
    assert np.array_equal(blocked, median_filter(mag, size=(1, 17), mode="reflect"))
    assert len(steps) == -(-frames // 8)


def test_dsp_reports_every_block_and_a_cancel_stops_it_early(monkeypatch):
    wav = _mix(stereo=True)
    monkeypatch.setattr(dsp, "BLOCK", 16)
    seen = []
    dsp.separate(wav, lambda f, m: seen.append((f, m)))
    frames = 1 + -(-wav.shape[-1] // dsp.HOP)
    blocks = -(-frames // 16)
    assert len(seen) == 2 + 2 + 2 * blocks + 3 * 2  # start, 2 STFTs, two passes, 6 inverse STFTs, done
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1] == (1.0, "done")
    assert max(b - a for (a, _), (b, _) in zip(seen, seen[1:])) <= 1 / (2 + 2 * blocks + 6) + 1e-9

    class Cancelled(Exception):
        pass

    calls = []

    def cancel_in_the_median(f, m):
        calls.append(m)
        if m == "harmonic/percussive split":
            raise Cancelled()

    with pytest.raises(Cancelled):
        dsp.separate(wav, cancel_in_the_median)
    assert calls == ["stft", "stft", "stft", "harmonic/percussive split"]  # stopped after the first block


# ------------------------------------------------------------------------------------ writer

def test_wav_encoding_matches_demucs_bit_for_bit(tmp_path):
    import torch
    from demucs.audio import encode_wav as demucs_encode_wav

    # longer than one encoding block, and over full scale so that clamping matters
    wav = (np.random.default_rng(1).standard_normal((2, 2 * BLOCK + 5000)) * 0.4).astype(np.float32)
    for depth, kwargs in [(16, {"bits_per_sample": 16}), (24, {"bits_per_sample": 24}), ("float", {"as_float": True})]:
        ref = tmp_path / f"ref{depth}.wav"
        demucs_encode_wav(torch.from_numpy(wav), ref, SR, **kwargs)
        ours = tmp_path / f"ours{depth}.wav"
        with open(ours, "wb") as handle:
            encode_wav(wav, handle, SR, depth)
        assert ours.read_bytes() == ref.read_bytes(), depth


@pytest.mark.parametrize("clip", ["rescale", "clamp", "none"])
def test_stems_equal_demucs_save_audio_bit_for_bit(tmp_path, clip):
    import torch
    from demucs.audio import save_audio

    rng = np.random.default_rng(2)
    stems = {name: (rng.standard_normal((2, 2 * BLOCK + 777)) * scale).astype(np.float32)
             for name, scale in [("drums", 0.6), ("bass", 0.2), ("other", 0.5), ("vocals", 0.05)]}
    stems["bass"][1, 100] = -1.7  # a stem whose peak is negative: rescale's divisor comes from it
    writer = StemWriter(tmp_path / "ours", fmt="wav", depth=16, samplerate=SR, clip=clip)
    writer.add_all(stems)
    written = writer.commit()
    for name, wav in stems.items():
        ref = tmp_path / f"{name}.wav"
        save_audio(torch.from_numpy(wav), ref, SR, clip=clip, bits_per_sample=16)
        assert Path(written[name]["path"]).read_bytes() == ref.read_bytes(), name


def test_rescale_finds_the_peak_without_a_copy_of_the_stem():
    """Four writer threads each took np.abs of a whole stem at once: ~340 MB for four minutes."""
    import tracemalloc

    from sfa_sidecar.separation.writer import clip_function

    wav = np.zeros((2, 1_000_000), dtype=np.float32)
    wav[0, 10], wav[1, 20] = 1.5, -2.5
    tracemalloc.start()
    try:
        rescale = clip_function(wav, "rescale")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < wav.nbytes / 10, peak
    assert float(rescale(wav[:, 15:25]).min()) == pytest.approx(-1 / 1.01)


def test_a_failure_while_writing_removes_every_part(tmp_path):
    class Stop(Exception):
        pass

    calls = []

    def check():
        calls.append(1)
        if len(calls) == 5:  # in the middle of the stems' blocks
            raise Stop()

    writer = StemWriter(tmp_path / "out", fmt="wav", depth=16)
    with pytest.raises(Stop):
        writer.add_all({name: _mix(3 * BLOCK / SR) for name in ("drums", "bass", "other", "vocals")}, check)
    assert len(writer.parts) == 4 and any(part.exists() for part, *_ in writer.parts)
    writer.abort()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("fmt,depth", [("wav", 16), ("wav", 24), ("wav", "float"), ("flac", 16), ("flac", 24),
                                       ("mp3", 16)])
def test_formats_decode_to_the_right_duration(tmp_path, fmt, depth):
    import soundfile as sf

    wav = _mix(seconds=2.0)
    writer = StemWriter(tmp_path, fmt=fmt, depth=depth, samplerate=SR)
    writer.add("vocals", wav)
    assert list(tmp_path.iterdir()) == [tmp_path / f".vocals.{fmt}.part"]
    stems = writer.commit()
    path = Path(stems["vocals"]["path"])
    assert path == tmp_path / f"vocals.{fmt}" and path.stat().st_size == stems["vocals"]["size"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"vocals.{fmt}"]
    decoded = audio.decode(str(path), SR, 2)
    tolerance = 0.06 if fmt == "mp3" else 0
    assert abs(decoded.shape[1] / SR - 2.0) <= tolerance + 1e-9
    assert stems["vocals"]["duration"] == 2.0
    if fmt != "mp3":
        info = sf.info(str(path))
        expect = {16: "PCM_16", 24: "PCM_24", "float": "FLOAT"}[depth]
        assert info.subtype == expect
        assert np.abs(decoded - wav).max() < (2e-4 if depth == 16 else 1e-6)
    else:
        bitrate = path.stat().st_size * 8 / 2.0 / 1000
        assert 250 < bitrate < 360  # 320 kb/s


def test_writer_abort_removes_parts(tmp_path):
    writer = StemWriter(tmp_path / "out", fmt="wav", depth=16)
    writer.add("drums", _mix(1.0))
    writer.add("bass", _mix(1.0))
    writer.abort()
    assert list((tmp_path / "out").iterdir()) == []


# ------------------------------------------------------------------------------------ params, catalogue

def test_params_validation():
    base = {"path": "/x.wav", "outDir": "/o"}
    p = runner.parse(base)
    assert (p["model"], p["shifts"], p["overlap"], p["format"], p["wavDepth"], p["mp3Bitrate"]) == (
        "htdemucs", 1, 0.25, "wav", 16, 320)
    assert runner.parse({**base, "wavDepth": 32})["wavDepth"] == "float"
    for bad in [{"path": ""}, {"shifts": -1}, {"shifts": 1.5}, {"overlap": 1.0}, {"segment": 0},
                {"wavDepth": 8}, {"stems": "vocals"}, {"twoStems": "vocals", "stems": ["drums"]}]:
        with pytest.raises(BadRequestError):
            runner.parse({**base, **bad})
    with pytest.raises(BadRequestError):
        StemWriter.validate(fmt="ogg")


def test_catalog_lists_models_with_sources(tmp_path):
    entries = {e["name"]: e for e in models.catalog()}
    assert set(entries) == {"htdemucs", "htdemucs_ft", "htdemucs_6s", "hdemucs_mmi", "mdx", "mdx_extra", "mdx_q",
                            "mdx_extra_q", "dsp"}
    assert entries["htdemucs"]["sources"] == [
        "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th"]
    assert len(entries["htdemucs_ft"]["sources"]) == 4 and entries["htdemucs_ft"]["bag"] == 4
    assert entries["htdemucs_6s"]["stems"][-2:] == ["guitar", "piano"]
    assert entries["dsp"]["installed"] and "lower quality" in entries["dsp"]["quality"]
    (tmp_path / "abc12345.th").write_bytes(b"x")
    (tmp_path / "mine.yaml").write_text("models: ['abc12345']\n")
    (tmp_path / "broken.yaml").write_text("models: ['missing1']\n")
    assert models.repo_models(tmp_path) == ["abc12345", "mine"]
    result = runner.models_op({"repo": str(tmp_path)}, None)
    assert result["repoModels"] == ["abc12345", "mine"]
    assert all(not e["installedInRepo"] for e in result["models"] if e["name"] != "dsp")


@pytest.mark.parametrize("shifts,seconds", [(0, 3.0), (1, 3.0), (2, 3.0), (1, 0.3)])
def test_chunked_apply_model_equals_demucs_without_copies_of_the_mix_or_the_result(repo, shifts, seconds, monkeypatch):
    """Our chunked apply_model gives demucs' values (shifts and a bag's weighting included), without
    demucs' copies: the result is the first split's own tensor (demucs' ``out = 0.0; out += res``
    copies the whole result while it is still held, ~340 MB for four minutes), and the shifts read
    the mix itself, not a copy padded with zeros: the same values, bit for bit. A mix shorter than
    the largest shift still takes the padded copy."""
    import random

    import torch
    from demucs.apply import TensorChunk, tensor_chunk
    from demucs.apply import apply_model as demucs_apply_model
    from demucs.pretrained import get_model

    from sfa_sidecar.separation import chunked

    bag = get_model("tiny", repo=Path(repo))
    mix = torch.randn(1, 2, int(bag.samplerate * seconds), generator=torch.Generator().manual_seed(5)) * 0.3
    random.seed(7)
    with torch.no_grad():
        ref = demucs_apply_model(bag, mix, shifts=shifts, overlap=0.25, split=True, progress=False)
    splits, shifted = [], []
    real_split, real_shifted = chunked._split, chunked._shifted
    monkeypatch.setattr(chunked, "_split", lambda *a, **k: splits.append(real_split(*a, **k)) or splits[-1])
    monkeypatch.setattr(chunked, "_shifted", lambda *a: shifted.append(a) or real_shifted(*a))
    random.seed(7)
    ours = chunked.apply_model(bag, mix, shifts=shifts, overlap=0.25)
    assert torch.allclose(ours, ref, rtol=0, atol=1e-6), float((ours - ref).abs().max())  # demucs' rounding aside
    assert len(splits) == max(shifts, 1) * len(bag.models)
    assert ours.untyped_storage().data_ptr() == splits[0].untyped_storage().data_ptr()
    assert len(shifted) == (shifts * len(bag.models) if seconds > 0.5 else 0)
    if shifted:
        def padded_copy(mix, offset, max_shift, length):  # demucs' way
            return TensorChunk(tensor_chunk(mix).padded(length + 2 * max_shift), offset, length + max_shift - offset)

        monkeypatch.setattr(chunked, "_shifted", padded_copy)
        random.seed(7)
        assert torch.equal(chunked.apply_model(bag, mix, shifts=shifts, overlap=0.25), ours)

