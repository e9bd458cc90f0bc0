"""PEP 3333 semantics and response framing, over real sockets against a real corn server."""

import json
import os
import select
import socket
import threading
import time

import pytest
from conftest import APPS_DIR, RawClient, http_request, wait_for


@pytest.fixture
def server(worker_class, corn_server, tmp_path):
    record = tmp_path / "record.txt"
    record.write_text("")
    server = corn_server("wsgi_checks:app", env={"CORN_TEST_RECORD": str(record)})
    server.record = record
    server.worker_class = worker_class
    return server


BODY = b"line one\nline two\n\nlast line without newline"


def read_until_close(sock, timeout=60):
    """Every byte the server sends until it closes the connection (bounded by `timeout` per read)."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("style", ["read", "read-n", "readline", "readline-n", "readlines", "iter"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_wsgi_input_methods(server, style, framing):
    if framing == "length":
        payload = f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY
    else:
        payload = b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(
            b"%x\r\n%s\r\n" % (len(BODY[i:i + 9]), BODY[i:i + 9]) for i in range(0, len(BODY), 9)
        ) + b"0\r\n\r\n"
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(f"POST /read?{style} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + payload)
        result = json.loads(client.read_response().body)
    parts = [p.encode("latin-1") for p in result["parts"]]
    assert b"".join(parts) == BODY
    assert result["after"] == ""
    if style in ("readline", "readlines", "iter"):
        assert parts == BODY.splitlines(keepends=True)
    if style == "readline-n":
        assert all(len(p) <= 5 for p in parts)
        assert b"".join(parts).splitlines() == BODY.splitlines()
    if style == "read-n":
        assert all(len(p) == 7 for p in parts[:-1])


def test_file_wrapper_sends_the_file_from_its_position(server):
    resp = http_request(server.port, "GET", "/file-wrapper")
    with open(os.path.join(APPS_DIR, "wsgi_checks.py"), "rb") as f:
        expected = f.read()[10:]
    assert resp.status == 200
    assert resp.body == expected
    assert resp.header("content-length") == str(len(expected))


def test_file_wrapper_without_a_descriptor_is_iterated(server):
    resp = http_request(server.port, "GET", "/file-wrapper-bytesio")
    assert resp.body == b"in memory " * 1000


@pytest.mark.parametrize("path", ["/too-long", "/too-long-parts", "/too-long-write", "/too-long-file"])
def test_more_than_content_length_is_cut_and_the_connection_kept(server, path):
    """The body is cut at the app's Content-Length, so the framing on the wire is whole and the
    connection serves the next request (the sync worker closes after every response anyway)."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        resp = client.read_response()
        assert resp.body == (b'"""Ro' if path == "/too-long-file" else b"12345")  # the file's first bytes
        if server.worker_class == "sync":
            assert resp.header("connection") == "close"
            assert client.closed_by_peer()
        else:
            assert resp.header("connection") == "keep-alive"
            client.send(b"GET /too-long HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            resp = client.read_response()
            assert resp.body == b"12345"
            assert resp.header("connection") == "close"
            assert client.closed_by_peer()
    if path != "/too-long-file":
        wait_for(lambda: f"GET {path}: the application sent more than its Content-Length (5); the excess was dropped"
                 in server.log(), message="the overflow warning")


def test_a_promised_body_never_written_is_announced_as_close(server):
    """The app declared a length and wrote nothing: corn must close (the client waits for bytes
    that will not come), and its head says so."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /length-without-body HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_close(sock)
    head = data.split(b"\r\n\r\n", 1)[0].lower().split(b"\r\n")
    assert b"content-length: 10" in head
    assert b"connection: close" in head
    assert data.endswith(b"\r\n\r\n")
    wait_for(lambda: "sent 0 of its Content-Length 10" in server.log(), message="the short-body warning")


def test_a_response_after_the_client_stopped_mid_body_says_close(server):
    """The app caught the error of a body cut short and answered: the connection cannot be reused
    (the rest of the body never came), and the head says so."""
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"POST /read-tolerant HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)
        resp = client.read_response()
        assert resp.body == b"the body did not arrive whole"
        assert resp.header("connection") == "close"
        assert client.closed_by_peer()


def test_less_than_content_length_closes_the_connection(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /too-short HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_close(sock)
        assert data.endswith(b"\r\n\r\n12345")
    wait_for(lambda: "sent 5 of its Content-Length 10" in server.log(), message="the short-body warning")


def test_204_and_304_have_no_body(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /no-content HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 204
        assert resp.header("content-length") is None
        assert resp.header("transfer-encoding") is None
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /not-modified HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 304
        assert resp.header("etag") == '"x"'
        if server.worker_class != "sync":  # the connection stays usable: nothing of the body leaked
            client.send(b"GET /no-content HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.read_response().status == 204


@pytest.mark.parametrize("path", [
    "/bad-header-value", "/bad-header-name", "/bad-status",
    "/bad-content-length/12a", "/bad-content-length/-1", "/bad-content-length/%B2",
    "/bad-content-length/%20", "/bad-content-length/1234567890123456789",
])
def test_invalid_status_or_headers_from_the_app_give_500(server, path):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        resp = client.read_response()
        assert resp.status == 500
        assert resp.header("set-cookie") is None
        assert b"injected" not in resp.body
        assert client.closed_by_peer()


def test_hop_by_hop_headers_from_the_app_are_not_sent(server):
    resp = http_request(server.port, "GET", "/hop-by-hop")
    assert resp.header("x-kept") == "yes"
    assert resp.header("transfer-encoding") is None
    assert resp.body == b"ok"


def test_exc_info_before_headers_replaces_the_status(server):
    resp = http_request(server.port, "GET", "/exc-info")
    assert resp.status == 503
    assert resp.body == b"retried"


def test_exc_info_after_headers_closes_the_connection(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /exc-info-after-headers HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_close(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"partial" in data and not data.endswith(b"0\r\n\r\n")


def test_write_callable_and_returned_iterable_both_reach_the_client(server):
    resp = http_request(server.port, "GET", "/write-callable")
    assert resp.body == b"written,returned"


def test_close_is_called_when_the_app_fails_mid_body(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /close-after-error HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until_close(sock).startswith(b"HTTP/1.1 200 OK")
    wait_for(lambda: "closed after-error" in server.record.read_text(), message="close() of the iterable")


def test_close_is_called_when_the_client_vanishes(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(b"GET /close-slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # a reset, while the app still has 199 chunks to send
    wait_for(lambda: "closed slow" in server.record.read_text(), message="close() after the client vanished")
    assert http_request(server.port, "GET", "/write-callable").status == 200


def test_early_hints_come_before_the_response(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /early-hints HTTP/1.1\r\nHost: x\r\n\r\n")
        hints = client.read_response()
        assert hints.status == 103
        assert hints.header("link") == "</style.css>; rel=preload; as=style"
        assert client.read_response().status == 200


def test_no_early_hints_on_http10(server):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /early-hints HTTP/1.0\r\n\r\n")
        assert client.read_response().status == 200


def test_environ_types_and_flags(server):
    environ = json.loads(http_request(server.port, "GET", "/env").body)
    assert environ["wsgi.multithread"] is (server.worker_class != "sync")
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert environ["wsgi.input_terminated"] is True
    assert environ["REMOTE_PORT"].isdigit()
    assert "CONTENT_LENGTH" not in environ and "CONTENT_TYPE" not in environ


def test_script_name_from_the_environment(corn_server):
    server = corn_server("wsgi_checks:app", "-e", "SCRIPT_NAME=/mount")
    environ = json.loads(http_request(server.port, "GET", "/mount/env").body)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/mount", "/env")
    assert http_request(server.port, "GET", "/elsewhere").status == 400


def test_secure_scheme_header_from_a_trusted_proxy(corn_server):
    trusted = corn_server("wsgi_checks:app")
    environ = json.loads(http_request(trusted.port, "GET", "/env", ["X-Forwarded-Proto: https"]).body)
    assert environ["wsgi.url_scheme"] == "https"


def test_secure_scheme_header_from_an_untrusted_peer_is_ignored(corn_server):
    server = corn_server("wsgi_checks:app", "--forwarded-allow-ips", "10.9.9.9")
    environ = json.loads(http_request(server.port, "GET", "/env", ["X-Forwarded-Proto: https"]).body)
    assert environ["wsgi.url_scheme"] == "http"


def test_each_connection_of_a_peer_gets_the_same_rights(corn_server):
    """What the allow-lists grant a peer is worked out once and then remembered: here 127.0.0.1
    may send PROXY headers (the default) but is not a trusted forwarder, on every connection."""
    server = corn_server("wsgi_checks:app", "--proxy-protocol", "v1", "--forwarded-allow-ips", "10.9.9.9")
    for port in (40001, 40002, 40003):
        with server.connect() as sock:
            client = RawClient(sock)
            client.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 %d 443\r\n" % port
                        + b"GET /env HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n\r\n")
            resp = client.read_response()
            assert resp.status == 200
            environ = json.loads(resp.body)
            assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("192.0.2.7", str(port))
            assert environ["wsgi.url_scheme"] == "http"


def test_slow_header_client_is_cut_off_while_others_are_served(corn_server):
    server = corn_server("wsgi_checks:app", "--header-timeout", "3", "--worker-connections", "200")
    outcome = {}

    def trickle():
        """One header byte every 0.1 s (bounded: 600 bytes, 60 s) until the server answers or closes."""
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            request = b"GET /env HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 600
            end = time.monotonic() + 60
            for i in range(len(request)):
                if time.monotonic() > end:
                    break
                try:
                    sock.sendall(request[i:i + 1])
                except OSError:
                    break
                readable, _, _ = select.select([sock], [], [], 0.1)
                if readable:
                    break
            try:
                outcome["reply"] = sock.recv(65536)
            except OSError as exc:
                outcome["reply"] = exc

    trickler = threading.Thread(target=trickle)
    trickler.start()
    served = [http_request(server.port, "GET", "/write-callable").status for _ in range(50)]
    trickler.join(90)
    assert not trickler.is_alive()
    assert served == [200] * 50
    assert isinstance(outcome["reply"], bytes) and outcome["reply"].startswith(b"HTTP/1.1 408 Request Timeout")
    wait_for(lambda: "Request head not received within 3s" in server.log(), message="the cut-off in the log")


def test_big_upload_read_in_pieces_keeps_worker_memory_flat(corn_server):
    server = corn_server("wsgi_checks:app")
    before = int(http_request(server.port, "GET", "/rss").body)
    size = 256 * 1024 * 1024
    block = b"\xab" * (1 << 20)
    with server.connect() as sock:
        sock.sendall(f"POST /consume HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode())
        for _ in range(size // len(block)):
            sock.sendall(block)
        resp = RawClient(sock).read_response()
    assert resp.body == str(size).encode()
    after = int(http_request(server.port, "GET", "/rss").body)
    assert after - before < 25 * 1024, f"worker RSS grew by {after - before} KiB"


def test_proxy_protocol_v1_sets_the_client_address_for_every_request_of_the_connection(corn_server):
    server = corn_server("wsgi_checks:app", "--proxy-protocol", "v1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\nGET /env HTTP/1.1\r\nHost: x\r\n\r\n")
        first = json.loads(client.read_response().body)
        client.send(b"GET /env HTTP/1.1\r\nHost: x\r\n\r\n")
        second = json.loads(client.read_response().body)
    for environ in (first, second):
        assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("192.0.2.7", "40000")
        assert (environ["PROXY_ADDR"], environ["PROXY_PORT"]) == ("198.51.100.1", "443")
        assert environ["PROXY_PROTOCOL"] == "TCP4"


def test_proxy_protocol_v2(corn_server):
    import ipaddress
    import struct

    server = corn_server("wsgi_checks:app", "--proxy-protocol", "v2")
    addresses = ipaddress.ip_address("2001:db8::5").packed + ipaddress.ip_address("2001:db8::1").packed
    header = (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21]) + struct.pack("!H", 36)
              + addresses + struct.pack("!HH", 5555, 8443))
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(header + b"GET /env HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        environ = json.loads(client.read_response().body)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("2001:db8::5", "5555")


def test_proxy_protocol_from_a_peer_not_allowed_is_403(corn_server):
    server = corn_server("wsgi_checks:app", "--proxy-protocol", "v1", "--proxy-allow-from", "10.1.1.1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\nGET /env HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = client.read_response()
        assert resp.status == 403
        assert resp.header("date") and resp.header("server") == "corn"
        assert client.closed_by_peer()


MISSING_PROXY_LINE = "did not begin with a PROXY protocol"


@pytest.mark.parametrize("pieces", [None, 1, 5], ids=["whole", "bytes", "pieces"])
@pytest.mark.parametrize("mode, start", [
    ("v1", b""), ("v2", b""), ("auto", b""), ("auto", b"\r\n"), ("v1", b"PROXY\r\n"),
    ("v2", b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n"),
], ids=["v1-plain", "v2-plain", "auto-plain", "auto-crlf", "v1-no-space", "v2-got-v1"])
def test_a_connection_without_a_proxy_header_is_closed_without_a_response(corn_server, tmp_path, mode, start,
                                                                          pieces):
    """With the PROXY protocol on, a peer that does not open with a PROXY header could be anyone
    who reached corn's port around the proxy: no response, the connection closed, one log line,
    and the app never called."""
    record = tmp_path / "calls.txt"
    record.write_text("")
    server = corn_server("recorder:app", "-w", "1", "--proxy-protocol", mode, env={"CORN_TEST_RECORD": str(record)})
    with server.connect() as sock:
        client = RawClient(sock)
        try:
            client.send(start + b"GET /direct HTTP/1.1\r\nHost: x\r\n\r\n", pieces)
        except ConnectionError:
            pass  # closed while the pieces were still being sent
        assert client.closed_by_peer()
    wait_for(lambda: MISSING_PROXY_LINE in server.log(), message="the refusal in the log")
    assert server.log().count(MISSING_PROXY_LINE) == 1
    with server.connect() as sock:  # the worker serves the proxy's connections on
        client = RawClient(sock)
        header = (b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00" if mode == "v2"
                  else b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n")
        client.send(header + b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", pieces)
        assert client.read_response().status == 200
    assert record.read_text() == "GET /ok 0\n"


def test_a_peer_not_allowed_to_send_proxy_headers_is_not_served_directly(corn_server):
    """proxy_allow_ips names the proxies: any other peer is refused whether it sends a PROXY
    header (403) or not (closed without a response)."""
    server = corn_server("wsgi_checks:app", "--proxy-protocol", "auto", "--proxy-allow-from", "10.1.1.1")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"GET /env HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.closed_by_peer()
    wait_for(lambda: f"Invalid request from ip=127.0.0.1: Connection {MISSING_PROXY_LINE} v1 or v2 header"
             in server.log(), message="the refusal in the log")


def test_proxy_header_in_pieces(corn_server):
    server = corn_server("wsgi_checks:app", "--proxy-protocol", "auto")
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\nGET /env HTTP/1.1\r\nHost: x\r\n\r\n", 1)
        environ = json.loads(client.read_response().body)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("192.0.2.7", "40000")


def test_wsgi_errors_goes_to_the_error_log(corn_server, tmp_path):
    errorlog = tmp_path / "error.log"
    server = corn_server("wsgi_checks:app", "--error-logfile", str(errorlog))
    assert http_request(server.port, "GET", "/errors").status == 200
    wait_for(lambda: "a line for wsgi.errors" in errorlog.read_text(), message="the line in the error log")
