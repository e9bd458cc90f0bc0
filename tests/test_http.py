"""HTTP/1.1 over real sockets against a real corn server, under every worker class."""

import os
import re
import socket
import threading
import time

import pytest
from conftest import RawClient, http_request, wait_for

pytestmark = pytest.mark.usefixtures("worker_class")
KEEP_ALIVE = pytest.mark.workers("gevent", "gthread", why="the sync worker closes the connection after each response")


@pytest.fixture
def server(corn_server):
    return corn_server("basic:app", "-w", "1")


def test_get(server):
    resp = http_request(server.port, "GET", "/")
    assert resp.status == 200
    assert resp.body == b"Hello, World!"
    assert resp.header("content-length") == "13"
    assert resp.header("server") == "corn"
    assert resp.header("date", "").endswith(" GMT")


def test_post_body_is_echoed(server):
    body = bytes(range(256)) * 300
    resp = http_request(server.port, "POST", "/echo", body=body)
    assert resp.status == 200
    assert resp.body == body


@KEEP_ALIVE
def test_keep_alive_serves_several_requests_on_one_connection(server):
    with server.connect() as sock:
        client = RawClient(sock)
        for i in range(5):
            client.send(f"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n{i}".encode())
            resp = client.read_response()
            assert resp.status == 200
            assert resp.body == str(i).encode()
            assert resp.header("connection") == "keep-alive"


@KEEP_ALIVE
def test_three_pipelined_requests_are_answered_in_order(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
            b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthird"
        )
        first, second, third = (client.read_response() for _ in range(3))
        assert first.body == b"first"
        assert second.body.isdigit()
        assert third.body == b"third"
        assert third.header("connection") == "close"
        assert client.closed_by_peer()


@KEEP_ALIVE
def test_pipelined_large_responses_to_a_client_that_reads_late(server):
    """Each response is larger than the socket buffers and the client reads only after sending
    everything: heads and bodies go out in parts, after waits, and must arrive whole and in order."""
    bodies = [os.urandom(3 * 1024 * 1024) for _ in range(3)]
    requests = b"".join(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body for body in bodies
    )
    with server.connect() as sock:
        sender = threading.Thread(target=sock.sendall, args=(requests,), daemon=True)
        sender.start()
        client = RawClient(sock)
        received = [client.read_response() for _ in bodies]
        sender.join(timeout=60)
    assert [resp.status for resp in received] == [200, 200, 200]
    assert [resp.body == body for resp, body in zip(received, bodies)] == [True, True, True]


@KEEP_ALIVE
def test_many_pipelined_responses_to_a_small_receive_window(server):
    """Thousands of pipelined requests (6 MB) read back through a tiny receive window while they
    are still being sent: every response whole and in order."""
    count = 3000
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    with sock:
        sock.connect(("127.0.0.1", server.port))
        bodies_sent = [b"%d:" % i + b"x" * 2000 for i in range(count)]  # 6 MB: beyond any socket buffer
        requests = b"".join(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                            for body in bodies_sent)
        sender = threading.Thread(target=sock.sendall, args=(requests,), daemon=True)
        sender.start()
        client = RawClient(sock)
        bodies = [client.read_response().body for _ in range(count)]
        sender.join(timeout=60)
    assert bodies == bodies_sent


@KEEP_ALIVE
def test_a_request_that_arrives_while_the_connection_is_busy_is_served(corn_server):
    """The next request comes in while the app is still answering the previous one: the readiness
    seen then must not be lost, or the connection would wait for bytes already there."""
    server = corn_server("wsgi_checks:app", "-w", "1")
    for _ in range(3):
        with server.connect() as sock:
            client = RawClient(sock)
            client.send(b"GET /env HTTP/1.1\r\nHost: x\r\n\r\n")  # then the server waits for more
            assert client.read_response().status == 200
            client.send(b"GET /wait-for-next HTTP/1.1\r\nHost: x\r\n\r\n")
            while b"waiting" not in client.buf:
                client._fill()
            client.send(b"GET /env HTTP/1.1\r\nHost: x\r\n\r\n")
            first = client.read_response()
            second = client.read_response()
            assert first.body == b"waiting\nnext request seen\n"
            assert second.status == 200 and b"REQUEST_METHOD" in second.body


def test_chunked_upload(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        )
        resp = client.read_response()
        assert resp.status == 200
        assert resp.body == b"hello, world"


@KEEP_ALIVE
def test_chunked_upload_then_next_request_on_same_connection(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert client.read_response().body == b"abc"
        assert client.read_response().body == b"Hello, World!"


def test_malformed_request_gets_400_and_the_connection_is_closed(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: value\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 400
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


def test_unsupported_transfer_coding_is_501(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n")
        resp = client.read_response()
        assert (resp.status, resp.reason) == (501, "Not Implemented")
        assert client.closed_by_peer()


def test_request_line_too_long_is_414(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 414
        assert client.closed_by_peer()


@KEEP_ALIVE
def test_head_has_no_body_and_keeps_the_length(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = client.read_response(head_request=True)
        assert head.status == 200
        assert head.header("content-length") == "13"
        assert client.read_response().body == b"Hello, World!"


def test_response_without_length_is_chunked_on_http11(server):
    resp = http_request(server.port, "GET", "/chunks")
    assert resp.header("transfer-encoding") == "chunked"
    assert resp.body == b"one,two,three"


def test_http10_response_without_length_ends_at_close(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /chunks HTTP/1.0\r\n\r\n")
        resp = client.read_response()
        assert resp.version == "HTTP/1.0"
        assert resp.header("transfer-encoding") is None
        assert resp.body == b"one,two,three"


@KEEP_ALIVE
def test_http10_closes_unless_keep_alive_is_asked_for(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        resp = client.read_response()
        assert resp.header("connection") == "keep-alive"
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        resp = client.read_response()
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


# Whole, or one byte per send, or in pieces that split the field names and values.
PIECES = {"whole": None, "bytes": 1, "pieces": 7}


@pytest.mark.parametrize("pieces", sorted(PIECES))
@pytest.mark.parametrize("fields", [
    b"Connection: foo, close\r\n",
    b"Connection: close, foo\r\n",
    b"Connection: ,foo ,\tCLOSE ,\r\n",
    b"Connection: upgrade\r\nConnection: close\r\n",
], ids=["last", "first", "ows-case", "second-field"])
def test_close_anywhere_in_the_connection_list_closes(server, fields, pieces):
    """RFC 9110 7.6.1: the response says close, the connection ends, and a request pipelined
    behind it is not served."""
    with server.connect() as sock:
        client = RawClient(sock)
        # the head in pieces; its last CRLF goes with the pipelined request, so nothing is sent
        # after the server may have closed
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + fields, PIECES[pieces])
        client.send(b"\r\nGET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.body == b"Hello, World!"
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


@KEEP_ALIVE
@pytest.mark.parametrize("pieces", sorted(PIECES))
@pytest.mark.parametrize("fields", [
    b"Connection: Upgrade, keep-alive\r\n",
    b"Connection: foo\r\nConnection: Keep-Alive\r\n",
], ids=["list", "second-field"])
def test_keep_alive_anywhere_in_the_connection_list_keeps_http10(server, fields, pieces):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.0\r\n" + fields + b"\r\n", PIECES[pieces])
        resp = client.read_response()
        assert resp.header("connection") == "keep-alive"
        client.send(b"GET /pid HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", PIECES[pieces])
        resp = client.read_response()
        assert resp.body.isdigit()
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


@KEEP_ALIVE
def test_a_token_that_only_holds_close_keeps_the_connection(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed, x-close\r\n\r\n")
        assert client.read_response().header("connection") == "keep-alive"
        client.send(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().body.isdigit()


@KEEP_ALIVE
@pytest.mark.parametrize("pieces", sorted(PIECES))
@pytest.mark.parametrize("version", [b"1.2", b"1.9"])
def test_later_http1_minor_versions_are_served_as_http11(server, version, pieces):
    """RFC 9110 2.5 and 6.2: the status line, SERVER_PROTOCOL, the default keep-alive and the
    chunked response all say HTTP/1.1."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /environ HTTP/" + version + b"\r\nHost: x\r\n\r\n", PIECES[pieces])
        resp = client.read_response()
        assert (resp.version, resp.status) == ("HTTP/1.1", 200)
        assert resp.header("connection") == "keep-alive"
        assert "SERVER_PROTOCOL=HTTP/1.1" in resp.body.decode("latin-1").splitlines()
        client.send(b"GET /chunks HTTP/" + version + b"\r\nHost: x\r\n\r\n", PIECES[pieces])
        resp = client.read_response()
        assert resp.version == "HTTP/1.1"
        assert resp.header("transfer-encoding") == "chunked"
        assert resp.body == b"one,two,three"


@pytest.mark.parametrize("version", [b"2.0", b"3.0", b"0.9", b"1.10"])
def test_other_http_versions_are_refused(server, version):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/" + version + b"\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 400
        assert client.closed_by_peer()


IMF_FIXDATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"\d{4} \d\d:\d\d:\d\d GMT")

ERROR_REQUESTS = {
    400: b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: value\r\n\r\n",
    414: b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    431: b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n",
    501: b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n",
    500: b"GET /raise HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("pieces", sorted(PIECES))
@pytest.mark.parametrize("status", sorted(ERROR_REQUESTS))
def test_error_responses_carry_date_and_server(server, status, pieces):
    """RFC 9110 6.6.1: Date on every 4xx (and corn sends it on 5xx too), like any other response."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(ERROR_REQUESTS[status], None if status in (414, 431) else PIECES[pieces])
        resp = client.read_response()
        assert resp.status == status
        assert IMF_FIXDATE.fullmatch(resp.header("date", ""))
        assert resp.header("server") == "corn"
        assert resp.header("connection") == "close"
        assert int(resp.header("content-length")) == len(resp.body)
        assert client.closed_by_peer()


@pytest.mark.parametrize("request_bytes", [
    b"HEAD /raise HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: x\r\nBad Header: value\r\n\r\n",
], ids=["500", "400"])
def test_error_response_to_head_has_no_content(server, request_bytes):
    """RFC 9110 9.3.2: found by fuzz/request_cycle.py, a 500 (or a 400) to HEAD carried its page."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(request_bytes)
        resp = client.read_response(head_request=True)
        assert resp.status in (400, 500)
        assert int(resp.header("content-length")) > 0
        assert client.closed_by_peer()


def test_timeout_response_carries_date_and_server(corn_server):
    server = corn_server("basic:app", "--header-timeout", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        resp = client.read_response()
        assert resp.status == 408
        assert IMF_FIXDATE.fullmatch(resp.header("date", ""))
        assert resp.header("server") == "corn"


def test_app_exception_gives_500_without_traceback_and_is_logged(server):
    resp = http_request(server.port, "GET", "/raise")
    assert resp.status == 500
    assert b"Traceback" not in resp.body and b"on purpose" not in resp.body
    wait_for(lambda: "the app failed on purpose" in server.log(), message="the traceback in the error log")


def test_environ_has_the_pep3333_keys(server):
    resp = http_request(server.port, "GET", "/environ%2Fx?a=1&b=%20", headers=["X-Multi: 1", "X-Multi: 2"])
    lines = dict(line.split("=", 1) for line in resp.body.decode("latin-1").splitlines())
    assert lines["REQUEST_METHOD"] == "GET"
    assert lines["PATH_INFO"] == "/environ/x"
    assert lines["RAW_URI"] == "/environ%2Fx?a=1&b=%20"
    assert lines["QUERY_STRING"] == "a=1&b=%20"
    assert lines["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert lines["SERVER_NAME"] == "127.0.0.1"
    assert lines["SERVER_PORT"] == str(server.port)
    assert lines["REMOTE_ADDR"] == "127.0.0.1"
    assert lines["HTTP_HOST"] == "127.0.0.1"
    assert lines["HTTP_X_MULTI"] == "1,2"
    assert lines["wsgi.url_scheme"] == "http"
    assert lines["SERVER_SOFTWARE"].startswith("corn/")


def test_client_vanishing_mid_body_does_not_hurt_the_worker(server):
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial")
    resp = http_request(server.port, "GET", "/")
    assert resp.status == 200


@KEEP_ALIVE
def test_unread_body_is_drained_before_the_next_request(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().body == b"Hello, World!"
        assert client.read_response().body.isdigit()


def test_expect_100_continue_is_answered_when_the_app_reads(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        interim = client.read_response()
        assert interim.status == 100
        client.send(b"data")
        resp = client.read_response()
        assert resp.body == b"data"


@pytest.mark.workers("sync", why="it names the sync worker")
def test_sync_worker_serves_and_closes(corn_server):
    server = corn_server("basic:app", "-k", "sync", "-w", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        resp = client.read_response()
        assert resp.body == b"abc"
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


@pytest.mark.workers("gevent", "gthread", why="the sync worker serves one connection at a time")
def test_many_concurrent_connections_on_one_worker(server):
    socks = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
            sock.sendall(b"GET /sleep?s=0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(sock)
        bodies = [RawClient(sock).read_response().body for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert bodies == [b"slept"] * 50


@KEEP_ALIVE
def test_idle_keep_alive_connection_is_closed_after_keepalive_seconds(corn_server):
    server = corn_server("basic:app", "--keep-alive", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().header("connection") == "keep-alive"
        assert client.closed_by_peer(timeout=60)


def test_keep_alive_zero_closes_after_each_response(corn_server):
    server = corn_server("basic:app", "--keep-alive", "0")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().header("connection") == "close"
        assert client.closed_by_peer()


@KEEP_ALIVE
def test_busy_keep_alive_connection_outlives_the_keepalive_timeout(corn_server):
    """keepalive bounds the idle wait between requests, not the life of a busy connection."""
    server = corn_server("basic:app", "--keep-alive", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        end = time.monotonic() + 3
        served = 0
        while time.monotonic() < end and served < 100000:
            client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.read_response().body == b"Hello, World!"
            served += 1
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().body == b"Hello, World!"
    assert served > 1


def test_stalled_body_read_times_out_and_the_worker_serves_on(corn_server):
    """A client that stops in the middle of its body is cut off after `timeout`, not kept forever."""
    server = corn_server("basic:app", "-w", "1", "--timeout", "2", "--keep-alive", "60")
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert RawClient(sock).closed_by_peer(timeout=60)
    assert http_request(server.port, "GET", "/").body == b"Hello, World!"


@KEEP_ALIVE
def test_idle_wait_after_a_slow_body_is_bounded_by_keepalive_not_timeout(corn_server):
    """The body wait ran under the long `timeout`; the idle wait after the response must still end
    after `keepalive` (60 s here is half of `timeout`)."""
    server = corn_server("basic:app", "-w", "1", "--timeout", "120", "--keep-alive", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
        time.sleep(0.5)  # the server is now waiting for the body
        client.send(b"abc")
        assert client.read_response().body == b"abc"
        assert client.closed_by_peer(timeout=60)


@KEEP_ALIVE
def test_idle_wait_after_an_app_that_outlasts_keepalive_still_ends(corn_server):
    """The read timer can lapse while the app runs (it is not a read wait); the next idle wait
    must arm it again."""
    server = corn_server("basic:app", "-w", "1", "--timeout", "120", "--keep-alive", "1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().header("connection") == "keep-alive"
        client.send(b"GET /sleep?s=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response().body == b"slept"
        assert client.closed_by_peer(timeout=60)


@KEEP_ALIVE
def test_unread_body_after_expect_100_continue_closes_instead_of_waiting(server):
    """The app answered without reading: no 100 was sent, so the client may never send the body;
    the connection is closed rather than left waiting for it."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 200 and resp.body == b"Hello, World!"
        assert client.closed_by_peer(timeout=20)
