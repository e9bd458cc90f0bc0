"""Access logging across corn's logger interface and gunicorn's.

corn's compiled handler calls `log.access(environ, status, headers, sent, request_time)`: the
status line, the response headers as a list of pairs, the body bytes written and the seconds
the request took, and only while `log.access_enabled` is true. A logger written for gunicorn
(usually a subclass of `gunicorn.glogging.Logger`) takes `access(resp, req, environ,
request_time)` instead, reads atoms off gunicorn's response and request objects, gets a
`timedelta`, and says `access_log_enabled`. Workers written for gunicorn call that form.

- `logger_kind(cls)` tells the two apart by the signature of `cls.access`.
- `for_corn(logger)` is what corn's workers and handler get: a corn logger as it is, a gunicorn
  one behind `GunicornLogger`, which builds light `resp` and `req` objects for it per request.
- `for_gunicorn(logger)` is what a worker written for gunicorn gets: a gunicorn logger as it is,
  corn's behind `CornLogger`.

The adapters pass every other attribute through, so the error-log methods, `setup()` (on HUP),
`reopen_files()` and `close_on_exec()` are the wrapped logger's own.

Plane: control.
"""

import datetime
import inspect
import sys
from urllib.parse import urlsplit

from corn.errors import ConfigError
from corn.glogging import WSGIErrors

CORN = "corn"
GUNICORN = "gunicorn"
CORN_SIGNATURE = "(environ, status, headers, sent, request_time)"
GUNICORN_SIGNATURE = "(resp, req, environ, request_time)"
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def logger_kind(cls):
    """CORN or GUNICORN, after the arguments of `cls.access`; ConfigError for anything else."""
    name = getattr(cls, "__qualname__", repr(cls))
    access = getattr(cls, "access", None)
    expected = f"expected corn's access{CORN_SIGNATURE} or gunicorn's access{GUNICORN_SIGNATURE}"
    if not callable(access):
        raise ConfigError(f"Invalid value for logger_class: {name} has no access() method ({expected})")
    try:
        parameters = list(inspect.signature(access).parameters.values())
    except (TypeError, ValueError):
        return CORN
    if inspect.isfunction(access) and parameters:
        parameters = parameters[1:]  # self
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return CORN
    count = sum(1 for p in parameters if p.kind in POSITIONAL)
    if count == 5:
        return CORN
    if count == 4:
        return GUNICORN
    raise ConfigError(f"Invalid value for logger_class: {name}.access() takes {count} arguments ({expected})")


def for_corn(logger):
    """A logger with corn's access() for `logger`, a logger of either kind."""
    if isinstance(logger, CornLogger):
        return logger.logger
    if isinstance(logger, GunicornLogger) or logger_kind(type(logger)) == CORN:
        return logger
    return GunicornLogger(logger)


def for_gunicorn(logger):
    """A logger with gunicorn's access() for `logger`, a logger of either kind."""
    if isinstance(logger, GunicornLogger):
        return logger.logger
    if isinstance(logger, CornLogger) or logger_kind(type(logger)) == GUNICORN:
        return logger
    return CornLogger(logger)


class GunicornLogger:
    """A logger written for gunicorn, with the interface corn's handler calls."""

    def __init__(self, logger):
        self.logger = logger
        error_log = getattr(logger, "error_log", None)
        self.wsgi_errors = WSGIErrors(error_log) if error_log is not None else sys.stderr

    def __getattr__(self, name):
        return getattr(self.logger, name)

    @property
    def access_enabled(self):
        enabled = getattr(self.logger, "access_log_enabled", None)
        if enabled is None:
            enabled = getattr(self.logger, "access_enabled", True)
        return bool(enabled)

    def access(self, environ, status, headers, sent, request_time):
        self.logger.access(
            AccessResponse(status, headers, sent),
            AccessRequest(environ),
            environ,
            datetime.timedelta(seconds=request_time),
        )


class CornLogger:
    """corn's logger, with the interface a worker written for gunicorn calls."""

    def __init__(self, logger):
        self.logger = logger

    def __getattr__(self, name):
        return getattr(self.logger, name)

    @property
    def access_log_enabled(self):
        return self.logger.access_enabled

    def access(self, resp, req, environ, request_time):
        if not self.logger.access_enabled:
            return
        headers = getattr(resp, "headers", None) or []
        if hasattr(headers, "items"):
            headers = list(headers.items())
        if isinstance(request_time, datetime.timedelta):
            request_time = request_time.total_seconds()
        self.logger.access(environ, resp.status, headers, getattr(resp, "sent", None), request_time)


class AccessResponse:
    """What gunicorn's access atoms and loggers read off `gunicorn.http.wsgi.Response`."""

    __slots__ = ("status", "headers", "sent")

    def __init__(self, status, headers, sent):
        self.status = status
        self.headers = headers if headers is not None else []
        self.sent = sent

    @property
    def status_code(self):
        try:
            return int(str(self.status).split(None, 1)[0])
        except ValueError:
            return None

    @property
    def response_length(self):
        """The Content-Length the app declared, None without one (as gunicorn's)."""
        for name, value in self.headers:
            if name.lower() == "content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    headers_sent = True

    def __repr__(self):
        return f"<AccessResponse {self.status}>"


class AccessRequest:
    """What gunicorn's access atoms and loggers read off `gunicorn.http.message.Request`, made
    from the environ. Header names are upper-case, as gunicorn's parser gives them; headers sent
    more than once come as one, joined as in the environ."""

    __slots__ = ("environ", "_parts")

    def __init__(self, environ):
        self.environ = environ
        self._parts = None

    @property
    def method(self):
        return self.environ.get("REQUEST_METHOD")

    @property
    def uri(self):
        return self.environ.get("RAW_URI", "")

    def _split(self):
        if self._parts is None:
            self._parts = urlsplit(self.uri)
        return self._parts

    @property
    def path(self):
        return self._split().path

    @property
    def query(self):
        return self._split().query

    @property
    def fragment(self):
        return self._split().fragment

    @property
    def version(self):
        protocol = self.environ.get("SERVER_PROTOCOL", "HTTP/1.1")
        major, _, minor = protocol.partition("/")[2].partition(".")
        try:
            return int(major), int(minor or 0)
        except ValueError:
            return 1, 1

    @property
    def scheme(self):
        return self.environ.get("wsgi.url_scheme", "http")

    @property
    def remote_addr(self):
        return self.environ.get("REMOTE_ADDR"), self.environ.get("REMOTE_PORT")

    peer_addr = remote_addr

    @property
    def headers(self):
        found = []
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                found.append((key[5:].replace("_", "-"), value))
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                found.append((key.replace("_", "-"), value))
        return found

    def __repr__(self):
        return f"<AccessRequest {self.method} {self.uri}>"
