"""The error log and the access log: gunicorn's formats and every access-log atom.

Unit tests drive `corn.glogging.Logger` with a real Config and real files; the server tests send
real requests to `corn --access-logfile FILE` and read the lines it wrote.
"""

import base64
import itertools
import json
import logging
import os
import re
import signal
import sys

import pytest
from conftest import http_request, wait_for

from corn import glogging
from corn.config import Config

ERROR_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] \[([A-Z]+)\] (.*)$")
_files = itertools.count()
CLF_TIME = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"


@pytest.fixture
def make_logger():
    """Build Loggers over real files; remove their handlers from the shared loggers afterwards."""
    made = []
    root = logging.getLogger()
    root_state = (list(root.handlers), root.level)

    def make(**settings):
        cfg = Config()
        for name, value in settings.items():
            cfg.set(name, value)
        log = glogging.Logger(cfg)
        made.append(log)
        return log

    yield make
    for log in made:
        for logger in (log.error_log, log.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()
    root.handlers[:] = root_state[0]
    root.setLevel(root_state[1])


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def flush(log):
    for logger in (log.error_log, log.access_log):
        for handler in logger.handlers:
            handler.flush()


ENVIRON = {
    "REQUEST_METHOD": "POST",
    "RAW_URI": "/path/x%20y?a=1&b=2",
    "PATH_INFO": "/path/x y",
    "QUERY_STRING": "a=1&b=2",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "10.1.2.3",
    "HTTP_HOST": "example.com",
    "HTTP_REFERER": "http://ref.example/",
    "HTTP_USER_AGENT": 'agent "quoted"/1.0',
    "HTTP_X_REQUEST_ID": "req-42",
    "CONTENT_TYPE": "application/json",
    "CONTENT_LENGTH": "17",
    "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"alice:secret").decode(),
    "wsgi.url_scheme": "http",
    "CUSTOM_VALUE": "from-environ",
}
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "5"), ("X-Trace", "t-1"), ("x-trace", "t-2")]


# --- error log -------------------------------------------------------------------------------


def test_error_log_format(make_logger, tmp_path):
    path = tmp_path / "error.log"
    log = make_logger(errorlog=str(path))
    log.info("hello %s", "world")
    log.warning("careful")
    log.error("broken")
    log.critical("down")
    flush(log)
    lines = [ERROR_LINE.match(line) for line in read_lines(path)]
    assert all(lines), read_lines(path)
    assert [(m.group(2), m.group(3)) for m in lines] == [
        ("INFO", "hello world"),
        ("WARNING", "careful"),
        ("ERROR", "broken"),
        ("CRITICAL", "down"),
    ]
    assert {m.group(1) for m in lines} == {str(os.getpid())}


def test_error_log_level(make_logger, tmp_path):
    path = tmp_path / "error.log"
    log = make_logger(errorlog=str(path), loglevel="warning")
    log.debug("no")
    log.info("no")
    log.warning("yes")
    log.log("error", "also yes")
    log.log(logging.DEBUG, "no")
    flush(log)
    assert [ERROR_LINE.match(line).group(3) for line in read_lines(path)] == ["yes", "also yes"]


def test_exception_logs_the_traceback(make_logger, tmp_path):
    path = tmp_path / "error.log"
    log = make_logger(errorlog=str(path))
    try:
        raise ValueError("the detail")
    except ValueError:
        log.exception("it failed")
    flush(log)
    text = path.read_text()
    assert "[ERROR] it failed" in text
    assert "ValueError: the detail" in text


def test_setup_again_does_not_duplicate_handlers(make_logger, tmp_path):
    path = tmp_path / "error.log"
    log = make_logger(errorlog=str(path))
    log.setup(log.cfg)
    log.setup(log.cfg)
    log.info("once")
    flush(log)
    assert len(read_lines(path)) == 1


def test_reopen_files_after_rotation(make_logger, tmp_path):
    error_path, access_path = tmp_path / "error.log", tmp_path / "access.log"
    log = make_logger(errorlog=str(error_path), accesslog=str(access_path))
    log.info("before")
    os.rename(error_path, tmp_path / "error.log.1")
    os.rename(access_path, tmp_path / "access.log.1")
    log.reopen_files()
    log.info("after")
    log.access(ENVIRON, "200 OK", HEADERS, 5, 0.01)
    flush(log)
    assert "before" in (tmp_path / "error.log.1").read_text()
    assert "after" in error_path.read_text()
    assert "before" not in error_path.read_text()
    assert len(read_lines(access_path)) == 1


def test_close_on_exec(make_logger, tmp_path):
    log = make_logger(errorlog=str(tmp_path / "error.log"))
    log.close_on_exec()
    handler = next(h for h in log.error_log.handlers if isinstance(h, logging.FileHandler))
    assert not os.get_inheritable(handler.stream.fileno())


def test_logconfig_dict_is_applied(make_logger, tmp_path):
    path = tmp_path / "dict.log"
    config = {
        "version": 1,
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(path), "formatter": "bare"}},
        "formatters": {"bare": {"format": "DICT %(levelname)s %(message)s"}},
        "loggers": {"gunicorn.error": {"level": "DEBUG", "handlers": ["file"], "propagate": False}},
    }
    log = make_logger(logconfig_dict=config)
    assert log.access_enabled
    log.debug("through dictConfig")
    for handler in log.error_log.handlers:
        handler.flush()
    assert read_lines(path) == ["DICT DEBUG through dictConfig"]


def test_missing_logconfig_file_is_an_error(tmp_path):
    cfg = Config()
    cfg.set("logconfig", str(tmp_path / "absent.ini"))
    with pytest.raises(RuntimeError, match="absent.ini"):
        glogging.Logger(cfg)


def test_syslog_addresses():
    import socket

    assert glogging.parse_syslog_address("udp://localhost:514") == (socket.SOCK_DGRAM, ("localhost", 514))
    assert glogging.parse_syslog_address("tcp://LOGS:6514") == (socket.SOCK_STREAM, ("logs", 6514))
    assert glogging.parse_syslog_address("udp://[::1]:9") == (socket.SOCK_DGRAM, ("::1", 9))
    assert glogging.parse_syslog_address("udp://") == (socket.SOCK_DGRAM, ("localhost", 514))
    assert glogging.parse_syslog_address("unix:///dev/log#dgram") == (socket.SOCK_DGRAM, "/dev/log")
    assert glogging.parse_syslog_address("unix:///dev/log") == (None, "/dev/log")
    with pytest.raises(RuntimeError):
        glogging.parse_syslog_address("http://x")


# --- access log: atoms -----------------------------------------------------------------------


def access_line(make_logger, tmp_path, fmt, environ=ENVIRON, headers=HEADERS, status="201 Created", sent=5,
                request_time=1.2345678):
    path = tmp_path / f"access-{next(_files)}.log"
    log = make_logger(accesslog=str(path), access_log_format=fmt)
    log.access(environ, status, headers, sent, request_time)
    flush(log)
    lines = read_lines(path)
    assert len(lines) == 1
    return lines[0]


def test_default_format(make_logger, tmp_path):
    line = access_line(make_logger, tmp_path, Config().access_log_format)
    expected = (
        r'10\.1\.2\.3 - alice ' + CLF_TIME + r' "POST /path/x%20y\?a=1&b=2 HTTP/1\.1" 201 5 '
        r'"http://ref\.example/" "agent \\"quoted\\"/1\.0"'
    )
    assert re.fullmatch(expected, line), line


@pytest.mark.parametrize(
    "atom, expected",
    [
        ("h", "10.1.2.3"),
        ("l", "-"),
        ("u", "alice"),
        ("r", "POST /path/x%20y?a=1&b=2 HTTP/1.1"),
        ("s", "201"),
        ("m", "POST"),
        ("U", "/path/x y"),
        ("q", "a=1&b=2"),
        ("H", "HTTP/1.1"),
        ("b", "5"),
        ("B", "5"),
        ("f", "http://ref.example/"),
        ("a", 'agent \\"quoted\\"/1.0'),
        ("T", "1"),
        ("D", "1234568"),
        ("M", "1234"),
        ("L", "1.234568"),
        ("p", f"<{os.getpid()}>"),
        ("{x-request-id}i", "req-42"),
        ("{X-Request-Id}i", "req-42"),
        ("{host}i", "example.com"),
        ("{content-type}i", "application/json"),
        ("{content-length}i", "17"),
        ("{absent}i", "-"),
        ("{content-type}o", "text/plain"),
        ("{CONTENT-LENGTH}o", "5"),
        ("{x-trace}o", "t-2"),
        ("{absent}o", "-"),
        ("{custom_value}e", "from-environ"),
        ("{REMOTE_ADDR}e", "10.1.2.3"),
        ("{wsgi.url_scheme}e", "http"),
        ("{absent}e", "-"),
        ("nosuchatom", "-"),
    ],
)
def test_every_atom(make_logger, tmp_path, atom, expected):
    assert access_line(make_logger, tmp_path, f"<%({atom})s>") == f"<{expected}>"


def test_time_atom(make_logger, tmp_path):
    assert re.fullmatch(CLF_TIME, access_line(make_logger, tmp_path, "%(t)s"))


def test_plain_atoms_are_case_sensitive(make_logger, tmp_path):
    assert access_line(make_logger, tmp_path, "%(b)s|%(B)s|%(S)s", sent=0) == "0|0|-"


def test_zero_and_small_request_times(make_logger, tmp_path):
    line = access_line(make_logger, tmp_path, "%(T)s %(D)s %(M)s %(L)s", request_time=0.0000004)
    assert line == "0 0 0 0.000000"
    line = access_line(make_logger, tmp_path, "%(T)s %(D)s %(M)s %(L)s", request_time=62.5)
    assert line == "62 62500000 62500 62.500000"


def test_missing_environ_values(make_logger, tmp_path):
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.0"}
    line = access_line(make_logger, tmp_path, "%(h)s %(u)s %(f)s %(a)s %(r)s", environ=environ, headers=[])
    assert line == "- - - - GET / HTTP/1.0"


def test_undecodable_basic_auth_is_anonymous(make_logger, tmp_path):
    environ = dict(ENVIRON, HTTP_AUTHORIZATION="Basic !!!not-base64")
    assert access_line(make_logger, tmp_path, "%(u)s", environ=environ) == "-"
    environ = dict(ENVIRON, HTTP_AUTHORIZATION="Bearer abc")
    assert access_line(make_logger, tmp_path, "%(u)s", environ=environ) == "-"


def test_only_double_quotes_are_escaped(make_logger, tmp_path):
    environ = dict(ENVIRON, HTTP_USER_AGENT='a"b\\c', HTTP_X_NOTE='say "hi"')
    line = access_line(make_logger, tmp_path, "%(a)s %({x-note}i)s", environ=environ)
    assert line == 'a\\"b\\c say \\"hi\\"'


def test_no_access_log_builds_nothing(make_logger, tmp_path):
    log = make_logger(errorlog=str(tmp_path / "error.log"))
    assert not log.access_enabled
    assert not log.access_log_enabled
    log.access(None, None, None, None, None)  # returns before touching any argument


def test_access_log_to_stdout(make_logger):
    log = make_logger(accesslog="-", access_log_format="%(m)s %(s)s")
    handler = next(h for h in log.access_log.handlers if getattr(h, "_corn_handler", False))
    assert isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
    assert handler.stream is sys.stdout


# --- through a real server -------------------------------------------------------------------

ALL_ATOMS = "|".join(f"{a}=%({a})s" for a in "h l u r s m U q H b B f a T D M L p".split())


def test_access_log_through_a_server(corn_server, tmp_path):
    path = tmp_path / "access.log"
    fmt = ALL_ATOMS + "|%(t)s|%({x-request-id}i)s|%({content-type}o)s|%({remote_port}e)s|%({absent}i)s"
    server = corn_server("basic:app", "--access-logfile", str(path), "--access-logformat", fmt)
    auth = base64.b64encode(b"bob:pw").decode()
    resp = http_request(
        server.port,
        "POST",
        "/echo?x=1&y=%22",
        headers=[
            "X-Request-Id: abc-123",
            f"Authorization: Basic {auth}",
            "Referer: http://r.example/",
            "User-Agent: test-agent/2",
        ],
        body=b"hello body",
    )
    assert resp.status == 200 and resp.body == b"hello body"
    lines = wait_for(lambda: path.exists() and read_lines(path), message="an access-log line")
    assert len(lines) == 1
    fields = lines[0].split("|")
    atoms = dict(field.split("=", 1) for field in fields[:18])
    assert atoms["h"] == "127.0.0.1"
    assert atoms["l"] == "-"
    assert atoms["u"] == "bob"
    assert atoms["r"] == "POST /echo?x=1&y=%22 HTTP/1.1"
    assert atoms["s"] == "200"
    assert atoms["m"] == "POST"
    assert atoms["U"] == "/echo"
    assert atoms["q"] == "x=1&y=%22"
    assert atoms["H"] == "HTTP/1.1"
    assert atoms["b"] == atoms["B"] == "10"
    assert atoms["f"] == "http://r.example/"
    assert atoms["a"] == "test-agent/2"
    assert int(atoms["T"]) >= 0
    assert int(atoms["D"]) >= int(atoms["M"]) >= 0
    assert re.fullmatch(r"\d+\.\d{6}", atoms["L"])
    worker_pid = int(re.fullmatch(r"<(\d+)>", atoms["p"]).group(1))
    assert worker_pid in server.booted_workers()
    assert re.fullmatch(CLF_TIME, fields[18])
    assert fields[19] == "abc-123"
    assert fields[20] == "text/plain"
    assert fields[21].isdigit()
    assert fields[22] == "-"


def test_default_access_format_through_a_server(corn_server, tmp_path):
    path = tmp_path / "access.log"
    server = corn_server("basic:app", "--access-logfile", str(path))
    resp = http_request(server.port, "GET", "/?q=1", headers=['User-Agent: say "hi"'])
    assert resp.status == 200
    lines = wait_for(lambda: path.exists() and read_lines(path), message="an access-log line")
    expected = r'127\.0\.0\.1 - - ' + CLF_TIME + r' "GET /\?q=1 HTTP/1\.1" 200 13 "-" "say \\"hi\\""'
    assert re.fullmatch(expected, lines[0]), lines[0]


def test_no_access_log_by_default(corn_server, tmp_path):
    server = corn_server("basic:app")
    assert http_request(server.port, "GET", "/").status == 200
    assert "GET / HTTP/1.1" not in server.log()


def test_usr1_reopens_the_access_log(corn_server, tmp_path):
    path = tmp_path / "access.log"
    server = corn_server("basic:app", "--access-logfile", str(path), "--access-logformat", "%(U)s")
    assert http_request(server.port, "GET", "/first").status == 200
    wait_for(lambda: path.exists() and read_lines(path) == ["/first"], message="the first line")
    os.rename(path, tmp_path / "access.log.1")
    server.signal(signal.SIGUSR1)
    # The master logs the signal before forwarding it; the workers reopen on receipt.
    wait_for(lambda: "Handling signal: usr1" in server.log(), message="USR1 handled")

    def reopened():
        http_request(server.port, "GET", "/second")
        return path.exists() and "/second" in read_lines(path)

    wait_for(reopened, interval=0.2, message="a new access.log after USR1")
    assert read_lines(tmp_path / "access.log.1")[0] == "/first"


def test_logconfig_json(make_logger, tmp_path):
    path = tmp_path / "json.log"
    config = {
        "version": 1,
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(path), "formatter": "bare"}},
        "formatters": {"bare": {"format": "JSON %(message)s"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["file"], "propagate": False}},
    }
    json_path = tmp_path / "logging.json"
    json_path.write_text(json.dumps(config))
    log = make_logger(logconfig_json=str(json_path))
    log.info("via json")
    for handler in log.error_log.handlers:
        handler.flush()
    assert read_lines(path) == ["JSON via json"]


def test_logconfig_ini(make_logger, tmp_path):
    path = tmp_path / "ini.log"
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root,error\n\n"
        "[handlers]\nkeys=file\n\n"
        "[formatters]\nkeys=bare\n\n"
        "[logger_root]\nlevel=WARNING\nhandlers=\n\n"
        "[logger_error]\nlevel=INFO\nhandlers=file\npropagate=0\nqualname=gunicorn.error\n\n"
        f"[handler_file]\nclass=FileHandler\nformatter=bare\nargs=({str(path)!r},)\n\n"
        "[formatter_bare]\nformat=INI %(message)s\n"
    )
    log = make_logger(logconfig=str(ini))
    log.info("via ini")
    for handler in log.error_log.handlers:
        handler.flush()
    assert read_lines(path) == ["INI via ini"]


def test_syslog_receives_error_and_access_lines(make_logger):
    import socket

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(30)
    try:
        port = receiver.getsockname()[1]
        log = make_logger(syslog=True, syslog_addr=f"udp://127.0.0.1:{port}", syslog_prefix="myapp",
                          syslog_facility="local3", access_log_format="%(m)s %(U)s")
        assert log.access_enabled
        log.error("to syslog")
        log.access(ENVIRON, "200 OK", HEADERS, 5, 0.1)
        first, second = receiver.recv(4096).decode(), receiver.recv(4096).decode()
    finally:
        receiver.close()
    facility = 19  # local3
    assert first == f"<{facility * 8 + 3}>gunicorn.myapp.error: [{os.getpid()}] to syslog\x00"
    assert second == f"<{facility * 8 + 6}>gunicorn.myapp.access: [{os.getpid()}] POST /path/x y\x00"


def test_unwritable_error_log_stops_the_server(corn_server, tmp_path):
    target = tmp_path / "missing-dir" / "error.log"
    server = corn_server("basic:app", "--error-logfile", str(target), wait=False)
    assert server.wait_exit() == 1
    assert f"Error: '{target}' isn't writable" in server.log()
    assert "Traceback" not in server.log()
