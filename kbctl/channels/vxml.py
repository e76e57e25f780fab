"""VoiceXML 2.1 documents built as element trees, so every text and attribute is escaped.

Content (titles, scripts, the operator address) only ever becomes element text or attribute
values through ElementTree; it can never become markup, whatever characters it holds. The
characters XML cannot hold at all (most controls), which ElementTree would write as they are,
become U+FFFD, so every document parses.
SSML elements (`<break>`, `<say-as>`) and grammars live in the VoiceXML namespace, as the
W3C schema requires.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from kbctl.channels import ssml
from kbctl.facts import Piece

NS = "http://www.w3.org/2001/vxml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OPTION_PAUSE = "300ms"
RETRIES = 3  # the third silence or wrong key in a row gives up (operator, or goodbye)
# Not a Char of XML 1.0, not even as a character reference; lone surrogates cannot be UTF-8.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def element(parent: ET.Element, name: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, name, attrs or {})


def document(lang: str) -> ET.Element:
    # Tags stay unqualified and the root's `xmlns` puts them all in the VoiceXML namespace:
    # ElementTree's `default_namespace` rejects unqualified attributes, and
    # `register_namespace` would change process-wide state other writers rely on.
    return ET.Element("vxml", {"xmlns": NS, "version": "2.1", XML_LANG: lang})


def to_xml(root: ET.Element) -> str:
    """The document as text: declaration, two-space indentation, a final newline."""
    ET.indent(root, space="  ")
    body = _NOT_IN_XML.sub("\ufffd", ET.tostring(root, encoding="unicode"))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


@dataclass(frozen=True)
class Prompts:
    """The fixed sentences of the dialogue flow, in one language."""

    noinput: str
    nomatch: str
    goodbye: str
    transferring: str
    transfer_failed: str
    no_operator: str


def prompt(parent: ET.Element, lang: str | None = None) -> ET.Element:
    return element(parent, "prompt", {XML_LANG: lang} if lang else None)


def say(parent: ET.Element, text: str | Sequence[Piece]) -> None:
    """Speak content (a title, a script): numbers and dates get `<say-as>`, and so do facts
    whose `say_as` says how to read them."""
    ssml.append_speech(parent, text, "say-as")


def say_plain(parent: ET.Element, text: str) -> None:
    """Speak one of our own fixed sentences, as written."""
    ssml.append_text(parent, text)


def pause(parent: ET.Element) -> None:
    element(parent, "break", {"time": OPTION_PAUSE})


def choice(menu: ET.Element, dtmf: str, target: str) -> None:
    element(menu, "choice", {"dtmf": dtmf, "next": target})


def retry_handlers(menu: ET.Element, prompts: Prompts, give_up: str | None) -> None:
    """Silence or a wrong key: say so and repeat the menu; at the third time in a row, go to
    `give_up` (a URI), or say goodbye and end the call when there is none."""
    for event, sorry in (("noinput", prompts.noinput), ("nomatch", prompts.nomatch)):
        first = element(menu, event, {"count": "1"})
        say_plain(prompt(first), sorry)
        element(first, "reprompt")
        last = element(menu, event, {"count": str(RETRIES)})
        if give_up:
            element(last, "goto", {"next": give_up})
        else:
            say_plain(prompt(last), prompts.goodbye)
            element(last, "exit")


def operator_form(root: ET.Element, operator: str | None, prompts: Prompts, back: str) -> None:
    """`#operator`: a blind transfer to `operator`; if it fails or none is configured, say so
    and return to `back` (the menu the caller came from)."""
    form = element(root, "form", {"id": "operator"})
    if not operator:
        block = element(form, "block")
        say_plain(prompt(block), prompts.no_operator)
        element(block, "goto", {"next": back})
        return
    transfer = element(form, "transfer", {"name": "agent", "dest": operator, "type": "blind"})
    say_plain(prompt(transfer), prompts.transferring)
    # Prefix match: error.connection.noauthorization, .baddestination, .noroute, …
    failed = element(form, "catch", {"event": "error.connection error.unsupported.transfer.blind"})
    say_plain(prompt(failed), prompts.transfer_failed)
    element(failed, "goto", {"next": back})
