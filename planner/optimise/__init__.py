"""Fleet plan as a mixed-integer linear programme: what to buy, commit and burst.

The planner's real question is not "cloud or on-prem" but how much to own, of
what, when to buy it, how much cloud capacity to commit and what to burst, under
the limits a department has. This package answers it as a capacity-expansion
problem in the style of PyPSA and GenX (docs/methods.md, "Fleet optimiser"),
solved with HiGHS (through ``highspy``, :mod:`~planner.optimise.highs`), split
as PyPSA and linopy split theirs:

* :mod:`~planner.optimise.options` what may be chosen and the limits;
* :mod:`~planner.optimise.inputs` every option priced once by
  :mod:`planner.costing` (the engine's per-unit flows);
* :mod:`~planner.optimise.build` one function per block of columns or rows;
  :mod:`~planner.optimise.limits` the registry of limits;
* :mod:`~planner.optimise.solve` HiGHS with lazily generated capacity cuts on
  the exact load-duration curve; :mod:`~planner.optimise.extract` the validated
  plan; :mod:`~planner.optimise.diagnose` infeasibility in words;
  :mod:`~planner.optimise.pareto` the cost-CO2e frontier;
  :mod:`~planner.optimise.evaluate_plan` re-evaluation and brute force;
  :mod:`~planner.optimise.hourly` the hour-by-hour reference model.

Conventions (those of :mod:`planner.tco`): ``year`` is the engine's time index;
purchases and commitments at ``t = year``; running costs of year ``k`` at
``t = k``; every flow discounted once when paid; a commitment locks the price of
the year it is signed; money in the solver is in thousands of USD, CO2e in
tonnes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from planner.optimise.build import (
    InfeasiblePlanError,
    Problem,
    build_from_inputs,
    build_problem,
)
from planner.optimise.diagnose import diagnose_infeasibility
from planner.optimise.evaluate_plan import (
    BruteForceResult,
    PlanEvaluation,
    brute_force_plan,
    evaluate_plan,
)
from planner.optimise.extract import FleetPlan, extract
from planner.optimise.inputs import DEFAULT_SERVER_SPEC, optimise_inputs
from planner.optimise.limits import LIMIT_UNITS
from planner.optimise.options import OptimiseOptions
from planner.optimise.pareto import MAX_PARETO_POINTS, pareto_frontier
from planner.optimise.solve import check_solution, solve
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.scenario import Scenario
from planner.tco.strategies import commitment_starts, screening_instances
from pricing.catalog import Catalog

__all__ = [
    "DEFAULT_SERVER_SPEC",
    "LIMIT_UNITS",
    "MAX_PARETO_POINTS",
    "BruteForceResult",
    "FleetPlan",
    "InfeasiblePlanError",
    "OptimiseOptions",
    "PlanEvaluation",
    "Problem",
    "brute_force_plan",
    "build_problem",
    "check_solution",
    "diagnose_infeasibility",
    "evaluate_plan",
    "extract",
    "optimise",
    "optimise_strategy",
    "pareto_frontier",
    "solve",
]


def optimise(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    *,
    pareto_points: int = 0,
    catalog: Catalog | None = None,
) -> FleetPlan:
    """The cheapest fleet plan of a scenario: build, solve, extract.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions, optional
        Choices and limits.
    pareto_points : int, default 0
        If positive, also compute a cost-CO2e frontier with that many points
        (:func:`pareto_frontier`) and attach it as ``plan.pareto``.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    FleetPlan
        The plan.

    Raises
    ------
    InfeasiblePlanError
        If no plan meets the demand within the limits (which limit, by how much).
    RuntimeError
        If the solver fails.

    Examples
    --------
    >>> from planner.scenario import load_preset
    >>> plan = optimise(load_preset("grant"))
    >>> plan.status, plan.npv_usd > 0, plan.co2e_kg > 0
    ('optimal', True, True)
    """
    resolved = resolve(scenario, catalog)
    problem = build_problem(scenario, options, resolved=resolved)
    plan = extract(problem, solve(problem))
    if pareto_points:
        frontier = pareto_frontier(scenario, options, pareto_points, resolved=resolved)
        plan = dataclasses.replace(plan, pareto=frontier)
    return plan


def optimise_strategy(
    scenario: Scenario, name: str, *, catalog: Catalog | None = None
) -> FleetPlan:
    """The optimiser restricted to one strategy's own choices.

    The strategy's decisions are fixed (its servers in each vintage, or its
    commitment renewed each term) and only its own outcomes are allowed: a cloud
    strategy rents its offer with its purchase model (overflow of a commitment
    on-demand), an owned cluster defers or leaves work at the scenario's costs,
    a hybrid bursts to its offer on demand. The plan's ``npv_usd`` then equals
    the engine's for that strategy, the test that engine and optimiser share one
    cost model (issue "one cost model").

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    name : str
        A cloud, on-premises or hybrid strategy (not a shared one, whose pooled
        demand is not the scenario's).
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    FleetPlan
        The restricted plan.

    Raises
    ------
    ValueError
        For a shared strategy or a burst with a commitment.
    """
    resolved = resolve(scenario, catalog)
    strategy = resolved.strategy(name)
    options, fixed, template = _restriction(resolved, strategy)
    problem = build_from_inputs(
        optimise_inputs(resolved, options, template=template),
        fixed_servers=None if template is None else template.servers,
    )
    lb, ub = problem.var_lb.copy(), problem.var_ub.copy()
    for column, value in fixed(problem).items():
        lb[column] = ub[column] = value
    problem = dataclasses.replace(problem, var_lb=lb, var_ub=ub)
    return extract(problem, solve(problem))


def _restriction(
    resolved: ResolvedScenario,
    strategy: ResolvedCloudStrategy | ResolvedOwnedStrategy,
) -> tuple[
    OptimiseOptions, Callable[[Problem], dict[int, float]], ResolvedOwnedStrategy | None
]:
    n = resolved.horizon_years
    if isinstance(strategy, ResolvedCloudStrategy):
        term = strategy.term_years
        options = OptimiseOptions(
            server_specs=(),
            cloud_offers=(strategy.name,),
            allow_spot=strategy.purchase == "spot",
            commitment_terms=(term,) if term else (),
            allow_delay=False,
            allow_unserved=False,
            continuous=True,
        )
        instances = (
            screening_instances(strategy, resolved.demand.levels[0]) if term else 0.0
        )
        starts = set(commitment_starts(term, n)) if term else set()

        def fixed(problem: Problem) -> dict[int, float]:
            out: dict[int, float] = {}
            keys = problem.index["commitment_keys"]
            for col, (_, _, start) in zip(
                problem.index["commitments"], keys, strict=True
            ):
                out[int(col)] = instances if int(start) in starts else 0.0
            if strategy.purchase == "spot":
                for col in problem.index["on_demand"].ravel():
                    out[int(col)] = 0.0
            return out

        return options, fixed, None
    if strategy.members:
        msg = f"{strategy.name}: a shared strategy serves pooled demand; use pool"
        raise ValueError(msg)
    burst = strategy.burst
    if burst is not None and burst.purchase != "on_demand":
        msg = (
            f"{strategy.name}: a burst with purchase {burst.purchase} is not restricted"
        )
        raise ValueError(msg)
    vintages = strategy.vintages(n)
    options = OptimiseOptions(
        server_specs=(strategy.server.server,),
        cloud_offers=(strategy.name,) if burst is not None else None,
        allow_cloud=burst is not None,
        commitment_terms=(),
        purchase_years=tuple(vintages),
        allow_delay=burst is None,
        allow_unserved=burst is None,
        continuous=not float(strategy.servers).is_integer(),
    )

    def nothing_else(problem: Problem) -> dict[int, float]:
        del problem  # the servers are fixed when the problem is built
        return {}

    return options, nothing_else, strategy
