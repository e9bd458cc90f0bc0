# Declarations of corn's connection handler: the table of contents of _handler.pyx.
#
# One ConnectionHandler per listener per worker holds everything that is fixed for the worker's
# life (the app, limits, the base environ). handle(sock, addr) runs one connection's keep-alive
# loop; its state lives in a Connection (one per accepted socket). Each request gets a Body
# (wsgi.input) and a Response (start_response / write / framing); both read and write through the
# Connection, whose one receive buffer is reused for the whole connection.

from corn._parser cimport ChunkedDecoder, RequestParser


cdef class ConnectionHandler:
    # --- per worker ---------------------------------------------------------------------------
    cdef object app
    cdef object log
    cdef object worker
    cdef dict base_environ             # copied per request, then the request's keys are added
    cdef dict parser_options           # keyword arguments of RequestParser, from the settings
    cdef bint unix_listener            # SERVER_NAME/PORT come from Host, REMOTE_ADDR is ""
    cdef bint force_close              # one request per connection (sync worker, keepalive 0)
    cdef bint access_enabled
    cdef object access_log             # log.access, looked up once
    cdef double keepalive              # idle wait for the next request on a kept-alive connection
    cdef double header_timeout         # deadline for a whole request head (0: none)
    cdef Py_ssize_t max_head_bytes     # a head still incomplete after this many bytes is refused
    cdef bint use_sendfile             # wsgi.file_wrapper bodies go out with os.sendfile
    cdef object wait_write             # worker.wait_write(fd, timeout): block until fd is writable
    cdef double timeout                # deadline of each read or write inside a request
    cdef object forwarded_allow        # callable(addr) -> bool: is the peer trusted
    cdef object proxy_allow            # callable(addr) -> bool: may the peer send a PROXY header
    cdef dict peer_rights              # peer address -> PEER_TRUSTED | PEER_MAY_PROXY, bounded
    cdef ReadPoller poller             # made at the first gevent connection (None until then)
    cdef bint no_poller                # epoll is not available here: read watchers instead
    cdef str script_name               # SCRIPT_NAME from the process environment
    cdef list buffers                  # receive buffers of idle connections, lent to busy ones
    cdef list parsers                  # parsers between two requests of any connection
    cdef object pre_request            # the hooks, or None when they are gunicorn's defaults
    cdef object post_request
    cdef long long max_requests        # the worker's max_requests (with its jitter), 0 for none
    cdef readonly long long requests_started  # requests this handler has begun (worker.nr sums them)

    cdef int _serve(self, Connection conn) except -1
    cdef int _peer_rights(self, Connection conn) except -1
    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1
    cdef dict _environ(self, Connection conn, RequestParser parser, Body body)
    cdef int _refuse(self, Connection conn, exc) except -1
    cdef int _log_length_mismatch(self, RequestParser parser, Response resp) except -1
    cdef int _server_from_host(self, dict environ, host) except -1


cdef class ReadPoller


cdef class Connection:
    # --- per connection -----------------------------------------------------------------------
    cdef object sock
    cdef object recv_into              # sock.recv_into, when the descriptor is not read directly
    cdef int fd                        # gevent: the non-blocking descriptor, for recv(2)/send(2)
    cdef object read_event             # gevent: the socket's read watcher
    cdef object hub                    # gevent: the hub, switched to while a read waits
    cdef object greenlet               # gevent: the greenlet serving this connection
    cdef ReadPoller poller             # gevent: the worker's edge-triggered poller, or None
    cdef bint polled                   # gevent: the socket is in the poller's set
    cdef bint ready                    # gevent: the poller saw it readable while it was busy
    cdef bint waiting                  # gevent: parked in wait_readable
    cdef double read_deadline          # gevent: monotonic time the current read wait times out (0: never)
    cdef object timer                  # gevent: the read timer, or None
    cdef double timer_at               # gevent: when it fires (0: not armed)
    cdef object peer                   # the address tuple, or a unix path / ""
    cdef str remote_addr               # REMOTE_ADDR ("" for a unix socket peer)
    cdef str remote_port               # REMOTE_PORT, or None for a unix socket peer
    cdef double timeout_now            # the socket timeout currently set, to skip needless calls
    cdef double head_deadline          # monotonic time by which the first request head must be in
    cdef bytearray buf                 # the receive buffer, reused for every request; None while idle
    cdef list buffers                  # the handler's pool of receive buffers
    cdef Py_ssize_t start              # unconsumed bytes are buf[start:end]
    cdef Py_ssize_t end
    cdef bint eof                      # the peer closed its side
    cdef bint drained                  # gevent: the last recv(2) emptied the socket
    cdef bint must_close               # framing is broken or a limit was hit: do not reuse
    cdef Py_ssize_t requests           # requests served on this connection

    cdef Py_ssize_t fill(self) except -1
    cdef int send(self, bytes data) except -1
    cdef int send_parts(self, const char* head, Py_ssize_t size, bytes body) except -1
    cdef int set_timeout(self, double seconds) except -1
    cdef int lend_buffer(self) except -1
    cdef int wait_readable(self) except -1
    cdef int close_timer(self) except -1
    cdef int arm_timer(self, double seconds) except -1
    cdef int timer_fired(self) except -1


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


cdef class Response:
    # --- per request: start_response, write and the framing of the response --------------------
    cdef Connection conn
    cdef str version                   # "HTTP/1.1" or "HTTP/1.0": the status line echoes the request
    cdef public str status
    cdef public list headers
    cdef readonly int status_code
    cdef bint started                  # start_response was called
    cdef bint headers_sent
    cdef bint chunked
    cdef bint no_body                  # HEAD, 1xx, 204, 304
    cdef bint keep_alive               # the request allows keeping the connection
    cdef long long length              # Content-Length from the app, or -1
    cdef bint overflow                 # the app wrote more than its Content-Length (the excess is dropped)
    cdef public long long sent         # body bytes sent

    cdef str date                      # the Date value of the head being built
    cdef Py_ssize_t _head_size(self) except -1
    cdef char* _head_into(self, char* p) except NULL
    cdef bytes _head(self)
    cdef int _write(self, data) except -1
    cdef bint head_request
    cdef object worker                 # its `alive` turns False when it stops: the head then says close
    cdef int finish(self) except -1
    cdef int send_file(self, wrapper, object wait_write, double timeout) except -1


cdef class ReadPoller:
    # --- per worker (made by the first handler that serves a gevent connection) ------------------
    cdef int epfd                      # our own epoll descriptor, edge-triggered
    cdef dict connections              # fd -> Connection, for every socket in the set
    cdef object watcher                # gevent's read watcher on epfd; its callback is dispatch()
    cdef void* events                  # room for POLL_BATCH epoll_event records

    @staticmethod
    cdef ReadPoller open(hub)
    cdef int watch(self, Connection conn) except -1
    cdef int forget(self, Connection conn) except -1
