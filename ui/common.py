"""Widgets, charts and the safety rails shared by the pages.

Help text comes from the pydantic field descriptions, errors are shown beside the
field, and charts draw library results (no model logic here). Every text that
may carry a user's value is shown as plain text (:func:`plain`), never as
Markdown; :func:`run_app` is the app's one handler for anything unexpected (a
one-line message with an id on the page, the traceback in the server log).
Uploads are read in memory; a scenario may not name a file on the server
(:func:`named_file_problem`). Every page prices with the session's catalog
(:func:`session_catalog`: the shipped catalogs with the overlays uploaded on the
Data page), cached by the overlays' content (:data:`OverlayKey`), never by a
file name.
"""

import contextlib
import datetime as dt
import functools
import logging
import math
import os
import re
import secrets
import string
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from planner import display, places, rules, tco
from planner.quick import cloud_offers_for_server
from planner.report.files import report_bytes
from planner.safe_io import clip, csv_text, shorten
from planner.scenario import Scenario, Site
from pricing import catalog as pricing_catalog
from pricing import history
from ui import state

OverlayKey = tuple[tuple[str, str, str], ...]
"""The session's overlays as ``(catalog, label, text)``: a cache key by content."""

MAX_LOG_BYTES = 50_000_000
"""Largest job log accepted in the browser (the upload limit, ``maxUploadSize``
in ``.streamlit/config.toml``): about 280,000 sacct rows, read in about 1 s with
150 MB of extra memory (``benchmarks/bench_joblog.py 280000``), so one upload
keeps the server responsive. [bytes]"""

LOGGER = logging.getLogger("planner_app")
"""Server-side log of unexpected errors (the traceback never reaches a page)."""
if not LOGGER.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    LOGGER.addHandler(_handler)
    LOGGER.propagate = False

_MARKDOWN_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINK_STARTS = re.compile(r"(?i)www|[@:]")
_WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    r"""Text that Streamlit's Markdown shows exactly as written.

    Every ASCII punctuation character is backslash-escaped (no links, emphasis,
    headings, lists, math, colour directives, icons or emoji shortcodes), and
    an invisible word joiner after ``www``, ``@`` and ``:`` stops bare URLs
    and e-mail addresses from becoming links. Line breaks are kept.

    Parameters
    ----------
    text : object
        A message, possibly quoting a user's value.

    Returns
    -------
    str
        Markdown that renders as the plain text.

    Examples
    --------
    >>> plain("**b** :smile:") == "\\*\\*b\\*\\* \\:\u2060smile\\:\u2060"
    True
    """
    value = _LINK_STARTS.sub(lambda m: m.group(0) + _WORD_JOINER, str(text))
    value = _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)
    return value.replace("\n", "  \n")


def as_text(markdown: str) -> str:
    """The plain text a :func:`plain` string shows (its inverse, for tests)."""
    text = re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", markdown)
    return text.replace(_WORD_JOINER, "").replace("  \n", "\n")


MAX_ERROR_LINE_CHARACTERS = 500
"""Longest line of an error shown (a library message may quote a long value). [-]"""


def show_error(text: object) -> None:
    """Draw an error box with plain text (see :func:`plain`), each line clipped."""
    lines = str(text).splitlines() or [""]
    st.error(plain("\n".join(clip(line, MAX_ERROR_LINE_CHARACTERS) for line in lines)))


def field_errors(error: ValidationError) -> dict[str, str]:
    """Map each invalid field (dotted path) to its message, values shortened."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False):
        path = ".".join(clip(str(part), 60) for part in item["loc"]) or "_"
        message = clip(str(item["msg"]).removeprefix("Value error, "), 300)
        errors[path] = f"{message} (got {shorten(item.get('input'))})"
    return errors


def report_unexpected(error: BaseException) -> None:
    """Show a one-line message with an id; log the traceback server-side only."""
    error_id = secrets.token_hex(4)
    LOGGER.error("unexpected error %s", error_id, exc_info=error)
    show_error(
        f"Something went wrong on the server (error id {error_id}, "
        f"{type(error).__name__}). Nothing was saved; check the inputs or report "
        "the id."
    )


def run_app(run: Callable[[], None]) -> None:
    """Run the app's page; anything unexpected becomes :func:`report_unexpected`.

    Streamlit's own control flow (``st.rerun``, ``st.stop``) derives from
    ``BaseException`` and passes through.
    """
    try:
        run()
    except Exception as error:
        report_unexpected(error)


def upload_label(name: str) -> str:
    """A client's file name as a label only: its last part, shortened.

    The label is never used as a path on the server.
    """
    return clip(PurePath(name.replace("\\", "/")).name or "upload", 60)


def named_file_problem(scenario: Scenario, *, has_log_upload: bool) -> str | None:
    """Why a scenario cannot run in the app, or None.

    The app opens no file a scenario names: a scenario whose demand comes
    from a job log (``demand.joblog.path``) runs only on a log uploaded
    beside it, the path being a label.
    """
    log = scenario.demand.joblog
    if log is None or has_log_upload:
        return None
    return (
        f"demand.joblog.path ({shorten(log.path)}): the app opens no file a "
        "scenario names; upload the job log beside the scenario"
    )


@contextlib.contextmanager
def with_uploaded_log(scenario: Scenario, content: bytes | None) -> Iterator[Scenario]:
    """The scenario with its job log replaced by an upload's content.

    The engine reads a log by path, so the content goes to a temporary file
    with a server-chosen name (never the client's), in a private folder, for
    the duration of the block only; without a job log the scenario is
    unchanged.
    """
    if scenario.demand.joblog is None or content is None:
        yield scenario
        return
    if len(content) > MAX_LOG_BYTES:
        msg = f"the job log is larger than {MAX_LOG_BYTES:,} bytes; use the CLI"
        raise ValueError(msg)
    folder = tempfile.mkdtemp(prefix="planner-upload-")
    fd, name = tempfile.mkstemp(dir=folder, suffix=".log")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        data = scenario.model_dump(mode="json")
        data["demand"]["joblog"]["path"] = name
        yield Scenario.model_validate(data)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _help(fields: Mapping[str, FieldInfo], name: str) -> str | None:
    return fields[name].description


def label(fields: Mapping[str, FieldInfo], name: str) -> str:
    """The field's label in words (:func:`planner.display.field_label`)."""
    return display.field_label(name, fields[name])


def error_below(errors: Mapping[str, str], *names: str) -> None:
    """Show the validation message of a field right below its widget."""
    for name in names:
        if name in errors:
            show_error(f"{label_of(name)}: {errors[name]}")


def label_of(path: str) -> str:
    """A dotted field path in words (its last part's label, else the words)."""
    last = path.rsplit(".", 1)[-1]
    return display.FIELD_LABELS.get(last, last.replace("_", " "))


def percent(value: float | None) -> str:
    """Format a share as a percentage, or 'never' when there is none."""
    return "never" if value is None else f"{100 * value:.0f} %"


def cost_ratio_delta(ratio: float, against: str) -> dict[str, Any]:
    """A metric delta for a cost ratio: red and up if dearer, green and down if not."""
    dearer = ratio > 1
    return {
        "delta": f"{ratio:.2f}x {against}",
        "delta_color": "red" if dearer else "green",
        "delta_arrow": "up" if dearer else "down",
    }


money = display.money


def money_column(title: str, help_text: str | None = None) -> Any:
    """A table column of US dollars to the dollar, with separators."""
    return st.column_config.NumberColumn(title, format="$%,.0f", help=help_text)


def number_column(title: str, digits: int = 0, help_text: str | None = None) -> Any:
    """A table column of numbers with separators and fixed decimals."""
    return st.column_config.NumberColumn(title, format=f"%,.{digits}f", help=help_text)


_FORMATS = {
    "money": ("$%,.0f", "${:,.0f}"),
    "rate": ("$%,.2f", "${:,.2f}"),
    "percent": ("percent", "{:.1%}"),
    "int": ("%,d", "{:,.0f}"),
    "year": ("%d", "{:.0f}"),
    "float0": ("%,.0f", "{:,.0f}"),
    "float2": ("%,.2f", "{:,.2f}"),
}
"""Number formats by kind: for a table column, and as text for a cell."""

EMPTY = ""
"""What an empty number cell shows: nothing (never "None")."""


def _kind(name: str, series: pd.Series) -> str:
    if display.is_money(name) and "_per_" in name and "year" not in name:
        return "rate"
    if display.is_money(name):
        return "money"
    if name in {"utilisation", "mip_gap"} or "share" in name:
        return "percent"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if name in {"calendar_year", "year", "release_year", "currency_year"} or (
        name.endswith("_year") and pd.api.types.is_integer_dtype(series)
    ):
        return "year"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        hours = name.endswith("_hours") and "reference" not in name
        return "float2" if hours else "float0"
    return "text"


def table_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Column labels with units, money to the dollar and numbers with separators."""
    config: dict[str, Any] = {}
    for column in frame.columns:
        name = str(column)
        title = display.column_label(name)
        kind = _kind(name, frame[column])
        if kind == "bool":
            config[name] = st.column_config.CheckboxColumn(title)
        elif kind == "text":
            config[name] = st.column_config.TextColumn(title)
        elif frame[column].isna().any():
            # Shown as formatted text with blanks (see _with_gaps).
            config[name] = st.column_config.TextColumn(title)
        else:
            config[name] = st.column_config.NumberColumn(
                title, format=_FORMATS[kind][0]
            )
    return config


def _with_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its empty cells blank, never "None".

    Streamlit draws a missing value as "None" whatever the format, so a number
    column with gaps is shown as formatted text (blank where it is empty).
    """
    frame = frame.copy()
    for column in frame.columns:
        series = frame[column]
        kind = _kind(str(column), series)
        if kind == "bool" or not series.isna().any():
            continue
        if kind == "text":
            frame[column] = series.astype("object").where(series.notna(), EMPTY)
        else:
            pattern = _FORMATS[kind][1]
            frame[column] = [
                EMPTY if pd.isna(value) else pattern.format(value) for value in series
            ]
    return frame


def show_table(frame: pd.DataFrame, *, key: str | None = None, **kwargs: Any) -> None:
    """A table with labels in words, units, separators and no 'None' cells."""
    config = table_config(frame) | kwargs.pop("column_config", {})
    st.dataframe(
        _with_gaps(frame),
        hide_index=True,
        column_config=config,
        key=key,
        width="stretch",
        **kwargs,
    )


def download(
    where: Any,
    label: str,
    make: Callable[[], str | bytes],
    *,
    file_name: str,
    key: str,
) -> None:
    """A download button whose file is made only when it is clicked (no rerun)."""
    where.download_button(
        label, data=make, file_name=file_name, key=key, on_click="ignore"
    )


FILE_STEM_CHARACTERS = 60
"""Longest scenario part of a downloaded file's name. [characters]"""


def file_stem(name: str) -> str:
    """A safe file name from a scenario's name: lower-case letters, digits, dashes.

    Examples
    --------
    >>> file_stem("Department GPU plan (Massachusetts, 10 years)")
    'department-gpu-plan-massachusetts-10-years'
    >>> file_stem("../../etc/passwd"), file_stem("***")
    ('etc-passwd', 'scenario')
    """
    words = re.findall(r"[a-z0-9]+", name.lower())
    stem = "-".join(words)[:FILE_STEM_CHARACTERS].strip("-")
    return stem or "scenario"


REPORTS = {
    ".docx": ("Budget justification (Word)", "justification"),
    ".md": ("Budget justification (Markdown)", "justification"),
    ".xlsx": ("Budget workbook (Excel)", "budget"),
    ".tex": ("Compute and carbon (LaTeX)", "statement"),
}
"""Report downloads: the button's label and the file name's last word."""

REPORT_CACHE_ENTRIES = 16
"""Report files kept (each a few hundred kB at most). [-]"""


@st.cache_data(max_entries=REPORT_CACHE_ENTRIES, show_spinner=False)
def report_file(
    scenario_json: str,
    overlays: OverlayKey,
    log_content: bytes | None,
    suffix: str,
    view: str,
    funder: str,
) -> bytes:
    """One report of a scenario (:func:`planner.report.files.report_bytes`).

    Made when its button is clicked; cached by the scenario, the overlays'
    content, the uploaded log's bytes, the kind, the view and the funder.
    """
    scenario = Scenario.model_validate_json(scenario_json)
    catalog = catalog_of(overlays)
    with with_uploaded_log(scenario, log_content) as runnable:
        evaluation = tco.evaluate(runnable, catalog=catalog)
        return report_bytes(
            evaluation,
            suffix,
            view=view,  # type: ignore[arg-type]
            funder=funder,
            catalog=catalog,
        )


def report_downloads(
    scenario: Scenario, *, key: str, log_content: bytes | None = None
) -> None:
    """The grant reports of a scenario, in a chosen view and funder's format.

    Each file is made only when its button is clicked (:func:`download`), with
    the session's catalog, and named after the scenario.
    """
    st.markdown("**Grant reports**")
    left, right = st.columns(2)
    view = left.radio(
        "Whose cost the reports show",
        ["award", "institution"],
        horizontal=True,
        key=f"{key}_report_view",
        format_func=lambda v: {
            "award": "Award (what the grant pays)",
            "institution": "Institution (economic cost)",
        }[v],
    )
    funders = list(rules.funder_ids())
    funder = right.selectbox(
        "Funder's budget lines",
        funders,
        key=f"{key}_report_funder",
        format_func=lambda f: rules.funder(f).name,
    )
    st.caption(
        plain(
            f"{str(view).capitalize()} view, on the budget lines of "
            f"{rules.funder(str(funder)).name}; each report states its money basis "
            "(the budget in the funder's prices, the comparison in real present "
            "value). Priced with this session's catalog; made when clicked."
        )
    )
    stem = file_stem(scenario.name)
    columns = st.columns(len(REPORTS))
    for column, (suffix, (label, word)) in zip(columns, REPORTS.items(), strict=True):
        download(
            column,
            label,
            functools.partial(
                report_file,
                scenario.model_dump_json(),
                overlay_key(),
                log_content,
                suffix,
                str(view),
                str(funder),
            ),
            file_name=f"{stem}-{word}{suffix}",
            key=f"{key}_report{suffix.replace('.', '_')}",
        )


def csv_download(frame: pd.DataFrame) -> str:
    """CSV of a table: money to the cent, no float noise, formulas neutralised."""
    return csv_text(display.rounded_for_download(frame))


CATALOG_CACHE_ENTRIES = 8
"""Session catalogs kept (one per distinct set of overlays); each holds at most
one overlay per catalog within :data:`pricing.catalog.MAX_OVERLAY_CHARACTERS`. [-]"""


def overlay_key(
    overlays: Sequence[pricing_catalog.Overlay] | None = None,
) -> OverlayKey:
    """The overlays (the session's by default) as a cache key of their content."""
    chosen = state.overlays() if overlays is None else overlays
    return tuple((o.catalog, o.label, o.text) for o in chosen)


@st.cache_data(max_entries=CATALOG_CACHE_ENTRIES, show_spinner=False)
def catalog_of(key: OverlayKey = ()) -> pricing_catalog.Catalog:
    """The shipped catalogs with these overlays, each validated (cached by content).

    Raises
    ------
    pricing.catalog.CatalogError
        With one ``file:row:column: why`` line per problem (never cached).
    """
    return pricing_catalog.Catalog().with_overlays(
        [pricing_catalog.Overlay(catalog, label, text) for catalog, label, text in key]
    )


def session_catalog() -> pricing_catalog.Catalog:
    """The catalog every page prices with: shipped data plus the session's overlays."""
    return catalog_of(overlay_key())


def overlay_sentence(overlays: Sequence[pricing_catalog.Overlay]) -> str:
    """The line each page shows while overlays are active ("" without any).

    Examples
    --------
    >>> from pricing.catalog import Overlay
    >>> overlay_sentence([Overlay("servers", "quote.csv", "")])
    'Your overlay quote.csv (servers) applies to every page of this session; it is not part of shared links.'
    """  # noqa: E501
    named = [f"{o.label} ({o.catalog})" for o in overlays]
    if not named:
        return ""
    if len(named) == 1:
        return (
            f"Your overlay {named[0]} applies to every page of this session; it "
            "is not part of shared links."
        )
    listed = ", ".join(named[:-1]) + f" and {named[-1]}"
    return (
        f"Your overlays {listed} apply to every page of this session; they are "
        "not part of shared links."
    )


def overlay_banner(*, removable_here: bool = False) -> None:
    """One line near the top of every page while the session has overlays.

    Away from the Data catalogs page (where each overlay has its remove
    button) the line says where to remove it.
    """
    overlays = state.overlays()
    sentence = overlay_sentence(overlays)
    if not sentence:
        return
    if not removable_here:
        them = "it" if len(overlays) == 1 else "them"
        sentence += f" Remove {them} on the Data catalogs page."
    st.info(plain(sentence))


@st.cache_data(max_entries=16, show_spinner=False)
def place_options(key: OverlayKey = ()) -> pd.DataFrame:
    """Places (countries, US states, cloud regions) with their labels."""
    return places.place_options(catalog_of(key))


@st.cache_data(max_entries=256, show_spinner=False)
def place_values(place_id: str, key: OverlayKey = ()) -> places.PlaceDefaults:
    """Tariff, grid intensity and PUE of a place, with sources (cached by id)."""
    return places.place_defaults(place_id, catalog_of(key))


@st.cache_data(max_entries=16, show_spinner=False)
def servers(key: OverlayKey = ()) -> tuple[list[str], list[str]]:
    """Servers of the session's catalog the engine can compare, and those it cannot.

    A server whose accelerator has no relative throughput in the catalog
    (8xGTX1080Ti-2019, a 2019 reference row) cannot turn demand into
    reference hours (the engine refuses it), so it is not offered. A server
    an overlay adds is offered like a shipped one.
    """
    catalog = catalog_of(key)
    usable: list[str] = []
    refused: list[str] = []
    for name in catalog.frame("servers")["server"]:
        model = str(catalog.server(str(name))["accelerator_model"])
        try:
            throughput = float(catalog.accelerator(model)["relative_throughput"])
        except (LookupError, TypeError, ValueError):
            throughput = float("nan")
        (usable if math.isfinite(throughput) else refused).append(str(name))
    return usable, refused


@st.cache_data(max_entries=64, show_spinner=False)
def cloud_offers(server: str, key: OverlayKey = ()) -> list[str]:
    """Offers with the server's accelerator ("provider|region|instance").

    Cheapest first, from the session's catalog (an offer an overlay adds is
    listed). Every one can be priced: a region the grid catalog cannot place
    resolves at the world average, with a warning beside the answer.
    """
    try:
        offers = cloud_offers_for_server(server, catalog=catalog_of(key))
    except LookupError:  # not a catalog server (an inline specification)
        return []
    return [f"{provider}|{region}|{instance}" for provider, region, instance in offers]


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def catalog_dates(key: OverlayKey, today: str) -> tuple[pd.DataFrame, list[str]]:
    """Each catalog's date and the stale-catalog lines, of these overlays' catalog."""
    catalog = catalog_of(key)
    day = dt.date.fromisoformat(today)
    return (
        history.catalog_dates(catalog, today=day),
        history.staleness_warnings(catalog, today=day),
    )


def answer_warnings(warnings: Sequence[str]) -> None:
    """The resolved scenario's warnings, in one box beside the answer.

    ``warnings`` are the answer's own (``evaluation.warnings``: places
    the catalogs could not find, catalogs older than
    :data:`pricing.history.STALE_AFTER_DAYS` days that it read, from the
    session's catalog).
    """
    if warnings:
        lines = [f"- {clip(line, MAX_ERROR_LINE_CHARACTERS)}" for line in warnings]
        st.warning(plain("Check before relying on this answer:\n" + "\n".join(lines)))


def catalog_dates_panel(*, key: str) -> None:
    """Each catalog's date and the stale ones, of the session's catalog.

    An overlay's rows are dated (today when its ``source_date`` is blank), so
    an overlay dated today makes its catalog fresh.
    """
    dates, stale = catalog_dates(overlay_key(), dt.date.today().isoformat())
    days = history.STALE_AFTER_DAYS
    title = (
        f"Catalog dates ({display.plural(len(stale), 'catalog')} older than "
        f"{days} days)"
        if stale
        else f"Catalog dates (each within {days} days)"
    )
    with st.expander(title):
        show_table(dates, key=f"{key}_catalog_dates")
        for line in stale:
            st.caption(plain(line))


CUSTOM_PLACE = "custom"
"""Place option meaning "my own values" (no catalog lookup)."""


def _fill_place(prefix: str) -> None:
    """When a place is chosen, fill its tariff, grid intensity and PUE."""
    state = st.session_state
    place_id = state.get(f"{prefix}_place")
    if not place_id or place_id == CUSTOM_PLACE:
        return
    found = place_values(str(place_id), overlay_key())
    state[f"{prefix}_electricity"] = float(found.electricity.value)
    state[f"{prefix}_grid"] = float(found.grid.value)
    if found.pue is not None and f"{prefix}_pue" in state:
        state[f"{prefix}_pue"] = float(found.pue.value)


SOURCE_CAPTION_CHARACTERS = 120
"""Characters of a value's source shown beside its field (the full source is in
the page's sources). [characters]"""


def _source_caption(value: Any, shown: float, digits: int) -> None:
    if value is None:
        return
    if shown == value.value:
        st.caption(plain(clip(places.describe(value), SOURCE_CAPTION_CHARACTERS)))
    else:
        st.caption(
            plain(
                f"Your value (the catalog's: {value.value:.{digits}f}, "
                f"{value.year or 'no'} data)"
            )
        )


def place_inputs(
    prefix: str,
    *,
    place: str | None,
    location: str | None,
    electricity: float | None,
    grid: float | None,
    pue: float | None,
) -> tuple[str | None, dict[str, Any], float | None]:
    """A place selector filling tariff, grid intensity (and PUE), each editable.

    Returns the place chosen (None for custom values), the ``Site`` fields
    (``location``, ``electricity_usd_per_kwh``, ``grid_co2e_g_per_kwh``: blank
    where the location's own catalog value is kept, so the engine looks it up
    with its source) and the PUE (None when not drawn).
    """
    options = place_options(overlay_key())
    ids = [CUSTOM_PLACE, *options["place_id"]]
    labels = dict(zip(options["place_id"], options["label"], strict=True))
    labels[CUSTOM_PLACE] = "My own values (no catalog lookup)"
    if place not in ids:
        place = location if location in ids else CUSTOM_PLACE
    chosen = st.selectbox(
        "Where the machine room is",
        ids,
        key=bind(f"{prefix}_place", place),
        format_func=lambda o: labels.get(o, str(o)),
        on_change=_fill_place,
        args=(prefix,),
        help="A country, US state or cloud region: fills the tariff, grid "
        "intensity (and a cloud region's PUE) from the catalogs, with their "
        "source and year; each stays editable.",
    )
    found = None if chosen == CUSTOM_PLACE else place_values(str(chosen), overlay_key())
    tariff_default = (
        electricity
        if electricity is not None
        else (found.electricity.value if found else 0.15)
    )
    grid_default = grid if grid is not None else (found.grid.value if found else 400.0)
    tariff = st.number_input(
        display.field_label(
            "electricity_usd_per_kwh", Site.model_fields["electricity_usd_per_kwh"]
        ),
        min_value=0.0,
        step=0.01,
        format="%.4f",
        key=bind(f"{prefix}_electricity", float(tariff_default)),
        help=Site.model_fields["electricity_usd_per_kwh"].description,
    )
    if found:
        _source_caption(found.electricity, tariff, 4)
    intensity = st.number_input(
        display.field_label(
            "grid_co2e_g_per_kwh", Site.model_fields["grid_co2e_g_per_kwh"]
        ),
        min_value=0.0,
        step=10.0,
        format="%.1f",
        key=bind(f"{prefix}_grid", float(grid_default)),
        help=Site.model_fields["grid_co2e_g_per_kwh"].description,
    )
    if found:
        _source_caption(found.grid, intensity, 1)
    pue_value = None
    if pue is not None:
        pue_value = st.number_input(
            display.field_label("pue", Site.model_fields["pue"]),
            min_value=0.0,
            step=0.05,
            format="%.2f",
            key=bind(f"{prefix}_pue", float(pue)),
            help=Site.model_fields["pue"].description,
        )
        if found and found.pue is not None:
            _source_caption(found.pue, pue_value, 2)
    if found is None:
        fields: dict[str, Any] = {
            "location": location,
            "electricity_usd_per_kwh": tariff,
            "grid_co2e_g_per_kwh": intensity,
        }
        return None, fields, pue_value
    fields = places.site_fields(
        found, electricity_usd_per_kwh=tariff, grid_co2e_g_per_kwh=intensity
    )
    return str(chosen), fields, pue_value


def bind(key: str, value: Any) -> str:
    """See :func:`ui.state.bind` (re-exported for the widget helpers)."""
    return state.bind(key, value)


CHART_HEIGHT = 360
"""Height of a line chart with its legend below. [pixels]"""


def _distinct(frame: pd.DataFrame, column: str = "strategy") -> pd.DataFrame:
    names = list(dict.fromkeys(frame[column]))
    short = dict(zip(names, display.distinct_labels(names, width=60), strict=True))
    return frame.assign(label=frame[column].map(short))


def cumulative_chart(
    cumulative: pd.DataFrame, break_even_calendar_year: int | None, view: str
) -> alt.Chart:
    """Cumulative present value of each strategy by calendar year, in one view."""
    data = _distinct(cumulative[["strategy", "calendar_year", "cumulative_pv_usd"]])
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("calendar_year:O", title="Year"),
            y=alt.Y(
                "cumulative_pv_usd:Q",
                title="Cumulative cost, present value (USD)",
                axis=alt.Axis(format="$,.3s"),
            ),
            color=alt.Color(
                "label:N",
                title=f"{view.capitalize()} view",
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=400),
            ),
            tooltip=[
                alt.Tooltip("strategy:N", title="Strategy"),
                alt.Tooltip("calendar_year:O", title="Year"),
                alt.Tooltip("cumulative_pv_usd:Q", title="USD", format="$,.0f"),
            ],
        )
    )
    if break_even_calendar_year is None:
        return lines.properties(height=CHART_HEIGHT)
    rule = (
        alt.Chart(pd.DataFrame({"calendar_year": [break_even_calendar_year]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(x="calendar_year:O")
    )
    return (lines + rule).properties(height=CHART_HEIGHT)


def carbon_chart(table: pd.DataFrame) -> alt.Chart:
    """Operational and embodied CO2e of each strategy over the horizon, in tonnes.

    Drawn from the engine's ledger rows; the chart sums them (Vega-Lite).
    """
    rows = table[table["co2e_scope"].isin(["operational", "embodied"])]
    data = _distinct(rows[["strategy", "co2e_scope", "co2e_kg"]])
    return (
        alt.Chart(data)
        .transform_calculate(co2e_t="datum.co2e_kg / 1000")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("sum(co2e_t):Q", title="CO2e over the horizon (t)", stack="zero"),
            color=alt.Color("co2e_scope:N", title=None),
            tooltip=[
                alt.Tooltip("strategy:N", title="Strategy"),
                alt.Tooltip("co2e_scope:N", title="Scope"),
                alt.Tooltip("sum(co2e_t):Q", title="t CO2e", format=",.1f"),
            ],
        )
    )


# --- What decides the answer (the tornado beside a verdict) ---------------------------


SENSITIVITY_CACHE_ENTRIES = 32
"""Tornados kept (a few kB each; one is about 15 runs of the engine). [-]"""


@st.cache_data(max_entries=SENSITIVITY_CACHE_ENTRIES, show_spinner=False)
def sensitivity_of(
    scenario_json: str, overlays: OverlayKey = (), log_content: bytes | None = None
) -> dict[str, Any]:
    """The tornado of each view beside a verdict, or why there is none.

    :func:`planner.uncertainty.sensitivity.sensitivities` on the sourced default
    ranges, priced with the overlays' catalog; cached by the scenario, the
    overlays' content and the uploaded log's bytes.

    Returns
    -------
    dict
        ``{view: {"sentence", "leader", "runner_up", "advantage_usd", "bars"}}``
        (``bars`` a table, widest first), or ``{"problem": text}``.
    """
    from dataclasses import asdict

    from planner.uncertainty.sensitivity import sensitivities

    scenario = Scenario.model_validate_json(scenario_json)
    try:
        with with_uploaded_log(scenario, log_content) as runnable:
            found = sensitivities(runnable, catalog=catalog_of(overlays))
    except ValueError as error:  # a scenario or a range the tornado cannot take
        problems = getattr(error, "problems", None) or [str(error)]
        return {"problem": "; ".join(str(p) for p in problems[:5])}
    return {
        view: {
            "sentence": item.sentence(),
            "leader": item.leader,
            "runner_up": item.runner_up,
            "advantage_usd": item.advantage_usd,
            "bars": pd.DataFrame(
                [asdict(bar) for bar in item.bars],
                columns=[
                    "input",
                    "label",
                    "low",
                    "high",
                    "low_npv_delta_usd",
                    "high_npv_delta_usd",
                    "low_cheapest",
                    "high_cheapest",
                ],
            ),
        }
        for view, item in found.items()
    }


def tornado_frame(bars: pd.DataFrame) -> pd.DataFrame:
    """A tornado's bars as shown: each input in words (the library's), its path."""
    return bars.assign(what=bars["label"])[
        [
            "what",
            "low",
            "high",
            "low_npv_delta_usd",
            "high_npv_delta_usd",
            "low_cheapest",
            "high_cheapest",
            "input",
        ]
    ]


TORNADO_COLUMNS = {
    "what": st.column_config.TextColumn("Uncertain input", width="large"),
    "low": st.column_config.NumberColumn("Its P10", format="%.4g"),
    "high": st.column_config.NumberColumn("Its P90", format="%.4g"),
    "low_npv_delta_usd": st.column_config.NumberColumn(
        "Lead change at its P10 (USD)", format="%+,.0f"
    ),
    "high_npv_delta_usd": st.column_config.NumberColumn(
        "Lead change at its P90 (USD)", format="%+,.0f"
    ),
    "low_cheapest": st.column_config.TextColumn("Cheapest at its P10"),
    "high_cheapest": st.column_config.TextColumn("Cheapest at its P90"),
    "input": st.column_config.TextColumn("Path in the ranges (YAML)"),
}
"""Column labels of a tornado table (:func:`tornado_frame`)."""


def tornado_chart(
    shown: pd.DataFrame, *, leader: str, advantage_usd: float, view: str
) -> alt.Chart:
    """Horizontal bars: the change of the leader's lead at each input's P10 and P90.

    ``shown`` is a :func:`tornado_frame` (widest bar first). A dashed line marks
    where the lead is gone (``-advantage_usd``): a bar reaching past it flips
    the recommendation. Money is present value, real USD, in ``view``.
    """
    order = list(dict.fromkeys(shown["what"]))
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "what": shown["what"],
                    "end": f"At its {end}",
                    "value": shown[side],
                    "delta_usd": shown[f"{side}_npv_delta_usd"],
                    "cheapest": shown[f"{side}_cheapest"],
                }
            )
            for end, side in (("P10", "low"), ("P90", "high"))
        ],
        ignore_index=True,
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("what:N", title=None, sort=order, axis=alt.Axis(labelLimit=320)),
            x=alt.X(
                "delta_usd:Q",
                title=clip(
                    f"Change of the lead of {leader}, present value (USD, {view} view)",
                    120,
                ),
                axis=alt.Axis(format="$,.3s"),
            ),
            color=alt.Color(
                "end:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=200)
            ),
            tooltip=[
                alt.Tooltip("what:N", title="Input"),
                alt.Tooltip("end:N", title="End"),
                alt.Tooltip("value:Q", title="Its value", format=".4g"),
                alt.Tooltip("delta_usd:Q", title="Lead change (USD)", format="$,.0f"),
                alt.Tooltip("cheapest:N", title="Cheapest there"),
            ],
        )
    )
    if not math.isfinite(advantage_usd) or advantage_usd <= 0:
        return bars.properties(height=max(120, 40 * len(order)))
    flip = (
        alt.Chart(pd.DataFrame({"delta_usd": [-advantage_usd]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(
            x="delta_usd:Q",
            tooltip=[
                alt.Tooltip(
                    "delta_usd:Q",
                    title="Past this the recommendation flips (USD)",
                    format="$,.0f",
                )
            ],
        )
    )
    return (bars + flip).properties(height=max(120, 40 * len(order)))


def sensitivity_sentence(
    scenario: Scenario, *, log_content: bytes | None = None
) -> dict[str, Any] | None:
    """What decides the verdict of the scenario's view, in one caption.

    The sentence is the library's
    (:meth:`planner.uncertainty.sensitivity.Sensitivity.sentence`). A scenario
    the tornado cannot take gets one caption saying why (and None back).

    Returns
    -------
    dict or None
        The view's tornado for :func:`sensitivity_details`.
    """
    found = sensitivity_of(scenario.model_dump_json(), overlay_key(), log_content)
    if "problem" in found:
        st.caption(
            plain(
                "What decides it is not shown for this scenario: "
                + clip(str(found["problem"]), MAX_ERROR_LINE_CHARACTERS)
            )
        )
        return None
    item: dict[str, Any] = found[scenario.view]
    st.caption(plain(item["sentence"]))
    return item


def sensitivity_details(
    item: dict[str, Any] | None, scenario: Scenario, *, key: str
) -> None:
    """The tornado of :func:`sensitivity_sentence`: its bars and their table."""
    if item is None:
        return
    with st.expander("What decides it"):
        shown = tornado_frame(item["bars"])
        st.altair_chart(
            tornado_chart(
                shown,
                leader=str(item["leader"]),
                advantage_usd=float(item["advantage_usd"]),
                view=scenario.view,
            ),
            width="stretch",
        )
        show_table(shown, key=f"{key}_tornado", column_config=TORNADO_COLUMNS)
        st.caption(
            plain(
                f"Each input alone at its P10 and its P90 of the sourced default "
                f"ranges, the others as the scenario gives them; a bar is the change "
                f"of the lead of {item['leader']} over the cheapest other strategy "
                f"({money(float(item['advantage_usd']))} as given), present value "
                f"in real USD of {scenario.currency_year}, {scenario.view} view. "
                "A bar past the dashed line flips the recommendation. The "
                "Uncertainty page samples every input together."
            )
        )
