"""Quick compare with the hybrid: own servers and burst to the cloud offer.

:func:`planner.quick.quick_scenario` compares the cloud offer under each
purchase model against buying servers. The question a department head asks next
is "both": own a base cluster and rent the overflow. :func:`quick_scenario_with_hybrid`
adds that strategy: the same servers as the owned one (``auto``: sized again, at
equal service, for the hybrid's own cheapest count), their overflow burst to the
offer on demand, so every answer comes from the same engine.
"""

from __future__ import annotations

from planner.quick import QuickCompare, quick_scenario
from planner.safe_io import clip
from planner.scenario import Scenario, scenario_from_dict
from pricing.catalog import Catalog

MAX_NAME_CHARACTERS = 80
"""Longest strategy name a scenario accepts. [characters]"""

HYBRID_PREFIX = "Hybrid: "
"""Start of the hybrid strategy's name (the rest names the servers and offer)."""


def hybrid_name(scenario: Scenario) -> str | None:
    """Name of the quick scenario's hybrid strategy, or None if it has none.

    Examples
    --------
    >>> hybrid_name(quick_scenario_with_hybrid(QuickCompare()))
    'Hybrid: buy 8xH100-SXM (sized), burst on-demand'
    """
    for strategy in scenario.strategies:
        if strategy.kind == "hybrid":
            return strategy.name
    return None


def quick_scenario_with_hybrid(
    inputs: QuickCompare, *, catalog: Catalog | None = None
) -> Scenario:
    """The quick scenario (:func:`planner.quick.quick_scenario`) plus a hybrid.

    Parameters
    ----------
    inputs : QuickCompare
        The quick inputs.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (see
        :func:`planner.quick.quick_scenario`).

    Returns
    -------
    Scenario
        The quick scenario's strategies (the cloud offer under each purchase
        model, then the servers) and, last, the hybrid: the owned strategy's
        server, count (``auto`` sized for the hybrid), lifetime and staff, with
        overflow burst to the offer on demand.

    Raises
    ------
    planner.scenario.ScenarioError
        If the expanded scenario is invalid.
    LookupError
        If the server or the offer is not in the catalogs.

    Examples
    --------
    >>> scenario = quick_scenario_with_hybrid(QuickCompare())
    >>> [s.kind for s in scenario.strategies][-2:]
    ['onprem', 'hybrid']
    """
    base = quick_scenario(inputs, catalog=catalog)
    data = base.model_dump(mode="json")
    owned = next(s for s in data["strategies"] if s["kind"] == "onprem")
    on_demand = next(
        s
        for s in data["strategies"]
        if s["kind"] == "cloud" and s["purchase"] == "on_demand"
    )
    servers = owned["servers"]
    bought = (
        f"buy {inputs.server} (sized)"
        if servers == "auto"
        else f"buy {servers:g}x {inputs.server}"
    )
    hybrid = owned | {
        "kind": "hybrid",
        "name": clip(f"{HYBRID_PREFIX}{bought}, burst on-demand", MAX_NAME_CHARACTERS),
        "burst": on_demand
        | {"name": clip(f"{on_demand['name']} (burst)", MAX_NAME_CHARACTERS)},
        "overflow": "burst",
    }
    data["strategies"].append(hybrid)
    return scenario_from_dict(data)
