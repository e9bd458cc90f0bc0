"""The compiled request cycle in one process: parse, environ, app, response, keep-alive.

`ConnectionHandler.handle()` serves a connection whose socket is an in-memory stream holding 100
pipelined keep-alive requests; the benchmark's time divided by 100 is what corn spends on one
request between the kernel's recv and send, with the perf apps (`perf/apps.py`). Nothing here waits
on I/O, so the numbers are steady enough to compare one build with the next
(`--benchmark-compare-fail=median:5%`). The timed loop includes copying the request bytes out of
the in-memory stream, about what recv(2) would copy. `hello-metrics` is `hello` with the worker's
metrics slot attached (what `--metrics-bind` turns on), to weigh the counters against the cycle.
"""

import socket

import apps
import pytest

from corn.config import Config
from corn.glogging import Logger
from corn.workers.base import Worker

pytestmark = pytest.mark.benchmark(min_time=0.002, warmup=True)

PIPELINED = 100


class MemorySocket:
    """What the handler calls on a socket, over bytes in memory; sends are counted, not kept."""

    family = socket.AF_INET

    def __init__(self, data):
        self.data = memoryview(data)
        self.pos = 0
        self.sent = 0

    def recv_into(self, view):
        n = min(len(view), len(self.data) - self.pos)
        view[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n

    def sendall(self, data):
        self.sent += len(data)

    def settimeout(self, seconds):
        pass

    def shutdown(self, how):
        pass

    def recv(self, size):
        return b""

    def close(self):
        pass


class Listener:
    """The listener the handler reads SERVER_NAME and SERVER_PORT from."""

    class sock:
        @staticmethod
        def getsockname():
            return ("127.0.0.1", 8000)


class BenchWorker(Worker):
    multithread = True

    def run(self):
        """Not a process: the benchmark calls the handler directly."""


def make_handler(app, metrics=False):
    cfg = Config(environ={})
    cfg.set("loglevel", "warning")
    worker = BenchWorker(1, 0, [], None, 30, cfg, Logger(cfg))
    worker._forwarded_networks = cfg.forwarded_allow_networks()
    worker._proxy_networks = cfg.proxy_allow_networks()
    from corn._handler import WorkerState
    from corn._stream import Engine

    worker.wsgi = app
    if metrics:
        from corn.metrics import new_slot

        worker.metrics_slot = new_slot()
    worker.state = WorkerState(counters=worker.metrics_slot)
    worker.engine = Engine()
    return worker.make_handler(Listener)


def pipelined(request):
    return request * PIPELINED


GET = pipelined(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
POST = pipelined(
    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: 4096\r\n\r\n" + apps.ECHO_BODY
)
BIG = pipelined(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n")
PEER = ("127.0.0.1", 50000)


CASES = {
    "hello": (apps.hello, GET, 13),
    "echo-4k": (apps.echo, POST, 4096),
    "big-64k": (apps.big, BIG, 65536),
    "hello-metrics": (apps.hello, GET, 13),
}


@pytest.mark.parametrize("name", list(CASES))
def test_corn_request_cycle(benchmark, name):
    app, data, response_size = CASES[name]
    benchmark.group = f"request cycle x{PIPELINED}: {name}"
    handler = make_handler(app, metrics=name.endswith("-metrics"))

    def serve():
        sock = MemorySocket(data)
        handler.handle(sock, PEER)
        return sock

    sock = benchmark(serve)
    assert sock.pos == len(data)
    assert sock.sent > PIPELINED * response_size  # every response went out
