"""Demand units: switching units keeps the work; GPUs map to reference hours."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import defaults
from planner.demand_units import (
    convert_demand,
    gpus_from_reference_hours,
    quick_demand_from_log,
    reference_hours_per_year,
    relative_throughput,
)
from planner.quick import QuickCompare, quick_scenario
from pricing import catalog


@settings(max_examples=50, derandomize=True, deadline=None)
@given(st.floats(0, 1e8))
def test_convert_demand_round_trips(value):
    there = convert_demand(value, "busy_gpus", "gpu_hours")
    assert convert_demand(there, "gpu_hours", "busy_gpus") == pytest.approx(value)


def test_25_busy_gpus_are_219000_gpu_hours():
    # 25 x 8,760 hours (365 days of 24 hours, pricing.units.HOURS_PER_YEAR).
    assert convert_demand(25.0, "busy_gpus", "gpu_hours") == 219_000.0
    assert convert_demand(25.0, "busy_gpus", "busy_gpus") == 25.0


def test_reference_hours_match_the_quick_scenario():
    for kind, value in (("busy_gpus", 16.0), ("gpu_hours", 100_000.0)):
        scenario = quick_scenario(QuickCompare(demand_kind=kind, demand_value=value))
        model = str(catalog.server("8xH100-SXM")["accelerator_model"])
        expected = scenario.demand.reference_hours_per_year
        assert reference_hours_per_year(value, kind, model) == pytest.approx(expected)
        back = gpus_from_reference_hours(expected, kind, model)
        assert back == pytest.approx(value)


def test_relative_throughput_of_the_reference_is_one():
    assert relative_throughput(defaults.REFERENCE_ACCELERATOR) == 1.0
    assert relative_throughput("H100-80GB-SXM5") > 1.0


def test_quick_demand_from_log_bounds_the_peak():
    assert quick_demand_from_log({"mean_concurrency": 0.0, "max_concurrency": 0.0})[
        "peak_to_mean"
    ] == pytest.approx(1.0)
    fields = quick_demand_from_log({"mean_concurrency": 1.0, "max_concurrency": 64.0})
    assert fields["peak_to_mean"] == 10.0
    QuickCompare.model_validate(fields)
