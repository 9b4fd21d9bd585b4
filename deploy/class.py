"""Serve a class: nginx in front of one Streamlit replica per core (``make class``).

    python deploy/class.py [--port 8500] [--replicas N] [--address 127.0.0.1]
    python deploy/class.py --port 80 --address 0.0.0.0 --upstream 10.0.0.11:8501 \\
        --upstream 10.0.0.12:8501          # nginx only, in front of replicas on other hosts
    python deploy/class.py --render-only --upstream ...   # print the nginx config and exit

Each replica is ``streamlit run app.py`` on the next port after ``--port`` (8501, 8502, … for
the default 8500), with ``OPTVIZ_REPLICA`` naming it (the app shows it in a hidden element)
and one cookie secret shared by all of them. nginx (Debian's package: ``make nginx``) runs
unprivileged from a run folder with the config rendered from ``deploy/nginx.conf.template``:
sticky sessions by cookie, websocket upgrade on ``/_stcore/stream``, long proxy timeouts.
Everything stops on Ctrl-C or SIGTERM, or when any one process dies.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
REPLICA_ENV = "OPTVIZ_REPLICA"


def render(listen: str, upstreams: list[str], run: Path) -> str:
    """The nginx config for ``listen`` in front of ``upstreams`` (``host:port`` each)."""
    servers = "\n".join(f"        server {u};" for u in upstreams)
    text = TEMPLATE.read_text()
    for name, value in (("@RUN@", str(run)), ("@LISTEN@", listen), ("@UPSTREAMS@", servers)):
        text = text.replace(name, value)
    return text


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if not found:
        sys.exit("nginx is not installed: `make nginx` installs Debian's package")
    return found


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_replica(address: str, port: int, cookie_secret: str, log: Path) -> subprocess.Popen:
    env = os.environ | {
        REPLICA_ENV: f"{address}:{port}",
        "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret,  # an XSRF cookie works on any replica
    }
    streamlit = Path(sys.executable).with_name("streamlit")
    cmd = [
        str(streamlit), "run", str(ROOT / "app.py"),
        f"--server.address={address}", f"--server.port={port}", "--server.headless=true",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8500, help="nginx's port")
    parser.add_argument("--address", default="127.0.0.1", help="nginx's address")
    parser.add_argument(
        "--replicas",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="replicas on this machine (two per core)",
    )
    parser.add_argument(
        "--upstream", action="append", default=[], help="host:port of a replica elsewhere"
    )
    parser.add_argument("--run", type=Path, help="folder for logs and nginx's files")
    parser.add_argument("--render-only", action="store_true", help="print the config and exit")
    args = parser.parse_args()

    run = (args.run or Path(tempfile.mkdtemp(prefix="optviz-class-"))).resolve()
    local = [] if args.upstream else [args.port + 1 + i for i in range(args.replicas)]
    upstreams = args.upstream or [f"127.0.0.1:{p}" for p in local]
    config = render(f"{args.address}:{args.port}", upstreams, run)
    if args.render_only:
        print(config)
        return
    nginx = nginx_binary()
    for sub in ("tmp", "logs"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    (run / "nginx.conf").write_text(config)
    subprocess.run([nginx, "-t", "-q", "-p", str(run), "-c", "nginx.conf"], check=True)

    procs: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cookie_secret = secrets.token_hex(32)
    for port in local:
        procs.append(start_replica("127.0.0.1", port, cookie_secret, run / f"replica-{port}.log"))
    for port in local:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while not healthy(url):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                print(f"replica {url} did not start; see {run}", file=sys.stderr)
                stop()
            time.sleep(0.3)
    procs.append(subprocess.Popen([nginx, "-p", str(run), "-c", "nginx.conf", "-g", "daemon off;"]))
    front = f"http://{args.address}:{args.port}"
    deadline = time.monotonic() + 30
    while not healthy(front):
        if time.monotonic() > deadline or procs[-1].poll() is not None:
            print(f"nginx did not start; see {run}/error.log", file=sys.stderr)
            stop()
        time.sleep(0.2)
    pids = " ".join(str(p.pid) for p in procs)
    print(f"class ready: {front} → {', '.join(upstreams)} (pids {pids}; logs in {run})", flush=True)
    while all(p.poll() is None for p in procs):
        time.sleep(0.5)
    print("a process of the class stopped; stopping the others", file=sys.stderr)
    stop()


if __name__ == "__main__":
    main()
