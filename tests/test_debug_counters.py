"""The request cycle's pools balance: every receive buffer and parser lent is given back or let go,
every connection opened is closed, every parked connection is resumed.

These tests need a debug build, whose compiled modules keep the counters (corn._state.debug_report);
in a release build they are skipped. To run them:

    CORN_DEBUG=1 python setup.py build_ext --inplace --force
    pytest tests/test_debug_counters.py
    python setup.py build_ext --inplace --force     # the release build again

Each test serves real connections over socket pairs with the compiled handler, in this process,
and compares the counters before and after.
"""

import socket

import pytest

from corn._handler import ConnectionHandler, WorkerState
from corn._state import debug_report
from corn._stream import Engine
from corn.options import options_for

pytestmark = pytest.mark.skipif(debug_report() is None, reason="a release build keeps no debug counters")

PARKED = -2
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class QuietLog:
    access_enabled = False

    def debug(self, *args, **kwargs):
        pass

    info = warning = error = exception = debug


class Listener:
    class sock:
        @staticmethod
        def getsockname():
            return ("127.0.0.1", 8000)


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok:" + body]


def handler(parks=False):
    return ConnectionHandler(app, options_for(), QuietLog(), Listener, Engine(parks), WorkerState(),
                             multithread=True)


def balanced(before):
    """The counters moved since `before` and nothing is left lent, open or parked."""
    now = debug_report()
    moved = {name: now[name] - before[name] for name in now}
    for kind, back in (("buffers", "lent"), ("parsers", "pooled")):
        taken = moved[f"{kind}_made"] + moved[f"{kind}_taken"]
        assert taken == moved[f"{kind}_{back}"] + moved[f"{kind}_dropped"], moved
    assert moved["connections_opened"] == moved["connections_closed"], moved
    assert moved["connections_parked"] == moved["connections_unparked"], moved
    return moved


def serve(serving, data):
    """Send `data` and the end of input on a socket pair, serve the server side, read the answer."""
    client, server = socket.socketpair()
    with client:
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        serving.handle(server, ("127.0.0.1", 50000))
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("data, responses", [
    (GET * 3, 3),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + GET, 2),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", 0),  # cut in its body: no answer
    (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + GET, 1),  # refused: the rest is not read
    (b"GET / HT", 0),
    (b"", 0),
])
def test_connections_give_back_what_they_take(data, responses):
    serving = handler()
    before = debug_report()
    for _ in range(3):
        assert serve(serving, data).count(b"HTTP/1.1 ") == responses
    moved = balanced(before)
    assert moved["connections_opened"] == 3


def test_parked_connections_are_resumed_and_balance():
    serving = handler(parks=True)
    before = debug_report()
    pairs = [socket.socketpair() for _ in range(3)]
    conns = [serving.open(server, ("127.0.0.1", 50000 + i)) for i, (_, server) in enumerate(pairs)]
    assert [serving.resume(conn) for conn in conns] == [PARKED] * 3  # nothing sent yet
    for client, _ in pairs:
        client.sendall(GET)
    assert [serving.resume(conn) for conn in conns] == [PARKED] * 3  # served, waiting for the next
    for client, _ in pairs:
        assert client.recv(65536).startswith(b"HTTP/1.1 200 OK")
        client.close()
    assert [serving.resume(conn) for conn in conns] == [0] * 3
    moved = balanced(before)
    assert moved["connections_parked"] == 6
    assert moved["buffers_lent"] >= 3  # a parked connection holds no buffer


def test_a_parked_connection_that_expires_is_closed_and_balances():
    serving = handler(parks=True)
    before = debug_report()
    client, server = socket.socketpair()
    with client:
        conn = serving.open(server, ("127.0.0.1", 50000))
        assert serving.resume(conn) == PARKED
        assert serving.resume(conn, True) == 0  # its deadline passed with nothing received
        assert client.recv(65536) == b""  # it sent nothing: closed without an answer
    moved = balanced(before)
    assert moved["connections_parked"] == moved["connections_closed"] == 1
