"""Docs that tests keep honest (after sqlite-utils' test_docs): the README's tour names every
command, `kbctl rules` lists every rule with a summary and a reason, the README's two set-up
commands are the ones CI runs, and the JSON Schemas are valid and describe the sample KB."""

from __future__ import annotations

import json
import re
import shlex

import jsonschema
import pytest
import typer
from conftest import REPO, run_cli
from ruamel.yaml import YAML

from kbctl.cli import app
from kbctl.rules import RULES

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)
SCHEMAS = sorted((REPO / "schemas").glob("*.json"))

INSTALL_COMMAND = "pip install . && kbctl build"
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest"


def section(title: str) -> str:
    """The README text under `## title`, up to the next `## ` heading."""
    pattern = rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)"
    match = re.search(pattern, README, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def commands_in(block: str) -> list[str]:
    """The commands of a shell block: lines without blanks and comments."""
    lines = (line.strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# (a) every command is in the tour -------------------------------------------------------------

def test_commands_found():
    assert {"validate", "health", "build", "review", "new", "init", "rules"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_in_readme_tour(command):
    tour = "\n".join(code_blocks(section("A tour")))
    assert re.search(rf"^\s*kbctl {re.escape(command)}\b", tour, re.MULTILINE), (
        f"`kbctl {command}` is missing from README.md's tour"
    )


# (b) every rule is listed and explained -------------------------------------------------------

@pytest.fixture(scope="module")
def rules_output() -> str:
    result = run_cli("rules", env={"COLUMNS": "400"})
    assert result.code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_listed_and_explained(name, rules_output):
    rule = RULES[name]
    assert rule.summary.strip(), f"rule {name} has no summary"
    assert rule.why.strip(), f"rule {name} has no why"
    row = next((line for line in rules_output.splitlines() if f" {rule.code} " in line), None)
    assert row is not None, f"{rule.code} is missing from `kbctl rules`"
    cells = [cell.strip() for cell in re.split(r"[│|]", row)]
    assert name in cells, f"{name} is not on {rule.code}'s row of `kbctl rules`: {row!r}"
    assert rule.summary.strip() in row


# (c) the README's set-up commands are the ones CI runs ----------------------------------------

def test_readme_setup_commands():
    blocks = [commands_in(block) for block in code_blocks(section("Set-up (two commands)"))]
    assert blocks == [[INSTALL_COMMAND], [TEST_COMMAND]]


def test_ci_runs_the_readme_test_command_in_a_fresh_venv_then_lint_and_types():
    run = commands_in((REPO / ".ci" / "run").read_text(encoding="utf-8"))
    assert TEST_COMMAND in run
    assert shlex.split(TEST_COMMAND)  # and it is valid shell
    tests = run.index(TEST_COMMAND)
    # A venv made anew (removed, created, activated) before the install, never the machine's
    # own site-packages; ruff and mypy after the tests.
    before = run[:tests]
    assert any(line.startswith("rm -rf") for line in before)
    assert any(re.fullmatch(r'python3? -m venv "?\$venv"?', line) for line in before)
    assert not any("--system-site-packages" in line for line in run)
    assert any(re.fullmatch(r'\. "?\$venv/bin/activate"?', line) for line in before)
    assert run[tests + 1:] == ["ruff check .", "mypy"]


# (d) every JSON Schema is a valid Draft 2020-12 schema ----------------------------------------

def test_schemas_found():
    names = {path.name for path in SCHEMAS}
    assert {"entry.schema.json", "config.schema.json", "faq.schema.json",
            "diagnostics.schema.json"} <= names


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda path: path.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


# (e) the sample KB's kbctl.yaml validates against its schema ----------------------------------

def test_sample_config_matches_schema():
    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text(encoding="utf-8"))
    config = YAML(typ="safe", pure=True).load((REPO / "kbctl.yaml").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
              for e in validator.iter_errors(config)]
    assert errors == []


# (f) docs/templates.md is the reference made from the template records ------------------------

def test_template_reference_is_generated_from_the_records():
    from kbctl.channels.site_context import reference

    committed = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
    assert committed == reference(), "docs/templates.md is stale: run `make docs`"
