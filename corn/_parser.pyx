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

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_Check, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_New
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeLatin1, PyUnicode_New
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcmp, memcpy

import sys
from urllib.parse import urlsplit as url_urlsplit

from corn.http_errors import (
    ChunkMissingTerminator,
    ExpectationFailed,
    InvalidChunkExtension,
    InvalidChunkSize,
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidSchemeHeaders,
    LimitRequestHeaders,
    LimitRequestLine,
    NoMoreData,
    ObsoleteFolding,
    UnsupportedTransferCoding,
)

cdef extern from "Python.h":
    void Py_SET_SIZE(object o, Py_ssize_t size)



# --- limits (gunicorn's) -------------------------------------------------------------------------

cdef enum:
    MAX_CHUNK_DIGITS = 15         # 16**15 - 1 bytes: far beyond any body, far below 2**63
    MAX_CONTENT_LENGTH_DIGITS = 18
    FIELD_ROOM = 16               # fields a new `headers` list holds before it must grow

# --- character classes ---------------------------------------------------------------------------

cdef enum:
    C_TOKEN = 1        # RFC 9110 5.6.2 tchar
    C_FIELD = 2        # allowed in a field value: HTAB, SP, VCHAR, obs-text (RFC 9110 5.5)
    C_TARGET = 4       # allowed in a request-target: printable ASCII 0x21-0x7E (RFC 9112 3.2)
    C_UNCONVENTIONAL = 8   # refused in a method unless permit_unconventional_http_method: a-z, '#'
    C_QDTEXT = 16      # quoted-string text: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text
    C_QPAIR = 32       # may follow a backslash in a quoted-string: HTAB, SP, VCHAR, obs-text
    C_UNDERSCORE = 64  # '_': a field name holding it is subject to header_map

cdef unsigned char char_class[256]
cdef unsigned char char_lower[256]
cdef unsigned char char_upper[256]
cdef signed char hex_value[256]


cdef void _init_tables() noexcept:
    cdef int c
    cdef bytes specials = b"!#$%&'*+-.^_`|~"
    for c in range(256):
        char_class[c] = 0
        char_lower[c] = c
        char_upper[c] = c
        hex_value[c] = -1
        if (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c in specials:
            char_class[c] |= C_TOKEN
        if c == 9 or (32 <= c <= 126) or c >= 128:
            char_class[c] |= C_FIELD | C_QPAIR
        if 33 <= c <= 126:
            char_class[c] |= C_TARGET
        if (97 <= c <= 122) or c == 35:
            char_class[c] |= C_UNCONVENTIONAL
        if c == 9 or c == 32 or c == 33 or (35 <= c <= 91) or (93 <= c <= 126) or c >= 128:
            char_class[c] |= C_QDTEXT
        if c == 95:
            char_class[c] |= C_UNDERSCORE
        if 65 <= c <= 90:
            char_lower[c] = c + 32
        if 97 <= c <= 122:
            char_upper[c] = c - 32
        if 48 <= c <= 57:
            hex_value[c] = c - 48
        elif 97 <= c <= 102:
            hex_value[c] = c - 87
        elif 65 <= c <= 70:
            hex_value[c] = c - 55


_init_tables()


# --- field names known in advance: one interned str each, found by a hash of the lower-case name ----

cdef enum KnownName:
    # forbidden in trailers (RFC 9110 6.5.1): ids 0 to 5
    H_HOST = 0
    H_CONTENT_LENGTH = 1
    H_TRANSFER_ENCODING = 2
    H_TRAILER = 3
    H_AUTHORIZATION = 4
    H_TE = 5
    H_CONTENT_TYPE = 6
    H_EXPECT = 7
    H_CONNECTION = 8
    KNOWN_MAX = 64
    KNOWN_SLOTS = 256

cdef tuple KNOWN_NAMES = (
    "HOST", "CONTENT-LENGTH", "TRANSFER-ENCODING", "TRAILER", "AUTHORIZATION", "TE",
    "CONTENT-TYPE", "EXPECT", "CONNECTION",
    "ACCEPT", "ACCEPT-CHARSET", "ACCEPT-ENCODING", "ACCEPT-LANGUAGE", "CACHE-CONTROL",
    "CONTENT-ENCODING", "COOKIE", "DATE", "DNT", "FORWARDED", "IF-MATCH", "IF-MODIFIED-SINCE",
    "IF-NONE-MATCH", "IF-RANGE", "IF-UNMODIFIED-SINCE", "KEEP-ALIVE", "MAX-FORWARDS", "ORIGIN",
    "PRAGMA", "PRIORITY", "PROXY-AUTHORIZATION", "RANGE", "REFERER", "SEC-CH-UA",
    "SEC-CH-UA-MOBILE", "SEC-CH-UA-PLATFORM", "SEC-FETCH-DEST", "SEC-FETCH-MODE",
    "SEC-FETCH-SITE", "SEC-FETCH-USER", "SEC-WEBSOCKET-EXTENSIONS", "SEC-WEBSOCKET-KEY",
    "SEC-WEBSOCKET-PROTOCOL", "SEC-WEBSOCKET-VERSION", "TRACEPARENT", "UPGRADE",
    "UPGRADE-INSECURE-REQUESTS", "USER-AGENT", "VIA", "X-CSRFTOKEN", "X-FORWARDED-FOR",
    "X-FORWARDED-HOST", "X-FORWARDED-PORT", "X-FORWARDED-PROTO", "X-FORWARDED-PROTOCOL",
    "X-FORWARDED-SSL", "X-REAL-IP", "X-REQUEST-ID", "X-REQUESTED-WITH",
)

cdef list known_str = []          # id -> interned upper-case str
cdef list known_lower = []        # id -> lower-case bytes (keeps known_ptr alive)
cdef const unsigned char* known_ptr[KNOWN_MAX]
cdef Py_ssize_t known_len[KNOWN_MAX]
cdef short known_slot[KNOWN_SLOTS]  # hash slot -> id + 1, 0 when empty


cdef inline unsigned int _name_slot(const unsigned char* p, Py_ssize_t n) noexcept:
    """The first hash slot of a field name (n > 0): from its length and its first, middle and last
    bytes, any case, so scanning the name costs nothing more."""
    return (<unsigned int>n * 37 + char_lower[p[0]] * 11 + char_lower[p[n >> 1]] * 5
            + char_lower[p[n - 1]]) & (KNOWN_SLOTS - 1)


cdef void _init_known() except *:
    cdef Py_ssize_t i, j
    cdef unsigned int slot
    cdef bytes low
    if len(KNOWN_NAMES) > KNOWN_MAX:
        raise RuntimeError("too many known field names")
    for j in range(KNOWN_SLOTS):
        known_slot[j] = 0
    for i, name in enumerate(KNOWN_NAMES):
        known_str.append(sys.intern(name))
        low = name.lower().encode("ascii")
        known_lower.append(low)
        known_ptr[i] = <const unsigned char*>PyBytes_AS_STRING(low)
        known_len[i] = len(low)
        slot = _name_slot(known_ptr[i], known_len[i])
        while known_slot[slot]:
            slot = (slot + 1) & (KNOWN_SLOTS - 1)
        known_slot[slot] = <short>(i + 1)


_init_known()


cdef inline bint _same_name(const unsigned char* p, const unsigned char* k, Py_ssize_t n) noexcept:
    """p[:n], a token, equals the known lower-case name k[:n] in any case. Setting bit 0x20 lowers
    ASCII letters and leaves digits and '-' alone; the only other token bytes it changes ('^',
    '_') become bytes no known name holds. Eight bytes at a time, the last eight overlapping."""
    cdef uint64_t a, b
    cdef Py_ssize_t i = 0
    if n < 8:
        while i < n:
            if (p[i] | 0x20) != k[i]:
                return False
            i += 1
        return True
    while i + 8 < n:
        memcpy(&a, p + i, 8)
        memcpy(&b, k + i, 8)
        if (a | 0x2020202020202020ULL) != b:
            return False
        i += 8
    memcpy(&a, p + n - 8, 8)
    memcpy(&b, k + n - 8, 8)
    return (a | 0x2020202020202020ULL) == b


cdef inline int _known_id(const unsigned char* p, Py_ssize_t n) noexcept:
    """The id of the field name p[:n] (any case) in KNOWN_NAMES, or -1."""
    cdef unsigned int slot = _name_slot(p, n)
    cdef int ident
    while known_slot[slot]:
        ident = known_slot[slot] - 1
        if known_len[ident] == n and _same_name(p, known_ptr[ident], n):
            return ident
        slot = (slot + 1) & (KNOWN_SLOTS - 1)
    return -1


# --- methods known in advance -------------------------------------------------------------------

cdef str M_GET = sys.intern("GET")
cdef str M_POST = sys.intern("POST")
cdef str M_HEAD = sys.intern("HEAD")
cdef str M_PUT = sys.intern("PUT")
cdef str M_DELETE = sys.intern("DELETE")
cdef str M_OPTIONS = sys.intern("OPTIONS")
cdef str M_PATCH = sys.intern("PATCH")
cdef str M_CONNECT = sys.intern("CONNECT")
cdef str M_TRACE = sys.intern("TRACE")
cdef str EMPTY = ""
cdef str SCHEME_HTTPS = sys.intern("https")
cdef str SCHEME_HTTP = sys.intern("http")



cdef inline str _known_method(const unsigned char* p, Py_ssize_t n):
    if n == 3:
        if memcmp(p, b"GET", 3) == 0:
            return M_GET
        if memcmp(p, b"PUT", 3) == 0:
            return M_PUT
    elif n == 4:
        if memcmp(p, b"POST", 4) == 0:
            return M_POST
        if memcmp(p, b"HEAD", 4) == 0:
            return M_HEAD
    elif n == 5:
        if memcmp(p, b"PATCH", 5) == 0:
            return M_PATCH
        if memcmp(p, b"TRACE", 5) == 0:
            return M_TRACE
    elif n == 6:
        if memcmp(p, b"DELETE", 6) == 0:
            return M_DELETE
    elif n == 7:
        if memcmp(p, b"OPTIONS", 7) == 0:
            return M_OPTIONS
        if memcmp(p, b"CONNECT", 7) == 0:
            return M_CONNECT
    return None


# --- small helpers ------------------------------------------------------------------------------

cdef inline const unsigned char* _buffer_of(object buf, Py_ssize_t* size) except NULL:
    if PyBytes_CheckExact(buf):
        size[0] = PyBytes_GET_SIZE(buf)
        return <const unsigned char*>PyBytes_AS_STRING(buf)
    if PyByteArray_Check(buf):
        size[0] = PyByteArray_GET_SIZE(buf)
        return <const unsigned char*>PyByteArray_AS_STRING(buf)
    raise TypeError(f"expected bytes or bytearray, got {type(buf).__name__}")


cdef inline str _latin1(const unsigned char* p, Py_ssize_t n):
    return PyUnicode_DecodeLatin1(<char*>p, n, NULL)


cdef inline str _ascii(const unsigned char* p, Py_ssize_t n):
    """A str of bytes already checked to be ASCII."""
    cdef str s = PyUnicode_New(n, 127)
    memcpy(PyUnicode_1BYTE_DATA(s), p, n)
    return s


cdef inline str _ascii_upper(const unsigned char* p, Py_ssize_t n):
    cdef str s = PyUnicode_New(n, 127)
    cdef unsigned char* d = <unsigned char*>PyUnicode_1BYTE_DATA(s)
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = char_upper[p[i]]
    return s


cdef inline list _field_list():
    """An empty list with room for FIELD_ROOM items: a head's fields are appended without the
    list growing three times on the way (CPython keeps the room: 0 <= size <= allocated)."""
    cdef list fields = PyList_New(FIELD_ROOM)
    Py_SET_SIZE(fields, 0)
    return fields


cdef inline bint _is_ws(unsigned char c) noexcept:
    return c == 32 or c == 9


cdef inline Py_ssize_t _line_floor(const unsigned char* last, Py_ssize_t m) noexcept:
    """The least length a line can have once m of its bytes (the last one at `last`) are seen and
    no LF yet: a final CR may be the start of the CRLF."""
    if m > 0 and last[0] == 13:
        return m - 1
    return m


# --- field lines, shared by the head and the trailer section -------------------------------------

cdef inline Py_ssize_t _value_scan(const unsigned char* p, Py_ssize_t n, bint* ascii) noexcept:
    """The index of the first byte not allowed in a field value (RFC 9110 5.5: CTLs but HTAB, and
    DEL), or n. Eight bytes at a time while they hold no byte below 0x20 and no DEL; `ascii` tells
    whether every byte before the returned index is below 0x80."""
    cdef Py_ssize_t i = 0
    cdef uint64_t w, high = 0
    cdef unsigned char c
    while i + 8 <= n:
        memcpy(&w, p + i, 8)
        if (((w - 0x2020202020202020ULL) | ((w ^ 0x7F7F7F7F7F7F7F7FULL) - 0x0101010101010101ULL))
                & ~w & 0x8080808080808080ULL):
            break
        high |= w
        i += 8
    while i < n:
        c = p[i]
        if not (char_class[c] & C_FIELD):
            break
        high |= c
        i += 1
    ascii[0] = (high & 0x8080808080808080ULL) == 0
    return i


cdef inline Py_ssize_t _target_scan(const unsigned char* p, Py_ssize_t n) noexcept:
    """The index of the first byte outside 0x21-0x7E (RFC 9112 3.2), or n. Eight bytes at a time
    while none is 0x80 or above, below 0x21, or DEL."""
    cdef Py_ssize_t i = 0
    cdef uint64_t w, d
    while i + 8 <= n:
        memcpy(&w, p + i, 8)
        d = w ^ 0x7F7F7F7F7F7F7F7FULL
        if (w | ((w - 0x2121212121212121ULL) & ~w) | ((d - 0x0101010101010101ULL) & ~d)) \
                & 0x8080808080808080ULL:
            break
        i += 8
    while i < n and (char_class[p[i]] & C_TARGET):
        i += 1
    return i


cdef inline str _value_str(const unsigned char* p, Py_ssize_t n, bint ascii):
    if ascii:
        return _ascii(p, n)
    return _latin1(p, n)


cdef inline bint _lower_equals(const unsigned char* p, Py_ssize_t n, const char* lower,
                               Py_ssize_t m) noexcept:
    """p[:n], compared case-insensitively in ASCII, equals lower[:m] (already lower-case)."""
    cdef Py_ssize_t i
    if n != m:
        return False
    for i in range(n):
        if char_lower[p[i]] != <unsigned char>lower[i]:
            return False
    return True


cdef bint _lower_is(str value, const char* lower, Py_ssize_t n) noexcept:
    """value, compared case-insensitively in ASCII, equals lower[:n] (already lower-case)."""
    return _lower_equals(<const unsigned char*>PyUnicode_1BYTE_DATA(value), len(value), lower, n)


cdef enum ConnectionOption:
    CONN_CLOSE = 1
    CONN_KEEP_ALIVE = 2


cdef unsigned int _connection_options(str value) noexcept:
    """CONN_CLOSE | CONN_KEEP_ALIVE for the options a Connection field value names (RFC 9110
    7.6.1: #connection-option, case-insensitive tokens; empty elements and OWS around the commas
    are allowed). Scanned in place: field values are one byte per character."""
    cdef const unsigned char* p = <const unsigned char*>PyUnicode_1BYTE_DATA(value)
    cdef Py_ssize_t n = len(value), i = 0, s, e
    cdef unsigned int found = 0
    while i < n:
        s = i
        while i < n and p[i] != 44:
            i += 1
        e = i
        i += 1
        while s < e and _is_ws(p[s]):
            s += 1
        while e > s and _is_ws(p[e - 1]):
            e -= 1
        if _lower_equals(p + s, e - s, b"close", 5):
            found |= CONN_CLOSE
        elif _lower_equals(p + s, e - s, b"keep-alive", 10):
            found |= CONN_KEEP_ALIVE
    return found


cdef int _split_field(const unsigned char* p, Py_ssize_t n, bint strip_spaces,
                      Py_ssize_t* name_len, Py_ssize_t* value_start, Py_ssize_t* value_end,
                      bint* underscore) except -1:
    """Split one complete field line (CRLF excluded) into name and stripped value, checking the
    name token (RFC 9110 5.1); the caller checks the value with _field_value."""
    cdef Py_ssize_t i = 0, colon, j
    cdef unsigned char cls, seen = 0
    while i < n:
        cls = char_class[p[i]]
        if not (cls & C_TOKEN):
            break
        seen |= cls
        i += 1
    if i < n and p[i] == 58 and i > 0:
        colon = i
    else:
        # not `token:`: tell a missing colon from a bad name, as gunicorn does
        colon = -1
        if i < n:
            j = i
            while j < n and p[j] != 58:
                j += 1
            if j < n:
                colon = j
        if colon <= 0:
            raise InvalidHeader(_latin1(p, n))
        if strip_spaces:
            j = i
            while j < colon and _is_ws(p[j]):
                j += 1
            if j < colon or i == 0:
                raise InvalidHeaderName(_latin1(p, colon))
        else:
            raise InvalidHeaderName(_latin1(p, colon))
    name_len[0] = i
    underscore[0] = (seen & C_UNDERSCORE) != 0
    i = colon + 1
    j = n
    while i < j and _is_ws(p[i]):
        i += 1
    while j > i and _is_ws(p[j - 1]):
        j -= 1
    value_start[0] = i
    value_end[0] = j
    return 0


cdef str _field_value(const unsigned char* p, Py_ssize_t n, str name):
    """The value p[:n] as a str, once its characters are checked (RFC 9110 5.5)."""
    cdef bint ascii
    if _value_scan(p, n, &ascii) != n:
        raise InvalidHeader(name)
    return _value_str(p, n, ascii)


cdef inline bint _same_bytes(const unsigned char* a, const unsigned char* b, Py_ssize_t n) noexcept:
    """memcmp(a, b, n) == 0 for the short runs of a field value, without a call."""
    cdef uint64_t x, y
    cdef Py_ssize_t i = 0
    while i + 8 <= n:
        memcpy(&x, a + i, 8)
        memcpy(&y, b + i, 8)
        if x != y:
            return False
        i += 8
    while i < n:
        if a[i] != b[i]:
            return False
        i += 1
    return True


cdef inline str _field_name(const unsigned char* p, Py_ssize_t n, int* ident):
    cdef int k = _known_id(p, n)
    ident[0] = k
    if k >= 0:
        return <str>known_str[k]
    return _ascii_upper(p, n)


cdef str _fold_part(const unsigned char* p, Py_ssize_t n, str name):
    """The stripped text of an obs-fold continuation line (RFC 9112 5.2)."""
    cdef Py_ssize_t i = 0, j = n
    while i < j and _is_ws(p[i]):
        i += 1
    while j > i and _is_ws(p[j - 1]):
        j -= 1
    cdef bint ascii
    if _value_scan(p + i, j - i, &ascii) != j - i:
        raise InvalidHeader(name)
    return _value_str(p + i, j - i, ascii)


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
        cdef const unsigned char* base = _buffer_of(buf, &size)
        if start < 0 or end < start or end > size:
            raise ValueError(f"bad range [{start}:{end}] of a buffer of {size} bytes")
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
                    floor = _line_floor(p + n - 1, n - ls)
                    if floor > limit:
                        raise LimitRequestLine(floor, limit)
                self._pos = n
                return -1
            k = q - (p + ls)
            if limit > 0 and k > 0 and _line_floor(p + ls + k - 1, k) > limit:
                raise LimitRequestLine(_line_floor(p + ls + k - 1, k), limit)
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
                floor = _line_floor(p + n - 1, n - ls)
                if floor > 0:
                    if self._folding:
                        floor += self._pend_size
                    if floor + 2 > self.options.limit_request_field_size:
                        raise LimitRequestHeaders("limit request headers fields size")
                if _line_floor(p + n - 1, n - self._head_start) > self.options.max_head:
                    raise LimitRequestHeaders("max buffer headers")
                self._pos = n
                return -1
            k = q - (p + ls)
            floor = _line_floor(p + ls + k - 1, k) if k > 0 else 0
            if floor > 0:
                if (floor + 2 + (self._pend_size if self._folding else 0)
                        > self.options.limit_request_field_size):
                    raise LimitRequestHeaders("limit request headers fields size")
            if _line_floor(p + ls + k - 1, ls + k - self._head_start) > self.options.max_head:
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
            raise InvalidRequestLine(_latin1(p, n))
        sp2 = <const unsigned char*>memchr(sp1 + 1, 32, p + n - (sp1 + 1))
        if sp2 == NULL:
            raise InvalidRequestLine(_latin1(p, n))
        mlen = sp1 - p
        self._check_method(p, mlen)
        tlen = sp2 - (sp1 + 1)
        if tlen == 0:
            raise InvalidRequestLine(_latin1(p, n))
        self._split_target(sp1 + 1, tlen)
        v = sp2 + 1
        vlen = p + n - v
        if (vlen != 8 or memcmp(v, b"HTTP/", 5) != 0 or not (48 <= v[5] <= 57) or v[6] != 46
                or not (48 <= v[7] <= 57)):
            raise InvalidHTTPVersion(_latin1(v, vlen))
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
                raise InvalidRequestMethod(_latin1(p, n))
        if n == 0 or not (acc & C_TOKEN):
            raise InvalidRequestMethod(_latin1(p, n))
        method = _known_method(p, n)
        if method is None:
            method = _ascii(p, n)
        if self.options.casefold_http_method:
            method = method.upper()
        self.method = method
        return 0

    cdef int _split_target(self, const unsigned char* p, Py_ssize_t n) except -1:
        """RFC 9112 3.2: printable ASCII; origin-form split here, the other forms by urlsplit."""
        cdef Py_ssize_t question = -1, hash_at = -1
        cdef const unsigned char* q
        if _target_scan(p, n) != n:
            raise InvalidRequestLine(_latin1(p, n))
        q = <const unsigned char*>memchr(p, 35, n)
        if q != NULL:
            hash_at = q - p
        q = <const unsigned char*>memchr(p, 63, hash_at if hash_at >= 0 else n)
        if q != NULL:
            question = q - p
        cdef str uri = _ascii(p, n)
        self.uri = uri
        if p[0] == 47:
            # origin-form, and "//x" stays a path (as gunicorn's split_request_uri keeps it)
            if question < 0 and hash_at < 0:
                self.path = uri
                self.query = EMPTY
                self.fragment = EMPTY
                return 0
            if hash_at >= 0:
                self.fragment = _ascii(p + hash_at + 1, n - hash_at - 1)
            else:
                self.fragment = EMPTY
                hash_at = n
            if question >= 0:
                self.path = _ascii(p, question)
                self.query = _ascii(p + question + 1, hash_at - question - 1)
            else:
                self.path = _ascii(p, hash_at)
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
        _split_field(p, n, self.options.strip_header_spaces, &name_len, &vs, &ve, &under)
        name = _field_name(p, name_len, &ident)
        value = None
        if ident >= 0:
            # a keep-alive client repeats most fields: reuse the tuple when the value is the same
            last = <tuple>PyList_GET_ITEM(self._field_cache, ident)
            if last is not None:
                last_value = <str>last[1]
                # a value equal to one already checked needs no check
                if (len(last_value) == ve - vs and _same_bytes(
                        <const unsigned char*>PyUnicode_1BYTE_DATA(last_value), p + vs, ve - vs)):
                    value = last_value
                    field = last
        if value is None:
            value = _field_value(p + vs, ve - vs, name)
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
        self._pend_value = self._pend_value + " " + _fold_part(p, n, self._pend_name)
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
                if not _lower_is(value, b"100-continue", 12):
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
            self._connection |= _connection_options(value)
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


# --- chunked bodies (RFC 9112 7.1) ----------------------------------------------------------------

cdef enum ChunkState:
    CH_SIZE = 0        # reading a chunk-size line
    CH_DATA = 1        # `remaining` data bytes to take
    CH_DATA_CR = 2     # the CR after the data
    CH_DATA_LF = 3     # the LF after the data
    CH_TRAILER = 4     # reading the trailer section
    CH_DONE = 5


cdef bint _chunk_ext_ok(const unsigned char* p, Py_ssize_t n) noexcept:
    """RFC 9112 7.1.1: p[:n] (from the first ';') is *( BWS ";" BWS token [ BWS "=" BWS
    ( token / quoted-string ) ] )."""
    cdef Py_ssize_t i = 0, j
    while i < n:
        while i < n and _is_ws(p[i]):
            i += 1
        if i >= n or p[i] != 59:
            return False
        i += 1
        while i < n and _is_ws(p[i]):
            i += 1
        j = i
        while i < n and (char_class[p[i]] & C_TOKEN):
            i += 1
        if i == j:
            return False
        j = i
        while j < n and _is_ws(p[j]):
            j += 1
        if j < n and p[j] == 61:
            i = j + 1
            while i < n and _is_ws(p[i]):
                i += 1
            if i < n and p[i] == 34:
                i += 1
                while True:
                    if i >= n:
                        return False
                    if p[i] == 34:
                        i += 1
                        break
                    if p[i] == 92:
                        if i + 1 >= n or not (char_class[p[i + 1]] & C_QPAIR):
                            return False
                        i += 2
                    elif char_class[p[i]] & C_QDTEXT:
                        i += 1
                    else:
                        return False
            else:
                j = i
                while i < n and (char_class[p[i]] & C_TOKEN):
                    i += 1
                if i == j:
                    return False
    return True


cdef class ChunkedDecoder:
    """Walks the framing of one chunked body over the caller's buffer. advance() returns where it
    stopped: at a chunk's first data byte (remaining > 0), at the end of the message (done), or at
    `end` with the partial framing line kept inside (more bytes needed)."""

    def __init__(self, ParserOptions options not None):
        self.options = options
        self.max_line = options.limit_request_field_size
        self.max_trailers = options.max_head
        self._line = bytearray()
        self.reset()

    cpdef reset(self):
        self.remaining = 0
        self.done = False
        self.trailers = []
        self._state = CH_SIZE
        self._line_len = 0
        self._size = 0
        self._section_len = 0
        del self._line[:]

    cpdef take(self, Py_ssize_t n):
        """Report n data bytes of the current chunk as consumed by the caller."""
        if n < 0 or n > self.remaining:
            raise ValueError(f"take({n}) with {self.remaining} data bytes remaining")
        self.remaining -= n
        if self.remaining == 0 and self._state == CH_DATA:
            self._state = CH_DATA_CR
        return None

    def truncated(self):
        """The error for a connection that ends inside this body: gunicorn's classes."""
        if self._state == CH_DATA_CR or self._state == CH_DATA_LF or self._state == CH_TRAILER:
            return ChunkMissingTerminator(b"")
        return NoMoreData()

    cpdef Py_ssize_t advance(self, object buf, Py_ssize_t pos, Py_ssize_t end) except -2:
        cdef Py_ssize_t size, r
        cdef const unsigned char* base = _buffer_of(buf, &size)
        cdef unsigned char c
        if pos < 0 or end < pos or end > size:
            raise ValueError(f"bad range [{pos}:{end}] of a buffer of {size} bytes")
        while True:
            if self._state == CH_DATA or self._state == CH_DONE:
                return pos
            if pos >= end:
                return end
            if self._state == CH_SIZE:
                r = self._size_line(base, pos, end)
                if r < 0:
                    return end
                pos = r
            elif self._state == CH_DATA_CR:
                c = base[pos]
                if c != 13:
                    raise ChunkMissingTerminator(<bytes>(base + pos)[:2 if end - pos >= 2 else 1])
                pos += 1
                self._state = CH_DATA_LF
            elif self._state == CH_DATA_LF:
                c = base[pos]
                if c != 10:
                    raise ChunkMissingTerminator(b"\r" + <bytes>(base + pos)[:1])
                pos += 1
                self._state = CH_SIZE
            else:
                r = self._trailer_line(base, pos, end)
                if r < 0:
                    return end
                pos = r

    cdef Py_ssize_t _size_line(self, const unsigned char* base, Py_ssize_t pos,
                               Py_ssize_t end) except -2:
        """Consume a chunk-size line from base[pos:end]: the offset past its LF, or -1 when the
        line continues beyond end (its bytes then wait in _line)."""
        cdef const unsigned char* q = <const unsigned char*>memchr(base + pos, 10, end - pos)
        cdef Py_ssize_t k, floor
        cdef unsigned char last
        cdef bint has_last
        cdef const unsigned char* line
        cdef Py_ssize_t line_n
        if q == NULL:
            k = end - pos
            floor = _line_floor(base + end - 1, self._line_len + k)
            if floor > self.max_line:
                raise InvalidChunkSize(b"line over %d bytes with no terminator" % self.max_line)
            self._line += (base + pos)[:k]
            self._line_len += k
            return -1
        k = q - (base + pos)
        if k > 0:
            has_last = True
            last = base[pos + k - 1]
        elif self._line_len > 0:
            has_last = True
            last = (<bytearray>self._line)[self._line_len - 1]
        else:
            has_last = False
            last = 0
        floor = self._line_len + k - (1 if has_last and last == 13 else 0)
        if floor > self.max_line:
            raise InvalidChunkSize(b"line over %d bytes with no terminator" % self.max_line)
        if self._line_len == 0:
            line = base + pos
            line_n = k
        else:
            self._line += (base + pos)[:k]
            line = <const unsigned char*>PyByteArray_AS_STRING(self._line)
            line_n = self._line_len + k
        if not (has_last and last == 13):
            # a bare LF is no line end (RFC 9112 2.2): say which part it spoils
            semi = <const unsigned char*>memchr(line, 59, line_n)
            if semi != NULL:
                self._parse_size(line, semi - line)
                raise InvalidChunkExtension("bare LF not allowed")
            raise InvalidChunkSize(<bytes>line[:line_n])
        self._parse_size(line, line_n - 1)
        del self._line[:]
        self._line_len = 0
        if self._size == 0:
            self._state = CH_TRAILER
        else:
            self.remaining = self._size
            self._state = CH_DATA
        return pos + k + 1

    cdef int _parse_size(self, const unsigned char* p, Py_ssize_t n) except -1:
        """chunk-size [ chunk-ext ] (RFC 9112 7.1, 7.1.1), CRLF excluded."""
        cdef const unsigned char* semi = <const unsigned char*>memchr(p, 59, n)
        cdef Py_ssize_t size_n = n, i, digits = 0
        cdef long long size = 0
        cdef signed char v
        if semi != NULL:
            if memchr(semi, 13, p + n - semi) != NULL:
                raise InvalidChunkExtension("bare CR not allowed")
            size_n = semi - p
            while size_n > 0 and _is_ws(p[size_n - 1]):
                size_n -= 1
        if size_n == 0:
            raise InvalidChunkSize(<bytes>p[:size_n])
        for i in range(size_n):
            v = hex_value[p[i]]
            if v < 0:
                raise InvalidChunkSize(<bytes>p[:size_n])
            if digits or v:
                digits += 1
                if digits > MAX_CHUNK_DIGITS:
                    raise InvalidChunkSize(<bytes>p[:size_n])
                size = size * 16 + v
        if semi != NULL and not _chunk_ext_ok(semi, p + n - semi):
            raise InvalidChunkExtension("invalid chunk extension")
        self._size = size
        return 0

    cdef Py_ssize_t _trailer_line(self, const unsigned char* base, Py_ssize_t pos,
                                  Py_ssize_t end) except -2:
        """Consume one line of the trailer section; the section is parsed once its empty line
        arrives. Returns the offset past the line's LF, or -1 when the line continues beyond end."""
        cdef const unsigned char* q = <const unsigned char*>memchr(base + pos, 10, end - pos)
        cdef Py_ssize_t k
        cdef unsigned char last
        if q == NULL:
            k = end - pos
            self._line += (base + pos)[:k]
            self._line_len += k
            self._section_len += k
            if _line_floor(base + end - 1, self._section_len) > self.max_trailers:
                raise LimitRequestHeaders("limit request trailer section size")
            return -1
        k = q - (base + pos)
        if k > 0:
            last = base[pos + k - 1]
        elif self._line_len > 0:
            last = (<bytearray>self._line)[len(self._line) - 1]
        else:
            last = 0
        if (self._section_len + k - (1 if last == 13 else 0)) > self.max_trailers:
            raise LimitRequestHeaders("limit request trailer section size")
        if last != 13:
            raise InvalidHeader("bare LF as line terminator")
        if self._line_len + k == 1:
            # the empty line: end of the message
            del self._line[len(self._line) - self._line_len:]
            self._parse_trailers()
            self._state = CH_DONE
            self.done = True
            return pos + k + 1
        self._line += (base + pos)[:k + 1]
        self._section_len += k + 1
        self._line_len = 0
        return pos + k + 1

    cdef int _parse_trailers(self) except -1:
        """The trailer fields: the header rules plus the names RFC 9110 6.5.1 forbids there;
        scheme headers and Expect mean nothing here."""
        cdef bytes section = bytes(self._line)
        cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(section)
        cdef Py_ssize_t n = len(section), ls = 0, le, name_len, vs, ve, size
        cdef bint under
        cdef int ident
        cdef list fields = []
        cdef bint content_type = False
        del self._line[:]
        while ls < n:
            le = (<const unsigned char*>memchr(p + ls, 10, n - ls)) - p - 1
            if len(fields) >= self.options.limit_request_fields:
                raise LimitRequestHeaders("limit request headers fields")
            _split_field(p + ls, le - ls, self.options.strip_header_spaces, &name_len, &vs, &ve, &under)
            name = _field_name(p + ls, name_len, &ident)
            if 0 <= ident <= H_TE:
                raise InvalidHeaderName(name)
            value = _field_value(p + ls + vs, ve - vs, name)
            size = le - ls + 2
            ls = le + 2
            while ls < n and _is_ws(p[ls]):
                if not self.options.permit_obsolete_folding:
                    raise ObsoleteFolding(name)
                le = (<const unsigned char*>memchr(p + ls, 10, n - ls)) - p - 1
                size += le - ls + 2
                if size > self.options.limit_request_field_size:
                    raise LimitRequestHeaders("limit request headers fields size")
                value = value + " " + _fold_part(p + ls, le - ls, name)
                ls = le + 2
            if size > self.options.limit_request_field_size:
                raise LimitRequestHeaders("limit request headers fields size")
            if ident == H_CONTENT_TYPE:
                if content_type:
                    raise InvalidHeader(name)
                content_type = True
            if under:
                if self.options.header_map == HEADER_MAP_DROP:
                    continue
                if self.options.header_map == HEADER_MAP_REFUSE:
                    raise InvalidHeaderName(name)
            fields.append((name, value))
        self.trailers = fields
        return 0
