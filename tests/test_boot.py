"""Workers while they boot: signals sent to a booting worker are acted on once its handlers
exist, and workers that die before they booted (a crashing C extension) do not make the master
fork forever: it backs off, then halts with a reason and status 3."""

import os
import re
import signal

import pytest
from conftest import child_pids, http_request, pid_alive, wait_for

from corn.arbiter import BOOT_CRASH_LIMIT

RECORD_HOOKS = """
import os

def _record(name):
    fd = os.open({record!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, ("%s %d\\n" % (name, os.getpid())).encode())
    finally:
        os.close(fd)

def post_worker_init(worker): _record("post_worker_init")
def worker_int(worker): _record("worker_int")
"""

SIGNAL_IN_POST_FORK = """
def post_fork(server, worker):
    # Only the first worker signals itself, before its handlers exist.
    try:
        fd = os.open({once!r}, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return
    os.close(fd)
    _record("signalled")
    os.kill(os.getpid(), {sig})
"""

SLOW_IMPORT_APP = """
import time

time.sleep(2)


def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "4")])
    return [b"slow"]
"""


def events(record):
    if not record.exists():
        return []
    return [tuple(line.split()) for line in record.read_text().splitlines()]


def exited_on_its_own(server, pid):
    """The worker logged its own exit and was not ended by a signal's default action."""
    log = server.log()
    return f"Worker exiting (pid: {pid})" in log and f"Worker (pid:{pid}) was sent" not in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGQUIT], ids=["TERM", "QUIT"])
def test_signal_before_the_handlers_exist_is_acted_on(corn_server, tmp_path, worker_class, sig):
    record, once = tmp_path / "record", tmp_path / "once"
    conf = tmp_path / "boot.conf.py"
    conf.write_text(RECORD_HOOKS.format(record=str(record))
                    + SIGNAL_IN_POST_FORK.format(once=str(once), sig=int(sig)))
    server = corn_server("basic:app", "-w", "1", "-k", worker_class, "-c", str(conf), wait=False)
    signalled = wait_for(lambda: next((int(e[1]) for e in events(record) if e[0] == "signalled"), None),
                         message="the first worker to signal itself")
    wait_for(lambda: not pid_alive(signalled), message="the signalled worker to stop")
    wait_for(lambda: exited_on_its_own(server, signalled), message="the worker's own exit in the log")
    seen = events(record)
    if sig == signal.SIGTERM:
        # TERM is graceful: the worker finishes booting, then stops instead of serving.
        assert ("post_worker_init", str(signalled)) in seen
    else:
        assert ("worker_int", str(signalled)) in seen
    server.wait_ready(1)
    assert http_request(server.port, "GET", "/").body == b"Hello, World!"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGQUIT], ids=["TERM", "QUIT"])
def test_signal_during_a_slow_app_import(corn_server, tmp_path, sig):
    (tmp_path / "slow_import_app.py").write_text(SLOW_IMPORT_APP)
    record = tmp_path / "record"
    conf = tmp_path / "boot.conf.py"
    conf.write_text(RECORD_HOOKS.format(record=str(record)))
    server = corn_server("slow_import_app:app", "-w", "1", "-c", str(conf), "--pythonpath", str(tmp_path),
                         wait=False)
    first = wait_for(lambda: child_pids(server.pid), interval=0.005, message="the first worker")[0]
    os.kill(first, sig)
    wait_for(lambda: not pid_alive(first), message="the signalled worker to stop")
    wait_for(lambda: exited_on_its_own(server, first), message="the worker's own exit in the log")
    expected_hook = "post_worker_init" if sig == signal.SIGTERM else "worker_int"
    assert (expected_hook, str(first)) in events(record)
    server.wait_ready(1)
    wait_for(lambda: ("post_worker_init", str(server.booted_workers()[0])) in events(record),
             message="the replacement to load the app")
    assert http_request(server.port, "GET", "/").body == b"slow"
    assert server.proc.poll() is None


CRASHING_APP = """
import os
import signal

COUNTER = {counter!r}
LIMIT = {limit}

with open(COUNTER, "a") as f:
    f.write("x")
with open(COUNTER) as f:
    imports = len(f.read())
if imports <= LIMIT:
    os.kill(os.getpid(), signal.SIGSEGV)  # what a crashing C extension does


def app(environ, start_response):
    start_response("200 OK", [("Content-Length", "7")])
    return [b"crashed"]
"""


def write_crashing_app(tmp_path, limit):
    counter = tmp_path / "imports"
    (tmp_path / "crashing_app.py").write_text(CRASHING_APP.format(counter=str(counter), limit=limit))
    return counter


def test_worker_that_always_crashes_at_boot_halts_the_master(corn_server, tmp_path):
    counter = write_crashing_app(tmp_path, limit=10**6)
    server = corn_server("crashing_app:app", "-w", "2", "--pythonpath", str(tmp_path), wait=False)
    assert server.wait_exit() == 3
    log = server.log()
    assert (f"Reason: Worker failed to boot: {BOOT_CRASH_LIMIT} workers in a row died before they booted, "
            "the last one was killed by SIGSEGV.") in log
    forks = len(re.findall(r"Booting worker with pid: (\d+)", log))
    assert BOOT_CRASH_LIMIT <= forks <= BOOT_CRASH_LIMIT + 1  # at most one more already spawned
    assert len(counter.read_text()) == forks
    assert "the next worker starts in" in log


def test_boot_crashes_back_off_and_a_worker_that_boots_resets_the_count(corn_server, tmp_path):
    write_crashing_app(tmp_path, limit=BOOT_CRASH_LIMIT - 1)
    server = corn_server("crashing_app:app", "-w", "1", "--pythonpath", str(tmp_path), wait=False)
    server.wait_ready(1)
    wait_for(lambda: http_request(server.port, "GET", "/").body == b"crashed", message="a worker that booted")
    log = server.log()
    for n in range(1, BOOT_CRASH_LIMIT):
        assert f"before it booted ({n} of {BOOT_CRASH_LIMIT} in a row)" in log
    # The count starts again once a worker booted: a later crash after boot is an ordinary death.
    (worker,) = server.booted_workers()
    os.kill(worker, signal.SIGSEGV)
    wait_for(lambda: server.booted_workers() and worker not in server.booted_workers(),
             message="a replacement")
    assert http_request(server.port, "GET", "/").body == b"crashed"
    assert server.proc.poll() is None
    assert f"Worker (pid:{worker}) was sent SIGSEGV!" in server.log()
