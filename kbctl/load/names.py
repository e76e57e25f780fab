"""What an id, alias or path names, kept from the last full build for kbctl/patch.py.

`resolve` and `link_target` (kbctl/checks) answer from the loaded knowledge base; a patch has
no knowledge base, so a full build keeps their answers for every name: ids, aliases and paths
are structural (kbctl/load/interface.py), so no patch changes them. It also keeps, per entry,
which linking channels carry it, its locale and its headings' anchors, for the checks and
links of an edited entry. The build state holds this for 10,000 entries and every build loads
the state: hence strings and bit masks, which unpickle several times faster than tuples and
sets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Names:
    ids: dict[str, str]  # id or alias -> the path of the entry `resolve` finds
    paths: dict[str, str]  # path -> id
    channels: tuple[str, ...]  # the linking channels, by bit
    carried: dict[str, int]  # path -> the bits of the linking channels that carry it
    locales: dict[str, str]  # path -> locale
    anchors: dict[str, str]  # path -> its headings' anchors, one per line

    @classmethod
    def of(cls, kb, as_of) -> Names:
        # Imported here: every build unpickles a Names with its state, and a no-change build
        # should not pay for importing the checks (and the Markdown stack under them).
        from kbctl.checks.links import LINKING_KINDS, _carriers
        from kbctl.checks.references import alias_index

        ids = {alias: entry.path for alias, entry in alias_index(kb).items()}
        ids.update({name: entry.path for name, entry in kb.by_id.items()})
        channels = [c for c in kb.config.channels.values() if c.kind in LINKING_KINDS]
        bits = {channel.name: 1 << at for at, channel in enumerate(channels)}
        carried = {path: sum(bits[name] for name in names)
                   for path, names in _carriers(kb.entries, channels, as_of).items()}
        return cls(ids, {entry.path: entry.id for entry in kb.entries}, tuple(bits), carried,
                   {entry.path: entry.locale for entry in kb.entries},
                   {entry.path: "\n".join(sorted(entry.anchors)) for entry in kb.entries if entry.anchors})

    def resolve(self, name: str) -> tuple[str, str] | None:
        """(id, path) of the entry a related id names, following aliases, or None."""
        path = self.ids.get(name)
        return (self.paths[path], path) if path is not None else None

    def link_path(self, link) -> str | None:
        """The path of the entry a link names, as kbctl/checks/links.py `link_target` finds it."""
        if link.kind == "entry":
            return self.ids.get(link.target)
        if link.kind == "entry-path":
            return link.target if link.target in self.paths else None
        return None

    def link_target(self, link) -> str | None:
        """The id of the entry a link names."""
        path = self.link_path(link)
        return self.paths[path] if path is not None else None

    def carriers(self, path: str) -> frozenset[str]:
        """The linking channels that carry the entry."""
        bits = self.carried.get(path, 0)
        return frozenset(name for at, name in enumerate(self.channels) if bits >> at & 1)

    def has_anchor(self, path: str, anchor: str) -> bool:
        return anchor in self.anchors.get(path, "").split("\n")
