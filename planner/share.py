"""A question in a link: plain data as compact, versioned, bounded text.

The app keeps the inputs of a session (the quick comparison, the workbench
scenario, the optimiser's limits, the consortium) in the page's address, so that
a link reopens the same question. :func:`encode_link` turns JSON-ready data into
``v1.`` followed by the URL-safe base64 of its zlib-compressed JSON (sorted keys,
no spaces); :func:`decode_link` reverses it and refuses, with one plain sentence,
anything else: another version, damaged text, a link longer than
:data:`MAX_LINK_CHARACTERS`, or one that would inflate beyond
:data:`MAX_LINK_JSON_BYTES` (a compression bomb). What the data mean is the
caller's business: it validates each part with its pydantic model.

Examples
--------
>>> text = encode_link({"quick": {"demand_value": 25.0}})
>>> text.startswith("v1.")
True
>>> decode_link(text)
{'quick': {'demand_value': 25.0}}
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

LINK_VERSION = 1
"""Format version written by :func:`encode_link` (the ``v1.`` prefix). [-]"""

LINK_PREFIX = f"v{LINK_VERSION}."
"""Text every link of this version starts with. [-]"""

MAX_LINK_CHARACTERS = 16_000
"""Longest link text accepted or written: well inside what browsers and
servers keep in an address (about 32,000 characters for Chromium's address bar,
8 KiB per header line for many proxies is the reason not to go higher), and
about eight times a workbench scenario (about 2,000 characters). [characters]"""

MAX_LINK_JSON_BYTES = 500_000
"""Most bytes a link may inflate to: a hundred times the largest shipped
scenario's JSON, so a crafted link cannot use memory out of proportion. [bytes]"""


class LinkError(ValueError):
    """A link that cannot be read, with the reason in one sentence."""


def encode_link(data: Mapping[str, Any]) -> str:
    """Compact, versioned text of JSON-ready data for an address.

    Parameters
    ----------
    data : mapping
        JSON-ready data (no NaN or infinity).

    Returns
    -------
    str
        ``v1.`` and the URL-safe base64 (no padding) of the zlib-compressed
        JSON.

    Raises
    ------
    LinkError
        If the text would be longer than :data:`MAX_LINK_CHARACTERS`.
    ValueError
        If the data hold NaN or infinity, or are not JSON-ready.

    Examples
    --------
    >>> encode_link({})
    'v1.eNqrrgUAAXUA-Q'
    """
    text = json.dumps(
        dict(data), sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    packed = zlib.compress(text.encode("utf-8"), level=9)
    link = LINK_PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")
    if len(link) > MAX_LINK_CHARACTERS:
        msg = (
            f"the question is too large for a link ({len(link):,} characters, "
            f"at most {MAX_LINK_CHARACTERS:,}); download the scenario instead"
        )
        raise LinkError(msg)
    return link


def _version_of(text: str) -> str | None:
    head, dot, _ = text.partition(".")
    if dot and head.startswith("v") and head[1:].isdigit():
        return head[1:]
    return None


def _refuse_constant(name: str) -> None:
    msg = f"{name} is not a number a question may hold"
    raise ValueError(msg)


def decode_link(text: str) -> dict[str, Any]:
    """The data of a link made by :func:`encode_link`.

    Parameters
    ----------
    text : str
        The link's text (the ``q`` parameter of the app's address).

    Returns
    -------
    dict
        The data.

    Raises
    ------
    LinkError
        If the text is too long, of another version, damaged, inflates beyond
        :data:`MAX_LINK_JSON_BYTES`, nests too deeply, or does not hold a JSON
        object.

    Examples
    --------
    >>> decode_link("v9.abc")
    Traceback (most recent call last):
    ...
    planner.share.LinkError: the link is of version 9; this app reads version 1 links
    """
    if len(text) > MAX_LINK_CHARACTERS:
        msg = (
            f"the link is longer than {MAX_LINK_CHARACTERS:,} characters "
            f"({len(text):,})"
        )
        raise LinkError(msg)
    if not text.startswith(LINK_PREFIX):
        version = _version_of(text)
        if version is not None:
            msg = (
                f"the link is of version {version}; this app reads version "
                f"{LINK_VERSION} links"
            )
        else:
            msg = f"the link does not start with {LINK_PREFIX!r}: it is not a link"
            msg += " made by this app"
        raise LinkError(msg)
    body = text.removeprefix(LINK_PREFIX)
    try:
        padded = body + "=" * (-len(body) % 4)
        packed = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        msg = "the link is damaged (not URL-safe base64): copy it again in full"
        raise LinkError(msg) from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, MAX_LINK_JSON_BYTES)
    except zlib.error:
        msg = "the link is damaged (its data do not decompress): copy it again in full"
        raise LinkError(msg) from None
    if inflater.unconsumed_tail:
        msg = f"the link's data are larger than {MAX_LINK_JSON_BYTES:,} bytes"
        raise LinkError(msg)
    if not inflater.eof:
        msg = "the link is cut short: copy it again in full"
        raise LinkError(msg)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        msg = "the link is damaged (its data are not JSON)"
        raise LinkError(msg) from None
    except RecursionError:
        msg = "the link's data are nested too deeply to be a question"
        raise LinkError(msg) from None
    if not isinstance(data, dict):
        msg = f"the link holds a {type(data).__name__}, not a question"
        raise LinkError(msg)
    return data
