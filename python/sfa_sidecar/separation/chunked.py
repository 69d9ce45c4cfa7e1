"""Demucs' ``apply_model`` with several chunks per forward pass and an optional autocast.

The arithmetic is demucs 4.1's (``demucs.apply.apply_model``): the same random shift offsets
(Python's ``random``, one draw per shift), the same chunk offsets, context padding
(``TensorChunk.padded``), triangular weights and the same order of the overlap-add, so with
``batch=1`` and no autocast the stems equal the CLI's. What changes:

- ``batch`` chunks of one model go through one forward call. On the CPU a larger batch keeps
  the matrix kernels busier; the stems differ from one-at-a-time only by the kernels' rounding.
- ``autocast``: a context manager factory (e.g. bfloat16 on a CPU that computes it natively)
  entered around each forward; outputs are cast back to float32 before the overlap-add.
- ``forward``: what each batch of chunks goes through (default PyTorch; ``openvino_choice.Forward``
  runs HTDemucs' network through OpenVINO where that is faster on this CPU).
- ``no_grad``, as demucs: measured here, ``inference_mode`` raised the peak memory of one
  htdemucs segment from 1081 to 1200 MB.
- On the CPU, self-attention goes through ``scaled_dot_product_attention`` (flash attention on
  the CPU) instead of ``nn.MultiheadAttention``'s inference fast path, which multiplies out the
  whole 8 x 2688 x 2688 score matrix of the frequency branch (231 MB, memory-bound). Measured
  here on one 7.8 s segment of the full-size htdemucs: 8% less CPU time, outputs within 5e-7.

The callback contract is demucs': a dict with ``state`` "start"/"end" per chunk; raising from it
cancels the job.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Callable


def _weight(segment_length: int, device: Any) -> Any:
    import torch  # noqa: PLC0415

    weight = torch.cat([torch.arange(1, segment_length // 2 + 1, device=device),
                        torch.arange(segment_length - segment_length // 2, 0, -1, device=device)])
    return weight / weight.max()


def _valid_length(model: Any, length: int, segment: float | None) -> int:
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    if isinstance(model, HTDemucs) and segment is not None:
        return int(segment * model.samplerate)
    if hasattr(model, "valid_length"):
        return int(model.valid_length(length))
    return length


@contextlib.contextmanager
def _sdpa_attention(device: Any) -> Any:
    import torch  # noqa: PLC0415

    mha = getattr(torch.backends, "mha", None)
    if str(device) != "cpu" or mha is None or not hasattr(mha, "set_fastpath_enabled"):
        yield
        return
    before = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(before)


Forward = Callable[[Any, Any], Any]  # (model, batch of chunks) -> stems of each chunk


def _forward(model: Any, batch: Any, autocast: Callable[[], Any] | None, device: Any = "cpu") -> Any:
    import torch  # noqa: PLC0415

    with torch.no_grad(), _sdpa_attention(device):
        with (autocast() if autocast is not None else contextlib.nullcontext()):
            out = model(batch)
        return out.float() if out.dtype != torch.float32 else out


def eager(autocast: Callable[[], Any] | None = None, device: Any = "cpu") -> Forward:
    """PyTorch's own forward pass (the default ``forward``; another runtime's fallback)."""
    return lambda model, batch: _forward(model, batch, autocast, device)



def _split(model: Any, mix: Any, *, overlap: float, segment: float | None, batch: int, device: Any,
           forward: Forward, callback: Callable[[dict], None] | None) -> Any:
    """``mix`` is a demucs TensorChunk (1, C, L) -> (1, S, C, L), as apply_model's split branch."""
    import torch  # noqa: PLC0415
    from demucs.apply import TensorChunk  # noqa: PLC0415
    from demucs.utils import center_trim  # noqa: PLC0415

    n, channels, length = mix.shape
    out = torch.zeros(n, len(model.sources), channels, length, device=mix.device)
    sum_weight = torch.zeros(length, device=mix.device)
    seg = float(segment if segment is not None else model.segment)
    segment_length = int(model.samplerate * seg)
    stride = int((1 - overlap) * segment_length)
    weight = _weight(segment_length, device)
    chunks = [(offset, TensorChunk(mix, offset, segment_length)) for offset in range(0, length, stride)]
    pending: list[tuple[int, Any]] = []

    def flush() -> None:
        # Chunks with the same padded length share a forward; the overlap-add stays in offset order.
        inputs = [chunk.padded(_valid_length(model, chunk.length, segment)) for _o, chunk in pending]
        groups: dict[int, list[int]] = {}
        for i, tensor in enumerate(inputs):
            groups.setdefault(int(tensor.shape[-1]), []).append(i)
        results: list[Any] = [None] * len(pending)
        for indices in groups.values():
            for i in indices:
                if callback is not None:
                    callback({"state": "start", "segment_offset": pending[i][0]})
            stacked = torch.cat([inputs[i].to(device) for i in indices], 0)
            outs = forward(model, stacked)
            for j, i in enumerate(indices):
                results[i] = center_trim(outs[j * n:(j + 1) * n], pending[i][1].length)
                if callback is not None:
                    callback({"state": "end", "segment_offset": pending[i][0]})
            del outs, stacked
        for (offset, _chunk), chunk_out in zip(pending, results):
            chunk_length = chunk_out.shape[-1]
            out[..., offset:offset + segment_length] += (weight[:chunk_length] * chunk_out).to(mix.device)
            sum_weight[offset:offset + segment_length] += weight[:chunk_length].to(mix.device)
        pending.clear()

    for item in chunks:
        pending.append(item)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    assert sum_weight.min() > 0
    out /= sum_weight
    return out


def _one_model(model: Any, mix: Any, *, shifts: int, overlap: float, segment: float | None, batch: int,
               device: Any, forward: Forward, callback: Callable[[dict], None] | None) -> Any:
    from demucs.apply import TensorChunk, tensor_chunk  # noqa: PLC0415

    model.to(device)
    model.eval()
    length = mix.shape[-1]
    if not shifts:
        return _split(model, tensor_chunk(mix), overlap=overlap, segment=segment, batch=batch, device=device,
                      forward=forward, callback=callback)
    max_shift = int(0.5 * model.samplerate)
    padded_mix = tensor_chunk(mix).padded(length + 2 * max_shift) if length <= max_shift else None
    out: Any = None
    for _ in range(shifts):
        offset = random.randint(0, max_shift)
        if padded_mix is None:
            shifted = _shifted(mix, offset, max_shift, length)
        else:
            shifted = TensorChunk(padded_mix, offset, length + max_shift - offset)
        res = _split(model, shifted, overlap=overlap, segment=segment, batch=batch, device=device,
                     forward=forward, callback=callback)
        # demucs starts from 0.0, so its first `+=` copies the whole result (~340 MB for four
        # minutes of four stereo stems) while the result is still held: the job's peak. The first
        # shift's result is kept as it is instead (a view; 0.0 + x is x, so the values are the same).
        out = _accumulate(out, res[..., max_shift - offset:])
        del res
    out /= shifts
    return out


def _shifted(mix: Any, offset: int, max_shift: int, length: int) -> Any:
    """demucs' ``TensorChunk(padded_mix, offset, length + max_shift - offset)``, where padded_mix is
    ``mix`` with ``max_shift`` zeros on each side, without that padded copy of the whole mix
    (~85 MB for four minutes of stereo): a chunk of ``mix`` itself starting ``max_shift - offset``
    samples before it. TensorChunk.padded() reads what lies outside ``mix`` as zeros, the values
    the copy holds there. Only for ``length > max_shift``: a shorter mix could give a chunk that
    ends before sample 0, which padded()'s slicing does not handle."""
    from demucs.apply import TensorChunk  # noqa: PLC0415

    chunk = TensorChunk.__new__(TensorChunk)  # its __init__ refuses a negative offset
    chunk.tensor, chunk.offset, chunk.device = mix, offset - max_shift, mix.device
    chunk.length = length + max_shift - offset
    return chunk


def _accumulate(total: Any, part: Any) -> Any:
    """``total + part`` in place, or ``part`` itself as the first term (no copy)."""
    if total is None:
        return part
    total += part
    return total


def apply_model(model: Any, mix: Any, *, shifts: int = 1, overlap: float = 0.25, segment: float | None = None,
                device: Any = "cpu", batch: int = 1, autocast: Callable[[], Any] | None = None,
                callback: Callable[[dict], None] | None = None, forward: Forward | None = None, **_ignored: Any) -> Any:
    """(1, C, L) mix -> (1, S, C, L) stems; a bag averages its members with their weights.
    ``forward`` runs each batch of chunks through a model (default: PyTorch, under ``autocast``)."""
    forward = forward or eager(autocast, device)
    if not (hasattr(model, "models") and hasattr(model, "weights")):
        return _one_model(model, mix, shifts=shifts, overlap=overlap, segment=segment, batch=batch,
                          device=device, forward=forward, callback=callback)
    estimates: Any = None
    totals = [0.0] * len(model.sources)
    for sub_model, model_weights in zip(model.models, model.weights):
        original_device = next(iter(sub_model.parameters())).device
        out = _one_model(sub_model, mix, shifts=shifts, overlap=overlap, segment=segment, batch=batch,
                         device=device, forward=forward, callback=callback)
        sub_model.to(original_device)
        for k, inst_weight in enumerate(model_weights):
            out[:, k, :, :] *= inst_weight
            totals[k] += inst_weight
        estimates = _accumulate(estimates, out)
        del out
    for k in range(estimates.shape[1]):
        estimates[:, k, :, :] /= totals[k]
    return estimates
