"""Checks on the site channels' themes (CONTRACT 10): the primary colour must leave the text
drawn on it readable, and the footer and link titles may only name facts that exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kbctl.colors import AA_CONTRAST, WHITE, contrast, parse_hex
from kbctl.config_model import CONFIG_NAME
from kbctl.facts import fill_plain
from kbctl.model import Diagnostic, KnowledgeBase
from kbctl.rules import rule
from kbctl.theme import Theme, theme_of


def theme_contrast(kb: KnowledgeBase, as_of: dt.date) -> Iterator[Diagnostic]:
    """theme-contrast: the primary colour against its text (white, or `on_primary_color`)
    below WCAG AA (4.5:1)."""
    for name, channel in kb.config.channels.items():
        theme = theme_of(channel.options)
        if theme is None or not theme.primary_color:
            continue
        text = theme.on_primary_color or "#ffffff"
        ratio = contrast(parse_hex(theme.primary_color), parse_hex(text) if theme.on_primary_color else WHITE)
        if ratio < AA_CONTRAST:
            line = kb.config.lines.get(f"channels/{name}/theme/primary_color")
            yield rule("theme-contrast").diag(
                CONFIG_NAME, line,
                f"channel {name!r}: text {text} on primary_color {theme.primary_color} has a contrast "
                f"of {ratio:.2f}:1, below WCAG AA {AA_CONTRAST}:1 (darken the colour or set on_primary_color)")


def theme_facts(kb: KnowledgeBase, as_of: dt.date) -> Iterator[Diagnostic]:
    """unknown-fact in a theme's footer or link titles, for each locale the site shows."""
    config = kb.config
    for name, channel in config.channels.items():
        theme = theme_of(channel.options)
        if theme is None:
            continue
        for key, texts in _texts(theme):
            for locale in config.locales:
                text = texts.get(locale) or texts.get("*") or texts.get(config.default_locale)
                if not text:
                    continue
                for problem in fill_plain(text, locale, config.facts).problems:
                    yield rule("unknown-fact").diag(
                        CONFIG_NAME, config.lines.get(f"channels/{name}/theme/{key}"),
                        f"channel {name!r}: theme {key}: {problem.message(config.facts, locale)}")


def _texts(theme: Theme):
    if theme.footer:
        yield "footer", theme.footer
    for link in theme.links:
        yield "links", link.titles
