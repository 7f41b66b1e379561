"""The baseline plan: read -> validate -> build -> solve -> choose -> extract -> check.

``solve_data``/``solve_workbook`` are the library entry points for one plan (a what-if under a
scenario too); ``solve_chosen`` is where every study starts (DESIGN §2: one workbook, one
plan). :mod:`model.cli.commands` adds writing, the terminal's printing and the exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

from model import progress
from model.input.data import PlanData
from model.input.validate import load
from model.lp.formulation import Built, Numbers
from model.lp.highs import OPTIMAL, Handle, Solution, release_memory, solve, tidy_values
from model.lp.route import ROUTE, build
from model.lp.route import summary as route_summary
from model.lp.scenarios import factors
from model.plan.check import PlanCheckError, check_plan
from model.plan.marginals import RANGING, extract_marginals, ranging_summary, ranging_wanted
from model.plan.results import Plan, extract
from model.studies.choose import PLAN_CHOICE, Choice, most_resilient, sentence

SOLVER = f"HiGHS (highspy {version('highspy')})"


@dataclass
class Outcome:
    status: str
    solution: Solution
    plan: Plan | None = None
    built: Built | None = None
    choice: Choice | None = None  # how the plan was chosen among equally cheap ones (§2)


def extract_plan(b: Built, sol: Solution, scenario: str | None) -> Plan:
    """The plan's tables from an optimal solution (under the numbers it was solved with), with
    marginal values when it has duals."""
    num = sol.num if sol.num is not None else b.num
    plan = extract(
        b.data, b.idx, num, sol.values, sol.objective, scenario, SOLVER, sol.highs_s, sol.status
    )
    if sol.duals is not None:
        plan.sheets["Marginal values"] = extract_marginals(b, sol.duals, num)
        plan.summary[RANGING] = ranging_summary(b.data.ranging, b.n_variables, sol.duals.ranged)
    plan.summary[ROUTE] = route_summary(b.route_setting, b.n_variables, b.route)
    return plan


def plan_problems(b: Built, plan: Plan, num: Numbers | None = None) -> list[str]:
    """The post-solve check of ``plan`` against the model it came from, under the scenario's
    numbers ``num`` (the baseline's when None)."""
    return check_plan(
        b.data,
        b.idx.buy,
        b.idx.demand[["material", "sector", "t"]],
        b.idx.caps,
        b.num if num is None else num,
        plan,
    )


def checked_plan(
    b: Built, sol: Solution, scenario: str | None, choice: Choice | None = None
) -> Plan:
    """The plan's tables, with how it was chosen, after the post-solve check (which raises
    :class:`PlanCheckError` rather than let a wrong plan be written)."""
    plan = extract_plan(b, sol, scenario)
    if choice is not None:
        plan.summary[PLAN_CHOICE] = choice.note
        said = sentence(choice, b.data.currency)
        if said:
            plan.notes.append(said)
    problems = plan_problems(b, plan, sol.num)
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
    (:mod:`model.studies.choose`). ``solve``, ``stress``, ``frontier`` and ``hedge`` all start
    here, so they write and follow one and the same plan. The handle stays loaded with the
    baseline's numbers and HiGHS's optimal basis, for warm re-solves."""
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
        sol = replace(sol, values=choice.values, objective=choice.objective)
    else:
        tidied, cost, why = tidy_values(handle)
        if tidied is not None:
            sol = replace(sol, values=tidied, objective=cost)
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
        choice = replace(choice, note=f"{steps}; {reason}")
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
    return Outcome(sol.status, sol, checked_plan(b, sol, scenario, choice), b, choice)


def solve_workbook(path: str | Path, scenario: str | None = None) -> Outcome:
    return solve_data(load(path), scenario)
