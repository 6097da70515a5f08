"""The link codec: round trip, bounds, and one clear sentence for bad links."""

import base64
import json
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.quick import QuickCompare
from planner.scenario import load_preset
from planner.share import (
    LINK_PREFIX,
    MAX_LINK_CHARACTERS,
    MAX_LINK_JSON_BYTES,
    LinkError,
    decode_link,
    encode_link,
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=5))
def test_encode_link_round_trips_json_data(data):
    assert decode_link(encode_link(data)) == data


def test_encode_link_keeps_a_scenario_exact_and_compact():
    scenario = load_preset("department")
    data = {"scenario": scenario.model_dump(mode="json"), "quick": {}}
    link = encode_link(data)
    assert link.startswith(LINK_PREFIX)
    assert len(link) < 4_000  # the JSON is about 6,300 characters
    assert set(link.removeprefix(LINK_PREFIX)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    back = decode_link(link)
    assert type(scenario).model_validate(back["scenario"]) == scenario


def test_encode_link_is_stable_for_equal_data():
    quick = QuickCompare(demand_value=25.0).model_dump(mode="json")
    assert encode_link(quick) == encode_link(dict(reversed(list(quick.items()))))


def test_encode_link_refuses_nan_and_oversized_data():
    with pytest.raises(ValueError, match="JSON"):
        encode_link({"x": float("nan")})
    noise = base64.b64encode(random.Random(0).randbytes(20_000)).decode()
    with pytest.raises(LinkError, match="too large for a link"):
        encode_link({"x": noise})


def _pack(raw: bytes) -> str:
    return LINK_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw)).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v2.eNqrrgUAAXUA-Q", "version 2; this app reads version 1"),
        ("hello", "not a link made by this app"),
        ("v1.***", "not URL-safe base64"),
        ("v1.aGVsbG8", "do not decompress"),
        ("v1." + "A" * (MAX_LINK_CHARACTERS + 1), "longer than"),
        (_pack(b"[1, 2]"), "holds a list, not a question"),
        (_pack(b"{bad json"), "not JSON"),
        (_pack(b'{"x": NaN}'), "not JSON"),
        (_pack(b'{"x": "' + b"a" * (MAX_LINK_JSON_BYTES + 10) + b'"}'), "larger"),
        (encode_link({"a": "b" * 500})[:-6], "cut short|damaged"),
        (_pack(b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"), "nested"),
    ],
)
def test_decode_link_says_what_is_wrong(text, message):
    with pytest.raises(LinkError, match=message):
        decode_link(text)


def test_decode_link_bounds_a_compression_bomb():
    bomb = _pack(json.dumps({"x": "0" * 10_000_000}).encode())
    assert len(bomb) < MAX_LINK_CHARACTERS
    with pytest.raises(LinkError, match="larger than"):
        decode_link(bomb)
