"""Stage timings for profiling a build: `KBCTL_TIMINGS=1 kbctl build` prints them to stderr."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

ENABLED = bool(os.environ.get("KBCTL_TIMINGS"))
_STARTED = time.perf_counter()


@contextmanager
def stage(name: str):
    if not ENABLED:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        now = time.perf_counter()
        print(f"kbctl timing: {name:<28} {now - start:7.3f} s  (at {now - _STARTED:6.2f} s)",
              file=sys.stderr)


def note(message: str) -> None:
    """A fact worth knowing when profiling (why a fast path was not taken)."""
    if ENABLED:
        print(f"kbctl timing: {message}", file=sys.stderr)
