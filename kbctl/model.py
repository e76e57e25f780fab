"""The data kbctl works on: diagnostics, entries and the knowledge-base index.

Everything here is a plain record. Loading fills them in; checks and channels only read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Ordered by place so reports are stable."""

    path: str | None
    line: int | None
    rule: str
    severity: Severity
    message: str
    entry: str | None = None
    code: str | None = None

    def sort_key(self) -> tuple:
        return (self.path or "", self.line or 0, self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "entry": self.entry,
            "message": self.message,
        }
        if self.code:
            data["code"] = self.code
        return data


# Visibility levels, least to most restricted (CONTRACT 1.3).
VISIBILITY_LEVELS = ("public", "customer", "partner", "internal")
VISIBILITY_RANK = {name: rank for rank, name in enumerate(VISIBILITY_LEVELS)}
RESTRICTED_BLOCKS = ("customer", "partner", "internal")
BLOCK_NAMES = (*RESTRICTED_BLOCKS, "ivr")


@dataclass(frozen=True)
class Block:
    """A `::: name` … `:::` block; lines are 1-based file lines of the markers."""

    name: str
    start_line: int
    end_line: int | None  # None when never closed
    text: str  # the content lines, markers excluded

    @property
    def level(self) -> int:
        """Visibility rank of the content; ivr scripts never reach a page, so rank them above all."""
        return VISIBILITY_RANK.get(self.name, len(VISIBILITY_LEVELS))


@dataclass(frozen=True)
class Link:
    """A link or image in the body, classified by what it points to."""

    kind: str  # "entry", "anchor" (same entry), "file", "external", "entry-path"
    target: str  # entry id, file path (relative to KB root), or URL
    anchor: str | None
    line: int
    level: int  # visibility rank of the block holding the link (0 = public text)
    raw: str


@dataclass
class Entry:
    """One knowledge entry: its front matter, fields, and what the body parse found."""

    path: str  # relative to the KB root, with "/"
    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int  # file line of the first body line
    ok: bool = True  # front matter parsed and passed the schema
    links: list[Link] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    anchors: frozenset[str] = frozenset()
    raw_html_lines: list[int] = field(default_factory=list)
    headings: list[tuple[int, str, str]] = field(default_factory=list)  # (level, text, anchor)
    segments: list[tuple[str | None, str]] = field(default_factory=list)  # (block name, text)
    content_hash: str = ""
    git_date: dt.date | None = None
    facts: tuple[str, ...] = ()  # the facts it uses (kbctl/facts.py), filled in its text
    unfilled: dict[str, str] = field(default_factory=dict)  # "title", "summary": as written

    # -- fields, with the contract's defaults ------------------------------------------------
    # `meta` is complete when an Entry is made (kbctl/load/loader.py) and never changed after:
    # the fields every channel asks of every entry many times over are worked out once.
    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key)

    @cached_property
    def id(self) -> str:
        return self.meta.get("id") or ""

    @property
    def title(self) -> str:
        return self.meta.get("title") or ""

    @property
    def type(self) -> str:
        return self.meta.get("type") or ""

    @property
    def status(self) -> str:
        return self.meta.get("status") or ""

    @property
    def owner(self) -> str:
        return self.meta.get("owner") or ""

    @cached_property
    def locale(self) -> str:
        return self.meta.get("_locale") or self.meta.get("locale") or ""

    @cached_property
    def visibility(self) -> str:
        return self.meta.get("visibility") or "public"

    @property
    def visibility_rank(self) -> int:
        return VISIBILITY_RANK[self.visibility]

    @property
    def category(self) -> str | None:
        return self.meta.get("category")

    @property
    def channels(self) -> list[str] | None:
        return self.meta.get("channels")

    @property
    def tags(self) -> list[str]:
        return list(self.meta.get("tags") or [])

    @property
    def questions(self) -> list[str]:
        return list(self.meta.get("questions") or [])

    @property
    def summary(self) -> str | None:
        return self.meta.get("summary")

    @property
    def related(self) -> list[str]:
        return list(self.meta.get("related") or [])

    @property
    def aliases(self) -> list[str]:
        """Former ids, kept so that old links still reach the entry."""
        return list(self.meta.get("aliases") or [])

    @property
    def translation_of(self) -> str | None:
        return self.meta.get("translation_of")

    @cached_property
    def validity(self) -> tuple[dt.date | None, dt.date | None]:
        """`valid_from` and `valid_to`: asked of each entry for each channel."""
        return self.date("valid_from"), self.date("valid_to")

    def date(self, key: str) -> dt.date | None:
        value = self.meta.get(key)
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return None
        return None

    def as_written(self, key: str) -> str | None:
        """A text field before its facts were filled in: what the IVR speaks from."""
        return self.unfilled.get(key) or self.meta.get(key)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def ivr_script(self) -> str | None:
        parts = [b.text.strip() for b in self.blocks if b.name == "ivr"]
        return "\n".join(p for p in parts if p) or None

    @property
    def has_ivr_block(self) -> bool:
        return any(b.name == "ivr" for b in self.blocks)


@dataclass
class KnowledgeBase:
    """The loaded knowledge base: config, entries, and the diagnostics of loading."""

    root: Any  # pathlib.Path
    config: Any  # kbctl.config.Config
    entries: list[Entry]
    diagnostics: list[Diagnostic]
    # kbctl/publish.py `carried_paths`: what each channel carries, worked out once per KB
    carried: dict[tuple, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.by_id: dict[str, Entry] = {}
        self.by_path: dict[str, Entry] = {}
        for entry in self.entries:
            self.by_path[entry.path] = entry
            # Index every entry with a sound id, even one with other schema errors: links to it
            # are not broken, and reporting them as such would only add noise.
            if isinstance(entry.meta.get("id"), str) and entry.id not in self.by_id:
                self.by_id[entry.id] = entry

    @property
    def valid_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.ok]
