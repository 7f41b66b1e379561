"""One line of progress on stderr for runs that take more than a moment: what ree-plan is
doing and, while HiGHS solves, for how long. Only on a terminal, and not with ``-q``; a pipe,
a file or a script sees nothing of it."""

from __future__ import annotations

import sys

_state = {"on": False, "shown": False}


def enable(on: bool) -> None:
    _state["on"] = on


def say(message: str) -> None:
    """Replace the progress line with ``message``."""
    if _state["on"]:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()
        _state["shown"] = True


def clear() -> None:
    """Remove the progress line (before the results are printed)."""
    if _state["on"] and _state["shown"]:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        _state["shown"] = False
