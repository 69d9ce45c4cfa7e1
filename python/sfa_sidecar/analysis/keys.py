"""Key estimation: pitch-class profiles from a long-window STFT, correlated with key profiles.

Why this method (measured in bench/ANALYSIS.md): key needs frequency resolution, not time
resolution. A 8192-point STFT of the signal resampled to 11025 Hz has 1.35 Hz bins, enough to
separate semitones down to ~55 Hz (bass notes matter most for the tonic), and costs a fraction
of ``chroma_cqt``. We keep only spectral peaks (which removes most of the broadband drum
energy: a cheap harmonic emphasis, no HPSS), map them to semitones, compress with a log, fold
to 12 pitch classes and average over time; the bass register gets extra weight.
The averaged profile is correlated (Pearson) with 24 rotated Krumhansl-Kessler profiles.

That profile method alone confuses a key with its dominant (a I-IV-V song puts as much energy on
the fifth as on the tonic) and reads harmonic minor (major V) as major. The default method
(``METHOD = "chords+profile"``) adds chord-function evidence from the same pitch spectrogram:

1. per frame, 24 major/minor triad templates scored on the treble chroma (cosine) plus the
   bass chroma at the chord's root (weight ``CHORD_BASS``);
2. a Viterbi pass with a constant chord-change penalty (``CHORD_CHANGE``) smooths the frame
   labels into a chord sequence, from which a chord histogram is taken: each chord run counts
   once, however long (``run_histogram``; 1.2.0-1.3.0 counted frames, i.e. time);
3. each of the 24 keys scores the histogram with diatonic function weights: tonic chord 2,
   IV/V (the major V also in minor keys: harmonic minor) and, in minor, VI and VII 1, other
   diatonic chords 0.5, the major II of a major key (V of V) 0, chords outside the key -1. The
   tonic of a I-IV-V song is the chord whose IV and V are both heard; its dominant would need a
   non-diatonic chord (the bVII);
4. authentic cadences in the chord path (V -> I: the dominant's key hears the same move as
   I -> IV) credit the tonic they land on, in both modes (``cadence_scores``; none in the last
   ``CADENCE_TAIL_S`` seconds);
5. the chord scores, the cadence share (weight ``CADENCE_W``) and the profile correlations are
   standardised over the 24 keys (z-scores) and added; the key is the argmax. Confidence comes
   from the winner's margin.

Chosen on a 96-song dev corpus, reported on held-out: bench/ANALYSIS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import scipy.fft

PITCHES_SHARP = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
# Spelling DJs see most: flats for major keys with many sharps in theory; C#/G# minor.
MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]

PROFILES: dict[str, tuple[list[float], list[float]]] = {
    # Krumhansl & Kessler (1982), probe-tone ratings.
    "krumhansl": (
        [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
        [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
    ),
    # Temperley (2007), Kostka-Payne corpus: probability that a pitch class occurs in a segment.
    "temperley": (
        [0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400],
        [0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330],
    ),
    # Albrecht & Shanahan (2013), duration-weighted distributions from a large corpus.
    "albrecht": (
        [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081],
        [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052],
    ),
    # The naive baseline: binary scale templates.
    "binary": (
        [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1],
        [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
    ),
}
DEFAULT_PROFILE = "krumhansl"  # chosen on the dev split, see bench/ANALYSIS.md
METHOD = "chords+profile"  # or "profile": the profile correlation alone (the previous method)

# A cancel check: raises (CancelledError) when the analysis was cancelled. The key stage runs
# beside the other stages in its own thread; a cancelled analysis leaves it behind, and the next
# analysis' key queues behind it, so it checks often enough to end soon after a cancel (steps
# between checks: at most ~0.07 s on a 4-minute track, ~0.18 s on a 10-minute window, idle core).
Check = Callable[[], None]


def never_cancelled() -> None:
    pass


# Frames per block of the pitch spectrogram, between two cancel checks. A multiple of any SIMD
# width pocketfft batches rows by, so the blocks' transforms are the whole batch's, bit for bit.
FRAME_BLOCK = 256


def camelot(tonic_pc: int, mode: str) -> str:
    """Camelot wheel code: C major = 8B, A minor = 8A; a fifth up = +1."""
    major_pc = tonic_pc if mode == "major" else (tonic_pc + 3) % 12
    number = (7 + 7 * major_pc) % 12 + 1
    return f"{number}{'B' if mode == 'major' else 'A'}"


def open_key(tonic_pc: int, mode: str) -> str:
    """Open Key notation (Traktor): C major = 1d, A minor = 1m."""
    cam = camelot(tonic_pc, mode)
    number = (int(cam[:-1]) - 8) % 12 + 1
    return f"{number}{'d' if mode == 'major' else 'm'}"


def key_name(tonic_pc: int, mode: str) -> str:
    return f"{tonic_name(tonic_pc, mode)} {mode}"


def tonic_name(tonic_pc: int, mode: str) -> str:
    return (MAJOR_NAMES if mode == "major" else MINOR_NAMES)[tonic_pc % 12]


def parse_key(name: str) -> tuple[int, str]:
    """"A minor" / "Bb major" / "F# minor" -> (pitch class, mode)."""
    tonic, mode = name.strip().split()
    letter = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[tonic[0].upper()]
    for accidental in tonic[1:]:
        letter += 1 if accidental == "#" else -1 if accidental == "b" else 0
    return letter % 12, mode.lower()


@lru_cache(maxsize=32)
def _semitone_map(sr: int, n_fft: int, lo_midi: int, hi_midi: int, tuning_cents: int = 0) -> np.ndarray:
    """(n_semitones, n_bins) weights: each bin contributes to its nearest semitone, cos-tapered;
    the semitones are those of a tuning ``tuning_cents`` away from A4 = 440 Hz."""
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    a4 = 440.0 * 2.0 ** (tuning_cents / 1200.0)
    with np.errstate(divide="ignore"):
        midi = 69 + 12 * np.log2(np.maximum(freqs, 1e-6) / a4)
    n = hi_midi - lo_midi
    weights = np.zeros((n, freqs.size), dtype=np.float32)
    for i in range(n):
        d = midi - (lo_midi + i)
        mask = np.abs(d) < 0.5
        weights[i, mask] = np.cos(np.pi * d[mask]) ** 2
    return weights


KEY_SR = 11025
KEY_NFFT = 8192
KEY_HOP = 2048
LO_MIDI = 28  # E1 (41 Hz)
HI_MIDI = 96  # C7 (2093 Hz)
BASS_SPLIT = 52  # below E3: bass register
BASS_WEIGHT = 2.0  # the bass register counts double (roots carry the tonic); chosen on dev


TUNING_FMIN, TUNING_FMAX = 100.0, 2000.0  # Hz: partials used for the tuning estimate


def estimate_tuning(mag: np.ndarray, peak: np.ndarray, check: Check = never_cancelled) -> float:
    """A4 offset in cents (-50..50) from the spectral peaks: each peak's frequency (parabola on
    the log magnitude, ~0.1 bin) is read as a deviation from the nearest equal-tempered semitone;
    the magnitude-weighted circular mean of those deviations is the tuning (a piece tuned to
    A4 = 445 Hz reads +20 cents). 0 when there are no tonal peaks."""
    bins = np.arange(1, mag.shape[0] - 1)
    freqs = bins * KEY_SR / KEY_NFFT
    band = (freqs >= TUNING_FMIN) & (freqs <= TUNING_FMAX)
    rows, cols = np.nonzero(peak & band[:, None])
    if rows.size < 20:
        return 0.0
    check()
    k = rows + 1
    a, b, c = (np.log(mag[k + d, cols] + 1e-9) for d in (-1, 0, 1))
    check()
    denom = a - 2 * b + c
    delta = np.where(denom < 0, 0.5 * (a - c) / np.where(denom < 0, denom, -1.0), 0.0)
    f = (k + np.clip(delta, -0.5, 0.5)) * KEY_SR / KEY_NFFT
    semis = 12 * np.log2(f / 440.0)
    angle = 2 * np.pi * (semis - np.round(semis))
    check()
    weight = mag[k, cols]
    vector = np.sum(weight * np.exp(1j * angle))
    if abs(vector) < 1e-9:
        return 0.0
    return float(np.angle(vector) / (2 * np.pi) * 100.0)


def pitch_spectrogram(y11: np.ndarray, peaks_only: bool = True, tuning: bool = False,
                      check: Check = never_cancelled) -> np.ndarray | tuple[np.ndarray, float]:
    """(semitones LO_MIDI..HI_MIDI, frames) log-compressed energy from a long-window STFT at 11025 Hz.

    With ``tuning``: (that, A4 offset in cents), the semitones centred on the estimated tuning
    (a record mastered or played off A4 = 440 Hz would otherwise smear every note over two bins).
    The frames go through in blocks of FRAME_BLOCK with a ``check`` between them."""
    if y11.size < KEY_NFFT:
        y11 = np.pad(y11, (0, KEY_NFFT - y11.size))
    n_frames = 1 + (y11.size - KEY_NFFT) // KEY_HOP
    frames = np.lib.stride_tricks.sliding_window_view(y11, KEY_NFFT)[::KEY_HOP][:n_frames]
    window = np.hanning(KEY_NFFT).astype(np.float32)
    # scipy keeps float32 (numpy's rfft computes in float64: ~0.25 s more on a 4-minute track);
    # the keys of the 122 dev clips are identical either way (bench/ANALYSIS.md).
    by_frame = np.empty((n_frames, KEY_NFFT // 2 + 1), dtype=np.float32)
    mag = by_frame.T  # (bins, frames): the layout of the one-batch transform, for the same sums
    peak = np.empty((mag.shape[0] - 2, n_frames), dtype=bool)
    blocks = [slice(a, a + FRAME_BLOCK) for a in range(0, n_frames, FRAME_BLOCK)]
    for block in blocks:
        check()
        by_frame[block] = np.abs(scipy.fft.rfft(frames[block] * window, axis=1))
        block_mag = mag[:, block]
        peak[:, block] = (block_mag[1:-1] > block_mag[:-2]) & (block_mag[1:-1] >= block_mag[2:])
    check()
    cents = estimate_tuning(mag, peak, check) if tuning else 0.0
    if peaks_only:
        # Keep local maxima along frequency: tonal partials survive, broadband noise mostly not.
        masked = np.zeros_like(mag)
        for block in blocks:
            check()
            masked[1:-1, block][peak[:, block]] = mag[1:-1, block][peak[:, block]]
        mag = masked
    check()
    semis = _semitone_map(KEY_SR, KEY_NFFT, LO_MIDI, HI_MIDI, int(round(cents))) @ mag
    # Per-frame normalisation then log compression (loud passages do not dominate).
    semis /= np.maximum(semis.max(axis=0, keepdims=True), 1e-9)
    semis = np.log1p(100.0 * semis)
    return (semis, cents) if tuning else semis


def chroma_profile(semis: np.ndarray, bass_weight: float = 1.0) -> np.ndarray:
    """Fold a pitch spectrogram to a 12-bin mean chroma (C = index 0)."""
    weights = np.ones(semis.shape[0], dtype=np.float32)
    weights[: BASS_SPLIT - LO_MIDI] = bass_weight
    pcs = (np.arange(LO_MIDI, HI_MIDI) % 12)
    weighted = (semis * weights[:, None]).mean(axis=1)
    chroma = np.zeros(12)
    np.add.at(chroma, pcs, weighted)
    return chroma


@dataclass
class KeyResult:
    tonic_pc: int
    mode: str
    confidence: float
    scores: np.ndarray  # (24,) correlations: 0..11 major on C..B, 12..23 minor on C..B
    runner_up: tuple[int, str, float]
    tuning_cents: float = 0.0  # A4 offset the semitones were centred on (estimate_tuning)

    def to_json(self) -> dict:
        rpc, rmode, rscore = self.runner_up
        return {
            "tuning_cents": round(self.tuning_cents, 1),
            "key": key_name(self.tonic_pc, self.mode),
            "tonic": tonic_name(self.tonic_pc, self.mode),
            "mode": self.mode,
            "camelot": camelot(self.tonic_pc, self.mode),
            "open_key": open_key(self.tonic_pc, self.mode),
            "confidence": round(self.confidence, 3),
            "score": round(float(self.scores.max()), 4),
            "runner_up": {
                "key": key_name(rpc, rmode),
                "camelot": camelot(rpc, rmode),
                "score": round(float(rscore), 4),
            },
        }


# Pitch class of the h-th harmonic above its fundamental, h = 1..8 (12 log2 h, rounded).
HARMONIC_PCS = (0, 0, 7, 0, 4, 7, 10, 0)


def with_partials(weights: np.ndarray, harmonics: int, slope: float) -> np.ndarray:
    """12 pitch-class weights with each note's first ``harmonics`` partials added, the h-th
    weighted slope^(h-1): what those notes sound in a spectrum that keeps the partials."""
    p = np.asarray(weights, dtype=float)
    return sum(slope ** h * np.roll(p, HARMONIC_PCS[h]) for h in range(harmonics))


@lru_cache(maxsize=16)
def sounding_profile(profile: str, harmonics: int = 1, slope: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A profile's (major, minor) weights ``with_partials``, as the pitch spectrogram hears a
    key's notes (essentia's Key builds its "polyphonic" profiles the same way). A C major piece
    also sounds G, B and D (its triad's 3rd harmonics): matched against the bare profile, that
    reads as the dominant's key."""
    major, minor = (with_partials(weights, harmonics, slope) for weights in PROFILES[profile])
    return major, minor


def key_scores(chroma: np.ndarray, profile: str = DEFAULT_PROFILE, harmonics: int = 1,
               slope: float = 1.0) -> np.ndarray:
    """(24,) correlations of ``chroma`` with the profile of each key (``sounding_profile``)."""
    major, minor = sounding_profile(profile, harmonics, slope)
    c = np.asarray(chroma, dtype=float)
    c = c - c.mean()
    cn = np.linalg.norm(c)
    scores = np.zeros(24)
    if cn < 1e-12:
        return scores
    for mode_index, prof in enumerate((major, minor)):
        p = prof - prof.mean()
        p /= np.linalg.norm(p)
        for tonic in range(12):
            scores[mode_index * 12 + tonic] = float(np.dot(c / cn, np.roll(p, tonic)))
    return scores


def estimate_key(chroma: np.ndarray, profile: str = DEFAULT_PROFILE) -> KeyResult:
    scores = key_scores(chroma, profile)
    order = np.argsort(scores)[::-1]
    best, second = int(order[0]), int(order[1])
    s1, s2 = float(scores[best]), float(scores[second])
    # Confidence: how well the best profile fits (correlation) times how clearly it beats the
    # runner-up (a margin of 0.1 in correlation is already a clear win on real music).
    fit = max(0.0, min(1.0, (s1 - 0.3) / 0.5))
    margin = 1.0 - float(np.exp(-max(0.0, s1 - s2) / 0.05))
    confidence = float(np.clip(fit * (0.35 + 0.65 * margin), 0.0, 1.0))

    def unpack(i: int) -> tuple[int, str]:
        return i % 12, "major" if i < 12 else "minor"

    tonic, mode = unpack(best)
    rt, rm = unpack(second)
    return KeyResult(tonic, mode, confidence, scores, (rt, rm, s2))


# ---------------------------------------------------------------------------------------------
# Chord-function evidence

CHORD_BASS = 0.5  # weight of the bass chroma at the chord's root vs the treble triad fit (dev)
CHORD_CHANGE = 0.5  # Viterbi penalty for a chord change, in per-frame score units (dev)
# Diatonic function weights (theory, few free values): (semitones above the tonic, quality)
# -> weight; quality 0 = major triad, 1 = minor triad. Anything else: OUTSIDE.
TONIC_W, PRIMARY_W, OTHER_W, OUTSIDE_W = 2.0, 1.0, 0.5, -1.0
# Major: the major II (V of V, or the Lydian II of pop) is neither for nor against the key: as
# OUTSIDE it made every V/V vote for the dominant's key (an E major Haydn close read as B major).
# The same holds for the secondary dominants of vi and ii (E and A major in C, 1.6.0): as OUTSIDE
# each tonicized vi counted twice for the relative minor, whose V it is, and major chorales read
# as their relative minor (bench/ANALYSIS.md, "Key 1.6.0"). V/iii (B major in C) stays OUTSIDE.
NEUTRAL_W = 0.0
MAJOR_FUNCTIONS = {(0, 0): TONIC_W, (5, 0): PRIMARY_W, (7, 0): PRIMARY_W,
                   (2, 1): OTHER_W, (4, 1): OTHER_W, (9, 1): OTHER_W,
                   (2, 0): NEUTRAL_W, (4, 0): NEUTRAL_W, (9, 0): NEUTRAL_W}
# Minor: i, iv, V (harmonic minor) and VI, VII (natural minor, ubiquitous in pop/EDM) primary;
# v, III and IV (melodic minor) other.
MINOR_FUNCTIONS = {(0, 1): TONIC_W, (5, 1): PRIMARY_W, (7, 0): PRIMARY_W, (8, 0): PRIMARY_W,
                   (10, 0): PRIMARY_W, (7, 1): OTHER_W, (3, 0): OTHER_W, (5, 0): OTHER_W}


def _triad_templates() -> np.ndarray:
    t = np.zeros((24, 12), dtype=np.float32)
    for r in range(12):
        t[r, [r, (r + 4) % 12, (r + 7) % 12]] = 1.0
        t[12 + r, [r, (r + 3) % 12, (r + 7) % 12]] = 1.0
    return t / np.linalg.norm(t, axis=1, keepdims=True)


TRIADS = _triad_templates()  # (24, 12): 0..11 major on C..B, 12..23 minor on C..B


def _fold(semis: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """(12, frames) chroma of the semitone rows with MIDI numbers in [lo, hi)."""
    midi = np.arange(LO_MIDI, HI_MIDI)
    rows = (midi >= lo) & (midi < hi)
    out = np.zeros((12, semis.shape[1]), dtype=np.float32)
    np.add.at(out, midi[rows] % 12, semis[rows])
    return out


def chord_observations(semis: np.ndarray, bass: float = CHORD_BASS, templates: np.ndarray = TRIADS) -> np.ndarray:
    """(24, frames): cosine of the treble chroma with each triad (``templates``, unit rows like
    TRIADS) + bass weight x bass share of the root."""
    treble = _fold(semis, BASS_SPLIT, HI_MIDI)
    low = _fold(semis, LO_MIDI, BASS_SPLIT)
    treble /= np.maximum(np.linalg.norm(treble, axis=0, keepdims=True), 1e-9)
    low /= np.maximum(np.linalg.norm(low, axis=0, keepdims=True), 1e-9)
    return templates @ treble + bass * np.tile(low, (2, 1))


def viterbi_chords(obs: np.ndarray, change: float = CHORD_CHANGE, check: Check = never_cancelled) -> np.ndarray:
    """Best chord path under 'stay, or jump anywhere at a cost': (frames,) indices into TRIADS."""
    n, frames = obs.shape
    if frames == 0:
        return np.zeros(0, dtype=int)
    score = obs[:, 0].astype(np.float64)
    back = np.zeros((frames, n), dtype=np.int16)
    states = np.arange(n)
    for t in range(1, frames):
        if t % FRAME_BLOCK == 0:
            check()
        j = int(np.argmax(score))
        switch = score[j] - change
        stay = score >= switch
        back[t] = np.where(stay, states, j)
        score = np.where(stay, score, switch) + obs[:, t]
    path = np.zeros(frames, dtype=int)
    path[-1] = int(np.argmax(score))
    for t in range(frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def function_matrix(major: dict = MAJOR_FUNCTIONS, minor: dict = MINOR_FUNCTIONS) -> np.ndarray:
    """(24 keys, 24 chords) diatonic function weights from the two modes' tables."""
    w = np.full((24, 24), OUTSIDE_W)
    for mode_index, table in enumerate((major, minor)):
        for tonic in range(12):
            for (offset, quality), weight in table.items():
                w[mode_index * 12 + tonic, quality * 12 + (tonic + offset) % 12] = weight
    return w


FUNCTIONS = function_matrix()


def chord_histogram(semis: np.ndarray) -> np.ndarray:
    """(24,) share of frames labelled with each triad (silent frames left out)."""
    active = semis.max(axis=0) > 0
    if not active.any():
        return np.zeros(24)
    path = viterbi_chords(chord_observations(semis[:, active]))
    h = np.bincount(path, minlength=24).astype(float)
    return h / h.sum()


def chord_path(semis: np.ndarray, check: Check = never_cancelled) -> np.ndarray:
    """The Viterbi chord sequence (indices into TRIADS) of the sounding frames."""
    active = semis.max(axis=0) > 0
    if not active.any():
        return np.zeros(0, dtype=int)
    return viterbi_chords(chord_observations(semis[:, active]), check=check)


def chord_runs(path: np.ndarray, min_frames: int = 2) -> list[tuple[int, int]]:
    """(chord, frames) runs of a chord path; runs shorter than ``min_frames`` (blips between two
    chords) are dropped and equal neighbours merged."""
    if path.size == 0:
        return []
    edges = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [path.size])))
    runs: list[tuple[int, int]] = []
    for start, length in zip(starts, lengths):
        if length < min_frames:
            continue
        chord = int(path[start])
        if runs and runs[-1][0] == chord:
            runs[-1] = (chord, runs[-1][1] + int(length))
        else:
            runs.append((chord, int(length)))
    return runs


# Authentic cadences (V -> I) near the end are not counted: the real-composition corpus cuts each
# span just after a cadence, and a cue read there would be flattered by the cut (a whole track's
# last seconds are a fade or an outro anyway).
CADENCE_TAIL_S = 4.0
CADENCE_W = 0.25  # weight of the cadence term in the z-sum (dev: 0.25-0.5 alike, 1 worse)


def cadence_scores(path: np.ndarray, min_frames: int = 2, predominant: bool = False,
                   tail_s: float = CADENCE_TAIL_S) -> np.ndarray:
    """(24,) share of the chord changes that are authentic cadences on each key's tonic: the
    major triad a fifth above (the dominant, major in minor keys too) followed by a triad on the
    tonic. A key and its dominant share most chords, but V -> I lands only on the true tonic (in
    the dominant's key the same move is I -> IV). The cadence names the tonic, not the mode (the
    last chord may be a Picardy third or misheard), so both modes of that tonic are credited.

    ``predominant``: only IV/ii -> V -> I (iv in minor), which a pop I -> IV of the dominant's key
    imitates less. Cadences landing in the last ``tail_s`` seconds (or on the last chord) are left out."""
    runs = chord_runs(path, min_frames)
    out = np.zeros(24)
    if len(runs) < 2:
        return out
    chords = [c for c, _ in runs]
    starts = np.cumsum([0] + [n for _, n in runs])[:-1] * KEY_HOP / KEY_SR
    end = sum(n for _, n in runs) * KEY_HOP / KEY_SR
    for i in range(1, len(chords)):
        if tail_s and (i == len(chords) - 1 or starts[i] > end - tail_s):
            continue
        tonic = chords[i] % 12
        if chords[i - 1] != (tonic + 7) % 12:  # a major triad on the fifth above
            continue
        if predominant and (i < 2 or chords[i - 2] not in ((tonic + 5) % 12, 12 + (tonic + 2) % 12, 12 + (tonic + 5) % 12)):
            continue
        out[tonic] += 1.0
        out[12 + tonic] += 1.0
    return out / (len(chords) - 1)


def run_histogram(path: np.ndarray, min_frames: int = 2) -> np.ndarray:
    """(24,) share of the chord runs (``chord_runs``) on each triad: every chord heard counts once,
    however long it is held. The function weights ask which chords the music uses; counted per
    frame, the chord held longest (a dominant pedal, a long V7, a vamp) outweighed the progression
    around it (chosen on dev: bench/ANALYSIS.md, "Key 1.4.0")."""
    runs = chord_runs(path, min_frames) or chord_runs(path, 1)  # a clip too short for any run: its frames
    h = np.bincount([c for c, _ in runs], minlength=24).astype(float)
    return h / max(1.0, h.sum())


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


# The profile term hears each note with its first PROFILE_HARMONICS partials, the h-th weighted
# PROFILE_SLOPE^(h-1) (the log-compressed spectrogram keeps weak partials nearly as strong as
# the fundamentals). Chosen on the dev splits (bench/ANALYSIS.md, "Key 1.5.0"): the profile term
# alone on real dev 0.809 -> 0.961; the whole method 0.913 -> 0.922 there, generated dev 0.834
# (unchanged) and 0.769 -> 0.804.
PROFILE_HARMONICS = 6
PROFILE_SLOPE = 0.8


def combined_scores(semis: np.ndarray, profile: str = DEFAULT_PROFILE, bass_weight: float = BASS_WEIGHT,
                    check: Check = never_cancelled) -> np.ndarray:
    """(24,) z(sounding-profile correlations) + z(chord-function scores of the chord runs) +
    CADENCE_W x z(cadences). (The run and cadence scans after the chord path take ~1 ms: no
    checks there.)"""
    prof = key_scores(chroma_profile(semis, bass_weight), profile, PROFILE_HARMONICS, PROFILE_SLOPE)
    check()
    path = chord_path(semis, check)
    check()
    return _z(prof) + _z(FUNCTIONS @ run_histogram(path)) + CADENCE_W * _z(cadence_scores(path))


# z-units: a winner 1.2 ahead of the runner-up gets confidence 1 - 1/e. Set on the dev corpora
# so that the confidence buckets rise with the share of right answers (bench/ANALYSIS.md; 0.8
# before the cadence term widened the margins).
MARGIN_SCALE = 1.2


def estimate_key_combined(semis: np.ndarray, profile: str = DEFAULT_PROFILE, bass_weight: float = BASS_WEIGHT,
                          check: Check = never_cancelled) -> KeyResult:
    scores = combined_scores(semis, profile, bass_weight, check)
    order = np.argsort(scores)[::-1]
    best, second = int(order[0]), int(order[1])
    s1, s2 = float(scores[best]), float(scores[second])
    if not np.any(scores):
        confidence = 0.0
    else:
        # The margin over the runner-up, on the z scale of the 24 keys (0 = a tie).
        confidence = float(np.clip(1.0 - np.exp(-max(0.0, s1 - s2) / MARGIN_SCALE), 0.0, 1.0))
    unpack = lambda i: (i % 12, "major" if i < 12 else "minor")  # noqa: E731
    tonic, mode = unpack(best)
    rt, rm = unpack(second)
    return KeyResult(tonic, mode, confidence, scores, (rt, rm, s2))


def key_from_signal(y11: np.ndarray, profile: str = DEFAULT_PROFILE, bass_weight: float = BASS_WEIGHT,
                    method: str | None = None, check: Check = never_cancelled) -> KeyResult:
    """``check``: called between steps of at most ~0.05 s (4-minute track), raises to stop."""
    semis, cents = pitch_spectrogram(y11, tuning=True, check=check)
    if (method or METHOD) == "profile":
        result = estimate_key(chroma_profile(semis, bass_weight), profile)
    else:
        result = estimate_key_combined(semis, profile, bass_weight, check)
    result.tuning_cents = cents
    return result
