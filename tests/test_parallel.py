"""kbctl/parallel.py `fork_each`: whole tasks (one channel each) side by side in forked children."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kbctl.errors import BuildRefused
from kbctl.parallel import fork_each, fork_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork_each runs tasks in this process without fork")


@pytest.fixture(autouse=True)
def two_workers(monkeypatch):
    monkeypatch.setenv("KBCTL_WORKERS", "2")


def test_results_come_back_in_the_tasks_order_each_from_another_process():
    tasks = [lambda n=n: (n, os.getpid()) for n in range(5)]
    results = fork_each(tasks)
    assert [n for n, _ in results] == list(range(5))
    assert os.getpid() not in {pid for _, pid in results}


def test_a_task_may_spread_its_own_work_over_workers():
    def squares() -> list[int]:
        return fork_map(lambda chunk: [n * n for n in chunk], list(range(1000)), min_items=10)

    assert fork_each([squares, squares]) == [[n * n for n in range(1000)]] * 2


def test_every_task_ends_before_the_first_failure_is_raised_as_it_was(tmp_path: Path):
    def refuse() -> None:
        raise BuildRefused("refused in a child", diagnostics=["a finding"], entries=3)

    def mark(name: str):
        def task() -> str:
            (tmp_path / name).write_text("done")
            return name
        return task

    with pytest.raises(BuildRefused) as raised:
        fork_each([mark("first"), refuse, mark("last")])
    assert str(raised.value) == "refused in a child"
    assert raised.value.diagnostics == ["a finding"] and raised.value.entries == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "last"]


def test_a_child_that_dies_without_an_outcome_is_a_failure():
    with pytest.raises(RuntimeError, match="without an outcome"):
        fork_each([lambda: 1, lambda: os._exit(9)])


def test_with_one_worker_the_tasks_run_here(monkeypatch):
    monkeypatch.setenv("KBCTL_WORKERS", "1")
    assert fork_each([os.getpid, os.getpid]) == [os.getpid()] * 2
