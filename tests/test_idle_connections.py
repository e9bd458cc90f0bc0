"""Connections that wait: an idle keep-alive client or a new one that has sent nothing holds no
greenlet under the gevent worker, and a request that waits inside the app holds up no other
connection under any worker that serves many at once."""

import socket
import threading
import time

import pytest
from conftest import DEADLINE, RawClient

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
IDLE_CONNECTIONS = 200

GREENLETS_APP = '''
import gc

from greenlet import greenlet


def app(environ, start_response):
    if environ["PATH_INFO"] == "/greenlets":
        body = str(sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)).encode()
    else:
        body = b"Hello, World!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''

# /wait answers once the file named by its query exists (polled cooperatively, for at most DEADLINE s)
WAITING_APP = f'''
import os
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/wait":
        end = time.monotonic() + {DEADLINE}
        while not os.path.exists(environ["QUERY_STRING"]) and time.monotonic() < end:
            time.sleep(0.02)
        body = b"released"
    else:
        body = b"Hello, World!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def wait_until(condition, seconds):
    """True as soon as `condition()` is, False once `seconds` have passed without it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def live_greenlets(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /greenlets HTTP/1.1\r\nHost: x\r\n\r\n")
        return int(client.read_response().body)


@pytest.mark.parametrize("first_request", [True, False], ids=["kept-alive", "silent"])
def test_waiting_connections_hold_no_greenlet_and_are_all_served_after(corn_server, tmp_path, first_request):
    (tmp_path / "greenlets_app.py").write_text(GREENLETS_APP)
    server = corn_server("greenlets_app:app", "-k", "gevent", "-w", "1", "--keep-alive", "300",
                         "--timeout", "300", "--pythonpath", str(tmp_path))
    before = live_greenlets(server)
    socks = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            socks.append(server.connect())
            if first_request:
                socks[-1].sendall(REQUEST)
        if first_request:
            assert all(RawClient(sock).read_response().status == 200 for sock in socks)
        # Every connection is open and waiting; the worker's greenlets are its hub, its main
        # greenlet and a few runners, not one per connection.
        during = live_greenlets(server)
        assert during < before + IDLE_CONNECTIONS // 4, (before, during)
        for sock in socks:
            sock.sendall(REQUEST)
        assert [RawClient(sock).read_response().body for sock in socks] == [b"Hello, World!"] * len(socks)
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.usefixtures("worker_class")
@pytest.mark.workers("gevent", "gthread", "eventlet", "tornado",
                     why="the sync worker serves one request at a time")
def test_a_request_waiting_in_the_app_holds_up_no_other_connection(corn_server, tmp_path):
    (tmp_path / "waiting_app.py").write_text(WAITING_APP)
    release = tmp_path / "release"
    server = corn_server("waiting_app:app", "-w", "1", "--pythonpath", str(tmp_path))
    kept, waiting, fresh = server.connect(), server.connect(), server.connect()
    try:
        kept.sendall(REQUEST)
        assert RawClient(kept).read_response().status == 200
        # The waiting request and the kept-alive connection's next one arrive together.
        waiting.sendall(f"GET /wait?{release} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        kept.sendall(REQUEST)
        fresh.sendall(REQUEST)
        assert RawClient(kept).read_response().body == b"Hello, World!"
        assert RawClient(fresh).read_response().body == b"Hello, World!"
        release.touch()
        assert RawClient(waiting).read_response().body == b"released"
    finally:
        for sock in (kept, waiting, fresh):
            sock.close()


def test_a_parked_connection_that_sends_a_head_too_slowly_gets_408(corn_server):
    """A kept-alive connection whose next head begins, then stalls: the head deadline still
    runs while the connection waits parked between the pieces."""
    server = corn_server("basic:app", "-k", "gevent", "-w", "1", "--header-timeout", "1",
                         "--keep-alive", "60")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(REQUEST)
        assert client.read_response().status == 200
        client.send(b"GET / HTTP/1.1\r\nHo")
        assert client.read_response().status == 408
        assert client.closed_by_peer()


@pytest.mark.usefixtures("worker_class")
@pytest.mark.workers("gevent", "gthread", "eventlet", "tornado",
                     why="the sync worker closes the connection after each response")
def test_pipelined_responses_read_late_all_arrive_in_order(corn_server):
    """A client that sends many requests before it reads any answer: the responses fill the
    socket's buffers (the gevent worker holds a response's last bytes to send them with other
    connections', then waits for room), and every one arrives, whole and in order."""
    server = corn_server("basic:app", "-w", "1")
    count = 1000  # 8 MB each way: more than the socket buffers hold
    bodies = [f"{i:08d}".encode() * 1000 for i in range(count)]
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", server.port))
        sender = threading.Thread(target=lambda: sock.sendall(b"".join(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            for body in bodies)), daemon=True)
        sender.start()
        # nothing is read for a while: the server fills the socket and has to wait for room
        wait_until(lambda: not sender.is_alive(), 0.5)
        client = RawClient(sock)
        answers = [client.read_response().body for _ in range(count)]
        sender.join(DEADLINE)
    assert answers == bodies
