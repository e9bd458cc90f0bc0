# Declarations of corn's connection handler: the table of contents of _handler.pyx.
#
# One ConnectionHandler per listener per worker holds everything that is fixed for the worker's
# life (the app, limits, the base environ, the worker's Engine and WorkerState). handle(sock,
# addr), or open() and resume(), run one connection's keep-alive loop; its state lives in a
# Connection (corn._connection, one per accepted socket). Each request gets a Body (wsgi.input,
# corn._connection) and a Response (corn._response); both read and write through the
# Connection's Stream and its one receive buffer, reused for the whole connection.

cimport cython

from corn._connection cimport Body, Connection
from corn._parser cimport ParserOptions, RequestParser
from corn._proxy cimport ProxyReader
from corn._response cimport Response
from corn._state cimport WorkerState as State
from corn._stream cimport Engine


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


@cython.final
cdef class ConnectionHandler:
    # --- per worker and listener ----------------------------------------------------------------
    cdef object app
    cdef object log
    cdef Engine engine                 # makes the Stream of each accepted socket
    cdef State state                   # corn._state.WorkerState
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
    cdef RequestParser _take_parser(self)
    cdef int _pool_parser(self, RequestParser parser) except -1
    cdef int _peer_rights(self, Connection conn) except -1
    cdef int _read_proxy(self, Connection conn) except -1
    cdef Py_ssize_t _read_head(self, Connection conn, RequestParser parser) except -1
    cdef Py_ssize_t _receive(self, Connection conn) except -1
    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1
    cdef dict _environ(self, Connection conn, RequestParser parser, Body body)
    cdef int _refuse(self, Connection conn, exc) except -1
    cdef int _log_length_mismatch(self, RequestParser parser, Response resp) except -1
    cdef int _server_from_host(self, dict environ, host) except -1
