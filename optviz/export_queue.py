"""A small export queue: GIF/MP4 renders run a few at a time, in order, with a visible place.

Rendering an animation costs 1–5 s of CPU, most of it holding the GIL (matplotlib, Pillow).
Thirty students pressing "Render" at once would otherwise be thirty threads in one server
process, and every session on that process, the projector's too, would wait behind them. Here
a render is a job on a first-come queue served by ``workers`` threads (one by default, per
server process), so at most that many renders compete with the interactive sessions; the
others wait, and each waiting session can show how many renders are ahead of it.

Pure Python (``threading``), no Streamlit: the app calls :func:`run` from its script thread,
which waits and reports to a callback it gives; the job itself never touches the page.

    ticket = queue.submit(lambda progress: render(..., progress))
    ticket.position()   # renders ahead of it (0: running or done)
    ticket.result()     # waits; the job's value, or its exception raised here
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

Job = Callable[[Callable[[float], None]], Any]  # job(progress) -> value; progress(0…1)

WORKERS_ENV = "OPTVIZ_EXPORT_WORKERS"
MAX_WAITING = 32  # a class of 30 exporting at once fits; more is refused with a message


class QueueFull(RuntimeError):
    """Too many renders are waiting; the caller should try again later."""


class Cancelled(RuntimeError):
    """The ticket was cancelled before its job ran."""


class Ticket:
    """One job's place in an :class:`ExportQueue`."""

    def __init__(self, queue: ExportQueue, job: Job) -> None:
        self._queue = queue
        self._job = job
        self._done = threading.Event()
        self.state = "waiting"  # → "running" → "done" | "failed"; or "cancelled"
        self.progress = 0.0
        self._value: Any = None
        self._error: BaseException | None = None

    def position(self) -> int:
        """How many jobs are ahead of this one: waiting before it, or running (0 once it runs)."""
        return self._queue._position(self)

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job finished (or was cancelled); whether it did within ``timeout``."""
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Any:
        """The job's value (waiting for it); its exception is raised here."""
        if not self._done.wait(timeout):
            raise TimeoutError("the export is still queued or running")
        if self.state == "cancelled":
            raise Cancelled("the export was cancelled")
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> bool:
        """Take a waiting job off the queue; whether it was (a running job runs to its end)."""
        return self._queue._cancel(self)


class ExportQueue:
    """First-come, first-served jobs on ``workers`` daemon threads; at most ``max_waiting``
    jobs wait (not counting those running)."""

    def __init__(self, workers: int = 1, max_waiting: int = MAX_WAITING) -> None:
        if workers < 1 or max_waiting < 0:
            raise ValueError("workers must be ≥ 1 and max_waiting ≥ 0")
        self.workers = workers
        self.max_waiting = max_waiting
        self._lock = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._running: list[Ticket] = []
        self._threads: list[threading.Thread] = []

    def submit(self, job: Job) -> Ticket:
        """Queue ``job``; raises :class:`QueueFull` when ``max_waiting`` jobs already wait."""
        with self._lock:
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull(
                    f"{len(self._waiting)} exports are waiting already; try again in a minute"
                )
            ticket = Ticket(self, job)
            self._waiting.append(ticket)
            while len(self._threads) < self.workers:  # started on first use
                thread = threading.Thread(target=self._work, name="optviz-export", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._lock.notify()
            return ticket

    def status(self) -> tuple[int, int]:
        """(running, waiting) jobs now."""
        with self._lock:
            return len(self._running), len(self._waiting)

    def _position(self, ticket: Ticket) -> int:
        with self._lock:
            if ticket.state != "waiting":
                return 0
            return len(self._running) + self._waiting.index(ticket)

    def _cancel(self, ticket: Ticket) -> bool:
        with self._lock:
            if ticket.state != "waiting":
                return False
            self._waiting.remove(ticket)
            ticket.state = "cancelled"
            ticket._done.set()
            return True

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                ticket = self._waiting.popleft()
                ticket.state = "running"
                self._running.append(ticket)

            def progress(fraction: float, ticket: Ticket = ticket) -> None:
                ticket.progress = min(max(float(fraction), 0.0), 1.0)

            try:
                ticket._value = ticket._job(progress)
                ticket.state = "done"
            except BaseException as e:  # noqa: BLE001 - handed to the caller by result()
                ticket._error = e
                ticket.state = "failed"
            finally:
                with self._lock:
                    self._running.remove(ticket)
                ticket._done.set()


def run(
    queue: ExportQueue,
    job: Job,
    show: Callable[[str, float], None],
    poll: float = 0.1,
) -> Any:
    """Submit ``job`` and wait for its value, calling ``show(text, fraction)`` as it waits
    ("2 exports ahead of yours…") and runs ("Rendering…", its progress). If ``show`` raises
    (the page went away, or the user started something else), a waiting job is cancelled."""
    ticket = queue.submit(job)
    try:
        last = None
        while not ticket.wait(poll):
            ahead = ticket.position()
            now = (
                (f"Waiting: {ahead} export{'s' if ahead != 1 else ''} ahead of yours…", 0.0)
                if ticket.state == "waiting"
                else ("Rendering…", ticket.progress)
            )
            if now != last:
                show(*now)
                last = now
        return ticket.result()
    finally:
        ticket.cancel()  # no-op unless it is still waiting


_shared: ExportQueue | None = None
_shared_lock = threading.Lock()


def shared() -> ExportQueue:
    """This server process's queue (``OPTVIZ_EXPORT_WORKERS`` workers, default 1)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            try:
                workers = max(1, int(os.environ.get(WORKERS_ENV, "1")))
            except ValueError:
                workers = 1
            _shared = ExportQueue(workers)
        return _shared
