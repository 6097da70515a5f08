"""Tests of the shipped data catalogs and their loader (pricing/catalog.py)."""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pricing import catalog
from pricing.catalog import (
    CATALOG_NAMES,
    CatalogError,
    UnknownCatalogItemError,
    accelerator,
    catalog_key,
    cloud_offer,
    commitment_discount,
    default_cloud_offers,
    grid_intensity_co2e_g_per_kwh,
    load_catalog,
    pue,
    server,
)

REPO_ROOT = Path(__file__).parents[2]
OVERLAYS = REPO_ROOT / "tests" / "data" / "overlays"
MONEY_CATALOGS = ("cloud_prices", "servers", "electricity_prices")


def _columns(name: str) -> list[str]:
    return list(catalog._SPECS[name].columns)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in header})
    return path


def _shipped_row(name: str, **match: object) -> dict[str, str]:
    """A shipped row as CSV cells (for building overlays)."""
    frame = load_catalog(name)
    mask = np.ones(len(frame), dtype=bool)
    for column, value in match.items():
        mask &= (frame[column] == value).to_numpy()
    row = frame[mask].iloc[0]
    cells = {}
    for column in _columns(name):
        value = row[column]
        if pd.isna(value):
            cells[column] = ""
        elif isinstance(value, (bool, np.bool_)):
            cells[column] = "true" if value else "false"
        else:
            cells[column] = str(value)
    return cells


P4D = {"provider": "aws", "region": "us-east-1", "instance_type": "p4d.24xlarge"}


# --------------------------------------------------------------------------
# Every shipped catalog
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_load_catalog_loads_every_catalog_with_unique_key(name):
    frame = load_catalog(name)
    assert len(frame) > 0
    assert list(frame.columns) == [*_columns(name), "user_supplied"]
    assert not frame.duplicated(list(catalog_key(name))).any()
    assert not frame["user_supplied"].any()


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_load_catalog_every_row_has_source_and_source_date(name):
    frame = load_catalog(name)
    for column in ("source", "source_date"):
        assert frame[column].notna().all()
        assert (frame[column].str.strip() != "").all()


@pytest.mark.parametrize("name", MONEY_CATALOGS)
def test_load_catalog_money_rows_have_currency_year(name):
    assert load_catalog(name)["currency_year"].notna().all()


def test_load_catalog_priced_accelerators_have_currency_year():
    frame = load_catalog("accelerators")
    priced = frame[frame["launch_price_usd"].notna()]
    assert priced["currency_year"].notna().all()


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_load_catalog_matches_the_row_model_spec(name):
    spec = catalog._SPECS[name]
    assert set(spec.columns) == set(spec.row_model.model_fields)
    assert set(spec.key) <= set(spec.columns)


PHYSICAL_CHECKS = {
    "cloud_prices": lambda f: (
        (f["on_demand_usd_per_hour"].dropna() > 0).all()
        and (f["spot_usd_per_hour"].dropna() >= 0).all()
        and (f["accelerator_count"] > 0).all()
    ),
    "accelerators": lambda f: (
        (f["tdp_w"].dropna().between(10, 2000)).all()
        and (f["memory_gb"].dropna() > 0).all()
        and (f["relative_throughput"].dropna() > 0).all()
        and f["release_year"].between(2010, 2030).all()
    ),
    "servers": lambda f: (
        (f["server_price_usd"] > 0).all()
        and (f["idle_power_w"] <= f["max_power_w"]).all()
        and f["cluster_overhead_fraction"].between(0, 1).all()
        # Power must at least cover the accelerators' TDP.
        and all(
            row.max_power_w
            >= row.accelerator_count * accelerator(row.accelerator_model)["tdp_w"]
            for row in f.itertuples()
        )
    ),
    "commitment_discounts": lambda f: (
        f["discount_fraction"].between(0, 1).all()
        and (f["discount_low_fraction"] <= f["discount_fraction"]).all()
        and (f["discount_fraction"] <= f["discount_high_fraction"]).all()
        and f["term_years"].isin([1, 3]).all()
    ),
    "grid_intensity": lambda f: f["co2e_g_per_kwh"].between(0, 2000).all(),
    "pue": lambda f: f["pue"].between(1.0, 3.0).all(),
    "electricity_prices": lambda f: f["price_usd_per_kwh"].between(0, 2).all(),
    "cloud_price_history": lambda f: (
        f["on_demand_usd_per_accelerator_hour"].between(0.01, 100).all()
        and (f["currency_year"] == f["price_date"].str[:4].astype(int)).all()
    ),
}


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_load_catalog_values_are_physically_possible(name):
    assert PHYSICAL_CHECKS[name](load_catalog(name))


def test_load_catalog_returns_a_fresh_copy():
    first = load_catalog("pue")
    first.loc[:, "pue"] = 99.0
    assert load_catalog("pue")["pue"].max() < 3


def test_catalog_key_unknown_name_raises():
    with pytest.raises(
        CatalogError, match=r"catalog:0:name: unknown catalog name 'cloud'"
    ):
        catalog_key("cloud")


def test_load_catalog_unknown_name_lists_close_match():
    with pytest.raises(CatalogError, match="did you mean cloud_prices"):
        load_catalog("cloud_price")


def test_catalog_does_no_io_at_import():
    code = (
        "import sys, pricing.catalog as c; "
        "sys.exit(c._shipped_frame.cache_info().currsize)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO_ROOT)
    assert result.returncode == 0


# --------------------------------------------------------------------------
# Cross-catalog consistency
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cloud_prices", "servers"])
def test_accelerator_models_exist_in_accelerators(name):
    known = set(load_catalog("accelerators")["accelerator_model"])
    assert set(load_catalog(name)["accelerator_model"]) <= known


def test_servers_estimate_price_is_count_times_chip_price_times_factor():
    frame = load_catalog("servers")
    estimates = frame[frame["price_basis"] == "estimate"]
    assert len(estimates) >= 7
    expected = (
        estimates["accelerator_count"]
        * estimates["accelerator_price_usd"]
        * estimates["chip_to_server_factor"]
    ).round()
    np.testing.assert_array_equal(estimates["server_price_usd"], expected)
    assert (
        estimates["notes"].str.contains("estimate: replace with a vendor quote").all()
    )


def test_servers_embodied_follows_bloom_rule():
    # Luccioni et al. 2023 (BLOOM): ~2,500 kg per node excl. GPUs + ~150 kg per GPU.
    frame = load_catalog("servers")
    expected = 2500 + 150 * frame["accelerator_count"]
    np.testing.assert_array_equal(frame["embodied_co2e_kg"], expected)


def test_servers_required_configurations_present():
    names = set(load_catalog("servers")["server"])
    required = {"8xH100-SXM", "8xH200", "8xB200", "8xA100-80GB", "4xL40S", "8xMI300X"}
    assert required <= names
    assert {"8xL40S", "4xH100-PCIe"} & names


def test_accelerators_reference_has_relative_throughput_one():
    assert accelerator(catalog.REFERENCE_ACCELERATOR)["relative_throughput"] == 1.0


def test_accelerators_peak_fp16_column_is_fp16_ratio_where_tensor_basis():
    frame = load_catalog("accelerators")
    tensor = frame[
        frame["throughput_basis"].str.contains(
            "peak FP16 column: dense FP16/BF16", na=False
        )
    ]
    assert len(tensor) > 20
    ratio = tensor["fp16_bf16_dense_tflops"] / 312.0
    # relative_throughput_peak_fp16 is stored to 4 decimals.
    np.testing.assert_allclose(
        tensor["relative_throughput_peak_fp16"], ratio, atol=5e-5
    )


MLPERF = REPO_ROOT / "tests" / "data" / "mlperf" / "time_to_train.csv"


def _mlperf_minutes(round_, model, benchmark, *, submitter=None, accelerators=8):
    table = pd.read_csv(MLPERF)
    match = table[
        (table["mlperf_round"] == round_)
        & (table["accelerator_model"] == model)
        & (table["benchmark"] == benchmark)
        & (table["accelerators"] == accelerators)
    ]
    if submitter is not None:
        match = match[match["submitter"] == submitter]
    (minutes,) = match["olympic_mean_minutes"]
    return float(minutes)


def _mlperf_chain():
    """Relative throughput from MLPerf time to train (README: accelerators.csv)."""
    t = _mlperf_minutes
    h100 = t("v2.1", "A100-80GB-SXM4", "bert") / t("v2.1", "H100-80GB-SXM5", "bert")
    lora = "llama2_70b_lora"
    h200 = h100 * t("v4.0", "H100-80GB-SXM5", lora) / t("v4.0", "H200-141GB", lora)

    def vs_h200(model):
        ratios = [
            t("v5.0", "H200-141GB", lora, submitter=s)
            / t("v5.0", model, lora, submitter=s)
            for s in ("Dell", "Oracle")
        ]
        return h200 * sum(ratios) / len(ratios)

    l40s_per_gpu = (64 * t("v4.0", "H100-80GB-SXM5", lora, accelerators=64)) / (
        64 * t("v4.0", "L40S", lora, accelerators=64)
    )
    return {
        "A100-80GB-SXM4": 1.0,
        "H100-80GB-SXM5": h100,
        "H200-141GB": h200,
        "B200": vs_h200("B200"),
        "MI300X": vs_h200("MI300X"),
        "L40S": h100 * l40s_per_gpu,
        "Gaudi2": t("v2.1", "A100-80GB-SXM4", "bert") / t("v2.1", "Gaudi2", "bert"),
        "V100-16GB-SXM2": t("v0.7", "A100-40GB-SXM4", "bert")
        / t("v0.7", "V100-16GB-SXM2", "bert"),
    }


@pytest.mark.parametrize(("model", "expected"), _mlperf_chain().items())
def test_accelerators_relative_throughput_is_the_mlperf_chain(model, expected):
    # MLPerf Training v0.7, v2.1, v4.0, v5.0 result logs (closed division); the
    # times were computed from the logs to 4 decimals of a minute, the catalog
    # stores the ratio to 4 decimals: one unit of that last digit.
    row = accelerator(model)
    assert row["relative_throughput"] == pytest.approx(expected, abs=1e-4)
    assert row["throughput_basis"].startswith(("benchmark", "reference"))
    assert "MLPerf Training" in row["throughput_workload"]
    assert "mlcommons/training_results_" in row["throughput_source"]


def test_accelerators_measured_speed_is_below_peak_fp16_ratio():
    # Measured training speed-ups never exceed the peak-FP16 ratio here, so the
    # default no longer rewards peak FLOPS (H100 2.67 vs 3.17, MI300X 2.44 vs 4.19).
    for model in _mlperf_chain():
        row = accelerator(model)
        assert row["relative_throughput"] <= row["relative_throughput_peak_fp16"] * 1.05


def test_accelerators_without_benchmark_say_so_and_use_a_named_fallback():
    frame = load_catalog("accelerators")
    measured = set(_mlperf_chain())
    rest = frame[~frame["accelerator_model"].isin(measured)]
    valued = rest[rest["relative_throughput"].notna()]
    assert (valued["throughput_basis"].str.startswith("fallback (no benchmark")).all()
    # Never silently the peak ratio: every fallback is below it (or equal for
    # the A100 variants, the reference chip).
    a100 = valued["accelerator_model"].str.startswith("A100")
    below = valued["relative_throughput"] < valued["relative_throughput_peak_fp16"]
    assert (below | a100).all()
    blank = rest[rest["relative_throughput"].isna()]
    assert blank["relative_throughput_peak_fp16"].isna().all()
    assert blank["throughput_basis"].str.contains("no benchmark found").all()


def test_accelerators_fallback_factor_of_a_comparable_chip():
    # H100 PCIe: its peak ratio x the H100 SXM measured/peak ratio.
    sxm = accelerator("H100-80GB-SXM5")
    pcie = accelerator("H100-80GB-PCIe")
    factor = sxm["relative_throughput"] / sxm["relative_throughput_peak_fp16"]
    assert pcie["relative_throughput"] == pytest.approx(
        pcie["relative_throughput_peak_fp16"] * factor, abs=2e-4
    )


def test_accelerators_tpu_v3_tdp_is_googles_450_w():
    # Jouppi et al., ISCA 2021, Table 1: TPUv3 TDP 450 W (TPUv2 280 W).
    assert accelerator("TPU-v3")["tdp_w"] == 450.0
    assert accelerator("TPU-v2")["tdp_w"] == 280.0


def test_accelerators_strubell_gpus_present():
    # Strubell et al. 2019: Titan X and GTX 1080 Ti (measurements), M40 (LISA).
    for model in ("GTX-1080Ti", "Titan-X-Pascal", "M40"):
        assert accelerator(model)["tdp_w"] == 250.0
    assert accelerator("GTX-1080Ti")["launch_price_usd"] == 699.0


def test_default_cloud_offers_exclude_flagged_and_unpriced_rows():
    everything = load_catalog("cloud_prices")
    offers = default_cloud_offers()
    assert offers["quality_flag"].isna().all()
    assert offers["on_demand_usd_per_hour"].notna().all()
    flagged = everything["quality_flag"].notna().sum()
    unpriced = (
        everything["quality_flag"].isna() & everything["on_demand_usd_per_hour"].isna()
    ).sum()
    assert flagged == 77  # upstream: 69 suspect_low_on_demand + 8 spot_above_on_demand
    assert unpriced == 3  # p5e.48xlarge: capacity blocks only
    assert len(offers) == len(everything) - flagged - unpriced


# --------------------------------------------------------------------------
# Published numbers
# --------------------------------------------------------------------------


def test_cloud_offer_aws_p4d_us_east_1_on_demand():
    # AWS p4d.24xlarge (8x A100 40GB) us-east-1 on-demand after the 2025 P4/P5 price
    # cut: 21.96 USD/h (shared/data README sanity check; SkyPilot v8 AWS catalog).
    # Published to the cent, so the tolerance is half a cent.
    offer = cloud_offer(**P4D)
    assert offer["on_demand_usd_per_hour"] == pytest.approx(21.96, abs=0.005)
    assert offer["accelerator_model"] == "A100-40GB-SXM4"


def test_cloud_offer_azure_nd96amsr_a100_v4_eastus_on_demand():
    # Azure ND96amsr_A100_v4 (8x A100 80GB) eastus pay-as-you-go: 32.77 USD/h
    # (anycloud-sh/catalog azure/vms.csv @62ff0a98, 2026-05-20); to the cent.
    offer = cloud_offer("azure", "eastus", "Standard_ND96amsr_A100_v4")
    assert offer["on_demand_usd_per_hour"] == pytest.approx(32.77, abs=0.005)
    assert offer["accelerator_count"] == 8


def test_pue_strubell_2019():
    # Strubell, Ganesh & McCallum (ACL 2019), eq. 1: PUE 1.58, the Uptime
    # Institute 2018 global average; two decimals published.
    assert pue("Strubell et al. 2019") == pytest.approx(1.58, abs=0.005)


def test_server_strubell_2019_price():
    # Strubell et al. 2019, section 5: "an off-the-shelf GPU server containing 8
    # NVIDIA 1080 Ti GPUs ... approximately $20,000 USD".
    row = server("8xGTX1080Ti-2019")
    assert row["server_price_usd"] == 20000
    assert row["price_basis"] == "published"
    assert row["accelerator_count"] == 8
    assert row["accelerator_model"] == "GTX-1080Ti"


def test_server_dgx_h100_max_power():
    # NVIDIA DGX H100/H200 User Guide, power specifications: 10.2 kW max.
    assert server("8xH100-SXM")["max_power_w"] == 10200


def test_commitment_discount_gcp_one_year_published():
    # Google Cloud 1-yr CUD, e.g. A100 40GB us-central1 $1.85 vs $2.93 (2022-12-12).
    row = commitment_discount("gcp", 1)
    assert row["discount_fraction"] == pytest.approx(1 - 1.85 / 2.93, abs=0.005)
    assert row["basis"] == "published"


def test_commitment_discount_every_provider_and_term_has_a_default():
    for provider in ("aws", "gcp", "azure", "lambda", "nebius"):
        for term in (1, 3):
            assert 0 < commitment_discount(provider, term)["discount_fraction"] < 1


def test_pue_university_machine_room_is_marked_assumption():
    frame = load_catalog("pue")
    row = frame[frame["facility"] == "university machine room"].iloc[0]
    assert row["pue"] == 1.5
    assert "assumption" in row["source"]


def test_pue_aws_and_google_fleet_values():
    # DCD 2024: AWS global PUE 1.15 in 2023; Google 2024 report: 1.10 in 2023.
    frame = load_catalog("pue")
    aws_2023 = frame[(frame["facility"] == "aws") & (frame["year"] == 2023)]
    assert aws_2023["pue"].tolist() == [1.15]
    gcp_2023 = frame[
        (frame["facility"] == "gcp") & frame["region"].isna() & (frame["year"] == 2023)
    ]
    assert gcp_2023["pue"].tolist() == [1.10]


def test_pue_region_falls_back_to_facility_wide_row():
    assert pue("gcp", region="europe-west1") == 1.08
    assert pue("gcp", region="no-such-region") == pue("gcp")


def test_grid_intensity_levels():
    world = grid_intensity_co2e_g_per_kwh()
    germany = grid_intensity_co2e_g_per_kwh(country_iso2="de")
    california = grid_intensity_co2e_g_per_kwh(subdivision_code="US-CA")
    netherlands_region = grid_intensity_co2e_g_per_kwh(
        provider="gcp", cloud_region="europe-west4"
    )
    for value in (world, germany, california, netherlands_region):
        assert 0 < value < 1000


def test_grid_intensity_provider_without_region_raises():
    with pytest.raises(ValueError, match="cloud_region"):
        grid_intensity_co2e_g_per_kwh(provider="aws")


@pytest.mark.parametrize(
    ("lookup", "match"),
    [
        (lambda: accelerator("H100"), "close matches: H100-80GB-SXM5"),
        (lambda: server("8xH100"), "close matches: 8xH100-SXM"),
        (
            lambda: cloud_offer("amazon", "us-east-1", "p4d.24xlarge"),
            "unknown cloud provider",
        ),
        (
            lambda: cloud_offer("aws", "us-east-1", "p4d.24xl"),
            "close matches: p4d.24xlarge",
        ),
        (lambda: commitment_discount("aws", 2), "terms for this provider: \\[1, 3\\]"),
        (lambda: pue("amazon web services"), "no PUE for facility"),
        (lambda: grid_intensity_co2e_g_per_kwh(country_iso2="XX"), "no grid intensity"),
    ],
)
def test_lookup_unknown_item_lists_close_matches(lookup, match):
    with pytest.raises(UnknownCatalogItemError, match=match):
        lookup()


def test_unknown_item_error_is_value_error_and_lookup_error():
    with pytest.raises(ValueError, match="H100"):
        accelerator("H100")
    with pytest.raises(LookupError):
        accelerator("H100")


# --------------------------------------------------------------------------
# Overlays
# --------------------------------------------------------------------------


def test_overlay_replaces_and_appends_and_marks_user_supplied():
    shipped = load_catalog("cloud_prices")
    merged = load_catalog("cloud_prices", overlay=OVERLAYS / "cloud_prices_valid.csv")
    assert len(merged) == len(shipped) + 1
    user = merged[merged["user_supplied"]]
    assert len(user) == 2
    replaced = cloud_offer(**P4D, overlay=OVERLAYS / "cloud_prices_valid.csv")
    assert replaced["on_demand_usd_per_hour"] == 19.0
    assert replaced["user_supplied"]
    assert replaced["source"] == "user overlay cloud_prices_valid.csv"
    assert replaced["source_date"]  # today's date filled in
    new = cloud_offer(
        "campus", "on-site", "gpu-node-8x", overlay=OVERLAYS / "cloud_prices_valid.csv"
    )
    assert new["source"] == "internal recharge rate sheet 2026"
    # Replacement keeps the shipped row's position; new keys go at the end.
    position = shipped.index[
        (shipped["provider"] == "aws")
        & (shipped["region"] == "us-east-1")
        & (shipped["instance_type"] == "p4d.24xlarge")
    ][0]
    assert merged.loc[position, "on_demand_usd_per_hour"] == 19.0
    assert merged.iloc[-1]["instance_type"] == "gpu-node-8x"


def test_overlay_user_default_commitment_wins(tmp_path):
    row = _shipped_row("commitment_discounts", provider="aws", term_years=1)
    row.update(
        purchase_option="negotiated",
        discount_fraction="0.5",
        discount_low_fraction="0.5",
        discount_high_fraction="0.5",
        source="",
        source_date="",
    )
    path = _write_csv(
        tmp_path / "discounts.csv", _columns("commitment_discounts"), [row]
    )
    chosen = commitment_discount("aws", 1, overlay=path)
    assert chosen["discount_fraction"] == 0.5
    assert chosen["user_supplied"]


def test_overlay_user_pue_row_wins(tmp_path):
    row = {"facility": "aws", "pue": "1.3", "year": "2020", "preferred": "false"}
    path = _write_csv(tmp_path / "pue.csv", _columns("pue"), [row])
    assert pue("aws", overlay=path) == 1.3
    assert pue("aws") == 1.14


def _bad_cloud_overlay(tmp_path, *, drop=None, add=None, **changes):
    header = [c for c in _columns("cloud_prices") if c != drop] + ([add] if add else [])
    row = {**_shipped_row("cloud_prices", **P4D), **changes}
    if add:
        row[add] = "x"
    return _write_csv(tmp_path / "overlay.csv", header, [row])


BAD_INPUTS = {
    "missing column": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, drop="spot_usd_per_hour"),
        "overlay.csv:1:spot_usd_per_hour: missing column",
    ),
    "unknown column": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, add="discount"),
        "overlay.csv:1:discount: unknown column",
    ),
    "non-numeric cell": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, on_demand_usd_per_hour="twenty"),
        "overlay.csv:2:on_demand_usd_per_hour: Input should be a valid number",
    ),
    "negative price": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, spot_usd_per_hour="-1"),
        "overlay.csv:2:spot_usd_per_hour: Input should be greater than or equal to 0",
    ),
    "zero on-demand price": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, on_demand_usd_per_hour="0"),
        "overlay.csv:2:on_demand_usd_per_hour: Input should be greater than 0",
    ),
    "unknown accelerator in cloud_prices": (
        "cloud_prices",
        lambda p: _bad_cloud_overlay(p, accelerator_model="A100-SXM"),
        "overlay.csv:2:accelerator_model: unknown accelerator_model 'A100-SXM'; "
        "close matches:",
    ),
    "PUE below 1": (
        "pue",
        lambda p: _write_csv(
            p / "pue.csv",
            _columns("pue"),
            [{"facility": "basement", "pue": "0.9", "preferred": "true"}],
        ),
        "pue.csv:2:pue: Input should be greater than or equal to 1",
    ),
    "duplicate key": (
        "cloud_prices",
        lambda p: _write_csv(
            p / "overlay.csv",
            _columns("cloud_prices"),
            [_shipped_row("cloud_prices", **P4D), _shipped_row("cloud_prices", **P4D)],
        ),
        "overlay.csv:3:provider+region+instance_type: duplicate key "
        "('aws', 'us-east-1', 'p4d.24xlarge'), first on line 2",
    ),
    "unknown accelerator in servers": (
        "servers",
        lambda p: _write_csv(
            p / "servers.csv",
            _columns("servers"),
            [
                {
                    **_shipped_row("servers", server="8xH100-SXM"),
                    "accelerator_model": "H100",
                }
            ],
        ),
        "servers.csv:2:accelerator_model: unknown accelerator_model 'H100'",
    ),
    "inconsistent server estimate": (
        "servers",
        lambda p: _write_csv(
            p / "servers.csv",
            _columns("servers"),
            [
                {
                    **_shipped_row("servers", server="8xH100-SXM"),
                    "server_price_usd": "250000",
                }
            ],
        ),
        "servers.csv:2:server_price_usd: for estimate rows server_price_usd must equal",
    ),
    "blank required cell": (
        "servers",
        lambda p: _write_csv(
            p / "servers.csv",
            _columns("servers"),
            [{**_shipped_row("servers", server="8xH100-SXM"), "max_power_w": ""}],
        ),
        "servers.csv:2:max_power_w: value required, cell is blank",
    ),
    "fraction above 1": (
        "commitment_discounts",
        lambda p: _write_csv(
            p / "disc.csv",
            _columns("commitment_discounts"),
            [
                {
                    **_shipped_row(
                        "commitment_discounts", provider="gcp", term_years=3
                    ),
                    "discount_high_fraction": "1.2",
                }
            ],
        ),
        "disc.csv:2:discount_high_fraction: Input should be less than or equal to 1",
    ),
}


@pytest.mark.parametrize(
    ("name", "make", "expected"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys()
)
def test_overlay_bad_input_reports_file_row_column(tmp_path, name, make, expected):
    path = make(tmp_path)
    with pytest.raises(CatalogError) as caught:
        load_catalog(name, overlay=path)
    assert any(problem.startswith(expected) for problem in caught.value.problems), (
        caught.value.problems
    )
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_overlay_reports_all_problems_of_a_file():
    with pytest.raises(CatalogError) as caught:
        load_catalog("servers", overlay=OVERLAYS / "servers_several_problems.csv")
    problems = caught.value.problems
    locations = [":".join(problem.split(":")[:3]) for problem in problems]
    assert locations == [
        "servers_several_problems.csv:1:vendor_sku",
        "servers_several_problems.csv:2:accelerator_model",
        "servers_several_problems.csv:3:accelerator_price_usd",
        "servers_several_problems.csv:4:server",
        "servers_several_problems.csv:4:server_price_usd",
        "servers_several_problems.csv:4:cluster_overhead_fraction",
    ]


def test_overlay_unreadable_file_is_a_catalog_error(tmp_path):
    with pytest.raises(
        CatalogError, match=r"nothing\.csv:0:-: cannot read overlay file"
    ):
        load_catalog("pue", overlay=tmp_path / "nothing.csv")


def test_shipped_catalog_unchanged_after_failed_overlay():
    before = load_catalog("servers")
    with pytest.raises(CatalogError):
        load_catalog("servers", overlay=OVERLAYS / "servers_several_problems.csv")
    after = load_catalog("servers")
    pd.testing.assert_frame_equal(before, after)
    assert server("8xH100-SXM")["server_price_usd"] == 308000


@settings(max_examples=25, deadline=None)
@given(
    price=st.floats(
        min_value=0.01, max_value=1e5, allow_nan=False, allow_infinity=False
    )
)
def test_overlay_positive_price_round_trips(price):
    row = {**_shipped_row("cloud_prices", **P4D), "on_demand_usd_per_hour": repr(price)}
    with tempfile.TemporaryDirectory() as directory:
        path = _write_csv(
            Path(directory) / "overlay.csv", _columns("cloud_prices"), [row]
        )
        merged = load_catalog("cloud_prices", overlay=path)
        offer = cloud_offer(**P4D, overlay=path)
    assert offer["on_demand_usd_per_hour"] == price
    assert offer["user_supplied"]
    assert len(merged) == len(load_catalog("cloud_prices"))


# --------------------------------------------------------------------------
# Row models
# --------------------------------------------------------------------------


def test_row_models_forbid_unknown_fields_and_are_frozen():
    row = catalog.PueRow.model_validate(
        {
            "facility": "x",
            "pue": "1.2",
            "preferred": "true",
            "source": "s",
            "source_date": "2026",
        }
    )
    with pytest.raises(ValidationError):
        row.pue = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="pue_typo"):
        catalog.PueRow.model_validate(
            {
                "facility": "x",
                "pue": "1.2",
                "preferred": "true",
                "source": "s",
                "source_date": "2026",
                "pue_typo": "1",
            }
        )


def test_row_models_document_every_field():
    for spec in catalog._SPECS.values():
        for name, field in spec.row_model.model_fields.items():
            assert field.description, f"{spec.row_model.__name__}.{name}"


# --------------------------------------------------------------------------
# Rows checked against their sources (issue 12)
# --------------------------------------------------------------------------


def test_server_8x_a100_uses_the_2022_list_price():
    # The Next Platform (2022-05-09): A100 SXM4 $12,500 in 2022; Cottier et al.
    # 2024 chip-to-server factor 1.66 -> 8 x 12,500 x 1.66.
    row = server("8xA100-80GB")
    assert row["server_price_usd"] == 8 * 12_500 * 1.66
    assert row["currency_year"] == 2022


def test_aws_three_year_discount_range_covers_earlier_gpu_generations():
    # Epoch AI Hardware prices.csv: p2/K80 $0.43 vs $0.90 (3-yr, 2017-02-10).
    row = commitment_discount("aws", 3)
    assert row["discount_low_fraction"] == pytest.approx(1 - 0.43 / 0.90, abs=0.005)
    assert row["discount_fraction"] == 0.65
    assert "FLAG" in row["notes"]


@pytest.mark.parametrize("provider", ["aws", "nebius"])
def test_cloud_snapshot_dates_are_dated_lower_bounds(provider):
    frame = load_catalog("cloud_prices")
    dates = set(frame.loc[frame["provider"] == provider, "source_date"])
    assert len(dates) == 1
    assert dates.pop().startswith("on or after 2025-")


def test_gcp_a3_highgpu_us_central1_is_flagged_with_the_spot_check():
    row = cloud_offer("gcp", "us-central1", "a3-highgpu-8g")
    assert row["quality_flag"] == "suspect_low_on_demand"
    assert "60-91 %" in row["notes"]
