"""The request corpus (tests/requests) and a driver that feeds it to corn's parser as the handler does.

Corpus format, one case per pair of files in `requests/valid` or `requests/invalid`:

- `NAME.http`: the request bytes. Real newlines are dropped, so a file can be laid out one field
  per line; the escapes `\\r`, `\\n`, `\\t`, `\\0`, `\\xHH` and `\\\\` stand for their bytes.
- `NAME.py`: executed with every `corn.http_errors` class in scope. A valid case sets `request`
  to a dict (or a list of dicts for pipelined requests) with the keys `method`, `uri`, `path`,
  `query`, `fragment`, `version` (a tuple), `headers` (a list of (NAME, value)), `body` (bytes)
  and optionally `trailers`, `should_close`, `expect_continue`, `url_scheme`, `proxy_info`. An
  invalid case sets `error` to the class the request must be refused with. Either may set
  `settings`: RequestParser keyword arguments plus `peer_trusted` / `proxy_allowed` (both True
  unless said otherwise, like a peer on a unix socket).

`run()` mimics corn's connection handler: one bytearray per connection, bytes arriving in the
pieces given, unconsumed bytes moved to the front of the buffer every other read, heads through
`parse_head`, bodies through `content_length` or `ChunkedDecoder`, and no request after one that
asks for the connection to close.
"""

import os
import random
import re
from dataclasses import dataclass, field

from corn import http_errors
from corn._chunked import ChunkedDecoder
from corn._parser import BodyKind, RequestParser
from corn._proxy import ProxyMode, ProxyReader
from corn.options import options_for

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "requests")

ERRORS = {
    name: value
    for name, value in vars(http_errors).items()
    if isinstance(value, type) and issubclass(value, Exception)
}

CONNECTION_KEYS = ("peer_trusted", "proxy_allowed")

_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|r|n|t|0|\\)")
_SIMPLE = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"0": b"\0", b"\\": b"\\"}


def decode_http(raw):
    """The request bytes a `.http` file stands for."""
    text = raw.replace(b"\n", b"")

    def replace(match):
        code = match.group(1)
        if code[:1] == b"x":
            return bytes([int(code[1:], 16)])
        return _SIMPLE[code]

    decoded = _ESCAPE.sub(replace, text)
    if b"\\" in _ESCAPE.sub(b"", text):
        raise ValueError("unknown escape in a .http file")
    return decoded


@dataclass
class Case:
    name: str
    valid: bool
    data: bytes
    expected: list = field(default_factory=list)  # valid: one dict per request
    error: type = None  # invalid: the class expected
    settings: dict = field(default_factory=dict)

    def __str__(self):
        return self.name


def load_case(path):
    """One case from its `.http` file; the `.py` beside it holds the expectation."""
    base, _ = os.path.splitext(path)
    with open(path, "rb") as f:
        data = decode_http(f.read())
    namespace = dict(ERRORS)
    with open(base + ".py") as f:
        exec(compile(f.read(), base + ".py", "exec"), namespace)
    valid = os.path.basename(os.path.dirname(path)) == "valid"
    case = Case(
        name=os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(base),
        valid=valid,
        data=data,
        settings=dict(namespace.get("settings", {})),
    )
    if valid:
        expected = namespace["request"]
        case.expected = expected if isinstance(expected, list) else [expected]
    else:
        case.error = namespace["error"]
    return case


def load_cases(kind=None):
    """Every case of the corpus (or of `kind`: "valid" / "invalid"), sorted by name."""
    cases = []
    for sub in ("valid", "invalid"):
        if kind not in (None, sub):
            continue
        folder = os.path.join(CORPUS, sub)
        for entry in sorted(os.listdir(folder)):
            if entry.endswith(".http"):
                cases.append(load_case(os.path.join(folder, entry)))
    return cases


_OPTIONS = {}


def options(**settings):
    """corn.options.options_for, once per distinct set of settings."""
    key = repr(sorted(settings.items()))
    if key not in _OPTIONS:
        _OPTIONS[key] = options_for(**settings)
    return _OPTIONS[key]


def parser_for(**settings):
    return RequestParser(options(**settings).parser)


def decoder_for(**settings):
    return ChunkedDecoder(options(**settings).parser)


def make_parser(settings):
    """A RequestParser for a case's settings, with its per-connection fields set."""
    parser = parser_for(**{k: v for k, v in settings.items() if k not in CONNECTION_KEYS})
    parser.peer_trusted = settings.get("peer_trusted", True)
    return parser


def make_proxy_reader(settings):
    """The ProxyReader for a case's settings, or None when the PROXY protocol is off."""
    mode = options(**{k: v for k, v in settings.items() if k not in CONNECTION_KEYS}).proxy_protocol
    return None if mode == ProxyMode.PROXY_OFF else ProxyReader(mode)


# --- ways to split the bytes of a connection into reads ------------------------------------------


def split_whole(data, seed=0):
    return [data]


def split_lines(data, seed=0):
    """After every LF."""
    return [line for line in re.split(rb"(?<=\n)", data) if line]


def split_bytes(data, seed=0):
    return [data[i : i + 1] for i in range(len(data))]


def split_random(data, seed=0):
    """Random pieces of 1 to len/10+1 bytes, the same for the same seed."""
    rng = random.Random(seed)
    pieces = []
    i = 0
    while i < len(data):
        n = rng.randint(1, len(data) // 10 + 1)
        pieces.append(data[i : i + n])
        i += n
    return pieces


def split_first_byte(data, seed=0):
    """One byte, then the rest."""
    return [data[:1], data[1:]] if len(data) > 1 else [data]


SPLITTERS = {
    "whole": split_whole,
    "lines": split_lines,
    "bytes": split_bytes,
    "random": split_random,
    "first_byte": split_first_byte,
}


# --- a connection, as corn's handler keeps one ----------------------------------------------------


class Connection:
    """A receive buffer fed from a list of pieces; offsets [start:end) are the unconsumed bytes."""

    def __init__(self, pieces, compact=True):
        self.pieces = list(pieces)
        self.buf = bytearray()
        self.start = 0
        self.end = 0
        self.reads = 0
        self.compact = compact
        self.consumed = 0  # bytes before `start` over the connection's life

    def fill(self):
        """Append the next piece; False at the end of the input."""
        if self.compact and self.reads % 2 == 1 and self.start > 0:
            del self.buf[: self.start]
            self.consumed += self.start
            self.end -= self.start
            self.start = 0
        self.reads += 1
        if not self.pieces:
            return False
        piece = self.pieces.pop(0)
        self.buf += piece
        self.end += len(piece)
        return True

    @property
    def offset(self):
        """Bytes of the input consumed so far."""
        return self.consumed + self.start


def read_head(parser, conn):
    """Parse one head; None when the input ended cleanly before it."""
    parser.reset()
    while True:
        if conn.end > conn.start:
            head_end = parser.parse_head(conn.buf, conn.start, conn.end)
            if head_end >= 0:
                conn.start = head_end
                return head_end
        if not conn.fill():
            if conn.end == conn.start:
                return None
            raise http_errors.NoMoreData()


def read_body(parser, conn, rng, max_take=None):
    """The body of the request whose head was just parsed, and its trailers."""
    chunks = []
    if parser.body_kind == BodyKind.BODY_LENGTH:
        remaining = parser.content_length
        while remaining > 0:
            if conn.end == conn.start and not conn.fill():
                raise http_errors.NoMoreData()
            n = min(conn.end - conn.start, remaining)
            if max_take:
                n = min(n, rng.randint(1, max_take))
            chunks.append(bytes(conn.buf[conn.start : conn.start + n]))
            conn.start += n
            remaining -= n
        return b"".join(chunks), []
    if parser.body_kind == BodyKind.BODY_CHUNKED:
        decoder = ChunkedDecoder(parser.options)
        while not decoder.done:
            conn.start = decoder.advance(conn.buf, conn.start, conn.end)
            if decoder.done:
                break
            available = conn.end - conn.start
            if decoder.remaining > 0 and available > 0:
                n = min(available, decoder.remaining)
                if max_take:
                    n = min(n, rng.randint(1, max_take))
                chunks.append(bytes(conn.buf[conn.start : conn.start + n]))
                conn.start += n
                decoder.take(n)
                continue
            if not conn.fill():
                raise decoder.truncated()
        return b"".join(chunks), decoder.trailers
    return b"", []


def read_proxy(reader, conn, allowed):
    """Read the PROXY header that opens the connection, as the handler does before the first
    request; None when the input ended cleanly before it."""
    while True:
        if conn.end > conn.start:
            end = reader.read(conn.buf, conn.start, conn.end, allowed, "peer")
            if end >= 0:
                conn.start = end
                return reader.info
        if not conn.fill():
            if conn.end == conn.start:
                return None
            raise http_errors.NoMoreData()


def snapshot(parser, body, trailers, proxy_info):
    """What a parsed request looks like, in the corpus's terms."""
    return {
        "method": parser.method,
        "uri": parser.uri,
        "path": parser.path,
        "query": parser.query,
        "fragment": parser.fragment,
        "version": (parser.version_major, parser.version_minor),
        "headers": list(parser.headers),
        "body": body,
        "trailers": list(trailers),
        "should_close": parser.should_close,
        "expect_continue": parser.expect_continue,
        "url_scheme": parser.url_scheme,
        "proxy_info": proxy_info,
    }


def run(settings, pieces, compact=True, seed=0, max_take=None, max_requests=20):
    """Every request on a connection that receives `pieces`: (requests, bytes consumed)."""
    parser = make_parser(settings)
    reader = make_proxy_reader(settings)
    conn = Connection(pieces, compact=compact)
    rng = random.Random(seed)
    requests = []
    proxy_info = None
    if reader is not None:
        proxy_info = read_proxy(reader, conn, settings.get("proxy_allowed", True))
        if proxy_info is None:
            return requests, conn.offset
    for _ in range(max_requests):
        if read_head(parser, conn) is None:
            break
        body, trailers = read_body(parser, conn, rng, max_take)
        requests.append(snapshot(parser, body, trailers, proxy_info))
        if parser.should_close:
            break
    return requests, conn.offset


def mismatches(expected, actual):
    """Keys of one expected request whose value differs from what was parsed."""
    wrong = []
    for key, want in expected.items():
        got = actual.get(key)
        if key == "headers" or key == "trailers":
            got = [tuple(h) for h in got]
            want = [tuple(h) for h in want]
        if got != want:
            wrong.append(f"{key}: expected {want!r}, got {got!r}")
    return wrong
