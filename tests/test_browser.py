"""The planner's page in a real browser: Debian's chromium, driven by Playwright through
``executable_path`` (a browser download at install time is not possible here). In CI
(``CI`` set) these tests must run: ``.ci/run`` installs chromium; elsewhere they are skipped,
with the reason, when chromium or Playwright is missing.

Screenshots go to ``tmp_path`` (``pytest --basetemp DIR`` keeps them to look at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLES, small_rows
from serving import serving

from model.input.template import write_input_workbook

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, in a closed network: no sandbox, no GPU, and none of Chromium's own connections.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _why_not() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install '.[test]')"
    if not Path(CHROMIUM).exists():
        return "no chromium here (apt-get install -y chromium)"
    return None


REASON = _why_not()
if REASON and os.environ.get("CI"):
    raise RuntimeError(f"browser tests must run in CI: {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with serving(tmp_path_factory.mktemp("browser") / "tmp", "--workers", "2") as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    yield page
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"
    assert outside == [], f"the page fetched from outside: {outside}"


def test_a_planner_checks_solves_hedges_and_compares(server, page, tmp_path: Path):
    # 1. A workbook with a mistake: the page names its cell.
    bad = tmp_path / "my-plan.xlsx"
    rows = small_rows()
    rows["Suppliers"][0]["Price (per kg)"] = "sixty"
    write_input_workbook(bad, rows)
    page.goto(server.url + "/")
    page.screenshot(path=str(tmp_path / "1-home.png"), full_page=True)
    page.set_input_files("#workbook", str(bad))  # the page sends it on choosing
    page.wait_for_selector("#errors")
    assert "Suppliers!F2" in page.inner_text("#errors")
    assert "sixty" in page.inner_text("#errors")
    page.screenshot(path=str(tmp_path / "2-check-error.png"), full_page=True)

    # 2. The national example: hedge it, watch it run, read its Overview.
    page.goto(server.url + "/")
    page.click("text=Use national-plan.xlsx")
    page.wait_for_selector("#verdict")
    assert "can be planned" in page.inner_text("#verdict")
    page.screenshot(path=str(tmp_path / "3-book.png"), full_page=True)
    page.click("form.command:has(input[value=hedge]) button[type=submit]")
    page.wait_for_selector("#status")
    seen = {page.inner_text("#status")}
    page.screenshot(path=str(tmp_path / "4-running.png"))
    page.wait_for_selector("#download", timeout=120_000)
    seen.add(page.inner_text("#status"))
    assert "done" in seen and seen & {"queued", "running"}, seen
    overview = page.inner_text("#overview")
    assert "Hedged sourcing plan" in overview and "What to buy now" in overview
    assert "Value of hedging" in page.inner_text("#figures")
    assert page.locator("#charts svg").count() >= 3
    page.screenshot(path=str(tmp_path / "5-hedge.png"), full_page=True)
    with page.expect_download() as got:
        page.click("#download")
    hedge_file = tmp_path / got.value.suggested_filename
    got.value.save_as(hedge_file)
    assert hedge_file.name == "national-plan-hedge.xlsx"
    assert "Hedge" in openpyxl.load_workbook(hedge_file).sheetnames

    # 3. The quiet-world plan of the same workbook, then the two side by side.
    page.go_back()
    page.wait_for_selector("form.command")
    page.click("form.command:has(input[value=solve]) button[type=submit]")
    page.wait_for_selector("#download", timeout=120_000)
    with page.expect_download() as got:
        page.click("#download")
    assert got.value.suggested_filename == "national-plan-plan.xlsx"
    page.goto(server.url + "/")
    rows_text = page.inner_text("#runs")
    assert rows_text.count("done") == 2
    page.screenshot(path=str(tmp_path / "6-runs.png"), full_page=True)
    # By default A is the earlier run (the hedge) and B the later (the quiet-world plan).
    page.click("form.compare button[type=submit]")
    page.wait_for_selector("#download", timeout=120_000)
    text = page.inner_text("#overview")
    assert "Total cost" in text
    page.screenshot(path=str(tmp_path / "7-compare.png"), full_page=True)
    with page.expect_download() as got:
        page.click("#download")
    assert got.value.suggested_filename == "national-plan-hedge-vs-national-plan-plan.xlsx"


def test_cancel_from_the_page(server, page, tmp_path: Path):
    from model.cli.bench import write_synthetic

    book = tmp_path / "medium.xlsx"
    write_synthetic("medium", str(book))
    page.goto(server.url + "/")
    page.set_input_files("#workbook", str(book))
    page.wait_for_selector("form.command")
    page.click("form.command:has(input[value=solve]) button[type=submit]")
    page.wait_for_selector("#cancel")
    # (the page's CSP forbids eval, so a selector rather than wait_for_function)
    page.wait_for_selector("#progress:has-text('choosing')", timeout=60_000)
    page.click("#cancel")
    page.wait_for_selector("#status.cancelled", timeout=15_000)
    assert "interrupted" in page.inner_text("#message")
    page.screenshot(path=str(tmp_path / "cancelled.png"))


def test_markup_in_a_workbook_stays_text(server, page, tmp_path: Path):
    rows = small_rows()
    rows["Suppliers"][0]["Supplier"] = "<script>alert(1)</script><b>bold</b>"
    book = tmp_path / "markup.xlsx"
    write_input_workbook(book, rows)
    page.goto(server.url + "/")
    page.set_input_files("#workbook", str(book))
    page.wait_for_selector("form.command")
    page.click("form.command:has(input[value=solve]) button[type=submit]")
    page.wait_for_selector("#overview", timeout=120_000)
    assert "<script>alert(1)</script><b>bold</b>" in page.inner_text("#overview")
    assert page.locator("#overview b").count() == 0
    page.screenshot(path=str(tmp_path / "markup.png"), full_page=True)


def test_example_download_opens(server, page, tmp_path: Path):
    page.goto(server.url + "/")
    with page.expect_download() as got:
        page.click("text=Download the blank template")
    path = tmp_path / got.value.suggested_filename
    got.value.save_as(path)
    assert "Settings" in openpyxl.load_workbook(path).sheetnames
    assert (EXAMPLES / "national-plan.xlsx").exists()
