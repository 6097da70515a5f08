"""AppTest: every page shows library numbers for the inputs on screen, and the
session's question is kept across pages and in the address (issue 16)."""

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner import breakeven, pooling, tco, verdict
from planner.contributions import contribution_schedule
from planner.demand_units import convert_demand, reference_hours_per_year
from planner.places import place_defaults
from planner.quick import QuickCompare
from planner.quick_hybrid import hybrid_name, quick_scenario_with_hybrid
from planner.reference import strubell2019
from planner.scenario import load_preset, replace
from planner.share import decode_link, encode_link
from pricing import catalog
from ui.common import as_text, cloud_offers

APP_PATH = str(Path(__file__).parents[2] / "app.py")
CONSORTIUM = "Shared 4x 8xH100 (three departments)"


def open_page(page_file: str | None = None, link: str | None = None) -> AppTest:
    app = AppTest.from_file(APP_PATH, default_timeout=60)
    if link is not None:
        app.query_params["q"] = link
    app.run()
    if page_file is not None:
        app.switch_page(page_file).run()
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {as_text(metric.label): metric.value for metric in app.metric}


def texts(app: AppTest, kind: str = "success") -> list[str]:
    return [as_text(element.value) for element in getattr(app, kind)]


def frame(app: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page with these columns."""
    for element in app.dataframe:
        value = element.value
        if all(column in value.columns for column in columns):
            return value
    msg = f"no table with columns {columns}"
    raise AssertionError(msg)


def link_of(app: AppTest) -> str:
    value = app.query_params["q"]
    return value[0] if isinstance(value, list) else value


def quick_expected(view: str = "institution", **changes):
    scenario = replace(quick_scenario_with_hybrid(QuickCompare(**changes)), view=view)
    evaluation = tco.evaluate(scenario)
    owned = next(s for s in scenario.strategies if s.kind == "onprem").name
    found = breakeven.break_even(
        scenario, owned, scenario.strategies[0].name, evaluation=evaluation
    )
    return scenario, evaluation, found, verdict.recommendations(evaluation)


# Strubell and the data catalogs ------------------------------------------------


def test_strubell_page_shows_section5_numbers_with_meaningful_deltas():
    app = open_page("ui/strubell_page.py")
    assert not app.exception
    expected = strubell2019.hardware_vs_cloud()
    values = metrics(app)
    assert values["58 GPUs as 7.25 servers"] == f"${expected['hardware_usd']:,.0f}"
    assert values["Cloud on-demand (Table 4)"] == (
        f"${expected['cloud_on_demand_usd']:,.0f}"
    )
    by_label = {as_text(m.label): m for m in app.metric}
    # A cost above the hardware's is worse (red, up); below it a saving (green).
    dearer = by_label["Cloud on-demand (Table 4)"].proto
    cheaper = by_label["Cloud pre-emptible"].proto
    assert expected["ratio_on_demand_to_hardware"] > 1
    assert expected["ratio_preemptible_to_hardware"] < 1
    assert dearer.direction != cheaper.direction
    assert dearer.color != cheaper.color


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


def test_data_page_shows_the_price_column_first():
    app = open_page("ui/data_page.py")
    app.selectbox(key="catalog_name").set_value("cloud_prices").run()
    order = list(app.dataframe[0].proto.column_order)
    assert order.index("on_demand_usd_per_hour") < 6


# Quick compare -----------------------------------------------------------------


def test_quick_compare_is_the_default_page_and_matches_the_library():
    app = open_page()
    assert not app.exception
    _, _, found, recs = quick_expected()
    values = metrics(app)
    assert values["Break-even utilisation"] == f"{100 * found.utilisation:.0f} %"
    assert values["Cloud premium at full use"] == f"{found.cloud_premium:.2f}x"
    # The recommendation sentence in both views.
    shown = " ".join(texts(app, "success") + texts(app, "warning") + texts(app, "info"))
    assert recs["institution"].sentence in shown
    assert recs["award"].sentence in shown
    assert found.explanation in " ".join(texts(app, "caption"))


def test_quick_compare_includes_the_hybrid_and_the_server_price():
    app = open_page()
    app.radio(key="quick_panel").set_value("summary").run()
    scenario, evaluation, _, _ = quick_expected()
    summary = frame(app, "strategy", "award_npv_usd")
    assert hybrid_name(scenario) in set(summary["strategy"])
    owned = evaluation.resolved.strategy(
        next(s for s in scenario.strategies if s.kind == "onprem").name
    )
    price = metrics(app)["Server price (catalog estimate)"]
    assert price == f"${owned.server.server_price_usd:,.0f}"


def test_quick_compare_input_reaches_the_model():
    app = open_page()
    app.number_input(key="quick_demand_value").set_value(40.0).run()
    assert not app.exception
    _, _, found, recs = quick_expected(demand_value=40.0)
    assert metrics(app)["Utilisation of the servers"] == (
        f"{100 * found.scenario_utilisation:.0f} %"
    )
    assert recs["institution"].sentence in texts(app)[0]


def test_no_stale_verdict_after_a_server_switch():
    app = open_page()
    app.selectbox(key="quick_server").set_value("8xMI300X").run()
    assert not app.exception
    provider, region, instance = cloud_offers("8xMI300X")[0].split("|")
    assert app.selectbox(key="quick_offer").value == f"{provider}|{region}|{instance}"
    _, _, found, recs = quick_expected(
        server="8xMI300X", provider=provider, region=region, instance_type=instance
    )
    # The verdict and metrics of this very run are the new server's.
    assert texts(app)[0] == recs["institution"].sentence
    assert "p5.48xlarge" not in texts(app)[0]
    assert metrics(app)["Cloud premium at full use"] == f"{found.cloud_premium:.2f}x"


def test_every_server_switch_gives_a_priced_verdict():
    # Every catalog server the engine can compare, switched to in turn: each
    # gives a priced verdict on one of its own offers, never an error.
    from ui.common import servers

    app = open_page()
    assert set(app.selectbox(key="quick_server").options) == set(servers()[0])
    for server in servers()[0]:
        app.selectbox(key="quick_server").set_value(server).run()
        assert not app.exception, server
        assert not texts(app, "error"), (server, texts(app, "error"))
        offer = app.selectbox(key="quick_offer").value
        assert offer in cloud_offers(server)


def test_a_unit_switch_converts_the_number_and_keeps_the_verdict():
    app = open_page()
    app.number_input(key="quick_demand_value").set_value(25.0).run()
    before = texts(app)[0]
    app.radio(key="quick_demand_kind").set_value("gpu_hours").run()
    assert not app.exception
    value = app.number_input(key="quick_demand_value").value
    assert value == convert_demand(25.0, "busy_gpus", "gpu_hours") == 219_000.0
    assert texts(app)[0] == before
    app.radio(key="quick_demand_kind").set_value("busy_gpus").run()
    assert app.number_input(key="quick_demand_value").value == pytest.approx(25.0)


def test_the_place_selector_fills_sourced_values_that_stay_editable():
    app = open_page()
    app.selectbox(key="quick_place").set_value("DE").run()
    assert not app.exception
    germany = place_defaults("DE")
    assert app.number_input(key="quick_electricity").value == germany.electricity.value
    assert app.number_input(key="quick_grid").value == germany.grid.value
    captions = " ".join(texts(app, "caption"))
    assert "Eurostat" in captions
    assert f"{germany.electricity.year} data" in captions
    # Kept values are looked up by the engine (location DE): same verdict.
    _, _, _, recs = quick_expected(location="DE")
    assert texts(app)[0] == recs["institution"].sentence
    # An edit is the user's value, said so, and reaches the model.
    app.number_input(key="quick_electricity").set_value(0.30).run()
    assert "Your value" in " ".join(texts(app, "caption"))
    _, _, _, recs = quick_expected(location="DE", electricity_usd_per_kwh=0.30)
    assert texts(app)[0] == recs["institution"].sentence


def test_a_cloud_region_place_fills_its_pue():
    app = open_page()
    app.selectbox(key="quick_place").set_value("gcp:europe-west1").run()
    assert not app.exception
    region = place_defaults("gcp:europe-west1")
    assert region.pue is not None
    assert app.number_input(key="quick_pue").value == region.pue.value
    assert app.number_input(key="quick_grid").value == region.grid.value


def test_quick_compare_year_by_year_table_is_in_the_chosen_view():
    app = open_page()
    app.radio(key="quick_view").set_value("award").run()
    app.radio(key="quick_panel").set_value("yearly").run()
    assert not app.exception
    _, evaluation, _, recs = quick_expected(view="award")
    yearly = tco.yearly_table(evaluation)
    shown = frame(app, "calendar_year").set_index("calendar_year")
    for strategy, rows in yearly.groupby("strategy"):
        assert list(shown[strategy]) == list(rows["award_cost_usd"])
    assert texts(app)[0] == recs["award"].sentence


def test_quick_compare_sources_are_one_click_away():
    app = open_page()
    app.radio(key="quick_panel").set_value("sources").run()
    _, evaluation, _, _ = quick_expected()
    shown = frame(app, "what", "source")
    expected = [what for what, _ in evaluation.resolved.assumptions]
    assert list(shown["what"]) == expected
    beside = "\n".join(texts(app, "warning"))
    for warning in evaluation.resolved.warnings:
        assert f"- {warning}" in beside
    dates = frame(app, "catalog", "stale")
    assert "cloud_prices" in set(dates["catalog"])


def test_quick_compare_invalid_input_shows_error_and_keeps_result():
    app = open_page()
    before = metrics(app)
    app.number_input(key="quick_pue").set_value(0.5).run()
    assert not app.exception
    messages = texts(app, "error")
    assert any("greater than or equal to 1" in m for m in messages)
    assert metrics(app) == before


# The session's question: across pages and in the address ------------------------


def test_inputs_are_kept_across_pages():
    app = open_page()
    app.number_input(key="quick_demand_value").set_value(33.0).run()
    app.selectbox(key="quick_place").set_value("US-MA").run()
    app.switch_page("ui/workbench_page.py").run()
    app.number_input(key="wb1|real_discount_rate").set_value(0.05).run()
    app.switch_page("ui/data_page.py").run()
    app.switch_page("ui/quick_page.py").run()
    assert app.number_input(key="quick_demand_value").value == 33.0
    assert app.selectbox(key="quick_place").value == "US-MA"
    app.switch_page("ui/workbench_page.py").run()
    assert app.number_input(key="wb1|real_discount_rate").value == 0.05


def test_the_optimiser_plans_the_workbench_scenario_as_edited():
    from planner import optimise

    app = open_page("ui/workbench_page.py")
    app.number_input(key="wb1|real_discount_rate").set_value(0.06).run()
    app.switch_page("ui/optimiser_page.py").run()
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    edited = replace(load_preset("department"), real_discount_rate=0.06)
    plan = optimise.optimise(edited)
    assert metrics(app)["Present value of costs"] == f"${plan.npv_usd:,.0f}"
    assert [s.state for s in app.status] == ["complete"]


def test_the_address_holds_the_question_and_a_link_reopens_it():
    app = open_page()
    assert "q" not in app.query_params  # the defaults need no link
    app.number_input(key="quick_demand_value").set_value(12.0).run()
    app.selectbox(key="quick_server").set_value("8xMI300X").run()
    verdict_shown = texts(app)[0]
    link = link_of(app)
    assert link.startswith("v1.")
    assert len(link) < 2_000
    data = decode_link(link)
    assert data["quick"]["inputs"]["demand_value"] == 12.0
    assert data["quick"]["inputs"]["server"] == "8xMI300X"
    fresh = open_page(link=link)
    assert not fresh.exception
    assert fresh.number_input(key="quick_demand_value").value == 12.0
    assert fresh.selectbox(key="quick_server").value == "8xMI300X"
    assert texts(fresh)[0] == verdict_shown
    assert link_of(fresh) == link


def test_a_link_carries_the_workbench_scenario():
    edited = replace(load_preset("grant"), real_discount_rate=0.045)
    link = encode_link({"workbench": {"scenario": edited.model_dump(mode="json")}})
    app = open_page("ui/workbench_page.py", link=link)
    assert not app.exception
    assert app.number_input(key="wb1|real_discount_rate").value == 0.045
    expected = tco.evaluate(edited).summary
    shown = frame(app, "strategy", "npv_usd")
    assert list(shown["strategy"]) == list(expected["strategy"])


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("v1.not-a-link", "This link could not be opened"),
        ("v7.abc", "version 7"),
        (encode_link({"quick": {"inputs": {"pue": 9.0}}}), "quick comparison is"),
    ],
)
def test_an_invalid_link_is_a_clear_message_and_keeps_the_question(link, message):
    app = open_page(link=link)
    assert not app.exception
    errors = " ".join(texts(app, "error"))
    assert message in errors
    _, _, _, recs = quick_expected()
    assert texts(app)[0] == recs["institution"].sentence
    app.button(key="question_dismiss").click().run()
    assert message not in " ".join(texts(app, "error"))


# Workbench -----------------------------------------------------------------------


def test_workbench_shows_the_library_summary_and_verdict_of_the_example():
    from planner.report import summary_table

    app = open_page("ui/workbench_page.py")
    assert not app.exception
    evaluation = tco.evaluate(load_preset("department"))
    expected = summary_table(evaluation)
    shown = frame(app, "strategy", "npv_usd")
    assert list(shown["strategy"]) == list(expected["strategy"])
    assert list(shown["npv_usd"]) == list(expected["npv_usd"])
    recs = verdict.recommendations(evaluation)
    assert texts(app)[0] == recs["institution"].sentence


def test_workbench_labels_are_words():
    app = open_page("ui/workbench_page.py")
    labels = []
    for section in ("scenario", "demand", "site", "institution", "strategies"):
        app.radio(key="wb_section").set_value(section).run()
        assert not app.exception
        for kind in ("number_input", "text_input", "selectbox", "checkbox"):
            for widget in getattr(app, kind):
                words = widget.label.split("[")[0].split("(")[0]
                assert "_" not in words, widget.label
                labels.append(widget.label)
    assert any("overheads" in label for label in labels)


def test_workbench_edit_reaches_the_model_and_bad_value_is_shown_beside_it():
    app = open_page("ui/workbench_page.py")
    app.number_input(key="wb1|real_discount_rate").set_value(0.07).run()
    assert not app.exception
    scenario = replace(load_preset("department"), real_discount_rate=0.07)
    expected = tco.evaluate(scenario).summary["npv_usd"].round(0).tolist()
    assert frame(app, "strategy", "npv_usd")["npv_usd"].round(0).tolist() == (expected)
    app.radio(key="wb_section").set_value("site").run()
    app.number_input(key="wb1_site_pue").set_value(0.7).run()
    messages = texts(app, "error")
    assert any("greater than or equal to 1" in m for m in messages)
    assert not app.exception
    assert len(app.dataframe) >= 1


def test_workbench_place_selector_fills_the_site():
    app = open_page("ui/workbench_page.py")
    app.radio(key="wb_section").set_value("site").run()
    assert app.selectbox(key="wb1_site_place").value == "US-MA"  # the example's
    app.selectbox(key="wb1_site_place").set_value("DE").run()
    assert not app.exception
    assert app.number_input(key="wb1_site_electricity").value == (
        place_defaults("DE").electricity.value
    )
    data = load_preset("department").model_dump(mode="json")
    data["site"] |= {
        "location": "DE",
        "electricity_usd_per_kwh": None,
        "grid_co2e_g_per_kwh": None,
    }
    expected = tco.evaluate(type(load_preset("grant")).model_validate(data)).summary
    shown = frame(app, "strategy", "npv_usd")
    assert shown["npv_usd"].round(0).tolist() == expected["npv_usd"].round(0).tolist()


def test_workbench_keeps_scenarios_side_by_side():
    app = open_page("ui/workbench_page.py")
    app.button(key="wb_keep").click().run()
    app.selectbox(key="wb_preset").set_value("grant").run()
    app.button(key="wb_load_preset").click().run()
    app.button(key="wb_keep").click().run()
    assert not app.exception
    headers = [as_text(h.value) for h in app.subheader]
    assert "Department GPU plan (Massachusetts, 10 years)" in headers
    assert "Three-year grant, 8 busy A100s" in headers


def test_quick_compare_opens_in_the_workbench():
    app = open_page()
    app.number_input(key="quick_demand_value").set_value(20.0).run()
    app.radio(key="quick_panel").set_value("summary").run()
    app.button(key="quick_to_workbench").click().run()
    assert not app.exception
    scenario, *_ = quick_expected(demand_value=20.0)
    shown = frame(app, "strategy", "npv_usd")
    assert list(shown["strategy"]) == [s.name for s in scenario.strategies]


# Demand --------------------------------------------------------------------------


def test_demand_page_shows_lisa_and_the_queue_simulation():
    from planner import joblog, queueing

    app = open_page("ui/demand_page.py")
    assert not app.exception
    values = metrics(app)
    assert values["Jobs that ran"] == "4,789"  # Strubell et al. 2019, section 4.2
    assert values["GPU-hours"] == "239,942"
    waits = frame(app, "gpus", "mean_wait_hours")
    first = waits.iloc[0]
    direct = queueing.simulate_queue(
        joblog.generate_workload(joblog.LISA_PRESET), int(first["gpus"])
    )
    assert first["mean_wait_hours"] == round(direct.mean_wait_hours, 3)
    app.radio(key="demand_policy").set_value("backfill").run()
    assert not app.exception


def test_an_upload_error_names_the_file_only_and_the_status_completes():
    app = open_page("ui/demand_page.py")
    app.file_uploader(key="demand_upload").set_value(
        ("jobs.csv", b"not,a\njob,log\n", "text/csv")
    ).run()
    assert not app.exception
    errors = " ".join(texts(app, "error"))
    assert "jobs.csv was not imported" in errors
    assert "/tmp" not in errors
    assert "planner-upload" not in errors
    assert [s.state for s in app.status] == ["error"]
    good = (Path(__file__).parents[1] / "data" / "joblogs" / "generic.csv").read_bytes()
    app.file_uploader(key="demand_upload").set_value(
        ("jobs.csv", good, "text/csv")
    ).run()
    assert [s.state for s in app.status] == ["complete"]


def test_use_this_demand_reaches_quick_compare_and_the_workbench():
    from planner import joblog

    summary = joblog.demand_summary(joblog.generate_workload(joblog.LISA_PRESET))
    app = open_page("ui/demand_page.py")
    app.button(key="demand_to_quick").click().run()
    assert not app.exception
    assert app.number_input(key="quick_demand_value").value == pytest.approx(
        summary["mean_concurrency"]
    )
    assert app.radio(key="quick_demand_kind").value == "busy_gpus"
    app.switch_page("ui/demand_page.py").run()
    app.button(key="demand_to_workbench").click().run()
    assert not app.exception
    app.switch_page("ui/workbench_page.py").run()  # AppTest stays on the old page
    app.radio(key="wb_section").set_value("demand").run()
    hours = reference_hours_per_year(
        summary["mean_concurrency"], "busy_gpus", "A100-80GB-SXM4"
    )
    typed = next(w.value for w in app.text_input if "first year" in w.label)
    assert float(typed) == pytest.approx(hours)


# Optimiser -----------------------------------------------------------------------


def test_optimiser_page_shows_the_library_plan_with_words_for_labels():
    from planner import optimise

    app = open_page("ui/optimiser_page.py")
    assert not app.exception
    labels = [w.label for w in app.text_input] + [w.label for w in app.checkbox]
    assert not any("YAML" in label or "_" in label.split("(")[0] for label in labels)
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    plan = optimise.optimise(load_preset("department"))
    values = metrics(app)
    assert values["Present value of costs"] == f"${plan.npv_usd:,.0f}"
    assert values["CO2e over the horizon"] == f"{plan.co2e_kg / 1e3:,.1f} t"
    assert plan.summary in texts(app)[0]


def test_optimiser_page_explains_an_infeasible_budget():
    app = open_page("ui/optimiser_page.py")
    app.radio(key="opt_source").set_value("example").run()
    app.selectbox(key="opt_preset").set_value("grant").run()
    app.checkbox(key="opt|allow_cloud").uncheck().run()
    app.checkbox(key="opt|allow_unserved").uncheck().run()
    app.text_input(key="opt|capital_budget_usd_per_year").set_value("100000").run()
    app.button(key="opt_run").click().run(timeout=180)
    assert not app.exception
    messages = " ".join(texts(app, "error"))
    assert "No plan meets these limits" in messages
    assert "capital_budget_usd_per_year" in messages
    assert [s.state for s in app.status] == ["error"]


# Consortium ----------------------------------------------------------------------


def consortium_expected(scenario, own_name="This project", rule="shapley"):
    game = pooling.consortium_game(scenario, CONSORTIUM, own_name=own_name)
    table = pooling.allocations(game)
    schedule = contribution_schedule(scenario, game, table, rule, own_name=own_name)
    return table, schedule


def test_consortium_page_matches_the_library_and_schedules_contributions():
    app = open_page("ui/consortium_page.py")
    assert not app.exception
    table, schedule = consortium_expected(load_preset("consortium"))
    shapley = table[table["rule"] == "shapley"].set_index("member")["allocation_usd"]
    assert metrics(app)["Astronomy"] == f"${shapley['Astronomy']:,.0f}"
    assert pooling.allocation_summary(table) == texts(app)[0]
    shown = frame(app, "member").set_index("member")
    years = sorted(set(schedule["calendar_year"]))
    own = schedule[schedule["member"] == "This project"].set_index("calendar_year")
    assert (
        shown.loc["This project", f"Buy-in {years[0]}"]
        == own.loc[years[0], "total_usd"]
    )
    assert (
        shown.loc["This project", f"Usage fee {years[1]}"]
        == (own.loc[years[1], "usage_fee_usd"])
    )
    assert [s.state for s in app.status] == ["complete"]
    app.selectbox(key="pool_rule").set_value("usage").run()
    usage = table[table["rule"] == "usage"].set_index("member")["allocation_usd"]
    assert metrics(app)["Linguistics"] == f"${usage['Linguistics']:,.0f}"


def test_consortium_assumptions_are_visible_and_editable():
    app = open_page("ui/consortium_page.py")
    labels = [w.label for w in app.number_input] + [w.label for w in app.selectbox]
    for words in ("Years compared", "indirect costs", "Electricity tariff", "Server"):
        assert any(words in label for label in labels), words
    app.number_input(key="pool_example_horizon").set_value(4).run()
    app.number_input(key="pool_example_indirect").set_value(0.25).run()
    assert not app.exception
    scenario = load_preset("consortium")
    scenario = replace(
        scenario,
        horizon_years=4,
        institution=replace(scenario.institution, indirect_cost_rate=0.25),
    )
    table, _ = consortium_expected(scenario)
    shapley = table[table["rule"] == "shapley"].set_index("member")["allocation_usd"]
    assert metrics(app)["Linguistics"] == f"${shapley['Linguistics']:,.0f}"


def test_consortium_members_are_renamed_and_demand_is_in_gpus():
    app = open_page("ui/consortium_page.py")
    app.text_input(key="pool_example_own_name").set_value("Physics").run()
    app.number_input(key="pool_example_own_busy_gpus").set_value(20.0).run()
    assert not app.exception
    model = str(catalog.server("8xH100-SXM")["accelerator_model"])
    scenario = load_preset("consortium")
    scenario = replace(
        scenario,
        demand=replace(
            scenario.demand,
            reference_hours_per_year=reference_hours_per_year(20.0, "busy_gpus", model),
        ),
    )
    table, _ = consortium_expected(scenario, own_name="Physics")
    shapley = table[table["rule"] == "shapley"].set_index("member")["allocation_usd"]
    assert metrics(app)["Physics"] == f"${shapley['Physics']:,.0f}"
    assert "This project" not in metrics(app)
    # Switching the unit converts the demand: the answer stays the same.
    app.radio(key="pool_unit").set_value("gpu_hours").run()
    assert app.number_input(key="pool_example_own_gpu_hours").value == pytest.approx(
        convert_demand(20.0, "busy_gpus", "gpu_hours")
    )
    assert metrics(app)["Physics"] == f"${shapley['Physics']:,.0f}"


def test_consortium_requires_a_name_and_recomputes_nothing():
    app = open_page("ui/consortium_page.py")
    app.text_input(key="pool_example_own_name").set_value("  ").run()
    assert not app.exception
    assert any("name is required" in e for e in texts(app, "error"))
    assert not app.metric


def test_member_rows_never_become_nan_members():
    from ui.rows import member_rows

    table = pd.DataFrame(
        {
            "name": ["Linguistics", None, "Chemistry", None, "  "],
            "demand": [4.0, 3.0, None, None, None],
            "peak_to_mean": [3.0, None, 2.0, None, None],
        }
    )
    members, problems = member_rows(
        table, unit="busy_gpus", model="H100-80GB-SXM5", seeds={"Linguistics": 7}
    )
    assert [m["name"] for m in members] == ["Linguistics"]
    assert members[0]["shape"]["seed"] == 7
    assert problems == [
        "member row 2: a name is required",
        "member row 3 (Chemistry): the demand is required",
    ]
    assert "nan" not in str(members)


def test_the_consortium_can_take_the_workbench_scenario():
    app = open_page("ui/workbench_page.py")
    app.selectbox(key="wb_preset").set_value("consortium").run()
    app.button(key="wb_load_preset").click().run()
    app.switch_page("ui/consortium_page.py").run()
    app.radio(key="pool_source").set_value("workbench").run()
    assert not app.exception
    app.number_input(key="pool_workbench_indirect").set_value(0.3).run()
    scenario = load_preset("consortium")
    scenario = replace(
        scenario, institution=replace(scenario.institution, indirect_cost_rate=0.3)
    )
    table, _ = consortium_expected(scenario)
    shapley = table[table["rule"] == "shapley"].set_index("member")["allocation_usd"]
    assert metrics(app)["Astronomy"] == f"${shapley['Astronomy']:,.0f}"
    # The edit went back to the session's scenario: the workbench shows it.
    app.switch_page("ui/workbench_page.py").run()
    app.radio(key="wb_section").set_value("institution").run()
    rates = [w.value for w in app.number_input if "overheads" in w.label]
    assert 0.3 in rates


# Downloads -----------------------------------------------------------------------


def test_csv_downloads_round_money_to_the_cent():
    from ui.common import csv_download

    _, evaluation, _, _ = quick_expected()
    text = csv_download(evaluation.summary)
    frame = pd.read_csv(__import__("io").StringIO(text))
    for column in ("npv_usd", "award_npv_usd"):
        assert (frame[column].round(2) == frame[column]).all()
    assert "99999999" not in text


def test_workbench_sources_are_one_click_away():
    app = open_page("ui/workbench_page.py")
    app.toggle(key="wb_sources").set_value(True).run()
    assert not app.exception
    evaluation = tco.evaluate(load_preset("department"))
    shown = frame(app, "what", "source")
    assert list(shown["what"]) == [what for what, _ in evaluation.resolved.assumptions]


def test_consortium_panels_show_every_rule_and_coalition():
    app = open_page("ui/consortium_page.py")
    app.radio(key="pool_panel").set_value("rules").run()
    assert not app.exception
    table, _ = consortium_expected(load_preset("consortium"))
    shown = frame(app, "member", "rule", "allocation_usd")
    assert len(shown) == len(table)
    app.radio(key="pool_panel").set_value("coalitions").run()
    plans = frame(app, "coalition", "option")
    assert len(plans) == 2**3 - 1


def test_quick_compare_labels_are_words():
    app = open_page()
    for kind in ("number_input", "selectbox", "radio", "checkbox"):
        for widget in getattr(app, kind):
            words = widget.label.split("[")[0].split("(")[0]
            assert "_" not in words, widget.label
    assert any("overheads" in w.label for w in app.number_input)
