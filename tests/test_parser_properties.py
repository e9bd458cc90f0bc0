"""Properties of corn's parser over generated input (hypothesis, bounded in examples and time).

- Any bytes give a parsed head, a request for more bytes, or an HTTPParseError subclass: never
  another exception, never a hang (every call returns; the loops here are bounded by the input).
- The answer does not depend on how the bytes are split across calls.
- Requests built from the grammar parse back to what they were built from.
- The origin-form split of a target agrees with gunicorn's split_request_uri.
"""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corn import http_errors
from parser_corpus import decoder_for, make_parser, parser_for, run

BOUNDED = settings(
    max_examples=300,
    deadline=2000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
HEADER_NAMES = ["Host", "Content-Length", "Transfer-Encoding", "Expect", "Connection", "X-Forwarded-Proto",
                "Content-Type", "Cookie", "X_Under", "TE", "Trailer"]
FIELD_BYTES = [b"\r", b"\n", b"\x00", b"\t", b" ", b":", b";", b",", b"\x7f", b"\xa0", b"\x0b", b"\"", b"\\"]


def parse_any(parser, data, cuts):
    """Feed data to parse_head, growing the visible end at each cut; the head end, -1, or the error."""
    ends = sorted({c for c in cuts if 0 < c < len(data)} | {len(data)})
    try:
        for end in ends:
            result = parser.parse_head(data, 0, end)
            if result >= 0:
                return result
        return -1
    except http_errors.HTTPParseError as exc:
        return type(exc)


def decode_any(decoder, data, cuts):
    """Feed data to a ChunkedDecoder taking every data byte; (offset, done) or the error class."""
    ends = sorted({c for c in cuts if 0 < c < len(data)} | {len(data)})
    pos = 0
    try:
        for end in ends:
            while True:
                pos = decoder.advance(data, pos, end)
                if decoder.done or pos >= end:
                    break
                n = min(decoder.remaining, end - pos)
                assert n > 0
                decoder.take(n)
                pos += n
            if decoder.done:
                return pos, True
        return pos, False
    except http_errors.HTTPParseError as exc:
        return type(exc)


SETTINGS = st.fixed_dictionaries({}, optional={
    "limit_request_line": st.sampled_from([0, 16, 64, 4094]),
    "limit_request_fields": st.sampled_from([1, 3, 100]),
    "limit_request_field_size": st.sampled_from([16, 64, 8190]),
    "permit_unconventional_http_method": st.booleans(),
    "permit_unconventional_http_version": st.booleans(),
    "casefold_http_method": st.booleans(),
    "strip_header_spaces": st.booleans(),
    "permit_obsolete_folding": st.booleans(),
    "header_map": st.sampled_from(["drop", "refuse", "dangerous"]),
    "proxy_protocol": st.sampled_from(["off", "v1", "v2", "auto"]),
    "peer_trusted": st.booleans(),
    "proxy_allowed": st.booleans(),
})


def mostly(usual, *rare):
    """The usual choice three times in four, else one of the rare ones."""
    return st.one_of(st.just(usual), st.just(usual), st.just(usual), st.sampled_from(rare))


def mutate(draw, data):
    """data with up to two bytes replaced by, or inserted from, the hostile set."""
    for _ in range(draw(st.integers(0, 2))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.sampled_from(FIELD_BYTES))
        data = data[:at] + byte + data[at + draw(st.integers(0, 1)) :]
    return data


@st.composite
def request_like(draw):
    """Bytes shaped like a request, mostly well formed, with hostile bytes sprinkled in."""
    method = draw(mostly(b"GET", b"POST", b"get", b"M#", b"CONNECT", b"OPTIONS", b""))
    target = draw(mostly(b"/a", b"/", b"*", b"/a?b#c", b"http://h/p", b"h:1", b"//x", b"", b"/\x00", b"/\xff"))
    version = draw(mostly(b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 ", b"HTTP/0.9", b"http/1.1"))
    lead = draw(mostly(b"", b"\r\n", b"\r\n\r\n", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
                       b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(12)))
    fields = b""
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(HEADER_NAMES)).encode() + draw(mostly(b"", b" ", b"\t", b"\xe9"))
        value = draw(st.sampled_from([b"chunked", b"gzip, chunked", b"5", b"100-continue", b"close",
                                      b"https", b"x", b"chunked, identity", b"0"]))
        fold = draw(mostly(b"", b"\r\n folded", b"\r\n\t"))
        fields += name + b":" + draw(mostly(b" ", b"", b"\t")) + value + fold + b"\r\n"
    chunks = draw(st.lists(st.binary(min_size=1, max_size=6), max_size=3))
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + draw(
        mostly(b"", b"X-T: 1\r\n", b"Host: h\r\n")) + b"\r\n"
    request = lead + method + b" " + target + b" " + version + b"\r\n" + fields + b"\r\n" + body
    return mutate(draw, request)


@BOUNDED
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=8), options=SETTINGS)
def test_any_bytes_parse_or_refuse(data, cuts, options):
    parser = make_parser(options)
    result = parse_any(parser, data, cuts)
    assert result == -1 or isinstance(result, type) or 0 < result <= len(data)


@BOUNDED
@given(data=request_like(), cuts=st.lists(st.integers(0, 400), max_size=10), options=SETTINGS)
def test_request_like_bytes_answer_the_same_whatever_the_split(data, cuts, options):
    whole = parse_any(make_parser(options), data, [])
    split = parse_any(make_parser(options), data, cuts)
    assert whole == split
    bytewise = parse_any(make_parser(options), data, range(len(data)))
    assert whole == bytewise


@BOUNDED
@given(data=request_like(), options=SETTINGS, seed=st.integers(0, 1000))
def test_whole_connections_parse_or_refuse(data, options, seed):
    """Heads and bodies together, as the handler drives them."""
    try:
        whole = run(options, [data])
    except (http_errors.HTTPParseError, http_errors.NoMoreData) as exc:
        whole = type(exc)
    pieces = [data[i : i + 1 + seed % 7] for i in range(0, len(data), 1 + seed % 7)]
    try:
        split = run(options, pieces, seed=seed, max_take=3)
    except (http_errors.HTTPParseError, http_errors.NoMoreData) as exc:
        split = type(exc)
    assert whole == split


def small_decoder():
    """Size lines of 32 bytes at most, a trailer section of 242 (7 fields)."""
    return decoder_for(limit_request_field_size=32, limit_request_fields=7)


@BOUNDED
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_any_bytes_through_the_chunked_decoder(data, cuts):
    result = decode_any(small_decoder(), data, cuts)
    again = decode_any(small_decoder(), data, [])
    assert result == again
    if isinstance(result, tuple):
        assert 0 <= result[0] <= len(data)


@st.composite
def chunk_like(draw):
    """A chunked body with extensions and trailers, mostly well formed, then mutated."""
    body = b""
    for data in draw(st.lists(st.binary(min_size=1, max_size=8), max_size=4)):
        ext = draw(mostly(b"", b";a", b";a=b", b' ; q="x\\"y"', b";", b"; a ="))
        body += draw(mostly(b"", b"0", b"00")) + b"%X" % len(data) + ext + b"\r\n" + data + b"\r\n"
    body += b"0\r\n" + draw(mostly(b"", b"X-T: 1\r\n", b"Host: h\r\n", b"X: a\r\n b\r\n")) + b"\r\n"
    return mutate(draw, body)


CHUNK_LIKE = chunk_like()


@BOUNDED
@given(data=CHUNK_LIKE, cuts=st.lists(st.integers(0, 200), max_size=10))
def test_chunk_like_bytes_answer_the_same_whatever_the_split(data, cuts):
    assert decode_any(small_decoder(), data, cuts) == decode_any(small_decoder(), data, [])
    bytewise = decode_any(small_decoder(), data, range(len(data)))
    assert bytewise == decode_any(small_decoder(), data, [])


# --- requests built from the grammar parse back ------------------------------------------------------

TOKEN = st.text(alphabet=TCHAR.replace("_", ""), min_size=1, max_size=12)
METHOD = st.text(alphabet=string.ascii_uppercase + "-", min_size=3, max_size=20)
PCHAR = st.text(alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%/", max_size=20)
VALUE = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F)] + [" ", "\t", "\xe9", "\xff"], max_size=30).map(
    lambda v: v.strip(" \t"))


@st.composite
def built_request(draw):
    method = draw(METHOD)
    path = "/" + draw(PCHAR)
    query = draw(st.one_of(st.none(), PCHAR))
    fragment = draw(st.one_of(st.none(), PCHAR))
    uri = path + ("" if query is None else "?" + query) + ("" if fragment is None else "#" + fragment)
    reserved = {"HOST", "CONTENT-LENGTH", "TRANSFER-ENCODING", "EXPECT", "CONTENT-TYPE", "CONNECTION",
                "X-FORWARDED-PROTO", "X-FORWARDED-PROTOCOL", "X-FORWARDED-SSL"}
    names = draw(st.lists(TOKEN.filter(lambda n: n.upper() not in reserved), max_size=8))
    headers = [(name, draw(VALUE)) for name in names]
    body = draw(st.binary(max_size=40))
    chunked = draw(st.booleans())
    return method, uri, path, query or "", fragment or "", headers, body, chunked


@BOUNDED
@given(built=built_request(), cuts=st.lists(st.integers(0, 500), max_size=6))
def test_built_requests_parse_back(built, cuts):
    method, uri, path, query, fragment, headers, body, chunked = built
    head = f"{method} {uri} HTTP/1.1\r\n".encode("latin-1")
    head += b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in headers)
    if chunked:
        head += b"Transfer-Encoding: chunked\r\n\r\n"
        wire = head + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        framing = [("TRANSFER-ENCODING", "chunked")]
    else:
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        wire = head + body
        framing = [("CONTENT-LENGTH", str(len(body)))]
    ends = sorted({c for c in cuts if 0 < c < len(wire)} | {len(wire)})
    pieces = [wire[a:b] for a, b in zip([0] + ends, ends)]
    requests, consumed = run({}, pieces, max_take=5)
    assert consumed == len(wire) and len(requests) == 1
    got = requests[0]
    assert (got["method"], got["uri"], got["path"], got["query"], got["fragment"]) == (
        method, uri, path, query, fragment)
    assert got["headers"] == [(n.upper(), v) for n, v in headers] + framing
    assert got["body"] == body


gunicorn_util = pytest.importorskip("gunicorn.util")


@BOUNDED
@given(target=st.text(alphabet="/?#a%:.", min_size=1, max_size=16).map(lambda t: "/" + t))
def test_origin_form_split_agrees_with_gunicorn(target):
    parser = parser_for()
    data = f"GET {target} HTTP/1.1\r\n\r\n".encode()
    assert parser.parse_head(data, 0, len(data)) == len(data)
    parts = gunicorn_util.split_request_uri(target)
    assert (parser.path, parser.query, parser.fragment) == (
        parts.path or "", parts.query or "", parts.fragment or "")


# --- the word-at-a-time scanners agree with the byte rules ---------------------------------------------

SOME_KNOWN = ["Host", "Accept", "User-Agent", "Accept-Encoding", "X-Forwarded-For", "Content-Type", "TE",
              "Sec-WebSocket-Extensions", "Upgrade-Insecure-Requests", "DNT", "Cookie"]


@BOUNDED
@given(name=st.sampled_from(["X-V", "Accept", "User-Agent"]),
       value=st.binary(max_size=40).filter(lambda v: b"\n" not in v))
def test_field_value_bytes(name, value):
    """Any byte but CTLs (HTAB aside) and DEL is kept, as latin-1, the same on a repeat."""
    data = name.encode() + b": " + value + b"\r\n"
    data = b"GET / HTTP/1.1\r\n" + data + b"\r\n"
    stripped = value.strip(b" \t")
    bad = any((b < 0x20 and b != 9) or b == 0x7F for b in stripped)
    parser = parser_for()
    for _ in range(2):  # the second time through, the field repeats the first
        parser.reset()
        if bad:
            with pytest.raises(http_errors.InvalidHeader):
                parser.parse_head(data, 0, len(data))
        else:
            assert parser.parse_head(data, 0, len(data)) == len(data)
            assert parser.headers == [(name.upper(), stripped.decode("latin-1"))]


@BOUNDED
@given(target=st.binary(min_size=1, max_size=40).filter(lambda t: b" " not in t and b"\n" not in t))
def test_target_bytes(target):
    data = b"GET /" + target + b" HTTP/1.1\r\n\r\n"
    parser = parser_for()
    if any(not 0x21 <= b <= 0x7E for b in target):
        with pytest.raises(http_errors.InvalidRequestLine):
            parser.parse_head(data, 0, len(data))
    else:
        assert parser.parse_head(data, 0, len(data)) == len(data)
        assert parser.uri == "/" + target.decode("ascii")


@BOUNDED
@given(name=st.sampled_from(SOME_KNOWN), data=st.data())
def test_known_names_in_any_case_and_their_near_misses(name, data):
    """A known name in any case gives the shared upper-case str; a name one token byte away does
    not."""
    mixed = "".join(c.lower() if data.draw(st.booleans()) else c.upper() for c in name)
    at = data.draw(st.integers(0, len(name) - 1))
    other = data.draw(st.sampled_from(TCHAR).filter(lambda c: c.lower() != name[at].lower()))
    near = name[:at] + other + name[at + 1 :]
    head = f"GET / HTTP/1.1\r\n{mixed}: 1\r\n{near}: 2\r\n\r\n".encode()
    parser = parser_for(header_map="dangerous")
    assert parser.parse_head(head, 0, len(head)) == len(head)
    (first, one), (second, two) = parser.headers
    assert (first, one, second, two) == (name.upper(), "1", near.upper(), "2")
    parser.reset()
    parser.parse_head(head, 0, len(head))
    assert parser.headers[0][0] is first
