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


def test_catalog_where_filters_and_csv(capsys):
    status, out, _ = run(
        capsys, "catalog", "servers", "--where", "server=8xH100-SXM", "--format", "csv"
    )
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("8xH100-SXM,")


def test_catalog_unknown_name_and_column_exit_2(capsys):
    status, _, err = run(capsys, "catalog", "nope")
    assert status == 2
    assert "unknown catalog 'nope'" in err
    status, _, err = run(capsys, "catalog", "pue", "--where", "colour=red")
    assert status == 2
    assert "no column 'colour'" in err


def test_bad_overlay_lists_every_problem_and_exits_2(capsys, tmp_path):
    overlay = tmp_path / "quote.csv"
    header = (
        "facility,facility_type,region,pue,year,preferred,source,source_date,notes\n"
    )
    overlay.write_text(
        header + "our room,on-prem,,0.9,2025,,,,\nother,x,,abc,2025,,,,\n"
    )
    status, out, err = run(capsys, "catalog", "pue", "--overlay", str(overlay))
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert any("quote.csv:2:pue" in line for line in lines)
    assert any("quote.csv:3:pue" in line for line in lines)
    assert "Traceback" not in err


def test_scenario_new_writes_a_preset_that_evaluates(capsys, tmp_path):
    target = tmp_path / "grant.yaml"
    status, _, _ = run(
        capsys, "scenario", "new", "--preset", "grant", "--out", str(target)
    )
    assert status == 0
    assert target.exists()
    status, _, err = run(
        capsys, "scenario", "new", "--preset", "grant", "--out", str(target)
    )
    assert status == 2
    assert "--force" in err
    status, out, _ = run(capsys, "evaluate", str(target), "--format", "json")
    assert status == 0
    payload = json.loads(out)
    strategy = payload["strategies"][0]
    assert {
        "name",
        "kind",
        "npv_usd",
        "undiscounted_real_usd",
        "delayed_reference_hours",
        "delay_cost_usd",
        "unserved_cost_usd",
        "equivalent_annual_cost_usd",
        "cost_per_reference_hour_usd",
        "utilisation",
        "co2e_kg",
        "co2e_embodied_kg",
        "years",
    } <= set(strategy)
    assert {"year", "cost_usd", "discounted_cost_usd", "co2e_kg"} <= set(
        strategy["years"][0]
    )
    assert {
        "onprem",
        "cloud",
        "utilisation",
        "year",
        "cloud_premium",
        "explanation",
    } <= set(payload["break_even"][0])


def test_evaluate_table_and_csv(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/lisa.yaml"))
    status, out, _ = run(capsys, "evaluate", path)
    assert status == 0
    assert "costs 2.42x" in out
    status, out, _ = run(capsys, "evaluate", path, "--format", "csv")
    assert status == 0
    assert out.splitlines()[0].startswith("strategy,kind,year")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed\n", "malformed YAML"),
        ("- a list\n", "must be a mapping"),
        ("name: x\n", "demand: Field required"),
    ],
)
def test_evaluate_bad_scenario_exits_2(capsys, tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    status, _, err = run(capsys, "evaluate", str(path))
    assert status == 2
    assert message in err
    assert str(path) in err


def test_evaluate_missing_file_exits_2(capsys, tmp_path):
    status, _, err = run(capsys, "evaluate", str(tmp_path / "none.yaml"))
    assert status == 2
    assert "cannot read" in err


def test_evaluate_markdown_is_a_justification(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/grant.yaml"))
    status, out, _ = run(capsys, "evaluate", path, "--format", "markdown")
    assert status == 0
    assert out.startswith("# Three-year grant")
    assert "## Break-even points" in out
    assert "| calendar_year |" in out


JOBLOGS = __import__("pathlib").Path(__file__).parents[1] / "data" / "joblogs"


def test_demand_json_counts_jobs_and_lists_rejected_rows(capsys, tmp_path):
    ldc = tmp_path / "ldc.csv"
    status, out, _ = run(
        capsys,
        "demand",
        str(JOBLOGS / "sacct_mixed.txt"),
        "--format",
        "json",
        "--ldc",
        str(ldc),
    )
    assert status == 0
    payload = json.loads(out)
    assert {
        "jobs",
        "gpu_hours",
        "mean_concurrency",
        "max_concurrency",
        "rejected_rows",
    } <= set(payload)
    assert payload["rejected_count"] == len(payload["rejected_rows"]) > 0
    assert all({"line", "reason"} <= set(row) for row in payload["rejected_rows"])
    lines = ldc.read_text().splitlines()
    assert lines[0] == "hours_exceeded,busy_gpus"
    values = [float(line.split(",")[1]) for line in lines[1:]]
    assert values == sorted(values, reverse=True)


def test_demand_not_a_log_exits_2(capsys):
    status, out, err = run(capsys, "demand", str(JOBLOGS / "not_a_log.txt"))
    assert status == 2
    assert out == ""
    assert "does not look like a job log" in err


def test_queue_lisa_finds_a_size_for_the_target(capsys):
    status, out, _ = run(
        capsys,
        "queue",
        "lisa",
        "--gpus",
        "64",
        "--target-wait",
        "24",
        "--format",
        "json",
    )
    assert status == 0
    payload = json.loads(out)
    assert payload["jobs"] == 4789  # Strubell et al. 2019, section 4.2
    assert payload["smallest_gpus_for_target"] > 58  # bursts need headroom
    assert payload["utilisation"] <= 1.0


def test_queue_bad_size_exits_2(capsys):
    status, _, err = run(capsys, "queue", "lisa", "--gpus", "0")
    assert status == 2
    assert "gpus" in err


def test_optimise_json_has_the_documented_shape(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/grant.yaml"))
    status, out, _ = run(capsys, "optimise", path, "--format", "json")
    assert status == 0
    payload = json.loads(out)
    assert {
        "status",
        "npv_usd",
        "co2e_kg",
        "purchases",
        "commitments",
        "served",
        "options_considered",
        "binding",
        "pareto",
    } <= set(payload)


def test_optimise_infeasible_budget_names_the_limit_and_exits_2(capsys, tmp_path):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/grant.yaml"))
    options = tmp_path / "limits.yaml"
    options.write_text(
        "allow_cloud: false\n"
        "allow_unserved: false\n"
        "capital_budget_usd_per_year: 100000\n"
    )
    status, out, err = run(capsys, "optimise", path, "--options", str(options))
    assert status == 2
    assert out == ""
    assert "capital_budget_usd_per_year" in err
    assert "Traceback" not in err


def test_optimise_bad_options_file_names_the_field(capsys, tmp_path):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/grant.yaml"))
    options = tmp_path / "limits.yaml"
    options.write_text("blocks_per_yaer: 12\n")
    status, _, err = run(capsys, "optimise", path, "--options", str(options))
    assert status == 2
    assert "blocks_per_yaer" in err


def test_pool_allocations_sum_to_the_pooled_cost(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/consortium.yaml"))
    status, out, _ = run(capsys, "pool", path, "--format", "json")
    assert status == 0
    payload = json.loads(out)
    shapley = [a for a in payload["allocations"] if a["rule"] == "shapley"]
    assert sum(a["allocation_usd"] for a in shapley) == pytest.approx(
        payload["grand_coalition_cost_usd"]
    )


def test_pool_without_a_shared_strategy_exits_2(capsys):
    from importlib import resources

    path = str(resources.files("planner").joinpath("presets/grant.yaml"))
    status, _, err = run(capsys, "pool", path)
    assert status == 2
    assert "no shared" in err
