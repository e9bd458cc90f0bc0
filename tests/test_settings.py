"""The settings registry, its validators and Config, checked against the installed gunicorn 27.

gunicorn is the oracle: every one of its settings must exist in corn with the same CLI flags,
argparse shape and default, apart from the reviewed `DIFFERENT_DEFAULTS` below, and a sample of
values must be accepted or refused alike.
"""

import ipaddress
import logging
import os
import re
import ssl
import subprocess
import sys
import warnings

import gunicorn.config as gconfig
import gunicorn.util as gutil
import pytest

import corn
from corn import settings, validators
from corn.config import Config
from corn.peers import ANY_NETWORK, address_allowed
from corn.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(corn.__file__)))  # where corn is imported from
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout holding docs/

# Reviewed: the only defaults in which corn differs from gunicorn 27.0.1, and why.
DIFFERENT_DEFAULTS = {
    "config": "corn reads ./corn.conf.py first (and ./gunicorn.conf.py when it is absent)",
    "worker_class": "corn is a drop-in for `gunicorn -k gevent`: gevent is the default worker",
    "logger_class": "corn's own logger, corn.glogging.Logger",
    "default_proc_name": "processes are named corn",
    "control_socket": "named after corn (corn.ctl); corn opens no control socket anyway",
}

GUNICORN = gconfig.make_settings()


def gunicorn_value(name, raw):
    """What gunicorn's validator makes of `raw`, or the exception class it raises."""
    setting = gconfig.make_settings()[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gunicorn warns about a glob that matches nothing yet
            setting.set(raw)
    except Exception as exc:
        return type(exc)
    return setting.get()


def corn_value(name, raw):
    cfg = Config(environ={})
    try:
        cfg.set(name, raw)
    except ConfigError:
        return ConfigError
    return cfg.get(name)


# --- parity with gunicorn -------------------------------------------------------------------


# corn's own settings, each with the reason it exists; everything else is gunicorn's.
CORN_ONLY = {
    "header_timeout": "a deadline for the whole request head, against clients that trickle it",
    "block_threshold": "logs a greenlet that holds the gevent event loop too long, with its stack",
    "metrics_bind": "Prometheus metrics served by the master from the workers' shared-memory counters",
    "access_log_json": "access log lines as JSON objects, escaped whatever bytes the request carried",
}


def test_every_gunicorn_setting_exists_and_nothing_else():
    assert set(settings.BY_NAME) - set(CORN_ONLY) == set(GUNICORN)
    assert set(CORN_ONLY) <= set(settings.BY_NAME)
    assert len(settings.SETTINGS) == len(settings.BY_NAME)


@pytest.mark.parametrize("name", sorted(GUNICORN))
def test_cli_flags_and_argparse_shape_match_gunicorn(name):
    ours, theirs = settings.BY_NAME[name], GUNICORN[name]
    assert ours.cli == tuple(theirs.cli or ())
    assert ours.section == theirs.section
    assert ours.action == (theirs.action or "store")
    assert (ours.nargs, ours.const) == (theirs.nargs, theirs.const)
    if theirs.meta:
        assert ours.meta == theirs.meta


@pytest.mark.parametrize("name", sorted(GUNICORN))
def test_defaults_match_gunicorn(name):
    # Both resolved in this process's environment: gunicorn at import, corn now.
    ours = Config().get(name)
    theirs = GUNICORN[name].get()
    if name in DIFFERENT_DEFAULTS:
        assert ours != theirs
    elif callable(theirs):
        assert callable(ours) and ours.__name__ == theirs.__name__
        assert validators.arity(ours) == gutil.get_arity(theirs)
    else:
        assert ours == theirs


def test_the_reviewed_defaults_are_corns_own():
    cfg = Config(environ={"HOME": "/home/someone"})
    assert cfg.get("worker_class") == "gevent"
    assert cfg.default_proc_name == "corn"
    assert cfg.logger_class == "corn.glogging.Logger"
    assert cfg.config == "./corn.conf.py"
    assert cfg.worker_tmp_dir is None
    assert cfg.control_socket == "/home/someone/.corn/corn.ctl"


SAMPLES = [
    ("workers", "4"),
    ("workers", "0x10"),
    ("workers", 3),
    ("workers", "-1"),
    ("workers", "abc"),
    ("workers", True),
    ("workers", 2.5),
    ("timeout", "0"),
    ("keepalive", "5"),
    ("backlog", " 64 "),
    ("reload", True),
    ("reload", "true"),
    ("reload", "FALSE"),
    ("reload", "maybe"),
    ("reload", 1),
    ("preload_app", None),
    ("bind", "127.0.0.1:9000"),
    ("bind", ["a:1", "unix:/tmp/s"]),
    ("raw_env", "A=1"),
    ("raw_env", ["A=1", "B=x=y"]),
    ("forwarded_allow_ips", "10.0.0.0/8, 192.168.1.1"),
    ("forwarded_allow_ips", "*"),
    ("forwarded_allow_ips", "10.0.0.1/8"),
    ("forwarded_allow_ips", "nonsense"),
    ("proxy_allow_ips", "::1,127.0.0.1"),
    ("forwarder_headers", "SCRIPT_NAME, PATH_INFO,REMOTE_USER"),
    ("proxy_protocol", "v1"),
    ("proxy_protocol", "TRUE"),
    ("proxy_protocol", True),
    ("proxy_protocol", "0"),
    ("proxy_protocol", "none"),
    ("proxy_protocol", "v3"),
    ("header_map", "Refuse"),
    ("header_map", "dangerous"),
    ("header_map", "keep"),
    ("user", "0"),
    ("user", 0),
    ("user", "root"),
    ("user", "no-such-user-here"),
    ("group", "0"),
    ("group", "root"),
    ("group", "no-such-group-here"),
    ("umask", 18),
    ("umask", "0x12"),
    ("secure_scheme_headers", {"X-PROTO": "https"}),
    ("secure_scheme_headers", "x"),
    ("http_protocols", "h2,h1"),
    ("http_protocols", "h3"),
    ("http_protocols", "h1,h1"),
    ("http2_cleartext", "both"),
    ("http2_cleartext", "sideways"),
    ("http2_cleartext", True),
    ("http2_max_frame_size", "16383"),
    ("http2_max_frame_size", "16384"),
    ("http2_max_concurrent_streams", "0"),
    ("http2_initial_window_size", str(2**31)),
    ("asgi_loop", "UVLOOP"),
    ("asgi_loop", "trio"),
    ("asgi_lifespan", "on"),
    ("http_parser", "python"),
    ("http_parser", "turbo"),
    ("reload_engine", "poll"),
    ("reload_engine", "fsevents"),
    ("statsd_host", "localhost:9125"),
    ("statsd_host", "localhost"),
    ("statsd_host", "unix:8125"),
    ("statsd_host", "unix:///run/statsd.sock"),
    ("chdir", "/"),
    ("chdir", "/no/such/directory"),
    ("limit_request_field_size", "0"),
    ("limit_request_line", "8190"),
    ("worker_class", "sync"),
    ("worker_class", "myapp.workers.CustomWorker"),
    ("wsgi_app", " myapp:app "),
    ("pidfile", None),
    ("reload_extra_files", "/"),
    ("reload_extra_files", "/no/such/file"),
    ("reload_extra_files", "*.html"),
]


@pytest.mark.parametrize("name, raw", SAMPLES)
def test_values_mean_what_they_mean_to_gunicorn(name, raw):
    theirs, ours = gunicorn_value(name, raw), corn_value(name, raw)
    if isinstance(theirs, type) and issubclass(theirs, Exception):
        assert ours is ConfigError
    else:
        assert ours == theirs


# Reviewed: values gunicorn accepts and corn refuses at start-up, because they cannot work.
STRICTER = [
    ("loglevel", "loud"),  # gunicorn silently logs at info
    ("cert_reqs", "3"),  # not an ssl.VerifyMode
    ("bind", "::1"),  # gunicorn fails later, at bind time
    ("bind", "host:port"),
    ("raw_env", "NOEQUALS"),  # gunicorn fails later, in the worker
    ("worker_class", "gthreads"),  # no such worker: gunicorn fails when the arbiter starts
]


@pytest.mark.parametrize("name, raw", STRICTER)
def test_corn_refuses_early_what_cannot_work(name, raw):
    assert corn_value(name, raw) is ConfigError


def test_umask_reads_a_leading_zero_as_octal():
    assert corn_value("umask", "022") == 0o22
    assert corn_value("umask", "0o22") == 0o22
    assert corn_value("umask", "18") == 18
    assert corn_value("control_socket_mode", "0660") == 0o660
    assert corn_value("umask", "zz") is ConfigError


# --- error messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, raw, expected",
    [
        ("workers", "abc", "Invalid value for workers: 'abc' (expected a positive integer or 0)"),
        ("reload", "maybe", "Invalid value for reload: 'maybe' (expected true or false)"),
        ("header_map", "keep", "for header_map: 'keep' (expected one of drop, refuse, dangerous)"),
        ("user", "no-such-user-here", "no such user; expected a user name or a numeric uid"),
        ("bind", "::1", "IPv6 addresses need brackets"),
        ("forwarded_allow_ips", "10.0.0.1/8", "'10.0.0.1/8' is not an IP address or network"),
        ("worker_class", "gthreads",
         "expected gevent, gthread, sync, eventlet, tornado or a dotted path to a Worker class"),
    ],
)
def test_errors_are_one_line_saying_what_is_allowed(name, raw, expected):
    with pytest.raises(ConfigError) as info:
        Config(environ={}).set(name, raw)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Invalid value for {name}: ")
    assert expected in message


def test_the_label_names_the_source():
    with pytest.raises(ConfigError, match=r"^Invalid value for --workers in CORN_CMD_ARGS: 'x' "):
        Config(environ={}).set("workers", "x", label="--workers in CORN_CMD_ARGS")


def test_an_unknown_name_is_refused_with_the_closest_one():
    with pytest.raises(ConfigError, match=r"unknown setting 'wokers'; did you mean 'workers'\?"):
        Config(environ={}).set("wokers", 2)


# --- hooks ----------------------------------------------------------------------------------

HOOK_ARITY = {
    "on_starting": 1,
    "on_reload": 1,
    "when_ready": 1,
    "pre_fork": 2,
    "post_fork": 2,
    "post_worker_init": 1,
    "worker_int": 1,
    "worker_abort": 1,
    "pre_exec": 1,
    "pre_request": 2,
    "child_exit": 2,
    "worker_exit": 2,
    "nworkers_changed": 3,
    "on_exit": 1,
    "ssl_context": 2,
    "on_dirty_starting": 1,
    "dirty_post_fork": 2,
    "dirty_worker_init": 1,
    "dirty_worker_exit": 2,
}


def function_of(arity):
    names = ", ".join(f"a{i}" for i in range(arity))
    namespace = {}
    exec(f"def hook({names}):\n    return ({names}{',' if arity == 1 else ''})", namespace)
    return namespace["hook"]


@pytest.mark.parametrize("name, arity", sorted(HOOK_ARITY.items()))
def test_hooks_take_exactly_their_arity(name, arity):
    assert settings.BY_NAME[name].arity == (arity,)
    cfg = Config(environ={})
    cfg.set(name, function_of(arity))
    assert getattr(cfg, name)(*range(arity)) == tuple(range(arity))
    for wrong in (arity - 1, arity + 1):
        with pytest.raises(ConfigError, match=rf"takes {wrong} positional argument"):
            cfg.set(name, function_of(wrong))
    with pytest.raises(ConfigError, match="expected a callable"):
        cfg.set(name, 42)


def test_hooks_may_be_given_as_import_paths():
    cfg = Config(environ={})
    cfg.set("when_ready", "os.path.isdir")
    assert cfg.when_ready is os.path.isdir
    with pytest.raises(ConfigError, match="has no 'nothing'"):
        cfg.set("when_ready", "os.path.nothing")
    with pytest.raises(ConfigError, match="cannot import"):
        cfg.set("when_ready", "no_such_module_anywhere.hook")


def test_post_request_takes_two_three_or_four_arguments():
    seen = []
    cfg = Config(environ={})
    cfg.set("post_request", lambda worker, req: seen.append((worker, req)))
    cfg.post_request("w", "r", "env", "resp")
    cfg.set("post_request", lambda worker, req, environ: seen.append((worker, req, environ)))
    cfg.post_request("w", "r", "env", "resp")
    cfg.set("post_request", lambda worker, req, environ, resp: seen.append((worker, req, environ, resp)))
    cfg.post_request("w", "r", "env", "resp")
    assert seen == [("w", "r"), ("w", "r", "env"), ("w", "r", "env", "resp")]
    for wrong in (1, 5):
        with pytest.raises(ConfigError, match="expected a callable taking 2 or 3 or 4 arguments"):
            cfg.set("post_request", function_of(wrong))


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class HookWorker:
    """What a hook receives as `worker`: an object with a `log`."""

    def __init__(self, log):
        self.log = log


class HookRequest:
    method = "POST"
    path = "/submit"


def test_default_hooks_are_real_functions():
    cfg = Config(environ={})
    log = logging.getLogger("corn.test.pre_request")
    log.setLevel(logging.DEBUG)
    recorder = Recorder()
    log.addHandler(recorder)
    try:
        assert cfg.pre_request(HookWorker(log), HookRequest()) is None
    finally:
        log.removeHandler(recorder)
    assert recorder.messages == ["POST /submit"]
    assert cfg.post_fork("server", "worker") is None
    assert cfg.nworkers_changed("server", 2, None) is None
    assert cfg.ssl_context(cfg, lambda: "the default context") == "the default context"


# --- unsupported and removed settings -------------------------------------------------------


def test_defaults_give_no_warnings():
    assert Config(environ={}).warnings == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("http_parser", "fast"),
        ("protocol", "uwsgi"),
        ("uwsgi_allow_ips", "*"),
        ("http_protocols", "h2,h1"),
        ("http2_max_frame_size", 32768),
        ("asgi_loop", "uvloop"),
        ("root_path", "/api"),
        ("paste", "app.ini"),
        ("raw_paste_global_conf", ["A=1"]),
        ("spew", True),
        ("dirty_workers", 2),
        ("dirty_apps", ["m:C"]),
        ("dirty_post_fork", function_of(2)),
        ("control_socket", "/run/x.ctl"),
        ("control_socket_mode", 0o660),
        ("websocket_max_message_size", 1),
        ("ssl_version", "TLSv1_2"),
    ],
)
def test_an_unsupported_setting_away_from_its_default_warns_once(name, value):
    assert name in settings.UNSUPPORTED
    cfg = Config(environ={})
    cfg.set(name, value)
    cfg.set(name, value)
    assert len(cfg.warnings) == 1
    warning = cfg.warnings[0]
    assert warning.startswith(f"{name} = ") and "has no effect" in warning and "\n" not in warning


@pytest.mark.parametrize(
    "name, value",
    [
        ("threads", 1),
        ("http_parser", "python"),
        ("http_parser", "auto"),
        ("protocol", "http"),
        ("http_protocols", "h1"),
        ("control_socket_disable", True),
    ],
)
def test_values_corn_implements_do_not_warn(name, value):
    cfg = Config(environ={})
    cfg.set(name, value)
    assert cfg.warnings == []


def test_setting_back_to_the_default_clears_the_warning():
    cfg = Config(environ={})
    cfg.set("spew", True)
    cfg.set("spew", False)
    assert cfg.warnings == []


@pytest.mark.parametrize(
    "worker_class, threads, chosen, warns",
    [
        (None, 1, "gevent", False),
        (None, 4, "gthread", False),  # as gunicorn: more threads make the default threaded
        ("sync", 4, "gthread", False),
        ("sync", 1, "sync", False),
        ("gthread", 1, "gthread", False),
        ("gevent", 4, "gevent", True),  # named: kept, and the threads are said to do nothing
    ],
)
def test_threads_choose_the_worker_class_as_in_gunicorn(worker_class, threads, chosen, warns):
    cfg = Config(environ={})
    if worker_class is not None:
        cfg.set("worker_class", worker_class)
    cfg.set("threads", threads)
    assert cfg.worker_class_str == chosen
    assert cfg.worker_class.__module__ == f"corn.workers.{'ggevent' if chosen == 'gevent' else chosen}"
    expected = [f"threads = {threads} has no effect: the gevent worker is not threaded "
                "(use -k gthread, or worker_connections with gevent)"] if warns else []
    assert cfg.warnings == expected


def test_removed_settings_are_accepted_with_a_warning():
    cfg = Config(environ={})
    cfg.set("tolerate_dangerous_framing", True)
    assert len(cfg.warnings) == 1
    assert "tolerate_dangerous_framing" in cfg.warnings[0] and "removed" in cfg.warnings[0]


# --- Config ---------------------------------------------------------------------------------


def test_config_is_read_only_except_through_set():
    cfg = Config(environ={})
    with pytest.raises(AttributeError, match="read-only"):
        cfg.workers = 4
    with pytest.raises(AttributeError, match="no setting named 'wrokers'"):
        getattr(cfg, "wrokers")  # noqa: B009 (the attribute access is what is tested)
    cfg.set("workers", "4")
    assert cfg.workers == 4


def test_settings_mapping_has_gunicorns_shape():
    cfg = Config(environ={})
    cfg.set("backlog", 128)
    assert cfg.settings["backlog"].value == 128
    assert cfg.settings["backlog"].get() == 128
    assert set(cfg.settings) - set(CORN_ONLY) == set(GUNICORN)
    assert list(cfg.to_dict()) == [s.name for s in settings.SETTINGS]


def test_environment_defaults():
    cfg = Config(environ={"PORT": "5000", "WEB_CONCURRENCY": "3", "FORWARDED_ALLOW_IPS": "10.0.0.0/8"})
    assert cfg.bind == ["0.0.0.0:5000"]
    assert cfg.address == [("0.0.0.0", 5000)]
    assert cfg.workers == 3
    assert cfg.forwarded_allow_ips == ["10.0.0.0/8"]
    empty = Config(environ={})
    assert (empty.bind, empty.workers) == (["127.0.0.1:8000"], 1)
    assert empty.forwarded_allow_ips == ["127.0.0.1", "::1"]
    with pytest.raises(ConfigError, match=r"the default of workers .*'many'"):
        Config(environ={"WEB_CONCURRENCY": "many"})


@pytest.mark.parametrize(
    "bind, parsed",
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("localhost", ("localhost", 8000)),
        ("LocalHost:81", ("localhost", 81)),
        (":9000", ("", 9000)),
        ("", ("0.0.0.0", 8000)),
        ("tcp://10.1.2.3:99", ("10.1.2.3", 99)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::]", ("::", 8000)),
        ("[FE80::1]:1", ("fe80::1", 1)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("unix:/run/corn.sock", "/run/corn.sock"),
        ("unix:///run/corn.sock", "/run/corn.sock"),
        ("unix:relative.sock", "relative.sock"),
        ("fd://3", 3),
    ],
)
def test_bind_forms(bind, parsed):
    cfg = Config(environ={})
    cfg.set("bind", [bind])
    assert cfg.address == [parsed]
    assert gutil.parse_address(bind) == parsed  # the same as gunicorn


@pytest.mark.parametrize(
    "bind", ["::1", "host:http", "host:70000", "[::1", "[::1]x", "[nothost]:80", "fd://x", "fd://-1", "unix:"]
)
def test_bad_binds_are_refused(bind):
    with pytest.raises(ConfigError, match="expected HOST, HOST:PORT"):
        Config(environ={}).set("bind", bind)


def test_derived_values():
    cfg = Config(environ={})
    assert cfg.is_ssl is False
    cfg.set("certfile", "cert.pem")
    assert cfg.is_ssl is True
    assert cfg.ssl_options["certfile"] == "cert.pem"
    assert set(cfg.ssl_options) == {s.name for s in settings.SETTINGS if s.section == "SSL"}
    assert cfg.ssl_options["cert_reqs"] == ssl.CERT_NONE
    cfg.set("raw_env", ["A=1", "B=x=y", "C="])
    assert cfg.env == {"A": "1", "B": "x=y", "C": ""}
    cfg.set("user", "0")
    cfg.set("group", 0)
    assert (cfg.uid, cfg.gid) == (0, 0)
    assert cfg.proc_name == "corn"
    cfg.set("default_proc_name", "myapp:app")
    assert cfg.proc_name == "myapp:app"
    cfg.set("proc_name", "shop")
    assert cfg.proc_name == "shop"


def test_sendfile_follows_the_flag_then_the_environment():
    assert Config(environ={}).sendfile is True
    assert Config(environ={"SENDFILE": "yes"}).sendfile is True
    assert Config(environ={"SENDFILE": "0"}).sendfile is False
    cfg = Config(environ={"SENDFILE": "1"})
    cfg.set("sendfile", False)
    assert cfg.sendfile is False


def test_allow_networks():
    cfg = Config(environ={})
    networks = cfg.forwarded_allow_networks()
    assert networks == [ipaddress.ip_network("127.0.0.1"), ipaddress.ip_network("::1")]
    assert address_allowed(networks, "127.0.0.1") and address_allowed(networks, "::1")
    assert not address_allowed(networks, "10.0.0.1")
    assert address_allowed(networks, "/run/corn.sock")  # no IP: a Unix socket peer
    cfg.set("proxy_allow_ips", "10.0.0.0/8, 192.168.1.7")
    assert not address_allowed(cfg.proxy_allow_networks(), "11.0.0.1")
    assert address_allowed(cfg.proxy_allow_networks(), "10.200.0.1")
    cfg.set("forwarded_allow_ips", "*")
    assert cfg.forwarded_allow_networks() is ANY_NETWORK
    assert address_allowed(cfg.forwarded_allow_networks(), "203.0.113.9")
    assert any(ipaddress.ip_address("2001:db8::1") in net for net in ANY_NETWORK)


class PluginWorker:
    setups = 0

    @classmethod
    def setup(cls):
        cls.setups += 1


def test_worker_class_is_loaded_lazily_and_set_up():
    cfg = Config(environ={})
    assert cfg.worker_class_str == "gevent"
    cfg.set("worker_class", PluginWorker)
    assert cfg.worker_class is PluginWorker
    assert PluginWorker.setups == 1
    assert cfg.worker_class_str == "PluginWorker"
    cfg.set("worker_class", "collections.OrderedDict")
    import collections

    assert cfg.worker_class is collections.OrderedDict
    assert cfg.worker_class_str == "collections.OrderedDict"
    cfg.set("worker_class", "no_such_package_here.Worker")
    with pytest.raises(ConfigError, match=r"^Invalid value for worker_class: 'no_such_package_here.Worker'"):
        getattr(cfg, "worker_class")  # noqa: B009 (the attribute access is what is tested)


# --- config files ---------------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
    return str(path)


def test_config_file_sets_settings_and_sees_its_own_path(tmp_path):
    path = write(
        tmp_path / "corn.conf.py",
        "import os\nimport multiprocessing as mp\nfrom os.path import join\n"
        "workers = 3\nbind = ['unix:' + join(os.path.dirname(__file__), 's.sock')]\n"
        "def post_fork(server, worker):\n    return 'forked'\n_private = 1\n",
    )
    cfg = Config(environ={})
    cfg.load_file(path)
    assert cfg.workers == 3
    assert cfg.address == [str(tmp_path / "s.sock")]
    assert cfg.post_fork(None, None) == "forked"
    assert cfg.warnings == []  # imports and private names are not settings


def test_config_file_forms(tmp_path, monkeypatch):
    write(tmp_path / "conf_module.py", "workers = 7\n")
    write(tmp_path / "other.conf", "workers = 6\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = Config(environ={})
    cfg.load_file("python:conf_module")
    assert cfg.workers == 7
    cfg.load_file("file:" + str(tmp_path / "other.conf"))
    assert cfg.workers == 6


def test_unknown_names_in_a_config_file_warn_with_the_closest_setting(tmp_path):
    text = "wokers = 2\nWORKERS = 3\ntolerate_dangerous_framing = True\nzzzzqqq = 1\n"
    path = write(tmp_path / "c.py", text)
    cfg = Config(environ={})
    cfg.load_file(path)
    assert cfg.workers == 1
    assert cfg.warnings[0] == f"{path}: unknown setting 'wokers'; did you mean 'workers'?"
    assert cfg.warnings[1] == f"{path}: unknown setting 'WORKERS'; did you mean 'workers'?"
    assert "tolerate_dangerous_framing" in cfg.warnings[2]
    assert cfg.warnings[3].startswith(f"{path}: unknown setting 'zzzzqqq';")
    assert len(cfg.warnings) == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 / 0\n", "ZeroDivisionError: division by zero"),
        ("workers = (\n", "SyntaxError: "),
        ("import no_such_module_for_config\n", "ModuleNotFoundError: "),
    ],
)
def test_an_exception_in_a_config_file_is_one_line(tmp_path, text, expected):
    path = write(tmp_path / "broken.py", text)
    with pytest.raises(ConfigError) as info:
        Config(environ={}).load_file(path)
    message = str(info.value)
    assert message.startswith(f"Failed to read config file {path}: ")
    assert expected in message and "\n" not in message


def test_bad_values_and_hooks_in_a_config_file_name_the_file(tmp_path):
    path = write(tmp_path / "c.py", "def pre_fork(server):\n    pass\n")
    expected = rf"^Invalid value for pre_fork in {re.escape(path)}: <function pre_fork> "
    with pytest.raises(ConfigError, match=expected):
        Config(environ={}).load_file(path)
    with pytest.raises(ConfigError, match="Config file not found"):
        Config(environ={}).load_file(str(tmp_path / "missing.py"))


# --- the generated reference ----------------------------------------------------------------


def test_docs_are_the_generated_reference():
    result = subprocess.run(
        [sys.executable, "-m", "corn.settings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Generated from corn/settings.py; do not edit."
    with open(os.path.join(REPO, "docs", "settings.md"), encoding="utf-8") as f:
        stale = "docs/settings.md is stale: run python -m corn.settings > docs/settings.md"
        assert f.read() == result.stdout, stale


def test_the_reference_documents_every_setting():
    text = settings.render_markdown()
    for setting in settings.SETTINGS:
        assert f"### `{setting.name}`" in text
        for flag in setting.cli:
            assert f"`{flag}" in text
    assert ROOT not in text and os.path.expanduser("~") + "/" not in text  # nothing machine-specific
