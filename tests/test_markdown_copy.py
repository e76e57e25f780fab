"""kbctl.channels.markdown_copy: an entry's Markdown copy as a channel carries it (CONTRACT 8)."""

from __future__ import annotations

import datetime as dt

import yaml
from conftest import entry_text, write_kb

from kbctl.build import channel_context
from kbctl.channels.markdown_copy import (
    answer_markdown,
    answer_parts,
    answer_resolver,
    entry_markdown,
)
from kbctl.config import load_config
from kbctl.load.loader import load_kb

AS_OF = dt.date(2026, 11, 22)
CANARY_INTERNAL = "CANARY-INTERNAL-7f3a"
CANARY_IVR = "CANARY-IVR-91bc"
CANARY_PARTNER = "CANARY-PARTNER-22de"

BODY = f"""\
Public intro, see [the other](kb:other#step-2) and [hidden](kb:secret).

::: internal
Agents only: {CANARY_INTERNAL} and [a ref][int].

[int]: https://intranet.example.com/{CANARY_INTERNAL}
:::

::: partner
Partner note {CANARY_PARTNER}.
:::

::: ivr
Say {CANARY_IVR}.
:::

## Steps

1. Open the app <span>now</span>.
2. See ![diagram](pic.png) and [ref link][ext] and [gone][sec].

<div>raw html block</div>

```
[not a link](kb:secret) <b>code</b>
```

`[code span](kb:secret)` and [js](javascript:alert(1)).

[ext]: https://example.com/x
[sec]: kb:secret
"""


def _kb(tmp_path):
    root = write_kb(tmp_path / "kb", {
        "main.md": entry_text(BODY, id="main", title="主条目", summary="短答案。", tags=["a", "b"],
                              category="billing/payments", last_reviewed="2026-09-01"),
        "other.md": entry_text("## Step 2\n\nOther.\n", id="other", title="Other"),
        "secret.md": entry_text("Secret body.\n", id="secret", title="SECRET-TITLE", visibility="internal"),
    })
    (root / "knowledge" / "pic.png").write_bytes(b"\x89PNG")
    config = load_config(root)
    return load_kb(root, config, use_cache=False), config


def _ctx(tmp_path, channel: str):
    kb, config = _kb(tmp_path)
    return channel_context(kb, config.channels[channel], AS_OF)


def _copy(ctx, entry_id="main", **kwargs):
    entry = ctx.kb.by_id[entry_id]
    return entry_markdown(ctx, entry, link_url=lambda e: f"../../{e.locale}/{e.id}/index.md", **kwargs)


def test_public_copy_has_no_restricted_text_nor_ivr_script(tmp_path):
    text = _copy(_ctx(tmp_path, "help-center"))
    for canary in (CANARY_INTERNAL, CANARY_PARTNER, CANARY_IVR, "SECRET-TITLE", "intranet", ":::"):
        assert canary not in text
    assert "[hidden]" not in text and "hidden" in text  # the link's text, as plain text
    outside_code = text.replace("[not a link](kb:secret)", "").replace("`[code span](kb:secret)`", "")
    assert "kb:secret" not in outside_code


def test_internal_copy_keeps_blocks_with_markers_but_never_ivr(tmp_path):
    text = _copy(_ctx(tmp_path, "agent-portal"))
    assert CANARY_INTERNAL in text and CANARY_PARTNER in text
    assert "::: internal\n" in text and "::: partner\n" in text
    assert CANARY_IVR not in text and "::: ivr" not in text
    assert f"[int]: https://intranet.example.com/{CANARY_INTERNAL}" in text
    assert "[hidden](../../zh-CN/secret/index.md)" in text  # carried there


def test_front_matter_fields_and_head(tmp_path):
    ctx = _ctx(tmp_path, "help-center")
    text = _copy(ctx, url="https://help.example.com/zh-CN/main/")
    _, head, rest = text.split("---\n", 2)
    meta = yaml.safe_load(head)
    assert list(meta) == ["id", "title", "url", "locale", "category", "tags", "updated"]
    assert meta == {"id": "main", "title": "主条目", "url": "https://help.example.com/zh-CN/main/",
                    "locale": "zh-CN", "category": "billing/payments", "tags": ["a", "b"],
                    "updated": "2026-09-01"}
    assert rest.startswith("\n# 主条目\n\n短答案。\n\nPublic intro")
    assert _copy(ctx) == _copy(ctx)  # deterministic


def test_links_rewritten_outside_code_only(tmp_path):
    text = _copy(_ctx(tmp_path, "help-center"))
    assert "[the other](../../zh-CN/other/index.md#step-2)" in text
    assert "[ext]: https://example.com/x" in text and "[ref link][ext]" in text
    assert "[sec]:" not in text and "[gone]" not in text and "gone" in text
    assert "[not a link](kb:secret) <b>code</b>" in text  # code is verbatim
    assert "`[code span](kb:secret)`" in text
    assert "javascript:" not in text and "[js]" not in text
    assert "diagram" in text and "pic.png" not in text  # no file_url: plain text


def test_raw_html_dropped(tmp_path):
    text = _copy(_ctx(tmp_path, "help-center"))
    assert "<span>" not in text and "now" in text
    assert "raw html block" not in text


def test_files_linked_where_a_file_url_is_given(tmp_path):
    text = _copy(_ctx(tmp_path, "help-center"), file_url=lambda path: f"../../files/{path}")
    assert "![diagram](../../files/knowledge/pic.png)" in text


def test_parts_carry_levels(tmp_path):
    ctx = _ctx(tmp_path, "agent-portal")
    entry = ctx.kb.by_id["main"]
    parts = answer_parts(ctx, entry, answer_resolver(ctx, entry, link_url=lambda e: e.id))
    assert [(p.block, p.level) for p in parts] == [(None, 0), ("internal", 3), ("partner", 2), (None, 0)]
    public = _ctx(tmp_path / "p", "help-center")
    assert [p.level for p in answer_parts(public, public.kb.by_id["main"],
                                          answer_resolver(public, public.kb.by_id["main"], link_url=lambda e: e.id))] == [0, 0]


def test_body_only_variant(tmp_path):
    ctx = _ctx(tmp_path, "help-center")
    body = answer_markdown(ctx, ctx.kb.by_id["main"], link_url=lambda e: e.id)
    assert body.startswith("Public intro") and body.endswith("\n") and "---" not in body
    assert answer_markdown(ctx, ctx.kb.by_id["other"], link_url=lambda e: e.id) == "## Step 2\n\nOther.\n"


def test_definition_in_a_later_run_applies_to_earlier_links(tmp_path):
    body = "See [gone][sec].\n\n::: ivr\nSpoken.\n:::\n\n[sec]: kb:secret\n"
    root = write_kb(tmp_path / "kb", {
        "main.md": entry_text(body, id="main", title="T"),
        "secret.md": entry_text("x\n", id="secret", title="S", visibility="internal"),
    })
    config = load_config(root)
    ctx = channel_context(load_kb(root, config, use_cache=False), config.channels["help-center"], AS_OF)
    assert answer_markdown(ctx, ctx.kb.by_id["main"], link_url=lambda e: e.id) == "See gone.\n"


def test_front_matter_values_cannot_carry_markup_or_keys(tmp_path):
    title = 'T <script>alert(1)</script>\n---\nid: "forged"'
    root = write_kb(tmp_path / "kb", {"main.md": entry_text("x\n", id="main", title=title)})
    config = load_config(root)
    ctx = channel_context(load_kb(root, config, use_cache=False), config.channels["help-center"], AS_OF)
    text = _copy(ctx)
    assert "<script" not in text
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["id"] == "main" and meta["title"] == ctx.kb.by_id["main"].title
