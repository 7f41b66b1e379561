"""``ree-plan bench``: a synthetic workbook of stated size, timed stage by stage.

Sizes (offers = suppliers x materials each offers, plus recycling streams):

======  =========  =========  =======  =======  ========
size    suppliers  materials  sectors  periods  offers
======  =========  =========  =======  =======  ========
small   10         3          3        8        ~22
medium  40         8          4        24       ~140
large   100        17         5        60       ~420
======  =========  =========  =======  =======  ========

Every supplier offers a few materials, with capacities, prices and windows drawn from a fixed
seed; demand grows per sector; caps of every scope (per mine country per material, per refining
country pooled, per supplier per material, a Defense ban through the stockpile), recycling,
alternatives and stock floors are all present, so the LP has the structure of a real plan.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.cli.commands import hedge_preface
from model.excel.report import write_plan
from model.input.examples import write_examples
from model.input.template import write_input_workbook
from model.input.validate import load, validate
from model.input.workbook import read_workbook
from model.lp.formulation import build_model
from model.lp.highs import (
    OPTIMAL,
    SIMPLEX_DUAL_PAMI,
    SIMPLEX_DUAL_SERIAL,
    SOLVER_THREADS,
    hand_over,
    release_memory,
    run,
    strategy,
)
from model.lp.scenarios import factors
from model.plan.marginals import ranging_wanted
from model.studies.baseline import choose_plan, extract_plan, plan_problems, solve_chosen
from model.studies.extensive import extensive_form
from model.studies.frontier import CAP, Sweep, dask_client, evaluate, frontier_data
from model.studies.hedge import hedge_data, scenario_set
from model.studies.risk import HEDGED, QUIET, follow, follow_all
from model.studies.sampling import alike, draw, paths_of, scenario_rows
from model.studies.stress import stress_data

SIZES: dict[str, dict[str, int]] = {
    "small": {
        "suppliers": 10,
        "materials": 3,
        "sectors": 3,
        "periods": 8,
        "per_supplier": 2,
        "streams": 2,
    },
    "medium": {
        "suppliers": 40,
        "materials": 8,
        "sectors": 4,
        "periods": 24,
        "per_supplier": 3,
        "streams": 6,
    },
    "large": {
        "suppliers": 100,
        "materials": 17,
        "sectors": 5,
        "periods": 60,
        "per_supplier": 4,
        "streams": 20,
    },
}
COUNTRIES = [
    "China",
    "Myanmar",
    "Australia",
    "USA",
    "Malaysia",
    "Vietnam",
    "Brazil",
    "India",
    "Russia",
    "Canada",
    "France",
    "Estonia",
    "Japan",
    "South Africa",
    "Greenland",
]
ELEMENTS = [
    "NdPr",
    "Dy",
    "Tb",
    "La",
    "Ce",
    "Sm",
    "Gd",
    "Eu",
    "Y",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Sc",
    "Pm",
    "Pr",
]
SECTORS = ["Automotive", "Defense", "Renewables", "Electronics", "Industrial"]


def synthetic_rows(size: str, seed: int = 7, hedge: int = 0) -> dict[str, list[dict[str, Any]]]:
    """The rows of a synthetic workbook of ``size`` (see the module table); with ``hedge`` > 0,
    that many scenarios with probabilities (see :func:`hedge_scenarios`) replace the two
    unweighted ones."""
    p = SIZES[size]
    rng = np.random.default_rng(seed)
    periods = [f"M{i + 1:03d}" for i in range(p["periods"])]
    materials = [f"{e} oxide" for e in ELEMENTS[: p["materials"]]]
    sectors = SECTORS[: p["sectors"]]
    base_price = dict(zip(materials, rng.uniform(5, 1500, len(materials)), strict=True))
    demand_scale = dict(zip(materials, rng.uniform(20, 400, len(materials)), strict=True))
    suppliers, total_cap = [], dict.fromkeys(materials, 0.0)
    for i in range(p["suppliers"]):
        mine = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))] if i % 3 else "China"
        refine = "China" if i % 2 == 0 else mine
        for m in rng.choice(materials, size=min(p["per_supplier"], len(materials)), replace=False):
            cap = float(rng.uniform(0.1, 0.5) * demand_scale[m] * len(sectors))
            total_cap[m] += cap
            first = int(rng.integers(0, max(1, len(periods) // 4))) if i % 5 == 0 else 0
            suppliers.append(
                {
                    "Supplier": f"Supplier {i + 1:03d}",
                    "Material": m,
                    "Mine country": mine,
                    "Refine country": refine,
                    "Capacity (t per period)": round(cap, 1),
                    "Price (per kg)": round(base_price[m] * rng.uniform(0.8, 1.6), 2),
                    "Min purchase (t per period)": round(0.05 * cap, 1) if i % 7 == 0 else None,
                    "First period": periods[first] if first else None,
                }
            )
    demand = []
    for k_i, k in enumerate(sectors):
        for m in materials:
            share = rng.uniform(0.5, 1.5) / len(sectors)
            growth = 1 + 0.002 * (k_i + 1)
            q0 = demand_scale[m] * len(sectors) * share * 0.8
            demand.append(
                {
                    "Sector": k,
                    "Material": m,
                    **{t: round(q0 * growth**j, 2) for j, t in enumerate(periods)},
                }
            )
    streams = [
        {
            "Stream": f"Recycler {j + 1:02d}",
            "Material": materials[j % len(materials)],
            "Country": COUNTRIES[(j * 5) % len(COUNTRIES)],
            "Capacity (t per period)": round(0.05 * demand_scale[materials[j % len(materials)]], 1),
            "Cost (per kg)": round(base_price[materials[j % len(materials)]] * 1.1, 2),
        }
        for j in range(p["streams"])
    ]
    rows = {
        "Settings": [{"Setting": "Time limit (s)", "Value": 600}],
        "Periods": [{"Period": t, "Days": 30} for t in periods],
        "Materials": [
            {
                "Material": m,
                "Initial stock (t)": round(demand_scale[m], 1),
                "Min cover (days)": 30,
                "Holding cost (per kg per period)": 0.2,
                "Below-floor penalty (per kg per period)": round(base_price[m] * 2, 2),
            }
            for m in materials
        ],
        "Sectors": [
            {"Sector": k, "Shortfall penalty (per kg)": 20000 + 1000 * i}
            for i, k in enumerate(sectors)
        ],
        "Demand": demand,
        "Suppliers": suppliers,
        "Recycling": streams,
        "Alternatives": [
            {
                "Sector": sectors[0],
                "Material": m,
                "Max share (%)": 10,
                "Cost (per kg)": round(base_price[m] * 1.3, 2),
            }
            for m in materials
        ],
        "Caps": [
            {
                "Rule": "Mine 60%",
                "Basis": "Mine country",
                "Group": "EACH",
                "Material": "EACH",
                "Sector": "ALL",
                "Max share (%)": 60,
            },
            {
                "Rule": "Refine 65% pooled",
                "Basis": "Refine country",
                "Group": "EACH",
                "Material": "ALL",
                "Sector": "ALL",
                "Max share (%)": 65,
            },
            {
                "Rule": "Supplier 40%",
                "Basis": "Supplier",
                "Group": "EACH",
                "Material": "EACH",
                "Sector": "ALL",
                "Max share (%)": 40,
            },
            {
                "Rule": "No China-refined for Defense",
                "Basis": "Refine country",
                "Group": "China",
                "Material": "ALL",
                "Sector": sectors[1],
                "Max share (%)": 0,
            },
        ],
        "Scenarios": [
            {
                "Scenario": "China stops",
                "Effect": "Capacity",
                "Basis": "Refine country",
                "Target": "China",
                "Change (%)": -100,
                "First period": periods[len(periods) // 2],
                "Last period": periods[len(periods) // 2 + 1],
            },
            {
                "Scenario": "Demand surge",
                "Effect": "Demand",
                "Basis": "Sector",
                "Target": sectors[0],
                "Change (%)": 30,
                "First period": periods[len(periods) // 3],
            },
        ],
    }
    if hedge:
        rows["Scenarios"] = hedge_scenarios(periods, sectors, hedge)
    return rows


def hedge_scenarios(periods: list[str], sectors: list[str], n: int) -> list[dict[str, Any]]:
    """``n`` shocks for the hedge, 10 % each (at most 9), starting from a quarter of the
    horizon to three quarters, cycling through: China-refined capacity -60 % for two periods,
    a sector's demand +30 % to the end, Supplier 002 stops for three periods, prices
    +50 % for four periods."""
    if not 0 < n <= 9:
        raise ValueError("--hedge takes 1 to 9 scenarios (10 % each)")
    out = []
    span = len(periods)
    for i in range(n):
        t0 = span // 4 + (span // 2) * i // max(1, n - 1) if n > 1 else span // 2
        kind = i % 4
        effect, basis, target, change, length = [
            ("Capacity", "Refine country", "China", -60, 2),
            ("Demand", "Sector", sectors[0], 30, span),
            ("Capacity", "Supplier", "Supplier 002", -100, 3),
            ("Price", "Material", "ALL", 50, 4),
        ][kind]
        out.append(
            {
                "Scenario": f"Shock {i + 1}",
                "Effect": effect,
                "Basis": basis,
                "Target": target,
                "Change (%)": change,
                "First period": periods[t0],
                "Last period": periods[min(span - 1, t0 + length - 1)],
                "Probability (%)": 10,
            }
        )
    return out


def write_synthetic(size: str, path: str, hedge: int = 0) -> None:

    write_input_workbook(path, synthetic_rows(size, hedge=hedge), force=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class Stage:
    name: str
    seconds: float


def _highs_alone(
    lp_file: Path,
    strategy: int = SIMPLEX_DUAL_PAMI,
    threads: int = SOLVER_THREADS,
    time_limit: float | None = None,
) -> dict[str, float]:
    """HiGHS given the same matrices, with the same options, in a fresh process: its own time
    and peak memory. (A fresh process also because HiGHS fixes its thread pool at the first
    solve of a process.)

    Memory is the child's VmHWM: ``ru_maxrss`` of a child keeps the parent's size from before
    ``exec``, which would charge our memory to HiGHS."""
    args = [str(lp_file), str(int(strategy)), str(int(threads))]
    args += [str(float(time_limit))] if time_limit else []
    out = _child("alone", *args)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _clean(tmp: Path, kept: Path | None = None) -> None:
    """Remove the bench's temporary files and folder, all but a plan asked to be ``kept``."""
    for p in tmp.iterdir():
        if p != kept:
            p.unlink()
    if kept is None or kept.parent != tmp:
        os.rmdir(tmp)
    gc.collect()


def kept_input(plan: Path) -> Path:
    """Where ``bench --keep PLAN`` keeps the synthetic input: beside the plan."""
    return plan.with_name(f"{plan.stem}-input.xlsx")


def _write_input(size: str, book: Path, hedge: int = 0) -> None:
    """The synthetic input, written by a child process so that making it does not count in
    our memory."""
    _child("synthetic", size, str(book), str(hedge))


# The repository's root: the child imports this checkout's model package.
_ROOT = Path(__file__).resolve().parents[2]


def _child(kind: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m model.cli.bench_child KIND ARGS`` in a fresh process (see that module)."""
    return subprocess.run(
        [sys.executable, "-m", "model.cli.bench_child", kind, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=_ROOT,
    )


def run_hedge_bench(size: str, n: int, keep: str | None = None) -> dict[str, Any]:
    """Time ``ree-plan hedge`` stage by stage on a synthetic workbook with ``n`` weighted
    scenarios; HiGHS's own time is the extensive form's two passes plus the single model's
    baseline, stress and foresight solves; the rest is overhead."""

    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    book = tmp / f"bench-{size}-hedge{n}.xlsx"
    _write_input(size, book, n)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    raw = read_workbook(book)
    timings["read_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = validate(raw)
    timings["validate_s"] = time.perf_counter() - t0
    res = hedge_data(data)
    if res.plan is None:
        _clean(tmp)
        raise RuntimeError(f"bench hedge not solved: {res.status} {res.explanation[:3]}")
    timings.update(res.timings)
    out = Path(keep) if keep else tmp / "hedge.xlsx"
    t0 = time.perf_counter()
    sheets = {
        "Hedge": pd.DataFrame(res.rows),
        "Hedge purchases": res.purchases,
        "Hedge stock": res.stock,
    }
    write_plan(out, res.plan, data, sheets, hedge_preface(data, res))
    timings["write_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    rss = peak_rss_mb()
    highs_ext = timings["highs_s"]
    highs_all = highs_ext + timings["stress_foresight_highs_s"]
    overhead = timings["total_s"] - highs_all

    # The extensive form's first pass again, for HiGHS alone in a fresh process.
    b = build_model(data, factors(data, None))
    ext = extensive_form(data, b, scenario_set(data), history=True)
    lp_file = tmp / "lp.npz"
    n_cols = _save_extensive(ext, lp_file)
    del ext, b
    alone = _highs_alone(lp_file, *strategy(n_cols))
    result = {
        "size": size,
        "hedge_scenarios": n,
        **res.size,
        **{k: round(v, 3) for k, v in timings.items()},
        "highs_all_s": round(highs_all, 3),
        "overhead_s": round(overhead, 3),
        "overhead_over_highs_extensive": round(overhead / highs_ext, 3),
        "peak_rss_mb": round(rss, 1),
        "highs_alone_s": round(alone["highs_alone_s"], 3),
        "highs_alone_rss_mb": round(alone["highs_alone_rss_mb"], 1),
        "rss_over_highs_alone": round(rss / alone["highs_alone_rss_mb"], 3),
        "hedge_objective": res.summary["Hedge objective"],
        "value_of_hedging": res.summary["Value of hedging"],
    }
    if keep:  # the input too, so that stress or hedge can be rerun on it
        shutil.copyfile(book, kept_input(out))
    _clean(tmp, out if keep else None)
    return result


STRATEGIES = {  # name -> (HiGHS simplex_strategy, threads)
    "serial dual, 1 thread": (SIMPLEX_DUAL_SERIAL, 1),
    "serial dual, 2 threads": (SIMPLEX_DUAL_SERIAL, 2),
    "PAMI dual, 1 thread": (SIMPLEX_DUAL_PAMI, 1),
    "PAMI dual, 2 threads": (SIMPLEX_DUAL_PAMI, 2),
}


def _lp_file(size: str, tmp: Path) -> Path:
    """The baseline LP of the synthetic workbook of ``size``, as HiGHS's matrices in a file."""

    book = tmp / f"bench-{size}.xlsx"
    _write_input(size, book)
    data = load(book)
    path = tmp / f"lp-{size}.npz"
    _save_lp(hand_over(build_model(data, factors(data, None))).highs.getLp(), path)
    return path


def _save_lp(lp: Any, path: Path) -> tuple[int, int, int]:
    """A HighsLp's arrays in an .npz file, for :func:`_highs_alone`; (columns, rows, nonzeros)."""
    a = lp.a_matrix_
    np.savez(
        path,
        n_col=lp.num_col_,
        n_row=lp.num_row_,
        cost=np.asarray(lp.col_cost_),
        lo=np.asarray(lp.col_lower_),
        hi=np.asarray(lp.col_upper_),
        rlo=np.asarray(lp.row_lower_),
        rhi=np.asarray(lp.row_upper_),
        start=np.asarray(a.start_),
        index=np.asarray(a.index_),
        value=np.asarray(a.value_),
    )
    return lp.num_col_, lp.num_row_, len(a.index_)


def run_strategy_bench(
    sizes: list[str], busy: int = 2, repeat: int = 2, time_limit: float = 240.0
) -> dict[str, Any]:
    """HiGHS alone on each size's LP with each of :data:`STRATEGIES`, on a quiet machine and
    with ``busy`` CPU-bound processes beside it (a planner's laptop running a browser, a
    video call, a compile): seconds per run, the best and worst of ``repeat`` runs (one at
    large), each stopped at ``time_limit`` seconds (status 'Time limit reached'). Each row is
    also printed on stderr as it is measured."""
    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    rows: list[dict[str, Any]] = []
    try:
        for size in sizes:
            lp_file = _lp_file(size, tmp)
            for load_name, n_busy in (("quiet", 0), (f"{busy} busy processes", busy)):
                burners = [
                    subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(n_busy)
                ]
                try:
                    for name, (simplex, threads) in STRATEGIES.items():
                        runs = [
                            _highs_alone(lp_file, simplex, threads, time_limit)
                            for _ in range(1 if size == "large" else repeat)
                        ]
                        secs = [r["highs_alone_s"] for r in runs]
                        rows.append(
                            {
                                "size": size,
                                "machine": load_name,
                                "strategy": name,
                                "best_s": round(min(secs), 3),
                                "worst_s": round(max(secs), 3),
                                "iterations": runs[0]["iterations"],
                                "status": runs[-1]["status"],
                            }
                        )
                        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                finally:
                    for p in burners:
                        p.kill()
                        p.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"strategies": rows}


def run_route_bench(sizes: list[str]) -> dict[str, Any]:
    """The Pyomo route's cost against HiGHS's time, per size, each in a fresh process (Pyomo's
    import counts): import, declare (model.lp.algebra), compile (Pyomo's
    LinearStandardFormCompiler; or appsi_highs's set_instance instead), against the direct
    route's hand-over and HiGHS's own solve. ``pyomo_added_s`` = import + declare + compile;
    the rule of ``Model route`` = Auto: the Pyomo route where that is at most 3 s or 25 % of
    HiGHS's time, whichever is larger."""
    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    rows = []
    try:
        for size in sizes:
            book = tmp / f"bench-{size}.xlsx"
            _write_input(size, book)
            r = json.loads(_child("route", str(book)).stdout.strip().splitlines()[-1])
            added = r["pyomo_import_s"] + r["declare_s"] + r["compile_s"]
            allowed = max(3.0, 0.25 * r["highs_s"])
            rows.append(
                {
                    "size": size,
                    **{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()},
                    "pyomo_added_s": round(added, 3),
                    "allowed_s": round(allowed, 3),
                    "pyomo_within_rule": added <= allowed,
                }
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"routes": rows}


def _on_dask(workers: int, run: Callable[[Any], Any]) -> tuple[Any, float, float]:
    """``run(client)`` on a Dask LocalCluster of ``workers`` processes: its result, the
    cluster's start and the run's seconds."""
    t0 = time.perf_counter()
    client, cluster = dask_client(workers, None)
    start_s = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        result = run(client)
        return result, start_s, time.perf_counter() - t1
    finally:
        client.close()
        cluster.close()


def run_frontier_bench(size: str, workers: int = 0) -> dict[str, Any]:
    """Time ``ree-plan frontier`` on the synthetic workbook: the cap 'Refine 65% pooled' swept
    over 100, 80, 65, 50, 40 %, each point with its stress test of the two scenarios. Serial
    (one model, warm re-solves) against each point solved cold on its own, and, with
    ``workers``, against a Dask LocalCluster of that many processes (its start included)."""

    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    book = tmp / f"bench-{size}.xlsx"
    _write_input(size, book)
    data = load(book)
    sweep = Sweep(CAP, "Refine 65% pooled", (100.0, 80.0, 65.0, 50.0, 40.0))
    t0 = time.perf_counter()
    serial = frontier_data(data, sweep)
    serial_s = time.perf_counter() - t0
    cold = []
    for v in sweep.values:  # each point alone: build, hand-over and every solve cold
        t0 = time.perf_counter()
        evaluate(data, sweep, (v,))
        cold.append(time.perf_counter() - t0)
    result: dict[str, Any] = {
        "size": size,
        "points": len(sweep.values),
        "scenarios": len(data.scenario_names),
        "serial_s": round(serial_s, 3),
        "serial_point_s": [round(float(x), 3) for x in serial["_seconds"]],
        "serial_status": serial["Status"].str.slice(0, 60).tolist(),
        "serial_total_cost": serial["Total cost"].tolist(),
        "cold_point_s": [round(x, 3) for x in cold],
        # Points after the first (which starts cold in both): warm time over cold time.
        "warm_over_cold": round(float(serial["_seconds"].iloc[1:].sum()) / sum(cold[1:]), 3),
    }
    if workers:
        parallel, start_s, run_s = _on_dask(workers, lambda c: frontier_data(data, sweep, c))
        same = bool(
            (parallel["Status"].tolist() == serial["Status"].tolist())
            and np.allclose(parallel["Total cost"], serial["Total cost"], rtol=1e-7, equal_nan=True)
        )
        result.update(
            {
                "workers": workers,
                "dask_start_s": round(start_s, 3),
                "dask_run_s": round(run_s, 3),
                "dask_total_over_serial": round((start_s + run_s) / serial_s, 3),
                "dask_same_costs": same,
                "dask_status": parallel["Status"].str.slice(0, 60).tolist(),
                "dask_total_cost": parallel["Total cost"].tolist(),
            }
        )
    _clean(tmp)
    return result


def run_bench(size: str, keep: str | None = None, ranging: str = "Auto") -> dict[str, Any]:
    """Time each stage of a real solve on a synthetic workbook (with the 'Sensitivity
    ranging' setting ``ranging``); return the figures."""

    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    book = tmp / f"bench-{size}.xlsx"
    _write_input(size, book)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Any, *a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*a, **kw)
        timings[name] = time.perf_counter() - t0
        return out

    t_start = time.perf_counter()
    raw = timed("read_s", read_workbook, book)
    data = replace(timed("validate_s", validate, raw), ranging=ranging)
    f = factors(data, None)
    b = timed("build_s", build_model, data, f)
    handle = timed("solve_s", hand_over, b, data.time_limit_s)
    t0 = time.perf_counter()
    ranged = ranging_wanted(data.ranging, b.n_variables)
    sol = run(handle, duals=True, ranging=ranged)
    timings["highs_s"] = sol.highs_s
    duals_s = time.perf_counter() - t0 - sol.highs_s
    if sol.status != OPTIMAL:
        raise RuntimeError(f"bench instance not solved: {sol.detail}")
    # DESIGN §2 steps 2 and 3: the most resilient, then the least-norm, of the cheapest plans.
    sol, choice = timed("choose_s", choose_plan, data, b, handle, sol, None)
    del handle  # as `ree-plan solve` does: HiGHS's memory is not needed past the solve
    release_memory()
    plan = timed("extract_s", extract_plan, b, sol, None)
    timings["extract_s"] += duals_s  # duals (and ranging, when asked for) included
    problems = timed("check_s", plan_problems, b, plan)
    if problems:
        raise RuntimeError("post-solve check failed: " + "; ".join(problems[:3]))
    out = Path(keep) if keep else tmp / "plan.xlsx"
    timed("write_s", write_plan, out, plan, data)
    timings["total_s"] = time.perf_counter() - t_start
    rss = peak_rss_mb()

    # The same LP again, outside the timed run, for HiGHS alone.
    h = hand_over(build_model(data, f)).highs
    lp_file = tmp / "lp.npz"
    n_var, n_con, nnz = _save_lp(h.getLp(), lp_file)
    alone = _highs_alone(lp_file, *strategy(n_var))  # the options ree-plan's own solve used
    # Stress: one cold re-solve vs the warm per-scenario re-solve on the same instance.

    t0 = time.perf_counter()
    stressed = stress_data(data)
    stress_s = time.perf_counter() - t0
    warm = float(np.mean(stressed.resolve_s)) if stressed.resolve_s else float("nan")
    result = {
        "size": size,
        "variables": n_var,
        "constraints": n_con,
        "nonzeros": nnz,
        "ranging": ranged,
        **{k: round(v, 3) for k, v in timings.items()},
        "overhead_s": round(timings["total_s"] - timings["highs_s"], 3),
        "total_over_highs": round(timings["total_s"] / timings["highs_s"], 3),
        "peak_rss_mb": round(rss, 1),
        "highs_alone_s": round(alone["highs_alone_s"], 3),
        "highs_alone_rss_mb": round(alone["highs_alone_rss_mb"], 1),
        "rss_over_highs_alone": round(rss / alone["highs_alone_rss_mb"], 3),
        "plan_choice": choice.note,
        "stress_s": round(stress_s, 3),
        "stress_resolve_s": round(warm, 3),
        "stress_resolve_over_cold": round(warm / stressed.baseline.solution.highs_s, 3),
        "scenarios": len(data.scenario_names),
        "objective": sol.objective,
    }
    if keep:  # the input too, so that stress or hedge can be rerun on it
        shutil.copyfile(book, kept_input(out))
    _clean(tmp, out if keep else None)
    return result


def _save_extensive(ext: Any, path: Path) -> int:
    """The extensive form's first pass as an LP file for :func:`_highs_alone`; its columns."""
    a = ext.a
    np.savez(
        path,
        n_col=a.shape[1],
        n_row=a.shape[0],
        cost=ext.objective,
        lo=np.where(np.isinf(ext.lower), -1e30, ext.lower),
        hi=np.where(np.isinf(ext.upper), 1e30, ext.upper),
        rlo=np.where(np.isinf(ext.row_lower), -1e30, ext.row_lower),
        rhi=np.where(np.isinf(ext.row_upper), 1e30, ext.row_upper),
        start=a.indptr,
        index=a.indices,
        value=a.data,
    )
    return int(a.shape[1])


def run_risk_bench(
    samples: int = 500, trains: tuple[int, ...] = (50, 100, 200), workers: int = 2
) -> dict[str, Any]:
    """``ree-plan bench --risk``, on the national example (DESIGN §7):

    - the hedge over M training paths (each M of ``trains``, in this order, in this process):
      its overhead over HiGHS's own time (the extensive form's two passes and the single
      model's stress and foresight re-solves), its peak memory against HiGHS alone on the same
      extensive form in a fresh process, and, fitted to those, the path count at which HiGHS
      alone would need this machine's 24 GiB;
    - ``samples`` test paths followed by the quiet-world and the largest hedge's plans with
      warm re-solves: the overhead per path beyond HiGHS's own time;
    - the same on a Dask LocalCluster of ``workers`` processes (its start included)."""
    tmp = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    write_examples(tmp)
    data = load(tmp / "national-plan.xlsx")
    hedges = []
    values = None
    for m in trains:
        named = alike(paths_of(data, draw(np.random.default_rng(0), m, data)))
        train = replace(data, scenarios=scenario_rows(data, [(n, p, c / m) for n, p, c in named]))
        t0 = time.perf_counter()
        res = hedge_data(train)
        total = time.perf_counter() - t0
        if res.plan is None:
            raise RuntimeError(f"bench risk: the hedge over {m} paths has no plan: {res.status}")
        values = res.values["Baseline"]
        highs_all = res.timings["highs_s"] + res.timings["stress_foresight_highs_s"]
        rss = peak_rss_mb()
        b = build_model(train, factors(train, None))
        ext = extensive_form(train, b, scenario_set(train), history=True)
        lp_file = tmp / f"hedge-{m}.npz"
        n_cols = _save_extensive(ext, lp_file)
        del ext, b
        alone = _highs_alone(lp_file, *strategy(n_cols))
        lp_file.unlink()
        hedges.append(
            {
                "training_paths": m,
                "copies": len(named) + 1,
                **res.size,
                "total_s": round(total, 3),
                "highs_extensive_s": round(res.timings["highs_s"], 3),
                "highs_all_s": round(highs_all, 3),
                "overhead_over_highs": round((total - highs_all) / highs_all, 3),
                "peak_rss_mb": round(rss, 1),
                "highs_alone_s": round(alone["highs_alone_s"], 3),
                "highs_alone_rss_mb": round(alone["highs_alone_rss_mb"], 1),
                "rss_over_highs_alone": round(rss / alone["highs_alone_rss_mb"], 3),
            }
        )
    # Memory grows with the copies: fit HiGHS alone's peak to them, find 24 GiB.
    copies = np.array([h["copies"] for h in hedges], float)
    mb = np.array([h["highs_alone_rss_mb"] for h in hedges], float)
    slope, intercept = np.polyfit(copies, mb, 1) if len(hedges) > 1 else (mb[0] / copies[0], 0)
    fits = (24 * 1024 - intercept) / slope if slope > 0 else float("inf")
    per_path = hedges[-1]["copies"] / trains[-1]  # distinct copies per training path
    result: dict[str, Any] = {
        "example": "national-plan.xlsx",
        "hedges": hedges,
        "mb_per_copy": round(float(slope), 2),
        "copies_in_24_gib": round(float(fits)),
        "training_paths_in_24_gib": round(float(fits) / per_path),
    }

    plans = {QUIET: solve_chosen(data)[1].values, HEDGED: values}
    test = paths_of(data, draw(np.random.default_rng(1), samples, data))
    work = [(i, p) for i, p in enumerate(test, start=1) if p]
    t0 = time.perf_counter()
    serial = follow(data, plans, work)
    serial_s = time.perf_counter() - t0
    highs_s = sum(f.highs_s for f in serial)
    result.update(
        {
            "test_paths": samples,
            "followed_paths": len(work),
            "re_solves": 2 * len(work),
            "serial_s": round(serial_s, 3),
            "serial_highs_s": round(highs_s, 3),
            "overhead_per_path_over_highs": round((serial_s - highs_s) / highs_s, 3),
            "ms_per_re_solve": round(1000 * serial_s / (2 * len(work)), 2),
        }
    )
    if workers:
        parallel, start_s, run_s = _on_dask(workers, lambda c: follow_all(data, plans, work, c))
        same = all(
            np.isclose(a.cost[k], b.cost[k], rtol=1e-9)
            for a, b in zip(serial, parallel, strict=True)
            for k in plans
        )
        result.update(
            {
                "workers": workers,
                "dask_start_s": round(start_s, 3),
                "dask_run_s": round(run_s, 3),
                "dask_run_over_serial": round(run_s / serial_s, 3),
                "dask_total_over_serial": round((start_s + run_s) / serial_s, 3),
                "dask_same_costs": bool(same),
            }
        )
    _clean(tmp)
    return result
