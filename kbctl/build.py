"""`kbctl build`: validate → select per channel → render → write atomically → manifest.

Gathers everything before writing anything: a refused build touches no file of the output.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from kbctl.channels import ChannelContext, kinds
from kbctl.checks import run_validate
from kbctl.config import Channel, Config
from kbctl.errors import BuildRefused, UsageError
from kbctl.load import load_kb
from kbctl.model import Diagnostic, KnowledgeBase, Severity
from kbctl.output import ChannelWriter, discard, staging_folder, swap_in
from kbctl.publish import carried


@dataclass
class BuildResult:
    kb: KnowledgeBase
    diagnostics: list[Diagnostic]
    written: dict[str, int]  # channel -> number of files


def select_channels(config: Config, names: list[str] | None) -> list[Channel]:
    if not names:
        return list(config.channels.values())
    unknown = [n for n in names if n not in config.channels]
    if unknown:
        raise UsageError(f"--channel {unknown[0]!r}: not configured (have: {', '.join(config.channels)})")
    return [config.channels[n] for n in dict.fromkeys(names)]


def build(root: Path, config: Config, as_of: dt.date, out: Path,
          channel_names: list[str] | None = None, progress=None) -> BuildResult:
    channels = select_channels(config, channel_names)
    kb = load_kb(root, config)
    diagnostics = run_validate(kb, as_of)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise BuildRefused(f"{len(errors)} errors in the content; nothing was written (run kbctl validate)")
    written: dict[str, int] = {}
    for channel in channels:
        with progress(channel) if progress else nullcontext():
            written[channel.name] = build_channel(kb, channel, as_of, out)
    return BuildResult(kb, diagnostics, written)


def channel_context(kb: KnowledgeBase, channel: Channel, as_of: dt.date) -> ChannelContext:
    entries = sorted(carried(kb.valid_entries, channel, as_of), key=lambda e: e.id)
    return ChannelContext(kb, kb.config, channel, as_of, entries)


def build_channel(kb: KnowledgeBase, channel: Channel, as_of: dt.date, out: Path) -> int:
    staging = staging_folder(out, channel.name)
    try:
        writer = ChannelWriter(staging)
        kinds()[channel.kind].render(channel_context(kb, channel, as_of), writer)
        writer.write_manifest(channel, as_of)
    except BaseException:
        discard(staging)
        raise
    swap_in(staging, out / channel.name)
    return len(writer.files)
