"""Hostile YAML: how fast and how small the refusal of an alias bomb is.

Target (issue 9): a nine-level "billion laughs" alias bomb (nine lists, each of
seven aliases of the one before: 7^9, about 40 million strings once expanded)
is refused in under 1 s and under 100 MB. Baseline: the first version's path,
``yaml.safe_load``, pydantic validation and its error message, which repeats
the value and so walks every expanded string;
it is timed on a six-level bomb (7^6 strings) because each level costs it about
seven times more (the nine-level one took that server to 2.9 GB for minutes).
Times are the best of a few runs; memory is the tracemalloc peak.
"""

import contextlib
import time
import tracemalloc

import yaml
from pydantic import ValidationError

from planner.scenario import Scenario, ScenarioError, scenario_from_yaml

TARGET_S = 1.0
TARGET_BYTES = 100 * 1024**2
REPEATS = 5


def bomb(levels: int) -> str:
    lines = ['name: "bomb"', 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 7) + "]")
    lines.append(f"description: *l{levels - 1}")
    return "\n".join(lines)


def refusal(text: str) -> tuple[float, int]:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        try:
            scenario_from_yaml(text)
        except ScenarioError:
            pass
        else:
            msg = "the bomb was accepted"
            raise SystemExit(msg)
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    with contextlib.suppress(ScenarioError):
        scenario_from_yaml(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


nine = bomb(9)
seconds, peak = refusal(nine)
print(
    f"nine-level alias bomb ({len(nine):,} characters, {7**9:,} strings expanded): "
    f"refused in {seconds * 1000:.1f} ms (target {TARGET_S:.0f} s; ratio "
    f"{seconds / TARGET_S:.4f}), peak {peak / 1024**2:.2f} MB (target "
    f"{TARGET_BYTES / 1024**2:.0f} MB; ratio {peak / TARGET_BYTES:.4f})"
)
six = bomb(6)
tracemalloc.start()
started = time.perf_counter()
try:
    Scenario.model_validate(yaml.safe_load(six))
except ValidationError as error:
    message = str(error)  # the first version printed it: it repeats the value
naive_s = time.perf_counter() - started
naive_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
ours_s, _ = refusal(six)
print(
    f"baseline: safe_load + validation walks a six-level bomb ({7**6:,} strings) "
    f"in {naive_s:.2f} s and {naive_peak / 1024**2:.1f} MB; the planner refuses it "
    f"in {ours_s * 1000:.1f} ms ({naive_s / ours_s:,.0f}x faster)"
)
