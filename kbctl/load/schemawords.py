"""kbctl's words for a JSON Schema violation, composed from what failed, not from jsonschema's
message: that text changes across jsonschema releases, and speaks of arrays and properties
where editors write lists and keys. Used for entries' `schema` findings and kbctl.yaml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

_KINDS = {
    "string": "a string", "array": "a list", "object": "a mapping of keys", "number": "a number",
    "integer": "a whole number", "boolean": "true or false", "null": "empty",
}


def describe(error: jsonschema.ValidationError) -> str:
    """What is wrong with the value at the error's path, in one line (the path not included)."""
    rule, expected, value = error.validator, error.validator_value, error.instance
    if rule == "required":
        missing = missing_keys(error)
        return f"missing required key{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}"
    if rule == "additionalProperties":
        return f"unknown key {', '.join(map(repr, unknown_keys(error)))}"
    if rule == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"{value!r} is not {' or '.join(_KINDS.get(kind, kind) for kind in kinds)}"
    if rule == "enum":
        return f"{value!r} is not one of {', '.join(map(repr, expected))}"
    if rule == "const":
        return f"{value!r} is not {expected!r}"
    if rule == "pattern":
        return f"{value!r} does not match '{expected}'"
    if rule == "format":
        return f"{value!r} is not a valid {expected}"
    if rule in ("minLength", "minItems", "minProperties"):
        return "must not be empty" if expected == 1 else f"must hold at least {expected} {_UNITS[rule]}"
    if rule in ("maxLength", "maxItems", "maxProperties"):
        return f"must hold at most {expected} {_UNITS[rule]}"
    if rule == "uniqueItems":
        return f"{_repeated(value)!r} is listed twice"
    if rule in _BOUNDS:
        return f"{value!r} must be {_BOUNDS[rule]} {expected!r}"
    return f"{value!r} is not allowed here"  # oneOf, not, if/then and the like


_UNITS = {
    "minLength": "characters", "maxLength": "characters", "minItems": "items",
    "maxItems": "items", "minProperties": "keys", "maxProperties": "keys",
}
_BOUNDS = {
    "minimum": "at least", "maximum": "at most",
    "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than",
}


def missing_keys(error: jsonschema.ValidationError) -> list[str]:
    """The required keys the mapping lacks, in the schema's order (jsonschema makes one error
    per missing key, and says which only in its message)."""
    present = error.instance if isinstance(error.instance, dict) else {}
    return [str(key) for key in error.validator_value if key not in present]


def unknown_keys(error: jsonschema.ValidationError) -> list[str]:
    known = error.schema.get("properties", {})
    return sorted(str(key) for key in error.instance if key not in known)


def _repeated(items: Any) -> Any:
    seen: list = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None
