# Declarations of a connection and its request body: the table of contents of _connection.pyx.
#
# ConnectionHandler (corn._handler) makes one Connection per accepted socket; it holds the socket's
# Stream, its one receive buffer (lent to the handler's pool while nothing is buffered) and where
# its requests stand between two calls of resume(). A Body (wsgi.input) reads its request's body
# from that buffer, refilling it through the Stream.

cimport cython

from corn._chunked cimport ChunkedDecoder
from corn._parser cimport RequestParser
from corn._stream cimport Stream


cdef enum:
    PARKED = -2               # resume()/fill(): the connection waits for bytes, held by no one


@cython.final
cdef class Connection:
    # --- per connection -----------------------------------------------------------------------
    cdef Stream stream                 # every read, write and wait of the connection
    cdef readonly object sock
    cdef object peer                   # the address tuple, or a unix path / ""
    cdef str remote_addr               # REMOTE_ADDR ("" for a unix socket peer)
    cdef str remote_port               # REMOTE_PORT, or None for a unix socket peer
    cdef int rights                    # PEER_TRUSTED | PEER_MAY_PROXY, -1 until looked up
    cdef double head_deadline          # monotonic time by which the first request head must be in
    cdef bytearray buf                 # the receive buffer, reused for every request; None while idle
    cdef list buffers                  # the handler's pool of receive buffers
    cdef Py_ssize_t start              # unconsumed bytes are buf[start:end]
    cdef Py_ssize_t end
    cdef bint eof                      # the peer closed its side
    cdef bint must_close               # framing is broken or a limit was hit: do not reuse
    cdef Py_ssize_t requests           # requests served on this connection
    cdef long long* counters           # the worker's metrics slot (WorkerState.counters), or NULL
    # --- where the connection stands between two calls of resume() -----------------------------
    cdef bint first                    # no request has been served yet
    cdef bint proxy_read               # its PROXY header has been read (when the handler has a reader)
    cdef object proxy_info             # what the PROXY header said, for the whole connection
    cdef RequestParser parser          # the head being received, or None between requests
    cdef double deadline               # when the head being received must be complete (0: none)
    cdef readonly double wait_until    # parked: when to resume even if nothing arrives (0: never)
    cdef bint expired                  # resumed because wait_until passed
    cdef bint parked                   # resume() returned PARKED, and it has not been resumed since

    cdef Py_ssize_t fill(self, bint may_park) except -1
    cdef int lend_buffer(self) except -1


@cython.final
cdef class Body:
    # --- per request: wsgi.input over Content-Length or chunked framing -------------------------
    cdef Connection conn
    cdef ChunkedDecoder decoder        # None unless chunked
    cdef long long remaining           # Content-Length bytes not yet taken
    cdef bint done                     # the whole body has been taken
    cdef bint continue_pending         # 100 Continue is owed before the first read from the socket

    cdef object _take(self, Py_ssize_t limit)
    cdef int _consumed(self, Py_ssize_t n) except -1
    cdef Py_ssize_t _available(self) except -1
    cdef int drain(self, Py_ssize_t limit) except -1
