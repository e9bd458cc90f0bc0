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
"""

import ctypes

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
