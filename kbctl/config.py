"""kbctl.yaml → a frozen Config. Every problem is a UsageError naming file, line and problem."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kbctl.config_model import (
    CONFIG_NAME,
    MAX_CONFIG_DEPTH,
    Channel,
    Config,
    Owner,
    TaxonomyNode,
    parse_interval,
)
from kbctl.errors import UsageError

__all__ = ["CONFIG_NAME", "MAX_CONFIG_DEPTH", "Channel", "Config", "Owner", "TaxonomyNode",
           "find_root", "load_config", "parse_interval"]


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding kbctl.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise UsageError(f"no {CONFIG_NAME} in {start} or any parent folder (use --root DIR)")


def load_config(root: Path) -> Config:
    """kbctl.yaml as a Config; a file already validated is taken from the cache, so that a
    no-change rebuild pays for neither the YAML round-trip parser nor JSON Schema."""
    from kbctl import cache as kb_cache

    try:
        key = kb_cache.cache_key("config", hashlib.sha256((root / CONFIG_NAME).read_bytes()).hexdigest())
    except OSError:
        return _parse(root)  # says what is wrong with the file
    hit = kb_cache.load(root, "config", key).get("config")
    if isinstance(hit, Config) and hit.path == root / CONFIG_NAME:
        return hit
    config = _parse(root)
    kb_cache.save(root, "config", key, {"config": config})
    return config


def _parse(root: Path) -> Config:
    from kbctl.config_load import parse_config

    return parse_config(root)
