"""The app in a real browser (Debian's chromium through Playwright): what a lecturer does.

Starts ``streamlit run app.py`` on a free port, loads the page, runs a preset, moves a slider,
clicks on the contour, toggles projection mode and checks what is visible. Screenshots go to
the test's temporary folder (``--basetemp`` keeps them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RACE_FRAME = "race_chart"  # in the URL of the race chart component's iframe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(script: Path, port: int) -> subprocess.Popen:
    """``streamlit run`` as a subprocess; returns once /_stcore/health answers 200."""
    streamlit = Path(sys.executable).with_name("streamlit")
    proc = subprocess.Popen(
        [
            str(streamlit), "run", str(script), "--server.headless=true",
            "--server.address=127.0.0.1", f"--server.port={port}",
            "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 90 s")


@pytest.fixture(scope="module")
def server():
    if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
        pytest.skip("no /usr/bin/chromium (install it with `make chromium`)")
    port = free_port()
    proc = start_app(ROOT / "app.py", port)
    yield f"http://127.0.0.1:{port}"
    proc.kill()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def race_frame(page):
    """The race chart component's frame, once it has drawn a figure."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for frame in page.frames:
            if RACE_FRAME in frame.url:
                frame.wait_for_function(
                    "() => window.race && window.race.renders > 0", timeout=90_000
                )
                return frame
        page.wait_for_timeout(200)
    raise AssertionError("no race chart on the page")


def open_app(browser, url: str, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    race_frame(page)
    wait_idle(page)
    return page


def wait_idle(page, timeout: float = 60_000) -> None:
    """Until Streamlit's script run ends (the status widget stops saying "Running")."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')"
        " || !document.querySelector('[data-testid=stStatusWidget]').innerText.includes('Running')",
        timeout=timeout,
    )
    page.wait_for_timeout(200)


def run_path(frame, name_part: str) -> list | None:
    """The x coordinates of the run whose label contains ``name_part``, as the chart has them."""
    return frame.evaluate(
        "(part) => { const r = race.runs.find(r => r.label.includes(part));"
        " return r ? Array.from(r.x) : null; }",
        name_part,
    )


def head_pixels(frame) -> list[dict]:
    """The heads inside the contour panel that no later run's head covers (drawn over it),
    each checked to be drawn in its run's colour on the canvas at its point."""
    heads = frame.evaluate(
        """() => {
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const ctx = canvas.getContext('2d'), ratio = canvas.width / gd._fullLayout.width;
            const heads = race.runs.filter(r => !r.hidden).map(r => {
                const i = Math.min(race.k, r.x.length - 1);
                return {color: r.color, px: (xa._offset + xa.c2p(r.x[i])) * ratio,
                        py: (ya._offset + ya.c2p(r.y[i])) * ratio};
            });
            const reach = race.style.headSize * ratio;
            const inside = (h) => h.px >= xa._offset * ratio && h.py >= ya._offset * ratio
                && h.px <= (xa._offset + xa._length) * ratio
                && h.py <= (ya._offset + ya._length) * ratio;
            return heads.filter((h, i) => inside(h) && heads.slice(i + 1).every(
                g => Math.hypot(g.px - h.px, g.py - h.py) > reach)).map(h => ({
                color: h.color, pixel: Array.from(ctx.getImageData(h.px, h.py, 1, 1).data)}));
        }"""
    )
    for head in heads:
        rgb = head["pixel"][:3]
        assert max(abs(a - b) for a, b in zip(rgb, hex_rgb(head["color"]), strict=True)) < 40, head
    return heads


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def choose_preset(page, title: str) -> None:
    page.get_by_role("combobox", name="Lecture scenario (preset)").click()
    page.get_by_role("option", name=title).click()
    page.get_by_text(title).first.wait_for()
    wait_idle(page)


def test_lecture_flow(browser, server, tmp_path):
    page = open_app(browser, server)
    assert page.get_by_text("Narrow ravine").first.is_visible()
    page.screenshot(path=tmp_path / "1-start-1920.png")

    # A preset loads its comparison and its description.
    choose_preset(page, "Plateau: GD crawls, RMSProp and Adam walk")
    assert page.get_by_text("A wide flat plateau around a well").is_visible()
    assert "surface=plateau" in page.url
    frame = race_frame(page)
    frame.wait_for_function(
        "() => race.runs.some(r => r.label.includes('RMSProp'))", timeout=30_000
    )
    before = run_path(frame, "RMSProp")
    other = run_path(frame, "Adam")
    page.screenshot(path=tmp_path / "2-preset-1920.png")

    # Show the RMSProp run in the optimizers panel and move its η slider with the keyboard.
    page.locator(".st-key-run button").filter(has_text="RMSProp").click()
    wait_idle(page)
    renders = frame.evaluate("race.renders")
    slider = page.locator("[data-testid=stMain] [data-testid=stSlider]").first
    slider.locator("input[type=range]").focus()
    page.keyboard.press("ArrowLeft")
    frame.wait_for_function(f"() => race.renders > {renders}", timeout=30_000)
    wait_idle(page)
    assert "o2.lr=0.005" in page.url
    assert run_path(frame, "RMSProp") != before
    assert run_path(frame, "Adam") == other, "the other runs' paths do not move"
    assert frame.get_by_text("RMSProp η=0.005").is_visible(), "the legend names the new η"

    # Scrub to step 10: every run's head is drawn at its row 10, in its colour.
    frame.locator("#scrub").fill("10")
    assert frame.evaluate("race.k") == 10
    assert frame.get_by_text("step 10 /").is_visible()
    assert len(head_pixels(frame)) >= 2

    # Zoomed in, the canvas follows Plotly's axes; hovering a point names its run and step.
    frame.evaluate(
        """() => {  // a view half as wide, centred on the RMSProp head
            const r = race.runs.find(r => r.label.includes('RMSProp')), i = race.k;
            const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
            const hx = (x1 - x0) / 4, hy = (y1 - y0) / 4;
            return Plotly.relayout(gd, {'xaxis.range': [r.x[i] - hx, r.x[i] + hx],
                                        'yaxis.range': [r.y[i] - hy, r.y[i] + hy]});
        }"""
    )
    assert len(head_pixels(frame)) >= 1
    head = frame.evaluate(
        """() => { const r = race.runs.find(r => r.label.includes('RMSProp'));
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, i = race.k;
            const box = gd.getBoundingClientRect();
            return {x: box.left + xa._offset + xa.c2p(r.x[i]),
                    y: box.top + ya._offset + ya.c2p(r.y[i])}; }"""
    )
    box = page.locator(f"iframe[src*='{RACE_FRAME}']").bounding_box()
    page.mouse.move(box["x"] + head["x"], box["y"] + head["y"])
    tooltip = frame.locator("#tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "RMSProp" in tooltip.inner_text() and "step 10" in tooltip.inner_text()
    frame.evaluate("Plotly.relayout(gd, {'xaxis.autorange': true, 'yaxis.autorange': true})")

    # Step by step, with arrows: one step forward, then −∇f (dashed, black arrowhead) at a head.
    frame.get_by_role("button", name="▶", exact=True).click()
    assert frame.evaluate("race.k") == 11
    frame.get_by_role("button", name="−∇f · step").click()
    tip = frame.evaluate(
        """() => {  // a pixel inside the −∇f arrowhead of the RMSProp run
            const r = race.runs.find(r => r.label.includes('RMSProp')), i = race.k;
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const px = v => xa._offset + xa.c2p(v), py = v => ya._offset + ya.c2p(v);
            const dx = px(r.x[i] - r.gx[i]) - px(r.x[i]), dy = py(r.y[i] - r.gy[i]) - py(r.y[i]);
            const n = Math.hypot(dx, dy);
            const reach = 3.5 * race.style.headSize * race.geometry.scale - 2;
            const ratio = canvas.width / gd._fullLayout.width;
            const x = (px(r.x[i]) + reach * dx / n) * ratio;
            const y = (py(r.y[i]) + reach * dy / n) * ratio;
            return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
        }"""
    )
    rms = hex_rgb(frame.evaluate("race.runs.find(r => r.label.includes('RMSProp')).color"))
    assert max(abs(a - b) for a, b in zip(tip[:3], rms, strict=True)) < 60, (
        f"the −∇f arrowhead is drawn in the run's colour (pixel {tip}, colour {rms})"
    )

    # Play runs the race from step 11 to the end.
    frame.get_by_role("button", name="▶ Play").click()
    frame.wait_for_function("() => race.playing && race.k > 11", timeout=10_000)
    frame.wait_for_function("() => !race.playing && race.k === race.last", timeout=20_000)

    # A click on the contour sets the start point (once picking is on).
    page.get_by_text("Pick the start by clicking on the plot").click()
    frame.wait_for_function("() => race.pick", timeout=30_000)
    wait_idle(page)
    frame = race_frame(page)
    start_x = page.get_by_label("start x")
    old_x = start_x.input_value()
    target = frame.evaluate(
        """() => {
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const r = gd.getBoundingClientRect();
            return {x: r.left + xa._offset + 0.3 * xa._length,
                    y: r.top + ya._offset + 0.6 * ya._length,
                    gx: xa.p2l(0.3 * xa._length), gy: ya.p2l(0.6 * ya._length)};
        }"""
    )
    box = page.locator(f"iframe[src*='{RACE_FRAME}']").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function(
        "([old]) => { const e = [...document.querySelectorAll('input')].find("
        "i => i.getAttribute('aria-label') === 'start x'); return e && e.value !== old; }",
        arg=[old_x],
        timeout=30_000,
    )
    wait_idle(page)
    assert float(start_x.input_value()) == pytest.approx(target["gx"], abs=0.05)
    assert float(page.get_by_label("start y").input_value()) == pytest.approx(
        target["gy"], abs=0.05
    )
    page.screenshot(path=tmp_path / "3-clicked-1920.png")

    # Projection mode: bigger figure font, no Streamlit header, in the URL.
    font = frame.evaluate("gd._fullLayout.font.size")
    frame.evaluate("window.kept = true")  # the same chart redraws: no iframe reload
    page.get_by_text("Projection mode").click()
    frame.wait_for_function(f"() => gd._fullLayout.font.size > {font}", timeout=30_000)
    assert frame.evaluate("window.kept")
    wait_idle(page)
    page.wait_for_timeout(500)
    assert head_pixels(frame), "the runs are drawn in projection mode too"
    assert "proj=1" in page.url
    assert not page.locator("header[data-testid=stHeader]").is_visible()
    page.screenshot(path=tmp_path / "4-projection-1920.png")

    # A reloaded chart frame was not sent the surface image: it asks for it and gets it.
    frame.evaluate("location.reload()")
    frame.wait_for_function("() => window.race && race.renders > 0 && race.image", timeout=30_000)
    page.close()


# One sample of what the page shows, taken in the chart's frame over ~300 ms of animation frames:
# the smallest trajectory and loss boxes seen, and where the plot and the controls are in the
# window. A chart that blanks for a moment shows up as a 0 here.
MEASURE = """async () => {
    const p = window.parent, fr = window.frameElement.getBoundingClientRect();
    const W = p.innerWidth, H = p.innerHeight;
    let worst = null;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
        await new Promise(r => requestAnimationFrame(r));
        const l = gd._fullLayout;
        const xa = l.xaxis, ya = l.yaxis, x2 = l.xaxis2, y2 = l.yaxis2;
        const st = document.getElementById('stage').getBoundingClientRect();
        const s = {traj: xa._length * ya._length, loss: x2._length * y2._length,
                   top: fr.top + st.top + ya._offset,
                   bottom: fr.top + st.top + ya._offset + ya._length,
                   left: fr.left + st.left + xa._offset,
                   right: fr.left + st.left + xa._offset + xa._length,
                   inFrame: st.top + ya._offset + ya._length <= window.innerHeight + 1,
                   canvas: canvas.height > 0 && canvas.width > 0};
        if (!worst || s.traj < worst.traj) worst = s;
    }
    const ids = ['play', 'scrub', 'step', 'back', 'forward', 'arrows', 'full', 'helpbutton'];
    const controls = ids.map(id => {
        const b = document.getElementById(id).getBoundingClientRect();
        return {id, x0: fr.left + b.left, y0: fr.top + b.top,
                x1: fr.left + b.right, y1: fr.top + b.bottom};
    });
    return Object.assign(worst, {W, H, controls, projection: race.projection});
}"""


def check_layout(m: dict, projection: bool, where: str) -> None:
    area = m["W"] * m["H"]
    assert m["traj"] > 0 and m["canvas"], f"{where}: the trajectory plot is blank: {m}"
    assert m["traj"] >= (0.30 if projection else 0.15) * area, f"{where}: too small: {m}"
    assert m["traj"] >= m["loss"], f"{where}: the loss plot is larger: {m}"
    assert m["inFrame"], f"{where}: the plot is clipped by its frame: {m}"
    assert m["top"] >= 0 and m["left"] >= 0 and m["right"] <= m["W"], f"{where}: {m}"
    if projection or m["H"] >= 1000:  # the whole square on screen
        assert m["bottom"] <= m["H"] + 1, f"{where}: the plot leaves the window: {m}"
    for c in m["controls"]:
        assert c["x1"] > c["x0"] and c["y1"] > c["y0"], f"{where}: {c['id']} not shown"
        assert c["x0"] >= 0 and c["y0"] >= 0 and c["x1"] <= m["W"] and c["y1"] <= m["H"], (
            f"{where}: {c['id']} outside the window {m['W']}×{m['H']}: {c}"
        )


SIX = "o0=gd&o1=momentum&o2=nesterov&o3=rmsprop&o4=adam&o5=adagrad"
ROSEN = "surface=rosenbrock&steps=300&o0=gd&o0.lr=0.001&o1=adam&o1.lr=0.05&o2=newton&o3=bfgs"


@pytest.mark.parametrize(
    ("width", "height", "query"),
    [(1280, 720, "o0=gd"), (1366, 768, ROSEN), (1920, 1080, SIX)],
    ids=["1280x720-1run", "1366x768-4runs", "1920x1080-6runs"],
)
def test_projection_toggles_never_blank(browser, server, tmp_path, width, height, query):
    """20 toggles in a row, the first right after the page loaded, keyboard ``p`` on the page."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server}/?{query}")
    frame = race_frame(page)
    page.mouse.move(width / 2, height / 2)  # away from the drawers at the edges
    for i in range(21):
        projection = frame.evaluate("race.projection")
        where = f"{width}×{height} toggle {i} projection={projection}"
        m = frame.evaluate(MEASURE)  # while the page is still moving around the chart
        assert m["traj"] > 0 and m["canvas"], f"{where}: the trajectory plot is blank: {m}"
        frame.wait_for_function("() => race.settled()", timeout=10_000)
        check_layout(frame.evaluate(MEASURE), projection, where)
        if i in (0, 1):
            mode = "projection" if projection else "normal"
            page.screenshot(path=tmp_path / f"{width}x{height}-{mode}.png")
        if i == 20:
            break
        page.keyboard.press("p")
        frame.wait_for_function(
            f"() => race.projection === {'false' if projection else 'true'}", timeout=30_000
        )
    # A window resized under the chart: a new layout, never a blank or clipped one.
    page.set_viewport_size({"width": height + 400, "height": width - 400})
    m = frame.evaluate(MEASURE)
    assert m["traj"] > 0 and m["canvas"], f"resized: blank: {m}"
    frame.wait_for_function("() => race.settled()", timeout=10_000)
    check_layout(frame.evaluate(MEASURE), frame.evaluate("race.projection"), "resized")
    page.close()


def test_keyboard_and_views_follow(browser, server):
    page = open_app(browser, server + "/?surface=rosenbrock&steps=200&o0=gd&o0.lr=0.001&o1=adam",
                    1920, 1080)  # fmt: skip
    frame = race_frame(page)
    frame.wait_for_function("() => race.view.ready && race.view.drawn > 0", timeout=30_000)

    def space_toggles(where: str) -> None:
        page.keyboard.press(" ")
        frame.wait_for_function("() => race.playing && race.k > 1", timeout=5_000)
        page.keyboard.press(" ")
        frame.wait_for_function("() => !race.playing", timeout=5_000)
        assert frame.evaluate("race.k") < frame.evaluate("race.last"), where

    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert page.evaluate("document.activeElement === document.body")
    space_toggles("body")
    box = page.locator(f"iframe[src*='{RACE_FRAME}']").bounding_box()
    plot = frame.evaluate(
        "() => { const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis,"
        " r = gd.getBoundingClientRect(); return {x: r.left + xa._offset + xa._length / 2,"
        " y: r.top + ya._offset + ya._length / 2}; }"
    )
    page.mouse.click(box["x"] + plot["x"], box["y"] + plot["y"])
    space_toggles("plot")
    frame.locator("#scrub").fill("50")
    frame.get_by_role("button", name="◀").click()
    assert frame.evaluate("race.k") == 49
    space_toggles("after ◀")
    page.keyboard.press("Home")
    assert frame.evaluate("race.k") == 0
    page.keyboard.press("ArrowRight")
    assert frame.evaluate("race.k") == 1
    page.keyboard.press("End")
    assert frame.evaluate("race.k") == frame.evaluate("race.last")
    page.keyboard.press("?")
    assert frame.locator("#help").is_visible()
    page.keyboard.press("Escape")

    # Full screen (f): the race alone fills the screen, and comes back.
    page.keyboard.press("f")
    page.wait_for_function("() => document.fullscreenElement?.tagName === 'IFRAME'")
    frame.wait_for_function("() => race.settled() && race.geometry.H > 900", timeout=10_000)
    check_layout(frame.evaluate(MEASURE), True, "full screen")
    page.keyboard.press("f")
    page.wait_for_function("() => !document.fullscreenElement")
    frame.wait_for_function("() => race.settled() && race.geometry.H < 1000", timeout=10_000)

    # The dynamics view (shown by default) draws its cursor at the scrubbed step.
    cursor = """(k) => {  // the darkest pixel of the view's overlay on the cursor's column
        const p = viewGd._fullLayout.xaxis, ya = viewGd._fullLayout.yaxis;
        const ratio = viewCanvas.width / viewGd._fullLayout.width;
        const x = Math.round((p._offset + p.c2p(k)) * ratio);
        const y0 = Math.round(ya._offset * ratio), n = Math.round(ya._length * ratio);
        const data = viewCanvas.getContext('2d').getImageData(x, y0, 1, n).data;
        let alpha = 0; for (let i = 3; i < data.length; i += 4) alpha = Math.max(alpha, data[i]);
        return alpha; }"""
    for k in (20, 120):
        frame.locator("#scrub").fill(str(k))
        assert frame.evaluate("race.view.k") == k
        assert frame.evaluate(cursor, k) > 200, f"the cursor is drawn at step {k}"
        assert frame.evaluate(cursor, 70) == 0, "and nowhere else"

    # 3-D: the heads follow the scrubber.
    frame.get_by_role("button", name="3D").click()
    frame.wait_for_function(
        "() => race.view.ready && race.view.ready.layout.meta.kind === '3d'", timeout=60_000
    )
    for k in (5, 150):
        frame.locator("#scrub").fill(str(k))
        heads = frame.evaluate(
            "() => { const t = viewGd.data.find(t => t.meta && t.meta.role === 'heads3d');"
            " return Array.from(t.x); }"
        )
        expected = frame.evaluate(f"race.runs.map(r => r.x[Math.min({k}, r.x.length - 1)])")
        assert heads == pytest.approx(expected, rel=1e-6), k
    page.close()


def test_state_glyphs_and_the_curvature_view_follow_the_scrubber(browser, server):
    """Key s: an Adam run gets its momentum arrow −η·m̂ and per-coordinate step-size bars at the
    head, GD neither; both follow the scrubber. The Curvature view's cursor moves with the step."""
    query = "surface=ravine&steps=120&o0=adam&o0.lr=0.05&o1=gd&o1.lr=0.01"
    page = open_app(browser, f"{server}/?{query}", 1280, 720)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    frame = race_frame(page)
    assert frame.evaluate("race.extras") is None  # nothing extra travels before it is asked for
    assert "state on / off" in frame.locator("#help").inner_text()  # the ? help lists key s
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("s")
    frame.wait_for_function("() => race.extras && race.extras.state", timeout=60_000)
    assert frame.evaluate("race.glyphs")
    assert frame.evaluate("[!!race.runs[0].mx, race.runs[0].bars, !!race.runs[1].mx,"
                          " race.runs[1].bars]") == [True, True, False, False]  # fmt: skip
    pixel = """([x, y]) => { const r = canvas.width / gd._fullLayout.width;
        return Array.from(canvas.getContext('2d').getImageData(Math.round(x * r),
            Math.round(y * r), 1, 1).data); }"""
    adam_rgb = frame.evaluate(
        "() => { const c = race.runs[0].color;"
        " return [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16)); }"
    )
    for k in (3, 60):
        frame.locator("#scrub").fill(str(k))
        drawn = frame.evaluate("race.glyphsDrawn")
        adam = next(d for d in drawn if d["label"].startswith("Adam"))
        gd = next(d for d in drawn if d["label"].startswith("Gradient"))
        assert adam["i"] == k and gd["i"] == k
        assert gd["arrow"] is None and gd["bars"] is None
        # The arrow starts at the head and points along −η·m̂ of the update leaving it.
        want = frame.evaluate(
            """(k) => { const r = race.runs[0];
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const px = (v) => xa._offset + xa.c2p(v), py = (v) => ya._offset + ya.c2p(v);
            return [px(r.x[k]), py(r.y[k]), px(r.x[k] + r.mx[k]), py(r.y[k] + r.my[k])]; }""",
            k,
        )
        a = adam["arrow"]
        assert (a["x0"], a["y0"]) == pytest.approx(want[:2], abs=0.01)
        direction = np.array([a["x1"] - a["x0"], a["y1"] - a["y0"]])
        expected = np.array(want[2:]) - np.array(want[:2])
        assert (
            direction @ expected / (np.linalg.norm(direction) * np.linalg.norm(expected)) > 0.9999
        )
        # The bars are on the canvas, in the run's colour (x bar: opaque).
        bar = adam["bars"]["rects"][0]
        assert adam["bars"]["row"] == k
        rgba = frame.evaluate(pixel, [bar[0] + bar[2] / 2, bar[1] + bar[3] / 2])
        assert rgba[:3] == pytest.approx(adam_rgb, abs=3), (k, rgba, adam_rgb)
    # Off again: nothing drawn, and the figure travels without the state again.
    page.keyboard.press("s")
    frame.wait_for_function("() => !race.glyphs && !(race.extras && race.extras.state)",
                            timeout=60_000)  # fmt: skip

    # The curvature view follows the race: its cursor is drawn at the scrubbed step only.
    frame.get_by_role("button", name="Curvature").click()
    frame.wait_for_function(
        "() => race.view.ready && race.view.ready.layout.meta.kind === 'curvature'"
        " && race.runs[0].lam1", timeout=60_000,
    )  # fmt: skip
    cursor = """(k) => {
        const p = viewGd._fullLayout.xaxis, ya = viewGd._fullLayout.yaxis;
        const ratio = viewCanvas.width / viewGd._fullLayout.width;
        const x = Math.round((p._offset + p.c2p(k)) * ratio);
        const y0 = Math.round(ya._offset * ratio), n = Math.round(ya._length * ratio);
        const data = viewCanvas.getContext('2d').getImageData(x, y0, 1, n).data;
        let alpha = 0; for (let i = 3; i < data.length; i += 4) alpha = Math.max(alpha, data[i]);
        return alpha; }"""
    for k in (10, 90):
        frame.locator("#scrub").fill(str(k))
        frame.wait_for_function(f"() => race.view.k === {k}", timeout=10_000)
        assert frame.evaluate(cursor, k) > 200, f"the cursor is drawn at step {k}"
        assert frame.evaluate(cursor, 50) == 0, "and nowhere else"
    # λ₁ on the ravine is κ (= 50) everywhere; 2/η of GD is 200: both on the eigenvalue axis.
    lam = frame.evaluate("Array.from(race.runs[1].lam1.slice(0, 3))")
    assert lam == pytest.approx([50, 50, 50], rel=1e-5)
    assert frame.evaluate("race.runs[1].edge[0]") == pytest.approx(200, rel=1e-6)
    assert not errors, errors
    page.close()
