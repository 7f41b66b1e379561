"""The stages wired together: read -> validate -> build -> solve -> extract -> check.

``solve_data``/``solve_workbook`` and ``stress_data`` are the library entry points (tests,
the hedge and the frontier use them); :mod:`model.commands` adds writing, the terminal's
printing and the exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import progress
from model.check import PlanCheckError, check_plan
from model.choose import PLAN_CHOICE, Choice, most_resilient, sentence
from model.data import PlanData
from model.formulation import Built, numbers
from model.marginals import RANGING, extract_marginals, ranging_summary, ranging_wanted
from model.results import Plan, bought, extract, penalties, penalty_parts, shortfall_tonnes
from model.route import ROUTE, build
from model.route import summary as route_summary
from model.scenarios import factors
from model.solve import (
    OPTIMAL,
    Handle,
    Solution,
    push_numbers,
    release_memory,
    run,
    run_followed,
    solve,
    tidy_values,
)
from model.validate import load

SOLVER = f"HiGHS (highspy {version('highspy')})"


@dataclass
class Outcome:
    status: str
    solution: Solution
    plan: Plan | None = None
    built: Built | None = None
    choice: Choice | None = None  # how the plan was chosen among equally cheap ones (§2)


def extract_plan(b: Built, sol: Solution, scenario: str | None) -> Plan:
    """The plan's tables from an optimal solution, with marginal values when it has duals."""
    plan = extract(
        b.data, b.idx, b.num, sol.values, sol.objective, scenario, SOLVER, sol.highs_s, sol.status
    )
    if sol.duals is not None:
        plan.sheets["Marginal values"] = extract_marginals(b, sol.duals)
        plan.summary[RANGING] = ranging_summary(b.data.ranging, b.n_variables, sol.duals.ranged)
    plan.summary[ROUTE] = route_summary(b.route_setting, b.n_variables, b.route)
    return plan


def plan_problems(b: Built, plan: Plan) -> list[str]:
    """The post-solve check of ``plan`` against the model it came from."""
    return check_plan(
        b.data, b.idx.buy, b.idx.demand[["material", "sector", "t"]], b.idx.caps, b.num, plan
    )


def _plan(b: Built, sol: Solution, scenario: str | None, choice: Choice | None = None) -> Plan:
    plan = extract_plan(b, sol, scenario)
    if choice is not None:
        plan.summary[PLAN_CHOICE] = choice.note
        said = sentence(choice, b.data.currency)
        if said:
            plan.notes.append(said)
    problems = plan_problems(b, plan)
    if problems:
        raise PlanCheckError(problems)
    return plan


def solve_chosen(
    data: PlanData,
    scenario: str | None = None,
    route: str | None = None,
    duals: bool = True,
) -> tuple[Built, Solution, Handle, Choice]:
    """The one plan of DESIGN §2 for ``data`` (a what-if under ``scenario``): least cost, then
    (baseline only) the most resilient of the cheapest plans, then the least-norm one
    (:mod:`model.choose`). ``solve``, ``stress``, ``frontier`` and ``hedge`` all start here, so
    they write and follow one and the same plan. The handle stays loaded with the baseline's
    numbers and HiGHS's optimal basis, for warm re-solves."""
    progress.say("building the model")
    b = build(data, factors(data, scenario), setting=route)
    ranging = ranging_wanted(data.ranging, b.n_variables)
    sol, handle = solve(b, data.time_limit_s, duals=duals, ranging=ranging)
    if sol.status != OPTIMAL:
        return b, sol, handle, Choice(None)
    sol, choice = choose_plan(data, b, handle, sol, scenario)
    return b, sol, handle, choice


def choose_plan(
    data: PlanData, b: Built, handle: Handle, sol: Solution, scenario: str | None
) -> tuple[Solution, Choice]:
    """Steps 2 and 3 of DESIGN §2 after HiGHS's optimal solve in ``handle``: the plan's
    values replaced by the chosen plan's, and how it was chosen."""
    choice = Choice(None)
    if scenario is None:
        progress.say("choosing the most resilient of the cheapest plans")
        choice = most_resilient(data, b, handle)
    if choice.values is not None:
        sol = replace(sol, values=choice.values, objective=choice.objective, least_norm=True)
    else:
        tidied, cost, why = tidy_values(handle)
        if tidied is not None:
            sol = replace(sol, values=tidied, objective=cost, least_norm=True)
        steps = "1 least cost; " + (
            "3 least squares among the cheapest plans"
            if tidied is not None
            else f"3 left out ({why})"
            + ("; the handling tie-breaker chose among stock moves" if b.move_cost else "")
        )
        reason = choice.note or (
            "step 2: no scenario shares a period with the plan"
            if scenario is None
            else "step 2 is for the baseline (a what-if re-optimises with the shock known)"
        )
        choice = replace(choice, note=f"{steps}; {reason}", least_norm=tidied is not None)
    return sol, choice


def solve_data(data: PlanData, scenario: str | None = None, route: str | None = None) -> Outcome:
    """Build and solve ``data`` (optionally under a what-if scenario) and extract the plan.

    ``route`` (Auto, Pyomo or Direct) overrides the workbook's ``Model route`` setting.
    """
    b, sol, handle, choice = solve_chosen(data, scenario, route)
    progress.say("reading the plan")
    del handle  # HiGHS's memory (as much as the LP's own) is not needed past the solve
    release_memory()
    if sol.status != OPTIMAL:
        return Outcome(sol.status, sol, None, b)
    return Outcome(sol.status, sol, _plan(b, sol, scenario, choice), b, choice)


def solve_workbook(path: str | Path, scenario: str | None = None) -> Outcome:
    return solve_data(load(path), scenario)


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
    for n in names:  # unknown names are input errors before any solve
        factors(data, n)
    base_f = factors(data, None)
    b, sol, handle, choice = solve_chosen(data, duals=detail)
    base = Outcome(sol.status, sol, None, b, choice)
    if sol.status != OPTIMAL:
        return StressResult(base, [], pd.DataFrame(), pd.DataFrame(), {})
    base.plan = _plan(b, sol, None, choice)
    base_values = sol.values
    base_cost = sol.objective
    base_short = float(base.plan.summary["Shortfall (t)"])
    sectors = list(data.sectors.index)
    rows, shorts, stocks, plans, resolve_s, buys = [], [], [], {}, [], []
    for i, name in enumerate(names, start=1):
        progress.say(f"scenario {i}/{len(names)}: {name}")
        f = factors(data, name)
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
            plan = _plan(b, s, name)
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


# -- command line ---------------------------------------------------------------------------
