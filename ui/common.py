"""Widgets and charts shared by the pages.

Help text comes from the pydantic field descriptions, errors are shown beside the
field, and charts draw library results (no model logic here).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError
from pydantic.fields import FieldInfo


def field_errors(error: ValidationError) -> dict[str, str]:
    """Map each invalid field (dotted path) to its message."""
    errors: dict[str, str] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "_"
        message = str(item["msg"]).removeprefix("Value error, ")
        errors[path] = f"{message} (got {item.get('input')!r})"
    return errors


def _help(fields: Mapping[str, FieldInfo], name: str) -> str | None:
    return fields[name].description


def _error_below(errors: Mapping[str, str], name: str) -> None:
    if name in errors:
        st.error(f"{name}: {errors[name]}")


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
