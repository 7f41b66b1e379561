"""One workbook, one plan (DESIGN §2): the plan written does not depend on row order, route or
command, and among equally cheap plans it is the most resilient, then the least-norm one."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EXAMPLES, national_rows, small_rows, toy, write
from generated import rows as generated_rows

from model.input.validate import load
from model.studies.baseline import solve_data
from model.studies.frontier import Sweep, frontier_data
from model.studies.hedge import hedge_data
from model.studies.stress import stress_data

EMBARGO = {
    "Scenario": "Embargo",
    "Effect": "Capacity",
    "Basis": "Refine country",
    "Target": "China",
    "Change (%)": -100,
    "First period": "P2",
    "Last period": "P2",
}


def _stock_up_toy(**extra: object) -> dict:
    # One offer, China-refined, 200 t a period at 50/kg; demand 100 t in P1 and in P2; no
    # holding cost. Buying P2's 100 t in P1 and storing it costs exactly what buying it in P2
    # costs (10,000,000 either way), so every split is a cheapest plan.
    return toy(
        {"P1": 90, "P2": 90},
        {("S", "M"): [100, 100]},
        [
            {
                "Supplier": "A",
                "Refine country": "China",
                "Capacity (t per period)": 200,
                "Price (per kg)": 50,
            }
        ],
        sectors={"S": 100},
        **extra,
    )


def test_step2_picks_the_cheapest_plan_that_survives_the_embargo(tmp_path: Path) -> None:
    # An embargo on China in P2 leaves P2 with no supply: a plan that bought only P1's needs
    # in P1 is 100 t short in P2 (100 t x 100/kg = 10,000,000 extra); the plan that bought
    # 200 t in P1 and stored 100 t loses nothing. Step 2 must pick the second. Without the
    # scenario, step 3 (least norm) picks the first: buy 100 t in each period (norm^2 40,000,
    # against 100,000 for stocking up).
    with_shock = load(write(tmp_path / "a.xlsx", _stock_up_toy(Scenarios=[EMBARGO])))
    plan = solve_data(with_shock).plan
    assert plan.summary["Total cost"] == pytest.approx(10_000_000, rel=1e-12)
    pur = plan.sheets["Purchases"].set_index("Period")
    assert pur.at["P1", "Total (t)"] == pytest.approx(200, abs=1e-9)
    assert pur.at["P1", "To stock (t)"] == pytest.approx(100, abs=1e-9)
    assert "P2" not in pur.index
    assert plan.summary["Plan choice"].startswith("1 least cost; 2 ")
    stress = stress_data(with_shock)
    assert stress.rows[0]["Extra cost"] == pytest.approx(0.0, abs=1e-6)
    assert stress.rows[0]["Shortfall (t)"] == pytest.approx(0.0, abs=1e-9)

    quiet = load(write(tmp_path / "b.xlsx", _stock_up_toy()))
    plan = solve_data(quiet).plan
    pur = plan.sheets["Purchases"].set_index("Period")
    assert pur.at["P1", "Total (t)"] == pytest.approx(100, abs=1e-9)
    assert pur.at["P2", "Total (t)"] == pytest.approx(100, abs=1e-9)
    assert plan.sheets["Stock"]["Closing (t)"].abs().max() == pytest.approx(0.0, abs=1e-9)
    assert "step 2: no scenario" in plan.summary["Plan choice"]


def test_step2_weights_by_probability(tmp_path: Path) -> None:
    # Two shocks pull opposite ways; the probabilities decide. "Embargo" (China out in P2)
    # wants P2's 100 t bought in P1: stored, it costs 10,000,000; not stored, 5,000,000 in P1
    # and 100 t short in P2 (10,000,000 of penalty) = 15,000,000. "Glut" (no demand in P2)
    # wants nothing stored: stored 100 t are paid and unused (10,000,000) against 5,000,000.
    # Step 2 weighs the stress costs (stored vs not): at 30 % / 10 %, 0.3 x 10 + 0.1 x 10 = 4 M
    # against 0.3 x 15 + 0.1 x 5 = 5 M -> store; at 10 % / 30 %, 4 M against 3 M -> do not.
    glut = {
        "Scenario": "Glut",
        "Effect": "Demand",
        "Basis": "Sector",
        "Target": "ALL",
        "Change (%)": -100,
        "First period": "P2",
        "Last period": "P2",
    }
    for p_embargo, p_glut, stored in ((30, 10, 100.0), (10, 30, 0.0)):
        rows = _stock_up_toy(
            Scenarios=[
                {**EMBARGO, "Probability (%)": p_embargo},
                {**glut, "Probability (%)": p_glut},
            ]
        )
        plan = solve_data(load(write(tmp_path / f"w{p_embargo}.xlsx", rows))).plan
        closing = plan.sheets["Stock"].set_index("Period")["Closing (t)"]
        assert float(closing.get("P1", 0.0)) == pytest.approx(stored, abs=1e-9)
        assert "probability-weighted" in plan.summary["Plan choice"]


def test_step3_splits_equal_offers_evenly(tmp_path: Path) -> None:
    # Two offers at one price, 100 t of demand: every split costs 5,000,000; the least-norm
    # plan buys 50 t from each (norm^2 2 x 50^2 beats any other split).
    rows = toy(
        {"P1": 90},
        {("S", "M"): [100]},
        [
            {"Supplier": "A", "Capacity (t per period)": 100, "Price (per kg)": 50},
            {"Supplier": "B", "Capacity (t per period)": 100, "Price (per kg)": 50},
        ],
    )
    plan = solve_data(load(write(tmp_path / "t.xlsx", rows))).plan
    pur = plan.sheets["Purchases"].set_index("Supplier")["Total (t)"]
    assert pur.to_dict() == pytest.approx({"A": 50.0, "B": 50.0}, abs=1e-9)


def _shuffled(rows: dict, seed: int) -> dict:
    rng = random.Random(seed)
    out = {}
    for sheet, table in rows.items():
        table = list(table)
        if sheet != "Periods":  # period order is planning order: not a free choice
            rng.shuffle(table)
        out[sheet] = table
    return out


PLAN_TABLES = ("Purchases", "Recycling", "Allocation", "Stock", "Concentration", "Shortfall")


def _canonical(plan) -> dict[str, pd.DataFrame]:
    out = {}
    for name in PLAN_TABLES:
        df = plan.public(name)
        keys = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        out[name] = df.sort_values(keys).reset_index(drop=True) if keys else df
    return out


def _same_plan(a, b, what: str) -> None:
    ta, tb = _canonical(a), _canonical(b)
    for name in PLAN_TABLES:
        pd.testing.assert_frame_equal(
            ta[name], tb[name], check_exact=False, rtol=1e-9, atol=1e-7, obj=f"{what}: {name}"
        )
    assert a.summary["Total cost"] == pytest.approx(b.summary["Total cost"], rel=1e-12)


CASES = {
    "small example": small_rows,
    "national example": national_rows,
    **{f"generated {s}": (lambda s=s: generated_rows(s)[0]) for s in (2, 7, 12, 23)},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_independent_of_row_order_and_route(case: str, tmp_path: Path) -> None:
    rows = CASES[case]()
    data = load(write(tmp_path / "a.xlsx", rows))
    ref = solve_data(data, route="Pyomo")
    assert ref.plan is not None, ref.solution.explanation
    direct = solve_data(data, route="Direct")
    _same_plan(ref.plan, direct.plan, f"{case}, Pyomo vs Direct")
    for seed in (1, 2):
        other = load(write(tmp_path / f"s{seed}.xlsx", _shuffled(rows, seed)))
        again = solve_data(other, route="Direct" if seed == 1 else "Pyomo")
        _same_plan(ref.plan, again.plan, f"{case}, rows shuffled ({seed})")


def test_one_plan_across_commands() -> None:
    # solve, stress's baseline, the frontier's point at the workbook's own value (swept after
    # another value) and hedge's unhedged figures all come from one plan: equal to 1e-9.
    data = load(EXAMPLES / "national-plan.xlsx")
    solved = solve_data(data)
    stress = stress_data(data)
    assert stress.baseline.solution.objective == pytest.approx(solved.solution.objective, rel=1e-12)
    _same_plan(solved.plan, stress.baseline.plan, "solve vs stress baseline")
    rule = "METI 50% per mine country"
    own = float(data.caps.loc[data.caps["rule"] == rule, "max_share"].iloc[0]) * 100
    sweep = Sweep("cap", rule, (65.0, own))
    front = frontier_data(data, sweep).set_index("Value")
    at_own = front.loc[own]
    assert at_own["Total cost"] == pytest.approx(solved.solution.objective, rel=1e-9)
    hedged = hedge_data(data)
    unhedged = {r["Scenario"]: r for r in hedged.rows}
    # 1 - 0.65 is 0.35000000000000003 in floating point: written as the 35 % a planner means.
    assert unhedged["Baseline"]["Probability (%)"] == 35.0
    for r in stress.rows:
        name = r["Scenario"]
        assert at_own[f"{name} extra cost"] == pytest.approx(r["Extra cost"], rel=1e-9), name
        assert at_own[f"{name} extra shortfall (t)"] == pytest.approx(
            r["Extra shortfall (t)"], rel=1e-9, abs=1e-9
        ), name
        if name in unhedged:
            assert unhedged[name]["Unhedged cost"] == pytest.approx(r["Total cost"], rel=1e-9)
            assert unhedged[name]["Unhedged shortfall (t)"] == pytest.approx(
                r["Shortfall (t)"], rel=1e-9, abs=1e-9
            )


def test_plan_holds_the_least_cost(tmp_path: Path) -> None:
    # Steps 2 and 3 never spend cost: the plan's cost equals HiGHS's LP optimum to 1e-12.
    from model.lp.formulation import build_model
    from model.lp.highs import solve
    from model.lp.scenarios import factors

    for case in ("national example", "generated 12", "generated 23"):
        data = load(write(tmp_path / "c.xlsx", CASES[case]()))
        b = build_model(data, factors(data, None))
        lp, _ = solve(b)
        plan = solve_data(data).plan
        assert plan.summary["Total cost"] == pytest.approx(lp.objective, rel=1e-12), case


def test_summary_says_which_steps(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "p.xlsx"
    code, text, err = run_cli("solve", EXAMPLES / "national-plan.xlsx", "-o", out, "--json")
    assert code == 0, err
    summary = json.loads(text)["summary"]
    assert summary["Plan choice"].startswith(
        "1 least cost; 2 the least probability-weighted stress cost over 4 scenarios"
    )
    assert "3 least squares" in summary["Plan choice"]
    code, text, err = run_cli(
        "solve",
        EXAMPLES / "national-plan.xlsx",
        "-o",
        out,
        "--json",
        "--scenario",
        "2010-style embargo",
    )
    assert code == 0, err
    assert "step 2 is for the baseline" in json.loads(text)["summary"]["Plan choice"]


def test_values_are_exact(tmp_path: Path) -> None:
    # The interior point's answer is polished onto the face: no crumbs of 1e-7 t.
    data = load(EXAMPLES / "national-plan.xlsx")
    out = solve_data(data)
    for family, v in out.solution.values.items():
        tiny = (np.abs(v) > 0) & (np.abs(v) < 1e-6)
        assert not tiny.any(), family
