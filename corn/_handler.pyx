"""The request cycle: the keep-alive loop, the WSGI environ, wsgi.input and responses.

A worker builds one ConnectionHandler per listener after it has loaded the app, then hands it every
accepted connection. From there the loop stays in compiled code and leaves it only to call the
app, the hooks (when set), the access logger (when on) and the connection's Stream (corn._stream),
through which every read, write and wait goes: the cycle knows no concurrency library. The worker
gives the handler, at construction, its Engine (what makes a Stream of a socket), a WorkerState
shared by its handlers (the stopping flag, the request count and max_requests), and what a peer
address is granted (callables, asked once per address).

Two ways in:
- handle(sock, addr): serve the connection until it closes (gevent and sync workers).
- open(sock, addr), then resume(conn) each time it is readable or its wait_until passed: with a
  parking Engine, resume() returns PARKED as soon as the connection waits for the first bytes of
  a request, so an idle or silent connection holds no thread (gthread worker).

Invariants:
- Everything fixed for the worker's life is computed in ConnectionHandler.__init__: the base
  environ (copied per request), the parser options, the timeouts, the access-log switch.
- One receive buffer per busy connection, reused by every request on it (a connection that waits
  with nothing buffered lends it to a per-handler pool); the parser and the body read straight
  from it through offsets.
- A refused request is answered once with its 4xx (corn.http_errors.error_response; a connection
  that should have opened with a PROXY header gets no answer) and the connection is closed; a
  body that is not read whole is drained up to DRAIN_LIMIT or the connection is closed, so the
  next request can never start inside the previous body.
- Response bytes go out with the head and the first non-empty body chunk in one send; the head
  is written into a scratch buffer (no str joined and encoded per response) and is sent, or
  copied out, before anything can switch greenlets or release the GIL.
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.dict cimport PyDict_Copy
from libc.string cimport memchr, memcpy
from libc.time cimport time as c_time
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from corn._parser cimport BODY_CHUNKED, BODY_LENGTH, ChunkedDecoder, RequestParser
from corn._stream cimport Engine, Stream

import os
import socket
import sys
from email.utils import formatdate
from urllib.parse import unquote_to_bytes

from corn import SERVER, SERVER_SOFTWARE, settings
from corn.hook_request import HookRequest
from corn.filewrapper import FileWrapper
from corn.http_errors import (
    ConfigurationProblem, HTTPParseError, LimitRequestHeaders, NoMoreData, RequestHeadTimeout, error_response,
    internal_error_response,
)
from corn.sendfile import send_file

cdef extern from "Python.h":
    int PyUnicode_KIND(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    int PyUnicode_1BYTE_KIND

cdef object socket_timeout = socket.timeout
cdef object SHUT_WR = socket.SHUT_WR

cdef enum:
    BUF_SIZE = 16384          # first size of a connection's receive buffer
    MIN_READ = 4096           # never ask the socket for fewer bytes than this
    READ_ALL_STEP = 1048576   # read() with no size takes the body in steps of this many bytes
    DRAIN_LIMIT = 1048576     # unread body bytes we are willing to discard to keep a connection
    ENVIRON_KEY_CACHE = 4096  # header names remembered with their HTTP_* key
    MAX_REQUEST_LINE = 65536  # the longest request line buffered when limit_request_line is 0
    POOLED_BUFFERS = 64       # idle receive buffers a handler keeps for the next busy connection
    POOLED_PARSERS = 64       # parsers of finished requests a handler keeps for the next ones
    HEAD_SCRATCH = 8192       # a response head up to this size is built in head_scratch
    PEER_CACHE = 4096         # peer addresses remembered with what their allow-lists grant
    PEER_TRUSTED = 1          # in forwarded_allow_ips: may set scheme and forwarder headers
    PEER_MAY_PROXY = 2        # in proxy_allow_ips: may send a PROXY protocol header

cdef enum:
    PARKED = -2               # resume()/fill(): the connection waits for bytes, held by no one

cdef bytes CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"
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

# The environ keys _environ (and, for wsgi.early_hints, _serve_one) sets for every request.
cdef tuple REQUEST_KEYS = (
    "REQUEST_METHOD", "RAW_URI", "QUERY_STRING", "SERVER_PROTOCOL", "PATH_INFO", "REMOTE_ADDR",
    "wsgi.input", "wsgi.early_hints", "gunicorn.socket",
)

# Header name (as the parser gives it, upper-cased) -> environ key. Filled as names are seen.
cdef dict ENVIRON_KEYS = {"CONTENT-TYPE": "CONTENT_TYPE", "CONTENT-LENGTH": "CONTENT_LENGTH"}

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
    if len(RESPONSE_NAMES) < ENVIRON_KEY_CACHE:
        RESPONSE_NAMES[name] = kind
    return <int>kind


cdef inline str protocol(int major, int minor):
    if major == 1 and minor == 1:
        return "HTTP/1.1"
    if major == 1 and minor == 0:
        return "HTTP/1.0"
    return f"HTTP/{major}.{minor}"


cdef inline str environ_key(str name):
    cdef object key = ENVIRON_KEYS.get(name)
    if key is None:
        key = "HTTP_" + name.replace("-", "_")
        if len(ENVIRON_KEYS) < ENVIRON_KEY_CACHE:
            ENVIRON_KEYS[name] = key
    return <str>key


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


cdef int close_quietly(sock) except -1:
    """Half-close, give the peer a moment to read what we sent, then close (no RST on unread input)."""
    try:
        sock.shutdown(SHUT_WR)
        sock.settimeout(1.0)
        for _ in range(16):
            if not sock.recv(65536):
                break
    except (OSError, ValueError):
        pass
    try:
        sock.close()
    except OSError:
        pass
    return 0




cdef inline double monotonic_now() noexcept nogil:
    """time.monotonic() without the call."""
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


# --- metrics: the worker's counters in its shared-memory slot ---------------------------------
# The request cycle bumps plain C integers in the slot (WorkerState.counters) and nothing else: no
# Python object, no system call. gthread workers bump them from several threads; that is safe
# because the compiled code holds the GIL while it increments. Each worker owns its slot, the
# master only reads it (aligned 64-bit loads), so no lock is shared between processes.

# Upper bounds of the duration histogram's buckets, in seconds; the last bucket is +Inf.
cdef double BUCKET_BOUNDS[N_BUCKETS - 1]
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
for _i, _bound in enumerate(DURATION_BUCKETS):
    BUCKET_BOUNDS[_i] = _bound

# The method label of each row of C_REQUESTS; the last row holds every other method.
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other")


def _error_kinds():
    """The parse error classes of corn.http_errors by name, sorted; the last kind is "other"."""
    import corn.http_errors as module

    found = set()
    todo = [HTTPParseError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == module.__name__:
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    names = sorted(found)[:N_ERROR_KINDS - 1]
    return tuple(names) + ("other",)


ERROR_KINDS = _error_kinds()
cdef dict ERROR_INDEX = {name: i for i, name in enumerate(ERROR_KINDS)}

# Where each counter lives in a slot, for the master's reader (corn.metrics).
COUNTER_SLOTS = {
    "requests": C_REQUESTS, "buckets": C_BUCKETS, "duration_us": C_DURATION_US, "bytes_in": C_BYTES_IN,
    "bytes_out": C_BYTES_OUT, "accepted": C_ACCEPTED, "closed": C_CLOSED, "begun": C_BEGUN, "done": C_DONE,
    "reuses": C_REUSES, "exit_reason": C_EXIT_REASON, "errors": C_ERRORS,
}
COUNTER_COUNT = N_COUNTERS
EXIT_REASONS = {EXIT_MAX_REQUESTS: "max_requests", EXIT_RELOAD: "reload"}


cdef inline int method_row(str method) noexcept:
    """The row of C_REQUESTS for a request method."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(method)
    if n == 3:
        if method == "GET":
            return 0
        if method == "PUT":
            return 3
    elif n == 4:
        if method == "HEAD":
            return 1
        if method == "POST":
            return 2
    elif n == 6:
        if method == "DELETE":
            return 4
    elif n == 5:
        if method == "PATCH":
            return 5
    elif n == 7:
        if method == "OPTIONS":
            return 6
    return N_METHODS - 1


@cython.final
cdef class WorkerState:
    """What the handlers of one worker share: the stopping flag, the request count, max_requests,
    and the worker's metrics slot when metrics are on."""

    def __init__(self, long long max_requests=0, on_last_request=None, counters=None):
        cdef long long[::1] view
        self.max_requests = max_requests
        self.on_last_request = on_last_request
        self.stopping = False
        self.requests = 0
        self.counters = NULL
        if counters is not None:
            view = memoryview(counters).cast("B").cast("q")
            if view.shape[0] < N_COUNTERS:
                raise ValueError(f"a metrics slot holds {N_COUNTERS} counters, this one {view.shape[0]}")
            self.counters_view = view  # the mapping cannot be closed while this is exported
            self.counters = &view[0]

    def mark_exit(self, str reason):
        """Tell the master why this worker is about to leave ("max_requests" or "reload")."""
        if self.counters != NULL:
            self.counters[C_EXIT_REASON] = EXIT_RELOAD if reason == "reload" else EXIT_MAX_REQUESTS

    cdef bint request_begins(self) except -1:
        """Counts a request; False when it is the worker's last (max_requests), which the worker
        hears once, through on_last_request."""
        self.requests += 1
        if self.max_requests > 0 and self.requests >= self.max_requests:
            if self.requests == self.max_requests:
                self.stopping = True
                if self.counters != NULL:
                    self.counters[C_EXIT_REASON] = EXIT_MAX_REQUESTS
                if self.on_last_request is not None:
                    self.on_last_request()
            return False
        return True

    cdef int count_request(self, str method, int status, double started, long long out) except -1:
        """A request has ended: by method and status class (status 0: it got no response), its
        duration since its head was received, the bytes sent for it. Only with counters."""
        cdef long long* c = self.counters
        cdef double seconds
        cdef int cls = status // 100
        cdef int i = 0
        c[C_DONE] += 1
        if status == 0:
            return 0
        if cls < 1:
            cls = 1
        elif cls > N_CLASSES:
            cls = N_CLASSES
        c[C_REQUESTS + method_row(method) * N_CLASSES + cls - 1] += 1
        seconds = monotonic_now() - started
        while i < N_BUCKETS - 1 and seconds > BUCKET_BOUNDS[i]:
            i += 1
        c[C_BUCKETS + i] += 1
        c[C_DURATION_US] += <long long>(seconds * 1e6)
        c[C_BYTES_OUT] += out
        return 0

    cdef int count_error(self, exc, long long out) except -1:
        """A request refused by a parse error, by the error's class name. Only with counters."""
        cdef object index = ERROR_INDEX.get(type(exc).__name__)
        self.counters[C_ERRORS + (<int>index if index is not None else N_ERROR_KINDS - 1)] += 1
        self.counters[C_BYTES_OUT] += out
        return 0


@cython.final
cdef class Connection:
    """One accepted connection: its stream, its receive buffer, where its requests stand."""

    def __cinit__(self, Stream stream, peer, list buffers):
        self.stream = stream
        self.sock = stream.sock
        self.buffers = buffers
        self.peer = peer
        self.buf = buffers.pop() if buffers else bytearray(BUF_SIZE)
        self.first = True
        self.rights = -1
        if isinstance(peer, tuple):
            self.remote_addr = peer[0]
            self.remote_port = str(peer[1])
        else:
            self.remote_addr = ""
            self.remote_port = None

    def fileno(self):
        return self.sock.fileno()

    cdef Py_ssize_t fill(self, bint may_park) except -1:
        """Receive more bytes at buf[end:]; returns how many, 0 when the peer has closed, PARKED
        when `may_park`, the stream parks, and nothing can be read now (wait_until then says
        until when the worker should wait for the socket to become readable)."""
        cdef Py_ssize_t size
        cdef Py_ssize_t pending = self.end - self.start
        cdef Py_ssize_t n
        cdef Stream stream = self.stream
        if self.eof:
            return 0
        if self.buf is None:
            self.buf = self.buffers.pop() if self.buffers else bytearray(BUF_SIZE)
        size = len(self.buf)
        if pending == 0:
            self.start = self.end = 0
        elif size - self.end < MIN_READ:
            if self.start > 0:
                self.buf[:pending] = self.buf[self.start:self.end]
                self.start = 0
                self.end = pending
            if size - self.end < MIN_READ:
                self.buf.extend(bytes(size))
        while True:
            n = stream.recv_into(self.buf, self.end)
            if n >= 0:
                break
            if self.start == self.end:
                self.lend_buffer()
            if may_park and stream.parks:
                if self.expired:
                    self.expired = False
                    raise socket_timeout("timed out")
                self.wait_until = monotonic_now() + stream.timeout_now if stream.timeout_now > 0 else 0.0
                return PARKED
            stream.wait_readable()
            if self.buf is None:
                self.buf = self.buffers.pop() if self.buffers else bytearray(BUF_SIZE)
        if n == 0:
            self.eof = True
        elif self.counters != NULL:
            self.counters[C_BYTES_IN] += n
        self.end += n
        return n

    cdef int lend_buffer(self) except -1:
        """While nothing is buffered, the buffer goes back to the worker's pool: an idle
        keep-alive connection then holds no receive buffer at all."""
        if len(self.buf) == BUF_SIZE and len(self.buffers) < POOLED_BUFFERS:
            self.buffers.append(self.buf)
        self.buf = None
        self.start = self.end = 0
        return 0


@cython.final
@cython.freelist(8)
cdef class Body:
    """wsgi.input: read, readline, readlines and iteration over the request body, never past it."""

    def __cinit__(self, Connection conn, RequestParser parser, bint expect_continue):
        self.conn = conn
        self.continue_pending = expect_continue
        if parser.body_kind == BODY_CHUNKED:
            self.decoder = ChunkedDecoder(parser.limit_request_field_size, parser.max_head, parser)
            self.remaining = 0
            self.done = False
        elif parser.body_kind == BODY_LENGTH:
            self.remaining = parser.content_length
            self.done = self.remaining == 0
        else:
            self.remaining = 0
            self.done = True

    cdef Py_ssize_t _available(self) except -1:
        """Body bytes that can be taken at conn.buf[conn.start:] now; reads from the socket when
        there are none. Returns 0 only at the end of the body."""
        cdef Connection conn = self.conn
        cdef Py_ssize_t n
        while not self.done:
            if self.decoder is None:
                n = conn.end - conn.start
                if n > 0:
                    return n if n < self.remaining else <Py_ssize_t>self.remaining
            else:
                conn.start = self.decoder.advance(conn.buf, conn.start, conn.end)
                if self.decoder.done:
                    self.done = True
                    break
                n = conn.end - conn.start
                if n > 0 and self.decoder.remaining > 0:
                    return n if n < self.decoder.remaining else self.decoder.remaining
            if self.continue_pending:
                self.continue_pending = False
                conn.stream.send(CONTINUE_RESPONSE)
            if conn.fill(False) == 0:
                conn.must_close = True
                raise NoMoreData("the client closed the connection in the middle of the body")
        return 0

    cdef object _take(self, Py_ssize_t limit):
        """Up to `limit` bytes of the body (fewer when that is all the buffer holds); b"" at the end."""
        cdef Connection conn = self.conn
        cdef Py_ssize_t n = self._available()
        cdef object data
        if n == 0:
            return b""
        if n > limit:
            n = limit
        data = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(conn.buf) + conn.start, n)
        self._consumed(n)
        return data

    cdef int _consumed(self, Py_ssize_t n) except -1:
        """`n` body bytes at conn.buf[conn.start:] have been taken (read or discarded)."""
        self.conn.start += n
        if self.decoder is None:
            self.remaining -= n
            if self.remaining == 0:
                self.done = True
        else:
            self.decoder.take(n)
        return 0

    cdef int drain(self, Py_ssize_t limit) except -1:
        """Discard what the app did not read, up to `limit` bytes. Returns 1 when the body is done."""
        cdef Py_ssize_t n
        if self.done:
            return 1
        if self.continue_pending or (self.decoder is None and self.remaining > limit):
            # A client that asked for 100 Continue may never send the body we did not ask for.
            return 0
        while not self.done and limit > 0:
            n = self._available()
            if n == 0:
                break
            if n > limit:
                n = limit
            limit -= n
            self._consumed(n)
        return 1 if self.done else 0

    def read(self, size=None):
        cdef Py_ssize_t want, got = 0
        cdef list parts
        cdef object data
        if size is None or size < 0:
            parts = []
            while True:
                data = self._take(READ_ALL_STEP)
                if not data:
                    break
                parts.append(data)
            return parts[0] if len(parts) == 1 else b"".join(parts)
        want = size
        if want == 0:
            return b""
        data = self._take(want)
        if len(data) == want or not data:
            return data
        parts = [data]
        got = len(data)
        while got < want:
            data = self._take(want - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def readline(self, size=None):
        cdef Connection conn = self.conn
        cdef Py_ssize_t limit = -1 if size is None else size
        cdef Py_ssize_t n
        cdef char* base
        cdef const char* nl
        cdef list parts = []
        cdef object data
        if limit == 0:
            return b""
        while True:
            n = self._available()
            if n == 0:
                break
            if 0 < limit < n:
                n = limit
            base = PyByteArray_AS_STRING(conn.buf) + conn.start
            nl = <const char*>memchr(base, b'\n', n)
            if nl != NULL:
                n = nl - base + 1
            data = PyBytes_FromStringAndSize(base, n)
            self._consumed(n)
            parts.append(data)
            if nl != NULL:
                break
            if limit > 0:
                limit -= n
                if limit == 0:
                    break
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def readlines(self, hint=None):
        cdef list lines = []
        cdef Py_ssize_t total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line



@cython.final
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
            if self.chunked:
                head = PyBytes_FromStringAndSize(NULL, size)
                self._head_into(PyBytes_AS_STRING(head))
                self.conn.stream.send(b"".join((head, b"%x\r\n" % n, data, CRLF)))
            elif size <= HEAD_SCRATCH:
                self._head_into(head_scratch)
                self.conn.stream.send_parts(head_scratch, size, data)
            else:
                head = PyBytes_FromStringAndSize(NULL, size)
                self._head_into(PyBytes_AS_STRING(head))
                self.conn.stream.send(head + data)
        elif n == 0:
            return 0
        elif self.chunked:
            self.conn.stream.send(b"".join((b"%x\r\n" % n, data, CRLF)))
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
            self.conn.stream.send(self._head())
        elif self.chunked:
            self.conn.stream.send(LAST_CHUNK)
        if self.length >= 0 and self.sent < self.length and not self.no_body:
            self.conn.must_close = True  # the client is still waiting for bytes that will not come
        return 0




@cython.final
cdef class ConnectionHandler:
    """Serves connections accepted on one listener, for one worker."""

    def __init__(self, app, cfg, log, listener, Engine engine, WorkerState state, *, worker=None,
                 peer_trusted=None, proxy_allowed=None, bint multithread=False):
        cdef object sockname = listener.sock.getsockname()
        self.app = app
        self.log = log
        self.engine = engine
        self.state = state
        self.hook_worker = worker
        self.unix_listener = not isinstance(sockname, tuple)
        self.listener_name = str(listener)
        self.keepalive = float(cfg.keepalive)
        self.header_timeout = float(cfg.header_timeout)
        self.use_sendfile = cfg.sendfile is not False and not cfg.is_ssl
        self.timeout = float(cfg.timeout) if cfg.timeout > 0 else 0.0
        self.force_close = cfg.keepalive <= 0 or not multithread
        self.access_enabled = bool(getattr(log, "access_enabled", False))
        self.access_log = log.access if self.access_enabled else None
        self.script_name = os.environ.get("SCRIPT_NAME", "")
        # The default hooks are skipped: pre_request's only logs at debug level, post_request's is empty.
        self.pre_request = cfg.pre_request
        if self.pre_request is settings.pre_request and getattr(log, "loglevel", 20) > 10:
            self.pre_request = None
        self.post_request = None if cfg.post_request is settings.post_request else cfg.post_request
        self.forwarded_allow = peer_trusted
        self.proxy_allow = proxy_allowed
        self.peer_rights = {}
        self.parser_options = dict(
            limit_request_line=cfg.limit_request_line,
            limit_request_fields=cfg.limit_request_fields,
            limit_request_field_size=cfg.limit_request_field_size,
            permit_unconventional_http_method=cfg.permit_unconventional_http_method,
            permit_unconventional_http_version=cfg.permit_unconventional_http_version,
            casefold_http_method=cfg.casefold_http_method,
            strip_header_spaces=cfg.strip_header_spaces,
            permit_obsolete_folding=cfg.permit_obsolete_folding,
            header_map=cfg.header_map,
            forwarder_headers=cfg.forwarder_headers,
            secure_scheme_headers=cfg.secure_scheme_headers,
            proxy_protocol=cfg.proxy_protocol,
        )
        self.max_head_bytes = RequestParser(**self.parser_options).max_head + MAX_REQUEST_LINE
        self.buffers = []
        self.parsers = []
        self.base_environ = {
            "wsgi.version": (1, 0),
            "wsgi.errors": getattr(log, "wsgi_errors", sys.stderr),
            "wsgi.multithread": multithread,
            "wsgi.multiprocess": cfg.workers > 1,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "wsgi.url_scheme": "https" if cfg.is_ssl else "http",
            "SERVER_SOFTWARE": SERVER_SOFTWARE,
            "SCRIPT_NAME": self.script_name,
        }
        if not self.unix_listener:
            self.base_environ["SERVER_NAME"] = str(sockname[0])
            self.base_environ["SERVER_PORT"] = str(sockname[1])
        # The keys every request sets are in the base already (each request overwrites them), so
        # a copy is sized for a whole environ and takes the request's headers without a resize.
        for key in REQUEST_KEYS + (("REMOTE_PORT",) if not self.unix_listener else ()):
            self.base_environ[key] = ""

    def handle(self, sock, addr):
        """Serve one connection until it closes."""
        self.resume(self.open(sock, addr))

    def open(self, sock, addr):
        """The Connection of an accepted socket, not yet read from. Its wait_until is when the
        first request's head must have begun to arrive (0: no limit)."""
        cdef Connection conn = Connection(self.engine.open(sock, self.timeout), addr, self.buffers)
        cdef double wait = self.timeout
        if self.state.counters != NULL:
            conn.counters = self.state.counters
            conn.counters[C_ACCEPTED] += 1
        if self.header_timeout > 0:
            conn.head_deadline = monotonic_now() + self.header_timeout
            if wait <= 0 or self.header_timeout < wait:
                wait = self.header_timeout
        conn.wait_until = monotonic_now() + wait if wait > 0 else 0.0
        return conn

    def resume(self, Connection conn, bint expired=False):
        """Serve the connection until it closes (returns 0) or, with a parking Engine, until it
        waits for the first bytes of a request (returns PARKED: the connection is the caller's to
        watch until it is readable or its wait_until has passed, then to resume again, with
        `expired` in the second case)."""
        cdef int verdict = 0
        conn.expired = expired
        try:
            verdict = self._serve(conn)
        except (socket_timeout, NoMoreData, ConnectionError):
            pass
        except OSError as exc:
            self.log.debug("Socket error on %s: %s", conn.remote_addr, exc)
        finally:
            if verdict != PARKED:
                self._close(conn)
        return verdict

    cdef int _close(self, Connection conn) except -1:
        """The end of a connection, however it came: release the stream, close the socket."""
        cdef RequestParser parser = conn.parser
        if conn.counters != NULL:
            conn.counters[C_CLOSED] += 1
            conn.counters = NULL  # a connection is closed once, and counted once
        if parser is not None:
            conn.parser = None
            if len(self.parsers) < POOLED_PARSERS:
                self.parsers.append(parser)
        try:
            conn.stream.release()
        finally:
            if conn.buf is not None and conn.start == conn.end:
                conn.lend_buffer()
            if (conn.must_close or conn.end > conn.start) and not conn.eof:
                close_quietly(conn.sock)  # unread input: a plain close would reset the response
            else:
                try:
                    conn.sock.close()
                except OSError:
                    pass
        return 0

    cdef int _serve(self, Connection conn) except -1:
        """The keep-alive loop. Between requests the connection holds neither a receive buffer
        nor a parser: it waits for its next bytes, then takes a parser from the pool. Returns 0
        when the connection is done, PARKED when it waits for a request's first bytes and the
        stream parks."""
        cdef RequestParser parser
        cdef int rights
        cdef int more
        cdef Py_ssize_t n
        while True:
            parser = conn.parser
            if parser is None:
                if not conn.first and conn.end == conn.start:
                    conn.stream.set_timeout(self.keepalive)  # idle between two requests
                    n = conn.fill(True)
                    if n == PARKED:
                        return PARKED
                    if n == 0:
                        return 0
                rights = conn.rights
                if rights < 0:
                    rights = conn.rights = self._peer_rights(conn)
                parser = self.parsers.pop() if self.parsers else RequestParser(**self.parser_options)
                parser.peer_trusted = rights & PEER_TRUSTED
                parser.proxy_allowed = rights & PEER_MAY_PROXY
                parser.first_request = conn.first
                parser.proxy_info = conn.proxy_info  # what the PROXY header said holds for the whole connection
                parser.peer_host = conn.remote_addr
                parser.reset()
                conn.parser = parser
                conn.deadline = conn.head_deadline if conn.first else 0.0
            more = self._serve_one(conn, parser)
            if more == PARKED:
                return PARKED
            conn.parser = None
            conn.proxy_info = parser.proxy_info
            if len(self.parsers) < POOLED_PARSERS:
                self.parsers.append(parser)
            if more == 0:
                return 0
            conn.first = False

    cdef int _peer_rights(self, Connection conn) except -1:
        """PEER_TRUSTED | PEER_MAY_PROXY for the connection's peer address, worked out by the
        worker's allow-lists once per address (parsing an address costs more than a request)."""
        cdef object rights = self.peer_rights.get(conn.remote_addr)
        if rights is None:
            rights = ((PEER_TRUSTED if self.forwarded_allow is not None and self.forwarded_allow(conn.peer) else 0)
                      | (PEER_MAY_PROXY if self.proxy_allow is not None and self.proxy_allow(conn.peer) else 0))
            if len(self.peer_rights) >= PEER_CACHE:
                self.peer_rights.clear()
            self.peer_rights[conn.remote_addr] = rights
        return <int>rights

    cdef Py_ssize_t _read_head(self, Connection conn, RequestParser parser) except -1:
        """Receive until the parser has a whole head; returns where it ends, 0 when the peer
        closed before a whole head (nothing to answer), PARKED when the stream parks."""
        cdef Py_ssize_t head_end
        cdef Py_ssize_t n
        cdef double left
        while True:
            if conn.end > conn.start:
                head_end = parser.parse_head(conn.buf, conn.start, conn.end)
                if head_end >= 0:
                    return head_end
                if conn.end - conn.start > self.max_head_bytes:
                    # only reachable with limit_request_line=0, which leaves the request line unbounded
                    raise LimitRequestHeaders("max buffer headers")
                if conn.deadline == 0.0 and self.header_timeout > 0:
                    conn.deadline = monotonic_now() + self.header_timeout
            if conn.deadline > 0.0:
                left = conn.deadline - monotonic_now()
                if left <= 0.0:
                    raise RequestHeadTimeout(self.header_timeout)
                conn.stream.set_timeout(left if self.timeout <= 0.0 or left < self.timeout else self.timeout)
            elif conn.end > conn.start or parser.first_request:
                conn.stream.set_timeout(self.timeout)
            else:
                conn.stream.set_timeout(self.keepalive)  # idle between two requests
            try:
                n = conn.fill(True)
            except socket_timeout:
                if conn.deadline > 0.0 and conn.deadline - monotonic_now() <= 0.001:
                    raise RequestHeadTimeout(self.header_timeout)
                raise
            if n == PARKED:
                return PARKED
            if n == 0:
                return 0  # closed between requests, or in the middle of a head: nothing to answer

    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1:
        """One request and its response. Returns 1 when the connection may carry another, 0 when
        it must close, PARKED when the stream parks before the head is complete."""
        cdef Py_ssize_t head_end
        cdef Body body
        cdef Response resp
        cdef dict environ
        cdef object result = None
        cdef double started = 0.0
        cdef object hook_req = None
        cdef long long* counters = self.state.counters
        try:
            head_end = self._read_head(conn, parser)
        except HTTPParseError as exc:
            return self._refuse(conn, exc)
        if head_end == PARKED:
            return PARKED
        if head_end == 0:
            return 0
        conn.stream.set_timeout(self.timeout)
        conn.start = head_end
        body = Body(conn, parser, parser.expect_continue and parser.version_minor >= 1)
        resp = Response(
            conn, "HTTP/1.1" if parser.version_minor == 1 else "HTTP/1.0",
            parser.method == "HEAD", not (parser.should_close or self.force_close),
        )
        resp.state = self.state
        self.requests_started += 1
        if not self.state.request_begins():
            resp.keep_alive = False  # the last request this worker serves (max_requests)
        if self.access_enabled or counters != NULL:
            started = monotonic_now()
        if counters != NULL:
            counters[C_BEGUN] += 1
            if conn.requests > 0:
                counters[C_REUSES] += 1
        if self.pre_request is not None or self.post_request is not None:
            hook_req = HookRequest(
                parser.method, parser.uri, parser.path, parser.query, parser.fragment,
                (parser.version_major, parser.version_minor), parser.headers,
                parser.url_scheme or self.base_environ["wsgi.url_scheme"], conn.peer, conn.requests + 1,
            )
            if self.pre_request is not None:
                self.pre_request(self.hook_worker, hook_req)
        conn.requests += 1
        try:
            environ = self._environ(conn, parser, body)
        except HTTPParseError as exc:
            if counters != NULL:
                counters[C_DONE] += 1
            return self._refuse(conn, exc)
        environ["wsgi.early_hints"] = resp
        try:
            result = self.app(environ, resp.start_response)
            try:
                if not (type(result) is FileWrapper and self.use_sendfile and resp.started
                        and not resp.headers_sent and resp.send_file(result, self.timeout)):
                    for data in result:
                        resp._write(data)
                resp.finish()
                if conn.must_close or resp.overflow:
                    self._log_length_mismatch(parser, resp)
            finally:
                if type(result) is not list:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
        except (socket_timeout, NoMoreData, ConnectionError):
            conn.must_close = True
            raise
        except HTTPParseError as exc:
            if not resp.headers_sent:
                return self._refuse(conn, exc)
            conn.must_close = True
            return 0
        except Exception:
            self.log.exception("Error handling request %s", parser.uri)
            conn.must_close = True
            if not resp.headers_sent:
                error_head = internal_error_response(http_date(), not resp.head_request)
                conn.stream.send(error_head)
                resp.head_bytes = len(error_head)
                resp.status = "500 Internal Server Error"
                resp.status_code = 500
                resp.headers = []
                resp.sent = 0
            return 0
        finally:
            if counters != NULL:
                self.state.count_request(parser.method, resp.status_code if resp.status is not None else 0,
                                         started, resp.head_bytes + resp.sent)
            if self.access_enabled and resp.status is not None:
                self.access_log(environ, resp.status, resp.headers, resp.sent,
                                monotonic_now() - started)
            if self.post_request is not None:
                try:
                    self.post_request(self.hook_worker, hook_req, environ, resp)
                except Exception:
                    self.log.exception("Exception in post_request hook")
        if not resp.keep_alive or conn.must_close:
            return 0
        try:
            if not body.done and body.drain(DRAIN_LIMIT) == 0:
                conn.must_close = True
                return 0
        except HTTPParseError:
            conn.must_close = True
            return 0
        return 1

    cdef dict _environ(self, Connection conn, RequestParser parser, Body body):
        cdef dict environ = PyDict_Copy(self.base_environ)
        cdef str path = parser.path
        cdef str script_name = self.script_name
        cdef str key
        cdef object previous
        cdef object host = None
        environ["REQUEST_METHOD"] = parser.method
        environ["RAW_URI"] = parser.uri
        environ["QUERY_STRING"] = parser.query
        environ["SERVER_PROTOCOL"] = protocol(parser.version_major, parser.version_minor)
        environ["wsgi.input"] = body
        environ["gunicorn.socket"] = conn.sock
        if parser.proxy_info is not None and parser.proxy_info[1] is not None:
            proto, src_addr, src_port, dst_addr, dst_port = parser.proxy_info
            environ["PROXY_PROTOCOL"] = proto
            environ["REMOTE_ADDR"] = src_addr
            environ["REMOTE_PORT"] = str(src_port)
            environ["PROXY_ADDR"] = dst_addr
            environ["PROXY_PORT"] = str(dst_port)
        else:
            environ["REMOTE_ADDR"] = conn.remote_addr
            if conn.remote_port is not None:
                environ["REMOTE_PORT"] = conn.remote_port
        if parser.url_scheme is not None:
            environ["wsgi.url_scheme"] = parser.url_scheme
        for name, value in parser.headers:
            if name == "HOST":
                host = value
            elif name == "SCRIPT_NAME":
                script_name = value
            key = environ_key(name)
            previous = environ.get(key)
            environ[key] = value if previous is None else previous + "," + value
        if "%" in path:
            path = unquote_to_bytes(path).decode("latin-1")
        if script_name:
            if not path.startswith(script_name):
                raise ConfigurationProblem(f"Request path {path!r} does not start with SCRIPT_NAME {script_name!r}")
            path = path[len(script_name):]
            environ["SCRIPT_NAME"] = script_name
        environ["PATH_INFO"] = path
        if self.unix_listener:
            self._server_from_host(environ, host)
        return environ

    cdef int _server_from_host(self, dict environ, host) except -1:
        """On a unix socket SERVER_NAME/PORT come from Host (port by scheme when Host has none)."""
        if host is None:
            environ["SERVER_NAME"] = self.listener_name
            environ["SERVER_PORT"] = ""
            return 0
        name, sep, port = host.rpartition(":")
        if not sep or "]" in port:
            name, port = host, ("443" if environ["wsgi.url_scheme"] == "https" else "80")
        environ["SERVER_NAME"] = name
        environ["SERVER_PORT"] = port
        return 0

    cdef int _log_length_mismatch(self, RequestParser parser, Response resp) except -1:
        if resp.overflow:
            self.log.warning("%s %s: the application sent more than its Content-Length (%d); "
                             "the excess was dropped", parser.method, parser.uri, resp.length)
        elif 0 <= resp.sent < resp.length and not resp.no_body:
            self.log.warning("%s %s: the application sent %d of its Content-Length %d bytes; "
                             "the connection was closed", parser.method, parser.uri, resp.sent, resp.length)
        return 0

    cdef int _refuse(self, Connection conn, exc) except -1:
        """The one place a refused request is answered: its status (unless the error says the
        peer gets none), then close."""
        cdef bytes answer = None
        self.log.warning("Invalid request from ip=%s: %s", conn.remote_addr or "unix", exc)
        conn.must_close = True
        if exc.respond:
            answer = error_response(exc, http_date(), conn.parser is None or conn.parser.method != "HEAD")
            conn.stream.send(answer)
        if self.state.counters != NULL:
            self.state.count_error(exc, len(answer) if answer is not None else 0)
        return 0
