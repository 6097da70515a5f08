"""AppTest: the "what decides it" tornado beside the verdicts.

The workbench and Quick compare show
:func:`planner.uncertainty.sensitivity.sensitivities`' sentence for their view.
"""

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from planner.quick import QuickCompare
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.scenario import load_preset, replace
from planner.uncertainty.sensitivity import sensitivities
from planner.uncertainty.spec import FACTORS
from ui.common import FACTOR_LABELS, as_text

ROOT = Path(__file__).parents[2]
APP_PATH = str(ROOT / "app.py")


def open_page(page_file: str | None = None) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=120).run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def texts(app: AppTest, kind: str) -> list[str]:
    return [as_text(element.value) for element in getattr(app, kind)]


def frame(app: AppTest, *columns: str) -> pd.DataFrame:
    for element in app.dataframe:
        if all(column in element.value.columns for column in columns):
            return element.value
    msg = f"no table with columns {columns}"
    raise AssertionError(msg)


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
