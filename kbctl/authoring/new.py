"""`kbctl new`: write a valid draft entry from the type's template, never overwriting anything."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kbctl.authoring.templating import environment, language
from kbctl.config import Config
from kbctl.errors import UsageError
from kbctl.load.discover import KNOWLEDGE_DIR
from kbctl.model import VISIBILITY_LEVELS, KnowledgeBase
from kbctl.resources import load_schema

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_SLUG = 60
# Case write-ups are for training agents (DOMAIN.md): keep them internal unless told otherwise.
DEFAULT_VISIBILITY = {"case": "internal"}


@dataclass(frozen=True)
class NewRequest:
    """What the user asked for; None means "choose for me"."""

    title: str
    entry_id: str | None = None
    type: str = "faq"
    category: str | None = None
    owner: str | None = None
    locale: str | None = None
    visibility: str | None = None
    path: Path | None = None  # absolute
    today: dt.date = field(default_factory=dt.date.today)


@dataclass(frozen=True)
class NewEntry:
    """A request resolved against the KB: every value checked, every default chosen."""

    entry_id: str
    title: str
    type: str
    owner: str
    locale: str
    visibility: str
    category: str | None
    today: dt.date
    path: Path


def entry_types() -> list[str]:
    return list(load_schema("entry.schema.json")["properties"]["type"]["enum"])


def create_entry(root: Path, config: Config, kb: KnowledgeBase, request: NewRequest) -> Path:
    entry = resolve(root, config, kb, request)
    text = render(entry)
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x": exclusive creation, so even a file that appeared a moment ago is never replaced.
        with open(entry.path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{entry.path}: already exists; kbctl new never overwrites") from None
    return entry.path


def resolve(root: Path, config: Config, kb: KnowledgeBase, request: NewRequest) -> NewEntry:
    title = request.title.strip()
    if not title:
        raise UsageError("--title must not be empty")
    entry_id = request.entry_id if request.entry_id is not None else derive_id(title)
    check_id(entry_id, kb, derived=request.entry_id is None)
    check_choice("--type", request.type, entry_types())
    if request.category is not None:
        check_choice("--category", request.category, list(config.nodes))
    locale = request.locale or config.default_locale
    check_choice("--locale", locale, list(config.locales))
    visibility = request.visibility or DEFAULT_VISIBILITY.get(request.type, "public")
    check_choice("--visibility", visibility, list(VISIBILITY_LEVELS))
    return NewEntry(
        entry_id=entry_id, title=title, type=request.type,
        owner=choose_owner(config, kb, request.category, request.owner),
        locale=locale, visibility=visibility, category=request.category, today=request.today,
        path=choose_path(root, kb, entry_id, request.category, request.path),
    )


def derive_id(title: str) -> str:
    """A slug from an English title: lower-case ASCII words joined by '-', at most ~60 chars."""
    # NFKD splits "é" into "e" + an accent mark, so "Café hours" still gives "cafe-hours".
    folded = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    if any(c.isalpha() and not c.isascii() for c in folded) or not re.search(r"[A-Za-z]", folded):
        raise UsageError(f"cannot make an id from the title {title!r}: give one, "
                         "e.g. kbctl new pay-bill-online --title ...")
    slug = ""
    for word in re.findall(r"[a-z0-9]+", folded.lower()):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG:
            break
        slug = candidate
    return slug or re.findall(r"[a-z0-9]+", folded.lower())[0][:MAX_SLUG]


def check_id(entry_id: str, kb: KnowledgeBase, derived: bool) -> None:
    if not ID_PATTERN.match(entry_id):
        raise UsageError(f"id {entry_id!r}: use lower-case letters, digits and '-' "
                         "(starting with a letter or digit)")
    taken = {e.meta.get("id"): e.path for e in kb.entries}
    for entry in kb.entries:
        taken.update({alias: entry.path for alias in entry.aliases})
    if entry_id in taken:
        hint = " (derived from the title: give another ID)" if derived else ""
        raise UsageError(f"id {entry_id!r} is already used by {taken[entry_id]}{hint}")


def check_choice(option: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        shown = ", ".join(choices) if choices else "(none configured)"
        raise UsageError(f"{option} {value!r} is not one of: {shown}")


def choose_owner(config: Config, kb: KnowledgeBase, category: str | None, owner: str | None) -> str:
    """--owner, else the only owner, else the owner of most entries in the category."""
    owners = list(config.owners)
    if owner is not None:
        check_choice("--owner", owner, owners)
        return owner
    if len(owners) == 1:
        return owners[0]
    counts = Counter(e.owner for e in _in_category(kb, category) if e.owner in config.owners)
    if counts:
        # Most entries first; ties go to the first name alphabetically, so the choice is stable.
        return min(counts, key=lambda key: (-counts[key], key))
    raise UsageError(f"--owner is required (one of: {', '.join(owners)})")


def choose_path(root: Path, kb: KnowledgeBase, entry_id: str, category: str | None,
                given: Path | None) -> Path:
    """--path, else `<id>.md` in the folder most entries of the category live in, else in
    knowledge/<category path>/. The file name is always the id: ids are unique, names too."""
    if given is not None:
        return _checked_path(root, given)
    folders = Counter(PurePosixPath(e.path).parent.as_posix() for e in _in_category(kb, category, exact=True))
    if folders:
        folder = min(folders, key=lambda name: (-folders[name], name))
    else:
        folder = "/".join([KNOWLEDGE_DIR, *(category.split("/") if category else [])])
    path = root / folder / f"{entry_id}.md"
    if path.exists():
        raise UsageError(f"{path.relative_to(root).as_posix()}: already exists; kbctl new never overwrites")
    return path


def _checked_path(root: Path, given: Path) -> Path:
    path = given.resolve()
    try:
        rel = path.relative_to((root / KNOWLEDGE_DIR).resolve())
    except ValueError:
        raise UsageError(f"--path {given}: entries live under {root / KNOWLEDGE_DIR}") from None
    if path.suffix != ".md" or path.name == "README.md":
        raise UsageError(f"--path {given}: an entry file ends in .md and is not README.md")
    if path.exists():
        raise UsageError(f"--path {given}: already exists; kbctl new never overwrites")
    return root / KNOWLEDGE_DIR / rel


def _in_category(kb: KnowledgeBase, category: str | None, exact: bool = False):
    if category is None:
        return []
    return [
        e for e in kb.entries
        if isinstance(e.category, str)
        and (e.category == category or (not exact and e.category.startswith(category + "/")))
    ]


def render(entry: NewEntry) -> str:
    template = environment("new").get_template(f"{entry.type}.md.j2")
    return template.render(
        id=entry.entry_id, title=entry.title, type=entry.type, owner=entry.owner,
        locale=entry.locale, visibility=entry.visibility, category=entry.category,
        today=entry.today.isoformat(), zh=language(entry.locale) == "zh",
    )
