"""The gevent worker's I/O engine: a greenlet per connection, parked on an edge-triggered poller.

GeventEngine.open() gives a gevent socket a GeventStream (any other socket, such as gevent's TLS
socket, gets the plain Stream over its own cooperative methods):
- The descriptor is non-blocking, so recv(2)/send(2)/sendmsg(2) are called directly, without
  gevent's Python frames, a getsockopt and a Timeout per call, or an exception object per EAGAIN;
  gevent is waited on only when they would block, and after a read that came back short the
  stream waits for readability rather than spend a call on the EAGAIN that is all but certain.
- A read wait parks the greenlet until the worker's ReadPoller switches back to it (where there is
  no epoll, the socket's own gevent watcher does, with no Waiter in between). Its deadline is a
  number checked by one lazily re-armed timer per connection.
- Writes that do not go out whole finish through the socket's sendall, under its gevent timeout.
- With a parking engine, a response's last bytes (send_last) are held, up to OUT_HOLD_LIMIT bytes,
  and sent with the other connections' at the end of the round of the hub's loop that served them
  (at most corn._gevent_runners.FLUSH_AFTER seconds later): a client busy with several connections is woken once for
  several responses, not once for each, which under load costs the server more than the response.
  Anything else sent, read or waited for on the connection sends them first.

keep_frame_stacks() keeps the interpreter's frame stack chunks of ended greenlets for the next ones.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_SetFromErrno
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.errno cimport EAGAIN, EINTR, ENOSYS, errno
from libc.string cimport memcpy
from cpython.bytearray cimport PyByteArray_FromStringAndSize, PyByteArray_Resize

from corn._stream cimport Engine, Stream
from corn._syscalls cimport EEXIST, EWOULDBLOCK, MSG_NOSIGNAL, c_recv, c_send, monotonic_now, send_two

import socket

from gevent import getcurrent as gevent_getcurrent
from gevent._socket3 import socket as gevent_socket
from gevent.socket import wait_write as gevent_wait_write
from greenlet import greenlet as raw_greenlet

cdef object greenlet_switch = raw_greenlet.switch
cdef object socket_timeout = socket.timeout

cdef extern from *:
    """
    #ifdef __linux__
    #include <sys/epoll.h>
    #else
    #include <errno.h>
    typedef union epoll_data { void* ptr; int fd; unsigned int u32; unsigned long long u64; } epoll_data_t;
    struct epoll_event { unsigned int events; epoll_data_t data; };
    #define EPOLLIN 0x001
    #define EPOLLERR 0x008
    #define EPOLLHUP 0x010
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
    unsigned int EPOLLIN, EPOLLRDHUP, EPOLLHUP, EPOLLERR, EPOLLET
    int EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_CLOEXEC

cdef extern from "<unistd.h>" nogil:
    int c_close "close" (int fd)

cdef extern from "Python.h":
    ctypedef struct PyObjectArenaAllocator:
        void* ctx
        void* (*alloc)(void* ctx, size_t size) noexcept nogil
        void (*free)(void* ctx, void* ptr, size_t size) noexcept nogil
    void PyObject_GetArenaAllocator(PyObjectArenaAllocator* allocator)
    void PyObject_SetArenaAllocator(PyObjectArenaAllocator* allocator)

cdef enum:
    POLL_BATCH = 256          # readiness events taken from the kernel per dispatch
    # The size of the chunks of CPython's frame stack (3.11 to 3.13): a greenlet's first Python
    # call maps one, and the chunk is unmapped when the greenlet ends.
    FRAME_STACK_CHUNK = 16384
    KEPT_FRAME_STACK_CHUNKS = 256
    OUT_HOLD_LIMIT = 16384    # bytes of a connection's responses held for the flush, at most

cdef double TIMER_SLACK = 0.002  # a read timer this close to its deadline times the read out


# --- frame stacks ------------------------------------------------------------------------------

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


# --- the stream ------------------------------------------------------------------------------

def read_timer_fired(GeventStream stream):
    """The callback of a connection's read timer (run by the hub)."""
    stream.timer_fired()


def out_writable(GeventStream stream):
    """The callback of a connection's write watcher while held bytes wait for room (the hub)."""
    stream.push_out()


cdef class GeventStream(Stream):
    """A gevent socket's descriptor, read and written directly; read waits park the greenlet."""

    def __cinit__(self, sock, bint parks=False):
        self.fd = sock.fileno()
        self.read_event = sock._read_event
        self.hub = sock.hub
        self.greenlet = gevent_getcurrent()

    cdef Py_ssize_t recv_into(self, bytearray buf, Py_ssize_t offset) except -2:
        cdef Py_ssize_t n
        cdef Py_ssize_t size = len(buf) - offset
        if self.drained:
            self.drained = False
            if not (self.hung_up or self.ready):
                return -1
        self.ready = False  # the read below takes whatever the edge announced
        if self.out is not None:
            self.flush_out()  # a response held while another request is read: in order, first
        while True:
            n = c_recv(self.fd, PyByteArray_AS_STRING(buf) + offset, size, 0)
            if n >= 0:
                self.drained = n < size
                return n
            if errno == EAGAIN or errno == EWOULDBLOCK:
                return -1
            if errno != EINTR:
                PyErr_SetFromErrno(OSError)

    cdef int send(self, bytes data) except -1:
        """One send(2) when the socket takes it whole (the usual case), else the rest through the
        socket's sendall, which waits (and yields) as needed."""
        if self.out is not None:
            self.flush_out()
        return self.send_all(<const char*>data, len(data), data)

    cdef int send_all(self, const char* p, Py_ssize_t size, object owner) except -1:
        """`size` bytes at `p`, which `owner` (bytes or bytearray) holds: one send(2) when the
        socket takes them whole, else the rest through the socket's sendall."""
        cdef Py_ssize_t n = c_send(self.fd, p, size, MSG_NOSIGNAL)
        if n == size:
            return 0
        if n < 0:
            if errno != EAGAIN and errno != EWOULDBLOCK and errno != EINTR:
                PyErr_SetFromErrno(OSError)
            n = 0
        self.sock.sendall(memoryview(owner)[n:] if n else owner)
        return 0

    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1:
        cdef Py_ssize_t n
        cdef Py_ssize_t blen = len(body)
        cdef bytes rest
        if self.out is not None:
            self.flush_out()
        n = send_two(self.fd, head, size, PyBytes_AS_STRING(body), blen, MSG_NOSIGNAL)
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

    cdef int send_last(self, const char* head, Py_ssize_t size, bytes body) except -1:
        """Held for the engine's flush when the stream parks and the bytes are few, else sent."""
        cdef Py_ssize_t held = len(self.out) if self.out is not None else 0
        if self.parks and self.out_watcher is None and held + size + len(body) <= OUT_HOLD_LIMIT:
            return self.hold(head, size, body)
        if size:
            return self.send_parts(head, size, body)
        return self.send(body)

    cdef int hold(self, const char* head, Py_ssize_t size, bytes body) except -1:
        cdef Py_ssize_t held = 0
        cdef Py_ssize_t blen = len(body)
        cdef GeventEngine engine = self.engine
        if self.out is None:
            self.out = PyByteArray_FromStringAndSize(NULL, size + blen)
            if not engine.unsent:
                engine.unsent_since = monotonic_now()
                if not engine.flush_scheduled:
                    engine.flush_scheduled = True
                    self.hub.loop.run_callback(engine.flush_unsent_callback)
            engine.unsent.append(self)
        else:
            held = len(self.out)
            PyByteArray_Resize(self.out, held + size + blen)
        if size:
            memcpy(PyByteArray_AS_STRING(self.out) + held, head, size)
        memcpy(PyByteArray_AS_STRING(self.out) + held + size, PyBytes_AS_STRING(body), blen)
        return 0

    cdef int flush_out(self) except -1:
        """Send the held bytes now, waiting (in this greenlet) for room as long as needed."""
        cdef bytearray out = self.out
        self.out = None
        if self.out_watcher is not None:
            self.out_watcher.close()
            self.out_watcher = None
        return self.send_all(PyByteArray_AS_STRING(out), len(out), out)

    cdef int push_out(self) except -1:
        """Send what the socket takes of the held bytes without waiting (in the hub); the rest
        waits for the socket's write watcher. A peer that is gone loses them: its next read or
        wait on the connection says so."""
        cdef Py_ssize_t n
        if self.out is None:
            return 0
        n = c_send(self.fd, PyByteArray_AS_STRING(self.out), len(self.out), MSG_NOSIGNAL)
        if n < 0 and (errno == EAGAIN or errno == EWOULDBLOCK or errno == EINTR):
            n = 0
        if n < 0 or n == len(self.out):
            self.out = None
            if self.out_watcher is not None:
                self.out_watcher.close()
                self.out_watcher = None
            return 0
        del self.out[:n]
        if self.out_watcher is None:
            self.out_watcher = self.hub.loop.io(self.fd, 2)
            self.out_watcher.start(out_writable, self)
        return 0

    cdef int set_timeout(self, double seconds) except -1:
        self.timeout_now = seconds  # read waits use it; the socket keeps the write timeout
        return 0

    cdef int wait_readable(self) except -1:
        """Park this greenlet until the socket is readable, at most timeout_now seconds.

        The connection's one timer is armed only when it would fire later than the deadline, so a
        busy connection touches it about once per timeout rather than twice per request."""
        cdef double seconds = self.timeout_now
        if self.out is not None:
            self.flush_out()
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

    cdef int arm_deadline(self, double deadline) except -1:
        """A parked connection's deadline (0: none), with the timer re-armed only when it would
        fire after it."""
        self.read_deadline = deadline
        if deadline > 0.0 and (self.timer_at == 0.0 or self.timer_at > deadline):
            self.arm_timer(max(deadline - monotonic_now(), 0.0))
        return 0

    cdef int timer_fired(self) except -1:
        """In the hub: time out the read being waited for if its deadline has passed, else wait on
        for what is left of it; a connection not waiting for a read lets the timer lapse. A parked
        connection whose deadline has passed is resumed as expired (not before: its head deadline
        must have passed for the request cycle to answer 408)."""
        cdef double now
        self.timer_at = 0.0
        if self.parked and self.read_deadline > 0.0:
            now = monotonic_now()
            if now >= self.read_deadline:
                self.engine.enqueue(self, True)
                self.engine.run_ready()
            else:
                self.arm_timer(self.read_deadline - now)
            return 0
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

    def wait_write(self, fd, timeout):
        """For sendfile: wait for `fd` to be writable, letting other greenlets run meanwhile."""
        if self.out is not None:
            self.flush_out()
        gevent_wait_write(fd, timeout, TimeoutError("timed out waiting to write to the client"))

    cdef int release(self) except -1:
        if self.out is not None:
            if gevent_getcurrent() is self.hub:
                self.push_out()  # no waiting in the hub: what the socket takes now
                if self.out_watcher is not None:
                    self.out_watcher.close()
                    self.out_watcher = None
                self.out = None
            else:
                self.flush_out()
        self.close_timer()
        if self.polled:
            self.poller.forget(self)
            self.polled = False
        return 0


# --- the poller --------------------------------------------------------------------------------

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
        self.engine = None
        self.events = PyMem_Malloc(POLL_BATCH * sizeof(epoll_event))
        if self.events == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self.events)
        if self.epfd >= 0:
            c_close(self.epfd)

    @staticmethod
    cdef ReadPoller open(hub, GeventEngine engine):
        """A poller on `hub`'s loop, or None when epoll_create1 fails (errno says why)."""
        cdef ReadPoller poller = ReadPoller.__new__(ReadPoller)
        poller.epfd = epoll_create1(EPOLL_CLOEXEC)
        if poller.epfd < 0:
            return None
        poller.engine = engine
        poller.streams = {}
        poller.watcher = hub.loop.io(poller.epfd, 1)
        poller.watcher.start(poller.dispatch)
        return poller

    cdef int watch(self, GeventStream stream) except -1:
        cdef epoll_event event
        event.events = EPOLLIN | EPOLLRDHUP | EPOLLET
        event.data.fd = stream.fd
        if epoll_ctl(self.epfd, EPOLL_CTL_ADD, stream.fd, &event) < 0:
            if errno != EEXIST or epoll_ctl(self.epfd, EPOLL_CTL_MOD, stream.fd, &event) < 0:
                PyErr_SetFromErrno(OSError)
        self.streams[stream.fd] = stream
        return 0

    cdef int forget(self, GeventStream stream) except -1:
        """Before the socket closes: out of the set, so a new socket on the same fd starts clean."""
        cdef epoll_event event
        epoll_ctl(self.epfd, EPOLL_CTL_DEL, stream.fd, &event)
        if self.streams.get(stream.fd) is stream:
            del self.streams[stream.fd]
        return 0

    def dispatch(self):
        """Run by the hub when the epoll descriptor is readable."""
        cdef int n, i
        cdef GeventStream stream
        cdef epoll_event* events = <epoll_event*>self.events
        cdef object failure = None
        n = epoll_wait(self.epfd, events, POLL_BATCH, 0)
        for i in range(n):
            stream = self.streams.get(events[i].data.fd)
            if stream is None:
                continue
            if events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR):
                # an edge comes once: the end (or an error) that came with the last bytes read
                # gives no other, so a short read no longer means "nothing more to read"
                stream.hung_up = True
            if stream.waiting:
                stream.waiting = False
                try:
                    stream.greenlet.switch()
                except BaseException as exc:
                    # an edge comes once: every other connection is still woken, then the hub
                    # gets the error as from any callback of its own
                    if failure is None:
                        failure = exc
            elif stream.parked:
                self.engine.enqueue(stream, False)
            else:
                stream.ready = True
        try:
            self.engine.run_ready()
        except BaseException as exc:
            if failure is None:
                failure = exc
        if failure is not None:
            raise failure


# --- the engine --------------------------------------------------------------------------------

cdef class GeventEngine(Engine):
    """One per gevent worker: the Stream of each connection, the poller they share, and the flush
    of the responses its streams hold. A worker's engine is the parking one,
    corn._gevent_runners.RunnerEngine; this one serves each connection in the greenlet that calls
    handle(), until it closes."""

    def __init__(self, bint parks=False):
        self.parks = parks
        self.unsent = []

    cdef Stream open(self, sock, double timeout):
        cdef GeventStream stream
        sock.settimeout(timeout if timeout > 0 else None)  # the write timeout of sendall
        if type(sock) is not gevent_socket:
            return Stream(sock, False)
        if self.poller is None and not self.no_poller:
            self.poller = ReadPoller.open(sock.hub, self)
            # no epoll here: every connection waits on its socket's own watcher (a failure such as
            # EMFILE only makes this connection do so, and the next one tries again)
            self.no_poller = self.poller is None and errno == ENOSYS
        stream = GeventStream(sock, self.parks and self.poller is not None)
        stream.poller = self.poller
        stream.engine = self
        return stream

    cdef int enqueue(self, GeventStream stream, bint expired) except -1:
        """A parked stream is readable, or its deadline passed: the parking engine resumes it."""
        return 0

    cdef int run_ready(self) except -1:
        """In the hub, after enqueue(): the parking engine serves what is queued."""
        return 0

    def flush_unsent_callback(self):
        self.flush_scheduled = False
        self.flush_unsent()

    cdef int flush_unsent(self) except -1:
        """Send every held response (without waiting: what a socket does not take now waits for
        its write watcher)."""
        cdef GeventStream stream
        cdef list unsent = self.unsent
        if not unsent:
            return 0
        self.unsent = []
        for stream in unsent:
            if stream.out is not None and stream.out_watcher is None:
                stream.push_out()
        return 0

