"""Field lines: the names known in advance, and the split and checks of one line (RFC 9110 5.1, 5.5).

Every name corn expects often is one interned str (a keep-alive client's fields cost no new name
str), found by a hash of its length and first, middle and last bytes, in any case. A name that is
not known is upper-cased into a new str. The declarations are in corn/_fields.pxd.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.unicode cimport PyUnicode_1BYTE_DATA
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from corn._bytes cimport latin1
from corn._chars cimport (
    C_TOKEN, C_UNDERSCORE, ascii_upper, char_class, char_lower, is_ws, lower_equals, value_scan, value_str,
)

import sys

from corn.http_errors import InvalidHeader, InvalidHeaderName

KNOWN_NAMES = (
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


cdef int known_id(const unsigned char* p, Py_ssize_t n) noexcept:
    """The id of the field name p[:n] (any case) in KNOWN_NAMES, or -1."""
    cdef unsigned int slot = _name_slot(p, n)
    cdef int ident
    while known_slot[slot]:
        ident = known_slot[slot] - 1
        if known_len[ident] == n and _same_name(p, known_ptr[ident], n):
            return ident
        slot = (slot + 1) & (KNOWN_SLOTS - 1)
    return -1


cdef str field_name(const unsigned char* p, Py_ssize_t n, int* ident):
    cdef int k = known_id(p, n)
    ident[0] = k
    if k >= 0:
        return <str>known_str[k]
    return ascii_upper(p, n)


cdef int split_field(const unsigned char* p, Py_ssize_t n, bint strip_spaces,
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
            raise InvalidHeader(latin1(p, n))
        if strip_spaces:
            j = i
            while j < colon and is_ws(p[j]):
                j += 1
            if j < colon or i == 0:
                raise InvalidHeaderName(latin1(p, colon))
        else:
            raise InvalidHeaderName(latin1(p, colon))
    name_len[0] = i
    underscore[0] = (seen & C_UNDERSCORE) != 0
    i = colon + 1
    j = n
    while i < j and is_ws(p[i]):
        i += 1
    while j > i and is_ws(p[j - 1]):
        j -= 1
    value_start[0] = i
    value_end[0] = j
    return 0


cdef str field_value(const unsigned char* p, Py_ssize_t n, str name):
    """The value p[:n] as a str, once its characters are checked (RFC 9110 5.5)."""
    cdef bint is_ascii
    if value_scan(p, n, &is_ascii) != n:
        raise InvalidHeader(name)
    return value_str(p, n, is_ascii)


cdef str fold_part(const unsigned char* p, Py_ssize_t n, str name):
    """The stripped text of an obs-fold continuation line (RFC 9112 5.2)."""
    cdef Py_ssize_t i = 0, j = n
    while i < j and is_ws(p[i]):
        i += 1
    while j > i and is_ws(p[j - 1]):
        j -= 1
    cdef bint is_ascii
    if value_scan(p + i, j - i, &is_ascii) != j - i:
        raise InvalidHeader(name)
    return value_str(p + i, j - i, is_ascii)


cdef unsigned int connection_options(str value) noexcept:
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
        while s < e and is_ws(p[s]):
            s += 1
        while e > s and is_ws(p[e - 1]):
            e -= 1
        if lower_equals(p + s, e - s, b"close", 5):
            found |= CONN_CLOSE
        elif lower_equals(p + s, e - s, b"keep-alive", 10):
            found |= CONN_KEEP_ALIVE
    return found
