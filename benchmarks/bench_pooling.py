"""Consortium pooling speed: every coalition's cost and every allocation rule.

Consortia: the shipped preset (this project and two departments: 3 players, 7
coalitions), a synthetic one of 8 departments plus this project (9 players, 511
coalitions) and one of 11 departments (12 players, the documented limit).
Baseline: a naive loop that calls the engine (``planner.tco.strategy_ledger``)
once per coalition and option on full hourly demand (own, hybrid with each
cloud offer, each cloud strategy). On the synthetic consortia the naive loop runs on a
random sample of coalitions and is extrapolated. Every naive cost is checked
against the batched one.
"""

import time
from dataclasses import replace as dc_replace
from importlib import resources

import numpy as np
from timing import best_of

from planner import pooling, tco
from planner.resolve import ResolvedCloudStrategy, resolve
from planner.scenario import Scenario, replace, scenario_from_yaml
from planner.tco.strategies import owned_capacity

SHARED = "Shared 4x 8xH100 (three departments)"
SAMPLED_COALITIONS = 24


def synthetic(base: Scenario, departments: int) -> Scenario:
    rng = np.random.default_rng(2024)
    shared = next(s for s in base.strategies if s.name == SHARED)
    members = [
        {
            "name": f"Department {i + 1}",
            "reference_hours_per_year": float(rng.uniform(20_000, 150_000)),
            "shape": {
                "kind": "synthetic",
                "peak_to_mean": float(rng.uniform(2.0, 4.0)),
                "seed": 100 + i,
            },
        }
        for i in range(departments)
    ]
    return replace(base, strategies=[replace(shared, members=members)])


def naive_cost(resolved, levels, servers_max: int) -> float:
    """Cheapest option of one coalition by the engine, one call per option.

    The options the game prices: own k servers, k servers bursting on demand to
    each cloud offer, renting everything from each cloud strategy.
    """
    shared = resolved.strategy(SHARED)
    clouds = [s for s in resolved.strategies if isinstance(s, ResolvedCloudStrategy)]
    if shared.burst is not None:
        clouds.append(shared.burst)
    view = resolved.scenario.view
    hours = np.ones(levels.shape[-1])

    def npv(strategy) -> float:
        ledger, _ = tco.strategy_ledger(
            strategy, resolved, levels, hours, sizing_hourly=levels[0, 0]
        )
        return float(ledger.cost_usd(view)[0] @ resolved.discount)

    costs = [npv(cloud) for cloud in clouds]
    for k in range(servers_max + 1):
        own = dc_replace(shared, servers=float(k), burst=None, members=())
        costs.append(npv(own))
        for cloud in clouds:
            burst = dc_replace(cloud, purchase="on_demand", committed_accelerators=None)
            costs.append(npv(dc_replace(own, burst=burst)))
    return min(costs)


def measure(label: str, scenario: Scenario, *, sample: int | None = None) -> None:
    pooling.consortium_game(scenario, SHARED)  # warm caches (catalog, shapes)
    game_s, _ = best_of(lambda: pooling.consortium_game(scenario, SHARED), 3)
    game = pooling.consortium_game(scenario, SHARED)
    rules_s, _ = best_of(lambda: pooling.allocations(game), 3)
    total_s = game_s + rules_s
    n = len(game.players)
    print(
        f"{label}: {n} players, {2**n - 1} coalitions: coalition costs "
        f"{game_s * 1e3:.0f} ms + all allocations {rules_s * 1e3:.0f} ms = "
        f"{total_s * 1e3:.0f} ms"
    )
    resolved = resolve(scenario)
    demands = pooling.player_demands(scenario, SHARED)
    shared = resolved.strategy(SHARED)
    capacity, _, _ = owned_capacity(dc_replace(shared, servers=1.0), resolved)
    peak = sum(demands.values()).max()
    servers_max = int(np.ceil(peak / capacity.max()))
    coalitions = list(game.costs_usd)
    if sample is not None:
        rng = np.random.default_rng(0)
        picks = rng.choice(len(coalitions), size=sample, replace=False)
        coalitions = [coalitions[i] for i in sorted(picks)]
    start = time.perf_counter()
    worst = 0.0
    for coalition in coalitions:
        levels = sum(demands[p] for p in coalition)[None]
        naive = naive_cost(resolved, levels, servers_max)
        worst = max(worst, abs(naive / game.costs_usd[coalition] - 1.0))
    naive_s = time.perf_counter() - start
    full_s = naive_s * (2**n - 1) / len(coalitions)
    how = (
        "measured"
        if sample is None
        else f"extrapolated from {len(coalitions)} sampled coalitions"
    )
    print(
        f"  naive loop of the engine (one hourly call per option and "
        f"coalition): {full_s:.1f} s ({how}); batched is {full_s / game_s:.0f}x "
        f"faster on coalition costs; largest relative difference {worst:.1e}"
    )


preset = scenario_from_yaml(
    resources.files("planner").joinpath("presets/consortium.yaml").read_text()
)
measure("consortium preset", preset)
measure("synthetic 8 departments", synthetic(preset, 8), sample=SAMPLED_COALITIONS)
measure(
    "synthetic 11 departments (limit)",
    synthetic(preset, 11),
    sample=SAMPLED_COALITIONS,
)
