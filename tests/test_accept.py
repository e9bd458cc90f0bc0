"""The accept loops of the gevent and gthread workers: the worker_connections limit, accept(2)
failing for want of descriptors, and a fresh start for every connection."""

import selectors
import socket
import time

import pytest
from conftest import DEADLINE, RawClient, wait_for

pytestmark = [
    pytest.mark.usefixtures("worker_class"),
    pytest.mark.workers("gevent", "gthread", why="the sync worker takes one connection at a time"),
]

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

CONTEXT_APP = '''
import contextvars

seen = contextvars.ContextVar("seen", default="unset")


def app(environ, start_response):
    body = seen.get().encode()
    seen.set("set by an earlier request")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''

# Leaves the worker FD_HEADROOM descriptors above what it holds once booted: its poller and a
# few connections; accept(2) fails with EMFILE beyond that.
FD_HEADROOM = 4
LOW_FD_LIMIT_CONF = '''
import os, resource

def post_worker_init(worker):
    in_use = max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + {headroom}, hard))
'''


def answered(sock, timeout):
    """The status of the response on `sock`, or None if nothing arrived within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return RawClient(sock).read_response().status
    except socket.timeout:
        return None
    finally:
        sock.settimeout(DEADLINE)


def test_worker_connections_caps_the_connections_served_at_once(corn_server):
    server = corn_server("basic:app", "-w", "1", "--worker-connections", "2")
    first, second, third = server.connect(), server.connect(), server.connect()
    try:
        for sock in (first, second):
            sock.sendall(REQUEST)
            assert RawClient(sock).read_response().status == 200
        third.sendall(REQUEST)
        # Two kept-alive connections fill the worker: the third waits in the listen queue.
        assert answered(third, timeout=1.0) is None
        first.close()
        assert answered(third, timeout=DEADLINE) == 200
        second.sendall(REQUEST)
        assert RawClient(second).read_response().status == 200
    finally:
        for sock in (first, second, third):
            sock.close()


def test_each_connection_starts_with_fresh_context_variables(corn_server, tmp_path):
    (tmp_path / "context_app.py").write_text(CONTEXT_APP)
    server = corn_server("context_app:app", "-w", "1", "--pythonpath", str(tmp_path))
    # One after another: nothing a connection set is seen by the next.
    for _ in range(20):
        with server.connect() as sock:
            client = RawClient(sock)
            sock.sendall(REQUEST)
            assert client.read_response().body == b"unset"
            sock.sendall(REQUEST)  # the same connection: the same context
            assert client.read_response().body == b"set by an earlier request"


def test_accept_failing_with_emfile_pauses_then_serves_every_connection(corn_server, tmp_path):
    conf = tmp_path / "low_fds.conf.py"
    conf.write_text(LOW_FD_LIMIT_CONF.format(headroom=FD_HEADROOM))
    server = corn_server("basic:app", "-w", "1", "-c", str(conf))
    (worker,) = server.booted_workers()
    count = 3 * FD_HEADROOM
    socks = [server.connect() for _ in range(count)]
    statuses = {}
    try:
        for sock in socks:
            sock.sendall(REQUEST)
        wait_for(lambda: "Too many open files" in server.log(), message="the accept failure in the log")
        # Each answered connection is closed, which gives the worker a descriptor for the next.
        with selectors.DefaultSelector() as selector:
            for index, sock in enumerate(socks):
                selector.register(sock, selectors.EVENT_READ, index)
            end = time.monotonic() + DEADLINE
            while len(statuses) < count and time.monotonic() < end:
                for key, _ in selector.select(timeout=1.0):
                    selector.unregister(key.fileobj)
                    statuses[key.data] = RawClient(key.fileobj).read_response().status
                    key.fileobj.close()
    finally:
        for sock in socks:
            sock.close()
    assert statuses == {index: 200 for index in range(count)}
    assert "accept() failed" in server.log()
    assert server.booted_workers() == [worker]  # paused, not crashed
