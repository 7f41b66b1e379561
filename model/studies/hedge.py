"""The hedged plan (DESIGN §5): the plan to commit to before anyone knows which shock comes.

One LP, the extensive form: a copy of the §2 model per scenario taking part (the baseline and
every scenario with a probability above 0), each with its own factors and floor releases, tied by
non-anticipativity, minimising

.. math:: H = (1 - w) \\sum_s p_s C_s + w\\, CVaR_a(C), \\quad
          CVaR_a(C) = \\min_\\eta\\, \\eta + \\sum_s p_s \\max(C_s - \\eta, 0) / (1 - a)

(the max linearised as :math:`z_s \\ge C_s - \\eta,\\ z_s \\ge 0`).

How the copies are built: :mod:`model.studies.extensive`.

Second pass (§5): with H held at its optimum (the first pass's optimal face, checked within
:data:`H_REL_TOL`), minimise :math:`\\sum_s C_s` (plus the handling tie-breaker of
:mod:`model.lp.formulation`, which only chooses between equally cheap stock movements), so no copy
is left with an arbitrary plan.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model import progress
from model.input.data import PlanData
from model.input.issues import InputError, Issue
from model.lp.explain import describe_col, describe_row, row_keys
from model.lp.families import periods_of
from model.lp.formulation import Built, build_model
from model.lp.highs import (
    INFEASIBLE,
    NO_PLAN,
    OPTIMAL,
    LpResult,
    iis,
    optimal_face,
    pass_lp,
    release_memory,
    run_lp,
)
from model.lp.least_norm import Lp
from model.lp.scenarios import all_factors, factors
from model.plan.check import PlanCheckError
from model.plan.results import Plan, bought, extract, penalties
from model.studies.baseline import SOLVER, plan_problems
from model.studies.extensive import BASELINE, Copy, ExtensiveForm, extensive_form, own_from
from model.studies.stress import stress_data

H_REL_TOL = 1e-9  # the second pass keeps H within this (relative) of its optimum (DESIGN §5)
# The post-solve check (every family recomputed from a copy's tables) runs on every copy up
# to this many, else on the baseline copy and the most probable others: one assembly makes
# every copy, and checking all 171 copies of a hedge over 200 sampled paths took 7.3 s of its
# 31 s (ree-plan bench --risk).
CHECKED_COPIES = 24


@dataclass
class HedgeResult:
    status: str  # OPTIMAL, INFEASIBLE or NO_PLAN
    summary: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None  # the baseline copy's plan, with the hedge's Summary rows
    plans: dict[str, Plan] = field(default_factory=dict)  # every copy's plan
    # every copy's variable values per family, as the single model's (to follow a copy's plan)
    values: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the Hedge sheet
    purchases: pd.DataFrame | None = None
    stock: pd.DataFrame | None = None
    now: pd.DataFrame | None = None  # what to buy in the shared periods
    now_stock: pd.DataFrame | None = None  # stock at the end of the shared periods
    shared: int = 0  # number of leading periods every copy shares
    h_lp: float = float("nan")  # H as HiGHS's first pass found it
    explanation: list[str] = field(default_factory=list)
    detail: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)


def cvar(costs: np.ndarray, probs: np.ndarray, level: float) -> float:
    """CVaR_a of a discrete cost distribution: min over eta of eta + E[max(C - eta, 0)]/(1-a).

    The function of eta is convex and piecewise linear with its kinks at the costs, so the
    minimum is at one of them (the probabilities sum to 1)."""
    costs, probs = np.asarray(costs, float), np.asarray(probs, float)
    values = [eta + float(probs @ np.maximum(costs - eta, 0.0)) / (1.0 - level) for eta in costs]
    return min(values)


def scenario_set(data: PlanData) -> list[tuple[str, float, int]]:
    """(name, probability, t0) of the copies: the baseline first, then every scenario with a
    probability above 0, in sheet order. Raises :class:`InputError` when there is none."""
    probs = data.probabilities
    if not probs:
        raise InputError(
            [
                Issue(
                    "Scenarios",
                    "",
                    "the hedge needs at least one scenario with a 'Probability (%)' above 0 "
                    "(the chance that this shock starts within the horizon); add the column "
                    "and give one, e.g. 10 for a one-in-ten chance",
                )
            ]
        )
    out = [(BASELINE, max(0.0, 1.0 - sum(probs.values())), 0)]
    facs = all_factors(data, list(probs))
    out += [(name, p, facs[name].first) for name, p in probs.items()]
    return out


def hedge_data(data: PlanData) -> HedgeResult:
    """Solve the hedge of ``data`` (DESIGN §5) with its unhedged and foresight figures."""
    copies_wanted = scenario_set(data)
    names = [n for n, _, _ in copies_wanted[1:]]
    w, a = data.risk_weight, data.risk_level
    timings: dict[str, float] = {}

    # Unhedged (the baseline plan followed through each shock) and foresight (each what-if),
    # on one built single model with warm re-solves.
    t0 = time.perf_counter()
    stress = stress_data(data, names, foresight=True, detail=False)
    timings["stress_foresight_s"] = time.perf_counter() - t0
    timings["stress_foresight_highs_s"] = stress.baseline.solution.highs_s + sum(stress.resolve_s)
    base = stress.baseline
    if base.plan is None:
        return HedgeResult(
            base.solution.status,
            explanation=[
                "The baseline (no shock) has no feasible plan:",
                *base.solution.explanation,
            ],
            detail=base.solution.detail,
        )
    for row in stress.rows:
        fs = row["_foresight"]
        if fs.status != OPTIMAL:
            return HedgeResult(
                fs.status,
                explanation=[
                    f"Scenario '{row['Scenario']}' alone has no feasible plan, even foreseen "
                    "from the start:",
                    *fs.explanation,
                ],
                detail=fs.detail,
            )

    # The extensive form (the single model's HiGHS is gone: give its memory back first).
    gc.collect()
    release_memory()
    t0 = time.perf_counter()
    progress.say(f"building the hedge over {len(copies_wanted)} outcomes")
    b = build_model(data, factors(data, None), idx=base.built.idx)
    ext = extensive_form(data, b, copies_wanted, history=True)
    b.release_blocks()  # stacked into the extensive form
    timings["build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gc.collect()  # the build's pandas temporaries, before HiGHS takes its share
    h = pass_lp(
        ext.objective,
        ext.lower,
        ext.upper,
        ext.row_lower,
        ext.row_upper,
        ext.a,
        data.time_limit_s,
    )
    size = {"variables": int(ext.a.shape[1]), "constraints": int(ext.a.shape[0])}
    size["nonzeros"] = int(ext.a.nnz)
    release_memory()
    timings["hand_over_s"] = time.perf_counter() - t0
    progress.say("HiGHS solving the hedge")
    first = run_lp(h)
    timings["highs_s"] = first.highs_s
    if first.status != OPTIMAL:
        result = HedgeResult(first.status, detail=first.detail, timings=timings, size=size)
        if first.status == INFEASIBLE:
            result.explanation = _explain(h, b, ext.copies)
        return result
    h_star = first.objective
    face = optimal_face(h, ext.lp())
    del h  # the second pass gets a fresh instance: HiGHS keeps ~all its memory after a solve
    release_memory()
    final = _second_pass(ext, face, first, data.time_limit_s)
    timings["highs_s"] += final.highs_s
    timings["second_pass_highs_s"] = final.highs_s
    x = final.x if final.status == OPTIMAL else first.x
    ext.a = None  # HiGHS is done with it: its memory back before the plans are made
    release_memory()

    t0 = time.perf_counter()
    result = _results(data, b, ext.copies, ext.col, x, h_star, stress, w, a)
    result.detail = "" if final.status == OPTIMAL else f"second pass: {final.detail}"
    if result.plan is not None:
        result.plan.summary["Second pass"] = (
            "done: among plans with this hedge objective, the least sum of scenario costs"
            if final.status == OPTIMAL
            else f"not applied ({final.detail}); the first pass's plan is written"
        )
    timings["extract_s"] = time.perf_counter() - t0
    result.timings, result.size = timings, size
    if result.plan is not None:
        result.plan.summary["Solve time (s)"] = round(timings["highs_s"], 3)
    return result


def _second_pass(
    ext: ExtensiveForm,
    face: Lp,
    first: LpResult,
    time_limit_s: float,
) -> LpResult:
    """DESIGN §5's second pass: hold H at its optimum and minimise the sum of the copies' costs.

    H is held by the first pass's optimal face (``face``, from
    :func:`model.lp.highs.optimal_face`): no dense "H <= H*" row, and HiGHS's presolve removes the
    fixed columns. Measured at the medium bench with 4 scenarios: 2.5 s, against 8.6 s for the H
    row solved warm by primal simplex and 27 s by dual simplex. The result is checked: if its H
    exceeds the first pass's by more than :data:`H_REL_TOL` (relative), or HiGHS does not
    finish, the first pass's plan is kept (the caller says so)."""
    h = pass_lp(
        ext.tidy, face.lower, face.upper, face.row_lower, face.row_upper, ext.a, time_limit_s
    )
    second = run_lp(h)
    del h
    if second.status == OPTIMAL:
        obj = ext.objective
        h_second = float(obj @ second.x)
        if h_second > first.objective + H_REL_TOL * max(abs(first.objective), 1.0):
            second.status, second.detail = (
                NO_PLAN,
                (
                    f"its hedge objective {h_second:,.2f} moved above the first pass's "
                    f"{first.objective:,.2f}"
                ),
            )
    return second


def _explain(h: Any, b: Built, copies: list[Copy]) -> list[str]:
    """An irreducible infeasible subset of the extensive form, in planner words, each line
    naming the scenario copy it belongs to (a baseline row before a scenario's start binds
    that scenario too: its periods are shared)."""
    rows, cols = iis(h)
    if not rows and not cols:
        return [
            "Each scenario can be met alone, but no single plan for the shared periods "
            "serves all of them, and HiGHS could not isolate the conflict; relax caps, "
            "floors or minimum purchases, or set 'Allow shortfall' to Yes."
        ]
    lines = [
        "Each scenario can be met alone, but no plan for the periods they share serves all "
        "of them.",
        *_shared_periods(b.data.periods, copies),
        "These requirements conflict:",
    ]
    st_rows: dict[str, np.ndarray] = {}
    offset = 0
    for family, rb in b.row_blocks.items():
        st_rows[family] = np.arange(offset, offset + rb.n)
        offset += rb.n
    hit = set(rows)
    for c in copies:
        local = c.rows[np.isin(c.row_ids, list(hit))]
        for family, positions in st_rows.items():
            sel = np.flatnonzero(np.isin(positions, local))
            if not len(sel):
                continue
            keys = row_keys(b, family)
            for i in sel:
                key = keys[i]
                label = _copy_label(c, copies, b, family, i)
                lines.append(f"{describe_row(b, family, key)} [{label}]")
    hit_cols = set(cols)
    n_buy = len(b.idx.buy)
    for c in copies:
        own = np.flatnonzero(np.isin(c.colmap[:n_buy], list(hit_cols)))
        for i in own:
            lines.append(f"{describe_col(b, 'buy', int(i))} [{c.name}]")
    return list(dict.fromkeys(lines))


def _shared_periods(periods: list[str], copies: list[Copy]) -> list[str]:
    """Which periods are decided once for which scenarios, in runs of equal sharing."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for t, label in enumerate(periods):
        for r in dict.fromkeys(int(c.rep[t]) for c in copies):
            sharing = tuple(c.name for c in copies if c.rep[t] == r)
            if len(sharing) > 1:
                groups.setdefault(sharing, []).append(label)
    return [
        f"Decided once for {', '.join(names[:-1])} and {names[-1]} (no shock can be told "
        f"apart before then): {', '.join(labels)}."
        for names, labels in groups.items()
    ]


def _copy_label(c: Copy, copies: list[Copy], b: Built, family: str, i: int) -> str:
    t = int(periods_of(b.idx, family)[i])
    me = copies.index(c)
    sharing = [o.name for o in copies if o is not c and o.rep[t] == me]
    return c.name + (f", shared with {', '.join(sharing)}" if sharing else "")


def _results(
    data: PlanData,
    b: Built,
    copies: list[Copy],
    col: dict[str, np.ndarray],
    x: np.ndarray,
    h_star: float,
    stress: Any,
    w: float,
    a: float,
) -> HedgeResult:
    idx = b.idx
    plans: dict[str, Plan] = {}
    copy_values: dict[str, dict[str, np.ndarray]] = {}
    costs, shorts = [], []
    problems: list[str] = []
    by_chance = sorted(range(1, len(copies)), key=lambda i: -copies[i].probability)
    checked = {0, *by_chance[: CHECKED_COPIES - 1]}
    for i, c in enumerate(copies):
        xs = x[c.colmap]
        values = {f: xs[pos] for f, pos in col.items()}
        copy_values[c.name] = values
        cost = float(c.cost @ xs)
        plan = extract(data, idx, c.num, values, cost, c.name, SOLVER, 0.0)
        if i in checked:
            problems += [f"[{c.name}] {p}" for p in plan_problems(b, plan, c.num)]
        plans[c.name] = plan
        costs.append(cost)
        shorts.append(float(plan.summary["Shortfall (t)"]))
    if problems:
        raise PlanCheckError(problems)
    probs = np.array([c.probability for c in copies])
    costs_a = np.array(costs)
    expected = float(probs @ costs_a)
    risk = cvar(costs_a, probs, a)

    base_plan = stress.baseline.plan
    base_cost = float(stress.baseline.solution.objective)
    base_short = float(base_plan.summary["Shortfall (t)"])
    by_name = {r["Scenario"]: r for r in stress.rows}
    unhedged = [base_cost] + [by_name[c.name]["Total cost"] for c in copies[1:]]
    foresight = [base_cost] + [by_name[c.name]["Foresight cost"] for c in copies[1:]]
    un_short = [base_short] + [by_name[c.name]["Shortfall (t)"] for c in copies[1:]]
    base_pen = penalties(base_plan.summary)
    un_pen = [base_pen] + [by_name[c.name].get("_penalty_cost") for c in copies[1:]]
    missing = [c.name for c, u in zip(copies, unhedged, strict=True) if u is None]
    summary_rows: dict[str, Any] = {
        # H of the plan written; HiGHS's first-pass optimum is kept in HedgeResult.h_lp and
        # agrees within H_REL_TOL (the second pass may use that much).
        "Hedge objective": (1.0 - w) * expected + w * risk,
        "Expected cost (hedged)": expected,
        "CVaR (hedged)": risk,
    }
    if missing:
        why = "; ".join(f"{n}: {by_name[n]['Status']}" for n in missing)
        summary_rows["Expected cost (unhedged)"] = None
        summary_rows["Value of hedging"] = None
        summary_rows["Unhedged note"] = (
            f"blank: the quiet-world plan cannot be followed through {', '.join(missing)} ({why})"
        )
        h_unhedged = None
    else:
        un = np.array(unhedged, dtype=float)
        un_expected = float(probs @ un)
        h_unhedged = (1.0 - w) * un_expected + w * cvar(un, probs, a)
        summary_rows["Expected cost (unhedged)"] = un_expected
        summary_rows["Value of hedging"] = h_unhedged - h_star
    fs_expected = float(probs @ np.array(foresight, dtype=float))
    summary_rows.update(
        {
            "Price of hedging": costs[0] - base_cost,
            "Expected cost (foresight)": fs_expected,
            "Value of foresight": expected - fs_expected,
            "Risk weight (%)": w * 100.0,
            "Risk level (%)": a * 100.0,
            "Hedge objective (unhedged)": h_unhedged,
            "Baseline optimum": base_cost,
        }
    )

    periods = data.periods
    rows = []
    for c, cost, un_c, fs_c, sh, un_sh, un_p in zip(
        copies, costs, unhedged, foresight, shorts, un_short, un_pen, strict=True
    ):
        p_sum = plans[c.name].summary
        rows.append(
            {
                "Scenario": c.name,
                # 1 - 0.45 is 0.55000000000000004: no planner typed that
                "Probability (%)": round(c.probability * 100.0, 9),
                "From period": None if c.name == BASELINE else periods[c.first],
                "Hedged cost": cost,
                "Unhedged cost": un_c,
                "Foresight cost": fs_c,
                "Hedged shortfall (t)": sh,
                "Unhedged shortfall (t)": un_sh,
                # Not in DESIGN's list: what not knowing the shock costs, hedged and not.
                # What the hedge saves against the quiet-world plan followed into this
                # scenario (for the quiet world itself, minus the price of hedging).
                "Saving from hedging": None if un_c is None else un_c - cost,
                "Hedged over foresight": cost - fs_c,
                "Unhedged over foresight": None if un_c is None else un_c - fs_c,
                # Of the costs above, the penalties: not money spent, they price unmet needs.
                "Hedged penalties": penalties(p_sum),
                "Unhedged penalties": un_p,
            }
        )

    purchases, stock = [], []
    for c in copies:
        p = plans[c.name]
        bought = _bought(p)
        # the periods it does not share with the baseline copy (all of them for the baseline)
        start = 0 if c.name == BASELINE else own_from(c)
        purchases.append(bought[bought["_t"] >= start].assign(Scenario=c.name))
        st = p.sheets["Stock"]
        stock.append(
            st.assign(Scenario=c.name)[
                ["Scenario", "Material", "Period", "Closing (t)", "Floor (t)", "_t"]
            ]
        )
    purchases_df = pd.concat(purchases, ignore_index=True)[
        ["Scenario", "Supplier", "Material", "Period", "Tonnes", "Cost", "_t"]
    ]
    stock_df = pd.concat(stock, ignore_index=True)

    shared = min(own_from(c) for c in copies[1:])
    base_copy = plans[BASELINE]
    now = _now(_bought(base_copy), periods[:shared], _bought(base_plan))
    now_stock = None
    if shared > 0:
        hs = base_copy.sheets["Stock"]
        qs = base_plan.sheets["Stock"]
        hs = hs[hs["_t"] == shared - 1].set_index("Material")
        qs = qs[qs["_t"] == shared - 1].set_index("Material")
        now_stock = pd.DataFrame(
            {
                "Material": hs.index,
                "Hedged plan (t)": hs["Closing (t)"].to_numpy(),
                "Quiet-world plan (t)": qs["Closing (t)"].reindex(hs.index).to_numpy(),
                "Floor (t)": hs["Floor (t)"].to_numpy(),
            }
        )
    summary = dict(base_copy.summary)
    summary["Scenario"] = f"{BASELINE} copy of the hedge (nothing happens)"
    summary.update(summary_rows)
    if len(copies) > CHECKED_COPIES:
        summary["Post-solve check"] = (
            f"the baseline copy and the {CHECKED_COPIES - 1} most probable of"
            f" {len(copies) - 1} scenario copies (one assembly makes them all)"
        )
    plan = Plan(summary, base_copy.sheets)
    return HedgeResult(
        OPTIMAL,
        summary=summary,
        plan=plan,
        plans=plans,
        values=copy_values,
        rows=rows,
        purchases=purchases_df,
        stock=stock_df,
        now=now.reset_index(drop=True),
        now_stock=now_stock,
        shared=shared,
        h_lp=h_star,
    )


def _now(bought: pd.DataFrame, shared: list[str], quiet: pd.DataFrame) -> pd.DataFrame:
    """What to buy in the shared periods: one row per offer, tonnes per period and cost, then
    what the quiet-world plan buys of it then; dearest first, and a Total row."""
    keys = ["Supplier", "Material"]
    cols = [
        *keys,
        *(f"{p} (t)" for p in shared),
        "Cost",
        "Quiet-world plan (t)",
        "Quiet-world cost",
    ]
    now = bought[bought["_t"] < len(shared)]
    then = quiet[quiet["_t"] < len(shared)]
    if now.empty and then.empty:
        return pd.DataFrame(columns=cols)
    wide = (
        now.groupby([*keys, "Period"], sort=False)["Tonnes"]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(columns=shared, fill_value=0.0)
    )
    wide.columns = [f"{p} (t)" for p in wide.columns]
    wide["Cost"] = now.groupby(keys, sort=False)["Cost"].sum()
    q = then.groupby(keys, sort=False)[["Tonnes", "Cost"]].sum()
    q.columns = ["Quiet-world plan (t)", "Quiet-world cost"]
    wide = wide.join(q, how="outer").fillna(0.0)
    wide = wide.sort_values("Cost", ascending=False).reset_index()
    total = {"Supplier": "Total", "Material": ""}
    total.update({c: wide[c].sum() for c in cols[2:]})
    return pd.concat([wide, pd.DataFrame([total])], ignore_index=True)[cols]


def _bought(plan: Plan) -> pd.DataFrame:
    """What a plan buys (:func:`model.plan.results.bought`), in period, material, supplier order."""
    out = bought(plan)[["Supplier", "Material", "Period", "Tonnes", "Cost", "_t"]]
    return out.sort_values(["_t", "Material", "Supplier"], kind="stable").reset_index(drop=True)


__all__ = ["BASELINE", "HedgeResult", "cvar", "hedge_data", "scenario_set", "NO_PLAN"]
