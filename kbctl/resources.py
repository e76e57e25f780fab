"""Where the schemas, templates and site assets are: in the wheel, or in the source tree."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`schemas`, `templates` or `site`: packaged copy first, then the repository's."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


@cache
def load_schema(filename: str) -> dict:
    return json.loads((data_dir("schemas") / filename).read_text(encoding="utf-8"))
