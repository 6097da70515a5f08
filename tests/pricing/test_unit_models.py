"""Unit models against published numbers, oracles and invariants."""

import itertools
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from pricing import cloud, emissions, energy, finance, hardware, units

finite = st.floats(0.0, 1e6, allow_nan=False)


# --- energy -------------------------------------------------------------------


def test_training_energy_strubell_eq1_bert_v100():
    # Strubell et al. 2019 Table 3: BERT base, V100x64, 12,041.51 W, 79.2 h, PUE
    # 1.58 -> 1,506.83 kWh (strubell2019.md 1.4, two decimals).
    assert energy.training_energy_kwh(12_041.51, 79.2) == pytest.approx(
        1506.83, abs=5e-3
    )


def test_utilisation_power_curve_endpoints_and_series_index():
    power = pd.Series([0.0, 0.5, 1.0], index=["idle", "half", "busy"])
    result = energy.utilisation_power_w(100.0, 300.0, power)
    assert result.index.tolist() == ["idle", "half", "busy"]
    assert result.tolist() == [100.0, 200.0, 300.0]


def test_utilisation_power_rejects_max_below_idle():
    with pytest.raises(ValueError, match="max_power_w - idle_power_w"):
        energy.utilisation_power_w(300.0, 200.0, 0.5)


@pytest.mark.parametrize("bad", [-0.1, 1.1])
def test_utilisation_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match="utilisation"):
        energy.utilisation_power_w(100.0, 200.0, bad)


def test_pue_below_one_is_refused():
    with pytest.raises(ValueError, match="pue"):
        energy.training_energy_kwh(100.0, 1.0, pue=0.9)


@given(u1=st.floats(0, 1), u2=st.floats(0, 1), idle=finite, extra=finite)
def test_power_is_monotone_in_utilisation(u1, u2, idle, extra):
    low, high = sorted((u1, u2))
    p_low = energy.utilisation_power_w(idle, idle + extra, low)
    p_high = energy.utilisation_power_w(idle, idle + extra, high)
    assert p_low <= p_high + 1e-9


def test_scalar_array_series_agree():
    values = np.array([0.0, 0.25, 1.0])
    as_array = energy.annual_server_energy_kwh(500.0, 2_000.0, values, 1.4)
    as_series = energy.annual_server_energy_kwh(500.0, 2_000.0, pd.Series(values), 1.4)
    scalars = [energy.annual_server_energy_kwh(500.0, 2_000.0, v, 1.4) for v in values]
    assert_allclose(as_array, scalars)
    assert_allclose(as_series.to_numpy(), scalars)


# --- emissions ----------------------------------------------------------------


def test_strubell_intensity_in_metric_units():
    # strubell2019.md 1.1: 0.954 lb/kWh = 0.4327 kg/kWh.
    assert emissions.STRUBELL_2019_CO2E_G_PER_KWH == pytest.approx(432.7, abs=0.05)


def test_nas_co2e_in_kilograms():
    # strubell2019.md 1.2: 626,155 lbs = 284,019 kg (Luccioni et al., Patterson et al.).
    assert units.pounds_to_kilograms(626_155) == pytest.approx(284_019, abs=0.5)


@given(mass=st.floats(0, 1e9))
def test_pound_round_trip(mass):
    assert units.pounds_to_kilograms(units.kilograms_to_pounds(mass)) == pytest.approx(
        mass, rel=1e-12, abs=1e-9
    )


def test_embodied_per_hour_bloom_server():
    # methods.md 7.2: BLOOM server node ~2,500 kg, 6-year life, 85 % use -> 0.056 kg/h.
    assert emissions.embodied_co2e_kg_per_hour(2_500.0, 6, 0.85) == pytest.approx(
        0.056, abs=5e-4
    )


def test_intensity_trajectory_iea():
    # methods.md 7.1: 445 g/kWh in 2024 falling 3.6 %/y gives ~400 g/kWh by 2027.
    assert emissions.intensity_trajectory_co2e_g_per_kwh(445.0, -0.036, 3) == (
        pytest.approx(400, abs=3)
    )


# --- cloud --------------------------------------------------------------------


@given(count=finite, hours=finite, r1=finite, r2=finite)
def test_cloud_cost_monotone_in_price(count, hours, r1, r2):
    low, high = sorted((r1, r2))
    assert cloud.cloud_cost_usd(count, hours, low) <= cloud.cloud_cost_usd(
        count, hours, high
    )


def test_commitment_break_even_is_one_minus_discount():
    # methods.md 1.3: a 40 % discount beats on-demand above 60 % use.
    assert cloud.break_even_use_fraction_for_commitment(0.4) == pytest.approx(0.6)
    rate = cloud.committed_usd_per_hour(2.0, 0.4)
    used_hours = 0.6 * units.HOURS_PER_YEAR
    assert cloud.commitment_cost_usd(1, rate, 1) == pytest.approx(
        cloud.cloud_cost_usd(1, used_hours, 2.0)
    )


def test_spot_overhead_and_negative_refused():
    assert cloud.spot_effective_usd_per_hour(1.0, 0.25) == 1.25
    with pytest.raises(ValueError, match="interruption_overhead"):
        cloud.spot_effective_usd_per_hour(1.0, -0.1)


# --- finance ------------------------------------------------------------------

# methods.md 5.1, CRF reference values (four decimals).
CRF_TABLE = [
    (0.03, 4, 0.2690),
    (0.03, 5, 0.2184),
    (0.05, 4, 0.2820),
    (0.05, 5, 0.2310),
    (0.07, 5, 0.2439),
    (0.08, 5, 0.2505),
    (0.10, 5, 0.2638),
]


@pytest.mark.parametrize(("rate", "years", "published"), CRF_TABLE)
def test_crf_matches_methods_table(rate, years, published):
    assert finance.capital_recovery_factor(rate, years) == pytest.approx(
        published, abs=5e-5
    )


@given(rate=st.floats(0.0, 0.3), years=st.integers(1, 30))
def test_crf_inverts_annuity_present_value(rate, years):
    annuity = finance.capital_recovery_factor(rate, years)
    pv = finance.net_present_value_usd(rate, np.r_[0.0, np.full(years, annuity)])
    assert pv == pytest.approx(1.0, rel=1e-9)


@given(
    rate=st.floats(0.0, 0.2),
    flows=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=15),
)
def test_npv_matches_numpy_financial(rate, flows):
    assert finance.net_present_value_usd(rate, flows) == pytest.approx(
        npf.npv(rate, flows), rel=1e-9, abs=1e-6
    )


def test_zero_rate_discounted_equals_nominal():
    flows = [5.0, 7.0, 11.0]
    assert finance.net_present_value_usd(0.0, flows) == sum(flows)


# IRS Publication 946, Appendix A, Table A-1 (GDS, 200 % DB, half-year), percent.
IRS_PUB946_TABLE_A1 = {
    3: [33.33, 44.45, 14.81, 7.41],
    5: [20.00, 32.00, 19.20, 11.52, 11.52, 5.76],
    7: [14.29, 24.49, 17.49, 12.49, 8.93, 8.92, 8.93, 4.46],
    10: [10.00, 18.00, 14.40, 11.52, 9.22, 7.37, 6.55, 6.55, 6.56, 6.55, 3.28],
}


@pytest.mark.parametrize(("period", "published"), IRS_PUB946_TABLE_A1.items())
def test_macrs_matches_irs_table_a1(period, published):
    # Table rounded to 0.01 %, alternating so columns sum to 100: one unit of the
    # last printed digit is the honest tolerance.
    assert_allclose(
        finance.macrs_half_year_schedule(period), np.array(published) / 100, atol=1e-4
    )


@pytest.mark.parametrize("period", [1, 3, 5, 7, 12])
def test_depreciation_schedules_recover_the_basis(period):
    assert finance.straight_line_schedule(period).sum() == pytest.approx(1.0)
    assert finance.declining_balance_schedule(period).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("period", [0, 4, 39])
def test_macrs_rejects_unknown_period(period):
    with pytest.raises(ValueError, match="recovery_period_years"):
        finance.macrs_half_year_schedule(period)


def test_indirect_cost_on_services():
    assert finance.with_indirect_cost_usd(100.0, 0.55) == pytest.approx(155.0)


# --- hardware -----------------------------------------------------------------


def test_strubell_section5_server_capex():
    # Section 5: 58 GPUs / 8 per server x $20,000 = $145,000 (no rounding up).
    assert hardware.installed_capex_usd(20_000.0, 58 / 8, 0.0) == 145_000.0


def test_resale_value_cottier_decline():
    # Cottier et al. 2024: value x 10^-0.14 = 72 % after one year.
    assert hardware.resale_value_usd(1.0, 1) == pytest.approx(10**-0.14)


@given(a1=st.floats(0, 20), a2=st.floats(0, 20))
def test_resale_value_never_rises_with_age(a1, a2):
    young, old = sorted((a1, a2))
    assert hardware.resale_value_usd(1e5, old) <= hardware.resale_value_usd(1e5, young)


def test_cpi_table_is_increasing_and_complete():
    # BLS CPI-U annual averages rose every year 2010-2024 (1982-84 = 100).
    years = range(2010, 2025)
    indices = [finance.cpi_index(year) for year in years]
    assert all(b > a for a, b in itertools.pairwise(indices))
    assert finance.cpi_index(2019) == 255.657
    assert finance.real_usd(100.0, 2024, 2024) == 100.0


def test_cpi_2025_is_the_bls_first_half_average_and_marked_partial():
    # BLS CPI-U U.S. city average, first half 2025: 320.229 (1982-84 = 100).
    assert finance.cpi_index(2025) == 320.229
    assert finance.cpi_index(2030) == 320.229
    text = (Path(finance.__file__).parent / "data" / "us_cpi.csv").read_text("utf-8")
    last = text.strip().splitlines()[-1]
    assert last.startswith("2025,320.229,")
    assert "PARTIAL YEAR" in last


@given(
    used=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    per_instance=st.sampled_from([1.0, 2.0, 4.0, 8.0, 2.6689 * 8]),
)
def test_whole_instances_pay_for_at_least_the_use_and_less_than_one_more(
    used, per_instance
):
    """pricing.cloud.whole_instance_accelerators: a whole number of instances,
    never below the use, never a whole instance above it (methods §6.2)."""
    from pricing.cloud import whole_instance_accelerators

    paid = whole_instance_accelerators(used, per_instance)
    instances = paid / per_instance
    assert instances == pytest.approx(round(instances), abs=1e-9)
    assert paid >= used - 1e-9 * per_instance
    assert paid < used + per_instance
