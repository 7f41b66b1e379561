"""Write input workbooks: the blank template, and filled ones (examples, tests, benchmarks).

Every sheet of :data:`model.workbook.SHEETS` gets its header, frozen header row, column widths,
number formats and dropdowns (Excel data validation) for reference columns and keywords; an
``Instructions`` sheet explains each column with its unit and default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from model.validate import SETTINGS
from model.workbook import NUMBER, PERCENT, SHEETS, Column

LIST_ROWS = 2000  # how far down the dropdowns and reference lists reach
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")

# Dropdown sources: lists on the hidden Lists sheet, or a column of another sheet.
KEYWORDS = {
    "Basis (caps)": ["Mine country", "Refine country", "Supplier"],
    "Basis (scenarios)": ["Mine country", "Refine country", "Supplier", "Material", "Sector"],
    "Effect": ["Capacity", "Price", "Demand"],
    "Group": ["EACH"],
    "Scope": ["EACH", "ALL"],
    "Target": ["ALL"],
    "Yes/No": ["Yes", "No"],
    "Setting": list(SETTINGS),
}


def _ref(sheet: str, column: str = "A") -> str:
    return f"{sheet}!${column}$2:${column}${LIST_ROWS}"


def _keyword_ref(name: str) -> str:
    col = get_column_letter(list(KEYWORDS).index(name) + 1)
    return f"Lists!${col}$2:${col}${len(KEYWORDS[name]) + 1}"


# (sheet, column) -> (list formula, strict). Non-strict lists suggest but accept other values
# (a Caps group may be a country or a supplier; `check` verifies it).
DROPDOWNS: dict[tuple[str, str], tuple[str, bool]] = {
    ("Settings", "Setting"): (_keyword_ref("Setting"), False),
    ("Demand", "Sector"): (_ref("Sectors"), True),
    ("Demand", "Material"): (_ref("Materials"), True),
    ("Suppliers", "Material"): (_ref("Materials"), True),
    ("Suppliers", "First period"): (_ref("Periods"), True),
    ("Suppliers", "Last period"): (_ref("Periods"), True),
    ("Suppliers", "Refine country"): (_ref("Suppliers", "C"), False),
    ("Recycling", "Material"): (_ref("Materials"), True),
    ("Alternatives", "Sector"): (_ref("Sectors"), True),
    ("Alternatives", "Material"): (_ref("Materials"), True),
    ("Caps", "Basis"): (_keyword_ref("Basis (caps)"), True),
    ("Caps", "Group"): (_ref("Suppliers", "C"), False),
    ("Caps", "Material"): (_ref("Materials"), False),
    ("Caps", "Sector"): (_ref("Sectors"), False),
    ("Caps", "First period"): (_ref("Periods"), True),
    ("Caps", "Last period"): (_ref("Periods"), True),
    ("Scenarios", "Effect"): (_keyword_ref("Effect"), True),
    ("Scenarios", "Basis"): (_keyword_ref("Basis (scenarios)"), True),
    ("Scenarios", "Target"): (_ref("Suppliers", "C"), False),
    ("Scenarios", "First period"): (_ref("Periods"), True),
    ("Scenarios", "Last period"): (_ref("Periods"), True),
}
EXTRA_HELP = {
    ("Caps", "Group"): "EACH = every country (or supplier) separately",
    ("Caps", "Material"): "EACH = each material alone, ALL = all materials pooled",
    ("Caps", "Sector"): "ALL = everything bought; a sector or EACH = what those sectors receive",
    ("Scenarios", "Target"): "ALL = every offer (or every material/sector)",
}


def _describe(col: Column) -> tuple[str, str, str]:
    unit = col.unit or ("%" if col.kind == PERCENT else "")
    if col.required and col.default is None:
        default = "required"
    elif col.default is None:
        default = "blank = none"
    else:
        default = f"blank = {col.default:g}" if isinstance(col.default, float) else str(col.default)
    return unit, default, col.help


def _instructions(wb: Workbook, note: Sequence[str]) -> None:
    ws = wb.create_sheet("Instructions", 0)
    ws["A1"] = "ree-plan input workbook"
    ws["A1"].font = Font(bold=True, size=14)
    r = 2
    for line in note:
        ws.cell(r, 1, line)
        r += 1
    r += 1
    for text in (
        "Fill in one table per sheet: header in row 1, data from row 2. Blank rows are skipped;"
        " extra columns are ignored (keep your notes there).",
        "Quantities are tonnes (t) of oxide; prices and costs are per kg, in the Currency set on"
        " the Settings sheet.",
        "Percentages may be typed 60 or 60%. Check the workbook with: ree-plan check BOOK.xlsx",
    ):
        ws.cell(r, 1, text)
        r += 1
    r += 1
    for i, h in enumerate(("Sheet", "Column", "Unit", "Default", "Meaning"), start=1):
        cell = ws.cell(r, i, h)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    r += 1
    for spec in SHEETS:
        ws.cell(r, 1, spec.name + ("" if spec.required else " (optional)")).font = Font(bold=True)
        ws.cell(r, 5, spec.help)
        r += 1
        for col in spec.columns:
            unit, default, help_text = _describe(col)
            extra = EXTRA_HELP.get((spec.name, col.name), "")
            ws.cell(r, 2, col.name)
            ws.cell(r, 3, unit)
            ws.cell(r, 4, default)
            ws.cell(r, 5, "; ".join(x for x in (help_text, extra) if x))
            r += 1
        if spec.name == "Demand":
            ws.cell(r, 2, "<one column per period>")
            ws.cell(r, 3, "t")
            ws.cell(r, 4, "blank = 0")
            ws.cell(r, 5, "headed by the period label exactly as on the Periods sheet")
            r += 1
    for col, width in zip("ABCDE", (22, 40, 22, 16, 90), strict=True):
        ws.column_dimensions[col].width = width


def _lists(wb: Workbook) -> None:
    ws = wb.create_sheet("Lists")
    for i, (name, words) in enumerate(KEYWORDS.items(), start=1):
        ws.cell(1, i, name).font = Font(bold=True)
        for j, w in enumerate(words, start=2):
            ws.cell(j, i, w)
        ws.column_dimensions[get_column_letter(i)].width = 20
    ws.sheet_state = "hidden"


def _number_format(col: Column) -> str | None:
    if col.kind == NUMBER:
        return "#,##0.00" if "kg" in col.unit else "#,##0.###"
    return None


def write_input_workbook(
    path: str | os.PathLike[str],
    rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    periods_in_demand: Sequence[str] | None = None,
    note: Sequence[str] = (),
    force: bool = False,
) -> None:
    """Write an input workbook with every sheet; ``rows`` fills sheets by column name.

    Demand period columns are taken from ``periods_in_demand``, else from the Periods rows.
    Refuses to overwrite an existing file unless ``force``.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not force:
        raise FileExistsError(path)
    rows = rows or {}
    wb = Workbook()
    wb.remove(wb.active)
    _instructions(wb, note)
    periods = list(periods_in_demand or [str(r["Period"]) for r in rows.get("Periods", [])])
    for spec in SHEETS:
        ws = wb.create_sheet(spec.name)
        columns = [c.name for c in spec.columns]
        if spec.name == "Demand":
            columns += periods
        for i, name in enumerate(columns, start=1):
            cell = ws.cell(1, i, name)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(i)].width = max(12, min(28, len(name) + 4))
        ws.row_dimensions[1].height = 32
        ws.freeze_panes = "A2"
        for r, record in enumerate(rows.get(spec.name, []), start=2):
            for i, name in enumerate(columns, start=1):
                value = record.get(name)
                if value is not None:
                    ws.cell(r, i, value)
        for i, col in enumerate(spec.columns, start=1):
            fmt = _number_format(col)
            letter = get_column_letter(i)
            if fmt:
                for r in range(2, max(len(rows.get(spec.name, [])) + 2, 200)):
                    ws[f"{letter}{r}"].number_format = fmt
            source = DROPDOWNS.get((spec.name, col.name))
            if source:
                formula, strict = source
                dv = DataValidation(
                    type="list", formula1=f"={formula}", allow_blank=True, showErrorMessage=strict
                )
                if strict:
                    dv.error = f"Pick a value from the list ({formula.split('!')[0]} sheet)"
                    dv.errorTitle = "Not in the list"
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{LIST_ROWS}")
        if spec.name == "Settings":
            ws.column_dimensions["A"].width = 24
            ws.column_dimensions["B"].width = 16
    _lists(wb)
    tmp = f"{path}.tmp-{os.getpid()}.xlsx"
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
