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


def test_bench_hedge_small_json(run_cli):
    code, out, err = run_cli("bench", "--size", "small", "--hedge", "4", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["hedge_scenarios"] == 4
    for key in ("highs_s", "second_pass_highs_s", "stress_foresight_highs_s", "overhead_s"):
        assert key in result
    assert result["total_s"] >= result["highs_all_s"] > 0
    assert result["rss_over_highs_alone"] > 0
    assert result["value_of_hedging"] >= -1e-6 * abs(result["hedge_objective"])
