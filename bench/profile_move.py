"""Where a slider move's server time goes: the app's script thread under a profiler.

Starts ``app.py`` in this process with every script run (full or fragment) profiled in its own
thread, drives one browser-less session from ``bench/load.py`` through ``--moves`` η moves, then
prints where the fragment reruns spent their time, and the size of what one move receives.
The default profiler is pyinstrument (sampling, 1 ms: little overhead, a call tree);
``--cprofile`` uses cProfile, which counts every call but inflates code made of many small
Python calls (session state, hashing) several times over.

    .venv/bin/python bench/profile_move.py [--moves 40] [--port 8705] [--cprofile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402 - the harness's session and page

PROFILE = cProfile.Profile()
SAMPLER: list = []  # the pyinstrument Profiler, when used
LOCK = threading.Lock()
RUNS = {"fragment": 0, "full": 0, "seconds": 0.0}


def patch_script_runner() -> None:
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script

    def profiled(self, rerun_data):  # noqa: ANN001, ANN202 - Streamlit's private signature
        kind = "fragment" if rerun_data.fragment_id_queue else "full"
        with LOCK:  # one script run at a time is profiled (one session here)
            t0 = time.perf_counter()
            if SAMPLER:
                SAMPLER[0].start()
            else:
                PROFILE.enable()
            try:
                return original(self, rerun_data)
            finally:
                if SAMPLER:
                    SAMPLER[0].stop()
                else:
                    PROFILE.disable()
                RUNS[kind] += 1
                RUNS["seconds"] += time.perf_counter() - t0

    script_runner.ScriptRunner._run_script = profiled


async def drive(url: str, moves: int) -> list[int]:
    """One new session, then ``moves`` η moves; the bytes received per move (the profile is
    reset after the session's first, full run)."""
    import random

    import websockets

    rng = random.Random(0)
    page = load.Page(query=load.query_for(0, True), url=url + "/")
    sizes = []
    async with websockets.connect(
        f"ws://{url.split('//', 1)[1]}/_stcore/stream", subprotocols=["streamlit"],
        origin=url, max_size=None, compression=None,
    ) as ws:  # fmt: skip
        await ws.send(page.backmsg(fragment=False))
        await load.read_run(ws, page, None, 0.0)
        with LOCK:
            PROFILE.clear()
            if SAMPLER:
                SAMPLER[0].reset()
            RUNS.update(fragment=0, seconds=0.0)
        for _ in range(moves):
            page.move(rng)
            await ws.send(page.backmsg(fragment=True))
            total = 0
            while True:
                raw = await ws.recv()
                total += len(raw)
                kind, detail = page.receive(raw)
                if kind == "finished":
                    break
            assert detail in load.FINISHED_OK, detail
            sizes.append(total)
            await asyncio.sleep(0.3)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--port", type=int, default=8705)
    parser.add_argument("--top", type=int, default=30, help="cProfile: functions shown")
    parser.add_argument("--cprofile", action="store_true", help="cProfile, not pyinstrument")
    args = parser.parse_args()
    if not args.cprofile:
        from pyinstrument import Profiler

        SAMPLER.append(Profiler(interval=0.001))
    patch_script_runner()
    from streamlit.web import cli

    url = f"http://127.0.0.1:{args.port}"
    sys.argv = [
        "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
        "--server.address=127.0.0.1", f"--server.port={args.port}",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
    ]  # fmt: skip

    def driver() -> None:
        try:
            while not load.healthy(url):
                time.sleep(0.3)
            asyncio.run(drive(url, 3))  # warm-up: compile, first page, caches
            sizes = asyncio.run(drive(url, args.moves))
            runs = RUNS["fragment"]
            out = io.StringIO()
            if SAMPLER:
                out.write(SAMPLER[0].output_text(unicode=True, color=False, show_all=False))
            else:
                pstats.Stats(PROFILE, stream=out).sort_stats("cumulative").print_stats(args.top)
            mean = 1e3 * RUNS["seconds"] / max(runs, 1)
            print(f"{runs} fragment runs profiled; mean {mean:.1f} ms per run (profiled)")
            print(f"received per move: median {sorted(sizes)[len(sizes) // 2] / 1e3:.0f} kB")
            print(out.getvalue(), flush=True)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the server runs in the main thread

    threading.Thread(target=driver, daemon=True).start()
    cli.main(standalone_mode=False)


if __name__ == "__main__":
    main()
