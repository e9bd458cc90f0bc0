"""Field lines: the table of the names known in advance, filled once at import, and the rarer checks
(obs-fold continuations, Connection options). The per-field functions are inline in
corn/_fields.pxd, so the head parser and the trailer parser each compile their own copy.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.unicode cimport PyUnicode_1BYTE_DATA

from corn._chars cimport is_ws, lower_equals, value_scan, value_str

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

known_str = []                    # id -> interned upper-case str
cdef list known_lower = []        # id -> lower-case bytes (keeps known_ptr alive)


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
        slot = name_slot(known_ptr[i], known_len[i])
        while known_slot[slot]:
            slot = (slot + 1) & (KNOWN_SLOTS - 1)
        known_slot[slot] = <short>(i + 1)


_init_known()


cdef int invalid_header(object text) except -1:
    raise InvalidHeader(text)


cdef int invalid_name(object text) except -1:
    raise InvalidHeaderName(text)


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
