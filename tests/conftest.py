"""Real corn servers for the tests: a subprocess on 127.0.0.1 with an ephemeral port.

`corn_server(app, *args)` starts `python -m corn -b 127.0.0.1:0 ARGS APP` with `tests/apps` on the
path, waits (with a generous deadline, never a fixed sleep) until the master logged the port it
bound and every worker booted, and stops it with TERM at the end of the test (KILL after a bound).
The subprocess imports the same corn package as the test process.

A test that asks for the `worker_class` fixture runs once per worker class (WORKER_CLASSES), and
`corn_server` then starts that class unless the test names one with `-k`. A test that cannot
apply to some classes says which it is for, and why, with `@pytest.mark.workers(..., why=...)`.
"""

import os
import re
import signal
import socket
import subprocess
import sys

import corn
import pytest
from processes import child_pids, pid_alive, wait_for  # noqa: F401  (the tests import them from here)

APPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
CORN_PATH = os.path.dirname(os.path.dirname(os.path.abspath(corn.__file__)))
DEADLINE = 60.0  # seconds: generous, for a loaded two-core machine
WORKER_CLASSES = ("gevent", "gthread", "sync", "eventlet", "tornado")
WORKER_ARGS = {
    "gevent": ("-k", "gevent"),
    "gthread": ("-k", "gthread", "--threads", "4"),
    "sync": ("-k", "sync"),
    "eventlet": ("-k", "eventlet"),
    "tornado": ("-k", "tornado", "--threads", "4"),
}


def server_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([APPS_DIR, CORN_PATH] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("GUNICORN_CMD_ARGS", None)
    env.pop("CORN_CMD_ARGS", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class CornServer:
    """One corn master in a subprocess; its combined output goes to a log file."""

    def __init__(self, workdir, app, args=(), env=None, bind="127.0.0.1:0"):
        self.workdir = str(workdir)
        self.log_path = os.path.join(self.workdir, "corn.log")
        if "--error-logfile" in args:
            self.error_log_path = args[list(args).index("--error-logfile") + 1]
        else:
            self.error_log_path = None
        self.args = [sys.executable, "-m", "corn", "-b", bind, *args] + ([app] if app else [])
        self.env = server_env(env)
        self.proc = None
        self.port = None

    def start(self, wait_workers=None):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.args, cwd=self.workdir, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        """What the server printed, plus its error log file when it has one."""
        text = b""
        for path in (self.log_path, self.error_log_path):
            if path and os.path.exists(path):
                with open(path, "rb") as f:
                    text += f.read()
        return text.decode("utf-8", "replace")

    def wait_ready(self, workers=1, timeout=DEADLINE):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"corn exited with {self.proc.returncode}:\n{self.log()}")
            m = re.search(r"Listening at: https?://[^ ]*:(\d+) ", self.log())
            if not m:
                return False
            self.port = int(m.group(1))
            return len(self.booted_workers()) >= workers
        wait_for(ready, timeout, message=f"corn to listen with {workers} worker(s)")
        return self

    def booted_workers(self):
        """Live children that logged that they booted."""
        booted = {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.log())}
        return [p for p in child_pids(self.pid) if p in booted]

    def wait_exit(self, timeout=DEADLINE):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"corn did not exit within {timeout}s:\n{self.log()}") from None

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for pid in child_pids(self.proc.pid):
            os.kill(pid, signal.SIGKILL)
        self._log.close()

    def connect(self, timeout=DEADLINE):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


@pytest.fixture(params=WORKER_CLASSES)
def worker_class(request):
    """Each worker class in turn; skipped where the test's `workers` mark leaves it out."""
    marker = request.node.get_closest_marker("workers")
    if marker is not None and request.param not in marker.args:
        pytest.skip(f"not for the {request.param} worker: {marker.kwargs['why']}")
    return request.param


@pytest.fixture
def corn_server(request, tmp_path):
    """Factory: `corn_server("hello:app", "-w", "2")` starts a server and waits for its workers."""
    servers = []
    worker_args = ()
    if "worker_class" in request.fixturenames:
        worker_args = WORKER_ARGS.get(request.getfixturevalue("worker_class"), ())

    def start(app, *args, workers=None, env=None, wait=True):
        if "-k" not in args:
            args = worker_args + args
        server = CornServer(tmp_path, app, args, env)
        servers.append(server)
        server.start()
        if wait:
            if workers is None:
                workers = int(args[args.index("-w") + 1]) if "-w" in args else 1
            server.wait_ready(workers)
        return server

    yield start
    for server in servers:
        server.stop()


# --- a raw HTTP/1.1 client: bytes out, parsed responses in ------------------------------------


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.version = version

    def header(self, name, default=None):
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default


class RawClient:
    """Reads responses off a socket exactly as framed (Content-Length, chunked, or until close)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data, piece=None):
        """Send `data` whole, or in pieces of `piece` bytes (one send each, Nagle off)."""
        if piece is None:
            self.sock.sendall(data)
            return
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), piece):
            self.sock.sendall(data[i : i + piece])

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head_request=False):
        status_line = self._line()
        version, status, reason = status_line.decode("latin-1").split(" ", 2)
        headers = []
        while True:
            line = self._line()
            if not line:
                break
            name, value = line.decode("latin-1").split(":", 1)
            headers.append((name.strip().lower(), value.strip()))
        resp = Response(int(status), reason, headers, b"", version)
        if head_request or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        if (resp.header("transfer-encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                chunks.append(self._exact(size))
                assert self._exact(2) == b"\r\n"
            resp.body = b"".join(chunks)
        elif resp.header("content-length") is not None:
            resp.body = self._exact(int(resp.header("content-length")))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            resp.body, self.buf = self.buf, b""
        return resp

    def closed_by_peer(self, timeout=DEADLINE):
        """True when the peer closes (EOF or reset) before `timeout` with no further bytes."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        return data == b"" and self.buf == b""


def http_request(port, method="GET", path="/", headers=(), body=b"", timeout=DEADLINE):
    """One request on a fresh connection; returns the Response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
        if body and not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return RawClient(sock).read_response(head_request=method == "HEAD")
