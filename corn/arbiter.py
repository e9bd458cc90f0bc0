"""The master process: owns the listeners and keeps `workers` worker processes alive.

Invariants:
- Signal handlers only enqueue the signal number; the main loop (`get(timeout=1.0)` on the
  queue) does all the work, so nothing runs in signal context but `put_nowait`.
- Every loop tick: `murder_workers()` (a heartbeat older than `timeout` gets SIGABRT, then
  SIGKILL on a later tick; a retired worker still alive `graceful_timeout` after its TERM gets
  SIGKILL), `manage_workers()` (spawn up to `num_workers`, retire the oldest surplus once).
  Workers are reaped on SIGCHLD.
- A worker that cannot boot never causes a fork loop: it exits 4 (the app failed to import) or 3
  (anything else failed before it booted) and the master halts with that status. A worker that
  dies before it booted without saying why (killed by a signal, such as a crashing C extension)
  is counted: each one delays the next spawn (doubling from BOOT_CRASH_BACKOFF), and after
  BOOT_CRASH_LIMIT in a row the master halts with status 3. A worker has booted once its
  heartbeat moved after the fork; one that boots resets the count.
- Workers are forked with the worker signals blocked (`BOOT_SIGNALS`); the child unblocks them
  once its own handlers are installed, so a signal sent while it boots is acted on, never lost
  to the master's handlers that the child inherited.
- A process on its way out ignores the stop signals (`corn.stopsignals`): a worker from the
  moment its `init_process()` returns or raises, the master once its workers are stopped. A
  terminal's Ctrl-C reaches both, and the master's QUIT follows; none of them may kill a worker
  while the interpreter finalizes.
- A worker that cannot boot leaves its reason in one file (`corn.bootreport`) and the master logs
  each distinct reason once, however many workers fail alike.
- HUP starts a new generation of workers with the reloaded configuration and retires the old
  generation only once the new workers run; if the configuration cannot be read, the logger
  cannot be set up, or a new worker fails to boot, the old workers keep serving and the error is
  logged.
- `run()` never returns: the process exits with 0 after a clean stop, 1 on a startup error,
  3 or 4 when a worker could not boot, 255 after an unexpected error in the main loop.

Attribute names follow gunicorn's Arbiter (`cfg`, `log`, `app`, `pid`, `num_workers`,
`worker_age`, `WORKERS`, `LISTENERS`), because server hooks receive this object.

The class is written in three modules: this one (start, the signal loop, stopping, the USR2
re-exec, daemonizing), corn.arbiter_workers (spawning, retiring, killing and reaping workers) and
corn.arbiter_reload (HUP).

Plane: control.
"""

import importlib
import os
import queue
import signal
import sys
import time
import traceback

from corn import SERVER_SOFTWARE, __version__, bootreport, importpaths, logbridge, sock, systemd
from corn.errors import AppImportError, ConfigError, HaltServer
from corn.heartbeat import default_tmp_dir
from corn.pidfile import Pidfile
from corn.stopsignals import ignore_stop_signals
from corn.arbiter_reload import Reloading
from corn.arbiter_workers import (  # noqa: F401  (BOOT_CRASH_LIMIT: read by the tests from here)
    APP_LOAD_ERROR, BOOT_CRASH_LIMIT, MASTER_SIGNALS, REAP_INTERVAL, WORKER_BOOT_ERROR, WorkerBookkeeping,
    _reason, set_process_title,
)
from corn.workers.compat import check_worker_class, is_gunicorn_worker

QUICK_SHUTDOWN_TIMEOUT = 2.0  # seconds workers get after QUIT before SIGKILL
WAKEUP = 0  # queued by wakeup(): not a signal, only ends the wait
SIGNAL_NAMES = {sig: signal.Signals(sig).name[3:].lower() for sig in MASTER_SIGNALS + (signal.SIGCHLD,)}
# Environment variables through which a USR2 re-exec hands the listeners to the new master.
FD_VARIABLES = ("CORN_FD", "GUNICORN_FD")
PID_VARIABLES = ("CORN_PID", "GUNICORN_PID")


class StopServer(Exception):
    """Raised in the main loop to leave it and halt; `graceful` chooses TERM or QUIT for workers."""

    def __init__(self, graceful):
        super().__init__("graceful" if graceful else "quick")
        self.graceful = graceful


DEFAULT_LOGGERS = (None, "simple", "corn.glogging.Logger", "gunicorn.glogging.Logger")
STATSD_LOGGERS = ("corn.statsd.Statsd", "gunicorn.instrument.statsd.Statsd")


def load_logger_class(spec, statsd_host=None):
    """The logger class for `logger_class`; the statsd logger when `statsd_host` is set and
    the logger is the default one, as in gunicorn."""
    from corn import glogging

    if isinstance(spec, type):
        return spec
    if spec in STATSD_LOGGERS or (spec in DEFAULT_LOGGERS and statsd_host is not None):
        from corn.statsd import Statsd

        return Statsd
    if spec in DEFAULT_LOGGERS:
        return glogging.Logger
    module_name, sep, name = spec.replace(":", ".").rpartition(".")
    if not sep:
        raise ConfigError(f"Invalid value for logger_class: {spec!r} (expected a dotted path to a class)")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"Invalid value for logger_class: {spec!r} ({exc})") from None


class Arbiter(Reloading, WorkerBookkeeping):
    WORKER_BOOT_ERROR = WORKER_BOOT_ERROR
    APP_LOAD_ERROR = APP_LOAD_ERROR

    def __init__(self, cfg, reload_config, app):
        os.environ["SERVER_SOFTWARE"] = SERVER_SOFTWARE
        self.environ_orig = dict(os.environ)  # restored on HUP and given to a USR2 re-exec
        self.start_cwd = os.getcwd()
        self.start_argv = [sys.executable] + list(getattr(sys, "orig_argv", sys.argv)[1:])
        self.reload_config = reload_config  # () -> a fresh Config, for HUP
        self.cfg = cfg
        self.app = app  # corn.app.WSGIApplication or an application of the caller's
        self.signal_queue = queue.SimpleQueue()
        self.workers = {}  # pid -> Worker
        self.retiring = {}  # pid -> monotonic deadline for SIGKILL after the TERM that retired it
        self.sigkilled = set()  # pids this master sent SIGKILL
        self.boot_marks = {}  # pid -> heartbeat stamp at spawn, until a later stamp shows it booted
        self.boot_crashes = 0  # workers in a row that died before they booted
        self.boot_file = None  # BootReports: where workers that cannot boot say why
        self.boot_reports = set()  # why workers could not boot, as logged (each reason once)
        self.spawn_after = 0.0  # monotonic time before which no worker is spawned (boot crash backoff)
        self.listeners = []
        self.pidfile = None
        self.systemd = False
        self.worker_age = 0
        self.reexec_pid = 0
        self.master_pid = 0
        self.master_name = "Master"
        self.worker_class = None
        self.worker_log = None
        self.timeout = cfg.timeout
        self.proc_name = cfg.proc_name
        self._num_workers = None
        self._logged_count = None
        self.log = None
        self.metrics = None  # corn.metrics.MetricsHub when metrics_bind is set
        if cfg.daemon and not any(name in os.environ for name in FD_VARIABLES):
            self._daemonize()
        self.pid = os.getpid()
        try:
            importpaths.add(cfg.chdir, cfg.pythonpath)
            self.log = logbridge.for_corn(load_logger_class(cfg.logger_class, cfg.statsd_host)(cfg))
        except (ConfigError, RuntimeError, OSError, ValueError) as exc:
            print(f"\nError: {exc}\n", file=sys.stderr, flush=True)
            sys.exit(1)

    # --- gunicorn-compatible names -------------------------------------------------------

    @property
    def WORKERS(self):
        return self.workers

    @property
    def LISTENERS(self):
        return self.listeners

    @property
    def num_workers(self):
        return self._num_workers

    @num_workers.setter
    def num_workers(self, value):
        old = self._num_workers
        self._num_workers = value
        self.cfg.nworkers_changed(self, value, old)

    # --- start ---------------------------------------------------------------------------

    def setup(self, cfg):
        """Adopt `cfg`: worker class, environment, timeouts, and the app when preloaded."""
        importpaths.add(cfg.chdir, cfg.pythonpath)
        check_worker_class(cfg.worker_class_spec)
        worker_class = cfg.worker_class
        self.cfg = cfg
        self.app.cfg = cfg
        self.worker_class = worker_class
        # A worker class written for gunicorn calls its logger's access() as gunicorn does.
        self.worker_log = logbridge.for_gunicorn(self.log) if is_gunicorn_worker(worker_class) else self.log
        self.timeout = cfg.timeout
        self.proc_name = cfg.proc_name
        if self.master_pid:
            self.proc_name += ".2"
        self.num_workers = cfg.workers
        self._apply_environ(cfg)
        self.log.debug(
            "Current configuration:\n%s", "\n".join(f"  {k}: {v!r}" for k, v in sorted(cfg.to_dict().items()))
        )
        if cfg.preload_app:
            self.app.wsgi()

    def start(self):
        self.log.info("Starting corn %s", __version__)
        master_pid = next((os.environ[name] for name in PID_VARIABLES if name in os.environ), None)
        if master_pid is not None:
            self.master_pid = int(master_pid)
            self.master_name = "Master.2"
        self.setup(self.cfg)
        if self.cfg.reload and self.cfg.preload_app:
            self.log.warning("reload cannot load new code into a preloaded app: workers restart on a change, "
                             "with the code the master loaded")
        if self.cfg.daemon and os.environ.get("NOTIFY_SOCKET"):
            self.log.warning("daemon is set under systemd (NOTIFY_SOCKET): systemd loses track of the master")
        if self.cfg.pidfile is not None:
            path = self.cfg.pidfile + (".2" if self.master_pid else "")
            self.pidfile = Pidfile(path)
            self.pidfile.create(self.pid)
        self.cfg.on_starting(self)
        self.init_signals()
        self.boot_file = bootreport.BootReports(self.cfg.worker_tmp_dir or default_tmp_dir())
        if not self.listeners:
            self.listeners = sock.create_sockets(self.cfg, self.log, self._inherited_fds())
        self.log.debug("Arbiter booted")
        self.log.info("Listening at: %s (%s)", self._listening_at(), self.pid)
        self.log.info("Using worker: %s", self.cfg.worker_class_str)
        if self.cfg.metrics_bind and self.metrics is None:
            from corn.metrics import MetricsHub
            from corn.metrics_http import MetricsServer

            self.metrics = MetricsHub(self)
            self.metrics.start(MetricsServer(self.cfg.metrics_bind, self.metrics))
        systemd.sd_notify("READY=1\nSTATUS=corn arbiter booted", self.log)
        check_config = getattr(self.worker_class, "check_config", None)
        if check_config is not None:
            check_config(self.cfg, self.log)
        self.cfg.when_ready(self)

    def _listening_at(self):
        return ",".join(str(listener) for listener in self.listeners)

    def _inherited_fds(self):
        """Descriptors handed over by systemd or by the master that re-executed us, if any."""
        count = systemd.listen_fds()
        if count:
            self.systemd = True
            return list(range(systemd.SD_LISTEN_FDS_START, systemd.SD_LISTEN_FDS_START + count))
        value = None
        for name in FD_VARIABLES:
            found = os.environ.pop(name, None)
            value = value or found
        if value:
            return [int(fd) for fd in value.split(",") if fd.strip()]
        return None

    def init_signals(self):
        self.log.close_on_exec()
        for sig in MASTER_SIGNALS:
            signal.signal(sig, self.queue_signal)
        signal.signal(signal.SIGCHLD, self.queue_signal)

    def queue_signal(self, sig, frame):
        """The only code that runs in signal context."""
        self.signal_queue.put_nowait(sig)

    # --- the main loop -------------------------------------------------------------------

    def run(self):
        """Start, then supervise workers until told to stop. Never returns."""
        try:
            self.start()
        except HaltServer as exc:
            self.halt(exc.reason, exc.exit_status)
        except AppImportError as exc:
            self.log.error("%s", exc)
            self.halt("App failed to load.", APP_LOAD_ERROR)
        except (ConfigError, RuntimeError, OSError, ValueError) as exc:
            self.halt(" ".join(str(exc).split()) or type(exc).__name__, 1)  # the reason, logged once
        except Exception as exc:
            self.log.exception("Error while starting")
            self.halt(_reason(exc), 1)
        set_process_title(f"master [{self.proc_name}]")
        try:
            self.manage_workers()
            while True:
                self.maybe_promote_master()
                for sig in self.wait_for_signals(timeout=self._tick()):
                    self.dispatch(sig)
                self.murder_workers()
                self.manage_workers()
        except StopServer as stop:
            self.halt(graceful=stop.graceful)
        except KeyboardInterrupt:
            self.halt(graceful=False)
        except HaltServer as exc:
            self.halt(exc.reason, exc.exit_status)
        except SystemExit:
            raise
        except Exception:
            self.log.error("Unhandled exception in main loop", exc_info=True)
            self.stop(graceful=False)
            if self.pidfile is not None:
                self.pidfile.unlink()
            sys.exit(-1)

    def _tick(self):
        """How long the main loop may wait for a signal: a second, or less when a spawn delayed
        by the boot crash backoff falls due sooner."""
        wait = self.spawn_after - time.monotonic()
        return min(1.0, wait) if wait > 0 else 1.0

    def wait_for_signals(self, timeout=1.0):
        """Signals received, oldest first, waiting up to `timeout` for the first one. Repeated
        SIGCHLDs collapse into one: one reap collects every exited child."""
        try:
            signals = [self.signal_queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                sig = self.signal_queue.get_nowait()
            except queue.Empty:
                return signals
            if not (sig == signal.SIGCHLD and signal.SIGCHLD in signals):
                signals.append(sig)

    def dispatch(self, sig):
        if sig == WAKEUP:
            return
        name = SIGNAL_NAMES.get(sig)
        if name is None:
            self.log.info("Ignoring unknown signal: %s", sig)
            return
        (self.log.debug if sig == signal.SIGCHLD else self.log.info)("Handling signal: %s", name)
        getattr(self, "handle_" + name)()

    def wakeup(self):
        """Wake the main loop (from another thread) without a signal."""
        self.signal_queue.put_nowait(WAKEUP)

    # --- signal handlers (run from the main loop) ----------------------------------------

    def handle_chld(self):
        self.reap_workers()

    def handle_hup(self):
        self.log.info("Hang up: %s", self.master_name)
        self.reload()

    def handle_term(self):
        raise StopServer(graceful=True)

    def handle_int(self):
        raise StopServer(graceful=False)

    def handle_quit(self):
        raise StopServer(graceful=False)

    def handle_ttin(self):
        self.num_workers += 1
        self.manage_workers()

    def handle_ttou(self):
        if self.num_workers <= 1:
            return
        self.num_workers -= 1
        self.manage_workers()

    def handle_usr1(self):
        self.log.reopen_files()
        self.kill_workers(signal.SIGUSR1)

    def handle_usr2(self):
        self.reexec()

    def handle_winch(self):
        if self.cfg.daemon:
            self.log.info("graceful stop of workers")
            self.num_workers = 0
            for pid in list(self.workers):
                self.retire_worker(pid)
        else:
            self.log.debug("SIGWINCH ignored. Not daemonized")

    # --- stopping ------------------------------------------------------------------------

    def halt(self, reason=None, exit_status=0, graceful=True):
        systemd.sd_notify("STOPPING=1", self.log)
        self.stop(graceful)
        # Stopped: a second Ctrl-C or Ctrl-\ must not kill the master while the interpreter
        # finalizes (it resets Python-handled signals to SIG_DFL; SIGQUIT's dumps core).
        ignore_stop_signals((signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP))
        say = self.log.info if exit_status == 0 else self.log.error
        say("Shutting down: %s", self.master_name)
        if reason is not None:
            say("Reason: %s", reason)
        if self.pidfile is not None:
            self.pidfile.unlink()
        if self.metrics is not None:
            self.metrics.close()
        self.cfg.on_exit(self)
        sys.exit(exit_status)

    def stop(self, graceful=True):
        """Close the listeners, ask every worker to stop, SIGKILL those still alive at the limit
        (`graceful_timeout` after TERM; 2 s after QUIT, also when INT or QUIT arrives meanwhile)."""
        unlink = self.reexec_pid == self.master_pid == 0 and not self.systemd and not self.cfg.reuse_port
        sock.close_sockets(self.listeners, unlink)
        self.listeners = []
        now = time.monotonic()
        limit = now + (self.cfg.graceful_timeout if graceful else QUICK_SHUTDOWN_TIMEOUT)
        self.kill_workers(signal.SIGTERM if graceful else signal.SIGQUIT)
        quick = not graceful
        while self.workers and time.monotonic() < limit:
            if not quick and self._quick_shutdown_requested():
                self.log.info("Quick shutdown requested")
                quick = True
                self.kill_workers(signal.SIGQUIT)
                limit = min(limit, time.monotonic() + QUICK_SHUTDOWN_TIMEOUT)
            self._reap()
            if self.workers:
                time.sleep(REAP_INTERVAL)
        if self.workers:
            self.kill_workers(signal.SIGKILL)
            end = time.monotonic() + 5.0
            while self.workers and time.monotonic() < end:
                self._reap()
                if self.workers:
                    time.sleep(REAP_INTERVAL / 10)

    def _quick_shutdown_requested(self):
        requested = False
        while True:
            try:
                sig = self.signal_queue.get_nowait()
            except queue.Empty:
                return requested
            requested = requested or sig in (signal.SIGINT, signal.SIGQUIT)

    # --- USR2: re-exec a new master on the same listeners --------------------------------

    def reexec(self):
        if self.reexec_pid != 0:
            self.log.warning("USR2 signal ignored. Child exists.")
            return
        if self.master_pid != 0:
            self.log.warning("USR2 signal ignored. Parent exists.")
            return
        master_pid = os.getpid()
        self.reexec_pid = os.fork()
        if self.reexec_pid != 0:
            return
        try:
            self.cfg.pre_exec(self)
            environ = dict(self.environ_orig)
            for name in PID_VARIABLES:
                environ[name] = str(master_pid)
            if self.systemd:
                environ["LISTEN_PID"] = str(os.getpid())
                environ["LISTEN_FDS"] = str(len(self.listeners))
            else:
                fds = ",".join(str(lnr.fileno()) for lnr in self.listeners)
                for name in FD_VARIABLES:
                    environ[name] = fds
            os.chdir(self.start_cwd)
            os.execve(sys.executable, self.start_argv, environ)
        except BaseException:
            self.log.error("USR2 re-exec failed:\n%s", traceback.format_exc())
        finally:
            os._exit(1)

    def maybe_promote_master(self):
        """A re-executed master becomes the master once the old one has exited."""
        if self.master_pid == 0 or self.master_pid == os.getppid():
            return
        self.log.info("Master has been promoted.")
        self.master_name = "Master"
        self.master_pid = 0
        self.proc_name = self.cfg.proc_name
        for name in PID_VARIABLES:
            os.environ.pop(name, None)
        if self.pidfile is not None and self.cfg.pidfile is not None:
            self.pidfile.rename(self.cfg.pidfile)
        set_process_title(f"master [{self.proc_name}]")

    # --- process setup -------------------------------------------------------------------

    def _daemonize(self):
        """Detach from the terminal: fork, setsid, fork; stdio to /dev/null unless -R."""
        if os.fork():
            os._exit(0)
        os.setsid()
        if os.fork():
            os._exit(0)
        os.umask(0o22)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        if not self.cfg.enable_stdio_inheritance:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        if devnull > 2:
            os.close(devnull)
