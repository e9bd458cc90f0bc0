"""A plain WSGI app for the server tests; each path is one behaviour.

/            200 "Hello, World!"
/echo        the request body back, read with wsgi.input.read()
/sleep?s=N   sleeps N seconds (cooperatively under gevent), then answers
/csleep?s=N  sleeps N seconds in C (libc usleep through ctypes: gevent cannot make it yield;
             threads run meanwhile), then answers with its thread's name
/pid         the worker's pid
/hang        blocks the whole process (the heartbeat stops), for timeout tests
/environ     the environ's str values as "KEY=VALUE" lines
/chunks      three chunks with no Content-Length
/raise       raises before start_response
"""

import ctypes
import os
import threading
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
    elif path == "/sleep":
        seconds = float(parse_qs(environ["QUERY_STRING"]).get("s", ["1"])[0])
        time.sleep(seconds)
        body = b"slept"
    elif path == "/csleep":
        seconds = float(parse_qs(environ["QUERY_STRING"]).get("s", ["1"])[0])
        ctypes.CDLL(None).usleep(int(seconds * 1e6))
        body = threading.current_thread().name.encode()
    elif path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/hang":
        end = time.monotonic() + 3600
        while time.monotonic() < end:
            pass
        body = b"never"
    elif path.startswith("/environ"):
        body = "".join(f"{k}={v}\n" for k, v in sorted(environ.items()) if isinstance(v, str)).encode("latin-1")
    elif path == "/chunks":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one,", b"two,", b"three"]
    elif path == "/raise":
        raise RuntimeError("the app failed on purpose")
    else:
        body = b"Hello, World!"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
