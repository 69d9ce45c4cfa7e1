"""Where numba keeps the machine code it compiles for librosa's kernels (20-30 s of compiling
when the folder is empty, so it is kept across runs and libraries).

One folder per Python environment under one root: an app update, a second checkout or a
benchmark venv never loads code another numba, llvmlite or interpreter wrote. A cache entry
that crashes the process (seen here: every analysis sidecar died with SIGSEGV until the folder
was deleted) is moved aside by the engine (src/main/sidecar/jit-cache.ts); keyed folders keep
the damage to one environment in the meantime.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata

from . import file_lock

# The engine passes its root (per-user cache folder of the platform); scripts and cluster
# workers use this one.
ROOT_VARIABLE = "SFA_NUMBA_CACHE_ROOT"
DEFAULT_ROOT = os.path.join(os.path.expanduser("~"), ".cache", "sfa", "numba")
_PACKAGES = ("numba", "llvmlite", "numpy", "librosa")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def environment_key() -> str:
    # sys.prefix, not the interpreter: a venv's python is a link to the one base interpreter of every venv
    facts = [os.path.realpath(sys.prefix), sys.version, *(f"{p}={_version(p)}" for p in _PACKAGES)]
    return hashlib.sha256("\n".join(facts).encode()).hexdigest()[:16]


def configure() -> str:
    """Set NUMBA_CACHE_DIR before numba is imported and return it. An explicit NUMBA_CACHE_DIR
    (numba's own variable: a user's choice, a benchmark's fresh folder) is kept as it is."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        root = os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(root, environment_key())
    return os.environ["NUMBA_CACHE_DIR"]


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold this environment's cache folder against every other process on the machine.

    numba writes a cached ufunc as two files, not atomically (numba issue #10128, open): a process
    that loads while another writes the same function can take a mismatched pair, and then crashes
    in it each time it loads it (SIGSEGV, jump to address 0). Two analysis sidecars start together
    by default, so they would compile librosa's kernels together on a fresh cache."""
    with file_lock.exclusive(os.path.join(configure(), ".compile.lock")):
        yield


_compiled = False
_compiled_lock = threading.Lock()


def compile_once(compile_kernels: Callable[[], object]) -> None:
    """Compile (or load) the kernels once in this process, holding `exclusive()` meanwhile, so that
    afterwards this process never reads or writes the cache while another one writes it."""
    global _compiled
    with _compiled_lock:
        if _compiled:
            return
        with exclusive():
            compile_kernels()
        _compiled = True
