"""kbctl.yaml problems are usage errors (exit 2) with one line:
`kbctl: error: kbctl.yaml:LINE: problem` (CONTRACT 1.1)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from conftest import BASE_CONFIG, REPO, Result, entry_text, run_cli, write_kb

from kbctl.cli import main


def kbctl(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def validate_with(tmp_path, config: str | bytes) -> Result:
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")})
    if isinstance(config, bytes):
        (kb / "kbctl.yaml").write_bytes(config)
    else:
        (kb / "kbctl.yaml").write_text(config, encoding="utf-8")
    return kbctl("--root", str(kb), "validate", "--format", "json", "--as-of", "2026-11-22")


def edit(old: str, new: str) -> str:
    assert old in BASE_CONFIG
    return BASE_CONFIG.replace(old, new, 1)


# BASE_CONFIG lines: 2 default_locale, 11 dtmf of billing, 15 `- id: network`, 18 default_interval,
# 21 channels:, 22 help-center, 24 faq-bot, 25 hotline.
@pytest.mark.parametrize("config, message", [
    pytest.param(edit("locales: [zh-CN, en-US]", "locales: [zh-CN, en-US"),
                 "kbctl.yaml:3: YAML error: a list opened with '[' is not closed by ']' (or holds a ': ')", id="yaml-syntax"),
    pytest.param(BASE_CONFIG + "colour: red\n", "kbctl.yaml:26: (top level): unknown key 'colour'",
                 id="unknown-top-level-key"),
    pytest.param(edit("  warn_within: 14d\n", "  warn_within: 14d\n  warn_whithin: 3d\n"),
                 "kbctl.yaml:21: review: unknown key 'warn_whithin'", id="unknown-nested-key"),
    pytest.param(edit("{kind: faq,  audience: public, site: help-center}", "{kind: sms, audience: public}"),
                 "kbctl.yaml:24: channels/faq-bot/kind: 'sms' is not one of 'site', 'faq', 'ivr', 'rag'",
                 id="unknown-channel-kind"),
    pytest.param(edit('dtmf: "1"', 'dtmf: "0"'),
                 "kbctl.yaml:11: taxonomy/0/dtmf: '0' is not one of '1', '2', '3', '4', '5', '6', '7', '8', '9'",
                 id="dtmf-0"),
    pytest.param(edit('dtmf: "1"', "dtmf: 1"), "kbctl.yaml:11: taxonomy/0/dtmf: 1 is not a string",
                 id="dtmf-int"),
    pytest.param(edit("default_locale: zh-CN", "default_locale: fr-FR"),
                 "kbctl.yaml:2: default_locale 'fr-FR' is not in locales", id="default-locale"),
    pytest.param(edit("default_interval: 180d", "default_interval: 3x"),
                 "kbctl.yaml:18: review/default_interval: '3x' does not match '^[1-9][0-9]*[dwmy]$'",
                 id="bad-interval"),
    pytest.param(edit("base_url: https://help.example.com\n", "base_url: https://help.example.com\nname: Again\n"),
                 "kbctl.yaml:5: YAML error: duplicate key 'name'", id="duplicate-key"),
    pytest.param(edit("site: help-center", "site: hotline"),
                 "kbctl.yaml:24: channel 'faq-bot': site 'hotline' is not a site channel", id="site-not-a-site"),
    pytest.param(edit("site: help-center", "site: nowhere"),
                 "kbctl.yaml:24: channel 'faq-bot': site 'nowhere' is not a site channel", id="site-missing"),
    pytest.param(edit("help-center:  {kind: site, audience: public}",
                      "help-center:  {kind: site, audience: public, max_prompt_seconds: 3}"),
                 "kbctl.yaml:22: channels/help-center: unknown key 'max_prompt_seconds'",
                 id="option-of-another-kind"),
    pytest.param(edit("  - id: network", "  - id: billing"),
                 "kbctl.yaml:15: taxonomy path 'billing' appears twice", id="duplicate-taxonomy-id"),
    pytest.param(edit("  billing-team:", "\tbilling-team:"),
                 "kbctl.yaml:6: YAML error: a tab character: YAML is indented with spaces", id="tab"),
    pytest.param(BASE_CONFIG.replace("name: Test Help Center\n", ""),
                 "kbctl.yaml:1: (top level): missing required key 'name'", id="missing-name"),
    pytest.param("", "kbctl.yaml:1: must be a mapping of settings", id="empty"),
    pytest.param("- a\n- b\n", "kbctl.yaml:1: must be a mapping of settings", id="list"),
    pytest.param(BASE_CONFIG + "speech: {zh-CN: {chars_per_second: 0}}\n",
                 "kbctl.yaml:26: speech/zh-CN/chars_per_second: 0 must be greater than 0",
                 id="speech-rate-zero"),
    pytest.param(BASE_CONFIG.encode() + b"# caf\xe9\n", "kbctl.yaml:26: not valid UTF-8 (byte 0xe9)", id="not-utf8"),
    pytest.param("x: " + "[" * 1000 + "]" * 1000 + "\n", "kbctl.yaml:1: YAML error: nested deeper than 64 levels",
                 id="deep-nesting"),
])
def test_config_errors_exit_2_with_file_line_and_problem(tmp_path, config, message):
    result = validate_with(tmp_path, config)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == f"kbctl: error: {message}\n"


def test_sample_like_config_is_accepted(tmp_path):
    result = validate_with(tmp_path, BASE_CONFIG + "speech:\n  zh-CN: {chars_per_second: 5}\n  en: {words_per_minute: 160}\n")
    assert (result.code, json.loads(result.stdout)["diagnostics"]) == (0, [])


def test_missing_kbctl_yaml(tmp_path):
    (tmp_path / "knowledge").mkdir()
    result = run_cli("validate", cwd=tmp_path, env={"PYTHONPATH": str(REPO)})
    assert result.code == 2
    assert result.stderr == (f"kbctl: error: no kbctl.yaml in {tmp_path.resolve()} or any parent folder "
                             "(use --root DIR)\n")


def test_root_without_kbctl_yaml(tmp_path):
    result = kbctl("--root", str(tmp_path), "validate")
    assert (result.code, result.stderr) == (2, f"kbctl: error: --root {tmp_path}: no kbctl.yaml there\n")


def test_root_to_a_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    result = kbctl("--root", str(missing), "validate")
    assert (result.code, result.stderr) == (2, f"kbctl: error: --root {missing}: no such folder\n")


def test_config_problems_never_show_a_traceback_in_a_real_process(tmp_path):
    kb = write_kb(tmp_path / "kb", {}, BASE_CONFIG + "colour: red\n")
    result = run_cli("--root", str(kb), "validate")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("kbctl: error: kbctl.yaml:26:")
    assert len(result.stderr.splitlines()) == 1


def test_bom_and_crlf_config_is_accepted_with_right_lines(tmp_path):
    crlf = (BASE_CONFIG + "colour: red\n").replace("\n", "\r\n")
    result = validate_with(tmp_path, b"\xef\xbb\xbf" + crlf.encode())
    assert (result.code, result.stderr) == (2, "kbctl: error: kbctl.yaml:26: (top level): unknown key 'colour'\n")
    assert validate_with(tmp_path, b"\xef\xbb\xbf" + BASE_CONFIG.replace("\n", "\r\n").encode()).code == 0
