"""Where a worker was stuck: a worker aborted for its timeout logs the stack of every greenlet
(the running one first, at the line that never yielded) or of its main thread (sync); with
`--block-threshold`, a greenlet that holds the gevent hub too long is logged while it runs."""

import re
import socket

from conftest import DEADLINE, http_request, pid_alive, wait_for

HANG_LINE = "while time.monotonic() < end:"  # the /hang loop in tests/apps/basic.py

ABORT_HOOK = """
def worker_abort(worker):
    with open({record!r}, "a") as f:
        f.write("worker_abort %d\\n" % worker.pid)
"""

BUSY_APP = """
import time


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # busy: never yields to the hub
        pass


def app(environ, start_response):
    if environ["PATH_INFO"] == "/busy":
        spin(float(environ["QUERY_STRING"] or "1"))
    start_response("200 OK", [("Content-Length", "4")])
    return [b"done"]
"""


def abort_report(log, pid):
    """The report the worker logged when it was aborted, up to the next log line."""
    head = rf"\[{pid}\] \[ERROR\] Worker \(pid:{pid}\) aborted; where it was:\n"
    m = re.search(head + r"(.*?)(?=\n\[\d{4}-)", log, re.S)
    return m.group(1) if m else None


def test_hung_worker_logs_where_it_hung(corn_server, tmp_path, worker_class):
    record = tmp_path / "record"
    conf = tmp_path / "abort.conf.py"
    conf.write_text(ABORT_HOOK.format(record=str(record)))
    # gthread, tornado: a worker is hung when every one of its threads is stuck, here the only one
    server = corn_server("basic:app", "-w", "1", "-t", "2", "-k", worker_class, "--threads", "1",
                         "-c", str(conf))
    (hung,) = server.booted_workers()
    idle = server.connect()  # a second connection, parked in its own greenlet under gevent
    client = server.connect()
    try:
        if worker_class != "sync":
            idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        client.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        report = wait_for(lambda: abort_report(server.log(), hung), message="the abort report")
        wait_for(lambda: not pid_alive(hung), message="the hung worker to exit")
        wait_for(lambda: server.booted_workers() and hung not in server.booted_workers(),
                 message="a new worker")
    finally:
        client.close()
        idle.close()
    assert f"WORKER TIMEOUT (pid:{hung})" in server.log()
    first_stack = report.split("\nGreenlet 2 of")[0].split("\nThread ")[0]
    if worker_class in ("gthread", "tornado"):
        assert first_stack.startswith("Main thread (interrupted here):")  # its epoll wait, or the IOLoop's
        first_stack = report.split("\nThread corn-worker-1:\n")[1].split("\nThread ")[0]  # the thread that hung
    elif worker_class in ("gevent", "eventlet"):
        assert first_stack.startswith("Greenlet 1 of ")
        assert "running (it did not yield; interrupted here)" in first_stack
        assert "Greenlet 2 of" in report  # the others: the hub, the main green thread, the idle connection
    else:
        assert first_stack.startswith("Main thread (interrupted here):")
    # The stuck frame is the innermost one of the running stack: the /hang loop in basic.py.
    frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)\n\s+(.*)', first_stack)
    path, function, line = frames[-1]
    assert (path.endswith("basic.py"), function, line.strip()) == (True, "app", HANG_LINE)
    assert f"worker_abort {hung}" in record.read_text()
    assert http_request(server.port, "GET", "/").status == 200


def test_greenlet_blocking_the_hub_is_logged(corn_server, tmp_path):
    (tmp_path / "busy_app.py").write_text(BUSY_APP)
    server = corn_server("busy_app:app", "-w", "1", "--block-threshold", "0.2",
                         "--pythonpath", str(tmp_path))
    (worker,) = server.booted_workers()
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(b"GET /busy?1.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"done")
    wait_for(lambda: "blocked the event loop for more than 0.2s" in server.log(),
             message="the blocking report")
    log = server.log()
    report = log[log.index("blocked the event loop for more than 0.2s"):]
    assert "busy_app.py" in report and "in spin" in report
    assert "while time.monotonic() < end:  # busy" in report
    assert pid_alive(worker)  # a report, not a restart
    assert http_request(server.port, "GET", "/").body == b"done"


def test_block_threshold_is_off_by_default(corn_server, tmp_path):
    (tmp_path / "busy_app.py").write_text(BUSY_APP)
    server = corn_server("busy_app:app", "-w", "1", "--pythonpath", str(tmp_path))
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(b"GET /busy?0.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while sock.recv(65536):
            pass
    assert http_request(server.port, "GET", "/").body == b"done"
    assert "blocked the event loop" not in server.log()
