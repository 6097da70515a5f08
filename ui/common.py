"""Widgets, charts and the safety rails shared by the pages.

Help text comes from the pydantic field descriptions, errors are shown beside the
field, and charts draw library results (no model logic here). Every text that
may carry a user's value is shown as plain text (:func:`plain`), never as
Markdown; :func:`run_app` is the app's one handler for anything unexpected (a
one-line message with an id on the page, the traceback in the server log).
Uploads are read in memory; a scenario may not name a file on the server
(:func:`named_file_problem`).
"""

import contextlib
import logging
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

from planner.safe_io import clip, shorten
from planner.scenario import Scenario

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


def _error_below(errors: Mapping[str, str], name: str) -> None:
    if name in errors:
        show_error(f"{name}: {errors[name]}")


def number(
    fields: Mapping[str, FieldInfo],
    name: str,
    label: str,
    default: float,
    errors: Mapping[str, str],
    key_prefix: str,
) -> Any:
    """Number input keyed ``{prefix}_{name}``; bounds are checked by the model."""
    value = st.number_input(
        label,
        value=default,
        key=f"{key_prefix}_{name}",
        help=_help(fields, name),
    )
    _error_below(errors, name)
    return value


def select(
    fields: Mapping[str, FieldInfo],
    name: str,
    label: str,
    options: Sequence[Any],
    default: Any,
    errors: Mapping[str, str],
    key_prefix: str,
) -> Any:
    """Select box keyed ``{prefix}_{name}``."""
    options = list(options)
    index = options.index(default) if default in options else 0
    value = st.selectbox(
        label,
        options,
        index=index,
        key=f"{key_prefix}_{name}",
        help=_help(fields, name),
    )
    _error_below(errors, name)
    return value


def radio(
    fields: Mapping[str, FieldInfo],
    name: str,
    label: str,
    options: Sequence[Any],
    default: Any,
    errors: Mapping[str, str],
    *,
    key_prefix: str,
    labels: Mapping[Any, str] | None = None,
) -> Any:
    """Horizontal radio keyed ``{prefix}_{name}``."""
    options = list(options)
    value = st.radio(
        label,
        options,
        index=options.index(default),
        key=f"{key_prefix}_{name}",
        help=_help(fields, name),
        horizontal=True,
        format_func=(lambda o: labels.get(o, str(o))) if labels else str,
    )
    _error_below(errors, name)
    return value


def percent(value: float | None) -> str:
    """Format a share as a percentage, or 'never' when there is none."""
    return "never" if value is None else f"{100 * value:.0f} %"


def money(value: float) -> str:
    """Format US dollars to the dollar."""
    return f"${value:,.0f}"


def cumulative_chart(
    cumulative: pd.DataFrame, break_even_year: int | None
) -> alt.Chart:
    """Cumulative present value of each strategy by calendar year."""
    lines = (
        alt.Chart(cumulative)
        .mark_line(point=True)
        .encode(
            x=alt.X("calendar_year:O", title="Year"),
            y=alt.Y(
                "cumulative_pv_usd:Q", title="Cumulative cost, present value (USD)"
            ),
            color=alt.Color("strategy:N", title=None),
            tooltip=[
                "strategy",
                "calendar_year",
                alt.Tooltip("cumulative_pv_usd", format=",.0f"),
            ],
        )
    )
    if break_even_year is None:
        return lines
    year = int(cumulative["calendar_year"].min()) + break_even_year
    rule = (
        alt.Chart(pd.DataFrame({"calendar_year": [year], "label": ["break-even"]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(x="calendar_year:O")
    )
    return lines + rule


def carbon_chart(summary: pd.DataFrame) -> alt.Chart:
    """Operational and embodied CO2e of each strategy, in tonnes."""
    data = pd.DataFrame(
        {
            "strategy": list(summary["strategy"]) * 2,
            "scope": ["operational"] * len(summary) + ["embodied"] * len(summary),
            "co2e_t": list((summary["co2e_kg"] - summary["co2e_embodied_kg"]) / 1e3)
            + list(summary["co2e_embodied_kg"] / 1e3),
        }
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("strategy:N", title=None),
            x=alt.X("co2e_t:Q", title="t CO2e over the horizon", stack="zero"),
            color=alt.Color("scope:N", title=None),
        )
    )
