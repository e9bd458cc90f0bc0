"""Every setting corn knows, declared once: the registry the CLI, config files and docs come from.

`SETTINGS` is an ordered tuple of `Setting` values, grouped by section as gunicorn groups them.
It holds all of gunicorn 27.0.1's settings with gunicorn's names, flags, defaults and accepted
values, so a gunicorn command line or config file means the same to corn. The deliberate
differences are the defaults of `worker_class` ("gevent"), `default_proc_name` ("corn"),
`logger_class`, `config` ("./corn.conf.py") and `control_socket`, and that `worker_tmp_dir`
unset means /dev/shm when present.

Settings that corn accepts but does not implement carry an `unsupported` reason (collected in
`UNSUPPORTED`); setting one to a value corn does not honour gives one warning line, never an
error. `REMOVED` names gunicorn settings that no longer exist but that old config files still set.

`python -m corn.settings` prints the Markdown reference kept in docs/settings.md.

Plane: control.
"""

import dataclasses
import os
import ssl
import sys
from collections.abc import Callable, Mapping
from typing import Any

from corn import validators as v


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its name, where it can be given, what it accepts, and its documentation."""

    name: str
    section: str
    validator: Callable[[Any], Any]
    default: Any
    doc: str  # Markdown; the first line is the one-line summary used by --help
    cli: tuple[str, ...] = ()
    meta: str | None = None
    action: str = "store"  # argparse action: store, store_true, store_const or append
    nargs: str | None = None
    const: Any = None
    arity: tuple[int, ...] | None = None  # hooks: the accepted numbers of positional arguments
    default_doc: str | None = None  # how the docs show a default that depends on the machine
    default_from: Callable[[Mapping[str, str]], Any] | None = None  # environment-dependent default
    unsupported: str | None = None  # why the setting has no effect in corn
    implemented: Callable[[Any], bool] | None = None  # values that do work despite `unsupported`

    @property
    def summary(self):
        return self.doc.strip().splitlines()[0]

    @property
    def flag(self):
        """The flag named in error messages: the first long form."""
        return next((flag for flag in self.cli if flag.startswith("--")), self.name)


# --- hook defaults: real functions, so a config file can call or wrap them ------------------


def on_starting(server):
    """Does nothing."""


def on_reload(server):
    """Does nothing."""


def when_ready(server):
    """Does nothing."""


def pre_fork(server, worker):
    """Does nothing."""


def post_fork(server, worker):
    """Does nothing."""


def post_worker_init(worker):
    """Does nothing."""


def worker_int(worker):
    """Does nothing."""


def worker_abort(worker):
    """Does nothing."""


def pre_exec(server):
    """Does nothing."""


def pre_request(worker, req):
    """Logs the method and path at debug level."""
    worker.log.debug("%s %s", req.method, req.path)


def post_request(worker, req, environ, resp):
    """Does nothing."""


def child_exit(server, worker):
    """Does nothing."""


def worker_exit(server, worker):
    """Does nothing."""


def nworkers_changed(server, new_value, old_value):
    """Does nothing."""


def on_exit(server):
    """Does nothing."""


def ssl_context(config, default_ssl_context_factory):
    """Returns the context built from the SSL settings."""
    return default_ssl_context_factory()


def on_dirty_starting(arbiter):
    """Does nothing."""


def dirty_post_fork(arbiter, worker):
    """Does nothing."""


def dirty_worker_init(worker):
    """Does nothing."""


def dirty_worker_exit(arbiter, worker):
    """Does nothing."""


# --- environment-dependent defaults ---------------------------------------------------------


def _default_bind(environ):
    if "PORT" in environ:
        return [f"0.0.0.0:{environ['PORT']}"]
    return ["127.0.0.1:8000"]


def _default_control_socket(environ):
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "corn.ctl")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".corn", "corn.ctl")


def _default_syslog_addr(platform):
    if platform == "darwin":
        return "unix:///var/run/syslog"
    if platform in ("freebsd", "dragonfly"):
        return "unix:///var/run/log"
    if platform == "openbsd":
        return "unix:///dev/log"
    return "udp://localhost:514"


def _seconds(value):
    """A non-negative number of seconds, possibly fractional ("0.5")."""
    if isinstance(value, bool):
        raise v.Invalid("expected a number of seconds, 0 or more")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise v.Invalid("expected a number of seconds, 0 or more") from None
    if not number >= 0 or number == float("inf"):
        raise v.Invalid("expected a number of seconds, 0 or more")
    return number


# --- constructors for the common shapes -----------------------------------------------------


def _flag(name, section, cli, doc, default=False, **extra):
    """A boolean switched on by a bare flag."""
    cli = (cli,) if isinstance(cli, str) else cli
    return Setting(name, section, v.boolean, default, doc, cli=cli, action="store_true", **extra)


def _int(name, section, cli, default, doc, validator=v.pos_int, **extra):
    return Setting(name, section, validator, default, doc, cli=cli, meta="INT", **extra)


def _hook(name, section, default, doc, arity=None, validator=None, **extra):
    arity = arity or (v.arity(default),)
    return Setting(
        name, section, validator or v.hook(*arity), default, doc, arity=arity, default_doc="no-op", **extra
    )


CONFIG_FILE = "Config File"
SOCKET = "Server Socket"
WORKERS = "Worker Processes"
SECURITY = "Security"
DEBUGGING = "Debugging"
MECHANICS = "Server Mechanics"
LOGGING = "Logging"
NAMING = "Process Naming"
HOOKS = "Server Hooks"
SSL = "SSL"
HTTP2 = "HTTP/2"
DIRTY = "Dirty Arbiters"
DIRTY_HOOKS = "Dirty Arbiter Hooks"
CONTROL = "Control"

NO_ASGI = "corn serves WSGI applications only"
NO_HTTP2 = "corn speaks HTTP/1.0 and HTTP/1.1 only"
NO_DIRTY = "corn has no dirty arbiter"
NO_CONTROL = "corn has no control socket"
NO_PASTE = "corn does not load PasteDeploy applications; give APP_MODULE instead"
NO_UWSGI = "corn does not speak the uWSGI protocol"


# A table laid out by hand, one entry per setting, kept out of the formatter's reach.
# fmt: off
SETTINGS = (
    # --- Config File ------------------------------------------------------------------------
    Setting(
        "config", CONFIG_FILE, v.string, "./corn.conf.py", cli=("-c", "--config"), meta="CONFIG",
        doc="""The config file to read: `PATH`, `file:PATH` or `python:MODULE`.

The file is Python, executed with `__file__` set; every top-level name that is a setting
sets it. Without `-c`, corn reads `./corn.conf.py`, or `./gunicorn.conf.py` when there is no
`corn.conf.py`. `-c` may also be given inside `CORN_CMD_ARGS` or `GUNICORN_CMD_ARGS`.""",
    ),
    Setting(
        "wsgi_app", CONFIG_FILE, v.string, None, meta="STRING",
        doc="""The application, `MODULE:VARIABLE`, when it is not given on the command line.

A factory call such as `myapp:create_app()` works too. `APP_MODULE` on the command line
wins over this setting.""",
    ),
    # --- Server Socket ----------------------------------------------------------------------
    Setting(
        "bind", SOCKET, v.bind_list, ["127.0.0.1:8000"], cli=("-b", "--bind"), meta="ADDRESS",
        action="append", default_from=_default_bind,
        default_doc="`['127.0.0.1:8000']`, or `['0.0.0.0:$PORT']` when `PORT` is set",
        doc="""The socket to listen on; repeat the flag for more than one.

Forms: `HOST`, `HOST:PORT`, `[IPV6]:PORT`, `unix:PATH` and `fd://FD` (an inherited,
already listening descriptor). The port defaults to 8000.""",
    ),
    _int(
        "backlog", SOCKET, ("--backlog",), 2048,
        doc="""The length of the listen queue: connections the kernel accepts before corn does.

Clients beyond it are refused or time out. Values between 64 and 2048 are usual.""",
    ),
    # --- Worker Processes -------------------------------------------------------------------
    _int(
        "workers", WORKERS, ("-w", "--workers"), 1,
        default_from=lambda environ: environ.get("WEB_CONCURRENCY", 1),
        default_doc="`1`, or `$WEB_CONCURRENCY` when set",
        doc="""The number of worker processes.

Each gevent worker serves many connections at once, so one or two per core is usually enough.""",
    ),
    Setting(
        "worker_class", WORKERS, v.worker_class, "gevent", cli=("-k", "--worker-class"), meta="STRING",
        doc="""The kind of worker: `gevent` (the default), `gthread`, `sync`, `eventlet`, `tornado`, or a
dotted path to a class.

`gevent` serves up to `worker_connections` connections per worker with greenlets; `gthread`
serves them with a pool of `threads` threads (for apps that block in C, such as database
drivers), and an idle connection holds no thread; `sync` serves one connection at a time, for
CPU-bound applications. `eventlet` runs eventlet's hub (`pip install 'corn[eventlet]'`; eventlet
is in maintenance mode: move to gevent); `tornado` serves a tornado `Application` with tornado's
own HTTP server, and a WSGI app with corn's request cycle on tornado's IOLoop
(`pip install 'corn[tornado]'`). As in gunicorn, `--threads` above 1 turns `sync`, and the default when
`worker_class` is not set, into `gthread`. A class given by its path (`pkg.module.Class`)
subclasses `corn.workers.base.Worker` or gunicorn's `gunicorn.workers.base.Worker`
(`docs/extending.md`); `docs/workers.md` compares corn's own.""",
    ),
    _int(
        "threads", WORKERS, ("--threads",), 1,
        doc="""Threads per worker that serve requests, for the gthread worker (and the tornado
worker's WSGI apps).

More than one makes the default worker, and `sync`, the gthread worker. A gevent or eventlet
worker ignores it (with a warning): green threads give it its concurrency.""",
    ),
    _int(
        "worker_connections", WORKERS, ("--worker-connections",), 1000,
        doc="""The most connections a gevent or eventlet worker serves at once on each listener, or a
gthread worker (or a tornado worker serving a WSGI app) holds open in all (idle kept-alive
connections included); beyond that, new connections wait in the listen queue.""",
    ),
    _int(
        "max_requests", WORKERS, ("--max-requests",), 0,
        doc="""Restart a worker after it has served this many requests; 0 never restarts.

A simple limit on the damage of a memory leak.""",
    ),
    _int(
        "max_requests_jitter", WORKERS, ("--max-requests-jitter",), 0,
        doc="""Add a random `0..N` to each worker's `max_requests`, so workers do not restart together.""",
    ),
    _int(
        "timeout", WORKERS, ("-t", "--timeout"), 30,
        doc="""Kill and replace a worker whose heartbeat is older than this many seconds; 0 disables.

Workers keep their heartbeat fresh while idle, so with gevent this only catches a worker
that is stuck (an application blocking the event loop).""",
    ),
    _int(
        "graceful_timeout", WORKERS, ("--graceful-timeout",), 30,
        doc="""Seconds a worker gets to finish its requests after a stop or restart signal.

Workers still running after that are killed.""",
    ),
    _int(
        "keepalive", WORKERS, ("--keep-alive",), 2,
        doc="""Seconds to wait for the next request on a keep-alive connection; 0 disables keep-alive.

Behind a load balancer that reuses connections, set it higher than the balancer's idle timeout.""",
    ),
    Setting(
        "asgi_loop", WORKERS, v.choice("auto", "asyncio", "uvloop", none="auto"), "auto",
        cli=("--asgi-loop",), meta="STRING", unsupported=NO_ASGI,
        doc="""The event loop of gunicorn's ASGI worker: `auto`, `asyncio` or `uvloop`.""",
    ),
    Setting(
        "asgi_lifespan", WORKERS, v.choice("auto", "on", "off", none="auto"), "auto",
        cli=("--asgi-lifespan",), meta="STRING", unsupported=NO_ASGI,
        doc="""The ASGI lifespan protocol: `auto`, `on` or `off`.""",
    ),
    _int(
        "asgi_disconnect_grace_period", WORKERS, ("--asgi-disconnect-grace-period",), 3,
        unsupported=NO_ASGI,
        doc="""Seconds an ASGI application gets to clean up after its client disconnects.""",
    ),
    _int(
        "websocket_max_message_size", WORKERS, ("--websocket-max-message-size",), 16 * 1024 * 1024,
        unsupported=NO_ASGI,
        doc="""The largest WebSocket message gunicorn's ASGI worker accepts; 0 for no limit.""",
    ),
    Setting(
        "http_parser", WORKERS, v.choice("auto", "fast", "python", none="auto"), "auto",
        cli=("--http-parser",), meta="STRING",
        unsupported="corn always parses with its own compiled parser",
        implemented=lambda value: value in ("auto", "python"),
        doc="""gunicorn's choice of HTTP parser: `auto`, `fast` or `python`.

corn has one parser, compiled, with gunicorn's rules; `auto` and `python` are accepted
silently, `fast` (gunicorn's optional C parser) with a warning.""",
    ),
    # --- Security ---------------------------------------------------------------------------
    _int(
        "limit_request_line", SECURITY, ("--limit-request-line",), 4094,
        doc="""The longest request line (method, target and version) in bytes; 0 means the maximum, 8190.

Longer request lines are answered with 414.""",
    ),
    _int(
        "limit_request_fields", SECURITY, ("--limit-request-fields",), 100,
        doc="""The most header fields a request may have; at most 32768 (0 means 32768).

More are answered with 431.""",
    ),
    _int(
        "limit_request_field_size", SECURITY, ("--limit-request-field_size",), 8190,
        doc="""The longest header field line in bytes, including its CRLF; 0 means 8190.

Longer fields are answered with 431. The odd flag spelling is gunicorn's.""",
    ),
    _int(
        "header_timeout", SECURITY, ("--header-timeout",), 20,
        doc="""Seconds a client gets to send a whole request head, from its first byte (from the accept,
for the first request of a connection); 0 disables the deadline. corn's own setting.

A client that trickles its head slower than that is answered with 408 and disconnected, and the
error log says so: one such client costs a greenlet and a buffer until then, never a worker.""",
    ),
    # --- Debugging --------------------------------------------------------------------------
    _flag(
        "reload", DEBUGGING, "--reload",
        doc="""Restart workers when a loaded module or a `reload_extra_files` entry changes.

For development only: it cannot be combined with `preload_app`.""",
    ),
    Setting(
        "reload_engine", DEBUGGING, v.choice("auto", "poll", "inotify"), "auto",
        cli=("--reload-engine",), meta="STRING",
        doc="""How `reload` watches files: `auto`, `poll` or `inotify` (needs the inotify package).""",
    ),
    Setting(
        "reload_extra_files", DEBUGGING, v.files_or_patterns, [], cli=("--reload-extra-file",),
        meta="FILES", action="append",
        doc="""More files for `reload` to watch; repeat the flag.

Glob patterns are re-expanded on every check, so files created later are watched too.""",
    ),
    Setting(
        "block_threshold", DEBUGGING, _seconds, 0, cli=("--block-threshold",), meta="SECONDS",
        doc="""Log, with its stack, any greenlet that keeps the gevent event loop busy longer than this;
0 (the default) turns the check off. corn's own setting.

While one greenlet runs without yielding (CPU-bound work, a blocking call gevent cannot patch),
every other connection of that worker waits. With a threshold set, each gevent worker starts
gevent's monitor thread, which notices such a greenlet while it still runs and logs a warning
with the stack it is stuck in. The worker keeps serving. Values around 0.1 to 1 second suit
most applications; the monitor costs a little on every greenlet switch.""",
    ),
    _flag(
        "spew", DEBUGGING, "--spew", unsupported="corn does not install a line tracer",
        doc="""Print every line the server executes (gunicorn's trace function).""",
    ),
    _flag(
        "check_config", DEBUGGING, "--check-config",
        doc="""Check the configuration, import the application, and exit: 0 when both work, 1 otherwise.""",
    ),
    _flag(
        "print_config", DEBUGGING, "--print-config",
        doc="""Print every setting as resolved from all sources, `name = value`, and exit.""",
    ),
    # --- Server Mechanics -------------------------------------------------------------------
    _flag(
        "preload_app", MECHANICS, "--preload",
        doc="""Import the application in the master before forking the workers.

Saves memory and start-up time; a HUP then cannot load new code (USR2 can).""",
    ),
    Setting(
        "sendfile", MECHANICS, v.boolean, None, cli=("--no-sendfile",), action="store_const", const=False,
        doc="""`--no-sendfile` stops corn from using `sendfile()` for `wsgi.file_wrapper` responses.

Without the flag, the `SENDFILE` environment variable decides when it is set (`y`, `1`, `yes`
or `true` enable sendfile, anything else disables it); otherwise sendfile is used.""",
    ),
    _flag(
        "reuse_port", MECHANICS, "--reuse-port",
        doc="""Set `SO_REUSEPORT` on the listening sockets, and let each worker bind its own.""",
    ),
    Setting(
        "chdir", MECHANICS, v.directory, ".", cli=("--chdir",),
        default_from=lambda environ: os.getcwd(), default_doc="the current directory",
        doc="""Change to this directory before loading the application.""",
    ),
    _flag(
        "daemon", MECHANICS, ("-D", "--daemon"),
        doc="""Detach from the terminal and run in the background.""",
    ),
    Setting(
        "raw_env", MECHANICS, v.env_list, [], cli=("-e", "--env"), meta="ENV", action="append",
        doc="""Set an environment variable, `KEY=VALUE`, in the master and every worker; repeat the flag.

In a config file: `raw_env = ["FOO=1", "BAR=2"]`.""",
    ),
    Setting(
        "pidfile", MECHANICS, v.string, None, cli=("-p", "--pid"), meta="FILE",
        doc="""Write the master's process id to this file; unset, no file is written.""",
    ),
    Setting(
        "worker_tmp_dir", MECHANICS, v.string, None, cli=("--worker-tmp-dir",), meta="DIR",
        default_doc="`None`: /dev/shm when present, else the system temporary directory",
        doc="""The directory for the workers' heartbeat files.

Unset, corn uses /dev/shm when it exists, so a busy disk can never stall a heartbeat.""",
    ),
    Setting(
        "user", MECHANICS, v.user, None, cli=("-u", "--user"), meta="USER",
        default_doc="the current user, `os.geteuid()`",
        doc="""Run the workers as this user: a name or a numeric uid.""",
    ),
    Setting(
        "group", MECHANICS, v.group, None, cli=("-g", "--group"), meta="GROUP",
        default_doc="the current group, `os.getegid()`",
        doc="""Run the workers as this group: a name or a numeric gid.""",
    ),
    _int(
        "umask", MECHANICS, ("-m", "--umask"), 0, validator=v.auto_int,
        doc="""The umask for files corn creates, Unix sockets included.

A number, or a string read as `int(x, 0)` with a leading `0` meaning octal: `0o22`, `022`
and `18` are the same mask.""",
    ),
    _flag(
        "initgroups", MECHANICS, "--initgroups",
        doc="""Give the workers all the groups of `user` as supplementary groups, plus `group`.""",
    ),
    Setting(
        "tmp_upload_dir", MECHANICS, v.string, None, meta="DIR",
        doc="""Accepted for compatibility; it has no effect (as in gunicorn).""",
    ),
    Setting(
        "secure_scheme_headers", MECHANICS, v.dictionary,
        {"X-FORWARDED-PROTOCOL": "ssl", "X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"},
        doc="""Headers a trusted proxy sets to say the client used HTTPS, with the value meaning yes.

Only honoured for peers in `forwarded_allow_ips`. When one of these headers matches,
`wsgi.url_scheme` is `https`; when two of them disagree, the request is refused with 400.
Names are upper case; values are compared exactly.""",
    ),
    Setting(
        "forwarded_allow_ips", MECHANICS, v.ip_network_list, "127.0.0.1,::1",
        cli=("--forwarded-allow-ips",), meta="STRING",
        default_from=lambda environ: environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        default_doc="`'127.0.0.1,::1'`, or `$FORWARDED_ALLOW_IPS` when set",
        doc="""Peers trusted to set `secure_scheme_headers` and `forwarder_headers`: comma-separated.

Addresses or networks (`10.0.0.0/8`), or `*` for every peer. Connections over a Unix socket
are always trusted.""",
    ),
    Setting(
        "pythonpath", MECHANICS, v.string, None, cli=("--pythonpath",), meta="STRING",
        doc="""Comma-separated directories to put at the front of `sys.path`.""",
    ),
    Setting(
        "paste", MECHANICS, v.string, None, cli=("--paste", "--paster"), meta="STRING",
        unsupported=NO_PASTE,
        doc="""A PasteDeploy config file to load the application from, `file.ini#section`.""",
    ),
    Setting(
        "proxy_protocol", MECHANICS, v.proxy_protocol, "off", cli=("--proxy-protocol",), meta="MODE",
        nargs="?", const="auto",
        doc="""Require the PROXY protocol from `proxy_allow_ips` peers: `off`, `v1`, `v2` or `auto`.

A bare `--proxy-protocol` means `auto` (either version). In a config file `True` means `auto`.
When on, every connection must open with a PROXY header of a version the mode names: one that
does not is closed without a response and logged (gunicorn serves it as a direct client). See
[proxy.md](proxy.md).""",
    ),
    Setting(
        "proxy_allow_ips", MECHANICS, v.ip_network_list, "127.0.0.1,::1", cli=("--proxy-allow-from",),
        doc="""Peers allowed to send a PROXY protocol header: comma-separated addresses or networks, or `*`.

Connections over a Unix socket are always allowed. With `proxy_protocol` on, a header from any
other peer is answered 403, and since every connection must open with a header, such a peer is
never served.""",
    ),
    Setting(
        "protocol", MECHANICS, v.choice("http", "uwsgi"), "http", cli=("--protocol",), meta="STRING",
        unsupported=NO_UWSGI, implemented=lambda value: value == "http",
        doc="""The wire protocol: `http`, or `uwsgi` (gunicorn's nginx `uwsgi_pass` support).""",
    ),
    Setting(
        "uwsgi_allow_ips", MECHANICS, v.ip_network_list, "127.0.0.1,::1", cli=("--uwsgi-allow-from",),
        unsupported=NO_UWSGI,
        doc="""Peers allowed to speak the uWSGI protocol.""",
    ),
    Setting(
        "raw_paste_global_conf", MECHANICS, v.string_list, [], cli=("--paste-global",), meta="CONF",
        action="append", unsupported=NO_PASTE,
        doc="""A PasteDeploy global variable, `key=value`; repeat the flag.""",
    ),
    _flag(
        "permit_obsolete_folding", MECHANICS, "--permit-obsolete-folding",
        doc="""Accept header lines continued with leading whitespace (obs-fold), joined with one space.

Refused with 400 by default, as RFC 9112 allows.""",
    ),
    _flag(
        "strip_header_spaces", MECHANICS, "--strip-header-spaces",
        doc="""Accept whitespace between a header name and its colon. Unsafe: a request smuggling vector.""",
    ),
    _flag(
        "permit_unconventional_http_method", MECHANICS, "--permit-unconventional-http-method",
        doc="""Accept methods with lower-case letters or `#`, or shorter than 3 or longer than 20 letters.""",
    ),
    _flag(
        "permit_unconventional_http_version", MECHANICS, "--permit-unconventional-http-version",
        doc="""Accept HTTP versions other than 1.0 and 1.1 (any single digit `x.y`).""",
    ),
    _flag(
        "casefold_http_method", MECHANICS, "--casefold-http-method",
        doc="""Upper-case the request method before the application sees it (gunicorn's old behaviour).""",
    ),
    Setting(
        "forwarder_headers", MECHANICS, v.comma_list, "SCRIPT_NAME,PATH_INFO", cli=("--forwarder-headers",),
        doc="""Headers with underscores that a trusted proxy may pass into the environ, comma-separated.

Only from peers in `forwarded_allow_ips`. Use it for `SCRIPT_NAME`, `PATH_INFO` or
`REMOTE_USER` set by the proxy; make sure the proxy strips them from client requests.""",
    ),
    Setting(
        "header_map", MECHANICS, v.choice("drop", "refuse", "dangerous", none="drop"), "drop",
        cli=("--header-map",),
        doc="""What to do with header names containing `_`, which would clash with `-` in the environ.

`drop` ignores them, `refuse` answers 400, `dangerous` maps them like `-` (gunicorn's
old, unsafe behaviour). `forwarder_headers` from trusted peers are always kept.""",
    ),
    Setting(
        "root_path", MECHANICS, v.string, "", cli=("--root-path",), meta="STRING", unsupported=NO_ASGI,
        doc="""The ASGI `root_path` (the application's mount point).""",
    ),
    # --- Logging ----------------------------------------------------------------------------
    Setting(
        "accesslog", LOGGING, v.string, None, cli=("--access-logfile",), meta="FILE",
        doc="""Write the access log to this file; `-` is standard output. Unset, there is no access log.""",
    ),
    _flag(
        "disable_redirect_access_to_syslog", LOGGING, "--disable-redirect-access-to-syslog",
        doc="""With `syslog`, keep the access log out of syslog.""",
    ),
    Setting(
        "access_log_format", LOGGING, v.string, '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        cli=("--access-logformat",), meta="STRING",
        doc="""The access log line, with gunicorn's atoms.

| atom | value |
| --- | --- |
| `h` | remote address |
| `l` | `-` |
| `u` | user name from HTTP Basic auth |
| `t` | time of the request, CLF format |
| `r` | request line, `GET / HTTP/1.1` |
| `m` | method |
| `U` | path without query string |
| `q` | query string |
| `H` | protocol |
| `s` | status |
| `B` | response length |
| `b` | response length or `-` |
| `f` | referrer |
| `a` | user agent |
| `T` | duration in whole seconds |
| `M` | duration in milliseconds |
| `D` | duration in microseconds |
| `L` | duration in decimal seconds |
| `p` | process id |
| `{header}i` | a request header |
| `{header}o` | a response header |
| `{variable}e` | an environment variable |

Write the `{...}` atoms in lower case inside `%(...)s`, e.g. `%({x-forwarded-for}i)s`.""",
    ),
    Setting(
        "errorlog", LOGGING, v.string, "-", cli=("--error-logfile", "--log-file"), meta="FILE",
        doc="""Write the error log to this file; `-` is standard error.""",
    ),
    Setting(
        "loglevel", LOGGING, v.choice("debug", "info", "warning", "error", "critical"), "info",
        cli=("--log-level",), meta="LEVEL",
        doc="""The error log's level: `debug`, `info`, `warning`, `error` or `critical`.""",
    ),
    _flag(
        "capture_output", LOGGING, "--capture-output",
        doc="""Send the application's standard output and error to the `errorlog` file.""",
    ),
    Setting(
        "logger_class", LOGGING, v.class_or_path, "corn.glogging.Logger", cli=("--logger-class",),
        meta="STRING",
        doc="""The logger class, or a dotted path to one: a `corn.glogging.Logger` or one written for gunicorn.

A subclass of gunicorn's `gunicorn.glogging.Logger` gets every access line through gunicorn's
`access(resp, req, environ, request_time)`; [extending.md](extending.md) describes both kinds.""",
    ),
    Setting(
        "logconfig", LOGGING, v.string, None, cli=("--log-config",), meta="FILE",
        doc="""A `logging.config.fileConfig` file to configure logging with.""",
    ),
    Setting(
        "logconfig_dict", LOGGING, v.dictionary, {},
        doc="""A `logging.config.dictConfig` dictionary; it wins over `logconfig` and `logconfig_json`.""",
    ),
    Setting(
        "logconfig_json", LOGGING, v.string, None, cli=("--log-config-json",), meta="FILE",
        doc="""A JSON file holding a `logging.config.dictConfig` dictionary.""",
    ),
    Setting(
        "syslog_addr", LOGGING, v.string, _default_syslog_addr(sys.platform), cli=("--log-syslog-to",),
        meta="SYSLOG_ADDR",
        default_doc="`'udp://localhost:514'` on Linux; the local syslog socket on macOS and the BSDs",
        doc="""Where syslog messages go: `unix://PATH#TYPE` (TYPE `stream` or `dgram`), `udp://HOST:PORT`
or `tcp://HOST:PORT`.""",
    ),
    _flag(
        "syslog", LOGGING, "--log-syslog",
        doc="""Send the logs to syslog as well.""",
    ),
    Setting(
        "syslog_prefix", LOGGING, v.string, None, cli=("--log-syslog-prefix",), meta="SYSLOG_PREFIX",
        doc="""The program name in syslog entries; unset, the process name.""",
    ),
    Setting(
        "syslog_facility", LOGGING, v.string, "user", cli=("--log-syslog-facility",), meta="SYSLOG_FACILITY",
        doc="""The syslog facility name.""",
    ),
    _flag(
        "enable_stdio_inheritance", LOGGING, ("-R", "--enable-stdio-inheritance"),
        doc="""Keep standard input, output and error open when running as a daemon.""",
    ),
    Setting(
        "statsd_host", LOGGING, v.statsd_address, None, cli=("--statsd-host",), meta="STATSD_ADDR",
        doc="""Send metrics to this StatsD server: `HOST:PORT` (port 8125 by default) or `unix://PATH`.""",
    ),
    Setting(
        "dogstatsd_tags", LOGGING, v.string, "", cli=("--dogstatsd-tags",), meta="DOGSTATSD_TAGS",
        doc="""Comma-separated DogStatsD tags added to every metric, e.g. `env:prod,app:shop`.""",
    ),
    Setting(
        "statsd_prefix", LOGGING, v.string, "", cli=("--statsd-prefix",), meta="STATSD_PREFIX",
        doc="""A prefix for metric names; a dot is added when missing.""",
    ),
    _flag(
        "enable_backlog_metric", LOGGING, "--enable-backlog-metric",
        doc="""Report the listen backlog length as a metric (Linux only).""",
    ),
    Setting(
        "metrics_bind", LOGGING, v.metrics_address, None, cli=("--metrics-bind",), meta="ADDRESS",
        doc="""Serve Prometheus metrics at `GET /metrics` on this address: `HOST:PORT` or `unix:PATH`.

The master serves them, from a thread of its own; workers count in shared memory it sums when
scraped. Off by default, and then free. The metric set is in docs/metrics.md. Read at start: a HUP
does not move the endpoint.""",
    ),
    _flag(
        "access_log_json", LOGGING, "--access-log-json",
        doc="""Write each access log line as one JSON object instead of `access_log_format`.

The fields are listed in docs/logging.md; every value is escaped, whatever bytes the request
carried. The destinations are the access log's own (`accesslog`, syslog, USR1 reopens).""",
    ),
    # --- Process Naming ---------------------------------------------------------------------
    Setting(
        "proc_name", NAMING, v.string, None, cli=("-n", "--name"), meta="STRING",
        doc="""The name processes show in `ps` and `top` (needs the setproctitle package).

Unset, `default_proc_name` is used.""",
    ),
    Setting(
        "default_proc_name", NAMING, v.string, "corn",
        doc="""The process name when `proc_name` is unset; the command line's `APP_MODULE` when given.""",
    ),
    # --- Server Hooks -----------------------------------------------------------------------
    _hook(
        "on_starting", HOOKS, on_starting,
        doc="""`on_starting(server)`: in the master, before it sets up signals and sockets.""",
    ),
    _hook(
        "on_reload", HOOKS, on_reload,
        doc="""`on_reload(server)`: in the master, during a HUP reload, before new workers start.""",
    ),
    _hook(
        "when_ready", HOOKS, when_ready,
        doc="""`when_ready(server)`: in the master, once the sockets listen, before workers start.""",
    ),
    _hook(
        "pre_fork", HOOKS, pre_fork,
        doc="""`pre_fork(server, worker)`: in the master, just before a worker is forked.""",
    ),
    _hook(
        "post_fork", HOOKS, post_fork,
        doc="""`post_fork(server, worker)`: in the new worker, just after the fork.""",
    ),
    _hook(
        "post_worker_init", HOOKS, post_worker_init,
        doc="""`post_worker_init(worker)`: in the worker, once the application is loaded.""",
    ),
    _hook(
        "worker_int", HOOKS, worker_int,
        doc="""`worker_int(worker)`: in the worker, when it gets SIGINT or SIGQUIT.""",
    ),
    _hook(
        "worker_abort", HOOKS, worker_abort,
        doc="""`worker_abort(worker)`: in the worker, when it gets SIGABRT (usually a timeout).""",
    ),
    _hook(
        "pre_exec", HOOKS, pre_exec,
        doc="""`pre_exec(server)`: in the new master, just before it execs itself on USR2.""",
    ),
    Setting(
        "pre_request", HOOKS, v.hook(2), pre_request, arity=(2,),
        default_doc="logs `METHOD path` at debug level",
        doc="""`pre_request(worker, req)`: in the worker, before each request reaches the application.""",
    ),
    _hook(
        "post_request", HOOKS, post_request, arity=(2, 3, 4), validator=v.post_request_hook,
        doc="""`post_request(worker, req, environ, resp)`: in the worker, after each response.

The hook may also take only `(worker, req)` or `(worker, req, environ)`.""",
    ),
    _hook(
        "child_exit", HOOKS, child_exit,
        doc="""`child_exit(server, worker)`: in the master, after a worker exited.""",
    ),
    _hook(
        "worker_exit", HOOKS, worker_exit,
        doc="""`worker_exit(server, worker)`: in the worker, as it exits.""",
    ),
    _hook(
        "nworkers_changed", HOOKS, nworkers_changed,
        doc="""`nworkers_changed(server, new_value, old_value)`: in the master, when the worker count changes.

`old_value` is `None` the first time.""",
    ),
    _hook(
        "on_exit", HOOKS, on_exit,
        doc="""`on_exit(server)`: in the master, just before it exits.""",
    ),
    Setting(
        "ssl_context", HOOKS, v.hook(2), ssl_context, arity=(2,),
        default_doc="returns `default_ssl_context_factory()`",
        doc="""`ssl_context(config, default_ssl_context_factory)`: returns the `SSLContext` to use.

`default_ssl_context_factory()` builds one from the SSL settings; the hook may adjust it,
for example `context.minimum_version = ssl.TLSVersion.TLSv1_3`, and must return it.""",
    ),
    # --- SSL --------------------------------------------------------------------------------
    Setting(
        "keyfile", SSL, v.string, None, cli=("--keyfile",), meta="FILE",
        doc="""The TLS private key file. TLS is on when `keyfile` or `certfile` is set.""",
    ),
    Setting(
        "certfile", SSL, v.string, None, cli=("--certfile",), meta="FILE",
        doc="""The TLS certificate file.""",
    ),
    Setting(
        "ssl_version", SSL, v.anything, ssl.PROTOCOL_TLS, cli=("--ssl-version",),
        default_doc="`ssl.PROTOCOL_TLS`",
        unsupported="deprecated since gunicorn 21 and ignored; use the ssl_context hook",
        doc="""Ignored, as in gunicorn since 21.0: set `minimum_version` in the `ssl_context` hook.""",
    ),
    Setting(
        "cert_reqs", SSL, v.int_range(0, 2), ssl.CERT_NONE, cli=("--cert-reqs",),
        default_doc="`0` (`ssl.CERT_NONE`)",
        doc="""Whether clients must present a certificate: 0 no, 1 optional, 2 required.""",
    ),
    Setting(
        "ca_certs", SSL, v.string, None, cli=("--ca-certs",), meta="FILE",
        doc="""The CA certificates file used to check client certificates.""",
    ),
    _flag(
        "suppress_ragged_eofs", SSL, "--suppress-ragged-eofs", default=True,
        doc="""Treat a TLS connection closed without close_notify as a normal end of file.""",
    ),
    _flag(
        "do_handshake_on_connect", SSL, "--do-handshake-on-connect",
        doc="""Do the TLS handshake as soon as a connection is accepted, not on the first read.""",
    ),
    Setting(
        "ciphers", SSL, v.string, None, cli=("--ciphers",),
        doc="""The OpenSSL cipher list; unset, Python's `ssl` default.""",
    ),
    # --- HTTP/2 -----------------------------------------------------------------------------
    Setting(
        "http_protocols", HTTP2, v.http_protocols, "h1", cli=("--http-protocols",), meta="STRING",
        unsupported=NO_HTTP2, implemented=lambda value: value == ["h1"],
        doc="""Comma-separated protocols to offer, by preference: `h1`, `h2`.""",
    ),
    Setting(
        "http2_cleartext", HTTP2, v.http2_cleartext, "off", cli=("--http2-cleartext",), meta="STRING",
        unsupported=NO_HTTP2,
        doc="""HTTP/2 without TLS: `off`, `prior-knowledge`, `upgrade` or `both`.""",
    ),
    _int(
        "http2_max_concurrent_streams", HTTP2, ("--http2-max-concurrent-streams",), 100,
        validator=v.int_range(1, 2**31 - 1), unsupported=NO_HTTP2,
        doc="""The most HTTP/2 streams open at once on one connection.""",
    ),
    _int(
        "http2_initial_window_size", HTTP2, ("--http2-initial-window-size",), 65535,
        validator=v.int_range(0, 2**31 - 1), unsupported=NO_HTTP2,
        doc="""The initial HTTP/2 flow-control window in bytes.""",
    ),
    _int(
        "http2_max_frame_size", HTTP2, ("--http2-max-frame-size",), 16384,
        validator=v.int_range(16384, 16777215), unsupported=NO_HTTP2,
        doc="""The largest HTTP/2 frame payload accepted, 16384 to 16777215 bytes.""",
    ),
    _int(
        "http2_max_header_list_size", HTTP2, ("--http2-max-header-list-size",), 65536,
        unsupported=NO_HTTP2,
        doc="""The largest decompressed HTTP/2 header list in bytes; 0 for no limit.""",
    ),
    # --- Dirty Arbiters ---------------------------------------------------------------------
    Setting(
        "dirty_apps", DIRTY, v.string_list, [], cli=("--dirty-app",), meta="STRING", action="append",
        unsupported=NO_DIRTY,
        doc="""Applications for gunicorn's dirty worker pool, `module:Class` or `module:Class:N`.""",
    ),
    _int(
        "dirty_workers", DIRTY, ("--dirty-workers",), 0, unsupported=NO_DIRTY,
        doc="""The number of dirty worker processes; 0 disables the dirty arbiter.""",
    ),
    _int(
        "dirty_timeout", DIRTY, ("--dirty-timeout",), 300, unsupported=NO_DIRTY,
        doc="""Seconds a dirty task may run; 0 disables the check.""",
    ),
    _int(
        "dirty_threads", DIRTY, ("--dirty-threads",), 1, unsupported=NO_DIRTY,
        doc="""Threads per dirty worker.""",
    ),
    _int(
        "dirty_graceful_timeout", DIRTY, ("--dirty-graceful-timeout",), 30, unsupported=NO_DIRTY,
        doc="""Seconds dirty workers get to finish on shutdown.""",
    ),
    # --- Dirty Arbiter Hooks ----------------------------------------------------------------
    _hook(
        "on_dirty_starting", DIRTY_HOOKS, on_dirty_starting, unsupported=NO_DIRTY,
        doc="""`on_dirty_starting(arbiter)`: before the dirty arbiter starts.""",
    ),
    _hook(
        "dirty_post_fork", DIRTY_HOOKS, dirty_post_fork, unsupported=NO_DIRTY,
        doc="""`dirty_post_fork(arbiter, worker)`: after a dirty worker is forked.""",
    ),
    _hook(
        "dirty_worker_init", DIRTY_HOOKS, dirty_worker_init, unsupported=NO_DIRTY,
        doc="""`dirty_worker_init(worker)`: after a dirty worker loaded its applications.""",
    ),
    _hook(
        "dirty_worker_exit", DIRTY_HOOKS, dirty_worker_exit, unsupported=NO_DIRTY,
        doc="""`dirty_worker_exit(arbiter, worker)`: after a dirty worker exited.""",
    ),
    # --- Control ----------------------------------------------------------------------------
    Setting(
        "control_socket", CONTROL, v.string, "~/.corn/corn.ctl", cli=("--control-socket",), meta="PATH",
        default_from=_default_control_socket,
        default_doc="`$XDG_RUNTIME_DIR/corn.ctl`, else `~/.corn/corn.ctl`",
        unsupported=NO_CONTROL,
        doc="""The Unix socket of gunicorn's control interface (`gunicornc`).""",
    ),
    _int(
        "control_socket_mode", CONTROL, ("--control-socket-mode",), 0o600, validator=v.auto_int,
        default_doc="`0o600`", unsupported=NO_CONTROL,
        doc="""The permissions of the control socket.""",
    ),
    # No warning for this one: corn never opens a control socket, which is what it asks for.
    _flag(
        "control_socket_disable", CONTROL, "--no-control-socket",
        doc="""Do not open a control socket. corn never opens one, so this changes nothing.""",
    ),
)
# fmt: on

BY_NAME = {setting.name: setting for setting in SETTINGS}

SECTIONS = tuple(dict.fromkeys(setting.section for setting in SETTINGS))

UNSUPPORTED = frozenset(setting.name for setting in SETTINGS if setting.unsupported)

REMOVED = {
    "tolerate_dangerous_framing": "was removed in gunicorn 23; corn always refuses ambiguous framing",
}


# --- the Markdown reference -----------------------------------------------------------------


def _default_text(setting):
    if setting.default_doc is not None:
        return setting.default_doc
    return f"`{setting.default!r}`"


def _flags_text(setting):
    if not setting.cli:
        return "config file only"
    meta = ""
    if setting.action in ("store", "append"):
        meta = f" {setting.meta or 'VALUE'}"
        if setting.nargs == "?":
            meta = f" [{setting.meta or 'VALUE'}]"
    return ", ".join(f"`{flag}{meta}`" for flag in setting.cli)


def render_markdown():
    """The settings reference as Markdown, one section per group, in registry order."""
    out = [
        "Generated from corn/settings.py; do not edit.",
        "",
        "# corn settings",
        "",
        "Every setting can be given in a config file (`corn.conf.py`, gunicorn's format: Python, one",
        "top-level name per setting) and most on the command line. Sources apply in this order, each",
        "overriding the one before: defaults, the config file, `GUNICORN_CMD_ARGS`, `CORN_CMD_ARGS`,",
        "the command line.",
        "",
        "Settings marked *not implemented* are accepted so that gunicorn configurations keep working;",
        "giving one a value corn does not honour prints one warning.",
        "",
    ]
    for section in SECTIONS:
        out += [f"## {section}", ""]
        for setting in SETTINGS:
            if setting.section != section:
                continue
            out += [f"### `{setting.name}`", ""]
            out += [f"- Flags: {_flags_text(setting)}", f"- Default: {_default_text(setting)}"]
            if setting.unsupported:
                out.append(f"- *Not implemented*: {setting.unsupported}.")
            out += ["", setting.doc.strip(), ""]
    removed = ", ".join(f"`{name}`" for name in REMOVED)
    out += [
        "## Removed settings",
        "",
        f"A config file may still set {removed}: corn accepts it with a warning and ignores it.",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
