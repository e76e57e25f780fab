"""A site channel's theme in its output: the theme's files copied under `assets/theme/` with
their content's digest in the name (a new logo is a new URL, so caches never show the old
one), the stylesheet of derived colours, and what each page shows of the theme.

Files are read as kbctl/theme.py checked them at configuration time (inside the KB, no
symbolic link, SVG without anything active); a file that changed into something else since
is refused here too (`read_checked`).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kbctl.channels.site_context import ThemeLinkValues, ThemeValues
from kbctl.colors import palette
from kbctl.errors import UsageError
from kbctl.facts import Fact
from kbctl.output import ChannelWriter
from kbctl.theme import Theme, file_problem, text_in

THEME_DIR = "assets/theme"
DEFAULT_FAVICON = "assets/favicon.svg"
_ICON_TYPES = {"svg": "image/svg+xml", "ico": "image/x-icon", "png": "image/png"}


@dataclass(frozen=True)
class SiteTheme:
    """The theme as the channel's output has it: paths relative to the channel folder, and
    footer and link titles per locale with facts filled in."""

    logo: str | None = None
    favicon: str = DEFAULT_FAVICON
    favicon_type: str = _ICON_TYPES["svg"]
    stylesheets: tuple[str, ...] = ()
    footer: Mapping[str, str] = field(default_factory=dict)
    links: tuple[tuple[Mapping[str, str], str], ...] = ()

    def values(self, root: str, locale: str) -> ThemeValues:
        """What a page at `root` (its way back to the channel folder) in `locale` shows."""
        return ThemeValues(
            logo=root + self.logo if self.logo else None,
            favicon=root + self.favicon,
            favicon_type=self.favicon_type,
            stylesheets=tuple(root + sheet for sheet in self.stylesheets),
            footer=self.footer.get(locale),
            links=tuple(ThemeLinkValues(titles[locale], url) for titles, url in self.links),
        )


def write_theme(root: Path, theme: Theme | None, writer: ChannelWriter, locales: tuple[str, ...],
                default_locale: str, facts: Mapping[str, Fact]) -> SiteTheme:
    """Copy the theme's files into the output and say where they are."""
    if theme is None:
        return SiteTheme()
    logo = _copy(root, writer, "logo", theme.logo) if theme.logo else None
    favicon, favicon_type = DEFAULT_FAVICON, _ICON_TYPES["svg"]
    if theme.favicon:
        favicon = _copy(root, writer, "favicon", theme.favicon)
        favicon_type = _ICON_TYPES[posixpath.splitext(theme.favicon)[1].lower().lstrip(".")]
    css = ""
    if theme.primary_color:
        css += palette(theme.primary_color, theme.on_primary_color).css()
    if theme.css:
        css += f"/* {theme.css} */\n" + read_checked(root, "css", theme.css).decode("utf-8", "replace")
    sheets = (_put(writer, "theme", "css", css.encode("utf-8")),) if css else ()
    return SiteTheme(
        logo=logo, favicon=favicon, favicon_type=favicon_type, stylesheets=sheets,
        footer={loc: text_in(theme.footer, loc, default_locale, facts) for loc in locales} if theme.footer else {},
        links=tuple(({loc: text_in(link.titles, loc, default_locale, facts) for loc in locales}, link.url)
                    for link in theme.links),
    )


def read_checked(root: Path, key: str, kb_path: str) -> bytes:
    """The theme file's bytes, checked again as it is read (a build may run long after the
    configuration was read, as in `kbctl serve`)."""
    found = file_problem(root, key, kb_path)
    if found is None:
        try:
            return (root / kb_path).read_bytes()
        except OSError as exc:
            found = ("unreadable", f"{kb_path}: {exc.strerror or exc}")
    raise UsageError(f"{found[0]}: theme {key}: {found[1]}", path="kbctl.yaml")


def _copy(root: Path, writer: ChannelWriter, key: str, kb_path: str) -> str:
    suffix = posixpath.splitext(kb_path)[1].lower().lstrip(".")
    return _put(writer, key, suffix, read_checked(root, key, kb_path))


def _put(writer: ChannelWriter, stem: str, suffix: str, blob: bytes) -> str:
    """Write `blob` as assets/theme/<stem>.<digest>.<suffix>; its path in the channel."""
    relpath = f"{THEME_DIR}/{stem}.{hashlib.sha256(blob).hexdigest()[:12]}.{suffix}"
    writer.write(relpath, blob)
    return relpath
