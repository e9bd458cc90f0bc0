"""Request-smuggling attempts over a real socket: each refused with the right status, the
connection closed, and the application never called (not for the smuggled request either)."""

import pytest
from conftest import RawClient

pytestmark = pytest.mark.usefixtures("worker_class")

SMUGGLING = {
    "cl_te": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "te_cl": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
              b"8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    "te_chunked_identity": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                            b"0\r\n\r\n", 400),
    "te_xchunked": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    "te_leading_space_value": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    "te_space_before_colon": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    "te_obs_fold": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    "te_twice_chunked": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "te_http10": (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "duplicate_cl": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc", 400),
    "cl_list": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
    "cl_plus": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400),
    "cl_minus": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\nabc", 400),
    "bare_cr_in_header": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n", 400),
    "bare_lf_line_end": (b"GET / HTTP/1.1\nHost: x\r\n\r\n", 400),
    "nul_in_header": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    "nul_in_target": (b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "double_host": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
}

CHUNKED_BODY_ERRORS = {
    "chunk_size_overflow": b"1" * 40 + b"\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n",
    "chunk_size_leading_junk": b"x5\r\nhello\r\n0\r\n\r\n",
    "chunk_size_signed": b"+5\r\nhello\r\n0\r\n\r\n",
    "chunk_missing_crlf": b"5\r\nhelloXX0\r\n\r\n",
    "chunk_bare_lf": b"5\nhello\r\n0\r\n\r\n",
    "chunk_ext_bare_cr": b"5;a=\rb\r\nhello\r\n0\r\n\r\n",
}


@pytest.fixture
def recorder(corn_server, tmp_path):
    record = tmp_path / "calls.txt"
    record.write_text("")
    server = corn_server("recorder:app", "-w", "1", env={"CORN_TEST_RECORD": str(record)})
    server.record = record
    return server


def exchange(server, payload):
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(payload)
        resp = client.read_response()
        return resp, client.closed_by_peer()


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_head_is_refused_before_the_app(recorder, name):
    payload, status = SMUGGLING[name]
    resp, closed = exchange(recorder, payload)
    assert resp.status == status
    assert resp.header("connection") == "close"
    assert closed
    assert recorder.record.read_text() == ""


@pytest.mark.parametrize("name", sorted(CHUNKED_BODY_ERRORS))
def test_bad_chunked_body_is_refused_and_nothing_after_it_is_served(recorder, name):
    """The app reads the body, so the app is called for this request, with the error raised from
    wsgi.input: the response is a 400 and the request smuggled after it never reaches the app."""
    payload = (b"POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + CHUNKED_BODY_ERRORS[name] + b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, closed = exchange(recorder, payload)
    assert resp.status == 400
    assert closed
    assert "/smuggled" not in recorder.record.read_text()
    assert "/first" not in recorder.record.read_text()  # the app raised inside read(): never recorded


def test_valid_request_after_refusals_is_served(recorder):
    resp, _ = exchange(recorder, b"POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    assert resp.status == 200
    assert recorder.record.read_text() == "POST /ok 2\n"
