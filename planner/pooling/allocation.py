"""How the allocation rules share a consortium game's cost, and in words."""

from __future__ import annotations

import pandas as pd

from planner.pooling.game import (
    DEFAULT_OWN_NAME,
    ConsortiumGame,
    consortium_game,
    uniform_rate_usd_per_reference_hour,
)
from planner.pooling.rules import (
    CORE_TOLERANCE,
    RULE_LABELS,
    core_check,
    least_core_allocation,
    least_core_epsilon_usd,
    nucleolus_allocation,
    peak_load_allocation,
    proportional_allocation,
    scrb_allocation,
    shapley_allocation,
)
from planner.scenario import Scenario
from pricing.catalog import Catalog


def allocations(game: ConsortiumGame) -> pd.DataFrame:
    """Every rule's allocation of a consortium game, with savings and core checks.

    Parameters
    ----------
    game : ConsortiumGame
        The consortium's game (:func:`consortium_game`).

    Returns
    -------
    pandas.DataFrame
        One row per rule (:data:`RULES`) and member: ``member``, ``rule``,
        ``allocation_usd``, ``standalone_usd`` (the member's own best plan),
        ``savings_usd`` (stand-alone minus allocation), ``savings_share``
        [0-1 of stand-alone], ``in_core`` (of that rule's allocation),
        ``uniform_rate_usd_per_reference_hour`` [USD/reference accelerator-h]
        and ``least_core_epsilon_usd`` (both the same on every row). [USD]
    """
    costs = game.costs_usd
    usage = game.discounted_usage_reference_hours
    frames = [
        proportional_allocation(costs, usage),
        shapley_allocation(costs),
        nucleolus_allocation(costs),
        least_core_allocation(costs),
        scrb_allocation(costs),
        peak_load_allocation(
            game.capacity_cost_usd,
            game.variable_cost_usd,
            game.binding_demand_reference_hours,
            usage,
        ),
    ]
    in_core = {
        frame["rule"].iloc[0]: bool(core_check(frame, costs)["in_core"].iloc[0])
        for frame in frames
    }
    table = pd.concat(frames, ignore_index=True)
    standalone = {p: float(costs[frozenset({p})]) for p in game.players}
    table["standalone_usd"] = table["member"].map(standalone)
    table["savings_usd"] = table["standalone_usd"] - table["allocation_usd"]
    table["savings_share"] = table["savings_usd"] / table["standalone_usd"].where(
        table["standalone_usd"] != 0
    )
    table["in_core"] = table["rule"].map(in_core)
    table["uniform_rate_usd_per_reference_hour"] = uniform_rate_usd_per_reference_hour(
        game
    )
    table["least_core_epsilon_usd"] = least_core_epsilon_usd(costs)
    return table


def allocation_table(
    scenario: Scenario,
    strategy_name: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """How each allocation rule shares a consortium's pooled cost.

    Builds the game (:func:`consortium_game`) and applies every rule
    (:func:`allocations`).

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
    pandas.DataFrame
        ``member``, ``rule``, ``allocation_usd``, ``standalone_usd``,
        ``savings_usd``, ``savings_share`` [0-1], ``in_core``,
        ``uniform_rate_usd_per_reference_hour`` and ``least_core_epsilon_usd``
        (:func:`allocations`). [USD]

    Raises
    ------
    ValueError
        As :func:`consortium_game`.
    """
    game = consortium_game(scenario, strategy_name, own_name=own_name, catalog=catalog)
    return allocations(game)


def allocation_summary(table: pd.DataFrame) -> str:
    """A few plain sentences on what pooling saves and which rules are stable.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`allocation_table` (or :func:`allocations`).

    Returns
    -------
    str
        Savings of pooling, the rules in and out of the core (and who would
        leave), and the uniform recharge rate.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "member": ["a", "b"], "rule": "usage", "allocation_usd": [60.0, 30.0],
    ...     "standalone_usd": [70.0, 40.0], "savings_usd": [10.0, 10.0],
    ...     "savings_share": [1 / 7, 0.25], "in_core": True,
    ...     "uniform_rate_usd_per_reference_hour": 1.5})
    >>> print(allocation_summary(table))  # doctest: +NORMALIZE_WHITESPACE
    Pooling costs $90 against $110 if each member went alone: it saves $20 (18%).
    In the core (no group would rather leave): Proportional to usage (uniform
    rate). A uniform rate of $1.50 per reference hour recovers the pooled
    cost; 2 CFR 200.468 requires such a rate for usage charged to federal awards,
    while Shapley or nucleolus shares suit the members' buy-in contributions.
    """
    first = table[table["rule"] == table["rule"].iloc[0]]
    pooled = float(first["allocation_usd"].sum())
    alone = float(first["standalone_usd"].sum())
    saved = alone - pooled
    share = saved / alone if alone else 0.0
    if abs(saved) < 0.5:
        effect = "it saves nothing (each coalition's cheapest option is the same)"
    elif saved > 0:
        effect = f"it saves ${saved:,.0f} ({share:.0%})"
    else:
        effect = f"it costs an extra ${-saved:,.0f} ({-share:.0%})"
    lines = [
        f"Pooling costs ${pooled:,.0f} against ${alone:,.0f} if each member went "
        f"alone: {effect}."
    ]
    rules = list(dict.fromkeys(table["rule"]))
    stable = [
        r for r in rules if bool(table.loc[table["rule"] == r, "in_core"].iloc[0])
    ]
    unstable = [r for r in rules if r not in stable]
    if stable:
        names = "; ".join(RULE_LABELS.get(r, r) for r in stable)
        lines.append(f"In the core (no group would rather leave): {names}.")
    for rule in unstable:
        rows = table[table["rule"] == rule]
        over = rows.loc[rows["allocation_usd"] > rows["standalone_usd"], "member"]
        who = (
            f"{', '.join(over)} would pay more than alone"
            if len(over)
            else "a group of members would pay more than on its own"
        )
        lines.append(f"Not in the core: {RULE_LABELS.get(rule, rule)} ({who}).")
    if "least_core_epsilon_usd" in table:
        epsilon = float(table["least_core_epsilon_usd"].iloc[0])
        if epsilon > CORE_TOLERANCE * max(alone, 1.0):
            lines.append(
                "No allocation keeps every group in (the core is empty): each "
                f"group would need up to ${epsilon:,.0f} of subsidy (least core)."
            )
    rate = float(table["uniform_rate_usd_per_reference_hour"].iloc[0])
    lines.append(
        f"A uniform rate of ${rate:,.2f} per reference hour recovers the pooled "
        "cost; 2 CFR 200.468 requires such a rate for usage charged to federal "
        "awards, while Shapley or nucleolus shares suit the members' buy-in "
        "contributions."
    )
    return " ".join(lines)
