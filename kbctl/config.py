"""kbctl.yaml → a frozen Config. Every problem is a UsageError naming file, line and problem."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

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
    stored = kb_cache.load(root, "config", key).get("config")
    if stored is not None:
        return config_from(root, stored)
    config = _parse(root)
    try:
        kb_cache.save(root, "config", key, {"config": config_data(config)})
    except NotData:
        pass  # a setting JSON cannot carry: parsed again next time
    return config


# -- the config as JSON data, for the cache ------------------------------------------------------
# Plain data only (kbctl/cache.py): records are lists in field order; the YAML values (from
# ruamel, whose scalars subclass str, int and float) are written as those base types.

class NotData(ValueError):
    """A setting that is not plain JSON data."""


def config_data(config: Config) -> list:
    return [
        config.name, config.default_locale, list(config.locales), config.base_url,
        [[o.key, o.name, o.github] for o in config.owners.values()],
        [_node_data(node) for node in config.taxonomy],
        _interval_data(config.default_interval),
        {name: _interval_data(interval) for name, interval in config.type_intervals.items()},
        _interval_data(config.warn_within),
        [[c.name, c.kind, c.audience, c.select, _plain(c.options)] for c in config.channels.values()],
        _plain(config.speech), _plain(config.raw), config.lines,
    ]


def config_from(root: Path, data: list) -> Config:
    """The Config `config_data` wrote (sealed: kbctl's own data, from this very code)."""
    (name, default_locale, locales, base_url, owners, taxonomy, default_interval, type_intervals,
     warn_within, channels, speech, raw, lines) = data
    return Config(
        path=root / CONFIG_NAME, name=name, default_locale=default_locale, locales=tuple(locales),
        base_url=base_url, owners={key: Owner(key, name, github) for key, name, github in owners},
        taxonomy=tuple(_node_from(node) for node in taxonomy),
        default_interval=dt.timedelta(*default_interval),
        type_intervals={kind: dt.timedelta(*interval) for kind, interval in type_intervals.items()},
        warn_within=dt.timedelta(*warn_within),
        channels={c[0]: Channel(*c) for c in channels},
        speech=speech, raw=raw, lines=lines,
    )


def _node_data(node: TaxonomyNode) -> list:
    return [node.id, node.path, _plain(node.titles), node.dtmf, [_node_data(c) for c in node.children], node.line]


def _node_from(data: list) -> TaxonomyNode:
    node_id, path, titles, dtmf, children, line = data
    return TaxonomyNode(node_id, path, titles, dtmf, tuple(_node_from(c) for c in children), line)


def _interval_data(interval: dt.timedelta) -> list[int]:
    return [interval.days, interval.seconds, interval.microseconds]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {str(key): _plain(item) for key, item in value.items()}
    raise NotData(f"a setting of type {type(value).__name__}")


def _parse(root: Path) -> Config:
    from kbctl.config_load import parse_config

    return parse_config(root)
