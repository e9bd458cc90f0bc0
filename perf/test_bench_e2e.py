"""One keep-alive round trip through a real server: corn against gunicorn, gevent, gthread
(`--threads 8`) and tornado workers, and corn's eventlet worker (gunicorn 27 has none), same run.

Each server starts once per module as `perf/e2e.py` starts it (one worker, pinned to CPU 0, on
127.0.0.1 and a free port), serving `perf.apps:app`, which answers each scenario's path. Each entry
sends one prepared request over a raw keep-alive socket from this process and reads the whole
response back, so it times a request's latency (loopback and the client's few Python calls
included, the same for both servers), not a server's throughput: that is `perf/e2e.py`'s job.
"""

import contextlib

import pytest
from e2e import SCENARIOS, HTTPClient, Server, request_bytes

pytestmark = pytest.mark.benchmark(warmup=True)

ROUND_TRIPS = ("hello-ka", "echo-4k", "big-64k")


@pytest.fixture(scope="module")
def connect(tmp_path_factory):
    """`connect(kind)`: a keep-alive client of that server, which starts on first use."""
    servers = {}
    with contextlib.ExitStack() as stack:

        def client(kind):
            if kind not in servers:
                workdir = str(tmp_path_factory.mktemp(kind))
                servers[kind] = stack.enter_context(Server(kind, "app", workdir))
            return stack.enter_context(HTTPClient(servers[kind].port))

        yield client


def round_trip(benchmark, client, name, worker):
    scenario = SCENARIOS[name]
    benchmark.group = f"keep-alive round trip, {name}, {worker} workers"
    status, headers, body = benchmark(client.round_trip, request_bytes(scenario))
    assert status == 200
    assert headers["content-type"] == scenario.content_type
    assert body == scenario.expected


# the server kind's suffix in perf/e2e.py
WORKERS = {"gevent": "", "gthread": "-gthread", "tornado": "-tornado"}
CORN_WORKERS = {**WORKERS, "eventlet": "-eventlet"}


@pytest.mark.parametrize("worker", list(CORN_WORKERS))
@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_corn(benchmark, connect, name, worker):
    round_trip(benchmark, connect("corn" + CORN_WORKERS[worker]), name, worker)


@pytest.mark.parametrize("worker", list(WORKERS))
@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_gunicorn(benchmark, connect, name, worker):
    round_trip(benchmark, connect("gunicorn" + WORKERS[worker]), name, worker)
