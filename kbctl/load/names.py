"""What an id, alias or path names, kept from the last full build for kbctl/patch.py.

`resolve` and `link_target` (kbctl/checks) answer from the loaded knowledge base; a patch has
no knowledge base, so a full build keeps their answers for every name: ids, aliases and paths
are structural (kbctl/load/interface.py), so no patch changes them. It also keeps which
linking channels carry each entry and the anchors of its headings, for the checks of an edited
entry's `related` and links.
"""

from __future__ import annotations

from dataclasses import dataclass

from kbctl.checks.links import LINKING_KINDS, _carriers
from kbctl.checks.references import alias_index


@dataclass
class Names:
    ids: dict[str, tuple[str, str]]  # id or alias -> (the entry's id, its path), as `resolve`
    paths: dict[str, str]  # path -> id
    carriers: dict[str, frozenset[str]]  # path -> linking channels that carry the entry
    anchors: dict[str, frozenset[str]]  # path -> its headings' anchors
    locales: dict[str, str]  # id -> locale

    @classmethod
    def of(cls, kb, as_of) -> Names:
        ids = {alias: (entry.id, entry.path) for alias, entry in alias_index(kb).items()}
        ids.update({name: (entry.id, entry.path) for name, entry in kb.by_id.items()})
        channels = [c for c in kb.config.channels.values() if c.kind in LINKING_KINDS]
        return cls(ids, {entry.path: entry.id for entry in kb.entries}, _carriers(kb.entries, channels, as_of),
                   {entry.path: entry.anchors for entry in kb.entries},
                   {entry.id: entry.locale for entry in kb.entries})

    def resolve(self, name: str) -> tuple[str, str] | None:
        """(id, path) of the entry a related id names, following aliases, or None."""
        return self.ids.get(name)

    def link_target(self, link) -> str | None:
        """The id of the entry a link names, as kbctl/checks/links.py `link_target` finds it."""
        if link.kind == "entry":
            found = self.ids.get(link.target)
            return found[0] if found else None
        if link.kind == "entry-path":
            return self.paths.get(link.target)
        return None
