"""Only passive files from knowledge/ are published, and a build deletes nothing but its own output.

A pull request can add any file and link to it from an answer; the help center then serves it
from its own origin, where HTML, script or an SVG with script runs as the site. And a build
swaps whole channel folders: through a committed symbolic link, or with a channel folder that
is the knowledge base itself, that swap would delete folders that are not kbctl's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, entry_text, init_repo, run_cli, tree, write_kb

AS_OF = "2026-11-22"
LINK_LINE = 10  # entry_text's front matter takes lines 1-7; the link is the body's third line

CLEAN_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs>'
             '<rect id="r" width="10" height="10" fill="url(#g)" style="stroke: url(#g)"/>'
             '<use xlink:href="#r"/></svg>')


def guide(link: str) -> str:
    return entry_text(f"正文。\n\n[附件]({link})\n", id="guide", title="指南")


def make_kb(tmp_path: Path, config: str = BASE_CONFIG) -> Path:
    kb = write_kb(tmp_path / "kb", {
        "internal/secret.md": entry_text("INTERNAL-SECRET 只给坐席看。\n", id="secret", title="内部",
                                         visibility="internal"),
    }, config)
    init_repo(kb)  # a .git/config to link to
    (kb / "knowledge" / "files").mkdir()
    return kb


def put(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def link_to(kb: Path, link: str) -> None:
    put(kb / "knowledge" / "guide.md", guide(link))


def validate(kb: Path) -> tuple[int, list[dict]]:
    result = run_cli("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF)
    assert result.code in (0, 1), result.stderr
    return result.code, [d for d in result.json()["diagnostics"] if d["severity"] == "error"]


def build(kb: Path, *args: str, cwd: Path | None = None):
    return run_cli("--root", str(kb), "build", "--as-of", AS_OF, *args, cwd=cwd or kb)


def published(out: Path) -> list[str]:
    return sorted(tree(out)) if out.exists() else []


# -- linked files: refused by validate, never copied -----------------------------------------------

def _html(kb):
    put(kb / "knowledge/files/page.html", "<script>alert(document.cookie)</script>")
    return "files/page.html", "knowledge/files/page.html"


def _svg_script(kb):
    put(kb / "knowledge/files/chart.svg",
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>')
    return "files/chart.svg", "knowledge/files/chart.svg"


def _xhtml(kb):
    put(kb / "knowledge/files/page.xhtml",
        '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>')
    return "files/page.xhtml", "knowledge/files/page.xhtml"


def _js(kb):
    put(kb / "knowledge/files/app.js", "fetch('/steal')")
    return "files/app.js", "knowledge/files/app.js"


def _no_extension(kb):
    put(kb / "knowledge/files/notes", "<html><script>alert(1)</script></html>")
    return "files/notes", "knowledge/files/notes"


def _git_config(kb):
    return "../.git/config", ".git/config"


def _kbctl_yaml(kb):
    return "../kbctl.yaml", "kbctl.yaml"


def _symlink_to_internal_source(kb):
    (kb / "knowledge/files/leaflet.pdf").symlink_to(Path("..") / "internal" / "secret.md")
    return "files/leaflet.pdf", "knowledge/files/leaflet.pdf"


def _symlinked_folder(kb):
    put(kb / "knowledge/internal/diagram.png", b"\x89PNG internal")
    (kb / "knowledge/public").symlink_to("internal")
    return "public/diagram.png", "knowledge/public/diagram.png"


def _dotfile(kb):
    put(kb / "knowledge/files/.env", "TOKEN=secret")
    return "files/.env", "knowledge/files/.env"


def _dot_folder(kb):
    put(kb / "knowledge/.drafts/plan.png", b"\x89PNG draft")
    return ".drafts/plan.png", "knowledge/.drafts/plan.png"


def _outside_knowledge(kb):
    put(kb / "theme/logo.png", b"\x89PNG")  # not declared in kbctl.yaml `assets`
    return "../theme/logo.png", "theme/logo.png"


def _markdown_that_is_no_entry(kb):
    put(kb / "knowledge/files/README.md", "internal notes")
    return "files/README.md", "knowledge/files/README.md"


UNSAFE = [_html, _svg_script, _xhtml, _js, _no_extension, _git_config, _kbctl_yaml,
          _symlink_to_internal_source, _symlinked_folder, _dotfile, _dot_folder,
          _outside_knowledge, _markdown_that_is_no_entry]


@pytest.mark.parametrize("plant", UNSAFE, ids=lambda f: f.__name__.strip("_"))
def test_an_unsafe_linked_file_is_a_validate_error_and_never_published(tmp_path, plant):
    kb = make_kb(tmp_path)
    link, path = plant(kb)
    link_to(kb, link)
    code, errors = validate(kb)
    assert code == 1
    assert [(d["rule"], d["path"], d["line"]) for d in errors] == [
        ("unsafe-file", "knowledge/guide.md", LINK_LINE)], errors
    assert f"{link}: {path}:" in errors[0]["message"]

    out = tmp_path / "out"
    result = build(kb, "--out", str(out))
    assert result.code == 1, result.stderr
    assert published(out) == []


SVG_ACTIVE = {
    "event-handler": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "script-url": ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                   '<a xlink:href="java&#x09;script:alert(1)"><rect width="5" height="5"/></a></svg>'),
    "animated-href": ('<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" '
                      'to="javascript:alert(1)"/></a></svg>'),
    "foreign-object": ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject>'
                       '<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>'
                       '</foreignObject></svg>'),
    "external-href": '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/t.png"/></svg>',
    "external-css": ('<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://evil.example/x.css";'
                     '</style></svg>'),
    "css-url": '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://evil.example/p)"/></svg>',
    "stylesheet-pi": ('<?xml-stylesheet href="https://evil.example/x.css"?>'
                      '<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "entities": ('<!DOCTYPE svg [<!ENTITY e "javascript:alert(1)">]>'
                 '<svg xmlns="http://www.w3.org/2000/svg"><a href="&e;"/></svg>'),
    "unparsable": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</svg>',
}


@pytest.mark.parametrize("svg", SVG_ACTIVE.values(), ids=SVG_ACTIVE.keys())
def test_an_svg_with_anything_active_is_refused(tmp_path, svg):
    kb = make_kb(tmp_path)
    put(kb / "knowledge/files/map.svg", svg)
    link_to(kb, "files/map.svg")
    code, errors = validate(kb)
    assert code == 1
    assert [(d["rule"], d["line"]) for d in errors] == [("unsafe-file", LINK_LINE)], errors
    assert "files/map.svg: knowledge/files/map.svg:" in errors[0]["message"]


@pytest.mark.parametrize(("name", "data"), [
    ("scan.png", b"\x89PNG\r\n\x1a\n plain"),
    ("terms.pdf", b"%PDF-1.4 plain"),
    ("map.svg", CLEAN_SVG.encode()),
])
def test_a_clean_image_pdf_or_svg_is_still_published(tmp_path, name, data):
    kb = make_kb(tmp_path)
    put(kb / "knowledge/files" / name, data)
    link_to(kb, f"files/{name}")
    assert validate(kb) == (0, [])
    out = tmp_path / "out"
    result = build(kb, "--out", str(out))
    assert result.code == 0, result.stdout + result.stderr
    copied = out / "help-center" / "files" / "knowledge" / "files" / name
    assert copied.read_bytes() == data
    manifest = json.loads((out / "help-center" / "manifest.json").read_text(encoding="utf-8"))
    assert f"files/knowledge/files/{name}" in manifest["entries"]["guide"]


def test_a_declared_assets_folder_is_published_and_still_checked(tmp_path):
    kb = make_kb(tmp_path, BASE_CONFIG + "assets: [media]\n")
    put(kb / "media/qr.png", b"\x89PNG qr")
    link_to(kb, "../media/qr.png")
    assert validate(kb) == (0, [])
    out = tmp_path / "out"
    assert build(kb, "--out", str(out)).code == 0
    assert (out / "help-center/files/media/qr.png").read_bytes() == b"\x89PNG qr"

    put(kb / "media/page.html", "<script>alert(1)</script>")
    link_to(kb, "../media/page.html")
    code, errors = validate(kb)
    assert (code, [d["rule"] for d in errors]) == (1, ["unsafe-file"])


@pytest.mark.parametrize("folder", [".git", "../outside", "/abs"])
def test_an_assets_folder_must_be_plain_and_inside(tmp_path, folder):
    kb = make_kb(tmp_path, BASE_CONFIG + f"assets: [{json.dumps(folder)}]\n")
    result = run_cli("--root", str(kb), "validate", "--as-of", AS_OF)
    assert result.code == 2
    assert "kbctl.yaml:" in result.stderr and f"assets/0: {folder!r}" in result.stderr, result.stderr


def test_the_unsafe_file_rule_is_listed():
    result = run_cli("rules", env={"COLUMNS": "400"})
    assert result.code == 0
    assert "unsafe-file" in result.stdout and "KB020" in result.stdout


# -- the output folder: nothing but kbctl's own channel folders is replaced ------------------------

def clean_kb(tmp_path: Path, config: str = BASE_CONFIG) -> Path:
    kb = make_kb(tmp_path, config)
    link_to(kb, "kb:secret")  # any valid link; the page shows it as plain text
    return kb


def assert_refused(result, *words: str) -> None:
    assert result.code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_committed_dist_symlink_leaves_the_other_folder_untouched(tmp_path):
    kb = clean_kb(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere / "help-center" / "precious.txt", "not kbctl's")
    put(elsewhere / "help-center" / "manifest.json",  # looks like a channel folder: still refused
        json.dumps({"channel": "help-center", "kind": "site", "files": {}}))
    (kb / "dist").symlink_to(elsewhere)
    before = tree(elsewhere)
    assert_refused(build(kb), "dist", "symbolic link")
    assert tree(elsewhere) == before
    assert sorted(p.name for p in elsewhere.iterdir()) == ["help-center"]


def test_an_output_below_a_symlink_is_refused(tmp_path):
    kb = clean_kb(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere / "site" / "help-center" / "precious.txt", "not kbctl's")
    (kb / "public").symlink_to(elsewhere)
    before = tree(elsewhere)
    assert_refused(build(kb, "--out", "public/site"), "symbolic link")
    assert tree(elsewhere) == before


def test_a_channel_folder_that_is_a_symlink_is_refused(tmp_path):
    kb = clean_kb(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    put(elsewhere / "manifest.json", json.dumps({"channel": "help-center", "kind": "site", "files": {}}))
    put(elsewhere / "precious.txt", "not kbctl's")
    out = tmp_path / "out"
    out.mkdir()
    (out / "help-center").symlink_to(elsewhere)
    before = tree(elsewhere)
    assert_refused(build(kb, "--out", str(out)), "help-center", "symbolic link")
    assert tree(elsewhere) == before


def test_a_channel_named_knowledge_with_out_dot_leaves_knowledge_untouched(tmp_path):
    config = BASE_CONFIG + "  knowledge:    {kind: faq,  audience: public}\n"
    kb = clean_kb(tmp_path, config)
    # Even with a manifest that claims the folder for the channel: knowledge/ is never output.
    put(kb / "knowledge" / "manifest.json", json.dumps({"channel": "knowledge", "kind": "faq", "files": {}}))
    before = tree(kb / "knowledge")
    assert_refused(build(kb, "--out", "."), "knowledge")
    assert tree(kb / "knowledge") == before
    assert not (kb / "help-center").exists()


@pytest.mark.parametrize("out", [".git/site", ".kbctl/site", "knowledge/site"])
def test_an_output_inside_the_history_cache_or_knowledge_is_refused(tmp_path, out):
    kb = clean_kb(tmp_path)
    assert_refused(build(kb, "--out", out), "never writes to")
    assert not (kb / out).exists()


def test_an_output_that_contains_the_kb_as_a_channel_folder_is_refused(tmp_path):
    config = BASE_CONFIG + "  kb:           {kind: faq,  audience: public}\n"
    kb = clean_kb(tmp_path, config)  # the KB is tmp_path/kb: channel `kb` with --out .. is the KB
    before = tree(kb / "knowledge")
    assert_refused(build(kb, "--out", ".."), "would replace")
    assert tree(kb / "knowledge") == before


@pytest.mark.parametrize("manifest", [
    None,
    "not json",
    json.dumps({"channel": "agent-portal", "kind": "site", "files": {}}),  # another channel's
    json.dumps(["help-center"]),
])
def test_a_folder_kbctl_did_not_make_is_not_deleted(tmp_path, manifest):
    kb = clean_kb(tmp_path)
    out = tmp_path / "out"
    put(out / "help-center" / "index.html", "someone else's site")
    if manifest is not None:
        put(out / "help-center" / "manifest.json", manifest)
    before = tree(out)
    assert_refused(build(kb, "--out", str(out)), "help-center", "not a kbctl channel folder")
    assert tree(out) == before


def test_kbctl_own_and_empty_channel_folders_are_still_replaced(tmp_path):
    kb = clean_kb(tmp_path)
    out = tmp_path / "out"
    (out / "agent-portal").mkdir(parents=True)  # empty: nothing to lose
    assert build(kb, "--out", str(out)).code == 0
    put(out / "help-center" / "stray.txt", "left by hand")
    put(kb / "knowledge" / "guide.md",  # a new heading: a full build, every channel swapped again
        entry_text("## 新标题\n\n正文。\n", id="guide", title="指南"))
    result = build(kb, "--out", str(out))
    assert result.code == 0, result.stderr
    assert not (out / "help-center" / "stray.txt").exists()
    assert (out / "agent-portal" / "manifest.json").is_file()
