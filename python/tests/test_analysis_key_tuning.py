"""Tuning estimate (A4 offset in cents) and key on detuned material."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from analysis_signals import chords, drums
from sfa_sidecar.analysis import keys


def _detuned(key: str, cents: float) -> np.ndarray:
    a4 = 440.0 * 2 ** (cents / 1200)
    return resample_poly(chords(key, 10, a4=a4) + drums(120, 10), 1, 4).astype(np.float32)


@pytest.mark.parametrize("key,cents", [("A minor", 0.0), ("Eb major", 25.0), ("F# minor", -35.0), ("C major", 40.0)])
def test_tuning_is_estimated_and_the_key_holds(key, cents):
    result = keys.key_from_signal(_detuned(key, cents))
    assert result.tuning_cents == pytest.approx(cents, abs=3.0)
    assert keys.key_name(result.tonic_pc, result.mode) == key
    assert result.to_json()["tuning_cents"] == round(result.tuning_cents, 1)


def test_compensation_matters_near_a_quarter_tone():
    # At +45 cents every note sits near the semitone boundary: the uncompensated map splits the
    # energy between two semitones, the compensated one keeps it whole.
    y = _detuned("Eb major", 45.0)
    tuned, cents = keys.pitch_spectrogram(y, tuning=True)
    plain = keys.pitch_spectrogram(y)
    assert cents == pytest.approx(45.0, abs=3.0)

    def sharpness(semis: np.ndarray) -> float:
        chroma = keys.chroma_profile(semis)
        return float(np.sort(chroma)[-7:].sum() / chroma.sum())  # share of the 7 strongest pitch classes

    assert sharpness(tuned) > sharpness(plain)


def test_no_tonal_peaks_reads_zero_cents():
    assert keys.estimate_tuning(np.zeros((4097, 3), np.float32), np.zeros((4095, 3), bool)) == 0.0
