"""The fast schema check (kbctl/load/fastschema.py) never changes a finding.

Whatever fastjsonschema's compiled check accepts must be valid for jsonschema too, or an error
would go unreported; whatever it refuses goes to jsonschema, so the findings stay jsonschema's.
Held here on valid data and on data that breaks every keyword of both schemas, including
the places where the two libraries differ (`$` before a final newline, year 0, YAML sets).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

from kbctl.load import frontmatter, loader
from kbctl.load.fastschema import SchemaCheck
from kbctl.resources import inline_refs, load_schema
from kbctl.yamlutil import load_front_matter, to_plain


def verdicts(check: SchemaCheck, instance) -> tuple[list, list]:
    """(what `errors` says, what jsonschema alone says), each as comparable tuples."""
    def plain(errors):
        return [(list(e.absolute_path), e.validator, e.message) for e in errors]
    return plain(check.errors(instance)), plain(check.reference().iter_errors(instance))


# -- entry front matter ------------------------------------------------------------------------
ENTRY = {"id": "kb-1", "title": "如何缴费？", "type": "faq", "status": "published",
         "owner": "billing-team"}

ENTRY_CASES = {
    "valid": {},
    "every-field": {"locale": "en-US", "visibility": "partner", "category": "billing/pay",
                    "channels": ["help-center"], "tags": ["a", "b"], "questions": ["q?"],
                    "summary": "s", "related": ["kb-2"], "translation_of": "kb-3",
                    "aliases": ["old"], "last_reviewed": "2026-02-28", "review_interval": "90d",
                    "review_by": "2028-02-29", "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
    "id-with-final-newline": {"id": "kb-1\n"},  # `$` matches before it; fastjsonschema's \Z not
    "date-with-final-newline": {"review_by": "2026-02-28\n"},
    "year-zero": {"valid_to": "0000-01-01"},  # fastjsonschema's own date format takes it
    "impossible-date": {"last_reviewed": "2026-02-30"},
    "not-leap": {"last_reviewed": "2027-02-29"},
    "slashed-date": {"review_by": "2026/09/01"},
    "unknown-key": {"colour": "red"},
    "missing-owner": {"owner": None},
    "bad-enum": {"type": "story"},
    "bool-for-enum": {"status": True},
    "empty-title": {"title": ""},
    "blank-title": {"title": " \n"},
    "title-list": {"title": ["x"]},
    "number-summary": {"summary": 12},
    "duplicate-tags": {"tags": ["a", "a"]},
    "tags-mapping": {"tags": {"a": 1}},
    "mixed-related": {"related": ["kb-2", 5]},
    "bools-unique": {"channels": [True, 1]},
    "set-items": {"tags": [{"a"}, {"b"}]},  # a YAML !!set: fastjsonschema's uniqueItems crashes
    "bytes-title": {"title": b"x"},
    "bad-locale": {"locale": "en_US"},
    "bad-interval": {"review_interval": "0d"},
    "bad-category": {"category": "Bad/Cat"},
    "nested-junk": {"questions": [["q"]]},
}


@pytest.fixture(scope="module")
def entry_check() -> SchemaCheck:
    return SchemaCheck(inline_refs(load_schema("entry.schema.json")))


def entry_instance(changes: dict) -> dict:
    data = {**ENTRY, **changes}
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("changes", ENTRY_CASES.values(), ids=ENTRY_CASES.keys())
def test_entry_schema_fast_check_agrees_with_jsonschema(entry_check, changes):
    fast, reference = verdicts(entry_check, entry_instance(changes))
    assert fast == reference


def test_entry_schema_fast_check_accepts_the_valid_without_jsonschema(entry_check, monkeypatch):
    def no_reference():
        raise AssertionError("jsonschema consulted for a valid front matter")
    monkeypatch.setattr(entry_check, "reference", no_reference)
    assert entry_check.errors(entry_instance(ENTRY_CASES["every-field"])) == []


def test_entry_schema_fast_check_leaves_the_data_alone(entry_check):
    data = entry_instance({})  # no `visibility`: the schema's default must not be written in
    before = copy.deepcopy(data)
    entry_check.errors(data)
    assert data == before


@pytest.mark.parametrize("date, valid", [
    ("2026-02-28", True), ("2028-02-29", True), ("2027-02-29", False), ("0000-01-01", False),
    ("2026-13-01", False), ("2026-1-01", False), ("2026-01-01\n", False), ("２０２６-01-01", False),
])
def test_date_format_is_jsonschemas(date, valid):
    import jsonschema

    from kbctl.load.fastschema import FORMATS

    assert FORMATS["date"](date) is valid
    assert jsonschema.FormatChecker().conforms(date, "date") is valid


def entry_diagnostics(text: str) -> list:
    return loader.parse_entry("knowledge/x.md", text, "zh-CN")[1]


@pytest.mark.parametrize("extra", [
    "", "colour: red\n", "tags: [a, a]\n", "valid_to: 0000-01-01\n", "id: 'kb-1\\n'\n",
    "tags: [!!set {a: null}]\n", "review_by: 2026-02-30\nsummary: ''\nchannels: x\n",
    "valid_from: 2026-10-01\nvalid_to: 2026-09-01\n",
])
def test_entry_findings_are_those_of_jsonschema_alone(extra, monkeypatch):
    """The whole front-matter reading, with the fast check and with jsonschema only."""
    text = ("---\nid: kb-1\ntitle: T\ntype: faq\nstatus: published\nowner: billing-team\n"
            + extra + "---\nbody\n")
    with_fast = entry_diagnostics(text)
    check = frontmatter._schema()
    monkeypatch.setattr(check, "errors", lambda data: list(check.reference().iter_errors(data)))
    assert with_fast == entry_diagnostics(text)


def test_sample_kb_entries_agree(entry_check):
    for path in sorted((REPO / "knowledge").rglob("*.md")):
        if path.name == "README.md":
            continue
        front = frontmatter.split(path.read_text(encoding="utf-8"))
        data = {str(k): v for k, v in load_front_matter(front[0]).items()}
        fast, reference = verdicts(entry_check, data)
        assert fast == reference, path


# -- kbctl.yaml --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def config_check() -> SchemaCheck:
    return SchemaCheck(load_schema("config.schema.json"))


@pytest.fixture(scope="module")
def sample_config() -> dict:
    from kbctl.yamlutil import roundtrip_yaml

    return to_plain(roundtrip_yaml().load((REPO / "kbctl.yaml").read_text(encoding="utf-8")))


def with_change(config: dict, path: list, value) -> dict:
    changed = copy.deepcopy(config)
    node = changed
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


CONFIG_CASES = {
    "sample": ([], None),
    "email-without-at": (["owners", "new-team"], {"name": "N", "email": "nobody"}),
    "email-odd-but-valid": (["owners", "new-team"], {"name": "N", "email": "a@b"}),
    "locale-final-newline": (["default_locale"], "zh-CN\n"),
    "unknown-key": (["colour"], "red"),
    "site-option-on-faq": (["channels", "bot"], {"kind": "faq", "audience": "public",
                                                 "base_url": "https://x.example"}),
    "faq-site-option": (["channels", "bot"], {"kind": "faq", "audience": "public", "site": "x"}),
    "ivr-seconds-bool": (["channels", "line"], {"kind": "ivr", "audience": "public",
                                                "max_prompt_seconds": True}),
    "kind-unknown": (["channels", "odd"], {"kind": "fax", "audience": "public"}),
    "title-map": (["taxonomy", 0, "title"], {"zh-CN": "账单", "en-US": "Billing"}),
    "title-empty-map": (["taxonomy", 0, "title"], {}),
    "title-bad-locale": (["taxonomy", 0, "title"], {"zh_CN": "账单"}),
    "dtmf-number": (["taxonomy", 0, "dtmf"], 1),
    "speech-zero": (["speech"], {"zh": {"chars_per_second": 0}}),
    "no-channels": (["channels"], None),
}


@pytest.mark.parametrize("path, value", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_config_schema_fast_check_agrees_with_jsonschema(config_check, sample_config, path, value):
    instance = with_change(sample_config, path, value) if path else sample_config
    fast, reference = verdicts(config_check, instance)
    assert fast == reference


def test_a_clean_validate_never_imports_jsonschema(tmp_path):
    """jsonschema (70 ms to import) is only for explaining errors: a cold validate of a clean
    knowledge base (kbctl.yaml and entries all read and checked) does without it."""
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(REPO / "kbctl.yaml", kb)
    shutil.copytree(REPO / "assets", kb / "assets")  # the sample's theme files
    shutil.copytree(REPO / "knowledge", kb / "knowledge")
    script = textwrap.dedent(f"""
        import sys
        from kbctl.cli import main
        try:
            main(["--root", {str(kb)!r}, "validate", "--as-of", "2026-11-22"])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        assert "jsonschema" not in sys.modules, "jsonschema imported"
    """)
    env = {"KBCTL_WORKERS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
