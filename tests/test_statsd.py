"""statsd: gunicorn's metrics, in gunicorn's wire format, received by a real UDP socket."""

import re
import signal
import socket
import time

import pytest
from conftest import http_request, wait_for

from corn import glogging
from corn.arbiter import load_logger_class
from corn.config import Config
from corn.statsd import Statsd, metric_prefix


@pytest.fixture
def statsd_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    yield sock
    sock.close()


class Received:
    def __init__(self, sock):
        self.sock = sock
        self.lines = []

    def drain(self):
        while True:
            try:
                self.lines.append(self.sock.recv(65536).decode("ascii"))
            except socket.timeout:
                return self.lines

    def wait_for(self, predicate, message):
        wait_for(lambda: predicate(self.drain()), message=message)
        return self.lines


@pytest.mark.parametrize("accesslog", [False, True], ids=["no-access-log", "access-log"])
def test_request_worker_and_log_metrics(corn_server, statsd_socket, accesslog):
    port = statsd_socket.getsockname()[1]
    args = ["-w", "2", "--statsd-host", f"127.0.0.1:{port}", "--statsd-prefix", "shop",
            "--dogstatsd-tags", "env:test,team:web"] + (["--access-logfile", "-"] if accesslog else [])
    server = corn_server("basic:app", *args)
    received = Received(statsd_socket)
    tags = "|#env:test,team:web"
    received.wait_for(lambda lines: f"shop.gunicorn.workers:2|g{tags}" in lines, "the workers gauge")
    for _ in range(3):
        assert http_request(server.port, "GET", "/").status == 200
    assert http_request(server.port, "GET", "/raise").status == 500

    def all_arrived(lines):
        return (lines.count(f"shop.gunicorn.requests:1|c|@1.0{tags}") == 4
                and lines.count(f"shop.gunicorn.request.status.200:1|c|@1.0{tags}") == 3
                and lines.count(f"shop.gunicorn.request.status.500:1|c|@1.0{tags}") == 1
                and f"shop.gunicorn.log.exception:1|c|@1.0{tags}" in lines)

    lines = received.wait_for(all_arrived, "the request metrics")
    durations = [line for line in lines if line.startswith("shop.gunicorn.request.duration:")]
    assert len(durations) == 4
    assert all(re.fullmatch(rf"shop\.gunicorn\.request\.duration:\d+(\.\d+)?\|ms{re.escape(tags)}", d)
               for d in durations), durations
    access_lines = re.findall(r'"GET / HTTP/1\.1" 200', server.log())
    assert len(access_lines) == (3 if accesslog else 0)


def test_workers_gauge_follows_ttin(corn_server, statsd_socket):
    port = statsd_socket.getsockname()[1]
    server = corn_server("basic:app", "-w", "1", "--statsd-host", f"127.0.0.1:{port}")
    received = Received(statsd_socket)
    received.wait_for(lambda lines: "gunicorn.workers:1|g" in lines, "the first gauge")
    server.signal(signal.SIGTTIN)
    received.wait_for(lambda lines: "gunicorn.workers:2|g" in lines, "the gauge after TTIN")


def test_logger_class_choice():
    plain = Config(environ={})
    assert load_logger_class(plain.logger_class, plain.statsd_host) is glogging.Logger
    with_statsd = Config(environ={})
    with_statsd.set("statsd_host", "127.0.0.1:9125")
    assert load_logger_class(with_statsd.logger_class, with_statsd.statsd_host) is Statsd
    assert load_logger_class("gunicorn.instrument.statsd.Statsd") is Statsd
    assert metric_prefix("") == "" and metric_prefix("app") == "app." and metric_prefix("app..") == "app."


def test_statsd_off_keeps_the_access_path_off():
    cfg = Config(environ={})
    log = load_logger_class(cfg.logger_class, cfg.statsd_host)(cfg)
    assert log.access_enabled is False  # so the handler never calls access()


def test_unreachable_statsd_is_reported_at_most_once_a_minute(statsd_socket, capsys):
    port = statsd_socket.getsockname()[1]
    statsd_socket.close()  # nothing listens there any more: sends fail with ECONNREFUSED
    cfg = Config(environ={})
    cfg.set("statsd_host", f"127.0.0.1:{port}")
    log = Statsd(cfg)
    deadline = time.monotonic() + 10
    while log.warned_at is None and time.monotonic() < deadline:  # the ICMP error arrives asynchronously
        log.increment("probe")
        time.sleep(0.01)
    assert log.warned_at is not None
    for _ in range(5):
        log.increment("probe")
    assert capsys.readouterr().err.count("Error sending message to statsd") == 1
