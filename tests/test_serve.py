"""``ree-plan serve`` (DESIGN §6) against a real server on 127.0.0.1: every request and status
code of the API, the token rules, one client never seeing another's runs, cancelling,
hostile input, a killed worker, and eight planners at once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import EXAMPLES, small_rows
from serving import alive, serving, submit, wait_run, wait_status, worker_pids

from model.cli.bench import write_synthetic
from model.input.template import write_input_workbook

NATIONAL = EXAMPLES / "national-plan.xlsx"
SMALL = EXAMPLES / "small-example.xlsx"
# Values that differ between two runs of one command on one input.
TIMINGS = {"Solve time (s)"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with serving(tmp_path_factory.mktemp("serve") / "tmp", "--workers", "2") as s:
        yield s


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The medium benchmark workbook: its solve takes seconds (HiGHS, then steps 2 and 3)."""
    book = tmp_path_factory.mktemp("medium") / "medium.xlsx"
    write_synthetic("medium", str(book))
    return book


def cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values, the Summary's timings left out."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        rows = [[c.value for c in row] for row in ws.iter_rows()]
        out[ws.title] = [r for r in rows if not (r and r[0] in TIMINGS)]
    return out


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "model.cli", *args], cwd=folder, capture_output=True, text=True
    )


def test_check_answers_200_with_every_problem_at_its_cell(server, tmp_path: Path):
    c = server.client()
    with NATIONAL.open("rb") as f:
        ok = c.post("/api/check", files={"workbook": ("national-plan.xlsx", f)})
    assert ok.status_code == 200 and ok.json() == {"errors": [], "warnings": []}
    bad = tmp_path / "bad.xlsx"
    rows = small_rows()
    rows["Suppliers"][0]["Price (per kg)"] = "abc"
    rows["Demand"][0]["Material"] = "Unobtainium"
    write_input_workbook(bad, rows)
    with bad.open("rb") as f:
        answer = c.post("/api/check", files={"workbook": ("bad.xlsx", f)})
    assert answer.status_code == 200
    where = {e["where"] for e in answer.json()["errors"]}
    assert "Suppliers!F2" in where and any(w.startswith("Demand!") for w in where), where
    # The same workbook as a run: 422 with the same errors, and no run is made.
    refused = submit(c, bad, "solve")
    assert refused.status_code == 422
    assert {e["where"] for e in refused.json()["errors"]} == where
    assert c.get("/api/runs").json() == []


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("solve", {}),
        ("solve", {"scenario": "China embargo in Q2"}),
        ("stress", {}),
        ("hedge", {"route": "Direct"}),
        ("frontier", {"cover": "ALL", "days": "0,30,60"}),
    ],
)
def test_each_command_writes_what_the_cli_writes(server, tmp_path: Path, command, options):
    """The workbook downloaded equals, cell for cell, what ``ree-plan COMMAND`` writes for the
    same input and options (the Summary's solve time aside), and the answer carries the
    command's --json figures."""
    c = server.client()
    made = submit(c, SMALL, command, **options)
    assert made.status_code == 202, made.text
    assert made.json()["status"] in ("queued", "running")
    done = wait_run(c, made.json()["id"])
    assert done["status"] == "done", done
    assert done["command"] == command
    extra = {"stress": "stress", "hedge": "hedge", "frontier": "frontier"}.get(command)
    if extra:
        assert isinstance(done[extra], list) and done[extra], done.keys()
    if command != "frontier":
        assert done["summary"]["Status"] == "Optimal"
    got = c.get(f"/api/runs/{done['id']}/plan.xlsx")
    assert got.status_code == 200
    suffix = {"solve": "plan"}.get(command, command)
    assert f'filename="small-example-{suffix}.xlsx"' in got.headers["content-disposition"]
    served = tmp_path / "served.xlsx"
    served.write_bytes(got.content)
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / SMALL.name).write_bytes(SMALL.read_bytes())
    args = [command, SMALL.name, "-o", "cli.xlsx"]
    for k, v in options.items():
        args += [f"--{k}", v]
    assert cli(folder, *args).returncode == 0
    assert cells(served) == cells(folder / "cli.xlsx")


def test_national_hedge_download_equals_cli(server, tmp_path: Path):
    c = server.client()
    run = submit(c, NATIONAL, "hedge").json()
    done = wait_run(c, run["id"])
    assert done["status"] == "done"
    assert done["summary"]["Value of hedging"] == pytest.approx(29_948_721, abs=1)
    served = tmp_path / "served.xlsx"
    served.write_bytes(c.get(f"/api/runs/{run['id']}/plan.xlsx").content)
    (tmp_path / NATIONAL.name).write_bytes(NATIONAL.read_bytes())
    assert cli(tmp_path, "hedge", NATIONAL.name, "-o", "cli.xlsx").returncode == 0
    assert cells(served) == cells(tmp_path / "cli.xlsx")


def test_bad_options_are_422_naming_the_option(server):
    c = server.client()
    cases = {
        ("solve", "scenario", "No such shock"): "option scenario",
        ("frontier", "cap", "No such rule"): "option cap",
        ("solve", "route", "Fast"): "option route",
        ("solve", "cap", "x"): "option cap",  # not an option of solve
        ("dance", "route", "Auto"): "option command",
    }
    for (command, key, value), where in cases.items():
        answer = submit(c, SMALL, command, **{key: value})
        assert answer.status_code == 422, (command, answer.text)
        assert where in {e["where"] for e in answer.json()["errors"]}, answer.json()
    shares = submit(c, NATIONAL, "frontier", cap="METI 50% per mine country", shares="0.5")
    assert shares.status_code == 422 and "0.5" in shares.text
    assert c.get("/api/runs").json() == []


def test_infeasible_run_says_why(server, tmp_path: Path):
    rows = small_rows()
    for r in rows["Settings"]:
        if r["Setting"] == "Allow shortfall":
            r["Value"] = "No"
    for r in rows["Suppliers"]:
        r["Capacity (t per period)"] = 1
    book = tmp_path / "tight.xlsx"
    write_input_workbook(book, rows)
    c = server.client()
    done = wait_run(c, submit(c, book, "solve").json()["id"])
    assert done["status"] == "infeasible", done
    assert done["explanation"], done
    assert c.get(f"/api/runs/{done['id']}/plan.xlsx").status_code == 404


def test_another_clients_run_is_404(server):
    a, b = server.client(), server.client()
    run = submit(a, SMALL, "solve").json()
    assert wait_run(a, run["id"])["status"] == "done"
    for method, path in [
        ("GET", f"/api/runs/{run['id']}"),
        ("GET", f"/api/runs/{run['id']}/plan.xlsx"),
        ("DELETE", f"/api/runs/{run['id']}"),
        ("GET", f"/runs/{run['id']}"),
        ("POST", f"/runs/{run['id']}/delete"),
    ]:
        assert b.request(method, path).status_code == 404, (method, path)
    assert run["id"] not in {r["id"] for r in b.get("/api/runs").json()}
    compare = b.post("/api/runs", data={"command": "compare", "a": run["id"], "b": run["id"]})
    assert compare.status_code == 422
    # Still there for its owner, who can delete it: then it is gone, files and all.
    assert a.get(f"/api/runs/{run['id']}").json()["status"] == "done"
    assert a.delete(f"/api/runs/{run['id']}").json()["status"] == "deleted"
    assert a.get(f"/api/runs/{run['id']}").status_code == 404
    assert not (server.root() / "runs" / run["id"]).exists()


def test_compare_two_runs(server):
    c = server.client()
    quiet = submit(c, NATIONAL, "solve").json()
    hedged = submit(c, NATIONAL, "hedge").json()
    for r in (quiet, hedged):
        assert wait_run(c, r["id"])["status"] == "done"
    made = c.post("/api/runs", data={"command": "compare", "a": quiet["id"], "b": hedged["id"]})
    assert made.status_code == 202, made.text
    done = wait_run(c, made.json()["id"])
    assert done["status"] == "done", done
    total = done["summary"]["Total cost"]
    assert total["Change"] == pytest.approx(total["B"] - total["A"])
    assert total["B"] - total["A"] == pytest.approx(5_255_876, abs=1)  # the price of hedging
    assert c.get(f"/api/runs/{done['id']}/plan.xlsx").status_code == 200


def test_cancel_a_running_solve_interrupts_highs(server, medium: Path):
    c = server.client()
    run = submit(c, medium, "solve").json()
    wait_status(c, run["id"], "running", progress="choosing")
    pids = worker_pids(run["id"])
    assert pids, "no worker process found"
    t0 = time.monotonic()
    answer = c.delete(f"/api/runs/{run['id']}")
    took = time.monotonic() - t0
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert took < 5, took
    assert not any(alive(p) for p in pids)
    body = c.get(f"/api/runs/{run['id']}").json()
    assert body["status"] == "cancelled" and "interrupted" in body["message"]
    assert c.get(f"/api/runs/{run['id']}/plan.xlsx").status_code == 404
    assert not (server.root() / "runs" / run["id"]).exists()
    # Listed as cancelled until deleted.
    assert run["id"] in {r["id"] for r in c.get("/api/runs").json()}
    assert c.delete(f"/api/runs/{run['id']}").json()["status"] == "deleted"
    assert c.get(f"/api/runs/{run['id']}").status_code == 404


def test_queue_holds_runs_beyond_the_workers(server, medium: Path):
    """Two workers: a third run waits with its place in line, and cancelling it while
    queued never starts it."""
    c = server.client()
    first = [submit(c, medium, "solve").json()["id"] for _ in range(2)]
    for run_id in first:
        wait_status(c, run_id, "running")
    third = submit(c, medium, "solve").json()
    assert third["status"] == "queued"
    body = c.get(f"/api/runs/{third['id']}").json()
    assert body["status"] == "queued" and "1st in line" in body["progress"]
    assert c.delete(f"/api/runs/{third['id']}").json()["status"] == "cancelled"
    assert not worker_pids(third["id"])
    for run_id in first:
        assert c.delete(f"/api/runs/{run_id}").json()["status"] == "cancelled"


def test_a_killed_worker_fails_only_its_run(server, medium: Path):
    c = server.client()
    run = submit(c, medium, "solve").json()
    wait_status(c, run["id"], "running", progress="choosing")
    for pid in worker_pids(run["id"]):
        os.kill(pid, signal.SIGKILL)
    done = wait_run(c, run["id"], timeout=30)
    assert done["status"] == "failed"
    assert "ended unexpectedly" in done["message"] and "SIGKILL" in done["message"]
    after = wait_run(c, submit(c, SMALL, "solve").json()["id"])
    assert after["status"] == "done"


def _zip_bomb(path: Path, inflated_mb: int) -> None:
    """A real workbook's parts, plus a sheet of zeros that inflates to ``inflated_mb``."""
    with zipfile.ZipFile(SMALL) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        with out.open("xl/worksheets/sheet99.xml", "w") as big:
            block = b"0" * (1024 * 1024)
            for _ in range(inflated_mb):
                big.write(block)


def test_limits_413_and_415(tmp_path: Path):
    with serving(tmp_path / "tmp", "--max-upload-mb", "1", "--max-unpacked-mb", "8") as limited:
        c = limited.client()
        big = tmp_path / "big.xlsx"
        big.write_bytes(SMALL.read_bytes() + os.urandom(2 * 1024 * 1024))
        for path in ("/api/check", "/api/runs"):
            with big.open("rb") as f:
                answer = c.post(
                    path, files={"workbook": ("big.xlsx", f)}, data={"command": "solve"}
                )
            assert answer.status_code == 413, (path, answer.status_code)
            assert "1 MB" in answer.json()["errors"][0]["message"]
        bomb = tmp_path / "bomb.xlsx"
        _zip_bomb(bomb, 600)  # 600 MB of zeros: about 0.6 MB sent
        assert bomb.stat().st_size < 1024 * 1024
        t0 = time.monotonic()
        with bomb.open("rb") as f:
            answer = c.post(
                "/api/runs", files={"workbook": ("bomb.xlsx", f)}, data={"command": "solve"}
            )
        assert answer.status_code == 413 and "unpacks to" in answer.text
        assert time.monotonic() - t0 < 10  # refused from the zip's directory, not inflated
        text = tmp_path / "notes.xlsx"
        text.write_text("Supplier,Price\nLynas,60\n")
        xls = tmp_path / "old.xls"
        xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
        for f415, said in ((text, "not an Excel workbook"), (xls, "old-style .xls")):
            with f415.open("rb") as f:
                answer = c.post("/api/check", files={"workbook": (f415.name, f)})
            assert answer.status_code == 415 and said in answer.text
        # Nothing of them stays on the server.
        root = limited.root()
        leftovers = [p for p in root.rglob("*") if p.is_file()]
        assert all(
            p.parent.name in ("examples", "spool") or p.name == "template.xlsx" for p in leftovers
        ), leftovers
    assert not root.exists(), "the server's folder outlived the server"


def test_token_rules(tmp_path: Path):
    refused = subprocess.run(
        [sys.executable, "-m", "model.cli", "serve", "--host", "0.0.0.0", "--port", "9"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "REE_PLAN_TOKEN"},
        timeout=60,
    )
    assert refused.returncode == 2 and "token" in refused.stderr
    token = "s3cret-token-for-tests"
    with serving(tmp_path / "tmp", env={"REE_PLAN_TOKEN": token}) as guarded:
        anon = guarded.client(follow_redirects=False)
        assert anon.get("/api/runs").status_code == 401
        assert anon.get("/").status_code == 303
        assert anon.get("/").headers["location"].startswith("/signin")
        wrong = guarded.client(headers={"Authorization": "Bearer nope"})
        assert wrong.get("/api/runs").status_code == 401
        bearer = guarded.client(headers={"Authorization": f"Bearer {token}"})
        assert bearer.get("/api/runs").status_code == 200
        run = submit(bearer, SMALL, "solve")
        assert run.status_code == 202
        browser = guarded.client(follow_redirects=False)
        assert browser.post("/signin", data={"token": "guess", "next": "/"}).status_code == 401
        signed = browser.post("/signin", data={"token": token, "next": "//evil.example/"})
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        assert browser.get("/").status_code == 200
        # Signed in is not the same client: the bearer's run is not the browser's.
        assert browser.get(f"/api/runs/{run.json()['id']}").status_code == 404


def test_markup_in_cells_is_shown_as_text(server, tmp_path: Path):
    rows = small_rows()
    evil = "<script>alert(1)</script>"
    rows["Suppliers"][0]["Supplier"] = evil
    book = tmp_path / "evil.xlsx"
    write_input_workbook(book, rows)
    c = server.client()
    done = wait_run(c, submit(c, book, "solve").json()["id"])
    assert done["status"] == "done"
    page = c.get(f"/runs/{done['id']}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert evil not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # In an error message too: a cell's markup quoted back to the planner.
    rows["Suppliers"][0]["Price (per kg)"] = '<img src=x onerror="alert(2)">'
    write_input_workbook(book, rows, force=True)
    with book.open("rb") as f:
        shown = c.post("/books", files={"workbook": ("evil.xlsx", f)}, follow_redirects=True)
    assert shown.status_code == 200 and "Suppliers!F2" in shown.text
    assert "<img src=x" not in shown.text and "&lt;img src=x" in shown.text


def test_a_file_name_with_dotdot_stays_inside(server, tmp_path: Path):
    c = server.client()
    for name in ("../../../escape.xlsx", "..\\..\\escape.xlsx", "/etc/escape.xlsx"):
        with SMALL.open("rb") as f:
            made = c.post(
                "/api/runs", files={"workbook": (name, f)}, data={"command": "solve"}
            ).json()
        done = wait_run(c, made["id"])
        assert done["status"] == "done"
        got = c.get(f"/api/runs/{made['id']}/plan.xlsx")
        assert 'filename="escape-plan.xlsx"' in got.headers["content-disposition"]
    root = server.root()
    found = [p for p in server.tmp.parent.rglob("escape*")]
    assert found and all(root in p.parents for p in found), found
    assert not Path("/etc/escape.xlsx").exists()


def test_runs_expire_and_shutdown_removes_everything(tmp_path: Path):
    with serving(tmp_path / "tmp", "--ttl-minutes", "0.05") as short:  # 3 s
        c = short.client()
        run = submit(c, SMALL, "solve").json()
        assert wait_run(c, run["id"])["status"] == "done"
        folder = short.root() / "runs" / run["id"]
        assert folder.exists()
        deadline = time.monotonic() + 20
        while c.get(f"/api/runs/{run['id']}").status_code != 404:
            assert time.monotonic() < deadline, "the run outlived its time to live"
            time.sleep(0.3)
        assert not folder.exists()
        root = short.root()
    assert not root.exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def _tree_rss_mb(pid: int) -> tuple[float, int, int]:
    """RSS of the server and its workers (MB), and how many solve and check workers run."""
    children = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _ppid(int(p.name)) == pid
    ]
    kinds = [_cmdline(p) for p in children]
    solving = sum(" solve " in k for k in kinds)
    checking = sum(" check " in k for k in kinds)
    total = 0.0
    for p in [pid, *children]:
        try:
            for line in (Path("/proc") / str(p) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total, solving, checking


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().split(")")[-1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_eight_planners_at_once(server):
    """Eight clients solve the national example at once on two workers: every run finishes,
    each client lists only its own, never more than two solves (and two checks) run at once,
    and the memory of the server and its workers stays bounded (peak printed for the README)."""
    clients = [server.client() for _ in range(8)]
    ids: list[str] = [""] * 8
    peak = {"mb": 0.0, "solving": 0, "checking": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            mb, solving, checking = _tree_rss_mb(server.proc.pid)
            peak["mb"] = max(peak["mb"], mb)
            peak["solving"] = max(peak["solving"], solving)
            peak["checking"] = max(peak["checking"], checking)
            time.sleep(0.05)

    def go(i: int) -> None:
        ids[i] = submit(clients[i], NATIONAL, "solve").json()["id"]

    watcher = threading.Thread(target=watch)
    watcher.start()
    t0 = time.monotonic()
    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = [wait_run(c, i, timeout=300) for c, i in zip(clients, ids, strict=True)]
    took = time.monotonic() - t0
    stop.set()
    watcher.join()
    assert all(a["status"] == "done" for a in answers), [a["status"] for a in answers]
    assert len({a["summary"]["Total cost"] for a in answers}) == 1
    for c, i in zip(clients, ids, strict=True):
        assert [r["id"] for r in c.get("/api/runs").json()] == [i]
    assert peak["solving"] == 2 and peak["checking"] <= 2, peak
    assert peak["mb"] < 2048, peak
    print(
        f"\n8 national solves on 2 workers: {took:.1f} s; peak RSS server+workers "
        f"{peak['mb']:.0f} MB; at most {peak['solving']} solves, {peak['checking']} checks"
    )


def test_pages_answer_without_javascript(server):
    """The page's flow as plain HTML forms: example, check, run, overview, list, compare."""
    c = server.client(follow_redirects=True)
    home = c.get("/")
    assert home.status_code == 200 and "Drop an input workbook" in home.text
    book = c.post("/books/example/national-plan.xlsx")
    assert book.status_code == 200 and "can be planned" in book.text
    book_url = str(book.url)
    ran = c.post(book_url + "/runs", data={"command": "solve", "scenario": "", "route": ""})
    assert ran.status_code == 200
    run_id = str(ran.url).rsplit("/", 1)[-1]
    wait_run(c, run_id)
    page = c.get(f"/runs/{run_id}")
    assert "Rare earth sourcing plan" in page.text and "<svg" in page.text
    assert "Total cost" in page.text
    bad = c.post(book_url + "/runs", data={"command": "solve", "scenario": "Nope"})
    assert bad.status_code == 422 and "no scenario" in bad.text
    assert c.get("/books/" + "0" * 32).status_code == 404
    assert c.get("/template.xlsx").status_code == 200
    t = openpyxl.load_workbook(io.BytesIO(c.get("/template.xlsx").content))
    assert "Suppliers" in t.sheetnames


def test_sample_and_risk_runs(server, tmp_path: Path):
    """The page's later commands: a risk profile, and a sampled workbook taken up as the
    workbook to plan; sampling options are bounded on a shared server."""
    c = server.client(follow_redirects=True)
    risk = submit(c, NATIONAL, "risk", samples="20", train="8", seed="3")
    assert risk.status_code == 202, risk.text
    done = wait_run(c, risk.json()["id"])
    assert done["status"] == "done", done
    assert [r["Plan"] for r in done["risk"]] == ["Quiet-world", "Hedged"]
    page = c.get(f"/runs/{done['id']}")
    assert "How risky is the plan" in page.text and "Value of hedging" in page.text
    sampled = submit(c, NATIONAL, "sample", samples="30", seed="1")
    done = wait_run(c, sampled.json()["id"])
    assert done["status"] == "done" and done["paths"] == 30
    used = c.post(f"/runs/{done['id']}/use")
    assert used.status_code == 200 and "can be planned" in used.text
    for options in ({"samples": "0"}, {"samples": "x"}, {"samples": "100", "train": "100000"}):
        answer = submit(c, NATIONAL, "risk", **options)
        assert answer.status_code == 422, options
    assert submit(c, SMALL, "sample", samples="5").status_code == 422  # no Risks sheet


def test_small_forms_are_bounded(server):
    """The sign-in, a run's options and compare are small forms: a body over 64 KB is 413,
    read no further (no page or answer shows a traceback)."""
    c = server.client()
    big = "x" * 200_000
    assert c.post("/signin", data={"token": big}).status_code == 413
    assert c.post("/compare", data={"a": big, "b": "y"}).status_code == 413
    book = c.post("/books/example/small-example.xlsx", follow_redirects=True)
    assert book.status_code == 200
    assert c.post(str(book.url) + "/runs", data={"command": "solve", "x": big}).status_code == 413
