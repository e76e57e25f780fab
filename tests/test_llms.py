"""Site channels for AI assistants (CONTRACT 8): index.md beside every entry page, llms.txt
(llmstxt.org) and llms-full.txt, from tests/fixtures/site-kb (golden files: tests/test_site.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from conftest import REPO, run_cli

FIXTURE = REPO / "tests" / "fixtures" / "site-kb"
AS_OF = "2026-11-22"


def _build(tmp_path: Path, edit=None) -> Path:
    kb = tmp_path / "site-kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    if edit:
        config = kb / "kbctl.yaml"
        config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("llms"))


@pytest.fixture(scope="module")
def relative_out(tmp_path_factory) -> Path:
    """The same KB without any base_url: llms.txt links relative to the channel root."""
    return _build(tmp_path_factory.mktemp("llms-rel"), lambda text: text.replace(
        "base_url: https://help.example.com\n", "").replace(", base_url: https://agents.example.com", ""))


LINK_ITEM = re.compile(r"^- \[(?:[^\]\\]|\\.)+\]\(([^)\s]+)\)(?:: .+)?$")


def parse_llms_txt(text: str) -> dict:
    """llmstxt.org: an H1, then a blockquote, then H2 sections whose lines are link items."""
    lines = text.split("\n")
    assert lines[0].startswith("# ") and len(lines[0]) > 2
    body = [line for line in lines[1:] if line]
    assert body[0].startswith("> ")
    sections: dict[str, list[str]] = {}
    current = None
    for line in body[1:]:
        if line.startswith("## "):
            current = line[3:]
            sections[current] = []
        else:
            assert current is not None, line
            match = LINK_ITEM.match(line)
            assert match, line
            sections[current].append(match.group(1))
    return {"name": lines[0][2:], "sections": sections}


def carried_pages(folder: Path) -> dict[str, list[str]]:
    return json.loads((folder / "manifest.json").read_text("utf-8"))["entries"]


@pytest.mark.parametrize("channel", ["help-center", "agent-portal"])
def test_every_entry_page_has_its_markdown_copy_linked_from_its_head(out, channel):
    folder = out / channel
    pages = [p for paths in carried_pages(folder).values() for p in paths
             if p.endswith("/index.html") and (folder / p).with_name("index.md").exists()]
    assert pages
    for page in pages:
        html = (folder / page).read_text("utf-8")
        assert '<link rel="alternate" type="text/markdown" href="index.md">' in html
        copy = (folder / page).with_name("index.md").read_text("utf-8")
        meta = yaml.safe_load(copy.split("---\n")[1])
        assert list(meta) == ["id", "title", "url", "locale", "category", "tags", "updated"]
        assert page == f"{meta['locale']}/{meta['id']}/index.html"


@pytest.mark.parametrize("channel, base", [("help-center", "https://help.example.com/"),
                                           ("agent-portal", "https://agents.example.com/")])
def test_llms_txt_follows_llmstxt_org_and_every_url_resolves(out, relative_out, channel, base):
    for folder, prefix in ((out / channel, base), (relative_out / channel, "")):
        parsed = parse_llms_txt((folder / "llms.txt").read_text("utf-8"))
        assert parsed["name"] == "测试帮助中心"
        assert list(parsed["sections"]) == ["简体中文 (zh-CN)", "English (en-US)"]
        urls = [url for urls in parsed["sections"].values() for url in urls]
        entries = carried_pages(folder)
        assert len(urls) == len([e for e, paths in entries.items() if any(p.endswith("index.md") for p in paths)])
        for url in urls:
            assert url.startswith(prefix) and url.endswith("/index.md")
            assert (folder / unquote(url[len(prefix):])).is_file(), url


def test_llms_full_is_every_copy_one_after_another(out, relative_out):
    for folder in (out / "help-center", relative_out / "help-center"):
        full = (folder / "llms-full.txt").read_text("utf-8")
        listed = parse_llms_txt((folder / "llms.txt").read_text("utf-8"))["sections"]
        ids = re.findall(r'^id: "([^"]+)"$', full, re.MULTILINE)
        assert ids == [url.split("/")[-2] for urls in listed.values() for url in urls]
        # Its links name the copies from the channel root (or absolutely), and resolve.
        for target in re.findall(r"\]\(([^)#\s]+\.md)", full):
            path = target.split("https://help.example.com/")[-1]
            assert not path.startswith("../") and (folder / unquote(path)).is_file(), target


def test_index_md_links_are_relative_to_the_page_and_resolve(relative_out):
    folder = relative_out / "agent-portal"
    for copy in folder.rglob("index.md"):
        for target in re.findall(r"\]\(([^)#\s]+)", copy.read_text("utf-8")):
            if not target.startswith(("http:", "https:", "mailto:", "tel:")):
                assert (copy.parent / unquote(target)).resolve().is_file(), (copy, target)


def test_llms_false_writes_none_of_it(tmp_path):
    out = _build(tmp_path, lambda text: text.replace(
        "help-center:  {kind: site, audience: public}", "help-center:  {kind: site, audience: public, llms: false}"))
    folder = out / "help-center"
    assert not (folder / "llms.txt").exists() and not (folder / "llms-full.txt").exists()
    assert not list(folder.rglob("*.md"))
    assert "text/markdown" not in (folder / "zh-CN/pay-bill/index.html").read_text("utf-8")
    assert (out / "agent-portal" / "llms.txt").is_file()


def test_llms_option_must_be_a_boolean(tmp_path):
    kb = tmp_path / "site-kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    config = kb / "kbctl.yaml"
    config.write_text(config.read_text("utf-8").replace("{kind: site, audience: public}",
                                                         "{kind: site, audience: public, llms: maybe}"), "utf-8")
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 2 and "kbctl.yaml" in result.stderr + result.stdout
