"""The optimiser's inputs: every option priced once through :mod:`planner.costing`.

The option set is the scenario's (DESIGN "one option set"): every server spec the
user lists (or every catalog server), bought in any allowed year; every cloud
offer of the scenario (each cloud strategy and each burst), on-demand, spot and
committed in whole instances of the offer; owned work caught up later in the
year at the delay cost, or left unserved at the unserved cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import costing, demand
from planner.costing import UnitFlows, View
from planner.optimise.options import OptimiseOptions
from planner.resolve import (
    OwnedOps,
    ResolutionError,
    ResolvedCloudStrategy,
    ResolvedOffer,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    ResolvedServer,
    owned_ops,
    resolve_server,
    scenario_demand,
)
from planner.scenario import OnPremStrategy
from pricing.finance import capital_recovery_factor
from pricing.units import HOURS_PER_YEAR, WATTS_PER_KILOWATT

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_SERVER_SPEC = "8xH100-SXM"
"""Server offered when the scenario owns none (the catalog's H100 node). [-]"""

INITIAL_BREAKPOINTS = 4
"""Load-duration breakpoints of each capacity set written before solving (on
the exact curve: its two ends and its busiest hour); the others are added only
where a solution needs them. Few is faster: every tangent written up front is a
row HiGHS separates cuts over in every branch-and-cut, and on the department
example with four specs 24 of them made each Pareto point about twice as slow
as 4 (``benchmarks/bench_optimise.py``, 2026-12-02). A block curve writes all
of its points. [-]"""


@dataclass(frozen=True)
class SpecOption:
    """One server specification the plan may buy, priced per server and vintage."""

    name: str
    server: ResolvedServer
    ops: OwnedOps
    capacity_per_server: float
    """Usable reference accelerators per server. [reference accelerators]"""
    vintages: dict[int, UnitFlows]
    """Per-server flows of a server bought at each allowed year."""
    work: UnitFlows
    """Flows of one reference hour served on it, by year."""
    max_power_kw: float
    rack_units: float | None


@dataclass(frozen=True)
class OfferOption:
    """One cloud offer the plan may rent: on-demand, spot and commitments."""

    name: str
    """The scenario strategy (or burst) it comes from (the first, when several
    strategies name the same offer)."""
    offer: ResolvedOffer
    on_demand: UnitFlows
    spot: UnitFlows | None
    committed_use: UnitFlows
    commitments: dict[tuple[int, int], UnitFlows]
    """Per-instance flows by (term, start)."""

    @property
    def label(self) -> str:
        """The offer in words: provider, instance and region, or the quote."""
        offer = self.offer
        if offer.instance_type is None:
            return self.name
        return f"{offer.provider} {offer.instance_type} ({offer.region})"

    @property
    def instance_capacity(self) -> float:
        """Usable reference accelerators of one instance."""
        return self.offer.accelerators_per_instance * self.offer.relative_throughput

    @property
    def terms(self) -> tuple[int, ...]:
        """Commitment terms offered. [years]."""
        return tuple(sorted({term for term, _ in self.commitments}))


@dataclass(frozen=True)
class DemandCurve:
    """Each running year's load-duration curve, exact or in blocks.

    ``served(K) = E_i + H_i K`` with ``i`` the number of points above ``K``: the
    mean demand a capacity ``K`` serves when it arrives, a concave function
    whose tangents are the capacity cuts.
    """

    levels: FloatArray
    """Shape (years, points): demand, descending. [reference accelerators]"""
    hours: FloatArray
    """Shape (points,): hours each point stands for. [h]"""
    exact: bool
    """True when the curve is the hourly demand itself (no approximation)."""
    mean: FloatArray
    """Shape (years,): mean busy reference accelerators of each year."""
    share_prefix: FloatArray
    """Shape (points + 1,): share of the year in the i busiest points, H_i."""
    energy_tail: FloatArray
    """Shape (years, points + 1): mean demand of all but the i busiest, E_i."""

    @classmethod
    def of(cls, levels: FloatArray, hours: FloatArray, *, exact: bool) -> DemandCurve:
        """The curve of descending levels with their hours."""
        energy = levels * hours / HOURS_PER_YEAR
        tail = np.cumsum(energy[:, ::-1], axis=1)[:, ::-1]
        return cls(
            levels=levels,
            hours=hours,
            exact=exact,
            mean=np.asarray(energy.sum(axis=1), dtype=float),
            share_prefix=np.concatenate([[0.0], np.cumsum(hours)]) / HOURS_PER_YEAR,
            energy_tail=np.concatenate([tail, np.zeros((energy.shape[0], 1))], axis=1),
        )

    def breakpoints(self, year: int, capacity: FloatArray) -> IntArray:
        """Number of points above each capacity (the tangent's index)."""
        return np.asarray(
            np.searchsorted(-self.levels[year], -np.asarray(capacity), side="left"),
            dtype=np.int64,
        )

    def served(self, year: int, capacity: FloatArray) -> FloatArray:
        """Mean demand each capacity serves when it arrives: sum_h w min(D_h, K)."""
        index = self.breakpoints(year, capacity)
        return np.asarray(
            self.energy_tail[year, index] + self.share_prefix[index] * capacity,
            dtype=float,
        )

    def breakpoint(self, year: int, capacity: float) -> int:
        """Index of the tangent of the served curve at a capacity."""
        return int(self.breakpoints(year, np.array([capacity]))[0])


@dataclass(frozen=True)
class OptimiseInputs:
    """Everything the formulation needs, priced once."""

    resolved: ResolvedScenario
    options: OptimiseOptions
    view: View
    specs: tuple[SpecOption, ...]
    offers: tuple[OfferOption, ...]
    staff: UnitFlows | None
    curve: DemandCurve
    purchase_years: tuple[int, ...]
    service: dict[str, UnitFlows]
    notes: tuple[str, ...]

    @property
    def years(self) -> int:
        """Return the running years of the horizon, N."""
        return self.resolved.horizon_years

    @property
    def discount(self) -> FloatArray:
        """Shape (years + 1,): (1 + r)^-t."""
        return self.resolved.discount

    @property
    def scenario(self):  # type: ignore[no-untyped-def]
        """The scenario."""
        return self.resolved.scenario

    def options_considered(self) -> dict[str, list[str]]:
        """The specs and offers the plan chose among (the JSON contract)."""
        return {
            "server_specs": [spec.name for spec in self.specs],
            "cloud_offers": [offer.name for offer in self.offers],
        }


def block_curve(levels: FloatArray, blocks: int) -> DemandCurve:
    """Each year's hourly demand as load-duration blocks (an approximation).

    The busiest hour is kept as a block of its own, so a plan meets the true peak;
    the other hours are split by :func:`planner.demand.duration_blocks` into
    ``blocks - 1`` blocks of (nearly) equal length. Energy is conserved exactly;
    the block means overstate what a capacity serves (by at most the error
    bound :func:`planner.optimise.extract.block_error_bound_usd` prints).

    Parameters
    ----------
    levels : numpy.ndarray of shape (years, hours)
        Hourly demand. [reference accelerators]
    blocks : int
        Blocks per year, 1 to 8760.

    Returns
    -------
    DemandCurve
        Block levels and hours.
    """
    out = np.empty((levels.shape[0], blocks))
    hours = np.empty(blocks)
    for year, row in enumerate(levels):
        if blocks == 1:
            out[year], hours = demand.duration_blocks(row, 1)
            continue
        ordered = demand.load_duration_curve(row)
        rest_levels, rest_hours = demand.duration_blocks(ordered[1:], blocks - 1)
        out[year] = np.concatenate([ordered[:1], rest_levels])
        hours = np.concatenate([[1.0], rest_hours])
    return DemandCurve.of(out, hours, exact=False)


def exact_curve(levels: FloatArray, hours: FloatArray) -> DemandCurve:
    """Each year's demand sorted descending: the exact load-duration curve.

    Parameters
    ----------
    levels : numpy.ndarray of shape (years, points)
        Demand. [reference accelerators]
    hours : numpy.ndarray of shape (points,)
        Hours per point (ones for hourly demand). [h]

    Returns
    -------
    DemandCurve
        The sorted curve; nothing is approximated.
    """
    if np.all(hours == hours[0]):
        ordered = -np.sort(-levels, axis=1)
        return DemandCurve.of(ordered, hours.copy(), exact=True)
    order = np.argsort(-levels, axis=1, kind="stable")
    sorted_levels = np.take_along_axis(levels, order, axis=1)
    # Years may sort differently; merge to a common weight by repeating hours.
    if not np.all(order == order[0]):
        msg = "weighted demand with a different order each year is not supported"
        raise ValueError(msg)
    return DemandCurve.of(sorted_levels, hours[order[0]], exact=True)


CAPEX_CATEGORY = "capex"
"""The cost category of a server's purchase (:mod:`planner.costing`)."""

RESALE_CATEGORY = "salvage"
"""The cost category of a server's resale (:mod:`planner.costing`)."""


def annuity_flows(
    flows: UnitFlows, bought: int, lifetime_years: int, rate: float
) -> UnitFlows:
    r"""A server vintage's flows with its capex as an annuity while in service.

    Every lump paid at purchase for the hardware (the ``capex`` line and the F&A
    charged on it) becomes a level payment of the capital recovery factor times
    the lump [1]_ at the end of each running year of the server's life inside
    the horizon, ``t = b + 1 .. min(b + L, N)``; the resale line is dropped.
    This is how capacity-expansion models (PyPSA, GenX) count investment: no
    annuity runs past the horizon, and a server whose life ends inside it costs
    the same present value at the annuity's rate as the lump.

    Parameters
    ----------
    flows : planner.costing.UnitFlows
        The vintage's cash-flow view (:func:`planner.costing.server_vintage_flows`).
    bought : int
        Purchase time ``b``. [years]
    lifetime_years : int
        Service life ``L``. [years]
    rate : float
        Annuity rate (real). [1/year]

    Returns
    -------
    planner.costing.UnitFlows
        The same lines, capex and its F&A as annuities, no resale.

    Notes
    -----
    .. math:: A = \mathrm{CRF}(r, L)\, C, \qquad
              \mathrm{CRF}(r, L) = \frac{r}{1 - (1 + r)^{-L}}

    References
    ----------
    .. [1] E. L. Grant, W. G. Ireson, and R. S. Leavenworth, *Principles of
       Engineering Economy*, 8th ed. New York: Wiley, 1990, ch. 4.

    Examples
    --------
    >>> import numpy as np
    >>> from planner.costing import Line, UnitFlows
    >>> zero = np.zeros(4)
    >>> lump = Line("capex", "project", np.array([100.0, 0, 0, 0]), zero, zero)
    >>> out = annuity_flows(UnitFlows((lump,)), 0, 3, 0.0)
    >>> out.lines[0].cost_usd.round(6).tolist()
    [0.0, 33.333333, 33.333333, 33.333333]
    """
    width = flows.lines[0].cost_usd.size if flows.lines else 1
    horizon = width - 1
    factor = float(np.asarray(capital_recovery_factor(rate, float(lifetime_years))))
    paid = np.zeros(width)
    paid[bought + 1 : min(bought + lifetime_years, horizon) + 1] = factor
    lines = []
    for line in flows.lines:
        if line.category == RESALE_CATEGORY:
            continue
        if CAPEX_CATEGORY in (line.category, line.base):
            lump = float(line.cost_usd[bought])
            cost = line.cost_usd.copy()
            cost[bought] -= lump
            lines.append(replace(line, cost_usd=cost + lump * paid))
        else:
            lines.append(line)
    return replace(flows, lines=tuple(lines))


def _owned(resolved: ResolvedScenario) -> list[ResolvedOwnedStrategy]:
    return [s for s in resolved.strategies if isinstance(s, ResolvedOwnedStrategy)]


def spec_names(resolved: ResolvedScenario, options: OptimiseOptions) -> tuple[str, ...]:
    """The server specs the plan may buy (options, else the scenario's, else H100)."""
    specs = options.server_specs
    if specs == "all":
        return tuple(str(s) for s in resolved.catalog.frame("servers")["server"])
    if specs is None:
        owned = dict.fromkeys(s.server.server for s in _owned(resolved))
        return tuple(owned) or (DEFAULT_SERVER_SPEC,)
    return tuple(specs)


def _spec_option(
    resolved: ResolvedScenario,
    name: str,
    purchase_years: tuple[int, ...],
    template: ResolvedOwnedStrategy | None = None,
    annuity_rate: float | None = None,
) -> SpecOption:
    """A spec priced with its scenario strategy's settings.

    Quote included; else the first owned strategy's operating settings on the
    catalog's server. With ``annuity_rate``, capex is counted as annuities
    (:func:`annuity_flows`).
    """
    owned = _owned(resolved) if template is None else [template]
    match = next((s for s in owned if s.server.server == name), None)
    if match is not None:
        server, ops = match.server, match.ops
    else:
        catalog_spec = OnPremStrategy(name="server_specs", server=name, servers=0.0)
        ops = owned[0].ops if owned else owned_ops(catalog_spec)
        server = resolve_server(catalog_spec, resolved.scenario, resolved.catalog)
    ops = replace(ops, refresh=False)
    n = resolved.horizon_years
    vintages = {
        year: costing.server_vintage_flows(
            server, ops, resolved.site, resolved.institution, bought=year, horizon=n
        )
        for year in purchase_years
    }
    if annuity_rate is not None:
        vintages = {
            year: annuity_flows(flows, year, ops.lifetime_years, annuity_rate)
            for year, flows in vintages.items()
        }
    return SpecOption(
        name=name,
        server=server,
        ops=ops,
        capacity_per_server=costing.capacity_reference_per_server(server, ops),
        vintages=vintages,
        work=costing.owned_work_rates(
            server, resolved.site, resolved.institution, horizon=n
        ),
        max_power_kw=server.max_power_w / WATTS_PER_KILOWATT,
        rack_units=server.rack_units,
    )


def _offer_strategies(
    resolved: ResolvedScenario, names: tuple[str, ...] | None
) -> list[ResolvedCloudStrategy]:
    found: dict[str, ResolvedCloudStrategy] = {}
    for strategy in resolved.strategies:
        if isinstance(strategy, ResolvedCloudStrategy):
            found[strategy.name] = strategy
        elif strategy.burst is not None:
            found.setdefault(strategy.name, strategy.burst)
    if names is None:
        # Strategies that rent the same offer (on-demand and a commitment of
        # one instance type) are one option: the plan chooses how to buy it.
        unique: dict[tuple[object, ...], ResolvedCloudStrategy] = {}
        for strategy in found.values():
            unique.setdefault(_offer_key(strategy.offer), strategy)
        return list(unique.values())
    unknown = [name for name in names if name not in found]
    if unknown:
        msg = (
            f"cloud_offers: no cloud strategy or burst named {unknown}; known: "
            f"{list(found)}"
        )
        raise ValueError(msg)
    return [found[name] for name in names]


def _offer_key(offer: ResolvedOffer) -> tuple[object, ...]:
    """What makes two offers the same option (prices, throughput, rules)."""
    return (
        offer.provider,
        offer.region,
        offer.instance_type,
        offer.accelerator_model,
        offer.accelerators_per_instance,
        offer.on_demand_usd_per_accelerator_hour,
        offer.spot_usd_per_accelerator_hour,
        offer.price_change_per_year,
        tuple(sorted(offer.commitment_discounts.items())),
        offer.relative_throughput,
        offer.indirect_cost_rate,
        offer.power_w_per_accelerator,
        offer.pue,
    )


def _offer_option(
    resolved: ResolvedScenario,
    name: str,
    strategy: ResolvedCloudStrategy,
    options: OptimiseOptions,
) -> OfferOption:
    n = resolved.horizon_years
    offer = strategy.offer
    spot = None
    if options.allow_spot and offer.spot_usd_per_accelerator_hour is not None:
        spot = costing.cloud_work_rates(offer, "spot", horizon=n)
    commitments: dict[tuple[int, int], UnitFlows] = {}
    for term in options.commitment_terms:
        if term > n:
            continue
        for start in range(n - term + 1):
            commitments[(term, start)] = costing.commitment_instance_flows(
                offer, term, start=start, horizon=n
            )
    return OfferOption(
        name=name,
        offer=offer,
        on_demand=costing.cloud_work_rates(offer, "on_demand", horizon=n),
        spot=spot,
        committed_use=costing.cloud_work_rates(offer, "committed", horizon=n),
        commitments=commitments,
    )


def optimise_inputs(
    resolved: ResolvedScenario,
    options: OptimiseOptions | None = None,
    *,
    template: ResolvedOwnedStrategy | None = None,
) -> OptimiseInputs:
    """Price every option of a resolved scenario for the fleet optimiser.

    Parameters
    ----------
    resolved : ResolvedScenario
        The scenario, resolved against its catalog.
    options : OptimiseOptions, optional
        Choices and limits.
    template : ResolvedOwnedStrategy, optional
        The owned strategy whose server and operating settings price the specs
        (default: the scenario's strategy of each spec).

    Returns
    -------
    OptimiseInputs
        Specs, offers, staff, demand curve and service costs.

    Raises
    ------
    ValueError
        If an option does not fit the scenario (purchase year outside the
        horizon, unknown offer, a spec without rack units while racks are
        limited).
    planner.resolve.ResolutionError
        If a server spec is unknown to the catalog.
    """
    options = options or OptimiseOptions()
    n = resolved.horizon_years
    notes: list[str] = []
    if options.demand_sample == "weighted":
        resolved = replace(
            resolved, demand=scenario_demand(resolved.scenario, sample="weighted")
        )
        points = resolved.demand.hours.size
        if points < HOURS_PER_YEAR:
            notes.append(
                f"demand: the log's {points} hours weighted "
                f"{HOURS_PER_YEAR / points:.4g} h each stand for the year"
            )
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
    years = tuple(sorted(purchase_years))
    names = spec_names(resolved, options)
    if options.racks is not None:
        missing = []
        for name in names:
            try:
                units = resolved.catalog.server(name).get("rack_units")
            except LookupError:
                continue  # an unknown server is reported below
            if units is None or bool(pd.isna(units)):
                missing.append(name)
        if missing:
            msg = f"racks: servers {missing} have no rack_units in the catalog"
            raise ValueError(msg)
    specs = []
    problems: list[str] = []
    every = options.server_specs == "all"
    annuity_rate = None
    if options.capex_view == "annuity":
        annuity_rate = (
            options.annuity_rate
            if options.annuity_rate is not None
            else resolved.scenario.real_discount_rate
        )
        notes.append(
            f"capex counted as annuities at {annuity_rate:.2%} over each server's "
            "lifetime, paid while in service inside the horizon (no resale)"
        )
    for name in names:
        try:
            specs.append(_spec_option(resolved, name, years, template, annuity_rate))
        except ResolutionError as error:
            if every:  # 'all' offers what can be priced and says what it left out
                notes.append(f"server {name} left out: {'; '.join(error.problems)}")
                continue
            problems.extend(error.problems)
    if problems:
        raise ResolutionError(problems)
    offers: list[OfferOption] = []
    if options.allow_cloud:
        for strategy in _offer_strategies(resolved, options.cloud_offers):
            offers.append(_offer_option(resolved, strategy.name, strategy, options))
        if not offers:
            notes.append("the scenario has no cloud offer: nothing can be rented")
    skipped = sorted({t for t in options.commitment_terms if t > n})
    if skipped and offers:
        notes.append(
            f"commitment terms {skipped} years do not fit the {n}-year horizon "
            "and were not offered"
        )
    if options.allow_spot and offers and not any(o.spot for o in offers):
        notes.append("no cloud offer has a spot price: spot was not offered")
    staff = None
    if specs and specs[0].ops.staff_usd_per_year:
        staff = costing.staff_flows(specs[0].ops, resolved.institution, horizon=n)
    profile = resolved.demand
    if options.blocks_per_year is None:
        curve = exact_curve(np.asarray(profile.levels), np.asarray(profile.hours))
    else:
        curve = block_curve(np.asarray(profile.levels), options.blocks_per_year)
        notes.append(
            f"demand reduced to {options.blocks_per_year} load-duration blocks a "
            "year: an approximation (the exact default is blocks_per_year: null)"
        )
    return OptimiseInputs(
        resolved=resolved,
        options=options,
        view=options.view or resolved.scenario.view,
        specs=tuple(specs),
        offers=tuple(offers),
        staff=staff,
        curve=curve,
        purchase_years=years,
        service=costing.service_rates(resolved.service, horizon=n),
        notes=tuple(notes),
    )
