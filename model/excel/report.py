"""Plan tables -> the plan workbook (DESIGN §4). The only module that writes a plan.

Sheets: ``Overview`` (the one-minute view, with a chart), ``Summary`` and the contract's tables,
``Marginal values``, ``Charts`` (sourcing mix and stock per material, with the data they
draw), and for a stress test ``Stress`` (with its charts) and its detail sheets. Every table
has frozen headers, an autofilter, number formats in the workbook's currency, fitted widths,
and highlighting of what a planner must see: binding caps, shortfalls, stock below its floor.

Written with XlsxWriter in constant-memory mode (rows streamed to disk in order): at the large
benchmark's ~70,000 plan rows it takes well under half of openpyxl's time (see README); the big
tables' rows go through :mod:`model.excel.sheetrows`, the same XML at a tenth of the cost. Written
atomically: to a temporary file in the target folder, then renamed into place, so a plan is
there whole or not at all; never over the input workbook.
"""

from __future__ import annotations

import errno
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from model.excel.sheetrows import write_rows
from model.input.data import PlanData
from model.plan.overview import Overview, build_overview
from model.plan.results import COST_ROWS, Plan

if TYPE_CHECKING:  # the type only: the studies import this module, not the other way round
    from model.studies.compare import Comparison

BLUE = "#1F4E78"
TONNES = "#,##0.0"
# Percentages are written as Excel's own (0.35 shown as 35.0 %), so =B2*D2 and a switch of
# format both do what a planner expects; the tables (and --json) hold percent numbers (35).
PERCENT = "0.0%"
DAYS = "#,##0"
PLAIN = "#,##0.00"
RANGE = "#,##0.0"

SUMMARY_MONEY = (
    "Total cost",
    *COST_ROWS,
    "Hedge objective",
    "Expected cost (hedged)",
    "CVaR (hedged)",
    "Expected cost (unhedged)",
    "Value of hedging",
    "Price of hedging",
    "Expected cost (foresight)",
    "Value of foresight",
    "Hedge objective (unhedged)",
    "Baseline optimum",
    "Value of hedging (out of sample)",
    "Value of hedging, 95 % low",
    "Value of hedging, 95 % high",
    "Quiet-world cost (no episode)",
    "Hedged cost (no episode)",
)
ALERT, BINDING = "#F8CBAD", "#FFE699"  # shortfall / below floor; binding cap
# sheet -> (column whose value flags the row, Excel condition on that cell, fill colour)
HIGHLIGHT = {
    "Concentration": ("Binding", '="Yes"', BINDING),
    "Stock": ("Below floor (t)", ">0.0001", ALERT),
    "Shortfall": ("Tonnes", ">0", ALERT),
    "Allocation": ("Source", '="Shortfall"', ALERT),
    "Stress": ("Shortfall (t)", ">0.0001", ALERT),
    "Stress shortfall": ("Tonnes", ">0", ALERT),
    "Stress stock": ("Below floor (t)", ">0.0001", ALERT),
    "Hedge": ("Hedged shortfall (t)", ">0.0001", ALERT),
}
CHART_W, CHART_H = 600, 285  # pixels
CHART_ROWS = 16  # rows a chart covers at the default row height


class OutputError(Exception):
    pass


@dataclass
class Preface:
    """What the Overview opens with before the plan's own blocks (the hedge's "what to do
    now"): sentences, then titled tables."""

    title: str
    lines: list[str]
    blocks: list[tuple[str, str, pd.DataFrame]]  # (section title, note, table)


class _Formats:
    """The workbook's cell formats, made once (XlsxWriter formats belong to one workbook)."""

    def __init__(self, wb: Any, currency: str):
        safe = currency.replace('"', "")
        self.currency = safe
        self.money_code = f'#,##0 "{safe}"' if safe else "#,##0"
        self.header = wb.add_format(
            {
                "bold": True,
                "font_color": "white",
                "bg_color": BLUE,
                "text_wrap": True,
                "valign": "top",
                "indent": 1,
            }
        )
        # Text one space in from the cell's edge: a number right-aligned in the column before
        # and a word after it ("12.0" and "Optimal") do not read as one value.
        self.text = wb.add_format({"indent": 1})
        self.text_wrap = wb.add_format({"indent": 1, "text_wrap": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        # Over a column of numbers the header is right-aligned, as the numbers are: "12.0" under
        # "Periods binding", not "12.0 Optimal" read across two columns.
        self.header_num = wb.add_format(
            {
                "bold": True,
                "font_color": "white",
                "bg_color": BLUE,
                "text_wrap": True,
                "valign": "top",
                "align": "right",
            }
        )
        self.title = wb.add_format({"bold": True, "font_size": 14, "font_color": BLUE})
        self.section = wb.add_format({"bold": True, "font_color": BLUE})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.note_wrap = wb.add_format(
            {"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"}
        )
        self.fill = {c: wb.add_format({"bg_color": c}) for c in (ALERT, BINDING)}
        self._by_code: dict[str, Any] = {}
        self._wb = wb

    def code(self, code: str | None) -> Any:
        if code is None:
            return None
        if code not in self._by_code:
            self._by_code[code] = self._wb.add_format({"num_format": code})
        return self._by_code[code]

    def for_column(self, column: str) -> str | None:
        if column.endswith("(t)") or column == "Tonnes":
            return TONNES
        if (
            column in ("Cost", "Penalty", "Penalties", "CVaR")
            or column.endswith((" cost", " over foresight", " penalties"))
            or column.startswith(("Average value", "Saving"))
        ):
            return self.money_code
        if column == "Value":
            return PLAIN
        if column.endswith("(%)"):
            return PERCENT
        if column == "Days of cover":
            return DAYS
        if column in ("Holds from", "Holds to"):
            return RANGE
        return None


def _value(v: Any) -> Any:
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return None if isinstance(v, str) and v == "" else v  # a blank, not a text cell of ""


def _width(df: pd.DataFrame, col: str, code: str | None) -> float:
    def shown(v: Any) -> str:
        if isinstance(v, int | float) and not isinstance(v, bool):
            if isinstance(v, float) and math.isnan(v):
                return ""
            return f"{v:,.1f}" + (" USD" if code and '"' in code else "") if code else f"{v:g}"
        return str(v)

    sample = [len(str(col))] + [len(shown(v)) for v in df[col].head(300)]
    numeric = pd.api.types.is_numeric_dtype(df[col])
    return min(48, max(14 if numeric else 10, max(sample) + 3))


def _print_setup(ws: Any) -> None:
    """Print across one page wide, landscape, header row repeated on every page."""
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _public(df: pd.DataFrame) -> pd.DataFrame:
    return df[[c for c in df.columns if not str(c).startswith("_")]]


def _as_written(df: pd.DataFrame) -> pd.DataFrame:
    """The public columns, with every ``(%)`` column as a fraction for Excel's % format."""
    df = _public(df)
    pct = [c for c in df.columns if str(c).endswith("(%)") and _numeric(df[c])]
    return df.assign(**{c: df[c] / 100.0 for c in pct}) if pct else df


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _headers(ws: Any, row: int, df: pd.DataFrame, fm: _Formats) -> None:
    """A table's header row, right-aligned over columns of numbers."""
    for j, col in enumerate(df.columns):
        ws.write(row, j, str(col), fm.header_num if _numeric(df[col]) else fm.header)


def _write_table(wb: Any, fm: _Formats, name: str, df: pd.DataFrame) -> Any:
    ws = wb.add_worksheet(name)
    df = _as_written(df)
    cols = [str(c) for c in df.columns]
    formats = []
    for j, col in enumerate(cols):
        code = fm.for_column(col)
        formats.append(fm.code(code) if code or _numeric(df[col]) else fm.text)
        ws.set_column(j, j, _width(df, col, code) + (1 if code is None else 0), formats[-1])
    ws.set_row(0, 30)
    _headers(ws, 0, df, fm)
    write_rows(ws, df, 1, formats)
    n = len(df)
    ws.freeze_panes(1, 0)
    _print_setup(ws)
    ws.repeat_rows(0)
    if n and cols:
        ws.autofilter(0, 0, n, len(cols) - 1)
        rule = HIGHLIGHT.get(name)
        if rule and rule[0] in cols:
            letter = xl_col_to_name(cols.index(rule[0]))
            ws.conditional_format(
                1,
                0,
                n,
                len(cols) - 1,
                {
                    "type": "formula",
                    "criteria": f"=${letter}2{rule[1]}",
                    "format": fm.fill[rule[2]],
                },
            )
    return ws


def _write_summary(wb: Any, fm: _Formats, summary: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, max(24, min(80, max(len(str(v)) for v in summary.values()) + 4)))
    ws.write_row(0, 0, ["Item", "Value"], fm.header)
    for i, (k, v) in enumerate(summary.items(), start=1):
        code = fm.money_code if k in SUMMARY_MONEY else TONNES if k.endswith("(t)") else None
        if k.endswith("(%)") and isinstance(v, int | float):
            code, v = PERCENT, v / 100.0
        ws.write(i, 0, k)
        ws.write(i, 1, _value(v), fm.code(code))
    ws.freeze_panes(1, 0)
    _print_setup(ws)


LINE_HEIGHT = 15  # points: one line of 11 pt text


class _Sheet:
    """Sequential writer for a sheet of blocks (constant-memory mode writes rows in order).

    With ``widths`` (the columns' widths, in characters), a sentence longer than the sheet's
    width is wrapped over the columns, and a text cell longer than its column is wrapped in
    it, each row as tall as its text: the sheet then prints one page wide without shrinking
    to fit a line that runs across it, and no cell's text is cut by the next cell."""

    def __init__(self, ws: Any, fm: _Formats, widths: list[float] | None = None):
        self.ws, self.fm, self.row = ws, fm, 0
        self.widths = widths
        self.need: dict[int, float] = {}  # column -> width its figures need (see widen)

    def widen(self) -> None:
        """Widen the columns whose figures need more room than ``widths`` gave (a money
        figure of 1,477,658,759 USD shows as ### in a column of 15)."""
        for j, need in self.need.items():
            if self.widths is not None and j < len(self.widths) and need > self.widths[j]:
                self.ws.set_column(j, j, need)

    def _measure(self, df: pd.DataFrame, codes: list[str | None]) -> None:
        for j, (c, code) in enumerate(zip(df.columns, codes, strict=True)):
            if not _numeric(df[c]) or not df[c].notna().any():
                continue
            top = float(df[c].abs().max())
            text = f"{top:,.0f}" + (".0" if code and ".0" in code else "")
            if code == self.fm.money_code:
                text += " " + self.fm.currency
            elif code == PERCENT:
                text = f"{top * 100:,.1f}%"
            self.need[j] = max(self.need.get(j, 0.0), len(text) + 3.0)

    def line(self, values: list[Any], fmt: Any = None) -> None:
        text = values[0] if len(values) == 1 else None
        room = sum(self.widths) * 1.1 if self.widths else None
        if room and isinstance(text, str) and len(text) > room:
            lines = math.ceil(len(text) / room) + 1
            self.ws.merge_range(
                self.row, 0, self.row, len(self.widths) - 1, text, self._wrapped(fmt)
            )
            self.ws.set_row(self.row, LINE_HEIGHT * lines)
            self.row += 1
            return
        for j, v in enumerate(values):
            if v is not None:
                self.ws.write(self.row, j, v, fmt)
        self.row += 1

    def _wrapped(self, fmt: Any) -> Any:
        if fmt is self.fm.note:
            return self.fm.note_wrap
        return self.fm.wrap

    def section(self, title: str, note: str = "") -> None:
        """A block's title, and its note beside it (or under it, when the title is longer
        than its column: the note would cut it)."""
        self.ws.write(self.row, 0, title, self.fm.section)
        beside = sum(self.widths[1:]) * 1.1 if self.widths else math.inf
        if note and len(title) <= SECTION_CHARS and len(note) <= beside:
            self.ws.write(self.row, 1, note, self.fm.note)
        elif note:
            self.row += 1
            self.line([note], self.fm.note)
            return
        self.row += 1

    def block(self, df: pd.DataFrame, formats: Mapping[str, str] | None = None) -> tuple[int, int]:
        """Write ``df`` with a header; return (header row, last row)."""
        df = _as_written(df)
        cols = [str(c) for c in df.columns]
        top = self.row
        _headers(self.ws, top, df, self.fm)
        if any(len(c) > 12 for c in cols):
            self.ws.set_row(top, 30)  # room for a wrapped header's second line
        codes = [(formats or {}).get(c) or self.fm.for_column(c) for c in cols]
        cell_formats = [
            self.fm.code(code) if code or _numeric(df[c]) else self.fm.text
            for c, code in zip(df.columns, codes, strict=True)
        ]
        self._measure(df, codes)
        width = self.widths or []
        # Text longer than its column wraps in it (a cause cut by the next cell misleads).
        # (The block's last column may run on into the empty cells beside it.)
        wrapped = [
            j < min(len(width), len(cols) - 1)
            and not _numeric(df[c])
            and df[c].astype(str).str.len().max() + 2 > width[j]
            for j, c in enumerate(df.columns)
        ]
        for j, yes in enumerate(wrapped):
            if yes:
                cell_formats[j] = self.fm.text_wrap
        for i, rec in enumerate(df.itertuples(index=False, name=None), start=top + 1):
            lines = 1
            for j, v in enumerate(rec):
                value = _value(v)
                if value is not None:
                    self.ws.write(i, j, value, cell_formats[j])
                    if wrapped[j]:
                        lines = max(lines, math.ceil((len(str(value)) + 2) / width[j]))
            if lines > 1:
                self.ws.set_row(i, LINE_HEIGHT * lines)
        self.row = top + len(df) + 1
        return top, self.row - 1


def _chart(
    wb: Any,
    kind: dict[str, str],
    title: str,
    y_format: str,
    y_title: str = "",
    legend: bool = True,
    from_zero: bool = True,
) -> Any:
    """A chart whose value axis starts at 0 (so 24 t never looks like 2 t) unless its values
    can be negative; horizontal bars in the table's order, top to bottom."""
    chart = wb.add_chart(kind)
    chart.set_title({"name": title, "name_font": {"size": 11}})
    values_axis = {
        "num_format": y_format,
        **({"name": y_title} if y_title else {}),
        **({"min": 0} if from_zero else {}),
    }
    if kind["type"] == "bar":  # horizontal bars: the values run along the x axis
        chart.set_x_axis(values_axis)
        chart.set_y_axis({"reverse": True})
    else:
        chart.set_y_axis(values_axis)
    if not legend:
        chart.set_legend({"none": True})
    chart.set_size({"width": CHART_W, "height": CHART_H})
    return chart


# Distinguishable colours (Tableau 20's first twelve), one per country.
PALETTE = (
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#59A14F",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
    "#1F77B4",
    "#17BECF",
)
OVERVIEW_ROWS = 12  # rows of a long block the Overview shows; the rest is on its sheet
SECTION_CHARS = 26  # a section title this long fits column A (width 30) in bold


def _top(df: pd.DataFrame, sheet: str) -> tuple[pd.DataFrame, str]:
    """The first rows of a block for the Overview, and a note saying where the rest is."""
    if len(df) <= OVERVIEW_ROWS:
        return df, ""
    return df.head(OVERVIEW_ROWS), f"; top {OVERVIEW_ROWS} of {len(df)}: all rows on sheet {sheet}"


def _top_block(
    w: _Sheet,
    df: pd.DataFrame,
    sheet: str,
    formats: Mapping[str, str] | None = None,
    empty: dict[str, list[str]] | None = None,
) -> None:
    """A long block's first rows, then a note saying where the rest is (or ``empty``'s one
    row when the block has none)."""
    top, more = _top(df, sheet)
    w.block(top if len(top) or empty is None else pd.DataFrame(empty), formats)
    if more:
        w.line([more.strip("; ")], w.fm.note)


def _write_overview(
    wb: Any, fm: _Formats, plan: Plan, ov: Overview, preface: Preface | None = None
) -> None:
    ws = wb.add_worksheet("Overview")
    # Blocks share columns: wide enough for the figures any block puts there (money needs
    # ~17 characters in columns 1-2), and no wider, so that the sheet prints one page wide at a
    # legible size (it printed at about 4 pt with columns of 18-30 and one line across them).
    used = max(len(ov.buy.columns), len(ov.cover.columns), 8)
    widths = [28.0 if j == 0 else 18.0 if j <= 2 else 15.0 if j <= 4 else 11.0 for j in range(used)]
    widths[len(ov.buy.columns) - 2] = 17.0  # Cost (money)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.hide_gridlines(2)
    s = plan.summary
    w = _Sheet(ws, fm, widths)
    w.line([preface.title if preface else "Rare earth sourcing plan"], fm.title)
    w.line(
        [
            f"{s['Status']} plan, scenario: {s['Scenario']}. Input: {s['Input file']}. "
            f"Solved by {s['Solver']}."
        ]
    )
    for text in plan.notes:
        w.line([text])
    if preface is None and s["Scenario"] not in ("Baseline", None):
        w.line(
            [
                f"What-if: '{s['Scenario']}' is assumed known from the start, and the whole"
                " horizon is planned for it. To see what to do if it comes while the baseline"
                " plan is being followed, run 'ree-plan stress'."
            ]
        )
    w.row += 1
    if preface:
        for text in preface.lines:
            w.line([text])
        w.row += 1
        for title, note, df in preface.blocks:
            w.section(title, note)
            w.block(df)
            w.row += 1
    w.section("What it costs")
    cur = fm.currency
    if ov.penalties > 0:
        w.line(
            [
                f"Money spent: {ov.money_spent:,.0f} {cur}. Penalties: {ov.penalties:,.0f} {cur}"
                " — not money spent: they price the unmet needs (shortfall, stock below its"
                " floor) at the workbook's penalties."
            ]
        )
    else:
        w.line([f"Money spent: {ov.money_spent:,.0f} {cur}; no penalties (no unmet needs)."])
    top, last = w.block(ov.cost, {"Value": fm.money_code})
    w.row += 1
    buy, more = _top(ov.buy, "Purchases and Recycling")
    w.section(
        "What to buy, from whom",
        "tonnes per period (the first 8, then 'Later'), the largest spend first; average price"
        " per kg = cost / tonnes" + more,
    )
    w.block(buy, {"Average price (per kg)": PLAIN})
    w.row += 1
    w.section(
        "Largest country share of purchases",
        "against the tightest cap on that country and material (all sectors)",
    )
    w.block(ov.concentration)
    w.row += 1
    w.section(
        "Days of cover at the end of each period",
        "against the target (Min cover on Materials), below it highlighted; the first 8"
        " periods here, every period on sheet Stock",
    )
    c_top, c_last = w.block(ov.cover, {str(c): DAYS for c in ov.cover.columns if c != "Material"})
    n_cols = len(ov.cover.columns)
    if len(ov.cover) and n_cols > 2:
        # a period's cover below the material's target (column B), blank cells left alone
        first = xl_rowcol_to_cell(c_top + 1, 2, row_abs=False, col_abs=False)
        target = xl_rowcol_to_cell(c_top + 1, 1, row_abs=False, col_abs=True)
        ws.conditional_format(
            c_top + 1,
            2,
            c_last,
            n_cols - 1,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({first}),{first}<{target}-0.05)",
                "format": fm.fill[ALERT],
            },
        )
    w.row += 1
    w.section("Shortfall by sector")
    s_top, s_last = w.block(ov.shortfall)
    if len(ov.shortfall):
        ws.conditional_format(
            s_top + 1,
            0,
            s_last,
            2,
            {"type": "formula", "criteria": f"=$B{s_top + 2}>0.0001", "format": fm.fill[ALERT]},
        )
    w.row += 1
    valued = "Marginal values" in plan.sheets
    # A hedge has no marginal values (its duals price the whole scenario tree): its blocks
    # list what binds, read off the plan, and say that savings are not given.
    no_values = "read off the plan; a hedge has no marginal values, so no savings are given"
    if len(ov.why_short):
        w.section(
            "Why needs go unmet",
            "shortfall or stock below its floor: what holds supply back, worth most first"
            " (from the marginal values)"
            if valued
            else f"shortfall or stock below its floor: what holds supply back ({no_values})",
        )
        _top_block(
            w,
            ov.why_short if valued else ov.why_short.drop(columns=["Saving per unit", "Unit"]),
            "Marginal values" if valued else "Concentration and Purchases",
            {"Saving per unit": PLAIN},
        )
        w.row += 1
    w.section(
        "Caps that bind",
        "periods at the cap or with a marginal value; what loosening it one point would save"
        if valued
        else f"periods at the cap ({no_values})",
    )
    _top_block(
        w, ov.binding_caps, "Concentration and Marginal values", empty={"Rule": ["none binds"]}
    )
    w.row += 1
    w.section(
        "Offers bought at capacity",
        "what one more tonne of capacity would save, per period (Marginal values)"
        if valued
        else f"periods bought at capacity ({no_values})",
    )
    _top_block(
        w,
        ov.at_capacity if valued else ov.at_capacity.drop(columns=["Average value of +1 t"]),
        "Marginal values" if valued else "Purchases",
        empty={"Supplier": ["none"]},
    )

    chart = _chart(
        wb,
        {"type": "bar"},
        f"Cost breakdown ({fm.money_code.split(' ')[-1]})".replace('"', ""),
        "#,##0",
        legend=False,
    )
    # The parts of the cost (the rows under "Total cost").
    chart.add_series(
        {
            "categories": ["Overview", top + 2, 0, last, 0],
            "values": ["Overview", top + 2, 1, last, 1],
        }
    )
    ws.insert_chart(w.row + 1, 0, chart)  # below the blocks: the sheet prints one page wide
    w.widen()
    _print_setup(ws)


def _write_charts(wb: Any, fm: _Formats, ov: Overview) -> None:
    """Per material: sourcing mix by refining country (stacked columns) and stock against its
    floor (lines), each beside the table it draws."""
    ws = wb.add_worksheet("Charts")
    ws.set_column(0, 0, 14)
    ws.set_column(1, 11, 13)
    w = _Sheet(ws, fm)
    w.line(["Sourcing mix and stock, per material"], fm.title)
    w.row += 1
    # One colour per country in every chart of the workbook (a country keeps its colour
    # from one material's chart to the next).
    countries = sorted({str(c) for mix in ov.mix.values() for c in mix.columns[1:]})
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(countries)}
    for m in ov.mix:
        w.section(m)
        mix = ov.mix[m]
        top, last = w.block(mix, {c: TONNES for c in mix.columns if c != "Period"})
        n_countries = len(mix.columns) - 1
        if n_countries and len(mix):
            chart = _chart(
                wb,
                {"type": "column", "subtype": "stacked"},
                f"{m}: tonnes bought by refining country",
                "#,##0",
                "t",
            )
            for j in range(1, n_countries + 1):
                chart.add_series(
                    {
                        "name": ["Charts", top, j],
                        "categories": ["Charts", top + 1, 0, last, 0],
                        "values": ["Charts", top + 1, j, last, j],
                        "gap": 50,
                        "fill": {"color": colour[str(mix.columns[j])]},
                        "border": {"none": True},
                    }
                )
            ws.insert_chart(top, n_countries + 2, chart)
        w.row = max(w.row, top + CHART_ROWS) + 1
        s_top, s_last = w.block(ov.stock[m])
        line = _chart(wb, {"type": "line"}, f"{m}: closing stock against its floor", "#,##0", "t")
        for j in (1, 2):
            line.add_series(
                {
                    "name": ["Charts", s_top, j],
                    "categories": ["Charts", s_top + 1, 0, s_last, 0],
                    "values": ["Charts", s_top + 1, j, s_last, j],
                }
            )
        ws.insert_chart(s_top, 4, line)
        w.row = max(w.row, s_top + CHART_ROWS) + 2
    _print_setup(ws)


def _stress_charts(wb: Any, fm: _Formats, ws: Any, df: pd.DataFrame) -> None:
    n = len(df)
    if not n:
        return
    cols = list(df.columns)
    currency = fm.currency
    for k, (title, column, code) in enumerate(
        (
            (f"Extra cost over the baseline ({currency})", "Extra cost", "#,##0"),
            ("Shortfall (t)", "Shortfall (t)", "#,##0.0"),
        )
    ):
        values = pd.to_numeric(df[column], errors="coerce")
        chart = _chart(
            wb,
            {"type": "bar"},
            title,
            code,
            legend=False,
            from_zero=bool((values.dropna() >= 0).all()),
        )
        j = cols.index(column)
        chart.add_series({"categories": ["Stress", 1, 0, n, 0], "values": ["Stress", 1, j, n, j]})
        ws.insert_chart(n + 3, 5 * k, chart)


def _hedge_chart(wb: Any, fm: _Formats, ws: Any, df: pd.DataFrame) -> None:
    """Below the Hedge table: what hedging saves per scenario against the quiet-world plan
    followed (negative for the quiet world: the price of hedging), and beside it what not
    knowing the shock costs, hedged against unhedged. Differences, not totals: bars of 1.48
    and 1.68 bn drawn from 0 look alike."""
    n = len(df)
    if not n:
        return
    cols = list(df.columns)
    currency = fm.money_code.split(" ")[-1].replace('"', "")
    for k, (title, series) in enumerate(
        (
            (f"What hedging saves when it comes ({currency})", ("Saving from hedging",)),
            (
                f"Cost of not knowing the shock ({currency})",
                ("Hedged over foresight", "Unhedged over foresight"),
            ),
        )
    ):
        negative = any((df[c].dropna() < 0).any() for c in series)
        chart = _chart(wb, {"type": "bar"}, title, "#,##0", from_zero=not negative)
        for column in series:
            j = cols.index(column)
            chart.add_series(
                {
                    "name": ["Hedge", 0, j],
                    "categories": ["Hedge", 1, 0, n, 0],
                    "values": ["Hedge", 1, j, n, j],
                }
            )
        chart.set_x_axis({"num_format": "#,##0", **({} if negative else {"min": 0})})
        chart.set_y_axis({"reverse": True})  # the table's order, top to bottom
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": CHART_W, "height": CHART_H + 30 * n})
        ws.insert_chart(n + 3, 5 * k, chart)


def _distribution_chart(wb: Any, fm: _Formats, ws: Any, df: pd.DataFrame) -> None:
    """Beside the Cost distribution table: how many test paths cost what, per plan (a
    histogram over the same bins for both plans, so their shapes can be compared)."""
    n = len(df)
    if not n:
        return
    cols = list(df.columns)
    chart = _chart(
        wb,
        {"type": "column"},
        f"Cost per test path ({fm.currency}): how many paths",
        "#,##0",
        "paths",
    )
    for column in [c for c in cols if c.endswith("(paths)")]:
        j = cols.index(column)
        chart.add_series(
            {
                "name": ["Cost distribution", 0, j],
                "categories": ["Cost distribution", 1, 0, n, 0],
                "values": ["Cost distribution", 1, j, n, j],
                "gap": 30,
            }
        )
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": CHART_W * 1.4, "height": CHART_H + 40})
    ws.insert_chart(1, len(cols) + 1, chart)


def target_path(path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]]) -> Path:
    """The output path, refused when it is one of the input workbooks; its folder made."""
    out = Path(path)
    if out.is_dir():
        raise OutputError(f"{out} is a folder; give a file name, e.g. {out / 'plan.xlsx'}")
    for input_path in inputs:
        if out.resolve() == Path(input_path).resolve() or (
            out.exists() and os.path.exists(input_path) and os.path.samefile(out, input_path)
        ):
            raise OutputError(
                f"refusing to write over the input workbook {input_path}; "
                "choose another path with -o"
            )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the folder {out.parent}: {why_not_written(exc)}") from None
    return out


def why_not_written(exc: BaseException) -> str:
    """A failed write in a planner's words."""
    err = getattr(exc, "errno", None)
    if err is None and exc.__context__ is not None:  # XlsxWriter wraps the OSError
        err = getattr(exc.__context__, "errno", None)
    return {
        errno.ENOSPC: "the disk is full; free some space or write elsewhere with -o",
        errno.EACCES: "the folder is not writable; write elsewhere with -o",
        errno.EROFS: "the folder is read-only; write elsewhere with -o",
        errno.ENAMETOOLONG: "the file name is too long; choose a shorter one with -o",
    }.get(err, str(exc))


def _atomic(out: Path, currency: str, fill: Any) -> Path:
    """Write a workbook through ``fill(wb, fm)`` into a temporary file, renamed into place.

    XlsxWriter's own temporary files go to a folder of ours, removed on every way out (an
    error, a full disk, Ctrl-C, or SIGTERM/SIGHUP, which the command line turns into an exit
    that runs this ``finally``); so is the half-written file. Nothing is left behind."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tempfile.TemporaryDirectory(prefix="ree-plan-") as scratch:
            wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "tmpdir": scratch})
            try:
                fill(wb, _Formats(wb, currency))
                wb.close()
            finally:
                wb.fileclosed = True  # a failed close must not be retried at garbage collection
            os.replace(tmp, out)
    except (OSError, FileCreateError) as exc:
        raise OutputError(f"{out}: {why_not_written(exc)}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def write_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    data: PlanData,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
    preface: Preface | None = None,
) -> Path:
    """Write the plan workbook at ``path`` (atomically); return the path written."""
    out = target_path(path, [data.source])
    ov = build_overview(data, plan)

    def fill(wb: Any, fm: _Formats) -> None:
        _write_overview(wb, fm, plan, ov, preface)
        _write_summary(wb, fm, plan.summary)
        for name, df in plan.sheets.items():
            _write_table(wb, fm, name, df)
        _write_charts(wb, fm, ov)
        for name, df in (extra_sheets or {}).items():
            ws = _write_table(wb, fm, name, df)
            if name == "Stress":
                _stress_charts(wb, fm, ws, _public(df))
            elif name == "Hedge":
                _hedge_chart(wb, fm, ws, _public(df))
            elif name == "Cost distribution":
                _distribution_chart(wb, fm, ws, _public(df))

    return _atomic(out, str(plan.summary.get("Currency", "")), fill)


def write_frontier(
    path: str | os.PathLike[str],
    frontier: pd.DataFrame,
    data: PlanData,
    lines: list[str],
    axis: str = "swept value",
) -> Path:
    """The frontier workbook: an Overview (the sentences ``lines``, the curve's table and
    charts) and the Frontier sheet (every column); atomically."""
    out = target_path(path, [data.source])
    df = _public(frontier)

    def fill(wb: Any, fm: _Formats) -> None:
        ws = wb.add_worksheet("Overview")
        ws.hide_gridlines(2)
        ws.set_column(0, 0, 44)
        ws.set_column(1, 4, 18)
        w = _Sheet(ws, fm)
        w.line(["The price of resilience"], fm.title)
        for text in lines:
            w.line([text])
        w.row += 1
        keep = [c for c in ("Point", "Total cost", "Penalties", "Expected cost") if c in df]
        w.section("Quiet-world cost per point", "details and every scenario on sheet Frontier")
        w.block(df[keep])
        _frontier_charts(wb, fm, ws, df, w.row + 1, axis)
        _print_setup(ws)
        ws.set_h_pagebreaks([w.row + 1 + CHART_ROWS + 1])  # a chart is never cut in two
        fs = _write_table(wb, fm, "Frontier", df)
        fs.fit_to_pages(2, 0)  # one column per scenario figure: two pages wide stay legible

    return _atomic(out, data.currency, fill)


def _frontier_charts(wb: Any, fm: _Formats, ws: Any, df: pd.DataFrame, top: int, axis: str) -> None:
    """On the Overview from row ``top`` down, drawing the Frontier sheet: quiet-world cost
    against the swept value; each scenario's extra cost and extra shortfall against it."""
    n = len(df)
    if not n or not (df["Status"] == "Optimal").any():
        return  # nothing to draw: the sentence above says no point has a plan
    cols = list(df.columns)
    value = cols.index("Value")
    currency = fm.money_code.split(" ")[-1].replace('"', "")
    groups = (
        (f"Quiet-world cost ({currency})", ["Total cost"], "#,##0"),
        (
            f"Extra cost when the shock comes ({currency})",
            [c for c in cols if c.endswith(" extra cost")],
            "#,##0",
        ),
        (
            "Extra shortfall when the shock comes (t)",
            [c for c in cols if c.endswith(" extra shortfall (t)")],
            "#,##0.0",
        ),
    )
    for k, (title, series, code) in enumerate(groups):
        if not series:
            continue
        chart = _chart(wb, {"type": "line"}, title, code)
        for column in series:
            j = cols.index(column)
            chart.add_series(
                {
                    "name": ["Frontier", 0, j],
                    "categories": ["Frontier", 1, value, n, value],
                    "values": ["Frontier", 1, j, n, j],
                    "marker": {"type": "circle"},
                }
            )
        chart.set_y_axis({"num_format": code, "min": 0})
        chart.set_x_axis({"name": axis})
        chart.set_legend({"position": "bottom"})
        ws.insert_chart(top + (CHART_ROWS + 1) * k, 0, chart)


def write_comparison(path: str | os.PathLike[str], c: Comparison, inputs: Sequence[str]) -> Path:
    """The comparison workbook of ``ree-plan compare`` (DESIGN §6): an Overview (sentences, the
    cost rows side by side, the purchases that changed most, warnings), then Summary,
    Purchases, Stock, Shortfall and Concentration with both plans and the change; atomically."""
    out = target_path(path, inputs)
    summary = c.summary.set_index("Item")
    currency = str(summary["A"].get("Currency") or summary["B"].get("Currency") or "")
    money = ["Total cost", *COST_ROWS]

    def fill(wb: Any, fm: _Formats) -> None:
        ws = wb.add_worksheet("Overview")
        ws.hide_gridlines(2)
        widths = [30.0, 20.0, 20.0, 18.0, 14.0, 14.0, 14.0, 18.0]
        for j, width in enumerate(widths):
            ws.set_column(j, j, width)
        w = _Sheet(ws, fm, widths)
        w.line([f"Two plans compared: A = {c.a}, B = {c.b}"], fm.title)
        for text in c.lines:
            w.line([text])
        for text in c.warnings:
            w.line([f"Warning: {text}"], fm.note)
        w.row += 1
        w.section("What it costs", "B - A; penalties are not money spent")
        costs = c.summary[c.summary["Item"].isin(money)]
        w.block(costs, dict.fromkeys(("A", "B", "Change"), fm.money_code))
        w.row += 1
        w.section(
            "Purchases that changed most", "largest change in tonnes first; all on sheet Purchases"
        )
        w.block(c.top)
        w.row += 1
        w.section("Shortfall", "tonnes short, A and B; every row on sheet Shortfall")
        by_sector = (
            c.shortfall.groupby("Sector", sort=False)[["A (t)", "B (t)"]].sum().reset_index()
            if len(c.shortfall)
            else pd.DataFrame({"Sector": ["none"]})
        )
        w.block(by_sector)
        w.widen()
        _print_setup(ws)
        ss = wb.add_worksheet("Summary")
        ss.set_column(0, 0, 26)
        ss.set_column(1, 3, 24)
        ss.write_row(0, 0, ["Item", "A", "B", "Change"], fm.header)
        for i, r in enumerate(c.summary.itertuples(index=False), start=1):
            code = fm.money_code if r.Item in SUMMARY_MONEY else None
            code = TONNES if str(r.Item).endswith("(t)") else code
            values = [r.A, r.B, r.Change]
            if str(r.Item).endswith("(%)"):
                code = PERCENT
                values = [v / 100.0 if isinstance(v, int | float) else v for v in values]
            ss.write(i, 0, r.Item)
            for j, v in enumerate(values, start=1):
                ss.write(i, j, _value(v), fm.code(code))
        ss.freeze_panes(1, 0)
        _print_setup(ss)
        for name, df in (
            ("Purchases", c.purchases),
            ("Stock", c.stock),
            ("Shortfall", c.shortfall),
            ("Concentration", c.concentration),
        ):
            _write_table(wb, fm, name, df)

    return _atomic(out, currency, fill)
