"""The corn logger and worker of docs/extending.md, run as written there."""

import json
import os
import re
import signal

from conftest import http_request, wait_for

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "extending.md")


def example(filename):
    """The Python block of docs/extending.md whose first line is `# FILENAME`."""
    with open(DOC, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    (found,) = [block for block in blocks if block.startswith(f"# {filename}\n")]
    return found


def test_the_documented_logger_and_worker_serve(corn_server, tmp_path):
    (tmp_path / "mylogs.py").write_text(example("mylogs.py"))
    (tmp_path / "myworkers.py").write_text(example("myworkers.py"))
    server = corn_server(
        "basic:app", "-w", "2", "-k", "myworkers.OneAtATimeWorker", "--pythonpath", str(tmp_path),
        "--logger-class", "mylogs.JsonAccessLogger", "--access-logfile", "-",
    )
    for _ in range(4):
        resp = http_request(server.port, path="/x?y=1")
        assert (resp.status, resp.body, resp.header("connection")) == (200, b"Hello, World!", "close")

    def access_lines():
        return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]

    wait_for(lambda: len(access_lines()) == 4, message="four JSON access lines")
    line = access_lines()[0]
    assert {k: line[k] for k in ("remote", "method", "uri", "status", "bytes")} == {
        "remote": "127.0.0.1", "method": "GET", "uri": "/x?y=1", "status": 200, "bytes": 13,
    }
    assert line["ms"] >= 0
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert "Traceback" not in server.log()
