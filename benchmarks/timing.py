"""The benchmarks' one timing loop: best and median wall-clock of a few runs.

Run as scripts (``python benchmarks/bench_*.py``, ``make bench``), the
benchmarks find this module beside them on ``sys.path``.
"""

import statistics
import time


def timed(function, repeats):
    """Call ``function`` ``repeats`` times: (best s, median s, last value)."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), value


def best_of(function, repeats=15):
    """Best and median seconds of ``repeats`` calls of ``function``."""
    best, median, _ = timed(function, repeats)
    return best, median
