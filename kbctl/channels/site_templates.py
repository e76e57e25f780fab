"""The site's templates: kbctl's own (templates/site/) and a theme's overrides, by file name,
all rendered in Jinja's immutable sandbox.

A pull request may change an override, so a template is untrusted code: the sandbox keeps it
from Python internals (`__class__`, `__globals__`, `_`-names) and from changing any value it
is given; StrictUndefined makes a misspelt name an error instead of an empty string. The
loader takes only plain file names (`entry.html`: no `/`, no `..`, nothing absolute), reads an
override only as a regular file reached without a symbolic link inside the KB, and otherwise
kbctl's own template of that name. Nothing is cached on disk: jinja's bytecode cache would load
marshalled code. A template that fails becomes `TemplateFailed`: `<template path>:<line>:
<problem>`, which refuses the build (exit 1) before any output is put in place.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from kbctl.errors import BuildRefused
from kbctl.theme import override_files, path_problem

BUILTIN_PREFIX = "templates/site/"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.html")


class TemplateFailed(BuildRefused):
    """A template did not render: the message is `<template path>:<line>: <problem>`."""


class ThemeLoader(jinja2.BaseLoader):
    """Templates by plain file name: the theme's override where there is one, else kbctl's."""

    def __init__(self, builtin: Path, root: Path | None = None, folder: str | None = None):
        self.builtin = builtin
        self.root = root
        self.folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if not _NAME.fullmatch(template):
            raise jinja2.TemplateNotFound(template)  # `../x`, `/etc/passwd`, `a/b.html`
        if self.root is not None and self.folder is not None:
            kb_path = f"{self.folder}/{template}"
            found = path_problem(self.root, kb_path)
            if found is None:
                return _text(self.root / kb_path, kb_path), kb_path, lambda: True
            if found[0] != "unreadable":  # there, but unsafe (a symbolic link): never read
                raise TemplateFailed(f"{kb_path}:1: {found[1]}")
        path = self.builtin / template
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        return _text(path, BUILTIN_PREFIX + template), BUILTIN_PREFIX + template, lambda: True


def _text(path: Path, shown: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateFailed(f"{shown}:1: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise TemplateFailed(f"{shown}:1: cannot read: {exc.strerror or exc}") from None


def sandbox(builtin: Path, root: Path | None = None, folder: str | None = None) -> ImmutableSandboxedEnvironment:
    """The environment pages render in; kbctl's own templates alone without `folder`."""
    return ImmutableSandboxedEnvironment(
        loader=ThemeLoader(builtin, root, folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


class Templates:
    """Renders the site's pages; every failure is a `TemplateFailed` naming template and line."""

    def __init__(self, builtin: Path, root: Path | None = None, folder: str | None = None):
        self.env = sandbox(builtin, root, folder)
        self.shown = {BUILTIN_PREFIX + path.name for path in builtin.glob("*.html")}
        if root is not None and folder is not None:
            self.shown |= {f"{folder}/{name}" for name in override_files(root, folder)}

    def check(self, names: list[str]) -> None:
        """Parse each template now, so that a syntax error is found before any page is made."""
        for name in names:
            self._guarded(lambda name=name: self.env.get_template(name))

    def render(self, name: str, values: dict) -> str:
        return self._guarded(lambda: self.env.get_template(name).render(**values))

    def _guarded(self, work):
        try:
            return work()
        except TemplateFailed:
            raise
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateFailed(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
        except (jinja2.TemplateError, SecurityError, TypeError, ValueError, AttributeError,
                LookupError, ArithmeticError, RecursionError) as exc:
            where = self._where(exc)
            raise TemplateFailed(f"{where}: {_problem(exc)}") from None

    def _where(self, exc: BaseException) -> str:
        """The innermost frame of a template in the traceback: jinja maps its line to the
        template's own line."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename in self.shown:
                return f"{frame.filename}:{frame.lineno}"
        return "templates:1"


def _problem(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"no template {exc.name!r} (includes name a template of the theme or kbctl by file name)"
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined: {exc.message}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
