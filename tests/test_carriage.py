"""What each channel carries, worked out in one pass (kbctl/publish.py `carried_paths`), is what
`eligible` says of each entry and channel: a security boundary, so tested entry by entry."""

from __future__ import annotations

import datetime as dt

from conftest import entry_text, write_kb

from kbctl.config import load_config
from kbctl.config_model import Channel
from kbctl.load import load_kb
from kbctl.publish import carried, carried_paths, eligible

AS_OF = dt.date(2026, 11, 22)

ENTRIES = {
    "billing/public.md": entry_text(id="public"),
    "billing/internal.md": entry_text(id="internal", visibility="internal"),
    "billing/partner.md": entry_text(id="partner", visibility="partner"),
    "billing/draft.md": entry_text(id="draft", status="draft"),
    "billing/expired.md": entry_text(id="expired", valid_to="2026-01-31"),
    "billing/future.md": entry_text(id="future", valid_from="2027-01-01"),
    "billing/window.md": entry_text(id="window", valid_from="2026-11-01", valid_to="2026-11-30"),
    "billing/hotline-only.md": entry_text(id="hotline-only", channels=["hotline"]),
    "billing/hotline-too.md": entry_text(id="hotline-too", channels=["hotline", "help-center"]),
    "billing/listed-internal.md": entry_text(id="listed-internal", visibility="internal", channels=["agent-portal"]),
    "billing/listed-none.md": entry_text(id="listed-none", channels=[]),
    "billing/broken.md": entry_text(id="broken", type="no-such-type"),
}


def test_every_channel_carries_what_eligible_says(tmp_path):
    root = write_kb(tmp_path / "kb", ENTRIES)
    config = load_config(root)
    kb = load_kb(root, config, use_cache=False)
    unconfigured = Channel("elsewhere", "site", "partner", "opt-in")
    for channel in (*config.channels.values(), unconfigured):
        for as_of in (AS_OF, dt.date(2027, 6, 1)):
            expected = {entry.path for entry in kb.entries if eligible(entry, channel, as_of)}
            assert carried_paths(kb, channel, as_of) == expected, (channel.name, as_of)
            assert [entry.path for entry in carried(kb, channel, as_of)] == \
                [entry.path for entry in kb.entries if entry.path in expected]


def test_the_cases_differ(tmp_path):
    """The fixture tells the channels apart: a one-pass bug could not pass unseen."""
    root = write_kb(tmp_path / "kb", ENTRIES)
    config = load_config(root)
    kb = load_kb(root, config, use_cache=False)
    ids = {name: sorted(kb.by_path[path].id for path in carried_paths(kb, channel, AS_OF))
           for name, channel in config.channels.items()}
    assert ids["help-center"] == ["hotline-too", "public", "window"]
    assert ids["agent-portal"] == ["internal", "listed-internal", "partner", "public", "window"]
    assert ids["hotline"] == ["hotline-only", "hotline-too"]


# A gating field in error is dropped from the entry's fields; its default must not open the
# entry to more readers (`visibility` public, `channels` all, no end date).
GATING_IN_ERROR = {
    "billing/restricted.md": entry_text(id="restricted", visibility="restricted"),
    "billing/one-channel.md": entry_text(id="one-channel", visibility="internal", channels="agent-portal"),
    "billing/no-end.md": entry_text(id="no-end", valid_to="soon"),
    "billing/no-start.md": entry_text(id="no-start", valid_from="2026-02-30"),
    "billing/sound.md": entry_text(id="sound"),
}


def test_an_entry_whose_gating_field_is_in_error_is_carried_nowhere(tmp_path):
    root = write_kb(tmp_path / "kb", GATING_IN_ERROR)
    config = load_config(root)
    kb = load_kb(root, config, use_cache=False)
    assert {e.id for e in kb.entries if not e.ok} == {"restricted", "one-channel", "no-end", "no-start"}
    schema_lines = {d.path.rsplit("/", 1)[-1] for d in kb.diagnostics if d.rule == "schema"}
    assert schema_lines == {"restricted.md", "one-channel.md", "no-end.md", "no-start.md"}
    for channel in config.channels.values():
        assert {e.id for e in carried(kb, channel, AS_OF)} <= {"sound"}, channel.name
    assert "sound" in {e.id for e in carried(kb, config.channels["help-center"], AS_OF)}
