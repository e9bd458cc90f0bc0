"""The per-connection hot path: the keep-alive loop, the WSGI environ, wsgi.input, responses.

A worker builds one ConnectionHandler per listener after it has loaded the app, then calls
`handle(sock, addr)` for every accepted connection. From there the loop stays in compiled code
and leaves it only to call the app, the socket (where gevent may switch greenlets) and the
access logger (only when it is on).

Invariants:
- Everything fixed for the worker's life is computed in ConnectionHandler.__init__: the base
  environ (copied per request), the parser options, the timeouts, the access-log switch.
- One receive buffer per busy connection, reused by every request on it (an idle connection
  lends it to a per-handler pool); the parser and the body read straight from it through offsets.
- Under gevent the socket's descriptor is read and written with recv(2)/send(2)/sendmsg(2)
  directly, and gevent is waited on only when they would block (after a read that came back
  short, without asking again first). A read wait parks the greenlet until the worker's
  edge-triggered ReadPoller switches back to it, and its deadline is a number checked by one
  lazily re-armed timer per connection.
- A refused request is answered once with its 4xx (corn.http_errors.error_response) and the
  connection is closed; a body that is not read whole is drained up to DRAIN_LIMIT or the
  connection is closed, so the next request can never start inside the previous body.
- Response bytes go out with the head and the first non-empty body chunk in one send; the head
  is written into a scratch buffer (no str joined and encoded per response).
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.dict cimport PyDict_Copy
from cpython.exc cimport PyErr_SetFromErrno
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.errno cimport EAGAIN, EINTR, ENOSYS, errno
from libc.string cimport memchr, memcpy
from libc.time cimport time as c_time
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec
from posix.uio cimport iovec

from corn._parser cimport BODY_CHUNKED, BODY_LENGTH, ChunkedDecoder, RequestParser

import os
import socket
import sys
import time
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

cdef extern from "<errno.h>":
    int EWOULDBLOCK

cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t
    struct msghdr:
        void* msg_name
        socklen_t msg_namelen
        iovec* msg_iov
        size_t msg_iovlen
        void* msg_control
        size_t msg_controllen
        int msg_flags
    ssize_t c_recv "recv" (int fd, void* buf, size_t n, int flags)
    ssize_t c_send "send" (int fd, const void* buf, size_t n, int flags)
    ssize_t c_sendmsg "sendmsg" (int fd, const msghdr* msg, int flags)
    int MSG_NOSIGNAL

cdef extern from *:
    """
    #ifdef __linux__
    #include <sys/epoll.h>
    #else
    #include <errno.h>
    typedef union epoll_data { void* ptr; int fd; unsigned int u32; unsigned long long u64; } epoll_data_t;
    struct epoll_event { unsigned int events; epoll_data_t data; };
    #define EPOLLIN 0x001
    #define EPOLLRDHUP 0x2000
    #define EPOLLET (1u << 31)
    #define EPOLL_CTL_ADD 1
    #define EPOLL_CTL_DEL 2
    #define EPOLL_CTL_MOD 3
    #define EPOLL_CLOEXEC 0
    static int epoll_create1(int f) { (void)f; errno = ENOSYS; return -1; }
    static int epoll_ctl(int e, int o, int f, struct epoll_event* v) { (void)e; (void)o; (void)f; (void)v; errno = ENOSYS; return -1; }
    static int epoll_wait(int e, struct epoll_event* v, int n, int t) { (void)e; (void)v; (void)n; (void)t; errno = ENOSYS; return -1; }
    #endif
    """
    ctypedef union epoll_data_t:
        int fd
    cdef struct epoll_event:
        unsigned int events
        epoll_data_t data
    int epoll_create1(int flags) nogil
    int epoll_ctl(int epfd, int op, int fd, epoll_event* event) nogil
    int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) nogil
    unsigned int EPOLLIN, EPOLLRDHUP, EPOLLET
    int EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_CLOEXEC

cdef extern from "<errno.h>":
    int EEXIST

cdef extern from "<unistd.h>" nogil:
    int c_close "close" (int fd)

cdef extern from "Python.h":
    int PyUnicode_KIND(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    int PyUnicode_1BYTE_KIND
    ctypedef struct PyObjectArenaAllocator:
        void* ctx
        void* (*alloc)(void* ctx, size_t size) noexcept nogil
        void (*free)(void* ctx, void* ptr, size_t size) noexcept nogil
    void PyObject_GetArenaAllocator(PyObjectArenaAllocator* allocator)
    void PyObject_SetArenaAllocator(PyObjectArenaAllocator* allocator)

cdef enum:
    # The size of the chunks of CPython's frame stack (3.11 to 3.13): a greenlet's first Python
    # call maps one, and the chunk is unmapped when the greenlet ends.
    FRAME_STACK_CHUNK = 16384
    KEPT_FRAME_STACK_CHUNKS = 256

cdef PyObjectArenaAllocator system_arenas
cdef void* kept_chunks[KEPT_FRAME_STACK_CHUNKS]
cdef int chunks_kept = 0
cdef bint keeping_frame_stacks = False


cdef void* arena_alloc(void* ctx, size_t size) noexcept nogil:
    global chunks_kept
    if size == FRAME_STACK_CHUNK and chunks_kept > 0:
        chunks_kept -= 1
        return kept_chunks[chunks_kept]
    return system_arenas.alloc(system_arenas.ctx, size)


cdef void arena_free(void* ctx, void* ptr, size_t size) noexcept nogil:
    global chunks_kept
    if size == FRAME_STACK_CHUNK and chunks_kept < KEPT_FRAME_STACK_CHUNKS:
        kept_chunks[chunks_kept] = ptr
        chunks_kept += 1
        return
    system_arenas.free(system_arenas.ctx, ptr, size)


def keep_frame_stacks():
    """Have the interpreter's arena allocator keep the frame stack chunks of ended greenlets for
    the next ones, instead of an mmap, a page fault and a munmap for each connection's greenlet.
    Every other arena goes to the allocator that was in place. The interpreter calls its arena
    allocator with the GIL held; once installed, the allocator stays for the life of the process."""
    global keeping_frame_stacks
    cdef PyObjectArenaAllocator keeping
    if keeping_frame_stacks:
        return
    PyObject_GetArenaAllocator(&system_arenas)
    keeping.ctx = NULL
    keeping.alloc = arena_alloc
    keeping.free = arena_free
    PyObject_SetArenaAllocator(&keeping)
    keeping_frame_stacks = True


cdef object socket_timeout = socket.timeout
cdef double TIMER_SLACK = 0.002  # a read timer this close to its deadline times the read out
try:
    from gevent import getcurrent as gevent_getcurrent
    from gevent._socket3 import socket as gevent_socket
    from greenlet import greenlet as raw_greenlet
    greenlet_switch = raw_greenlet.switch
except ImportError:
    gevent_socket = None
cdef object monotonic = time.monotonic
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
    POLL_BATCH = 256          # readiness events taken from the kernel per dispatch

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


def read_timer_fired(Connection conn):
    """The callback of a connection's read timer (run by the hub)."""
    conn.timer_fired()


@cython.final
cdef class Connection:
    def __cinit__(self, sock, peer, list buffers):
        self.sock = sock
        self.buffers = buffers
        self.fd = -1
        if gevent_socket is not None and type(sock) is gevent_socket:
            # What gevent's recv_into and sendall do, minus their Python frames, a getsockopt and a
            # Timeout per call, and the exception object per EAGAIN: the descriptor is non-blocking,
            # so recv(2)/send(2) are called directly and gevent is waited on only when they would block.
            self.fd = sock.fileno()
            self.read_event = sock._read_event
            self.hub = sock.hub
            self.greenlet = gevent_getcurrent()
        else:
            self.recv_into = sock.recv_into  # not gevent's socket: its own methods, looked up once
        self.peer = peer
        self.buf = buffers.pop() if buffers else bytearray(BUF_SIZE)
        self.start = 0
        self.end = 0
        self.eof = False
        self.must_close = False
        self.timeout_now = -1.0
        if isinstance(peer, tuple):
            self.remote_addr = peer[0]
            self.remote_port = str(peer[1])
        else:
            self.remote_addr = ""
            self.remote_port = None

    cdef Py_ssize_t fill(self) except -1:
        """Receive more bytes at buf[end:]; returns how many, 0 when the peer has closed."""
        cdef Py_ssize_t size
        cdef Py_ssize_t pending = self.end - self.start
        cdef Py_ssize_t n
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
        if self.fd < 0:
            n = self.recv_into(memoryview(self.buf)[self.end:])
        else:
            if self.drained:
                # the last recv(2) took less than it asked for, so the socket was empty then: wait
                # for readability rather than spend a call on the EAGAIN that is all but certain
                self.drained = False
                if self.start == self.end:
                    self.lend_buffer()
                self.wait_readable()
                if self.buf is None:
                    self.buf = self.buffers.pop() if self.buffers else bytearray(BUF_SIZE)
            while True:
                size = len(self.buf) - self.end
                n = c_recv(self.fd, PyByteArray_AS_STRING(self.buf) + self.end, size, 0)
                if n >= 0:
                    self.drained = n < size
                    break
                if errno == EAGAIN or errno == EWOULDBLOCK:
                    if self.start == self.end:
                        self.lend_buffer()
                    self.wait_readable()
                    if self.buf is None:
                        self.buf = self.buffers.pop() if self.buffers else bytearray(BUF_SIZE)
                elif errno != EINTR:
                    PyErr_SetFromErrno(OSError)
        if n == 0:
            self.eof = True
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

    cdef int send(self, bytes data) except -1:
        """Send all of `data`: one send(2) when the socket takes it whole (the usual case), else
        the rest through the socket's sendall, which waits (and yields) as needed."""
        cdef Py_ssize_t n = 0
        if self.fd >= 0:
            n = c_send(self.fd, <const char*>data, len(data), MSG_NOSIGNAL)
            if n == len(data):
                return 0
            if n < 0:
                if errno != EAGAIN and errno != EWOULDBLOCK and errno != EINTR:
                    PyErr_SetFromErrno(OSError)
                n = 0
        self.sock.sendall(memoryview(data)[n:] if n else data)
        return 0

    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1:
        """Send head[:size] (a scratch buffer, valid only until this greenlet yields) and then
        body, in one sendmsg(2) when the socket takes them whole."""
        cdef iovec iov[2]
        cdef msghdr msg
        cdef Py_ssize_t n = 0
        cdef Py_ssize_t blen = len(body)
        cdef bytes rest
        if self.fd < 0:
            self.sock.sendall(PyBytes_FromStringAndSize(head, size) + body)
            return 0
        iov[0].iov_base = <void*>head
        iov[0].iov_len = size
        iov[1].iov_base = <void*>PyBytes_AS_STRING(body)
        iov[1].iov_len = blen
        msg.msg_name = NULL
        msg.msg_namelen = 0
        msg.msg_iov = iov
        msg.msg_iovlen = 2 if blen else 1
        msg.msg_control = NULL
        msg.msg_controllen = 0
        msg.msg_flags = 0
        n = c_sendmsg(self.fd, &msg, MSG_NOSIGNAL)
        if n == size + blen:
            return 0
        if n < 0:
            if errno != EAGAIN and errno != EWOULDBLOCK and errno != EINTR:
                PyErr_SetFromErrno(OSError)
            n = 0
        if n < size:
            rest = PyBytes_FromStringAndSize(head + n, size - n)  # out of the scratch before a switch
            self.sock.sendall(rest)
            n = size
        if n - size < blen:
            self.sock.sendall(memoryview(body)[n - size:] if n > size else body)
        return 0

    cdef int wait_readable(self) except -1:
        """Park this greenlet until the socket is readable, at most timeout_now seconds.

        The worker's ReadPoller switches back to it (where there is no epoll, the socket's own
        gevent watcher does, with no Waiter in between). The deadline is a number kept here; the
        connection's one timer is armed only when it would fire later than that deadline, so a
        busy connection touches it about once per timeout rather than twice per request."""
        cdef double seconds = self.timeout_now
        if seconds > 0.0:
            self.read_deadline = monotonic_now() + seconds
            if self.timer_at == 0.0 or self.timer_at > self.read_deadline:
                self.arm_timer(seconds)
        else:
            self.read_deadline = 0.0
        if self.poller is not None:
            if not self.polled:
                self.poller.watch(self)
                self.polled = True
            elif self.ready:
                self.ready = False  # readable since the last look: try the socket first
                return 0
            self.waiting = True
            try:
                greenlet_switch(self.hub)
            finally:
                self.waiting = False
                self.ready = False
            return 0
        self.read_event.start(self.greenlet.switch)
        self.waiting = True
        try:
            greenlet_switch(self.hub)
        finally:
            self.waiting = False
            self.read_event.stop()
        return 0

    cdef int arm_timer(self, double seconds) except -1:
        if self.timer is not None:
            self.timer.close()
        self.timer = self.hub.loop.timer(seconds)
        self.timer.start(read_timer_fired, self, update=True)
        self.timer_at = monotonic_now() + seconds
        return 0

    cdef int timer_fired(self) except -1:
        """In the hub: time out the read being waited for if its deadline has passed, else wait on
        for what is left of it; a connection not waiting for a read lets the timer lapse."""
        cdef double now
        self.timer_at = 0.0
        if not self.waiting or self.read_deadline == 0.0:
            return 0
        now = monotonic_now()
        if now >= self.read_deadline - TIMER_SLACK:
            self.greenlet.throw(socket_timeout)
        else:
            self.arm_timer(self.read_deadline - now)
        return 0

    cdef int close_timer(self) except -1:
        if self.timer is not None:
            self.timer.close()
            self.timer = None
        self.timer_at = 0.0
        return 0

    cdef int set_timeout(self, double seconds) except -1:
        if self.fd >= 0:
            self.timeout_now = seconds  # read waits use it; the socket keeps the write timeout
            return 0
        if seconds != self.timeout_now:
            self.sock.settimeout(seconds if seconds > 0 else None)
            self.timeout_now = seconds
        return 0


@cython.final
cdef class ReadPoller:
    """Edge-triggered read readiness for a worker's gevent connections, in the order it happened.

    One epoll descriptor of our own, watched by one gevent read watcher: when it is readable the
    hub calls dispatch(), which takes the events in the order the kernel queued them and switches
    to each connection parked in wait_readable(); a connection that is busy is only marked ready.
    A connection's socket is added once, at its first wait, and removed when it closes. Waiting
    this way costs no watcher start and stop per request, and a connection that becomes readable
    just after a round of the hub's loop began is served in the next round, first in line, not
    behind every connection that stayed readable (what a level-triggered poll does)."""

    def __cinit__(self):
        self.epfd = -1
        self.events = PyMem_Malloc(POLL_BATCH * sizeof(epoll_event))
        if self.events == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self.events)
        if self.epfd >= 0:
            c_close(self.epfd)

    @staticmethod
    cdef ReadPoller open(hub):
        """A poller on `hub`'s loop, or None when epoll_create1 fails (errno says why)."""
        cdef ReadPoller poller = ReadPoller.__new__(ReadPoller)
        poller.epfd = epoll_create1(EPOLL_CLOEXEC)
        if poller.epfd < 0:
            return None
        poller.connections = {}
        poller.watcher = hub.loop.io(poller.epfd, 1)
        poller.watcher.start(poller.dispatch)
        return poller

    cdef int watch(self, Connection conn) except -1:
        cdef epoll_event event
        event.events = EPOLLIN | EPOLLRDHUP | EPOLLET
        event.data.fd = conn.fd
        if epoll_ctl(self.epfd, EPOLL_CTL_ADD, conn.fd, &event) < 0:
            if errno != EEXIST or epoll_ctl(self.epfd, EPOLL_CTL_MOD, conn.fd, &event) < 0:
                PyErr_SetFromErrno(OSError)
        self.connections[conn.fd] = conn
        return 0

    cdef int forget(self, Connection conn) except -1:
        """Before the socket closes: out of the set, so a new socket on the same fd starts clean."""
        cdef epoll_event event
        epoll_ctl(self.epfd, EPOLL_CTL_DEL, conn.fd, &event)
        if self.connections.get(conn.fd) is conn:
            del self.connections[conn.fd]
        return 0

    def dispatch(self):
        """Run by the hub when the epoll descriptor is readable."""
        cdef int n, i
        cdef Connection conn
        cdef epoll_event* events = <epoll_event*>self.events
        cdef object failure = None
        n = epoll_wait(self.epfd, events, POLL_BATCH, 0)
        for i in range(n):
            conn = self.connections.get(events[i].data.fd)
            if conn is None:
                continue
            if conn.waiting:
                conn.waiting = False
                try:
                    conn.greenlet.switch()
                except BaseException as exc:
                    # an edge comes once: every other connection is still woken, then the hub
                    # gets the error as from any callback of its own
                    if failure is None:
                        failure = exc
            else:
                conn.ready = True
        if failure is not None:
            raise failure


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
                conn.send(CONTINUE_RESPONSE)
            if conn.fill() == 0:
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
        self.conn.send("".join(parts).encode("latin-1"))

    def write(self, data):
        self._write(data)

    cdef Py_ssize_t _head_size(self) except -1:
        """Decides the framing of the body; returns the size of the status line and headers."""
        cdef Py_ssize_t size
        if self.keep_alive and (self.conn.must_close or not self.worker.alive):
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
                self.conn.send(b"".join((head, b"%x\r\n" % n, data, CRLF)))
            elif size <= HEAD_SCRATCH:
                self._head_into(head_scratch)
                self.conn.send_parts(head_scratch, size, data)
            else:
                head = PyBytes_FromStringAndSize(NULL, size)
                self._head_into(PyBytes_AS_STRING(head))
                self.conn.send(head + data)
        elif n == 0:
            return 0
        elif self.chunked:
            self.conn.send(b"".join((b"%x\r\n" % n, data, CRLF)))
        else:
            self.conn.send(data)
        self.sent += n
        return 0

    cdef int send_file(self, wrapper, object wait_write, double timeout) except -1:
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
        self.conn.send(self._head())
        if self.no_body or count == 0:
            return 1
        self.sent = send_file(self.conn.sock, fd, offset, count, wait_write, timeout)
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
            self.conn.send(self._head())
        elif self.chunked:
            self.conn.send(LAST_CHUNK)
        if self.length >= 0 and self.sent < self.length and not self.no_body:
            self.conn.must_close = True  # the client is still waiting for bytes that will not come
        return 0


@cython.final
cdef class ConnectionHandler:
    """Serves connections accepted on one listener, for one worker."""

    def __init__(self, app, cfg, log, worker, listener, bint multithread):
        cdef object sockname = listener.sock.getsockname()
        self.app = app
        self.log = log
        self.worker = worker
        self.unix_listener = not isinstance(sockname, tuple)
        self.keepalive = float(cfg.keepalive)
        self.header_timeout = float(cfg.header_timeout)
        self.use_sendfile = cfg.sendfile is not False and not cfg.is_ssl
        self.wait_write = worker.wait_write
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
        self.forwarded_allow = worker.peer_trusted
        self.proxy_allow = worker.proxy_allowed
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
        self.max_requests = worker.max_requests

    def handle(self, sock, addr):
        """Serve one connection until it closes; the only entry point from the worker."""
        cdef Connection conn = Connection(sock, addr, self.buffers)
        if conn.fd >= 0:
            sock.settimeout(self.timeout if self.timeout > 0 else None)  # for writes
            if self.poller is None and not self.no_poller:
                self.poller = ReadPoller.open(conn.hub)
                # no epoll here: every connection waits on its socket's own watcher (a failure such
                # as EMFILE only makes this connection do so, and the next one tries again)
                self.no_poller = self.poller is None and errno == ENOSYS
            conn.poller = self.poller
        if self.header_timeout > 0:
            conn.head_deadline = monotonic() + self.header_timeout
        try:
            self._serve(conn)
        except (socket_timeout, NoMoreData, ConnectionError):
            pass
        except OSError as exc:
            self.log.debug("Socket error on %s: %s", conn.remote_addr, exc)
        finally:
            conn.close_timer()
            if conn.polled:
                conn.poller.forget(conn)
            if conn.buf is not None and conn.start == conn.end:
                conn.lend_buffer()
            if conn.must_close and not conn.eof:
                close_quietly(sock)
            else:
                try:
                    sock.close()
                except OSError:
                    pass

    cdef int _serve(self, Connection conn) except -1:
        """The keep-alive loop. Between requests the connection holds neither a receive buffer
        nor a parser: it waits for its next bytes, then takes a parser from the pool."""
        cdef RequestParser parser
        cdef int rights = self._peer_rights(conn)
        cdef bint trusted = rights & PEER_TRUSTED
        cdef bint proxy_allowed = rights & PEER_MAY_PROXY
        cdef object proxy_info = None
        cdef bint first = True
        cdef int more
        while True:
            if not first and conn.end == conn.start:
                conn.set_timeout(self.keepalive)  # idle between two requests
                if conn.fill() == 0:
                    return 0
            parser = self.parsers.pop() if self.parsers else RequestParser(**self.parser_options)
            parser.peer_trusted = trusted
            parser.proxy_allowed = proxy_allowed
            parser.first_request = first
            parser.proxy_info = proxy_info  # what the PROXY header said holds for the whole connection
            parser.peer_host = conn.remote_addr
            try:
                more = self._serve_one(conn, parser)
            finally:
                proxy_info = parser.proxy_info
                if len(self.parsers) < POOLED_PARSERS:
                    self.parsers.append(parser)
            if more == 0:
                return 0
            first = False

    cdef int _peer_rights(self, Connection conn) except -1:
        """PEER_TRUSTED | PEER_MAY_PROXY for the connection's peer address, worked out by the
        worker's allow-lists once per address (parsing an address costs more than a request)."""
        cdef object rights = self.peer_rights.get(conn.remote_addr)
        if rights is None:
            rights = ((PEER_TRUSTED if self.forwarded_allow(conn.peer) else 0)
                      | (PEER_MAY_PROXY if self.proxy_allow(conn.peer) else 0))
            if len(self.peer_rights) >= PEER_CACHE:
                self.peer_rights.clear()
            self.peer_rights[conn.remote_addr] = rights
        return <int>rights

    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1:
        """One request and its response. Returns 1 when the connection may carry another."""
        cdef Py_ssize_t head_end = -1
        cdef Body body
        cdef Response resp
        cdef dict environ
        cdef object result = None
        cdef double started = 0.0
        cdef object hook_req = None
        cdef double deadline = conn.head_deadline if parser.first_request else 0.0
        cdef double left
        parser.reset()
        try:
            while True:
                if conn.end > conn.start:
                    head_end = parser.parse_head(conn.buf, conn.start, conn.end)
                    if head_end >= 0:
                        break
                    if conn.end - conn.start > self.max_head_bytes:
                        # only reachable with limit_request_line=0, which leaves the request line unbounded
                        raise LimitRequestHeaders("max buffer headers")
                    if deadline == 0.0 and self.header_timeout > 0:
                        deadline = monotonic() + self.header_timeout
                if deadline > 0.0:
                    left = deadline - monotonic()
                    if left <= 0.0:
                        raise RequestHeadTimeout(self.header_timeout)
                    conn.set_timeout(left if self.timeout <= 0.0 or left < self.timeout else self.timeout)
                elif conn.end > conn.start or parser.first_request:
                    conn.set_timeout(self.timeout)
                else:
                    conn.set_timeout(self.keepalive)  # idle between two requests
                try:
                    if conn.fill() == 0:
                        return 0  # closed between requests, or in the middle of a head: nothing to answer
                except socket_timeout:
                    if deadline > 0.0 and deadline - monotonic() <= 0.001:
                        raise RequestHeadTimeout(self.header_timeout)
                    raise
        except HTTPParseError as exc:
            return self._refuse(conn, exc)
        conn.set_timeout(self.timeout)
        conn.start = head_end
        body = Body(conn, parser, parser.expect_continue and parser.version_minor >= 1)
        resp = Response(
            conn, "HTTP/1.1" if parser.version_minor == 1 else "HTTP/1.0",
            parser.method == "HEAD", not (parser.should_close or self.force_close),
        )
        resp.worker = self.worker
        self.requests_started += 1
        if self.max_requests > 0 and not self.worker.request_done():
            resp.keep_alive = False  # the last request this worker serves (max_requests)
        if self.access_enabled:
            started = monotonic()
        if self.pre_request is not None or self.post_request is not None:
            hook_req = HookRequest(
                parser.method, parser.uri, parser.path, parser.query, parser.fragment,
                (parser.version_major, parser.version_minor), parser.headers,
                parser.url_scheme or self.base_environ["wsgi.url_scheme"], conn.peer, conn.requests + 1,
            )
            if self.pre_request is not None:
                self.pre_request(self.worker, hook_req)
        conn.requests += 1
        try:
            environ = self._environ(conn, parser, body)
        except HTTPParseError as exc:
            return self._refuse(conn, exc)
        environ["wsgi.early_hints"] = resp
        try:
            result = self.app(environ, resp.start_response)
            try:
                if not (type(result) is FileWrapper and self.use_sendfile and resp.started
                        and not resp.headers_sent and resp.send_file(result, self.wait_write, self.timeout)):
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
                conn.send(internal_error_response(http_date()))
                resp.status = "500 Internal Server Error"
                resp.status_code = 500
                resp.headers = []
                resp.sent = 0
            return 0
        finally:
            if self.access_enabled and resp.status is not None:
                self.access_log(environ, resp.status, resp.headers, resp.sent,
                                monotonic() - started)
            if self.post_request is not None:
                try:
                    self.post_request(self.worker, hook_req, environ, resp)
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
            environ["SERVER_NAME"] = str(self.worker.sockets[0])
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
        self.log.warning("Invalid request from ip=%s: %s", conn.remote_addr or "unix", exc)
        conn.must_close = True
        if exc.respond:
            conn.send(error_response(exc, http_date()))
        return 0
