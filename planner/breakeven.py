"""Where owning and renting break even: utilisation, year and cloud price ratio.

Three answers for each pair of an owned strategy and a cloud strategy:

* **break-even utilisation**: the busy share of the owned accelerators at which
  the present values of both tie, for a flat demand ``u x capacity``; the root
  of ``NPV_cloud(u) - NPV_onprem(u)`` found with Brent's method after a sign
  scan (methods notes 1.2 and 2.3). Before opex it is ``1 / premium``.
* **break-even year**: the first year in which the cumulative discounted cost
  of owning falls to or below renting, for the scenario's own demand.
* **cloud premium** (Strubell et al. 2019's "about twice"): the cloud's cost per
  reference accelerator-hour over the owned cluster's cost per reference hour at
  full use; and the premium at which both tie for the scenario's demand.

"Never" and "always" are answers, reported in words, not NaN or infinity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from planner.scenario import CloudStrategy, OnPremStrategy, Scenario, SharedStrategy
from planner.tco import (
    Evaluation,
    cumulative_costs,
    evaluate,
    scenario_demand,
    strategy_ledger,
)
from pricing.units import HOURS_PER_YEAR, scalar

FloatArray = npt.NDArray[np.float64]

SCAN_POINTS = 201
"""Utilisations scanned for a sign change before root finding. [-]"""

ROOT_XTOL = 1e-12
"""Absolute tolerance of Brent's method on utilisation. [-]"""


@dataclass(frozen=True)
class BreakEven:
    """Break-even points of one owned strategy against one cloud strategy."""

    onprem: str
    cloud: str
    utilisation: float | None
    """Busy share at which the NPVs tie; None when they never cross. [0-1]"""
    utilisation_status: Literal["crosses", "never", "always", "not_applicable"]
    scenario_utilisation: float
    """Busy share the scenario's demand gives the owned cluster. [0-1]"""
    year: int | None
    """First year the cumulative PV of owning is at or below renting. [years]"""
    calendar_year: int | None
    cloud_premium: float | None
    """Cloud cost per reference hour over owned cost per reference hour at full
    use. [-]"""
    break_even_cloud_premium: float | None
    """Cloud premium at which both tie for the scenario's demand. [-]"""
    price_multiplier: float | None
    """Factor on cloud prices at which both tie for the scenario's demand. [-]"""
    npv_onprem_usd: float
    npv_cloud_usd: float
    cost_ratio: float | None
    """NPV of renting over NPV of owning for the scenario's demand (the paper's
    $350k / $145k = 2.42). [-]"""
    explanation: str

    def as_dict(self) -> dict[str, object]:
        """Return the fields as a JSON-ready dictionary."""
        return asdict(self)


def _flat_levels(scenario: Scenario, level_ref: FloatArray) -> FloatArray:
    """Batch of flat demands: shape (batch, years, 1)."""
    years = scenario.horizon_years
    return np.repeat(level_ref[:, None, None], years, axis=1).astype(float)


def npv_batch_usd(
    strategy: CloudStrategy | OnPremStrategy,
    scenario: Scenario,
    levels: FloatArray,
    hours: FloatArray,
    *,
    cloud_price_multiplier: float = 1.0,
) -> FloatArray:
    """Present value of a strategy for each demand of a batch.

    Parameters
    ----------
    strategy : CloudStrategy or OnPremStrategy (or subclass)
        The strategy.
    scenario : Scenario
        Its scenario.
    levels : numpy.ndarray of shape (batch, years, blocks)
        Demands. [reference accelerators]
    hours : numpy.ndarray of shape (blocks,)
        Hours of each block. [h]
    cloud_price_multiplier : float, default 1
        Factor on cloud compute prices. [-]

    Returns
    -------
    numpy.ndarray of shape (batch,)
        NPV of all costs (every payer). [USD]
    """
    sizing = scenario_demand(scenario).levels[0]
    ledger = strategy_ledger(
        strategy,
        scenario,
        levels,
        hours,
        cloud_price_multiplier=cloud_price_multiplier,
        sizing_hourly=sizing,
    )
    discount = (1.0 + scenario.real_discount_rate) ** -np.arange(
        scenario.horizon_years + 1, dtype=float
    )
    npv: FloatArray = ledger.total_cost_usd() @ discount
    return npv


def _capacity_reference(strategy: OnPremStrategy, scenario: Scenario) -> float:
    """Return the largest usable capacity of the owned cluster (reference units)."""
    probe = np.zeros((1, scenario.horizon_years, 1))
    ledger = strategy_ledger(strategy, scenario, probe, np.array([HOURS_PER_YEAR]))
    return float(ledger.stats["capacity_reference_hours"].max() / HOURS_PER_YEAR)


def utilisation_sweep(
    scenario: Scenario,
    onprem: OnPremStrategy,
    cloud: CloudStrategy,
    *,
    points: int = SCAN_POINTS,
) -> pd.DataFrame:
    """NPV of owning and renting against the owned cluster's utilisation.

    Demand is flat at ``u`` times the owned cluster's usable capacity in every
    year; both strategies serve it. One vectorised evaluation per strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario (horizon, site, institution).
    onprem : OnPremStrategy
        Owned strategy (its overflow never happens at u <= 1).
    cloud : CloudStrategy
        Cloud strategy.
    points : int, default 201
        Utilisations from 0 to 1. [-]

    Returns
    -------
    pandas.DataFrame
        ``utilisation`` [0-1], ``npv_onprem_usd``, ``npv_cloud_usd`` and
        ``difference_usd`` (cloud minus owned; positive favours owning). [USD]
    """
    capacity = _capacity_reference(onprem, scenario)
    u = np.linspace(0.0, 1.0, points)
    levels = _flat_levels(scenario, u * capacity)
    hours = np.array([HOURS_PER_YEAR])
    owned = npv_batch_usd(onprem, scenario, levels, hours)
    rented = npv_batch_usd(cloud, scenario, levels, hours)
    return pd.DataFrame(
        {
            "utilisation": u,
            "npv_onprem_usd": owned,
            "npv_cloud_usd": rented,
            "difference_usd": rented - owned,
        }
    )


def break_even_utilisation(
    scenario: Scenario, onprem: OnPremStrategy, cloud: CloudStrategy
) -> tuple[float | None, Literal["crosses", "never", "always"]]:
    """Utilisation at which owning and renting have the same present value.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    onprem : OnPremStrategy
        Owned strategy.
    cloud : CloudStrategy
        Cloud strategy.

    Returns
    -------
    utilisation : float or None
        The root in [0, 1], or None when there is none. [0-1]
    status : {"crosses", "never", "always"}
        ``never``: renting is cheaper even at 100 % use; ``always``: owning is
        cheaper even when idle.
    """
    sweep = utilisation_sweep(scenario, onprem, cloud)
    difference = sweep["difference_usd"].to_numpy()
    if difference[-1] < 0 and difference.max() < 0:
        return None, "never"
    if difference.min() > 0:
        return None, "always"
    capacity = _capacity_reference(onprem, scenario)
    hours = np.array([HOURS_PER_YEAR])

    def gap(u: float) -> float:
        levels = _flat_levels(scenario, np.array([u * capacity]))
        rented = npv_batch_usd(cloud, scenario, levels, hours)[0]
        owned = npv_batch_usd(onprem, scenario, levels, hours)[0]
        return float(rented - owned)

    # First sign change from below (renting cheaper at low use) to above.
    signs = np.sign(difference)
    change = np.flatnonzero(signs[:-1] * signs[1:] <= 0)
    index = int(change[0])
    low, high = sweep["utilisation"].iloc[index], sweep["utilisation"].iloc[index + 1]
    if gap(low) == 0.0:
        return float(low), "crosses"
    root = optimize.brentq(gap, low, high, xtol=ROOT_XTOL)
    return float(root), "crosses"


def _levelised(npv_usd: float, delivered: FloatArray, scenario: Scenario) -> float:
    discount = (1.0 + scenario.real_discount_rate) ** -np.arange(
        1, scenario.horizon_years + 1, dtype=float
    )
    pv_hours = float(delivered @ discount)
    return npv_usd / pv_hours if pv_hours else float("nan")


def _break_even_year(cumulative: pd.DataFrame, onprem: str, cloud: str) -> int | None:
    owned = cumulative[cumulative["strategy"] == onprem].set_index("year")
    rented = cumulative[cumulative["strategy"] == cloud].set_index("year")
    cheaper = owned["cumulative_pv_usd"] <= rented["cumulative_pv_usd"] + 1e-9
    # The first year from which owning stays at or below renting.
    years = cheaper.index.to_numpy()
    flags = cheaper.to_numpy()
    for position, year in enumerate(years):
        if flags[position:].all():
            return int(year)
    return None


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def break_even(
    scenario: Scenario,
    onprem: OnPremStrategy,
    cloud: CloudStrategy,
    *,
    evaluation: Evaluation | None = None,
) -> BreakEven:
    """All break-even points of an owned strategy against a cloud strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    onprem : OnPremStrategy
        Owned (or hybrid/shared) strategy of the scenario.
    cloud : CloudStrategy
        Cloud strategy of the scenario.
    evaluation : Evaluation, optional
        A prior :func:`planner.tco.evaluate` of the scenario, to avoid recomputing.

    Returns
    -------
    BreakEven
        Utilisation, year, premium and a sentence explaining them.
    """
    result = evaluation if evaluation is not None else evaluate(scenario)
    summary = result.summary.set_index("strategy")
    npv_owned = scalar(summary.loc[onprem.name, "npv_usd"])
    npv_rented = scalar(summary.loc[cloud.name, "npv_usd"])
    used = scalar(summary.loc[onprem.name, "utilisation"])
    horizon = scenario.horizon_years
    rate = scenario.real_discount_rate

    pure_onprem = type(onprem) is OnPremStrategy
    status: Literal["crosses", "never", "always", "not_applicable"]
    if pure_onprem:
        utilisation, status = break_even_utilisation(scenario, onprem, cloud)
    else:
        utilisation, status = None, "not_applicable"

    # Premium: levelised costs at full use of the owned cluster.
    premium = None
    if pure_onprem:
        capacity = _capacity_reference(onprem, scenario)
        levels = _flat_levels(scenario, np.array([capacity]))
        hours = np.array([HOURS_PER_YEAR])
        delivered = np.full(horizon, capacity * HOURS_PER_YEAR)
        owned_full = _levelised(
            float(npv_batch_usd(onprem, scenario, levels, hours)[0]),
            delivered,
            scenario,
        )
        rented_full = _levelised(
            float(npv_batch_usd(cloud, scenario, levels, hours)[0]), delivered, scenario
        )
        premium = rented_full / owned_full if owned_full > 0 else None

    # Price multiplier at the scenario's demand: NPVs are affine in it.
    profile = scenario_demand(scenario)
    if isinstance(onprem, SharedStrategy):
        multiplier = None  # the pool serves more than this scenario's demand
    else:
        levels = profile.levels[None, :, :]
        hours = profile.hours
        rented0 = npv_batch_usd(
            cloud, scenario, levels, hours, cloud_price_multiplier=0
        )
        owned0 = npv_batch_usd(
            onprem, scenario, levels, hours, cloud_price_multiplier=0
        )
        slope = (npv_rented - float(rented0[0])) - (npv_owned - float(owned0[0]))
        multiplier = (
            (float(owned0[0]) - float(rented0[0])) / slope if slope > 0 else None
        )
    break_even_premium = (
        premium * multiplier if premium is not None and multiplier is not None else None
    )

    year = _break_even_year(cumulative_costs(result.table), onprem.name, cloud.name)
    calendar = None if year is None else scenario.start_year + year
    ratio = npv_rented / npv_owned if npv_owned > 0 else None
    text = _explain(
        onprem.name,
        cloud.name,
        ratio,
        utilisation,
        status,
        used,
        year,
        calendar,
        premium,
        multiplier,
        horizon,
        rate,
    )
    return BreakEven(
        onprem=onprem.name,
        cloud=cloud.name,
        utilisation=utilisation,
        utilisation_status=status,
        scenario_utilisation=used,
        year=year,
        calendar_year=calendar,
        cloud_premium=premium,
        break_even_cloud_premium=break_even_premium,
        price_multiplier=multiplier,
        npv_onprem_usd=npv_owned,
        npv_cloud_usd=npv_rented,
        cost_ratio=ratio,
        explanation=text,
    )


def _explain(
    onprem: str,
    cloud: str,
    ratio: float | None,
    utilisation: float | None,
    status: str,
    used: float,
    year: int | None,
    calendar: int | None,
    premium: float | None,
    multiplier: float | None,
    horizon: int,
    rate: float,
) -> str:
    basis = f"present value over {horizon} years at {_percent(rate)} real"
    parts = []
    if ratio is not None:
        parts.append(
            f"For this scenario's demand, {cloud} costs {ratio:.2f}x {onprem} "
            f"({basis})."
        )
    if status == "crosses" and utilisation is not None:
        verdict = "so owning wins" if used > utilisation else "so renting wins"
        parts.append(
            f"Owning is cheaper if the accelerators are busy more than "
            f"{_percent(utilisation)} of the time; this scenario keeps them "
            f"{_percent(used)} busy, {verdict}."
        )
    elif status == "never":
        parts.append(f"Owning never wins within {horizon} years, even fully busy.")
    elif status == "always":
        parts.append("Owning is cheaper at any utilisation.")
    if year is None:
        parts.append(
            "The cumulative cost of owning never falls below renting within the "
            "horizon."
        )
    elif year == 0:
        parts.append("Owning costs less from the start.")
    else:
        parts.append(
            f"The cumulative cost of owning falls below renting in year {year} "
            f"({calendar})."
        )
    if premium is not None:
        parts.append(
            f"Per reference hour at full use, renting costs {premium:.2f}x owning "
            "(the cloud premium; Strubell et al. 2019 found about 2x)."
        )
    if multiplier is not None:
        direction = "fall" if multiplier < 1 else "rise"
        parts.append(
            f"The two tie for this demand if cloud prices {direction} to "
            f"{multiplier:.2f}x today's."
        )
    return " ".join(parts)


def break_even_table(
    scenario: Scenario, *, evaluation: Evaluation | None = None
) -> list[BreakEven]:
    """Break-even points of every owned strategy against every cloud strategy.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    evaluation : Evaluation, optional
        A prior evaluation of the scenario.

    Returns
    -------
    list of BreakEven
        One per (owned, cloud) pair, in scenario order.
    """
    result = evaluation if evaluation is not None else evaluate(scenario)
    owned = [s for s in scenario.strategies if isinstance(s, OnPremStrategy)]
    rented = [s for s in scenario.strategies if isinstance(s, CloudStrategy)]
    return [
        break_even(scenario, o, c, evaluation=result) for o in owned for c in rented
    ]


SCREENING_OPTIONS = ("on_demand", "spot", "committed_1y", "committed_3y")
"""Cloud purchase models drawn on the screening curve."""

SCREENING_LABELS = {
    "on_demand": "cloud on-demand",
    "spot": "cloud spot",
    "committed_1y": "cloud 1-year commitment",
    "committed_3y": "cloud 3-year commitment (then on-demand)",
}
"""Legend labels of the cloud curves."""


def screening_curves(
    scenario: Scenario,
    onprem: OnPremStrategy,
    cloud: CloudStrategy,
    *,
    points: int = 101,
) -> pd.DataFrame:
    """Screening curves: cost of one reference accelerator-year against its use.

    The power-system screening-curve method (methods notes 1.1): each option's
    equivalent annual cost per unit of capacity as a function of the share of
    hours it is busy. Owned servers have a high fixed and a low variable cost;
    on-demand and spot are purely variable; a commitment is flat (paid whether
    used or not). The lower envelope is the cheapest option at each use; its
    crossings are the break-even utilisations.

    Parameters
    ----------
    scenario : Scenario
        Horizon, rates, site and institution rules.
    onprem : OnPremStrategy
        Owned option (its servers, prices and opex).
    cloud : CloudStrategy
        Cloud offer; every purchase model of it is drawn (spot only with a price).
    points : int, default 101
        Utilisations from 0 to 1.

    Returns
    -------
    pandas.DataFrame
        Long table: ``utilisation`` [0-1], ``option`` and
        ``cost_usd_per_reference_accelerator_year`` [USD/year], equivalent
        annual cost over the horizon at the scenario's real discount rate.
    """
    from planner.scenario import replace
    from planner.tco import ResolutionError, resolve_cloud
    from pricing.finance import capital_recovery_factor

    crf = scalar(
        capital_recovery_factor(scenario.real_discount_rate, scenario.horizon_years)
    )
    u = np.linspace(0.0, 1.0, points)
    hours = np.array([HOURS_PER_YEAR])
    capacity = _capacity_reference(onprem, scenario)
    frames = []
    owned = npv_batch_usd(onprem, scenario, _flat_levels(scenario, u * capacity), hours)
    frames.append(
        pd.DataFrame(
            {
                "utilisation": u,
                "option": onprem.name,
                "cost_usd_per_reference_accelerator_year": owned * crf / capacity,
            }
        )
    )
    sizing = scenario_demand(scenario).levels[0]
    for purchase in SCREENING_OPTIONS:
        term = {"committed_1y": 1, "committed_3y": 3}.get(purchase, 0)
        if term > scenario.horizon_years:
            continue
        # One committed accelerator, used u of the time: per-unit cost is exact
        # because every cloud cost is linear in the number of accelerators.
        variant = replace(
            cloud,
            name=SCREENING_LABELS[purchase],
            purchase=purchase,
            committed_accelerators=1 if term else None,
        )
        try:
            resolved = resolve_cloud(variant, scenario, sizing_hourly=sizing)
        except ResolutionError:
            continue  # e.g. no spot price for this offer
        unit = resolved.relative_throughput  # reference accelerators per accelerator
        rented = npv_batch_usd(
            variant, scenario, _flat_levels(scenario, u * unit), hours
        )
        frames.append(
            pd.DataFrame(
                {
                    "utilisation": u,
                    "option": variant.name,
                    "cost_usd_per_reference_accelerator_year": rented * crf / unit,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
