"""``ree-plan serve``: start the page on this machine (loopback) or, with a token, for a team."""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
import webbrowser

import uvicorn

from model.web.app import Settings, create_app


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str,
    port: int,
    token: str | None,
    workers: int,
    open_browser: bool,
    max_upload_mb: int,
    max_unpacked_mb: int,
    ttl_minutes: float,
) -> int:
    """Serve until Ctrl-C; 2 when told to listen beyond this machine without a token."""
    token = token or os.environ.get("REE_PLAN_TOKEN") or None
    if not loopback(host) and not token:
        print(
            f"ree-plan serve: listening on {host} lets other machines reach the page; give a"
            " token (--token T or REE_PLAN_TOKEN) that every request must carry, or listen on"
            " 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if workers < 1 or max_upload_mb < 1 or max_unpacked_mb < 1 or ttl_minutes <= 0:
        print(
            "ree-plan serve: --workers, --max-upload-mb, --max-unpacked-mb and --ttl-minutes"
            " must be above 0",
            file=sys.stderr,
        )
        return 2
    app = create_app(
        Settings(
            token=token,
            workers=workers,
            max_upload_mb=max_upload_mb,
            max_unpacked_mb=max_unpacked_mb,
            ttl_minutes=ttl_minutes,
        )
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(
                f"ree-plan serving on {url} ({workers} worker{'s' if workers != 1 else ''}"
                f"{', token required' if token else ''}); Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    return 0 if server.started else 1
