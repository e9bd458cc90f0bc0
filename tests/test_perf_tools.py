"""The benchmark tools' own logic, without running a benchmark: perf/e2e.py's reading of wrk's
report, the idle client's source addresses, perf/scaling.py's CPU placement and perf/chart.py's PNG."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "perf"))

import e2e  # noqa: E402
import scaling  # noqa: E402

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/hello
  1 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.07ms    5.01ms   1.20s    90.00%
    Req/Sec    66.90k     3.00k   70.00k    80.00%
  Latency Distribution
     50%   14.07ms
     75%   16.00ms
     90%   20.00ms
     99%   24.95ms
  665000 requests in 10.00s, 80.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 7
Requests/sec:  66484.00
Transfer/sec:      8.00MB
"""


def test_parse_wrk_reads_max_latency_and_timeouts():
    report = e2e.parse_wrk(WRK_OUTPUT)
    assert report["max_ms"] == 1200.0
    assert report["timeouts"] == 7
    assert report["socket_errors"] == 9
    assert report["p99_ms"] == 24.95
    assert report["requests"] == 665000


def test_starved_names_rows_with_timeouts_or_a_far_max():
    row = {"timeouts": 0, "max_ms": 5.0, "p99_ms": 1.0}
    summary = {("hello-ka", "corn"): row, ("hello-ka", "nginx"): {**row, "timeouts": 3}}
    assert "hello-ka nginx" in e2e.starved(summary, ["hello-ka"], ["corn", "nginx"], 2)
    assert "corn" not in e2e.starved(summary, ["hello-ka"], ["corn", "nginx"], 2)
    assert e2e.starved({("hello-ka", "corn"): row}, ["hello-ka"], ["corn"], 2) == ""


def test_worker_connections_cover_the_wrk_connections():
    assert e2e.worker_connections(100) == 1000
    assert e2e.worker_connections(1000) == 2100


def test_idle_sources_change_every_per_address_connections():
    e2e.idle_source.per_address = 20000
    assert e2e.idle_source(0) == "127.0.0.2"
    assert e2e.idle_source(19999) == "127.0.0.2"
    assert e2e.idle_source(20000) == "127.0.0.3"
    assert e2e.idle_source(99999) == "127.0.0.6"


def test_placement_separates_server_and_wrk_when_the_cpus_allow():
    assert scaling.placement(1, [0, 1]) == ([0], [1], "server 0, wrk 1")
    assert scaling.placement(4, list(range(16)))[:2] == ([0, 1, 2, 3], list(range(4, 16)))
    server, client, label = scaling.placement(2, [0, 1])
    assert (server, client) == ([0, 1], [0, 1]) and label.startswith("shared")
    assert scaling.placement(4, [0, 1]) is None


def test_chart_draws_a_png(tmp_path):
    chart = pytest.importorskip("chart")
    rows = [{"scenario": s, "server": k, "rps": rps, "p99_ms": p99}
            for s, k, rps, p99 in [("hello-ka", "corn", 170000, 0.9), ("hello-ka", "nginx", 200000, 0.5),
                                   ("blocking-5ms", "corn", 190, 550.0)]]
    data = {"medians": rows, "args": {"scenario": ["hello-ka", "blocking-5ms"], "servers": ["corn", "nginx"]},
            "machine": {"cpu_model": "a CPU", "nproc": 2}, "pinning": {"server_cpu": 0, "client_cpu": 1}}
    path = tmp_path / "out.png"
    chart.draw(data, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
