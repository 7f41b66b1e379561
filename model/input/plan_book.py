"""Reading a plan workbook that ree-plan wrote back in, for ``ree-plan compare`` (DESIGN §6).

A plan is recognised by its sheets (``Summary`` with ``Item``/``Value`` rows naming the solver,
and the plan tables of DESIGN §4); anything else is an input error naming the file. A hedge
workbook's plan sheets are its baseline copy's. Percent columns come back as percent numbers
(35 for 35 %), whether the plan stored Excel's own percentages (0.35 in a ``0.0%`` cell, since
issue 18) or percent numbers (35, before).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from model.input.issues import InputError, Issue
from model.input.workbook import file_problem

PLAN_SHEETS = ("Summary", "Purchases", "Recycling", "Stock", "Shortfall", "Concentration")


@dataclass
class PlanBook:
    """A plan workbook as read: its Summary (Item -> Value) and its tables."""

    path: str
    summary: dict[str, Any]
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def currency(self) -> str:
        return str(self.summary.get("Currency") or "")


def read_plan_book(path: str | os.PathLike[str]) -> PlanBook:
    """The plan in ``path``; an :class:`InputError` naming the file when it is not one."""
    path = os.fspath(path)
    name = os.path.basename(path) or path
    problem = file_problem(path)
    if problem:
        raise InputError([Issue(name, "", problem)])
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise InputError(
            [Issue(name, "", f"cannot be read as an .xlsx workbook ({type(exc).__name__})")]
        ) from None
    try:
        missing = [s for s in PLAN_SHEETS if s not in wb.sheetnames]
        if missing:
            what = (
                "an input workbook" if "Periods" in wb.sheetnames else "not a plan ree-plan wrote"
            )
            raise InputError(
                [
                    Issue(
                        name,
                        "",
                        f"{what}: compare takes two plans written by ree-plan (solve, stress "
                        f"or hedge); this file has no {', '.join(missing)} sheet",
                    )
                ]
            )
        summary = _summary(wb["Summary"])
        if not str(summary.get("Solver", "")).startswith("HiGHS"):
            raise InputError(
                [
                    Issue(
                        name,
                        "Summary",
                        "not a plan ree-plan wrote (its Summary names no solver); compare "
                        "takes two plans written by ree-plan",
                    )
                ]
            )
        sheets = {s: _table(wb[s]) for s in PLAN_SHEETS if s != "Summary"}
    finally:
        wb.close()
    problems = [p for s, df in sheets.items() for p in _not_numbers(name, s, df)]
    if problems:
        raise InputError(problems)
    return PlanBook(path, summary, sheets)


def _numeric_column(name: str) -> bool:
    return name.endswith(("(t)", "(%)")) or name in ("Tonnes", "Cost")


def _not_numbers(book: str, sheet: str, df: pd.DataFrame) -> list[Issue]:
    """Cells of a plan's figure columns that are not numbers (a plan edited by hand), each at
    its ``Sheet!Cell``; the columns become numbers."""
    issues = []
    for j, col in enumerate(df.columns):
        if not _numeric_column(col):
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        for i in list(bad[bad].index)[:10]:
            issues.append(
                Issue(
                    f"{book} {sheet}",
                    f"{get_column_letter(j + 1)}{i + 2}",
                    f"'{df.at[i, col]}' in {col} is not a number; was the plan edited by "
                    "hand? Write it again with ree-plan",
                )
            )
        df[col] = values.fillna(0.0)
    return issues


def _summary(ws: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in ws.iter_rows(min_row=2, max_col=2):
        item, value = row[0].value, row[1].value
        if item is None:
            continue
        if (
            isinstance(value, int | float)
            and "%" in (row[1].number_format or "")
            and ('"%"' not in row[1].number_format)
        ):
            value = value * 100.0
        out[str(item)] = value
    return out


def _table(ws: Any) -> pd.DataFrame:
    """A sheet's table, header in row 1; a percent column as percent numbers."""
    rows = ws.iter_rows()
    try:
        header = [c.value for c in next(rows)]
    except StopIteration:
        return pd.DataFrame()
    cols = [str(h) for h in header if h is not None]
    n = len(cols)
    values, fraction = [], [False] * n
    for r, row in enumerate(rows):
        cells = list(row)[:n]
        if r == 0:
            for j, c in enumerate(cells):
                fmt = c.number_format or ""
                fraction[j] = cols[j].endswith("(%)") and "%" in fmt and '"%"' not in fmt
        values.append([c.value for c in cells] + [None] * (n - len(cells)))
    df = pd.DataFrame(values, columns=cols)
    for j, c in enumerate(cols):
        if fraction[j]:
            df[c] = pd.to_numeric(df[c], errors="coerce") * 100.0
    return df
