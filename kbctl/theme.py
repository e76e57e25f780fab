"""A site channel's `theme` (CONTRACT 10): what kbctl.yaml says, as records, and the checks
that its files exist inside the knowledge base and are safe to publish.

Theme files come from a pull request like any other file: a path must stay inside the KB,
never pass through a hidden part or a symbolic link, name a regular file of an allowed type,
and an SVG must carry nothing active (kbctl/assets.py `svg_problem`). The colours the
stylesheet needs are derived from `primary_color` (kbctl/colors.py). `theme_digest` is every
theme input of a channel, for the build environment: a change to any remakes the channel.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbctl.assets import css_problem, svg_problem, what_is_there
from kbctl.errors import UsageError
from kbctl.facts import ANY_LOCALE, Fact, fill_plain

# The file kinds each key may name: images a browser shows and never runs, and CSS.
FILE_TYPES: dict[str, frozenset[str]] = {
    "logo": frozenset({"svg", "png", "jpg", "jpeg", "webp", "gif"}),
    "favicon": frozenset({"svg", "ico", "png"}),
    "css": frozenset({"css"}),
}
TEMPLATE_SUFFIX = ".html"


@dataclass(frozen=True)
class ThemeLink:
    titles: Mapping[str, str]  # locale (or ANY_LOCALE) -> title, facts not yet filled in
    url: str


@dataclass(frozen=True)
class Theme:
    """A site channel's `theme`; paths are relative to the KB root, as written."""

    logo: str | None = None
    favicon: str | None = None
    css: str | None = None
    primary_color: str | None = None
    on_primary_color: str | None = None
    footer: Mapping[str, str] | None = None
    links: tuple[ThemeLink, ...] = ()
    templates: str | None = None

    def files(self) -> dict[str, str]:
        """The theme's files by key (logo, favicon, css) where set."""
        return {key: path for key in FILE_TYPES if (path := getattr(self, key)) is not None}


def theme_of(options: Mapping[str, Any]) -> Theme | None:
    """The `theme` of a channel's options (schema-checked), or None."""
    spec = options.get("theme")
    if not isinstance(spec, dict):
        return None
    return Theme(
        logo=spec.get("logo"), favicon=spec.get("favicon"), css=spec.get("css"),
        primary_color=spec.get("primary_color"), on_primary_color=spec.get("on_primary_color"),
        footer=_by_locale(spec["footer"]) if "footer" in spec else None,
        links=tuple(ThemeLink(_by_locale(link["title"]), link["url"]) for link in spec.get("links") or []),
        templates=spec.get("templates"),
    )


def _by_locale(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, dict) else {ANY_LOCALE: str(value)}


def text_in(values: Mapping[str, str], locale: str, default_locale: str, facts: Mapping[str, Fact]) -> str:
    """A footer or link title for `locale` (else the default locale's, else any), facts filled
    in with their written values (an unknown fact stays as written; validate reports it)."""
    text = values.get(locale) or values.get(ANY_LOCALE) or values.get(default_locale)
    if text is None:
        text = next(iter(values.values()), "")
    return fill_plain(text, locale, facts).text


# -- checks on the files -------------------------------------------------------------------------

def _inside_parts(kb_path: str, hidden: str) -> tuple[list[str], tuple[str, str] | None]:
    """The parts of a KB-relative path, or why it is none: outside the KB, or hidden."""
    normal = posixpath.normpath(kb_path)
    if posixpath.isabs(kb_path) or normal == ".." or normal.startswith("../") or "\\" in kb_path:
        return [], ("unreadable", f"{kb_path}: points outside the knowledge base")
    parts = normal.split("/")
    if any(part.startswith(".") for part in parts):
        return [], ("unreadable", f"{kb_path}: {hidden}")
    return parts, None


def path_problem(root: Path, kb_path: str) -> tuple[str, str] | None:
    """(rule, problem) when `kb_path` is not a regular file inside the KB reached without a
    symbolic link, else None. Never follows a link: `what_is_there` looks at each part."""
    parts, problem = _inside_parts(kb_path, "hidden files and folders are never published")
    if problem is not None:
        return problem
    found = what_is_there(root, parts)
    if found == "link":
        return "unsafe-file", f"{kb_path}: a symbolic link is never published (it may lead anywhere)"
    if found != "file":
        return "unreadable", f"no file {kb_path} in the knowledge base"
    return None


def file_problem(root: Path, key: str, kb_path: str) -> tuple[str, str] | None:
    """Why the theme file `key` (logo, favicon, css) at `kb_path` may not be published."""
    found = path_problem(root, kb_path)
    if found is not None:
        return found
    suffix = posixpath.splitext(kb_path)[1].lower().lstrip(".")
    allowed = FILE_TYPES[key]
    if suffix not in allowed:
        return "unsafe-file", f"{kb_path}: a {key} is one of {', '.join(sorted(allowed))}"
    if suffix == "svg":
        problem = svg_problem(root / kb_path)
        if problem:
            return "unsafe-file", f"{kb_path}: {problem}"
    if suffix == "css":
        try:
            problem = css_problem((root / kb_path).read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            return "unreadable", f"{kb_path}: not a readable UTF-8 file"
        if problem:
            return "unsafe-file", f"{kb_path}: {problem}"
    return None


def folder_problem(root: Path, kb_path: str) -> tuple[str, str] | None:
    """Why `templates` may not be used: a folder inside the KB, reached without a link."""
    parts, problem = _inside_parts(kb_path, "hidden folders are never read")
    if problem is not None:
        return problem
    path = str(root)
    for part in parts:
        path = f"{path}{os.sep}{part}"
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return "unreadable", f"no folder {kb_path} in the knowledge base"
        if stat.S_ISLNK(mode):
            return "unsafe-file", f"{kb_path}: a symbolic link is never followed (it may lead anywhere)"
    if not stat.S_ISDIR(mode):
        return "unreadable", f"{kb_path} is not a folder"
    return None


def check_theme_files(root: Path, channels: Mapping[str, Any], line_of) -> None:
    """Refuse (exit 2, kbctl.yaml at the key's line) a theme file or folder that is missing,
    outside the KB, or unsafe. `line_of(path)`: the line of a key path in kbctl.yaml."""
    for name, channel in channels.items():
        theme = theme_of(channel.options)
        if theme is None:
            continue
        for key, kb_path in theme.files().items():
            _refuse(file_problem(root, key, kb_path), name, key, line_of)
        if theme.templates is not None:
            _refuse(folder_problem(root, theme.templates), name, "templates", line_of)


def _refuse(found: tuple[str, str] | None, channel: str, key: str, line_of) -> None:
    if found is None:
        return
    rule, problem = found
    raise UsageError(f"{rule}: channels/{channel}/theme/{key}: {problem}", path="kbctl.yaml",
                     line=line_of(["channels", channel, "theme", key]))


# -- what the channel's output depends on --------------------------------------------------------

def override_files(root: Path, folder: str) -> dict[str, Path]:
    """The override templates in `folder` by file name: regular `*.html` files (a symbolic
    link among them is listed too, for the loader to refuse by name)."""
    base = root / folder
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return {}
    return {name: base / name for name in names
            if name.endswith(TEMPLATE_SUFFIX) and not name.startswith(".")}


def theme_paths(root: Path, theme: Theme | None) -> list[Path]:
    """The files a theme reads, for `kbctl serve` to watch: its logo, favicon, stylesheet
    and override templates."""
    if theme is None:
        return []
    paths = [root / kb_path for kb_path in theme.files().values()]
    return paths + (list(override_files(root, theme.templates).values()) if theme.templates else [])


def theme_digest(root: Path, theme: Theme | None, locales: tuple[str, ...], default_locale: str,
                 facts: Mapping[str, Fact]) -> str:
    """Every input the theme brings to every page of the channel: the files' bytes, the
    override templates' bytes, and the footer and link titles after facts."""
    if theme is None:
        return "none"
    digest = hashlib.sha256()
    material: dict[str, Any] = {
        "settings": repr(theme),
        "footer": [text_in(theme.footer, loc, default_locale, facts) for loc in locales] if theme.footer else None,
        "links": [[text_in(link.titles, loc, default_locale, facts) for loc in locales] for link in theme.links],
    }
    digest.update(json.dumps(material, sort_keys=True, ensure_ascii=False).encode())
    files = dict(theme.files())
    if theme.templates is not None:
        files.update({f"templates/{name}": f"{theme.templates}/{name}"
                      for name in override_files(root, theme.templates)})
    for key, kb_path in sorted(files.items()):
        digest.update(f"\0{key}\0{kb_path}\0".encode())
        digest.update(read_theme_file(root, kb_path) or b"\0absent")
    return digest.hexdigest()


def read_theme_file(root: Path, kb_path: str) -> bytes | None:
    """A theme file's bytes, or None where it is not a regular file reached without a link."""
    if path_problem(root, kb_path) is not None:
        return None
    try:
        return (root / kb_path).read_bytes()
    except OSError:
        return None


def named_paths(config_text: bytes, files: list[str]) -> list[str]:
    """The files of `files` (KB-relative) that kbctl.yaml's themes name, overrides included:
    what a review lays out of a commit besides kbctl.yaml (kbctl/review/gitsnapshot.py). An
    unreadable kbctl.yaml names none (parsing it again reports why)."""
    import yaml  # PyYAML's safe loader: plain data, and only in a review

    try:
        data = yaml.safe_load(config_text)
    except yaml.YAMLError:
        return []
    channels = data.get("channels") if isinstance(data, dict) else None
    wanted: set[str] = set()
    folders: set[str] = set()
    for spec in (channels or {}).values() if isinstance(channels, dict) else ():
        theme = spec.get("theme") if isinstance(spec, dict) else None
        if not isinstance(theme, dict):
            continue
        wanted |= {str(theme[key]) for key in FILE_TYPES if isinstance(theme.get(key), str)}
        if isinstance(theme.get("templates"), str):
            folders.add(posixpath.normpath(theme["templates"]))
    return [path for path in files if path in wanted or posixpath.dirname(path) in folders]
