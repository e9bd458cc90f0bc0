"""The request cycle: the keep-alive loop and the WSGI environ, with wsgi.input
(corn._connection) and the response (corn._response) of each request.

A worker builds one ConnectionHandler per listener after it has loaded the app, then hands it every
accepted connection. From there the loop stays in compiled code and leaves it only to call the
app, the hooks (when set), the access logger (when on) and the connection's Stream (corn._stream),
through which every read, write and wait goes: the cycle knows no concurrency library. The worker
gives the handler, at construction, its Engine (what makes a Stream of a socket), a WorkerState
shared by its handlers (the stopping flag, the request count and max_requests), and what a peer
address is granted (callables, asked once per address).

Two ways in:
- handle(sock, addr): serve the connection until it closes (gevent and sync workers).
- open(sock, addr), then resume(conn) each time it is readable or its wait_until passed: with a
  parking Engine, resume() returns PARKED as soon as the connection waits for the first bytes of
  a request, so an idle or silent connection holds no thread (gthread worker).

Invariants:
- Everything fixed for the worker's life is computed in ConnectionHandler.__init__ from the
  HandlerOptions (corn.options): the base environ (copied per request), the parser options, the
  timeouts, the access-log switch. Parsers are pooled per handler, like receive buffers.
- A connection that must open with a PROXY header has it read once, before its first request, by
  the handler's ProxyReader (corn._proxy); what it said holds for every request of the connection.
- A refused request is answered once with its 4xx (corn.http_errors.error_response; a connection
  that should have opened with a PROXY header gets no answer) and the connection is closed; a
  body that is not read whole is drained up to DRAIN_LIMIT or the connection is closed, so the
  next request can never start inside the previous body.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.dict cimport PyDict_Copy

from corn._connection cimport PARKED, Body, Connection
from corn._state cimport (
    C_ACCEPTED, C_BEGUN, C_CLOSED, C_DONE, C_REUSES, CORN_DEBUG, D_BUFFERS_DROPPED, D_CONNECTIONS_CLOSED,
    D_CONNECTIONS_OPENED, D_CONNECTIONS_PARKED, D_CONNECTIONS_UNPARKED, D_PARSERS_DROPPED, D_PARSERS_MADE,
    D_PARSERS_POOLED, D_PARSERS_TAKEN, debug_counts,
)
from corn._parser cimport ParserOptions, RequestParser
from corn._proxy cimport PROXY_OFF, ProxyReader
from corn._response cimport Response, http_date
from corn._stream cimport Engine
from corn._syscalls cimport monotonic_now
from corn._state cimport WorkerState as State

import os
import socket
import sys
from urllib.parse import unquote_to_bytes

from corn import SERVER_SOFTWARE
from corn.filewrapper import FileWrapper
from corn.hook_request import HookRequest
from corn._state import WorkerState  # where the workers have always found it

from corn.http_errors import (
    ConfigurationProblem, HTTPParseError, LimitRequestHeaders, NoMoreData, RequestHeadTimeout, error_response,
    internal_error_response,
)

cdef object socket_timeout = socket.timeout
cdef object SHUT_WR = socket.SHUT_WR

cdef enum:
    DRAIN_LIMIT = 1048576     # unread body bytes we are willing to discard to keep a connection
    ENVIRON_KEY_CACHE = 4096  # header names remembered with their HTTP_* key
    MAX_REQUEST_LINE = 65536  # the longest request line buffered when limit_request_line is 0
    POOLED_PARSERS = 64       # parsers of finished requests a handler keeps for the next ones
    PEER_CACHE = 4096         # peer addresses remembered with what their allow-lists grant
    PEER_TRUSTED = 1          # in forwarded_allow_ips: may set scheme and forwarder headers
    PEER_MAY_PROXY = 2        # in proxy_allow_ips: may send a PROXY protocol header

# The environ keys _environ (and, for wsgi.early_hints, _serve_one) sets for every request.
cdef tuple REQUEST_KEYS = (
    "REQUEST_METHOD", "RAW_URI", "QUERY_STRING", "SERVER_PROTOCOL", "PATH_INFO", "REMOTE_ADDR",
    "wsgi.input", "wsgi.early_hints", "gunicorn.socket",
)

# Header name (as the parser gives it, upper-cased) -> environ key. Filled as names are seen.
cdef dict ENVIRON_KEYS = {"CONTENT-TYPE": "CONTENT_TYPE", "CONTENT-LENGTH": "CONTENT_LENGTH"}

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





cdef class HandlerOptions:
    """The settings of the request cycle and its parser, validated and normalised by
    corn.options.request_options (from a Config); the cycle takes nothing else from the settings."""

    def __init__(self, ParserOptions parser not None, *, double keepalive, double header_timeout,
                 double timeout, bint use_sendfile, str url_scheme not None, bint multiprocess,
                 int proxy_protocol, pre_request, post_request):
        self.parser = parser
        self.keepalive = keepalive
        self.header_timeout = header_timeout
        self.timeout = timeout
        self.use_sendfile = use_sendfile
        self.url_scheme = url_scheme
        self.multiprocess = multiprocess
        self.proxy_protocol = proxy_protocol
        self.pre_request = pre_request
        self.post_request = post_request


cdef class ConnectionHandler:
    """Serves connections accepted on one listener, for one worker."""

    def __init__(self, app, HandlerOptions options not None, log, listener, Engine engine, State state,
                 *, worker=None, peer_trusted=None, proxy_allowed=None, bint multithread=False):
        cdef object sockname = listener.sock.getsockname()
        self.app = app
        self.log = log
        self.engine = engine
        self.state = state
        self.hook_worker = worker
        self.unix_listener = not isinstance(sockname, tuple)
        self.listener_name = str(listener)
        self.keepalive = options.keepalive
        self.header_timeout = options.header_timeout
        self.use_sendfile = options.use_sendfile
        self.timeout = options.timeout
        self.force_close = options.keepalive <= 0 or not multithread
        self.access_enabled = bool(getattr(log, "access_enabled", False))
        self.access_log = log.access if self.access_enabled else None
        self.script_name = os.environ.get("SCRIPT_NAME", "")
        self.pre_request = options.pre_request
        self.post_request = options.post_request
        self.forwarded_allow = peer_trusted
        self.proxy_allow = proxy_allowed
        self.peer_rights = {}
        self.parser_options = options.parser
        self.proxy = ProxyReader(options.proxy_protocol) if options.proxy_protocol != PROXY_OFF else None
        self.max_head_bytes = options.parser.max_head + MAX_REQUEST_LINE
        self.buffers = []
        self.parsers = []
        self.base_environ = {
            "wsgi.version": (1, 0),
            "wsgi.errors": getattr(log, "wsgi_errors", sys.stderr),
            "wsgi.multithread": multithread,
            "wsgi.multiprocess": options.multiprocess,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "wsgi.url_scheme": options.url_scheme,
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

    def handle(self, sock, addr):
        """Serve one connection until it closes."""
        self.resume(self.open(sock, addr))

    def open(self, sock, addr):
        """The Connection of an accepted socket, not yet read from. Its wait_until is when the
        first request's head must have begun to arrive (0: no limit)."""
        cdef Connection conn = Connection(self.engine.open(sock, self.timeout), addr, self.buffers)
        cdef double wait = self.timeout
        if CORN_DEBUG:
            debug_counts[D_CONNECTIONS_OPENED] += 1
        if self.state.counters != NULL:
            conn.counters = self.state.counters
            conn.counters[C_ACCEPTED] += 1
        if self.header_timeout > 0:
            conn.head_deadline = monotonic_now() + self.header_timeout
            if wait <= 0 or self.header_timeout < wait:
                wait = self.header_timeout
        conn.wait_until = monotonic_now() + wait if wait > 0 else 0.0
        return conn

    def resume(self, Connection conn, bint expired=False):
        """Serve the connection until it closes (returns 0) or, with a parking Engine, until it
        waits for the first bytes of a request (returns PARKED: the connection is the caller's to
        watch until it is readable or its wait_until has passed, then to resume again, with
        `expired` in the second case)."""
        cdef int verdict = 0
        conn.expired = expired
        if conn.parked:
            conn.parked = False
            if CORN_DEBUG:
                debug_counts[D_CONNECTIONS_UNPARKED] += 1
        try:
            verdict = self._serve(conn)
        except (socket_timeout, NoMoreData, ConnectionError):
            pass
        except OSError as exc:
            self.log.debug("Socket error on %s: %s", conn.remote_addr, exc)
        finally:
            if verdict != PARKED:
                self._close(conn)
            else:
                conn.parked = True
                if CORN_DEBUG:
                    debug_counts[D_CONNECTIONS_PARKED] += 1
        return verdict

    def close(self, Connection conn not None):
        """Close a connection that is not being served (one its worker holds parked, at a stop)."""
        self._close(conn)

    cdef int _close(self, Connection conn) except -1:
        """The end of a connection, however it came: release the stream, close the socket."""
        cdef RequestParser parser = conn.parser
        if conn.counters != NULL:
            conn.counters[C_CLOSED] += 1
            conn.counters = NULL  # a connection is closed once, and counted once
        if CORN_DEBUG:
            debug_counts[D_CONNECTIONS_CLOSED] += 1
        if parser is not None:
            conn.parser = None
            self._pool_parser(parser)
        try:
            conn.stream.release()
        finally:
            if conn.buf is not None and conn.start == conn.end:
                conn.lend_buffer()
            elif conn.buf is not None and CORN_DEBUG:
                debug_counts[D_BUFFERS_DROPPED] += 1  # unread bytes: the buffer goes with the connection
            if (conn.must_close or conn.end > conn.start) and not conn.eof:
                close_quietly(conn.sock)  # unread input: a plain close would reset the response
            else:
                try:
                    conn.sock.close()
                except OSError:
                    pass
        return 0

    cdef int _serve(self, Connection conn) except -1:
        """The keep-alive loop. Between requests the connection holds neither a receive buffer
        nor a parser: it waits for its next bytes, then takes a parser from the pool. Returns 0
        when the connection is done, PARKED when it waits for a request's first bytes and the
        stream parks."""
        cdef RequestParser parser
        cdef int rights
        cdef int more
        cdef Py_ssize_t n
        while True:
            parser = conn.parser
            if parser is None:
                if not conn.first and conn.end == conn.start:
                    conn.stream.set_timeout(self.keepalive)  # idle between two requests
                    n = conn.fill(True)
                    if n == PARKED:
                        return PARKED
                    if n == 0:
                        return 0
                rights = conn.rights
                if rights < 0:
                    rights = conn.rights = self._peer_rights(conn)
                if conn.first:
                    conn.deadline = conn.head_deadline
                    if self.proxy is not None and not conn.proxy_read:
                        try:
                            more = self._read_proxy(conn)
                        except HTTPParseError as exc:
                            return self._refuse(conn, exc)
                        if more != 1:
                            return more  # PARKED, or 0: closed before the header was whole
                else:
                    conn.deadline = 0.0
                parser = self._take_parser()
                parser.peer_trusted = rights & PEER_TRUSTED
                parser.reset()
                conn.parser = parser
            more = self._serve_one(conn, parser)
            if more == PARKED:
                return PARKED
            conn.parser = None
            self._pool_parser(parser)
            if more == 0:
                return 0
            conn.first = False

    cdef RequestParser _take_parser(self):
        """A parser for the next head: one of the pool's, else a new one."""
        if self.parsers:
            if CORN_DEBUG:
                debug_counts[D_PARSERS_TAKEN] += 1
            return self.parsers.pop()
        if CORN_DEBUG:
            debug_counts[D_PARSERS_MADE] += 1
        return RequestParser(self.parser_options)

    cdef int _pool_parser(self, RequestParser parser) except -1:
        """A parser whose request is done goes back to the pool, while the pool has room."""
        if len(self.parsers) < POOLED_PARSERS:
            self.parsers.append(parser)
            if CORN_DEBUG:
                debug_counts[D_PARSERS_POOLED] += 1
        elif CORN_DEBUG:
            debug_counts[D_PARSERS_DROPPED] += 1
        return 0

    cdef int _peer_rights(self, Connection conn) except -1:
        """PEER_TRUSTED | PEER_MAY_PROXY for the connection's peer address, worked out by the
        worker's allow-lists once per address (parsing an address costs more than a request)."""
        cdef object rights = self.peer_rights.get(conn.remote_addr)
        if rights is None:
            rights = ((PEER_TRUSTED if self.forwarded_allow is not None and self.forwarded_allow(conn.peer) else 0)
                      | (PEER_MAY_PROXY if self.proxy_allow is not None and self.proxy_allow(conn.peer) else 0))
            if len(self.peer_rights) >= PEER_CACHE:
                self.peer_rights.clear()
            self.peer_rights[conn.remote_addr] = rights
        return <int>rights

    cdef int _read_proxy(self, Connection conn) except -1:
        """Receive until the PROXY header that opens the connection is whole: 1 once it is read,
        0 when the peer closed first, PARKED when the stream parks."""
        cdef Py_ssize_t end, n
        while True:
            if conn.end > conn.start:
                end = self.proxy.read(conn.buf, conn.start, conn.end, conn.rights & PEER_MAY_PROXY,
                                      conn.remote_addr)
                if end >= 0:
                    conn.start = end
                    conn.proxy_info = self.proxy.info
                    conn.proxy_read = True
                    return 1
            n = self._receive(conn)
            if n == PARKED or n == 0:
                return n

    cdef Py_ssize_t _read_head(self, Connection conn, RequestParser parser) except -1:
        """Receive until the parser has a whole head; returns where it ends, 0 when the peer
        closed before a whole head (nothing to answer), PARKED when the stream parks."""
        cdef Py_ssize_t head_end
        cdef Py_ssize_t n
        while True:
            if conn.end > conn.start:
                head_end = parser.parse_head(conn.buf, conn.start, conn.end)
                if head_end >= 0:
                    return head_end
                if conn.end - conn.start > self.max_head_bytes:
                    # only reachable with limit_request_line=0, which leaves the request line unbounded
                    raise LimitRequestHeaders("max buffer headers")
            n = self._receive(conn)
            if n == PARKED or n == 0:
                return n  # 0: closed between requests, or in the middle of a head: nothing to answer

    cdef Py_ssize_t _receive(self, Connection conn) except -1:
        """More bytes of a request head (or of the PROXY header before it), within its deadlines:
        header_timeout for a whole head once it has begun (and for the first one from the
        connection's start), timeout for each read, keepalive while nothing is buffered between
        two requests. Returns what Connection.fill does."""
        cdef double left
        cdef Py_ssize_t n
        if conn.end > conn.start and conn.deadline == 0.0 and self.header_timeout > 0:
            conn.deadline = monotonic_now() + self.header_timeout
        if conn.deadline > 0.0:
            left = conn.deadline - monotonic_now()
            if left <= 0.0:
                raise RequestHeadTimeout(self.header_timeout)
            conn.stream.set_timeout(left if self.timeout <= 0.0 or left < self.timeout else self.timeout)
        elif conn.end > conn.start or conn.first:
            conn.stream.set_timeout(self.timeout)
        else:
            conn.stream.set_timeout(self.keepalive)  # idle between two requests
        try:
            n = conn.fill(True)
        except socket_timeout:
            if conn.deadline > 0.0 and conn.deadline - monotonic_now() <= 0.001:
                raise RequestHeadTimeout(self.header_timeout)
            raise
        return n

    cdef int _serve_one(self, Connection conn, RequestParser parser) except -1:
        """One request and its response. Returns 1 when the connection may carry another, 0 when
        it must close, PARKED when the stream parks before the head is complete."""
        cdef Py_ssize_t head_end
        cdef Body body
        cdef Response resp
        cdef dict environ
        cdef object result = None
        cdef double started = 0.0
        cdef object hook_req = None
        cdef long long* counters = self.state.counters
        try:
            head_end = self._read_head(conn, parser)
        except HTTPParseError as exc:
            return self._refuse(conn, exc)
        if head_end == PARKED:
            return PARKED
        if head_end == 0:
            return 0
        conn.stream.set_timeout(self.timeout)
        conn.start = head_end
        body = Body(conn, parser, parser.expect_continue and parser.version_minor >= 1)
        resp = Response(
            conn, "HTTP/1.1" if parser.version_minor == 1 else "HTTP/1.0",
            parser.method == "HEAD", not (parser.should_close or self.force_close),
        )
        resp.state = self.state
        self.requests_started += 1
        if not self.state.request_begins():
            resp.keep_alive = False  # the last request this worker serves (max_requests)
        if self.access_enabled or counters != NULL:
            started = monotonic_now()
        if counters != NULL:
            counters[C_BEGUN] += 1
            if conn.requests > 0:
                counters[C_REUSES] += 1
        if self.pre_request is not None or self.post_request is not None:
            hook_req = HookRequest(
                parser.method, parser.uri, parser.path, parser.query, parser.fragment,
                (parser.version_major, parser.version_minor), parser.headers,
                parser.url_scheme or self.base_environ["wsgi.url_scheme"], conn.peer, conn.requests + 1,
            )
            if self.pre_request is not None:
                self.pre_request(self.hook_worker, hook_req)
        conn.requests += 1
        try:
            environ = self._environ(conn, parser, body)
        except HTTPParseError as exc:
            if counters != NULL:
                counters[C_DONE] += 1
            return self._refuse(conn, exc)
        environ["wsgi.early_hints"] = resp
        try:
            result = self.app(environ, resp.start_response)
            try:
                if not (type(result) is FileWrapper and self.use_sendfile and resp.started
                        and not resp.headers_sent and resp.send_file(result, self.timeout)):
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
                error_head = internal_error_response(http_date(), not resp.head_request)
                conn.stream.send(error_head)
                resp.head_bytes = len(error_head)
                resp.status = "500 Internal Server Error"
                resp.status_code = 500
                resp.headers = []
                resp.sent = 0
            return 0
        finally:
            if counters != NULL:
                self.state.count_request(parser.method, resp.status_code if resp.status is not None else 0,
                                         started, resp.head_bytes + resp.sent)
            if self.access_enabled and resp.status is not None:
                self.access_log(environ, resp.status, resp.headers, resp.sent,
                                monotonic_now() - started)
            if self.post_request is not None:
                try:
                    self.post_request(self.hook_worker, hook_req, environ, resp)
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
        if conn.proxy_info is not None and conn.proxy_info[1] is not None:
            proto, src_addr, src_port, dst_addr, dst_port = conn.proxy_info
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
            environ["SERVER_NAME"] = self.listener_name
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
        cdef bytes answer = None
        self.log.warning("Invalid request from ip=%s: %s", conn.remote_addr or "unix", exc)
        conn.must_close = True
        if exc.respond:
            answer = error_response(exc, http_date(), conn.parser is None or conn.parser.method != "HEAD")
            conn.stream.send(answer)
        if self.state.counters != NULL:
            self.state.count_error(exc, len(answer) if answer is not None else 0)
        return 0
