"""`--access-log-json`: one access log line as one JSON object.

`line(environ, status, sent, request_time)` is what `corn.glogging.Logger.access` writes instead
of `access_log_format` when `access_log_json` is on; the line goes to the access log's own
destinations (`accesslog` file or `-`, syslog, reopened on USR1).

Escaping: WSGI hands the request's bytes over as latin-1 `str` (one character per byte), so each
text field is turned back into those bytes and read as UTF-8, and any byte that is not part of
valid UTF-8 is written as the four characters `\\xHH` (Python's `backslashreplace`). The result is
then written by `json.dumps` with `ensure_ascii`: quotes, backslashes, control characters and
everything beyond ASCII are JSON escapes, so every line is plain ASCII and one valid JSON object,
whatever the client sent. (A literal `\\xHH` in the request reads the same as an invalid byte.)

The fields, always present, in this order (null when the request did not carry the header):

| field | value |
| --- | --- |
| `time` | when the request ended, ISO 8601 with milliseconds, local time with its offset |
| `remote_addr` | the client's address (`REMOTE_ADDR`) |
| `method` | the request method |
| `path` | the path, percent-decoded (`PATH_INFO`, after `SCRIPT_NAME`) |
| `query` | the query string as sent (`QUERY_STRING`) |
| `protocol` | `HTTP/1.1` or `HTTP/1.0` |
| `status` | the response status code, a number |
| `bytes` | response body bytes sent, a number |
| `duration` | seconds from the request's head to its last byte, a number |
| `referer` | the `Referer` header |
| `user_agent` | the `User-Agent` header |
| `request_id` | the `X-Request-ID` header |
| `correlation_id` | the `X-Correlation-ID` header |
| `traceparent` | the W3C `traceparent` header |
| `amzn_trace_id` | the `X-Amzn-Trace-Id` header |
| `pid` | the worker's process id |

Plane: control.
"""

import datetime
import json
import os

# field -> environ key, for the text fields taken from the environ as they are
TEXT_FIELDS = (
    ("remote_addr", "REMOTE_ADDR"),
    ("method", "REQUEST_METHOD"),
    ("path", "PATH_INFO"),
    ("query", "QUERY_STRING"),
    ("protocol", "SERVER_PROTOCOL"),
)
HEADER_FIELDS = (
    ("referer", "HTTP_REFERER"),
    ("user_agent", "HTTP_USER_AGENT"),
    ("request_id", "HTTP_X_REQUEST_ID"),
    ("correlation_id", "HTTP_X_CORRELATION_ID"),
    ("traceparent", "HTTP_TRACEPARENT"),
    ("amzn_trace_id", "HTTP_X_AMZN_TRACE_ID"),
)
FIELDS = ("time",) + tuple(f for f, _ in TEXT_FIELDS) + ("status", "bytes", "duration") \
    + tuple(f for f, _ in HEADER_FIELDS) + ("pid",)


def text(value):
    """A WSGI native string (latin-1, one character per byte) as readable text: its bytes as
    UTF-8, a byte that is not valid UTF-8 as `\\xHH`."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value  # not a WSGI native string (an app's own value): json.dumps escapes it as is
    return raw.decode("utf-8", "backslashreplace")


def status_code(status):
    head = str(status).split(None, 1)[0] if status is not None else ""
    return int(head) if head.isdigit() else None


def line(environ, status, sent, request_time):
    """The access log line of one request, as a JSON object on one line."""
    get = environ.get
    record = {"time": datetime.datetime.now().astimezone().isoformat(timespec="milliseconds")}
    for field, key in TEXT_FIELDS:
        record[field] = text(get(key))
    record["status"] = status_code(status)
    record["bytes"] = sent
    record["duration"] = round(request_time, 6)
    for field, key in HEADER_FIELDS:
        record[field] = text(get(key))
    record["pid"] = os.getpid()
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))
