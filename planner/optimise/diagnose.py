"""Explain an infeasible plan: which limit is at fault, and by how much."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

from planner.optimise import limits
from planner.optimise.build import Problem
from planner.optimise.solve import Extra, solve_generated

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _elastic(problem: Problem, rows: IntArray) -> tuple[FloatArray | None, Problem]:
    """Least relative violation of ``rows`` that makes the problem feasible.

    Adds one slack column per row (``A x - e <= ub`` or ``A x + e >= lb``) and
    minimises the sum of the slacks, each relative to its limit (an elastic
    "phase 1").
    """
    is_lower = np.isfinite(problem.row_lb[rows])
    slack = sparse.csr_array(
        sparse.coo_array(
            (np.where(is_lower, 1.0, -1.0), (rows, np.arange(rows.size))),
            shape=(problem.A.shape[0], rows.size),
        )
    )
    bound = np.where(is_lower, problem.row_lb[rows], problem.row_ub[rows])
    weights = 1.0 / np.maximum(1.0, np.abs(bound))
    extra = Extra(slack=slack, c=np.concatenate([np.zeros(problem.c.size), weights]))
    result, final = solve_generated(problem, extra)
    if result.x is None:
        return None, final
    return np.asarray(result.x[problem.c.size :], dtype=float), final


def diagnose_infeasibility(problem: Problem) -> list[str]:
    """Explain an infeasible plan: which limit is at fault, and by how much.

    Each limit of the registry (:data:`planner.optimise.limits.LIMITS`) is made
    elastic in turn: a slack variable per row, minimising the relative
    violation while every other constraint holds. The first limit whose
    relaxation makes the problem feasible is reported row by row, in the
    limit's own words. If none does alone, every limit and the demand itself
    are made elastic together.

    Parameters
    ----------
    problem : Problem
        An infeasible problem.

    Returns
    -------
    list of str
        Lines such as ``"capital_budget_usd_per_year: 2027 needs at least
        $612,000, the limit is $300,000 (cloud is not allowed)"``.
    """
    meta = problem.constraints
    suffix = "" if problem.options.allow_cloud else " (cloud is not allowed)"
    present = set(meta["group"])
    groups = [limit.name for limit in limits.LIMITS if limit.name in present]
    for group in groups:
        rows = np.flatnonzero((meta["group"] == group).to_numpy())
        slack, final = _elastic(problem, rows)
        if slack is not None:
            lines = [
                limits.describe(final, int(row), float(value)) + suffix
                for row, value in zip(rows, slack, strict=True)
                if value > 1e-7
            ]
            return lines or [f"{group}: the limit is exactly tight{suffix}"]
    rows = np.flatnonzero(meta["group"].isin([*groups, "demand"]).to_numpy())
    slack, final = _elastic(problem, rows)
    if slack is None:
        return ["no plan meets the demand, even ignoring every limit" + suffix]
    lines = [
        limits.describe(final, int(row), float(value)) + suffix
        for row, value in zip(rows, slack, strict=True)
        if value > 1e-7
    ]
    return lines or ["the problem is infeasible but no limit could be singled out"]
