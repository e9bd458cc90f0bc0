"""Request smuggling and splitting at the parser: bytes in, error class out.

Each attack is a request a front end and corn could frame differently (CL.TE, TE.CL, TE.TE,
duplicate or signed lengths, bare CR/LF, NUL, oversized chunk sizes, junk before the request,
chunk data not followed by CRLF). corn must refuse it with the class named, fed whole and byte
by byte, before it could serve anything hidden in it. A few near misses must parse, with the
framing a strict reader would give them.
"""

import pytest

from corn import http_errors as e
from parser_corpus import SPLITTERS, decoder_for, parser_for, run

START = b"POST /x HTTP/1.1\r\nHost: h\r\n"
HIDDEN = b"GET /admin HTTP/1.1\r\nHost: h\r\n\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"  # the end of a head whose body is chunked


def outcome(data, settings=None, split="whole"):
    """The error class the connection ends with, or the list of requests parsed."""
    try:
        requests, _ = run(settings or {}, SPLITTERS[split](data, 3))
    except (e.HTTPParseError, e.NoMoreData) as exc:
        return type(exc)
    return requests


ATTACKS = {
    # CL.TE and TE.CL: both framings present
    "cl_te": (b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", e.InvalidHeader),
    "te_cl": (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", e.InvalidHeader),
    "cl_te_zero": (b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", e.InvalidHeader),
    # TE.TE: a coding one reader honours and another ignores
    "te_chunked_identity": (b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", e.InvalidHeader),
    "te_two_fields": (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", e.InvalidHeader),
    "te_chunked_twice": (b"Transfer-Encoding: chunked\r\n" + CHUNKED, e.InvalidHeader),
    "te_xchunked": (b"Transfer-Encoding: xchunked\r\n\r\n", e.UnsupportedTransferCoding),
    "te_chunked_x": (b"Transfer-Encoding: chunkedx\r\n\r\n", e.UnsupportedTransferCoding),
    "te_quoted": (b'Transfer-Encoding: "chunked"\r\n\r\n', e.UnsupportedTransferCoding),
    "te_params": (b"Transfer-Encoding: chunked;q=1\r\n\r\n", e.UnsupportedTransferCoding),
    "te_space_before_colon": (b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc",
                              e.InvalidHeaderName),
    "te_tab_before_colon": (b"Transfer-Encoding\t: chunked\r\n\r\n", e.InvalidHeaderName),
    "te_in_obs_fold": (b"X-Pad: 1\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
                       e.ObsoleteFolding),
    "te_value_folded": (b"Transfer-Encoding:\r\n\tchunked\r\n\r\n", e.ObsoleteFolding),
    "te_vertical_tab": (b"Transfer-Encoding: \x0bchunked\r\n\r\n", e.InvalidHeader),
    "te_trailing_vtab": (b"Transfer-Encoding: chunked\x0b\r\n\r\n", e.InvalidHeader),
    "te_form_feed": (b"Transfer-Encoding: \x0cchunked\r\n\r\n", e.InvalidHeader),
    "te_nbsp": (b"Transfer-Encoding: \xa0chunked\r\n\r\n", e.UnsupportedTransferCoding),
    "te_trailing_nel": (b"Transfer-Encoding: chunked\x85\r\n\r\n", e.UnsupportedTransferCoding),
    "te_name_nbsp": (b"Transfer-Encoding\xa0: chunked\r\n\r\n", e.InvalidHeaderName),
    "cl_name_nel": (b"Content-Length\x85: 3\r\n\r\nabc", e.InvalidHeaderName),
    "te_gzip_last": (b"Transfer-Encoding: chunked, gzip\r\n\r\n", e.InvalidHeader),
    "te_not_chunked": (b"Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", e.InvalidHeader),
    "te_empty_element": (b"Transfer-Encoding: gzip,,chunked\r\n\r\n", e.UnsupportedTransferCoding),
    # Content-Length a reader could take two ways
    "cl_twice_same": (b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", e.InvalidHeader),
    "cl_twice_different": (b"Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc", e.InvalidHeader),
    "cl_list": (b"Content-Length: 3, 3\r\n\r\nabc", e.InvalidHeader),
    "cl_plus": (b"Content-Length: +3\r\n\r\nabc", e.InvalidHeader),
    "cl_minus": (b"Content-Length: -3\r\n\r\nabc", e.InvalidHeader),
    "cl_minus_zero": (b"Content-Length: -0\r\n\r\n", e.InvalidHeader),
    "cl_space_inside": (b"Content-Length: 1 2\r\n\r\n" + b"x" * 12, e.InvalidHeader),
    "cl_hex": (b"Content-Length: 0x10\r\n\r\n", e.InvalidHeader),
    "cl_fullwidth": (b"Content-Length: \xb3\r\n\r\nabc", e.InvalidHeader),
    "cl_space_before_colon": (b"Content-Length : 3\r\n\r\nabc", e.InvalidHeaderName),
    "cl_folded": (b"Content-Length: 3\r\n 0\r\n\r\nabc", e.ObsoleteFolding),
    # bare CR, bare LF, NUL
    "bare_cr_in_value": (b"X-A: a\rContent-Length: 3\r\n\r\nabc", e.InvalidHeader),
    "bare_cr_line_end": (b"X-A: a\r\rContent-Length: 3\r\n\r\nabc", e.InvalidHeader),
    "bare_lf_line_end": (b"X-A: a\nContent-Length: 3\r\n\r\nabc", e.InvalidHeader),
    "bare_lf_head_end": (b"Content-Length: 3\r\n\nabc", e.InvalidHeader),
    "nul_in_value": (b"X-A: a\x00b\r\n\r\n", e.InvalidHeader),
    "nul_in_name": (b"X-\x00A: a\r\n\r\n", e.InvalidHeaderName),
    # chunk framing
    "chunk_size_overflow": (CHUNKED + b"F" * 17 + b"\r\n", e.InvalidChunkSize),
    "chunk_size_2_64": (CHUNKED + b"10000000000000000\r\n", e.InvalidChunkSize),
    "chunk_size_negative": (CHUNKED + b"-1\r\n", e.InvalidChunkSize),
    "chunk_size_space": (CHUNKED + b"5 \r\nhello\r\n0\r\n\r\n", e.InvalidChunkSize),
    "chunk_size_bare_lf": (CHUNKED + b"5\nhello\r\n0\r\n\r\n", e.InvalidChunkSize),
    "chunk_ext_bare_lf": (CHUNKED + b"5;x\nhello\r\n0\r\n\r\n", e.InvalidChunkExtension),
    "chunk_ext_bare_cr": (CHUNKED + b"5;x\ry\r\nhello\r\n0\r\n\r\n",
                          e.InvalidChunkExtension),
    "chunk_ext_nul": (CHUNKED + b"5;x=\x00\r\nhello\r\n0\r\n\r\n",
                      e.InvalidChunkExtension),
    "chunk_missing_crlf": (CHUNKED + b"5\r\nhello" + HIDDEN, e.ChunkMissingTerminator),
    "chunk_short_data": (CHUNKED + b"2\r\nhello\r\n0\r\n\r\n", e.ChunkMissingTerminator),
    "chunk_lf_after_data": (CHUNKED + b"5\r\nhello\n0\r\n\r\n", e.ChunkMissingTerminator),
    "trailer_smuggles_cl": (CHUNKED + b"0\r\nContent-Length: 40\r\n\r\n",
                            e.InvalidHeaderName),
    "trailer_smuggles_te": (CHUNKED + b"0\r\nTransfer-Encoding: chunked\r\n\r\n",
                            e.InvalidHeaderName),
    "trailer_bare_lf": (CHUNKED + b"0\r\nX: 1\n\r\n", e.InvalidHeader),
    # duplicate routing fields
    "host_twice": (b"Host: other\r\n\r\n", e.InvalidHeader),
}


@pytest.mark.parametrize("split", ["whole", "bytes", "random"])
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_refused(name, split):
    fields, error = ATTACKS[name]
    assert outcome(START + fields, split=split) is error


LEADING_JUNK = {
    "two_empty_lines": (b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", e.InvalidRequestLine),
    "space": (b" GET / HTTP/1.1\r\n\r\n", e.InvalidRequestMethod),
    "nul": (b"\x00GET / HTTP/1.1\r\n\r\n", e.InvalidRequestMethod),
    "lf": (b"\nGET / HTTP/1.1\r\n\r\n", e.InvalidRequestLine),
    "cr": (b"\rGET / HTTP/1.1\r\n\r\n", e.InvalidRequestMethod),
    "http2_preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", e.InvalidRequestLine),
    "bare_cr_request_line": (b"GET / HTTP/1.1\rHost: h\r\n\r\n", e.InvalidHTTPVersion),
    "nul_in_target": (b"GET /a\x00 HTTP/1.1\r\n\r\n", e.InvalidRequestLine),
}


@pytest.mark.parametrize("split", ["whole", "bytes"])
@pytest.mark.parametrize("name", sorted(LEADING_JUNK))
def test_junk_before_request_is_refused(name, split):
    data, error = LEADING_JUNK[name]
    assert outcome(data, split=split) is error


def test_request_hidden_in_a_body_stays_body():
    """With one clear framing, what looks like a request inside the body is data."""
    data = START + b"Content-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN
    requests = outcome(data, split="bytes")
    assert [r["uri"] for r in requests] == ["/x"] and requests[0]["body"] == HIDDEN


def test_request_hidden_in_chunks_stays_body():
    chunk = b"%X\r\n" % len(HIDDEN) + HIDDEN + b"\r\n0\r\n\r\n"
    requests = outcome(START + b"Transfer-Encoding: chunked\r\n\r\n" + chunk, split="random")
    assert [r["uri"] for r in requests] == ["/x"] and requests[0]["body"] == HIDDEN


def test_underscore_transfer_encoding_is_dropped_not_honoured():
    """Transfer_Encoding is not Transfer-Encoding: dropped, and Content-Length frames the body."""
    data = START + b"Transfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc" + HIDDEN
    requests = outcome(data)
    assert [r["uri"] for r in requests] == ["/x", "/admin"]
    assert requests[0]["body"] == b"abc"
    assert ("TRANSFER_ENCODING", "chunked") not in requests[0]["headers"]


def test_largest_chunk_size_is_accepted():
    """15 significant hex digits (leading zeros aside) is the most a chunk size may have."""
    decoder = decoder_for()
    line = b"000FFFFFFFFFFFFFFF\r\n"
    assert decoder.advance(line, 0, len(line)) == len(line)
    assert decoder.remaining == 16**15 - 1


def test_connect_closes_the_connection():
    """Bytes after a CONNECT are tunnel data, never a second request."""
    data = b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n" + HIDDEN
    requests = outcome(data)
    assert len(requests) == 1 and requests[0]["should_close"]


# --- refused at the byte that decides, not when the line or head ends -------------------------------


def first_failing_prefix(data, settings=None):
    """The length of the shortest prefix parse_head refuses, feeding one more byte per call."""
    parser = parser_for(**(settings or {}))
    for end in range(1, len(data) + 1):
        try:
            if parser.parse_head(data, 0, end) >= 0:
                return None
        except e.HTTPParseError:
            return end
    return None


def test_long_request_line_refused_before_its_end():
    data = b"GET /" + b"a" * 100
    assert first_failing_prefix(data, {"limit_request_line": 50}) == 51


def test_line_ending_in_cr_at_the_limit_waits_for_its_lf():
    """A CR may start the CRLF: 50 bytes + CR is not yet over a limit of 50."""
    line = b"GET /" + b"a" * 37 + b" HTTP/1.1"
    assert len(line) == 51
    parser = parser_for(limit_request_line=51)
    assert parser.parse_head(line + b"\r", 0, 52) == -1
    assert parser.parse_head(line + b"\r\n\r\n", 0, 55) == 55


def test_bare_lf_refused_at_once():
    data = b"GET / HTTP/1.1\r\nHost: h\nmore bytes that never end"
    assert first_failing_prefix(data) == data.index(b"\n", 20) + 1


def test_long_field_refused_before_its_end():
    data = b"GET / HTTP/1.1\r\nX-A: " + b"v" * 100
    assert first_failing_prefix(data, {"limit_request_field_size": 40}) == 16 + 39


def test_obs_fold_refused_at_its_first_byte():
    data = b"GET / HTTP/1.1\r\nX-A: 1\r\n continued"
    assert first_failing_prefix(data) == data.index(b" continued") + 1


def test_unbounded_chunk_size_line_refused_before_its_end():
    head = START + b"Transfer-Encoding: chunked\r\n\r\n"
    with pytest.raises(e.InvalidChunkSize):
        run({"limit_request_field_size": 64}, [head, b"0" * 70])
