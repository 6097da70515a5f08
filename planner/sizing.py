"""Owned clusters sized to deliver the demand: the cheapest whole server count.

A strategy with ``servers: auto`` owns the number of servers that gives the
lowest comparable present value of the scenario's view at equal service: each
count from 1 to the fewest servers that cover the horizon's peak demand (more
only adds cost) is priced by the engine with its late work delayed, left
unserved or burst by the strategy's own rule (docs/methods.md §11), and the
cheapest wins. Peak-to-mean therefore changes the size and the cost, where a
size read off the mean demand would not.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from planner import costing
from planner.resolve import ResolvedOwnedStrategy, ResolvedScenario

MAX_AUTO_SERVERS = 1_000
"""Most servers an ``auto`` strategy is searched up to: one engine evaluation per
count, so the bound keeps a request within seconds. [-]"""


def candidate_counts(strategy: ResolvedOwnedStrategy, peak: float) -> range:
    """Server counts worth pricing: 1 up to the fewest that cover the peak.

    Parameters
    ----------
    strategy : ResolvedOwnedStrategy
        The strategy (its server and availability).
    peak : float
        Peak demand it serves over the horizon. [reference accelerators]

    Returns
    -------
    range
        Counts to price. [-]

    Raises
    ------
    ValueError
        If the peak needs more than :data:`MAX_AUTO_SERVERS` servers.
    """
    per_server = costing.capacity_reference_per_server(strategy.server, strategy.ops)
    top = max(1, math.ceil(peak / per_server - 1e-9))
    if top > MAX_AUTO_SERVERS:
        msg = (
            f"{strategy.name}: servers auto would search {top} servers, more than "
            f"{MAX_AUTO_SERVERS}; give the number of servers"
        )
        raise ValueError(msg)
    return range(1, top + 1)


def size_owned_strategies(resolved: ResolvedScenario) -> ResolvedScenario:
    """The resolved scenario with every ``auto`` count set to its cheapest.

    Parameters
    ----------
    resolved : ResolvedScenario
        A resolution whose sized strategies hold 0 servers.

    Returns
    -------
    ResolvedScenario
        The same, each sized strategy holding its cheapest whole count.
    """
    from planner.tco.strategies import strategy_ledger, strategy_levels

    view = resolved.scenario.view
    strategies = []
    for strategy in resolved.strategies:
        if not (isinstance(strategy, ResolvedOwnedStrategy) and strategy.sized):
            strategies.append(strategy)
            continue
        levels, hours = strategy_levels(strategy, resolved)
        costs = []
        counts = candidate_counts(strategy, float(levels.max()))
        for count in counts:
            trial = replace(strategy, servers=float(count))
            ledger, _ = strategy_ledger(trial, resolved, levels, hours)
            costs.append(float(ledger.cost_usd(view)[0] @ resolved.discount))
        # The first of equal costs: fewer servers when a count adds nothing.
        best_count = counts[int(np.argmin(costs))]
        strategies.append(replace(strategy, servers=float(best_count)))
    return replace(resolved, strategies=tuple(strategies))
