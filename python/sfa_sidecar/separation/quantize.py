"""int8 dynamic quantization of HTDemucs' transformer for CPUs without native bfloat16.

On an x86 CPU with AVX2 (no AVX-512 BF16) the cross-transformer is ~45% of a segment's CPU time
and most of it is matrix products in its linear layers (feed-forward and the attention's input
and output projections). PyTorch's fbgemm runs those as int8 products natively on AVX2, with the
weights quantized once per channel and the activations quantized per call (dynamic
quantization). The attention itself (scores, softmax) and every convolution stay float32.

``nn.MultiheadAttention`` keeps its projection weights as raw parameters, which
``quantize_dynamic`` cannot see, so each one is replaced by :class:`ProjectedAttention`: the same
arithmetic (input projection, ``scaled_dot_product_attention``, output projection) written with
``nn.Linear`` layers that the quantizer then converts.

The quantized copy is made once per loaded model and kept next to it (a few seconds of CPU on
the first int8 job; the float32 model stays untouched for the exact path).
"""

from __future__ import annotations

import copy
import threading
import warnings
import weakref
from typing import Any

_lock = threading.Lock()
_copies: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _attention_class() -> Any:
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    class ProjectedAttention(torch.nn.Module):
        """``nn.MultiheadAttention(batch_first=True)`` without masks or dropout, as inference
        calls it in HTDemucs, with its projections as ``nn.Linear`` layers."""

        def __init__(self, mha: Any):
            super().__init__()
            dim = mha.embed_dim
            self.num_heads = mha.num_heads
            self.q = torch.nn.Linear(dim, dim)
            self.kv = torch.nn.Linear(dim, 2 * dim)
            self.out = torch.nn.Linear(dim, dim)
            with torch.no_grad():
                self.q.weight.copy_(mha.in_proj_weight[:dim])
                self.q.bias.copy_(mha.in_proj_bias[:dim])
                self.kv.weight.copy_(mha.in_proj_weight[dim:])
                self.kv.bias.copy_(mha.in_proj_bias[dim:])
                self.out.weight.copy_(mha.out_proj.weight)
                self.out.bias.copy_(mha.out_proj.bias)

        def forward(self, query: Any, key: Any, value: Any, attn_mask: Any = None, key_padding_mask: Any = None,
                    need_weights: bool = False, **_ignored: Any) -> tuple[Any, None]:
            if attn_mask is not None or key_padding_mask is not None:
                raise ValueError("ProjectedAttention runs HTDemucs' unmasked attention only")
            batch, n_q, dim = query.shape
            heads = self.num_heads
            q = self.q(query).view(batch, n_q, heads, dim // heads).transpose(1, 2)
            k, v = self.kv(key).view(batch, key.shape[1], 2, heads, dim // heads).permute(2, 0, 3, 1, 4)
            x = F.scaled_dot_product_attention(q, k, v)
            return self.out(x.transpose(1, 2).reshape(batch, n_q, dim)), None

    return ProjectedAttention


def with_projected_attention(model: Any) -> Any:
    """A deep copy of ``model`` whose ``nn.MultiheadAttention`` modules are ProjectedAttention."""
    import torch  # noqa: PLC0415

    projected = _attention_class()
    clone = copy.deepcopy(model)
    for parent in list(clone.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.MultiheadAttention):
                if not child.batch_first or child.in_proj_weight is None or child.bias_k is not None:
                    raise ValueError("only batch-first attention with a packed projection is supported")
                setattr(parent, name, projected(child))
    return clone


def quantized(model: Any) -> Any:
    """The int8 copy of ``model`` (a HTDemucs or a bag): the transformer's linear layers in int8,
    everything else float32. Made once per model object and cached while it lives."""
    import torch  # noqa: PLC0415

    with _lock:
        found = _copies.get(model)
        if found is not None:
            return found
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
            # In place on the one copy: a second deep copy would raise the peak memory by a model.
            result = torch.ao.quantization.quantize_dynamic(with_projected_attention(model).eval(),
                                                            {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        _copies[model] = result
        return result


def engine_ready() -> bool:
    """Whether this torch has an int8 engine for the CPU (fbgemm on x86, qnnpack on arm)."""
    import torch  # noqa: PLC0415

    engines = torch.backends.quantized.supported_engines
    return any(e in engines for e in ("x86", "fbgemm", "qnnpack"))
