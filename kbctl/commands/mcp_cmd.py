"""`kbctl mcp`: serve a channel to AI agents over the Model Context Protocol (CONTRACT 9)."""

from __future__ import annotations

from typing import Annotated

import typer

from kbctl.commands.options import AsOf


def register(app: typer.Typer) -> None:
    app.command(name="mcp")(mcp)


def mcp(
    channel: Annotated[str, typer.Option("--channel", "-c", help="The site, faq or rag channel to serve.")],
    as_of: AsOf = None,
    http: Annotated[str | None, typer.Option("--http", metavar="HOST:PORT", help="Serve streamable HTTP on this address (host default 127.0.0.1) instead of stdio.")] = None,
) -> int:
    """Serve what a channel carries to AI agents over MCP: tools search, get_entry, list_categories."""
    from kbctl.assistant.server import run
    from kbctl.cli import STATE
    from kbctl.session import open_config, parse_as_of

    root, _ = open_config(STATE.root)
    try:
        run(root, channel, parse_as_of(as_of) if as_of else None, http)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a server ends: not an error
    return 0
