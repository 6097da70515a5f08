"""A consortium's contributions year by year: a buy-in and a usage fee.

The allocation rules (:mod:`planner.pooling`) share the pooled cluster's present
value among the members; a board needs what each member pays and when. The
schedule here splits each member's allocation in two parts:

* a **usage fee**, one uniform rate per reference accelerator-hour on every
  member's use, paid at the end of each year, set so that the fees recover the
  grand coalition's variable cost (its cost above the capacity cost,
  :attr:`planner.pooling.ConsortiumGame.variable_cost_usd`) in present value, as
  a recharge centre's rate must be uniform (2 CFR 200.468);
* a **buy-in** at the start (year 0): the rest of the member's allocation under
  the chosen rule, so that buy-in plus the present value of the fees is the
  allocation exactly. A negative buy-in is a credit (the rule gives the member
  less than its fees).

Money is real USD of the scenario's currency year, undiscounted in the
schedule (what is paid that year), with the discount factors of the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.pooling import DEFAULT_OWN_NAME, ConsortiumGame, player_demands
from planner.resolve import ResolvedScenario, resolve
from planner.scenario import Scenario


def usage_fee_usd_per_reference_hour(
    game: ConsortiumGame,
) -> float:
    """Uniform usage rate that recovers the grand coalition's variable cost.

    Parameters
    ----------
    game : ConsortiumGame
        The consortium's game.

    Returns
    -------
    float
        ``variable_cost_usd`` over every player's discounted use (0 without
        use). [USD/reference accelerator-h]
    """
    used = sum(game.discounted_usage_reference_hours.values())
    return float(game.variable_cost_usd / used) if used > 0 else 0.0


def contribution_schedule(
    scenario: Scenario,
    game: ConsortiumGame,
    allocations: pd.DataFrame,
    rule: str,
    *,
    own_name: str = DEFAULT_OWN_NAME,
    resolved: ResolvedScenario | None = None,
) -> pd.DataFrame:
    """Each member's payments by year under one allocation rule.

    Parameters
    ----------
    scenario : Scenario
        The consortium's scenario (the game's).
    game : ConsortiumGame
        Its game (:func:`planner.pooling.consortium_game`).
    allocations : pandas.DataFrame
        :func:`planner.pooling.allocations` of the game.
    rule : str
        One of :data:`planner.pooling.RULES`.
    own_name : str, default "This project"
        The game's name for the scenario's own demand.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario.

    Returns
    -------
    pandas.DataFrame
        One row per member and year 0..N: ``member``, ``year``,
        ``calendar_year``, ``reference_hours`` [reference accelerator-h],
        ``buy_in_usd`` (year 0 only), ``usage_fee_usd`` (years 1..N) and
        ``total_usd`` [USD, undiscounted, of the currency year]. For each
        member, the discounted total equals its allocation under ``rule``.

    Raises
    ------
    ValueError
        If the rule is not in the allocation table, or the members differ
        from the game's players.

    Examples
    --------
    >>> from planner.pooling import allocations, consortium_game
    >>> from planner.scenario import load_preset
    >>> scenario = load_preset("consortium")
    >>> name = "Shared 4x 8xH100 (three departments)"
    >>> game = consortium_game(scenario, name)
    >>> table = allocations(game)
    >>> schedule = contribution_schedule(scenario, game, table, "shapley")
    >>> sorted(set(schedule["member"])) == sorted(game.players)
    True
    """
    chosen = allocations[allocations["rule"] == rule]
    if chosen.empty:
        msg = f"rule: {rule!r} is not in the allocation table"
        raise ValueError(msg)
    share = chosen.set_index("member")["allocation_usd"]
    if set(share.index) != set(game.players):
        msg = (
            f"the allocation table's members {sorted(share.index)} are not the "
            f"game's players {sorted(game.players)}"
        )
        raise ValueError(msg)
    resolved = resolved if resolved is not None else resolve(scenario)
    demands = player_demands(
        scenario, game.strategy_name, own_name=own_name, resolved=resolved
    )
    weights = np.asarray(resolved.demand.hours, dtype=float)
    discount = np.asarray(resolved.discount, dtype=float)
    rate = usage_fee_usd_per_reference_hour(game)
    rows = []
    for member in game.players:
        used = np.concatenate([[0.0], np.asarray(demands[member]) @ weights])
        fees = rate * used
        buy_in = float(share[member]) - float(fees @ discount)
        for year, (hours, fee) in enumerate(zip(used, fees, strict=True)):
            paid_in = buy_in if year == 0 else 0.0
            rows.append(
                {
                    "member": member,
                    "year": year,
                    "calendar_year": scenario.start_year + year,
                    "reference_hours": float(hours),
                    "buy_in_usd": paid_in,
                    "usage_fee_usd": float(fee),
                    "total_usd": paid_in + float(fee),
                }
            )
    return pd.DataFrame(rows)
