"""DESIGN §7's sampling model: disruption paths drawn from the Risks sheet.

Risks are independent. All draws come from one generator, ``numpy.random.default_rng(seed)``,
as ``rng.random((paths, periods, risks))`` (risks in the sheet's order), so one seed gives the
same paths on every machine. With u the draw of a path, period t and risk r:

- r inactive in t - 1 (or t the first period): an episode starts in t when u < q_t, with
  q_t = 1 - (1 - chance)^(d_t / 365) and d_t the period's days;
- r active in t - 1: the episode goes on into t when u < 1 - 1/Duration; otherwise it ended with
  t - 1, and r is inactive in t (a new episode can start from t + 1 on: episodes never touch).

An episode lasts Duration periods on average (geometric; Duration 1 = one period), cut at the
horizon. A path is its episodes; as a scenario it has one Scenarios row per episode (its risk's
Effect, Basis, Target and Change, the episode's first and last period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.input.data import PlanData

SCENARIO_COLUMNS = [
    "scenario",
    "effect",
    "basis",
    "target",
    "change",
    "first",
    "last",
    "row",
    "probability",
]


@dataclass(frozen=True, order=True)
class Episode:
    first: int  # period index
    last: int
    risk: int  # row of PlanData.risks


Path = tuple[Episode, ...]


def start_chances(data: PlanData) -> np.ndarray:
    """q[t, r]: the chance that risk r starts an episode in period t (when inactive before)."""
    chance = data.risks["chance"].to_numpy(float)
    days = np.asarray(data.days, float)
    return 1.0 - (1.0 - chance[None, :]) ** (days[:, None] / 365.0)


def draw(rng: np.random.Generator, n: int, data: PlanData) -> np.ndarray:
    """The uniform draws of ``n`` paths, in DESIGN §7's shape (paths, periods, risks)."""
    return rng.random((n, len(data.periods), len(data.risks)))


def paths_of(data: PlanData, u: np.ndarray) -> list[Path]:
    """The paths the draws ``u`` (paths, periods, risks) give, each its episodes in order of
    first period, then risk."""
    n, n_t, n_r = u.shape
    q = start_chances(data)
    stay = 1.0 - 1.0 / data.risks["duration"].to_numpy(float)
    active = np.zeros((n, n_r), dtype=bool)
    start = np.zeros((n, n_r), dtype=np.int64)
    found: list[list[Episode]] = [[] for _ in range(n)]
    for t in range(n_t):
        goes_on = active & (u[:, t, :] < stay[None, :])
        ended = active & ~goes_on
        starts = ~active & (u[:, t, :] < q[t][None, :])
        for p, r in zip(*np.nonzero(ended), strict=True):
            found[p].append(Episode(int(start[p, r]), t - 1, int(r)))
        start[starts] = t
        active = goes_on | starts
    for p, r in zip(*np.nonzero(active), strict=True):
        found[p].append(Episode(int(start[p, r]), n_t - 1, int(r)))
    return [tuple(sorted(f)) for f in found]


def sample(data: PlanData, n: int, seed: int) -> list[Path]:
    """``n`` paths from ``default_rng(seed)``."""
    return paths_of(data, draw(np.random.default_rng(seed), n, data))


def alike(paths: list[Path], prefix: str = "Path") -> list[tuple[str, Path, int]]:
    """The distinct paths with an episode, named ``Path 0001``, ... by first appearance, with
    how many of ``paths`` are alike (the quiet ones fall to the baseline)."""
    counts: dict[Path, int] = {}
    for p in paths:
        if p:
            counts[p] = counts.get(p, 0) + 1
    return [(f"{prefix} {i:04d}", p, c) for i, (p, c) in enumerate(counts.items(), start=1)]


def scenario_rows(data: PlanData, named: list[tuple[str, Path, float]]) -> pd.DataFrame:
    """The validated Scenarios table (PlanData.scenarios) of named paths, one row per episode,
    ``probability`` a fraction."""
    risks = data.risks
    records = []
    for name, path, probability in named:
        for e in path:
            r = risks.iloc[e.risk]
            records.append(
                (
                    name,
                    r["effect"],
                    r["basis"],
                    r["target"],
                    float(r["change"]),
                    e.first,
                    e.last,
                    int(r["row"]),
                    probability,
                )
            )
    df = pd.DataFrame.from_records(records, columns=SCENARIO_COLUMNS)
    return df.astype({"first": int, "last": int, "row": int, "change": float})


def sheet_rows(data: PlanData, named: list[tuple[str, Path, float]]) -> list[dict[str, object]]:
    """The Scenarios sheet's rows of named paths (:func:`scenario_rows`), as a planner reads
    them: period labels, the risk each row comes from, and Change (%) and Probability (%) as
    fractions for percent-formatted cells (0.35 shows as 35 %)."""
    risk_of = dict(zip(data.risks["row"], data.risks["risk"], strict=True))
    return [
        {
            "Scenario": r.scenario,
            "Effect": r.effect,
            "Basis": r.basis,
            "Target": r.target,
            "Change (%)": r.change,
            "First period": data.periods[r.first],
            "Last period": data.periods[r.last],
            "Probability (%)": r.probability,
            "Risk": risk_of[r.row],
        }
        for r in scenario_rows(data, named).itertuples(index=False)
    ]


def describe(data: PlanData, path: Path) -> str:
    """A path in words: 'China export ban 2027-Q3 to 2027-Q4; Myanmar ... 2028-Q1'."""
    if not path:
        return "no episode (the quiet world)"
    names = data.risks["risk"].tolist()
    parts = []
    for e in path:
        when = data.periods[e.first] + (f" to {data.periods[e.last]}" if e.last > e.first else "")
        parts.append(f"{names[e.risk]} {when}")
    return "; ".join(parts)
