"""Tempo to two decimals, the beat grid, downbeats and meter, and the seed's feature definitions.

Signals are generated (analysis_signals.py) with exact tempi and known bar starts; the seed's
fields are checked against librosa's own functions after ``librosa.load`` (its defaults)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from analysis_signals import bars, beat_fixture, chords, drums
from sfa_sidecar import analyze
from sfa_sidecar.analysis import features, grid, tempo

SR22 = 22050


def _f_measure(estimated: list[float], reference: list[float], window: float = 0.07) -> float:
    """Beat-tracking F-measure (mir_eval convention): one estimate may match one reference."""
    used: set[int] = set()
    hits = 0
    for r in reference:
        for i, e in enumerate(estimated):
            if i not in used and abs(e - r) <= window:
                used.add(i)
                hits += 1
                break
    if not hits:
        return 0.0
    p, rc = hits / len(estimated), hits / len(reference)
    return 2 * p * rc / (p + rc)


def _y22(y44: np.ndarray) -> np.ndarray:
    return resample_poly(y44, 1, 2).astype(np.float32)


def test_e2e_fixture_reads_100_00(write_wav):
    # e2e "Beat Bravo 100": kick on every beat, hat on the off-beat; read 199 before this change.
    path = write_wav("Beat Bravo 100.wav", beat_fixture(100, 8), sr=SR22)
    r = analyze.run({"path": str(path)})
    assert f"{r['tempo']['bpm']:.2f}" == "100.00"
    assert [a["bpm"] for a in r["tempo"]["alternatives"]] == [200.0, 50.0]
    assert all(0 <= a["score"] <= 1 for a in r["tempo"]["alternatives"])
    assert r["tempo"]["stable"] is True
    beats = np.asarray(r["grid"]["beats"])
    # the kicks (every 0.6 s from 0), not the off-beat hats
    assert np.max(np.abs(beats - 0.6 * np.round(beats / 0.6))) < 0.02
    assert r["grid"]["meter"] == "4/4" and r["grid"]["first_downbeat"] == beats[0]


@pytest.mark.parametrize("bpm", [87.65, 124.0, 128.5, 174.3])
def test_bpm_within_five_hundredths(bpm):
    y = _y22(drums(bpm, 20) + chords("A minor", 20, bpm=bpm))
    result, _ = analyze.tempo_of(y)
    assert abs(result.bpm - bpm) <= 0.05, result.bpm
    assert result.stable


def test_refinement_beats_the_comb_grid():
    # The comb alone reads one lag grid: 128.5 came out as 129.21 before the refinement.
    y = _y22(drums(128.5, 20))
    shared = features.stft_and_onsets(y, SR22)
    assert abs(tempo.refine_bpm(shared.onset_env, shared.fps, 129.21) - 128.5) <= 0.02


def test_drifting_tempo_is_flagged_with_a_curve():
    y = _y22(drums(120, 60, bpm_end=124) + chords("C major", 60, bpm=120))
    result, _ = analyze.tempo_of(y)
    assert result.stable is False
    bpms = [p["bpm"] for p in result.curve]
    assert len(bpms) >= 4 and bpms[-1] - bpms[0] > 2.0  # rising, as the drummer sped up
    assert all(119 < b < 125 for b in bpms)


def test_steady_long_track_is_stable_and_flat():
    y = _y22(drums(126, 40))
    result, _ = analyze.tempo_of(y)
    assert result.stable and result.curve
    assert max(abs(p["bpm"] - 126) for p in result.curve) < 0.2


@pytest.mark.parametrize("bpm,meter,pickup", [(120, 4, 0), (124, 4, 1), (96, 3, 0), (110, 3, 2), (87.3, 4, 3)])
def test_grid_downbeats_and_meter(bpm, meter, pickup):
    y, bar_starts = bars(bpm, meter, 24, pickup)
    shared = features.stft_and_onsets(y, SR22)
    result = tempo.estimate_tempo(shared.onset_env, shared.fps, shared.onset_low)
    g = analyze.grid_of(shared, result, y.size / SR22)
    assert g.meter == f"{meter}/4"
    assert _f_measure(g.downbeats, bar_starts) >= 0.9
    truth = np.arange(0, 24, 60 / bpm)
    assert _f_measure(g.beats, list(truth), window=0.02) >= 0.95
    assert g.first_downbeat == pytest.approx(bar_starts[0], abs=0.03)


def test_alike_beats_start_bars_on_the_first_beat():
    cues = np.zeros(16)
    assert grid.choose_bars(cues)[:2] == (4, 0)


def test_drifting_track_gets_tracked_beats():
    y = _y22(drums(100, 60, bpm_end=106))
    shared = features.stft_and_onsets(y, SR22)
    result = tempo.estimate_tempo(shared.onset_env, shared.fps, shared.onset_low)
    assert not result.stable
    g = analyze.grid_of(shared, result, y.size / SR22)
    gaps = np.diff(g.beats)
    # the tracker follows the drift: later beats are closer together than early ones
    assert np.median(gaps[-20:]) < np.median(gaps[:20])


def test_seed_fields_match_librosa_load_defaults(write_wav):
    import librosa

    left = drums(118, 10) + chords("E minor", 10, bpm=118)
    right = 0.6 * drums(118, 10, seed=3) + 0.3 * chords("E minor", 10, bpm=118)
    path = write_wav("stereo.wav", np.stack([left, right], axis=1) * 0.8)
    r = analyze.run({"path": str(path), "beats": False})
    y, sr = librosa.load(str(path))  # the seed's way: 22,050 Hz mono, defaults everywhere
    seed = {
        ("energy", "rms_mean"): librosa.feature.rms(y=y).mean(),
        ("energy", "zcr_mean"): librosa.feature.zero_crossing_rate(y).mean(),
        ("spectral", "centroid_mean"): librosa.feature.spectral_centroid(y=y, sr=sr).mean(),
        ("spectral", "rolloff_mean"): librosa.feature.spectral_rolloff(y=y, sr=sr).mean(),
    }
    for (group, name), value in seed.items():
        assert r[group][name] == pytest.approx(float(value), rel=0.02), name
    # the windowed RMS is a different measure, kept under its own name
    assert r["energy"]["rms_windowed_mean"] < 0.8 * r["energy"]["rms_mean"]


def test_seed_definitions_exact_on_a_signal_with_silence():
    import librosa

    y = np.concatenate([np.zeros(5000, np.float32), _y22(drums(100, 4)), np.zeros(7000, np.float32)])
    assert features.rms_mean(y) == pytest.approx(float(librosa.feature.rms(y=y).mean()), rel=1e-4)
    assert features.zcr_mean(y) == pytest.approx(float(librosa.feature.zero_crossing_rate(y).mean()), rel=1e-4)
    spec = features.spectral(features.stft_and_onsets(y, SR22))
    assert spec["centroid_mean"] == pytest.approx(float(librosa.feature.spectral_centroid(y=y, sr=SR22).mean()), rel=1e-3)
    assert spec["rolloff_mean"] == pytest.approx(float(librosa.feature.spectral_rolloff(y=y, sr=SR22).mean()), rel=1e-3)
    assert spec["centroid_sounding_mean"] > spec["centroid_mean"]  # silence left out


def _bass_and_moving_melody(bpm: float, seconds: float, pickup: int, sr: int = SR22) -> tuple[np.ndarray, list[float]]:
    """A kick on every beat (no accent), a bass root that changes on each bar line, and a louder
    melody whose note changes every half bar (as much in the middle of the bar as on the bar
    line): only the bass register tells the bar line from the half bar."""
    from analysis_signals import tone

    beat = 60.0 / bpm
    n = int(seconds * sr)
    y = np.zeros(n, np.float32)
    tt = np.arange(int(0.12 * sr)) / sr
    kick = 0.6 * np.sin(2 * np.pi * (50 + 60 * np.exp(-tt * 40)) * tt) * np.exp(-tt * 25)
    bass_midi = [45, 41, 43, 40]  # A2 F2 G2 E2, one per bar
    melody_midi = [76, 81, 72, 79, 74, 77, 83]  # one per half bar, a 7-note cycle against 4 bars
    downbeats = []
    for k in range(-pickup, int(seconds / beat) + 1):
        t = (k + pickup) * beat
        i = int(round(t * sr))
        if i >= n:
            break
        y[i : i + kick.size] += kick[: n - i]
        if k % 4 == 0 and t >= 0:
            downbeats.append(t)
        if k % 4 == 0:
            seg = tone(440 * 2 ** ((bass_midi[(k // 4) % 4] - 69) / 12), min(int(4 * beat * sr), n - i), sr)
            y[i : i + seg.size] += 0.3 * seg
        if k % 2 == 0:
            seg = tone(440 * 2 ** ((melody_midi[(k // 2) % 7] - 69) / 12), min(int(2 * beat * sr), n - i), sr)
            y[i : i + seg.size] += 0.5 * seg
    return y / np.abs(y).max() * 0.8, downbeats


@pytest.mark.parametrize("pickup", [0, 1, 2, 3])
def test_bass_register_marks_the_bar_when_the_melody_moves_every_half_bar(pickup):
    y, bar_starts = _bass_and_moving_melody(120, 24, pickup)
    shared = features.stft_and_onsets(y, SR22)
    result = tempo.estimate_tempo(shared.onset_env, shared.fps, shared.onset_low)
    g = analyze.grid_of(shared, result, y.size / SR22)
    assert g.meter == "4/4"
    assert _f_measure(g.downbeats, bar_starts) >= 0.9, (g.downbeats[:4], bar_starts[:4])


def test_grid_stops_at_the_last_beat_with_an_onset():
    # 16 bars of music, then a 3 s decaying tail (reverb) whose envelope still wiggles: no bar
    # line after the music (the score has none), and the first beat at t=0 is kept.
    fps, period = 22050 / 512, 0.5
    rng = np.random.default_rng(1)
    env = 0.05 * rng.random(int(35 * fps))
    music_beats = np.arange(0, 32, period)
    for t in music_beats:
        env[int(round((t + grid.ONSET_LAG_SECONDS) * fps))] += 1.0
    tail = np.arange(32, 35, period)
    beats = [float(t) for t in np.concatenate([music_beats, tail])]
    trimmed = grid.trim_to_music(beats, env, fps)
    assert trimmed[0] == 0.0 and trimmed[-1] == pytest.approx(music_beats[-1])


def test_single_precision_stft_matches_librosa():
    import librosa

    y = _y22(drums(123, 6) + chords("D major", 6, bpm=123))
    ours = features.magnitude(y)
    theirs = np.abs(librosa.stft(y, n_fft=features.N_FFT, hop_length=features.HOP))
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) <= 1e-5 * float(theirs.max())
