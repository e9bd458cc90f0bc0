"""End to end: wrk against corn, gunicorn and nginx, one worker each, on one machine.

    python3 perf/e2e.py [--duration S] [--connections N] [--runs 3] [--scenario NAME ...]
                        [--servers corn,gunicorn,nginx] [--baseline DIR] [--json FILE] [--chart FILE.png]
                        [--wrk-timeout S] [--idle [N] [--idle-per-source N]] [--soak N [--soak-scenario NAME]]

Servers: `corn` and `gunicorn` are their gevent workers (`-k gevent`, 1000 worker connections),
`corn-gthread` and `gunicorn-gthread` their threaded workers (`-k gthread --threads 8`), `corn-tornado`
and `gunicorn-tornado` their tornado workers (corn's: the compiled cycle on tornado's IOLoop with
`--threads 8`; gunicorn's: tornado's WSGIContainer), `corn-eventlet` corn's eventlet worker, `corn-metrics`
corn's gevent worker with metrics on (`--metrics-bind` on another free port, never scraped), `nginx`
serves fixed bodies; `corn-base` is corn's gevent worker run from another checkout (`--baseline
DIR`, built in place), to compare a change with what it changes in one interleaved run. nginx runs
no app, so it has no row in a scenario whose app does more than answer (blocking-5ms).

Every server runs pinned to CPU 0 and wrk to CPU 1 (`--swap-cpus`: the other way round), so the
server has a core of its own and the load generator cannot steal it. Each measurement gets a
fresh server on a fresh port; within a run
the servers take turns on each scenario (corn, gunicorn, nginx, corn, ...), so a slow minute of the
machine hits all of them, and the table shows the median over the runs. `--idle` holds thousands
of idle keep-alive connections open against one worker and reports its memory per connection;
`--soak N` sends about N keep-alive requests and reports how the worker's memory grew. The throughput
table also gives wrk's slowest request and its timeouts, which show a starved connection that the p99
hides; `--chart` draws the medians (perf/chart.py).

Invariants: traffic goes to 127.0.0.1 only; every wait is a bounded poll; every server started is
stopped on the way out (also on Ctrl-C, TERM and errors), by the id of the process group it was started in.
The WSGI apps are in `perf/apps.py`; nginx's config is `perf/nginx.conf.template`.

Framework scenarios (flask-json, django-json, flask-form; not run unless named with --scenario) serve
the Flask and Django apps of `perf/frameworks/`; nginx has no row in them. Competitors, one process
or worker each, pinned like the others: `granian` (Rust; `--interface wsgi --workers 1 --blocking-threads 8
--http 1`), `bjoern` (C, libev) and `fastwsgi` (C, libuv), the last two through `perf/run_server.py`.
A server whose package is missing (`pip install '.[perf]'`), or that cannot start or serve a scenario
as expected, is skipped with the reason in the report.
"""

import argparse
import contextlib
import functools
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import pwd
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PERF_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(PERF_DIR)
sys.path.insert(0, PERF_DIR)
sys.path.insert(1, os.path.join(REPO_ROOT, "tests"))

import apps  # noqa: E402  (the bodies the servers must answer, from the module they serve)
import frameworks  # noqa: E402  (what the framework apps answer; imports no framework)
from processes import child_pids, open_fds, rss_kib, stat_fields, wait_for  # noqa: E402  (shared with the test suite)

SERVER_CPU = 0
CLIENT_CPU = 1
START_DEADLINE = 60.0  # seconds for a server to answer its first request (a loaded two-core machine)
STOP_DEADLINE = 20.0  # seconds for a server to exit after its stop signal, before SIGKILL
IDLE_DEADLINE = 300.0  # seconds to open all the idle connections
SOAK_MAX_SECONDS = 1800  # the longest soak, whatever N asks for
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CLIENT_BOUND_PERCENT = 95  # wrk's CPU use from which a row's rps says more about wrk than the server
IDLE_BATCH = 200  # idle connections opened before their responses are read
IDLE_PER_SOURCE = 20000  # idle connections per client source address (127.0.0.2, 127.0.0.3, ...)
SERVERS = ("corn", "gunicorn", "nginx", "corn-gthread", "gunicorn-gthread", "corn-base", "corn-metrics",
           "corn-eventlet", "corn-tornado", "gunicorn-tornado", "granian", "bjoern", "fastwsgi")
DEFAULT_SERVERS = SERVERS[:5]
THREADS = 8  # --threads of the gthread servers
COMPETITORS = {"granian": "granian", "bjoern": "bjoern", "fastwsgi": "fastwsgi"}  # server: its package
SINGLE_PROCESS = ("bjoern", "fastwsgi")  # no master: the process started is the worker
RUN_SERVER = os.path.join(PERF_DIR, "run_server.py")  # how bjoern and fastwsgi are started
APT_PACKAGES = {"wrk": "wrk", "nginx": "nginx-light", "taskset": "util-linux"}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str  # the same URL path on every server
    app: str  # what every server serves: a callable's name in perf/apps.py, or MODULE:CALLABLE
    method: str
    body: bytes  # the request body
    expected: bytes  # the response body every server must answer
    content_type: str  # of the request body, and of the response unless `response_type` says otherwise
    wrk_headers: tuple = ()
    response_type: str = ""
    needs: str = ""  # the framework package the app imports

    @property
    def expected_type(self):
        return self.response_type or self.content_type


FLASK_APP = "perf.frameworks.flask_app:app"
DJANGO_APP = "perf.frameworks.django_project.wsgi:application"


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("hello-ka", "/hello", "hello", "GET", b"", apps.HELLO_BODY, "text/plain"),
        Scenario("hello-close", "/hello", "hello", "GET", b"", apps.HELLO_BODY, "text/plain",
                 ("Connection: close",)),
        Scenario("echo-4k", "/echo", "echo", "POST", apps.ECHO_BODY, apps.ECHO_BODY,
                 "application/octet-stream"),
        Scenario("big-64k", "/big", "big", "GET", b"", apps.BIG_BODY, "application/octet-stream"),
        Scenario("blocking-5ms", "/hello", "blocking", "GET", b"", apps.HELLO_BODY, "text/plain"),
        Scenario("flask-json", "/json", FLASK_APP, "GET", b"", frameworks.FLASK_JSON_BODY, "application/json",
                 needs="flask"),
        Scenario("django-json", "/json", DJANGO_APP, "GET", b"", frameworks.DJANGO_JSON_BODY,
                 "application/json", needs="django"),
        Scenario("flask-form", "/form", FLASK_APP, "POST", frameworks.FORM_BODY, frameworks.FLASK_FORM_BODY,
                 "application/x-www-form-urlencoded", response_type="application/json", needs="flask"),
    )
}
DEFAULT_SCENARIOS = ("hello-ka", "hello-close", "echo-4k", "big-64k", "blocking-5ms")
NGINX_ECHO_ROW = "reads the body, returns a fixed 4 KiB"
NGINX_SCENARIOS = ("hello-ka", "hello-close", "echo-4k", "big-64k")
SKIPPED = {}  # {(scenario, server): why it has no row}, for the report


def app_target(app):
    """MODULE:CALLABLE of a Scenario's `app`."""
    return app if ":" in app else f"perf.apps:{app}"


@functools.lru_cache(maxsize=None)
def installed(package):
    return importlib.util.find_spec(package) is not None


def unavailable(kind, scenario):
    """Why `kind` cannot serve `scenario` here, or None."""
    if kind == "nginx" and scenario.name not in NGINX_SCENARIOS:
        return "nginx runs no app"
    for package in filter(None, (COMPETITORS.get(kind), scenario.needs)):
        if not installed(package):
            return f"{package} is not installed (pip install '.[perf]')"
    return None


def request_bytes(scenario):
    """The request of `scenario` as one HTTP/1.1 message, the same bytes wrk sends, near enough."""
    head = [f"{scenario.method} {scenario.path} HTTP/1.1", "Host: 127.0.0.1"]
    if scenario.body:
        head += [f"Content-Type: {scenario.content_type}", f"Content-Length: {len(scenario.body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + scenario.body


def wrk_lua(scenario):
    """A wrk script that posts the scenario's body (wrk adds Content-Length): one byte repeated stays
    one short line whatever its size; any other body is written out whole, as a Lua long string."""
    return (
        f'wrk.method = "{scenario.method}"\n'
        f'wrk.body = {lua_body(scenario)}\n'
        f'wrk.headers["Content-Type"] = "{scenario.content_type}"\n'
    )


def lua_body(scenario):
    body, char = scenario.body, chr(scenario.body[0])
    if body == body[:1] * len(body) and char.isalnum():
        return f'string.rep("{char}", {len(body)})'
    text = body.decode("latin-1")
    if not (text.isascii() and text.isprintable()) or "]==]" in text:
        raise ValueError(f"{scenario.name}: the posted body must be printable ASCII without ']==]'")
    return f"[==[{text}]==]"  # a long string: no escapes; a first character that is a newline would be lost


def wrk_script(scenario, lua_path):
    """The path of `scenario`'s wrk script, written next to `lua_path` on first use."""
    path = os.path.join(os.path.dirname(lua_path), f"{scenario.name}.lua")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(wrk_lua(scenario))
    return path


# --- processes ---------------------------------------------------------------------------------


def cpu_seconds(pid):
    """User plus system CPU seconds `pid` has used so far (0 once it is gone)."""
    fields = stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, command):
    return ["taskset", "-c", str(cpu), *command]


def server_env(root=REPO_ROOT):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, REPO_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    env.pop("GUNICORN_CMD_ARGS", None)
    env.pop("CORN_CMD_ARGS", None)
    return env


def raise_nofile(needed):
    """Raise this process's RLIMIT_NOFILE (inherited by the servers started next) to `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return
        except (ValueError, OSError):
            raise SystemExit(f"the open-files limit is {hard}, {needed} needed: raise it "
                             f"(`ulimit -Hn {needed}` as root with CAP_SYS_RESOURCE) "
                             "or ask for fewer idle connections") from None
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class Server:
    """One server under test: a master and one worker in a process group of their own, pinned to SERVER_CPU,
    their output in `log_path`. A context manager: leaving it always stops the server."""

    baseline = None  # the checkout `corn-base` runs (--baseline)
    workers = 1  # worker processes; perf/scaling.py sets more
    cpus = None  # the CPU list it runs on (taskset's syntax); None: SERVER_CPU

    def __init__(self, kind, app, workdir, worker_connections=1000, keepalive=None):
        self.kind = kind
        self.app = app
        self.workdir = workdir
        self.worker_connections = worker_connections
        self.keepalive = keepalive  # seconds; None keeps each server's default
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{kind}.log")
        self.proc = None
        self.worker = None  # the pid of the master's one child, once it answers
        routed = app not in {s.app for s in SCENARIOS.values()}
        self.probe = request_bytes(SCENARIOS["hello-ka"] if routed else scenario_of(app))

    def command(self):
        bind = f"127.0.0.1:{self.port}"
        keepalive = ["--keep-alive", str(self.keepalive)] if self.keepalive is not None else []
        connections = ["--worker-connections", str(self.worker_connections)]
        workers = {"gevent": ["-k", "gevent", *connections],
                   "gthread": ["-k", "gthread", "--threads", str(THREADS), *connections],
                   "eventlet": ["-k", "eventlet", *connections],
                   "tornado": ["-k", "tornado", "--threads", str(THREADS), *connections]}
        program, _, worker_kind = self.kind.partition("-")
        kind = workers.get(worker_kind, workers["gevent"])  # corn-base and corn-metrics: gevent
        target = app_target(self.app)
        if program == "corn":
            metrics = ["--metrics-bind", f"127.0.0.1:{free_port()}"] if self.kind == "corn-metrics" else []
            return [sys.executable, "-m", "corn", "-w", "1", *kind, "--log-level", "warning", "-b", bind,
                    *keepalive, *metrics, target]
        if program == "gunicorn":
            return [sys.executable, "-m", "gunicorn", "-w", "1", *kind, "--log-level", "warning", "-b", bind,
                    *keepalive, target]
        if program in COMPETITORS:
            return self.competitor_command(target)
        prefix = os.path.join(self.workdir, "nginx")
        return ["nginx", "-p", prefix + "/", "-c", os.path.join(prefix, "nginx.conf")]

    def competitor_command(self, target):
        """granian, bjoern or fastwsgi serving `target`; none of them has a keep-alive timeout to set."""
        if self.kind == "granian":
            return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "1",
                    "--blocking-threads", str(THREADS), "--http", "1", "--log-level", "warning",
                    "--host", "127.0.0.1", "--port", str(self.port), target]
        return [sys.executable, RUN_SERVER, self.kind, target, "127.0.0.1", str(self.port)]

    def write_nginx_prefix(self):
        prefix = os.path.join(self.workdir, "nginx")
        os.makedirs(os.path.join(prefix, "html"), exist_ok=True)
        with open(os.path.join(prefix, "html", "big"), "wb") as f:
            f.write(apps.BIG_BODY)
        with open(os.path.join(PERF_DIR, "nginx.conf.template")) as f:
            template = f.read()
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        fields = {
            "USER": user,  # as root, nginx's worker would be `nobody`, who cannot read the prefix
            "PREFIX": prefix,
            "PORT": str(self.port),
            "WORKER_CONNECTIONS": str(self.worker_connections),
            "WORKERS": str(self.workers),
            "NOFILE": str(resource.getrlimit(resource.RLIMIT_NOFILE)[0]),
            "KEEPALIVE": str(self.keepalive if self.keepalive is not None else 75),
            "HELLO_BODY": apps.HELLO_BODY.decode(),
            "ECHO_HALF": apps.ECHO_BODY[: len(apps.ECHO_BODY) // 2].decode(),
        }
        config = re.sub(r"@([A-Z_]+)@", lambda m: fields[m.group(1)], template)
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write(config)

    def __enter__(self):
        if self.kind == "nginx":
            self.write_nginx_prefix()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                pinned(SERVER_CPU if self.cpus is None else self.cpus, self.command()), cwd=self.workdir,
                env=server_env(self.baseline) if self.kind == "corn-base" else server_env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def answers(self):
        if self.exited():
            raise RuntimeError(f"{self.kind} exited before it answered:\n{self.log()}")
        try:
            with HTTPClient(self.port, timeout=2.0) as client:
                return client.round_trip(self.probe)[0] == 200
        except OSError:
            return False

    def one_worker(self):
        if self.kind in SINGLE_PROCESS:
            return self.proc.pid
        pids = child_pids(self.proc.pid)
        return pids[0] if len(pids) == self.workers else None

    def wait_ready(self):
        try:
            wait_for(self.answers, START_DEADLINE, f"{self.kind} to answer on port {self.port}", interval=0.1)
            self.worker = wait_for(self.one_worker, START_DEADLINE, f"{self.kind}'s one worker")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; its output:\n{self.log()}") from None

    def exited(self):
        """True once the master has exited; it stays unreaped (a zombie), so its pid and process
        group cannot be reused before `stop` has killed what is left of the group."""
        try:
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True  # reaped already

    def stop(self):
        if self.proc is None or self.proc.returncode is not None:
            return
        # corn and gunicorn quit at once on INT, nginx on TERM: no graceful drain of idle clients
        self.proc.send_signal(signal.SIGTERM if self.kind == "nginx" else signal.SIGINT)
        try:
            wait_for(self.exited, STOP_DEADLINE, f"{self.kind} to stop")
        except TimeoutError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever is left of its process group
        except ProcessLookupError:
            pass
        self.proc.wait(STOP_DEADLINE)

    def cpu_seconds(self):
        """CPU seconds used so far by the master and its children (nginx's too)."""
        return sum(cpu_seconds(pid) for pid in [self.proc.pid, *child_pids(self.proc.pid)])

    def url(self, scenario):
        return f"http://127.0.0.1:{self.port}{scenario.path}"


def scenario_of(app):
    return next(s for s in SCENARIOS.values() if s.app == app)


class HTTPClient:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1: sends prepared requests and reads back
    responses framed by Content-Length (every response of these benchmarks has one)."""

    def __init__(self, port, timeout=START_DEADLINE):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def round_trip(self, request):
        self.sock.sendall(request)
        return self.read_response()

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data

    def read_response(self):
        """(status, {lower-case name: value}, body) of the next response."""
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        status_line, *lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        total = end + 4 + int(headers.get("content-length", 0))
        while len(self.buf) < total:
            self._fill()
        body = bytes(self.buf[end + 4:total])
        del self.buf[:total]
        return int(status_line.split()[1]), headers, body


def check_response(server, scenario):
    """Two keep-alive requests answered as the scenario says, or an error naming the difference."""
    with HTTPClient(server.port) as client:
        for _ in range(2):
            status, headers, body = client.round_trip(request_bytes(scenario))
            problems = []
            if status != 200:
                problems.append(f"status {status}")
            if headers.get("content-type") != scenario.expected_type:
                problems.append(f"Content-Type {headers.get('content-type')!r}")
            if body != scenario.expected:
                problems.append(f"a body of {len(body)} bytes that differs")
            if problems:
                raise RuntimeError(f"{server.kind} answers {scenario.name} with " + ", ".join(problems))


# --- wrk -----------------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def wrk_command(scenario, url, duration, connections, lua_path, timeout=None):
    """wrk with one thread on CLIENT_CPU; `timeout`: seconds after which wrk counts a request as
    timed out (wrk's --timeout, 2 s when None)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if timeout is not None:
        command += ["--timeout", f"{timeout}s"]
    for header in scenario.wrk_headers:
        command += ["-H", header]
    if scenario.body:
        command += ["-s", wrk_script(scenario, lua_path)]
    return pinned(CLIENT_CPU, command + [url])


def parse_wrk(output):
    """rps, p50/p99 in ms, request count and error counts from wrk's --latency report."""
    def number(pattern, default=None):
        m = re.search(pattern, output)
        if m is None:
            if default is None:
                raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
            return default
        return m.group(1)

    percentiles = {int(p): float(v) * UNITS_MS[unit]
                   for p, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    latency = re.search(r"^\s+Latency\s+(?:[\d.]+\w+\s+){2}([\d.]+)(us|ms|s|m|h)\s", output, re.M)
    return {
        "rps": float(number(r"Requests/sec:\s+([\d.]+)")),
        "requests": int(number(r"(\d+) requests in ")),
        "p50_ms": percentiles[50],
        "p99_ms": percentiles[99],
        "max_ms": float(latency.group(1)) * UNITS_MS[latency.group(2)] if latency else math.nan,
        "timeouts": int(socket_errors.group(4)) if socket_errors else 0,
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "socket_errors_by_kind": dict(zip(("connect", "read", "write", "timeout"),
                                          map(int, socket_errors.groups() if socket_errors else (0,) * 4))),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)", "0")),
    }


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(command, duration):
    """wrk's parsed report plus the share of its CPU it used (`wrk_cpu_percent`): at about 100%
    the client, not the server, sets the pace."""
    started, cpu_before = time.monotonic(), children_cpu_seconds()
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    elapsed, cpu_used = time.monotonic() - started, children_cpu_seconds() - cpu_before
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    result = parse_wrk(out.stdout)
    result["elapsed_s"] = elapsed
    result["wrk_cpu_percent"] = 100.0 * cpu_used / elapsed
    return result


# --- the three measurements ----------------------------------------------------------------------


def worker_connections(connections):
    """The servers' worker connections for `connections` wrk connections: 1000, or enough for
    twice as many (nginx closes idle keep-alive connections when less than 1/16 of its slots is free)."""
    return max(1000, 2 * connections + 100)


def throughput(args, workdir, lua_path, say):
    raise_nofile(args.connections + 1024)  # wrk holds one descriptor per connection, as does the server
    connections = worker_connections(args.connections)
    results = []
    for run in range(1, args.runs + 1):
        for name in args.scenario:
            scenario = SCENARIOS[name]
            for kind in args.servers:
                reason = unavailable(kind, scenario)
                if reason:
                    skip(name, kind, reason, say)
                    continue
                with start_checked(kind, scenario, workdir, say, connections) as server:
                    if server is None:
                        continue
                    command = wrk_command(scenario, server.url(scenario), args.duration, args.connections,
                                          lua_path, args.wrk_timeout)
                    cpu_before = server.cpu_seconds()
                    result = run_wrk(command, args.duration)
                    server_cpu = server.cpu_seconds() - cpu_before
                result.update(run=run, scenario=name, server=kind,
                              server_cpu_us=1e6 * server_cpu / max(result["requests"], 1),
                              server_cpu_percent=100.0 * server_cpu / result["elapsed_s"])
                results.append(result)
                say(f"run {run}/{args.runs} {name:<12} {kind:<16} {result['rps']:>10.0f} rps  "
                    f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  "
                    f"max {result['max_ms']:.1f} ms  timeouts {result['timeouts']}  "
                    f"server {result['server_cpu_us']:.1f} us/req {result['server_cpu_percent']:.0f}% CPU  "
                    f"wrk {result['wrk_cpu_percent']:.0f}% CPU")
    return results


def skip(name, kind, reason, say):
    if (name, kind) not in SKIPPED:
        say(f"skip {name} on {kind}: {reason}")
    SKIPPED[(name, kind)] = reason


@contextlib.contextmanager
def start_checked(kind, scenario, workdir, say, connections=1000):
    """A started server that answers `scenario` as expected; for a competitor that will not start or
    answers otherwise, None, and the scenario is skipped on it with the reason (corn's, gunicorn's
    and nginx's failures stay errors). Leaving it always stops the server. `connections`: its worker
    connections."""
    server = Server(kind, scenario.app, workdir, worker_connections=connections)
    try:
        server.__enter__()  # stops what it started if the server does not answer
        check_response(server, scenario)
    except (RuntimeError, TimeoutError, OSError) as exc:
        server.stop()
        if kind not in COMPETITORS:
            raise
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        last = f" ({lines[-1].strip()})" if len(lines) > 1 else ""  # the server's last words
        skip(scenario.name, kind, lines[0].rstrip(":") + last, say)
        yield None
        return
    try:
        yield server
    finally:
        server.stop()


def medians(results):
    """{(scenario, server): median rps, p50, p99 and summed errors over the runs}."""
    grouped = {}
    for r in results:
        grouped.setdefault((r["scenario"], r["server"]), []).append(r)
    return {
        key: {
            "rps": statistics.median(r["rps"] for r in rows),
            "p50_ms": statistics.median(r["p50_ms"] for r in rows),
            "p99_ms": statistics.median(r["p99_ms"] for r in rows),
            "max_ms": max(r["max_ms"] for r in rows),
            "timeouts": sum(r["timeouts"] for r in rows),
            "server_cpu_us": statistics.median(r["server_cpu_us"] for r in rows),
            "server_cpu_percent": statistics.median(r["server_cpu_percent"] for r in rows),
            "wrk_cpu_percent": statistics.median(r["wrk_cpu_percent"] for r in rows),
            "errors": sum(r["socket_errors"] + r["non_2xx"] for r in rows),
            "runs": len(rows),
        }
        for key, rows in grouped.items()
    }


def idle_source(index):
    """The client address of the `index`-th idle connection: IDLE_PER_SOURCE connections from each
    of 127.0.0.2, 127.0.0.3, ..., so the ephemeral ports of one address (about 28,000) never run out."""
    return f"127.0.0.{2 + index // idle_source.per_address}"


idle_source.per_address = IDLE_PER_SOURCE  # --idle-per-source


def idle_connect(port, index):
    """A connection to the server from the index-th source address; closing it resets it (linger 0),
    so it leaves no TIME_WAIT behind to hold its port for the next server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(START_DEADLINE)
        sock.bind((idle_source(index), 0))
        sock.connect(("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


def read_small_response(sock):
    """(status, body) of one response framed by Content-Length, read with a buffer of its own: an idle
    connection keeps nothing but its socket between requests."""
    buf = bytearray()
    while (end := buf.find(b"\r\n\r\n")) < 0 or len(buf) < end + 4 + content_length(buf[:end]):
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        buf += data
    return int(buf.split(None, 2)[1]), bytes(buf[end + 4:end + 4 + content_length(buf[:end])])


def content_length(head):
    m = re.search(rb"(?im)^content-length:[ \t]*(\d+)", head)
    return int(m.group(1)) if m else 0


def idle_round(socks, request, expected, deadline):
    """One request on every connection in `socks`, IDLE_BATCH at a time; how many were answered
    200 with `expected`. A connection that fails, or is reached after `deadline`, counts as unanswered."""
    answered = 0
    for first in range(0, len(socks), IDLE_BATCH):
        if time.monotonic() > deadline:
            break
        sent = []
        for sock in socks[first:first + IDLE_BATCH]:
            try:
                sock.sendall(request)
                sent.append(sock)
            except OSError:
                pass
        for sock in sent:
            try:
                answered += read_small_response(sock) == (200, expected)
            except (OSError, ValueError):
                pass
    return answered


def idle_open(port, count, request, expected, kind):
    """`count` connections, each with one request answered: a list of sockets (closed on an error)."""
    socks = []
    try:
        deadline = time.monotonic() + IDLE_DEADLINE
        while len(socks) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"opened only {len(socks)} of {count} connections to {kind} "
                                   f"in {IDLE_DEADLINE:.0f}s")
            batch = [idle_connect(port, len(socks) + i) for i in range(min(IDLE_BATCH, count - len(socks)))]
            socks += batch
            if idle_round(batch, request, expected, deadline) != len(batch):
                raise RuntimeError(f"{kind} left one of the first requests of idle connections unanswered")
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def idle(args, workdir, say):
    """Per server: worker RSS and open fds before and after `args.idle` idle keep-alive connections,
    then one more request on each of them: how many were answered (all, or the run fails)."""
    count, idle_source.per_address = args.idle, args.idle_per_source
    raise_nofile(count + 256)  # a descriptor per connection here and in the server's worker, and a few more
    if count > args.idle_per_source * 250:
        raise SystemExit(f"--idle {count}: at most {args.idle_per_source * 250} (127.0.0.2 to 127.0.0.251)")
    scenario = SCENARIOS["hello-ka"]
    request = request_bytes(scenario)
    results = []
    for kind in args.servers:
        # twice the connections: nginx starts closing idle keep-alive ones when less than 1/16 is free
        with Server(kind, scenario.app, workdir, worker_connections=2 * count + 100, keepalive=600) as server:
            check_response(server, scenario)
            rss_before, fds_before = rss_kib(server.worker), open_fds(server.worker)
            started = time.monotonic()
            socks = idle_open(server.port, count, request, scenario.expected, kind)
            try:
                opened = time.monotonic() - started
                # one descriptor per connection; the others (listener, logs, hub) vary by server
                fds_after = wait_for(lambda: (n := open_fds(server.worker)) > count and n,
                                     START_DEADLINE, f"{kind}'s worker to hold {count} connections")
                rss_after, client_rss = rss_kib(server.worker), rss_kib(os.getpid())
                answered = idle_round(socks, request, scenario.expected, time.monotonic() + IDLE_DEADLINE)
            finally:
                for sock in socks:
                    sock.close()
        result = {
            "server": kind, "connections": count, "rss_before_kib": rss_before, "rss_after_kib": rss_after,
            "fds_before": fds_before, "fds_after": fds_after,
            "kib_per_connection": (rss_after - rss_before) / count, "answered_after": answered,
            "sources": f"127.0.0.2-{idle_source(count - 1)}", "open_seconds": round(opened, 1),
            "client_rss_kib": client_rss,
        }
        results.append(result)
        say(f"idle {kind:<8} {count} connections: RSS {rss_before} -> {rss_after} KiB, "
            f"{result['kib_per_connection']:.1f} KiB each; {answered} of {count} answered a second request")
    return results


def soak(args, workdir, lua_path, say):
    """Per server: about `args.soak` keep-alive requests of one scenario; the worker's RSS on the way."""
    scenario = SCENARIOS[args.soak_scenario]
    results = []
    for kind in args.servers:
        with Server(kind, scenario.app, workdir) as server:
            check_response(server, scenario)
            warm = run_wrk(wrk_command(scenario, server.url(scenario), 2, args.connections, lua_path), 2)
            duration = max(1, min(SOAK_MAX_SECONDS, math.ceil(args.soak / max(warm["rps"], 1.0))))
            rss_start = rss_kib(server.worker)
            command = wrk_command(scenario, server.url(scenario), duration, args.connections, lua_path)
            samples = [rss_start]
            wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                end = time.monotonic() + duration + 120
                while wrk.poll() is None and time.monotonic() < end:
                    time.sleep(1.0)  # the sampling period, not a wait for a state
                    samples.append(rss_kib(server.worker))
            finally:
                if wrk.poll() is None:
                    wrk.kill()
                out, err = wrk.communicate(timeout=STOP_DEADLINE)
            if wrk.returncode != 0:
                raise RuntimeError(f"wrk failed ({wrk.returncode}): {err or out}")
            report = parse_wrk(out)
            rss_end = rss_kib(server.worker)
        samples.append(rss_end)
        result = {
            "server": kind, "scenario": scenario.name, "requests": report["requests"], "seconds": duration,
            "errors": report["socket_errors"] + report["non_2xx"], "rss_start_kib": rss_start,
            "rss_end_kib": rss_end, "rss_peak_kib": max(samples), "growth_kib": rss_end - rss_start,
            "rss_samples_kib": samples,
        }
        results.append(result)
        say(f"soak {kind:<8} {report['requests']} requests in {duration}s: RSS {rss_start} -> {rss_end} KiB")
    return results


# --- report --------------------------------------------------------------------------------------


def tool_versions():
    python = subprocess.run(
        [sys.executable, "-c", "import corn, gunicorn, gevent; print(corn.__version__, gunicorn.__version__, "
                          "gevent.__version__)"],
        capture_output=True, text=True, env=server_env(), cwd=tempfile.gettempdir(), timeout=60,
    )
    corn, gunicorn, gevent = python.stdout.split() if python.returncode == 0 else ("?", "?", "?")
    if shutil.which("git") and os.path.isdir(os.path.join(REPO_ROOT, ".git")):
        head = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=60)
        if head.returncode == 0:
            corn += f" (checkout {head.stdout.strip()})"
    versions = {"corn": corn, "gunicorn": gunicorn, "gevent": gevent, "python": platform.python_version()}
    if shutil.which("nginx"):
        nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=60).stderr
        versions["nginx"] = nginx.strip().removeprefix("nginx version: nginx/")
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=60)
        versions["wrk"] = (wrk.stdout or wrk.stderr).split(" Copyright")[0].removeprefix("wrk ").strip()
    versions.update(package_versions())
    return versions


def package_versions():
    """The versions of the competitors and frameworks installed here (perf extra)."""
    versions = {}
    for package in (*COMPETITORS.values(), "flask", "django"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def baseline_version():
    """The commit the --baseline checkout is at, when git can tell."""
    try:
        out = subprocess.run(["git", "-C", Server.baseline, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except OSError:
        return "commit unknown"
    return f"commit {out.stdout.strip()}" if out.returncode == 0 else "commit unknown"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"nproc": len(os.sched_getaffinity(0)), "cpus": os.cpu_count(), "cpu_model": model,
            "kernel": platform.release(), "loadavg_at_start": load}


def markdown_table(header, rows, text_columns=1):
    """A Markdown table; the columns after the first `text_columns` hold numbers, aligned right."""
    align = ["---" if i < text_columns else "---:" for i in range(len(header))]
    return "\n".join("| " + " | ".join(map(str, cells)) + " |" for cells in [header, align, *rows])


def ratio(a, b):
    return f"{a / b:.2f}" if b else "—"


def throughput_table(summary, scenarios, servers):
    header = ["scenario", "server", "rps", "p50 ms", "p99 ms", "max ms", "errors", "timeouts",
              "server CPU µs/req", "server CPU %",
              "wrk CPU %", "rps corn/nginx", "rps corn/gunicorn (same worker kind)", "p99 corn/nginx"]
    rows = []
    for name in scenarios:
        for kind in servers:
            row = summary.get((name, kind))
            if row is None:
                continue
            ratios = ["", "", ""]
            if kind in ("corn", "corn-gthread", "corn-tornado", "corn-eventlet"):
                nginx = summary.get((name, "nginx"))
                gunicorn = summary.get((name, kind.replace("corn", "gunicorn")))
                ratios = [ratio(row["rps"], nginx and nginx["rps"]),
                          ratio(row["rps"], gunicorn and gunicorn["rps"]),
                          ratio(row["p99_ms"], nginx and nginx["p99_ms"])]
            label = f"nginx ({NGINX_ECHO_ROW})" if (kind, name) == ("nginx", "echo-4k") else kind
            rows.append([name, label, f"{row['rps']:,.0f}", f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}",
                         f"{row['max_ms']:.1f}", row["errors"], row["timeouts"],
                         f"{row['server_cpu_us']:.1f}", f"{row['server_cpu_percent']:.0f}",
                         f"{row['wrk_cpu_percent']:.0f}", *ratios])
    return markdown_table(header, rows, text_columns=2)


def client_bound(summary, scenarios, servers):
    """The rows where wrk's median CPU use reached CLIENT_BOUND_PERCENT while the server's did not,
    as "scenario (server, ...)"."""
    parts = []
    for name in scenarios:
        kinds = [kind for kind in servers if (name, kind) in summary
                 and summary[(name, kind)]["wrk_cpu_percent"] >= CLIENT_BOUND_PERCENT
                 and summary[(name, kind)]["server_cpu_percent"] < CLIENT_BOUND_PERCENT]
        if kinds:
            parts.append(f"{name} ({', '.join(kinds)})")
    return "; ".join(parts)


def starved(summary, scenarios, servers, timeout):
    """A sentence on the rows where some request waited `timeout` seconds or more (wrk's timeouts)
    or its slowest took more than ten times the p99, or "" when none did."""
    parts = []
    for name in scenarios:
        for kind in servers:
            row = summary.get((name, kind))
            if row and (row["timeouts"] or row["max_ms"] > 10 * row["p99_ms"]):
                parts.append(f"{name} {kind} (max {row['max_ms']:.0f} ms, p99 {row['p99_ms']:.1f} ms, "
                             f"{row['timeouts']} timeouts)")
    if not parts:
        return ""
    return (f"Some requests waited far longer than the rest (more than ten times the p99, or past wrk's "
            f"{timeout} s timeout, which wrk counts and leaves out of the latencies): {'; '.join(parts)}.")


def idle_table(results):
    header = ["server", "connections", "worker RSS before KiB", "after KiB", "KiB per connection",
              "worker fds", "answered a second request"]
    return markdown_table(header, [
        [r["server"], f"{r['connections']:,}", f"{r['rss_before_kib']:,}", f"{r['rss_after_kib']:,}",
         f"{r['kib_per_connection']:.1f}", f"{r['fds_before']} → {r['fds_after']}",
         f"{r['answered_after']:,}"]
        for r in results
    ])


def soak_table(results):
    header = ["server", "scenario", "requests", "seconds", "errors", "RSS start KiB", "end KiB", "peak KiB",
              "growth KiB"]
    rows = [[r["server"], r["scenario"], f"{r['requests']:,}", r["seconds"], r["errors"]]
            + [f"{r[key]:,}" for key in ("rss_start_kib", "rss_end_kib", "rss_peak_kib")]
            + [f"{r['growth_kib']:+,}"] for r in results]
    return markdown_table(header, rows, text_columns=2)


def competitor_notes(args):
    """The report's lines on the framework apps and the competitors' commands."""
    notes = []
    frameworks_run = [n for n in args.scenario if ":" in SCENARIOS[n].app]
    if frameworks_run:
        notes.append("- framework scenarios serve MODULE:CALLABLE instead of perf.apps:APP: "
                     + ", ".join(f"{n} `{SCENARIOS[n].app}`" for n in frameworks_run))
    if any(kind in COMPETITORS for kind in args.servers):
        notes.append("- competitors, pinned the same way: granian `python3 -m granian --interface wsgi "
                     f"--workers 1 --blocking-threads {THREADS} --http 1 --log-level warning "
                     "--host 127.0.0.1 --port PORT MODULE:CALLABLE` (a master and one worker), bjoern and "
                     "fastwsgi `python3 perf/run_server.py bjoern|fastwsgi MODULE:CALLABLE 127.0.0.1 PORT` "
                     "(one process, no master; fastwsgi with TCP_NODELAY on, as corn and gunicorn)")
    return notes


def skipped_note(args):
    """The report's line on the rows skipped, and why."""
    skipped = [(n, k, why) for (n, k), why in SKIPPED.items() if n in args.scenario and k in args.servers]
    if not skipped:
        return []
    return ["", "No row: " + "; ".join(f"{n} on {k} ({why})" for n, k, why in skipped) + "."]


def report(args, info, summary, idle_results, soak_results):
    m = info["machine"]
    wc = worker_connections(args.connections)
    timeout = f" --timeout {args.wrk_timeout}s" if args.wrk_timeout is not None else ""
    wrk_line = (f"taskset -c {CLIENT_CPU} wrk -t1 -c{args.connections} -d{args.duration}s "
                f"--latency{timeout} URL")
    out = [
        "## End to end: wrk against corn, gunicorn and nginx",
        "",
        f"- command: `{info['command']}`",
        f"- machine: nproc {m['nproc']} ({m['cpus']} CPUs), {m['cpu_model']}, Linux {m['kernel']}, "
        f"load average {m['loadavg_at_start']} at the start",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in info["versions"].items()),
        f"- pinning: each server (its master and its one worker) on CPU {SERVER_CPU} "
        f"(`taskset -c {SERVER_CPU}`), wrk on CPU {CLIENT_CPU} (`{wrk_line}`)",
        "- servers, each on 127.0.0.1 and a free port: corn `python3 -m corn -w 1 -k gevent "
        f"--worker-connections {wc} --log-level warning perf.apps:APP`, gunicorn `python3 -m gunicorn -w 1 "
        f"-k gevent --worker-connections {wc} --log-level warning perf.apps:APP`, corn-gthread and "
        f"gunicorn-gthread the same with `-k gthread --threads {THREADS}`, corn-tornado and gunicorn-tornado "
        f"with `-k tornado` (corn's with `--threads {THREADS}`), corn-eventlet with `-k eventlet`, "
        + ("corn-metrics corn's with `--metrics-bind 127.0.0.1:PORT`, "
           if "corn-metrics" in args.servers else "")
        + (f"corn-base corn's gevent worker from the checkout {os.path.basename(Server.baseline)!r} "
           f"({baseline_version()}), " if Server.baseline else "")
        + f"nginx `worker_processes 1`, `worker_connections {wc}`, `access_log off` "
        "(perf/nginx.conf.template); APP is `hello`, "
        "`echo`, `big` or `blocking`",
    ] + competitor_notes(args)
    if summary:
        out += [
            f"- method: {args.runs} run(s); in each run every scenario against each server in turn "
            f"({', '.join(args.servers)}), a fresh server each time; medians over the runs; errors are wrk's "
            "socket errors plus non-2xx answers, summed over the runs; server CPU is the user plus system "
            "time of the server's processes during the wrk run over the requests wrk completed; wrk CPU is "
            "the share of its one CPU that wrk used; server CPU % is the same for the server; max ms is "
            "the slowest request of all the runs (wrk's Max), timeouts the requests wrk gave up on "
            "(among the errors too), summed",
            "",
            throughput_table(summary, args.scenario, args.servers),
        ]
        bound = client_bound(summary, args.scenario, args.servers)
        if bound:
            out += ["", f"wrk used {CLIENT_BOUND_PERCENT}% of its CPU or more, and the server less, on "
                        f"{bound}: there wrk, not the server, set the pace, and the server CPU per request "
                        "compares the servers better than the rps."]
        waited = starved(summary, args.scenario, args.servers, args.wrk_timeout or 2)
        if waited:
            out += ["", waited]
        if "nginx" in args.servers and "echo-4k" in args.scenario:
            out += ["", f'nginx runs no WSGI app, so its echo-4k row is "{NGINX_ECHO_ROW}": the same '
                        "response bytes as the echo's, without passing the body through an app."]
    out += skipped_note(args)
    if idle_results:
        out += ["", "Idle keep-alive connections, each after one request (keep-alive 600 s), from "
                    f"{idle_results[0]['sources']} ({args.idle_per_source:,} per address); after the RSS "
                    "was read, one more request on every connection:", "", idle_table(idle_results)]
    if soak_results:
        out += ["", "Soak, keep-alive; the worker's RSS from after a 2 s warm-up to the end:", "",
                soak_table(soak_results)]
    return "\n".join(out)


# --- command line --------------------------------------------------------------------------------


def missing_tools(servers):
    needed = ["wrk", "taskset"] + (["nginx"] if "nginx" in servers else [])
    return [tool for tool in needed if shutil.which(tool) is None]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, metavar="S", help="seconds per wrk run [10]")
    parser.add_argument("--connections", type=int, default=100, metavar="N", help="wrk connections [100]")
    parser.add_argument("--runs", type=int, default=3, help="runs of every scenario on every server; "
                                                             "0 skips the throughput table [3]")
    parser.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=list(DEFAULT_SCENARIOS),
                        metavar="NAME", help=f"scenarios to run: {', '.join(SCENARIOS)} "
                                             f"[{' '.join(DEFAULT_SCENARIOS)}]")
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                        help=f"comma-separated, in the order they take turns, of {', '.join(SERVERS)} "
                             f"[{','.join(DEFAULT_SERVERS)}]")
    parser.add_argument("--wrk-timeout", type=int, metavar="S",
                        help="seconds after which wrk counts a request as timed out [wrk's 2]")
    parser.add_argument("--json", metavar="FILE", help="write the raw results to FILE")
    parser.add_argument("--chart", metavar="FILE.png",
                        help="draw the medians' rps and p99 into FILE.png (perf/chart.py, needs matplotlib)")
    parser.add_argument("--swap-cpus", action="store_true",
                        help=f"the servers on CPU {CLIENT_CPU} and wrk on CPU {SERVER_CPU}")
    parser.add_argument("--baseline", metavar="DIR",
                        help="a checkout of corn, built in place, that the corn-base server runs")
    parser.add_argument("--idle", type=int, nargs="?", const=10000, default=0, metavar="N",
                        help="also hold N idle keep-alive connections per server and report memory [10000]")
    parser.add_argument("--idle-per-source", type=int, default=IDLE_PER_SOURCE, metavar="N",
                        help="idle connections from each client address, 127.0.0.2 on "
                             f"(each has about 28,000 ephemeral ports) [{IDLE_PER_SOURCE}]")
    parser.add_argument("--soak", type=int, default=0, metavar="N",
                        help="also send about N keep-alive requests per server and report memory growth")
    parser.add_argument("--soak-scenario", choices=[s for s in SCENARIOS if s != "hello-close"],
                        default="hello-ka", help="the scenario of --soak [hello-ka]")
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.servers if s not in SERVERS]
    if unknown or not args.servers:
        parser.error(f"--servers: expected names from {', '.join(SERVERS)}, got {args.servers}")
    if ("corn-base" in args.servers) != bool(args.baseline):
        parser.error("--baseline DIR and the server corn-base go together")
    if args.baseline and not os.path.isfile(os.path.join(args.baseline, "corn", "__init__.py")):
        parser.error(f"--baseline: {args.baseline} is not a checkout of corn")
    Server.baseline = os.path.abspath(args.baseline) if args.baseline else None
    if args.duration < 1 or args.connections < 1 or args.runs < 0 or args.idle < 0 or args.soak < 0 \
            or args.idle_per_source < 1:
        parser.error("--duration and --connections must be positive, --runs, --idle and --soak not negative")
    return args


def main(argv=None):
    global SERVER_CPU, CLIENT_CPU
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.swap_cpus:
        SERVER_CPU, CLIENT_CPU = CLIENT_CPU, SERVER_CPU
    missing = missing_tools(args.servers)
    if missing:
        packages = sorted({APT_PACKAGES[tool] for tool in missing})
        print(f"missing: {', '.join(missing)}; install with:\n  apt-get install -y {' '.join(packages)}",
              file=sys.stderr)
        return 2
    if not {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0):
        print(f"CPUs {SERVER_CPU} and {CLIENT_CPU} are needed (one for the server, one for wrk)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    raise_nofile(max(args.connections + 1024, args.idle + 256))  # stops now, not after the throughput runs

    def say(line):
        print(line, file=sys.stderr, flush=True)

    info = {"command": shlex.join(["python3", os.path.relpath(os.path.abspath(sys.argv[0]))] + sys.argv[1:])
            if argv is None else shlex.join(["python3", "perf/e2e.py", *argv]),
            "machine": machine(), "versions": tool_versions(),
            "pinning": {"server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU}}
    with tempfile.TemporaryDirectory(prefix="corn-e2e-") as workdir:
        lua_path = os.path.join(workdir, "post.lua")
        with open(lua_path, "w") as f:
            f.write(wrk_lua(SCENARIOS["echo-4k"]))
        results = throughput(args, workdir, lua_path, say) if args.runs else []
        idle_results = idle(args, workdir, say) if args.idle else []
        soak_results = soak(args, workdir, lua_path, say) if args.soak else []
    summary = medians(results)
    print(report(args, info, summary, idle_results, soak_results))
    data = {**info, "args": vars(args), "results": results,
            "medians": [{"scenario": s, "server": k, **v} for (s, k), v in summary.items()],
            "idle": idle_results, "soak": soak_results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=2)
    unanswered = [r for r in idle_results if r["answered_after"] != r["connections"]]
    for r in unanswered:
        print(f"FAILED: {r['server']} answered {r['answered_after']} of {r['connections']} idle connections' "
              "second request", file=sys.stderr)
    if args.chart and summary:
        import chart  # matplotlib: only here, the rest of the runner does without it

        chart.draw(data, args.chart)
        print(f"chart: {args.chart}", file=sys.stderr)
    return 1 if unanswered else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every server started is stopped", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
