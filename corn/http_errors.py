"""Every way a request can be refused, as a class carrying its HTTP answer.

Class names and messages follow gunicorn's `gunicorn.http.errors` so log lines read the same.
Each class has `status_code` and `reason`; `error_response()` is the one function that turns any
of them into the bytes sent back, after which the connection is always closed. A client that
goes away (`NoMoreData`) is not an HTTP error: the handler closes quietly.

Error responses carry the Server and Date fields every corn response carries (RFC 9110 6.6.1: a
server with a clock sends Date on 4xx); the caller passes the Date value it keeps, formatted at
most once a second. gunicorn sends neither.

Where gunicorn answers with an odd status (501 "Bad Request", 500 for a bad PROXY v2 header,
500 "Bad Request" for a path outside SCRIPT_NAME) corn sends the correct one.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from html import escape

from corn import SERVER


class NoMoreData(OSError):
    """The peer closed the connection in the middle of a request."""


class HTTPParseError(Exception):
    status_code = 400
    reason = "Bad Request"
    respond = True  # False: the connection is closed without a response


class InvalidRequestLine(HTTPParseError):
    def __init__(self, req):
        super().__init__(f"Invalid HTTP request line: {req!r}")


class InvalidRequestMethod(HTTPParseError):
    def __init__(self, method):
        super().__init__(f"Invalid HTTP method: {method!r}")


class InvalidHTTPVersion(HTTPParseError):
    def __init__(self, version):
        super().__init__(f"Invalid HTTP Version: {version!r}")


class InvalidHeader(HTTPParseError):
    def __init__(self, hdr, req=None):
        super().__init__(f"Invalid HTTP Header: {hdr!r}")


class ObsoleteFolding(HTTPParseError):
    def __init__(self, hdr):
        super().__init__(f"Obsolete line folding is unacceptable: {hdr!r}")


class InvalidHeaderName(HTTPParseError):
    def __init__(self, hdr):
        super().__init__(f"Invalid HTTP header name: {hdr!r}")


class UnsupportedTransferCoding(HTTPParseError):
    status_code = 501
    reason = "Not Implemented"

    def __init__(self, hdr):
        super().__init__(f"Unsupported transfer coding: {hdr!r}")


class InvalidChunkSize(HTTPParseError):
    def __init__(self, data):
        super().__init__(f"Invalid chunk size: {data!r}")


class ChunkMissingTerminator(HTTPParseError):
    def __init__(self, term):
        super().__init__(f"Invalid chunk terminator is not '\\r\\n': {term!r}")


class InvalidChunkExtension(HTTPParseError):
    def __init__(self, reason):
        super().__init__(f"Invalid chunk extension: {reason}")


class LimitRequestLine(HTTPParseError):
    status_code = 414
    reason = "URI Too Long"

    def __init__(self, size, max_size=None):
        if max_size is None:
            super().__init__(str(size))
        else:
            super().__init__(f"Request Line is too large ({size} > {max_size})")


class LimitRequestHeaders(HTTPParseError):
    status_code = 431
    reason = "Request Header Fields Too Large"

    def __init__(self, msg):
        super().__init__(msg)


class ExpectationFailed(HTTPParseError):
    status_code = 417
    reason = "Expectation Failed"

    def __init__(self, expect):
        super().__init__(f"Unable to comply with expectation: {expect!r}")


class InvalidProxyLine(HTTPParseError):
    def __init__(self, line):
        super().__init__(f"Invalid PROXY line: {line!r}")


class InvalidProxyHeader(HTTPParseError):
    def __init__(self, msg):
        super().__init__(f"Invalid PROXY header: {msg}")


class ForbiddenProxyRequest(HTTPParseError):
    status_code = 403
    reason = "Forbidden"

    def __init__(self, host):
        super().__init__(f"Proxy request from {host!r} not allowed")


class MissingProxyHeader(HTTPParseError):
    """The PROXY protocol is on and the connection did not open with a PROXY header (of a version
    the setting names). The peer is not the proxy, or the proxy is not configured to send one, so
    it gets no answer: the connection is closed, as nginx and HAProxy do. gunicorn serves it as a
    direct client."""

    respond = False

    def __init__(self, versions, start):
        super().__init__(f"Connection did not begin with a PROXY protocol {versions} header: {start!r}")


class InvalidSchemeHeaders(HTTPParseError):
    def __init__(self):
        super().__init__("Contradictory scheme headers")


class ConfigurationProblem(HTTPParseError):
    """The request path is outside SCRIPT_NAME: the client asked for something this app does not
    serve, so corn answers 400 (gunicorn sends a "500 Bad Request" status line)."""

    def __init__(self, msg):
        super().__init__(f"Configuration problem: {msg}")


class RequestHeadTimeout(HTTPParseError):
    """The request head did not arrive whole within `header_timeout` (a trickling client)."""

    status_code = 408
    reason = "Request Timeout"

    def __init__(self, seconds):
        super().__init__(f"Request head not received within {seconds:g}s")


def error_response(exc, date, content=True):
    """The complete response for a refused request: status, Server, Date (the value given), close,
    and a small HTML page (only its head when `content` is false: the answer to a HEAD request)."""
    return _error_page(exc.status_code, exc.reason, escape(str(exc)), date, content)


def internal_error_response(date, content=True):
    """The 500 sent when the application fails before its response has begun: nothing of the
    failure is shown (it is in the error log). Without `content` for a HEAD request."""
    return _error_page(500, "Internal Server Error", "", date, content)


def _error_page(status_code, reason, message, date, content):
    body = (
        f"<html>\n  <head>\n    <title>{reason}</title>\n  </head>\n"
        f"  <body>\n    <h1><p>{reason}</p></h1>\n    {message}\n  </body>\n</html>\n"
    ).encode("latin-1", "replace")
    head = (
        f"HTTP/1.1 {status_code} {reason}\r\nServer: {SERVER}\r\nDate: {date}\r\nConnection: close\r\n"
        f"Content-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    return head + body if content else head  # RFC 9110 9.3.2: a response to HEAD has no content
