"""The Pyomo route: the model's families declared as a Pyomo model, compiled by Pyomo.

``build_model(data, f, pyomo=True)`` declares the same families as Pyomo components (readable,
inspectable with ``b.m.pprint()``); :func:`hand_over_pyomo` compiles them with Pyomo's
``LinearStandardFormCompiler`` for HiGHS. It gives HiGHS the same LP as the direct route
(``tests/test_routes.py``) at several times the cost, so ``ree-plan solve`` uses it only with
``--pyomo``. Pyomo is imported only here, so the direct route never loads it.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from model.formulation import Built, RowBlock, _tuples
from model.solve import Handle, _pass


def to_pyomo(b: Built) -> pyo.ConcreteModel:
    """Declare the families as a Pyomo model: one indexed Var per variable family, one indexed
    Constraint per row family (``LinearExpression`` bodies), the objective ``Total_Cost``."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # Pyomo builds many small objects; collection passes only cost time here
    try:
        m = pyo.ConcreteModel(name="ree-plan")
        for family, vb in b.var_blocks.items():
            keys = _tuples(vb.table, vb.cols)
            index = pyo.Set(initialize=keys, dimen=len(vb.cols), ordered=True)
            setattr(m, vb.name.upper() + "_INDEX", index)
            var = pyo.Var(index, domain=pyo.NonNegativeReals)
            setattr(m, vb.name, var)
            datas = [var[k] for k in keys]
            for vd, lo, hi in zip(datas, vb.lb.tolist(), vb.ub.tolist(), strict=True):
                vd.setlb(lo)
                vd.setub(None if hi == np.inf else hi)
            b.vars[family] = datas
        for family, rb in b.row_blocks.items():
            b.cons[family] = _constraint(m, rb.name, rb.keys(), _rows(b, rb), rb.lo, rb.hi)
        vs: list[Any] = []
        cs: list[float] = []
        for family, coefs in b.cost:
            keep = np.flatnonzero(coefs != 0)
            datas = b.vars[family]
            vs.extend(datas[i] for i in keep)
            cs.extend(coefs[keep].tolist())
        m.Total_Cost = pyo.Objective(
            expr=LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=vs),
            sense=pyo.minimize,
        )
        b.m = m
        return m
    finally:
        if gc_was_enabled:
            gc.enable()


def _rows(b: Built, rb: RowBlock) -> list[tuple[list[Any], list[float]]]:
    """The block's terms grouped by row, as (VarData list, coefficient list)."""
    parts = rb.parts
    if not parts:
        return [([], [])] * rb.n
    rows = np.concatenate([p[0] for p in parts])
    which = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    pos = np.concatenate([p[2] for p in parts])
    coef = np.concatenate([p[3] for p in parts])
    order = np.argsort(rows, kind="stable")
    rows, which, pos, coef = rows[order], which[order], pos[order], coef[order]
    bounds = np.searchsorted(rows, np.arange(rb.n + 1))
    lists = [b.vars[p[1]] for p in parts]
    which_l, pos_l, coef_l = which.tolist(), pos.tolist(), coef.tolist()
    out = []
    for r in range(rb.n):
        lo, hi = bounds[r], bounds[r + 1]
        out.append(([lists[which_l[i]][pos_l[i]] for i in range(lo, hi)], coef_l[lo:hi]))
    return out


def _constraint(
    m: pyo.ConcreteModel,
    name: str,
    keys: list[Any],
    rows: list[tuple],
    lo: np.ndarray,
    hi: np.ndarray,
) -> list[Any]:
    """Declare ``lo <= sum(coef * var) <= hi`` for each row; return the ConstraintData in key
    order (None for a row no variable enters: it was checked when the block was added)."""
    where = {k: i for i, k in enumerate(keys)}
    lo_l, hi_l = lo.tolist(), hi.tolist()

    def rule(_m: Any, *k: Any) -> Any:
        i = where[k if len(k) > 1 else k[0]]
        vs, cs = rows[i]
        if not vs:
            return pyo.Constraint.Skip
        body = LinearExpression(constant=0.0, linear_coefs=cs, linear_vars=vs)
        if lo_l[i] == hi_l[i]:
            return body == lo_l[i]
        if lo_l[i] > -np.inf:
            return body >= lo_l[i]
        return body <= hi_l[i]

    dimen = len(keys[0]) if keys and isinstance(keys[0], tuple) else 1
    index = pyo.Set(initialize=keys, dimen=dimen, ordered=True)
    setattr(m, name + "_INDEX", index)
    con = pyo.Constraint(index, rule=rule)
    setattr(m, name, con)
    return [con[k] if k in con else None for k in keys]  # noqa: SIM401


def hand_over_pyomo(b: Built, time_limit_s: float | None) -> Handle:
    """Compile ``b.m`` with Pyomo's standard-form compiler and pass it to a new Highs."""
    info = LinearStandardFormCompiler().write(b.m, mixed_form=True, set_sense=None)
    columns = info.columns
    col_of = {id(v): i for i, v in enumerate(columns)}
    col = {
        f: np.fromiter((col_of.get(id(v), -1) for v in vs), dtype=np.int64, count=len(vs))
        for f, vs in b.vars.items()
    }
    row_of = {id(r[0]): i for i, r in enumerate(info.rows)}
    row = {
        f: np.fromiter((row_of.get(id(c), -1) for c in cs), dtype=np.int64, count=len(cs))
        for f, cs in b.cons.items()
    }
    n_col, n_row = len(columns), len(info.rows)
    lower = np.fromiter((v.lb if v.lb is not None else -np.inf for v in columns), float, n_col)
    upper = np.fromiter((v.ub if v.ub is not None else np.inf for v in columns), float, n_col)
    sense = np.fromiter((r[1] for r in info.rows), np.int64, n_row)
    rhs = np.asarray(info.rhs, dtype=float)
    cost = np.asarray(info.c.toarray()[0], dtype=float) if info.c.shape[0] else np.zeros(n_col)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return _pass(
        b,
        col,
        row,
        cost,
        offset,
        lower,
        upper,
        np.where(sense == 1, -np.inf, rhs),
        np.where(sense == -1, np.inf, rhs),
        info.A.tocsc(),
        time_limit_s,
    )
