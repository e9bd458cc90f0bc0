# Declarations of corn's HTTP/1.1 request parser: the table of contents of _parser.pyx.
#
# The parser works on bytes only. The caller (corn._handler) owns one receive buffer per
# connection and passes it with explicit offsets; the parser never copies the buffer, never
# re-scans bytes it has already scanned (it keeps its progress relative to the request start,
# so the caller may move the unconsumed bytes to the front of its buffer between calls), and
# knows nothing of sockets or WSGI.
#
# Life of a request, as the handler drives it:
#   parser = RequestParser(options)      # options: corn.options.request_options(cfg).parser
#   parser.reset()
#   loop: end = recv more; head_end = parser.parse_head(buf, start, end)   # -1: need more bytes
#   read parser.method / .uri / .path / .query / .fragment / .version_* / .headers / framing
#   body: BODY_LENGTH -> content_length bytes follow head_end
#         BODY_CHUNKED -> ChunkedDecoder.advance() over the bytes that follow
#         BODY_NONE    -> no body (a request never reads until EOF)
# Every refusal raises a corn.http_errors.HTTPParseError subclass.
#
# Both classes are final: cdef and cpdef methods are called directly from C.

cimport cython

cpdef enum BodyKind:
    BODY_NONE = 0
    BODY_LENGTH = 1
    BODY_CHUNKED = 2

cpdef enum HeaderMap:
    HEADER_MAP_DROP = 0
    HEADER_MAP_REFUSE = 1
    HEADER_MAP_DANGEROUS = 2


cpdef enum Limits:
    MAX_REQUEST_LINE = 8190            # the longest limit_request_line (gunicorn's)
    MAX_HEADERS = 32768                # the most limit_request_fields (gunicorn's)


@cython.final
cdef class ParserOptions:
    # --- per worker: the settings, validated by corn.options.request_options -----------------
    cdef readonly Py_ssize_t limit_request_line       # 0 = unlimited, at most MAX_REQUEST_LINE
    cdef readonly Py_ssize_t limit_request_fields     # 1 to MAX_HEADERS
    cdef readonly Py_ssize_t limit_request_field_size # > 0
    cdef readonly Py_ssize_t max_head                 # fields * (field_size + 2) + 4
    cdef readonly bint permit_unconventional_http_method
    cdef readonly bint permit_unconventional_http_version
    cdef readonly bint casefold_http_method
    cdef readonly bint strip_header_spaces
    cdef readonly bint permit_obsolete_folding
    cdef readonly int header_map                      # HeaderMap
    cdef readonly frozenset forwarder_headers         # names (as configured), or None for '*'
    cdef readonly dict secure_scheme_headers          # NAME (as configured) -> value meaning https
    cdef bint scheme_any                              # secure_scheme_headers is not empty
    cdef unsigned long long scheme_known              # bit i: known header name i is a scheme header


@cython.final
cdef class RequestParser:
    cdef readonly ParserOptions options               # per worker

    # --- per connection ---------------------------------------------------------------------
    cdef public bint peer_trusted     # peer is in forwarded_allow_ips (or a unix socket)

    # --- scan state (relative to the request start) -----------------------------------------
    cdef int _state
    cdef Py_ssize_t _pos              # first byte not yet scanned
    cdef Py_ssize_t _line_start       # start of the line being scanned
    cdef Py_ssize_t _skipped          # leading CRLF bytes skipped before the request line
    cdef Py_ssize_t _head_start       # first byte of the field section (after the request line)

    # --- the field line being read: kept until the next line shows it is not folded ----------
    cdef str _pend_name               # None when no field is pending
    cdef str _pend_value
    cdef int _pend_id                 # index in the table of known names, or -1
    cdef bint _pend_underscore        # the name holds '_' (header_map / forwarder_headers)
    cdef Py_ssize_t _pend_size        # bytes of the field so far, CRLFs included
    cdef bint _folding                # the line being scanned continues the pending field
    cdef object _pend_field           # the cached (NAME, value) tuple the pending field repeats
    cdef list _field_cache            # known name id -> the (NAME, value) tuple last kept; a
                                      # keep-alive client repeats most fields, and the tuple is
                                      # reused when the value is byte for byte the same

    # --- per request: header policy bookkeeping ---------------------------------------------
    cdef Py_ssize_t _kept             # fields kept in `headers` (limit_request_fields)
    cdef unsigned int _seen           # SEEN_* bits
    cdef str _cl_value                # the Content-Length value, checked once the head is complete
    cdef object _framing_error        # first framing error, raised once the head is complete
    cdef bint _chunked
    cdef bint _must_close             # a compressing transfer coding was named
    cdef unsigned int _connection     # options named by the Connection fields: CONN_CLOSE | CONN_KEEP_ALIVE

    # --- per request: the result ------------------------------------------------------------
    cdef readonly str method
    cdef readonly str uri             # the raw request-target (RAW_URI)
    cdef readonly str path            # raw path, not percent-decoded
    cdef readonly str query
    cdef readonly str fragment
    cdef readonly int version_major
    cdef readonly int version_minor   # HTTP/1.2 to HTTP/1.9 are served as, and say, 1.1
    cdef readonly list headers        # [(NAME upper-cased str, value str latin-1)], arrival order
    cdef readonly int body_kind       # BodyKind
    cdef readonly long long content_length
    cdef readonly bint should_close   # request side: Connection header, version, CONNECT, gzip TE
    cdef readonly bint expect_continue
    cdef readonly object url_scheme   # "https"/"http" when a trusted scheme header said so, else None

    cpdef reset(self)
    cpdef Py_ssize_t parse_head(self, object buf, Py_ssize_t start, Py_ssize_t end) except -2

    cdef Py_ssize_t _scan(self, const unsigned char* p, Py_ssize_t n) except -2
    cdef int _parse_request_line(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _check_method(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _split_target(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _start_field(self, const unsigned char* p, Py_ssize_t n, bint final) except -1
    cdef int _continue_field(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _commit_field(self) except -1
    cdef int _keep_field(self, str name, str value, int ident, bint underscore, object field) except -1
    cdef int _note_framing(self, int name_id, str value) except -1
    cdef int _finish_head(self) except -1
