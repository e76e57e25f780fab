"""CONTRACT 3.1: `{"version": 1, "diagnostics": [...], "summary": {...}}`."""

from __future__ import annotations

import json

from kbctl.report.text import INVISIBLE

# json escapes C0 controls itself (and indents with newlines); DEL, C1 controls, the line
# separators and bidi controls it leaves raw, where a terminal would act on them.
_RAW = {point: f"\\u{point:04x}" for point in INVISIBLE if point > 0x1F}


def payload(diagnostics, summary) -> dict:
    return {
        "version": 1,
        "diagnostics": [d.to_json() for d in diagnostics],
        "summary": {
            "entries": summary.entries,
            "errors": summary.errors,
            "warnings": summary.warnings,
            "infos": summary.infos,
        },
    }


def write(diagnostics, summary, out) -> None:
    dump(payload(diagnostics, summary), out)


def dump(data, out) -> None:
    """`data` as indented JSON that keeps non-ASCII text readable and controls escaped."""
    out.write(json.dumps(data, ensure_ascii=False, indent=2).translate(_RAW) + "\n")
