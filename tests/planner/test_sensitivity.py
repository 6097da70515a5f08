"""The tornado beside every verdict: centred on the scenario, priced by the engine."""

import json

import pytest

from planner import cli, tco, verdict
from planner.report import justification
from planner.resolve import resolve
from planner.scenario import PRESETS, load_preset, scenario_from_dict
from planner.uncertainty import default_uncertainty, sampling
from planner.uncertainty.sensitivity import sensitivities


@pytest.mark.parametrize("preset", PRESETS)
def test_the_tornado_is_centred_on_the_verdict(preset):
    # The base point is the scenario as given, so the leader, the runner-up and
    # the lead are the recommendation's own (one answer beside the other).
    scenario = load_preset(preset)
    evaluation = tco.evaluate(scenario)
    found = sensitivities(scenario)
    for view, rec in verdict.recommendations(evaluation).items():
        item = found[view]
        assert item.leader == rec.strategy
        assert item.runner_up == rec.runner_up
        assert item.advantage_usd == pytest.approx(rec.margin_usd, rel=1e-9)
        swings = [bar.swing_usd for bar in item.bars]
        assert swings == sorted(swings, reverse=True)


def test_a_bar_is_the_engine_at_that_input_alone():
    # Independent path: the grant's owned server bought at the P90 of the
    # server price range (default spec), written into the scenario by hand.
    scenario = load_preset("grant")
    spec = default_uncertainty(scenario)
    j = [item.path for item in spec.inputs].index("server_price_multiplier")
    high = float(sampling.quantiles(spec, 0.9)[j])
    resolved = resolve(scenario)
    data = scenario.model_dump(mode="json")
    for item, strategy in zip(data["strategies"], resolved.strategies, strict=True):
        if strategy.kind != "cloud":
            item["server_price_usd"] = high * strategy.server.server_price_usd
    moved = tco.evaluate(scenario_from_dict(data)).summary.set_index("strategy")
    base = tco.evaluate(scenario).summary.set_index("strategy")
    for view in ("institution", "award"):
        item = sensitivities(scenario)[view]
        column = f"{view}_npv_usd"

        def lead(summary, item=item, column=column):
            others = summary.drop(index=item.leader)[column].min()
            return others - summary.loc[item.leader, column]

        bar = next(b for b in item.bars if b.input == "server_price_multiplier")
        assert bar.high == pytest.approx(high)
        assert bar.high_npv_delta_usd == pytest.approx(
            lead(moved) - lead(base), rel=1e-9, abs=1e-6
        )
        assert bar.high_npv_delta_usd < 0  # a dearer server shrinks owning's lead


def test_cli_evaluate_prints_and_emits_the_tornado(capsys):
    assert cli.main(["evaluate", "examples/grant.yaml"]) == 0
    table = capsys.readouterr().out
    assert table.count("What moves the lead of") == 2  # one per view
    assert cli.main(["evaluate", "examples/grant.yaml", "--no-sensitivity"]) == 0
    assert "What moves the lead" not in capsys.readouterr().out
    assert cli.main(["evaluate", "examples/grant.yaml", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    for view in ("institution", "award"):
        entry = payload["sensitivity"][view]
        assert entry["leader"] == payload["recommendation"][view]["strategy"]
        assert {
            "input",
            "low",
            "high",
            "low_npv_delta_usd",
            "high_npv_delta_usd",
        } <= set(entry["tornado"][0])


def test_the_justification_states_what_decides_it():
    scenario = load_preset("grant")
    doc = justification.justification(tco.evaluate(scenario), view="award")
    text = justification.justification_markdown(doc)
    assert "### What decides it" in text
    assert doc.sensitivity is not None
    assert doc.sensitivity.sentence() in text.replace("\\", "")
    for bar in doc.sensitivity.bars:
        assert bar.label  # the input in words, not its path
        assert f"| {bar.label} |" in text.replace("\\_", "_")
