# Declarations of corn's connection handler: the table of contents of _handler.pyx.
#
# One ConnectionHandler per listener per worker holds everything that is fixed for the worker's
# life (the app, limits, the base environ, the worker's Engine and WorkerState). handle(sock,
# addr), or open() and resume(), run one connection's keep-alive loop; its state lives in a
# Connection (one per accepted socket). Each request gets a Body (wsgi.input) and a Response
# (start_response / write / framing); both read and write through the Connection's Stream and its
# one receive buffer, reused for the whole connection.

cimport cython

from corn._parser cimport ChunkedDecoder, ParserOptions, RequestParser
from corn._proxy cimport ProxyReader
from corn._stream cimport Engine, Stream


# The worker's counters (--metrics-bind): one array of 64-bit integers in a shared-memory slot the
# master mapped before the fork; the master sums the slots when scraped (corn.metrics). These are
# the indices; corn._handler.COUNTER_SLOTS names them for Python.
cdef enum:
    N_METHODS = 8                      # GET HEAD POST PUT DELETE PATCH OPTIONS, then any other
    N_CLASSES = 5                      # status classes 1xx to 5xx
    N_BUCKETS = 12                     # duration histogram buckets, the last one +Inf
    N_ERROR_KINDS = 32                 # parse error classes (corn._handler.ERROR_KINDS), the last "other"
    C_REQUESTS = 0                     # [method * N_CLASSES + class - 1] responses by method and class
    C_BUCKETS = 40                     # [i] requests whose duration fell in bucket i (not cumulative)
    C_DURATION_US = 52                 # the sum of request durations, microseconds
    C_BYTES_IN = 53                    # bytes received on connections
    C_BYTES_OUT = 54                   # response bytes sent (heads and bodies)
    C_ACCEPTED = 55                    # connections accepted
    C_CLOSED = 56                      # connections closed
    C_BEGUN = 57                       # requests whose head was received
    C_DONE = 58                        # requests finished (answered or failed)
    C_REUSES = 59                      # requests on a kept-alive connection (not its first)
    C_EXIT_REASON = 60                 # not a counter: why the worker is leaving (EXIT_*)
    C_ERRORS = 64                      # [kind] requests refused by a parse error
    N_COUNTERS = 96

cdef enum:
    EXIT_NONE = 0
    EXIT_MAX_REQUESTS = 1
    EXIT_RELOAD = 2


@cython.final
cdef class HandlerOptions:
    # --- per worker: the settings the request cycle reads, built by corn.options.request_options --
    cdef readonly ParserOptions parser
    cdef readonly double keepalive          # seconds; 0: one request per connection
    cdef readonly double header_timeout     # seconds for a whole request head; 0: no limit
    cdef readonly double timeout            # seconds for each read or write; 0: no limit
    cdef readonly bint use_sendfile
    cdef readonly str url_scheme            # "https" on a TLS listener, else "http"
    cdef readonly bint multiprocess         # wsgi.multiprocess: more than one worker
    cdef readonly int proxy_protocol        # corn._proxy.ProxyMode
    cdef readonly object pre_request        # the hooks, or None where nothing would happen
    cdef readonly object post_request


cdef class WorkerState:
    # --- per worker, shared by its handlers ----------------------------------------------------
    cdef public bint stopping          # the worker stops: responses say Connection: close
    cdef readonly long long requests   # requests begun in this worker (worker.nr)
    cdef long long max_requests        # the worker's max_requests (with its jitter), 0 for none
    cdef object on_last_request        # called once, as the max_requests-th request begins
    cdef long long* counters           # the worker's metrics slot, NULL when metrics are off
    cdef object counters_view          # keeps the slot's memory exported while counters points in it

    cdef bint request_begins(self) except -1
    cdef int count_request(self, str method, int status, double started, long long out) except -1
    cdef int count_error(self, exc, long long out) except -1


cdef class ConnectionHandler:
    # --- per worker and listener ----------------------------------------------------------------
    cdef object app
    cdef object log
    cdef Engine engine                 # makes the Stream of each accepted socket
    cdef WorkerState state
    cdef object hook_worker            # the worker object the request hooks are given
    cdef dict base_environ             # copied per request, then the request's keys are added
    cdef ParserOptions parser_options  # what every RequestParser of the handler is made with
    cdef ProxyReader proxy             # reads the PROXY header of each connection; None when off
    cdef bint unix_listener            # SERVER_NAME/PORT come from Host, REMOTE_ADDR is ""
    cdef str listener_name             # SERVER_NAME of a request on a unix listener without Host
    cdef bint force_close              # one request per connection (sync worker, keepalive 0)
    cdef bint access_enabled
    cdef object access_log             # log.access, looked up once
    cdef double keepalive              # idle wait for the next request on a kept-alive connection
    cdef double header_timeout         # deadline for a whole request head (0: none)
    cdef Py_ssize_t max_head_bytes     # a head still incomplete after this many bytes is refused
    cdef bint use_sendfile             # wsgi.file_wrapper bodies go out with os.sendfile
    cdef double timeout                # deadline of each read or write inside a request
    cdef object forwarded_allow        # callable(addr) -> bool: is the peer trusted
    cdef object proxy_allow            # callable(addr) -> bool: may the peer send a PROXY header
    cdef dict peer_rights              # peer address -> PEER_TRUSTED | PEER_MAY_PROXY, bounded
    cdef str script_name               # SCRIPT_NAME from the process environment
    cdef list buffers                  # receive buffers of idle connections, lent to busy ones
    cdef list parsers                  # parsers between two requests of any connection
    cdef object pre_request            # the hooks, or None when they are gunicorn's defaults
    cdef object post_request
    cdef readonly long long requests_started  # requests this handler has begun

    cdef int _close(self, Connection conn) except -1
    cdef int _serve(self, Connection conn) except -1
    cdef int _peer_rights(self, Connection conn) except -1
    cdef int _read_proxy(self, Connection conn) except -1
    cdef Py_ssize_t _read_head(self, Connection conn, RequestParser parser) except -1
    cdef Py_ssize_t _receive(self, Connection conn) except -1
    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1
    cdef dict _environ(self, Connection conn, RequestParser parser, Body body)
    cdef int _refuse(self, Connection conn, exc) except -1
    cdef int _log_length_mismatch(self, RequestParser parser, Response resp) except -1
    cdef int _server_from_host(self, dict environ, host) except -1


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

    cdef Py_ssize_t fill(self, bint may_park) except -1
    cdef int lend_buffer(self) except -1


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
    cdef Py_ssize_t head_bytes         # the size of the head sent (for the bytes-out counter)
    cdef WorkerState state             # its stopping flag: the head then says close
    cdef int finish(self) except -1
    cdef int send_file(self, wrapper, double timeout) except -1
