"""Shared fixtures. Generic on purpose: several suites write generated audio to tmp_path."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# librosa's numba JIT costs 20-30 s per fresh cache: share the sidecar's per-user cache.
from sfa_sidecar import jit_cache  # noqa: E402

jit_cache.configure()
# The default path runs HTDemucs through OpenVINO once it has measured it faster, per machine:
# suites that compare stems across runs or processes would depend on that verdict. They run
# PyTorch; test_separate_openvino.py turns OpenVINO on and tests it.
os.environ.setdefault("SFA_OPENVINO", "0")
# The sidecar's CPU measurements (the bf16 self-measurement, OpenVINO's verdicts) go to this run's
# own folder, not the user's ~/.cache/sfa: a verdict one run measured under load would otherwise
# steer every later run on the machine.
os.environ["SFA_PRECISION_CACHE"] = tempfile.mkdtemp(prefix="sfa-test-measurements-")
atexit.register(shutil.rmtree, os.environ["SFA_PRECISION_CACHE"], ignore_errors=True)


@pytest.fixture
def write_wav(tmp_path):
    """write_wav(name, samples (n,) or (n, channels), sr=44100, subtype="PCM_16") -> Path."""
    import soundfile as sf

    def write(name: str, samples: np.ndarray, sr: int = 44100, subtype: str = "PCM_16") -> Path:
        path = tmp_path / name
        sf.write(str(path), np.asarray(samples), sr, subtype=subtype)
        return path

    return write


@pytest.fixture(scope="session")
def repo(tmp_path_factory):
    """A local demucs model repo holding the tiny test model (seeded: the same weights every run)."""
    from sfa_sidecar.separation.tiny_model import build

    root = tmp_path_factory.mktemp("models")
    build(root, "tiny", seed=0)
    return str(root)
