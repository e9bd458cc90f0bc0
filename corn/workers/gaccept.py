"""Accepting connections for the gevent worker: one Acceptor per listener.

What gevent's StreamServer and Pool do, with less work per connection: the accept loop calls the
listener's C-level `_accept()` with the listener's family, type and protocol looked up once (not
converted to enums per connection). A plain connection goes to the worker's parking
RunnerEngine (corn._gevent_runners), whose runner greenlets serve it while it has bytes to serve and
park it, with no greenlet, while it waits for a request; each connection has a contextvars
Context of its own. A TLS connection gets a plain greenlet of its own for its life (its handshake
and its reads go through the TLS socket's own cooperative methods), without a `gevent.Greenlet`'s
spawn bookkeeping and link callbacks.

At most `worker_connections` connections are served at once: at the limit the Acceptor stops
watching the listener, and watches it again when a connection ends. accept(2) failing for want of
descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) is logged and pauses accepting for a delay
that doubles while it goes on, instead of spinning on a listener that stays readable.

Plane: control.
"""

import errno
import os
import sys
import time

import gevent
from gevent import GreenletExit
from gevent.socket import socket as GeventSocket
from greenlet import getcurrent, greenlet

ACCEPT_RETRY_MIN = 0.01  # seconds before accepting again after a failure such as EMFILE; doubles
ACCEPT_RETRY_MAX = 1.0
KILL_POLL = 0.01  # seconds between checks while killed connections finish
# accept(2) failures that concern only the connection being accepted: skip it, take the next
PER_CONNECTION_ERRORS = frozenset((errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENETDOWN,
                                   errno.ENOPROTOOPT, errno.EHOSTDOWN, errno.ENONET, errno.EHOSTUNREACH,
                                   errno.EOPNOTSUPP, errno.ENETUNREACH))


class Acceptor:
    """Accepts on one listening socket and serves each connection with `handler`: through
    `engine` (corn._gevent_runners.RunnerEngine), or, with `tls` (corn.tls.WorkerTLS), in a
    greenlet of its own."""

    def __init__(self, listener, handler, engine, tls, size, max_accept, log):
        self.listener = listener
        raw = getattr(listener, "_sock", listener)  # a gevent socket's C socket, or the socket itself
        self.accept = raw._accept  # -> (fd, address); the listener is non-blocking
        self.family, self.type, self.proto = int(listener.family), int(listener.type), listener.proto
        self.handler = handler
        self.engine = engine
        self.handle = tls.serving(handler.handle) if tls is not None else None
        self.served = 0  # connections open through the engine
        self.closed_one = self.connection_closed  # bound once, handed to every connection
        self.size = size
        self.max_accept = max_accept
        self.log = log
        self.hub = gevent.get_hub()
        self.active = set()  # the greenlets serving a TLS connection now
        self.watcher = None
        self.retry_timer = None
        self.retry_delay = ACCEPT_RETRY_MIN
        self.closed = False
        self.started = False
        listener.setblocking(False)

    # --- accepting -----------------------------------------------------------------------

    def start(self):
        self.started = True
        self.start_accepting()

    def start_accepting(self):
        if self.watcher is None and not self.closed and not self.full():
            self.watcher = self.hub.loop.io(self.listener.fileno(), 1)
            self.watcher.start(self.accept_ready)

    def stop_accepting(self):
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.close()
            self.watcher = None

    def full(self):
        return self.busy() >= self.size

    def accept_ready(self):
        """The listener is readable (run by the hub): take up to max_accept connections, then
        serve them."""
        for _ in range(self.max_accept):
            if self.full():
                self.stop_accepting()
                break
            if not self.accept_one():
                break
        self.engine.run_soon()

    def accept_one(self):
        """Accept one connection and start serving it; False when there is none to take now."""
        try:
            fd, address = self.accept()
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno in PER_CONNECTION_ERRORS or exc.errno == errno.EINTR:
                return True
            self.pause_accepting(exc)
            return False
        self.retry_delay = ACCEPT_RETRY_MIN
        try:
            sock = GeventSocket(self.family, self.type, self.proto, fileno=fd)
        except BaseException:
            os.close(fd)
            raise
        if self.handle is not None:
            self.spawn(sock, address)
        else:
            self.served += 1
            try:
                self.engine.start(self.handler, sock, address, self.closed_one)
            except BaseException:
                self.served -= 1
                raise
        return True

    def pause_accepting(self, exc):
        """accept(2) failed for a reason that will not go away at once (EMFILE, ENOBUFS...):
        log it, stop watching the listener, and try again after a delay that doubles up to
        ACCEPT_RETRY_MAX while the failures go on."""
        delay = self.retry_delay
        self.retry_delay = min(ACCEPT_RETRY_MAX, delay * 2)
        self.log.error("accept() failed on %s: %s; accepting again in %.2fs",
                       self.listener.getsockname(), exc, delay)
        self.stop_accepting()
        if self.retry_timer is None:
            self.retry_timer = self.hub.loop.timer(delay)
            self.retry_timer.start(self.retry_now)

    def retry_now(self):
        self.retry_timer.close()
        self.retry_timer = None
        self.start_accepting()

    def accept_backlog(self, limit):
        """Serve the connections already queued on the listener, as long as there is room, without
        waiting for more; at most `limit`."""
        for _ in range(limit):
            if self.full() or not self.accept_one():
                break
        self.engine.run_soon()

    def close(self):
        """Stop accepting for good and close this process's descriptor of the listener (once
        every process has, new connections are refused instead of queued for nobody);
        connections being served go on."""
        self.closed = True
        self.stop_accepting()
        if self.retry_timer is not None:
            self.retry_timer.close()
            self.retry_timer = None
        try:
            self.listener.close()
        except OSError:
            pass

    # --- the connections --------------------------------------------------------------------

    def connection_closed(self):
        """A connection served through the engine has closed."""
        was_full = self.full()
        self.served -= 1
        if was_full and self.started:
            self.start_accepting()

    def spawn(self, sock, address):
        glet = greenlet(self.serve, parent=self.hub)
        self.active.add(glet)
        self.hub.loop.run_callback(glet.switch, sock, address)

    def serve(self, sock, address):
        """The body of a connection's greenlet."""
        me = getcurrent()
        try:
            self.handle(sock, address)
        except GreenletExit:
            pass
        except BaseException:
            self.hub.handle_error(me, *sys.exc_info())
        finally:
            self.connection_done(me)

    def connection_done(self, glet):
        was_full = self.full()
        self.active.discard(glet)
        if was_full and self.started:
            self.start_accepting()

    def busy(self):
        """How many connections are open."""
        return len(self.active) + self.served

    def greenlets(self):
        """The greenlets serving this acceptor's TLS connections."""
        return list(self.active)


def end_connections(acceptors, engine, timeout):
    """The end of a worker's drain: close the connections that wait for a request, end the ones
    still being served (GreenletExit in each greenlet serving one), and wait up to `timeout`
    seconds for those to finish."""
    engine.close_waiting()
    greenlets = engine.busy_runners()
    for acceptor in acceptors:
        greenlets += acceptor.greenlets()
    for glet in greenlets:
        if glet:  # started and not dead: one not started yet serves its connection first
            gevent.kill(glet)
    deadline = time.monotonic() + timeout
    while any(acceptor.busy() for acceptor in acceptors) and time.monotonic() < deadline:
        gevent.sleep(KILL_POLL)
        engine.close_waiting()  # a connection a killed runner had not taken yet
