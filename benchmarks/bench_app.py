"""App responsiveness: a widget change on Quick compare, measured with AppTest.

Target (issue 6): re-render under 300 ms. Prints the median over repeated changes
of the demand input (each a new value, so the library call is not a cache hit,
and the same value again, a cache hit), with the ratio to the target.
"""

import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

TARGET_S = 0.300
APP = str(Path(__file__).parents[1] / "app.py")

app = AppTest.from_file(APP, default_timeout=60).run()
fresh, cached = [], []
for step in range(8):
    value = 10.0 + step
    start = time.perf_counter()
    app.number_input(key="quick_demand_value").set_value(value).run()
    fresh.append(time.perf_counter() - start)
    start = time.perf_counter()
    app.number_input(key="quick_pue").set_value(1.5).run()
    cached.append(time.perf_counter() - start)
assert not app.exception
for label, times in (("new demand (library call)", fresh), ("cache hit", cached)):
    median = statistics.median(times)
    print(
        f"quick compare re-render, {label}: median {median * 1e3:.0f} ms "
        f"(target {TARGET_S * 1e3:.0f} ms; ratio to target {median / TARGET_S:.2f})"
    )
