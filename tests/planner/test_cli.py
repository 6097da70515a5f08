"""The command line: outputs, formats, and one readable line per user error."""

import json
import subprocess
import sys

import pytest

from planner import cli
from planner.reference import strubell2019


def run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_strubell_json_has_the_documented_shape(capsys):
    status, out, _ = run(capsys, "strubell", "--format", "json")
    assert status == 0
    payload = json.loads(out)
    assert set(payload) >= {"table1", "table3", "table4", "hardware_vs_cloud"}
    row = payload["table3"][0]
    assert {
        "model",
        "hardware",
        "hours",
        "power_w",
        "kwh_pue",
        "co2e_lbs",
        "cloud_cost_low_usd",
        "cloud_cost_high_usd",
    } <= set(row)
    assert {
        "models",
        "hours",
        "cloud_cost_low_usd",
        "cloud_cost_high_usd",
        "electricity_usd",
    } <= set(payload["table4"][0])
    hvc = payload["hardware_vs_cloud"]
    assert hvc == pytest.approx(strubell2019.hardware_vs_cloud())
    # Section 5 of the paper: ~2.42 on-demand, ~0.71 pre-emptible.
    assert round(hvc["ratio_on_demand_to_hardware"], 2) == 2.42
    assert round(hvc["ratio_preemptible_to_hardware"], 2) == 0.71


def test_strubell_table_prints_the_paper_ranges(capsys):
    status, out, _ = run(capsys, "strubell")
    assert status == 0
    assert "$942,973-$3,201,722" in out
    assert "$103,175-$350,315" in out


def test_unknown_subcommand_exits_2_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "planner.cli", "nonsense"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys, planner.cli; "
        "heavy = {'pandas', 'scipy', 'streamlit', 'pydantic'} & set(sys.modules); "
        "sys.exit(1 if heavy else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
