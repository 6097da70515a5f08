"""planner catalog update | diff | dates: outputs, refusals, exit status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planner import cli

DATA = Path(__file__).parents[1] / "data"
EXCERPT = DATA / "skypilot" / "v8_excerpt"
PAGES = DATA / "azure" / "retail_prices_gpu_pages.jsonl"
SHIPPED = Path(cli.__file__).parents[1] / "pricing" / "data" / "cloud_prices.csv"


def run(capsys, *argv):
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / "cloud_prices.csv")
    return folder


def _excerpt_with_p4d_price(tmp_path: Path, factor: float) -> Path:
    """The recorded excerpt with p4d on-demand and spot prices scaled."""
    folder = tmp_path / "sky" / "aws"
    folder.mkdir(parents=True)
    lines = (EXCERPT / "aws" / "vms.csv").read_text().splitlines()
    out = []
    for line in lines:
        if not line.startswith("p4d.24xlarge,"):
            out.append(line)
            continue
        head, tail = line.rsplit('}",', 1)
        price, spot, *rest = tail.split(",")
        scaled = [f"{float(price) * factor:.6f}", f"{float(spot) * factor:.6f}"]
        out.append(head + '}",' + ",".join([*scaled, *rest]))
    (folder / "vms.csv").write_text("\n".join(out) + "\n")
    return folder.parent


UPDATE = ("catalog", "update", "--date", "2026-12-01", "--threshold", "0.99")


def test_update_from_skypilot_prints_the_diff_and_writes_a_snapshot(
    capsys, tmp_path, data_dir
):
    sky = _excerpt_with_p4d_price(tmp_path, 0.8)
    status, out, err = run(
        capsys, *UPDATE, "--from", "skypilot", sky, "--data-dir", data_dir
    )
    assert status == 0, err
    assert out.startswith(
        "aws (aws/vms.csv):\n0 new, 171 removed, 3 changed, 3 unchanged"
    )
    assert (
        "changed aws us-east-1 p4d.24xlarge: on-demand 21.96 -> 17.57 $/h (-20.0%)"
        in out
    )
    assert "skipped: 1 Local-Zone rows" in out
    snapshot = data_dir / "snapshots" / "cloud_prices_aws_2026-12-01.csv"
    assert f"wrote {snapshot}" in out
    assert snapshot.exists()


def test_update_refuses_a_90_percent_change_without_force(capsys, tmp_path, data_dir):
    sky = _excerpt_with_p4d_price(tmp_path, 0.1)
    before = (data_dir / "cloud_prices.csv").read_bytes()
    argv = ("catalog", "update", "--date", "2026-12-01", "--from", "skypilot", sky)
    status, out, err = run(capsys, *argv, "--data-dir", data_dir)
    assert status == 2
    assert "(-90.0%)" in out  # the diff is printed before the refusal
    lines = err.strip().splitlines()
    # One line per p4d region beyond +/-50 %, and one for the rows the partial
    # excerpt would remove.
    assert len(lines) == 4
    assert sum("(-90.0%) is beyond +/-50%" in line for line in lines) == 3
    assert any("removes 171 of 177 aws rows" in line for line in lines)
    assert all(
        line.startswith("planner catalog: cloud_prices.csv:0:") for line in lines
    )
    assert all("pass --force to accept" in line for line in lines)
    assert "Traceback" not in err
    assert (data_dir / "cloud_prices.csv").read_bytes() == before
    assert not (data_dir / "snapshots").exists()
    status, out, err = run(capsys, *argv, "--data-dir", data_dir, "--force")
    assert status == 0, err
    assert "--force: accepted 4 refusal(s)" in out


def test_update_dry_run_writes_nothing(capsys, tmp_path, data_dir):
    sky = _excerpt_with_p4d_price(tmp_path, 0.8)
    before = (data_dir / "cloud_prices.csv").read_bytes()
    status, out, _ = run(
        capsys, *UPDATE, "--from", "skypilot", sky, "--data-dir", data_dir, "--dry-run"
    )
    assert status == 0
    assert out.rstrip().endswith("dry run: nothing written")
    assert (data_dir / "cloud_prices.csv").read_bytes() == before


def test_update_from_recorded_azure_pages(capsys, data_dir):
    status, out, err = run(
        capsys,
        *UPDATE,
        "--from",
        "azure",
        "--offline",
        PAGES,
        "--data-dir",
        data_dir,
        "--force",
    )
    assert status == 0, err
    assert "0 new, 826 removed, 0 changed, 3 unchanged" in out
    assert "skipped: 1 Windows items" in out


def test_update_truncated_azure_page_exits_2_with_file_line_column(
    capsys, tmp_path, data_dir
):
    first, second = PAGES.read_text().splitlines()
    bad = tmp_path / "cut.jsonl"
    bad.write_text(first + "\n" + second[:300] + "\n")
    status, out, err = run(
        capsys, *UPDATE, "--from", "azure", "--offline", bad, "--data-dir", data_dir
    )
    assert status == 2
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("planner catalog: cut.jsonl:2:")
    assert "truncated or invalid JSON page" in line


def test_update_unknown_currency_exits_2(capsys, tmp_path, data_dir):
    pages = [json.loads(line) for line in PAGES.read_text().splitlines()]
    pages[0]["BillingCurrency"] = "EUR"
    bad = tmp_path / "eur.jsonl"
    bad.write_text("".join(json.dumps(page) + "\n" for page in pages))
    status, _, err = run(
        capsys, *UPDATE, "--from", "azure", "--offline", bad, "--data-dir", data_dir
    )
    assert status == 2
    assert "eur.jsonl:1:BillingCurrency: unknown currency 'EUR'" in err


def test_update_malformed_skypilot_file_exits_2(capsys, tmp_path, data_dir):
    folder = tmp_path / "broken" / "aws"
    folder.mkdir(parents=True)
    (folder / "vms.csv").write_text("InstanceType,Price\np4d.24xlarge,-3\n")
    status, out, err = run(
        capsys, *UPDATE, "--from", "skypilot", folder.parent, "--data-dir", data_dir
    )
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert "planner catalog: aws/vms.csv:1:AcceleratorName: missing column" in lines
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("catalog", "update"), "update needs --from skypilot DIR or --from azure"),
        (("catalog", "update", "--from", "skypilot"), "needs exactly one directory"),
        (("catalog", "update", "--from", "gcs"), "expected skypilot or azure"),
        (("catalog", "update", "--from", "azure", "x"), "takes no directory"),
        (("catalog", "pue", "extra"), "unexpected argument(s) 'extra'"),
        (("catalog", "pue", "--force"), "--force is an option of"),
        (("catalog", "diff", "one.csv"), "diff needs two files"),
        (("catalog", "dates", "--date", "soon"), "expected an ISO date"),
    ],
)
def test_catalog_usage_errors_exit_2(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_catalog_diff_of_two_snapshots(capsys, tmp_path, data_dir):
    sky = _excerpt_with_p4d_price(tmp_path, 0.8)
    run(capsys, *UPDATE, "--from", "skypilot", sky, "--data-dir", data_dir)
    snapshots = sorted((data_dir / "snapshots").glob("*.csv"))
    assert [p.name for p in snapshots] == [
        "cloud_prices_aws_2025-06-01.csv",
        "cloud_prices_aws_2026-12-01.csv",
    ]
    status, out, _ = run(capsys, "catalog", "diff", *snapshots)
    assert status == 0
    assert out.startswith("0 new, 171 removed, 3 changed, 3 unchanged")


def test_catalog_diff_bad_file_exits_2(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("provider,price\naws,1\n")
    status, _, err = run(capsys, "catalog", "diff", bad, SHIPPED)
    assert status == 2
    assert "bad.csv:1:price: unknown column" in err


def test_catalog_dates_lists_every_catalog_and_warns(capsys):
    status, out, err = run(capsys, "catalog", "dates", "--date", "2026-12-01")
    assert status == 0
    assert "cloud_price_history" in out
    assert (
        "warning: cloud_prices (gcp): newest source date 2026-05-20 is 195 days" in err
    )


def test_catalog_name_still_shows_a_catalog(capsys):
    status, out, _ = run(capsys, "catalog", "cloud_price_history", "--format", "csv")
    assert status == 0
    assert out.startswith("provider,region,instance_type,accelerator_model")
