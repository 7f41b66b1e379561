"""A real ``ree-plan serve`` on 127.0.0.1 for the tests, and clients that refuse any answer
showing a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, proc: subprocess.Popen[str], url: str, tmp: Path):
        self.proc, self.url, self.tmp = proc, url, tmp

    def client(self, **kw: Any) -> httpx.Client:
        """A client of its own (its own cookie: another planner), failing on a traceback."""

        def no_traceback(response: httpx.Response) -> None:
            response.read()
            assert b"Traceback" not in response.content, response.text[:2000]

        return httpx.Client(
            base_url=self.url, timeout=60, event_hooks={"response": [no_traceback]}, **kw
        )

    def root(self) -> Path:
        """The server's own temporary folder (the only one under its TMPDIR)."""
        (found,) = [p for p in self.tmp.iterdir() if p.name.startswith("ree-plan-serve-")]
        return found


@contextmanager
def serving(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``ree-plan serve --port P ARGS`` with TMPDIR=tmp; stopped with Ctrl-C at the end."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    full_env.pop("REE_PLAN_DEBUG", None)
    log = (tmp.parent / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "model.cli", "serve", "--port", str(port), *args],
        cwd=tmp.parent,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server ended: {(tmp.parent / log.name).read_text()}")
        try:
            if httpx.get(url + "/static/app.css", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not start in 60 s")
        time.sleep(0.2)
    server = Server(proc, url, tmp)
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_run(client: httpx.Client, run_id: str, timeout: float = 120) -> dict[str, Any]:
    """The run's answer once it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/api/runs/{run_id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] not in ("queued", "running"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def wait_status(
    client: httpx.Client, run_id: str, want: str, timeout: float = 60, progress: str = ""
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/runs/{run_id}").json()
        if body["status"] == want and progress in (body["progress"] or ""):
            return body
        assert body["status"] in ("queued", "running", want), body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def submit(client: httpx.Client, book: Path, command: str, **options: str) -> httpx.Response:
    with book.open("rb") as f:
        return client.post(
            "/api/runs",
            files={"workbook": (book.name, f, "application/octet-stream")},
            data={"command": command, **options},
        )


def worker_pids(run_id: str) -> list[int]:
    """The worker processes running this run (their working folder is the run's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if run_id in os.readlink(proc / "cwd"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
