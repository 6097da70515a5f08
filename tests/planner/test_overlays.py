"""Your own quote replaces any default, in every answer (README promise).

A half-price H100 server, given as a catalog overlay (in the scenario or on the
command line) or typed inline in the scenario, must change what evaluate,
optimise and pool answer, and be marked as the user's in the assumptions.
"""

import json
from pathlib import Path

import pytest

from planner import cli, optimise, pooling, tco, verdict
from planner.overlays import scenario_catalog
from planner.quick import QuickCompare, cloud_offers_for_server, quick_scenario
from planner.quick_hybrid import quick_scenario_with_hybrid
from planner.reference import strubell2019
from planner.resolve import ResolutionError
from planner.scenario import load_preset, scenario_from_dict, scenario_to_yaml
from pricing.catalog import Catalog, CatalogError

DATA = Path(__file__).parents[2] / "pricing" / "data"


def half_price_quote(folder: Path) -> Path:
    lines = (DATA / "servers.csv").read_text().splitlines()
    header = lines[0]
    row = next(line for line in lines if line.startswith("8xH100-SXM,"))
    quoted = row.replace(",308000,estimate,", ",154000,quote,")
    assert quoted != row
    path = folder / "quote.csv"
    path.write_text(header + "\n" + quoted + "\n")
    return path


def owned_npv(payload):
    return {s["name"]: s["npv_usd"] for s in payload["strategies"]}


@pytest.fixture
def department_file(tmp_path):
    path = tmp_path / "department.yaml"
    path.write_text(scenario_to_yaml(load_preset("department")))
    return path


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_an_overlay_on_the_command_line_reaches_evaluate_optimise_and_pool(
    capsys, tmp_path, department_file
):
    quote = half_price_quote(tmp_path)
    _, before, _ = run(capsys, "evaluate", department_file, "--format", "json")
    _, after, _ = run(
        capsys, "evaluate", department_file, "--overlay", quote, "--format", "json"
    )
    before, after = owned_npv(json.loads(before)), owned_npv(json.loads(after))
    owned = "1x 8xH100 + AWS burst"
    assert after[owned] < before[owned]
    assert after["AWS p5 on-demand"] == pytest.approx(before["AWS p5 on-demand"])
    _, plain, _ = run(capsys, "optimise", department_file, "--format", "json")
    _, quoted, _ = run(
        capsys, "optimise", department_file, "--overlay", quote, "--format", "json"
    )
    assert json.loads(quoted)["npv_usd"] < json.loads(plain)["npv_usd"]
    _, plain, _ = run(capsys, "pool", department_file, "--format", "json")
    _, quoted, _ = run(
        capsys, "pool", department_file, "--overlay", quote, "--format", "json"
    )
    plain_cost = json.loads(plain)["grand_coalition_cost_usd"]
    assert json.loads(quoted)["grand_coalition_cost_usd"] <= plain_cost


def test_an_overlay_named_by_the_scenario_is_read_beside_it(tmp_path):
    quote = half_price_quote(tmp_path)
    data = load_preset("department").model_dump(mode="json")
    data["catalog_overlays"] = [quote.name]
    scenario = scenario_from_dict(data)
    catalog = scenario_catalog(scenario, base_dir=tmp_path)
    evaluation = tco.evaluate(scenario, catalog=catalog)
    plain = tco.evaluate(load_preset("department"))
    name = "1x 8xH100 + AWS burst"
    quoted_npv = evaluation.summary.set_index("strategy").loc[name, "npv_usd"]
    plain_npv = plain.summary.set_index("strategy").loc[name, "npv_usd"]
    assert quoted_npv < plain_npv
    assert any(
        "your overlay" in source for _, source in evaluation.resolved.assumptions
    )
    # Priced without the overlays it names, the scenario is refused, not
    # silently priced with the shipped data.
    with pytest.raises(ResolutionError, match="catalog_overlays"):
        tco.evaluate(scenario)


def test_an_overlay_path_may_not_leave_the_scenario_folder(tmp_path):
    data = load_preset("department").model_dump(mode="json")
    data["catalog_overlays"] = ["../../etc/passwd"]
    scenario = scenario_from_dict(data)
    with pytest.raises(CatalogError, match="outside the scenario's folder"):
        scenario_catalog(scenario, base_dir=tmp_path)
    with pytest.raises(CatalogError, match="without a file"):
        scenario_catalog(scenario, base_dir=None)


def test_an_inline_server_quote_is_priced_and_optimised():
    data = load_preset("grant").model_dump(mode="json")
    data["strategies"][3]["server"] = {
        "name": "vendor 8x H200 quote",
        "accelerator_model": "H200-141GB",
        "accelerators_per_server": 8,
        "server_price_usd": 250_000.0,
        "idle_power_w": 1_500.0,
        "max_power_w": 9_800.0,
    }
    data["strategies"][3]["name"] = "Buy the vendor quote"
    scenario = scenario_from_dict(data)
    evaluation = tco.evaluate(scenario)
    table = evaluation.table
    capex = table[
        (table["strategy"] == "Buy the vendor quote") & (table["category"] == "capex")
    ]
    # The quote's price with the default integration overhead (Cottier et al. 2024).
    assert capex["cost_usd"].iloc[0] == pytest.approx(250_000.0 * 1.23)
    plan = optimise.optimise(scenario)
    assert plan.options_considered["server_specs"] == ["vendor 8x H200 quote"]
    sources = dict(evaluation.resolved.assumptions)
    assert "user_supplied" in sources["Buy the vendor quote"]


def test_a_cpu_cluster_outside_the_catalog_needs_its_throughput():
    data = load_preset("grant").model_dump(mode="json")
    data["strategies"][3]["server"] = {
        "name": "CPU node",
        "accelerators_per_server": 1,
        "server_price_usd": 20_000.0,
        "idle_power_w": 200.0,
        "max_power_w": 600.0,
    }
    from planner.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="relative_throughput"):
        scenario_from_dict(data)
    data["strategies"][3]["server"]["relative_throughput"] = 0.05
    scenario = scenario_from_dict(data)
    summary = tco.evaluate(scenario).summary.set_index("strategy")
    assert summary.loc[data["strategies"][3]["name"], "npv_usd"] > 0


def test_a_pool_prices_the_quote_too(tmp_path):
    quote = half_price_quote(tmp_path)
    scenario = load_preset("consortium")
    catalog = scenario_catalog(scenario, base_dir=tmp_path, extra_files=[quote])
    name = "Shared 4x 8xH100 (three departments)"
    plain = pooling.consortium_game(scenario, name)
    quoted = pooling.consortium_game(scenario, name, catalog=catalog)
    assert quoted.grand_coalition_cost_usd < plain.grand_coalition_cost_usd


# The app's session catalog reaches every library call it makes -------------------

CLOUD_HEADER = (DATA / "cloud_prices.csv").read_text().splitlines()[0]


def campus_offer_catalog():
    """A cloud_prices overlay adding an on-site H100 node (a recharge rate)."""
    row = (
        "campus,on-site,gpu-node-8x,H100,H100-80GB-SXM5,8,80,128,2048,12.50,,2026,"
        "internal recharge rate sheet 2026,2026-01-15,,test fixture"
    )
    return Catalog().with_overlay(
        "cloud_prices", CLOUD_HEADER + "\n" + row + "\n", label="campus.csv"
    )


def test_quick_compare_offers_and_prices_an_offer_an_overlay_adds():
    mine = campus_offer_catalog()
    offer = ("campus", "on-site", "gpu-node-8x")
    assert offer not in cloud_offers_for_server("8xH100-SXM")
    assert offer in cloud_offers_for_server("8xH100-SXM", catalog=mine)
    inputs = QuickCompare(provider="campus", region="on-site", instance_type=offer[2])
    with pytest.raises(LookupError):
        quick_scenario(inputs)
    scenario = quick_scenario_with_hybrid(inputs, catalog=mine)
    evaluation = tco.evaluate(scenario, catalog=mine)
    on_demand = evaluation.resolved.strategy(scenario.strategies[0].name)
    # 12.50 USD an hour for 8 GPUs, in 2026 dollars (CPI to the scenario's year).
    price = on_demand.offer.on_demand_usd_per_accelerator_hour
    assert price == pytest.approx(12.50 / 8, rel=0.05)
    assert on_demand.offer.provider == "campus"


def test_a_recommendation_reevaluates_flat_prices_with_the_evaluations_catalog(
    tmp_path,
):
    # A server only the overlay has: pricing the flat-price check with the
    # shipped catalog would not find it.
    lines = half_price_quote(tmp_path).read_text().splitlines()
    quote = lines[1].replace("8xH100-SXM,", "8xH100-quoted,", 1)
    mine = Catalog().with_overlay(
        "servers", lines[0] + "\n" + quote + "\n", label="quote.csv"
    )
    data = load_preset("department").model_dump(mode="json")
    for strategy in data["strategies"]:
        if strategy.get("server") == "8xH100-SXM":
            strategy["server"] = "8xH100-quoted"
    evaluation = tco.evaluate(scenario_from_dict(data), catalog=mine)
    assert any(t != 0 for t in verdict._cloud_trends(evaluation))
    alone = verdict.recommend(evaluation, "institution")
    assert alone == verdict.recommendations(evaluation)["institution"]


def test_strubell_today_is_priced_with_the_catalog_given():
    model = str(strubell2019.rates().loc["V100", "catalog_accelerator_model"])
    row = (
        f"campus,on-site,v100-node,V100,{model},8,16,64,512,0.80,0.40,2026,"
        "internal recharge rate sheet 2026,2026-01-15,,test fixture"
    )
    mine = Catalog().with_overlay(
        "cloud_prices", CLOUD_HEADER + "\n" + row + "\n", label="campus.csv"
    )
    shipped = strubell2019.rates_today().loc["V100"]
    rates = strubell2019.rates_today(catalog=mine).loc["V100"]
    assert rates["on_demand_usd_per_chip_hour"] == pytest.approx(0.10)
    assert rates["on_demand_usd_per_chip_hour"] < shipped["on_demand_usd_per_chip_hour"]
    assert rates["on_demand_offer"] == "campus on-site v100-node"
    today = strubell2019.table3_today(catalog=mine)
    assert (
        today["today_high_usd"] <= strubell2019.table3_today()["today_high_usd"]
    ).all()
