"""One line of progress on stderr for runs that take more than a moment: what ree-plan is
doing and, while HiGHS solves, for how long. Only on a terminal, and not with ``-q``; a pipe,
a file or a script sees nothing of it — except ``ree-plan serve``'s workers, which ask for
one ``progress: ...`` line per step (environment ``REE_PLAN_PROGRESS=lines``) and show it on
the run's page."""

from __future__ import annotations

import sys

_state = {"on": False, "shown": False, "lines": False}
LINE_PREFIX = "progress: "


def enable(on: bool, lines: bool = False) -> None:
    """Show progress on a terminal (``on``), or as whole lines for a reading program."""
    _state["on"] = on and not lines
    _state["lines"] = lines


def say(message: str) -> None:
    """Replace the progress line with ``message``."""
    if _state["lines"]:
        sys.stderr.write(f"{LINE_PREFIX}{message}\n")
        sys.stderr.flush()
    elif _state["on"]:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()
        _state["shown"] = True


def clear() -> None:
    """Remove the progress line (before the results are printed)."""
    if _state["on"] and _state["shown"]:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        _state["shown"] = False
