"""The load test in small (hub/bench_hub.py; `make bench-hub` runs the full sweep): one
student, then five at once, each logs in, starts a server and runs lesson 2's cells through
the kernel API for a bounded time, on a throwaway hub on 127.0.0.1. Every round must run
without a failure and report what `make bench-hub` reports. Needs root."""

from __future__ import annotations

import json
import math
import sys

import pytest

from _shared import ROOT

sys.path.insert(0, str(ROOT / "hub"))
import bench_hub  # noqa: E402
from throwaway import missing_prerequisites  # noqa: E402


def test_five_students_run_lesson_2_and_the_numbers_are_reported(tmp_path, capsys):
    why = missing_prerequisites()
    if why:
        pytest.fail(why)
    out = tmp_path / "sizing.json"
    results = bench_hub.main(["--counts", "1", "5", "--budget", "20", "--alone-budget", "30", "--think", "0.5", "1.5",
                              "--lessons", "lesson 2", "--max-minutes", "8", "--out", str(out)])
    printed = capsys.readouterr().out
    rounds = results["rounds"]
    assert [r["students"] for r in rounds] == [1, 5], printed
    for r in rounds:
        assert not r["failures"], r["failures"]
        assert r["server_start_s"]["n"] >= 1 and 0 < r["server_start_s"]["median"] < 120
        assert r["cells_run"] >= 3 * r["students"]
        assert 0 < r["p50_s"] <= r["p95_s"] < 60 and r["p95_ratio"] > 0 and r["slowdown_p50"] > 0
        assert 0.05 < r["peak_gib_per_student"] < 4  # a server and a PyTorch kernel
    assert sum(r["server_start_s"]["n"] for r in rounds) == 5  # every server started (1, then 4 more)
    summary = results["summary"]["lesson 2"]
    assert summary["students_per_machine"] >= 1 and not math.isnan(summary["peak_gib_per_student"])
    assert json.loads(out.read_text())["summary"] == results["summary"]
    assert "p95" in printed and "per student" in printed and "this machine holds" in printed
