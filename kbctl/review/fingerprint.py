"""What a channel carries and shows of one entry, reduced to a fingerprint.

The fingerprint of an entry on a channel is None when the channel does not carry it (CONTRACT 2),
else the sha256 of what the channel shows of it:

- every kind: id, locale, title, category;
- site and faq: type, summary, questions, tags, `related` as carried (ids the channel carries,
  aliases followed), and the body rendered for the channel's audience by `render_entry`, with
  entry links resolved to a stable token (`kb:<id>#anchor`) when the channel carries the
  target and to plain text otherwise; a site adds its base URL, a faq channel the URL of the
  entry on its site (null when that site does not carry it);
- ivr: the spoken script (the `::: ivr` block, else the summary).

Left out on purpose: the last-verification date (every merge moves it, so counting it would
mark every carried channel on every edit) and "entries linking here" (that is a change of the
*other* entry, reported there).

Comparing fingerprints at base and at head gives each channel's effect: `added` (newly
carried), `removed` (no longer carried) or `changed` (rendered differently).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from kbctl.channels.base import entry_url
from kbctl.checks.links import link_target
from kbctl.checks.references import resolve
from kbctl.config import Channel
from kbctl.facts import spoken_text
from kbctl.model import Entry, KnowledgeBase, Link
from kbctl.publish import carried, eligible
from kbctl.render import render_entry

ADDED, CHANGED, REMOVED = "added", "changed", "removed"


class Fingerprints:
    """Fingerprints of entries of one knowledge base at one date (carried sets computed once)."""

    def __init__(self, kb: KnowledgeBase | None, as_of: dt.date, html_cache: dict | None = None):
        self.kb = kb
        self.as_of = as_of
        self._carried: dict[str, set[str]] = {}
        self._html = html_cache if html_cache is not None else {}

    @property
    def channels(self) -> dict[str, Channel]:
        return self.kb.config.channels if self.kb is not None else {}

    @property
    def known(self) -> KnowledgeBase:
        """The knowledge base; only asked for once a channel of it carries an entry."""
        assert self.kb is not None
        return self.kb

    def carries(self, channel: Channel, entry: Entry | None) -> bool:
        return entry is not None and eligible(entry, channel, self.as_of)

    def _carried_ids(self, channel: Channel) -> set[str]:
        if channel.name not in self._carried:
            self._carried[channel.name] = ({e.id for e in carried(self.kb, channel, self.as_of)}
                                           if self.kb is not None else set())
        return self._carried[channel.name]

    def of(self, entry: Entry | None, channel_name: str) -> str | None:
        channel = self.channels.get(channel_name)
        if entry is None or channel is None or not self.carries(channel, entry):
            return None
        data: dict = {"id": entry.id, "locale": entry.locale, "title": entry.title,
                      "category": entry.category}
        if channel.kind == "ivr":
            data["script"] = self._spoken(entry)
        else:
            data.update(self._shown(entry, channel))
        if channel.kind not in ("site", "faq", "ivr", "rag"):  # rag never carries scripts
            data["script"] = self._spoken(entry)
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _spoken(self, entry: Entry) -> str | None:
        """The script as callers hear it, facts in their spoken form."""
        written = entry.ivr_script or entry.as_written("summary")
        return spoken_text(written, entry.locale, self.known.config.facts) if written else None

    def _shown(self, entry: Entry, channel: Channel) -> dict:
        ids = self._carried_ids(channel)
        targets = (resolve(self.known, name) for name in entry.related)
        related = [t.id for t in targets if t is not None and t.id in ids]
        data = {"type": entry.type, "summary": entry.summary, "questions": entry.questions,
                "tags": entry.tags, "related": related, "html": self._html_of(entry, channel)}
        config = self.known.config
        if channel.kind == "site":
            data["base_url"] = config.channel_base_url(channel)
        elif channel.kind == "faq":
            data["url"] = self._faq_url(entry, channel)
        return data

    def _html_of(self, entry: Entry, channel: Channel) -> str:
        resolver = self._resolver(channel)
        # The rendering depends only on the body, the audience and where each link leads:
        # key on those, so an unchanged entry is rendered once for both commits.
        key = (hashlib.sha256(entry.body.encode("utf-8")).hexdigest(), entry.path,
               channel.audience_rank, tuple(resolver(link) for link in entry.links))
        if key not in self._html:
            self._html[key] = render_entry(entry, channel.audience_rank, resolver).html
        return self._html[key]

    def _resolver(self, channel: Channel):
        ids = self._carried_ids(channel)

        def to_token(link: Link) -> str | None:
            if link.kind == "anchor":
                return f"#{link.anchor or ''}"
            if link.kind == "external":
                return link.target
            if link.kind in ("entry", "entry-path"):
                target = link_target(self.known, link)
                if target is None or target.id not in ids:
                    return None
                return f"kb:{target.id}" + (f"#{link.anchor}" if link.anchor else "")
            return f"file:{link.target}"

        return to_token

    def _faq_url(self, entry: Entry, channel: Channel) -> str | None:
        site = self._faq_site(channel)
        if site is None or entry.id not in self._carried_ids(site):
            return None
        return entry_url(self.known.config.channel_base_url(site), entry)

    def _faq_site(self, channel: Channel) -> Channel | None:
        channels = self.known.config.channels
        named = channel.options.get("site")
        if named:
            return channels.get(named)
        public = [c for c in channels.values() if c.kind == "site" and c.audience == "public"]
        return public[0] if public else None


def channel_effects(base: Fingerprints, head: Fingerprints, base_entry: Entry | None,
                    head_entry: Entry | None) -> dict[str, str]:
    """channel name -> added / changed / removed, for every channel whose output differs."""
    effects: dict[str, str] = {}
    for name in sorted(set(base.channels) | set(head.channels)):
        before, after = base.of(base_entry, name), head.of(head_entry, name)
        if before == after:
            continue
        effects[name] = ADDED if before is None else REMOVED if after is None else CHANGED
    return effects
