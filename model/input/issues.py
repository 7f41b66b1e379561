"""Problems found in a workbook, each tied to a sheet and cell, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """One problem: where it is (``sheet``, ``cell``) and what to do about it."""

    sheet: str
    cell: str  # "E7", "1" for a header row, "" for the whole sheet or file
    message: str
    severity: str = ERROR

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InputError(Exception):
    """The workbook cannot be planned; carries every error found (and the warnings)."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        errors = [i for i in issues if i.severity == ERROR]
        super().__init__(f"{len(errors)} problem(s) in the workbook")

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]
