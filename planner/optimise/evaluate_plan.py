"""A plan re-evaluated outside the solver, and a brute-force oracle.

:func:`evaluate_plan` costs a plan's decisions with the engine's ledger
(:class:`planner.tco.Ledger` over :mod:`planner.costing` flows), reading nothing
of the solver's matrices; :func:`brute_force_plan` enumerates every integer plan
of a tiny instance, dispatches it in merit order and costs it the same way.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.costing import SERVE_ON_TIE_USD_PER_REFERENCE_HOUR, counts_in_view
from planner.optimise import limits
from planner.optimise.build import InfeasiblePlanError
from planner.optimise.extract import FleetPlan
from planner.optimise.inputs import (
    DemandCurve,
    OptimiseInputs,
    exact_curve,
    optimise_inputs,
)
from planner.optimise.limits import Decisions
from planner.optimise.options import OptimiseOptions
from planner.resolve import ResolvedScenario, resolve
from planner.scenario import Scenario
from planner.tco.ledger import Ledger
from pricing.catalog import Catalog
from pricing.units import HOURS_PER_YEAR, KILOGRAMS_PER_TONNE

FloatArray = npt.NDArray[np.float64]

BRUTE_FORCE_MAX_COMBINATIONS = 200_000
"""Most integer combinations :func:`brute_force_plan` will enumerate. [-]"""


@dataclass(frozen=True)
class PlanEvaluation:
    """A plan re-evaluated with the engine's ledger."""

    npv_usd: float
    """Comparable present value in the plan's view. [USD]"""
    objective_usd: float
    """NPV plus discounted carbon charge. [USD]"""
    co2e_kg: float
    """CO2e over the horizon. [kg]"""
    unserved_reference_hours: float
    """Work left unserved. [reference accelerator-h]"""
    costs: pd.DataFrame
    """Long table: year, category, payer, cost_usd, co2e_kg."""


def plan_ledger(
    inputs: OptimiseInputs, decisions: Decisions, work: Mapping[str, FloatArray]
) -> Ledger:
    """The engine's ledger of a plan: decisions and work times per-unit flows.

    Parameters
    ----------
    inputs : OptimiseInputs
        Specs and offers with their per-unit flows.
    decisions : Decisions
        Servers bought and instances committed.
    work : mapping of str to numpy.ndarray of shape (N,)
        Work per running year of each source (``onprem:<spec>``,
        ``committed:<offer>``, ``on_demand:<offer>``, ``spot:<offer>``,
        ``deferred``, ``unserved``). [mean reference accelerators]

    Returns
    -------
    Ledger
        Batch of one.
    """
    n = inputs.years
    ledger = Ledger(batch=1, horizon=n)
    active = np.zeros(n)
    for k, year, count in decisions.purchases:
        flows = inputs.specs[k].vintages[year]
        ledger.add_units(flows, count)
        assert flows.capacity_reference is not None
        active = np.maximum(active, (flows.capacity_reference > 0) * (count > 0))
    if inputs.staff is not None:
        ledger.add_rates(inputs.staff, active[None, :])
    for o, term, start, instances in decisions.commitments:
        ledger.add_units(inputs.offers[o].commitments[(term, start)], instances)
    rates = {f"onprem:{spec.name}": spec.work for spec in inputs.specs}
    for offer in inputs.offers:
        rates[f"committed:{offer.name}"] = offer.committed_use
        rates[f"on_demand:{offer.name}"] = offer.on_demand
        if offer.spot is not None:
            rates[f"spot:{offer.name}"] = offer.spot
    rates["deferred"] = inputs.service["delay"]
    rates["unserved"] = inputs.service["unserved"]
    for source, values in work.items():
        if source in rates and np.any(values):
            ledger.add_rates(
                rates[source], np.asarray(values)[None, :] * HOURS_PER_YEAR
            )
    return ledger


def _evaluation(
    inputs: OptimiseInputs, ledger: Ledger, unserved: float
) -> PlanEvaluation:
    discount = inputs.discount
    view = inputs.view
    npv = float(ledger.cost_usd(view)[0] @ discount)
    co2 = ledger.co2e_kg()[0]
    carbon = inputs.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    rows = [
        {
            "year": t,
            "category": line.category,
            "payer": line.payer,
            "cost_usd": float(line.cost_usd[0, t]),
            "co2e_kg": float(line.co2e_kg[0, t]),
        }
        for line in ledger.merged()
        for t in range(inputs.years + 1)
    ]
    costs = pd.DataFrame(
        rows, columns=["year", "category", "payer", "cost_usd", "co2e_kg"]
    )
    return PlanEvaluation(
        npv_usd=npv,
        objective_usd=npv + carbon * float(co2 @ discount),
        co2e_kg=float(co2.sum()),
        unserved_reference_hours=unserved,
        costs=costs,
    )


def _marginal(
    inputs: OptimiseInputs, flows_cost: FloatArray, co2: FloatArray
) -> FloatArray:
    """Cost per reference hour of each running year: view cost plus carbon."""
    carbon = inputs.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    return np.asarray(flows_cost[1:] + carbon * co2[1:], dtype=float)


def merit_order(
    inputs: OptimiseInputs,
    decisions: Decisions,
    curve: DemandCurve,
) -> dict[str, FloatArray]:
    """Greedy dispatch of fixed capacities, cheapest marginal source first.

    In each year, capacity sources cheaper than the best alternative (the
    cheapest rented hour, or leaving the work unserved) serve in order of
    marginal cost; overflow is deferred to spare capacity when the delay cost
    plus that capacity's marginal cost beats the alternative; the rest is rented
    from the cheapest offer, or left unserved when that is cheaper or nothing
    can be rented. For fixed capacities, without a CO2e cap or share floor, this
    solves the dispatch LP exactly (a fractional knapsack per year).

    Returns
    -------
    dict
        Work per running year of each source, ``deferred`` and ``unserved``.
        [mean reference accelerators]
    """
    options = inputs.options
    view = inputs.view
    n = inputs.years
    levels, hours = curve.levels, curve.hours
    owned_capacity = np.zeros((len(inputs.specs), n))
    for k, year, count in decisions.purchases:
        capacity = inputs.specs[k].vintages[year].capacity_reference
        assert capacity is not None
        owned_capacity[k] += capacity * count
    committed_capacity = np.zeros((len(inputs.offers), n))
    for o, term, start, instances in decisions.commitments:
        capacity = inputs.offers[o].commitments[(term, start)].capacity_reference
        assert capacity is not None
        committed_capacity[o] += capacity * instances
    sources: list[tuple[str, FloatArray, FloatArray]] = []
    for k, spec in enumerate(inputs.specs):
        sources.append(
            (
                f"onprem:{spec.name}",
                owned_capacity[k],
                _marginal(inputs, spec.work.cost_usd(view), spec.work.co2e_kg()),
            )
        )
    rented: dict[str, FloatArray] = {}
    for o, offer in enumerate(inputs.offers):
        if offer.commitments:
            sources.append(
                (
                    f"committed:{offer.name}",
                    committed_capacity[o],
                    _marginal(
                        inputs,
                        offer.committed_use.cost_usd(view),
                        offer.committed_use.co2e_kg(),
                    ),
                )
            )
        rented[f"on_demand:{offer.name}"] = _marginal(
            inputs, offer.on_demand.cost_usd(view), offer.on_demand.co2e_kg()
        )
        if offer.spot is not None:
            rented[f"spot:{offer.name}"] = _marginal(
                inputs, offer.spot.cost_usd(view), offer.spot.co2e_kg()
            )
    unserved_cost = (
        _marginal(
            inputs,
            inputs.service["unserved"].cost_usd(view),
            inputs.service["unserved"].co2e_kg(),
        )
        + SERVE_ON_TIE_USD_PER_REFERENCE_HOUR
        if options.allow_unserved
        else np.full(n, np.inf)
    )
    delay = inputs.service["delay"].cost_usd(view)[1:] if options.allow_delay else None
    served = {name: np.zeros_like(levels) for name, _, _ in sources}
    remaining = levels.astype(float).copy()
    out = {name: np.zeros(n) for name in rented}
    out["deferred"] = np.zeros(n)
    out["unserved"] = np.zeros(n)
    for year in range(n):
        best_rent = min(
            rented, key=lambda name: float(rented[name][year]), default=None
        )
        rent_cost = float(rented[best_rent][year]) if best_rent else np.inf
        alternative = min(rent_cost, float(unserved_cost[year]))
        order = sorted(sources, key=lambda source: float(source[2][year]))
        for name, cap, marginal in order:
            if float(marginal[year]) > alternative:
                continue  # renting or leaving the work is cheaper than running this
            take = np.minimum(remaining[year], cap[year])
            served[name][year] = take
            remaining[year] -= take
        overflow = float(remaining[year] @ hours)
        if delay is not None and overflow > 0:
            moved = 0.0
            for name, cap, marginal in order:
                if float(delay[year]) + float(marginal[year]) >= alternative:
                    continue
                room = cap[year] - served[name][year]
                room_hours = float(room @ hours)
                take = min(overflow - moved, room_hours)
                if take > 0:
                    served[name][year] += room * (take / room_hours)
                    moved += take
            out["deferred"][year] = moved / HOURS_PER_YEAR
            remaining[year] *= 1.0 - moved / overflow
        left = float(remaining[year] @ hours) / HOURS_PER_YEAR
        if best_rent is not None and rent_cost <= float(unserved_cost[year]):
            out[best_rent][year] = left
        else:
            out["unserved"][year] = left
    for name, values in served.items():
        out[name] = np.asarray(values @ hours / HOURS_PER_YEAR, dtype=float)
    return out


def decisions_of(inputs: OptimiseInputs, plan: FleetPlan) -> Decisions:
    """A plan's purchases and commitments as index records."""
    specs = {spec.name: k for k, spec in enumerate(inputs.specs)}
    offers = {offer.name: o for o, offer in enumerate(inputs.offers)}
    purchases = tuple(
        (specs[str(row["spec"])], int(row["year"]), float(row["servers"]))
        for row in plan.purchases.to_dict("records")
    )
    commitments = tuple(
        (
            offers[str(row["offer"])],
            int(row["term_years"]),
            int(row["start_year"]),
            float(row["instances"]),
        )
        for row in plan.commitments.to_dict("records")
    )
    return Decisions(purchases=purchases, commitments=commitments)


def evaluate_plan(
    scenario: Scenario,
    plan: FleetPlan,
    *,
    hourly: bool = False,
    catalog: Catalog | None = None,
) -> PlanEvaluation:
    """Re-evaluate a plan with the engine's ledger, independently of the MILP.

    Parameters
    ----------
    scenario : Scenario
        The scenario the plan was made for.
    plan : FleetPlan
        From :func:`planner.optimise.optimise`.
    hourly : bool, default False
        False: cost the solver's own work per source and year (the result must
        equal the solver's objective). True: dispatch the plan's capacities
        against the scenario's hourly demand in merit order; with the default
        exact curve it equals the solver's objective, with blocks the
        difference is the blocks' error.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    PlanEvaluation
        NPV, objective, CO2e, unserved work and the flows by category.
    """
    resolved = resolve(scenario, catalog)
    inputs = optimise_inputs(resolved, plan.options)
    decisions = decisions_of(inputs, plan)
    if hourly:
        profile = inputs.resolved.demand
        curve = exact_curve(np.asarray(profile.levels), np.asarray(profile.hours))
        work = merit_order(inputs, decisions, curve)
    else:
        work = {}
        for source, group in plan.served.groupby("source"):
            values = np.zeros(inputs.years)
            values[group["year"].to_numpy() - 1] = group["reference_hours"].to_numpy()
            work[str(source)] = values / HOURS_PER_YEAR
        late = np.zeros(inputs.years)
        late[plan.deferred["year"].to_numpy() - 1] = plan.deferred[
            "reference_hours"
        ].to_numpy()
        work["deferred"] = late / HOURS_PER_YEAR
    unserved = float(work.get("unserved", np.zeros(1)).sum() * HOURS_PER_YEAR)
    return _evaluation(inputs, plan_ledger(inputs, decisions, work), unserved)


@dataclass(frozen=True)
class BruteForceResult:
    """The best plan found by enumerating every integer decision."""

    objective_usd: float
    npv_usd: float
    purchases: tuple[tuple[str, int, int], ...]
    """(spec, purchase year, servers) with servers > 0."""
    commitments: tuple[tuple[str, int, int, int], ...]
    """(offer, term years, start year, instances) with instances > 0."""
    combinations: int


def _project_spend_usd(ledger: Ledger) -> float:
    total = 0.0
    for line in ledger.lines:
        if (
            line.payer == "project"
            and line.category != "salvage"
            and counts_in_view(line.category, line.payer, "award")
        ):
            total += float(line.cost_usd[0].sum())
    return total


def brute_force_plan(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    *,
    max_combinations: int = BRUTE_FORCE_MAX_COMBINATIONS,
    catalog: Catalog | None = None,
    resolved: ResolvedScenario | None = None,
) -> BruteForceResult:
    """Cheapest plan by exhaustive enumeration: an oracle independent of the MILP.

    Every combination of servers per (spec, purchase year), from 0 to the number
    that covers the peak of the years they serve, and of committed instances per
    (offer, term, start) likewise, is dispatched in merit order on the same
    demand curve as the MILP and costed with the engine's ledger. No solver is
    involved. Exponential: for tiny instances in tests and benchmarks only.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions, optional
        Choices and limits; the carbon cap and minimum on-prem share are not
        supported (greedy dispatch cannot honour them).
    max_combinations : int, default 200000
        Refuse larger enumerations. [-]
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario (its demand profile is used as is).

    Returns
    -------
    BruteForceResult
        The best objective and its decisions.

    Raises
    ------
    ValueError
        If the enumeration is too large, or an unsupported limit is set.
    InfeasiblePlanError
        If no combination is feasible.
    """
    if resolved is None:
        resolved = resolve(scenario, catalog)
    inputs = optimise_inputs(resolved, options)
    opts = inputs.options
    if opts.carbon_cap_co2e_kg_per_year is not None or opts.min_onprem_share:
        msg = (
            "brute_force_plan supports budgets, power, racks and counts, not "
            "carbon_cap_co2e_kg_per_year or min_onprem_share"
        )
        raise ValueError(msg)
    peak = inputs.curve.levels.max(axis=1)
    slots: list[tuple[str, int, int, int, int]] = []
    for k, spec in enumerate(inputs.specs):
        for year in inputs.purchase_years:
            reach = float(peak[year : year + spec.ops.lifetime_years].max())
            top = math.ceil(reach / spec.capacity_per_server - 1e-9)
            slots.append(("servers", k, year, 0, top))
    for o, offer in enumerate(inputs.offers):
        for term, start in sorted(offer.commitments):
            reach = float(peak[start : start + term].max())
            top = math.ceil(reach / offer.instance_capacity - 1e-9)
            slots.append(("commit", o, start, term, top))
    combinations = math.prod(slot[4] + 1 for slot in slots)
    if combinations > max_combinations:
        msg = (
            f"brute force would enumerate {combinations:,} combinations "
            f"(max_combinations={max_combinations:,})"
        )
        raise ValueError(msg)
    names = [limit.name for limit in limits.LIMITS]
    best: tuple[float, float, Decisions] | None = None
    for values in itertools.product(*(range(slot[4] + 1) for slot in slots)):
        chosen = [(s, v) for s, v in zip(slots, values, strict=True) if v]
        decisions = Decisions(
            purchases=tuple(
                (s[1], s[2], float(v)) for s, v in chosen if s[0] == "servers"
            ),
            commitments=tuple(
                (s[1], s[3], s[2], float(v)) for s, v in chosen if s[0] == "commit"
            ),
        )
        if not limits.brute_force_limits_ok(
            inputs,
            decisions,
            0.0,
            [name for name in names if name != "total_budget_usd"],
        ):
            continue
        work = merit_order(inputs, decisions, inputs.curve)
        if not opts.allow_unserved and work["unserved"].sum() > 1e-9 * (
            1.0 + inputs.curve.mean.sum()
        ):
            continue
        ledger = plan_ledger(inputs, decisions, work)
        if not limits.brute_force_limits_ok(
            inputs, decisions, _project_spend_usd(ledger), ["total_budget_usd"]
        ):
            continue
        evaluation = _evaluation(inputs, ledger, 0.0)
        if best is None or evaluation.objective_usd < best[0]:
            best = (evaluation.objective_usd, evaluation.npv_usd, decisions)
    if best is None:
        msg = "brute force: no combination meets the demand within the limits"
        raise InfeasiblePlanError([msg])
    _, _, decisions = best
    return BruteForceResult(
        objective_usd=best[0],
        npv_usd=best[1],
        purchases=tuple(
            (inputs.specs[k].name, year, int(count))
            for k, year, count in decisions.purchases
        ),
        commitments=tuple(
            (inputs.offers[o].name, term, start, int(count))
            for o, term, start, count in decisions.commitments
        ),
        combinations=combinations,
    )
