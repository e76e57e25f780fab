"""A planted cache can neither run code nor change the output (CONTRACT 4, kbctl/cachetrust.py).

Anyone can open a pull request, and CI runs kbctl on its tree: a commit can put files in
`.kbctl/` (`git add -f`), and a tarball of a commit carries them too. kbctl's caches are JSON
data, sealed; each test plants pickles whose `__reduce__` would create a marker file under
every cache file name kbctl writes or ever wrote (each `.kbctl/*.json`, the former
`*.pickle` files and seed store, jinja's compiled templates), or well-formed JSON forged
without a seal, and checks that no marker appears, that the output is a cold build's byte for
byte, and that a cache git tracks is ignored with one `cache-ignored` note.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import jinja2.bccache
import pytest
from conftest import REPO, commit_all, git, init_repo, run_cli, tree

AS_OF = "2026-11-22"
MADE_AGAIN = "files made again"
NOTE = "cache-ignored"


class _Touch:
    """Unpickling this creates `marker`: proof that kbctl ran a commit's code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """kbctl's key in a cache folder of the test's own (outside every KB)."""
    return {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}


def sample_kb(root: Path) -> Path:
    shutil.copytree(REPO / "knowledge", root / "knowledge")
    shutil.copy(REPO / "kbctl.yaml", root / "kbctl.yaml")
    shutil.copytree(REPO / "assets", root / "assets")  # the sample's theme files
    return root


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """The sample KB in a git repository, its cache folder git-ignored as kbctl writes it."""
    root = sample_kb(tmp_path / "kb")
    init_repo(root)
    commit_all(root, "sample", "2026-11-01")
    return root


def kbctl(kb: Path, env: dict, *args: str):
    return run_cli("--root", str(kb), *args, env=env)


def build(kb: Path, out: Path, env: dict):
    result = kbctl(kb, env, "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stdout + result.stderr
    return result


def cold_tree(kb: Path, tmp_path: Path, env: dict) -> dict[str, str]:
    """The output of a build of the same files with no cache at all."""
    cold_kb, cold_out = tmp_path / "cold-kb", tmp_path / "cold-out"
    shutil.copytree(kb, cold_kb, ignore=shutil.ignore_patterns(".kbctl"))
    build(cold_kb, cold_out, {**env, "KBCTL_WORKERS": "1"})
    return tree(cold_out)


FORMER_NAMES = ("config.pickle", "entries.pickle", "build-state.pickle", "renderings-help-center.pickle",
                "pages-help-center.pickle", "seeds.sqlite", "templates/entry.html.cache")


def plant(kb: Path, markers: Path) -> None:
    """Every cache file of a warm `.kbctl/`, and every name kbctl's caches once had, holding a
    pickle that would create a marker named after it."""
    cache = kb / ".kbctl"
    files = cache_files(kb)
    assert {"config.json", "entries.json", "env.json", "search-records-help-center.tsv"} <= {p.name for p in files}
    for path in files:
        path.write_bytes(pickle.dumps(_Touch(markers / path.name)))
    for name in FORMER_NAMES:
        (cache / name).parent.mkdir(exist_ok=True)
        blob = pickle.dumps(_Touch(markers / Path(name).name))
        (cache / name).write_bytes(jinja2.bccache.bc_magic + blob if name.endswith(".cache") else blob)


def forge(kb: Path) -> None:
    """Every cache file replaced by well-formed JSON of kbctl's shape, unsealed: entries whose
    sha matches the real file but whose body says something else."""
    for path in cache_files(kb):
        data = path.read_bytes()[32:]  # kbctl's own, after its seal
        text = data.decode("utf-8").replace("如何", "FORGED")
        path.write_text(text, encoding="utf-8")


def cache_files(kb: Path) -> list[Path]:
    """Every file kbctl's caches keep in `.kbctl/` (JSON, and lines of text)."""
    files = sorted(p for p in (kb / ".kbctl").iterdir() if p.is_file() and p.name != ".gitignore")
    assert all(p.suffix in (".json", ".tsv") for p in files), files
    return files


def commit_cache(kb: Path) -> None:
    git(kb, "add", "-f", ".kbctl")
    git(kb, "commit", "-q", "-m", "a cache", date="2026-11-02")


def edit_an_answer(kb: Path) -> None:
    path = kb / "knowledge" / "plans" / "winter-promo-2026.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n补充说明：咨询请拨打10000。\n", encoding="utf-8")


def notes(diagnostics: list[dict]) -> list[dict]:
    return [d for d in diagnostics if d["rule"] == NOTE]


# -- a cache that arrives with the files (an archive: no git) -----------------------------------

@pytest.mark.parametrize("command", ["validate", "health", "build"])
def test_planted_pickles_outside_git_run_no_code_and_change_nothing(command, tmp_path, markers, env):
    kb = sample_kb(tmp_path / "kb")
    build(kb, tmp_path / "warm", env)
    plant(kb, markers)
    out = tmp_path / "out"
    args = ("build", "--out", str(out)) if command == "build" else (command, "--format", "json")
    result = kbctl(kb, env, *args, "--as-of", AS_OF)
    assert result.code in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert sorted(os.listdir(markers)) == []
    if command == "build":
        assert result.code == 0, result.stderr
        assert tree(out) == cold_tree(kb, tmp_path, env)
    else:
        assert notes(result.json()["diagnostics"]) == []  # not tracked: only not trusted


# -- a cache committed to git -------------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "health"])
def test_a_committed_cache_is_ignored_with_one_note(command, kb, tmp_path, markers, env):
    build(kb, tmp_path / "warm", env)
    plant(kb, markers)
    commit_cache(kb)
    result = kbctl(kb, env, command, "--format", "json", "--as-of", AS_OF)
    assert "Traceback" not in result.stderr, result.stderr
    assert sorted(os.listdir(markers)) == []
    [note] = notes(result.json()["diagnostics"])
    assert (note["severity"], note["path"], note["line"], note["entry"]) == ("info", ".kbctl", None, None)
    if command == "validate":
        assert result.code == 0  # an info changes no exit code


def test_a_committed_cache_gives_a_cold_build(kb, tmp_path, markers, env):
    out = tmp_path / "out"
    build(kb, out, env)
    plant(kb, markers)
    commit_cache(kb)
    result = build(kb, out, env)
    assert sorted(os.listdir(markers)) == []
    assert result.stderr.count(f"[{NOTE}]") == 1, result.stderr
    assert tree(out) == cold_tree(kb, tmp_path, env)


def test_a_committed_cache_kbctl_sealed_itself_is_not_read_either(kb, tmp_path, env):
    """Sealed by this very key, but committed: still not trusted, and not rewritten."""
    out = tmp_path / "out"
    build(kb, out, env)
    commit_cache(kb)
    committed = {p: p.read_bytes() for p in cache_files(kb)}
    assert committed
    result = build(kb, out, env)
    assert "up to date" not in result.stderr and f"[{NOTE}]" in result.stderr
    assert {p: p.read_bytes() for p in cache_files(kb)} == committed
    assert tree(out) == cold_tree(kb, tmp_path, env)


# -- well-formed but unsealed: data cannot change the output either ----------------------------

def test_forged_json_caches_change_nothing(kb, tmp_path, markers, env):
    out = tmp_path / "out"
    build(kb, out, env)
    forge(kb)
    edit_an_answer(kb)
    build(kb, out, env)
    assert tree(out) == cold_tree(kb, tmp_path, env)
    assert not any(b"FORGED" in p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_no_cache_is_read_with_pickle_or_marshal():
    """The package reads its caches with json.loads only: nothing in it unpickles or unmarshals."""
    sources = sorted((REPO / "kbctl").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "pickle.load" not in text and "import marshal" not in text and "bytecode_cache" not in text, path


# -- kbctl's own cache still serves ------------------------------------------------------------

def test_the_sealed_cache_kbctl_wrote_is_used(kb, tmp_path, env):
    out = tmp_path / "out"
    build(kb, out, env)
    key = tmp_path / "user-cache" / "kbctl" / "cache-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert build(kb, out, env).stderr.count("up to date") == 5  # every channel of the sample
    edit_an_answer(kb)
    assert MADE_AGAIN in build(kb, out, env).stderr
    assert tree(out) == cold_tree(kb, tmp_path, env)


def test_without_a_key_caching_is_off_and_never_an_error(kb, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the user's cache folder would be", encoding="utf-8")
    env = {"XDG_CACHE_HOME": str(blocked)}
    out = tmp_path / "out"
    build(kb, out, env)
    again = build(kb, out, env)
    assert "up to date" not in again.stderr and "Traceback" not in again.stderr
    assert tree(out) == cold_tree(kb, tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "user-cache")})


def test_a_seal_is_for_its_blob_and_its_role(tmp_path, monkeypatch):
    from kbctl import cachetrust

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cachetrust._key.cache_clear()
    try:
        sealed = cachetrust.seal("cache/entries", b"data")
        assert cachetrust.unseal("cache/entries", sealed) == b"data"
        assert cachetrust.unseal("cache/config", sealed) is None  # another kind of file
        assert cachetrust.unseal("cache/entries", sealed[:-1] + b"D") is None
        assert cachetrust.unseal("cache/entries", b"data") is None
    finally:
        cachetrust._key.cache_clear()


# -- review: snapshots of commits never get a commit's cache -----------------------------------

def test_review_of_a_commit_with_a_cache_runs_no_code(kb, tmp_path, markers, env):
    base = git(kb, "rev-parse", "HEAD").strip()
    assert run_cli("validate", "--as-of", AS_OF, cwd=kb, env=env).code == 0  # fills .kbctl/
    for name in ("config.json", "entries.json", "env.json", "entries.pickle"):
        (kb / ".kbctl" / name).write_bytes(pickle.dumps(_Touch(markers / name)))
    edit_an_answer(kb)
    git(kb, "add", "knowledge")
    commit_cache(kb)
    result = run_cli("review", "--base", base, "--head", "HEAD", "--format", "json",
                     "--as-of", AS_OF, cwd=kb, env=env)
    assert result.code == 0, result.stdout + result.stderr
    assert sorted(os.listdir(markers)) == []
    shutil.rmtree(kb / ".kbctl")  # the same commits, no cache in the working tree
    clean = run_cli("review", "--base", base, "--head", "HEAD", "--format", "json",
                    "--as-of", AS_OF, cwd=kb, env=env)
    assert result.stdout == clean.stdout
    assert [c["path"] for c in result.json()["changes"]] == ["knowledge/plans/winter-promo-2026.md"]


def test_review_never_lays_out_a_commits_cache(kb, markers, env):
    """A link under knowledge/ makes the review lay the files out, and what links point to:
    a link to the commit's `.kbctl/entries.json` must not bring it into the snapshot."""
    base = git(kb, "rev-parse", "HEAD").strip()
    (kb / ".kbctl").mkdir(exist_ok=True)
    (kb / ".kbctl" / "entries.json").write_bytes(pickle.dumps(_Touch(markers / "entries.json")))
    os.symlink("../.kbctl/entries.json", kb / "knowledge" / "notes.bin")
    git(kb, "add", "knowledge")
    commit_cache(kb)
    shutil.rmtree(kb / ".kbctl")  # nothing for the review to borrow from the working tree
    result = run_cli("review", "--base", base, "--head", "HEAD", "--format", "json",
                     "--as-of", AS_OF, cwd=kb, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert sorted(os.listdir(markers)) == []


# -- serve builds from the same cache ----------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_serve_with_a_planted_cache_runs_no_code(kb, tmp_path, markers, env):
    build(kb, tmp_path / "warm", env)
    plant(kb, markers)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbctl", "serve", "--port", "0"], cwd=kb, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))},
    )
    line = ""
    try:
        for line in proc.stdout:
            if line.startswith("serving "):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert line.startswith("serving "), out + err
    assert "Traceback" not in err, err
    assert sorted(os.listdir(markers)) == []
    manifest = json.loads((kb / ".kbctl" / "serve" / "help-center" / "manifest.json").read_text("utf-8"))
    assert manifest["entries"]


# -- a cache folder that is a link: nothing is read or written through it ----------------------

def test_a_committed_cache_folder_link_is_never_written_through(kb, tmp_path, env):
    """A commit can hold `.kbctl` as a symbolic link to any folder; kbctl's cache, seeds,
    swapped-out channels and previews must never land there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (kb / ".kbctl").symlink_to(elsewhere)
    git(kb, "add", "-f", ".kbctl")
    commit_all(kb, "a link for a cache folder", "2026-11-02")
    out = tmp_path / "out"
    first = build(kb, out, env)
    again = build(kb, out, env)  # swaps channels in over the first build's
    assert os.listdir(elsewhere) == []
    assert NOTE in first.stderr and NOTE in again.stderr
    assert tree(out) == cold_tree(kb, tmp_path, env)
    validate = json.loads(kbctl(kb, env, "validate", "--format", "json").stdout)
    assert [d["path"] for d in notes(validate["diagnostics"])] == [".kbctl"]

    from kbctl.authoring.serve import Server, choose_channel
    from kbctl.config import load_config

    config = load_config(kb)
    server = Server(kb, choose_channel(config, None, False), port=0, log=lambda _: None)
    assert not server.out.is_relative_to(kb) and os.listdir(elsewhere) == []
