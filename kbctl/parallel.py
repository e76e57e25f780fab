"""Spread independent work over the cores, in forked workers: per-entry work (`fork_map`),
whole tasks such as one channel each (`fork_each`), and one task beside this process's own
(`in_background`).

Forked workers inherit the loaded knowledge base instead of receiving it pickled, so only the
results cross a process boundary. Below `min_items`, or where fork is unavailable, the work runs
in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any, TypeVar

T = TypeVar("T")

_TASK: tuple[Callable[[Sequence[Any]], list[Any]], Sequence[Any]] | None = None
_IN_CHILD = False  # this process is a child `fork_each` or `in_background` started


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


def fork_each(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Each task in a forked child of its own, `worker_count()` at a time; the results (which
    must pickle) in the tasks' order. Every task runs to its end; then the first exception a
    task raised, in order, is raised here. Without fork, or with one worker, in this process.

    Not `fork_map`'s pool: a task may itself use `fork_map`, and a pool's workers may have no
    children. Each child sends its outcome through a pipe of its own, read as soon as it is
    ready, so that no child waits long on a full pipe."""
    if len(tasks) < 2 or worker_count() < 2 or not hasattr(os, "fork"):
        return [task() for task in tasks]
    outcomes: dict[int, tuple[bool, Any]] = {}
    running: dict[Any, tuple[int, int]] = {}  # the child's pipe -> (its pid, its task's index)
    waiting = list(range(len(tasks)))
    try:
        while waiting or running:
            while waiting and len(running) < worker_count():
                index = waiting.pop(0)
                pipe, pid = _start(tasks[index])
                running[pipe] = (pid, index)
            for pipe in wait(list(running)):
                pid, index = running.pop(pipe)
                outcomes[index] = _outcome(pipe, pid)
    finally:
        for pipe, (pid, _) in running.items():  # interrupted: each child ends as it was told to
            pipe.close()
            os.waitpid(pid, 0)
    results = []
    for index in range(len(tasks)):
        ok, value = outcomes[index]
        if not ok:
            raise value
        results.append(value)
    return results


def in_background(task: Callable[[], T]) -> Callable[[], T]:
    """Start `task` in a forked child while this process goes on; the function returned waits
    for it and gives its result (or raises what it raised). Call it in every case, failures
    too: it reaps the child. Without fork, with one worker, or in a task's child (which shares
    the cores with its siblings already), the task runs when asked for."""
    if _IN_CHILD or worker_count() < 2 or not hasattr(os, "fork"):
        return task
    pipe, pid = _start(task)
    joined: list[tuple[bool, Any]] = []

    def result() -> T:
        if not joined:
            joined.append(_outcome(pipe, pid))
        ok, value = joined[0]
        if not ok:
            raise value
        return value

    return result


def _start(task: Callable[[], Any]) -> tuple[Any, int]:
    reader, writer = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid:
        writer.close()
        return reader, pid
    try:  # the child: its outcome to the pipe, then leave without the parent's exit code
        global _IN_CHILD
        _IN_CHILD = True
        reader.close()
        try:
            outcome: tuple[bool, Any] = (True, task())
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
            outcome = (False, exc)
        try:
            writer.send(outcome)
        except Exception as exc:  # noqa: BLE001 - a result or exception that cannot travel
            writer.send((False, RuntimeError(f"a forked task's outcome could not be sent: {exc}")))
    finally:
        os._exit(0)


def _outcome(pipe, pid: int) -> tuple[bool, Any]:
    """What the child sent; it leaves once it has."""
    try:
        outcome = pipe.recv()
    except (EOFError, OSError):
        outcome = (False, RuntimeError("a forked task ended without an outcome (killed?)"))
    finally:
        pipe.close()
        os.waitpid(pid, 0)
    return outcome
