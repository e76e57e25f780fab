"""Jinja templates of `new` and `init`, and a filter that makes any text a safe YAML scalar."""

from __future__ import annotations

import json

import jinja2

from kbctl.resources import data_dir
from kbctl.yamlutil import BadYaml, load_front_matter


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when it reads back unchanged, else double-quoted.

    A title like `Yes: no`, `123` or `on` would otherwise turn into a mapping, a number or a
    boolean. JSON string syntax is valid YAML double-quoted syntax.
    """
    try:
        plain = load_front_matter(f"k: {text}\n")  # read back as the loader will read it
    except BadYaml:
        plain = None
    if "\n" not in text and plain == {"k": text}:
        return text
    return json.dumps(text, ensure_ascii=False)


def environment(folder: str) -> jinja2.Environment:
    """Templates under templates/<folder>; undefined variables are errors, not blanks."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates") / folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,  # a line holding only a {% tag %} leaves no blank line behind
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["yaml"] = yaml_scalar
    return env


def language(locale: str) -> str:
    """The language of a locale's skeleton headings: Chinese for zh-*, else English."""
    return "zh" if locale.lower().startswith("zh") else "en"
