"""The server's runs: each command runs as ``ree-plan`` itself in a worker process (so the
plan a planner downloads is the one the command line writes for the same input and options),
at most ``workers`` at once, the rest queued in order. A run belongs to one client; its files
live in its own folder under the server's, and go with it (delete, time to live, shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.progress import LINE_PREFIX

log = logging.getLogger("ree-plan.serve")

QUEUED, RUNNING, DONE, INFEASIBLE, FAILED, CANCELLED = (
    "queued",
    "running",
    "done",
    "infeasible",
    "failed",
    "cancelled",
)
FINISHED = (DONE, INFEASIBLE, FAILED, CANCELLED)
# After SIGTERM (the command's Ctrl-C: HiGHS is interrupted, nothing is written), how long a
# worker has before it is killed.
CANCEL_GRACE_S = 10.0
# What a worker's stderr keeps for the run's message (the command's own last lines).
STDERR_LINES = 40
# A check reads the workbook only; a workbook that takes longer than this is refused.
CHECK_TIMEOUT_S = 120.0


def new_id() -> str:
    """An id nobody can guess (run ids are not secrets, but a guess must not find one)."""
    return secrets.token_hex(16)


@dataclass
class Run:
    id: str
    client: str
    command: str
    options: dict[str, str]
    title: str  # what the list shows: the workbook(s) and options
    folder: Path
    argv: list[str]
    out: Path  # where the command writes its workbook
    download: str  # the name it downloads under
    created: float = field(default_factory=time.time)
    status: str = QUEUED
    progress: str = ""
    result: dict[str, Any] = field(default_factory=dict)  # the command's --json object
    message: str = ""  # why it failed or was cancelled, in words
    started: float | None = None
    finished: float | None = None
    cancel_asked: bool = False
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def answer(self, place: int | None = None) -> dict[str, Any]:
        """``GET /api/runs/{id}``: DESIGN §6's keys, then the command's own ``--json`` keys
        (``stress``, ``hedge``, ``frontier``, ``purchases``, ...)."""
        r = self.result
        progress = self.progress
        if self.status == QUEUED and place:
            progress = f"queued: {_ordinal(place)} in line"
        body: dict[str, Any] = {
            "id": self.id,
            "command": self.command,
            "options": self.options,
            "title": self.title,
            "status": self.status,
            "progress": progress,
            "summary": r.get("summary"),
            "warnings": r.get("warnings", []),
            "explanation": r.get("explanation", []),
            "errors": r.get("errors", []),
            "message": self.message,
            "created": self.created,
            "seconds": round((self.finished or time.time()) - (self.started or time.time()), 2)
            if self.started
            else None,
            "plan": self.status == DONE and self.out.exists(),
        }
        for key, value in r.items():
            if key not in body and key != "written":
                body[key] = value
        return body


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def worker_env(folder: Path) -> dict[str, str]:
    """A worker's environment: progress as lines, temporary files in the run's folder, and
    never a traceback (REE_PLAN_DEBUG is dropped)."""
    env = {k: v for k, v in os.environ.items() if k != "REE_PLAN_DEBUG"}
    env.update(
        REE_PLAN_PROGRESS="lines",
        PYTHONUNBUFFERED="1",
        TMPDIR=str(folder),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def command_argv(*args: str) -> list[str]:
    """``ree-plan ARGS`` as this interpreter runs it."""
    return [sys.executable, "-m", "model.cli", *args]


async def check_book(path: Path, slots: asyncio.Semaphore) -> dict[str, Any]:
    """``ree-plan check BOOK --json`` in a worker process (at most as many at once as
    ``slots`` lets through): ``{errors, warnings, workbook}``."""
    async with slots:
        return await _check(path)


async def _check(path: Path) -> dict[str, Any]:
    folder = path.parent
    proc = await asyncio.create_subprocess_exec(
        *command_argv("check", path.name, "--json"),
        cwd=folder,
        env=worker_env(folder),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CHECK_TIMEOUT_S)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    try:
        answer = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "errors" not in answer:
        said = _plain_lines(err.decode("utf-8", "replace"))
        answer = {
            "errors": [
                {
                    "where": path.name,
                    "sheet": "",
                    "cell": "",
                    "message": "The workbook could not be read"
                    + (f": {said[-1]}" if said else "")
                    + ". Open it in Excel, save it as .xlsx and send it again.",
                }
            ],
            "warnings": [],
        }
    answer.setdefault("warnings", [])
    answer.setdefault("workbook", {})
    return answer


def _plain_lines(text: str) -> list[str]:
    """The lines a command said, without progress lines and never a traceback."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(LINE_PREFIX)]
    if any(ln.startswith("Traceback") for ln in lines):  # the command never prints one
        return ["ree-plan stopped with an internal error (the server's log has the details)"]
    return lines


class Runs:
    """Every run of the server, by id; at most ``workers`` running at once."""

    def __init__(self, root: Path, workers: int, ttl_s: float):
        self.root = root
        self.workers = max(1, workers)
        self.ttl_s = ttl_s
        self.runs: dict[str, Run] = {}
        self.waiting: deque[str] = deque()
        self._slots: asyncio.Semaphore | None = None
        self._check_slots: asyncio.Semaphore | None = None

    @property
    def slots(self) -> asyncio.Semaphore:
        """Runs at once."""
        if self._slots is None:  # made on the server's event loop
            self._slots = asyncio.Semaphore(self.workers)
        return self._slots

    async def check(self, path: Path) -> dict[str, Any]:
        """Check a workbook: as many checks at once as runs, apart from them (a check never
        waits behind a long solve, and eight uploads never start eight processes)."""
        if self._check_slots is None:
            self._check_slots = asyncio.Semaphore(self.workers)
        return await check_book(path, self._check_slots)

    def folder(self) -> tuple[str, Path]:
        run_id = new_id()
        folder = self.root / "runs" / run_id
        folder.mkdir(parents=True)
        return run_id, folder

    def of(self, client: str) -> list[Run]:
        """This client's runs, newest first."""
        mine = [r for r in self.runs.values() if r.client == client]
        return sorted(mine, key=lambda r: r.created, reverse=True)

    def get(self, run_id: str, client: str) -> Run | None:
        """The run, if it is this client's (another client's is as good as absent)."""
        run = self.runs.get(run_id)
        return run if run is not None and run.client == client else None

    def place(self, run: Run) -> int | None:
        try:
            return self.waiting.index(run.id) + 1
        except ValueError:
            return None

    def submit(self, run: Run) -> None:
        self.runs[run.id] = run
        self.waiting.append(run.id)
        run.task = asyncio.get_running_loop().create_task(self._execute(run))

    async def _execute(self, run: Run) -> None:
        try:
            async with self.slots:
                with contextlib.suppress(ValueError):
                    self.waiting.remove(run.id)
                if run.status != QUEUED:  # cancelled while it waited
                    return
                await self._work(run)
        except asyncio.CancelledError:  # shutdown
            await self._stop(run)
            raise
        except Exception:  # never a run left 'running' for ever; the log has the details
            log.exception("run %s failed in the server", run.id)
            await self._stop(run)
            self._finish(run, FAILED, "ree-plan met an internal error running this.")
        finally:
            with contextlib.suppress(ValueError):
                self.waiting.remove(run.id)

    async def _work(self, run: Run) -> None:
        run.status, run.started, run.progress = RUNNING, time.time(), "starting"
        try:
            proc = await asyncio.create_subprocess_exec(
                *run.argv,
                cwd=run.folder,
                env=worker_env(run.folder),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # a signal to the server is not a signal to its runs
            )
        except OSError as exc:
            self._finish(run, FAILED, f"The worker process could not start: {exc}.")
            return
        run.proc = proc
        said: deque[str] = deque(maxlen=STDERR_LINES)

        async def follow() -> None:
            assert proc.stderr is not None
            async for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                if line.startswith(LINE_PREFIX):
                    run.progress = line.removeprefix(LINE_PREFIX)
                elif line.strip():
                    said.append(line)

        assert proc.stdout is not None
        out, _ = await asyncio.gather(proc.stdout.read(), follow())
        rc = await proc.wait()
        run.proc = None
        try:
            result = json.loads(out.decode("utf-8", "replace")) if out.strip() else {}
        except ValueError:
            result = {}
        run.result = result if isinstance(result, dict) else {}
        lines = _plain_lines("\n".join(said))
        if run.cancel_asked:
            # The command says "interrupted" when its Ctrl-C path ran (HiGHS's solve stopped
            # by its interrupt callback); otherwise it was killed after the grace period.
            how = "was interrupted" if "interrupted" in lines else "was stopped"
            self._finish(
                run,
                CANCELLED,
                f"Cancelled while {run.progress or 'starting'}: ree-plan {how} and wrote nothing.",
            )
            self._remove_files(run)
        elif rc == 0 and run.out.exists():
            self._finish(run, DONE, "")
        elif rc == 3:
            self._finish(run, INFEASIBLE, "No plan meets every requirement of the workbook.")
        elif rc == 4:
            self._finish(run, FAILED, "The solver stopped without a plan: " + " ".join(lines))
        elif rc == 2:
            self._finish(run, FAILED, "The workbook or an option has a problem to fix.")
        elif rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            self._finish(
                run,
                FAILED,
                f"The worker process running this {run.command} ended unexpectedly ({name});"
                " nothing was written. Run it again.",
            )
        else:
            self._finish(run, FAILED, " ".join(lines) or f"ree-plan ended with exit code {rc}.")

    def _finish(self, run: Run, status: str, message: str) -> None:
        run.status, run.message, run.finished = status, message, time.time()
        run.progress = ""

    async def cancel(self, run: Run) -> None:
        """Stop a queued or running run (its worker gets the command's Ctrl-C: HiGHS is
        interrupted); it stays listed as cancelled, its files gone."""
        if run.status == QUEUED:
            self._finish(run, CANCELLED, "Cancelled before it started.")
            self._remove_files(run)
            return
        if run.status != RUNNING:
            return
        run.cancel_asked = True
        await self._stop(run)
        if run.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(run.task), CANCEL_GRACE_S + 5)
        if run.status == RUNNING:  # the worker never answered
            self._finish(run, CANCELLED, "Cancelled.")
            self._remove_files(run)

    async def _stop(self, run: Run) -> None:
        proc = run.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), CANCEL_GRACE_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def delete(self, run: Run) -> None:
        """Cancel an active run (it stays listed as cancelled); forget a finished one."""
        if run.active:
            await self.cancel(run)
            return
        self._remove_files(run)
        self.runs.pop(run.id, None)

    def _remove_files(self, run: Run) -> None:
        shutil.rmtree(run.folder, ignore_errors=True)

    async def expire(self, now: float | None = None) -> int:
        """Forget the runs finished longer than the time to live ago, files and all; a run
        still going past it is cancelled. Returns how many went."""
        now = time.time() if now is None else now
        gone = 0
        for run in list(self.runs.values()):
            if now - (run.finished or run.created) <= self.ttl_s:
                continue
            if run.active:
                await self.cancel(run)
            self._remove_files(run)
            self.runs.pop(run.id, None)
            gone += 1
        return gone

    async def shutdown(self) -> None:
        for run in list(self.runs.values()):
            if run.task is not None and not run.task.done():
                run.cancel_asked = True
                await self._stop(run)
                run.task.cancel()
        tasks = [r.task for r in self.runs.values() if r.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
