"""The consortium's cost game, priced by the engine, and how rules share it.

Players are this scenario's own demand and each member of one of its shared
(consortium) strategies. The cost of a coalition ``S`` is the least comparable
present value (the scenario's view, equal service) of serving the pooled hourly
demand of ``S`` with the realistic options (docs/methods.md, "Consortium"):

* **own**: ``k`` servers of the shared strategy's specification, its opex,
  refresh and resale settings, work that does not fit waiting for spare hours
  or left unserved at the scenario's costs (the engine's rule);
* **hybrid**: ``k`` servers with the overflow bursting on demand to one of the
  scenario's cloud offers (each is tried), or to the shared strategy's burst;
* **cloud:<name>**: renting everything from one of the scenario's cloud
  strategies, with its purchase model: renting alone is always an option, so no
  coalition pays more than its cheapest cloud offer.

``k`` is searched exhaustively from 0 to the fewest servers that cover the grand
coalition's peak. Every cost comes from the engine (:func:`planner.tco.
strategy_ledger` over :mod:`planner.costing`), batched over all coalitions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.costing import View
from planner.pooling.rules import MAX_PLAYERS, _label, _members, _membership
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.scenario import Scenario
from planner.tco.strategies import owned_capacity, strategy_ledger
from pricing.catalog import Catalog
from pricing.units import HOURS_PER_YEAR

FloatArray = npt.NDArray[np.float64]

DEFAULT_OWN_NAME = "This project"
"""Player name of the scenario's own demand. [-]"""

_CHUNK_VALUES = 4_000_000
"""Hourly values of coalition demand held at once (32 MB of float64). [-]"""


@dataclass(frozen=True)
class ConsortiumGame:
    """The cost game of a shared strategy's consortium, with what the rules need."""

    strategy_name: str
    """Shared strategy whose members (with this scenario's demand) are players."""
    view: str
    """Whose cost the game is in (the scenario's view)."""
    players: tuple[str, ...]
    """This scenario's own demand first, then the members in order."""
    costs_usd: Mapping[frozenset[str], float]
    """Least comparable present value of serving each coalition. [USD]"""
    plans: pd.DataFrame
    """One row per coalition: ``coalition``, ``size``, ``option`` (``own``,
    ``hybrid`` or ``cloud:<strategy name>``), ``servers``, ``burst`` (the offer a
    hybrid bursts to), ``cost_usd``, ``cloud_alone_usd`` (its cheapest cloud
    offer) and ``unserved_reference_hours`` (over the horizon)."""
    usage_reference_hours: Mapping[str, float]
    """Each player's demand over the horizon. [reference accelerator-h]"""
    discounted_usage_reference_hours: Mapping[str, float]
    """Each year's demand discounted like the running costs. [reference
    accelerator-h]"""
    servers: int
    """Servers of the grand coalition's cheapest plan (0 when renting). [-]"""
    capacity_cost_usd: float
    """Present value of the grand coalition's capacity cost (its servers at zero
    demand). [USD]"""
    variable_cost_usd: float
    """The rest of the grand coalition's cost. [USD]"""
    binding_demand_reference_hours: Mapping[str, float]
    """Each player's demand in the hours the grand coalition's cluster is full
    (or, if never full, its peak hour of each year). [reference accelerator-h]"""

    @property
    def grand_coalition_cost_usd(self) -> float:
        """Cost of serving everyone together, c(N), in USD."""
        return float(self.costs_usd[frozenset(self.players)])


def _shared(resolved: ResolvedScenario, name: str) -> ResolvedOwnedStrategy:
    shared = [
        s.name
        for s in resolved.strategies
        if isinstance(s, ResolvedOwnedStrategy) and s.members
    ]
    for strategy in resolved.strategies:
        if strategy.name == name:
            if isinstance(strategy, ResolvedOwnedStrategy) and strategy.members:
                return strategy
            msg = (
                f"strategy_name: {name!r} is a {strategy.kind} strategy, not a "
                f"shared one; shared strategies: {shared}"
            )
            raise ValueError(msg)
    msg = f"strategy_name: no strategy named {name!r}; shared strategies: {shared}"
    raise ValueError(msg)


def player_demands(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    resolved: ResolvedScenario | None = None,
) -> dict[str, FloatArray]:
    """Hourly demand of each player of a consortium, as the engine pools it.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario.

    Returns
    -------
    dict of str to numpy.ndarray of shape (years, hours)
        Busy reference accelerators each hour of each running year, own demand
        first. [reference accelerators]

    Raises
    ------
    ValueError
        If the strategy is not a shared strategy of the scenario, or player
        names repeat.
    """
    resolved = resolved if resolved is not None else resolve(scenario)
    strategy = _shared(resolved, strategy_name)
    names = [own_name, *(m.name for m in strategy.members)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        msg = f"player names must be unique (own_name and members): {repeated}"
        raise ValueError(msg)
    demands = {own_name: np.asarray(resolved.demand.levels, dtype=float)}
    for member in strategy.members:
        demands[member.name] = np.asarray(member.demand.levels, dtype=float)
    return demands


def _common_growth(demands: FloatArray) -> FloatArray | None:
    """Year factors ``s`` with every player's year k = s_k x its year 0, if so."""
    pooled = demands.sum(axis=(0, 2))
    if pooled[0] <= 0:
        return None
    factors: FloatArray = pooled / pooled[0]
    expected = factors[None, :, None] * demands[:, :1, :]
    largest = float(np.abs(demands).max())
    if np.allclose(demands, expected, rtol=1e-12, atol=1e-12 * largest):
        return factors
    return None


def _served_rows(
    demands: FloatArray, hours: FloatArray, masks: FloatArray, caps: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Sorted-prefix evaluation of :func:`served_within` (no growth shortcut)."""
    players, years, width = demands.shape
    flat = demands.reshape(players, years * width)
    coalitions = masks.shape[0]
    chunk = max(1, _CHUNK_VALUES // (years * width))
    served = np.empty((coalitions, caps.shape[0], years))
    total = np.empty((coalitions, years))
    stride = 2.0 * (float(flat.sum(axis=0).max()) + float(caps.max()) + 1.0)
    uniform = bool((hours == hours[0]).all())
    for start in range(0, coalitions, chunk):
        stop = min(coalitions, start + chunk)
        pooled = (masks[start:stop] @ flat).reshape(-1, width)  # rows: (c, y)
        prefix = np.zeros((pooled.shape[0], width + 1))
        if uniform:
            pooled.sort(axis=1)
            ordered = pooled
            np.cumsum(ordered * hours[0], axis=1, out=prefix[:, 1:])
            weight_prefix = np.broadcast_to(
                np.arange(width + 1) * hours[0], prefix.shape
            )
        else:
            order = np.argsort(pooled, axis=1)
            ordered = np.take_along_axis(pooled, order, axis=1)
            np.cumsum(ordered * hours[order], axis=1, out=prefix[:, 1:])
            weight_prefix = np.zeros_like(prefix)
            np.cumsum(hours[order], axis=1, out=weight_prefix[:, 1:])
        # Locate every capacity in every sorted row with one binary search:
        # row r is shifted by r x stride, above any value, so the rows laid end
        # to end stay sorted.
        rows = np.arange(ordered.shape[0])
        keys = (ordered + rows[:, None] * stride).ravel()
        row_caps = np.tile(caps.T, (stop - start, 1))  # (rows, capacities)
        below = np.searchsorted(keys, (row_caps + rows[:, None] * stride).ravel())
        below = below.reshape(row_caps.shape) - rows[:, None] * width
        inside = np.take_along_axis(prefix, below, axis=1)
        above = weight_prefix[:, -1:] - np.take_along_axis(weight_prefix, below, axis=1)
        result = inside + row_caps * above
        served[start:stop] = result.reshape(stop - start, years, -1).transpose(0, 2, 1)
        total[start:stop] = prefix[:, -1].reshape(stop - start, years)
    return served, total


def served_within(
    demands: FloatArray, hours: FloatArray, masks: FloatArray, caps: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Served work under each capacity, and total work, of every coalition.

    Returns ``served`` of shape (coalitions, capacities, years) with
    sum_h hours_h min(L_h, cap_y) and ``total`` of shape (coalitions, years).
    Each coalition-year is sorted once; served work is then a prefix sum plus
    the capacity times the hours above it. When every player's demand grows by
    the same factor s_y each year (the engine's synthetic and log demands do),
    only year 0 is sorted: served_y(cap) = s_y served_0(cap / s_y).
    """
    factors = _common_growth(demands)
    if factors is None:
        return _served_rows(demands, hours, masks, caps)
    capacities, years = caps.shape
    scaled = (caps / factors[None, :]).reshape(-1, 1)
    served0, total0 = _served_rows(demands[:, :1, :], hours, masks, scaled)
    served = served0.reshape(-1, capacities, years) * factors[None, None, :]
    total: FloatArray = total0 * factors[None, :]
    return served, total


def two_block_levels(
    served: FloatArray, total: FloatArray, cap: FloatArray, hours_total: float
) -> FloatArray:
    """Two blocks (1 h and the rest) that give the engine the same served work.

    A block of one hour at ``min(A, cap) + O`` and one of ``H - 1`` hours at
    ``(A - min(A, cap)) / (H - 1)`` serve exactly ``A`` within capacity and
    overflow exactly ``O = total - A``, the only aggregates the owned-cluster,
    on-demand/spot burst, wait and unserved models use; shape (batch, years, 2).
    """
    overflow = np.maximum(total - served, 0.0)
    first = np.minimum(served, cap)
    rest = (served - first) / (hours_total - 1.0)
    levels: FloatArray = np.stack([first + overflow, rest], axis=-1)
    return levels


def _npv(
    strategy: ResolvedCloudStrategy | ResolvedOwnedStrategy,
    resolved: ResolvedScenario,
    levels: FloatArray,
    hours: FloatArray,
    view: View,
    sizing: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Comparable NPV and unserved hours of a batch of demands."""
    ledger, dispatch = strategy_ledger(
        strategy, resolved, levels, hours, sizing_hourly=sizing
    )
    npv = np.asarray(ledger.cost_usd(view) @ resolved.discount, dtype=float)
    return npv, np.asarray(dispatch.unserved.sum(axis=-1), dtype=float)


def _on_demand(strategy: ResolvedCloudStrategy, name: str) -> ResolvedCloudStrategy:
    return ResolvedCloudStrategy(
        name=name,
        offer=strategy.offer,
        purchase="on_demand",
        committed_accelerators=None,
        storage_usd_per_year=0.0,
        egress_usd_per_year=0.0,
    )


@dataclass(frozen=True)
class _Option:
    label: str
    servers: int
    burst: str


def _cloud_options(
    resolved: ResolvedScenario, shared: ResolvedOwnedStrategy
) -> list[ResolvedCloudStrategy]:
    """Every cloud strategy of the scenario, and the shared strategy's burst."""
    found = [
        replace(s, storage_usd_per_year=0.0, egress_usd_per_year=0.0)
        for s in resolved.strategies
        if isinstance(s, ResolvedCloudStrategy)
    ]
    if shared.burst is not None and all(
        s.offer != shared.burst.offer or s.purchase != shared.burst.purchase
        for s in found
    ):
        found.append(replace(shared.burst, name=f"{shared.name} burst"))
    return found


def _option_costs(
    resolved: ResolvedScenario,
    shared: ResolvedOwnedStrategy,
    demands: FloatArray,
    hours: FloatArray,
    masks: FloatArray,
    servers_max: int,
    unit: FloatArray,
    view: View,
) -> tuple[FloatArray, FloatArray, list[_Option]]:
    """Cost and unserved work of every coalition under every option."""
    years = resolved.horizon_years
    coalitions = masks.shape[0]
    caps = np.arange(servers_max + 1)[:, None] * unit[None, :]
    served, total = served_within(demands, hours, masks, caps)
    reduced_hours = np.array([1.0, float(hours.sum()) - 1.0])
    columns: list[FloatArray] = []
    lost: list[FloatArray] = []
    options: list[_Option] = []
    clouds = _cloud_options(resolved, shared)
    bursts: dict[str, ResolvedCloudStrategy] = {}
    for cloud in clouds:
        offer = cloud.offer
        key = (
            f"{offer.provider}|{offer.region}|{offer.instance_type}|"
            f"{offer.on_demand_usd_per_accelerator_hour}|{offer.indirect_cost_rate}"
        )
        bursts.setdefault(key, _on_demand(cloud, cloud.name))
    for k in range(servers_max + 1):
        levels = two_block_levels(served[:, k], total, caps[k], reduced_hours.sum())
        own = replace(shared, servers=float(k), burst=None, members=())
        npv, left = _npv(own, resolved, levels, reduced_hours, view)
        columns.append(npv)
        lost.append(left)
        options.append(_Option("own", k, ""))
        if k == 0:
            continue
        for burst in bursts.values():
            hybrid = replace(shared, servers=float(k), burst=burst, members=())
            npv, left = _npv(hybrid, resolved, levels, reduced_hours, view)
            columns.append(npv)
            lost.append(left)
            options.append(_Option("hybrid", k, burst.name))
    flat = demands.reshape(demands.shape[0], -1)
    for cloud in clouds:
        if cloud.term_years == 0:
            # Linear in the work: a flat demand of each coalition's yearly work.
            levels = (total / HOURS_PER_YEAR)[:, :, None]
            npv, left = _npv(cloud, resolved, levels, np.array([HOURS_PER_YEAR]), view)
        else:
            # A commitment is sized on each coalition's own hours: one at a time.
            npv = np.empty(coalitions)
            left = np.zeros(coalitions)
            for row in range(coalitions):
                pooled = (masks[row] @ flat).reshape(1, years, -1)
                value, _ = _npv(cloud, resolved, pooled, hours, view, pooled[0, 0])
                npv[row] = value[0]
        columns.append(npv)
        lost.append(left)
        options.append(_Option(f"cloud:{cloud.name}", 0, ""))
    return np.stack(columns, axis=1), np.stack(lost, axis=1), options


def consortium_game(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    catalog: Catalog | None = None,
    view: View | None = None,
) -> ConsortiumGame:
    """The cost game of a shared strategy's consortium, from the engine.

    Players are the scenario's own demand and each member. For each coalition
    the pooled hourly demand is served by the cheapest of owning, hybrid and
    each cloud offer (module notes); present values are comparable (delay and
    unserved work priced by the scenario's service rule) in the view.

    All coalitions are evaluated in one batched engine call per option: each
    coalition-year is reduced exactly to two blocks that carry its served and
    overflow work (:func:`two_block_levels`). A committed cloud offer is sized
    on each coalition's hours, so then coalitions go one at a time on full
    hourly demand (slower).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    view : {"institution", "award"}, optional
        Whose cost; the scenario's view by default.

    Returns
    -------
    ConsortiumGame
        Coalition costs, the plan behind each, usage and the grand coalition's
        capacity/variable split.

    Raises
    ------
    ValueError
        If the strategy is not shared, names repeat, or the pooled peak needs
        more servers than a strategy may hold.
    planner.resolve.ResolutionError
        If the strategy names unknown catalog entries.
    """
    resolved = resolve(scenario, catalog)
    chosen: View = view or scenario.view
    shared = _shared(resolved, strategy_name)
    n = 1 + len(shared.members)
    if n > MAX_PLAYERS:
        msg = (
            f"strategy_name: {strategy_name!r} has {n} players (this project and "
            f"{n - 1} members); at most {MAX_PLAYERS} are supported (2^n coalitions)"
        )
        raise ValueError(msg)
    by_player = player_demands(
        scenario, strategy_name, own_name=own_name, resolved=resolved
    )
    players = tuple(by_player)
    demands = np.stack([by_player[p] for p in players])
    hours = np.asarray(resolved.demand.hours, dtype=float)
    unit, _, _ = owned_capacity(replace(shared, servers=1.0), resolved)
    if unit.max() <= 0:
        msg = f"{strategy_name}: a server of this strategy has no usable capacity"
        raise ValueError(msg)
    peak = float(demands.sum(axis=0).max())
    servers_max = math.ceil(peak / float(unit.max()) - 1e-12)
    if servers_max > 10_000:
        msg = (
            f"{strategy_name}: the pooled peak needs {servers_max} servers, more "
            "than the 10,000 a strategy may hold"
        )
        raise ValueError(msg)
    membership = _membership(n)[1:]
    costs, unserved, options = _option_costs(
        resolved, shared, demands, hours, membership, servers_max, unit, chosen
    )
    best = np.argmin(costs, axis=1)
    rows = np.arange(costs.shape[0])
    best_cost = costs[rows, best]
    cloud_columns = [i for i, o in enumerate(options) if o.label.startswith("cloud:")]
    cloud_alone = (
        costs[:, cloud_columns].min(axis=1)
        if cloud_columns
        else np.full(costs.shape[0], np.nan)
    )
    masks = np.arange(1, 2**n)
    plans = pd.DataFrame(
        {
            "coalition": [_label(int(m), players) for m in masks],
            "size": membership.sum(axis=1).astype(int),
            "option": [options[i].label for i in best],
            "servers": [options[i].servers for i in best],
            "burst": [options[i].burst for i in best],
            "cost_usd": best_cost,
            "cloud_alone_usd": cloud_alone,
            "unserved_reference_hours": unserved[rows, best],
        }
    )
    game_costs = {
        _members(int(m), players): float(c)
        for m, c in zip(masks, best_cost, strict=True)
    }
    ordered = {frozenset({p}): game_costs[frozenset({p})] for p in players}
    ordered |= game_costs
    discount = resolved.discount
    yearly = (demands * hours).sum(axis=-1)
    usage = dict(zip(players, yearly.sum(axis=1).tolist(), strict=True))
    discounted = dict(zip(players, (yearly @ discount[1:]).tolist(), strict=True))
    grand = options[int(best[-1])]
    servers = grand.servers
    grand_cost = float(best_cost[-1])
    capacity_cost = 0.0
    if servers > 0:
        idle = np.zeros((1, resolved.horizon_years, 2))
        owned = replace(shared, servers=float(servers), burst=None, members=())
        capacity_cost = float(
            _npv(
                owned,
                resolved,
                idle,
                np.array([1.0, HOURS_PER_YEAR - 1.0]),
                chosen,
            )[0][0]
        )
    binding = _binding_demand(demands, hours, servers * unit)
    return ConsortiumGame(
        strategy_name=strategy_name,
        view=chosen,
        players=players,
        costs_usd=ordered,
        plans=plans,
        usage_reference_hours=usage,
        discounted_usage_reference_hours=discounted,
        servers=servers,
        capacity_cost_usd=capacity_cost,
        variable_cost_usd=grand_cost - capacity_cost,
        binding_demand_reference_hours=dict(
            zip(players, binding.tolist(), strict=True)
        ),
    )


def _binding_demand(
    demands: FloatArray, hours: FloatArray, cap: FloatArray
) -> FloatArray:
    """Each player's work in the hours the pooled cluster is full (else its peaks)."""
    pooled = demands.sum(axis=0)
    active = cap > 0
    full = (pooled >= cap[:, None] * (1.0 - 1e-12)) & active[:, None]
    if not full.any():
        rows = active if active.any() else np.ones_like(active)
        full = (pooled == pooled.max(axis=1, keepdims=True)) & rows[:, None]
    binding: FloatArray = (demands * hours * full).sum(axis=(1, 2))
    return binding


def coalition_costs(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    catalog: Catalog | None = None,
) -> dict[frozenset[str], float]:
    """Least comparable present value of serving each coalition of a consortium.

    A shortcut to ``consortium_game(...).costs_usd``.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    strategy_name : str
        Name of one of its shared strategies.
    own_name : str, default "This project"
        Player name of the scenario's own demand.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    dict of frozenset of str to float
        Cost of every non-empty coalition, singletons first. [USD]
    """
    game = consortium_game(scenario, strategy_name, own_name=own_name, catalog=catalog)
    return dict(game.costs_usd)


def uniform_rate_usd_per_reference_hour(game: ConsortiumGame) -> float:
    r"""Uniform recharge rate that recovers the pooled cost from usage.

    A service centre charging federal awards must bill by usage at rates that
    do not discriminate and recover only aggregate costs (2 CFR 200.468 [1]_);
    a flat rate on every year's usage, paid at the end of the year, recovers
    :math:`c(N)` in present value at this rate.

    Parameters
    ----------
    game : ConsortiumGame
        The consortium's game.

    Returns
    -------
    float
        :math:`c(N) / \sum_i \sum_k u_{i,k} (1 + r)^{-k}`. [USD/reference
        accelerator-h]

    References
    ----------
    .. [1] "Specialized service facilities," 2 CFR 200.468, Code of Federal
       Regulations, Title 2, Subtitle A, Chapter II, Part 200 (2024 revision).
    """
    total = sum(game.discounted_usage_reference_hours.values())
    return game.grand_coalition_cost_usd / total if total > 0 else float("nan")
