"""Demand shapes, load-duration curves and blocks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import demand
from planner.scenario import DemandShape


@settings(max_examples=20, deadline=None)
@given(peak=st.floats(1.2, 6.0), seed=st.integers(0, 10_000))
def test_shape_has_mean_one_and_the_requested_peak(peak, seed):
    profile = demand.hourly_shape(DemandShape(peak_to_mean=peak, seed=seed))
    assert profile.shape == (8760,)
    assert profile.mean() == pytest.approx(1.0, rel=1e-12)
    assert profile.max() == pytest.approx(peak, rel=1e-6)
    assert (profile >= 0).all()


def test_same_seed_same_shape_other_seed_differs():
    a = demand.hourly_shape(DemandShape(seed=1))
    assert np.array_equal(a, demand.hourly_shape(DemandShape(seed=1)))
    assert not np.array_equal(a, demand.hourly_shape(DemandShape(seed=2)))


def test_weekends_are_quieter_and_the_week_repeats():
    shape = DemandShape(
        noise=0.0,
        diurnal_amplitude=0.0,
        deadline_surges=(),
        weekend_factor=0.5,
        peak_to_mean=1.3,
    )
    days = demand.hourly_shape(shape).reshape(365, 24).mean(axis=1)
    assert days[5] < days[0]  # day 0 is a Monday, day 5 a Saturday
    assert days[:7] == pytest.approx(days[7:14])


def test_unreachable_peak_is_a_clear_error():
    # A pure two-level weekly shape cannot exceed 7/5 x its mean.
    shape = DemandShape(
        noise=0.0,
        diurnal_amplitude=0.0,
        deadline_surges=(),
        weekend_factor=0.5,
        peak_to_mean=2.0,
    )
    with pytest.raises(ValueError, match=r"peak_to_mean 2\.0 is out of reach"):
        demand.hourly_shape(shape)


@given(values=st.lists(st.floats(0, 1e4), min_size=2, max_size=200))
def test_ldc_is_sorted_and_conserves_energy(values):
    hourly = np.array(values)
    ldc = demand.load_duration_curve(hourly)
    assert (np.diff(ldc) <= 0).all()
    assert ldc.sum() == pytest.approx(hourly.sum())


@given(
    values=st.lists(st.floats(0, 1e4), min_size=4, max_size=300),
    blocks=st.integers(1, 4),
)
def test_blocks_conserve_hours_and_energy(values, blocks):
    hourly = np.array(values)
    levels, hours = demand.duration_blocks(hourly, blocks)
    assert hours.sum() == len(values)
    assert (levels * hours).sum() == pytest.approx(hourly.sum(), rel=1e-9, abs=1e-9)


def test_level_exceeded_is_the_screening_quantile():
    # Level exceeded in 60 % of hours of 0..99 is the 40th percentile.
    assert demand.level_exceeded(np.arange(100.0), 0.6) == pytest.approx(39.6)
    with pytest.raises(ValueError, match="share_of_hours"):
        demand.level_exceeded(np.arange(3.0), 1.5)


@pytest.mark.parametrize("peak", [1.0 + 1e-12, 1.0000001, 1.00001, 1.001])
def test_a_peak_just_above_one_is_reached(peak):
    # 1.0000001 used to fail with "f(a) and f(b) must have different signs".
    profile = demand.hourly_shape(DemandShape(peak_to_mean=peak))
    assert profile.mean() == pytest.approx(1.0, rel=1e-12)
    assert profile.max() / profile.mean() == pytest.approx(peak, rel=0, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    peak=st.floats(1.0, 50.0, allow_nan=False),
    noise=st.floats(0.0, 1.0),
    diurnal=st.floats(0.0, 1.0),
    weekend=st.floats(0.0, 2.0),
    seed=st.integers(0, 10_000),
)
def test_any_valid_shape_is_a_profile_or_a_clean_message(
    peak, noise, diurnal, weekend, seed
):
    shape = DemandShape(
        peak_to_mean=peak,
        noise=noise,
        diurnal_amplitude=diurnal,
        weekend_factor=weekend,
        seed=seed,
    )
    try:
        profile = demand.hourly_shape(shape)
    except ValueError as error:
        message = str(error)
        profile = None
    if profile is None:
        assert "peak_to_mean" in message or "flat" in message
        return
    assert np.isfinite(profile).all()
    assert profile.mean() == pytest.approx(1.0, rel=1e-9)
    assert profile.max() == pytest.approx(peak, rel=1e-6)


def test_a_peak_below_what_zero_demand_hours_allow_is_a_clean_message():
    # Weekends at 0 stay at 0 under the power transform: with 261 busy days in
    # the 365 (104 weekend days) the flattest shape has peak-to-mean
    # 365/261 = 1.398, so 1.25 cannot be reached.
    shape = DemandShape(
        peak_to_mean=1.25,
        noise=0.0,
        diurnal_amplitude=0.0,
        weekend_factor=0.0,
        deadline_surges=(),
    )
    with pytest.raises(
        ValueError, match=r"peak_to_mean 1\.25 is below .*at least 1\.398"
    ):
        demand.hourly_shape(shape)
