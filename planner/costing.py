"""Per-unit yearly cost and emission flows: the only place a cost formula is written.

Every answer of the planner is a plan (how many servers of each vintage, how many
committed instances, how many reference hours of each source per year) times the
flows of one unit of each decision, built here by calling the cited unit models
of :mod:`pricing` [1]_:

* one **server vintage** bought at ``t = b`` (:func:`server_vintage_flows`):
  installed capex (:func:`pricing.hardware.installed_capex_usd`), support,
  hosting and idle electricity while active (:func:`pricing.energy.
  utilisation_power_w`, :func:`pricing.energy.facility_energy_kwh`,
  :func:`pricing.energy.electricity_cost_usd`, :func:`pricing.emissions.
  operational_co2e_kg`), embodied CO2e, resale at retirement
  (:func:`pricing.hardware.resale_value_usd`) and its usable capacity;
* one **reference hour** of work in running year ``k`` on owned servers (the
  dynamic part of the power curve), on-demand or spot cloud (:func:`pricing.
  cloud.usd_per_accelerator_hour`, :func:`pricing.cloud.
  spot_effective_usd_per_hour`, :func:`pricing.cloud.cloud_cost_usd`), on
  committed capacity (energy only), delayed or unserved (:func:`work_rates`);
* one **committed instance** for a term from ``t = s`` at the price of the year
  it is signed (:func:`pricing.cloud.committed_usd_per_hour`, :func:`pricing.
  cloud.commitment_cost_usd`);
* a year of **staff**, storage and egress.

F&A (indirect costs) is a line of its own on every line in the modified total
direct cost base (2 CFR 200.1 MTDC), at the rate that applies to it
(:func:`pricing.finance.with_indirect_cost_usd`); which categories are in MTDC is
the table :data:`MTDC_CATEGORIES`. The two views of a cost (:func:`in_view`) are
written once, here.

Conventions (those of :mod:`planner.tco`): arrays over ``t = 0..N`` (length
``N + 1``); purchases at ``t = b``; running costs of year ``k`` at ``t = k``;
real USD of the scenario's currency year.

References
----------
.. [1] docs/methods.md, sections "Costing layer" and "Equal service".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner.resolve import (
    OwnedOps,
    ResolvedInstitution,
    ResolvedOffer,
    ResolvedServer,
    ResolvedSite,
    ServiceCosts,
)
from pricing.cloud import (
    cloud_cost_usd,
    commitment_cost_usd,
    committed_usd_per_hour,
    spot_effective_usd_per_hour,
    usd_per_accelerator_hour,
)
from pricing.emissions import operational_co2e_kg
from pricing.energy import (
    electricity_cost_usd,
    facility_energy_kwh,
    utilisation_power_w,
)
from pricing.finance import with_indirect_cost_usd
from pricing.hardware import installed_capex_usd, resale_value_usd
from pricing.units import HOURS_PER_YEAR, WATTS_PER_KILOWATT, scalar

FloatArray = npt.NDArray[np.float64]

MONTHS_PER_YEAR = 12.0
"""Calendar months in a year. [month/year]"""

Payer = Literal["project", "institution", "provider", "service", "service_award"]
"""Who bears a line: the project's budget, the institution (power or space it
pays), the cloud provider (emissions only), or nobody's cash (``service``: the
price of work done late or not at all, part of the comparable cost;
``service_award``: its extra in the award view, where renting the work instead
would bear F&A)."""

SERVE_ON_TIE_USD_PER_REFERENCE_HOUR = 1e-6
"""Tie-break: where serving work and leaving it unserved cost the same (the
default unserved cost is the price of renting it), the engine and the
optimiser serve it. A millionth of a dollar per reference hour, far below any
price. [USD/reference accelerator-h]"""

View = Literal["institution", "award"]
"""Whose cost: ``institution`` (economic cost, every payer, resale credited, F&A
excluded as an internal transfer) or ``award`` (the project budget: its own
lines plus F&A on MTDC, no resale credit)."""

VIEWS: tuple[View, ...] = ("institution", "award")
"""Both views, in report order."""

INDIRECT = "indirect_costs"
"""Category of F&A lines. [-]"""

SALVAGE = "salvage"
"""Category of resale income (negative cost). [-]"""

SERVICE_CATEGORIES = ("delay", "unserved")
"""Categories of the equal-service penalty (not cash). [-]"""

SERVICE_PAYERS = ("service", "service_award")
"""Payers of the equal-service penalty: not cash. [-]"""

MTDC_CATEGORIES: dict[str, tuple[bool, str]] = {
    "capex_equipment": (False, "2 CFR 200.1 MTDC excludes equipment"),
    "capex_supplies": (
        True,
        "2 CFR 200.1: units below the equipment threshold are supplies, in MTDC",
    ),
    "support": (True, "2 CFR 200.1 MTDC includes services (support contracts)"),
    "staff": (True, "2 CFR 200.1 MTDC includes salaries, wages and fringe"),
    "hosting": (False, "2 CFR 200.1 MTDC excludes rental costs (space by the kW)"),
    "electricity": (
        True,
        "a utility charged to the project is a service recharge, in MTDC",
    ),
    "cloud": (True, "2 CFR 200.1 MTDC includes services (cloud computing)"),
    "recharge": (
        True,
        "2 CFR 200.468 service-centre charges are services, in MTDC",
    ),
}
"""Whether each kind of cost is in the F&A base (MTDC), with the rule. [-]"""


@dataclass(frozen=True)
class Line:
    """One category of flows per unit of a decision, over t = 0..N."""

    category: str
    payer: Payer
    cost_usd: FloatArray
    """Shape (N + 1,): real cost per unit at each t. [USD]"""
    energy_kwh: FloatArray
    """Shape (N + 1,): facility energy per unit. [kWh]"""
    co2e_kg: FloatArray
    """Shape (N + 1,): CO2e per unit. [kg]"""
    scope: Literal["", "operational", "embodied"] = ""
    base: str = ""
    """For an F&A line, the category it is charged on (its MTDC base)."""
    rate: float = 0.0
    """For an F&A line, the rate charged on its base. [-]"""


@dataclass(frozen=True)
class UnitFlows:
    """The flows of one unit of a decision, and what it provides."""

    lines: tuple[Line, ...]
    capacity_reference: FloatArray | None = None
    """Shape (N,): usable reference accelerators in each running year (servers
    and committed instances). [reference accelerators]"""

    def cost_usd(self, view: View | None = None) -> FloatArray:
        """Cost per unit at each t, every line or one view's. [USD]."""
        return _sum(
            (line.cost_usd for line in self.lines if in_view(line, view)),
            self.lines,
        )

    def co2e_kg(self) -> FloatArray:
        """CO2e per unit at each t. [kg]."""
        return _sum((line.co2e_kg for line in self.lines), self.lines)


def _sum(values: Iterable[FloatArray], lines: Sequence[Line]) -> FloatArray:
    width = lines[0].cost_usd.size if lines else 1
    total = np.zeros(width)
    for value in values:
        total = total + value
    return total


TRANSFERS = (INDIRECT, "recharge")
"""Categories that move money inside the university (F&A, a service centre's
recharge): costs of the award, not of the institution. [-]"""


def counts_in_view(category: str, payer: str, view: View | None) -> bool:
    """Whether a cost of this category and payer counts in a view (written once).

    * ``institution``: project and institution lines, resale credited, F&A and
      service-centre recharges excluded (transfers inside the university), plus
      the service penalty (delay, unserved);
    * ``award``: the project's own lines with their F&A, no resale credit (the
      agency has a claim on the proceeds, 2 CFR 200.313(e)), institution-paid
      lines excluded, plus the service penalty;
    * ``None``: the project's and institution's cash as charged, F&A included.

    Parameters
    ----------
    category : str
        Cost category (``capex``, ``indirect_costs``, ``salvage`` ...).
    payer : str
        ``project``, ``institution``, ``provider`` or ``service``.
    view : {"institution", "award"} or None
        The view.

    Returns
    -------
    bool
        True if the cost is part of the view.

    Examples
    --------
    >>> counts_in_view("indirect_costs", "project", "institution")
    False
    >>> counts_in_view("salvage", "project", "award")
    False
    >>> counts_in_view("unserved", "service", "award")
    True
    """
    if payer == "provider":
        return False
    if payer == "service":
        return view is not None
    if payer == "service_award":
        return view == "award"
    if view is None:
        return category != "recharge"
    if view == "institution":
        return category not in TRANSFERS
    return payer == "project" and category != SALVAGE


def in_view(line: Line, view: View | None) -> bool:
    """Whether a line counts in a view (:func:`counts_in_view`)."""
    return counts_in_view(line.category, line.payer, view)


def _array(value: object) -> FloatArray:
    """A unit model's result as a float array (they return scalar or array)."""
    return np.asarray(value, dtype=float)


def _zeros(horizon: int) -> FloatArray:
    return np.zeros(horizon + 1)


def _line(
    category: str,
    payer: Payer,
    horizon: int,
    *,
    cost_usd: FloatArray | None = None,
    energy_kwh: FloatArray | None = None,
    co2e_kg: FloatArray | None = None,
    scope: Literal["", "operational", "embodied"] = "",
) -> Line:
    zero = _zeros(horizon)
    return Line(
        category=category,
        payer=payer,
        cost_usd=zero if cost_usd is None else np.asarray(cost_usd, dtype=float),
        energy_kwh=zero if energy_kwh is None else np.asarray(energy_kwh, dtype=float),
        co2e_kg=zero if co2e_kg is None else np.asarray(co2e_kg, dtype=float),
        scope=scope,
    )


def _with_fa(lines: list[Line], rates: dict[str, float], horizon: int) -> list[Line]:
    """Add the F&A lines: one per project line in MTDC, at the rate it bears.

    ``rates`` maps a line's category to the F&A rate it bears (absent: none).
    F&A is charged on the project's own lines only (2 CFR 200.1 MTDC); each F&A
    line names its base and rate, so a budget shows them.
    """
    extra = []
    for line in lines:
        rate = rates.get(line.category, 0.0)
        if rate and line.payer == "project" and np.any(line.cost_usd):
            extra.append(
                replace(
                    _line(
                        INDIRECT,
                        "project",
                        horizon,
                        cost_usd=indirect_cost_usd(line.cost_usd, rate),
                    ),
                    base=line.category,
                    rate=rate,
                )
            )
    return [*lines, *extra]


def indirect_cost_usd(direct_cost_usd: FloatArray, rate: float) -> FloatArray:
    """F&A charged on a direct cost.

    :func:`pricing.finance.with_indirect_cost_usd` less the direct cost itself.
    [USD]
    """
    return np.asarray(
        with_indirect_cost_usd(direct_cost_usd, rate) - direct_cost_usd, dtype=float
    )


def mtdc_rate(kind: str, institution: ResolvedInstitution) -> float:
    """The F&A rate a kind of cost bears (0 outside MTDC).

    The rule is :data:`MTDC_CATEGORIES`, less the institution's own exclusions.

    Parameters
    ----------
    kind : str
        A key of :data:`MTDC_CATEGORIES`.
    institution : ResolvedInstitution
        The negotiated rate.

    Returns
    -------
    float
        The rate. [-]
    """
    in_base, _ = MTDC_CATEGORIES[kind]
    if kind in institution.mtdc_exclusions:
        return 0.0
    return institution.indirect_cost_rate if in_base else 0.0


# --- owned servers -------------------------------------------------------------------


def running_mask(start: int, stop: int, horizon: int) -> FloatArray:
    """1 at t = start+1 .. stop (the running years of an asset), over t = 0..N."""
    t = np.arange(horizon + 1)
    return ((t > start) & (t <= stop)).astype(float)


def capacity_reference_per_server(server: ResolvedServer, ops: OwnedOps) -> float:
    """Usable reference accelerators of one server. [reference accelerators]."""
    return (
        server.accelerators_per_server * server.relative_throughput * ops.availability
    )


def server_vintage_flows(
    server: ResolvedServer,
    ops: OwnedOps,
    site: ResolvedSite,
    institution: ResolvedInstitution,
    *,
    bought: int,
    horizon: int,
) -> UnitFlows:
    """Flows of one server bought at ``t = bought`` and run to its retirement.

    Capex is the server price, scaled by the real price change of the same
    capacity since year 0 (``(1 + capex_change) ** bought``), times the cluster
    overhead (:func:`pricing.hardware.installed_capex_usd`); it is equipment
    (no F&A) at or above the equipment threshold, a supply (in MTDC) below it.
    While active (running years ``bought+1 .. retire``) the server pays support
    (a share of capex), hosting (per kW of peak IT power) and its idle power
    (:func:`pricing.energy.utilisation_power_w` at zero use, times PUE); embodied
    CO2e is spread over its life or counted at purchase; the resale value
    (:func:`pricing.hardware.resale_value_usd` of the server price, geometric
    decline) comes back at retirement or at the horizon's end.

    Parameters
    ----------
    server : ResolvedServer
        Price, power, embodied CO2e.
    ops : OwnedOps
        Life, opex and accounting settings.
    site : ResolvedSite
        PUE, tariff and grid paths.
    institution : ResolvedInstitution
        Payers and F&A rules.
    bought : int
        Purchase time, 0 .. N-1. [years]
    horizon : int
        N. [years]

    Returns
    -------
    UnitFlows
        Lines per server, and the server's usable capacity each running year.
    """
    retire = min(bought + ops.lifetime_years, horizon)
    alive = running_mask(bought, retire, horizon)
    price_usd = server.server_price_usd * (1.0 + ops.capex_change_per_year) ** bought
    capex_usd = scalar(
        installed_capex_usd(price_usd, 1.0, server.cluster_overhead_fraction)
    )
    capex = _zeros(horizon)
    capex[bought] = capex_usd
    supply = server.server_price_usd < institution.equipment_threshold_usd
    lines = [_line("capex", "project", horizon, cost_usd=capex)]
    lines.append(
        _line(
            "support",
            "project",
            horizon,
            cost_usd=alive * capex_usd * ops.support_fraction_per_year,
        )
    )
    max_kw = server.max_power_w / WATTS_PER_KILOWATT
    if ops.hosting_usd_per_kw_month:
        lines.append(
            _line(
                "hosting",
                institution.hosting_paid_by,
                horizon,
                cost_usd=alive
                * max_kw
                * ops.hosting_usd_per_kw_month
                * MONTHS_PER_YEAR,
            )
        )
    idle_w = utilisation_power_w(server.idle_power_w, server.max_power_w, 0.0)
    idle_kwh = alive * scalar(facility_energy_kwh(idle_w, HOURS_PER_YEAR, site.pue))
    tariff = np.concatenate([[0.0], site.electricity_usd_per_kwh])
    grid = np.concatenate([[0.0], site.grid_co2e_g_per_kwh])
    lines.append(
        _line(
            "electricity",
            institution.power_paid_by,
            horizon,
            cost_usd=_array(electricity_cost_usd(idle_kwh, tariff)),
            energy_kwh=idle_kwh,
            co2e_kg=_array(operational_co2e_kg(idle_kwh, grid)),
            scope="operational",
        )
    )
    embodied = _zeros(horizon)
    if ops.embodied_accounting == "at_purchase":
        embodied[bought] = server.embodied_co2e_kg
    else:
        embodied = alive * server.embodied_co2e_kg / ops.lifetime_years
    lines.append(
        _line("embodied", "project", horizon, co2e_kg=embodied, scope="embodied")
    )
    if ops.salvage == "declining":
        salvage = _zeros(horizon)
        salvage[retire] = -scalar(
            resale_value_usd(
                price_usd,
                retire - bought,
                annual_value_decline=ops.annual_value_decline,
            )
        )
        lines.append(_line(SALVAGE, "project", horizon, cost_usd=salvage))
    rates = {
        "capex": mtdc_rate(
            "capex_supplies" if supply else "capex_equipment", institution
        ),
        "support": mtdc_rate("support", institution),
        "hosting": mtdc_rate("hosting", institution),
        "electricity": mtdc_rate("electricity", institution),
    }
    capacity = alive[1:] * capacity_reference_per_server(server, ops)
    return UnitFlows(
        lines=tuple(_with_fa(lines, rates, horizon)), capacity_reference=capacity
    )


def staff_flows(
    ops: OwnedOps, institution: ResolvedInstitution, *, horizon: int
) -> UnitFlows:
    """Flows of one running year of staff, per year (t = 1..N each 1).

    Staff is a fixed cost of running a cluster at all (one team per site): the
    plan multiplies this by 1 in each year with any server active.

    Parameters
    ----------
    ops : OwnedOps
        FTE and loaded cost per FTE-year.
    institution : ResolvedInstitution
        F&A rules (salaries are in MTDC).
    horizon : int
        N. [years]

    Returns
    -------
    UnitFlows
        Lines whose value at t = k is the cost of staffing running year k.
    """
    cost = running_mask(0, horizon, horizon) * ops.staff_usd_per_year
    lines = [_line("staff", "project", horizon, cost_usd=cost)]
    rates = {"staff": mtdc_rate("staff", institution)}
    return UnitFlows(lines=tuple(_with_fa(lines, rates, horizon)))


def owned_work_rates(
    server: ResolvedServer,
    site: ResolvedSite,
    institution: ResolvedInstitution,
    *,
    horizon: int,
) -> UnitFlows:
    """Flows of one reference hour served on owned servers in each running year.

    The dynamic part of the linear power curve (:func:`pricing.energy.
    utilisation_power_w` at full use minus idle, per accelerator, per reference
    accelerator), times PUE; idle power is a flow of the server itself.

    Parameters
    ----------
    server : ResolvedServer
        Idle and maximum power, accelerators, throughput.
    site : ResolvedSite
        PUE, tariff and grid paths.
    institution : ResolvedInstitution
        Who pays power; F&A rules.
    horizon : int
        N. [years]

    Returns
    -------
    UnitFlows
        Value at t = k: the flows of one reference hour served in year k.
    """
    dynamic_w = utilisation_power_w(
        server.idle_power_w, server.max_power_w, 1.0
    ) - utilisation_power_w(server.idle_power_w, server.max_power_w, 0.0)
    per_reference_w = (
        dynamic_w / server.accelerators_per_server / server.relative_throughput
    )
    kwh = running_mask(0, horizon, horizon) * scalar(
        facility_energy_kwh(per_reference_w, 1.0, site.pue)
    )
    tariff = np.concatenate([[0.0], site.electricity_usd_per_kwh])
    grid = np.concatenate([[0.0], site.grid_co2e_g_per_kwh])
    lines = [
        _line(
            "electricity",
            institution.power_paid_by,
            horizon,
            cost_usd=_array(electricity_cost_usd(kwh, tariff)),
            energy_kwh=kwh,
            co2e_kg=_array(operational_co2e_kg(kwh, grid)),
            scope="operational",
        )
    ]
    rates = {"electricity": mtdc_rate("electricity", institution)}
    return UnitFlows(lines=tuple(_with_fa(lines, rates, horizon)))


# --- cloud ---------------------------------------------------------------------------

CloudUse = Literal["on_demand", "spot", "committed"]


def cloud_work_rates(
    offer: ResolvedOffer, use: CloudUse, *, horizon: int, price_multiplier: float = 1.0
) -> UnitFlows:
    """Flows of one reference hour of work done on a cloud offer in each year.

    On-demand pays the year's price per accelerator-hour
    (:func:`pricing.cloud.usd_per_accelerator_hour`, trend applied) for ``1 / q``
    accelerator-hours (``q`` the relative throughput; :func:`pricing.cloud.
    cloud_cost_usd`); spot pays the spot price with the re-run overhead
    (:func:`pricing.cloud.spot_effective_usd_per_hour`), and re-run hours draw
    power too; committed capacity has no hourly price (its fee is per instance,
    :func:`commitment_instance_flows`), only energy. Energy is power per
    accelerator x hours x the provider's PUE (:func:`pricing.energy.
    facility_energy_kwh`), at the region's grid (location-based); embodied CO2e
    is the provider hardware's per used hour (methods: amortised over the
    provider's life and utilisation). F&A at the offer's rate on the price.

    Parameters
    ----------
    offer : ResolvedOffer
        Prices, throughput, power, grid.
    use : {"on_demand", "spot", "committed"}
        How the hour is bought.
    horizon : int
        N. [years]
    price_multiplier : float, default 1
        Factor on compute prices (break-even price ratios). [-]

    Returns
    -------
    UnitFlows
        Value at t = k: the flows of one reference hour in year k.
    """
    running = running_mask(0, horizon, horizon)
    billed_hours = 1.0 / offer.relative_throughput  # accelerator-hours per ref hour
    powered_hours = billed_hours
    trend = offer.price_usd_per_accelerator_hour(horizon) / (
        offer.on_demand_usd_per_accelerator_hour or 1.0
    )
    if use == "spot":
        # Interrupted work is re-run: each useful hour costs and draws 1 + o hours.
        spot = float(offer.spot_usd_per_accelerator_hour or 0.0)
        year_one = scalar(
            spot_effective_usd_per_hour(spot, offer.spot_interruption_overhead)
        )
        powered_hours *= 1.0 + offer.spot_interruption_overhead
    elif use == "on_demand":
        year_one = scalar(
            usd_per_accelerator_hour(
                offer.on_demand_usd_per_accelerator_hour
                * offer.accelerators_per_instance,
                offer.accelerators_per_instance,
            )
        )
    else:
        year_one = 0.0
    price = np.concatenate([[0.0], year_one * trend]) * price_multiplier
    cost = _array(cloud_cost_usd(billed_hours, running, price))
    kwh = running * scalar(
        facility_energy_kwh(offer.power_w_per_accelerator, powered_hours, offer.pue)
    )
    grid = np.concatenate([[0.0], offer.grid_co2e_g_per_kwh])
    category = {"on_demand": "cloud_on_demand", "spot": "cloud_spot"}.get(
        use, "cloud_committed_use"
    )
    lines = []
    if use != "committed":
        lines.append(_line(category, "project", horizon, cost_usd=cost))
    lines.append(
        _line(
            "cloud_energy",
            "provider",
            horizon,
            energy_kwh=kwh,
            co2e_kg=_array(operational_co2e_kg(kwh, grid)),
            scope="operational",
        )
    )
    lines.append(
        _line(
            "cloud_embodied",
            "provider",
            horizon,
            co2e_kg=running
            * powered_hours
            * offer.embodied_co2e_kg_per_accelerator_hour,
            scope="embodied",
        )
    )
    rates = {category: offer.indirect_cost_rate}
    return UnitFlows(lines=tuple(_with_fa(lines, rates, horizon)))


def commitment_instance_flows(
    offer: ResolvedOffer,
    term_years: int,
    *,
    start: int,
    horizon: int,
    price_multiplier: float = 1.0,
) -> UnitFlows:
    """Flows of one instance committed for a term from ``t = start``.

    Every hour of the term is paid, used or not (:func:`pricing.cloud.
    commitment_cost_usd`), at the on-demand price of the year the commitment is
    signed less the term's discount (:func:`pricing.cloud.
    committed_usd_per_hour`): a commitment locks its price. F&A at the offer's
    rate. The instance provides ``accelerators x q`` usable reference
    accelerators in each year of the term.

    Parameters
    ----------
    offer : ResolvedOffer
        Instance size, price path, discounts, throughput.
    term_years : int
        1 or 3. [years]
    start : int
        Signing time, 0 .. N - term. [years]
    horizon : int
        N. [years]
    price_multiplier : float, default 1
        Factor on compute prices. [-]

    Returns
    -------
    UnitFlows
        Lines per instance and its capacity each running year.
    """
    signed_price = (
        offer.price_usd_per_accelerator_hour(horizon)[start] * price_multiplier
    )
    hourly = committed_usd_per_hour(
        signed_price, offer.commitment_discounts[term_years]
    )
    annual_fee = scalar(
        commitment_cost_usd(offer.accelerators_per_instance, hourly, 1.0)
    )
    covered = running_mask(start, start + term_years, horizon)
    category = f"cloud_commitment_{term_years}y"
    lines = [_line(category, "project", horizon, cost_usd=covered * annual_fee)]
    capacity = covered[1:] * offer.accelerators_per_instance * offer.relative_throughput
    rates = {category: offer.indirect_cost_rate}
    return UnitFlows(
        lines=tuple(_with_fa(lines, rates, horizon)), capacity_reference=capacity
    )


def cloud_fixed_flows(
    offer: ResolvedOffer,
    storage_usd_per_year: float,
    egress_usd_per_year: float,
    *,
    horizon: int,
) -> UnitFlows:
    """Storage and egress of a cloud strategy in each running year (services).

    Parameters
    ----------
    offer : ResolvedOffer
        For its F&A rate.
    storage_usd_per_year : float
        Storage bill. [USD/year]
    egress_usd_per_year : float
        Data-transfer bill. [USD/year]
    horizon : int
        N. [years]

    Returns
    -------
    UnitFlows
        One unit = the whole horizon.
    """
    running = running_mask(0, horizon, horizon)
    lines = []
    if storage_usd_per_year:
        lines.append(
            _line(
                "cloud_storage",
                "project",
                horizon,
                cost_usd=running * storage_usd_per_year,
            )
        )
    if egress_usd_per_year:
        lines.append(
            _line(
                "cloud_egress",
                "project",
                horizon,
                cost_usd=running * egress_usd_per_year,
            )
        )
    rates = {
        "cloud_storage": offer.indirect_cost_rate,
        "cloud_egress": offer.indirect_cost_rate,
    }
    return UnitFlows(lines=tuple(_with_fa(lines, rates, horizon)))


# --- equal service -------------------------------------------------------------------


def service_rates(service: ServiceCosts, *, horizon: int) -> dict[str, UnitFlows]:
    """Flows of one reference hour delayed, or left unserved, in each year.

    Work an owned cluster cannot serve when it arrives waits for spare hours
    later in the same year at the delay cost, or is not done at the unserved
    cost (both per reference hour, paid at the end of the year, never cash:
    payer ``service``, with the award view's F&A extra as ``service_award``).
    Default costs: the scenario's cheapest on-demand price per reference hour
    (the cost of renting that work instead, with F&A in the award view).

    Parameters
    ----------
    service : ServiceCosts
        Delay and unserved cost per reference hour.
    horizon : int
        N. [years]

    Returns
    -------
    dict
        ``{"delay": UnitFlows, "unserved": UnitFlows}``.
    """
    running = running_mask(0, horizon, horizon)
    out = {}
    for kind, institution, award in (
        (
            "delay",
            service.delay_usd_per_reference_hour,
            service.award_delay_usd_per_reference_hour,
        ),
        (
            "unserved",
            service.unserved_usd_per_reference_hour,
            service.award_unserved_usd_per_reference_hour,
        ),
    ):
        lines = [_line(kind, "service", horizon, cost_usd=running * institution)]
        if award > institution:
            lines.append(
                _line(
                    kind,
                    "service_award",
                    horizon,
                    cost_usd=running * (award - institution),
                )
            )
        out[kind] = UnitFlows(lines=tuple(lines))
    out["unserved"] = UnitFlows(
        lines=out["unserved"].lines + _unserved_emissions(service, horizon)
    )
    return out


def _unserved_emissions(service: ServiceCosts, horizon: int) -> tuple[Line, ...]:
    """Energy and CO2e of a reference hour of unserved work, done elsewhere.

    Equal service holds for emissions as for money: work a strategy leaves
    unserved is priced as renting it and emits what that rented hour emits
    (the reference offer's energy and embodied CO2e each year, as
    :func:`cloud_work_rates` counts them), unless the scenario gives its own
    figure. Otherwise a strategy could cut its CO2e by not doing the work.
    """
    running = running_mask(0, horizon, horizon)
    given = service.unserved_co2e_kg_per_reference_hour
    if given is not None:
        return (
            _line(
                "unserved",
                "provider",
                horizon,
                co2e_kg=running * given,
                scope="operational",
            ),
        )
    if service.reference_offer is None:
        return ()
    rented = cloud_work_rates(service.reference_offer, "on_demand", horizon=horizon)
    return tuple(
        replace(line, category="unserved")
        for line in rented.lines
        if line.payer == "provider"
    )
