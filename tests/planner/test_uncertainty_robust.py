"""The robust plan: a two-stage stochastic MILP over sampled futures."""

import json
from pathlib import Path

import numpy as np
import pytest

from planner import cli, optimise
from planner.optimise.build import build_from_inputs
from planner.optimise.inputs import optimise_inputs
from planner.resolve import resolve
from planner.scenario import load_scenario
from planner.uncertainty import robust

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def grant():
    return load_scenario(EXAMPLES / "grant.yaml")


@pytest.fixture(scope="module", params=["expected", "cvar"])
def plan(request, grant):
    return robust.robust_plan(grant, futures=5, objective=request.param, workers=1)


def test_one_future_is_the_deterministic_optimiser(grant):
    problem = build_from_inputs(optimise_inputs(resolve(grant)))
    _, cost, _, _ = robust.solve_joint([problem], mip_rel_gap=0.0)
    assert cost == pytest.approx(optimise.optimise(grant).objective_usd, rel=1e-6)


def test_the_robust_plan_is_no_worse_than_the_deterministic_in_its_futures(plan):
    slack = 1.0 + plan.mip_gap + 1e-6
    if plan.objective == "expected":
        assert plan.robust.expected_usd <= plan.deterministic.expected_usd * slack
    else:
        assert plan.robust.cvar_usd <= plan.deterministic.cvar_usd * slack
    assert plan.value_of_stochastic_solution_usd >= -plan.mip_gap * abs(
        plan.deterministic.expected_usd
    )


def test_foresight_never_costs_more(plan):
    tolerance = robust.WAIT_AND_SEE_GAP * plan.robust.cost_usd + 1.0
    assert np.all(plan.wait_and_see_usd <= plan.robust.cost_usd + tolerance)
    assert plan.expected_value_of_perfect_information_usd >= -tolerance.mean()


def test_cvar_is_the_mean_of_the_worst_tail():
    costs = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    assert robust.cvar(costs, 0.6) == pytest.approx(4.5)
    assert robust.cvar(costs, 0.0) == pytest.approx(costs.mean())


def test_robust_plan_json_names_vss_and_evpi(plan):
    payload = plan.as_json()
    assert {
        "robust",
        "deterministic",
        "value_of_stochastic_solution_usd",
        "expected_value_of_perfect_information_usd",
        "wait_and_see_usd",
    } <= set(payload)
    json.dumps(payload)


def test_cli_optimise_robust(capsys):
    status = cli.main(
        [
            "optimise",
            str(EXAMPLES / "grant.yaml"),
            "--robust",
            "--futures",
            "3",
            "--workers",
            "1",
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    payload = json.loads(out)
    assert payload["futures"] == 3
    assert payload["objective"] == "expected"


def test_too_few_futures_is_a_user_error(capsys):
    status = cli.main(
        ["optimise", str(EXAMPLES / "grant.yaml"), "--robust", "--futures", "1"]
    )
    assert status == 2
    assert "futures must be at least 2" in capsys.readouterr().err
