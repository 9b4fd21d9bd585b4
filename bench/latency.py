"""Slider → redrawn chart latency in real Chromium: optviz against a trivial one-chart app.

Starts ``bench/trivial_app.py`` (one slider, one small chart) and ``app.py`` with 4 optimizers ×
1000 steps, moves a slider N times in each (one key press on the slider's range input, always
to a value not seen before, so nothing is served from a cache), and measures the time from the
key press to the moment the chart shows the new data: the trivial chart's trace data changed,
or the race chart counted one more figure drawn (after its canvas redraw). Also counts the
websocket bytes the server sends per interaction.

    .venv/bin/python bench/latency.py [--moves 16] [--projection] [--glyphs] [--view curvature]

optviz's η slider has 19 round stops (1, 2, 5 × 10ᵏ from 10⁻⁵ to 10), so run 1 starts at the
lowest and 16 counted moves plus 2 warm-up moves are all the distinct values it has.

With ``--projection`` optviz is measured in projection mode (the optimizers panel is then a
drawer at the window's edge; its slider still takes the key press). With ``--glyphs`` the state
glyphs are on (key ``s`` before the first move: every move then also carries each run's
momentum arrow, computed from a recorded run). ``--view NAME`` opens that view beside the race
first (``curvature``: every move also carries the eigenvalues along each path).

Target (issue 3): optviz p95 ≤ trivial p95 + 100 ms.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
OPTVIZ_QUERY = (
    "surface=rosenbrock&steps=1000&o0=gd&o0.lr=0.00001&o1=momentum&o1.lr=0.0001"
    "&o2=adam&o2.lr=0.01&o3=rmsprop&o3.lr=0.001"
)
CHART = ".js-plotly-plot"  # st.plotly_chart's in the page, or the race chart's in its iframe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("streamlit")), "run", str(script),
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{script} did not start")


def chart_frame(page):
    """The frame that holds the chart: optviz's race chart component, else the page."""
    for frame in page.frames:
        if "race_chart" in frame.url:
            return frame
    return page.main_frame


# What the chart shows, as text: the race chart counts the figures it has drawn; for a plain
# st.plotly_chart, the data of its first trace.
SNAPSHOT = """() => {
    if (window.race) return String(window.race.renders);
    const gd = document.querySelector('.js-plotly-plot');
    return gd && gd.data ? JSON.stringify([gd.data[0].x, gd.data[0].y]) : '';
}"""


def measure(
    browser, url: str, moves: int, glyphs: bool = False, view: str | None = None,
    alternate: bool = False,
) -> tuple:  # fmt: skip
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    received = [0]

    def on_ws(ws) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_ws)
    page.goto(url)
    page.wait_for_selector("[data-testid=stSlider]", timeout=120_000)
    page.wait_for_timeout(1500)
    frame = chart_frame(page)
    frame.wait_for_selector(CHART, timeout=60_000)
    if view:
        frame.locator(f"#viewtabs button[data-view='{view}']").click()
        frame.wait_for_function(
            "(v) => race.view.ready && race.view.ready.layout.meta.kind === v", arg=view,
            timeout=60_000,
        )  # fmt: skip
    if glyphs:
        page.keyboard.press("s")  # before the slider has the focus (it would take the key)
        frame.wait_for_function("() => race.extras && race.extras.state", timeout=60_000)
    page.wait_for_timeout(500)
    slider = page.locator("[data-testid=stSlider] input[type=range]").first
    slider.focus()
    times, sizes = [], []
    for i in range(moves + 2):  # the first two are warm-up and not counted
        if alternate:  # glyphs on for odd moves, off for even ones (toggled between moves)
            want = i % 2 == 1
            if frame.evaluate("race.glyphs") != want:
                frame.evaluate("toggleGlyphs()")
                frame.wait_for_function(
                    "(on) => Boolean(race.extras && race.extras.state) === on", arg=want,
                    timeout=60_000,
                )  # fmt: skip
                page.wait_for_timeout(400)
                slider.focus()
        old = frame.evaluate(SNAPSHOT)
        received[0] = 0
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        frame.wait_for_function(
            f"(old) => ({SNAPSHOT})() !== old", arg=old, polling="raf", timeout=30_000
        )
        times.append(time.perf_counter() - t0)
        page.wait_for_timeout(250)  # let the run finish before the next press
        sizes.append(received[0])
    page.close()
    return times[2:], sizes[2:]


def summary(name: str, times: list[float], sizes: list[int]) -> tuple[float, float]:
    ms = sorted(1e3 * t for t in times)
    median = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    kb = statistics.median(sizes) / 1e3
    print(
        f"{name:8s} n={len(ms)}  median {median:6.0f} ms  p95 {p95:6.0f} ms  "
        f"min {ms[0]:5.0f}  max {ms[-1]:5.0f}  sent per move ≈ {kb:.0f} kB"
    )
    return median, p95


def ab(args: argparse.Namespace, query: str) -> None:
    """Glyphs off and on, alternating between the moves of one page (see the module doc): the
    η slider's 16 counted moves, 8 each."""
    app, app_url = start(ROOT / "app.py")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            times, sizes = measure(
                browser, f"{app_url}/?{query}", args.moves, view=args.view, alternate=True
            )  # fmt: skip
            browser.close()
    finally:
        app.kill()
        app.wait(timeout=10)
    mode = "projection mode" if args.projection else "normal mode"
    print(f"slider → redrawn chart, 1920×1080, optviz in {mode}, glyphs off/on alternately")
    # The counted moves start at move 2, an even one: off.
    _, off95 = summary("off", times[0::2], sizes[0::2])
    _, on95 = summary("on", times[1::2], sizes[1::2])
    print(f"p95 with glyphs on − off: {on95 - off95:+.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=16)
    parser.add_argument("--projection", action="store_true", help="optviz in projection mode")
    parser.add_argument("--glyphs", action="store_true", help="optviz with the state glyphs on")
    parser.add_argument(
        "--ab-glyphs", action="store_true", help="optviz alone, glyphs off/on alternately"
    )
    parser.add_argument("--view", default=None, help="view beside the race, e.g. curvature")
    args = parser.parse_args()
    query = OPTVIZ_QUERY + ("&proj=1" if args.projection else "")
    if args.ab_glyphs:
        ab(args, query)
        return
    trivial, trivial_url = start(ROOT / "bench" / "trivial_app.py")
    app, app_url = start(ROOT / "app.py")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            t_times, t_sizes = measure(browser, trivial_url, args.moves)
            o_times, o_sizes = measure(
                browser, f"{app_url}/?{query}", args.moves, args.glyphs, args.view
            )
            browser.close()
    finally:
        for proc in (trivial, app):
            proc.kill()
            proc.wait(timeout=10)
    mode = "projection mode" if args.projection else "normal mode"
    mode += ", state glyphs on" if args.glyphs else ""
    mode += f", view {args.view}" if args.view else ""
    print(f"slider → redrawn chart, 1920×1080, Chromium headless, optviz in {mode}")
    _, t95 = summary("trivial", t_times, t_sizes)
    _, o95 = summary("optviz", o_times, o_sizes)
    verdict = "meets" if o95 <= t95 + 100 else "MISSES"
    print(f"p95 difference {o95 - t95:+.0f} ms ({verdict} the target of ≤ +100 ms)")


if __name__ == "__main__":
    main()
