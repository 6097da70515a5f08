"""Evaluate every strategy of a scenario: tidy flows, summaries in both views.

Timing convention (as ``numpy_financial.npv``): year 0 is the start of the
horizon, when the first purchases are paid (t = 0, discount factor 1). Running
costs of year k (k = 1..N) are paid at the end of year k and discounted by
:math:`(1 + r)^{-k}`. Refresh purchases happen at the end of a vintage's life
(t = purchase + lifetime); resale value is received when a vintage retires or at
the end of the horizon, valued at its age then. No annuity runs past the horizon
and nothing is discounted twice (the pitfalls recorded for oemof-solph 0.5.2).
Money is real (inflation-free) USD of the scenario's ``currency_year``; the
discount rate is real.

Every strategy is compared at **equal service**: the comparable cost of a
strategy (``npv_usd``) includes the delay and unserved cost of the work it does
not do on time (:class:`planner.scenario.Service`), and is given in both
**views** (:func:`planner.costing.counts_in_view`): ``institution`` (economic
cost, every payer, resale credited, F&A excluded) and ``award`` (the project
budget with F&A on MTDC, no resale credit). ``npv_usd`` is the scenario's view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import costing
from planner.costing import VIEWS, View
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.scenario import Scenario
from planner.tco.ledger import Dispatch, Ledger
from planner.tco.strategies import (
    recharged,
    served_reference_hours,
    strategy_ledger,
    strategy_levels,
)
from pricing.catalog import Catalog
from pricing.finance import capital_recovery_factor
from pricing.units import KILOGRAMS_PER_TONNE, scalar

FloatArray = npt.NDArray[np.float64]

COST_COLUMNS = (
    "strategy",
    "kind",
    "year",
    "calendar_year",
    "category",
    "payer",
    "cost_usd",
    "discounted_cost_usd",
    "energy_kwh",
    "co2e_kg",
    "co2e_scope",
    "fa_base",
    "fa_rate",
)
"""Columns of :func:`tco_table`, one row per strategy x year x category x payer
(F&A rows name the category they are charged on and the rate)."""


@dataclass(frozen=True)
class StrategyResult:
    """One strategy's ledger and dispatch (batch of one)."""

    name: str
    kind: str
    ledger: Ledger
    dispatch: Dispatch


@dataclass(frozen=True)
class Evaluation:
    """Everything :func:`evaluate` computes for a scenario."""

    scenario: Scenario
    resolved: ResolvedScenario
    table: pd.DataFrame
    """Tidy flows: one row per strategy x year x category x payer
    (:data:`COST_COLUMNS`); pick a view with :func:`view_table`."""
    summary: pd.DataFrame
    """One row per strategy: comparable and cash NPV in both views, EAC, cost per
    reference hour, delay and unserved work and cost, CO2e, use, waits."""
    results: dict[str, StrategyResult]
    """Per-strategy ledgers and dispatch, for break-even and reports."""

    @property
    def view(self) -> View:
        """Return the scenario's view (the one ``npv_usd`` is in)."""
        return self.scenario.view

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything to check before relying on this answer.

        The resolution's warnings (stale catalogs, old data years, places
        looked up at a wider level) and :func:`whole_instance_warnings`.
        """
        return (*self.resolved.warnings, *whole_instance_warnings(self))


def evaluate(
    scenario: Scenario,
    *,
    catalog: Catalog | None = None,
    resolved: ResolvedScenario | None = None,
) -> Evaluation:
    """Project every strategy of a scenario year by year, in money and CO2e.

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays (default: the shipped one).
    resolved : ResolvedScenario, optional
        A prior :func:`planner.resolve.resolve` of the same scenario.

    Returns
    -------
    Evaluation
        The tidy flow table, the per-strategy summary and the raw results.

    Raises
    ------
    planner.resolve.ResolutionError
        If a strategy names unknown catalog entries (one line per problem).
    """
    resolved = resolved if resolved is not None else resolve(scenario, catalog)
    results = strategy_results(resolved)
    frames = []
    summaries = []
    for strategy in resolved.strategies:
        result = results[strategy.name]
        ledger, dispatch = result.ledger, result.dispatch
        frames.append(_ledger_frame(strategy.name, strategy.kind, ledger))
        row = summary_row(strategy.name, strategy.kind, resolved, ledger, dispatch)
        if isinstance(strategy, ResolvedOwnedStrategy):
            row["servers"], row["servers_sized"] = strategy.servers, strategy.sized
        else:
            row["servers"], row["servers_sized"] = float("nan"), False
        row |= _queue_waits(strategy, resolved, dispatch)
        summaries.append(row)
    table = pd.concat(frames, ignore_index=True)
    table["calendar_year"] = scenario.start_year + table["year"]
    table["discounted_cost_usd"] = table["cost_usd"] * resolved.discount[table["year"]]
    table = table[list(COST_COLUMNS)]
    return Evaluation(
        scenario=scenario,
        resolved=resolved,
        table=table,
        summary=pd.DataFrame(summaries),
        results=results,
    )


def strategy_results(resolved: ResolvedScenario) -> dict[str, StrategyResult]:
    """Ledger and dispatch of every strategy of a resolved scenario.

    A shared strategy's ledger is the project's recharge (its usage share of
    the pooled cost) and its dispatch the project's part of the pooled one.

    Parameters
    ----------
    resolved : ResolvedScenario
        Output of :func:`planner.resolve.resolve`.

    Returns
    -------
    dict
        Strategy name to :class:`StrategyResult`, in scenario order.
    """
    results: dict[str, StrategyResult] = {}
    for strategy in resolved.strategies:
        levels, hours = strategy_levels(strategy, resolved)
        ledger, dispatch = strategy_ledger(strategy, resolved, levels, hours)
        if isinstance(strategy, ResolvedOwnedStrategy) and strategy.members:
            own = served_reference_hours(resolved.demand.levels[None], hours)
            pooled = dispatch.demand
            ledger = recharged(ledger, resolved, own, pooled)
            dispatch = _shared_dispatch(dispatch, own, pooled)
        results[strategy.name] = StrategyResult(
            strategy.name, strategy.kind, ledger, dispatch
        )
    return results


def present_values(
    scenario: Scenario,
    *,
    catalog: Catalog | None = None,
    resolved: ResolvedScenario | None = None,
) -> pd.DataFrame:
    """Comparable present value of every strategy in both views, and nothing else.

    The same numbers as :func:`evaluate`'s ``institution_npv_usd`` and
    ``award_npv_usd`` (one formula, :func:`view_npv_usd`), without the flow
    table, the summary's other columns or the queue replay: for analyses that
    price many variants of a scenario (the tornado beside a verdict).

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    catalog : pricing.catalog.Catalog, optional
        The catalog with the user's overlays.
    resolved : ResolvedScenario, optional
        A prior :func:`planner.resolve.resolve` of the same scenario.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``institution_npv_usd`` and ``award_npv_usd`` [USD], in
        scenario order.
    """
    resolved = resolved if resolved is not None else resolve(scenario, catalog)
    rows = [
        {"strategy": name}
        | {
            f"{view}_npv_usd": view_npv_usd(result.ledger, resolved, view)
            for view in VIEWS
        }
        for name, result in strategy_results(resolved).items()
    ]
    return pd.DataFrame(rows, columns=["strategy", *(f"{v}_npv_usd" for v in VIEWS)])


def view_npv_usd(ledger: Ledger, resolved: ResolvedScenario, view: View) -> float:
    """Comparable present value of a view for batch item 0, in USD.

    Cash plus delay and unserved cost, discounted (methods §5.1); the one
    formula behind the summary's ``{view}_npv_usd`` and :func:`present_values`.
    """
    return float((ledger.cost_usd(view)[0] * resolved.discount).sum())


def _shared_dispatch(
    dispatch: Dispatch, own: FloatArray, pooled: FloatArray
) -> Dispatch:
    """The project's part of a pooled dispatch (by each year's usage share)."""
    share = np.divide(own, pooled, out=np.zeros_like(own), where=pooled > 0)
    return Dispatch(
        demand=dispatch.demand * share,
        owned=dispatch.owned * share,
        cloud=dispatch.cloud * share,
        committed=dispatch.committed * share,
        delayed=dispatch.delayed * share,
        unserved=dispatch.unserved * share,
        capacity=dispatch.capacity,
        cloud_whole_instance=None
        if dispatch.cloud_whole_instance is None
        else dispatch.cloud_whole_instance * share,
        installed_accelerators=dispatch.installed_accelerators,
        committed_accelerators=dispatch.committed_accelerators,
    )


def npv_usd(ledger: Ledger, resolved: ResolvedScenario, view: View) -> FloatArray:
    """Comparable present value (cash plus delay and unserved cost) of a view.

    Parameters
    ----------
    ledger : Ledger
        A strategy's ledger.
    resolved : ResolvedScenario
        For the discount factors.
    view : {"institution", "award"}
        Whose cost.

    Returns
    -------
    numpy.ndarray of shape (batch,)
        NPV. [USD]
    """
    return np.asarray(ledger.cost_usd(view) @ resolved.discount, dtype=float)


def summary_row(
    name: str,
    kind: str,
    resolved: ResolvedScenario,
    ledger: Ledger,
    dispatch: Dispatch,
) -> dict[str, object]:
    """One strategy's summary (batch item 0): NPVs by view, work, CO2e, use.

    Parameters
    ----------
    name : str
        Strategy name.
    kind : str
        Strategy kind.
    resolved : ResolvedScenario
        Discount factors, the scenario's view and horizon.
    ledger : Ledger
        Its ledger.
    dispatch : Dispatch
        Its dispatch.

    Returns
    -------
    dict
        The summary columns of :attr:`Evaluation.summary`.
    """
    discount = resolved.discount
    scenario = resolved.scenario
    n = scenario.horizon_years
    views = {}
    for view in VIEWS:
        views[f"{view}_npv_usd"] = view_npv_usd(ledger, resolved, view)
        views[f"{view}_cash_npv_usd"] = float(
            (ledger.cash_cost_usd(view)[0] * discount).sum()
        )
        views[f"{view}_undiscounted_usd"] = float(ledger.cash_cost_usd(view)[0].sum())
    npv = views[f"{scenario.view}_npv_usd"]
    view = scenario.view
    delay = ledger.category_cost_usd("delay", view=view)[0]
    unserved = ledger.category_cost_usd("unserved", view=view)[0]
    demand = dispatch.demand[0]
    discounted_demand = float((demand * discount[1:]).sum())
    capacity = dispatch.capacity[0]
    utilisation = (
        float(dispatch.owned[0].sum() / capacity.sum()) if capacity.sum() > 0 else 1.0
    )
    co2e = float(ledger.co2e_kg()[0].sum())
    return {
        "strategy": name,
        "kind": kind,
        "view": scenario.view,
        "npv_usd": npv,
        "cash_npv_usd": views[f"{scenario.view}_cash_npv_usd"],
        **views,
        "undiscounted_real_usd": views[f"{scenario.view}_undiscounted_usd"],
        "equivalent_annual_cost_usd": npv
        * scalar(capital_recovery_factor(scenario.real_discount_rate, n)),
        "cost_per_reference_hour_usd": npv / discounted_demand
        if discounted_demand
        else float("nan"),
        "demand_reference_hours": float(demand.sum()),
        "delivered_reference_hours": float((demand - dispatch.unserved[0]).sum()),
        "delayed_reference_hours": float(dispatch.delayed[0].sum()),
        "cloud_reference_hours": float(dispatch.cloud[0].sum()),
        "cloud_whole_instance_reference_hours": float(
            dispatch.cloud[0].sum()
            if dispatch.cloud_whole_instance is None
            else dispatch.cloud_whole_instance[0].sum()
        ),
        "unserved_reference_hours": float(dispatch.unserved[0].sum()),
        "delay_cost_usd": float((delay * discount).sum()),
        "unserved_cost_usd": float((unserved * discount).sum()),
        "utilisation": utilisation,
        "energy_kwh": float(ledger.energy_kwh()[0].sum()),
        "co2e_kg": co2e,
        "co2e_embodied_kg": float(ledger.co2e_kg("embodied")[0].sum()),
        "co2e_t": co2e / KILOGRAMS_PER_TONNE,
    }


WHOLE_INSTANCE_WARNING_FACTOR = 1.05
"""Warn when renting whole instances hour by hour would pay for more than this
multiple of the pay-per-use work the ledger prices. A reporting threshold, not
a measured value: 5 % is a third of the +-15 % the default uncertainty preset
gives server prices (:data:`planner.uncertainty.spec.SERVER_PRICE_RANGE`), so a
smaller rounding sits well inside what the answer is already unsure of. [-]"""


def whole_instance_warnings(evaluation: Evaluation) -> list[str]:
    """Strategies whose on-demand work would cost notably more in whole instances.

    The engine (and the optimiser and pooling, which must agree with it) prices
    on-demand and spot work per accelerator-hour used, which keeps cost linear
    in the work. A cloud rents whole instances: an hour that needs 3 of an
    8-GPU instance's accelerators pays for 8 (methods §6.2). This names each
    strategy for which that rounding, hour by hour, exceeds
    :data:`WHOLE_INSTANCE_WARNING_FACTOR`, with the hours either way.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`evaluate`.

    Returns
    -------
    list of str
        One sentence per such strategy.
    """
    out = []
    years = evaluation.scenario.horizon_years
    for row in evaluation.summary.to_dict("records"):
        used = float(row["cloud_reference_hours"])
        whole = float(row["cloud_whole_instance_reference_hours"])
        if used <= 0 or whole <= used * WHOLE_INSTANCE_WARNING_FACTOR:
            continue
        strategy = evaluation.resolved.strategy(str(row["strategy"]))
        cloud = strategy if isinstance(strategy, ResolvedCloudStrategy) else None
        if isinstance(strategy, ResolvedOwnedStrategy):
            cloud = strategy.burst
        if cloud is None:
            continue
        offer = cloud.offer
        out.append(
            f"{row['strategy']}: its pay-per-use cloud work is priced per "
            f"accelerator-hour used; rented in whole {offer.instance_type} instances "
            f"({offer.accelerators_per_instance:g} accelerators) hour by hour it "
            f"would pay for {whole / used:.2f}x those hours ({whole:,.0f} instead of "
            f"{used:,.0f} reference accelerator-hours over {years} years), and its "
            "pay-per-use cost would rise about as much"
        )
    return out


def _queue_waits(
    strategy: ResolvedCloudStrategy | ResolvedOwnedStrategy,
    resolved: ResolvedScenario,
    dispatch: Dispatch,
) -> dict[str, float]:
    """Mean and 95th-percentile job waits on an owned cluster whose overflow waits.

    Only when the demand comes from jobs (a log or a generated workload): the
    first year's jobs are replayed on the installed accelerators (FIFO, with
    availability), run times scaled by the logged-to-installed throughput ratio.
    Cloud and bursting strategies do not queue (0 h); NaN when unknown.
    """
    nan = {"mean_wait_hours": float("nan"), "p95_wait_hours": float("nan")}
    if isinstance(strategy, ResolvedCloudStrategy) or strategy.burst is not None:
        return {"mean_wait_hours": 0.0, "p95_wait_hours": 0.0}
    profile = resolved.demand
    if profile.jobs is None or strategy.members:
        return nan
    from planner import queueing

    gpus = int(dispatch.installed_accelerators * strategy.ops.availability)
    jobs = profile.jobs
    if gpus < 1 or jobs.empty:
        return nan
    submit = jobs["submit"] if "submit" in jobs else jobs["start"]
    origin = submit.min()
    speed = profile.logged_throughput / strategy.server.relative_throughput
    table = pd.DataFrame(
        {
            "submit_hours": (submit - origin).dt.total_seconds() / 3600.0,
            "run_hours": (jobs["end"] - jobs["start"]).dt.total_seconds()
            / 3600.0
            * speed,
            "gpus": jobs["gpus"],
        }
    )
    table = table[table["gpus"] > 0]
    try:
        result = queueing.simulate_queue(table, gpus)
    except ValueError:
        return nan
    return {
        "mean_wait_hours": result.mean_wait_hours,
        "p95_wait_hours": result.p95_wait_hours,
    }


def _ledger_frame(name: str, kind: str, ledger: Ledger) -> pd.DataFrame:
    """Long table of one ledger (batch item 0), lines merged by category."""
    lines = ledger.merged()
    width = ledger.horizon + 1
    return pd.DataFrame(
        {
            "strategy": name,
            "kind": kind,
            "year": np.tile(np.arange(width), len(lines)),
            "category": np.repeat([line.category for line in lines], width),
            "payer": np.repeat([line.payer for line in lines], width),
            "cost_usd": np.concatenate([line.cost_usd[0] for line in lines]),
            "energy_kwh": np.concatenate([line.energy_kwh[0] for line in lines]),
            "co2e_kg": np.concatenate([line.co2e_kg[0] for line in lines]),
            "co2e_scope": np.repeat([line.scope for line in lines], width),
            "fa_base": np.repeat([line.base for line in lines], width),
            "fa_rate": np.repeat([line.rate for line in lines], width),
        }
    )


def view_table(table: pd.DataFrame, view: View | None) -> pd.DataFrame:
    """Rows of a tidy table whose cost counts in a view (CO2e kept on every row).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`tco_table`.
    view : {"institution", "award"} or None
        The view (:func:`planner.costing.counts_in_view`).

    Returns
    -------
    pandas.DataFrame
        The same columns; rows outside the view have zero cost.
    """
    mask = np.array(
        [
            costing.counts_in_view(category, payer, view)
            for category, payer in zip(table["category"], table["payer"], strict=True)
        ],
        dtype=bool,
    )
    out = table.copy()
    out.loc[~mask, ["cost_usd", "discounted_cost_usd"]] = 0.0
    return out


def tco_table(scenario: Scenario, *, catalog: Catalog | None = None) -> pd.DataFrame:
    """Tidy year-by-year flows of every strategy (see :func:`evaluate`).

    Parameters
    ----------
    scenario : Scenario
        The planning question.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COST_COLUMNS`; ``cost_usd`` is real USD of the scenario's
        currency year; ``discounted_cost_usd`` is its present value at year 0.
    """
    return evaluate(scenario, catalog=catalog).table


def cumulative_costs(table: pd.DataFrame, view: View | None = None) -> pd.DataFrame:
    """Cumulative real and discounted cost of each strategy by year, in a view.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`tco_table`.
    view : {"institution", "award"} or None, default None
        Whose cost (None: cash as charged, every payer).

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``year``, ``calendar_year``, ``cost_usd``,
        ``discounted_cost_usd``, ``energy_kwh``, ``co2e_kg``, ``cumulative_usd``,
        ``cumulative_pv_usd`` and ``cumulative_co2e_kg``.
    """
    yearly = (
        view_table(table, view)
        .groupby(["strategy", "year", "calendar_year"], sort=False)[
            ["cost_usd", "discounted_cost_usd", "energy_kwh", "co2e_kg"]
        ]
        .sum()
        .reset_index()
    )
    grouped = yearly.groupby("strategy", sort=False)
    yearly["cumulative_usd"] = grouped["cost_usd"].cumsum()
    yearly["cumulative_pv_usd"] = grouped["discounted_cost_usd"].cumsum()
    yearly["cumulative_co2e_kg"] = grouped["co2e_kg"].cumsum()
    return yearly


def _by_year(values: FloatArray) -> FloatArray:
    """A (batch, N) quantity of running years as t = 0..N (zero at t = 0)."""
    out = np.zeros(values.shape[-1] + 1)
    out[1:] = values[0]
    return out


def yearly_table(evaluation: Evaluation) -> pd.DataFrame:
    """One row per strategy and year: cost in both views, work, late work, CO2e.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`evaluate`.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``year`` (0 = purchases, k = running year k),
        ``calendar_year``; ``cost_usd`` and ``discounted_cost_usd`` in the
        scenario's view; ``institution_cost_usd`` and ``award_cost_usd``; the
        work of the year in reference accelerator-hours (``demand``, ``owned``,
        ``cloud``, ``committed``, ``delayed`` and ``unserved``
        ``_reference_hours``; zero in year 0); ``delay_cost_usd`` and
        ``unserved_cost_usd`` (real, the scenario's view); ``energy_kwh`` and
        ``co2e_kg``.
    """
    discount = evaluation.resolved.discount
    view = evaluation.view
    start = evaluation.scenario.start_year
    frames = []
    for name, result in evaluation.results.items():
        ledger, dispatch = result.ledger, result.dispatch
        width = ledger.horizon + 1

        cost = ledger.cost_usd(view)[0]
        late = {
            kind: sum(
                (
                    line.cost_usd[0]
                    for line in ledger.lines
                    if line.category == kind
                    and costing.counts_in_view(line.category, line.payer, view)
                ),
                np.zeros(width),
            )
            for kind in costing.SERVICE_CATEGORIES
        }
        frames.append(
            pd.DataFrame(
                {
                    "strategy": name,
                    "year": np.arange(width),
                    "calendar_year": start + np.arange(width),
                    "cost_usd": cost,
                    "discounted_cost_usd": cost * discount,
                    "institution_cost_usd": ledger.cost_usd("institution")[0],
                    "award_cost_usd": ledger.cost_usd("award")[0],
                    "demand_reference_hours": _by_year(dispatch.demand),
                    "owned_reference_hours": _by_year(dispatch.owned),
                    "cloud_reference_hours": _by_year(dispatch.cloud),
                    "committed_reference_hours": _by_year(dispatch.committed),
                    "delayed_reference_hours": _by_year(dispatch.delayed),
                    "unserved_reference_hours": _by_year(dispatch.unserved),
                    "delay_cost_usd": late["delay"],
                    "unserved_cost_usd": late["unserved"],
                    "energy_kwh": ledger.energy_kwh()[0],
                    "co2e_kg": ledger.co2e_kg()[0],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def depreciation_table(
    scenario: Scenario, *, catalog: Catalog | None = None
) -> pd.DataFrame:
    """Accounting view: depreciation of every owned vintage; never a cash flow.

    The purchase is cash once, in the year paid (:func:`tco_table`); this table
    spreads the same basis over the years for a budget office or a taxable
    member: straight line over the economic life, double declining balance
    switching to straight line, or MACRS 5-year (IRS Publication 946, Table A-1,
    half-year convention: six tax years). Tax-exempt owners should not let a tax
    shield favour owning (docs/methods.md, "Depreciation").

    Parameters
    ----------
    scenario : Scenario
        The scenario; only owned (on-premises, hybrid, shared) strategies appear.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``method``, ``vintage_year``, ``year`` (year after
        purchase whose depreciation it is), ``calendar_year``,
        ``depreciation_usd`` and ``book_value_usd`` (end of that year). [USD]
    """
    from pricing.finance import (
        declining_balance_schedule,
        macrs_half_year_schedule,
        straight_line_schedule,
    )

    resolved = resolve(scenario, catalog)
    n = scenario.horizon_years
    rows = []
    for strategy in resolved.strategies:
        if not isinstance(strategy, ResolvedOwnedStrategy):
            continue
        ops = strategy.ops
        if ops.depreciation == "straight_line":
            schedule = straight_line_schedule(ops.lifetime_years)
        elif ops.depreciation == "declining_balance":
            schedule = declining_balance_schedule(ops.lifetime_years)
        else:
            schedule = macrs_half_year_schedule(5)
        for bought in strategy.vintages(n):
            flows = costing.server_vintage_flows(
                strategy.server,
                ops,
                resolved.site,
                resolved.institution,
                bought=bought,
                horizon=n,
            )
            capex = next(line for line in flows.lines if line.category == "capex")
            basis = float(capex.cost_usd[bought]) * strategy.servers
            amounts = basis * schedule
            book = basis - np.cumsum(amounts)
            for offset, (amount, value) in enumerate(
                zip(amounts, book, strict=True), start=1
            ):
                rows.append(
                    {
                        "strategy": strategy.name,
                        "method": ops.depreciation,
                        "vintage_year": bought,
                        "year": bought + offset,
                        "calendar_year": scenario.start_year + bought + offset,
                        "depreciation_usd": float(amount),
                        "book_value_usd": float(max(value, 0.0)),
                    }
                )
    columns = [
        "strategy",
        "method",
        "vintage_year",
        "year",
        "calendar_year",
        "depreciation_usd",
        "book_value_usd",
    ]
    return pd.DataFrame(rows, columns=columns)
