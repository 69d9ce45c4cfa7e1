"""Stem separation for the sidecar: device choice, warm model cache, Demucs and DSP separators,
atomic stem writer, and a builder for small local model repos (tests and benchmarks).

Nothing here imports torch or demucs at module import time: a sidecar that only probes files
starts fast. ``sfa_sidecar.separate`` holds the ops that the registry serves.
"""

import os

# Apple MPS: let torch run unsupported ops on the CPU instead of failing. Must be set before
# torch is imported, which is why it lives here and not next to the device choice.
os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")
