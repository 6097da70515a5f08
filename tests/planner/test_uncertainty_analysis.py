"""Monte Carlo summaries, tornado, Sobol' indices, sweeps and the CLI."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from planner import cli
from planner.scenario import load_scenario
from planner.uncertainty import analysis, engine, sampling, sweep
from planner.uncertainty.spec import (
    FACTOR_LABELS,
    default_uncertainty,
    uncertainty_from_dict,
)

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def grant():
    return load_scenario(EXAMPLES / "grant.yaml")


@pytest.fixture(scope="module")
def result(grant):
    return analysis.monte_carlo(grant, draws=512, sobol_base_draws=256)


def run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_probabilities_and_regret_are_consistent(result):
    for view in ("institution", "award"):
        rows = result.strategies[view]
        assert sum(s.p_cheapest for s in rows) == pytest.approx(1.0)
        assert all(s.expected_regret_usd >= 0 for s in rows)
        npv = result.outcomes.npv_usd[view]
        regret = (npv - npv.min(axis=1, keepdims=True)).mean(axis=0)
        assert [s.expected_regret_usd for s in rows] == pytest.approx(regret)
        for s, column in zip(rows, npv.T, strict=True):
            assert s.npv_p10_usd <= s.npv_p50_usd <= s.npv_p90_usd
            assert s.npv_p50_usd == pytest.approx(float(np.median(column)))


def test_the_tornado_swings_each_input_from_p10_to_p90(grant, result):
    spec = result.spec
    low = sampling.quantiles(spec, 0.1)
    high = sampling.quantiles(spec, 0.9)
    prepared = engine.prepare(grant, spec)
    kinds = dict(zip(spec.paths, prepared.kinds, strict=True))
    for bar in result.tornado:
        j = spec.paths.index(bar.input)
        rounding = round if kinds[bar.input] != "float" else float
        assert bar.low == pytest.approx(rounding(low[j]))
        assert bar.high == pytest.approx(rounding(high[j]))
    swings = [bar.swing_usd for bar in result.tornado]
    assert swings == sorted(swings, reverse=True)


def test_the_tornado_of_the_loop_is_the_tornado_of_the_batched_path(grant):
    spec = default_uncertainty(grant)
    prepared = engine.prepare(grant, spec)
    fast = analysis.tornado(prepared, "award", method="vectorised")
    slow = analysis.tornado(prepared, "award", method="loop")
    assert fast[:2] == slow[:2]
    assert fast[2] == pytest.approx(slow[2])
    for a, b in zip(fast[3], slow[3], strict=True):
        assert a.input == b.input
        assert a.low_npv_delta_usd == pytest.approx(b.low_npv_delta_usd, abs=1e-3)
        assert a.high_npv_delta_usd == pytest.approx(b.high_npv_delta_usd, abs=1e-3)


def test_an_input_that_does_nothing_has_no_index(grant):
    trend = {"kind": "uniform", "low": -0.3, "high": 0.05}
    spec = uncertainty_from_dict(
        {
            "inputs": [
                {"path": "cloud_price_trend", "distribution": trend},
                # The award view pays no grid: CO2e intensity changes no cost.
                {
                    "path": "site.grid_co2e_g_per_kwh",
                    "distribution": {"kind": "uniform", "low": 100, "high": 600},
                },
            ]
        }
    )
    prepared = engine.prepare(grant, spec)
    leader, _, _, _, _ = analysis.tornado(prepared, "award")
    trend_index, grid_index = analysis.sobol(
        prepared,
        "award",
        ["cloud_price_trend", "site.grid_co2e_g_per_kwh"],
        leader,
        base_draws=1024,
    )
    assert trend_index.first_order == pytest.approx(1.0, abs=0.05)
    assert trend_index.total == pytest.approx(1.0, abs=0.05)
    assert grid_index.first_order == pytest.approx(0.0, abs=1e-12)
    assert grid_index.total == pytest.approx(0.0, abs=1e-12)


def test_the_same_seed_gives_the_same_json(grant):
    first = analysis.monte_carlo(grant, draws=300, seed=9, sobol_base_draws=64)
    second = analysis.monte_carlo(grant, draws=300, seed=9, sobol_base_draws=64)
    assert json.dumps(first.as_json()) == json.dumps(second.as_json())
    other = analysis.monte_carlo(grant, draws=300, seed=10, sobol_base_draws=64)
    assert json.dumps(first.as_json()) != json.dumps(other.as_json())


def test_switches_have_conditional_probabilities(result):
    switch = [c for c in result.conditional if c.input == "cloud_fa_applies"]
    assert [c.value for c in switch] == [0.0, 1.0]
    assert sum(c.share_of_draws for c in switch) == pytest.approx(1.0)
    for item in switch:
        assert sum(item.p_cheapest.values()) == pytest.approx(1.0)


def test_progress_reaches_the_end(grant):
    seen = []
    analysis.monte_carlo(
        grant,
        draws=64,
        sobol_inputs=0,
        progress=lambda fraction, stage: seen.append((fraction, stage)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert seen[-1] == (1.0, "done")


def test_inputs_the_batched_path_cannot_scale_run_through_the_engine(grant):
    spec = uncertainty_from_dict(
        {
            "inputs": [
                {
                    "path": "strategies.3.availability",
                    "distribution": {"kind": "uniform", "low": 0.9, "high": 0.99},
                }
            ]
        }
    )
    result = analysis.monte_carlo(grant, spec, draws=4, workers=1)
    assert result.method == "loop"
    assert "availability" in result.notes[0]


# --- sweeps ---------------------------------------------------------------------


def availability_draws(grant):
    spec = uncertainty_from_dict(
        {
            "inputs": [
                {
                    "path": "strategies.3.availability",
                    "distribution": {"kind": "uniform", "low": 0.9, "high": 0.99},
                }
            ]
        }
    )
    return engine.prepare(grant, spec), sampling.sample_values(spec, 6)


def test_local_processes_give_the_serial_answer(grant):
    prepared, values = availability_draws(grant)
    serial = sweep.loop_sweep(prepared, values, workers=1, chunk=2)
    pooled = sweep.loop_sweep(prepared, values, workers=2, chunk=2)
    np.testing.assert_array_equal(serial.npv_usd["award"], pooled.npv_usd["award"])


def test_a_dask_cluster_gives_the_local_answer(grant):
    distributed = pytest.importorskip("distributed")
    prepared, values = availability_draws(grant)
    local = sweep.loop_sweep(prepared, values, workers=2, chunk=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote = sweep.loop_sweep(
            prepared, values, scheduler=cluster.scheduler_address, chunk=2
        )
    for view in ("institution", "award"):
        np.testing.assert_array_equal(local.npv_usd[view], remote.npv_usd[view])
    np.testing.assert_array_equal(local.co2e_kg, remote.co2e_kg)


def test_the_scheduler_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(sweep.SCHEDULER_ENV, "tcp://10.1.2.3:8786")
    assert sweep.scheduler_address() == "tcp://10.1.2.3:8786"
    assert sweep.scheduler_address("tcp://other:1") == "tcp://other:1"


# --- the command line -------------------------------------------------------------


def test_cli_json_has_the_documented_shape(capsys):
    status, out, _ = run(
        capsys,
        "uncertainty",
        str(EXAMPLES / "department.yaml"),
        "--draws",
        "256",
        "--seed",
        "3",
        "--format",
        "json",
    )
    assert status == 0
    payload = json.loads(out)
    assert payload["draws"] == 256
    assert {
        "name",
        "npv_p10_usd",
        "npv_p50_usd",
        "npv_p90_usd",
        "p_cheapest",
        "expected_regret_usd",
    } <= set(payload["strategies"][0])
    assert {
        "input",
        "low",
        "high",
        "low_npv_delta_usd",
        "high_npv_delta_usd",
    } <= set(payload["tornado"][0])
    assert {"input", "first_order", "total"} <= set(payload["sobol"][0])


def test_cli_table_shows_the_librarys_strategy_columns(capsys):
    # The app shows analysis.strategy_table as it is; the command line must show
    # the same columns (P10 to P90 CO2e included), only formatted.
    status, out, _ = run(
        capsys, "uncertainty", str(EXAMPLES / "grant.yaml"), "--draws", "128"
    )
    assert status == 0
    header = next(line for line in out.splitlines() if "npv_p10_usd" in line)
    result = analysis.monte_carlo(
        load_scenario(EXAMPLES / "grant.yaml"), draws=128, seed=0, sensitivity=False
    )
    columns = [c for c in analysis.strategy_table(result) if c != "p_cheapest_se"]
    assert header.split() == columns


def test_cli_json_is_byte_identical_for_a_seed(capsys):
    argv = ("uncertainty", str(EXAMPLES / "grant.yaml"), "--draws", "200")
    argv += ("--seed", "5", "--format", "json", "--view", "award")
    _, first, _ = run(capsys, *argv)
    _, second, _ = run(capsys, *argv)
    assert first == second


def test_cli_table_names_the_deciding_assumption(capsys):
    status, out, _ = run(
        capsys, "uncertainty", str(EXAMPLES / "department.yaml"), "--draws", "512"
    )
    assert status == 0
    assert "sampled futures" in out
    # the deciding input in words (planner.uncertainty.spec.FACTOR_LABELS)
    assert (
        "The assumption that decides it: " + FACTOR_LABELS["cloud_price_trend"] in out
    )


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (
            "inputs:\n  - path: demand.growth_per_year\n"
            "    distribution: {kind: uniform, low: 0.3, high: 0.1}\n",
            "low (0.3) is above high (0.1)",
        ),
        (
            "inputs:\n  - path: site.electricity_usd_per_kwh\n"
            "    distribution: {kind: uniform, low: -0.1, high: 0.2}\n",
            "cannot be negative",
        ),
        (
            "inputs:\n"
            + "".join(
                f"  - path: {p}\n    distribution: {{kind: uniform, low: 0, high: 1}}\n"
                for p in ("demand_multiplier", "server_price_multiplier", "a.b")
            )
            + "correlations:\n"
            "  - {between: [demand_multiplier, server_price_multiplier], rho: 0.9}\n"
            "  - {between: [server_price_multiplier, a.b], rho: 0.9}\n"
            "  - {between: [demand_multiplier, a.b], rho: -0.9}\n",
            "not positive semi-definite",
        ),
    ],
)
def test_cli_bad_specs_exit_2_with_a_message(capsys, tmp_path, spec, words):
    file = tmp_path / "u.yaml"
    file.write_text(spec, encoding="utf-8")
    status, _, err = run(
        capsys,
        "uncertainty",
        str(EXAMPLES / "department.yaml"),
        "--uncertainty",
        str(file),
    )
    assert status == 2
    assert words in err
    assert "Traceback" not in err


def test_cli_unreachable_scheduler_exits_2(capsys, monkeypatch):
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT_S", 0.5)
    status, _, err = run(
        capsys,
        "uncertainty",
        str(EXAMPLES / "grant.yaml"),
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert status == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


def test_the_fan_ends_at_the_npv(result):
    for view in ("institution", "award"):
        last = {p.name: p for p in result.fan[view] if p.year == 3}
        for stats in result.strategies[view]:
            assert last[stats.name].p50_usd == pytest.approx(
                stats.npv_p50_usd, rel=1e-6
            )
            assert last[stats.name].p10_usd <= last[stats.name].p90_usd


def test_an_alias_bomb_or_a_fifo_uncertainty_file_is_refused(capsys, tmp_path):
    # The uncertainty file is read as a scenario is: a regular file within the
    # YAML limits; one message, exit 2, at once.
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 7) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines), "utf-8")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for spec, words in ((bomb, "alias bomb"), (fifo, "not a regular file")):
        status, _, err = run(
            capsys,
            "uncertainty",
            str(EXAMPLES / "grant.yaml"),
            "--uncertainty",
            str(spec),
            "--draws",
            "16",
        )
        assert status == 2
        assert words in err
        assert "Traceback" not in err
