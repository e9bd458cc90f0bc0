"""How the request cycle reads, writes and waits: one Stream per connection, made by the worker's Engine.

A Stream's contract, for every concurrency model:
- recv_into(buf, offset) puts bytes at buf[offset:] and returns how many (0: the peer closed), or
  -1 when nothing can be read without waiting. The caller then calls wait_readable() (which raises
  socket.timeout after timeout_now seconds) and tries again, or, with a parking stream and no
  request in progress, hands the connection back to its worker.
- send()/send_parts() send everything or raise (socket.timeout after timeout_now seconds without
  progress). send_parts() takes the head from a scratch buffer that is only valid until the first
  wait: it never waits before it has copied what is left of it. send_last() sends a response's
  last bytes (the head, when `size` is not 0, then the body): nothing of this response follows, so
  a stream may hold them briefly to send several connections' responses together (gevent).
- release() runs once, before the socket is closed.

Stream itself serves any socket object through its own Python methods (TLS sockets, in-memory
sockets in tests). FdStream serves a stdlib socket's descriptor directly: recv(2), send(2) and
sendmsg(2) with MSG_DONTWAIT, and waits in poll(2) with the GIL released, so other threads run
while this one waits. HubStream is an FdStream that waits through a function of its worker's
event loop instead (eventlet's trampoline), so the loop's other green threads run meanwhile.
None of them knows anything of greenlets; the gevent engine is corn._gevent_io.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from libc.errno cimport EAGAIN, EINTR, errno

from corn._syscalls cimport EWOULDBLOCK, MSG_DONTWAIT, MSG_NOSIGNAL, c_recv, c_send, monotonic_now, send_two

import socket

cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    int c_poll "poll" (pollfd* fds, unsigned long nfds, int timeout)
    short POLLIN, POLLOUT

cdef object socket_timeout = socket.timeout
cdef object stdlib_socket = socket.socket


cdef int poll_fd(int fd, short events, double seconds) except -1:
    """Wait, without the GIL, until `fd` is ready for `events`: 1 when it is, 0 when `seconds`
    (<= 0: forever) passed first. Signals that interrupt the wait run their Python handlers here
    (an exception they raise propagates), then the wait goes on for what is left of it."""
    cdef pollfd entry
    cdef int n, ms
    cdef double deadline = monotonic_now() + seconds if seconds > 0 else 0.0
    cdef double left
    entry.fd = fd
    entry.events = events
    while True:
        if deadline > 0.0:
            left = deadline - monotonic_now()
            ms = 0 if left <= 0.0 else <int>(left * 1000.0) + 1
        else:
            ms = -1
        with nogil:
            n = c_poll(&entry, 1, ms)
        if n > 0:
            return 1
        if n == 0:
            return 0
        if errno != EINTR:
            PyErr_SetFromErrno(OSError)
        PyErr_CheckSignals()


cdef class Stream:
    """Any socket object, through its own recv_into and sendall, under its own timeout."""

    def __cinit__(self, sock, bint parks=False):
        self.sock = sock
        self.parks = parks
        self.timeout_now = -1.0

    cdef Py_ssize_t recv_into(self, bytearray buf, Py_ssize_t offset) except -2:
        if self.parks and not self.waited and not self._readable_now():
            return -1
        self.waited = False
        return self.sock.recv_into(memoryview(buf)[offset:])

    cdef bint _readable_now(self) except -1:
        pending = getattr(self.sock, "pending", None)  # TLS: bytes already decrypted
        if pending is not None and pending() > 0:
            return True
        cdef pollfd entry
        entry.fd = self.sock.fileno()
        entry.events = POLLIN
        return c_poll(&entry, 1, 0) > 0

    cdef int wait_readable(self) except -1:
        pending = getattr(self.sock, "pending", None)
        if (pending is None or pending() == 0) \
                and poll_fd(self.sock.fileno(), POLLIN, self.timeout_now) == 0:
            raise socket_timeout("timed out")
        self.waited = True
        return 0

    cdef int send(self, bytes data) except -1:
        self.sock.sendall(data)
        return 0

    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1:
        self.sock.sendall(PyBytes_FromStringAndSize(head, size) + body)
        return 0

    cdef int send_last(self, const char* head, Py_ssize_t size, bytes body) except -1:
        if size:
            return self.send_parts(head, size, body)
        return self.send(body)

    cdef int set_timeout(self, double seconds) except -1:
        if seconds != self.timeout_now:
            self.sock.settimeout(seconds if seconds > 0 else None)
            self.timeout_now = seconds
        return 0

    cdef int release(self) except -1:
        return 0

    def wait_write(self, fd, timeout):
        """For sendfile: block until `fd` can take more bytes; TimeoutError after `timeout` seconds."""
        if poll_fd(fd, POLLOUT, timeout or 0.0) == 0:
            raise TimeoutError("timed out waiting to write to the client")


cdef class FdStream(Stream):
    """A stdlib socket's descriptor, read and written without blocking; waits in poll(2)."""

    def __cinit__(self, sock, bint parks=False):
        self.fd = sock.fileno()

    cdef Py_ssize_t recv_into(self, bytearray buf, Py_ssize_t offset) except -2:
        cdef Py_ssize_t n
        while True:
            n = c_recv(self.fd, PyByteArray_AS_STRING(buf) + offset, len(buf) - offset, MSG_DONTWAIT)
            if n >= 0:
                return n
            if errno == EAGAIN or errno == EWOULDBLOCK:
                return -1
            if errno != EINTR:
                PyErr_SetFromErrno(OSError)

    cdef int wait_readable(self) except -1:
        return self.poll(POLLIN)

    cdef int poll(self, short events) except -1:
        if poll_fd(self.fd, events, self.timeout_now) == 0:
            raise socket_timeout("timed out")
        return 0

    cdef int send(self, bytes data) except -1:
        cdef const char* p = PyBytes_AS_STRING(data)
        cdef Py_ssize_t size = len(data)
        cdef Py_ssize_t done = 0
        cdef Py_ssize_t n
        while done < size:
            n = c_send(self.fd, p + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL)
            if n >= 0:
                done += n
            elif errno == EAGAIN or errno == EWOULDBLOCK:
                self.poll(POLLOUT)
            elif errno != EINTR:
                PyErr_SetFromErrno(OSError)
        return 0

    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1:
        cdef Py_ssize_t n
        cdef Py_ssize_t blen = len(body)
        while True:
            n = send_two(self.fd, head, size, PyBytes_AS_STRING(body), blen, MSG_DONTWAIT | MSG_NOSIGNAL)
            if n >= 0 or (errno != EINTR):
                break
        if n == size + blen:
            return 0
        if n < 0:
            if errno != EAGAIN and errno != EWOULDBLOCK:
                PyErr_SetFromErrno(OSError)
            n = 0
        if n < size:
            # out of the scratch buffer before waiting: another thread may build its head there
            self.send(PyBytes_FromStringAndSize(head + n, size - n))
            n = size
        if n - size < blen:
            self.send(body[n - size:] if n > size else body)
        return 0

    cdef int set_timeout(self, double seconds) except -1:
        self.timeout_now = seconds
        return 0


cdef class HubStream(FdStream):
    """An FdStream whose waits are the event loop's: `wait_fd(fd, readable, seconds)` returns
    once `fd` is readable (else writable), or raises socket.timeout after `seconds` (<= 0: never)."""

    cdef int poll(self, short events) except -1:
        self.wait_fd(self.fd, events == POLLIN, self.timeout_now)
        return 0

    def wait_write(self, fd, timeout):
        try:
            self.wait_fd(fd, False, timeout or 0.0)
        except socket_timeout:
            raise TimeoutError("timed out waiting to write to the client") from None


cdef class Engine:
    """Makes the Stream of each accepted socket: an FdStream for a stdlib socket, else a Stream
    over the socket's own methods. With `parks`, a connection with no request in progress is
    handed back to the worker instead of waiting for its next bytes (the gthread worker)."""

    def __init__(self, bint parks=False):
        self.parks = parks

    cdef Stream open(self, sock, double timeout):
        # the socket's own timeout bounds what the app does with gunicorn.socket and sendfile
        sock.settimeout(timeout if timeout > 0 else None)
        if type(sock) is stdlib_socket:
            return FdStream(sock, self.parks)
        return Stream(sock, self.parks)


cdef class HubEngine(Engine):
    """Makes a HubStream, waiting through `wait_fd`, for every socket but a TLS one, which gets a
    Stream over its own (cooperative) methods."""

    def __init__(self, wait_fd, bint parks=False):
        self.wait_fd = wait_fd
        self.parks = parks

    cdef Stream open(self, sock, double timeout):
        cdef HubStream stream
        sock.settimeout(timeout if timeout > 0 else None)
        if getattr(sock, "pending", None) is not None:
            return Stream(sock, self.parks)
        stream = HubStream(sock, self.parks)
        stream.wait_fd = self.wait_fd
        return stream
