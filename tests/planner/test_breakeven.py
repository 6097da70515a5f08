"""Break-even utilisation, year and premium against the methods notes' worked values."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import breakeven, tco
from planner.scenario import load_scenario
from tests.planner.conftest import owned_and_cloud, screening_scenario

# Methods notes 1.2, worked values (capex $30k/GPU, L = 5, phi = 10 %, m =
# $0.091/GPU-h), printed to three decimals: tolerance half a unit of the last digit.
METHODS_1_2 = [
    # (k, r, F&A on cloud, u*)
    (2, 0.0, 0.0, 0.803),
    (3, 0.0, 0.0, 0.523),
    (4, 0.0, 0.0, 0.388),
    (2, 0.05, 0.0, 0.886),
    (3, 0.05, 0.0, 0.577),
    (4, 0.05, 0.0, 0.428),
    (1.5, 0.05, 0.55, 0.755),
    (2, 0.05, 0.55, 0.558),
    (3, 0.05, 0.55, 0.366),
    (4, 0.05, 0.55, 0.273),
]


@pytest.mark.parametrize(("k", "rate", "fa", "expected"), METHODS_1_2)
def test_break_even_utilisation_matches_methods_table(k, rate, fa, expected):
    scenario = screening_scenario(cloud_multiple=k, rate=rate, indirect=fa)
    resolved, own, rent = owned_and_cloud(scenario)
    u, status = breakeven.break_even_utilisation(
        resolved, own, rent, view=scenario.view
    )
    assert status == "crosses"
    assert u == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_k_one_and_a_half_never_buys(rate):
    # Methods notes 1.2: k = 1.5 without F&A gives u* > 1 ("never buy").
    scenario = screening_scenario(cloud_multiple=1.5, rate=rate)
    resolved, own, rent = owned_and_cloud(scenario)
    result = breakeven.break_even_utilisation(resolved, own, rent, view="institution")
    assert result == (None, "never")


def test_naive_fifty_percent_without_opex_or_discounting():
    # Methods notes 1.2: "Cloud = 2x hardware", r = 0, phi = 0, m = 0 -> u* = 50 %.
    scenario = screening_scenario(cloud_multiple=2, phi=0.0, energy=False)
    resolved, own, rent = owned_and_cloud(scenario)
    u, _ = breakeven.break_even_utilisation(resolved, own, rent, view="institution")
    assert u == pytest.approx(0.5, abs=1e-9)
    result = breakeven.break_even(scenario, "own", "rent")
    # Before opex, break-even utilisation = 1 / premium (DESIGN.md), and the
    # premium is Cottier et al. 2024's: cloud price over amortised hardware.
    assert result.cloud_premium == pytest.approx(2.0, rel=1e-9)


# Methods notes 1.3 worked example: capex $45k/GPU all-in, r = 5 %, phi = 10 %.
METHODS_1_3 = [
    (2.50, 0.0, 0.71),
    (2.50, 0.55, 0.45),
    (4.90, 0.0, 0.35),
    (6.90, 0.0, 0.25),
    (12.3, 0.0, 0.14),
]


@pytest.mark.parametrize(("price", "fa", "expected"), METHODS_1_3)
def test_methods_1_3_on_prem_versus_on_demand(price, fa, expected):
    scenario = screening_scenario(
        capex_per_gpu_usd=45_000.0, cloud_usd_per_gpu_hour=price, rate=0.05, indirect=fa
    )
    resolved, own, rent = owned_and_cloud(scenario)
    u, _ = breakeven.break_even_utilisation(resolved, own, rent, view=scenario.view)
    assert u == pytest.approx(expected, abs=5e-3)  # printed to two decimals


def _with_commitment(fa):
    committed = {
        "kind": "cloud",
        "name": "reserved",
        "accelerator_model": "H100-80GB-SXM5",
        "usd_per_accelerator_hour": 2.50,
        "relative_throughput": 1.0,
        "price_change_per_year": 0.0,
        "purchase": "committed_1y",
        "commitment_discount": 0.4,
        "committed_accelerators": 8,
        "grid_co2e_g_per_kwh": 400.0,
        "pue": 1.1,
    }
    return screening_scenario(
        capex_per_gpu_usd=45_000.0,
        cloud_usd_per_gpu_hour=2.50,
        rate=0.05,
        indirect=fa,
        extra_strategies=(committed,),
    )


def test_reserved_beats_on_prem_at_every_use_without_fa():
    # Methods notes 1.3: p_od = $2.50, no F&A: "reserved always cheaper".
    scenario = _with_commitment(0.0)
    resolved, own, reserved = owned_and_cloud(scenario, 0, 2)
    result = breakeven.break_even_utilisation(
        resolved, own, reserved, view=scenario.view
    )
    assert result == (None, "never")


def test_on_prem_dominates_reserved_with_fa():
    # Methods notes 1.3: p_od = $2.50 with 55 % F&A: "on-prem dominates reserved".
    scenario = _with_commitment(0.55)
    resolved, own, reserved = owned_and_cloud(scenario, 0, 2)
    result = breakeven.break_even_utilisation(
        resolved, own, reserved, view=scenario.view
    )
    assert result == (None, "always")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.floats(1.7, 8.0),
    rate=st.floats(0.0, 0.1),
    fa=st.sampled_from([0.0, 0.3, 0.55]),
)
def test_npvs_agree_at_the_reported_break_even(k, rate, fa):
    scenario = screening_scenario(cloud_multiple=k, rate=rate, indirect=fa)
    resolved, own, rent = owned_and_cloud(scenario)
    view = scenario.view
    u, status = breakeven.break_even_utilisation(resolved, own, rent, view=view)
    if status != "crosses":
        return
    capacity = 8.0
    levels = np.full((1, scenario.horizon_years, 1), u * capacity)
    hours = np.array([8760.0])
    owned = breakeven.npv_batch_usd(own, resolved, levels, hours, view=view)[0]
    rented = breakeven.npv_batch_usd(rent, resolved, levels, hours, view=view)[0]
    assert rented == pytest.approx(owned, rel=1e-6)


@settings(max_examples=20, deadline=None)
@given(k=st.floats(1.5, 6.0), rate=st.floats(0.0, 0.1))
def test_onprem_cost_per_delivered_hour_falls_with_utilisation(k, rate):
    scenario = screening_scenario(cloud_multiple=k, rate=rate)
    resolved, own, rent = owned_and_cloud(scenario)
    sweep = breakeven.utilisation_sweep(
        resolved, own, rent, view="institution", points=21
    ).iloc[1:]
    per_hour = sweep["npv_onprem_usd"] / sweep["utilisation"]
    assert (np.diff(per_hour.to_numpy()) <= 1e-9).all()


def test_break_even_year_is_never_an_answer_not_nan(screening):
    scenario = screening(cloud_multiple=1.2, rate=0.05)
    result = breakeven.break_even(scenario, "own", "rent")
    assert result.year is None
    assert "never" in result.explanation
    assert result.utilisation is None
    assert result.utilisation_status == "never"


def test_price_multiplier_ties_the_npvs(screening):
    scenario = screening(cloud_multiple=3.0, rate=0.03, demand_hours=50_000.0)
    result = breakeven.break_even(scenario, "own", "rent")
    assert result.price_multiplier is not None
    scaled = screening(
        cloud_multiple=3.0 * result.price_multiplier, rate=0.03, demand_hours=50_000.0
    )
    summary = tco.evaluate(scaled).summary.set_index("strategy")
    assert summary.loc["rent", "npv_usd"] == pytest.approx(
        summary.loc["own", "npv_usd"], rel=1e-9
    )


def test_lisa_preset_reproduces_the_papers_ratio():
    # Strubell et al. 2019 section 5: $350,315 on-demand vs $145,000 = 2.42x;
    # pre-emptible $103,175 = 0.71x (strubell2019.md 1.6).
    from importlib import resources

    path = resources.files("planner").joinpath("presets/lisa.yaml")
    scenario = load_scenario(str(path))
    evaluation = tco.evaluate(scenario)
    summary = evaluation.summary.set_index("strategy")
    assert summary.loc["P100 on-demand (paper)", "npv_usd"] == pytest.approx(
        350_315.32, abs=0.01
    )
    assert summary.loc["P100 pre-emptible (paper)", "npv_usd"] == pytest.approx(
        103_175.06, abs=0.01
    )
    assert summary.loc["7.25 servers, hardware only (paper)", "npv_usd"] == (
        pytest.approx(145_000.0, abs=0.01)
    )
    results = {
        (b.onprem, b.cloud): b
        for b in breakeven.break_even_table(scenario, evaluation=evaluation)
    }
    paper = results[("7.25 servers, hardware only (paper)", "P100 on-demand (paper)")]
    assert round(paper.cost_ratio, 2) == 2.42
    spot = results[("7.25 servers, hardware only (paper)", "P100 pre-emptible (paper)")]
    assert round(spot.cost_ratio, 2) == 0.71
