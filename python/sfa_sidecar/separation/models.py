"""The model catalogue, loading Demucs models (local repo or the demucs cache/hub), and the
bounded LRU cache that keeps models warm between requests."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import pickle
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import libc
from ..errors import BadRequestError, SidecarError

# catalog.json is the one catalogue, read by the engine's TypeScript too (src/main/models/catalog.ts).
_DATA = json.loads(Path(__file__).with_name("catalog.json").read_text(encoding="utf-8"))
DEMUCS_ROOT_URL: str = _DATA["rootUrl"]
HF_NAMESPACE = "adefossez"
_CATALOG: dict[str, dict[str, Any]] = {m["name"]: m for m in _DATA["models"]}
DSP_MODELS = {name for name, m in _CATALOG.items() if m["kind"] == "dsp"}


def _demucs_dir() -> Path | None:
    spec = importlib.util.find_spec("demucs")  # finds the package without importing torch
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _remote_files() -> dict[str, str]:
    """sig -> download url, parsed from demucs/remote/files.txt (as demucs.pretrained does)."""
    root_dir = _demucs_dir()
    found: dict[str, str] = {}
    if root_dir is None or not (root_dir / "remote" / "files.txt").is_file():
        return found
    root = ""
    for line in (root_dir / "remote" / "files.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("root:"):
            root = line.split(":", 1)[1].strip()
        else:
            found[line.split("-", 1)[0]] = DEMUCS_ROOT_URL + root + line
    return found


def _bag_signatures(name: str, repo: Path | None = None) -> list[str]:
    root = repo if repo is not None else (_demucs_dir() or Path("/nonexistent")) / "remote"
    path = root / f"{name}.yaml"
    if not path.is_file():
        return []
    import yaml  # noqa: PLC0415 - PyYAML is light and a demucs dependency

    with open(path) as handle:
        bag = yaml.safe_load(handle) or {}
    return [str(sig) for sig in bag.get("models", [])]


def hf_repo_name(name: str) -> str:
    if name == "htdemucs":
        return "HTDemucs"
    if name.startswith("htdemucs_"):
        return "HTDemucs-" + name[len("htdemucs_"):]
    return "Demucs-" + name


def _torch_hub_checkpoints() -> Path:
    hub = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "torch")
    return Path(hub) / "hub" / "checkpoints"


def _hf_cache_has(name: str) -> bool:
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface")), "hub")
    folder = Path(hub) / f"models--{HF_NAMESPACE}--{hf_repo_name(name)}" / "snapshots"
    return folder.is_dir() and any(folder.iterdir())


def repo_models(repo: str | Path) -> list[str]:
    """Models (bags from *.yaml and single signatures from *.th) in a local model repo."""
    root = Path(repo)
    if not root.is_dir():
        return []
    names = set()
    sigs = {p.stem.rsplit("-", 1)[0] if "-" in p.stem else p.stem for p in root.glob("*.th")}
    for yaml_file in root.glob("*.yaml"):
        if all(sig in sigs for sig in _bag_signatures(yaml_file.stem, root)):
            names.add(yaml_file.stem)
    return sorted(names | sigs)


def _in_torch_hub(name: str) -> bool:
    sigs = _bag_signatures(name)
    hub = _torch_hub_checkpoints()
    return bool(sigs) and hub.is_dir() and all(any(hub.glob(f"{sig}-*.th")) for sig in sigs)


def installed(name: str, repo: str | Path | None = None) -> bool:
    if name in DSP_MODELS:
        return True
    if repo is not None:
        return name in repo_models(repo)
    return _in_torch_hub(name) or _hf_cache_has(name)


def catalog(repo: str | Path | None = None) -> list[dict[str, Any]]:
    urls = _remote_files()
    out = []
    for name, info in _CATALOG.items():
        sigs = _bag_signatures(name) if name not in DSP_MODELS else []
        entry = {
            "name": name,
            "stems": list(info["stems"]),
            "size_mb": info["sizeMb"],
            "quality": info["quality"],
            "bag": len(info["files"]),
            "kind": info["kind"],
            "sources": [urls[s] for s in sigs if s in urls],
            "hub": None if name in DSP_MODELS else f"https://huggingface.co/{HF_NAMESPACE}/{hf_repo_name(name)}",
            "installed": installed(name, None),
        }
        if repo is not None:
            entry["installedInRepo"] = name in DSP_MODELS or name in repo_models(repo)
        out.append(entry)
    return out


class ModelUnavailableError(SidecarError):
    code = "MODEL_UNAVAILABLE"


# The in-place fills torch's layers use in their constructors (`reset_parameters`), and the
# private helpers behind them (`nn.MultiheadAttention` imports `xavier_uniform_` by name, so only
# its helper can be reached). A torch that renames them fails the test that no random number is drawn.
_INIT_FILLS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "kaiming_uniform_",
               "kaiming_normal_", "xavier_uniform_", "xavier_normal_", "orthogonal_", "_no_grad_uniform_",
               "_no_grad_normal_", "_no_grad_trunc_normal_", "_no_grad_fill_", "_no_grad_zero_")
_loading = threading.local()
_switches_lock = threading.Lock()


@contextlib.contextmanager
def random_init_skipped() -> Iterator[None]:
    """Layers this thread builds inside keep their allocated, unfilled weights. demucs builds the
    model, which fills every weight with random values, then loads the checkpoint over them: the
    fills are ~0.14 of the 0.55 s a cold htdemucs load takes on 2 cores, thrown away. Safe because
    demucs loads the state strictly (`load_state_dict` raises on a missing key), so no weight is
    left unfilled, and demucs' layers hold no buffer computed from the random weights. Other
    threads fill as usual (a download inside may take minutes)."""
    _install_fill_switches()
    _loading.skip = True
    try:
        yield
    finally:
        _loading.skip = False


def _install_fill_switches() -> None:
    """Route `torch.nn.init`'s fills through a per-thread switch (once per process; with the
    switch off, each calls torch's own)."""
    from torch.nn import init  # noqa: PLC0415

    with _switches_lock:
        for fill in _INIT_FILLS:
            original = getattr(init, fill, None)
            if original is None or getattr(original, "skippable", False):
                continue

            def switch(tensor: Any, *args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
                return tensor if getattr(_loading, "skip", False) else _original(tensor, *args, **kwargs)

            switch.skippable = True  # type: ignore[attr-defined]
            setattr(init, fill, switch)


def load_demucs(name: str, repo: str | None) -> Any:
    """Load a demucs model or bag (CPU, eval mode); clear errors instead of demucs' sys.exit."""
    from demucs.pretrained import get_model  # noqa: PLC0415
    from demucs.repo import ModelLoadingError  # noqa: PLC0415

    if repo is not None:
        root = Path(repo)
        if not root.is_dir():
            raise BadRequestError(f"model repo {repo} is not a folder")
        if name not in repo_models(root):
            raise ModelUnavailableError(
                f"model {name!r} is not in the model repo {repo} (it has: {', '.join(repo_models(root)) or 'nothing'})",
                detail={"model": name, "repo": str(repo)},
            )
    try:
        with random_init_skipped():
            if repo is None and _in_torch_hub(name):
                # Weights already downloaded by an earlier demucs: load them without asking the
                # Hugging Face hub first (offline, that costs ~30 s of retries before the fallback).
                from demucs.pretrained import REMOTE_ROOT, _parse_remote_files  # noqa: PLC0415
                from demucs.repo import AnyModelRepo, BagOnlyRepo, RemoteRepo  # noqa: PLC0415

                remote = RemoteRepo(_parse_remote_files(REMOTE_ROOT / "files.txt"))
                model = AnyModelRepo(remote, BagOnlyRepo(REMOTE_ROOT, remote)).get_model(name)
            else:
                model = get_model(name=name, repo=Path(repo) if repo is not None else None)
    except SystemExit as exc:  # demucs' fatal() exits the process
        raise ModelUnavailableError(f"could not load model {name!r}: {exc}") from None
    except ModelLoadingError as exc:
        raise ModelUnavailableError(f"could not load model {name!r}: {exc}", detail={"model": name}) from None
    except ImportError as exc:
        raise ModelUnavailableError(f"model {name!r} needs a missing package: {exc}") from None
    except (pickle.UnpicklingError, EOFError, OSError, ConnectionError, RuntimeError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if repo is not None:
            raise ModelUnavailableError(
                f"model {name!r} in the model repo {repo} could not be read ({reason}); replace its files "
                "or pick another model repo", detail={"model": name, "repo": str(repo)}) from None
        if isinstance(exc, (pickle.UnpicklingError, EOFError)) or _in_torch_hub(name):
            # The files are here but damaged (a download cut short, a disk error): no download can help
            # until they are gone.
            raise ModelUnavailableError(
                f"model {name!r}'s downloaded files could not be read ({reason}); delete its files from "
                f"{_torch_hub_checkpoints()} (or the Hugging Face cache) to download it again",
                detail={"model": name}) from None
        raise ModelUnavailableError(
            f"model {name!r} is not installed and could not be downloaded ({reason}); "
            "connect to the internet once or pick a model repo folder",
            detail={"model": name},
        ) from None
    model.eval()
    return model


class ModelCache:
    """A bounded LRU of loaded models keyed by (name, repo). The least recently used model is
    dropped first, and the GPU allocator's cache is emptied after an eviction."""

    def __init__(self, capacity: int = 2, loader: Callable[[str, str | None], Any] | None = None):
        self.capacity = max(1, int(capacity))
        self.loader = loader or load_demucs
        self._models: "OrderedDict[tuple[str, str | None], Any]" = OrderedDict()
        self._lock = threading.Lock()
        self.evictions: list[tuple[str, str | None]] = []

    def keys(self) -> list[tuple[str, str | None]]:
        return list(self._models)

    def get(self, name: str, repo: str | None = None) -> tuple[Any, bool]:
        """(model, was_warm)."""
        key = (name, str(Path(repo).resolve()) if repo else None)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key], True
        model = self.loader(name, repo)
        with self._lock:
            self._models[key] = model
            self._models.move_to_end(key)
            evicted = False
            while len(self._models) > self.capacity:
                old_key, old = self._models.popitem(last=False)
                self.evictions.append(old_key)
                del old
                evicted = True
        if evicted:
            release_memory()
        return model, False

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
        release_memory()


def release_memory() -> None:
    """Collect garbage, then hand the accelerators' cached blocks back to the driver (CUDA only
    where this process already has a context: asking would create one; MPS where it is in use)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_initialized():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - a broken driver must not turn cleanup into a failure
        pass
    try:
        mps = getattr(torch, "mps", None)
        if mps is not None and torch.backends.mps.is_available():
            mps.empty_cache()
    except Exception:  # noqa: BLE001
        pass


def trim_heap() -> bool:
    """Hand the C heap's free pages back to the OS (glibc ``malloc_trim``; elsewhere nothing).
    glibc returns freed memory only from the top of its heaps: a model's checkpoint freed below
    the decoded mix (htdemucs: 150 MB), or a job's buffers freed below long-lived ones (a warm
    sidecar idled near its peak), stay resident until trimmed."""
    import ctypes  # noqa: PLC0415

    trim = libc.function("malloc_trim", (ctypes.c_size_t,))
    return bool(trim is not None and trim(0))


def default_capacity() -> int:
    try:
        return max(1, int(os.environ.get("SFA_MODEL_CACHE", "2")))
    except ValueError:
        return 2
