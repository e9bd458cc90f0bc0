"""The master process with real processes and real signals: worker supervision, shutdown modes,
boot failures, timeouts, TTIN/TTOU, HUP, USR1, USR2, hooks, the pid file, and the listeners."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading

import pytest
from conftest import DEADLINE, CornServer, child_pids, http_request, pid_alive, server_env, wait_for

from corn import glogging
from corn import pidfile as pidfile_module
from corn import sock
from corn.config import Config
from corn.errors import HaltServer


def booted_count(server):
    return len(re.findall(r"Booting worker with pid: (\d+)", server.log()))


def in_background(func, *args, **kwargs):
    """Run func in a thread; returns a dict that gets 'result' or 'error'."""
    outcome = {}

    def target():
        try:
            outcome["result"] = func(*args, **kwargs)
        except Exception as exc:  # the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def finished(outcome):
    outcome["thread"].join(DEADLINE)
    assert not outcome["thread"].is_alive(), "the request did not finish"
    return outcome


def send_marked(server, tmp_path, path, name="marker"):
    """Start `path` in the background; return (outcome, marker) once the app is handling it."""
    marker = tmp_path / name
    outcome = in_background(http_request, server.port, "GET", path, headers=[f"X-Marker: {marker}"])
    wait_for(marker.exists, message=f"the app to start handling {path}")
    return outcome


# --- workers ---------------------------------------------------------------------------------


def test_one_master_and_two_workers(corn_server):
    server = corn_server("basic:app", "-w", "2")
    workers = server.booted_workers()
    assert len(workers) == 2
    assert child_pids(server.pid) == workers
    assert http_request(server.port, "GET", "/").body == b"Hello, World!"
    log = server.log()
    assert f"Listening at: http://127.0.0.1:{server.port} ({server.pid})" in log
    assert "Starting corn " in log
    assert "Using worker: gevent" in log


def test_killed_worker_is_replaced(corn_server):
    server = corn_server("basic:app", "-w", "2")
    victim, survivor = server.booted_workers()
    os.kill(victim, signal.SIGKILL)

    def replaced():
        workers = server.booted_workers()
        return len(workers) == 2 and victim not in workers and survivor in workers

    wait_for(replaced, message="a replacement worker")
    assert f"Worker (pid:{victim}) was sent SIGKILL! Perhaps out of memory?" in server.log()
    for _ in range(4):
        assert http_request(server.port, "GET", "/").status == 200


def test_worker_that_exits_is_replaced(corn_server):
    server = corn_server("basic:app", "-w", "1")
    (first,) = server.booted_workers()
    os.kill(first, signal.SIGTERM)
    wait_for(lambda: server.booted_workers() and first not in server.booted_workers(), message="a new worker")
    assert http_request(server.port, "GET", "/").status == 200


def test_ttin_and_ttou_change_the_worker_count(corn_server):
    server = corn_server("basic:app", "-w", "2")
    first_two = set(server.booted_workers())
    server.signal(signal.SIGTTIN)
    wait_for(lambda: len(server.booted_workers()) == 3, message="three workers after TTIN")
    (newest,) = set(server.booted_workers()) - first_two
    # One signal at a time: the kernel merges a signal sent again while the first is pending.
    server.signal(signal.SIGTTOU)
    wait_for(lambda: len(child_pids(server.pid)) == 2, message="two workers after a TTOU")
    server.signal(signal.SIGTTOU)
    wait_for(lambda: len(child_pids(server.pid)) == 1, message="one worker after two TTOUs")
    assert child_pids(server.pid) == [newest]  # the oldest are retired first
    server.signal(signal.SIGTTOU)  # never below one
    wait_for(lambda: server.log().count("Handling signal: ttou") == 3, message="the third TTOU")
    server.signal(signal.SIGTTIN)
    wait_for(lambda: len(server.booted_workers()) == 2, message="two workers after TTOU at one, then TTIN")
    assert http_request(server.port, "GET", "/").status == 200


def test_hung_worker_is_aborted_and_replaced(corn_server):
    server = corn_server("basic:app", "-w", "1", "-t", "2")
    (hung,) = server.booted_workers()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        client.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: f"WORKER TIMEOUT (pid:{hung})" in server.log(), message="WORKER TIMEOUT")
        wait_for(lambda: not pid_alive(hung), message="the hung worker to die")
        wait_for(lambda: server.booted_workers() and hung not in server.booted_workers(), message="a new one")
    finally:
        client.close()
    assert http_request(server.port, "GET", "/").status == 200


# --- shutdown --------------------------------------------------------------------------------


def test_term_is_graceful(corn_server, tmp_path):
    server = corn_server("marked:app", "-w", "1")
    outcome = send_marked(server, tmp_path, "/sleep?s=2")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    response = finished(outcome).get("result")
    assert response is not None, outcome.get("error")
    assert response.status == 200 and response.body == b"slept"
    log = server.log()
    assert "Handling signal: term" in log
    assert "Shutting down: Master" in log


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_int_and_quit_are_fast(corn_server, tmp_path, sig):
    server = corn_server("marked:app", "-w", "2")
    workers = server.booted_workers()
    outcome = send_marked(server, tmp_path, "/sleep?s=300")
    server.signal(sig)
    assert server.wait_exit() == 0
    assert "result" not in finished(outcome)  # the request was cut short
    assert not any(pid_alive(pid) for pid in workers)


def test_graceful_timeout_ends_in_sigkill(corn_server, tmp_path):
    server = corn_server("marked:app", "-w", "1", "--graceful-timeout", "1")
    (worker,) = server.booted_workers()
    outcome = send_marked(server, tmp_path, "/sleep?s=300")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert "result" not in finished(outcome)
    assert not pid_alive(worker)


def test_int_during_graceful_stop_switches_to_quick(corn_server, tmp_path):
    server = corn_server("marked:app", "-w", "1", "--graceful-timeout", "300")
    outcome = send_marked(server, tmp_path, "/sleep?s=300")
    server.signal(signal.SIGTERM)
    wait_for(lambda: "Handling signal: term" in server.log(), message="TERM handled")
    server.signal(signal.SIGINT)
    assert server.wait_exit() == 0
    assert "Quick shutdown requested" in server.log()
    assert "result" not in finished(outcome)


# --- boot failures ---------------------------------------------------------------------------


def test_app_import_failure_stops_the_master(corn_server):
    server = corn_server("broken_import:app", "-w", "2", wait=False)
    assert server.wait_exit() == 4
    log = server.log()
    assert "ModuleNotFoundError: No module named 'module_that_does_not_exist'" in log
    assert "import module_that_does_not_exist" in log
    assert "Reason: App failed to load." in log
    assert 1 <= booted_count(server) <= 2  # at most one boot attempt per worker slot


def test_an_import_error_shared_by_every_worker_is_shown_once(corn_server):
    server = corn_server("broken_import:app", "-w", "4", wait=False)
    assert server.wait_exit() == 4
    log = server.log()
    assert log.count("ModuleNotFoundError: No module named 'module_that_does_not_exist'") == 1, log
    assert log.count("Failed to import application module 'broken_import'") == 1, log
    assert "Reason: App failed to load." in log


def test_app_import_failure_with_preload(corn_server):
    server = corn_server("broken_import:app", "-w", "2", "--preload", wait=False)
    assert server.wait_exit() == 4
    log = server.log()
    assert "ModuleNotFoundError: No module named 'module_that_does_not_exist'" in log
    assert "Reason: App failed to load." in log
    assert booted_count(server) == 0


def test_missing_app_module(corn_server):
    server = corn_server("no_such_app_module:app", "-w", "3", wait=False)
    assert server.wait_exit() == 4
    assert "No module named 'no_such_app_module'" in server.log()
    assert booted_count(server) <= 3


def write_config(tmp_path, body, name="corn_test.conf.py"):
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def test_worker_boot_failure_stops_the_master(corn_server, tmp_path):
    conf = write_config(tmp_path, "def post_fork(server, worker):\n    raise RuntimeError('no boot today')\n")
    server = corn_server("basic:app", "-w", "2", "-c", conf, wait=False)
    assert server.wait_exit() == 3
    log = server.log()
    assert "RuntimeError: no boot today" in log
    assert "Reason: Worker failed to boot." in log
    assert 1 <= booted_count(server) <= 2


def test_sys_exit_during_app_import_is_a_boot_failure(corn_server, tmp_path):
    (tmp_path / "exits_at_import.py").write_text("import sys\nsys.exit(7)\n")
    server = corn_server("exits_at_import:app", "-w", "2", "--pythonpath", str(tmp_path), wait=False)
    assert server.wait_exit() == 3
    assert "exited with status 7 before it booted" in server.log()
    assert 1 <= booted_count(server) <= 2


# --- HUP -------------------------------------------------------------------------------------


def keep_requesting(port, stop, results):
    while not stop.is_set() and len(results) < 10000:
        try:
            results.append(http_request(port, "GET", "/", timeout=10).status)
        except OSError as exc:
            results.append(exc)


def test_hup_replaces_the_workers_and_keeps_serving(corn_server):
    server = corn_server("basic:app", "-w", "2")
    before = set(server.booted_workers())
    stop, results = threading.Event(), []
    client = threading.Thread(target=keep_requesting, args=(server.port, stop, results), daemon=True)
    client.start()
    try:
        server.signal(signal.SIGHUP)

        def replaced():
            now = set(child_pids(server.pid))
            return len(now) == 2 and not now & before and set(server.booted_workers()) == now

        wait_for(replaced, message="two new workers after HUP")
        wait_for(lambda: len(results) >= 5, message="requests after the reload")
    finally:
        stop.set()
        client.join(DEADLINE)
    assert results and all(status == 200 for status in results), [r for r in results if r != 200][:5]
    assert "Hang up: Master" in server.log()
    assert http_request(server.port, "GET", "/").status == 200


def test_hup_rereads_the_config_file(corn_server, tmp_path):
    conf = write_config(tmp_path, "workers = 1\n")
    server = corn_server("basic:app", "-c", conf)
    with open(conf, "w") as f:
        f.write("workers = 3\n")
    server.signal(signal.SIGHUP)
    wait_for(lambda: len(child_pids(server.pid)) == len(server.booted_workers()) == 3, message="3 workers")
    assert http_request(server.port, "GET", "/").status == 200


def test_hup_with_a_broken_config_keeps_the_workers(corn_server, tmp_path):
    conf = write_config(tmp_path, "workers = 2\n")
    server = corn_server("basic:app", "-c", conf, workers=2)
    before = server.booted_workers()
    with open(conf, "w") as f:
        f.write("workers = = 3\n")
    server.signal(signal.SIGHUP)
    wait_for(lambda: "Reload failed" in server.log(), message="the reload failure")
    assert server.booted_workers() == before
    assert http_request(server.port, "GET", "/").status == 200


def test_hup_with_an_app_that_no_longer_imports_keeps_the_old_workers(corn_server, tmp_path):
    app_dir = tmp_path / "code"
    app_dir.mkdir()
    module = app_dir / "changing_app.py"
    module.write_text("import os\n"
                      "def app(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [b'v1 %d' % os.getpid()]\n")
    server = corn_server("changing_app:app", "-w", "2", "--pythonpath", str(app_dir),
                         env={"PYTHONDONTWRITEBYTECODE": "1"})
    before = server.booted_workers()
    served = set()

    def both_loaded():  # "Booting worker" is logged before the app loads: wait until both answered
        served.add(int(http_request(server.port, "GET", "/").body.split()[1]))
        return served == set(before)

    wait_for(both_loaded, interval=0.01, message="both workers to load v1")
    module.write_text("import module_that_does_not_exist_either\n")
    server.signal(signal.SIGHUP)
    wait_for(lambda: "Reload failed, keeping the old workers" in server.log(), message="the reload failure")
    assert "No module named 'module_that_does_not_exist_either'" in server.log()
    assert server.proc.poll() is None
    assert all(pid_alive(pid) for pid in before)
    assert http_request(server.port, "GET", "/").body.startswith(b"v1 ")

    module.write_text("def app(environ, start_response):\n"
                      "    start_response('200 OK', [('Content-Length', '2')])\n    return [b'v2']\n")
    server.signal(signal.SIGHUP)
    wait_for(lambda: "Reload complete" in server.log(), message="the second reload")
    wait_for(lambda: not any(pid_alive(pid) for pid in before), message="the old workers to retire")
    assert http_request(server.port, "GET", "/").body == b"v2"


# --- USR1, USR2, WINCH -----------------------------------------------------------------------


def test_usr1_reopens_the_error_log(corn_server, tmp_path):
    error_log = tmp_path / "error.log"
    server = CornServer(tmp_path, "basic:app", ["--error-logfile", str(error_log)])
    try:
        server.start()
        wait_for(lambda: error_log.exists() and "Booting worker" in error_log.read_text(), message="boot")
        port = int(re.search(r"Listening at: http://[^ ]*:(\d+) ", error_log.read_text()).group(1))
        os.rename(error_log, tmp_path / "error.log.1")
        server.signal(signal.SIGUSR1)
        wait_for(error_log.exists, message="a new error.log after USR1")
        server.signal(signal.SIGTTIN)
        wait_for(lambda: "Booting worker" in error_log.read_text(), message="a boot logged to the new file")
        assert "Handling signal: usr1" in (tmp_path / "error.log.1").read_text()
        assert http_request(port, "GET", "/").status == 200
    finally:
        server.stop()


def test_winch_is_ignored_without_daemon(corn_server):
    server = corn_server("basic:app", "-w", "2")
    before = server.booted_workers()
    server.signal(signal.SIGWINCH)
    server.signal(signal.SIGTTIN)  # a later signal proves WINCH was handled first
    wait_for(lambda: len(server.booted_workers()) == 3, message="TTIN after WINCH")
    assert set(before) <= set(server.booted_workers())


def test_usr2_starts_a_new_master_on_the_same_socket(corn_server, tmp_path):
    pid_path = tmp_path / "corn.pid"
    server = corn_server("basic:app", "-w", "1", "-p", str(pid_path))
    old_master = server.pid
    server.signal(signal.SIGUSR2)

    def new_master():
        pids = [int(p) for p in re.findall(r"Listening at: \S+ \((\d+)\)", server.log())]
        return next((p for p in pids if p != old_master), None)

    new_pid = wait_for(new_master, message="a re-executed master")
    try:
        assert child_pids(old_master).count(new_pid) == 1
        wait_for(lambda: (tmp_path / "corn.pid.2").exists(), message="the .2 pid file")
        assert int((tmp_path / "corn.pid.2").read_text()) == new_pid
        wait_for(lambda: len(child_pids(new_pid)) == 1, message="the new master's worker")
        server.signal(signal.SIGTERM)
        assert server.wait_exit() == 0
        wait_for(lambda: "Master has been promoted." in server.log(), message="promotion")
        wait_for(lambda: pid_path.exists() and int(pid_path.read_text()) == new_pid, message="pid file moved")
        assert not (tmp_path / "corn.pid.2").exists()
        assert http_request(server.port, "GET", "/").status == 200
    finally:
        if pid_alive(new_pid):
            os.kill(new_pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(new_pid), message="the new master to stop")


# --- hooks -----------------------------------------------------------------------------------

HOOKS_CONFIG = """
import os

def _record(name, *extra):
    line = " ".join([name, str(os.getpid()), *map(str, extra)]) + "\\n"
    fd = os.open({path!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)

def on_starting(server): _record("on_starting")
def when_ready(server): _record("when_ready", server.LISTENERS[0])
def pre_fork(server, worker): _record("pre_fork", worker.age)
def post_fork(server, worker): _record("post_fork", worker.pid)
def post_worker_init(worker): _record("post_worker_init", worker.pid)
def child_exit(server, worker): _record("child_exit", worker.pid)
def worker_exit(server, worker): _record("worker_exit", worker.pid)
def nworkers_changed(server, new, old): _record("nworkers_changed", new, old)
def on_reload(server): _record("on_reload")
def on_exit(server): _record("on_exit")
"""


def test_hooks(corn_server, tmp_path):
    record = tmp_path / "hooks.log"
    conf = write_config(tmp_path, HOOKS_CONFIG.format(path=str(record)))
    server = corn_server("basic:app", "-w", "2", "-c", conf)

    def events():
        return [line.split() for line in record.read_text().splitlines()] if record.exists() else []

    wait_for(lambda: sum(e[0] == "post_worker_init" for e in events()) == 2, message="post_worker_init twice")
    (victim, _) = server.booted_workers()
    os.kill(victim, signal.SIGTERM)
    wait_for(lambda: ["child_exit", str(server.pid), str(victim)] in events(), message="child_exit")
    server.signal(signal.SIGHUP)
    wait_for(lambda: any(e[0] == "on_reload" for e in events()), message="on_reload")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    seen = events()
    names = [e[0] for e in seen]
    master = str(server.pid)
    assert ["on_starting", master] in seen
    assert names.index("on_starting") < names.index("when_ready")
    assert ["nworkers_changed", master, "2", "None"] in seen
    assert ["when_ready", master, f"http://127.0.0.1:{server.port}"] in seen
    assert names.index("when_ready") < names.index("pre_fork")
    assert names[-1] == "on_exit" and seen[-1][1] == master
    assert ["worker_exit", str(victim), str(victim)] in seen
    assert all(e[1] == e[2] for e in seen if e[0] in ("post_fork", "post_worker_init", "worker_exit"))
    master_hooks = ("pre_fork", "child_exit", "on_reload", "nworkers_changed")
    assert all(e[1] == master for e in seen if e[0] in master_hooks)
    assert names.count("pre_fork") == names.count("post_fork") >= 5  # 2 at start, 1 replacement, 2 on HUP


# --- pid file --------------------------------------------------------------------------------


def test_pidfile_written_and_removed(corn_server, tmp_path):
    path = tmp_path / "run" / "corn.pid"
    path.parent.mkdir()
    server = corn_server("basic:app", "-p", str(path))
    assert path.read_text() == f"{server.pid}\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert not path.exists()


def test_stale_pidfile_is_replaced(corn_server, tmp_path):
    path = tmp_path / "corn.pid"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(f"{dead.pid}\n")
    server = corn_server("basic:app", "-p", str(path))
    assert path.read_text() == f"{server.pid}\n"


def test_pidfile_of_a_running_process_refuses_to_start(corn_server, tmp_path):
    path = tmp_path / "corn.pid"
    path.write_text(f"{os.getpid()}\n")
    server = corn_server("basic:app", "-p", str(path), wait=False)
    assert server.wait_exit() == 1
    assert f"Already running on PID {os.getpid()}" in server.log()
    assert path.read_text() == f"{os.getpid()}\n"


def test_pidfile_unit(tmp_path):
    path = str(tmp_path / "x.pid")
    first = pidfile_module.Pidfile(path)
    first.create(os.getpid())
    assert first.validate() == os.getpid()
    other = pidfile_module.Pidfile(path)
    other.pid = 12345678
    other.unlink()  # not its pid: the file stays
    assert os.path.exists(path)
    first.rename(path + ".new")
    assert not os.path.exists(path) and open(path + ".new").read() == f"{os.getpid()}\n"
    first.unlink()
    assert not os.path.exists(path + ".new")
    with open(path, "w") as f:
        f.write("not a pid")
    assert pidfile_module.Pidfile(path).validate() is None
    with pytest.raises(RuntimeError, match="doesn't exist"):
        pidfile_module.Pidfile(str(tmp_path / "missing" / "x.pid")).create(os.getpid())


# --- listeners -------------------------------------------------------------------------------


@pytest.fixture
def log(tmp_path):
    """A real Logger writing the error log to a file; `log.messages()` reads it back."""
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    cfg.set("loglevel", "debug")
    logger = glogging.Logger(cfg)

    def messages():
        for handler in logger.error_log.handlers:
            handler.flush()
        return [line.split("] ", 3)[-1] for line in (tmp_path / "error.log").read_text().splitlines()]

    logger.messages = messages
    yield logger
    for handler in list(logger.error_log.handlers):
        logger.error_log.removeHandler(handler)
        handler.close()


def config(**settings):
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return cfg


def test_port_zero_reports_the_real_port(log):
    (listener,) = sock.create_sockets(config(bind=["127.0.0.1:0"]), log)
    try:
        port = listener.getsockname()[1]
        assert port != 0
        assert str(listener) == f"http://127.0.0.1:{port}"
        assert listener.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert not listener.sock.getblocking()
        assert os.get_inheritable(listener.fileno())
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        sock.close_sockets([listener])


def test_ipv6_listener(log):
    (listener,) = sock.create_sockets(config(bind=["[::1]:0"]), log)
    try:
        assert str(listener) == f"http://[::1]:{listener.getsockname()[1]}"
        socket.create_connection(("::1", listener.getsockname()[1]), timeout=5).close()
    finally:
        sock.close_sockets([listener])


def test_unix_listener_replaces_a_stale_socket_and_is_unlinked(tmp_path, log):
    path = str(tmp_path / "corn.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens
    (listener,) = sock.create_sockets(config(bind=[f"unix:{path}"], umask=0o077), log)
    try:
        assert str(listener) == f"unix:{path}"
        assert os.stat(path).st_mode & 0o777 == 0o700
        client = socket.socket(socket.AF_UNIX)
        client.connect(path)
        client.close()
    finally:
        sock.close_sockets([listener], unlink=True)
    assert not os.path.exists(path)


def test_unix_listener_refuses_a_regular_file(tmp_path, log):
    path = tmp_path / "not-a-socket"
    path.write_text("data")
    with pytest.raises(HaltServer) as info:
        sock.create_sockets(config(bind=[f"unix:{path}"]), log)
    assert "is not a socket" in info.value.reason
    assert path.read_text() == "data"


def test_unix_listener_refuses_a_live_socket(tmp_path, monkeypatch, log):
    monkeypatch.setattr(sock, "BIND_RETRY_DELAY", 0.01)
    path = str(tmp_path / "live.sock")
    live = socket.socket(socket.AF_UNIX)
    live.bind(path)
    live.listen(1)
    try:
        with pytest.raises(HaltServer) as info:
            sock.create_sockets(config(bind=[f"unix:{path}"]), log)
        assert "Can't connect to unix:" in info.value.reason
    finally:
        live.close()


def test_address_in_use_is_retried_then_fails(monkeypatch, log):
    monkeypatch.setattr(sock, "BIND_RETRY_DELAY", 0.01)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        with pytest.raises(HaltServer) as info:
            sock.create_sockets(config(bind=[f"127.0.0.1:{port}"]), log)
    finally:
        busy.close()
    assert info.value.exit_status == 1
    assert f"Can't connect to 127.0.0.1:{port}" in info.value.reason
    assert log.messages().count(f"Connection in use: 127.0.0.1:{port}") == sock.BIND_ATTEMPTS


def test_fd_listener_adopts_an_inherited_socket(log):
    original = socket.socket()
    original.bind(("127.0.0.1", 0))
    original.listen(5)
    fd = os.dup(original.fileno())
    original.close()
    (listener,) = sock.create_sockets(config(bind=[f"fd://{fd}"]), log)
    try:
        assert listener.fileno() == fd
        assert str(listener) == f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        sock.close_sockets([listener])


def test_reuse_port_reserves_the_address_and_workers_listen(log):
    cfg = config(bind=["127.0.0.1:0"], reuse_port=True)
    (reserved,) = sock.create_sockets(cfg, log)
    own = []
    try:
        assert not reserved.listening
        assert reserved.sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        port = reserved.getsockname()[1]
        own = [sock.worker_sockets([reserved], cfg, log)[0] for _ in range(2)]
        assert [lnr.getsockname()[1] for lnr in own] == [port, port]
        assert all(lnr.listening for lnr in own)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        sock.close_sockets([reserved] + own)


def test_missing_certfile_is_refused(tmp_path, log):
    with pytest.raises(HaltServer, match="does not exist"):
        sock.create_sockets(config(bind=["127.0.0.1:0"], certfile=str(tmp_path / "nope.pem")), log)


def test_reuse_port_server_serves_from_every_worker(corn_server):
    server = corn_server("basic:app", "-w", "2", "--reuse-port")
    pids = set()

    def both_served():
        pids.add(int(http_request(server.port, "GET", "/pid").body))
        return len(pids) == 2

    wait_for(both_served, interval=0.01, message="both workers to answer")
    assert pids == set(server.booted_workers())


def test_bind_failure_is_one_clear_error(corn_server, tmp_path):
    path = tmp_path / "plain-file"
    path.write_text("x")
    server = CornServer(tmp_path, "basic:app", bind=f"unix:{path}")
    try:
        server.start()
        assert server.wait_exit() == 1
        assert f"Can't connect to unix:{path}" in server.log()
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_unix_socket_server(tmp_path):
    path = tmp_path / "corn.sock"
    server = CornServer(tmp_path, "basic:app", bind=f"unix:{path}")
    try:
        server.start()
        wait_for(lambda: f"Listening at: unix:{path}" in server.log(), message="the unix listener")
        wait_for(server.booted_workers, message="a worker")
        client = socket.socket(socket.AF_UNIX)
        client.settimeout(DEADLINE)
        client.connect(str(path))
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
        client.close()
        assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"Hello, World!")
        server.signal(signal.SIGTERM)
        assert server.wait_exit() == 0
        assert not path.exists()
    finally:
        server.stop()


def test_systemd_socket_activation_and_readiness(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    notify_path = str(tmp_path / "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(DEADLINE)
    env = server_env({"NOTIFY_SOCKET": notify_path, "LISTEN_FDS": "1"})
    # As systemd does: the socket on fd 3, LISTEN_PID naming the corn process (exec keeps the pid).
    launcher = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); os.environ['LISTEN_PID'] = str(os.getpid()); "
        "os.execv(sys.executable, [sys.executable, '-m', 'corn', '-b', '127.0.0.1:1', 'basic:app'])"
    )
    log_path = tmp_path / "corn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", launcher, str(listener.fileno())],
                                env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=[listener.fileno()],
                                cwd=str(tmp_path))
    try:
        message = notify.recv(4096).decode()
        assert message.startswith("READY=1\n")
        wait_for(lambda: "Booting worker" in log_path.read_text(), message="a worker")
        listener.close()  # only corn holds the socket now
        assert http_request(port, "GET", "/").status == 200
        assert f"Listening at: http://127.0.0.1:{port} ({proc.pid})" in log_path.read_text()
        proc.terminate()
        assert notify.recv(4096).decode().startswith("STOPPING=1")
    finally:
        proc.terminate()
        proc.wait(DEADLINE)
        notify.close()
    assert proc.returncode == 0


def test_sd_notify_without_systemd_is_silent(monkeypatch, log):
    from corn import systemd

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    systemd.sd_notify("READY=1", log)
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/dir/notify.sock")
    systemd.sd_notify("READY=1", log)  # failures never raise
    assert "Exception while invoking sd_notify()" in log.messages()
    assert systemd.listen_fds() == 0


def test_server_software_and_process_titles(corn_server):
    server = corn_server("basic:app", "-w", "1", "-n", "titled")
    environ = http_request(server.port, "GET", "/environ").body.decode()
    assert "SERVER_SOFTWARE=corn/" in environ
    with open(f"/proc/{server.pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"corn: master [titled]"
    (worker,) = server.booted_workers()
    with open(f"/proc/{worker}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"corn: worker [titled]"



# --- preload, max_requests, daemon -----------------------------------------------------------

PID_APP = """import os
LOADED_IN = os.getpid()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %d" % (LOADED_IN, os.getpid())]
"""


@pytest.mark.parametrize("preload", [True, False])
def test_preload_loads_the_app_in_the_master(corn_server, tmp_path, preload):
    (tmp_path / "pid_app.py").write_text(PID_APP)
    args = ["-w", "2", "--pythonpath", str(tmp_path)] + (["--preload"] if preload else [])
    server = corn_server("pid_app:app", *args)
    loaded_in, served_by = map(int, http_request(server.port, "GET", "/").body.split())
    assert served_by in server.booted_workers()
    assert loaded_in == (server.pid if preload else served_by)


def test_max_requests_worker_is_replaced(corn_server):
    server = corn_server("basic:app", "-w", "1", "--max-requests", "2")
    (first,) = server.booted_workers()
    seen = set()

    def replaced():
        seen.add(int(http_request(server.port, "GET", "/pid").body))
        return len(seen) > 1

    wait_for(replaced, interval=0.05, message="a second worker after max_requests")
    assert first in seen
    assert "Autorestarting worker after current request." in server.log()
    assert server.proc.poll() is None


def test_daemon_mode_and_winch(tmp_path):
    error_log, pid_path = tmp_path / "error.log", tmp_path / "corn.pid"
    args = [sys.executable, "-m", "corn", "-D", "-b", "127.0.0.1:0", "-w", "2",
            "--error-logfile", str(error_log), "-p", str(pid_path), "basic:app"]
    launcher = subprocess.run(args, env=server_env(), cwd=str(tmp_path), timeout=DEADLINE,
                              stdin=subprocess.DEVNULL, capture_output=True)
    assert launcher.returncode == 0
    master = wait_for(lambda: pid_path.exists() and int(pid_path.read_text() or 0), message="the pid file")
    try:
        assert pid_alive(master)
        wait_for(lambda: len(child_pids(master)) == error_log.read_text().count("Booting worker") == 2,
                 message="two workers")
        port = int(re.search(r"Listening at: http://[^ ]*:(\d+) ", error_log.read_text()).group(1))
        assert http_request(port, "GET", "/").status == 200
        with open(f"/proc/{master}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        session = int(fields[3])
        assert session != os.getsid(0)  # a session of its own: detached from the terminal
        assert session != master  # not its leader, so it can never acquire a terminal again
        os.kill(master, signal.SIGWINCH)
        wait_for(lambda: not child_pids(master), message="WINCH to stop every worker")
        assert "graceful stop of workers" in error_log.read_text()
        os.kill(master, signal.SIGTTIN)
        wait_for(lambda: len(child_pids(master)) == 1, message="a worker after TTIN")
        assert http_request(port, "GET", "/").status == 200
    finally:
        if pid_alive(master):
            os.kill(master, signal.SIGTERM)
        wait_for(lambda: not pid_alive(master), message="the daemon to stop")
    assert not pid_path.exists()


def test_capture_output_sends_prints_to_the_error_log(corn_server, tmp_path):
    (tmp_path / "printing_app.py").write_text(
        "print('printed while importing the app')\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'ok']\n"
    )
    error_log = tmp_path / "error.log"
    server = CornServer(tmp_path, "printing_app:app",
                        ["--capture-output", "--error-logfile", str(error_log), "--pythonpath", str(tmp_path)])
    try:
        server.start()
        wait_for(lambda: error_log.exists() and "printed while importing the app" in error_log.read_text(),
                 message="the print in the error log")
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            assert "printed while importing the app" not in f.read()  # not on the server's stdout
    finally:
        server.stop()


def unix_get(path):
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(DEADLINE)
    try:
        client.connect(str(path))
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
        return data
    finally:
        client.close()


def test_hup_rebinds_changed_addresses(tmp_path):
    first, second = tmp_path / "first.sock", tmp_path / "second.sock"
    conf = write_config(tmp_path, f"bind = ['unix:{first}']\n")
    log_path = tmp_path / "corn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "corn", "-c", conf, "basic:app"], env=server_env(),
                                cwd=str(tmp_path), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: "Booting worker" in log_path.read_text(), message="a worker")
        assert unix_get(first).endswith(b"Hello, World!")
        with open(conf, "w") as f:
            f.write(f"bind = ['unix:{second}', 'unix:{first}']\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: log_path.read_text().count("Reload complete") == 1, message="the first reload")
        assert unix_get(first).endswith(b"Hello, World!")
        assert unix_get(second).endswith(b"Hello, World!")
        with open(conf, "w") as f:
            f.write(f"bind = ['unix:{second}']\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: log_path.read_text().count("Reload complete") == 2, message="the second reload")
        assert not first.exists()
        assert unix_get(second).endswith(b"Hello, World!")
    finally:
        proc.terminate()
        proc.wait(DEADLINE)
    assert proc.returncode == 0
    assert not second.exists()
