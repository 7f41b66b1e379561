"""Read the planner's input workbook into raw tables, driven by one spec per sheet.

This is the only module that opens an input workbook. It does the per-cell work: find each
sheet and header, convert every cell to its declared type (numbers, percentages typed as 60 or
60 %, period labels Excel stored as dates, yes/no), fill defaults, skip blank rows, and record
every problem with its ``Sheet!Cell``. Cross-sheet checks live in :mod:`model.input.validate`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from model.input.issues import WARNING, InputError, Issue

_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
# A number typed as text is read only where its reading is certain (DESIGN §1): plain digits
# with an optional decimal point, or commas grouping thousands. "1.500" (a European 1,500 or
# 1.5?), "1,5", "1 500", "1.5 t" and "€60" are errors that show how to type them.
_PLAIN = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_DOT_THOUSANDS = re.compile(r"[-+]?\d{1,3}(\.\d{3})+")
HOW_TO_TYPE = "type it as a number (1500 or 1500.5; 1,500 and 1,234.5 are read too)"

# Column kinds: what a cell must hold.
TEXT = "text"  # a name; numbers and dates are turned into their label
NUMBER = "number"
PERCENT = "percent"  # 60 or 60 % both mean 60
PERIOD = "period"  # a period label (dates read as ISO dates)
YESNO = "yes/no"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, type, default and allowed range."""

    name: str
    kind: str = NUMBER
    required: bool = True  # blank is an error when there is no default
    default: Any = None
    min: float | None = None  # inclusive unless min_exclusive
    min_exclusive: bool = False
    max: float | None = None
    unit: str = ""
    help: str = ""


@dataclass(frozen=True)
class SheetSpec:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns whose combination must be unique
    help: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _opt(name: str, kind: str = NUMBER, default: Any = None, **kw: Any) -> Column:
    return Column(name, kind, required=False, default=default, **kw)


SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        "Settings",
        False,
        (Column("Setting", TEXT), _opt("Value", TEXT)),
        key=("Setting",),
        help="Run settings, one per row; a blank value keeps the default: Currency (USD),"
        " Allow shortfall (Yes), Budget per period (none), Time limit (s) (60), Sensitivity"
        " ranging (Auto: 'Holds from/to' on Marginal values for plans up to 100,000"
        " variables; Yes or No to choose), Risk weight (%) (0: the hedge minimises expected"
        " cost; 100: only the cost of the worst scenarios), Risk level (%) (90: 'worst' means"
        " the dearest 10 % of outcomes).",
    ),
    SheetSpec(
        "Periods",
        True,
        (
            Column("Period", PERIOD, help="Unique label, in planning order (e.g. 2027-Q1)"),
            Column(
                "Days",
                NUMBER,
                min=0,
                min_exclusive=True,
                unit="days",
                help="Length of the period in days",
            ),
        ),
        key=("Period",),
        help="The planning periods, in order.",
    ),
    SheetSpec(
        "Materials",
        True,
        (
            Column("Material", TEXT, help="Unique name, e.g. NdPr oxide"),
            _opt(
                "Initial stock (t)",
                default=0.0,
                min=0,
                unit="t",
                help="Stock held at the start of the first period",
            ),
            _opt(
                "Min cover (days)",
                default=0.0,
                min=0,
                unit="days",
                help="Stock floor: this many days of the period's demand",
            ),
            _opt("Max stock (t)", min=0, unit="t", help="Stock ceiling; blank = none"),
            _opt(
                "Holding cost (per kg per period)",
                default=0.0,
                min=0,
                unit="currency/kg/period",
                help="Cost of holding stock",
            ),
            _opt(
                "Max draw (t per period)",
                min=0,
                unit="t/period",
                help="Most that can be drawn from stock in one period; blank = no limit",
            ),
            _opt(
                "Below-floor penalty (per kg per period)",
                min=0,
                min_exclusive=True,
                unit="currency/kg/period",
                help="Cost of being below the floor; blank = the floor is hard",
            ),
        ),
        key=("Material",),
        help="Each rare earth material (oxide) planned, with its stockpile rules.",
    ),
    SheetSpec(
        "Sectors",
        True,
        (
            Column("Sector", TEXT, help="Unique name, e.g. Defense"),
            Column(
                "Shortfall penalty (per kg)",
                NUMBER,
                min=0,
                min_exclusive=True,
                unit="currency/kg",
                help="Cost of one kg of unmet demand; higher = served first",
            ),
        ),
        key=("Sector",),
        help="Demand sectors and what a kg of unmet demand costs each.",
    ),
    SheetSpec(
        "Demand",
        True,
        (
            Column("Sector", TEXT),
            Column("Material", TEXT),
            _opt(
                "Shortfall penalty (per kg)",
                min=0,
                min_exclusive=True,
                unit="currency/kg",
                help="This row's penalty per kg short, instead of the sector's (a sector's"
                " terbium can be worth more than its NdPr); blank = the sector's",
            ),
        ),
        key=("Sector", "Material"),
        help="Demand in tonnes: one row per sector and material, one column per period.",
    ),
    SheetSpec(
        "Suppliers",
        True,
        (
            Column("Supplier", TEXT),
            Column("Material", TEXT),
            Column("Mine country", TEXT),
            Column("Refine country", TEXT),
            Column("Capacity (t per period)", NUMBER, min=0, unit="t/period"),
            Column("Price (per kg)", NUMBER, min=0, unit="currency/kg"),
            _opt(
                "Min purchase (t per period)",
                default=0.0,
                min=0,
                unit="t/period",
                help="Take-or-pay minimum while the offer is available",
            ),
            _opt("First period", PERIOD, help="First period the offer is available; blank = first"),
            _opt("Last period", PERIOD, help="Last period the offer is available; blank = last"),
        ),
        key=("Supplier", "Material"),
        help="Purchase offers: one row per supplier and material.",
    ),
    SheetSpec(
        "Initial stock",
        False,
        (
            Column("Material", TEXT),
            Column("Tonnes", NUMBER, min=0, min_exclusive=True, unit="t"),
            _opt("Mine country", TEXT, help="Where it was mined; blank = unknown"),
            _opt("Refine country", TEXT, help="Where it was refined; blank = unknown"),
            _opt("Supplier", TEXT, help="Who sold it; blank = unknown"),
        ),
        help="Stock held at the start, one lot per row, with the origin the caps see (a blank"
        " origin counts on neither side of a cap). A material's initial stock is either these"
        " rows or its Initial stock (t) on Materials, not both.",
    ),
    SheetSpec(
        "Recycling",
        False,
        (
            Column("Stream", TEXT),
            Column("Material", TEXT),
            Column("Country", TEXT),
            Column("Capacity (t per period)", NUMBER, min=0, unit="t/period"),
            Column("Cost (per kg)", NUMBER, min=0, unit="currency/kg"),
        ),
        key=("Stream", "Material"),
        help="Recycling streams: sources whose mine and refine country are their Country.",
    ),
    SheetSpec(
        "Alternatives",
        False,
        (
            Column("Sector", TEXT),
            Column("Material", TEXT),
            Column(
                "Max share (%)",
                PERCENT,
                min=0,
                max=100,
                unit="%",
                help="Most of the sector's demand the substitute can avoid",
            ),
            Column(
                "Cost (per kg)",
                NUMBER,
                min=0,
                unit="currency/kg",
                help="Cost per kg of demand avoided",
            ),
        ),
        key=("Sector", "Material"),
        help="Rare-earth-free substitutes that avoid part of a sector's demand.",
    ),
    SheetSpec(
        "Caps",
        False,
        (
            Column("Rule", TEXT),
            Column("Basis", TEXT, help="Mine country, Refine country or Supplier"),
            Column("Group", TEXT, help="A name of that basis, or EACH"),
            Column("Material", TEXT, help="A material, EACH or ALL"),
            Column("Sector", TEXT, help="A sector, EACH or ALL (ALL = everything bought)"),
            Column("Max share (%)", PERCENT, min=0, max=100, unit="%"),
            _opt("First period", PERIOD),
            _opt("Last period", PERIOD),
        ),
        key=("Rule",),
        help="Concentration caps: no group may exceed this share.",
    ),
    SheetSpec(
        "Scenarios",
        False,
        (
            Column("Scenario", TEXT),
            Column("Effect", TEXT, help="Capacity, Price or Demand"),
            Column(
                "Basis", TEXT, help="Mine country, Refine country, Supplier, Material or Sector"
            ),
            Column("Target", TEXT, help="A name of that basis, or ALL"),
            Column("Change (%)", PERCENT, min=-100, unit="%", help="-100 = stops entirely"),
            _opt("First period", PERIOD),
            _opt("Last period", PERIOD),
            _opt(
                "Probability (%)",
                PERCENT,
                min=0,
                max=100,
                unit="%",
                help="For 'ree-plan hedge': the chance that this shock starts within the"
                " planning horizon (10 = one in ten); 100 less all scenarios' chances is the"
                " chance that no shock comes. Give it on any of the scenario's rows (equal"
                " where given twice); blank = 0: the hedge leaves the scenario out",
            ),
        ),
        help="Disruption scenarios; rows with the same name form one scenario.",
    ),
    SheetSpec(
        "Risks",
        False,
        (
            Column("Risk", TEXT),
            Column("Effect", TEXT, help="Capacity, Price or Demand (as on Scenarios)"),
            Column(
                "Basis", TEXT, help="Mine country, Refine country, Supplier, Material or Sector"
            ),
            Column("Target", TEXT, help="A name of that basis, or ALL"),
            Column("Change (%)", PERCENT, min=-100, unit="%", help="-100 = stops entirely"),
            Column(
                "Chance per year (%)",
                PERCENT,
                min=0,
                min_exclusive=True,
                max=100,
                unit="%",
                help="How likely an episode is to start within a year (10 = one year in ten)",
            ),
            Column(
                "Duration (periods)",
                NUMBER,
                min=1,
                unit="periods",
                help="How long an episode lasts on average, in periods (1 = exactly one)",
            ),
        ),
        key=("Risk",),
        help="What can go wrong, for 'ree-plan sample' and 'ree-plan risk': each risk starts"
        " episodes at random (its chance per year) lasting its duration on average; risks are"
        " independent.",
    ),
)
SHEET_SPECS = {s.name: s for s in SHEETS}


@dataclass
class Table:
    """One sheet read: canonical column names, typed values, and where each row came from."""

    sheet: str
    df: pd.DataFrame  # canonical columns plus "_row", the Excel row number
    letters: dict[str, str] = field(default_factory=dict)  # column -> Excel column letter
    present: bool = True

    def cell(self, column: str, row: int) -> str:
        letter = self.letters.get(column, "?")
        return f"{self.sheet}!{letter}{row}"


@dataclass
class RawBook:
    path: str
    tables: dict[str, Table]
    period_columns: list[tuple[str, str]]  # Demand: (period label, column letter)
    issues: list[Issue]


def period_label(value: Any) -> str:
    """The label of a period as the planner sees it; Excel dates become ISO dates."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _norm(header: Any) -> str:
    return " ".join(str(header).split()).casefold() if header is not None else ""


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _convert(value: Any, fmt: str | None, col: Column) -> tuple[Any, str | None]:
    """Convert one non-blank cell; return (value, problem)."""
    if col.kind in (TEXT, PERIOD):
        if (
            col.kind == TEXT
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and fmt is not None
            and "%" in str(fmt)
        ):
            return f"{float(value) * 100:g}%", None  # 60 % typed in a text column (Settings)
        if col.kind == PERIOD or isinstance(value, dt.date | dt.datetime):
            return period_label(value), None
        if isinstance(value, float) and value.is_integer():
            return str(int(value)), None
        return str(value).strip(), None
    if col.kind == YESNO:
        word = str(value).strip().casefold()
        if word in ("yes", "y", "true", "1"):
            return True, None
        if word in ("no", "n", "false", "0"):
            return False, None
        return None, f"'{value}' is not Yes or No"
    # numbers and percentages
    percent_typed = False
    if isinstance(value, bool):
        return None, f"'{value}' is not a number"
    if isinstance(value, int | float):
        number = float(value)
        percent_typed = col.kind == PERCENT and fmt is not None and "%" in fmt
    else:
        text = str(value).strip()
        if col.kind == PERCENT and text.endswith("%"):
            text, percent_typed = text[:-1].strip(), False
        what = "a percentage" if col.kind == PERCENT else "a number"
        if _DOT_THOUSANDS.fullmatch(text):
            return None, f"'{value}' is ambiguous (1.5 or 1500?); {HOW_TO_TYPE}"
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        elif not _PLAIN.fullmatch(text):
            return None, f"'{value}' is not {what}; {HOW_TO_TYPE}"
        number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        return None, f"'{value}' is not a finite number"
    if percent_typed:
        number *= 100.0
    return number, None


# The largest magnitude a cell may hold. Costs are tonnes x 1000 x price, and HiGHS takes
# 1e20 for infinity and struggles far below it: a demand of 1e30 made it refuse the matrices.
MAX_NUMBER = 1e12


def _range_problem(number: float, col: Column) -> str | None:
    unit = " %" if col.kind == PERCENT else ""
    if abs(number) > MAX_NUMBER:
        return (
            f"is {number:g}, beyond what the solver can take; the largest accepted is "
            f"{MAX_NUMBER:g}"
        )
    if col.min is not None:
        if col.min_exclusive and number <= col.min:
            return f"must be greater than {col.min:g}{unit}, not {number:g}"
        if not col.min_exclusive and number < col.min:
            return f"must be at least {col.min:g}{unit}, not {number:g}"
    if col.max is not None and number > col.max:
        return f"must be at most {col.max:g}{unit}, not {number:g}"
    return None


def _rows(ws: Any, formulas: Any) -> tuple[list[Any], list[tuple[int, list[Any], list[Any]]]]:
    """Header cells and (row number, values, number formats) of the non-blank data rows.

    ``formulas`` is the same sheet opened without saved values; a cell that is blank in ``ws``
    but holds a formula there is a formula Excel never calculated.
    """
    header: list[Any] = []
    data: list[tuple[int, list[Any], list[Any]]] = []
    formula_rows = formulas.iter_rows(values_only=True) if formulas is not None else None
    for r, row in enumerate(ws.iter_rows(), start=1):
        frow = next(formula_rows, None) if formula_rows is not None else None
        values = [getattr(c, "value", None) for c in row]
        if frow is not None:
            values = [
                _UNCALCULATED
                if v is None and i < len(frow) and isinstance(frow[i], str) and frow[i][:1] == "="
                else v
                for i, v in enumerate(values)
            ]
        if r == 1:
            header = values
            continue
        if all(_is_blank(v) for v in values):
            continue
        formats = [getattr(c, "number_format", None) for c in row]
        data.append((r, values, formats))
    return header, data


class _Uncalculated:
    def __repr__(self) -> str:
        return "<formula without a saved value>"


_UNCALCULATED = _Uncalculated()


_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"  # .xlsx is a zip; .xls and encrypted files OLE


def file_problem(path: str) -> str | None:
    """What is wrong with ``path`` as an input file, in a planner's words (None: try it)."""
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "file not found; check the path"
    except OSError as exc:
        return f"cannot be read ({exc.strerror}); check the path and its permissions"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a workbook; give the path of an .xlsx file"
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        return "is not a regular file; give the path of an .xlsx file"
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        return f"cannot be read ({exc.strerror}); check its permissions"
    if head == _OLE:
        return (
            "is an old .xls workbook or a password-protected one; open it in Excel or "
            "LibreOffice, remove any password, and save it as an Excel workbook (.xlsx)"
        )
    if head != _ZIP:
        return "is not an .xlsx workbook; save it from Excel or LibreOffice as .xlsx"
    return None


def read_workbook(path: str | os.PathLike[str]) -> RawBook:
    """Read every sheet of DESIGN §1 from ``path``; problems are collected, never raised.

    Raises :class:`model.input.issues.InputError` only when the file cannot be opened at all.
    """
    path = os.fspath(path)
    problem = file_problem(path)
    if problem:
        raise InputError([Issue(os.path.basename(path) or path, "", problem)])
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        wf = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise InputError(
            [
                Issue(
                    os.path.basename(path),
                    "",
                    f"cannot be read as an .xlsx workbook ({type(exc).__name__}); open it in "
                    "Excel or LibreOffice and save it as an Excel workbook (.xlsx)",
                )
            ]
        ) from None
    issues: list[Issue] = []
    sheets = set(wb.sheetnames)
    if "Periods" not in sheets and (
        {"Summary", "Allocation"} <= sheets or {"Overview", "Frontier"} <= sheets
    ):
        wb.close()
        wf.close()
        raise InputError(
            [
                Issue(
                    os.path.basename(path),
                    "",
                    "this is a workbook written by ree-plan (a plan), not an input workbook; "
                    "run ree-plan on the input it came from (a plan's Summary names it in "
                    "'Input file')",
                )
            ]
        )
    by_name: dict[str, list[str]] = {}
    for n in wb.sheetnames:  # hidden sheets too: a hidden near-copy must not stand in silently
        by_name.setdefault(_norm(n), []).append(n)
    tables: dict[str, Table] = {}
    period_columns: list[tuple[str, str]] = []
    try:
        for spec in SHEETS:
            candidates = by_name.get(_norm(spec.name), [])
            if len(candidates) > 1:
                names = " and ".join(f"'{n}'" for n in candidates)
                issues.append(
                    Issue(
                        spec.name,
                        "",
                        f"sheets {names} all read as the {spec.name} sheet (names match "
                        "ignoring case and spaces); keep one: delete or rename the others "
                        "(a hidden sheet counts too: Format > Sheet > Unhide in Excel)",
                    )
                )
                tables[spec.name] = _empty_table(spec)
                continue
            actual = candidates[0] if candidates else None
            if actual is None:
                if spec.required:
                    issues.append(
                        Issue(
                            spec.name,
                            "",
                            f"the workbook has no '{spec.name}' sheet; "
                            "add it (run 'ree-plan template' for a blank workbook)",
                        )
                    )
                tables[spec.name] = _empty_table(spec)
                continue
            header, rows = _rows(wb[actual], wf[actual])
            table, extra = _read_table(spec, header, rows, issues)
            tables[spec.name] = table
            if spec.name == "Demand":
                period_columns = extra
    finally:
        wb.close()
        wf.close()
    return RawBook(path, tables, period_columns, issues)


def _empty_table(spec: SheetSpec) -> Table:
    df = pd.DataFrame({c.name: pd.Series(dtype=object) for c in spec.columns})
    df["_row"] = pd.Series(dtype=int)
    return Table(spec.name, df, {}, present=False)


def _read_table(
    spec: SheetSpec,
    header: list[Any],
    rows: list[tuple[int, list[Any], list[Any]]],
    issues: list[Issue],
) -> tuple[Table, list[tuple[str, str]]]:
    positions: dict[str, int] = {}
    known = {_norm(col.name): col.name for col in spec.columns}
    for i, h in enumerate(header):
        key = _norm(h)
        name = known.get(key)
        if name is None:
            continue
        if name in positions:  # a second column for the same field would be ignored silently
            issues.append(
                Issue(
                    spec.name,
                    f"{get_column_letter(i + 1)}1",
                    f"a second '{name}' column (the first is column "
                    f"{get_column_letter(positions[name] + 1)}); keep one",
                )
            )
        else:
            positions[name] = i
    # A header that is a near miss of a column not found (`Max stok (t)`) would drop that
    # column silently; planners' own extra columns are far from every known name.
    missing = {_norm(n): n for n in known.values() if n not in positions}
    for i, h in enumerate(header):
        key = _norm(h)
        if not key or key in known or isinstance(h, dt.date | dt.datetime | int | float):
            continue
        close = difflib.get_close_matches(key, list(missing), n=1, cutoff=0.8)
        if close:
            issues.append(
                Issue(
                    spec.name,
                    f"{get_column_letter(i + 1)}1",
                    f"the header '{h}' is not a column ree-plan knows (did you mean "
                    f"'{missing[close[0]]}'?); fix the spelling, or rename it if it is a note",
                )
            )
    letters = {name: get_column_letter(i + 1) for name, i in positions.items()}
    for col in spec.columns:
        if col.name not in positions and col.required:  # a missing optional column = blank
            issues.append(
                Issue(
                    spec.name,
                    "1",
                    f"no '{col.name}' column; add a column headed '{col.name}' in row 1",
                )
            )
    # Demand: every other column headed by a date, or holding a number, is a period column;
    # a column of text (or nothing) is the planner's notes and is ignored like any extra column.
    period_columns: list[tuple[str, str]] = []
    period_pos: list[tuple[str, int]] = []
    if spec.name == "Demand":
        for i, h in enumerate(header):
            if i in positions.values() or _is_blank(h):
                continue
            cells = [v[i] for _, v, _ in rows if i < len(v) and not _is_blank(v[i])]
            numeric = any(isinstance(v, int | float) and not isinstance(v, bool) for v in cells)
            if isinstance(h, dt.date | dt.datetime | int | float) or numeric:
                label = period_label(h)
                period_columns.append((label, get_column_letter(i + 1)))
                key = f"period:{label}"
                if any(k == key for k, _ in period_pos):  # a second column for one period
                    key = f"{key}#{i}"  # validation reports it; keep the records aligned
                period_pos.append((key, i))

    records: dict[str, list[Any]] = {c.name: [] for c in spec.columns}
    records["_row"] = []
    for key, _ in period_pos:
        records.setdefault(key, [])
    period_col = Column("demand", NUMBER, required=False, default=0.0, min=0)
    for r, values, formats in rows:
        records["_row"].append(r)
        for col in spec.columns:
            i = positions.get(col.name)
            if i is None:  # a missing column is one error at the header, not one per row
                records[col.name].append(col.default)
                continue
            v = values[i] if i < len(values) else None
            f = formats[i] if i < len(formats) else None
            records[col.name].append(_cell(spec.name, letters[col.name], r, v, f, col, issues))
        for key, i in period_pos:
            v = values[i] if i < len(values) else None
            f = formats[i] if i < len(formats) else None
            records[key].append(
                _cell(spec.name, get_column_letter(i + 1), r, v, f, period_col, issues)
            )
    # object dtype keeps None as None (pandas would otherwise infer str columns with NaN)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in records.items()})
    for key, i in period_pos:
        letters[key] = get_column_letter(i + 1)
    return Table(spec.name, df, letters), period_columns


def _cell(
    sheet: str, letter: str, row: int, value: Any, fmt: Any, col: Column, issues: list[Issue]
) -> Any:
    where = f"{letter}{row}"
    if value is _UNCALCULATED:
        issues.append(
            Issue(
                sheet,
                where,
                "holds a formula with no saved value; open the "
                "workbook in Excel or LibreOffice and save it, then run again",
            )
        )
        return None
    if _is_blank(value):
        if col.default is not None or not col.required:
            return col.default
        issues.append(Issue(sheet, where, f"'{col.name}' is blank; fill it in"))
        return None
    converted, problem = _convert(value, fmt, col)
    if (
        problem is None
        and col.name in ("Max share (%)", "Change (%)", "Probability (%)")
        and isinstance(value, int | float)
        and not (fmt is not None and "%" in str(fmt))
        and 0 < abs(converted) <= 1
    ):
        issues.append(
            Issue(
                sheet,
                where,
                f"'{col.name}' is {converted:g} %; if you meant {converted * 100:g} %, type "
                f"{converted * 100:g} (or {converted * 100:g}%)",
                WARNING,
            )
        )
    if problem is None and col.kind in (NUMBER, PERCENT):
        problem = _range_problem(converted, col)
        if problem is not None:
            problem = f"'{col.name}' {problem}"
    elif problem is not None:
        problem = f"'{col.name}': {problem}"
    if problem is not None:
        issues.append(Issue(sheet, where, problem))
        return None
    return converted
