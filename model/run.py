"""The stages wired together: read -> validate -> build -> solve -> extract -> check -> write.

``solve_workbook`` and ``stress_workbook`` are the library entry points (tests use them);
``run_solve`` and ``run_stress`` add the command line's printing and exit codes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import progress
from model.check import PlanCheckError, check_plan
from model.cli import (
    EXIT_ERROR,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    _print_issues,
    default_out,
    issue_json,
    print_json,
)
from model.data import PlanData
from model.formulation import Built, build_model, numbers
from model.marginals import RANGING, extract_marginals, ranging_summary, ranging_wanted
from model.report import OutputError, Preface, write_plan
from model.results import Plan, extract, shortfall_tonnes
from model.scenarios import factors
from model.solve import (
    INFEASIBLE,
    OPTIMAL,
    Solution,
    push_numbers,
    release_memory,
    run,
    run_followed,
    solve,
)
from model.validate import load

SOLVER = f"HiGHS (highspy {version('highspy')})"


@dataclass
class Outcome:
    status: str
    solution: Solution
    plan: Plan | None = None
    built: Built | None = None


def extract_plan(b: Built, sol: Solution, scenario: str | None) -> Plan:
    """The plan's tables from an optimal solution, with marginal values when it has duals."""
    plan = extract(
        b.data, b.idx, b.num, sol.values, sol.objective, scenario, SOLVER, sol.highs_s, sol.status
    )
    if sol.duals is not None:
        plan.sheets["Marginal values"] = extract_marginals(b, sol.duals)
        plan.summary[RANGING] = ranging_summary(b.data.ranging, b.n_variables, sol.duals.ranged)
    return plan


def plan_problems(b: Built, plan: Plan) -> list[str]:
    """The post-solve check of ``plan`` against the model it came from."""
    return check_plan(
        b.data, b.idx.buy, b.idx.demand[["material", "sector", "t"]], b.idx.caps, b.num, plan
    )


def _plan(b: Built, sol: Solution, scenario: str | None) -> Plan:
    plan = extract_plan(b, sol, scenario)
    problems = plan_problems(b, plan)
    if problems:
        raise PlanCheckError(problems)
    return plan


def solve_data(data: PlanData, scenario: str | None = None, pyomo: bool = False) -> Outcome:
    """Build and solve ``data`` (optionally under a what-if scenario) and extract the plan.

    ``pyomo`` takes the Pyomo route to HiGHS (same LP, slower; see :func:`model.solve.hand_over`).
    """
    progress.say("building the model")
    b = build_model(data, factors(data, scenario), pyomo=pyomo)
    ranging = ranging_wanted(data.ranging, b.n_variables)
    sol, handle = solve(b, data.time_limit_s, ranging=ranging)
    progress.say("reading the plan")
    del handle  # HiGHS's memory (as much as the LP's own) is not needed past the solve
    release_memory()
    if sol.status != OPTIMAL:
        return Outcome(sol.status, sol, None, b)
    return Outcome(sol.status, sol, _plan(b, sol, scenario), b)


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


def stress_data(
    data: PlanData, names: list[str] | None = None, foresight: bool = False, detail: bool = True
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
    progress.say("building the model")
    b = build_model(data, base_f)
    ranging = ranging_wanted(data.ranging, b.n_variables)
    sol, handle = solve(b, data.time_limit_s, duals=detail, ranging=ranging)
    base = Outcome(sol.status, sol, None, b)
    if sol.status != OPTIMAL:
        return StressResult(base, [], pd.DataFrame(), pd.DataFrame(), {})
    base.plan = _plan(b, sol, None)
    base_values = sol.values
    base_cost = sol.objective
    base_short = float(base.plan.summary["Shortfall (t)"])
    sectors = list(data.sectors.index)
    rows, shorts, stocks, plans, resolve_s = [], [], [], {}, []
    for i, name in enumerate(names, start=1):
        progress.say(f"scenario {i}/{len(names)}: {name}")
        f = factors(data, name)
        s = run_followed(handle, numbers(data, b.idx, f), base_values, f.first)
        resolve_s.append(s.highs_s)
        row: dict[str, Any] = {"Scenario": name, "From period": data.periods[f.first]}
        if s.status == OPTIMAL and not detail:
            short_t = shortfall_tonnes(s.values)
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
            shorts.append(short.assign(Scenario=name))
            st = plan.sheets["Stock"]
            stocks.append(st[st["_t"] >= f.first].assign(Scenario=name))
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
                "Drawn (t)",
                "Closing (t)",
                "Floor (t)",
                "Below floor (t)",
            ]
        ]
        if stocks
        else stock_df
    )
    return StressResult(base, rows, short_df, stock_df, plans, resolve_s)


# -- command line ---------------------------------------------------------------------------


def _report_failure(outcome: Outcome) -> int:
    sol = outcome.solution
    return _report_status(sol.status, sol.explanation, sol.detail, "No plan")


def _report_status(status: str, explanation: list[str], detail: str, what: str) -> int:
    """Say why there is no plan (infeasible, in planner words, or stopped); the exit code."""
    if status == INFEASIBLE:
        print(f"{what} meets every requirement of the workbook (infeasible).", file=sys.stderr)
        for line in explanation:
            print(f"  {line}", file=sys.stderr)
        print(
            "Relax one of these (or set 'Allow shortfall' to Yes on Settings) and run again.",
            file=sys.stderr,
        )
        return EXIT_INFEASIBLE
    print(
        f"The solver stopped without a plan ({detail}); raise 'Time limit (s)' on the "
        "Settings sheet or simplify the workbook.",
        file=sys.stderr,
    )
    return EXIT_NO_PLAN


def _human_summary(summary: dict[str, Any], out: Path) -> None:
    cur = summary.get("Currency", "")
    print(f"Plan written to {out}")
    print(f"  Status: {summary['Status']}   Scenario: {summary['Scenario']}")
    print(f"  Total cost: {summary['Total cost']:,.0f} {cur}  ({_cost_parts(summary)})")
    if summary["Shortfall (t)"] > 0:
        print(f"  Shortfall: {summary['Shortfall (t)']:,.1f} t — see the Shortfall sheet")


# Every part of Total cost, as the terminal names it; penalties are not money spent.
_SPENT = {
    "Purchase cost": "purchases",
    "Recycling cost": "recycling",
    "Holding cost": "holding",
    "Alternatives cost": "alternatives",
}
_PENALTIES = {"Shortfall penalty": "shortfall", "Below-floor penalty": "below floor"}


def _cost_parts(summary: dict[str, Any]) -> str:
    """The non-zero parts of Total cost: what is spent, then the penalties, named so."""
    spent = [f"{w} {summary[k]:,.0f}" for k, w in _SPENT.items() if abs(summary[k]) >= 0.5]
    penalties = [f"{w} {summary[k]:,.0f}" for k, w in _PENALTIES.items() if abs(summary[k]) >= 0.5]
    text = ", ".join(spent) or "nothing spent"
    return text + (f"; penalties: {', '.join(penalties)}" if penalties else "")


def _json_summary(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in summary.items()
    }


def _json_extra(out: Path, data: PlanData) -> dict[str, Any]:
    """What every ``--json`` result carries besides its figures: the file written, and the
    workbook's warnings (the same as on stderr)."""
    return {"written": str(out), "warnings": [issue_json(i) for i in data.warnings]}


def run_solve(args: argparse.Namespace) -> int:
    progress.say(f"reading {args.book}")
    data = load(args.book)
    _print_issues(data.warnings)
    try:
        outcome = solve_data(data, args.scenario, pyomo=args.pyomo)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if outcome.plan is None:
        return _report_failure(outcome)
    out = Path(args.out) if args.out else default_out(args.book, "plan")
    try:
        progress.say(f"writing {out}")
        write_plan(out, outcome.plan, data)
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the plan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        print_json({"summary": _json_summary(outcome.plan.summary), **_json_extra(out, data)})
    else:
        _human_summary(outcome.plan.summary, out)
    return EXIT_OK


def run_stress(args: argparse.Namespace) -> int:
    progress.say(f"reading {args.book}")
    data = load(args.book)
    _print_issues(data.warnings)
    try:
        result = stress_data(data, args.scenario)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if result.baseline.plan is None:
        return _report_failure(result.baseline)
    out = Path(args.out) if args.out else default_out(args.book, "stress")
    stress = pd.DataFrame(result.rows)
    try:
        progress.say(f"writing {out}")
        write_plan(
            out,
            result.baseline.plan,
            data,
            {
                "Stress": stress,
                "Stress shortfall": result.shortfall,
                "Stress stock": result.stock,
            },
        )
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the plan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        print_json(
            {
                "summary": _json_summary(result.baseline.plan.summary),
                "stress": [_json_summary(r) for r in result.rows],
                **_json_extra(out, data),
            }
        )
    else:
        cur = data.currency
        print(f"Stress test written to {out}")
        print(f"  Baseline total cost: {result.baseline.solution.objective:,.0f} {cur}")
        for r in result.rows:
            if r["Total cost"] is None:
                print(f"  {r['Scenario']} (from {r['From period']}): {r['Status']}")
                continue
            print(
                f"  {r['Scenario']} (from {r['From period']}): extra cost "
                f"{r['Extra cost']:,.0f} {cur}, shortfall {r['Shortfall (t)']:,.1f} t"
            )
    return EXIT_OK


def _hedge_preface(data: PlanData, result: Any) -> Preface:
    """The hedge's Overview opening: what to do now, and the price and value of hedging."""
    cur = data.currency
    s = result.summary
    lines = []
    if result.shared == 0:
        first = [r["Scenario"] for r in result.rows[1:] if r["From period"] == data.periods[0]]
        lines.append(
            f"No period is shared: {', '.join(first)} starts in the first period, so it is "
            "treated as foreseen and nothing is decided before it. The tables below are the "
            "plan for the quiet world (the baseline copy)."
        )
    else:
        now = data.periods[: result.shared]
        lines.append(
            f"What to do now: the purchases in {now[0]}"
            + (f" to {now[-1]}" if len(now) > 1 else "")
            + " below serve every scenario (no shock can be told apart before then); later "
            "periods depend on what happens (sheet Hedge purchases, per scenario)."
        )
    lines.append(
        f"Price of hedging: {s['Price of hedging']:,.0f} {cur} — what the hedged plan costs "
        "more than the cheapest quiet-world plan if no shock comes."
    )
    if s.get("Value of hedging") is None:
        lines.append(f"Value of hedging: not available — {s.get('Unhedged note', '')}.")
    else:
        measure = (
            "in expected cost"
            if data.risk_weight == 0
            else f"in the hedge objective ({data.risk_weight * 100:g} % weight on CVaR at "
            f"{data.risk_level * 100:g} %)"
        )
        lines.append(
            f"Value of hedging: {s['Value of hedging']:,.0f} {cur} {measure} — what the hedge "
            "saves against following the quiet-world plan into each shock."
        )
    blocks: list[tuple[str, str, pd.DataFrame]] = []
    if result.shared > 0:
        blocks.append(
            (
                "What to buy now",
                "every scenario shares it; tonnes per period, dearest first",
                result.now,
            )
        )
        if result.now_stock is not None:
            end = data.periods[result.shared - 1]
            blocks.append(
                (f"Stock at the end of {end}", "hedged against quiet-world", result.now_stock)
            )
    hedge = pd.DataFrame(result.rows)[
        ["Scenario", "Probability (%)", "From period", "Hedged cost", "Unhedged cost"]
    ]
    blocks.append(("Cost per scenario", "hedged against the quiet-world plan followed", hedge))
    return Preface("Hedged sourcing plan", lines, blocks)


def run_hedge(args: argparse.Namespace) -> int:
    from model.hedge import hedge_data

    progress.say(f"reading {args.book}")
    data = load(args.book)
    _print_issues(data.warnings)
    try:
        result = hedge_data(data)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if result.plan is None:
        return _report_status(result.status, result.explanation, result.detail, "No hedged plan")
    out = Path(args.out) if args.out else default_out(args.book, "hedge")
    sheets = {
        "Hedge": pd.DataFrame(result.rows),
        "Hedge purchases": result.purchases,
        "Hedge stock": result.stock,
    }
    try:
        progress.say(f"writing {out}")
        write_plan(out, result.plan, data, sheets, _hedge_preface(data, result))
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the plan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        print_json(
            {
                "summary": _json_summary(result.plan.summary),
                "hedge": [_json_summary(r) for r in result.rows],
                **_json_extra(out, data),
            }
        )
        return EXIT_OK
    cur = data.currency
    s = result.summary
    print(f"Hedged plan written to {out}")
    print(f"  Hedge objective: {s['Hedge objective']:,.0f} {cur}")
    print(
        f"  Expected cost: hedged {s['Expected cost (hedged)']:,.0f}, foresight "
        f"{s['Expected cost (foresight)']:,.0f}"
        + (
            f", unhedged {s['Expected cost (unhedged)']:,.0f}"
            if s.get("Expected cost (unhedged)") is not None
            else ""
        )
        + f" {cur}"
    )
    if s.get("Value of hedging") is not None:
        print(f"  Value of hedging: {s['Value of hedging']:,.0f} {cur}")
    print(f"  Price of hedging (if no shock comes): {s['Price of hedging']:,.0f} {cur}")
    for r in result.rows:
        print(
            f"  {r['Scenario']} ({r['Probability (%)']:g} %): hedged {r['Hedged cost']:,.0f}, "
            f"shortfall {r['Hedged shortfall (t)']:,.1f} t"
        )
    return EXIT_OK


def run_frontier(args: argparse.Namespace) -> int:
    from model.frontier import CAP, COVER, Sweep, frontier_data, parse_values, summary_sentence
    from model.report import write_frontier

    if bool(args.cap) == bool(args.cover):
        print(
            "ree-plan frontier: give either --cap RULE --shares ... or --cover MATERIAL --days ...",
            file=sys.stderr,
        )
        return EXIT_INPUT
    if args.cap:
        if not args.shares:
            print(
                "ree-plan frontier: --cap needs --shares, e.g. --shares 100,80,65,50",
                file=sys.stderr,
            )
            return EXIT_INPUT
        sweep = Sweep(CAP, args.cap, parse_values(args.shares, "--shares"))
    else:
        if not args.days:
            print(
                "ree-plan frontier: --cover needs --days, e.g. --days 0,30,60,90", file=sys.stderr
            )
            return EXIT_INPUT
        sweep = Sweep(COVER, args.cover, parse_values(args.days, "--days"))
    progress.say(f"reading {args.book}")
    data = load(args.book)
    _print_issues(data.warnings)
    client = cluster = None
    if args.workers or args.scheduler:
        from model.frontier import dask_client

        try:
            client, cluster = dask_client(args.workers, args.scheduler)
        except (RuntimeError, OSError) as exc:  # Dask missing, or no scheduler there
            print(f"ree-plan: {exc}", file=sys.stderr)
            return EXIT_ERROR
    try:
        table = frontier_data(data, sweep, client, progress.say)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    out = Path(args.out) if args.out else default_out(args.book, "frontier")
    sentence = summary_sentence(table, data, data.currency)
    try:
        what = "every material" if sweep.target == "ALL" else sweep.target
        axis = (
            f"Max share of '{sweep.target}' (%)"
            if sweep.kind == CAP
            else f"Min cover of {what} (days)"
        )
        progress.say(f"writing {out}")
        write_frontier(out, table, data, [sentence], axis)
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the frontier: {exc}", file=sys.stderr)
        return EXIT_ERROR
    public = table[[c for c in table.columns if not c.startswith("_")]]
    progress.clear()
    if args.json:
        print_json(
            {
                "frontier": [_json_summary(r) for r in public.to_dict("records")],
                **_json_extra(out, data),
            }
        )
        return EXIT_OK
    cur = data.currency
    print(f"Frontier written to {out}")
    for r in public.to_dict("records"):
        if r["Status"] != OPTIMAL:
            print(f"  {r['Point']}: {r['Status']}")
            continue
        print(f"  {r['Point']}: total cost {r['Total cost']:,.0f} {cur}")
    print(f"  {sentence}")
    return EXIT_OK
