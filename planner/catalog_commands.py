"""Bodies of ``planner catalog update | diff | dates`` (the parser is in cli.py).

``update`` refreshes ``cloud_prices`` from a SkyPilot-format catalog directory
or the Azure Retail Prices API (:mod:`pricing.refresh`): it prints the diff
against each provider's previous snapshot, refuses changes beyond the threshold
unless ``--force``, and writes a dated snapshot and the catalog atomically,
all providers validated before any file is written. ``diff`` compares two
cloud_prices-format files; ``dates`` lists every catalog's date and warns about
the stale ones. Heavy modules are imported inside the functions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pricing.refresh import ImportedPrices

ACTIONS = ("update", "diff", "dates")

DIFF_LINES = 20
"""Rows listed per section (new, removed, changed) of an update's diff. [-]"""
"""Words after ``planner catalog`` that are actions, not catalog names."""

_UPDATE_ONLY = (
    "source",
    "offline",
    "save",
    "dry_run",
    "force",
    "provider",
    "skip_unknown",
    "label",
)


class CommandError(ValueError):
    """A usage error of a catalog action: one line per problem, exit status 2."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def run(args: argparse.Namespace) -> None:
    """Run ``planner catalog update | diff | dates``."""
    if args.name == "update":
        update(args)
    elif args.name == "diff":
        diff(args)
    else:
        dates(args)


def reject_action_options(args: argparse.Namespace) -> None:
    """Refuse update/diff arguments given with a catalog name (``catalog pue x``)."""
    problems = []
    if args.paths:
        problems.append(
            f"unexpected argument(s) {' '.join(args.paths)!r} after catalog "
            f"{args.name!r} (files are for `planner catalog diff OLD NEW`)"
        )
    given = [
        name
        for name in _UPDATE_ONLY
        if getattr(args, name, None) not in (None, False, [])
    ]
    problems.extend(
        f"--{name.replace('_', '-')} is an option of `planner catalog update`"
        for name in given
    )
    if problems:
        raise CommandError(problems)


def _date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"--date {text!r}: expected an ISO date, YYYY-MM-DD"
        raise CommandError([msg]) from None


def _data_dir(text: str | None) -> Path:
    """The folder holding cloud_prices.csv: --data-dir, else the package's."""
    from importlib import resources

    folder = (
        Path(text)
        if text is not None
        else Path(str(resources.files("pricing").joinpath("data")))
    )
    if not (folder / "cloud_prices.csv").is_file():
        msg = f"--data-dir {folder}: no cloud_prices.csv there"
        raise CommandError([msg])
    return folder


def _imports(args: argparse.Namespace, snapshot_date: dt.date) -> list[ImportedPrices]:
    from pricing import refresh

    source = list(args.source or [])
    if not source:
        msg = "update needs --from skypilot DIR or --from azure"
        raise CommandError([msg])
    kind, rest = source[0], source[1:]
    if kind == "skypilot":
        if len(rest) != 1:
            msg = "--from skypilot needs exactly one directory: --from skypilot DIR"
            raise CommandError([msg])
        if args.offline or args.save:
            msg = "--offline and --save are options of --from azure"
            raise CommandError([msg])
        return refresh.read_skypilot_catalog(
            rest[0],
            snapshot_date=snapshot_date,
            providers=args.provider,
            source=args.label,
            skip_unknown=args.skip_unknown,
        )
    if kind == "azure":
        if rest:
            msg = f"--from azure takes no directory, got {' '.join(rest)!r}"
            raise CommandError([msg])
        if args.offline:
            label, text = refresh.read_pages_file(args.offline)
        else:
            text = refresh.fetch_azure_pages()
            label = "prices.azure.com"
            if args.save:
                Path(args.save).write_text(text, encoding="utf-8")
        return [
            refresh.read_azure_pages(
                text, label=label, snapshot_date=snapshot_date, source=args.label
            )
        ]
    msg = f"--from {kind!r}: expected skypilot or azure"
    raise CommandError([msg])


def update(args: argparse.Namespace) -> None:
    """``planner catalog update --from skypilot DIR | --from azure [...]``."""
    from pricing import refresh
    from pricing.catalog import CatalogError

    if args.paths:
        msg = f"unexpected argument(s) {' '.join(args.paths)!r}; the directory goes "
        raise CommandError([msg + "after --from skypilot"])
    snapshot_date = _date(args.date)
    folder = _data_dir(args.data_dir)
    imports = _imports(args, snapshot_date)
    out = sys.stdout
    problems: list[str] = []
    for imported in imports:
        preview = refresh.update_cloud_prices(
            imported,
            data_dir=folder,
            force=True,
            dry_run=True,
            max_change_fraction=args.threshold,
        )
        out.write(f"{imported.provider} ({imported.label}):\n")
        out.write(refresh.format_diff(preview.diff, limit=DIFF_LINES) + "\n")
        for note in imported.skipped:
            out.write(f"skipped: {note}\n")
        try:
            refresh.update_cloud_prices(
                imported,
                data_dir=folder,
                force=args.force,
                dry_run=True,
                max_change_fraction=args.threshold,
            )
        except CatalogError as error:
            problems.extend(error.problems)
    if problems:
        raise refresh.RefreshRefusedError(problems)
    if args.dry_run:
        out.write("dry run: nothing written\n")
        return
    for imported in imports:
        result = refresh.update_cloud_prices(
            imported,
            data_dir=folder,
            force=args.force,
            max_change_fraction=args.threshold,
        )
        if result.archived_path is not None:
            out.write(f"archived the previous rows as {result.archived_path}\n")
        out.write(f"wrote {result.snapshot_path} and {result.catalog_path}\n")
        if result.forced_changes:
            out.write(
                f"--force: accepted {result.forced_changes} refusal(s) (changes or "
                f"removals beyond {args.threshold:.0%})\n"
            )


def diff(args: argparse.Namespace) -> None:
    """``planner catalog diff OLD NEW`` for cloud_prices-format files."""
    from pricing import refresh

    if len(args.paths) != 2:
        msg = f"diff needs two files, OLD NEW; got {len(args.paths)}"
        raise CommandError([msg])
    old, new = (refresh.read_catalog_file(path) for path in args.paths)
    sys.stdout.write(refresh.format_diff(refresh.diff_prices(old, new)) + "\n")


def dates(args: argparse.Namespace) -> None:
    """``planner catalog dates``: each catalog's newest source date; stale warnings."""
    from pricing import history

    if args.paths:
        msg = f"unexpected argument(s) {' '.join(args.paths)!r} after dates"
        raise CommandError([msg])
    today = _date(args.date)
    table = history.catalog_dates(today=today)
    sys.stdout.write(table.to_string(index=False) + "\n")
    for line in history.staleness_warnings(today=today):
        sys.stderr.write(f"warning: {line}\n")
