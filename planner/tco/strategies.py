"""How each kind of strategy serves demand, priced through :mod:`planner.costing`.

* **Cloud**: on-demand and spot pay per reference hour used; a commitment pays
  whole instances for every whole term inside the horizon (renewed each term at
  the price of the year it is signed) and sends the overflow to on-demand.
* **Owned** (on-premises, hybrid, shared): each vintage of servers pays its
  capex, support, hosting, idle power, embodied CO2e and resale; staff is paid
  in every year with servers running; work served pays the dynamic power.
* **Equal service**: what an owned cluster cannot serve in the hour it arrives
  bursts to the cloud (hybrid, shared with a burst offer) or waits for spare
  owned hours later in the same year at the delay cost, and what still cannot
  be served is unserved at the unserved cost (:class:`planner.scenario.Service`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from planner import costing, demand
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOffer,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    ResolvedStrategy,
)
from planner.tco.ledger import Dispatch, Ledger, LedgerLine
from pricing.cloud import whole_instance_accelerators

FloatArray = npt.NDArray[np.float64]


def served_reference_hours(levels: FloatArray, hours: FloatArray) -> FloatArray:
    """Reference hours in each (batch, year): sum over blocks of level x hours."""
    return np.asarray((levels * hours).sum(axis=-1), dtype=float)


def commitment_starts(term_years: int, horizon: int) -> list[int]:
    """Signing times of the whole terms that fit in the horizon (renewed)."""
    return list(range(0, horizon - term_years + 1, term_years))


def screening_instances(
    strategy: ResolvedCloudStrategy, sizing_hourly: FloatArray
) -> float:
    """Default commitment size: the screening curve in whole instances.

    Commit the capacity busy more than ``1 - discount`` of the hours (docs/
    methods.md §1.3), in whole instances of the offer: of the two whole numbers
    around that level, the one whose first-year bill is lower (every hour of the
    commitment at ``1 - discount`` of the price, plus the overflow on demand;
    both scale with the same price, so the choice holds for any price path).

    Parameters
    ----------
    strategy : ResolvedCloudStrategy
        A committed strategy.
    sizing_hourly : numpy.ndarray
        Hourly demand it serves in its first year. [reference accelerators]

    Returns
    -------
    float
        Instances committed. [-]
    """
    offer = strategy.offer
    if strategy.committed_accelerators is not None:
        return strategy.committed_accelerators / offer.accelerators_per_instance
    discount = offer.commitment_discounts[strategy.term_years]
    level = demand.level_exceeded(sizing_hourly, 1.0 - discount)
    per_instance = offer.accelerators_per_instance * offer.relative_throughput
    low = math.floor(level / per_instance + 1e-9)

    def bill(instances: int) -> float:
        # In units of the on-demand price per reference hour.
        committed = (
            instances * per_instance * float(sizing_hourly.size) * (1 - discount)
        )
        overflow = float(np.maximum(sizing_hourly - instances * per_instance, 0).sum())
        return committed + overflow

    return float(min((low, low + 1), key=bill))


def cloud_ledger(
    ledger: Ledger,
    dispatch: Dispatch,
    strategy: ResolvedCloudStrategy,
    resolved: ResolvedScenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    price_multiplier: float = 1.0,
    sizing_hourly: FloatArray | None = None,
) -> None:
    """Add a cloud strategy's flows for the demand it serves.

    Parameters
    ----------
    ledger : Ledger
        Receives the flows.
    dispatch : Dispatch
        Receives where the work went.
    strategy : ResolvedCloudStrategy
        Offer and purchase model.
    resolved : ResolvedScenario
        Horizon.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand sent to this cloud. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    price_multiplier : float, default 1
        Factor on compute prices (break-even price ratios). [-]
    sizing_hourly : numpy.ndarray, optional
        Hourly demand that sizes a default commitment; the first year of
        ``levels[0]`` when omitted. [reference accelerators]
    """
    n = resolved.horizon_years
    offer = strategy.offer
    work = served_reference_hours(levels, hours)
    if strategy.purchase in ("on_demand", "spot"):
        use: costing.CloudUse = "spot" if strategy.purchase == "spot" else "on_demand"
        ledger.add_rates(
            costing.cloud_work_rates(
                offer, use, horizon=n, price_multiplier=price_multiplier
            ),
            work,
        )
        dispatch.cloud = dispatch.cloud + work
        _add_whole_instance_work(dispatch, offer, levels, hours)
    else:
        term = strategy.term_years
        sizing = levels[0, 0] if sizing_hourly is None else sizing_hourly
        instances = screening_instances(strategy, sizing)
        capacity = np.zeros(n)
        for start in commitment_starts(term, n):
            flows = costing.commitment_instance_flows(
                offer, term, start=start, horizon=n, price_multiplier=price_multiplier
            )
            ledger.add_units(flows, instances)
            assert flows.capacity_reference is not None
            capacity = capacity + flows.capacity_reference * instances
        within = served_reference_hours(
            np.minimum(levels, capacity[None, :, None]), hours
        )
        overflow = work - within
        ledger.add_rates(
            costing.cloud_work_rates(offer, "committed", horizon=n), within
        )
        ledger.add_rates(
            costing.cloud_work_rates(
                offer, "on_demand", horizon=n, price_multiplier=price_multiplier
            ),
            overflow,
        )
        dispatch.committed = dispatch.committed + within
        dispatch.cloud = dispatch.cloud + overflow
        _add_whole_instance_work(
            dispatch,
            offer,
            np.maximum(levels - capacity[None, :, None], 0.0),
            hours,
        )
        dispatch.committed_accelerators += instances * offer.accelerators_per_instance
    fixed = costing.cloud_fixed_flows(
        offer, strategy.storage_usd_per_year, strategy.egress_usd_per_year, horizon=n
    )
    if fixed.lines:
        ledger.add_units(fixed, 1.0)


def _add_whole_instance_work(
    dispatch: Dispatch, offer: ResolvedOffer, levels: FloatArray, hours: FloatArray
) -> None:
    """Add the on-demand work as paid in whole instances (hour by hour)."""
    per_instance = offer.accelerators_per_instance * offer.relative_throughput
    whole = served_reference_hours(
        np.asarray(whole_instance_accelerators(levels, per_instance)), hours
    )
    before = (
        dispatch.cloud_whole_instance
        if dispatch.cloud_whole_instance is not None
        else np.zeros_like(whole)
    )
    dispatch.cloud_whole_instance = before + whole


def owned_capacity(
    strategy: ResolvedOwnedStrategy, resolved: ResolvedScenario
) -> tuple[FloatArray, FloatArray, list[tuple[int, costing.UnitFlows]]]:
    """Usable capacity each running year, the active mask, and each vintage's flows.

    Returns
    -------
    capacity : numpy.ndarray of shape (N,)
        Usable reference accelerators. [reference accelerators]
    active : numpy.ndarray of shape (N,)
        1 in years with servers running. [-]
    vintages : list of (int, UnitFlows)
        Purchase time and per-server flows of each vintage.
    """
    n = resolved.horizon_years
    capacity = np.zeros(n)
    active = np.zeros(n)
    vintages = []
    for bought in strategy.vintages(n):
        flows = costing.server_vintage_flows(
            strategy.server,
            strategy.ops,
            resolved.site,
            resolved.institution,
            bought=bought,
            horizon=n,
        )
        assert flows.capacity_reference is not None
        capacity = capacity + flows.capacity_reference * strategy.servers
        alive = flows.capacity_reference > 0
        active = np.maximum(active, (alive & (strategy.servers > 0)).astype(float))
        vintages.append((bought, flows))
    return capacity, active, vintages


def owned_ledger(
    ledger: Ledger,
    dispatch: Dispatch,
    strategy: ResolvedOwnedStrategy,
    resolved: ResolvedScenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    price_multiplier: float = 1.0,
) -> None:
    """Add an owned cluster's flows, with its overflow burst, delayed or unserved.

    Parameters
    ----------
    ledger : Ledger
        Receives the flows.
    dispatch : Dispatch
        Receives where the work went.
    strategy : ResolvedOwnedStrategy
        Servers, vintages, operating settings and burst offer.
    resolved : ResolvedScenario
        Site, institution, service costs.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand the cluster serves. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    price_multiplier : float, default 1
        Factor on cloud prices of the burst. [-]
    """
    n = resolved.horizon_years
    capacity, active, vintages = owned_capacity(strategy, resolved)
    for _, flows in vintages:
        ledger.add_units(flows, strategy.servers)
    if strategy.ops.staff_usd_per_year:
        staff = costing.staff_flows(strategy.ops, resolved.institution, horizon=n)
        ledger.add_rates(staff, np.broadcast_to(active, (ledger.batch, n)))
    served_now_levels = np.minimum(levels, capacity[None, :, None])
    overflow = levels - served_now_levels
    served_now = served_reference_hours(served_now_levels, hours)
    capacity_hours = np.broadcast_to(capacity * float(hours.sum()), served_now.shape)
    dispatch.capacity = dispatch.capacity + capacity_hours
    dispatch.installed_accelerators = (
        strategy.servers * strategy.server.accelerators_per_server
    )
    if strategy.burst is not None:
        cloud_ledger(
            ledger,
            dispatch,
            strategy.burst,
            resolved,
            overflow,
            hours,
            price_multiplier=price_multiplier,
            sizing_hourly=overflow[0, 0],
        )
        served = served_now
    else:
        late = served_reference_hours(overflow, hours)
        spare = np.maximum(capacity_hours - served_now, 0.0)
        rates = costing.service_rates(resolved.service, horizon=n)
        # Late work waits for spare hours when that costs no more than leaving
        # it (delay + its power <= unserved, ties served): the optimiser's rule.
        view = resolved.scenario.view
        work_rate = costing.owned_work_rates(
            strategy.server, resolved.site, resolved.institution, horizon=n
        ).cost_usd(view)[1:]
        waits = (
            rates["delay"].cost_usd(view)[1:] + work_rate
            <= rates["unserved"].cost_usd(view)[1:]
            + costing.SERVE_ON_TIE_USD_PER_REFERENCE_HOUR
        )
        delayed = np.minimum(late, spare) * waits[None, :]
        unserved = late - delayed
        ledger.add_rates(rates["delay"], delayed)
        ledger.add_rates(rates["unserved"], unserved)
        dispatch.delayed = dispatch.delayed + delayed
        dispatch.unserved = dispatch.unserved + unserved
        served = served_now + delayed
    work = costing.owned_work_rates(
        strategy.server, resolved.site, resolved.institution, horizon=n
    )
    ledger.add_rates(work, served)
    dispatch.owned = dispatch.owned + served


def strategy_ledger(
    strategy: ResolvedStrategy,
    resolved: ResolvedScenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    price_multiplier: float = 1.0,
    sizing_hourly: FloatArray | None = None,
) -> tuple[Ledger, Dispatch]:
    """Flows and dispatch of one strategy serving a batch of demands.

    Parameters
    ----------
    strategy : ResolvedCloudStrategy or ResolvedOwnedStrategy
        The strategy.
    resolved : ResolvedScenario
        The scenario it belongs to.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand served (for a shared strategy, the pooled demand). [reference
        accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    price_multiplier : float, default 1
        Factor on cloud compute prices (break-even price ratios). [-]
    sizing_hourly : numpy.ndarray, optional
        Hourly demand that sizes a default commitment (cloud strategies);
        the first year of ``levels[0]`` when omitted. [reference accelerators]

    Returns
    -------
    Ledger
        Flows by line, shape (batch, years + 1).
    Dispatch
        Where each reference hour went.
    """
    batch = levels.shape[0]
    n = resolved.horizon_years
    ledger = Ledger(batch=batch, horizon=n)
    work = served_reference_hours(levels, hours)
    zero = np.zeros_like(work)
    dispatch = Dispatch(
        demand=work,
        owned=zero,
        cloud=zero,
        committed=zero,
        delayed=zero,
        unserved=zero,
        capacity=zero,
    )
    if isinstance(strategy, ResolvedCloudStrategy):
        cloud_ledger(
            ledger,
            dispatch,
            strategy,
            resolved,
            levels,
            hours,
            price_multiplier=price_multiplier,
            sizing_hourly=sizing_hourly,
        )
    else:
        owned_ledger(
            ledger,
            dispatch,
            strategy,
            resolved,
            levels,
            hours,
            price_multiplier=price_multiplier,
        )
    return ledger, dispatch


def strategy_levels(
    strategy: ResolvedStrategy, resolved: ResolvedScenario
) -> tuple[FloatArray, FloatArray]:
    """The demand a strategy serves: the scenario's, or pooled with its members."""
    levels = resolved.demand.levels
    if isinstance(strategy, ResolvedOwnedStrategy) and strategy.members:
        levels = levels + sum(member.demand.levels for member in strategy.members)
    return np.asarray(levels, dtype=float)[None, :, :], resolved.demand.hours


def project_share(strategy: ResolvedStrategy, resolved: ResolvedScenario) -> float:
    """Share of a shared cluster's cost borne by this project.

    The present value of this project's usage over that of the pooled usage:
    what a uniform usage rate that recovers the cluster's cost charges it
    (:func:`recharged`). 1 for strategies that are not shared.
    """
    if not isinstance(strategy, ResolvedOwnedStrategy) or not strategy.members:
        return 1.0
    discount = resolved.discount[1:]
    own = float(resolved.demand.yearly_reference_hours @ discount)
    total = own + sum(
        float(m.demand.yearly_reference_hours @ discount) for m in strategy.members
    )
    return own / total if total else 0.0


def recharged(
    ledger: Ledger,
    resolved: ResolvedScenario,
    own_work: FloatArray,
    pooled_work: FloatArray,
) -> Ledger:
    """The project's part of a shared cluster, billed as a service-centre recharge.

    A service centre charging federal awards bills a uniform rate per unit of
    usage that recovers its aggregate costs (2 CFR 200.468): the rate is the
    present value of the cluster's economic cost over the present value of the
    pooled usage, and the project pays it on its own usage each year. The
    recharge is a service, in MTDC, so it bears F&A on the award. The centre (the
    institution) bears the cluster's lines in proportion to the project's share
    of the discounted usage; the institution view sees those lines, the award
    view the recharge and its F&A. Emissions and the service penalty follow the
    same share.

    Parameters
    ----------
    ledger : Ledger
        The whole cluster's ledger.
    resolved : ResolvedScenario
        Discount factors and the F&A rate.
    own_work : numpy.ndarray of shape (batch, N)
        This project's demand each year. [reference accelerator-h]
    pooled_work : numpy.ndarray of shape (batch, N)
        The pooled demand each year. [reference accelerator-h]

    Returns
    -------
    Ledger
        The project's part.
    """
    discount = resolved.discount
    pooled_pv = pooled_work @ discount[1:]
    own_pv = own_work @ discount[1:]
    share = np.divide(own_pv, pooled_pv, out=np.zeros_like(own_pv), where=pooled_pv > 0)
    cluster_pv = ledger.cash_cost_usd("institution") @ discount
    rate = np.divide(
        cluster_pv, pooled_pv, out=np.zeros_like(cluster_pv), where=pooled_pv > 0
    )
    recharge = np.zeros((ledger.batch, ledger.horizon + 1))
    recharge[:, 1:] = rate[:, None] * own_work
    zero = np.zeros_like(recharge)
    lines = []
    for line in ledger.lines:
        if line.category == costing.INDIRECT and line.payer == "project":
            continue  # the centre's own costs bear no F&A; the recharge does
        scaled = replace(
            line,
            cost_usd=line.cost_usd * share[:, None],
            energy_kwh=line.energy_kwh * share[:, None],
            co2e_kg=line.co2e_kg * share[:, None],
        )
        if line.payer in ("project", "institution"):
            scaled = replace(scaled, payer="institution")
        lines.append(scaled)
    lines.append(LedgerLine("recharge", "project", "", recharge, zero, zero))
    fa_rate = costing.mtdc_rate("recharge", resolved.institution)
    if fa_rate:
        fa = costing.indirect_cost_usd(recharge, fa_rate)
        lines.append(
            LedgerLine(
                costing.INDIRECT, "project", "", fa, zero, zero, "recharge", fa_rate
            )
        )
    return Ledger(batch=ledger.batch, horizon=ledger.horizon, lines=lines)
