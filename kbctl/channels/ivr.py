"""The ivr channel kind: a VoiceXML 2.1 voice menu per locale (CONTRACT 4, ivr).

Layout (every `next` URI is relative, so the folder can be served from anywhere):
    index.vxml                  entry point: the language menu when several locales have
                                carried entries, else the main menu itself
    <locale>/main.vxml          the main menu
    <locale>/menu-<path>.vxml   a category menu; the path's "/" become "-" (or "." in the rare
                                case where that would give two categories the same name)
    <locale>/entry-<id>.vxml    an entry: its script, then its own small menu

Menus and keys come from `kbctl.ivrmenu.build_menu`, the same tree the `ivr-menu` check sees.
In every menu: the options' keys, 0 the operator, * repeats, # goes back (submenus). After an
entry's script: * says it again, # back to its menu, 0 the operator. Silence or a wrong key
reprompts; the third time in a row goes to the operator (or says goodbye when the channel has
none). Without an `operator` option, 0 says there is none and returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence

from kbctl.channels import vxml
from kbctl.channels.ivr_phrases import language_line, phrases
from kbctl.facts import Fact, Piece, spoken_pieces
from kbctl.ivrmenu import KEYS, Menu, MenuEntry, Option, build_menu, walk
from kbctl.model import Entry
from kbctl.output import ChannelWriter

MAIN = "main.vxml"


def render(ctx, writer: ChannelWriter) -> None:
    """Every document is made (menus are small; no answer's text reaches a call): the writer
    writes those whose bytes changed."""
    operator = ctx.channel.options.get("operator")
    trees = locale_menus(ctx)
    for locale, main in trees.items():
        _write_locale(writer, locale, main, operator, ctx.config.facts)
    writer.write("index.vxml", index_document(trees, ctx.config.default_locale, operator))


def locale_menus(ctx) -> dict[str, Menu]:
    """The main menu of each locale with carried entries, in configured order. With none at
    all, the default locale's (empty) menu, so callers still reach the operator."""
    trees = {
        locale: build_menu(ctx.config, entries, locale)
        for locale, entries in ctx.by_locale().items() if entries
    }
    if not trees:
        default = ctx.config.default_locale
        trees[default] = build_menu(ctx.config, [], default)
    return trees


def menu_files(main: Menu) -> dict[str, str]:
    """File name of every menu of one locale's tree, by category path ("" is the main menu)."""
    paths = [menu.path for menu in walk(main) if menu.path]
    dashed = Counter(path.replace("/", "-") for path in paths)
    names = {"": MAIN}
    for path in paths:
        flat = path.replace("/", "-")
        # Ids may hold "-" but never ".": "a-b" and "a/b" would clash as dashes, not as dots.
        names[path] = f"menu-{flat if dashed[flat] == 1 else path.replace('/', '.')}.vxml"
    return names


def _node_path(option: Option) -> str:
    assert option.node is not None  # an option is an entry or a category
    return option.node.path


def entry_file(entry: MenuEntry) -> str:
    return f"entry-{entry.id}.vxml"


def offered(menu: Menu) -> list[tuple[str, Option]]:
    """(key, option) of the options with a key: an option without one only exists in a menu
    the ivr-menu check refuses to build."""
    return [(option.key, option) for option in menu.options if option.key is not None]


def _with_parents(menu: Menu, parent: Menu | None = None) -> Iterator[tuple[Menu, Menu | None]]:
    yield menu, parent
    for submenu in menu.submenus:
        yield from _with_parents(submenu, menu)


def _write_locale(writer, locale: str, main: Menu, operator: str | None, facts: Mapping[str, Fact]) -> None:
    for relpath, text, entry_id in _documents(locale, main, operator, facts):
        writer.write(relpath, text, entry_id)


def _documents(locale: str, main: Menu, operator: str | None, facts: Mapping[str, Fact]):
    """(relpath, VoiceXML, entry id or None) of the locale's menus and entries."""
    names = menu_files(main)
    for menu, parent in _with_parents(main):
        back = names[parent.path] if parent else None
        yield f"{locale}/{names[menu.path]}", menu_document(locale, menu, names, back, operator, facts=facts), None
        for _, option in offered(menu):
            entry = option.entry
            if entry is not None:
                text = entry_document(locale, script(entry, facts), names[menu.path], operator)
                yield f"{locale}/{entry_file(entry)}", text, entry.id


def menu_document(locale: str, menu: Menu, names: dict[str, str], back: str | None,
                  operator: str | None, prefix: str = "", facts: Mapping[str, Fact] | None = None) -> str:
    """A menu; `prefix` is prepended to file URIs when the document is not in `<locale>/`."""
    words = phrases(locale)
    root = vxml.document(locale)
    dialog = vxml.element(root, "menu", {"id": "menu"})
    speech = vxml.prompt(dialog)
    for key, option in offered(menu):
        before, after = words.option(option.title, key, option.entry is not None)
        vxml.say_plain(speech, before)
        vxml.say(speech, _spoken_title(option, locale, facts or {}))
        vxml.say_plain(speech, after)
        vxml.pause(speech)
    hints = [words.operator] if operator else []
    hints += [words.repeat_menu] + ([words.back] if back else [])
    _say_hints(speech, hints)
    for key, option in offered(menu):
        target = entry_file(option.entry) if option.entry else names[_node_path(option)]
        vxml.choice(dialog, key, prefix + target)
    _common_choices(dialog, repeat="#menu", back=prefix + back if back else None)
    vxml.retry_handlers(dialog, words.flow, "#operator" if operator else None)
    vxml.operator_form(root, operator, words.flow, "#menu")
    return vxml.to_xml(root)


def entry_document(locale: str, spoken: str | Sequence[Piece], back: str, operator: str | None) -> str:
    """The entry's script (`spoken`: its `::: ivr` block, else its summary), then * again,
    # back, 0."""
    words = phrases(locale)
    root = vxml.document(locale)
    block = vxml.element(vxml.element(root, "form", {"id": "script"}), "block")
    vxml.say(vxml.prompt(block), spoken)
    vxml.element(block, "goto", {"next": "#after"})
    dialog = vxml.element(root, "menu", {"id": "after"})
    hints = [words.repeat_entry, words.back] + ([words.operator] if operator else [])
    _say_hints(vxml.prompt(dialog), hints)
    _common_choices(dialog, repeat="#script", back=back)
    vxml.retry_handlers(dialog, words.flow, "#operator" if operator else None)
    vxml.operator_form(root, operator, words.flow, "#after")
    return vxml.to_xml(root)


def index_document(trees: dict[str, Menu], default_locale: str, operator: str | None) -> str:
    if len(trees) == 1:
        [(locale, main)] = trees.items()
        return menu_document(locale, main, menu_files(main), None, operator, prefix=f"{locale}/")
    return language_document(list(trees), default_locale, operator)


def language_document(locales: list[str], default_locale: str, operator: str | None) -> str:
    """"普通话请按1, For English, press 2": each line in its own language. A caller who chooses
    nothing gets the default locale's main menu."""
    home = default_locale if default_locale in locales else locales[0]
    flow = phrases(home).flow
    root = vxml.document(home)
    dialog = vxml.element(root, "menu", {"id": "menu"})
    keyed = list(zip(KEYS, locales))  # more than 9 voice languages is not a hotline
    for key, locale in keyed:
        vxml.say_plain(vxml.prompt(dialog, locale), language_line(locale, key))
    for key, locale in keyed:
        vxml.choice(dialog, key, f"{locale}/{MAIN}")
    _common_choices(dialog, repeat="#menu", back=None)
    vxml.retry_handlers(dialog, flow, f"{home}/{MAIN}")
    vxml.operator_form(root, operator, flow, "#menu")
    return vxml.to_xml(root)


def script(entry: MenuEntry, facts: Mapping[str, Fact]) -> list[Piece]:
    """What the entry's document says: its `::: ivr` script, else its summary, else its title
    (validate refuses a carried entry with neither), facts in their spoken form."""
    assert isinstance(entry, Entry)  # the channel's menus are built from loaded entries
    written = entry.ivr_script or entry.as_written("summary") or entry.as_written("title") or ""
    return spoken_pieces(written, entry.locale, facts)


def _spoken_title(option: Option, locale: str, facts: Mapping[str, Fact]) -> str | list[Piece]:
    entry = option.entry
    if not isinstance(entry, Entry):
        return option.title  # a category: its title has no facts
    return spoken_pieces(entry.as_written("title") or option.title, locale, facts)


def _common_choices(dialog, repeat: str, back: str | None) -> None:
    vxml.choice(dialog, "0", "#operator")
    vxml.choice(dialog, "*", repeat)
    if back:
        vxml.choice(dialog, "#", back)


def _say_hints(speech, hints: list[str]) -> None:
    for index, hint in enumerate(hints):
        if index:
            vxml.pause(speech)
        vxml.say_plain(speech, hint)
