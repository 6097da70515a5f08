"""AppTest: the Uncertainty page and the "what decides it" tornado beside verdicts.

One answer: the page shows :func:`planner.uncertainty.monte_carlo`'s numbers for
the workbench scenario as edited, the ranges on screen, the draws and the seed;
the workbench and Quick compare show
:func:`planner.uncertainty.sensitivity.sensitivities`' sentence for their view.
"""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from planner.quick import QuickCompare
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.scenario import load_preset, replace
from planner.uncertainty import analysis
from planner.uncertainty.sampling import quantiles
from planner.uncertainty.sensitivity import sensitivities
from planner.uncertainty.spec import (
    FACTOR_LABELS,
    FACTORS,
    default_uncertainty,
    uncertainty_from_dict,
    uncertainty_to_yaml,
)
from ui.common import as_text

ROOT = Path(__file__).parents[2]
APP_PATH = str(ROOT / "app.py")
PAGE = "ui/uncertainty_page.py"
MAX_DRAWS = 20_000  # ui.uncertainty_page.MAX_DRAWS (the page module runs on import)
DRAWS, SEED = 500, 7  # a seed other than the spec's (2026): the input replaces it


def open_page(page_file: str | None = PAGE) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=120).run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def run(app: AppTest, draws: int = DRAWS, seed: int = SEED) -> AppTest:
    app.number_input(key="unc_draws").set_value(draws).run()
    app.number_input(key="unc_seed").set_value(seed).run()
    app.button(key="unc_run").click().run()
    return app


def texts(app: AppTest, kind: str) -> list[str]:
    return [as_text(element.value) for element in getattr(app, kind)]


def frame(app: AppTest, *columns: str) -> pd.DataFrame:
    for element in app.dataframe:
        if all(column in element.value.columns for column in columns):
            return element.value
    msg = f"no table with columns {columns}"
    raise AssertionError(msg)


def charts(app: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """Each Altair chart's Vega-Lite spec and its (first) data set."""
    found = []

    def walk(node):
        if getattr(node, "type", "") == "vega_lite_chart":
            proto = node.proto
            data = convert_arrow_bytes_to_pandas_df(proto.datasets[0].data.data)
            found.append((json.loads(proto.spec), data))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return found


def expected_run(scenario, spec=None, *, draws=DRAWS, seed=SEED, view=None):
    spec = spec or default_uncertainty(scenario)
    return analysis.monte_carlo(
        scenario,
        spec,
        draws=draws,
        seed=seed,
        view=view or scenario.view,
        sobol_inputs=analysis.SOBOL_INPUTS,
    )  # as `planner uncertainty` calls it (method "auto": vectorised when it can)


# The page -------------------------------------------------------------------------


def test_uncertainty_page_renders_on_the_default_session_with_its_sourced_ranges():
    app = open_page()
    assert not app.exception
    assert not app.error
    scenario = load_preset("department")
    spec = default_uncertainty(scenario)
    assert app.text_area(key="unc_yaml").value == uncertainty_to_yaml(spec)
    shown = frame(app, "distribution", "source")
    assert list(shown["input"]) == list(spec.paths)
    assert list(shown["source"]) == [item.source for item in spec.inputs]
    for column, q in (("p10", 0.1), ("median", 0.5), ("p90", 0.9)):
        assert shown[column].tolist() == pytest.approx(quantiles(spec, q).tolist())
    assert all("_" not in label.split("[")[0] for label in shown["what"])
    assert any("Press Run" in text for text in texts(app, "info"))


def test_run_shows_the_librarys_headline_table_fan_and_tornado():
    app = run(open_page())
    assert not app.exception
    assert not app.error
    scenario = load_preset("department")
    result = expected_run(scenario)
    assert texts(app, "success") == [analysis.headline(result)]
    shown = frame(app, "strategy", "p_cheapest")
    expected = analysis.strategy_table(result)
    pd.testing.assert_frame_equal(shown[expected.columns], expected)
    assert shown["p_cheapest"].sum() == pytest.approx(1.0, abs=1e-9)
    rows = result.strategies["institution"]
    assert shown["co2e_p90_t"].tolist() == [s.co2e_p90_kg / 1e3 for s in rows]
    # The switch's conditional shares, the tornado and the Sobol' indices.
    conditional = frame(app, "share_of_draws")
    assert conditional["share_of_draws"].tolist() == [
        c.share_of_draws for c in result.conditional
    ]
    for name in result.outcomes.strategies:
        assert conditional[name].tolist() == [
            c.p_cheapest[name] for c in result.conditional
        ]
    tornado = frame(app, "low_npv_delta_usd", "input")
    expected_bars = analysis.tornado_table(result)
    # each input in the library's words (as in the headline), then the numbers
    assert tornado["what"].tolist() == expected_bars["label"].tolist()
    expected_bars = expected_bars.drop(columns="label")
    pd.testing.assert_frame_equal(tornado[expected_bars.columns], expected_bars)
    # A bar past the dashed line (-advantage) is where another strategy is cheapest.
    for side in ("low", "high"):
        past = tornado[f"{side}_npv_delta_usd"] < -result.advantage_usd
        flipped = tornado[f"{side}_cheapest"] != result.leader
        assert past.tolist() == flipped.tolist()
    sobol = frame(app, "first_order", "total")
    assert sobol["total"].tolist() == [index.total for index in result.sobol]
    # The fan chart draws fan_table, year 0 (the first purchases) at the start year.
    fan = next(data for spec, data in charts(app) if "p10_usd" in data.columns)
    fan_expected = analysis.fan_table(result)
    assert fan["p50_usd"].tolist() == fan_expected["p50_usd"].tolist()
    assert fan["p90_usd"].tolist() == fan_expected["p90_usd"].tolist()
    assert (
        fan["calendar_year"].tolist()
        == (fan_expected["year"] + scenario.start_year).tolist()
    )
    first = fan[fan["calendar_year"] == scenario.start_year]
    assert (first["p50_usd"] >= 0).all()
    # Every figure names its view and its money basis.
    captions = " ".join(texts(app, "caption"))
    assert "present value in real USD of 2026" in captions
    assert "institution view" in captions


def test_the_view_and_a_change_after_run_run_again():
    app = run(open_page())
    app.radio(key="unc_view").set_value("award").run()
    app.number_input(key="unc_draws").set_value(600).run()
    assert not app.exception
    result = expected_run(load_preset("department"), draws=600, view="award")
    assert texts(app, "success") == [analysis.headline(result)]
    shown = frame(app, "strategy", "p_cheapest")
    assert shown["npv_p50_usd"].tolist() == [
        s.npv_p50_usd for s in result.strategies["award"]
    ]


def test_the_page_analyses_the_workbench_scenario_as_edited():
    app = open_page("ui/workbench_page.py")
    app.number_input(key="wb1|real_discount_rate").set_value(0.06).run()
    app.switch_page(PAGE).run()
    run(app)
    assert not app.exception
    edited = replace(load_preset("department"), real_discount_rate=0.06)
    expected = analysis.strategy_table(expected_run(edited))
    shown = frame(app, "strategy", "p_cheapest")
    assert shown["npv_p10_usd"].tolist() == expected["npv_p10_usd"].tolist()
    assert shown["p_cheapest"].tolist() == expected["p_cheapest"].tolist()


def test_draws_above_the_cap_are_refused():
    app = open_page()
    box = app.number_input(key="unc_draws")
    assert box.max == MAX_DRAWS
    box.set_value(5 * MAX_DRAWS).run()
    assert not app.exception
    assert app.number_input(key="unc_draws").value <= MAX_DRAWS
    app.button(key="unc_run").click().run()
    assert not app.exception
    shown = frame(app, "strategy", "p_cheapest")
    assert shown["p_cheapest"].sum() == pytest.approx(1.0, abs=1e-9)
    headline = texts(app, "success")[0]
    draws = int(headline.split(" of ")[1].split(" sampled")[0].replace(",", ""))
    assert draws <= MAX_DRAWS
    # A value put in the session directly is held to the cap as well.
    tampered = AppTest.from_file(APP_PATH, default_timeout=120)
    tampered.session_state["unc_draws"] = 10 * MAX_DRAWS
    tampered.run()
    tampered.switch_page(PAGE).run()
    assert not tampered.exception
    assert tampered.number_input(key="unc_draws").value <= MAX_DRAWS


ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]"
        for i in range(6)
    ]
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inputs: [", "The ranges are not used"),
        (ALIAS_BOMB, "The ranges are not used"),
        ("- 1\n- 2", "must be a mapping"),
        (
            "inputs:\n- path: server_price_multiplier\n  distribution:\n"
            "    kind: uniform\n    low: -1\n    high: 2\n",
            "cannot be negative",
        ),
    ],
)
def test_invalid_ranges_are_one_message_beside_them_and_kept(text, message):
    app = open_page()
    app.text_area(key="unc_yaml").set_value(text).run()
    assert not app.exception
    errors = texts(app, "error")
    assert len(errors) == 1
    assert message in errors[0]
    assert app.text_area(key="unc_yaml").value == text  # nothing lost
    app.button(key="unc_run").click().run()
    assert not app.exception
    assert len(texts(app, "error")) == 1
    assert not app.success  # no answer from ranges that were not used
    app.button(key="unc_reset").click().run()
    assert not app.error
    default = uncertainty_to_yaml(default_uncertainty(load_preset("department")))
    assert app.text_area(key="unc_yaml").value == default


def test_edited_ranges_are_the_ones_run():
    scenario = load_preset("department")
    data = default_uncertainty(scenario).model_dump(mode="json")
    data["inputs"][0]["distribution"] = {"kind": "uniform", "low": -0.2, "high": 0.0}
    text = yaml.safe_dump(data, sort_keys=False)
    app = open_page()
    app.text_area(key="unc_yaml").set_value(text).run()
    run(app)
    assert not app.exception
    expected = expected_run(scenario, uncertainty_from_dict(data))
    assert texts(app, "success") == [analysis.headline(expected)]


def test_an_input_the_app_cannot_vectorise_is_one_message():
    text = (
        "inputs:\n- path: site.pue\n  distribution:\n    kind: uniform\n"
        "    low: 1.1\n    high: 1.5\n  source: assumption\n"
    )
    app = open_page()
    app.text_area(key="unc_yaml").set_value(text).run()
    run(app)
    assert not app.exception
    errors = texts(app, "error")
    assert len(errors) == 1
    assert "site.pue" in errors[0]
    assert "planner uncertainty" in errors[0]


def test_a_scenario_naming_a_job_log_is_one_message():
    data = load_preset("grant").model_dump(mode="json")
    data["demand"] = {
        "reference_accelerator": data["demand"]["reference_accelerator"],
        "joblog": {"path": "/etc/passwd"},
    }
    app = open_page("ui/workbench_page.py")
    app.file_uploader(key="wb_upload").set_value(
        ("s.yaml", yaml.safe_dump(data).encode(), "text/yaml")
    ).run()
    app.switch_page(PAGE).run()
    assert not app.exception
    errors = texts(app, "error")
    assert len(errors) == 1
    assert "the app opens no file a scenario names" in errors[0]


def test_every_factor_has_words():
    assert set(FACTORS) <= set(FACTOR_LABELS)


# Beside the verdicts --------------------------------------------------------------


def test_workbench_shows_what_decides_the_verdict():
    app = open_page("ui/workbench_page.py")
    assert not app.exception
    found = sensitivities(load_preset("department"))["institution"]
    assert found.sentence() in texts(app, "caption")
    bars = frame(app, "low_npv_delta_usd", "input")
    assert list(bars["input"]) == [bar.input for bar in found.bars]
    assert bars["high_npv_delta_usd"].tolist() == [
        bar.high_npv_delta_usd for bar in found.bars
    ]
    assert any(e.label == "What decides it" for e in app.expander)


def test_quick_compare_shows_what_decides_the_verdict_in_its_view():
    app = open_page(None)
    assert not app.exception
    for view in ("institution", "award"):
        app.radio(key="quick_view").set_value(view).run()
        assert not app.exception
        scenario = replace(quick_scenario_with_hybrid(QuickCompare()), view=view)
        sentence = sensitivities(scenario)[view].sentence()
        assert sentence in texts(app, "caption")


def test_a_scenario_the_tornado_cannot_take_is_one_caption(monkeypatch):
    from planner.uncertainty import sensitivity

    def refuse(*args, **kwargs):
        msg = "the tornado cannot take this scenario (test)"
        raise ValueError(msg)

    monkeypatch.setattr(sensitivity, "sensitivities", refuse)
    app = open_page("ui/workbench_page.py")
    # A rate no other test uses, so no cached tornado answers for it.
    app.number_input(key="wb1|real_discount_rate").set_value(0.0417).run()
    assert not app.exception
    captions = texts(app, "caption")
    assert (
        "What decides it is not shown for this scenario: the tornado cannot take "
        "this scenario (test)" in captions
    )
    assert not any(e.label == "What decides it" for e in app.expander)
    assert not app.error
