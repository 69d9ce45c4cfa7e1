"""The few C library calls the sidecar makes on Linux (prctl, mallopt, malloc_trim, madvise), looked
up in one place: None on other systems, or where this libc lacks the call (musl has no malloc_trim)."""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any, Callable


@functools.cache
def function(name: str, argtypes: tuple[Any, ...], restype: Any = ctypes.c_int) -> Callable[..., Any] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    call.argtypes, call.restype = list(argtypes), restype
    return call
