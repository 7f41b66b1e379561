"""The hedged plan (DESIGN §5): hand-solved toys, properties, validation and the command line.

Which figures are unique (§5): H, the foresight figures and, for w = 0, the expected cost. The
toys below are built so that every copy's plan is unique too (each stated in its docstring),
and only then are per-scenario figures held exact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from conftest import EXAMPLES, small_rows, toy, write

from model.input.validate import load
from model.studies.baseline import plan_problems, solve_data
from model.studies.hedge import BASELINE, cvar, hedge_data

P2 = {"P1": 90, "P2": 90}


def embargo(first: str, last: str, probability: float, target: str = "Cheap") -> dict[str, Any]:
    return {
        "Scenario": "Embargo",
        "Effect": "Capacity",
        "Basis": "Supplier",
        "Target": target,
        "Change (%)": -100,
        "First period": first,
        "Last period": last,
        "Probability (%)": probability,
    }


def stock_toy(
    holding: float,
    probability: float,
    periods: dict[str, float] = P2,
    scenario: tuple[str, str] = ("P2", "P2"),
    settings: list[dict[str, Any]] | None = None,
    max_stock: float | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """One material M, 100 t a period for Auto (penalty 1,000/kg); Cheap at 10/kg and Safe at
    30/kg, 1,000 t each; holding ``holding``/kg a period; Cheap stops in the scenario's
    window with ``probability`` %."""
    material: dict[str, Any] = {"Material": "M", "Holding cost (per kg per period)": holding}
    if max_stock is not None:
        material["Max stock (t)"] = max_stock
    return toy(
        periods,
        {("Auto", "M"): [100] * len(periods)},
        [
            {
                "Supplier": "Cheap",
                "Capacity (t per period)": 1000,
                "Price (per kg)": 10,
            },
            {
                "Supplier": "Safe",
                "Capacity (t per period)": 1000,
                "Price (per kg)": 30,
            },
        ],
        materials=[material],
        Scenarios=[embargo(*scenario, probability)],
        Settings=settings or [],
    )


def _closing(plan: Any, period: str) -> float:
    st = plan.sheets["Stock"]
    return float(st.loc[st["Period"] == period, "Closing (t)"].sum())


@pytest.mark.parametrize(
    ("holding", "stock", "expected", "base_cost", "embargo_cost"),
    [
        # 20 p = 10 > h = 9: stock 100 t in P1. Both copies: 200 t x 10,000 + 100 t x 9,000.
        (9, 100, 2_900_000, 2_900_000, 2_900_000),
        # 20 p = 10 < h = 11: no stock. Baseline 2 x 1,000,000; embargo P2 from Safe 3,000,000.
        (11, 0, 3_000_000, 2_000_000, 4_000_000),
    ],
)
def test_stock_up_exactly_when_probability_times_saving_beats_holding(
    tmp_path: Path,
    holding: float,
    stock: float,
    expected: float,
    base_cost: float,
    embargo_cost: float,
):
    """A tonne stocked in P1 costs 10 + h per kg; it saves Cheap's 10 in the quiet world and
    Safe's 30 under the embargo (50 %). Expected change per kg: (1 - p) h + p (h - 20) = h - 20 p:
    stock all 100 t when h < 10, none when h > 10. Unique plans on both sides.
    Unhedged: the quiet-world plan (no stock) followed into the embargo: 1,000,000 + 3,000,000.
    Foresight: the embargo foreseen: min(4,000,000, 2,000,000 + 100 x 1000 x h)."""
    data = load(write(tmp_path / "b.xlsx", stock_toy(holding, 50)))
    res = hedge_data(data)
    assert _closing(res.plans[BASELINE], "P1") == pytest.approx(stock)
    assert _closing(res.plans["Embargo"], "P1") == pytest.approx(stock)  # shared period
    s = res.summary
    assert s["Expected cost (hedged)"] == pytest.approx(expected)
    assert s["Hedge objective"] == pytest.approx(expected)
    assert res.h_lp == pytest.approx(expected)
    (base_row, emb_row) = res.rows
    assert base_row["Hedged cost"] == pytest.approx(base_cost)
    assert emb_row["Hedged cost"] == pytest.approx(embargo_cost)
    assert s["Expected cost (unhedged)"] == pytest.approx(3_000_000)
    assert s["Value of hedging"] == pytest.approx(3_000_000 - expected)
    assert s["Price of hedging"] == pytest.approx(base_cost - 2_000_000)
    foresight = min(4_000_000, 2_000_000 + 100_000 * holding)
    assert emb_row["Foresight cost"] == pytest.approx(foresight)
    assert s["Expected cost (foresight)"] == pytest.approx(0.5 * 2_000_000 + 0.5 * foresight)
    assert emb_row["From period"] == "P2" and base_row["From period"] is None


def test_cvar_hedge_differs_from_the_expected_cost_hedge(tmp_path: Path):
    """p = 30 %, h = 9: expected change per kg stocked 9 - 20 x 0.3 = +3, so the expected-cost
    hedge stocks nothing: C_0 = 2,000,000, C_1 = 4,000,000, E = 2,600,000.
    With w = 100 %, a = 50 %: for S t stocked, C_0 = 2,000,000 + 9,000 S and C_1 = 4,000,000 -
    11,000 S; while C_1 >= C_0 the worst 50 % is C_1 (0.3) and 0.2 of C_0, so CVaR = 0.6 C_1 +
    0.4 C_0 = 3,200,000 - 3,000 S: falling up to S = 100, where C_0 = C_1 = 2,900,000 = H.
    The second pass cannot change it (C_0 + C_1 = 6,000,000 - 2,000 S is also least there)."""
    rows = stock_toy(9, 30)
    neutral = hedge_data(load(write(tmp_path / "a.xlsx", rows)))
    assert _closing(neutral.plans[BASELINE], "P1") == pytest.approx(0)
    assert neutral.summary["Hedge objective"] == pytest.approx(2_600_000)
    # At the default level (90 %) the worst 10 % is the embargo alone.
    assert neutral.summary["CVaR (hedged)"] == pytest.approx(4_000_000)

    rows["Settings"] = [
        {"Setting": "Risk weight (%)", "Value": 100},
        {"Setting": "Risk level (%)", "Value": 50},
    ]
    averse = hedge_data(load(write(tmp_path / "b.xlsx", rows)))
    assert _closing(averse.plans[BASELINE], "P1") == pytest.approx(100)
    s = averse.summary
    assert s["Hedge objective"] == pytest.approx(2_900_000)
    assert averse.h_lp == pytest.approx(2_900_000)
    assert s["CVaR (hedged)"] == pytest.approx(2_900_000)
    assert s["Expected cost (hedged)"] == pytest.approx(2_900_000)  # above 2,600,000: allowed
    # Against the quiet-world plan followed (C = 2,000,000 / 4,000,000): CVaR 3,200,000.
    assert s["Hedge objective (unhedged)"] == pytest.approx(3_200_000)
    assert s["Value of hedging"] == pytest.approx(300_000)
    assert s["Risk weight (%)"] == 100 and s["Risk level (%)"] == 50


def test_second_pass_settles_copies_the_risk_measure_ignores(tmp_path: Path):
    """P1-P3, the embargo in P2 only (30 %), Max stock 50 t, w = 100 %, a = 80 %: the worst 20 %
    is the embargo alone, so H = C_1 = 5,000,000 - 11,000 S, least at S = 50: 4,450,000. H
    gives the baseline copy's P2 and P3 no weight (up to C_0 <= C_1 it could buy from Safe);
    the second pass makes it the cheapest: 3,000,000 + 9,000 x 50 = 3,450,000."""
    rows = stock_toy(
        9,
        30,
        periods={"P1": 90, "P2": 90, "P3": 90},
        settings=[
            {"Setting": "Risk weight (%)", "Value": 100},
            {"Setting": "Risk level (%)", "Value": 80},
        ],
        max_stock=50,
    )
    res = hedge_data(load(write(tmp_path / "b.xlsx", rows)))
    base_row, emb_row = res.rows
    assert res.summary["Hedge objective"] == pytest.approx(4_450_000)
    assert emb_row["Hedged cost"] == pytest.approx(4_450_000)
    assert base_row["Hedged cost"] == pytest.approx(3_450_000)
    buys = res.plans[BASELINE].sheets["Purchases"]
    assert set(buys.loc[buys["Period"] != "P1", "Supplier"]) == {"Cheap"}


def test_scenario_from_the_first_period_at_100_percent_is_its_what_if(tmp_path: Path):
    """Cheap stops in P1-P2 with probability 100 %: nothing is shared, p_0 = 0. The hedge is the
    what-if: 200 t from Safe, 6,000,000. The baseline copy has no weight in H; the second pass
    gives it its own optimum, 2,000,000, not an arbitrary plan."""
    rows = stock_toy(1, 100, scenario=("P1", "P2"))
    data = load(write(tmp_path / "b.xlsx", rows))
    res = hedge_data(data)
    what_if = solve_data(data, "Embargo").solution.objective
    assert what_if == pytest.approx(6_000_000)
    assert res.summary["Expected cost (hedged)"] == pytest.approx(what_if)
    assert res.rows[1]["Hedged cost"] == pytest.approx(what_if)
    assert res.rows[0]["Probability (%)"] == 0
    assert res.rows[0]["Hedged cost"] == pytest.approx(2_000_000)
    assert res.shared == 0 and res.now.empty


def test_small_example_by_hand():
    """Small example, China embargo in Q2 at 30 %. Each tonne S stocked in Q1 beyond the 40 t
    floor costs the Q1 mix (65 % China at 60 + 35 % Lynas at 80 = 67/kg) plus holding 1; the
    quiet copy saves the Q2 mix (67): +1/kg; the embargo copy saves MP's 110 for the first 10 t
    (-42), then recycling's 90 (-22). Expected: 0.7 - 12.6 = -11.9 and 0.7 - 6.6 = -5.9/kg.
    Lynas in Q1 is full at S = 11.43 t (56 + 0.35 S = 60); beyond, the Q1 mix takes recycling
    (0.65 x 60 + 0.35 x 90 = 70.5): quiet +4.5, embargo -18.5 while it replaces recycling (to
    S = 20): expected -2.4. Past S = 20 the embargo copy replaces Lynas (80): +0.6, stop.
    Saving: 10 x 11,900 + 1.4286 x 5,900 + 8.5714 x 2,400 = 148,000 on the unhedged
    0.7 x 26,920,000 + 0.3 x 28,320,000 = 27,340,000: hedged 27,192,000. Price of hedging:
    11.4286 x 1,000 + 8.5714 x 4,500 = 50,000."""
    res = hedge_data(load(EXAMPLES / "small-example.xlsx"))
    s = res.summary
    assert s["Expected cost (unhedged)"] == pytest.approx(27_340_000)
    assert s["Expected cost (hedged)"] == pytest.approx(27_192_000)
    assert s["Value of hedging"] == pytest.approx(148_000)
    # Per-copy figures move within H's 1e-9 relative slack of the second pass (0.03 USD of
    # H here): held to a unit, not exactly.
    assert s["Price of hedging"] == pytest.approx(50_000, abs=1)
    assert _closing(res.plans[BASELINE], "2027-Q1") == pytest.approx(60)
    assert res.shared == 1
    assert list(res.now.columns) == [
        "Supplier",
        "Material",
        "2027-Q1 (t)",
        "Cost",
        "Quiet-world plan (t)",
        "Quiet-world cost",
    ]
    # Q1: 160 t + 20 t stocked beyond the floor: 117 t China, 60 t Lynas (full), 3 t recycling;
    # the quiet-world plan buys the 160 t (120 t of demand and the 40 t floor).
    offers, total = res.now.iloc[:-1], res.now.iloc[-1]
    assert offers["2027-Q1 (t)"].sum() == pytest.approx(180)
    assert total["Supplier"] == "Total"
    assert total["2027-Q1 (t)"] == pytest.approx(180)
    assert total["Quiet-world plan (t)"] == pytest.approx(160)
    assert total["Cost"] == pytest.approx(offers["Cost"].sum())


def test_cvar_of_a_discrete_distribution():
    # Worst 50 % of {10 (p .5), 20 (.3), 40 (.2)}: (.3 x 20 + .2 x 40) / .5 = 28.
    assert cvar(np.array([10.0, 20.0, 40.0]), np.array([0.5, 0.3, 0.2]), 0.5) == pytest.approx(28)
    # Level 0: the expected value.
    assert cvar(np.array([10.0, 20.0]), np.array([0.5, 0.5]), 0.0) == pytest.approx(15)


@pytest.fixture(scope="module")
def national():
    data = load(EXAMPLES / "national-plan.xlsx")
    return data, hedge_data(data)


def test_national_properties(national):
    data, res = national
    s = res.summary
    w, a = data.risk_weight, data.risk_level
    probs = np.array([r["Probability (%)"] for r in res.rows]) / 100
    assert probs.sum() == pytest.approx(1.0)
    hedged = np.array([r["Hedged cost"] for r in res.rows])
    unhedged = np.array([r["Unhedged cost"] for r in res.rows])
    foresight = np.array([r["Foresight cost"] for r in res.rows])
    # H from the written figures, and from HiGHS's first pass.
    h = (1 - w) * probs @ hedged + w * cvar(hedged, probs, a)
    assert s["Hedge objective"] == pytest.approx(h, rel=1e-12)
    assert res.h_lp == pytest.approx(h, rel=1e-8)
    h_unhedged = (1 - w) * probs @ unhedged + w * cvar(unhedged, probs, a)
    assert s["Hedge objective"] <= h_unhedged * (1 + 1e-9)
    assert s["Value of hedging"] == pytest.approx(h_unhedged - s["Hedge objective"])
    assert s["Value of hedging"] > 0  # on this example the hedge pays
    assert probs @ foresight <= s["Expected cost (hedged)"] * (1 + 1e-9)
    # Each scenario: the hedge is never better than foresight of that very scenario.
    assert np.all(foresight <= hedged * (1 + 1e-9))


def test_national_plans_hold_and_share_the_periods_before_each_shock(national):
    data, res = national
    from model.lp.formulation import build_model, numbers
    from model.lp.scenarios import factors

    b = build_model(data, factors(data, None))
    base = res.plans[BASELINE]
    for r in res.rows:
        name = r["Scenario"]
        num = numbers(data, b.idx, factors(data, None if name == BASELINE else name))
        assert plan_problems(b, res.plans[name], num) == []
        if name == BASELINE:
            continue
        t0 = data.periods.index(r["From period"])
        for sheet, cols in (
            ("Purchases", ["Supplier", "Material", "_t", "Total (t)"]),
            ("Stock", ["Material", "_t", "Closing (t)"]),
            ("Allocation", ["Material", "Sector", "_t", "Source", "Tonnes"]),
        ):
            mine = res.plans[name].sheets[sheet]
            ours = base.sheets[sheet]
            mine = mine[mine["_t"] < t0][cols].reset_index(drop=True)
            ours = ours[ours["_t"] < t0][cols].reset_index(drop=True)
            assert mine.equals(ours), (name, sheet)


def test_cli_writes_the_hedge_workbook(tmp_path: Path, run_cli):
    out = tmp_path / "h.xlsx"
    code, stdout, err = run_cli("hedge", EXAMPLES / "small-example.xlsx", "-o", out, "--json")
    assert code == 0, err
    obj = json.loads(stdout)
    assert [r["Scenario"] for r in obj["hedge"]] == ["Baseline", "China embargo in Q2"]
    assert obj["hedge"][0]["From period"] is None
    assert obj["summary"]["Expected cost (hedged)"] == pytest.approx(27_192_000)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["Overview", "Summary"]
    for sheet in ("Purchases", "Stock", "Hedge", "Hedge purchases", "Hedge stock"):
        assert sheet in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    for item in (
        "Hedge objective",
        "Expected cost (hedged)",
        "CVaR (hedged)",
        "Expected cost (unhedged)",
        "Value of hedging",
        "Price of hedging",
        "Expected cost (foresight)",
        "Value of foresight",
        "Risk weight (%)",
        "Risk level (%)",
    ):
        assert item in summary, item
    assert summary["Value of hedging"] == pytest.approx(148_000)
    header = [c.value for c in wb["Hedge"][1]]
    assert header[:8] == [
        "Scenario",
        "Probability (%)",
        "From period",
        "Hedged cost",
        "Unhedged cost",
        "Foresight cost",
        "Hedged shortfall (t)",
        "Unhedged shortfall (t)",
    ]
    assert header[8:] == [
        "Saving from hedging",
        "Hedged over foresight",
        "Unhedged over foresight",
        "Hedged penalties",
        "Unhedged penalties",
    ]
    assert [c.value for c in wb["Hedge purchases"][1]] == [
        "Scenario",
        "Supplier",
        "Material",
        "Period",
        "Tonnes",
        "Cost",
    ]
    assert [c.value for c in wb["Hedge stock"][1]] == [
        "Scenario",
        "Material",
        "Period",
        "Closing (t)",
        "Floor (t)",
    ]
    # The scenario's purchases start at its first period; the baseline's cover every period.
    hp = list(wb["Hedge purchases"].iter_rows(min_row=2, values_only=True))
    assert {r[3] for r in hp if r[0] == "China embargo in Q2"} == {"2027-Q2", "2027-Q3"}
    assert {r[3] for r in hp if r[0] == "Baseline"} == {"2027-Q1", "2027-Q2", "2027-Q3"}
    # Hedge stock: every copy, every period.
    assert len(list(wb["Hedge stock"].iter_rows(min_row=2))) == 2 * 3
    overview = [c.value for row in wb["Overview"].iter_rows(max_col=1) for c in row if c.value]
    assert any(str(v).startswith("What to do now") for v in overview)
    assert any(str(v).startswith("Price of hedging") for v in overview)
    assert any(str(v).startswith("Value of hedging") for v in overview)
    # The first chart draws differences, not totals (bars of 1.48 and 1.68 bn from 0 look
    # alike): the saving per scenario, column I of the Hedge sheet; then the cost of not
    # knowing, hedged and unhedged (J, K). The quiet world's saving is negative (the price).
    xml = _chart_xml(out)
    assert "Hedge!$I$2:$I$3" in xml and "Hedge!$J$2:$J$3" in xml and "Hedge!$K$2:$K$3" in xml
    assert "Hedge!$D$2:$D$3" not in xml
    saving = [r[8] for r in wb["Hedge"].iter_rows(min_row=2, values_only=True)]
    assert saving[0] == pytest.approx(-summary["Price of hedging"])
    assert saving[1] > 0


def _chart_xml(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart"))


def test_hedge_without_probabilities_is_bad_input(tmp_path: Path, run_cli):
    rows = small_rows()
    for r in rows["Scenarios"]:
        r.pop("Probability (%)")
    book = write(tmp_path / "b.xlsx", rows)
    code, _, err = run_cli("hedge", book, "-o", tmp_path / "h.xlsx")
    assert code == 2
    assert "Scenarios" in err and "Probability (%)" in err
    assert not (tmp_path / "h.xlsx").exists()


@pytest.mark.parametrize(
    ("edit", "cell", "words"),
    [
        (lambda r: r["Scenarios"][0].update({"Probability (%)": "often"}), "Scenarios!H2", "not"),
        (lambda r: r["Scenarios"][0].update({"Probability (%)": -5}), "Scenarios!H2", "at least 0"),
        (
            lambda r: r["Scenarios"].append(dict(r["Scenarios"][0], **{"Probability (%)": 40})),
            "Scenarios!H3",
            "30 % in row 2 and 40 %",
        ),
        (
            lambda r: r["Scenarios"].append(
                dict(r["Scenarios"][0], Scenario="Other", **{"Probability (%)": 80})
            ),
            "Scenarios!H3",
            "add up to 110 %",
        ),
        (
            lambda r: r["Settings"].append({"Setting": "Risk weight (%)", "Value": 120}),
            "Settings!B3",
            "between 0 and 100",
        ),
        (
            lambda r: r["Settings"].append({"Setting": "Risk level (%)", "Value": 100}),
            "Settings!B3",
            "between 0 and 99.9",
        ),
        (
            lambda r: r["Settings"].append({"Setting": "Risk level (%)", "Value": "high"}),
            "Settings!B3",
            "percentage",
        ),
    ],
)
def test_probability_and_risk_validation(tmp_path: Path, run_cli, edit, cell, words):
    rows = small_rows()
    edit(rows)
    book = write(tmp_path / "b.xlsx", rows)
    code, _, err = run_cli("check", book)
    assert code == 2
    line = next(ln for ln in err.splitlines() if cell in ln)
    assert words in line


def test_probability_given_once_and_percent_formatted_settings(tmp_path: Path):
    """A scenario's probability on one of its rows counts for all; a risk setting typed as
    60 % in a percent-formatted cell reads as 60 %."""
    rows = small_rows()
    second = dict(rows["Scenarios"][0], **{"Probability (%)": None, "Change (%)": -50})
    rows["Scenarios"].append(second)
    rows["Settings"].append({"Setting": "Risk weight (%)", "Value": 0.6})
    book = write(tmp_path / "b.xlsx", rows)
    wb = openpyxl.load_workbook(book)
    wb["Settings"]["B3"].number_format = "0%"
    wb.save(book)
    data = load(book)
    assert data.probabilities == {"China embargo in Q2": pytest.approx(0.3)}
    assert data.risk_weight == pytest.approx(0.6)


def test_infeasible_only_together_names_the_shared_periods(tmp_path: Path, run_cli):
    """No shortfall allowed. The embargo copy alone must stock 100 t in P1 (Cheap stops in P2,
    nothing else sells). The quiet copy alone must buy at least 150 t from Cheap in P2 with
    demand 100 and Max stock 100, so it can carry at most 50 t out of P1. Each is feasible
    alone; P1 is shared: infeasible together."""
    rows = toy(
        P2,
        {("Auto", "M"): [100, 100]},
        [
            {
                "Supplier": "Cheap",
                "Capacity (t per period)": 1000,
                "Price (per kg)": 10,
                "Min purchase (t per period)": 150,
                "First period": "P2",
            },
            {
                "Supplier": "Early",
                "Capacity (t per period)": 1000,
                "Price (per kg)": 10,
                "Last period": "P1",
            },
        ],
        materials=[{"Material": "M", "Max stock (t)": 100}],
        Scenarios=[embargo("P2", "P2", 50)],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    book = write(tmp_path / "b.xlsx", rows)
    assert solve_data(load(book)).plan is not None
    assert solve_data(load(book), "Embargo").plan is not None
    code, _, err = run_cli("hedge", book, "-o", tmp_path / "h.xlsx")
    assert code == 3, err
    assert "Each scenario can be met alone" in err
    assert (
        "Decided once for Baseline and Embargo (no shock can be told apart before then): P1" in err
    )
    assert "[Baseline]" in err
    assert "[Embargo]" in err
    assert not (tmp_path / "h.xlsx").exists()


def test_infeasible_scenario_alone_is_named(tmp_path: Path, run_cli):
    rows = stock_toy(1, 50)
    rows["Scenarios"][0].update({"Basis": "Material", "Target": "M"})  # nothing sells in P2
    rows["Settings"] = [{"Setting": "Allow shortfall", "Value": "No"}]
    rows["Materials"][0]["Max stock (t)"] = 0
    book = write(tmp_path / "b.xlsx", rows)
    code, _, err = run_cli("hedge", book, "-o", tmp_path / "h.xlsx")
    assert code == 3
    assert "Scenario 'Embargo' alone has no feasible plan" in err


def test_inputs_unchanged_by_hedge(tmp_path: Path, run_cli):
    src = EXAMPLES / "small-example.xlsx"
    before = src.read_bytes()
    code, _, _ = run_cli("hedge", src, "-o", tmp_path / "h.xlsx")
    assert code == 0
    assert src.read_bytes() == before


def test_expected_cost_hedge_beats_quiet_plan_on_national(national):
    data, res = national
    assert data.risk_weight == 0
    s = res.summary
    assert s["Expected cost (hedged)"] <= s["Expected cost (unhedged)"]
    assert s["Value of foresight"] >= -1e-6 * s["Expected cost (hedged)"]
    # The Hedge sheet's figures are what the Summary adds up.
    probs = np.array([r["Probability (%)"] for r in res.rows]) / 100
    assert probs @ [r["Hedged cost"] for r in res.rows] == pytest.approx(
        s["Expected cost (hedged)"]
    )


@pytest.mark.parametrize("size", ["small", "medium"])
def test_properties_on_a_generated_workbook(tmp_path: Path, size: str):
    """The synthetic bench workbooks with 4 weighted shocks (every cap scope, min purchases,
    alternatives, soft floors, initial stock) and a risk-averse setting; medium is the size
    the bench's targets are stated at (105,292 variables in the extensive form)."""
    from model.cli.bench import synthetic_rows

    rows = synthetic_rows(size, hedge=4)
    rows["Settings"] += [
        {"Setting": "Risk weight (%)", "Value": 50},
        {"Setting": "Risk level (%)", "Value": 80},
    ]
    data = load(write(tmp_path / "s.xlsx", rows))
    res = hedge_data(data)
    s = res.summary
    probs = np.array([r["Probability (%)"] for r in res.rows]) / 100
    hedged = np.array([r["Hedged cost"] for r in res.rows])
    unhedged = np.array([r["Unhedged cost"] for r in res.rows])
    foresight = np.array([r["Foresight cost"] for r in res.rows])
    h = 0.5 * probs @ hedged + 0.5 * cvar(hedged, probs, 0.8)
    assert s["Hedge objective"] == pytest.approx(h, rel=1e-12)
    assert res.h_lp == pytest.approx(h, rel=1e-8)
    assert s["Hedge objective"] <= (0.5 * probs @ unhedged + 0.5 * cvar(unhedged, probs, 0.8)) * (
        1 + 1e-9
    )
    assert probs @ foresight <= s["Expected cost (hedged)"] * (1 + 1e-9)
    assert s["Second pass"].startswith("done")


def test_a_probability_of_0_3_in_a_plain_cell_gets_a_warning(tmp_path: Path):
    rows = small_rows()
    rows["Scenarios"][0]["Probability (%)"] = 0.3
    data = load(write(tmp_path / "b.xlsx", rows))
    assert data.probabilities == {"China embargo in Q2": pytest.approx(0.003)}
    assert any(
        str(w).startswith("Scenarios!H2") and "if you meant 30 %" in str(w) for w in data.warnings
    )


def test_penalties_are_split_out_in_stress_and_hedge(tmp_path, run_cli):
    """The part of each cost that is penalties (unmet needs), not money: in the hedge's rows
    for both plans, and in the stress rows; the quiet-world plan followed into a shock has the
    same penalties in both commands."""
    import json

    from conftest import EXAMPLES

    book = EXAMPLES / "national-plan.xlsx"
    code, out, err = run_cli("hedge", book, "-o", tmp_path / "h.xlsx", "--json")
    assert code == 0, err
    hedge = {r["Scenario"]: r for r in json.loads(out)["hedge"]}
    code, out, err = run_cli("stress", book, "-o", tmp_path / "s.xlsx", "--json")
    assert code == 0, err
    stress = {r["Scenario"]: r for r in json.loads(out)["stress"]}
    base = hedge["Baseline"]["Unhedged penalties"]
    for name, r in stress.items():
        assert hedge[name]["Unhedged penalties"] == pytest.approx(base + r["Of which penalties"])
        assert 0 <= hedge[name]["Hedged penalties"] <= hedge[name]["Hedged cost"]
    assert hedge["Heavy RE licence shock"]["Unhedged penalties"] > 0  # 12 t short
    assert all(not k.startswith("_") for r in stress.values() for k in r)
