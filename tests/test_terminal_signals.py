"""Signals from a terminal: Ctrl-C (INT), Ctrl-\\ (QUIT) and a terminal that closes (HUP), each
sent to the whole process group, as a terminal sends them, many times over.

INT and QUIT stop corn with exit status 0 and every worker exits on its own: the master never
has to kill one, and no process dumps core, whatever order a worker gets the terminal's signal
and the master's QUIT in, with requests in flight or while the workers boot. HUP reloads, as a
HUP to the master does: the workers ignore theirs and the master replaces them gracefully.

The servers run in a session of their own with core dumps allowed; where the kernel writes core
files into the working directory (core_pattern a plain name), the test also looks for them.
"""

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading

import pytest
from conftest import DEADLINE, WORKER_CLASSES, CornServer, http_request, wait_for

ROUNDS = 5
CORE_PATTERN_PATH = "/proc/sys/kernel/core_pattern"


def cores_land_in_cwd():
    """Whether core files would be written into the crashing process's working directory."""
    try:
        with open(CORE_PATTERN_PATH) as f:
            pattern = f.read().strip()
    except OSError:
        return False
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    return bool(pattern) and not pattern.startswith(("|", "/")) and hard != 0


class GroupServer(CornServer):
    """A corn master leading a process group of its own (as in a terminal), cores allowed."""

    def start(self):
        self._log = open(self.log_path, "ab")
        launcher = (
            "import os, resource, sys\n"
            "hard = resource.getrlimit(resource.RLIMIT_CORE)[1]\n"
            "resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))\n"
            "os.execv(sys.executable, [sys.executable] + sys.argv[1:])\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", launcher, *self.args[1:]], cwd=self.workdir, env=self.env,
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        return self

    def signal_group(self, sig):
        os.killpg(self.pid, sig)


def start_group_server(workdir, app, *args, workers=2, env=None, wait=True):
    server = GroupServer(workdir, app, args, env=env).start()
    if wait:
        try:
            server.wait_ready(workers)
        except BaseException:
            server.stop()
            raise
    return server


def assert_clean_end(server, status, workdir):
    """The master exited with `status`, no worker was killed by a signal or exited with an error
    code, nothing printed a traceback, and no core file was written."""
    assert server.wait_exit() == status, server.log()
    log = server.log()
    assert not re.search(r"was sent SIG|exited with code|Traceback|race condition", log), log
    assert "Shutting down: Master" in log
    if cores_land_in_cwd():
        assert not [name for name in os.listdir(workdir) if name.startswith("core")], log


class KeepAliveLoad:
    """Client threads sending keep-alive requests until stopped; they reconnect when the server
    closes a connection and stop quietly when it is gone."""

    def __init__(self, port, clients=3):
        self.port = port
        self.stopped = threading.Event()
        self.answered = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        wait_for(lambda: self.answered >= 20, message="the load to start")
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for thread in self.threads:
            thread.join(DEADLINE)

    def _run(self):
        refused = 0
        while not self.stopped.is_set() and refused < 50:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    while not self.stopped.is_set():
                        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                        if not sock.recv(65536):
                            break
                        with self.lock:
                            self.answered += 1
            except OSError:
                refused += 1
                self.stopped.wait(0.01)


def per_round_dir(tmp_path, n):
    path = tmp_path / f"round{n}"
    path.mkdir()
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT, signal.SIGTERM], ids=["INT", "QUIT", "TERM"])
def test_ctrl_c_and_ctrl_backslash_to_the_group(tmp_path, sig):
    """INT and QUIT from a terminal; TERM as a service manager sends it to every process."""
    for n in range(ROUNDS):
        workdir = per_round_dir(tmp_path, n)
        server = start_group_server(workdir, "basic:app", "-w", "2")
        try:
            assert http_request(server.port).status == 200
            server.signal_group(sig)
            assert_clean_end(server, 0, workdir)
        finally:
            server.stop()


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_ctrl_c_to_the_group_under_load(tmp_path, worker_class):
    for n in range(ROUNDS):
        workdir = per_round_dir(tmp_path, n)
        server = start_group_server(workdir, "basic:app", "-w", "2", "-k", worker_class)
        try:
            with KeepAliveLoad(server.port):
                server.signal_group(signal.SIGINT)
                assert_clean_end(server, 0, workdir)
        finally:
            server.stop()


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_ctrl_c_to_the_group_while_the_workers_boot(tmp_path, worker_class):
    """The app takes seconds to import: the workers are still booting when Ctrl-C comes, and
    leave at once instead of after the import (by then the master would have killed them)."""
    for n in range(ROUNDS):
        workdir = per_round_dir(tmp_path, n)
        markers = workdir / "importing"
        markers.mkdir()
        env = {"SLOW_IMPORT_MARKERS": str(markers), "SLOW_IMPORT_SECONDS": "30"}
        server = start_group_server(
            workdir, "slow_import:app", "-w", "2", "-k", worker_class, env=env, wait=False,
        )
        try:
            wait_for(lambda markers=markers: len(os.listdir(markers)) == 2, message="both workers importing")
            server.signal_group(signal.SIGINT)
            assert_clean_end(server, 0, workdir)
        finally:
            server.stop()


def reloaded(server, n):
    """Send HUP to the group; wait for the n-th reload and for the workers before it to leave."""
    before = set(server.booted_workers())
    server.signal_group(signal.SIGHUP)
    wait_for(lambda: server.log().count("Reload complete") == n, message=f"reload {n}")
    wait_for(lambda: not before & set(server.booted_workers()), message="the old workers to leave")


def test_a_closed_terminal_reloads_and_no_worker_is_killed(tmp_path):
    """HUP to the group: the master reloads; the workers ignore their HUP and are retired with
    TERM once the new ones run. Requests keep being answered throughout."""
    server = start_group_server(tmp_path, "basic:app", "-w", "2")
    failures = []
    answered = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                answered.append(http_request(server.port, timeout=10).status)
            except OSError as exc:
                failures.append(exc)

    thread = threading.Thread(target=client, daemon=True)
    try:
        thread.start()
        for n in range(1, 4):
            reloaded(server, n)
        count = len(answered)
        wait_for(lambda: len(answered) > count, message="requests after the reloads")
        stop.set()
        thread.join(DEADLINE)
        assert not failures
        assert set(answered) == {200}
        log = server.log()
        assert not re.search(r"was sent SIG|exited with code|Traceback", log), log
        server.signal_group(signal.SIGTERM)
        assert_clean_end(server, 0, tmp_path)
    finally:
        stop.set()
        server.stop()
