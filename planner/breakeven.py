"""Where owning and renting break even: utilisation, year, price ratio, premium.

For each pair of an owned strategy and a cloud strategy, in one view
(:data:`planner.costing.VIEWS`) and at equal service:

* **break-even utilisation**: the busy share of the owned accelerators at which
  the present values tie for a *flat* demand ``u x capacity``; the root of
  ``NPV_cloud(u) - NPV_owned(u)`` by Brent's method after a sign scan (methods
  notes 1.2 and 2.3). It describes the two offers, not this scenario's demand,
  which is rarely flat: the sentence never infers a verdict from it.
* **break-even year**: the first year from which the cumulative discounted cost
  of owning stays at or below renting, for the scenario's demand.
* **price multiplier**: the factor on cloud prices at which both tie for the
  scenario's demand (NPVs are affine in it).
* **cloud premium** (Cottier et al. 2024 [1]_): the cloud's price per reference
  hour over the owned cost per reference hour at full use of one server
  (amortised capex less resale, support and power; no staff, hosting or F&A),
  for each purchase model of the offer.
* **cost ratio** (Strubell et al. 2019 [2]_): NPV of renting over NPV of owning
  for this scenario's demand, in the view (their 2.42 for LISA).

"Never" and "always" are answers, reported in words, not NaN or infinity.

References
----------
.. [1] B. Cottier et al., "The rising costs of training frontier AI models,"
   arXiv:2405.21015, 2024 (cloud rental about twice amortised hardware + energy).
.. [2] E. Strubell, A. Ganesh, and A. McCallum, "Energy and Policy
   Considerations for Deep Learning in NLP," ACL 2019, section 5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from planner import costing
from planner.costing import View
from planner.resolve import (
    COMMITMENT_TERMS_YEARS,
    ResolvedCloudStrategy,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.scenario import Scenario
from planner.tco import Evaluation, cumulative_costs, evaluate, strategy_ledger
from pricing.finance import capital_recovery_factor, discount_factors
from pricing.units import HOURS_PER_YEAR, scalar

FloatArray = npt.NDArray[np.float64]

SCAN_POINTS = 201
"""Utilisations scanned for a sign change before root finding. [-]"""

ROOT_XTOL = 1e-12
"""Absolute tolerance of Brent's method on utilisation. [-]"""

PURCHASES = ("on_demand", "spot", "committed_1y", "committed_3y")
"""Cloud purchase models a premium is given for. [-]"""


@dataclass(frozen=True)
class BreakEven:
    """Break-even points of one owned strategy against one cloud strategy."""

    onprem: str
    cloud: str
    view: str
    utilisation: float | None
    """Busy share at which the NPVs tie for a flat demand; None when they never
    cross. [0-1]"""
    utilisation_status: Literal["crosses", "never", "always", "not_applicable"]
    scenario_utilisation: float
    """Busy share the scenario's demand gives the owned cluster. [0-1]"""
    year: int | None
    """First year from which the cumulative PV of owning stays at or below
    renting. [years]"""
    calendar_year: int | None
    cloud_premium: float | None
    """This offer's price per reference hour over the owned cost per reference
    hour at full use, no staff and no F&A (Cottier et al. 2024). [-]"""
    cloud_premiums: dict[str, float] = field(default_factory=dict)
    """The same for each purchase model of the offer. [-]"""
    price_multiplier: float | None = None
    """Factor on cloud prices at which both tie for the scenario's demand. [-]"""
    npv_onprem_usd: float = 0.0
    npv_cloud_usd: float = 0.0
    cost_ratio: float | None = None
    """NPV of renting over NPV of owning for the scenario's demand, in the view
    (Strubell et al. 2019: $350k / $145k = 2.42 for LISA). [-]"""
    explanation: str = ""

    def as_dict(self) -> dict[str, object]:
        """Return the fields as a JSON-ready dictionary."""
        return asdict(self)


def npv_batch_usd(
    strategy: ResolvedCloudStrategy | ResolvedOwnedStrategy,
    resolved: ResolvedScenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    view: View,
    price_multiplier: float = 1.0,
) -> FloatArray:
    """Comparable present value of a strategy for each demand of a batch.

    A committed cloud strategy is sized on the scenario's own first-year demand,
    so every demand of the batch sees the same commitment.

    Parameters
    ----------
    strategy : ResolvedCloudStrategy or ResolvedOwnedStrategy
        The strategy.
    resolved : ResolvedScenario
        Its scenario, resolved.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demands. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    view : {"institution", "award"}
        Whose cost.
    price_multiplier : float, default 1
        Factor on cloud compute prices. [-]

    Returns
    -------
    numpy.ndarray of shape (batch,)
        NPV, delay and unserved cost included. [USD]
    """
    ledger, _ = strategy_ledger(
        strategy,
        resolved,
        levels,
        hours,
        price_multiplier=price_multiplier,
        sizing_hourly=resolved.demand.levels[0],
    )
    return np.asarray(ledger.cost_usd(view) @ resolved.discount, dtype=float)


def _flat_levels(horizon: int, level_ref: FloatArray) -> FloatArray:
    """Batch of flat demands: shape (batch, years, 1)."""
    return np.repeat(level_ref[:, None, None], horizon, axis=1).astype(float)


def capacity_reference(strategy: ResolvedOwnedStrategy) -> float:
    """Largest usable capacity of an owned cluster. [reference accelerators]."""
    return strategy.servers * costing.capacity_reference_per_server(
        strategy.server, strategy.ops
    )


def _owned_alone(strategy: ResolvedOwnedStrategy) -> ResolvedOwnedStrategy:
    """The owned cluster without burst or members: what a flat demand tests."""
    return replace(strategy, burst=None, members=())


def utilisation_sweep(
    resolved: ResolvedScenario,
    onprem: ResolvedOwnedStrategy,
    cloud: ResolvedCloudStrategy,
    *,
    view: View,
    points: int = SCAN_POINTS,
) -> pd.DataFrame:
    """NPV of owning and renting against the owned cluster's utilisation.

    Demand is flat at ``u`` times the owned cluster's usable capacity in every
    year; both strategies serve it. One vectorised evaluation per strategy.

    Parameters
    ----------
    resolved : ResolvedScenario
        The scenario, resolved.
    onprem : ResolvedOwnedStrategy
        Owned strategy (its overflow never happens at u <= 1).
    cloud : ResolvedCloudStrategy
        Cloud strategy.
    view : {"institution", "award"}
        Whose cost.
    points : int, default 201
        Utilisations from 0 to 1. [-]

    Returns
    -------
    pandas.DataFrame
        ``utilisation`` [0-1], ``npv_onprem_usd``, ``npv_cloud_usd`` and
        ``difference_usd`` (cloud minus owned; positive favours owning). [USD]
    """
    owned = _owned_alone(onprem)
    capacity = capacity_reference(owned)
    u = np.linspace(0.0, 1.0, points)
    levels = _flat_levels(resolved.horizon_years, u * capacity)
    hours = np.array([HOURS_PER_YEAR])
    owned_npv = npv_batch_usd(owned, resolved, levels, hours, view=view)
    rented = npv_batch_usd(cloud, resolved, levels, hours, view=view)
    return pd.DataFrame(
        {
            "utilisation": u,
            "npv_onprem_usd": owned_npv,
            "npv_cloud_usd": rented,
            "difference_usd": rented - owned_npv,
        }
    )


def break_even_utilisation(
    resolved: ResolvedScenario,
    onprem: ResolvedOwnedStrategy,
    cloud: ResolvedCloudStrategy,
    *,
    view: View,
) -> tuple[float | None, Literal["crosses", "never", "always"]]:
    """Flat-demand utilisation at which owning and renting have the same NPV.

    Parameters
    ----------
    resolved : ResolvedScenario
        The scenario, resolved.
    onprem : ResolvedOwnedStrategy
        Owned strategy.
    cloud : ResolvedCloudStrategy
        Cloud strategy.
    view : {"institution", "award"}
        Whose cost.

    Returns
    -------
    utilisation : float or None
        The root in [0, 1], or None when there is none. [0-1]
    status : {"crosses", "never", "always"}
        ``never``: renting is cheaper even at 100 % use; ``always``: owning is
        cheaper even when idle.
    """
    sweep = utilisation_sweep(resolved, onprem, cloud, view=view)
    difference = sweep["difference_usd"].to_numpy()
    if difference.max() < 0:
        return None, "never"
    if difference.min() > 0:
        return None, "always"
    owned = _owned_alone(onprem)
    capacity = capacity_reference(owned)
    hours = np.array([HOURS_PER_YEAR])

    def gap(u: float) -> float:
        levels = _flat_levels(resolved.horizon_years, np.array([u * capacity]))
        rented = npv_batch_usd(cloud, resolved, levels, hours, view=view)[0]
        owned_npv = npv_batch_usd(owned, resolved, levels, hours, view=view)[0]
        return float(rented - owned_npv)

    signs = np.sign(difference)
    change = np.flatnonzero(signs[:-1] * signs[1:] <= 0)
    index = int(change[0])
    low, high = sweep["utilisation"].iloc[index], sweep["utilisation"].iloc[index + 1]
    if gap(low) == 0.0:
        return float(low), "crosses"
    root = optimize.brentq(gap, low, high, xtol=ROOT_XTOL)
    return float(root), "crosses"


def cloud_premium(
    resolved: ResolvedScenario,
    onprem: ResolvedOwnedStrategy,
    cloud: ResolvedCloudStrategy,
) -> dict[str, float]:
    """Cloud price per reference hour over owned cost per reference hour, full use.

    As Cottier et al. (2024) compare cloud rental with owned hardware: one
    server bought in year 0 and kept busy all its usable hours over its whole
    life (whatever the scenario's horizon), its cost amortised with the capital
    recovery factor (capex less the discounted resale, plus support and power; no staff,
    hosting or F&A); against each purchase model of the offer for the same
    work (a commitment of the same capacity, fully used), without F&A.

    Parameters
    ----------
    resolved : ResolvedScenario
        Horizon, site and discounting.
    onprem : ResolvedOwnedStrategy
        The owned strategy's server and operating settings.
    cloud : ResolvedCloudStrategy
        The offer.

    Returns
    -------
    dict
        Premium [-] by purchase model (only those the offer can price).
    """
    # Over the server's own life, whatever the scenario's horizon (Cottier et
    # al. amortise hardware over its life): the site's paths continued.
    life = onprem.ops.lifetime_years
    scenario = resolved.scenario
    free = replace(resolved.institution, indirect_cost_rate=0.0)
    ops = replace(onprem.ops, staff_fte=0.0, hosting_usd_per_kw_month=0.0)
    steps = np.arange(life, dtype=float)
    site = replace(
        resolved.site,
        electricity_usd_per_kwh=resolved.site.electricity_usd_per_kwh[0]
        * (1.0 + scenario.site.tariff_change_per_year) ** steps,
        grid_co2e_g_per_kwh=resolved.site.grid_co2e_g_per_kwh[0]
        * (1.0 + scenario.site.grid_change_per_year) ** steps,
    )
    vintage = costing.server_vintage_flows(
        onprem.server, ops, site, free, bought=0, horizon=life
    )
    capacity = costing.capacity_reference_per_server(onprem.server, ops)
    work = np.full(life, capacity * HOURS_PER_YEAR)
    power = costing.owned_work_rates(onprem.server, site, free, horizon=life)
    discount = np.asarray(
        discount_factors(scenario.real_discount_rate, np.arange(life + 1.0)),
        dtype=float,
    )
    owned_pv = float(vintage.cost_usd("institution") @ discount) + float(
        power.cost_usd("institution")[1:] * work @ discount[1:]
    )
    hours_pv = float(work @ discount[1:])
    if hours_pv <= 0 or owned_pv <= 0:
        return {}
    owned_per_hour = owned_pv / hours_pv
    offer = replace(
        cloud.offer,
        indirect_cost_rate=0.0,
        grid_co2e_g_per_kwh=cloud.offer.grid_co2e_g_per_kwh[0]
        * (1.0 + scenario.site.grid_change_per_year) ** steps,
    )
    premiums = {}
    for purchase in PURCHASES:
        term = COMMITMENT_TERMS_YEARS.get(purchase, 0)
        if purchase == "spot" and offer.spot_usd_per_accelerator_hour is None:
            continue
        if term > life:
            continue
        if term:
            # Committed capacity that matches the work, fully used.
            per_instance = offer.accelerators_per_instance * offer.relative_throughput
            pv = 0.0
            for start in range(0, life - term + 1, term):
                flows = costing.commitment_instance_flows(
                    offer, term, start=start, horizon=life
                )
                pv += float(flows.cost_usd("institution") @ discount)
            covered = (life // term) * term
            pv *= capacity / per_instance
            rate_pv = pv / float(work[:covered] @ discount[1 : covered + 1])
        else:
            use: costing.CloudUse = "spot" if purchase == "spot" else "on_demand"
            rates = costing.cloud_work_rates(offer, use, horizon=life)
            rate_pv = float(rates.cost_usd("institution")[1:] * work @ discount[1:])
            rate_pv /= hours_pv
        premiums[purchase] = rate_pv / owned_per_hour
    return premiums


def _break_even_year(cumulative: pd.DataFrame, onprem: str, cloud: str) -> int | None:
    owned = cumulative[cumulative["strategy"] == onprem].set_index("year")
    rented = cumulative[cumulative["strategy"] == cloud].set_index("year")
    cheaper = owned["cumulative_pv_usd"] <= rented["cumulative_pv_usd"] + 1e-9
    flags = cheaper.to_numpy()
    for position, year in enumerate(cheaper.index.to_numpy()):
        if flags[position:].all():
            return int(year)
    return None


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def break_even(
    scenario: Scenario,
    onprem: str,
    cloud: str,
    *,
    evaluation: Evaluation | None = None,
    view: View | None = None,
) -> BreakEven:
    """All break-even points of an owned strategy against a cloud strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    onprem : str
        Name of an owned (on-premises, hybrid or shared) strategy.
    cloud : str
        Name of a cloud strategy.
    evaluation : Evaluation, optional
        A prior :func:`planner.tco.evaluate` of the scenario.
    view : {"institution", "award"}, optional
        Whose cost; the scenario's view by default.

    Returns
    -------
    BreakEven
        Utilisation, year, price multiplier, premium, ratio and a sentence.
    """
    result = evaluation if evaluation is not None else evaluate(scenario)
    resolved = result.resolved
    chosen: View = view or scenario.view
    owned = resolved.strategy(onprem)
    rented = resolved.strategy(cloud)
    if not isinstance(owned, ResolvedOwnedStrategy) or not isinstance(
        rented, ResolvedCloudStrategy
    ):
        msg = f"break_even needs an owned and a cloud strategy, got {onprem}, {cloud}"
        raise ValueError(msg)
    summary = result.summary.set_index("strategy")
    npv_owned = scalar(summary.loc[onprem, f"{chosen}_npv_usd"])
    npv_rented = scalar(summary.loc[cloud, f"{chosen}_npv_usd"])
    used = scalar(summary.loc[onprem, "utilisation"])
    pure = owned.kind == "onprem"
    status: Literal["crosses", "never", "always", "not_applicable"]
    if pure:
        utilisation, status = break_even_utilisation(
            resolved, owned, rented, view=chosen
        )
    else:
        utilisation, status = None, "not_applicable"
    premiums = cloud_premium(resolved, owned, rented)
    premium = premiums.get(rented.purchase)
    multiplier = None
    if not owned.members:
        levels = resolved.demand.levels[None, :, :]
        hours = resolved.demand.hours
        rented0 = npv_batch_usd(
            rented, resolved, levels, hours, view=chosen, price_multiplier=0
        )[0]
        owned0 = npv_batch_usd(
            owned, resolved, levels, hours, view=chosen, price_multiplier=0
        )[0]
        slope = (npv_rented - float(rented0)) - (npv_owned - float(owned0))
        multiplier = (float(owned0) - float(rented0)) / slope if slope > 0 else None
    year = _break_even_year(cumulative_costs(result.table, chosen), onprem, cloud)
    calendar = None if year is None else scenario.start_year + year
    ratio = npv_rented / npv_owned if npv_owned > 0 else None
    delayed = scalar(summary.loc[onprem, "delayed_reference_hours"])
    unserved = scalar(summary.loc[onprem, "unserved_reference_hours"])
    text = _explain(
        onprem,
        cloud,
        chosen,
        ratio,
        utilisation,
        status,
        used,
        year,
        calendar,
        premium,
        multiplier,
        delayed,
        unserved,
        scenario,
    )
    return BreakEven(
        onprem=onprem,
        cloud=cloud,
        view=chosen,
        utilisation=utilisation,
        utilisation_status=status,
        scenario_utilisation=used,
        year=year,
        calendar_year=calendar,
        cloud_premium=premium,
        cloud_premiums=premiums,
        price_multiplier=multiplier,
        npv_onprem_usd=npv_owned,
        npv_cloud_usd=npv_rented,
        cost_ratio=ratio,
        explanation=text,
    )


def _explain(
    onprem: str,
    cloud: str,
    view: str,
    ratio: float | None,
    utilisation: float | None,
    status: str,
    used: float,
    year: int | None,
    calendar: int | None,
    premium: float | None,
    multiplier: float | None,
    delayed: float,
    unserved: float,
    scenario: Scenario,
) -> str:
    """Sentences that follow from the numbers beside them, never beyond them."""
    horizon = scenario.horizon_years
    basis = (
        f"{view} view, present value over {horizon} years at "
        f"{_percent(scenario.real_discount_rate)} real, equal service"
    )
    parts = []
    if ratio is not None:
        cheaper = cloud if ratio < 1 else onprem
        parts.append(
            f"For this scenario's demand, {cloud} costs {ratio:.2f}x {onprem} "
            f"({basis}), so {cheaper} is the cheaper of the two."
        )
    late = []
    if delayed > 0.5:
        late.append(f"delays {delayed:,.0f}")
    if unserved > 0.5:
        late.append(f"leaves {unserved:,.0f} unserved")
    if late:
        parts.append(
            f"{onprem} {' and '.join(late)} reference hours; that cost is included."
        )
    if status == "crosses" and utilisation is not None:
        parts.append(
            f"At a flat demand, owning beats {cloud} above "
            f"{_percent(utilisation)} utilisation; this scenario's peaky demand "
            f"keeps the servers {_percent(used)} busy."
        )
    elif status == "never":
        parts.append(
            f"At a flat demand owning never beats {cloud} within {horizon} years, "
            "even fully busy."
        )
    elif status == "always":
        parts.append(f"At a flat demand owning beats {cloud} at any utilisation.")
    if year is None:
        parts.append(
            "The cumulative cost of owning never stays below renting within the "
            "horizon."
        )
    elif year == 0:
        parts.append("Owning costs less from the start.")
    else:
        parts.append(
            f"The cumulative cost of owning falls below renting in year {year} "
            f"({calendar}) and stays there."
        )
    if premium is not None:
        parts.append(
            f"At full use, renting costs {premium:.2f}x owning per reference hour "
            "(cloud premium as Cottier et al. 2024 define it: amortised hardware, "
            "support and power, no staff or F&A; they found about 2x)."
        )
    if multiplier is not None:
        direction = "fell" if multiplier < 1 else "rose"
        parts.append(
            f"The two would tie for this demand if cloud prices {direction} to "
            f"{multiplier:.2f}x the assumed path."
        )
    return " ".join(parts)


def break_even_table(
    scenario: Scenario,
    *,
    evaluation: Evaluation | None = None,
    view: View | None = None,
) -> list[BreakEven]:
    """Break-even points of every owned strategy against every cloud strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    evaluation : Evaluation, optional
        A prior evaluation of the scenario.
    view : {"institution", "award"}, optional
        Whose cost; the scenario's view by default.

    Returns
    -------
    list of BreakEven
        One per (owned, cloud) pair, in scenario order.
    """
    result = evaluation if evaluation is not None else evaluate(scenario)
    strategies = result.resolved.strategies
    owned = [s.name for s in strategies if isinstance(s, ResolvedOwnedStrategy)]
    rented = [s.name for s in strategies if isinstance(s, ResolvedCloudStrategy)]
    return [
        break_even(scenario, o, c, evaluation=result, view=view)
        for o in owned
        for c in rented
    ]


SCREENING_LABELS = {
    "on_demand": "cloud on-demand",
    "spot": "cloud spot",
    "committed_1y": "cloud 1-year commitment",
    "committed_3y": "cloud 3-year commitment (then on-demand)",
}
"""Legend labels of the cloud curves."""


def screening_curves(
    scenario: Scenario,
    onprem: str,
    cloud: str,
    *,
    points: int = 101,
    view: View | None = None,
    resolved: ResolvedScenario | None = None,
) -> pd.DataFrame:
    """Screening curves: cost of one reference accelerator-year against its use.

    The power-system screening-curve method (docs/methods.md §1.1): each option's
    equivalent annual cost per unit of capacity as a function of the share of
    hours it is busy. Owned servers have a high fixed and a low variable cost;
    on-demand and spot are purely variable; a commitment is flat (paid whether
    used or not). The lower envelope is the cheapest option at each use; its
    crossings are the break-even utilisations.

    Parameters
    ----------
    scenario : Scenario
        Horizon, rates, site and institution rules.
    onprem : str
        Name of the owned strategy (its servers, prices and opex).
    cloud : str
        Name of the cloud strategy; every purchase model of its offer is drawn
        (spot only with a price).
    points : int, default 101
        Utilisations from 0 to 1.
    view : {"institution", "award"}, optional
        Whose cost; the scenario's view by default.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario.

    Returns
    -------
    pandas.DataFrame
        Long table: ``utilisation`` [0-1], ``option`` and
        ``cost_usd_per_reference_accelerator_year`` [USD/year], equivalent
        annual cost over the horizon at the scenario's real discount rate.
    """
    resolved = resolved if resolved is not None else resolve(scenario)
    chosen: View = view or scenario.view
    owned = resolved.strategy(onprem)
    rented = resolved.strategy(cloud)
    assert isinstance(owned, ResolvedOwnedStrategy)
    assert isinstance(rented, ResolvedCloudStrategy)
    owned = _owned_alone(owned)
    crf = scalar(
        capital_recovery_factor(scenario.real_discount_rate, scenario.horizon_years)
    )
    u = np.linspace(0.0, 1.0, points)
    hours = np.array([HOURS_PER_YEAR])
    n = scenario.horizon_years
    capacity = capacity_reference(owned)
    frames = []
    owned_npv = npv_batch_usd(
        owned, resolved, _flat_levels(n, u * capacity), hours, view=chosen
    )
    frames.append(
        pd.DataFrame(
            {
                "utilisation": u,
                "option": onprem,
                "cost_usd_per_reference_accelerator_year": owned_npv * crf / capacity,
            }
        )
    )
    offer = rented.offer
    for purchase in PURCHASES:
        term = COMMITMENT_TERMS_YEARS.get(purchase, 0)
        if term > n or (
            purchase == "spot" and offer.spot_usd_per_accelerator_hour is None
        ):
            continue
        # One committed instance, used u of the time: per-unit cost is exact
        # because every cloud cost is linear in the capacity.
        unit = offer.relative_throughput * (
            offer.accelerators_per_instance if term else 1.0
        )
        variant = ResolvedCloudStrategy(
            name=SCREENING_LABELS[purchase],
            offer=offer,
            purchase=purchase,  # type: ignore[arg-type]
            committed_accelerators=offer.accelerators_per_instance if term else None,
            storage_usd_per_year=0.0,
            egress_usd_per_year=0.0,
        )
        rented_npv = npv_batch_usd(
            variant, resolved, _flat_levels(n, u * unit), hours, view=chosen
        )
        frames.append(
            pd.DataFrame(
                {
                    "utilisation": u,
                    "option": variant.name,
                    "cost_usd_per_reference_accelerator_year": rented_npv * crf / unit,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def premiums_and_ratios(
    evaluation: Evaluation, *, view: View | None = None
) -> dict[str, dict[str, object]]:
    """Each cloud strategy's premium and cost ratio against the first owned one.

    The cloud premium is Cottier et al. (2024)'s, per purchase model and at full
    use, without F&A or staff (:func:`cloud_premium`); the cost ratio is
    Strubell et al. (2019)'s, NPV of renting over NPV of owning for the
    scenario's own demand, in the view.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"institution", "award"}, optional
        Whose cost for the ratio; the scenario's view by default.

    Returns
    -------
    dict
        Cloud strategy name to ``premium_against`` (the owned strategy),
        ``cloud_premium`` (its own purchase model), ``cloud_premiums`` (every
        purchase model) and ``cost_ratio``. Empty without an owned strategy.
    """
    resolved = evaluation.resolved
    chosen: View = view or evaluation.scenario.view
    owned = [
        s
        for s in resolved.strategies
        if isinstance(s, ResolvedOwnedStrategy) and not s.members
    ]
    if not owned:
        return {}
    reference = owned[0]
    summary = evaluation.summary.set_index("strategy")[f"{chosen}_npv_usd"]
    owned_npv = float(summary.loc[reference.name])
    out: dict[str, dict[str, object]] = {}
    for strategy in resolved.strategies:
        if not isinstance(strategy, ResolvedCloudStrategy):
            continue
        premiums = cloud_premium(resolved, reference, strategy)
        npv = float(summary.loc[strategy.name])
        out[strategy.name] = {
            "premium_against": reference.name,
            "cloud_premium": premiums.get(strategy.purchase),
            "cloud_premiums": premiums,
            "cost_ratio": npv / owned_npv if owned_npv > 0 else None,
        }
    return out
