"""The ``analyze``, ``peaks`` and ``analyze_warm`` ops: what a DJ needs to know about a track.

Pipeline (each stage reports progress, so a cancel lands between stages):
  probe -> decode a bounded window at 22.05 kHz, stereo, while the loudness, the peak, the mono
  downmix, the frames of the one STFT (shared by RMS, centroid, rolloff, bandwidth, flatness and
  onset strength) and the key stage's half-rate signal are computed from each decoded block
  (analysis/stream.py) -> tempo (comb-filtered autocorrelation + octave choice + whole-track
  refinement, tempo.py) and the beat grid, beside the key (long-window STFT pitch spectrogram:
  Krumhansl profile + chord functions, keys.py) in a second thread when the sidecar's thread
  budget (OMP_NUM_THREADS) has two -> optional stems pass (then the grid at the chosen tempo,
  grid.py) -> result. The order of the work changes, its result does not (bit for bit; tested).

Long files: only a window of ``maxSeconds`` (default 600 s) is decoded, centred in the file
when the file is longer, and ``window`` in the result says which part was analysed; memory is
bounded by the window (ffmpeg streams into a buffer of that size). ``duration`` is the whole
file's duration.

Result shape: see src/shared/analysis.ts (kept in sync by hand) and DESIGN.md 4.3.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from . import audio, jit_cache
from .analysis import ANALYZER_VERSION
from .analysis.source import EarlyDecode, decode_interleaved, decode_window, waveform_peaks
from .errors import BadRequestError, CancelledError, SidecarError

if TYPE_CHECKING:
    # analysis.stream pulls in scipy.signal (seconds to import): every sidecar imports this module
    # for its op list, so the analysis modules are imported inside the ops (ops.registry).
    from .analysis.stream import MixStream

SR = 22050
DEFAULT_MAX_SECONDS = 600.0
MIN_SECONDS = 1.0
SILENCE_PEAK_DB = -70.0
STEM_NAMES = ("drums", "bass", "other", "vocals")
HARMONIC_STEMS = {"bass": 1.0, "other": 1.0, "vocals": 0.5}
# Stems win a tie: a drums stem has no harmonic clutter, a harmonic stem no drums. The mix must
# be clearly more confident to be chosen over them.
STEM_PREFERENCE = 0.05


class TooShortError(SidecarError):
    code = "TOO_SHORT"


class SilentError(SidecarError):
    code = "SILENT"


class _NoContext:
    def progress(self, fraction: float, message: str = "", force: bool = False) -> None:
        pass

    def check(self) -> None:
        pass


def _number(params: dict, name: str, default: float | None, lo: float, hi: float) -> float | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(f"params.{name} must be a number")
    if not lo <= value <= hi:
        raise BadRequestError(f"params.{name} must be between {lo:g} and {hi:g}")
    return float(value)


def _path(params: dict, name: str = "path") -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequestError(f"params.{name} must be a non-empty string")
    return value


# ---------------------------------------------------------------------------------------------
# Signal level: arrays in, JSON-ready dicts out (shared by the op, the tests and the benchmarks)


def _mono(stereo: np.ndarray) -> np.ndarray:
    return stereo.mean(axis=0).astype(np.float32) if stereo.shape[0] > 1 else stereo[0]


def thread_budget() -> int:
    """Threads this sidecar may keep busy: the engine's OMP_NUM_THREADS (a library-scale batch
    runs one single-threaded sidecar per core), else every CPU it may run on."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class _Inline:
    """A future run in the caller's thread, when the budget is one thread."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def result(self):
        return self.fn(*self.args)


_POOL = None


@contextmanager
def _beside(budget: int, fn, *args, stop: threading.Event | None = None):
    """Yield a future of ``fn(*args)``: run in a second thread when the budget allows (numpy's and
    scipy's FFTs and filters release the GIL, so the key stage runs beside the spectrogram stages),
    else in the caller's thread when it asks for the result. With two threads of ours, BLAS runs
    single-threaded (two threads of ours each starting the budget's BLAS threads would exceed
    it). A cancel or an error leaves at once, without waiting for ``fn`` (waiting could run past
    the engine's grace, which kills the sidecar), and sets ``stop``: ``fn`` checks it
    (``_stop_check``) and ends within ~0.1 s. Its result is dropped; the next analysis' key
    queues behind it in the one-thread pool, so at most one such leftover runs."""
    if budget < 2:
        yield _Inline(fn, *args)
        return
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sfa-analysis")
    with _blas_threads(1):
        future = _POOL.submit(fn, *args)
        try:
            yield future
        except BaseException:
            future.cancel()  # not started yet (a leftover ahead of it): never starts
            if stop is not None:
                stop.set()
            raise
        wait([future])


@contextmanager
def _blas_threads(n: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # a dependency of scikit-learn (librosa's): present wherever librosa is
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _down2(y: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(y, 1, 2).astype(np.float32)


def tempo_of(y22: np.ndarray, shared=None):
    from .analysis import features, tempo

    shared = shared or features.stft_and_onsets(y22, SR)
    return tempo.estimate_tempo(shared.onset_env, shared.fps, shared.onset_low), shared


def beats_of(shared, tempo_result, seconds: float) -> list[float]:
    """An exact grid at the refined tempo on a steady track; tracked beats on a drifting one."""
    from .analysis import grid

    if tempo_result.stable:
        return grid.steady_beats(shared.onset_env, shared.onset_low, shared.fps, tempo_result.bpm, seconds)
    return grid.tracked_beats(shared.onset_env, SR, shared.hop, tempo_result.bpm)


def grid_of(shared, tempo_result, seconds: float):
    """Beats, bars and meter of the mix (its chroma marks the bar lines) at the chosen tempo."""
    from .analysis import features, grid

    beats = beats_of(shared, tempo_result, seconds)
    return grid.beat_grid(beats, shared.mag, shared.fps, SR, features.N_FFT)


def key_of(y22: np.ndarray, y11: np.ndarray | None = None, check=None):
    """Key of a 22.05 kHz signal; ``y11``: its ``_down2`` when already made; ``check``: raises
    to stop it (keys.Check)."""
    from .analysis import keys

    return keys.key_from_signal(_down2(y22) if y11 is None else y11, check=check or keys.never_cancelled)


def _stop_check(stop: threading.Event, ctx):
    """The cancel check of a stage run beside the op: the op's cancel, or the op having left it
    (``_beside`` sets ``stop`` on a cancel or an error)."""

    def check() -> None:
        if stop.is_set():
            raise CancelledError()
        ctx.check()

    return check


def analyze_signal(stereo: np.ndarray, ctx=None, with_grid: bool = False) -> dict[str, Any]:
    """Mix analysis of a decoded (channels, samples) 22.05 kHz signal; raises TOO_SHORT / SILENT."""
    from .analysis.stream import MixStream

    return analyze_stream(MixStream.of(SR, stereo), ctx, with_grid)


def analyze_stream(stream: MixStream, ctx=None, with_grid: bool = False) -> dict[str, Any]:
    """Mix analysis of a finished MixStream. ``with_grid``: the beat grid at the mix's tempo too
    (computed while the key stage runs)."""
    from .analysis import loudness

    ctx = ctx or _NoContext()
    seconds = stream.samples / SR
    if seconds < MIN_SECONDS:
        raise TooShortError(f"the audio lasts {seconds:.2f} s; analysis needs at least {MIN_SECONDS:g} s")
    peak = loudness.amplitude_db(stream.peak)
    if peak < SILENCE_PEAK_DB:
        raise SilentError(f"the audio is silent (peak {peak:.1f} dBFS)")
    stop = threading.Event()
    with _beside(thread_budget(), key_of, stream.mono, stream.half_rate, _stop_check(stop, ctx), stop=stop) as key_future:
        out = _mix_features(stream, peak, ctx, with_grid)
        ctx.progress(0.6, "key", force=True)
        out["key"] = key_future.result()
    ctx.progress(0.75, "energy", force=True)
    return out


def _mix_features(stream: MixStream, peak: float, ctx, with_grid: bool) -> dict[str, Any]:
    """Everything but the key: spectral features, energy, tempo and (``with_grid``) the grid."""
    from .analysis import features

    seconds = stream.samples / SR
    lufs = stream.meter.integrated()
    y = stream.mono
    ctx.progress(0.25, "spectrogram", force=True)
    shared = features.stft_and_onsets(y, SR, stream.mag)
    spectral = features.spectral(shared)
    rms = features.rms_windowed_frames(shared)
    ctx.progress(0.4, "tempo", force=True)
    tempo_result, _ = tempo_of(y, shared)
    ctx.check()
    grid = grid_of(shared, tempo_result, seconds) if with_grid else None
    rate = features.onset_rate(shared.onset_env, shared.fps)
    energy = {
        "rms_mean": round(features.rms_mean(y), 5),
        "zcr_mean": round(features.zcr_mean(y), 5),
        "rms_windowed_mean": round(float(rms.mean()), 5),
        "curve": features.energy_curve(rms, shared.fps, seconds),
        "loudness_lufs": None if lufs is None else round(lufs, 2),
        "peak_db": round(peak, 2),
        "onset_rate": round(rate, 3),
        "level": features.energy_level(lufs, rate, tempo_result.bpm),
    }
    return {
        "tempo": tempo_result,
        "energy": energy,
        "spectral": spectral,
        "seconds": seconds,
        "shared": shared,
        "grid": grid,
    }


# ---------------------------------------------------------------------------------------------
# The ops


def _window(path: str, max_seconds: float) -> tuple[audio.ProbeResult, float, float | None]:
    info = audio.probe(path)
    start = 0.0
    if info.duration is not None and info.duration > max_seconds:
        start = (info.duration - max_seconds) / 2.0
    return info, start, max_seconds


def _stem_pass(stems: dict[str, str], start: float, seconds: float | None, ctx) -> dict[str, Any]:
    """Tempo from the drums stem, key from the harmonic stems (bass + other, vocals at half weight)."""
    out: dict[str, Any] = {"tempo": None, "key": None, "errors": {}}
    decoded: dict[str, np.ndarray] = {}
    for name, path in stems.items():
        ctx.check()
        try:
            decoded[name] = decode_window(path, SR, 1, start, seconds, ctx.check)[0]
        except SidecarError as exc:
            if exc.code == "CANCELLED":
                raise
            out["errors"][name] = f"{exc.code}: {exc}"
    ctx.progress(0.85, "stems: tempo", force=True)
    drums = decoded.get("drums")
    if drums is not None and drums.size >= SR * MIN_SECONDS and np.max(np.abs(drums)) > 10 ** (SILENCE_PEAK_DB / 20):
        out["tempo"], _ = tempo_of(drums, None)
    ctx.progress(0.92, "stems: key", force=True)
    harmonic = [(decoded[n], w) for n, w in HARMONIC_STEMS.items() if n in decoded]
    if harmonic:
        n = min(x.size for x, _ in harmonic)
        mix = sum(w * x[:n] for x, w in harmonic)
        if n >= SR * MIN_SECONDS and np.max(np.abs(mix)) > 10 ** (SILENCE_PEAK_DB / 20):
            out["key"] = key_of(mix.astype(np.float32), check=ctx.check)
    return out


def _choose(kind: str, mix, stems, stem_label: str) -> tuple[Any, str, str]:
    if stems is None:
        return mix, "mix", f"{kind} from the mix: no usable {stem_label}"
    if stems.confidence + STEM_PREFERENCE >= mix.confidence:
        return stems, "stems", (
            f"{kind} from the {stem_label}: confidence {stems.confidence:.2f} vs {mix.confidence:.2f} on the mix"
        )
    return mix, "mix", f"{kind} from the mix: confidence {mix.confidence:.2f} vs {stems.confidence:.2f} on the {stem_label}"


def run(params: dict[str, Any], ctx=None) -> dict[str, Any]:
    ctx = ctx or _NoContext()
    if params.get("warm"):
        return warm(params, ctx)
    warm(params)  # before any real file: the kernels compile under the cache's lock (jit_cache.exclusive)
    path = _path(params)
    max_seconds = _number(params, "maxSeconds", DEFAULT_MAX_SECONDS, MIN_SECONDS, 4 * 3600.0)
    beats = params.get("beats", True)
    if not isinstance(beats, bool):
        raise BadRequestError("params.beats must be a boolean")
    stems = params.get("stems") or {}
    if not isinstance(stems, dict) or any(k not in STEM_NAMES or not isinstance(v, str) or not v for k, v in stems.items()):
        raise BadRequestError(f"params.stems must map some of {', '.join(STEM_NAMES)} to file paths")

    ctx.progress(0.0, "probe", force=True)
    # The decode most files need (stereo, from the start) runs while the probe reads the file.
    early = EarlyDecode.start(path, SR, 2, 0.0, max_seconds)
    try:
        from .analysis.stream import MixStream  # a cold sidecar imports scipy while ffmpeg starts

        info, start, seconds = _window(path, max_seconds)
        ctx.progress(0.03, "decode", force=True)
        # The file's own channel count (at most 2): a mono file decoded as stereo is upmixed at -3 dB,
        # and the seed's fields are defined on librosa.load's mono signal (the mean of the channels).
        channels = max(1, min(info.channels, 2))
        stream = MixStream(SR, channels, int(seconds * SR) + SR)
        decode_interleaved(path, SR, channels, start, seconds, stream, ctx.check, early)
    finally:
        if early is not None:
            early.discard()
    stream.finish()
    ctx.progress(0.15, "features", force=True)
    mix = analyze_stream(stream, ctx, with_grid=beats and not stems)
    del stream

    tempo_result, key_result = mix["tempo"], mix["key"]
    source_t = source_k = "mix"
    result: dict[str, Any] = {}
    if stems:
        ctx.progress(0.78, "stems: decode", force=True)
        st = _stem_pass(stems, start, seconds, ctx)
        tempo_result, source_t, why_t = _choose("tempo", mix["tempo"], st["tempo"], "drums stem")
        key_result, source_k, why_k = _choose("key", mix["key"], st["key"], "harmonic stems")
        result["candidates"] = {
            "mix": {"tempo": mix["tempo"].to_json(), "key": mix["key"].to_json()},
            "stems": {
                "tempo": st["tempo"].to_json() if st["tempo"] else None,
                "key": st["key"].to_json() if st["key"] else None,
            },
        }
        if st["errors"]:
            result["candidates"]["stems"]["errors"] = st["errors"]
        result["choice_reason"] = f"{why_t}; {why_k}"

    tempo_json = dict(tempo_result.to_json(), source=source_t)
    key_json = dict(key_result.to_json(), source=source_k)
    ctx.progress(0.95, "beat grid", force=True)
    if mix["grid"] is not None:
        grid_json = mix["grid"].to_json()
    elif beats:
        grid_json = grid_of(mix["shared"], tempo_result, mix["seconds"]).to_json()
    else:
        grid_json = {"beats": [], "downbeats": [], "meter": None, "first_downbeat": None, "downbeat_confidence": 0.0}
    ctx.progress(0.98, "done", force=True)
    duration = info.duration if info.duration is not None else mix["seconds"]
    return {
        "analyzer_version": ANALYZER_VERSION,
        "source": "stems" if "stems" in (source_t, source_k) else "mix",
        "duration": round(float(duration), 3),
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "analysis_sample_rate": SR,
        "window": {
            "start": round(start, 3),
            "seconds": round(mix["seconds"], 3),
            "truncated": bool(info.duration is not None and info.duration > max_seconds),
        },
        "tempo": tempo_json,
        "grid": grid_json,
        "key": key_json,
        "energy": mix["energy"],
        "spectral": mix["spectral"],
        **result,
    }


def warm(params: dict[str, Any], ctx=None) -> dict[str, Any]:
    """Compile (or load from the cache) librosa's numba code, once per process: see `_exercise`."""
    import time

    t0 = time.monotonic()
    jit_cache.compile_once(lambda: _exercise(ctx))
    return {"warm": True, "seconds": round(time.monotonic() - t0, 3), "analyzer_version": ANALYZER_VERSION}


def _exercise(ctx=None) -> None:
    """Run the whole pipeline once on 4 s of generated audio: every numba kernel an analysis uses."""
    sr = SR
    t = np.arange(int(4 * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    y[(t % 0.5) < 0.01] += 0.5
    stereo = np.stack([y, y]).astype(np.float32)
    analyze_signal(stereo, ctx, with_grid=True)


def peaks(params: dict[str, Any], ctx=None) -> dict[str, Any]:
    """Waveform overview: ``points`` [min, max] pairs per channel (``mixed: true`` -> one channel)."""
    ctx = ctx or _NoContext()
    path = _path(params)
    points = params.get("points", 1000)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 100000:
        raise BadRequestError("params.points must be an integer between 1 and 100000")
    mixed = params.get("mixed", False)
    info = audio.probe(path)
    channels = 1 if mixed else max(1, min(info.channels, 2))
    ctx.progress(0.05, "decode", force=True)
    data, decoded_seconds = waveform_peaks(path, points, channels, expected_seconds=info.duration, check=ctx.check)
    return {
        "duration": round(float(info.duration if info.duration is not None else decoded_seconds), 3),
        "channels": channels,
        "peaks": np.round(data.astype(np.float64), 4).tolist(),
    }


def analyze_op(params: dict[str, Any], ctx) -> dict[str, Any]:
    return run(params, ctx)


def warm_op(params: dict[str, Any], ctx) -> dict[str, Any]:
    return warm(params, ctx)


def peaks_op(params: dict[str, Any], ctx) -> dict[str, Any]:
    return peaks(params, ctx)


OPS = {"analyze": analyze_op, "analyze_warm": warm_op, "peaks": peaks_op}
