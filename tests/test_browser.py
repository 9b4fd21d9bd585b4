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
    assert "o2.lr=0.008" in page.url
    assert run_path(frame, "RMSProp") != before
    assert run_path(frame, "Adam") == other, "the other runs' paths do not move"
    assert frame.get_by_text("RMSProp η=0.008").is_visible(), "the legend names the new η"

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
            const n = Math.hypot(dx, dy), reach = 3.5 * race.style.headSize - 3;
            const ratio = canvas.width / gd._fullLayout.width;
            const x = (px(r.x[i]) + reach * dx / n) * ratio;
            const y = (py(r.y[i]) + reach * dy / n) * ratio;
            return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
        }"""
    )
    assert max(tip[:3]) < 80, f"the −∇f arrowhead is drawn (pixel {tip})"

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


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
@pytest.mark.parametrize("projection", [False, True], ids=["normal", "projection"])
def test_play_controls_are_on_screen(browser, server, tmp_path, width, height, projection):
    query = "/?surface=plateau&o0=gd&o1=momentum&o2=rmsprop&o3=adam" if projection else ""
    page = open_app(browser, server + query + ("&proj=1" if projection else ""), width, height)
    frame = race_frame(page)
    for control in (frame.get_by_role("button", name="▶ Play"), frame.locator("#scrub")):
        box = control.bounding_box()
        assert box is not None
        assert 0 <= box["y"] and box["y"] + box["height"] <= height, f"{control} at {box}"
        assert 0 <= box["x"] and box["x"] + box["width"] <= width
    if projection:  # four runs, a four-line legend, and still the whole plot on the screen
        plot = frame.locator("#chart").bounding_box()
        assert plot["y"] + plot["height"] <= height, f"plot at {plot}"
    page.screenshot(path=tmp_path / f"play-{width}x{height}{'-projection' * projection}.png")
    frame.get_by_role("button", name="▶ Play").click()
    frame.wait_for_function("() => race.playing || race.k === race.last", timeout=10_000)
    page.close()
