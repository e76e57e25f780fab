"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Fmt(str, Enum):
    text = "text"
    json = "json"
    github = "github"


class FmtMd(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    markdown = "markdown"


class FmtHealth(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    markdown = "markdown"
    html = "html"


AsOf = Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="The date taken as today (default: today).")]
Format = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]
FormatWithMarkdown = Annotated[FmtMd, typer.Option("--format", "-f", help="Output format.")]
