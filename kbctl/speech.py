"""How long a script takes to say (CONTRACT 3.2): CJK characters at 4/s, other words at 150/min."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")

DEFAULT_CHARS_PER_SECOND = 4.0
DEFAULT_WORDS_PER_MINUTE = 150.0


def rates(speech: dict, locale: str) -> tuple[float, float]:
    """(CJK characters per second, words per minute) for a locale, with configured overrides."""
    # `speech: {zh: …}` is a valid setting (a language tag) and means every zh-* locale.
    chosen = speech.get(locale) or speech.get(locale.split("-")[0]) or {}
    return (
        float(chosen.get("chars_per_second", DEFAULT_CHARS_PER_SECOND)),
        float(chosen.get("words_per_minute", DEFAULT_WORDS_PER_MINUTE)),
    )


def spoken_seconds(text: str, chars_per_second: float, words_per_minute: float) -> float:
    characters = len(_CJK.findall(text))
    words = len(_WORD.findall(text))
    return characters / chars_per_second + words * 60.0 / words_per_minute
