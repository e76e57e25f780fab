"""The git side of `kbctl review`: resolve refs, diff two commits, and lay a commit's KB on disk.

A review compares two *commits*, never the working tree: each side is materialized from git's
object store (`ls-tree` + `cat-file --batch`, so `.gitattributes` export rules and checkout
filters cannot change what is reviewed) into a temporary folder, where the ordinary loader
reads it. Paths inside this module are repository paths; `Snapshot` and `FileChange` speak in
paths relative to the KB root, which may be a sub-folder of the repository.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from kbctl.cache import CACHE_DIR
from kbctl.errors import UsageError
from kbctl.load.discover import MAX_FILE_BYTES, Found
from kbctl.model import Diagnostic
from kbctl.rules import rule
from kbctl.theme import named_paths

CONFIG_NAME = "kbctl.yaml"
KNOWLEDGE_DIR = "knowledge"
# Settings a user's gitconfig could use to change what git prints.
_NEUTRAL_CONFIG = (
    "-c", "core.quotepath=off", "-c", "diff.relative=false", "-c", "diff.external=",
    "-c", "color.ui=never", "-c", "log.showSignature=false", "-c", "diff.noprefix=false",
)
_SYMLINK, _SUBMODULE = "120000", "160000"


@dataclass(frozen=True)
class FileChange:
    """One line of `git diff --name-status`, in KB-root-relative paths."""

    status: str  # "A", "M", "D", "R" (copies and type changes are folded into A and M)
    path: str
    old_path: str | None = None


class Repository:
    """The git repository holding a KB root, and the KB's place inside it."""

    def __init__(self, kb_root: Path):
        self.kb_root = kb_root
        done = self._run("rev-parse", "--show-toplevel", "--show-prefix",
                         "--is-shallow-repository", cwd=kb_root, check=False)
        if done.returncode != 0:
            reason = _first_line(done.stderr)
            if "not a git repository" in reason:
                raise UsageError(
                    f"kbctl review compares commits, but {kb_root} is not in a git repository")
            raise UsageError(f"git cannot read the repository at {kb_root} ({reason})")
        top, prefix, shallow = (done.stdout.decode("utf-8", "replace").split("\n") + ["", ""])[:3]
        self.top = Path(top)
        self.prefix = prefix  # "" or "sub/dir/"
        self.shallow = shallow.strip() == "true"

    # -- running git ------------------------------------------------------------------------
    def _run(self, *args: str, cwd: Path | None = None, check: bool = True,
             stdin: bytes | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
        try:
            done = subprocess.run(
                ["git", *_NEUTRAL_CONFIG, *args], cwd=cwd or self.top, env=env,
                input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                capture_output=True, check=False,
            )
        except FileNotFoundError:
            raise UsageError("kbctl review needs git, and git is not installed") from None
        if check and done.returncode != 0:
            raise UsageError(f"git {args[0]} failed: {_first_line(done.stderr)}")
        return done

    # -- refs -------------------------------------------------------------------------------
    def resolve(self, ref: str, option: str) -> str:
        """The full sha of the commit `ref` names, or a one-line UsageError saying why not."""
        if not ref.strip() or ref.startswith("-") or any(c in ref for c in "\0\n"):
            raise UsageError(f"{option} {ref!r}: not a git revision")
        done = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if done.returncode == 0:
            return done.stdout.decode().strip()
        hint = ""
        if self.shallow:
            hint = ("; this is a shallow clone without that history "
                    "(fetch it: git fetch --unshallow, or actions/checkout with fetch-depth: 0)")
        elif "/" in ref:
            hint = "; fetch it first (e.g. git fetch origin)"
        raise UsageError(f"{option} {ref!r}: no such commit in this repository{hint}")

    def merge_base(self, base: str, head: str) -> str:
        """Where head's history left base's: a pull request shows its changes from there, so
        commits that landed on the base branch meanwhile are not counted as the change's."""
        done = self._run("merge-base", base, head, check=False)
        found = done.stdout.decode().strip().split("\n")[0] if done.returncode == 0 else ""
        return found or base

    # -- diff -------------------------------------------------------------------------------
    def changed_files(self, base: str, head: str) -> list[FileChange]:
        """Files changed under knowledge/ and kbctl.yaml, with renames detected (-M, 50%)."""
        done = self._run("diff", "--name-status", "-z", "-M", "--no-color", "--no-ext-diff",
                         base, head, "--", *self._kb_pathspecs())
        return [c for c in parse_name_status(done.stdout, self.prefix) if c.path or c.old_path]

    def _kb_pathspecs(self) -> list[str]:
        return [f":(literal){self.prefix}{CONFIG_NAME}", f":(literal){self.prefix}{KNOWLEDGE_DIR}"]

    # -- dates ------------------------------------------------------------------------------
    def log_for_dates(self, head: str) -> bytes | None:
        """`git log` as kbctl.gitdates reads it, from `head`; None where dates are unusable."""
        if self.shallow:
            return None
        spec = f":(literal){self.prefix}" if self.prefix else "."
        done = self._run("log", "--first-parent", "--diff-merges=first-parent", "-z",
                         "--name-status", "-M", "--no-color", "--format=%x01%ct", head, "--", spec,
                         check=False)
        if done.returncode != 0:
            return None
        return done.stdout

    # -- snapshots --------------------------------------------------------------------------
    def snapshot(self, sha: str) -> Snapshot | None:
        """The KB as committed at `sha`, in a temporary folder; None without kbctl.yaml.

        Only kbctl.yaml is written at first; entries are handed to the loader from memory
        (`Snapshot.sources`), and other files are written when a link needs them (`add`)."""
        tree = self._tree(sha)
        if CONFIG_NAME not in tree:
            return None
        folder = Path(tempfile.mkdtemp(prefix=f"kbctl-review-{sha[:12]}-"))
        snap = Snapshot(self, sha, folder, tree)
        try:
            snap.write([CONFIG_NAME])
            config = snap.root / CONFIG_NAME
            if config.is_file() and not config.is_symlink():  # the theme's files, checked as in a build
                snap.write(named_paths(config.read_bytes(), list(tree)))
            if snap.has_symlinks:  # rare: lay the files out and let the loader walk them
                snap.write([p for p in tree if p.startswith(KNOWLEDGE_DIR + "/")])
                snap.add_symlink_targets()
        except BaseException:
            snap.close()
            raise
        return snap

    def _tree(self, sha: str) -> dict[str, tuple[str, str]]:
        """KB-relative path -> (mode, blob sha) of every file under the KB root at `sha`."""
        spec = [f":(literal){self.prefix}"] if self.prefix else []
        done = self._run("ls-tree", "-r", "-z", "--full-tree", sha, "--", *spec)
        tree: dict[str, tuple[str, str]] = {}
        for record in done.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, _kind, blob = meta.decode().split(" ")
            path = os.fsdecode(name)
            if mode == _SUBMODULE or not path.startswith(self.prefix) or _is_cache(path[len(self.prefix):]):
                continue
            tree[path[len(self.prefix):]] = (mode, blob)
        return tree

    def blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Contents of many blobs in one `git cat-file --batch`."""
        unique = list(dict.fromkeys(shas))
        if not unique:
            return {}
        done = self._run("cat-file", "--batch", stdin=("\n".join(unique) + "\n").encode())
        out, data, pos = {}, done.stdout, 0
        for sha in unique:
            end = data.index(b"\n", pos)
            header = data[pos:end].split(b" ")
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            out[sha] = data[pos:pos + size]
            pos += size + 1
        return out


@dataclass
class Snapshot:
    """A commit's KB laid out in `root` (a temporary folder removed by `close`)."""

    repo: Repository
    sha: str
    root: Path
    tree: dict[str, tuple[str, str]]
    written: set[str] = field(default_factory=set)

    def write(self, paths: list[str]) -> None:
        """Lay these files out as committed. A commit is anyone's to craft: its tree may hold
        a symbolic link and, below the same name, files (`knowledge/x -> /elsewhere` and
        `knowledge/x/a.md`), so nothing is written through a link: each folder is opened
        relative to its parent's descriptor without following links, and each file is created
        anew (O_EXCL) without following one. A path that would pass through a link or a file
        is not laid out. Links themselves are written as links, as a checkout would: the
        loader treats them as it does in a working tree (kbctl/load/discover.py)."""
        wanted = [p for p in paths if p in self.tree and p not in self.written and _safe(p)]
        contents = self.repo.blobs([self.tree[p][1] for p in wanted])
        root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for path in wanted:
                mode, blob = self.tree[path]
                if _write_at(root_fd, path, mode == _SYMLINK, contents.get(blob, b"")):
                    self.written.add(path)
        finally:
            os.close(root_fd)

    @property
    def has_symlinks(self) -> bool:
        return any(mode == _SYMLINK and (p == KNOWLEDGE_DIR or p.startswith(KNOWLEDGE_DIR + "/"))
                   for p, (mode, _) in self.tree.items())

    def sources(self, skip: Collection[str] = ()) -> list[tuple[Found, bytes | Diagnostic]] | None:
        """Every entry file (but those in `skip`) with its bytes, as `kbctl.load.loader.scan`
        gives them for a folder; None when the files are on disk for the loader to walk (a KB
        with symbolic links)."""
        if self.has_symlinks:
            return None
        paths = sorted(p for p in self.tree if is_entry_file(p) and p not in skip)
        contents = self.repo.blobs([self.tree[p][1] for p in paths])
        out: list[tuple[Found, bytes | Diagnostic]] = []
        for path in paths:
            data = contents.get(self.tree[path][1])
            found = Found(path, self.root / path, False)
            if data is None:
                out.append((found, rule("unreadable").diag(path, None, "git has no such object")))
            elif len(data) > MAX_FILE_BYTES:
                out.append((found, rule("unreadable").diag(
                    path, None,
                    f"the file is {len(data) // 1048576} MiB; entries are limited to 32 MiB")))
            else:
                out.append((found, data))
        return out

    def same_file(self, other: Snapshot, path: str) -> bool:
        """The file is byte for byte the same in both commits."""
        return path in self.tree and self.tree[path] == other.tree.get(path)

    def add_symlink_targets(self) -> None:
        """Lay out what symbolic links under knowledge/ point to, wherever in the KB it is."""
        targets = set()
        for path in list(self.written):
            if self.tree[path][0] == _SYMLINK:
                link = os.readlink(self.root / path)
                targets.add(posixpath.normpath(posixpath.join(posixpath.dirname(path), link)))
        self.write(sorted(targets))

    def add(self, paths: set[str]) -> None:
        """Also lay out these files (e.g. images outside knowledge/ that entries link to)."""
        self.write(sorted(paths))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def is_entry_file(path: str) -> bool:
    """CONTRACT 1.2: every *.md under knowledge/ (any depth) except README.md."""
    return path.startswith(KNOWLEDGE_DIR + "/") and path.endswith(".md") \
        and posixpath.basename(path) != "README.md"


def _is_cache(path: str) -> bool:
    """The KB's cache folder as a commit has it: never laid out (a cache is not content, and
    one from a commit is never trusted: kbctl/cachetrust.py)."""
    return path.split("/", 1)[0].lower() == CACHE_DIR


def _safe(path: str) -> bool:
    """A relative path of plain names, outside `.git` (the cache folder is left out of the
    tree already: `_is_cache`)."""
    parts = path.split("/")
    return (not path.startswith("/") and not {"..", ".", ""} & set(parts)
            and not any(part.lower() == ".git" for part in parts))


_NO_FOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _write_at(root_fd: int, path: str, symlink: bool, data: bytes) -> bool:
    """Write one file (or link) below the folder `root_fd`, never following a link; False
    when the path passes through a link or a file, or the name exists already."""
    *folders, name = path.split("/")
    fd = os.dup(root_fd)
    try:
        for folder in folders:
            try:
                os.mkdir(folder, 0o755, dir_fd=fd)
            except FileExistsError:
                pass  # a folder already made, or a link or file: the open below tells
            try:
                inner = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW, dir_fd=fd)
            except OSError:  # ELOOP (a link) or ENOTDIR (a file)
                return False
            os.close(fd)
            fd = inner
        if symlink:
            os.symlink(os.fsdecode(data), name, dir_fd=fd)
            return True
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW, 0o644, dir_fd=fd)
        with os.fdopen(out, "wb") as handle:
            handle.write(data)
        return True
    except FileExistsError:
        return False
    finally:
        os.close(fd)


def parse_name_status(output: bytes, prefix: str) -> list[FileChange]:
    """Read `git diff --name-status -z` output; paths made relative to the KB root."""
    tokens = output.split(b"\0")
    changes: list[FileChange] = []
    index = 0
    while index < len(tokens):
        status = tokens[index].decode("ascii", "replace").strip()
        index += 1
        if not status:
            continue
        count = 2 if status[0] in "RC" else 1
        names = [_strip(os.fsdecode(t), prefix) for t in tokens[index:index + count]]
        index += count
        kind = status[0]
        if kind == "R":
            changes.append(FileChange("R", names[1], names[0]))
        elif kind == "C":
            changes.append(FileChange("A", names[1]))
        elif kind == "D":
            changes.append(FileChange("D", names[0]))
        elif kind == "A":
            changes.append(FileChange("A", names[0]))
        else:  # M, T (type change), U
            changes.append(FileChange("M", names[0]))
    return changes


def _strip(path: str, prefix: str) -> str:
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[0].removeprefix("fatal: ") if text else "git failed"
