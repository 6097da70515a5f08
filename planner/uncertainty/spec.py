"""What is uncertain: distributions on scenario fields and cross-cutting factors.

An :class:`UncertaintySpec` names each uncertain input by its path in the
scenario (``strategies.0.price_change_per_year``, ``site.electricity_usd_per_kwh``,
``demand.growth_per_year``), or by one of the cross-cutting :data:`FACTORS` that
act on many fields at once (every cloud price trend, a multiplier on every server
price, whether F&A applies to cloud). It carries the seed, the sampling design
(Latin hypercube, scrambled Sobol' or plain random) and the correlations (a
Gaussian copula, docs/methods.md §8.1). Specs are YAML files like scenarios,
loaded with ``yaml.safe_load`` only; :func:`default_uncertainty` builds the
sourced default for a scenario (``examples/uncertainty.yaml`` is the department
example's).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, ValidationError, model_validator

from planner.scenario import (
    CloudStrategy,
    Frozen,
    OnPremStrategy,
    Scenario,
    validation_problems,
)
from planner.uncertainty.distributions import (
    DISCRETE_KINDS,
    Distribution,
    IntegerUniform,
    LogNormal,
    Pert,
    support,
)
from pricing.catalog import Catalog

FloatArray = npt.NDArray[np.float64]

SCHEMA_VERSION = 1
"""Version of the uncertainty file format. [-]"""

DEFAULT_SEED = 2026
"""Seed of the sampler when the spec gives none. [-]"""

FACTORS: dict[str, str] = {
    "cloud_price_trend": "real change per year of every cloud offer's price, "
    "strategies and bursts (replaces each offer's price_change_per_year). [1/year]",
    "cloud_price_multiplier": "factor on every cloud offer's on-demand and spot "
    "price (the catalog's or your quote). [-]",
    "server_price_multiplier": "factor on every owned strategy's server price. [-]",
    "server_lifetime_years": "economic life of every owned strategy's servers "
    "(replaces each lifetime_years). [years]",
    "demand_multiplier": "factor on the first-year demand of this project and of "
    "every member of a shared cluster (utilisation of a fixed fleet). [-]",
    "cloud_fa_applies": "1 if F&A is charged on cloud services, 0 if the "
    "institution waives it (institution.cloud_exempt_from_indirect). [-]",
}
"""Cross-cutting factors: names that act on several scenario fields at once."""

FACTOR_LABELS: dict[str, str] = {
    "cloud_price_trend": "Real price change of every cloud offer [1/year]",
    "cloud_price_multiplier": "Factor on every cloud price",
    "server_price_multiplier": "Factor on every server price",
    "server_lifetime_years": "Life of every owned server [years]",
    "demand_multiplier": "Factor on the first-year demand",
    "cloud_fa_applies": "Indirect costs (F&A / overheads) charged on cloud (1 yes)",
}
"""Words for the cross-cutting factors (:data:`FACTORS`), for sentences and labels."""


def input_label(path: str, scenario: Scenario) -> str:
    """An uncertain input's path in words: its field's label, with its strategy.

    Parameters
    ----------
    path : str
        A cross-cutting factor or a dotted scenario path
        (``strategies.2.price_change_per_year``).
    scenario : Scenario
        The scenario the path points into.

    Returns
    -------
    str
        The factor's words, or the field's label
        (:func:`planner.display.field_label`), prefixed by the strategy's name
        for a strategy's field; the path's last part in words if it points
        nowhere.

    Examples
    --------
    >>> from planner.scenario import load_preset
    >>> department = load_preset("department")
    >>> input_label("cloud_price_trend", department)
    'Real price change of every cloud offer [1/year]'
    >>> input_label("site.electricity_usd_per_kwh", department)
    'Electricity tariff at the meter [USD/kWh]'
    """
    from planner import display

    if path in FACTOR_LABELS:
        return FACTOR_LABELS[path]
    node: object = scenario
    owner = ""
    *parents, last = path.split(".")
    for part in parents:
        if isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            owner = str(getattr(node, "name", owner))
        else:
            node = getattr(node, part, None)
    fields = getattr(type(node), "model_fields", {})
    if last not in fields:
        return display.FIELD_LABELS.get(last, last.replace("_", " "))
    words = display.field_label(last, fields[last])
    return f"{owner}: {words}" if owner else words


NONNEGATIVE_FACTORS = (
    "cloud_price_multiplier",
    "server_price_multiplier",
    "demand_multiplier",
)
"""Factors that scale a price or an amount and so cannot be negative. [-]"""

CONFLICTS: dict[str, tuple[str, ...]] = {
    "cloud_price_trend": ("price_change_per_year",),
    "server_lifetime_years": ("lifetime_years",),
    "cloud_fa_applies": ("institution.cloud_exempt_from_indirect",),
}
"""Factors that replace a field: a spec may not make both uncertain."""


class UncertaintyError(ValueError):
    """An uncertainty spec that cannot be used, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


def is_price(path: str) -> bool:
    """Whether a field or factor is a price or an amount of money (never negative).

    Parameters
    ----------
    path : str
        Scenario path or factor name.

    Returns
    -------
    bool
        True for ``*_usd``, ``*_usd_per_*`` fields and the price multipliers.

    Examples
    --------
    >>> is_price("site.electricity_usd_per_kwh"), is_price("demand.growth_per_year")
    (True, False)
    """
    name = path.rsplit(".", 1)[-1]
    return name.endswith("_usd") or "_usd_per_" in name or name in NONNEGATIVE_FACTORS


class UncertainInput(Frozen):
    """One uncertain input: where it goes, its distribution and its source."""

    path: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$",
        description="Scenario field (dotted path, list items by index: "
        "strategies.3.server_price_usd) or a cross-cutting factor "
        f"({', '.join(FACTORS)}). [-]",
    )
    distribution: Distribution = Field(description="Its distribution.")
    source: str = Field(
        "", max_length=2_000, description="Where the range comes from, or 'assumption'."
    )

    @model_validator(mode="after")
    def _nonnegative_price(self) -> UncertainInput:
        if is_price(self.path):
            low, _ = support(self.distribution)
            if low < 0:
                msg = (
                    f"{self.path} is a price (or a factor on one) and cannot be "
                    f"negative, but its distribution reaches {low:.6g}"
                )
                raise ValueError(msg)
        return self

    @property
    def is_factor(self) -> bool:
        """Return True for a cross-cutting factor, False for a scenario field."""
        return self.path in FACTORS

    @property
    def discrete(self) -> bool:
        """Return True when the values are whole numbers (a switch, a count)."""
        return self.distribution.kind in DISCRETE_KINDS


class Correlation(Frozen):
    """Rank-like correlation of two inputs, through a Gaussian copula."""

    between: tuple[str, str] = Field(description="The two inputs' paths. [-]")
    rho: float = Field(
        ge=-1.0, le=1.0, description="Correlation of their normal scores. [-1 to 1]"
    )


class UncertaintySpec(Frozen):
    """The uncertain inputs of a scenario, their correlations, the sampler and seed."""

    schema_version: Literal[1] = Field(1, description="File format version. [-]")
    seed: int = Field(
        DEFAULT_SEED, ge=0, le=2**63 - 1, description="Seed of the sampler. [-]"
    )
    sampling: Literal["lhs", "sobol", "random"] = Field(
        "lhs",
        description="lhs: Latin hypercube; sobol: scrambled Sobol' (draws a power "
        "of two); random: independent uniform draws (scipy.stats.qmc). [-]",
    )
    inputs: tuple[UncertainInput, ...] = Field(
        min_length=1, max_length=64, description="The uncertain inputs."
    )
    correlations: tuple[Correlation, ...] = Field(
        (), max_length=500, description="Correlations between inputs (others 0)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> UncertaintySpec:
        problems = []
        paths = [item.path for item in self.inputs]
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        if duplicates:
            problems.append(f"inputs: each path at most once, repeated: {duplicates}")
        for factor, fields in CONFLICTS.items():
            if factor not in paths:
                continue
            clash = [p for p in paths if p != factor and p.endswith(fields)]
            if clash:
                problems.append(
                    f"inputs: {factor} replaces {', '.join(clash)}; give one or "
                    "the other"
                )
        seen: set[frozenset[str]] = set()
        for item in self.correlations:
            first, second = item.between
            for name in item.between:
                if name not in paths:
                    problems.append(f"correlations: {name} is not an input")
            if first == second:
                problems.append(f"correlations: {first} with itself")
            pair = frozenset(item.between)
            if pair in seen:
                problems.append(f"correlations: {first} and {second} given twice")
            seen.add(pair)
        if problems:
            raise ValueError("; ".join(problems))
        matrix = correlation_matrix(self)
        smallest = float(np.linalg.eigvalsh(matrix).min())
        if smallest < -1e-10:
            msg = (
                "correlations: the correlation matrix is not positive semi-definite "
                f"(smallest eigenvalue {smallest:.3g}): these correlations cannot "
                "hold together; weaken some of them"
            )
            raise ValueError(msg)
        return self

    @property
    def paths(self) -> tuple[str, ...]:
        """Return the inputs' paths, in order."""
        return tuple(item.path for item in self.inputs)


def correlation_matrix(spec: UncertaintySpec) -> FloatArray:
    """The inputs' correlation matrix (identity plus the given pairs).

    Parameters
    ----------
    spec : UncertaintySpec
        Inputs and correlations.

    Returns
    -------
    numpy.ndarray of shape (d, d)
        Symmetric, ones on the diagonal. [-]
    """
    paths = [item.path for item in spec.inputs]
    matrix = np.eye(len(paths))
    for item in spec.correlations:
        first, second = item.between
        if first in paths and second in paths and first != second:
            i, j = paths.index(first), paths.index(second)
            matrix[i, j] = matrix[j, i] = item.rho
    return matrix


def uncertainty_from_dict(data: object) -> UncertaintySpec:
    """Validate plain data (parsed YAML or JSON) into an :class:`UncertaintySpec`.

    Parameters
    ----------
    data : object
        Parsed YAML or JSON.

    Returns
    -------
    UncertaintySpec
        The validated spec.

    Raises
    ------
    UncertaintyError
        One line per problem (field path, message, value).
    """
    if not isinstance(data, Mapping):
        msg = f"an uncertainty spec must be a mapping, got {type(data).__name__}"
        raise UncertaintyError([msg])
    try:
        return UncertaintySpec.model_validate(data)
    except ValidationError as error:
        raise UncertaintyError(validation_problems(error)) from None


def load_uncertainty(path: str | Path) -> UncertaintySpec:
    """Read an uncertainty spec from a YAML file, within the scenario's limits.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    UncertaintySpec
        The validated spec.

    Raises
    ------
    UncertaintyError
        If the file cannot be read or is invalid; each line names the file.
    """
    from planner.safe_io import (
        MAX_YAML_CHARACTERS,
        SafeIOError,
        clip,
        load_yaml,
        read_text_file,
    )

    file = Path(path)
    label = clip(str(file), 120)
    try:
        # The scenario's limits: a regular file (never a FIFO), within the YAML
        # size, depth and alias-expansion limits.
        text = read_text_file(
            file, max_bytes=4 * MAX_YAML_CHARACTERS, what="uncertainty file"
        )
        data = load_yaml(text)
    except SafeIOError as error:
        raise UncertaintyError([f"{label}: {error}"]) from None
    try:
        return uncertainty_from_dict(data)
    except UncertaintyError as error:
        raise UncertaintyError(
            [f"{label}: {line}" for line in error.problems]
        ) from None


def uncertainty_to_yaml(spec: UncertaintySpec) -> str:
    """Serialise a spec to YAML that :func:`load_uncertainty` reads back.

    Parameters
    ----------
    spec : UncertaintySpec
        The spec.

    Returns
    -------
    str
        YAML text, keys in model order.
    """
    from planner.safe_io import dump_yaml

    return dump_yaml(spec.model_dump(mode="json"))


# --- the default preset ----------------------------------------------------------

SERVER_PRICE_RANGE = (0.85, 1.15)
"""Range of the server price multiplier of the default preset: the catalog's
per-accelerator market estimates span +-9 % (8xH100-SXM: $25,000-30,000 per H100,
Raymond James via Barron's, Aug 2023) to +-17 % (8xH200: $25,000-35,000) around
the price used; +-15 % covers most (servers catalog, source and notes). [-]"""

LIFETIME_RANGE_YEARS = (4, 6)
"""Server lives of the default preset, each equally likely: DOE Magellan 4 years,
hyperscaler 10-K lives 5-6 years (docs/methods.md §6.3). [years]"""

TARIFF_SIGMA = 0.15
"""Log-normal sigma of the site tariff around its looked-up value (assumption:
docs/methods.md §8.1 suggests a log-normal tariff; 0.15 puts P10-P90 at about
-18 % / +21 %). [-]"""

DEMAND_GROWTH_SPREAD = 0.10
"""Half-width of the PERT range of demand growth around the scenario's value
(assumption: +-10 points a year). [1/year]"""

DEMAND_LEVEL_SIGMA = 0.2
"""Log-normal sigma of the first-year demand (utilisation of a fixed fleet)
around the scenario's (assumption: methods §8.1 suggests utilisation
Beta(6, 3), a relative spread of about 20 %). [-]"""

CLOUD_FA_PROBABILITY = 0.5
"""Probability that F&A applies to cloud in the default preset (assumption:
methods §8.1 demo 50/50; UC San Diego, UW and UNC waive it, 2 CFR 200.1 puts
cloud services in MTDC). Read the conditional results too (methods §8.4). [0-1]"""


ROUNDING = 4
"""Decimals of the default preset's numbers (0.01 % of a rate, 0.01 cent). [-]"""


def default_uncertainty(
    scenario: Scenario, *, catalog: Catalog | None = None
) -> UncertaintySpec:
    """The default uncertainty of a scenario, each range with its source.

    * ``cloud_price_trend``: PERT from the smallest to the largest real price
      change of fixed cloud SKUs, peaking at their median
      (:func:`pricing.history.cloud_price_trend`);
    * ``server_price_multiplier``: PERT on :data:`SERVER_PRICE_RANGE`;
    * ``site.electricity_usd_per_kwh``: log-normal around the site's tariff
      (:data:`TARIFF_SIGMA`);
    * ``server_lifetime_years``: whole years in :data:`LIFETIME_RANGE_YEARS`;
    * ``demand.growth_per_year``: PERT +-:data:`DEMAND_GROWTH_SPREAD` around the
      scenario's growth; ``demand_multiplier``: log-normal
      (:data:`DEMAND_LEVEL_SIGMA`);
    * ``cloud_fa_applies``: a switch, :data:`CLOUD_FA_PROBABILITY`.

    Inputs that do not apply (no cloud offer, no owned strategy) are left out.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays (for the cloud price evidence and the tariff).

    Returns
    -------
    UncertaintySpec
        Latin-hypercube sampling, seed :data:`DEFAULT_SEED`, no correlations.
    """
    from planner.resolve import default_cloud_trend, site_values
    from planner.uncertainty.distributions import Bernoulli

    chosen = catalog or Catalog()
    clouds = any(
        isinstance(s, CloudStrategy) or getattr(s, "burst", None) is not None
        for s in scenario.strategies
    )
    owned = any(isinstance(s, OnPremStrategy) for s in scenario.strategies)
    items: list[UncertainInput] = []
    if clouds:
        trend = default_cloud_trend(chosen)
        items.append(
            UncertainInput(
                path="cloud_price_trend",
                distribution=Pert(
                    low=round(trend.low_real, ROUNDING),
                    mode=round(trend.annual_change_real, ROUNDING),
                    high=round(trend.high_real, ROUNDING),
                ),
                source=f"median and range of {trend.points} fixed cloud SKUs' real "
                f"list-price change ({trend.start_date}..{trend.end_date}; "
                "cloud_price_history catalog, pricing.history.cloud_price_trend)",
            )
        )
    if owned:
        low, high = SERVER_PRICE_RANGE
        items.append(
            UncertainInput(
                path="server_price_multiplier",
                distribution=Pert(low=low, mode=1.0, high=high),
                source="servers catalog: per-accelerator market estimates span "
                "+-9 % (H100, $25-30k) to +-17 % (H200, $25-35k); a vendor quote "
                "narrows it",
            )
        )
        tariff, _, _, _ = site_values(scenario, chosen)
        if tariff > 0:
            items.append(
                UncertainInput(
                    path="site.electricity_usd_per_kwh",
                    distribution=LogNormal(
                        median=round(tariff, ROUNDING), sigma=TARIFF_SIGMA
                    ),
                    source="assumption: log-normal (methods §8.1) around the site's "
                    f"tariff ${tariff:.4f}/kWh",
                )
            )
        first, last = LIFETIME_RANGE_YEARS
        items.append(
            UncertainInput(
                path="server_lifetime_years",
                distribution=IntegerUniform(low=first, high=last),
                source="DOE Magellan 4 years; hyperscaler 10-K lives 5-6 years "
                "(docs/methods.md §6.3)",
            )
        )
    growth = scenario.demand.growth_per_year
    items.append(
        UncertainInput(
            path="demand.growth_per_year",
            distribution=Pert(
                low=round(max(growth - DEMAND_GROWTH_SPREAD, -0.5), ROUNDING),
                mode=growth,
                high=round(growth + DEMAND_GROWTH_SPREAD, ROUNDING),
            ),
            source="assumption: +-10 points a year around the scenario's growth",
        )
    )
    items.append(
        UncertainInput(
            path="demand_multiplier",
            distribution=LogNormal(median=1.0, sigma=DEMAND_LEVEL_SIGMA),
            source="assumption: first-year demand (utilisation of a fixed fleet) "
            "+-20 % (methods §8.1: utilisation Beta(6, 3))",
        )
    )
    if clouds:
        items.append(
            UncertainInput(
                path="cloud_fa_applies",
                distribution=Bernoulli(p=CLOUD_FA_PROBABILITY),
                source="assumption: 50/50 (UC San Diego, UW and UNC waive F&A on "
                "cloud; 2 CFR 200.1 puts cloud in MTDC); read the conditional "
                "results (methods §8.4)",
            )
        )
    return UncertaintySpec(inputs=tuple(items))
