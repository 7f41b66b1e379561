"""``ree-plan frontier``: the price of resilience, checked by hand and against solve/stress."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import EXAMPLES, toy, write

from model.input.validate import load
from model.studies.baseline import solve_data
from model.studies.frontier import CAP, COVER, Sweep, frontier_data, parse_values
from model.studies.stress import stress_data

EU = "EU CRMA 65% per refining country"


def three_countries(share: float = 65) -> dict:
    """One period, 100 t of M for Auto; A (country A) at 10/kg, B at 20, C at 30, 1,000 t each;
    no country above ``share`` % of what is bought."""
    rows = toy(
        {"P1": 90},
        {("Auto", "M"): [100]},
        [
            {"Supplier": n, "Mine country": n, "Capacity (t per period)": 1000, "Price (per kg)": p}
            for n, p in (("A", 10), ("B", 20), ("C", 30))
        ],
        Caps=[
            {
                "Rule": "Country cap",
                "Basis": "Mine country",
                "Group": "EACH",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": share,
            }
        ],
    )
    return rows


def test_hand_solved_cap_frontier(tmp_path: Path):
    """At share s (of 100 t): A takes s, B min(s, 100 - s), C the rest.
    100 %: 100 A = 1,000,000. 80 %: 80 A + 20 B = 800,000 + 400,000 = 1,200,000.
    65 %: 65 A + 35 B = 1,350,000. 50 %: 50 A + 50 B = 1,500,000.
    40 %: 40 A + 40 B + 20 C = 400,000 + 800,000 + 600,000 = 1,800,000."""
    data = load(write(tmp_path / "b.xlsx", three_countries()))
    df = frontier_data(data, Sweep(CAP, "Country cap", (100, 80, 65, 50, 40)))
    assert df["Total cost"].tolist() == pytest.approx(
        [1_000_000, 1_200_000, 1_350_000, 1_500_000, 1_800_000]
    )
    assert df["Point"].tolist()[0] == "Country cap = 100 %"
    assert df["M largest country share (%)"].tolist() == pytest.approx([100, 80, 65, 50, 40])
    assert (df["Status"] == "Optimal").all()


def test_the_workbooks_own_point_reproduces_solve_and_stress():
    """The optimum is unique in cost, not in plan: warm from the 80 % point, HiGHS may stop at
    another plan of the same cost (e.g. Automotive drawing the Lynas lot rather than the
    China lot), whose stress figures differ (by 0.7 % for the embargo, measured). So the
    stress figures are compared on the workbook's own point solved alone, like ``solve``."""
    data = load(EXAMPLES / "national-plan.xlsx")
    swept = frontier_data(data, Sweep(CAP, EU, (80, 65)))
    cost = solve_data(data).solution.objective
    assert swept[swept["Value"] == 65].iloc[0]["Total cost"] == pytest.approx(cost, rel=1e-9)
    own = frontier_data(data, Sweep(CAP, EU, (65,))).iloc[0]
    assert own["Total cost"] == pytest.approx(cost, rel=1e-9)
    stress = stress_data(data)
    for r in stress.rows:
        assert own[f"{r['Scenario']} extra cost"] == pytest.approx(r["Extra cost"], rel=1e-7)
        assert own[f"{r['Scenario']} extra shortfall (t)"] == pytest.approx(
            r["Extra shortfall (t)"], abs=1e-6
        )
    # The hedge's unhedged expected cost is this point's expected cost.
    from model.studies.hedge import hedge_data

    hedge = hedge_data(data).summary
    assert own["Expected cost"] == pytest.approx(hedge["Expected cost (unhedged)"], rel=1e-9)
    assert own["Hedged expected cost"] == pytest.approx(hedge["Expected cost (hedged)"], rel=1e-9)


def test_costs_do_not_fall_as_the_cap_tightens():
    data = load(EXAMPLES / "national-plan.xlsx")
    df = frontier_data(data, Sweep(CAP, "METI 50% per mine country", (100, 80, 65, 50, 45)))
    costs = df["Total cost"].to_numpy()
    assert np.all(np.diff(costs) >= -1e-9 * costs[:-1])
    assert costs[-1] > costs[0]  # on this example the mine cap costs something


def test_infeasible_point_is_a_row_and_the_sweep_goes_on(tmp_path: Path):
    """Hard floor (no Below-floor penalty), no shortfall, 100 t a period of 90 days, at most
    150 t to buy a period: P1 can put 50 t in stock. 30 days of cover is a 33.3 t floor, met;
    60 days is 66.7 t, infeasible; the sweep reports it and goes on to 30."""
    rows = toy(
        {"P1": 90, "P2": 90},
        {("Auto", "M"): [100, 100]},
        [{"Supplier": "S", "Capacity (t per period)": 150, "Price (per kg)": 10}],
        materials=[{"Material": "M"}],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    data = load(write(tmp_path / "b.xlsx", rows))
    df = frontier_data(data, Sweep(COVER, "M", (0, 60, 30)))
    assert df["Status"].tolist()[0] == "Optimal" and df["Status"].tolist()[2] == "Optimal"
    assert df["Status"].tolist()[1].startswith("Infeasible")
    # 0 days: 2 x 100 t x 10,000 = 2,000,000; 30 days: + 33.3 t bought and kept = 2,333,333.
    assert df["Total cost"].tolist()[0] == pytest.approx(2_000_000)
    assert df["Total cost"].tolist()[2] == pytest.approx(2_000_000 + 100 / 3 * 10_000)


def test_cli_json_and_workbook(tmp_path: Path, run_cli):
    out = tmp_path / "f.xlsx"
    code, stdout, err = run_cli(
        "frontier",
        EXAMPLES / "small-example.xlsx",
        "--cover",
        "ALL",
        "--days",
        "0,30,60",
        "-o",
        out,
        "--json",
    )
    assert code == 0, err
    rows = json.loads(stdout)["frontier"]
    assert [r["Value"] for r in rows] == [0, 30, 60]
    assert all(r["Status"] == "Optimal" for r in rows)
    assert "China embargo in Q2 extra cost" in rows[0] and "Expected cost" in rows[0]
    # 30 days is the workbook's own cover: the small example's optimum.
    assert rows[1]["Total cost"] == pytest.approx(26_920_000)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Overview", "Frontier"]
    header = [c.value for c in wb["Frontier"][1]]
    assert header[:4] == ["Point", "Value", "Total cost", "Penalties"]
    assert "Status" in header
    overview = [c.value for row in wb["Overview"].iter_rows(max_col=1) for c in row if c.value]
    assert any("a year in a quiet world" in str(v) for v in overview)
    import zipfile

    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_bad_sweeps_are_input_errors(run_cli):
    book = EXAMPLES / "small-example.xlsx"
    code, _, err = run_cli("frontier", book, "--cap", "No such rule", "--shares", "50")
    assert code == 2 and "no cap rule named 'No such rule'" in err
    code, _, err = run_cli("frontier", book, "--cover", "ALL", "--days", "30,sixty")
    assert code == 2 and "type e.g." in err
    code, _, err = run_cli("frontier", book, "--cover", "ALL")
    assert code == 2 and "--days" in err
    # 0.5 may mean 50 % or half a percent: refused, saying how to type either (as the
    # workbook warns of 0.5 in a plain cell); 65% and 0.5% are what they say.
    rule = "China at most 65%"
    code, _, err = run_cli("frontier", book, "--cap", rule, "--shares", "100,65%,0.5")
    assert code == 2 and "'0.5' is ambiguous" in err and "type 50" in err and "'0.5%'" in err
    assert parse_values("100,65%,0.5%", "--shares", percent=True) == (100.0, 65.0, 0.5)


def test_a_sweep_whose_points_are_all_infeasible_is_written(tmp_path: Path, run_cli):
    """Every point infeasible (hard floors far beyond capacity, no shortfall): the table has
    its usual columns, each row says why, no chart is drawn, and the command exits 0."""
    rows = toy(
        {"P1": 90, "P2": 90},
        {("Auto", "M"): [100, 100]},
        [{"Supplier": "S", "Capacity (t per period)": 150, "Price (per kg)": 10}],
        materials=[{"Material": "M"}],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    book = write(tmp_path / "b.xlsx", rows)
    out = tmp_path / "f.xlsx"
    code, text, err = run_cli(
        "frontier", book, "--cover", "M", "--days", "200,300", "-o", out, "--json"
    )
    assert code == 0, err
    table = json.loads(text)["frontier"]
    assert [r["Status"][:10] for r in table] == ["Infeasible"] * 2
    assert {"Total cost", "Shortfall (t)", "M largest country share (%)"} <= set(table[0])
    ws = openpyxl.load_workbook(out)["Overview"]
    assert any("No point of the sweep" in str(c.value) for row in ws.iter_rows() for c in row)


def test_dask_cluster_gives_the_serial_table(tmp_path: Path):
    pytest.importorskip("dask.distributed")
    from model.studies.frontier import dask_client

    data = load(write(tmp_path / "b.xlsx", three_countries()))
    sweep = Sweep(CAP, "Country cap", (100, 65, 40))
    serial = frontier_data(data, sweep)
    client, cluster = dask_client(2, None)
    try:
        parallel = frontier_data(data, sweep, client)
    finally:
        client.close()
        cluster.close()
    cols = [c for c in serial.columns if not c.startswith("_")]
    assert parallel[cols]["Point"].tolist() == serial[cols]["Point"].tolist()
    for c in cols:
        if serial[c].dtype.kind == "f":
            assert parallel[c].to_numpy() == pytest.approx(serial[c].to_numpy())
        else:
            assert parallel[c].tolist() == serial[c].tolist()


def test_the_overview_sentence_prices_the_cheapest_point_without_shortfall(tmp_path: Path):
    """Points: A short 10 t under the shock; B (dearer by 730,000) and C (dearer still) meet
    it. Horizon 2 x 365 days = 2 years: moving from A to B costs 365,000 a year."""
    import pandas as pd

    from model.studies.frontier import summary_sentence

    rows = toy({"Y1": 365, "Y2": 365}, {("Auto", "M"): [1, 1]}, [{"Supplier": "S"}])
    rows["Suppliers"][0].update({"Capacity (t per period)": 10, "Price (per kg)": 1})
    data = load(write(tmp_path / "b.xlsx", rows))
    df = pd.DataFrame(
        {
            "Point": ["A", "B", "C"],
            "Total cost": [1_000_000.0, 1_730_000.0, 2_000_000.0],
            "Shortfall (t)": [0.0, 0.0, 0.0],
            "Shock extra shortfall (t)": [10.0, 0.0, 0.0],
            "Status": ["Optimal"] * 3,
        }
    )
    text = summary_sentence(df, data, "USD")
    assert text.startswith("Moving from A to B,") and "365,000 USD a year" in text
    df.loc[1, "Shock extra shortfall (t)"] = 5.0
    assert summary_sentence(df, data, "USD").startswith("Moving from A to C,")
    df["Shock extra shortfall (t)"] = 5.0
    assert summary_sentence(df, data, "USD").startswith("No point of the sweep meets")


def test_workers_without_dask_say_how_to_install(run_cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if missing
    code, _, err = run_cli(
        "frontier",
        EXAMPLES / "small-example.xlsx",
        "--cover",
        "ALL",
        "--days",
        "0",
        "--workers",
        "2",
    )
    assert code == 1
    assert 'pip install "ree-plan[cluster]"' in err and "Traceback" not in err
