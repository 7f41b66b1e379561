"""Every command against every kind of workbook (issue 18): generated, seeded workbooks
(tests/generated.py) x check, solve, what-if, stress, hedge, frontier by cap and by cover.

A valid workbook never exits 1: a plan (0), an infeasible model explained (3), or, for
``hedge`` on a workbook without probabilities, the bad-input message (2). Each run's JSON
parses, a plan is written whole (it re-opens) or not at all, and the post-solve check ran on
every plan (a failed check exits 1); ``compare`` lines the baseline plan up with every other
plan written. ``--matrix N`` runs N workbooks (default 10, well under a
minute); ``python -m pytest tests/test_matrix.py --matrix 200`` for a long run.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from conftest import write
from generated import rows


def _seeds(config: pytest.Config) -> list[int]:
    return list(range(int(config.getoption("--matrix"))))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", _seeds(metafunc.config))


def test_every_command(seed: int, tmp_path: Path, run_cli) -> None:
    sheets, kinds = rows(seed)
    book = write(tmp_path / f"gen{seed}.xlsx", sheets)
    before = book.read_bytes()
    code, _, err = run_cli("check", book)
    assert code == 0, err
    scenarios = [r["Scenario"] for r in sheets.get("Scenarios", [])]
    runs: list[tuple[str, ...]] = [("solve",), ("stress",), ("hedge",)]
    if scenarios:
        runs.append(("solve", "--scenario", scenarios[0]))
    if "Caps" in sheets:  # 0 % on an EACH cap: nothing can be bought (infeasible points)
        runs.append(("frontier", "--cap", "Refine cap", "--shares", "100,50,0"))
    runs.append(("frontier", "--cover", "ALL", "--days", "0,45,400"))
    if kinds["risks"]:  # DESIGN §7: sample (then hedge the copy), and risk
        runs.append(("sample", "--samples", "12", "--seed", str(seed)))
        runs.append(("risk", "--samples", "12", "--train", "6", "--seed", str(seed)))
    seen = {}
    for i, args in enumerate(runs):
        out = tmp_path / f"out{i}.xlsx"
        code, text, err = run_cli(*args[:1], book, *args[1:], "-o", out, "--json")
        what = f"seed {seed} {kinds} {' '.join(args)}"
        if args[0] in ("frontier", "sample"):
            allowed = {0}  # infeasible points are rows saying why; sampling solves nothing
        elif args[0] == "hedge" and not (scenarios and kinds["probabilities"]):
            allowed = {2}  # the hedge needs a probability: bad input, said so
        else:
            allowed = {0, 3}
        assert code in allowed, f"{what}: exit {code}\n{err}"
        assert "Traceback" not in err, what
        answer = json.loads(text)
        seen[args] = code
        if code == 0:
            assert out.exists(), what
            wb = openpyxl.load_workbook(out, read_only=True)
            assert wb.sheetnames, what
            wb.close()
            assert answer.get("written") == str(out), what
        else:
            assert not out.exists(), what
            assert "errors" in answer or answer["status"] in ("infeasible", "stopped"), what
    assert book.read_bytes() == before
    if kinds["risks"]:  # the sampled copy reads like any workbook: check and hedge it
        sampled = (
            tmp_path / f"out{runs.index(('sample', '--samples', '12', '--seed', str(seed)))}.xlsx"
        )
        assert run_cli("check", sampled)[0] == 0, f"seed {seed}: sampled copy"
        code, _, err = run_cli("hedge", sampled, "-o", tmp_path / "sampled-hedge.xlsx")
        assert code in (0, 2, 3), f"seed {seed} hedge of the sampled copy: {err}"
        assert "Traceback" not in err
    # compare lines any two plans up: the baseline against each other plan written.
    written = [tmp_path / f"out{i}.xlsx" for i, a in enumerate(runs) if seen[a] == 0]
    plans = [
        p
        for p, a in zip(written, [a for a in runs if seen[a] == 0], strict=True)
        if a[0] in ("solve", "stress", "hedge")
    ]
    for other in plans[1:]:
        out = tmp_path / "compare.xlsx"
        code, text, err = run_cli("compare", plans[0], other, "-o", out, "--json")
        assert code == 0, f"seed {seed} compare {other.name}: {err}"
        assert json.loads(text)["written"] == str(out)
        openpyxl.load_workbook(out, read_only=True).close()
    if scenarios and seen[("solve",)] == 0:
        assert seen[("stress",)] == 0  # the baseline has a plan: stress writes its rows
