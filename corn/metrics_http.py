"""The master's `/metrics` endpoint: the exposition formats and the thread that serves them.

`render(samples, openmetrics)` writes the Prometheus text format (version 0.0.4) or OpenMetrics
1.0 from corn.metrics' samples. `MetricsServer` binds `metrics_bind` (`host:port` or `unix:PATH`)
and answers scrapes one at a time from a daemon thread of the master.

The thread never touches what the master's signal handling or forking relies on: signal handlers
run in the main thread; the thread only reads the workers' slots and the arbiter's dicts (copied
first) and takes the hub's lock, which a forked worker never uses. A worker must not keep the
endpoint's socket open (a scraper would then reach a worker, or the port would outlive the
master), so it is closed in every child right after fork.

Plane: control.
"""

import errno
import os
import socket
import threading

from corn.metrics import FAMILIES

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
REQUEST_TIMEOUT = 5.0  # seconds a scraper may take to send its request
MAX_REQUEST = 16384  # bytes of request head read before giving up
RETRY_BIND = 1.0  # seconds between attempts to bind an address a previous master still holds


def _escape_label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value):
    if isinstance(value, float):
        if value == float("inf"):
            return "+Inf"
        return repr(value)
    return str(value)


def render(samples, openmetrics=False):
    """The exposition of `samples` ({family: [(suffix, labels, value)]}) as bytes."""
    lines = []
    for name, rows in samples.items():
        metric = FAMILIES[name]
        family = name if openmetrics or metric.type != "counter" else name + "_total"
        lines.append(f"# HELP {family} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {family} {metric.type}")
        for suffix, labels, value in rows:
            text = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels.items())
            labelled = f"{{{text}}}" if text else ""
            lines.append(f"{name}{suffix}{labelled} {_number(value)}")
    if openmetrics:
        lines.append("# EOF")
    return ("\n".join(lines) + "\n").encode("utf-8")


def wants_openmetrics(accept):
    return "application/openmetrics-text" in (accept or "")


class MetricsServer:
    """Serves GET /metrics from a daemon thread of the master."""

    def __init__(self, address, hub):
        from corn.validators import parse_address

        self.address = parse_address(address, default_port=9100)
        self.hub = hub
        self.log = hub.arbiter.log
        self.sock = None
        self.closed = False
        self.thread = None
        os.register_at_fork(after_in_child=self._close_in_child)

    def __str__(self):
        if isinstance(self.address, str):
            return f"unix:{self.address}"
        if self.sock is not None:
            host, port = self.sock.getsockname()[:2]
        else:
            host, port = self.address
        return f"http://[{host}]:{port}/metrics" if ":" in host else f"http://{host}:{port}/metrics"

    def start(self):
        """Bind now; when a previous master (USR2) still holds the address, keep trying from the
        thread until it lets go."""
        try:
            self.sock = self._bind()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or not self.hub.arbiter.master_pid:
                raise OSError(exc.errno, f"cannot bind metrics_bind {self._text()}: {exc.strerror}") from None
            self.log.info("Metrics address %s in use by the previous master; waiting for it", self._text())
        else:
            self.log.info("Metrics at: %s (%s)", self, os.getpid())
        self.thread = threading.Thread(target=self._serve, name="corn-metrics", daemon=True)
        self.thread.start()

    def close(self):
        self.closed = True
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
            if isinstance(self.address, str):
                try:
                    os.unlink(self.address)
                except OSError:
                    pass

    def _text(self):
        return f"unix:{self.address}" if isinstance(self.address, str) else "%s:%s" % self.address

    def _close_in_child(self):
        """After fork, in the child: the endpoint is the master's alone (the thread is not copied)."""
        sock, self.sock = self.sock, None
        self.closed = True
        if sock is not None:
            try:
                sock.close()  # the child's descriptor only; the master's stays open
            except OSError:
                pass

    def _bind(self):
        if isinstance(self.address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                if os.path.exists(self.address) and not _unix_in_use(self.address):
                    os.unlink(self.address)
                sock.bind(self.address)
            except OSError:
                sock.close()
                raise
        else:
            host, port = self.address
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
            except OSError:
                sock.close()
                raise
        sock.listen(16)
        sock.settimeout(1.0)  # accept() wakes up now and then to see whether the endpoint closed
        return sock

    def _serve(self):
        import time

        while self.sock is None and not self.closed:
            time.sleep(RETRY_BIND)
            try:
                self.sock = self._bind()
                self.log.info("Metrics at: %s (%s)", self, os.getpid())
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    self.log.error("Cannot bind metrics_bind %s: %s", self._text(), exc)
                    return
        while not self.closed:
            sock = self.sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.closed:
                    return
                continue
            try:
                self._answer(conn)
            except Exception:  # a broken scrape must never end the endpoint
                self.log.debug("Metrics scrape failed", exc_info=True)
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    def _answer(self, conn):
        conn.settimeout(REQUEST_TIMEOUT)
        head = b""
        while b"\r\n\r\n" not in head and b"\n\n" not in head and len(head) < MAX_REQUEST:
            data = conn.recv(4096)
            if not data:
                break
            head += data
        lines = head.decode("latin-1").split("\n")
        parts = lines[0].split()
        if len(parts) < 2:
            return self._send(conn, "400 Bad Request", "text/plain", b"bad request\n")
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        if path != "/metrics":
            return self._send(conn, "404 Not Found", "text/plain", b"not found; try /metrics\n")
        if method not in ("GET", "HEAD"):
            return self._send(conn, "405 Method Not Allowed", "text/plain", b"GET only\n")
        accept = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "accept":
                accept = value.strip()
        openmetrics = wants_openmetrics(accept)
        body = render(self.hub.samples(), openmetrics)
        self._send(conn, "200 OK", OPENMETRICS_TYPE if openmetrics else TEXT_TYPE, body, method == "HEAD")

    def _send(self, conn, status, content_type, body, head_only=False):
        head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode("latin-1")
        conn.sendall(head if head_only else head + body)


def _unix_in_use(path):
    """Whether something accepts connections on the unix socket at `path`."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
