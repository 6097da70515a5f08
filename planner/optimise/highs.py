"""HiGHS kept loaded between solves: rows appended, bounds changed, warm restarts.

``scipy.optimize.milp`` and ``linprog`` pass the whole model to HiGHS on every
call and keep nothing between calls. A :class:`Session` holds one model in a
``highspy`` instance [1]_ instead: capacity cuts are appended as rows, a Pareto
cap is a row bound changed in place, and the dual simplex restarts from the
previous basis (a hot start), so a re-solve after a few new rows costs a few
pivots. A MIP session accepts a starting plan (a MIP start); HiGHS keeps it as
the incumbent when it is feasible and ignores it otherwise.

Every session runs HiGHS single-threaded (:data:`SOLVER_THREADS`): on the
optimiser's models its second thread did not shorten a solve (measured on the
department example, ``benchmarks/bench_optimise.py``), and a process whose HiGHS
has started no worker threads can be forked safely, which the Pareto sweep's
parallel points rely on (:mod:`planner.optimise.pareto`).

References
----------
.. [1] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex
   method," Math. Program. Comput., vol. 10, pp. 119-142, 2018,
   doi:10.1007/s12532-017-0130-5.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from highspy import _core as highs_core
from scipy import optimize, sparse

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SOLVER_THREADS = 1
"""HiGHS threads per session: one (measured no slower on these models; keeps a
process fork-safe for the parallel Pareto points). [-]"""

MIP_SUB_MIP_HEURISTICS = False
"""Run HiGHS' RINS and RENS sub-MIP heuristics: off. On the department example
they took 60 % of a Pareto point's branch-and-cut time to find plans the
search found anyway (a point's time fell by about a third without them,
``benchmarks/bench_optimise.py``); the gap is still closed to
``mip_rel_gap``. [-]"""

MIP_ALLOW_RESTART = False
"""Let HiGHS restart branch-and-cut after its root fixes many integers: off.
On the department example's Pareto points each restart re-ran the root's cut
separation for little gain; without restarts the sweep's branch-and-cut time
fell by about a third (``benchmarks/bench_optimise.py``, 2026-12-02). [-]"""

MIP_PSCOST_MIN_RELIABLE = 0
"""Branchings a variable needs before HiGHS trusts its pseudocost instead of
strong branching: none (HiGHS's default is 8). The optimiser's integers are
few and coarse (a server is tens of reference accelerators), and strong
branching on each was much of the slowest Pareto points' time; with this and
:data:`MIP_FEASIBILITY_JUMP` off, the department sweep's 16 branch-and-cut
solves, replayed on the same models, took 3.0 s instead of 3.95 s
(2026-12-02). [-]"""

MIP_FEASIBILITY_JUMP = False
"""Run HiGHS's feasibility-jump heuristic before the root: off. The Pareto
points start from a feasible plan (a MIP start), and the sweep's solves were
faster without it: 3.5 s instead of 3.95 s alone, and the 3.0 s above together
with :data:`MIP_PSCOST_MIN_RELIABLE`. [-]"""

FLEET_MIP_OPTIONS: Mapping[str, bool | int | float | str] = {
    "mip_pscost_minreliable": MIP_PSCOST_MIN_RELIABLE,
    "mip_heuristic_run_feasibility_jump": MIP_FEASIBILITY_JUMP,
}
"""The two settings above, for the fleet problem's own branch-and-cut
(:class:`planner.optimise.solve.Generated`) only: the robust plan's joint model
of 50 futures (:mod:`planner.uncertainty.robust`) took 4.4 s longer with them
(22.2 s against 17.8 s to value its plans, 2026-12-02). [-]"""

GAP_ROUND_OFF = 1e-12
"""Relative gaps below this are round-off of a closed gap, reported as 0. [-]"""

_STATUS = {
    highs_core.HighsModelStatus.kOptimal: 0,
    highs_core.HighsModelStatus.kTimeLimit: 1,
    highs_core.HighsModelStatus.kIterationLimit: 1,
    highs_core.HighsModelStatus.kSolutionLimit: 1,
    highs_core.HighsModelStatus.kInterrupt: 1,
    highs_core.HighsModelStatus.kInfeasible: 2,
    highs_core.HighsModelStatus.kUnbounded: 3,
    highs_core.HighsModelStatus.kUnboundedOrInfeasible: 2,
}
"""HiGHS model status -> scipy ``milp`` status (0 optimal, 1 limit, 2 infeasible,
3 unbounded, 4 other)."""


def _infinite(values: FloatArray) -> FloatArray:
    return np.asarray(
        np.clip(values, -highs_core.kHighsInf, highs_core.kHighsInf), dtype=float
    )


class Session:
    """One model loaded into HiGHS, re-solved after changes.

    Parameters
    ----------
    c : numpy.ndarray
        Objective. [solver units]
    a : scipy.sparse.csr_array
        Constraint matrix.
    row_lb, row_ub : numpy.ndarray
        Row bounds (``-inf``/``inf`` for none).
    var_lb, var_ub : numpy.ndarray
        Column bounds.
    integrality : numpy.ndarray
        1 for integer columns (ignored with ``relax``).
    relax : bool
        Solve the LP relaxation (with row duals) instead of the MILP.
    time_limit_s : float
        Time limit of each run. [s]
    mip_rel_gap : float
        Relative gap at which branch-and-cut stops. [-]
    options : mapping, optional
        Further HiGHS options (name to value), set after the defaults.
    """

    def __init__(
        self,
        c: FloatArray,
        a: sparse.csr_array,
        row_lb: FloatArray,
        row_ub: FloatArray,
        var_lb: FloatArray,
        var_ub: FloatArray,
        integrality: IntArray,
        *,
        relax: bool,
        time_limit_s: float,
        mip_rel_gap: float,
        options: Mapping[str, bool | int | float | str] | None = None,
    ) -> None:
        # The core class: highspy's Python wrapper prints a banner on stdout when
        # it installs its callbacks, before any option can switch output off.
        self.highs = highs_core._Highs()
        for name, value in (
            ("output_flag", False),
            ("threads", SOLVER_THREADS),
            ("time_limit", float(time_limit_s)),
            ("mip_rel_gap", float(mip_rel_gap)),
            ("mip_heuristic_run_rins", MIP_SUB_MIP_HEURISTICS),
            ("mip_heuristic_run_rens", MIP_SUB_MIP_HEURISTICS),
            ("mip_allow_restart", MIP_ALLOW_RESTART),
            *(options or {}).items(),
        ):
            self.highs.setOptionValue(name, value)
        self.relax = relax
        self.n_cols = int(c.size)
        self.n_rows = int(a.shape[0])
        lp = highs_core.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = np.asarray(c, dtype=float)
        lp.col_lower_ = _infinite(var_lb)
        lp.col_upper_ = _infinite(var_ub)
        lp.row_lower_ = _infinite(row_lb)
        lp.row_upper_ = _infinite(row_ub)
        csc = sparse.csc_array(a)
        lp.a_matrix_.format_ = highs_core.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        if not relax and np.any(integrality):
            lp.integrality_ = [
                highs_core.HighsVarType.kInteger
                if flag
                else highs_core.HighsVarType.kContinuous
                for flag in integrality
            ]
        self.highs.passModel(lp)

    def add_rows(self, a: sparse.csr_array, lb: FloatArray, ub: FloatArray) -> None:
        """Append rows over the session's columns (kept for every later run)."""
        if not a.shape[0]:
            return
        rows = sparse.csr_array(a)
        self.highs.addRows(
            int(rows.shape[0]),
            _infinite(lb),
            _infinite(ub),
            int(rows.nnz),
            rows.indptr[:-1].astype(np.int32),
            rows.indices.astype(np.int32),
            rows.data.astype(float),
        )
        self.n_rows += int(rows.shape[0])

    def change_row_bounds(self, rows: IntArray, lb: FloatArray, ub: FloatArray) -> None:
        """Set the bounds of some rows (session row numbers)."""
        for row, low, high in zip(rows, _infinite(lb), _infinite(ub), strict=True):
            self.highs.changeRowBounds(int(row), float(low), float(high))

    def change_cost(self, c: FloatArray) -> None:
        """Replace the objective."""
        self.highs.changeColsCost(
            self.n_cols,
            np.arange(self.n_cols, dtype=np.int32),
            np.asarray(c, dtype=float),
        )

    def run(self, start: FloatArray | None = None) -> optimize.OptimizeResult:
        """Solve from where the last run left off; a result shaped like scipy's.

        Parameters
        ----------
        start : numpy.ndarray, optional
            A plan to start branch-and-cut from (MIP only; ignored by HiGHS if
            infeasible).

        Returns
        -------
        scipy.optimize.OptimizeResult
            ``status`` (0 optimal, 1 limit with a plan, 2 infeasible, 3
            unbounded, 4 other), ``x`` (None without a plan), ``fun``,
            ``message``; a MIP adds ``mip_gap``, ``mip_dual_bound`` and
            ``mip_node_count``; an LP adds ``row_dual`` (d objective / d row
            bound of the active bound) in session row order.
        """
        highs = self.highs
        if start is not None and not self.relax:
            solution = highs_core.HighsSolution()
            solution.col_value = np.asarray(start, dtype=float)[: self.n_cols]
            solution.value_valid = True
            highs.setSolution(solution)
        highs.run()
        model_status = highs.getModelStatus()
        info = highs.getInfo()
        status = _STATUS.get(model_status, 4)
        has_plan = info.primal_solution_status == highs_core.kSolutionStatusFeasible
        solution = highs.getSolution()
        x = np.asarray(solution.col_value, dtype=float) if has_plan else None
        if status == 1 and x is None:
            status = 4
        result = optimize.OptimizeResult()
        result["status"] = status
        result["success"] = status == 0
        result["x"] = x
        result["fun"] = float(info.objective_function_value) if x is not None else None
        result["message"] = highs.modelStatusToString(model_status)
        if self.relax:
            if status == 0:
                result["row_dual"] = np.asarray(solution.row_dual, dtype=float)
        else:
            gap = float(info.mip_gap) if x is not None else np.inf
            # HiGHS reports round-off of a closed gap (1e-16) as a gap.
            result["mip_gap"] = 0.0 if gap < GAP_ROUND_OFF else gap
            result["mip_dual_bound"] = float(info.mip_dual_bound)
            result["mip_node_count"] = int(info.mip_node_count)
        return result
