"""Crafted input from a pull request: commits that write outside a review's snapshot, names and
values holding control characters, schema patterns passing a final newline, and `kbctl serve`
answering pages of other sites (DNS rebinding)."""

from __future__ import annotations

import json
import pickle
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, REPO, commit_all, entry_text, git, init_repo, write_kb
from conftest import run_cli as _run_cli

from kbctl.authoring.serve import Server
from kbctl.config import load_config
from kbctl.load.fastschema import SchemaCheck


def run_cli(*args: str, cwd: Path):
    """The real CLI, importing this checkout of kbctl whether or not it is installed."""
    return _run_cli(*args, cwd=cwd, env={"PYTHONPATH": str(REPO)})


def one_line_usage_error(result, where: str) -> str:
    assert result.code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert where in lines[0], lines[0]
    return lines[0]


def errors(result) -> list[tuple[str, str, int | None]]:
    return [(d["rule"], d["path"], d["line"]) for d in result.json()["diagnostics"]
            if d["severity"] == "error"]


# -- kbctl review: a crafted commit is laid out without following its links -------------------
def _hash_object(repo: Path, data: bytes) -> str:
    done = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=data,
                          capture_output=True, check=True)
    return done.stdout.decode().strip()


def _mktree(repo: Path, rows: list[str]) -> str:
    done = subprocess.run(["git", "mktree"], cwd=repo, input="".join(rows).encode(),
                          capture_output=True, check=True)
    return done.stdout.decode().strip()


def _rows(repo: Path, tree: str) -> list[str]:
    """`git ls-tree` of one tree, one row per name, as git mktree reads them."""
    return [line + "\n" for line in git(repo, "ls-tree", tree).splitlines()]


def crafted_commit(repo: Path, parent: str, knowledge_rows: list[str],
                   top_rows: list[str] = ()) -> str:
    """A commit on top of `parent` whose knowledge/ also holds `knowledge_rows` and whose top
    folder also holds `top_rows`: trees no checkout could make, built with git's plumbing."""
    knowledge = _mktree(repo, _rows(repo, f"{parent}:knowledge") + knowledge_rows)
    top = [row for row in _rows(repo, f"{parent}^{{tree}}") if not row.endswith("\tknowledge\n")]
    root = _mktree(repo, [*top, f"040000 tree {knowledge}\tknowledge\n", *top_rows])
    sha = git(repo, "commit-tree", root, "-p", parent, "-m", "crafted").strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    kb = write_kb(tmp_path / "kb", {"billing/pay.md": entry_text(id="pay", category="billing")})
    init_repo(kb)
    return kb, commit_all(kb, "base", "2026-11-01")


def test_review_writes_nothing_through_a_committed_symlink(repo, tmp_path: Path) -> None:
    kb, base = repo
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = _hash_object(kb, str(elsewhere).encode())
    entry = _hash_object(kb, entry_text(id="evil", category="billing").encode())
    below = _mktree(kb, [f"100644 blob {entry}\tevil.md\n"])
    # `x` is both a link to a folder outside and a folder whose files would land there.
    head = crafted_commit(kb, base, [f"120000 blob {link}\tx\n", f"040000 tree {below}\tx\n"])
    result = run_cli("review", "--base", base, "--head", head, "--format", "json", cwd=kb)
    assert result.code in (0, 1), result.stderr
    assert list(elsewhere.iterdir()) == []


def test_review_never_lays_out_a_committed_parse_cache(repo, tmp_path: Path) -> None:
    """The snapshot's `.kbctl/entries.json` is read as its parse cache: a commit must not be
    able to put one there (here through a link an entry makes to it), under the cache's name
    or the name it once had."""
    kb, base = repo
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = _hash_object(kb, pickle.dumps(Payload()))
    cache = _mktree(kb, [f"100644 blob {payload}\tentries.json\n",
                         f"100644 blob {payload}\tentries.pickle\n",
                         f"100644 blob {payload}\tconfig.json\n"])
    link = _hash_object(kb, b"../.kbctl/entries.json")
    head = crafted_commit(kb, base, [f"120000 blob {link}\tp.md\n"],
                          [f"040000 tree {cache}\t.kbctl\n"])
    result = run_cli("review", "--base", base, "--head", head, "--format", "json", cwd=kb)
    assert result.code in (0, 1), result.stderr
    assert not marker.exists()


# -- control characters in names, ids, paths and values -----------------------------------------
OWNED = BASE_CONFIG.replace("network-team: {name: 网络组}",
                            'network-team: {name: 网络组, github: "@example/network"}')


def test_a_file_name_cannot_add_a_codeowners_rule(tmp_path: Path) -> None:
    name = "billing/a\n*\t@attacker.md"  # would make the line `*<TAB>@attacker.md`
    kb = write_kb(tmp_path / "kb", {
        "billing/pay.md": entry_text(id="pay", category="billing"),
        name: entry_text(id="evil", category="billing"),
        "billing/c#1 2.md": entry_text(id="hash", owner="network-team", category="billing"),
    }, config=OWNED)
    init_repo(kb)
    result = run_cli("owners", "--codeowners", "CODEOWNERS", cwd=kb)
    assert result.code == 0, result.stderr
    lines = (kb / "CODEOWNERS").read_text(encoding="utf-8").splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert all(line.startswith("/") for line in rules), rules
    assert not any("\t" in line or "attacker" in line for line in rules), rules
    assert "/knowledge/billing/c\\#1\\ 2.md @example/network" in rules
    assert any(line.startswith("# /knowledge/billing/a\\n*\\t@attacker.md (") for line in lines)

    check = run_cli("validate", "--format", "json", cwd=kb)
    assert check.code == 1
    assert ("unreadable", f"knowledge/{name}", None) in errors(check)


def test_front_matter_values_with_control_characters_are_schema_errors(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb", {
        "billing/id.md": '---\nid: "x\\n"\ntitle: t\ntype: faq\nstatus: published\nowner: billing-team\n---\nb\n',
        "billing/title.md": entry_text(id="ok-title", title="a\nb\tc"),  # free text: allowed
        "billing/bell.md": entry_text(id="bell", summary="ding\x07"),
        "billing/sep.md": '---\nid: sep\ntitle: t\ntype: faq\nstatus: published\nowner: billing-team\n'
                          'tags: [a, "b\\u2028c"]\n---\nb\n',
    })
    result = run_cli("validate", "--format", "json", cwd=kb)
    assert result.code == 1
    found = {(d["path"], d["line"]): d["message"] for d in result.json()["diagnostics"]
             if d["rule"] == "schema"}
    assert set(found) == {("knowledge/billing/id.md", 2), ("knowledge/billing/bell.md", 7),
                          ("knowledge/billing/sep.md", 7)}, found
    assert "U+000A" in found[("knowledge/billing/id.md", 2)]
    assert "U+2028" in found[("knowledge/billing/sep.md", 7)]


@pytest.mark.parametrize(("old", "new", "where"), [
    ('github: "@example/billing"', 'github: "@x\\n"', "kbctl.yaml:6:"),
    ('operator: "tel:10000"', 'operator: "tel:10000\\r"', "kbctl.yaml:25:"),
    ("base_url: https://help.example.com", 'base_url: "https://help.example.com\\x1b"', "kbctl.yaml:4:"),
    ("  network-team: {name: 网络组}", '  "net\\twork": {name: 网络组}', "kbctl.yaml:7:"),
    ("{zh-CN: 缴费, en-US: Payments}", '{zh-CN: "缴\\u0085费", en-US: Payments}', "kbctl.yaml:14:"),
])
def test_control_characters_in_kbctl_yaml_are_usage_errors(tmp_path: Path, old, new, where) -> None:
    assert old in BASE_CONFIG
    kb = write_kb(tmp_path / "kb", {}, config=BASE_CONFIG.replace(old, new))
    message = one_line_usage_error(run_cli("validate", cwd=kb), where)
    assert "control character" in message


def test_free_text_in_kbctl_yaml_may_hold_tab_and_newline_only(tmp_path: Path) -> None:
    config = BASE_CONFIG.replace("{name: 网络组}", '{name: "网络\\t组"}').replace(
        "{zh-CN: 网络, en-US: Network}", '{zh-CN: "网\\n络", en-US: Network}')
    kb = write_kb(tmp_path / "kb", {"e1.md": entry_text(category="billing")}, config=config)
    result = run_cli("validate", cwd=kb)
    assert result.code == 0, (result.stdout, result.stderr)
    (kb / "kbctl.yaml").write_text(config.replace("网\\n络", "网\\e络"), encoding="utf-8")
    one_line_usage_error(run_cli("validate", cwd=kb), "kbctl.yaml:16: taxonomy/1/title/zh-CN:")


# -- schema patterns: `$` is the end of the text ----------------------------------------------
SCHEMAS = sorted((REPO / "schemas").glob("*.schema.json"))
# A value each pattern accepts; a pattern without one fails the test below, so none is missed.
SAMPLES = {
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$":
        "2026-11-20T08:15:00+08:00",
    "^[^\\x00-\\x1f\\x7f]+$": "usage/*.jsonl",
    "^[a-z0-9][a-z0-9-]*#(0|[1-9][0-9]*)$": "pay-bill#0",
    "^[^{}\\n\\r]*$": "CNY 25 a day",
    "^[a-z][a-z-]*$": "telephone",
    "^[a-z0-9][a-z0-9-]*$": "pay-bill",
    "^[a-z0-9-]+$": "help-center",
    "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$": "zh-CN",
    "^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$": "billing/payments",
    "^[1-9][0-9]*[dwmy]$": "90d",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "2026-09-01",
    "^@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?$": "@example/billing",
    "^https?://[^\\s]+$": "https://help.example.com",
    "^[a-z][a-z0-9-]*$": "broken-link",
    "^KB[0-9]{3}$": "KB001",
    "^(?!\\.)[^/\\\\\\x00-\\x1f\\x7f-\\x9f]+(/(?!\\.)[^/\\\\\\x00-\\x1f\\x7f-\\x9f]+)*$": "assets/img",
    "^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$": "#c8102e",  # theme colours (CONTRACT 10)
    "^[^\\x00-\\x1f\\x7f-\\x9f]*$": "assets/logo.svg",
    "^[^\\n]*$": "Hotline {{ hotline }}",
    "^(https?://[^\\s]+|mailto:[^\\s]+|tel:[0-9+*#-]+)$": "tel:10000",
    "^(https://[A-Za-z0-9.-]+|http://(localhost|127\\.0\\.0\\.1|\\[::1\\]))(:[0-9]{1,5})?(/[^\\s\"'<>\\\\`]*)?$":
        "https://events.example.com/kb",  # a site's feedback endpoint (CONTRACT 7)
}
UNANCHORED = {"\\S", "^https?://"}  # match anywhere after their start: a newline may follow


def schema_patterns() -> list[tuple[str, str]]:
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in SCHEMAS:
        walk(json.loads(path.read_text(encoding="utf-8")))
    return sorted(set(found))


def test_no_schema_pattern_takes_a_final_newline() -> None:
    """Every pattern of every schema, through kbctl's check and its jsonschema reference."""
    patterns = schema_patterns()
    assert {"^[a-z0-9][a-z0-9-]*$", "^@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?$"} <= set(patterns)
    taken = []
    for pattern in (p for p in patterns if p not in UNANCHORED):
        assert pattern in SAMPLES, f"add a value {pattern!r} accepts to SAMPLES"
        check = SchemaCheck({"$schema": "https://json-schema.org/draft/2020-12/schema",
                             "type": "string", "pattern": pattern})
        assert check.errors(SAMPLES[pattern]) == [], pattern
        for bad in (SAMPLES[pattern] + "\n", SAMPLES[pattern] + "\n\n"):
            fast = [e.validator for e in check.errors(bad)]
            reference = [e.validator for e in check.reference().iter_errors(bad)]
            if fast != ["pattern"] or reference != ["pattern"]:
                taken.append((pattern, bad))
    assert taken == []


# -- kbctl serve: only requests naming this machine ---------------------------------------------
def raw_get(port: int, host: str | None) -> tuple[int, bytes]:
    """One HTTP/1.1 GET to 127.0.0.1 with this Host header (or none): status and body."""
    request = "GET / HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "")
    request += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request.encode("ascii"))
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_serve_answers_only_requests_for_this_machine(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb", {
        "billing/secret.md": entry_text(id="secret", title="Agent only", visibility="internal"),
    })
    srv = Server(kb, load_config(kb).channels["agent-portal"], port=0, log=lambda _: None)
    srv.start()
    try:
        port = int(srv.url.rsplit(":", 1)[1].strip("/"))
        for host in ("attacker.example", f"attacker.example:{port}", "localhost.attacker.example",
                     "127.0.0.1.attacker.example", "", None):
            status, body = raw_get(port, host)
            assert (status, body) == (421, b""), host
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "127.9.8.7",
                     f"[::1]:{port}", "LOCALHOST"):
            status, body = raw_get(port, host)
            assert status == 200 and body, host
    finally:
        srv.stop()
