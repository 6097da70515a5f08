"""Quick compare's hybrid: the owned strategy plus burst to the same offer."""

import pytest

from planner import tco
from planner.quick import QuickCompare, quick_scenario
from planner.quick_hybrid import hybrid_name, quick_scenario_with_hybrid
from planner.resolve import ResolutionError


def test_the_hybrid_owns_the_same_servers_and_bursts_to_the_offer():
    inputs = QuickCompare(servers=2)
    base = quick_scenario(inputs)
    scenario = quick_scenario_with_hybrid(inputs)
    assert scenario.strategies[:-1] == base.strategies
    hybrid = scenario.strategies[-1]
    owned = base.strategies[-1]
    assert hybrid.kind == "hybrid"
    assert hybrid.name == hybrid_name(scenario)
    assert (hybrid.server, hybrid.servers) == (owned.server, owned.servers)
    assert (hybrid.burst.provider, hybrid.burst.instance_type) == (
        inputs.provider,
        inputs.instance_type,
    )
    assert hybrid.burst.purchase == "on_demand"


def test_the_hybrid_serves_all_the_work():
    scenario = quick_scenario_with_hybrid(QuickCompare(servers=1, peak_to_mean=3.0))
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    row = summary.loc[hybrid_name(scenario)]
    assert row["unserved_reference_hours"] == 0.0
    assert row["delivered_reference_hours"] == row["demand_reference_hours"]


def test_a_scenario_without_a_hybrid_has_no_hybrid_name():
    assert hybrid_name(quick_scenario(QuickCompare())) is None


def test_a_server_without_relative_throughput_is_refused_not_nan():
    # The 2019 GTX 1080 Ti row has no benchmark throughput: its demand cannot
    # be put in reference hours, and quick compare says so instead of NaN.
    with pytest.raises(ResolutionError, match="GTX-1080Ti has no relative_throughput"):
        quick_scenario(QuickCompare(server="8xGTX1080Ti-2019"))
