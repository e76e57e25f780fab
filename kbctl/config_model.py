"""What a kbctl.yaml means: the frozen Config and its parts, the file's name and limits.

Below both kbctl.config (which finds and caches a Config) and kbctl.config_load (which reads
one from YAML), so that neither imports the other back; kbctl.config re-exports these names."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kbctl.facts import Fact, facts_from_config
from kbctl.model import VISIBILITY_RANK
from kbctl.usage.settings import UsageSettings, usage_settings

CONFIG_NAME = "kbctl.yaml"
_INTERVAL = re.compile(r"^([1-9][0-9]*)([dwmy])$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
# Room for a taxonomy many levels deep; ruamel's pure-Python composer recurses per level and
# takes seconds to reach its RecursionError on a few hundred nested brackets.
MAX_CONFIG_DEPTH = 64
DEFAULT_MAX_CHUNK_CHARS = 1500


def parse_interval(text: str) -> dt.timedelta:
    """`Nd`, `Nw`, `Nm` (30 days) or `Ny` (365 days), as CONTRACT 3.2 defines them."""
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"not an interval: {text!r} (use Nd, Nw, Nm or Ny)")
    return dt.timedelta(days=int(match.group(1)) * _UNIT_DAYS[match.group(2)])


@dataclass(frozen=True)
class Owner:
    key: str
    name: str
    github: str | None = None


@dataclass(frozen=True)
class TaxonomyNode:
    id: str
    path: str  # "billing/payments"
    titles: dict[str, str]
    dtmf: str | None
    children: tuple[TaxonomyNode, ...]
    line: int | None

    def title(self, locale: str, default_locale: str) -> str:
        return self.titles.get(locale) or self.titles.get(default_locale) or next(
            iter(self.titles.values()), self.id
        )


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    audience: str
    select: str = "all"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def audience_rank(self) -> int:
        return VISIBILITY_RANK[self.audience]

    @property
    def opt_in(self) -> bool:
        return self.select == "opt-in"

    @property
    def llms(self) -> bool:
        """A site channel's Markdown copies, llms.txt and llms-full.txt (CONTRACT 8); default on."""
        return bool(self.options.get("llms", True))

    @property
    def feedback_endpoint(self) -> str | None:
        """A site channel's `feedback.endpoint` (CONTRACT 7): where its pages send usage events;
        None: the pages show no feedback control and send nothing."""
        feedback = self.options.get("feedback") or {}
        return feedback.get("endpoint") or None

    @property
    def formats(self) -> tuple[str, ...]:
        """The files a faq (json, dialogflow-csv, azure-qna-tsv) or rag (jsonl, bedrock) channel
        writes; the schema checks the names."""
        default = {"faq": ("json",), "rag": ("jsonl",)}.get(self.kind, ())
        return tuple(self.options.get("formats") or default)

    @property
    def max_chunk_chars(self) -> int:
        """A rag channel's chunk size limit, in characters of text (CONTRACT 8)."""
        return int(self.options.get("max_chunk_chars", DEFAULT_MAX_CHUNK_CHARS))


@dataclass(frozen=True)
class Config:
    path: Path
    name: str
    default_locale: str
    locales: tuple[str, ...]
    base_url: str | None
    owners: dict[str, Owner]
    taxonomy: tuple[TaxonomyNode, ...]
    default_interval: dt.timedelta
    type_intervals: dict[str, dt.timedelta]
    warn_within: dt.timedelta
    channels: dict[str, Channel]
    speech: dict[str, dict[str, float]]
    raw: dict[str, Any]
    lines: dict[str, int]  # taxonomy path, "dtmf:PATH", "channels/NAME", "owners/KEY" -> line

    @cached_property
    def nodes(self) -> dict[str, TaxonomyNode]:
        """Every taxonomy node by its path (asked once per entry by several channels)."""
        return _flatten(self.taxonomy)

    @cached_property
    def facts(self) -> dict[str, Fact]:
        """`facts:`, by name (CONTRACT section 6)."""
        return facts_from_config(self.raw.get("facts") or {}, self.lines)

    @cached_property
    def usage(self) -> UsageSettings:
        """`usage:`, the usage data and the thresholds of its rules (CONTRACT section 7)."""
        return usage_settings(self.raw.get("usage"), self.lines, parse_interval)

    def channel_base_url(self, channel: Channel) -> str | None:
        url = channel.options.get("base_url") or self.base_url
        return url.rstrip("/") if url else None


def _all_nodes(nodes: tuple[TaxonomyNode, ...]):
    for node in nodes:
        yield node
        yield from _all_nodes(node.children)


def _flatten(nodes: tuple[TaxonomyNode, ...]) -> dict[str, TaxonomyNode]:
    out: dict[str, TaxonomyNode] = {}
    for node in nodes:
        out[node.path] = node
        out.update(_flatten(node.children))
    return out
