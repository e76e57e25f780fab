"""Exceptions that end a command. Findings in content are diagnostics, never exceptions."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CONTENT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class KbctlError(Exception):
    """A failure the user can act on; the message is one sentence for people."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.args[0]}" if where else str(self.args[0])


class UsageError(KbctlError):
    """Bad command line, missing knowledge base, invalid kbctl.yaml (exit 2)."""


class BuildRefused(KbctlError):
    """The content has errors, so nothing was written (exit 1)."""

    exit_code = EXIT_CONTENT

    def __init__(self, message: str, *, diagnostics=(), entries: int = 0):
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.entries = entries
