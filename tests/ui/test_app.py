"""AppTest: every page renders on the shipped defaults and shows library numbers."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from planner.reference import strubell2019
from pricing import catalog
from ui.common import as_text

APP_PATH = str(Path(__file__).parents[2] / "app.py")


def open_page(page_file: str | None = None) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def test_strubell_page_shows_section5_numbers():
    app = open_page("ui/strubell_page.py")
    assert not app.exception
    expected = strubell2019.hardware_vs_cloud()
    values = {metric.label: metric.value for metric in app.metric}
    assert values["58 GPUs as 7.25 servers"] == f"${expected['hardware_usd']:,.0f}"
    assert values["Cloud on-demand (Table 4)"] == (
        f"${expected['cloud_on_demand_usd']:,.0f}"
    )


def test_data_page_lists_each_catalog_and_filters():
    app = open_page("ui/data_page.py")
    assert not app.exception
    app.selectbox(key="catalog_name").set_value("servers").run()
    rows = len(catalog.load_catalog("servers"))
    assert any(f"{rows:,} rows" in md.value for md in app.markdown)
    app.text_input(key="catalog_filter").set_value("H100").run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert 0 < len(shown) < rows
    matches = shown.astype(str).apply(lambda col: col.str.contains("H100", case=False))
    assert matches.any(axis=1).all()
    assert "8xH100-SXM" in set(shown["server"])


def _quick_expected(**changes):
    from planner import breakeven, tco
    from planner.quick import QuickCompare, quick_scenario

    scenario = quick_scenario(QuickCompare(**changes))
    evaluation = tco.evaluate(scenario)
    return breakeven.break_even(
        scenario,
        scenario.strategies[-1].name,
        scenario.strategies[0].name,
        evaluation=evaluation,
    )


def test_quick_compare_is_the_default_page_and_matches_the_library():
    app = open_page()
    assert not app.exception
    expected = _quick_expected()
    values = {metric.label: metric.value for metric in app.metric}
    assert values["Break-even utilisation"] == f"{100 * expected.utilisation:.0f} %"
    assert values["Cloud premium at full use"] == f"{expected.cloud_premium:.2f}x"
    assert expected.explanation in app.success[0].value


def test_quick_compare_input_reaches_the_model():
    app = open_page()
    app.number_input(key="quick_demand_value").set_value(40.0).run()
    assert not app.exception
    expected = _quick_expected(demand_value=40.0)
    values = {metric.label: metric.value for metric in app.metric}
    assert values["Utilisation of the servers"] == (
        f"{100 * expected.scenario_utilisation:.0f} %"
    )


def test_quick_compare_invalid_input_shows_error_and_keeps_result():
    app = open_page()
    before = {metric.label: metric.value for metric in app.metric}
    app.number_input(key="quick_pue").set_value(0.5).run()
    assert not app.exception
    messages = [as_text(error.value) for error in app.error]
    assert any(
        m.startswith("pue: Input should be greater than or equal to 1")
        for m in messages
    )
    after = {metric.label: metric.value for metric in app.metric}
    assert after == before


def _workbench():
    return open_page("ui/workbench_page.py")


def test_workbench_shows_the_library_summary_of_the_example():
    from planner.report import summary_table
    from planner.scenario import preset_text, scenario_from_yaml

    app = _workbench()
    assert not app.exception
    expected = summary_table(
        tco_evaluate(scenario_from_yaml(preset_text("department")))
    )
    shown = app.dataframe[0].value
    assert list(shown["strategy"]) == list(expected["strategy"])
    assert list(shown["npv_usd"]) == list(expected["npv_usd"])


def tco_evaluate(scenario):
    from planner import tco

    return tco.evaluate(scenario)


def test_workbench_edit_reaches_the_model_and_bad_value_is_shown_beside_it():
    from planner.scenario import preset_text, replace, scenario_from_yaml

    app = _workbench()
    app.number_input(key="wb1|real_discount_rate").set_value(0.07).run()
    assert not app.exception
    scenario = replace(
        scenario_from_yaml(preset_text("department")), real_discount_rate=0.07
    )
    expected = tco_evaluate(scenario).summary["npv_usd"].round(0).tolist()
    assert app.dataframe[0].value["npv_usd"].tolist() == expected

    app.number_input(key="wb1|site.pue").set_value(0.7).run()
    messages = [as_text(error.value) for error in app.error]
    assert any(
        m.startswith("site.pue: Input should be greater than or equal to 1")
        for m in messages
    )
    # The results stay those of the last valid scenario: never lose the user's work.
    assert not app.exception
    assert len(app.dataframe) >= 1


def test_workbench_keeps_scenarios_side_by_side():
    app = _workbench()
    app.button(key="wb_keep").click().run()
    app.selectbox(key="wb_preset").set_value("grant").run()
    app.button(key="wb_load_preset").click().run()
    app.button(key="wb_keep").click().run()
    assert not app.exception
    headers = [as_text(h.value) for h in app.subheader]
    assert "Department GPU plan (Massachusetts, 10 years)" in headers
    assert "Three-year grant, 8 busy A100s" in headers


def test_demand_page_shows_lisa_and_the_queue_simulation():
    from planner import joblog, queueing

    app = open_page("ui/demand_page.py")
    assert not app.exception
    values = {metric.label: metric.value for metric in app.metric}
    assert values["Jobs that ran"] == "4,789"  # Strubell et al. 2019, section 4.2
    assert values["GPU-hours"] == "239,942"
    waits = app.dataframe[-1].value
    first = waits.iloc[0]
    direct = queueing.simulate_queue(
        joblog.generate_workload(joblog.LISA_PRESET), int(first["gpus"])
    )
    assert first["mean_wait_hours"] == round(direct.mean_wait_hours, 3)
    app.radio(key="demand_policy").set_value("backfill").run()
    assert not app.exception


def test_optimiser_page_shows_the_library_plan():
    from planner import optimise
    from planner.scenario import preset_text, scenario_from_yaml

    app = open_page("ui/optimiser_page.py")
    assert not app.exception
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    plan = optimise.optimise(scenario_from_yaml(preset_text("department")))
    values = {metric.label: metric.value for metric in app.metric}
    assert values["Present value of costs"] == f"${plan.npv_usd:,.0f}"
    assert plan.summary in as_text(app.success[0].value)


def test_optimiser_page_explains_an_infeasible_budget():
    app = open_page("ui/optimiser_page.py")
    app.selectbox(key="opt_preset").set_value("grant").run()
    app.checkbox(key="opt|allow_cloud").uncheck().run()
    app.checkbox(key="opt|allow_unserved").uncheck().run()
    app.text_input(key="opt|capital_budget_usd_per_year").set_value("100000").run()
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    messages = " ".join(as_text(error.value) for error in app.error)
    assert "No plan meets these limits" in messages
    assert "capital_budget_usd_per_year" in messages


def test_consortium_page_matches_the_library_allocations():
    from planner import pooling
    from planner.scenario import preset_text, scenario_from_yaml

    app = open_page("ui/consortium_page.py")
    assert not app.exception
    scenario = scenario_from_yaml(preset_text("consortium"))
    name = "Shared 4x 8xH100 (three departments)"
    table = pooling.allocation_table(scenario, name)
    usage = table[table["rule"] == "usage"].set_index("member")["allocation_usd"]
    values = {as_text(metric.label): metric.value for metric in app.metric}
    assert values["This project"] == f"${usage['This project']:,.0f}"
    assert pooling.allocation_summary(table) == as_text(app.success[0].value)
    app.selectbox(key="pool_rule").set_value("shapley").run()
    shapley = table[table["rule"] == "shapley"].set_index("member")["allocation_usd"]
    values = {as_text(metric.label): metric.value for metric in app.metric}
    assert values["Astronomy"] == f"${shapley['Astronomy']:,.0f}"


def test_consortium_page_bad_input_is_shown_and_nothing_recomputed():
    app = open_page("ui/consortium_page.py")
    app.number_input(key="pool_own_hours").set_value(-5.0).run()
    assert not app.exception
    assert any("reference_hours_per_year" in as_text(e.value) for e in app.error)
