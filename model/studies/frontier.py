"""``ree-plan frontier``: the price of resilience as a curve.

A sweep sets one setting of the workbook to each of several values — a Caps row's
``Max share (%)`` (``--cap RULE --shares ...``) or materials' ``Min cover (days)``
(``--cover MATERIAL|ALL --days ...``) — and for each point solves the baseline, stress-tests
that plan against every scenario and, where the Scenarios sheet has probabilities, gives its
expected cost and the hedged expected cost.

Each point is the workbook with that one setting changed, solved as ``stress`` solves a
workbook: the plan DESIGN §2 chooses (least cost, the most resilient of the cheapest, the least
norm), then its stress test. So the point at the workbook's own value is the plan ``solve``
writes, with the figures ``stress`` and ``hedge`` give, whichever point was swept before it (a
sweep once changed one model in place and re-solved warm: faster, but a warm start could land on
another of the equally cheap plans, and the embargo's extra cost differed by 4 %).

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

from model.input.data import PlanData
from model.input.issues import InputError, Issue
from model.lp.highs import OPTIMAL, use_serial_solver
from model.plan.results import TOL, bought
from model.studies.hedge import hedge_data
from model.studies.stress import stress_data

CAP, COVER = "cap", "cover"


@dataclass(frozen=True)
class Sweep:
    kind: str  # CAP or COVER
    target: str  # the Caps rule, or a material, or "ALL" (cover)
    values: tuple[float, ...]


def parse_values(text: str, what: str, percent: bool = False) -> tuple[float, ...]:
    """``100,80,65`` -> (100.0, 80.0, 65.0); a bad list is an input error saying how to type it.

    With ``percent`` (``--shares``), a value above 0 and at most 1 typed without ``%`` is
    refused, as the workbook warns of one in a plain cell: ``0.5`` may mean 50 % or half a
    percent, and a sweep that silently took one for the other would mislead."""
    out, ambiguous = [], []
    for raw in str(text).split(","):
        part = raw.strip()
        typed_percent = part.endswith("%")
        part = part.removesuffix("%").strip()
        try:
            value = float(part)
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
        if percent and not typed_percent and 0 < value <= 1:
            ambiguous.append(raw.strip())
        out.append(value)
    if ambiguous:
        example = ambiguous[0]
        raise InputError(
            [
                Issue(
                    "command line",
                    what,
                    f"'{example}' is ambiguous: shares are percentages, so type "
                    f"{float(example) * 100:g} for {float(example) * 100:g} %, or "
                    f"'{example}%' if you mean {example} %",
                )
            ]
        )
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

    Each point is the workbook with the swept setting changed, solved exactly as ``stress``
    solves a workbook (:func:`model.studies.stress.stress_data`): the same plan (DESIGN §2's
    choice among equally cheap plans) and the same figures as ``solve`` and ``stress`` give on that
    workbook, whatever point was swept before it."""

    names = data.scenario_names
    probs = data.probabilities
    basis = "Refine country"
    if sweep.kind == CAP:
        basis = str(data.caps.loc[data.caps["rule"] == sweep.target, "basis"].iloc[0])
    rows = []
    for i, value in enumerate(values):
        label = point_label(sweep, value)
        if progress:
            progress(f"point {i + 1}/{len(values)}: {label}")
        dp = point_data(data, sweep, value)
        row: dict[str, Any] = {"Point": label, "Value": value}
        t0 = time.perf_counter()
        st = stress_data(dp, names, detail=False)
        sol = st.baseline.solution
        if st.baseline.plan is None:
            row["Status"] = sol.status + (
                ": " + " ".join(sol.explanation[:4]) if sol.explanation else ""
            )
            rows.append(row)
            continue
        plan = st.baseline.plan
        s = plan.summary
        base_short = float(s["Shortfall (t)"])
        row.update(
            {
                "Total cost": sol.objective,
                "Penalties": s["Shortfall penalty"] + s["Below-floor penalty"],
                "Shortfall (t)": base_short,
            }
        )
        for m, share in largest_shares(dp, plan, basis).items():
            row[f"{m} largest country share (%)"] = share
        stress_costs = {}
        for r in st.rows:
            n = r["Scenario"]
            row[f"{n} extra cost"] = r["Extra cost"]
            row[f"{n} extra shortfall (t)"] = r["Extra shortfall (t)"]
            if r["Total cost"] is not None:
                stress_costs[n] = r["Total cost"]
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
    # Every column, whether or not any point has a plan (an all-infeasible sweep is a table of
    # reasons, with the same columns).
    cols = ["Point", "Value", "Total cost", "Penalties", "Shortfall (t)"]
    cols += [f"{m} largest country share (%)" for m in data.materials.index]
    for n in data.scenario_names:
        cols += [f"{n} extra cost", f"{n} extra shortfall (t)"]
    if data.probabilities:
        cols += ["Expected cost", "Hedged expected cost"]
    df = pd.DataFrame(rows)
    return df.reindex(columns=[*cols, "Status", *(["_seconds"] if "_seconds" in df else [])])


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
