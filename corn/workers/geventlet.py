"""The eventlet worker: many connections per process, one green thread each, on eventlet's hub.

For apps written against eventlet (its green libraries, `eventlet.spawn` in views). eventlet is in
maintenance mode upstream; new deployments should use the gevent worker (the same model: green
threads, monkey-patched blocking calls) or gthread (for apps that block in C).

The worker monkey-patches the standard library (`eventlet.monkey_patch()`) after fork and before
the app is imported. Per listener a green thread accepts connections and spawns the compiled
`ConnectionHandler.handle` for each in a `GreenPool(worker_connections)`: at the limit, accepting
waits for a free slot. Connections read and write their descriptors directly, and wait in the
hub's trampoline (corn._stream.HubEngine); TLS sockets go through eventlet's green SSL sockets.
The main green thread keeps the heartbeat at a bounded rate and watches the parent.

Signal handlers only set flags; every signal also wakes the main green thread (through
`signal.set_wakeup_fd` and a pipe it waits on), which does the rest:
- TERM (or max_requests): accept what is already queued on the listeners, close them, and let the
  connections finish within `graceful_timeout`; responses say `Connection: close` from then on.
- QUIT/INT: the same, for QUICK_DRAIN seconds at most.
- SIGABRT (the master's timeout) logs every green thread's stack, the one that did not yield first.
"""

import errno
import socket
import time
import warnings

from corn.workers.base import Worker
from corn.workers.wakeup import WakeupPipe

HEARTBEAT_TICK = 1.0
QUICK_DRAIN = 1.0  # seconds the connections get after QUIT/INT (the master kills at 2 s)
DRAIN_POLL = 0.05  # seconds between checks of the connections while draining
ACCEPT_SWEEP_LIMIT = 1024  # queued connections taken, at most, when a listener closes
ACCEPT_RETRY = 0.1  # seconds without accepting after accept(2) failed for want of descriptors
PER_CONNECTION_ERRORS = frozenset((errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENETDOWN,
                                   errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EINTR))


class EventletWorker(Worker):
    multithread = True

    def init_process(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its page-long notice; the master said it in one line
            import eventlet
            import eventlet.hubs

        # the pipe is written from signal handlers, which may run in the hub itself: never green
        unpatched_os = eventlet.patcher.original("os")
        self.wakeup = WakeupPipe(unpatched_os.write, unpatched_os.read)
        eventlet.monkey_patch()
        eventlet.hubs.use_hub()
        from corn import tls

        self.tls = tls.for_worker(self.cfg, self.log)  # after patching: green TLS sockets
        self.acceptors = []  # (green thread, listening socket, handle, pool)
        self.quick_since = None  # monotonic time of QUIT/INT: from then, QUICK_DRAIN seconds at most
        super().init_process()

    def init_signals(self):
        super().init_signals()
        self.wakeup.install()  # a signal wakes the main green thread

    def make_engine(self):
        from corn._stream import HubEngine
        from eventlet.hubs import trampoline

        def wait_fd(fd, readable, seconds):
            if seconds > 0:
                trampoline(fd, read=readable, write=not readable, timeout=seconds,
                           timeout_exc=socket.timeout("timed out"))
            else:
                trampoline(fd, read=readable, write=not readable)

        return HubEngine(wait_fd)

    def format_stacks(self, frame):
        from corn import stacks

        return stacks.format_greenlets(frame)

    handle_quit = Worker.handle_quit_draining

    def stop_accepting(self):
        """Any green thread or signal handler may ask; the main green thread closes the listeners."""
        self.wakeup.wake()

    # --- the main green thread -----------------------------------------------------------

    def run(self):
        import eventlet
        from eventlet.greenio import GreenSocket

        for listener, handler in zip(self.sockets, self.handlers):
            handle = handler.handle if self.tls is None else self.tls.serving(handler.handle)
            sock = GreenSocket(listener.sock)  # makes the shared listening socket non-blocking
            pool = eventlet.GreenPool(self.cfg.worker_connections)
            self.acceptors.append((eventlet.spawn(self.accept_loop, sock, handle, pool), sock, handle, pool))

        while self.alive:
            self.notify()
            if not self.parent_alive():
                break
            self.wait_for_wakeup(HEARTBEAT_TICK)

        self.alive = False
        self.close_listeners()
        self.drain()

    def wait_for_wakeup(self, seconds):
        from eventlet.hubs import trampoline

        try:
            trampoline(self.wakeup.fd, read=True, timeout=seconds, timeout_exc=TimeoutError)
        except TimeoutError:
            return
        self.wakeup.drain()

    def accept_loop(self, listener, handle, pool):
        """Accept connections for as long as the worker takes them; at `worker_connections`
        open connections, wait for one to end (GreenPool.spawn_n waits for a free slot)."""
        import eventlet

        while True:
            try:
                sock, addr = listener.accept()
            except OSError as exc:
                if exc.errno in PER_CONNECTION_ERRORS:
                    continue
                self.log.error("accept() failed on %s: %s; accepting again in %.2fs",
                               listener.getsockname(), exc, ACCEPT_RETRY)
                eventlet.sleep(ACCEPT_RETRY)
                continue
            self.serve(sock, addr, handle, pool)

    def serve(self, sock, addr, handle, pool):
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pool.spawn_n(handle, sock, addr)

    def close_listeners(self):
        """Serve the connections already queued on the listeners (closing the listening socket's
        last descriptor would reset them), then close the listeners."""
        for acceptor, listener, handle, pool in self.acceptors:
            acceptor.kill()
            listener.setblocking(False)
            for _ in range(ACCEPT_SWEEP_LIMIT):
                try:
                    sock, addr = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    if exc.errno in PER_CONNECTION_ERRORS:
                        continue
                    break
                self.serve(sock, addr, handle, pool)
            try:
                listener.close()
            except OSError:
                pass

    def drain(self):
        """Let the connections finish, up to graceful_timeout (QUICK_DRAIN after QUIT/INT, even in
        the middle), keeping the heartbeat alive; what is left ends with the process."""
        import eventlet

        deadline = time.monotonic() + self.cfg.graceful_timeout
        while any(pool.running() for _, _, _, pool in self.acceptors):
            now = time.monotonic()
            if now >= deadline or (self.quick_since is not None and now >= self.quick_since + QUICK_DRAIN):
                break
            self.notify()
            eventlet.sleep(DRAIN_POLL)
