"""Scenario factors, what-if and the stress test (DESIGN §3), checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, small_rows, toy, write

from model.input.validate import load
from model.lp.scenarios import factors
from model.studies.baseline import solve_data
from model.studies.stress import stress_data


def test_factors_multiply_and_release_the_floor(tmp_path: Path):
    rows = small_rows()
    rows["Scenarios"] += [
        {
            "Scenario": "China embargo in Q2",
            "Effect": "Capacity",
            "Basis": "Supplier",
            "Target": "ChinaCo",
            "Change (%)": 50,
            "First period": "2027-Q2",
            "Last period": "2027-Q3",
        },
        {
            "Scenario": "China embargo in Q2",
            "Effect": "Price",
            "Basis": "Material",
            "Target": "ALL",
            "Change (%)": 10,
        },
        {
            "Scenario": "China embargo in Q2",
            "Effect": "Demand",
            "Basis": "Sector",
            "Target": "Defense",
            "Change (%)": -25,
            "First period": "2027-Q3",
        },
    ]
    data = load(write(tmp_path / "b.xlsx", rows))
    f = factors(data, "China embargo in Q2")
    china = data.offers.index[data.offers["supplier"] == "ChinaCo"][0]
    # -100 % in Q2 times +50 % in Q2..Q3: 0 in Q2, 1.5 in Q3
    assert f.capacity[china].tolist() == pytest.approx([1.0, 0.0, 1.5])
    assert f.price.min() == pytest.approx(1.1) and f.price.max() == pytest.approx(1.1)
    defense = (data.demand["sector"] == "Defense").to_numpy()
    t = data.demand["t"].to_numpy()
    assert f.demand[defense & (t == 2)].tolist() == pytest.approx([0.75])
    assert f.demand[~(defense & (t == 2))] == pytest.approx(1.0)
    assert f.released.tolist() == [False, True, True]
    assert f.first == 0  # the price row has no window: it starts in the first period


def test_stress_small_example_by_hand():
    """Baseline (see inputs/make_examples.py): 26,920,000. ChinaCo stops in Q2, Q1 is fixed
    to the baseline (104 t China + 56 t Lynas, 40 t into stock). Q2's floor is released: draw
    the 40 t, buy Lynas 60 (4,800,000), recycling 10 (900,000), MP 10 (1,100,000) = 6,800,000.
    Q3 rebuilds the 40 t floor: 104 China + 56 Lynas = 10,720,000, holding 40,000.
    Total 10,760,000 + 6,800,000 + 10,760,000 = 28,320,000: extra 1,400,000, no shortfall."""
    data = load(EXAMPLES / "small-example.xlsx")
    res = stress_data(data)
    assert res.baseline.solution.objective == pytest.approx(26_920_000)
    (row,) = res.rows
    assert row["From period"] == "2027-Q2"
    assert row["Total cost"] == pytest.approx(28_320_000)
    assert row["Extra cost"] == pytest.approx(1_400_000)
    assert row["Shortfall (t)"] == pytest.approx(0)
    stock = res.stock[res.stock["Period"] == "2027-Q2"]
    assert stock["Drawn (t)"].sum() == pytest.approx(40)


def test_reserve_too_small_short_in_penalty_order(tmp_path: Path):
    """10 t in reserve (the 10-day floor), 30 t a period demanded (Defense 10 at 1000/kg, Auto
    20 at 100/kg), one supplier at 10/kg that stops in P2. Baseline buys 30 t twice: 600,000.
    Stress: P1 as planned (300,000); in P2 the floor is released and the 10 t go to Defense;
    Auto is short 20 t: 20 x 100,000 = 2,000,000. Total 2,300,000, extra 1,700,000."""
    rows = toy(
        {"P1": 30, "P2": 30},
        {("Defense", "M"): [10, 10], ("Auto", "M"): [20, 20]},
        [{"Supplier": "S", "Capacity (t per period)": 30, "Price (per kg)": 10}],
        sectors={"Defense": 1000, "Auto": 100},
        materials=[{"Material": "M", "Initial stock (t)": 10, "Min cover (days)": 10}],
        Scenarios=[
            {
                "Scenario": "stop",
                "Effect": "Capacity",
                "Basis": "Supplier",
                "Target": "S",
                "Change (%)": -100,
                "First period": "P2",
                "Last period": "P2",
            }
        ],
    )
    res = stress_data(load(write(tmp_path / "b.xlsx", rows)))
    assert res.baseline.solution.objective == pytest.approx(600_000)
    (row,) = res.rows
    assert row["Total cost"] == pytest.approx(2_300_000)
    assert row["Extra cost"] == pytest.approx(1_700_000)
    assert row["Extra shortfall (t)"] == pytest.approx(20)  # none in the baseline
    assert row["Auto shortfall (t)"] == pytest.approx(20)
    assert row["Defense shortfall (t)"] == pytest.approx(0)


def test_unknown_scenario_lists_the_known_ones():
    from model.input.issues import InputError

    data = load(EXAMPLES / "small-example.xlsx")
    with pytest.raises(InputError) as exc:
        solve_data(data, "Mars embargo")
    assert "'China embargo in Q2'" in str(exc.value.issues[0])


@pytest.fixture(scope="module")
def national():
    data = load(EXAMPLES / "national-plan.xlsx")
    return data, stress_data(data)


def test_stress_never_beats_what_if(national):
    """What-if is the stress problem without the fixing, so it can only be cheaper."""
    data, res = national
    assert len(res.rows) == len(data.scenario_names) == 4
    for row in res.rows:
        what_if = solve_data(data, row["Scenario"]).solution.objective
        assert row["Total cost"] >= what_if - 1e-6 * abs(what_if), row["Scenario"]


def test_fixing_keeps_the_periods_before_the_shock(national):
    data, res = national
    base = res.baseline.plan
    for name, plan in res.plans.items():
        t0 = factors(data, name).first
        for sheet, cols in (
            ("Purchases", ["Supplier", "Material", "Period", "Total (t)"]),
            ("Allocation", ["Material", "Sector", "Period", "Source", "Tonnes"]),
        ):
            a = base.sheets[sheet]
            b = plan.sheets[sheet]
            a = a[a["_t"] < t0][cols].sort_values(cols[:-1]).reset_index(drop=True)
            b = b[b["_t"] < t0][cols].sort_values(cols[:-1]).reset_index(drop=True)
            assert a[cols[:-1]].equals(b[cols[:-1]]), (name, sheet)
            assert np.allclose(a[cols[-1]], b[cols[-1]], atol=1e-5), (name, sheet)


def test_each_re_solve_gets_the_whole_time_limit():
    """HiGHS counts its time limit against an instance's run time summed over all its runs
    (ERGO-Code/HiGHS#1331): without a reset, warm re-solves stop once the sum passes the limit.
    Re-solve the national plan under its scenarios in turn until the sum is 2.5x the limit."""
    from model.lp.formulation import build_model, numbers
    from model.lp.highs import OPTIMAL, hand_over, push_numbers, run

    data = load(EXAMPLES / "national-plan.xlsx")
    b = build_model(data, factors(data, None))
    handle = hand_over(b, 1.0)  # one second per run
    nums = [numbers(data, b.idx, factors(data, n)) for n in (None, *data.scenario_names)]
    statuses = []
    while handle.highs.getRunTime() < 2.5 and len(statuses) < 5000:
        push_numbers(handle, nums[len(statuses) % len(nums)])
        statuses.append(run(handle).status)
    assert handle.highs.getRunTime() >= 2.5
    assert set(statuses) == {OPTIMAL}, statuses
