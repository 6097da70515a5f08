"""Consortium cost games and allocations: textbook games, published numbers, engine."""

from dataclasses import replace as dc_replace
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from planner import pooling, tco
from planner.resolve import ResolvedCloudStrategy, resolve
from planner.scenario import load_scenario, replace

PRESET = "planner/presets/consortium.yaml"
SHARED = "Shared 4x 8xH100 (three departments)"


def game_from(values, players):
    """Game {frozenset: cost} from costs listed by bitmask 1..2^n-1."""
    n = len(players)
    return {
        frozenset(p for i, p in enumerate(players) if mask >> i & 1): float(v)
        for mask, v in zip(range(1, 2**n), values, strict=True)
    }


def airport(requirements):
    names = list(requirements)
    return {
        frozenset(s): max(requirements[p] for p in s)
        for k in range(1, len(names) + 1)
        for s in combinations(names, k)
    }


def amounts(frame):
    return frame.set_index("member")["allocation_usd"]


def in_core(frame, costs, **kwargs):
    return bool(pooling.core_check(frame, costs, **kwargs)["in_core"].iloc[0])


# Methods notes 4.6: three members, screening-curve c(S) (capex $30k, L = 5,
# r = 5 %, phi = 10 %, k = 2), recomputed with scipy 1.17.1; printed to the USD.
METHODS_4_6 = {
    frozenset({"1"}): 293_177.0,
    frozenset({"2"}): 231_589.0,
    frozenset({"3"}): 106_905.0,
    frozenset({"1", "2"}): 519_990.0,
    frozenset({"1", "3"}): 396_825.0,
    frozenset({"2", "3"}): 335_461.0,
    frozenset({"1", "2", "3"}): 623_257.0,
}
METHODS_4_6_SHAPLEY = {"1": 290_044.0, "2": 228_568.0, "3": 104_644.0}
METHODS_4_6_NUCLEOLUS = {"1": 289_767.0, "2": 228_403.0, "3": 105_087.0}
METHODS_4_6_PROPORTIONAL = {"1": 293_820.0, "2": 226_131.0, "3": 103_306.0}


# --- textbook games ----------------------------------------------------------------


def test_shapley_allocation_airport_game_littlechild_owen():
    # Littlechild & Owen (1973), methods notes 4.2: runway needs 8, 11, 13, 18
    # -> sequential equal contributions 2, 3, 4, 9 (exact).
    costs = airport({"A": 8.0, "B": 11.0, "C": 13.0, "D": 18.0})
    shapley = amounts(pooling.shapley_allocation(costs))
    np.testing.assert_allclose(shapley.loc[["A", "B", "C", "D"]], [2, 3, 4, 9])
    assert in_core(pooling.shapley_allocation(costs), costs)
    assert in_core(pooling.nucleolus_allocation(costs), costs)


def test_nucleolus_allocation_airport_game_three_players_by_hand():
    # c = max of needs 8, 11, 13. Excesses x(S) - c(S): x1 - 8, x2 - 11, x3 - 13,
    # and, as x(N) = 13, 2 - x3 for {1, 2}, -x2 for {1, 3}, -x1 for {2, 3}.
    # The largest is smallest when -x1 = -x2 = 2 - x3 = t with x(N) = 13:
    # t = -11/3, a single point, so x = (11/3, 11/3, 17/3) exactly.
    costs = airport({"A": 8.0, "B": 11.0, "C": 13.0})
    x = amounts(pooling.nucleolus_allocation(costs)).loc[["A", "B", "C"]]
    np.testing.assert_allclose(x, [11 / 3, 11 / 3, 17 / 3], rtol=1e-9)


def test_glove_game_nucleolus_is_the_unique_core_point():
    # Glove game as a cost game (c = -v): one left glove L, two right R1, R2,
    # v(S) = pairs. The core is the single point where L takes the whole pair's
    # value; the Shapley value gives L 2/3 of it and each R 1/6.
    players = ["L", "R1", "R2"]
    costs = {}
    for k in range(1, 4):
        for s in combinations(players, k):
            left = sum(p == "L" for p in s)
            right = len(s) - left
            costs[frozenset(s)] = -float(min(left, right))
    nucleolus = amounts(pooling.nucleolus_allocation(costs)).loc[players]
    np.testing.assert_allclose(nucleolus, [-1, 0, 0], atol=1e-9)
    shapley = amounts(pooling.shapley_allocation(costs)).loc[players]
    np.testing.assert_allclose(shapley, [-2 / 3, -1 / 6, -1 / 6])
    assert pooling.least_core_epsilon_usd(costs) == pytest.approx(0.0, abs=1e-9)
    assert not in_core(pooling.shapley_allocation(costs), costs)


# --- methods notes 4.6 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "published"),
    [
        (pooling.shapley_allocation, METHODS_4_6_SHAPLEY),
        (pooling.nucleolus_allocation, METHODS_4_6_NUCLEOLUS),
    ],
)
def test_methods_4_6_published_allocations(rule, published):
    # Printed to the dollar (and rounded so each sums to c(N)): tolerance 1 USD.
    frame = rule(METHODS_4_6)
    got = amounts(frame)
    for member, value in published.items():
        assert got[member] == pytest.approx(value, abs=1.0)
    assert in_core(frame, METHODS_4_6)


def test_methods_4_6_nucleolus_fixes_only_nonzero_duals():
    # The least-core LP's vertex (289 920, 228 251, 105 086) also makes coalition
    # {1, 3} tight, with a zero dual; fixing every tight coalition (the error
    # Guajardo & Jörnsten 2015 document) would stop there, not at the nucleolus.
    least = amounts(pooling.least_core_allocation(METHODS_4_6))
    nucleolus = amounts(pooling.nucleolus_allocation(METHODS_4_6))
    assert pooling.least_core_epsilon_usd(METHODS_4_6) == pytest.approx(-1819.0)
    np.testing.assert_allclose(
        nucleolus.loc[["1", "2", "3"]], [289_767.5, 228_403.5, 105_086.0], atol=1e-6
    )
    assert abs(least["1"] - nucleolus["1"]) > 100  # the trap is real here


def test_methods_4_6_proportional_is_not_in_core():
    usage = METHODS_4_6_PROPORTIONAL  # shares of GPU-hours, as published
    frame = pooling.proportional_allocation(METHODS_4_6, usage)
    for member, value in METHODS_4_6_PROPORTIONAL.items():
        assert amounts(frame)[member] == pytest.approx(value, abs=1.0)
    check = pooling.core_check(frame, METHODS_4_6, tolerance_usd=1.0)
    assert not check["in_core"].iloc[0]
    # Member 1 pays more than its stand-alone 293 177 and would leave.
    row = check.set_index("coalition").loc["1"]
    assert row["blocking"]
    assert row["excess_usd"] == pytest.approx(293_820 - 293_177, abs=1.0)


def test_core_check_lists_every_coalition():
    check = pooling.core_check(pooling.shapley_allocation(METHODS_4_6), METHODS_4_6)
    assert len(check) == 7
    assert list(check["size"]) == [1, 1, 1, 2, 2, 2, 3]
    assert check["excess_usd"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    assert check["in_core"].all()


def test_scrb_allocation_by_hand():
    # SC = c(N) - c(N \ i) = (287 796, 226 432, 103 267); NSC = 5 762;
    # RB = c(i) - SC = (5 381, 5 157, 3 638) (Young, Okada & Hashimoto 1982).
    sc = np.array([623_257 - 335_461, 623_257 - 396_825, 623_257 - 519_990])
    rb = np.array([293_177, 231_589, 106_905]) - sc
    expected = sc + (623_257 - sc.sum()) * rb / rb.sum()
    got = amounts(pooling.scrb_allocation(METHODS_4_6)).loc[["1", "2", "3"]]
    np.testing.assert_allclose(got, expected)


def test_peak_load_allocation_capacity_follows_the_peak():
    frame = pooling.peak_load_allocation(
        90.0, 10.0, {"day": 3.0, "night": 0.0}, {"day": 1.0, "night": 1.0}
    )
    np.testing.assert_allclose(amounts(frame).loc[["day", "night"]], [95.0, 5.0])


# --- properties --------------------------------------------------------------------


@st.composite
def games(draw, min_players=2, max_players=5):
    n = draw(st.integers(min_players, max_players))
    players = [f"p{i}" for i in range(n)]
    values = draw(
        st.lists(
            st.floats(1.0, 1_000.0, allow_nan=False),
            min_size=2**n - 1,
            max_size=2**n - 1,
        )
    )
    return game_from(values, players)


@st.composite
def concave_games(draw):
    """Fixed cost plus a concave function of total demand: submodular costs."""
    n = draw(st.integers(2, 5))
    players = [f"p{i}" for i in range(n)]
    demand = draw(st.lists(st.floats(0.1, 100.0), min_size=n, max_size=n))
    fixed = draw(st.floats(0.0, 100.0))
    power = draw(st.floats(0.2, 1.0))
    values = [
        fixed + sum(d for i, d in enumerate(demand) if mask >> i & 1) ** power
        for mask in range(1, 2**n)
    ]
    return game_from(values, players)


def _all_rules(costs, weights):
    usage = dict(zip(sorted({p for s in costs for p in s}), weights, strict=False))
    return [
        pooling.proportional_allocation(costs, usage),
        pooling.shapley_allocation(costs),
        pooling.nucleolus_allocation(costs),
        pooling.least_core_allocation(costs),
        pooling.scrb_allocation(costs),
        pooling.peak_load_allocation(
            costs[max(costs, key=len)] * 0.6,
            costs[max(costs, key=len)] * 0.4,
            usage,
            usage,
        ),
    ]


@settings(deadline=None, max_examples=60)
@given(
    costs=st.one_of(games(), concave_games()),
    weights=st.lists(st.floats(0.1, 10.0), min_size=5, max_size=5),
)
def test_every_rule_recovers_the_grand_coalition_cost(costs, weights):
    grand = costs[max(costs, key=len)]
    for frame in _all_rules(costs, weights):
        total = frame["allocation_usd"].sum()
        assert total == pytest.approx(grand, rel=1e-6), frame["rule"].iloc[0]


@settings(deadline=None, max_examples=60)
@given(first=games(3, 4), data=st.data())
def test_shapley_is_additive(first, data):
    players = sorted({p for s in first for p in s})
    values = data.draw(
        st.lists(st.floats(1.0, 1_000.0), min_size=len(first), max_size=len(first))
    )
    second = dict(zip(first, values, strict=True))
    both = {s: first[s] + second[s] for s in first}
    total = amounts(pooling.shapley_allocation(both)).loc[players]
    parts = (
        amounts(pooling.shapley_allocation(first)).loc[players]
        + amounts(pooling.shapley_allocation(second)).loc[players]
    )
    np.testing.assert_allclose(total, parts, rtol=1e-9)


@settings(deadline=None, max_examples=40)
@given(base=games(2, 4), dummy_cost=st.floats(0.0, 500.0))
def test_shapley_gives_a_dummy_its_own_cost(base, dummy_cost):
    extended = dict(base)
    extended[frozenset({"dummy"})] = dummy_cost
    for coalition, cost in base.items():
        extended[coalition | {"dummy"}] = cost + dummy_cost
    shapley = amounts(pooling.shapley_allocation(extended))
    assert shapley["dummy"] == pytest.approx(dummy_cost, abs=1e-9)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(2, 5), data=st.data())
def test_shapley_treats_symmetric_players_alike(n, data):
    # c depends on a coalition only up to swapping players p0 and p1.
    players = [f"p{i}" for i in range(n)]

    def canonical(mask):
        swapped = mask & ~3 | (mask & 1) << 1 | (mask & 2) >> 1
        return min(mask, swapped)

    orbit_cost = {}
    values = []
    for mask in range(1, 2**n):
        key = canonical(mask)
        if key not in orbit_cost:
            orbit_cost[key] = data.draw(st.floats(1.0, 1_000.0))
        values.append(orbit_cost[key])
    shapley = amounts(pooling.shapley_allocation(game_from(values, players)))
    assert shapley["p0"] == pytest.approx(shapley["p1"], rel=1e-9)


@settings(deadline=None, max_examples=60)
@given(costs=st.one_of(games(2, 4), concave_games()))
def test_nucleolus_is_in_the_core_when_the_core_is_not_empty(costs):
    epsilon = pooling.least_core_epsilon_usd(costs)
    scale = max(abs(v) for v in costs.values())
    if epsilon <= 1e-9 * scale:  # the core is not empty (up to LP tolerance)
        assert in_core(pooling.nucleolus_allocation(costs), costs)


def _balanced(rows, n):
    """Whether coalitions (0/1 rows) admit positive weights summing to 1_N."""
    k = len(rows)
    objective = np.append(np.zeros(k), -1.0)  # maximise the smallest weight t
    result = optimize.linprog(
        objective,
        A_ub=np.hstack([-np.eye(k), np.ones((k, 1))]),
        b_ub=np.zeros(k),
        A_eq=np.hstack([np.array(rows).T, np.zeros((n, 1))]),
        b_eq=np.ones(n),
        bounds=[(0, None)] * k + [(None, 1)],
        method="highs",
    )
    return result.status == 0 and -result.fun > 1e-9


def kohlberg_criterion(costs, frame):
    """Kohlberg (1971): x is the prenucleolus iff, for every level a, the
    coalitions with excess >= a form a balanced collection."""
    players = list(frame["member"])
    x = frame["allocation_usd"].to_numpy()
    n = len(players)
    scale = max(abs(v) for v in costs.values())
    excesses = sorted(
        (
            (float(np.array([p in s for p in players]) @ x - c), s)
            for s, c in costs.items()
            if 0 < len(s) < n
        ),
        key=lambda item: -item[0],
    )
    rows = []
    for index, (excess, coalition) in enumerate(excesses):
        rows.append([float(p in coalition) for p in players])
        following = excesses[index + 1][0] if index + 1 < len(excesses) else None
        if following is not None and excess - following <= 1e-7 * scale:
            continue  # same level: test the collection once it is complete
        if not _balanced(rows, n):
            return False
    return True


def test_kohlberg_criterion_rejects_the_tight_vertex_of_methods_4_6():
    assert kohlberg_criterion(METHODS_4_6, pooling.nucleolus_allocation(METHODS_4_6))
    assert not kohlberg_criterion(
        METHODS_4_6, pooling.least_core_allocation(METHODS_4_6)
    )


@settings(deadline=None, max_examples=40)
@given(costs=st.one_of(games(2, 4), concave_games()))
def test_nucleolus_meets_kohlberg_criterion_when_core_not_empty(costs):
    # With a non-empty core the nucleolus is the prenucleolus (Kohlberg, "On the
    # nucleolus of a characteristic function game," SIAM J. Appl. Math., 1971).
    if pooling.least_core_epsilon_usd(costs) <= 0:
        assert kohlberg_criterion(costs, pooling.nucleolus_allocation(costs))


@settings(deadline=None, max_examples=40)
@given(costs=concave_games())
def test_concave_games_have_shapley_in_the_core(costs):
    assert pooling.least_core_epsilon_usd(costs) <= 1e-9 * max(costs.values())
    assert in_core(pooling.shapley_allocation(costs), costs)


@settings(deadline=None, max_examples=80)
@given(costs=games(3, 3))
def test_least_core_epsilon_nonpositive_iff_bondareva_shapley(costs):
    # Three players: the core is non-empty iff c(N) is at most the cost of every
    # minimal balanced collection (partitions, and the pairs with weights 1/2).
    c = {tuple(sorted(s)): v for s, v in costs.items()}
    a, b, d = "p0", "p1", "p2"
    grand = c[(a, b, d)]
    balanced = min(
        c[(a,)] + c[(b,)] + c[(d,)],
        c[(a, b)] + c[(d,)],
        c[(a, d)] + c[(b,)],
        c[(b, d)] + c[(a,)],
        (c[(a, b)] + c[(a, d)] + c[(b, d)]) / 2,
    )
    epsilon = pooling.least_core_epsilon_usd(costs)
    if abs(balanced - grand) < 1e-6:
        return  # on the boundary: the sign is decided by rounding
    assert (epsilon <= 0) == (grand <= balanced)


# --- validation ------------------------------------------------------------------


def test_game_rejects_missing_coalitions():
    partial = dict(METHODS_4_6)
    del partial[frozenset({"1", "3"})]
    with pytest.raises(ValueError, match="coalitions have no cost"):
        pooling.shapley_allocation(partial)


def test_game_rejects_too_many_players():
    players = [f"p{i}" for i in range(pooling.MAX_PLAYERS + 1)]
    costs = {frozenset({p}): 1.0 for p in players}
    with pytest.raises(ValueError, match="at most 12 players"):
        pooling.shapley_allocation(costs)


def test_core_check_rejects_other_players():
    with pytest.raises(ValueError, match="players do not match"):
        pooling.core_check({"1": 1.0, "2": 2.0}, METHODS_4_6)


def test_proportional_allocation_rejects_zero_usage():
    with pytest.raises(ValueError, match="usage_reference_hours"):
        pooling.proportional_allocation(METHODS_4_6, {"1": 0, "2": 0, "3": 0})


# --- the engine's consortium -------------------------------------------------------


@pytest.fixture(scope="module")
def preset():
    return load_scenario(PRESET)


@pytest.fixture(scope="module")
def game(preset):
    return pooling.consortium_game(preset, SHARED)


def _engine_npv(strategy, resolved, levels):
    """Comparable NPV by the engine itself, on full hourly demand."""
    hours = np.ones(levels.shape[-1])
    ledger, _ = tco.strategy_ledger(
        strategy, resolved, levels, hours, sizing_hourly=levels[0, 0]
    )
    return float(ledger.cost_usd(resolved.scenario.view)[0] @ resolved.discount)


def _best_engine_npv(scenario, levels, servers_max):
    """Cheapest option by the engine on full hourly demand: own k servers, k
    servers bursting on demand to each cloud offer, or renting from each cloud
    strategy (the options the game promises)."""
    resolved = resolve(scenario)
    shared = next(s for s in resolved.strategies if getattr(s, "members", ()))
    clouds = [s for s in resolved.strategies if isinstance(s, ResolvedCloudStrategy)]
    if shared.burst is not None:
        clouds.append(shared.burst)
    options = [_engine_npv(cloud, resolved, levels) for cloud in clouds]
    for k in range(servers_max + 1):
        own = dc_replace(shared, servers=float(k), burst=None, members=())
        options.append(_engine_npv(own, resolved, levels))
        for cloud in clouds:
            burst = dc_replace(cloud, purchase="on_demand", committed_accelerators=None)
            hybrid = dc_replace(own, burst=burst)
            options.append(_engine_npv(hybrid, resolved, levels))
    alone = [_engine_npv(c, resolved, levels) for c in clouds]
    return min(options), min(alone, default=float("inf"))


def test_player_demands_pool_as_the_engine_does(preset):
    demands = pooling.player_demands(preset, SHARED)
    assert list(demands) == ["This project", "Linguistics", "Astronomy"]
    resolved = resolve(preset)
    pooled, _ = tco.strategy_levels(resolved.strategy(SHARED), resolved)
    np.testing.assert_allclose(sum(demands.values()), pooled[0], rtol=1e-12)


def test_consortium_standalone_costs_equal_engine_npv(preset, game):
    demands = pooling.player_demands(preset, SHARED)
    for player, levels in demands.items():
        expected, cloud = _best_engine_npv(preset, levels[None], game.servers + 3)
        assert game.costs_usd[frozenset({player})] == pytest.approx(expected, rel=1e-9)
        # Renting alone is always an option: no coalition pays more.
        assert game.costs_usd[frozenset({player})] <= cloud * (1 + 1e-12)


def test_consortium_grand_coalition_equals_engine_npv(preset, game):
    resolved = resolve(preset)
    pooled, _ = tco.strategy_levels(resolved.strategy(SHARED), resolved)
    expected, _ = _best_engine_npv(preset, pooled, game.servers + 3)
    assert game.grand_coalition_cost_usd == pytest.approx(expected, rel=1e-9)
    # Searching the size never does worse than the preset's own 4 servers.
    configured = _engine_npv(resolved.strategy(SHARED), resolved, pooled)
    assert game.grand_coalition_cost_usd <= configured


def test_no_coalition_pays_more_than_its_cheapest_cloud_offer(game):
    plans = game.plans
    assert (plans["cost_usd"] <= plans["cloud_alone_usd"] * (1 + 1e-12)).all()
    assert set(plans["option"]) <= {"own", "hybrid"} | {
        option for option in plans["option"] if option.startswith("cloud:")
    }


def test_consortium_pooling_saves_on_the_preset(game):
    standalone = sum(game.costs_usd[frozenset({p})] for p in game.players)
    assert game.grand_coalition_cost_usd <= standalone
    assert game.capacity_cost_usd + game.variable_cost_usd == pytest.approx(
        game.grand_coalition_cost_usd
    )


def test_growth_shortcut_matches_sorting_every_year(preset):
    from planner.pooling import game as games
    from planner.pooling.rules import _membership

    demands = np.stack(list(pooling.player_demands(preset, SHARED).values()))
    masks = _membership(3)[1:]
    caps = np.outer(np.arange(5), np.full(demands.shape[1], 24.6))
    hours = np.ones(demands.shape[-1])
    fast = games.served_within(demands, hours, masks, caps)
    slow = games._served_rows(demands, hours, masks, caps)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11)
    # And against the direct sum of min(L, cap).
    pooled = np.tensordot(masks, demands, axes=(1, 0))
    direct = np.minimum(pooled[:, None], caps[None, :, :, None]).sum(axis=-1)
    np.testing.assert_allclose(fast[0], direct, rtol=1e-11)


def test_allocation_table_rules_sum_to_pooled_cost(preset, game):
    table = pooling.allocation_table(preset, SHARED)
    assert set(table["rule"]) == set(pooling.RULES)
    assert list(table.columns[:8]) == [
        "member",
        "rule",
        "allocation_usd",
        "standalone_usd",
        "savings_usd",
        "savings_share",
        "in_core",
        "uniform_rate_usd_per_reference_hour",
    ]
    sums = table.groupby("rule")["allocation_usd"].sum()
    np.testing.assert_allclose(sums, game.grand_coalition_cost_usd, rtol=1e-9)
    rate = table["uniform_rate_usd_per_reference_hour"].iloc[0]
    usage = table[table["rule"] == "usage"].set_index("member")["allocation_usd"]
    discounted = pd.Series(game.discounted_usage_reference_hours)
    np.testing.assert_allclose(usage / discounted.loc[usage.index], rate)
    core = table.groupby("rule")["in_core"].first()
    assert core["shapley"] or table["least_core_epsilon_usd"].iloc[0] > 0
    assert core["nucleolus"] == (table["least_core_epsilon_usd"].iloc[0] <= 0)
    text = pooling.allocation_summary(table)
    assert "2 CFR 200.468" in text
    assert f"${rate:,.2f}" in text


def test_consortium_without_burst_prices_unserved_work(preset):
    # Without a burst offer, a small cluster's overflow is priced by the
    # scenario's service rule (unserved at the cost of renting it instead).
    strategy = replace(preset.strategies[2], burst=None)
    scenario = replace(preset, strategies=[strategy])
    game = pooling.consortium_game(scenario, SHARED)
    assert (game.plans["option"] == "own").all()
    resolved = resolve(scenario)
    pooled, _ = tco.strategy_levels(resolved.strategies[0], resolved)
    expected, _ = _best_engine_npv(scenario, pooled, game.servers + 3)
    assert game.grand_coalition_cost_usd == pytest.approx(expected, rel=1e-9)


def test_consortium_committed_cloud_is_sized_per_coalition(preset):
    cloud = preset.strategies[0].model_dump() | {
        "name": "GCP 1-year commitment",
        "purchase": "committed_1y",
    }
    scenario = replace(preset, strategies=[cloud, *preset.strategies[1:]])
    game = pooling.consortium_game(scenario, SHARED)
    own = pooling.player_demands(scenario, SHARED)["This project"][None]
    expected, _ = _best_engine_npv(scenario, own, game.servers + 3)
    assert game.costs_usd[frozenset({"This project"})] == pytest.approx(
        expected, rel=1e-9
    )


def test_consortium_game_rejects_bad_requests(preset):
    with pytest.raises(ValueError, match="no strategy named"):
        pooling.consortium_game(preset, "nope")
    with pytest.raises(ValueError, match="not a shared one"):
        pooling.consortium_game(preset, "Own 8xH100 servers (sized to the demand)")
    with pytest.raises(ValueError, match="unique"):
        pooling.consortium_game(preset, SHARED, own_name="Astronomy")
    strategy = preset.strategies[2]
    members = [
        {"name": f"m{i}", "reference_hours_per_year": 1000.0}
        for i in range(pooling.MAX_PLAYERS)
    ]
    with pytest.raises(ValueError, match="at most 11"):
        replace(preset, strategies=[replace(strategy, members=members)])
