"""The gevent worker: many connections per process, a greenlet for each one being served.

Per listener an Acceptor (corn.workers.gaccept) that accepts connections, at most
`worker_connections` at once, and hands each to the worker's parking RunnerEngine
(corn._gevent_runners): a few runner greenlets run the compiled request cycle on the connections that
have bytes to serve, and a connection that waits for a request (a kept-alive client between two
requests, a new one that has sent nothing yet) waits on the event loop with no greenlet. A TLS
connection has a greenlet of its own. The main greenlet keeps the heartbeat at a bounded rate and
watches the parent.

Stopping loses no request that reached this worker:
- TERM (or max_requests): the acceptors first take every connection already queued on the listener
  (if this worker holds the listening socket's last descriptor, closing it would reset them),
  then stop accepting; the connections get up to `graceful_timeout` to finish. A response written
  after that point says `Connection: close`, so a kept-alive client opens its next connection
  elsewhere instead of sending into a closing socket.
- QUIT/INT (quick): the same, but the connections get QUICK_DRAIN seconds, well within the master's
  limit before SIGKILL: enough for the requests in flight and for kept-alive clients to send the
  request they were about to send, not enough to wait for slow requests.
QUIT/INT/USR1 are deferred to a greenlet so no signal handler blocks the hub.

SIGABRT (the master's timeout) runs in whichever greenlet holds the hub, which for a hung worker
is the greenlet that never yields: the log shows its stack first, then every other greenlet's.
With `block_threshold`, gevent's monitor thread reports any greenlet that holds the hub longer
than that, with its stack, while the worker keeps running.

Plane: control.
"""

import time

from corn.workers.base import Worker

HEARTBEAT_TICK = 1.0
QUICK_DRAIN = 1.0  # seconds the connections get after QUIT/INT (the master kills at 2 s)
DRAIN_POLL = 0.05  # seconds between checks of the connections while draining
ACCEPT_SWEEP_LIMIT = 1024  # queued connections taken, at most, when a listener closes
MAX_ACCEPT = 100  # connections accepted per wakeup of a listener, with one worker


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

        from corn._gevent_io import keep_frame_stacks

        keep_frame_stacks()

        if self.cfg.block_threshold > 0:
            self.watch_blocking(self.cfg.block_threshold)
        gevent.hub.get_hub()
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log, gevent=True)  # after patching: cooperative sockets
        from gevent.event import Event

        self.acceptors = []
        self.quick_since = None  # monotonic time of QUIT/INT: from then, QUICK_DRAIN seconds at most
        self.wakeup = Event()  # set when the worker must stop: ends the heartbeat wait at once
        super().init_process()

    def init_signals(self):
        super().init_signals()  # QUIT and INT: handle_quit below, a Python-level handler
        import gevent
        import signal

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

    def make_engine(self):
        from corn._gevent_runners import RunnerEngine

        return RunnerEngine()

    def handle_quit(self, sig, frame):
        """QUIT or INT. Before the worker has booted (its app may take seconds to import) it
        exits at once: there is nothing to drain. Once booted, `quit_now` runs in a greenlet of
        its own, so it can wait on I/O or exit cleanly."""
        if not self.booted:
            super().handle_quit(sig, frame)
        import gevent

        gevent.spawn(self.quit_now)

    def quit_now(self):
        """The worker_int hook, then a stop whose drain lasts QUICK_DRAIN seconds at most; once
        only, as a Ctrl-C brings the terminal's INT and then the master's QUIT."""
        if self.quick_since is not None:
            return
        self.quick_since = time.monotonic()
        self.cfg.worker_int(self)
        self.handle_exit(None, None)

    def handle_exit(self, sig, frame):
        """TERM (run by the hub): stop accepting; the main greenlet wakes up and drains."""
        self.alive = False
        self.stop_accepting()

    def run(self):
        import gevent
        from corn.workers.gaccept import Acceptor

        # with several workers, one connection per wakeup shares new connections fairly between them
        max_accept = 1 if self.cfg.workers > 1 else MAX_ACCEPT
        for listener, handler in zip(self.sockets, self.handlers):
            acceptor = Acceptor(listener.sock, handler, self.engine, self.tls, self.cfg.worker_connections,
                                max_accept, self.log)
            acceptor.start()
            self.acceptors.append(acceptor)

        while self.alive:
            self.notify()
            if not self.parent_alive():
                break
            self.wakeup.wait(HEARTBEAT_TICK)

        self.stop_accepting()
        self.drain(gevent)

    def stop_accepting(self):
        for acceptor in self.acceptors:
            if not acceptor.closed:
                acceptor.accept_backlog(ACCEPT_SWEEP_LIMIT)
                acceptor.close()
        self.wakeup.set()

    def drain(self, gevent):
        """Let in-flight requests finish, up to graceful_timeout (QUICK_DRAIN once QUIT or INT
        arrived, even in the middle), keeping the heartbeat alive; then end what is left."""
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while any(acceptor.busy() for acceptor in self.acceptors):
            now = time.monotonic()
            if now >= deadline or (self.quick_since is not None and now >= self.quick_since + QUICK_DRAIN):
                break
            self.notify()
            gevent.sleep(DRAIN_POLL)
        from corn.workers.gaccept import end_connections

        end_connections(self.acceptors, self.engine, timeout=1)
