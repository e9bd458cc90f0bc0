"""The master's bookkeeping of its workers: spawning them (and what a forked child does until its
worker runs), retiring, signalling and killing them, the timeout check, and reaping them.

A mixin of corn.arbiter.Arbiter: it works on the arbiter's `workers`, `retiring`, `sigkilled`,
`boot_marks`, `boot_crashes`, `spawn_after` and `cfg`, all set by Arbiter.__init__.

Plane: control.
"""

import errno
import os
import random
import signal
import sys
import time
import traceback

from corn import sock
from corn.errors import AppImportError, HaltServer
from corn.stopsignals import ignore_stop_signals
from corn.workers.base import BOOT_SIGNALS
from corn.workers.base import Worker as CornWorker

WORKER_BOOT_ERROR = 3
APP_LOAD_ERROR = 4
REAP_INTERVAL = 0.1  # seconds between reaps while waiting for workers to stop or boot
BOOT_CRASH_LIMIT = 5  # workers in a row that die before they booted, then the master halts
BOOT_CRASH_BACKOFF = 0.25  # seconds before the next spawn after the first such death; doubles

MASTER_SIGNALS = (
    signal.SIGHUP, signal.SIGQUIT, signal.SIGINT, signal.SIGTERM, signal.SIGTTIN, signal.SIGTTOU,
    signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH,
)


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


class WorkerBookkeeping:
    """Spawn, retire, kill and reap workers (see the module docstring)."""

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
