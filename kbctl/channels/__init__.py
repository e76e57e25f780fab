"""Channel kinds: one module per kind (kbctl/channels/base.py `ChannelKind`), one row each here."""

from __future__ import annotations

from kbctl.channels.base import ChannelKind


def kinds() -> dict[str, ChannelKind]:
    # Imported here so that commands which never build do not pay for the renderers.
    from kbctl.channels import faq, ivr, rag, site

    return {"site": site, "faq": faq, "ivr": ivr, "rag": rag}  # type: ignore[dict-item]  # modules as Protocols
