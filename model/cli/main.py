"""The ``ree-plan`` command: check, template, solve, stress.

Exit codes (DESIGN §4): 0 plan written, 2 bad input, 3 infeasible, 4 solver stopped without a
plan, 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from model.cli.console import (
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_OK,
    issue_json,
    print_issues,
    print_json,
)
from model.input.issues import InputError

EXITS = (
    "Exit codes: 0 plan written, 2 bad input (every problem listed, Sheet!Cell), 3 infeasible "
    "(with the conflict in planner words), 4 the solver stopped without a plan (time limit), "
    "1 anything else."
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ree-plan",
        description="Rare earth sourcing optimizer. Plans go to outputs/ unless -o says "
        "otherwise. Exit codes: 0 plan written, 2 bad input, 3 infeasible, 4 the solver "
        "stopped without a plan, 1 anything else.",
    )
    p.add_argument("--version", action="version", version=f"ree-plan {_version()}")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line on stderr (there is none when stderr is not a terminal)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "check",
        help="validate a workbook; exit 0 or 2 with every problem",
        epilog="Exit codes: 0 the workbook can be solved (warnings allowed), 2 bad input "
        "(every problem listed, Sheet!Cell).",
    )
    c.add_argument("book", help="the input workbook (.xlsx)")
    c.add_argument(
        "--json",
        action="store_true",
        help="print {errors, warnings, workbook: {scenarios, caps, materials, periods}} on stdout",
    )
    t = sub.add_parser("template", help="write a blank input workbook")
    t.add_argument("out", help="path of the new workbook (.xlsx); its folder is made")
    t.add_argument("--force", action="store_true", help="overwrite an existing file")
    s = sub.add_parser("solve", help="solve a workbook and write the plan", epilog=EXITS)
    s.add_argument("book", help="the input workbook (.xlsx)")
    s.add_argument("-o", "--out", help="plan path (default outputs/<book>-plan.xlsx)")
    s.add_argument("--scenario", help="apply a scenario of the Scenarios sheet (what-if)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    _route_option(s)
    st = sub.add_parser(
        "stress", help="stress-test the baseline plan against each scenario", epilog=EXITS
    )
    st.add_argument("book", help="the input workbook (.xlsx)")
    st.add_argument("-o", "--out", help="plan path (default outputs/<book>-stress.xlsx)")
    st.add_argument("--scenario", action="append", help="only this scenario (repeatable)")
    st.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    _route_option(st)
    h = sub.add_parser(
        "hedge",
        help="the plan to commit to before anyone knows which shock comes (uses the "
        "scenarios' Probability (%%))",
        epilog=EXITS,
    )
    h.add_argument("book", help="the input workbook (.xlsx)")
    h.add_argument("-o", "--out", help="plan path (default outputs/<book>-hedge.xlsx)")
    h.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    _route_option(h)
    fr = sub.add_parser(
        "frontier",
        help="the price of resilience: sweep a cap's share or the days of cover, with the "
        "stress test (and expected costs) at every point",
        epilog="Exit codes: 0 written (an infeasible point is a row saying why), 2 bad input "
        "or a bad sweep, 1 anything else.",
    )
    fr.add_argument("book", help="the input workbook (.xlsx)")
    fr.add_argument("--cap", metavar="RULE", help="the Caps rule to sweep")
    fr.add_argument("--shares", help="its Max share (%%) at each point, e.g. 100,80,65,50")
    fr.add_argument(
        "--cover", metavar="MATERIAL", help="the material (or ALL) whose cover to sweep"
    )
    fr.add_argument("--days", help="its Min cover (days) at each point, e.g. 0,30,60,90")
    fr.add_argument("-o", "--out", help="path (default outputs/<book>-frontier.xlsx)")
    fr.add_argument("--json", action="store_true", help="print the table as JSON on stdout")
    _route_option(fr)
    fr.add_argument(
        "--workers", type=int, help="run the points on a local Dask cluster of N processes"
    )
    fr.add_argument("--scheduler", help="run the points on the Dask cluster at this address")
    cp = sub.add_parser(
        "compare",
        help="line two plans written by ree-plan up: what moved in cost, purchases, stock, "
        "shortfall and concentration",
        epilog="Exit codes: 0 written, 2 a file that is not a plan written by ree-plan, 1 "
        "anything else.",
    )
    cp.add_argument("a", help="plan A (.xlsx, from solve, stress or hedge)")
    cp.add_argument("b", help="plan B (.xlsx); changes are B - A")
    cp.add_argument("-o", "--out", help="path (default outputs/<A>-vs-<B>.xlsx)")
    cp.add_argument("--json", action="store_true", help="print the comparison as JSON on stdout")
    sv = sub.add_parser(
        "serve",
        help="the planner's page in a browser (and its JSON API): check, run every command,"
        " read and download plans, compare two",
        epilog="Listens on 127.0.0.1 only, unless --host says otherwise and a token is given."
        " Exit codes: 0 stopped with Ctrl-C, 2 a bad option (another address without a token),"
        " 1 anything else (the port is taken).",
    )
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8321, help="port (default 8321)")
    sv.add_argument(
        "--token",
        help="every request must carry it (Bearer, or the sign-in page); needed to listen"
        " beyond 127.0.0.1 (default: the environment's REE_PLAN_TOKEN)",
    )
    sv.add_argument(
        "--workers", type=int, default=2, help="commands run at once (default 2); more wait"
    )
    sv.add_argument("--open", action="store_true", help="open the page in the browser")
    sv.add_argument("--max-upload-mb", type=int, default=50, help="largest upload (default 50)")
    sv.add_argument(
        "--max-unpacked-mb",
        type=int,
        default=500,
        help="largest workbook once unpacked (default 500)",
    )
    sv.add_argument(
        "--ttl-minutes",
        type=float,
        default=720,
        help="a run and its files are removed this long after it ends (default 720, 12 h)",
    )
    sa = sub.add_parser(
        "sample",
        help="sample disruption paths from the Risks sheet into a copy of the workbook whose"
        " Scenarios sheet holds them (every command runs on it)",
        epilog="Exit codes: 0 written, 2 bad input (no Risks sheet, a bad count), 1 anything else.",
    )
    sa.add_argument("book", help="the input workbook (.xlsx), with a Risks sheet")
    sa.add_argument("--samples", type=int, required=True, help="how many paths to draw")
    sa.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    sa.add_argument("-o", "--out", help="path (default outputs/<book>-sampled.xlsx)")
    sa.add_argument("--json", action="store_true", help="print what was sampled as JSON")
    sa.set_defaults(route=None)
    rk = sub.add_parser(
        "risk",
        help="how risky is the plan, really: the quiet-world plan and the hedge over sampled"
        " training paths, both followed into fresh test paths",
        epilog=EXITS,
    )
    rk.add_argument("book", help="the input workbook (.xlsx), with a Risks sheet")
    rk.add_argument("--samples", type=int, default=500, help="test paths (default 500)")
    rk.add_argument("--train", type=int, default=50, help="training paths (default 50)")
    rk.add_argument("--seed", type=int, default=0, help="the generator's seed (default 0)")
    rk.add_argument("-o", "--out", help="path (default outputs/<book>-risk.xlsx)")
    rk.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    _route_option(rk)
    rk.add_argument(
        "--workers", type=int, help="run the test paths on a local Dask cluster of N processes"
    )
    rk.add_argument("--scheduler", help="run the test paths on the Dask cluster at this address")
    b = sub.add_parser("bench", help="time each stage on a synthetic workbook")
    b.add_argument(
        "--size",
        choices=["small", "medium", "large"],
        help="synthetic instance size (default small; --strategies: all three)",
    )
    b.add_argument("--json", action="store_true", help="print the figures as JSON")
    b.add_argument(
        "--keep",
        metavar="PLAN",
        help="keep the plan written at PLAN, and the synthetic input beside it as"
        " PLAN-input.xlsx (to rerun solve, stress or hedge on it)",
    )
    b.add_argument(
        "--hedge",
        type=int,
        default=0,
        metavar="N",
        help="time 'ree-plan hedge' instead, with N weighted scenarios (1-9, 10 %% each)",
    )
    b.add_argument(
        "--strategies",
        action="store_true",
        help="time HiGHS alone with each simplex strategy and thread count, on a quiet"
        " machine and beside two CPU-bound processes",
    )
    b.add_argument(
        "--routes",
        action="store_true",
        help="time the Pyomo route (import, declare, compile; appsi too) against the direct"
        " route and HiGHS's solve",
    )
    b.add_argument(
        "--frontier",
        action="store_true",
        help="time 'ree-plan frontier' instead (a cap swept over 5 points), serial warm "
        "against cold per point",
    )
    b.add_argument(
        "--workers",
        type=int,
        default=0,
        help="with --frontier or --risk: also on a Dask LocalCluster of N processes",
    )
    b.add_argument(
        "--risk",
        action="store_true",
        help="time 'ree-plan risk' on the national example: the hedge over 50, 100 and 200"
        " training paths (against HiGHS alone), 500 test paths followed (serial, and on Dask"
        " with --workers)",
    )
    b.add_argument(
        "--ranging",
        choices=["Auto", "Yes", "No"],
        default="Auto",
        help="the 'Sensitivity ranging' setting to solve with (default Auto, as a new workbook)",
    )
    return p


def _route_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--route",
        choices=["Auto", "Pyomo", "Direct"],
        help="how the LP reaches HiGHS, instead of the workbook's 'Model route' setting: the"
        " algebraic Pyomo model, or the sparse blocks directly (the same LP)",
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ree-plan")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "(not installed)"


def _stop_on_signal(signum: int, frame: Any) -> None:
    """SIGTERM/SIGHUP: leave like Ctrl-C, through every ``finally`` (temporary files go)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is not threading.main_thread():  # signals are main-only
        return _main(args)
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _main(args)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(args: argparse.Namespace) -> int:
    from model import progress

    progress.enable(
        sys.stderr.isatty() and not args.quiet,
        lines=os.environ.get("REE_PLAN_PROGRESS") == "lines",
    )
    try:
        return _run(args)
    finally:
        progress.clear()


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "template":
            return _template(args)
        if args.command == "solve":
            from model.cli.commands import run_solve

            return run_solve(args)
        if args.command == "stress":
            from model.cli.commands import run_stress

            return run_stress(args)
        if args.command == "hedge":
            from model.cli.commands import run_hedge

            return run_hedge(args)
        if args.command == "frontier":
            from model.cli.commands import run_frontier

            return run_frontier(args)
        if args.command == "compare":
            from model.cli.commands import run_compare

            return run_compare(args)
        if args.command == "sample":
            from model.cli.commands import run_sample

            return run_sample(args)
        if args.command == "risk":
            from model.cli.commands import run_risk

            return run_risk(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "serve":
            from model.web.serve import serve

            return serve(
                args.host,
                args.port,
                args.token,
                args.workers,
                args.open,
                args.max_upload_mb,
                args.max_unpacked_mb,
                args.ttl_minutes,
            )
    except InputError as exc:
        print_issues(exc.issues)
        if getattr(args, "json", False):  # scripts need not parse stderr
            print_json(
                {
                    "errors": [issue_json(i) for i in exc.issues if i.severity == "error"],
                    "warnings": [issue_json(i) for i in exc.issues if i.severity != "error"],
                }
            )
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # stdout was closed by its reader (`ree-plan solve ... | head`): what was written
        # stays written; silence the interpreter's own flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # last resort: a clear line, not a traceback
        if os.environ.get("REE_PLAN_DEBUG"):
            raise
        print(
            f"ree-plan: unexpected error: {type(exc).__name__}: {exc}\n"
            "(set REE_PLAN_DEBUG=1 for the full traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_ERROR


def _check(args: argparse.Namespace) -> int:
    from model.input.validate import load

    data = load(args.book)
    print_issues(data.warnings)
    if args.json:
        print_json(
            {
                "errors": [],
                "warnings": [issue_json(i) for i in data.warnings],
                "workbook": {
                    "scenarios": data.scenario_names,
                    "risks": data.risks["risk"].astype(str).tolist(),
                    "weighted": list(data.probabilities),
                    "caps": list(dict.fromkeys(data.caps["rule"].astype(str))),
                    "materials": [str(m) for m in data.materials.index],
                    "periods": list(data.periods),
                },
            }
        )
        return EXIT_OK
    counts = (
        (len(data.periods), "period"),
        (len(data.materials), "material"),
        (len(data.sectors), "sector"),
        (len(data.offers), "offer"),
        (len(data.caps), "cap"),
        (len(data.scenario_names), "scenario"),
    )
    listed = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
    weighted = len(data.probabilities)
    risks = len(data.risks)
    print(
        f"{args.book}: OK — {listed}"
        + (f" ({weighted} with a probability, for 'ree-plan hedge')" if weighted else "")
        + (
            f"; {risks} risk{'' if risks == 1 else 's'} (for 'ree-plan sample' and 'risk')"
            if risks
            else ""
        )
    )
    return EXIT_OK


def _template(args: argparse.Namespace) -> int:
    from model.excel.report import why_not_written
    from model.input.template import write_template

    try:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_template(args.out, force=args.force)
    except FileExistsError:
        print(f"{args.out} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"ree-plan: cannot write {args.out}: {why_not_written(exc)}", file=sys.stderr)
        return EXIT_ERROR
    print(f"template written to {args.out}")
    return EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from model.cli.bench import run_bench, run_hedge_bench

    if not (args.strategies or args.routes or args.risk):
        args.size = args.size or "small"
    if args.routes:
        from model.cli.bench import run_route_bench

        result = run_route_bench([args.size] if args.size else ["small", "medium", "large"])
    elif args.strategies:
        from model.cli.bench import run_strategy_bench

        result = run_strategy_bench([args.size] if args.size else ["small", "medium", "large"])
    elif args.risk:
        from model.cli.bench import run_risk_bench

        result = run_risk_bench(workers=args.workers)
    elif args.frontier:
        from model.cli.bench import run_frontier_bench

        result = run_frontier_bench(args.size, args.workers)
    elif args.hedge:
        result = run_hedge_bench(args.size, args.hedge, args.keep)
    else:
        result = run_bench(args.size, args.keep, args.ranging)
    if args.json:
        print_json(result)
    elif args.routes:
        for r in result["routes"]:
            print("  ".join(f"{k}={v}" for k, v in r.items()))
    elif args.strategies:
        print(f"{'size':<7} {'machine':<19} {'strategy':<23} {'best s':>8} {'worst s':>8}")
        for r in result["strategies"]:
            print(
                f"{r['size']:<7} {r['machine']:<19} {r['strategy']:<23} "
                f"{r['best_s']:>8.3f} {r['worst_s']:>8.3f}"
            )
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
