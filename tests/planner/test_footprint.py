"""planner.footprint and ``planner footprint``: one run, a campaign, published rows."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from planner import cli, footprint
from planner.joblog import read_log
from planner.reference import strubell2019
from planner.resolve import resolve
from planner.scenario import load_preset, scenario_from_dict
from pricing.units import GRAMS_PER_KILOGRAM, KILOGRAMS_PER_POUND

# Strubell et al. (2019) eq. (2): 0.954 lb CO2e per kWh (EPA eGRID 2018).
JOBLOGS = Path(__file__).parents[1] / "data" / "joblogs"
STRUBELL_G_PER_KWH = 0.954 * KILOGRAMS_PER_POUND * GRAMS_PER_KILOGRAM


def _table3_rows():
    data = strubell2019._frame("strubell2019_table3.csv")
    return [row for _, row in data.iterrows() if not math.isnan(row["power_w"])]


@pytest.mark.parametrize("row", _table3_rows(), ids=lambda r: r["hardware"])
def test_footprint_reproduces_strubell2019_table3(row):
    # Strubell et al. 2019, Table 3, columns "Power (W)", "Hours", "kWh-PUE" and
    # "CO2e": power is the whole run's (CPU + DRAM + g GPUs), so each of the g
    # accelerators carries power / g. The paper prints whole kWh and pounds:
    # half a unit of the last printed digit is the tolerance.
    count = int(row["accelerator_count"])
    result = footprint.footprint(
        row["accelerator"],
        count,
        row["hours"],
        power_w=row["power_w"] / count,
        pue=1.58,
        grid_co2e_g_per_kwh=STRUBELL_G_PER_KWH,
        price_usd_per_accelerator_hour=1.0,
    )
    assert result.energy_kwh == pytest.approx(row["printed_kwh_pue"], abs=0.5)
    co2e_lbs = result.co2e_kg / KILOGRAMS_PER_POUND
    assert co2e_lbs == pytest.approx(row["printed_co2e_lbs"], abs=0.5)


def test_footprint_cli_reproduces_strubell_transformer_base(capsys):
    # Table 3, Transformer base: P100x8, 1,415.78 W, 12 h -> 27 kWh, 26 lb.
    status = cli.main(
        [
            "footprint",
            "--accelerator",
            "P100",
            "--count",
            "8",
            "--hours",
            "12",
            "--power-w",
            str(1415.78 / 8),
            "--pue",
            "1.58",
            "--intensity-g-per-kwh",
            str(STRUBELL_G_PER_KWH),
            "--format",
            "json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(footprint.FOOTPRINT_KEYS) <= set(payload)
    assert round(payload["energy_kwh"]) == 27
    assert round(payload["co2e_kg"] / KILOGRAMS_PER_POUND) == 26
    assert payload["co2e_embodied_kg"] == 0.0
    assert all({"what", "source"} == set(item) for item in payload["assumptions"])


def test_footprint_idle_energy_is_for_the_run_not_a_year():
    busy = footprint.footprint(
        "H100-80GB-SXM5", 8, 10, power_w=700, pue=1.2, grid_co2e_g_per_kwh=100
    )
    idle = footprint.footprint(
        "H100-80GB-SXM5",
        8,
        10,
        power_w=700,
        pue=1.2,
        grid_co2e_g_per_kwh=100,
        idle_power_w=1_000,
    )
    # 1 kW for the run's 10 h at PUE 1.2, not 8,760 h.
    assert idle.energy_kwh - busy.energy_kwh == pytest.approx(12.0)
    assert idle.idle_energy_kwh == pytest.approx(12.0)


def test_footprint_embodied_is_per_used_hour_as_luccioni():
    result = footprint.footprint(
        "H100-80GB-SXM5",
        8,
        100,
        power_w=700,
        pue=1.1,
        grid_co2e_g_per_kwh=0,
        embodied=True,
    )
    # Catalog server 8xH100-SXM: 3,700 kg for 8 accelerators, 6 years at 85 %.
    expected = 800 * (3_700 / 8) / (6 * 8_760 * 0.85)
    assert result.co2e_embodied_kg == pytest.approx(expected)
    assert result.co2e_kg == pytest.approx(result.co2e_operational_kg + expected)


def test_footprint_owned_cost_is_cottier_amortisation_plus_energy():
    result = footprint.footprint(
        "H100-80GB-SXM5",
        8,
        100,
        power_w=700,
        pue=1.0,
        grid_co2e_g_per_kwh=0,
        electricity_usd_per_kwh=0.10,
        currency_year=2023,
    )
    # 8xH100-SXM: $308,000 (2023) x 1.23 cluster overhead / 8, amortised at
    # 0.14 OOM/year = 0.14 ln 10 per year over the run's 800 accelerator-hours.
    value = 308_000 * 1.23 / 8
    hardware = value * 800 * 0.14 * np.log(10) / 8_760
    energy = 800 * 0.7 * 0.10
    assert result.owned_hardware_usd == pytest.approx(hardware)
    assert result.owned_cost_usd == pytest.approx(hardware + energy)


def test_footprint_utilisation_uses_the_power_curve():
    full = footprint.footprint(
        "H100-80GB-SXM5", 1, 1, utilisation=1.0, pue=1.0, grid_co2e_g_per_kwh=0
    )
    half = footprint.footprint(
        "H100-80GB-SXM5", 1, 1, utilisation=0.5, pue=1.0, grid_co2e_g_per_kwh=0
    )
    # 10.2 kW max, 1.6 kW idle for 8 accelerators.
    assert full.power_w_per_accelerator == pytest.approx(10_200 / 8)
    assert half.power_w_per_accelerator == pytest.approx((1_600 + 4_300) / 8)


def test_footprint_rejects_power_and_utilisation_together():
    with pytest.raises(ValueError, match="power_w or utilisation"):
        footprint.footprint("H100-80GB-SXM5", 1, 1, power_w=1, utilisation=0.5)


def test_footprint_region_looks_up_the_grid():
    result = footprint.footprint(
        "H100-80GB-SXM5", 1, 1, power_w=1000, pue=1.0, region="FR"
    )
    assert result.co2e_kg == pytest.approx(result.grid_co2e_g_per_kwh / 1000)
    assert any("grid intensity of FR" in what for what, _ in result.assumptions)


def test_campaign_footprint_sums_a_codecarbon_log():
    log = read_log(JOBLOGS / "codecarbon_emissions.csv")
    result = footprint.campaign_footprint(log, pue=1.5, grid_co2e_g_per_kwh=50)
    gpu_energy = float(log.jobs["gpu_energy_kwh"].sum())
    assert result.runs == len(log.jobs)
    assert result.accelerator_hours == pytest.approx(log.jobs["gpu_hours"].sum())
    assert result.energy_kwh == pytest.approx(gpu_energy * 1.5)
    assert result.power_w_per_accelerator is None


def test_footprint_cli_campaign_latex(capsys):
    status = cli.main(
        [
            "footprint",
            "--log",
            str(JOBLOGS / "generic.csv"),
            "--accelerator",
            "A100-80GB-SXM4",
            "--intensity-g-per-kwh",
            "300",
            "--format",
            "latex",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0
    assert "\\begin{tabular}" in captured.out
    assert "kWh" in captured.out


def test_footprint_cli_needs_count_and_hours_without_a_log(capsys):
    status = cli.main(["footprint", "--accelerator", "P100"])
    assert status == 2
    assert "--count" in capsys.readouterr().err


def _cloud_strategy(**power):
    return {
        "kind": "cloud",
        "name": "rent",
        "accelerator_model": "H100-80GB-SXM5",
        "usd_per_accelerator_hour": 3.0,
        **power,
    }


@pytest.mark.parametrize("utilisation", [0.0, 0.5, 1.0])
def test_cloud_strategy_utilisation_gives_the_footprints_power(utilisation):
    # Issue 15: a cloud strategy takes a utilisation as the footprint does, on
    # the same linear curve (8xH100-SXM: 1.6 kW idle, 10.2 kW max, 8 GPUs).
    data = load_preset("grant").model_dump()
    data["strategies"] = [_cloud_strategy(utilisation=utilisation)]
    resolved = resolve(scenario_from_dict(data))
    offer = resolved.strategy("rent").offer
    expected = (1_600 + utilisation * (10_200 - 1_600)) / 8
    assert offer.power_w_per_accelerator == pytest.approx(expected)
    run = footprint.footprint("H100-80GB-SXM5", 1, 1, utilisation=utilisation)
    assert run.power_w_per_accelerator == pytest.approx(expected)


def test_cloud_strategy_measured_power_wins_and_excludes_utilisation():
    data = load_preset("grant").model_dump()
    data["strategies"] = [_cloud_strategy(power_w_per_accelerator=640.0)]
    offer = resolve(scenario_from_dict(data)).strategy("rent").offer
    assert offer.power_w_per_accelerator == 640.0
    data["strategies"] = [
        _cloud_strategy(power_w_per_accelerator=640.0, utilisation=0.5)
    ]
    with pytest.raises(ValueError, match="power_w_per_accelerator or utilisation"):
        scenario_from_dict(data)
