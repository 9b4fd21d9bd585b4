"""Does a wave of exports starve the projector? The export queue against renders all at once.

In one process (as in one server replica): a "projector" thread does a slider move's pure
work (the four runs, the race figure, its JSON) every 0.2 s and times it, while ``--exports``
GIF renders are started at the same moment, either each in its own thread (as the app did:
each session rendered in its own script thread) or through :mod:`optviz.export_queue` with one
worker. Prints the projector's move time (p50/p95/max) in three phases (no exports, all at
once, queued) and when the last render finished.

    .venv/bin/python bench/export_contention.py [--exports 8] [--frames 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optviz import config, export, export_queue, figures, style  # noqa: E402

COMPARISON = config.Comparison(
    surface="rosenbrock",
    steps=1000,
    runs=(
        config.RunSpec("gd", {"lr": 0.001}),
        config.RunSpec("momentum", {"lr": 0.001, "beta1": 0.9}),
        config.RunSpec("adam", {"lr": 0.02}),
        config.RunSpec("rmsprop", {"lr": 0.01}),
    ),
)


def move(k: int) -> None:
    """What the server does for one η move, outside Streamlit: runs, figure, JSON."""
    runs = list(COMPARISON.runs)
    runs[0] = config.RunSpec("gd", {"lr": 0.001 * (1 + k % 50 / 100)})
    c = config.Comparison(surface="rosenbrock", steps=1000, runs=tuple(runs))
    trajs = config.run_comparison(c)
    fig = figures.race_figure(
        c.surface_obj(), trajs, [r.label() for r in c.runs], style.run_colors(4, False)
    )
    json.dumps(fig, default=lambda a: a.tolist())


def projector(stop: threading.Event, times: list[float]) -> None:
    k = 0
    while not stop.is_set():
        t0 = time.perf_counter()
        move(k)
        times.append(time.perf_counter() - t0)
        k += 1
        time.sleep(0.2)


def phase(name: str, start_exports, seconds: float) -> None:
    times: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=projector, args=(stop, times))
    thread.start()
    t0 = time.perf_counter()
    finished = start_exports()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and not (finished and finished()):
        time.sleep(0.05)
    took = time.perf_counter() - t0
    stop.set()
    thread.join()
    ms = sorted(1e3 * t for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"{name:28s} projector moves {len(ms):3d}: p50 {statistics.median(ms):5.0f} ms  "
        f"p95 {p95:5.0f} ms  max {ms[-1]:5.0f} ms"
        + (f"   last render done after {took:.1f} s" if finished else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=8)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    trajs = config.run_comparison(COMPARISON)
    opts = export.ExportOptions(width=800, height=600, frames=args.frames)
    export.export(COMPARISON, trajs, "gif", opts)  # fonts, caches
    move(0)

    def render(progress=None) -> bytes:
        return export.export(COMPARISON, trajs, "gif", opts, progress)

    def all_at_once():
        threads = [threading.Thread(target=render) for _ in range(args.exports)]
        for t in threads:
            t.start()
        return lambda: not any(t.is_alive() for t in threads)

    def queued():
        q = export_queue.ExportQueue(workers=1, max_waiting=args.exports)
        tickets = [q.submit(render) for _ in range(args.exports)]
        return lambda: all(t.done() for t in tickets)

    print(f"{args.exports} GIF renders ({args.frames} frames, 800×600) against a projector")
    phase("no exports", lambda: None, 8.0)
    phase(f"{args.exports} renders at once", all_at_once, 300.0)
    phase(f"{args.exports} renders, queue of 1", queued, 300.0)


if __name__ == "__main__":
    main()
