"""`kbctl serve`: serves a site channel, rebuilds on save, keeps the last good build."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import entry_text, write_kb

from kbctl.authoring.serve import Server, choose_channel
from kbctl.config import load_config
from kbctl.errors import UsageError

ENTRY = "knowledge/billing/e1.md"


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def entry_page(base: str, entry_id: str) -> str:
    """The entry's first file as the manifest lists it: independent of the site's layout."""
    manifest = json.loads(fetch(base + "manifest.json"))
    return fetch(base + manifest["entries"][entry_id][0])


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "kb", {
        "billing/e1.md": entry_text(title="Old title", category="billing"),
        "billing/secret.md": entry_text(id="secret", title="Agent only", visibility="internal"),
    })


@pytest.fixture
def server(kb: Path):
    with _watching(kb, poll_interval=0.05) as srv:
        yield srv


def test_serves_and_rebuilds_on_save(kb: Path, server: Server) -> None:
    assert server.channel.name == "help-center"
    assert "Old title" in entry_page(server.url, "e1")
    manifest = json.loads(fetch(server.url + "manifest.json"))
    assert "secret" not in manifest["entries"]  # the public view
    (kb / ENTRY).write_text(entry_text(title="New title", category="billing"), encoding="utf-8")
    assert wait_for(lambda: "New title" in entry_page(server.url, "e1")), server.messages


def test_a_broken_save_keeps_the_last_good_build(kb: Path, server: Server) -> None:
    (kb / ENTRY).write_text(entry_text(title="Broken", category="billing", owner="nobody"),
                            encoding="utf-8")
    assert wait_for(lambda: any("unknown-owner" in m for m in server.messages)), server.messages
    assert "Old title" in entry_page(server.url, "e1")
    (kb / ENTRY).write_text(entry_text(title="Fixed", category="billing"), encoding="utf-8")
    assert wait_for(lambda: "Fixed" in entry_page(server.url, "e1")), server.messages


def test_rebuild_if_changed_only_when_something_changed(kb: Path) -> None:
    config = load_config(kb)
    srv = Server(kb, choose_channel(config, None, True), port=0, log=lambda _: None)
    assert srv.channel.name == "agent-portal"
    srv.start()
    try:
        assert srv.rebuild_if_changed() is False
        assert "secret" in json.loads(fetch(srv.url + "manifest.json"))["entries"]
        (kb / "knowledge/billing/new.md").write_text(entry_text(id="new", title="Added"), encoding="utf-8")
        assert srv.rebuild_if_changed() is True
        assert "Added" in entry_page(srv.url, "new")
    finally:
        srv.stop()


def test_choose_channel_rejects_non_site_channels(kb: Path) -> None:
    config = load_config(kb)
    with pytest.raises(UsageError, match="not a site channel"):
        choose_channel(config, "faq-bot", False)
    with pytest.raises(UsageError, match="not both"):
        choose_channel(config, "help-center", True)


def test_no_good_build_yet_answers_503(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb", {"e1.md": entry_text(owner="nobody")})
    srv = Server(kb, load_config(kb).channels["help-center"], port=0, log=lambda _: None)
    srv.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(srv.url)
        assert error.value.code == 503
    finally:
        srv.stop()


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_exits_cleanly(kb: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbctl", "serve", "--port", "0"], cwd=kb, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    try:
        for line in proc.stdout:
            if line.startswith("serving help-center at http://127.0.0.1:"):
                break
        url = line.split(" at ")[1].split()[0]
        assert "Old title" in entry_page(url, "e1")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out


def test_a_saved_theme_file_is_served_rebuilt(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(Path(__file__).resolve().parent / "fixtures" / "theme-kb", kb,
                    ignore=shutil.ignore_patterns(".kbctl"))
    srv = Server(kb, load_config(kb).channels["help-center"], port=0, log=lambda _: None)
    srv.start()
    try:
        assert not srv.rebuild_if_changed()
        css = kb / "brand" / "brand.css"
        css.write_text(css.read_text(encoding="utf-8") + "\n.saved-in-serve { color: #000; }\n",
                       encoding="utf-8")
        assert srv.rebuild_if_changed()
        served = [p.read_text(encoding="utf-8") for p in (srv.folder / "assets" / "theme").glob("theme.*.css")]
        assert any(".saved-in-serve" in text for text in served)
    finally:
        srv.stop()


@contextlib.contextmanager
def _watching(kb: Path, poll_interval: float, monkeypatch=None, events: bool = True):
    """A started server watching in a thread; with `events` False, file events unavailable."""
    import kbctl.authoring.serve as serve_module

    if not events:
        monkeypatch.setattr(serve_module, "file_events", lambda *_: None)
    messages: list[str] = []
    srv = Server(kb, choose_channel(load_config(kb), None, False), port=0,
                 poll_interval=poll_interval, log=messages.append)
    srv.messages = messages
    srv.start()
    stop = threading.Event()
    watcher = threading.Thread(target=srv.watch, args=(stop,), daemon=True)
    watcher.start()
    try:
        yield srv
    finally:
        stop.set()
        watcher.join(5)
        srv.stop()


def test_a_save_is_seen_by_its_file_event_not_by_polling(kb: Path) -> None:
    # Polled every minute, a save seen within seconds can only have been seen by its event.
    with _watching(kb, poll_interval=60) as srv:
        time.sleep(0.3)  # the watcher is running
        (kb / ENTRY).write_text(entry_text(title="Evented", category="billing"), encoding="utf-8")
        assert wait_for(lambda: "Evented" in entry_page(srv.url, "e1"), timeout=8), srv.messages
        added = kb / "knowledge/billing/fresh/new.md"
        added.parent.mkdir()
        added.write_text(entry_text(id="new", title="In a new folder"), encoding="utf-8")
        assert wait_for(lambda: "new" in json.loads(fetch(srv.url + "manifest.json"))["entries"], timeout=8)


def test_editor_scratch_files_do_not_rebuild(kb: Path) -> None:
    with _watching(kb, poll_interval=60) as srv:
        time.sleep(0.3)
        built = len(srv.messages)
        (kb / "knowledge/billing/.e1.md.swp").write_text("scratch", encoding="utf-8")
        (kb / "knowledge/billing/e1.md~").write_text("backup", encoding="utf-8")
        (kb / "knowledge/.obsidian").mkdir()
        (kb / "knowledge/.obsidian/workspace.json").write_text("{}", encoding="utf-8")
        time.sleep(1.0)
        assert len(srv.messages) == built, srv.messages[built:]
        (kb / ENTRY).write_text(entry_text(title="After scratch", category="billing"), encoding="utf-8")
        assert wait_for(lambda: "After scratch" in entry_page(srv.url, "e1"), timeout=8), srv.messages


@pytest.mark.parametrize("events", [True, False], ids=["events", "polling"])
def test_an_entry_in_a_hidden_folder_is_watched_as_a_build_reads_it(kb: Path, monkeypatch, events: bool) -> None:
    # CONTRACT 1.2: every *.md under knowledge/, at any depth, is an entry: hidden folders too.
    with _watching(kb, poll_interval=60 if events else 0.05, monkeypatch=monkeypatch, events=events) as srv:
        time.sleep(0.3)
        drafts = kb / "knowledge/.drafts"
        drafts.mkdir()
        (drafts / "d.md").write_text(entry_text(id="drafted", title="Drafted"), encoding="utf-8")
        assert wait_for(lambda: "drafted" in json.loads(fetch(srv.url + "manifest.json"))["entries"],
                        timeout=8), srv.messages


def test_kbctl_yaml_is_polled_beside_the_events(kb: Path) -> None:
    with _watching(kb, poll_interval=0.1) as srv:
        time.sleep(0.3)
        config = kb / "kbctl.yaml"
        config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert wait_for(lambda: len(srv.messages) > 1, timeout=8), srv.messages


def test_without_file_events_every_file_is_polled(kb: Path, monkeypatch) -> None:
    with _watching(kb, poll_interval=0.05, monkeypatch=monkeypatch, events=False) as srv:
        (kb / ENTRY).write_text(entry_text(title="Polled", category="billing"), encoding="utf-8")
        assert wait_for(lambda: "Polled" in entry_page(srv.url, "e1")), srv.messages
