"""corn's HTTP/1.1 request parser: bytes in, typed request fields out (RFC 9112, gunicorn 27's rules).

Invariants:

- The caller's buffer (bytes or bytearray) is read through a pointer for the length of one call and
  never copied; no pointer into it is kept between calls.
- Every offset kept between calls is relative to the start of the request, so the caller may move
  the unconsumed bytes elsewhere between calls.
- Each byte is scanned once for its line end (memchr), and each complete line is parsed once: the
  cost is linear in the size of the head however the bytes were split across calls.
- Every refusal raises a `corn.http_errors` class at the earliest byte that decides it, and the
  class does not depend on how the bytes were split: limits are checked on what a line must at
  least hold, so a partial line and the same line complete give the same answer.
- Framing errors (Content-Length, Transfer-Encoding) are decided once the head is complete, in
  gunicorn's order, so a head with several faults gets the answer gunicorn gives.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.list cimport PyList_GET_ITEM, PyList_New
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_1BYTE_DATA
from libc.string cimport memchr, memcmp

from corn._bytes cimport ascii, buffer_of, check_range, latin1
from corn._chars cimport (
    C_TOKEN, C_UNCONVENTIONAL, char_class, line_floor, lower_is, same_bytes, target_scan,
)
from corn._fields cimport (
    CONN_CLOSE, CONN_KEEP_ALIVE, H_CONNECTION, H_CONTENT_LENGTH, H_CONTENT_TYPE, H_EXPECT, H_HOST,
    H_TRANSFER_ENCODING, KNOWN_MAX, KNOWN_NAMES, connection_options, field_name, field_value, fold_part,
    split_field,
)

import sys
from urllib.parse import urlsplit as url_urlsplit

from corn.http_errors import (
    ExpectationFailed,
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidSchemeHeaders,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    UnsupportedTransferCoding,
)

cdef extern from "Python.h":
    void Py_SET_SIZE(object o, Py_ssize_t size)


cdef enum:
    MAX_CONTENT_LENGTH_DIGITS = 18
    FIELD_ROOM = 16               # fields a new `headers` list holds before it must grow


# --- methods known in advance: one interned str each, found by length and first letter --------------

cdef tuple KNOWN_METHODS = tuple(sys.intern(m) for m in (
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
))
cdef PyObject* method_slot[5][26]      # [length - 3][first letter - 'A'] -> the method, or NULL


cdef void _init_methods() noexcept:
    cdef str method
    cdef int i, j
    for i in range(5):
        for j in range(26):
            method_slot[i][j] = NULL
    for method in KNOWN_METHODS:
        method_slot[len(method) - 3][ord(method[0]) - 65] = <PyObject*>method


_init_methods()


cdef inline str _known_method(const unsigned char* p, Py_ssize_t n):
    """The interned str of a method in KNOWN_METHODS, else None: no two share length and first
    letter, so one slot holds the only candidate."""
    cdef unsigned int letter = p[0] - 65
    cdef PyObject* method
    if n < 3 or n > 7 or letter >= 26:
        return None
    method = method_slot[n - 3][letter]
    if method == NULL or memcmp(PyUnicode_1BYTE_DATA(<str>method), p, n) != 0:
        return None
    return <str>method


cdef str EMPTY = ""
cdef str SCHEME_HTTPS = sys.intern("https")
cdef str SCHEME_HTTP = sys.intern("http")


cdef inline list _field_list():
    """An empty list with room for FIELD_ROOM items: a head's fields are appended without the
    list growing three times on the way (CPython keeps the room: 0 <= size <= allocated)."""
    cdef list fields = PyList_New(FIELD_ROOM)
    Py_SET_SIZE(fields, 0)
    return fields


# --- the request head ----------------------------------------------------------------------------

cdef enum HeadState:
    ST_LEADING = 0
    ST_REQUEST_LINE = 1
    ST_FIELDS = 2
    ST_DONE = 3

cdef enum Seen:
    SEEN_HOST = 1
    SEEN_CONTENT_TYPE = 2
    SEEN_CONTENT_LENGTH = 4
    SEEN_TRANSFER_ENCODING = 8
    SEEN_SCHEME = 16


cdef class ParserOptions:
    """The settings of the parser, validated and normalised by corn.options (from a Config); the
    parser reads them and takes nothing else from the settings."""

    def __init__(self, *, Py_ssize_t limit_request_line, Py_ssize_t limit_request_fields,
                 Py_ssize_t limit_request_field_size, bint permit_unconventional_http_method,
                 bint permit_unconventional_http_version, bint casefold_http_method,
                 bint strip_header_spaces, bint permit_obsolete_folding, int header_map,
                 frozenset forwarder_headers, dict secure_scheme_headers not None):
        cdef Py_ssize_t i
        if not 0 <= limit_request_line <= MAX_REQUEST_LINE:
            raise ValueError(f"limit_request_line {limit_request_line} outside 0 to {MAX_REQUEST_LINE}")
        if not 0 < limit_request_fields <= MAX_HEADERS or limit_request_field_size <= 0:
            raise ValueError("limit_request_fields and limit_request_field_size must be positive")
        self.limit_request_line = limit_request_line
        self.limit_request_fields = limit_request_fields
        self.limit_request_field_size = limit_request_field_size
        self.max_head = limit_request_fields * (limit_request_field_size + 2) + 4
        self.permit_unconventional_http_method = permit_unconventional_http_method
        self.permit_unconventional_http_version = permit_unconventional_http_version
        self.casefold_http_method = casefold_http_method
        self.strip_header_spaces = strip_header_spaces
        self.permit_obsolete_folding = permit_obsolete_folding
        self.header_map = header_map
        self.forwarder_headers = forwarder_headers
        self.secure_scheme_headers = secure_scheme_headers
        self.scheme_any = bool(secure_scheme_headers)
        self.scheme_known = 0
        for i in range(len(KNOWN_NAMES)):
            if KNOWN_NAMES[i] in secure_scheme_headers:
                self.scheme_known |= (<unsigned long long>1) << i


cdef class RequestParser:
    """Parses request heads: the settings are fixed at construction, the caller sets the
    per-connection fields, and reset() comes before each head of the connection."""

    def __init__(self, ParserOptions options not None):
        self.options = options
        self.peer_trusted = False
        self._field_cache = [None] * KNOWN_MAX
        self.reset()

    cpdef reset(self):
        """Forget the previous request; keep the settings and the per-connection fields."""
        self._state = ST_LEADING
        self._pos = 0
        self._line_start = 0
        self._skipped = 0
        self._head_start = 0
        self._pend_name = None
        self._pend_value = None
        self._pend_field = None
        self._pend_id = -1
        self._pend_underscore = False
        self._pend_size = 0
        self._folding = False
        self._kept = 0
        self._seen = 0
        self._cl_value = None
        self._framing_error = None
        self._chunked = False
        self._must_close = False
        self._connection = 0
        self.method = None
        self.uri = None
        self.path = None
        self.query = None
        self.fragment = None
        self.version_major = 0
        self.version_minor = 0
        self.headers = _field_list()
        self.body_kind = BODY_NONE
        self.content_length = 0
        self.should_close = False
        self.expect_continue = False
        self.url_scheme = None

    cpdef Py_ssize_t parse_head(self, object buf, Py_ssize_t start, Py_ssize_t end) except -2:
        """Scan buf[start:end], the request received so far. Returns the offset just past the
        head's final CRLF once the head is complete, else -1 (call again with more bytes)."""
        cdef Py_ssize_t size, r
        cdef const unsigned char* base = buffer_of(buf, &size)
        check_range(start, end, size)
        if end - start < self._pos:
            raise ValueError("the request holds fewer bytes than already scanned")
        r = self._scan(base + start, end - start)
        if r < 0:
            return -1
        return start + r

    cdef Py_ssize_t _scan(self, const unsigned char* p, Py_ssize_t n) except -2:
        cdef Py_ssize_t pos, ls, k, floor, limit
        cdef const unsigned char* q
        cdef unsigned char c
        if self._state == ST_DONE:
            return self._pos
        if self._state == ST_LEADING:
            # RFC 9112 2.2: one empty line (CRLF) before the request line is ignored
            pos = self._pos
            if pos >= n or (p[pos] == 13 and pos + 1 >= n):
                return -1
            if p[pos] == 13 and p[pos + 1] == 10:
                self._skipped = 2
                pos += 2
            self._pos = self._line_start = pos
            self._state = ST_REQUEST_LINE
        if self._state == ST_REQUEST_LINE:
            ls = self._line_start
            limit = self.options.limit_request_line
            q = <const unsigned char*>memchr(p + self._pos, 10, n - self._pos)
            if q == NULL:
                if limit > 0 and n > ls:
                    floor = line_floor(p + n - 1, n - ls)
                    if floor > limit:
                        raise LimitRequestLine(floor, limit)
                self._pos = n
                return -1
            k = q - (p + ls)
            if limit > 0 and k > 0 and line_floor(p + ls + k - 1, k) > limit:
                raise LimitRequestLine(line_floor(p + ls + k - 1, k), limit)
            if k == 0 or p[ls + k - 1] != 13:
                raise InvalidRequestLine("bare LF as line terminator")
            self._parse_request_line(p + ls, k - 1)
            self._pos = self._line_start = self._head_start = ls + k + 1
            self._state = ST_FIELDS
        # ST_FIELDS: one turn per line
        while True:
            ls = self._line_start
            if self._pos == ls:
                if ls >= n:
                    return -1
                c = p[ls]
                if (c == 32 or c == 9) and self._pend_name is not None:
                    # RFC 9112 5.2: obs-fold
                    if not self.options.permit_obsolete_folding:
                        raise ObsoleteFolding(self._pend_name)
                    self._folding = True
                else:
                    if self._pend_name is not None:
                        self._commit_field()
                    self._folding = False
            q = <const unsigned char*>memchr(p + self._pos, 10, n - self._pos)
            if q == NULL:
                floor = line_floor(p + n - 1, n - ls)
                if floor > 0:
                    if self._folding:
                        floor += self._pend_size
                    if floor + 2 > self.options.limit_request_field_size:
                        raise LimitRequestHeaders("limit request headers fields size")
                if line_floor(p + n - 1, n - self._head_start) > self.options.max_head:
                    raise LimitRequestHeaders("max buffer headers")
                self._pos = n
                return -1
            k = q - (p + ls)
            floor = line_floor(p + ls + k - 1, k) if k > 0 else 0
            if floor > 0:
                if (floor + 2 + (self._pend_size if self._folding else 0)
                        > self.options.limit_request_field_size):
                    raise LimitRequestHeaders("limit request headers fields size")
            if line_floor(p + ls + k - 1, ls + k - self._head_start) > self.options.max_head:
                raise LimitRequestHeaders("max buffer headers")
            if k == 0 or p[ls + k - 1] != 13:
                raise InvalidHeader("bare LF as line terminator")
            if k == 1:
                self._pos = ls + 2
                self._finish_head()
                self._state = ST_DONE
                return self._pos
            if self._folding:
                self._continue_field(p + ls, k - 1)
            else:
                if self._kept >= self.options.limit_request_fields:
                    raise LimitRequestHeaders("limit request headers fields")
                c = p[ls + k + 1] if ls + k + 1 < n else 32
                self._start_field(p + ls, k - 1, c != 32 and c != 9)
            self._pos = self._line_start = ls + k + 1

    # --- the request line (RFC 9112 3) ---------------------------------------------------------

    cdef int _parse_request_line(self, const unsigned char* p, Py_ssize_t n) except -1:
        cdef const unsigned char* sp1 = <const unsigned char*>memchr(p, 32, n)
        cdef const unsigned char* sp2
        cdef const unsigned char* v
        cdef Py_ssize_t mlen, tlen, vlen
        cdef int major, minor
        if sp1 == NULL:
            raise InvalidRequestLine(latin1(p, n))
        sp2 = <const unsigned char*>memchr(sp1 + 1, 32, p + n - (sp1 + 1))
        if sp2 == NULL:
            raise InvalidRequestLine(latin1(p, n))
        mlen = sp1 - p
        self._check_method(p, mlen)
        tlen = sp2 - (sp1 + 1)
        if tlen == 0:
            raise InvalidRequestLine(latin1(p, n))
        self._split_target(sp1 + 1, tlen)
        v = sp2 + 1
        vlen = p + n - v
        if (vlen != 8 or memcmp(v, b"HTTP/", 5) != 0 or not (48 <= v[5] <= 57) or v[6] != 46
                or not (48 <= v[7] <= 57)):
            raise InvalidHTTPVersion(latin1(v, vlen))
        major = v[5] - 48
        minor = v[7] - 48
        if major == 1 and minor > 1:
            # RFC 9110 2.5, 6.2: a later HTTP/1 minor version is served as HTTP/1.1, the highest
            # this server speaks; version_minor says 1 from here on (status line, SERVER_PROTOCOL)
            minor = 1
        elif major != 1 and not self.options.permit_unconventional_http_version:
            raise InvalidHTTPVersion((major, minor))
        self.version_major = major
        self.version_minor = minor
        return 0

    cdef int _check_method(self, const unsigned char* p, Py_ssize_t n) except -1:
        """RFC 9110 9: a token; unless permitted, also upper-case, no '#', 3 to 20 bytes."""
        cdef Py_ssize_t i
        cdef unsigned char acc = C_TOKEN
        cdef unsigned char unconventional = 0
        cdef str method
        for i in range(n):
            acc &= char_class[p[i]]
            unconventional |= char_class[p[i]]
        if not self.options.permit_unconventional_http_method:
            if (unconventional & C_UNCONVENTIONAL) or n < 3 or n > 20:
                raise InvalidRequestMethod(latin1(p, n))
        if n == 0 or not (acc & C_TOKEN):
            raise InvalidRequestMethod(latin1(p, n))
        method = _known_method(p, n)
        if method is None:
            method = ascii(p, n)
        if self.options.casefold_http_method:
            method = method.upper()
        self.method = method
        return 0

    cdef int _split_target(self, const unsigned char* p, Py_ssize_t n) except -1:
        """RFC 9112 3.2: printable ASCII; origin-form split here, the other forms by urlsplit."""
        cdef Py_ssize_t question = -1, hash_at = -1
        cdef const unsigned char* q
        if target_scan(p, n) != n:
            raise InvalidRequestLine(latin1(p, n))
        q = <const unsigned char*>memchr(p, 35, n)
        if q != NULL:
            hash_at = q - p
        q = <const unsigned char*>memchr(p, 63, hash_at if hash_at >= 0 else n)
        if q != NULL:
            question = q - p
        cdef str uri = ascii(p, n)
        self.uri = uri
        if p[0] == 47:
            # origin-form, and "//x" stays a path (as gunicorn's split_request_uri keeps it)
            if question < 0 and hash_at < 0:
                self.path = uri
                self.query = EMPTY
                self.fragment = EMPTY
                return 0
            if hash_at >= 0:
                self.fragment = ascii(p + hash_at + 1, n - hash_at - 1)
            else:
                self.fragment = EMPTY
                hash_at = n
            if question >= 0:
                self.path = ascii(p, question)
                self.query = ascii(p + question + 1, hash_at - question - 1)
            else:
                self.path = ascii(p, hash_at)
                self.query = EMPTY
            return 0
        method = self.method
        if n == 1 and p[0] == 42:
            # RFC 9112 3.2.4: asterisk-form only with OPTIONS
            if method != "OPTIONS":
                raise InvalidRequestLine(uri)
        elif method != "CONNECT" and "://" not in uri:
            # RFC 9112 3.2.3: authority-form only with CONNECT; else absolute-form
            raise InvalidRequestLine(uri)
        try:
            parts = url_urlsplit(uri)
        except ValueError:
            raise InvalidRequestLine(uri) from None
        self.path = parts.path or EMPTY
        self.query = parts.query or EMPTY
        self.fragment = parts.fragment or EMPTY
        return 0

    # --- field lines (RFC 9112 5, RFC 9110 5) --------------------------------------------------

    cdef int _start_field(self, const unsigned char* p, Py_ssize_t n, bint final) except -1:
        """A field line. `final`: the next line is seen not to fold it, so it is kept at once;
        else it waits as the pending field."""
        cdef Py_ssize_t name_len, vs, ve
        cdef bint under
        cdef int ident
        cdef tuple last
        cdef str name, value, last_value
        cdef object field = None
        split_field(p, n, self.options.strip_header_spaces, &name_len, &vs, &ve, &under)
        name = field_name(p, name_len, &ident)
        value = None
        if ident >= 0:
            # a keep-alive client repeats most fields: reuse the tuple when the value is the same
            last = <tuple>PyList_GET_ITEM(self._field_cache, ident)
            if last is not None:
                last_value = <str>last[1]
                # a value equal to one already checked needs no check
                if (len(last_value) == ve - vs and same_bytes(
                        <const unsigned char*>PyUnicode_1BYTE_DATA(last_value), p + vs, ve - vs)):
                    value = last_value
                    field = last
        if value is None:
            value = field_value(p + vs, ve - vs, name)
        if final:
            return self._keep_field(name, value, ident, under, field)
        self._pend_name = name
        self._pend_value = value
        self._pend_id = ident
        self._pend_underscore = under
        self._pend_size = n + 2
        self._pend_field = field
        return 0

    cdef int _continue_field(self, const unsigned char* p, Py_ssize_t n) except -1:
        self._pend_field = None
        self._pend_value = self._pend_value + " " + fold_part(p, n, self._pend_name)
        self._pend_size += n + 2
        return 0

    cdef int _commit_field(self) except -1:
        """The pending field is complete: keep it."""
        name = self._pend_name
        self._pend_name = None
        return self._keep_field(name, self._pend_value, self._pend_id, self._pend_underscore,
                                self._pend_field)

    cdef int _keep_field(self, str name, str value, int ident, bint underscore,
                         object field) except -1:
        """Apply the header policy to a complete field and keep it (or drop it). `field` is the
        cached tuple that holds exactly (name, value), or None."""
        cdef bint scheme_field
        if ident >= 0:
            # RFC 9110 5.3: singleton fields
            if ident == H_HOST:
                if self._seen & SEEN_HOST:
                    raise InvalidHeader(name)
                self._seen |= SEEN_HOST
            elif ident == H_CONTENT_TYPE:
                if self._seen & SEEN_CONTENT_TYPE:
                    raise InvalidHeader(name)
                self._seen |= SEEN_CONTENT_TYPE
            elif ident == H_EXPECT:
                # RFC 9110 10.1.1: 100-continue is the only expectation; ignored on HTTP/1.0
                if not lower_is(value, b"100-continue", 12):
                    raise ExpectationFailed(value)
                if self.version_major > 1 or (self.version_major == 1 and self.version_minor >= 1):
                    self.expect_continue = True
        if self.options.scheme_any and self.peer_trusted:
            if ident >= 0:
                scheme_field = (self.options.scheme_known >> ident) & 1
            else:
                scheme_field = name in self.options.secure_scheme_headers
            if scheme_field:
                scheme = SCHEME_HTTPS if value == self.options.secure_scheme_headers[name] else SCHEME_HTTP
                if self._seen & SEEN_SCHEME:
                    if scheme is not self.url_scheme:
                        raise InvalidSchemeHeaders()
                else:
                    self._seen |= SEEN_SCHEME
                    self.url_scheme = scheme
        if underscore:
            # X_Foo and X-Foo would share one environ key: only a trusted forwarder may send it
            if self.peer_trusted and (self.options.forwarder_headers is None
                                      or name in self.options.forwarder_headers):
                pass
            elif self.options.header_map == HEADER_MAP_DANGEROUS:
                pass
            elif self.options.header_map == HEADER_MAP_DROP:
                return 0
            else:
                raise InvalidHeaderName(name)
        if field is None:
            field = (name, value)
            if ident >= 0:
                self._field_cache[ident] = field
        self.headers.append(field)
        self._kept += 1
        if ident == H_CONTENT_LENGTH or ident == H_TRANSFER_ENCODING:
            self._note_framing(ident, value)
        elif ident == H_CONNECTION:
            self._connection |= connection_options(value)
        return 0

    cdef int _note_framing(self, int name_id, str value) except -1:
        """Record Content-Length and Transfer-Encoding in arrival order (RFC 9112 6.1, 6.3); the
        first fault is kept and raised once the head is complete."""
        if self._framing_error is not None:
            return 0
        if name_id == H_CONTENT_LENGTH:
            if self._seen & SEEN_CONTENT_LENGTH:
                self._framing_error = InvalidHeader("CONTENT-LENGTH")
                return 0
            self._seen |= SEEN_CONTENT_LENGTH
            self._cl_value = value
            return 0
        self._seen |= SEEN_TRANSFER_ENCODING
        for element in value.split(","):
            coding = element.strip(" \t").lower()
            if coding == "chunked":
                if self._chunked:
                    self._framing_error = InvalidHeader("TRANSFER-ENCODING")
                    return 0
                self._chunked = True
            elif coding == "identity":
                if self._chunked:
                    self._framing_error = InvalidHeader("TRANSFER-ENCODING")
                    return 0
            elif coding == "gzip" or coding == "deflate" or coding == "compress":
                if self._chunked:
                    self._framing_error = InvalidHeader("TRANSFER-ENCODING")
                    return 0
                self._must_close = True
            else:
                self._framing_error = UnsupportedTransferCoding(value)
                return 0
        return 0

    cdef int _finish_head(self) except -1:
        cdef str cl
        cdef Py_ssize_t i, digits = 0
        cdef long long length = 0
        cdef Py_UCS4 ch
        cdef int d
        if self._framing_error is not None:
            raise self._framing_error
        if (self._seen & SEEN_TRANSFER_ENCODING) and not self._chunked:
            # RFC 9112 6.3: a request whose last coding is not chunked has no length
            raise InvalidHeader("TRANSFER-ENCODING")
        if self._chunked:
            if self.version_major < 1 or (self.version_major == 1 and self.version_minor == 0):
                raise InvalidHeader("TRANSFER-ENCODING")
            if self._seen & SEEN_CONTENT_LENGTH:
                raise InvalidHeader("CONTENT-LENGTH")
            self.body_kind = BODY_CHUNKED
        elif self._seen & SEEN_CONTENT_LENGTH:
            cl = self._cl_value
            if len(cl) == 0:
                raise InvalidHeader("CONTENT-LENGTH")
            for ch in cl:
                d = <int>ch - 48
                if d < 0 or d > 9:
                    raise InvalidHeader("CONTENT-LENGTH")
                if digits or d:
                    digits += 1
                    if digits > MAX_CONTENT_LENGTH_DIGITS:
                        raise InvalidHeader("CONTENT-LENGTH")
                    length = length * 10 + d
            self.content_length = length
            self.body_kind = BODY_LENGTH
        # RFC 9112 9.3: close when any Connection field names "close"; else HTTP/1.1 persists
        # and HTTP/1.0 persists only when one names "keep-alive"
        if self._must_close or self.method == "CONNECT" or (self._connection & CONN_CLOSE):
            self.should_close = True
        elif self.version_major < 1 or (self.version_major == 1 and self.version_minor == 0):
            self.should_close = not (self._connection & CONN_KEEP_ALIVE)
        else:
            self.should_close = False
        return 0
