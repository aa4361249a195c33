"""Serving benchmark: gunicorn workers on the loopback against a given database, loaded with wrk.

`measure_serving` compares, in the same processes, a bare Django view, a plain Wagtail page, and
a competition page and its scoreboard.json both cold (no cache at all: every request computes
its boards) and cached (Redis, as in production). `measure_load` loads a running site with wrk
(public pages, open data, the admin review queue with a session cookie).

Run alone: `python -m bench.serving serve DATABASE_URL /competition/` or
`python -m bench.serving load http://127.0.0.1:8000 /hcmc/ ...` (see --help).
Needs `wrk` and, for Redis, `redis-server` (Debian packages, installed when missing and root).
"""

# Reviewed for bandit: the benchmark starts the programs it measures (gunicorn, redis-server, wrk)
# and installs missing ones with apt-get, always from argument lists built here, never through a
# shell (B404, B603); fetch() opens only the loopback http URLs this module builds (B310).
import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess  # nosec B404
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BENCH_SETTINGS = os.environ.get("COMPETITION_BENCH_SETTINGS", "config.settings.bench")
BARE_PATH = "/bench/bare/"
# What browsers send; the rows marked "gzip" ask for compression with it, the others do not.
BROWSER_ENCODING = "gzip, deflate, br"
PLAIN_WAGTAIL_PATH = "/bench/wagtail/"

# wrk prints one JSON line when done: requests, duration, the 95th percentile of latency and errors
# (failed connections, reads, writes, time-outs and non-2xx/3xx statuses).
WRK_SCRIPT = """
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
local encoding = os.getenv("BENCH_ACCEPT_ENCODING")
if encoding and encoding ~= "" then wrk.headers["Accept-Encoding"] = encoding end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p95_us": %d, "mean_us": %d, "socket_errors": %d, "bad_statuses": %d}\\n',
    summary.requests, summary.duration, latency:percentile(95), math.floor(latency.mean),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_tool(command, package):
    """The path of `command`, installing its Debian package when missing (as root)."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{command} is missing: install the Debian package {package}.")
    # A fixed Debian package name, from this module's own calls.
    apt_get = shutil.which("apt-get")
    subprocess.run([apt_get, "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # nosec B603
    found = shutil.which(command)
    if not found:
        raise RuntimeError(f"installing {package} did not provide {command}.")
    return found


class Ports:
    """Free loopback ports: from the given ones when given (a shared machine's allotment), else
    any the system offers."""

    def __init__(self, candidates=None):
        self.restricted = candidates is not None
        self.candidates = list(candidates or [])

    def take(self):
        while self.candidates:
            port = self.candidates.pop(0)
            if port_is_free(port):
                return port
        if self.restricted:
            raise RuntimeError("no free port left among those given")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]


def port_is_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with status {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server(port):
    """A throw-away redis-server on the loopback, without persistence."""
    binary = ensure_tool("redis-server", "redis-server")
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)  # nosec B603
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
            + ["--dir", folder, "--maxmemory", "512mb", "--maxmemory-policy", "volatile-lru"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, process, timeout=20)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(process)


@contextmanager
def gunicorn(database_url, port, cache_url, workers=2, settings=BENCH_SETTINGS, log=None):
    """gunicorn with config/gunicorn.py and the bench settings on the loopback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(60),
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PYTHONPATH": str(PROJECT),
    }
    env.pop("REDIS_URL", None)
    executable = Path(sys.executable).with_name("gunicorn")
    command = [str(executable) if executable.exists() else "gunicorn", "--config", str(PROJECT / "config/gunicorn.py")]
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=output)  # noqa: S603  # nosec B603
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        if log:
            output.close()


def fetch(url, cookie=None, timeout=600):
    # Loopback http URLs built by this module.
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            response.read()
            return response.status, response.headers.get("X-Cache")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("X-Cache")


def body_size(url, accept_encoding=None):
    """The size in bytes of the body `url` answers, as sent (compressed when asked)."""
    # A loopback http URL built by this module.
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding} if accept_encoding else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310  # nosec B310
        return len(response.read())


def warm(url, rounds=8, cookie=None):
    """Request `url` until the workers serve it as they will under load (each worker learns a
    URL on its first request and stores it on the second); the last status and cache state."""
    status, state = fetch(url, cookie)
    for _ in range(rounds - 1):
        status, state = fetch(url, cookie)
    return status, state


def run_wrk(url, duration, connections, cookie=None, timeout=60, accept_encoding=None):
    """Load `url` with wrk; a row of requests/s, p95 in ms and errors. wrk asks for no
    compression unless `accept_encoding` is given (browsers send "gzip, deflate, br")."""
    binary = ensure_tool("wrk", "wrk")
    threads = max(1, min(2, connections))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        result = subprocess.run(  # noqa: S603 (our own arguments, no shell)  # nosec B603
            [binary, f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s", "-s", script.name]
            + [url],
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_COOKIE": cookie or "", "BENCH_ACCEPT_ENCODING": accept_encoding or ""},
            check=True,
        )
    finally:
        os.unlink(script.name)
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("{"))
    figures = json.loads(line)
    seconds = figures["duration_us"] / 1_000_000
    requests = figures["requests"]
    return {
        "requests_per_s": round(requests / seconds, 1) if seconds else 0.0,
        "p95_ms": round(figures["p95_us"] / 1000, 2) if requests else None,
        "mean_ms": round(figures["mean_us"] / 1000, 2) if requests else None,
        "errors": figures["socket_errors"] + figures["bad_statuses"],
        "requests": requests,
        "connections": connections,
    }


def measure_serving(
    database_url: str,
    base_path_of_competition: str,
    duration: int = 10,
    connections: int = 50,
    *,
    ports=None,
    cold_connections=None,
    rounds=1,
    log=None,
    pages=(),
) -> list[dict]:
    """Serve the database with gunicorn (2 workers) on the loopback and load each URL with wrk.

    Rows (`name`, `requests_per_s`, `p95_ms`, `errors`, plus `requests` and `connections`):
    the bare Django view, a plain Wagtail page (the home page with Wagtail's own context and a
    template extending base.html) and the demo's home page (which lists the competitions), then
    the competition page and its scoreboard.json cold (a dummy cache: every request computes its boards; at most
    `cold_connections`, default 4, clients) and cached (Redis when redis-server is available,
    else each worker's memory). The plain Wagtail page and the demo's home page are also served
    cold to one client at a time (their `mean_ms` is the time of one request, all its boards
    computed), and each of `pages` ((name, path) of other public pages) kept, as the home page.
    `ports`: the loopback ports the servers may use. With `rounds`
    above 1 the cached set is measured that many times, interleaved (so that a busy moment of a
    shared machine does not fall on one row only), and each row is the round with the median
    requests/s, its errors summed over the rounds."""
    base = "/" + base_path_of_competition.strip("/") + "/"
    page, data = base, base + "scoreboard.json"
    ports = Ports(ports)
    cold_connections = cold_connections or min(connections, 4)
    rows = []

    def measure(name, server, path, clients, accept_encoding=None):
        status, _state = warm(server + path)
        if status != 200:
            raise RuntimeError(f"{server}{path} answered {status}, not 200")
        rows.append({"name": name, **run_wrk(server + path, duration, clients, accept_encoding=accept_encoding)})

    def median_rows(runs):
        merged = []
        for name in dict.fromkeys(run["name"] for run in runs):
            same = sorted((run for run in runs if run["name"] == name), key=lambda run: run["requests_per_s"])
            row = dict(same[len(same) // 2])
            row["errors"] = sum(run["errors"] for run in same)
            row["requests"] = sum(run["requests"] for run in same)
            merged.append(row)
        return merged

    with gunicorn(database_url, ports.take(), "dummy://", log=log) as server:
        measure("competition page, cold (no cache)", server, page, cold_connections)
        measure("scoreboard.json, cold (no cache)", server, data, cold_connections)
        measure("plain Wagtail page, cold (no cache), 1 client", server, PLAIN_WAGTAIL_PATH, 1)
        measure("demo home page, cold (no cache), 1 client", server, "/", 1)

    with ExitStack() as stack:
        try:
            cache_url = stack.enter_context(redis_server(ports.take()))
            cache_name = "Redis"
        except (RuntimeError, OSError, subprocess.CalledProcessError):
            cache_url, cache_name = "locmem://", "per-worker memory"
        server = stack.enter_context(gunicorn(database_url, ports.take(), cache_url, log=log))
        measure("plain Wagtail page", server, PLAIN_WAGTAIL_PATH, connections)
        measure("demo home page (lists competitions), kept", server, "/", connections)
        for name, path in pages:
            measure(f"{name}, kept", server, path, connections)
        cold_rows, rows[:] = rows[:], []
        for _round in range(max(1, rounds)):
            measure("bare Django view", server, BARE_PATH, connections)
            measure(f"competition page, cached ({cache_name})", server, page, connections)
            measure(f"scoreboard.json, cached ({cache_name})", server, data, connections)
            measure(f"competition page, cached, gzip ({cache_name})", server, page, connections, BROWSER_ENCODING)
            measure(f"scoreboard.json, cached, gzip ({cache_name})", server, data, connections, BROWSER_ENCODING)
        rows[:] = cold_rows + median_rows(rows)
        # The same bare view answering as many bytes as scoreboard.json: what the size alone costs.
        for encoding, label in ((None, ""), (BROWSER_ENCODING, ", gzip")):
            size = body_size(server + data, encoding)
            name = f"bare view, {size:,} bytes (as scoreboard.json{label})"
            measure(name, server, f"{BARE_PATH}{size}/", connections)
    order = [
        "bare",
        "plain Wagtail page, cold",
        "plain",
        "demo home page, cold",
        "demo home",
        *(name for name, _path in pages),
        "competition page, cold",
        "scoreboard.json, cold",
        "competition page, cached (",
        "scoreboard.json, cached (",
        "competition page, cached, gzip",
        "scoreboard.json, cached, gzip",
    ]
    return sorted(rows, key=lambda row: next(i for i, prefix in enumerate(order) if row["name"].startswith(prefix)))


def measure_load(base_url, targets, duration=30, connections=50):
    """Load a running site: `targets` is a list of (name, path, cookie or None)."""
    rows = []
    for name, path, cookie in targets:
        status, _state = warm(base_url + path, cookie=cookie)
        if status != 200:
            raise RuntimeError(f"{base_url}{path} answered {status}, not 200")
        rows.append({"name": name, **run_wrk(base_url + path, duration, connections, cookie=cookie)})
    return rows


def format_rows(rows, yardstick="bare Django view"):
    bare = next((row["requests_per_s"] for row in rows if row["name"] == yardstick), None)
    lines = [
        f"| {'what':<45} | {'clients':>7} | {'requests/s':>10} | {'p95 ms':>8} | {'errors':>6} | {'× bare':>6} |",
        f"|{'-' * 47}|{'-' * 9}|{'-' * 12}|{'-' * 10}|{'-' * 8}|{'-' * 8}|",
    ]
    for row in rows:
        ratio = f"{row['requests_per_s'] / bare:.2f}" if bare else "–"
        p95 = "–" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}"
        lines.append(
            f"| {row['name']:<45} | {row['connections']:>7} | {row['requests_per_s']:>10.1f} | {p95:>8} "
            f"| {row['errors']:>6} | {ratio:>6} |"
        )
    return "\n".join(lines)


def parse_ports(text):
    if not text:
        return None
    first, _dash, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start gunicorn on a database and measure (measure_serving)")
    serve.add_argument("database_url")
    serve.add_argument("competition_path", help="the competition page's URL path, e.g. /hcmc/")
    serve.add_argument("--duration", type=int, default=10)
    serve.add_argument("--connections", type=int, default=50)
    serve.add_argument("--cold-connections", type=int, default=None)
    serve.add_argument("--rounds", type=int, default=1, help="measure the cached set this many times, interleaved")
    serve.add_argument("--ports", help="loopback ports the servers may use, e.g. 8240-8249")
    serve.add_argument("--log", help="append the servers' output to this file")
    load = commands.add_parser("load", help="load a running site (measure_load)")
    load.add_argument("base_url", help="e.g. http://127.0.0.1:8000")
    load.add_argument("competition_path")
    load.add_argument("--queue", default="/admin/review/", help="the admin review queue's path")
    load.add_argument("--session", help="a session cookie value for the admin queue (sessionid)")
    load.add_argument("--duration", type=int, default=30)
    load.add_argument("--connections", type=int, default=50)
    args = parser.parse_args(argv)
    if args.command == "serve":
        rows = measure_serving(
            args.database_url,
            args.competition_path,
            args.duration,
            args.connections,
            ports=parse_ports(args.ports),
            cold_connections=args.cold_connections,
            rounds=args.rounds,
            log=args.log,
        )
        print(format_rows(rows))
    else:
        base = "/" + args.competition_path.strip("/") + "/"
        targets = [
            ("competition page (public scoreboard)", base, None),
            ("scoreboard.json", base + "scoreboard.json", None),
        ]
        if args.session:
            targets.append(("admin review queue (logged in)", args.queue, f"sessionid={args.session}"))
        rows = measure_load(args.base_url.rstrip("/"), targets, args.duration, args.connections)
        print(format_rows(rows, yardstick=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
