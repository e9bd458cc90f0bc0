"""StatsD metrics, sent by a logger: gunicorn's metric names and wire format, over UDP (or a unix
datagram socket) to `statsd_host`.

The arbiter uses this logger instead of the default one when `statsd_host` is set and
`logger_class` is left alone (as gunicorn does); `logger_class = "corn.statsd.Statsd"` (or
gunicorn's path, `gunicorn.instrument.statsd.Statsd`) asks for it explicitly. It logs exactly as
the default logger does, and also sends:

- per request, from `access()`: `gunicorn.request.duration` (a timer, in milliseconds),
  `gunicorn.requests` and `gunicorn.request.status.NNN` (counters);
- per error-log call at warning and above: `gunicorn.log.{critical,error,warning,exception}`;
- for any log call with `extra={"metric": NAME, "value": V, "mtype": TYPE}`, that metric
  (`gauge`, `counter`, `histogram` or `timer`): the master's `gunicorn.workers` gauge comes so.

Each metric is one datagram, `PREFIXNAME:VALUE|TYPE` (`|c|@1.0` for counters), with `|#TAGS`
appended when `dogstatsd_tags` is set; `statsd_prefix` gets a trailing dot. The socket is made in
the master and inherited by the workers. Sending never raises and never blocks: failures are
logged at most once a minute.

The per-request work costs nothing when statsd is off: the compiled handler calls `access()`
only when `access_enabled` is true, and only this logger sets it without an access log. The
access log itself is still written only when one is configured.

Plane: control.
"""

import logging
import socket
import time

from corn.glogging import Logger

GAUGE, COUNTER, HISTOGRAM, TIMER = "gauge", "counter", "histogram", "timer"
SUFFIXES = {GAUGE: "|g", COUNTER: "|c|@1.0", HISTOGRAM: "|h", TIMER: "|ms"}
WARN_INTERVAL = 60.0  # seconds between two warnings about metrics that could not be sent


def metric_prefix(prefix):
    """`statsd_prefix` with one trailing dot, or nothing."""
    prefix = (prefix or "").rstrip(".")
    return prefix + "." if prefix else ""


class Statsd(Logger):
    """The default logger, plus metrics to `statsd_host`."""

    def __init__(self, cfg):
        self.sock = None
        self.warned_at = None  # monotonic time of the last warning about a failed send
        super().__init__(cfg)

    def setup(self, cfg):
        super().setup(cfg)
        self.log_access = self.access_enabled  # whether an access log is configured
        self.access_enabled = True  # the handler calls access() for every request: the metrics need it
        self.prefix = metric_prefix(cfg.statsd_prefix)
        self.tags = ("|#" + cfg.dogstatsd_tags) if cfg.dogstatsd_tags else ""
        if self.sock is not None:
            self.sock.close()
        self.sock = self._connect(cfg.statsd_host)

    def _connect(self, address):
        if address is None:
            return None
        if isinstance(address, str):
            family = socket.AF_UNIX
        elif ":" in address[0]:
            family = socket.AF_INET6
        else:
            family = socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            super().warning("Cannot send metrics to statsd at %s: %s", address, exc)
            return None
        return sock

    # --- the error log, counted -----------------------------------------------------------

    def critical(self, msg, *args, **kwargs):
        super().critical(msg, *args, **kwargs)
        self.increment("gunicorn.log.critical", 1)

    def error(self, msg, *args, **kwargs):
        super().error(msg, *args, **kwargs)
        self.increment("gunicorn.log.error", 1)

    def warning(self, msg, *args, **kwargs):
        super().warning(msg, *args, **kwargs)
        self.increment("gunicorn.log.warning", 1)

    def exception(self, msg, *args, **kwargs):
        super().exception(msg, *args, **kwargs)
        self.increment("gunicorn.log.exception", 1)

    def info(self, msg, *args, **kwargs):
        self.log(logging.INFO, msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def log(self, lvl, msg, *args, **kwargs):
        """Log, and send the metric described by `extra` when there is one."""
        extra = kwargs.get("extra")
        if extra:
            name, value, kind = extra.get("metric"), extra.get("value"), extra.get("mtype")
            if name and value is not None and kind in SUFFIXES:
                self.send(name, value, kind)
        if msg:
            super().log(lvl, msg, *args, **kwargs)

    # --- per request ----------------------------------------------------------------------

    def access(self, environ, status, response_headers, sent, request_time):
        if self.log_access:
            Logger.access(self, environ, status, response_headers, sent, request_time)
        try:
            code = int(status.split(None, 1)[0]) if isinstance(status, str) else int(status)
        except (ValueError, IndexError):
            code = None
        self.send("gunicorn.request.duration", round(request_time * 1_000_000) / 1000, TIMER)
        self.send("gunicorn.requests", 1, COUNTER)
        if code is not None:
            self.send(f"gunicorn.request.status.{code}", 1, COUNTER)

    # --- statsd ---------------------------------------------------------------------------

    def gauge(self, name, value):
        self.send(name, value, GAUGE)

    def increment(self, name, value=1, sampling_rate=1.0):
        self.send(name, value, COUNTER)

    def decrement(self, name, value=1, sampling_rate=1.0):
        self.send(name, -value, COUNTER)

    def histogram(self, name, value):
        self.send(name, value, HISTOGRAM)

    def timer(self, name, value):
        self.send(name, value, TIMER)

    def send(self, name, value, kind):
        if self.sock is None:
            return
        try:
            self.sock.send(f"{self.prefix}{name}:{value}{SUFFIXES[kind]}{self.tags}".encode("ascii"))
        except (OSError, UnicodeEncodeError) as exc:
            now = time.monotonic()
            if self.warned_at is None or now - self.warned_at >= WARN_INTERVAL:
                self.warned_at = now
                Logger.warning(self, "Error sending message to statsd: %s", exc)
