"""JSON for what kbctl writes for itself and reads back on every build: the build environment,
the caches, the output manifests.

orjson reads and writes these, several times faster than the standard library (the manifest
and the environment of a 10,000-entry site are 2 to 8 MB each, decoded and encoded on every
rebuild), to the same bytes as `json.dumps(ensure_ascii=False)` with the separators each
caller asks for (tests/test_jsondata.py). Where orjson refuses what the standard library
accepts (lone surrogates a YAML escape can make, integers beyond 64 bits, NaN and the
infinities in a file), the standard library does the job, so a value reads and writes as it
did before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes) -> Any:
    """The value of JSON text (UTF-8, lone surrogates allowed); ValueError if it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8", "surrogatepass"))


def dumps(value: Any, indent: bool = False) -> bytes:
    """`value` as compact JSON (`indent`: two spaces a level, as `json.dumps(indent=2)`), in
    UTF-8. Only for data of strings, integers, booleans, None, lists and string-keyed dicts:
    orjson writes a float NaN as null, where the standard library writes NaN."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else None)
    except orjson.JSONEncodeError:
        # Lone surrogates, integers beyond 64 bits, keys that are not strings; TypeError for
        # what is not JSON data at all, as before.
        text = json.dumps(value, ensure_ascii=False, indent=2 if indent else None,
                          separators=None if indent else (",", ":"))
        return text.encode("utf-8", "surrogatepass")
