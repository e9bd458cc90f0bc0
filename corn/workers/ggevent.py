"""The gevent worker: many connections per process, one greenlet each.

Per listener a `gevent.pool.Pool(worker_connections)` and a StreamServer that accepts and spawns
the compiled `ConnectionHandler.handle`. The main greenlet keeps the heartbeat at a bounded rate
and watches the parent. On TERM (or max_requests) the servers stop accepting and the pools get up
to `graceful_timeout` to finish what they have; idle keep-alive connections close after their
current request. QUIT/INT/USR1 are deferred to a greenlet so no signal handler blocks the hub.
"""

import sys

from corn.workers.base import Worker

HEARTBEAT_TICK = 1.0


class GeventWorker(Worker):
    multithread = True

    def init_process(self):
        from gevent import monkey

        monkey.patch_all()
        import gevent.hub

        gevent.hub.get_hub()
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log, gevent=True)  # after patching: cooperative sockets
        super().init_process()

    def init_signals(self):
        super().init_signals()
        import gevent
        import signal

        # Runs in a greenlet of its own, so it can wait on I/O or exit cleanly.
        gevent.signal_handler(signal.SIGQUIT, lambda: gevent.spawn(self.quit_now))
        gevent.signal_handler(signal.SIGINT, lambda: gevent.spawn(self.quit_now))
        gevent.signal_handler(signal.SIGTERM, self.handle_exit, None, None)
        gevent.signal_handler(signal.SIGUSR1, lambda: gevent.spawn(self.log.reopen_files))

    @staticmethod
    def wait_write(fd, timeout):
        """Wait for `fd` to be writable, letting other greenlets run meanwhile."""
        from gevent.socket import wait_write

        wait_write(fd, timeout, TimeoutError("timed out waiting to write to the client"))

    def quit_now(self):
        self.alive = False
        self.cfg.worker_int(self)
        sys.exit(0)

    def run(self):
        import gevent
        from gevent.pool import Pool
        from gevent.server import StreamServer

        self.servers = []
        for listener, handler in zip(self.sockets, self.handlers):
            pool = Pool(self.cfg.worker_connections)
            handle = handler.handle if self.tls is None else self.tls.serving(handler.handle)
            server = StreamServer(listener.sock, handle=handle, spawn=pool)
            if self.cfg.workers > 1:
                server.max_accept = 1  # share new connections fairly between the workers
            server.start()
            self.servers.append(server)

        while self.alive:
            self.notify()
            if not self.parent_alive():
                break
            gevent.sleep(HEARTBEAT_TICK)

        self.stop_accepting()
        self.drain(gevent)

    def stop_accepting(self):
        for server in getattr(self, "servers", ()):
            server.close()

    def drain(self, gevent):
        """Let in-flight requests finish, up to graceful_timeout, keeping the heartbeat alive."""
        import time

        deadline = time.monotonic() + self.cfg.graceful_timeout
        pools = [server.pool for server in self.servers]
        while time.monotonic() < deadline and any(pool.free_count() != pool.size for pool in pools):
            self.notify()
            gevent.sleep(0.1)
        for pool in pools:
            pool.kill(block=True, timeout=1)
