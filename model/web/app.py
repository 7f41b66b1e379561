"""The server of ``ree-plan serve`` (DESIGN §6): pages a planner reads in a browser, and the
JSON API scripts use, over one set of runs (:mod:`model.web.runs`).

Every request passes :func:`guard` first: the token (when there is one), the client cookie
(a client never sees another's runs: 404), and headers that forbid inline script and style,
framing and content sniffing. Pages are Jinja2 templates with autoescape: a supplier named
``<script>`` is shown as text."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from model.input.examples import EXAMPLES, write_examples
from model.input.issues import InputError
from model.input.template import write_template
from model.studies.frontier import parse_values
from model.web.overview import Page, read_page, svg
from model.web.runs import (
    CANCELLED,
    DONE,
    FINISHED,
    Run,
    Runs,
    command_argv,
    new_id,
)
from model.web.uploads import MB, Limits, Refused, read_form, safe_name, small_form

HERE = Path(__file__).resolve().parent
CLIENT_COOKIE = "ree_plan_client"
AUTH_COOKIE = "ree_plan_auth"
CLIENT_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ROUTES = ("Auto", "Pyomo", "Direct")
# What each command takes, by its command-line name (DESIGN §6: the form fields).
OPTIONS: dict[str, tuple[str, ...]] = {
    "solve": ("scenario", "route"),
    "stress": ("scenario", "route"),
    "hedge": ("route",),
    "frontier": ("cap", "shares", "cover", "days", "route"),
    "sample": ("samples", "seed"),
    "risk": ("samples", "train", "seed", "route"),
    "compare": ("a", "b"),
}
SUFFIX = {
    "solve": "plan",
    "stress": "stress",
    "hedge": "hedge",
    "frontier": "frontier",
    "sample": "sampled",
    "risk": "risk",
}
# A shared server's bounds on sampling (the hedge over training paths is one LP whose size
# grows with them; see the README's risk benchmark).
MAX_PATHS = {"samples": 5000, "train": 200}
PLANS = ("solve", "stress", "hedge")  # the runs whose workbook 'compare' reads
EXPIRE_EVERY_S = 30.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Settings:
    token: str | None = None
    workers: int = 2
    max_upload_mb: int = 50
    max_unpacked_mb: int = 500
    ttl_minutes: float = 12 * 60


@dataclass
class Book:
    """A workbook a planner sent from the page, checked, waiting for its commands."""

    id: str
    client: str
    name: str  # as the planner sent it (shown as text)
    path: Path
    check: dict[str, Any]
    created: float = field(default_factory=time.time)


class State:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="ree-plan-serve-"))
        self.limits = Limits(settings.max_upload_mb * MB, settings.max_unpacked_mb * MB)
        self.runs = Runs(self.root, settings.workers, settings.ttl_minutes * 60)
        self.books: dict[str, Book] = {}
        self.pages: dict[str, Page] = {}  # run id -> its workbook read back (done runs)
        self.auth = (
            hmac.new(settings.token.encode(), b"ree-plan sign-in", hashlib.sha256).hexdigest()
            if settings.token
            else None
        )

    def book(self, book_id: str, client: str) -> Book | None:
        book = self.books.get(book_id)
        return book if book is not None and book.client == client else None

    def expire_books(self, now: float) -> None:
        for book in list(self.books.values()):
            if now - book.created > self.runs.ttl_s:
                shutil.rmtree(book.path.parent, ignore_errors=True)
                self.books.pop(book.id, None)


def create_app(settings: Settings) -> FastAPI:
    state = State(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starlette spools uploads in the temporary folder: make it the server's own.
        (state.root / "spool").mkdir()
        tempfile.tempdir = str(state.root / "spool")
        (state.root / "examples").mkdir()
        write_examples(state.root / "examples")
        write_template(state.root / "template.xlsx")
        expiry = asyncio.create_task(_expire_loop(state))
        try:
            yield
        finally:
            expiry.cancel()
            await state.runs.shutdown()
            shutil.rmtree(state.root, ignore_errors=True)

    app = FastAPI(title="ree-plan", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.ree = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["clock"] = lambda t: time.strftime("%H:%M:%S", time.localtime(t))
    templates.env.filters["result"] = _result
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        path = request.url.path
        api = path.startswith("/api/")
        if state.auth and not _public(path) and not _signed_in(request, state):
            if api:
                response: Response = JSONResponse(
                    {"error": "a token is needed: send 'Authorization: Bearer TOKEN'"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            else:
                response = RedirectResponse(f"/signin?next={quote(path)}", status_code=303)
            return _secure(response)
        cookie = request.cookies.get(CLIENT_COOKIE, "")
        fresh = not CLIENT_RE.match(cookie)
        request.state.client = secrets.token_urlsafe(24) if fresh else cookie
        response = await call_next(request)
        if fresh:
            _set_cookie(response, request, CLIENT_COOKIE, request.state.client)
        return _secure(response)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.url.path.startswith("/api/"):
            return _secure(_refusal(exc))
        return error_page(request, exc.status, exc.message)

    def error_page(request: Request, status: int, message: str) -> Response:
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"error": "the request is malformed"}, status_code=400)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        # Never a traceback in a page or an answer (the server's log has it).
        message = "ree-plan met an internal error; the server's log has the details."
        if request.url.path.startswith("/api/"):
            return _secure(JSONResponse({"error": message}, status_code=500))
        return _secure(HTMLResponse(f"<p>{message}</p>", status_code=500))

    # --- sign-in ---------------------------------------------------------------------------

    @app.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request, next: str = "/") -> Response:
        return templates.TemplateResponse(
            request, "signin.html", {"next": _local(next), "wrong": False}
        )

    @app.post("/signin")
    async def signin(request: Request) -> Response:
        form = await small_form(request)
        token = form.get("token", "")
        target = _local(form.get("next", "/"))
        if state.auth is None:
            return RedirectResponse(target, status_code=303)
        if not hmac.compare_digest(token.encode(), (settings.token or "").encode()):
            return templates.TemplateResponse(
                request, "signin.html", {"next": target, "wrong": True}, status_code=401
            )
        response = RedirectResponse(target, status_code=303)
        _set_cookie(response, request, AUTH_COOKIE, state.auth)
        return response

    # --- the JSON API (DESIGN §6) ----------------------------------------------------------

    @app.post("/api/check")
    async def api_check(request: Request) -> Response:
        folder = state.root / "checks" / new_id()
        try:
            _, path, _ = await read_form(request, folder, state.limits)
            if path is None:
                raise Refused(400, "send the workbook as the form field 'workbook'")
            answer = await state.runs.check(path)
        except Refused as exc:
            return _refusal(exc)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse({"errors": answer["errors"], "warnings": answer["warnings"]})

    @app.post("/api/runs")
    async def api_submit(request: Request) -> Response:
        client = request.state.client
        folder = state.root / "uploads" / new_id()
        try:
            fields, path, sent_as = await read_form(request, folder, state.limits)
            run = await _start(state, client, fields, path, sent_as)
        except Refused as exc:
            return _refusal(exc)
        except _Invalid as exc:
            return JSONResponse({"errors": exc.errors, "warnings": exc.warnings}, status_code=422)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse({"id": run.id, "status": run.status}, status_code=202)

    @app.get("/api/runs")
    async def api_list(request: Request) -> Response:
        runs = state.runs.of(request.state.client)
        return JSONResponse([r.answer(state.runs.place(r)) for r in runs])

    @app.get("/api/runs/{run_id}")
    async def api_run(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        return JSONResponse(run.answer(state.runs.place(run)))

    @app.get("/api/runs/{run_id}/plan.xlsx")
    async def api_plan(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        if run.status != DONE or not run.out.exists():
            raise HTTPException(404, f"this run has no workbook (it is {run.status})")
        return FileResponse(
            run.out,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=run.download,
        )

    @app.delete("/api/runs/{run_id}")
    async def api_delete(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        was = run.status
        await state.runs.delete(run)
        state.pages.pop(run.id, None)
        if was in FINISHED:
            return JSONResponse({"id": run.id, "status": "deleted"})
        return JSONResponse({"id": run.id, "status": run.status})

    # --- pages -----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        runs = state.runs.of(request.state.client)
        plans = [r for r in runs if r.command in PLANS and r.status == DONE]
        return templates.TemplateResponse(
            request,
            "home.html",
            {"runs": runs, "plans": plans, "examples": EXAMPLES, "place": state.runs.place},
        )

    @app.get("/template.xlsx")
    async def template_file() -> Response:
        return FileResponse(
            state.root / "template.xlsx",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename="ree-plan-template.xlsx",
        )

    @app.get("/examples/{name}")
    async def example_file(name: str) -> Response:
        if name not in EXAMPLES:
            raise HTTPException(404, "no such example")
        return FileResponse(
            state.root / "examples" / name,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=name,
        )

    @app.post("/books")
    async def upload(request: Request) -> Response:
        client = request.state.client
        book_id = new_id()
        folder = state.root / "books" / book_id
        try:
            _, path, sent_as = await read_form(request, folder, state.limits)
            if path is None:
                raise Refused(400, "Choose a workbook (.xlsx) first.")
        except Refused as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return error_page(request, exc.status, exc.message)
        return await _keep_book(state, client, book_id, path, sent_as)

    @app.post("/books/example/{name}")
    async def use_example(request: Request, name: str) -> Response:
        if name not in EXAMPLES:
            raise HTTPException(404, "no such example")
        book_id = new_id()
        folder = state.root / "books" / book_id
        folder.mkdir(parents=True)
        path = folder / name
        shutil.copyfile(state.root / "examples" / name, path)
        return await _keep_book(state, request.state.client, book_id, path, name)

    @app.get("/books/{book_id}", response_class=HTMLResponse)
    async def book_page(request: Request, book_id: str) -> Response:
        book = state.book(book_id, request.state.client)
        if book is None:
            raise HTTPException(404, "No such workbook here (it may have expired): send it again.")
        return templates.TemplateResponse(
            request, "book.html", {"book": book, "wb": book.check.get("workbook", {})}
        )

    @app.post("/books/{book_id}/runs")
    async def book_run(request: Request, book_id: str) -> Response:
        book = state.book(book_id, request.state.client)
        if book is None:
            raise HTTPException(404, "No such workbook here (it may have expired): send it again.")
        fields = await small_form(request)
        try:
            run = await _start(state, book.client, fields, book.path, book.name, book.check)
        except _Invalid as exc:
            return templates.TemplateResponse(
                request,
                "book.html",
                {"book": book, "wb": book.check.get("workbook", {}), "problems": exc.errors},
                status_code=422,
            )
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.post("/compare")
    async def compare(request: Request) -> Response:
        fields = {**(await small_form(request)), "command": "compare"}
        try:
            run = await _start(state, request.state.client, fields, None, "")
        except _Invalid as exc:
            raise HTTPException(422, " ".join(e["message"] for e in exc.errors)) from None
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    async def run_page(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        page = None
        if run.status == DONE and run.out.exists():
            page = state.pages.get(run.id)
            if page is None:
                page = await asyncio.to_thread(read_page, run.out)
                state.pages[run.id] = page
        return templates.TemplateResponse(
            request,
            "run.html",
            {
                "run": run,
                "answer": run.answer(state.runs.place(run)),
                "page": page,
                "svgs": [svg(c, page.colours()) for c in page.charts] if page else [],
                "figures": _figures(run),
            },
        )

    @app.post("/runs/{run_id}/use")
    async def run_use(request: Request, run_id: str) -> Response:
        """A sampled workbook (or any run's workbook) taken as a new input workbook."""
        run = _run(state, run_id, request)
        if run.command != "sample" or run.status != DONE or not run.out.exists():
            raise HTTPException(404, "This run has no sampled workbook.")
        book_id = new_id()
        folder = state.root / "books" / book_id
        folder.mkdir(parents=True)
        path = folder / run.download
        shutil.copyfile(run.out, path)
        return await _keep_book(state, request.state.client, book_id, path, run.download)

    @app.post("/runs/{run_id}/cancel")
    async def run_cancel(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        await state.runs.cancel(run)
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    @app.post("/runs/{run_id}/delete")
    async def run_delete(request: Request, run_id: str) -> Response:
        run = _run(state, run_id, request)
        await state.runs.delete(run)
        state.pages.pop(run.id, None)
        if run.status == CANCELLED and run.id in state.runs.runs:
            return RedirectResponse(f"/runs/{run.id}", status_code=303)
        return RedirectResponse("/", status_code=303)

    return app


# --- helpers ------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, errors: list[dict[str, str]], warnings: list[dict[str, str]] | None = None):
        super().__init__("invalid")
        self.errors = errors
        self.warnings = warnings or []


def _option_error(option: str, message: str) -> dict[str, str]:
    return {"where": f"option {option}", "sheet": "", "cell": "", "message": message}


async def _keep_book(state: State, client: str, book_id: str, path: Path, sent_as: str) -> Response:
    check = await state.runs.check(path)
    state.books[book_id] = Book(book_id, client, Path(sent_as.replace("\\", "/")).name, path, check)
    return RedirectResponse(f"/books/{book_id}", status_code=303)


async def _start(
    state: State,
    client: str,
    fields: dict[str, str],
    book: Path | None,
    sent_as: str,
    check: dict[str, Any] | None = None,
) -> Run:
    """Validate a run's command and options (and its workbook, with ``check``), then queue it.
    Raises :class:`_Invalid` with every problem (422)."""
    command = fields.get("command", "").strip()
    if command not in OPTIONS:
        raise _Invalid(
            [_option_error("command", f"'{command}' is not a command: use one of {list(OPTIONS)}")]
        )
    given = {k: v.strip() for k, v in fields.items() if k != "command" and v.strip() != ""}
    unknown = [k for k in given if k not in OPTIONS[command]]
    problems = [
        _option_error(k, f"'{k}' is not an option of {command} (it takes {OPTIONS[command]})")
        for k in unknown
    ]
    if command == "compare":
        return _start_compare(state, client, given, problems)
    if book is None:
        raise _Invalid(
            [*problems, _option_error("workbook", "send the workbook (field 'workbook')")]
        )
    if check is None:
        check = await state.runs.check(book)
    if check["errors"]:
        raise _Invalid(check["errors"], check["warnings"])
    wb = check.get("workbook", {})
    problems += _options_problems(command, given, wb)
    if problems:
        raise _Invalid(problems, check["warnings"])
    run_id, folder = state.runs.folder()
    name = safe_name(sent_as)
    shutil.copyfile(book, folder / name)
    download = f"{Path(name).stem}-{SUFFIX[command]}.xlsx"
    out = folder / "out" / download
    args = [command, name, "-o", str(Path("out") / download), "--json"]
    for option in OPTIONS[command]:
        if option in given:
            args += [f"--{option}", given[option]]
    title = Path(sent_as.replace("\\", "/")).name + "".join(f" · {k} {v}" for k, v in given.items())
    run = Run(run_id, client, command, given, title, folder, command_argv(*args), out, download)
    state.runs.submit(run)
    return run


def _options_problems(command: str, given: dict[str, str], wb: dict[str, Any]) -> list[dict]:
    problems = []
    route = given.get("route")
    if route is not None and route not in ROUTES:
        problems.append(_option_error("route", f"'{route}' is not a route: use one of {ROUTES}"))
    scenario = given.get("scenario")
    if scenario is not None and scenario not in wb.get("scenarios", []):
        problems.append(
            _option_error("scenario", f"the workbook has no scenario '{scenario}' (Scenarios)")
        )
    if command == "hedge" and not wb.get("weighted"):
        problems.append(
            _option_error(
                "command",
                "hedge needs a scenario with 'Probability (%)' above 0 on the Scenarios sheet",
            )
        )
    if command in ("sample", "risk"):
        if not wb.get("risks"):
            problems.append(
                _option_error("command", f"{command} needs a Risks sheet with at least one risk")
            )
        if command == "sample" and "samples" not in given:
            problems.append(_option_error("samples", "give how many paths to draw, e.g. 200"))
        for key, top in (*MAX_PATHS.items(), ("seed", 2**63 - 1)):
            if key in given:
                text = given[key]
                low = 0 if key == "seed" else 1
                if not text.isdigit() or not low <= int(text) <= top:
                    problems.append(
                        _option_error(key, f"'{text}' is not a whole number from {low} to {top}")
                    )
    if command == "frontier":
        cap, cover = given.get("cap"), given.get("cover")
        if bool(cap) == bool(cover):
            problems.append(_option_error("cap", "give either cap with shares, or cover with days"))
        elif cap:
            if cap not in wb.get("caps", []):
                problems.append(_option_error("cap", f"the workbook has no cap rule '{cap}'"))
            problems += _values_problems("shares", given.get("shares"), percent=True)
        else:
            if cover not in ["ALL", *wb.get("materials", [])]:
                problems.append(
                    _option_error("cover", f"'{cover}' is not a material of the workbook or ALL")
                )
            problems += _values_problems("days", given.get("days"))
    return problems


def _values_problems(option: str, text: str | None, percent: bool = False) -> list[dict]:
    if not text:
        return [_option_error(option, f"give {option}, e.g. 100,80,65,50")]
    try:
        parse_values(text, f"--{option}", percent=percent)
    except InputError as exc:
        return [_option_error(option, i.message) for i in exc.issues]
    return []


def _start_compare(
    state: State, client: str, given: dict[str, str], problems: list[dict[str, str]]
) -> Run:
    runs = []
    for key in ("a", "b"):
        run = state.runs.get(given.get(key, ""), client)
        if run is None or run.command not in PLANS or run.status != DONE:
            problems.append(
                _option_error(
                    key,
                    f"plan {key.upper()} must be a finished solve, stress or hedge run of yours",
                )
            )
        else:
            runs.append(run)
    if problems:
        raise _Invalid(problems)
    a, b = runs
    run_id, folder = state.runs.folder()
    (folder / "out").mkdir()
    names = []
    for tag, r in (("A", a), ("B", b)):
        # The comparison names each plan by its file; two of one name get A-/B- before it.
        name = r.download if a.download != b.download else f"{tag}-{r.download}"
        shutil.copyfile(r.out, folder / name)
        names.append(name)
    download = f"{Path(a.download).stem}-vs-{Path(b.download).stem}.xlsx"
    out = folder / "out" / download
    argv = command_argv("compare", *names, "-o", str(Path("out") / download), "--json")
    title = f"{a.command} of {a.title}  vs  {b.command} of {b.title}"
    run = Run(run_id, client, "compare", {"a": a.id, "b": b.id}, title, folder, argv, out, download)
    state.runs.submit(run)
    return run


HEADLINE = ("Total cost", "Shortfall (t)", "Below floor (t)")
HEADLINE_OF = {
    "hedge": (*HEADLINE, "Expected cost (hedged)", "Value of hedging", "Price of hedging"),
    # the risk workbook's Summary also holds its training hedge's in-sample rows: the page's
    # headline is the out-of-sample figures
    "risk": (
        "Value of hedging (out of sample)",
        "Value of hedging, 95 % low",
        "Value of hedging, 95 % high",
        "Quiet-world cost (no episode)",
        "Hedged cost (no episode)",
    ),
}


def _result(run: Run) -> str:
    """One cell of the runs list: the plan's total cost, or why there is none."""
    summary = run.result.get("summary") or {}
    total = summary.get("Total cost") if isinstance(summary, dict) else None
    if run.status == DONE and isinstance(total, int | float):
        return f"{total:,.0f} {summary.get('Currency') or ''}".strip()
    if run.status == DONE and isinstance(total, dict):  # compare: {A, B, Change}
        change = total.get("Change")
        return f"change {change:+,.0f}" if isinstance(change, int | float) else ""
    return run.message if run.status != DONE else ""


def _figures(run: Run) -> list[tuple[str, str]]:
    """The run's headline figures (its Summary's), as the page shows them."""
    summary = run.result.get("summary") or {}
    if run.status != DONE or run.command == "compare" or not isinstance(summary, dict):
        return []
    currency = str(summary.get("Currency") or "")
    out = []
    for key in HEADLINE_OF.get(run.command, HEADLINE):
        value = summary.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if key.endswith("(t)"):
            out.append((key.removesuffix(" (t)"), f"{value:,.1f} t"))
        else:
            out.append((key, f"{value:,.0f} {currency}".strip()))
    return out


def _run(state: State, run_id: str, request: Request) -> Run:
    run = state.runs.get(run_id, request.state.client) if RUN_ID_RE.match(run_id) else None
    if run is None:
        raise HTTPException(404, "No such run here.")
    return run


def _refusal(exc: Refused) -> Response:
    return JSONResponse(
        {"errors": [_option_error("workbook", exc.message)], "warnings": []},
        status_code=exc.status,
    )


def _public(path: str) -> bool:
    return path in ("/signin",) or path.startswith("/static/")


def _signed_in(request: Request, state: State) -> bool:
    token = (state.settings.token or "").encode()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and hmac.compare_digest(
        header[7:].strip().encode(), token
    ):
        return True
    cookie = request.cookies.get(AUTH_COOKIE, "")
    return bool(state.auth) and hmac.compare_digest(cookie.encode(), (state.auth or "").encode())


def _local(target: str) -> str:
    """Only a path of this server is a place to go back to after signing in."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=7 * 24 * 3600,
    )


def _secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


async def _expire_loop(state: State) -> None:
    # Every 30 s, or more often for a short time to live (a run lives at most 1.25 x it).
    every = min(EXPIRE_EVERY_S, max(state.runs.ttl_s / 4, 0.2))
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            now = time.time()
            await state.runs.expire(now)
            state.expire_books(now)
            for run_id in [k for k in state.pages if k not in state.runs.runs]:
                state.pages.pop(run_id, None)
