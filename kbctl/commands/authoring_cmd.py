"""`kbctl new`, `kbctl init` and `kbctl fmt`: writing entries and knowledge bases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kbctl.commands.options import AsOf


def register(app: typer.Typer) -> None:
    app.command(name="new")(new)
    app.command(name="init")(init)
    app.command(name="fmt")(fmt)


def new(
    entry_id: Annotated[str | None, typer.Argument(metavar="ID", help="The new entry's id (default: made from an English title).")] = None,
    title: Annotated[str, typer.Option("--title", "-t", help="The title; for an FAQ, the question.")] = "",
    entry_type: Annotated[str, typer.Option("--type", help="faq, howto, policy, troubleshooting, case or reference.")] = "faq",
    category: Annotated[str | None, typer.Option("--category", help="A taxonomy path, e.g. billing/payments.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="An owner key (default: the only owner, or the category's usual one).")] = None,
    locale: Annotated[str | None, typer.Option("--locale", help="Default: default_locale.")] = None,
    visibility: Annotated[str | None, typer.Option("--visibility", help="public, customer, partner or internal (default: public; internal for cases).")] = None,
    path: Annotated[Path | None, typer.Option("--path", help="The file to write (default: knowledge/<category>/<id>.md).")] = None,
    as_of: AsOf = None,
) -> int:
    """Write a new draft entry from its type's template; never overwrites."""
    from kbctl.authoring.files import shown
    from kbctl.authoring.new import NewRequest, create_entry
    from kbctl.cli import STATE
    from kbctl.errors import UsageError
    from kbctl.load import load_kb
    from kbctl.session import open_config, parse_as_of

    if not title.strip():
        raise UsageError("--title is required (for an FAQ, the question)")
    root, config = open_config(STATE.root)
    request = NewRequest(
        title=title, entry_id=entry_id, type=entry_type, category=category, owner=owner,
        locale=locale, visibility=visibility, today=parse_as_of(as_of),
        path=(Path.cwd() / path) if path else None,
    )
    written = create_entry(root, config, load_kb(root, config), request)
    print(f"wrote {shown(written)}")
    return 0


def init(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The folder of the new knowledge base (created if missing).")],
    name: Annotated[str | None, typer.Option("--name", help="The KB's name in kbctl.yaml (default: from DIR).")] = None,
    as_of: AsOf = None,
) -> int:
    """Create a knowledge base: config, a sample entry, CI workflow and pre-commit hook."""
    from kbctl.authoring.files import shown
    from kbctl.authoring.init import NEXT_STEPS, init_kb
    from kbctl.session import parse_as_of

    target = Path.cwd() / folder
    written = init_kb(target, name, parse_as_of(as_of))
    for rel in written:
        print(f"wrote {shown(target / rel)}")
    print()
    print(NEXT_STEPS.format(folder=shown(target)), end="")
    return 0


def fmt(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATH", help="Entry files or folders (default: every entry of the KB).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; list files that would change; exit 1 if any.")] = False,
) -> int:
    """Normalize front matter: key order, dates; comments and body kept exactly."""
    from kbctl.authoring.files import shown
    from kbctl.authoring.fmt import entry_files, format_files
    from kbctl.cli import STATE
    from kbctl.report.text import visible
    from kbctl.session import locate

    root = None if paths else locate(STATE.root)
    results = format_files(entry_files(root, list(paths or [])), write=not check)
    changed = [r for r in results if r.changes]
    problems = [r for r in results if r.problem]
    for result in changed:
        verb = "would reformat" if check else "formatted"
        print(f"{verb} {visible(shown(result.path))}: {', '.join(result.changes)}")
    for result in problems:
        print(f"{visible(shown(result.path))}: {visible(result.problem)} (left as it is)")
    print(f"{len(changed)} of {len(results)} files {'would change' if check else 'changed'}"
          + (f", {len(problems)} could not be formatted" if problems else ""))
    return 1 if problems or (check and changed) else 0
