"""What ``ree-plan bench`` runs in a fresh process (``python -m model.cli.bench_child KIND ...``),
so that a figure does not carry the parent's imports, memory or HiGHS thread pool:

- ``alone LP_FILE STRATEGY THREADS [TIME_LIMIT]``: HiGHS alone on a saved LP, with only numpy
  and highspy imported; prints its time and peak memory (VmHWM, since ``ru_maxrss`` of a child
  keeps the parent's size from before ``exec``);
- ``route BOOK``: the Pyomo route's stages against the direct route's hand-over and HiGHS's
  solve (Pyomo's import counts);
- ``synthetic SIZE BOOK HEDGE``: write a synthetic input workbook.

Each prints one JSON line on stdout (``synthetic`` prints nothing)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def highs_alone(lp_file: str, strategy: int, threads: int, time_limit: float | None) -> dict:
    import highspy
    import numpy as np

    z = np.load(lp_file)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(z["n_col"]), int(z["n_row"])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = z["cost"], z["lo"], z["hi"]
    lp.row_lower_, lp.row_upper_ = z["rlo"], z["rhi"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        z["start"],
        z["index"],
        z["value"],
    )
    del z
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("simplex_strategy", strategy)
    h.setOptionValue("threads", threads)
    if time_limit:
        h.setOptionValue("time_limit", time_limit)
    h.passModel(lp)
    del lp
    t = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    return {
        "highs_alone_s": seconds,
        "highs_alone_rss_mb": hwm,
        "objective": h.getInfo().objective_function_value,
        "iterations": h.getInfo().simplex_iteration_count,
        "status": h.modelStatusToString(h.getModelStatus()),
    }


def route_stages(book: str) -> dict[str, Any]:
    from model.input.validate import load
    from model.lp.formulation import build_model
    from model.lp.highs import hand_over, run_lp
    from model.lp.scenarios import factors

    data = load(book)
    f = factors(data, None)
    out: dict[str, Any] = {}
    t = time.perf_counter()
    b = build_model(data, f)
    out["build_s"] = time.perf_counter() - t
    out["variables"] = b.n_variables
    t = time.perf_counter()
    h = hand_over(b).highs
    out["direct_hand_over_s"] = time.perf_counter() - t
    out["highs_s"] = run_lp(h).highs_s
    del h, b
    t = time.perf_counter()
    import pyomo.environ  # noqa: F401  (its import time is the figure)
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from model.lp import algebra

    out["pyomo_import_s"] = time.perf_counter() - t
    b = build_model(data, f, route="pyomo")
    t = time.perf_counter()
    pm = algebra.to_pyomo(b)
    out["declare_s"] = time.perf_counter() - t
    t = time.perf_counter()
    LinearStandardFormCompiler().write(pm.m, mixed_form=True, set_sense=None)
    out["compile_s"] = time.perf_counter() - t
    t = time.perf_counter()
    from pyomo.contrib.appsi.solvers.highs import Highs as Appsi

    Appsi().set_instance(pm.m)
    out["appsi_set_instance_s"] = time.perf_counter() - t
    return out


def main(argv: list[str]) -> None:
    kind, args = argv[0], argv[1:]
    if kind == "alone":
        limit = float(args[3]) if len(args) > 3 else None
        print(json.dumps(highs_alone(args[0], int(args[1]), int(args[2]), limit)))
    elif kind == "route":
        print(json.dumps(route_stages(args[0])))
    elif kind == "synthetic":
        from model.cli.bench import write_synthetic

        write_synthetic(args[0], args[1], int(args[2]))
    else:
        raise SystemExit(f"unknown bench child {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
