"""One recommendation per view, in words that follow from the numbers beside them.

For each view (docs/methods.md §10) the recommendation is the strategy with the
lowest comparable present value at equal service (late and unserved work priced,
§11), the runner-up and the margin, and what would change the order: the factor
on cloud prices at which the two tie, the year from which the winner's
cumulative cost stays below the runner-up's, and whether the answer flips
without the assumed real decline of cloud prices. A strategy that delays or
drops work says so in the same sentence that gives its cost; spot is labelled
as interruptible capacity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from planner.costing import VIEWS, View
from planner.resolve import ResolvedCloudStrategy, ResolvedOwnedStrategy
from planner.scenario import Scenario
from planner.tco import Evaluation, cumulative_costs, evaluate, strategy_ledger
from planner.tco.strategies import strategy_levels


@dataclass(frozen=True)
class Recommendation:
    """The cheapest strategy of one view at equal service, and its margin."""

    view: str
    strategy: str
    runner_up: str | None
    npv_usd: float
    """Comparable present value of the recommended strategy. [USD]"""
    runner_up_npv_usd: float | None
    margin_usd: float | None
    """How much more the runner-up costs. [USD]"""
    sentence: str
    flips_if: list[str] = field(default_factory=list)
    """What would change the order, in words."""
    price_multiplier: float | None = None
    """Factor on every cloud price at which the two tie (None: never). [-]"""
    break_even_year: int | None = None
    """First year from which the recommended strategy's cumulative present value
    stays at or below the runner-up's. [years]"""
    flat_cloud_price_strategy: str | None = None
    """The cheapest strategy if cloud prices held flat in real terms."""

    def as_dict(self) -> dict[str, object]:
        """Return the fields as JSON-ready data."""
        return asdict(self)


def _money(value: float) -> str:
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f}M"
    return f"${value:,.0f}"


def _affine_in_cloud_prices(
    evaluation: Evaluation, name: str, view: View
) -> tuple[float, float] | None:
    """NPV of a strategy at cloud prices x0 and x1 (it is affine in the factor)."""
    resolved = evaluation.resolved
    strategy = resolved.strategy(name)
    if isinstance(strategy, ResolvedOwnedStrategy) and strategy.members:
        return None  # a recharge of pooled demand: not this scenario's alone
    levels, hours = strategy_levels(strategy, resolved)
    values = []
    for multiplier in (0.0, 1.0):
        ledger, _ = strategy_ledger(
            strategy, resolved, levels, hours, price_multiplier=multiplier
        )
        values.append(float(ledger.cost_usd(view)[0] @ resolved.discount))
    return values[0], values[1]


def _tie_multiplier(
    evaluation: Evaluation, first: str, second: str, view: View
) -> float | None:
    a = _affine_in_cloud_prices(evaluation, first, view)
    b = _affine_in_cloud_prices(evaluation, second, view)
    if a is None or b is None:
        return None
    slope = (a[1] - a[0]) - (b[1] - b[0])
    if abs(slope) < 1e-9 * max(1.0, abs(a[1]), abs(b[1])):
        return None
    multiplier = (b[0] - a[0]) / slope
    return float(multiplier) if multiplier > 0 else None


def _break_even_year(
    evaluation: Evaluation, first: str, second: str, view: View
) -> int | None:
    cumulative = cumulative_costs(evaluation.table, view)
    a = cumulative[cumulative["strategy"] == first].set_index("year")
    b = cumulative[cumulative["strategy"] == second].set_index("year")
    below = (a["cumulative_pv_usd"] <= b["cumulative_pv_usd"] + 1e-9).to_numpy()
    for position, year in enumerate(a.index.to_numpy()):
        if below[position:].all():
            return int(year)
    return None


def flat_cloud_prices(scenario: Scenario) -> Scenario:
    """The scenario with every cloud price held flat in real terms."""
    data = scenario.model_dump(mode="json")
    for strategy in data["strategies"]:
        if strategy["kind"] == "cloud":
            strategy["price_change_per_year"] = 0.0
        if strategy.get("burst"):
            strategy["burst"]["price_change_per_year"] = 0.0
    return type(scenario).model_validate(data)


def _cloud_trends(evaluation: Evaluation) -> list[float]:
    """The real price change per year of every cloud offer, as resolved."""
    return [offer.offer.price_change_per_year for offer in evaluation.resolved.offers()]


def _late_words(evaluation: Evaluation, name: str, view: View) -> str:
    """What the strategy leaves late or undone, its cost in the view, and why."""
    row = evaluation.summary.set_index("strategy").loc[name]
    assert isinstance(row, pd.Series)
    delayed = float(row["delayed_reference_hours"])
    unserved = float(row["unserved_reference_hours"])
    if delayed <= 0.5 and unserved <= 0.5:
        return ""
    parts = []
    if delayed > 0.5:
        parts.append(f"delays {delayed:,.0f}")
    if unserved > 0.5:
        parts.append(f"leaves {unserved:,.0f} unserved")
    ledger = evaluation.results[name].ledger
    discount = evaluation.resolved.discount
    cost = sum(
        float(ledger.category_cost_usd(kind, view=view)[0] @ discount)
        for kind in ("delay", "unserved")
    )
    service = evaluation.scenario.service
    priced = (
        "at the scenario's cost of late and unserved work"
        if service.delay_usd_per_reference_hour is not None
        and service.unserved_usd_per_reference_hour is not None
        else "priced as renting the work instead"
    )
    emitted = ""
    if unserved > 0.5:
        emitted = (
            "; the unserved work's CO2e is the scenario's figure"
            if service.unserved_co2e_kg_per_reference_hour is not None
            else "; so is the CO2e of renting the unserved work"
        )
    return (
        f" It {' and '.join(parts)} reference hours; that cost ({_money(cost)}, "
        f"{priced}) is included{emitted}."
    )


def _is_spot(evaluation: Evaluation, name: str) -> bool:
    strategy = evaluation.resolved.strategy(name)
    if isinstance(strategy, ResolvedCloudStrategy):
        return strategy.purchase == "spot"
    return strategy.burst is not None and strategy.burst.purchase == "spot"


def recommend(
    evaluation: Evaluation, view: View, *, flat: Evaluation | None = None
) -> Recommendation:
    """The recommendation of one view.

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.
    view : {"institution", "award"}
        Whose cost.
    flat : Evaluation, optional
        The same scenario with cloud prices flat in real terms
        (:func:`flat_cloud_prices`), to say whether the answer rests on the
        assumed price decline; computed when omitted and a trend is assumed,
        with the evaluation's catalog (its overlays included).

    Returns
    -------
    Recommendation
        The cheapest strategy, the runner-up, the margin and what would flip it.
    """
    scenario = evaluation.scenario
    summary = evaluation.summary.set_index("strategy")
    column = f"{view}_npv_usd"
    ordered = summary[column].sort_values(kind="stable")
    best = str(ordered.index[0])
    npv = float(ordered.iloc[0])
    basis = (
        f"{view} view, present value over {scenario.horizon_years} year"
        f"{'s' if scenario.horizon_years != 1 else ''} at "
        f"{scenario.real_discount_rate:.1%} real, equal service"
    )
    sentence = f"{best} is cheapest ({basis}) at {_money(npv)}."
    sentence += _late_words(evaluation, best, view)
    runner = None
    runner_npv = margin = multiplier = None
    year = None
    flips: list[str] = []
    if len(ordered) > 1:
        runner = str(ordered.index[1])
        runner_npv = float(ordered.iloc[1])
        margin = runner_npv - npv
        share = margin / npv if npv else float("nan")
        sentence += (
            f" The runner-up, {runner}, costs {_money(margin)} more ({share:.0%})."
        )
        multiplier = _tie_multiplier(evaluation, best, runner, view)
        if multiplier is not None:
            flips.append(
                f"{best} and {runner} tie if cloud prices are {multiplier:.2f}x the "
                "assumed path"
            )
        year = _break_even_year(evaluation, best, runner, view)
        if year is not None and year > 0:
            flips.append(
                f"{best} costs more than {runner} until year {year} "
                f"({scenario.start_year + year}) and less from then on"
            )
    if _is_spot(evaluation, best):
        sentence += (
            " Spot is interruptible capacity that may not be available at this scale."
        )
    trends = _cloud_trends(evaluation)
    flat_best = None
    if trends and any(t != 0 for t in trends):
        flat = (
            flat
            if flat is not None
            else evaluate(
                flat_cloud_prices(scenario), catalog=evaluation.resolved.catalog
            )
        )
        flat_summary = flat.summary.set_index("strategy")[column]
        flat_best = str(flat_summary.idxmin())
        assumed = sorted(set(trends))
        words = ", ".join(f"{t:+.1%}" for t in assumed)
        if flat_best != best:
            flips.append(
                f"with cloud prices flat in real terms (instead of {words} a year), "
                f"{flat_best} would be cheapest"
            )
            sentence += (
                f" This rests on cloud prices changing {words} a year in real terms; "
                f"flat, {flat_best} would be cheapest."
            )
        else:
            sentence += (
                f" Cloud prices are assumed to change {words} a year in real terms; "
                "the answer holds with flat prices too."
            )
    return Recommendation(
        view=view,
        strategy=best,
        runner_up=runner,
        npv_usd=npv,
        runner_up_npv_usd=runner_npv,
        margin_usd=margin,
        sentence=sentence,
        flips_if=flips,
        price_multiplier=multiplier,
        break_even_year=year,
        flat_cloud_price_strategy=flat_best,
    )


def recommendations(evaluation: Evaluation) -> dict[str, Recommendation]:
    """The recommendation of both views (the flat-price check evaluated once).

    Parameters
    ----------
    evaluation : Evaluation
        Output of :func:`planner.tco.evaluate`.

    Returns
    -------
    dict
        ``{"institution": Recommendation, "award": Recommendation}``.
    """
    flat = None
    if any(t != 0 for t in _cloud_trends(evaluation)):
        flat = evaluate(
            flat_cloud_prices(evaluation.scenario),
            catalog=evaluation.resolved.catalog,
        )
    return {view: recommend(evaluation, view, flat=flat) for view in VIEWS}


def headline(recs: dict[str, Recommendation]) -> str:
    """One paragraph: the answer in both views, or each when they differ.

    Parameters
    ----------
    recs : dict
        Output of :func:`recommendations`.

    Returns
    -------
    str
        The scenario's view first.
    """
    institution, award = recs["institution"], recs["award"]
    if institution.strategy == award.strategy:
        return (
            f"{institution.sentence} It is cheapest in the award view too, at "
            f"{_money(award.npv_usd)}."
        )
    return f"The views differ. {institution.sentence} {award.sentence}"
