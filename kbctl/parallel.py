"""Spread independent per-entry work over the cores, in forked workers.

Forked workers inherit the loaded knowledge base instead of receiving it pickled, so only the
results cross a process boundary. Below `min_items`, or where fork is unavailable, the work runs
in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_TASK: tuple[Callable[[Sequence[Any]], list[Any]], Sequence[Any]] | None = None


def worker_count() -> int:
    override = os.environ.get("KBCTL_WORKERS")
    if override and override.isdigit():
        return max(1, int(override))
    return min(os.cpu_count() or 1, 8)


def fork_map(func: Callable[[Sequence[T]], list], items: Sequence[T], min_items: int = 300,
             meanwhile: Callable[[], None] | None = None) -> list:
    """`func(items)`, computed as contiguous chunks in parallel; results in the items' order.

    `func` takes a slice of `items` and returns one list for it; it may be a closure (it is
    inherited through fork, never pickled), but its results must pickle. `meanwhile` runs in
    this process while the workers work (work that does not depend on their results).
    """
    global _TASK
    workers = min(worker_count(), max(1, len(items) // max(1, min_items // 2)))
    if len(items) < min_items or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        results = func(items)
        if meanwhile is not None:
            meanwhile()
        return results
    size = -(-len(items) // workers)
    bounds = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _TASK = (func, items)
    try:
        with multiprocessing.get_context("fork").Pool(len(bounds)) as pool:
            pending = pool.map_async(_run_chunk, bounds, chunksize=1)
            if meanwhile is not None:
                meanwhile()
            parts = pending.get()
    finally:
        _TASK = None
    return [result for part in parts for result in part]


def _run_chunk(bounds: tuple[int, int]) -> list:
    assert _TASK is not None
    func, items = _TASK
    start, stop = bounds
    return func(items[start:stop])
