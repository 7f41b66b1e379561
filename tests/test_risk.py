"""Disruption risks (DESIGN §7) and the hedge's general information rule (§5): the sampling
model against its formulas, the history rule against a hand-worked toy, ``sample`` and
``risk`` against the commands they stand on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import EXAMPLES, small_rows, toy, write

from model.input.data import PlanData
from model.input.validate import load
from model.plan.results import bought
from model.studies.frontier import dask_client
from model.studies.hedge import BASELINE, cvar, hedge_data
from model.studies.risk import PLANS, path_name, risk_data
from model.studies.sampling import Episode, alike, paths_of, sample, scenario_rows, start_chances
from model.studies.stress import stress_data

Q3 = {"Q1": 91, "Q2": 91, "Q3": 91}


def _x_stops(name: str, last: str, probability: float) -> dict[str, Any]:
    return {
        "Scenario": name,
        "Effect": "Capacity",
        "Basis": "Supplier",
        "Target": "X",
        "Change (%)": -100,
        "First period": "Q2",
        "Last period": last,
        "Probability (%)": probability,
    }


def history_toy(p_short: float, p_long: float) -> dict[str, list[dict[str, Any]]]:
    """Material M, 100 t a quarter for Auto (penalty 1,000/kg); X at 10/kg with 100 t a
    quarter (no stock from it), Y at 20/kg with 200 t; holding 1/kg a quarter, no floor.
    'Short': X stops in Q2. 'Long': X stops in Q2 and Q3, and Y costs 50 % more in Q3.
    Both look alike through Q2 (X stopped); they part in Q3."""
    return toy(
        Q3,
        {("Auto", "M"): [100, 100, 100]},
        [
            {"Supplier": "X", "Capacity (t per period)": 100, "Price (per kg)": 10},
            {"Supplier": "Y", "Capacity (t per period)": 200, "Price (per kg)": 20},
        ],
        materials=[{"Material": "M", "Holding cost (per kg per period)": 1}],
        Scenarios=[
            _x_stops("Short", "Q2", p_short),
            _x_stops("Long", "Q3", p_long),
            {
                "Scenario": "Long",
                "Effect": "Price",
                "Basis": "Supplier",
                "Target": "Y",
                "Change (%)": 50,
                "First period": "Q3",
                "Last period": "Q3",
            },
        ],
    )


def _bought(plan: Any, supplier: str, period: str) -> float:
    p = bought(plan)
    sel = (p["Supplier"] == supplier) & (p["Period"] == period)
    return float(p.loc[sel, "Tonnes"].sum())


@pytest.mark.parametrize(
    ("p_short", "p_long", "stock_up", "costs", "expected"),
    [
        # p_L x 0.9 M < p_S x 1.1 M: Q2 buys only what Q2 needs; Long then pays Y at 30.
        (30, 30, False, (3.0e6, 4.0e6, 6.0e6), 4.2e6),
        # p_L x 0.9 M > p_S x 1.1 M: Q2 buys Y for Q3 too; Short then holds what it needs not.
        (20, 50, True, (3.0e6, 5.1e6, 5.1e6), 4.47e6),
    ],
)
def test_history_rule_shares_q2_between_alike_paths(
    tmp_path: Path, p_short, p_long, stock_up, costs, expected
):
    """Worked by hand. Quiet world: X 100 t a quarter, 3 x 100 t x 10/kg = 3.0 M. In Q2 both
    shocks look alike (X stopped), so Short and Long decide Q2 once (§5's history rule); the
    only choice is whether Q2 also buys Y's 100 t for Q3 (20 + 1 holding = 21/kg):
    - stock up: Short 1.0 (Q1) + 4.0 (Q2, 200 t of Y) + 0.1 (holding) = 5.1 M, and its Q3 X is
      not needed; Long the same 5.1 M (its Q3 Y would cost 30/kg);
    - not: Short 1.0 + 2.0 + 1.0 = 4.0 M; Long 1.0 + 2.0 + 3.0 (Y at 30 in Q3) = 6.0 M.
    Stocking up costs Short 1.1 M and saves Long 0.9 M: worth it when p_L x 0.9 > p_S x 1.1.
    (Each copy's plan is unique: X is the only 10/kg source, Y the only other.) Foresight from
    Q2 (the old rule, each shock known in full from its start) would let Short skip and Long
    stock up: expected 0.4 x 3 + 0.3 x 4 + 0.3 x 5.1 = 3.93 M < 4.2 M for 30/30."""
    data = load(write(tmp_path / "toy.xlsx", history_toy(p_short, p_long)))
    result = hedge_data(data)
    assert result.status == "Optimal"
    plans = result.plans
    short, long_ = plans["Short"], plans["Long"]
    # Q2 decided once: the same purchases in both copies.
    for supplier in ("X", "Y"):
        assert _bought(short, supplier, "Q2") == pytest.approx(_bought(long_, supplier, "Q2"))
    assert _bought(long_, "Y", "Q2") == pytest.approx(200 if stock_up else 100, abs=1e-6)
    hedged = {r["Scenario"]: r["Hedged cost"] for r in result.rows}
    assert [hedged[BASELINE], hedged["Short"], hedged["Long"]] == pytest.approx(list(costs))
    assert result.summary["Expected cost (hedged)"] == pytest.approx(expected)
    # They part in Q3: Short buys X there unless it stocked up; Long cannot.
    assert _bought(short, "X", "Q3") == pytest.approx(0 if stock_up else 100, abs=1e-6)
    assert _bought(long_, "X", "Q3") == pytest.approx(0, abs=1e-6)


def test_history_rule_leaves_apart_what_differs_from_the_start(tmp_path: Path):
    """Scenarios whose factors differ from their first shocked period on share nothing with
    each other (the rule reduces to 'share with the baseline before t0'): here Long's Y price
    rises in Q2 already, so Short and Long part in Q2, and foresight from Q2 holds: Short buys
    no extra, Long stocks up in Q2."""
    rows = history_toy(30, 30)
    hair = {**rows["Scenarios"][2], "First period": "Q2", "Last period": "Q2"}
    rows["Scenarios"].append({**hair, "Change (%)": 0.01})  # Y a hair dearer already in Q2
    data = load(write(tmp_path / "apart.xlsx", rows))
    result = hedge_data(data)
    assert result.status == "Optimal"
    short, long_ = result.plans["Short"], result.plans["Long"]
    assert _bought(short, "Y", "Q2") == pytest.approx(100, abs=1e-6)
    assert _bought(long_, "Y", "Q2") == pytest.approx(200, abs=1e-6)


# --- the sampling model (DESIGN §7) ----------------------------------------------------------


def _risk(name: str = "Stop", chance: float = 20, duration: float = 2, **kw: Any) -> dict:
    return {
        "Risk": name,
        "Effect": "Capacity",
        "Basis": "Supplier",
        "Target": "X",
        "Change (%)": -100,
        "Chance per year (%)": chance,
        "Duration (periods)": duration,
        **kw,
    }


def risk_book(tmp_path: Path, periods: dict[str, float], risks: list[dict]) -> PlanData:
    rows = toy(
        periods,
        {("Auto", "M"): [100] * len(periods)},
        [
            {"Supplier": "X", "Capacity (t per period)": 100, "Price (per kg)": 10},
            {"Supplier": "Y", "Capacity (t per period)": 200, "Price (per kg)": 20},
        ],
        materials=[{"Material": "M", "Holding cost (per kg per period)": 1}],
        Risks=risks,
    )
    return load(write(tmp_path / "risks.xlsx", rows))


def test_start_chance_is_the_yearly_chance_over_the_periods_days(tmp_path: Path):
    """q_t = 1 - (1 - chance)^(d_t / 365): with 20 % a year, a 91-day quarter starts an episode
    with 5.41 %, a 365-day year with 20 %; 40,000 paths hit it within 4 standard errors."""
    data = risk_book(tmp_path, {"Q": 91, "Y": 365}, [_risk(duration=1)])
    q = start_chances(data)
    assert q[:, 0] == pytest.approx([1 - 0.8 ** (91 / 365), 0.2])
    n = 40_000
    paths = sample(data, n, seed=1)
    first = np.mean([any(e.first == 0 for e in p) for p in paths])
    se = np.sqrt(q[0, 0] * (1 - q[0, 0]) / n)
    assert abs(first - q[0, 0]) < 4 * se
    # Duration 1: an episode in the first period ends with it and none can start in the next
    # (episodes never touch), so the second period starts one only where the first had none.
    second = np.mean([any(e.first == 1 for e in p) for p in paths])
    want = (1 - q[0, 0]) * q[1, 0]
    assert abs(second - want) < 4 * np.sqrt(want * (1 - want) / n)


def test_episodes_last_their_mean_duration(tmp_path: Path):
    """Geometric lengths: P(L = k) = s^(k-1) (1 - s) with s = 1 - 1/D, mean D. Over 300 periods
    (episodes cut by the horizon left out), the mean length is D within 4 standard errors."""
    periods = {f"P{i:03d}": 91 for i in range(300)}
    data = risk_book(tmp_path, periods, [_risk(chance=60, duration=3.5)])
    paths = sample(data, 200, seed=2)
    lengths = np.array([e.last - e.first + 1 for p in paths for e in p if e.last < 299])
    d = 3.5
    sd = np.sqrt(1 - 1 / d) / (1 / d)  # geometric: sqrt(1 - p) / p with p = 1/D
    assert abs(lengths.mean() - d) < 4 * sd / np.sqrt(len(lengths)), (lengths.mean(), len(lengths))
    # and never touching: after an episode, at least one quiet period
    for p in paths:
        for a, b in zip(p, p[1:], strict=False):
            assert b.first >= a.last + 2


def test_risks_are_independent(tmp_path: Path):
    """Two risks on the same draws' other axis: the chance both are active in a period is the
    product of their chances (correlation across 20,000 paths within 4 standard errors of 0)."""
    data = risk_book(
        tmp_path, {"Q1": 91, "Q2": 91, "Q3": 91}, [_risk("A", 30, 2), _risk("B", 50, 1.5)]
    )
    paths = sample(data, 20_000, seed=3)
    active = np.zeros((len(paths), 2))
    for i, p in enumerate(paths):
        for e in p:
            if e.first <= 2 <= e.last:
                active[i, e.risk] = 1
    r = np.corrcoef(active[:, 0], active[:, 1])[0, 1]
    assert abs(r) < 4 / np.sqrt(len(paths))
    assert 0.05 < active.mean(axis=0)[0] < 0.5 and 0.05 < active.mean(axis=0)[1] < 0.5


def test_draws_are_read_in_designs_order(tmp_path: Path):
    """Hand-made draws (paths, periods, risks): u = 0.01 starts (q = 5.4 %), 0.1 < s = 0.5 goes
    on, 0.99 ends it (the period is quiet and starts nothing), 0.0 starts again, 0.3 goes on."""
    data = risk_book(tmp_path, {f"Q{i}": 91 for i in range(5)}, [_risk(duration=2)])
    u = np.array([[[0.01], [0.1], [0.99], [0.0], [0.3]]])
    (path,) = paths_of(data, u)
    assert path == (Episode(0, 1, 0), Episode(3, 4, 0))
    # The seed's generator is numpy's PCG64: the same draws on every machine.
    assert np.random.default_rng(0).random((1, 1, 1))[0, 0, 0] == pytest.approx(
        0.6369616873214543, abs=0
    )
    again = paths_of(data, np.random.default_rng(7).random((50, 5, 1)))
    assert sample(data, 50, seed=7) == again


# --- sample and risk against the commands they stand on --------------------------------------


def _small_with_risks() -> dict[str, list[dict[str, Any]]]:
    rows = small_rows()
    rows["Scenarios"] = []
    rows["Risks"] = [
        {
            "Risk": "ChinaCo stops",
            "Effect": "Capacity",
            "Basis": "Supplier",
            "Target": rows["Suppliers"][0]["Supplier"],
            "Change (%)": -100,
            "Chance per year (%)": 40,
            "Duration (periods)": 1.5,
        },
        {
            "Risk": "Demand surge",
            "Effect": "Demand",
            "Basis": "Material",
            "Target": "ALL",
            "Change (%)": 20,
            "Chance per year (%)": 25,
            "Duration (periods)": 2,
        },
    ]
    return rows


def test_sample_writes_a_workbook_every_command_reads(tmp_path: Path, run_cli):
    book = write(tmp_path / "book.xlsx", _small_with_risks())
    before = book.read_bytes()
    out = tmp_path / "sampled.xlsx"
    code, stdout, err = run_cli("sample", book, "--samples", "40", "--seed", "5", "-o", out)
    assert code == 0, err
    assert book.read_bytes() == before
    sampled = load(out)
    data = load(book)
    paths = sample(data, 40, 5)
    named = alike(paths)
    assert sampled.scenario_names == [n for n, _, _ in named]
    quiet = sum(1 for p in paths if not p)
    # Probability (%) = 100 x (paths alike) / N, unrounded: they sum to the share not quiet.
    assert sum(sampled.probabilities.values()) == pytest.approx((40 - quiet) / 40, abs=1e-12)
    for name, _, count in named:
        assert sampled.probabilities[name] == pytest.approx(count / 40, abs=1e-12)
    # The rows are the paths' episodes.
    assert len(sampled.scenarios) == sum(len(p) for _, p, _ in named)
    # Every command runs on it: check, stress, hedge.
    assert run_cli("check", out)[0] == 0
    assert run_cli("stress", out, "-o", tmp_path / "s.xlsx")[0] == 0
    assert run_cli("hedge", out, "-o", tmp_path / "h.xlsx")[0] == 0
    # Its hedge is the hedge of the paths as scenarios, in memory.
    direct = hedge_data(
        replace(data, scenarios=scenario_rows(data, [(n, p, c / 40) for n, p, c in named]))
    )
    written = hedge_data(sampled)
    assert written.summary["Hedge objective"] == pytest.approx(
        direct.summary["Hedge objective"], rel=1e-9
    )
    # Bad asks: no Risks sheet, no paths.
    plain = write(tmp_path / "plain.xlsx", small_rows())
    code, _, err = run_cli("sample", plain, "--samples", "10", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "Risks" in err
    code, _, err = run_cli("sample", book, "--samples", "0", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "--samples" in err
    assert not (tmp_path / "x.xlsx").exists()


def test_risk_path_costs_are_stress_costs_and_dask_agrees(tmp_path: Path):
    """Each test path's quiet-world cost is what 'stress' says the quiet-world plan costs on
    that path (the path written as a scenario); a path without an episode costs each plan its
    quiet-world cost; the figures follow from Path costs; Dask gives what serial gives."""
    data = load(write(tmp_path / "book.xlsx", _small_with_risks()))
    r = risk_data(data, samples=30, train=20, seed=11)
    assert r.status == "Optimal"
    costs = r.costs.set_index("Path")
    with_episode = [(i, p) for i, p in enumerate(r.test, start=1) if p]
    names = [path_name(i) for i, _ in with_episode]
    as_scenarios = replace(
        data, scenarios=scenario_rows(data, [(path_name(i), p, 0.0) for i, p in with_episode])
    )
    stress = stress_data(as_scenarios, names, detail=False)
    for row in stress.rows:
        assert costs.loc[row["Scenario"], "Quiet-world cost"] == pytest.approx(
            row["Total cost"], rel=1e-9
        )
    quiet = [path_name(i) for i, p in enumerate(r.test, start=1) if not p]
    assert quiet, "the seed should give a quiet path"
    for name in quiet:
        assert costs.loc[name, "Quiet-world cost"] == pytest.approx(r.quiet.solution.objective)
        assert costs.loc[name, "Hedged cost"] == pytest.approx(r.hedge.rows[0]["Hedged cost"])
    # The Risk sheet from Path costs.
    table = r.table.set_index("Plan")
    for plan in PLANS:
        c = costs[f"{plan} cost"].to_numpy(float)
        assert table.loc[plan, "Mean cost"] == pytest.approx(c.mean())
        assert table.loc[plan, "P90 cost"] == pytest.approx(np.percentile(c, 90))
        assert table.loc[plan, "CVaR"] == pytest.approx(
            cvar(c, np.full(len(c), 1 / len(c)), data.risk_level)
        )
        short = costs[f"{plan} shortfall (t)"].to_numpy(float)
        assert table.loc[plan, "Probability of shortfall (%)"] == pytest.approx(
            100 * np.mean(short > 1e-6)
        )
    diff = costs["Quiet-world cost"] - costs["Hedged cost"]
    assert r.summary["Value of hedging (out of sample)"] == pytest.approx(diff.mean())
    low, high = r.summary["Value of hedging, 95 % low"], r.summary["Value of hedging, 95 % high"]
    assert low <= diff.mean() <= high
    # Paths lists every episode of every test path.
    assert len(r.paths) == sum(len(p) for p in r.test)
    # Dask (two local workers) against serial.
    client, cluster = dask_client(2, None)
    try:
        on_dask = risk_data(data, samples=30, train=20, seed=11, client=client)
    finally:
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(
        on_dask.costs[["Path", "Quiet-world cost", "Hedged cost"]],
        r.costs[["Path", "Quiet-world cost", "Hedged cost"]],
        rtol=1e-9,
    )


def test_risk_command_on_the_national_example(tmp_path: Path, run_cli):
    out = tmp_path / "risk.xlsx"
    code, stdout, err = run_cli(
        "risk",
        EXAMPLES / "national-plan.xlsx",
        "--samples",
        "40",
        "--train",
        "10",
        "-o",
        out,
        "--json",
    )
    assert code == 0, err
    answer = json.loads(stdout)
    assert [r["Plan"] for r in answer["risk"]] == list(PLANS)
    assert answer["summary"]["Test paths"] == 40
    wb = openpyxl.load_workbook(out)
    for sheet in ("Overview", "Summary", "Risk", "Paths", "Path costs", "Cost distribution"):
        assert sheet in wb.sheetnames
    assert wb["Path costs"].max_row == 41
    # No Risks sheet: exit 2 with the reason.
    code, _, err = run_cli("risk", EXAMPLES / "small-example.xlsx", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "Risks" in err


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("Chance per year (%)", 0, "Chance per year"),
        ("Chance per year (%)", 120, "Chance per year"),
        ("Duration (periods)", 0.5, "Duration"),
        ("Effect", "Flood", "not an effect"),
        ("Target", "Atlantis", "not a supplier"),
    ],
)
def test_risks_sheet_errors_name_their_cell(tmp_path: Path, run_cli, column, value, says):
    rows = _small_with_risks()
    rows["Risks"][0][column] = value
    code, _, err = run_cli("check", write(tmp_path / "bad.xlsx", rows))
    assert code == 2 and "Risks!" in err and says in err, err


def test_risk_with_an_infeasible_training_path_says_which_and_what(tmp_path: Path, run_cli):
    """Shortfall not allowed and a risk that stops every offer: some training path has no plan
    even foreseen, so the hedge has none (exit 3), naming the path and its episodes; nothing
    is written."""
    rows = _small_with_risks()
    rows["Settings"] = [{"Setting": "Allow shortfall", "Value": "No"}]
    rows["Risks"] = [{**rows["Risks"][0], "Basis": "Material", "Target": "ALL"}]
    book = write(tmp_path / "hard.xlsx", rows)
    out = tmp_path / "r.xlsx"
    code, _, err = run_cli("risk", book, "--samples", "10", "--train", "10", "-o", out)
    assert code == 3, err
    assert "has no feasible plan" in err and "Path 0" in err
    assert "ChinaCo stops 2027-" in err  # the path's episode in words
    assert not out.exists()
