"""The export queue: bounded concurrency, first come first served, positions, cancel, errors."""

from __future__ import annotations

import threading
import time

import pytest

from optviz import export_queue
from optviz.export_queue import Cancelled, ExportQueue, QueueFull

WAIT = 10.0  # seconds; every wait below is bounded


def blocking_job(gate: threading.Event, log: list, name: str, active: list, peak: list):
    def job(progress):
        active.append(name)
        peak.append(len(active))
        progress(0.5)
        assert gate.wait(WAIT)
        active.remove(name)
        log.append(name)
        return name

    return job


def until(condition, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@pytest.mark.parametrize("workers", [1, 2])
def test_at_most_workers_run_and_the_rest_wait_in_order(workers: int) -> None:
    q = ExportQueue(workers=workers)
    gates = [threading.Event() for _ in range(5)]
    log, active, peak = [], [], []
    tickets = [q.submit(blocking_job(g, log, f"j{i}", active, peak)) for i, g in enumerate(gates)]
    until(lambda: q.status() == (workers, 5 - workers))
    # Positions: running jobs are at 0; a waiting one has the running ones and earlier
    # waiting ones ahead of it.
    assert [t.position() for t in tickets] == [0] * workers + [
        workers + k for k in range(5 - workers)
    ]
    assert [t.state for t in tickets] == ["running"] * workers + ["waiting"] * (5 - workers)
    for gate in gates:
        gate.set()
        time.sleep(0.01)
    assert [t.result(WAIT) for t in tickets] == [f"j{i}" for i in range(5)]
    assert max(peak) == workers
    if workers == 1:
        assert log == [f"j{i}" for i in range(5)]  # first come, first served
    assert q.status() == (0, 0)


def test_positions_move_up_as_jobs_finish() -> None:
    q = ExportQueue(workers=1)
    gates = [threading.Event() for _ in range(3)]
    log, active, peak = [], [], []
    tickets = [q.submit(blocking_job(g, log, f"j{i}", active, peak)) for i, g in enumerate(gates)]
    until(lambda: tickets[0].state == "running")
    assert tickets[0].progress == 0.5
    assert [t.position() for t in tickets] == [0, 1, 2]
    gates[0].set()
    until(lambda: tickets[1].state == "running")
    assert [t.position() for t in tickets] == [0, 0, 1]
    gates[1].set()
    gates[2].set()
    assert tickets[2].result(WAIT) == "j2"


def test_a_full_queue_refuses_with_a_message() -> None:
    q = ExportQueue(workers=1, max_waiting=2)
    gate = threading.Event()
    log, active, peak = [], [], []
    first = q.submit(blocking_job(gate, log, "a", active, peak))
    until(lambda: first.state == "running")
    q.submit(blocking_job(gate, log, "b", active, peak))
    q.submit(blocking_job(gate, log, "c", active, peak))
    with pytest.raises(QueueFull, match="2 exports are waiting"):
        q.submit(blocking_job(gate, log, "d", active, peak))
    gate.set()
    until(lambda: q.status() == (0, 0))
    assert sorted(log) == ["a", "b", "c"]


def test_cancel_takes_a_waiting_job_off_and_never_runs_it() -> None:
    q = ExportQueue(workers=1)
    gate = threading.Event()
    log, active, peak = [], [], []
    first = q.submit(blocking_job(gate, log, "a", active, peak))
    until(lambda: first.state == "running")
    second = q.submit(blocking_job(gate, log, "b", active, peak))
    third = q.submit(blocking_job(gate, log, "c", active, peak))
    assert third.position() == 2
    assert second.cancel()
    assert third.position() == 1
    assert not first.cancel()  # a running job runs to its end
    with pytest.raises(Cancelled):
        second.result(WAIT)
    gate.set()
    assert third.result(WAIT) == "c"
    assert log == ["a", "c"]


def test_a_failing_job_raises_in_the_caller_and_the_worker_carries_on() -> None:
    q = ExportQueue(workers=1)

    def bad(progress):
        raise ValueError("no frames")

    failed = q.submit(bad)
    ok = q.submit(lambda progress: 42)
    with pytest.raises(ValueError, match="no frames"):
        failed.result(WAIT)
    assert failed.state == "failed"
    assert ok.result(WAIT) == 42


def test_run_shows_the_place_then_the_progress_and_returns_the_value() -> None:
    q = ExportQueue(workers=1)
    gate = threading.Event()
    log, active, peak = [], [], []
    first = q.submit(blocking_job(gate, log, "a", active, peak))
    until(lambda: first.state == "running")
    shown: list[tuple[str, float]] = []

    def job(progress):
        progress(0.25)
        time.sleep(0.1)
        progress(1.0)
        return b"gif"

    def show(text: str, fraction: float) -> None:
        shown.append((text, fraction))
        if len(shown) == 1:
            gate.set()  # the first render finishes once ours showed its place

    assert export_queue.run(q, job, show, poll=0.01) == b"gif"
    assert shown[0] == ("Waiting: 1 export ahead of yours…", 0.0)
    assert any(text == "Rendering…" and f > 0 for text, f in shown[1:])


def test_run_cancels_a_waiting_job_when_the_page_goes_away() -> None:
    q = ExportQueue(workers=1)
    gate = threading.Event()
    log, active, peak = [], [], []
    first = q.submit(blocking_job(gate, log, "a", active, peak))
    until(lambda: first.state == "running")

    class PageGone(Exception):
        pass

    def show(text: str, fraction: float) -> None:
        raise PageGone

    with pytest.raises(PageGone):
        export_queue.run(q, blocking_job(gate, log, "b", active, peak), show, poll=0.01)
    assert q.status() == (1, 0)  # ours left the queue
    gate.set()
    until(lambda: q.status() == (0, 0))
    assert log == ["a"]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        ExportQueue(workers=0)
