"""The benchmark runs and reports every figure (timings are a benchmark, not a test)."""

from __future__ import annotations

import json

KEYS = {
    "variables",
    "constraints",
    "read_s",
    "validate_s",
    "build_s",
    "solve_s",
    "highs_s",
    "extract_s",
    "write_s",
    "total_s",
    "peak_rss_mb",
}


def test_bench_small_json(run_cli):
    code, out, err = run_cli("bench", "--size", "small", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= KEYS
    assert result["variables"] > 1000 and result["constraints"] > 500
    assert result["total_s"] >= result["highs_s"] > 0
    assert result["ranging"] is True  # 'Auto' ranges a plan this small
