"""Solve a built problem with HiGHS, generating capacity cuts until none is violated.

scipy's ``milp`` has been seen to report "optimal" while violating a bound (scipy
issue #22812), so every solution is checked (:func:`check_solution`), including
the capacity condition for every set of sources on the exact load-duration curve,
not only the cuts present.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, sparse

from planner.optimise.build import Cut, Problem, cut_rows, sparse_from
from planner.optimise.highs import FLEET_MIP_OPTIONS, Session

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FEASIBILITY_TOLERANCE = 1e-6
"""Relative tolerance of the solution check: row activity and bounds may be off
by this share of the row's magnitude (HiGHS' own default is 1e-7 absolute on its
scaled model). [-]"""

CUT_TOLERANCE = 1e-9
"""Violation of a capacity tangent, relative to 1 + the year's mean demand,
above which a cut is added: tighter than the check, so a solution is exact to
it. [-]"""

PERSPECTIVE_FLOOR = 1e-9
"""Smallest staff switch a perspective check divides by: a site switched off
has no usable owned capacity (the staff-switch rows), so its sets serve
nothing whatever the tangent. [-]"""

MAX_GENERATION_ROUNDS = 200
"""Most re-solves while generating capacity cuts (each adds at least one). [-]"""

_MASKS: dict[int, npt.NDArray[np.bool_]] = {}


def subset_masks(sources: int) -> npt.NDArray[np.bool_]:
    """Every non-empty subset of ``sources`` items as rows of a boolean matrix."""
    if sources not in _MASKS:
        codes = np.arange(1, 2**sources)
        _MASKS[sources] = (codes[:, None] >> np.arange(sources)[None, :]) & 1 == 1
    return _MASKS[sources]


def capacities(problem: Problem, x: FloatArray) -> FloatArray:
    """Usable capacity of each source in each year, in reference accelerators."""
    n = problem.inputs.years
    out = np.zeros((len(problem.capacity_sources), n))
    for source, per_year in enumerate(problem.capacity_terms):
        for year, (cols, coefs) in enumerate(per_year):
            out[source, year] = float(x[cols] @ coefs) if cols.size else 0.0
    return out


def capacity_violations(
    problem: Problem, x: FloatArray, *, tolerance: float = CUT_TOLERANCE
) -> list[tuple[Cut, float]]:
    """Sets of capacity sources whose yearly energy cannot be served in time.

    For every running year and every non-empty set S of capacity sources, the
    energy of S, less what is deferred, must not exceed what capacity(S) can serve
    in the hours demand arrives, ``sum_h w_h min(D_h, capacity(S)) / 8760`` (the
    cut condition of Gale's supply-demand theorem [1]_), on the exact curve. If
    no set is violated, an hour-by-hour dispatch with these energies exists.

    Parameters
    ----------
    problem : Problem
        The problem (capacity sources and their capacity expressions).
    x : numpy.ndarray
        Solution vector. [solver units]
    tolerance : float, default 1e-9
        Allowed excess relative to 1 + the year's mean demand. [-]

    Returns
    -------
    list of ((year, subset, breakpoint), excess)
        The tangent that cuts each violation off, and the excess. [reference
        accelerators]

    References
    ----------
    .. [1] D. Gale, "A theorem on flows in networks," Pacific J. Math., vol. 7,
       no. 2, pp. 1073-1082, 1957, doi:10.2140/pjm.1957.7.1073.
    """
    m = len(problem.capacity_sources)
    if not m:
        return []
    curve = problem.inputs.curve
    masks = subset_masks(m)
    weights = masks.astype(float)
    energy = x[problem.index["energy"]]
    capacity = capacities(problem, x)
    deferred_cols = problem.index["deferred"]
    deferred = (
        x[deferred_cols] if deferred_cols.size else np.zeros(problem.inputs.years)
    )
    # Sets of owned servers only are checked in perspective form, z f(K / z)
    # with the staff switch z, as their tangents are written (cut_rows): the
    # same condition for a whole switch, and for a fractional one (a relaxed
    # solve) the relaxation those rows define, so an LP's optimum does not
    # depend on which tangents earlier solves happened to add.
    staff_cols = problem.index["staff"]
    owned_only = ~masks[:, len(problem.inputs.specs) :].any(axis=1)
    mean = curve.mean
    out = []
    for year in range(problem.inputs.years):
        served = weights @ energy[:, year]
        reach = weights @ capacity[:, year]
        scale = np.ones(len(masks))
        if staff_cols.size:
            scale[owned_only] = max(float(x[staff_cols[year]]), PERSPECTIVE_FLOOR)
        point = curve.breakpoints(year, reach / scale)
        possible = (
            scale * curve.energy_tail[year, point] + curve.share_prefix[point] * reach
        )
        excess = served - deferred[year] - possible
        bad = excess > tolerance * (1.0 + mean[year])
        for index in np.flatnonzero(bad):
            subset = tuple(int(s) for s in np.flatnonzero(masks[index]))
            out.append(((year, subset, int(point[index])), float(excess[index])))
    return out


def with_cuts(problem: Problem, cuts: Sequence[Cut]) -> Problem:
    """The problem with the capacity rows of ``cuts`` appended."""
    first = problem.A.shape[0]
    parts, upper, meta = cut_rows(problem.inputs, problem.index, cuts, first)
    shifted = [(r - first, c, v) for r, c, v in parts]
    extra = sparse_from(shifted, (len(cuts), problem.c.size))
    constraints = pd.concat(
        [problem.constraints, pd.DataFrame(meta)], ignore_index=True
    )
    return dataclasses.replace(
        problem,
        A=sparse.vstack([problem.A, extra], format="csr"),
        row_lb=np.concatenate([problem.row_lb, np.full(upper.size, -np.inf)]),
        row_ub=np.concatenate([problem.row_ub, upper]),
        constraints=constraints,
        cuts=problem.cuts | frozenset(cuts),
    )


@dataclass(frozen=True)
class Extra:
    """Rows and slack columns added to a problem for one solve."""

    rows: sparse.csr_array | None = None
    """Rows over the problem's columns plus the slack columns."""
    rows_lb: FloatArray | None = None
    rows_ub: FloatArray | None = None
    slack: sparse.csr_array | None = None
    """Slack columns over the problem's rows at the time of the call."""
    c: FloatArray | None = None
    """Objective over the problem's columns plus the slack columns."""


def _model(
    problem: Problem, extra: Extra
) -> tuple[
    FloatArray,
    sparse.csr_array,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    IntArray,
]:
    a = problem.A
    k = 0 if extra.slack is None else extra.slack.shape[1]
    if extra.slack is not None:
        pad = sparse.csr_array((a.shape[0] - extra.slack.shape[0], k))
        a = sparse.hstack([a, sparse.vstack([extra.slack, pad])], format="csr")
    lb, ub = problem.row_lb, problem.row_ub
    if extra.rows is not None:
        assert extra.rows_lb is not None
        assert extra.rows_ub is not None
        a = sparse.vstack([a, extra.rows], format="csr")
        lb = np.concatenate([lb, extra.rows_lb])
        ub = np.concatenate([ub, extra.rows_ub])
    c = extra.c if extra.c is not None else np.concatenate([problem.c, np.zeros(k)])
    return (
        c,
        a,
        lb,
        ub,
        np.concatenate([problem.var_lb, np.zeros(k)]),
        np.concatenate([problem.var_ub, np.full(k, np.inf)]),
        np.concatenate([problem.integrality, np.zeros(k, dtype=np.int64)]),
    )


def _extra_rows(extra: Extra) -> int:
    return 0 if extra.rows is None else int(extra.rows.shape[0])


def _extra_cols(extra: Extra) -> int:
    return 0 if extra.slack is None else int(extra.slack.shape[1])


LP_POOL_LIMIT = 1_000
"""Most tangents the LP session keeps that only relaxed solves needed; beyond
this, the next relaxed solve starts from a session rebuilt with the ones
binding at the last optimum. A Pareto sweep's
relaxations visit fractional staff switches and capacities all along the
frontier, so without a limit the LP session grew to 18,000 rows and each LP
round took 20 times longer at the sweep's end than at its start
(``benchmarks/bench_optimise.py``, 2026-12-02). [-]"""


class Generated:
    """A problem solved in kept HiGHS sessions, its generated cuts carried along.

    One LP session and one MIP session (:class:`planner.optimise.highs.Session`)
    hold the problem with the extra rows and columns of a solve. A cut an
    integer plan violates joins the problem and every session; later solves (a
    re-solve after cuts, the next Pareto point) start with it, and the LP
    restarts from its last basis. A cut only a relaxed (LP) solution violated
    stays in the LP session's own pool (:attr:`lp_cuts`), not in the problem:
    such cuts are many (every set of sources a fractional plan overfills), they
    slowed branch-and-cut down more than they tightened it (measured on the
    department example), and past :data:`LP_POOL_LIMIT` the LP session is
    rebuilt with only those binding at its last optimum.
    :meth:`promote_binding` moves the binding ones into the problem. Every
    solution is checked against the exact curve, so a missing cut costs a
    re-solve, never exactness.

    Parameters
    ----------
    problem : Problem
        The built problem (with any cuts generated before).
    extra : Extra, optional
        Rows and slack columns of this solve.
    lp_cuts : sequence of Cut, optional
        Tangents to start the LP session's pool with (another sweep's).
    """

    def __init__(
        self,
        problem: Problem,
        extra: Extra | None = None,
        *,
        lp_cuts: Sequence[Cut] = (),
    ) -> None:
        self.problem = problem
        self.extra = extra or Extra()
        self.lp_cuts: list[Cut] = [
            cut for cut in dict.fromkeys(lp_cuts) if cut not in problem.cuts
        ]
        """Tangents only relaxed solves needed, in the LP session only."""
        self._mip: Session | None = None
        self._mip_pending: list[int] = []
        """Problem rows the MIP session still has to be given."""
        self._lp: Session | None = None
        self._lp_pending: list[int] = []
        """Problem rows the LP session still has to be given."""
        self._lp_row_of_problem: dict[int, int] = {}
        """Problem row -> LP session row."""
        self._lp_row_of_cut: dict[Cut, int] = {}
        """Pooled tangent -> LP session row."""
        self._lp_extra_first = 0
        """LP session row of the first extra row."""
        self._mip_extra_first = 0
        """MIP session row of the first extra row."""
        self._binding_pool: list[Cut] = []
        """Pooled tangents binding at the last LP optimum."""

    # --- sessions ------------------------------------------------------------

    def _new_session(self, relax: bool) -> Session:
        c, a, row_lb, row_ub, var_lb, var_ub, integrality = _model(
            self.problem, self.extra
        )
        options = self.problem.options
        return Session(
            c,
            a,
            row_lb,
            row_ub,
            var_lb,
            var_ub,
            integrality,
            relax=relax,
            time_limit_s=options.time_limit_s,
            mip_rel_gap=options.mip_rel_gap,
            options=None if relax else FLEET_MIP_OPTIONS,
        )

    def _padded(self, rows: sparse.csr_array) -> sparse.csr_array:
        """Rows over the problem's columns, widened by the extra slack columns."""
        k = _extra_cols(self.extra)
        if not k:
            return rows
        return sparse.csr_array(
            sparse.hstack([rows, sparse.csr_array((rows.shape[0], k))], format="csr")
        )

    def _mip_session(self) -> Session:
        if self._mip is None:
            self._mip = self._new_session(relax=False)
            self._mip_extra_first = self.problem.A.shape[0]
            self._mip_pending = []
        elif self._mip_pending:
            rows = self._mip_pending
            self._mip.add_rows(
                self._padded(self.problem.A[rows]),
                self.problem.row_lb[rows],
                self.problem.row_ub[rows],
            )
            self._mip_pending = []
        return self._mip

    def _lp_session(self) -> Session:
        if self._lp is None:
            self._rebuild_lp()
        assert self._lp is not None
        if self._lp_pending:
            rows = self._lp_pending
            first = self._lp.n_rows
            self._lp.add_rows(
                self._padded(self.problem.A[rows]),
                self.problem.row_lb[rows],
                self.problem.row_ub[rows],
            )
            for offset, row in enumerate(rows):
                self._lp_row_of_problem[row] = first + offset
            self._lp_pending = []
        return self._lp

    def _rebuild_lp(self) -> None:
        """A fresh LP session: the problem, the extra rows, the pool's binding part."""
        if self._lp is not None:
            keep = set(self._binding_pool)
            self.lp_cuts = [cut for cut in self.lp_cuts if cut in keep]
        self._lp = self._new_session(relax=True)
        rows = self.problem.A.shape[0]
        self._lp_row_of_problem = {row: row for row in range(rows)}
        self._lp_extra_first = rows
        self._lp_row_of_cut = {}
        self._lp_pending = []
        pool, self.lp_cuts = self.lp_cuts, []
        self._pool(pool)

    def _pool(self, cuts: list[Cut]) -> None:
        """Append tangents to the LP session only."""
        if not cuts:
            return
        assert self._lp is not None
        first = self._lp.n_rows
        parts, upper, _ = cut_rows(self.problem.inputs, self.problem.index, cuts, 0)
        rows = sparse_from(parts, (len(cuts), self.problem.c.size))
        self._lp.add_rows(self._padded(rows), np.full(len(cuts), -np.inf), upper)
        for offset, cut in enumerate(cuts):
            self._lp_row_of_cut[cut] = first + offset
        self.lp_cuts.extend(cuts)

    def _adopt(self, first: int) -> None:
        """Problem rows from ``first`` on are new: give them to every session.

        A tangent the LP session already holds in its pool becomes that
        problem row there instead of a second copy.
        """
        rows = range(first, self.problem.A.shape[0])
        if self._mip is not None:
            self._mip_pending.extend(rows)
        if self._lp is None:
            return
        cuts = self._cut_of_rows(first)
        for row in rows:
            pooled = self._lp_row_of_cut.pop(cuts.get(row), None)  # type: ignore[arg-type]
            if pooled is None:
                self._lp_pending.append(row)
            else:
                self._lp_row_of_problem[row] = pooled
        moved = set(cuts.values())
        self.lp_cuts = [cut for cut in self.lp_cuts if cut not in moved]

    def _cut_of_rows(self, first: int) -> dict[int, Cut]:
        """The capacity tangent of each problem row from ``first`` on."""
        meta = self.problem.constraints.iloc[first:]
        out: dict[int, Cut] = {}
        capacity = meta["group"].to_numpy() == "capacity"
        for row, year, subset, point in zip(
            np.flatnonzero(capacity) + first,
            meta["year"].to_numpy()[capacity],
            meta["subset"].to_numpy()[capacity],
            meta["breakpoint"].to_numpy()[capacity],
            strict=True,
        ):
            members = tuple(int(s) for s in str(subset).split("+"))
            out[int(row)] = (int(year) - 1, members, int(point))
        return out

    # --- bounds and cuts -----------------------------------------------------

    def set_extra_bounds(self, rows_lb: FloatArray, rows_ub: FloatArray) -> None:
        """Change the bounds of the extra rows in every session."""
        self.extra = dataclasses.replace(self.extra, rows_lb=rows_lb, rows_ub=rows_ub)
        for session, first in (
            (self._lp, self._lp_extra_first),
            (self._mip, self._mip_extra_first),
        ):
            if session is not None:
                rows = np.arange(first, first + rows_lb.size, dtype=np.int64)
                session.change_row_bounds(rows, rows_lb, rows_ub)

    def include(self, problem: Problem) -> None:
        """Adopt the cuts another solve of this problem generated.

        ``problem`` is this one with rows appended (from
        :func:`solve_generated`); every session is given the new rows.
        """
        first = self.problem.A.shape[0]
        if problem.A.shape[0] < first:
            msg = "include: the problem has fewer rows than the one it extends"
            raise ValueError(msg)
        self.problem = problem
        self._adopt(first)

    def promote_binding(self, lp: optimize.OptimizeResult) -> int:
        """Move the pooled tangents that bind at an LP optimum into the problem.

        The MIP session gets them (the integer plan near the LP's mostly needs
        them too).

        Parameters
        ----------
        lp : scipy.optimize.OptimizeResult
            The last :meth:`solve` with ``relax=True``.

        Returns
        -------
        int
            Cuts promoted.
        """
        if lp.status != 0 or not self._binding_pool:
            return 0
        cuts = [cut for cut in self._binding_pool if cut in self._lp_row_of_cut]
        self._add_cuts(cuts)
        self._binding_pool = []
        return len(cuts)

    def _add_cuts(self, cuts: list[Cut]) -> None:
        first = self.problem.A.shape[0]
        self.problem = with_cuts(self.problem, cuts)
        self._adopt(first)

    # --- solving -------------------------------------------------------------

    def _generate(
        self, relax: bool, start: FloatArray | None
    ) -> optimize.OptimizeResult:
        n_vars = self.problem.c.size
        for _ in range(MAX_GENERATION_ROUNDS):
            session = self._lp_session() if relax else self._mip_session()
            result = session.run(start)
            if result.x is None:
                return result
            found = capacity_violations(
                self.problem, np.asarray(result.x[:n_vars], dtype=float)
            )
            held = self._lp_row_of_cut if relax else {}
            cuts = [
                cut
                for cut in dict.fromkeys(cut for cut, _ in found)
                if cut not in self.problem.cuts and cut not in held
            ]
            if not cuts:
                return result
            if relax:
                self._pool(cuts)
            else:
                self._add_cuts(cuts)
        msg = "capacity cuts did not converge: the solver keeps violating them"
        raise RuntimeError(msg)

    def solve(
        self, *, relax: bool = False, start: FloatArray | None = None
    ) -> optimize.OptimizeResult:
        """Solve, adding violated capacity cuts and re-solving until none is.

        Parameters
        ----------
        relax : bool, default False
            Solve the LP relaxation (the result then has ``d_ub`` and ``d_lb``,
            d objective / d row bound, in the order problem rows then extra
            rows).
        start : numpy.ndarray, optional
            A plan to start branch-and-cut from (a MIP start).

        Returns
        -------
        scipy.optimize.OptimizeResult
            The last solve's result.
        """
        if relax and len(self.lp_cuts) > LP_POOL_LIMIT:
            # Between solves only: within one, every round's cuts are kept.
            self._rebuild_lp()
        result = self._generate(relax, start)
        if relax:
            rows = self.problem.A.shape[0] + _extra_rows(self.extra)
            d_ub = np.zeros(rows)
            d_lb = np.zeros(rows)
            self._binding_pool = []
            if result.status == 0:
                row_dual = np.asarray(result["row_dual"], dtype=float)
                dual = row_dual[self._lp_canonical_rows()]
                row_lb, row_ub = self._bounds()
                d_ub = np.where(np.isfinite(row_ub) & (dual < 0), dual, 0.0)
                d_lb = np.where(np.isfinite(row_lb) & (dual > 0), dual, 0.0)
                self._binding_pool = [
                    cut
                    for cut, row in self._lp_row_of_cut.items()
                    if row_dual[row] != 0.0
                ]
            result["d_ub"] = d_ub
            result["d_lb"] = d_lb
        return result

    def _lp_canonical_rows(self) -> IntArray:
        """LP session row of each problem row, then of each extra row."""
        problem_rows = [
            self._lp_row_of_problem[row] for row in range(self.problem.A.shape[0])
        ]
        extra = np.arange(
            self._lp_extra_first, self._lp_extra_first + _extra_rows(self.extra)
        )
        return np.concatenate([np.asarray(problem_rows, dtype=np.int64), extra])

    def _bounds(self) -> tuple[FloatArray, FloatArray]:
        lb, ub = self.problem.row_lb, self.problem.row_ub
        if self.extra.rows is not None:
            assert self.extra.rows_lb is not None
            assert self.extra.rows_ub is not None
            lb = np.concatenate([lb, self.extra.rows_lb])
            ub = np.concatenate([ub, self.extra.rows_ub])
        return lb, ub


def solve_generated(
    problem: Problem, extra: Extra | None = None, *, relax: bool = False
) -> tuple[optimize.OptimizeResult, Problem]:
    """Solve, adding violated capacity cuts and re-solving until none is violated.

    Returns the last result and the problem with every generated cut (see
    :class:`Generated`, which keeps its HiGHS sessions for further solves).
    """
    generated = Generated(problem, extra)
    result = generated.solve(relax=relax)
    return result, generated.problem


def solve(problem: Problem) -> optimize.OptimizeResult:
    """Solve a built problem with HiGHS branch-and-cut (the *solve* step).

    Capacity cuts are generated while solving (see :mod:`planner.optimise.build`);
    the problem with every generated cut is returned in the result's ``problem``
    entry, for :func:`planner.optimise.extract.extract`.

    Parameters
    ----------
    problem : Problem
        From :func:`planner.optimise.build.build_problem`.

    Returns
    -------
    scipy.optimize.OptimizeResult
        The raw ``milp`` result: status 0 (optimal), 1 (time limit with a
        feasible plan) or 2 (infeasible, diagnosed by ``extract``), plus
        ``problem``.

    Raises
    ------
    RuntimeError
        If HiGHS fails for any other reason (unbounded, numerical trouble, or a
        time limit without any feasible plan), with the solver's message.
    """
    result, final = solve_generated(problem)
    result["problem"] = final
    if result.status != 2 and result.x is None:
        msg = f"fleet optimisation failed (status {result.status}): {result.message}"
        raise RuntimeError(msg)
    return result


def rounded(problem: Problem, x: FloatArray) -> FloatArray:
    """Integers rounded; every value clipped into its bounds."""
    values = np.asarray(x, dtype=float)[: problem.c.size]
    out: FloatArray = np.clip(values, problem.var_lb, problem.var_ub)
    integer = problem.integrality.astype(bool)
    out[integer] = np.round(out[integer])
    return out


def check_solution(
    problem: Problem, x: FloatArray, *, tolerance: float = FEASIBILITY_TOLERANCE
) -> list[str]:
    """Violations of the rows, bounds, integrality and capacity of ``problem``.

    Parameters
    ----------
    problem : Problem
        The problem.
    x : numpy.ndarray
        Candidate solution. [solver units]
    tolerance : float, default 1e-6
        Allowed violation relative to the row's magnitude ``|A| |x|`` (or the
        bound), at least absolute. [-]

    Returns
    -------
    list of str
        One line per violated row, bound, integrality or capacity set; empty if
        feasible.
    """
    problems = []
    activity = problem.A @ x
    magnitude = 1.0 + abs(problem.A) @ np.abs(x)
    low = problem.row_lb - activity > tolerance * magnitude
    high = activity - problem.row_ub > tolerance * magnitude
    for row in np.flatnonzero(low | high):
        meta = problem.constraints.iloc[row]
        problems.append(
            f"row {row} ({meta['group']}, year {meta.get('year')}): activity "
            f"{activity[row]:.9g} outside [{problem.row_lb[row]:.9g}, "
            f"{problem.row_ub[row]:.9g}]"
        )
    scale = 1.0 + np.abs(x)
    bad = (problem.var_lb - x > tolerance * scale) | (
        x - problem.var_ub > tolerance * scale
    )
    for col in np.flatnonzero(bad):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            f"outside [{problem.var_lb[col]:.9g}, {problem.var_ub[col]:.9g}]"
        )
    integer = problem.integrality.astype(bool)
    fractional = integer & (np.abs(x - np.round(x)) > 1e-5)
    for col in np.flatnonzero(fractional):
        problems.append(
            f"variable {col} ({problem.variables.iloc[col]['kind']}) = {x[col]:.9g} "
            "is not integer"
        )
    for (year, subset, _), excess in capacity_violations(
        problem, x, tolerance=tolerance * 10
    ):
        names = [problem.capacity_sources[s] for s in subset]
        problems.append(
            f"capacity of {names} in year {year + 1} exceeded by {excess:.6g} "
            "reference accelerators"
        )
    return problems
