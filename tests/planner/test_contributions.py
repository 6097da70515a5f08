"""Contribution schedule: buy-in plus discounted fees is the rule's allocation."""

import numpy as np
import pytest

from planner import pooling
from planner.contributions import (
    contribution_schedule,
    usage_fee_usd_per_reference_hour,
)
from planner.resolve import resolve
from planner.scenario import load_preset

NAME = "Shared 4x 8xH100 (three departments)"


@pytest.fixture(scope="module")
def consortium():
    scenario = load_preset("consortium")
    game = pooling.consortium_game(scenario, NAME)
    return scenario, game, pooling.allocations(game)


@pytest.mark.parametrize("rule", pooling.RULES)
def test_each_member_pays_its_allocation_in_present_value(consortium, rule):
    scenario, game, table = consortium
    schedule = contribution_schedule(scenario, game, table, rule)
    discount = resolve(scenario).discount
    expected = table[table["rule"] == rule].set_index("member")["allocation_usd"]
    for member, rows in schedule.groupby("member"):
        assert rows["total_usd"].to_numpy() @ discount == pytest.approx(
            expected[member], abs=0.01
        )
        assert rows["buy_in_usd"].iloc[1:].eq(0).all()
        assert rows["usage_fee_usd"].iloc[0] == 0


def test_the_usage_fee_is_one_rate_that_recovers_the_variable_cost(consortium):
    scenario, game, table = consortium
    schedule = contribution_schedule(scenario, game, table, "shapley")
    rate = usage_fee_usd_per_reference_hour(game)
    used = schedule["reference_hours"].to_numpy()
    assert np.allclose(schedule["usage_fee_usd"], rate * used)
    discount = resolve(scenario).discount
    fees = schedule.pivot(index="year", columns="member", values="usage_fee_usd")
    assert fees.sum(axis=1).to_numpy() @ discount == pytest.approx(
        game.variable_cost_usd, abs=0.01
    )
    # The use is the members' demand (120,000 reference hours in year 1 for
    # this project, growing 10 % a year: the consortium preset).
    own = schedule[schedule["member"] == "This project"]
    assert own["reference_hours"].iloc[1] == pytest.approx(120_000)
    assert own["reference_hours"].iloc[2] == pytest.approx(132_000)


def test_an_unknown_rule_is_refused(consortium):
    scenario, game, table = consortium
    with pytest.raises(ValueError, match="'fair'"):
        contribution_schedule(scenario, game, table, "fair")
