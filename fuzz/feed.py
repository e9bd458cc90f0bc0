"""Feeding the compiled parser and chunked decoder in pieces, and what every target checks of the result.

Each call hands the parser a fresh buffer holding bytes it must not look at: junk before `start`
and after `end` that would change the answer if read (an extra CRLF completes a head, a last
chunk ends a body). The request's start moves between calls, as the handler moves unconsumed
bytes to the front of its buffer. An outcome is a plain tuple, so the outcomes of two feedings
compare with ==.
"""

import random

from corn import http_errors
from corn._parser import BodyKind

BEFORE = b"\n\r\n\r\n"
AFTER = b"\r\n\r\n0\r\n\r\n"
BYTEWISE_MAX = 300  # inputs up to this size are also fed one byte at a time


def ends_of(data, seed):
    """The visible ends of successive calls: a stride of 1 to 16 bytes from a random start, or
    random points, as `seed` says; the last end is len(data)."""
    n = len(data)
    rng = random.Random(seed)
    if seed & 1:
        stride = 1 + (seed >> 1) % 16
        ends = set(range(rng.randint(1, stride), n, stride))
    else:
        ends = {rng.randint(1, max(1, n)) for _ in range(1 + seed % 9)}
    return sorted(e for e in ends if 0 < e < n) + [n]


def snapshot(parser):
    """Everything the parser says of a request head."""
    return (
        parser.method, parser.uri, parser.path, parser.query, parser.fragment,
        parser.version_major, parser.version_minor, tuple(parser.headers), parser.body_kind,
        parser.content_length, parser.should_close, parser.expect_continue, parser.url_scheme,
        parser.proxy_info,
    )


def parse_head(parser, data, ends):
    """("head", offset, snapshot), ("more",) or ("error", class): data fed with its end growing
    through `ends`, inside junk the parser must not read."""
    try:
        for i, end in enumerate(ends):
            before = BEFORE[: i % 3 * 2]
            buf = bytearray(before + data[:end] + AFTER)
            result = parser.parse_head(buf, len(before), len(before) + end)
            if result >= 0:
                return ("head", result - len(before), snapshot(parser))
        return ("more",)
    except http_errors.HTTPParseError as exc:
        return ("error", type(exc))


def decode_body(decoder, data, ends, take):
    """("done", offset, body, trailers), ("more", body) or ("error", class, body): a chunked
    body fed with its end growing through `ends`, data taken at most `take` bytes at a time."""
    chunks = []
    pos = 0
    try:
        for i, end in enumerate(ends):
            before = BEFORE[: i % 3 * 2]
            shift = len(before)
            buf = bytearray(before + data[:end] + AFTER)
            for _ in range(end - pos + 2):  # each round consumes a byte or stops
                pos = decoder.advance(buf, pos + shift, end + shift) - shift
                assert 0 <= pos <= end, (pos, end)
                if decoder.done or pos >= end:
                    break
                n = min(decoder.remaining, end - pos, take)
                assert n > 0, "advance() stopped inside the input with nothing to take"
                chunks.append(bytes(buf[pos + shift : pos + shift + n]))
                decoder.take(n)
                pos += n
            else:
                raise AssertionError("advance() made no progress")
            if decoder.done:
                return ("done", pos, b"".join(chunks), tuple(decoder.trailers))
        assert isinstance(decoder.truncated(), (http_errors.HTTPParseError, http_errors.NoMoreData))
        return ("more", b"".join(chunks))
    except http_errors.HTTPParseError as exc:
        return ("error", type(exc), b"".join(chunks))


def reference_chunked(data):
    """(body, offset) of a chunked body read by the plainest reading of RFC 9112 7.1 (size in
    hex, extensions after ';', CRLF after each chunk, trailer lines up to an empty one), or None
    where that reading cannot frame it. An accepted body must frame the same way."""
    body = []
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = data[pos:eol].split(b";", 1)[0].strip(b" \t")
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        pos = eol + 2
        if size == 0:
            break
        body.append(data[pos : pos + size])
        pos += size
        if data[pos : pos + 2] != b"\r\n":
            return None
        pos += 2
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        line = data[pos:eol]
        pos = eol + 2
        if not line:
            return b"".join(body), pos


def check_framing(snap):
    """An accepted head names exactly one way to find its body's end (RFC 9112 6.3)."""
    headers = snap[7]
    body_kind, content_length = snap[8], snap[9]
    te = [v for n, v in headers if n == "TRANSFER-ENCODING"]
    cl = [v for n, v in headers if n == "CONTENT-LENGTH"]
    assert not (te and cl), f"both Transfer-Encoding and Content-Length: {headers}"
    if body_kind == BodyKind.BODY_CHUNKED:
        codings = [c.strip(" \t").lower() for v in te for c in v.split(",")]
        assert codings and codings[-1] == "chunked" and codings.count("chunked") == 1, te
    elif body_kind == BodyKind.BODY_LENGTH:
        assert not te and cl, (te, cl, content_length)
    else:
        assert not te and content_length == 0, (te, content_length)
    for value in cl:
        assert value.isdigit() and value.isascii() and int(value) == content_length, (cl, content_length)


def check_limits(parser, snap, offset, data):
    """What an accepted head keeps stays within the parser's limits."""
    headers = snap[7]
    assert len(headers) <= parser.limit_request_fields, (len(headers), parser.limit_request_fields)
    for name, value in headers:
        assert len(name) + len(value) <= parser.limit_request_field_size, (name, len(value))
    if parser.limit_request_line:
        assert len(snap[1]) <= parser.limit_request_line, (len(snap[1]), parser.limit_request_line)
    # leading CRLF, a PROXY header (v2: 16 + 65535 at most, v1: 107), the request line, the fields
    assert offset <= 2 + 16 + 65535 + 8190 + parser.max_head + 2, offset
    assert data[offset - 1 : offset] == b"\n", data[:offset][-4:]


def check_bounded(parser, data):
    """A head still incomplete is no longer than the limits allow: the parser never asks for more
    bytes without end (with limit_request_line 0 the request line is unbounded: the handler
    bounds it)."""
    if not parser.limit_request_line:
        return
    proxy = {0: 0, 1: 107, 2: 16 + 65535, 3: 16 + 65535}[parser.proxy_protocol]
    bound = proxy + 2 + parser.limit_request_line + 2 + parser.max_head
    assert len(data) <= bound, (len(data), bound)


def check_head(parser_factory, data, seed):
    """The properties every head must hold, whatever the settings; returns the whole-input outcome.

    - the same answer whole, split at the points of `seed`, and (short inputs) byte by byte;
    - a head still incomplete is within the limits (the parser does not buffer without end);
    - an accepted head ends where the parser says, reads nothing past it (the head alone gives the
      same answer), keeps within the limits and has exactly one framing;
    - a parser reset and reused on the same bytes answers the same (the field cache).
    """
    whole = parse_head(parser_factory(), data, [len(data)])
    if whole == ("more",):
        check_bounded(parser_factory(), data)
    split = parse_head(parser_factory(), data, ends_of(data, seed))
    assert whole == split, (whole, split)
    if len(data) <= BYTEWISE_MAX:
        bytewise = parse_head(parser_factory(), data, range(1, len(data) + 1))
        assert whole == bytewise, (whole, bytewise)
    if whole[0] == "head":
        offset, snap = whole[1], whole[2]
        assert 0 < offset <= len(data)
        alone = parse_head(parser_factory(), data[:offset], [offset])
        assert alone == whole, (alone, whole)
        parser = parser_factory()
        parse_head(parser, data, [len(data)])
        check_framing(snap)
        check_limits(parser, snap, offset, data)
        if parser.proxy_protocol == 0:
            parser.reset()
            again = parse_head(parser, data, [len(data)])
            assert again == whole, (again, whole)
    return whole


def requests_of(parser_factory, data):
    """The (method, uri, body) of each request of a connection, read as the handler reads it
    but by the parser and decoder alone, up to the first one that is cut short, refused, or
    asks for the connection to close."""
    from corn._chunked import ChunkedDecoder

    done = []
    pos = 0
    parser = parser_factory()
    for _ in range(len(data) + 1):  # each request consumes at least one byte
        if pos >= len(data):
            break
        parser.reset()
        try:
            end = parser.parse_head(data, pos, len(data))
            if end < 0:
                break
            if parser.body_kind == BodyKind.BODY_LENGTH:
                if end + parser.content_length > len(data):
                    break
                body, pos = data[end : end + parser.content_length], end + parser.content_length
            elif parser.body_kind == BodyKind.BODY_CHUNKED:
                decoder = ChunkedDecoder(parser.options)
                outcome = decode_body(decoder, data[end:], [len(data) - end], len(data))
                if outcome[0] != "done":
                    break
                body, pos = outcome[2], end + outcome[1]
            else:
                body, pos = b"", end
        except http_errors.HTTPParseError:
            break
        done.append((parser.method, parser.uri, body))
        if parser.should_close:
            break
    return done
