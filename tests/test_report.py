"""The plan workbook as a planner opens it: sheets, charts pointing at the right data,
number formats, frozen headers, highlighting."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLES


@pytest.fixture(scope="module")
def stress_book(tmp_path_factory) -> openpyxl.Workbook:
    from model.cli.main import main

    out = tmp_path_factory.mktemp("report") / "stress.xlsx"
    assert main(["stress", str(EXAMPLES / "national-plan.xlsx"), "-o", str(out)]) == 0
    return openpyxl.load_workbook(out)


def _ref(series) -> str:
    return series.val.numRef.f


def test_sheet_order_and_frozen_headers(stress_book):
    wb = stress_book
    assert wb.sheetnames[:2] == ["Overview", "Summary"]
    for name in (
        "Summary",
        "Purchases",
        "Recycling",
        "Allocation",
        "Stock",
        "Concentration",
        "Shortfall",
        "Marginal values",
        "Stress",
        "Stress shortfall",
        "Stress stock",
    ):
        assert name in wb.sheetnames, name
        assert wb[name].freeze_panes == "A2", name
    assert wb["Purchases"].auto_filter.ref.startswith("A1:")


def test_number_formats(stress_book):
    pur = stress_book["Purchases"]
    header = [c.value for c in pur[1]]
    assert pur.cell(2, header.index("Cost") + 1).number_format == '#,##0 "USD"'
    assert pur.cell(2, header.index("Total (t)") + 1).number_format == "#,##0.0"
    conc = stress_book["Concentration"]
    header = [c.value for c in conc[1]]
    share = conc.cell(2, header.index("Share (%)") + 1)
    # A real percentage: =B2*D2 in Excel works, and Excel's % button shows 35.0 %, not 3500 %.
    assert share.number_format == "0.0%"
    assert 0 <= share.value <= 1
    summary = {r[0].value: r[1] for r in stress_book["Summary"].iter_rows(min_row=2)}
    assert summary["Total cost"].number_format == '#,##0 "USD"'


def test_highlighting(stress_book):
    rules = {
        name: [r.formula[0] for rng in stress_book[name].conditional_formatting for r in rng.rules]
        for name in ("Concentration", "Stock", "Stress")
    }
    assert rules["Concentration"] == ['$J2="Yes"']
    assert rules["Stock"] == ["$H2>0.0001"]
    assert rules["Stress"] == ["$E2>0.0001"]


def test_charts_point_at_their_data(stress_book):
    ws = stress_book["Charts"]
    charts = ws._charts
    assert len(charts) == 6  # per material (NdPr, Dy, Tb): sourcing mix + stock vs floor
    titles = [c.title.tx.rich.p[0].r[0].t for c in charts]
    assert titles[0] == "NdPr oxide: tonnes bought by refining country"
    assert titles[1] == "NdPr oxide: closing stock against its floor"
    mix = charts[0]
    assert mix.grouping == "stacked"
    # The mix series are the country columns of the NdPr table, periods 2027-Q1..2028-Q4.
    first = _ref(mix.series[0])
    col = first.split("!$")[1].split("$")[0]
    rows = first.split("$")[-3:]
    top, bottom = int(rows[0].rstrip(":")), int(rows[-1])
    assert bottom - top == 7  # eight periods
    assert ws.cell(top - 1, 1).value == "Period"
    assert ws.cell(top, 1).value == "2027-Q1"
    country = ws[f"{col}{top - 1}"].value
    total = sum(ws[f"{col}{r}"].value for r in range(top, bottom + 1))
    pur = stress_book["Purchases"]
    h = [c.value for c in pur[1]]
    expect = sum(
        r[h.index("Total (t)")]
        for r in pur.iter_rows(min_row=2, values_only=True)
        if r[h.index("Material")] == "NdPr oxide" and r[h.index("Refine country")] == country
    )
    rec = stress_book["Recycling"]
    hr = [c.value for c in rec[1]]
    expect += sum(
        r[hr.index("Tonnes")]
        for r in rec.iter_rows(min_row=2, values_only=True)
        if r[hr.index("Material")] == "NdPr oxide" and r[hr.index("Country")] == country
    )
    assert total == pytest.approx(expect)
    stock = charts[1]
    names = [ws[s.tx.strRef.f.split("!")[1].replace("$", "")].value for s in stock.series]
    assert names == ["Closing (t)", "Floor (t)"]


def test_overview_and_stress_charts(stress_book):
    ov = stress_book["Overview"]
    assert ov["A1"].value == "Stress test: what each shock costs, and what to do"
    assert len(ov._charts) == 1
    cost_ref = _ref(ov._charts[0].series[0])
    first_row = int(cost_ref.split("$")[-3].rstrip(":"))
    assert ov.cell(first_row, 1).value == "Purchase cost"
    stress = stress_book["Stress"]
    refs = [_ref(c.series[0]).replace("'", "") for c in stress._charts]
    header = [c.value for c in stress[1]]
    cols = {header[i]: openpyxl.utils.get_column_letter(i + 1) for i in range(len(header))}
    assert refs == [
        f"Stress!${cols['Extra cost']}$2:${cols['Extra cost']}$6",  # baseline + 4 shocks
        f"Stress!${cols['Shortfall (t)']}$2:${cols['Shortfall (t)']}$6",
    ]


def test_plan_is_written_whole(tmp_path: Path, run_cli):
    """A failure while writing leaves neither a plan nor a temporary file."""
    out = tmp_path / "plan.xlsx"
    import xlsxwriter

    original = xlsxwriter.Workbook.close

    def broken(self):
        original(self)
        raise OSError("disk full")

    xlsxwriter.Workbook.close = broken
    try:
        code, _, err = run_cli("solve", EXAMPLES / "small-example.xlsx", "-o", out)
    finally:
        xlsxwriter.Workbook.close = original
    assert code == 1 and "disk full" in err
    assert list(tmp_path.iterdir()) == []


def _sheet_xml(path: Path, fill) -> bytes:
    """The first worksheet's XML of a constant-memory workbook that ``fill(wb, ws)`` wrote."""
    import zipfile

    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("T")
    fill(wb, ws)
    wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_streamed_rows_are_what_xlsxwriter_writes(tmp_path: Path):
    """The fast row writer gives the same sheet XML, byte for byte, as XlsxWriter's typed
    writers: escaping, control characters, whitespace, blanks, infinities, styles, flags."""
    import numpy as np
    import pandas as pd

    from model.excel.sheetrows import typed_rows, write_rows

    df = pd.DataFrame(
        {
            "Name": ["A & B <ltd>", " lead", "trail ", "ctl\x01x", "_x0041_", None, "=1+1", "ü"],
            "Tonnes": [1.5, np.nan, np.inf, -2.0, 0.1 + 0.2, 1e-17, 1234567.890123456, 7],
            "Count": np.arange(8),
            "Binding": [True, False] * 4,
        }
    )

    def fill(fast: bool):
        def go(wb, ws):
            fmt = wb.add_format({"num_format": "#,##0.0"})
            formats = [None, fmt, None, None]
            for j, f in enumerate(formats):
                ws.set_column(j, j, 12, f)
            ws.set_row(0, 30)
            ws.write_row(0, 0, list(df.columns))
            if fast:
                write_rows(ws, df, 1, formats)
            else:
                typed_rows(ws, df, 1)
            ws.autofilter(0, 0, len(df), 3)

        return go

    fast = _sheet_xml(tmp_path / "fast.xlsx", fill(True))
    typed = _sheet_xml(tmp_path / "typed.xlsx", fill(False))
    assert b"A &amp; B &lt;ltd&gt;" in fast and b'xml:space="preserve"> lead' in fast
    assert fast == typed
    back = pd.read_excel(tmp_path / "fast.xlsx")
    assert back["Name"].tolist()[:3] == ["A & B <ltd>", " lead", "trail "]
    assert back["Tonnes"].isna().tolist()[1:3] == [True, True]  # NaN and infinity left blank
    assert back["Count"].tolist() == list(range(8))


def test_overview_says_which_caps_cause_shortfall(tmp_path: Path):
    """Each refine country may give at most 40 % of M, and only two offer it (A, China, 10/kg;
    B, Japan, 20/kg). a <= 0.4 (a + b) and b <= 0.4 (a + b) leave a + b = 0: the plan buys
    nothing and all 100 t go short at 100/kg, 10,000,000 by hand. The Overview names the cap
    and its Caps row as the cause, with a positive saving per point, and 'Caps that bind' lists
    both instances although neither country received anything (0 of 0 t)."""
    from conftest import toy, write

    from model.plan.overview import build_overview
    from model.studies.baseline import solve_workbook

    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [
            {
                "Supplier": "A",
                "Capacity (t per period)": 500,
                "Price (per kg)": 10,
                "Refine country": "China",
            },
            {
                "Supplier": "B",
                "Capacity (t per period)": 500,
                "Price (per kg)": 20,
                "Refine country": "Japan",
            },
        ],
        sectors={"A": 100},
        Caps=[
            {
                "Rule": "each 40",
                "Basis": "Refine country",
                "Group": "EACH",
                "Material": "M",
                "Sector": "ALL",
                "Max share (%)": 40,
            }
        ],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.solution.objective == pytest.approx(10_000_000)
    ov = build_overview(out.built.data, out.plan)
    why = ov.why_short
    assert why[["Material", "Period"]].drop_duplicates().values.tolist() == [["M", "P1"]]
    assert why["Tonnes"].tolist()[0] == pytest.approx(100)
    assert set(why["Unmet"]) == {"short"}
    assert all("cap 'each 40'" in c for c in why["Cause"]), why
    assert set(why["What to change"]) == {"Caps row 2: Max share (%)"}
    assert (why["Saving per unit"] > 0).all()
    assert sorted(ov.binding_caps["Group"]) == ["China", "Japan"]


def _table(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def _find(ws, text: str) -> int:
    """The row number of the first cell in column A holding ``text``."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == text:
            return row[0].row
    raise AssertionError(f"{text!r} not on {ws.title}")


def test_stress_workbook_says_what_to_do(stress_book):
    """The stress workbook opens with what each shock costs and what to buy instead; Stress
    starts with the baseline and splits penalties out of the extra cost; Stress purchases
    lists what to buy from each shock on; Stress stock rows add up."""
    ov = stress_book["Overview"]
    assert ov["A1"].value.startswith("Stress test")
    assert _find(ov, "Per scenario") < _find(ov, "What to buy differently when the shock comes")
    stress = _table(stress_book["Stress"])
    assert stress[0]["Scenario"] == "Baseline (no shock)" and stress[0]["Extra cost"] == 0
    assert len(stress) == 5
    header = [c.value for c in stress_book["Stress"][1]]
    assert header[:6] == [
        "Scenario",
        "From period",
        "Total cost",
        "Extra cost",
        "Shortfall (t)",
        "Extra shortfall (t)",
    ]  # DESIGN §4's order; the penalties' share comes after the sectors
    assert header[-2:] == ["Of which penalties", "Status"]
    heavy = next(r for r in stress if r["Scenario"] == "Heavy RE licence shock")
    assert heavy["Of which penalties"] is not None
    pur = _table(stress_book["Stress purchases"])
    assert pur and set(pur[0]) >= {"Scenario", "Supplier", "Material", "Period", "Tonnes", "Cost"}
    assert {r["Changed"] for r in pur} <= {"Yes", None}
    assert any(r["Changed"] == "Yes" for r in pur)
    for r in _table(stress_book["Stress stock"]):
        assert r["Opening (t)"] + r["Bought (t)"] - r["Drawn (t)"] == pytest.approx(
            r["Closing (t)"], abs=1e-6
        ), r


def test_overview_costs_cover_and_layout(tmp_path: Path):
    """Money spent and penalties apart; cover against its target, highlighted below it;
    headers right-aligned over numbers; blanks, not empty strings; marginal values without
    the tie-breaker's noise; bar charts from 0 in the table's order; a what-if says so."""
    from model.cli.main import main

    out = tmp_path / "whatif.xlsx"
    book = EXAMPLES / "national-plan.xlsx"
    assert main(["solve", str(book), "-o", str(out), "--scenario", "EV demand surge"]) == 0
    wb = openpyxl.load_workbook(out)
    ov = wb["Overview"]
    texts = [c.value for c in ov["A"] if isinstance(c.value, str)]
    assert any(t.startswith("What-if: 'EV demand surge' is assumed known") for t in texts)
    assert any(t.startswith("Money spent: ") for t in texts)
    row = _find(ov, "Days of cover at the end of each period") + 2  # its note, then header
    headers = [c.value for c in ov[row]]
    assert headers[:2] == ["Material", "Target (days)"]
    assert ov.cell(row, 2).alignment.horizontal == "right"
    assert ov.cell(row, 1).alignment.horizontal in (None, "general", "left")
    assert ov.cell(row + 1, 1).alignment.indent == 1  # text one space in from the edge
    rules = [r for rng in ov.conditional_formatting for r in rng.rules]
    assert any("$B" in (r.formula[0] if r.formula else "") for r in rules)
    mv = wb["Marginal values"]
    header = [c.value for c in mv[1]]
    for r in mv.iter_rows(min_row=2, values_only=True):
        rec = dict(zip(header, r, strict=True))
        assert rec["Sector"] != ""  # a blank is None, never an empty text
        if rec["Kind"] in ("Capacity", "Demand"):
            assert rec["Value"] == round(rec["Value"])  # 989,999.98 reads 990,000
    chart = next(c for c in ov._charts if c.tagname == "barChart")
    assert chart.x_axis.scaling.min == 0 or chart.y_axis.scaling.min == 0
    # horizontal bars in the table's order: the category axis runs top to bottom
    assert "maxMin" in (chart.x_axis.scaling.orientation, chart.y_axis.scaling.orientation)


def test_one_colour_per_country_across_charts(stress_book):
    ws = stress_book["Charts"]
    seen: dict[str, set] = {}
    for chart in ws._charts:
        if chart.tagname != "barChart":
            continue
        for s in chart.series:
            ref = s.tx.strRef.f  # the country's header cell
            sheet, cell = ref.split("!")
            name = ws[cell.replace("$", "")].value
            fill = s.spPr.solidFill
            seen.setdefault(name, set()).add(getattr(fill, "srgbClr", None) or fill)
    assert len(seen) >= 3
    assert all(len(c) == 1 for c in seen.values()), seen
    assert len({next(iter(c)) for c in seen.values()}) == len(seen)  # and countries differ


def test_overview_says_why_stock_is_below_its_floor(tmp_path: Path):
    """S sells at most 12 t a period; A needs 10 t in each of two 10-day periods and M's floor
    is 5 days of cover (5 t), soft at 5/kg (shortfall costs 1000/kg). By hand: P1 buys all
    12 t, 2 t go to stock, 3 t below the floor: S's capacity is the cause. P2 buys 8 t and
    draws the 2 t: stock 0, 5 t below, because each kg of floor would cost 10/kg to buy and
    5/kg to leave unmet: the penalty is the cause."""
    from conftest import toy, write

    from model.plan.overview import build_overview
    from model.studies.baseline import solve_workbook

    mat = {
        "Material": "M",
        "Min cover (days)": 5,
        "Below-floor penalty (per kg per period)": 5,
    }
    rows = toy(
        {"P1": 10, "P2": 10},
        {("A", "M"): [10, 10]},
        [{"Supplier": "S", "Capacity (t per period)": 12, "Price (per kg)": 10}],
        materials=[mat],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    why = build_overview(out.built.data, out.plan).why_short
    below = why[why["Unmet"] == "below its floor"]
    p1, p2 = below[below["Period"] == "P1"], below[below["Period"] == "P2"]
    assert p1["Tonnes"].tolist()[0] == pytest.approx(3)
    assert p2["Tonnes"].tolist()[0] == pytest.approx(5)
    assert p1["Cause"].tolist()[0] == "S sells all it can in P1"
    assert p1["What to change"].tolist()[0] == (
        "Suppliers row 2: Capacity (t per period), or add an offer"
    )
    assert any(c.startswith("the below-floor penalty (5/kg) is under") for c in p2["Cause"])


def test_why_gives_the_tonnes_once_and_a_floor_per_day(tmp_path: Path):
    """Shortfall held back by two causes at once: S at capacity (12 t of 20 t demanded) and a
    hard floor of 2 days of cover (20 t / 10 days x 2 = 4 t) that keeps 4 t of the opening 10 t
    in stock. By hand: 12 t bought, 6 t drawn, 2 t short. The tonnes stand on the first cause
    row only, so the column adds up to the 2 t short; the floor's saving is per day of cover
    (its per-tonne marginal value x 2 t a day), the unit its row is in."""
    from conftest import toy, write

    from model.plan.overview import build_overview
    from model.studies.baseline import solve_workbook

    mat = {"Material": "M", "Min cover (days)": 2, "Initial stock (t)": 10}
    rows = toy(
        {"P1": 10},
        {("A", "M"): [20]},
        [{"Supplier": "S", "Capacity (t per period)": 12, "Price (per kg)": 10}],
        sectors={"A": 100},
        materials=[mat],
    )
    out = solve_workbook(write(tmp_path / "toy.xlsx", rows))
    assert out.plan.summary["Shortfall (t)"] == pytest.approx(2)
    why = build_overview(out.built.data, out.plan).why_short
    assert len(why) >= 2
    assert why["Tonnes"].sum() == pytest.approx(2)
    assert why["Tonnes"].notna().sum() == 1
    floor = why[why["What to change"].str.contains("Min cover")]
    assert floor["Unit"].tolist() == ["USD per day of cover"]
    # One more tonne of floor costs 100/kg of shortfall less nothing: 100,000 per t; a day of
    # cover is 2 t.
    assert floor["Saving per unit"].tolist()[0] == pytest.approx(200_000)


def test_hedge_overview_lists_offers_at_capacity_without_savings(tmp_path: Path, run_cli):
    """A hedge has no marginal values. Its Overview still lists the offers bought at capacity
    (the national hedge buys Lynas NdPr at 600/600 t) and says no savings are given, instead
    of 'none'."""
    out = tmp_path / "h.xlsx"
    code, _, err = run_cli("hedge", EXAMPLES / "national-plan.xlsx", "-o", out)
    assert code == 0, err
    ws = openpyxl.load_workbook(out)["Overview"]
    top = _find(ws, "Offers bought at capacity")
    note = ws.cell(top, 2).value or ws.cell(top + 1, 1).value
    assert "no marginal values" in note
    header_row = top + 1 if ws.cell(top, 2).value else top + 2
    header = [c.value for c in ws[header_row] if c.value]
    assert header == ["Supplier", "Material", "Periods at capacity"]
    first = [c.value for c in ws[header_row + 1]][:3]
    assert first[0] != "none"
    suppliers = {ws.cell(r, 1).value for r in range(header_row + 1, header_row + 13)}
    assert "Lynas" in suppliers


def test_overview_prints_legibly_one_page_wide(tmp_path: Path, run_cli):
    """The national Overview printed at about 4 pt: 99 rows on one landscape page, its columns
    18-30 wide and a sentence running across them. Now: one page wide, as many pages tall as
    needed, the columns narrower (288 characters in all before, 219 now for the national plan:
    printed about 63 % of full size instead of 47 %), and every sentence longer than the sheet
    is wrapped in a merged row."""
    out = tmp_path / "p.xlsx"
    code, _, err = run_cli("solve", EXAMPLES / "national-plan.xlsx", "-o", out)
    assert code == 0, err
    ws = openpyxl.load_workbook(out)["Overview"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # One page wide (1 is the file format's default, so XlsxWriter leaves it out), any tall.
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.page_setup.orientation == "landscape"
    used = ws.max_column
    letters = [openpyxl.utils.get_column_letter(j) for j in range(1, used + 1)]
    widths = [ws.column_dimensions[c].width or 8.43 for c in letters]
    assert sum(widths) < 230, widths
    merged = {r.min_row for r in ws.merged_cells.ranges}
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        if isinstance(cell.value, str) and len(cell.value) > sum(widths) * 1.1:
            assert cell.row in merged, cell.value[:60]
            assert cell.alignment.wrap_text
            assert ws.row_dimensions[cell.row].height >= 30
