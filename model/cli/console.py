"""What the command line prints and how it exits: exit codes, issues, JSON, default output
paths. Imported by the command line (:mod:`model.cli`) and by the stages it runs
(:mod:`model.studies.baseline`), so that neither imports the other."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from model.input.issues import Issue

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


def print_issues(issues: list[Issue], stream: Any = None) -> None:
    stream = stream or sys.stderr
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity != "error"]
    if errors:
        print(f"{len(errors)} problem(s) to fix:", file=stream)
        for i in errors:
            print(f"  {i}", file=stream)
    if warnings:
        print(f"{len(warnings)} warning(s):", file=stream)
        for i in warnings:
            print(f"  {i}", file=stream)


def default_out(book: str, suffix: str) -> Path:
    return Path("outputs") / f"{Path(book).stem}-{suffix}.xlsx"


def issue_json(issue: Issue) -> dict[str, str]:
    """An error or warning for ``--json``: where (``Sheet!Cell``), sheet, cell, message."""
    return {
        "where": issue.where,
        "sheet": issue.sheet,
        "cell": issue.cell,
        "message": issue.message,
    }


def print_json(obj: dict[str, Any]) -> None:
    json.dump(obj, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
