"""Plan tables -> the plan workbook (DESIGN §4). The only module that writes a plan.

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
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from model.results import Plan

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TONNES = "#,##0.0"
PERCENT = '0.0"%"'
DAYS = "#,##0"

SUMMARY_MONEY = (
    "Total cost",
    "Purchase cost",
    "Recycling cost",
    "Holding cost",
    "Alternatives cost",
    "Shortfall penalty",
    "Below-floor penalty",
)


class OutputError(Exception):
    pass


def _money(currency: str) -> str:
    safe = currency.replace('"', "")
    return f'#,##0 "{safe}"'


def _format_for(column: str, currency: str) -> str | None:
    if column.endswith("(t)") or column == "Tonnes":
        return TONNES
    if column in ("Cost", "Total cost", "Extra cost"):
        return _money(currency)
    if column.endswith("(%)"):
        return PERCENT
    if column == "Days of cover":
        return DAYS
    return None


def _write_table(wb: Workbook, name: str, df: pd.DataFrame, currency: str) -> None:
    ws = wb.create_sheet(name)
    cols = [c for c in df.columns if not str(c).startswith("_")]
    ws.append(cols)
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    data = df[cols]
    for row in data.itertuples(index=False, name=None):
        ws.append([_cell_value(v) for v in row])
    n = len(data)
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        fmt = _format_for(str(col), currency)
        if fmt and n:
            for (cell,) in ws.iter_rows(min_row=2, max_row=n + 1, min_col=j, max_col=j):
                cell.number_format = fmt
        sample = [len(str(col))] + [len(_shown(v, fmt)) for v in data[col].head(200)]
        ws.column_dimensions[letter].width = min(48, max(10, max(sample) + 3))
    ws.freeze_panes = "A2"
    _print_setup(ws)
    if n:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{n + 1}"


def _print_setup(ws: Any) -> None:
    """Print across one page wide, landscape, header row repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _cell_value(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def _shown(v: Any, fmt: str | None) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float) and math.isnan(v):
            return ""
        return f"{v:,.1f}" if fmt else f"{v:g}"
    return str(v)


def _write_summary(wb: Workbook, summary: Mapping[str, Any], currency: str) -> None:
    ws = wb.create_sheet("Summary")
    ws.append(["Item", "Value"])
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for k, v in summary.items():
        ws.append([k, _cell_value(v)])
        cell = ws.cell(ws.max_row, 2)
        if k in SUMMARY_MONEY:
            cell.number_format = _money(currency)
        elif k.endswith("(t)"):
            cell.number_format = TONNES
    _print_setup(ws)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = max(
        24, min(80, max(len(str(v)) for v in summary.values()) + 4)
    )
    ws.freeze_panes = "A2"


def write_plan(
    path: str | os.PathLike[str],
    plan: Plan,
    input_path: str,
    extra_sheets: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the plan workbook at ``path`` (atomically); return the path written."""
    out = Path(path)
    if out.exists() and os.path.exists(input_path) and os.path.samefile(out, input_path):
        raise OutputError(
            f"refusing to write the plan over the input workbook {input_path}; "
            "choose another path with -o"
        )
    if out.resolve() == Path(input_path).resolve():
        raise OutputError(f"refusing to write the plan over the input workbook {input_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    currency = str(plan.summary.get("Currency", ""))
    wb = Workbook()
    wb.remove(wb.active)
    _write_summary(wb, plan.summary, currency)
    sheets: dict[str, pd.DataFrame] = dict(plan.sheets)
    sheets.update(extra_sheets or {})
    for name, df in sheets.items():
        _write_table(wb, name, df, currency)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
