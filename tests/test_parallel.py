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


def test_a_background_task_runs_beside_this_process_and_gives_its_result_once():
    from kbctl.parallel import in_background

    result = in_background(os.getpid)
    assert result() != os.getpid()
    assert result() == result()  # asked again: the same, the child already reaped


def test_a_background_task_raises_what_it_raised(monkeypatch):
    from kbctl.parallel import in_background

    def refuse() -> None:
        raise BuildRefused("refused in the background")

    result = in_background(refuse)
    with pytest.raises(BuildRefused, match="refused in the background"):
        result()


def test_with_one_worker_a_background_task_runs_here_when_asked(monkeypatch, tmp_path: Path):
    from kbctl.parallel import in_background

    monkeypatch.setenv("KBCTL_WORKERS", "1")
    marker = tmp_path / "ran"
    result = in_background(lambda: marker.write_text("x") and os.getpid())
    assert not marker.exists()
    assert result() == os.getpid()


def test_a_background_task_of_a_task_child_runs_in_that_child():
    """A child of `fork_each` shares the cores with its siblings: its background work is its own."""
    from kbctl.parallel import in_background

    def child() -> tuple[int, int]:
        return os.getpid(), in_background(os.getpid)()

    for own, background in fork_each([child, child]):
        assert own == background
