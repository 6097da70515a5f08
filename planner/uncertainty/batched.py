"""Vectorised Monte Carlo: every strategy's costs with one row per future.

The engine (:mod:`planner.tco`) already carries a leading batch axis for many
demands; its prices are scalars. This module is the small batched path that
adds per-draw prices without touching the engine. It rests on two facts of
the engine's arithmetic:

* **Every cost line is linear in one price.** A line of :mod:`planner.costing`
  is a per-unit flow times a quantity; the unit flow is proportional to the
  server price (capex, support, resale and their F&A), to the tariff
  (electricity and its F&A), to a cloud offer's price in the year it is paid
  (on-demand, spot, a commitment at its signing year, and their F&A), or to
  the cost of late work (delay, unserved). A draw therefore scales each line
  of the unit flows priced once per group by a factor per draw and year
  (:class:`DrawInputs`); CO2e lines scale with the grid.
* **Demand moves as a scale of each year's hourly profile** (growth and level
  change every hour of a year alike), and everything the engine does with
  demand is ``sum_h min(D_h, K)`` for some capacity ``K`` (served at once,
  within a commitment, burst beyond it). With ``D = s x d`` that is
  ``s x G(K / s)``, ``G`` the load-duration integral of the base year
  (:class:`Curve`), read by interpolation at its knots for each draw and year.

Discrete inputs that change the structure (a lifetime, whether F&A applies to
cloud, any whole-number or switch input) split the draws into groups, each
resolved once. Each line, scaled, is added to the totals of the views it
counts in by :func:`planner.costing.counts_in_view` (:class:`BatchCosts`); a
shared cluster's service-centre recharge follows
:func:`planner.tco.strategies.recharged` on those totals. The dispatch rules
(serve, burst, commit, delay, leave) follow :mod:`planner.tco.strategies` line
by line; a test compares this path with a loop of the engine
(:func:`planner.uncertainty.engine.loop_outcomes`) to rounding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from planner import costing
from planner.costing import INDIRECT, VIEWS, Line, UnitFlows, View
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOffer,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.tco.strategies import (
    commitment_starts,
    owned_capacity,
    screening_instances,
)
from planner.uncertainty.engine import (
    NEVER,
    STATUS_CODES,
    Outcomes,
    Prepared,
    apply_values,
    typed_values,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CHUNK_DRAWS = 32_768
"""Draws evaluated together: bounds memory (about 3 MB per array). [-]"""

MAX_THREADS = 8
"""Most threads evaluating chunks of draws at once. [-]"""

MAX_GROUPS = 256
"""Most structural groups (distinct values of the discrete inputs). [-]"""

BREAK_EVEN_TIE_USD = 1e-9
"""Cumulative costs this close count as a tie (the engine's rule). [USD]"""

OfferKey = tuple[int, bool]
"""(strategy index, is it the strategy's burst) of a cloud offer."""

_OFFER = re.compile(
    r"^strategies\.(\d+)\.(burst\.)?"
    r"(price_change_per_year|usd_per_accelerator_hour|spot_usd_per_accelerator_hour)$"
)
_OWNED = re.compile(r"^strategies\.(\d+)\.(server_price_usd|capex_change_per_year)$")
_SITE = (
    "site.electricity_usd_per_kwh",
    "site.tariff_change_per_year",
    "site.grid_co2e_g_per_kwh",
    "site.grid_change_per_year",
)
_CONTINUOUS_FACTORS = (
    "cloud_price_trend",
    "cloud_price_multiplier",
    "server_price_multiplier",
    "demand_multiplier",
)


class NotVectorisedError(ValueError):
    """An input the batched path cannot evaluate; the per-draw loop can."""


# --- which inputs are vectorised ----------------------------------------------------


def input_roles(prepared: Prepared) -> tuple[str, ...]:
    """How the batched path treats each input: ``structural`` or ``continuous``.

    Parameters
    ----------
    prepared : Prepared
        Scenario and spec.

    Returns
    -------
    tuple of str
        One role per input.

    Raises
    ------
    NotVectorisedError
        For an input only the per-draw loop evaluates (named in the message).
    """
    resolved = prepared.resolved
    shared = any(
        isinstance(s, ResolvedOwnedStrategy) and s.members for s in resolved.strategies
    )
    roles = []
    for item, kind in zip(prepared.spec.inputs, prepared.kinds, strict=True):
        path = item.path
        if kind != "float" or item.discrete:
            roles.append("structural")
        elif _continuous(resolved, path, shared):
            roles.append("continuous")
        else:
            msg = f"{path}: evaluated by the per-draw loop (not vectorised)"
            raise NotVectorisedError(msg)
    return tuple(roles)


def _continuous(resolved: ResolvedScenario, path: str, shared: bool) -> bool:
    """Whether the batched path scales a continuous input (else the loop)."""
    if path in _CONTINUOUS_FACTORS or path in _SITE or path == "demand.growth_per_year":
        return True
    if path == "demand.reference_hours_per_year":
        return not shared
    if (match := _OFFER.match(path)) is not None:
        return _has_offer(resolved, int(match[1]), match[2] is not None)
    if (match := _OWNED.match(path)) is not None:
        return isinstance(resolved.strategies[int(match[1])], ResolvedOwnedStrategy)
    return False


def _has_offer(resolved: ResolvedScenario, index: int, burst: bool) -> bool:
    strategy = resolved.strategies[index]
    if burst:
        return (
            isinstance(strategy, ResolvedOwnedStrategy) and strategy.burst is not None
        )
    return isinstance(strategy, ResolvedCloudStrategy)


def offers(resolved: ResolvedScenario) -> dict[OfferKey, ResolvedOffer]:
    """Every cloud offer of a resolved scenario, by (strategy index, burst)."""
    out: dict[OfferKey, ResolvedOffer] = {}
    for index, strategy in enumerate(resolved.strategies):
        if isinstance(strategy, ResolvedCloudStrategy):
            out[(index, False)] = strategy.offer
        elif strategy.burst is not None:
            out[(index, True)] = strategy.burst.offer
    return out


# --- per-draw inputs ---------------------------------------------------------------


@dataclass
class DrawInputs:
    """One group's draws as factors on its resolved values, per draw and year.

    Year arrays have shape (draws, N) over running years 1..N; ``server`` over
    purchase times t = 0..N-1.
    """

    demand: FloatArray
    """Scale of each year's hourly demand (this project and every member). [-]"""
    tariff: FloatArray
    """Factor on the tariff of each running year. [-]"""
    grid_site: FloatArray
    """Factor on the site's grid intensity (owned power). [-]"""
    grid_trend: FloatArray
    """Factor on every grid path from its trend alone (cloud regions). [-]"""
    price: dict[OfferKey, FloatArray]
    """Factor on each offer's on-demand price of each running year. [-]"""
    spot: dict[OfferKey, FloatArray]
    """Factor on each offer's spot price of each running year. [-]"""
    server: dict[int, FloatArray]
    """Factor on an owned strategy's server price bought at each t. [-]"""
    service: dict[str, FloatArray] = field(default_factory=dict)
    """Absolute delay and unserved cost per reference hour, ``delay``,
    ``unserved``, ``award_delay``, ``award_unserved``, shape (draws,)
    [USD/reference accelerator-h]; ``unserved_co2e``, shape (draws, N + 1) over
    t = 0..N [kg CO2e/reference accelerator-h]."""

    @property
    def size(self) -> int:
        """Return the number of draws."""
        return int(self.demand.shape[0])

    def over_t(self, name: str, key: OfferKey | None = None) -> FloatArray:
        """A yearly factor as (draws, N + 1) over t = 0..N (1 at t = 0), cached."""
        cache = self.__dict__.setdefault("_over_t", {})
        if (name, key) not in cache:
            values = getattr(self, name)
            per_year = values if key is None else values[key]
            cache[(name, key)] = _with_t0(per_year)
        return cache[(name, key)]  # type: ignore[no-any-return]


def _ratio(value: FloatArray, base: float, what: str) -> FloatArray:
    """``value / base``, refusing a zero base that a draw moves."""
    if base == 0:
        if np.all(value == 0):
            return np.ones_like(value)
        msg = f"{what} is 0 in the scenario: its draws are evaluated by the loop"
        raise NotVectorisedError(msg)
    return np.asarray(value / base, dtype=float)


def _trend_ratio(change: FloatArray, base: float, steps: FloatArray) -> FloatArray:
    """((1 + change) / (1 + base)) ** steps, shape (draws, len(steps))."""
    return np.asarray(
        ((1.0 + change[:, None]) / (1.0 + base)) ** steps[None, :], dtype=float
    )


def draw_inputs(
    prepared: Prepared, group: ResolvedScenario, values: FloatArray
) -> DrawInputs:
    """Factors of a group's draws on the group's resolved values.

    Parameters
    ----------
    prepared : Prepared
        Spec and frozen plan.
    group : ResolvedScenario
        The plan resolved with the group's structural values.
    values : numpy.ndarray of shape (draws, inputs)
        The draws (typed: whole numbers rounded).

    Returns
    -------
    DrawInputs
        Factors per draw and year.
    """
    n = group.horizon_years
    b = values.shape[0]
    steps = np.arange(n, dtype=float)
    ones = np.ones((b, n))
    found = offers(group)
    out = DrawInputs(
        demand=ones.copy(),
        tariff=ones.copy(),
        grid_site=ones.copy(),
        grid_trend=ones.copy(),
        price={key: ones.copy() for key in found},
        spot={key: ones.copy() for key in found},
        server={
            index: ones.copy()
            for index, s in enumerate(group.strategies)
            if isinstance(s, ResolvedOwnedStrategy)
        },
    )
    site = group.site
    scenario = group.scenario
    for j, item in enumerate(prepared.spec.inputs):
        path = item.path
        x = values[:, j]
        if path == "demand.growth_per_year":
            out.demand *= _trend_ratio(x, scenario.demand.growth_per_year, steps)
        elif path == "demand.reference_hours_per_year":
            first = group.demand.first_year_reference_hours
            out.demand *= _ratio(x, first, path)[:, None]
        elif path == "demand_multiplier":
            out.demand *= x[:, None]
        elif path == "site.electricity_usd_per_kwh":
            out.tariff *= _ratio(x, float(site.electricity_usd_per_kwh[0]), path)[
                :, None
            ]
        elif path == "site.tariff_change_per_year":
            out.tariff *= _trend_ratio(x, scenario.site.tariff_change_per_year, steps)
        elif path == "site.grid_co2e_g_per_kwh":
            out.grid_site *= _ratio(x, float(site.grid_co2e_g_per_kwh[0]), path)[
                :, None
            ]
        elif path == "site.grid_change_per_year":
            ratio = _trend_ratio(x, scenario.site.grid_change_per_year, steps)
            out.grid_site *= ratio
            out.grid_trend *= ratio
        elif path == "cloud_price_trend":
            for key, offer in found.items():
                ratio = _trend_ratio(x, offer.price_change_per_year, steps)
                out.price[key] *= ratio
                out.spot[key] *= ratio
        elif path == "cloud_price_multiplier":
            for key in found:
                out.price[key] *= x[:, None]
                out.spot[key] *= x[:, None]
        elif path == "server_price_multiplier":
            for owned_index in out.server:
                out.server[owned_index] *= x[:, None]
        elif (match := _OFFER.match(path)) is not None:
            key = (int(match[1]), match[2] is not None)
            offer = found[key]
            if match[3] == "price_change_per_year":
                ratio = _trend_ratio(x, offer.price_change_per_year, steps)
                out.price[key] *= ratio
                out.spot[key] *= ratio
            elif match[3] == "usd_per_accelerator_hour":
                out.price[key] *= _ratio(
                    x, offer.on_demand_usd_per_accelerator_hour, path
                )[:, None]
            else:
                spot = offer.spot_usd_per_accelerator_hour or 0.0
                out.spot[key] *= _ratio(x, spot, path)[:, None]
        elif (match := _OWNED.match(path)) is not None:
            index = int(match[1])
            owned = group.strategies[index]
            assert isinstance(owned, ResolvedOwnedStrategy)
            if match[2] == "server_price_usd":
                out.server[index] *= _ratio(x, owned.server.server_price_usd, path)[
                    :, None
                ]
            else:
                out.server[index] *= _trend_ratio(
                    x, owned.ops.capex_change_per_year, steps
                )
    _check_equipment(group, out)
    out.service = service_costs(group, out)
    return out


def _check_equipment(group: ResolvedScenario, inputs: DrawInputs) -> None:
    """A server price crossing the equipment threshold changes F&A: not scaled."""
    threshold = group.institution.equipment_threshold_usd
    for index, factor in inputs.server.items():
        owned = group.strategies[index]
        assert isinstance(owned, ResolvedOwnedStrategy)
        price = owned.server.server_price_usd
        drawn = price * factor[:, 0]
        if np.any((drawn < threshold) != (price < threshold)):
            msg = (
                f"{owned.name}: some draws move the server price across the "
                f"${threshold:,.0f} equipment threshold; evaluated by the loop"
            )
            raise NotVectorisedError(msg)


def service_costs(group: ResolvedScenario, inputs: DrawInputs) -> dict[str, FloatArray]:
    """Delay and unserved cost per reference hour of each draw, both views.

    The scenario's values, or (default) the cheapest on-demand price per
    reference hour of the scenario's offers in year 1, with each offer's F&A in
    the award view: :func:`planner.resolve` ``_service_costs`` with each
    offer's price scaled by the draw.

    Parameters
    ----------
    group : ResolvedScenario
        The group.
    inputs : DrawInputs
        Its price factors.

    Returns
    -------
    dict
        ``delay``, ``unserved``, ``award_delay``, ``award_unserved``, shape
        (draws,). [USD/reference accelerator-h]
    """
    b = inputs.size
    rule = group.scenario.service
    found = offers(group)
    base = group.service
    if found:
        per_hour = np.stack(
            [
                offer.on_demand_usd_per_accelerator_hour
                / offer.relative_throughput
                * inputs.price[key][:, 0]
                for key, offer in found.items()
            ]
        )
        rates = np.array([offer.indirect_cost_rate for offer in found.values()])
        default = per_hour.min(axis=0)
        award = (per_hour * (1.0 + rates[:, None])).min(axis=0)
    else:
        default = np.full(b, base.delay_usd_per_reference_hour)
        award = np.full(b, base.award_delay_usd_per_reference_hour)
    delay, unserved = (
        rule.delay_usd_per_reference_hour,
        rule.unserved_usd_per_reference_hour,
    )
    return {
        "delay": default if delay is None else np.full(b, delay),
        "unserved": default if unserved is None else np.full(b, unserved),
        "award_delay": award if delay is None else np.full(b, delay),
        "award_unserved": award if unserved is None else np.full(b, unserved),
        "unserved_co2e": _unserved_co2e_kg(group, inputs, found, per_hour)
        if found
        else _unserved_co2e_kg(group, inputs, {}, None),
    }


def _rented_co2e_kg(offer: ResolvedOffer, grid: FloatArray, n: int) -> FloatArray:
    """CO2e of one reference hour on demand on an offer, per draw, in kg by t."""
    lines = costing.cloud_work_rates(offer, "on_demand", horizon=n).lines
    total = np.zeros((grid.shape[0], n + 1))
    for line in lines:
        if line.payer == "provider":
            scale = grid if line.category == "cloud_energy" else 1.0
            total += line.co2e_kg[None, :] * scale
    return total


def _unserved_co2e_kg(
    group: ResolvedScenario,
    inputs: DrawInputs,
    found: dict[OfferKey, ResolvedOffer],
    per_hour: FloatArray | None,
) -> FloatArray:
    """CO2e of a reference hour of unserved work, per draw, in kg by t = 0..N.

    As :func:`planner.costing.service_rates`: the scenario's figure, else the
    draw's cheapest offer (the one its default unserved cost comes from), its
    grid path moved by the draw's trend, else the group's reference offer.
    """
    n = group.scenario.horizon_years
    b = inputs.size
    given = group.scenario.service.unserved_co2e_kg_per_reference_hour
    running = np.concatenate([[0.0], np.ones(n)])
    if given is not None:
        return np.tile(running * given, (b, 1))
    grid = inputs.over_t("grid_trend")
    if found and per_hour is not None:
        paths = np.stack([_rented_co2e_kg(offer, grid, n) for offer in found.values()])
        cheapest = np.argmin(per_hour, axis=0)
        return np.asarray(paths[cheapest, np.arange(b)], dtype=float)
    reference = group.service.reference_offer
    if reference is None:
        return np.zeros((b, n + 1))
    return _rented_co2e_kg(reference, grid, n)


# --- demand as a load-duration integral --------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Each year's load-duration integral ``G(K) = sum_h w_h min(D_h, K)``.

    ``G`` is piecewise linear in ``K`` with a knot at each distinct level (slope:
    the hours above it), so it is tabulated at the knots once and read by linear
    interpolation, exactly.
    """

    knots: tuple[FloatArray, ...]
    """Per year: 0 and the distinct levels, ascending. [reference accelerators]"""
    integral: tuple[FloatArray, ...]
    """Per year: ``G`` at each knot. [reference accelerator-h]"""
    total: FloatArray
    """Shape (years,): each year's reference hours. [reference accelerator-h]"""
    hours: float
    """Hours of a year in the curve. [h]"""

    @classmethod
    def of(cls, levels: FloatArray, hours: FloatArray) -> Curve:
        """The curve of levels (years, points) with the hours of each point."""
        weights = np.asarray(hours, dtype=float)
        knots, integral = [], []
        for row in np.asarray(levels, dtype=float):
            order = np.argsort(row, kind="stable")
            ascending, weight = row[order], weights[order]
            unique, first = np.unique(ascending, return_index=True)
            energy = np.concatenate([[0.0], np.cumsum(ascending * weight)])
            below = np.concatenate([[0.0], np.cumsum(weight)])
            # G at a level L: what lies below it, plus L for every hour above.
            at = energy[first] + unique * (below[-1] - below[first])
            if unique.size and unique[0] <= 0.0:
                knots.append(unique)
                integral.append(at)
            else:
                knots.append(np.concatenate([[0.0], unique]))
                integral.append(np.concatenate([[0.0], at]))
        return cls(
            knots=tuple(knots),
            integral=tuple(integral),
            total=np.asarray((levels * weights).sum(axis=1), dtype=float),
            hours=float(np.sum(weights)),
        )

    def served(self, scale: FloatArray, capacity: FloatArray) -> FloatArray:
        """Reference hours a capacity serves of scaled demand, per draw and year.

        Parameters
        ----------
        scale : numpy.ndarray of shape (draws, years)
            Demand scale. [-]
        capacity : numpy.ndarray of shape (years,) or (draws, years)
            Capacity. [reference accelerators]

        Returns
        -------
        numpy.ndarray of shape (draws, years)
            ``sum_h w_h min(scale D_h, capacity) = scale G(capacity / scale)``.
            [reference accelerator-h]

        Examples
        --------
        >>> import numpy as np
        >>> curve = Curve.of(np.array([[1.0, 3.0, 2.0]]), np.ones(3))
        >>> curve.served(np.array([[1.0], [2.0]]), np.array([2.5])).tolist()
        [[5.5], [7.0]]
        """
        capacity = np.broadcast_to(capacity, scale.shape)
        out = np.zeros(scale.shape)
        for year in range(scale.shape[1]):
            s = scale[:, year]
            live = s > 0
            threshold = np.divide(
                capacity[:, year], s, out=np.zeros_like(s), where=live
            )
            knots = self.knots[year]
            served = np.interp(threshold, knots, self.integral[year])
            # Beyond the peak every hour is served: G is flat at the total.
            out[:, year] = np.where(live, s * served, 0.0)
        return out


# --- ledgers -----------------------------------------------------------------------

LineFactor = Callable[[Line], tuple[FloatArray | None, FloatArray | None]]
"""A line's (cost factor, CO2e factor), each (draws, N + 1) or (draws, 1) or None."""


def _with_t0(per_year: FloatArray) -> FloatArray:
    """A (draws, N) factor over running years as (draws, N + 1) (1 at t = 0)."""
    return np.concatenate([np.ones((per_year.shape[0], 1)), per_year], axis=1)


class BatchCosts:
    """One strategy's cost in both views and its CO2e, summed over its lines.

    Each line of a unit flow is scaled by its quantity and its factor for each
    draw and added to the totals of the views it counts in
    (:func:`planner.costing.counts_in_view`), cash and late-work cost apart (a
    service centre's recharge is set on cash). Lines with the same factor are
    summed before scaling, so a draw costs a few array operations per unit
    flow. With ``discount`` given only present values are kept (shape
    (draws,)); otherwise costs at each t (draws, N + 1).
    """

    def __init__(
        self, batch: int, horizon: int, discount: FloatArray | None = None
    ) -> None:
        self.batch = batch
        self.horizon = horizon
        self.discount = discount
        shape = (batch,) if discount is not None else (batch, horizon + 1)
        self.cash = {view: np.zeros(shape) for view in VIEWS}
        self.service = {view: np.zeros(shape) for view in VIEWS}
        self.co2e = np.zeros(shape)

    def _accumulate(
        self, total: FloatArray, scaled: FloatArray, unit: FloatArray
    ) -> None:
        if self.discount is None:
            total += scaled * unit
        elif scaled.shape[1] == 1:
            total += scaled[:, 0] * float(unit @ self.discount)
        else:
            total += scaled @ (unit * self.discount)

    def _add(
        self, flows: UnitFlows, scale: FloatArray, factor: LineFactor | None
    ) -> None:
        n1 = self.horizon + 1
        # factor id -> (factor, {total id -> (total, summed unit flow)})
        groups: dict[
            int, tuple[FloatArray | None, dict[int, tuple[FloatArray, FloatArray]]]
        ] = {}
        for line in flows.lines:
            cost_factor, co2e_factor = (None, None) if factor is None else factor(line)
            if np.any(line.cost_usd):
                service = line.payer in costing.SERVICE_PAYERS
                for view in VIEWS:
                    if costing.counts_in_view(line.category, line.payer, view):
                        target = (self.service if service else self.cash)[view]
                        _, units = groups.setdefault(id(cost_factor), (cost_factor, {}))
                        units[id(target)] = (
                            target,
                            units.get(id(target), (target, np.zeros(n1)))[1]
                            + line.cost_usd,
                        )
            if np.any(line.co2e_kg):
                _, units = groups.setdefault(id(co2e_factor), (co2e_factor, {}))
                units[id(self.co2e)] = (
                    self.co2e,
                    units.get(id(self.co2e), (self.co2e, np.zeros(n1)))[1]
                    + line.co2e_kg,
                )
        for extra, units in groups.values():
            scaled = scale if extra is None else scale * extra
            for target, unit in units.values():
                self._accumulate(target, scaled, unit)

    def add_units(
        self,
        flows: UnitFlows,
        quantity: float | FloatArray,
        factor: LineFactor | None = None,
    ) -> None:
        """``quantity`` units (a number or one per draw) at every t."""
        scale = np.reshape(np.asarray(quantity, dtype=float), (-1, 1))
        self._add(flows, scale, factor)

    def add_rates(
        self, flows: UnitFlows, per_year: FloatArray, factor: LineFactor | None = None
    ) -> None:
        """Flows per unit of a yearly quantity (draws or 1, N), paid at t = k."""
        scale = np.zeros((per_year.shape[0], per_year.shape[1] + 1))
        scale[:, 1:] = per_year
        self._add(flows, scale, factor)

    def cost(self, view: View) -> FloatArray:
        """Comparable cost of a view: cash plus late work. [USD]."""
        return self.cash[view] + self.service[view]

    def recharged(
        self,
        resolved: ResolvedScenario,
        own_work: FloatArray,
        pooled_work: FloatArray,
    ) -> BatchCosts:
        """The project's part of a shared cluster, billed as a recharge.

        The rule of :func:`planner.tco.strategies.recharged` on view totals: the
        centre bears the cluster's institution view in proportion to the
        project's share of the discounted usage; the award view pays the rate
        (cluster institution cash PV over pooled usage PV) on its own usage,
        with F&A on it, plus its share of the late-work cost; CO2e by the share.

        Parameters
        ----------
        resolved : ResolvedScenario
            Discount factors and the F&A rules.
        own_work, pooled_work : numpy.ndarray of shape (draws, N)
            This project's and the pooled demand each year. [reference
            accelerator-h]

        Returns
        -------
        BatchCosts
            The project's part (costs at each t).
        """
        assert self.discount is None
        discount = resolved.discount
        pooled_pv = pooled_work @ discount[1:]
        own_pv = own_work @ discount[1:]
        share = np.divide(
            own_pv, pooled_pv, out=np.zeros_like(own_pv), where=pooled_pv > 0
        )[:, None]
        cluster_pv = self.cash["institution"] @ discount
        rate = np.divide(
            cluster_pv, pooled_pv, out=np.zeros_like(cluster_pv), where=pooled_pv > 0
        )
        recharge = np.zeros((self.batch, self.horizon + 1))
        recharge[:, 1:] = rate[:, None] * own_work
        fa_rate = costing.mtdc_rate("recharge", resolved.institution)
        out = BatchCosts(self.batch, self.horizon)
        out.cash["institution"] = share * self.cash["institution"]
        out.service["institution"] = share * self.service["institution"]
        out.cash["award"] = recharge + (
            costing.indirect_cost_usd(recharge, fa_rate) if fa_rate else 0.0
        )
        out.service["award"] = share * self.service["award"]
        out.co2e = share * self.co2e
        return out


def _base_category(line: Line) -> str:
    """The category a line's cost follows (an F&A line follows its base)."""
    return line.base if line.category == INDIRECT else line.category


def _owned_factor(
    server: FloatArray | None, tariff: FloatArray, grid: FloatArray
) -> LineFactor:
    """Factors of an owned server's lines: price, tariff, grid."""

    def factor(line: Line) -> tuple[FloatArray | None, FloatArray | None]:
        category = _base_category(line)
        cost = None
        if category in ("capex", "support", costing.SALVAGE):
            cost = server
        elif category == "electricity":
            cost = tariff
        co2e = grid if line.category == "electricity" else None
        return cost, co2e

    return factor


def _cloud_factor(
    price: FloatArray, spot: FloatArray, grid: FloatArray, commitment: FloatArray
) -> LineFactor:
    """Factors of a cloud offer's lines: price by use, commitment, grid trend."""

    def factor(line: Line) -> tuple[FloatArray | None, FloatArray | None]:
        category = _base_category(line)
        cost = None
        if category == "cloud_on_demand":
            cost = price
        elif category == "cloud_spot":
            cost = spot
        elif category.startswith("cloud_commitment_"):
            cost = commitment
        co2e = grid if line.category == "cloud_energy" else None
        return cost, co2e

    return factor


def _service_factor(
    value: FloatArray,
    award: FloatArray,
    base: float,
    base_award: float,
    co2e: FloatArray | None = None,
) -> LineFactor:
    """Factors of delay or unserved lines: the institution and the award extra.

    ``co2e`` is the factor on the unserved work's CO2e lines (payer
    ``provider``), (draws, N + 1); None leaves them as resolved.
    """
    institution = _ratio(value, base, "the cost of late work")[:, None]
    extra = _ratio(award - value, base_award - base, "the award cost of late work")[
        :, None
    ]

    def factor(line: Line) -> tuple[FloatArray | None, FloatArray | None]:
        if line.payer == "provider":
            return None, co2e
        return (extra if line.payer == "service_award" else institution), None

    return factor


@dataclass(frozen=True)
class GroupContext:
    """What a group's strategies are priced with, computed once per group."""

    resolved: ResolvedScenario
    demand: Curve
    pooled: dict[int, Curve]
    """Pooled demand of each shared strategy, by strategy index."""


def group_context(
    resolved: ResolvedScenario, cache: dict[bytes, Curve] | None = None
) -> GroupContext:
    """Curves of the scenario's demand and of each shared cluster's pooled demand.

    ``cache`` keeps curves by the content of their demand, so groups that differ
    only in prices or lives share them.
    """
    import hashlib

    store = {} if cache is None else cache

    def curve(levels: FloatArray, hours: FloatArray) -> Curve:
        key = hashlib.blake2b(levels.tobytes() + hours.tobytes()).digest()
        if key not in store:
            store[key] = Curve.of(levels, hours)
        return store[key]

    profile = resolved.demand
    hours = np.asarray(profile.hours, dtype=float)
    pooled = {}
    for index, strategy in enumerate(resolved.strategies):
        if isinstance(strategy, ResolvedOwnedStrategy) and strategy.members:
            levels = profile.levels + sum(m.demand.levels for m in strategy.members)
            pooled[index] = curve(np.asarray(levels, dtype=float), hours)
    return GroupContext(
        resolved=resolved,
        demand=curve(np.asarray(profile.levels, dtype=float), hours),
        pooled=pooled,
    )


def _cloud(
    book: BatchCosts,
    strategy: ResolvedCloudStrategy,
    key: OfferKey,
    inputs: DrawInputs,
    resolved: ResolvedScenario,
    curve: Curve,
    scale: FloatArray,
    floor: FloatArray | None,
    below: FloatArray | None = None,
) -> None:
    """A cloud offer serving the demand above ``floor`` (owned capacity), if any.

    ``below`` is what ``floor`` serves (computed when not given).

    The engine's :func:`planner.tco.strategies.cloud_ledger` on scaled demand.
    """
    n = resolved.horizon_years
    offer = strategy.offer
    price = inputs.over_t("price", key)
    spot = inputs.over_t("spot", key)
    grid = inputs.over_t("grid_trend")
    total = scale * curve.total[None, :]
    if below is None:
        below = curve.served(scale, floor) if floor is not None else np.zeros(1)
    work = total - below
    if strategy.purchase in ("on_demand", "spot"):
        use: costing.CloudUse = "spot" if strategy.purchase == "spot" else "on_demand"
        flows = costing.cloud_work_rates(offer, use, horizon=n)
        book.add_rates(flows, work, _cloud_factor(price, spot, grid, price))
    else:
        term = strategy.term_years
        instances = screening_instances(strategy, resolved.demand.levels[0])
        capacity = np.zeros(n)
        for start in commitment_starts(term, n):
            flows = costing.commitment_instance_flows(
                offer, term, start=start, horizon=n
            )
            signed = inputs.price[key][:, start : start + 1]
            book.add_units(flows, instances, _cloud_factor(price, spot, grid, signed))
            assert flows.capacity_reference is not None
            capacity = capacity + flows.capacity_reference * instances
        reach = capacity if floor is None else floor + capacity
        within = curve.served(scale, reach) - below
        use_rates = costing.cloud_work_rates(offer, "committed", horizon=n)
        book.add_rates(use_rates, within, _cloud_factor(price, spot, grid, price))
        on_demand = costing.cloud_work_rates(offer, "on_demand", horizon=n)
        book.add_rates(
            on_demand, work - within, _cloud_factor(price, spot, grid, price)
        )
    fixed = costing.cloud_fixed_flows(
        offer, strategy.storage_usd_per_year, strategy.egress_usd_per_year, horizon=n
    )
    if fixed.lines:
        book.add_units(fixed, 1.0)


def _owned(
    book: BatchCosts,
    strategy: ResolvedOwnedStrategy,
    index: int,
    inputs: DrawInputs,
    resolved: ResolvedScenario,
    curve: Curve,
    scale: FloatArray,
) -> None:
    """An owned cluster: the engine's :func:`planner.tco.strategies.owned_ledger`."""
    n = resolved.horizon_years
    tariff = inputs.over_t("tariff")
    grid = inputs.over_t("grid_site")
    capacity, active, vintages = owned_capacity(strategy, resolved)
    server = inputs.server[index]
    for bought, flows in vintages:
        factor = _owned_factor(server[:, bought : bought + 1], tariff, grid)
        book.add_units(flows, strategy.servers, factor)
    if strategy.ops.staff_usd_per_year:
        staff = costing.staff_flows(strategy.ops, resolved.institution, horizon=n)
        book.add_rates(staff, active[None, :])
    served_now = curve.served(scale, capacity)
    if strategy.burst is not None:
        _cloud(
            book,
            strategy.burst,
            (index, True),
            inputs,
            resolved,
            curve,
            scale,
            capacity,
            served_now,
        )
        served = served_now
    else:
        late = scale * curve.total[None, :] - served_now
        spare = np.maximum(capacity[None, :] * curve.hours - served_now, 0.0)
        rates = costing.service_rates(resolved.service, horizon=n)
        view = resolved.scenario.view
        work_rate = costing.owned_work_rates(
            strategy.server, resolved.site, resolved.institution, horizon=n
        ).cost_usd(view)[1:]
        prefix = "award_" if view == "award" else ""
        delay = inputs.service[f"{prefix}delay"][:, None]
        unserved_cost = inputs.service[f"{prefix}unserved"][:, None]
        # Late work waits when that costs no more than leaving it (the engine's
        # rule), with this draw's late-work cost and tariff.
        waits = (
            delay + work_rate[None, :] * inputs.tariff
            <= unserved_cost + costing.SERVE_ON_TIE_USD_PER_REFERENCE_HOUR
        )
        delayed = np.minimum(late, spare) * waits
        unserved = late - delayed
        service = resolved.service
        # The unserved work's CO2e (done elsewhere) follows the draw's cheapest
        # offer and grid trend: a factor on the resolved lines' total per year.
        base_co2e = sum(
            (
                line.co2e_kg
                for line in rates["unserved"].lines
                if line.payer == "provider"
            ),
            np.zeros(n + 1),
        )
        drawn = inputs.service["unserved_co2e"]
        co2e_factor = np.divide(
            drawn,
            base_co2e[None, :],
            out=np.ones_like(drawn),
            where=base_co2e[None, :] > 0,
        )
        for kind, amount in (("delay", delayed), ("unserved", unserved)):
            book.add_rates(
                rates[kind],
                amount,
                _service_factor(
                    inputs.service[kind],
                    inputs.service[f"award_{kind}"],
                    getattr(service, f"{kind}_usd_per_reference_hour"),
                    getattr(service, f"award_{kind}_usd_per_reference_hour"),
                    co2e_factor if kind == "unserved" else None,
                ),
            )
        served = served_now + delayed
    work = costing.owned_work_rates(
        strategy.server, resolved.site, resolved.institution, horizon=n
    )
    book.add_rates(work, served, _owned_factor(None, tariff, grid))


def strategy_costs(
    context: GroupContext,
    inputs: DrawInputs,
    *,
    flat: FloatArray | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, BatchCosts]:
    """Each strategy's costs and CO2e for a group's draws.

    Parameters
    ----------
    context : GroupContext
        The group's resolution and demand curves.
    inputs : DrawInputs
        Per-draw factors.
    flat : numpy.ndarray of shape (draws,), optional
        Instead of the scenario's demand, a flat demand of this many reference
        accelerators in every hour (break-even utilisation: owned strategies
        then serve it alone, without members or burst, as in the engine's; only
        present values are kept).
    only : sequence of str, optional
        Names of the strategies to price (default: all).

    Returns
    -------
    dict
        Name to :class:`BatchCosts`; a shared strategy's is the project's part
        (the recharge), in the scenario's order.
    """
    from dataclasses import replace

    resolved = context.resolved
    n = resolved.horizon_years
    out: dict[str, BatchCosts] = {}
    discount = None if flat is None else resolved.discount
    for index, strategy in enumerate(resolved.strategies):
        if only is not None and strategy.name not in only:
            continue
        book = BatchCosts(inputs.size, n, discount)
        if flat is not None:
            curve = Curve.of(np.ones((n, 1)), np.array([context.demand.hours]))
            scale = np.repeat(flat[:, None], n, axis=1)
        else:
            curve = context.pooled.get(index, context.demand)
            scale = inputs.demand
        if isinstance(strategy, ResolvedCloudStrategy):
            _cloud(book, strategy, (index, False), inputs, resolved, curve, scale, None)
            out[strategy.name] = book
            continue
        owned = strategy if flat is None else replace(strategy, burst=None, members=())
        _owned(book, owned, index, inputs, resolved, curve, scale)
        if owned.members:
            own = scale * context.demand.total[None, :]
            pooled = scale * curve.total[None, :]
            out[strategy.name] = book.recharged(resolved, own, pooled)
        else:
            out[strategy.name] = book
    return out


# --- outcomes of a group -----------------------------------------------------------


def _first_year_staying(flags: npt.NDArray[np.bool_]) -> IntArray:
    """First t from which every flag is true, :data:`NEVER` if none."""
    staying = np.logical_and.accumulate(flags[:, ::-1], axis=1)[:, ::-1]
    first = np.argmax(staying, axis=1).astype(np.int64)
    return np.where(staying.any(axis=1), first, NEVER)


def _knots(prepared: Prepared, resolved: ResolvedScenario) -> dict[str, FloatArray]:
    """Utilisations where a flat-demand cost may bend, per on-premises strategy."""
    out: dict[str, FloatArray] = {}
    n = resolved.horizon_years
    for onprem, cloud in prepared.utilisation_pairs:
        owned = resolved.strategy(onprem)
        rented = resolved.strategy(cloud)
        assert isinstance(owned, ResolvedOwnedStrategy)
        assert isinstance(rented, ResolvedCloudStrategy)
        top = owned.servers * costing.capacity_reference_per_server(
            owned.server, owned.ops
        )
        capacity, _, _ = owned_capacity(owned, resolved)
        points = [0.0, 1.0, *(capacity / top if top > 0 else [])]
        if rented.term_years:
            instances = screening_instances(rented, resolved.demand.levels[0])
            per = (
                rented.offer.accelerators_per_instance
                * rented.offer.relative_throughput
            )
            covered = np.zeros(n)
            for start in commitment_starts(rented.term_years, n):
                covered[start : start + rented.term_years] = 1.0
            points.extend(covered * instances * per / top if top > 0 else [])
        knots = np.unique(np.clip(np.asarray(points, dtype=float), 0.0, 1.0))
        out[onprem] = np.unique(np.concatenate([out.get(onprem, knots), knots]))
    return out


def _utilisation(
    prepared: Prepared,
    context: GroupContext,
    inputs: DrawInputs,
) -> tuple[dict[View, FloatArray], dict[View, IntArray]]:
    """Flat-demand break-even utilisation of each pair for each draw.

    Both costs are piecewise linear in a flat demand, bending only where it
    crosses an owned or committed capacity; the difference is evaluated at those
    knots and its first root found exactly by linear interpolation (the
    engine's scan and Brent's method, :func:`planner.breakeven.
    break_even_utilisation`, find the same root).
    """
    pairs = prepared.utilisation_pairs
    b = inputs.size
    roots = {v: np.full((b, len(pairs)), np.nan) for v in VIEWS}
    codes = {v: np.zeros((b, len(pairs)), dtype=np.int64) for v in VIEWS}
    if not pairs:
        return roots, codes
    resolved = context.resolved
    knots = _knots(prepared, resolved)
    for onprem, points in knots.items():
        owned = resolved.strategy(onprem)
        assert isinstance(owned, ResolvedOwnedStrategy)
        top = owned.servers * costing.capacity_reference_per_server(
            owned.server, owned.ops
        )
        involved = [onprem, *(c for o, c in pairs if o == onprem)]
        at = [
            strategy_costs(context, inputs, flat=np.full(b, point * top), only=involved)
            for point in points
        ]
        for view in VIEWS:
            npv = {
                name: np.stack([costs[name].cost(view) for costs in at], axis=1)
                for name in involved
            }
            for column, (o, c) in enumerate(pairs):
                if o != onprem:
                    continue
                gap = npv[c] - npv[o]
                root, code = _first_root(points, gap)
                roots[view][:, column] = root
                codes[view][:, column] = code
    return roots, codes


def _first_root(points: FloatArray, gap: FloatArray) -> tuple[FloatArray, IntArray]:
    """First zero of a piecewise-linear function known at its knots, per row."""
    code = np.full(gap.shape[0], STATUS_CODES["crosses"], dtype=np.int64)
    code[gap.max(axis=1) < 0] = STATUS_CODES["never"]
    code[gap.min(axis=1) > 0] = STATUS_CODES["always"]
    left, right = gap[:, :-1], gap[:, 1:]
    change = (np.sign(left) * np.sign(right)) <= 0
    first = np.argmax(change, axis=1)
    rows = np.arange(gap.shape[0])
    g0, g1 = left[rows, first], right[rows, first]
    u0, u1 = points[first], points[first + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.where(g0 == 0.0, u0, u0 + (u1 - u0) * g0 / (g0 - g1))
    root = np.where(code == STATUS_CODES["crosses"], root, np.nan)
    return root, code


def group_outcomes(
    prepared: Prepared,
    context: GroupContext,
    values: FloatArray,
    *,
    break_even: bool = True,
) -> Outcomes:
    """Outcomes of draws that share one group's structure.

    Parameters
    ----------
    prepared : Prepared
        Spec and plan.
    context : GroupContext
        The group.
    values : numpy.ndarray of shape (draws, inputs)
        Typed draws.
    break_even : bool, default True
        Also the flat-demand break-even utilisations (NaN otherwise).

    Returns
    -------
    Outcomes
        One row per draw.
    """
    resolved = context.resolved
    inputs = draw_inputs(prepared, resolved, values)
    by_name = strategy_costs(context, inputs)
    discount = resolved.discount
    names = prepared.strategies
    books = [by_name[name] for name in names]
    index = {name: k for k, name in enumerate(names)}
    npv = {}
    years = {}
    fan: dict[View, npt.NDArray[np.float32]] = {}
    for view in VIEWS:
        discounted = [book.cost(view) * discount[None, :] for book in books]
        npv[view] = np.stack([d.sum(axis=1) for d in discounted], axis=1)
        cumulative = [np.cumsum(d, axis=1) for d in discounted]
        fan[view] = np.empty(
            (inputs.size, len(books), resolved.horizon_years + 1), dtype=np.float32
        )
        for k, path in enumerate(cumulative):
            fan[view][:, k, :] = path
        columns = [
            _first_year_staying(
                cumulative[index[o]] <= cumulative[index[c]] + BREAK_EVEN_TIE_USD
            )
            for o, c in prepared.pairs
        ]
        years[view] = (
            np.stack(columns, axis=1)
            if columns
            else np.zeros((inputs.size, 0), dtype=np.int64)
        )
    co2e = np.stack([book.co2e.sum(axis=1) for book in books], axis=1)
    if break_even:
        roots, codes = _utilisation(prepared, context, inputs)
    else:
        shape = (inputs.size, len(prepared.utilisation_pairs))
        roots = {v: np.full(shape, np.nan) for v in VIEWS}
        codes = {v: np.full(shape, -1, dtype=np.int64) for v in VIEWS}
    return Outcomes(
        strategies=names,
        pairs=prepared.pairs,
        utilisation_pairs=prepared.utilisation_pairs,
        npv_usd=npv,
        co2e_kg=co2e,
        break_even_year=years,
        break_even_utilisation=roots,
        break_even_status=codes,
        cumulative_pv_usd=fan,
    )


def batched_outcomes(
    prepared: Prepared,
    values: FloatArray,
    *,
    break_even: bool = True,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK_DRAWS,
    threads: int | None = None,
) -> Outcomes:
    """Every draw, vectorised: grouped by structure, chunked, in draw order.

    Parameters
    ----------
    prepared : Prepared
        From :func:`planner.uncertainty.engine.prepare`.
    values : numpy.ndarray of shape (draws, inputs)
        The draws.
    break_even : bool, default True
        Also the flat-demand break-even utilisations.
    progress : callable, optional
        ``progress(done, total)`` after each chunk.
    chunk : int, default 32768
        Draws per evaluation.
    threads : int, optional
        Threads evaluating chunks (default: the CPUs, at most 8).

    Returns
    -------
    Outcomes
        One row per draw, as :func:`planner.uncertainty.engine.loop_outcomes`.

    Raises
    ------
    NotVectorisedError
        If an input can only be evaluated by the loop.
    """
    roles = input_roles(prepared)
    typed = typed_values(prepared, values)
    structural = [j for j, role in enumerate(roles) if role == "structural"]
    keys = (
        np.unique(typed[:, structural], axis=0, return_inverse=True)
        if structural
        else (np.zeros((1, 0)), np.zeros(typed.shape[0], dtype=np.int64))
    )
    groups, inverse = keys
    inverse = np.asarray(inverse).ravel()
    if groups.shape[0] > MAX_GROUPS:
        msg = (
            f"{groups.shape[0]} combinations of the discrete inputs (at most "
            f"{MAX_GROUPS} are vectorised)"
        )
        raise NotVectorisedError(msg)
    total = typed.shape[0]
    tasks: list[tuple[IntArray, GroupContext]] = []
    curves: dict[bytes, Curve] = {}
    for g, key in enumerate(groups):
        rows = np.flatnonzero(inverse == g)
        context = group_context(_group_resolved(prepared, structural, key), curves)
        tasks.extend(
            (rows[start : start + chunk], context)
            for start in range(0, rows.size, chunk)
        )

    def run(task: tuple[IntArray, GroupContext]) -> Outcomes:
        chosen, context = task
        return group_outcomes(prepared, context, typed[chosen], break_even=break_even)

    out: Outcomes | None = None
    done = 0
    # numpy releases the GIL in its array loops: chunks run on threads, and each
    # result is written to its draws' rows, so threads change no number.
    with ThreadPoolExecutor(max_workers=threads or _threads()) as pool:
        for (chosen, _), outcome in zip(tasks, pool.map(run, tasks), strict=True):
            out = _filled(out, outcome, chosen, total)
            done += chosen.size
            if progress is not None:
                progress(done, total)
    assert out is not None
    return out


def _filled(
    out: Outcomes | None, part: Outcomes, rows: IntArray, total: int
) -> Outcomes:
    """Write a chunk's outcomes into the rows of its draws (allocated at first)."""
    if out is None:

        def empty(array: Any) -> Any:
            return np.empty((total, *array.shape[1:]), dtype=array.dtype)

        out = Outcomes(
            strategies=part.strategies,
            pairs=part.pairs,
            utilisation_pairs=part.utilisation_pairs,
            npv_usd={v: empty(a) for v, a in part.npv_usd.items()},
            co2e_kg=empty(part.co2e_kg),
            break_even_year={v: empty(a) for v, a in part.break_even_year.items()},
            break_even_utilisation={
                v: empty(a) for v, a in part.break_even_utilisation.items()
            },
            break_even_status={v: empty(a) for v, a in part.break_even_status.items()},
            cumulative_pv_usd={v: empty(a) for v, a in part.cumulative_pv_usd.items()},
        )
    for view in VIEWS:
        out.npv_usd[view][rows] = part.npv_usd[view]
        out.break_even_year[view][rows] = part.break_even_year[view]
        out.break_even_utilisation[view][rows] = part.break_even_utilisation[view]
        out.break_even_status[view][rows] = part.break_even_status[view]
        out.cumulative_pv_usd[view][rows] = part.cumulative_pv_usd[view]
    out.co2e_kg[rows] = part.co2e_kg
    return out


def _threads() -> int:
    """Threads for chunks of draws: the CPUs, at most :data:`MAX_THREADS`."""
    import os

    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


def _group_resolved(
    prepared: Prepared, structural: Sequence[int], key: FloatArray
) -> ResolvedScenario:
    """The plan with a group's structural values written in, resolved."""
    if not structural:
        return prepared.resolved
    base = np.array(
        [float(item.distribution.marginal().ppf(0.5)) for item in prepared.spec.inputs]
    )
    values = base.copy()
    values[list(structural)] = key
    scenario = apply_values(prepared, values, only=structural)
    return resolve(scenario, prepared.catalog)
