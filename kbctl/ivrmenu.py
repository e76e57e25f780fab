"""The voice menu tree of an IVR channel for one locale (CONTRACT 4, ivr).

Shared by the `ivr-menu` check and the VoiceXML renderer, so both see the same menus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from kbctl.config import Config, TaxonomyNode

KEYS = tuple("123456789")


class MenuEntry(Protocol):
    """What a menu needs of an entry (the ivr-menu check and the ivr channel build the same tree)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def category(self) -> str | None: ...


E = TypeVar("E", bound=MenuEntry)


@dataclass
class Option:
    key: str | None  # None when the menu ran out of keys
    title: str
    node: TaxonomyNode | None = None
    entry: MenuEntry | None = None


@dataclass
class Menu:
    path: str  # "" for the main menu
    title: str
    line: int | None
    options: list[Option] = field(default_factory=list)
    submenus: list[Menu] = field(default_factory=list)

    @property
    def overflow(self) -> bool:
        return len(self.options) > len(KEYS) or any(o.key is None for o in self.options)


def build_menu(config: Config, entries: Sequence[E], locale: str) -> Menu:
    """The main menu over the carried `entries` of one locale, with submenus per category."""
    by_category: dict[str, list[E]] = {}
    for entry in sorted(entries, key=lambda e: (e.title, e.id)):
        by_category.setdefault(entry.category or "", []).append(entry)
    below = _paths_with_entries(by_category)
    root_title = config.name
    menu = Menu("", root_title, 1)
    _fill(menu, config.taxonomy, by_category.get("", []), below, by_category, config, locale)
    return menu


def _paths_with_entries(by_category: dict[str, list[E]]) -> set[str]:
    paths: set[str] = set()
    for category in by_category:
        parts = category.split("/") if category else []
        for depth in range(1, len(parts) + 1):
            paths.add("/".join(parts[:depth]))
    return paths


def _fill(menu, nodes, direct, below, by_category, config, locale) -> None:
    shown = [node for node in nodes if node.path in below]
    fixed = {node.dtmf for node in shown if node.dtmf}
    free = iter(key for key in KEYS if key not in fixed)
    for node in shown:
        title = node.title(locale, config.default_locale)
        menu.options.append(Option(node.dtmf or next(free, None), title, node=node))
        submenu = Menu(node.path, title, node.line)
        _fill(submenu, node.children, by_category.get(node.path, []), below, by_category, config, locale)
        menu.submenus.append(submenu)
    for entry in direct:
        menu.options.append(Option(next(free, None), entry.title, entry=entry))
    menu.options.sort(key=lambda o: (o.key is None, o.key or ""))


def walk(menu: Menu):
    yield menu
    for submenu in menu.submenus:
        yield from walk(submenu)
