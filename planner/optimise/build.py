"""Build the fleet-planning MILP: one function per block of columns or rows.

Variables (the PyPSA/GenX capacity-expansion style, docs/methods.md §1.4):

* ``servers[s, b]``: integer servers of spec ``s`` bought at ``t = b``, active in
  running years ``b+1 .. b+L``;
* ``staff[y]``: binary, owned servers run in year ``y`` (staff is a fixed cost of
  running a cluster at all, one team per site);
* ``commit[o, k, s]``: integer instances of offer ``o`` committed for ``k`` years
  from ``t = s`` (whole terms inside the horizon);
* ``energy[src, y]``: work served by each capacity source (an owned spec, an
  offer's commitment); ``on_demand[o, y]`` and ``spot[o, y]`` rented per offer;
  ``deferred[y]`` work caught up later in the year; ``unserved[y]`` work not done;
  all in mean busy reference accelerators (reference hours / 8,760).

Every coefficient is a per-unit flow of :mod:`planner.costing` (the engine's),
discounted once at the time it is paid; the objective is the comparable present
value of the chosen view (:func:`planner.costing.counts_in_view`) plus the carbon
price on CO2e. Capacity is modelled by Gale's supply-demand cuts on each year's
load-duration curve: for a set ``S`` of capacity sources, ``energy(S) - deferred
<= sum_h w_h min(D_h, capacity(S))``, a concave function written as its tangents
(one per breakpoint of the curve); only the tangents a solution needs are
generated (:mod:`planner.optimise.solve`), so the exact hourly curve costs a few
rows. Each source's usable capacity in a year is a column of its own
(``capacity[src, y]``, defined by one equality over the purchase columns), so a
tangent has two entries per source instead of one per purchase column that
serves the year. The limits are a registry (:mod:`planner.optimise.limits`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from planner.costing import (
    SERVE_ON_TIE_USD_PER_REFERENCE_HOUR,
    UnitFlows,
    counts_in_view,
)
from planner.optimise.inputs import (
    INITIAL_BREAKPOINTS,
    OptimiseInputs,
    optimise_inputs,
)
from planner.optimise.options import OptimiseOptions
from planner.resolve import ResolvedScenario, resolve
from planner.scenario import Scenario
from pricing.catalog import Catalog
from pricing.units import HOURS_PER_YEAR, KILOGRAMS_PER_TONNE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

USD_PER_SOLVER_UNIT = 1_000.0
"""Money inside the solver is in thousands of USD (docs/methods.md §2.4). [USD/k$]"""

KG_PER_SOLVER_UNIT = KILOGRAMS_PER_TONNE
"""CO2e inside the solver is in tonnes. [kg/t]"""

Cut = tuple[int, tuple[int, ...], int]
"""(running-year index, capacity-source indices, breakpoint) of one capacity row."""

CapacityTerms = tuple[tuple[tuple[IntArray, FloatArray], ...], ...]
"""[source][year] -> (columns, coefficients) of usable capacity."""

Triplets = tuple[IntArray, IntArray, FloatArray]


class InfeasiblePlanError(ValueError):
    """No plan meets the demand within the limits; one line per limit at fault.

    Parameters
    ----------
    problems : sequence of str
        Which limit makes the question infeasible and by how much.

    Attributes
    ----------
    problems : tuple of str
        The lines, for the CLI (exit status 2) and the app.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, eq=False)
class Problem:
    """A built MILP: ``min c x`` s.t. ``row_lb <= A x <= row_ub``, bounds, integrality.

    Money is in thousands of USD and CO2e in tonnes inside ``c`` and ``A``;
    ``constraints["scale"]`` converts a limit row back to user units. Energies are
    in mean busy reference accelerators (reference accelerator-hours / 8760).
    """

    c: FloatArray
    A: sparse.csr_array
    row_lb: FloatArray
    row_ub: FloatArray
    var_lb: FloatArray
    var_ub: FloatArray
    integrality: IntArray
    variables: pd.DataFrame
    """One row per column: kind, spec, offer, source, year, term."""
    constraints: pd.DataFrame
    """One row per row: group, year, subset, breakpoint, limit, scale, unit."""
    index: Mapping[str, IntArray]
    cost_flows: Mapping[tuple[str, str], sparse.csr_array]
    """(category, payer) -> real cost at t = 0..N per unit of each column. [USD]"""
    co2e_flows: Mapping[str, sparse.csr_array]
    """category -> CO2e at t = 0..N per unit of each column. [kg]"""
    inputs: OptimiseInputs
    capacity_sources: tuple[str, ...]
    capacity_terms: CapacityTerms
    cuts: frozenset[Cut]

    @property
    def options(self) -> OptimiseOptions:
        """The options the problem was built with."""
        return self.inputs.options

    @property
    def scenario(self) -> Scenario:
        """The scenario the problem was built from."""
        return self.inputs.resolved.scenario

    def view_cost_usd(self, x: FloatArray) -> FloatArray:
        """Cost at t = 0..N of the view, for a solution. [USD]."""
        total = np.zeros(self.inputs.years + 1)
        for (category, payer), matrix in self.cost_flows.items():
            if counts_in_view(category, payer, self.inputs.view):
                total = total + matrix @ x
        return total


def _triplets(rows: object, cols: object, values: object) -> Triplets:
    r, c, v = np.broadcast_arrays(
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(values, dtype=float),
    )
    return r.ravel(), c.ravel(), v.ravel()


def sparse_from(parts: Sequence[Triplets], shape: tuple[int, int]) -> sparse.csr_array:
    """A CSR matrix from triplet parts (duplicates summed)."""
    if not parts:
        return sparse.csr_array(shape)
    r = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    v = np.concatenate([p[2] for p in parts])
    return sparse.csr_array(sparse.coo_array((v, (r, c)), shape=shape))


def frame_from(
    parts: Sequence[Mapping[str, object]], sizes: Sequence[int]
) -> pd.DataFrame:
    """A DataFrame from column-label parts (missing labels are None)."""
    keys: list[str] = []
    for part in parts:
        keys.extend(key for key in part if key not in keys)
    columns = {}
    for key in keys:
        columns[key] = np.concatenate(
            [
                np.asarray(part[key], dtype=object).ravel()
                if key in part
                else np.full(size, None, dtype=object)
                for part, size in zip(parts, sizes, strict=True)
            ]
            or [np.zeros(0, dtype=object)]
        )
    return pd.DataFrame(columns)


class Builder:
    """Collects columns, rows and per-unit flows as sparse triplets."""

    def __init__(self, inputs: OptimiseInputs) -> None:
        self.inputs = inputs
        self.years = inputs.years
        self.lb: list[FloatArray] = []
        self.ub: list[FloatArray] = []
        self.integer: list[IntArray] = []
        self.var_meta: list[dict[str, object]] = []
        self.var_sizes: list[int] = []
        self.n_vars = 0
        self.row_lb: list[FloatArray] = []
        self.row_ub: list[FloatArray] = []
        self.row_meta: list[dict[str, object]] = []
        self.row_sizes: list[int] = []
        self.n_rows = 0
        self.triplets: list[Triplets] = []
        self.cost: dict[tuple[str, str], list[Triplets]] = defaultdict(list)
        self.co2e: dict[str, list[Triplets]] = defaultdict(list)
        self.index: dict[str, IntArray] = {}

    def variables(
        self,
        kind: str,
        shape: tuple[int, ...],
        *,
        ub: float | FloatArray,
        integer: bool,
        lb: float | FloatArray = 0.0,
        labels: Mapping[str, object] | None = None,
        **more: object,
    ) -> IntArray:
        """Add a block of columns; return their indices with ``shape``."""
        labels = {**(labels or {}), **more}
        size = math.prod(shape)
        idx = np.arange(self.n_vars, self.n_vars + size, dtype=np.int64).reshape(shape)
        self.n_vars += size
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).ravel())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel())
        self.integer.append(np.full(size, int(integer), dtype=np.int64))
        meta: dict[str, object] = {"kind": np.full(size, kind, dtype=object)}
        for key, value in labels.items():
            meta[key] = np.broadcast_to(np.asarray(value, dtype=object), shape).ravel()
        self.var_meta.append(meta)
        self.var_sizes.append(size)
        self.index[kind] = idx
        return idx

    def rows(
        self,
        group: str,
        shape: tuple[int, ...],
        *,
        lb: float | FloatArray = -np.inf,
        ub: float | FloatArray = np.inf,
        **labels: object,
    ) -> IntArray:
        """Add a block of rows; return their indices with ``shape``."""
        size = math.prod(shape)
        idx = np.arange(self.n_rows, self.n_rows + size, dtype=np.int64).reshape(shape)
        self.n_rows += size
        self.row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).ravel())
        self.row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).ravel())
        meta: dict[str, object] = {"group": np.full(size, group, dtype=object)}
        for key, value in labels.items():
            meta[key] = np.broadcast_to(np.asarray(value, dtype=object), shape).ravel()
        self.row_meta.append(meta)
        self.row_sizes.append(size)
        return idx

    def coefficients(self, rows: object, cols: object, values: object) -> None:
        """Add matrix coefficients."""
        self.triplets.append(_triplets(rows, cols, values))

    def unit_flows(self, flows: UnitFlows, col: int) -> None:
        """Every line of one unit's flows, on one column (all of t = 0..N)."""
        t = np.arange(self.years + 1)
        for line in flows.lines:
            self.cost[(line.category, line.payer)].append(
                _triplets(t, col, line.cost_usd)
            )
            self.co2e[line.category].append(_triplets(t, col, line.co2e_kg))

    def rate_flows(self, flows: UnitFlows, cols: IntArray, per_unit: float) -> None:
        """Flows per unit of a yearly column: column ``cols[y]`` at t = y + 1."""
        t = np.arange(1, self.years + 1)
        for line in flows.lines:
            self.cost[(line.category, line.payer)].append(
                _triplets(t, cols, line.cost_usd[1:] * per_unit)
            )
            self.co2e[line.category].append(
                _triplets(t, cols, line.co2e_kg[1:] * per_unit)
            )

    def flow_matrices(
        self, which: Mapping[object, list[Triplets]]
    ) -> dict[object, sparse.csr_array]:
        """Per-key (N + 1) x columns matrices of the recorded flows."""
        shape = (self.years + 1, self.n_vars)
        return {key: sparse_from(parts, shape) for key, parts in which.items()}


# --- columns ---------------------------------------------------------------------


def _add_servers(b: Builder, fixed: float | None = None) -> None:
    """Integer servers per (spec, purchase year).

    No vintage needs more servers than the peak of the years it serves
    (``fixed``: every vintage holds exactly that many, a strategy's own choice).
    """
    inputs = b.inputs
    years = np.asarray(inputs.purchase_years, dtype=np.int64)
    peak = inputs.curve.levels.max(axis=1)
    ub = np.zeros((len(inputs.specs), years.size))
    for k, spec in enumerate(inputs.specs):
        for j, bought in enumerate(inputs.purchase_years):
            reach = float(peak[bought : bought + spec.ops.lifetime_years].max())
            ub[k, j] = math.ceil(reach / spec.capacity_per_server - 1e-9)
    lb: float | FloatArray = 0.0
    if fixed is not None:
        lb = ub = np.full_like(ub, fixed)
    cols = b.variables(
        "servers",
        (len(inputs.specs), years.size),
        ub=ub,
        lb=lb,
        integer=not inputs.options.continuous,
        spec=np.array([s.name for s in inputs.specs], dtype=object)[:, None],
        year=years[None, :],
    )
    for k, spec in enumerate(inputs.specs):
        for j, bought in enumerate(inputs.purchase_years):
            b.unit_flows(spec.vintages[bought], int(cols[k, j]))


def _add_staff(b: Builder) -> None:
    """Binary staff switch per running year (one team per site)."""
    inputs = b.inputs
    n = inputs.years
    has = inputs.staff is not None and bool(inputs.specs)
    labels: dict[str, object] = {"year": np.arange(1, n + 1)} if has else {}
    cols = b.variables(
        "staff",
        (n if has else 0,),
        ub=1.0,
        integer=not inputs.options.continuous,
        labels=labels,
    )
    if has:
        assert inputs.staff is not None
        b.rate_flows(inputs.staff, cols, 1.0)


def _add_commitments(b: Builder) -> None:
    """Integer instances committed per (offer, term, start)."""
    inputs = b.inputs
    peak = inputs.curve.levels.max(axis=1)
    keys = [
        (o, term, start)
        for o, offer in enumerate(inputs.offers)
        for term, start in sorted(offer.commitments)
    ]
    ub = np.array(
        [
            math.ceil(
                float(peak[start : start + term].max())
                / inputs.offers[o].instance_capacity
                - 1e-9
            )
            for o, term, start in keys
        ],
        dtype=float,
    )
    cols = b.variables(
        "commitments",
        (len(keys),),
        ub=ub,
        integer=not inputs.options.continuous,
        offer=np.array([inputs.offers[o].name for o, _, _ in keys], dtype=object),
        term=np.array([term for _, term, _ in keys], dtype=object),
        year=np.array([start for _, _, start in keys], dtype=object),
    )
    b.index["commitment_keys"] = np.array(keys, dtype=np.int64).reshape(-1, 3)
    for col, (o, term, start) in zip(cols, keys, strict=True):
        b.unit_flows(inputs.offers[o].commitments[(term, start)], int(col))


def capacity_sources(inputs: OptimiseInputs) -> list[str]:
    """Labels of the capacity sources: owned specs, then committed offers."""
    sources = [f"onprem:{spec.name}" for spec in inputs.specs]
    sources += [f"committed:{o.name}" for o in inputs.offers if o.commitments]
    return sources


def _add_work(b: Builder) -> None:
    """Work served by each capacity source, rented per offer, deferred, unserved."""
    inputs = b.inputs
    n = inputs.years
    mean = inputs.curve.mean
    running = np.arange(1, n + 1)
    sources = capacity_sources(inputs)
    energy = b.variables(
        "energy",
        (len(sources), n),
        ub=np.broadcast_to(mean, (len(sources), n)),
        integer=False,
        source=np.array(sources, dtype=object)[:, None],
        year=running[None, :],
    )
    for k, spec in enumerate(inputs.specs):
        b.rate_flows(spec.work, energy[k], HOURS_PER_YEAR)
    committed = [o for o in inputs.offers if o.commitments]
    for j, offer in enumerate(committed):
        b.rate_flows(offer.committed_use, energy[len(inputs.specs) + j], HOURS_PER_YEAR)
    names = np.array([o.name for o in inputs.offers], dtype=object)
    shape = (len(inputs.offers), n)
    on_demand = b.variables(
        "on_demand",
        shape,
        ub=np.broadcast_to(mean, shape),
        integer=False,
        offer=names[:, None],
        year=running[None, :],
    )
    with_spot = [o for o in inputs.offers if o.spot is not None]
    spot = b.variables(
        "spot",
        (len(with_spot), n),
        ub=np.broadcast_to(mean, (len(with_spot), n)),
        integer=False,
        offer=np.array([o.name for o in with_spot], dtype=object)[:, None],
        year=running[None, :],
    )
    for o, offer in enumerate(inputs.offers):
        b.rate_flows(offer.on_demand, on_demand[o], HOURS_PER_YEAR)
    for o, offer in enumerate(with_spot):
        assert offer.spot is not None
        b.rate_flows(offer.spot, spot[o], HOURS_PER_YEAR)
    options = inputs.options
    delay_labels: dict[str, object] = {"year": running} if options.allow_delay else {}
    deferred = b.variables(
        "deferred",
        (n if options.allow_delay else 0,),
        ub=mean if options.allow_delay else 0.0,
        integer=False,
        labels=delay_labels,
    )
    if options.allow_delay:
        b.rate_flows(inputs.service["delay"], deferred, HOURS_PER_YEAR)
    unserved_labels: dict[str, object] = (
        {"year": running} if options.allow_unserved else {}
    )
    unserved = b.variables(
        "unserved",
        (n if options.allow_unserved else 0,),
        ub=mean if options.allow_unserved else 0.0,
        integer=False,
        labels=unserved_labels,
    )
    if options.allow_unserved:
        b.rate_flows(inputs.service["unserved"], unserved, HOURS_PER_YEAR)


def capacity_terms(b: Builder) -> CapacityTerms:
    """Usable capacity of each source and year as a linear expression."""
    inputs = b.inputs
    n = inputs.years
    servers = b.index["servers"]
    terms: list[tuple[tuple[IntArray, FloatArray], ...]] = []
    for k, spec in enumerate(inputs.specs):
        per_year = []
        for year in range(n):
            cols, coefs = [], []
            for j, bought in enumerate(inputs.purchase_years):
                capacity = spec.vintages[bought].capacity_reference
                assert capacity is not None
                if capacity[year] > 0:
                    cols.append(int(servers[k, j]))
                    coefs.append(float(capacity[year]))
            per_year.append(
                (np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float))
            )
        terms.append(tuple(per_year))
    commit_cols = b.index["commitments"]
    keys = b.index["commitment_keys"]
    for o, offer in enumerate(inputs.offers):
        if not offer.commitments:
            continue
        per_year = []
        for year in range(n):
            cols, coefs = [], []
            for col, (oo, term, start) in zip(commit_cols, keys, strict=True):
                if oo != o:
                    continue
                capacity = offer.commitments[(int(term), int(start))].capacity_reference
                assert capacity is not None
                if capacity[year] > 0:
                    cols.append(int(col))
                    coefs.append(float(capacity[year]))
            per_year.append(
                (np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float))
            )
        terms.append(tuple(per_year))
    return tuple(terms)


def _add_capacity_columns(b: Builder, terms: CapacityTerms, sources: list[str]) -> None:
    """Usable capacity of each source and year as a column, defined by its terms.

    ``capacity[src, y] = sum_j coef_j * purchase_j`` (one equality row each).
    Every capacity tangent and yearly capacity row refers to this column rather
    than to the purchases, which keeps those rows at a few entries: with every
    purchase year and term of four specs and two offers a full-set tangent had
    about 80 entries, and HiGHS's root separation over those dense rows was most
    of a Pareto point's time (the 10-point department sweep went from 30 s to
    19 s, ``benchmarks/bench_optimise.py``, 2026-12-02).
    """
    n = b.inputs.years
    labels: dict[str, object] = {
        "source": np.array(sources, dtype=object)[:, None],
        "year": np.arange(1, n + 1)[None, :],
    }
    cols = b.variables(
        "capacity", (len(sources), n), ub=np.inf, integer=False, labels=labels
    )
    rows = b.rows("capacity_definition", (len(sources), n), lb=0.0, ub=0.0, **labels)
    b.coefficients(rows, cols, 1.0)
    for source in range(len(sources)):
        for year in range(n):
            purchases, coefs = terms[source][year]
            b.coefficients(rows[source, year], purchases, -coefs)


# --- rows ------------------------------------------------------------------------


def _add_demand_rows(b: Builder) -> None:
    """Each year's demand is served: sources + rented + unserved >= demand."""
    n = b.inputs.years
    rows = b.rows("demand", (n,), lb=b.inputs.curve.mean, year=np.arange(1, n + 1))
    b.coefficients(rows[None, :], b.index["energy"], 1.0)
    for kind in ("on_demand", "spot"):
        if b.index[kind].size:
            b.coefficients(rows[None, :], b.index[kind], 1.0)
    if b.index["unserved"].size:
        b.coefficients(rows, b.index["unserved"], 1.0)


def cut_rows(
    inputs: OptimiseInputs,
    index: Mapping[str, IntArray],
    cuts: Sequence[Cut],
    first_row: int,
) -> tuple[list[Triplets], FloatArray, dict[str, object]]:
    """Capacity rows (tangents of the served curve) of ``cuts``.

    For a set S of capacity sources in year y and breakpoint i (share of the
    year in the i busiest hours ``H_i``, mean demand below them ``E_i``)::

        sum_{s in S} energy[s, y] - deferred[y] - H_i * capacity(S, y) <= E_i

    The minimum over i of the right-hand side is the energy a capacity serves
    when it arrives, ``sum_h w_h min(D_h, K) / 8760``. When S holds owned
    servers only and a staff switch exists, ``E_i`` is multiplied by the switch
    (the perspective form: nothing is served when the site is off), which is
    equivalent for integers and tighter when relaxed.
    """
    count = len(cuts)
    year = np.fromiter((c[0] for c in cuts), dtype=np.int64, count=count)
    point = np.fromiter((c[2] for c in cuts), dtype=np.int64, count=count)
    sizes = np.fromiter((len(c[1]) for c in cuts), dtype=np.int64, count=count)
    members = np.fromiter(
        (s for c in cuts for s in c[1]), dtype=np.int64, count=int(sizes.sum())
    )
    rows = first_row + np.arange(count, dtype=np.int64)
    member_rows = np.repeat(rows, sizes)
    member_years = np.repeat(year, sizes)
    share = inputs.curve.share_prefix[point]
    tail = inputs.curve.energy_tail[year, point]
    parts: list[Triplets] = [
        _triplets(member_rows, index["energy"][members, member_years], 1.0),
        _triplets(
            member_rows,
            index["capacity"][members, member_years],
            -np.repeat(share, sizes),
        ),
    ]
    deferred = index["deferred"]
    if deferred.size:
        parts.append(_triplets(rows, deferred[year], -1.0))
    staff = index["staff"]
    largest = np.maximum.reduceat(members, np.cumsum(sizes) - sizes) if count else sizes
    perspective = (
        largest < len(inputs.specs) if staff.size else np.zeros(count, dtype=bool)
    )
    if perspective.any():
        parts.append(
            _triplets(rows[perspective], staff[year[perspective]], -tail[perspective])
        )
    upper = np.where(perspective, 0.0, tail)
    meta: dict[str, object] = {
        "group": np.full(count, "capacity", dtype=object),
        "year": (year + 1).astype(object),
        "subset": np.asarray(["+".join(map(str, c[1])) for c in cuts], dtype=object),
        "breakpoint": point.astype(object),
    }
    return parts, upper, meta


def initial_cuts(inputs: OptimiseInputs, sources: int) -> list[Cut]:
    """Tangents written before solving.

    Singletons and the full set, at :data:`INITIAL_BREAKPOINTS` quantiles of
    each year's curve (every point of a block curve).
    """
    points = inputs.curve.levels.shape[1]
    if inputs.curve.exact:
        picks = np.unique(
            np.concatenate(
                [
                    np.linspace(0, points, INITIAL_BREAKPOINTS // 2).astype(int),
                    np.geomspace(1, points, INITIAL_BREAKPOINTS // 2).astype(int),
                ]
            )
        )
    else:
        picks = np.arange(1, points + 1)
    sets: list[tuple[int, ...]] = [(s,) for s in range(sources)]
    if sources > 1:
        sets.append(tuple(range(sources)))
    owned = len(inputs.specs)
    if inputs.staff is not None and 1 < owned < sources:
        sets.append(tuple(range(owned)))
    return [
        (year, subset, int(point))
        for year in range(inputs.years)
        for subset in sets
        for point in picks
    ]


def _add_capacity_rows(b: Builder, cuts: list[Cut]) -> None:
    parts, upper, meta = cut_rows(b.inputs, b.index, cuts, b.n_rows)
    size = len(cuts)
    b.n_rows += size
    b.triplets.extend(parts)
    b.row_lb.append(np.full(size, -np.inf))
    b.row_ub.append(upper)
    b.row_meta.append(meta)
    b.row_sizes.append(size)


def _add_annual_rows(b: Builder, sources: list[str]) -> None:
    """Deferred work is caught up in spare hours.

    A year's energy of each source fits its capacity.
    """
    if not b.index["deferred"].size or not sources:
        return
    n = b.inputs.years
    rows = b.rows(
        "capacity_annual",
        (len(sources), n),
        ub=0.0,
        source=np.array(sources, dtype=object)[:, None],
        year=np.arange(1, n + 1)[None, :],
    )
    b.coefficients(rows, b.index["energy"], 1.0)
    b.coefficients(rows, b.index["capacity"], -1.0)


def _add_staff_rows(b: Builder) -> None:
    """Servers run only with the staff switch on (disaggregated big-M).

    Owned servers serve only if the site runs (a valid inequality that lifts the
    relaxation's staff cost).
    """
    staff = b.index["staff"]
    if not staff.size:
        return
    inputs = b.inputs
    servers = b.index["servers"]
    ub = np.concatenate(b.ub)
    for k, spec in enumerate(inputs.specs):
        for j, bought in enumerate(inputs.purchase_years):
            capacity = spec.vintages[bought].capacity_reference
            assert capacity is not None
            alive = np.flatnonzero(capacity > 0)
            if not alive.size:
                continue
            rows = b.rows(
                "staff_switch", (alive.size,), ub=0.0, spec=spec.name, year=alive + 1
            )
            col = int(servers[k, j])
            b.coefficients(rows, col, 1.0)
            b.coefficients(rows, staff[alive], -max(float(ub[col]), 1.0))
    n = inputs.years
    rows = b.rows("staff_serves", (n,), ub=0.0, year=np.arange(1, n + 1))
    owned = len(inputs.specs)
    b.coefficients(rows[None, :], b.index["energy"][:owned], 1.0)
    b.coefficients(rows, staff, -inputs.curve.mean)


def _objective(
    b: Builder,
    cost_flows: Mapping[tuple[str, str], sparse.csr_array],
    co2e_flows: Mapping[str, sparse.csr_array],
) -> FloatArray:
    """Discounted view cost plus the carbon charge, in solver units."""
    inputs = b.inputs
    discount = inputs.discount
    c = np.zeros(b.n_vars)
    for (category, payer), matrix in cost_flows.items():
        if counts_in_view(category, payer, inputs.view):
            c += matrix.T @ discount
    price_usd_per_kg = inputs.options.carbon_price_usd_per_t / KILOGRAMS_PER_TONNE
    if price_usd_per_kg:
        for matrix in co2e_flows.values():
            c += price_usd_per_kg * (matrix.T @ discount)
    # On a tie between serving and leaving work, serve it (the engine's rule).
    unserved = b.index["unserved"]
    c[unserved] += (
        SERVE_ON_TIE_USD_PER_REFERENCE_HOUR
        * HOURS_PER_YEAR
        * discount[1 : unserved.size + 1]
    )
    return c / USD_PER_SOLVER_UNIT


def build_problem(
    scenario: Scenario,
    options: OptimiseOptions | None = None,
    *,
    catalog: Catalog | None = None,
    resolved: ResolvedScenario | None = None,
) -> Problem:
    r"""Build the fleet-planning MILP of a scenario (the *build* step).

    Objective: the comparable present value of the chosen view (every cash
    line the view counts, plus the delay and unserved cost) and the carbon
    price on CO2e, each flow discounted once when it is paid:

    .. math::

        \min \sum_t (1 + r)^{-t} \Big[\sum_{cat \in view} F_{cat, t}\, x
              + p_{CO_2} \sum_{cat} G_{cat, t}\, x\Big]

    with the per-unit flows :attr:`Problem.cost_flows` and
    :attr:`Problem.co2e_flows` from :mod:`planner.costing`.

    Parameters
    ----------
    scenario : Scenario
        Demand, horizon, site, institution and strategies (servers, offers).
    options : OptimiseOptions, optional
        Choices and limits.
    catalog : pricing.catalog.Catalog, optional
        The catalog with overlays.
    resolved : ResolvedScenario, optional
        A prior resolution of the scenario.

    Returns
    -------
    Problem
        Matrices and named index arrays.

    Raises
    ------
    InfeasiblePlanError
        If nothing can serve the demand (no spec, no cloud, no unserved work).
    ValueError
        If an option does not fit the scenario.
    planner.resolve.ResolutionError
        For unknown catalog keys.
    """
    resolved = resolved if resolved is not None else resolve(scenario, catalog)
    return build_from_inputs(optimise_inputs(resolved, options))


def build_from_inputs(
    inputs: OptimiseInputs, *, fixed_servers: float | None = None
) -> Problem:
    """Build the MILP from priced inputs (see :func:`build_problem`).

    ``fixed_servers`` fixes every server column at that count (a strategy's own
    choice, :func:`planner.optimise.optimise_strategy`).
    """
    from planner.optimise import limits

    if not inputs.specs and not inputs.offers and not inputs.options.allow_unserved:
        msg = (
            "nothing can serve the demand: no server spec, no cloud offer, and "
            "unserved work is not allowed"
        )
        raise InfeasiblePlanError([msg])
    b = Builder(inputs)
    _add_servers(b, fixed_servers)
    _add_staff(b)
    _add_commitments(b)
    _add_work(b)
    sources = capacity_sources(inputs)
    terms = capacity_terms(b)
    _add_capacity_columns(b, terms, sources)
    _add_demand_rows(b)
    cuts = initial_cuts(inputs, len(sources))
    _add_capacity_rows(b, cuts)
    _add_annual_rows(b, sources)
    _add_staff_rows(b)
    cost_flows = b.flow_matrices(b.cost)  # type: ignore[arg-type]
    co2e_flows = b.flow_matrices(b.co2e)  # type: ignore[arg-type]
    limits.add_limits(b, cost_flows, co2e_flows, terms)  # type: ignore[arg-type]
    c = _objective(b, cost_flows, co2e_flows)  # type: ignore[arg-type]
    constraints = frame_from(b.row_meta, b.row_sizes)
    constraints["unit"] = constraints["group"].map(limits.LIMIT_UNITS)
    return Problem(
        c=c,
        A=sparse_from(b.triplets, (b.n_rows, b.n_vars)),
        row_lb=np.concatenate(b.row_lb),
        row_ub=np.concatenate(b.row_ub),
        var_lb=np.concatenate(b.lb),
        var_ub=np.concatenate(b.ub),
        integrality=np.concatenate(b.integer),
        variables=frame_from(b.var_meta, b.var_sizes),
        constraints=constraints,
        index=dict(b.index),
        cost_flows=cost_flows,  # type: ignore[arg-type]
        co2e_flows=co2e_flows,  # type: ignore[arg-type]
        inputs=inputs,
        capacity_sources=tuple(sources),
        capacity_terms=terms,
        cuts=frozenset(cuts),
    )
