"""`kbctl init DIR`: a new knowledge base from templates/init, writing no file that exists.

Template files are copied as they are, except `*.j2` files, which are rendered (and lose the
suffix). A leading `dot-` in a template path becomes `.`: the templates of `.gitignore` and
`.github/` must not act as the kbctl repository's own ignore rules and workflows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kbctl.authoring.templating import environment
from kbctl.config import CONFIG_NAME
from kbctl.errors import UsageError
from kbctl.resources import data_dir


@dataclass(frozen=True)
class TemplateFile:
    source: str  # "/"-separated, relative to templates/init
    target: str  # "/"-separated, relative to the new KB

    @property
    def rendered(self) -> bool:
        return self.source.endswith(".j2")


def template_files() -> list[TemplateFile]:
    base = data_dir("templates") / "init"
    files = []
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        source = path.relative_to(base).as_posix()
        target = "/".join(_undot(part) for part in source.split("/"))
        files.append(TemplateFile(source, target.removesuffix(".j2")))
    return files


def _undot(part: str) -> str:
    return "." + part[len("dot-"):] if part.startswith("dot-") else part


def init_kb(folder: Path, name: str | None, today: dt.date) -> list[str]:
    """Create the KB in `folder`; return the files written, relative to it."""
    files = template_files()
    _check_target(folder, files)
    env = environment("init")
    context = {"name": name or _default_name(folder), "today": today.isoformat()}
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        target = folder / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.rendered:
            data = env.get_template(item.source).render(context).encode("utf-8")
        else:
            data = (data_dir("templates") / "init" / item.source).read_bytes()
        with open(target, "xb") as handle:  # "x": never replace a file, even one made just now
            handle.write(data)
    return [item.target for item in files]


def _check_target(folder: Path, files: list[TemplateFile]) -> None:
    """Refuse before writing anything: an existing KB, or any file init would write."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: exists and is not a folder")
    if (folder / CONFIG_NAME).exists():
        raise UsageError(f"{folder}: already a knowledge base ({CONFIG_NAME} exists); nothing was written")
    existing = [item.target for item in files if (folder / item.target).exists()]
    if existing:
        raise UsageError(f"{folder}: would overwrite {', '.join(existing)}; nothing was written")


def _default_name(folder: Path) -> str:
    return f"{folder.resolve().name} Help Center"


NEXT_STEPS = """\
Next steps:
  cd {folder}
  git init && git add -A && git commit -m "New knowledge base"
  edit kbctl.yaml: name, base_url, owners (github teams) and the taxonomy
  kbctl new --title "How do I ...?" --category billing/payments   # a draft entry
  kbctl validate && kbctl serve                                  # check, then preview
  kbctl owners --codeowners                                      # route reviews to owners
"""
