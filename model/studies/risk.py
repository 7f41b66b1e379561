"""``ree-plan risk`` (DESIGN §7): how risky a plan is, out of sample.

M training paths and then N test paths from one generator; the quiet-world plan (``solve``)
and the hedged plan over the training paths (§5, with its history rule); each plan followed
into every test path as ``stress`` follows a plan into a scenario (its quiet-world branch until
the path's first episode, then re-optimised), warm on one built model. The test paths are
independent LPs: in chunks on Dask when asked, as the frontier's points are.

Which figures are unique: each path's cost (the optimum of its re-solve); a path's shortfall is
that of the plan HiGHS returns (the re-solves skip DESIGN §2's step 3, which changes no cost and
would triple their time).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from model.input.data import PlanData
from model.input.issues import InputError, Issue
from model.lp.formulation import build_model, number_maker
from model.lp.highs import OPTIMAL, hand_over, run, run_followed, use_serial_solver
from model.lp.scenarios import Shocks, factors
from model.plan.results import TOL
from model.studies.baseline import Outcome, solve_data
from model.studies.extensive import BASELINE
from model.studies.hedge import HedgeResult, cvar, hedge_data
from model.studies.sampling import Path, alike, describe, draw, paths_of, scenario_rows

QUIET, HEDGED = "Quiet-world", "Hedged"
PLANS = (QUIET, HEDGED)
WORST = 10  # worst paths listed on the Overview
CONFIDENCE = 0.95


@dataclass
class Followed:
    """One test path followed by both plans."""

    path: str
    cost: dict[str, float | None]  # plan -> total cost (None: the re-solve had no plan)
    short: dict[str, float | None]  # plan -> tonnes short
    by: dict[str, dict[tuple[str, str], float]]  # plan -> (material, sector) -> tonnes short
    status: dict[str, str] = field(default_factory=dict)
    highs_s: float = 0.0


@dataclass
class RiskResult:
    status: str
    quiet: Outcome | None = None
    hedge: HedgeResult | None = None
    train: list[tuple[str, Path, int]] = field(default_factory=list)
    test: list[Path] = field(default_factory=list)
    followed: list[Followed] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # sheet Risk
    paths: pd.DataFrame = field(default_factory=pd.DataFrame)  # sheet Paths
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)  # sheet Path costs
    shortfall: pd.DataFrame = field(default_factory=pd.DataFrame)  # expected, by material
    worst: pd.DataFrame = field(default_factory=pd.DataFrame)
    distribution: pd.DataFrame = field(default_factory=pd.DataFrame)  # both histograms
    summary: dict[str, Any] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    detail: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def path_name(i: int) -> str:
    return f"Test {i:04d}"


def risk_data(
    data: PlanData,
    samples: int,
    train: int,
    seed: int,
    client: Any = None,
    say: Callable[[str], None] | None = None,
) -> RiskResult:
    """DESIGN §7's ``risk``: sample, plan twice, follow both plans into every test path."""
    say = say or (lambda _m: None)
    if data.risks.empty:
        raise InputError(
            [
                Issue(
                    "Risks",
                    "",
                    "'ree-plan risk' samples disruption paths from the Risks sheet, which has"
                    " no risk; add one per kind of trouble (its effect, chance per year and"
                    " mean duration)",
                )
            ]
        )
    timings: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    train_paths = paths_of(data, draw(rng, train, data))
    test_paths = paths_of(data, draw(rng, samples, data))
    named = alike(train_paths)

    t0 = time.perf_counter()
    say("solving the quiet-world plan")
    quiet = solve_data(data)
    timings["quiet_s"] = time.perf_counter() - t0
    if quiet.plan is None:
        return RiskResult(
            quiet.solution.status,
            quiet=quiet,
            explanation=quiet.solution.explanation,
            detail=quiet.solution.detail,
        )

    t0 = time.perf_counter()
    hedge: HedgeResult | None = None
    if named:
        say(f"hedging over {train} training paths ({len(named)} with an episode, alike merged)")
        train_data = replace(
            data,
            scenarios=scenario_rows(data, [(n, p, c / train) for n, p, c in named]),
        )
        hedge = hedge_data(train_data)
        if hedge.plan is None:
            return RiskResult(
                hedge.status,
                quiet=quiet,
                hedge=hedge,
                train=named,
                test=test_paths,
                explanation=[
                    "The hedge over the training paths has no plan:",
                    *hedge.explanation,
                    *(
                        f"{n}: {describe(data, p)}"
                        for n, p, _ in named
                        if any(n in line for line in hedge.explanation)
                    ),
                ],
                detail=hedge.detail,
            )
    timings["hedge_s"] = time.perf_counter() - t0

    base_values = quiet.solution.values
    hedged_values = hedge.values[BASELINE] if hedge is not None else base_values
    quiet_cost = float(quiet.solution.objective)
    hedged_cost = float(hedge.rows[0]["Hedged cost"]) if hedge is not None else quiet_cost
    short_by = _shortfall_keys(quiet.built.idx)
    quiet_short = {QUIET: short_by(base_values), HEDGED: short_by(hedged_values)}

    t0 = time.perf_counter()
    work = [(i, p) for i, p in enumerate(test_paths, start=1) if p]
    plans = {QUIET: base_values, HEDGED: hedged_values}
    followed = follow_all(data, plans, work, client, say)
    timings["follow_s"] = time.perf_counter() - t0
    timings["follow_highs_s"] = sum(f.highs_s for f in followed)
    by_path = {f.path: f for f in followed}
    every = []
    for i, p in enumerate(test_paths, start=1):
        name = path_name(i)
        if p:
            every.append(by_path[name])
        else:
            every.append(
                Followed(
                    name,
                    {QUIET: quiet_cost, HEDGED: hedged_cost},
                    {k: sum(quiet_short[k].values()) for k in PLANS},
                    quiet_short,
                    {k: OPTIMAL for k in PLANS},
                )
            )
    result = _figures(data, every, test_paths, named, samples, train, seed)
    result.quiet, result.hedge, result.timings = quiet, hedge, timings
    result.summary.update(
        {
            "Quiet-world cost (no episode)": quiet_cost,
            "Hedged cost (no episode)": hedged_cost,
        }
    )
    if hedge is None:
        result.summary["Hedge note"] = (
            "no training path has an episode: the hedged plan is the quiet-world plan"
        )
    return result


def follow(
    data: PlanData,
    plans: dict[str, dict[str, np.ndarray]],
    work: list[tuple[int, Path]],
    say: Callable[[str], None] | None = None,
) -> list[Followed]:
    """Each plan followed into each test path of ``work`` (path number, path): fixed before
    the path's first episode, re-optimised from it; one built model, warm re-solves."""
    if not work:
        return []
    b = build_model(data, factors(data, None))
    handle = hand_over(b)
    run(handle)  # the quiet world, for a warm start
    shocks, make = Shocks(data), number_maker(data, b.idx)
    short_by = _shortfall_keys(b.idx)
    risks = data.risks[["effect", "basis", "target", "change"]].itertuples(index=False, name=None)
    shock_of = list(risks)
    out = []
    for k, (i, path) in enumerate(work, start=1):
        name = path_name(i)
        f = shocks.factors(name, [(*shock_of[e.risk], e.first, e.last) for e in path])
        num = make(f)
        row = Followed(name, {}, {}, {})
        for plan, values in plans.items():
            s = run_followed(handle, num, values, path[0].first, tidy=False)
            row.highs_s += s.highs_s
            row.status[plan] = s.status
            if s.status == OPTIMAL:
                by = short_by(s.values)
                row.cost[plan], row.short[plan], row.by[plan] = s.objective, sum(by.values()), by
            else:
                row.cost[plan] = row.short[plan] = None
                row.by[plan] = {}
        out.append(row)
        if say and (k % 10 == 0 or k == len(work)):
            say(f"test paths: {k}/{len(work)} followed")
    return out


def follow_all(
    data: PlanData,
    plans: dict[str, dict[str, np.ndarray]],
    work: list[tuple[int, Path]],
    client: Any = None,
    say: Callable[[str], None] | None = None,
) -> list[Followed]:
    """:func:`follow` in-process, or on Dask in chunks (four per worker, each on a model of
    its own), in the order of ``work``."""
    if client is None:
        return follow(data, plans, work, say)
    n_chunks = max(1, min(len(work), 4 * _workers(client)))
    chunks = [c for c in np.array_split(np.arange(len(work)), n_chunks) if len(c)]
    futures = [
        client.submit(_on_worker, data, plans, [work[j] for j in c], pure=False) for c in chunks
    ]
    followed: list[Followed] = []
    for f in futures:
        followed += f.result()
        if say:
            say(f"test paths: {len(followed)}/{len(work)} followed")
    return followed


def _on_worker(
    data: PlanData, plans: dict[str, dict[str, np.ndarray]], work: list[tuple[int, Path]]
) -> list[Followed]:
    """A Dask task: a chunk of test paths on a model of its own (1 HiGHS thread per worker)."""
    use_serial_solver()
    return follow(data, plans, work)


def _workers(client: Any) -> int:
    try:
        return max(1, len(client.scheduler_info()["workers"]))
    except Exception:  # a scheduler that does not say
        return 1


def _shortfall_keys(idx: Any) -> Callable[[dict[str, np.ndarray]], dict[tuple[str, str], float]]:
    """Tonnes short per (material, sector) of a solution, solver noise left out; the groups
    found once per model."""
    table = idx.shortfall
    pairs = pd.MultiIndex.from_arrays([table["material"].astype(str), table["sector"].astype(str)])
    keys = pairs.unique()
    group = keys.get_indexer(pairs)

    def by(values: dict[str, np.ndarray]) -> dict[tuple[str, str], float]:
        v = np.asarray(values["shortfall"], float)
        if not len(v):
            return {}
        v = np.where(np.abs(v) < TOL, 0.0, v)
        sums = np.bincount(group, weights=v, minlength=len(keys))
        return {keys[j]: float(sums[j]) for j in np.flatnonzero(sums > 0)}

    return by


def _figures(
    data: PlanData,
    every: list[Followed],
    test_paths: list[Path],
    named: list[tuple[str, Path, int]],
    samples: int,
    train: int,
    seed: int,
) -> RiskResult:
    level = data.risk_level
    costs = pd.DataFrame(
        {
            "Path": [f.path for f in every],
            "Quiet-world cost": [f.cost[QUIET] for f in every],
            "Hedged cost": [f.cost[HEDGED] for f in every],
            "Quiet-world shortfall (t)": [f.short[QUIET] for f in every],
            "Hedged shortfall (t)": [f.short[HEDGED] for f in every],
            "Episodes": [describe(data, p) for p in test_paths],
        }
    )
    failed = costs["Quiet-world cost"].isna() | costs["Hedged cost"].isna()
    rows = []
    for plan in PLANS:
        c = costs[f"{plan} cost"].dropna().to_numpy(float)
        s = costs[f"{plan} shortfall (t)"].dropna().to_numpy(float)
        rows.append(
            {
                "Plan": plan,
                "Mean cost": float(c.mean()) if len(c) else None,
                "P50 cost": float(np.percentile(c, 50)) if len(c) else None,
                "P90 cost": float(np.percentile(c, 90)) if len(c) else None,
                "P99 cost": float(np.percentile(c, 99)) if len(c) else None,
                "CVaR": cvar(c, np.full(len(c), 1.0 / len(c)), level) if len(c) else None,
                "Probability of shortfall (%)": float((s > TOL).mean() * 100.0) if len(s) else None,
                "Expected shortfall (t)": float(s.mean()) if len(s) else None,
                "Paths without a plan": int(costs[f"{plan} cost"].isna().sum()),
            }
        )
    table = pd.DataFrame(rows)

    # Expected shortfall per material and sector (over the paths each plan could follow).
    keys = sorted({k for f in every for p in PLANS for k in f.by.get(p, {})})
    short_rows = []
    for m, k in keys:
        row: dict[str, Any] = {"Material": m, "Sector": k}
        for plan in PLANS:
            got = [f.by[plan].get((m, k), 0.0) for f in every if f.cost[plan] is not None]
            row[f"{plan} (t)"] = float(np.mean(got)) if got else None
        short_rows.append(row)
    shortfall = pd.DataFrame(
        short_rows, columns=["Material", "Sector", *(f"{p} (t)" for p in PLANS)]
    )

    # The out-of-sample value of hedging: paired over the same paths.
    both = costs[~failed]
    diff = (both["Quiet-world cost"] - both["Hedged cost"]).to_numpy(float)
    n = len(diff)
    value = float(diff.mean()) if n else None
    if n > 1:
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * diff.std(ddof=1) / math.sqrt(n))
        low, high = value - half, value + half
    else:
        low = high = None

    worst = costs.assign(_order=costs["Quiet-world cost"].fillna(np.inf)).sort_values(
        "_order", ascending=False, kind="stable"
    )
    worst = worst.drop(columns="_order").head(WORST).reset_index(drop=True)

    paths = pd.DataFrame(
        [
            {
                "Path": path_name(i),
                "Risk": data.risks["risk"].iloc[e.risk],
                "First period": data.periods[e.first],
                "Last period": data.periods[e.last],
            }
            for i, p in enumerate(test_paths, start=1)
            for e in p
        ],
        columns=["Path", "Risk", "First period", "Last period"],
    )
    distribution = _histogram(costs)
    quiet_paths = sum(1 for p in test_paths if not p)
    summary = {
        "Test paths": samples,
        "Training paths": train,
        "Seed": seed,
        "Value of hedging (out of sample)": value,
        "Value of hedging, 95 % low": low,
        "Value of hedging, 95 % high": high,
        "Test paths with no episode": quiet_paths,
        "Training paths alike merged": len(named),
        "Test paths without a plan": int(failed.sum()),
        "Risk level (%)": level * 100.0,
    }
    return RiskResult(
        OPTIMAL,
        train=named,
        test=test_paths,
        followed=every,
        table=table,
        paths=paths,
        costs=costs,
        shortfall=shortfall,
        worst=worst,
        distribution=distribution,
        summary=summary,
    )


BINS = 20


def _histogram(costs: pd.DataFrame) -> pd.DataFrame:
    """How many test paths cost what, per plan, over the same bins (both plans' range)."""
    columns = ["Cost band", "From", "To", *(f"{p} (paths)" for p in PLANS)]
    values = {p: costs[f"{p} cost"].dropna().to_numpy(float) for p in PLANS}
    both = np.concatenate(list(values.values()))
    if not len(both):
        return pd.DataFrame(columns=columns)
    lo, hi = float(both.min()), float(both.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, BINS + 1)
    scale, unit = (1e6, " m") if hi >= 1e7 else (1.0, "")
    rows = {
        "Cost band": [
            f"{a / scale:,.0f}–{b / scale:,.0f}{unit}"
            for a, b in zip(edges, edges[1:], strict=False)
        ],
        "From": edges[:-1],
        "To": edges[1:],
    }
    for p in PLANS:
        rows[f"{p} (paths)"] = np.histogram(values[p], bins=edges)[0].astype(int)
    return pd.DataFrame(rows)[columns]
