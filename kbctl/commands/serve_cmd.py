"""`kbctl serve`: preview a site channel on localhost, rebuilt whenever a file is saved."""

from __future__ import annotations

from typing import Annotated

import typer

from kbctl.commands.options import AsOf


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on (0: any free port).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    channel: Annotated[str | None, typer.Option("--channel", "-c", help="The site channel (default: the first public one).")] = None,
    internal: Annotated[bool, typer.Option("--internal", help="Serve the first internal site channel (the agents' view).")] = False,
    as_of: AsOf = None,
) -> int:
    """Build a site channel, serve it, and rebuild when knowledge/ or kbctl.yaml changes."""
    from kbctl.authoring.serve import Server, choose_channel
    from kbctl.cli import STATE
    from kbctl.errors import UsageError
    from kbctl.session import open_config, parse_as_of

    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: use 0-65535")
    root, config = open_config(STATE.root)
    date = parse_as_of(as_of) if as_of else None  # None: today, at each rebuild
    server = Server(root, choose_channel(config, channel, internal), host=host, port=port,
                    as_of=date, log=_log)
    try:
        server.start()
        _log(f"serving {server.channel.name} at {server.url} (watching knowledge/ and "
             "kbctl.yaml; Ctrl-C stops)")
        server.watch()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a preview ends: not an error
    finally:
        server.stop()
    _log("stopped")
    return 0


def _log(message: str) -> None:
    print(message, flush=True)
