"""Multi-year TCO: oracles, conservation, limits and wiring of every strategy."""

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import costing, tco
from planner.resolve import resolve, resolve_server
from planner.scenario import (
    load_preset,
    replace,
    scenario_from_dict,
)
from pricing import catalog
from pricing.units import HOURS_PER_YEAR
from tests.planner.conftest import screening_scenario

preset = load_preset


@pytest.fixture(scope="module")
def department():
    scenario = preset("department")
    return scenario, tco.evaluate(scenario)


def test_table_is_tidy_with_unit_columns(department):
    _, evaluation = department
    assert tuple(evaluation.table.columns) == tco.COST_COLUMNS
    assert evaluation.table["year"].between(0, 10).all()
    assert set(evaluation.table["payer"]) <= {
        "project",
        "institution",
        "provider",
        "service",
        "service_award",
    }


@pytest.mark.parametrize("view", ["institution", "award"])
def test_npv_matches_numpy_financial(department, view):
    scenario, evaluation = department
    table = tco.view_table(evaluation.table, view)
    yearly = table.groupby(["strategy", "year"])["cost_usd"].sum()
    for row in evaluation.summary.to_dict("records"):
        flows = yearly.loc[row["strategy"]].to_numpy()
        assert row[f"{view}_npv_usd"] == pytest.approx(
            npf.npv(scenario.real_discount_rate, flows), rel=1e-12
        )


def test_eac_is_npv_times_crf(department):
    scenario, evaluation = department
    r, n = scenario.real_discount_rate, scenario.horizon_years
    crf = r / (1 - (1 + r) ** -n)
    for row in evaluation.summary.itertuples():
        assert row.equivalent_annual_cost_usd == pytest.approx(row.npv_usd * crf)


def test_zero_discount_rate_discounted_equals_nominal():
    scenario = replace(preset("department"), real_discount_rate=0.0)
    table = tco.tco_table(scenario)
    assert table["discounted_cost_usd"].to_numpy() == pytest.approx(
        table["cost_usd"].to_numpy()
    )


def test_on_demand_cloud_cost_is_hours_times_price():
    # 20,000 reference hours at the offer's price, no F&A, no trend, no storage.
    scenario = screening_scenario(cloud_usd_per_gpu_hour=2.0, demand_hours=20_000.0)
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    assert summary.loc["rent", "undiscounted_real_usd"] == pytest.approx(
        5 * 20_000 * 2.0
    )


def test_p5_price_per_accelerator_hour_comes_from_the_catalog():
    offer = catalog.cloud_offer("aws", "us-east-1", "p5.48xlarge")
    resolved = resolve(preset("department")).strategies[0]
    assert resolved.offer.on_demand_usd_per_accelerator_hour == pytest.approx(
        offer["on_demand_usd_per_hour"] / 8
    )
    assert resolved.offer.accelerators_per_instance == 8


@settings(max_examples=25, deadline=None)
@given(
    p1=st.floats(0.5, 20),
    p2=st.floats(0.5, 20),
    h1=st.floats(0, 1e5),
    h2=st.floats(0, 1e5),
)
def test_cloud_cost_is_monotone_in_price_and_demand(p1, p2, h1, h2):
    def npv(price, hours):
        scenario = screening_scenario(
            cloud_usd_per_gpu_hour=price, demand_hours=hours, rate=0.03, indirect=0.55
        )
        return (
            tco.evaluate(scenario).summary.set_index("strategy").loc["rent", "npv_usd"]
        )

    low_p, high_p = sorted((p1, p2))
    low_h, high_h = sorted((h1, h2))
    assert npv(low_p, high_h) <= npv(high_p, high_h) + 1e-6
    assert npv(high_p, low_h) <= npv(high_p, high_h) + 1e-6


def _hybrid_scenario(servers):
    base = screening_scenario(rate=0.03, indirect=0.55, demand_hours=30_000.0)
    data = base.model_dump(mode="json")
    onprem = data["strategies"][0]
    cloud = data["strategies"][1]
    onprem_with = dict(onprem, servers=servers)
    hybrid = dict(
        onprem_with, kind="hybrid", name="hybrid", burst=cloud, overflow="burst"
    )
    data["strategies"] = [onprem_with, cloud, hybrid]
    data["demand"]["shape"] = {"kind": "synthetic", "peak_to_mean": 3.0}
    return scenario_from_dict(data)


def test_hybrid_with_no_servers_is_all_cloud():
    summary = tco.evaluate(_hybrid_scenario(0)).summary.set_index("strategy")
    assert summary.loc["hybrid", "npv_usd"] == pytest.approx(
        summary.loc["rent", "npv_usd"], rel=1e-12
    )
    assert summary.loc["hybrid", "co2e_kg"] == pytest.approx(
        summary.loc["rent", "co2e_kg"], rel=1e-12
    )


def test_hybrid_above_the_peak_is_all_onprem():
    # 30,000 h/year with peak 3x the mean: a peak of ~10 GPUs; 2 servers = 16.
    summary = tco.evaluate(_hybrid_scenario(2)).summary.set_index("strategy")
    assert summary.loc["hybrid", "npv_usd"] == pytest.approx(
        summary.loc["own", "npv_usd"], rel=1e-12
    )
    assert summary.loc["own", "unserved_reference_hours"] == 0.0


def test_hybrid_sends_exactly_the_overflow_to_the_cloud():
    scenario = _hybrid_scenario(1)
    evaluation = tco.evaluate(scenario)
    dispatch = evaluation.results["hybrid"].dispatch
    demand = tco.scenario_demand(scenario).levels
    overflow = np.clip(demand - 8.0, 0.0, None).sum(axis=1)  # 8 GPUs, availability 1
    assert dispatch.cloud[0] == pytest.approx(overflow)
    total = dispatch.owned[0] + dispatch.cloud[0]
    assert total == pytest.approx(demand.sum(axis=1))  # conservation of work


def test_onprem_energy_follows_the_linear_power_curve():
    # 8 GPUs at 700 W, idle 0: energy = work x 0.7 kW x PUE 1.3.
    scenario = screening_scenario(demand_hours=20_000.0)
    table = tco.tco_table(scenario)
    rows = table[(table["strategy"] == "own") & (table["category"] == "electricity")]
    assert rows["energy_kwh"].sum() == pytest.approx(5 * 20_000 * 0.7 * 1.3)
    assert rows["cost_usd"].sum() == pytest.approx(5 * 20_000 * 0.091)


def test_waiting_overflow_is_served_later_or_reported_unserved():
    over = screening_scenario(demand_hours=8 * HOURS_PER_YEAR * 1.1)
    summary = tco.evaluate(over).summary.set_index("strategy")
    unserved = summary.loc["own", "unserved_reference_hours"]
    assert unserved == pytest.approx(5 * 8 * HOURS_PER_YEAR * 0.1)
    assert summary.loc["own", "utilisation"] == pytest.approx(1.0)
    # Equal service: the unserved work is priced at the default, the cheapest
    # on-demand price per reference hour (renting it instead), end of each year.
    price = resolve(over).service.unserved_usd_per_reference_hour
    assert price == pytest.approx(
        resolve(over).strategies[1].offer.on_demand_usd_per_accelerator_hour
    )
    assert summary.loc["own", "unserved_cost_usd"] == pytest.approx(
        5 * 8 * HOURS_PER_YEAR * 0.1 * price
    )


def test_unserved_work_emits_what_renting_it_would():
    # Equal service for CO2e as for money: the unserved hours carry the energy
    # and CO2e of the reference offer's on-demand hour (cloud_work_rates), so a
    # strategy cannot cut its footprint by leaving work undone.
    over = screening_scenario(demand_hours=8 * HOURS_PER_YEAR * 1.1)
    resolved = resolve(over)
    evaluation = tco.evaluate(over)
    table = evaluation.table
    unserved_rows = table[
        (table["strategy"] == "own") & (table["category"] == "unserved")
    ]
    hours = 5 * 8 * HOURS_PER_YEAR * 0.1
    rented = costing.cloud_work_rates(
        resolved.service.reference_offer, "on_demand", horizon=5
    )
    per_hour_kg = sum(line.co2e_kg for line in rented.lines if line.payer == "provider")
    per_hour_kwh = sum(
        line.energy_kwh for line in rented.lines if line.payer == "provider"
    )
    assert unserved_rows["co2e_kg"].sum() == pytest.approx(
        hours / 5 * per_hour_kg.sum()
    )
    assert unserved_rows["energy_kwh"].sum() == pytest.approx(
        hours / 5 * per_hour_kwh.sum()
    )
    assert unserved_rows["co2e_kg"].sum() > 0
    # A scenario's own figure replaces it (here: the work is simply not done).
    data = over.model_dump(mode="json")
    data["service"] = {"unserved_co2e_kg_per_reference_hour": 0.0}
    silent = tco.evaluate(scenario_from_dict(data)).table
    rows = silent[(silent["strategy"] == "own") & (silent["category"] == "unserved")]
    assert rows["co2e_kg"].sum() == 0.0
    assert rows["cost_usd"].sum() == pytest.approx(unserved_rows["cost_usd"].sum())


def test_an_offer_the_grid_and_pue_catalogs_do_not_place_is_warned_not_refused():
    # A quoted offer (overlay) of a provider and region the PUE and grid
    # catalogs do not know resolves at the world average grid and the
    # industry-average PUE, and says so beside the answer.
    header = (
        "provider,region,instance_type,accelerator,accelerator_model,"
        "accelerator_count,accelerator_memory_gb,vcpus,memory_gb,"
        "on_demand_usd_per_hour,spot_usd_per_hour,currency_year,source,"
        "source_date,quality_flag,notes"
    )
    row = (
        "acme,moon-1,a100x8,A100-80GB,A100-80GB-SXM4,8,80,240,1800,20,,2026,"
        "quote,2026-11,,"
    )
    mine = catalog.Catalog().with_overlay(
        "cloud_prices", f"{header}\n{row}\n", label="acme.csv"
    )
    data = load_preset("grant").model_dump(mode="json")
    data["strategies"] = [
        {
            "kind": "cloud",
            "name": "Acme",
            "provider": "acme",
            "region": "moon-1",
            "instance_type": "a100x8",
        }
    ]
    resolved = resolve(scenario_from_dict(data), mine)
    offer = resolved.strategy("Acme").offer
    assert offer.grid_co2e_g_per_kwh[0] == pytest.approx(445.0)  # IEA world 2024
    assert offer.pue == mine.pue("industry average (any data centre)")
    assert any("no grid intensity for acme moon-1" in w for w in resolved.warnings)
    assert any("no PUE for acme" in w for w in resolved.warnings)


def test_zero_demand_gives_finite_costs_and_no_cloud_bill():
    scenario = screening_scenario(demand_hours=0.0)
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    assert summary.loc["rent", "npv_usd"] == 0.0
    assert summary.loc["own", "npv_usd"] > 0
    assert np.isnan(summary.loc["own", "cost_per_reference_hour_usd"])


def test_horizon_shorter_than_life_credits_resale_at_the_end():
    data = screening_scenario(lifetime=5).model_dump(mode="json")
    data["horizon_years"] = 2
    data["strategies"][0]["salvage"] = "declining"
    data["strategies"][0]["annual_value_decline"] = 0.25
    scenario = scenario_from_dict(data)
    table = tco.tco_table(scenario)
    salvage = table[(table["strategy"] == "own") & (table["category"] == "salvage")]
    assert salvage.set_index("year").loc[2, "cost_usd"] == pytest.approx(
        -240_000 * 0.75**2
    )


def test_refresh_buys_again_at_end_of_life_at_the_trend_price():
    data = screening_scenario(lifetime=3).model_dump(mode="json")
    data["horizon_years"] = 6
    data["strategies"][0]["refresh"] = True
    data["strategies"][0]["capex_change_per_year"] = -0.25
    table = tco.tco_table(scenario_from_dict(data))
    capex = table[(table["strategy"] == "own") & (table["category"] == "capex")]
    by_year = capex.set_index("year")["cost_usd"]
    assert by_year[0] == pytest.approx(240_000)
    assert by_year[3] == pytest.approx(240_000 * 0.75**3)
    assert by_year.drop([0, 3]).eq(0).all()


def test_indirect_costs_apply_to_cloud_but_not_to_equipment():
    scenario = screening_scenario(indirect=0.55, cloud_usd_per_gpu_hour=2.0)
    table = tco.tco_table(scenario)
    fa = table[table["category"] == "indirect_costs"]
    assert set(fa["strategy"]) == {"rent"}
    assert fa["cost_usd"].sum() == pytest.approx(0.55 * 5 * 20_000 * 2.0)


def test_a_server_below_the_equipment_threshold_bears_fa():
    data = screening_scenario(indirect=0.55).model_dump(mode="json")
    data["strategies"][0]["server_price_usd"] = 9_000.0  # a supply under 2 CFR 200.1
    table = tco.tco_table(scenario_from_dict(data))
    fa = table[(table["strategy"] == "own") & (table["category"] == "indirect_costs")]
    assert fa["cost_usd"].sum() == pytest.approx(0.55 * 9_000.0)


def test_institution_paid_power_is_outside_the_award_view():
    data = screening_scenario().model_dump(mode="json")
    data["institution"]["power_paid_by"] = "institution"
    evaluation = tco.evaluate(scenario_from_dict(data))
    summary = evaluation.summary.set_index("strategy")
    table = evaluation.table
    power = table[(table["strategy"] == "own") & (table["category"] == "electricity")]
    difference = (
        summary.loc["own", "institution_npv_usd"] - summary.loc["own", "award_npv_usd"]
    )
    assert difference == pytest.approx(power["discounted_cost_usd"].sum())


def test_commitment_is_paid_in_whole_terms_only():
    data = screening_scenario().model_dump(mode="json")
    data["horizon_years"] = 4
    data["strategies"][0]["lifetime_years"] = 4
    data["strategies"][1] |= {
        "purchase": "committed_3y",
        "commitment_discount": 0.5,
        "committed_accelerators": 2,
    }
    table = tco.tco_table(scenario_from_dict(data))
    committed = table[table["category"] == "cloud_commitment_3y"]
    paid = committed.set_index("year")["cost_usd"]
    assert (paid.loc[1:3] > 0).all()
    assert paid.loc[4] == 0.0  # a second 3-year term would run past the horizon


def test_shared_cluster_charges_this_project_a_uniform_usage_rate():
    # 2 CFR 200.468: a service centre recovers its aggregate cost with a uniform
    # rate on usage; the project's part is its share of the discounted usage.
    scenario = preset("consortium")
    resolved = resolve(scenario)
    strategy = resolved.strategies[2]
    levels, hours = tco.strategy_levels(strategy, resolved)
    ledger, _ = tco.strategy_ledger(strategy, resolved, levels, hours)
    discount = resolved.discount
    whole = float(ledger.cash_cost_usd("institution")[0] @ discount)
    own = resolved.demand.yearly_reference_hours @ discount[1:]
    pooled = tco.served_reference_hours(levels, hours)[0] @ discount[1:]
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    assert summary.loc[strategy.name, "institution_cash_npv_usd"] == pytest.approx(
        whole * own / pooled
    )
    # The award pays the recharge and its F&A (a service, in MTDC).
    rate = scenario.institution.indirect_cost_rate
    assert summary.loc[strategy.name, "award_cash_npv_usd"] == pytest.approx(
        whole * own / pooled * (1 + rate)
    )


def test_unknown_catalog_keys_are_named():
    data = preset("grant").model_dump(mode="json")
    data["strategies"][3]["server"] = "8xH100-SMX"
    data["strategies"][0]["instance_type"] = "p4de.24xlarg"
    with pytest.raises(tco.ResolutionError) as error:
        tco.evaluate(scenario_from_dict(data))
    text = str(error.value)
    assert "8xH100-SMX" in text
    assert "8xH100-SXM" in text
    assert "p4de.24xlarg" in text


@pytest.mark.parametrize("method", ["straight_line", "declining_balance", "macrs_5"])
def test_depreciation_recovers_the_basis_and_never_adds_cash(method):
    data = screening_scenario(lifetime=5).model_dump(mode="json")
    data["strategies"][0]["depreciation"] = method
    scenario = scenario_from_dict(data)
    depreciation = tco.depreciation_table(scenario)
    assert depreciation["depreciation_usd"].sum() == pytest.approx(240_000.0)
    assert depreciation["book_value_usd"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    if method == "macrs_5":
        # IRS Publication 946 Table A-1: 20 % in the first tax year.
        assert depreciation["depreciation_usd"].iloc[0] == pytest.approx(48_000.0)
    table = tco.tco_table(scenario)
    own = table[table["strategy"] == "own"]
    # Cash: the purchase once; depreciation is not a category of the cash table.
    assert own[own["category"] == "capex"]["cost_usd"].sum() == pytest.approx(240_000)
    assert "depreciation" not in set(table["category"])


def test_catalog_prices_are_converted_to_the_scenario_currency_year():
    # 8xA100-80GB is priced in 2022 dollars; in 2024 dollars it is x CPI-U
    # 313.689 / 292.655 (BLS annual averages).
    data = screening_scenario().model_dump(mode="json")
    data["currency_year"] = 2024
    data["strategies"][0]["server"] = "8xA100-80GB"
    del data["strategies"][0]["server_price_usd"]
    scenario = scenario_from_dict(data)
    resolved = resolve_server(scenario.strategies[0], scenario, catalog.Catalog())
    row = catalog.server("8xA100-80GB")
    assert row["currency_year"] == 2022
    assert resolved.server_price_usd == pytest.approx(
        row["server_price_usd"] * 313.689 / 292.655
    )


EXAMPLES = __import__("pathlib").Path(__file__).parents[2] / "examples"
JOBLOGS = __import__("pathlib").Path(__file__).parents[1] / "data" / "joblogs"


def test_workload_demand_reports_the_queue_simulation_waits():
    from planner import joblog, queueing
    from planner.scenario import load_scenario

    scenario = load_scenario(EXAMPLES / "lisa_waits.yaml")
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    direct = queueing.simulate_queue(joblog.generate_workload(joblog.LISA_PRESET), 58)
    paper = summary.loc["58 GPUs (7.25 servers, the paper)"]
    assert paper["mean_wait_hours"] == pytest.approx(direct.mean_wait_hours)
    assert paper["p95_wait_hours"] == pytest.approx(direct.p95_wait_hours)
    bigger = summary.loc["112 GPUs (14 servers)"]
    assert bigger["mean_wait_hours"] < paper["mean_wait_hours"]
    assert summary.loc["P100 on-demand (paper)", "mean_wait_hours"] == 0.0
    # The amount stays the paper's 239,942 GPU-hours (Table 4).
    assert summary.loc["P100 on-demand (paper)", "npv_usd"] == pytest.approx(
        239_942 * 1.46
    )


def test_job_log_demand_takes_amount_and_shape_from_the_log(tmp_path):
    from planner import joblog
    from planner.scenario import load_scenario

    log = joblog.read_log(JOBLOGS / "generic.csv")
    hourly = joblog.hourly_concurrency_gpus(log)
    data = screening_scenario().model_dump(mode="json")
    data["demand"] = {
        "joblog": {"path": str(JOBLOGS / "generic.csv"), "relative_throughput": 2.0},
        "reference_accelerator": "H100-80GB-SXM5",
    }
    path = tmp_path / "s.yaml"
    from planner.scenario import scenario_to_yaml

    path.write_text(scenario_to_yaml(scenario_from_dict(data)))
    scenario = load_scenario(path, allow_outside_paths=True)
    profile = tco.scenario_demand(scenario)
    # Mean busy GPUs x 8,760 h x the logged GPUs' relative throughput.
    assert profile.first_year_reference_hours == pytest.approx(
        hourly.mean() * 8760 * 2.0
    )
    assert profile.levels[0].max() / profile.levels[0].mean() == pytest.approx(
        hourly.max() / hourly.mean()
    )


def test_relative_log_path_is_found_beside_the_scenario_file(tmp_path):
    from planner.scenario import load_scenario, scenario_to_yaml

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "jobs.csv").write_text((JOBLOGS / "generic.csv").read_text())
    data = screening_scenario().model_dump(mode="json")
    data["demand"] = {
        "joblog": {"path": "logs/jobs.csv"},
        "reference_accelerator": "H100-80GB-SXM5",
    }
    (tmp_path / "s.yaml").write_text(scenario_to_yaml(scenario_from_dict(data)))
    scenario = load_scenario(tmp_path / "s.yaml")
    assert scenario.demand.joblog.path == str(tmp_path / "logs" / "jobs.csv")
    assert tco.scenario_demand(scenario).first_year_reference_hours > 0


def test_missing_log_is_a_resolution_error_naming_the_file():
    data = screening_scenario().model_dump(mode="json")
    data["demand"] = {"joblog": {"path": "/nonexistent/jobs.csv"}}
    with pytest.raises(tco.ResolutionError, match=r"/nonexistent/jobs\.csv"):
        tco.evaluate(scenario_from_dict(data))


def test_log_and_workload_together_are_refused():
    from planner.scenario import ScenarioError

    data = screening_scenario().model_dump(mode="json")
    data["demand"] = {"joblog": {"path": "x.csv"}, "workload": "lisa"}
    with pytest.raises(ScenarioError, match="not both"):
        scenario_from_dict(data)


@pytest.mark.parametrize("name", ["department", "grant", "consortium", "lisa"])
def test_present_values_are_the_evaluations(name):
    """tco.present_values is evaluate's NPV columns, to the bit (one formula)."""
    scenario = load_preset(name)
    summary = tco.evaluate(scenario).summary
    values = tco.present_values(scenario)
    assert values["strategy"].tolist() == summary["strategy"].tolist()
    for view in ("institution", "award"):
        column = f"{view}_npv_usd"
        assert values[column].tolist() == summary[column].tolist()


def test_whole_instance_rounding_of_the_hybrids_burst_is_recomputed_by_hand():
    """The hybrid's burst paid in whole 8-GPU instances hour by hour (methods
    §6.2): ceil(overflow / 8 GPUs) x 8 each hour, from the hourly demand and the
    owned capacity, equals the engine's figure, and the warning names it."""
    evaluation = tco.evaluate(load_preset("department"))
    resolved = evaluation.resolved
    name = "1x 8xH100 + AWS burst"
    strategy = resolved.strategy(name)
    levels, hours = tco.strategy_levels(strategy, resolved)
    assert np.all(np.asarray(hours) == 1.0)  # one block per hour: exact
    dispatch = evaluation.results[name].dispatch
    capacity_per_hour = dispatch.capacity[0] / HOURS_PER_YEAR
    overflow = np.maximum(np.asarray(levels)[0] - capacity_per_hour[:, None], 0.0)
    offer = strategy.burst.offer
    gpus = overflow / offer.relative_throughput
    paid = np.ceil(gpus / offer.accelerators_per_instance - 1e-9)
    by_hand = (paid * offer.accelerators_per_instance * offer.relative_throughput).sum()
    row = evaluation.summary.set_index("strategy").loc[name]
    assert row["cloud_reference_hours"] == pytest.approx(overflow.sum(), rel=1e-12)
    assert row["cloud_whole_instance_reference_hours"] == pytest.approx(
        by_hand, rel=1e-12
    )
    factor = by_hand / overflow.sum()
    assert factor > 1.05
    assert any(
        line.startswith(f"{name}:") and f"{factor:.2f}x" in line
        for line in evaluation.warnings
    )


def test_owned_strategies_without_burst_rent_nothing_and_warn_nothing():
    evaluation = tco.evaluate(load_preset("department"))
    summary = evaluation.summary.set_index("strategy")
    owned = summary.loc["Buy 8xH100 servers (sized to the demand)"]
    assert owned["cloud_reference_hours"] == 0.0
    assert owned["cloud_whole_instance_reference_hours"] == 0.0
    assert not any(
        line.startswith("Buy 8xH100 servers") for line in evaluation.warnings
    )
    assert evaluation.warnings[: len(evaluation.resolved.warnings)] == (
        evaluation.resolved.warnings
    )
