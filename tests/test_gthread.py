"""What the thread-pool workers add (gthread, and tornado serving a WSGI app: the same pool with
tornado's IOLoop holding the connections): N threads serving N requests that block in C at once,
connections that wait for a request holding no thread; and `--threads` choosing the worker as in
gunicorn."""

import json
import socket
import threading

import pytest
from conftest import DEADLINE, RawClient, http_request

# The app counts the /csleep requests inside it at once and reports the most it saw.
OVERLAP_APP = '''
import ctypes
import threading

libc = ctypes.CDLL(None)
lock = threading.Lock()
inside = 0
most = 0


def app(environ, start_response):
    global inside, most
    with lock:
        inside += 1
        most = max(most, inside)
    try:
        if environ["PATH_INFO"] == "/csleep":
            libc.usleep(1500000)  # in C: no greenlet switch, the GIL released
        body = str(most).encode()
    finally:
        with lock:
            inside -= 1
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


POOLED = pytest.mark.parametrize("pooled", ["gthread", "tornado"])


def fetch_all(port, paths):
    """One connection per path, all sent before any response is read; the response bodies."""
    socks = []
    try:
        for path in paths:
            sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(sock)
        return [RawClient(sock).read_response().body for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@POOLED
def test_threads_serve_requests_that_block_in_c_at_the_same_time(corn_server, tmp_path, pooled):
    (tmp_path / "overlap_app.py").write_text(OVERLAP_APP)
    server = corn_server("overlap_app:app", "-k", pooled, "-w", "1", "--threads", "4",
                         "--pythonpath", str(tmp_path))
    bodies = fetch_all(server.port, ["/csleep"] * 4)
    assert max(int(body) for body in bodies) == 4


@POOLED
def test_django_app_serves_eight_requests_at_once_per_worker(corn_server, pooled):
    server = corn_server("django_app", "-k", pooled, "-w", "2", "--threads", "8")
    # 16 blocked requests fill both workers' threads; each worker sees its 8 at once
    bodies = fetch_all(server.port, ["/blocking"] * 16)
    assert max(json.loads(body)["most_at_once"] for body in bodies) == 8


def test_threads_over_one_make_the_default_worker_gthread(corn_server):
    server = corn_server("basic:app", "-w", "1", "--threads", "3")
    assert "Using worker: gthread" in server.log()
    names = set(fetch_all(server.port, ["/csleep?s=3"] * 3))
    assert names == {b"corn-worker-1", b"corn-worker-2", b"corn-worker-3"}


def test_threads_over_one_turn_sync_into_gthread(corn_server):
    server = corn_server("basic:app", "-w", "1", "-k", "sync", "--threads", "2")
    assert "Using worker: gthread" in server.log()
    assert http_request(server.port).status == 200


def test_threads_with_gevent_named_are_ignored_with_one_warning(corn_server):
    server = corn_server("basic:app", "-w", "1", "-k", "gevent", "--threads", "4")
    assert "Using worker: gevent" in server.log()
    assert server.log().count("threads = 4 has no effect") == 1
    assert http_request(server.port).status == 200


@POOLED
@pytest.mark.parametrize("silence", [b"", b"GET / HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "half-a-head"])
def test_connections_waiting_for_a_request_hold_no_thread(corn_server, silence, pooled):
    # One thread, and a read deadline far beyond the client's: were a waiting connection to hold
    # the thread, the last request would not be answered before the client gives up.
    server = corn_server("basic:app", "-k", pooled, "-w", "1", "--threads", "1", "--timeout", "600",
                         "--keep-alive", "600")
    waiting = []
    try:
        for _ in range(5):
            sock = server.connect()
            sock.sendall(silence)
            waiting.append(sock)
        kept = server.connect()  # a kept-alive connection, idle after its first response
        client = RawClient(kept)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().status == 200
        waiting.append(kept)
        assert http_request(server.port, timeout=30).status == 200
        if silence:
            waiting[0].sendall(b"\r\n")  # the rest of a head that waited: served as any other
            assert RawClient(waiting[0]).read_response().status == 200
    finally:
        for sock in waiting:
            sock.close()


@POOLED
def test_requests_queued_behind_a_body_being_read_are_all_served(corn_server, pooled):
    server = corn_server("basic:app", "-k", pooled, "-w", "1", "--threads", "1")
    with server.connect() as slow, server.connect() as fast:
        slow_client = RawClient(slow)
        slow_client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
        fast.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        slow_client.send(b"def")
        assert slow_client.read_response().body == b"abcdef"
        fast_client = RawClient(fast)
        assert [fast_client.read_response().status for _ in range(3)] == [200] * 3


@POOLED
def test_each_thread_serves_many_connections_over_time(corn_server, pooled):
    server = corn_server("basic:app", "-k", pooled, "-w", "1", "--threads", "2")
    results = []

    def client():
        for _ in range(20):
            results.append(http_request(server.port).status)

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(DEADLINE)
    assert results == [200] * 80

