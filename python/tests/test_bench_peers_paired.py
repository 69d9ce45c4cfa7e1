"""bench/analysis_peers.py's paired comparison: ours minus a peer on the renders both answered,
with a bootstrap interval over clusters (a work's renders are resampled together)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def peers():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_analysis_peers", ROOT / "bench" / "analysis_peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_renders_both_answered_count(peers):
    ours = {"a": 1.0, "b": 1.0, "c": 0.0}
    peer = {"a": 0.5, "b": 1.0}  # "c" unanswered by the peer: left out, not scored as a peer miss
    d, lo, hi, n, k = peers.paired_difference(ours, peer, {"a": "w1", "b": "w2", "c": "w3"})
    assert (n, k) == (2, 2)
    assert d == pytest.approx(0.25)
    assert 0.0 <= lo <= d <= hi <= 0.5


def test_equal_answers_give_a_zero_interval(peers):
    scores = {f"r{i}": float(i % 2) for i in range(20)}
    d, lo, hi, n, k = peers.paired_difference(scores, dict(scores), {p: p for p in scores})
    assert (d, lo, hi, n, k) == (0.0, 0.0, 0.0, 20, 20)


def test_one_works_renders_are_drawn_together(peers):
    # The same 6-render gain, once spread over six works and once all in one work of ten:
    # the difference is the same, but resampled by works the concentrated gain is far less sure.
    ours = {f"r{i}": 1.0 for i in range(60)}
    peer = {p: (0.0 if int(p[1:]) < 6 else 1.0) for p in ours}
    spread = {p: f"w{int(p[1:]) % 10}" for p in ours}  # renders 0-5 in works 0-5
    together = {p: f"w{int(p[1:]) // 6}" for p in ours}  # renders 0-5 all in work 0
    d1, lo1, hi1, _, k1 = peers.paired_difference(ours, peer, spread)
    d2, lo2, hi2, _, k2 = peers.paired_difference(ours, peer, together)
    assert d1 == d2 == pytest.approx(0.1)
    assert k1 == k2 == 10
    assert lo1 > 0.0  # six works of ten gained: sure
    assert lo2 == 0.0 and hi2 - lo2 > hi1 - lo1  # one work gained: a draw without it is as likely as not


def test_nothing_in_common(peers):
    d, lo, hi, n, k = peers.paired_difference({"a": 1.0}, {"b": 1.0}, {})
    assert (n, k) == (0, 0) and d != d  # nan
