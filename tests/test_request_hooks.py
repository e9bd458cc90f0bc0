"""pre_request and post_request hooks from a gunicorn-style config file, in a real worker."""

import json

import pytest
from conftest import http_request, wait_for

pytestmark = pytest.mark.usefixtures("worker_class")

CONFIG = '''
import json, os

def pre_request(worker, req):
    with open(os.environ["CORN_TEST_RECORD"], "a") as f:
        f.write(json.dumps({"hook": "pre", "method": req.method, "path": req.path, "query": req.query,
                            "version": list(req.version), "pid": worker.pid}) + "\\n")

def post_request(worker, req, environ):
    with open(os.environ["CORN_TEST_RECORD"], "a") as f:
        f.write(json.dumps({"hook": "post", "path": req.path, "path_info": environ["PATH_INFO"]}) + "\\n")
'''


def test_pre_and_post_request_hooks_run_around_each_request(corn_server, tmp_path):
    record = tmp_path / "record.txt"
    record.write_text("")
    config = tmp_path / "hooks.conf.py"
    config.write_text(CONFIG)
    server = corn_server("basic:app", "-c", str(config), env={"CORN_TEST_RECORD": str(record)})
    def lines(count):
        text = record.read_text()
        return [json.loads(line) for line in text.splitlines()] if text.count("\n") >= count else None

    assert http_request(server.port, "GET", "/pid?x=1").status == 200
    # post_request runs after the response is out: under a threaded worker the next request's
    # pre_request could otherwise come first
    wait_for(lambda: lines(2), message="the first request's two hook calls")
    assert http_request(server.port, "GET", "/raise").status == 500
    pre1, post1, pre2, post2 = wait_for(lambda: lines(4), message="four hook calls")
    assert pre1["hook"] == "pre" and pre1["method"] == "GET" and pre1["path"] == "/pid"
    assert pre1["query"] == "x=1" and pre1["version"] == [1, 1]
    assert post1 == {"hook": "post", "path": "/pid", "path_info": "/pid"}
    assert (pre2["hook"], post2["hook"], post2["path"]) == ("pre", "post", "/raise")


def test_an_exception_in_post_request_is_logged_and_the_response_stands(corn_server, tmp_path):
    config = tmp_path / "bad.conf.py"
    config.write_text("def post_request(worker, req, environ, resp):\n    raise ValueError('hook broke')\n")
    server = corn_server("basic:app", "-c", str(config))
    assert http_request(server.port, "GET", "/").body == b"Hello, World!"
    wait_for(lambda: "hook broke" in server.log(), message="the hook's exception in the log")


def test_worker_nr_counts_the_requests_the_worker_has_begun(corn_server, tmp_path):
    """gunicorn's worker.nr, as hooks see it: 1 during the first request, then one more each time."""
    record = tmp_path / "record.txt"
    record.write_text("")
    config = tmp_path / "nr.conf.py"
    config.write_text(
        "import os\n"
        "def post_request(worker, req, environ, resp):\n"
        "    with open(os.environ['CORN_TEST_RECORD'], 'a') as f:\n"
        "        f.write(f'{worker.nr}\\n')\n"
    )
    server = corn_server("basic:app", "-w", "1", "-c", str(config), env={"CORN_TEST_RECORD": str(record)})
    for number in range(1, 4):
        assert http_request(server.port, "GET", "/").status == 200
        # post_request runs after the response is out: under a threaded worker the next request
        # could otherwise begin before this one's hook reads nr
        wait_for(lambda: record.read_text().count("\n") >= number, message=f"post_request call {number}")
    assert record.read_text().split() == ["1", "2", "3"]
