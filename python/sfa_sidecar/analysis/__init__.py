"""Track analysis for DJs: tempo, beats, key, energy, loudness, spectral shape.

The pure signal functions live here (they take numpy arrays, no files, no protocol), so that
the sidecar op (``sfa_sidecar.analyze``), the tests and the benchmarks share one code path.
librosa is imported lazily inside the functions that need it, so importing this package is cheap.

- ``keys``: key profiles, pitch-class chroma from a long-window STFT, Camelot/Open Key tables
- ``tempo``: onset envelope, comb-filtered autocorrelation, octave choice, beats
- ``loudness``: integrated loudness per ITU-R BS.1770-4 (K-weighting + gating)
- ``features``: the shared STFT and the features computed from it
- ``source``: bounded, streaming decode through the bundled ffmpeg; waveform peaks
"""

ANALYZER_VERSION = "1.6.0"
