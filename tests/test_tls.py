"""TLS end to end: real corn servers with a certificate made by the `openssl` command line, real TLS
clients from the `ssl` module on 127.0.0.1, under both workers.

Covered: requests, `wsgi.url_scheme`, keep-alive, request bodies, clients that speak plain HTTP or
garbage (the worker survives), stalled handshakes (other clients are served, under gevent), client
certificates, the `ssl_context` hook from a config file (used once per worker), and the master
refusing to start without its certificate files.
"""

import re
import shutil
import signal
import socket
import ssl
import subprocess
import textwrap
from types import SimpleNamespace

import pytest
from conftest import DEADLINE, WORKER_ARGS, RawClient, pid_alive, wait_for

from corn import tls
from corn.config import Config

REQUEST = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


# --- certificates ----------------------------------------------------------------------------


def openssl(workdir, *args):
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command line is needed to make the test certificates; install openssl")
    done = subprocess.run(["openssl", *args], cwd=workdir, capture_output=True, timeout=DEADLINE, check=False)
    if done.returncode != 0:
        pytest.fail(f"openssl {' '.join(args)} failed:\n{done.stderr.decode(errors='replace')}")


def self_signed(workdir, name, subject, *extra):
    openssl(workdir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", subject, *extra)
    return str(workdir / f"{name}.pem"), str(workdir / f"{name}.key")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A server certificate for 127.0.0.1, a client CA, a client certificate it signed, and a client
    certificate nobody vouches for."""
    workdir = tmp_path_factory.mktemp("certs")
    server = self_signed(workdir, "server", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    ca = self_signed(workdir, "client-ca", "/CN=corn test client CA")
    openssl(workdir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=client")
    openssl(workdir, "x509", "-req", "-in", "client.csr", "-CA", "client-ca.pem", "-CAkey", "client-ca.key",
            "-CAcreateserial", "-out", "client.pem", "-days", "2")
    client = (str(workdir / "client.pem"), str(workdir / "client.key"))
    stranger = self_signed(workdir, "stranger", "/CN=stranger")
    return SimpleNamespace(server=server, ca=ca, client=client, stranger=stranger)


# --- servers and clients ---------------------------------------------------------------------


def start_tls(corn_server, certs, worker_class, *args, workers=1, wait=True, cert=None):
    """corn over TLS (with the server certificate unless `cert` is given); waits until it listens
    on https and its workers booted."""
    certfile, keyfile = cert or certs.server
    server = corn_server("basic:app", *WORKER_ARGS[worker_class], "-w", str(workers),
                         "--certfile", certfile, "--keyfile", keyfile, *args, wait=False)
    if wait:
        wait_https_ready(server, workers)
    return server


def wait_https_ready(server, workers):
    def ready():
        if server.proc.poll() is not None:
            raise AssertionError(f"corn exited with {server.proc.returncode}:\n{server.log()}")
        m = re.search(r"Listening at: https://[^ ]*:(\d+) ", server.log())
        if not m:
            return False
        server.port = int(m.group(1))
        return len(server.booted_workers()) >= workers

    wait_for(ready, message=f"corn to listen on https with {workers} worker(s)")


def client_context(certs, cert=None, maximum_version=None):
    """A client that checks the server's certificate and name, as a browser would."""
    context = ssl.create_default_context(cafile=certs.server[0])
    if cert is not None:
        context.load_cert_chain(*cert)
    if maximum_version is not None:
        context.maximum_version = maximum_version
    return context


def tls_connect(server, context):
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    try:
        return context.wrap_socket(raw, server_hostname="127.0.0.1")
    except BaseException:
        raw.close()
        raise


def tls_request(server, context, path="/", method="GET", body=b""):
    """One request on a fresh TLS connection; returns the Response."""
    with tls_connect(server, context) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        return RawClient(sock).read_response()


def refused(server, context):
    """True when the server ends the connection without answering a request."""
    try:
        with tls_connect(server, context) as sock:
            sock.sendall(REQUEST % b"/")
            RawClient(sock).read_response()
    except (ssl.SSLError, ConnectionError, EOFError):
        return True
    return False


def served_pid(server, certs):
    resp = tls_request(server, client_context(certs), "/pid")
    assert resp.status == 200
    return int(resp.body)


# --- requests --------------------------------------------------------------------------------


def test_get_over_tls(corn_server, certs, worker_class):
    server = start_tls(corn_server, certs, worker_class)
    with tls_connect(server, client_context(certs)) as sock:
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
        sock.sendall(REQUEST % b"/")
        resp = RawClient(sock).read_response()
    assert resp.status == 200
    assert resp.body == b"Hello, World!"


def test_url_scheme_is_https(corn_server, certs, worker_class):
    server = start_tls(corn_server, certs, worker_class)
    resp = tls_request(server, client_context(certs), "/environ")
    assert resp.status == 200
    assert "wsgi.url_scheme=https\n" in resp.body.decode("latin-1")


def test_keep_alive_over_tls(corn_server, certs):
    server = start_tls(corn_server, certs, "gevent")
    with tls_connect(server, client_context(certs)) as sock:
        client = RawClient(sock)
        for i in range(3):
            client.send(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 7\r\n\r\nround %d" % i)
            resp = client.read_response()
            assert resp.status == 200
            assert resp.body == b"round %d" % i
            assert resp.header("connection", "").lower() != "close"


def test_sync_worker_closes_after_each_tls_response(corn_server, certs):
    server = start_tls(corn_server, certs, "sync")
    with tls_connect(server, client_context(certs)) as sock:
        client = RawClient(sock)
        client.send(REQUEST % b"/")
        resp = client.read_response()
        assert resp.status == 200
        assert resp.header("connection").lower() == "close"
        assert client.closed_by_peer()


def test_post_body_over_tls(corn_server, certs, worker_class):
    server = start_tls(corn_server, certs, worker_class)
    body = bytes(range(256)) * 1024  # 256 KiB: many TLS records each way
    resp = tls_request(server, client_context(certs), "/echo", "POST", body)
    assert resp.status == 200
    assert resp.body == body


def test_ciphers_setting_is_applied(corn_server, certs, worker_class):
    cipher = "ECDHE-ECDSA-AES128-GCM-SHA256"
    server = start_tls(corn_server, certs, worker_class, "--ciphers", cipher)
    with tls_connect(server, client_context(certs, maximum_version=ssl.TLSVersion.TLSv1_2)) as sock:
        assert sock.cipher()[0] == cipher
        sock.sendall(REQUEST % b"/")
        assert RawClient(sock).read_response().status == 200


# --- clients that do not speak TLS -----------------------------------------------------------


def raw_exchange(server, data):
    """Send `data` over plain TCP; True when the server then closes without an HTTP answer (a TLS
    alert record may come first)."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        try:
            sock.sendall(data)
            for _ in range(64):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            else:
                return False
        except ConnectionError:
            pass
    return not received.startswith(b"HTTP/")


@pytest.mark.parametrize("handshake", ["on-first-read", "on-connect"])
def test_plain_http_and_garbage_do_not_hurt_the_worker(corn_server, certs, worker_class, handshake):
    args = ["--log-level", "debug"] + (["--do-handshake-on-connect"] if handshake == "on-connect" else [])
    server = start_tls(corn_server, certs, worker_class, *args)
    pid = served_pid(server, certs)
    assert raw_exchange(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert raw_exchange(server, bytes(range(256)) * 4)
    assert raw_exchange(server, b"\x16\x03\x01\x00\x05hello")  # a TLS record that is no ClientHello
    assert served_pid(server, certs) == pid
    assert server.booted_workers() == [pid]
    wait_for(lambda: len(re.findall(r"\[DEBUG\] .*\[SSL: ", server.log())) >= 3,
             message="the three failed handshakes logged at debug")
    log = server.log()
    assert "Traceback" not in log
    assert "[ERROR]" not in log


@pytest.mark.parametrize("handshake", ["on-first-read", "on-connect"])
def test_stalled_handshake_does_not_block_other_clients(corn_server, certs, handshake):
    # The long timeout makes a blocked worker fail this test instead of recovering at the deadline.
    args = ["--timeout", "300"] + (["--do-handshake-on-connect"] if handshake == "on-connect" else [])
    server = start_tls(corn_server, certs, "gevent", *args)
    stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) for _ in range(2)]
    try:
        stalled[1].sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, never finished
        for _ in range(3):
            resp = tls_request(server, client_context(certs))
            assert resp.status == 200
    finally:
        for sock in stalled:
            sock.close()


def test_handshake_deadline_closes_a_stalled_client(corn_server, certs):
    server = start_tls(corn_server, certs, "gevent", "--timeout", "2", "--do-handshake-on-connect")
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01")
        assert RawClient(sock).closed_by_peer()
    assert tls_request(server, client_context(certs)).status == 200


# --- client certificates ---------------------------------------------------------------------


def test_client_certificate_required(corn_server, certs, worker_class):
    server = start_tls(corn_server, certs, worker_class, "--ca-certs", certs.ca[0], "--cert-reqs", "2")
    assert refused(server, client_context(certs))
    assert refused(server, client_context(certs, cert=certs.stranger))
    resp = tls_request(server, client_context(certs, cert=certs.client))
    assert resp.status == 200
    assert resp.body == b"Hello, World!"


# --- the ssl_context hook --------------------------------------------------------------------


def write_config(tmp_path, body):
    path = tmp_path / "tls.conf.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_ssl_context_hook_from_config_file(corn_server, certs, worker_class, tmp_path):
    calls = tmp_path / "hook-calls"
    conf = write_config(tmp_path, f"""
        import os
        import ssl

        def ssl_context(config, default_factory):
            with open({str(calls)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            context = default_factory()
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            return context
    """)
    server = start_tls(corn_server, certs, worker_class, "-c", conf, workers=2)

    def callers():
        return sorted(int(line) for line in calls.read_text().split()) if calls.exists() else []

    wait_for(lambda: len(callers()) >= 2, message="both workers to build their context")
    assert refused(server, client_context(certs, maximum_version=ssl.TLSVersion.TLSv1_2))
    for _ in range(6):
        with tls_connect(server, client_context(certs)) as sock:
            assert sock.version() == "TLSv1.3"
            sock.sendall(REQUEST % b"/")
            assert RawClient(sock).read_response().status == 200
    # One context per worker, built in the worker: never per connection, never in the master.
    assert callers() == sorted(server.booted_workers())


def test_hook_context_from_the_unpatched_ssl_module_still_cooperates(corn_server, certs, tmp_path):
    conf = write_config(tmp_path, """
        from ssl import PROTOCOL_TLS_SERVER, SSLContext  # bound in the master, before gevent patches ssl

        def ssl_context(config, default_factory):
            context = SSLContext(PROTOCOL_TLS_SERVER)
            context.load_cert_chain(config.certfile, config.keyfile)
            return context
    """)
    server = start_tls(corn_server, certs, "gevent", "-c", conf, "--timeout", "300")
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as stalled:
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01")
        assert tls_request(server, client_context(certs)).status == 200


def test_hook_that_returns_no_context_stops_the_master(corn_server, certs, worker_class, tmp_path):
    conf = write_config(tmp_path, """
        def ssl_context(config, default_factory):
            return None
    """)
    server = start_tls(corn_server, certs, worker_class, "-c", conf, wait=False)
    assert server.wait_exit() == 3
    log = server.log()
    assert "the ssl_context hook must return an ssl.SSLContext, not NoneType" in log
    assert "Reason: Worker failed to boot." in log


# --- certificate renewal ---------------------------------------------------------------------


def served_certificate(server, cafile):
    with tls_connect(server, ssl.create_default_context(cafile=cafile)) as sock:
        return sock.getpeercert(binary_form=True)


def der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def test_hup_serves_a_renewed_certificate(corn_server, certs, tmp_path):
    live = (str(tmp_path / "live.pem"), str(tmp_path / "live.key"))
    shutil.copy(certs.server[0], live[0])
    shutil.copy(certs.server[1], live[1])
    server = start_tls(corn_server, certs, "gevent", cert=live)
    assert served_certificate(server, certs.server[0]) == der(certs.server[0])
    renewed = self_signed(tmp_path, "renewed", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    shutil.copy(renewed[0], live[0])
    shutil.copy(renewed[1], live[1])
    old_workers = set(server.booted_workers())
    server.signal(signal.SIGHUP)

    def replaced():
        workers = set(server.booted_workers())
        return workers and not workers & old_workers and not any(pid_alive(pid) for pid in old_workers)

    wait_for(replaced, message="the workers to be replaced after HUP")
    assert served_certificate(server, renewed[0]) == der(renewed[0])


# --- refusing to start -----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["certfile", "keyfile"])
def test_missing_certificate_file_refuses_to_start(corn_server, certs, tmp_path, missing):
    files = {"certfile": certs.server[0], "keyfile": certs.server[1]}
    files[missing] = str(tmp_path / "nowhere.pem")
    server = corn_server("basic:app", "--certfile", files["certfile"], "--keyfile", files["keyfile"],
                         wait=False)
    assert server.wait_exit() == 1
    log = server.log()
    assert f'Reason: {missing} "{files[missing]}" does not exist' in log
    assert "Booting worker" not in log
    assert "Traceback" not in log


def test_keyfile_without_certfile_stops_the_master(corn_server, certs):
    server = corn_server("basic:app", "--keyfile", certs.server[1], wait=False)
    assert server.wait_exit() == 3
    assert "keyfile is set but certfile is not" in server.log()


# --- the default context ---------------------------------------------------------------------


def test_default_context_follows_the_settings(certs):
    cfg = Config()
    cfg.set("certfile", certs.server[0])
    cfg.set("keyfile", certs.server[1])
    cfg.set("ca_certs", certs.ca[0])
    cfg.set("cert_reqs", 2)
    context = tls.worker_context(cfg)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "corn test client CA"),),)]
    cfg.set("cert_reqs", 1)
    assert tls.worker_context(cfg).verify_mode == ssl.CERT_OPTIONAL


def test_no_context_without_certificate_settings():
    assert tls.worker_context(Config()) is None
