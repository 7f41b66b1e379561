"""Plan tables -> the plan workbook (DESIGN §4). The only module that writes a plan.

Sheets: ``Overview`` (the one-minute view, with charts), ``Summary`` and the contract's tables,
``Marginal values``, ``Charts`` (sourcing mix and stock per material, with the data they
draw), and for a stress test ``Stress`` (with its chart) and its detail sheets. Every table has
frozen headers, an autofilter, number formats in the workbook's currency, fitted widths, and
highlighting of what a planner must see: binding caps, shortfalls, stock below its floor.

Written atomically: to a temporary file in the target folder, then renamed into place, so a
plan is there whole or not at all; never over the input workbook.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from model.data import PlanData
from model.overview import Overview, build_overview
from model.results import Plan

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="1F4E78")
SECTION_FONT = Font(bold=True, size=11, color="1F4E78")
ALERT_FILL = PatternFill("solid", fgColor="F8CBAD")  # shortfall, below floor
BINDING_FILL = PatternFill("solid", fgColor="FFE699")  # binding cap
TONNES = "#,##0.0"
PERCENT = '0.0"%"'
DAYS = "#,##0"
PLAIN = "#,##0.00"
RANGE = "#,##0.0"

SUMMARY_MONEY = (
    "Total cost",
    "Purchase cost",
    "Recycling cost",
    "Holding cost",
    "Alternatives cost",
    "Shortfall penalty",
    "Below-floor penalty",
)
# sheet -> (column whose value flags the row, Excel condition on that cell, fill)
HIGHLIGHT = {
    "Concentration": ("Binding", '="Yes"', BINDING_FILL),
    "Stock": ("Below floor (t)", ">0.0001", ALERT_FILL),
    "Shortfall": ("Tonnes", ">0", ALERT_FILL),
    "Allocation": ("Source", '="Shortfall"', ALERT_FILL),
    "Stress": ("Shortfall (t)", ">0.0001", ALERT_FILL),
    "Stress shortfall": ("Tonnes", ">0", ALERT_FILL),
    "Stress stock": ("Below floor (t)", ">0.0001", ALERT_FILL),
}
CHART_W, CHART_H = 16.0, 7.5  # cm
CHART_ROWS = 16  # rows a chart occupies at the default row height


class OutputError(Exception):
    pass


def _money(currency: str) -> str:
    safe = currency.replace('"', "")
    return f'#,##0 "{safe}"'


def _format_for(column: str, currency: str) -> str | None:
    if column.endswith("(t)") or column == "Tonnes":
        return TONNES
    if column in ("Cost", "Total cost", "Extra cost", "Penalty", "Value") or column.startswith(
        "Average value"
    ):
        return _money(currency) if column != "Value" else PLAIN
    if column.endswith("(%)"):
        return PERCENT
    if column == "Days of cover":
        return DAYS
    if column in ("Holds from", "Holds to"):
        return RANGE
    return None


def _header(ws: Any, row: int, col: int, names: list[str]) -> None:
    for j, name in enumerate(names):
        cell = ws.cell(row, col + j, name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL


def _print_setup(ws: Any) -> None:
    """Print across one page wide, landscape, header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _cell_value(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return None
    return v


def _shown(v: Any, fmt: str | None) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float) and math.isnan(v):
            return ""
        text = f"{v:,.1f}" if fmt else f"{v:g}"
        return text + (" USD" if fmt and '"' in fmt else "")
    return str(v)


def _block(
    ws: Any,
    row: int,
    col: int,
    df: pd.DataFrame,
    currency: str,
    formats: Mapping[str, str] | None = None,
) -> int:
    """Write ``df`` with a header at (row, col); return the next free row."""
    cols = [str(c) for c in df.columns if not str(c).startswith("_")]
    _header(ws, row, col, cols)
    for i, rec in enumerate(df[cols].itertuples(index=False, name=None), start=row + 1):
        for j, v in enumerate(rec):
            cell = ws.cell(i, col + j, _cell_value(v))
            fmt = (formats or {}).get(cols[j]) or _format_for(cols[j], currency)
            if fmt:
                cell.number_format = fmt
    return row + len(df) + 1


def _fit_widths(ws: Any, df: pd.DataFrame, currency: str, start_col: int = 1) -> None:
    for j, col in enumerate([c for c in df.columns if not str(c).startswith("_")]):
        fmt = _format_for(str(col), currency)
        sample = [len(str(col))] + [len(_shown(v, fmt)) for v in df[col].head(300)]
        numeric = pd.api.types.is_numeric_dtype(df[col])
        ws.column_dimensions[get_column_letter(start_col + j)].width = min(
            48, max(14 if numeric else 10, max(sample) + 3)
        )


def _write_table(wb: Workbook, name: str, df: pd.DataFrame, currency: str) -> Any:
    ws = wb.create_sheet(name)
    cols = [c for c in df.columns if not str(c).startswith("_")]
    n = len(df)
    _block(ws, 1, 1, df, currency)
    _fit_widths(ws, df, currency)
    ws.freeze_panes = "A2"
    _print_setup(ws)
    ws.print_title_rows = "1:1"
    if n:
        last = get_column_letter(len(cols))
        ws.auto_filter.ref = f"A1:{last}{n + 1}"
        rule = HIGHLIGHT.get(name)
        if rule and rule[0] in cols:
            letter = get_column_letter(cols.index(rule[0]) + 1)
            ws.conditional_formatting.add(
                f"A2:{last}{n + 1}",
                FormulaRule(formula=[f"${letter}2{rule[1]}"], fill=rule[2]),
            )
    return ws


def _write_summary(wb: Workbook, summary: Mapping[str, Any], currency: str) -> None:
    ws = wb.create_sheet("Summary")
    _header(ws, 1, 1, ["Item", "Value"])
    for k, v in summary.items():
        ws.append([k, _cell_value(v)])
        cell = ws.cell(ws.max_row, 2)
        if k in SUMMARY_MONEY:
            cell.number_format = _money(currency)
        elif k.endswith("(t)"):
            cell.number_format = TONNES
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = max(
        24, min(80, max(len(str(v)) for v in summary.values()) + 4)
    )
    ws.freeze_panes = "A2"
    _print_setup(ws)


def _section(ws: Any, row: int, title: str, note: str = "") -> int:
    ws.cell(row, 1, title).font = SECTION_FONT
    if note:
        ws.cell(row, 2, note).font = Font(italic=True, color="595959")
    return row + 1


def _axes(chart: Any) -> Any:
    """Show both axes: openpyxl 3.1 otherwise marks them deleted and Excel hides them."""
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart


def _write_overview(wb: Workbook, plan: Plan, ov: Overview, currency: str) -> None:
    ws = wb.create_sheet("Overview", 0)
    s = plan.summary
    ws["A1"] = "Rare earth sourcing plan"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = (
        f"{s['Status']} plan, scenario: {s['Scenario']}. Input: {s['Input file']}. "
        f"Solved by {s['Solver']}."
    )
    row = _section(ws, 4, "What it costs")
    end = _block(ws, row, 1, ov.cost, currency, {"Value": _money(currency)})
    cost_rows = (row + 1, end - 1)
    row = _section(ws, end + 1, "What to buy, from whom", "tonnes per period, dearest first")
    row = _block(ws, row, 1, ov.buy, currency)
    row = _section(
        ws,
        row + 1,
        "Largest country share of purchases",
        "against the tightest cap on that country and material (all sectors)",
    )
    row = _block(ws, row, 1, ov.concentration, currency)
    row = _section(ws, row + 1, "Days of cover at the end of each period")
    row = _block(
        ws, row, 1, ov.cover, currency, {str(c): DAYS for c in ov.cover.columns if c != "Material"}
    )
    row = _section(ws, row + 1, "Shortfall by sector")
    start = row
    row = _block(ws, row, 1, ov.shortfall, currency)
    if len(ov.shortfall):
        ws.conditional_formatting.add(
            f"A{start + 1}:C{row - 1}",
            FormulaRule(formula=[f"$B{start + 1}>0.0001"], fill=ALERT_FILL),
        )
    row = _section(
        ws,
        row + 1,
        "Caps that bind",
        "periods at the cap; what loosening it by one point would save",
    )
    row = _block(
        ws,
        row,
        1,
        ov.binding_caps if len(ov.binding_caps) else pd.DataFrame({"Rule": ["none binds"]}),
        currency,
    )
    row = _section(
        ws,
        row + 1,
        "Offers bought at capacity",
        "what one more tonne of capacity would save, per period (Marginal values)",
    )
    _block(
        ws,
        row,
        1,
        ov.at_capacity if len(ov.at_capacity) else pd.DataFrame({"Supplier": ["none"]}),
        currency,
    )
    # Blocks share columns: wide enough for the longest header or figure any block puts there.
    used = max(len(ov.buy.columns), len(ov.cover.columns), 6)
    for j in range(1, used + 1):
        ws.column_dimensions[get_column_letter(j)].width = 30 if j == 1 else 24 if j <= 5 else 16
    ws.column_dimensions[get_column_letter(len(ov.buy.columns))].width = 20  # Cost

    chart = BarChart()
    chart.type = "bar"
    chart.title = f"Cost breakdown ({currency})"
    chart.y_axis.title = currency
    chart.y_axis.numFmt = "#,##0"
    chart.legend = None
    data = Reference(ws, min_col=2, min_row=cost_rows[0] + 1, max_row=cost_rows[1])
    cats = Reference(ws, min_col=1, min_row=cost_rows[0] + 1, max_row=cost_rows[1])
    chart.add_data(data, titles_from_data=False)
    chart.set_categories(cats)
    chart.width, chart.height = CHART_W, CHART_H
    ws.add_chart(_axes(chart), f"{get_column_letter(used + 2)}4")
    ws.sheet_view.showGridLines = False
    _print_setup(ws)


def _write_charts(wb: Workbook, ov: Overview) -> None:
    """Per material: sourcing mix by refining country (stacked columns) and stock against its
    floor (lines), each beside the table it draws."""
    ws = wb.create_sheet("Charts")
    ws["A1"] = "Sourcing mix and stock, per material"
    ws["A1"].font = TITLE_FONT
    row = 3
    for m in ov.mix:
        ws.cell(row, 1, m).font = SECTION_FONT
        mix = ov.mix[m]
        top = row + 1
        end = _block(ws, top, 1, mix, "", {c: TONNES for c in mix.columns if c != "Period"})
        n_countries = len(mix.columns) - 1
        if n_countries and len(mix):
            chart = BarChart()
            chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
            chart.title = f"{m}: tonnes bought by refining country"
            chart.y_axis.title = "t"
            chart.y_axis.numFmt = "#,##0"
            data = Reference(ws, min_col=2, max_col=1 + n_countries, min_row=top, max_row=end - 1)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=end - 1))
            chart.width, chart.height = CHART_W, CHART_H
            ws.add_chart(_axes(chart), f"{get_column_letter(n_countries + 3)}{top}")
        stock = ov.stock[m]
        s_top = max(end, top + CHART_ROWS) + 1
        s_end = _block(ws, s_top, 1, stock, "")
        line = LineChart()
        line.title = f"{m}: closing stock against its floor"
        line.y_axis.title = "t"
        line.y_axis.numFmt = "#,##0"
        line.add_data(
            Reference(ws, min_col=2, max_col=3, min_row=s_top, max_row=s_end - 1),
            titles_from_data=True,
        )
        line.set_categories(Reference(ws, min_col=1, min_row=s_top + 1, max_row=s_end - 1))
        for series in line.series:
            series.smooth = False
        line.width, line.height = CHART_W, CHART_H
        ws.add_chart(_axes(line), f"E{s_top}")
        row = max(s_end, s_top + CHART_ROWS) + 2
    ws.column_dimensions["A"].width = 14
    for j in range(2, 12):
        ws.column_dimensions[get_column_letter(j)].width = 13
    _print_setup(ws)


def _stress_chart(ws: Any, df: pd.DataFrame, currency: str) -> None:
    n = len(df)
    if not n:
        return
    cols = list(df.columns)
    for title, column, fmt, anchor in (
        (f"Extra cost over the baseline ({currency})", "Extra cost", "#,##0", "A"),
        ("Shortfall (t)", "Shortfall (t)", "#,##0.0", "F"),
    ):
        chart = BarChart()
        chart.type = "bar"
        chart.title = title
        chart.legend = None
        chart.y_axis.numFmt = fmt
        j = cols.index(column) + 1
        chart.add_data(Reference(ws, min_col=j, min_row=2, max_row=n + 1), titles_from_data=False)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
        chart.width, chart.height = CHART_W, CHART_H
        ws.add_chart(_axes(chart), f"{anchor}{n + 4}")


def write_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    data: PlanData,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the plan workbook at ``path`` (atomically); return the path written."""
    input_path = data.source
    out = Path(path)
    if out.resolve() == Path(input_path).resolve() or (
        out.exists() and os.path.exists(input_path) and os.path.samefile(out, input_path)
    ):
        raise OutputError(
            f"refusing to write the plan over the input workbook {input_path}; "
            "choose another path with -o"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    currency = str(plan.summary.get("Currency", ""))
    wb = Workbook()
    wb.remove(wb.active)
    _write_summary(wb, plan.summary, currency)
    for name, df in plan.sheets.items():
        _write_table(wb, name, df, currency)
    ov = build_overview(data, plan)
    _write_overview(wb, plan, ov, currency)
    _write_charts(wb, ov)
    for name, df in (extra_sheets or {}).items():
        ws = _write_table(wb, name, df, currency)
        if name == "Stress":
            _stress_chart(ws, df, currency)
    wb.active = 0
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
