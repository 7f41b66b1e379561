"""One test per validation rule: the message names the sheet and cell, and every problem of a
workbook is reported in one run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import small_rows, write

from model.input.issues import InputError
from model.input.validate import load

Rows = dict[str, list[dict[str, Any]]]


def errors_of(tmp_path: Path, rows: Rows) -> list[str]:
    with pytest.raises(InputError) as exc:
        load(write(tmp_path / "book.xlsx", rows))
    return [str(i) for i in exc.value.errors]


def warnings_of(tmp_path: Path, rows: Rows) -> list[str]:
    return [str(i) for i in load(write(tmp_path / "book.xlsx", rows)).warnings]


def _set(sheet: str, i: int, col: str, value: Any) -> Callable[[Rows], None]:
    def f(rows: Rows) -> None:
        rows[sheet][i][col] = value

    return f


def _dup(sheet: str, i: int) -> Callable[[Rows], None]:
    def f(rows: Rows) -> None:
        rows[sheet].append(dict(rows[sheet][i]))

    return f


# Row i of a sheet's list is Excel row i + 2. Column letters follow model.input.workbook.SHEETS.
CASES = [
    (
        "text in a number",
        _set("Suppliers", 0, "Capacity (t per period)", "lots"),
        "Suppliers!E2",
        "not a number",
    ),
    ("negative price", _set("Suppliers", 1, "Price (per kg)", -5), "Suppliers!F3", "at least 0"),
    ("blank required cell", _set("Suppliers", 2, "Mine country", None), "Suppliers!C4", "blank"),
    (
        "unknown material",
        _set("Suppliers", 0, "Material", "NdPr oxyde"),
        "Suppliers!B2",
        "did you mean 'NdPr oxide'",
    ),
    ("duplicate supplier row", _dup("Suppliers", 1), "Suppliers!B5", "already given in row 3"),
    (
        "unknown period",
        _set("Suppliers", 0, "First period", "Next year"),
        "Suppliers!H2",
        "not a period",
    ),
    (
        "window ends before it starts",
        lambda r: r["Suppliers"][0].update({"First period": "2027-Q3", "Last period": "2027-Q1"}),
        "Suppliers!I2",
        "before",
    ),
    ("zero days", _set("Periods", 1, "Days", 0), "Periods!B3", "greater than 0"),
    ("duplicate period", _dup("Periods", 0), "Periods!A5", "already given"),
    (
        "zero penalty",
        _set("Sectors", 0, "Shortfall penalty (per kg)", 0),
        "Sectors!B2",
        "greater than 0",
    ),
    (
        "unknown sector in demand",
        _set("Demand", 0, "Sector", "Automotve"),
        "Demand!A2",
        "did you mean 'Automotive'",
    ),
    ("negative demand", _set("Demand", 0, "2027-Q2", -1), "Demand!E2", "at least 0"),
    ("negative stock", _set("Materials", 0, "Initial stock (t)", -3), "Materials!B2", "at least 0"),
    ("bad basis word", _set("Caps", 0, "Basis", "Country"), "Caps!B2", "not a basis"),
    ("cap group unknown", _set("Caps", 0, "Group", "Chna"), "Caps!C2", "did you mean 'China'"),
    ("cap material word", _set("Caps", 0, "Material", "SOME"), "Caps!D2", "EACH or ALL"),
    ("cap sector unknown", _set("Caps", 1, "Sector", "Navy"), "Caps!E3", "not a sector"),
    ("share over 100", _set("Caps", 0, "Max share (%)", 120), "Caps!F2", "at most 100"),
    ("bad effect", _set("Scenarios", 0, "Effect", "Embargo"), "Scenarios!B2", "not an effect"),
    (
        "basis not allowed for effect",
        _set("Scenarios", 0, "Basis", "Sector"),
        "Scenarios!C2",
        "not a basis for a Capacity change",
    ),
    (
        "unknown scenario target",
        _set("Scenarios", 0, "Target", "Chinaa"),
        "Scenarios!D2",
        "did you mean 'China'",
    ),
    (
        "change below -100",
        _set("Scenarios", 0, "Change (%)", -150),
        "Scenarios!E2",
        "at least -100",
    ),
    (
        "stream named like a supplier",
        _set("Recycling", 0, "Stream", "Lynas"),
        "Recycling!A2",
        "also a supplier",
    ),
    (
        "bad yes/no setting",
        lambda r: r["Settings"].append({"Setting": "Allow shortfall", "Value": "Maybe"}),
        "Settings!B3",
        "Yes or No",
    ),
    (
        "bad ranging setting",
        lambda r: r["Settings"].append({"Setting": "Sensitivity ranging", "Value": "Sometimes"}),
        "Settings!B3",
        "Auto, Yes or No",
    ),
    (
        "negative budget",
        lambda r: r["Settings"].append({"Setting": "Budget per period", "Value": -1}),
        "Settings!B3",
        "greater than 0",
    ),
    (
        "alternative share over 100",
        lambda r: r.update(
            {
                "Alternatives": [
                    {
                        "Sector": "Defense",
                        "Material": "NdPr oxide",
                        "Max share (%)": 101,
                        "Cost (per kg)": 5,
                    }
                ]
            }
        ),
        "Alternatives!C2",
        "at most 100",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "where", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_rule_names_sheet_and_cell(tmp_path: Path, mutate, where: str, fragment: str):
    rows = small_rows()
    mutate(rows)
    errors = errors_of(tmp_path, rows)
    hits = [e for e in errors if e.startswith(where + ":")]
    assert hits, f"no error at {where}; got {errors}"
    assert any(fragment in e for e in hits), hits


def test_missing_sheet_and_column(tmp_path: Path):
    rows = small_rows()
    del rows["Periods"]
    path = tmp_path / "book.xlsx"
    write(path, rows)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    del wb["Periods"]
    ws = wb["Suppliers"]
    ws.delete_cols(6)  # Price (per kg)
    wb.save(path)
    with pytest.raises(InputError) as exc:
        load(path)
    text = [str(i) for i in exc.value.errors]
    assert any(t.startswith("Periods:") and "no 'Periods' sheet" in t for t in text), text
    assert any(t.startswith("Suppliers!1:") and "Price (per kg)" in t for t in text), text


def test_unknown_demand_period_column(tmp_path: Path):
    rows = small_rows()
    path = write(tmp_path / "book.xlsx", rows)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["Demand"]["F1"] = "2027-Q9"  # a misspelt period column holding demand
    wb["Demand"]["F2"] = 5
    wb["Demand"]["G1"] = "Notes"  # a notes column of text is ignored
    wb["Demand"]["G2"] = "call Lynas in March"
    wb.save(path)
    with pytest.raises(InputError) as exc:
        load(path)
    errors = [str(i) for i in exc.value.errors]
    assert any(e.startswith("Demand!F1:") and "not a period" in e for e in errors), errors
    assert not any(e.startswith("Demand!G") for e in errors), errors


def test_every_problem_in_one_run(tmp_path: Path):
    rows = small_rows()
    rows["Suppliers"][0]["Price (per kg)"] = "cheap"
    rows["Caps"][0]["Max share (%)"] = 150
    rows["Demand"][1]["Material"] = "Unobtanium"
    errors = errors_of(tmp_path, rows)
    wheres = {e.split(":")[0] for e in errors}
    assert {"Suppliers!F2", "Caps!F2", "Demand!B3"} <= wheres


def test_warnings_do_not_stop(tmp_path: Path):
    rows = small_rows()
    rows["Sectors"][0]["Shortfall penalty (per kg)"] = 50  # below ChinaCo's 60/kg
    rows["Materials"][0].update({"Initial stock (t)": 500, "Max stock (t)": 100})
    rows["Suppliers"][2]["First period"] = "2029-Q1"  # after the horizon (labels sort)
    rows["Caps"][0]["Max share (%)"] = 100
    warnings = warnings_of(tmp_path, rows)
    text = "\n".join(warnings)
    assert "Sectors!B2" in text and "rather" in text
    assert "Materials!B2" in text and "above its max stock" in text
    assert "Suppliers!H4" in text and "outside the planning horizon" in text
    assert "Caps!F2" in text and "never bind" in text


def test_a_below_floor_penalty_above_a_shortfall_penalty_is_a_warning(tmp_path: Path):
    """At 3,000/kg both (the national example's Tb and Electronics, once), a tonne below the
    floor costs as much as a tonne short: more days of cover then mean more shortfall."""
    rows = small_rows()
    rows["Materials"][0]["Below-floor penalty (per kg per period)"] = 600  # Automotive: 500
    text = "\n".join(warnings_of(tmp_path, rows))
    assert "Materials!" in text and "at or above the shortfall penalty of Automotive" in text
    assert "Defense" not in text.split("shortfall penalty of")[-1].split(":")[0]


def test_a_period_without_a_demand_column_is_an_error(tmp_path: Path):
    """DESIGN §1: read as zero demand before, silently (only a warning)."""
    rows = small_rows()
    for d in rows["Demand"]:
        d.pop("2027-Q2")
    errs = errors_of(tmp_path, rows)
    assert any("Demand!1" in e and "no column for period '2027-Q2'" in e for e in errs), errs


def test_blank_names_do_not_break_the_did_you_mean_hint(tmp_path: Path):
    """Suppliers with blank mine countries while Caps and Scenarios name one: a list of every
    problem (exit 2), not a TypeError from the 'did you mean' hint."""
    rows = small_rows()
    for s in rows["Suppliers"]:
        s.pop("Mine country")
    errs = errors_of(tmp_path, rows)
    assert any(e.startswith("Suppliers!C2") and "blank" in e for e in errs), errs
    assert any(e.startswith("Caps!C2") and "'China' is not a mine country" in e for e in errs)


def test_a_demand_rows_penalty_must_be_above_zero(tmp_path: Path):
    rows = small_rows()
    rows["Demand"][0]["Shortfall penalty (per kg)"] = 0
    errs = errors_of(tmp_path, rows)
    assert any(
        e.startswith("Demand!C2") and "'Shortfall penalty (per kg)' must be greater than 0" in e
        for e in errs
    ), errs


def test_caps_that_leave_demand_unbuyable_get_a_warning(tmp_path: Path):
    """Three mine countries offer NdPr (China, Australia, USA): at 30 % each, 90 % at most."""
    rows = small_rows()
    rows["Caps"][0].update({"Group": "EACH", "Max share (%)": 30})
    text = warnings_of(tmp_path, rows)
    assert any(
        w.startswith("Caps!F2") and "only 3 offer NdPr oxide: at most 90 %" in w for w in text
    ), text
    rows["Caps"][0]["Max share (%)"] = 34  # 3 x 34 = 102 %: buyable
    assert not any("can be bought" in w for w in warnings_of(tmp_path, rows))
