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
CHART = "[data-testid=stPlotlyChart] .js-plotly-plot"


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


def open_app(browser, url: str, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector(CHART, timeout=90_000)
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


def path_data(page, name_part: str) -> str | None:
    """The x data (as JSON: a list or a base64 typed array) of the first race trace whose
    name contains ``name_part``."""
    return page.evaluate(
        """([sel, part]) => {
            const gd = document.querySelector(sel);
            const t = gd.data.find(t => (t.name || '').includes(part));
            return t ? JSON.stringify(t.x) : null;
        }""",
        [CHART, name_part],
    )


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
    page.wait_for_function(
        "(sel) => document.querySelector(sel).data.some(t => (t.name || '').includes('RMSProp'))",
        arg=CHART,
        timeout=30_000,
    )
    before = path_data(page, "RMSProp")
    other = path_data(page, "Adam")
    page.screenshot(path=tmp_path / "2-preset-1920.png")

    # Move the first slider of the RMSProp run (its η) with the keyboard.
    rms = page.locator("[data-testid=stExpander]").filter(has_text="RMSProp").first
    rms.get_by_text("3. RMSProp").click()
    slider = rms.locator("[data-testid=stSlider]").first
    slider.locator("input[type=range]").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "([sel, old]) => { const t = document.querySelector(sel).data.find("
        "t => (t.name || '').includes('RMSProp')); return JSON.stringify(t.x) !== old; }",
        arg=[CHART, before],
        timeout=30_000,
    )
    wait_idle(page)
    assert "o2.lr=0.008" in page.url
    assert page.get_by_text("RMSProp η=0.00").first.is_visible()
    assert path_data(page, "Adam") == other, "the other runs' paths do not move"

    # A click on the contour sets the start point (once picking is on).
    page.get_by_text("Pick the start by clicking on the plot").click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel)._fullData.some("
        "t => t.name === 'click-grid' && t.visible === true)",
        arg=CHART,
        timeout=30_000,
    )
    wait_idle(page)
    start_x = page.get_by_label("start x")
    old_x = start_x.input_value()
    target = page.evaluate(
        """(sel) => {
            const gd = document.querySelector(sel);
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const r = gd.getBoundingClientRect();
            const grid = gd._fullData.find(t => t.name === 'click-grid');
            const i = Math.floor(grid.x.length * 0.3);
            return {x: r.left + xa._offset + xa.l2p(grid.x[i]),
                    y: r.top + ya._offset + ya.l2p(grid.y[i]),
                    gx: grid.x[i], gy: grid.y[i]};
        }""",
        CHART,
    )
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function(
        "([old]) => { const e = [...document.querySelectorAll('input')].find("
        "i => i.getAttribute('aria-label') === 'start x'); return e && e.value !== old; }",
        arg=[old_x],
        timeout=30_000,
    )
    wait_idle(page)
    assert float(start_x.input_value()) == pytest.approx(target["gx"], abs=1e-6)
    assert float(page.get_by_label("start y").input_value()) == pytest.approx(target["gy"])
    page.screenshot(path=tmp_path / "3-clicked-1920.png")

    # Projection mode: bigger figure font, no Streamlit header, in the URL.
    font = page.evaluate("(sel) => document.querySelector(sel)._fullLayout.font.size", CHART)
    page.get_by_text("Projection mode").click()
    page.wait_for_function(
        "([sel, f]) => document.querySelector(sel)._fullLayout.font.size > f",
        arg=[CHART, font],
        timeout=30_000,
    )
    wait_idle(page)
    assert "proj=1" in page.url
    assert not page.locator("header[data-testid=stHeader]").is_visible()
    page.screenshot(path=tmp_path / "4-projection-1920.png")
    page.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_play_button_is_on_screen(browser, server, tmp_path, width, height):
    page = open_app(browser, server, width, height)
    play = page.locator(f"{CHART} .updatemenu-button").first
    box = play.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, f"play button at {box}"
    assert 0 <= box["x"] and box["x"] + box["width"] <= width
    page.screenshot(path=tmp_path / f"play-{width}x{height}.png")
    play.click()  # starts the animation; the page must keep working
    page.wait_for_timeout(500)
    assert page.locator(CHART).is_visible()
    page.close()
