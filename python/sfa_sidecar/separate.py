"""Ops ``separate``, ``warm`` and ``models``: stem separation with Demucs (or the DSP fallback).

separate params (JSON):
  {path, outDir, model="htdemucs", repo?, device="auto"|"cpu"|"cuda"|"mps", shifts=1, overlap=0.25,
   segment?, twoStems?, stems?, format="wav"|"flac"|"mp3", wavDepth=16|24|"float", mp3Bitrate=320,
   instrumental=false, threads?, clip="rescale"|"clamp"|"none", seed?, precision="auto"|"exact"|"bf16",
   batch? (chunks per forward pass; default chosen by measurement)}
  (precision: "auto" uses bfloat16 on a CPU that computes it natively and measured faster, float32
   elsewhere; "exact" is always float32, the CLI's arithmetic. See separation/precision.py.)
  (seed: seeds Python's random before apply_model, so shifts > 0 are reproducible; the CLI equals
   this with random.seed(seed) at start. segment in seconds, <= the model's training segment.)
separate result:
  {model, device, deviceReason, sampleRate, stems: {name: {path, size, duration, format}},
   timings: {decode, load, compute, write, total} (seconds), segment (effective, s; null for dsp),
   shifts, overlap, warm (model was already loaded), threads,
   fallbacks: [{from, to, fromSegment, toSegment, reason}], precision ("float32"|"bf16"),
   precisionReason, warnings: [..], audioSeconds}
warm params {model, repo?, device?, threads?, precision?} -> {model, device, deviceReason, warm, load,
   sources, sampleRate, cached, precision, precisionReason}
gpu_memory params {index?} -> {devices: [{index, freeMemory, totalMemory}]}: the GPU's memory now
   (asked by the engine's GPU gate before a job; creates this sidecar's CUDA context on that device).
   A job that leaves the GPU reports progress "...; retrying on cpu" (the gate frees its slot).
models params {repo?} -> {models: [{name, stems, size_mb, quality, bag, kind, sources, hub,
   installed, installedInRepo?}], repo?, repoModels?}

torch and demucs are imported on the first request that needs them, not when the sidecar starts.
"""

from __future__ import annotations

from typing import Any

from . import separation  # noqa: F401 - sets PYTORCH_ENABLE_MPS_FALLBACK before torch loads
from .server import Context, Op


def separate(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from .separation import runner

    return runner.run(params, ctx)


def warm(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from .separation import runner

    return runner.warm(params, ctx)


def models(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from .separation import runner

    return runner.models_op(params, ctx)


def gpu_memory(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from .separation import devices

    return {"devices": devices.cuda_memory(params.get("index"))}


def ops() -> dict[str, Op]:
    return {"separate": separate, "warm": warm, "models": models, "gpu_memory": gpu_memory}
