"""Fleet plan as a mixed-integer linear programme: what to buy, commit and burst.

The planner's real question is not "cloud or on-prem" but how much to own, of
what, when to buy it, how much cloud capacity to commit and what to burst, under
the limits a department has (issue 5). This module answers it as a capacity
expansion problem in the style of PyPSA and GenX [1]_ [2]_ (methods notes 1.4),
solved with ``scipy.optimize.milp`` (HiGHS) [3]_:

* **build** (:func:`build_problem`) turns a :class:`~planner.scenario.Scenario`
  and :class:`OptimiseOptions` into matrices: objective ``c``, sparse ``A`` with
  row bounds, variable bounds and integrality, plus named index arrays;
* **solve** (:func:`solve`) runs HiGHS and never ignores a failed solve;
* **extract** (:func:`extract`) validates the solution (scipy issue #22812: milp
  can report "optimal" while violating a bound) and returns a
  :class:`FleetPlan` of tidy tables, shadow prices from the LP relaxation
  (``milp`` returns no duals) and a plain-language summary.

Conventions (those of :mod:`planner.tco`, whose cost model this reuses through
:func:`planner.tco.resolve_server` and :func:`planner.tco.resolve_cloud`):

* ``year`` is the engine's time index: purchases and commitments are made at
  ``t = year`` (0 .. N-1); the work and running costs of running year ``k``
  (1 .. N) are booked at its end, ``t = k``; ``calendar_year = start_year + year``
  everywhere, as in :func:`planner.tco.tco_table`.
* Every flow is discounted once, by :math:`(1 + r)^{-t}` at the time it is paid.
  Capex is a lump sum at purchase and resale value a lump sum at retirement or at
  the horizon's end: no annuity runs past the horizon and nothing is discounted
  twice (the oemof-solph 0.5.2 pitfalls, methods notes 1.6).
* Demand is in reference accelerator-hours; each year's hourly demand is reduced
  to ``blocks_per_year`` load-duration blocks (:func:`block_demand`: the peak
  hour, then :func:`planner.demand.duration_blocks`), which conserves energy
  exactly; the block means slightly overstate what a given owned capacity serves
  (quantified by :func:`evaluate_plan` with ``hourly=True``).
* Because every block of a year has the same prices, only each source's energy
  per year matters. The per-block dispatch (``served[source, block] <=
  capacity``, ``sum(served) >= demand``) is replaced by its exact projection on
  yearly energies: for every set ``S`` of capacity sources (owned specs and the
  commitment), ``energy(S) - deferred <= sum_h w_h min(D_h, capacity(S))``, a
  concave piecewise-linear function written as one row per block boundary
  (Gale's supply-demand theorem [4]_). Rows are generated lazily: singletons and
  the full set first, then any set the solution violates, until none does.
  This keeps the MILP small (no variable per block) and makes CO2-capped
  solves several times faster than the per-block form.
* Money inside the solver is in thousands of USD and CO2e in tonnes (methods
  notes 2.4: keep coefficients within a few orders of magnitude); every table
  and shadow price is reported in USD and kg (or USD per tonne).

Modelling choices, each the engine's rule unless stated:

* Owned servers: capex (with integration overhead, and F&A when a server costs
  less than the equipment threshold), support, hosting and idle power while
  active, dynamic power per reference hour served, resale at retirement or the
  horizon's end, embodied CO2e amortised or at purchase; later vintages cost
  ``(1 + capex_change_per_year) ** year`` times as much. Opex settings of a spec
  come from the scenario's owned strategy for that server, else its first owned
  strategy, else the model defaults. Staff is a fixed cost in every year with any
  server running (one team per site, from the first spec's settings): a binary.
* Cloud: on-demand and spot (with its re-run overhead) per reference hour, F&A
  on services; commitments in whole instances of the offer (8 accelerators for a
  p5.48xlarge), paid every hour of each whole term inside the horizon at that
  year's on-demand price less the catalog discount (as the engine prices them;
  a real contract would lock the first year's price). Spot capacity is assumed
  available whenever wanted, as in the engine; set ``allow_spot=False`` if not.
* Deferral (``delay_cost_usd_per_reference_hour``): work may wait for spare owned
  or committed hours later in the same year at that cost per reference hour
  (the engine's "wait" with a price on waiting).

References
----------
.. [1] T. Brown, J. Hoersch, and D. Schlachtberger, "PyPSA: Python for Power
   System Analysis," J. Open Res. Softw., vol. 6, no. 1, 2018,
   doi:10.5334/jors.188 (multi-period investment: assets active in period a iff
   build_year <= a < build_year + lifetime).
.. [2] GenX Development Team, "GenX: a configurable power system capacity
   expansion model," https://github.com/GenXProject/GenX.jl (multi-stage
   investment costs truncated at the horizon), accessed 2026.
.. [3] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex
   method," Math. Prog. Comp., vol. 10, pp. 119-142, 2018,
   doi:10.1007/s12532-017-0130-5 (HiGHS, behind scipy.optimize.milp/linprog).
.. [4] D. Gale, "A theorem on flows in networks," Pacific J. Math., vol. 7,
   no. 2, pp. 1073-1082, 1957, doi:10.2140/pjm.1957.7.1073 (supply-demand
   theorem: a transport plan exists iff every set's supply fits its cut).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator
from scipy import optimize, sparse

from planner import demand, tco
from planner.scenario import (
    CloudStrategy,
    Fraction,
    Frozen,
    HybridStrategy,
    OnPremStrategy,
    Scenario,
    SharedStrategy,
    replace,
)
from pricing import catalog
from pricing.units import HOURS_PER_YEAR, KILOGRAMS_PER_TONNE, WATTS_PER_KILOWATT

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_SERVER_SPEC = "8xH100-SXM"
"""Server offered when the scenario owns none (the catalog's H100 node). [-]"""

RACK_UNITS_PER_RACK = 42
"""Usable height of a full-height 19-inch rack (EIA-310 "42U" cabinet, the common
data-centre size; assumption, user-editable). [U]"""

USD_PER_SOLVER_UNIT = 1_000.0
"""Money inside the solver is in thousands of USD (methods notes 2.4). [USD/k$]"""

KG_PER_SOLVER_UNIT = KILOGRAMS_PER_TONNE
"""CO2e inside the solver is in tonnes. [kg/t]"""

FEASIBILITY_TOLERANCE = 1e-6
"""Relative tolerance of the solution check: row activity and bounds may be off
by this share of the row's magnitude (HiGHS' own default is 1e-7 absolute on its
scaled model). [-]"""

BRUTE_FORCE_MAX_COMBINATIONS = 200_000
"""Most integer combinations :func:`brute_force_plan` will enumerate. [-]"""

LIMIT_UNITS = {
    "capital_budget_usd_per_year": "USD/USD",
    "total_budget_usd": "USD/USD",
    "site_power_kw": "USD/kW",
    "racks": "USD/rack",
    "carbon_cap_co2e_kg_per_year": "USD/t CO2e",
    "min_onprem_share": "USD/(share 0-1)",
    "max_servers_per_year": "USD/server",
    "co2e_cap_kg": "USD/t CO2e",
}
"""Unit of the shadow price of each limit: NPV saved per unit of relaxation."""

_SOURCE_LABELS = {
    "committed": "cloud_committed",
    "spot": "cloud_spot",
    "on_demand": "cloud_on_demand",
}


class InfeasiblePlanError(ValueError):
    """No plan meets the demand within the limits; one line per limit at fault.

    Parameters
    ----------
    problems : sequence of str
        Which limit makes the question infeasible and by how much, e.g.
        ``"capital_budget_usd_per_year: 2027 needs at least $612,000, the limit is
        $300,000 (cloud is not allowed)"``.

    Attributes
    ----------
    problems : tuple of str
        The lines, for the CLI (exit status 2) and the app.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- options -------------------------------------------------------------------------


class OptimiseOptions(Frozen):
    """What the fleet optimiser may choose, and the limits it must respect.

    Every limit is optional (``None`` = no limit). Values are validated here;
    their consistency with a scenario (known servers, a cloud offer, purchase
    years inside the horizon) is checked by :func:`build_problem`.
    """

    server_specs: tuple[str, ...] | None = Field(
        None,
        description="Servers (servers catalog keys) the plan may buy; default: the "
        "servers of the scenario's owned strategies, else 8xH100-SXM; () buys "
        "none. [-]",
    )
    cloud_offer: str | None = Field(
        None,
        description="Name of the scenario strategy whose cloud offer rents "
        "capacity (a cloud strategy, or a hybrid/shared strategy's burst); "
        "default: the first cloud strategy, else the first burst. [-]",
    )
    allow_cloud: bool = Field(
        True, description="Allow renting cloud capacity at all. [-]"
    )
    allow_spot: bool = Field(
        False,
        description="Allow spot (pre-emptible) burst when the offer has a spot "
        "price; interrupted work is re-run at the offer's overhead. Off by default: "
        "the model treats spot capacity as unlimited, which large GPU requests "
        "rarely find. [-]",
    )
    commitment_terms: tuple[Literal[1, 3], ...] = Field(
        (1, 3),
        description="Cloud commitment terms offered (each must fit in the "
        "horizon; longer ones are skipped). [years]",
    )
    commitment_unit_accelerators: float | None = Field(
        None,
        gt=0.0,
        le=1_024.0,
        description="Accelerators per committed unit; default the offer's "
        "instance size (a p5.48xlarge commits 8 H100s), 1 for a quoted "
        "per-accelerator rate. [accelerators]",
    )
    purchase_years: tuple[int, ...] | None = Field(
        None,
        description="Years (0 = start) in which servers may be bought; default "
        "every year of the horizon. [years]",
    )
    blocks_per_year: int = Field(
        24,
        ge=1,
        le=8_760,
        description="Load-duration blocks each year's hourly demand is reduced "
        "to (8760 = hourly, exact). [-]",
    )
    capital_budget_usd_per_year: float | None = Field(
        None,
        ge=0.0,
        description="Most capex (servers, integration, F&A on supplies) paid in "
        "any one year. [USD/year]",
    )
    total_budget_usd: float | None = Field(
        None,
        ge=0.0,
        description="Most the project pays over the horizon, undiscounted and "
        "before resale income (costs paid by the institution excluded). [USD]",
    )
    site_power_kw: float | None = Field(
        None,
        ge=0.0,
        description="Most IT power at full load of the servers active in any "
        "year. [kW]",
    )
    racks: int | None = Field(
        None, ge=0, le=10_000, description="Racks available for servers. [-]"
    )
    rack_units_per_rack: int = Field(
        RACK_UNITS_PER_RACK,
        ge=1,
        le=60,
        description="Usable height of one rack (42U standard cabinet). [U]",
    )
    carbon_cap_co2e_kg_per_year: float | None = Field(
        None,
        ge=0.0,
        description="Most CO2e (operational and embodied, owned and rented) "
        "booked in any year. [kg/year]",
    )
    carbon_price_usd_per_t: float = Field(
        0.0,
        ge=0.0,
        le=10_000.0,
        description="Price on every tonne of CO2e, added to the objective "
        "(discounted like a cost). [USD/t]",
    )
    min_onprem_share: Fraction | None = Field(
        None,
        description="Least share of the horizon's work served by owned servers. [0-1]",
    )
    delay_cost_usd_per_reference_hour: float | None = Field(
        None,
        ge=0.0,
        le=1_000.0,
        description="Cost of deferring a reference hour of work to spare owned or "
        "committed capacity later in the same year; None = demand is met in the "
        "hour it arrives. [USD/reference accelerator-h]",
    )
    max_servers_per_year: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Most servers (all specs) installed in any one year. [-]",
    )
    continuous: bool = Field(
        False,
        description="Solve the continuous relaxation (fractional servers and "
        "commitments), as screening curves assume. [-]",
    )
    time_limit_s: float = Field(
        30.0, gt=0.0, le=3_600.0, description="Solver time limit. [s]"
    )
    mip_rel_gap: float = Field(
        1e-4,
        ge=0.0,
        le=0.5,
        description="Relative optimality gap at which branch-and-cut stops. [-]",
    )

    @model_validator(mode="after")
    def _unique(self) -> OptimiseOptions:
        for name in ("server_specs", "commitment_terms", "purchase_years"):
            values = getattr(self, name)
            if values is not None and len(set(values)) != len(values):
                msg = f"{name} must not repeat values, got {values!r}"
                raise ValueError(msg)
        if self.purchase_years is not None and min(self.purchase_years, default=0) < 0:
            msg = f"purchase_years must be >= 0, got {self.purchase_years!r}"
            raise ValueError(msg)
        return self


# --- resolved inputs -----------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """One server specification with its engine numbers and opex settings."""

    name: str
    resolved: tco.ResolvedServer
    template: OnPremStrategy
    capacity_per_server: float
    """Usable reference accelerators per server. [reference accelerators]"""
    dynamic_kw_per_reference: float
    """IT power above idle per busy reference accelerator. [kW]"""
    rack_units: float | None


@dataclass(frozen=True)
class _Cloud:
    """The rented offer: on-demand, spot and commitment prices per the engine."""

    strategy: CloudStrategy
    """On-demand version of the offer, without storage or egress."""
    resolved: tco.ResolvedCloud
    indirect_rate: float
    spot: bool
    discounts: Mapping[int, float]
    """Commitment discount by term. [0-1]"""
    unit_accelerators: float
    """Accelerators per committed unit (an instance). [accelerators]"""


@dataclass(frozen=True)
class _Inputs:
    """Everything the formulation needs, looked up once."""

    scenario: Scenario
    options: OptimiseOptions
    specs: tuple[_Spec, ...]
    cloud: _Cloud | None
    staff_usd_per_year: float
    levels: FloatArray
    """Shape (years, blocks): block demand. [reference accelerators]"""
    hours: FloatArray
    """Shape (blocks,): hours of each block. [h]"""
    discount: FloatArray
    """Shape (years + 1,): (1 + r)^-t. [-]"""
    purchase_years: tuple[int, ...]
    terms: tuple[int, ...]
    mean_demand: FloatArray
    """Shape (years,): demand over 8760 h, i.e. mean busy reference accelerators.
    [reference accelerators]"""
    breakpoint_share: FloatArray
    """Shape (blocks + 1,): share of the year in the i busiest blocks. [-]"""
    breakpoint_energy: FloatArray
    """Shape (years, blocks + 1): mean demand of all but the i busiest blocks.
    [reference accelerators]"""
    tariff_usd_per_kwh: FloatArray
    """Shape (years,): site tariff of each running year. [USD/kWh]"""
    grid_co2e_kg_per_kwh: FloatArray
    """Shape (years,): site grid intensity of each running year. [kg/kWh]"""
    notes: tuple[str, ...]

    @property
    def years(self) -> int:
        """Return the running years of the horizon, N."""
        return self.scenario.horizon_years


def _owned_strategies(scenario: Scenario) -> list[OnPremStrategy]:
    return [s for s in scenario.strategies if isinstance(s, OnPremStrategy)]


def _plain_onprem(strategy: OnPremStrategy, **changes: Any) -> OnPremStrategy:
    """An :class:`OnPremStrategy` with the settings of any owned strategy."""
    data = {
        key: value
        for key, value in strategy.model_dump().items()
        if key in OnPremStrategy.model_fields
    }
    data["kind"] = "onprem"
    return OnPremStrategy.model_validate(data | changes)


_SPEC_OVERRIDES = {
    "server_price_usd": None,
    "cluster_overhead_fraction": None,
    "relative_throughput": None,
    "idle_power_w": None,
    "max_power_w": None,
    "embodied_co2e_kg": None,
}


def _template(scenario: Scenario, spec: str) -> OnPremStrategy:
    """Opex settings for a spec: the scenario's own strategy for it, if any."""
    owned = _owned_strategies(scenario)
    for strategy in owned:
        if strategy.server == spec:
            return _plain_onprem(strategy, servers=0.0, purchase_year=0, refresh=False)
    if owned:
        return _plain_onprem(
            owned[0],
            server=spec,
            servers=0.0,
            purchase_year=0,
            refresh=False,
            **_SPEC_OVERRIDES,
        )
    return OnPremStrategy(name=f"optimiser {spec}", server=spec, servers=0.0)


def _cloud_strategy(scenario: Scenario, name: str | None) -> CloudStrategy | None:
    offers: list[tuple[str, CloudStrategy]] = []
    for strategy in scenario.strategies:
        if isinstance(strategy, CloudStrategy):
            offers.append((strategy.name, strategy))
    for strategy in scenario.strategies:
        if isinstance(strategy, HybridStrategy | SharedStrategy) and strategy.burst:
            offers.append((strategy.name, strategy.burst))
    if name is None:
        return offers[0][1] if offers else None
    for label, offer in offers:
        if label == name:
            return offer
    known = [label for label, _ in offers]
    msg = f"cloud_offer: no cloud strategy or burst named {name!r}; known: {known}"
    raise ValueError(msg)


def _resolve_cloud(scenario: Scenario, options: OptimiseOptions) -> _Cloud | None:
    strategy = _cloud_strategy(scenario, options.cloud_offer)
    if not options.allow_cloud:
        return None
    if strategy is None:
        msg = (
            "cloud_offer: the scenario has no cloud strategy or burst to rent "
            "from; add one or set allow_cloud to false"
        )
        raise ValueError(msg)
    base = replace(
        strategy,
        purchase="on_demand",
        storage_tb=0.0,
        egress_tb_per_year=0.0,
        committed_accelerators=None,
    )
    sizing = np.zeros(1)
    resolved = tco.resolve_cloud(base, scenario, sizing_hourly=sizing)
    discounts: dict[int, float] = {}
    for term in options.commitment_terms:
        if term > scenario.horizon_years:
            continue
        committed = replace(
            base, purchase=f"committed_{term}y", committed_accelerators=0
        )
        discounts[term] = tco.resolve_cloud(
            committed, scenario, sizing_hourly=sizing
        ).commitment_discount
    unit = options.commitment_unit_accelerators
    if unit is None:
        unit = 1.0
        if base.instance_type is not None:
            offer = catalog.cloud_offer(
                str(base.provider), str(base.region), base.instance_type
            )
            unit = float(offer["accelerator_count"])
    return _Cloud(
        strategy=base,
        resolved=resolved,
        indirect_rate=tco.cloud_indirect_cost_rate(base, scenario),
        spot=options.allow_spot and resolved.spot_usd_per_accelerator_hour is not None,
        discounts=discounts,
        unit_accelerators=unit,
    )


def _resolve_spec(scenario: Scenario, name: str) -> _Spec:
    template = _template(scenario, name)
    resolved = tco.resolve_server(template, scenario)
    capacity = (
        resolved.accelerators_per_server
        * resolved.relative_throughput
        * template.availability
    )
    dynamic = (
        (resolved.max_power_w - resolved.idle_power_w)
        / resolved.accelerators_per_server
        / WATTS_PER_KILOWATT
        / resolved.relative_throughput
    )
    units = catalog.server(name).get("rack_units")
    rack_units = None if units is None or pd.isna(units) else float(units)
    return _Spec(
        name=name,
        resolved=resolved,
        template=template,
        capacity_per_server=capacity,
        dynamic_kw_per_reference=dynamic,
        rack_units=rack_units,
    )


def resolved_options(scenario: Scenario, options: OptimiseOptions) -> OptimiseOptions:
    """Fill the scenario-dependent defaults of ``options`` (specs, cloud offer).

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions
        Options with possibly unset ``server_specs`` and ``cloud_offer``.

    Returns
    -------
    OptimiseOptions
        The same options with ``server_specs`` and ``cloud_offer`` named.
    """
    specs = options.server_specs
    if specs is None:
        owned = dict.fromkeys(s.server for s in _owned_strategies(scenario))
        specs = tuple(owned) or (DEFAULT_SERVER_SPEC,)
    offer = options.cloud_offer
    if offer is None:
        names = [s.name for s in scenario.strategies if isinstance(s, CloudStrategy)]
        names += [
            s.name
            for s in scenario.strategies
            if isinstance(s, HybridStrategy | SharedStrategy) and s.burst
        ]
        offer = names[0] if names else None
    return replace(options, server_specs=specs, cloud_offer=offer)


def block_demand(scenario: Scenario, blocks: int) -> tuple[FloatArray, FloatArray]:
    """Each running year's hourly demand reduced to load-duration blocks.

    The busiest hour is kept as a block of its own (one hour), so that a plan
    meets the true peak and not only the mean of the busiest block; the other
    hours are split by :func:`planner.demand.duration_blocks` into
    ``blocks - 1`` blocks of (nearly) equal length. Energy is conserved exactly.

    Parameters
    ----------
    scenario : Scenario
        Demand and horizon.
    blocks : int
        Blocks per year, 1 to 8760 (1 = the year's mean). [-]

    Returns
    -------
    levels : numpy.ndarray of shape (years, blocks)
        Mean demand of each block, descending. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours in each block; sums to 8760. [h]

    Examples
    --------
    >>> from planner.scenario import CloudStrategy, Demand, Scenario, Site
    >>> scenario = Scenario(
    ...     name="one busy accelerator on average",
    ...     horizon_years=1,
    ...     demand=Demand(reference_hours_per_year=8760.0),
    ...     site=Site(electricity_usd_per_kwh=0.1, grid_co2e_g_per_kwh=400.0),
    ...     strategies=[CloudStrategy(name="rent", accelerator_model="H100-80GB-SXM5",
    ...                               usd_per_accelerator_hour=2.0)],
    ... )
    >>> levels, hours = block_demand(scenario, 4)
    >>> levels.round(3).tolist(), hours.tolist()
    ([[2.5, 1.347, 0.968, 0.684]], [1.0, 2920.0, 2920.0, 2919.0])
    >>> float((levels * hours).sum())  # energy is conserved
    8760.0
    """
    hourly = tco.scenario_demand(scenario).levels
    levels = np.empty((hourly.shape[0], blocks))
    hours = np.empty(blocks)
    for year, row in enumerate(hourly):
        if blocks == 1:
            levels[year], hours = demand.duration_blocks(row, 1)
            continue
        ordered = demand.load_duration_curve(row)
        rest_levels, rest_hours = demand.duration_blocks(ordered[1:], blocks - 1)
        levels[year] = np.concatenate([ordered[:1], rest_levels])
        hours = np.concatenate([[1.0], rest_hours])
    return levels, hours


def _inputs(scenario: Scenario, options: OptimiseOptions | None) -> _Inputs:
    options = resolved_options(scenario, options or OptimiseOptions())
    n = scenario.horizon_years
    notes: list[str] = []
    purchase_years = options.purchase_years
    if purchase_years is None:
        purchase_years = tuple(range(n))
    late = [year for year in purchase_years if year >= n]
    if late:
        msg = (
            f"purchase_years: {late} not inside the {n}-year horizon "
            f"(years 0 to {n - 1})"
        )
        raise ValueError(msg)
    unknown = []
    for name in options.server_specs or ():
        try:
            catalog.server(name)
        except LookupError as error:
            unknown.append(f"server_specs: {str(error).strip(chr(34) + chr(39))}")
    if unknown:
        raise tco.ResolutionError(unknown)
    if options.racks is not None:
        missing = [
            name
            for name in options.server_specs or ()
            if pd.isna(catalog.server(name).get("rack_units"))
        ]
        if missing:
            msg = f"racks: servers {missing} have no rack_units in the catalog"
            raise ValueError(msg)
    specs = tuple(_resolve_spec(scenario, name) for name in options.server_specs or ())
    cloud = _resolve_cloud(scenario, options)
    terms = tuple(sorted(cloud.discounts)) if cloud is not None else ()
    skipped = sorted(set(options.commitment_terms) - set(terms))
    if cloud is not None and skipped:
        notes.append(
            f"commitment terms {skipped} years do not fit the {n}-year horizon "
            "and were not offered"
        )
    if (
        cloud is not None
        and options.allow_spot
        and cloud.resolved.spot_usd_per_accelerator_hour is None
    ):
        notes.append("the cloud offer has no spot price: spot was not offered")
    staff_template = specs[0].template if specs else None
    staff = (
        staff_template.staff_fte * staff_template.staff_usd_per_fte_year
        if staff_template is not None
        else 0.0
    )
    levels, hours = block_demand(scenario, options.blocks_per_year)
    site = scenario.site
    running = np.arange(n, dtype=float)
    energy = levels * hours / HOURS_PER_YEAR
    tail = np.cumsum(energy[:, ::-1], axis=1)[:, ::-1]
    return _Inputs(
        scenario=scenario,
        options=options,
        specs=specs,
        cloud=cloud,
        staff_usd_per_year=staff,
        levels=levels,
        hours=hours,
        discount=(1.0 + scenario.real_discount_rate) ** -np.arange(n + 1.0),
        purchase_years=tuple(sorted(purchase_years)),
        mean_demand=energy.sum(axis=1),
        breakpoint_share=np.concatenate([[0.0], np.cumsum(hours)]) / HOURS_PER_YEAR,
        breakpoint_energy=np.concatenate([tail, np.zeros((n, 1))], axis=1),
        terms=terms,
        tariff_usd_per_kwh=site.electricity_usd_per_kwh
        * (1.0 + site.tariff_change_per_year) ** running,
        grid_co2e_kg_per_kwh=site.grid_co2e_g_per_kwh
        / 1e3
        * (1.0 + site.grid_change_per_year) ** running,
        notes=tuple(notes),
    )


def _cloud_paths(inputs: _Inputs) -> dict[str, FloatArray]:
    """Per running year: cloud prices and CO2e per reference hour (engine rules)."""
    cloud = inputs.cloud
    assert cloud is not None
    n = inputs.years
    resolved = cloud.resolved
    trend = (1.0 + cloud.strategy.price_change_per_year) ** np.arange(n, dtype=float)
    rel = resolved.relative_throughput
    grid = (
        resolved.grid_co2e_g_per_kwh
        / 1e3
        * (1.0 + inputs.scenario.site.grid_change_per_year) ** np.arange(n, dtype=float)
    )
    co2_per_accelerator_hour = (
        resolved.power_kw_per_accelerator * resolved.pue * grid
        + resolved.embodied_co2e_kg_per_accelerator_hour
    )
    overhead = 1.0 + cloud.strategy.spot_interruption_overhead
    spot = resolved.spot_usd_per_accelerator_hour or 0.0
    on_demand = resolved.on_demand_usd_per_accelerator_hour * trend
    return {
        "on_demand_usd_per_accelerator_hour": on_demand,
        "on_demand_usd_per_reference_hour": on_demand / rel,
        "spot_usd_per_reference_hour": spot * overhead * trend / rel,
        "co2e_kg_per_reference_hour": co2_per_accelerator_hour / rel,
        "spot_co2e_kg_per_reference_hour": co2_per_accelerator_hour * overhead / rel,
    }


def _active(purchase_years: Sequence[int], lifetime: int, years: int) -> FloatArray:
    """Shape (years, purchases): 1 where a vintage serves running year y+1."""
    running = np.arange(years)[:, None]
    bought = np.asarray(purchase_years)[None, :]
    return ((running >= bought) & (running < bought + lifetime)).astype(float)


# --- the problem -------------------------------------------------------------------

Subset = tuple[int, tuple[int, ...]]
"""(running-year index, capacity-source indices) of one set of capacity rows."""

CapacityTerms = tuple[tuple[tuple[IntArray, FloatArray], ...], ...]
"""[source][year] -> (columns, coefficients) of usable capacity."""


@dataclass(frozen=True, eq=False)
class Problem:
    """A built MILP: ``min c x`` s.t. ``row_lb <= A x <= row_ub``, bounds, integrality.

    Money is in thousands of USD and CO2e in tonnes inside ``c`` and ``A``;
    ``constraints["scale"]`` converts a limit row back to user units. Energies are
    in mean busy reference accelerators (reference accelerator-hours / 8760).
    """

    c: FloatArray
    """Objective per unit of each variable. [k$ per unit]"""
    A: sparse.csr_array
    row_lb: FloatArray
    row_ub: FloatArray
    var_lb: FloatArray
    var_ub: FloatArray
    integrality: IntArray
    """1 for integer variables (servers, commitments, the staff switch), else 0."""
    variables: pd.DataFrame
    """One row per column: kind, spec, source, year, term."""
    constraints: pd.DataFrame
    """One row per row: group, year, spec, subset, limit (user units), scale, unit."""
    index: Mapping[str, IntArray]
    """Column index arrays by variable kind: ``servers`` (specs, purchase years),
    ``staff`` (years,), ``commitments_<k>y`` (starts,), ``energy`` (capacity
    sources, years), ``spot``, ``on_demand`` and ``deferred`` (years,)."""
    cost_flows: Mapping[str, sparse.csr_array]
    """Nominal cost of each category at t = 0..N per unit of each variable. [USD]"""
    co2e_flows: Mapping[str, sparse.csr_array]
    """CO2e of each category at t = 0..N per unit of each variable. [kg]"""
    payers: Mapping[str, str]
    """Who pays each cost category: project, institution, provider or delay."""
    inputs: _Inputs
    capacity_sources: tuple[str, ...]
    """Labels of the capacity sources: ``onprem:<spec>`` and ``cloud_committed``."""
    capacity_terms: CapacityTerms
    """Usable capacity of each source in each year as a linear expression of the
    integer columns. [reference accelerators per unit]"""
    subsets: frozenset[Subset]
    """Capacity-row sets present in ``A`` (more are generated while solving)."""

    @property
    def scenario(self) -> Scenario:
        """The scenario the problem was built from."""
        return self.inputs.scenario

    @property
    def options(self) -> OptimiseOptions:
        """The options, with scenario defaults filled in."""
        return self.inputs.options


Triplets = tuple[IntArray, IntArray, FloatArray]


def _triplets(rows: object, cols: object, values: object) -> Triplets:
    r, c, v = np.broadcast_arrays(
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(values, dtype=float),
    )
    return r.ravel(), c.ravel(), v.ravel()


def _sparse(parts: Sequence[Triplets], shape: tuple[int, int]) -> sparse.csr_array:
    if not parts:
        return sparse.csr_array(shape)
    r = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    v = np.concatenate([p[2] for p in parts])
    return sparse.csr_array(sparse.coo_array((v, (r, c)), shape=shape))


def _frame(parts: Sequence[Mapping[str, object]], sizes: Sequence[int]) -> pd.DataFrame:
    keys: list[str] = []
    for part in parts:
        keys.extend(key for key in part if key not in keys)
    columns = {}
    for key in keys:
        columns[key] = np.concatenate(
            [
                np.asarray(part[key], dtype=object).ravel()
                if key in part
                else np.full(size, None, dtype=object)
                for part, size in zip(parts, sizes, strict=True)
            ]
            or [np.zeros(0, dtype=object)]
        )
    return pd.DataFrame(columns)


class _Builder:
    """Collects variables, rows and flow coefficients as sparse triplets."""

    def __init__(self, years: int) -> None:
        self.years = years
        self.lb: list[FloatArray] = []
        self.ub: list[FloatArray] = []
        self.integer: list[IntArray] = []
        self.var_meta: list[dict[str, object]] = []
        self.var_sizes: list[int] = []
        self.n_vars = 0
        self.row_lb: list[FloatArray] = []
        self.row_ub: list[FloatArray] = []
        self.row_meta: list[dict[str, object]] = []
        self.row_sizes: list[int] = []
        self.n_rows = 0
        self.triplets: list[Triplets] = []
        self.cost: dict[str, list[Triplets]] = defaultdict(list)
        self.co2e: dict[str, list[Triplets]] = defaultdict(list)
        self.index: dict[str, IntArray] = {}

    def variables(
        self,
        kind: str,
        shape: tuple[int, ...],
        *,
        ub: float | FloatArray,
        integer: bool,
        **labels: object,
    ) -> IntArray:
        size = math.prod(shape)
        idx = np.arange(self.n_vars, self.n_vars + size, dtype=np.int64).reshape(shape)
        self.n_vars += size
        self.lb.append(np.zeros(size))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel())
        self.integer.append(np.full(size, int(integer), dtype=np.int64))
        meta: dict[str, object] = {"kind": np.full(size, kind, dtype=object)}
        for key, value in labels.items():
            meta[key] = np.broadcast_to(np.asarray(value, dtype=object), shape).ravel()
        self.var_meta.append(meta)
        self.var_sizes.append(size)
        self.index[kind] = idx
        return idx

    def rows(
        self,
        group: str,
        shape: tuple[int, ...],
        *,
        lb: float | FloatArray = -np.inf,
        ub: float | FloatArray = np.inf,
        **labels: object,
    ) -> IntArray:
        size = math.prod(shape)
        idx = np.arange(self.n_rows, self.n_rows + size, dtype=np.int64).reshape(shape)
        self.n_rows += size
        self.row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).ravel())
        self.row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel())
        meta: dict[str, object] = {"group": np.full(size, group, dtype=object)}
        for key, value in labels.items():
            meta[key] = np.broadcast_to(np.asarray(value, dtype=object), shape).ravel()
        self.row_meta.append(meta)
        self.row_sizes.append(size)
        return idx

    def coefficients(self, rows: object, cols: object, values: object) -> None:
        self.triplets.append(_triplets(rows, cols, values))

    def flow(
        self, category: str, times: object, cols: object, cost_usd: object
    ) -> None:
        self.cost[category].append(_triplets(times, cols, cost_usd))

    def emission(
        self, category: str, times: object, cols: object, co2e_kg: object
    ) -> None:
        self.co2e[category].append(_triplets(times, cols, co2e_kg))

    def flow_matrices(
        self, which: Mapping[str, list[Triplets]]
    ) -> dict[str, sparse.csr_array]:
        shape = (self.years + 1, self.n_vars)
        return {key: _sparse(parts, shape) for key, parts in which.items()}


def _payers(scenario: Scenario) -> dict[str, str]:
    institution = scenario.institution
    return {
        "capex": "project",
        "indirect_costs": "project",
        "support": "project",
        "staff": "project",
        "hosting": institution.hosting_paid_by,
        "electricity": institution.power_paid_by,
        "salvage": "project",
        "cloud_on_demand": "project",
        "cloud_spot": "project",
        "cloud_commitment_1y": "project",
        "cloud_commitment_3y": "project",
        "delay": "delay",
        "embodied": "project",
        "cloud_energy_and_embodied": "provider",
        "_capital": "capital",
    }


def _subset_rows(
    inputs: _Inputs,
    index: Mapping[str, IntArray],
    terms: CapacityTerms,
    items: Sequence[Subset],
    first_row: int,
) -> tuple[list[Triplets], FloatArray, dict[str, object], int]:
    """Capacity rows of the sets ``items``: one row per block boundary.

    For a set S of capacity sources in running year y, and each boundary i
    between the i busiest blocks and the rest (share of the year ``H_i``, demand
    below it ``E_i``)::

        sum_{s in S} energy[s, y] - deferred[y] - H_i * capacity(S, y) <= E_i

    The minimum over i of the right-hand side is the energy a capacity
    ``capacity(S, y)`` can serve immediately, ``sum_h w_h min(D_h, K) / 8760``.
    When S holds owned servers only and a staff switch exists, ``E_i`` is
    multiplied by the switch (the perspective form: nothing is served when the
    site is off), which is equivalent for integers and tighter when relaxed.
    """
    energy = index["energy"]
    deferred = index["deferred"]
    staff = index["staff"]
    owned = len(inputs.specs)
    share = inputs.breakpoint_share[1:]
    boundaries = share.size
    parts: list[Triplets] = []
    upper: list[FloatArray] = []
    row = first_row
    years: list[int] = []
    labels: list[str] = []
    for year, subset in items:
        rows = row + np.arange(boundaries)
        for source in subset:
            parts.append(_triplets(rows, energy[source, year], 1.0))
            cols, coefs = terms[source][year]
            if cols.size:
                parts.append(
                    _triplets(
                        np.repeat(rows, cols.size),
                        np.tile(cols, boundaries),
                        -np.outer(share, coefs).ravel(),
                    )
                )
        if deferred.size:
            parts.append(_triplets(rows, deferred[year], -1.0))
        if staff.size and max(subset) < owned:
            parts.append(
                _triplets(rows, staff[year], -inputs.breakpoint_energy[year, 1:])
            )
            upper.append(np.zeros(boundaries))
        else:
            upper.append(inputs.breakpoint_energy[year, 1:])
        years.extend([year + 1] * boundaries)
        labels.extend(["+".join(str(s) for s in subset)] * boundaries)
        row += boundaries
    meta: dict[str, object] = {
        "group": np.full(len(years), "capacity", dtype=object),
        "year": np.asarray(years, dtype=object),
        "subset": np.asarray(labels, dtype=object),
    }
    ub = np.concatenate(upper) if upper else np.zeros(0)
    return parts, ub, meta, row


def build_problem(
    scenario: Scenario, options: OptimiseOptions | None = None
) -> Problem:
    r"""Build the fleet-planning MILP of a scenario (the *build* step).

    Variables (methods notes 1.4, in the PyPSA/GenX style [1]_ [2]_):

    * ``servers[s, b]``: integer servers of spec ``s`` bought at ``t = b``, active
      in running years ``b+1 .. b+L``;
    * ``commitments_<k>y[s]``: integer units (instances) committed for ``k``
      years from ``t = s`` (whole terms inside the horizon only);
    * ``staff[y]``: binary, owned servers run in year ``y`` (staff is a fixed
      cost of running a cluster at all, as in the engine);
    * ``energy[src, y]``: work served by each capacity source (owned spec, or the
      commitment), ``spot[y]`` and ``on_demand[y]`` burst, ``deferred[y]`` work
      caught up later in the year; all in mean busy reference accelerators.

    Constraints: demand each year; for sets of capacity sources, the energy
    they can serve given the year's load-duration blocks (generated lazily, see
    the module notes); the staff switch; the optional limits of ``options``.

    Objective: NPV of all costs (every payer; F&A on services and on supplies
    under the equipment threshold), plus the carbon price on CO2e and the delay
    cost, each discounted once at the time it is paid:

    .. math::

        \min \sum_t (1 + r)^{-t} \Big[\sum_{cat} F_{cat, t}\, x
              + p_{CO_2} \sum_{cat} G_{cat, t}\, x\Big]

    with the per-unit cost and CO2e flows :attr:`Problem.cost_flows` and
    :attr:`Problem.co2e_flows`.

    Parameters
    ----------
    scenario : Scenario
        Demand, horizon, site, institution and the strategies that name the
        servers and cloud offer.
    options : OptimiseOptions, optional
        Choices and limits; defaults as documented on the model.

    Returns
    -------
    Problem
        Matrices and named index arrays.

    Raises
    ------
    ValueError
        If an option does not fit the scenario (unknown cloud strategy, purchase
        year outside the horizon, a spec without rack units while racks are
        limited); :class:`planner.tco.ResolutionError` for unknown catalog keys.

    References
    ----------
    .. [1] PyPSA documentation, "Optimal power flow: investment periods,"
       https://pypsa.readthedocs.io (accessed 2026).
    .. [2] GenX, ``configure_multi_stage_inputs.jl``,
       https://github.com/GenXProject/GenX.jl (accessed 2026).
    """
    inputs = _inputs(scenario, options)
    opts = inputs.options
    if not inputs.specs and inputs.cloud is None:
        msg = (
            "nothing can serve the demand: server_specs is empty and allow_cloud "
            "is false"
        )
        raise InfeasiblePlanError([msg])
    n = inputs.years
    levels = inputs.levels
    site = scenario.site
    b = _Builder(n)
    purchase = np.asarray(inputs.purchase_years, dtype=np.int64)
    n_specs = len(inputs.specs)
    running = np.arange(n)
    mean = inputs.mean_demand
    integer = not opts.continuous

    # --- variables ---------------------------------------------------------------
    # No vintage needs more servers than the peak of the years it serves.
    yearly_peak = levels.max(axis=1)
    server_ub = np.zeros((n_specs, purchase.size))
    for k, spec in enumerate(inputs.specs):
        life = spec.template.lifetime_years
        for j, bought in enumerate(inputs.purchase_years):
            reach = float(yearly_peak[bought : bought + life].max())
            server_ub[k, j] = math.ceil(reach / spec.capacity_per_server - 1e-9)
    servers = b.variables(
        "servers",
        (n_specs, purchase.size),
        ub=server_ub,
        integer=integer,
        spec=np.array([s.name for s in inputs.specs], dtype=object)[:, None],
        year=purchase[None, :],
    )
    active = [
        _active(inputs.purchase_years, s.template.lifetime_years, n)
        for s in inputs.specs
    ]
    has_staff = inputs.staff_usd_per_year > 0 and n_specs > 0
    staff = b.variables(
        "staff",
        (n if has_staff else 0,),
        ub=1.0,
        integer=integer,
        **({"year": running + 1} if has_staff else {}),
    )
    cloud = inputs.cloud
    unit = cloud.unit_accelerators if cloud is not None else 1.0
    # Usable reference accelerators of one committed unit (an instance).
    unit_capacity = unit * (cloud.resolved.relative_throughput if cloud else 1.0)
    commit_cols: dict[int, IntArray] = {}
    for term in inputs.terms:
        starts = np.arange(n - term + 1)
        reach_peak = np.array([yearly_peak[s : s + term].max() for s in starts])
        commit_cols[term] = b.variables(
            f"commitments_{term}y",
            (starts.size,),
            ub=np.ceil(reach_peak / unit_capacity - 1e-9),
            integer=integer,
            year=starts,
            term=term,
        )
    sources = [f"onprem:{s.name}" for s in inputs.specs]
    if commit_cols:
        sources.append("cloud_committed")
    energy = b.variables(
        "energy",
        (len(sources), n),
        ub=np.broadcast_to(mean, (len(sources), n)),
        integer=False,
        source=np.array(sources, dtype=object)[:, None],
        year=running[None, :] + 1,
    )
    burst = []
    if cloud is not None:
        if cloud.spot:
            burst.append("spot")
        burst.append("on_demand")
    rented = {
        name: b.variables(name, (n,), ub=mean, integer=False, year=running + 1)
        for name in burst
    }
    delay = opts.delay_cost_usd_per_reference_hour
    deferred = (
        b.variables("deferred", (n,), ub=mean, integer=False, year=running + 1)
        if delay is not None
        else b.variables("deferred", (0,), ub=0.0, integer=False)
    )

    # Usable capacity of each source and year as a linear expression.
    terms: list[tuple[tuple[IntArray, FloatArray], ...]] = []
    for k, spec in enumerate(inputs.specs):
        per_year = []
        for year in range(n):
            cols = servers[k, np.flatnonzero(active[k][year])]
            per_year.append((cols, np.full(cols.size, spec.capacity_per_server)))
        terms.append(tuple(per_year))
    if commit_cols:
        per_year = []
        for year in range(n):
            cols_list = [
                cols[max(0, year - term + 1) : year + 1]
                for term, cols in commit_cols.items()
            ]
            cols = np.concatenate(cols_list).astype(np.int64)
            per_year.append((cols, np.full(cols.size, unit_capacity)))
        terms.append(tuple(per_year))
    capacity_terms: CapacityTerms = tuple(terms)

    # --- flows: owned servers ----------------------------------------------------
    rate = scenario.institution.indirect_cost_rate
    threshold = scenario.institution.equipment_threshold_usd
    reference_hours = HOURS_PER_YEAR  # per unit of an energy variable
    for k, spec in enumerate(inputs.specs):
        t = spec.template
        r = spec.resolved
        supply = r.server_price_usd < threshold
        life = t.lifetime_years
        max_kw = r.max_power_w / WATTS_PER_KILOWATT
        idle_kwh = r.idle_power_w * HOURS_PER_YEAR / WATTS_PER_KILOWATT * site.pue
        for j, bought in enumerate(inputs.purchase_years):
            col = servers[k, j]
            servers_usd = r.server_price_usd * (1.0 + t.capex_change_per_year) ** bought
            capex = servers_usd * (1.0 + r.cluster_overhead_fraction)
            b.flow("capex", bought, col, capex)
            b.flow("_capital", bought, col, capex * (1.0 + (rate if supply else 0.0)))
            if supply and rate:
                b.flow("indirect_costs", bought, col, capex * rate)
            retire = min(bought + life, n)
            alive = np.arange(bought, retire)
            b.flow("support", alive + 1, col, capex * t.support_fraction_per_year)
            if t.hosting_usd_per_kw_month:
                b.flow(
                    "hosting",
                    alive + 1,
                    col,
                    max_kw * t.hosting_usd_per_kw_month * tco.MONTHS_PER_YEAR,
                )
            b.flow(
                "electricity",
                alive + 1,
                col,
                idle_kwh * inputs.tariff_usd_per_kwh[alive],
            )
            b.emission(
                "electricity",
                alive + 1,
                col,
                idle_kwh * inputs.grid_co2e_kg_per_kwh[alive],
            )
            if t.embodied_accounting == "at_purchase":
                b.emission("embodied", bought, col, r.embodied_co2e_kg)
            else:
                b.emission("embodied", alive + 1, col, r.embodied_co2e_kg / life)
            if t.salvage == "declining":
                value = servers_usd * (1.0 - t.annual_value_decline) ** (
                    retire - bought
                )
                b.flow("salvage", retire, col, -value)
        # Work served: the dynamic part of the linear power curve.
        kwh = reference_hours * spec.dynamic_kw_per_reference * site.pue
        b.flow("electricity", running + 1, energy[k], kwh * inputs.tariff_usd_per_kwh)
        b.emission(
            "electricity", running + 1, energy[k], kwh * inputs.grid_co2e_kg_per_kwh
        )
    if has_staff:
        b.flow("staff", running + 1, staff, inputs.staff_usd_per_year)

    # --- flows: cloud --------------------------------------------------------------
    if cloud is not None:
        paths = _cloud_paths(inputs)
        fa = cloud.indirect_rate
        if commit_cols:
            b.emission(
                "cloud_energy_and_embodied",
                running + 1,
                energy[-1],
                reference_hours * paths["co2e_kg_per_reference_hour"],
            )
        for name, cols in rented.items():
            co2 = paths[
                "spot_co2e_kg_per_reference_hour"
                if name == "spot"
                else "co2e_kg_per_reference_hour"
            ]
            b.emission(
                "cloud_energy_and_embodied", running + 1, cols, reference_hours * co2
            )
            usd = reference_hours * paths[f"{name}_usd_per_reference_hour"]
            b.flow(f"cloud_{name}", running + 1, cols, usd)
            if fa:
                b.flow("indirect_costs", running + 1, cols, usd * fa)
        for term, cols in commit_cols.items():
            fee = (
                unit
                * HOURS_PER_YEAR
                * paths["on_demand_usd_per_accelerator_hour"]
                * (1.0 - cloud.discounts[term])
            )
            for start, col in enumerate(cols):
                span = np.arange(start, start + term)
                # A commitment locks the price of the year it is signed for its term.
                locked = np.full(term, fee[start])
                b.flow(f"cloud_commitment_{term}y", span + 1, col, locked)
                if fa:
                    b.flow("indirect_costs", span + 1, col, locked * fa)
    if delay is not None:
        b.flow("delay", running + 1, deferred, reference_hours * delay)

    # --- rows: demand, capacity, staff ---------------------------------------------
    demand_rows = b.rows("demand", (n,), lb=mean, year=running + 1)
    b.coefficients(demand_rows[None, :], energy, 1.0)
    for cols in rented.values():
        b.coefficients(demand_rows, cols, 1.0)
    m = len(sources)
    items: list[Subset] = [(y, (s,)) for y in range(n) for s in range(m)]
    if m > 1:
        items += [(y, tuple(range(m))) for y in range(n)]
    if has_staff and 1 < n_specs < m:
        items += [(y, tuple(range(n_specs))) for y in range(n)]
    parts, cap_ub, cap_meta, _ = _subset_rows(
        inputs, b.index, capacity_terms, items, b.n_rows
    )
    size = len(cap_ub)
    b.n_rows += size
    b.triplets.extend(parts)
    b.row_lb.append(np.full(size, -np.inf))
    b.row_ub.append(cap_ub)
    b.row_meta.append(cap_meta)
    b.row_sizes.append(size)
    if delay is not None and m:
        # Deferred work is caught up in spare hours: a year's energy of each
        # source fits its capacity.
        annual = b.rows(
            "capacity_annual",
            (m, n),
            ub=0.0,
            source=np.array(sources, dtype=object)[:, None],
            year=running[None, :] + 1,
        )
        b.coefficients(annual, energy, 1.0)
        for source in range(m):
            for year in range(n):
                cols, coefs = capacity_terms[source][year]
                b.coefficients(annual[source, year], cols, -coefs)
    if has_staff:
        # One row per (spec, vintage, active year): servers <= bound x switch; the
        # disaggregated big-M has a much tighter relaxation than one row a year.
        for k, spec in enumerate(inputs.specs):
            y_idx, j_idx = np.nonzero(active[k])
            rows = b.rows(
                "staff_switch", (y_idx.size,), ub=0.0, spec=spec.name, year=y_idx + 1
            )
            b.coefficients(rows, servers[k, j_idx], 1.0)
            b.coefficients(rows, staff[y_idx], -np.maximum(server_ub[k, j_idx], 1.0))
        # Valid inequality: owned servers serve only if the site runs. Redundant
        # for integers; it lifts the relaxation's staff cost from servers / bound
        # to served / demand, which closes most of the gap.
        rows = b.rows("staff_serves", (n,), ub=0.0, year=running + 1)
        b.coefficients(rows[None, :], energy[:n_specs], 1.0)
        b.coefficients(rows, staff, -mean)

    # --- rows: limits --------------------------------------------------------------
    cost_flows = b.flow_matrices(b.cost)
    co2e_flows = b.flow_matrices(b.co2e)
    payers = _payers(scenario)
    if opts.capital_budget_usd_per_year is not None and n_specs:
        limit = opts.capital_budget_usd_per_year
        rows = b.rows(
            "capital_budget_usd_per_year",
            (purchase.size,),
            ub=limit / USD_PER_SOLVER_UNIT,
            year=purchase,
            limit=limit,
            scale=USD_PER_SOLVER_UNIT,
        )
        _add_matrix_rows(
            b, rows, cost_flows["_capital"][purchase] / USD_PER_SOLVER_UNIT
        )
    if opts.total_budget_usd is not None:
        total = np.zeros(b.n_vars)
        for category, matrix in cost_flows.items():
            if payers.get(category) == "project" and category != "salvage":
                total += np.asarray(matrix.sum(axis=0)).ravel()
        rows = b.rows(
            "total_budget_usd",
            (1,),
            ub=opts.total_budget_usd / USD_PER_SOLVER_UNIT,
            limit=opts.total_budget_usd,
            scale=USD_PER_SOLVER_UNIT,
        )
        nonzero = np.flatnonzero(total)
        b.coefficients(rows[0], nonzero, total[nonzero] / USD_PER_SOLVER_UNIT)
    hardware_limits = (
        (
            "site_power_kw",
            [s.resolved.max_power_w / WATTS_PER_KILOWATT for s in inputs.specs],
            opts.site_power_kw,
        ),
        (
            "racks",
            [s.rack_units or 0.0 for s in inputs.specs],
            None if opts.racks is None else opts.racks * opts.rack_units_per_rack,
        ),
    )
    for name, per_server, limit_value in hardware_limits:
        if limit_value is None or not n_specs:
            continue
        rows = b.rows(
            name,
            (n,),
            ub=float(limit_value),
            year=running + 1,
            limit=float(limit_value),
            scale=1.0,
        )
        for k in range(n_specs):
            y_idx, j_idx = np.nonzero(active[k])
            b.coefficients(rows[y_idx], servers[k, j_idx], per_server[k])
    if opts.carbon_cap_co2e_kg_per_year is not None:
        limit = opts.carbon_cap_co2e_kg_per_year
        rows = b.rows(
            "carbon_cap_co2e_kg_per_year",
            (n + 1,),
            ub=limit / KG_PER_SOLVER_UNIT,
            year=np.arange(n + 1),
            limit=limit,
            scale=KG_PER_SOLVER_UNIT,
        )
        yearly = sum(co2e_flows.values(), sparse.csr_array((n + 1, b.n_vars)))
        _add_matrix_rows(b, rows, yearly / KG_PER_SOLVER_UNIT)
    if opts.min_onprem_share is not None:
        rows = b.rows(
            "min_onprem_share",
            (1,),
            lb=opts.min_onprem_share,
            limit=opts.min_onprem_share,
            scale=1.0,
        )
        total_mean = float(mean.sum())
        if total_mean > 0 and n_specs:
            b.coefficients(rows[0], energy[:n_specs], 1.0 / total_mean)
    if opts.max_servers_per_year is not None and n_specs:
        rows = b.rows(
            "max_servers_per_year",
            (purchase.size,),
            ub=float(opts.max_servers_per_year),
            year=purchase,
            limit=float(opts.max_servers_per_year),
            scale=1.0,
        )
        b.coefficients(rows[None, :], servers, 1.0)

    # --- objective -------------------------------------------------------------------
    discount = inputs.discount
    c = np.zeros(b.n_vars)
    for category, matrix in cost_flows.items():
        if not category.startswith("_"):
            c += matrix.T @ discount
    price_usd_per_kg = opts.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    if price_usd_per_kg:
        for matrix in co2e_flows.values():
            c += price_usd_per_kg * (matrix.T @ discount)
    c /= USD_PER_SOLVER_UNIT

    constraints = _frame(b.row_meta, b.row_sizes)
    constraints["unit"] = constraints["group"].map(LIMIT_UNITS)
    return Problem(
        c=c,
        A=_sparse(b.triplets, (b.n_rows, b.n_vars)),
        row_lb=np.concatenate(b.row_lb),
        row_ub=np.concatenate(b.row_ub),
        var_lb=np.concatenate(b.lb),
        var_ub=np.concatenate(b.ub),
        integrality=np.concatenate(b.integer),
        variables=_frame(b.var_meta, b.var_sizes),
        constraints=constraints,
        index=dict(b.index),
        cost_flows=cost_flows,
        co2e_flows=co2e_flows,
        payers=payers,
        inputs=inputs,
        capacity_sources=tuple(sources),
        capacity_terms=capacity_terms,
        subsets=frozenset(items),
    )


def _add_matrix_rows(b: _Builder, rows: IntArray, matrix: Any) -> None:
    """Add the non-zeros of a (rows x variables) sparse matrix to rows ``rows``."""
    coo = sparse.coo_array(matrix)
    b.coefficients(rows[coo.row], coo.col, coo.data)


# --- capacity rows generated while solving -----------------------------------------


_MASKS: dict[int, npt.NDArray[np.bool_]] = {}


def _subset_masks(sources: int) -> npt.NDArray[np.bool_]:
    """Every non-empty subset of ``sources`` items as rows of a boolean matrix."""
    if sources not in _MASKS:
        codes = np.arange(1, 2**sources)
        _MASKS[sources] = (codes[:, None] >> np.arange(sources)[None, :]) & 1 == 1
    return _MASKS[sources]


def _capacities(problem: Problem, x: FloatArray) -> FloatArray:
    """Usable capacity of each source in each year, in reference accelerators."""
    n = problem.inputs.years
    out = np.zeros((len(problem.capacity_sources), n))
    for source, per_year in enumerate(problem.capacity_terms):
        for year, (cols, coefs) in enumerate(per_year):
            out[source, year] = float(x[cols] @ coefs) if cols.size else 0.0
    return out


def capacity_violations(
    problem: Problem, x: FloatArray, *, tolerance: float = FEASIBILITY_TOLERANCE
) -> list[tuple[int, tuple[int, ...], float]]:
    """Sets of capacity sources whose yearly energy cannot be served in time.

    For every running year and every non-empty set S of capacity sources, the
    energy of S, less what is deferred, must not exceed what capacity(S) can serve
    in the hours demand arrives, ``sum_h w_h min(D_h, capacity(S)) / 8760`` (the
    cut condition of Gale's supply-demand theorem). If no set is violated, a
    block-by-block dispatch with these energies exists.

    Parameters
    ----------
    problem : Problem
        The problem (capacity sources and their capacity expressions).
    x : numpy.ndarray
        Solution vector. [solver units]
    tolerance : float, default 1e-6
        Allowed excess relative to 1 + the year's mean demand. [-]

    Returns
    -------
    list of (int, tuple of int, float)
        (running-year index, source indices, excess [reference accelerators]).
    """
    m = len(problem.capacity_sources)
    if not m:
        return []
    inputs = problem.inputs
    masks = _subset_masks(m).astype(float)
    energy = x[problem.index["energy"]]
    capacity = _capacities(problem, x)
    deferred_cols = problem.index["deferred"]
    deferred = x[deferred_cols] if deferred_cols.size else np.zeros(inputs.years)
    out = []
    for year in range(inputs.years):
        served = masks @ energy[:, year]
        reach = masks @ capacity[:, year]
        possible = (
            np.minimum(inputs.levels[year][None, :], reach[:, None]) @ inputs.hours
        ) / HOURS_PER_YEAR
        excess = served - deferred[year] - possible
        bad = excess > tolerance * (1.0 + inputs.mean_demand[year])
        for index in np.flatnonzero(bad):
            subset = tuple(int(s) for s in np.flatnonzero(masks[index]))
            out.append((year, subset, float(excess[index])))
    return out


def _augment(problem: Problem, items: Sequence[Subset]) -> Problem:
    """The problem with the capacity rows of ``items`` appended."""
    first = problem.A.shape[0]
    parts, ub, meta, last = _subset_rows(
        problem.inputs, problem.index, problem.capacity_terms, items, first
    )
    shifted = [(r - first, c, v) for r, c, v in parts]
    extra = _sparse(shifted, (last - first, problem.c.size))
    constraints = pd.concat(
        [problem.constraints, pd.DataFrame(meta)], ignore_index=True
    )
    return dataclasses.replace(
        problem,
        A=sparse.vstack([problem.A, extra], format="csr"),
        row_lb=np.concatenate([problem.row_lb, np.full(ub.size, -np.inf)]),
        row_ub=np.concatenate([problem.row_ub, ub]),
        constraints=constraints,
        subsets=problem.subsets | frozenset(items),
    )


@dataclass(frozen=True)
class _Extra:
    """Rows and slack columns added to a problem for one solve."""

    rows: sparse.csr_array | None = None
    """Rows over the problem's columns plus the slack columns."""
    rows_lb: FloatArray | None = None
    rows_ub: FloatArray | None = None
    slack: sparse.csr_array | None = None
    """Slack columns over the problem's rows at the time of the call."""
    c: FloatArray | None = None
    """Objective over the problem's columns plus the slack columns."""


def _model(
    problem: Problem, extra: _Extra
) -> tuple[
    FloatArray,
    sparse.csr_array,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    IntArray,
]:
    a = problem.A
    k = 0 if extra.slack is None else extra.slack.shape[1]
    if extra.slack is not None:
        pad = sparse.csr_array((a.shape[0] - extra.slack.shape[0], k))
        a = sparse.hstack([a, sparse.vstack([extra.slack, pad])], format="csr")
    lb, ub = problem.row_lb, problem.row_ub
    if extra.rows is not None:
        assert extra.rows_lb is not None
        assert extra.rows_ub is not None
        a = sparse.vstack([a, extra.rows], format="csr")
        lb = np.concatenate([lb, extra.rows_lb])
        ub = np.concatenate([ub, extra.rows_ub])
    c = extra.c if extra.c is not None else np.concatenate([problem.c, np.zeros(k)])
    return (
        c,
        a,
        lb,
        ub,
        np.concatenate([problem.var_lb, np.zeros(k)]),
        np.concatenate([problem.var_ub, np.full(k, np.inf)]),
        np.concatenate([problem.integrality, np.zeros(k, dtype=np.int64)]),
    )


def _milp(
    c: FloatArray,
    a: sparse.csr_array,
    row_lb: FloatArray,
    row_ub: FloatArray,
    var_lb: FloatArray,
    var_ub: FloatArray,
    integrality: IntArray,
    options: OptimiseOptions,
) -> optimize.OptimizeResult:
    constraints = [optimize.LinearConstraint(a, row_lb, row_ub)] if a.shape[0] else []
    return optimize.milp(
        c,
        integrality=integrality,
        bounds=optimize.Bounds(var_lb, var_ub),
        constraints=constraints,
        options={
            "time_limit": options.time_limit_s,
            "mip_rel_gap": options.mip_rel_gap,
            "presolve": True,
            "disp": False,
        },
    )


def _linprog(
    c: FloatArray,
    a: sparse.csr_array,
    row_lb: FloatArray,
    row_ub: FloatArray,
    var_lb: FloatArray,
    var_ub: FloatArray,
) -> optimize.OptimizeResult:
    """The LP with ``d_ub`` and ``d_lb``: d(objective)/d(row bound) per row.

    ``milp`` returns no duals (methods notes 2.1), so relaxations are solved with
    ``linprog(method="highs")``, whose ``ineqlin.marginals`` are the
    sensitivities of the optimum to the right-hand sides.
    """
    upper = np.flatnonzero(np.isfinite(row_ub))
    lower = np.flatnonzero(np.isfinite(row_lb))
    a_ub = sparse.vstack([a[upper], -a[lower]], format="csr")
    b_ub = np.concatenate([row_ub[upper], -row_lb[lower]])
    bounds = [
        (float(low), float(high)) for low, high in zip(var_lb, var_ub, strict=True)
    ]
    result: optimize.OptimizeResult = optimize.linprog(
        c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs"
    )
    d_ub = np.zeros(a.shape[0])
    d_lb = np.zeros(a.shape[0])
    if result.status == 0:
        marginals = np.asarray(result.ineqlin.marginals, dtype=float)
        d_ub[upper] = marginals[: upper.size]
        d_lb[lower] = -marginals[upper.size :]
    result["d_ub"] = d_ub
    result["d_lb"] = d_lb
    return result


MAX_GENERATION_ROUNDS = 64
"""Most re-solves while generating capacity rows (each adds at least one set). [-]"""


def _solve_generated(
    problem: Problem, extra: _Extra | None = None, *, relax: bool = False
) -> tuple[optimize.OptimizeResult, Problem]:
    """Solve, adding violated capacity rows and re-solving until none is violated.

    Returns the last result and the problem with every generated row.
    """
    extra = extra or _Extra()
    current = problem
    n_vars = problem.c.size
    for _ in range(MAX_GENERATION_ROUNDS):
        c, a, row_lb, row_ub, var_lb, var_ub, integrality = _model(current, extra)
        if relax:
            result = _linprog(c, a, row_lb, row_ub, var_lb, var_ub)
            x = result.x if result.status == 0 else None
        else:
            result = _milp(
                c, a, row_lb, row_ub, var_lb, var_ub, integrality, current.options
            )
            x = result.x
        if x is None:
            return result, current
        items = [
            (year, subset)
            for year, subset, _ in capacity_violations(
                current, np.asarray(x[:n_vars], dtype=float)
            )
            if (year, subset) not in current.subsets
        ]
        if not items:
            return result, current
        current = _augment(current, items)
    msg = "capacity rows did not converge: the solver keeps violating them"
    raise RuntimeError(msg)


# --- solve ---------------------------------------------------------------------------


def solve(problem: Problem) -> optimize.OptimizeResult:
    """Solve a built problem with HiGHS branch-and-cut (the *solve* step).

    Capacity rows for further sets of sources are generated while solving (see
    the module notes); the problem with every generated row is returned in the
    result's ``problem`` entry, for :func:`extract`.

    Parameters
    ----------
    problem : Problem
        From :func:`build_problem`.

    Returns
    -------
    scipy.optimize.OptimizeResult
        The raw ``milp`` result: status 0 (optimal), 1 (time limit with a
        feasible plan) or 2 (infeasible, diagnosed by :func:`extract`), plus
        ``problem``.

    Raises
    ------
    RuntimeError
        If HiGHS fails for any other reason (unbounded, numerical trouble, or a
        time limit without any feasible plan), with the solver's message.
    """
    result, final = _solve_generated(problem)
    result["problem"] = final
    if result.status != 2 and result.x is None:
        msg = f"fleet optimisation failed (status {result.status}): {result.message}"
        raise RuntimeError(msg)
    return result


def check_solution(
    problem: Problem, x: FloatArray, *, tolerance: float = FEASIBILITY_TOLERANCE
) -> list[str]:
    """Violations of the rows, bounds, integrality and capacity of ``problem``.

    scipy's ``milp`` has been seen to report "optimal" while violating a bound
    (scipy issue #22812), so every plan is checked before it is returned,
    including the capacity condition for every set of sources
    (:func:`capacity_violations`), not only the rows generated.

    Parameters
    ----------
    problem : Problem
        The problem.
    x : numpy.ndarray
        Candidate solution. [solver units]
    tolerance : float, default 1e-6
        Allowed violation relative to the row's magnitude ``|A| |x|`` (or the
        bound), at least absolute. [-]

    Returns
    -------
    list of str
        One line per violated row, bound, integrality or capacity set; empty if
        feasible.
    """
    problems = []
    activity = problem.A @ x
    magnitude = 1.0 + abs(problem.A) @ np.abs(x)
    low = problem.row_lb - activity > tolerance * magnitude
    high = activity - problem.row_ub > tolerance * magnitude
    for row in np.flatnonzero(low | high):
        meta = problem.constraints.iloc[row]
        problems.append(
            f"row {row} ({meta['group']}, year {meta.get('year')}): activity "
            f"{activity[row]:.9g} outside [{problem.row_lb[row]:.9g}, "
            f"{problem.row_ub[row]:.9g}]"
        )
    scale = 1.0 + np.abs(x)
    bad = (problem.var_lb - x > tolerance * scale) | (
        x - problem.var_ub > tolerance * scale
    )
    for col in np.flatnonzero(bad):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            f"outside [{problem.var_lb[col]:.9g}, {problem.var_ub[col]:.9g}]"
        )
    integer = problem.integrality.astype(bool)
    fractional = integer & (np.abs(x - np.round(x)) > 1e-5)
    for col in np.flatnonzero(fractional):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            "is not integer"
        )
    for year, subset, excess in capacity_violations(
        problem, x, tolerance=tolerance * 10
    ):
        names = [problem.capacity_sources[s] for s in subset]
        problems.append(
            f"capacity of {names} in year {year + 1} exceeded by {excess:.6g} "
            "reference accelerators"
        )
    return problems


# --- extract -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FleetPlan:
    """The optimal fleet plan as tables, with its cost, CO2e and binding limits.

    ``year`` follows the engine: purchases and commitment starts at ``t = year``;
    work and running costs of running year ``k`` at ``t = k``;
    ``calendar_year = start_year + year``.
    """

    status: str
    """``optimal`` or ``time_limit`` (feasible, with the gap in ``mip_gap``)."""
    npv_usd: float
    """Present value of all costs, every payer (the engine's ``npv_usd``). [USD]"""
    objective_usd: float
    """NPV plus the discounted carbon charge and delay cost. [USD]"""
    co2e_kg: float
    """CO2e over the horizon, operational and embodied, owned and rented. [kg]"""
    purchases: pd.DataFrame
    """year, calendar_year, spec, servers."""
    commitments: pd.DataFrame
    """start_year, calendar_year, term_years, accelerators, accelerator_model."""
    served: pd.DataFrame
    """year, calendar_year, source, reference_hours (sources sum to demand)."""
    deferred: pd.DataFrame
    """year, calendar_year, reference_hours deferred to spare hours of the year
    (already counted in ``served`` by the source that caught it up)."""
    costs_by_year: pd.DataFrame
    """year, calendar_year, cost_usd, discounted_cost_usd, co2e_kg."""
    binding: pd.DataFrame
    """constraint, year, calendar_year, value, limit, slack, binding_in_plan,
    shadow_price (objective saved per unit of relaxation, from the LP relaxation,
    >= 0), unit, removal_saves_usd (objective saved if the whole limit were
    removed, from a re-solve: it sees integer effects a dual cannot)."""
    summary: str
    mip_gap: float
    """Relative gap between the plan and HiGHS' dual bound. [-]"""
    costs: pd.DataFrame
    """Long table: year, calendar_year, category, payer, cost_usd, co2e_kg,
    discounted_cost_usd."""
    options: OptimiseOptions
    """The options used, with the scenario's defaults filled in."""
    solution: FloatArray
    """The validated solution vector (integers rounded). [solver units]"""
    notes: tuple[str, ...] = ()
    pareto: pd.DataFrame | None = None
    """Optional cost-CO2e frontier from :func:`pareto_frontier`."""

    def as_json(self) -> dict[str, object]:
        """Return the plan as JSON-ready data (the CLI's ``--format json``).

        Returns
        -------
        dict
            ``status``, ``npv_usd``, ``objective_usd``, ``co2e_kg``, ``mip_gap``,
            ``purchases``, ``commitments``, ``burst_hours_by_year``, ``served``,
            ``deferred``, ``costs_by_year``, ``binding``, ``pareto``,
            ``summary`` and ``notes``.
        """
        by_source = self.served.pivot_table(
            index=["year", "calendar_year"],
            columns="source",
            values="reference_hours",
            aggfunc="sum",
            fill_value=0.0,
        )
        burst = []
        for year, calendar in by_source.index:
            row = by_source.loc[(year, calendar)]
            burst.append(
                {
                    "year": int(year),
                    "calendar_year": int(calendar),
                    "on_demand_reference_hours": float(row.get("cloud_on_demand", 0.0)),
                    "spot_reference_hours": float(row.get("cloud_spot", 0.0)),
                }
            )
        return {
            "status": self.status,
            "npv_usd": self.npv_usd,
            "objective_usd": self.objective_usd,
            "co2e_kg": self.co2e_kg,
            "mip_gap": self.mip_gap,
            "purchases": _records(self.purchases),
            "commitments": _records(self.commitments),
            "burst_hours_by_year": burst,
            "served": _records(self.served),
            "deferred": _records(self.deferred),
            "costs_by_year": _records(self.costs_by_year),
            "binding": _records(self.binding),
            "pareto": [] if self.pareto is None else _records(self.pareto),
            "summary": self.summary,
            "notes": list(self.notes),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as plain Python dicts; NaN becomes None."""
    records = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, object] = {}
        for key, value in row.items():
            item = value.item() if isinstance(value, np.generic) else value
            if isinstance(item, float) and math.isnan(item):
                item = None
            clean[str(key)] = item
        records.append(clean)
    return records


def _rounded(problem: Problem, x: FloatArray) -> FloatArray:
    """Integers rounded; every value clipped into its bounds."""
    values = np.asarray(x, dtype=float)[: problem.c.size]
    out: FloatArray = np.clip(values, problem.var_lb, problem.var_ub)
    integer = problem.integrality.astype(bool)
    out[integer] = np.round(out[integer])
    return out


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as dictionaries (typed access for the summary)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _optional_int(value: object) -> int | None:
    """An integer cell, or None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(str(value))


def _flows_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    """Long table of costs and CO2e by year and category for solution ``x``."""
    n = problem.inputs.years
    frames = []
    for category, matrix in problem.cost_flows.items():
        if category.startswith("_"):
            continue
        frames.append(
            pd.DataFrame(
                {
                    "year": np.arange(n + 1),
                    "category": category,
                    "payer": problem.payers.get(category, "project"),
                    "cost_usd": matrix @ x,
                    "co2e_kg": 0.0,
                }
            )
        )
    for category, matrix in problem.co2e_flows.items():
        frames.append(
            pd.DataFrame(
                {
                    "year": np.arange(n + 1),
                    "category": category,
                    "payer": problem.payers.get(category, "project"),
                    "cost_usd": 0.0,
                    "co2e_kg": matrix @ x,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.groupby(["year", "category", "payer"], as_index=False, sort=True)[
        ["cost_usd", "co2e_kg"]
    ].sum()
    frame.insert(1, "calendar_year", problem.scenario.start_year + frame["year"])
    frame["discounted_cost_usd"] = (
        frame["cost_usd"] * problem.inputs.discount[frame["year"].to_numpy()]
    )
    return frame


def _energies(problem: Problem, x: FloatArray) -> dict[str, FloatArray]:
    """Work of each source per running year, in mean reference accelerators."""
    out = {
        label: x[problem.index["energy"][k]]
        for k, label in enumerate(problem.capacity_sources)
    }
    for name in ("spot", "on_demand"):
        if name in problem.index:
            out[_SOURCE_LABELS[name]] = x[problem.index[name]]
    deferred = problem.index["deferred"]
    out["deferred"] = x[deferred] if deferred.size else np.zeros(problem.inputs.years)
    return out


def _served_frame(
    energies: Mapping[str, FloatArray], start_year: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict[str, object]] = []
    deferred: list[dict[str, object]] = []
    for source, values in energies.items():
        for year, value in enumerate(values, start=1):
            record = {
                "year": year,
                "calendar_year": start_year + year,
                "source": source,
                "reference_hours": float(value) * HOURS_PER_YEAR,
            }
            (deferred if source == "deferred" else rows).append(record)
    served = pd.DataFrame(
        rows, columns=["year", "calendar_year", "source", "reference_hours"]
    )
    late = pd.DataFrame(
        deferred, columns=["year", "calendar_year", "source", "reference_hours"]
    )
    return served, late.drop(columns="source")


def _removal_savings_usd(problem: Problem, objective_usd: float) -> dict[str, float]:
    """Objective saved if each limit present were removed (one re-solve each).

    LP duals miss integer effects: a budget a little short of one server's price
    has a zero dual yet forbids the server. Re-solving without the limit tells
    what the limit costs.
    """
    savings = {}
    groups = problem.constraints["group"]
    for group in LIMIT_UNITS:
        rows = np.flatnonzero((groups == group).to_numpy())
        if not rows.size:
            continue
        row_lb = problem.row_lb.copy()
        row_ub = problem.row_ub.copy()
        row_lb[rows] = -np.inf
        row_ub[rows] = np.inf
        free = dataclasses.replace(problem, row_lb=row_lb, row_ub=row_ub)
        result, _ = _solve_generated(free)
        if result.x is None:
            msg = f"re-solve without {group} failed: {result.message}"
            raise RuntimeError(msg)
        without = float(result.fun) * USD_PER_SOLVER_UNIT
        savings[group] = max(0.0, objective_usd - without)
    return savings


def _binding_frame(
    problem: Problem,
    x: FloatArray,
    d_ub: FloatArray | None,
    d_lb: FloatArray | None,
    savings: Mapping[str, float],
) -> pd.DataFrame:
    columns = [
        "constraint",
        "year",
        "calendar_year",
        "value",
        "limit",
        "slack",
        "binding_in_plan",
        "shadow_price",
        "unit",
        "removal_saves_usd",
    ]
    meta = problem.constraints
    limit_rows = np.flatnonzero(meta["group"].isin(list(LIMIT_UNITS)).to_numpy())
    activity = problem.A @ x
    rows = []
    start = problem.scenario.start_year
    for row in limit_rows:
        info = meta.iloc[row]
        group = str(info["group"])
        scale = float(info["scale"])
        is_lower = bool(np.isfinite(problem.row_lb[row]))
        bound = problem.row_lb[row] if is_lower else problem.row_ub[row]
        slack = (activity[row] - bound) if is_lower else (bound - activity[row])
        binding = bool(slack <= 10 * FEASIBILITY_TOLERANCE * (1.0 + abs(bound)))
        shadow = float("nan")
        if d_ub is not None and d_lb is not None:
            dual = d_lb[row] if is_lower else -d_ub[row]
            shadow = float(dual) * USD_PER_SOLVER_UNIT / scale
            if group == "carbon_cap_co2e_kg_per_year":
                shadow *= KILOGRAMS_PER_TONNE  # per kg -> per tonne
            if group == "racks":
                shadow *= problem.options.rack_units_per_rack  # per U -> per rack
            if abs(shadow) < 1e-9:
                shadow = 0.0
        saves = float(savings.get(group, 0.0))
        if not binding and not shadow and saves <= 1.0:
            continue
        year = _optional_int(info.get("year"))
        limit = float(info["limit"])
        if group == "racks":
            limit = float(problem.options.racks or 0)
        rows.append(
            {
                "constraint": group,
                "year": year,
                "calendar_year": None if year is None else start + year,
                "value": float(activity[row] * scale),
                "limit": limit,
                "slack": float(max(slack, 0.0) * scale),
                "binding_in_plan": binding,
                "shadow_price": shadow,
                "unit": LIMIT_UNITS[group],
                "removal_saves_usd": saves,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def extract(problem: Problem, result: optimize.OptimizeResult) -> FleetPlan:
    """Turn a solver result into a validated :class:`FleetPlan` (the *extract* step).

    The solution's integers are rounded, then every row, bound, integrality and
    capacity set is checked (:func:`check_solution`); shadow prices of the limits
    come from the LP relaxation solved with ``linprog(method="highs")``.

    Parameters
    ----------
    problem : Problem
        The problem that was solved.
    result : scipy.optimize.OptimizeResult
        From :func:`solve`.

    Returns
    -------
    FleetPlan
        Tables, totals, binding limits and summary.

    Raises
    ------
    InfeasiblePlanError
        If the problem is infeasible, with which limit is at fault and by how
        much (:func:`diagnose_infeasibility`).
    RuntimeError
        If the solver failed, or its solution violates the problem beyond
        tolerance (scipy issue #22812).
    """
    generated = result.get("problem")
    final = generated if isinstance(generated, Problem) else problem
    if result.status == 2:
        raise InfeasiblePlanError(diagnose_infeasibility(final))
    if result.x is None:
        msg = f"fleet optimisation failed (status {result.status}): {result.message}"
        raise RuntimeError(msg)
    x = _rounded(final, np.asarray(result.x, dtype=float))
    violations = check_solution(final, x)
    if violations:
        msg = "the solver's plan violates the problem: " + "; ".join(violations[:5])
        raise RuntimeError(msg)
    inputs = final.inputs
    start = final.scenario.start_year
    costs = _flows_frame(final, x)
    cash = costs[costs["payer"] != "delay"]
    carbon_usd_per_kg = final.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    discounted_co2 = costs["co2e_kg"] * inputs.discount[costs["year"].to_numpy()]
    by_year = (
        cash.groupby(["year", "calendar_year"], as_index=False)[
            ["cost_usd", "discounted_cost_usd"]
        ]
        .sum()
        .merge(costs.groupby("year", as_index=False)["co2e_kg"].sum(), on="year")
    )
    served, deferred = _served_frame(_energies(final, x), start)
    d_ub = d_lb = None
    savings: dict[str, float] = {}
    if final.constraints["group"].isin(list(LIMIT_UNITS)).any():
        lp, _ = _solve_generated(final, relax=True)
        if lp.status != 0:
            msg = f"LP relaxation for shadow prices failed: {lp.message}"
            raise RuntimeError(msg)
        d_ub, d_lb = lp["d_ub"], lp["d_lb"]
        savings = _removal_savings_usd(final, float(final.c @ x) * USD_PER_SOLVER_UNIT)
    plan = FleetPlan(
        status="optimal" if result.status == 0 else "time_limit",
        npv_usd=float(cash["discounted_cost_usd"].sum()),
        objective_usd=float(costs["discounted_cost_usd"].sum())
        + carbon_usd_per_kg * float(discounted_co2.sum()),
        co2e_kg=float(costs["co2e_kg"].sum()),
        purchases=_purchases_frame(final, x),
        commitments=_commitments_frame(final, x),
        served=served,
        deferred=deferred,
        costs_by_year=by_year,
        binding=_binding_frame(final, x, d_ub, d_lb, savings),
        summary="",
        mip_gap=float(getattr(result, "mip_gap", 0.0) or 0.0),
        costs=costs,
        options=final.options,
        solution=x,
        notes=inputs.notes,
    )
    return dataclasses.replace(plan, summary=_summary(final, plan))


def _purchases_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    start = problem.scenario.start_year
    rows = []
    cols = problem.index["servers"]
    for k, spec in enumerate(problem.inputs.specs):
        for j, year in enumerate(problem.inputs.purchase_years):
            count = x[cols[k, j]]
            if count > 1e-9:
                whole = bool(problem.integrality[cols[k, j]])
                rows.append(
                    {
                        "year": year,
                        "calendar_year": start + year,
                        "spec": spec.name,
                        "servers": int(count) if whole else float(count),
                    }
                )
    frame = pd.DataFrame(rows, columns=["year", "calendar_year", "spec", "servers"])
    return frame.sort_values(["year", "spec"], ignore_index=True)


def _commitments_frame(problem: Problem, x: FloatArray) -> pd.DataFrame:
    start = problem.scenario.start_year
    cloud = problem.inputs.cloud
    model = cloud.resolved.accelerator_model if cloud is not None else ""
    unit = cloud.unit_accelerators if cloud is not None else 1.0
    rows = []
    for term in problem.inputs.terms:
        for begin, col in enumerate(problem.index[f"commitments_{term}y"]):
            if x[col] > 1e-9:
                accelerators = float(x[col]) * unit
                whole = float(accelerators).is_integer()
                rows.append(
                    {
                        "start_year": begin,
                        "calendar_year": start + begin,
                        "term_years": term,
                        "units": float(x[col]),
                        "accelerators": int(accelerators) if whole else accelerators,
                        "accelerator_model": model,
                    }
                )
    columns = [
        "start_year",
        "calendar_year",
        "term_years",
        "units",
        "accelerators",
        "accelerator_model",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["start_year", "term_years"], ignore_index=True)


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _count(value: float, unit: str) -> str:
    number = f"{int(value)}" if float(value).is_integer() else f"{value:.2f}"
    return f"{number} {unit}{'' if value == 1 else 's'}"


def _summary(problem: Problem, plan: FleetPlan) -> str:
    """Plain-language plan: buy, commit, burst, defer, limits."""
    scenario = problem.scenario
    parts = []
    purchases = _rows(plan.purchases)
    if not purchases:
        parts.append("Buy no servers.")
    else:
        by_spec: dict[str, list[str]] = {}
        for row in purchases:
            by_spec.setdefault(str(row["spec"]), []).append(
                f"{_count(float(row['servers']), 'server')} in {row['calendar_year']}"
            )
        buys = [f"{spec}: " + ", ".join(when) for spec, when in by_spec.items()]
        parts.append("Buy " + "; ".join(buys) + ".")
    commitments = _rows(plan.commitments)
    if commitments:
        commits = [
            f"{_count(float(row['accelerators']), 'accelerator')} for "
            f"{row['term_years']} year{'s' if row['term_years'] > 1 else ''} from "
            f"{row['calendar_year']}"
            for row in commitments
        ]
        model = commitments[0]["accelerator_model"]
        parts.append(f"Commit {', '.join(commits)} ({model}).")
    served = plan.served.groupby("source")["reference_hours"].sum()
    total = float(served.sum())
    if total > 0:
        owned = float(served[served.index.str.startswith("onprem")].sum())
        committed = float(served.get("cloud_committed", 0.0))
        on_demand = float(served.get("cloud_on_demand", 0.0))
        spot = float(served.get("cloud_spot", 0.0))
        burst = on_demand + spot
        kinds = " and ".join(
            name for name, value in (("on-demand", on_demand), ("spot", spot)) if value
        )
        if burst > 1e-9 * total and owned + committed > 0:
            parts.append(
                f"Burst the peaks to {kinds} cloud ({burst / total:.0%} of the work)."
            )
        elif burst > 1e-9 * total:
            parts.append(f"Rent everything {kinds} ({burst / total:.0%} of the work).")
        if owned >= 0.005 * total:
            parts.append(f"Owned servers do {owned / total:.0%} of the work.")
    deferred = float(plan.deferred["reference_hours"].sum())
    if deferred > 0.5:
        parts.append(
            f"Defer {deferred:,.0f} reference hours of peak work to spare hours later "
            "in the same year."
        )
    parts.append(
        f"NPV {_money(plan.npv_usd)} over {scenario.horizon_years} years at "
        f"{scenario.real_discount_rate:.1%} real; {plan.co2e_kg / 1e3:,.1f} t CO2e."
    )
    binding = plan.binding[
        plan.binding["binding_in_plan"] | (plan.binding["removal_saves_usd"] > 1.0)
    ]
    if not binding.empty:
        limits = []
        saved: dict[str, float] = {}
        for row in _rows(binding):
            group = str(row["constraint"])
            when = _when(group, _optional_int(row["year"]), scenario.start_year)
            when = f" in {when.strip()}" if when else ""
            shadow = float(row["shadow_price"])
            price = f", {shadow:,.4g} {row['unit']} at the margin" if shadow > 0 else ""
            limits.append(f"{group}{when}{price}")
            saved[group] = float(row["removal_saves_usd"])
        parts.append("Limits that bind: " + "; ".join(limits) + ".")
        costs = [
            f"removing {group} would save {_money(value)}"
            for group, value in saved.items()
            if value > 1.0
        ]
        if costs:
            parts.append(costs[0][0].upper() + "; ".join(costs)[1:] + ".")
    if plan.status != "optimal":
        parts.append(
            f"Stopped at the time limit: within {plan.mip_gap:.2%} of the optimum."
        )
    return " ".join(parts)


def optimise(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    *,
    pareto_points: int = 0,
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
        (:func:`pareto_frontier`, at least 2) and attach it as ``plan.pareto``.

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
    >>> from importlib import resources
    >>> from planner.scenario import scenario_from_yaml
    >>> text = resources.files("planner").joinpath("presets/grant.yaml").read_text()
    >>> plan = optimise(scenario_from_yaml(text), OptimiseOptions(blocks_per_year=12))
    >>> plan.status, plan.npv_usd > 0, plan.co2e_kg > 0
    ('optimal', True, True)
    """
    problem = build_problem(scenario, options)
    plan = extract(problem, solve(problem))
    if pareto_points:
        frontier = pareto_frontier(scenario, options, pareto_points)
        plan = dataclasses.replace(plan, pareto=frontier)
    return plan


# --- infeasibility -------------------------------------------------------------------


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
    extra = _Extra(slack=slack, c=np.concatenate([np.zeros(problem.c.size), weights]))
    result, final = _solve_generated(problem, extra)
    if result.x is None:
        return None, final
    return np.asarray(result.x[problem.c.size :], dtype=float), final


def _violation_line(problem: Problem, row: int, slack: float) -> str:
    info = problem.constraints.iloc[row]
    group = str(info["group"])
    start = problem.scenario.start_year
    when = _when(group, _optional_int(info.get("year")), start)
    if group == "demand":
        hours = slack * HOURS_PER_YEAR
        return (
            f"demand: {when}has {hours:,.0f} reference accelerator-hours that no "
            "allowed source can serve"
        )
    scale = float(info["scale"])
    limit = float(info["limit"])
    need = limit + slack * scale
    if group in ("capital_budget_usd_per_year", "total_budget_usd"):
        subject = when or "the plan "
        return (
            f"{group}: {subject}needs at least {_money(need)}, the limit is "
            f"{_money(limit)}"
        )
    if group == "site_power_kw":
        return (
            f"{group}: {when}needs at least {need:,.1f} kW, the limit is "
            f"{limit:,.1f} kW"
        )
    if group == "racks":
        per_rack = problem.options.rack_units_per_rack
        racks = math.ceil(need / per_rack - 1e-9)
        return (
            f"racks: {when}needs at least {racks} racks ({need:,.0f} U), the limit "
            f"is {problem.options.racks} racks"
        )
    if group == "carbon_cap_co2e_kg_per_year":
        return (
            f"{group}: {when}needs at least {need:,.0f} kg CO2e, the limit is "
            f"{limit:,.0f} kg"
        )
    if group == "min_onprem_share":
        return (
            f"{group}: at most {limit - slack * scale:.3f} of the work can run on "
            f"owned servers, the minimum is {limit:.3f}"
        )
    if group == "max_servers_per_year":
        return (
            f"{group}: {when}needs at least {math.ceil(need - 1e-9)} servers, the "
            f"limit is {int(limit)}"
        )
    return f"{group}: {when}exceeded by {slack * scale:,.4g}"


_PURCHASE_TIME_LIMITS = ("capital_budget_usd_per_year", "max_servers_per_year")


def _when(group: str, year: int | None, start_year: int) -> str:
    """Words for the year of a row: purchase time, or running year and calendar."""
    if year is None:
        return ""
    if group in _PURCHASE_TIME_LIMITS:
        return f"{start_year + year} "
    if year == 0:
        return f"year 0 (purchases, {start_year}) "
    return f"running year {year} ({start_year + year - 1}) "


def diagnose_infeasibility(problem: Problem) -> list[str]:
    """Explain an infeasible plan: which limit is at fault, and by how much.

    Each limit (capital budget, total budget, site power, racks, carbon cap,
    minimum on-prem share, servers per year) is made elastic in turn: a slack
    variable per row, minimising the relative violation while every other
    constraint holds. The first limit whose relaxation makes the problem feasible
    is reported row by row. If none does alone, every limit and the demand itself
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
    groups = [group for group in LIMIT_UNITS if group in present]
    for group in groups:
        rows = np.flatnonzero((meta["group"] == group).to_numpy())
        slack, final = _elastic(problem, rows)
        if slack is not None:
            lines = [
                _violation_line(final, int(row), float(value)) + suffix
                for row, value in zip(rows, slack, strict=True)
                if value > 1e-7
            ]
            return lines or [f"{group}: the limit is exactly tight{suffix}"]
    rows = np.flatnonzero(meta["group"].isin([*groups, "demand"]).to_numpy())
    slack, final = _elastic(problem, rows)
    if slack is None:
        return ["no plan meets the demand, even ignoring every limit" + suffix]
    lines = [
        _violation_line(final, int(row), float(value)) + suffix
        for row, value in zip(rows, slack, strict=True)
        if value > 1e-7
    ]
    return lines or ["the problem is infeasible but no limit could be singled out"]


# --- Pareto frontier -----------------------------------------------------------------


def pareto_frontier(
    scenario: Scenario, options: OptimiseOptions | None = None, points: int = 10
) -> pd.DataFrame:
    """Cost against CO2e: an epsilon-constraint sweep with implied carbon prices.

    The cheapest plan gives the frontier's high-CO2e end and the plan of least
    CO2e its low end; between them ``points`` caps on the horizon's CO2e are
    spaced evenly and the cheapest plan under each is found (one MILP per point)
    [1]_. A plan that already meets the next, tighter cap is optimal for it too,
    and is reused without solving (the "bypass" of AUGMECON2 [2]_). The implied
    carbon price at each point is the dual of the cap in the LP relaxation, as
    PyPSA reports the ``mu`` of a global CO2 constraint (methods notes 1.4); it
    is the slope of the continuous frontier there. The integer frontier's own
    slope to the previous point is reported beside it. The options' carbon price
    is set to zero here: the frontier itself prices carbon.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions, optional
        Choices and limits (per-year caps and budgets still apply).
    points : int, default 10
        Points on the frontier, at least 2.

    Returns
    -------
    pandas.DataFrame
        One row per point, from the cheapest to the cleanest: ``co2e_cap_kg``,
        ``co2e_kg`` [kg], ``npv_usd`` [USD], ``carbon_price_usd_per_t`` (LP
        relaxation dual) and ``frontier_slope_usd_per_t`` [USD/t CO2e],
        ``mip_gap`` [-] and ``solved`` (False where the bypass applied).

    Raises
    ------
    ValueError
        If ``points`` < 2.
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
    if points < 2:
        msg = f"points must be at least 2, got {points!r}"
        raise ValueError(msg)
    base = options or OptimiseOptions()
    problem = build_problem(scenario, replace(base, carbon_price_usd_per_t=0.0))
    cheapest, problem = _solve_generated(problem)
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
    cleanest, problem = _solve_generated(problem, _Extra(c=co2_row))
    if cleanest.x is None:
        msg = f"least-CO2e plan failed: {cleanest.message}"
        raise RuntimeError(msg)
    x = _rounded(problem, np.asarray(cheapest.x, dtype=float))
    gap = float(getattr(cheapest, "mip_gap", 0.0) or 0.0)
    high = float(co2_row @ x)
    low = min(high, float(co2_row @ _rounded(problem, np.asarray(cleanest.x))))
    cap_row = sparse.csr_array(co2_row[None, :])
    delay = problem.cost_flows.get("delay")
    lower_bound = _dual_bound(cheapest, -np.inf)
    # The cleanest plan meets every cap, so no point costs more than it does.
    clean_x = _rounded(problem, np.asarray(cleanest.x, dtype=float))
    upper_bound = float(problem.c @ clean_x) * (1 + 1e-9) + 1e-9
    rows = []
    for cap in np.linspace(high, low, points):
        # A hair of room keeps the cleanest point feasible after rounding.
        room = cap + 1e-7 * max(1.0, abs(cap))
        extra = _Extra(
            rows=cap_row, rows_lb=np.array([-np.inf]), rows_ub=np.array([room])
        )
        solved = float(co2_row @ x) > room
        if solved:
            # A tighter cap cannot cost less: the previous point's dual bound is a
            # valid lower bound on this one's objective, which prunes the search.
            bounded = _Extra(
                rows=sparse.csr_array(np.vstack([problem.c, co2_row])),
                rows_lb=np.array([lower_bound, -np.inf]),
                rows_ub=np.array([upper_bound, room]),
            )
            result, problem = _solve_generated(problem, bounded)
            if result.x is None:
                where = f"{cap * KG_PER_SOLVER_UNIT:,.0f} kg"
                msg = f"Pareto point at {where}: {result.message}"
                raise RuntimeError(msg)
            x = _rounded(problem, np.asarray(result.x, dtype=float))
            gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
            lower_bound = _dual_bound(result, lower_bound)
        lp, _ = _solve_generated(problem, extra, relax=True)
        price = max(0.0, -float(lp["d_ub"][-1])) if lp.status == 0 else float("nan")
        npv = float(problem.c @ x) * USD_PER_SOLVER_UNIT
        if delay is not None:
            npv -= float(problem.inputs.discount @ (delay @ x))
        rows.append(
            {
                "co2e_cap_kg": float(cap * KG_PER_SOLVER_UNIT),
                "co2e_kg": float(co2_row @ x * KG_PER_SOLVER_UNIT),
                "npv_usd": npv,
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


def _dual_bound(result: optimize.OptimizeResult, fallback: float) -> float:
    """Proven lower bound of a minimisation (HiGHS dual bound), loosened a hair."""
    bound = getattr(result, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = result.fun if result.fun is not None else fallback
    value = float(bound)
    return max(fallback, value - 1e-9 * max(1.0, abs(value)))


# --- re-evaluation with the engine ---------------------------------------------------


@dataclass(frozen=True)
class PlanEvaluation:
    """A plan re-evaluated with the engine's ledgers (:mod:`planner.tco`)."""

    npv_usd: float
    """Present value of all cash costs, every payer. [USD]"""
    objective_usd: float
    """NPV plus discounted carbon charge and delay cost. [USD]"""
    co2e_kg: float
    """CO2e over the horizon. [kg]"""
    unserved_reference_hours: float
    """Work no allowed source could serve (merit-order dispatch only). [h]"""
    costs: pd.DataFrame
    """Long table: year, category, payer, cost_usd, co2e_kg."""


def _merit_order(
    inputs: _Inputs,
    owned: FloatArray,
    committed: FloatArray,
    levels: FloatArray,
    hours: FloatArray,
) -> dict[str, FloatArray]:
    """Greedy dispatch of fixed capacities, cheapest marginal source first.

    ``owned`` has shape (specs, years) and ``committed`` (years,), both usable
    reference accelerators. In each block, capacity sources cheaper than the
    cloud (energy and carbon price) serve in order of marginal cost; overflow is
    deferred to spare capacity later in the year when the delay cost plus that
    capacity's marginal cost is below the cloud's (or the cloud is not allowed),
    and the rest is rented from the cheaper of spot and on-demand. For fixed
    capacities, without a CO2e cap or share floor, this solves the dispatch LP
    exactly (a fractional knapsack per block and year). Returns the work of each
    source per year [mean reference accelerators] and ``unserved``.
    """
    opts = inputs.options
    carbon = opts.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    n = levels.shape[0]
    pue = inputs.scenario.site.pue
    capacity: list[tuple[str, FloatArray, FloatArray]] = []
    rented: dict[str, FloatArray] = {}
    if inputs.cloud is not None:
        paths = _cloud_paths(inputs)
        fa = 1.0 + inputs.cloud.indirect_rate
        if inputs.terms:
            capacity.append(
                (
                    "cloud_committed",
                    committed,
                    carbon * paths["co2e_kg_per_reference_hour"],
                )
            )
        if inputs.cloud.spot:
            rented["cloud_spot"] = (
                paths["spot_usd_per_reference_hour"] * fa
                + carbon * paths["spot_co2e_kg_per_reference_hour"]
            )
        rented["cloud_on_demand"] = (
            paths["on_demand_usd_per_reference_hour"] * fa
            + carbon * paths["co2e_kg_per_reference_hour"]
        )
    for k, spec in enumerate(inputs.specs):
        kwh = spec.dynamic_kw_per_reference * pue
        marginal = kwh * (
            inputs.tariff_usd_per_kwh + carbon * inputs.grid_co2e_kg_per_kwh
        )
        capacity.append((f"onprem:{spec.name}", owned[k], marginal))
    served = {name: np.zeros_like(levels) for name, _, _ in capacity}
    remaining = levels.copy()
    deferred = np.zeros(n)
    delay = opts.delay_cost_usd_per_reference_hour
    for year in range(n):
        best_cloud = min((float(m[year]) for m in rented.values()), default=np.inf)
        order = sorted(capacity, key=lambda source: float(source[2][year]))
        for name, cap, marginal in order:
            if float(marginal[year]) > best_cloud:
                continue  # renting is cheaper than running this capacity
            take = np.minimum(remaining[year], cap[year])
            served[name][year] = take
            remaining[year] -= take
        overflow = float(remaining[year] @ hours)
        if delay is None or overflow <= 0:
            continue
        moved = 0.0
        for name, cap, marginal in order:
            if delay + float(marginal[year]) >= best_cloud:
                continue
            room = cap[year] - served[name][year]
            room_hours = float(room @ hours)
            take = min(overflow - moved, room_hours)
            if take > 0:
                served[name][year] += room * (take / room_hours)
                moved += take
        deferred[year] = moved / HOURS_PER_YEAR
        remaining[year] *= 1.0 - moved / overflow
    out = {name: (values @ hours) / HOURS_PER_YEAR for name, values in served.items()}
    out["deferred"] = deferred
    cheapest = (
        {
            year: min(rented, key=lambda name: float(rented[name][year]))
            for year in range(n)
        }
        if rented
        else {}
    )
    for name in rented:
        out[name] = np.array(
            [
                float(remaining[year] @ hours) / HOURS_PER_YEAR
                if cheapest[year] == name
                else 0.0
                for year in range(n)
            ]
        )
    unserved = np.zeros(n) if rented else (remaining @ hours) / HOURS_PER_YEAR
    out["unserved"] = unserved
    return out


def _ledger_costs(
    inputs: _Inputs,
    purchases: Sequence[tuple[int, int, float]],
    commitments: Sequence[tuple[int, int, float]],
    energies: Mapping[str, FloatArray],
) -> pd.DataFrame:
    """Flows of a plan computed by the engine's ledgers, vintage by vintage.

    ``purchases`` holds (spec index, purchase year, servers); ``commitments``
    (term, start year, accelerators); ``energies`` maps sources to their work per
    running year [mean reference accelerators], which the engine receives as a
    flat demand of that level over 8760 h (its costs are linear in the work).
    """
    scenario = inputs.scenario
    n = inputs.years
    hours = np.array([HOURS_PER_YEAR])
    rows: list[tuple[str, str, FloatArray, FloatArray]] = []

    def add(ledger: tco.Ledger, *, keep_costs: bool = True) -> None:
        for category, payer, scope, cost, _, co2e in ledger.rows:
            label = category
            if category in ("cloud_energy", "cloud_embodied"):
                label = "cloud_energy_and_embodied"
            elif scope == "embodied":
                label = "embodied"
            rows.append(
                (label, payer, cost[0] if keep_costs else np.zeros(n + 1), co2e[0])
            )

    any_active = np.zeros(n, dtype=bool)
    for k, spec in enumerate(inputs.specs):
        mine = [(year, count) for s, year, count in purchases if s == k and count > 0]
        if not mine:
            continue
        active = _active([year for year, _ in mine], spec.template.lifetime_years, n)
        counts = np.array([count for _, count in mine])
        total_active = active @ counts
        any_active |= total_active > 0
        work = np.asarray(energies.get(f"onprem:{spec.name}", np.zeros(n)))
        for j, (year, count) in enumerate(mine):
            share = np.divide(
                active[:, j] * count,
                total_active,
                out=np.zeros(n),
                where=total_active > 0,
            )
            strategy = replace(
                spec.template, servers=float(count), purchase_year=year, staff_fte=0.0
            )
            ledger = tco.strategy_ledger(
                strategy, scenario, (work * share)[None, :, None], hours
            )
            add(ledger)
    staff = np.zeros(n + 1)
    staff[1:] = any_active * inputs.staff_usd_per_year
    rows.append(("staff", "project", staff, np.zeros(n + 1)))
    cloud = inputs.cloud
    if cloud is not None:
        for name, purchase, multiplier in (
            ("cloud_on_demand", "on_demand", 1.0),
            ("cloud_spot", "spot", 1.0),
            ("cloud_committed", "on_demand", 0.0),
        ):
            rented = energies.get(name)
            if rented is None or not np.any(rented):
                continue
            offer = replace(cloud.strategy, purchase=purchase)
            ledger = tco.strategy_ledger(
                offer,
                scenario,
                np.asarray(rented)[None, :, None],
                hours,
                cloud_price_multiplier=multiplier,
                sizing_hourly=np.zeros(1),
            )
            add(ledger, keep_costs=multiplier > 0)
        trend = (1.0 + cloud.strategy.price_change_per_year) ** np.arange(
            n, dtype=float
        )
        for term, begin, accelerators in commitments:
            fee = np.zeros(n + 1)
            span = np.arange(begin, begin + term)
            fee[span + 1] = (
                accelerators
                * HOURS_PER_YEAR
                * cloud.resolved.on_demand_usd_per_accelerator_hour
                * trend[begin]  # price locked when the commitment is signed
                * (1.0 - cloud.discounts[term])
            )
            rows.append((f"cloud_commitment_{term}y", "project", fee, np.zeros(n + 1)))
            if cloud.indirect_rate:
                rows.append(
                    ("indirect_costs", "project", fee * cloud.indirect_rate, fee * 0)
                )
    delay = inputs.options.delay_cost_usd_per_reference_hour
    deferred = energies.get("deferred")
    if delay is not None and deferred is not None:
        cost = np.zeros(n + 1)
        cost[1:] = np.asarray(deferred) * HOURS_PER_YEAR * delay
        rows.append(("delay", "delay", cost, np.zeros(n + 1)))
    frame = pd.DataFrame(
        {
            "year": np.tile(np.arange(n + 1), len(rows)),
            "category": np.repeat([r[0] for r in rows], n + 1),
            "payer": np.repeat([r[1] for r in rows], n + 1),
            "cost_usd": np.concatenate([r[2] for r in rows]),
            "co2e_kg": np.concatenate([r[3] for r in rows]),
        }
    )
    return frame.groupby(["year", "category", "payer"], as_index=False, sort=True)[
        ["cost_usd", "co2e_kg"]
    ].sum()


def _evaluation(
    inputs: _Inputs, costs: pd.DataFrame, unserved: float
) -> PlanEvaluation:
    discount = inputs.discount[costs["year"].to_numpy()]
    discounted = costs["cost_usd"].to_numpy() * discount
    cash = (costs["payer"] != "delay").to_numpy()
    carbon = inputs.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    return PlanEvaluation(
        npv_usd=float(discounted[cash].sum()),
        objective_usd=float(discounted.sum())
        + carbon * float((costs["co2e_kg"].to_numpy() * discount).sum()),
        co2e_kg=float(costs["co2e_kg"].sum()),
        unserved_reference_hours=unserved,
        costs=costs,
    )


def _plan_capacities(
    inputs: _Inputs,
    purchases: Sequence[tuple[int, int, float]],
    commitments: Sequence[tuple[int, int, float]],
) -> tuple[FloatArray, FloatArray]:
    n = inputs.years
    owned = np.zeros((len(inputs.specs), n))
    for k, year, count in purchases:
        life = inputs.specs[k].template.lifetime_years
        owned[k, year : year + life] += count * inputs.specs[k].capacity_per_server
    committed = np.zeros(n)
    rel = inputs.cloud.resolved.relative_throughput if inputs.cloud else 0.0
    for term, begin, accelerators in commitments:
        committed[begin : begin + term] += accelerators * rel
    return owned, committed


def _plan_decisions(
    inputs: _Inputs, plan: FleetPlan
) -> tuple[list[tuple[int, int, float]], list[tuple[int, int, float]]]:
    names = {spec.name: k for k, spec in enumerate(inputs.specs)}
    purchases = [
        (names[str(row["spec"])], int(row["year"]), float(row["servers"]))
        for row in _rows(plan.purchases)
    ]
    commitments = [
        (int(row["term_years"]), int(row["start_year"]), float(row["accelerators"]))
        for row in _rows(plan.commitments)
    ]
    return purchases, commitments


def evaluate_plan(
    scenario: Scenario, plan: FleetPlan, *, hourly: bool = False
) -> PlanEvaluation:
    """Re-evaluate a plan with the engine's cost model, independently of the MILP.

    Each vintage (spec, purchase year, servers) becomes an
    :class:`~planner.scenario.OnPremStrategy` run through
    :func:`planner.tco.strategy_ledger` on its share of the owned work; cloud work
    runs through the same function with the offer's on-demand or spot purchase
    model (committed work for its CO2e only); commitment fees follow the engine's
    rule (accelerators x 8760 h x the year's on-demand price x (1 - discount),
    plus F&A); staff is paid in every year with servers running. Nothing here
    reads the solver's matrices.

    Differences from :func:`planner.tco.evaluate` of one strategy: the engine's
    :class:`~planner.scenario.OnPremStrategy` holds one server count and refreshes
    it at end of life, so a multi-vintage plan is evaluated as one strategy per
    vintage (without staff) plus one staff line; and the engine's commitments
    start in year 0 and renew, while a plan may start one in any year. Storage
    and egress of the cloud offer are left out (they do not depend on the plan).

    Parameters
    ----------
    scenario : Scenario
        The scenario the plan was made for.
    plan : FleetPlan
        From :func:`optimise`.
    hourly : bool, default False
        False: cost the solver's own work per source and year (the result must
        equal the solver's objective). True: dispatch the plan's capacities
        against the scenario's 8760-hour demand in merit order, as the engine's
        hybrid does; the difference from ``plan.npv_usd`` is the error of the
        load-duration blocks.

    Returns
    -------
    PlanEvaluation
        NPV, objective, CO2e, unserved work and the flows by category.
    """
    inputs = _inputs(scenario, plan.options)
    purchases, commitments = _plan_decisions(inputs, plan)
    unserved = 0.0
    if hourly:
        levels = tco.scenario_demand(scenario).levels
        owned, committed = _plan_capacities(inputs, purchases, commitments)
        energies = _merit_order(
            inputs, owned, committed, levels, np.ones(levels.shape[1])
        )
        unserved = float(energies.pop("unserved").sum() * HOURS_PER_YEAR)
    else:
        energies = {}
        for source, group in plan.served.groupby("source"):
            work = np.zeros(inputs.years)
            work[group["year"].to_numpy() - 1] = group["reference_hours"].to_numpy()
            energies[str(source)] = work / HOURS_PER_YEAR
        late = np.zeros(inputs.years)
        late[plan.deferred["year"].to_numpy() - 1] = plan.deferred[
            "reference_hours"
        ].to_numpy()
        energies["deferred"] = late / HOURS_PER_YEAR
    costs = _ledger_costs(inputs, purchases, commitments, energies)
    return _evaluation(inputs, costs, unserved)


# --- brute force (an oracle for tests and benchmarks) --------------------------------


@dataclass(frozen=True)
class BruteForceResult:
    """The best plan found by enumerating every integer decision."""

    objective_usd: float
    """Best NPV plus carbon charge and delay cost. [USD]"""
    npv_usd: float
    """Its NPV of cash costs. [USD]"""
    purchases: tuple[tuple[str, int, int], ...]
    """(spec, purchase year, servers) with servers > 0."""
    commitments: tuple[tuple[int, int, float], ...]
    """(term years, start year, accelerators) with accelerators > 0."""
    combinations: int
    """Integer combinations enumerated. [-]"""


def brute_force_plan(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    *,
    max_combinations: int = BRUTE_FORCE_MAX_COMBINATIONS,
) -> BruteForceResult:
    """Cheapest plan by exhaustive enumeration: an oracle independent of the MILP.

    Every combination of servers per (spec, purchase year), from 0 to the number
    that covers the peak of the years they serve, and of committed accelerators
    per (term, start) likewise, is dispatched in merit order on the same
    load-duration blocks as the MILP and costed with the engine's ledgers (the
    path of :func:`evaluate_plan`). No solver is involved. Exponential: for tiny
    instances in tests and benchmarks only.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    options : OptimiseOptions, optional
        Choices and limits; the carbon cap and minimum on-prem share are not
        supported (greedy dispatch cannot honour them).
    max_combinations : int, default 200000
        Refuse larger enumerations. [-]

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
    inputs = _inputs(scenario, options)
    opts = inputs.options
    if opts.carbon_cap_co2e_kg_per_year is not None or opts.min_onprem_share:
        msg = (
            "brute_force_plan supports budgets, power, racks and server counts, "
            "not carbon_cap_co2e_kg_per_year or min_onprem_share"
        )
        raise ValueError(msg)
    n = inputs.years
    yearly_peak = inputs.levels.max(axis=1)
    unit = 1.0
    slots: list[tuple[str, int, int, int]] = []
    for k, spec in enumerate(inputs.specs):
        life = spec.template.lifetime_years
        for year in inputs.purchase_years:
            reach = float(yearly_peak[year : year + life].max())
            top = math.ceil(reach / spec.capacity_per_server - 1e-9)
            slots.append(("servers", k, year, top))
    if inputs.cloud is not None:
        unit = inputs.cloud.unit_accelerators
        per_unit = unit * inputs.cloud.resolved.relative_throughput
        for term in inputs.terms:
            for begin in range(n - term + 1):
                reach = float(yearly_peak[begin : begin + term].max())
                top = math.ceil(reach / per_unit - 1e-9)
                slots.append(("commit", term, begin, top))
    combinations = math.prod(slot[3] + 1 for slot in slots)
    if combinations > max_combinations:
        msg = (
            f"brute force would enumerate {combinations:,} combinations "
            f"(max_combinations={max_combinations:,})"
        )
        raise ValueError(msg)
    best: tuple[
        float, float, list[tuple[int, int, float]], list[tuple[int, int, float]]
    ]
    best = (np.inf, np.inf, [], [])
    for values in itertools.product(*(range(slot[3] + 1) for slot in slots)):
        chosen = [
            (slot, value) for slot, value in zip(slots, values, strict=True) if value
        ]
        purchases = [(s[1], s[2], float(v)) for s, v in chosen if s[0] == "servers"]
        commitments = [
            (s[1], s[2], float(v) * unit) for s, v in chosen if s[0] == "commit"
        ]
        if not _integer_limits_ok(inputs, purchases):
            continue
        owned, committed = _plan_capacities(inputs, purchases, commitments)
        energies = _merit_order(inputs, owned, committed, inputs.levels, inputs.hours)
        if energies.pop("unserved").sum() > 1e-9 * (1.0 + inputs.mean_demand.sum()):
            continue
        costs = _ledger_costs(inputs, purchases, commitments, energies)
        if opts.total_budget_usd is not None:
            spend = costs[
                (costs["payer"] == "project") & (costs["category"] != "salvage")
            ]["cost_usd"].sum()
            if spend > opts.total_budget_usd * (1 + 1e-9):
                continue
        evaluation = _evaluation(inputs, costs, 0.0)
        if evaluation.objective_usd < best[0]:
            best = (
                evaluation.objective_usd,
                evaluation.npv_usd,
                purchases,
                commitments,
            )
    if not np.isfinite(best[0]):
        msg = "brute force: no combination meets the demand within the limits"
        raise InfeasiblePlanError([msg])
    return BruteForceResult(
        objective_usd=best[0],
        npv_usd=best[1],
        purchases=tuple(
            (inputs.specs[k].name, year, int(count)) for k, year, count in best[2]
        ),
        commitments=tuple(best[3]),
        combinations=combinations,
    )


def _integer_limits_ok(
    inputs: _Inputs, purchases: Sequence[tuple[int, int, float]]
) -> bool:
    """Check the limits that depend on servers only (budget, power, racks, count)."""
    opts = inputs.options
    n = inputs.years
    rate = inputs.scenario.institution.indirect_cost_rate
    threshold = inputs.scenario.institution.equipment_threshold_usd
    capex_usd: dict[int, float] = defaultdict(float)
    count_by_year: dict[int, float] = defaultdict(float)
    power_kw = np.zeros(n)
    units = np.zeros(n)
    for k, year, count in purchases:
        spec = inputs.specs[k]
        r, t = spec.resolved, spec.template
        capex = (
            count
            * r.server_price_usd
            * (1.0 + t.capex_change_per_year) ** year
            * (1.0 + r.cluster_overhead_fraction)
        )
        if r.server_price_usd < threshold:
            capex *= 1.0 + rate
        capex_usd[year] += capex
        count_by_year[year] += count
        alive = slice(year, year + t.lifetime_years)
        power_kw[alive] += count * r.max_power_w / WATTS_PER_KILOWATT
        units[alive] += count * (spec.rack_units or 0.0)
    budget = opts.capital_budget_usd_per_year
    if budget is not None and max(capex_usd.values(), default=0.0) > budget * (
        1 + 1e-9
    ):
        return False
    most = opts.max_servers_per_year
    if most is not None and max(count_by_year.values(), default=0.0) > most:
        return False
    if opts.site_power_kw is not None and (power_kw > opts.site_power_kw + 1e-9).any():
        return False
    if opts.racks is not None:
        room = opts.racks * opts.rack_units_per_rack
        if (units > room + 1e-9).any():
            return False
    return True
