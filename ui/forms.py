"""Forms generated from the pydantic models: one widget per field.

Labels are field names, help texts are the field descriptions (units included),
and each field's validation error is shown right below its widget. Nested lists
of models (deadline surges, consortium members, a hybrid's burst offer) are
edited as YAML snippets.
"""

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import streamlit as st
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from planner.safe_io import SafeIOError, load_yaml
from ui import common

MAX_TEXT_CHARACTERS = 5_000
"""Longest text typed into one field (the longest text field, a scenario's
description, allows 5,000). [characters]"""

MAX_SNIPPET_CHARACTERS = 20_000
"""Longest YAML snippet typed into one field (members, surges, a burst offer):
far more than any real list, far less than the YAML loader's limit. [characters]"""


def _literal_options(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    return None


def _optional_inner(annotation: Any) -> Any | None:
    """Return T for ``T | None``, else None."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            inner = args[0]
            if typing.get_origin(inner) is typing.Annotated:  # e.g. Fraction
                inner = typing.get_args(inner)[0]
            return inner
    return None


def _is_scalar(annotation: Any) -> bool:
    return (
        annotation in (int, float, str, bool)
        or _literal_options(annotation) is not None
    )


def _field_widget(
    name: str,
    info: FieldInfo,
    value: Any,
    key: str,
    errors: Mapping[str, str],
    path: str,
) -> Any:
    annotation = info.annotation
    help_text = info.description
    inner = _optional_inner(annotation)
    if annotation is bool:
        result: Any = st.checkbox(name, value=bool(value), key=key, help=help_text)
    elif (options := _literal_options(annotation)) is not None:
        index = options.index(value) if value in options else 0
        result = st.selectbox(name, options, index=index, key=key, help=help_text)
    elif annotation in (int, float):
        result = st.number_input(
            name,
            value=annotation(value) if value is not None else annotation(0),
            key=key,
            help=help_text,
            step=1 if annotation is int else None,
            format=None if annotation is int else "%.6g",
        )
    elif annotation is str:
        result = st.text_input(
            name,
            value=str(value or "")[:MAX_TEXT_CHARACTERS],
            key=key,
            help=help_text,
            max_chars=MAX_TEXT_CHARACTERS,
        )
    elif inner is not None and _is_scalar(inner):
        text = st.text_input(
            f"{name} (blank = default)",
            value="" if value is None else str(value)[:MAX_TEXT_CHARACTERS],
            key=key,
            help=help_text,
            max_chars=MAX_TEXT_CHARACTERS,
        )
        result = _parse_optional(text, inner)
    else:
        text = st.text_area(
            f"{name} (YAML)",
            max_chars=MAX_SNIPPET_CHARACTERS,
            value=yaml.safe_dump(value, sort_keys=False) if value is not None else "",
            key=key,
            help=help_text,
            height=120,
        )
        try:
            result = load_yaml(text) if text.strip() else None
        except SafeIOError as error:
            common.show_error(f"{path}: {error}")
            result = value
    if path in errors:
        common.show_error(f"{path}: {errors[path]}")
    return result


def _parse_optional(text: str, inner: Any) -> Any:
    text = text.strip()
    if not text:
        return None
    if inner in (int, float):
        try:
            return inner(text)
        except ValueError:
            return text  # the model reports the bad number beside the field
    return text


def model_form(
    model: type[BaseModel],
    data: Mapping[str, Any],
    *,
    path: str,
    key: str,
    errors: Mapping[str, str],
    skip: tuple[str, ...] = (),
    columns: int = 2,
) -> dict[str, Any]:
    """Draw one widget per field of ``model``; return the edited plain data.

    Parameters
    ----------
    model : type of pydantic.BaseModel
        Model whose fields are drawn.
    data : mapping
        Current values (a ``model_dump(mode="json")`` of the model).
    path : str
        Dotted path of this model in the scenario (for error lookup).
    key : str
        Prefix of widget keys (unique per scenario version).
    errors : mapping
        Error message by dotted field path.
    skip : tuple of str
        Fields not drawn (kept as they are).
    columns : int
        Widgets per row.

    Returns
    -------
    dict
        The data with edited values.
    """
    result = dict(data)
    names = [n for n in model.model_fields if n not in skip]
    slots = st.columns(columns)
    for index, name in enumerate(names):
        info = model.model_fields[name]
        field_path = f"{path}.{name}" if path else name
        with slots[index % columns]:
            result[name] = _field_widget(
                name,
                info,
                data.get(name, info.get_default(call_default_factory=True)),
                f"{key}|{field_path}",
                errors,
                field_path,
            )
    return result
