"""HTDemucs' network through OpenVINO on the CPU, in float32, with the STFTs left to torch.

Why: on a CPU without native bfloat16 (AVX2 only; most laptops) no PyTorch setting made a
segment of htdemucs faster (README, "Speed, precision and devices"). OpenVINO's CPU plugin fuses
the convolutions, normalisations and matrix products of the same graph; measured on the
development machine (2 AVX2 cores, one 7.8 s segment of the full-size htdemucs, float32): ~1.4x
less wall and CPU time than eager PyTorch, outputs within 1.1e-5 (94 dB SNR).

What runs where: ``HTDemucs.forward`` itself is converted, not a copy of it. While it is traced,
its four complex-valued steps are replaced on the instance: ``_spec``/``_magnitude`` hand it the
spectrogram (computed by torch outside), ``_mask`` hands the frequency branch's output back as a
second result, ``_ispec`` adds nothing. At run time torch computes the STFT, OpenVINO the network,
torch the mask and inverse STFT, and the sum is the forward's own ``xt + x``. With two threads
or more, two chunks run at once, each on its own stream (``in_flight``).

The converted model (OpenVINO IR, ~170 MB for htdemucs) is cached on disk: converting takes one to
two minutes, once per model; compiling it at a sidecar's first job ~2 s the first time, ~0.8 s
from OpenVINO's model cache after that. Anything that fails here falls back to PyTorch for that
model. Whether OpenVINO runs a model at all is measured per machine (``openvino_choice``).

OpenVINO's conversion API sends usage telemetry to Google Analytics by default (its docs,
"OpenVINO Telemetry"); it imports ``openvino_telemetry`` only if it can, so the sidecar makes
that import fail before loading OpenVINO: nothing leaves the user's machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import math
import os
import shutil
import sys
import threading
import time
import warnings
import weakref
from pathlib import Path
from typing import Any, Callable

from .. import file_lock, libc

_lock = threading.Lock()
_failed: dict[str, str] = {}  # model key -> why it could not be converted (this process)
# Per loaded model (gone with it when the model cache lets it go): its weights' hash, and its
# compiled networks by (input length, threads).
_keys: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
# Per loaded model, its networks by (length, threads): compiled, with their infer request, once
# per process (openvino_choice.Forward asks for one on every chunk).
_compiled: "weakref.WeakKeyDictionary[Any, dict[tuple[int, int], Network]]" = weakref.WeakKeyDictionary()


_openvino: list[Any] = []  # [the module or None], once looked up


def import_openvino() -> Any | None:
    """OpenVINO with its telemetry made impossible, or None where it is not installed (looked up
    once per process: it is asked on every chunk)."""
    if not _openvino:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type] - `import` then raises ImportError
        try:
            import openvino  # noqa: PLC0415

            _stub_telemetry()  # importing openvino loads its conversion modules: patched here, once
            _openvino.append(openvino)
        except ImportError:
            _openvino.append(None)
    return _openvino[0]


def _stub_telemetry() -> None:
    """Where something imported OpenVINO before us (its telemetry loaded), point the conversion
    modules at the stub they use when the telemetry package is missing."""
    try:
        from openvino.tools.ovc import telemetry_stub  # noqa: PLC0415
    except ImportError:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith("openvino.tools.ovc") and getattr(getattr(module, "tm", None), "__name__", "") == "openvino_telemetry":
            module.tm = telemetry_stub


def cache_root() -> Path:
    from .precision import cache_folder  # noqa: PLC0415

    return cache_folder() / "openvino"


def _versions(ov: Any) -> str:
    import demucs  # noqa: PLC0415
    import torch  # noqa: PLC0415

    return f"openvino {ov.get_version()}|torch {torch.__version__}|demucs {getattr(demucs, '__version__', '?')}"


def model_key(model: Any, length: int, ov: Any) -> str:
    """Names the converted graph: the weights, the architecture's arguments, the input length and
    the versions that shape the conversion (hashing htdemucs' weights: ~0.2 s, once per model)."""
    cached = _keys.get(model)
    if cached is not None:
        return f"{cached}-{length}"
    digest = hashlib.sha256(_versions(ov).encode())
    digest.update(repr(sorted(getattr(model, "_init_args_kwargs", ((), {}))[1].items())).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().data)  # a view: no copy of the weights
    key = digest.hexdigest()[:16]
    _keys[model] = key
    return f"{key}-{length}"


def _network(model: Any) -> Any:
    """A module whose forward is ``HTDemucs.forward`` between the STFT and the inverse STFT."""
    import torch  # noqa: PLC0415
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    class Traced(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, mix: Any, mag: Any) -> tuple[Any, Any]:
            inner, captured = self.inner, {}

            def mask(_z: Any, x: Any) -> Any:
                captured["x"] = x
                return x

            inner._spec = lambda _mix: mag
            inner._magnitude = lambda z: z
            inner._mask = mask
            inner._ispec = lambda _z, _length: mix.new_zeros(())
            try:
                xt = HTDemucs.forward(inner, mix)
            finally:
                for name in ("_spec", "_magnitude", "_mask", "_ispec"):
                    inner.__dict__.pop(name, None)
            return xt, captured["x"]

    return Traced(model).eval()


IN_FLIGHT_MAX = 2


def in_flight(threads: int) -> int:
    """Chunks a compiled network runs at once: one per OpenVINO stream, a stream per thread, at
    most ``IN_FLIGHT_MAX`` (``SFA_OPENVINO_IN_FLIGHT=1`` lowers it, for machines short of
    memory). One chunk across two threads spends much of its time in the parts that do not
    parallelise (and torch's STFTs around the network wait for it); two chunks side by side keep
    both cores busy. Measured on a 2-vCPU Xeon (one htdemucs segment each, `npm run bench --
    openvino`): two in flight 1.19x faster than one, 2.2x PyTorch's. Each more costs one infer
    request's buffers (~300-400 MB for htdemucs), hence the cap."""
    try:
        cap = int(os.environ.get("SFA_OPENVINO_IN_FLIGHT", IN_FLIGHT_MAX))
    except ValueError:
        cap = IN_FLIGHT_MAX
    return max(1, min(IN_FLIGHT_MAX, cap, threads))


def compile_config(threads: int, streams: int = 1) -> dict[str, Any]:
    """The CPU plugin's settings: float32 arithmetic (never its bf16/f16 defaults), ``threads``
    threads, shared by ``streams`` streams (one chunk in flight each)."""
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32",
                              "PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT"}
    if streams > 1:
        config["NUM_STREAMS"] = streams
    return config


# What this module writes goes to a name with this suffix first, then is renamed into place:
# prune() knows a killed writer's leftovers by it.
TEMP_SUFFIX = ".tmp"


def temp_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def convert(model: Any, length: int, folder: Path, ov: Any) -> Path:
    """The network for inputs of ``length`` samples as OpenVINO IR in ``folder`` (written to a
    temporary folder first, so a killed conversion leaves nothing half-written behind)."""
    import torch  # noqa: PLC0415

    mix = torch.zeros(1, model.audio_channels, length)
    mix[..., ::7] = 0.1  # any input: the trace follows shapes, not values
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on demucs' shape checks (constants here)
        mag = model._magnitude(model._spec(mix))
        from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder  # noqa: PLC0415

        # What convert_model(module, example_input=...) builds itself, less torch.jit.trace's
        # check_trace: a second eager run and a second traced run kept beside the first, compared
        # with each other (the conversion's peak: 2.8 GB for htdemucs). The tests compare the
        # converted network with PyTorch's forward instead.
        decoder = TorchScriptPythonDecoder(_network(model), example_input=(mix, mag), trace_kwargs={"check_trace": False})
        graph = ov.convert_model(decoder)
    # Static shapes: every chunk is padded to the model's training length, and the CPU plugin
    # plans its kernels once for fixed shapes.
    graph.reshape({graph.inputs[0]: ov.PartialShape(list(mix.shape)), graph.inputs[1]: ov.PartialShape(list(mag.shape))})
    tmp = temp_path(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ov.save_model(graph, str(tmp / "network.xml"), compress_to_fp16=False)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return folder / "network.xml"


class Network:
    """One compiled network: ``(k, C, length)`` chunks in, ``(k, S, C, length)`` stems out, up to
    ``in_flight`` of them at once (one infer request each)."""

    def __init__(self, compiled: Any, length: int, in_flight: int = 1):
        self.compiled = compiled
        self.length = length
        self.requests = [compiled.create_infer_request() for _ in range(in_flight)]

    @property
    def in_flight(self) -> int:
        return len(self.requests)

    def __call__(self, model: Any, batch: Any) -> Any:
        import torch  # noqa: PLC0415

        outs = []
        for first in range(0, int(batch.shape[0]), self.in_flight):
            started = []
            try:
                for request, chunk in zip(self.requests, batch[first:first + self.in_flight]):
                    request.start_async(self.inputs(model, chunk[None]))  # the next chunk's STFT runs while this one computes
                    started.append(request)
                for request in started:
                    request.wait()
                    # The request's own output buffers, not copies: stems() makes new tensors from
                    # them before the request runs again.
                    outs.append(self.stems(model, request.get_output_tensor(0).data, request.get_output_tensor(1).data))
            except BaseException:
                # A failure (or a cancel) between the starts and the waits: no request is left
                # running, so the next job finds them all idle.
                for request in started:
                    with contextlib.suppress(Exception):
                        request.wait()
                raise
        return outs[0] if len(outs) == 1 else torch.cat(outs, 0)

    @staticmethod
    def inputs(model: Any, mix: Any) -> list[Any]:
        """Torch's side before the network: its inputs, the chunk and its STFT as channels. The
        complex STFT itself is not kept: with complex-as-channels demucs' mask ignores it (the
        network's output is the whole spectrogram), and two chunks in flight held ~11 MB each."""
        import torch  # noqa: PLC0415

        with torch.no_grad():
            return [mix.numpy(), model._magnitude(model._spec(mix)).contiguous().numpy()]

    def stems(self, model: Any, xt: Any, x: Any) -> Any:
        """Torch's side after it: the frequency branch's spectrogram through the inverse STFT, plus
        the time branch. The values of demucs' ``_mask`` then ``_ispec`` (complex-as-channels),
        computed one source at a time into one padded buffer: demucs' version copies the whole
        spectrogram three times (``_mask`` makes it contiguous, ``_ispec`` pads it twice) and runs
        the inverse STFT on all sources at once, ~140 MB more per htdemucs chunk at the moment
        the sidecar's memory peaks; the result is bit-identical (tested). ``xt`` and ``x`` may be
        views of the request's buffers: the result shares no memory with them."""
        import torch  # noqa: PLC0415
        from demucs.spec import ispectro  # noqa: PLC0415

        with torch.no_grad():
            m, time_branch = torch.from_numpy(x), torch.from_numpy(xt)
            batch, sources, channels2, freqs, frames = m.shape
            hop = model.hop_length
            pad = hop // 2 * 3
            padded_length = hop * math.ceil(self.length / hop) + 2 * pad
            out = torch.empty_like(time_branch)
            for source in range(sources):
                spec = torch.zeros(batch, channels2 // 2, freqs + 1, frames + 4, dtype=torch.complex64)
                # _ispec's pads: one frequency bin at the top, two frames on each side
                torch.view_as_real(spec)[..., :freqs, 2:frames + 2, :] = \
                    m[:, source].view(batch, -1, 2, freqs, frames).permute(0, 1, 3, 4, 2)
                wave = ispectro(spec, hop, length=padded_length)
                torch.add(time_branch[:, source], wave[..., pad:pad + self.length], out=out[:, source])
            return out


def eligible(model: Any, length: int) -> bool:
    """An HTDemucs (complex-as-channels) on chunks of its training segment, with OpenVINO installed.
    Other chunk lengths are padded inside forward, around the spectrogram computed outside it."""
    from demucs.htdemucs import HTDemucs  # noqa: PLC0415

    return (type(model) is HTDemucs and bool(model.cac) and length == int(model.segment * model.samplerate)
            and import_openvino() is not None)


def network(model: Any, length: int, threads: int, progress: Callable[[str], None] | None = None) -> Network | None:
    """The compiled network for this model and input length (converted once per machine, compiled
    once per process), or None where OpenVINO cannot run it (then the caller uses PyTorch)."""
    if not eligible(model, length):
        return None
    ov = import_openvino()
    key = model_key(model, length, ov)
    with _lock:
        if key in _failed:
            return None
        compiled = _compiled.setdefault(model, {})
        if (length, threads) in compiled:
            return compiled[(length, threads)]
        folder = cache_root() / key
        try:
            xml = folder / "network.xml"
            # Two sidecars that start on a new model together: one converts, the other waits for it.
            with file_lock.exclusive(cache_root() / ".convert.lock"):
                if not xml.exists():
                    if progress:
                        progress("converting the model for OpenVINO (once per model: a minute or two)")
                    convert(model, length, folder, ov)
                with contextlib.suppress(OSError):  # housekeeping: a read-only cache still compiles
                    (folder / USED_STAMP).touch()  # under the lock: a prune never takes a folder about to be compiled
                    prune(cache_root(), keep=folder)
            net = Network(_compile(ov, xml, threads), length, in_flight(threads))
        except Exception as exc:  # noqa: BLE001 - any failure: PyTorch runs this model instead
            _failed[key] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
            shutil.rmtree(folder, ignore_errors=True)
            return None
        # Compiled from the IR, the plugin keeps network.bin mapped; loaded from its model cache, the blob.
        for mapped in [folder / "network.bin", *(folder / "compiled").glob("*.blob")]:
            drop_resident(mapped)
        park_weights(model, folder)
        compiled[(length, threads)] = net
        return net


# A converted model unused this long is removed when a sidecar next compiles one: an app update
# (new OpenVINO, torch or demucs) or a model's new weights give it a new folder (~170 MB of IR plus
# ~170 MB of compiled network per thread count), and the old one would stay forever. Long enough
# that two installs sharing the cache folder (a packaged app and a checkout) keep each other's.
STALE_DAYS = 30
USED_STAMP = "used"
# A conversion's temporary folder this old belongs to a process killed while converting (one takes
# minutes, never a day).
STALE_TMP_DAYS = 1


def prune(root: Path, keep: Path, now: float | None = None) -> list[str]:
    """Remove converted models not used for ``STALE_DAYS`` and conversions left by killed
    processes; ``keep`` (in use now) stays. Call under the convert lock. Returns what went."""
    now = time.time() if now is None else now
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if not entry.is_dir() or entry == keep:
            continue
        stamp = entry / USED_STAMP
        try:
            last = (stamp if stamp.exists() else entry).stat().st_mtime
        except OSError:
            continue
        days = STALE_TMP_DAYS if entry.name.endswith(TEMP_SUFFIX) else STALE_DAYS
        if now - last > days * 86400:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def release(model: Any) -> bool:
    """Drop this model's compiled networks before PyTorch runs it in this process: their streams'
    buffers (~620 MB for htdemucs with two chunks in flight) would sit under PyTorch's activations
    (a sidecar that ran the exact path after OpenVINO peaked at 2.2 GB). The next OpenVINO job
    loads them again from the model cache (~0.8 s)."""
    with _lock:
        # `in` first: it answers False for what cannot be weakly referenced (a test's stand-in)
        dropped = _compiled.pop(model, None) if model in _compiled else None
    if not dropped:
        return False
    dropped.clear()  # the last references: OpenVINO frees the networks with them
    from .models import trim_heap  # noqa: PLC0415

    trim_heap()
    return True


def _compile(ov: Any, xml: Path, threads: int) -> Any:
    """Compile through OpenVINO's model cache beside the IR: the first compile on a machine also
    stores the compiled network (~170 MB more per thread count), later sidecars load it instead
    (0.8 s against 2.2 s for htdemucs, measured on a 2-core Xeon), which shortens every app start's
    first separation. Under the convert lock, so that two sidecars never write one blob together
    (a blob cut short, by a sidecar killed while writing it, OpenVINO compiles anew: tested)."""
    with file_lock.exclusive(cache_root() / ".convert.lock"):
        core = ov.Core()
        core.set_property({"CACHE_DIR": str(xml.parent / "compiled")})
        return core.compile_model(str(xml), "CPU", compile_config(threads, in_flight(threads)))


def drop_resident(path: Path) -> int:
    """Unmap the resident pages of OpenVINO's read-only mapping of ``path`` (Linux; elsewhere
    nothing). The CPU plugin keeps the IR's weights (or its cached blob) mapped after compiling,
    but runs on its own repacked copy: measured here, 196 MB resident after compile, 15 MB of it
    touched again by inference (the blob: 169 MB, 16 MB touched again). The pages stay in the
    page cache and fault back in if read. Returns the bytes."""
    madvise = libc.function("madvise", (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int))
    if madvise is None:
        return 0
    try:
        dropped, target = 0, os.path.realpath(path)
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                # Read-only mappings only: nothing written there is lost by MADV_DONTNEED.
                if len(fields) == 6 and fields[5].strip() == target and "w" not in fields[1]:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    if madvise(start, end - start, 4) == 0:  # MADV_DONTNEED
                        dropped += end - start
        return dropped
    except (OSError, ValueError):
        return 0


_parked: "weakref.WeakSet[Any]" = weakref.WeakSet()


def park_weights(model: Any, folder: Path) -> bool:
    """Back the torch model's weights by a file (``torch.load(mmap=True)``) once OpenVINO runs it:
    OpenVINO's forward reads none of them (the STFTs have no weights), so they leave the heap
    (htdemucs: ~160 MB) and come back from the page cache only where PyTorch runs the model again
    (the exact path, the measurement, a fallback); the values are the same bytes."""
    if model in _parked:
        return True
    import torch  # noqa: PLC0415

    path = folder / "torch-weights.pt"
    try:
        if not path.exists():
            tmp = temp_path(path)
            torch.save(model.state_dict(), str(tmp))
            os.replace(tmp, path)
        state = torch.load(str(path), mmap=True, weights_only=True, map_location="cpu")
        current = model.state_dict()
        if {k: (v.shape, v.dtype) for k, v in state.items()} != {k: (v.shape, v.dtype) for k, v in current.items()}:
            return False  # not this model's file: nothing is assigned
        del current
        model.load_state_dict(state, assign=True)
    except Exception:  # noqa: BLE001 - a full or read-only disk: the weights stay on the heap
        return False
    _parked.add(model)
    from .models import trim_heap  # noqa: PLC0415

    trim_heap()  # the heap copy is freed above the rest of the model's
    return True


def failure(model: Any, length: int) -> str | None:
    ov = import_openvino()
    return None if ov is None else _failed.get(model_key(model, length, ov))
