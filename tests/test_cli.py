"""The `corn` command: flags derived from the registry, the order of the sources, one-line errors.

In-process tests call `build_config` from a temporary directory with the real environment;
the exit statuses and the exact stderr lines are checked on `python -m corn` in a subprocess.
"""

import os
import subprocess
import sys

import pytest

import corn
from corn.cli import build_config, format_config, make_parser
from corn.errors import ConfigError
from corn.settings import SETTINGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(corn.__file__)))
SOURCES = ("GUNICORN_CMD_ARGS", "CORN_CMD_ARGS", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "SENDFILE")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A clean current directory and an environment without any corn or gunicorn variables;
    sys.path is restored afterwards (a config file puts the working directory on it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in SOURCES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run_corn(args, cwd, env=None):
    environ = {k: v for k, v in os.environ.items() if k not in SOURCES}
    environ["PYTHONPATH"] = ROOT
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "corn", *args],
        cwd=str(cwd),
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def printed(stdout):
    """The settings --print-config printed, as {name: text}."""
    values = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition(" = ")
        assert sep, line
        values[name.strip()] = value
    return values


# --- the order of the sources ---------------------------------------------------------------


def test_each_source_overrides_the_one_before(workdir, monkeypatch):
    (workdir / "corn.conf.py").write_text("workers = 2\nbacklog = 10\nkeepalive = 7\ntimeout = 9\n")
    cfg = build_config(["app:app"])
    assert (cfg.workers, cfg.backlog, cfg.keepalive, cfg.timeout) == (2, 10, 7, 9)

    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--workers 3 --backlog 20 --keep-alive 8")
    cfg = build_config(["app:app"])
    assert (cfg.workers, cfg.backlog, cfg.keepalive, cfg.timeout) == (3, 20, 8, 9)

    monkeypatch.setenv("CORN_CMD_ARGS", "-w 4 --backlog 30")
    cfg = build_config(["app:app"])
    assert (cfg.workers, cfg.backlog, cfg.keepalive, cfg.timeout) == (4, 30, 8, 9)

    cfg = build_config(["-w", "5", "app:app"])
    assert (cfg.workers, cfg.backlog, cfg.keepalive, cfg.timeout) == (5, 30, 8, 9)


def test_a_repeated_flag_replaces_the_list_of_a_lower_source(workdir, monkeypatch):
    (workdir / "corn.conf.py").write_text("bind = ['127.0.0.1:1', '127.0.0.1:2']\nraw_env = ['A=file']\n")
    monkeypatch.setenv("CORN_CMD_ARGS", "-e A=env -e B=env")
    cfg = build_config(["-b", "127.0.0.1:3", "-b", "unix:/run/c.sock", "app:app"])
    assert cfg.address == [("127.0.0.1", 3), "/run/c.sock"]
    assert cfg.env == {"A": "env", "B": "env"}


def test_the_real_environment_reaches_a_subprocess(workdir):
    (workdir / "corn.conf.py").write_text("workers = 2\nbacklog = 10\n")
    result = run_corn(
        ["--print-config", "--backlog", "40", "app:app"],
        workdir,
        env={"GUNICORN_CMD_ARGS": "-w 3 --keep-alive 8", "CORN_CMD_ARGS": "-w 4", "PORT": "5555"},
    )
    assert result.returncode == 0, result.stderr
    values = printed(result.stdout)
    assert (values["workers"], values["backlog"], values["keepalive"]) == ("4", "40", "8")
    assert values["bind"] == "['0.0.0.0:5555']"
    assert values["wsgi_app"] == "app:app"


def test_which_config_file_is_read(workdir, monkeypatch):
    (workdir / "gunicorn.conf.py").write_text("workers = 11\n")
    assert build_config(["app:app"]).workers == 11

    (workdir / "corn.conf.py").write_text("workers = 12\n")
    cfg = build_config(["app:app"])
    assert cfg.workers == 12 and cfg.config == "./corn.conf.py"

    (workdir / "g.py").write_text("workers = 13\n")
    (workdir / "c.py").write_text("workers = 14\n")
    (workdir / "cli.py").write_text("workers = 15\n")
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "-c g.py")
    assert build_config(["app:app"]).workers == 13
    monkeypatch.setenv("CORN_CMD_ARGS", "--config c.py")
    assert build_config(["app:app"]).workers == 14
    cfg = build_config(["-c", "cli.py", "app:app"])
    assert cfg.workers == 15 and cfg.config == "cli.py"


def test_config_file_forms_on_the_command_line(workdir, monkeypatch):
    (workdir / "settings_module_for_cli.py").write_text("workers = 21\n")
    (workdir / "plain.conf").write_text("workers = 22\n")
    monkeypatch.syspath_prepend(str(workdir))
    assert build_config(["-c", "python:settings_module_for_cli", "app:app"]).workers == 21
    assert build_config(["-c", "file:plain.conf", "app:app"]).workers == 22
    with pytest.raises(ConfigError, match="Config file not found: 'missing.py'"):
        build_config(["-c", "missing.py", "app:app"])


def test_app_module_names_the_app_and_the_processes(workdir):
    (workdir / "corn.conf.py").write_text("wsgi_app = 'fromfile:app'\n")
    cfg = build_config([])
    assert cfg.wsgi_app == "fromfile:app" and cfg.proc_name == "corn"
    cfg = build_config(["shop.wsgi:application"])
    assert cfg.wsgi_app == "shop.wsgi:application"
    assert cfg.proc_name == "shop.wsgi:application"
    assert build_config(["-n", "shop", "shop.wsgi:application"]).proc_name == "shop"


# --- flags ----------------------------------------------------------------------------------


def test_every_flag_of_the_registry_is_accepted(workdir):
    parser = make_parser()
    flags = {flag for action in parser._actions for flag in action.option_strings}
    for setting in SETTINGS:
        assert set(setting.cli) <= flags


@pytest.mark.parametrize(
    "args, name, value",
    [
        (["--limit-request-field_size", "100"], "limit_request_field_size", 100),
        (["--proxy-protocol"], "proxy_protocol", "auto"),
        (["--proxy-protocol", "v2"], "proxy_protocol", "v2"),
        (["--no-sendfile"], "sendfile", False),
        (["--preload"], "preload_app", True),
        (["-D"], "daemon", True),
        (["--log-file", "err.log"], "errorlog", "err.log"),
        (["--error-logfile", "err.log"], "errorlog", "err.log"),
        (["-m", "022"], "umask", 0o22),
        (["--paster", "app.ini"], "paste", "app.ini"),
        (["-k", "sync"], "worker_class", "sync"),
        (["--forwarded-allow-ips", "*"], "forwarded_allow_ips", ["*"]),
        (
            ["--reload-extra-file", "a.txt", "--reload-extra-file", "*.py"],
            "reload_extra_files",
            ["a.txt", "*.py"],
        ),
        (["--graceful", "6"], "graceful_timeout", 6),  # argparse abbreviations work, as in gunicorn
    ],
)
def test_flags_set_their_setting(workdir, args, name, value):
    (workdir / "a.txt").write_text("")
    cfg = build_config(["app:app", *args])  # the app first: a bare --proxy-protocol would take it
    assert cfg.get(name) == value


def test_version(workdir):
    result = run_corn(["-v"], workdir)
    assert result.returncode == 0
    assert result.stdout == f"corn (version {corn.__version__})\n"
    assert run_corn(["--version"], workdir).stdout == result.stdout


def test_help_lists_the_flags_without_failing(workdir):
    result = run_corn(["--help"], workdir)
    assert result.returncode == 0
    assert "--limit-request-field_size" in result.stdout and "APP_MODULE" in result.stdout


# --- one line per mistake -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-w", "abc"], "corn: error: Invalid value for --workers: 'abc' (expected a positive integer or 0)"),
        (["--timeout", "-3"], "Invalid value for --timeout: '-3' (expected a positive integer or 0)"),
        (["-b", "::1"], "corn: error: Invalid value for --bind: ['::1'] (IPv6 addresses need brackets"),
        (["-b", "localhost:http"], "'http' is not a port number 0-65535"),
        (["--umask", "zz"], "corn: error: Invalid value for --umask: 'zz' (expected an integer such as 0o22"),
        (["--proxy-protocol", "v3"], "(expected one of off, v1, v2, auto)"),
        (["--header-map", "keep"], "(expected one of drop, refuse, dangerous)"),
        (["--log-level", "loud"], "(expected one of debug, info, warning, error, critical)"),
        (["-k", "gthreads"],
         "(expected gevent, gthread, sync, eventlet, tornado or a dotted path to a Worker class)"),
        (["--forwarded-allow-ips", "10.0.0.1/8"], "'10.0.0.1/8' is not an IP address or network"),
        (["--user", "no-such-user-here"], "(no such user; expected a user name or a numeric uid)"),
        (["--chdir", "/no/such/directory"], "(expected an existing directory)"),
        (["-e", "NOEQUALS"], "'NOEQUALS' is not KEY=VALUE"),
        (["--cert-reqs", "7"], "(expected an integer from 0 to 2)"),
        (["--wokers=3"], "corn: error: unrecognized arguments: --wokers=3 (did you mean --workers?)"),
        (["--nothing-like-this"], "unrecognized arguments: --nothing-like-this (see corn --help)"),
        (["-w"], "corn: error: argument -w/--workers: expected one argument"),
        (["-c", "missing.py"], "corn: error: Config file not found: 'missing.py'"),
    ],
)
def test_a_bad_flag_gives_one_line_and_status_2(workdir, args, expected):
    result = run_corn(["app:app", *args], workdir)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("corn: error: ")
    assert expected in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "source, value, expected",
    [
        ("GUNICORN_CMD_ARGS", "-w abc", "Invalid value for --workers in GUNICORN_CMD_ARGS: 'abc'"),
        ("CORN_CMD_ARGS", "--bogus", "in CORN_CMD_ARGS: unrecognized arguments: --bogus"),
        ("CORN_CMD_ARGS", "-b 'unclosed", "in CORN_CMD_ARGS: No closing quotation"),
    ],
)
def test_a_bad_environment_variable_gives_one_line(workdir, source, value, expected):
    result = run_corn(["app:app"], workdir, env={source: value})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("corn: error: ") and expected in lines[0], result.stderr


@pytest.mark.parametrize(
    "text, expected",
    [
        ("workers = 'many'\n", "Invalid value for workers in ./corn.conf.py: 'many'"),
        ("def post_fork(server):\n    pass\n", "takes 1 positional argument; expected a callable taking 2"),
        ("raise RuntimeError('no config')\n", "Failed to read config file ./corn.conf.py: RuntimeError"),
    ],
)
def test_a_bad_config_file_gives_one_line(workdir, text, expected):
    (workdir / "corn.conf.py").write_text(text)
    result = run_corn(["app:app"], workdir)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_no_app_is_one_line(workdir):
    result = run_corn([], workdir)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "corn: error: no application module specified (expected APP_MODULE such as myapp:app, or wsgi_app)"
    ]


# --- warnings, --print-config, --check-config -----------------------------------------------


def test_warnings_are_printed_one_per_line(workdir):
    (workdir / "corn.conf.py").write_text("wokers = 2\ntolerate_dangerous_framing = True\n")
    result = run_corn(["--print-config", "-k", "gevent", "--threads", "4", "--protocol", "uwsgi", "app:app"],
                      workdir)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "corn: warning: ./corn.conf.py: unknown setting 'wokers'; did you mean 'workers'?",
        "corn: warning: tolerate_dangerous_framing in ./corn.conf.py was removed in gunicorn 23; "
        "corn always refuses ambiguous framing; ignored",
        "corn: warning: protocol = 'uwsgi' has no effect: corn does not speak the uWSGI protocol",
        "corn: warning: threads = 4 has no effect: the gevent worker is not threaded "
        "(use -k gthread, or worker_connections with gevent)",
    ]


def test_print_config_prints_every_setting(workdir):
    result = run_corn(["--print-config", "-w", "3", "app:app"], workdir)
    assert result.returncode == 0, result.stderr
    values = printed(result.stdout)
    assert set(values) == {setting.name for setting in SETTINGS}
    assert values["workers"] == "3"
    assert values["worker_class"] == "gevent"
    assert values["post_fork"] == "<post_fork()>"
    in_process = format_config(build_config(["--print-config", "-w", "3", "app:app"]))
    assert result.stdout.splitlines() == in_process.splitlines()


def test_check_config_imports_the_app(workdir):
    (workdir / "good_app.py").write_text(
        "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"
    )
    (workdir / "raising_app.py").write_text("raise RuntimeError('broken at import')\n")
    good = run_corn(["--check-config", "good_app:app"], workdir)
    assert good.returncode == 0, good.stderr
    missing = run_corn(["--check-config", "good_app:nothing"], workdir)
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[-1].startswith("corn: error: ")
    raising = run_corn(["--check-config", "raising_app:app"], workdir)
    assert raising.returncode == 1
    assert "broken at import" in raising.stderr
    assert raising.stderr.splitlines()[-1].startswith("corn: error: ")
