"""The request corpus through corn's parser, and the parser's calling contract.

Every case is fed whole, line by line, byte by byte, one byte then the rest, and at random split
points (seeded), into a buffer that is compacted between reads as the handler does; bodies are
taken in pieces of every size. Valid cases must give exactly the expected requests and stop at
the end of the last message; with a further request appended, that request must parse too.
Invalid cases must raise exactly the expected class, however the bytes were split.
"""

import pytest

from corn import http_errors
from corn._parser import BodyKind
from corn._proxy import ProxyMode, ProxyReader
from corn.config import ConfigError
from parser_corpus import SPLITTERS, decoder_for, load_cases, mismatches, options, parser_for, run

VALID = load_cases("valid")
INVALID = load_cases("invalid")
NEXT = b"GET /next HTTP/1.1\r\nHost: n\r\n\r\n"
NEXT_REQUEST = {"method": "GET", "uri": "/next", "headers": [("HOST", "n")], "body": b""}

# (splitter, seeds, compact the buffer, largest body piece taken at once)
FEEDS = [
    ("whole", (0,), False, None),
    ("lines", (0,), False, 1),
    ("bytes", (0,), True, None),
    ("first_byte", (0,), True, 2),
    ("random", (1, 2, 3), True, 3),
]


def check_requests(case, requests):
    assert len(requests) == len(case.expected), [r["uri"] for r in requests]
    for number, (want, got) in enumerate(zip(case.expected, requests)):
        wrong = mismatches(want, got)
        assert not wrong, f"request {number}: " + "; ".join(wrong)


def test_corpus_is_large_enough():
    assert len(VALID) + len(INVALID) >= 150
    assert len(VALID) >= 60 and len(INVALID) >= 90


@pytest.mark.parametrize("feed", FEEDS, ids=[f[0] for f in FEEDS])
@pytest.mark.parametrize("case", VALID, ids=str)
def test_valid(case, feed):
    split, seeds, compact, max_take = feed
    for seed in seeds:
        pieces = SPLITTERS[split](case.data, seed)
        requests, consumed = run(case.settings, pieces, compact=compact, seed=seed, max_take=max_take)
        check_requests(case, requests)
        if not requests[-1]["should_close"]:
            assert consumed == len(case.data)
        else:
            # the connection ends with that request: what it consumed is one complete message set
            again, consumed_again = run(case.settings, [case.data[:consumed]])
            assert consumed_again == consumed
            check_requests(case, again)


@pytest.mark.parametrize("split", ["whole", "bytes", "random"])
@pytest.mark.parametrize("case", VALID, ids=str)
def test_valid_then_next_request(case, split):
    """The parser and the chunked decoder stop exactly at the end of the message."""
    data = case.data + NEXT
    requests, consumed = run(case.settings, SPLITTERS[split](data, 7), seed=7, max_take=2)
    if case.expected[-1].get("should_close", False):
        check_requests(case, requests)
        assert data[consumed:].endswith(NEXT)
        return
    assert len(requests) == len(case.expected) + 1
    check_requests(case, requests[:-1])
    assert not mismatches(NEXT_REQUEST, requests[-1])
    assert consumed == len(data)


@pytest.mark.parametrize("feed", FEEDS, ids=[f[0] for f in FEEDS])
@pytest.mark.parametrize("case", INVALID, ids=str)
def test_invalid(case, feed):
    split, seeds, compact, max_take = feed
    for seed in seeds:
        pieces = SPLITTERS[split](case.data, seed)
        with pytest.raises((http_errors.HTTPParseError, http_errors.NoMoreData)) as raised:
            run(case.settings, pieces, compact=compact, seed=seed, max_take=max_take)
        assert type(raised.value) is case.error, f"{type(raised.value).__name__}: {raised.value}"


# --- the calling contract ------------------------------------------------------------------------

HEAD = b"GET /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"


def test_parse_head_returns_absolute_offsets():
    parser = parser_for()
    buf = b"xxxx" + HEAD + b"abc"
    assert parser.parse_head(buf, 4, len(buf)) == 4 + len(HEAD)
    assert parser.body_kind == BodyKind.BODY_LENGTH and parser.content_length == 3


def test_parse_head_survives_a_moving_start():
    """Progress is kept relative to the request start, so the caller may compact its buffer."""
    parser = parser_for()
    buf = bytearray(b"----" + HEAD[:20])
    assert parser.parse_head(buf, 4, len(buf)) == -1
    del buf[:4]
    buf += HEAD[20:30]
    assert parser.parse_head(buf, 0, len(buf)) == -1
    buf[0:0] = b"+++++++"
    buf += HEAD[30:]
    assert parser.parse_head(buf, 7, len(buf)) == 7 + len(HEAD)
    assert parser.uri == "/a?b=c" and parser.headers == [("HOST", "h"), ("CONTENT-LENGTH", "3")]


def test_parse_head_after_completion_returns_the_same_end():
    parser = parser_for()
    assert parser.parse_head(HEAD, 0, len(HEAD)) == len(HEAD)
    assert parser.parse_head(HEAD, 0, len(HEAD)) == len(HEAD)


def test_reset_clears_the_request():
    parser = parser_for()
    parser.parse_head(HEAD, 0, len(HEAD))
    parser.reset()
    assert parser.method is None and parser.headers == [] and parser.body_kind == BodyKind.BODY_NONE
    other = b"DELETE /x HTTP/1.0\r\n\r\n"
    assert parser.parse_head(other, 0, len(other)) == len(other)
    assert (parser.method, parser.version_minor, parser.should_close) == ("DELETE", 0, True)


def test_headers_list_is_new_for_each_request():
    parser = parser_for()
    parser.parse_head(HEAD, 0, len(HEAD))
    first = parser.headers
    parser.reset()
    parser.parse_head(HEAD, 0, len(HEAD))
    assert first is not parser.headers and first == parser.headers


def test_common_names_are_shared_strings():
    parser = parser_for()
    parser.parse_head(HEAD, 0, len(HEAD))
    names = [name for name, _ in parser.headers]
    parser.reset()
    parser.parse_head(HEAD.lower().replace(b"get /a?b=c http/1.1", b"GET /a?b=c HTTP/1.1"), 0, len(HEAD))
    assert all(a is b for a, b in zip(names, [name for name, _ in parser.headers]))


@pytest.mark.parametrize("bad", [("x", 0, 1), (memoryview(HEAD), 0, 4), (None, 0, 0)])
def test_parse_head_wants_bytes(bad):
    with pytest.raises(TypeError):
        parser_for().parse_head(*bad)


@pytest.mark.parametrize("start, end", [(-1, 4), (5, 4), (0, len(HEAD) + 1)])
def test_parse_head_checks_its_range(start, end):
    with pytest.raises(ValueError):
        parser_for().parse_head(HEAD, start, end)


def test_parse_head_refuses_a_buffer_that_shrank():
    parser = parser_for()
    assert parser.parse_head(HEAD, 0, 20) == -1
    with pytest.raises(ValueError):
        parser.parse_head(HEAD, 0, 10)


def test_proxy_header_only_before_the_first_request():
    """The reader takes the header; what follows is the parser's, and a second header is no request."""
    data = b"PROXY TCP4 1.2.3.4 5.6.7.8 10 20\r\nGET / HTTP/1.1\r\n\r\n"
    reader = ProxyReader(ProxyMode.PROXY_V1)
    end = reader.read(data, 0, len(data), True, "peer")
    assert data[end:] == b"GET / HTTP/1.1\r\n\r\n"
    assert reader.info == ("TCP4", "1.2.3.4", 10, "5.6.7.8", 20)
    parser = parser_for()
    assert parser.parse_head(data, end, len(data)) == len(data)
    parser.reset()
    with pytest.raises(http_errors.InvalidRequestLine):
        parser.parse_head(data, 0, len(data))


def test_each_connection_reads_its_own_header():
    reader = ProxyReader(ProxyMode.PROXY_AUTO)
    data = b"PROXY TCP4 1.2.3.4 5.6.7.8 10 20\r\nGET / HTTP/1.1\r\n\r\n"
    reader.read(data, 0, len(data), True, "peer")
    plain = b"GET / HTTP/1.1\r\n\r\n"
    with pytest.raises(http_errors.MissingProxyHeader):
        reader.read(plain, 0, len(plain), True, "peer")
    assert reader.info is None


V1, V2, AUTO = ProxyMode.PROXY_V1, ProxyMode.PROXY_V2, ProxyMode.PROXY_AUTO


@pytest.mark.parametrize("mode, start", [
    (V1, b"P"), (V1, b"PROXY"), (V2, b"\r\n\r\n\x00\r\nQUIT"), (AUTO, b"\r"), (AUTO, b"PROX"),
])
def test_a_partial_proxy_header_waits_for_more(mode, start):
    assert ProxyReader(mode).read(start, 0, len(start), True, "peer") == -1


@pytest.mark.parametrize("mode, start", [
    (V1, b"G"), (V1, b"PROXX"), (V1, b"\r\n\r\n"), (V2, b"PROXY "), (AUTO, b"\r\nG"), (AUTO, b"X"),
])
def test_a_connection_is_refused_at_the_first_byte_no_proxy_header_starts_with(mode, start):
    with pytest.raises(http_errors.MissingProxyHeader) as info:
        ProxyReader(mode).read(start, 0, len(start), False, "peer")
    assert repr(start) in str(info.value)
    assert not info.value.respond


def test_settings_are_normalised_as_gunicorn_does():
    parser = parser_for(limit_request_line=10000, limit_request_fields=0, limit_request_field_size=0).options
    assert parser.limit_request_line == 8190
    assert parser.limit_request_fields == 32768
    assert parser.limit_request_field_size == 8190
    assert parser.max_head == 32768 * 8192 + 4
    assert parser_for(header_map=" Refuse ").options.header_map == 1
    assert options(proxy_protocol=True).proxy_protocol == ProxyMode.PROXY_AUTO
    assert options(proxy_protocol="V2").proxy_protocol == ProxyMode.PROXY_V2
    with pytest.raises(ConfigError):
        parser_for(header_map="sometimes")
    with pytest.raises(ConfigError):
        options(proxy_protocol="v3")


# --- ChunkedDecoder on its own ---------------------------------------------------------------------


def test_decoder_stops_at_each_data_byte_and_at_the_end():
    body = b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\nNEXT"
    decoder = decoder_for(limit_request_field_size=100, limit_request_fields=9)
    pos = decoder.advance(body, 0, len(body))
    assert (pos, decoder.remaining) == (3, 3)
    decoder.take(3)
    pos = decoder.advance(body, pos + 3, len(body))
    assert body[pos : pos + decoder.remaining] == b"de"
    decoder.take(2)
    pos = decoder.advance(body, pos + 2, len(body))
    assert decoder.done and body[pos:] == b"NEXT" and decoder.trailers == [("X-T", "1")]


def test_decoder_keeps_a_size_line_that_spans_calls():
    decoder = decoder_for()
    assert decoder.advance(b"1", 0, 1) == 1 and decoder.remaining == 0
    assert decoder.advance(b"0", 0, 1) == 1
    assert decoder.advance(b"\r\n", 0, 2) == 2 and decoder.remaining == 16


def test_decoder_take_is_bounded():
    decoder = decoder_for()
    decoder.advance(b"2\r\n", 0, 3)
    with pytest.raises(ValueError):
        decoder.take(3)
    with pytest.raises(ValueError):
        decoder.take(-1)


def test_decoder_truncated_errors():
    decoder = decoder_for()
    assert isinstance(decoder.truncated(), http_errors.NoMoreData)
    decoder.advance(b"0\r\n", 0, 3)
    assert isinstance(decoder.truncated(), http_errors.ChunkMissingTerminator)


def test_decoder_reset_starts_a_new_body():
    decoder = decoder_for()
    decoder.advance(b"0\r\n\r\n", 0, 5)
    assert decoder.done
    decoder.reset()
    assert not decoder.done and decoder.advance(b"1\r\n", 0, 3) == 3 and decoder.remaining == 1
