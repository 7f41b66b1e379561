"""DESIGN §3's stress test: the baseline plan followed until each scenario starts, then
re-optimised under it, on one built model with warm re-solves. The frontier's points and the
hedge's unhedged figures come from here too."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from model import progress
from model.input.data import PlanData
from model.lp.formulation import numbers
from model.lp.highs import OPTIMAL, push_numbers, run, run_followed
from model.lp.scenarios import all_factors
from model.plan.results import Plan, bought, penalties, penalty_parts, shortfall_tonnes
from model.studies.baseline import Outcome, checked_plan, solve_chosen


@dataclass
class StressResult:
    baseline: Outcome
    rows: list[dict[str, Any]]
    shortfall: pd.DataFrame
    stock: pd.DataFrame
    plans: dict[str, Plan]
    resolve_s: list[float] = field(default_factory=list)  # HiGHS time per scenario (warm)
    purchases: pd.DataFrame = field(default_factory=pd.DataFrame)  # INSTEAD_COLUMNS


def stress_data(
    data: PlanData,
    names: list[str] | None = None,
    foresight: bool = False,
    detail: bool = True,
) -> StressResult:
    """DESIGN §3 stress test on one built model: baseline, then per scenario fix the periods
    before its first period to the baseline, apply it and re-solve (warm, same HiGHS).

    With ``foresight``, each scenario is then also re-solved with nothing fixed (its what-if
    optimum, warm from the stress basis): row keys ``Foresight cost`` (None unless optimal),
    ``_foresight`` (the :class:`Solution`). Without ``detail`` (the hedge needs only costs and
    tonnes short) the stress plans, their tables and the baseline's marginal values are not
    made: each scenario's shortfall is read off the solution."""
    names = names or data.scenario_names
    facs = all_factors(data, [None, *names])  # unknown names are input errors before any solve
    base_f = facs[None]
    b, sol, handle, choice = solve_chosen(data, duals=detail)
    base = Outcome(sol.status, sol, None, b, choice)
    if sol.status != OPTIMAL:
        return StressResult(base, [], pd.DataFrame(), pd.DataFrame(), {})
    base.plan = checked_plan(b, sol, None, choice)
    base_values = sol.values
    base_cost = sol.objective
    base_short = float(base.plan.summary["Shortfall (t)"])
    sectors = list(data.sectors.index)
    rows, shorts, stocks, plans, resolve_s, buys = [], [], [], {}, [], []
    for i, name in enumerate(names, start=1):
        progress.say(f"scenario {i}/{len(names)}: {name}")
        f = facs[name]
        s = run_followed(handle, numbers(data, b.idx, f), base_values, f.first)
        resolve_s.append(s.highs_s)
        row: dict[str, Any] = {"Scenario": name, "From period": data.periods[f.first]}
        if s.status == OPTIMAL and not detail:
            short_t = shortfall_tonnes(s.values)
            row["_penalty_cost"] = sum(penalty_parts(data, b.idx, s.values))
            row.update(
                {
                    "Total cost": s.objective,
                    "Extra cost": s.objective - base_cost,
                    "Shortfall (t)": short_t,
                    "Extra shortfall (t)": short_t - base_short,
                    "Status": OPTIMAL,
                }
            )
        elif s.status == OPTIMAL:
            plan = checked_plan(b, s, name)
            plans[name] = plan
            short = plan.sheets["Shortfall"]
            by_sector = short.groupby("Sector")["Tonnes"].sum()
            row.update(
                {
                    "Total cost": s.objective,
                    "Extra cost": s.objective - base_cost,
                    "Shortfall (t)": float(short["Tonnes"].sum()),
                    "Extra shortfall (t)": float(short["Tonnes"].sum()) - base_short,
                }
            )
            row.update({f"{k} shortfall (t)": float(by_sector.get(k, 0.0)) for k in sectors})
            row["Status"] = OPTIMAL
            row["_penalties"] = penalties(plan.summary) - penalties(base.plan.summary)
            shorts.append(short.assign(Scenario=name))
            st = plan.sheets["Stock"]
            stocks.append(st[st["_t"] >= f.first].assign(Scenario=name))
            buys.append(_instead(base.plan, plan, f.first).assign(Scenario=name))
        else:
            row.update(
                {
                    "Total cost": None,
                    "Extra cost": None,
                    "Shortfall (t)": None,
                    "Extra shortfall (t)": None,
                }
            )
            row.update({f"{k} shortfall (t)": None for k in sectors})
            row["Status"] = s.status + (": " + " ".join(s.explanation[:4]) if s.explanation else "")
        if foresight:
            what_if = run(handle)
            resolve_s.append(what_if.highs_s)
            row["Foresight cost"] = what_if.objective if what_if.status == OPTIMAL else None
            row["_foresight"] = replace(what_if, values={})  # status and words; not its plan
        rows.append(row)
    push_numbers(handle, numbers(data, b.idx, base_f))
    short_df = (
        pd.concat(shorts, ignore_index=True)
        if shorts
        else pd.DataFrame(columns=["Scenario", "Material", "Sector", "Period", "Tonnes"])
    )
    short_df = short_df[["Scenario", "Material", "Sector", "Period", "Tonnes"]]
    stock_df = (
        pd.concat(stocks, ignore_index=True)
        if stocks
        else pd.DataFrame(
            columns=[
                "Scenario",
                "Material",
                "Period",
                "Drawn (t)",
                "Closing (t)",
                "Floor (t)",
                "Below floor (t)",
            ]
        )
    )
    stock_df = (
        stock_df[
            [
                "Scenario",
                "Material",
                "Period",
                "Opening (t)",
                "Bought (t)",
                "Drawn (t)",
                "Closing (t)",
                "Floor (t)",
                "Below floor (t)",
            ]
        ]
        if stocks
        else stock_df
    )
    purchases = (
        pd.concat(buys, ignore_index=True)[[*INSTEAD_COLUMNS]]
        if buys
        else pd.DataFrame(columns=INSTEAD_COLUMNS)
    )
    return StressResult(base, rows, short_df, stock_df, plans, resolve_s, purchases)


INSTEAD_COLUMNS = [
    "Scenario",
    "Supplier",
    "Material",
    "Period",
    "Tonnes",
    "Cost",
    "Baseline (t)",
    "Changed",
    "_t",
]


def _instead(base: Plan, plan: Plan, first: int) -> pd.DataFrame:
    """What a stressed plan buys from the shock on, beside what the baseline bought then:
    ``Changed`` is Yes where the tonnes differ (also where the baseline bought and the
    stressed plan does not)."""
    key = ["Supplier", "Material", "Period", "_t"]
    now = bought(plan)
    then = bought(base)
    now, then = now[now["_t"] >= first], then[then["_t"] >= first]
    both = now[[*key, "Tonnes", "Cost"]].merge(
        then[[*key, "Tonnes"]].rename(columns={"Tonnes": "Baseline (t)"}), on=key, how="outer"
    )
    both[["Tonnes", "Cost", "Baseline (t)"]] = both[["Tonnes", "Cost", "Baseline (t)"]].fillna(0.0)
    both = both[(both["Tonnes"] > 1e-9) | (both["Baseline (t)"] > 1e-9)]
    changed = (both["Tonnes"] - both["Baseline (t)"]).abs() > 1e-6 * np.maximum(
        1.0, both["Baseline (t)"].abs()
    )
    both["Changed"] = np.where(changed, "Yes", "")
    return both.sort_values(["_t", "Material", "Supplier"]).reset_index(drop=True)
