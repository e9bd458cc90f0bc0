"""The error log and the access log, with gunicorn's formats, atoms and logger names.

The loggers are named `gunicorn.error` and `gunicorn.access`, as in gunicorn, because apps and
`logconfig_dict` files name them (`logging.getLogger("gunicorn.error")` is a common idiom).

- Error log: `errorlog` ('-' = stderr) at `loglevel`, each line
  `[%Y-%m-%d %H:%M:%S %z] [pid] [LEVEL] message`.
- Access log: `accesslog` ('-' = stdout), one line per request rendered from
  `access_log_format` with the atoms of gunicorn's `Logger.atoms` (reference §3.13). The handler
  calls `access(environ, status, response_headers, sent, request_time)` only when
  `access_enabled` is true, so a server without an access log builds no atoms at all.
  `{name}i`, `{name}o` and `{name}e` atoms are looked up lazily, case-insensitively; a missing
  atom renders as '-'; in string values only '"' is escaped (as gunicorn does).
- `setup(cfg)` may run again on HUP; it replaces only the handlers it installed itself.
- `logconfig_dict`, `logconfig_json` and `logconfig` (fileConfig) are applied over gunicorn's
  defaults, and `syslog` adds a SysLogHandler, as in gunicorn.

Plane: control.
"""

import base64
import binascii
import json
import logging
import logging.config
import logging.handlers
import os
import socket
import sys
import threading
import time
import traceback

ERROR_LOGGER = "gunicorn.error"
ACCESS_LOGGER = "gunicorn.access"

ERROR_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
ACCESS_FORMAT = "%(message)s"
SYSLOG_FORMAT = "[%(process)d] %(message)s"

LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}

SYSLOG_FACILITIES = {
    "auth": 4, "authpriv": 10, "cron": 9, "daemon": 3, "ftp": 11, "kern": 0, "lpr": 6, "mail": 2,
    "news": 7, "security": 4, "syslog": 5, "user": 1, "uucp": 8, "local0": 16, "local1": 17,
    "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

# The base that logconfig_dict / logconfig_json are merged over (gunicorn's CONFIG_DEFAULTS).
CONFIG_DEFAULTS = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        ERROR_LOGGER: {
            "level": "INFO", "handlers": ["error_console"], "propagate": True, "qualname": ERROR_LOGGER,
        },
        ACCESS_LOGGER: {
            "level": "INFO", "handlers": ["console"], "propagate": True, "qualname": ACCESS_LOGGER,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr",
        },
    },
    "formatters": {
        "generic": {"format": ERROR_FORMAT, "datefmt": DATE_FORMAT, "class": "logging.Formatter"},
    },
}

_OWN = "_corn_handler"  # marks the handlers setup() installed, so a re-run replaces only those


def _mark(handler):
    setattr(handler, _OWN, True)
    return handler


def _all_loggers():
    loggers = list(logging.root.manager.loggerDict.values())
    return [logging.root] + [log for log in loggers if isinstance(log, logging.Logger)]


def _set_cloexec(fd):
    os.set_inheritable(fd, False)


class Atoms(dict):
    """The access-log atoms for one request: the fixed ones computed eagerly, `{...}i/o/e`
    resolved on lookup. Missing atoms are '-'; '"' in string values becomes '\\"'."""

    __slots__ = ("_environ", "_headers", "_environ_lower")

    def __init__(self, atoms, environ, response_headers):
        super().__init__()
        for key, value in atoms.items():
            self[key] = value.replace('"', '\\"') if isinstance(value, str) else value
        self._environ = environ
        self._headers = response_headers
        self._environ_lower = None

    def __missing__(self, key):
        if len(key) > 3 and key[0] == "{" and key[-2] == "}":
            value = self._lookup(key[1:-2].lower(), key[-1])
            if value is not None:
                return value.replace('"', '\\"') if isinstance(value, str) else value
        return "-"

    def _lookup(self, name, kind):
        if kind == "i":
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            return self._environ.get(key)
        if kind == "o":
            found = None
            for header, value in self._headers:
                if header.lower() == name:
                    found = value
            return found
        if kind == "e":
            if self._environ_lower is None:
                self._environ_lower = {k.lower(): v for k, v in self._environ.items() if isinstance(k, str)}
            return self._environ_lower.get(name)
        return None


class WSGIErrors:
    """`wsgi.errors`: what the app writes goes, as written, to every stream of the error log."""

    def __init__(self, error_log):
        self._error_log = error_log

    def _streams(self):
        streams = [h.stream for h in self._error_log.handlers if isinstance(h, logging.StreamHandler)]
        return streams or [sys.stderr]

    def write(self, data):
        for stream in self._streams():
            stream.write(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        for stream in self._streams():
            stream.flush()


class Logger:
    """gunicorn-compatible logger: error-log methods plus `access()`, `reopen_files()`,
    `close_on_exec()`."""

    LOG_LEVELS = LOG_LEVELS
    error_fmt = ERROR_FORMAT
    datefmt = DATE_FORMAT
    access_fmt = ACCESS_FORMAT
    syslog_fmt = SYSLOG_FORMAT

    def __init__(self, cfg):
        self.error_log = logging.getLogger(ERROR_LOGGER)
        self.error_log.propagate = False
        self.access_log = logging.getLogger(ACCESS_LOGGER)
        self.access_log.propagate = False
        self.logfile = None
        self.lock = threading.Lock()
        self.cfg = cfg
        self.access_enabled = False
        self.loglevel = logging.INFO
        self.wsgi_errors = WSGIErrors(self.error_log)
        self._clf_second = None
        self._clf_text = ""
        self.setup(cfg)

    # --- configuration -------------------------------------------------------------------

    def setup(self, cfg):
        self.cfg = cfg
        self.access_enabled = bool(
            cfg.accesslog
            or cfg.logconfig
            or cfg.logconfig_dict
            or cfg.logconfig_json
            or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)
        )
        self.loglevel = LOG_LEVELS.get(str(cfg.loglevel).lower(), logging.INFO)
        self.error_log.setLevel(self.loglevel)
        self.access_log.setLevel(logging.INFO)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                if getattr(handler, _OWN, False):
                    log.removeHandler(handler)
                    handler.close()

        if cfg.capture_output and cfg.errorlog != "-":
            self._capture_output()

        error_formatter = logging.Formatter(self.error_fmt, self.datefmt)
        self._add_handler(self.error_log, cfg.errorlog, error_formatter, sys.stderr)
        if cfg.accesslog is not None:
            self._add_handler(self.access_log, cfg.accesslog, logging.Formatter(self.access_fmt), sys.stdout)
        if cfg.syslog:
            self._add_syslog_handler(self.error_log, cfg, "error")
            if not cfg.disable_redirect_access_to_syslog:
                self._add_syslog_handler(self.access_log, cfg, "access")

        if cfg.logconfig_dict:
            self._dict_config(dict(cfg.logconfig_dict))
        elif cfg.logconfig_json:
            try:
                with open(cfg.logconfig_json) as f:
                    loaded = json.load(f)
            except (OSError, ValueError) as exc:
                raise RuntimeError(f"log config {cfg.logconfig_json!r} is unreadable: {exc}") from exc
            self._dict_config(loaded)
        elif cfg.logconfig:
            if not os.path.exists(cfg.logconfig):
                raise RuntimeError(f"log config '{cfg.logconfig}' not found")
            defaults = {"__file__": cfg.logconfig, "here": os.path.dirname(cfg.logconfig)}
            logging.config.fileConfig(cfg.logconfig, defaults=defaults, disable_existing_loggers=False)

    def _dict_config(self, overrides):
        """dictConfig over gunicorn's defaults. As in gunicorn, `loggers` and `root` replace the
        defaults; `handlers`, `formatters` and `filters` are merged into them, so a config that
        defines only its own handlers still leaves the default root handler resolvable."""
        config = dict(CONFIG_DEFAULTS)
        for key, value in overrides.items():
            if key in ("handlers", "formatters", "filters") and isinstance(value, dict):
                config[key] = {**config.get(key, {}), **value}
            else:
                config[key] = value
        try:
            logging.config.dictConfig(config)
        except (AttributeError, ImportError, ValueError, TypeError) as exc:
            raise RuntimeError(str(exc)) from exc

    def _capture_output(self):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        with self.lock:
            if self.logfile is not None:
                self.logfile.close()
            self.logfile = open(self.cfg.errorlog, "a+")
            os.dup2(self.logfile.fileno(), sys.stdout.fileno())
            os.dup2(self.logfile.fileno(), sys.stderr.fileno())

    def _add_handler(self, log, output, formatter, stream):
        if output == "-":
            handler = logging.StreamHandler(stream)
        else:
            directory = os.path.dirname(os.path.abspath(output))
            if not os.path.isdir(directory):
                raise RuntimeError(f"'{output}' isn't writable ({directory} does not exist)")
            handler = logging.FileHandler(output)
            try:
                os.chown(handler.baseFilename, self.cfg.uid, self.cfg.gid)
            except OSError:
                pass  # not ours to change (not root, or /dev/null): the workers can still write
        handler.setFormatter(formatter)
        log.addHandler(_mark(handler))

    def _add_syslog_handler(self, log, cfg, name):
        prefix = cfg.syslog_prefix or str(cfg.proc_name).replace(":", ".")
        formatter = logging.Formatter(f"gunicorn.{prefix}.{name}: {self.syslog_fmt}")
        try:
            facility = SYSLOG_FACILITIES[cfg.syslog_facility.lower()]
        except KeyError:
            raise RuntimeError(f"unknown syslog facility name {cfg.syslog_facility!r}") from None
        socktype, address = parse_syslog_address(cfg.syslog_addr)
        handler = logging.handlers.SysLogHandler(address=address, facility=facility, socktype=socktype)
        handler.setFormatter(formatter)
        log.addHandler(_mark(handler))

    # --- the error log -------------------------------------------------------------------

    def critical(self, msg, *args, **kwargs):
        self.error_log.critical(msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        self.error_log.error(msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        self.error_log.warning(msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self.error_log.info(msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.error_log.debug(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        self.error_log.exception(msg, *args, **kwargs)

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = LOG_LEVELS.get(lvl.lower(), logging.INFO)
        self.error_log.log(lvl, msg, *args, **kwargs)

    # --- the access log ------------------------------------------------------------------

    @property
    def access_log_enabled(self):
        """gunicorn's name for `access_enabled`."""
        return self.access_enabled

    def access(self, environ, status, response_headers, sent, request_time):
        """Log one request. `status` is the status line ("200 OK"), `sent` the body bytes written,
        `request_time` the seconds spent on the request."""
        if not self.access_enabled:
            return
        if getattr(self.cfg, "access_log_json", False):
            from corn.accesslog_json import line

            try:
                self.access_log.info("%s", line(environ, status, sent, request_time))
            except Exception:
                self.error(traceback.format_exc())
            return
        atoms = Atoms(self.atoms(environ, status, sent, request_time), environ, response_headers)
        try:
            self.access_log.info(self.cfg.access_log_format, atoms)
        except Exception:
            self.error(traceback.format_exc())

    def atoms(self, environ, status, sent, request_time):
        """The fixed atoms (everything but `{name}i/o/e`)."""
        micros = round(request_time * 1_000_000)
        seconds, micros = divmod(micros, 1_000_000)
        get = environ.get
        return {
            "h": get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._basic_auth_user(get("HTTP_AUTHORIZATION")) or "-",
            "t": self.now(),
            "r": f"{get('REQUEST_METHOD')} {get('RAW_URI')} {get('SERVER_PROTOCOL')}",
            "s": status.split(None, 1)[0] if isinstance(status, str) else status,
            "m": get("REQUEST_METHOD"),
            "U": get("PATH_INFO"),
            "q": get("QUERY_STRING"),
            "H": get("SERVER_PROTOCOL"),
            "b": str(sent) if sent is not None else "-",
            "B": sent,
            "f": get("HTTP_REFERER", "-"),
            "a": get("HTTP_USER_AGENT", "-"),
            "T": seconds,
            "D": seconds * 1_000_000 + micros,
            "M": seconds * 1000 + micros // 1000,
            "L": "%d.%06d" % (seconds, micros),
            "p": f"<{os.getpid()}>",
        }

    def now(self):
        """The time in Common Log Format, formatted at most once per second."""
        second = int(time.time())
        if second != self._clf_second:
            self._clf_text = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
            self._clf_second = second
        return self._clf_text

    def _basic_auth_user(self, header):
        if not header or not header[:5].lower() == "basic":
            return None
        parts = header.split(" ", 1)
        if len(parts) != 2:
            return None
        try:
            decoded = base64.b64decode(parts[1].strip().encode("utf-8"))
            return decoded.split(b":", 1)[0].decode("utf-8")
        except (TypeError, binascii.Error, UnicodeDecodeError) as exc:
            self.debug("Couldn't get username: %s", exc)
            return None

    # --- files ---------------------------------------------------------------------------

    def reopen_files(self):
        """USR1: reopen every log file (after logrotate moved them)."""
        if self.cfg.capture_output and self.cfg.errorlog != "-":
            self._capture_output()
        for log in _all_loggers():
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler):
                    handler.acquire()
                    try:
                        if handler.stream:
                            handler.close()
                            handler.stream = handler._open()
                    finally:
                        handler.release()

    def close_on_exec(self):
        for log in _all_loggers():
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler):
                    handler.acquire()
                    try:
                        if handler.stream:
                            _set_cloexec(handler.stream.fileno())
                    finally:
                        handler.release()


def parse_syslog_address(addr):
    """(socktype, address) for `udp://HOST:PORT`, `tcp://HOST:PORT` or `unix://PATH[#dgram|#stream]`."""
    if addr.startswith("unix://"):
        path, _, kind = addr[len("unix://"):].partition("#")
        socktype = {"dgram": socket.SOCK_DGRAM, "stream": socket.SOCK_STREAM}.get(kind)
        return socktype, path
    if addr.startswith("udp://"):
        rest, socktype = addr[len("udp://"):], socket.SOCK_DGRAM
    elif addr.startswith("tcp://"):
        rest, socktype = addr[len("tcp://"):], socket.SOCK_STREAM
    else:
        raise RuntimeError(f"invalid syslog address {addr!r} (expected udp://, tcp:// or unix://)")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port = rest.partition(":")
    host = host.lower() or "localhost"
    if port and not port.isdigit():
        raise RuntimeError(f"{port!r} is not a valid port number.")
    return socktype, (host, int(port) if port else 514)
