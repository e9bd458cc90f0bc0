"""The gthread worker: a pool of `threads` threads serves requests; idle connections hold none.

For apps that block in C (database drivers, most ODBC and LDAP clients) where a gevent hub would
stop for every call. The main thread owns the listeners and every connection that waits for the
first bytes of a request, in one epoll set; a pool thread takes a new connection at once, and a
waiting one when it becomes readable, and runs the compiled request cycle
(`ConnectionHandler.resume`) on it until it waits again, then hands it back (with a parking
corn._stream.Engine, the cycle never waits for a request's first bytes). So a new connection
that sends nothing, a kept-alive client between two requests, or a client trickling a request
head holds no thread; a request that is being served
does, reading its body and writing its response with poll(2) waits that release the GIL.
Pipelined requests already received are served by the same thread at once.

Deadlines of parked connections (keepalive, header_timeout, timeout) are kept in a heap; when one
passes, the connection is resumed as expired and the request cycle answers as it would under any
worker (408 for a head that did not arrive in time, a quiet close for an idle keep-alive client).

At most `worker_connections` connections are open at once: at the limit the listeners leave the
epoll set until a connection closes. TLS sockets are wrapped in the main thread without I/O; the
handshake happens in a pool thread, on the first read.

Stopping: TERM, HUP (from the master), max_requests: take the connections already queued on the
listeners, close them, and keep serving until every connection is done or `graceful_timeout`
passed; responses say `Connection: close` from then on. QUIT/INT: the same, for QUICK_DRAIN
seconds at most. SIGABRT (the master's timeout) logs every thread's stack.

Plane: control.
"""

import contextvars
import errno
import heapq
import itertools
import queue
import select
import socket
import threading
import time

from corn.workers.base import Worker
from corn.workers.wakeup import WakeupPipe

HEARTBEAT_TICK = 1.0
PARKED_TICK = 0.1  # seconds at most between deadline checks while connections are parked
QUICK_DRAIN = 1.0  # seconds the connections get after QUIT/INT (the master kills at 2 s)
MAX_ACCEPT = 64  # connections accepted per wakeup of a listener
ACCEPT_RETRY = 0.1  # seconds without accepting after accept(2) failed for want of descriptors
PARKED = -2  # ConnectionHandler.resume(): the connection waits for bytes
WATCH = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLONESHOT
PER_CONNECTION_ERRORS = frozenset((errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENETDOWN,
                                   errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EINTR))


class ThreadWorker(Worker):
    multithread = True

    def init_process(self):
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log)
        self.threads = max(1, self.cfg.threads)
        self.epoll = None  # made by run(), in the process that serves
        self.listeners = {}  # fd -> (listening socket, its handler)
        self.parked = {}  # fd -> (handler, Connection, its Context) waiting to be readable
        self.deadlines = []  # heap of (wait_until, sequence, fd, Connection)
        self.deadlines_lock = threading.Lock()
        self.sequence = itertools.count()
        self.tasks = queue.SimpleQueue()  # (handler, Connection, Context, expired), or None: a thread ends
        self.accepted = 0  # counted by the main thread
        self.closed_count = 0  # counted by the pool threads, under count_lock
        self.count_lock = threading.Lock()
        self.busy_since = []  # per pool thread: when its current task began, 0.0 when idle
        self.accepting = False
        self.accept_paused_until = 0.0
        self.quick_since = None
        self.pool = []
        self.wakeup = WakeupPipe()
        super().init_process()

    def make_engine(self):
        from corn._stream import Engine

        return Engine(parks=True)

    def init_signals(self):
        super().init_signals()
        self.wakeup.install()  # a signal ends the epoll wait

    handle_quit = Worker.handle_quit_draining

    def stop_accepting(self):
        """Any thread may ask; the main thread closes the listeners when it wakes up."""
        self.wakeup.wake()

    # --- the main thread -----------------------------------------------------------------

    def run(self):
        self.epoll = select.epoll()
        for listener, handler in zip(self.sockets, self.handlers):
            listener.sock.setblocking(False)
            self.listeners[listener.sock.fileno()] = (listener.sock, handler)
        self.epoll.register(self.wakeup.fd, select.EPOLLIN)
        self.start_accepting()
        self.start_pool()

        while self.alive:
            self.heartbeat()
            if not self.parent_alive():
                break
            self.poll_once(HEARTBEAT_TICK)

        self.drain()

    def poll_once(self, longest):
        """Wait for readiness (at most `longest` seconds), dispatch it, resume expired connections."""
        timeout = longest
        if self.parked:
            timeout = min(timeout, PARKED_TICK)
        if not self.accepting and self.accept_paused_until:
            timeout = min(timeout, max(0.0, self.accept_paused_until - time.monotonic()))
        try:
            events = self.epoll.poll(timeout)
        except InterruptedError:
            events = ()
        for fd, _ in events:
            if fd == self.wakeup.fd:
                self.wakeup.drain()
            elif fd in self.listeners:
                self.accept(*self.listeners[fd])
            else:
                self.readable(fd)
        self.after_events()

    def after_events(self):
        """Bookkeeping after each round of readiness: expired deadlines, a stop, the accept cap."""
        self.expire(time.monotonic())
        if not self.alive and self.listeners:
            self.close_listeners()
        self.update_accepting()

    def readable(self, fd):
        """A parked connection became readable: to the pool with it."""
        entry = self.parked.pop(fd, None)
        if entry is not None:
            self.tasks.put((*entry, False))

    # --- accepting -----------------------------------------------------------------------

    def open_connections(self):
        return self.accepted - self.closed_count

    def update_accepting(self):
        """Watch the listeners while there is room for another connection, not otherwise."""
        if self.accept_paused_until and time.monotonic() >= self.accept_paused_until:
            self.accept_paused_until = 0.0
        want = (self.alive and not self.accept_paused_until
                and self.open_connections() < self.cfg.worker_connections)
        if want and not self.accepting:
            self.start_accepting()
        elif not want and self.accepting:
            for fd in self.listeners:
                self.unwatch_listener(fd)
            self.accepting = False

    def start_accepting(self):
        for fd in self.listeners:
            self.watch_listener(fd)
        self.accepting = True

    def watch_listener(self, fd):
        self.epoll.register(fd, select.EPOLLIN)

    def unwatch_listener(self, fd):
        self.epoll.unregister(fd)

    def accept(self, listener, handler, limit=MAX_ACCEPT):
        for _ in range(limit):
            if self.open_connections() >= self.cfg.worker_connections:
                return
            if not self.alive and limit == MAX_ACCEPT:
                return  # stopping: only close_listeners() still takes what is queued
            try:
                sock, addr = listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in PER_CONNECTION_ERRORS:
                    continue
                self.log.error("accept() failed on %s: %s; accepting again in %.2fs",
                               listener.getsockname(), exc, ACCEPT_RETRY)
                self.accept_paused_until = time.monotonic() + ACCEPT_RETRY
                self.update_accepting()
                return
            self.accepted += 1
            if sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_lazily(sock, addr)
                if sock is None:
                    self.connection_closed()
                    continue
            # Straight to the pool: a client's first bytes usually come with its connection, and a
            # connection that has sent nothing is handed back at once (its recv finds nothing).
            # Each connection runs in a context of its own, as it would in a greenlet of its own.
            self.tasks.put((handler, handler.open(sock, addr), contextvars.Context(), False))

    def close_listeners(self):
        """Serve what is already queued on the listeners, then close them (once every process
        has, new connections are refused instead of queued for nobody)."""
        for fd, (listener, handler) in list(self.listeners.items()):
            self.accept(listener, handler, limit=1024)
            if self.accepting:
                self.unwatch_listener(fd)
            try:
                listener.close()
            except OSError:
                pass
        self.listeners.clear()
        self.accepting = False

    # --- parked connections --------------------------------------------------------------

    def park(self, handler, conn, context):
        """Watch `conn` until it is readable or its wait_until passes (any thread may park)."""
        fd = conn.fileno()
        deadline = conn.wait_until
        self.parked[fd] = (handler, conn, context)
        if deadline > 0:
            with self.deadlines_lock:
                heapq.heappush(self.deadlines, (deadline, next(self.sequence), fd, conn))
        self.watch_parked(fd)

    def watch_parked(self, fd):
        """Until it is readable once (any thread may call this: epoll is thread-safe)."""
        try:
            self.epoll.modify(fd, WATCH)
        except FileNotFoundError:
            self.epoll.register(fd, WATCH)

    def unwatch_parked(self, fd):
        try:
            self.epoll.modify(fd, 0)
        except OSError:
            pass

    def expire(self, now):
        """Resume, as expired, every parked connection whose deadline has passed."""
        due = []
        with self.deadlines_lock:
            while self.deadlines and self.deadlines[0][0] <= now:
                due.append(heapq.heappop(self.deadlines))
        for deadline, _, fd, conn in due:
            entry = self.parked.get(fd)
            if entry is None or entry[1] is not conn or conn.wait_until != deadline:
                continue  # resumed since, and parked again with another deadline, or closed
            del self.parked[fd]
            self.unwatch_parked(fd)
            self.tasks.put((*entry, True))

    def connection_closed(self):
        with self.count_lock:
            self.closed_count += 1
        if not self.accepting or not self.alive:
            self.wakeup.wake()

    # --- the pool threads ----------------------------------------------------------------

    def start_pool(self):
        self.busy_since = [0.0] * self.threads
        for number in range(self.threads):
            name = f"corn-worker-{number + 1}"
            thread = threading.Thread(target=self.serve_tasks, args=(number,), name=name, daemon=True)
            thread.start()
            self.pool.append(thread)

    def stop_pool(self):
        for _ in self.pool:
            self.tasks.put(None)

    def serve_tasks(self, number):
        tasks = self.tasks
        busy_since = self.busy_since
        while True:
            task = tasks.get()
            if task is None:
                return
            handler, conn, context, expired = task
            busy_since[number] = time.monotonic()
            try:
                verdict = context.run(handler.resume, conn, expired)
            except Exception:
                self.log.exception("Error serving a connection")
                verdict = 0
            busy_since[number] = 0.0
            if verdict == PARKED:
                self.park(handler, conn, context)
            else:
                self.connection_closed()

    def heartbeat(self):
        """Touch the heartbeat unless every pool thread has been on the same task for longer than
        `timeout`: a worker whose threads are all stuck is hung, and the master's timeout (with
        every thread's stack in the log) is what ends it."""
        if self.timeout > 0 and self.busy_since:
            stuck_before = time.monotonic() - self.timeout
            if all(0.0 < since < stuck_before for since in self.busy_since):
                return
        self.notify()

    # --- stopping ------------------------------------------------------------------------

    def drain(self):
        """Let the connections finish, up to graceful_timeout (QUICK_DRAIN after QUIT/INT), keeping
        the heartbeat alive; then the pool threads end with the process."""
        if self.listeners:
            self.close_listeners()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while not self.drain_over(deadline):
            self.heartbeat()
            self.poll_once(min(HEARTBEAT_TICK, max(0.0, deadline - time.monotonic())))
        self.stop_pool()

    def drain_over(self, deadline):
        """Is the drain over: every connection done, or out of time?"""
        now = time.monotonic()
        return (self.open_connections() == 0 or now >= deadline
                or (self.quick_since is not None and now >= self.quick_since + QUICK_DRAIN))
