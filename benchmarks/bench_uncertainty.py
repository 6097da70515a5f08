"""Uncertainty speed: 100,000 Monte Carlo draws and a robust plan of 50 futures.

Targets (issue 14): 100,000 draws of the department example (10 years, 6
strategies, the default uncertainty preset) in under 2 s and under 2 GB, with
the ratio against a per-draw loop of the engine (which gives the same numbers:
tests/planner/test_uncertainty.py); a robust plan with K = 50 futures of the
department example in under 30 s. Times are the best of a few runs (wall
clock); the machine's load average is printed beside them.
"""

import os
import resource
import sys
import time
import tracemalloc
from importlib import resources

from planner.scenario import scenario_from_yaml
from planner.uncertainty import analysis, engine, robust, sampling
from planner.uncertainty.spec import default_uncertainty

DRAWS = 100_000
TARGET_S = 2.0
TARGET_BYTES = 2 * 1024**3
LOOP_DRAWS = 30
FUTURES = 50
ROBUST_TARGET_S = 30.0


def main():
    scenario = scenario_from_yaml(
        resources.files("planner").joinpath("presets/department.yaml").read_text()
    )
    spec = default_uncertainty(scenario)
    print(
        f"machine: {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    analysis.monte_carlo(scenario, spec, draws=1_000, sensitivity=False)  # warm caches

    def run_draws():
        return analysis.monte_carlo(scenario, spec, draws=DRAWS, sensitivity=False)

    times, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run_draws()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best = min(times)
    tracemalloc.start()
    run_draws()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"{DRAWS:,} draws, department (10 y, 6 strategies, {len(spec.inputs)} "
        f"inputs), sampling + evaluation + summaries: best {best:.2f} s (target "
        f"{TARGET_S:.0f} s; ratio to target {best / TARGET_S:.2f}; CPU time, all "
        f"threads, {min(cpu):.2f} s); peak traced memory "
        f"{peak / 1024**2:,.0f} MB, process peak RSS {rss / 1024**2:,.0f} MB (target "
        f"{TARGET_BYTES / 1024**3:.0f} GB; ratio {max(peak, rss) / TARGET_BYTES:.2f})"
    )
    assert result.draws == DRAWS

    start = time.perf_counter()
    full = analysis.monte_carlo(scenario, spec, draws=DRAWS)
    print(
        f"  with the tornado and Sobol' indices of {len(full.sobol)} inputs "
        f"(n = {full.sobol_base_draws}): {time.perf_counter() - start:.2f} s"
    )

    prepared = engine.prepare(scenario, spec)
    values = engine.typed_values(prepared, sampling.sample_values(spec, LOOP_DRAWS))
    start, start_cpu = time.perf_counter(), time.process_time()
    engine.loop_outcomes(prepared, values)
    per_draw = (time.perf_counter() - start) / LOOP_DRAWS
    per_draw_cpu = (time.process_time() - start_cpu) / LOOP_DRAWS
    print(
        f"per-draw loop of the engine (resolve + evaluate + break-even per draw): "
        f"{per_draw * 1e3:.0f} ms a draw, {DRAWS * per_draw:,.0f} s for {DRAWS:,}: "
        f"the vectorised run is {DRAWS * per_draw / best:,.0f}x faster (CPU time: "
        f"{DRAWS * per_draw_cpu / min(cpu):,.0f}x)"
    )

    if "--no-robust" in sys.argv:
        return
    stages = []
    start = time.perf_counter()
    plan = robust.robust_plan(
        scenario,
        spec,
        futures=FUTURES,
        progress=lambda _, stage: stages.append((stage, time.perf_counter() - start)),
    )
    seconds = time.perf_counter() - start
    print(
        f"robust plan, K = {FUTURES} futures (joint MILP, both plans valued in every "
        f"future, {FUTURES} wait-and-see solves): {seconds:.1f} s (target "
        f"{ROBUST_TARGET_S:.0f} s; ratio to target {seconds / ROBUST_TARGET_S:.2f}); "
        f"VSS ${plan.value_of_stochastic_solution_usd:,.0f}, EVPI "
        f"${plan.expected_value_of_perfect_information_usd:,.0f}, MIP gap "
        f"{plan.mip_gap:.2%}"
    )
    print(
        "  stages (s from the start): "
        + ", ".join(f"{stage} {at:.1f}" for stage, at in stages)
    )


# Sweeps start worker processes (forkserver), which import this module again.
if __name__ == "__main__":
    main()
