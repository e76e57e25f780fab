"""The `site` channel kind: a static help center (audience public) or agent portal (internal).

    maps  = what every page must know of the others (carried entries only), computed once
    pages = each entry rendered once for the audience → its page, written at once, and indexed
    then  = home / category / tag / search pages per locale, search indexes, root, 404, sitemap

Layout of the channel folder (every link relative, folder links ending in index.html):

    index.html                      → the default locale's home
    <locale>/index.html             home: search box, knowledge map with counts, tags
    <locale>/<id>/index.html        an entry (the manifest maps the entry to it)
    <locale>/category/<path>/index.html, <locale>/tag/<slug>/index.html, <locale>/search.html
    assets/                         site.css, search.js, favicon.svg, search-index.<locale>.js
    files/<kb path>                 images and documents the answers link to
    <locale>/<id>/index.md, llms.txt, llms-full.txt   for AI assistants (site_llms.py)
    404.html, sitemap.xml (with base_url), robots.txt

Security: only carried entries reach the maps; answers come from `render_entry` at the
channel's audience (blocks above it are cut from the source); links to entries the channel
does not carry, and links of a scheme other than http(s)/mailto/tel, become plain text.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from kbctl.assets import file_refusal
from kbctl.channels.base import entry_page_path
from kbctl.channels.site_llms import write_llms
from kbctl.channels.site_maps import (
    SAFE_SCHEMES,
    Card,
    Sitemap,
    build_maps,
    category_path,
    file_path,
    home_path,
    href,
    last_reviewed,
    tag_path,
)
from kbctl.channels.site_pages import (
    Feedback,
    PageSource,
    SiteInfo,
    alias_page,
    answer_values,
    category_page,
    digest_of,
    entry_page_frame,
    home_page,
    not_found_page,
    render_entry_page,
    root_page,
    search_page,
    tag_page,
)
from kbctl.channels.site_reads import READ, entries_read, pages_to_plan, recorded_inputs
from kbctl.channels.site_records import SearchRecords, load_records, save_records
from kbctl.channels.site_search import (
    Prepared,
    SearchIndex,
    prepare_entry,
    read_index_script,
    replace_documents,
)
from kbctl.channels.site_strings import block_labels
from kbctl.channels.site_templates import Templates
from kbctl.channels.site_theme import SiteTheme, write_theme
from kbctl.checks.links import link_target
from kbctl.env import Inputs
from kbctl.model import Entry, Link
from kbctl.output import ChannelWriter, Made
from kbctl.parallel import fork_map, in_background
from kbctl.render import Rendered, remember, render_entry, take_renderings
from kbctl.resources import data_dir
from kbctl.theme import override_files, theme_of
from kbctl.timing import stage

ASSETS = ("site.css", "search.js", "favicon.svg")
FEEDBACK_ASSET = "feedback.js"
EMPTY_LIST = digest_of([])  # of an empty list of links or cards: many pages have one or two


def render(ctx, writer: ChannelWriter) -> None:
    with stage("site maps"):
        maps = build_maps(ctx)
        planned = pages_to_plan(ctx, maps, writer.previous) if writer.in_place else None
    endpoint = ctx.channel.feedback_endpoint
    write_assets(writer, endpoint is not None)
    theme, templates = prepare_theme(ctx, writer, maps.locales)
    site = SiteInfo(ctx.config.name, ctx.channel.audience, ctx.config.channel_base_url(ctx.channel), maps,
                    ctx.channel.llms, theme, templates, Feedback(endpoint, ctx.channel.name) if endpoint else None)
    sitemap = Sitemap(site.base_url)
    take_renderings()  # start the workers with nothing pending from other channels

    def navigation_pages() -> None:  # need no answer rendered: made while the workers render
        for locale in maps.locales:
            write_locale(site, locale, writer, sitemap)
        for alias, card in maps.aliases.items():
            write_page(site, writer, f"{card.locale}/{alias}/index.html", alias_page(site, alias, card), card.id)
        write_page(site, writer, "index.html", root_page(site))
        write_page(site, writer, "404.html", not_found_page(site))

    copies = MarkdownCopies(ctx, writer, site.base_url, planned) if site.llms else None
    try:
        _write_pages(ctx, site, writer, sitemap, navigation_pages, planned)
    except BaseException:
        if copies is not None:
            copies.abandon()
        raise
    if copies is not None:
        copies.finish()


def _write_pages(ctx, site: SiteInfo, writer: ChannelWriter, sitemap: Sitemap,
                 navigation_pages: Callable[[], None], planned: frozenset[str] | None) -> None:
    """Every entry's page (rendered only where its inputs changed) and search record, the
    navigation pages (made while the workers render), the search indexes, the sitemap.
    Only the entries `planned` (all with None) are planned again (kbctl/channels/site_reads.py)."""
    maps = site.maps
    with stage("site pages planned"):
        cards = CardDigests(maps)
        plans = [_recorded_plan(writer, entry, planned) or plan_page(ctx, site, entry, cards)
                 for entry in ctx.entries]
        known = _last_records(ctx)
        todo = [plan for plan in plans if not _keeps(writer, plan, known)]
    with stage("site pages"):
        made = fork_map(lambda chunk: [write_entry(ctx, site, plan, writer) for plan in chunk], todo,
                        meanwhile=navigation_pages)
    records = SearchRecords()
    for plan in plans:
        if known.digest(plan.relpath) == plan.digest:
            records.keep(plan.relpath, known)
    for (worker_made, prepared, renderings), plan in zip(made, todo):
        writer.merge(worker_made)
        records.put(plan.relpath, plan.digest, prepared)
        remember(renderings)
    for plan in plans:
        for kb_path in plan.files:  # a kept page's files are the page's files still
            _copy_file(ctx, writer, kb_path, plan.entry.id)
        page = plan.relpath
        sitemap.add(page, last_reviewed(plan.entry),
                    {plan.entry.locale: page, **{c.locale: c.path for c in maps.translations.get(plan.entry.id, [])}})
    save_records(ctx.kb.root, ctx.channel.name, records, [plan.relpath for plan in plans])
    if ctx.memory is not None:
        ctx.memory.search_records = records
    with stage("site search indexes"):
        write_search_indexes(writer, maps.locales, plans, records, known)
    sitemap.write(writer)
    writer.write("robots.txt", robots(site))


def _last_records(ctx) -> SearchRecords:
    """The last build's search records: kept in a serve's memory, else read from the cache.
    Each is used only for a page whose inputs have its digest, so one kept from a build that
    was then refused is still the record of those inputs."""
    if ctx.memory is not None and ctx.memory.search_records is not None:
        return ctx.memory.search_records
    return load_records(ctx.kb.root, ctx.channel.name)


class MarkdownCopies:
    """The Markdown copies, llms.txt and llms-full.txt, which need nothing the pages make: over
    the last build's output, made in a forked child beside the pages from the start; a channel
    made whole makes them in `finish`, after its pages, as making both at once would double a
    cold build's peak memory."""

    def __init__(self, ctx, writer: ChannelWriter, base_url: str | None, planned: frozenset[str] | None):
        self.ctx, self.writer, self.base_url, self.planned = ctx, writer, base_url, planned
        self.made: Callable[[], Made] | None = None
        if writer.in_place:
            self.made = in_background(functools.partial(self._make, writer.worker()))

    def _make(self, writer: ChannelWriter) -> Made:
        try:
            with stage("site markdown copies"):
                write_llms(self.ctx, writer, self.base_url, self.planned)
        except BaseException:
            if writer is not self.writer:
                writer.discard()  # in a child: what it staged, which the parent never hears of
            raise
        return writer.made()

    def finish(self) -> None:
        if self.made is None:
            self._make(self.writer)
        else:
            self.writer.merge(self.made())

    def abandon(self) -> None:
        """After a failure: the child reaped, what it staged known to the writer (so discarded
        with the rest); its own failure, if any, is not the one to report."""
        if self.made is not None:
            try:
                self.writer.merge(self.made())
            except BaseException:  # noqa: BLE001, S110 - the first failure is raised by the caller
                pass


def prepare_theme(ctx, writer: ChannelWriter, locales) -> tuple[SiteTheme, Templates | None]:
    """The channel's theme files in the output, and its templates, every one parsed now: a
    syntax error refuses the build before any page is made."""
    theme = theme_of(ctx.channel.options)
    config = ctx.config
    site_theme = write_theme(ctx.kb.root, theme, writer, tuple(locales), config.default_locale, config.facts)
    if theme is None or theme.templates is None:
        return site_theme, None
    builtin = data_dir("templates") / "site"
    templates = Templates(builtin, ctx.kb.root, theme.templates)
    names = {path.name for path in builtin.glob("*.html")} | set(override_files(ctx.kb.root, theme.templates))
    templates.check(sorted(names))
    return site_theme, templates


def write_assets(writer, feedback: bool = False) -> None:
    """The site's own files; the feedback script only on a channel that collects feedback."""
    folder = data_dir("site")
    for name in ASSETS + (FEEDBACK_ASSET,) * feedback:
        writer.copy(f"assets/{name}", folder / name)


def search_index_path(locale: str) -> str:
    return f"assets/search-index.{locale}.js"


def write_search_indexes(writer: ChannelWriter, locales, plans: list[PagePlan],
                         records: SearchRecords, known: SearchRecords) -> None:
    """One index per locale, made again when a record in it changed (or the set of them):
    from the last build's index where the records it was made from are `known`."""
    by_locale: dict[str, list[PagePlan]] = {locale: [] for locale in locales}
    for plan in plans:
        by_locale.setdefault(plan.entry.locale, []).append(plan)
    for locale, listed in by_locale.items():
        inputs = {"search records": digest_of([(plan.relpath, plan.digest) for plan in listed])}

        def make(listed=listed, locale=locale) -> str:
            kept = _updated_index(writer, locale, listed, records, known)
            if kept is not None:
                return kept
            index = SearchIndex(locale)
            for plan in listed:
                index.add_prepared(records.record(plan.relpath))
            return index.script()

        writer.output(search_index_path(locale), inputs, make)


def _updated_index(writer: ChannelWriter, locale: str, listed: list[PagePlan], records: SearchRecords,
                   known: SearchRecords) -> str | None:
    """The last build's index with the records that changed replaced, or None. Only when that
    index is as the last build wrote it and was made from the `known` records (the cache
    beside the pages), in the order of `listed`."""
    path = search_index_path(locale)
    old = writer.previous.get(path) if writer.in_place else None
    if old is None or old.inputs.get("search records") != digest_of(
            [(plan.relpath, known.digest(plan.relpath)) for plan in listed]):
        return None
    try:
        blob = (writer.folder / path).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(blob).hexdigest() != old.sha:
        return None
    replaced = {doc: (known.record(plan.relpath), records.record(plan.relpath))
                for doc, plan in enumerate(listed) if known.text(plan.relpath) != records.text(plan.relpath)}
    text = blob.decode("utf-8")
    if not replaced:
        return text
    index = read_index_script(text, locale)
    updated = replace_documents(index, replaced) if index is not None else None
    return updated.script() if updated is not None else None


@dataclass
class PagePlan:
    """An entry page before it is made: what it shows of the KB, as inputs (kbctl/env.py),
    and the files of the KB it links to (each copied into the site)."""

    entry: Entry
    relpath: str
    inputs: Inputs
    digest: str  # of the inputs: the search record cached beside it is of these
    files: list[str]


def plan_page(ctx, site: SiteInfo, entry: Entry, cards: dict[str, str]) -> PagePlan:
    """The page's inputs, without rendering its answer or laying out its frame: the entry's
    bytes and git date, where each of its links goes on this site, and the cards it shows of
    other entries (`cards`: each carried entry's card, as a digest), each list by name. The
    rest of the page comes from kbctl.yaml and kbctl itself (the channel's world, kbctl/build.py).
    Each related entry and translation is named, so that `kbctl build --explain` can say which."""
    resolver = Resolver(ctx, entry)
    maps = site.maps
    links = [resolver(link) for link in entry.links]
    inputs = {**own_inputs(entry), "links": digest_of(links) if links else EMPTY_LIST,
              READ: entries_read(ctx, maps, entry)}
    for key, shown in (("related", maps.related.get(entry.id, ())), ("backlinks", maps.backlinks.get(entry.id, ())),
                       ("translations", maps.translations.get(entry.id, ()))):
        inputs[key] = digest_of([cards[card.id] for card in shown]) if shown else EMPTY_LIST
        if key != "backlinks":  # short lists: each named (an entry may have hundreds of backlinks)
            for card in shown:
                inputs[f"card of {_source(ctx, card)}"] = cards[card.id]
    return PagePlan(entry, entry_page_path(entry), inputs,
                    digest_of(sorted(inputs.items())), resolver.files)


def own_inputs(entry: Entry) -> Inputs:
    """What the entry's page shows of the entry itself: its bytes (and facts), its git date."""
    return {entry.path: entry.content_hash or digest_of(entry.body), "git date": str(entry.git_date)}


def _recorded_plan(writer: ChannelWriter, entry: Entry, planned: frozenset[str] | None) -> PagePlan | None:
    """The page's plan from the inputs the last build recorded, where they are its inputs
    still (kbctl/channels/site_reads.py); it links to no file (`recorded_inputs`)."""
    relpath = entry_page_path(entry)
    inputs = recorded_inputs(writer, relpath, entry, planned, own_inputs(entry))
    if inputs is None:
        return None
    return PagePlan(entry, relpath, inputs, digest_of(sorted(inputs.items())), [])


class CardDigests(dict[str, str]):
    """Each carried entry's card (what lists show of it), as a digest, made when first asked:
    a rebuild plans few pages."""

    def __init__(self, maps):
        super().__init__()
        self.maps = maps

    def __missing__(self, entry_id: str) -> str:
        digest = self[entry_id] = digest_of(self.maps.cards[entry_id])
        return digest


def _source(ctx, card: Card) -> str:
    shown = ctx.kb.by_id.get(card.id)
    return shown.path if shown is not None else card.id


def _keeps(writer: ChannelWriter, plan: PagePlan, known: SearchRecords) -> bool:
    """Keep the page as it is: its inputs are those it was made from, and its search record,
    made from the same inputs, is at hand."""
    if known.digest(plan.relpath) != plan.digest or not writer.unchanged(plan.relpath, plan.inputs):
        return False
    writer.keep(plan.relpath, plan.inputs, plan.entry.id)
    return True


def render_for_site(ctx, entry: Entry) -> Rendered:
    """The entry's answer as the channel's pages show it and its search indexes it."""
    return render_entry(entry, ctx.channel.audience_rank, Resolver(ctx, entry),
                        {"block_labels": block_labels(entry.locale)})


def write_entry(ctx, site: SiteInfo, plan: PagePlan, writer: ChannelWriter) -> tuple[Made, Prepared, list]:
    """Render the entry once for the audience; write its page and weigh its search record.

    Runs in a worker process for large sites: it returns what the parent needs (what its
    writer did, the search record, renderings for the cache), in entry order.
    """
    entry = plan.entry
    mine = writer.worker()
    rendered = render_for_site(ctx, entry)
    values = {**entry_page_frame(site, entry), **answer_values(site.base_url, entry, rendered)}
    mine.output(plan.relpath, plan.inputs, lambda: render_entry_page(site, values), entry.id)
    return mine.made(), prepare_entry(entry, rendered.text, _category_label(site, entry)), take_renderings()


def _copy_file(ctx, writer: ChannelWriter, kb_path: str, entry_id: str) -> None:
    """A file an answer links to, copied again when its size or time changed."""
    source = ctx.kb.root / kb_path
    try:
        stat = source.stat()
    except OSError:
        stat = None
    inputs = {kb_path: f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "absent"}
    writer.output(file_path(kb_path), inputs, source.read_bytes, entry_id)


def _category_label(site: SiteInfo, entry: Entry) -> str | None:
    if not entry.category:
        return None
    crumbs = []
    parts = entry.category.split("/")
    for depth in range(1, len(parts) + 1):
        node = site.maps.nodes.get("/".join(parts[:depth]))
        if node is not None:
            crumbs.append(site.maps.node_title(node, entry.locale))
    return " › ".join(crumbs) or None


def write_locale(site: SiteInfo, locale: str, writer, sitemap: Sitemap) -> None:
    maps = site.maps
    homes = {loc: home_path(loc) for loc in maps.locales}
    write_page(site, writer, home_path(locale), home_page(site, locale))
    sitemap.add(home_path(locale), None, homes)
    for node in maps.nodes.values():
        if maps.visible(locale, node):
            path = category_path(locale, node.path)
            write_page(site, writer, path, category_page(site, locale, node))
            sitemap.add(path, None, {loc: category_path(loc, node.path)
                                     for loc in maps.locales if maps.visible(loc, node)})
    for tag in maps.tags.get(locale, {}).values():
        write_page(site, writer, tag_path(locale, tag.slug), tag_page(site, locale, tag))
        sitemap.add(tag_path(locale, tag.slug), None, {})
    write_page(site, writer, f"{locale}/search.html", search_page(site, locale))


def write_page(site: SiteInfo, writer: ChannelWriter, relpath: str, source: PageSource,
               entry_id: str | None = None) -> None:
    """A navigation page, rendered only when what it shows changed."""
    writer.output(relpath, source.inputs(), lambda: source.render(site), entry_id)


class Resolver:
    """Where a link in one entry's answer goes on this site, or None for plain text."""

    def __init__(self, ctx, entry: Entry):
        self.ctx = ctx
        self.entry = entry
        self.files: list[str] = []
        # render_entry resolves every link of the entry, even those in blocks it then cuts: only
        # files linked from text the audience sees may be published.
        audience = ctx.channel.audience_rank
        self.visible_files = {link.target for link in entry.links
                              if link.kind == "file" and link.level <= audience}

    def __call__(self, link: Link) -> str | None:
        if link.kind in ("entry", "entry-path"):
            target = link_target(self.ctx.kb, link)
            if not self.ctx.carries(target):
                return None  # not on this site: no URL, and the link's own text only
            url = href("../../", entry_page_path(target))
            return url + (f"#{href('', link.anchor)}" if link.anchor else "")
        if link.kind == "anchor":
            return f"#{href('', link.anchor)}" if link.anchor else None
        if link.kind == "file":
            return self._file(link.target)
        if link.target.lower().startswith(SAFE_SCHEMES):
            return link.target
        return None  # javascript:, data:, and any other scheme are never emitted

    def _file(self, kb_path: str) -> str | None:
        # The same predicate as validate's link check: only files it lets through are copied.
        if kb_path not in self.visible_files or file_refusal(self.ctx.kb, kb_path) is not None:
            return None
        if kb_path not in self.files:
            self.files.append(kb_path)
        return href("../../", file_path(kb_path))


def robots(site: SiteInfo) -> str:
    if not site.public:
        return "# Not for search engines: this site is not public.\nUser-agent: *\nDisallow: /\n"
    text = "User-agent: *\nAllow: /\n"
    if site.base_url:
        text += f"Sitemap: {site.base_url}/sitemap.xml\n"
    return text
