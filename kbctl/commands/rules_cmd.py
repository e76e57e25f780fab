"""`kbctl rules [NAME]`: the rule table, or one rule's doc."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def rules(name: Annotated[str | None, typer.Argument(help="A rule name or code.")] = None) -> int:
        """List every rule with its code, command and severity, or explain one."""
        from rich.console import Console
        from rich.table import Table

        from kbctl.errors import UsageError
        from kbctl.rules import RULES

        console = Console(highlight=False)
        if name:
            found = RULES.get(name) or next((r for r in RULES.values() if r.code == name.upper()), None)
            if found is None:
                raise UsageError(f"no rule {name!r}; `kbctl rules` lists them")
            console.print(f"[bold]{found.name}[/] ({found.code}) — {found.command}, default {found.severity.value}")
            console.print(f"\n[bold]What it does[/]\n{found.summary}\n\n[bold]Why[/]\n{found.why}")
            return 0
        table = Table("code", "rule", "command", "severity", "when")
        for r in RULES.values():
            table.add_row(r.code, r.name, r.command, r.severity.value, r.summary)
        console.print(table)
        return 0
