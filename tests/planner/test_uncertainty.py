"""Uncertain inputs, sampling, the frozen plan, and the vectorised Monte Carlo."""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from planner import breakeven
from planner.scenario import load_scenario
from planner.tco import evaluate
from planner.uncertainty import batched, engine, sampling
from planner.uncertainty.distributions import (
    LogNormal,
    Normal,
    Pert,
    Triangular,
    support,
)
from planner.uncertainty.spec import (
    UncertaintyError,
    default_uncertainty,
    load_uncertainty,
    uncertainty_from_dict,
    uncertainty_to_yaml,
)

EXAMPLES = Path(__file__).parents[2] / "examples"

# Engine and batched path add the same flows in another order: agreement to
# 1e-9 relative is rounding, far below any reported digit.
RTOL = 1e-9


@pytest.fixture(scope="module")
def department():
    return load_scenario(EXAMPLES / "department.yaml")


@pytest.fixture(scope="module")
def prepared(department):
    return engine.prepare(department, default_uncertainty(department))


def spec_of(*inputs, **more):
    return uncertainty_from_dict({"inputs": list(inputs), **more})


def uniform(path, low, high):
    return {"path": path, "distribution": {"kind": "uniform", "low": low, "high": high}}


# --- distributions ----------------------------------------------------------------


def test_pert_mean_is_the_classical_weighted_mean():
    # Vose (2008) 9.1.1: mean = (a + 4m + b) / 6 for lambda = 4.
    pert = Pert(low=1.0, mode=2.0, high=6.0)
    assert float(pert.marginal().mean()) == pytest.approx((1 + 4 * 2 + 6) / 6)


def test_triangular_and_lognormal_match_their_definitions():
    tri = Triangular(low=0.0, mode=1.0, high=4.0).marginal()
    assert float(tri.cdf(1.0)) == pytest.approx(0.25)
    assert float(LogNormal(median=3.0, sigma=0.4).marginal().ppf(0.5)) == pytest.approx(
        3.0
    )


def test_truncated_normal_stays_in_its_range():
    low, high = support(Normal(mean=0.0, sd=1.0, low=-0.5, high=2.0))
    assert (low, high) == pytest.approx((-0.5, 2.0))


@pytest.mark.parametrize(
    ("distribution", "words"),
    [
        ({"kind": "uniform", "low": 2, "high": 1}, "low (2) is above high (1)"),
        (
            {"kind": "triangular", "low": 0, "mode": 3, "high": 2},
            "mode (3) must lie between",
        ),
        ({"kind": "pert", "low": 5, "mode": 5, "high": 1}, "low (5) is above high"),
        ({"kind": "normal", "mean": 0, "sd": -1}, "greater than 0"),
    ],
)
def test_bad_distributions_say_what_is_wrong(distribution, words):
    with pytest.raises(UncertaintyError) as error:
        spec_of({"path": "demand.growth_per_year", "distribution": distribution})
    assert words in str(error.value)


def test_a_negative_price_range_is_refused():
    with pytest.raises(UncertaintyError, match="cannot be negative"):
        spec_of(uniform("site.electricity_usd_per_kwh", -0.05, 0.2))
    with pytest.raises(UncertaintyError, match="cannot be negative"):
        spec_of(
            {
                "path": "strategies.3.server_price_usd",
                "distribution": {"kind": "normal", "mean": 3e5, "sd": 1e5},
            }
        )


def test_a_correlation_matrix_that_is_not_psd_is_refused():
    inputs = [uniform(p, 0, 1) for p in ("demand_multiplier", "a.b", "c.d")]
    pairs = [("demand_multiplier", "a.b", 0.9), ("a.b", "c.d", 0.9)]
    pairs.append(("demand_multiplier", "c.d", -0.9))
    with pytest.raises(UncertaintyError, match="not positive semi-definite"):
        spec_of(
            *inputs,
            correlations=[{"between": [a, b], "rho": r} for a, b, r in pairs],
        )


def test_a_factor_and_the_field_it_replaces_are_not_both_uncertain():
    with pytest.raises(UncertaintyError, match="cloud_price_trend replaces"):
        spec_of(
            uniform("cloud_price_trend", -0.1, 0.0),
            uniform("strategies.0.price_change_per_year", -0.1, 0.0),
        )


# --- the default preset and the example ---------------------------------------------


def test_the_example_file_is_the_department_default(department):
    assert load_uncertainty(EXAMPLES / "uncertainty.yaml") == default_uncertainty(
        department
    )


def test_the_default_cloud_trend_is_the_catalog_evidence(department):
    from pricing.history import cloud_price_trend

    trend = cloud_price_trend()
    item = default_uncertainty(department).inputs[0]
    assert item.path == "cloud_price_trend"
    assert item.distribution.mode == pytest.approx(trend.annual_change_real, abs=1e-4)
    assert item.distribution.low == pytest.approx(trend.low_real, abs=1e-4)
    assert item.distribution.high == pytest.approx(trend.high_real, abs=1e-4)


def test_a_spec_round_trips_through_yaml(department, tmp_path):
    spec = default_uncertainty(department)
    file = tmp_path / "u.yaml"
    file.write_text(uncertainty_to_yaml(spec), encoding="utf-8")
    assert load_uncertainty(file) == spec


# --- sampling -----------------------------------------------------------------------


def test_the_same_seed_gives_the_same_draws(department):
    spec = default_uncertainty(department)
    first = sampling.sample_values(spec, 500, seed=3)
    assert np.array_equal(first, sampling.sample_values(spec, 500, seed=3))
    assert not np.array_equal(first, sampling.sample_values(spec, 500, seed=4))


def test_latin_hypercube_puts_one_point_in_each_stratum():
    spec = spec_of(uniform("a.b", 0, 1), uniform("c.d", 0, 1))
    unit = sampling.unit_draws(spec, 50)
    for column in unit.T:
        assert sorted(np.floor(column * 50).astype(int)) == list(range(50))


def test_sobol_needs_a_power_of_two():
    spec = spec_of(uniform("a.b", 0, 1), sampling="sobol")
    assert sampling.unit_draws(spec, 64).shape == (64, 1)
    with pytest.raises(UncertaintyError, match="power of two"):
        sampling.unit_draws(spec, 100)


def test_the_copula_gives_the_rank_correlation_asked_for():
    spec = spec_of(
        uniform("a.b", 0, 1),
        {"path": "c.d", "distribution": {"kind": "lognormal", "median": 1, "sigma": 1}},
        correlations=[{"between": ["a.b", "c.d"], "rho": 0.6}],
    )
    values = sampling.sample_values(spec, 20_000)
    # Spearman rho of a Gaussian copula: (6 / pi) asin(rho / 2) (Kruskal 1958).
    expected = 6 / np.pi * np.arcsin(0.3)
    assert stats.spearmanr(values[:, 0], values[:, 1]).statistic == pytest.approx(
        expected, abs=0.02
    )


# --- the frozen plan and applying draws ---------------------------------------------


def test_the_frozen_plan_costs_what_the_scenario_costs(department, prepared):
    original = evaluate(department).summary
    frozen = evaluate(prepared.plan).summary
    for column in ("institution_npv_usd", "award_npv_usd", "co2e_kg"):
        assert frozen[column].to_numpy() == pytest.approx(original[column].to_numpy())
    assert "auto" not in {str(s.servers) for s in prepared.plan.strategies[3:]}


def test_paths_that_lead_nowhere_are_named(department):
    for path, words in (
        ("strategies.9.server_price_usd", "has 6 items"),
        ("site.no_such_field", "has no field 'no_such_field'"),
        ("strategies.3.server", "not a numeric field"),
    ):
        with pytest.raises(UncertaintyError, match=words):
            engine.prepare(department, spec_of(uniform(path, 1, 2)))


def test_a_range_the_field_does_not_accept_is_refused(department):
    with pytest.raises(UncertaintyError, match=r"reaches 0\.5"):
        engine.prepare(department, spec_of(uniform("real_discount_rate", 0.0, 0.5)))


def test_factors_reach_every_field_they_name(prepared):
    spec = prepared.spec
    values = sampling.medians(spec)
    values[spec.paths.index("cloud_price_trend")] = -0.1
    values[spec.paths.index("server_price_multiplier")] = 1.1
    values[spec.paths.index("cloud_fa_applies")] = 0.0
    scenario = engine.apply_values(prepared, values)
    assert scenario.institution.cloud_exempt_from_indirect
    assert scenario.strategies[0].price_change_per_year == -0.1
    assert scenario.strategies[4].burst.price_change_per_year == -0.1
    base = prepared.resolved.strategies[3].server.server_price_usd
    assert scenario.strategies[3].server_price_usd == pytest.approx(1.1 * base)


# --- vectorised Monte Carlo equals the loop of the engine ------------------------


def assert_same(loop, fast):
    for view in ("institution", "award"):
        np.testing.assert_allclose(fast.npv_usd[view], loop.npv_usd[view], rtol=RTOL)
        np.testing.assert_array_equal(
            fast.break_even_year[view], loop.break_even_year[view]
        )
        np.testing.assert_array_equal(
            fast.break_even_status[view], loop.break_even_status[view]
        )
        np.testing.assert_allclose(
            fast.break_even_utilisation[view],
            loop.break_even_utilisation[view],
            rtol=1e-9,
            atol=1e-12,
        )
        # The fan is kept in single precision.
        np.testing.assert_allclose(
            fast.cumulative_pv_usd[view], loop.cumulative_pv_usd[view], rtol=1e-6
        )
    np.testing.assert_allclose(fast.co2e_kg, loop.co2e_kg, rtol=RTOL)


def test_batched_equals_a_loop_of_the_engine_on_the_default_preset(prepared):
    values = sampling.sample_values(prepared.spec, 6, seed=11)
    assert_same(
        engine.loop_outcomes(prepared, values),
        batched.batched_outcomes(prepared, values),
    )


def test_batched_equals_the_loop_for_inputs_named_by_path(department):
    spec = spec_of(
        uniform("strategies.0.price_change_per_year", -0.2, 0.05),
        uniform("strategies.2.usd_per_accelerator_hour", 2.5, 6.0),
        uniform("strategies.3.server_price_usd", 250_000, 400_000),
        uniform("strategies.5.capex_change_per_year", -0.4, 0.0),
        uniform("site.tariff_change_per_year", -0.02, 0.04),
        uniform("site.grid_co2e_g_per_kwh", 100, 500),
        uniform("site.grid_change_per_year", -0.07, 0.0),
        uniform("strategies.4.burst.price_change_per_year", -0.1, 0.0),
        {
            "path": "strategies.3.lifetime_years",
            "distribution": {"kind": "integer", "low": 3, "high": 7},
        },
        {
            "path": "cloud_price_multiplier",
            "distribution": {"kind": "lognormal", "median": 1, "sigma": 0.2},
        },
        {
            "path": "strategies.4.staff_fte",
            "distribution": {"kind": "integer", "low": 0, "high": 1},
        },
        uniform("demand_multiplier", 0.5, 1.5),
        correlations=[
            {"between": ["cloud_price_multiplier", "demand_multiplier"], "rho": 0.5}
        ],
        sampling="random",
    )
    prepared = engine.prepare(department, spec)
    values = sampling.sample_values(spec, 8, seed=5)
    assert_same(
        engine.loop_outcomes(prepared, values),
        batched.batched_outcomes(prepared, values),
    )


def test_batched_equals_the_loop_on_the_grant_with_its_own_demand():
    grant = load_scenario(EXAMPLES / "grant.yaml")
    spec = spec_of(
        uniform("demand.reference_hours_per_year", 10_000, 90_000),
        {"path": "cloud_fa_applies", "distribution": {"kind": "bernoulli", "p": 0.3}},
        uniform("site.electricity_usd_per_kwh", 0.05, 0.4),
        uniform("strategies.1.spot_usd_per_accelerator_hour", 0.5, 2.0),
        {
            "path": "server_lifetime_years",
            "distribution": {"kind": "triangular", "low": 2, "mode": 3, "high": 5},
        },
        sampling="sobol",
    )
    prepared = engine.prepare(grant, spec)
    values = sampling.sample_values(spec, 8)
    assert_same(
        engine.loop_outcomes(prepared, values),
        batched.batched_outcomes(prepared, values),
    )


def test_the_loop_reference_agrees_with_the_engine_break_even(prepared):
    values = sampling.sample_values(prepared.spec, 1, seed=2)
    outcome = engine.loop_outcomes(prepared, values)
    scenario = engine.apply_values(prepared, values[0])
    for view in ("institution", "award"):
        for column, (onprem, cloud) in enumerate(prepared.pairs[:3]):
            found = breakeven.break_even(scenario, onprem, cloud, view=view)
            year = found.year if found.year is not None else engine.NEVER
            assert outcome.break_even_year[view][0, column] == year
            assert outcome.break_even_utilisation[view][0, column] == pytest.approx(
                found.utilisation
            )


def test_inputs_the_batched_path_cannot_scale_are_named(department):
    prepared = engine.prepare(
        department, spec_of(uniform("strategies.3.availability", 0.9, 0.99))
    )
    with pytest.raises(batched.NotVectorisedError, match="availability"):
        batched.batched_outcomes(prepared, np.array([[0.95]]))
