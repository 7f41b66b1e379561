"""The command a planner runs: exit codes, messages, JSON, files written whole or not at all."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLES, small_rows, toy, write

SUMMARY_ROWS = [
    "Status",
    "Total cost",
    "Purchase cost",
    "Recycling cost",
    "Holding cost",
    "Alternatives cost",
    "Shortfall penalty",
    "Below-floor penalty",
    "Shortfall (t)",
    "Below floor (t)",
    "Scenario",
    "Input file",
    "Solver",
    "Solve time (s)",
]
PLAN_SHEETS = {
    "Purchases": [
        "Supplier",
        "Material",
        "Mine country",
        "Refine country",
        "Period",
        "To sectors (t)",
        "To stock (t)",
        "Total (t)",
        "Cost",
    ],
    "Recycling": ["Stream", "Material", "Country", "Period", "Tonnes", "Cost"],
    "Allocation": ["Material", "Sector", "Period", "Source", "Tonnes"],
    "Stock": [
        "Material",
        "Period",
        "Opening (t)",
        "Bought (t)",
        "Drawn (t)",
        "Closing (t)",
        "Floor (t)",
        "Below floor (t)",
        "Days of cover",
    ],
    "Concentration": [
        "Rule",
        "Group",
        "Material",
        "Sector",
        "Period",
        "Group (t)",
        "Total (t)",
        "Share (%)",
        "Cap (%)",
        "Binding",
    ],
    "Shortfall": ["Material", "Sector", "Period", "Tonnes"],
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_examples(run_cli):
    for name in ("small-example.xlsx", "national-plan.xlsx"):
        code, out, err = run_cli("check", EXAMPLES / name)
        assert code == 0, err
        assert "OK" in out


def test_bad_workbook_exits_2_and_writes_nothing(tmp_path: Path, run_cli):
    rows = small_rows()
    rows["Suppliers"][0]["Price (per kg)"] = "sixty"
    rows["Suppliers"][1]["Material"] = "Neodymium"
    rows["Caps"][0]["Max share (%)"] = 130
    book = write(tmp_path / "bad.xlsx", rows)
    before = digest(book)
    out_path = tmp_path / "plan.xlsx"
    for command in ("check", "solve", "stress"):
        args = [command, book] + ([] if command == "check" else ["-o", out_path])
        code, out, err = run_cli(*args)
        assert code == 2, (command, err)
        assert "Traceback" not in err
        assert "Suppliers!F2" in err and "Suppliers!B3" in err and "Caps!F2" in err
    assert not out_path.exists()
    assert digest(book) == before
    assert list(tmp_path.iterdir()) == [book]  # no temporary file left behind


def test_solve_writes_every_sheet_and_json(tmp_path: Path, run_cli):
    book = tmp_path / "small.xlsx"
    shutil.copy(EXAMPLES / "small-example.xlsx", book)
    before = digest(book)
    out_path = tmp_path / "out" / "plan.xlsx"
    code, out, err = run_cli("solve", book, "-o", out_path, "--json")
    assert code == 0, err
    summary = json.loads(out)["summary"]
    assert list(summary)[: len(SUMMARY_ROWS)] == SUMMARY_ROWS
    assert summary["Total cost"] == pytest.approx(26_920_000)
    assert digest(book) == before
    wb = openpyxl.load_workbook(out_path)
    assert wb.sheetnames[:2] == ["Overview", "Summary"]
    items = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert set(SUMMARY_ROWS) <= set(items)
    assert items["Total cost"] == pytest.approx(26_920_000)
    parts = sum(items[k] for k in SUMMARY_ROWS[2:8])
    assert parts == pytest.approx(items["Total cost"])
    for sheet, cols in PLAN_SHEETS.items():
        header = [c.value for c in wb[sheet][1]]
        assert header == cols, sheet
        assert wb[sheet].freeze_panes == "A2"


def test_default_output_path(tmp_path: Path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("solve", EXAMPLES / "small-example.xlsx")
    assert code == 0, err
    assert (tmp_path / "outputs" / "small-example-plan.xlsx").exists()


def test_refuses_to_write_over_the_input(tmp_path: Path, run_cli):
    book = tmp_path / "small.xlsx"
    shutil.copy(EXAMPLES / "small-example.xlsx", book)
    before = digest(book)
    code, _, err = run_cli("solve", book, "-o", book)
    assert code == 1 and "input workbook" in err
    assert digest(book) == before


def test_infeasible_exits_3_with_explanation(tmp_path: Path, run_cli):
    rows = toy(
        {"P1": 30},
        {("A", "M"): [100]},
        [{"Supplier": "S", "Capacity (t per period)": 50, "Price (per kg)": 10}],
        Settings=[{"Setting": "Allow shortfall", "Value": "No"}],
    )
    book = write(tmp_path / "b.xlsx", rows)
    code, _, err = run_cli("solve", book, "-o", tmp_path / "p.xlsx")
    assert code == 3
    assert "Demand row 2" in err and "Suppliers row 2" in err
    assert not (tmp_path / "p.xlsx").exists()
    # --json: the same explanation on stdout, for scripts (the web API's keys).
    code, out, _ = run_cli("solve", book, "-o", tmp_path / "p.xlsx", "--json")
    answer = json.loads(out)
    assert code == 3 and answer["status"] == "infeasible"
    assert any("Demand row 2" in line for line in answer["explanation"])
    assert answer["warnings"] == []


def test_help_lists_exit_codes(run_cli, capsys):
    from model.cli.main import main

    for command in ("solve", "stress", "hedge", "frontier", "check"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "Exit codes: 0" in text and "2 bad input" in text, command
        if command in ("solve", "stress", "hedge"):
            assert "3 infeasible" in text and "4 the solver stopped" in text, command


def test_unknown_scenario_exits_2(run_cli, tmp_path: Path):
    code, _, err = run_cli(
        "solve", EXAMPLES / "small-example.xlsx", "--scenario", "Nope", "-o", tmp_path / "p.xlsx"
    )
    assert code == 2 and "China embargo in Q2" in err


def test_what_if_names_the_scenario(run_cli, tmp_path: Path):
    code, out, err = run_cli(
        "solve",
        EXAMPLES / "small-example.xlsx",
        "--scenario",
        "China embargo in Q2",
        "-o",
        tmp_path / "p.xlsx",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["summary"]["Scenario"] == "China embargo in Q2"


def test_stress_json_and_sheet(run_cli, tmp_path: Path):
    out_path = tmp_path / "stress.xlsx"
    code, out, err = run_cli("stress", EXAMPLES / "small-example.xlsx", "-o", out_path, "--json")
    assert code == 0, err
    result = json.loads(out)
    (row,) = result["stress"]
    assert row["Extra cost"] == pytest.approx(1_400_000)
    wb = openpyxl.load_workbook(out_path)
    header = [c.value for c in wb["Stress"][1]]
    assert header[:6] == [
        "Scenario",
        "From period",
        "Total cost",
        "Extra cost",
        "Shortfall (t)",
        "Extra shortfall (t)",
    ]
    assert {"Automotive shortfall (t)", "Defense shortfall (t)"} <= set(header)


def test_template_round_trip(tmp_path: Path, run_cli):
    path = tmp_path / "new folder" / "t.xlsx"  # a folder that does not exist yet
    assert run_cli("template", path)[0] == 0
    code, _, err = run_cli("template", path)
    assert code == 1 and "--force" in err
    assert run_cli("template", path, "--force")[0] == 0
    # The example rows pass check and solve: 100 t a quarter at 75/kg, plus a 60-day floor of
    # 60 x 100 / 92 = 65.217 t at the end of 2027-Q4, all from the one supplier:
    # (400 + 65.217) t x 75,000 = 34,891,304.
    code, _, err = run_cli("check", path)
    assert code == 0, err
    code, out, err = run_cli("solve", path, "-o", tmp_path / "p.xlsx", "--json")
    assert code == 0, err
    assert json.loads(out)["summary"]["Total cost"] == pytest.approx(
        (400 + 6000 / 92) * 75_000, rel=1e-9
    )
    # Filled in as a planner would in Excel: a second period column appears in Demand.
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Instructions"
    assert wb["Suppliers"].freeze_panes == "A2"
    assert list(next(wb["Demand"].iter_rows(max_row=1, values_only=True)))[3:] == [
        "2027-Q1",
        "2027-Q2",
        "2027-Q3",
        "2027-Q4",
    ]
    wb["Suppliers"]["A2"] = "Lynas"
    wb["Suppliers"]["E2"] = 500
    wb["Suppliers"]["F2"] = 80
    wb.save(path)
    code, out, err = run_cli("solve", path, "-o", tmp_path / "p.xlsx", "--json")
    assert code == 0, err
    assert json.loads(out)["summary"]["Total cost"] == pytest.approx(
        (400 + 6000 / 92) * 80_000, rel=1e-9
    )


def _validations(ws) -> dict[str, object]:
    """Column letter -> the data validation covering its row 2."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            found[rng.split(":")[0].rstrip("0123456789")] = dv
    return found


def test_template_dropdowns_point_at_the_right_lists(tmp_path: Path, run_cli):
    path = tmp_path / "t.xlsx"
    assert run_cli("template", path)[0] == 0
    wb = openpyxl.load_workbook(path)
    lists = wb["Lists"]
    columns = {c.value: c.column_letter for c in lists[1]}

    def listed(sheet: str, letter: str) -> list:
        formula = str(_validations(wb[sheet])[letter].formula1)
        assert formula.startswith("=Lists!"), (sheet, letter, formula)
        col = formula.split("$")[1]
        return [c.value for c in lists[col][1:] if c.value is not None]

    assert "China" in listed("Suppliers", "D")  # Refine country: countries, not column C
    assert "Mine country" not in listed("Suppliers", "D")
    countries = listed("Suppliers", "C")
    assert countries == sorted(set(countries), key=str.casefold)  # no duplicates
    group = listed("Caps", "C")
    assert group[0] == "EACH" and "China" in group and "Example supplier" in group
    assert listed("Caps", "D")[:3] == ["EACH", "ALL", '=IF(Materials!A2="","",Materials!A2)']
    assert listed("Caps", "E")[:2] == ["EACH", "ALL"]
    assert listed("Scenarios", "D")[0] == "ALL"
    assert listed("Settings", "B") == ["Yes", "No", "Auto"]
    assert columns["Countries"] != columns["Groups"]
    # Numbers: Excel refuses text such as "1,5" or "60 t", and says what the column means.
    cap = _validations(wb["Suppliers"])["E"]
    assert (cap.type, cap.operator, cap.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert cap.showInputMessage and "t/period" in cap.prompt
    share = _validations(wb["Caps"])["F"]
    assert (share.type, share.operator, share.formula1, share.formula2) == (
        "decimal",
        "between",
        "0",
        "100",
    )
    demand = _validations(wb["Demand"])["D"]
    assert demand.type == "decimal" and "G" in str(demand.sqref)  # every period column
    # Printing: one page wide, landscape; the Instructions wrap instead of running off.
    ins = wb["Instructions"]
    assert ins.page_setup.orientation == "landscape"
    assert ins.page_setup.fitToWidth == 1 and ins.sheet_properties.pageSetUpPr.fitToPage


def test_console_script_runs():
    """The installed entry point (what the README tells a newcomer to run)."""
    exe = shutil.which("ree-plan")
    cmd = [exe] if exe else [sys.executable, "-m", "model.cli"]
    res = subprocess.run(
        [*cmd, "check", str(EXAMPLES / "small-example.xlsx")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr


def test_time_limit_exits_4_without_a_plan(tmp_path: Path, run_cli):
    from conftest import national_rows

    rows = national_rows()
    rows["Settings"] = [{"Setting": "Time limit (s)", "Value": 0.000001}]
    book = write(tmp_path / "b.xlsx", rows)
    code, _, err = run_cli("solve", book, "-o", tmp_path / "p.xlsx")
    assert code == 4 and "Time limit" in err
    assert not (tmp_path / "p.xlsx").exists()


def test_terminal_cost_parts_add_up_with_penalties_named(tmp_path: Path, run_cli):
    """60 t to buy at 10/kg for 100 t demanded at a 1,000/kg shortfall penalty: 600,000 spent,
    40 t short = 40,000,000 of penalty; the line names both and they add up to the total."""
    import re

    rows = toy(
        {"P1": 90},
        {("Auto", "M"): [100]},
        [{"Supplier": "S", "Capacity (t per period)": 60, "Price (per kg)": 10}],
    )
    book = write(tmp_path / "b.xlsx", rows)
    code, out, err = run_cli("solve", book, "-o", tmp_path / "p.xlsx")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if "Total cost" in ln)
    assert (
        "Total cost: 40,600,000 USD  (purchases 600,000; penalties: shortfall 40,000,000)" in line
    )
    parts = re.search(r"\((.*)\)", line).group(1)
    numbers = [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", parts)]
    assert sum(numbers) == pytest.approx(40_600_000)


def test_check_counts_in_words_and_version(run_cli):
    code, out, _ = run_cli("check", EXAMPLES / "small-example.xlsx")
    assert code == 0
    assert "1 material, 2 sectors, 4 offers, 2 caps, 1 scenario (1 with a probability" in out
    with pytest.raises(SystemExit) as done:
        run_cli("--version")
    assert done.value.code == 0


def test_a_plan_fed_back_as_input_is_one_message(tmp_path: Path, run_cli):
    plan = tmp_path / "plan.xlsx"
    assert run_cli("solve", EXAMPLES / "small-example.xlsx", "-o", plan)[0] == 0
    code, _, err = run_cli("check", plan)
    assert code == 2
    assert "written by ree-plan (a plan), not an input workbook" in err
    assert err.count("\n  ") == 1  # one problem, not one per missing sheet and cell


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"Date,Tonnes\n"), "is not an .xlsx workbook"),
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60),
            "old .xls workbook or a password",
        ),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: __import__("os").mkfifo(p), "is not a regular file"),
    ],
)
def test_files_that_are_not_workbooks_say_what_to_do(tmp_path: Path, run_cli, make, words):
    path = tmp_path / "book.xls"
    make(path)
    code, _, err = run_cli("check", path)  # a FIFO would block forever if opened
    assert code == 2
    assert words in err and "Traceback" not in err


def test_output_folder_instead_of_file(tmp_path: Path, run_cli):
    code, _, err = run_cli("solve", EXAMPLES / "small-example.xlsx", "-o", tmp_path)
    assert code == 1
    assert "is a folder; give a file name" in err and "unexpected" not in err


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        (lambda: (_ for _ in ()).throw(OSError(28, "No space left on device")), 1, "disk is full"),
        (lambda: __import__("os").kill(__import__("os").getpid(), 15), 1, "interrupted"),
    ],
)
def test_a_fault_mid_write_leaves_nothing_behind(
    tmp_path: Path, run_cli, monkeypatch, fault, code, words
):
    """A full disk, or SIGTERM, while the plan's tables are written: a one-line message, no
    plan, no half-written file, no XlsxWriter temporary files."""
    import tempfile

    import model.excel.report as report

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    real = report._write_table
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the third table: XlsxWriter has files open by then
            fault()
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "_write_table", failing)
    out_dir = tmp_path / "out"
    c, _, err = run_cli("solve", EXAMPLES / "small-example.xlsx", "-o", out_dir / "plan.xlsx")
    assert c == code and words in err, err
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == []
    assert list(scratch.iterdir()) == []


def test_json_carries_the_written_path_and_the_warnings(tmp_path: Path, run_cli):
    rows = small_rows()
    rows["Sectors"][0]["Shortfall penalty (per kg)"] = 1  # below the cheapest price: a warning
    book = write(tmp_path / "w.xlsx", rows)
    out = tmp_path / "p.xlsx"
    code, stdout, err = run_cli("solve", book, "-o", out, "--json")
    assert code == 0, err
    got = json.loads(stdout)
    assert got["written"] == str(out) and out.exists()
    assert got["warnings"] and got["warnings"][0]["where"].startswith("Sectors!B")
    assert "penalty" in got["warnings"][0]["message"]


def test_json_on_bad_input_lists_errors_and_warnings(tmp_path: Path, run_cli):
    rows = small_rows()
    rows["Suppliers"][0]["Capacity (t per period)"] = "lots"
    book = write(tmp_path / "bad.xlsx", rows)
    code, stdout, err = run_cli("solve", book, "--json")
    assert code == 2
    got = json.loads(stdout)
    assert set(got) == {"errors", "warnings"}
    assert [e["where"] for e in got["errors"]] == ["Suppliers!E2"]
    assert got["errors"][0]["sheet"] == "Suppliers" and got["errors"][0]["cell"] == "E2"
    assert "Suppliers!E2" in err  # people still read stderr


def test_progress_on_a_terminal_only(tmp_path: Path, run_cli, monkeypatch):
    book = EXAMPLES / "small-example.xlsx"
    code, _, err = run_cli("stress", book, "-o", tmp_path / "s.xlsx")
    assert code == 0 and "\r" not in err  # not a terminal: no progress line
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, _, err = run_cli("stress", book, "-o", tmp_path / "s.xlsx")
    assert code == 0
    steps = [part for part in err.split("\r\033[K") if part.strip()]
    assert any(s.startswith("reading") for s in steps), steps
    assert "scenario 1/1: " in err and "writing" in err
    assert err.endswith("\r\033[K") or "Stress test" not in err  # the line is cleared
    code, _, err = run_cli("-q", "stress", book, "-o", tmp_path / "s.xlsx")
    assert code == 0 and "\r" not in err


def test_every_argument_has_help():
    from model.cli.main import build_parser

    parser = build_parser()
    missing = []
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in [("ree-plan", parser), *subparsers.choices.items()]:
        for action in sub._actions:
            if action.help is None and not isinstance(action, argparse._SubParsersAction):
                missing.append(f"{name} {action.dest}")
    assert not missing, missing
