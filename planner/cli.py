"""The ``planner`` command line: one subcommand per question.

Heavy modules (pandas, scipy, the catalogs) are imported inside the subcommand
that needs them, so ``planner --help`` answers at once. User errors print one
readable line per problem on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2
"""Exit status for bad input (argparse uses the same). [-]"""


class UserError(Exception):
    """Bad input: each problem is one line for the user, with no traceback."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _problems_of(error: BaseException) -> list[str] | None:
    """Return the user-facing lines of a known user error, or None."""
    from pydantic import ValidationError

    if isinstance(error, UserError):
        return list(error.problems)
    if isinstance(error, ValidationError):
        lines = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "(input)"
            lines.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
        return lines
    problems = getattr(error, "problems", None)
    if isinstance(error, ValueError) and problems:
        return [str(problem) for problem in problems]
    if isinstance(error, ValueError | FileNotFoundError | IsADirectoryError):
        return [str(error)]
    return None


def _emit_frame(frame: pd.DataFrame, output_format: str) -> None:
    if output_format == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2) + "\n")
    elif output_format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
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
    from pricing import catalog

    if args.name not in catalog.CATALOG_NAMES:
        names = ", ".join(catalog.CATALOG_NAMES)
        msg = f"unknown catalog {args.name!r}; choose one of: {names}"
        raise UserError([msg])
    frame = catalog.load_catalog(args.name, overlay=args.overlay)
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

PRESETS = ("lisa", "department", "grant", "consortium")
"""Scenario presets shipped in ``planner/presets`` (copies in ``examples/``)."""


def preset_text(name: str) -> str:
    """Return the YAML text (with its comments) of a shipped preset."""
    from importlib import resources

    if name not in PRESETS:
        msg = f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
        raise UserError([msg])
    return (
        resources.files("planner").joinpath(f"presets/{name}.yaml").read_text("utf-8")
    )


def _cmd_scenario_new(args: argparse.Namespace) -> None:
    from pathlib import Path

    from planner.scenario import scenario_from_yaml

    text = preset_text(args.preset)
    scenario_from_yaml(text)  # a shipped preset must always validate
    if args.out is None:
        sys.stdout.write(text)
        return
    out = Path(args.out)
    if out.exists() and not args.force:
        msg = f"{out} exists; pass --force to overwrite it"
        raise UserError([msg])
    # Write to a sibling temporary file first so a failure leaves nothing half-written.
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(out)
    sys.stderr.write(f"wrote {out}\n")


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from planner import breakeven, report, tco
    from planner.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    evaluation = tco.evaluate(scenario)
    break_evens = breakeven.break_even_table(scenario, evaluation=evaluation)
    if args.format == "json":
        _emit_json(report.evaluation_payload(evaluation, break_evens))
        return
    if args.format == "csv":
        sys.stdout.write(evaluation.table.to_csv(index=False))
        return
    if args.format == "markdown":
        sys.stdout.write(report.markdown_report(evaluation, break_evens))
        return
    out = sys.stdout
    out.write(f"{scenario.name}\n")
    out.write(
        f"{scenario.horizon_years} years from {scenario.start_year}, real USD of "
        f"{scenario.currency_year}, discounted at {scenario.real_discount_rate:.1%}\n\n"
    )
    out.write(report.summary_table(evaluation).to_string(index=False) + "\n\n")
    for item in break_evens:
        out.write(f"- {item.onprem} vs {item.cloud}: {item.explanation}\n")


# --- entry point ----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="planner",
        description=(
            "Buy, rent or pool accelerators? Multi-year cost and CO2 of cloud, "
            "on-premises, hybrid and shared clusters, with sourced data."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    strubell = commands.add_parser(
        "strubell",
        help="reproduce Strubell et al. (2019) Tables 1, 3, 4 and section 5",
    )
    strubell.add_argument("--format", choices=("table", "json"), default="table")
    strubell.set_defaults(handler=_cmd_strubell)

    catalog = commands.add_parser(
        "catalog", help="show a data catalog with its sources (optionally overlaid)"
    )
    catalog.add_argument(
        "name",
        help="cloud_prices, accelerators, servers, commitment_discounts, "
        "grid_intensity, pue or electricity_prices",
    )
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
    new.add_argument("--preset", choices=PRESETS, default="department")
    new.add_argument("--out", help="file to write (default: standard output)")
    new.add_argument("--force", action="store_true", help="overwrite --out")
    new.set_defaults(handler=_cmd_scenario_new)

    evaluate = commands.add_parser(
        "evaluate", help="project every strategy of a scenario and its break-evens"
    )
    evaluate.add_argument("scenario", help="scenario YAML file")
    evaluate.add_argument(
        "--format",
        choices=("table", "json", "csv", "markdown"),
        default="table",
        help="markdown: a compute-cost justification for a grant or budget",
    )
    evaluate.set_defaults(handler=_cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.handler
    try:
        handler(args)
    except Exception as error:
        problems = _problems_of(error)
        if problems is None:
            raise
        for problem in problems:
            sys.stderr.write(f"planner {args.command}: {problem}\n")
        return EXIT_USER_ERROR
    return 0


def run() -> NoReturn:
    """Console-script entry point: exit with :func:`main`'s status."""
    sys.exit(main())


if __name__ == "__main__":
    run()
