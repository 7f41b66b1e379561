"""One workbook, one plan (DESIGN §2): which of several equally cheap plans ree-plan writes.

Most workbooks have many plans of the least cost (two offers at one price, which stock lot feeds
which sector, direct delivery or via stock in one period), and on a generated workbook two of
them left an embargo costing 7.6 M or 231 M extra. The plan written is chosen in order:

1. least cost: HiGHS's LP optimum (with the handling tie-breaker of :mod:`model.lp.formulation`,
   scaled to the workbook's own costs, as DESIGN allows);
2. among those, the least weighted sum of the scenarios' stress-test costs
   (:func:`most_resilient`): the extensive form that ``hedge`` solves
   (:func:`model.studies.extensive.extensive_form`), one copy per scenario following the plan
   before its start and re-optimising after, with the baseline copy held on step 1's optimal
   face, so no cost is spent. Weights: the scenarios' probabilities where
   the workbook gives any (scenarios at 0 take no part), else equal. A scenario that starts in
   the first period shares nothing with the plan and takes no part; one whose stress test has no
   plan whatever the baseline is left out (and named in the Summary);
3. among those, the plan of least norm (:mod:`model.lp.least_norm`): one plan, whatever the row
   order, the model route or the basis. Re-solves after a shock (stress, what-ifs) take steps 1
   and 3 (:func:`model.lp.highs.run` with ``tidy``).

The Summary's ``Plan choice`` row says which steps were taken, and why a step was left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from model.input.data import PlanData
from model.lp.formulation import Built, build_model
from model.lp.highs import (
    OPTIMAL,
    Handle,
    LpResult,
    lp_of,
    optimal_face,
    pass_lp,
    run_lp,
    tidy_on,
)
from model.lp.least_norm import Lp
from model.lp.scenarios import factors
from model.studies.extensive import BASELINE, ExtensiveForm, extensive_form

PLAN_CHOICE = "Plan choice"  # the Summary row
# Step 2 is left out when its extensive form would have more columns than this: it is then the
# size `hedge` solves, and a solve would cost as much. Measured (README, "One workbook, one
# plan"): national example 5 copies x 2,246 columns, 0.1 s.
STEP2_MAX_COLUMNS = 150_000
COPY_WEIGHT = 1.0  # step 3 after step 2: a scenario copy's tonnes weigh as the plan's


@dataclass
class Choice:
    """What steps 2 and 3 made of the cheapest plan."""

    values: dict[str, np.ndarray] | None  # the plan per family; None: step 2 not applied
    objective: float = float("nan")  # its cost (no tie-breaker)
    note: str = ""  # for the Summary's Plan choice row
    # Weighted stress cost, and each scenario's, of the plan chosen and of HiGHS's first plan.
    scenarios: dict[str, float] = field(default_factory=dict)  # name -> weight
    chosen: dict[str, float] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)


def resilience_set(data: PlanData) -> list[tuple[str, float, int]]:
    """(scenario, weight, t0) of step 2: probabilities where the workbook gives any, else equal
    weights; scenarios starting in the first period share nothing with the plan and are left
    out."""
    probs = data.probabilities
    if probs:
        weighted = list(probs.items())
    else:
        names = data.scenario_names
        weighted = [(n, 1.0 / len(names)) for n in names]
    out = []
    for name, weight in weighted:
        t0 = factors(data, name).first
        if t0 > 0:
            out.append((name, weight, t0))
    return out


def most_resilient(data: PlanData, b: Built, handle: Handle) -> Choice:
    """Steps 2 and 3 for the baseline just solved in ``handle`` (DESIGN §2)."""
    wanted = resilience_set(data)
    if not wanted:
        return Choice(None)
    n_single = b.n_variables
    if n_single * (1 + len(wanted)) > STEP2_MAX_COLUMNS:
        return Choice(
            None,
            note=(
                f"step 2 left out: {1 + len(wanted)} copies of {n_single:,} variables exceed "
                f"{STEP2_MAX_COLUMNS:,}"
            ),
        )
    h = handle.highs
    sol = h.getSolution()
    x1 = np.asarray(sol.col_value)
    face = optimal_face(h, lp_of(h))
    b2 = build_model(data, factors(data, None), idx=b.idx)
    kept, dropped = list(wanted), []
    step = _on_face(data, b2, handle, face, kept)
    if step.result.status != OPTIMAL:
        # Leave out the scenarios whose stress test has no plan on the face, alone.
        for item in wanted:
            alone = _on_face(data, b2, handle, face, [item])
            if alone.result.status != OPTIMAL:
                dropped.append(item[0])
        kept = [w for w in wanted if w[0] not in dropped]
        if not kept:
            return Choice(None, note=_dropped_note(dropped))
        step = _on_face(data, b2, handle, face, kept)
        if step.result.status != OPTIMAL:
            return Choice(
                None,
                note="step 2 left out: no plan of the least cost can be followed into every "
                "scenario at once",
            )
    ext, h2, r = step.ext, step.highs, step.result
    copies = ext.copies
    weights = {c.name: c.probability for c in copies[1:]}
    full = step.lp
    face2 = optimal_face(h2, full)
    # Every column weighs in step 3, the copies' too: a copy left out of the sum of squares
    # would be free on the face, and an interior point ends far from its bounds there, so the
    # answer could not be polished exact (measured: crumbs of 1e-4 t with the copies at 1e-6).
    weight = np.full(len(r.x), COPY_WEIGHT)
    weight[:n_single] = 1.0
    moves = np.concatenate([ext.col["to_stock"], ext.col["draw"]])  # the plan's own
    x3, why = tidy_on(face2, r.x, moves, weight)
    x = r.x if x3 is None else x3
    chosen = {c.name: float(c.cost @ x[c.colmap]) for c in copies[1:]}
    # HiGHS's first plan followed into each scenario, for the Overview's sentence.
    first: dict[str, float] = {}
    base_cols = np.arange(n_single, dtype=np.int32)
    x1s = _to_stacked(ext.col, handle.col, x1, n_single)
    h2.changeColsBounds(n_single, base_cols, x1s, x1s)
    r1 = run_lp(h2)
    if r1.status == OPTIMAL:
        first = {c.name: float(c.cost @ r1.x[c.colmap]) for c in copies[1:]}
    values = {f: x[pos] for f, pos in ext.col.items()}
    note = (
        f"1 least cost; 2 the least {'probability-weighted' if data.probabilities else 'mean'} "
        f"stress cost over {len(kept)} scenario{'s' if len(kept) != 1 else ''} among the "
        "cheapest plans; "
        + ("3 least squares among those" if x3 is not None else f"3 left out ({why})")
    )
    if dropped:
        note += "; " + _dropped_note(dropped)
    return Choice(
        values,
        float(copies[0].cost @ x[:n_single]),
        note,
        weights,
        chosen,
        first,
    )


def _dropped_note(dropped: list[str]) -> str:
    return "left out of step 2 (no plan of the least cost can be followed into them): " + ", ".join(
        dropped
    )


def _to_stacked(
    stacked: dict[str, np.ndarray], handle_col: dict[str, np.ndarray], v: np.ndarray, n: int
) -> np.ndarray:
    """A vector over HiGHS's columns (``handle_col``'s order) in the stacked order."""
    out = np.zeros(n)
    for f, pos in handle_col.items():
        ok = pos >= 0
        out[stacked[f][ok]] = v[pos[ok]]
    return out


@dataclass
class _Step2:
    """Step 2 solved over some scenarios: the extensive form, HiGHS holding it (with the
    baseline copy on the face), the result, and the LP as solved."""

    ext: ExtensiveForm
    highs: Any
    result: LpResult
    lp: Lp


def _on_face(
    data: PlanData,
    b2: Built,
    handle: Handle,
    face: Lp,
    wanted: list[tuple[str, float, int]],
) -> _Step2:
    """Solve step 2 over ``wanted``: the extensive form with the baseline copy on ``face``
    (the single model's optimal face, in HiGHS's order)."""
    ext = extensive_form(replace(data, risk_weight=0.0), b2, [(BASELINE, 0.0, 0), *wanted])
    lower, upper = ext.lower.copy(), ext.upper.copy()
    rl, ru = ext.row_lower.copy(), ext.row_upper.copy()
    for f, pos in handle.col.items():
        ok = pos >= 0
        sc = ext.col[f][ok]
        lower[sc], upper[sc] = face.lower[pos[ok]], face.upper[pos[ok]]
    offset = 0
    for f, rb in b2.row_blocks.items():
        pos = handle.row.get(f)
        if pos is not None:
            ok = pos >= 0
            sr = offset + np.flatnonzero(ok)
            rl[sr], ru[sr] = face.row_lower[pos[ok]], face.row_upper[pos[ok]]
        offset += rb.n
    h2 = pass_lp(ext.objective, lower, upper, rl, ru, ext.a, data.time_limit_s)
    return _Step2(ext, h2, run_lp(h2), Lp(ext.objective, lower, upper, rl, ru, ext.a))


def sentence(choice: Choice, currency: str) -> str | None:
    """One sentence for the Overview when step 2 changed the plan: which scenario the chosen
    plan leaves cheapest against the first of the cheapest plans HiGHS found, and by how much
    (None when step 2 did not run or changed nothing)."""
    if not choice.chosen or not choice.first:
        return None
    gain = {n: choice.first[n] - choice.chosen[n] for n in choice.chosen}
    weighted = sum(choice.scenarios[n] * g for n, g in gain.items())
    scale = max(1.0, sum(abs(v) for v in choice.chosen.values()))
    if weighted <= 1e-9 * scale:
        return None
    best = max(gain, key=lambda n: gain[n])
    how = "probability-weighted" if len(gain) > 1 else "its"
    return (
        f"Of the plans that cost the least, this one is the most resilient: it leaves "
        f"'{best}' {gain[best]:,.0f} {currency} cheaper than another plan of the same cost "
        f"(the first the solver found; {how} stress cost {weighted:,.0f} {currency} lower)."
    )
