"""Time to train of MLPerf Training submissions, from the published result logs.

Derives ``tests/data/mlperf/time_to_train.csv``, the measurements behind the
benchmark-based ``relative_throughput`` of ``pricing/data/accelerators.csv``
(see that file's section in ``pricing/data/README.md``).

Each MLPerf Training result directory (``<submitter>/results/<system>/<benchmark>``
in a ``mlcommons/training_results_vX.Y`` repository) holds one log per run. A
run's time to train is ``run_stop - run_start`` of its ``:::MLLOG`` lines; the
score is the mean of the successful runs without the fastest and the slowest
(the "olympic" mean MLPerf uses for these benchmarks). This is our computation
from the logs, not MLCommons' published table; it can differ from it in the
last digit.

Usage (one line per result directory: round|commit|submitter|path|benchmark|
accelerator_model|accelerators)::

    python scripts/mlperf_time_to_train.py SPEC.txt ROUND=CLONE_DIR ... > out.csv
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path

MARKER = ":::MLLOG"
"""Prefix of the structured log lines in MLPerf result files."""

COLUMNS = (
    "mlperf_round",
    "repository",
    "commit",
    "submitter",
    "result_dir",
    "benchmark",
    "accelerator_model",
    "accelerators",
    "runs",
    "successful_runs",
    "olympic_mean_minutes",
)


def _git(clone: Path, *args: str) -> str:
    """Output of a git command in a bare or normal clone."""
    done = subprocess.run(
        ["git", "-C", str(clone), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def run_minutes(log: str) -> tuple[float, bool] | None:
    """Time to train of one run in minutes and whether it converged, or None."""
    start = stop = None
    success = False
    for line in log.splitlines():
        position = line.find(MARKER)
        if position < 0:
            continue
        try:
            record = json.loads(line[position + len(MARKER) :])
        except json.JSONDecodeError:
            continue
        if record.get("key") == "run_start":
            start = record["time_ms"]
        elif record.get("key") == "run_stop":
            stop = record["time_ms"]
            success = record.get("metadata", {}).get("status") == "success"
    if start is None or stop is None:
        return None
    return (stop - start) / 60_000.0, success


def olympic_mean(minutes: list[float]) -> float:
    """Mean without the fastest and the slowest run."""
    ordered = sorted(minutes)
    return statistics.mean(ordered[1:-1])


def main(argv: list[str]) -> int:
    """Print the CSV for the result directories named in the spec file."""
    spec_file, *clone_args = argv
    clones = dict(arg.split("=", 1) for arg in clone_args)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in Path(spec_file).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        round_, commit, submitter, result_dir, benchmark, model, count = line.split("|")
        clone = Path(clones[round_])
        files = [
            name
            for name in _git(clone, "ls-tree", "-r", "--name-only", commit).split()
            if name.startswith(result_dir + "/") and "/result_" in name
        ]
        runs = [run_minutes(_git(clone, "show", f"{commit}:{name}")) for name in files]
        ok = [minutes for minutes, success in filter(None, runs) if success]
        writer.writerow(
            (
                round_,
                f"mlcommons/training_results_{round_}",
                commit,
                submitter,
                result_dir,
                benchmark,
                model,
                count,
                len(files),
                len(ok),
                f"{olympic_mean(ok):.4f}",
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
