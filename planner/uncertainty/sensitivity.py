"""What decides the answer: the one-at-a-time tornado beside every verdict.

The base point is the scenario as given (the verdict's own numbers, so the
leader is the recommended strategy). Each uncertain input (the scenario's own
spec, or the sourced default of :func:`planner.uncertainty.default_uncertainty`)
is set alone to its P10 and to its P90, every other input keeping the
scenario's value, and the engine (:func:`planner.tco.present_values`, the
present values :func:`planner.tco.evaluate` reports, decisions frozen as the
Monte Carlo freezes them) prices each point. A bar is the change
of the leader's lead over the cheapest other strategy, widest first
(docs/methods.md §8). The Monte Carlo's own tornado
(:func:`planner.uncertainty.analysis.tornado`) is centred on the inputs'
medians instead, as its statistics are. The CLI's ``evaluate``, its JSON, the
reports and the app print this one beside the recommendation of each view.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from planner.costing import VIEWS, View
from planner.scenario import Scenario
from planner.tco import present_values
from planner.uncertainty import sampling
from planner.uncertainty.analysis import (
    TORNADO_QUANTILES,
    TornadoBar,
    swings,
)
from planner.uncertainty.engine import apply_values, prepare, typed_values
from planner.uncertainty.spec import (
    UncertaintySpec,
    default_uncertainty,
    input_label,
)
from pricing.catalog import Catalog

SENTENCE_BARS = 3
"""Inputs named in the sentence beside a verdict (the widest bars). [-]"""


@dataclass(frozen=True)
class Sensitivity:
    """The tornado of one view: which inputs move the leader's lead, and how far."""

    view: View
    leader: str
    """Cheapest strategy of the scenario as given (the recommendation)."""
    runner_up: str
    """The next cheapest there."""
    advantage_usd: float
    """Runner-up's present value minus the leader's, the scenario as given. [USD]"""
    bars: tuple[TornadoBar, ...]
    """Widest first."""
    spec: str
    """Whose ranges: "default" (sourced, examples/uncertainty.yaml) or "scenario"."""

    def sentence(self, bars: int = SENTENCE_BARS) -> str:
        """What decides the answer, in words: the widest bars and any flip."""
        low, high = (f"P{round(q * 100)}" for q in TORNADO_QUANTILES)
        parts = []
        for bar in self.bars[:bars]:
            text = (
                f"{bar.words} (at its {low}, {bar.low:.4g}, the lead changes by "
                f"{_signed(bar.low_npv_delta_usd)}; at its {high}, {bar.high:.4g}, "
                f"by {_signed(bar.high_npv_delta_usd)})"
            )
            flips = [
                f"{name} is cheapest at its {end}"
                for name, end in ((bar.low_cheapest, low), (bar.high_cheapest, high))
                if name != self.leader
            ]
            if flips:
                text += ", where " + " and ".join(flips)
            parts.append(text)
        ranges = (
            "the sourced default ranges"
            if self.spec == "default"
            else "the scenario's ranges"
        )
        return (
            f"What moves the lead of {self.leader} over {self.runner_up} "
            f"({money_text(self.advantage_usd)}, {self.view} view), each input alone "
            f"at its {low} and its {high} of {ranges}: " + "; ".join(parts) + "."
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the leader, the advantage and the bars."""
        return {
            "view": self.view,
            "leader": self.leader,
            "runner_up": self.runner_up,
            "advantage_usd": self.advantage_usd,
            "ranges": self.spec,
            "tornado": [
                {
                    "input": bar.input,
                    "label": bar.label,
                    "low": bar.low,
                    "high": bar.high,
                    "low_npv_delta_usd": bar.low_npv_delta_usd,
                    "high_npv_delta_usd": bar.high_npv_delta_usd,
                    "low_cheapest": bar.low_cheapest,
                    "high_cheapest": bar.high_cheapest,
                }
                for bar in self.bars
            ],
            "sentence": self.sentence(),
        }


def _signed(usd: float) -> str:
    sign = "+" if usd >= 0 else "-"
    return f"{sign}${abs(usd):,.0f}"


def money_text(usd: float) -> str:
    """Dollars with separators and the sign before the dollar sign."""
    return f"-${-usd:,.0f}" if usd < 0 else f"${usd:,.0f}"


def sensitivities(
    scenario: Scenario,
    *,
    catalog: Catalog | None = None,
    spec: UncertaintySpec | None = None,
) -> dict[View, Sensitivity]:
    """The tornado of each view, from ``2 d + 1`` evaluations of the engine.

    Parameters
    ----------
    scenario : Scenario
        The question (its decisions frozen first, as the Monte Carlo does).
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    spec : UncertaintySpec, optional
        The uncertain inputs; the sourced default of the scenario otherwise.

    Returns
    -------
    dict
        ``{"institution": Sensitivity, "award": Sensitivity}``.

    Raises
    ------
    planner.uncertainty.spec.UncertaintyError
        If ``spec`` does not fit the scenario.
    """
    return _sensitivities(scenario, catalog or Catalog(), spec)


@lru_cache(maxsize=32)
def _sensitivities(
    scenario: Scenario, catalog: Catalog, spec: UncertaintySpec | None
) -> dict[View, Sensitivity]:
    """Bounded cache keyed by the (frozen) scenario, catalog and spec."""
    chosen = (
        spec if spec is not None else default_uncertainty(scenario, catalog=catalog)
    )
    prepared = prepare(scenario, chosen, catalog=catalog)
    low = typed_values(prepared, sampling.quantiles(chosen, TORNADO_QUANTILES[0])[None])
    high = typed_values(
        prepared, sampling.quantiles(chosen, TORNADO_QUANTILES[1])[None]
    )
    # Present values only (the engine's formula, without its tables): the
    # tornado is 2 d + 1 pricings of the scenario.
    base = present_values(prepared.plan, catalog=catalog)
    names = [str(name) for name in base["strategy"]]
    ends: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    for j in range(len(chosen.inputs)):
        pair = []
        for values in (low[0], high[0]):
            future = apply_values(prepared, values, only=[j])
            pair.append(present_values(future, catalog=catalog))
        ends.append((pair[0], pair[1]))
    out: dict[View, Sensitivity] = {}
    for view in VIEWS:
        column = f"{view}_npv_usd"
        npv = np.array(
            [base[column].to_numpy()]
            + [summary[column].to_numpy() for pair in ends for summary in pair],
            dtype=float,
        )
        paths = [item.path for item in chosen.inputs]
        leader, runner_up, advantage, bars = swings(
            npv,
            names,
            paths,
            low[0],
            high[0],
            labels=[input_label(path, scenario) for path in paths],
        )
        out[view] = Sensitivity(
            view=view,
            leader=leader,
            runner_up=runner_up,
            advantage_usd=advantage,
            bars=bars,
            spec="default" if spec is None else "scenario",
        )
    return out
