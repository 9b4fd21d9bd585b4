"""A class at once: N browser-less sessions moving run 1's η, against one server or nginx.

Each session speaks Streamlit's websocket protocol as Chromium does (checked with ``--check``):
it fetches the page (and so gets nginx's affinity cookie), opens ``/_stcore/stream``, sends a
``rerun_script`` BackMsg with the query string, then, every 2 ± 0.5 s, moves run 1's η slider
one notch (as the arrow key does) and sends a fragment rerun carrying every widget state the
page holds, the fragment id, the page script hash, the URL's query string and the hashes of the
messages it has cached, and keeps its message cache and widget states as the page does. A
move counts when the reply's race chart carries the new η (its legend label); the latency is
from sending the move to that message. A session waits for the reply before its next move;
no reply within 30 s, a closed socket or a script error count as errors.

    python bench/load.py --front single --sessions 25,50,100     # one Streamlit server
    python bench/load.py --front nginx --sessions 25,50,100      # nginx + one replica per core
    python bench/load.py --front nginx --soak 600 --slots 50     # sessions joining and leaving
    python bench/load.py --check                                 # frames against Chromium's

Settings: ``--own`` (default) gives each session its own comparison (its own number of steps,
so no two sessions share a cached run or figure: the worst case); ``--shared`` puts everyone
on the same link. Servers are started on loopback ports 8700-8719 and stopped at the end.
Reported per N: moves, p50/p95/max latency, errors, and per process (replicas, nginx) the CPU
used (% of one core) and the RSS at the end; the harness's own CPU is reported too, since it
shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parents[1]
SINGLE_PORT = 8700
FRONT_PORT = 8710  # nginx; replicas on 8711, 8712, …
LR_KEY = "o0.lr"  # run 1's η slider
QUERY = (
    "surface=rosenbrock&steps={steps}&o0=gd&o0.lr=0.0001&o1=momentum&o1.lr=0.0001"
    "&o2=adam&o2.lr=0.01&o3=rmsprop&o3.lr=0.001"
)
REPLY_TIMEOUT = 30.0
CONTEXT = {
    "timezone": "UTC",
    "timezone_offset": 0,
    "locale": "en-US",
    "is_embedded": False,
    "color_scheme": "light",
}
_STATUS = ForwardMsg.ScriptFinishedStatus
FINISHED_OK = (_STATUS.FINISHED_SUCCESSFULLY, _STATUS.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


# ---- one session: the page's side of the protocol -------------------------------------------


def widget_state(kind: str, proto) -> WidgetState | None:
    """The state Chromium reports for a widget element, from the element as sent (None: the
    page reports nothing for it, e.g. a button never clicked or a component without value)."""
    ws = WidgetState(id=proto.id)
    if kind == "checkbox":
        ws.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "selectbox":
        if proto.HasField("raw_value"):
            ws.string_value = proto.raw_value
        elif proto.HasField("default"):
            ws.string_value = proto.options[proto.default]
    elif kind == "number_input":
        value = proto.value if proto.set_value else proto.default
        if proto.data_type == proto.INT:
            ws.int_value = int(value)
        else:
            ws.double_value = value
    elif kind == "slider":
        if proto.raw_value:  # select_slider: the formatted option
            ws.string_array_value.data.extend(proto.raw_value)
        else:
            values = proto.value if proto.set_value else proto.default
            ws.double_array_value.data.extend(values)
    elif kind == "button_group":
        ws.string_array_value.data.extend(proto.raw_values)
    elif kind in ("text_input",):
        ws.string_value = proto.value if proto.set_value else proto.default
    else:
        return None
    return ws


@dataclass
class Page:
    """What a Chromium page keeps between runs: widget states, message cache, query string."""

    query: str
    url: str = ""
    page_script_hash: str = ""
    max_age: int = 2
    states: dict[str, WidgetState] = field(default_factory=dict)
    widget_fragment: dict[str, str] = field(default_factory=dict)
    cache: dict[str, list] = field(default_factory=dict)  # hash -> [run count, fragment, msg]
    run_count: int = 0
    fragment_id: str = ""  # the race panel's
    lr_id: str = ""
    lr_options: list[str] = field(default_factory=list)
    lr_index: int = 0
    seen: set[str] = field(default_factory=set)
    fragments_this_run: list[str] = field(default_factory=list)

    def backmsg(self, fragment: bool) -> bytes:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        if fragment:
            rs.widget_states.widgets.extend(self.states.values())
            rs.page_script_hash = self.page_script_hash
            rs.fragment_id = self.fragment_id
            rs.cached_message_hashes.extend(self.cache)
        else:
            rs.widget_states.SetInParent()
        for k, v in CONTEXT.items():
            setattr(rs.context_info, k, v)
        rs.context_info.url = self.url
        return msg.SerializeToString()

    def receive(self, raw: bytes) -> tuple[str, object]:
        """Update the page from one ForwardMsg; returns (kind, detail) for the caller."""
        msg = ForwardMsg.FromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":  # a message the page holds: it is processed from the cache
            if msg.ref_hash not in self.cache:
                return "error", f"cache miss {msg.ref_hash}"
            entry = self.cache[msg.ref_hash]
            entry[0] = self.run_count
            msg = ForwardMsg.FromString(entry[2])
            kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
            self.fragments_this_run = list(msg.metadata.run.fragment_ids)
            self.seen = set()
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            if msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
                self.cache[msg.hash] = [self.run_count, msg.delta.fragment_id, raw]
            if msg.delta.WhichOneof("type") == "new_element":
                return self._element(msg)
        elif kind == "script_finished":
            status = msg.script_finished
            if status in FINISHED_OK:
                self._finished()
            return "finished", status
        return kind, None

    def _element(self, msg: ForwardMsg) -> tuple[str, object]:
        el = msg.delta.new_element
        kind = el.WhichOneof("type")
        if kind == "component_instance":
            return "chart", el.component_instance.json_args
        if kind == "exception":
            return "error", el.exception.message
        proto = getattr(el, kind)
        ident = getattr(proto, "id", "")
        if not ident:
            return "element", None
        self.seen.add(ident)
        self.widget_fragment[ident] = msg.delta.fragment_id
        # A widget the page already holds keeps its state unless the server sets a value.
        keep = ident in self.states and not getattr(proto, "set_value", True)
        state = None if keep else widget_state(kind, proto)
        if state is not None:
            self.states[ident] = state
        if ident.endswith("-" + LR_KEY):
            self.lr_id, self.fragment_id = ident, msg.delta.fragment_id
            self.lr_options = list(proto.options)
            current = self.states[ident].string_array_value.data[0]
            self.lr_index = self.lr_options.index(current)
        return "element", None

    def _finished(self) -> None:
        # The page drops the states of widgets the run did not draw (in a fragment run, only
        # those of that fragment), then ages its message cache, as Chromium does.
        frags = self.fragments_this_run
        for ident in list(self.states):
            inside = not frags or self.widget_fragment.get(ident) in frags
            if inside and ident not in self.seen:
                del self.states[ident]
        self.run_count += 1
        for h, (count, frag, _) in list(self.cache.items()):
            if frags and (not frag or frag not in frags):
                continue
            if self.run_count - count > self.max_age:
                del self.cache[h]

    def move(self, rng: random.Random) -> str:
        """One arrow key on run 1's η: the next notch (back at the ends); the new value."""
        step = 1 if self.lr_index + 1 < len(self.lr_options) else -1
        if self.lr_index > 0 and rng.random() < 0.5:
            step = -1 if self.lr_index + 1 < len(self.lr_options) else step
        self.lr_index += step
        value = self.lr_options[self.lr_index]
        state = WidgetState(id=self.lr_id)
        state.string_array_value.data.append(value)
        self.states[self.lr_id] = state
        return value


def label_of(value: str) -> str:
    """How the race figure's JSON spells run 1's legend label for η = value."""
    return json.dumps(f"η={float(value):.4g}")[1:-1]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sessions: int = 0


async def http_cookie(base: str) -> str:
    """GET the page as a browser does first; nginx's affinity cookie, if any."""

    def get() -> str:
        with urllib.request.urlopen(base + "/", timeout=30) as r:
            cookies = r.headers.get_all("Set-Cookie") or []
            r.read()
        return "; ".join(c.split(";")[0] for c in cookies)

    return await asyncio.to_thread(get)


async def read_run(ws, page: Page, expect: str | None, t0: float) -> float | None:
    """Messages until the run finishes; the latency to the chart carrying ``expect``."""
    latency = None
    while True:
        kind, detail = page.receive(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        if kind == "error":
            raise RuntimeError(str(detail))
        if kind == "chart" and expect is not None and latency is None:
            figure = json.loads(detail)["figure"]
            if expect not in figure:
                raise RuntimeError(f"chart without {expect}")
            latency = time.perf_counter() - t0
        if kind == "finished":
            if detail not in FINISHED_OK:
                raise RuntimeError(f"script finished with status {detail}")
            return latency


async def session(base: str, query: str, stop_at: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    page = Page(query=query, url=base + "/")
    try:
        cookie = await http_cookie(base)
        headers = {"Cookie": cookie} if cookie else {}
        host = base.split("//", 1)[1]
        async with websockets.connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=base,
            additional_headers=headers,
            max_size=None,
            compression=None,  # Chromium offers permessage-deflate; Streamlit's default is off
            open_timeout=30,
        ) as ws:
            await ws.send(page.backmsg(fragment=False))
            await read_run(ws, page, None, time.perf_counter())
            if not page.lr_id:
                raise RuntimeError("no η slider in the page")
            stats.sessions += 1
            while True:
                await asyncio.sleep(max(0.0, rng.uniform(1.5, 2.5)))
                if time.monotonic() >= stop_at:
                    return
                value = page.move(rng)
                t0 = time.perf_counter()
                await ws.send(page.backmsg(fragment=True))
                latency = await read_run(ws, page, label_of(value), t0)
                if latency is None:
                    raise RuntimeError("the reply carried no chart")
                stats.latencies.append(latency)
    except Exception as e:  # noqa: BLE001 - every failure of a session is a counted error
        stats.errors.append(f"{type(e).__name__}: {e}"[:200])


# ---- servers and measurements ---------------------------------------------------------------


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_front(front: str, replicas: int) -> tuple[subprocess.Popen, str, list[int]]:
    """One Streamlit server, or deploy/class.py (nginx + replicas); its URL and server pids."""
    if front == "single":
        cmd = [
            str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "app.py"),
            "--server.address=127.0.0.1", f"--server.port={SINGLE_PORT}",
            "--server.headless=true", "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ]  # fmt: skip
        url = f"http://127.0.0.1:{SINGLE_PORT}"
    else:
        cmd = [sys.executable, str(ROOT / "deploy" / "class.py"), f"--port={FRONT_PORT}"]
        cmd.append(f"--replicas={replicas}")
        url = f"http://127.0.0.1:{FRONT_PORT}"
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 600
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{front} did not start")
        time.sleep(0.5)
    pids = [proc.pid] if front == "single" else children(proc.pid)
    return proc, url, pids


def children(pid: int) -> list[int]:
    """Every process under ``pid`` (the replicas, nginx and its workers)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        found += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return found


def stop_front(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def name_of(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    port = next((c.split(b"=")[1].decode() for c in cmd if c.startswith(b"--server.port=")), "")
    if port:
        return f"streamlit:{port}"
    return "nginx" if b"nginx" in cmd[0] else os.path.basename(cmd[0].decode())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(stats: Stats, seconds: float, pids: list[int], cpu0: dict, own0: float) -> str:
    ms = [1e3 * v for v in stats.latencies]
    parts = [f"moves {len(ms)}"]
    if ms:
        parts.append(
            f"p50 {statistics.median(ms):.0f} ms  p95 {percentile(ms, 0.95):.0f} ms  "
            f"max {max(ms):.0f} ms"
        )
    parts.append(f"errors {len(stats.errors)}")
    procs = []
    for pid in pids:
        cpu = 100 * (cpu_seconds(pid) - cpu0[pid]) / seconds
        if cpu >= 1 or rss_mb(pid) >= 50:
            procs.append(f"{name_of(pid)} {cpu:.0f}% {rss_mb(pid):.0f} MB")
    if pids and ms:  # the servers' CPU per move, sessions' first pages included
        used = sum(cpu_seconds(pid) - cpu0[pid] for pid in pids)
        parts.append(f"server CPU {1e3 * used / len(ms):.0f} ms/move")
    procs.append(f"harness {100 * (time.process_time() - own0) / seconds:.0f}%")
    return "  ".join(parts) + "\n      " + ", ".join(procs)


def query_for(k: int, own: bool) -> str:
    return QUERY.format(steps=1000 + (k if own else 0))


async def sweep_point(
    url: str, n: int, seconds: float, own: bool, pids: list[int], quiet: bool = False
) -> Stats:
    stats = Stats()
    ramp = min(10.0, 0.1 * n)  # sessions join over a few seconds, as a class does
    stop_at = time.monotonic() + ramp + seconds
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    own0, t0 = time.process_time(), time.monotonic()

    async def join(k: int) -> None:
        await asyncio.sleep(ramp * k / n)
        await session(url, query_for(k, own), stop_at, stats, seed=k)

    await asyncio.gather(*(join(k) for k in range(n)))
    if quiet:
        return stats
    print(f"  N={n:3d} {describe(stats, time.monotonic() - t0, pids, cpu0, own0)}", flush=True)
    for e in sorted(set(stats.errors))[:5]:
        print(f"      error: {e}")
    return stats


async def soak(url: str, slots: int, seconds: float, own: bool, pids: list[int]) -> None:
    """``slots`` places; each session stays 20-90 s, then leaves and a new one joins."""
    stats = Stats()
    end = time.monotonic() + seconds
    counter = [0]
    t0 = time.monotonic()
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    own0 = time.process_time()

    async def slot(s: int) -> None:
        await asyncio.sleep(10.0 * s / slots)
        while time.monotonic() < end - 5:
            counter[0] += 1
            k = 10_000 + counter[0]
            life = random.Random(k).uniform(20, 90)
            stop_at = min(end, time.monotonic() + life)
            await session(url, query_for(k % 3000, own), stop_at, stats, seed=k)

    async def report() -> None:
        while time.monotonic() < end:
            await asyncio.sleep(min(60.0, max(1.0, end - time.monotonic())))
            rss = ", ".join(f"{name_of(p)} {rss_mb(p):.0f} MB" for p in pids if rss_mb(p) > 50)
            ms = [1e3 * v for v in stats.latencies[-500:]]
            p95 = f"{percentile(ms, 0.95):.0f} ms" if ms else "-"
            print(
                f"  t={time.monotonic() - t0:4.0f} s  sessions so far {counter[0]}  "
                f"moves {len(stats.latencies)}  recent p95 {p95}  errors {len(stats.errors)}  "
                f"RSS {rss}",
                flush=True,
            )

    await asyncio.gather(report(), *(slot(s) for s in range(slots)))
    print(f"  soak {describe(stats, time.monotonic() - t0, pids, cpu0, own0)}")
    for e in sorted(set(stats.errors))[:5]:
        print(f"      error: {e}")


# ---- the frames against Chromium's -----------------------------------------------------------


def check_frames(url: str) -> bool:
    """Drive one Chromium page and one harness session the same way; compare their BackMsgs."""
    from google.protobuf import text_format
    from playwright.sync_api import sync_playwright

    query = query_for(7, True)
    sent: list[bytes] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        page.goto(f"{url}/?{query}")
        page.wait_for_selector("[data-testid=stSlider]", timeout=300_000)
        page.wait_for_timeout(3000)
        slider = page.locator("[data-testid=stSlider] input[type=range]").first
        slider.focus()
        for _ in range(2):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(3000)
        browser.close()
    chromium = []
    for payload in sent:
        msg = BackMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "rerun_script":
            chromium.append(msg)

    async def harness() -> list[BackMsg]:
        out = []
        page = Page(query=query, url=url + "/")
        async with websockets.connect(
            f"ws://{url.split('//', 1)[1]}/_stcore/stream", subprotocols=["streamlit"],
            origin=url, max_size=None, compression=None,
            additional_headers={"Cookie": await http_cookie(url)},
        ) as ws:  # fmt: skip
            for fragment in (False, True, True):
                if fragment:
                    value = page.lr_options[page.lr_index + 1]
                    page.lr_index += 1
                    page.states[page.lr_id] = WidgetState(id=page.lr_id)
                    page.states[page.lr_id].string_array_value.data.append(value)
                raw = page.backmsg(fragment)
                out.append(BackMsg.FromString(raw))
                await ws.send(raw)
                await read_run(ws, page, label_of(value) if fragment else None, 0.0)
        return out

    ours = asyncio.run(harness())

    def canonical(msg: BackMsg) -> str:
        rs = msg.rerun_script
        rs.ClearField("context_info")  # the browser's clock and URL
        widgets = sorted(rs.widget_states.widgets, key=lambda w: w.id)
        rs.widget_states.ClearField("widgets")
        rs.widget_states.widgets.extend(widgets)
        rs.cached_message_hashes.sort()
        return text_format.MessageToString(msg)

    ok = len(chromium) == len(ours) == 3
    print(f"rerun_script messages: Chromium {len(chromium)}, harness {len(ours)}")
    for i, (a, b) in enumerate(zip(chromium, ours, strict=False)):
        same = canonical(a) == canonical(b)
        ok &= same
        print(f"  message {i + 1}: {'identical' if same else 'DIFFERENT'} (context_info aside)")
        if not same:
            print("  Chromium:\n" + canonical(a) + "\n  harness:\n" + canonical(b))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--front", choices=("single", "nginx"), default="single")
    parser.add_argument("--replicas", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sessions", default="25,50,100", help="comma-separated N to sweep")
    parser.add_argument("--seconds", type=float, default=60.0, help="per N, after the ramp")
    parser.add_argument("--shared", action="store_true", help="everyone on the same link")
    parser.add_argument("--soak", type=float, default=0.0, help="soak for this many seconds")
    parser.add_argument("--slots", type=int, default=50, help="concurrent sessions in the soak")
    parser.add_argument("--check", action="store_true", help="compare frames with Chromium's")
    parser.add_argument("--url", help="an already running front (no server is started)")
    args = parser.parse_args()

    proc = None
    if args.url:
        url, pids = args.url.rstrip("/"), []
    else:
        proc, url, pids = start_front(args.front, args.replicas)
    try:
        if args.check:
            sys.exit(0 if check_frames(url) else 1)
        what = "everyone on one link" if args.shared else "each session on its own settings"
        print(f"{args.front} front at {url}, {what}, {os.cpu_count()} cores", flush=True)
        # A few sessions first (a few per replica behind nginx), so loading the kernels and
        # each server's first page are not in the figures.
        warm = 1 if args.front == "single" or args.url else 4 * args.replicas
        asyncio.run(sweep_point(url, warm, 8.0, not args.shared, pids, quiet=True))
        if args.soak:
            asyncio.run(soak(url, args.slots, args.soak, not args.shared, pids))
        else:
            for n in (int(v) for v in args.sessions.split(",")):
                asyncio.run(sweep_point(url, n, args.seconds, not args.shared, pids))
    finally:
        if proc is not None:
            stop_front(proc)


if __name__ == "__main__":
    main()
