"""A client that leaves in the middle of a request is let go at once, not after the worker timeout.

Found by the leak check (perf/leakcheck.py): under load, connections that vanished mid-body stayed
open until `timeout` when the rest of the body and the client's end (FIN) reached corn together,
after corn had already waited once for that connection. The gevent engine's poller is
edge-triggered: the end came in the same edge as the last bytes, and after a short read corn
waited for another edge that never comes. The test makes that order happen for sure: the worker
reads the first piece and parks, then is stopped while the rest and the end arrive.
"""

import os
import signal
import socket

import pytest
from conftest import RawClient, wait_for

pytestmark = pytest.mark.usefixtures("worker_class")

TIMEOUT = 120  # the worker's timeout: the connection must close long before it


def server_side_unread(port, client_port):
    """Bytes the kernel holds for corn on the connection from `client_port` (its rx_queue)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
                return int(fields[4].split(":")[1], 16)
    return None


def sleeping(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()[0] == b"S"


def test_rest_of_a_body_and_the_end_in_one_go_closes_at_once(corn_server):
    server = corn_server("wsgi_checks:app", "--timeout", str(TIMEOUT))
    (worker,) = server.booted_workers()
    with server.connect() as sock:
        client_port = sock.getsockname()[1]
        sock.sendall(b"POST /consume HTTP/1.1\r\nHost: x\r\n")
        wait_for(lambda: server_side_unread(server.port, client_port) == 0 and sleeping(worker),
                 message="the worker to read the first piece and wait for more")
        os.kill(worker, signal.SIGSTOP)
        try:
            sock.sendall(b"Content-Length: 100000\r\n\r\n" + b"v" * 1000)
            sock.shutdown(socket.SHUT_WR)
        finally:
            os.kill(worker, signal.SIGCONT)
        assert RawClient(sock).closed_by_peer(timeout=TIMEOUT / 4)
