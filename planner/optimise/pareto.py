"""Cost against CO2e: an epsilon-constraint sweep with implied carbon prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from planner.optimise.build import (
    KG_PER_SOLVER_UNIT,
    USD_PER_SOLVER_UNIT,
    InfeasiblePlanError,
    build_problem,
)
from planner.optimise.options import OptimiseOptions
from planner.optimise.solve import Extra, rounded, solve_generated
from planner.resolve import ResolvedScenario
from planner.scenario import Scenario, replace
from pricing.catalog import Catalog
from pricing.units import KILOGRAMS_PER_TONNE

MAX_PARETO_POINTS = 50
"""Most points of one frontier: each is a MILP of up to a second on the 10-year
department example, so 50 keeps a request under about a minute. [-]"""


def _dual_bound(result: optimize.OptimizeResult, fallback: float) -> float:
    """Proven lower bound of a minimisation (HiGHS dual bound), loosened a hair."""
    bound = getattr(result, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = result.fun if result.fun is not None else fallback
    value = float(bound)
    return max(fallback, value - 1e-9 * max(1.0, abs(value)))


def pareto_frontier(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    points: int = 10,
    *,
    catalog: Catalog | None = None,
    resolved: ResolvedScenario | None = None,
) -> pd.DataFrame:
    """Cost against CO2e: an epsilon-constraint sweep with implied carbon prices.

    The cheapest plan gives the frontier's high-CO2e end and the plan of least
    CO2e its low end; between them ``points`` caps on the horizon's CO2e are
    spaced evenly and the cheapest plan under each is found (one MILP per point)
    [1]_. A plan that already meets the next, tighter cap is optimal for it too,
    and is reused without solving (the "bypass" of AUGMECON2 [2]_); each solve
    is bounded below by the previous point's dual bound (a tighter cap cannot
    cost less) and above by the cleanest plan's cost. The implied carbon price
    at each point is the dual of the cap in the LP relaxation, as PyPSA reports
    the ``mu`` of a global CO2 constraint; the integer frontier's own slope to
    the previous point is reported beside it. The options' carbon price is set
    to zero here: the frontier itself prices carbon.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions, optional
        Choices and limits (per-year caps and budgets still apply).
    points : int, default 10
        Points on the frontier, 2 to :data:`MAX_PARETO_POINTS`.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario.

    Returns
    -------
    pandas.DataFrame
        One row per point, from the cheapest to the cleanest: ``co2e_cap_kg``,
        ``co2e_kg`` [kg], ``npv_usd`` [USD, comparable, the view's],
        ``carbon_price_usd_per_t`` and ``frontier_slope_usd_per_t`` [USD/t CO2e],
        ``mip_gap`` [-] and ``solved`` (False where the bypass applied: the
        previous point's plan already met the cap).

    Raises
    ------
    ValueError
        If ``points`` is outside 2 .. :data:`MAX_PARETO_POINTS`.
    InfeasiblePlanError
        If even the question without a CO2e cap is infeasible.
    RuntimeError
        If the solver fails.

    References
    ----------
    .. [1] V. Chankong and Y. Y. Haimes, *Multiobjective Decision Making: Theory
       and Methodology*. New York: North-Holland, 1983 (epsilon-constraint
       method).
    .. [2] G. Mavrotas and K. Florios, "An improved version of the augmented
       epsilon-constraint method (AUGMECON2)," Appl. Math. Comput., vol. 219,
       no. 18, pp. 9652-9669, 2013, doi:10.1016/j.amc.2013.03.002.
    """
    if not 2 <= points <= MAX_PARETO_POINTS:
        msg = f"points must be from 2 to {MAX_PARETO_POINTS}, got {points!r}"
        raise ValueError(msg)
    from planner.optimise.diagnose import diagnose_infeasibility

    base = options or OptimiseOptions()
    problem = build_problem(
        scenario,
        replace(base, carbon_price_usd_per_t=0.0),
        catalog=catalog,
        resolved=resolved,
    )
    cheapest, problem = solve_generated(problem)
    if cheapest.status == 2:
        raise InfeasiblePlanError(diagnose_infeasibility(problem))
    if cheapest.x is None:
        msg = f"cheapest plan failed: {cheapest.message}"
        raise RuntimeError(msg)
    emissions = sum(
        problem.co2e_flows.values(),
        sparse.csr_array((problem.inputs.years + 1, problem.c.size)),
    )
    co2_row = np.asarray(emissions.sum(axis=0)).ravel() / KG_PER_SOLVER_UNIT
    cleanest, problem = solve_generated(problem, Extra(c=co2_row))
    if cleanest.x is None:
        msg = f"least-CO2e plan failed: {cleanest.message}"
        raise RuntimeError(msg)
    x = rounded(problem, np.asarray(cheapest.x, dtype=float))
    gap = float(getattr(cheapest, "mip_gap", 0.0) or 0.0)
    high = float(co2_row @ x)
    clean_x = rounded(problem, np.asarray(cleanest.x, dtype=float))
    low = min(high, float(co2_row @ clean_x))
    cap_row = sparse.csr_array(co2_row[None, :])
    lower_bound = _dual_bound(cheapest, -np.inf)
    # The cleanest plan meets every cap, so no point costs more than it does.
    upper_bound = float(problem.c @ clean_x) * (1 + 1e-9) + 1e-9
    rows = []
    for cap in np.linspace(high, low, points):
        # A hair of room keeps the cleanest point feasible after rounding.
        room = cap + 1e-7 * max(1.0, abs(cap))
        extra = Extra(
            rows=cap_row, rows_lb=np.array([-np.inf]), rows_ub=np.array([room])
        )
        solved = float(co2_row @ x) > room
        if solved:
            bounded = Extra(
                rows=sparse.csr_array(np.vstack([problem.c, co2_row])),
                rows_lb=np.array([lower_bound, -np.inf]),
                rows_ub=np.array([upper_bound, room]),
            )
            result, problem = solve_generated(problem, bounded)
            if result.x is None:
                where = f"{cap * KG_PER_SOLVER_UNIT:,.0f} kg"
                msg = f"Pareto point at {where}: {result.message}"
                raise RuntimeError(msg)
            x = rounded(problem, np.asarray(result.x, dtype=float))
            gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
            lower_bound = _dual_bound(result, lower_bound)
        lp, _ = solve_generated(problem, extra, relax=True)
        price = max(0.0, -float(lp["d_ub"][-1])) if lp.status == 0 else float("nan")
        rows.append(
            {
                "co2e_cap_kg": float(cap * KG_PER_SOLVER_UNIT),
                "co2e_kg": float(co2_row @ x * KG_PER_SOLVER_UNIT),
                "npv_usd": float(problem.c @ x) * USD_PER_SOLVER_UNIT,
                "carbon_price_usd_per_t": price * USD_PER_SOLVER_UNIT,
                "mip_gap": gap,
                "solved": solved,
            }
        )
    frame = pd.DataFrame(rows)
    saved = -frame["npv_usd"].diff()
    cut_t = frame["co2e_kg"].diff() / KILOGRAMS_PER_TONNE
    slope = (saved / cut_t).where(cut_t < -1e-9, other=np.nan)
    frame.insert(4, "frontier_slope_usd_per_t", slope)
    return frame
