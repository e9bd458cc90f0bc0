"""The WSGI apps of the end-to-end benchmarks, one per scenario, served alike by corn and gunicorn.

Every response body is built once, at import, and every response carries Content-Length, so a
request costs the server's own work and the app's least: the framework-free floor of a real app.

- `hello`: `200`, `text/plain`, the 13 bytes `Hello, World!` (the hello-ka and hello-close scenarios).
- `echo`: reads the whole request body from `wsgi.input` and answers it back (echo-4k).
- `big`: `200`, `application/octet-stream`, 65536 bytes as a one-element list (big-64k).
- `blocking`: waits 5 ms in C (libc `usleep` through ctypes, which releases the GIL and which
  gevent cannot make cooperative, as a database driver's call), then answers like `hello`
  (blocking-5ms). With 8 threads a worker's ceiling is 1600 rps.
- `app`: the three behind one app, chosen by path, for a benchmark that starts its server once.
- `leak`: the leak check's app (perf/leakcheck.py): `app`'s three routes, plus `/raise` (reads the
  body, then raises: a 500), `/huge` (16 MiB in 64 KiB pieces, for clients that leave mid-response)
  and `/objects` (the worker's live Python objects after a full collection, then how many the worker
  froze at boot: `gc.get_objects()` leaves those out).
"""

import ctypes
import gc

HELLO_BODY = b"Hello, World!"
BIG_BODY = b"c" * 65536
ECHO_SIZE = 4096  # the body wrk posts in the echo-4k scenario
ECHO_BODY = b"e" * ECHO_SIZE

HELLO_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO_BODY)))]
BIG_HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BIG_BODY)))]


def hello(environ, start_response):
    start_response("200 OK", HELLO_HEADERS)
    return [HELLO_BODY]


def echo(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
    start_response("200 OK", headers)
    return [body]


def big(environ, start_response):
    start_response("200 OK", BIG_HEADERS)
    return [BIG_BODY]


usleep = ctypes.CDLL(None).usleep
BLOCKING_MICROSECONDS = 5000


def blocking(environ, start_response):
    usleep(BLOCKING_MICROSECONDS)
    start_response("200 OK", HELLO_HEADERS)
    return [HELLO_BODY]


ROUTES = {"/hello": hello, "/echo": echo, "/big": big}
NOT_FOUND_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "0")]


def app(environ, start_response):
    """All three behind one app, by path (`/hello`, `/echo`, `/big`), for a server started once."""
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", NOT_FOUND_HEADERS)
        return [b""]
    return route(environ, start_response)


class LeakCheckError(Exception):
    """What `/raise` raises."""


def raising(environ, start_response):
    environ["wsgi.input"].read()
    raise LeakCheckError("the leak check's failing endpoint")


def echo_any(environ, start_response):
    """`echo` for a body of any framing (chunked too): read to the end."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body))),
    ])
    return [body]


def huge(environ, start_response):
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"), ("Content-Length", str(256 * 65536)),
    ])
    return (BIG_BODY for _ in range(256))


def objects(environ, start_response):
    gc.collect()
    body = f"{len(gc.get_objects())} {gc.get_freeze_count()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


LEAK_ROUTES = dict(ROUTES, **{"/echo": echo_any, "/raise": raising, "/huge": huge, "/objects": objects})


def leak(environ, start_response):
    route = LEAK_ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", NOT_FOUND_HEADERS)
        return [b""]
    return route(environ, start_response)
