"""Import speed and memory of a 1,000,000-row Slurm sacct export (issue 4, item 1).

Targets: under 10 s and under 1 GB peak memory. The file is written to a
temporary directory first (not timed): 90 % job allocations with GPUs, 8 %
job steps, 1 % pending jobs, 1 % running jobs, and 0.1 % malformed rows.
Peak memory is the process's maximum resident set size (ru_maxrss), which
includes the Python interpreter and the numpy/pandas imports.

Run: .venv/bin/python benchmarks/bench_joblog.py [rows]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from planner.joblog import demand_summary, hourly_concurrency_gpus, read_sacct

TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 1024.0
HEADER = "JobID|Submit|Start|End|Elapsed|State|AllocTRES|ReqTRES|Account|Partition|User"


def write_sacct(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-01T00:00:00")
    start_s = np.sort(rng.integers(0, 365 * 86_400, rows))
    length_s = rng.lognormal(np.log(3_600 * 4), 1.5, rows).astype(np.int64) + 60
    kind = rng.random(rows)
    gpus = rng.choice([1, 2, 4, 8], rows, p=[0.6, 0.2, 0.15, 0.05])
    accounts = [f"acct{i}" for i in range(40)]
    account = rng.integers(0, len(accounts), rows)
    starts = (base + start_s.astype("timedelta64[s]")).astype(str)
    ends = (base + (start_s + length_s).astype("timedelta64[s]")).astype(str)
    job = 1_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        lines: list[str] = []
        for i in range(rows):
            k = kind[i]
            h, rem = divmod(int(length_s[i]), 3_600)
            elapsed = f"{h // 24}-{h % 24:02d}:{rem // 60:02d}:{rem % 60:02d}"
            tres = f"billing=8,cpu=8,gres/gpu:a100={gpus[i]},gres/gpu={gpus[i]},mem=64G"
            acct = accounts[account[i]]
            if k < 0.90:
                job += 1
                lines.append(
                    f"{job}|{starts[i]}|{starts[i]}|{ends[i]}|{elapsed}|COMPLETED|"
                    f"{tres}|{tres}|{acct}|gpu|u{account[i]}"
                )
            elif k < 0.98:
                lines.append(
                    f"{job}.batch|{starts[i]}|{starts[i]}|{ends[i]}|{elapsed}|COMPLETED|"
                    f"{tres}||{acct}||"
                )
            elif k < 0.99:
                job += 1
                lines.append(
                    f"{job}|{starts[i]}|Unknown|Unknown|00:00:00|PENDING||{tres}|{acct}|gpu|u1"
                )
            elif k < 0.999:
                job += 1
                lines.append(
                    f"{job}|{starts[i]}|{starts[i]}|Unknown|{elapsed}|RUNNING|{tres}|{tres}|"
                    f"{acct}|gpu|u1"
                )
            else:
                lines.append(f"{job}|{starts[i]}|garbage")
            if len(lines) >= 50_000:
                out.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            out.write("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--write":
        write_sacct(Path(sys.argv[2]), int(sys.argv[3]))
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sacct.txt"
        t0 = time.perf_counter()
        # Written by a child process so that this process's peak memory
        # measures the import alone.
        subprocess.run(
            [sys.executable, __file__, "--write", str(path), str(rows)], check=True
        )
        size_mb = path.stat().st_size / 2**20
        print(
            f"wrote {rows:,} rows ({size_mb:.0f} MB) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        log = read_sacct(path, export_time="2025-01-10T00:00:00")
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        hourly = hourly_concurrency_gpus(log)
        summary = demand_summary(log)
        summary_seconds = time.perf_counter() - t0
    print(
        f"jobs {len(log.jobs):,}, steps {log.step_rows:,}, "
        f"pending {log.pending_jobs:,}, "
        f"rejected {log.rejected_count:,}, GPU-hours {summary['gpu_hours']:,.0f}, "
        f"hours {len(hourly):,}"
    )
    print(
        f"read_sacct: {seconds:.2f} s (target {TARGET_SECONDS:.0f} s, "
        f"ratio {seconds / TARGET_SECONDS:.2f})"
    )
    print(
        f"peak RSS: {peak_mb:.0f} MB (before the import {before_mb:.0f} MB; target "
        f"{TARGET_PEAK_MB:.0f} MB, ratio {peak_mb / TARGET_PEAK_MB:.2f})"
    )
    print(f"hourly series + summary: {summary_seconds:.2f} s")


if __name__ == "__main__":
    main()
