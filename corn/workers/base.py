"""What every worker process does, whatever its concurrency model.

A worker is constructed in the master (that is where its heartbeat file is created, so both
processes hold it) and must not touch process state there. After fork the arbiter calls
`init_process()`, which sets up the process (environment, owner, signals), loads the app, builds
one compiled `ConnectionHandler` per listener and then runs the subclass's `run()`, never to return.

The constructor signature and attribute names are gunicorn's (`gunicorn.workers.base.Worker`), so
the hooks in a gunicorn config file see the same object.
"""

import abc
import os
import random
import select
import signal
import sys
import time

from corn.config import address_allowed
from corn.heartbeat import Heartbeat

NOTIFY_INTERVAL = 1.0  # seconds between heartbeats: a bounded rate, never once per request


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
        self.alive = True
        self.nr = 0
        self.max_requests = 0
        if cfg.max_requests > 0:
            jitter = random.randint(0, cfg.max_requests_jitter) if cfg.max_requests_jitter > 0 else 0
            self.max_requests = cfg.max_requests + jitter
        self.tmp = Heartbeat(cfg.worker_tmp_dir, cfg.uid, cfg.gid)
        self.wsgi = None
        self.handlers = []
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
        self.load_wsgi()
        self.handlers = [self.make_handler(listener) for listener in self.sockets]
        self.cfg.post_worker_init(self)
        self.booted = True
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
        self.wsgi = self.app.wsgi()

    def make_handler(self, listener):
        from corn._handler import ConnectionHandler

        return ConnectionHandler(self.wsgi, self.cfg, self.log, self, listener, self.multithread)

    multithread = False

    def peer_trusted(self, addr):
        """May this peer set secure_scheme_headers and forwarder_headers? (unix peers may)"""
        return address_allowed(self._forwarded_networks, addr[0] if isinstance(addr, tuple) else None)

    def proxy_allowed(self, addr):
        """May this peer send a PROXY protocol header? (unix peers may)"""
        return address_allowed(self._proxy_networks, addr[0] if isinstance(addr, tuple) else None)

    @staticmethod
    def wait_write(fd, timeout):
        """Block until `fd` can take more bytes; TimeoutError after `timeout` seconds."""
        if not select.select([], [fd], [], timeout)[1]:
            raise TimeoutError("timed out waiting to write to the client")

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

    def request_done(self):
        """Called by the handler after each request; returns False when the worker must stop."""
        self.nr += 1
        if self.max_requests and self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
            self.stop_accepting()
        return self.alive

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
        self.cfg.worker_int(self)
        sys.exit(0)

    def handle_abort(self, sig, frame):
        self.alive = False
        self.cfg.worker_abort(self)
        sys.exit(1)
