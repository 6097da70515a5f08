"""Consortium pooling speed: every coalition's cost and every allocation rule.

Consortia: the shipped preset (this project and two departments: 3 players, 7
coalitions), a synthetic one of 8 departments plus this project (9 players, 511
coalitions) and one of 11 departments (12 players, the documented limit).
Baseline: a naive loop that calls ``planner.tco.evaluate`` once per coalition
and server count on full hourly demand (renting everything is the 0-server
case, all work bursting). On the synthetic consortia the naive loop runs on a
random sample of coalitions and is extrapolated. Every naive cost is checked
against the batched one.
"""

import statistics
import time
from importlib import resources

import numpy as np

from planner import pooling, tco
from planner.scenario import (
    HybridStrategy,
    OnPremStrategy,
    Scenario,
    SharedStrategy,
    replace,
    scenario_from_yaml,
)

SHARED = "Shared 4x 8xH100 (three departments)"
SAMPLED_COALITIONS = 24


def best_of(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


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


def naive_cost(scenario: Scenario, coalition: list[str], servers_max: int) -> float:
    """Cheapest option of one coalition by full evaluations (one per option)."""
    shared = next(s for s in scenario.strategies if s.name == SHARED)
    assert isinstance(shared, SharedStrategy)
    members = {m.name: m for m in shared.members}
    first, rest = coalition[0], coalition[1:]
    demand = scenario.demand
    if first != pooling.DEFAULT_OWN_NAME:
        member = members[first]
        demand = replace(
            demand,
            reference_hours_per_year=member.reference_hours_per_year,
            shape=member.shape.model_dump(),
        )
    base = replace(scenario, demand=demand.model_dump())
    discount = (1 + base.real_discount_rate) ** -np.arange(base.horizon_years + 1.0)
    fields = shared.model_dump(exclude={"kind", "members", "burst"})
    options = []
    for servers in range(servers_max + 1):
        fields["servers"] = servers
        if rest:
            pool = [members[m].model_dump() for m in rest]
            if len(pool) == 1:  # a shared strategy needs two members: add an idle one
                pool.append({"name": "(idle)", "reference_hours_per_year": 0.0})
            strategy = replace(shared, servers=servers, members=pool)
        elif shared.burst is not None:
            strategy = HybridStrategy.model_validate(
                fields | {"burst": shared.burst, "overflow": "burst"}
            )
        else:
            strategy = OnPremStrategy.model_validate(fields)
        options.append(strategy)
    # A cloud strategy in a scenario serves only the scenario's own demand; for a
    # pooled coalition, renting everything is the owned strategy at 0 servers
    # bursting everything (identical for on-demand and spot offers).
    costs = []
    for option in options:
        evaluation = tco.evaluate(replace(base, strategies=[option.model_dump()]))
        ledger = evaluation.ledgers[option.name]
        costs.append(float(ledger.total_cost_usd()[0] @ discount))
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
    unit = float(pooling._unit_capacity(scenario.strategies[-1], scenario).max())
    peak = sum(pooling.player_demands(scenario, SHARED).values()).max()
    servers_max = int(np.ceil(peak / unit))
    coalitions = list(game.costs_usd)
    if sample is not None:
        rng = np.random.default_rng(0)
        picks = rng.choice(len(coalitions), size=sample, replace=False)
        coalitions = [coalitions[i] for i in sorted(picks)]
    start = time.perf_counter()
    worst = 0.0
    for coalition in coalitions:
        ordered = [p for p in game.players if p in coalition]
        naive = naive_cost(scenario, ordered, servers_max)
        worst = max(worst, abs(naive / game.costs_usd[coalition] - 1.0))
    naive_s = time.perf_counter() - start
    full_s = naive_s * (2**n - 1) / len(coalitions)
    how = (
        "measured"
        if sample is None
        else f"extrapolated from {len(coalitions)} sampled coalitions"
    )
    print(
        f"  naive loop of tco.evaluate ({servers_max + 1} evaluations per "
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
