"""`kbctl validate`: load → check → the findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kbctl.checks import run_validate
from kbctl.config import Config
from kbctl.load import load_kb
from kbctl.model import Diagnostic, KnowledgeBase


def validate(root: Path, config: Config, as_of: dt.date) -> tuple[KnowledgeBase, list[Diagnostic]]:
    kb = load_kb(root, config)
    return kb, run_validate(kb, as_of)
