"""No request is lost under steady load while workers come and go.

A bounded load generator (a few threads, a few hundred requests per second: half on kept-alive
connections, half on a new connection each) runs against `-w 2` while the server is reloaded
(HUP), upgraded (USR2, then QUIT to the old master), shrunk (TTOU), recycled by max_requests, and
stopped (TERM). Every request sent on an established connection must get its whole response: a
reset, an early close or an error status is a failure. Connection attempts refused once the
listener is gone (only after TERM) are counted apart, as the client would retry them elsewhere;
so is a connection made after TERM that the kernel queued on the listener just before the last
process holding it closed it (reset before a byte came back: no process ever accepted it).
"""

import os
import re
import signal
import socket
import threading
import time

import pytest
from conftest import DEADLINE, RawClient, child_pids, pid_alive, wait_for

pytestmark = pytest.mark.usefixtures("worker_class")

REQUEST = b"GET /pid HTTP/1.1\r\nHost: load\r\n\r\n"  # the answer names the worker
CLOSE_REQUEST = b"GET /pid HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n"
KEEP_ALIVE_THREADS = 4
NEW_CONNECTION_THREADS = 2
RATE_PER_THREAD = 50.0  # requests per second: 300 in all
MAX_REQUESTS_PER_THREAD = 20000  # a bound on each thread, whatever happens
IO_TIMEOUT = 30.0

class Load:
    """Runs the client threads until `stop()`; counts what happened to every request."""

    def __init__(self, port):
        self.port = port
        self.ok = 0
        self.refused = 0
        self.failures = []  # (kind, what happened), for the assertion message
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.connected_to = {}  # keep-alive thread number -> pid of the worker its connection is on
        self.closing_since = None  # monotonic time the listener began to close (TERM), set by the test
        self.threads = [threading.Thread(target=self.keep_alive, args=(n,), daemon=True)
                        for n in range(KEEP_ALIVE_THREADS)]
        self.threads += [threading.Thread(target=self.new_connections, daemon=True)
                         for _ in range(NEW_CONNECTION_THREADS)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(DEADLINE)
        assert not any(thread.is_alive() for thread in self.threads), "a load thread did not stop"

    def count(self, outcome, detail=None):
        with self.lock:
            if outcome == "ok":
                self.ok += 1
            elif outcome == "refused":
                self.refused += 1
            else:
                self.failures.append((outcome, detail))

    def paced(self):
        """Yields once per request slot until stopped (at most MAX_REQUESTS_PER_THREAD times)."""
        interval = 1.0 / RATE_PER_THREAD
        next_at = time.monotonic()
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if self.done.is_set():
                return
            delay = next_at - time.monotonic()
            if delay > 0:
                self.done.wait(delay)
            next_at = max(next_at + interval, time.monotonic() - interval)
            yield

    def connect(self):
        try:
            return socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
        except ConnectionRefusedError:
            self.count("refused")
            return None

    def exchange(self, sock, request, kind, opened_at):
        """Send one request, read its response; returns it, or None after counting a failure."""
        client = RawClient(sock)
        try:
            client.send(request)
            response = client.read_response()
        except (OSError, EOFError, ValueError) as exc:
            if self.reset_in_closing_listener(exc, client, opened_at):
                self.count("refused")
            else:
                self.count(kind, f"{type(exc).__name__}: {exc}")
            return None
        if response.status != 200 or not response.body.isdigit():
            self.count(kind, f"status {response.status}, body {response.body[:40]!r}")
            return None
        self.count("ok")
        return response

    def reset_in_closing_listener(self, exc, client, opened_at):
        return (self.closing_since is not None and opened_at >= self.closing_since and not client.buf
                and isinstance(exc, (ConnectionResetError, BrokenPipeError)))

    def keep_alive(self, number):
        sock = None
        opened_at = 0.0
        for _ in self.paced():
            if sock is None:
                opened_at = time.monotonic()
                sock = self.connect()
                if sock is None:
                    continue
            response = self.exchange(sock, REQUEST, "kept-alive connection", opened_at)
            closing = response is None or (response.header("connection") or "").lower() == "close"
            with self.lock:
                self.connected_to[number] = None if closing else int(response.body)
            if closing:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()

    def new_connections(self):
        for _ in self.paced():
            opened_at = time.monotonic()
            sock = self.connect()
            if sock is not None:
                with sock:
                    self.exchange(sock, CLOSE_REQUEST, "new connection", opened_at)

    def kept_alive_on(self):
        """The pids of the workers the kept-alive connections are on now."""
        with self.lock:
            return [pid for pid in self.connected_to.values() if pid is not None]

    def served(self):
        with self.lock:
            return self.ok

    def wait_for_more(self, count, message):
        target = self.served() + count
        wait_for(lambda: self.served() >= target, message=message)

    def assert_no_failures(self):
        assert self.ok > 0
        failed = len(self.failures)
        assert not self.failures, f"{failed} of {self.ok + failed} failed: {self.failures[:5]}"


@pytest.fixture
def load_server(corn_server):
    server = corn_server("basic:app", "-w", "2", "--graceful-timeout", "20")
    load = Load(server.port).start()
    try:
        load.wait_for_more(100, "the load to start")
        yield server, load
    finally:
        load.stop()


def test_hup(load_server):
    server, load = load_server
    before = set(server.booted_workers())
    server.signal(signal.SIGHUP)
    wait_for(lambda: "Reload complete" in server.log(), message="the reload")
    wait_for(lambda: not set(child_pids(server.pid)) & before, message="the old workers to exit")
    load.wait_for_more(300, "requests after the reload")
    load.stop()
    load.assert_no_failures()
    assert load.refused == 0


def test_usr2_then_quit_the_old_master(load_server):
    server, load = load_server
    old_master = server.pid
    server.signal(signal.SIGUSR2)
    new_master = wait_for(
        lambda: next((int(p) for p in re.findall(r"Listening at: \S+ \((\d+)\)", server.log())
                      if int(p) != old_master), None),
        message="the new master",
    )
    try:
        wait_for(lambda: len(child_pids(new_master)) == 2 and all(
            f"Booting worker with pid: {pid}" in server.log() for pid in child_pids(new_master)),
            message="the new master's workers")
        load.wait_for_more(100, "requests with both masters up")
        server.signal(signal.SIGQUIT)
        assert server.wait_exit() == 0
        wait_for(lambda: "Master has been promoted." in server.log(), message="the promotion")
        load.wait_for_more(300, "requests served by the new master")
        load.stop()
    finally:
        if pid_alive(new_master):
            os.kill(new_master, signal.SIGTERM)
        wait_for(lambda: not pid_alive(new_master), message="the new master to stop")
    load.assert_no_failures()
    assert load.refused == 0


@pytest.mark.workers("gevent", "gthread", why="it retires the worker its kept-alive clients are on")
def test_ttou(corn_server):
    # One worker first, so that every kept-alive connection is on it; TTIN adds a second one,
    # and TTOU then retires the oldest: the one all those clients are on.
    server = corn_server("basic:app", "-w", "1", "--graceful-timeout", "20")
    (oldest,) = server.booted_workers()
    load = Load(server.port).start()
    try:
        load.wait_for_more(100, "the load to start")
        assert set(load.kept_alive_on()) == {oldest}
        server.signal(signal.SIGTTIN)
        wait_for(lambda: len(server.booted_workers()) == 2, message="two workers after TTIN")
        load.wait_for_more(100, "requests with two workers")
        server.signal(signal.SIGTTOU)
        wait_for(lambda: child_pids(server.pid) and oldest not in child_pids(server.pid),
                 message="the oldest worker to be retired")
        load.wait_for_more(300, "requests after the TTOU")
    finally:
        load.stop()
    load.assert_no_failures()
    assert load.refused == 0


def test_max_requests_recycling(corn_server):
    server = corn_server("basic:app", "-w", "2", "--max-requests", "50", "--max-requests-jitter", "10")
    load = Load(server.port).start()
    try:
        wait_for(lambda: server.log().count("Autorestarting worker") >= 6, message="six recycled workers")
        load.wait_for_more(100, "requests after the recycling")
    finally:
        load.stop()
    load.assert_no_failures()
    assert load.refused == 0


def test_term(load_server):
    server, load = load_server
    load.closing_since = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    load.stop()
    load.assert_no_failures()  # refused connections after the listener closed are not failures
