"""Tests of the catalog refresh: importers, validation, diff, atomic update."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pricing import refresh
from pricing.catalog import Catalog, CatalogError, load_catalog
from pricing.refresh import (
    RefreshRefusedError,
    diff_prices,
    fetch_azure_pages,
    format_diff,
    read_azure_pages,
    read_skypilot_catalog,
    update_cloud_prices,
    validate_prices,
)

DATA = Path(__file__).parents[1] / "data"
EXCERPT = DATA / "skypilot" / "v8_excerpt"
PAGES = DATA / "azure" / "retail_prices_gpu_pages.jsonl"
SHIPPED = Path(refresh.__file__).parent / "data" / "cloud_prices.csv"
DAY = dt.date(2026, 12, 1)
KEY = ["provider", "region", "instance_type"]


def _shipped(provider: str) -> pd.DataFrame:
    frame = load_catalog("cloud_prices")
    return frame[frame["provider"] == provider]


def _excerpt_copy(tmp_path: Path, edit=None) -> Path:
    """A copy of the recorded excerpt, optionally edited line by line."""
    target = tmp_path / "catalog" / "aws"
    target.mkdir(parents=True)
    lines = (EXCERPT / "aws" / "vms.csv").read_text(encoding="utf-8").splitlines()
    if edit is not None:
        lines = edit(lines)
    (target / "vms.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target.parent


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / "cloud_prices.csv")
    return folder


# --------------------------------------------------------------------------
# SkyPilot importer
# --------------------------------------------------------------------------


def test_skypilot_excerpt_reproduces_the_shipped_rows():
    # The shipped AWS rows were built from the same file (commit 00148f2):
    # on-demand per region, spot = median of the zones' spot prices.
    (aws,) = read_skypilot_catalog(EXCERPT, snapshot_date=DAY)
    assert aws.provider == "aws"
    merged = aws.rows.merge(_shipped("aws"), on=KEY, suffixes=("", "_shipped"))
    assert len(merged) == len(aws.rows) == 6
    for column in ("on_demand_usd_per_hour", "spot_usd_per_hour"):
        pd.testing.assert_series_equal(
            merged[column],
            merged[f"{column}_shipped"],
            check_names=False,
            rtol=1e-6,
        )
    assert (merged["accelerator_model"] == merged["accelerator_model_shipped"]).all()
    assert set(aws.rows["source_date"]) == {"2026-12-01"}
    assert set(aws.rows["currency_year"]) == {2026}


def test_skypilot_zones_collapse_without_local_zones():
    (aws,) = read_skypilot_catalog(EXCERPT, snapshot_date=DAY)
    row = aws.rows.set_index(["region", "instance_type"]).loc[
        ("us-east-1", "p3.8xlarge")
    ]
    # Zones az1, az2, az5, az6 have spot prices 1.4427, 1.5132, 1.4129, 1.4762.
    assert row["spot_usd_per_hour"] == pytest.approx((1.4427 + 1.4762) / 2)
    assert "6 zone(s)" in row["notes"]
    assert "1 Local-Zone rows (zone ids with a city segment)" in aws.skipped
    assert "3 rows without an accelerator (CPU instance types)" in aws.skipped


def _replace(old: str, new: str, *, line: int):
    def edit(lines):
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        return lines

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda lines: [lines[0].replace(",Price,", ",Cost,"), *lines[1:]],
            "aws/vms.csv:1:Price: missing column",
        ),
        (
            _replace(",21.957642,", ",free,", line=17),
            "aws/vms.csv:17:Price: not a number",
        ),
        (
            _replace(",21.957642,", ",-21.957642,", line=17),
            "aws/vms.csv:17:Price: negative price or count, got -21.9576",
        ),
        (
            lambda lines: [*lines, lines[16]],
            "aws/vms.csv:28:InstanceType: duplicate row p4d.24xlarge in us-east-1 "
            "use1-az1, first on line 17",
        ),
        (
            # A new instance type: a known one keeps its catalog model.
            _replace("p4d.24xlarge,A100,", "p9.48xlarge,A100X,", line=17),
            "aws/vms.csv:17:AcceleratorName: unknown accelerator 'A100X'",
        ),
        (
            lambda lines: [*lines, "p4d.24xlarge,A100,8.0,96.0"],
            "aws/vms.csv:28:-: expected 11 cells, found 4",
        ),
    ],
)
def test_skypilot_bad_input_one_message_per_problem(tmp_path, edit, expected):
    folder = _excerpt_copy(tmp_path, edit)
    with pytest.raises(CatalogError) as caught:
        read_skypilot_catalog(folder, snapshot_date=DAY)
    assert any(line.startswith(expected) for line in caught.value.problems), (
        caught.value.problems
    )


def test_skypilot_reports_every_problem_at_once(tmp_path):
    def edit(lines):
        lines[16] = lines[16].replace(",21.957642,", ",-1,")
        lines[17] = lines[17].replace(",21.957642,", ",x,")
        return lines

    with pytest.raises(CatalogError) as caught:
        read_skypilot_catalog(_excerpt_copy(tmp_path, edit), snapshot_date=DAY)
    assert [line.split(":")[1] for line in caught.value.problems] == ["17", "18"]


def test_skypilot_unknown_accelerator_can_be_skipped(tmp_path):
    folder = _excerpt_copy(
        tmp_path,
        lambda lines: [
            line.replace("p3.8xlarge,V100,", "p9.8xlarge,V100Z,") for line in lines
        ],
    )
    (aws,) = read_skypilot_catalog(folder, snapshot_date=DAY, skip_unknown=True)
    assert set(aws.rows["instance_type"]) == {"p4d.24xlarge"}
    assert any("unknown accelerator 'V100Z'" in note for note in aws.skipped)


def test_skypilot_gcp_machine_price_plus_attached_gpu(tmp_path):
    folder = tmp_path / "sky" / "gcp"
    folder.mkdir(parents=True)
    header = (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,"
        "SpotPrice,Region,AvailabilityZone"
    )
    rows = [
        "a2-highgpu-8g,A100,8,96,680,5.0,1.0,us-central1,us-central1-a",
        ",A100,8,,,24.0,12.0,us-central1,us-central1-a",
        ",T4,1,,,0.35,0.1,us-central1,us-central1-a",
    ]
    (folder / "vms.csv").write_text("\n".join([header, *rows]) + "\n")
    (gcp,) = read_skypilot_catalog(folder.parent, snapshot_date=DAY)
    (row,) = gcp.rows.to_dict("records")
    assert (row["on_demand_usd_per_hour"], row["spot_usd_per_hour"]) == (29.0, 13.0)
    assert row["accelerator_model"] == "A100-40GB-SXM4"
    assert any("attachable-GPU rows" in note for note in gcp.skipped)


def test_skypilot_missing_directory_is_a_problem(tmp_path):
    with pytest.raises(CatalogError, match=r"no <cloud>/vms\.csv file"):
        read_skypilot_catalog(tmp_path, snapshot_date=DAY)


# --------------------------------------------------------------------------
# Azure importer
# --------------------------------------------------------------------------


def _pages() -> list[dict]:
    return [json.loads(line) for line in PAGES.read_text().splitlines()]


def _lines(pages: list[dict]) -> str:
    return "".join(json.dumps(page) + "\n" for page in pages)


def test_azure_pages_reproduce_the_shipped_rows_and_skip_the_rest():
    azure = read_azure_pages(PAGES.read_text(), label=PAGES.name, snapshot_date=DAY)
    merged = azure.rows.merge(_shipped("azure"), on=KEY, suffixes=("", "_shipped"))
    assert len(merged) == len(azure.rows) == 3
    assert (
        merged["on_demand_usd_per_hour"] == merged["on_demand_usd_per_hour_shipped"]
    ).all()
    assert (merged["spot_usd_per_hour"] == merged["spot_usd_per_hour_shipped"]).all()
    skipped = " | ".join(azure.skipped)
    for reason in (
        "Windows",
        "Low Priority",
        "reservation",
        "non-GPU",
        "without a known spec",
    ):
        assert reason in skipped


def test_azure_accepts_a_json_array_of_pages():
    text = json.dumps(_pages())
    azure = read_azure_pages(text, label="pages.json", snapshot_date=DAY)
    assert len(azure.rows) == 3


def test_azure_truncated_page_names_line_and_column():
    text = PAGES.read_text()
    first, second = text.splitlines()
    truncated = first + "\n" + second[: len(second) // 2] + "\n"
    with pytest.raises(CatalogError) as caught:
        read_azure_pages(truncated, label="rec.jsonl", snapshot_date=DAY)
    (line,) = caught.value.problems
    assert line.startswith("rec.jsonl:2:")
    assert "truncated or invalid JSON page" in line


def test_azure_unknown_currency_and_duplicate_and_missing_last_page():
    pages = _pages()
    pages[0]["Items"][0]["currencyCode"] = "EUR"
    pages[1]["Items"].append(dict(pages[1]["Items"][0]))
    pages[1]["NextPageLink"] = "https://prices.azure.com/api/retail/prices?$skip=2000"
    with pytest.raises(CatalogError) as caught:
        read_azure_pages(_lines(pages), label="rec.jsonl", snapshot_date=DAY)
    problems = caught.value.problems
    assert any(
        p.startswith("rec.jsonl:1:Items[0].currencyCode: unknown currency 'EUR'")
        for p in problems
    )
    assert any(p.startswith("rec.jsonl:2:Items[5]: duplicate item") for p in problems)
    assert any("ends before the last page" in p for p in problems)
    assert len(problems) == 3


def test_azure_page_without_items_and_negative_price():
    pages = _pages()
    pages[1]["Items"][0]["retailPrice"] = -3.0
    pages.append({"error": "throttled"})
    with pytest.raises(CatalogError) as caught:
        read_azure_pages(_lines(pages), label="rec.jsonl", snapshot_date=DAY)
    problems = caught.value.problems
    assert "rec.jsonl:2:Items[0].retailPrice: negative price, got -3" in problems
    assert "rec.jsonl:3:Items: not an API page (no Items list)" in problems


def test_fetch_azure_pages_follows_next_page_links():
    pages = _pages()
    seen: list[str] = []

    def get(url: str) -> str:
        seen.append(url)
        return json.dumps(pages[len(seen) - 1])

    text = fetch_azure_pages(get=get)
    assert len(seen) == 2
    assert seen[0].startswith(refresh.AZURE_RETAIL_PRICES_URL + "?%24filter=")
    assert seen[1] == pages[0]["NextPageLink"]
    azure = read_azure_pages(text, label="fetched", snapshot_date=DAY)
    assert len(azure.rows) == 3


def test_fetch_azure_pages_stops_a_link_loop():
    loop = {"Items": [], "NextPageLink": refresh.AZURE_RETAIL_PRICES_URL + "?again"}
    with pytest.raises(CatalogError, match="more than 3 pages"):
        fetch_azure_pages(get=lambda url: json.dumps(loop), max_pages=3)


def test_http_get_refuses_links_outside_the_price_api():
    with pytest.raises(ValueError, match="outside the price API"):
        refresh._http_get("https://example.invalid/steal")


# --------------------------------------------------------------------------
# Validation and diff
# --------------------------------------------------------------------------


def _rows(**changes) -> pd.DataFrame:
    (aws,) = read_skypilot_catalog(EXCERPT, snapshot_date=DAY)
    rows = aws.rows.copy()
    for column, value in changes.items():
        rows.loc[rows["instance_type"] == "p4d.24xlarge", column] = value
    return rows


def test_validate_spot_above_on_demand_unless_flagged():
    rows = _rows(spot_usd_per_hour=30.0)
    problems = validate_prices(rows, label="new.csv")
    assert len(problems) == 3
    assert all("above on-demand" in line for line in problems)
    flagged = _rows(spot_usd_per_hour=30.0, quality_flag="spot_above_on_demand")
    assert validate_prices(flagged, label="new.csv") == []


def test_validate_catches_a_per_accelerator_price_against_the_previous_one():
    previous = _shipped("aws")
    rows = _rows(on_demand_usd_per_hour=21.957642 / 8)
    problems = validate_prices(rows, label="new.csv", previous=previous)
    assert any("per-accelerator price" in line for line in problems)
    assert validate_prices(_rows(), label="new.csv", previous=previous) == []


def test_validate_negative_price():
    problems = validate_prices(_rows(spot_usd_per_hour=-1.0), label="new.csv")
    assert any("negative price -1" in line for line in problems)


def test_diff_counts_new_removed_changed():
    old = _rows()
    new = _rows(on_demand_usd_per_hour=11.0)
    new = pd.concat([new, new.iloc[[0]].assign(instance_type="p9.mega")])
    new = new[new["region"] != "us-west-2"]
    diff = diff_prices(old, new)
    assert (len(diff.added), len(diff.removed), len(diff.changed)) == (1, 2, 2)
    assert diff.unchanged == 2
    assert diff.changed["on_demand_change_fraction"].round(3).tolist() == [-0.499] * 2
    text = format_diff(diff)
    assert text.splitlines()[0] == "1 new, 2 removed, 2 changed, 2 unchanged"
    assert "(-49.9%)" in text


def test_diff_ignores_rounding():
    old = _rows()
    new = _rows(on_demand_usd_per_hour=21.95764)
    assert diff_prices(old, new).changed.empty


# --------------------------------------------------------------------------
# Update: refusal, snapshots, atomic writes
# --------------------------------------------------------------------------


def _imported(rows: pd.DataFrame) -> refresh.ImportedPrices:
    return refresh.ImportedPrices("aws", rows, "aws/vms.csv")


def _full_aws(**changes) -> pd.DataFrame:
    """The shipped AWS rows as a fresh snapshot, optionally with a price change."""
    rows = _shipped("aws").drop(columns="user_supplied").copy()
    rows["source_date"] = DAY.isoformat()
    for column, value in changes.items():
        mask = (rows["instance_type"] == "p4d.24xlarge") & (
            rows["region"] == "us-east-1"
        )
        rows.loc[mask, column] = value
    return rows


def test_update_dry_run_writes_nothing(data_dir):
    before = (data_dir / "cloud_prices.csv").read_bytes()
    result = update_cloud_prices(
        _imported(_full_aws()), data_dir=data_dir, dry_run=True
    )
    assert result.dry_run
    assert result.snapshot_path is None
    assert (data_dir / "cloud_prices.csv").read_bytes() == before
    assert not (data_dir / "snapshots").exists()


def test_update_refuses_a_90_percent_change_and_leaves_files_intact(data_dir):
    before = (data_dir / "cloud_prices.csv").read_bytes()
    rows = _full_aws(on_demand_usd_per_hour=21.957642 * 0.1, spot_usd_per_hour=0.8)
    with pytest.raises(RefreshRefusedError) as caught:
        update_cloud_prices(_imported(rows), data_dir=data_dir)
    (line,) = caught.value.problems
    assert "aws us-east-1 p4d.24xlarge: on-demand 21.96 -> 2.196 $/h (-90.0%)" in line
    assert "pass --force" in line
    assert (data_dir / "cloud_prices.csv").read_bytes() == before
    assert not (data_dir / "snapshots").exists()


def test_update_with_force_writes_a_dated_snapshot_and_the_catalog(data_dir):
    rows = _full_aws(on_demand_usd_per_hour=21.957642 * 0.1, spot_usd_per_hour=0.8)
    result = update_cloud_prices(_imported(rows), data_dir=data_dir, force=True)
    assert result.forced_changes == 1
    assert (
        result.snapshot_path
        == data_dir / "snapshots" / "cloud_prices_aws_2026-12-01.csv"
    )
    assert (
        result.archived_path
        == data_dir / "snapshots" / "cloud_prices_aws_2025-06-01.csv"
    )
    catalog = refresh.read_catalog_file(data_dir / "cloud_prices.csv")
    p4d = catalog.query(
        "provider == 'aws' and region == 'us-east-1' and "
        "instance_type == 'p4d.24xlarge'"
    )
    assert p4d["on_demand_usd_per_hour"].iloc[0] == pytest.approx(2.1957642)
    # Other providers are untouched, byte for byte.
    shipped = [
        line for line in SHIPPED.read_text().splitlines() if not line.startswith("aws,")
    ]
    written = [
        line
        for line in (data_dir / "cloud_prices.csv").read_text().splitlines()
        if not line.startswith("aws,")
    ]
    assert written == shipped


def test_update_never_overwrites_a_snapshot(data_dir):
    first = update_cloud_prices(_imported(_full_aws()), data_dir=data_dir)
    second = update_cloud_prices(
        _imported(_full_aws(spot_usd_per_hour=7.5)), data_dir=data_dir
    )
    assert first.snapshot_path != second.snapshot_path
    assert second.snapshot_path.name == "cloud_prices_aws_2026-12-01_2.csv"
    # The second diff is against the first snapshot: one spot price changed.
    assert len(second.diff.changed) == 1
    assert second.archived_path is None


def test_update_refuses_removing_most_rows(data_dir):
    (aws,) = read_skypilot_catalog(EXCERPT, snapshot_date=DAY)
    with pytest.raises(RefreshRefusedError, match="removes 171 of 177 aws rows"):
        update_cloud_prices(aws, data_dir=data_dir)


def test_update_invalid_rows_write_nothing(data_dir):
    rows = _full_aws(spot_usd_per_hour=99.0)
    before = (data_dir / "cloud_prices.csv").read_bytes()
    with pytest.raises(CatalogError, match="above on-demand"):
        update_cloud_prices(_imported(rows), data_dir=data_dir, force=True)
    assert (data_dir / "cloud_prices.csv").read_bytes() == before


def test_update_failure_while_renaming_restores_every_file(data_dir, monkeypatch):
    before = (data_dir / "cloud_prices.csv").read_bytes()
    real_replace = refresh.os.replace

    def failing_replace(source, target):
        if Path(target).name == "cloud_prices.csv":
            msg = "disk full"
            raise OSError(msg)
        real_replace(source, target)

    monkeypatch.setattr(refresh.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        update_cloud_prices(_imported(_full_aws()), data_dir=data_dir)
    assert (data_dir / "cloud_prices.csv").read_bytes() == before
    snapshots = data_dir / "snapshots"
    assert not list(snapshots.glob("*.csv"))
    assert not list(snapshots.glob(".*partial"))
    assert not list(data_dir.glob(".*partial"))


def test_update_result_is_readable_by_the_catalog(data_dir):
    result = update_cloud_prices(_imported(_full_aws()), data_dir=data_dir)
    text = result.snapshot_path.read_text()
    catalog = Catalog().with_overlay("cloud_prices", text, label="snap.csv")
    assert catalog.frame("cloud_prices")["user_supplied"].sum() == len(_full_aws())
