"""The gevent worker's parking engine: runner greenlets serve the connections that have bytes to
serve; a connection that waits for a request holds no greenlet.

RunnerEngine.start() queues an accepted connection; a runner resumes it (the request cycle,
until it waits for a request's first bytes: its first request, or the next one on a kept-alive
connection), then it is parked: in the worker's poller (corn._gevent_io.ReadPoller), with its
deadline on its timer, held by no greenlet. The poller queues it again when it becomes readable,
its timer when its deadline passes (the request cycle then answers as on a timeout). Runners take
queued connections in order and are reused; a runner that waits inside a request (a body, the
app's own I/O) leaves the queue to the next runner, and at most SPARE_RUNNERS wait for work.
Each connection runs in a contextvars.Context of its own, as if it had a greenlet of its own.

Plane: data (per request; imports only the data plane and the shared modules).
"""

import sys
from contextvars import Context

from gevent import GreenletExit
from gevent import get_hub
from gevent import getcurrent as gevent_getcurrent
from greenlet import greenlet as raw_greenlet

from corn._connection cimport PARKED, Connection
from corn._gevent_io cimport GeventEngine, GeventStream
from corn._syscalls cimport monotonic_now

cdef object greenlet_switch = raw_greenlet.switch

cdef enum:
    SPARE_RUNNERS = 32        # runner greenlets kept waiting for work; more end when idle

cdef double FLUSH_AFTER = 0.001  # seconds a held response may wait for the others of its round


cdef class RunnerEngine(GeventEngine):
    """The gevent worker's engine: runners, their queue, and the parked connections."""

    def __init__(self):
        GeventEngine.__init__(self, True)
        self.ready = []
        self.idle = []
        self.runners = set()

    def start(self, handler, sock, addr, done):
        """Queue an accepted gevent socket for the runners (a parking engine); `done()` is called
        once its connection has closed. run_soon() then starts the runners on the queue."""
        cdef Connection conn = handler.open(sock, addr)
        cdef GeventStream stream
        if type(conn.stream) is not GeventStream:
            handler.close(conn)
            raise TypeError(f"the gevent engine serves gevent sockets, not {type(sock).__name__}")
        stream = <GeventStream>conn.stream
        stream.conn = conn
        stream.handler = handler
        stream.resume = handler.resume
        stream.context = Context()
        stream.done = done
        self.ready.append(stream)

    def run_soon(self):
        """Serve what is queued: at once in the hub, else in the hub's next round of callbacks."""
        if self.hub is None:
            self.hub = get_hub()
        if gevent_getcurrent() is self.hub:
            self.run_ready()
        elif not self.run_scheduled:
            self.run_scheduled = True
            self.hub.loop.run_callback(self.run_ready_callback)

    def run_ready_callback(self):
        self.run_ready()

    cdef int enqueue(self, GeventStream stream, bint expired) except -1:
        if stream.parked:
            stream.parked = False
            self.parked_count -= 1
        stream.expired = expired
        self.ready.append(stream)
        return 0

    cdef int run_ready(self) except -1:
        """In the hub: switch to runners until the queue is empty. A runner comes back here when
        it has nothing left to take or when it waits inside a request; the next one goes on."""
        cdef object runner
        cdef object failure = None
        self.run_scheduled = False
        while self.ready_at < len(self.ready):
            if self.idle:
                runner = self.idle.pop()
            else:
                if self.hub is None:
                    self.hub = get_hub()
                runner = raw_greenlet(self.run_runner, self.hub)
                self.runners.add(runner)
            try:
                runner.switch()
            except BaseException as exc:
                if failure is None:
                    failure = exc
        if failure is not None:
            raise failure
        return 0

    def run_runner(self):
        """The body of a runner greenlet: serve queued connections, then wait for more."""
        cdef object me = gevent_getcurrent()
        cdef GeventStream stream
        try:
            while True:
                while self.ready_at < len(self.ready):
                    stream = self.ready[self.ready_at]
                    self.ready_at += 1
                    if self.ready_at == len(self.ready):
                        del self.ready[:]
                        self.ready_at = 0
                    self.serve(stream, me)
                    if self.unsent and monotonic_now() - self.unsent_since >= FLUSH_AFTER:
                        self.flush_unsent()
                if len(self.idle) >= SPARE_RUNNERS:
                    return
                self.idle.append(me)
                try:
                    greenlet_switch(self.hub)
                finally:
                    if me in self.idle:  # woken by something other than run_ready
                        self.idle.remove(me)
        finally:
            self.runners.discard(me)

    cdef int serve(self, GeventStream stream, runner) except -1:
        """Resume one connection in this runner, until it parks or closes."""
        cdef object verdict
        stream.greenlet = runner
        try:
            verdict = stream.context.run(stream.resume, stream.conn, stream.expired)
        except GreenletExit:
            self.finished(stream)  # the worker's stop: the connection was closed on the way out
            raise
        except BaseException:
            self.finished(stream)
            self.hub.handle_error(runner, *sys.exc_info())
            return 0
        if verdict == PARKED:
            self.park(stream)
        else:
            self.finished(stream)
        return 0

    cdef int park(self, GeventStream stream) except -1:
        stream.parked = True
        stream.greenlet = None
        self.parked_count += 1
        if not stream.polled:
            self.poller.watch(stream)  # an edge-triggered add reports bytes that are already there
            stream.polled = True
        stream.arm_deadline(stream.conn.wait_until)
        return 0

    cdef int finished(self, GeventStream stream) except -1:
        """The connection has closed: drop what it held (the stream and it refer to each other)."""
        cdef object done = stream.done
        stream.conn = None
        stream.handler = None
        stream.resume = None
        stream.context = None
        stream.done = None
        if done is not None:
            done()
        return 0

    def close_waiting(self):
        """Close every connection that is queued or parked, and so in no request (a worker's
        last step); the ones being served are the caller's to end."""
        cdef GeventStream stream
        cdef list waiting = [s for s in self.ready[self.ready_at:]]
        del self.ready[:]
        self.ready_at = 0
        if self.poller is not None:
            waiting += [s for s in self.poller.streams.values() if (<GeventStream>s).parked]
        for stream in waiting:
            if stream.parked:
                stream.parked = False
                self.parked_count -= 1
            if stream.conn is not None:
                try:
                    stream.handler.close(stream.conn)
                finally:
                    self.finished(stream)

    def busy_runners(self):
        """The runners serving a connection now."""
        return [runner for runner in self.runners if runner not in self.idle]
