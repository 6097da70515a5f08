"""Fleet optimiser: independent oracles, limits, infeasibility and the frontier.

Oracles (issue 5, item 4): the screening-curve size on a single continuous year
(methods notes 1.3); the engine's own evaluation of an equivalent hybrid strategy
(exact on the hourly load-duration curve); engine-evaluated all-cloud, all-owned
and hybrid sizes on a grid; exhaustive enumeration on tiny instances; and, for
every plan, a re-evaluation with the engine's ledgers plus a check of every row
and bound (scipy issue #22812).
"""

import json
import math
import re
from importlib import resources

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from planner import breakeven, demand, tco
from planner import optimise as opt
from planner.optimise.build import (
    KG_PER_SOLVER_UNIT,
    USD_PER_SOLVER_UNIT,
    build_problem,
)
from planner.optimise.inputs import block_curve
from planner.optimise.solve import Extra, Generated
from planner.resolve import resolve
from planner.scenario import (
    HybridStrategy,
    OnPremStrategy,
    replace,
    scenario_from_dict,
    scenario_from_yaml,
)
from pricing.units import HOURS_PER_YEAR
from tests.planner.conftest import owned_and_cloud, screening_scenario

EXACT = 1e-9
"""Solver objective against its own re-evaluation: the same flows summed in
another order, so only floating-point rounding separates them."""

SOLVER = 1e-7
"""Two solves or a solve against the engine's hourly dispatch: HiGHS' primal
feasibility tolerance (1e-7) bounds the difference."""

TIE = 1e-8
"""Two plans whose costs tie up to the serve-on-tie tie-break (a millionth of a
dollar per reference hour, planner.costing.SERVE_ON_TIE_USD_PER_REFERENCE_HOUR)."""

TIGHT_GAP = 1e-9
"""mip_rel_gap for comparisons with enumeration: the optimum, not within 0.01 %."""


def preset(name):
    text = resources.files("planner").joinpath(f"presets/{name}.yaml").read_text()
    return scenario_from_yaml(text)


@pytest.fixture(scope="module")
def department():
    return preset("department")


@pytest.fixture(scope="module")
def grant():
    return preset("grant")


def small_department(department, horizon=3):
    """AWS p5 on demand and owned 8xH100 only, over a short horizon."""
    by_name = {s.name: s for s in department.strategies}
    keep = [
        by_name["AWS p5 on-demand"],
        by_name["Buy 8xH100 servers (sized to the demand)"],
    ]
    return replace(department, horizon_years=horizon, strategies=keep)


def solve_checked(scenario, options):
    """Build, solve, extract; then check the plan against the problem and engine."""
    problem = opt.build_problem(scenario, options)
    result = opt.solve(problem)
    plan = opt.extract(problem, result)
    final = result["problem"]
    # Every row and bound holds (scipy issue #22812), checked here directly.
    x = plan.solution
    activity = final.A @ x
    slack = 1e-6 * (1 + abs(final.A) @ np.abs(x))
    assert np.all(activity >= final.row_lb - slack)
    assert np.all(activity <= final.row_ub + slack)
    assert np.all(x >= final.var_lb - 1e-9)
    assert np.all(x <= final.var_ub + 1e-9)
    assert opt.check_solution(final, x) == []
    # The solver's objective is what the plan reports.
    # ... plus the serve-on-tie tie-break on unserved work, discounted.
    unserved = x[final.index["unserved"]]
    discount = final.inputs.discount[1 : unserved.size + 1]
    tie_break = float(unserved @ discount) * 8760 * 1e-6
    assert float(final.c @ x) * USD_PER_SOLVER_UNIT == pytest.approx(
        plan.objective_usd + tie_break, rel=EXACT
    )
    # Re-evaluated with the engine's ledgers, the plan costs the same.
    evaluation = opt.evaluate_plan(scenario, plan)
    assert evaluation.objective_usd == pytest.approx(plan.objective_usd, rel=EXACT)
    assert evaluation.npv_usd == pytest.approx(plan.npv_usd, rel=EXACT)
    assert evaluation.co2e_kg == pytest.approx(plan.co2e_kg, rel=EXACT)
    # Every reference hour of demand is served by some source, or unserved.
    demand_hours = tco.scenario_demand(scenario).levels.sum()
    assert plan.served["reference_hours"].sum() == pytest.approx(
        demand_hours, rel=SOLVER
    )
    return plan


# --- oracles -----------------------------------------------------------------------


def test_optimise_plan_is_feasible_and_costs_what_the_solver_says(department):
    options = opt.OptimiseOptions(server_specs=("8xH100-SXM", "8xB200"))
    plan = solve_checked(department, options)
    assert plan.status == "optimal"
    assert plan.mip_gap <= options.mip_rel_gap
    # The ledger-based NPV is the numpy-financial NPV of the yearly cash flows:
    # every flow discounted exactly once, at the time it is paid.
    flows = plan.costs_by_year.sort_values("year")["cost_usd"].to_numpy()
    assert plan.npv_usd == pytest.approx(
        npf.npv(department.real_discount_rate, flows), rel=EXACT
    )


def test_optimise_matches_screening_curve_on_a_single_continuous_year():
    # Methods notes 1.3: with one year, continuous sizes and only on-demand cloud,
    # the owned capacity is the load exceeded in the break-even share of hours.
    base = screening_scenario(rate=0.05, lifetime=1, demand_hours=120_000.0)
    shaped = replace(
        base.demand, shape={"kind": "synthetic", "peak_to_mean": 2.5, "seed": 3}
    )
    scenario = replace(base, demand=shaped)
    resolved, onprem, cloud = owned_and_cloud(scenario)
    share, status = breakeven.break_even_utilisation(
        resolved, onprem, cloud, view="institution"
    )
    assert status == "crosses"
    options = opt.OptimiseOptions(
        continuous=True, commitment_terms=(), allow_spot=False
    )
    plan = solve_checked(scenario, options)
    spec = opt.build_problem(scenario, options).inputs.specs[0]
    owned = float(plan.purchases["servers"].sum()) * spec.capacity_per_server
    hourly = tco.scenario_demand(scenario).levels[0]
    expected = demand.level_exceeded(hourly, share)
    # The LP may stop anywhere on the hour-long LDC step that holds the quantile.
    ldc = demand.load_duration_curve(hourly)
    hour = int(share * hourly.size)
    low, high = ldc[min(hour + 1, ldc.size - 1)], ldc[max(hour - 2, 0)]
    assert low - 1e-6 <= owned <= high + 1e-6
    assert owned == pytest.approx(expected, rel=1e-3)


def test_optimise_equals_engine_hybrid_on_the_hourly_curve(department):
    # The exact curve is the hourly demand itself; the optimum (servers bought
    # in year 0, on-demand overflow) is a hybrid strategy the engine evaluates.
    scenario = small_department(department, horizon=1)
    options = opt.OptimiseOptions(allow_spot=False, commitment_terms=())
    plan = solve_checked(scenario, options)
    servers = int(plan.purchases["servers"].sum())
    assert servers >= 1
    template = scenario.strategies[1]
    cloud = scenario.strategies[0]
    hybrid = HybridStrategy.model_validate(
        template.model_dump()
        | {"kind": "hybrid", "name": "plan", "servers": servers, "burst": cloud}
    )
    engine = tco.evaluate(replace(scenario, strategies=[cloud, hybrid]))
    row = engine.summary.set_index("strategy").loc["plan"]
    assert row["npv_usd"] == pytest.approx(plan.npv_usd, rel=SOLVER)
    assert row["co2e_kg"] == pytest.approx(plan.co2e_kg, rel=SOLVER)
    hourly = opt.evaluate_plan(scenario, plan, hourly=True)
    assert hourly.npv_usd == pytest.approx(plan.npv_usd, rel=SOLVER)


def test_optimise_never_worse_than_engine_grid(department):
    scenario = small_department(department, horizon=3)
    # Free deferral within the year: the engine's "wait" for owned clusters.
    scenario = replace(scenario, service={"delay_usd_per_reference_hour": 0.0})
    options = opt.OptimiseOptions(allow_spot=False, commitment_terms=())
    plan = solve_checked(scenario, options)
    template = scenario.strategies[1]
    cloud = scenario.strategies[0]
    grid = [cloud]
    for servers in range(1, 9):
        fields = template.model_dump() | {"servers": servers, "refresh": True}
        grid.append(OnPremStrategy.model_validate(fields | {"name": f"own {servers}"}))
        grid.append(
            HybridStrategy.model_validate(
                fields | {"kind": "hybrid", "name": f"hybrid {servers}", "burst": cloud}
            )
        )
    summary = pd.concat(
        tco.evaluate(replace(scenario, strategies=grid[i : i + 10])).summary
        for i in range(0, len(grid), 10)
    )
    served = summary[summary["unserved_reference_hours"] <= 1e-6]
    assert len(served) >= 10  # cloud, every hybrid, and owned clusters large enough
    best = float(served["npv_usd"].min())
    # The plan's exact cost can only be lower than any grid point's, and the
    # engine's every strategy at equal service too (npv_usd includes the cost
    # of work left unserved).
    assert plan.npv_usd <= best * (1 + EXACT)
    assert plan.npv_usd <= float(summary["npv_usd"].min()) * (1 + EXACT)
    # Dispatched hour by hour the exact plan costs what the solver says.
    hourly = opt.evaluate_plan(scenario, plan, hourly=True)
    assert hourly.npv_usd == pytest.approx(plan.npv_usd, rel=SOLVER)


def test_brute_force_agrees_on_tiny_instance(grant):
    scenario = replace(grant, horizon_years=2)
    options = opt.OptimiseOptions(
        server_specs=("8xA100-80GB",),
        cloud_offers=("AWS p4de on-demand",),
        commitment_terms=(1,),
        blocks_per_year=6,
        mip_rel_gap=TIGHT_GAP,
    )
    plan = solve_checked(scenario, options)
    oracle = opt.brute_force_plan(scenario, options)
    assert oracle.combinations > 50
    assert plan.objective_usd == pytest.approx(oracle.objective_usd, rel=SOLVER)


def test_brute_force_agrees_without_cloud_and_with_deferral(grant):
    scenario = replace(
        grant,
        horizon_years=2,
        service={"delay_usd_per_reference_hour": 0.5},
    )
    options = opt.OptimiseOptions(
        server_specs=("8xA100-80GB", "4xL40S"),
        allow_cloud=False,
        blocks_per_year=6,
        mip_rel_gap=TIGHT_GAP,
    )
    plan = solve_checked(scenario, options)
    oracle = opt.brute_force_plan(scenario, options)
    assert plan.objective_usd == pytest.approx(oracle.objective_usd, rel=SOLVER)
    assert plan.deferred["reference_hours"].sum() > 0


def random_scenario(hours, peak, rate, price, horizon, spec, delay=None):
    return scenario_from_dict(
        {
            "name": "random",
            "service": {"delay_usd_per_reference_hour": delay},
            "horizon_years": horizon,
            "real_discount_rate": rate,
            "demand": {
                "reference_hours_per_year": hours,
                "shape": {"kind": "synthetic", "peak_to_mean": peak},
            },
            "site": {"electricity_usd_per_kwh": 0.12, "grid_co2e_g_per_kwh": 350.0},
            "strategies": [
                {
                    "kind": "cloud",
                    "name": "rent",
                    "accelerator_model": "A100-80GB-SXM4",
                    "usd_per_accelerator_hour": price,
                    "spot_usd_per_accelerator_hour": 0.45 * price,
                    "accelerators_per_instance": 4,
                },
                {"kind": "onprem", "name": "own", "server": spec, "servers": 1},
            ],
        }
    )


@settings(max_examples=8, deadline=None)
@given(
    hours=st.floats(5_000.0, 30_000.0),
    peak=st.floats(1.2, 3.0),
    rate=st.floats(0.0, 0.08),
    price=st.floats(1.0, 8.0),
    horizon=st.integers(1, 2),
    spec=st.sampled_from(["8xA100-80GB", "4xL40S"]),
    terms=st.sampled_from([(), (1,)]),
    delay=st.sampled_from([None, 0.3]),
)
def test_milp_matches_brute_force(
    hours, peak, rate, price, horizon, spec, terms, delay
):
    scenario = random_scenario(hours, peak, rate, price, horizon, spec, delay)
    options = opt.OptimiseOptions(
        commitment_terms=terms,
        blocks_per_year=4,
        mip_rel_gap=TIGHT_GAP,
    )
    plan = solve_checked(scenario, options)
    oracle = opt.brute_force_plan(scenario, options)
    assert plan.objective_usd == pytest.approx(oracle.objective_usd, rel=SOLVER)


# --- limits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owned_case(department):
    """Three years where buying B200 servers wins over renting p5 on demand
    (commitments, which would win, are not offered); the free plan as reference."""
    scenario = small_department(department, horizon=3)
    options = opt.OptimiseOptions(
        server_specs=("8xB200",), allow_spot=False, commitment_terms=()
    )
    return scenario, options, opt.optimise(scenario, options)


@pytest.mark.parametrize(
    "limit",
    [
        {"capital_budget_usd_per_year": 100_000.0},
        {"site_power_kw": 10.0},
        {"racks": 1, "rack_units_per_rack": 8},
        {"carbon_cap_co2e_kg_per_year": 40_000.0},
        {"min_onprem_share": 1.0},
        {"max_servers_per_year": 0},
    ],
)
def test_limit_binds_with_non_negative_shadow_price(owned_case, limit):
    scenario, options, free = owned_case
    plan = solve_checked(scenario, replace(options, **limit))
    name = next(iter(limit))
    rows = plan.binding[plan.binding["constraint"] == name]
    assert not rows.empty
    # A limit can only make the plan dearer, and relaxing it can only help (to
    # the serve-on-tie tie-break of a millionth of a dollar per reference hour).
    assert plan.objective_usd >= free.objective_usd * (1 - TIE)
    assert (rows["shadow_price"] >= 0).all()
    assert (rows["removal_saves_usd"] >= 0).all()
    saved = plan.objective_usd - free.objective_usd
    assert rows["removal_saves_usd"].max() == pytest.approx(saved, rel=1e-6, abs=1.0)
    assert (rows["shadow_price"] > 0).any() or saved > 1.0
    assert name in plan.summary


def test_total_budget_at_the_free_plans_spend_is_reported_binding(owned_case):
    # Here the cheapest plan is also the one that spends least, so a total budget
    # is either slack, exactly tight, or infeasible (tested below): set it tight.
    scenario, options, free = owned_case
    costs = free.costs
    spend = costs[
        (costs["payer"] == "project") & ~costs["category"].isin(["salvage", "recharge"])
    ]
    plan = solve_checked(
        scenario, replace(options, total_budget_usd=spend["cost_usd"].sum() + 0.5)
    )
    (row,) = plan.binding[plan.binding["constraint"] == "total_budget_usd"].to_dict(
        "records"
    )
    assert row["binding_in_plan"]
    assert row["slack"] <= 1.0
    assert row["shadow_price"] >= 0
    assert plan.objective_usd == pytest.approx(free.objective_usd, rel=SOLVER)


@pytest.mark.parametrize(
    ("limit", "step"),
    [("capital_budget_usd_per_year", 1_000.0), ("carbon_cap_co2e_kg_per_year", 5.0)],
)
def test_shadow_price_is_the_slope_of_the_relaxed_cost(owned_case, limit, step):
    # In the continuous problem the dual is the derivative of the optimum with
    # respect to the limit: raising the limit by a small `step` (inside one
    # linear piece of the value function) saves shadow x step.
    scenario, options, _ = owned_case
    # Twelve load-duration blocks: the value function's linear pieces are long
    # (the exact hourly curve changes slope at every hour's level).
    relaxed = replace(options, continuous=True, blocks_per_year=12)
    value = {"capital_budget_usd_per_year": 150_000.0}.get(limit, 39_000.0)
    plan = opt.optimise(scenario, replace(relaxed, **{limit: value}))
    looser = opt.optimise(scenario, replace(relaxed, **{limit: value + step}))
    rows = plan.binding[plan.binding["constraint"] == limit]
    per_unit = step / (1_000.0 if limit.startswith("carbon") else 1.0)
    shadow = float(rows["shadow_price"].sum())
    assert shadow > 0
    saved = plan.objective_usd - looser.objective_usd
    assert saved == pytest.approx(shadow * per_unit, rel=0.05)


def test_infeasible_budget_names_the_limit_and_the_amount(grant):
    options = opt.OptimiseOptions(
        allow_cloud=False, allow_unserved=False, capital_budget_usd_per_year=100_000.0
    )
    with pytest.raises(opt.InfeasiblePlanError) as caught:
        opt.optimise(grant, options)
    assert isinstance(caught.value, ValueError)
    (line,) = caught.value.problems
    pattern = (
        r"capital_budget_usd_per_year: 2026 needs at least \$([\d,]+), "
        r"the limit is \$100,000 \(cloud is not allowed\)"
    )
    match = re.fullmatch(pattern, line)
    assert match, line
    needed = float(match.group(1).replace(",", ""))
    # The amount is exact: a budget of that size (to the dollar) is enough.
    plan = opt.optimise(grant, replace(options, capital_budget_usd_per_year=needed + 1))
    assert plan.status == "optimal"


def test_infeasible_without_any_source_says_so(grant):
    options = opt.OptimiseOptions(
        allow_cloud=False, server_specs=(), allow_unserved=False
    )
    with pytest.raises(opt.InfeasiblePlanError, match="nothing can serve"):
        opt.optimise(grant, options)


def test_infeasible_carbon_cap_reports_each_year(grant):
    options = opt.OptimiseOptions(
        allow_cloud=False, allow_unserved=False, carbon_cap_co2e_kg_per_year=1_000.0
    )
    with pytest.raises(opt.InfeasiblePlanError) as caught:
        opt.optimise(grant, options)
    assert all(
        line.startswith("carbon_cap_co2e_kg_per_year: running year")
        for line in caught.value.problems
    )


# --- Pareto frontier ------------------------------------------------------------------


def test_pareto_frontier_is_monotone_with_non_negative_prices(grant):
    # Spot (off by default) gives the grant a cheaper, dirtier end of the frontier.
    options = opt.OptimiseOptions(allow_spot=True)
    frontier = opt.pareto_frontier(grant, options, points=6)
    cheapest = opt.optimise(grant, options)
    assert len(frontier) == 6
    assert frontier["npv_usd"].iloc[0] == pytest.approx(cheapest.npv_usd, rel=1e-4)
    assert frontier["co2e_kg"].iloc[0] == pytest.approx(cheapest.co2e_kg, rel=1e-3)
    # Tighter caps never cost less (to the solver's gap) and are met.
    tolerance = options.mip_rel_gap * frontier["npv_usd"]
    assert (frontier["npv_usd"].diff().iloc[1:] >= -tolerance.iloc[1:]).all()
    assert (frontier["co2e_kg"] <= frontier["co2e_cap_kg"] * (1 + 1e-6)).all()
    assert frontier["co2e_kg"].iloc[-1] < frontier["co2e_kg"].iloc[0]
    # Carbon prices are LP duals: non-negative and rising as the cap tightens.
    prices = frontier["carbon_price_usd_per_t"]
    assert (prices >= 0).all()
    assert (prices.diff().iloc[1:] >= -1e-6 * (1 + prices.iloc[1:])).all()
    slopes = frontier["frontier_slope_usd_per_t"].dropna()
    assert (slopes >= -1e-6).all()


def test_pareto_in_two_processes_finds_the_same_frontier(grant):
    # Each cap is solved to optimality, so splitting the caps over forked
    # processes changes which plans are reused, never the costs.
    options = opt.OptimiseOptions(allow_spot=True)
    one = opt.pareto_frontier(grant, options, points=8, workers=1)
    two = opt.pareto_frontier(grant, options, points=8, workers=2)
    # To HiGHS's tolerances: an integer may sit 1e-6 off a whole number and a
    # cap be met to 1e-6 (mip_feasibility_tolerance), so two optimal solves
    # from different cut sets agree to about 1e-6 of the cost.
    np.testing.assert_allclose(two["npv_usd"], one["npv_usd"], rtol=1e-5)
    np.testing.assert_allclose(two["co2e_cap_kg"], one["co2e_cap_kg"], rtol=1e-12)
    np.testing.assert_allclose(
        two["carbon_price_usd_per_t"], one["carbon_price_usd_per_t"], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("choices", "points"),
    [({}, 6), ({"allow_spot": True}, 6), ({"continuous": True}, 20)],
)
def test_every_pareto_point_is_the_optimum_of_its_cap_solved_alone(
    grant, choices, points
):
    # The sweep solves its caps from the tightest, each started from the last
    # plan, bounded by it and by the cap's LP relaxation, and reuses a plan
    # where those bounds meet. Each point must still be what a solve of its cap
    # alone finds: a fresh model, no start, no bounds, no reuse.
    options = opt.OptimiseOptions(**choices)
    frontier = opt.pareto_frontier(grant, options, points=points, workers=1)
    if options.continuous:
        # The relaxation is the problem: on the frontier's flat start the
        # tighter cap's plan meets the looser caps' LP bounds and is reused.
        assert not frontier["solved"].iloc[1:].all()
    problem = build_problem(grant, replace(options, carbon_price_usd_per_t=0.0))
    co2 = np.asarray(sum(problem.co2e_flows.values()).sum(axis=0)).ravel()
    for cap_kg, npv_usd in zip(
        frontier["co2e_cap_kg"], frontier["npv_usd"], strict=True
    ):
        alone = Generated(
            problem,
            Extra(
                rows=sparse.csr_array(co2[None, :] / KG_PER_SOLVER_UNIT),
                rows_lb=np.array([-np.inf]),
                rows_ub=np.array([cap_kg / KG_PER_SOLVER_UNIT * (1 + 1e-7)]),
            ),
        ).solve()
        assert alone.status == 0
        assert npv_usd == pytest.approx(alone.fun * USD_PER_SOLVER_UNIT, rel=1e-6)


def test_pareto_rejects_fewer_than_two_points_and_too_many(grant):
    with pytest.raises(ValueError, match="points"):
        opt.pareto_frontier(grant, points=1)
    with pytest.raises(ValueError, match="points"):
        opt.pareto_frontier(grant, points=opt.MAX_PARETO_POINTS + 1)


# --- outputs, conventions and inputs --------------------------------------------------


def test_plan_tables_json_and_summary(grant):
    plan = opt.optimise(grant, opt.OptimiseOptions(), pareto_points=3)
    data = json.loads(json.dumps(plan.as_json()))
    for key in (
        "status",
        "view",
        "npv_usd",
        "co2e_kg",
        "options_considered",
        "purchases",
        "commitments",
        "served",
        "unserved_reference_hours",
        "binding",
        "pareto",
    ):
        assert key in data
    assert {"co2e_kg", "npv_usd", "carbon_price_usd_per_t"} <= set(data["pareto"][0])
    # Every cloud offer of the scenario is an option (two AWS strategies name the
    # same p4de offer: one option).
    assert data["options_considered"]["cloud_offers"] == [
        "AWS p4de on-demand",
        "Lambda 8x A100 via CloudBank (no F&A)",
    ]
    assert list(plan.purchases.columns) == ["year", "calendar_year", "spec", "servers"]
    assert list(plan.costs_by_year.columns) == [
        "year",
        "calendar_year",
        "cost_usd",
        "discounted_cost_usd",
        "co2e_kg",
    ]
    assert plan.costs_by_year["year"].tolist() == list(range(grant.horizon_years + 1))
    for row in data["commitments"]:
        assert str(row["calendar_year"]) in plan.summary


def test_no_annuity_past_the_horizon(grant):
    # A server bought in the last year pays its capex then and is resold at the
    # horizon's end: nothing is booked after year N, and the resale is the
    # engine's declining value after one year.
    scenario = replace(grant, horizon_years=2)
    options = opt.OptimiseOptions(
        server_specs=("8xA100-80GB",),
        allow_cloud=False,
        purchase_years=(0, 1),
    )
    plan = opt.optimise(scenario, options)
    costs = plan.costs
    assert costs["year"].max() == scenario.horizon_years
    capex_years = set(
        costs[(costs["category"] == "capex") & (costs["cost_usd"] > 0)]["year"]
    )
    assert capex_years <= {0, 1}
    salvage = costs[(costs["category"] == "salvage") & (costs["cost_usd"] != 0)]
    assert set(salvage["year"]) == {scenario.horizon_years}


def test_commitments_come_in_whole_instances(department):
    plan = opt.optimise(
        small_department(department, horizon=3),
        opt.OptimiseOptions(server_specs=(), allow_spot=False),
    )
    assert not plan.commitments.empty
    # p5.48xlarge: 8 H100 per instance.
    assert (plan.commitments["accelerators"] % 8 == 0).all()


def test_options_reject_repeats_and_bad_years(grant):
    with pytest.raises(ValueError, match="server_specs"):
        opt.OptimiseOptions(server_specs=("8xB200", "8xB200"))
    with pytest.raises(ValueError, match="purchase_years"):
        opt.build_problem(grant, opt.OptimiseOptions(purchase_years=(5,)))
    with pytest.raises(ValueError, match="cloud_offers"):
        opt.build_problem(grant, opt.OptimiseOptions(cloud_offers=("nope",)))
    with pytest.raises(ValueError, match="racks"):
        opt.build_problem(
            grant,
            opt.OptimiseOptions(server_specs=("8xGTX1080Ti-2019",), racks=2),
        )
    with pytest.raises(ValueError, match="server_specs: unknown server '8xH10'"):
        opt.build_problem(grant, opt.OptimiseOptions(server_specs=("8xH10",)))
    with pytest.raises(ValueError, match="extra"):
        opt.OptimiseOptions.model_validate({"blocks": 3})


def test_default_specs_and_offers_come_from_the_scenario(department):
    problem = opt.build_problem(department, opt.OptimiseOptions())
    considered = problem.inputs.options_considered()
    assert considered["server_specs"] == ["8xH100-SXM"]
    # Every cloud strategy and burst, the same offer once.
    assert considered["cloud_offers"] == [
        "AWS p5 on-demand",
        "Lambda 8x H100 on-demand",
    ]
    lone = replace(department, strategies=[department.strategies[0]])
    lone_problem = opt.build_problem(lone, opt.OptimiseOptions())
    assert lone_problem.inputs.options_considered()["server_specs"] == [
        opt.DEFAULT_SERVER_SPEC
    ]
    every = opt.build_problem(department, opt.OptimiseOptions(server_specs="all"))
    servers = resolve(department).catalog.frame("servers")
    # Every catalog server that can be priced; one without a throughput figure
    # (the 2019 GTX 1080 Ti node) is left out and says so.
    assert len(every.inputs.specs) == len(servers) - 1
    assert any("8xGTX1080Ti-2019 left out" in note for note in every.inputs.notes)


def test_block_curve_keeps_the_peak_and_the_energy(department):
    hourly = tco.scenario_demand(department).levels
    curve = block_curve(hourly, 24)
    assert curve.hours.sum() == HOURS_PER_YEAR
    assert curve.levels[:, 0] == pytest.approx(hourly.max(axis=1))
    assert (curve.levels * curve.hours).sum(axis=1) == pytest.approx(hourly.sum(axis=1))
    assert math.isclose(curve.hours[0], 1.0)


def test_the_cli_and_the_optimiser_share_one_pareto_limit():
    """planner.cli keeps a copy so --help stays light; it must be the same."""
    from planner import cli

    assert cli.MAX_PARETO_POINTS == opt.MAX_PARETO_POINTS
