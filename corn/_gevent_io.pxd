# Declarations of the gevent worker's I/O: the table of contents of _gevent_io.pyx.

cimport cython

from corn._connection cimport Connection
from corn._stream cimport Engine, Stream


cdef class ReadPoller
cdef class GeventEngine


@cython.final
cdef class GeventStream(Stream):
    cdef int fd                        # the non-blocking descriptor, for recv(2)/send(2)
    cdef object read_event             # the socket's own read watcher (when there is no poller)
    cdef object hub                    # switched to while a read waits
    cdef object greenlet               # the greenlet serving this connection
    cdef ReadPoller poller             # the worker's edge-triggered poller, or None
    cdef bint polled                   # the socket is in the poller's set
    cdef bint ready                    # the poller saw it readable while it was busy
    cdef bint waiting                  # parked in wait_readable
    cdef bint drained                  # the last recv(2) emptied the socket
    cdef bint hung_up                  # the poller saw the peer's end (or an error): reads do not wait
    cdef double read_deadline          # monotonic time the current read wait times out (0: never)
    cdef object timer                  # the read timer, or None
    cdef double timer_at               # when it fires (0: not armed)
    # --- served by the engine's runners (a parking stream) --------------------------------------
    cdef GeventEngine engine           # whose runners resume the connection
    cdef Connection conn               # the connection, while it is open
    cdef object handler                # its ConnectionHandler
    cdef object resume                 # handler.resume, bound once for the connection's life
    cdef object context                # its contextvars.Context: each connection has its own
    cdef object done                   # called once the connection has closed
    cdef bint parked                   # waits for a request's first bytes, held by no greenlet
    cdef bint expired                  # queued because its deadline passed, not for bytes
    cdef bytearray out                 # a response's last bytes held for the engine's flush, or None
    cdef object out_watcher            # write watcher while `out` waits for room in the socket

    cdef int send_all(self, const char* p, Py_ssize_t size, object owner) except -1
    cdef int hold(self, const char* head, Py_ssize_t size, bytes body) except -1
    cdef int flush_out(self) except -1
    cdef int push_out(self) except -1

    cdef int close_timer(self) except -1
    cdef int arm_timer(self, double seconds) except -1
    cdef int arm_deadline(self, double deadline) except -1
    cdef int timer_fired(self) except -1


@cython.final
cdef class ReadPoller:
    cdef int epfd                      # our own epoll descriptor, edge-triggered
    cdef dict streams                  # fd -> GeventStream, for every socket in the set
    cdef object watcher                # gevent's read watcher on epfd; its callback is dispatch()
    cdef void* events                  # room for POLL_BATCH epoll_event records
    cdef GeventEngine engine           # resumes the parked connections that become readable

    @staticmethod
    cdef ReadPoller open(hub, GeventEngine engine)
    cdef int watch(self, GeventStream stream) except -1
    cdef int forget(self, GeventStream stream) except -1


cdef class GeventEngine(Engine):
    cdef ReadPoller poller             # made at the first connection (None until then)
    cdef bint no_poller                # epoll is not available here: read watchers instead
    cdef list unsent                   # streams holding a response's last bytes
    cdef double unsent_since           # monotonic time the oldest of them was held
    cdef bint flush_scheduled          # flush_unsent() is due in the hub's next round of callbacks

    cdef int enqueue(self, GeventStream stream, bint expired) except -1
    cdef int run_ready(self) except -1
    cdef int flush_unsent(self) except -1
