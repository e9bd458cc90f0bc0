"""The sync worker: one connection at a time, through the same compiled handler.

For CPU-bound apps, as gunicorn's `-k sync`: the worker accepts, serves one request, closes the
connection (keep-alive would let one client hold the whole process), and touches the heartbeat
between connections at a bounded rate. A request that runs longer than `timeout` stops the
heartbeat, and the master replaces the worker.

When it stops (TERM, max_requests), the worker serves the connections already queued on its
listeners, then closes them, so that no connection the kernel accepted is reset.

Plane: control.
"""

import errno
import select
import socket

from corn.workers.base import Worker

BACKLOG_SWEEP_LIMIT = 1024  # queued connections served, at most, after the worker was told to stop


class SyncWorker(Worker):
    multithread = False

    def init_process(self):
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log)
        super().init_process()

    def run(self):
        listeners = [(listener.sock, handler) for listener, handler in zip(self.sockets, self.handlers)]
        for sock, _ in listeners:
            sock.setblocking(False)
        wait = max(0.5, min(1.0, self.timeout / 2.0)) if self.timeout else 1.0
        while self.alive:
            self.notify()
            if not self.parent_alive():
                return
            try:
                ready, _, _ = select.select([sock for sock, _ in listeners], [], [], wait)
            except InterruptedError:
                continue
            for sock, handler in listeners:
                if sock in ready and self.alive:
                    self.serve_one(sock, handler)
        for sock, handler in listeners:
            for _ in range(BACKLOG_SWEEP_LIMIT):
                if not self.serve_one(sock, handler):
                    break
            sock.close()

    def serve_one(self, sock, handler):
        """Accept one connection and serve it; False when none was waiting."""
        try:
            client, addr = sock.accept()
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                return True
            raise
        if client.family != socket.AF_UNIX:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            client = self.tls.wrap(client, addr)  # None: the handshake failed, already closed
            if client is None:
                return True
        handler.handle(client, addr)
        self.notify()
        return True
