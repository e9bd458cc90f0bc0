# Declarations of the I/O interface between corn's request cycle and a worker's way of waiting:
# the table of contents of _stream.pyx.
#
# The request cycle (corn._handler) reads, writes and waits through a Stream and nothing else; it
# never learns which concurrency library, if any, the worker runs. A worker plugs in an Engine,
# which makes one Stream per accepted socket:
#   Engine          any socket object: its own recv_into/sendall, with its own timeout (TLS sockets,
#                   in-memory test sockets); plain stdlib sockets get an FdStream
#   FdStream        a stdlib socket's descriptor read and written with recv(2)/send(2) that never
#                   block, waits in poll(2) without the GIL (sync and gthread workers)
#   HubEngine       FdStreams that wait by calling an event loop's own wait, so other green threads
#                   run meanwhile (eventlet worker: its hub's trampoline)
#   GeventEngine    corn._gevent_io: greenlets parked on an edge-triggered poller (gevent worker)
#
# A parking stream (Engine(parks=True), the gthread worker) never waits for a request's first
# bytes: recv_into says "nothing now" and the request cycle hands the connection back to its worker,
# which watches it without holding a thread.


cdef class Stream:
    cdef readonly object sock
    cdef double timeout_now            # seconds a wait may take (0: no limit)
    cdef bint parks                    # nothing to read between requests: hand the connection back
    cdef bint waited                   # wait_readable() ran since the last read (SocketStream)

    cdef Py_ssize_t recv_into(self, bytearray buf, Py_ssize_t offset) except -2
    cdef bint _readable_now(self) except -1
    cdef int wait_readable(self) except -1
    cdef int send(self, bytes data) except -1
    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1
    cdef int send_last(self, const char* head, Py_ssize_t size, bytes body) except -1
    cdef int set_timeout(self, double seconds) except -1
    cdef int release(self) except -1


cdef class FdStream(Stream):
    cdef int fd                        # the socket's descriptor; the socket object owns it

    cdef int poll(self, short events) except -1


cdef class HubStream(FdStream):
    cdef object wait_fd                # wait_fd(fd, readable, seconds): the hub's wait


cdef class Engine:
    cdef readonly bint parks

    cdef Stream open(self, sock, double timeout)


cdef class HubEngine(Engine):
    cdef object wait_fd                # handed to every HubStream it makes
