"""Forms generated from the pydantic models: one widget per field.

Labels are words from the field descriptions (:func:`planner.display.field_label`),
help texts are the descriptions (units included), and each field's validation
error is shown right below its widget. Choices are select boxes, lists of
choices multi-selects, lists of names or years comma-separated text; only nested
lists of models (deadline surges, consortium members, a hybrid's burst offer)
are edited as YAML snippets.
"""

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import streamlit as st
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from planner import display
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


def _tuple_item(annotation: Any) -> Any | None:
    """Return T for ``tuple[T, ...]`` (or ``tuple[T, ...] | None``), else None."""
    candidates = [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = list(typing.get_args(annotation))
    for target in candidates:
        if typing.get_origin(target) is tuple:
            args = typing.get_args(target)
            if len(args) == 2 and args[1] is Ellipsis:
                return args[0]
    return None


def _union_literals(annotation: Any) -> list[Any]:
    """Literal values allowed beside a tuple (``tuple[str, ...] | "all" | None``)."""
    values: list[Any] = []
    for arg in typing.get_args(annotation):
        values.extend(_literal_options(arg) or [])
    return values


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
    label = display.field_label(name, info)
    inner = _optional_inner(annotation)
    item = _tuple_item(annotation)
    if annotation is bool:
        result: Any = st.checkbox(label, value=bool(value), key=key, help=help_text)
    elif (options := _literal_options(annotation)) is not None:
        index = options.index(value) if value in options else 0
        result = st.selectbox(label, options, index=index, key=key, help=help_text)
    elif inner is not None and (choices := _literal_options(inner)) is not None:
        everything = [None, *choices]
        index = everything.index(value) if value in everything else 0
        result = st.selectbox(
            label,
            everything,
            index=index,
            key=key,
            help=help_text,
            format_func=lambda o: "default" if o is None else str(o),
        )
    elif annotation in (int, float):
        result = st.number_input(
            label,
            value=annotation(value) if value is not None else annotation(0),
            key=key,
            help=help_text,
            step=1 if annotation is int else None,
            format=None if annotation is int else "%.6g",
        )
    elif annotation is str:
        result = st.text_input(
            label,
            value=str(value or "")[:MAX_TEXT_CHARACTERS],
            key=key,
            help=help_text,
            max_chars=MAX_TEXT_CHARACTERS,
        )
    elif item is not None and (choices := _literal_options(item)) is not None:
        chosen = [v for v in (value or ()) if v in choices]
        result = tuple(
            st.multiselect(label, choices, default=chosen, key=key, help=help_text)
        )
    elif item in (str, int):
        extra = _union_literals(annotation)
        words = " or ".join(str(e) for e in extra)
        hint = "comma-separated" + (f", or {words}" if words else "")
        if type(None) in typing.get_args(annotation):
            hint += "; blank = default"
        if isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = "" if value is None else str(value)
        text = st.text_input(
            f"{label} ({hint})",
            value=shown[:MAX_TEXT_CHARACTERS],
            key=key,
            help=help_text,
            max_chars=MAX_TEXT_CHARACTERS,
        )
        result = _parse_list(text, item, extra)
    elif inner is not None and _is_scalar(inner):
        text = st.text_input(
            f"{label} (blank = default)",
            value="" if value is None else str(value)[:MAX_TEXT_CHARACTERS],
            key=key,
            help=help_text,
            max_chars=MAX_TEXT_CHARACTERS,
        )
        result = _parse_optional(text, inner)
    else:
        text = st.text_area(
            f"{label} (YAML)",
            max_chars=MAX_SNIPPET_CHARACTERS,
            value=yaml.safe_dump(value, sort_keys=False) if value is not None else "",
            key=key,
            help=help_text,
            height=120,
        )
        try:
            result = load_yaml(text) if text.strip() else None
        except SafeIOError as error:
            common.show_error(f"{label}: {error}")
            result = value
    if path in errors:
        common.show_error(f"{label}: {errors[path]}")
    return result


def _parse_list(text: str, item: Any, extra: list[Any]) -> Any:
    """Comma-separated names or numbers; blank is None; a bad one goes to the model."""
    text = text.strip()
    if not text:
        return None
    if text in [str(e) for e in extra]:
        return text
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if item is int:
        numbers: list[Any] = []
        for part in parts:
            try:
                numbers.append(int(part))
            except ValueError:
                numbers.append(part)  # the model reports the bad number
        return numbers
    return parts


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
