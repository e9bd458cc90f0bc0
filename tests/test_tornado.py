"""What only the tornado worker does: a tornado Application is served by tornado's own HTTP
server, with corn's process model around it (max_requests, graceful stop, the master's timeout).
WSGI apps under `-k tornado` run the parametrized behaviour tests with every other worker."""

import os
import signal
import threading

from conftest import DEADLINE, RawClient, http_request, wait_for

TORNADO = ("-k", "tornado")


def test_a_tornado_application_is_served_by_tornado(corn_server):
    server = corn_server("tornado_app:app", *TORNADO)
    resp = http_request(server.port, path="/")
    assert resp.status == 200
    assert resp.body == b"tornado says hello"
    assert resp.header("server").startswith("TornadoServer/")
    echoed = http_request(server.port, "POST", "/echo", body=b"x" * 70000)
    assert echoed.status == 200 and echoed.body == b"x" * 70000


def test_keep_alive_requests_on_one_connection(corn_server):
    server = corn_server("tornado_app:app", *TORNADO)
    with server.connect() as sock:
        client = RawClient(sock)
        for _ in range(3):
            client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = client.read_response()
            assert resp.status == 200 and resp.body == b"tornado says hello"


def test_max_requests_counts_each_tornado_request(corn_server):
    # a graceful timeout beyond the test's deadline: the worker must leave as soon as nothing is in flight
    server = corn_server("tornado_app:app", *TORNADO, "--max-requests", "3", "--graceful-timeout", "300")
    first = http_request(server.port, path="/pid").body
    with server.connect() as sock:
        client = RawClient(sock)
        for _ in range(2):  # the second and third requests, kept alive
            client.send(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.read_response().body == first
    wait_for(lambda: http_request(server.port, path="/pid").body != first,
             message="a new worker after three requests")
    assert "Autorestarting worker after current request." in server.log()


def test_term_lets_a_request_in_flight_finish(corn_server):
    server = corn_server("tornado_app:app", *TORNADO, "--graceful-timeout", "30")
    worker = server.booted_workers()[0]
    with server.connect() as sock:
        sock.sendall(b"GET /slow?s=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: "slow request began" in server.log(), message="the request to reach its handler")
        os.kill(worker, signal.SIGTERM)
        resp = RawClient(sock).read_response()
    assert resp.status == 200 and resp.body == b"slept"
    assert resp.header("connection", "").lower() == "close"


def test_a_blocked_ioloop_is_aborted_by_the_master_with_its_stack(corn_server):
    server = corn_server("tornado_app:app", *TORNADO, "--timeout", "2")
    worker = server.booted_workers()[0]
    done = threading.Event()

    def blocked_request():
        try:
            http_request(server.port, path="/block?s=30", timeout=DEADLINE)
        except (OSError, EOFError):
            pass  # the aborted worker's connection closes without a response
        done.set()

    threading.Thread(target=blocked_request, daemon=True).start()
    wait_for(lambda: f"WORKER TIMEOUT (pid:{worker})" in server.log(), message="the master's timeout")
    wait_for(lambda: "aborted; where it was" in server.log(), message="the worker's stacks")
    assert "in get" in server.log() and "time.sleep" in server.log()
    assert done.wait(DEADLINE)
