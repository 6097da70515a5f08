"""Fuzzing: mutated scenarios, job logs and overlays are accepted, or refused
with one clean message, never an exception of another kind.

Hypothesis mutates the shipped presets and the test fixtures (values replaced
by hostile ones, keys dropped or added, characters inserted, deleted and
swapped). Examples are derandomised and bounded so that ``make test`` stays
fast; set ``PLANNER_FUZZ_EXAMPLES`` (e.g. 2000) for a longer campaign.
"""

import io
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from planner import joblog, tco
from planner.scenario import (
    PRESETS,
    ScenarioError,
    load_preset,
    preset_text,
    scenario_from_dict,
    scenario_from_yaml,
)
from pricing import catalog

EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "0")) or None
ROOT = Path(__file__).parents[1]
JOBLOGS = ROOT / "data" / "joblogs"
OVERLAYS = ROOT / "data" / "overlays"
MESSAGE_LIMIT = 700  # characters in one problem line


def fuzz(default: int):
    """Derandomised, bounded settings (scaled by PLANNER_FUZZ_EXAMPLES)."""
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=EXAMPLES is None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


def assert_clean(problems):
    assert problems, "a refusal without a reason"
    for line in problems:
        assert isinstance(line, str)
        assert line.strip()
        assert "\n" not in line
        assert len(line) <= MESSAGE_LIMIT, line[:200]
        assert "Traceback" not in line


# --------------------------------------------------------------------------
# Scenarios (as data, and as YAML text)
# --------------------------------------------------------------------------

HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "\x00",
            "../../etc/passwd",
            "/etc/passwd",
            "[x](http://evil) :smile: **b**",
            '=HYPERLINK("http://x")',
            "x" * 10_000,
            "1e999",
            "-0",
            "\u0662\u0660",
            "²",
        ]
    ),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.recursive(
        st.integers(), lambda inner: st.lists(inner, max_size=3), max_leaves=30
    ),
)


def leaf_paths(data, prefix=()):
    """Every (path, value) of nested dicts and lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaf_paths(value, (*prefix, index))
    yield prefix, data


def set_path(data, path, value):
    if not path:
        return value
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def delete_path(data, path):
    if not path:
        return data
    target = data
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return data


@st.composite
def mutated_scenarios(draw):
    data = load_preset(draw(st.sampled_from(PRESETS))).model_dump(mode="json")
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p, _ in leaf_paths(data)]
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["nudge", "nudge", "replace", "delete", "add"]))
        value = dict(leaf_paths(data))[path]
        if action == "nudge" and isinstance(value, int | float) and path:
            # A plausible edit: scaled, or a boundary value (0, 1, tiny).
            new = draw(
                st.one_of(
                    st.floats(0, 3).map(lambda k, v=value: v * k),
                    st.sampled_from([0, 1, 1e-300, 0.5]),
                )
            )
            data = set_path(
                data, path, type(value)(new) if isinstance(value, int) else new
            )
        elif action in ("replace", "nudge"):
            data = set_path(data, path, draw(HOSTILE_VALUES))
        elif action == "delete" and path:
            data = delete_path(data, path)
        else:
            parent = path[:-1]
            target = data
            for part in parent:
                target = target[part]
            if isinstance(target, dict):
                target[draw(st.text(min_size=1, max_size=12))] = draw(HOSTILE_VALUES)
    return data


def evaluate_or_refuse(scenario):
    """Evaluate an accepted scenario: a result, or one clean ValueError."""
    from planner.cli import _problems_of

    try:
        evaluation = tco.evaluate(scenario)
    except ValueError as error:
        event("evaluation refused")
        # As the front ends show them: the engine's messages may quote a whole
        # catalog name (planner/tco.py), so the CLI and the app clip each line.
        assert_clean(_problems_of(error))
        return
    event("evaluated")
    assert len(evaluation.summary) == len(scenario.strategies)
    assert all(math.isfinite(v) for v in evaluation.summary["npv_usd"])


@fuzz(120)
@given(data=mutated_scenarios())
def test_mutated_scenarios_are_accepted_or_cleanly_refused(data):
    try:
        scenario = scenario_from_dict(data)
    except ScenarioError as error:
        event("refused")
        assert_clean(error.problems)
        return
    event("accepted")
    if scenario.demand.joblog is None:
        evaluate_or_refuse(scenario)


YAML_NOISE = st.sampled_from(
    [*list("\"'[]{}:,&*!|>-#%@`\t\n\r\x00\\"), "&a ", "*a", "!!python/object ", "<<: "]
)


@st.composite
def mutated_yaml(draw):
    text = preset_text(draw(st.sampled_from(PRESETS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap"]))
        if action == "insert":
            text = text[:position] + draw(YAML_NOISE) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        else:
            other = draw(st.integers(0, len(text)))
            a, b = sorted((position, other))
            text = text[:a] + text[b : b + 10] + text[a + 10 : b] + text[a : a + 10]
    return text


@fuzz(150)
@given(text=mutated_yaml())
def test_mutated_yaml_is_accepted_or_cleanly_refused(text):
    try:
        scenario_from_yaml(text)
    except ScenarioError as error:
        event("refused")
        assert_clean(error.problems)
        return
    event("accepted")


# --------------------------------------------------------------------------
# Job logs
# --------------------------------------------------------------------------

LOG_FIXTURES = {
    name: (JOBLOGS / name).read_text()
    for name in (
        "sacct_mixed.txt",
        "sacct_lowercase_p.txt",
        "generic.csv",
        "codecarbon_emissions.csv",
    )
}
LOG_NOISE = st.sampled_from(
    [
        '"',
        "'",
        ",",
        "|",
        "\n",
        "\r",
        "\x00",
        "²",
        "\u0663",
        "-",
        ":",
        "9" * 30,
        "99999999999-00:00:00",
        "gres/gpu=",
        "gpu:",
        "(IDX:0-3)",
        "Unknown",
        "CANCELLED",
        "PENDING",
        "nan",
        "inf",
        "1e400",
        "2204-01-01T00:00:00",
        "\ufeff",
        "\udcff",
    ]
)


@st.composite
def mutated_logs(draw):
    name = draw(st.sampled_from(sorted(LOG_FIXTURES)))
    text = LOG_FIXTURES[name]
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:position] + draw(LOG_NOISE) + text[position:]
        else:
            text = text[:position] + text[position + draw(st.integers(1, 15)) :]
    return name, text


def check_log(log, text):
    # Lines as the reader counts them (universal newlines: \n, \r, \r\n).
    lines = len(re.split(r"\r\n|\r|\n", text))
    # Every data row is accounted for exactly once: nothing dropped silently.
    accounted = (
        len(log.jobs)
        + log.rejected_count
        + log.pending_jobs
        + log.unknown_time_jobs
        + log.step_rows
        + log.zero_length_jobs
    )
    assert accounted == log.rows_read
    for row in log.rejected:
        assert 1 <= row.line <= lines
        assert row.column
        assert len(row.reason) < 400
    jobs = log.jobs
    assert (jobs["gpus"] >= 0).all()
    assert (jobs["end"] > jobs["start"]).all()
    assert jobs["gpu_hours"].map(math.isfinite).all()
    assert len(set(jobs["line"])) == len(jobs)


@fuzz(150)
@given(case=mutated_logs())
def test_mutated_job_logs_are_read_or_cleanly_refused(case):
    name, text = case
    content = text.encode("utf-8", "surrogateescape")
    try:
        log = joblog.read_log(content, name=name)
    except ValueError as error:
        event("refused")
        assert_clean([str(error)])
        return
    event("accepted with rejected rows" if log.rejected_count else "accepted")
    check_log(log, content.decode("utf-8", "replace"))
    joblog.demand_summary(log)  # the summary of any accepted log works too


@fuzz(40)
@given(case=mutated_logs(), policy=st.sampled_from(["fifo", "backfill"]))
def test_accepted_logs_simulate_or_cleanly_refuse(case, policy):
    from planner import queueing

    name, text = case
    try:
        log = joblog.read_log(io.StringIO(text), name=name)
    except ValueError:
        return
    try:
        result = queueing.simulate_queue(log, 8, policy=policy)
    except ValueError as error:
        assert_clean([str(error)])
        return
    assert (result.jobs["wait_hours"] >= 0).all()


# --------------------------------------------------------------------------
# Catalog overlays
# --------------------------------------------------------------------------

OVERLAY_FIXTURES = {
    "cloud_prices": (OVERLAYS / "cloud_prices_valid.csv").read_text(),
    "servers": (OVERLAYS / "servers_several_problems.csv").read_text(),
}
OVERLAY_NOISE = st.sampled_from(
    ['"', ",", "\n", "\x00", "=cmd|", "@SUM(A1)", "-1", "inf", "nan", "x" * 200_000]
)


@st.composite
def mutated_overlays(draw):
    name = draw(st.sampled_from(sorted(OVERLAY_FIXTURES)))
    text = OVERLAY_FIXTURES[name]
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:position] + draw(OVERLAY_NOISE) + text[position:]
        else:
            text = text[:position] + text[position + draw(st.integers(1, 15)) :]
    return name, text


@fuzz(80)
@given(case=mutated_overlays())
def test_mutated_overlays_are_applied_or_cleanly_refused(case):
    from planner.cli import _problems_of

    name, text = case
    try:
        frame = (
            catalog.Catalog().with_overlay(name, text, label="quote.csv").frame(name)
        )
    except catalog.CatalogError as error:
        event("refused")
        # As the front ends show them: pricing's messages may quote a whole
        # header cell (newlines included), so the CLI and the app clip each.
        assert_clean(_problems_of(error)[:50])
        return
    event("accepted")
    assert frame["user_supplied"].any()


@pytest.mark.parametrize("name", PRESETS)
def test_the_presets_themselves_pass_the_fuzz_checks(name):
    evaluation = tco.evaluate(load_preset(name))
    assert all(math.isfinite(v) for v in evaluation.summary["npv_usd"])
