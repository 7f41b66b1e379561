"""``ree-plan frontier``: the price of resilience as a curve.

A sweep sets one setting of the workbook to each of several values — a Caps row's
``Max share (%)`` (``--cap RULE --shares ...``) or materials' ``Min cover (days)``
(``--cover MATERIAL|ALL --days ...``) — and for each point solves the baseline, stress-tests
that plan against every scenario and, where the Scenarios sheet has probabilities, gives its
expected cost and the hedged expected cost.

Serial (the default): one model is built and handed to HiGHS once; each point changes it in
place — a share moves the coefficients of the cap's rows (``in group: 1 - share, others:
-share``), a cover moves the floors' right-hand sides — and re-solves warm from the previous
point's basis, as the stress test does per scenario. So that every point's rows exist, the model
is built at the sweep's tightest cap and its largest cover (a cap of 100 % is then a row that
can never bind; a cover of 0 a floor of 0).

Beyond one machine: points are independent, so with a Dask client (``--workers N`` starts a
``LocalCluster`` here, ``--scheduler ADDRESS`` joins an existing cluster) each point is one task
that builds its own model and runs the same code on that one point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from model.data import PlanData
from model.issues import InputError, Issue
from model.results import TOL, bought, shortfall_tonnes

CAP, COVER = "cap", "cover"


@dataclass(frozen=True)
class Sweep:
    kind: str  # CAP or COVER
    target: str  # the Caps rule, or a material, or "ALL" (cover)
    values: tuple[float, ...]


def parse_values(text: str, what: str) -> tuple[float, ...]:
    """``100,80,65`` -> (100.0, 80.0, 65.0); a bad list is an input error saying how to type it."""
    out = []
    for part in str(text).split(","):
        part = part.strip().removesuffix("%").strip()
        try:
            out.append(float(part))
        except ValueError:
            raise InputError(
                [
                    Issue(
                        "command line",
                        what,
                        f"'{text}' is not a list of numbers; type e.g. 100,80,65",
                    )
                ]
            ) from None
    if not out or any(not np.isfinite(v) for v in out):
        raise InputError([Issue("command line", what, f"'{text}' lists no numbers")])
    return tuple(out)


def check_sweep(data: PlanData, sweep: Sweep) -> None:
    """The sweep names what the workbook has, with values in range; else an input error."""
    problems = []
    if sweep.kind == CAP:
        rules = list(data.caps["rule"])
        if sweep.target not in rules:
            known = ", ".join(f"'{r}'" for r in rules) or "none"
            problems.append(
                Issue("Caps", "", f"no cap rule named '{sweep.target}'; the workbook has: {known}")
            )
        if any(v < 0 or v > 100 for v in sweep.values):
            problems.append(Issue("command line", "--shares", "shares must be 0 to 100 (%)"))
    else:
        mats = list(data.materials.index)
        if sweep.target != "ALL" and sweep.target not in mats:
            known = ", ".join(f"'{m}'" for m in mats)
            problems.append(
                Issue(
                    "Materials",
                    "",
                    f"no material named '{sweep.target}' (or ALL); the workbook has: {known}",
                )
            )
        if any(v < 0 for v in sweep.values):
            problems.append(Issue("command line", "--days", "days of cover must be 0 or more"))
    if problems:
        raise InputError(problems)


def point_data(data: PlanData, sweep: Sweep, value: float) -> PlanData:
    """The workbook with the swept setting at ``value``."""
    if sweep.kind == CAP:
        caps = data.caps.copy()
        caps.loc[caps["rule"] == sweep.target, "max_share"] = value / 100.0
        return replace(data, caps=caps)
    mats = data.materials.copy()
    sel = mats.index if sweep.target == "ALL" else [sweep.target]
    mats.loc[sel, "min_cover_days"] = float(value)
    return replace(data, materials=mats)


def point_label(sweep: Sweep, value: float) -> str:
    if sweep.kind == CAP:
        return f"{sweep.target} = {value:g} %"
    what = "every material" if sweep.target == "ALL" else sweep.target
    return f"Min cover of {what} = {value:g} days"


def _build_data(data: PlanData, sweep: Sweep) -> PlanData:
    """The data the shared model is built from: the tightest cap (its rows exist at every
    point) or the largest cover (its floor rows exist at every point)."""
    if sweep.kind == CAP:
        return point_data(data, sweep, min(sweep.values))
    return point_data(data, sweep, max(sweep.values))


def largest_shares(data: PlanData, plan: Any, basis: str) -> dict[str, float]:
    """Per material: the largest share (%) of one group of ``basis`` in what was bought."""
    key = basis if basis in ("Mine country", "Refine country") else "Supplier"
    both = bought(plan)
    out = {}
    for m in data.materials.index:
        g = both[both["Material"] == m]
        total = g["Tonnes"].sum()
        out[m] = float(g.groupby(key)["Tonnes"].sum().max() / total * 100) if total > TOL else None
    return out


def evaluate(
    data: PlanData,
    sweep: Sweep,
    values: tuple[float, ...],
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per value: the baseline at that point, its stress test and expected costs.

    One model, built once, changed in place per point and re-solved warm (see the module)."""
    from model.check import PlanCheckError, check_plan
    from model.formulation import numbers
    from model.hedge import hedge_data
    from model.results import extract
    from model.route import build
    from model.run import SOLVER
    from model.scenarios import factors
    from model.solve import OPTIMAL, hand_over, push_numbers, run, run_followed

    names = data.scenario_names
    probs = data.probabilities
    base_f = factors(data, None)
    scen_f = {n: factors(data, n) for n in names}
    built_for = _build_data(data, sweep)
    b = build(built_for, base_f)
    handle = hand_over(b, data.time_limit_s)
    idx = b.idx
    cap_rows = cap_cols = cap_in = None
    if sweep.kind == CAP and len(idx.caps):
        terms = idx.cap_terms
        of_rule = (idx.caps["rule"].to_numpy() == sweep.target)[terms["c"].to_numpy()]
        t = terms[of_rule]
        cap_rows = handle.row["caps"][t["c"].to_numpy()]
        cap_cols = np.array(
            [handle.col[f][p] for f, p in zip(t["family"].astype(str), t["pos"], strict=True)],
            dtype=np.int64,
        )
        cap_in = t["in_group"].to_numpy()
    basis = "Refine country"
    if sweep.kind == CAP:
        basis = str(data.caps.loc[data.caps["rule"] == sweep.target, "basis"].iloc[0])
    rows = []
    for i, value in enumerate(values):
        label = point_label(sweep, value)
        if progress:
            progress(f"point {i + 1}/{len(values)}: {label}")
        dp = point_data(data, sweep, value)
        caps = idx.caps
        if cap_rows is not None:
            share = value / 100.0
            coef = np.where(cap_in, 1.0 - share, -share)
            for r, c, v in zip(cap_rows.tolist(), cap_cols.tolist(), coef.tolist(), strict=True):
                handle.highs.changeCoeff(r, c, v)
            caps = idx.caps.copy()
            caps.loc[caps["rule"] == sweep.target, "share"] = share
        b.data = dp
        row: dict[str, Any] = {"Point": label, "Value": value}
        t0 = time.perf_counter()
        push_numbers(handle, numbers(dp, idx, base_f))
        sol = run(handle)
        if sol.status != OPTIMAL:
            row["Status"] = sol.status + (
                ": " + " ".join(sol.explanation[:4]) if sol.explanation else ""
            )
            rows.append(row)
            continue
        plan = extract(
            dp, idx, handle.built.num, sol.values, sol.objective, None, SOLVER, sol.highs_s
        )
        problems = check_plan(
            dp, idx.buy, idx.demand[["material", "sector", "t"]], caps, handle.built.num, plan
        )
        if problems:
            raise PlanCheckError(problems)
        s = plan.summary
        penalties = s["Shortfall penalty"] + s["Below-floor penalty"]
        base_short = float(s["Shortfall (t)"])
        row.update(
            {"Total cost": sol.objective, "Penalties": penalties, "Shortfall (t)": base_short}
        )
        for m, share in largest_shares(dp, plan, basis).items():
            row[f"{m} largest country share (%)"] = share
        stress_costs = {}
        for n in names:
            f = scen_f[n]
            st = run_followed(handle, numbers(dp, idx, f), sol.values, f.first)
            if st.status == OPTIMAL:
                short = shortfall_tonnes(st.values)
                row[f"{n} extra cost"] = st.objective - sol.objective
                row[f"{n} extra shortfall (t)"] = short - base_short
                stress_costs[n] = st.objective
            else:
                row[f"{n} extra cost"] = None
                row[f"{n} extra shortfall (t)"] = None
        push_numbers(handle, numbers(dp, idx, base_f))
        if probs:
            p0 = max(0.0, 1.0 - sum(probs.values()))
            if all(n in stress_costs for n in probs):
                row["Expected cost"] = p0 * sol.objective + sum(
                    p * stress_costs[n] for n, p in probs.items()
                )
            else:
                row["Expected cost"] = None
            hedged = hedge_data(dp)
            row["Hedged expected cost"] = (
                hedged.summary["Expected cost (hedged)"] if hedged.plan is not None else None
            )
        row["Status"] = OPTIMAL
        row["_seconds"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def _on_worker(data: PlanData, sweep: Sweep, values: tuple[float, ...]) -> list[dict[str, Any]]:
    """One Dask task: :func:`evaluate` with HiGHS on one thread (workers share the cores)."""
    from model.solve import use_serial_solver

    use_serial_solver()
    return evaluate(data, sweep, values)


def frontier_data(
    data: PlanData,
    sweep: Sweep,
    client: Any = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The Frontier table: one row per point, in the order of the values given.

    With a Dask ``client``, one task per point (each builds its own model); else in-process
    with warm re-solves."""
    check_sweep(data, sweep)
    if client is None:
        rows = evaluate(data, sweep, sweep.values, progress)
    else:
        futures = [client.submit(_on_worker, data, sweep, (v,), pure=False) for v in sweep.values]
        rows = [r for f in futures for r in f.result()]
    df = pd.DataFrame(rows)
    cols = [c for c in df.columns if c not in ("Status", "_seconds")]
    return df[[*cols, "Status", *(["_seconds"] if "_seconds" in df.columns else [])]]


def dask_client(workers: int | None, scheduler: str | None) -> tuple[Any, Any]:
    """A Dask client: a LocalCluster of ``workers`` processes, or the scheduler at
    ``scheduler``. Returns (client, cluster or None). A clear error when Dask is missing."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError(
            '--workers and --scheduler need Dask: pip install "ree-plan[cluster]" '
            '(or pip install "dask[distributed]")'
        ) from None
    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster), cluster


def summary_sentence(df: pd.DataFrame, data: PlanData, currency: str) -> str:
    """What moving from the first point to the cheapest point that meets every scenario
    without shortfall costs per year."""
    ok = df[df["Status"] == "Optimal"]
    if ok.empty:
        return "No point of the sweep has a feasible plan."
    short_cols = [c for c in df.columns if c.endswith("extra shortfall (t)")]
    meets = ok.copy()
    total_short = meets["Shortfall (t)"].fillna(0.0)
    for c in short_cols:
        total_short = total_short + meets[c].fillna(np.inf).clip(lower=0.0)
    meets = meets[total_short <= TOL * 10]
    years = sum(data.days) / 365.0
    first = df.iloc[0]
    if meets.empty:
        return (
            "No point of the sweep meets every scenario without shortfall; the Frontier sheet "
            "shows how much each leaves unmet."
        )
    best = meets.loc[meets["Total cost"].idxmin()]
    if first["Status"] != "Optimal":
        return (
            f"The cheapest point that meets every scenario without shortfall is {best['Point']}: "
            f"{best['Total cost']:,.0f} {currency} over the horizon in a quiet world."
        )
    if best["Point"] == first["Point"]:
        return (
            f"The first point, {first['Point']}, already meets every scenario without "
            "shortfall, and no such point costs less in a quiet world."
        )
    diff = best["Total cost"] - first["Total cost"]
    return (
        f"Moving from {first['Point']} to {best['Point']}, the cheapest point at which no "
        f"scenario leaves demand unmet, costs {diff / years:,.0f} {currency} a year in a quiet "
        f"world ({diff:,.0f} {currency} over the {years:.1f}-year horizon)."
    )


__all__ = ["CAP", "COVER", "Sweep", "frontier_data", "parse_values", "summary_sentence"]
