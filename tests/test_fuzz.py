"""A seeded fuzzer of malformed input workbooks, as a new user's mistakes produce them.

Each case starts from an example workbook and applies one to three mutations: a cell of another
type (text numbers, dates, booleans, huge values, unicode, formulas without a saved value), a
deleted or renamed sheet, column or header, deleted or duplicated rows, a hidden near-copy of a
sheet, or a file that is no workbook at all. For every case, ``ree-plan solve`` must:

- exit 0 (plan written), 2 (bad input) or 3 (no feasible plan): never 1, never a traceback;
- leave the input's bytes unchanged;
- leave nothing in the output folder but the plan, and no plan unless it exits 0;
- on exit 2, name for every error the sheet and cell (``Sheet!E7``, or ``Sheet!1`` for a
  header row), or only the sheet for a missing sheet, or the file for a file that is no
  workbook; never a ``?``.

``pytest tests/test_fuzz.py --runs 2000`` runs more cases (default 50, under a minute).
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import EXAMPLES

from model.cli.main import main
from model.input.issues import InputError
from model.input.validate import load
from model.input.workbook import SHEET_SPECS

CELL = re.compile(r"^(?:[A-Z]{1,3})?[1-9][0-9]*$")  # E7, or 1 (a header row)
ODD_VALUES: list[Any] = [
    "abc",
    "1.500",
    "1,5",
    "1 500",
    "1.5 t",
    "€60",
    "60 %",
    "",
    " ",
    "Ünïcødé ✓ 稀土",
    "x" * 300,
    -1,
    -1e9,
    0,
    1e30,
    1e300,
    1e-30,
    True,
    "=1/0",
    "=SUM(A1:A3)",
    "2027-Q1",
    "EACH",
    "ALL",
]


def _mutate(rng: random.Random, wb: openpyxl.Workbook) -> list[str]:
    """Apply one to three mutations; return what was done (for the failure message)."""
    done = []
    for _ in range(rng.randint(1, 3)):
        sheets = [ws for ws in wb.worksheets if ws.title in SHEET_SPECS]
        if not sheets:
            break
        ws = rng.choice(sheets)
        kind = rng.choice(
            [
                "cell",
                "cell",
                "cell",
                "cell",
                "delete sheet",
                "rename sheet",
                "hidden copy",
                "delete column",
                "rename header",
                "duplicate header",
                "delete rows",
                "duplicate row",
                "blank row",
            ]
        )
        max_row, max_col = max(ws.max_row, 1), max(ws.max_column, 1)
        if kind == "cell":
            r, c = (
                rng.randint(1 if rng.random() < 0.15 else 2, max_row + 1),
                rng.randint(1, max_col + 1),
            )
            value = rng.choice(ODD_VALUES)
            ws.cell(r, c).value = value
            done.append(f"{ws.title}!{ws.cell(r, c).coordinate} = {value!r:.40}")
        elif kind == "delete sheet":
            wb.remove(ws)
            done.append(f"delete sheet {ws.title}")
        elif kind == "rename sheet":
            new = rng.choice(
                [ws.title + " ", ws.title.lower(), ws.title.upper(), ws.title + "s", " " + ws.title]
            )
            if new not in wb.sheetnames:
                done.append(f"rename sheet {ws.title!r} -> {new!r}")
                ws.title = new
        elif kind == "hidden copy":
            copy = wb.copy_worksheet(ws)
            name = rng.choice([ws.title + " ", ws.title + "\u00a0", ws.title.replace("s", "s ")])
            if name not in wb.sheetnames:
                copy.title = name
                copy.sheet_state = rng.choice(["hidden", "veryHidden", "visible"])
                done.append(f"copy of {ws.title!r} as {name!r} ({copy.sheet_state})")
            else:
                wb.remove(copy)
        elif kind == "delete column":
            c = rng.randint(1, max_col)
            done.append(f"delete column {c} of {ws.title}")
            ws.delete_cols(c)
        elif kind == "rename header":
            c = rng.randint(1, max_col)
            old = str(ws.cell(1, c).value or "")
            new = rng.choice(
                [old[:-1], old + "s", old.replace(" ", "  "), old.upper(), old[1:], "", "???"]
            )
            ws.cell(1, c).value = new or None
            done.append(f"{ws.title} header {old!r} -> {new!r}")
        elif kind == "duplicate header":
            c = rng.randint(1, max_col)
            ws.cell(1, max_col + 1).value = ws.cell(1, c).value
            for r in range(2, max_row + 1):
                ws.cell(r, max_col + 1).value = ws.cell(r, c).value
            done.append(f"{ws.title} header {ws.cell(1, c).value!r} twice")
        elif kind == "delete rows":
            r = rng.randint(2, max_row + 1)
            n = rng.randint(1, 3)
            ws.delete_rows(r, n)
            done.append(f"delete rows {r}-{r + n - 1} of {ws.title}")
        elif kind == "duplicate row" and max_row >= 2:
            r = rng.randint(2, max_row)
            ws.append([ws.cell(r, c).value for c in range(1, max_col + 1)])
            done.append(f"duplicate row {r} of {ws.title}")
        elif kind == "blank row" and max_row >= 2:
            ws.insert_rows(rng.randint(2, max_row))
            done.append(f"blank row in {ws.title}")
    return done


def _not_a_workbook(rng: random.Random, path: Path) -> str:
    kind = rng.choice(["empty", "text", "random bytes", "zip", "ole"])
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("Supplier,Material\nLynas,NdPr oxide\n")
    elif kind == "random bytes":
        path.write_bytes(rng.randbytes(rng.randint(1, 4096)))
    elif kind == "zip":
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + rng.randbytes(512))
    return f"not a workbook: {kind}"


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--runs"))


def test_malformed_workbooks_fail_cleanly(tmp_path: Path, runs: int, capsys):
    rng_master = random.Random(20261129)
    failures = []
    codes: dict[int, int] = {}
    for case in range(runs):
        seed = rng_master.randrange(2**32)
        rng = random.Random(seed)
        folder = tmp_path / f"case{case}"
        out_dir = folder / "out"
        out_dir.mkdir(parents=True)
        book = folder / "input.xlsx"
        source = EXAMPLES / rng.choice(
            ["small-example.xlsx", "small-example.xlsx", "national-plan.xlsx"]
        )
        if rng.random() < 0.08:
            what = [_not_a_workbook(rng, book)]
        else:
            wb = openpyxl.load_workbook(source)
            what = _mutate(rng, wb)
            wb.save(book)
        before = hashlib.sha256(book.read_bytes()).hexdigest()
        code = main(["solve", str(book), "-o", str(out_dir / "plan.xlsx")])
        out, err = capsys.readouterr()
        codes[code] = codes.get(code, 0) + 1
        where = f"case {case} (seed {seed}): {'; '.join(what)}"
        problems = []
        if code not in (0, 2, 3):
            problems.append(f"exit {code}: {err[-400:]}")
        if "Traceback" in err or "Traceback" in out:
            problems.append("traceback printed")
        if hashlib.sha256(book.read_bytes()).hexdigest() != before:
            problems.append("input changed")
        left = sorted(p.name for p in out_dir.iterdir())
        if left != (["plan.xlsx"] if code == 0 else []):
            problems.append(f"output folder holds {left}")
        if code == 2:
            try:
                load(book)
                problems.append("exit 2 but the workbook loads")
            except InputError as exc:
                for issue in exc.issues:
                    if issue.severity != "error":
                        continue
                    named = issue.sheet in SHEET_SPECS or issue.sheet == book.name
                    ok_cell = CELL.match(issue.cell) or (
                        issue.cell == ""
                        and (
                            issue.sheet == book.name
                            or "missing" in issue.message
                            or "sheet" in issue.message
                        )
                    )
                    if not named or not ok_cell or "?" in issue.where:
                        problems.append(f"error without a cell: {issue}")
        if problems:
            failures.append(f"{where}\n    " + "\n    ".join(problems))
        shutil.rmtree(folder)
    assert not failures, f"{len(failures)} of {runs} cases:\n" + "\n".join(failures[:15])
    # The fuzzer reaches both sides: workbooks refused and workbooks that still plan.
    assert codes.get(2, 0) > runs // 10 and codes.get(0, 0) > runs // 10, codes
