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
    404.html, sitemap.xml (with base_url), robots.txt

Security: only carried entries reach the maps; answers come from `render_entry` at the
channel's audience (blocks above it are cut from the source); links to entries the channel
does not carry, and links of a scheme other than http(s)/mailto/tel, become plain text.
"""

from __future__ import annotations

from kbctl.assets import file_refusal
from kbctl.channels import entry_page_path
from kbctl.channels.replay import RecordingResolver
from kbctl.channels.site_maps import (
    SAFE_SCHEMES,
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
    SiteInfo,
    alias_page,
    answer_values,
    category_page,
    entry_page_frame,
    home_page,
    not_found_page,
    render_entry_page,
    root_page,
    search_page,
    tag_page,
)
from kbctl.channels.site_patch import SiteSeeds, page_seed, search_index_path
from kbctl.channels.site_reuse import PreviousPages, fingerprint, load_previous
from kbctl.channels.site_reuse import save as save_pages
from kbctl.channels.site_search import SearchIndex, prepare_entry
from kbctl.channels.site_strings import block_labels
from kbctl.checks.links import link_target
from kbctl.model import Entry, Link
from kbctl.output import ChannelWriter
from kbctl.parallel import fork_map
from kbctl.render import remember, render_entry, take_renderings
from kbctl.resources import data_dir
from kbctl.timing import stage

ASSETS = ("site.css", "search.js", "favicon.svg")


def render(ctx, writer) -> SiteSeeds:
    with stage("site maps"):
        maps = build_maps(ctx)
    site = SiteInfo(ctx.config.name, ctx.channel.audience, ctx.config.channel_base_url(ctx.channel), maps)
    sitemap = Sitemap(site.base_url)
    write_assets(writer)
    indexes = {locale: SearchIndex(locale) for locale in maps.locales}
    take_renderings()  # start the workers with nothing pending from other channels

    def navigation_pages() -> None:  # need no rendering: written while the workers render
        for locale in maps.locales:
            write_locale(site, locale, writer, sitemap)
        for alias, card in maps.aliases.items():
            writer.write(f"{card.locale}/{alias}/index.html", alias_page(site, alias, card), card.id)
        writer.write("index.html", root_page(site))
        writer.write("404.html", not_found_page(site))

    previous = load_previous(ctx)
    with stage("site pages"):
        pages = fork_map(lambda chunk: [write_entry(ctx, site, e, writer.folder, previous) for e in chunk],
                         ctx.entries, meanwhile=navigation_pages)
    save_pages(ctx, {relpath: (digest, sha, prepared)
                     for *_, (relpath, digest, sha, prepared), _ in pages if digest})
    seeds = SiteSeeds(ctx.channel.audience_rank, site.base_url, maps)
    for entry, (files, prepared, renderings, _, seed) in zip(ctx.entries, pages):
        for relpath, digest in files:
            writer.record(relpath, digest, entry.id)
        index = indexes.setdefault(entry.locale, SearchIndex(entry.locale))
        seeds.add(entry, seed, len(index.docs))
        index.add_prepared(prepared)
        remember(renderings)
        page = entry_page_path(entry)
        sitemap.add(page, last_reviewed(entry),
                    {entry.locale: page, **{c.locale: c.path for c in maps.translations.get(entry.id, [])}})
    with stage("site search indexes"):
        for locale, index in indexes.items():
            seeds.search[locale] = pieces = index.pieces()
            writer.write(search_index_path(locale), pieces.script())
    sitemap.write(writer)
    seeds.sitemap = sitemap.urls
    writer.write("robots.txt", robots(site))
    return seeds


def write_assets(writer) -> None:
    folder = data_dir("site")
    for name in ASSETS:
        writer.copy(f"assets/{name}", folder / name)


def write_entry(ctx, site: SiteInfo, entry: Entry, folder, previous: PreviousPages):
    """Render the entry once for the audience; write (or reuse) its page and files, and weigh
    its search record.

    Runs in a worker process for large sites: it returns what the parent needs (files written
    with their digests, the prepared search record, renderings for the cache, the page's
    fingerprint, and the seed from which the page is made again when only the answer's text
    changes: kbctl/channels/site_patch.py), in entry order.
    """
    writer = ChannelWriter(folder)
    resolver = Resolver(ctx, entry)
    recorder = RecordingResolver(resolver)
    rendered = render_entry(entry, ctx.channel.audience_rank, recorder,
                            {"block_labels": block_labels(entry.locale)})
    relpath = entry_page_path(entry)
    frame = entry_page_frame(site, entry)
    values = {**frame, **answer_values(site.base_url, entry, rendered)}
    category = _category_label(site, entry)
    digest = fingerprint(values, entry, rendered.text, category)
    reused = previous.reuse(relpath, digest, folder)
    if reused is not None:
        writer.record(relpath, reused[0], entry.id)
        prepared = reused[1]
    else:
        writer.write(relpath, render_entry_page(values), entry.id)
        prepared = prepare_entry(entry, rendered.text, category)
    for kb_path in resolver.files:
        writer.copy(file_path(kb_path), ctx.kb.root / kb_path, entry.id)
    page = (relpath, digest, writer.files[relpath], prepared)
    seed = page_seed(frame, recorder.seen, category, prepared[0])
    return list(writer.files.items()), prepared, take_renderings(), page, seed


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
    writer.write(home_path(locale), home_page(site, locale))
    sitemap.add(home_path(locale), None, homes)
    for node in maps.nodes.values():
        if maps.visible(locale, node):
            path = category_path(locale, node.path)
            writer.write(path, category_page(site, locale, node))
            sitemap.add(path, None, {loc: category_path(loc, node.path)
                                     for loc in maps.locales if maps.visible(loc, node)})
    for tag in maps.tags.get(locale, {}).values():
        writer.write(tag_path(locale, tag.slug), tag_page(site, locale, tag))
        sitemap.add(tag_path(locale, tag.slug), None, {})
    writer.write(f"{locale}/search.html", search_page(site, locale))


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
