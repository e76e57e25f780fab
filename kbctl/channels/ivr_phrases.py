"""What the hotline itself says, per language: option lines, key hints, error and transfer lines.

Only Chinese and English are written; any other language falls back to English (its menus
still speak the entries' own titles and scripts). `{title}` marks where content goes: it is
spoken with number/date handling, the rest of a line is spoken as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from kbctl.channels.vxml import Prompts

_SENTENCE_END = tuple(".?!。？！…")


@dataclass(frozen=True)
class Phrases:
    category: str  # a submenu option
    question: str  # an entry option whose title is a full sentence (usually a question)
    operator: str
    repeat_menu: str
    repeat_entry: str
    back: str
    flow: Prompts

    def option(self, title: str, key: str, is_entry: bool) -> tuple[str, str]:
        """(before, after) the title in the line offering `key`."""
        sentence = is_entry and title.rstrip().endswith(_SENTENCE_END)
        template = self.question if sentence else self.category
        before, _, after = template.partition("{title}")
        return before, after.format(key=key)


_ZH = Phrases(
    category="{title}请按{key}。",
    question="{title}请按{key}。",
    operator="人工服务请按0。",
    repeat_menu="重听请按星号键。",
    repeat_entry="重听请按星号键。",
    back="返回上级菜单请按井号键。",
    flow=Prompts(
        noinput="抱歉，没有听到您的选择。",
        nomatch="抱歉，您的输入有误。",
        goodbye="感谢您的来电，再见。",
        transferring="正在为您转接人工服务，请稍候。",
        transfer_failed="抱歉，暂时无法转接人工服务。",
        no_operator="抱歉，本热线暂不提供人工服务。",
    ),
)

_EN = Phrases(
    category="For {title}, press {key}.",
    question="{title} Press {key}.",
    operator="To speak to an agent, press 0.",
    repeat_menu="To hear these options again, press star.",
    repeat_entry="To hear this again, press star.",
    back="To go back, press pound.",
    flow=Prompts(
        noinput="Sorry, I did not hear your choice.",
        nomatch="Sorry, that is not a valid choice.",
        goodbye="Thank you for calling. Goodbye.",
        transferring="Please hold while we transfer you to an agent.",
        transfer_failed="Sorry, we cannot transfer your call right now.",
        no_operator="Sorry, this line has no agent service.",
    ),
)

_BY_LANGUAGE = {"zh": _ZH, "en": _EN}

# The language menu names each language in itself.
_LANGUAGE_LINES = {
    "zh-CN": "普通话请按{key}。",
    "zh-TW": "國語請按{key}。",
    "zh-HK": "粵語請按{key}。",
    "zh": "中文请按{key}。",
    "en": "For English, press {key}.",
}


def phrases(locale: str) -> Phrases:
    return _BY_LANGUAGE.get(_language(locale), _EN)


def language_line(locale: str, key: str) -> str:
    template = _LANGUAGE_LINES.get(locale) or _LANGUAGE_LINES.get(_language(locale))
    return (template or f"For {locale}, press {{key}}.").format(key=key)


def _language(locale: str) -> str:
    return locale.split("-", 1)[0].lower()
