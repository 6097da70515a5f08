"""Cost against CO2e: an epsilon-constraint sweep with implied carbon prices."""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, sparse

from planner.optimise.build import (
    KG_PER_SOLVER_UNIT,
    USD_PER_SOLVER_UNIT,
    InfeasiblePlanError,
    build_problem,
)
from planner.optimise.options import OptimiseOptions
from planner.optimise.solve import Extra, Generated, rounded, solve_generated
from planner.resolve import ResolvedScenario
from planner.scenario import Scenario, replace
from pricing.catalog import Catalog
from pricing.units import KILOGRAMS_PER_TONNE

FloatArray = npt.NDArray[np.float64]

DEFAULT_WORKERS = 2
"""Processes a sweep uses unless told (never more than one per core). Measured
on the reference machine (two virtual cores), 10-point department sweep with
four server specs: 4.1 s in one process, 2.3-2.6 s in two (2026-12-02,
``benchmarks/bench_optimise.py``, which prints both; the machine ran up to a
third slower in the afternoon). It was 35 s and 14.6 s before capacity became a
column of its own, the tangents written up front fell from 24 breakpoints to
4, the caps were solved from the tightest, each from the last plan, the LP's
own tangents were kept apart, the cost-bound row went and branch-and-cut was
tuned (:mod:`planner.optimise.highs`). [-]"""

BYPASS_TOLERANCE = 1e-9
"""A starting plan whose cost is within this share of the cap's LP bound is
optimal for the cap and is reused without a solve (round-off of equal costs;
far below ``mip_rel_gap``'s smallest useful value). [-]"""

MAX_WORKERS = 8
"""Most processes one sweep forks. [-]"""

MIN_CAPS_PER_WORKER = 3
"""Fewest caps worth a forked process (its start and a cold first cap cost about
one solve). [-]"""

MAX_PARETO_POINTS = 50
"""Most points of one frontier. Each is an exact MILP: 0.1-0.6 s on the 10-year
department example with four server specs (2026-12-02, two cores), so 50 keep a
command-line request within about a minute; the app allows 20
(``ui.state.OptimiserPart.pareto_points``), about 8 s in the app's one
process. [-]"""


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
    workers: int | None = None,
) -> pd.DataFrame:
    """Cost against CO2e: an epsilon-constraint sweep with implied carbon prices.

    The cheapest plan gives the frontier's high-CO2e end and the plan of least
    CO2e its low end; between them ``points`` caps on the horizon's CO2e are
    spaced evenly and the cheapest plan under each is found (one MILP per point)
    [1]_. The caps are solved from the tightest to the loosest: a tighter cap's
    plan meets every looser one, so it starts the next solve as its incumbent
    and bounds its cost from above, while the LP relaxation at the cap bounds
    it from below; where the two meet, the plan is optimal for the looser cap
    too and is reused without a solve (the "bypass" of AUGMECON2 [2]_, run from
    the other end). The implied carbon price at each point is the dual of the
    cap in the LP relaxation, as PyPSA reports the ``mu`` of a global CO2
    constraint; the integer frontier's own slope to the previous point is
    reported beside it. The options' carbon price is set to zero here: the
    frontier itself prices carbon.

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
    workers : int, optional
        Processes to solve the caps in (default :data:`DEFAULT_WORKERS`; see
        :func:`parallel_workers`). Every point is
        solved to the same optimum whatever the number.

    Returns
    -------
    pandas.DataFrame
        One row per point, from the cheapest to the cleanest: ``co2e_cap_kg``,
        ``co2e_kg`` [kg], ``npv_usd`` [USD, comparable, the view's],
        ``carbon_price_usd_per_t`` and ``frontier_slope_usd_per_t`` [USD/t CO2e],
        ``mip_gap`` [-] and ``solved`` (False where the bypass applied: the
        next tighter point's plan costs no more than this cap's LP bound).

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
    emissions = sum(
        problem.co2e_flows.values(),
        sparse.csr_array((problem.inputs.years + 1, problem.c.size)),
    )
    co2_row = np.asarray(emissions.sum(axis=0)).ravel() / KG_PER_SOLVER_UNIT
    # One model for the whole sweep: a CO2e row whose bound each point sets.
    # No row bounds the cost: a dense objective row made HiGHS's root cut
    # separation up to five times slower on some points (1.38 s against 0.27 s,
    # department example, 2026-12-02), and each solve's starting plan already
    # bounds it from above.
    sweep = Generated(
        problem,
        Extra(
            rows=sparse.csr_array(co2_row[None, :]),
            rows_lb=np.array([-np.inf]),
            rows_ub=np.array([np.inf]),
        ),
    )
    cheapest = sweep.solve()
    if cheapest.status == 2:
        raise InfeasiblePlanError(diagnose_infeasibility(sweep.problem))
    if cheapest.x is None:
        msg = f"cheapest plan failed: {cheapest.message}"
        raise RuntimeError(msg)
    cleanest, found = solve_generated(sweep.problem, Extra(c=co2_row))
    if cleanest.x is None:
        msg = f"least-CO2e plan failed: {cleanest.message}"
        raise RuntimeError(msg)
    sweep.include(found)
    x = rounded(found, np.asarray(cheapest.x, dtype=float))
    clean_x = rounded(found, np.asarray(cleanest.x, dtype=float))
    high = float(co2_row @ x)
    low = min(high, float(co2_row @ clean_x))
    caps = np.linspace(high, low, points)
    chain = _Chain(
        lower_bound=_dual_bound(cheapest, -np.inf),
        # The cleanest plan meets every cap: a feasible start for the tightest
        # cap's branch-and-cut.
        start=clean_x,
        cheapest=x,
        cheapest_gap=float(getattr(cheapest, "mip_gap", 0.0) or 0.0),
    )
    rows = []
    for cap, point in zip(caps, _solve_caps(sweep, chain, caps, workers), strict=True):
        rows.append(
            {
                "co2e_cap_kg": float(cap * KG_PER_SOLVER_UNIT),
                "co2e_kg": float(co2_row @ point.x * KG_PER_SOLVER_UNIT),
                "npv_usd": float(problem.c @ point.x) * USD_PER_SOLVER_UNIT,
                "carbon_price_usd_per_t": point.price * USD_PER_SOLVER_UNIT,
                "mip_gap": point.gap,
                "solved": point.solved,
            }
        )
    frame = pd.DataFrame(rows)
    saved = -frame["npv_usd"].diff()
    cut_t = frame["co2e_kg"].diff() / KILOGRAMS_PER_TONNE
    slope = (saved / cut_t).where(cut_t < -1e-9, other=np.nan)
    frame.insert(4, "frontier_slope_usd_per_t", slope)
    return frame


@dataclass(frozen=True)
class _Point:
    """One solved (or bypassed) point of the frontier."""

    x: FloatArray
    gap: float
    solved: bool
    price: float
    """Dual of the cap in the LP relaxation. [k$/t]"""


@dataclass(frozen=True)
class _Chain:
    """What a run of consecutive caps starts from."""

    lower_bound: float
    """Proven lower bound on the cost of every cap's plan (the cheapest's). [k$]"""
    start: FloatArray
    """A plan feasible for every cap (the cleanest), the first MIP start."""
    cheapest: FloatArray
    """The cheapest plan: optimal at the loosest cap (the first), not solved."""
    cheapest_gap: float
    """Its relative MIP gap. [-]"""


def _room(cap: float) -> float:
    # A hair of room keeps the cleanest point feasible after rounding.
    return cap + 1e-7 * max(1.0, abs(cap))


def _price(sweep: Generated, cap: float) -> tuple[float, optimize.OptimizeResult]:
    """Implied carbon price at a cap (minus the cap row's LP dual), and the LP."""
    sweep.set_extra_bounds(np.array([-np.inf]), np.array([_room(cap)]))
    lp = sweep.solve(relax=True)
    price = max(0.0, -float(lp["d_ub"][-1])) if lp.status == 0 else float("nan")
    return price, lp


def _chain(
    sweep: Generated,
    chain: _Chain,
    caps: FloatArray,
    *,
    first: bool,
) -> list[_Point]:
    """Caps from the tightest to the loosest, each started from the last plan.

    A tighter cap's plan meets every looser cap, so it is the next solve's
    starting incumbent and its cost an upper bound; the LP relaxation at the
    cap (solved first, for the price) is a lower bound. Where the two meet the
    plan is optimal and is reused without a solve. With ``first``, ``caps[0]``
    is the frontier's loosest cap, where the cheapest plan is optimal: only its
    price is computed. Returned in ``caps`` order.
    """
    start = chain.start
    out: list[_Point] = []
    for position, cap in reversed(list(enumerate(caps))):
        # The LP first: its price, its bound, and the tangents binding at its
        # optimum, which the integer plan near it mostly needs too.
        price, lp = _price(sweep, cap)
        if position == 0 and first:
            out.append(
                _Point(
                    x=chain.cheapest,
                    gap=chain.cheapest_gap,
                    solved=False,
                    price=price,
                )
            )
            continue
        lower_bound = chain.lower_bound
        if lp.status == 0:
            lower_bound = _dual_bound(lp, lower_bound)
        cost = float(sweep.problem.c @ start)
        solved = cost > lower_bound + BYPASS_TOLERANCE * max(1.0, abs(cost))
        x, gap = start, 0.0
        if solved:
            sweep.promote_binding(lp)
            # The cap is the one _price set.
            result = sweep.solve(start=start)
            if result.x is None:
                where = f"{cap * KG_PER_SOLVER_UNIT:,.0f} kg"
                msg = f"Pareto point at {where}: {result.message}"
                raise RuntimeError(msg)
            x = rounded(sweep.problem, np.asarray(result.x, dtype=float))
            gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
        out.append(_Point(x=x, gap=gap, solved=solved, price=price))
        start = x
    return out[::-1]


_SWEEP: dict[str, tuple[Generated, _Chain]] = {}
"""The sweep a forked worker continues (set just before forking)."""


def parallel_workers(workers: int | None, caps: int) -> int:
    """Processes to solve ``caps`` Pareto points in (1: in this process).

    Forked processes only: they inherit the built problem instead of pickling
    it (spawned ones would import and price everything again, about a second
    each), and only from a single-threaded process, where forking is safe.
    ``None`` takes :data:`DEFAULT_WORKERS`; never more than one per core, nor
    fewer than :data:`MIN_CAPS_PER_WORKER` caps per worker.
    """
    if workers is None:
        workers = DEFAULT_WORKERS
    workers = min(workers, MAX_WORKERS, os.cpu_count() or 1)
    workers = min(workers, caps // MIN_CAPS_PER_WORKER)
    if workers > 1 and (
        "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
    ):
        workers = 1
    return max(1, min(workers, caps))


def _worker(index_caps: tuple[int, FloatArray]) -> list[_Point]:
    index, caps = index_caps
    sweep, chain = _SWEEP["sweep"]
    fresh = Generated(sweep.problem, sweep.extra, lp_cuts=sweep.lp_cuts)
    return _chain(fresh, chain, caps, first=index == 0)


def _solve_caps(
    sweep: Generated,
    chain: _Chain,
    caps: FloatArray,
    workers: int | None,
) -> list[_Point]:
    """Every cap, in order, in one or several processes.

    With several, process ``k`` of ``n`` takes caps ``k, k + n, ...``: each
    still runs from its tightest cap to its loosest (:func:`_chain`), its first
    solve started from the cleanest plan; the first process also prices the
    loosest cap, whose plan (the cheapest) needs no solve, which evens out the
    work when the solved caps do not divide evenly.
    """
    count = parallel_workers(workers, caps.size - 1)
    if count == 1:
        return _chain(sweep, chain, caps, first=True)
    _SWEEP["sweep"] = (sweep, chain)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(count) as pool:
            parts = pool.map(
                _worker, [(index, caps[index::count]) for index in range(count)]
            )
    finally:
        _SWEEP.clear()
    out: list[_Point] = []
    for position in range(caps.size):
        out.append(parts[position % count][position // count])
    return out
