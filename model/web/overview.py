"""A written workbook read back as a page: its Overview sheet's lines, sections and tables (as
text: nothing in a cell is ever markup) and every chart the workbook has, drawn as SVG from
the same cells the chart reads, so the page shows what Excel shows."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import range_boundaries

HEADER_FILL = "FF1F4E78"  # the workbook's table headers (model.excel.report BLUE)
PALETTE = (
    "#1f4e78",
    "#c55a11",
    "#548235",
    "#7f6000",
    "#7030a0",
    "#2e75b6",
    "#bf9000",
    "#a5a5a5",
    "#843c0c",
    "#385723",
)
# The sheets whose charts the page shows, in this order (a sheet not listed comes after).
CHART_SHEETS = ("Overview", "Cost distribution", "Stress", "Hedge", "Frontier", "Charts")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass
class Part:
    kind: str  # "title", "text", "section", "note" or "table"
    text: str = ""
    note: str = ""
    table: Table | None = None


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Chart:
    sheet: str
    title: str
    kind: str  # "bar" (horizontal), "column", "stacked" (columns) or "line"
    categories: list[str]
    series: list[Series] = field(default_factory=list)


@dataclass
class Page:
    parts: list[Part]
    charts: list[Chart]

    def colours(self) -> dict[str, str]:
        """One colour per series name on the whole page (China keeps its colour from one
        material's chart to the next, as in the workbook)."""
        names = dict.fromkeys(s.name for c in self.charts for s in c.series)
        return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def shown(value: Any, number_format: str = "General") -> str:
    """A cell's value as Excel shows it (near enough): thousands, decimals, percent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        fmt = number_format.split(";")[0]
        unit = re.findall(r'"([^"]*)"', fmt)
        bare = re.sub(r'"[^"]*"', "", fmt)
        decimals = len(bare.split(".")[1].rstrip("%").rstrip()) if "." in bare else 0
        if "%" in bare:
            return f"{value * 100:,.{decimals}f} %"
        if bare.strip() in ("General", ""):
            return (
                f"{value:,.2f}".rstrip("0").rstrip(".")
                if isinstance(value, float)
                else (f"{value:,}")
            )
        text = f"{value:,.{decimals}f}" if "," in bare else f"{value:.{decimals}f}"
        return f"{text} {unit[0]}".rstrip() if unit else text
    return str(value)


def read_page(path: Path) -> Page:
    """The Overview sheet's parts and every chart of the workbook at ``path``."""
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        parts = _parts(wb["Overview"]) if "Overview" in wb.sheetnames else []
        charts = _charts(wb)
    finally:
        wb.close()
    return Page(parts, charts)


def _parts(ws: Any) -> list[Part]:
    parts: list[Part] = []
    table: Table | None = None
    for row in ws.iter_rows():
        cells = [c for c in row if c.value is not None and str(c.value).strip() != ""]
        if not cells:
            table = None
            continue
        first = cells[0]
        fill = first.fill.fgColor.rgb if first.fill is not None and first.fill.fill_type else None
        if fill == HEADER_FILL:
            width = max(c.column for c in cells)
            table = Table(
                [shown(ws.cell(first.row, j).value) for j in range(1, width + 1)],
                [],
                [False] * width,
            )
            parts.append(Part("table", table=table))
            continue
        if table is not None:
            values = []
            for j in range(1, len(table.header) + 1):
                cell = ws.cell(first.row, j)
                values.append(shown(cell.value, cell.number_format))
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    table.numeric[j - 1] = True
            table.rows.append(values)
            continue
        text = shown(first.value)
        if first.font is not None and first.font.sz and first.font.sz >= 13:
            parts.append(Part("title", text))
        elif first.font is not None and first.font.b:
            note = shown(cells[1].value) if len(cells) > 1 else ""
            parts.append(Part("section", text, note))
        elif first.font is not None and first.font.i:
            parts.append(Part("note", text))
        else:
            parts.append(Part("text", " ".join(shown(c.value, c.number_format) for c in cells)))
    return parts


def _title(chart: Any) -> str:
    try:
        return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    except AttributeError:
        return ""


def _range(wb: Any, ref: str | None) -> list[Any]:
    """The values of ``Sheet!$A$1:$A$5`` (one row or column), top to bottom."""
    if not ref or "!" not in ref:
        return []
    sheet, cells = ref.rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    if sheet not in wb.sheetnames:
        return []
    ws = wb[sheet]
    lo_c, lo_r, hi_c, hi_r = range_boundaries(cells.replace("$", ""))
    return [ws.cell(r, c).value for r in range(lo_r, hi_r + 1) for c in range(lo_c, hi_c + 1)]


def _ref(obj: Any) -> str | None:
    if obj is None:
        return None
    for attr in ("numRef", "strRef"):
        ref = getattr(obj, attr, None)
        if ref is not None and ref.f:
            return str(ref.f)
    return None


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def _charts(wb: Any) -> list[Chart]:
    order = {name: i for i, name in enumerate(CHART_SHEETS)}
    sheets = sorted(wb.worksheets, key=lambda ws: order.get(ws.title, len(order)))
    charts = []
    for ws in sheets:
        for ch in getattr(ws, "_charts", []):
            kind = type(ch).__name__
            if kind == "BarChart":
                style = (
                    "bar"
                    if ch.barDir == "bar"
                    else ("stacked" if ch.grouping in ("stacked", "percentStacked") else "column")
                )
            elif kind in ("LineChart", "ScatterChart"):
                style = "line"
            else:
                continue
            chart = Chart(ws.title, _title(ch), style, [])
            for i, s in enumerate(ch.series):
                cats = _range(wb, _ref(getattr(s, "xVal", None)) or _ref(s.cat))
                vals = _range(wb, _ref(getattr(s, "yVal", None)) or _ref(s.val))
                if not chart.categories:
                    chart.categories = [shown(c) for c in cats] or [
                        str(j + 1) for j in range(len(vals))
                    ]
                name = ""
                if s.tx is not None:
                    got = _range(wb, s.tx.strRef.f) if s.tx.strRef is not None else [s.tx.v]
                    name = shown(got[0]) if got else ""
                chart.series.append(Series(name or f"Series {i + 1}", [_number(v) for v in vals]))
            if chart.series:
                charts.append(chart)
    return charts


# --- SVG ------------------------------------------------------------------------------------
# Drawn with presentation attributes only (no style attribute, no script): the page's
# Content-Security-Policy allows no inline style or script.


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + k * step for k in range(int(math.ceil((hi - start) / step)) + 1)]


def _label(v: float) -> str:
    a = abs(v)
    if a < 1e-6:  # solver noise (-2.4e-07) reads as nothing
        return "0"
    if a >= 1e9:
        return f"{v / 1e9:,.3g} bn"
    if a >= 1e6:
        return f"{v / 1e6:,.3g} m"
    if a >= 1e4:
        return f"{v / 1e3:,.3g} k"
    return f"{v:,.4g}"


def svg(chart: Chart, colours: dict[str, str] | None = None) -> str:
    """The chart as an SVG element (its text escaped); ``colours`` by series name."""
    colours = colours or {}
    fill = [colours.get(s.name, PALETTE[j % len(PALETTE)]) for j, s in enumerate(chart.series)]
    if chart.kind == "bar":
        return _hbars(chart, fill)
    return _columns_or_lines(chart, fill)


def _legend(chart: Chart, y: float, width: float, fill: list[str]) -> tuple[str, float]:
    if len(chart.series) < 2:
        return "", y
    out, x = [], 10.0
    for i, s in enumerate(chart.series):
        text = s.name[:40]
        need = 18 + 7 * len(text)
        if x + need > width:
            x, y = 10.0, y + 18
        out.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{fill[i]}"/>')
        out.append(f'<text x="{x + 16:.0f}" y="{y:.0f}" font-size="12">{_esc(text)}</text>')
        x += need + 10
    return "".join(out), y + 18


def _svg(chart: Chart, parts: list[str], legend_y: float, width: int, fill: list[str]) -> str:
    """The drawn ``parts``, the legend under them (from ``legend_y``), in one SVG element."""
    legend, bottom = _legend(chart, legend_y, width, fill)
    h = bottom + 6
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h:.0f}" '
        f'width="{width}" height="{h:.0f}" role="img" aria-label="{_esc(chart.title)}" '
        f'font-family="sans-serif">{"".join(parts)}{legend}</svg>'
    )


def _hbars(chart: Chart, fill: list[str]) -> str:
    n_cat, n_ser = len(chart.categories), len(chart.series)
    bar, gap = 16, 10
    left, right, top = 200, 90, 30
    width = 720
    plot_w = width - left - right
    values = [v for s in chart.series for v in s.values if v is not None]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    ticks = _ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    scale = plot_w / (hi - lo) if hi > lo else 1.0
    height_plot = n_cat * (n_ser * bar + gap)

    def x(v: float) -> float:
        return left + (v - lo) * scale

    out = [f'<text x="10" y="18" font-size="14" font-weight="bold">{_esc(chart.title)}</text>']
    for t in ticks:
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + height_plot}" '
            'stroke="#d9d9d9"/>'
        )
        out.append(
            f'<text x="{x(t):.1f}" y="{top + height_plot + 14}" font-size="11" '
            f'text-anchor="middle">{_esc(_label(t))}</text>'
        )
    for i, cat in enumerate(chart.categories):
        y0 = top + i * (n_ser * bar + gap) + gap / 2
        short = cat if len(cat) <= 30 else cat[:29] + "…"
        out.append(
            f'<text x="{left - 6}" y="{y0 + n_ser * bar / 2 + 4:.1f}" font-size="12" '
            f'text-anchor="end"><title>{_esc(cat)}</title>{_esc(short)}</text>'
        )
        for j, s in enumerate(chart.series):
            v = s.values[i] if i < len(s.values) else None
            if v is None:
                continue
            x0, x1 = sorted((x(0.0), x(v)))
            out.append(
                f'<rect x="{x0:.1f}" y="{y0 + j * bar:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                f'height="{bar - 2}" fill="{fill[j]}">'
                f"<title>{_esc(s.name)}: {_esc(shown(v, '#,##0.0'))}</title></rect>"
            )
            out.append(
                f'<text x="{x1 + 4:.1f}" y="{y0 + j * bar + bar - 5:.1f}" font-size="11">'
                f"{_esc(_label(v))}</text>"
            )
    return _svg(chart, out, top + height_plot + 36, width, fill)


def _columns_or_lines(chart: Chart, fill: list[str]) -> str:
    n_cat = max(len(chart.categories), 1)
    left, right, top, width, plot_h = 80, 20, 30, 720, 220
    plot_w = width - left - right
    if chart.kind == "stacked":
        pos = [
            sum(max(s.values[i] or 0.0, 0.0) for s in chart.series if i < len(s.values))
            for i in range(n_cat)
        ]
        neg = [
            sum(min(s.values[i] or 0.0, 0.0) for s in chart.series if i < len(s.values))
            for i in range(n_cat)
        ]
        lo, hi = min([0.0, *neg]), max([0.0, *pos])
    else:
        values = [v for s in chart.series for v in s.values if v is not None]
        lo, hi = min([0.0, *values]), max([0.0, *values])
    ticks = _ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    scale = plot_h / (hi - lo) if hi > lo else 1.0
    slot = plot_w / n_cat

    def y(v: float) -> float:
        return top + plot_h - (v - lo) * scale

    out = [f'<text x="10" y="18" font-size="14" font-weight="bold">{_esc(chart.title)}</text>']
    for t in ticks:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            'stroke="#d9d9d9"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y(t) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_esc(_label(t))}</text>"
        )
    # every k-th category labelled, k such that labels (about 6.5 px a character) do not touch
    widest = max((min(len(c), 16) for c in chart.categories), default=1)
    every = max(1, math.ceil((widest * 6.5 + 8) / slot))
    for i, cat in enumerate(chart.categories):
        if i % every == 0:
            out.append(
                f'<text x="{left + slot * (i + 0.5):.1f}" y="{top + plot_h + 16}" '
                f'font-size="11" text-anchor="middle">{_esc(cat[:16])}</text>'
            )
    if chart.kind == "line":
        for j, s in enumerate(chart.series):
            colour = fill[j]
            pts = [(left + slot * (i + 0.5), y(v)) for i, v in enumerate(s.values) if v is not None]
            if len(pts) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
                out.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            for (px, py), v in zip(pts, [v for v in s.values if v is not None], strict=True):
                out.append(
                    f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                    f"<title>{_esc(s.name)}: {_esc(shown(v, '#,##0.0'))}</title></circle>"
                )
    else:
        n_ser = 1 if chart.kind == "stacked" else len(chart.series)
        bw = slot * 0.7 / n_ser
        for i in range(n_cat):
            up = down = 0.0
            for j, s in enumerate(chart.series):
                v = s.values[i] if i < len(s.values) else None
                if v is None:
                    continue
                colour = fill[j]
                if chart.kind == "stacked":
                    base = up if v >= 0 else down
                    y0, y1 = sorted((y(base), y(base + v)))
                    if v >= 0:
                        up += v
                    else:
                        down += v
                    x0 = left + slot * i + slot * 0.15
                else:
                    y0, y1 = sorted((y(0.0), y(v)))
                    x0 = left + slot * i + slot * 0.15 + j * bw
                cat = chart.categories[i] if i < len(chart.categories) else ""
                out.append(
                    f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{bw:.1f}" '
                    f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}">'
                    f"<title>{_esc(s.name)}, {_esc(cat)}: {_esc(shown(v, '#,##0.0'))}"
                    "</title></rect>"
                )
    return _svg(chart, out, top + plot_h + 40, width, fill)
