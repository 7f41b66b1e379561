"""Step 3 of DESIGN §2's choice among equally cheap plans: the plan of least Euclidean norm on
an LP's optimal face (see :mod:`model.studies.choose` for the three steps). Pure arrays: no
HiGHS here.

"The optimal face": with the duals of an optimal solve, a feasible point is optimal exactly when
every column with a non-zero reduced cost stays at its bound and every row with a non-zero dual
stays active (complementary slackness). Minimising the sum of squares over that face is a
strictly convex problem: one plan, whatever the order of rows, the model route or the basis
the LP solve ended in. HiGHS's QP solver failed on the medium benchmark's face
(MEASUREMENTS.md), so Clarabel's interior point solves it, with fixed columns substituted out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import clarabel
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

# Relative to the largest cost coefficient: reduced costs and duals below this count as 0
# when the optimal face is taken (HiGHS's dual feasibility tolerance is 1e-7 absolute).
FACE_TOL = 1e-9
# Step 3 is left out above this many columns free on the face. Measured (README, "One workbook,
# one plan"): national example 0.03 s; the medium benchmark's step-2 face (43,198 free of
# 75,812) 11.4 s, against 0.84 s for HiGHS's LP.
LSQ_MAX_FREE = 50_000
# Clarabel's tolerances: tight, since the plan is compared across routes and row orders.
LSQ_TOL = 1e-10


@dataclass
class Lp:
    """An LP as arrays: ``row_lower <= a x <= row_upper``, ``lower <= x <= upper``, min
    ``cost x`` (infinities as numpy's)."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    a: Any  # scipy.sparse.csc_array


def face_of(lp: Lp, x: np.ndarray, col_dual: np.ndarray, row_dual: np.ndarray) -> Lp:
    """``lp`` restricted to its optimal face, given an optimal solution ``x`` and its duals:
    columns with a non-zero reduced cost fixed at their value, rows with a non-zero dual
    fixed at their activity (zero within :data:`FACE_TOL` of the largest cost)."""
    tol = FACE_TOL * max(1.0, float(np.abs(lp.cost).max(initial=0.0)))
    lower, upper = lp.lower.copy(), lp.upper.copy()
    cols = np.abs(col_dual) > tol
    lower[cols] = upper[cols] = x[cols]
    act = lp.a @ x
    rl, ru = lp.row_lower.copy(), lp.row_upper.copy()
    rows = np.abs(row_dual) > tol
    rl[rows] = ru[rows] = act[rows]
    return Lp(lp.cost, lower, upper, rl, ru, lp.a)


def least_squares(face: Lp, weight: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The point of ``face`` that minimises ``sum(weight * x**2)``; ``x0`` is a feasible point
    (its fixed columns are kept). ``(None, why)`` when there are more than
    :data:`LSQ_MAX_FREE` free columns or the interior point does not converge."""
    span = face.upper - face.lower
    fixed = np.isfinite(span) & (span <= 1e-12 * np.maximum(1.0, np.abs(face.lower)))
    free = np.flatnonzero(~fixed)
    x = np.where(fixed, np.clip(x0, face.lower, face.upper), x0)
    if len(free) == 0:
        return x, ""
    if len(free) > LSQ_MAX_FREE:
        return None, f"{len(free):,} columns free on the face, over {LSQ_MAX_FREE:,}"
    a = face.a
    shift = a[:, np.flatnonzero(fixed)] @ x[fixed] if fixed.any() else np.zeros(a.shape[0])
    af = sparse.csr_array(a[:, free])
    used = np.diff(af.indptr) > 0
    af = af[used]
    rl, ru = face.row_lower[used] - shift[used], face.row_upper[used] - shift[used]
    eq = np.isfinite(rl) & np.isfinite(ru) & (ru - rl <= 1e-12 * np.maximum(1.0, np.abs(ru)))
    up = ~eq & np.isfinite(ru)
    lo = ~eq & np.isfinite(rl)
    lb, ub = face.lower[free], face.upper[free]
    n = len(free)
    eye = sparse.identity(n, format="csr")
    blocks = [af[eq], af[up], -af[lo]]
    rhs = [ru[eq], ru[up], -rl[lo]]
    has_ub, has_lb = np.isfinite(ub), np.isfinite(lb)
    blocks += [eye[has_ub], -eye[has_lb]]
    rhs += [ub[has_ub], -lb[has_lb]]
    big = sparse.vstack(blocks, format="csc")
    b = np.concatenate(rhs)
    n_eq = int(eq.sum())
    p = sparse.diags(2.0 * weight[free], format="csc")
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = LSQ_TOL
    settings.tol_feas = LSQ_TOL
    settings.presolve_enable = True
    cones = [clarabel.ZeroConeT(n_eq), clarabel.NonnegativeConeT(len(b) - n_eq)]
    if n_eq == 0:
        cones = cones[1:]
    try:
        solver = clarabel.DefaultSolver(p, np.zeros(n), big, b, cones, settings)
        sol = solver.solve()
    except (RuntimeError, ValueError) as exc:  # step 3 is a refinement: never the plan's end
        return None, f"the interior point failed ({exc})"
    if str(sol.status) not in ("Solved", "AlmostSolved"):
        return None, f"the interior point stopped ({sol.status})"
    z = np.clip(np.asarray(sol.x), lb, ub)
    polished = _polish(af, rl, ru, eq, lb, ub, weight[free], z)
    if polished is None:
        # Unpolished, the interior point's answer must still hold every row closely enough for
        # the post-solve check; otherwise HiGHS's own (optimal) plan stands.
        act = af @ z
        slack = UNPOLISHED_TOL * max(1.0, float(np.abs(z).max(initial=0.0)))
        if (act > ru + slack).any() or (act < rl - slack).any():
            return None, "the interior point's answer could not be made exact"
    x[free] = z if polished is None else polished
    return x, ""


# Polishing: values within POLISH_ACTIVE x (the largest value) of a bound are held on it, for
# each of these thresholds in turn; the result must hold every row and bound within
# POLISH_CHECK x (the largest value) and be no worse than the interior point's.
POLISH_ACTIVE = (1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4)
POLISH_CHECK = 1e-9
POLISH_ROUNDS = 10
UNPOLISHED_TOL = 1e-7  # relative: how far an unpolished answer may miss a row
KKT_REG = (
    1e-10  # regularisation of the KKT system: redundant rows (stock balances) make it singular
)


def _polish(
    a: Any,
    rl: np.ndarray,
    ru: np.ndarray,
    eq: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    weight: np.ndarray,
    z: np.ndarray,
) -> np.ndarray | None:
    """The interior point's answer made exact, as OSQP polishes: the bounds and rows it leaves
    (nearly) active are held exactly, and the least-norm solution of those equalities is taken
    (:func:`_kkt`). An interior point ends near, not on, the bounds — 1e-7 t on routes the
    plan does not use, and up to 1e-4 t where a bound holds without a multiplier — so the
    thresholds are tried from tight to loose, and a bound or row the equalities' solution
    crosses is held too and the round solved again. The first result that holds every row and
    bound and is no worse than the interior point's is the plan (the least-norm plan is unique,
    so it is that one, exact to rounding). None (keep ``z``) when no threshold gives one."""
    scale = max(1.0, float(np.abs(z).max(initial=0.0)))
    check = POLISH_CHECK * scale
    a = sparse.csr_array(a)
    act_z = a @ z
    f_z = float(weight @ z**2)
    for share in POLISH_ACTIVE:
        tol = share * scale
        at_lb = np.isfinite(lb) & (z - lb <= tol)
        at_ub = np.isfinite(ub) & (ub - z <= tol) & ~at_lb
        row_u = np.isfinite(ru) & (ru - act_z <= tol) & ~eq
        row_l = np.isfinite(rl) & (act_z - rl <= tol) & ~row_u & ~eq
        for _ in range(POLISH_ROUNDS):
            pinned = at_lb | at_ub
            x = np.where(at_lb, lb, np.where(at_ub, ub, 0.0))
            active = eq | row_u | row_l
            rows = a[active]
            move = np.flatnonzero(~pinned)
            rhs = np.where(row_l, rl, ru)[active] - rows[:, np.flatnonzero(pinned)] @ x[pinned]
            try:
                x[move] = _kkt(rows[:, move], rhs, weight[move])
            except (RuntimeError, ValueError):  # a singular factor: try the next threshold
                break
            act = a @ x
            # What the equalities alone crossed joins them (a bound or row the interior point
            # held only weakly), and the round is solved again.
            over_lb = ~pinned & np.isfinite(lb) & (x < lb - check)
            over_ub = ~pinned & np.isfinite(ub) & (x > ub + check)
            over_ru = ~active & np.isfinite(ru) & (act > ru + check)
            over_rl = ~active & np.isfinite(rl) & (act < rl - check)
            if not (over_lb.any() or over_ub.any() or over_ru.any() or over_rl.any()):
                if float(weight @ x**2) <= f_z * (1 + 1e-12) + check and np.allclose(
                    rows @ x, np.where(row_l, rl, ru)[active], rtol=0, atol=check
                ):
                    return np.clip(x, lb, ub)
                break
            at_lb, at_ub = at_lb | over_lb, at_ub | over_ub
            row_u, row_l = row_u | over_ru, row_l | over_rl
    return None


def _kkt(a: Any, r: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``argmin sum(weight * x**2) : a x = r`` by the KKT system ``[2W a'; a -reg I]``,
    which a sparse LU factorises even when rows of ``a`` are redundant, refined three times
    against the unregularised system."""

    n, m = a.shape[1], a.shape[0]
    if n == 0:
        return np.zeros(0)
    w2 = sparse.diags(2.0 * weight)
    exact = sparse.block_array([[w2, a.T], [a, sparse.csc_array((m, m))]], format="csc")
    kkt = sparse.block_array([[w2, a.T], [a, -KKT_REG * sparse.identity(m)]], format="csc")
    lu = splu(kkt)
    rhs = np.concatenate([np.zeros(n), r])
    sol = lu.solve(rhs)
    for _ in range(3):
        sol = sol + lu.solve(rhs - exact @ sol)
    return sol[:n]
