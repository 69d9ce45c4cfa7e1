"""The opt-in int8 path (``precision: "int8"``): the attention rewrite it rests on computes what
``nn.MultiheadAttention`` computes, the quantized copy is made once and leaves the float32 model
(and so the exact path) untouched, and a job run with it says so and stays close to float32."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

PYDIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PYDIR))

from sfa_sidecar.separate import separate, warm  # noqa: E402
from sfa_sidecar.separation import models, precision, quantize, runner  # noqa: E402
from sfa_sidecar.server import Context  # noqa: E402

SR = 44100
STEMS = ["drums", "bass", "other", "vocals"]


class Recorder:
    def send(self, message):
        pass


@pytest.fixture(scope="module")
def mix_path(tmp_path_factory):
    t = np.arange(int(SR * 2.0)) / SR
    wav = np.stack([0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 55 * t),
                    0.3 * np.sin(2 * np.pi * 330 * t)], 1)
    path = tmp_path_factory.mktemp("audio") / "mix.wav"
    sf.write(str(path), wav.astype(np.float32), SR, subtype="PCM_16")
    return str(path)


def snr_db(ours: np.ndarray, ref: np.ndarray) -> float:
    noise = float(((ours.astype(np.float64) - ref) ** 2).sum())
    return math.inf if noise == 0 else 10 * math.log10(float((ref.astype(np.float64) ** 2).sum()) / noise)


def test_projected_attention_computes_what_multihead_attention_does():
    import torch

    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(64, 4, batch_first=True).eval()
    projected = quantize.with_projected_attention(torch.nn.Sequential(mha))[0]
    assert type(projected).__name__ == "ProjectedAttention"
    q, k = torch.randn(2, 50, 64), torch.randn(2, 30, 64)
    with torch.no_grad():
        for query, key in ((q, q), (q, k)):  # self- and cross-attention, as HTDemucs uses them
            expected = mha(query, key, key, need_weights=False)[0]
            got = projected(query, key, key, need_weights=False)[0]
            assert got.shape == expected.shape
            assert (got - expected).abs().max().item() < 1e-5
    with pytest.raises(ValueError):
        projected(q, q, q, attn_mask=torch.zeros(50, 50))


def test_quantized_copy_is_made_once_and_leaves_the_float_model_alone(repo):
    import torch

    model = models.load_demucs("tiny", repo)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copy = quantize.quantized(model)
    assert quantize.quantized(model) is copy
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in copy.modules())
    assert not any(isinstance(m, torch.nn.MultiheadAttention) for m in copy.modules())
    assert any(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_int8_choice_is_opt_in_and_cpu_only():
    import torch

    assert precision.choose("int8", "cpu", torch)[0] == ("int8" if quantize.engine_ready() else "float32")
    assert precision.choose("int8", "cuda", torch)[0] == "float32"
    # auto never picks int8: without native bf16 it is float32.
    assert precision.choose("auto", "cpu", torch, lambda: None)[0] == "float32"


def test_an_int8_job_says_so_and_stays_close_to_float32(repo, mix_path, tmp_path):
    if not quantize.engine_ready():
        pytest.skip("this torch has no int8 CPU engine (fbgemm/x86/qnnpack)")
    warmed = warm({"model": "tiny", "repo": repo, "device": "cpu", "precision": "int8"}, Context("t", Recorder()))
    assert warmed["precision"] == "int8"
    assert runner.cache().get("tiny", repo)[0] in quantize._copies  # the copy is made by warm
    base = {"path": mix_path, "model": "tiny", "repo": repo, "shifts": 0, "wavDepth": "float", "device": "cpu"}
    exact_before = separate({**base, "precision": "exact", "outDir": str(tmp_path / "a")}, Context("t", Recorder()))
    result = separate({**base, "precision": "int8", "outDir": str(tmp_path / "q")}, Context("t", Recorder()))
    exact_after = separate({**base, "precision": "exact", "outDir": str(tmp_path / "b")}, Context("t", Recorder()))
    assert result["precision"] == "int8" and "int8" in result["precisionReason"]
    assert exact_before["precision"] == exact_after["precision"] == "float32"
    for stem in STEMS:
        ref = sf.read(str(tmp_path / "a" / f"{stem}.wav"), dtype="float32")[0]
        ours = sf.read(str(tmp_path / "q" / f"{stem}.wav"), dtype="float32")[0]
        again = sf.read(str(tmp_path / "b" / f"{stem}.wav"), dtype="float32")[0]
        assert np.array_equal(ref, again)  # the exact path is untouched by the int8 copy
        assert np.abs(ref).max() > 1e-3
        assert snr_db(ours, ref) > 30.0
