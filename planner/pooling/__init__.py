"""Consortium pooling: the cost game of pooled demand and how to share its cost.

Split by concept (DESIGN): :mod:`planner.pooling.rules` holds the allocation
rules as pure functions of ``{coalition: cost}`` (usage, Shapley, nucleolus,
least core, SCRB, peak-load, core check); :mod:`planner.pooling.game` prices every
coalition through the engine with the scenario's options (own, hybrid, each
cloud offer), so renting alone is always a coalition's outside option;
:mod:`planner.pooling.allocation` applies every rule and says it in words. A
recharge centre charging federal awards must bill a uniform usage rate (2 CFR
200.468); the game-theoretic rules are for founding members' buy-in
contributions (docs/methods.md, "Consortium").

Conventions: costs are comparable present values (the scenario's view, equal
service) of real USD of the scenario's currency year. The excess of a coalition
under an allocation ``x`` is ``x(S) - c(S)``: positive means ``S`` pays more than
it would alone and would leave.
"""

from planner.pooling.allocation import (
    allocation_summary,
    allocation_table,
    allocations,
)
from planner.pooling.game import (
    DEFAULT_OWN_NAME,
    ConsortiumGame,
    coalition_costs,
    consortium_game,
    player_demands,
    served_within,
    uniform_rate_usd_per_reference_hour,
)
from planner.pooling.rules import (
    CORE_TOLERANCE,
    MAX_PLAYERS,
    RULE_LABELS,
    RULES,
    Costs,
    core_check,
    least_core_allocation,
    least_core_epsilon_usd,
    nucleolus_allocation,
    peak_load_allocation,
    proportional_allocation,
    scrb_allocation,
    shapley_allocation,
)

__all__ = [
    "CORE_TOLERANCE",
    "DEFAULT_OWN_NAME",
    "MAX_PLAYERS",
    "RULES",
    "RULE_LABELS",
    "ConsortiumGame",
    "Costs",
    "allocation_summary",
    "allocation_table",
    "allocations",
    "coalition_costs",
    "consortium_game",
    "core_check",
    "least_core_allocation",
    "least_core_epsilon_usd",
    "nucleolus_allocation",
    "peak_load_allocation",
    "player_demands",
    "proportional_allocation",
    "scrb_allocation",
    "served_within",
    "shapley_allocation",
    "uniform_rate_usd_per_reference_hour",
]
