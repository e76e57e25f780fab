"""Theming (CONTRACT 10): a themed site's golden output; the theme's files checked like linked
files (inside the KB, no link, SVG without anything active); overrides rendered in the sandbox,
where no escape runs anything and every failure refuses the build with `path:line: problem`;
the contrast rule's edges; facts in the footer and links.

Golden files: tests/golden/theme/help-center/ (`KBCTL_UPDATE_GOLDEN=1 python -m pytest
tests/test_theme.py` regenerates them; review the diff)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, assert_golden, run_cli, tree
from test_security_files import SVG_ACTIVE

from kbctl.channels.site_context import context_values
from kbctl.colors import contrast, palette, parse_hex

FIXTURE = REPO / "tests" / "fixtures" / "theme-kb"
GOLDEN = REPO / "tests" / "golden" / "theme"
AS_OF = "2026-11-22"
COPIED_ASSETS = ("assets/site.css", "assets/search.js", "assets/favicon.svg")
OVERRIDE = "brand/templates/entry.html"


def copy_fixture(tmp_path: Path) -> Path:
    kb = tmp_path / "theme-kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    return kb


def build(kb: Path, out: Path):
    return run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))


def line_of(kb: Path, key: str) -> int:
    """The line of `key:` under the theme in the KB's kbctl.yaml."""
    lines = (kb / "kbctl.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "theme:")
    return next(i for i, line in enumerate(lines) if i > start and line.strip().startswith(f"{key}:")) + 1


def set_theme_value(kb: Path, key: str, value: str) -> None:
    path = kb / "kbctl.yaml"
    text = path.read_text(encoding="utf-8")
    text, count = re.subn(rf"(?m)^(      {key}: ).*$", lambda m: m.group(1) + value, text)
    assert count == 1
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    kb = copy_fixture(tmp_path_factory.mktemp("kb"))
    folder = tmp_path_factory.mktemp("out")
    result = build(kb, folder)
    assert result.code == 0, result.stdout + result.stderr
    return folder / "help-center"


def page(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


# -- the themed site -------------------------------------------------------------------------------

def test_golden(out):
    assert_golden(out, GOLDEN / "help-center", skip=COPIED_ASSETS)


def test_theme_files_are_copied_with_their_digest_in_the_name(out):
    theme = sorted(p.name for p in (out / "assets" / "theme").iterdir())
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".#.", name) for name in theme] == ["favicon.#.svg", "logo.#.svg", "theme.#.css"]
    logo = next((out / "assets" / "theme").glob("logo.*.svg"))
    assert logo.read_bytes() == (FIXTURE / "brand" / "logo.svg").read_bytes()
    home = page(out, "zh-CN/index.html")
    assert f'<img class="brand-logo" src="../assets/theme/{logo.name}"' in home
    assert 'rel="icon" href="../assets/theme/favicon.' in home and 'type="image/svg+xml"' in home


def test_stylesheet_sets_the_derived_colours_then_the_brand_css(out):
    css = next((out / "assets" / "theme").glob("theme.*.css")).read_text(encoding="utf-8")
    colours = palette("#b5121b")
    assert f"--primary: {colours.primary};" in css and f"--on-primary: {colours.on_primary};" in css
    assert css.index("--primary:") < css.index(".site-footer { border-top")
    home = page(out, "zh-CN/index.html")
    assert home.index("assets/site.css") < home.index("assets/theme/theme.")


def test_footer_and_links_show_facts_in_each_locale(out):
    zh, en = page(out, "zh-CN/pay-bill/index.html"), page(out, "en-US/pay-bill-en/index.html")
    assert '<p class="theme-footer">客服热线 10000（每天 8:00–22:00）</p>' in zh
    assert '<p class="theme-footer">Hotline 10000 (daily 8:00–22:00)</p>' in en
    assert '<a href="tel:10000">致电 10000</a>' in zh and '<a href="tel:10000">Call 10000</a>' in en
    assert "{{" not in zh + en


def test_override_template_is_used_and_the_others_stay_kbctls(out):
    root = page(out, "index.html")
    assert '<p class="brand-welcome">客服热线 10000' in root
    assert "brand-welcome" not in page(out, "zh-CN/index.html")


def test_an_unthemed_site_keeps_kbctls_own_mark_and_favicon(tmp_path):
    kb = copy_fixture(tmp_path)
    text = (kb / "kbctl.yaml").read_text(encoding="utf-8")
    (kb / "kbctl.yaml").write_text(text[:text.index("    theme:")], encoding="utf-8")
    result = build(kb, tmp_path / "out")
    assert result.code == 0, result.stderr
    home = (tmp_path / "out" / "help-center" / "zh-CN" / "index.html").read_text(encoding="utf-8")
    assert 'class="brand-mark"' in home and 'href="../assets/favicon.svg"' in home
    assert "assets/theme" not in home and "theme-footer" not in home
    assert not (tmp_path / "out" / "help-center" / "assets" / "theme").exists()


# -- sandbox ---------------------------------------------------------------------------------------

MARKER = "MARKER-ran"
ESCAPES = {
    "str-mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch MARKER-ran') }}",
    "template-reference": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch MARKER-ran') }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch MARKER-ran').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__['__builtins__']['open']('MARKER-ran', 'w') }}",
    "format-attribute": "{{ '{0.__class__.__init__.__globals__}'.format(cycler) }}",
    "include-parent": '{% include "../../../../etc/passwd" %}',
    "include-absolute": '{% include "/etc/passwd" %}',
    "include-subfolder": '{% include "sub/../../kbctl.yaml" %}',
    "import-parent": '{% import "../kbctl.yaml" as x %}',
    "mutate-value": "{{ entry.tags.append('x') }}",
}


def break_build(tmp_path: Path, override: str, name: str = "entry.html"):
    """A good build, then one with the override: returns (result, output before, output after)."""
    kb = copy_fixture(tmp_path)
    out = tmp_path / "out"
    assert build(kb, out).code == 0
    before = tree(out)
    (kb / "brand" / "templates" / name).write_text(override, encoding="utf-8")
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), cwd=kb)
    return kb, result, before, tree(out)


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_sandbox_escape_refuses_the_build_and_runs_nothing(tmp_path, payload):
    override = '{% extends "base.html" %}\n{% block main %}\n' + payload + "\n{% endblock %}\n"
    kb, result, before, after = break_build(tmp_path, override)
    assert result.code == 1, result.stdout + result.stderr
    assert f"{OVERRIDE}:3: " in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (kb / MARKER).exists() and not (tmp_path / MARKER).exists() and not Path(MARKER).exists()
    assert after == before  # the previous output is untouched


def test_a_syntax_error_names_the_template_and_line(tmp_path):
    _, result, before, after = break_build(tmp_path, '{% extends "base.html" %}\n\n{% if %}\n')
    assert result.code == 1
    assert f"{OVERRIDE}:3: " in result.stderr and "Traceback" not in result.stderr
    assert after == before


def test_an_undefined_name_names_the_template_and_line(tmp_path):
    override = '{% extends "base.html" %}\n{% block main %}\n\n{{ no_such_value }}\n{% endblock %}\n'
    _, result, before, after = break_build(tmp_path, override)
    assert result.code == 1
    assert f"{OVERRIDE}:4: undefined: 'no_such_value' is undefined" in result.stderr, result.stderr
    assert after == before


def test_a_failing_partial_is_named_where_it_fails(tmp_path):
    kb = copy_fixture(tmp_path)
    (kb / "brand" / "templates" / "_extra.html").write_text("ok\n{{ nothing_here }}\n", encoding="utf-8")
    (kb / "brand" / "templates" / "entry.html").write_text(
        '{% extends "base.html" %}\n{% block main %}{% include "_extra.html" %}{% endblock %}\n', encoding="utf-8")
    result = build(kb, tmp_path / "out")
    assert result.code == 1 and "brand/templates/_extra.html:2: undefined" in result.stderr, result.stderr


def test_a_symlinked_override_is_refused(tmp_path):
    kb = copy_fixture(tmp_path)
    secret = tmp_path / "secret.html"
    secret.write_text("SECRET-OUTSIDE-THE-KB\n", encoding="utf-8")
    os.symlink(secret, kb / "brand" / "templates" / "entry.html")
    out = tmp_path / "out"
    result = build(kb, out)
    assert result.code == 1
    assert f"{OVERRIDE}:1: " in result.stderr and "symbolic link" in result.stderr
    assert not out.exists() or "SECRET-OUTSIDE-THE-KB" not in "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())


def test_a_copy_of_a_builtin_template_is_a_valid_override(tmp_path):
    kb = copy_fixture(tmp_path)
    for name in ("entry.html", "base.html", "home.html"):
        shutil.copy(REPO / "templates" / "site" / name, kb / "brand" / "templates" / name)
    (kb / "brand" / "templates" / "root.html").unlink()
    shutil.copy(REPO / "templates" / "site" / "root.html", kb / "brand" / "templates" / "root.html")
    result = build(kb, tmp_path / "out")
    assert result.code == 0, result.stderr
    plain = copy_fixture(tmp_path / "plain")
    (plain / "brand" / "templates" / "root.html").unlink()
    assert build(plain, tmp_path / "plain-out").code == 0
    assert tree(tmp_path / "out") == tree(tmp_path / "plain-out")


def test_records_hold_the_values_each_template_gets():
    with pytest.raises(TypeError):
        context_values("redirect.html", {"target": "x"})  # the common values are missing


# -- theme files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("svg", SVG_ACTIVE.values(), ids=SVG_ACTIVE.keys())
@pytest.mark.parametrize("key", ["logo", "favicon"])
def test_an_active_svg_is_refused_at_the_keys_line(tmp_path, svg, key):
    kb = copy_fixture(tmp_path)
    (kb / "brand" / f"{key}.svg").write_text(svg, encoding="utf-8")
    result = build(kb, tmp_path / "out")
    assert result.code == 2, result.stdout + result.stderr
    assert f"kbctl.yaml:{line_of(kb, key)}: unsafe-file: channels/help-center/theme/{key}: brand/{key}.svg" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("logo", "brand/missing.svg", "no file brand/missing.svg"),
    ("css", "../outside.css", "points outside the knowledge base"),
    ("favicon", "/etc/hostname", "points outside the knowledge base"),
    ("logo", ".git/logo.svg", "hidden"),
    ("logo", "brand/logo.html", "unreadable"),
    ("templates", "brand/nothing", "no folder brand/nothing"),
])
def test_a_theme_file_not_in_the_kb_is_a_usage_error_at_the_keys_line(tmp_path, key, value, problem):
    kb = copy_fixture(tmp_path)
    set_theme_value(kb, key, value)
    result = build(kb, tmp_path / "out")
    assert result.code == 2, result.stderr
    assert f"kbctl.yaml:{line_of(kb, key)}: " in result.stderr and problem in result.stderr, result.stderr
    validate = run_cli("--root", str(kb), "validate")
    assert validate.code == 2 and f"kbctl.yaml:{line_of(kb, key)}: " in validate.stderr


def test_a_logo_of_a_type_that_may_run_is_refused(tmp_path):
    kb = copy_fixture(tmp_path)
    (kb / "brand" / "logo.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    set_theme_value(kb, "logo", "brand/logo.html")
    result = build(kb, tmp_path / "out")
    assert result.code == 2 and "unsafe-file" in result.stderr and "a logo is one of" in result.stderr


@pytest.mark.parametrize("css", ['@import "https://evil.example/x.css";', "body { background: url(https://evil.example/p) }",
                                 "a { background: url('/etc/passwd') }"])
def test_a_stylesheet_that_loads_from_elsewhere_is_refused(tmp_path, css):
    kb = copy_fixture(tmp_path)
    (kb / "brand" / "brand.css").write_text(css, encoding="utf-8")
    result = build(kb, tmp_path / "out")
    assert result.code == 2
    assert f"kbctl.yaml:{line_of(kb, 'css')}: unsafe-file: channels/help-center/theme/css: brand/brand.css" in result.stderr


@pytest.mark.parametrize("key", ["logo", "css"])
def test_a_symlinked_theme_file_is_refused(tmp_path, key):
    kb = copy_fixture(tmp_path)
    target = kb / "brand" / ("logo.svg" if key == "logo" else "brand.css")
    outside = tmp_path / target.name
    shutil.move(target, outside)
    os.symlink(outside, target)
    result = build(kb, tmp_path / "out")
    assert result.code == 2
    assert f"kbctl.yaml:{line_of(kb, key)}: unsafe-file" in result.stderr and "symbolic link" in result.stderr


def test_a_symlinked_templates_folder_is_refused(tmp_path):
    kb = copy_fixture(tmp_path)
    shutil.move(kb / "brand" / "templates", tmp_path / "templates")
    os.symlink(tmp_path / "templates", kb / "brand" / "templates")
    result = build(kb, tmp_path / "out")
    assert result.code == 2 and f"kbctl.yaml:{line_of(kb, 'templates')}: unsafe-file" in result.stderr


# -- colours and the contrast rule -----------------------------------------------------------------

@pytest.mark.parametrize(("colour", "ratio"), [("#ffffff", 1.0), ("#000000", 21.0), ("#767676", 4.54),
                                               ("#777777", 4.48), ("#fff", 1.0)])
def test_contrast_against_white(colour, ratio):
    assert contrast(parse_hex(colour), (255, 255, 255)) == pytest.approx(ratio, abs=0.01)


def test_palette_derives_darker_and_lighter_shades():
    colours = palette("#3366cc")
    assert colours.primary == "#3366cc" and colours.on_primary == "#ffffff"
    assert contrast(parse_hex(colours.primary_dark), (0, 0, 0)) < contrast(parse_hex(colours.primary), (0, 0, 0))
    assert contrast(parse_hex(colours.primary_light), (0, 0, 0)) > contrast(parse_hex(colours.primary), (0, 0, 0))
    assert contrast(parse_hex(palette("#ffd166").link), (255, 255, 255)) >= 4.5  # links stay readable


def contrast_findings(tmp_path: Path, colour: str, on: str | None = None) -> list[dict]:
    kb = copy_fixture(tmp_path)
    set_theme_value(kb, "primary_color", f'"{colour}"')
    if on:
        set_theme_value(kb, "css", f"brand/brand.css\n      on_primary_color: \"{on}\"")
    result = run_cli("--root", str(kb), "validate", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    found = [d for d in result.json()["diagnostics"] if d["rule"] == "theme-contrast"]
    for finding in found:
        assert (finding["path"], finding["line"], finding["code"], finding["severity"]) == (
            "kbctl.yaml", line_of(kb, "primary_color"), "KB023", "warning")
    return found


@pytest.mark.parametrize(("colour", "on", "warned"), [
    ("#767676", None, False),  # 4.54:1, just above AA
    ("#777777", None, True),   # 4.48:1, just below
    ("#ffd166", None, True),   # white on yellow
    ("#ffd166", "#1f2933", False),  # dark text on yellow
    ("#0b3a5b", "#1f2933", True),   # dark text on dark blue
    ("#fff", "#000", False),
])
def test_theme_contrast_rule_edges(tmp_path, colour, on, warned):
    assert bool(contrast_findings(tmp_path, colour, on)) is warned


# -- facts -----------------------------------------------------------------------------------------

def test_an_unknown_fact_in_the_footer_is_an_error_at_the_footers_line(tmp_path):
    kb = copy_fixture(tmp_path)
    set_theme_value(kb, "footer", '"Call {{ hotlne }}"')
    result = run_cli("--root", str(kb), "validate", "--format", "json")
    assert result.code == 1
    found = [d for d in result.json()["diagnostics"] if d["rule"] == "unknown-fact"]
    assert {(d["path"], d["line"]) for d in found} == {("kbctl.yaml", line_of(kb, "footer"))}
    assert build(kb, tmp_path / "out").code == 1


def test_a_fact_used_only_in_the_theme_counts_as_used(tmp_path):
    kb = copy_fixture(tmp_path)
    for entry in (kb / "knowledge").rglob("*.md"):
        entry.write_text(entry.read_text(encoding="utf-8").replace("{{ hotline }}", "10000"), encoding="utf-8")
    result = run_cli("--root", str(kb), "health", "--as-of", AS_OF, "--format", "json")
    assert "fact-unused" not in {d["rule"] for d in result.json()["diagnostics"]}, result.stdout


def test_a_failing_override_in_forked_workers_refuses_the_build_the_same_way(tmp_path):
    kb = copy_fixture(tmp_path)
    for number in range(320):  # above the count where pages render in forked workers
        (kb / "knowledge" / "billing" / f"e-{number}.md").write_text(
            f"---\nid: e-{number}\ntitle: 条目 {number}\ntype: faq\nstatus: published\nowner: billing-team\n"
            f"category: billing\nlast_reviewed: 2026-10-01\n---\n\n答案 {number}。\n", encoding="utf-8")
    (kb / "brand" / "templates" / "entry.html").write_text(
        '{% extends "base.html" %}\n{% block main %}\n{{ nope }}\n{% endblock %}\n', encoding="utf-8")
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"),
                     env={"KBCTL_WORKERS": "2"})
    assert result.code == 1 and result.stdout == ""
    assert result.stderr == f"kbctl: error: {OVERRIDE}:3: undefined: 'nope' is undefined\n"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
