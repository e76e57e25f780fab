"""`kbctl review --base REF [--head REF]`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kbctl.commands.options import AsOf, FmtMd, FormatWithMarkdown


def register(app: typer.Typer) -> None:
    @app.command()
    def review(
        base: Annotated[str, typer.Option(
            "--base", metavar="REF", help="The commit the change starts from, e.g. origin/main.")],
        head: Annotated[str, typer.Option(
            "--head", metavar="REF",
            help="The commit with the change. Commits only: uncommitted changes are not reviewed.",
        )] = "HEAD",
        as_of: AsOf = None,
        fmt: FormatWithMarkdown = FmtMd.text,
    ) -> int:
        """What a change does between two commits: changed entries, the channels whose output
        differs, content reaching a wider audience, and the problems in and around it.

        Compares committed states only (HEAD by default): uncommitted changes are not reviewed.
        Like a pull request, the change is counted from where head's history left base's (their
        merge base), so commits that reached base meanwhile are not taken for the change's.
        Exit 1 when validate finds an error in the changed entries or the entries that link to
        them; health findings are shown for information and never fail the review.
        """
        from kbctl.cli import STATE
        from kbctl.review import review as run
        from kbctl.review.report import write
        from kbctl.session import locate, parse_as_of

        date = parse_as_of(as_of)
        result = run(locate(STATE.root), base, head, date)
        write(result, fmt.value, sys.stdout)
        return result.exit_code
