"""CONTRACT 3.1: `{"version": 1, "diagnostics": [...], "summary": {...}}`."""

from __future__ import annotations

import json


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
    json.dump(payload(diagnostics, summary), out, ensure_ascii=False, indent=2)
    out.write("\n")
