"""sfa_sidecar/separation/catalog.json, the one model catalogue (the engine reads it too: see
src/main/models/catalog.test.ts), matches the installed demucs package and is what the sidecar lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfa_sidecar.separation import models

CATALOG = json.loads((Path(models.__file__).with_name("catalog.json")).read_text(encoding="utf-8"))


def test_the_sidecar_lists_exactly_the_file_s_models():
    listed = {e["name"]: e for e in models.catalog()}
    assert list(listed) == [m["name"] for m in CATALOG["models"]]
    for m in CATALOG["models"]:
        entry = listed[m["name"]]
        assert entry["stems"] == m["stems"] and entry["size_mb"] == m["sizeMb"] and entry["quality"] == m["quality"]
        assert entry["kind"] == m["kind"] and entry["bag"] == len(m["files"])
    assert models.DSP_MODELS == {"dsp"}


def test_the_file_matches_the_installed_demucs_package():
    remote = models._demucs_dir()
    if remote is None or not (remote / "remote" / "files.txt").is_file():
        pytest.skip("demucs is not installed in this environment: nothing to compare with")
    upstream_urls = models._remote_files()
    for m in CATALOG["models"]:
        if m["kind"] != "demucs":
            assert m["files"] == [] and m["sizeMb"] == 0
            continue
        sigs = [Path(p).name.split("-", 1)[0] for p in m["files"]]
        assert sigs == models._bag_signatures(m["name"]), m["name"]
        assert [CATALOG["rootUrl"] + p for p in m["files"]] == [upstream_urls[s] for s in sigs], m["name"]
        yaml_text = f"models: [{', '.join(repr(s) for s in sigs)}]\n{m['yamlExtra']}"
        assert yaml_text.strip() == (remote / "remote" / f"{m['name']}.yaml").read_text().strip(), m["name"]
