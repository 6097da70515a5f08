"""The optimiser is exact: against an hourly formulation, brute force and itself.

Issue 13: the load-duration tangents with generated cuts must give the optimum of
the model with one dispatch variable per hour and source (to 1e-9), a block
approximation must say how far it can be off, a weighted sample must stand for
the year it represents, and the annuity view, unserved work and the accelerator
caps must do what they say.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import optimize

from planner import optimise as opt
from planner.optimise.build import build_problem
from planner.optimise.extract import extract
from planner.optimise.hourly import hourly_model, solve_hourly
from planner.optimise.inputs import annuity_flows
from planner.optimise.solve import Generated, solve, with_cuts
from planner.resolve import DemandProfile, resolve
from planner.scenario import load_preset, replace, scenario_from_dict
from pricing.finance import capital_recovery_factor

EXACT = 1e-9
"""Relative agreement of two exact optima (issue 13's target)."""


@pytest.fixture(scope="module")
def grant():
    return load_preset("grant")


def weighted(scenario, levels, hours=None):
    """The scenario resolved with its demand replaced by weighted points."""
    levels = np.atleast_2d(np.asarray(levels, dtype=float))
    points = levels.shape[1]
    hours = np.full(points, 8760.0 / points) if hours is None else hours
    resolved = resolve(scenario)
    profile = DemandProfile(levels=levels, hours=np.asarray(hours, dtype=float))
    return dataclasses.replace(resolved, demand=profile)


def plan_of(scenario, options, resolved):
    problem = build_problem(scenario, options, resolved=resolved)
    return problem, extract(problem, solve(problem))


# --- exact against the hourly formulation ----------------------------------------


CASES = [
    # (seed, years, points, specs, terms, spot, delay cost)
    (1, 1, 48, ("8xA100-80GB",), (1,), False, None),
    (2, 2, 30, ("8xA100-80GB", "4xL40S"), (1,), False, 0.4),
    (3, 2, 40, ("4xL40S",), (), True, None),
    (4, 1, 60, ("8xA100-80GB", "4xL40S"), (1,), True, 0.2),
    (5, 2, 24, ("8xA100-80GB",), (1,), False, 0.0),
    (6, 1, 36, ("8xA100-80GB", "4xL40S"), (), False, None),
]


@pytest.mark.parametrize(
    ("seed", "years", "points", "specs", "terms", "spot", "delay"), CASES
)
def test_exact_curve_equals_hourly_dispatch_on_random_years(
    grant, seed, years, points, specs, terms, spot, delay
):
    rng = np.random.default_rng(seed)
    scenario = replace(
        grant,
        horizon_years=years,
        service={"delay_usd_per_reference_hour": delay},
    )
    base = np.round(rng.gamma(2.0, 5.0, size=points))
    levels = np.vstack([base * (1.0 + 0.2 * year) for year in range(years)])
    resolved = weighted(scenario, levels)
    options = opt.OptimiseOptions(
        server_specs=specs, commitment_terms=terms, allow_spot=spot
    )
    problem, plan = plan_of(scenario, options, resolved)
    hourly, _ = solve_hourly(hourly_model(problem, levels, resolved.demand.hours))
    assert plan.objective_usd == pytest.approx(hourly, rel=EXACT)
    # The tangent model is far smaller than the hourly one.
    assert (
        problem.A.shape[0]
        < hourly_model(problem, levels, resolved.demand.hours).shape[0]
    )


def test_exact_curve_equals_hourly_dispatch_on_unequal_weights(grant):
    # Snapshots standing for different numbers of hours (a peak hour, a busy
    # week, a quiet rest), in no particular order.
    scenario = replace(grant, horizon_years=1)
    levels = np.array([[3.0, 30.0, 12.0, 0.0, 18.0, 7.0]])
    hours = np.array([4000.0, 1.0, 168.0, 1591.0, 1000.0, 2000.0])
    resolved = weighted(scenario, levels, hours)
    options = opt.OptimiseOptions(server_specs=("8xA100-80GB",), commitment_terms=(1,))
    problem, plan = plan_of(scenario, options, resolved)
    hourly, _ = solve_hourly(hourly_model(problem, levels, hours))
    assert plan.objective_usd == pytest.approx(hourly, rel=EXACT)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_exact_curve_equals_brute_force_on_tiny_years(grant, seed):
    rng = np.random.default_rng(seed)
    scenario = replace(grant, horizon_years=1)
    levels = np.round(rng.uniform(0.0, 20.0, size=(1, 8)))
    resolved = weighted(scenario, levels)
    options = opt.OptimiseOptions(
        server_specs=("8xA100-80GB", "4xL40S"),
        cloud_offers=("AWS p4de on-demand",),
        commitment_terms=(1,),
    )
    _, plan = plan_of(scenario, options, resolved)
    oracle = opt.brute_force_plan(scenario, options, resolved=resolved)
    assert oracle.combinations > 10
    assert plan.objective_usd == pytest.approx(oracle.objective_usd, rel=EXACT)


# --- blocks: an approximation with its bound ---------------------------------------


def test_blocks_report_a_bound_the_exact_optimum_lies_in(grant):
    scenario = replace(grant, horizon_years=2)
    options = opt.OptimiseOptions(server_specs=("8xA100-80GB",), commitment_terms=(1,))
    exact = opt.optimise(scenario, options)
    assert exact.block_error_bound_usd is None
    block = opt.optimise(scenario, replace(options, blocks_per_year=4))
    bound = block.block_error_bound_usd
    assert bound is not None
    assert bound >= 0.0
    # The block objective is a lower bound, the plan dispatched hourly an upper.
    assert block.objective_usd <= exact.objective_usd * (1 + EXACT)
    assert exact.objective_usd <= (block.objective_usd + bound) * (1 + EXACT)
    hourly = opt.evaluate_plan(scenario, block, hourly=True)
    assert hourly.objective_usd == pytest.approx(block.objective_usd + bound, rel=EXACT)
    assert "of the exact optimum" in block.summary
    assert block.as_json()["block_error_bound_usd"] == bound


# --- a weighted sample stands for its year ----------------------------------------


def one_job_per_hour(path, gpus):
    """A generic CSV log: a job of ``gpus[h]`` GPUs in each hour ``h``."""
    rows = ["job_id,start,end,gpus"]
    start = np.datetime64("2025-03-03T00:00")
    for hour, count in enumerate(gpus):
        if count > 0:
            begin = start + np.timedelta64(hour, "h")
            end = begin + np.timedelta64(1, "h")
            rows.append(f"j{hour},{begin}:00,{end}:00,{int(count)}")
    path.write_text("\n".join(rows) + "\n")
    return path


def logged(tmp_path, gpus):
    log = one_job_per_hour(tmp_path / "log.csv", gpus)
    return scenario_from_dict(
        {
            "name": "logged",
            "horizon_years": 2,
            "demand": {"joblog": {"path": str(log), "kind": "csv"}},
            "site": {"electricity_usd_per_kwh": 0.12, "grid_co2e_g_per_kwh": 350.0},
            "strategies": [
                {
                    "kind": "cloud",
                    "name": "rent",
                    "accelerator_model": "A100-80GB-SXM4",
                    "usd_per_accelerator_hour": 2.5,
                    "accelerators_per_instance": 8,
                },
                {
                    "kind": "onprem",
                    "name": "own",
                    "server": "8xA100-80GB",
                    "servers": 1,
                },
            ],
        }
    )


def test_a_weighted_day_stands_for_the_year_it_tiles_exactly(tmp_path):
    # 8760 = 365 x 24: the tiled year is the day 365 times, so the day's 24
    # snapshots weighted 365 h each give the same optimum.
    rng = np.random.default_rng(7)
    day = np.concatenate([[9], rng.integers(0, 30, size=22), [4]])
    scenario = logged(tmp_path, day)
    tiled = opt.optimise(scenario, opt.OptimiseOptions(commitment_terms=(1,)))
    sample = opt.OptimiseOptions(commitment_terms=(1,), demand_sample="weighted")
    weighted_plan = opt.optimise(scenario, sample)
    assert weighted_plan.objective_usd == pytest.approx(tiled.objective_usd, rel=EXACT)
    assert any("24 hours weighted 365 h" in note for note in weighted_plan.notes)
    problem = build_problem(scenario, sample)
    assert problem.inputs.curve.levels.shape[1] == 24


def test_a_weighted_week_is_exact_where_tiling_is_not(tmp_path):
    # 8760 / 168 = 52.14 weeks: tiling keeps 52 weeks and one Monday, weights
    # keep the week's own distribution.
    rng = np.random.default_rng(8)
    week = np.concatenate([[25], rng.integers(0, 12, size=166), [3]])
    scenario = logged(tmp_path, week)
    sample = opt.OptimiseOptions(commitment_terms=(1,), demand_sample="weighted")
    problem = build_problem(scenario, sample)
    hours = problem.inputs.resolved.demand.hours
    np.testing.assert_allclose(hours, 8760.0 / 168.0, rtol=1e-15)
    assert problem.inputs.resolved.demand.yearly_reference_hours[0] == pytest.approx(
        resolve(scenario).demand.yearly_reference_hours[0], rel=1e-12
    )
    plan = extract(problem, solve(problem))
    levels = np.asarray(problem.inputs.resolved.demand.levels)
    hourly, _ = solve_hourly(hourly_model(problem, levels, hours))
    assert plan.objective_usd == pytest.approx(hourly, rel=EXACT)
    tiled = opt.optimise(scenario, opt.OptimiseOptions(commitment_terms=(1,)))
    assert tiled.objective_usd != pytest.approx(plan.objective_usd, rel=EXACT)


# --- the annuity view of capex -----------------------------------------------------


def test_annuity_of_a_server_inside_the_horizon_has_the_lumps_present_value(grant):
    scenario = replace(grant, horizon_years=8)
    problem = build_problem(
        scenario, opt.OptimiseOptions(server_specs=("8xA100-80GB",))
    )
    spec = problem.inputs.specs[0]
    rate = scenario.real_discount_rate
    life = spec.ops.lifetime_years
    discount = problem.inputs.discount
    flows = spec.vintages[0]
    annual = annuity_flows(flows, 0, life, rate)
    capex = next(line for line in flows.lines if line.category == "capex")
    paid = next(line for line in annual.lines if line.category == "capex")
    assert paid.cost_usd @ discount == pytest.approx(
        capex.cost_usd @ discount, rel=1e-12
    )
    crf = capital_recovery_factor(rate, life)
    np.testing.assert_allclose(paid.cost_usd[1 : life + 1], crf * capex.cost_usd[0])
    assert not any(line.category == "salvage" for line in annual.lines)
    # A late vintage pays only for its years inside the horizon.
    late = annuity_flows(spec.vintages[6], 6, life, rate)
    late_paid = next(line for line in late.lines if line.category == "capex")
    assert np.count_nonzero(late_paid.cost_usd) == 2


def test_annuity_view_is_an_option_and_reported():
    scenario = load_preset("department")
    options = opt.OptimiseOptions(server_specs=("8xB200",), commitment_terms=(1, 3))
    cash = opt.optimise(scenario, options)
    annual = opt.optimise(scenario, replace(options, capex_view="annuity"))
    assert cash.capex_view == "cash_flow"
    assert annual.capex_view == "annuity"
    assert "annuities" in annual.summary
    assert annual.as_json()["capex_view"] == "annuity"
    assert not annual.purchases.empty
    costs = annual.costs
    capex = costs[costs["category"] == "capex"].groupby("year")["cost_usd"].sum()
    first = int(annual.purchases["year"].min())
    assert capex.loc[first] == 0.0  # nothing paid when bought: paid while serving
    assert capex.loc[first + 1] > 0.0
    assert costs.loc[costs["category"] == "salvage", "cost_usd"].eq(0).all()


# --- unserved work at a penalty; caps on owned and committed accelerators ----------


def test_unserved_work_is_paid_at_its_penalty(grant):
    scenario = replace(
        grant, horizon_years=2, service={"unserved_usd_per_reference_hour": 0.5}
    )
    options = opt.OptimiseOptions(server_specs=(), allow_cloud=False)
    plan = opt.optimise(scenario, options)
    demand = resolve(scenario).demand.yearly_reference_hours
    unserved = plan.served[plan.served["source"] == "unserved"]
    np.testing.assert_allclose(unserved["reference_hours"].to_numpy(), demand)
    discount = resolve(scenario).discount[1:]
    # The tie-break (serve when equal) adds a millionth of a dollar an hour.
    assert plan.npv_usd == pytest.approx(0.5 * float(demand @ discount), rel=1e-5)
    assert "unserved" in plan.summary
    with pytest.raises(opt.InfeasiblePlanError):
        opt.optimise(scenario, replace(options, allow_unserved=False))


def owned_per_year(plan, lifetime, years):
    """Owned accelerators active in each running year of a plan."""
    active = np.zeros(years)
    for row in plan.purchases.to_dict("records"):
        bought = int(row["year"])
        active[bought : bought + lifetime] += 8 * row["servers"]
    return active


def committed_per_year(plan, years):
    active = np.zeros(years)
    for row in plan.commitments.to_dict("records"):
        start = int(row["start_year"])
        active[start : start + int(row["term_years"])] += row["accelerators"]
    return active


def test_caps_on_owned_and_committed_accelerators_hold():
    scenario = load_preset("department")
    n = scenario.horizon_years
    options = opt.OptimiseOptions(server_specs=("8xB200",), commitment_terms=(1, 3))
    free = opt.optimise(scenario, options)
    lifetime = build_problem(scenario, options).inputs.specs[0].ops.lifetime_years
    assert owned_per_year(free, lifetime, n).max() > 8
    assert committed_per_year(free, n).max() > 0
    owned = opt.optimise(scenario, replace(options, max_owned_accelerators=8))
    assert owned_per_year(owned, lifetime, n).max() <= 8
    assert owned.objective_usd > free.objective_usd
    assert "max_owned_accelerators" in set(owned.binding["constraint"])
    committed = opt.optimise(scenario, replace(options, max_committed_accelerators=0))
    assert committed.commitments.empty
    assert committed.objective_usd > free.objective_usd


# --- the relaxation the generated tangents stand for ---------------------------


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_generated_relaxation_equals_every_tangent_written(grant, seed):
    # The LP relaxation solved by generating tangents is the one with every
    # tangent of every set of sources at every breakpoint written out (the
    # staff switch in perspective form on sets of owned servers), whatever was
    # generated before. Checking the generated solution against the plain curve
    # only (switch taken as 1) used to stop short of it, so a Pareto point's
    # carbon price depended on which tangents earlier points had added.
    rng = np.random.default_rng(seed)
    scenario = replace(grant, horizon_years=2)
    base = np.round(rng.gamma(2.0, 6.0, size=150), 1)
    levels = np.vstack([base, base * 1.3])
    resolved = weighted(scenario, levels)
    options = opt.OptimiseOptions(
        server_specs=("8xA100-80GB", "4xL40S"), commitment_terms=(1,)
    )
    problem = build_problem(scenario, options, resolved=resolved)
    sources = len(problem.capacity_sources)
    subsets = [
        tuple(s for s in range(sources) if code >> s & 1)
        for code in range(1, 2**sources)
    ]
    points = problem.inputs.curve.levels.shape[1]
    every = [
        (year, subset, point)
        for year in range(problem.inputs.years)
        for subset in subsets
        for point in range(points + 1)
        if (year, subset, point) not in problem.cuts
    ]
    full = with_cuts(problem, every)
    written = optimize.milp(
        full.c,
        constraints=optimize.LinearConstraint(full.A, full.row_lb, full.row_ub),
        bounds=optimize.Bounds(full.var_lb, full.var_ub),
    )
    assert written.status == 0
    generated = Generated(problem).solve(relax=True)
    assert generated.fun == pytest.approx(written.fun, rel=EXACT)
    # Staff is fractional at the relaxed optimum, where the two forms differ.
    staff = generated.x[problem.index["staff"]]
    assert ((staff > 1e-6) & (staff < 1 - 1e-6)).any()
