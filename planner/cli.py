"""The ``planner`` command line: one subcommand per question.

Heavy modules (pandas, scipy, the catalogs) are imported inside the subcommand
that needs them, so ``planner --help`` answers at once. User errors print one
readable line per problem on stderr and exit with status 2, never a traceback.
Anything unexpected is one line too, with a short id; its traceback goes to the
``planner.cli`` logger (shown on stderr only with ``--debug``). Files named in
a scenario must lie in the scenario's folder unless ``--allow-outside-paths``;
every CSV written is neutralised against spreadsheet formulas, and files are
written atomically, never over an input.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2
"""Exit status for bad input and for unexpected errors (argparse uses 2). [-]"""

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT, the shell convention). [-]"""

MAX_PARETO_POINTS = 50
"""Most points of a cost-CO2e frontier (``--pareto``): the optimiser's own
limit (:data:`planner.optimise.MAX_PARETO_POINTS`), written here so ``--help``
and argument checks do not import the solver; a test holds them equal. [points]"""

MAX_MESSAGE_CHARACTERS = 500
"""Longest line of an error message printed. [characters]"""

LOGGER = logging.getLogger("planner.cli")


class UserError(Exception):
    """Bad input: each problem is one line for the user, with no traceback."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _problems_of(error: BaseException) -> list[str] | None:
    """Return the user-facing lines of a known user error, or None.

    Every line is one line, at most :data:`MAX_MESSAGE_CHARACTERS` long; a
    value it quotes is a short excerpt.
    """
    from pydantic import ValidationError

    from planner.safe_io import clip, shorten

    lines: list[str] | None = None
    if isinstance(error, UserError):
        lines = list(error.problems)
    elif isinstance(error, ValidationError):
        from planner.scenario import validation_problems

        lines = validation_problems(error)
    elif isinstance(error, ValueError) and getattr(error, "problems", None):
        lines = [str(problem) for problem in getattr(error, "problems", ())]
    elif isinstance(error, OSError):
        where = f"{shorten(error.filename)}: " if error.filename else ""
        lines = [f"{where}{error.strerror or type(error).__name__}"]
    elif isinstance(error, ValueError):
        lines = [str(error)]
    if lines is None:
        return None
    return [clip(line, MAX_MESSAGE_CHARACTERS) for line in lines] or [
        type(error).__name__
    ]


def _emit_frame(frame: pd.DataFrame, output_format: str) -> None:
    if output_format == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2) + "\n")
    elif output_format == "csv":
        from planner.safe_io import csv_text

        sys.stdout.write(csv_text(frame))
    else:
        sys.stdout.write(frame.to_string(index=False) + "\n")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    msg = f"not JSON serialisable: {type(value).__name__}"
    raise TypeError(msg)


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=_json_default) + "\n")


# --- strubell -------------------------------------------------------------------


def _cmd_strubell(args: argparse.Namespace) -> None:
    from planner.reference import strubell2019

    if args.format == "json":
        _emit_json(strubell2019.reproduction())
        return
    table3 = strubell2019.table3()
    table4 = strubell2019.table4()
    out = sys.stdout
    out.write("Strubell, Ganesh & McCallum (2019), recomputed from its inputs\n\n")
    out.write("Table 3: cost of training (kWh incl. PUE 1.58; CO2e at 0.954 lb/kWh)\n")
    shown3 = table3[["model", "hardware", "hours", "power_w"]].copy()
    shown3["kwh_pue"] = table3["kwh_pue"].round(0)
    shown3["co2e_lbs"] = table3["co2e_lbs"].round(0)
    shown3["cloud_cost_usd"] = [
        f"${low:,.0f}-${high:,.0f}"
        for low, high in zip(
            table3["cloud_cost_low_usd"], table3["cloud_cost_high_usd"], strict=True
        )
    ]
    out.write(shown3.to_string(index=False, na_rep="-") + "\n\n")
    out.write("Table 4: LISA R&D (P100 cloud rates; electricity at $0.12/kWh)\n")
    shown4 = table4[["models", "hours"]].copy()
    shown4["cloud_cost_usd"] = [
        f"${low:,.0f}-${high:,.0f}"
        for low, high in zip(
            table4["cloud_cost_low_usd"], table4["cloud_cost_high_usd"], strict=True
        )
    ]
    shown4["electricity_usd"] = table4["electricity_usd"].round(0)
    out.write(shown4.to_string(index=False) + "\n\n")
    hvc = strubell2019.hardware_vs_cloud()
    out.write(
        "Section 5: {gpus:.0f} GPUs for {days:.0f} days as {servers:.2f} servers = "
        "${hardware_usd:,.0f} of hardware against ${cloud_on_demand_usd:,.0f} "
        "on-demand cloud ({ratio_on_demand_to_hardware:.2f}x) or "
        "${cloud_preemptible_usd:,.0f} pre-emptible "
        "({ratio_preemptible_to_hardware:.2f}x).\n".format(**hvc)
    )


# --- catalog --------------------------------------------------------------------


def _parse_where(clauses: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    problems = []
    for clause in clauses:
        column, sep, value = clause.partition("=")
        if not sep or not column:
            problems.append(f"--where {clause!r}: expected COLUMN=VALUE")
        else:
            pairs.append((column.strip(), value.strip()))
    if problems:
        raise UserError(problems)
    return pairs


def _cmd_catalog(args: argparse.Namespace) -> None:
    from planner import catalog_commands
    from pricing import catalog

    if args.name in catalog_commands.ACTIONS:
        catalog_commands.run(args)
        return
    catalog_commands.reject_action_options(args)
    if args.name not in catalog.CATALOG_NAMES:
        names = ", ".join(catalog.CATALOG_NAMES)
        msg = f"unknown catalog {args.name!r}; choose one of: {names}"
        raise UserError([msg])
    if args.overlay is None:
        frame = catalog.load_catalog(args.name)
    else:
        from pathlib import Path

        from planner.safe_io import read_text_file

        # 4 bytes per character at most in UTF-8; the catalog counts characters.
        text = read_text_file(
            args.overlay,
            max_bytes=4 * catalog.MAX_OVERLAY_CHARACTERS,
            what="overlay",
        )
        label = Path(args.overlay).name
        frame = (
            catalog.Catalog()
            .with_overlay(args.name, text, label=label)
            .frame(args.name)
        )
    problems = []
    for column, value in _parse_where(args.where):
        if column not in frame.columns:
            problems.append(
                f"--where {column}={value}: no column {column!r} in {args.name} "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
            continue
        frame = frame[frame[column].astype(str).str.casefold() == value.casefold()]
    if problems:
        raise UserError(problems)
    _emit_frame(frame, args.format)


# --- scenarios ------------------------------------------------------------------

PRESET_CHOICES = ("lisa", "department", "grant", "consortium")
"""``planner.scenario.PRESETS``, spelled out so ``--help`` needs no pydantic import."""


def _cmd_scenario_new(args: argparse.Namespace) -> None:
    from planner.scenario import preset_text, scenario_from_yaml

    text = preset_text(args.preset)
    scenario_from_yaml(text)  # a shipped preset must always validate
    if args.out is None:
        sys.stdout.write(text)
        return
    from planner.safe_io import write_text_atomically

    out = write_text_atomically(args.out, text, overwrite=args.force)
    sys.stderr.write(f"wrote {out}\n")


def _scenario_and_catalog(args: argparse.Namespace) -> tuple[Any, Any]:
    """The scenario of ``args.scenario`` and its catalog with every overlay."""
    from pathlib import Path

    from planner.overlays import scenario_catalog
    from planner.scenario import load_scenario

    allow = bool(getattr(args, "allow_outside_paths", False))
    scenario = load_scenario(args.scenario, allow_outside_paths=allow)
    catalog = scenario_catalog(
        scenario,
        base_dir=Path(args.scenario).parent,
        extra_files=args.overlay or (),
        allow_outside=allow,
    )
    return scenario, catalog


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from planner import breakeven, report, tco

    scenario, catalog = _scenario_and_catalog(args)
    evaluation = tco.evaluate(scenario, catalog=catalog)
    break_evens = breakeven.break_even_table(scenario, evaluation=evaluation)
    if args.format == "json":
        _emit_json(report.evaluation_payload(evaluation, break_evens))
        return
    if args.format == "csv":
        from planner.safe_io import csv_text

        sys.stdout.write(csv_text(evaluation.table))
        return
    if args.format == "markdown":
        sys.stdout.write(report.markdown_report(evaluation, break_evens))
        return
    from planner import verdict

    out = sys.stdout
    out.write(f"{scenario.name}\n")
    out.write(
        f"{scenario.horizon_years} years from {scenario.start_year}, real USD of "
        f"{scenario.currency_year}, discounted at {scenario.real_discount_rate:.1%}; "
        f"npv_usd is the {scenario.view} view at equal service\n\n"
    )
    out.write(verdict.headline(verdict.recommendations(evaluation)) + "\n\n")
    if not args.no_sensitivity:
        from planner.uncertainty.sensitivity import sensitivities

        for tornado in sensitivities(scenario, catalog=catalog).values():
            out.write(tornado.sentence() + "\n\n")
    out.write(report.summary_table(evaluation).to_string(index=False) + "\n\n")
    for item in break_evens:
        out.write(f"- {item.onprem} vs {item.cloud}: {item.explanation}\n")
    for warning in evaluation.warnings:
        sys.stderr.write(f"planner evaluate: warning: {warning}\n")


# --- optimiser --------------------------------------------------------------------


def _cmd_optimise(args: argparse.Namespace) -> None:

    from planner import optimise

    scenario, catalog = _scenario_and_catalog(args)
    options = optimise.OptimiseOptions()
    if args.options:
        from pydantic import ValidationError

        from planner.safe_io import (
            MAX_YAML_CHARACTERS,
            SafeIOError,
            clip,
            load_yaml,
            read_text_file,
        )
        from planner.scenario import ScenarioError, validation_problems

        label = clip(args.options, 120)
        try:
            text = read_text_file(
                args.options, max_bytes=4 * MAX_YAML_CHARACTERS, what="options file"
            )
            data = load_yaml(text) or {}
            options = optimise.OptimiseOptions.model_validate(data)
        except SafeIOError as error:
            raise UserError([f"{label}: {error}"]) from None
        except ValidationError as error:
            problems = validation_problems(error)
            raise ScenarioError([f"{label}: {p}" for p in problems]) from None
    if args.robust:
        _robust_plan(args, scenario, catalog, options)
        return
    plan = optimise.optimise(
        scenario, options, pareto_points=args.pareto, catalog=catalog
    )
    if args.format == "json":
        _emit_json(plan.as_json())
        return
    out = sys.stdout
    out.write(plan.summary + "\n")
    frames: list[tuple[str, pd.DataFrame | None]] = [
        ("Purchases", plan.purchases),
        ("Commitments", plan.commitments),
        ("Work served by source", plan.served),
        ("Cost and CO2e by year", plan.costs_by_year),
        ("Limits", plan.binding),
        ("Pareto frontier", plan.pareto),
    ]
    for title, frame in frames:
        if frame is not None and not frame.empty:
            out.write(f"\n{title}\n{frame.to_string(index=False)}\n")


# --- uncertainty ------------------------------------------------------------------


def _cmd_uncertainty(args: argparse.Namespace) -> None:
    from planner.uncertainty import analysis
    from planner.uncertainty.spec import default_uncertainty, load_uncertainty
    from planner.uncertainty.sweep import check_scheduler, scheduler_address

    address = scheduler_address(args.scheduler)
    if address is not None:
        check_scheduler(address)
    scenario, catalog = _scenario_and_catalog(args)
    spec = (
        load_uncertainty(args.uncertainty)
        if args.uncertainty
        else default_uncertainty(scenario, catalog=catalog)
    )
    result = analysis.monte_carlo(
        scenario,
        spec,
        draws=args.draws,
        seed=args.seed,
        view=args.view,
        catalog=catalog,
        method=args.method,
        sobol_inputs=args.sobol_inputs,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    if args.format == "json":
        _emit_json(result.as_json())
        return
    out = sys.stdout
    out.write(f"{scenario.name}\n")
    out.write(
        f"{result.draws:,} draws ({result.sampling}, seed {result.seed}, "
        f"{result.method}); the plan is fixed, the future varies; "
        f"{result.view} view\n\n"
    )
    out.write(analysis.headline(result) + "\n\n")
    table = analysis.strategy_table(result)
    shown = table.assign(
        **{
            column: table[column].map(lambda v: f"${v / 1e3:,.0f}k")
            for column in table.columns
            if column.endswith("_usd")
        },
        p_cheapest=[
            f"{100 * p:.0f} % +- {100 * se:.1f}"
            for p, se in zip(table["p_cheapest"], table["p_cheapest_se"], strict=True)
        ],
        **{
            column: table[column].map(lambda v: f"{v:,.0f}")
            for column in ("co2e_p10_t", "co2e_p50_t", "co2e_p90_t")
        },
    ).drop(columns=["p_cheapest_se"])
    out.write(shown.to_string(index=False) + "\n")
    if result.tornado:
        out.write(
            f"\nTornado: lead of {result.leader} over the cheapest other strategy "
            f"({_k(result.advantage_usd)} with every input at its median), each "
            "input at its P10 and P90\n"
        )
        tornado = analysis.tornado_table(result)
        for column in ("low_npv_delta_usd", "high_npv_delta_usd"):
            tornado[column] = tornado[column].map(_k)
        out.write(tornado.to_string(index=False) + "\n")
    if result.sobol:
        out.write(f"\nSobol' indices of that lead (n = {result.sobol_base_draws})\n")
        for index in result.sobol:
            out.write(
                f"  {index.input}: first order {index.first_order:.2f}, "
                f"total {index.total:.2f}\n"
            )
    for item in result.conditional:
        best = max(item.p_cheapest, key=lambda name: item.p_cheapest[name])
        out.write(
            f"\nWith {item.input} = {item.value:g} ({100 * item.share_of_draws:.0f} % "
            f"of draws): {best} cheapest in {100 * item.p_cheapest[best]:.0f} %"
        )
    if result.conditional:
        out.write("\n")
    out.write(
        "\nBreak-even year of owning (P10 / P50 / P90; 'never' beyond the horizon)\n"
    )
    for row in result.break_even[result.view]:
        years = " / ".join(
            "never" if year is None else f"{year:.0f}"
            for year in (row.year_p10, row.year_p50, row.year_p90)
        )
        line = f"  {row.onprem} vs {row.cloud}: {years}"
        if row.utilisation_p50 is not None:
            line += f"; break-even utilisation P50 {100 * row.utilisation_p50:.0f} %"
        out.write(line + "\n")
    for note in result.notes:
        sys.stderr.write(f"planner uncertainty: note: {note}\n")


def _k(usd: float) -> str:
    return f"{'+' if usd > 0 else ''}{usd / 1e3:,.0f}k"


def _draws(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be a positive number of draws, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _robust_plan(
    args: argparse.Namespace, scenario: Any, catalog: Any, options: Any
) -> None:
    """``planner optimise --robust``: the two-stage plan over sampled futures."""
    from planner.uncertainty.robust import robust_plan
    from planner.uncertainty.spec import default_uncertainty, load_uncertainty
    from planner.uncertainty.sweep import check_scheduler, scheduler_address

    address = scheduler_address(args.scheduler)
    if address is not None:
        check_scheduler(address)
    spec = (
        load_uncertainty(args.uncertainty)
        if args.uncertainty
        else default_uncertainty(scenario, catalog=catalog)
    )
    plan = robust_plan(
        scenario,
        spec,
        options,
        futures=args.futures,
        objective=args.risk,
        alpha=args.alpha,
        seed=args.seed,
        catalog=catalog,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    if args.format == "json":
        _emit_json(plan.as_json())
        return
    out = sys.stdout
    out.write(plan.summary + "\n")
    for title, frame in (
        ("Purchases (robust)", plan.purchases),
        ("Commitments (robust)", plan.commitments),
        ("Purchases (deterministic)", plan.deterministic_purchases),
        ("Commitments (deterministic)", plan.deterministic_commitments),
    ):
        if not frame.empty:
            out.write(f"\n{title}\n{frame.to_string(index=False)}\n")
    for note in plan.notes:
        sys.stderr.write(f"planner optimise: note: {note}\n")


# --- consortium -------------------------------------------------------------------


def _cmd_pool(args: argparse.Namespace) -> None:
    from planner import pooling
    from planner.scenario import SharedStrategy

    scenario, catalog = _scenario_and_catalog(args)
    shared = [s.name for s in scenario.strategies if isinstance(s, SharedStrategy)]
    if not shared:
        msg = f"{args.scenario}: the scenario has no shared (consortium) strategy"
        raise UserError([msg])
    name = args.strategy or shared[0]
    if name not in shared:
        msg = f"--strategy {name!r}: not a shared strategy; choose one of {shared}"
        raise UserError([msg])
    game = pooling.consortium_game(scenario, name, catalog=catalog)
    table = pooling.allocations(game)
    if args.format == "json":
        _emit_json(
            {
                "strategy": name,
                "grand_coalition_cost_usd": game.grand_coalition_cost_usd,
                "uniform_rate_usd_per_reference_hour": (
                    pooling.uniform_rate_usd_per_reference_hour(game)
                ),
                "coalitions": game.plans.to_dict("records"),
                "allocations": table.to_dict("records"),
                "summary": pooling.allocation_summary(table),
            }
        )
        return
    out = sys.stdout
    out.write(pooling.allocation_summary(table) + "\n\nCoalitions\n")
    out.write(game.plans.to_string(index=False) + "\n\nAllocations\n")
    shown = table[
        ["member", "rule", "allocation_usd", "standalone_usd", "savings_usd", "in_core"]
    ]
    out.write(shown.round(0).to_string(index=False) + "\n")


# --- demand and queues ----------------------------------------------------------

WORKLOAD_PRESETS = ("lisa",)
"""Generated workloads accepted where a log path is expected."""


def _read_source(source: str, kind: str | None, fields: str | None) -> Any:
    from planner import joblog

    if source in WORKLOAD_PRESETS:
        return joblog.generate_workload(joblog.LISA_PRESET)
    return joblog.read_log(source, kind=kind, fields=fields)  # type: ignore[arg-type]


def _cmd_demand(args: argparse.Namespace) -> None:
    import pandas as pd

    from planner import joblog
    from planner.safe_io import csv_text, write_text_atomically

    log = _read_source(args.log, args.kind, args.fields)
    summary = joblog.demand_summary(log)
    if args.ldc:
        hourly = joblog.hourly_concurrency_gpus(log)
        curve = joblog.load_duration_curve_gpus(hourly)
        frame = pd.DataFrame(
            {"hours_exceeded": range(1, len(curve) + 1), "busy_gpus": curve}
        )
        inputs = [] if args.log in WORKLOAD_PRESETS else [args.log]
        write_text_atomically(args.ldc, csv_text(frame), inputs=inputs)
    if args.format == "json":
        _emit_json(summary)
        return
    out = sys.stdout
    out.write(
        f"{summary['source']} ({summary['kind']}): {summary['jobs']:,} jobs that ran, "
        f"{summary['gpu_hours']:,.1f} GPU-hours, mean {summary['mean_concurrency']:.2f}"
        f" and max {summary['max_concurrency']:.2f} busy GPUs (hourly averages)\n"
    )
    out.write(
        f"pending {summary['pending_jobs']:,}, without times "
        f"{summary['unknown_time_jobs']:,}, zero-length "
        f"{summary['zero_length_jobs']:,}, job steps skipped "
        f"{summary['step_rows']:,}, rejected rows {summary['rejected_count']:,}\n"
    )
    if summary["unknown_state_jobs"]:
        out.write(
            f"{summary['unknown_state_jobs']:,} jobs kept with a state Slurm does "
            f"not report: {', '.join(summary['unknown_states'])}\n"
        )
    groups = pd.DataFrame(summary["by_group"]).T
    if not groups.empty:
        out.write("\nby group:\n" + groups.to_string() + "\n")
    for row in summary["rejected_rows"][:50]:
        out.write(f"rejected line {row['line']} ({row['column']}): {row['reason']}\n")
    if summary["rejected_count"] > 50:
        out.write(f"... and {summary['rejected_count'] - 50:,} more (--format json)\n")


def _cmd_queue(args: argparse.Namespace) -> None:
    from planner import queueing

    log = _read_source(args.source, args.kind, args.fields)
    result = queueing.simulate_queue(log, args.gpus, policy=args.policy)
    payload = queueing.queue_summary(result)
    if args.target_wait is not None:
        payload["smallest_gpus_for_target"] = queueing.smallest_cluster_for_target_wait(
            log,
            target_wait_hours=args.target_wait,
            statistic=args.statistic,
            policy=args.policy,
        )
        payload["target_wait_hours"] = args.target_wait
        payload["target_statistic"] = args.statistic
    if args.format == "json":
        _emit_json(payload)
        return
    out = sys.stdout
    out.write(
        f"{payload['jobs']:,} jobs on {args.gpus} GPUs ({args.policy}): mean wait "
        f"{payload['mean_wait_hours']:.2f} h, median {payload['median_wait_hours']:.2f}"
        f" h, p95 {payload['p95_wait_hours']:.2f} h; utilisation "
        f"{payload['utilisation']:.1%}\n"
    )
    if payload["oversized_count"]:
        out.write(
            f"{payload['oversized_count']} job(s) ask for more GPUs than the cluster "
            "has and were not run\n"
        )
    if args.target_wait is not None:
        out.write(
            f"smallest cluster with {args.statistic} wait <= {args.target_wait} h: "
            f"{payload['smallest_gpus_for_target']} GPUs\n"
        )


# --- reports and footprints -----------------------------------------------------


def _cmd_report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from planner import tco
    from planner.report import files
    from planner.safe_io import write_bytes_atomically

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in files.REPORT_SUFFIXES:
        msg = (
            f"--out {args.out}: the extension must be one of "
            f"{', '.join(files.REPORT_SUFFIXES)}"
        )
        raise UserError([msg])
    if out.exists() and not args.force:
        msg = f"{out} exists; pass --force to overwrite it"
        raise UserError([msg])
    scenario, catalog = _scenario_and_catalog(args)
    evaluation = tco.evaluate(scenario, catalog=catalog)
    data = files.report_bytes(
        evaluation,
        suffix,
        view=args.view,
        funder=args.funder,
        title=args.title,
        description=args.description,
        charts=not args.no_charts,
        catalog=catalog,
    )
    write_bytes_atomically(
        out, data, inputs=(args.scenario, *(args.overlay or ())), overwrite=args.force
    )
    for warning in evaluation.warnings:
        sys.stderr.write(f"planner report: warning: {warning}\n")
    sys.stderr.write(f"wrote {out}\n")


def _cmd_footprint(args: argparse.Namespace) -> None:
    from planner import footprint
    from planner.report import statement

    options: dict[str, Any] = {
        "power_w": args.power_w,
        "utilisation": args.utilisation,
        "idle_power_w": args.idle_w,
        "pue": args.pue,
        "grid_co2e_g_per_kwh": args.intensity_g_per_kwh,
        "region": args.region,
        "price_usd_per_accelerator_hour": args.price_usd_per_hour,
        "embodied": args.embodied,
        "lifetime_years": args.lifetime_years,
        "hardware_utilisation": args.hardware_utilisation,
        "electricity_usd_per_kwh": args.electricity_usd_per_kwh,
    }
    if args.log is not None:
        log = _read_source(args.log, args.kind, None)
        result = footprint.campaign_footprint(log, args.accelerator, **options)
    else:
        missing = [
            flag
            for flag, value in (
                ("--accelerator", args.accelerator),
                ("--count", args.count),
                ("--hours", args.hours),
            )
            if value is None
        ]
        if missing:
            msg = f"give {', '.join(missing)} (or --log FILE for a campaign)"
            raise UserError([msg])
        result = footprint.footprint(
            args.accelerator, args.count, args.hours, **options
        )
    if args.format == "json":
        _emit_json(result.as_dict())
    elif args.format == "latex":
        sys.stdout.write(statement.footprint_latex(result))
    elif args.format == "markdown":
        sys.stdout.write(statement.footprint_markdown(result))
    else:
        for label, value in footprint.footprint_rows(result):
            sys.stdout.write(f"{label:<44} {value}\n")
        for what, source in result.assumptions:
            sys.stdout.write(f"- {what}: {source}\n")


# --- entry point ----------------------------------------------------------------


def _pareto_points(text: str) -> int:
    """``--pareto``: 0 (none) or 2 to :data:`MAX_PARETO_POINTS`."""
    try:
        value = int(text)
    except ValueError:
        msg = f"expected a whole number, got {text[:40]!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value != 0 and not 2 <= value <= MAX_PARETO_POINTS:
        msg = f"0 (no frontier) or 2 to {MAX_PARETO_POINTS} points, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _allow_outside(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-outside-paths",
        action="store_true",
        help="let the scenario name a job log outside its own folder "
        "(by default such a path is refused)",
    )


def _fields_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fields",
        metavar="F1,F2,...",
        help="field names of a log without a header line (sacct --noheader), "
        "comma-separated, or 'xdmod' for Open XDMoD's export format",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="planner",
        description=(
            "Buy, rent or pool accelerators? Multi-year cost and CO2 of cloud, "
            "on-premises, hybrid and shared clusters, with sourced data."
        ),
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print the traceback of an unexpected error (for a bug report)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    strubell = commands.add_parser(
        "strubell",
        help="reproduce Strubell et al. (2019) Tables 1, 3, 4 and section 5",
    )
    strubell.add_argument("--format", choices=("table", "json"), default="table")
    strubell.set_defaults(handler=_cmd_strubell)

    catalog = commands.add_parser(
        "catalog",
        help="show a data catalog with its sources; update, diff and date catalogs",
        description="planner catalog NAME shows a catalog; planner catalog update "
        "--from skypilot DIR | --from azure [--offline FILE] [--dry-run] [--force] "
        "refreshes cloud_prices; planner catalog diff OLD NEW compares two "
        "cloud_prices files; planner catalog dates lists each catalog's date.",
    )
    catalog.add_argument(
        "name",
        help="cloud_prices, accelerators, servers, commitment_discounts, "
        "grid_intensity, pue, electricity_prices, cloud_price_history; or the "
        "action update, diff or dates",
    )
    catalog.add_argument(
        "paths", nargs="*", metavar="FILE", help="diff: OLD NEW (cloud_prices files)"
    )
    catalog.add_argument(
        "--from",
        dest="source",
        nargs="+",
        metavar="SOURCE",
        help="update: 'skypilot DIR' (a <cloud>/vms.csv directory) or 'azure'",
    )
    catalog.add_argument(
        "--offline", metavar="FILE", help="update --from azure: recorded API pages"
    )
    catalog.add_argument(
        "--save", metavar="FILE", help="update --from azure: keep the fetched pages"
    )
    catalog.add_argument(
        "--dry-run", action="store_true", help="update: show the diff, write nothing"
    )
    catalog.add_argument(
        "--force", action="store_true", help="update: accept changes beyond --threshold"
    )
    catalog.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="FRACTION",
        help="update: largest price change (or share of rows removed) accepted "
        "without --force [0-1] (default 0.5)",
    )
    catalog.add_argument(
        "--data-dir",
        help="update: folder with cloud_prices.csv (default: pricing/data)",
    )
    catalog.add_argument(
        "--date", help="update: date of the prices; dates: reference date (YYYY-MM-DD)"
    )
    catalog.add_argument(
        "--provider", action="append", help="update --from skypilot: clouds to read"
    )
    catalog.add_argument(
        "--skip-unknown",
        action="store_true",
        help="update: skip rows of accelerators the catalog does not know",
    )
    catalog.add_argument("--label", help="update: text for the rows' source")
    catalog.add_argument("--format", choices=("table", "json", "csv"), default="table")
    catalog.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep rows whose COLUMN equals VALUE (case-insensitive); repeatable",
    )
    catalog.add_argument(
        "--overlay",
        help="CSV with the same columns (e.g. a vendor quote); its rows win",
    )
    catalog.set_defaults(handler=_cmd_catalog)

    scenario = commands.add_parser("scenario", help="create scenario files")
    scenario_commands = scenario.add_subparsers(
        dest="scenario_command", required=True, metavar="ACTION"
    )
    new = scenario_commands.add_parser("new", help="write a preset scenario as YAML")
    new.add_argument("--preset", choices=PRESET_CHOICES, default="department")
    new.add_argument("--out", help="file to write (default: standard output)")
    new.add_argument("--force", action="store_true", help="overwrite --out")
    new.set_defaults(handler=_cmd_scenario_new)

    evaluate = commands.add_parser(
        "evaluate", help="project every strategy of a scenario and its break-evens"
    )
    evaluate.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a catalog overlay CSV (vendor quote, tariff); repeatable; wins over "
        "the scenario's catalog_overlays",
    )
    evaluate.add_argument("scenario", help="scenario YAML file")
    evaluate.add_argument(
        "--format",
        choices=("table", "json", "csv", "markdown"),
        default="table",
        help="markdown: a compute-cost justification for a grant or budget",
    )
    evaluate.add_argument(
        "--no-sensitivity",
        action="store_true",
        help="table: leave out the tornado beside the verdict (about 0.5 s)",
    )
    _allow_outside(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate)

    optimise = commands.add_parser(
        "optimise", help="the cheapest fleet plan: buy, commit, burst (MILP)"
    )
    optimise.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a catalog overlay CSV (vendor quote, tariff); repeatable; wins over "
        "the scenario's catalog_overlays",
    )
    optimise.add_argument("scenario", help="scenario YAML file")
    optimise.add_argument(
        "--options", metavar="OPTIONS.yaml", help="limits and choices (OptimiseOptions)"
    )
    optimise.add_argument(
        "--pareto",
        type=_pareto_points,
        default=0,
        metavar="K",
        help=f"also compute a cost-CO2e frontier of K points (2-{MAX_PARETO_POINTS})",
    )
    _allow_outside(optimise)
    optimise.add_argument(
        "--robust",
        action="store_true",
        help="a plan that holds up: first-stage purchases and commitments shared "
        "by sampled futures (two-stage stochastic MILP), with VSS and EVPI",
    )
    optimise.add_argument(
        "--futures", type=int, default=50, metavar="K", help="--robust: futures"
    )
    optimise.add_argument(
        "--risk",
        choices=("expected", "cvar"),
        default="expected",
        help="--robust: minimise the expected cost or its CVaR",
    )
    optimise.add_argument(
        "--alpha", type=float, default=0.9, help="--robust: CVaR level [0-1)"
    )
    optimise.add_argument(
        "--uncertainty",
        metavar="SPEC.yaml",
        help="--robust: uncertain inputs (default: the sourced preset)",
    )
    optimise.add_argument("--seed", type=int, metavar="S", help="--robust: seed")
    optimise.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="--robust: Dask scheduler for the sweeps of solves "
        "(default $PLANNER_SCHEDULER, else local processes)",
    )
    optimise.add_argument(
        "--workers", type=int, metavar="N", help="--robust: local processes"
    )
    optimise.add_argument("--format", choices=("table", "json"), default="table")
    optimise.set_defaults(handler=_cmd_optimise)

    uncertainty = commands.add_parser(
        "uncertainty",
        help="how sure the answer is: Monte Carlo, tornado, Sobol' indices",
    )
    uncertainty.add_argument("scenario", help="scenario YAML file")
    uncertainty.add_argument(
        "--uncertainty",
        metavar="SPEC.yaml",
        help="uncertain inputs (default: the sourced preset; see "
        "examples/uncertainty.yaml)",
    )
    uncertainty.add_argument(
        "--draws", type=_draws, default=10_000, metavar="N", help="Monte Carlo draws"
    )
    uncertainty.add_argument(
        "--seed", type=int, metavar="S", help="sampler seed (default: the spec's)"
    )
    uncertainty.add_argument(
        "--view",
        choices=("award", "institution"),
        help="view of the headline and sensitivity (default: the scenario's)",
    )
    uncertainty.add_argument(
        "--method",
        choices=("auto", "vectorised", "loop"),
        default="auto",
        help="vectorised when every input allows (auto), or the engine draw by draw",
    )
    uncertainty.add_argument(
        "--sobol-inputs",
        type=int,
        default=5,
        metavar="K",
        help="Sobol' indices for the K leading inputs (0: none)",
    )
    uncertainty.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler (tcp://host:8786) for draws run through the engine; "
        "default $PLANNER_SCHEDULER, else local processes",
    )
    uncertainty.add_argument(
        "--workers", type=int, metavar="N", help="local processes (default: CPUs)"
    )
    uncertainty.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a catalog overlay CSV (vendor quote, tariff); repeatable",
    )
    _allow_outside(uncertainty)
    uncertainty.add_argument("--format", choices=("table", "json"), default="table")
    uncertainty.set_defaults(handler=_cmd_uncertainty)

    pool = commands.add_parser(
        "pool", help="consortium: pooled cost, allocations by rule, core check"
    )
    pool.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a catalog overlay CSV (vendor quote, tariff); repeatable; wins over "
        "the scenario's catalog_overlays",
    )
    pool.add_argument("scenario", help="scenario YAML with a shared strategy")
    pool.add_argument("--strategy", help="name of the shared strategy (default: first)")
    pool.add_argument("--format", choices=("table", "json"), default="table")
    _allow_outside(pool)
    pool.set_defaults(handler=_cmd_pool)

    demand = commands.add_parser(
        "demand", help="import a job log: hourly demand, load-duration curve, report"
    )
    demand.add_argument(
        "log", help="sacct -P export, generic CSV, CodeCarbon CSV, or 'lisa'"
    )
    demand.add_argument("--kind", choices=("sacct", "csv", "codecarbon"))
    _fields_option(demand)
    demand.add_argument(
        "--ldc",
        metavar="OUT.csv",
        help="write the load-duration curve (never over the log itself)",
    )
    demand.add_argument("--format", choices=("table", "json"), default="table")
    demand.set_defaults(handler=_cmd_demand)

    queue = commands.add_parser(
        "queue", help="simulate waits of a job log or workload on a cluster of N GPUs"
    )
    queue.add_argument("source", help="job log path, or 'lisa' (generated workload)")
    queue.add_argument("--gpus", type=int, required=True, help="cluster size [GPUs]")
    queue.add_argument("--kind", choices=("sacct", "csv", "codecarbon"))
    _fields_option(queue)
    queue.add_argument("--policy", choices=("fifo", "backfill"), default="fifo")
    queue.add_argument(
        "--target-wait",
        type=float,
        metavar="HOURS",
        help="also find the smallest cluster meeting this wait [h]",
    )
    queue.add_argument("--statistic", choices=("p95", "mean", "median"), default="p95")
    queue.add_argument("--format", choices=("table", "json"), default="table")
    queue.set_defaults(handler=_cmd_queue)

    report = commands.add_parser(
        "report",
        help="write a budget justification (.docx, .md), budget workbook (.xlsx) "
        "or compute and carbon statement (.tex)",
    )
    report.add_argument("scenario", help="scenario YAML file")
    report.add_argument(
        "--out", required=True, metavar="FILE", help="FILE.docx, .md, .xlsx or .tex"
    )
    report.add_argument("--view", choices=("award", "institution"), default="award")
    report.add_argument(
        "--funder",
        choices=("nsf", "ukri_fec80"),
        default="nsf",
        help="funder whose budget lines are used (planner/rules/funders.csv)",
    )
    report.add_argument("--title", help="document title (default: scenario name)")
    report.add_argument(
        "--description", help="document description (default: the scenario's)"
    )
    report.add_argument("--no-charts", action="store_true", help="embed no charts")
    report.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="a catalog overlay CSV (vendor quote, tariff); repeatable",
    )
    report.add_argument(
        "--force", action="store_true", help="overwrite an existing --out"
    )
    report.set_defaults(handler=_cmd_report)

    footprint = commands.add_parser(
        "footprint",
        help="energy, CO2e and cost of one training run or a campaign (no scenario)",
    )
    footprint.add_argument(
        "--accelerator", metavar="NAME", help="catalog id or cloud name, e.g. P100"
    )
    footprint.add_argument("--count", type=float, help="accelerators used [-]")
    footprint.add_argument("--hours", type=float, help="wall-clock hours [h]")
    footprint.add_argument(
        "--log",
        metavar="FILE",
        help="a job log or CodeCarbon file: the total over its runs",
    )
    footprint.add_argument("--kind", choices=("sacct", "csv", "codecarbon"))
    power = footprint.add_mutually_exclusive_group()
    power.add_argument(
        "--power-w",
        type=float,
        help="measured power per accelerator, host share included [W]",
    )
    power.add_argument(
        "--utilisation", type=float, help="busy share on the power curve [0-1]"
    )
    footprint.add_argument(
        "--idle-w",
        type=float,
        default=0.0,
        help="idle draw of the rest of the system for the run's length [W]",
    )
    footprint.add_argument("--pue", type=float, help="facility PUE [-]")
    place = footprint.add_mutually_exclusive_group()
    place.add_argument(
        "--intensity-g-per-kwh", type=float, help="grid intensity [g CO2e/kWh]"
    )
    place.add_argument(
        "--region", help="FR, US-CA or provider:cloud-region (catalog lookup)"
    )
    footprint.add_argument(
        "--price-usd-per-hour",
        type=float,
        help="cloud price per accelerator-hour [USD/h] (default: cheapest catalog)",
    )
    footprint.add_argument(
        "--electricity-usd-per-kwh",
        type=float,
        help="tariff of the owned cost [USD/kWh] (default: by region, else U.S.)",
    )
    footprint.add_argument(
        "--embodied", action="store_true", help="add embodied CO2e per used hour"
    )
    footprint.add_argument(
        "--lifetime-years",
        type=float,
        default=6.0,
        help="hardware life for embodied CO2e (Luccioni et al.: 6) [years]",
    )
    footprint.add_argument(
        "--hardware-utilisation",
        type=float,
        default=0.85,
        help="use over that life (Luccioni et al.: 0.85) [0-1]",
    )
    footprint.add_argument(
        "--format", choices=("table", "json", "latex", "markdown"), default="table"
    )
    footprint.set_defaults(handler=_cmd_footprint)
    return parser


def report_unexpected(error: BaseException, *, where: str) -> str:
    """Log an unexpected error with its traceback; return a one-line message.

    The traceback goes to the ``planner.cli`` logger only (the user sees a
    short id to quote in a bug report, never the traceback or the values in
    it).

    Parameters
    ----------
    error : BaseException
        The exception caught.
    where : str
        What was running (``"planner evaluate"``).

    Returns
    -------
    str
        ``"unexpected error (id 3f9a1c2e, RecursionError); ..."``.
    """
    error_id = secrets.token_hex(4)
    LOGGER.error("%s: unexpected error %s", where, error_id, exc_info=error)
    return (
        f"unexpected error (id {error_id}, {type(error).__name__}); nothing was "
        "changed. Rerun with --debug for the traceback, or report the id"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    No exception escapes: user errors are one line per problem, anything else
    one line with an id (:func:`report_unexpected`); both exit with status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    handler: Callable[[argparse.Namespace], None] = args.handler
    where = f"planner {args.command}"
    try:
        handler(args)
    except BrokenPipeError:
        # The reader (e.g. `head`) closed the pipe: not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write(f"{where}: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as error:
        try:
            problems = _problems_of(error)
        except Exception:  # the error itself is broken (a hostile __str__)
            problems = None
        if problems is None:
            problems = [report_unexpected(error, where=where)]
        for problem in problems:
            sys.stderr.write(f"{where}: {problem}\n")
        return EXIT_USER_ERROR
    return 0


def run() -> NoReturn:
    """Console-script entry point: exit with :func:`main`'s status."""
    sys.exit(main())


if __name__ == "__main__":
    run()
