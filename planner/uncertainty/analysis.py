"""How sure the answer is: Monte Carlo summaries, a tornado and Sobol' indices.

:func:`monte_carlo` draws the inputs, evaluates every strategy in every draw
(vectorised, :mod:`planner.uncertainty.batched`, or the engine draw by draw when
an input needs it) and summarises per strategy and view:

* the NPV and CO2e distributions (P10, P50, P90, mean);
* the probability that each strategy is the cheapest (with its standard error
  ``sqrt(p (1 - p) / n)``, methods §8.2) and its expected regret, the mean cost
  above the cheapest strategy of the same draw (common random numbers: every
  strategy sees the same futures);
* the break-even year of each owned strategy against each cloud strategy, and
  the flat-demand break-even utilisation of each on-premises one;
* probabilities conditional on each switch (methods §8.4: a policy switch is a
  scenario, not a coin).

Sensitivity (methods §8.3) is on the **lead** of the strategy cheapest with
every input at its median (the leader): the NPV of the cheapest other strategy
minus the leader's, in the chosen view, negative where the recommendation flips:

* a one-at-a-time **tornado**: each input at its P10 and P90, the others at
  their medians, sorted by swing, with who is cheapest at each end;
* **Sobol' indices** (first order and total) of the leading inputs by the
  Saltelli/Jansen estimators of :func:`scipy.stats.sobol_indices` [1]_, the
  other inputs at their medians. scipy rather than SALib: the same estimators,
  a vectorised ``func(x) -> y`` interface that fits the batched engine, a seeded
  generator, and no extra dependency. Indices assume independent inputs: the
  copula is left out of them.

References
----------
.. [1] A. Saltelli, P. Annoni, I. Azzini, F. Campolongo, M. Ratto, and S.
   Tarantola, "Variance based sensitivity analysis of model output. Design and
   estimator for the total sensitivity index," Comput. Phys. Commun., vol. 181,
   no. 2, pp. 259-270, 2010, doi:10.1016/j.cpc.2009.09.018.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from planner.costing import VIEWS, View
from planner.scenario import Scenario
from planner.uncertainty import sampling
from planner.uncertainty.batched import NotVectorisedError, batched_outcomes
from planner.uncertainty.engine import (
    NEVER,
    STATUS_CODES,
    Outcomes,
    Prepared,
    prepare,
    typed_values,
)
from planner.uncertainty.spec import UncertaintySpec, default_uncertainty, input_label
from pricing.catalog import Catalog
from pricing.units import KILOGRAMS_PER_TONNE

FloatArray = npt.NDArray[np.float64]

Progress = Callable[[float, str], None]
"""``progress(fraction_done, stage)``: a share from 0 to 1 and what runs now."""

Method = Literal["auto", "vectorised", "loop"]
"""How draws are evaluated: vectorised when possible (auto), or the engine's loop."""

QUANTILES = (0.1, 0.5, 0.9)
"""The reported quantiles: P10, P50, P90. [-]"""

TORNADO_QUANTILES = (0.1, 0.9)
"""Each input's low and high in the tornado: its P10 and P90 (methods §8.3). [-]"""

SOBOL_INPUTS = 5
"""Leading inputs (by tornado swing) given Sobol' indices. [-]"""

SOBOL_BASE_DRAWS = 2**12
"""Base sample of the Sobol' estimators; cost ``n (d + 2)`` evaluations. [-]"""

FAN_DRAWS = 10_000
"""Draws a fan chart's quantiles are taken from (the first ones). [-]"""

DEFAULT_DRAWS = 10_000
"""Draws of a run when not given (P(cheapest) to about +-0.5 %). [-]"""


@dataclass(frozen=True)
class StrategyStats:
    """One strategy's distribution in one view."""

    name: str
    view: str
    npv_scenario_usd: float
    """NPV of the scenario as written (every input at its own value). [USD]"""
    npv_mean_usd: float
    npv_p10_usd: float
    npv_p50_usd: float
    npv_p90_usd: float
    p_cheapest: float
    """Share of draws in which it is the cheapest strategy. [0-1]"""
    p_cheapest_se: float
    """Standard error of that share, sqrt(p (1 - p) / n). [0-1]"""
    expected_regret_usd: float
    """Mean NPV above the cheapest strategy of the same draw. [USD]"""
    co2e_p10_kg: float
    co2e_p50_kg: float
    co2e_p90_kg: float


@dataclass(frozen=True)
class BreakEvenStats:
    """The break-even year of an owned strategy against a cloud strategy."""

    onprem: str
    cloud: str
    view: str
    p_never: float
    """Share of draws in which owning never stays no dearer. [0-1]"""
    year_p10: float | None
    year_p50: float | None
    year_p90: float | None
    """Quantiles of the year over all draws, ``never`` counted as after the
    horizon; None when the quantile falls there. [year index]"""
    utilisation_p10: float | None = None
    utilisation_p50: float | None = None
    utilisation_p90: float | None = None
    """Flat-demand break-even utilisation where the costs cross (on-premises
    strategies only). [0-1]"""
    p_owning_never_cheaper: float | None = None
    """Share of draws where renting is cheaper even at full use. [0-1]"""
    p_owning_always_cheaper: float | None = None
    """Share of draws where owning is cheaper even idle. [0-1]"""


@dataclass(frozen=True)
class TornadoBar:
    """One input swung from its P10 to its P90, the others at their medians."""

    input: str
    low: float
    high: float
    """The input's values at each end. [its unit]"""
    low_npv_delta_usd: float
    high_npv_delta_usd: float
    """Change of the leader's lead over the cheapest other strategy (negative:
    the lead shrinks; beyond ``-advantage_usd`` it flips). [USD]"""
    low_cheapest: str
    high_cheapest: str
    """The cheapest strategy at each end (another name: the input can flip it)."""
    label: str = ""
    """The input in words (:func:`planner.uncertainty.spec.input_label`)."""

    @property
    def words(self) -> str:
        """Return the input in words, else its path."""
        return self.label or self.input

    @property
    def swing_usd(self) -> float:
        """Return the width of the bar. [USD]."""
        return abs(self.high_npv_delta_usd - self.low_npv_delta_usd)


@dataclass(frozen=True)
class SobolIndex:
    """Variance-based sensitivity of the leader's lead to one input."""

    input: str
    first_order: float
    """Share of the variance explained by the input alone. [0-1]"""
    total: float
    """Share including all its interactions. [0-1]"""


@dataclass(frozen=True)
class FanPoint:
    """Quantiles of a strategy's cumulative present value at one year (a fan)."""

    name: str
    year: int
    """t = 0..N; year 0 holds the first purchases. [year index]"""
    p10_usd: float
    p50_usd: float
    p90_usd: float


@dataclass(frozen=True)
class Conditional:
    """P(cheapest) among the draws in which a switch takes one value."""

    input: str
    value: float
    share_of_draws: float
    p_cheapest: dict[str, float]


@dataclass(frozen=True)
class UncertaintyResult:
    """Everything :func:`monte_carlo` finds."""

    scenario: str
    view: View
    draws: int
    seed: int
    sampling: str
    method: str
    """``vectorised`` or ``loop`` (the engine draw by draw)."""
    spec: UncertaintySpec
    values: FloatArray
    """(draws, inputs): the draws as the scenario saw them."""
    outcomes: Outcomes
    strategies: dict[View, tuple[StrategyStats, ...]]
    """View -> one summary per strategy, in scenario order."""
    break_even: dict[View, tuple[BreakEvenStats, ...]]
    """View -> one summary per (owned, cloud) pair."""
    conditional: tuple[Conditional, ...]
    fan: dict[View, tuple[FanPoint, ...]]
    """View -> cumulative present value quantiles per strategy and year."""
    leader: str
    runner_up: str
    advantage_usd: float
    """NPV of the runner-up minus the leader's, every input at its median: the
    lead the tornado's deltas change. [USD]"""
    tornado: tuple[TornadoBar, ...]
    sobol: tuple[SobolIndex, ...]
    sobol_base_draws: int
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """Return JSON-ready data (the CLI's ``--format json``).

        Money is rounded to whole dollars, shares to 4 decimals; the same spec,
        draws and seed give the same data.

        Returns
        -------
        dict
            ``draws``, ``seed``, ``sampling``, ``method``, ``view``, ``inputs``,
            ``strategies`` (the chosen view) and ``strategies_by_view``,
            ``break_even``, ``conditional``, ``fan`` (cumulative present value
            quantiles by year), ``tornado_basis``, ``tornado``, ``sobol`` and
            ``notes``.
        """
        return {
            "scenario": self.scenario,
            "draws": self.draws,
            "seed": self.seed,
            "sampling": self.sampling,
            "method": self.method,
            "view": self.view,
            "inputs": [
                {
                    "input": item.path,
                    "distribution": item.distribution.model_dump(mode="json"),
                    "source": item.source,
                }
                for item in self.spec.inputs
            ],
            "strategies": [_rounded(s) for s in self.strategies[self.view]],
            "strategies_by_view": {
                view: [_rounded(s) for s in rows]
                for view, rows in self.strategies.items()
            },
            "break_even": {
                view: [_rounded(b) for b in rows]
                for view, rows in self.break_even.items()
            },
            "conditional": [_rounded(c) for c in self.conditional],
            "fan": {
                view: [_rounded(point) for point in points]
                for view, points in self.fan.items()
            },
            "tornado_basis": {
                "view": self.view,
                "leader": self.leader,
                "runner_up": self.runner_up,
                "advantage_usd": round(self.advantage_usd),
                "low_quantile": TORNADO_QUANTILES[0],
                "high_quantile": TORNADO_QUANTILES[1],
            },
            "tornado": [_rounded(bar) for bar in self.tornado],
            "sobol": [_rounded(index) for index in self.sobol],
            "sobol_base_draws": self.sobol_base_draws,
            "notes": list(self.notes),
        }


def _round_value(key: str, value: object) -> object:
    if isinstance(value, dict):
        return {k: _round_value(key, v) for k, v in value.items()}
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if key.endswith(("_usd", "_kg")):
            return round(value)
        return round(value, 4)
    return value


def _rounded(item: object) -> dict[str, object]:
    from dataclasses import asdict

    return {key: _round_value(key, value) for key, value in asdict(item).items()}  # type: ignore[call-overload]


# --- evaluation ----------------------------------------------------------------------


def evaluate_draws(
    prepared: Prepared,
    values: FloatArray,
    *,
    method: Method = "auto",
    break_even: bool = True,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[Outcomes, str, tuple[str, ...]]:
    """Outcomes of draws, vectorised when every input allows it.

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec.
    values : numpy.ndarray of shape (draws, inputs)
        The draws.
    method : {"auto", "vectorised", "loop"}, default "auto"
        ``auto``: vectorised, else the engine draw by draw.
    break_even : bool, default True
        Also the flat-demand break-even utilisations (vectorised path).
    progress : callable, optional
        ``progress(done, total)``.
    scheduler : str, optional
        Dask scheduler address for the loop (:mod:`planner.uncertainty.sweep`).
    workers : int, optional
        Local processes for the loop.

    Returns
    -------
    outcomes : Outcomes
        One row per draw.
    method : str
        ``vectorised`` or ``loop``.
    notes : tuple of str
        Why the loop was used, if it was.
    """
    notes: tuple[str, ...] = ()
    if method != "loop":
        try:
            return (
                batched_outcomes(
                    prepared, values, break_even=break_even, progress=progress
                ),
                "vectorised",
                notes,
            )
        except NotVectorisedError as error:
            if method == "vectorised":
                raise
            notes = (f"{error}; every draw ran through the engine",)
    from planner.uncertainty.sweep import loop_sweep

    outcomes = loop_sweep(
        prepared, values, scheduler=scheduler, workers=workers, progress=progress
    )
    return outcomes, "loop", notes


# --- summaries ------------------------------------------------------------------


def _quantiles(values: FloatArray) -> tuple[float, float, float]:
    low, mid, high = np.quantile(values, QUANTILES)
    return float(low), float(mid), float(high)


def strategy_stats(
    outcomes: Outcomes, view: View, scenario_npv: FloatArray
) -> tuple[StrategyStats, ...]:
    """Each strategy's NPV and CO2e quantiles, P(cheapest) and expected regret.

    Parameters
    ----------
    outcomes : Outcomes
        The draws' outcomes.
    view : {"institution", "award"}
        Whose cost.
    scenario_npv : numpy.ndarray of shape (strategies,)
        NPV of the scenario as written, in the view. [USD]

    Returns
    -------
    tuple of StrategyStats
        In scenario order.

    Examples
    --------
    >>> import numpy as np
    >>> from planner.uncertainty.engine import Outcomes
    >>> npv = np.array([[1.0, 2.0], [3.0, 2.0], [1.0, 4.0], [5.0, 2.0]])
    >>> empty = {v: np.zeros((4, 0)) for v in ("institution", "award")}
    >>> out = Outcomes(("a", "b"), (), (), {"institution": npv, "award": npv},
    ...                npv, empty, empty, empty, empty)
    >>> a, b = strategy_stats(out, "institution", np.zeros(2))
    >>> a.p_cheapest, b.p_cheapest, a.expected_regret_usd, b.expected_regret_usd
    (0.5, 0.5, 1.0, 1.0)
    """
    npv = outcomes.npv_usd[view]
    n = npv.shape[0]
    best = npv.min(axis=1)
    cheapest = np.argmin(npv, axis=1)
    out = []
    for k, name in enumerate(outcomes.strategies):
        p = float(np.mean(cheapest == k))
        low, mid, high = _quantiles(npv[:, k])
        co2_low, co2_mid, co2_high = _quantiles(outcomes.co2e_kg[:, k])
        out.append(
            StrategyStats(
                name=name,
                view=view,
                npv_scenario_usd=float(scenario_npv[k]),
                npv_mean_usd=float(npv[:, k].mean()),
                npv_p10_usd=low,
                npv_p50_usd=mid,
                npv_p90_usd=high,
                p_cheapest=p,
                p_cheapest_se=math.sqrt(p * (1.0 - p) / n),
                expected_regret_usd=float((npv[:, k] - best).mean()),
                co2e_p10_kg=co2_low,
                co2e_p50_kg=co2_mid,
                co2e_p90_kg=co2_high,
            )
        )
    return tuple(out)


def break_even_stats(
    outcomes: Outcomes, view: View, horizon: int
) -> tuple[BreakEvenStats, ...]:
    """Distribution of the break-even year and utilisation of each pair.

    Parameters
    ----------
    outcomes : Outcomes
        The draws' outcomes.
    view : {"institution", "award"}
        Whose cost.
    horizon : int
        N, so ``never`` sorts after every year. [years]

    Returns
    -------
    tuple of BreakEvenStats
        One per (owned, cloud) pair.
    """
    years = outcomes.break_even_year[view]
    utilisation = outcomes.break_even_utilisation[view]
    status = outcomes.break_even_status[view]
    out = []
    for column, (onprem, cloud) in enumerate(outcomes.pairs):
        year = years[:, column].astype(float)
        never = year == NEVER
        year[never] = horizon + 1.0
        quantiles = [
            None if q > horizon else float(q) for q in np.quantile(year, QUANTILES)
        ]
        extra: dict[str, float | None] = {}
        if (onprem, cloud) in outcomes.utilisation_pairs:
            u_column = outcomes.utilisation_pairs.index((onprem, cloud))
            codes = status[:, u_column]
            crossing = utilisation[codes == STATUS_CODES["crosses"], u_column]
            if codes.min() >= 0:
                u = _quantiles(crossing) if crossing.size else (None, None, None)
                extra = {
                    "utilisation_p10": u[0],
                    "utilisation_p50": u[1],
                    "utilisation_p90": u[2],
                    "p_owning_never_cheaper": float(
                        np.mean(codes == STATUS_CODES["never"])
                    ),
                    "p_owning_always_cheaper": float(
                        np.mean(codes == STATUS_CODES["always"])
                    ),
                }
        out.append(
            BreakEvenStats(
                onprem=onprem,
                cloud=cloud,
                view=view,
                p_never=float(never.mean()),
                year_p10=quantiles[0],
                year_p50=quantiles[1],
                year_p90=quantiles[2],
                **extra,
            )
        )
    return tuple(out)


def fan_stats(outcomes: Outcomes, view: View) -> tuple[FanPoint, ...]:
    """P10/P50/P90 of each strategy's cumulative present value, year by year.

    Parameters
    ----------
    outcomes : Outcomes
        The draws' outcomes.
    view : {"institution", "award"}
        Whose cost.

    Returns
    -------
    tuple of FanPoint
        Strategy-major, t = 0..N.

    Notes
    -----
    A chart needs no more than the first :data:`FAN_DRAWS` draws (the draws are
    in random order, so they are a random subsample): the quantiles' sampling
    error is then below a chart's resolution.
    """
    cumulative = outcomes.cumulative_pv_usd[view][:FAN_DRAWS]
    draws, strategies, width = cumulative.shape
    columns = np.ascontiguousarray(cumulative.reshape(draws, -1).T, dtype=float)
    quantiles = np.quantile(columns, QUANTILES, axis=1).reshape(3, strategies, width)
    return tuple(
        FanPoint(
            name=name,
            year=year,
            p10_usd=float(quantiles[0, k, year]),
            p50_usd=float(quantiles[1, k, year]),
            p90_usd=float(quantiles[2, k, year]),
        )
        for k, name in enumerate(outcomes.strategies)
        for year in range(cumulative.shape[2])
    )


def conditional_stats(
    spec: UncertaintySpec, values: FloatArray, outcomes: Outcomes, view: View
) -> tuple[Conditional, ...]:
    """P(cheapest) given each value of every switch (Bernoulli input).

    Parameters
    ----------
    spec : UncertaintySpec
        The inputs.
    values : numpy.ndarray of shape (draws, inputs)
        Typed draws.
    outcomes : Outcomes
        The draws' outcomes.
    view : {"institution", "award"}
        Whose cost.

    Returns
    -------
    tuple of Conditional
        Two per switch (0 and 1), draws in which the switch has that value.
    """
    cheapest = np.argmin(outcomes.npv_usd[view], axis=1)
    out = []
    for j, item in enumerate(spec.inputs):
        if item.distribution.kind != "bernoulli":
            continue
        for value in (0.0, 1.0):
            chosen = values[:, j] == value
            if not chosen.any():
                continue
            out.append(
                Conditional(
                    input=item.path,
                    value=value,
                    share_of_draws=float(chosen.mean()),
                    p_cheapest={
                        name: float(np.mean(cheapest[chosen] == k))
                        for k, name in enumerate(outcomes.strategies)
                    },
                )
            )
    return tuple(out)


# --- sensitivity ---------------------------------------------------------------------


def lead_over_others(npv: FloatArray, lead: int) -> FloatArray:
    """How much cheaper one strategy is than the cheapest of the others, per draw.

    Negative where another strategy is cheaper: the recommendation flips.

    Parameters
    ----------
    npv : numpy.ndarray of shape (draws, strategies)
        NPVs. [USD]
    lead : int
        Column of the strategy.

    Returns
    -------
    numpy.ndarray of shape (draws,)
        Cheapest other NPV minus its NPV. [USD]

    Examples
    --------
    >>> import numpy as np
    >>> lead_over_others(np.array([[1.0, 3.0, 2.0], [5.0, 3.0, 4.0]]), 0).tolist()
    [1.0, -2.0]
    """
    if npv.shape[1] < 2:
        return np.zeros(npv.shape[0])
    others = np.delete(npv, lead, axis=1)
    return np.asarray(others.min(axis=1) - npv[:, lead], dtype=float)


TornadoResult = tuple[str, str, float, tuple["TornadoBar", ...], FloatArray]
"""Leader, runner-up, the leader's advantage at the medians [USD], the bars
(widest first) and the medians."""


def tornado(
    prepared: Prepared,
    view: View,
    *,
    method: Method = "auto",
) -> TornadoResult:
    """One-at-a-time swings of each input from its P10 to its P90.

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec.
    view : {"institution", "award"}
        Whose cost.
    method : {"auto", "vectorised", "loop"}, default "auto"
        How the ``2 d + 1`` points are evaluated.

    Returns
    -------
    leader : str
        Cheapest strategy with every input at its median.
    runner_up : str
        The next cheapest there.
    advantage_usd : float
        Runner-up's NPV minus the leader's there; each bar's deltas are the
        change of the leader's lead over the cheapest other strategy at that
        point (:func:`lead_over_others`). [USD]
    bars : tuple of TornadoBar
        Sorted by swing, widest first.
    base : numpy.ndarray of shape (inputs,)
        The medians.
    """
    return tornados(prepared, (view,), method=method)[view]


def tornados(
    prepared: Prepared,
    views: Sequence[View],
    *,
    method: Method = "auto",
) -> dict[View, TornadoResult]:
    """:func:`tornado` for several views from one evaluation of the points."""
    spec = prepared.spec
    base = sampling.medians(spec)
    low = sampling.quantiles(spec, TORNADO_QUANTILES[0])
    high = sampling.quantiles(spec, TORNADO_QUANTILES[1])
    d = base.size
    points = np.repeat(base[None, :], 2 * d + 1, axis=0)
    for j in range(d):
        points[1 + 2 * j, j] = low[j]
        points[2 + 2 * j, j] = high[j]
    points = typed_values(prepared, points)
    outcomes, _, _ = evaluate_draws(prepared, points, method=method, break_even=False)
    names = list(outcomes.strategies)
    paths = [item.path for item in spec.inputs]
    labels = [input_label(path, prepared.scenario) for path in paths]
    out: dict[View, TornadoResult] = {}
    for view in views:
        lead, second, advantage, bars = swings(
            outcomes.npv_usd[view],
            names,
            paths,
            np.diag(points[1::2]),
            np.diag(points[2::2]),
            labels=labels,
        )
        out[view] = (lead, second, advantage, bars, base)
    return out


def swings(
    npv_usd: FloatArray,
    names: Sequence[str],
    paths: Sequence[str],
    low: FloatArray,
    high: FloatArray,
    *,
    labels: Sequence[str] | None = None,
) -> tuple[str, str, float, tuple[TornadoBar, ...]]:
    """Rank one-at-a-time swings: the tornado's bars from its ``2 d + 1`` points.

    Parameters
    ----------
    npv_usd : numpy.ndarray of shape (2 d + 1, strategies)
        NPV at the centre (row 0), then each input ``j`` alone at its low
        (row ``1 + 2 j``) and its high (row ``2 + 2 j``). [USD]
    names : sequence of str
        Strategy names, in column order.
    paths : sequence of str
        The inputs' scenario paths (``d`` of them).
    low, high : numpy.ndarray of shape (d,)
        Each input's low and high value.
    labels : sequence of str, optional
        The inputs in words (default: none, sentences then use the paths).

    Returns
    -------
    leader, runner_up : str
        Cheapest and next cheapest strategy at the centre.
    advantage_usd : float
        Runner-up's NPV minus the leader's at the centre. [USD]
    bars : tuple of TornadoBar
        Change of the leader's lead over the cheapest other strategy
        (:func:`lead_over_others`) at each end, widest swing first.
    """
    order = np.argsort(npv_usd[0], kind="stable")
    lead = int(order[0])
    second = int(order[1]) if order.size > 1 else lead
    advantage = lead_over_others(npv_usd, lead)
    bars = [
        TornadoBar(
            input=path,
            low=float(low[j]),
            high=float(high[j]),
            low_npv_delta_usd=float(advantage[1 + 2 * j] - advantage[0]),
            high_npv_delta_usd=float(advantage[2 + 2 * j] - advantage[0]),
            low_cheapest=names[int(np.argmin(npv_usd[1 + 2 * j]))],
            high_cheapest=names[int(np.argmin(npv_usd[2 + 2 * j]))],
            label=labels[j] if labels is not None else "",
        )
        for j, path in enumerate(paths)
    ]
    bars.sort(key=lambda bar: -bar.swing_usd)
    return names[lead], names[second], float(advantage[0]), tuple(bars)


def sobol(
    prepared: Prepared,
    view: View,
    inputs: list[str],
    leader: str,
    *,
    base_draws: int = SOBOL_BASE_DRAWS,
    seed: int = 0,
) -> tuple[SobolIndex, ...]:
    """Sobol' first-order and total indices of the leader's lead for some inputs.

    Parameters
    ----------
    prepared : Prepared
        Scenario, plan and spec (vectorised inputs only: ``n (d + 2)`` draws).
    view : {"institution", "award"}
        Whose cost.
    inputs : list of str
        Paths of the inputs to vary; the others stay at their medians.
    leader : str
        The output is its lead over the cheapest other strategy
        (:func:`lead_over_others`). [USD]
    base_draws : int, default 4096
        Base sample, a power of two.
    seed : int, default 0
        Seed of the estimators' Sobol' sample.

    Returns
    -------
    tuple of SobolIndex
        In the order of ``inputs``.
    """
    from scipy import stats

    spec = prepared.spec
    columns = [spec.paths.index(path) for path in inputs]
    base = sampling.medians(spec)
    lead = prepared.strategies.index(leader)

    def lead_usd(x: FloatArray) -> FloatArray:
        points = np.repeat(base[None, :], x.shape[1], axis=0)
        points[:, columns] = x.T
        outcomes = batched_outcomes(
            prepared, typed_values(prepared, points), break_even=False
        )
        return lead_over_others(outcomes.npv_usd[view], lead)[None, :]

    if len(columns) == 1:
        # One input explains all the variance there is (scipy 1.17 fails on d = 1).
        return (SobolIndex(input=inputs[0], first_order=1.0, total=1.0),)
    dists = [spec.inputs[j].distribution.marginal() for j in columns]
    result = stats.sobol_indices(
        func=lead_usd,
        n=base_draws,
        dists=dists,
        rng=np.random.default_rng(seed),
    )
    first = np.asarray(result.first_order, dtype=float).reshape(-1)
    total = np.asarray(result.total_order, dtype=float).reshape(-1)
    return tuple(
        SobolIndex(input=path, first_order=float(f), total=float(t))
        for path, f, t in zip(inputs, first, total, strict=True)
    )


# --- the whole analysis ---------------------------------------------------------


def monte_carlo(
    scenario: Scenario,
    spec: UncertaintySpec | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    view: View | None = None,
    catalog: Catalog | None = None,
    method: Method = "auto",
    sensitivity: bool = True,
    sobol_inputs: int = SOBOL_INPUTS,
    sobol_base_draws: int = SOBOL_BASE_DRAWS,
    progress: Progress | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> UncertaintyResult:
    """How sure the recommendation is: Monte Carlo, tornado and Sobol' indices.

    Parameters
    ----------
    scenario : Scenario
        The scenario (its decisions are frozen first,
        :func:`planner.uncertainty.engine.frozen_plan`).
    spec : UncertaintySpec, optional
        The uncertain inputs; :func:`default_uncertainty` by default.
    draws : int, default 10000
        Monte Carlo draws.
    seed : int, optional
        Overrides the spec's seed.
    view : {"institution", "award"}, optional
        The view of the headline, tornado and Sobol' (default the scenario's);
        the statistics come in both.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    method : {"auto", "vectorised", "loop"}, default "auto"
        How draws are evaluated.
    sensitivity : bool, default True
        Compute the tornado and Sobol' indices.
    sobol_inputs : int, default 5
        How many leading inputs get Sobol' indices (0: none).
    sobol_base_draws : int, default 4096
        Base sample of the Sobol' estimators (a power of two).
    progress : callable, optional
        ``progress(fraction, stage)`` as the run goes (for a progress bar).
    scheduler : str, optional
        Dask scheduler address for draws run through the engine's loop.
    workers : int, optional
        Local processes for that loop (default: the machine's CPUs).

    Returns
    -------
    UncertaintyResult
        Summaries, tornado, indices and the raw outcomes.

    Raises
    ------
    planner.uncertainty.spec.UncertaintyError
        For a spec that does not fit the scenario (one line per problem).

    Examples
    --------
    >>> from planner.scenario import load_preset
    >>> result = monte_carlo(load_preset("grant"), draws=256, sobol_inputs=0)
    >>> result.draws, round(sum(s.p_cheapest for s in result.strategies["award"]), 6)
    (256, 1.0)
    """
    chosen_view: View = view or scenario.view
    chosen = catalog or Catalog()
    spec = spec or default_uncertainty(scenario, catalog=chosen)

    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(min(max(fraction, 0.0), 1.0), stage)

    report(0.0, "preparing")
    prepared = prepare(scenario, spec, catalog=chosen)
    values = typed_values(prepared, sampling.sample_values(spec, draws, seed=seed))
    share = 0.8 if sensitivity else 1.0
    outcomes, used, notes = evaluate_draws(
        prepared,
        values,
        method=method,
        progress=lambda done, total: report(share * done / total, "draws"),
        scheduler=scheduler,
        workers=workers,
    )
    from planner.tco import evaluate

    summary = evaluate(prepared.plan, resolved=prepared.resolved).summary.set_index(
        "strategy"
    )
    strategies = {
        v: strategy_stats(
            outcomes,
            v,
            summary.loc[list(prepared.strategies), f"{v}_npv_usd"].to_numpy(float),
        )
        for v in VIEWS
    }
    horizon = scenario.horizon_years
    break_evens = {v: break_even_stats(outcomes, v, horizon) for v in VIEWS}
    leader, runner_up, advantage = "", "", float("nan")
    bars: tuple[TornadoBar, ...] = ()
    indices: tuple[SobolIndex, ...] = ()
    notes_list = list(notes)
    if sensitivity:
        report(share, "tornado")
        leader, runner_up, advantage, bars, _ = tornado(
            prepared, chosen_view, method=method
        )
        leading = [bar.input for bar in bars if bar.swing_usd > 0][:sobol_inputs]
        if leading and used == "vectorised":
            report(0.85, "sobol")
            indices = sobol(
                prepared,
                chosen_view,
                leading,
                leader,
                base_draws=sobol_base_draws,
                seed=spec.seed if seed is None else seed,
            )
        elif leading:
            notes_list.append(
                "Sobol' indices need the vectorised path; the tornado ranks the inputs"
            )
    report(1.0, "done")
    return UncertaintyResult(
        scenario=scenario.name,
        view=chosen_view,
        draws=draws,
        seed=spec.seed if seed is None else seed,
        sampling=spec.sampling,
        method=used,
        spec=spec,
        values=values,
        outcomes=outcomes,
        strategies=strategies,
        break_even=break_evens,
        conditional=conditional_stats(spec, values, outcomes, chosen_view),
        fan={v: fan_stats(outcomes, v) for v in VIEWS},
        leader=leader,
        runner_up=runner_up,
        advantage_usd=advantage,
        tornado=bars,
        sobol=indices,
        sobol_base_draws=sobol_base_draws if indices else 0,
        notes=tuple(notes_list),
    )


# --- words and tables ----------------------------------------------------------------


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def _money(usd: float) -> str:
    if abs(usd) >= 1e6:
        return f"${usd / 1e6:,.2f}M"
    return f"${usd / 1e3:,.0f}k"


def headline(result: UncertaintyResult) -> str:
    """How sure the answer is, and which assumption decides it, in two sentences.

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`monte_carlo`.

    Returns
    -------
    str
        For a budget officer: the most often cheapest strategy and how often,
        the next, and the input with the largest effect on the lead.
    """
    rows = sorted(result.strategies[result.view], key=lambda s: -s.p_cheapest)
    first = rows[0]
    text = (
        f"{first.name} is the cheapest in {_percent(first.p_cheapest)} of "
        f"{result.draws:,} sampled futures ({result.view} view)"
    )
    if len(rows) > 1 and rows[1].p_cheapest > 0:
        text += f"; {rows[1].name} in {_percent(rows[1].p_cheapest)}"
    text += "."
    words = {bar.input: bar.words for bar in result.tornado}
    decider = None
    if result.sobol:
        decider = max(result.sobol, key=lambda index: index.total)
        text += (
            " The assumption that decides it: "
            f"{words.get(decider.input, decider.input)} (Sobol' total "
            f"{decider.total:.2f}"
        )
    elif result.tornado:
        text += f" The assumption that decides it: {result.tornado[0].words} ("
    if result.tornado:
        bar = next(
            (b for b in result.tornado if decider is None or b.input == decider.input),
            result.tornado[0],
        )
        flips = [
            (end, value, who)
            for end, value, who in (
                ("P10", bar.low, bar.low_cheapest),
                ("P90", bar.high, bar.high_cheapest),
            )
            if who != result.leader
        ]
        text += ("; " if decider is not None else "") + (
            f"P10 to P90 moves the lead of {result.leader} by {_money(bar.swing_usd)}"
        )
        if flips:
            end, value, who = flips[0]
            text += f"; at its {end} ({value:.4g}) {who} is cheapest"
        text += ")."
    return text


def strategy_table(result: UncertaintyResult, view: View | None = None) -> Any:
    """Per strategy: NPV P10/P50/P90, P(cheapest), expected regret, CO2e P10/P50/P90.

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`monte_carlo`.
    view : {"institution", "award"}, optional
        Default the result's.

    Returns
    -------
    pandas.DataFrame
        One row per strategy; money in USD, shares from 0 to 1.
    """
    import pandas as pd

    rows = result.strategies[view or result.view]
    return pd.DataFrame(
        {
            "strategy": [s.name for s in rows],
            "npv_scenario_usd": [s.npv_scenario_usd for s in rows],
            "npv_p10_usd": [s.npv_p10_usd for s in rows],
            "npv_p50_usd": [s.npv_p50_usd for s in rows],
            "npv_p90_usd": [s.npv_p90_usd for s in rows],
            "p_cheapest": [s.p_cheapest for s in rows],
            "p_cheapest_se": [s.p_cheapest_se for s in rows],
            "expected_regret_usd": [s.expected_regret_usd for s in rows],
            "co2e_p10_t": [s.co2e_p10_kg / KILOGRAMS_PER_TONNE for s in rows],
            "co2e_p50_t": [s.co2e_p50_kg / KILOGRAMS_PER_TONNE for s in rows],
            "co2e_p90_t": [s.co2e_p90_kg / KILOGRAMS_PER_TONNE for s in rows],
        }
    )


def fan_table(result: UncertaintyResult, view: View | None = None) -> Any:
    """The fan chart's data: cumulative present value quantiles by year.

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`monte_carlo`.
    view : {"institution", "award"}, optional
        Default the result's.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``year``, ``p10_usd``, ``p50_usd``, ``p90_usd``.
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "strategy": [p.name for p in result.fan[view or result.view]],
            "year": [p.year for p in result.fan[view or result.view]],
            "p10_usd": [p.p10_usd for p in result.fan[view or result.view]],
            "p50_usd": [p.p50_usd for p in result.fan[view or result.view]],
            "p90_usd": [p.p90_usd for p in result.fan[view or result.view]],
        }
    )


def tornado_table(result: UncertaintyResult) -> Any:
    """The tornado as a table, widest bar first.

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`monte_carlo`.

    Returns
    -------
    pandas.DataFrame
        ``input``, ``low``, ``high``, ``low_npv_delta_usd``,
        ``high_npv_delta_usd``, ``low_cheapest``, ``high_cheapest`` and
        ``label`` (the input in words).
    """
    from dataclasses import asdict

    import pandas as pd

    return pd.DataFrame([asdict(bar) for bar in result.tornado])
