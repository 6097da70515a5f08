"""A verdict a finance office can sign: equal service, one recommendation, two views.

Rules cited: 2 CFR 200.1 (MTDC: salaries, services, supplies in; equipment and
rental costs out), 2 CFR 200.313(e) (the agency's claim on proceeds of equipment
it funded: no resale credit to the award), 2 CFR 200.468 (service-centre
recharges are services). Papers: Strubell et al. 2019 section 5 ($145,000 of
servers against $350,315 of on-demand cloud, 2.42x), Cottier et al. 2024 (the
cloud premium at full use, amortised hardware, no staff or F&A).
"""

import json

import numpy as np
import pytest

from planner import breakeven, cli, report, tco, verdict
from planner.quick import QuickCompare, quick_scenario
from planner.report.justification import assumptions_table
from planner.scenario import load_preset, replace, scenario_from_dict
from planner.tco.budget import budget_table


@pytest.fixture(scope="module")
def department():
    return tco.evaluate(load_preset("department"))


@pytest.mark.parametrize("view", ["institution", "award"])
def test_recommendation_is_the_lowest_equal_service_npv_of_its_view(department, view):
    rec = verdict.recommend(department, view)
    summary = department.summary.set_index("strategy")
    lowest = summary[f"{view}_npv_usd"].idxmin()
    assert rec.strategy == lowest
    assert rec.npv_usd == pytest.approx(summary.loc[lowest, f"{view}_npv_usd"])
    ordered = summary[f"{view}_npv_usd"].sort_values()
    assert rec.runner_up == ordered.index[1]
    assert rec.margin_usd == pytest.approx(ordered.iloc[1] - ordered.iloc[0])
    # The sentence states the view and equal service, and never names another
    # strategy as cheapest.
    assert f"{view} view" in rec.sentence
    assert "equal service" in rec.sentence
    assert rec.sentence.startswith(f"{lowest} is cheapest")


def test_no_strategy_that_leaves_work_is_called_cheapest_without_saying_so():
    for name in ("department", "consortium", "grant", "lisa"):
        evaluation = tco.evaluate(load_preset(name))
        summary = evaluation.summary.set_index("strategy")
        for rec in verdict.recommendations(evaluation).values():
            row = summary.loc[rec.strategy]
            if row["unserved_reference_hours"] > 0.5:
                assert "unserved" in rec.sentence
            if row["delayed_reference_hours"] > 0.5:
                assert "delays" in rec.sentence


@pytest.mark.parametrize("view", ["institution", "award"])
def test_the_late_work_cost_in_the_sentence_is_the_views(department, view):
    # The department's winner leaves work unserved; its cost differs by view
    # (F&A on the rented equivalent in the award view) and the sentence prints
    # the view's figure, with its CO2e counted as rented.
    rec = verdict.recommend(department, view)
    ledger = department.results[rec.strategy].ledger
    cost = sum(
        float(
            ledger.category_cost_usd(kind, view=view)[0] @ department.resolved.discount
        )
        for kind in ("delay", "unserved")
    )
    assert cost > 0
    assert verdict._money(cost) in rec.sentence
    assert "priced as renting the work instead" in rec.sentence
    assert "CO2e of renting the unserved work" in rec.sentence


def test_the_late_work_sentence_names_the_scenarios_own_costs():
    data = load_preset("department").model_dump(mode="json")
    data["service"] = {
        "delay_usd_per_reference_hour": 0.5,
        "unserved_usd_per_reference_hour": 9.0,
        "unserved_co2e_kg_per_reference_hour": 0.0,
    }
    evaluation = tco.evaluate(scenario_from_dict(data))
    summary = evaluation.summary.set_index("strategy")
    checked = 0
    for rec in verdict.recommendations(evaluation).values():
        if summary.loc[rec.strategy, "unserved_reference_hours"] > 0.5:
            checked += 1
            assert "the scenario's cost of late and unserved work" in rec.sentence
            assert "the scenario's figure" in rec.sentence
            assert "renting the work instead" not in rec.sentence
    assert checked  # the winner still leaves work unserved at these costs


def test_the_cloud_price_trend_is_disclosed_beside_the_verdict(department):
    rec = verdict.recommend(department, "institution")
    trend = department.resolved.offers()[0].offer.price_change_per_year
    assert f"{trend:+.1%}" in rec.sentence
    # The default trend is the catalog's fixed-SKU evidence, not an assumption.
    assert -0.10 < trend < 0.0
    assert any(
        "cloud price trend" in what for what, _ in department.resolved.assumptions
    )


def test_the_flat_price_check_says_when_the_answer_flips():
    scenario = load_preset("department")
    steep = replace(
        scenario,
        strategies=[
            s.model_dump()
            | ({"price_change_per_year": -0.35} if s.kind == "cloud" else {})
            for s in scenario.strategies
        ],
    )
    evaluation = tco.evaluate(steep)
    rec = verdict.recommend(evaluation, "institution")
    flat = tco.evaluate(verdict.flat_cloud_prices(steep))
    flat_best = flat.summary.set_index("strategy")["institution_npv_usd"].idxmin()
    assert rec.flat_cloud_price_strategy == flat_best
    if flat_best != rec.strategy:
        assert "flat" in rec.sentence
        assert any("flat" in item for item in rec.flips_if)


@pytest.mark.parametrize(
    ("preset", "view"),
    [("grant", "institution"), ("grant", "award"), ("lisa", "institution")],
)
def test_price_multiplier_ties_the_recommended_strategy_and_the_runner_up(preset, view):
    # In these presets the runner-up rents cloud and the winner does not (or
    # less), so a cloud price multiplier exists; at it the two cost the same.
    evaluation = tco.evaluate(load_preset(preset))
    rec = verdict.recommend(evaluation, view)
    assert rec.price_multiplier is not None
    resolved = evaluation.resolved

    def npv(name):
        strategy = resolved.strategy(name)
        levels, hours = tco.strategy_levels(strategy, resolved)
        ledger, _ = tco.strategy_ledger(
            strategy, resolved, levels, hours, price_multiplier=rec.price_multiplier
        )
        return float(ledger.cost_usd(view)[0] @ resolved.discount)

    assert npv(rec.strategy) == pytest.approx(npv(rec.runner_up), rel=1e-9)


def test_no_price_multiplier_when_neither_strategy_rents(department):
    # Department: the winner and the runner-up both own hardware; no cloud
    # price makes one overtake the other, and the answer says none.
    rec = verdict.recommend(department, "institution")
    assert rec.price_multiplier is None
    assert not any("price" in item for item in rec.flips_if)


def test_spot_is_labelled_as_interruptible():
    evaluation = tco.evaluate(load_preset("lisa"))
    rec = verdict.recommend(evaluation, "institution")
    assert rec.strategy == "P100 pre-emptible (paper)"
    assert "interruptible" in rec.sentence


def test_quick_compare_peak_to_mean_changes_the_owned_size_and_cost():
    results = {}
    for peak in (1.0, 6.0):
        scenario = quick_scenario(QuickCompare(peak_to_mean=peak, demand_value=40.0))
        summary = tco.evaluate(scenario).summary.set_index("strategy")
        owned = summary[summary["kind"] == "onprem"].iloc[0]
        results[peak] = (owned["servers"], owned["npv_usd"])
    assert results[1.0][0] != results[6.0][0]
    assert results[1.0][1] != pytest.approx(results[6.0][1], rel=1e-3)


def test_sized_servers_are_the_cheapest_whole_count_at_equal_service():
    scenario = quick_scenario(QuickCompare(peak_to_mean=2.5, demand_value=40.0))
    evaluation = tco.evaluate(scenario)
    row = evaluation.summary[evaluation.summary["kind"] == "onprem"].iloc[0]
    chosen = int(row["servers"])
    assert row["servers_sized"]
    data = scenario.model_dump(mode="json")
    for count in (chosen - 1, chosen + 1):
        if count < 1:
            continue
        data["strategies"][-1]["servers"] = count
        other = tco.evaluate(type(scenario).model_validate(data)).summary
        npv = float(other[other["kind"] == "onprem"]["npv_usd"].iloc[0])
        assert npv >= row["npv_usd"] * (1 - 1e-12)


def test_lisa_still_reproduces_strubell_section_5():
    evaluation = tco.evaluate(load_preset("lisa"))
    summary = evaluation.summary.set_index("strategy")
    assert summary.loc["7.25 servers, hardware only (paper)", "npv_usd"] == (
        pytest.approx(145_000.0, abs=0.01)
    )
    assert summary.loc["P100 on-demand (paper)", "npv_usd"] == pytest.approx(
        350_315.32, abs=0.01
    )
    ratios = breakeven.premiums_and_ratios(evaluation)
    assert round(ratios["P100 on-demand (paper)"]["cost_ratio"], 2) == 2.42


def test_grant_award_view_charges_fa_on_staff_and_support_and_takes_no_resale():
    scenario = load_preset("grant")
    evaluation = tco.evaluate(scenario)
    table = evaluation.table
    owned = table[table["strategy"] == "Buy 1x 8xA100-80GB as equipment"]
    fa = owned[owned["category"] == "indirect_costs"]
    rate = scenario.institution.indirect_cost_rate
    # 2 CFR 200.1: salaries and services (support contracts) are in MTDC ...
    for base in ("staff", "support"):
        charged = fa[fa["fa_base"] == base]["cost_usd"].sum()
        direct = owned[owned["category"] == base]["cost_usd"].sum()
        assert direct > 0
        assert charged == pytest.approx(rate * direct)
    # ... equipment (at or above the $10,000 threshold) is not.
    assert fa[fa["fa_base"] == "capex"].empty
    # 2 CFR 200.313(e): no resale credit to the award; the institution view has it.
    salvage = owned[owned["category"] == "salvage"]["discounted_cost_usd"].sum()
    assert salvage < 0
    award = tco.view_table(owned, "award")
    assert award[award["category"] == "salvage"]["cost_usd"].eq(0).all()
    institution = tco.view_table(owned, "institution")
    assert (
        institution[institution["category"] == "indirect_costs"]["cost_usd"].eq(0).all()
    )


def test_shared_cluster_recharge_bears_fa_on_the_award():
    # 2 CFR 200.468: a service centre's recharge is a service, in MTDC.
    scenario = load_preset("consortium")
    table = tco.evaluate(scenario).table
    shared = table[table["strategy"] == "Shared 4x 8xH100 (three departments)"]
    recharge = shared[shared["category"] == "recharge"]["cost_usd"].sum()
    fa = shared[
        (shared["category"] == "indirect_costs") & (shared["fa_base"] == "recharge")
    ]
    assert recharge > 0
    assert fa["cost_usd"].sum() == pytest.approx(
        recharge * scenario.institution.indirect_cost_rate
    )


def test_budget_is_nominal_per_period_with_fa_as_its_own_lines():
    scenario = load_preset("grant")
    evaluation = tco.evaluate(scenario)
    budget = budget_table(evaluation, "award")
    assert set(budget["budget_period"]) <= set(range(1, scenario.horizon_years + 1))
    growth = (1 + scenario.budget_escalation_per_year) ** (
        budget["calendar_year"] - scenario.currency_year
    )
    np.testing.assert_allclose(budget["nominal_usd"], budget["real_usd"] * growth)
    # Every award-view cash flow lands in one budget period: the real total is
    # the award view's undiscounted cash.
    summary = evaluation.summary.set_index("strategy")
    for name, rows in budget.groupby("strategy"):
        assert rows["real_usd"].sum() == pytest.approx(
            summary.loc[name, "award_undiscounted_usd"]
        )
    fa = budget[budget["category"] == "indirect_costs"]
    assert (fa["fa_rate"] > 0).all()
    # The equipment purchase opens budget period 1.
    owned = budget[(budget["strategy"] == "Buy 1x 8xA100-80GB as equipment")]
    assert owned[owned["category"] == "capex"]["budget_period"].tolist() == [1]


def test_evaluate_json_has_the_verdict_contract(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/department.yaml"))
    status = cli.main(["evaluate", path, "--format", "json"])
    out, _ = capsys.readouterr()
    assert status == 0
    payload = json.loads(out)
    assert payload["views"] == ["institution", "award"]
    for view in payload["views"]:
        rec = payload["recommendation"][view]
        assert {
            "view",
            "strategy",
            "runner_up",
            "margin_usd",
            "sentence",
            "flips_if",
        } <= set(rec)
        lowest = min(s["views"][view]["npv_usd"] for s in payload["strategies"])
        chosen = next(s for s in payload["strategies"] if s["name"] == rec["strategy"])
        assert chosen["views"][view]["npv_usd"] == pytest.approx(lowest)
    for strategy in payload["strategies"]:
        assert {
            "views",
            "cloud_premium",
            "cost_ratio",
            "budget",
            "total_nominal_usd",
        } <= set(strategy)
        assert set(strategy["views"]) == {"institution", "award"}
    clouds = [s for s in payload["strategies"] if s["kind"] == "cloud"]
    assert all(s["cost_ratio"] is not None for s in clouds)
    assert payload["assumptions"]


def test_markdown_and_json_agree_on_the_recommendation(department):
    breaks = breakeven.break_even_table(department.scenario, evaluation=department)
    payload = report.evaluation_payload(department, breaks)
    text = report.markdown_report(department, breaks)
    assert payload["recommendation"]["institution"]["sentence"] in text


def test_markdown_report_names_the_recommendation_and_every_source(department):
    """The Markdown report's headline strategy is the verdict's, and its
    Sources list each looked-up value's own source (not one generic line)."""
    breaks = breakeven.break_even_table(department.scenario, evaluation=department)
    text = report.markdown_report(department, breaks)
    chosen = verdict.recommendations(department)[department.view].strategy
    assert f"view, **{chosen}**, is $" in text
    sources = text.split("## Sources", 1)[1]
    table = assumptions_table(department)
    for what, source in zip(table["what"], table["source"], strict=True):
        assert f"- {what}: {source}" in sources
