"""kbctl/jsondata.py writes the bytes the json module would, and reads what it reads."""

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from kbctl import jsondata

# What the environment, caches and manifests hold: no floats (jsondata.dumps says why).
keys = st.text(max_size=8)
data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def stdlib(value, indent=False) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=2 if indent else None,
                      separators=None if indent else (",", ":"))
    return text.encode("utf-8", "surrogatepass")


@given(data)
def test_same_bytes_as_the_json_module(value):
    assert jsondata.dumps(value) == stdlib(value)
    assert jsondata.dumps(value, indent=True) == stdlib(value, indent=True)
    assert jsondata.loads(stdlib(value)) == value


def test_what_orjson_refuses_is_written_and_read_as_before():
    for value in ({"title": "\ud800 lone"}, [2**70, -(2**70)], {1: "an int key"}):
        assert jsondata.dumps(value) == stdlib(value)
        assert jsondata.loads(stdlib(value)) == json.loads(stdlib(value).decode("utf-8", "surrogatepass"))
    assert math.isnan(jsondata.loads(b"[NaN]")[0])
    assert jsondata.loads(b'["\\ud800"]') == ["\ud800"]


def test_not_json_is_a_value_error():
    for blob in (b"", b"{", b"\xff\xfe", b'{"a": }'):
        try:
            jsondata.loads(blob)
        except ValueError:
            continue
        raise AssertionError(f"{blob!r} read as JSON")


def test_what_is_not_json_data_is_a_type_error():
    try:
        jsondata.dumps({"a": object()})
    except TypeError:
        return
    raise AssertionError("an object written as JSON")
