"""Year-by-year cash flows and emissions of every strategy of a scenario.

Split by concept (DESIGN): :mod:`planner.tco.ledger` holds the flows of a plan
(per-unit flows from :mod:`planner.costing` times quantities),
:mod:`planner.tco.strategies` how each kind of strategy serves demand, and
:mod:`planner.tco.evaluation` the scenario-level evaluation in both views.
"""

from planner.resolve import DemandProfile, ResolutionError, member_profiles
from planner.resolve import scenario_demand as scenario_demand
from planner.tco.evaluation import (
    COST_COLUMNS,
    Evaluation,
    StrategyResult,
    cumulative_costs,
    depreciation_table,
    evaluate,
    npv_usd,
    present_values,
    strategy_results,
    summary_row,
    tco_table,
    view_table,
    yearly_table,
)
from planner.tco.ledger import Dispatch, Ledger, LedgerLine
from planner.tco.strategies import (
    served_reference_hours,
    strategy_ledger,
    strategy_levels,
)

__all__ = [
    "COST_COLUMNS",
    "DemandProfile",
    "Dispatch",
    "Evaluation",
    "Ledger",
    "LedgerLine",
    "ResolutionError",
    "StrategyResult",
    "cumulative_costs",
    "depreciation_table",
    "evaluate",
    "member_profiles",
    "npv_usd",
    "present_values",
    "scenario_demand",
    "served_reference_hours",
    "strategy_ledger",
    "strategy_levels",
    "strategy_results",
    "summary_row",
    "tco_table",
    "view_table",
    "yearly_table",
]
