"""--metrics-bind: the master's /metrics over real sockets, parsed by prometheus_client's parsers.

Counters are bumped by the workers as a request ends and read by the master whenever it is
scraped, so the tests wait (with wait_for's generous deadline) for the counts they expect rather
than assuming one scrape after the last response already sees the last request.
"""

import os
import re
import signal
import socket

import pytest
from conftest import RawClient, http_request, pid_alive, wait_for
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from corn import metrics
from corn.metrics_http import OPENMETRICS_TYPE, TEXT_TYPE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def metrics_port(server):
    found = wait_for(lambda: re.search(r"Metrics at: http://127\.0\.0\.1:(\d+)/metrics", server.log()),
                     message="the metrics endpoint")
    return int(found.group(1))


def scrape_raw(port, accept=None):
    headers = [f"Accept: {accept}"] if accept else []
    return http_request(port, "GET", "/metrics", headers)


def scrape(port):
    """{(sample name, sorted label items): value} of one scrape."""
    resp = scrape_raw(port)
    assert resp.status == 200
    assert resp.header("content-type") == TEXT_TYPE
    samples = {}
    for family in text_string_to_metric_families(resp.body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def scrape_until(port, ok, message):
    """The first scrape for which `ok(samples)` holds (polled up to wait_for's deadline)."""
    def check():
        samples = scrape(port)
        return samples if ok(samples) else None

    return wait_for(check, message=message)


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def requests_by_label(samples):
    return {labels: v for (n, labels), v in samples.items() if n == "corn_requests_total" and v}


def test_docs_metrics_md_is_current():
    with open(os.path.join(REPO, "docs", "metrics.md"), encoding="utf-8") as f:
        assert f.read() == metrics.render_markdown(), \
            "docs/metrics.md is stale: run python -m corn.metrics > docs/metrics.md"


def test_every_documented_family_is_produced_and_nothing_else():
    class FakeArbiter:
        workers = {}
        listeners = []

    samples = metrics.MetricsHub(FakeArbiter()).samples()
    assert list(samples) == [m.name for m in metrics.METRICS]
    for name, rows in samples.items():
        family = metrics.FAMILIES[name]
        for suffix, labels, _ in rows:
            allowed = set(family.labels) | ({"le"} if suffix == "_bucket" else set())
            assert set(labels) <= allowed, (name, labels)


def test_known_mix_of_requests_is_counted_exactly(corn_server, worker_class):
    server = corn_server("metrics_app:app", "-w", "2", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    for _ in range(3):
        assert http_request(server.port, "GET", "/").status == 200
    assert http_request(server.port, "GET", "/missing").status == 404
    assert http_request(server.port, "POST", "/fail", body=b"x").status == 500
    assert http_request(server.port, "GET", "/raise").status == 500
    assert http_request(server.port, "HEAD", "/").status == 200
    with server.connect() as sock:
        client = RawClient(sock)
        client.send(b"NOT A REQUEST LINE\r\n\r\n")
        assert client.read_response().status == 400

    expected = {
        (("method", "GET"), ("status_class", "2xx")): 3,
        (("method", "GET"), ("status_class", "4xx")): 1,
        (("method", "POST"), ("status_class", "5xx")): 1,
        (("method", "GET"), ("status_class", "5xx")): 1,
        (("method", "HEAD"), ("status_class", "2xx")): 1,
    }

    def settled():
        samples = scrape(port)
        done = (requests_by_label(samples) == expected
                and total(samples, "corn_request_parse_errors_total") == 1
                and value(samples, "corn_requests_in_progress") == 0
                and value(samples, "corn_connections_open") == 0)
        return samples if done else None

    samples = wait_for(settled, message="the counts of the requests sent")
    assert value(samples, "corn_request_duration_seconds_count") == 7
    assert value(samples, "corn_request_duration_seconds_bucket", le="+Inf") == 7
    assert 0 < value(samples, "corn_request_duration_seconds_sum") < 60
    assert value(samples, "corn_request_parse_errors_total", kind="InvalidRequestLine") == 1
    assert value(samples, "corn_connections_accepted_total") == 8
    assert value(samples, "corn_received_bytes_total") > 0
    assert value(samples, "corn_sent_bytes_total") > 0
    assert value(samples, "corn_workers") == 2
    assert len([n for (n, _) in samples if n == "corn_worker_heartbeat_age_seconds"]) == 2
    assert value(samples, "corn_listen_queue_depth", listener=f"http://127.0.0.1:{server.port}") == 0
    assert total(samples, "corn_worker_restarts_total") == 0
    assert [labels for (n, labels) in samples if n == "corn_build_info"]


@pytest.mark.workers("gevent", "gthread", why="the sync worker closes every connection after one request")
def test_keepalive_reuses(corn_server, worker_class):
    server = corn_server("metrics_app:app", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    with server.connect() as sock:
        client = RawClient(sock)
        for _ in range(3):
            client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.read_response().status == 200
        samples = scrape_until(port, lambda s: value(s, "corn_keepalive_reuses_total") == 2, "two reuses")
        assert value(samples, "corn_connections_open") == 1
        assert value(samples, "corn_connections_accepted_total") == 1


def test_openmetrics_when_asked():
    """Checked on a rendered scrape: the same samples, OpenMetrics' names and trailer."""
    from corn.metrics_http import render

    class FakeArbiter:
        workers = {}
        listeners = []

    samples = metrics.MetricsHub(FakeArbiter()).samples()
    text = render(samples, openmetrics=True).decode()
    assert text.endswith("# EOF\n")
    assert "# TYPE corn_requests counter" in text
    families = {f.name: f for f in openmetrics_families(text)}
    assert families["corn_worker_restarts"].type == "counter"
    assert families["corn_request_duration_seconds"].type == "histogram"
    plain = render(samples).decode()
    assert "# TYPE corn_requests_total counter" in plain and "# EOF" not in plain


def test_openmetrics_over_the_socket(corn_server):
    server = corn_server("metrics_app:app", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    resp = scrape_raw(port, accept="application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
    assert resp.status == 200
    assert resp.header("content-type") == OPENMETRICS_TYPE
    names = {f.name for f in openmetrics_families(resp.body.decode())}
    assert {"corn_requests", "corn_workers", "corn_build_info"} <= names
    assert http_request(port, "GET", "/other").status == 404


def test_kill_9_counts_a_crash_and_totals_stay(corn_server):
    server = corn_server("metrics_app:app", "-w", "2", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    for _ in range(10):
        assert http_request(server.port, "GET", "/").status == 200
    before = scrape_until(port, lambda s: value(s, "corn_request_duration_seconds_count") == 10,
                          "10 requests")
    victim = server.booted_workers()[0]
    os.kill(victim, signal.SIGKILL)
    after = scrape_until(
        port, lambda s: value(s, "corn_worker_restarts_total", reason="crash") == 1
        and len(server.booted_workers()) == 2 and victim not in server.booted_workers(),
        "the crash counted and the worker replaced")
    for name in ("corn_requests_total", "corn_request_duration_seconds_count",
                 "corn_connections_accepted_total",
                 "corn_received_bytes_total", "corn_sent_bytes_total"):
        assert total(after, name) >= total(before, name), name
    assert value(after, "corn_request_duration_seconds_count") >= 10
    assert value(after, "corn_worker_restarts_total", reason="timeout") == 0


def test_max_requests_and_hup_restarts(corn_server):
    server = corn_server("metrics_app:app", "--max-requests", "2", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    for _ in range(2):
        assert http_request(server.port, "GET", "/").status == 200
    wait_for(lambda: value(scrape(port), "corn_worker_restarts_total", reason="max_requests") == 1,
             message="a max_requests restart")
    server.signal(signal.SIGHUP)
    samples = scrape_until(port, lambda s: value(s, "corn_worker_restarts_total", reason="reload") == 1,
                           "a reload restart")
    assert value(samples, "corn_request_duration_seconds_count") == 2
    assert value(samples, "corn_worker_restarts_total", reason="crash") == 0


def test_stopped_worker_shows_a_growing_heartbeat_age(corn_server):
    server = corn_server("metrics_app:app", "--timeout", "300", "--metrics-bind", "127.0.0.1:0")
    port = metrics_port(server)
    worker = server.booted_workers()[0]

    def age():
        return value(scrape(port), "corn_worker_heartbeat_age_seconds", pid=str(worker))

    os.kill(worker, signal.SIGSTOP)
    try:
        first = wait_for(lambda: (a := age()) > 2.5 and a, message="the heartbeat age to pass 2.5s")
        wait_for(lambda: age() > first + 1.0, message="the heartbeat age to keep growing")
    finally:
        os.kill(worker, signal.SIGCONT)
    wait_for(lambda: age() < 2.5, message="the heartbeat to resume")
    assert pid_alive(worker)


def test_unix_socket_endpoint(corn_server, tmp_path):
    path = str(tmp_path / "metrics.sock")
    server = corn_server("metrics_app:app", "--metrics-bind", f"unix:{path}")
    wait_for(lambda: "Metrics at: unix:" in server.log(), message="the metrics endpoint")
    assert http_request(server.port, "GET", "/").status == 200

    def scraped():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(path)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            body = RawClient(sock).read_response().body.decode()
        return 'corn_requests_total{method="GET",status_class="2xx"} 1' in body

    wait_for(scraped, message="the request counted")
    server.stop()
    assert not os.path.exists(path)


def test_bad_metrics_bind_is_refused():
    from corn.validators import Invalid, metrics_address

    assert metrics_address("127.0.0.1:9100") == "127.0.0.1:9100"
    assert metrics_address("unix:/tmp/m.sock") == "unix:/tmp/m.sock"
    with pytest.raises(Invalid):
        metrics_address("fd://3")
    with pytest.raises(Invalid):
        metrics_address("127.0.0.1:notaport")


RELOAD_APP = """
def app(environ, start_response):
    body = {body!r}
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


def test_reload_on_file_change_counts_a_reload(corn_server, tmp_path, worker_class):
    module = tmp_path / "metrics_reload_app.py"
    module.write_text(RELOAD_APP.format(body=b"one"))
    server = corn_server("metrics_reload_app:app", "--reload", "--pythonpath", str(tmp_path),
                         "--metrics-bind", "127.0.0.1:0", env={"PYTHONDONTWRITEBYTECODE": "1"})
    port = metrics_port(server)
    for _ in range(3):
        assert http_request(server.port, "GET", "/").body == b"one"
    # one change, seen whole: the new text with its mtime moved clearly forward, renamed into place
    before = os.stat(module).st_mtime
    staged = tmp_path / "staged.py.tmp"
    staged.write_text(RELOAD_APP.format(body=b"two"))
    os.utime(staged, (before + 2, before + 2))
    os.replace(staged, module)
    wait_for(lambda: http_request(server.port, "GET", "/").body == b"two", message="the new code")
    samples = scrape_until(port, lambda s: value(s, "corn_worker_restarts_total", reason="reload") >= 1,
                           "a reload restart")
    assert value(samples, "corn_request_duration_seconds_count") >= 4  # the first worker's count kept
    assert value(samples, "corn_worker_restarts_total", reason="crash") == 0


def test_usr2_new_master_takes_the_address_over_with_its_own_counters(corn_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_at = probe.getsockname()[1]
    server = corn_server("metrics_app:app", "--metrics-bind", f"127.0.0.1:{metrics_at}")
    old_master = server.pid
    for _ in range(3):
        assert http_request(server.port, "GET", "/").status == 200
    scrape_until(metrics_at, lambda s: value(s, "corn_request_duration_seconds_count") == 3, "3 requests")
    server.signal(signal.SIGUSR2)

    def new_master():
        pids = [int(p) for p in re.findall(r"Listening at: \S+ \((\d+)\)", server.log())]
        return next((p for p in pids if p != old_master), None)

    new_pid = wait_for(new_master, message="a re-executed master")
    try:
        wait_for(lambda: "in use by the previous master" in server.log(), message="the new master waiting")
        server.signal(signal.SIGTERM)
        assert server.wait_exit() == 0
        wait_for(lambda: f"Metrics at: http://127.0.0.1:{metrics_at}/metrics ({new_pid})" in server.log(),
                 message="the new master's endpoint")
        assert http_request(server.port, "GET", "/").status == 200
        samples = scrape_until(metrics_at, lambda s: value(s, "corn_request_duration_seconds_count") == 1,
                               "the new master's own count")
        assert value(samples, "corn_workers") == 1
    finally:
        if pid_alive(new_pid):
            os.kill(new_pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(new_pid), message="the new master to stop")
