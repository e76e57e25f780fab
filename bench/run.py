"""Benchmark kbctl on generated knowledge bases, side by side with Hugo + Pagefind.

    python bench/run.py [--sizes 1000 10000 50000] [--repeat 3] [--work /tmp/kbctl-bench]

For each size it generates a KB with a git history (bench/generate.py), then prints the median
of whole-process runs of each measure, its target and "ok" or "MISSED":

- validate cold (no .kbctl cache) and warm; health; cold build of all channels and of the
  help-center alone; peak memory (max RSS) of the cold all-channel build;
- a rebuild with nothing changed;
- one entry edited (answer text, title, tags, related, category, an entry added, one deleted,
  visibility public -> internal), each rebuilt for the help-center alone and for all channels:
  every repeat builds, applies the edit, times the rebuild, and undoes the edit;
- the build after committing an edit that was already built (edit, build, git commit, time);
- `kbctl serve`: from saving an edited entry to its page file holding the edit (read every
  5 ms), saves spread over serve's polling cycle.

Then the same pages through Hugo (Debian `hugo`) and Pagefind (PyPI `pagefind[extended]`)
when they are installed, and the ratio the site target is stated in. Only the public command
line is driven (`kbctl build`, `validate`, `health`, `serve`, and git), never kbctl's modules.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate
from hugo_site import make_hugo_site

AS_OF = "2026-11-22"
SITE = "help-center"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
# kbctl as installed runs from compiled bytecode (pip compiles it); an editable install under
# PYTHONDONTWRITEBYTECODE would compile every module it imports on every timed run.
KBCTL_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
SERVE_POLL = 0.005  # how often the page file is read while waiting for serve's rebuild
SERVE_START_TIMEOUT = 1800.0  # serve builds the channel before it reports it is serving
SERVE_EDIT_TIMEOUT = 120.0
SERVE_PHASE_SPREAD = 1.0  # seconds; longer than serve's polling interval
MEMORY_TARGET_SIZE = 10_000  # the peak memory target is stated for this size

# Targets, in seconds (memory in MiB).
EDIT_TARGET = {SITE: 1.0, "all": 1.5}
NO_CHANGE_TARGET = 0.3
AFTER_COMMIT_TARGET = 1.0
COLD_VALIDATE_TARGET = 3.0
SERVE_TARGET = 0.3
MEMORY_TARGET_MIB = 1024


@dataclass
class Run:
    wall: float  # seconds
    peak_mib: int  # max RSS of the process, or of the largest process it waited for


@dataclass
class Figure:
    name: str
    value: float | None  # seconds, or MiB for a memory figure; None: not measurable
    target: float | None = None  # in the same unit
    unit: str = "s"
    peak_mib: int = 0  # of the runs timed, shown beside a time
    note: str = ""  # why there is no value, or where the target applies

    @classmethod
    def timing(cls, name: str, run: Run, target: float | None = None) -> Figure:
        return cls(name, run.wall, target, peak_mib=run.peak_mib)

    def verdict(self) -> str:
        if self.value is None or self.target is None:
            return ""
        return "ok" if self.value <= self.target else "MISSED"


def timed(cmd: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """One whole-process run; an exit code outside `ok` stops the benchmark (a refused build
    measures nothing)."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty run cannot block
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=KBCTL_ENV, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-800:]
            raise SystemExit(f"{' '.join(cmd)} exited {code}: {tail}")
    return Run(wall, usage.ru_maxrss // 1024)


def median_of(repeat: int, prepare: Callable[[], None] | None, cmd: list[str],
              cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    runs = []
    for _ in range(repeat):
        if prepare:
            prepare()
        runs.append(timed(cmd, cwd, ok))
    return Run(statistics.median(r.wall for r in runs), max(r.peak_mib for r in runs))


def kbctl(kb: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "kbctl", "--root", str(kb), *args]


def git(kb: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=kb, env={**os.environ, **GIT_ENV}, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


# -- the entries the edits change ---------------------------------------------------------
class EntryFile:
    """One entry's file and its text before any edit, so that every edit can be undone."""

    def __init__(self, path: Path):
        self.path = path
        self.original = path.read_text(encoding="utf-8")

    @property
    def id(self) -> str:
        return field_value(self.original, "id")

    def write(self, text: str) -> None:
        self.path.write_text(text, encoding="utf-8")

    def with_field(self, key: str, value: str) -> str:
        return re.sub(rf"(?m)^{key}: .*$", lambda _: f"{key}: {value}", self.original, count=1)

    def restore(self) -> None:
        self.write(self.original)


def field_value(text: str, key: str) -> str:
    match = re.search(rf"(?m)^{key}: (.*)$", text)
    if not match:
        raise SystemExit(f"no {key!r} line in a generated entry")
    return match.group(1).strip()


@dataclass
class Targets:
    edited: EntryFile  # a public entry with the fields every edit changes
    other_id: str  # another public entry, for `related`
    leaf: EntryFile | None  # a public entry no other file names: deleting it breaks nothing


def pick_targets(kb: Path) -> Targets:
    """Deterministic picks (sorted paths), so every run and size edits the same kind of entry."""
    paths = sorted((kb / "knowledge").rglob("*.md"))
    texts = {path: path.read_text(encoding="utf-8") for path in paths}
    named = Counter(token for text in texts.values() for token in set(re.findall(r"[A-Za-z0-9-]+", text)))
    public = [path for path, text in texts.items()
              if "\nvisibility: internal" not in text and "\nlocale: " not in text]
    editable = [path for path in public
                if all(f"\n{key}: " in texts[path] for key in ("visibility", "tags", "related", "category"))
                and "\nchannels: " not in texts[path]]
    if len(editable) < 2:
        raise SystemExit("the generated KB has no two public entries with every edited field")
    leaves = [path for path, text in texts.items()
              if "\nvisibility: internal" not in text and named[field_value(text, "id")] == 1]
    return Targets(EntryFile(editable[0]), field_value(texts[editable[1]], "id"),
                   EntryFile(leaves[0]) if leaves else None)


@dataclass
class Edit:
    name: str
    apply: Callable[[], None]
    undo: Callable[[], None]


def edits(targets: Targets) -> list[Edit]:
    entry = targets.edited
    added = entry.path.with_name("bench-added.md")
    moved_to = "billing/payments" if field_value(entry.original, "category") == "network/issues" \
        else "network/issues"

    def add() -> None:
        text = entry.with_field("id", "bench-added")
        added.write_text(re.sub(r"(?m)^title: .*$", "title: 基准测试新增的问题", text, count=1),
                         encoding="utf-8")

    out = [
        Edit("answer text", lambda: entry.write(entry.original + "\n基准测试改过的回答。\n"), entry.restore),
        Edit("title", lambda: entry.write(entry.with_field("title", "基准测试改过的标题")), entry.restore),
        Edit("tags", lambda: entry.write(entry.with_field("tags", "[基准测试标签]")), entry.restore),
        Edit("related", lambda: entry.write(entry.with_field("related", f"[{targets.other_id}]")),
             entry.restore),
        Edit("category move", lambda: entry.write(entry.with_field("category", moved_to)), entry.restore),
        Edit("entry added", add, lambda: added.unlink(missing_ok=True)),
        Edit("visibility public -> internal", lambda: entry.write(entry.with_field("visibility", "internal")),
             entry.restore),
    ]
    if targets.leaf is not None:
        leaf = targets.leaf
        out.insert(6, Edit("entry deleted", lambda: leaf.path.unlink(), leaf.restore))
    return out


# -- the kbctl measures --------------------------------------------------------------------
def bench_kbctl(kb: Path, size: int, repeat: int) -> list[Figure]:
    out = kb / "dist"
    cache = kb / ".kbctl"
    build = kbctl(kb, "build", "--as-of", AS_OF, "--out", str(out))
    builds = {SITE: [*build, "--channel", SITE], "all": build}

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    undo_leftovers(kb)
    validate = kbctl(kb, "validate", "--as-of", AS_OF)
    figures = [
        Figure.timing("validate, cold (no .kbctl)",
                      median_of(repeat, lambda: shutil.rmtree(cache, ignore_errors=True), validate),
                      COLD_VALIDATE_TARGET),
        Figure.timing("validate, warm", median_of(repeat, None, validate)),
        Figure.timing("health", median_of(repeat, None, kbctl(kb, "health", "--as-of", AS_OF),
                                          ok=(0, 1))),
    ]
    cold_all = median_of(repeat, cold, build)
    figures += [
        Figure.timing("build all channels, cold", cold_all),
        Figure.timing(f"build --channel {SITE}, cold", median_of(repeat, cold, builds[SITE])),
        memory_figure(cold_all, size),
    ]
    timed(build)
    figures.append(Figure.timing("rebuild all channels, no change", median_of(repeat, None, build),
                                 NO_CHANGE_TARGET))

    targets = pick_targets(kb)
    print(f"{size:,} entries: edits change {targets.edited.id}; the entry deleted is "
          f"{targets.leaf.id if targets.leaf else 'none'}", flush=True)
    for edit in edits(targets):
        for scope, cmd in builds.items():
            figures.append(Figure.timing(f"one edit: {edit.name}, rebuild {scope_name(scope)}",
                                         edit_rebuild(edit, cmd, repeat), EDIT_TARGET[scope]))
    if targets.leaf is None:
        figures.append(Figure("one edit: entry deleted", None,
                              note="n/a: every public entry is named by another, none can go alone"))
    figures.append(Figure.timing("build after committing an edit already built",
                                 after_commit(kb, targets.edited, build, repeat), AFTER_COMMIT_TARGET))
    figures.append(serve_figure(kb, targets.edited, repeat))
    return figures


def undo_leftovers(kb: Path) -> None:
    """A run stopped mid-edit leaves its edit behind: start from the generated KB."""
    git(kb, "reset", "-q", "--hard")
    git(kb, "clean", "-q", "-f", "--", "knowledge")


def scope_name(scope: str) -> str:
    return f"--channel {scope}" if scope == SITE else "all channels"


def memory_figure(cold_all: Run, size: int) -> Figure:
    name = "peak memory (max RSS), cold build all channels"
    if size == MEMORY_TARGET_SIZE:
        return Figure(name, cold_all.peak_mib, MEMORY_TARGET_MIB, unit="MiB")
    return Figure(name, cold_all.peak_mib, unit="MiB",
                  note=f"(target ≤ {MEMORY_TARGET_MIB} MiB at {MEMORY_TARGET_SIZE:,})")


def edit_rebuild(edit: Edit, cmd: list[str], repeat: int) -> Run:
    """Every repeat: undo (the state before the edit), build it, edit; the rebuild is timed."""
    def prepare() -> None:
        edit.undo()
        timed(cmd)
        edit.apply()

    try:
        return median_of(repeat, prepare, cmd)
    finally:
        edit.undo()


def after_commit(kb: Path, entry: EntryFile, build: list[str], repeat: int) -> Run:
    """Edit, build, commit; then the build is timed: only git's dates changed since the last."""
    base = git(kb, "rev-parse", "HEAD")

    def prepare() -> None:
        git(kb, "reset", "-q", "--hard", base)
        timed(build)
        entry.write(entry.original + "\n基准测试提交的修改。\n")
        timed(build)
        git(kb, "commit", "-q", "-a", "-m", "Bench: one answer edited")

    try:
        return median_of(repeat, prepare, build)
    finally:
        git(kb, "reset", "-q", "--hard", base)


# -- kbctl serve ---------------------------------------------------------------------------
class ServeProcess:
    """`kbctl serve` in the background, its output lines in a queue."""

    def __init__(self, kb: Path):
        self.started = time.time()
        self.proc = subprocess.Popen(kbctl(kb, "serve", "--port", "0", "--as-of", AS_OF),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float) -> str | None:
        """The next line, or None when serve ended or said nothing for `timeout` seconds."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.seen.append(line)
        return line

    def drain(self) -> None:
        while not self.lines.empty():
            self.next_line(0)

    def stop(self) -> None:
        """Ctrl-C, as a preview ends; then SIGTERM, since serve inherits an ignored SIGINT
        when the bench runs as a background job."""
        for end in (lambda: self.proc.send_signal(signal.SIGINT), self.proc.terminate):
            if self.proc.poll() is not None:
                return
            end()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def serve_figure(kb: Path, entry: EntryFile, repeat: int) -> Figure:
    name = "serve: save an edited entry -> its page written"
    serve = ServeProcess(kb)
    try:
        latency, reason = serve_latency(kb, serve, entry, repeat)
    finally:
        serve.stop()
        entry.restore()
    if latency is None:
        return Figure(name, None, SERVE_TARGET, note=f"n/a: {reason}")
    return Figure(name, latency, SERVE_TARGET)


def serve_latency(kb: Path, serve: ServeProcess, entry: EntryFile,
                  repeat: int) -> tuple[float | None, str]:
    channel = wait_until_serving(serve)
    if channel is None:
        return None, "serve never said it was serving: " + " / ".join(serve.seen[-3:])
    page = served_page(kb, channel, entry.id, serve.started)
    if page is None:
        return None, (f"no page for {entry.id} in a {channel} folder serve wrote (looked in "
                      f".kbctl/serve and the temporary folder)")
    waits = []
    pauses = random.Random(7)  # the same pauses on every run
    for number in range(repeat):
        marker = f"kbctlbenchserve{number}x"
        # Saved right after a rebuild, every edit would land at the same point of serve's
        # polling cycle and always wait the whole interval; a writer saves at any moment.
        time.sleep(pauses.uniform(0, SERVE_PHASE_SPREAD))
        serve.drain()  # what serve says from now on is about this edit
        start = time.perf_counter()
        entry.write(f"{entry.original}\n{marker}\n")
        if not page_holds(page, marker.encode(), SERVE_EDIT_TIMEOUT):
            return None, f"the page never held the edit within {SERVE_EDIT_TIMEOUT:.0f} s"
        waits.append(time.perf_counter() - start)
        serve.next_line(SERVE_EDIT_TIMEOUT)  # the rebuild's own report: it has finished
    return statistics.median(waits), ""


def wait_until_serving(serve: ServeProcess) -> str | None:
    """The channel serve names in its "serving CHANNEL at URL" line, once it is ready."""
    deadline = time.monotonic() + SERVE_START_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        line = serve.next_line(left)
        if line is None:
            return None
        ready = re.match(r"serving (\S+) at ", line)
        if ready:
            return ready.group(1)
    return None


def served_page(kb: Path, channel: str, entry_id: str, since: float) -> Path | None:
    """The entry's page file in the channel folder serve builds: under the KB's cache folder,
    or a temporary one made since serve started; the manifest says which file is the page."""
    folders = [kb / ".kbctl" / "serve" / channel]
    fresh = [path for path in Path(tempfile.gettempdir()).glob(f"kbctl-serve-*/{channel}")
             if path.stat().st_mtime >= since]
    folders += sorted(fresh, key=lambda path: path.stat().st_mtime, reverse=True)
    for folder in folders:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        pages = [name for name in manifest.get("entries", {}).get(entry_id, [])
                 if name.endswith(".html")]
        if pages:
            return folder / pages[0]
    return None


def page_holds(page: Path, marker: bytes, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if marker in page.read_bytes():
                return True
        except OSError:
            pass  # between a folder swapped out and the new one in
        time.sleep(SERVE_POLL)
    return False


# -- the peer ------------------------------------------------------------------------------
def bench_hugo(kb: Path, repeat: int) -> list[Figure] | None:
    hugo = shutil.which("hugo")
    if not hugo:
        return None
    try:
        import pagefind  # noqa: F401
    except ImportError:
        pagefind_ok = False
    else:
        pagefind_ok = True
    site = kb.parent / f"{kb.name}-hugo"
    make_hugo_site(kb, site)
    public = site / "public"
    figures = [Figure.timing("hugo build (fresh output)", median_of(
        repeat, lambda: shutil.rmtree(public, ignore_errors=True), [hugo, "--quiet"], cwd=site))]
    if pagefind_ok:
        figures.append(Figure.timing("pagefind index", median_of(
            repeat, lambda: shutil.rmtree(public / "pagefind", ignore_errors=True),
            [sys.executable, "-m", "pagefind", "--site", str(public), "--silent"], cwd=site)))
    return figures


# -- the report ----------------------------------------------------------------------------
def line(figure: Figure, width: int, prefix: str = "kbctl ") -> str:
    label = f"  {prefix}{figure.name:<{width}}"
    if figure.value is None:
        return f"{label} {figure.note}"
    if figure.unit == "s":
        value = f"{figure.value:7.2f} s"
        if figure.peak_mib:
            value += f"   peak {figure.peak_mib:5d} MiB"
        target = f"target ≤ {figure.target:.1f} s" if figure.target is not None else figure.note
    else:
        value = f"{figure.value:7.0f} {figure.unit}"
        target = (f"target ≤ {figure.target:.0f} {figure.unit}" if figure.target is not None
                  else figure.note)
    return f"{label} {value:<28} {target:<18} {figure.verdict()}".rstrip()


def report(size: int, ours: list[Figure], peers: list[Figure] | None) -> None:
    print(f"\n== {size:,} entries ==")
    width = max(len(figure.name) for figure in [*ours, *(peers or [])])
    for figure in ours:
        print(line(figure, width))
    verdicts = [figure.verdict() for figure in ours if figure.verdict()]
    print(f"  targets met: {verdicts.count('ok')} of {len(verdicts)}")
    if not peers:
        print("  (hugo not installed: apt-get install hugo; pip install 'pagefind[extended]')")
        return
    for figure in peers:
        print(line(figure, width + len("kbctl "), prefix=""))
    peer = sum(figure.value or 0.0 for figure in peers)
    ours_site = next(f.value for f in ours if f.name == f"build --channel {SITE}, cold")
    ratio = (ours_site or 0.0) / peer
    print(f"  ratio kbctl {SITE} / (hugo + pagefind) = {ratio:.2f}  (target ≤ 1.5) "
          f"{'ok' if ratio <= 1.5 else 'MISSED'}")


def kb_size(text: str) -> int:
    size = int(text.replace(",", "").replace("_", ""))
    if size < 20:
        raise argparse.ArgumentTypeError("a size is at least 20 entries (the edits need a few)")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=kb_size, nargs="+", default=[1000, 10000],
                        help="entries per KB, e.g. 1000 10000 50000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kbctl-bench"))
    args = parser.parse_args()
    for size in args.sizes:
        kb = args.work / f"kb-{size}"
        if not (kb / "kbctl.yaml").exists():
            generate(kb, size, args.commits)
        report(size, bench_kbctl(kb, size, args.repeat), bench_hugo(kb, args.repeat))


if __name__ == "__main__":
    main()
