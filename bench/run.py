"""Benchmark kbctl on generated knowledge bases, side by side with Hugo + Pagefind.

    python bench/run.py [--sizes 1000 10000] [--repeat 3] [--work /tmp/kbctl-bench]

For each size it generates a KB with a git history (bench/generate.py), then prints medians
of whole-process runs: validate, health, cold full build, cold help-center build, no-change
rebuild, one-entry-edit rebuild, and peak memory; then the same pages through Hugo (Debian
`hugo`) and Pagefind (PyPI `pagefind[extended]`) when they are installed, and the ratios the
performance targets are stated in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate
from hugo_site import make_hugo_site

AS_OF = "2026-11-22"


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB of the process tree's largest process, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err[-500:]}")
    return wall, usage.ru_maxrss // 1024, code


def median_of(repeat: int, prepare, cmd, cwd=None) -> tuple[float, int]:
    walls, peaks = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        wall, peak, _ = timed(cmd, cwd)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), max(peaks)


def kbctl(kb: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "kbctl", "--root", str(kb), *args]


def bench_kbctl(kb: Path, repeat: int) -> dict[str, tuple[float, int]]:
    out = kb / "dist"
    cache = kb / ".kbctl"

    def cold():
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    edit_target = next((kb / "knowledge").rglob("*.md"))
    counter = iter(range(10**6))

    def edit():  # an answer's text: the interface stays, kbctl patches (kbctl/patch.py)
        with edit_target.open("a", encoding="utf-8") as handle:
            handle.write(f"\n编辑 {next(counter)}。\n")

    def replace_line(key: str, value: str) -> None:
        text = edit_target.read_text(encoding="utf-8")
        start = text.index(f"\n{key}: ") + 1
        end = text.index("\n", start)
        edit_target.write_text(f"{text[:start]}{key}: {value}{text[end:]}", encoding="utf-8")

    def retitle():  # a title: its card changes wherever it is listed, and lists sort again
        replace_line("title", f"改过的标题 {next(counter)}")

    def retag():  # its tags: it leaves its tag pages for a new one (the sitemap follows)
        replace_line("tags", f"[改过的标签{next(counter)}]")

    def recategorize():  # its category: counts, menus and crumbs move (a structural edit, built in full)
        now = edit_target.read_text(encoding="utf-8").split("\ncategory: ", 1)[1].split("\n", 1)[0]
        replace_line("category", "account/basics" if now == "billing" else "billing")

    build = kbctl(kb, "build", "--as-of", AS_OF, "--out", str(out))
    results = {
        "validate (cold)": median_of(repeat, lambda: shutil.rmtree(cache, ignore_errors=True),
                                     kbctl(kb, "validate", "--as-of", AS_OF)),
        "validate (cached)": median_of(repeat, None, kbctl(kb, "validate", "--as-of", AS_OF)),
        "health": median_of(repeat, None, kbctl(kb, "health", "--as-of", AS_OF)),
        "build all (cold)": median_of(repeat, cold, build),
        "build help-center (cold)": median_of(repeat, cold, [*build, "--channel", "help-center"]),
    }
    timed(build)
    results["rebuild, no change"] = median_of(repeat, None, build)
    results["rebuild, one answer edited"] = median_of(repeat, edit, build)
    results["rebuild, one title edited"] = median_of(repeat, retitle, build)
    results["rebuild, one entry's tags edited"] = median_of(repeat, retag, build)
    results["rebuild, one entry's category changed"] = median_of(repeat, recategorize, build)
    site_only = [*build, "--channel", "help-center"]
    timed(site_only)
    results["help-center, one answer edited"] = median_of(repeat, edit, site_only)
    results["help-center, one title edited"] = median_of(repeat, retitle, site_only)
    results["help-center, one entry's tags edited"] = median_of(repeat, retag, site_only)
    results["help-center, one entry's category changed"] = median_of(repeat, recategorize, site_only)
    return results


def bench_hugo(kb: Path, repeat: int) -> dict[str, tuple[float, int]] | None:
    hugo = shutil.which("hugo")
    try:
        import pagefind  # noqa: F401
    except ImportError:
        pagefind_ok = False
    else:
        pagefind_ok = True
    if not hugo:
        return None
    site = kb.parent / f"{kb.name}-hugo"
    make_hugo_site(kb, site)
    public = site / "public"
    results = {"hugo build (fresh output)": median_of(
        repeat, lambda: shutil.rmtree(public, ignore_errors=True), [hugo, "--quiet"], cwd=site)}
    if pagefind_ok:
        results["pagefind index"] = median_of(
            repeat, lambda: shutil.rmtree(public / "pagefind", ignore_errors=True),
            [sys.executable, "-m", "pagefind", "--site", str(public), "--silent"], cwd=site)
    return results


def report(size: int, ours: dict, peers: dict | None) -> None:
    print(f"\n== {size:,} entries ==")
    for name, (wall, peak) in ours.items():
        print(f"  kbctl {name:<42} {wall:7.2f} s   peak {peak:5d} MiB")
    if not peers:
        print("  (hugo not installed: apt-get install hugo; pip install 'pagefind[extended]')")
        return
    for name, (wall, peak) in peers.items():
        print(f"  {name:<48} {wall:7.2f} s   peak {peak:5d} MiB")
    peer = sum(wall for wall, _ in peers.values())
    ours_site = ours["build help-center (cold)"][0]
    print(f"  ratio kbctl help-center / (hugo + pagefind) = {ours_site / peer:.2f}  (target ≤ 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kbctl-bench"))
    args = parser.parse_args()
    for size in args.sizes:
        kb = args.work / f"kb-{size}"
        if not (kb / "kbctl.yaml").exists():
            generate(kb, size, args.commits)
        report(size, bench_kbctl(kb, args.repeat), bench_hugo(kb, args.repeat))


if __name__ == "__main__":
    main()
