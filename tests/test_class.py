"""A class behind nginx: two replicas, two browsers, each session stays on its replica.

Starts ``deploy/class.py`` (what ``make class`` runs) with two replicas on loopback, opens two
Chromium sessions through nginx, each with the affinity cookie of a different replica, moves
run 1's η in each (fragment reruns over the websocket) and reloads each page (a new websocket).
Each page must keep naming its replica, each chart must redraw, and nginx's access log must show
every request of a session, the websockets on ``/_stcore/stream`` included, at one replica.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
QUERY = "surface=rosenbrock&steps=300&o0=gd&o0.lr=0.0001&o1=adam&o1.lr=0.01"
COOKIE = "optviz_replica"
REPLICA = "[data-testid=optviz-replica]"

pytestmark = pytest.mark.browser

HAVE_NGINX = bool(shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK))
if not HAVE_NGINX and os.environ.get("CI") != "true":  # in CI, `make test` installs nginx
    pytest.skip("nginx is not installed (`make nginx`)", allow_module_level=True)


def free_ports(n: int) -> int:
    """A port p with p … p+n-1 all free on loopback."""
    for base in range(20000 + os.getpid() % 20000, 60000, 7):
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    run = tmp_path_factory.mktemp("class")
    port = free_ports(3)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "class.py"), f"--port={port}", "--replicas=2",
         f"--run={run}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        line = ""
        deadline = time.monotonic() + 300
        while "class ready" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "deploy/class.py exited before it was ready"
            assert time.monotonic() < deadline, "the class did not start in 300 s"
        yield f"http://127.0.0.1:{port}", run, [f"127.0.0.1:{port + 1}", f"127.0.0.1:{port + 2}"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def first_visit(url: str) -> tuple[str, str]:
    """A cookie-less GET through nginx: the cookie it sets and the replica that answered."""
    with urllib.request.urlopen(url + "/", timeout=30) as r:
        cookie = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        return cookie, r.headers["X-Optviz-Upstream"]


def race_frame(page):
    """The race chart's frame, once the page has it, with a figure drawn."""
    for _ in range(600):
        frame = next((f for f in page.frames if "race_chart" in f.url), None)
        if frame is not None:
            frame.wait_for_function("() => window.race && window.race.renders > 0", timeout=120_000)
            return frame
        page.wait_for_timeout(200)
    raise AssertionError("no race chart in the page after 120 s")


def test_each_session_stays_on_its_replica(front):
    from playwright.sync_api import sync_playwright

    url, run, replicas = front
    # New visitors are spread by a random cookie; keep one visitor per replica.
    cookies: dict[str, str] = {}
    for _ in range(40):
        cookie, upstream = first_visit(url)
        cookies.setdefault(upstream, cookie)
        if len(cookies) == 2:
            break
    assert sorted(cookies) == sorted(replicas), "nginx sent 40 new visitors to one replica"
    # The cookie alone decides: the same cookie reaches the same replica every time.
    for upstream, cookie in cookies.items():
        for _ in range(3):
            req = urllib.request.Request(url + "/", headers={"Cookie": f"{COOKIE}={cookie}"})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.headers["X-Optviz-Upstream"] == upstream
                assert "Set-Cookie" not in r.headers

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = {}
        for upstream, cookie in cookies.items():
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.add_cookies([{"name": COOKIE, "value": cookie, "url": url}])
            page = context.new_page()
            page.goto(f"{url}/?{QUERY}")
            pages[upstream] = page
        for upstream, page in pages.items():
            page.wait_for_selector(REPLICA, state="attached", timeout=180_000)
            assert page.locator(REPLICA).text_content() == upstream

        for upstream, page in pages.items():
            frame = race_frame(page)
            slider = page.locator("[data-testid=stSlider] input[type=range]").first
            slider.focus()
            for _ in range(2):  # fragment reruns over the same websocket
                before = frame.evaluate("() => window.race.renders")
                page.keyboard.press("ArrowRight")
                frame.wait_for_function(
                    "(n) => window.race.renders > n", arg=before, timeout=60_000
                )
                assert page.locator(REPLICA).text_content() == upstream
            assert "o0.lr=0.0005" in page.url  # two stops up from 0.0001 (1-2-5), in the permalink

        for upstream, page in pages.items():  # a reload opens a new websocket
            page.reload()
            page.wait_for_selector(REPLICA, state="attached", timeout=180_000)
            assert page.locator(REPLICA).text_content() == upstream
            race_frame(page)
        browser.close()  # closes the websockets, so nginx logs them

    # nginx's log: every request carrying a session's cookie went to that session's replica,
    # and each session opened two websockets (the first page and the reload).
    time.sleep(1.0)
    log = (run / "access.log").read_text()
    for upstream, cookie in cookies.items():
        lines = [ln for ln in log.splitlines() if f"cookie={cookie} " in ln]
        assert lines
        assert all(f"upstream={upstream} " in ln for ln in lines), lines
        sockets = [ln for ln in lines if re.search(r'"GET /_stcore/stream \S+" 101', ln)]
        assert len(sockets) == 2, sockets
