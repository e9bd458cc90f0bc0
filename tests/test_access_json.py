"""--access-log-json: every line parses with json.loads, whatever bytes the request carried."""

import json
import os
import re
import signal

from conftest import RawClient, http_request, wait_for

from corn import accesslog_json

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_lines(path):
    with open(path, "rb") as f:
        return [line.decode("ascii") for line in f.read().splitlines()]


def test_docs_list_the_fields_in_order():
    with open(os.path.join(REPO, "docs", "logging.md"), encoding="utf-8") as f:
        documented = re.findall(r"^\| `(\w+)` \|", f.read(), re.M)
    assert tuple(documented) == accesslog_json.FIELDS
    in_module = re.findall(r"^\| `(\w+)` \|", accesslog_json.__doc__, re.M)
    assert tuple(in_module) == accesslog_json.FIELDS


def test_hostile_values_are_escaped():
    nasty = '"quoted" back\\slash \x00\x01\x1b\x7f \n\r\t' + "\xe2\x80\xa8" + "\xff\xfe" + "\xc3\xa9"
    environ = {
        "REMOTE_ADDR": "10.0.0.1", "REQUEST_METHOD": "GET", "PATH_INFO": "/" + nasty, "QUERY_STRING": nasty,
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": nasty, "HTTP_REFERER": nasty,
        "HTTP_X_REQUEST_ID": "abc", "HTTP_TRACEPARENT": "00-1-2-01",
    }
    text = accesslog_json.line(environ, "200 OK", 12, 0.25)
    assert "\n" not in text and text.isascii()
    record = json.loads(text)
    assert list(record) == list(accesslog_json.FIELDS)
    expected = '"quoted" back\\slash \x00\x01\x1b\x7f \n\r\t\u2028\\xff\\xfeé'
    assert record["path"] == "/" + expected
    assert record["user_agent"] == record["referer"] == record["query"] == expected
    assert record["status"] == 200 and record["bytes"] == 12 and record["duration"] == 0.25
    assert record["request_id"] == "abc" and record["traceparent"] == "00-1-2-01"
    assert record["correlation_id"] is None and record["amzn_trace_id"] is None
    assert record["pid"] == os.getpid()


def test_json_lines_over_real_sockets(corn_server, worker_class, tmp_path):
    path = tmp_path / "access.log"
    server = corn_server("basic:app", "--access-logfile", str(path), "--access-log-json")
    requests = [
        (b"/q%22uote%5Cback%01ctl%FFbad%C3%A9", b'agent "with" quotes \\ and \xff\xfe bytes\tTab'),
        (b"/plain?x=%22&y=\\", b"ok"),
        (b"/%00nul%0Anewline", b"\xc3\xa9t\xc3\xa9"),
    ]
    for target, agent in requests:
        with server.connect() as sock:
            client = RawClient(sock)
            client.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: " + agent
                        + b"\r\nX-Request-ID: r-1\r\nConnection: close\r\n\r\n")
            assert client.read_response().status == 200
    lines = wait_for(lambda: path.exists() and len(read_lines(path)) == 3 and read_lines(path),
                     message="three access log lines")
    records = [json.loads(line) for line in lines]
    by_path = {r["path"]: r for r in records}
    first = by_path['/q"uote\\back\x01ctl\\xffbadé']
    assert first["user_agent"] == 'agent "with" quotes \\ and \\xff\\xfe bytes\tTab'
    assert first["request_id"] == "r-1" and first["status"] == 200 and first["method"] == "GET"
    assert first["protocol"] == "HTTP/1.1" and first["remote_addr"] == "127.0.0.1"
    assert by_path["/plain"]["query"] == "x=%22&y=\\"
    assert by_path["/\x00nul\nnewline"]["user_agent"] == "été"
    assert all(isinstance(r["duration"], float) and r["bytes"] == 13 for r in records)
    assert len({r["pid"] for r in records}) == 1


def test_json_lines_survive_usr1_reopen(corn_server, tmp_path):
    path = tmp_path / "access.log"
    server = corn_server("basic:app", "--access-logfile", str(path), "--access-log-json")
    assert http_request(server.port, "GET", "/first").status == 200
    wait_for(lambda: path.exists() and read_lines(path), message="the first line")
    os.rename(path, tmp_path / "access.log.1")
    server.signal(signal.SIGUSR1)
    wait_for(lambda: "Handling signal: usr1" in server.log(), message="USR1 handled")

    def reopened():
        http_request(server.port, "GET", "/second")
        return path.exists() and any(json.loads(line)["path"] == "/second" for line in read_lines(path))

    wait_for(reopened, interval=0.2, message="a new access.log after USR1")
    assert json.loads(read_lines(tmp_path / "access.log.1")[0])["path"] == "/first"
