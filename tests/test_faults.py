"""Interrupts and malformed input, as a planner's machine and mistakes produce them."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import highspy
import pytest

from model.cli.bench import write_synthetic
from model.input.validate import load
from model.lp.formulation import build_model
from model.lp.highs import hand_over, run_highs
from model.lp.scenarios import factors


def test_ctrl_c_stops_highs_mid_solve(tmp_path: Path):
    """Ctrl-C a tenth of a second into HiGHS's solve of the medium benchmark (0.46 s of HiGHS
    on a quiet day here, 3 s on a busy one): HiGHS is stopped by its interrupt callback
    (status Interrupt, not Optimal) and the KeyboardInterrupt reaches the caller, who cleans
    up and exits. The timer is cancelled whatever happens: a Ctrl-C that came after a solve
    too quick for it would stop the whole test run (it did, at 0.5 s)."""
    book = tmp_path / "medium.xlsx"
    write_synthetic("medium", str(book))
    data = load(book)
    h = hand_over(build_model(data, factors(data, None))).highs
    timer = threading.Timer(0.1, _thread.interrupt_main)
    t0 = time.perf_counter()
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            run_highs(h)
    finally:
        timer.cancel()
    assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt, (
        h.modelStatusToString(h.getModelStatus()),
        time.perf_counter() - t0,
    )
