"""bench/corpus (the generated songs): two benchmark workers that render the same song at once
both finish, and the song's folder holds one whole render (no half-written or temporary files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402
RENDER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import corpus
corpus.CACHE = Path(sys.argv[2])
song = corpus.songs("dev", 101, 1)[0]
print(corpus.render(song)["mix"])
"""


def test_two_workers_render_the_same_song_at_once(tmp_path):
    if not corpus.have_fluidsynth():
        pytest.skip("fluidsynth and FluidR3_GM are needed (apt-get install fluidsynth fluid-soundfont-gm)")
    cmd = [sys.executable, "-c", RENDER, str(ROOT / "bench"), str(tmp_path)]
    workers = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0, err
    mixes = {out.strip() for out, _ in outputs}
    assert len(mixes) == 1  # both name the same render
    folder = Path(mixes.pop()).parent
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary folder left
    assert sorted(p.name for p in folder.iterdir()) == ["drums.wav", "harmonic.wav", "mix.wav", "truth.json"]
    mix, sr = sf.read(folder / "mix.wav")
    assert sr > 0 and len(mix) > sr and abs(mix).max() > 0.01
    assert json.loads((folder / "truth.json").read_text())["split"] == "dev"
