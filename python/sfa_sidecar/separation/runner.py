"""One separation job: decode, (warm) model, compute with progress/cancel/OOM fallback, write."""

from __future__ import annotations

import os
import random
import time
from typing import Any, Callable

import numpy as np

from .. import allocator, audio
from ..errors import BadRequestError, CancelledError
from . import chunked, devices, dsp, models, openvino_choice, openvino_core, precision, quantize
from .writer import StemWriter

DEFAULTS = {"model": "htdemucs", "device": "auto", "shifts": 1, "overlap": 0.25, "format": "wav",
            "wavDepth": 16, "mp3Bitrate": 320, "clip": "rescale", "precision": "auto"}
# Chunks per forward pass on the CPU (chosen by measurement: bench/separation.py); accelerators 1.
CPU_BATCH = 1
MIN_SEGMENT = 1.0  # seconds: the smallest segment an OOM retry goes down to

_cache: models.ModelCache | None = None
# Hooks the tests replace (faked CUDA facts, a fake apply_model that raises OOM).
device_facts: Callable[[], devices.DeviceFacts] = devices.device_facts
apply_model_fn: Callable[..., Any] | None = None


def cache() -> models.ModelCache:
    global _cache
    if _cache is None:
        _cache = models.ModelCache(models.default_capacity())
    return _cache


# ---------------------------------------------------------------------------------- params

def _str(params: dict, key: str, required: bool = False, default: str | None = None) -> str | None:
    value = params.get(key, default)
    if value is None:
        if required:
            raise BadRequestError(f"params.{key} is required")
        return None
    if not isinstance(value, str) or not value:
        raise BadRequestError(f"params.{key} must be a non-empty string")
    return value


def _num(params: dict, key: str, kind: type, default: Any, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False) -> Any:
    value = params.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and int(value) != value):
        raise BadRequestError(f"params.{key} must be a{'n integer' if kind is int else ' number'}, not {value!r}")
    value = kind(value)
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise BadRequestError(f"params.{key} is out of range: {value}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise BadRequestError(f"params.{key} is out of range: {value}")
    return value


def _choose(requested: str | None) -> tuple[str, str]:
    """The device; a job forced onto the CPU never asks CUDA (which would create a context)."""
    if (requested or "auto").lower() == "cpu":
        return devices.choose_device("cpu", devices.DeviceFacts(False, False))
    return devices.choose_device(requested, device_facts())


def parse(params: dict) -> dict[str, Any]:
    p: dict[str, Any] = {
        "path": _str(params, "path", required=True),
        "outDir": _str(params, "outDir", required=True),
        "model": _str(params, "model", default=DEFAULTS["model"]),
        "repo": _str(params, "repo"),
        "device": _str(params, "device", default=DEFAULTS["device"]),
        "shifts": _num(params, "shifts", int, DEFAULTS["shifts"], 0, 20),
        "overlap": _num(params, "overlap", float, DEFAULTS["overlap"], 0.0, 1.0, hi_open=True),
        "segment": _num(params, "segment", float, None, 0.0, None, lo_open=True),
        "twoStems": _str(params, "twoStems"),
        "format": _str(params, "format", default=DEFAULTS["format"]),
        "mp3Bitrate": _num(params, "mp3Bitrate", int, DEFAULTS["mp3Bitrate"], 32, 320),
        "instrumental": bool(params.get("instrumental", False)),
        "threads": _num(params, "threads", int, None, 1, 1024),
        "clip": _str(params, "clip", default=DEFAULTS["clip"]),
        "seed": _num(params, "seed", int, None),
        "precision": _str(params, "precision", default=DEFAULTS["precision"]),
        "batch": _num(params, "batch", int, None, 1, 16),
    }
    if p["precision"] not in precision.PRECISIONS:
        raise BadRequestError(f"params.precision must be one of {', '.join(precision.PRECISIONS)}, "
                              f"not {p['precision']!r}")
    depth = params.get("wavDepth", DEFAULTS["wavDepth"])
    if depth in (32, "32", "float32", "float"):
        depth = "float"
    elif depth in (16, "16", 24, "24"):
        depth = int(depth)
    else:
        raise BadRequestError(f"params.wavDepth must be 16, 24 or 'float', not {depth!r}")
    p["wavDepth"] = depth
    stems = params.get("stems")
    if stems is not None and (not isinstance(stems, list) or not all(isinstance(s, str) for s in stems) or not stems):
        raise BadRequestError("params.stems must be a non-empty list of stem names")
    p["stems"] = stems
    if p["twoStems"] and stems:
        raise BadRequestError("give either params.twoStems or params.stems, not both")
    return p


def _select(sources: list[str], p: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Which stems to write, in order: all, a subset, or stem + no_stem; plus an instrumental."""
    chosen: dict[str, np.ndarray] = {}
    if p["twoStems"]:
        stem = p["twoStems"]
        chosen[stem] = arrays[stem]
        rest = np.zeros_like(arrays[stem])
        for name in sources:
            if name != stem:
                rest += arrays[name]
        chosen["no_" + stem] = rest
    else:
        for name in (p["stems"] or sources):
            chosen[name] = arrays[name]
    if p["instrumental"]:
        inst = np.zeros_like(arrays[sources[0]])
        for name in sources:
            if name != "vocals":
                inst += arrays[name]
        chosen["instrumental"] = inst
    return chosen


def _check_stems(sources: list[str], p: dict[str, Any]) -> None:
    for stem in ([p["twoStems"]] if p["twoStems"] else []) + list(p["stems"] or []):
        if stem not in sources:
            raise BadRequestError(f"stem {stem!r} is not produced by model {p['model']!r} "
                                  f"(it has: {', '.join(sources)})", detail={"stems": sources})
    if p["instrumental"] and "vocals" not in sources:
        raise BadRequestError(f"model {p['model']!r} has no vocals stem, so no instrumental")


# ---------------------------------------------------------------------------------- compute

def _submodels(model: Any) -> list[Any]:
    return list(model.models) if hasattr(model, "models") and hasattr(model, "weights") else [model]


def max_segment(model: Any) -> float:
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    limits = [float(m.segment) for m in _submodels(model) if isinstance(m, HTDemucs)]
    return min(limits) if limits else float("inf")


def chunk_total(model: Any, length: int, shifts: int, overlap: float, segment: float | None) -> int:
    """The number of model calls apply_model will make (an upper bound when shifts > 0)."""
    total = 0
    for sub in _submodels(model):
        seg = float(segment if segment is not None else sub.segment)
        seg_len = int(sub.samplerate * seg)
        stride = max(1, int((1 - overlap) * seg_len))
        span = length + (int(0.5 * sub.samplerate) if shifts else 0)
        total += max(1, shifts) * len(range(0, span, stride))
    return max(1, total)


def _apply(model: Any, mix: Any, device: str, p: dict[str, Any], segment: float | None,
           on_chunk: Callable[[dict], None], autocast: Callable[[], Any] | None = None,
           forward: chunked.Forward | None = None) -> Any:
    if p["seed"] is not None:
        random.seed(p["seed"])  # the shift offsets come from Python's random, as in the CLI
    if apply_model_fn is not None:  # a test's stand-in with demucs' signature
        return apply_model_fn(model, mix, shifts=p["shifts"], split=True, overlap=p["overlap"], device=device,
                              num_workers=0, segment=segment, progress=False, callback=on_chunk,
                              callback_arg={"audio_length": int(mix.shape[-1])})
    if isinstance(forward, openvino_choice.Forward):
        batch = forward.in_flight  # the chunks it runs at once
    elif p["batch"] is not None:
        batch = p["batch"]
    else:
        batch = CPU_BATCH if device == "cpu" else 1
    return chunked.apply_model(model, mix, shifts=p["shifts"], overlap=p["overlap"], segment=segment, device=device,
                               batch=batch, autocast=autocast, callback=on_chunk, forward=forward)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def segment_retry_helps(model: Any) -> bool:
    """A smaller segment lowers the memory of a forward pass only for models that run on the
    length they are given (Demucs v3: 44 s segments). HTDemucs pads every chunk back to its
    training length in eval mode, so the retry would cost the same memory in twice the calls."""
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    return not any(isinstance(m, HTDemucs) for m in _submodels(model))


def openvino_wanted(requested: str | None, device: str, used_precision: str, batch: int | None = None) -> bool:
    """OpenVINO for the default path's float32 on the CPU (``openvino_core``; ``SFA_OPENVINO=0``
    turns it off); "exact" stays PyTorch's arithmetic, the CLI's, and so does an explicit
    ``batch`` (a knob for measuring PyTorch: OpenVINO sets its own, the chunks it runs at once)."""
    return (device == "cpu" and used_precision == "float32" and (requested or "auto") == "auto" and batch is None
            and os.environ.get("SFA_OPENVINO", "1") != "0" and apply_model_fn is None)


def openvino_forward(p: dict[str, Any], device: str, used_precision: str, ctx: Any,
                     progress_at: float) -> openvino_choice.Forward | None:
    if not openvino_wanted(p["precision"], device, used_precision, p["batch"]):
        return None
    import torch  # noqa: PLC0415

    return openvino_choice.Forward(chunked.eager(None, device), torch.get_num_threads(),
                                   progress=lambda message: ctx.progress(progress_at, message, force=True))


def compute_with_fallback(model: Any, wav: Any, device: str, p: dict[str, Any], ctx: Any,
                          lo: float, hi: float) -> tuple[Any, str, float | None, list[dict[str, Any]], tuple[str, str], tuple[str, str]]:
    """Normalise as demucs' CLI does, apply the model, de-normalise. On accelerator out-of-memory
    retry with half the segment (where that helps), then on the CPU; an op MPS refuses goes to the
    CPU too; every step is recorded in ``fallbacks``. Memory is released after the ``except``
    block: inside it the traceback still holds the failed forward pass's tensors. ``wav`` becomes
    the normalised mix in place (the same rounding as ``(wav - mean) / std``; a copy is ~85 MB for
    four minutes of stereo, held for the whole job): the caller does not use it afterwards."""
    ref = wav.mean(0)
    mean = ref.mean()
    std = ref.std() + 1e-8
    del ref
    mix = wav.sub_(mean).div_(std)[None]
    segment = p["segment"]
    model_segment = min(float(m.segment) for m in _submodels(model))
    fallbacks: list[dict[str, Any]] = []
    tried_smaller = not segment_retry_helps(model)
    while True:
        total = chunk_total(model, mix.shape[-1], p["shifts"], p["overlap"], segment)
        state = {"done": 0}

        def on_chunk(info: dict, state=state, total=total, device=device) -> None:
            if info.get("state") == "end":
                state["done"] += 1
            frac = min(1.0, state["done"] / total)
            ctx.progress(lo + (hi - lo) * frac, f"separating on {device}: chunk {state['done']}/{total}")

        chosen_precision = precision.choose(p["precision"], device)
        failure: str | None = None
        try:
            # int8 runs a quantized copy (made once per loaded model); the float32 model stays as it is.
            runs = quantize.quantized(model) if chosen_precision[0] == "int8" else model
            forward = openvino_forward(p, device, chosen_precision[0], ctx, lo)
            if forward is None:  # PyTorch runs this job (Forward sets the allocator per call)
                allocator.for_runtime("torch")
                if device == "cpu":  # no OpenVINO buffers under PyTorch's activations
                    for sub in _submodels(model):
                        openvino_core.release(sub)
            out = _apply(runs, mix, device, p, segment, on_chunk, precision.autocast_for(chosen_precision[0], device),
                         forward)
        except CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - only accelerator failures are handled here
            if device != "cpu" and devices.is_broken_context(exc):
                raise devices.GpuContextLostError(
                    f"the GPU failed ({_short(exc)}); the separation will be retried in a fresh process",
                    detail={"device": device}) from None
            if devices.is_mps_unsupported(exc, device):
                failure = f"MPS cannot run this model here: {_short(exc)}"
            elif device != "cpu" and devices.is_out_of_memory(exc):
                failure = f"out of memory: {_short(exc)}"
            else:
                raise
        if failure is None:
            break
        # Out of the except block: the traceback and the tensors its frames held are gone now.
        models.release_memory()
        current = float(segment if segment is not None else model_segment)
        if failure.startswith("out of memory") and not tried_smaller and current / 2 >= MIN_SEGMENT:
            tried_smaller = True
            fallbacks.append({"from": device, "to": device, "fromSegment": current, "toSegment": current / 2,
                              "reason": failure})
            segment = current / 2
        else:
            fallbacks.append({"from": device, "to": "cpu", "fromSegment": current, "toSegment": current,
                              "reason": failure})
            try:
                model.to("cpu")
            except Exception:  # noqa: BLE001 - a fake model in tests
                pass
            models.release_memory()
            device = "cpu"
        ctx.progress(lo, f"{failure.split(':')[0]}; retrying on {device}", force=True)
    out = out.mul_(std).add_(mean)  # in place: the same rounding as `out * std + mean`, no two copies
    runtime = forward.runtime() if forward is not None else ("torch", "PyTorch")
    return out[0], device, float(segment if segment is not None else model_segment), fallbacks, chosen_precision, runtime


# ---------------------------------------------------------------------------------- job

def run(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    try:
        return _run(params, ctx)
    finally:
        # The job's buffers go back to the OS (a warm sidecar otherwise idles at its peak), once the
        # reply is out: the trim takes ~40 ms after a full-size separation. Contexts without that
        # hook (the cluster actor's) trim here.
        deferred = getattr(ctx, "after_reply", None)
        if deferred is not None:
            deferred.append(models.trim_heap)
        else:
            models.trim_heap()


def _run(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    t_start = time.perf_counter()
    p = parse(params)
    name = p["model"]
    is_dsp = name in models.DSP_MODELS
    writer_args = dict(fmt=p["format"], depth=p["wavDepth"], bitrate=p["mp3Bitrate"], clip=p["clip"])
    StemWriter.validate(**writer_args)
    warnings: list[str] = []
    fallbacks: list[dict[str, Any]] = []
    ctx.progress(0.0, "decoding", force=True)

    if is_dsp:
        if p["device"] not in (None, "auto", "cpu"):
            devices.choose_device(p["device"], device_facts())  # a forced unavailable device still errors
        device, reason = "cpu", "cpu: the dsp separator runs on the CPU"
        sources = list(dsp.SOURCES)
        _check_stems(sources, p)
        t0 = time.perf_counter()
        wav = audio.decode(p["path"], dsp.SAMPLERATE, dsp.CHANNELS)
        t_decode = time.perf_counter() - t0
        samplerate, t_load, threads, was_warm = dsp.SAMPLERATE, 0.0, None, True
        ctx.progress(0.05, "separating (dsp)")
        t0 = time.perf_counter()
        arrays, warnings = dsp.separate(wav, lambda f, m: ctx.progress(0.05 + 0.85 * f, f"dsp: {m}"))
        t_compute = time.perf_counter() - t0
        segment = None
        used_precision, precision_reason = "float32", "float32: the dsp separator"
        runtime, runtime_reason = "numpy", "the dsp separator"
    else:
        import torch  # noqa: PLC0415

        device, reason = _choose(p["device"])
        threads = devices.thread_count(p["threads"])
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        t0 = time.perf_counter()
        wav_np = audio.decode(p["path"], 44100, 2)
        t_decode = time.perf_counter() - t0
        ctx.progress(0.03, f"loading {name}")
        t0 = time.perf_counter()
        model, was_warm = cache().get(name, p["repo"])
        if not was_warm:
            models.trim_heap()  # the checkpoint, freed under the decoded mix, is not returned otherwise
        t_load = time.perf_counter() - t0
        sources = list(model.sources)
        _check_stems(sources, p)
        if p["segment"] is not None and p["segment"] > max_segment(model):
            raise BadRequestError(f"segment {p['segment']} s is longer than model {name!r} allows "
                                  f"({max_segment(model):.2f} s)")
        samplerate = int(model.samplerate)
        if samplerate != 44100 or model.audio_channels != 2:
            t0 = time.perf_counter()
            wav_np = audio.decode(p["path"], samplerate, int(model.audio_channels))
            t_decode += time.perf_counter() - t0
        ctx.progress(0.05, f"separating on {device}")
        t0 = time.perf_counter()
        first_device = device
        try:
            out, device, segment, fallbacks, (used_precision, precision_reason), (runtime, runtime_reason) = compute_with_fallback(
                model, torch.from_numpy(wav_np), device, p, ctx, 0.05, 0.9)
        finally:
            allocator.for_runtime("")  # PyTorch's chunks are done: the writer and the next load map theirs
            if first_device != "cpu":
                # Give the allocator's cache back after every accelerator job (also after a
                # failure or a CPU fallback), so that another sidecar can use that memory.
                models.release_memory()
        t_compute = time.perf_counter() - t0
        if fallbacks and fallbacks[-1]["to"] == "cpu":
            reason = f"cpu: fell back from {fallbacks[0]['from']} ({fallbacks[-1]['reason']})"
        arrays = {s: out[i].detach().cpu().numpy() for i, s in enumerate(sources)}
        del out

    ctx.check()
    chosen = _select(sources, p, arrays)
    t0 = time.perf_counter()
    writer = StemWriter(p["outDir"], samplerate=samplerate, **writer_args)
    try:
        ctx.progress(0.9, f"writing {', '.join(chosen)}", force=True)
        writer.add_all(chosen, check=ctx.check)
        ctx.check()
        stems = writer.commit()
    except BaseException:
        writer.abort()
        raise
    t_write = time.perf_counter() - t0
    ctx.progress(1.0, "done", force=True)
    result = {
        "model": name,
        "device": device,
        "deviceReason": reason,
        "sampleRate": samplerate,
        "stems": stems,
        "timings": {"decode": t_decode, "load": t_load, "compute": t_compute, "write": t_write,
                    "total": time.perf_counter() - t_start},
        "segment": segment,
        "shifts": p["shifts"],
        "overlap": p["overlap"],
        "warm": was_warm,
        "threads": threads,
        "fallbacks": fallbacks,
        "precision": used_precision,
        "precisionReason": precision_reason,
        "runtime": runtime,
        "runtimeReason": runtime_reason,
        "warnings": warnings,
        "audioSeconds": next(iter(arrays.values())).shape[-1] / samplerate,
    }
    return result


def warm(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    name = _str(params, "model", default=DEFAULTS["model"])
    repo = _str(params, "repo")
    if name in models.DSP_MODELS:
        return {"model": name, "device": "cpu", "deviceReason": "cpu: the dsp separator runs on the CPU",
                "warm": True, "load": 0.0, "cached": [k[0] for k in cache().keys()]}
    device, reason = _choose(_str(params, "device", default="auto"))
    import torch  # noqa: PLC0415

    threads = devices.thread_count(params.get("threads"))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    ctx.progress(0.0, f"loading {name}", force=True)
    t0 = time.perf_counter()
    model, was_warm = cache().get(name, repo)
    models.trim_heap()
    if device != "cpu" and not hasattr(model, "weights"):  # bags are moved per sub-model by demucs
        model.to(device)
    # The CPU precision's self-measurement (once per machine) happens here, not in the first job.
    requested = _str(params, "precision", default="auto")
    used_precision, precision_reason = precision.choose(requested, device)
    if used_precision == "int8":
        quantize.quantized(model)  # made here, not in the first job
    if openvino_wanted(requested, device, used_precision):
        # Converted (once per model, cached) and compiled here rather than in the first job.
        for sub in _submodels(model):
            openvino_choice.prepare(sub, threads, lambda message: ctx.progress(0.5, message, force=True))
    return {"model": name, "device": device, "deviceReason": reason, "warm": was_warm,
            "load": time.perf_counter() - t0, "sources": list(model.sources),
            "sampleRate": int(model.samplerate), "cached": [k[0] for k in cache().keys()],
            "precision": used_precision, "precisionReason": precision_reason}


def models_op(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    repo = _str(params, "repo")
    if repo is not None and not os.path.isdir(repo):
        raise BadRequestError(f"model repo {repo} is not a folder")
    result: dict[str, Any] = {"models": models.catalog(repo)}
    if repo is not None:
        result["repo"] = repo
        result["repoModels"] = models.repo_models(repo)
    return result
