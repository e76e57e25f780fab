"""The ivr channel kind (being written)."""

from __future__ import annotations


def render(ctx, writer) -> None:
    for entry in ctx.entries:
        writer.write(f"{entry.locale}/{entry.id}.txt", entry.title, entry.id)
