"""Scenario models: validation messages, YAML round trips, presets."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.scenario import (
    PRESETS,
    ScenarioError,
    load_preset,
    replace,
    scenario_from_dict,
    scenario_from_yaml,
    scenario_to_yaml,
)

preset = load_preset


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_validates_and_round_trips(name):
    scenario = preset(name)
    again = scenario_from_yaml(scenario_to_yaml(scenario))
    assert again == scenario


@settings(max_examples=30, deadline=None)
@given(
    hours=st.floats(0, 1e7),
    growth=st.floats(-0.5, 1.0),
    rate=st.floats(0, 0.3),
    horizon=st.integers(3, 20),
)
def test_save_then_load_gives_an_identical_scenario(hours, growth, rate, horizon):
    base = preset("grant")
    data = base.model_dump(mode="json")
    data["demand"]["reference_hours_per_year"] = hours
    data["demand"]["growth_per_year"] = growth
    data["real_discount_rate"] = rate
    data["horizon_years"] = horizon
    scenario = scenario_from_dict(data)
    assert scenario_from_yaml(scenario_to_yaml(scenario)) == scenario
    assert type(scenario).model_validate_json(scenario.model_dump_json()) == scenario


def test_unknown_key_is_refused_with_its_path():
    data = preset("grant").model_dump(mode="json")
    data["site"]["pue_typo"] = 1.4
    with pytest.raises(ScenarioError, match=r"site\.pue_typo: Extra inputs"):
        scenario_from_dict(data)


def test_each_bad_field_gets_its_own_line():
    data = preset("grant").model_dump(mode="json")
    data["site"]["pue"] = 0.8
    data["strategies"][3]["servers"] = -2
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(data)
    problems = error.value.problems
    assert any(p.startswith("site.pue:") and "0.8" in p for p in problems)
    assert any("strategies.3.onprem.servers" in p and "-2" in p for p in problems)
    assert len(problems) == 2


def test_three_year_commitment_on_two_year_horizon_is_contradictory():
    data = preset("grant").model_dump(mode="json")
    data["horizon_years"] = 2
    data["strategies"][1]["purchase"] = "committed_3y"
    with pytest.raises(ScenarioError, match="3-year commitment does not fit a 2-year"):
        scenario_from_dict(data)


def test_malformed_yaml_names_the_line():
    with pytest.raises(ScenarioError, match="malformed YAML: line 2"):
        scenario_from_yaml("name: x\n  - : [\n")


def test_newer_schema_version_is_refused():
    data = preset("grant").model_dump(mode="json")
    data["schema_version"] = 99
    with pytest.raises(ScenarioError, match="schema_version"):
        scenario_from_dict(data)


def test_replace_revalidates():
    scenario = preset("grant")
    with pytest.raises(ValueError, match="real_discount_rate"):
        replace(scenario, real_discount_rate=-1)


def test_yaml_is_safe_loaded():
    with pytest.raises(ScenarioError):
        scenario_from_yaml("!!python/object/apply:os.system ['true']")


def test_cli_preset_choices_are_the_shipped_presets():
    from planner.cli import PRESET_CHOICES

    assert PRESET_CHOICES == PRESETS
