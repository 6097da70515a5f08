"""Year-by-year cash flows and emissions of every strategy of a scenario.

Timing convention (as ``numpy_financial.npv``): year 0 is the start of the
horizon, when the first purchases are paid (t = 0, discount factor 1). Running
costs of year k (k = 1..N) are paid at the end of year k and discounted by
:math:`(1 + r)^{-k}`. Refresh purchases happen at the end of a vintage's life
(t = purchase + lifetime); resale value is received when a vintage retires or at
the end of the horizon, valued at its age then. No annuity runs past the horizon
and nothing is discounted twice (the pitfalls recorded for oemof-solph 0.5.2).
Money is real (inflation-free) USD of the scenario's ``currency_year``; the
discount rate is real.

Work is measured in reference accelerator-hours; an accelerator with relative
throughput ``q`` delivers ``q`` reference hours per hour. Every strategy serves
the same demand; what an owned cluster cannot serve either bursts to the cloud
(hybrid) or waits for spare hours in the same year, and what still cannot be
served is reported as unserved, never hidden.

The core works on arrays with a leading batch axis (``levels`` of shape
``(batch, years, blocks)``) so that break-even sweeps and Monte Carlo evaluate
many demands in one vectorised call; :func:`tco_table` and :func:`evaluate`
wrap it into tidy DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import defaults, demand
from planner.scenario import (
    CloudStrategy,
    HybridStrategy,
    OnPremStrategy,
    Scenario,
    SharedStrategy,
)
from pricing import catalog
from pricing.finance import capital_recovery_factor, real_usd
from pricing.units import (
    HOURS_PER_YEAR,
    KILOGRAMS_PER_TONNE,
    WATTS_PER_KILOWATT,
    scalar,
)

FloatArray = npt.NDArray[np.float64]

MONTHS_PER_YEAR = 12.0
"""Calendar months in a year. [month/year]"""

COMMITMENT_TERMS_YEARS = {"committed_1y": 1, "committed_3y": 3}
"""Term of each commitment purchase model. [years]"""

COST_COLUMNS = (
    "strategy",
    "kind",
    "year",
    "calendar_year",
    "category",
    "payer",
    "cost_usd",
    "discounted_cost_usd",
    "energy_kwh",
    "co2e_kg",
    "co2e_scope",
)
"""Columns of :func:`tco_table`, one row per strategy x year x category."""


class ResolutionError(ValueError):
    """A strategy names catalog entries that do not exist, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


# --- resolved inputs ---------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCloud:
    """A cloud strategy with every number looked up (catalog or override)."""

    accelerator_model: str
    on_demand_usd_per_accelerator_hour: float
    spot_usd_per_accelerator_hour: float | None
    relative_throughput: float
    power_kw_per_accelerator: float
    pue: float
    grid_co2e_g_per_kwh: float
    embodied_co2e_kg_per_accelerator_hour: float
    commitment_discount: float
    commitment_term_years: int
    committed_accelerators: float


@dataclass(frozen=True)
class ResolvedServer:
    """An on-premises server specification with every number looked up."""

    server: str
    accelerators_per_server: float
    server_price_usd: float
    cluster_overhead_fraction: float
    relative_throughput: float
    idle_power_w: float
    max_power_w: float
    embodied_co2e_kg: float


def _row_dict(row: pd.Series) -> dict[str, object]:
    return {str(key): value for key, value in row.items()}


@cache
def _accelerator_row(model: str) -> dict[str, object]:
    """Shipped catalog row of an accelerator (cached: catalogs are immutable)."""
    return _row_dict(catalog.accelerator(model))


@cache
def _server_row(name: str) -> dict[str, object]:
    return _row_dict(catalog.server(name))


@cache
def _cloud_offer_row(
    provider: str, region: str, instance_type: str
) -> dict[str, object]:
    return _row_dict(catalog.cloud_offer(provider, region, instance_type))


@cache
def _first_server_with(accelerator_model: str) -> dict[str, object] | None:
    servers = catalog.load_catalog("servers")
    same_chip = servers[servers["accelerator_model"] == accelerator_model]
    return None if same_chip.empty else _row_dict(same_chip.iloc[0])


@cache
def _region_grid(provider: str, region: str) -> float:
    return catalog.grid_intensity_co2e_g_per_kwh(provider=provider, cloud_region=region)


@cache
def _provider_pue(provider: str) -> float:
    return catalog.pue(provider)


@cache
def _commitment_discount(provider: str, term_years: int) -> float:
    return _number(
        catalog.commitment_discount(provider, term_years)["discount_fraction"]
    )


def _reference_throughput(reference_accelerator: str) -> float:
    row = _accelerator_row(reference_accelerator)
    value = _float_or_none(row.get("relative_throughput"))
    if value is None:
        msg = (
            f"demand.reference_accelerator: {reference_accelerator!r} has no "
            "relative_throughput in the accelerators catalog"
        )
        raise ResolutionError([msg])
    return value


def _relative_throughput(
    accelerator_model: str, reference_accelerator: str, override: float | None
) -> float:
    if override is not None:
        return override
    value = _float_or_none(
        _accelerator_row(accelerator_model).get("relative_throughput")
    )
    if value is None:
        msg = (
            f"{accelerator_model} has no relative_throughput in the catalog: set "
            "relative_throughput on the strategy (e.g. from your own benchmark)"
        )
        raise ResolutionError([msg])
    return value / _reference_throughput(reference_accelerator)


def _number(value: object) -> float:
    return float(str(value))


def _float_or_none(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(str(value))


def _accelerator_power_kw(accelerator_model: str) -> float:
    """Server power at load per accelerator: a catalog server of that chip, or TDP."""
    first = _first_server_with(accelerator_model)
    if first is not None:
        return _number(first["max_power_w"]) / _number(first["accelerator_count"]) / 1e3
    tdp_w = _float_or_none(_accelerator_row(accelerator_model).get("tdp_w"))
    if tdp_w is None:
        msg = f"{accelerator_model} has no TDP in the catalog to estimate its power"
        raise ResolutionError([msg])
    return tdp_w * defaults.HOST_POWER_FACTOR / WATTS_PER_KILOWATT


def _accelerator_embodied_kg(accelerator_model: str, power_host_share: float) -> float:
    """Embodied CO2e of one accelerator with its share of the host server."""
    first = _first_server_with(accelerator_model)
    if first is not None:
        return _number(first["embodied_co2e_kg"]) / _number(first["accelerator_count"])
    card = _float_or_none(_accelerator_row(accelerator_model).get("embodied_co2e_kg"))
    card = defaults.EMBODIED_PER_ACCELERATOR_CO2E_KG if card is None else card
    # An 8-accelerator host is the common case; its base spread over 8 slots.
    return card + defaults.EMBODIED_SERVER_BASE_CO2E_KG * power_host_share


def resolve_cloud(
    strategy: CloudStrategy, scenario: Scenario, *, sizing_hourly: FloatArray
) -> ResolvedCloud:
    """Look up a cloud strategy's prices, power, carbon and commitment size.

    Parameters
    ----------
    strategy : CloudStrategy
        The strategy (catalog offer or quoted rate).
    scenario : Scenario
        For the reference accelerator and site defaults.
    sizing_hourly : numpy.ndarray
        First-year hourly demand the strategy serves, for the default commitment
        size (screening curve). [reference accelerators]

    Returns
    -------
    ResolvedCloud
        Every number the cost model needs.

    Raises
    ------
    ResolutionError
        If a named offer, accelerator or region is unknown.
    """
    spot: float | None = strategy.spot_usd_per_accelerator_hour
    grid = strategy.grid_co2e_g_per_kwh
    pue = strategy.pue
    discount = strategy.commitment_discount
    try:
        if strategy.instance_type is not None:
            offer = _cloud_offer_row(
                str(strategy.provider), str(strategy.region), strategy.instance_type
            )
            accelerator_model = str(offer["accelerator_model"])
            count = _number(offer["accelerator_count"])
            on_demand = _float_or_none(offer.get("on_demand_usd_per_hour"))
            if strategy.usd_per_accelerator_hour is not None:
                per_hour = strategy.usd_per_accelerator_hour
            elif on_demand is None:
                msg = (
                    f"{strategy.name}: {strategy.instance_type} has no on-demand "
                    "price in the catalog; give usd_per_accelerator_hour"
                )
                raise ResolutionError([msg])
            else:
                per_hour = _in_scenario_usd(on_demand / count, offer, scenario)
            if spot is None:
                spot_instance = _float_or_none(offer.get("spot_usd_per_hour"))
                spot = (
                    None
                    if spot_instance is None
                    else _in_scenario_usd(spot_instance / count, offer, scenario)
                )
            if grid is None:
                grid = _region_grid(str(strategy.provider), str(strategy.region))
            if pue is None:
                pue = _provider_pue(str(strategy.provider))
            term = COMMITMENT_TERMS_YEARS.get(strategy.purchase, 0)
            if discount is None and term:
                discount = _commitment_discount(str(strategy.provider), term)
        else:
            accelerator_model = str(strategy.accelerator_model)
            _accelerator_row(accelerator_model)  # unknown model: clear error
            per_hour = float(strategy.usd_per_accelerator_hour or 0.0)
        relative = _relative_throughput(
            accelerator_model,
            scenario.demand.reference_accelerator,
            strategy.relative_throughput,
        )
        power_kw = _accelerator_power_kw(accelerator_model)
        embodied_kg = _accelerator_embodied_kg(accelerator_model, 1.0 / 8.0)
    except (KeyError, LookupError, ValueError) as error:
        if isinstance(error, ResolutionError):
            raise
        problems = getattr(error, "problems", None) or [str(error).strip("'\"")]
        raise ResolutionError([f"{strategy.name}: {p}" for p in problems]) from None
    if strategy.purchase == "spot" and spot is None:
        msg = (
            f"{strategy.name}: no spot price for this offer; give "
            "spot_usd_per_accelerator_hour"
        )
        raise ResolutionError([msg])
    term = COMMITMENT_TERMS_YEARS.get(strategy.purchase, 0)
    discount = defaults.COMMITMENT_DISCOUNT if discount is None else discount
    committed = 0.0
    if term:
        if strategy.committed_accelerators is not None:
            committed = float(strategy.committed_accelerators)
        else:
            # Screening curve: commit the capacity busy more than (1 - discount)
            # of the hours (methods notes 1.3), in whole accelerators.
            level = demand.level_exceeded(sizing_hourly, 1.0 - discount)
            committed = float(math.floor(level / relative))
    return ResolvedCloud(
        accelerator_model=accelerator_model,
        on_demand_usd_per_accelerator_hour=per_hour,
        spot_usd_per_accelerator_hour=spot,
        relative_throughput=relative,
        power_kw_per_accelerator=power_kw,
        pue=float(pue if pue is not None else defaults.PUE_UNIVERSITY_MACHINE_ROOM),
        grid_co2e_g_per_kwh=float(
            grid if grid is not None else defaults.GRID_CO2E_G_PER_KWH_WORLD_2024
        ),
        embodied_co2e_kg_per_accelerator_hour=embodied_kg
        / (
            defaults.PROVIDER_LIFETIME_YEARS
            * HOURS_PER_YEAR
            * defaults.PROVIDER_UTILISATION
        ),
        commitment_discount=discount,
        commitment_term_years=term,
        committed_accelerators=committed,
    )


def _in_scenario_usd(
    amount_usd: float, row: dict[str, object], scenario: Scenario
) -> float:
    """Convert a catalog amount from its row's currency year (CPI-U)."""
    year = _float_or_none(row.get("currency_year"))
    if year is None:
        return amount_usd
    return scalar(real_usd(amount_usd, int(year), scenario.currency_year))


def _override(value: float | None, catalog_value: object) -> float:
    return float(value) if value is not None else float(str(catalog_value))


def resolve_server(strategy: OnPremStrategy, scenario: Scenario) -> ResolvedServer:
    """Look up an on-premises strategy's server price, power and carbon.

    Parameters
    ----------
    strategy : OnPremStrategy
        The strategy; its overrides (a vendor quote) win over the catalog.
    scenario : Scenario
        For the reference accelerator.

    Returns
    -------
    ResolvedServer
        Every number the cost model needs.

    Raises
    ------
    ResolutionError
        If the server or its accelerator is unknown to the catalog.
    """
    try:
        row = _server_row(strategy.server)
        relative = _relative_throughput(
            str(row["accelerator_model"]),
            scenario.demand.reference_accelerator,
            strategy.relative_throughput,
        )
    except (KeyError, LookupError, ValueError) as error:
        if isinstance(error, ResolutionError):
            raise ResolutionError(
                [f"{strategy.name}: {p}" for p in error.problems]
            ) from None
        problems = getattr(error, "problems", None) or [str(error).strip("'\"")]
        raise ResolutionError([f"{strategy.name}: {p}" for p in problems]) from None
    # A quote is in the scenario's money; a catalog price in its row's currency year.
    price = strategy.server_price_usd or _in_scenario_usd(
        _number(row["server_price_usd"]), row, scenario
    )
    overhead = strategy.cluster_overhead_fraction
    if overhead is None:
        overhead = _float_or_none(row.get("cluster_overhead_fraction")) or 0.0
    return ResolvedServer(
        server=strategy.server,
        accelerators_per_server=_number(row["accelerator_count"]),
        server_price_usd=float(price),
        cluster_overhead_fraction=float(overhead),
        relative_throughput=relative,
        idle_power_w=_override(strategy.idle_power_w, row["idle_power_w"]),
        max_power_w=_override(strategy.max_power_w, row["max_power_w"]),
        embodied_co2e_kg=_override(strategy.embodied_co2e_kg, row["embodied_co2e_kg"]),
    )


# --- the ledger ----------------------------------------------------------------------


@dataclass
class Ledger:
    """Cash and emission flows of one strategy, by category, over years 0..N.

    Every array has shape ``(batch, years + 1)``.
    """

    batch: int
    years: int
    rows: list[tuple[str, str, str, FloatArray, FloatArray, FloatArray]] = field(
        default_factory=list
    )
    stats: dict[str, FloatArray] = field(default_factory=dict)

    def zeros(self) -> FloatArray:
        """Return an all-zero flow array."""
        return np.zeros((self.batch, self.years + 1))

    def running(self, per_year: FloatArray) -> FloatArray:
        """Place values of running years 1..N (shape (..., N)) into a flow array."""
        flow = self.zeros()
        flow[:, 1:] = per_year
        return flow

    def add(
        self,
        category: str,
        *,
        cost_usd: FloatArray | None = None,
        energy_kwh: FloatArray | None = None,
        co2e_kg: FloatArray | None = None,
        payer: str = "project",
        scope: str = "",
    ) -> None:
        """Record one category's flows (missing ones are zero)."""
        zero = self.zeros()
        self.rows.append(
            (
                category,
                payer,
                scope,
                zero + (0.0 if cost_usd is None else cost_usd),
                zero + (0.0 if energy_kwh is None else energy_kwh),
                zero + (0.0 if co2e_kg is None else co2e_kg),
            )
        )

    def total_cost_usd(self, *, payer: str | None = None) -> FloatArray:
        """Sum of costs per year, optionally for one payer only."""
        total = self.zeros()
        for category, who, _, cost, _, _ in self.rows:
            del category
            if payer is None or who == payer:
                total = total + cost
        return total


def _year_factor(change_per_year: float, years: int) -> FloatArray:
    """(1 + g)^(k - 1) for running years k = 1..N: year 1 is at today's level."""
    return (1.0 + change_per_year) ** np.arange(years, dtype=float)


def _grid_path(scenario: Scenario, initial_co2e_g_per_kwh: float) -> FloatArray:
    return initial_co2e_g_per_kwh * _year_factor(
        scenario.site.grid_change_per_year, scenario.horizon_years
    )


def _served_ref_hours(levels: FloatArray, hours: FloatArray) -> FloatArray:
    """Reference hours in each (batch, year): sum over blocks of level x hours."""
    return np.asarray((levels * hours).sum(axis=-1), dtype=float)


def cloud_indirect_cost_rate(strategy: CloudStrategy, scenario: Scenario) -> float:
    """F&A rate that applies to a cloud offer's services.

    Cloud compute bought as a service is in MTDC (2 CFR 200.1) and bears the
    negotiated rate unless the institution waives it; an offer may carry its own
    rate (0 for NSF CloudBank, methods notes 5.4).

    Parameters
    ----------
    strategy : CloudStrategy
        The offer.
    scenario : Scenario
        The institution's rules.

    Returns
    -------
    float
        Rate applied to compute, storage and egress. [-]
    """
    if strategy.indirect_cost_rate is not None:
        return strategy.indirect_cost_rate
    institution = scenario.institution
    if institution.cloud_exempt_from_indirect:
        return 0.0
    return institution.indirect_cost_rate


def cloud_flows(
    ledger: Ledger,
    strategy: CloudStrategy,
    resolved: ResolvedCloud,
    scenario: Scenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    price_multiplier: float = 1.0,
) -> None:
    """Add a cloud strategy's flows for the demand it serves to ``ledger``.

    On-demand and spot pay per hour used (spot re-runs interrupted work);
    commitments pay every hour of each whole term that fits in the horizon and
    send the overflow to on-demand. F&A applies to cloud services (2 CFR 200.1
    MTDC) unless the institution exempts them. Operational CO2e uses the
    provider's PUE and the region's grid; embodied CO2e is the provider's hardware
    amortised over its service life and utilisation (methods notes 7.3).

    Parameters
    ----------
    ledger : Ledger
        Receives the flows.
    strategy : CloudStrategy
        The cloud strategy (purchase model, storage, egress).
    resolved : ResolvedCloud
        Its looked-up numbers.
    scenario : Scenario
        Horizon, institution and grid trend.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand sent to the cloud in each block. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours in each block. [h]
    price_multiplier : float, default 1
        Scales every compute price (for break-even price ratios). [-]
    """
    n = scenario.horizon_years
    trend = _year_factor(strategy.price_change_per_year, n) * price_multiplier
    rel = resolved.relative_throughput
    on_demand_rate = resolved.on_demand_usd_per_accelerator_hour * trend
    ref_hours = _served_ref_hours(levels, hours)
    compute = np.zeros_like(ref_hours)
    used_accelerator_hours = ref_hours / rel
    if strategy.purchase == "on_demand":
        compute = used_accelerator_hours * on_demand_rate
        ledger.add("cloud_on_demand", cost_usd=ledger.running(compute))
    elif strategy.purchase == "spot":
        spot_rate = float(resolved.spot_usd_per_accelerator_hour or 0.0) * trend
        used_accelerator_hours = used_accelerator_hours * (
            1.0 + strategy.spot_interruption_overhead
        )
        compute = used_accelerator_hours * spot_rate
        ledger.add("cloud_spot", cost_usd=ledger.running(compute))
    else:
        term = resolved.commitment_term_years
        covered = np.arange(n) < (n // term) * term  # whole terms only
        # Each term pays the price of the year it was signed, for its whole term.
        signed_rate = on_demand_rate[(np.arange(n) // term) * term]
        capacity_ref = resolved.committed_accelerators * rel
        within = _served_ref_hours(np.minimum(levels, capacity_ref), hours)
        within = np.where(covered, within, 0.0)
        overflow_ref = ref_hours - within
        committed_cost = (
            resolved.committed_accelerators
            * HOURS_PER_YEAR
            * signed_rate
            * (1.0 - resolved.commitment_discount)
            * covered
        )
        overflow_cost = overflow_ref / rel * on_demand_rate
        ledger.add(
            f"cloud_commitment_{term}y",
            cost_usd=ledger.running(np.broadcast_to(committed_cost, ref_hours.shape)),
        )
        ledger.add("cloud_on_demand", cost_usd=ledger.running(overflow_cost))
        compute = committed_cost + overflow_cost
        ledger.stats["committed_accelerators"] = np.full(
            ledger.batch, resolved.committed_accelerators
        )
    storage = np.full(n, strategy.storage_tb * strategy.storage_usd_per_tb_month)
    storage = storage * MONTHS_PER_YEAR
    egress = np.full(n, strategy.egress_tb_per_year * strategy.egress_usd_per_tb)
    if strategy.storage_tb:
        ledger.add("cloud_storage", cost_usd=ledger.running(storage))
    if strategy.egress_tb_per_year:
        ledger.add("cloud_egress", cost_usd=ledger.running(egress))
    rate = cloud_indirect_cost_rate(strategy, scenario)
    if rate:
        services = compute + storage + egress
        ledger.add("indirect_costs", cost_usd=ledger.running(services * rate))
    energy = used_accelerator_hours * resolved.power_kw_per_accelerator * resolved.pue
    grid = _grid_path(scenario, resolved.grid_co2e_g_per_kwh)
    ledger.add(
        "cloud_energy",
        energy_kwh=ledger.running(energy),
        co2e_kg=ledger.running(energy * grid / 1e3),
        payer="provider",
        scope="operational",
    )
    ledger.add(
        "cloud_embodied",
        co2e_kg=ledger.running(
            used_accelerator_hours * resolved.embodied_co2e_kg_per_accelerator_hour
        ),
        payer="provider",
        scope="embodied",
    )
    ledger.stats["cloud_reference_hours"] = (
        ledger.stats.get("cloud_reference_hours", 0.0) + ref_hours
    )


def _vintages(strategy: OnPremStrategy, horizon_years: int) -> list[int]:
    """Purchase times of the server vintages: first buy, then each refresh."""
    times = [strategy.purchase_year]
    while strategy.refresh and times[-1] + strategy.lifetime_years < horizon_years:
        times.append(times[-1] + strategy.lifetime_years)
    return times


def onprem_flows(
    ledger: Ledger,
    strategy: OnPremStrategy,
    resolved: ResolvedServer,
    scenario: Scenario,
    levels: FloatArray,
    hours: FloatArray,
) -> FloatArray:
    """Add an owned cluster's flows to ``ledger``; return the overflow demand.

    Capex (servers plus network/storage/integration) is paid when each vintage is
    bought; support (a share of capex), staff and hosting (per kW of peak power)
    are paid in running years while servers are active; energy follows the linear
    utilisation power curve times PUE (idle servers still draw power); resale
    value is received at retirement or the horizon's end (geometric decline).
    F&A is charged on capex only when a server costs less than the equipment
    threshold (then it is a supply, in MTDC: 2 CFR 200.1).

    Parameters
    ----------
    ledger : Ledger
        Receives the flows.
    strategy : OnPremStrategy
        Servers, life, refresh and opex settings.
    resolved : ResolvedServer
        Looked-up server numbers.
    scenario : Scenario
        Horizon, site and institution.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand in each block. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours in each block. [h]

    Returns
    -------
    numpy.ndarray of shape (batch, years, blocks)
        Demand the cluster could not serve in the hour it arrived. [reference
        accelerators]
    """
    n = scenario.horizon_years
    servers = float(strategy.servers)
    accelerators = servers * resolved.accelerators_per_server
    vintages = _vintages(strategy, n)
    running_year = np.arange(1, n + 1)
    active = np.zeros(n, dtype=bool)
    capex = ledger.zeros()
    support = np.zeros(n)
    salvage = ledger.zeros()
    embodied = ledger.zeros()
    server_embodied_kg = servers * resolved.embodied_co2e_kg
    indirect = ledger.zeros()
    unit_is_supply = (
        resolved.server_price_usd < scenario.institution.equipment_threshold_usd
    )
    for bought in vintages:
        price_factor = (1.0 + strategy.capex_change_per_year) ** bought
        servers_usd = servers * resolved.server_price_usd * price_factor
        vintage_capex = servers_usd * (1.0 + resolved.cluster_overhead_fraction)
        capex[:, bought] += vintage_capex
        if unit_is_supply:
            indirect[:, bought] += (
                vintage_capex * scenario.institution.indirect_cost_rate
            )
        alive = (running_year > bought) & (
            running_year <= bought + strategy.lifetime_years
        )
        active |= alive & (servers > 0)
        support += alive * vintage_capex * strategy.support_fraction_per_year
        retire = min(bought + strategy.lifetime_years, n)
        if strategy.salvage == "declining":
            age = retire - bought
            salvage[:, retire] -= (
                servers_usd * (1.0 - strategy.annual_value_decline) ** age
            )
        if strategy.embodied_accounting == "at_purchase":
            embodied[:, bought] += server_embodied_kg
        else:
            embodied[:, 1:] += alive * server_embodied_kg / strategy.lifetime_years
    ledger.add("capex", cost_usd=capex)
    if unit_is_supply and scenario.institution.indirect_cost_rate:
        ledger.add("indirect_costs", cost_usd=indirect)
    ledger.add("support", cost_usd=ledger.running(support))
    staff = active * strategy.staff_fte * strategy.staff_usd_per_fte_year
    if strategy.staff_fte:
        ledger.add("staff", cost_usd=ledger.running(staff))
    max_it_kw = servers * resolved.max_power_w / WATTS_PER_KILOWATT
    hosting = active * max_it_kw * strategy.hosting_usd_per_kw_month * MONTHS_PER_YEAR
    if strategy.hosting_usd_per_kw_month:
        ledger.add(
            "hosting",
            cost_usd=ledger.running(hosting),
            payer=scenario.institution.hosting_paid_by,
        )
    if strategy.salvage == "declining":
        ledger.add("salvage", cost_usd=salvage)

    # Serving demand: capacity in reference accelerators, per running year.
    capacity_ref = (
        accelerators * resolved.relative_throughput * strategy.availability * active
    )
    cap = capacity_ref[None, :, None]
    served_now = np.minimum(levels, cap)
    overflow = levels - served_now
    served = _served_ref_hours(served_now, hours)
    ledger.stats["capacity_reference_hours"] = np.broadcast_to(
        capacity_ref * HOURS_PER_YEAR, served.shape
    ).copy()
    ledger.stats["onprem_served_now"] = served
    # Energy: idle draw all year while active, plus the dynamic part per
    # accelerator-hour of work (linear power curve, exact for it).
    idle_kwh = active * servers * resolved.idle_power_w * HOURS_PER_YEAR / 1e3
    dynamic_kw_per_accelerator = (
        (resolved.max_power_w - resolved.idle_power_w)
        / resolved.accelerators_per_server
        / WATTS_PER_KILOWATT
    )
    ledger.stats["_dynamic_kw_per_ref"] = np.full(
        ledger.batch, dynamic_kw_per_accelerator / resolved.relative_throughput
    )
    ledger.stats["_idle_kwh"] = np.broadcast_to(idle_kwh, served.shape).copy()
    ledger.stats["installed_accelerators"] = np.full(ledger.batch, accelerators)
    ledger.add("embodied", co2e_kg=embodied, payer="project", scope="embodied")
    return overflow


def _onprem_energy(
    ledger: Ledger, scenario: Scenario, served_ref_hours: FloatArray
) -> None:
    """Electricity of the owned cluster for the work it finally served."""
    site = scenario.site
    n = scenario.horizon_years
    it_kwh = (
        ledger.stats["_idle_kwh"]
        + served_ref_hours * ledger.stats["_dynamic_kw_per_ref"][:, None]
    )
    facility_kwh = it_kwh * site.pue
    tariff = site.electricity_usd_per_kwh * _year_factor(site.tariff_change_per_year, n)
    grid = _grid_path(scenario, site.grid_co2e_g_per_kwh)
    ledger.add(
        "electricity",
        cost_usd=ledger.running(facility_kwh * tariff),
        energy_kwh=ledger.running(facility_kwh),
        co2e_kg=ledger.running(facility_kwh * grid / 1e3),
        payer=scenario.institution.power_paid_by,
        scope="operational",
    )


def _wait_for_spare_hours(
    ledger: Ledger, overflow: FloatArray, hours: FloatArray
) -> FloatArray:
    """Serve overflow in the same year's spare capacity; return what is left."""
    deferred = _served_ref_hours(overflow, hours)
    capacity_hours = ledger.stats["capacity_reference_hours"]
    spare = capacity_hours - ledger.stats["onprem_served_now"]
    caught_up = np.minimum(deferred, np.maximum(spare, 0.0))
    ledger.stats["deferred_reference_hours"] = caught_up
    unserved: FloatArray = deferred - caught_up
    return unserved


# --- demand of a scenario ------------------------------------------------------------


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


def scenario_demand(scenario: Scenario) -> DemandProfile:
    """Hourly demand of the scenario for each running year.

    From the synthetic shape, or from a job log / generated workload: then the
    log's hourly concurrency gives the shape (repeated to a year) and, when the
    scenario leaves the annual hours blank, the amount (mean concurrency x 8,760
    x the logged GPUs' relative throughput).

    Parameters
    ----------
    scenario : Scenario
        Its demand (annual hours, growth, shape or log) and horizon.

    Returns
    -------
    DemandProfile
        Levels of shape (years, 8760), unit hours, and the jobs when known.

    Raises
    ------
    ResolutionError
        If the job log cannot be read (one line per problem).
    """
    spec = scenario.demand
    if spec.joblog is None and spec.workload is None:
        return _demand_profile(
            float(spec.reference_hours_per_year or 0.0),
            spec.growth_per_year,
            spec.shape.model_dump_json(),
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
    first_year = spec.reference_hours_per_year
    if first_year is None:
        first_year = float(hourly.mean()) * HOURS_PER_YEAR * throughput
    annual = demand.annual_reference_hours(
        first_year, spec.growth_per_year, scenario.horizon_years
    )
    return DemandProfile(
        levels=demand.hourly_demand(annual, shape),
        hours=np.ones(shape.size),
        jobs=log.jobs,
        logged_throughput=throughput,
    )


def _job_log(path: str | None, kind: str | None, workload: str | None) -> Any:
    """Read (or generate) the jobs behind a scenario's demand, cached by file state."""
    from pathlib import Path

    if workload is not None:
        return _generated_workload(workload)
    file = Path(str(path))
    try:
        stat = file.stat()
    except OSError as error:
        raise ResolutionError(
            [f"demand.joblog.path: cannot read {file}: {error}"]
        ) from None
    try:
        return _read_job_log(str(file), kind, stat.st_mtime_ns, stat.st_size)
    except ValueError as error:
        raise ResolutionError([f"demand.joblog: {error}"]) from None


@cache
def _generated_workload(name: str) -> Any:
    from planner import joblog as joblogs

    return joblogs.generate_workload(joblogs.lisa_workload_spec())


@lru_cache(maxsize=8)
def _read_job_log(path: str, kind: str | None, mtime_ns: int, size: int) -> Any:
    # mtime and size are part of the key so an edited log is read again.
    del mtime_ns, size
    from planner import joblog as joblogs

    return joblogs.read_log(path, kind=kind)  # type: ignore[arg-type]


@cache
def _cached_shape(shape_json: str) -> FloatArray:
    from planner.scenario import DemandShape

    profile = demand.hourly_shape(DemandShape.model_validate_json(shape_json))
    profile.setflags(write=False)
    return profile


def _demand_profile(
    hours_per_year: float, growth: float, shape_json: str, years: int
) -> DemandProfile:
    annual = demand.annual_reference_hours(hours_per_year, growth, years)
    levels = demand.hourly_demand(annual, _cached_shape(shape_json))
    return DemandProfile(levels=levels, hours=np.ones(levels.shape[-1]))


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
        profiles[member.name] = _demand_profile(
            member.reference_hours_per_year,
            scenario.demand.growth_per_year,
            shape.model_dump_json(),
            scenario.horizon_years,
        )
    return profiles


def _shared_pool(strategy: SharedStrategy, scenario: Scenario) -> DemandProfile:
    """Pooled hourly demand: this project's plus every member's."""
    own = scenario_demand(scenario)
    levels = own.levels.copy()
    for profile in member_profiles(strategy, scenario).values():
        levels = levels + profile.levels
    return DemandProfile(levels=levels, hours=own.hours)


# --- strategies -----------------------------------------------------------------------


def strategy_ledger(
    strategy: CloudStrategy | OnPremStrategy,
    scenario: Scenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    cloud_price_multiplier: float = 1.0,
    sizing_hourly: FloatArray | None = None,
) -> Ledger:
    """Flows of one strategy serving a batch of demands.

    Parameters
    ----------
    strategy : CloudStrategy, OnPremStrategy, HybridStrategy or SharedStrategy
        The strategy.
    scenario : Scenario
        The scenario it belongs to.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demand served (for a shared strategy, the pooled demand). [reference
        accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    cloud_price_multiplier : float, default 1
        Scales cloud compute prices (break-even price ratios). [-]
    sizing_hourly : numpy.ndarray, optional
        Hourly demand used to size default commitments; the first year of
        ``levels[0]`` when omitted. [reference accelerators]

    Returns
    -------
    Ledger
        Flows by category with shape (batch, years + 1), plus statistics.
    """
    batch = levels.shape[0]
    ledger = Ledger(batch=batch, years=scenario.horizon_years)
    sizing = levels[0, 0] if sizing_hourly is None else sizing_hourly
    total_ref = _served_ref_hours(levels, hours)
    ledger.stats["demand_reference_hours"] = total_ref
    if isinstance(strategy, CloudStrategy):
        resolved = resolve_cloud(strategy, scenario, sizing_hourly=sizing)
        cloud_flows(
            ledger,
            strategy,
            resolved,
            scenario,
            levels,
            hours,
            price_multiplier=cloud_price_multiplier,
        )
        ledger.stats["delivered_reference_hours"] = total_ref
        ledger.stats["unserved_reference_hours"] = np.zeros_like(total_ref)
        return ledger
    server = resolve_server(strategy, scenario)
    overflow = onprem_flows(ledger, strategy, server, scenario, levels, hours)
    burst = (
        strategy.burst
        if isinstance(strategy, HybridStrategy | SharedStrategy)
        else None
    )
    waits = not (
        isinstance(strategy, HybridStrategy | SharedStrategy)
        and burst is not None
        and getattr(strategy, "overflow", "burst") == "burst"
    )
    if waits:
        unserved = _wait_for_spare_hours(ledger, overflow, hours)
        served_onprem = (
            ledger.stats["onprem_served_now"] + ledger.stats["deferred_reference_hours"]
        )
    else:
        assert burst is not None  # narrowed above
        overflow_hourly = overflow[0, 0]
        resolved = resolve_cloud(burst, scenario, sizing_hourly=overflow_hourly)
        cloud_flows(
            ledger,
            burst,
            resolved,
            scenario,
            overflow,
            hours,
            price_multiplier=cloud_price_multiplier,
        )
        unserved = np.zeros_like(total_ref)
        served_onprem = ledger.stats["onprem_served_now"]
    _onprem_energy(ledger, scenario, served_onprem)
    ledger.stats["onprem_reference_hours"] = served_onprem
    ledger.stats["unserved_reference_hours"] = unserved
    ledger.stats["delivered_reference_hours"] = total_ref - unserved
    return ledger


# --- tidy outputs ---------------------------------------------------------------


def _discount_factors(scenario: Scenario) -> FloatArray:
    years = np.arange(scenario.horizon_years + 1, dtype=float)
    factors: FloatArray = (1.0 + scenario.real_discount_rate) ** -years
    return factors


def _project_share(strategy: object, scenario: Scenario) -> float:
    """Share of a shared cluster's flows borne by this project (usage-based)."""
    if not isinstance(strategy, SharedStrategy):
        return 1.0
    own = scenario_demand(scenario).first_year_reference_hours
    total = own + sum(m.reference_hours_per_year for m in strategy.members)
    return own / total if total else 0.0


def _strategy_levels(
    strategy: object, scenario: Scenario
) -> tuple[FloatArray, FloatArray]:
    profile = (
        _shared_pool(strategy, scenario)
        if isinstance(strategy, SharedStrategy)
        else scenario_demand(scenario)
    )
    return profile.levels[None, :, :], profile.hours


@dataclass(frozen=True)
class Evaluation:
    """Everything :func:`evaluate` computes for a scenario."""

    scenario: Scenario
    table: pd.DataFrame
    """Tidy flows: one row per strategy x year x category (:data:`COST_COLUMNS`)."""
    summary: pd.DataFrame
    """One row per strategy: NPV, EAC, cost per reference hour, CO2e, use."""
    ledgers: dict[str, Ledger]
    """Raw per-strategy ledgers (batch of one), for break-even and reports."""


def evaluate(scenario: Scenario) -> Evaluation:
    """Project every strategy of a scenario year by year, in money and CO2e.

    Parameters
    ----------
    scenario : Scenario
        The planning question.

    Returns
    -------
    Evaluation
        The tidy flow table, the per-strategy summary and the raw ledgers.

    Raises
    ------
    ResolutionError
        If a strategy names unknown catalog entries (one line per problem).
    """
    discount = _discount_factors(scenario)
    frames = []
    ledgers: dict[str, Ledger] = {}
    summaries = []
    problems: list[str] = []
    for strategy in scenario.strategies:
        levels, hours = _strategy_levels(strategy, scenario)
        try:
            ledger = strategy_ledger(strategy, scenario, levels, hours)
        except ResolutionError as error:
            problems.extend(error.problems)
            continue
        share = _project_share(strategy, scenario)
        ledgers[strategy.name] = ledger
        frames.append(_ledger_frame(strategy.name, strategy.kind, ledger, share))
        row = _summary_row(strategy, scenario, ledger, share, discount)
        row |= _queue_waits(strategy, scenario, ledger)
        summaries.append(row)
    if problems:
        raise ResolutionError(problems)
    table = pd.concat(frames, ignore_index=True)
    table["calendar_year"] = scenario.start_year + table["year"]
    table["discounted_cost_usd"] = table["cost_usd"] * discount[table["year"]]
    table = table[list(COST_COLUMNS)]
    summary = pd.DataFrame(summaries)
    return Evaluation(scenario=scenario, table=table, summary=summary, ledgers=ledgers)


def _queue_waits(
    strategy: CloudStrategy | OnPremStrategy, scenario: Scenario, ledger: Ledger
) -> dict[str, float]:
    """Mean and 95th-percentile job waits on an owned cluster whose overflow waits.

    Only when the demand comes from jobs (a log or a generated workload): the
    first year's jobs are replayed on the installed accelerators (FIFO, with
    availability), run times scaled by the logged-to-installed throughput ratio.
    Cloud and bursting strategies do not queue (0 h); NaN when unknown.
    """
    nan = {"mean_wait_hours": float("nan"), "p95_wait_hours": float("nan")}
    profile = scenario_demand(scenario)
    if isinstance(strategy, CloudStrategy):
        return {"mean_wait_hours": 0.0, "p95_wait_hours": 0.0}
    bursts = isinstance(strategy, HybridStrategy) and strategy.overflow == "burst"
    if bursts:
        return {"mean_wait_hours": 0.0, "p95_wait_hours": 0.0}
    if profile.jobs is None or isinstance(strategy, SharedStrategy):
        return nan
    from planner import queueing

    server = resolve_server(strategy, scenario)
    gpus = int(ledger.stats["installed_accelerators"][0] * strategy.availability)
    jobs = profile.jobs
    if gpus < 1 or jobs.empty:
        return nan
    submit = jobs["submit"] if "submit" in jobs else jobs["start"]
    origin = submit.min()
    speed = profile.logged_throughput / server.relative_throughput
    table = pd.DataFrame(
        {
            "submit_hours": (submit - origin).dt.total_seconds() / 3600.0,
            "run_hours": (jobs["end"] - jobs["start"]).dt.total_seconds()
            / 3600.0
            * speed,
            "gpus": jobs["gpus"],
        }
    )
    table = table[table["gpus"] > 0]
    try:
        result = queueing.simulate_queue(table, gpus)
    except ValueError:
        return nan
    return {
        "mean_wait_hours": result.mean_wait_hours,
        "p95_wait_hours": result.p95_wait_hours,
    }


def _ledger_frame(name: str, kind: str, ledger: Ledger, share: float) -> pd.DataFrame:
    """Long table of one ledger (batch item 0), scaled by the project's share."""
    rows = len(ledger.rows)
    width = ledger.years + 1
    return pd.DataFrame(
        {
            "strategy": name,
            "kind": kind,
            "year": np.tile(np.arange(width), rows),
            "category": np.repeat([r[0] for r in ledger.rows], width),
            "payer": np.repeat([r[1] for r in ledger.rows], width),
            "cost_usd": np.concatenate([r[3][0] for r in ledger.rows]) * share,
            "energy_kwh": np.concatenate([r[4][0] for r in ledger.rows]) * share,
            "co2e_kg": np.concatenate([r[5][0] for r in ledger.rows]) * share,
            "co2e_scope": np.repeat([r[2] for r in ledger.rows], width),
        }
    )


def _summary_row(
    strategy: CloudStrategy | OnPremStrategy,
    scenario: Scenario,
    ledger: Ledger,
    share: float,
    discount: FloatArray,
) -> dict[str, object]:
    cost = ledger.total_cost_usd()[0] * share
    project_cost = ledger.total_cost_usd(payer="project")[0] * share
    npv = float((cost * discount).sum())
    co2e = sum(float(row[5][0].sum()) for row in ledger.rows) * share
    embodied = sum(float(r[5][0].sum()) for r in ledger.rows if r[2] == "embodied")
    energy = sum(float(row[4][0].sum()) for row in ledger.rows) * share
    delivered = ledger.stats["delivered_reference_hours"][0] * share
    discounted_delivered = float((delivered * discount[1:]).sum())
    capacity = ledger.stats.get("capacity_reference_hours")
    if capacity is not None and capacity[0].sum() > 0:
        onprem = ledger.stats["onprem_reference_hours"][0]
        utilisation = float(onprem.sum() / capacity[0].sum())
    else:
        utilisation = 1.0
    n = scenario.horizon_years
    return {
        "strategy": strategy.name,
        "kind": strategy.kind,
        "npv_usd": npv,
        "npv_project_usd": float((project_cost * discount).sum()),
        "total_nominal_usd": float(cost.sum()),
        "equivalent_annual_cost_usd": npv
        * scalar(capital_recovery_factor(scenario.real_discount_rate, n)),
        "cost_per_reference_hour_usd": npv / discounted_delivered
        if discounted_delivered
        else float("nan"),
        "delivered_reference_hours": float(delivered.sum()),
        "unserved_reference_hours": float(
            ledger.stats["unserved_reference_hours"][0].sum() * share
        ),
        "utilisation": utilisation,
        "energy_kwh": energy,
        "co2e_kg": co2e,
        "co2e_embodied_kg": embodied * share,
        "co2e_t": co2e / KILOGRAMS_PER_TONNE,
    }


def tco_table(scenario: Scenario) -> pd.DataFrame:
    """Tidy year-by-year flows of every strategy (see :func:`evaluate`).

    Parameters
    ----------
    scenario : Scenario
        The planning question.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COST_COLUMNS`; ``cost_usd`` is real USD of the scenario's
        currency year; ``discounted_cost_usd`` is its present value at year 0.
    """
    return evaluate(scenario).table


def cumulative_costs(table: pd.DataFrame) -> pd.DataFrame:
    """Cumulative nominal and discounted cost of each strategy by year.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`tco_table`.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``year``, ``calendar_year``, ``cost_usd``,
        ``discounted_cost_usd``, ``energy_kwh``, ``cumulative_usd``,
        ``cumulative_pv_usd``, ``co2e_kg`` and ``cumulative_co2e_kg``.
    """
    yearly = (
        table.groupby(["strategy", "year", "calendar_year"], sort=False)[
            ["cost_usd", "discounted_cost_usd", "energy_kwh", "co2e_kg"]
        ]
        .sum()
        .reset_index()
    )
    grouped = yearly.groupby("strategy", sort=False)
    yearly["cumulative_usd"] = grouped["cost_usd"].cumsum()
    yearly["cumulative_pv_usd"] = grouped["discounted_cost_usd"].cumsum()
    yearly["cumulative_co2e_kg"] = grouped["co2e_kg"].cumsum()
    return yearly


def depreciation_table(scenario: Scenario) -> pd.DataFrame:
    """Accounting view: depreciation of every owned vintage; never a cash flow.

    The purchase is cash once, in the year paid (:func:`tco_table`); this table
    spreads the same basis over the years for a budget office or a taxable
    member: straight line over the economic life, double declining balance
    switching to straight line, or MACRS 5-year (IRS Publication 946, Table A-1,
    half-year convention: six tax years). Tax-exempt owners should not let a tax
    shield favour owning (methods notes 5.2).

    Parameters
    ----------
    scenario : Scenario
        The scenario; only owned (on-premises, hybrid, shared) strategies appear.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``method``, ``vintage_year``, ``year`` (year after
        purchase whose depreciation it is), ``calendar_year``,
        ``depreciation_usd`` and ``book_value_usd`` (end of that year). [USD]
    """
    from pricing.finance import (
        declining_balance_schedule,
        macrs_half_year_schedule,
        straight_line_schedule,
    )

    rows = []
    for strategy in scenario.strategies:
        if not isinstance(strategy, OnPremStrategy):
            continue
        server = resolve_server(strategy, scenario)
        life = strategy.lifetime_years
        if strategy.depreciation == "straight_line":
            schedule = straight_line_schedule(life)
        elif strategy.depreciation == "declining_balance":
            schedule = declining_balance_schedule(life)
        else:
            schedule = macrs_half_year_schedule(5)
        for bought in _vintages(strategy, scenario.horizon_years):
            price_factor = (1.0 + strategy.capex_change_per_year) ** bought
            basis = (
                strategy.servers
                * server.server_price_usd
                * price_factor
                * (1.0 + server.cluster_overhead_fraction)
            )
            amounts = basis * schedule
            book = basis - np.cumsum(amounts)
            for offset, (amount, value) in enumerate(
                zip(amounts, book, strict=True), start=1
            ):
                rows.append(
                    {
                        "strategy": strategy.name,
                        "method": strategy.depreciation,
                        "vintage_year": bought,
                        "year": bought + offset,
                        "calendar_year": scenario.start_year + bought + offset,
                        "depreciation_usd": float(amount),
                        "book_value_usd": float(max(value, 0.0)),
                    }
                )
    columns = [
        "strategy",
        "method",
        "vintage_year",
        "year",
        "calendar_year",
        "depreciation_usd",
        "book_value_usd",
    ]
    return pd.DataFrame(rows, columns=columns)
