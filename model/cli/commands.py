"""The commands ``solve``, ``stress``, ``hedge`` and ``frontier``: read the workbook, run the
study (:mod:`model.studies`), write the workbook, and say what happened on the terminal or as
JSON. The command line (:mod:`model.cli.main`) calls these; the studies never import them."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import progress
from model.cli.console import (
    EXIT_ERROR,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_PLAN,
    EXIT_OK,
    default_out,
    issue_json,
    print_issues,
    print_json,
)
from model.excel.report import (
    OVERVIEW_ROWS,
    OutputError,
    Preface,
    target_path,
    why_not_written,
    write_comparison,
    write_frontier,
    write_plan,
)
from model.input.data import PlanData
from model.input.issues import InputError, Issue
from model.input.plan_book import read_plan_book
from model.input.template import replace_scenarios
from model.input.validate import load
from model.lp.highs import (
    INFEASIBLE,
    OPTIMAL,
)
from model.plan.check import PlanCheckError
from model.studies.baseline import Outcome, solve_data
from model.studies.compare import compare_plans
from model.studies.frontier import (
    CAP,
    COVER,
    Sweep,
    dask_client,
    frontier_data,
    parse_values,
    summary_sentence,
)
from model.studies.hedge import hedge_data
from model.studies.risk import PLANS, RiskResult, risk_data
from model.studies.sampling import alike, sample, sheet_rows
from model.studies.stress import stress_data


def _report_failure(outcome: Outcome, args: argparse.Namespace, data: PlanData) -> int:
    sol = outcome.solution
    return _report_status(sol.status, sol.explanation, sol.detail, "No plan", args, data)


def _report_status(
    status: str,
    explanation: list[str],
    detail: str,
    what: str,
    args: argparse.Namespace,
    data: PlanData,
) -> int:
    """Say why there is no plan (infeasible, in planner words, or stopped); the exit code.
    With ``--json``, stdout also gets ``{"status", "explanation", "warnings"}`` (the keys of
    the web API's run answer), so a script reads why without parsing stderr."""
    if getattr(args, "json", False):
        print_json(
            {
                "status": "infeasible" if status == INFEASIBLE else "stopped",
                "explanation": explanation or [detail],
                "warnings": [issue_json(i) for i in data.warnings],
            }
        )
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
    """A row for --json: no NaN (null instead), no internal keys (those starting with _)."""
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v)
        for k, v in summary.items()
        if not str(k).startswith("_")
    }


def _json_extra(out: Path, data: PlanData) -> dict[str, Any]:
    """What every ``--json`` result carries besides its figures: the file written, and the
    workbook's warnings (the same as on stderr)."""
    return {"written": str(out), "warnings": [issue_json(i) for i in data.warnings]}


def _load(args: argparse.Namespace) -> PlanData:
    """Read and check the workbook (``--route`` over its Model route); print its warnings."""
    progress.say(f"reading {args.book}")
    data = load(args.book)
    if args.route:  # the command line's --route over the workbook's Model route
        data = replace(data, route=args.route)
    print_issues(data.warnings)
    return data


def run_solve(args: argparse.Namespace) -> int:
    data = _load(args)
    try:
        outcome = solve_data(data, args.scenario)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if outcome.plan is None:
        return _report_failure(outcome, args, data)
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
    data = _load(args)
    try:
        result = stress_data(data, args.scenario)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if result.baseline.plan is None:
        return _report_failure(result.baseline, args, data)
    out = Path(args.out) if args.out else default_out(args.book, "stress")
    stress = _stress_table(result)
    try:
        progress.say(f"writing {out}")
        write_plan(
            out,
            result.baseline.plan,
            data,
            {
                "Stress": stress,
                "Stress purchases": result.purchases,
                "Stress shortfall": result.shortfall,
                "Stress stock": result.stock,
            },
            _stress_preface(data, result, stress),
        )
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the plan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        print_json(
            {
                "summary": _json_summary(result.baseline.plan.summary),
                "stress": [_json_summary(r) for r in stress.iloc[1:].to_dict("records")],
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


BASELINE_ROW = "Baseline (no shock)"


def _stress_table(result: Any) -> pd.DataFrame:
    """The Stress sheet: a baseline row, then one row per scenario: DESIGN §4's columns, then
    'Of which penalties' (the part of 'Extra cost' that prices unmet needs) and Status."""
    base = result.baseline.plan.summary
    sectors = [c for r in result.rows[:1] for c in r if c.endswith(" shortfall (t)")]
    short = result.baseline.plan.sheets["Shortfall"].groupby("Sector")["Tonnes"].sum()
    first = {
        "Scenario": BASELINE_ROW,
        "From period": "",
        "Total cost": base["Total cost"],
        "Extra cost": 0.0,
        "_penalties": 0.0,
        "Shortfall (t)": base["Shortfall (t)"],
        "Extra shortfall (t)": 0.0,
        **{c: float(short.get(c.removesuffix(" shortfall (t)"), 0.0)) for c in sectors},
        "Status": "Optimal",
    }
    df = pd.DataFrame([first, *result.rows])
    if "_penalties" in df.columns:  # after DESIGN's columns, before Status
        penalties = df.pop("_penalties")
        df.insert(df.columns.get_loc("Status"), "Of which penalties", penalties)
    return df


def _stress_preface(data: PlanData, result: Any, stress: pd.DataFrame) -> Preface:
    """The stress workbook's first sheet opens with what each shock costs and what to buy
    differently in its first two periods."""
    cur = data.currency
    lines = [
        "Each scenario: the baseline plan is followed until the shock, then re-planned from it"
        " on (DESIGN §3). Extra cost and shortfall are over the baseline; penalties are not"
        " money spent, they price unmet needs."
    ]
    for r in stress.iloc[1:].to_dict("records"):
        if r["Status"] != OPTIMAL:
            lines.append(f"{r['Scenario']} (from {r['From period']}): {r['Status']}.")
            continue
        lines.append(
            f"{r['Scenario']} (from {r['From period']}): extra cost {r['Extra cost']:,.0f} {cur}"
            f" (of which penalties {r.get('Of which penalties', 0.0):,.0f}), extra shortfall"
            f" {r['Extra shortfall (t)']:,.1f} t."
        )
    table = stress[
        [
            c
            for c in (
                "Scenario",
                "From period",
                "Extra cost",
                "Of which penalties",
                "Extra shortfall (t)",
                "Status",
            )
            if c in stress.columns
        ]
    ]
    blocks = [("Per scenario", "over the baseline (all rows on sheet Stress)", table)]
    pur = result.purchases
    if len(pur):
        start = {r["Scenario"]: data.periods.index(r["From period"]) for r in result.rows}
        soon = pur[
            (pur["Changed"] == "Yes") & (pur["_t"] - pur["Scenario"].map(start)).between(0, 1)
        ]
        soon = soon[["Scenario", "Period", "Supplier", "Material", "Baseline (t)", "Tonnes"]]
        soon = soon.rename(columns={"Tonnes": "Instead (t)"})
        n = len(pur[pur["Changed"] == "Yes"])
        blocks.append(
            (
                "What to buy differently when the shock comes",
                f"its first two periods; all {n} changed rows on sheet Stress purchases",
                soon.head(OVERVIEW_ROWS),
            )
        )
    return Preface("Stress test: what each shock costs, and what to do", lines, blocks)


def hedge_preface(data: PlanData, result: Any) -> Preface:
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
                "every scenario shares it; tonnes per period, the largest spend first, beside"
                " what the quiet-world plan buys then",
                result.now,
            )
        )
        if result.now_stock is not None:
            end = data.periods[result.shared - 1]
            blocks.append(
                (f"Stock at the end of {end}", "hedged against quiet-world", result.now_stock)
            )
    hedge = pd.DataFrame(result.rows)[
        [
            "Scenario",
            "Probability (%)",
            "From period",
            "Hedged cost",
            "Unhedged cost",
            "Saving from hedging",
        ]
    ]
    blocks.append(
        (
            "Cost per scenario",
            "hedged against the quiet-world plan followed; the saving when each comes",
            hedge,
        )
    )
    return Preface("Hedged sourcing plan", lines, blocks)


def run_hedge(args: argparse.Namespace) -> int:

    data = _load(args)
    try:
        result = hedge_data(data)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    if result.plan is None:
        return _report_status(
            result.status, result.explanation, result.detail, "No hedged plan", args, data
        )
    out = Path(args.out) if args.out else default_out(args.book, "hedge")
    sheets = {
        "Hedge": pd.DataFrame(result.rows),
        "Hedge purchases": result.purchases,
        "Hedge stock": result.stock,
    }
    try:
        progress.say(f"writing {out}")
        write_plan(out, result.plan, data, sheets, hedge_preface(data, result))
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
        sweep = Sweep(CAP, args.cap, parse_values(args.shares, "--shares", percent=True))
    else:
        if not args.days:
            print(
                "ree-plan frontier: --cover needs --days, e.g. --days 0,30,60,90", file=sys.stderr
            )
            return EXIT_INPUT
        sweep = Sweep(COVER, args.cover, parse_values(args.days, "--days"))
    data = _load(args)
    client = cluster = None
    if args.workers or args.scheduler:
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


def run_compare(args: argparse.Namespace) -> int:
    """``ree-plan compare A B``: read both plans (exit 2 naming a file that is not one), line
    them up, write the comparison workbook, say what moved."""
    a = read_plan_book(args.a)
    b = read_plan_book(args.b)
    progress.say("comparing")
    c = compare_plans(a, b)
    default = Path("outputs") / f"{Path(args.a).stem}-vs-{Path(args.b).stem}.xlsx"
    out = Path(args.out) if args.out else default
    for text in c.warnings:
        print(f"warning: {text}", file=sys.stderr)
    try:
        progress.say(f"writing {out}")
        write_comparison(out, c, [args.a, args.b])
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the comparison: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        summary = {
            str(r.Item): {"A": _plain(r.A), "B": _plain(r.B), "Change": _plain(r.Change)}
            for r in c.summary.itertuples(index=False)
        }
        print_json(
            {
                "summary": summary,
                "purchases": [_json_summary(r) for r in c.purchases.to_dict("records")],
                "written": str(out),
                "warnings": c.warnings,
            }
        )
    else:
        print(f"Comparison written to {out}")
        for text in c.lines:
            print(f"  {text}")
    return EXIT_OK


def _plain(v: Any) -> Any:
    """A JSON value: numpy scalars as Python numbers, NaN as null."""
    if hasattr(v, "item"):
        v = v.item()
    return None if isinstance(v, float) and not np.isfinite(v) else v


def run_sample(args: argparse.Namespace) -> int:
    """``ree-plan sample BOOK --samples N``: DESIGN §7's paths, as the Scenarios sheet of a
    copy of the workbook (alike paths merged, their share as the probability)."""
    if args.samples < 1:
        raise InputError([Issue("command line", "--samples", "give at least 1 path")])
    data = _load(args)
    _need_risks(data, "sample")
    out = Path(args.out) if args.out else default_out(args.book, "sampled")
    paths = sample(data, args.samples, args.seed)
    named = alike(paths)
    quiet = sum(1 for p in paths if not p)
    rows = sheet_rows(data, [(n, p, c / args.samples) for n, p, c in named])
    note = [
        f"Scenarios sampled by 'ree-plan sample': {args.samples} paths from the Risks sheet,"
        f" seed {args.seed}; {len(named)} distinct paths with an episode (alike paths merged,"
        f" Probability (%) = their share of the {args.samples}), {quiet} with none (the quiet"
        " world: the baseline). The Risk column says which risk each row comes from.",
        "",
    ]
    try:
        out = target_path(out, [args.book])
        progress.say(f"writing {out}")
        replace_scenarios(args.book, out, rows, note)
    except (OutputError, OSError) as exc:
        why = why_not_written(exc) if isinstance(exc, OSError) else str(exc)
        print(f"ree-plan: cannot write the sampled workbook: {why}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    counts = {r: 0 for r in data.risks["risk"]}
    for p in paths:
        for e in p:
            counts[data.risks["risk"].iloc[e.risk]] += 1
    if args.json:
        print_json(
            {
                "paths": args.samples,
                "distinct": len(named),
                "quiet": quiet,
                "episodes": counts,
                **_json_extra(out, data),
            }
        )
        return EXIT_OK
    print(f"Sampled workbook written to {out}")
    print(
        f"  {args.samples} paths (seed {args.seed}): {len(named)} distinct with an episode,"
        f" {quiet} quiet"
    )
    for name, n in counts.items():
        print(f"  {name}: {n} episodes ({n / args.samples:.2f} a path)")
    return EXIT_OK


def _need_risks(data: PlanData, command: str) -> None:
    if data.risks.empty:
        raise InputError(
            [
                Issue(
                    "Risks",
                    "",
                    f"'ree-plan {command}' samples disruption paths from the Risks sheet, which"
                    " has no risk; add one row per kind of trouble (its effect, chance per year"
                    " and mean duration in periods)",
                )
            ]
        )


def risk_preface(data: PlanData, r: RiskResult) -> Preface:
    """The risk workbook's Overview: what the sample says about both plans."""
    cur = data.currency
    s = r.summary
    risk = r.table.set_index("Plan")
    q, h = risk.loc[PLANS[0]], risk.loc[PLANS[1]]
    lines = [
        f"{s['Test paths']} test paths sampled from the Risks sheet (seed {s['Seed']}), each"
        " followed by both plans the way 'stress' follows a plan: its quiet-world branch"
        " until the path's first episode, then re-planned. The hedged plan was made over"
        f" {s['Training paths']} other paths (training), so the test paths are out of sample.",
    ]
    if s.get("Hedge note"):
        lines.append(f"Note: {s['Hedge note']}.")
    lines.append(
        f"Quiet-world plan: mean cost {q['Mean cost']:,.0f} {cur}, 1 path in 10 above"
        f" {q['P90 cost']:,.0f}, CVaR at {s['Risk level (%)']:g} % {q['CVaR']:,.0f}; demand goes"
        f" unmet on {q['Probability of shortfall (%)']:.1f} % of the paths."
    )
    lines.append(
        f"Hedged plan: mean cost {h['Mean cost']:,.0f} {cur}, 1 path in 10 above"
        f" {h['P90 cost']:,.0f}, CVaR {h['CVaR']:,.0f}; demand goes unmet on"
        f" {h['Probability of shortfall (%)']:.1f} % of the paths."
    )
    value = s.get("Value of hedging (out of sample)")
    price = s["Hedged cost (no episode)"] - s["Quiet-world cost (no episode)"]
    if value is not None and s.get("Value of hedging, 95 % low") is not None:
        lines.append(
            f"Value of hedging out of sample: {value:,.0f} {cur} a path on average (95 %"
            f" confidence {s['Value of hedging, 95 % low']:,.0f} to"
            f" {s['Value of hedging, 95 % high']:,.0f}), paired over the same paths; if no"
            f" episode comes, the hedge costs {price:,.0f}"
            " more. The plan sheets below are the hedged plan's quiet-world branch: what to buy"
            " while nothing happens."
        )
    worst = r.worst[
        [
            "Path",
            "Quiet-world cost",
            "Hedged cost",
            "Quiet-world shortfall (t)",
            "Hedged shortfall (t)",
        ]
    ]
    # Their episodes as rows (a sentence per path would not fit a column).
    episodes = r.paths[r.paths["Path"].isin(worst["Path"])]
    order = {p: i for i, p in enumerate(worst["Path"])}
    episodes = episodes.sort_values("Path", key=lambda c: c.map(order), kind="stable")
    episodes = episodes[["Path", "First period", "Last period", "Risk"]]  # Risk runs on
    blocks = [
        (
            "Both plans over the test paths",
            "all figures on sheet Risk",
            r.table.drop(columns=["Paths without a plan"]),
        ),
        (
            "The worst test paths for the quiet-world plan",
            "every path on sheet Path costs",
            worst,
        ),
        ("What happens on them", "one row per episode; every path's on sheet Paths", episodes),
    ]
    if len(r.shortfall):
        blocks.append(
            (
                "Expected shortfall per material and sector",
                "tonnes over the horizon, averaged over the test paths",
                r.shortfall,
            )
        )
    return Preface("How risky is the plan: sampled disruption paths", lines, blocks)


def run_risk(args: argparse.Namespace) -> int:
    """``ree-plan risk BOOK``: DESIGN §7's risk profile of the quiet-world and hedged plans."""
    for flag in ("samples", "train"):
        if getattr(args, flag) < 1:
            raise InputError([Issue("command line", f"--{flag}", "give at least 1 path")])
    data = _load(args)
    _need_risks(data, "risk")
    client = cluster = None
    if args.workers or args.scheduler:
        try:
            client, cluster = dask_client(args.workers, args.scheduler)
        except (RuntimeError, OSError) as exc:
            print(f"ree-plan: {exc}", file=sys.stderr)
            return EXIT_ERROR
    try:
        result = risk_data(data, args.samples, args.train, args.seed, client, progress.say)
    except PlanCheckError as exc:
        print(f"ree-plan: {exc}\nNo plan was written.", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    if result.status != OPTIMAL:
        return _report_status(
            result.status, result.explanation, result.detail, "No plan", args, data
        )
    out = Path(args.out) if args.out else default_out(args.book, "risk")
    hedge = result.hedge
    plan = hedge.plan if hedge is not None and hedge.plan is not None else result.quiet.plan
    plan.summary.update(result.summary)
    sheets = {
        "Risk": result.table,
        "Cost distribution": result.distribution,
        "Path costs": result.costs,
        "Paths": result.paths,
        "Expected shortfall": result.shortfall,
    }
    if hedge is not None:
        sheets["Hedge"] = pd.DataFrame(hedge.rows)
    try:
        progress.say(f"writing {out}")
        write_plan(out, plan, data, sheets, risk_preface(data, result))
    except (OutputError, OSError) as exc:
        print(f"ree-plan: cannot write the risk workbook: {exc}", file=sys.stderr)
        return EXIT_ERROR
    progress.clear()
    if args.json:
        print_json(
            {
                "summary": _json_summary(plan.summary),
                "risk": [_json_summary(r) for r in result.table.to_dict("records")],
                **_json_extra(out, data),
            }
        )
        return EXIT_OK
    cur = data.currency
    s = result.summary
    print(f"Risk profile written to {out}")
    for r in result.table.to_dict("records"):
        print(
            f"  {r['Plan']}: mean {r['Mean cost']:,.0f}, P90 {r['P90 cost']:,.0f}, CVaR"
            f" {r['CVaR']:,.0f} {cur}; shortfall on {r['Probability of shortfall (%)']:.1f} %"
            " of paths"
        )
    if s.get("Value of hedging (out of sample)") is not None:
        low, high = s.get("Value of hedging, 95 % low"), s.get("Value of hedging, 95 % high")
        band = f" (95 %: {low:,.0f} to {high:,.0f})" if low is not None else ""
        print(
            f"  Value of hedging out of sample: {s['Value of hedging (out of sample)']:,.0f}"
            f" {cur}{band}"
        )
    return EXIT_OK
