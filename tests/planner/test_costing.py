"""The engine's ledger equals the cited pricing/ unit models, line by line.

Each expected value below is computed directly with the functions of
``pricing`` (their own docstring tests check them against published numbers:
Strubell et al. 2019, Cottier et al. 2024, IRS Pub. 946 ...); the engine must
produce the same flows through :mod:`planner.costing`.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import costing, tco
from planner.resolve import resolve
from planner.scenario import scenario_from_dict
from pricing.cloud import cloud_cost_usd, spot_effective_usd_per_hour
from pricing.emissions import operational_co2e_kg
from pricing.energy import (
    electricity_cost_usd,
    facility_energy_kwh,
    utilisation_power_w,
)
from pricing.hardware import installed_capex_usd, resale_value_usd
from pricing.units import HOURS_PER_YEAR


def random_scenario(
    *,
    horizon,
    servers,
    price_usd,
    overhead,
    idle_w,
    max_w,
    phi,
    decline,
    capex_change,
    tariff,
    tariff_change,
    grid,
    pue,
    cloud_price,
    trend,
    spot,
    fa,
):
    return scenario_from_dict(
        {
            "name": "random",
            "horizon_years": horizon,
            "real_discount_rate": 0.03,
            "view": "award",
            "demand": {
                "reference_hours_per_year": 30_000.0,
                "reference_accelerator": "H100-80GB-SXM5",
                "shape": {"kind": "flat"},
            },
            "site": {
                "pue": pue,
                "electricity_usd_per_kwh": tariff,
                "tariff_change_per_year": tariff_change,
                "grid_co2e_g_per_kwh": grid,
                "grid_change_per_year": -0.03,
            },
            "institution": {"indirect_cost_rate": fa},
            "strategies": [
                {
                    "kind": "onprem",
                    "name": "own",
                    "server": "8xH100-SXM",
                    "servers": servers,
                    "server_price_usd": price_usd,
                    "cluster_overhead_fraction": overhead,
                    "relative_throughput": 1.0,
                    "idle_power_w": idle_w,
                    "max_power_w": max_w,
                    "support_fraction_per_year": phi,
                    "annual_value_decline": decline,
                    "capex_change_per_year": capex_change,
                    "lifetime_years": 3,
                    "refresh": True,
                    "staff_fte": 0.0,
                    "hosting_usd_per_kw_month": 0.0,
                    "availability": 1.0,
                },
                {
                    "kind": "cloud",
                    "name": "rent",
                    "accelerator_model": "H100-80GB-SXM5",
                    "usd_per_accelerator_hour": cloud_price,
                    "spot_usd_per_accelerator_hour": cloud_price * 0.4,
                    "purchase": "spot" if spot else "on_demand",
                    "relative_throughput": 1.0,
                    "price_change_per_year": trend,
                    "power_w_per_accelerator": 1_000.0,
                    "pue": 1.2,
                    "grid_co2e_g_per_kwh": 300.0,
                },
            ],
        }
    )


@settings(max_examples=30, deadline=None)
@given(
    horizon=st.integers(1, 7),
    servers=st.integers(1, 6),
    price_usd=st.floats(20_000.0, 500_000.0),
    overhead=st.floats(0.0, 0.5),
    idle_w=st.floats(0.0, 2_000.0),
    extra_w=st.floats(0.0, 9_000.0),
    phi=st.floats(0.0, 0.2),
    decline=st.floats(0.05, 0.6),
    capex_change=st.floats(-0.4, 0.1),
    tariff=st.floats(0.03, 0.4),
    tariff_change=st.floats(-0.05, 0.05),
    grid=st.floats(0.0, 900.0),
    pue=st.floats(1.0, 2.0),
    cloud_price=st.floats(0.5, 10.0),
    trend=st.floats(-0.3, 0.1),
    spot=st.booleans(),
    fa=st.floats(0.0, 0.7),
)
def test_engine_ledger_equals_the_pricing_functions(
    horizon,
    servers,
    price_usd,
    overhead,
    idle_w,
    extra_w,
    phi,
    decline,
    capex_change,
    tariff,
    tariff_change,
    grid,
    pue,
    cloud_price,
    trend,
    spot,
    fa,
):
    max_w = idle_w + extra_w
    scenario = random_scenario(
        horizon=horizon,
        servers=servers,
        price_usd=price_usd,
        overhead=overhead,
        idle_w=idle_w,
        max_w=max_w,
        phi=phi,
        decline=decline,
        capex_change=capex_change,
        tariff=tariff,
        tariff_change=tariff_change,
        grid=grid,
        pue=pue,
        cloud_price=cloud_price,
        trend=trend,
        spot=spot,
        fa=fa,
    )
    table = tco.evaluate(scenario).table
    n = horizon

    def line(strategy, category):
        rows = table[(table["strategy"] == strategy) & (table["category"] == category)]
        sums = rows.groupby("year")[["cost_usd", "energy_kwh", "co2e_kg"]].sum()
        return sums.reindex(range(n + 1), fill_value=0.0)  # absent line: zero

    tariff_k = tariff * (1 + tariff_change) ** np.arange(n)
    grid_k = grid * 0.97 ** np.arange(n)
    # Owned: vintages at 0, 3, 6 (lifetime 3, refresh), each paying its capex at
    # purchase, support while alive, resale at retirement or the horizon's end.
    capex = line("own", "capex")["cost_usd"]
    support = line("own", "support")["cost_usd"]
    salvage = line("own", "salvage")["cost_usd"]
    expected_support = np.zeros(n + 1)
    for bought in range(0, n, 3):
        price = price_usd * (1 + capex_change) ** bought
        vintage = installed_capex_usd(price, servers, overhead)
        assert capex[bought] == pytest.approx(vintage, rel=1e-12)
        retire = min(bought + 3, n)
        expected_support[bought + 1 : retire + 1] += vintage * phi
        assert salvage[retire] == pytest.approx(
            -resale_value_usd(
                price * servers, retire - bought, annual_value_decline=decline
            ),
            rel=1e-12,
        )
    np.testing.assert_allclose(
        support.to_numpy(), expected_support, rtol=1e-12, atol=1e-9
    )
    # Power: idle all year (linear power curve at zero use) plus the dynamic part
    # of the work served, times PUE, at each year's tariff and grid.
    work = np.minimum(30_000.0 / HOURS_PER_YEAR, 8 * servers) * HOURS_PER_YEAR
    idle = facility_energy_kwh(
        utilisation_power_w(idle_w, max_w, 0.0) * servers, HOURS_PER_YEAR, pue
    )
    dynamic = facility_energy_kwh(
        (utilisation_power_w(idle_w, max_w, 1.0) - idle_w) / 8, work, pue
    )
    power = line("own", "electricity")
    kwh = np.full(n, idle + dynamic)
    # Absolute tolerances: hypothesis draws subnormal watts (5e-324), whose
    # energy underflows to 0 in one order of operations and not in the other.
    np.testing.assert_allclose(
        power["energy_kwh"].to_numpy()[1:], kwh, rtol=1e-10, atol=1e-9
    )
    np.testing.assert_allclose(
        power["cost_usd"].to_numpy()[1:],
        electricity_cost_usd(kwh, tariff_k),
        rtol=1e-10,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        power["co2e_kg"].to_numpy()[1:],
        operational_co2e_kg(kwh, grid_k),
        rtol=1e-10,
        atol=1e-9,
    )
    # Cloud: reference hours x the year's price (spot with its re-run overhead).
    price_k = cloud_price * (1 + trend) ** np.arange(n)
    if spot:
        rate = spot_effective_usd_per_hour(
            cloud_price * 0.4 * (1 + trend) ** np.arange(n), 0.1
        )
        expected = cloud_cost_usd(1.0, 30_000.0, rate)
        paid = line("rent", "cloud_spot")["cost_usd"].to_numpy()[1:]
    else:
        expected = cloud_cost_usd(30_000.0, 1.0, price_k)
        paid = line("rent", "cloud_on_demand")["cost_usd"].to_numpy()[1:]
    np.testing.assert_allclose(paid, expected, rtol=1e-12, atol=1e-9)
    # F&A: cloud services are in MTDC (2 CFR 200.1), equipment is not.
    fa_cloud = line("rent", costing.INDIRECT)["cost_usd"].to_numpy()[1:] if fa else 0.0
    np.testing.assert_allclose(fa_cloud, fa * expected, rtol=1e-12, atol=1e-9)
    fa_owned = line("own", costing.INDIRECT)
    if fa:
        # Support contracts and power charged to the project are MTDC services.
        np.testing.assert_allclose(
            fa_owned["cost_usd"].to_numpy(),
            fa
            * (
                expected_support
                + np.concatenate([[0.0], electricity_cost_usd(kwh, tariff_k)])
            ),
            rtol=1e-10,
            atol=1e-9,
        )


def test_resolution_happens_once_and_is_shared():
    # Resolve once: the same resolved inputs serve the engine, break-even and
    # the optimiser (a bounded cache keyed by the frozen scenario and catalog).
    scenario = random_scenario(
        horizon=3,
        servers=2,
        price_usd=250_000.0,
        overhead=0.2,
        idle_w=1_600.0,
        max_w=10_200.0,
        phi=0.1,
        decline=0.276,
        capex_change=-0.25,
        tariff=0.15,
        tariff_change=0.0,
        grid=400.0,
        pue=1.4,
        cloud_price=3.0,
        trend=-0.1,
        spot=False,
        fa=0.55,
    )
    first = resolve(scenario)
    assert resolve(scenario) is first
    assert tco.evaluate(scenario).resolved is first
