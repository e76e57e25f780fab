"""The command line: thin typer commands. Each parses options, calls one function, reports,
and returns an exit code. Commands live in kbctl/commands/*; each module has `register(app)`.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from kbctl import __version__
from kbctl.errors import EXIT_INTERNAL, EXIT_USAGE, KbctlError

app = typer.Typer(
    name="kbctl",
    help="Compile and lint a customer-service knowledge base kept as code.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# One module per command family; each adds its commands to `app`.
COMMAND_MODULES = ("validate_cmd", "rules_cmd", "health_cmd", "build_cmd", "review_cmd",
                   "authoring_cmd", "owners_cmd", "serve_cmd", "mcp_cmd")


class State:
    root: Path | None = None
    debug: bool = False


STATE = State()


def _version(value: bool) -> None:
    if value:
        print(f"kbctl {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    root: Annotated[Path | None, typer.Option("--root", help="The KB folder (default: the nearest folder with kbctl.yaml).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    STATE.root = root
    STATE.debug = debug


for _module in COMMAND_MODULES:
    importlib.import_module(f"kbctl.commands.{_module}").register(app)


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """`NAME` from click's exceptions, wherever they come from. Recent typer vendors click as
    `typer._click` (its errors are not `click.ClickException`s) and no longer installs click,
    so neither import may be required; older typer uses click itself."""
    modules = []
    for module_name in ("typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(importlib.import_module(module_name))
        except ImportError:
            pass
    return tuple({getattr(m, name) for m in modules if hasattr(m, name)})


_CLICK_ERRORS = _click_classes("ClickException")
_USAGE_ERRORS = _click_classes("UsageError")
_EXITS: tuple[type[BaseException], ...] = tuple({*_click_classes("Exit"), typer.Exit})
_ABORTS: tuple[type[BaseException], ...] = tuple({*_click_classes("Abort"), typer.Abort})


def main(argv: list[str] | None = None) -> None:
    """Entry point: one handler maps every failure to an exit code and one line for people."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="kbctl", standalone_mode=False)
    except _EXITS as exc:
        code = getattr(exc, "exit_code", 0)
    except _CLICK_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]  # a ClickException of click's or typer's copy
        code = EXIT_USAGE if isinstance(exc, _USAGE_ERRORS) else getattr(exc, "exit_code", EXIT_USAGE)
    except _ABORTS:
        print("kbctl: aborted", file=sys.stderr)
        code = 130
    except KbctlError as exc:
        from kbctl.report.text import visible  # the message may quote kbctl.yaml or a file

        print(f"kbctl: error: {visible(exc)}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print("kbctl: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, said as one line
        if debug:
            traceback.print_exc()
        from kbctl.report.text import visible

        summary = visible(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
        print(f"kbctl: internal error ({summary}); this is a bug — run with --debug for details",
              file=sys.stderr)
        code = EXIT_INTERNAL
    code = code if isinstance(code, int) else 0
    if not args:  # help was shown: a usage error, as click >= 8.2 says and older click did not
        code = EXIT_USAGE
    if argv is None:  # a command-line run: leave without tearing down the heap
        _hard_exit(code)
    sys.exit(code)


def _hard_exit(code: int) -> None:
    """Exit now, as mypy does: after a build the interpreter would spend 0.1 s freeing
    objects the OS reclaims at once. Files are closed by then (every write is in a `with`),
    the streams are flushed here, and kbctl registers no exit handlers."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
