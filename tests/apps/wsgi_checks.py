"""Routes that each exercise one corner of PEP 3333 and of corn's response framing.

Every route is named after the behaviour it shows; $CORN_TEST_RECORD (when set) receives one line
per iterable close() so tests can see that close() ran.
"""

import io
import json
import os
import select
import sys
import time


def record(line):
    path = os.environ.get("CORN_TEST_RECORD")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


class ClosingIterable:
    """An app iterable that records its close(); it can fail or stall after the first chunk."""

    def __init__(self, name, chunks, fail_after_first=False, pause=0.0):
        self.name = name
        self.chunks = chunks
        self.fail_after_first = fail_after_first
        self.pause = pause

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == 1 and self.fail_after_first:
                raise RuntimeError("failed after the first chunk")
            if i and self.pause:
                time.sleep(self.pause)
            yield chunk

    def close(self):
        record(f"closed {self.name}")


def read_styles(environ):
    """The body read back through every wsgi.input method, chosen by the query string."""
    stream = environ["wsgi.input"]
    style = environ["QUERY_STRING"]
    if style == "read":
        return [stream.read()]
    if style == "read-n":
        parts = []
        while True:
            data = stream.read(7)
            if not data:
                return parts
            parts.append(data)
    if style == "readline":
        parts = []
        while True:
            line = stream.readline()
            if not line:
                return parts
            parts.append(line)
    if style == "readline-n":
        parts = []
        while True:
            line = stream.readline(5)
            if not line:
                return parts
            parts.append(line)
    if style == "readlines":
        return stream.readlines()
    if style == "iter":
        return list(stream)
    raise ValueError(style)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/read":
        parts = read_styles(environ)
        after = environ["wsgi.input"].read()
        body = json.dumps({"parts": [p.decode("latin-1") for p in parts], "after": after.decode()}).encode()
    elif path == "/file-wrapper":
        f = open(__file__, "rb")
        f.seek(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](f)
    elif path == "/file-wrapper-bytesio":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"in memory " * 1000), 100)
    elif path == "/too-long":
        start_response("200 OK", [("Content-Length", "5")])
        return [b"12345678"]
    elif path == "/too-long-parts":
        start_response("200 OK", [("Content-Length", "5")])
        return iter([b"123", b"45678", b"9"])
    elif path == "/too-long-write":
        write = start_response("200 OK", [("Content-Length", "5")])
        write(b"1234567")
        return [b"89"]
    elif path == "/too-long-file":
        start_response("200 OK", [("Content-Length", "5")])
        return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    elif path == "/length-without-body":
        start_response("200 OK", [("Content-Length", "10")])
        return []
    elif path == "/read-tolerant":
        try:
            body = environ["wsgi.input"].read()
        except OSError:
            body = b"the body did not arrive whole"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    elif path == "/too-short":
        start_response("200 OK", [("Content-Length", "10")])
        return [b"12345"]
    elif path == "/no-content":
        start_response("204 No Content", [("Content-Length", "0")])
        return [b""]
    elif path == "/not-modified":
        start_response("304 Not Modified", [("ETag", '"x"')])
        return [b"ignored body"]
    elif path == "/bad-header-value":
        start_response("200 OK", [("X-Split", "a\r\nSet-Cookie: injected=1")])
        return [b"never"]
    elif path == "/bad-header-name":
        start_response("200 OK", [("X Bad", "v")])
        return [b"never"]
    elif path.startswith("/bad-content-length/"):
        start_response("200 OK", [("Content-Length", path.rsplit("/", 1)[1])])
        return [b"never"]
    elif path == "/wait-for-next":
        # streams one chunk, then holds the response open until the client's next request is
        # readable on the socket: that request arrives while the connection is busy
        sock = environ["gunicorn.socket"]
        start_response("200 OK", [("Content-Type", "text/plain")])

        def until_next():
            yield b"waiting\n"
            readable = select.select([sock], [], [], 30)[0]
            yield b"next request seen\n" if readable else b"nothing came\n"

        return until_next()
    elif path == "/bad-status":
        start_response("OK", [])
        return [b"never"]
    elif path == "/hop-by-hop":
        start_response("200 OK", [("Connection", "close"), ("Transfer-Encoding", "chunked"),
                                  ("X-Kept", "yes"), ("Content-Length", "2")])
        return [b"ok"]
    elif path == "/exc-info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise KeyError("before any body")
        except KeyError:
            start_response("503 Service Unavailable", [("Content-Length", "7")], sys.exc_info())
        return [b"retried"]
    elif path == "/exc-info-after-headers":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        try:
            raise KeyError("after the body started")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"never"]
    elif path == "/write-callable":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written,")
        write(b"")
        return [b"returned"]
    elif path == "/close-after-error":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ClosingIterable("after-error", [b"first", b"second"], fail_after_first=True)
    elif path == "/close-slow":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ClosingIterable("slow", [b"x" * 65536] * 200, pause=0.05)
    elif path == "/early-hints":
        environ["wsgi.early_hints"]([("Link", "</style.css>; rel=preload; as=style")])
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
    elif path == "/errors":
        environ["wsgi.errors"].write("a line for wsgi.errors\n")
        environ["wsgi.errors"].flush()
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
    elif path == "/consume":
        stream = environ["wsgi.input"]
        total = 0
        while True:
            data = stream.read(1 << 16)
            if not data:
                break
            total += len(data)
        body = str(total).encode()
    elif path == "/rss":
        with open("/proc/self/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        body = str(rss).encode()
    else:
        body = json.dumps({k: v for k, v in environ.items() if isinstance(v, (str, bool, int))}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
