"""The issue-9 reproducers on the command line: accepted, or one clean line and 2."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from planner import cli
from planner.scenario import load_preset

JOBLOGS = Path(__file__).parents[1] / "data" / "joblogs"
OVERLAYS = Path(__file__).parents[1] / "data" / "overlays"


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_clean_failure(status, err, *expected):
    assert status == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines, "no message"
    assert all(len(line) <= cli.MAX_MESSAGE_CHARACTERS + 40 for line in lines)
    for text in expected:
        assert text in err


def scenario_with_log(folder: Path, log_path: str) -> Path:
    data = load_preset("grant").model_dump(mode="json")
    data["demand"] = {
        "joblog": {"path": log_path},
        "reference_accelerator": data["demand"]["reference_accelerator"],
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_ldc_never_overwrites_its_input(capsys, tmp_path):
    log = tmp_path / "job.csv"
    log.write_text((JOBLOGS / "generic.csv").read_text())
    before = log.read_bytes()
    status, _, err = run(capsys, "demand", log, "--ldc", log)
    assert_clean_failure(status, err, "also an input")
    assert log.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.csv"]


def test_ldc_leaves_a_users_partial_file_and_its_link_target_alone(capsys, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "OUT.csv.partial").symlink_to(victim)
    out = tmp_path / "OUT.csv"
    status, _, _ = run(capsys, "demand", JOBLOGS / "generic.csv", "--ldc", out)
    assert status == 0
    assert out.read_text().startswith("hours_exceeded,busy_gpus\n")
    assert victim.read_text() == "keep me"
    assert (tmp_path / "OUT.csv.partial").is_symlink()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".OUT")]


def test_write_errors_are_one_line_and_leave_nothing(capsys, tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    status, _, err = run(
        capsys, "demand", JOBLOGS / "generic.csv", "--ldc", tmp_path / "curve.csv"
    )
    assert_clean_failure(status, err, "Permission denied")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    status, _, err = run(
        capsys, "demand", JOBLOGS / "generic.csv", "--ldc", tmp_path / "no" / "c.csv"
    )
    assert_clean_failure(status, err, "No such file or directory")


def test_read_permission_errors_are_one_line(capsys, monkeypatch):
    real_open = os.open

    def denied(path, *args, **kwargs):
        if str(path).endswith("generic.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    status, _, err = run(capsys, "demand", JOBLOGS / "generic.csv")
    assert_clean_failure(status, err, "Permission denied")


def test_scenario_new_refuses_to_clobber_without_force(capsys, tmp_path):
    target = tmp_path / "s.yaml"
    target.write_text("mine")
    status, _, err = run(capsys, "scenario", "new", "--out", target)
    assert_clean_failure(status, err, "--force")
    assert target.read_text() == "mine"
    status, _, _ = run(capsys, "scenario", "new", "--out", target, "--force")
    assert status == 0
    assert target.read_text() != "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


@pytest.mark.parametrize("path", ["../secret.csv", "/etc/passwd", "link.csv"])
def test_log_paths_outside_the_scenario_folder_need_a_flag(capsys, tmp_path, path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text((JOBLOGS / "generic.csv").read_text())
    (folder / "link.csv").symlink_to(secret)
    scenario = scenario_with_log(folder, path)
    status, out, err = run(capsys, "evaluate", scenario)
    assert_clean_failure(status, err, "outside the scenario's folder")
    assert "--allow-outside-paths" in err
    assert out == ""
    status, _, err = run(capsys, "evaluate", scenario, "--allow-outside-paths")
    if path == "/etc/passwd":  # allowed, then refused as not a job log
        assert_clean_failure(status, err, "does not look like a job log")
        assert len(err) < 400  # a short excerpt of its first line at most
    else:
        assert status == 0


def test_a_log_inside_the_folder_is_read(capsys, tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "jobs.csv").write_text((JOBLOGS / "generic.csv").read_text())
    status, out, _ = run(
        capsys, "evaluate", scenario_with_log(tmp_path, "logs/jobs.csv")
    )
    assert status == 0
    assert out


def test_a_nul_in_the_log_path_names_the_field(capsys, tmp_path):
    status, _, err = run(capsys, "evaluate", scenario_with_log(tmp_path, "a\x00b.csv"))
    assert_clean_failure(status, err, "demand.joblog.path")
    assert "embedded null byte" not in err


def evaluate_in_subprocess(scenario, stdin):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "planner.cli",
            "evaluate",
            str(scenario),
            "--allow-outside-paths",
        ],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_pipe_or_fifo_as_job_log_does_not_hang(tmp_path):
    # `sleep 60 | planner evaluate` on a scenario whose log is /dev/stdin, and
    # a FIFO that nobody writes to, beside the scenario.
    started = time.monotonic()
    with subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE) as sleeper:
        piped = evaluate_in_subprocess(
            scenario_with_log(tmp_path, "/dev/stdin"), sleeper.stdout
        )
        sleeper.kill()
    assert piped.returncode == 2
    assert "Traceback" not in piped.stderr
    assert piped.stderr.count("\n") == 1
    os.mkfifo(tmp_path / "jobs.csv")
    fifo = evaluate_in_subprocess(
        scenario_with_log(tmp_path, "jobs.csv"), subprocess.DEVNULL
    )
    assert fifo.returncode == 2
    assert "not a regular file" in fifo.stderr
    assert "Traceback" not in fifo.stderr
    assert time.monotonic() - started < 30


def test_a_fifo_scenario_or_overlay_does_not_hang(capsys, tmp_path):
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    status, _, err = run(capsys, "evaluate", fifo)
    assert_clean_failure(status, err, "not a regular file")
    status, _, err = run(capsys, "catalog", "pue", "--overlay", fifo)
    assert_clean_failure(status, err, "not a regular file")
    status, _, err = run(capsys, "demand", fifo)
    assert_clean_failure(status, err, "not a regular file")
    assert time.monotonic() - started < 5


def test_an_alias_bomb_is_refused_at_once(capsys, tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    status, _, err = run(capsys, "evaluate", path)
    assert time.perf_counter() - started < 1.0
    assert_clean_failure(status, err, "alias bomb")
    assert len(err) < 1_000
    options = tmp_path / "options.yaml"
    options.write_text(path.read_text())
    preset = Path(__file__).parents[2] / "planner" / "presets" / "grant.yaml"
    status, _, err = run(capsys, "optimise", preset, "--options", options)
    assert_clean_failure(status, err, "alias bomb")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"description": "[" * 2000 + "]" * 2000}, "nested deeper"),
        ({"budget_escalation_per_year": ".inf"}, "finite"),
        ({"real_discount_rate": ".nan"}, "finite"),
        ({"horizon_years": "9" * 5000}, "cannot be read"),
        ({"name": "x" * 100_000}, "100,000 characters"),
    ],
)
def test_hostile_scenarios_are_one_clean_message(capsys, tmp_path, change, expected):
    text = (
        Path(__file__).parents[2] / "planner" / "presets" / "grant.yaml"
    ).read_text()
    for key, value in change.items():
        text += f"\n{key}: {value}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    status, _, err = run(capsys, "evaluate", path)
    assert_clean_failure(status, err, expected)


def test_pareto_points_are_bounded(capsys):
    preset = Path(__file__).parents[2] / "planner" / "presets" / "grant.yaml"
    for bad in ("100000", "1", "-3", "many"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["optimise", str(preset), "--pareto", bad])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "--pareto" in err
        assert "Traceback" not in err
    assert cli._pareto_points("0") == 0
    assert cli._pareto_points("50") == 50


def test_unexpected_errors_are_one_line_with_an_id(capsys, monkeypatch, caplog):
    def broken(args):
        msg = "secret server path /srv/app/config.py"
        raise RuntimeError(msg)

    monkeypatch.setattr(cli, "_cmd_strubell", broken)
    with caplog.at_level(logging.ERROR, logger="planner.cli"):
        status, out, err = run(capsys, "strubell")
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "unexpected error (id " in err
    assert "RuntimeError" in err
    assert "secret" not in err
    assert "Traceback" not in err
    record = caplog.records[-1]
    assert record.exc_info is not None
    error_id = err.split("(id ")[1].split(",")[0]
    assert error_id in record.getMessage()


def test_unexpected_errors_print_nothing_more_by_default_in_a_subprocess(tmp_path):
    # No logging configured: the traceback must not reach stderr.
    code = (
        "import sys, planner.cli as cli\n"
        "def broken(args):\n"
        "    raise RecursionError('deep')\n"
        "cli._cmd_strubell = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "strubell"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    debug = subprocess.run(
        [sys.executable, "-c", code, "--debug", "strubell"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


def cells(text):
    import csv
    import io

    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_outputs_neutralise_formulas(capsys, tmp_path):
    data = load_preset("grant").model_dump(mode="json")
    data["strategies"][0]["name"] = '=HYPERLINK("http://evil")'
    data["strategies"][1]["name"] = "+cmd|' /C calc'!A0"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    status, out, _ = run(capsys, "evaluate", path, "--format", "csv")
    assert status == 0
    values = cells(out)
    assert '\'=HYPERLINK("http://evil")' in values
    assert "'+cmd|' /C calc'!A0" in values
    assert not [v for v in values if v.startswith(("=", "+", "@"))]
    overlay = tmp_path / "quote.csv"
    text = (OVERLAYS / "cloud_prices_valid.csv").read_text()
    overlay.write_text(text.replace("negotiated price (test fixture)", "@SUM(A1:A9)"))
    status, out, err = run(
        capsys, "catalog", "cloud_prices", "--overlay", overlay, "--format", "csv"
    )
    assert status == 0, err
    values = cells(out)
    assert "'@SUM(A1:A9)" in values
    assert not [v for v in values if v.startswith(("=", "+", "@"))]


def test_headerless_logs_with_fields(capsys, tmp_path):
    log = tmp_path / "noheader.txt"
    log.write_text(
        "7|2024-01-01T00:00:00|2024-01-01T02:00:00|COMPLETED|gpu:2\n"
        "8|2024-01-01T00:00:00|2024-01-01T01:00:00|COMPLETED|gpu:1\n"
    )
    status, _, err = run(capsys, "demand", log)
    assert_clean_failure(status, err, "does not look like a job log")
    status, out, _ = run(
        capsys,
        "demand",
        log,
        "--fields",
        "JobID,Start,End,State,ReqGRES",
        "--format",
        "json",
    )
    assert status == 0
    assert '"gpu_hours": 5.0' in out
    status, out, _ = run(
        capsys, "queue", log, "--gpus", "2", "--fields", "JobID,Start,End,State,ReqGRES"
    )
    assert status == 0


def test_non_utf8_and_binary_inputs_are_clean(capsys, tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    status, _, err = run(capsys, "demand", binary)
    assert_clean_failure(status, err, "binary")
    latin = tmp_path / "s.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    status, _, err = run(capsys, "evaluate", latin)
    assert_clean_failure(status, err, "not UTF-8")
