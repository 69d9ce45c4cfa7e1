"""An exclusive lock across the processes of a machine, on a file: for caches that several
sidecars fill (numba's kernels, OpenVINO's converted models), so that one writes while the
others wait and then read what it wrote."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def exclusive(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``path`` (created if missing) until the block ends; other processes wait."""
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    with open(path, "a+b") as handle:
        if os.name == "nt":
            import msvcrt  # noqa: PLC0415

            handle.seek(0)
            while True:  # LK_LOCK gives up after 10 s: a first compile takes longer
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl  # noqa: PLC0415

            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
