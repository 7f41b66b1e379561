"""Reading rules of DESIGN §1 on workbooks written cell by cell, as Excel would store them."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import small_rows, write

from model.input.issues import InputError
from model.input.validate import load

JAN, FEB = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)


def raw_book(path: Path, capacity: object = 100) -> Path:
    """A minimal workbook with Excel's habits: dates for period labels, a percent-formatted
    share, headers in odd case, a blank row, an extra notes column, optional sheets absent."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "periods"
    ws.append([" PERIOD ", "days", "Notes"])
    ws.append([JAN, 31, "typed 2026-01, Excel made it a date"])
    ws.append([None, None, None])
    ws.append([FEB, 28, None])
    ws = wb.create_sheet("Materials")
    ws.append(["Material"])
    ws.append(["M"])
    ws = wb.create_sheet("Sectors")
    ws.append(["Sector", "Shortfall penalty (per kg)"])
    ws.append(["K", 1000])
    ws = wb.create_sheet("Demand")
    ws.append(["Sector", "Material", JAN, FEB, "Comment"])
    ws.append(["K", "M", 10, None, "Feb blank = 0"])
    ws = wb.create_sheet("Suppliers")
    ws.append(
        [
            "Supplier",
            "Material",
            "Mine country",
            "Refine country",
            "Capacity (t per period)",
            "Price (per kg)",
            "First period",
        ]
    )
    ws.append(["S1", "M", "A", "A", capacity, 10, FEB])
    ws.append(["S2", "M", "B", "B", 100, 20, None])
    ws = wb.create_sheet("Caps")
    ws.append(["Rule", "Basis", "Group", "Material", "Sector", "Max share (%)"])
    ws.append(["typed 60%", "Mine country", "A", "ALL", "ALL", 0.6])
    ws["F2"].number_format = "0%"
    ws.append(["typed 60", "mine country", "B", "all", "all", 60])
    ws.append(["typed text", "Mine country", "B", "M", "K", "60%"])
    wb.save(path)
    return path


def test_excel_habits_are_read(tmp_path: Path):
    data = load(raw_book(tmp_path / "b.xlsx"))
    assert data.periods == ["2026-01-01", "2026-02-01"]
    assert data.days == [31.0, 28.0]
    assert data.demand[["t", "tonnes"]].values.tolist() == [[0, 10.0]]  # blank Feb = 0
    assert data.offers.set_index("supplier")["first"].to_dict() == {"S1": 1, "S2": 0}
    assert data.caps["max_share"].tolist() == pytest.approx([0.6, 0.6, 0.6])
    assert data.caps["basis"].tolist() == ["Mine country"] * 3
    assert data.caps["material"].tolist() == ["ALL", "ALL", "M"]
    assert data.alternatives.empty and data.scenarios.empty  # optional sheets absent
    assert data.allow_shortfall is True and data.currency == "USD"  # Settings defaults


def test_formula_without_saved_value(tmp_path: Path):
    path = raw_book(tmp_path / "b.xlsx", capacity="=10*10")
    with pytest.raises(InputError) as exc:
        load(path)
    (err,) = exc.value.errors
    assert str(err).startswith("Suppliers!E2:")
    assert "formula" in err.message and "save" in err.message


def test_formula_read_by_saved_value(tmp_path: Path):
    path = raw_book(tmp_path / "b.xlsx", capacity="=10*10")
    # What Excel does on save: keep the formula, store its value beside it.
    patched = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename.endswith(".xml") and b"10*10" in body:
                body, n = re.subn(
                    rb"<f>10\*10</f>(<v\s*/>|<v></v>)?", b"<f>10*10</f><v>100</v>", body
                )
                assert n == 1
            zout.writestr(item, body)
    data = load(patched)
    assert data.offers.set_index("supplier").at["S1", "capacity_t"] == 100.0


def test_not_a_workbook(tmp_path: Path):
    path = tmp_path / "notes.xlsx"
    path.write_text("not a spreadsheet")
    with pytest.raises(InputError) as exc:
        load(path)
    assert "is not an .xlsx workbook; save it from Excel or LibreOffice as .xlsx" in str(
        exc.value.issues[0]
    )


def test_missing_file(tmp_path: Path):
    with pytest.raises(InputError) as exc:
        load(tmp_path / "nope.xlsx")
    assert "not found" in str(exc.value.issues[0])


def test_a_hidden_near_copy_of_a_sheet_is_an_error(tmp_path: Path):
    """A hidden 'Demand ' (trailing space, other numbers) beside the real Demand sheet used
    to replace it silently (the small example's cost went from 26,920,000 to 32,376,000)."""
    book = write(tmp_path / "b.xlsx", small_rows())
    wb = openpyxl.load_workbook(book)
    copy = wb.copy_worksheet(wb["Demand"])
    copy.title = "Demand\u00a0"  # a non-breaking space
    copy["C2"] = 999
    copy.sheet_state = "hidden"
    wb.save(book)
    with pytest.raises(InputError) as exc:
        load(book)
    text = "\\n".join(str(i) for i in exc.value.errors)
    assert "'Demand' and 'Demand\u00a0' all read as the Demand sheet" in text


def test_duplicate_and_misspelt_headers_are_errors(tmp_path: Path):
    book = write(tmp_path / "b.xlsx", small_rows())
    wb = openpyxl.load_workbook(book)
    ws = wb["Suppliers"]
    headers = {c.value: c.column_letter for c in ws[1] if c.value}
    ws[f"{headers['Min purchase (t per period)']}1"] = "Min purchase (t/period)"
    extra = ws.max_column + 1
    ws.cell(1, extra, "Price (per kg)")
    ws.cell(1, extra + 1, "Buyer's notes")  # a planner's own column: allowed
    wb.save(book)
    with pytest.raises(InputError) as exc:
        load(book)
    errs = [str(i) for i in exc.value.errors]
    assert any("did you mean 'Min purchase (t per period)'" in e for e in errs), errs
    assert any("a second 'Price (per kg)' column" in e for e in errs), errs
    assert not any("Buyer's notes" in e for e in errs)


@pytest.mark.parametrize(
    ("typed", "expect"),
    [
        ("1,500", 1500.0),
        ("1,234.5", 1234.5),
        ("1500", 1500.0),
        ("1.500", "ambiguous (1.5 or 1500?)"),
        ("1,5", "is not a number; type it as a number"),
        ("1 500", "is not a number; type it as a number"),
        ("1.5 t", "is not a number; type it as a number"),
        ("€60", "is not a number; type it as a number"),
    ],
)
def test_numbers_typed_as_text_are_read_only_when_certain(tmp_path: Path, typed, expect):
    rows = small_rows()
    rows["Suppliers"][0]["Capacity (t per period)"] = typed  # written as a text cell
    book = write(tmp_path / "b.xlsx", rows)
    if isinstance(expect, float):
        data = load(book)
        assert data.offers.loc[0, "capacity_t"] == pytest.approx(expect)
        return
    with pytest.raises(InputError) as exc:
        load(book)
    errs = [str(i) for i in exc.value.errors]
    assert any(e.startswith("Suppliers!E2") and expect in e for e in errs), errs


def test_a_share_of_0_6_in_a_plain_cell_gets_a_warning(tmp_path: Path):
    rows = small_rows()
    rows["Caps"][0]["Max share (%)"] = 0.6
    data = load(write(tmp_path / "b.xlsx", rows))
    text = [str(w) for w in data.warnings]
    assert any(w.startswith("Caps!F2") and "if you meant 60 %" in w for w in text), text


def test_numbers_beyond_the_solver_are_errors_at_their_cell(tmp_path: Path):
    """A demand of 1e30 made HiGHS refuse the matrices (exit 1); now an input error."""
    rows = small_rows()
    rows["Demand"][0]["2027-Q1"] = 1e30
    rows["Materials"][0]["Min cover (days)"] = 1e300
    with pytest.raises(InputError) as exc:
        load(write(tmp_path / "b.xlsx", rows))
    errs = [str(i) for i in exc.value.errors]
    assert any(e.startswith("Demand!D2") and "largest accepted is 1e+12" in e for e in errs)
    assert any(e.startswith("Materials!C2") and "largest accepted" in e for e in errs), errs


def test_a_deleted_required_column_is_one_error(tmp_path: Path):
    rows = small_rows()
    for p in rows["Periods"]:
        p.pop("Days")
    book = write(tmp_path / "b.xlsx", rows)
    wb = openpyxl.load_workbook(book)
    wb["Periods"].delete_cols(2)  # the Days column itself
    wb.save(book)
    with pytest.raises(InputError) as exc:
        load(book)
    errs = [str(i) for i in exc.value.errors]
    assert [e for e in errs if e.startswith("Periods")] == [
        "Periods!1: no 'Days' column; add a column headed 'Days' in row 1"
    ], errs
    assert not any("?" in e.split(":")[0] for e in errs)
