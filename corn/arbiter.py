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

Plane: control.
"""

import errno
import importlib
import os
import queue
import random
import signal
import sys
import time
import traceback

from corn import SERVER_SOFTWARE, __version__, bootreport, importpaths, logbridge, sock, systemd
from corn.errors import AppImportError, ConfigError, HaltServer
from corn.heartbeat import default_tmp_dir
from corn.pidfile import Pidfile
from corn.stopsignals import ignore_stop_signals
from corn.workers.base import BOOT_SIGNALS
from corn.workers.base import Worker as CornWorker
from corn.workers.compat import check_worker_class, is_gunicorn_worker

WORKER_BOOT_ERROR = 3
APP_LOAD_ERROR = 4
QUICK_SHUTDOWN_TIMEOUT = 2.0  # seconds workers get after QUIT before SIGKILL
WAKEUP = 0  # queued by wakeup(): not a signal, only ends the wait
REAP_INTERVAL = 0.1  # seconds between reaps while waiting for workers to stop or boot
BOOT_CRASH_LIMIT = 5  # workers in a row that die before they booted, then the master halts
BOOT_CRASH_BACKOFF = 0.25  # seconds before the next spawn after the first such death; doubles

MASTER_SIGNALS = (
    signal.SIGHUP, signal.SIGQUIT, signal.SIGINT, signal.SIGTERM, signal.SIGTTIN, signal.SIGTTOU,
    signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH,
)
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


def set_process_title(title):
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    if sys.platform != "darwin":  # setproctitle crashes there after fork (gunicorn #3021)
        setproctitle("corn: " + title)


def exit_status(exc):
    """The status a SystemExit will end the process with."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


class Arbiter:
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

    # --- HUP: reload the configuration, replace the workers ------------------------------

    def reload(self):
        old = {
            "cfg": self.cfg,
            "num_workers": self.num_workers,
            "listeners": list(self.listeners),
        }
        self._reset_environ(old["cfg"])
        self.boot_reports.clear()  # a new worker that fails as one did before says so again
        cwd = os.getcwd()
        try:
            os.chdir(self.start_cwd)  # relative config paths mean what they meant at start
            cfg = self.reload_config()
        except Exception as exc:
            self._apply_environ(old["cfg"])
            self.log.error("Reload failed, keeping the configuration and workers: %s", _reason(exc))
            return
        finally:
            os.chdir(cwd)
        for warning in getattr(cfg, "warnings", ()):
            self.log.warning("%s", warning)
        unused = []
        try:
            self.log.setup(cfg)
            if not cfg.preload_app:
                self.app.reload()
            self.setup(cfg)
            if list(cfg.address) != list(old["cfg"].address):
                self.listeners, unused = sock.rebind(cfg, self.log, self.listeners)
                self.log.info("Listening at: %s (%s)", self._listening_at(), self.pid)
        except Exception as exc:
            self._restore(old, f"Reload failed, keeping the configuration and workers: {_reason(exc)}")
            return
        if cfg.preload_app and old["cfg"].preload_app:
            self.log.info("preload_app is on: the application code is not re-imported on HUP (use USR2)")
        self.cfg.on_reload(self)
        self._recreate_pidfile()
        set_process_title(f"master [{self.proc_name}]")

        old_pids = set(self.workers)
        new_pids = [self.spawn_worker() for _ in range(self.num_workers)]
        failure = self._wait_for_boot(new_pids)
        if failure is not None:
            for pid in new_pids:
                if pid in self.workers:
                    self.retire_worker(pid)
            self._restore(old, f"Reload failed, keeping the old workers: a new worker exited: {failure}")
            return
        if self.metrics is not None:
            self.metrics.retired_for_reload(old_pids)
        for pid in old_pids:
            if pid in self.workers:
                self.retire_worker(pid)
        sock.close_sockets(unused, unlink=True)
        self.log.info("Reload complete: %d new workers", len(new_pids))

    def _recreate_pidfile(self):
        if self.pidfile is not None:
            self.pidfile.unlink()
            self.pidfile = None
        if self.cfg.pidfile is None:
            return
        pidfile = Pidfile(self.cfg.pidfile + (".2" if self.master_pid else ""))
        try:
            pidfile.create(self.pid)
        except (RuntimeError, OSError) as exc:
            self.log.error("Cannot write the pid file: %s", exc)
            return
        self.pidfile = pidfile

    def _restore(self, old, message):
        self.log.error("%s", message)
        sock.close_sockets([lnr for lnr in self.listeners if lnr not in old["listeners"]], unlink=False)
        self._reset_environ(self.cfg)
        try:
            self.log.setup(old["cfg"])
        except Exception as exc:
            print(f"Error: restoring the previous logger configuration failed: {exc}", file=sys.stderr)
            sys.stderr.flush()
        self.setup(old["cfg"])
        self.num_workers = old["num_workers"]
        self.listeners = old["listeners"]

    def _apply_environ(self, cfg):
        for key, value in cfg.env.items():
            os.environ[key] = value

    def _reset_environ(self, cfg):
        """Undo what `cfg`'s raw_env put into os.environ."""
        for key in cfg.env:
            if key in self.environ_orig:
                os.environ[key] = self.environ_orig[key]
            else:
                os.environ.pop(key, None)

    def _wait_for_boot(self, pids):
        """Wait until every worker in `pids` runs (its heartbeat moved). Returns None on success,
        or a description of the first boot failure. A worker that has not reported within the
        deadline (`timeout`, else `graceful_timeout`) is left to the timeout machinery."""
        pending = set(pids)
        deadline = time.monotonic() + (self.cfg.timeout or self.cfg.graceful_timeout)
        while pending and time.monotonic() < deadline and not self._stop_pending():
            for failure in self._reap():
                if failure.pid in pending:
                    return failure.reason
            pending = {pid for pid in pending if pid in self.workers and not self._has_booted(pid)}
            if pending:
                self.murder_workers()
                time.sleep(REAP_INTERVAL)
        if pending:
            self.log.warning("%d new workers not running yet; retiring the old ones anyway", len(pending))
        return None

    def _stop_pending(self):
        """True when TERM, INT or QUIT is queued; the queue is left as it was."""
        queued = []
        while True:
            try:
                queued.append(self.signal_queue.get_nowait())
            except queue.Empty:
                break
        for sig in queued:
            self.signal_queue.put_nowait(sig)
        return any(sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT) for sig in queued)

    def _has_booted(self, pid, worker=None):
        """Whether the worker's heartbeat moved since the fork; the first time it has, the
        boot crash count starts again."""
        worker = worker or self.workers.get(pid)
        if worker is None:
            return False
        if pid not in self.boot_marks:
            return True
        try:
            booted = worker.tmp.last_update() != self.boot_marks[pid]
        except (OSError, ValueError):
            return False
        if booted:
            del self.boot_marks[pid]
            self.boot_crashes = 0
        return booted

    # --- workers -------------------------------------------------------------------------

    def manage_workers(self):
        """Spawn workers up to `num_workers`; retire the oldest beyond it."""
        for pid in list(self.boot_marks):
            self._has_booted(pid)
        active = [w for pid, w in self.workers.items() if pid not in self.retiring]
        active.sort(key=lambda w: w.age)
        if len(active) < self.num_workers and time.monotonic() >= self.spawn_after:
            self.spawn_workers(self.num_workers - len(active))
        while len(active) > self.num_workers:
            self.retire_worker(active.pop(0).pid)
        count = len(self.workers) - len(self.retiring)
        if count != self._logged_count:
            self._logged_count = count
            self.log.debug(
                "%s workers", count, extra={"metric": "gunicorn.workers", "value": count, "mtype": "gauge"}
            )

    def spawn_workers(self, count):
        for i in range(count):
            self.spawn_worker()
            if i + 1 < count:
                time.sleep(0.1 * random.random())

    def spawn_worker(self):
        self.worker_age += 1
        worker = self.worker_class(
            self.worker_age, self.pid, self.listeners, self.app, self.timeout / 2.0, self.cfg, self.worker_log
        )
        self.cfg.pre_fork(self, worker)
        if self.metrics is not None:
            self.metrics.slot_for(worker)  # mapped before fork: shared by master and worker
        mark = worker.tmp.last_update()
        blocked = BOOT_SIGNALS - signal.pthread_sigmask(signal.SIG_BLOCK, BOOT_SIGNALS)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
            raise
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
            worker.pid = pid
            self.workers[pid] = worker
            self.boot_marks[pid] = mark
            if self.metrics is not None:
                self.metrics.worker_forked(pid, worker)
            return pid
        self._run_worker(worker, blocked)

    def _run_worker(self, worker, blocked):
        """In the child: boot the worker and exit with a status the master understands.

        The worker signals arrive blocked (`blocked`): the master's handlers, inherited through the
        fork, would only queue them into this process's copy of the master's queue. A corn worker
        unblocks them itself once its handlers are installed; any other worker class (one written
        for gunicorn) gets interim handlers and has them unblocked before it boots."""
        worker.pid = os.getpid()
        for sibling in self.workers.values():
            sibling.tmp.close()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, _exit_now)
        for sig in MASTER_SIGNALS:
            if sig not in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                signal.signal(sig, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if isinstance(worker, CornWorker):
            worker.blocked_signals = blocked
        else:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
        try:
            try:
                set_process_title(f"worker [{self.proc_name}]")
                self.log.info("Booting worker with pid: %s", worker.pid)
                if sock.reuse_port_enabled(self.cfg):
                    worker.sockets = sock.worker_sockets(self.listeners, self.cfg, self.log)
                self.cfg.post_fork(self, worker)
                worker.init_process()
            finally:
                ignore_stop_signals()  # however the worker ends, no late signal may kill it
            sys.exit(0)
        except SystemExit as exc:
            status = exit_status(exc)
            if status not in (0, WORKER_BOOT_ERROR, APP_LOAD_ERROR) and not worker.booted:
                self.log.error("Worker (pid:%s) exited with status %s before it booted", worker.pid, status)
                sys.exit(WORKER_BOOT_ERROR)
            raise
        except AppImportError as exc:
            self._report_boot_failure(worker, str(exc))
            sys.exit(APP_LOAD_ERROR)
        except BaseException as exc:
            if not worker.booted:
                failure = traceback.format_exc().rstrip()
                self._report_boot_failure(worker, f"Exception in worker process:\n{failure}")
                sys.exit(WORKER_BOOT_ERROR)
            self.log.exception("Exception in worker process")
            if self.cfg.errorlog != "-":
                print(exc, file=sys.stderr, flush=True)
            sys.exit(-1)
        finally:
            self.log.info("Worker exiting (pid: %s)", worker.pid)
            try:
                worker.tmp.close()
                self.cfg.worker_exit(self, worker)
            except Exception:
                self.log.warning("Exception during worker exit:\n%s", traceback.format_exc())

    def _report_boot_failure(self, worker, text):
        """In a worker that cannot boot: leave the reason for the master, which logs each distinct
        reason once however many workers fail alike; log it here if it cannot be left."""
        if self.boot_file is None or not self.boot_file.leave(text):
            self._log_boot_failure(text)

    def _log_boot_failure(self, text):
        self.log.error("%s", text)
        if self.cfg.errorlog != "-":
            print(text, file=sys.stderr, flush=True)

    def retire_worker(self, pid):
        """TERM a worker once; SIGKILL follows if it is still alive after `graceful_timeout`."""
        if pid in self.retiring:
            return
        self.retiring[pid] = time.monotonic() + self.cfg.graceful_timeout
        self.kill_worker(pid, signal.SIGTERM)

    def kill_workers(self, sig):
        for pid in list(self.workers):
            self.kill_worker(pid, sig)

    def kill_worker(self, pid, sig):
        try:
            os.kill(pid, sig)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
            worker = self.workers.pop(pid, None)
            if worker is not None and self.metrics is not None:
                self.metrics.worker_exited(pid, worker, None, pid in self.sigkilled, pid in self.retiring)
            self._forget(pid)
            if worker is not None:
                try:
                    worker.tmp.close()
                    self.cfg.worker_exit(self, worker)
                except Exception:
                    self.log.warning("Exception during worker exit:\n%s", traceback.format_exc())
            return
        if sig == signal.SIGKILL:
            self.sigkilled.add(pid)

    def murder_workers(self):
        """SIGABRT a worker whose heartbeat is older than `timeout`, SIGKILL it if still stale on
        a later tick; SIGKILL a retired worker that outlived its graceful_timeout."""
        now = time.monotonic()
        for pid, worker in list(self.workers.items()):
            deadline = self.retiring.get(pid)
            if deadline is not None and now > deadline:
                self.log.warning("Worker (pid:%s) alive %ss after TERM", pid, self.cfg.graceful_timeout)
                self.retiring[pid] = float("inf")
                self.kill_worker(pid, signal.SIGKILL)
                continue
            if not self.timeout:
                continue
            try:
                if now - worker.tmp.last_update() <= self.timeout:
                    continue
            except (OSError, ValueError):
                continue
            if not worker.aborted:
                self.log.critical("WORKER TIMEOUT (pid:%s)", pid)
                worker.aborted = True
                self.kill_worker(pid, signal.SIGABRT)
            else:
                self.kill_worker(pid, signal.SIGKILL)

    def reap_workers(self):
        """Collect exited workers; halt the server when one could not boot, or when too many in
        a row died before they booted."""
        for failure in self._reap():
            if failure.code is not None:
                raise HaltServer(failure.reason, failure.code)
            self.boot_crashes += 1
            if self.boot_crashes >= BOOT_CRASH_LIMIT:
                raise HaltServer(
                    f"Worker failed to boot: {self.boot_crashes} workers in a row died before they "
                    f"booted, the last one {failure.how}.",
                    WORKER_BOOT_ERROR,
                )
            delay = BOOT_CRASH_BACKOFF * 2 ** (self.boot_crashes - 1)
            self.spawn_after = time.monotonic() + delay
            self.log.error(
                "Worker (pid:%s) %s before it booted (%d of %d in a row); the next worker starts in %.2fs",
                failure.pid, failure.how, self.boot_crashes, BOOT_CRASH_LIMIT, delay,
            )

    def _reap(self):
        """waitpid every exited child; returns a BootFailure for each worker that failed to boot:
        with `code` 3 or 4 when it said so itself, with `code` None when it died before it booted
        without a word (a signal we did not send, or an unexpected exit status)."""
        failures = []
        while True:
            try:
                wpid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not wpid:
                break
            if wpid == self.reexec_pid:
                self.reexec_pid = 0
                continue
            worker = self.workers.pop(wpid, None)
            killed_by_us = wpid in self.sigkilled
            asked_to_stop = wpid in self.retiring
            booted = worker is not None and self._has_booted(wpid, worker)
            if worker is not None and self.metrics is not None:
                self.metrics.worker_exited(wpid, worker, status, killed_by_us, asked_to_stop)
            self._forget(wpid)
            if worker is None:
                self.log.debug("Reaped unknown child process (pid:%s, status:%s)", wpid, status)
                continue
            code = None
            how = None
            if os.WIFEXITED(status):
                code = os.WEXITSTATUS(status)
                if code in (WORKER_BOOT_ERROR, APP_LOAD_ERROR) and self.boot_file is not None:
                    for report in self.boot_file.take():
                        if report not in self.boot_reports:
                            self.boot_reports.add(report)
                            self._log_boot_failure(report)
                if code != 0:
                    self.log.error("Worker (pid:%s) exited with code %s.", wpid, code)
                    how = f"exited with code {code}"
            elif os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                self._log_signaled(wpid, sig, killed_by_us)
                how = f"was killed by {_signal_name(sig)}"
            expected = worker.aborted or asked_to_stop or killed_by_us
            if code == APP_LOAD_ERROR and not expected:
                failures.append(BootFailure(wpid, "App failed to load.", how, APP_LOAD_ERROR))
            elif code == WORKER_BOOT_ERROR and not expected:
                failures.append(BootFailure(wpid, "Worker failed to boot.", how, WORKER_BOOT_ERROR))
            elif how is not None and not booted and not expected:
                reason = f"Worker failed to boot: it {how} before it booted."
                failures.append(BootFailure(wpid, reason, how))
            try:
                worker.tmp.close()
            except OSError:
                pass
            self.cfg.child_exit(self, worker)
        return failures

    def _log_signaled(self, pid, sig, killed_by_us):
        name = _signal_name(sig)
        if sig == signal.SIGKILL and not killed_by_us:
            self.log.error("Worker (pid:%s) was sent %s! Perhaps out of memory?", pid, name)
        elif sig in (signal.SIGTERM, signal.SIGKILL):
            self.log.info("Worker (pid:%s) was sent %s!", pid, name)
        else:
            self.log.warning("Worker (pid:%s) was sent %s!", pid, name)

    def _forget(self, pid):
        self.retiring.pop(pid, None)
        self.sigkilled.discard(pid)
        self.boot_marks.pop(pid, None)

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


class BootFailure:
    """A worker that failed to boot: `code` is the status to halt with (3 or 4) when the worker
    reported the failure itself, None when it died before it booted without a word."""

    __slots__ = ("pid", "reason", "how", "code")

    def __init__(self, pid, reason, how, code=None):
        self.pid = pid
        self.reason = reason
        self.how = how
        self.code = code


def _signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _exit_now(sig, frame):
    """A stop signal that reaches a worker of a class written for gunicorn before that worker
    installed its own handlers (corn's own workers get theirs with the signals still blocked)."""
    sys.exit(0)


def _reason(exc):
    """What to log about a failed reload: an import error in full (it carries its traceback),
    anything else in one line."""
    if isinstance(exc, HaltServer):
        return exc.reason
    if isinstance(exc, AppImportError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
