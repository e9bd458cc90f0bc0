"""Fuzz target: the whole compiled request cycle over an in-memory connection.

    python fuzz/request_cycle.py [libFuzzer flags] [corpus dirs]

Input: the settings (fuzz/knobs.py), a byte choosing what the app does for each request (answer
with a Content-Length, stream without one, write(), raise), a byte choosing how the app reads
wsgi.input, a byte choosing how the connection's bytes arrive, then those bytes. A
ConnectionHandler serves them through the generic Stream, as it serves any socket-like object.

Checked: served whole and read in one read(), or served in pieces and read in a random mix of
read(n), readline(n), readlines() and iteration, the app sees the same requests and bodies and
the peer gets the same bytes (Date aside, 100 Continue aside); the requests the app sees are the
ones the parser and decoder alone find in the bytes; the output is a well-framed sequence of
responses, one per request the app saw (plus at most one refusal), each with a Date header and
the body the app sent; the receive buffer stays bounded.
"""

import hashlib
import random
import re
import socket
import sys

import atheris

with atheris.instrument_imports(include=["corn"]):
    from corn._handler import ConnectionHandler, WorkerState
    from corn._stream import Engine
    from corn.config import Config
    from corn.glogging import Logger
    from corn.options import request_options

    import feed
    import knobs

LENGTH, STREAM, WRITE, RAISE = range(4)
READ_SIZES = (None, -1, 0, 1, 2, 3, 7, 64, 4096)
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*")
CONFIG_KEYS = (
    "limit_request_line", "limit_request_fields", "limit_request_field_size",
    "permit_unconventional_http_method", "permit_unconventional_http_version", "casefold_http_method",
    "strip_header_spaces", "permit_obsolete_folding", "header_map", "proxy_protocol", "forwarder_headers",
)


class Boom(Exception):
    """What the app raises in RAISE mode."""


class MemorySocket:
    """A connection's bytes, delivered in the pieces given; what is sent is kept."""

    family = socket.AF_INET

    def __init__(self, pieces):
        self.pieces = [p for p in pieces if p]
        self.out = []
        self.largest_buffer = 0

    def recv_into(self, view):
        self.largest_buffer = max(self.largest_buffer, len(view.obj))
        if not self.pieces:
            return 0
        piece = self.pieces[0]
        n = min(len(view), len(piece))
        view[:n] = piece[:n]
        if n == len(piece):
            self.pieces.pop(0)
        else:
            self.pieces[0] = piece[n:]
        return n

    def recv(self, size):
        return b""

    def sendall(self, data):
        self.out.append(bytes(data))

    def settimeout(self, seconds):
        pass

    def shutdown(self, how):
        pass

    def close(self):
        pass


class Listener:
    class sock:
        @staticmethod
        def getsockname():
            return ("127.0.0.1", 8000)


class Run:
    """One serving of a connection: the app's behaviour and what it saw."""

    def __init__(self, modes, read_seed):
        self.modes = modes
        self.rng = random.Random(read_seed) if read_seed is not None else None
        self.calls = []

    def read_body(self, body):
        if self.rng is None:
            return body.read()
        parts = []
        for _ in range(1 << 16):
            op = self.rng.randrange(5)
            size = self.rng.choice(READ_SIZES)
            if op == 0:
                data = body.read(size)
                assert size != 0 or data == b""
            elif op == 1:
                data = body.readline(size)
            elif op == 2:
                data = b"".join(body.readlines())
            elif op == 3:
                data = next(iter(body), b"")
            else:
                data = body.read(1)
            parts.append(data)
            if not data and size != 0:
                return b"".join(parts)
        raise AssertionError("wsgi.input never reached its end")

    def app(self, environ, start_response):
        mode = self.modes[len(self.calls) % len(self.modes)]
        body = self.read_body(environ["wsgi.input"])
        self.calls.append((environ["REQUEST_METHOD"], environ["RAW_URI"], body))
        text = b"%d %s" % (len(body), hashlib.sha1(body).hexdigest().encode())
        if mode == RAISE:
            raise Boom()
        if mode == LENGTH:
            start_response("200 OK", [("Content-Length", str(len(text)))])
            return [text]
        if mode == STREAM:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return iter([text[:5], b"", text[5:]])
        write = start_response("200 OK", [])
        write(text)
        return []


_handlers = {}
CURRENT = [None]


def handler_for(head, settings):
    """One handler per distinct settings, as a worker keeps one per listener; None when the
    settings are not valid configuration."""
    handler = _handlers.get(head)
    if handler is None and head not in _handlers:
        cfg = Config(environ={})
        cfg.set("loglevel", "critical")
        cfg.set("keepalive", 5)
        # no deadlines: an in-memory connection never waits, and a paused fuzzer must not time out
        cfg.set("timeout", 0)
        cfg.set("header_timeout", 0)
        try:
            for key in CONFIG_KEYS:
                cfg.set(key, settings[key])
            if settings["secure_scheme_headers"] is not None:
                cfg.set("secure_scheme_headers", settings["secure_scheme_headers"])
        except Exception:
            _handlers[head] = None
            return None
        trusted, may_proxy = settings["peer_trusted"], settings["proxy_allowed"]
        log = Logger(cfg)
        handler = ConnectionHandler(
            lambda environ, start_response: CURRENT[0].app(environ, start_response),
            request_options(cfg, log), log, Listener, Engine(), WorkerState(),
            peer_trusted=lambda addr: trusted, proxy_allowed=lambda addr: may_proxy, multithread=True,
        )
        if len(_handlers) > 512:
            _handlers.clear()
        _handlers[head] = handler
    return handler


def serve(handler, pieces, modes, read_seed):
    run = Run(modes, read_seed)
    sock = MemorySocket(pieces)
    CURRENT[0] = run
    handler.handle(sock, ("127.0.0.1", 50000))
    return run, sock


def responses(out, methods):
    """(status, fields, body) of each response in `out` (Date aside), checking that each is framed
    exactly once."""
    found = []
    pos = 0
    for _ in range(2 * len(methods) + 2):
        if pos == len(out):
            break
        end = out.find(b"\r\n\r\n", pos)
        assert end >= 0, out[pos:]
        lines = out[pos:end].split(b"\r\n")
        match = STATUS.fullmatch(lines[0])
        assert match, lines[0]
        status = int(match.group(1))
        fields = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            assert colon and name == name.strip(), line
            fields.setdefault(name.lower(), []).append(value.strip())
        pos = end + 4
        if status == 100:
            continue
        assert len(fields.get(b"date", ())) == 1, lines
        te, cl = fields.get(b"transfer-encoding"), fields.get(b"content-length")
        assert not (te and cl), lines
        method = methods[len(found)] if len(found) < len(methods) else None
        if method == "HEAD" or status in (204, 304) or method is None and pos == len(out) and status >= 400:
            body = b""  # a refusal of a request the app never saw, maybe a HEAD
        elif te:
            assert te == [b"chunked"], te
            framed = feed.reference_chunked(out[pos:])
            assert framed is not None, out[pos:]
            body, pos = framed[0], pos + framed[1]
        elif cl:
            assert len(cl) == 1 and cl[0].isdigit(), cl
            body, pos = out[pos : pos + int(cl[0])], pos + int(cl[0])
            assert len(body) == int(cl[0]), "the body is shorter than its Content-Length"
        else:
            body, pos = out[pos:], len(out)  # delimited by the close: the last response
        del fields[b"date"]
        found.append((status, fields, body))
    assert pos == len(out), "bytes after the last response"
    return found


def comparable(response):
    """A response as it must be whatever the split: a refusal's text may quote how much of the
    request had arrived, so of a refusal only the status counts."""
    status, fields, body = response
    if status >= 400 and status != 500:
        return status
    return status, fields, body


def test_one_input(data):
    head = knobs.SIZE + 3
    if len(data) <= head:
        return
    settings = knobs.decode(data)
    handler = handler_for(bytes(data[: knobs.SIZE]), settings)
    if handler is None:
        return
    modes = [data[knobs.SIZE] >> (2 * i) & 3 for i in range(4)]
    read_seed, split_seed = data[knobs.SIZE + 1], data[knobs.SIZE + 2]
    conn = data[head:]

    whole, whole_sock = serve(handler, [conn], modes, None)
    ends = feed.ends_of(conn, split_seed)
    split, split_sock = serve(handler, [conn[a:b] for a, b in zip([0] + ends, ends)], modes, read_seed)
    assert whole.calls == split.calls, (whole.calls, split.calls)
    out = b"".join(whole_sock.out)
    found = responses(out, [method for method, _, _ in whole.calls])
    again = responses(b"".join(split_sock.out), [method for method, _, _ in whole.calls])
    assert [comparable(r) for r in found] == [comparable(r) for r in again], (found, again)

    parsed = feed.requests_of(knobs.first_request_factory(settings), conn)
    assert whole.calls == parsed[: len(whole.calls)], (whole.calls, parsed)

    assert len(whole.calls) <= len(found) <= len(whole.calls) + 1, (whole.calls, found)
    for i, (method, _, body) in enumerate(whole.calls):
        status, _, sent = found[i]
        if modes[i % len(modes)] == RAISE:
            assert status == 500, status
        else:
            assert status == 200, status
            if method != "HEAD":
                assert sent == b"%d %s" % (len(body), hashlib.sha1(body).hexdigest().encode()), sent
    if len(found) > len(whole.calls):
        assert found[-1][0] >= 400, found[-1]

    limit = 4 * (knobs.options(settings).parser.max_head + 65536 + 16384)
    assert max(whole_sock.largest_buffer, split_sock.largest_buffer) <= limit


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
