"""Engine speed: the department example and a 200-point break-even sweep.

Targets (issue 3): evaluating the department example (10 years, 6 strategies, an
8,760-value hourly shape) under 50 ms after import; a 200-point break-even sweep
under 50 ms. Baselines: a per-hour Python loop doing the hybrid's hourly split
(the one hour-resolved step), and a sweep that calls the full evaluation once per
point.
"""

import time
from importlib import resources

import numpy as np
from timing import best_of

from planner import breakeven, costing, resolve, tco
from planner.scenario import replace, scenario_from_yaml

TARGET_S = 0.050


scenario = scenario_from_yaml(
    resources.files("planner").joinpath("presets/department.yaml").read_text()
)
tco.evaluate(scenario)  # warm caches (catalog parse, shape)


def cold_evaluate():
    resolve._resolve.cache_clear()  # resolve every time: lookups included
    return tco.evaluate(scenario)


best, median = best_of(cold_evaluate)
print(
    f"evaluate department (10 y, 6 strategies, 8,760 h), resolution included: "
    f"best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms (target "
    f"{TARGET_S * 1e3:.0f} ms; ratio to target {median / TARGET_S:.2f})"
)
best_cached, median_cached = best_of(lambda: tco.evaluate(scenario))
print(
    f"  with the resolution cached (a re-render): median {median_cached * 1e3:.1f} ms"
)

levels = tco.scenario_demand(scenario).levels
owned = next(s for s in resolve.resolve(scenario).strategies if s.kind == "onprem")
# One server of the owned strategy, in reference accelerators (throughput and
# availability from the catalog), as the hybrid splits the hours.
capacity = costing.capacity_reference_per_server(owned.server, owned.ops)


def per_hour_loop():
    served = overflow = 0.0
    for year in levels:
        for demand in year.tolist():
            inside = min(demand, capacity)
            served += inside
            overflow += demand - inside
    return served, overflow


def vectorised_split():
    inside = np.minimum(levels, capacity)
    return float(inside.sum()), float((levels - inside).sum())


loop_s, _ = best_of(per_hour_loop, repeats=3)
vector_s, _ = best_of(vectorised_split)
assert np.allclose(per_hour_loop(), vectorised_split())
print(
    f"one hybrid's hourly split: per-hour Python loop {loop_s * 1e3:.2f} ms, "
    f"vectorised {vector_s * 1e3:.3f} ms ({loop_s / vector_s:.0f}x faster)"
)

resolved = resolve.resolve(scenario)
onprem = resolved.strategies[3]
cloud = resolved.strategies[0]
breakeven.utilisation_sweep(resolved, onprem, cloud, view="institution", points=200)
best, median = best_of(
    lambda: breakeven.utilisation_sweep(
        resolved, onprem, cloud, view="institution", points=200
    )
)
print(
    f"200-point break-even sweep: median {median * 1e3:.2f} ms "
    f"(target {TARGET_S * 1e3:.0f} ms; ratio to target {median / TARGET_S:.3f})"
)

pair = replace(scenario, strategies=[scenario.strategies[3], scenario.strategies[0]])
start = time.perf_counter()
for _ in range(20):
    tco.evaluate(pair)
naive_point_s = (time.perf_counter() - start) / 20
print(
    f"naive sweep (one full evaluation per point) would take "
    f"{200 * naive_point_s * 1e3:.0f} ms: {200 * naive_point_s / median:.0f}x slower"
)
