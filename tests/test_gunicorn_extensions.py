"""Extensions written for gunicorn, run by corn: a `logger_class` that subclasses gunicorn's
Logger, and gunicorn's own worker classes named by their dotted path. gunicorn 27 is installed
with the test dependencies; these are its real classes.

A gunicorn logger gets every access line, whichever worker serves, with the atoms gunicorn's
format reads and the `resp` and `req` attributes a subclass reads. gunicorn's workers serve with
gunicorn's own parser and write their access lines through corn's logger (or a gunicorn one).
Classes that cannot work are refused before the server starts, in one line.
"""

import datetime
import re
import signal

import pytest
from conftest import http_request, wait_for

from corn import logbridge
from corn.errors import ConfigError

SEEN_LOGGER = '''
from gunicorn.glogging import Logger


class SeenLogger(Logger):
    """A typical customisation: read what gunicorn's access() is given, then log as gunicorn does."""

    def access(self, resp, req, environ, request_time):
        self.error_log.info(
            "seen status=%s code=%s method=%s path=%s query=%s version=%s tag=%s sent=%s time=%s",
            resp.status, resp.status_code, req.method, req.path, req.query, req.version,
            dict(req.headers).get("X-TAG"), resp.sent, type(request_time).__name__,
        )
        super().access(resp, req, environ, request_time)
'''

FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(m)s %(U)s %(q)s {%({x-tag}i)s} {%({content-type}o)s} %(H)s'
EXPECTED_LINE = '127.0.0.1 "GET /x?y=1 HTTP/1.1" 200 13 GET /x y=1 {hi} {text/plain} HTTP/1.1'
EXPECTED_SEEN = (
    "seen status=200 OK code=200 method=GET path=/x query=y=1 version=(1, 1) tag=hi sent=13 time=timedelta"
)

WORKERS = [
    "gevent",
    "sync",
    "gunicorn.workers.sync.SyncWorker",
    "gunicorn.workers.ggevent.GeventWorker",
]


@pytest.fixture
def seen_logger(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "seenlog.py").write_text(SEEN_LOGGER)
    return ["--pythonpath", str(lib), "--logger-class", "seenlog.SeenLogger"]


def tagged_request(server):
    resp = http_request(server.port, path="/x?y=1", headers=["X-Tag: hi"])
    assert (resp.status, resp.body) == (200, b"Hello, World!")
    return resp


@pytest.mark.parametrize("worker_class", WORKERS)
def test_a_gunicorn_logger_subclass_gets_every_access_line(corn_server, seen_logger, worker_class):
    server = corn_server(
        "basic:app", "-k", worker_class, *seen_logger, "--access-logfile", "-", "--access-logformat", FORMAT,
    )
    for _ in range(3):
        tagged_request(server)
    wait_for(lambda: server.log().count(EXPECTED_LINE) == 3, message="three lines in gunicorn's format")
    log = server.log()
    assert log.count(EXPECTED_SEEN) == 3, log
    assert "Traceback" not in log


@pytest.mark.parametrize("worker_class", WORKERS[2:])
def test_a_gunicorn_worker_class_serves_with_corns_logger(corn_server, worker_class):
    server = corn_server(
        "basic:app", "-k", worker_class, "--access-logfile", "-", "--access-logformat", FORMAT,
    )
    resp = tagged_request(server)
    assert resp.header("server") == "gunicorn"  # gunicorn's own request handling served it
    wait_for(lambda: EXPECTED_LINE in server.log(), message="the access line")
    log = server.log()
    assert f"Using worker: {worker_class}" in log
    assert "Traceback" not in log and "TypeError" not in log


def test_gunicorns_sync_worker_recycles_and_stops_like_a_corn_worker(corn_server):
    server = corn_server(
        "basic:app", "-w", "2", "-k", "gunicorn.workers.sync.SyncWorker", "--max-requests", "2",
    )
    first = set(server.booted_workers())

    def recycled():
        assert http_request(server.port, path="/pid").status == 200
        return not first & set(server.booted_workers()) and len(server.booted_workers()) == 2

    wait_for(recycled, message="both workers recycled after max_requests")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert not re.search(r"was sent SIG|exited with code|Traceback", server.log()), server.log()


@pytest.mark.parametrize("spec, expected", [
    ("json.JSONDecoder", "JSONDecoder is not a worker class: it has no init_process()"),
    ("os.path", "module is not a class"),
    ("no_such_module.Worker", "No module named 'no_such_module'"),
])
def test_what_cannot_be_a_worker_is_one_line_before_the_start(corn_server, spec, expected):
    server = corn_server("basic:app", "-k", spec, wait=False)
    assert server.wait_exit() == 2
    lines = server.log().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"corn: error: Invalid value for worker_class: {spec!r} (")
    assert expected in lines[0]


def test_a_logger_class_with_neither_access_is_one_line(corn_server, tmp_path):
    (tmp_path / "oddlog.py").write_text(
        "from corn.glogging import Logger\n\n"
        "class OddLogger(Logger):\n    def access(self, environ, status):\n        pass\n"
    )
    server = corn_server(
        "basic:app", "--pythonpath", str(tmp_path), "--logger-class", "oddlog.OddLogger", wait=False,
    )
    assert server.wait_exit() == 2
    assert server.log().splitlines() == [
        "corn: error: Invalid value for logger_class: OddLogger.access() takes 2 arguments (expected "
        "corn's access(environ, status, headers, sent, request_time) "
        "or gunicorn's access(resp, req, environ, request_time))"
    ]


# --- the bridge itself, on the objects it converts ------------------------------------------


def test_the_two_kinds_are_told_apart_by_access():
    from gunicorn.glogging import Logger as GunicornLogger

    from corn.glogging import Logger as CornLogger
    from corn.statsd import Statsd

    assert logbridge.logger_kind(CornLogger) == logbridge.CORN
    assert logbridge.logger_kind(Statsd) == logbridge.CORN
    assert logbridge.logger_kind(GunicornLogger) == logbridge.GUNICORN
    with pytest.raises(ConfigError, match="has no access"):
        logbridge.logger_kind(object)


def test_the_request_a_gunicorn_logger_reads_comes_from_the_environ():
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": "/a%20b?q=1#frag", "SERVER_PROTOCOL": "HTTP/1.0",
        "HTTP_X_FORWARDED_FOR": "10.0.0.1", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "",
        "wsgi.url_scheme": "https", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "5000",
    }
    req = logbridge.AccessRequest(environ)
    assert (req.method, req.uri) == ("POST", "/a%20b?q=1#frag")
    assert (req.path, req.query, req.fragment) == ("/a%20b", "q=1", "frag")
    assert req.version == (1, 0) and req.scheme == "https"
    assert sorted(req.headers) == [("CONTENT-TYPE", "text/plain"), ("X-FORWARDED-FOR", "10.0.0.1")]
    resp = logbridge.AccessResponse("404 Not Found", [("Content-Length", "9")], 9)
    assert (resp.status_code, resp.response_length, resp.sent) == (404, 9, 9)


def test_a_gunicorn_worker_calling_corns_logger_reaches_corns_access():
    calls = []

    class Recorder:
        access_enabled = True

        def access(self, environ, status, headers, sent, request_time):
            calls.append((status, headers, sent, request_time))

    class GunicornResponse:
        status = "200 OK"
        headers = [("Content-Type", "text/plain")]
        sent = 5

    logger = logbridge.for_gunicorn(Recorder())
    assert logger.access_log_enabled
    logger.access(GunicornResponse(), object(), {}, datetime.timedelta(milliseconds=1500))
    assert calls == [("200 OK", [("Content-Type", "text/plain")], 5, 1.5)]
    assert isinstance(logbridge.for_corn(logger), Recorder)
