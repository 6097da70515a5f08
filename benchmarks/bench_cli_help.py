"""`planner --help` wall time: target under 0.3 s (issue: lazy imports).

Prints the median of repeated runs and its ratio to the target, and, as a
baseline, the time of a run that imports the heavy stack (pandas, scipy, pydantic).
"""

import statistics
import subprocess
import sys
import time

TARGET_S = 0.3
RUNS = 7


def median_seconds(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


help_s = median_seconds([sys.executable, "-m", "planner.cli", "--help"])
heavy_s = median_seconds(
    [sys.executable, "-c", "import pandas, scipy.optimize, pydantic, planner.cli"]
)
print(
    f"planner --help: {help_s * 1000:.0f} ms median of {RUNS} "
    f"(target {TARGET_S * 1000:.0f} ms; ratio to target {help_s / TARGET_S:.2f})"
)
print(
    f"baseline with heavy imports: {heavy_s * 1000:.0f} ms "
    f"(lazy imports are {heavy_s / help_s:.1f}x faster)"
)
