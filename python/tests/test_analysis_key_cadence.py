"""Chord runs and the authentic-cadence cue of the key estimator (keys.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sfa_sidecar.analysis import keys

C, F, G, D = 0, 5, 7, 2  # major triads: index = root
A_MIN, E_MAJ = 12 + 9, 4  # A minor triad; E major triad (the major V of A minor)


def _path(*runs: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, chord) for chord, n in runs])


def test_runs_drop_blips_and_merge_neighbours():
    path = _path((C, 4), (G, 1), (C, 3), (F, 2))
    assert keys.chord_runs(path) == [(C, 7), (F, 2)]
    assert keys.chord_runs(path, min_frames=1) == [(C, 4), (G, 1), (C, 3), (F, 2)]
    assert keys.chord_runs(np.zeros(0, dtype=int)) == []


def test_cadence_lands_on_the_tonic_not_on_the_dominant_key():
    # I-IV-V-I in C twice: C and G share the chords C and G, but only C hears V -> I.
    path = _path((C, 4), (F, 4), (G, 4), (C, 4), (F, 4), (G, 4), (C, 4))
    cad = keys.cadence_scores(path)
    assert cad[C] == 2 / 6
    assert cad[G] == 0.0  # the G key would need D -> G
    assert int(np.argmax(cad)) == C


def test_minor_cadence_uses_the_major_dominant():
    path = _path((A_MIN, 4), (E_MAJ, 4), (A_MIN, 4))
    cad = keys.cadence_scores(path)
    assert cad[A_MIN] == 0.5
    assert cad[9] == 0.0  # A major: the E -> A minor move is no cadence on an A major triad


def test_no_changes_no_cadence():
    assert not keys.cadence_scores(_path((C, 10))).any()


# Function weights and the confidence on ambiguous loops (signals at 11025 Hz, as key_from_signal takes).

def _key(tonic: str, degrees: list[tuple[int, int]]) -> keys.KeyResult:
    from scipy.signal import resample_poly

    from analysis_signals import progression

    return keys.key_from_signal(resample_poly(progression(tonic, degrees), 1, 4).astype(np.float32))


def test_v_of_v_is_neutral_in_major_keys():
    for tonic in range(12):
        assert keys.FUNCTIONS[tonic, (tonic + 2) % 12] == 0.0  # the major II: V of V
        assert keys.FUNCTIONS[tonic, 12 + (tonic + 2) % 12] == keys.OTHER_W  # ii stays diatonic
        assert keys.FUNCTIONS[tonic, (tonic + 10) % 12] == keys.OUTSIDE_W  # bVII still counts against


@pytest.mark.parametrize("tonic", ["E", "C", "F"])
def test_i_ii_v_loop_is_doubtful(tonic):
    # I-II-V-I repeated is also IV-V-I-IV of the dominant's key: no confident answer either way
    # (with the major II counted against the key this read the dominant at confidence 0.54-0.58).
    assert _key(tonic, [(0, 4), (2, 4), (7, 4), (0, 4)]).confidence < 0.45


@pytest.mark.parametrize("tonic", ["D", "G"])
def test_mixolydian_vamp_gets_low_confidence(tonic):
    assert _key(tonic, [(0, 4), (10, 4)]).confidence < 0.2  # I-bVII: no major or minor key fits


@pytest.mark.parametrize("tonic", ["D", "A"])
def test_cadential_loop_is_confident(tonic):
    result = _key(tonic, [(0, 4), (5, 4), (7, 4), (0, 4)])
    assert keys.key_name(result.tonic_pc, result.mode) == f"{tonic} major"
    assert result.confidence > 0.7
