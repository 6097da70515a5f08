"""Scenarios built for tests: the methods notes' screening-curve set-up."""

import pytest

from planner.scenario import scenario_from_dict
from pricing.units import HOURS_PER_YEAR

GPUS_PER_SERVER = 8


def screening_scenario(
    *,
    capex_per_gpu_usd: float = 30_000.0,
    cloud_multiple: float = 2.0,
    cloud_usd_per_gpu_hour: float | None = None,
    rate: float = 0.0,
    phi: float = 0.1,
    indirect: float = 0.0,
    lifetime: int = 5,
    energy: bool = True,
    demand_hours: float = 20_000.0,
    extra_strategies: tuple = (),
    servers: float = 1,
):
    """Methods notes 1.2: capex $30k/GPU, L = 5, phi = 10 %/y, m = 0.7 kW x 1.3 PUE
    x $0.10/kWh = $0.091/GPU-h, idle power folded into phi (so zero here), cloud
    price p_c = k x capex / (8760 L). Availability 1, no staff, hosting or resale,
    no price trends: exactly the closed form's assumptions. With F&A the closed
    form charges it on cloud only, so the scenario is in the award view with
    support and power kept out of MTDC."""
    price = (
        cloud_usd_per_gpu_hour
        if cloud_usd_per_gpu_hour is not None
        else cloud_multiple * capex_per_gpu_usd / (HOURS_PER_YEAR * lifetime)
    )
    onprem = {
        "kind": "onprem",
        "name": "own",
        "server": "8xH100-SXM",
        "servers": servers,
        "server_price_usd": capex_per_gpu_usd * GPUS_PER_SERVER,
        "cluster_overhead_fraction": 0.0,
        "relative_throughput": 1.0,
        "idle_power_w": 0.0,
        "max_power_w": 700.0 * GPUS_PER_SERVER if energy else 0.0,
        "lifetime_years": lifetime,
        "refresh": False,
        "support_fraction_per_year": phi,
        "staff_fte": 0.0,
        "hosting_usd_per_kw_month": 0.0,
        "availability": 1.0,
        "salvage": "none",
        "embodied_accounting": "amortised",
    }
    cloud = {
        "kind": "cloud",
        "name": "rent",
        "accelerator_model": "H100-80GB-SXM5",
        "usd_per_accelerator_hour": price,
        "relative_throughput": 1.0,
        "price_change_per_year": 0.0,
        "grid_co2e_g_per_kwh": 400.0,
        "pue": 1.1,
    }
    return scenario_from_dict(
        {
            "name": "screening curve (methods notes 1.2)",
            "view": "award" if indirect else "institution",
            "horizon_years": lifetime,
            "real_discount_rate": rate,
            "demand": {
                "reference_hours_per_year": demand_hours,
                "reference_accelerator": "H100-80GB-SXM5",
                "shape": {"kind": "flat"},
            },
            "site": {
                "pue": 1.3,
                "electricity_usd_per_kwh": 0.10,
                "grid_co2e_g_per_kwh": 400.0,
                "grid_change_per_year": 0.0,
            },
            "institution": {
                "indirect_cost_rate": indirect,
                "cloud_exempt_from_indirect": indirect == 0.0,
                "equipment_threshold_usd": 10_000.0,
                "mtdc_exclusions": ["support", "electricity"],
            },
            "strategies": [onprem, cloud, *extra_strategies],
        }
    )


@pytest.fixture
def screening():
    return screening_scenario


def owned_and_cloud(scenario, owned=0, cloud=1):
    """The resolved scenario and two of its strategies (by position)."""
    from planner.resolve import resolve

    resolved = resolve(scenario)
    return resolved, resolved.strategies[owned], resolved.strategies[cloud]
