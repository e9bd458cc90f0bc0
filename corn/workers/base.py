"""What every worker process does, whatever its concurrency model.

A worker is constructed in the master (that is where its heartbeat file is created, so both
processes hold it) and must not touch process state there. After fork the arbiter calls
`init_process()`, which sets up the process (environment, owner, signals), loads the app, builds
one compiled `ConnectionHandler` per listener and then runs the subclass's `run()`, never to return.

The constructor signature and attribute names are gunicorn's (`gunicorn.workers.base.Worker`), so
the hooks in a gunicorn config file see the same object.

Signals that reach a worker while it boots are not lost: the master forks with `BOOT_SIGNALS`
blocked, so they stay pending until `init_process()` has installed the worker's handlers and
unblocks them. A worker tells the master it booted by touching its heartbeat once the app is
loaded; one that dies before that is a boot failure for the master to count.

On SIGABRT (the master's timeout) the worker logs the stack of every thread (the gevent worker:
every greenlet, the running one first), runs the `worker_abort` hook and exits.

Plane: control.
"""

import abc
import gc
import os
import random
import signal
import sys
import time

from corn import stacks
from corn.errors import AppImportError
from corn.heartbeat import Heartbeat
from corn.peers import address_allowed
from corn.stopsignals import already_quitting

NOTIFY_INTERVAL = 1.0  # seconds between heartbeats: a bounded rate, never once per request

# Blocked in the master around fork; the worker unblocks them once its own handlers exist.
BOOT_SIGNALS = frozenset((
    signal.SIGHUP, signal.SIGQUIT, signal.SIGINT, signal.SIGTERM, signal.SIGTTIN, signal.SIGTTOU,
    signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGABRT, signal.SIGCHLD,
))


class Worker(abc.ABC):
    SIGNALS = ("ABRT", "HUP", "QUIT", "INT", "TERM", "USR1", "USR2", "WINCH", "CHLD")

    def __init__(self, age, ppid, sockets, app, timeout, cfg, log):
        self.age = age
        self.pid = "[booting]"
        self.ppid = ppid
        self.sockets = sockets
        self.app = app
        self.timeout = timeout
        self.cfg = cfg
        self.log = log
        self.booted = False
        self.aborted = False
        self.state = None  # the WorkerState its handlers share, made after fork
        self.metrics_slot = None  # its shared-memory counters (metrics_bind), mapped by the master
        self.alive = True
        self.max_requests = 0
        if cfg.max_requests > 0:
            jitter = random.randint(0, cfg.max_requests_jitter) if cfg.max_requests_jitter > 0 else 0
            self.max_requests = cfg.max_requests + jitter
        self.tmp = Heartbeat(cfg.worker_tmp_dir, cfg.uid, cfg.gid)
        self.wsgi = None
        self.handlers = []
        self.request_options = None  # corn._handler.HandlerOptions, built by the first make_handler()
        self.reloader = None
        self.blocked_signals = frozenset()  # set in the child: what the master blocked for the fork
        self._last_notify = 0.0

    def __str__(self):
        return f"<Worker {self.pid}>"

    # --- lifecycle -----------------------------------------------------------------------

    def init_process(self):
        """Runs in the child after fork. Subclasses that must act first call this last."""
        self.pid = os.getpid()
        for key, value in self.cfg.env.items():
            os.environ[key] = value
        self._set_owner()
        random.seed()
        for listener in self.sockets:
            os.set_inheritable(listener.fileno(), False)
        os.set_inheritable(self.tmp.fileno(), False)
        self.log.close_on_exec()
        self._forwarded_networks = self.cfg.forwarded_allow_networks()
        self._proxy_networks = self.cfg.proxy_allow_networks()
        self.init_signals()
        if self.blocked_signals:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self.blocked_signals)  # pending ones run now
        if self.cfg.reload:
            self.start_reloader()
        self.load_wsgi()
        from corn._handler import WorkerState

        self.state = WorkerState(self.max_requests, self.last_request_began, self.metrics_slot)
        self.state.stopping = not self.alive
        self.engine = self.make_engine()
        self.handlers = [self.make_handler(listener) for listener in self.sockets]
        self.cfg.post_worker_init(self)
        # What exists now lives as long as the worker: the collector stops walking it, so a full
        # collection scans only what requests created (with a large app, milliseconds less).
        gc.freeze()
        self.booted = True
        self._last_notify = time.monotonic()
        self.tmp.notify()  # tells the master this worker booted
        self.run()

    @abc.abstractmethod
    def run(self):
        """Serve until told to stop; the process exits when this returns."""

    def _set_owner(self):
        uid, gid = self.cfg.uid, self.cfg.gid
        if gid != os.getegid():
            if self.cfg.initgroups:
                import pwd

                os.initgroups(pwd.getpwuid(uid).pw_name, gid)
            os.setgid(gid)
        if uid != os.geteuid():
            os.setuid(uid)

    def load_wsgi(self):
        try:
            self.wsgi = self.app.wsgi()
        except AppImportError as exc:
            if not (self.cfg.reload and isinstance(exc.__cause__, SyntaxError)):
                raise
            # In development, a typo should not stop the server: show it, and reload on the fix.
            self.log.exception("Error loading the application; serving the error until the file changes")
            if self.reloader is not None and exc.__cause__.filename:
                self.reloader.add_extra_file(exc.__cause__.filename)
            self.wsgi = error_app(str(exc))

    def start_reloader(self):
        from corn.reloader import make_watcher

        self.reloader = make_watcher(self.cfg, self.log, self.reload_now)
        self.reloader.start()
        self.log.debug("Watching for changes with the %s engine", self.reloader.engine)

    def reload_now(self, filename):
        """Called by the reloader (in its own thread) when a watched file changed."""
        self.log.info("Worker reloading: %s modified", filename)
        if self.state is not None:
            self.state.mark_exit("reload")
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's own handler stops it, in its own context

    multithread = False

    def make_engine(self):
        """The compiled I/O engine of this worker's connections (corn._stream.Engine or a subclass)."""
        from corn._stream import Engine

        return Engine()

    def make_handler(self, listener):
        from corn._handler import ConnectionHandler
        from corn.options import request_options

        if self.request_options is None:
            self.request_options = request_options(self.cfg, self.log)
        return ConnectionHandler(
            self.wsgi, self.request_options, self.log, listener, self.engine, self.state, worker=self,
            peer_trusted=self.peer_trusted, proxy_allowed=self.proxy_allowed, multithread=self.multithread,
        )

    @property
    def alive(self):
        return self._alive

    @alive.setter
    def alive(self, value):
        """Once False, every response the handlers start says Connection: close."""
        self._alive = value
        if not value and self.state is not None:
            self.state.stopping = True

    def peer_trusted(self, addr):
        """May this peer set secure_scheme_headers and forwarder_headers? (unix peers may)"""
        return address_allowed(self._forwarded_networks, addr[0] if isinstance(addr, tuple) else None)

    def proxy_allowed(self, addr):
        """May this peer send a PROXY protocol header? (unix peers may)"""
        return address_allowed(self._proxy_networks, addr[0] if isinstance(addr, tuple) else None)

    # --- liveness ------------------------------------------------------------------------

    def notify(self):
        """Touch the heartbeat, at most once per NOTIFY_INTERVAL."""
        now = time.monotonic()
        if now - self._last_notify >= NOTIFY_INTERVAL:
            self._last_notify = now
            self.tmp.notify()

    def parent_alive(self):
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            return False
        return True

    @property
    def nr(self):
        """Requests this worker has begun, over all its listeners."""
        return self.state.requests if self.state is not None else 0

    def last_request_began(self):
        """Called by the handlers once, as the max_requests-th request begins (in whichever
        thread or greenlet serves it): stop taking connections."""
        if self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
            self.stop_accepting()

    def stop_accepting(self):
        """Stop taking new connections; subclasses close their listeners here."""

    # --- signals -------------------------------------------------------------------------

    def init_signals(self):
        for name in self.SIGNALS:
            signal.signal(getattr(signal, "SIG" + name), signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, self.handle_quit)
        signal.signal(signal.SIGTERM, self.handle_exit)
        signal.signal(signal.SIGINT, self.handle_quit)
        signal.signal(signal.SIGWINCH, signal.SIG_IGN)
        # A HUP that reaches a worker comes with the one its master gets (a terminal that closes
        # signals the whole process group): the master's reload replaces this worker gracefully.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.signal(signal.SIGABRT, self.handle_abort)
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)

    def handle_usr1(self, sig, frame):
        self.log.reopen_files()

    def handle_exit(self, sig, frame):
        self.alive = False
        self.stop_accepting()

    def handle_quit(self, sig, frame):
        self.alive = False
        # A Ctrl-C brings the terminal's INT and then the master's QUIT: the second changes nothing.
        signal.signal(signal.SIGINT, already_quitting)
        signal.signal(signal.SIGQUIT, already_quitting)
        self.cfg.worker_int(self)
        sys.exit(0)

    def handle_quit_draining(self, sig, frame):
        """QUIT/INT for the workers that drain in their main loop (gthread, eventlet, tornado), which
        name this their handle_quit. Before the worker has booted it exits at once: there is
        nothing to drain. Once booted: the worker_int hook, then a stop whose drain lasts a second
        or so (`quick_since`); once only, as a Ctrl-C brings the terminal's INT and then the
        master's QUIT."""
        if not self.booted:
            Worker.handle_quit(self, sig, frame)
        signal.signal(signal.SIGINT, already_quitting)
        signal.signal(signal.SIGQUIT, already_quitting)
        self.quick_since = time.monotonic()
        self.alive = False
        self.cfg.worker_int(self)

    def handle_abort(self, sig, frame):
        self.alive = False
        try:
            where = self.format_stacks(frame).rstrip()
            self.log.error("Worker (pid:%s) aborted; where it was:\n%s", self.pid, where)
        except Exception:
            pass  # never let the report keep the worker from exiting
        self.cfg.worker_abort(self)
        sys.exit(1)

    def format_stacks(self, frame):
        """Every thread's stack; `frame` is where the signal interrupted the main thread."""
        return stacks.format_threads(frame)


def error_app(text):
    """A WSGI app that answers every request with 500 and `text` (the load error)."""
    body = text.encode("utf-8", "replace")

    def app(environ, start_response):
        start_response("500 Internal Server Error", [
            ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
        ])
        return [body]

    return app
