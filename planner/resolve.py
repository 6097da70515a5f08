"""One step from a scenario and a catalog to typed, resolved inputs.

Every catalog lookup of the planner happens here, once: cloud offers (price per
accelerator-hour in the scenario's currency year, spot, commitment discounts,
instance size, power, PUE, grid), servers (price, power, throughput, embodied
CO2e), the site's tariff and grid paths, the F&A rules, the cost of late or
unserved work and the hourly demand. Everything after it (:mod:`planner.costing`,
:mod:`planner.tco`, :mod:`planner.optimise`, :mod:`planner.pooling`,
:mod:`planner.breakeven`) is arithmetic on these records and never looks up a
catalog again (DESIGN "resolve once").

Conventions: money is real USD of the scenario's ``currency_year`` (catalog
amounts are converted from their row's year with CPI-U, :func:`pricing.finance.
real_usd`); paths over the horizon have one value per running year ``k = 1..N``
stored at index ``k - 1``; year ``k`` is at today's level times
``(1 + change) ** (k - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import defaults, demand
from planner.scenario import (
    CloudStrategy,
    DemandShape,
    HybridStrategy,
    InlineServer,
    OnPremStrategy,
    Scenario,
    SharedStrategy,
)
from pricing.catalog import Catalog, SourcedValue
from pricing.emissions import (
    embodied_co2e_kg_per_hour,
    intensity_trajectory_co2e_g_per_kwh,
)
from pricing.energy import utilisation_power_w
from pricing.finance import discount_factors, real_usd
from pricing.history import (
    PriceTrend,
    cloud_price_trend,
    data_year_warning,
    staleness_warnings,
)
from pricing.units import HOURS_PER_YEAR, scalar

FloatArray = npt.NDArray[np.float64]

COMMITMENT_TERMS_YEARS = {"committed_1y": 1, "committed_3y": 3}
"""Term of each commitment purchase model. [years]"""

ACCELERATORS_PER_HOST = 8.0
"""Accelerator slots of the common host (HGX/DGX class) over which a host's
embodied CO2e is spread when the catalog has no server of a cloud offer's chip
(Luccioni et al. 2023 BLOOM node: 8 GPUs). [-]"""

Purchase = Literal["on_demand", "spot", "committed_1y", "committed_3y"]


class ResolutionError(ValueError):
    """A scenario names catalog entries that do not exist, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


# --- records -------------------------------------------------------------------------


def _frozen(values: Any) -> FloatArray:
    array = np.array(values, dtype=float)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class DemandProfile:
    """Hourly demand of every running year, and the hours each column stands for."""

    levels: FloatArray
    """Shape (years, hours): busy reference accelerators. [reference accelerators]"""
    hours: FloatArray
    """Shape (hours,): duration of each column. [h]"""
    jobs: pd.DataFrame | None = None
    """Jobs of the log or generated workload behind the demand (for queue waits)."""
    logged_throughput: float = 1.0
    """Work per GPU-hour of the logged GPUs relative to the reference. [-]"""

    @property
    def first_year_reference_hours(self) -> float:
        """Return the demand of the first running year (reference hours)."""
        return float((self.levels[0] * self.hours).sum())

    @property
    def yearly_reference_hours(self) -> FloatArray:
        """Return the demand of each running year (reference hours)."""
        return np.asarray((self.levels * self.hours).sum(axis=-1), dtype=float)


@dataclass(frozen=True)
class ResolvedOffer:
    """A cloud offer with every number looked up (catalog or the user's quote)."""

    label: str
    """Name of the strategy (or burst) it comes from."""
    provider: str | None
    region: str | None
    instance_type: str | None
    accelerator_model: str
    accelerators_per_instance: float
    """Accelerators per instance: commitments come in whole instances. [-]"""
    on_demand_usd_per_accelerator_hour: float
    """Year-1 on-demand price in the scenario's money. [USD/h]"""
    spot_usd_per_accelerator_hour: float | None
    """Year-1 spot list price, None when unknown. [USD/h]"""
    spot_interruption_overhead: float
    """Extra hours re-run per useful spot hour. [-]"""
    price_change_per_year: float
    """Real change of the price each year. [1/year]"""
    commitment_discounts: dict[int, float]
    """Commitment discount off on-demand by term (years). [0-1]"""
    relative_throughput: float
    """Reference accelerators per accelerator. [-]"""
    power_w_per_accelerator: float
    """Average power per busy accelerator with its host share. [W]"""
    pue: float
    """Provider facility PUE. [-]"""
    grid_co2e_g_per_kwh: FloatArray
    """Shape (years,): the region's grid intensity each running year. [g/kWh]"""
    embodied_co2e_kg_per_accelerator_hour: float
    """Provider hardware's embodied CO2e per rented hour. [kg/h]"""
    indirect_cost_rate: float
    """F&A rate on this offer's services. [-]"""
    sources: tuple[str, ...] = ()
    """Where each looked-up number comes from, for the assumptions list."""
    warnings: tuple[str, ...] = ()
    """What could not be looked up and what stands in for it."""

    def price_usd_per_accelerator_hour(self, horizon_years: int) -> FloatArray:
        """On-demand price of each running year. [USD/h]."""
        steps = np.arange(horizon_years, dtype=float)
        return np.asarray(
            self.on_demand_usd_per_accelerator_hour
            * (1.0 + self.price_change_per_year) ** steps,
            dtype=float,
        )


@dataclass(frozen=True)
class ResolvedServer:
    """An on-premises server specification with every number looked up."""

    server: str
    accelerator_model: str
    accelerators_per_server: float
    server_price_usd: float
    """Price of one server in the scenario's money. [USD]"""
    cluster_overhead_fraction: float
    relative_throughput: float
    """Reference accelerators per accelerator. [-]"""
    idle_power_w: float
    max_power_w: float
    embodied_co2e_kg: float
    rack_units: float | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class OwnedOps:
    """How an owned cluster is run: life, refresh, opex and accounting settings."""

    lifetime_years: int
    refresh: bool
    capex_change_per_year: float
    support_fraction_per_year: float
    staff_fte: float
    staff_usd_per_fte_year: float
    hosting_usd_per_kw_month: float
    availability: float
    salvage: Literal["declining", "none"]
    annual_value_decline: float
    depreciation: str
    embodied_accounting: Literal["amortised", "at_purchase"]

    @property
    def staff_usd_per_year(self) -> float:
        """Return the staff cost of a year with the cluster running. [USD/year]."""
        return self.staff_fte * self.staff_usd_per_fte_year


@dataclass(frozen=True)
class ResolvedCloudStrategy:
    """A cloud strategy: an offer, a purchase model, storage and egress."""

    name: str
    offer: ResolvedOffer
    purchase: Purchase
    committed_accelerators: float | None
    """Whole instances' accelerators, or None: sized by the screening curve."""
    storage_usd_per_year: float
    egress_usd_per_year: float
    kind: Literal["cloud"] = "cloud"

    @property
    def term_years(self) -> int:
        """Return the commitment term (0 for on-demand and spot). [years]."""
        return COMMITMENT_TERMS_YEARS.get(self.purchase, 0)


@dataclass(frozen=True)
class ResolvedMember:
    """A member of a shared cluster with its own demand."""

    name: str
    demand: DemandProfile


@dataclass(frozen=True)
class ResolvedOwnedStrategy:
    """An owned (on-premises, hybrid or shared) strategy, resolved."""

    name: str
    kind: Literal["onprem", "hybrid", "shared"]
    server: ResolvedServer
    ops: OwnedOps
    servers: float
    purchase_year: int
    burst: ResolvedCloudStrategy | None = None
    """Cloud that serves the overflow (hybrid, or a shared cluster's burst)."""
    members: tuple[ResolvedMember, ...] = ()
    sized: bool = False
    """True when ``servers`` was chosen as the cheapest count at equal service
    (the scenario said ``servers: auto``)."""

    @property
    def bursts(self) -> bool:
        """Return True when the overflow goes to the cloud rather than waiting."""
        return self.burst is not None

    def vintages(self, horizon_years: int) -> list[int]:
        """Purchase times: the first buy, then each refresh inside the horizon."""
        times = [self.purchase_year]
        life = self.ops.lifetime_years
        while self.ops.refresh and times[-1] + life < horizon_years:
            times.append(times[-1] + life)
        return times


ResolvedStrategy = ResolvedCloudStrategy | ResolvedOwnedStrategy


@dataclass(frozen=True)
class ResolvedSite:
    """The site of owned hardware over the horizon."""

    pue: float
    electricity_usd_per_kwh: FloatArray
    """Shape (years,): tariff of each running year. [USD/kWh]"""
    grid_co2e_g_per_kwh: FloatArray
    """Shape (years,): grid intensity of each running year. [g/kWh]"""


@dataclass(frozen=True)
class ResolvedInstitution:
    """Who pays what, and which costs bear F&A (the award view)."""

    indirect_cost_rate: float
    equipment_threshold_usd: float
    power_paid_by: Literal["project", "institution"]
    hosting_paid_by: Literal["project", "institution"]
    mtdc_exclusions: tuple[str, ...] = ()
    """Kinds of cost kept out of MTDC by the institution's own rules."""


@dataclass(frozen=True)
class ServiceCosts:
    """Cost of work that waits or is not done (the equal-service rule), per view.

    The default is what renting that work instead would cost in each view: the
    cheapest on-demand price per reference hour of the scenario's offers, and in
    the award view that price with the offer's F&A (what the grant would pay).
    """

    delay_usd_per_reference_hour: float
    """Institution view. [USD/reference accelerator-h]"""
    unserved_usd_per_reference_hour: float
    """Institution view. [USD/reference accelerator-h]"""
    basis: str
    """Where the defaults come from, in words."""
    award_delay_usd_per_reference_hour: float = 0.0
    """Award view. [USD/reference accelerator-h]"""
    award_unserved_usd_per_reference_hour: float = 0.0
    """Award view. [USD/reference accelerator-h]"""
    reference_offer: ResolvedOffer | None = None
    """The offer whose on-demand hour the unserved work stands for: its energy
    and CO2e are the unserved work's (equal service: the work is done
    elsewhere). None when no offer of the reference accelerator exists."""
    unserved_co2e_kg_per_reference_hour: float | None = None
    """A scenario's own CO2e of unserved work, instead of the reference
    offer's. [kg CO2e/reference accelerator-h]"""


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario with every input looked up: what the arithmetic works on."""

    scenario: Scenario
    catalog: Catalog
    demand: DemandProfile
    site: ResolvedSite
    institution: ResolvedInstitution
    service: ServiceCosts
    strategies: tuple[ResolvedStrategy, ...]
    discount: FloatArray
    """Shape (years + 1,): (1 + r)^-t at t = 0..N. [-]"""
    assumptions: tuple[tuple[str, str], ...] = field(default=())
    """(what, source) of every looked-up default, for reports."""
    warnings: tuple[str, ...] = field(default=())
    """Looked-up values much older than the start year, and stale catalogs."""

    @property
    def horizon_years(self) -> int:
        """Return the number of running years, N."""
        return self.scenario.horizon_years

    def strategy(self, name: str) -> ResolvedStrategy:
        """Return the resolved strategy of that name."""
        for item in self.strategies:
            if item.name == name:
                return item
        msg = f"no strategy named {name!r}"
        raise KeyError(msg)

    def offers(self) -> list[ResolvedCloudStrategy]:
        """Every cloud strategy and burst of the scenario, in scenario order."""
        found = [s for s in self.strategies if isinstance(s, ResolvedCloudStrategy)]
        found += [
            s.burst
            for s in self.strategies
            if isinstance(s, ResolvedOwnedStrategy) and s.burst is not None
        ]
        return found


# --- lookups -------------------------------------------------------------------------


def _float_or_none(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return float(str(value))


def _in_scenario_usd(amount_usd: float, row: pd.Series, scenario: Scenario) -> float:
    """Convert a catalog amount from its row's currency year (CPI-U)."""
    year = _float_or_none(row.get("currency_year"))
    if year is None:
        return amount_usd
    return scalar(real_usd(amount_usd, int(year), scenario.currency_year))


def _reference_throughput(catalog: Catalog, reference: str) -> float:
    value = _float_or_none(catalog.accelerator(reference).get("relative_throughput"))
    if value is None:
        msg = (
            f"demand.reference_accelerator: {reference!r} has no "
            "relative_throughput in the accelerators catalog"
        )
        raise ResolutionError([msg])
    return value


def relative_throughput(
    catalog: Catalog, model: str, reference: str, override: float | None = None
) -> float:
    """Work of one accelerator-hour of ``model`` in reference accelerator-hours.

    The catalog's benchmark-based ``relative_throughput`` (MLPerf Training or
    published transformer throughput, against A100-80GB) of the model over the
    reference's, unless the user gives their own factor.

    Raises
    ------
    ResolutionError
        If either accelerator has no relative throughput in the catalog.
    """
    if override is not None:
        return override
    value = _float_or_none(catalog.accelerator(model).get("relative_throughput"))
    if value is None:
        msg = (
            f"{model} has no relative_throughput in the catalog: set "
            "relative_throughput on the strategy (e.g. from your own benchmark)"
        )
        raise ResolutionError([msg])
    return value / _reference_throughput(catalog, reference)


ACCELERATOR_CACHE_ENTRIES = 64
"""Accelerator power and embodied records kept (a few hundred bytes each, keyed
by catalog content and model; each lookup copies catalog rows). [-]"""


def _first_server_with(catalog: Catalog, model: str) -> pd.Series | None:
    same = catalog.servers_with(model)
    return None if same.empty else same.iloc[0]


@dataclass(frozen=True)
class AcceleratorPower:
    """Idle and full-load power of one accelerator with its host share."""

    idle_w: float
    max_w: float
    source: str

    def at_utilisation_w(self, utilisation: float) -> float:
        """Average power at a busy share on the linear power curve, in W."""
        return float(scalar(utilisation_power_w(self.idle_w, self.max_w, utilisation)))


@lru_cache(maxsize=ACCELERATOR_CACHE_ENTRIES)
def accelerator_power(catalog: Catalog, model: str) -> AcceleratorPower:
    """Power range of one accelerator and its host share, from the catalog.

    Cached by the catalog's content and the model (a frozen record).

    The first catalog server with that accelerator gives idle and maximum
    draw divided by its accelerator count; without one, the maximum is the
    accelerator's TDP times :data:`planner.defaults.HOST_POWER_FACTOR` (DGX
    H100: 10.2 kW for 8 x 700 W) and the idle draw the accelerator row's
    ``idle_power_w`` (0 when missing).

    Raises
    ------
    ResolutionError
        If the accelerator has neither a server nor a TDP in the catalog.
    """
    first = _first_server_with(catalog, model)
    if first is not None:
        count = float(first["accelerator_count"])
        return AcceleratorPower(
            idle_w=float(first["idle_power_w"]) / count,
            max_w=float(first["max_power_w"]) / count,
            source=f"server {first['server']}: {first.get('source', '')}, "
            f"{first.get('source_date', '')}",
        )
    row = catalog.accelerator(model)
    tdp_w = _float_or_none(row.get("tdp_w"))
    if tdp_w is None:
        msg = (
            f"{model} has no TDP in the catalog to estimate its power; give "
            "power_w_per_accelerator (measured watts)"
        )
        raise ResolutionError([msg])
    return AcceleratorPower(
        idle_w=_float_or_none(row.get("idle_power_w")) or 0.0,
        max_w=tdp_w * defaults.HOST_POWER_FACTOR,
        source="TDP x host factor 1.82 (NVIDIA DGX H100: 10.2 kW for 8 x 700 W)",
    )


@dataclass(frozen=True)
class AcceleratorEmbodied:
    """Embodied CO2e of one accelerator with its share of the host server."""

    co2e_kg: float
    source: str


@lru_cache(maxsize=ACCELERATOR_CACHE_ENTRIES)
def accelerator_embodied(catalog: Catalog, model: str) -> AcceleratorEmbodied:
    """Embodied CO2e of one accelerator and its host share, from the catalog.

    Cached by the catalog's content and the model (a frozen record).

    The first catalog server with that accelerator and an embodied figure,
    divided by its accelerator count; else the accelerator's own figure (or
    :data:`planner.defaults.EMBODIED_PER_ACCELERATOR_CO2E_KG`) plus the host's
    :data:`planner.defaults.EMBODIED_SERVER_BASE_CO2E_KG` spread over
    :data:`ACCELERATORS_PER_HOST` slots (Luccioni, Viguier & Ligozat 2023,
    BLOOM: about 2,500 kg per node plus about 150 kg per GPU).
    """
    first = _first_server_with(catalog, model)
    if first is not None:
        embodied = _float_or_none(first.get("embodied_co2e_kg"))
        if embodied is not None:
            return AcceleratorEmbodied(
                co2e_kg=embodied / float(first["accelerator_count"]),
                source=f"server {first['server']}: {first.get('source', '')}, "
                f"{first.get('source_date', '')}",
            )
    card = _float_or_none(catalog.accelerator(model).get("embodied_co2e_kg"))
    card = defaults.EMBODIED_PER_ACCELERATOR_CO2E_KG if card is None else card
    return AcceleratorEmbodied(
        co2e_kg=card + defaults.EMBODIED_SERVER_BASE_CO2E_KG / ACCELERATORS_PER_HOST,
        source="Luccioni et al. 2023: card plus 2,500 kg per 8-accelerator node "
        f"({model} has no catalog server)",
    )


def _path(initial: float, change: float, years: int) -> FloatArray:
    """Value of each running year under a constant relative change."""
    steps = np.arange(years, dtype=float)
    return _frozen(intensity_trajectory_co2e_g_per_kwh(initial, change, steps))


def _indirect_rate(strategy: CloudStrategy, scenario: Scenario) -> float:
    """F&A rate on a cloud offer: its own, 0 if waived, else the negotiated rate.

    Cloud compute bought as a service is in MTDC (2 CFR 200.1) and bears the
    negotiated rate unless the institution waives it; an offer may carry its own
    rate (0 for NSF CloudBank; docs/methods.md §5.4).
    """
    if strategy.indirect_cost_rate is not None:
        return strategy.indirect_cost_rate
    institution = scenario.institution
    if institution.cloud_exempt_from_indirect or "cloud" in institution.mtdc_exclusions:
        return 0.0
    return institution.indirect_cost_rate


def resolve_offer(
    strategy: CloudStrategy, scenario: Scenario, catalog: Catalog
) -> ResolvedOffer:
    """Look up a cloud offer's prices, instance size, power, carbon and discounts.

    Parameters
    ----------
    strategy : CloudStrategy
        A catalog offer (provider, region, instance type) or a quoted rate.
    scenario : Scenario
        For the reference accelerator, currency year, grid trend and F&A.
    catalog : pricing.catalog.Catalog
        The catalog with the user's overlays.

    Returns
    -------
    ResolvedOffer
        Every number the costing layer needs.

    Raises
    ------
    ResolutionError
        If the offer, accelerator or a needed price is unknown.
    """
    name = strategy.name
    try:
        return _resolve_offer(strategy, scenario, catalog)
    except ResolutionError as error:
        raise ResolutionError([f"{name}: {p}" for p in error.problems]) from None
    except (KeyError, LookupError, ValueError) as error:
        problems = getattr(error, "problems", None) or [str(error).strip("'\"")]
        raise ResolutionError([f"{name}: {p}" for p in problems]) from None


def _resolve_offer(
    strategy: CloudStrategy, scenario: Scenario, catalog: Catalog
) -> ResolvedOffer:
    horizon = scenario.horizon_years
    spot = strategy.spot_usd_per_accelerator_hour
    grid = strategy.grid_co2e_g_per_kwh
    pue = strategy.pue
    count = strategy.accelerators_per_instance
    sources: list[str] = []
    warnings: list[str] = []
    discounts: dict[int, float] = {}
    if strategy.instance_type is not None:
        provider, region = str(strategy.provider), str(strategy.region)
        offer = catalog.cloud_offer(provider, region, strategy.instance_type)
        sources.append(
            f"{provider} {region} {strategy.instance_type}: {offer['source']}"
        )
        model = str(offer["accelerator_model"])
        count = float(offer["accelerator_count"]) if count is None else count
        on_demand = _float_or_none(offer.get("on_demand_usd_per_hour"))
        if strategy.usd_per_accelerator_hour is not None:
            per_hour = strategy.usd_per_accelerator_hour
        elif on_demand is None:
            msg = (
                f"{strategy.instance_type} has no on-demand price in the catalog; "
                "give usd_per_accelerator_hour"
            )
            raise ResolutionError([msg])
        else:
            per_hour = _in_scenario_usd(on_demand / count, offer, scenario)
        if spot is None:
            spot_instance = _float_or_none(offer.get("spot_usd_per_hour"))
            if spot_instance is not None:
                spot = _in_scenario_usd(spot_instance / count, offer, scenario)
        if grid is None:
            try:
                grid = catalog.grid_intensity_co2e_g_per_kwh(
                    provider=provider, cloud_region=region
                )
            except LookupError:
                # A region the grid catalog does not place: say so, use the
                # world average rather than refuse the offer.
                grid = defaults.GRID_CO2E_G_PER_KWH_WORLD_2024
                warnings.append(
                    f"{strategy.name}: no grid intensity for {provider} {region} "
                    f"in the catalog; the world average {grid:g} g CO2e/kWh (IEA "
                    "Electricity 2025) is used; give grid_co2e_g_per_kwh"
                )
        if pue is None:
            try:
                pue = catalog.pue(provider)
            except LookupError:
                pue = catalog.pue(defaults.INDUSTRY_PUE_FACILITY)
                warnings.append(
                    f"{strategy.name}: no PUE for {provider} in the catalog; the "
                    f"{defaults.INDUSTRY_PUE_FACILITY} {pue:g} (Uptime Institute "
                    "2024) is used; give pue"
                )
        for term in (1, 3):
            if strategy.commitment_discount is not None:
                discounts[term] = strategy.commitment_discount
                continue
            try:
                row = catalog.commitment_discount(provider, term)
            except LookupError:
                discounts[term] = defaults.COMMITMENT_DISCOUNT
                continue
            discounts[term] = float(row["discount_fraction"])
    else:
        model = str(strategy.accelerator_model)
        catalog.accelerator(model)  # unknown model: a clear error
        count = 1.0 if count is None else count
        per_hour = float(strategy.usd_per_accelerator_hour or 0.0)
        for term in (1, 3):
            discounts[term] = (
                defaults.COMMITMENT_DISCOUNT
                if strategy.commitment_discount is None
                else strategy.commitment_discount
            )
    relative = relative_throughput(
        catalog,
        model,
        scenario.demand.reference_accelerator,
        strategy.relative_throughput,
    )
    power_w = (
        strategy.power_w_per_accelerator
        if strategy.power_w_per_accelerator is not None
        else accelerator_power(catalog, model).at_utilisation_w(
            1.0 if strategy.utilisation is None else strategy.utilisation
        )
    )
    embodied_kg = accelerator_embodied(catalog, model).co2e_kg
    initial_grid = float(
        grid if grid is not None else defaults.GRID_CO2E_G_PER_KWH_WORLD_2024
    )
    term = COMMITMENT_TERMS_YEARS.get(strategy.purchase, 0)
    if strategy.purchase == "spot" and spot is None:
        msg = "no spot price for this offer; give spot_usd_per_accelerator_hour"
        raise ResolutionError([msg])
    if term and strategy.committed_accelerators is not None:
        instances = strategy.committed_accelerators / count
        if not math.isclose(instances, round(instances), abs_tol=1e-9):
            msg = (
                f"committed_accelerators {strategy.committed_accelerators} is not a "
                f"whole number of {count:g}-accelerator instances"
            )
            raise ResolutionError([msg])
    return ResolvedOffer(
        label=strategy.name,
        provider=strategy.provider,
        region=strategy.region,
        instance_type=strategy.instance_type,
        accelerator_model=model,
        accelerators_per_instance=float(count),
        on_demand_usd_per_accelerator_hour=float(per_hour),
        spot_usd_per_accelerator_hour=None if spot is None else float(spot),
        spot_interruption_overhead=strategy.spot_interruption_overhead,
        price_change_per_year=strategy.price_change_per_year
        if strategy.price_change_per_year is not None
        else default_cloud_trend(catalog).annual_change_real,
        commitment_discounts=discounts,
        relative_throughput=relative,
        power_w_per_accelerator=float(power_w),
        pue=float(pue if pue is not None else defaults.PUE_UNIVERSITY_MACHINE_ROOM),
        grid_co2e_g_per_kwh=_path(
            initial_grid, scenario.site.grid_change_per_year, horizon
        ),
        embodied_co2e_kg_per_accelerator_hour=scalar(
            embodied_co2e_kg_per_hour(
                embodied_kg,
                defaults.PROVIDER_LIFETIME_YEARS,
                defaults.PROVIDER_UTILISATION,
            )
        ),
        indirect_cost_rate=_indirect_rate(strategy, scenario),
        sources=tuple(sources),
        warnings=tuple(warnings),
    )


@lru_cache(maxsize=8)
def default_cloud_trend(catalog: Catalog) -> PriceTrend:
    """Default real price change of a fixed cloud SKU: the catalog's evidence.

    The median real change per year of the list prices of fixed SKUs in the
    ``cloud_price_history`` catalog (:func:`pricing.history.cloud_price_trend`),
    cached per catalog.

    Parameters
    ----------
    catalog : pricing.catalog.Catalog
        The catalog with overlays.

    Returns
    -------
    pricing.history.PriceTrend
        Median, range and source.
    """
    return cloud_price_trend(catalog=catalog)


def resolve_cloud_strategy(
    strategy: CloudStrategy, scenario: Scenario, catalog: Catalog
) -> ResolvedCloudStrategy:
    """Resolve a cloud strategy: its offer, purchase model, storage and egress.

    Parameters
    ----------
    strategy : CloudStrategy
        The strategy.
    scenario : Scenario
        Its scenario.
    catalog : pricing.catalog.Catalog
        The catalog with overlays.

    Returns
    -------
    ResolvedCloudStrategy
        The resolved strategy.
    """
    from planner.costing import MONTHS_PER_YEAR

    offer = resolve_offer(strategy, scenario, catalog)
    return ResolvedCloudStrategy(
        name=strategy.name,
        offer=offer,
        purchase=strategy.purchase,
        committed_accelerators=None
        if strategy.committed_accelerators is None
        else float(strategy.committed_accelerators),
        storage_usd_per_year=strategy.storage_tb
        * strategy.storage_usd_per_tb_month
        * MONTHS_PER_YEAR,
        egress_usd_per_year=strategy.egress_tb_per_year * strategy.egress_usd_per_tb,
    )


def resolve_server(
    strategy: OnPremStrategy, scenario: Scenario, catalog: Catalog
) -> ResolvedServer:
    """Look up a server's price, power, throughput and embodied CO2e.

    Parameters
    ----------
    strategy : OnPremStrategy
        The owned strategy; its overrides (a vendor quote) win over the catalog.
    scenario : Scenario
        For the reference accelerator and currency year.
    catalog : pricing.catalog.Catalog
        The catalog with overlays.

    Returns
    -------
    ResolvedServer
        Every number the costing layer needs.

    Raises
    ------
    ResolutionError
        If the server or its accelerator is unknown, or its throughput is missing.
    """
    if isinstance(strategy.server, InlineServer):
        return _inline_server(strategy, strategy.server, scenario, catalog)
    try:
        row = catalog.server(strategy.server)
        relative = relative_throughput(
            catalog,
            str(row["accelerator_model"]),
            scenario.demand.reference_accelerator,
            strategy.relative_throughput,
        )
    except ResolutionError as error:
        raise ResolutionError(
            [f"{strategy.name}: {p}" for p in error.problems]
        ) from None
    except (KeyError, LookupError, ValueError) as error:
        problems = getattr(error, "problems", None) or [str(error).strip("'\"")]
        raise ResolutionError([f"{strategy.name}: {p}" for p in problems]) from None
    # A quote is in the scenario's money; a catalog price in its row's currency year.
    price = strategy.server_price_usd or _in_scenario_usd(
        float(row["server_price_usd"]), row, scenario
    )
    overhead = strategy.cluster_overhead_fraction
    if overhead is None:
        overhead = _float_or_none(row.get("cluster_overhead_fraction")) or 0.0
    embodied = strategy.embodied_co2e_kg
    if embodied is None:
        embodied = _float_or_none(row.get("embodied_co2e_kg")) or 0.0
    return ResolvedServer(
        server=strategy.server,
        accelerator_model=str(row["accelerator_model"]),
        accelerators_per_server=float(row["accelerator_count"]),
        server_price_usd=float(price),
        cluster_overhead_fraction=float(overhead),
        relative_throughput=relative,
        idle_power_w=float(
            row["idle_power_w"]
            if strategy.idle_power_w is None
            else strategy.idle_power_w
        ),
        max_power_w=float(
            row["max_power_w"] if strategy.max_power_w is None else strategy.max_power_w
        ),
        embodied_co2e_kg=float(embodied),
        rack_units=_float_or_none(row.get("rack_units")),
        sources=(
            f"{strategy.server}: "
            + ("your overlay, " if bool(row.get("user_supplied", False)) else "")
            + f"{row['source']}",
        ),
    )


def _inline_server(
    strategy: OnPremStrategy,
    spec: InlineServer,
    scenario: Scenario,
    catalog: Catalog,
) -> ResolvedServer:
    """A server typed in the scenario; the strategy's overrides still win."""
    model = spec.accelerator_model
    try:
        relative = (
            spec.relative_throughput
            if spec.relative_throughput is not None
            else relative_throughput(
                catalog, str(model), scenario.demand.reference_accelerator, None
            )
        )
        if strategy.relative_throughput is not None:
            relative = strategy.relative_throughput
        if model is not None:
            catalog.accelerator(model)  # unknown model: a clear error
    except ResolutionError as error:
        raise ResolutionError(
            [f"{strategy.name}: {p}" for p in error.problems]
        ) from None
    except LookupError as error:
        raise ResolutionError(
            [f"{strategy.name}: {str(error).strip(chr(39))}"]
        ) from None
    embodied = spec.embodied_co2e_kg
    if strategy.embodied_co2e_kg is not None:
        embodied = strategy.embodied_co2e_kg
    if embodied is None:
        embodied = (
            defaults.EMBODIED_SERVER_BASE_CO2E_KG
            + defaults.EMBODIED_PER_ACCELERATOR_CO2E_KG * spec.accelerators_per_server
        )
    return ResolvedServer(
        server=spec.name,
        accelerator_model=model or spec.name,
        accelerators_per_server=float(spec.accelerators_per_server),
        server_price_usd=float(strategy.server_price_usd or spec.server_price_usd),
        cluster_overhead_fraction=float(
            strategy.cluster_overhead_fraction
            if strategy.cluster_overhead_fraction is not None
            else spec.cluster_overhead_fraction
        ),
        relative_throughput=float(relative),
        idle_power_w=float(
            spec.idle_power_w
            if strategy.idle_power_w is None
            else strategy.idle_power_w
        ),
        max_power_w=float(
            spec.max_power_w if strategy.max_power_w is None else strategy.max_power_w
        ),
        embodied_co2e_kg=float(embodied),
        rack_units=None if spec.rack_units is None else float(spec.rack_units),
        sources=(f"{spec.name}: your specification in the scenario (user_supplied)",),
    )


def owned_ops(strategy: OnPremStrategy) -> OwnedOps:
    """The operating settings of an owned strategy, as a typed record.

    Parameters
    ----------
    strategy : OnPremStrategy
        An on-premises, hybrid or shared strategy.

    Returns
    -------
    OwnedOps
        Life, refresh, opex and accounting settings.
    """
    return OwnedOps(
        lifetime_years=strategy.lifetime_years,
        refresh=strategy.refresh,
        capex_change_per_year=strategy.capex_change_per_year,
        support_fraction_per_year=strategy.support_fraction_per_year,
        staff_fte=strategy.staff_fte,
        staff_usd_per_fte_year=strategy.staff_usd_per_fte_year,
        hosting_usd_per_kw_month=strategy.hosting_usd_per_kw_month,
        availability=strategy.availability,
        salvage=strategy.salvage,
        annual_value_decline=strategy.annual_value_decline,
        depreciation=strategy.depreciation,
        embodied_accounting=strategy.embodied_accounting,
    )


def resolve_owned_strategy(
    strategy: OnPremStrategy, scenario: Scenario, catalog: Catalog
) -> ResolvedOwnedStrategy:
    """Resolve an owned strategy (on-premises, hybrid or shared).

    Parameters
    ----------
    strategy : OnPremStrategy
        The strategy (or a hybrid/shared subclass).
    scenario : Scenario
        Its scenario.
    catalog : pricing.catalog.Catalog
        The catalog with overlays.

    Returns
    -------
    ResolvedOwnedStrategy
        Server, operating settings, burst offer and members.
    """
    server = resolve_server(strategy, scenario, catalog)
    burst = None
    members: tuple[ResolvedMember, ...] = ()
    if isinstance(strategy, HybridStrategy) and strategy.overflow == "burst":
        burst = resolve_cloud_strategy(strategy.burst, scenario, catalog)
    if isinstance(strategy, SharedStrategy):
        if strategy.burst is not None:
            burst = resolve_cloud_strategy(strategy.burst, scenario, catalog)
        members = tuple(
            ResolvedMember(name, profile)
            for name, profile in member_profiles(strategy, scenario).items()
        )
    return ResolvedOwnedStrategy(
        name=strategy.name,
        kind=strategy.kind,
        server=server,
        ops=owned_ops(strategy),
        servers=0.0 if strategy.servers == "auto" else float(strategy.servers),
        purchase_year=strategy.purchase_year,
        burst=burst,
        members=members,
        sized=strategy.servers == "auto",
    )


# --- demand --------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _cached_shape(shape_json: str) -> FloatArray:
    """Hourly shape of a demand shape; bounded cache keyed by the shape's JSON."""
    profile = demand.hourly_shape(DemandShape.model_validate_json(shape_json))
    profile.setflags(write=False)
    return profile


def synthetic_demand(
    hours_per_year: float, growth: float, shape: DemandShape, years: int
) -> DemandProfile:
    """Hourly demand from an annual amount, a growth rate and a synthetic shape.

    Parameters
    ----------
    hours_per_year : float
        First-year demand. [reference accelerator-h]
    growth : float
        Relative change per year. [1/year]
    shape : DemandShape
        Hourly shape.
    years : int
        Running years. [years]

    Returns
    -------
    DemandProfile
        Levels of shape (years, 8760) and unit hours.
    """
    annual = demand.annual_reference_hours(hours_per_year, growth, years)
    levels = demand.hourly_demand(annual, _cached_shape(shape.model_dump_json()))
    return DemandProfile(levels=levels, hours=np.ones(levels.shape[-1]))


def scenario_demand(
    scenario: Scenario, *, sample: Literal["tiled", "weighted"] = "tiled"
) -> DemandProfile:
    """Hourly demand of the scenario for each running year.

    From the synthetic shape, or from a job log / generated workload: then the
    log's hourly concurrency gives the shape (repeated to a year) and, when the
    scenario leaves the annual hours blank, the amount (mean concurrency x 8,760
    x the logged GPUs' relative throughput).

    Parameters
    ----------
    scenario : Scenario
        Its demand (annual hours, growth, shape or log) and horizon.
    sample : {"tiled", "weighted"}, default "tiled"
        How a log shorter than a year stands for it: "tiled" repeats it to
        8,760 hours (a partial last repeat included); "weighted" keeps its hours
        as snapshots, each weighted 8760 / (its length) hours (PyPSA's snapshot
        weightings), so a 168-hour week stands for 52.14 such weeks exactly. A
        synthetic year is the same either way.

    Returns
    -------
    DemandProfile
        Levels of shape (years, points), the hours of each point, and the jobs
        when known: 8,760 unit hours, or the log's hours (at most a year's)
        with their weights.

    Raises
    ------
    ResolutionError
        If the job log cannot be read (one line per problem).
    """
    spec = scenario.demand
    if spec.joblog is None and spec.workload is None:
        return synthetic_demand(
            float(spec.reference_hours_per_year or 0.0),
            spec.growth_per_year,
            spec.shape,
            scenario.horizon_years,
        )
    log = _job_log(
        spec.joblog.path if spec.joblog else None,
        spec.joblog.kind if spec.joblog else None,
        spec.workload,
    )
    throughput = spec.joblog.relative_throughput if spec.joblog else 1.0
    from planner import joblog as joblogs

    hourly: FloatArray = np.asarray(
        joblogs.hourly_concurrency_gpus(log), dtype=np.float64
    ).ravel()
    try:
        shape = demand.shape_from_hourly(hourly)
    except ValueError as error:
        raise ResolutionError([f"demand.joblog: {error}"]) from None
    hours = np.ones(shape.size)
    if sample == "weighted" and hourly.size < shape.size:
        shape = hourly / hourly.mean()
        hours = np.full(hourly.size, HOURS_PER_YEAR / hourly.size)
    first_year = spec.reference_hours_per_year
    if first_year is None:
        first_year = float(hourly.mean()) * HOURS_PER_YEAR * throughput
    annual = demand.annual_reference_hours(
        first_year, spec.growth_per_year, scenario.horizon_years
    )
    return DemandProfile(
        levels=demand.hourly_demand(annual, shape),
        hours=hours,
        jobs=log.jobs,
        logged_throughput=throughput,
    )


def _job_log(path: str | None, kind: str | None, workload: str | None) -> Any:
    """Read (or generate) the jobs behind a scenario's demand, cached by file state."""
    if workload is not None:
        return _generated_workload(workload)
    file = Path(str(path))
    try:
        stat = file.stat()
    except (OSError, ValueError) as error:
        raise ResolutionError(
            [f"demand.joblog.path: cannot read {file.name}: {error}"]
        ) from None
    try:
        return _read_job_log(str(file), kind, stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError) as error:
        raise ResolutionError([f"demand.joblog: {error}"]) from None


@lru_cache(maxsize=2)
def _generated_workload(name: str) -> Any:
    from planner import joblog as joblogs

    del name  # the only generated workload is LISA (Scenario validates the name)
    return joblogs.generate_workload(joblogs.lisa_workload_spec())


@lru_cache(maxsize=8)
def _read_job_log(path: str, kind: str | None, mtime_ns: int, size: int) -> Any:
    # mtime and size are part of the key so an edited log is read again.
    del mtime_ns, size
    from planner import joblog as joblogs

    return joblogs.read_log(path, kind=kind)  # type: ignore[arg-type]


def member_profiles(
    strategy: SharedStrategy, scenario: Scenario
) -> dict[str, DemandProfile]:
    """Hourly demand of each member of a shared cluster (this project excluded).

    Each member gets its own noise draw unless it set its own seed (a copy of
    the scenario's seed is shifted by the member's position), and grows at the
    scenario's rate.

    Parameters
    ----------
    strategy : SharedStrategy
        The shared cluster and its members.
    scenario : Scenario
        Horizon, growth and this project's seed.

    Returns
    -------
    dict
        Member name to :class:`DemandProfile`, in member order.
    """
    profiles = {}
    for index, member in enumerate(strategy.members):
        shape = member.shape
        if shape.seed == scenario.demand.shape.seed:
            shape = shape.model_copy(update={"seed": shape.seed + index + 1})
        profiles[member.name] = synthetic_demand(
            member.reference_hours_per_year,
            scenario.demand.growth_per_year,
            shape,
            scenario.horizon_years,
        )
    return profiles


# --- the whole scenario --------------------------------------------------------------


def site_values(
    scenario: Scenario, catalog: Catalog
) -> tuple[float, float, list[tuple[str, str]], list[str]]:
    """The site's tariff and grid intensity: given, or looked up by location.

    A looked-up tariff is converted from its row's currency year by CPI-U; a
    value whose data year is more than two years before the start year is
    reported (:func:`pricing.history.data_year_warning`).

    Parameters
    ----------
    scenario : Scenario
        Site settings, currency year and start year.
    catalog : pricing.catalog.Catalog
        The catalog with overlays.

    Returns
    -------
    tariff : float
        Year-1 tariff in the scenario's money. [USD/kWh]
    grid : float
        Year-1 grid intensity. [g CO2e/kWh]
    assumptions : list of (str, str)
        What was looked up and its source.
    warnings : list of str
        Old data.
    """
    site = scenario.site
    assumptions: list[tuple[str, str]] = []
    warnings: list[str] = []
    place = _place_keys(site.location)
    tariff = site.electricity_usd_per_kwh
    if tariff is None:
        found = catalog.electricity_price(**place)
        year = found.currency_year or found.year
        tariff = (
            scalar(real_usd(found.value, int(year), scenario.currency_year))
            if year is not None
            else found.value
        )
        what, text = _sourced(f"electricity of {site.location}", found)
        if year is not None and int(year) != scenario.currency_year:
            # Say the number the engine uses, and how it came from the row.
            text = (
                f"{tariff:.4g} USD/kWh in {scenario.currency_year} dollars (CPI-U "
                f"from {int(year)}: {text})"
            )
        assumptions.append((what, text))
        warnings.extend(_old(found, scenario, f"electricity of {site.location}"))
    grid = site.grid_co2e_g_per_kwh
    if grid is None:
        found = catalog.grid_intensity(**place)
        grid = found.value
        assumptions.append(_sourced(f"grid intensity of {site.location}", found))
        warnings.extend(_old(found, scenario, f"grid intensity of {site.location}"))
    return float(tariff), float(grid), assumptions, warnings


def _place_keys(location: str | None) -> dict[str, str]:
    if location is None:
        return {}
    if "-" in location:
        return {"subdivision_code": location}
    return {"country_iso2": location}


def _sourced(what: str, value: SourcedValue) -> tuple[str, str]:
    marker = "your overlay, " if value.user_supplied else ""
    year = f"{value.year} data" if value.year is not None else "no data year"
    return (
        what,
        f"{value.value:g} {value.unit} ({marker}{year}; {value.source}, "
        f"{value.source_date})",
    )


def _old(value: SourcedValue, scenario: Scenario, label: str) -> list[str]:
    warning = data_year_warning(value, year=scenario.start_year, label=label)
    return [] if warning is None else [warning]


def resolve_site(scenario: Scenario, catalog: Catalog | None = None) -> ResolvedSite:
    """Tariff and grid paths of the site over the horizon.

    Parameters
    ----------
    scenario : Scenario
        Site settings and horizon.
    catalog : pricing.catalog.Catalog, optional
        For a location's tariff and grid intensity.

    Returns
    -------
    ResolvedSite
        PUE, tariff and grid intensity of each running year.
    """
    site = scenario.site
    n = scenario.horizon_years
    tariff, grid, _, _ = site_values(scenario, catalog or Catalog())
    return ResolvedSite(
        pue=site.pue,
        electricity_usd_per_kwh=_path(tariff, site.tariff_change_per_year, n),
        grid_co2e_g_per_kwh=_path(grid, site.grid_change_per_year, n),
    )


def _service_costs(
    scenario: Scenario, strategies: tuple[ResolvedStrategy, ...], catalog: Catalog
) -> ServiceCosts:
    """Delay and unserved costs: the scenario's, else renting the work instead."""
    rule = scenario.service
    offers: list[ResolvedOffer] = []
    for item in strategies:
        if isinstance(item, ResolvedCloudStrategy):
            offers.append(item.offer)
        elif item.burst is not None:
            offers.append(item.burst.offer)
    from_catalog = not offers
    if from_catalog:
        fallback = _catalog_cheapest_reference_offer(scenario, catalog)
        if fallback is not None:
            offers.append(fallback)
    if offers:
        per_hour = [
            o.on_demand_usd_per_accelerator_hour / o.relative_throughput for o in offers
        ]
        cheapest: ResolvedOffer | None = offers[int(np.argmin(per_hour))]
        default = min(per_hour)
        award = min(
            p * (1.0 + o.indirect_cost_rate)
            for p, o in zip(per_hour, offers, strict=True)
        )
        label = cheapest.label if cheapest is not None else ""
        whose = "the catalog's" if from_catalog else "the scenario's"
        source = (
            f"{whose} cheapest on-demand price per reference hour ({label}, "
            f"${default:.2f}; ${award:.2f} with F&A in the award view): the cost "
            "of renting that work instead; unserved work emits what that hour "
            "emits"
        )
    else:
        cheapest, default, award = None, 0.0, 0.0
        source = (
            "no cloud offer of the reference accelerator: work left is free and "
            "emits nothing"
        )
    delay = rule.delay_usd_per_reference_hour
    unserved = rule.unserved_usd_per_reference_hour
    co2e = rule.unserved_co2e_kg_per_reference_hour
    basis = source if delay is None or unserved is None or co2e is None else "scenario"
    return ServiceCosts(
        delay_usd_per_reference_hour=default if delay is None else delay,
        unserved_usd_per_reference_hour=default if unserved is None else unserved,
        basis=basis,
        award_delay_usd_per_reference_hour=award if delay is None else delay,
        award_unserved_usd_per_reference_hour=award if unserved is None else unserved,
        reference_offer=cheapest,
        unserved_co2e_kg_per_reference_hour=co2e,
    )


def _catalog_cheapest_reference_offer(
    scenario: Scenario, catalog: Catalog
) -> ResolvedOffer | None:
    """Cheapest default on-demand catalog offer of the reference accelerator."""
    offers = catalog.default_cloud_offers()
    reference = scenario.demand.reference_accelerator
    same = offers[offers["accelerator_model"] == reference]
    if same.empty:
        return None
    per_hour = same["on_demand_usd_per_hour"] / same["accelerator_count"]
    best = same.iloc[int(np.argmin(per_hour.to_numpy()))]
    label = f"{best['provider']} {best['region']} {best['instance_type']}"
    offer = CloudStrategy(
        name=label,
        provider=str(best["provider"]),
        region=str(best["region"]),
        instance_type=str(best["instance_type"]),
    )
    return resolve_offer(offer, scenario, catalog)


def resolve(scenario: Scenario, catalog: Catalog | None = None) -> ResolvedScenario:
    """Resolve a scenario against a catalog: every lookup, once.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays; the shipped one by default.

    Returns
    -------
    ResolvedScenario
        Typed inputs for the arithmetic.

    Raises
    ------
    ResolutionError
        With one line per unknown catalog entry or unreadable job log.
    """
    from planner.overlays import check_overlays_applied

    chosen = catalog if catalog is not None else Catalog()
    try:
        check_overlays_applied(scenario, chosen)
    except ValueError as error:
        raise ResolutionError(list(getattr(error, "problems", [str(error)]))) from None
    return _resolve(scenario, chosen)


@lru_cache(maxsize=16)
def _resolve(scenario: Scenario, catalog: Catalog) -> ResolvedScenario:
    """Bounded cache keyed by the (hashable, frozen) scenario and catalog."""
    problems: list[str] = []
    strategies: list[ResolvedStrategy] = []
    for strategy in scenario.strategies:
        try:
            if isinstance(strategy, CloudStrategy):
                strategies.append(resolve_cloud_strategy(strategy, scenario, catalog))
            else:
                strategies.append(resolve_owned_strategy(strategy, scenario, catalog))
        except ResolutionError as error:
            problems.extend(error.problems)
    try:
        _reference_throughput(catalog, scenario.demand.reference_accelerator)
    except ResolutionError as error:
        problems.extend(error.problems)
    except LookupError as error:
        problems.append(f"demand.reference_accelerator: {str(error).strip(chr(39))}")
    if problems:
        raise ResolutionError(list(dict.fromkeys(problems)))
    institution = scenario.institution
    n = scenario.horizon_years
    resolved_strategies = tuple(strategies)
    service = _service_costs(scenario, resolved_strategies, catalog)
    assumptions = [
        (f"{s.name}", src) for s in resolved_strategies for src in _sources(s)
    ]
    assumptions.append(("cost of late or unserved work", service.basis))
    _, _, site_sources, warnings = site_values(scenario, catalog)
    assumptions.extend(site_sources)
    warnings.extend(w for s in resolved_strategies for w in _offer_warnings(s))
    warnings.extend(_stale_catalogs(scenario, catalog))
    if any(cloud.price_change_per_year is None for cloud in _clouds(scenario)):
        trend = default_cloud_trend(catalog)
        assumptions.append(
            (
                "cloud price trend of a fixed SKU",
                f"{trend.annual_change_real:+.1%} a year real (range "
                f"{trend.low_real:+.1%} to {trend.high_real:+.1%}; {trend.source})",
            )
        )
    unsized = ResolvedScenario(
        scenario=scenario,
        catalog=catalog,
        demand=scenario_demand(scenario),
        site=resolve_site(scenario, catalog),
        institution=ResolvedInstitution(
            indirect_cost_rate=institution.indirect_cost_rate,
            equipment_threshold_usd=institution.equipment_threshold_usd,
            power_paid_by=institution.power_paid_by,
            hosting_paid_by=institution.hosting_paid_by,
            mtdc_exclusions=tuple(institution.mtdc_exclusions),
        ),
        service=service,
        strategies=resolved_strategies,
        discount=_frozen(
            discount_factors(scenario.real_discount_rate, np.arange(n + 1.0))
        ),
        assumptions=tuple(assumptions),
        warnings=tuple(warnings),
    )
    if not any(getattr(s, "sized", False) for s in resolved_strategies):
        return unsized
    from planner.sizing import size_owned_strategies  # uses the engine's arithmetic

    return size_owned_strategies(unsized)


def _stale_catalogs(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Catalogs older than 180 days that this scenario reads (cloud: its providers)."""
    providers = {c.provider for c in _clouds(scenario) if c.provider is not None}
    lines = []
    for line in staleness_warnings(catalog):
        if line.startswith("cloud_prices ("):
            provider = line.removeprefix("cloud_prices (").split(")", 1)[0]
            if provider not in providers:
                continue
        lines.append(line)
    return lines


def _clouds(scenario: Scenario) -> list[CloudStrategy]:
    """Every cloud strategy and burst of a scenario."""
    found: list[CloudStrategy] = []
    for strategy in scenario.strategies:
        if isinstance(strategy, CloudStrategy):
            found.append(strategy)
        burst = getattr(strategy, "burst", None)
        if isinstance(burst, CloudStrategy):
            found.append(burst)
    return found


def _offer_warnings(strategy: ResolvedStrategy) -> tuple[str, ...]:
    if isinstance(strategy, ResolvedCloudStrategy):
        return strategy.offer.warnings
    return strategy.burst.offer.warnings if strategy.burst is not None else ()


def _sources(strategy: ResolvedStrategy) -> tuple[str, ...]:
    if isinstance(strategy, ResolvedCloudStrategy):
        return strategy.offer.sources
    burst = strategy.burst.offer.sources if strategy.burst is not None else ()
    return (*strategy.server.sources, *burst)
