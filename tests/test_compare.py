"""``ree-plan compare`` (DESIGN §6): two plans lined up, every figure recomputed from the plans'
own sheets."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import EXAMPLES, toy, write


def _two_suppliers(share: float) -> dict:
    # 100 t a period over two periods; China 10/kg, Japan 20/kg, both 100 t a period; a cap on
    # China's share. By hand: at 100 % all from China (2 x 100 t x 10,000 = 2,000,000); at
    # 60 %, 60 t China + 40 t Japan a period (2 x (600,000 + 800,000) = 2,800,000).
    return toy(
        {"P1": 90, "P2": 90},
        {("S", "M"): [100, 100]},
        [
            {
                "Supplier": "ChinaCo",
                "Refine country": "China",
                "Capacity (t per period)": 100,
                "Price (per kg)": 10,
            },
            {
                "Supplier": "JapanCo",
                "Refine country": "Japan",
                "Capacity (t per period)": 100,
                "Price (per kg)": 20,
            },
        ],
        Caps=[
            {
                "Rule": "China cap",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": share,
            }
        ],
    )


@pytest.fixture
def plans(tmp_path: Path, run_cli) -> tuple[Path, Path]:
    out = []
    for share in (100, 60):
        book = write(tmp_path / f"in{share}.xlsx", _two_suppliers(share))
        plan = tmp_path / f"plan{share}.xlsx"
        code, _, err = run_cli("solve", book, "-o", plan)
        assert code == 0, err
        out.append(plan)
    return out[0], out[1]


def test_compare_by_hand(plans, tmp_path: Path, run_cli):
    a, b = plans
    out = tmp_path / "c.xlsx"
    code, text, err = run_cli("compare", a, b, "-o", out, "--json")
    assert code == 0, err
    answer = json.loads(text)
    assert set(answer) == {"summary", "purchases", "written", "warnings"}
    assert answer["written"] == str(out) and answer["warnings"] == []
    cost = answer["summary"]["Total cost"]
    assert cost == {
        "A": pytest.approx(2_000_000),
        "B": pytest.approx(2_800_000),
        "Change": pytest.approx(800_000),
    }
    rows = {(r["Supplier"], r["Period"]): r for r in answer["purchases"]}
    # JapanCo is bought only in B: its A is 0 (a row in one plan only counts as 0).
    assert rows[("ChinaCo", "P1")]["A (t)"] == pytest.approx(100)
    assert rows[("ChinaCo", "P1")]["B (t)"] == pytest.approx(60)
    assert rows[("ChinaCo", "P1")]["Change (t)"] == pytest.approx(-40)
    assert rows[("JapanCo", "P2")]["A (t)"] == 0
    assert rows[("JapanCo", "P2")]["B (t)"] == pytest.approx(40)
    assert rows[("JapanCo", "P2")]["B cost"] == pytest.approx(800_000)

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [
        "Overview",
        "Summary",
        "Purchases",
        "Stock",
        "Shortfall",
        "Concentration",
    ]
    header = lambda ws: [c.value for c in ws[1]]  # noqa: E731
    assert header(wb["Summary"]) == ["Item", "A", "B", "Change"]
    assert header(wb["Purchases"]) == [
        "Supplier",
        "Material",
        "Period",
        "A (t)",
        "B (t)",
        "Change (t)",
        "A cost",
        "B cost",
    ]
    assert header(wb["Stock"]) == [
        "Material",
        "Period",
        "A closing (t)",
        "B closing (t)",
        "Change (t)",
    ]
    assert header(wb["Shortfall"]) == ["Material", "Sector", "Period", "A (t)", "B (t)"]
    conc = pd.read_excel(out, sheet_name="Concentration")
    refine = conc[(conc["Basis"] == "Refine country") & (conc["Period"] == "P1")].iloc[0]
    # Real percentages in the workbook: China's share 100 % in A, 60 % in B, cap 60 % (B's).
    assert refine["A largest"] == "China" and refine["A (%)"] == pytest.approx(1.0)
    assert refine["B (%)"] == pytest.approx(0.6) and refine["Cap (%)"] == pytest.approx(0.6)
    overview = [c.value for row in wb["Overview"].iter_rows(max_col=1) for c in row if c.value]
    assert any("the total cost rises by 800,000 USD" in str(v) for v in overview)


def test_compare_works_on_stress_and_hedge_plans(tmp_path: Path, run_cli):
    book = EXAMPLES / "small-example.xlsx"
    paths = {}
    for command in ("solve", "stress", "hedge"):
        paths[command] = tmp_path / f"{command}.xlsx"
        code, _, err = run_cli(command, book, "-o", paths[command])
        assert code == 0, err
    code, text, err = run_cli(
        "compare", paths["solve"], paths["hedge"], "-o", tmp_path / "c.xlsx", "--json"
    )
    assert code == 0, err
    answer = json.loads(text)
    hedge = pd.read_excel(paths["hedge"], sheet_name="Summary").set_index("Item")["Value"]
    # The hedge's baseline copy costs the price of hedging more than the quiet-world plan.
    assert answer["summary"]["Total cost"]["Change"] == pytest.approx(
        float(hedge["Price of hedging"]), abs=1e-6
    )
    code, _, err = run_cli("compare", paths["solve"], paths["stress"], "-o", tmp_path / "d.xlsx")
    assert code == 0, err  # stress writes the same baseline plan: nothing moved
    assert "No purchase changed." in _overview_lines(tmp_path / "d.xlsx")


def _overview_lines(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path)["Overview"]
    return [str(c.value) for row in ws.iter_rows(max_col=1) for c in row if c.value]


def test_a_file_that_is_not_a_plan_is_exit_2_naming_it(plans, tmp_path: Path, run_cli):
    a, _ = plans
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    for other, words in (
        (EXAMPLES / "small-example.xlsx", "an input workbook"),
        (text, "is not an .xlsx workbook"),
        (tmp_path / "missing.xlsx", "file not found"),
    ):
        code, out, err = run_cli("compare", a, other, "-o", tmp_path / "c.xlsx", "--json")
        assert code == 2, err
        assert other.name in err and words in err
        assert json.loads(out)["errors"][0]["sheet"] == other.name
        assert not (tmp_path / "c.xlsx").exists()


def test_plans_over_different_periods_compare_what_they_share(plans, tmp_path: Path, run_cli):
    a, _ = plans
    rows = _two_suppliers(100)
    rows["Periods"].append({"Period": "P3", "Days": 90})
    rows["Demand"][0]["P3"] = 100
    book = write(tmp_path / "three.xlsx", rows)
    b = tmp_path / "three-plan.xlsx"
    assert run_cli("solve", book, "-o", b)[0] == 0
    code, text, err = run_cli("compare", a, b, "-o", tmp_path / "c.xlsx", "--json")
    assert code == 0, err
    warnings = json.loads(text)["warnings"]
    assert any("periods only in three-plan.xlsx" in w and "P3" in w for w in warnings)
    assert "P3" in err  # said on stderr too
    assert {r["Period"] for r in json.loads(text)["purchases"]} == {"P1", "P2"}


def test_refuses_to_write_over_a_plan(plans, run_cli):
    a, b = plans
    before = b.read_bytes()
    code, _, err = run_cli("compare", a, b, "-o", b)
    assert code == 1 and "refusing to write over" in err
    assert b.read_bytes() == before


def test_a_plan_edited_by_hand_names_the_cell(plans, tmp_path: Path, run_cli):
    a, b = plans
    wb = openpyxl.load_workbook(b)
    ws = wb["Purchases"]
    col = [c.value for c in ws[1]].index("Total (t)") + 1
    ws.cell(2, col).value = "lots"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    code, _, err = run_cli("compare", a, edited, "-o", tmp_path / "c.xlsx")
    assert code == 2
    assert f"edited.xlsx Purchases!{openpyxl.utils.get_column_letter(col)}2" in err
    assert "'lots' in Total (t) is not a number" in err
