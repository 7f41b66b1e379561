"""Shared helpers: write a workbook from rows, solve it, run the command line in-process."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "inputs"))

import make_examples  # noqa: E402

from model.cli.main import main  # noqa: E402
from model.input.template import write_input_workbook  # noqa: E402

EXAMPLES = ROOT / "inputs"


def small_rows() -> dict[str, list[dict[str, Any]]]:
    return copy.deepcopy(make_examples.small_example())


def national_rows() -> dict[str, list[dict[str, Any]]]:
    return copy.deepcopy(make_examples.national_plan())


def write(path: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    write_input_workbook(path, rows, force=True)
    return path


def toy(
    periods: dict[str, float],
    demand: dict[tuple[str, str], list[float]],
    suppliers: list[dict[str, Any]],
    sectors: dict[str, float] | None = None,
    materials: list[dict[str, Any]] | None = None,
    **sheets: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Rows of a small workbook: periods {label: days}, demand {(sector, material): [...]}."""
    mats = materials or [{"Material": m} for m in dict.fromkeys(m for _, m in demand)]
    secs = sectors or {k: 1000 for k, _ in demand}
    rows = {
        "Periods": [{"Period": p, "Days": d} for p, d in periods.items()],
        "Materials": mats,
        "Sectors": [{"Sector": k, "Shortfall penalty (per kg)": v} for k, v in secs.items()],
        "Demand": [
            {"Sector": k, "Material": m, **dict(zip(periods, q, strict=True))}
            for (k, m), q in demand.items()
        ],
        "Suppliers": [
            {"Mine country": "X", "Refine country": "X", "Material": "M", **s} for s in suppliers
        ],
    }
    rows.update(sheets)
    return rows


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``ree-plan ARGS`` in-process; return (exit code, stdout, stderr)."""

    def _run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runs",
        default="50",
        help="cases of the malformed-workbook fuzzer (tests/test_fuzz.py); default 50",
    )
    parser.addoption(
        "--matrix",
        default="10",
        help="generated workbooks run through every command (tests/test_matrix.py); default 10",
    )
