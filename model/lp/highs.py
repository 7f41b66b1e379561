"""The only module that knows HiGHS: hand the built model over, solve, read the answer.

Route: Pyomo's ``LinearStandardFormCompiler`` turns the model into sparse matrices, which go
to an in-process ``highspy.Highs`` through ``passModel`` (no LP file, no APPSI: measured 2-3x
faster hand-over, see ../shared/MEASUREMENTS.md). The Highs instance is kept, so a scenario loop
can change bounds, costs and coefficients and re-solve from the previous basis.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
from scipy import sparse

from model import progress
from model.lp.explain import describe_col, describe_row, row_keys
from model.lp.families import VARIABLE, variable_table
from model.lp.formulation import MOVE_COST_FROM, Built, Numbers
from model.lp.least_norm import Lp, face_of, least_squares

INF = highspy.kHighsInf
IIS_FROM_LP, IIS_REDUCE = 2, 4  # bits of HiGHS's iis_strategy option
SIMPLEX_DUAL_PAMI = 2  # HiGHS's simplex_strategy: 1 dual serial, 2 dual PAMI, 4 primal
SOLVER_THREADS = 2  # the machines this runs on have two cores
OPTIMAL, INFEASIBLE, NO_PLAN = "Optimal", "Infeasible", "Stopped without a plan"


@dataclass
class Solution:
    status: str  # OPTIMAL, INFEASIBLE or NO_PLAN
    detail: str  # HiGHS's own words for the status
    objective: float
    values: dict[str, np.ndarray]  # family -> value per index-table row
    highs_s: float
    explanation: list[str] = field(default_factory=list)  # infeasible: planner words
    duals: Duals | None = None  # from the cost-minimising run, when asked for
    num: Numbers | None = None  # the scenario's numbers it was solved with


@dataclass
class Duals:
    """Duals and ranging of the optimal basis, per family in index-table order.

    HiGHS's signs (minimisation): a row dual is d(cost)/d(right-hand side); a column dual
    (reduced cost) is d(cost)/d(the bound the column sits at). Ranges are the bound values
    between which that dual holds (NaN when HiGHS gives none).
    """

    row: dict[str, np.ndarray]
    col: dict[str, np.ndarray]
    row_range: dict[str, tuple[np.ndarray, np.ndarray]]
    col_range: dict[str, tuple[np.ndarray, np.ndarray]]
    values: dict[str, np.ndarray]  # the solution these duals belong to
    ranged: bool = True  # False: ranging not asked for (the ranges are all NaN)


@dataclass
class Handle:
    """A model handed to HiGHS, with the maps from families to columns and rows."""

    highs: highspy.Highs
    built: Built
    col: dict[str, np.ndarray]  # family -> column position per index-table row (-1 = absent)
    row: dict[str, np.ndarray]  # family -> row position per constraint (-1 = absent)
    col_lower: np.ndarray
    col_upper: np.ndarray
    num: Numbers | None = None  # the scenario's numbers HiGHS holds now (push_numbers)


def release_memory() -> None:
    """Give freed heap memory back to the operating system (glibc ``malloc_trim``).

    Building the model frees hundreds of MB of pandas temporaries that glibc keeps in the
    heap; HiGHS allocates its own large blocks elsewhere, so without this the peak is both.
    Measured at the large benchmark: 117 MB less resident after the hand-over. A no-op where
    the C library has no ``malloc_trim``.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def one_malloc_arena() -> None:
    """Let every thread of this process allocate from glibc's one main heap.

    HiGHS runs in a thread of its own (:func:`run_highs`, so that Ctrl-C reaches Python), and
    glibc gives each new thread its own arena: memory the main thread freed (the build's pandas
    temporaries) cannot serve HiGHS's, and both stay resident. Measured at the large benchmark:
    peak 743 MB with per-thread arenas, 588 MB with one (HiGHS alone in a fresh process: 509 MB).
    A no-op where the C library has no ``mallopt``; called before the first Highs is made."""
    if _SOLVER.get("one_arena"):
        return
    _SOLVER["one_arena"] = True
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 1)


def new_highs(n_cols: int = 0) -> highspy.Highs:
    """A silent Highs instance, with the simplex strategy for an LP of ``n_cols`` columns
    (:func:`strategy`). HiGHS prints its banner on stdout when the first instance of a
    process is made, which would spoil ``--json`` output: send file descriptor 1 to
    /dev/null for that moment."""
    one_malloc_arena()
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    h.setOptionValue("output_flag", False)
    simplex, threads = strategy(n_cols)
    h.setOptionValue("simplex_strategy", simplex)
    h.setOptionValue("threads", threads)
    return h


SIMPLEX_DUAL_SERIAL = 1
# Dual simplex with HiGHS's parallel (PAMI) update pays only on large LPs, and only when a
# core is free. Measured (README, "A busy machine"; HiGHS alone, this 2-core machine), serial
# dual on 2 threads against PAMI on 2: medium (34,540 columns) quiet 1.45 / 1.70 s, beside
# two busy processes 2.6-3.0 / 28-33 s; large (333,476) quiet 46.1 / 39.8 s, busy 72.9 s /
# stopped at 240 s half-way. So serial dual, except PAMI for LPs of at least
# PAMI_MIN_COLUMNS columns when the load average leaves a core idle.
PAMI_MIN_COLUMNS = 100_000
_SOLVER: dict[str, bool] = {"serial_only": False}


def strategy(n_cols: int) -> tuple[int, int]:
    """(simplex_strategy, threads) for an LP of ``n_cols`` columns on this machine now."""
    if _SOLVER["serial_only"]:
        return SIMPLEX_DUAL_SERIAL, 1
    if n_cols < PAMI_MIN_COLUMNS or not _core_free():
        return SIMPLEX_DUAL_SERIAL, SOLVER_THREADS
    return SIMPLEX_DUAL_PAMI, SOLVER_THREADS


def _core_free() -> bool:
    """Whether the last minute's load leaves at least one core idle for PAMI's second
    thread (our own process counts for about one)."""
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # not on this platform: assume busy, stay serial
        return False
    return load <= (os.cpu_count() or 1) - 1.5


def use_serial_solver() -> None:
    """Serial dual simplex on one thread for every Highs made from now on in this process.

    For processes that share the machine's cores with others (Dask workers): PAMI's two threads
    per process then fight over the cores (measured: a 5-point medium frontier on 2 workers took
    95 s with PAMI, against 13.7 s serial in one process)."""
    _SOLVER["serial_only"] = True


def hand_over(b: Built, time_limit_s: float | None = None) -> Handle:
    """Pass the model's matrices to a new Highs instance.

    Direct route: the families of ``b`` are already sparse matrices; stack them (and release
    the blocks' copy). Pyomo route (``b.route == "pyomo"``): declare the algebraic model of
    :mod:`model.lp.algebra` and compile it with Pyomo's ``LinearStandardFormCompiler``. Both give
    HiGHS the same LP (``tests/test_routes.py``).
    """
    if b.route == "pyomo":
        from model.lp.algebra import compile_lp  # Pyomo: 1.6 s to import, only on its route

        lp = compile_lp(b)
        b.release_blocks()
        return _pass(b, *lp, time_limit_s)
    st = stack(b)
    b.release_blocks()  # HiGHS holds the matrix now
    gc.collect()
    release_memory()
    return _pass(
        b,
        st.col,
        st.row,
        st.cost,
        0.0,
        st.lower,
        st.upper,
        st.row_lower,
        st.row_upper,
        st.a,
        time_limit_s,
    )


@dataclass
class Stacked(Lp):
    """The families of a built model stacked into one LP (an :class:`Lp`), with ``col`` and
    ``row`` mapping each family to its positions."""

    col: dict[str, np.ndarray] = field(default_factory=dict)
    row: dict[str, np.ndarray] = field(default_factory=dict)


def stack(b: Built) -> Stacked:
    """Stack the variable and row families of ``b`` into one sparse LP (blocks kept)."""
    col, offset = {}, 0
    for family, vb in b.var_blocks.items():
        col[family] = np.arange(offset, offset + len(vb.lb), dtype=np.int64)
        offset += len(vb.lb)
    n_col = offset
    lower = np.concatenate([vb.lb for vb in b.var_blocks.values()]) if n_col else np.zeros(0)
    upper = np.concatenate([vb.ub for vb in b.var_blocks.values()]) if n_col else np.zeros(0)
    cost = np.zeros(n_col)
    for family, coefs in b.cost:
        cost[col[family]] += coefs
    row, r_all, c_all, v_all, lo_all, hi_all, offset = {}, [], [], [], [], [], 0
    for family, rb in b.row_blocks.items():
        row[family] = np.arange(offset, offset + rb.n, dtype=np.int64)
        for r, fam, pos, coef in rb.parts:
            r_all.append(r + offset)
            c_all.append(col[fam][pos])
            v_all.append(coef)
        lo_all.append(rb.lo)
        hi_all.append(rb.hi)
        offset += rb.n
    n_row = offset
    a = sparse.csc_array(
        (np.concatenate(v_all), (np.concatenate(r_all), np.concatenate(c_all))),
        shape=(n_row, n_col),
    )
    a.sum_duplicates()
    del r_all, c_all, v_all
    return Stacked(
        cost, lower, upper, np.concatenate(lo_all), np.concatenate(hi_all), a, col=col, row=row
    )


def _pass(
    b: Built,
    col: dict[str, np.ndarray],
    row: dict[str, np.ndarray],
    cost: np.ndarray,
    offset: float,
    lower: np.ndarray,
    upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    a: Any,
    time_limit_s: float | None,
) -> Handle:
    h = pass_lp(cost, lower, upper, row_lower, row_upper, a, time_limit_s, offset)
    return Handle(h, b, col, row, *_highs_bounds(lower, upper), num=b.num)


def _highs_bounds(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds with numpy's infinities as HiGHS's."""
    return np.where(np.isinf(lower), -INF, lower), np.where(np.isinf(upper), INF, upper)


def pass_lp(
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    a: Any,
    time_limit_s: float | None,
    offset: float = 0.0,
) -> highspy.Highs:
    """A new Highs instance holding ``min cost x : row_lower <= a x <= row_upper, lower <= x
    <= upper`` (``a`` a scipy CSC array; infinities as numpy's)."""
    lower, upper = _highs_bounds(lower, upper)
    row_lower, row_upper = _highs_bounds(row_lower, row_upper)
    h = new_highs(a.shape[1])
    _TIME_LIMIT[id(h)] = time_limit_s
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    # The arrays straight into HiGHS (a HighsLp in between costs 0.2 s of copies at large).
    n_col = len(cost)
    status = h.passModel(
        n_col,
        a.shape[0],
        a.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(offset),
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(lower, dtype=np.float64),
        np.ascontiguousarray(upper, dtype=np.float64),
        np.ascontiguousarray(row_lower, dtype=np.float64),
        np.ascontiguousarray(row_upper, dtype=np.float64),
        np.asarray(a.indptr[:-1], dtype=np.int32),  # no copy when already 32-bit
        np.asarray(a.indices, dtype=np.int32),
        np.ascontiguousarray(a.data, dtype=np.float64),
        np.zeros(n_col, dtype=np.int32),  # all continuous (HiGHS refuses an empty list)
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model's matrices")
    return h


# The time limit of each run of a Highs instance (by id; set by pass_lp). HiGHS compares its
# time_limit with the instance's run time summed over every run (ERGO-Code/HiGHS#1331, #1477),
# so warm re-solves on one instance (stress, frontier) would hit the limit after enough of them:
# a large frontier's fifth point stopped after 98 s of its own with the limit at 600 s.
_TIME_LIMIT: dict[int, float | None] = {}


def run_highs(h: highspy.Highs) -> float:
    """``h.run()`` with the time limit counted from now; return the seconds it took."""
    limit = _TIME_LIMIT.get(id(h))
    if limit is not None:
        h.setOptionValue("time_limit", h.getRunTime() + float(limit))
    t0 = time.perf_counter()
    if threading.current_thread() is not threading.main_thread():
        h.run()  # a Dask worker or the like: no Ctrl-C to honour here
        return time.perf_counter() - t0
    # HiGHS in its own thread so that Ctrl-C (and SIGTERM/SIGHUP, which the command line turns
    # into KeyboardInterrupt) reaches Python at once: then HiGHS is told to stop (its interrupt
    # callback, at the next iteration) and the interrupt goes on once it has.
    h.HandleUserInterrupt = True
    h.startSolve()
    try:
        while not h.wait(0.05)[0]:
            elapsed = time.perf_counter() - t0
            if elapsed > 1.0:
                progress.say(f"HiGHS solving: {elapsed:.0f} s")
    except KeyboardInterrupt:
        h.cancelSolve()
        while not h.wait(0.05)[0]:
            pass
        raise
    return time.perf_counter() - t0


@dataclass
class LpResult:
    """What a solve of a plain LP (:func:`pass_lp`) gave."""

    status: str  # OPTIMAL, INFEASIBLE or NO_PLAN
    detail: str
    x: np.ndarray  # empty unless optimal
    objective: float
    highs_s: float


def run_lp(h: highspy.Highs) -> LpResult:
    """Solve (warm when the instance has a basis) and read the column values."""
    highs_s = run_highs(h)
    status = h.getModelStatus()
    detail = h.modelStatusToString(status)
    ms = highspy.HighsModelStatus
    if status == ms.kOptimal:
        x = np.asarray(h.getSolution().col_value)
        return LpResult(OPTIMAL, detail, x, h.getInfo().objective_function_value, highs_s)
    kind = INFEASIBLE if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible) else NO_PLAN
    return LpResult(kind, detail, np.zeros(0), float("nan"), highs_s)


def optimal_face(h: highspy.Highs, lp: Lp) -> Lp:
    """``lp``, just solved to optimality in ``h``, restricted to its optimal face.

    Complementary slackness: with the duals of that optimal solve, a feasible point is optimal
    exactly when every column with a non-zero reduced cost sits where it sits now and every row
    with a non-zero dual is active (:func:`model.lp.least_norm.face_of` fixes them): whatever is
    minimised next over the face cannot worsen the old objective. The hedge's second pass and
    DESIGN §2's steps 2 and 3 all hold their predecessor's optimum this way."""
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    return face_of(lp, x, np.asarray(sol.col_dual), np.asarray(sol.row_dual))


def _np_inf(v: Any) -> np.ndarray:
    v = np.asarray(v, dtype=float).copy()
    v[v >= INF] = np.inf
    v[v <= -INF] = -np.inf
    return v


def lp_of(h: highspy.Highs) -> Lp:
    """The LP that ``h`` holds now (its bounds as last changed), as arrays."""
    lp = h.getLp()
    m = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    parts = (np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_))
    if m.format_ == highspy.MatrixFormat.kColwise:
        a = sparse.csc_array(parts, shape=shape)
    else:
        a = sparse.csr_array(parts, shape=shape).tocsc()
    return Lp(
        np.asarray(lp.col_cost_, dtype=float),
        _np_inf(lp.col_lower_),
        _np_inf(lp.col_upper_),
        _np_inf(lp.row_lower_),
        _np_inf(lp.row_upper_),
        a,
    )


# Step 3 (the least-norm plan) is not tried on LPs with this many columns or more (the handling
# tie-breaker takes over there): the interior point would cost far more than the solve (see
# model.lp.least_norm; measured in the README).
LEAST_NORM_MAX_COLUMNS = MOVE_COST_FROM


def tidy_on(
    face: Lp, x: np.ndarray, moves: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray | None, str]:
    """Step 3 on an optimal ``face`` holding the point ``x``: first the least tonnes moved into
    and out of stock (the columns ``moves``: an LP, so stock is not rotated for nothing, which
    least squares alone would do to spread a flow over parallel routes), then, on that LP's
    own optimal face, the least ``sum(weight * x**2)`` (:func:`model.lp.least_norm.least_squares`).
    ``(None, why)`` when either does not solve."""
    handling = np.zeros(len(x))
    handling[moves] = 1.0
    h = pass_lp(handling, face.lower, face.upper, face.row_lower, face.row_upper, face.a, None)
    r = run_lp(h)
    if r.status != OPTIMAL:
        return None, f"the least-handling LP: {r.detail}"
    lp = Lp(handling, face.lower, face.upper, face.row_lower, face.row_upper, face.a)
    return least_squares(optimal_face(h, lp), weight, r.x)


def iis(h: highspy.Highs) -> tuple[list[int], list[int]]:
    """Rows and columns of an irreducible infeasible subset (empty when HiGHS finds none)."""
    try:
        # 2: an infeasible set from the elastic LP; 4: reduce it to an irreducible one
        h.setOptionValue("iis_strategy", IIS_FROM_LP | IIS_REDUCE)
        _, found = h.getIis()
        return list(found.row_index_), list(found.col_index_)
    except Exception:  # HiGHS could not compute an IIS: the caller says what it knows
        return [], []


def run(handle: Handle, duals: bool = False, ranging: bool = True, tidy: bool = False) -> Solution:
    """Solve what the handle holds; read values (and, if asked, duals, with HiGHS's ranging
    unless ``ranging`` is False) back per family. With ``tidy``, the values are the plan of
    least norm among the optimal ones (:func:`tidy_values`, DESIGN §2 step 3) where it is
    found; the duals stay those of HiGHS's optimal basis."""
    h = handle.highs
    highs_s = run_highs(h)
    status = h.getModelStatus()
    detail = h.modelStatusToString(status)
    ms = highspy.HighsModelStatus
    if status == ms.kOptimal:
        x = np.asarray(h.getSolution().col_value)
        found = _duals(handle, x, ranging) if duals else None
        tidied, cost, _ = tidy_values(handle) if tidy else (None, 0.0, "")
        if tidied is not None:
            values, objective = tidied, cost
        else:
            values = _values(handle, x)
            objective = h.getInfo().objective_function_value - _moved(handle, x)
        return Solution(
            OPTIMAL,
            detail,
            objective,
            values,
            highs_s,
            duals=found,
            num=handle.num,
        )
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return Solution(INFEASIBLE, detail, float("nan"), {}, highs_s, explain(handle))
    return Solution(NO_PLAN, detail, float("nan"), {}, highs_s)


def _values(handle: Handle, x: np.ndarray) -> dict[str, np.ndarray]:
    """A column vector in HiGHS's order, per family in index-table order."""
    return {
        f: np.where(c >= 0, x[np.maximum(c, 0)], 0.0) if len(c) else np.zeros(0)
        for f, c in handle.col.items()
    }


def _moving(handle: Handle) -> np.ndarray:
    """HiGHS's columns of tonnes moved into and out of stock lots."""
    moving = np.concatenate([handle.col["to_stock"], handle.col["draw"]])
    return moving[moving >= 0]


def _moved(handle: Handle, x: np.ndarray) -> float:
    """The handling tie-breaker's part of the objective at ``x``: no cost (§2)."""
    return handle.built.move_cost * float(x[_moving(handle)].sum())


def tidy_values(handle: Handle) -> tuple[dict[str, np.ndarray] | None, float, str]:
    """DESIGN §2 step 3 for the LP the handle has just solved to optimality, in HiGHS's
    column order: on its optimal face, the least tonnes moved through stock, then the least
    norm (:func:`tidy_on`); that plan per family and its cost, or ``(None, nan, why)`` where
    step 3 is left out."""
    h = handle.highs
    x = np.asarray(h.getSolution().col_value)
    if len(x) >= LEAST_NORM_MAX_COLUMNS:
        return None, float("nan"), f"{len(x):,} variables, {LEAST_NORM_MAX_COLUMNS:,} or more"
    lp = lp_of(h)
    x, why = tidy_on(optimal_face(h, lp), x, _moving(handle), np.ones(len(x)))
    if x is None:
        return None, float("nan"), why
    cost = float(lp.cost @ x) + h.getObjectiveOffset()[1] - _moved(handle, x)
    return _values(handle, x), cost, ""


def _per_family(positions: dict[str, np.ndarray], array: np.ndarray) -> dict[str, np.ndarray]:
    return {
        f: np.where(p >= 0, array[np.maximum(p, 0)] if len(array) else 0.0, np.nan)
        for f, p in positions.items()
    }


def _duals(handle: Handle, x: np.ndarray, ranging: bool) -> Duals:
    h = handle.highs
    sol = h.getSolution()
    row_dual, col_dual = np.asarray(sol.row_dual), np.asarray(sol.col_dual)
    status, rng = h.getRanging() if ranging else (None, None)
    if status == highspy.HighsStatus.kOk and rng.valid:
        row_lo, row_hi = np.asarray(rng.row_bound_dn.value_), np.asarray(rng.row_bound_up.value_)
        col_lo, col_hi = np.asarray(rng.col_bound_dn.value_), np.asarray(rng.col_bound_up.value_)
    else:
        row_lo = row_hi = np.full(len(row_dual), np.nan)
        col_lo = col_hi = np.full(len(col_dual), np.nan)
    rows, cols = handle.row, handle.col

    def ranges(pos: dict[str, np.ndarray], lo: np.ndarray, hi: np.ndarray) -> dict[str, Any]:
        low, high = _per_family(pos, lo), _per_family(pos, hi)
        return {f: (low[f], high[f]) for f in pos}

    return Duals(
        _per_family(rows, row_dual),
        _per_family(cols, col_dual),
        ranges(rows, row_lo, row_hi),
        ranges(cols, col_lo, col_hi),
        {f: np.nan_to_num(v) for f, v in _per_family(cols, x).items()},
        ranging,
    )


def solve(
    b: Built,
    time_limit_s: float | None = None,
    duals: bool = True,
    ranging: bool = True,
) -> tuple[Solution, Handle]:
    """Hand ``b`` to HiGHS and solve; a model infeasible by construction is not handed over."""
    if b.trivially_infeasible:
        reasons = [describe_row(b, family, key) for family, key in b.trivially_infeasible]
        empty = Handle(new_highs(), b, {}, {}, np.zeros(0), np.zeros(0))
        return Solution(
            INFEASIBLE,
            "Infeasible",
            float("nan"),
            {},
            0.0,
            ["Nothing in the workbook can meet:"] + reasons,
        ), empty
    handle = hand_over(b, time_limit_s)
    return run(handle, duals=duals, ranging=ranging), handle


def explain(handle: Handle) -> list[str]:
    """An irreducible infeasible subset from HiGHS, in planner words."""
    rows, cols = iis(handle.highs)
    if not rows and not cols:
        return [
            "HiGHS found no feasible plan but could not isolate the conflict; relax caps, "
            "floors or minimum purchases, or set 'Allow shortfall' to Yes to see where."
        ]
    lines = ["These requirements cannot all hold together:"]
    b = handle.built
    for family, positions in handle.row.items():
        hit = np.flatnonzero(np.isin(positions, rows))
        keys = row_keys(b, family)
        lines.extend(describe_row(b, family, keys[i]) for i in hit)
    # Bounds a planner set (capacity, minimum, alternative share); "cannot be negative" is
    # implied and only clutters the list.
    for family in ("buy", "avoid"):
        positions = handle.col.get(family, np.zeros(0, dtype=np.int64))
        hit = np.flatnonzero(np.isin(positions, cols))
        lines.extend(describe_col(b, family, i) for i in hit)
    return list(dict.fromkeys(lines))


def push_numbers(handle: Handle, num: Numbers) -> None:
    """Load a scenario's numbers into the live HiGHS model (bounds, costs, rhs, budget)."""
    h, b = handle.highs, handle.built
    _set_cols(handle, "buy", num.buy_lb, num.buy_ub, num.buy_cost)
    _set_cols(handle, "avoid", np.zeros(len(num.avoid_ub)), num.avoid_ub)
    _set_rows(h, handle.row["demand"], num.demand, num.demand)
    _set_rows(h, handle.row["floor"], num.floor, np.full(len(num.floor), INF))
    budget_rows = handle.row.get("budget")
    if budget_rows is not None and len(budget_rows):
        t_row = dict(zip(b.idx.budget_periods, budget_rows.tolist(), strict=True))
        for col, t, cost in zip(
            handle.col["buy"].tolist(), b.idx.buy["t"].tolist(), num.buy_cost.tolist(), strict=True
        ):
            r = t_row.get(t, -1)
            if col >= 0 and r >= 0:
                h.changeCoeff(r, col, cost)
    handle.num = num


def _set_cols(
    handle: Handle, family: str, lo: np.ndarray, hi: np.ndarray, cost: np.ndarray | None = None
) -> None:
    """New bounds (and costs) for a variable family, remembered for :func:`unfix`."""
    ok = handle.col[family] >= 0
    if not ok.any():
        return
    cols = handle.col[family][ok].astype(np.int32)
    handle.highs.changeColsBounds(len(cols), cols, lo[ok], hi[ok])
    if cost is not None:
        handle.highs.changeColsCost(len(cols), cols, cost[ok])
    handle.col_lower[cols], handle.col_upper[cols] = lo[ok], hi[ok]


def _set_rows(h: highspy.Highs, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    ok = rows >= 0
    if ok.any():
        r = rows[ok].astype(np.int32)
        h.changeRowsBounds(len(r), r, lo[ok], hi[ok])


def fix_before(handle: Handle, values: dict[str, np.ndarray], t0: int) -> None:
    """Fix every variable of periods before ``t0`` to ``values`` (a previous solution)."""
    h, idx = handle.highs, handle.built.idx
    for family in VARIABLE:
        table = variable_table(idx, family)
        c = handle.col[family]
        sel = (table["t"].to_numpy() < t0) & (c >= 0)
        if sel.any():
            cols = c[sel].astype(np.int32)
            v = values[family][sel]
            v = np.clip(v, handle.col_lower[cols], handle.col_upper[cols])
            h.changeColsBounds(len(cols), cols, v, v)


def run_followed(
    handle: Handle, num: Numbers, values: dict[str, np.ndarray], t0: int, tidy: bool = True
) -> Solution:
    """DESIGN §3's re-solve: the plan ``values`` followed before ``t0``, the numbers ``num``
    (a scenario's) from then on; warm. The scenario's numbers stay loaded, the fixing goes.
    Without ``tidy``, HiGHS's optimal plan as it comes (no step 3: its cost is the same)."""
    push_numbers(handle, num)
    fix_before(handle, values, t0)
    solution = run(handle, tidy=tidy)
    unfix(handle)
    return solution


def unfix(handle: Handle) -> None:
    """Restore the column bounds recorded in the handle."""
    n = len(handle.col_lower)
    cols = np.arange(n, dtype=np.int32)
    handle.highs.changeColsBounds(n, cols, handle.col_lower, handle.col_upper)
