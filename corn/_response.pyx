"""A response: start_response, write(), wsgi.early_hints and the framing of the body (Content-Length,
chunked or close), written through the connection's Stream.

Invariants:
- Response bytes go out with the head and the first non-empty body chunk in one send; the head is
  written into a scratch buffer (no str joined and encoded per response) and is sent, or copied
  out, before anything can switch greenlets or release the GIL.
- The application's headers are checked once per name (kept in RESPONSE_NAMES) and value: nothing
  it sets can split the response, and hop-by-hop fields and the server's own are dropped.
- A body longer than the app's Content-Length is cut at it (the framing stays whole); a shorter one
  closes the connection.

Plane: data (per request; imports only the data plane and the shared modules).
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.string cimport memcpy
from libc.time cimport time as c_time

from corn._connection cimport Connection

import os
from email.utils import formatdate

from corn import SERVER
from corn.sendfile import send_file

cdef extern from "Python.h":
    int PyUnicode_KIND(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    int PyUnicode_1BYTE_KIND

cdef enum:
    NAME_CACHE = 4096         # response header names remembered with their HeaderKind
    HEAD_SCRATCH = 8192       # a response head up to this size is built in head_scratch

cdef bytes LAST_CHUNK = b"0\r\n\r\n"
cdef bytes CRLF = b"\r\n"
cdef str SERVER_LINE = "\r\nServer: "
cdef str DATE_LINE = "\r\nDate: "
cdef str KEEP_ALIVE_LINE = "\r\nConnection: keep-alive\r\n"
cdef str CLOSE_LINE = "\r\nConnection: close\r\n"
cdef str CHUNKED_LINE = "Transfer-Encoding: chunked\r\n"

# Response headers an application may not set: they describe this connection, which the server
# owns (RFC 9110 section 7.6.1), or they are the server's own (Server, Date).
cdef frozenset HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "server", "date",
))

cdef enum HeaderKind:
    HEADER_PLAIN = 0
    HEADER_DROPPED = 1          # hop-by-hop or the server's own: never sent from the app
    HEADER_CONTENT_LENGTH = 2

# Response header name as the app spells it -> HeaderKind; a name is validated once, when first seen.
cdef dict RESPONSE_NAMES = {}


cdef int response_header_kind(name) except -1:
    cdef object kind = RESPONSE_NAMES.get(name)
    cdef str lname
    if kind is not None:
        return <int>kind
    if not isinstance(name, str) or not is_token(name):
        raise ValueError(f"invalid response header name {name!r}")
    lname = name.lower()
    if lname in HOP_BY_HOP:
        kind = HEADER_DROPPED
    elif lname == "content-length":
        kind = HEADER_CONTENT_LENGTH
    else:
        kind = HEADER_PLAIN
    if len(RESPONSE_NAMES) < NAME_CACHE:
        RESPONSE_NAMES[name] = kind
    return <int>kind


cdef str date_value = ""
cdef long date_second = -1


cdef str http_date():
    """The Date header value, formatted at most once a second."""
    global date_value, date_second
    cdef long now = c_time(NULL)
    if now != date_second:
        date_value = formatdate(now, usegmt=True)
        date_second = now
    return date_value


# One response head at a time is built here and sent before anything can switch greenlets.
cdef char head_scratch[HEAD_SCRATCH]


cdef inline Py_ssize_t latin1_size(s) except -1:
    """The encoded size of a str that start_response has validated (every character <= 0xFF)."""
    if type(s) is not str and not isinstance(s, str):
        raise TypeError(f"response head parts must be str, not {type(s).__name__}")
    if PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND:
        raise ValueError(f"response head part {s!r} is not latin-1")
    return PyUnicode_GET_LENGTH(s)


cdef inline char* put(char* p, str s) noexcept:
    """Copy a str whose latin1_size() was taken (so one byte per character) to p."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    memcpy(p, PyUnicode_DATA(s), n)
    return p + n


cdef bint is_token(str s):
    """RFC 9110 section 5.6.2 token."""
    cdef Py_UCS4 c
    if not s:
        return False
    for c in s:
        if not (c in "!#$%&'*+-.^_`|~" or (c < 128 and (<Py_UCS4>'0' <= c <= <Py_UCS4>'9'
                                                      or <Py_UCS4>'a' <= c <= <Py_UCS4>'z'
                                                      or <Py_UCS4>'A' <= c <= <Py_UCS4>'Z'))):
            return False
    return True


cdef bint is_field_value(str s):
    """RFC 9110 section 5.5: no CTL but HTAB; this is what keeps responses from being split."""
    cdef Py_UCS4 c
    for c in s:
        if (c < 32 and c != 9) or c == 127 or c > 255:
            return False
    return True


cdef long long content_length(str text) except -1:
    """The value of a Content-Length the app set: 1 to 18 ASCII digits, else ValueError."""
    cdef long long value = 0
    cdef Py_UCS4 c
    if not 0 < len(text) <= 18:
        raise ValueError(f"invalid Content-Length {text!r}")
    for c in text:
        if not <Py_UCS4>'0' <= c <= <Py_UCS4>'9':
            raise ValueError(f"invalid Content-Length {text!r}")
        value = value * 10 + (<long long>c - 48)
    return value


cdef int status_code(status) except -1:
    """The code of a WSGI status string ("NNN Reason"); ValueError for anything else."""
    cdef str text
    cdef Py_UCS4 a, b, c
    if isinstance(status, str):
        text = <str>status
        if len(text) >= 3 and (len(text) == 3 or text[3] == " ") and is_field_value(text):
            a = text[0]
            b = text[1]
            c = text[2]
            if <Py_UCS4>'1' <= a <= <Py_UCS4>'9' and <Py_UCS4>'0' <= b <= <Py_UCS4>'9' \
                    and <Py_UCS4>'0' <= c <= <Py_UCS4>'9':
                return (<int>a - 48) * 100 + (<int>b - 48) * 10 + (<int>c - 48)
    raise ValueError(f"invalid status {status!r}: expected 'NNN Reason'")


@cython.freelist(8)
cdef class Response:
    """start_response, write() and the framing of one response (Content-Length, chunked or close)."""

    def __cinit__(self, Connection conn, str version, bint head_request, bint keep_alive):
        self.conn = conn
        self.version = version
        self.head_request = head_request
        self.keep_alive = keep_alive
        self.length = -1
        self.sent = 0
        self.status = None
        self.headers = None

    def start_response(self, status, headers, exc_info=None):
        cdef list kept = []
        cdef int kind, code
        cdef Py_ssize_t n
        cdef str text
        if exc_info is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.started:
            raise AssertionError("start_response() called a second time without exc_info")
        code = status_code(status)
        self.length = -1
        for item in headers:
            name, value = item
            kind = response_header_kind(name)
            if not isinstance(value, str) or not is_field_value(value):
                raise ValueError(f"invalid value for response header {name!r}")
            if kind == HEADER_DROPPED:
                continue
            text = <str>value
            n = len(text)
            if n and (text[0] in " \t" or text[n - 1] in " \t"):
                text = text.strip(" \t")
                item = (name, text)
            elif type(item) is not tuple:
                item = (name, text)
            if kind == HEADER_CONTENT_LENGTH:
                self.length = content_length(text)
            kept.append(item)
        self.status = status
        self.status_code = code
        if self.status_code < 200 or self.status_code == 204:
            # RFC 9110 section 8.6: no Content-Length on 1xx and 204
            kept = [(name, value) for name, value in kept if name.lower() != "content-length"]
            self.length = -1
        self.headers = kept
        self.started = True
        self.no_body = self.head_request or self.status_code < 200 or self.status_code in (204, 304)
        return self.write

    def __call__(self, headers):
        """wsgi.early_hints: a 103 response ahead of the real one (HTTP/1.1 only, before the head).
        The response itself is the callable, so no bound method is made for every request."""
        cdef list parts
        if self.headers_sent or self.version != "HTTP/1.1":
            return
        parts = ["HTTP/1.1 103 Early Hints\r\n"]
        for name, value in headers:
            if not isinstance(name, str) or not is_token(name) or not isinstance(value, str) \
                    or not is_field_value(value):
                raise ValueError(f"invalid early hint header {name!r}")
            parts.append(f"{name}: {value}\r\n")
        parts.append("\r\n")
        self.conn.stream.send("".join(parts).encode("latin-1"))

    def write(self, data):
        self._write(data)

    cdef Py_ssize_t _head_size(self) except -1:
        """Decides the framing of the body; returns the size of the status line and headers."""
        cdef Py_ssize_t size
        if self.keep_alive and (self.conn.must_close or self.state.stopping):
            self.keep_alive = False  # closing after this response, or the worker is stopping: say so
        self.chunked = False
        if self.length < 0 and not self.no_body:
            if self.version == "HTTP/1.1":
                self.chunked = True
            else:
                self.keep_alive = False  # an HTTP/1.0 body with no length ends when we close
        self.date = http_date()
        size = (latin1_size(self.version) + 1 + latin1_size(self.status) + len(SERVER_LINE)
                + latin1_size(SERVER) + len(DATE_LINE) + latin1_size(self.date)
                + (len(KEEP_ALIVE_LINE) if self.keep_alive else len(CLOSE_LINE)) + 2)
        if self.chunked:
            size += len(CHUNKED_LINE)
        for name, value in self.headers:
            size += latin1_size(name) + latin1_size(value) + 4
        self.head_bytes = size
        return size

    cdef char* _head_into(self, char* p) except NULL:
        """Writes the head whose size _head_size() returned at p."""
        p = put(p, self.version)
        p[0] = b' '
        p = put(p + 1, self.status)
        p = put(p, SERVER_LINE)
        p = put(p, SERVER)
        p = put(p, DATE_LINE)
        p = put(p, self.date)
        p = put(p, KEEP_ALIVE_LINE if self.keep_alive else CLOSE_LINE)
        if self.chunked:
            p = put(p, CHUNKED_LINE)
        for name, value in self.headers:
            p = put(p, <str>name)
            p[0] = b':'
            p[1] = b' '
            p = put(p + 2, <str>value)
            p[0] = b'\r'
            p[1] = b'\n'
            p += 2
        p[0] = b'\r'
        p[1] = b'\n'
        self.headers_sent = True
        return p + 2

    cdef bytes _head(self):
        """The status line and headers as bytes; decides the framing of the body."""
        cdef Py_ssize_t size = self._head_size()
        cdef bytes head = PyBytes_FromStringAndSize(NULL, size)
        self._head_into(PyBytes_AS_STRING(head))
        return head

    cdef int _write(self, data) except -1:
        cdef Py_ssize_t n, size
        cdef bytes head
        cdef bint last
        if not self.started:
            raise AssertionError("write() called before start_response()")
        if type(data) is not bytes:
            if isinstance(data, (bytes, bytearray, memoryview)):
                data = bytes(data)
            else:
                raise TypeError(f"response body must be bytes, not {type(data).__name__}")
        n = len(data)
        if self.no_body:
            n = 0
        elif self.length >= 0 and self.sent + n > self.length:
            # cut at the app's Content-Length: the framing stays whole, so the connection may too
            n = <Py_ssize_t>(self.length - self.sent)
            data = data[:n]
            self.overflow = True
        if not self.headers_sent:
            if n == 0:
                return 0
            size = self._head_size()
            last = not self.chunked and self.sent + n == self.length  # the whole body, at once
            if self.chunked:
                head = PyBytes_FromStringAndSize(NULL, size)
                self._head_into(PyBytes_AS_STRING(head))
                self.conn.stream.send(b"".join((head, b"%x\r\n" % n, data, CRLF)))
            elif size <= HEAD_SCRATCH:
                self._head_into(head_scratch)
                if last:
                    self.conn.stream.send_last(head_scratch, size, data)
                else:
                    self.conn.stream.send_parts(head_scratch, size, data)
            else:
                head = PyBytes_FromStringAndSize(NULL, size)
                self._head_into(PyBytes_AS_STRING(head))
                self.conn.stream.send(head + data)
        elif n == 0:
            return 0
        elif self.chunked:
            self.conn.stream.send(b"".join((b"%x\r\n" % n, data, CRLF)))
        elif self.sent + n == self.length:
            self.conn.stream.send_last(NULL, 0, data)
        else:
            self.conn.stream.send(data)
        self.sent += n
        return 0

    cdef int send_file(self, wrapper, double timeout) except -1:
        """The body of a wsgi.file_wrapper response with os.sendfile; 0 when the file cannot be
        sent that way (no real descriptor), and the caller iterates it instead."""
        cdef long long offset, count
        cdef bytes head
        try:
            fd = wrapper.filelike.fileno()
            offset = wrapper.filelike.tell()
            count = os.fstat(fd).st_size - offset
        except (AttributeError, OSError, ValueError):
            return 0
        if count < 0:
            count = 0
        if self.length >= 0:
            if self.length < count:
                count = self.length
        elif not self.no_body:
            self.length = count
            self.headers.append(("Content-Length", str(count)))
        self.conn.stream.send(self._head())
        if self.no_body or count == 0:
            return 1
        self.sent = send_file(self.conn.sock, fd, offset, count, self.conn.stream.wait_write, timeout)
        wrapper.filelike.seek(offset + self.sent)
        return 1

    cdef int finish(self) except -1:
        """After the app's iterable is exhausted: send what is still owed."""
        if not self.started:
            raise AssertionError("the application returned without calling start_response()")
        if not self.headers_sent:
            if self.length < 0 and not self.no_body:
                self.length = 0
                self.headers.append(("Content-Length", "0"))
            elif self.length > 0 and not self.no_body:
                self.keep_alive = False  # a body was promised and none was written: we will close
            self.conn.stream.send_last(NULL, 0, self._head())
        elif self.chunked:
            self.conn.stream.send_last(NULL, 0, LAST_CHUNK)
        if self.length >= 0 and self.sent < self.length and not self.no_body:
            self.conn.must_close = True  # the client is still waiting for bytes that will not come
        return 0
