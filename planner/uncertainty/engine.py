"""A fixed plan in many futures: freeze the decisions, apply draws, run the engine.

Monte Carlo asks how each strategy fares when the future differs from the
scenario. A strategy is a decision taken now, so it is **frozen** before the
draws (:func:`frozen_plan`): ``servers: auto`` becomes the count the engine
chose for the scenario, and a default commitment becomes its screening-curve
size in accelerators. A draw then changes only the future: prices, trends,
tariff, lifetimes, demand, whether F&A applies (:func:`apply_values`).

:func:`loop_outcomes` is the reference: one full resolve and evaluation of the
engine (:func:`planner.tco.evaluate`, :mod:`planner.breakeven`) per draw. The
vectorised evaluation (:mod:`planner.uncertainty.batched`) must give the same
numbers; a test checks it on a few draws.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from planner.costing import VIEWS, View
from planner.resolve import (
    ResolvedCloudStrategy,
    ResolvedOwnedStrategy,
    ResolvedScenario,
    resolve,
)
from planner.scenario import Scenario, validation_problems
from planner.uncertainty.distributions import Bernoulli, support
from planner.uncertainty.spec import FACTORS, UncertaintyError, UncertaintySpec
from pricing.catalog import Catalog

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FieldKind = Literal["float", "int", "bool"]
"""What a scenario field or factor takes. [-]"""

FACTOR_KINDS: dict[str, FieldKind] = {
    "cloud_price_trend": "float",
    "cloud_price_multiplier": "float",
    "server_price_multiplier": "float",
    "server_lifetime_years": "int",
    "demand_multiplier": "float",
    "cloud_fa_applies": "bool",
}
"""The value type of each cross-cutting factor."""

NEVER = -1
"""Break-even year of a pair whose owned strategy never stays cheaper. [-]"""

BREAK_EVEN_TIE_USD = 1e-9
"""Cumulative costs this close count as a tie in the break-even year (the
engine's rule in :mod:`planner.breakeven`). [USD]"""

STATUS_CODES = {"crosses": 0, "never": 1, "always": 2}
"""Break-even utilisation status as a small integer (NaN utilisation unless 0)."""


# --- freezing the plan -----------------------------------------------------------


def frozen_plan(scenario: Scenario, *, catalog: Catalog | None = None) -> Scenario:
    """The scenario with every decision the engine sizes written out.

    ``servers: auto`` becomes the count :mod:`planner.sizing` chose; a commitment
    without ``committed_accelerators`` (a cloud strategy or a burst) gets the
    accelerators of its screening-curve size. The frozen scenario evaluates to
    the same costs as the original.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    Scenario
        The same decisions, none left to sizing.
    """
    from planner.tco import evaluate

    resolved = resolve(scenario, catalog)
    evaluation = evaluate(scenario, resolved=resolved)
    data = scenario.model_dump(mode="json")
    for item, strategy in zip(data["strategies"], resolved.strategies, strict=True):
        result = evaluation.results[strategy.name]
        if isinstance(strategy, ResolvedOwnedStrategy):
            item["servers"] = strategy.servers
            burst = item.get("burst")
            if (
                burst is not None
                and strategy.burst is not None
                and strategy.burst.term_years
                and burst.get("committed_accelerators") is None
            ):
                burst["committed_accelerators"] = _whole(
                    result.dispatch.committed_accelerators
                )
        elif strategy.term_years and item.get("committed_accelerators") is None:
            item["committed_accelerators"] = _whole(
                result.dispatch.committed_accelerators
            )
    return Scenario.model_validate(data)


def _whole(accelerators: float) -> int:
    """Accelerators of whole instances, as the scenario field takes them. [-]."""
    return round(accelerators)


# --- paths -----------------------------------------------------------------------


def _kind_of(annotation: object) -> FieldKind | None:
    """The numeric kind a field annotation accepts, or None if not numeric."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind_of(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind_of(arg) for arg in args if arg is not type(None)}
        kinds.discard(None)
        if "float" in kinds:
            return "float"
        return next(iter(kinds)) if len(kinds) == 1 else None
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    return None


def field_kind(scenario: Scenario, path: str) -> FieldKind:
    """What the field at a dotted path takes (a number, a whole number, a switch).

    Parameters
    ----------
    scenario : Scenario
        The scenario whose structure the path walks (list items by index).
    path : str
        ``strategies.3.server_price_usd``-style path, or a factor name.

    Returns
    -------
    {"float", "int", "bool"}
        The field's kind.

    Raises
    ------
    UncertaintyError
        If the path does not lead to a numeric field of the scenario.
    """
    if path in FACTORS:
        return FACTOR_KINDS[path]
    parts = path.split(".")
    node: object = scenario
    walked: list[str] = []
    for part in parts[:-1]:
        node = _step(node, part, walked, path)
        walked.append(part)
    name = parts[-1]
    if not isinstance(node, BaseModel) or name not in type(node).model_fields:
        where = ".".join(walked) or "the scenario"
        msg = f"{path}: {where} has no field {name!r}"
        raise UncertaintyError([msg])
    kind = _kind_of(type(node).model_fields[name].annotation)
    if kind is None:
        msg = f"{path}: not a numeric field (only numbers and switches can vary)"
        raise UncertaintyError([msg])
    return kind


def _step(node: object, part: str, walked: list[str], path: str) -> object:
    where = ".".join(walked) or "the scenario"
    if isinstance(node, tuple):
        if not part.isdigit() or int(part) >= len(node):
            msg = f"{path}: {where} has {len(node)} items; {part!r} is not one of them"
            raise UncertaintyError([msg])
        return node[int(part)]
    if isinstance(node, BaseModel) and part in type(node).model_fields:
        value = getattr(node, part)
        if value is None:
            msg = f"{path}: {where}.{part} is not set in the scenario"
            raise UncertaintyError([msg])
        return value
    msg = f"{path}: {where} has no field {part!r}"
    raise UncertaintyError([msg])


def _set(data: dict[str, Any], path: str, value: object) -> None:
    """Set a dotted path in plain scenario data (list items by index)."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value


# --- the prepared question ---------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A scenario, its frozen plan and an uncertainty spec checked against it."""

    scenario: Scenario
    """The user's scenario."""
    plan: Scenario
    """The frozen plan (:func:`frozen_plan`): what every draw evaluates."""
    catalog: Catalog
    spec: UncertaintySpec
    resolved: ResolvedScenario
    """The frozen plan, resolved: the base of every factor."""
    kinds: tuple[FieldKind, ...]
    """Kind of each input's target (int inputs are rounded, bool are switches)."""
    plan_data: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def strategies(self) -> tuple[str, ...]:
        """Return the strategies' names, in scenario order."""
        return tuple(s.name for s in self.resolved.strategies)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(owned, cloud) pairs of the break-even year, as in the engine's table."""
        owned = [
            s.name
            for s in self.resolved.strategies
            if isinstance(s, ResolvedOwnedStrategy)
        ]
        clouds = [
            s.name
            for s in self.resolved.strategies
            if isinstance(s, ResolvedCloudStrategy)
        ]
        return tuple((o, c) for o in owned for c in clouds)

    @property
    def utilisation_pairs(self) -> tuple[tuple[str, str], ...]:
        """(on-premises, cloud) pairs with a break-even utilisation (no hybrids)."""
        kinds = {s.name: getattr(s, "kind", "") for s in self.resolved.strategies}
        return tuple((o, c) for o, c in self.pairs if kinds[o] == "onprem")


def prepare(
    scenario: Scenario, spec: UncertaintySpec, *, catalog: Catalog | None = None
) -> Prepared:
    """Freeze the plan and check every input of the spec against the scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    spec : UncertaintySpec
        Its uncertain inputs.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.

    Returns
    -------
    Prepared
        What :func:`loop_outcomes` and the vectorised evaluation work on.

    Raises
    ------
    UncertaintyError
        One line per input that names no numeric field, a switch without a
        Bernoulli distribution, or a range the field does not accept.
    """
    chosen = catalog or Catalog()
    plan = frozen_plan(scenario, catalog=chosen)
    problems: list[str] = []
    kinds: list[FieldKind] = []
    for item in spec.inputs:
        try:
            kind = field_kind(plan, item.path)
        except UncertaintyError as error:
            problems.extend(error.problems)
            kinds.append("float")
            continue
        if kind == "bool" and not isinstance(item.distribution, Bernoulli):
            problems.append(f"{item.path}: a switch takes a bernoulli distribution")
        kinds.append(kind)
    if problems:
        raise UncertaintyError(problems)
    prepared = Prepared(
        scenario=scenario,
        plan=plan,
        catalog=chosen,
        spec=spec,
        resolved=resolve(plan, chosen),
        kinds=tuple(kinds),
        plan_data=plan.model_dump(mode="json"),
    )
    _check_reach(prepared)
    return prepared


def _check_reach(prepared: Prepared) -> None:
    """Every input at either end of its range must give a valid scenario."""
    spec = prepared.spec
    base = np.array(
        [float(item.distribution.marginal().ppf(0.5)) for item in spec.inputs]
    )
    problems: list[str] = []
    for j, item in enumerate(spec.inputs):
        for end in support(item.distribution):
            values = base.copy()
            values[j] = end
            try:
                apply_values(prepared, values)
            except UncertaintyError as error:
                problems.extend(
                    f"{item.path}: its distribution reaches {end:.6g}, which the "
                    f"scenario does not accept: {line}"
                    for line in error.problems
                )
    if problems:
        raise UncertaintyError(list(dict.fromkeys(problems)))


# --- applying a draw -------------------------------------------------------------


def _clouds(data: dict[str, Any]) -> list[tuple[dict[str, Any], int, bool]]:
    """Every cloud strategy and burst of scenario data: (its data, index, burst?)."""
    out = []
    for index, item in enumerate(data["strategies"]):
        if item.get("kind") == "cloud":
            out.append((item, index, False))
        elif item.get("burst") is not None:
            out.append((item["burst"], index, True))
    return out


def _offer(resolved: ResolvedScenario, index: int, burst: bool) -> Any:
    strategy = resolved.strategies[index]
    if burst:
        assert isinstance(strategy, ResolvedOwnedStrategy)
        assert strategy.burst is not None
        return strategy.burst.offer
    assert isinstance(strategy, ResolvedCloudStrategy)
    return strategy.offer


def _apply_factor(
    data: dict[str, Any], resolved: ResolvedScenario, name: str, value: float
) -> None:
    """Write a cross-cutting factor into scenario data (after the field draws)."""
    if name == "cloud_price_trend":
        for item, _, _ in _clouds(data):
            item["price_change_per_year"] = value
    elif name == "cloud_price_multiplier":
        for item, index, burst in _clouds(data):
            offer = _offer(resolved, index, burst)
            price = item.get("usd_per_accelerator_hour")
            price = offer.on_demand_usd_per_accelerator_hour if price is None else price
            item["usd_per_accelerator_hour"] = value * price
            spot = item.get("spot_usd_per_accelerator_hour")
            spot = offer.spot_usd_per_accelerator_hour if spot is None else spot
            if spot is not None:
                item["spot_usd_per_accelerator_hour"] = value * spot
    elif name in ("server_price_multiplier", "server_lifetime_years"):
        for item, strategy in zip(data["strategies"], resolved.strategies, strict=True):
            if not isinstance(strategy, ResolvedOwnedStrategy):
                continue
            if name == "server_lifetime_years":
                item["lifetime_years"] = round(value)
                continue
            price = item.get("server_price_usd")
            price = strategy.server.server_price_usd if price is None else price
            item["server_price_usd"] = value * price
    elif name == "demand_multiplier":
        spec = data["demand"]
        first = spec.get("reference_hours_per_year")
        if first is None:
            first = resolved.demand.first_year_reference_hours
        spec["reference_hours_per_year"] = value * first
        for item in data["strategies"]:
            for member in item.get("members") or ():
                member["reference_hours_per_year"] *= value
    elif name == "cloud_fa_applies":
        data["institution"]["cloud_exempt_from_indirect"] = not bool(round(value))


def apply_values(
    prepared: Prepared,
    values: FloatArray | Sequence[float],
    *,
    only: Sequence[int] | None = None,
) -> Scenario:
    """The frozen plan with one draw of every input written in.

    Scenario fields are set first; the factors then act on the result (a price
    multiplier multiplies a drawn quote). Whole-number fields take the draw
    rounded; switches take 1 as true.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    values : sequence of float
        One value per input of the spec, in its unit.
    only : sequence of int, optional
        Apply only these inputs (by position); the others keep the plan's values.

    Returns
    -------
    Scenario
        The validated scenario of this future.

    Raises
    ------
    UncertaintyError
        If the values make an invalid scenario (one line per problem).
    """
    data = copy.deepcopy(prepared.plan_data)
    items = list(zip(prepared.spec.inputs, prepared.kinds, values, strict=True))
    if only is not None:
        items = [items[j] for j in only]
    for item, kind, value in items:
        if not item.is_factor:
            _set(data, item.path, _typed(kind, float(value)))
    for item, _, value in items:
        if item.is_factor:
            _apply_factor(data, prepared.resolved, item.path, float(value))
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise UncertaintyError(validation_problems(error)) from None


def _typed(kind: FieldKind, value: float) -> float | int | bool:
    if kind == "bool":
        return bool(round(value))
    if kind == "int":
        return round(value)
    return value


def typed_values(prepared: Prepared, values: FloatArray) -> FloatArray:
    """Draws as the scenario sees them: whole-number targets rounded.

    Parameters
    ----------
    prepared : Prepared
        The kinds of the inputs' targets.
    values : numpy.ndarray of shape (draws, inputs)
        Draws.

    Returns
    -------
    numpy.ndarray of shape (draws, inputs)
        The same, int and bool columns rounded.
    """
    out = np.array(values, dtype=float, copy=True)
    for j, kind in enumerate(prepared.kinds):
        if kind != "float":
            out[:, j] = np.round(out[:, j])
    return out


# --- outcomes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """What each draw gives, for every strategy and pair, in both views."""

    strategies: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    """(owned, cloud) of each break-even year column."""
    utilisation_pairs: tuple[tuple[str, str], ...]
    """(on-premises, cloud) of each break-even utilisation column."""
    npv_usd: dict[View, FloatArray]
    """View -> (draws, strategies): comparable present value. [USD]"""
    co2e_kg: FloatArray
    """(draws, strategies): CO2e over the horizon. [kg]"""
    break_even_year: dict[View, IntArray]
    """View -> (draws, pairs): first year from which owning stays no dearer
    (:data:`NEVER` if none). [year index]"""
    break_even_utilisation: dict[View, FloatArray]
    """View -> (draws, utilisation pairs): flat-demand break-even utilisation,
    NaN unless the status is ``crosses``. [0-1]"""
    break_even_status: dict[View, IntArray]
    """View -> (draws, utilisation pairs): :data:`STATUS_CODES`."""
    cumulative_pv_usd: dict[View, npt.NDArray[np.float32]]
    """View -> (draws, strategies, N + 1): cumulative present value at each t,
    in single precision (for fan charts). [USD]"""

    @property
    def draws(self) -> int:
        """Return the number of draws."""
        return int(self.co2e_kg.shape[0])


def concatenate(parts: Sequence[Outcomes]) -> Outcomes:
    """Outcomes of consecutive chunks of draws as one.

    Parameters
    ----------
    parts : sequence of Outcomes
        Chunks, in draw order.

    Returns
    -------
    Outcomes
        All draws.
    """
    first = parts[0]
    return Outcomes(
        strategies=first.strategies,
        pairs=first.pairs,
        utilisation_pairs=first.utilisation_pairs,
        npv_usd={v: np.concatenate([p.npv_usd[v] for p in parts]) for v in VIEWS},
        co2e_kg=np.concatenate([p.co2e_kg for p in parts]),
        break_even_year={
            v: np.concatenate([p.break_even_year[v] for p in parts]) for v in VIEWS
        },
        break_even_utilisation={
            v: np.concatenate([p.break_even_utilisation[v] for p in parts])
            for v in VIEWS
        },
        break_even_status={
            v: np.concatenate([p.break_even_status[v] for p in parts]) for v in VIEWS
        },
        cumulative_pv_usd={
            v: np.concatenate([p.cumulative_pv_usd[v] for p in parts]) for v in VIEWS
        },
    )


def outcome_of(prepared: Prepared, values: FloatArray | Sequence[float]) -> Outcomes:
    """One draw through the full engine: resolve, evaluate, break-even points.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    values : sequence of float
        One value per input.

    Returns
    -------
    Outcomes
        A batch of one draw.
    """
    from planner import breakeven
    from planner.tco import cumulative_costs, evaluate

    scenario = apply_values(prepared, values)
    resolved = resolve(scenario, prepared.catalog)
    evaluation = evaluate(scenario, resolved=resolved)
    summary = evaluation.summary.set_index("strategy")
    names = prepared.strategies
    npv = {
        view: summary.loc[list(names), f"{view}_npv_usd"].to_numpy(float)[None, :]
        for view in VIEWS
    }
    co2e = summary.loc[list(names), "co2e_kg"].to_numpy(float)[None, :]
    years: dict[View, IntArray] = {}
    utilisation: dict[View, FloatArray] = {}
    status: dict[View, IntArray] = {}
    fan: dict[View, npt.NDArray[np.float32]] = {}
    for view in VIEWS:
        cumulative = cumulative_costs(evaluation.table, view)
        fan[view] = np.stack(
            [
                cumulative.loc[cumulative["strategy"] == name, "cumulative_pv_usd"]
                .to_numpy(float)
                .astype(np.float32)
                for name in names
            ]
        )[None, :, :]
        years[view] = np.array(
            [[_break_even_year(cumulative, o, c) for o, c in prepared.pairs]],
            dtype=np.int64,
        ).reshape(1, len(prepared.pairs))
        found = []
        codes = []
        for onprem, cloud in prepared.utilisation_pairs:
            owned = resolved.strategy(onprem)
            rented = resolved.strategy(cloud)
            assert isinstance(owned, ResolvedOwnedStrategy)
            assert isinstance(rented, ResolvedCloudStrategy)
            root, word = breakeven.break_even_utilisation(
                resolved, owned, rented, view=view
            )
            found.append(np.nan if root is None else root)
            codes.append(STATUS_CODES[word])
        shape = (1, len(prepared.utilisation_pairs))
        utilisation[view] = np.array(found, dtype=float).reshape(shape)
        status[view] = np.array(codes, dtype=np.int64).reshape(shape)
    return Outcomes(
        strategies=names,
        pairs=prepared.pairs,
        utilisation_pairs=prepared.utilisation_pairs,
        npv_usd=npv,
        co2e_kg=co2e,
        break_even_year=years,
        break_even_utilisation=utilisation,
        break_even_status=status,
        cumulative_pv_usd=fan,
    )


def _break_even_year(cumulative: Any, onprem: str, cloud: str) -> int:
    """First year from which owning's cumulative PV stays at or below renting's.

    The rule of :mod:`planner.breakeven` (ties within 1e-9 USD count as no
    dearer); :data:`NEVER` when there is none.
    """
    owned = cumulative[cumulative["strategy"] == onprem].set_index("year")
    rented = cumulative[cumulative["strategy"] == cloud].set_index("year")
    cheaper = (
        owned["cumulative_pv_usd"].to_numpy()
        <= rented["cumulative_pv_usd"].to_numpy() + BREAK_EVEN_TIE_USD
    )
    for position, year in enumerate(owned.index.to_numpy()):
        if cheaper[position:].all():
            return int(year)
    return NEVER


def loop_outcomes(
    prepared: Prepared,
    values: FloatArray,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Outcomes:
    """Every draw through the full engine, one after another (the reference).

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    values : numpy.ndarray of shape (draws, inputs)
        The draws.
    progress : callable, optional
        Called as ``progress(done, total)`` after each draw.

    Returns
    -------
    Outcomes
        One row per draw.
    """
    parts = []
    total = int(values.shape[0])
    for index, row in enumerate(values):
        parts.append(outcome_of(prepared, row))
        if progress is not None:
            progress(index + 1, total)
    return concatenate(parts)
