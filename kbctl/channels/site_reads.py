"""Which entries' pages a site build plans again, and which it takes as the last build planned.

A page's inputs (kbctl/channels/site.py `plan_page`) are read from its own entry and from the
entries it names or is named by: its links' targets and related entries (where each goes, and
their cards), its translation group, and the entries that link to it (its backlinks). Planning
every page again re-reads all of that for every entry after a one-entry edit. Instead, each
page records among its inputs the entries it read (`READ`, their paths), and after an edit
only these are planned again (`pages_to_plan`):

- the changed entries (ChannelContext.changed, by content hash), added and removed ones too;
- entries whose page read a changed entry: a link target, a related entry, a translation;
- entries a changed entry's page read, at the last build or now: those it links to or names
  as related (their backlinks change) and its translation group, as it was and as it is;
- entries naming, by id, alias or path, a name a changed entry has now: a link that reached
  nothing or another entry before may reach it now.

Every other entry reads what it read the last time, as the last time: its page's inputs are
those recorded. So are its Markdown copy's (kbctl/channels/site_llms.py), which read less.
An entry linking to a file is planned each time: whether the file may be published is read
from the disk. Where the changes are not known (`changed` None), every entry is planned.
"""

from __future__ import annotations

from kbctl.channels.base import ChannelContext, entry_page_path
from kbctl.channels.site_maps import SiteMaps
from kbctl.checks.links import link_target
from kbctl.checks.references import resolve
from kbctl.env import Inputs, OutputRecord
from kbctl.model import Entry
from kbctl.output import ChannelWriter

READ = "entries read"  # the input naming them: the entry's own path first, then the others


def entries_read(ctx: ChannelContext, maps: SiteMaps, entry: Entry) -> str:
    """The `READ` input of the entry's page: its path, then `paths_read`, sorted."""
    return "\n".join([entry.path, *sorted(paths_read(ctx, maps, entry))])


def paths_read(ctx: ChannelContext, maps: SiteMaps, entry: Entry) -> set[str]:
    """The paths of the entries the entry names (whether the channel carries them or not) and
    of its translation group, but its own."""
    kb = ctx.kb
    found = {target.path for link in entry.links if (target := link_target(kb, link)) is not None}
    found.update(target.path for name in entry.related if (target := resolve(kb, name)) is not None)
    if entry.translation_of and (source := resolve(kb, entry.translation_of)) is not None:
        found.add(source.path)
    found.update(maps.translation_groups.get(entry.id, ()))
    found.discard(entry.path)
    return found


def pages_to_plan(ctx: ChannelContext, maps: SiteMaps, previous: dict[str, OutputRecord]) -> frozenset[str] | None:
    """The paths of the entries to plan again (see the module's docstring), or None: all."""
    changed = ctx.changed
    if changed is None:
        return None
    planned: set[str] = set()
    for record in previous.values():
        read = record.inputs.get(READ)
        if read is None:
            continue
        own, *others = read.split("\n")
        if own in changed:
            planned.update(others)
        elif not changed.isdisjoint(others):
            planned.add(own)
    ids: set[str] = set()
    paths: set[str] = set()
    for path in changed:
        entry = ctx.kb.by_path.get(path)
        if entry is None:
            continue
        ids.add(entry.id)
        ids.update(entry.aliases)
        paths.add(path)
        if ctx.carries(entry):
            planned.add(path)
            planned.update(paths_read(ctx, maps, entry))
    planned.update(entry.path for entry in ctx.entries if _planned_again(entry, ids, paths))
    return frozenset(planned)


def _planned_again(entry: Entry, ids: set[str], paths: set[str]) -> bool:
    """The entry names one of these ids or paths, or links to a file."""
    for link in entry.links:
        if link.kind == "file" or link.target in (ids if link.kind == "entry" else
                                                  paths if link.kind == "entry-path" else ()):
            return True
    return entry.translation_of in ids or not ids.isdisjoint(entry.related)


def recorded_inputs(writer: ChannelWriter, relpath: str, entry: Entry, planned: frozenset[str] | None,
                    own: Inputs) -> Inputs | None:
    """The inputs the last build made `relpath` (the entry's page or copy) from, where they are
    its inputs now: the entry is not to be planned again, its page recorded what it read, and
    the inputs read from the entry itself (`own`) are those recorded."""
    if planned is None or entry.path in planned:
        return None
    old = writer.previous.get(relpath)
    if old is None:
        return None
    for name, value in own.items():
        if old.inputs.get(name) != value:
            return None
    page = old if READ in old.inputs else writer.previous.get(entry_page_path(entry))
    return old.inputs if page is not None and READ in page.inputs else None
