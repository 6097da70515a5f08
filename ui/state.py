"""One question per session: the inputs every page shares, kept and in the address.

The session holds one *question* in ``st.session_state[QUESTION]``: a validated
part per page (:data:`PARTS`: the quick comparison, the workbench scenario, the
optimiser's limits, the consortium), inputs only, never results. Pages read
their part, draw widgets whose values start from it (:func:`bind`), and store
the validated inputs back (:func:`store`), so a page left and reopened shows
the same inputs, and the Optimiser plans the workbench scenario as edited.

The parts that differ from their defaults travel in the address as
``?q=v1.…`` (:mod:`planner.share`: zlib and URL-safe base64 of their JSON,
versioned and bounded): :func:`start` reads a link once per session, validates
each part with its model and keeps what is valid (a broken link is one plain
message and the current question stays); :func:`publish` writes the link after
each run, so the address always reopens the same question.

The session also keeps the catalog overlays uploaded on the Data page
(:func:`overlays`, :func:`add_overlay`, :func:`remove_overlay`): at most one
per catalog, each within the catalog's size limit, held as text (never a path).
Every page prices with the catalog they make; they are not part of the link.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import streamlit as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.demand_units import DemandKind
from planner.optimise import OptimiseOptions
from planner.pooling import DEFAULT_OWN_NAME, RULES
from planner.quick import QuickCompare
from planner.scenario import Scenario, load_preset, validation_problems
from planner.share import LinkError, decode_link, encode_link
from pricing.catalog import CATALOG_NAMES, MAX_OVERLAY_CHARACTERS, Overlay

QUESTION = "question"
"""Session-state key of the session's question (one validated part per page)."""

PROBLEM = "question_link_problem"
"""Session-state key of the message about a link that could not be opened."""

STARTED = "question_started"
"""Session-state key set once the session's link has been read."""

PARAM = "q"
"""Query parameter holding the question (``?q=v1.…``)."""

OVERLAYS = "session_overlays"
"""Session-state key of the session's catalog overlays (one per catalog name)."""

View = Literal["institution", "award"]


class Part(BaseModel):
    """One page's inputs (strict: unknown keys are refused, as in scenarios)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class QuickPart(Part):
    """Quick compare: the inputs, the place chosen and the view of the tables."""

    inputs: QuickCompare = QuickCompare()
    place: str | None = Field("US", max_length=80)
    view: View = "institution"


@functools.cache
def _preset(name: str) -> Scenario:
    return load_preset(name)


class WorkbenchPart(Part):
    """The workbench scenario (the session's scenario) and its place."""

    scenario: Scenario = Field(default_factory=lambda: _preset("department"))
    place: str | None = Field(None, max_length=80)


class OptimiserPart(Part):
    """The optimiser's scenario source and limits; ``run`` once Optimise was pressed."""

    source: Literal["workbench", "example"] = "workbench"
    preset: str = Field("department", max_length=40)
    options: OptimiseOptions = OptimiseOptions()
    pareto_points: int = Field(0, ge=0, le=20)
    run: bool = False


class ConsortiumPart(Part):
    """The consortium: its scenario (the example's or the workbench's) and names."""

    source: Literal["example", "workbench"] = "example"
    scenario: Scenario = Field(default_factory=lambda: _preset("consortium"))
    own_name: str = Field(DEFAULT_OWN_NAME, min_length=1, max_length=80)
    unit: DemandKind = "busy_gpus"
    rule: str = "shapley"
    place: str | None = Field(None, max_length=80)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in RULES:
            msg = f"rule must be one of {list(RULES)}"
            raise ValueError(msg)
        return value


PARTS: dict[str, type[Part]] = {
    "quick": QuickPart,
    "workbench": WorkbenchPart,
    "optimiser": OptimiserPart,
    "consortium": ConsortiumPart,
}
"""Each page's part of the question, by name."""

PART_LABELS = {
    "quick": "quick comparison",
    "workbench": "workbench scenario",
    "optimiser": "optimiser limits",
    "consortium": "consortium",
}

PartT = TypeVar("PartT", bound=Part)


@functools.cache
def _default_json(name: str) -> str:
    return PARTS[name]().model_dump_json()


def _question() -> dict[str, Part]:
    question: dict[str, Part] = st.session_state.setdefault(QUESTION, {})
    return question


def get(name: str, model: type[PartT]) -> PartT:
    """The session's part ``name`` (its default until a page stores one)."""
    question = _question()
    if name not in question:
        question[name] = model()
    part = question[name]
    assert isinstance(part, model)
    return part


def store(name: str, part: Part) -> None:
    """Keep a page's validated inputs as the session's part ``name``."""
    _question()[name] = part


def bind(key: str, value: Any) -> str:
    """A widget key whose value starts from the question when it is (re)created.

    Streamlit drops a widget's state when its page is left; giving the key its
    value from the question before the widget is drawn (without ``value=``)
    brings the inputs back on return.
    """
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def forget_widgets(prefix: str) -> None:
    """Drop the widget values starting with ``prefix`` (they refill from the part)."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def _parts_from_link(data: dict[str, Any]) -> tuple[dict[str, Part], list[str]]:
    parts: dict[str, Part] = {}
    problems: list[str] = []
    unknown = sorted(set(data) - set(PARTS))
    if unknown:
        problems.append(f"unknown parts {unknown} were ignored")
    for name, model in PARTS.items():
        if name not in data:
            continue
        try:
            parts[name] = model.model_validate(data[name])
        except ValidationError as error:
            lines = validation_problems(error, max_listed=5)
            problems.append(f"its {PART_LABELS[name]} is invalid: " + "; ".join(lines))
    return parts, problems


def start() -> None:
    """Read the session's link once; keep what is valid, say what is not."""
    state = st.session_state
    if state.get(STARTED):
        return
    state[STARTED] = True
    text = st.query_params.get(PARAM)
    if not text:
        return
    try:
        data = decode_link(text)
    except LinkError as error:
        state[PROBLEM] = (
            f"This link could not be opened: {error}. The current question is kept."
        )
        return
    parts, problems = _parts_from_link(data)
    _question().update(parts)
    if problems:
        kept = "; ".join(problems)
        state[PROBLEM] = (
            f"Part of this link could not be opened: {kept}. Those inputs keep "
            "their defaults."
        )


def link() -> str | None:
    """The link text of the question (None when every part is its default)."""
    data = {
        name: part.model_dump(mode="json")
        for name, part in _question().items()
        if part.model_dump_json() != _default_json(name)
    }
    if not data:
        return None
    return encode_link(data)


def publish() -> None:
    """Write the question into the address (``?q=``), or say why it cannot be."""
    try:
        text = link()
    except LinkError as error:
        st.caption(f"The address does not hold this question: {error}.")
        return
    current = st.query_params.get(PARAM)
    if text is None:
        if current is not None:
            del st.query_params[PARAM]
    elif current != text:
        st.query_params[PARAM] = text


def share_url(text: str | None) -> str:
    """The app's address with the question's link, for copying."""
    base = (getattr(st.context, "url", None) or "").split("?")[0]
    return f"{base}?{PARAM}={text}" if text else base


def problem_banner(show: Callable[[str], None]) -> None:
    """Show the message about a link that could not be opened, until dismissed."""
    message = st.session_state.get(PROBLEM)
    if not message:
        return
    show(message)
    if st.button("Dismiss", key="question_dismiss"):
        del st.session_state[PROBLEM]
        st.rerun()


def _overlay_store() -> dict[str, Overlay]:
    store: dict[str, Overlay] = st.session_state.setdefault(OVERLAYS, {})
    return store


def overlays() -> tuple[Overlay, ...]:
    """The session's overlays, in catalog order (accelerators before servers).

    A servers overlay may name an accelerator that an accelerators overlay
    adds, so the accelerators one is applied first.
    """
    store = _overlay_store()
    return tuple(store[name] for name in CATALOG_NAMES if name in store)


def with_overlay(overlay: Overlay) -> tuple[Overlay, ...]:
    """The session's overlays with ``overlay`` in place of its catalog's (not kept).

    Raises
    ------
    ValueError
        If the catalog is unknown or the text is larger than the catalog's
        limit (:data:`pricing.catalog.MAX_OVERLAY_CHARACTERS`).
    """
    if overlay.catalog not in CATALOG_NAMES:
        msg = f"unknown catalog {overlay.catalog!r}; choose one of {CATALOG_NAMES}"
        raise ValueError(msg)
    if len(overlay.text) > MAX_OVERLAY_CHARACTERS:
        msg = f"larger than {MAX_OVERLAY_CHARACTERS:,} characters"
        raise ValueError(msg)
    store = dict(_overlay_store()) | {overlay.catalog: overlay}
    return tuple(store[name] for name in CATALOG_NAMES if name in store)


def add_overlay(overlay: Overlay) -> None:
    """Keep ``overlay`` for the session, replacing any for the same catalog.

    The caller validates it first (the Data page builds the catalog it makes).

    Raises
    ------
    ValueError
        As :func:`with_overlay`.
    """
    with_overlay(overlay)
    _overlay_store()[overlay.catalog] = overlay


def without_overlay(catalog_name: str) -> tuple[Overlay, ...]:
    """The session's overlays without the one for ``catalog_name`` (not kept)."""
    return tuple(o for o in overlays() if o.catalog != catalog_name)


def remove_overlay(catalog_name: str) -> None:
    """Drop the session's overlay for ``catalog_name`` (nothing if it has none)."""
    _overlay_store().pop(catalog_name, None)
