"""One accepted connection: its Stream, its receive buffer (lent to a pool while it waits with
nothing buffered) and where its requests stand; and wsgi.input, the body of its current request,
read straight from that buffer.

Invariants:
- One receive buffer per busy connection, reused by every request on it; the parser and the body
  read it through offsets, never a copy.
- A body is read only up to its framing (Content-Length or chunked), so the next request can never
  start inside it; 100 Continue is sent before the first read from the socket that needs it.

Plane: data (per request; imports only the data plane and the shared modules).
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memchr

from corn._chunked cimport ChunkedDecoder
from corn._state cimport (
    C_BYTES_IN, CORN_DEBUG, D_BUFFERS_DROPPED, D_BUFFERS_LENT, D_BUFFERS_MADE, D_BUFFERS_TAKEN, debug_counts,
)
from corn._parser cimport BODY_CHUNKED, BODY_LENGTH, RequestParser
from corn._stream cimport Stream
from corn._syscalls cimport monotonic_now

import socket

from corn.http_errors import NoMoreData

cdef object socket_timeout = socket.timeout

cdef enum:
    BUF_SIZE = 16384          # first size of a connection's receive buffer
    MIN_READ = 4096           # never ask the socket for fewer bytes than this
    READ_ALL_STEP = 1048576   # read() with no size takes the body in steps of this many bytes
    POOLED_BUFFERS = 64       # idle receive buffers a handler keeps for the next busy connection

cdef bytes CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"


cdef inline bytearray take_buffer(list buffers):
    """A receive buffer: one of the pool's, else a new one."""
    if buffers:
        if CORN_DEBUG:
            debug_counts[D_BUFFERS_TAKEN] += 1
        return buffers.pop()
    if CORN_DEBUG:
        debug_counts[D_BUFFERS_MADE] += 1
    return bytearray(BUF_SIZE)


cdef class Connection:
    """One accepted connection: its stream, its receive buffer, where its requests stand."""

    def __cinit__(self, Stream stream, peer, list buffers):
        self.stream = stream
        self.sock = stream.sock
        self.buffers = buffers
        self.peer = peer
        self.buf = take_buffer(buffers)
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
            self.buf = take_buffer(self.buffers)
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
                self.buf = take_buffer(self.buffers)
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
            if CORN_DEBUG:
                debug_counts[D_BUFFERS_LENT] += 1
        elif CORN_DEBUG:
            debug_counts[D_BUFFERS_DROPPED] += 1
        self.buf = None
        self.start = self.end = 0
        return 0


@cython.freelist(8)
cdef class Body:
    """wsgi.input: read, readline, readlines and iteration over the request body, never past it."""

    def __cinit__(self, Connection conn, RequestParser parser, bint expect_continue):
        self.conn = conn
        self.continue_pending = expect_continue
        if parser.body_kind == BODY_CHUNKED:
            self.decoder = ChunkedDecoder(parser.options)
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
