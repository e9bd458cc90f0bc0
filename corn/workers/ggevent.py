"""The gevent worker: many connections per process, one greenlet each.

Per listener a `gevent.pool.Pool(worker_connections)` and a StreamServer that accepts and spawns
the compiled `ConnectionHandler.handle`. The main greenlet keeps the heartbeat at a bounded rate
and watches the parent.

Stopping loses no request that reached this worker:
- TERM (or max_requests): the servers first take every connection already queued on the listener
  (if this worker holds the listening socket's last descriptor, closing it would reset them),
  then stop accepting; the pools get up to `graceful_timeout` to finish. A response written
  after that point says `Connection: close`, so a kept-alive client opens its next connection
  elsewhere instead of sending into a closing socket.
- QUIT/INT (quick): the same, but the pools get QUICK_DRAIN seconds, well within the master's
  limit before SIGKILL: enough for the requests in flight and for kept-alive clients to send the
  request they were about to send, not enough to wait for slow requests.
QUIT/INT/USR1 are deferred to a greenlet so no signal handler blocks the hub.

SIGABRT (the master's timeout) runs in whichever greenlet holds the hub, which for a hung worker
is the greenlet that never yields: the log shows its stack first, then every other greenlet's.
With `block_threshold`, gevent's monitor thread reports any greenlet that holds the hub longer
than that, with its stack, while the worker keeps running.
"""

import functools
import time

from corn.workers.base import Worker

HEARTBEAT_TICK = 1.0
QUICK_DRAIN = 1.0  # seconds the pools get after QUIT/INT (the master kills at 2 s)
DRAIN_POLL = 0.05  # seconds between checks of the pools while draining
ACCEPT_SWEEP_LIMIT = 1024  # queued connections taken, at most, when a listener closes


def blocked_stack(report):
    """The stack of the blocking greenlet, out of gevent's report lines (its "Blocked Stack"
    section); the whole report when that section is not found."""
    lines = [str(line) for line in report]
    start = next((i for i, line in enumerate(lines) if line.startswith("Blocked Stack")), None)
    if start is None:
        return "\n".join(lines).strip()
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == "Info:"), len(lines))
    return "\n".join(lines[start + 1:end]).rstrip()


class GeventWorker(Worker):
    multithread = True

    def init_process(self):
        from gevent import monkey

        monkey.patch_all()
        import gevent.hub

        if self.cfg.block_threshold > 0:
            self.watch_blocking(self.cfg.block_threshold)
        gevent.hub.get_hub()
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log, gevent=True)  # after patching: cooperative sockets
        from gevent.event import Event

        self.servers = []
        self.quick_since = None  # monotonic time of QUIT/INT: from then, QUICK_DRAIN seconds at most
        self.wakeup = Event()  # set when the worker must stop: ends the heartbeat wait at once
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

    def watch_blocking(self, threshold):
        """Start gevent's monitor thread (with the hub) and log its EventLoopBlocked reports."""
        import gevent
        from gevent import events

        gevent.config.monitor_thread = True
        gevent.config.max_blocking_time = threshold
        gevent.config.print_blocking_reports = False  # the error log gets them, through the subscriber
        self._blocked_last = None  # (greenlet, monotonic time) of the last report
        events.subscribers.append(self.log_blocked)

    def log_blocked(self, event):
        """A zope.event subscriber; runs in the monitor thread. The monitor reports a greenlet
        again at each check while it still blocks: one episode is logged once."""
        from gevent.events import EventLoopBlocked

        if not isinstance(event, EventLoopBlocked):
            return
        now = time.monotonic()
        previous = self._blocked_last
        self._blocked_last = (event.greenlet, now)
        same_episode = previous is not None and previous[0] is event.greenlet
        if same_episode and now - previous[1] < 3 * event.blocking_time:
            return
        self.log.warning(
            "Greenlet %r blocked the event loop for more than %ss; it is at:\n%s",
            event.greenlet, event.blocking_time, blocked_stack(event.info),
        )

    def format_stacks(self, frame):
        from corn import stacks

        return stacks.format_greenlets(frame)

    @staticmethod
    def wait_write(fd, timeout):
        """Wait for `fd` to be writable, letting other greenlets run meanwhile."""
        from gevent.socket import wait_write

        wait_write(fd, timeout, TimeoutError("timed out waiting to write to the client"))

    def quit_now(self):
        """QUIT or INT, in a greenlet of its own: the worker_int hook, then a stop whose drain
        lasts QUICK_DRAIN seconds at most."""
        self.cfg.worker_int(self)
        self.quick_since = time.monotonic()
        self.handle_exit(None, None)

    def handle_exit(self, sig, frame):
        """TERM (run by the hub): stop accepting; the main greenlet wakes up and drains."""
        self.alive = False
        self.stop_accepting()

    def run(self):
        import gevent
        from gevent.pool import Pool

        for listener, handler in zip(self.sockets, self.handlers):
            pool = Pool(self.cfg.worker_connections)
            handle = handler.handle if self.tls is None else self.tls.serving(handler.handle)
            server = server_class()(listener.sock, handle=handle, spawn=pool)
            if self.cfg.workers > 1:
                server.max_accept = 1  # share new connections fairly between the workers
            server.start()
            self.servers.append(server)

        while self.alive:
            self.notify()
            if not self.parent_alive():
                break
            self.wakeup.wait(HEARTBEAT_TICK)

        self.stop_accepting()
        self.drain(gevent)

    def stop_accepting(self):
        for server in self.servers:
            if not server.closed:
                accept_backlog(server)
                server.close()
        self.wakeup.set()

    def drain(self, gevent):
        """Let in-flight requests finish, up to graceful_timeout (QUICK_DRAIN once QUIT or INT
        arrived, even in the middle), keeping the heartbeat alive; then end what is left."""
        deadline = time.monotonic() + self.cfg.graceful_timeout
        pools = [server.pool for server in self.servers]
        while any(pool.free_count() != pool.size for pool in pools):
            now = time.monotonic()
            if now >= deadline or (self.quick_since is not None and now >= self.quick_since + QUICK_DRAIN):
                break
            self.notify()
            gevent.sleep(DRAIN_POLL)
        for pool in pools:
            pool.kill(block=True, timeout=1)


@functools.cache
def server_class():
    """gevent's StreamServer, spawning the handler itself as each connection's greenlet.

    gevent spawns a small Python function that calls the handler and then closes the socket; the
    handler closes its own socket, and without that Python frame at its base an idle connection's
    greenlet saves a shorter stack (about 1 KiB less per idle connection)."""
    from gevent.server import StreamServer

    class HandlerServer(StreamServer):
        def do_handle(self, *args):
            try:
                self._spawn(self._handle, *args)
            except BaseException:
                args[0].close()
                raise

    return HandlerServer


def accept_backlog(server):
    """Hand the connections already queued on `server`'s listener to its pool, as long as the pool
    has room, without waiting for more."""
    for _ in range(ACCEPT_SWEEP_LIMIT):
        if server.full():
            return
        try:
            accepted = server.do_read()
        except OSError:
            return
        if not accepted:
            return
        server.do_handle(*accepted)
