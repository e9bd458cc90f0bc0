"""HUP: the master reloads its configuration and replaces its workers, keeping the old ones
serving until the new ones run, and keeping them for good if anything fails on the way.

A mixin of corn.arbiter.Arbiter: it works on the arbiter's `cfg`, `app`, `log`, `workers`,
`listeners`, `pidfile` and `reload_config`, all set by Arbiter.__init__.

Plane: control.
"""

import os
import queue
import signal
import sys
import time

from corn import sock
from corn.arbiter_workers import REAP_INTERVAL, _reason, set_process_title
from corn.pidfile import Pidfile


class Reloading:
    """reload() and what it needs (see the module docstring)."""

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
