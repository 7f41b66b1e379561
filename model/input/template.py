"""Write input workbooks: the blank template, and filled ones (examples, tests, benchmarks).

Every sheet of :data:`model.input.workbook.SHEETS` gets its header, frozen header row, column
widths, number formats and dropdowns (Excel data validation) for reference columns and keywords; an
``Instructions`` sheet explains each column with its unit and default.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from model.input.validate import SETTINGS
from model.input.workbook import NUMBER, PERCENT, SHEET_SPECS, SHEETS, Column

LIST_ROWS = 2000  # how far down the dropdowns and reference lists reach
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")

LIVE_ROWS = 300  # rows of another sheet a live list (EACH/ALL + materials) follows
# Countries offered in the dropdowns of a new workbook (any other name may be typed).
STARTER_COUNTRIES = (
    "Australia",
    "Brazil",
    "Canada",
    "China",
    "Estonia",
    "France",
    "India",
    "Japan",
    "Malaysia",
    "Myanmar",
    "Russia",
    "South Africa",
    "United Kingdom",
    "USA",
    "Vietnam",
)
# Dropdown sources on the hidden Lists sheet, one column each. Fixed keywords; lists of the
# names in the workbook when it was written (countries, suppliers: a dropdown cannot merge
# and de-duplicate columns of other sheets, so these are a snapshot that suggests, and any
# other name may be typed); and live lists that follow a sheet (EACH/ALL then its names).
KEYWORDS = {
    "Basis (caps)": ["Mine country", "Refine country", "Supplier"],
    "Basis (scenarios)": [
        "Mine country",
        "Refine country",
        "Supplier",
        "Material",
        "Sector",
    ],
    "Effect": ["Capacity", "Price", "Demand"],
    "Setting": list(SETTINGS),
    "Setting value": ["Yes", "No", "Auto"],
}
SNAPSHOTS = ("Countries", "Groups", "Targets", "Supplier names")
LIVE = {"Materials (caps)": "Materials", "Sectors (caps)": "Sectors"}
LIST_NAMES = (*KEYWORDS, *SNAPSHOTS, *LIVE)


def _ref(sheet: str, column: str = "A") -> str:
    return f"{sheet}!${column}$2:${column}${LIST_ROWS}"


def _list_ref(name: str) -> str:
    col = get_column_letter(LIST_NAMES.index(name) + 1)
    return f"Lists!${col}$2:${col}${LIST_ROWS}"


# (sheet, column) -> (list formula, strict). Non-strict lists suggest but accept other values
# (`check` verifies them).
DROPDOWNS: dict[tuple[str, str], tuple[str, bool]] = {
    ("Settings", "Setting"): (_list_ref("Setting"), False),
    ("Settings", "Value"): (_list_ref("Setting value"), False),
    ("Demand", "Sector"): (_ref("Sectors"), True),
    ("Demand", "Material"): (_ref("Materials"), True),
    ("Suppliers", "Material"): (_ref("Materials"), True),
    ("Suppliers", "Mine country"): (_list_ref("Countries"), False),
    ("Suppliers", "Refine country"): (_list_ref("Countries"), False),
    ("Suppliers", "First period"): (_ref("Periods"), True),
    ("Suppliers", "Last period"): (_ref("Periods"), True),
    ("Initial stock", "Material"): (_ref("Materials"), True),
    ("Initial stock", "Mine country"): (_list_ref("Countries"), False),
    ("Initial stock", "Refine country"): (_list_ref("Countries"), False),
    ("Initial stock", "Supplier"): (_list_ref("Supplier names"), False),
    ("Recycling", "Material"): (_ref("Materials"), True),
    ("Recycling", "Country"): (_list_ref("Countries"), False),
    ("Alternatives", "Sector"): (_ref("Sectors"), True),
    ("Alternatives", "Material"): (_ref("Materials"), True),
    ("Caps", "Basis"): (_list_ref("Basis (caps)"), True),
    ("Caps", "Group"): (_list_ref("Groups"), False),
    ("Caps", "Material"): (_list_ref("Materials (caps)"), False),
    ("Caps", "Sector"): (_list_ref("Sectors (caps)"), False),
    ("Caps", "First period"): (_ref("Periods"), True),
    ("Caps", "Last period"): (_ref("Periods"), True),
    ("Scenarios", "Effect"): (_list_ref("Effect"), True),
    ("Scenarios", "Basis"): (_list_ref("Basis (scenarios)"), True),
    ("Scenarios", "Target"): (_list_ref("Targets"), False),
    ("Scenarios", "First period"): (_ref("Periods"), True),
    ("Scenarios", "Last period"): (_ref("Periods"), True),
    ("Risks", "Effect"): (_list_ref("Effect"), True),
    ("Risks", "Basis"): (_list_ref("Basis (scenarios)"), True),
    ("Risks", "Target"): (_list_ref("Targets"), False),
}
EXTRA_HELP = {
    ("Caps", "Group"): "EACH = every country (or supplier) separately",
    ("Caps", "Material"): "EACH = each material alone, ALL = all materials pooled",
    (
        "Caps",
        "Sector",
    ): "ALL = everything bought; a sector or EACH = what those sectors receive",
    ("Scenarios", "Target"): "ALL = every offer (or every material/sector)",
    ("Risks", "Target"): "ALL = every offer (or every material/sector)",
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
    for line in (part for text in note for part in textwrap.wrap(text, 150)):
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
        _fit_height(ws, r, spec.help)
        r += 1
        for col in spec.columns:
            unit, default, help_text = _describe(col)
            extra = EXTRA_HELP.get((spec.name, col.name), "")
            ws.cell(r, 2, col.name)
            ws.cell(r, 3, unit)
            ws.cell(r, 4, default)
            meaning = "; ".join(x for x in (help_text, extra) if x)
            ws.cell(r, 5, meaning)
            _fit_height(ws, r, meaning)
            r += 1
        if spec.name == "Demand":
            ws.cell(r, 2, "<one column per period>")
            ws.cell(r, 3, "t")
            ws.cell(r, 4, "blank = 0")
            ws.cell(r, 5, "headed by the period label exactly as on the Periods sheet")
            r += 1
    for col, width in zip("ABCDE", (22, 34, 20, 14, 80), strict=True):
        ws.column_dimensions[col].width = width
    _page_setup(ws)
    ws.print_title_rows = None


MEANING_CHARS = 88  # characters of a Meaning line in the Instructions' column E


def _fit_height(ws: Any, row: int, text: str) -> None:
    """Wrap a Meaning cell and give its row the height of its lines (spreadsheet programs do
    not grow a row for wrapped text written by openpyxl)."""
    ws.cell(row, 5).alignment = Alignment(wrap_text=True, vertical="top")
    for col in range(1, 5):
        ws.cell(row, col).alignment = Alignment(vertical="top")
    lines = max(1, math.ceil(len(text) / MEANING_CHARS))
    if lines > 1:
        ws.row_dimensions[row].height = 13 * lines


def _names(rows: Mapping[str, Sequence[Mapping[str, Any]]], *where: tuple[str, str]) -> list[str]:
    found = {
        str(r[col]).strip()
        for sheet, col in where
        for r in rows.get(sheet, [])
        if r.get(col) not in (None, "")
    }
    return sorted(found, key=str.casefold)


def _lists(wb: Workbook, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    ws = wb.create_sheet("Lists")
    countries = sorted(
        set(STARTER_COUNTRIES)
        | set(
            _names(
                rows,
                ("Suppliers", "Mine country"),
                ("Suppliers", "Refine country"),
                ("Recycling", "Country"),
                ("Initial stock", "Mine country"),
                ("Initial stock", "Refine country"),
            )
        ),
        key=str.casefold,
    )
    suppliers = _names(rows, ("Suppliers", "Supplier"), ("Initial stock", "Supplier"))
    named = _names(rows, ("Materials", "Material"), ("Sectors", "Sector"))
    values: dict[str, list[str]] = {
        **KEYWORDS,
        "Countries": countries,
        "Groups": ["EACH", *countries, *suppliers],
        "Targets": ["ALL", *countries, *suppliers, *named],
        "Supplier names": suppliers,
    }
    for i, name in enumerate(LIST_NAMES, start=1):
        ws.cell(1, i, name).font = Font(bold=True)
        if name in LIVE:
            sheet = LIVE[name]
            words = ["EACH", "ALL"] + [
                f'=IF({sheet}!A{r}="","",{sheet}!A{r})' for r in range(2, LIVE_ROWS + 2)
            ]
        else:
            words = values[name]
        for j, w in enumerate(words, start=2):
            ws.cell(j, i, w)
        ws.column_dimensions[get_column_letter(i)].width = 20
    ws.sheet_state = "hidden"


def _number_check(col: Column, unit: str) -> DataValidation:
    """Excel's own check of a numeric column, with the column's meaning as the input message."""
    low = col.min
    if low is not None and col.max is not None:
        dv = DataValidation(
            type="decimal",
            operator="between",
            formula1=f"{low:g}",
            formula2=f"{col.max:g}",
        )
        rule = f"a number from {low:g} to {col.max:g}"
    elif low is not None:
        op = "greaterThan" if col.min_exclusive else "greaterThanOrEqual"
        dv = DataValidation(type="decimal", operator=op, formula1=f"{low:g}")
        rule = f"a number {'above' if col.min_exclusive else 'of at least'} {low:g}"
    else:
        dv = DataValidation(
            type="decimal", operator="between", formula1="-1E+300", formula2="1E+300"
        )
        rule = "a number"
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorTitle = "Not a number ree-plan can read"
    dv.error = f"{col.name}: type {rule}{' (' + unit + ')' if unit else ''}, e.g. 1500 or 60%."[
        :255
    ]
    dv.showInputMessage = True
    dv.promptTitle = col.name[:32]
    _, default, help_text = _describe(col)
    dv.prompt = "; ".join(x for x in (help_text, unit, default) if x)[:255]
    return dv


def _page_setup(ws: Any) -> None:
    """Print across one page wide (landscape), as many pages down as it takes."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _number_format(col: Column) -> str | None:
    if col.kind == NUMBER:
        return "#,##0.00" if "kg" in col.unit else "#,##0.###"
    return None


def _save(wb: Workbook, path: str) -> None:
    """Save whole or not at all: into a temporary file beside ``path``, renamed into place."""
    tmp = f"{path}.tmp-{os.getpid()}.xlsx"
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _header(ws: Any, columns: Sequence[str]) -> None:
    """A sheet's header row as every input workbook has it: styled, wrapped, frozen."""
    for i, name in enumerate(columns, start=1):
        cell = ws.cell(1, i, name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(28, len(name) + 4))
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"


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
        _header(ws, columns)
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
            if col.kind in (NUMBER, PERCENT):
                dv = _number_check(col, _describe(col)[0])
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{LIST_ROWS}")
            source = DROPDOWNS.get((spec.name, col.name))
            if source:
                formula, strict = source
                dv = DataValidation(
                    type="list",
                    formula1=f"={formula}",
                    allow_blank=True,
                    showErrorMessage=strict,
                )
                if strict:
                    dv.error = f"Pick a value from the list ({formula.split('!')[0]} sheet)"
                    dv.errorTitle = "Not in the list"
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{LIST_ROWS}")
        if spec.name == "Demand" and periods:
            first = get_column_letter(len(spec.columns) + 1)
            last = get_column_letter(len(columns))
            dv = _number_check(
                Column("Demand", min=0, help="tonnes this sector needs in this period"),
                "t",
            )
            ws.add_data_validation(dv)
            dv.add(f"{first}2:{last}{LIST_ROWS}")
        if spec.name == "Settings":
            ws.column_dimensions["A"].width = 24
            ws.column_dimensions["B"].width = 16
        _page_setup(ws)
    _lists(wb, rows)
    _save(wb, path)


def template_rows(settings: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The example rows of a new workbook: every setting (blank = its default), four quarters,
    and one material, sector and supplier with demand, so that the Demand sheet has its period
    columns and the workbook passes 'check' as written."""
    quarters = {"2027-Q1": 90, "2027-Q2": 91, "2027-Q3": 92, "2027-Q4": 92}
    return {
        "Settings": [{"Setting": k} for k in settings],
        "Periods": [{"Period": p, "Days": d} for p, d in quarters.items()],
        "Materials": [{"Material": "NdPr oxide", "Min cover (days)": 60}],
        "Sectors": [{"Sector": "Automotive", "Shortfall penalty (per kg)": 5000}],
        "Demand": [
            {"Sector": "Automotive", "Material": "NdPr oxide", **dict.fromkeys(quarters, 100)}
        ],
        "Suppliers": [
            {
                "Supplier": "Example supplier",
                "Material": "NdPr oxide",
                "Mine country": "Australia",
                "Refine country": "Malaysia",
                "Capacity (t per period)": 200,
                "Price (per kg)": 75,
            }
        ],
    }


def write_template(out: str | os.PathLike[str], force: bool = False) -> None:
    """A new input workbook (``ree-plan template``, the page's template): every sheet, every
    setting, and example rows that ``check`` accepts."""
    write_input_workbook(
        out,
        template_rows(list(SETTINGS)),
        force=force,
        note=[
            "New workbook: the rows already filled in are an example (one material, one"
            " sector, one supplier, four quarters) that 'ree-plan check' accepts; replace"
            " them with your own, then run 'ree-plan check' on it.",
        ],
    )


def replace_scenarios(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    note: Sequence[str] = (),
) -> None:
    """A copy of the input workbook ``src`` at ``out`` (atomically) whose Scenarios sheet holds
    ``rows`` instead (``ree-plan sample``). Formulas become their saved values (the copy is
    read like any workbook); ``Change (%)`` and ``Probability (%)`` are fractions written in
    percent-formatted cells (0.002 shows as 0.20 % and reads as 0.2); ``note`` goes to the top
    of the Instructions sheet."""
    wb = load_workbook(src, data_only=True)
    at = wb.sheetnames.index("Scenarios") if "Scenarios" in wb.sheetnames else len(wb.sheetnames)
    if "Scenarios" in wb.sheetnames:
        wb.remove(wb["Scenarios"])
    ws = wb.create_sheet("Scenarios", at)
    columns = [c.name for c in SHEET_SPECS["Scenarios"].columns]
    columns += [k for r in rows[:1] for k in r if k not in columns]  # e.g. Risk (a note)
    _header(ws, columns)
    percent = {"Change (%)", "Probability (%)"}
    for r, record in enumerate(rows, start=2):
        for i, name in enumerate(columns, start=1):
            value = record.get(name)
            if value is None:
                continue
            cell = ws.cell(r, i, value)
            if name in percent:
                cell.number_format = "0.00%"
    if note and "Instructions" in wb.sheetnames:
        ins = wb["Instructions"]
        ins.insert_rows(1, amount=len(note) + 1)
        for i, text in enumerate(note, start=1):
            ins.cell(i, 1, text).font = Font(bold=True)
    _save(wb, os.fspath(out))
