"""The catalog a scenario is priced with: the shipped data plus the user's overlays.

A scenario may name overlay files (``catalog_overlays``, relative to the scenario
file) and the command line may add more (``--overlay FILE``): vendor quotes,
tariffs, a negotiated discount. Their rows replace shipped rows with the same
key and are marked ``user_supplied``; every answer priced with the catalog
returned here uses them (:func:`planner.resolve.resolve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planner.scenario import Scenario
from pricing.catalog import Catalog, CatalogError, Overlay, read_overlay_file


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def scenario_catalog(
    scenario: Scenario,
    *,
    base_dir: str | Path | None,
    extra_files: Sequence[str | Path] = (),
    allow_outside: bool = False,
) -> Catalog:
    """The catalog with the scenario's overlays and any extra overlay files.

    Parameters
    ----------
    scenario : Scenario
        Its ``catalog_overlays`` are read relative to ``base_dir``.
    base_dir : str or pathlib.Path or None
        Folder of the scenario file; None when the scenario came from no file
        (then it may not name overlays).
    extra_files : sequence of str or pathlib.Path, default ()
        Overlay files the user named on the command line, applied after the
        scenario's (so they win).
    allow_outside : bool, default False
        Let the scenario's overlay paths leave its folder.

    Returns
    -------
    pricing.catalog.Catalog
        The shipped catalogs with every overlay applied, each validated.

    Raises
    ------
    pricing.catalog.CatalogError
        One ``file:row:column: why`` line per problem of every overlay, or a
        path the scenario may not name.
    """
    problems: list[str] = []
    overlays: list[Overlay] = []
    paths: list[Path] = []
    if scenario.catalog_overlays:
        if base_dir is None:
            msg = (
                "catalog_overlays: a scenario without a file may not name overlay "
                "files; upload the overlays beside it"
            )
            raise CatalogError([msg])
        folder = Path(base_dir)
        for name in scenario.catalog_overlays:
            path = folder / name
            if not allow_outside and not _inside(path, folder):
                problems.append(
                    f"catalog_overlays: {name} is outside the scenario's folder "
                    "(pass --allow-outside-paths to allow it)"
                )
                continue
            paths.append(path)
    paths.extend(Path(p) for p in extra_files)
    for path in paths:
        try:
            overlays.append(read_overlay_file(path))
        except CatalogError as error:
            problems.extend(error.problems)
    if problems:
        raise CatalogError(problems)
    return Catalog().with_overlays(overlays)


def check_overlays_applied(scenario: Scenario, catalog: Catalog) -> None:
    """Refuse to price a scenario whose named overlays the catalog does not hold.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    catalog : pricing.catalog.Catalog
        The catalog it is about to be priced with.

    Raises
    ------
    pricing.catalog.CatalogError
        If an overlay the scenario names is missing (a quote silently ignored
        would be a wrong answer).
    """
    labels = {overlay.label for overlay in catalog.overlays}
    missing = [n for n in scenario.catalog_overlays if Path(n).name not in labels]
    if missing:
        msg = (
            f"catalog_overlays: {missing} are named by the scenario but not loaded; "
            "price it with planner.overlays.scenario_catalog"
        )
        raise CatalogError([msg])
