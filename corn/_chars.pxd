# Character classes and the scans built on them, shared by the head parser (corn/_parser.pyx), the
# chunked body decoder (corn/_chunked.pyx) and field lines (corn/_fields.pyx). The tables are filled
# once by _chars.pyx; the scans are inline, so each module compiles its own copy.
#
# Plane: data.

from libc.stdint cimport uint64_t
from libc.string cimport memcpy
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_New

from corn._bytes cimport ascii, latin1


cdef enum:
    C_TOKEN = 1        # RFC 9110 5.6.2 tchar
    C_FIELD = 2        # allowed in a field value: HTAB, SP, VCHAR, obs-text (RFC 9110 5.5)
    C_TARGET = 4       # allowed in a request-target: printable ASCII 0x21-0x7E (RFC 9112 3.2)
    C_UNCONVENTIONAL = 8   # refused in a method unless permit_unconventional_http_method: a-z, '#'
    C_QDTEXT = 16      # quoted-string text: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text
    C_QPAIR = 32       # may follow a backslash in a quoted-string: HTAB, SP, VCHAR, obs-text
    C_UNDERSCORE = 64  # '_': a field name holding it is subject to header_map

cdef unsigned char char_class[256]     # C_* bits of each byte
cdef unsigned char char_lower[256]
cdef unsigned char char_upper[256]
cdef signed char hex_value[256]        # -1 for a byte that is no hex digit

cdef bint lower_is(str value, const char* lower, Py_ssize_t n) noexcept


cdef inline bint is_ws(unsigned char c) noexcept:
    return c == 32 or c == 9


cdef inline Py_ssize_t line_floor(const unsigned char* last, Py_ssize_t m) noexcept:
    """The least length a line can have once m of its bytes (the last one at `last`) are seen and
    no LF yet: a final CR may be the start of the CRLF."""
    if m > 0 and last[0] == 13:
        return m - 1
    return m


cdef inline Py_ssize_t value_scan(const unsigned char* p, Py_ssize_t n, bint* is_ascii) noexcept:
    """The index of the first byte not allowed in a field value (RFC 9110 5.5: CTLs but HTAB, and
    DEL), or n. Eight bytes at a time while they hold no byte below 0x20 and no DEL; `is_ascii` tells
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
    is_ascii[0] = (high & 0x8080808080808080ULL) == 0
    return i


cdef inline Py_ssize_t target_scan(const unsigned char* p, Py_ssize_t n) noexcept:
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


cdef inline str value_str(const unsigned char* p, Py_ssize_t n, bint is_ascii):
    if is_ascii:
        return ascii(p, n)
    return latin1(p, n)


cdef inline bint lower_equals(const unsigned char* p, Py_ssize_t n, const char* lower,
                               Py_ssize_t m) noexcept:
    """p[:n], compared case-insensitively in ASCII, equals lower[:m] (already lower-case)."""
    cdef Py_ssize_t i
    if n != m:
        return False
    for i in range(n):
        if char_lower[p[i]] != <unsigned char>lower[i]:
            return False
    return True


cdef inline bint same_bytes(const unsigned char* a, const unsigned char* b, Py_ssize_t n) noexcept:
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


cdef inline str ascii_upper(const unsigned char* p, Py_ssize_t n):
    cdef str s = PyUnicode_New(n, 127)
    cdef unsigned char* d = <unsigned char*>PyUnicode_1BYTE_DATA(s)
    cdef Py_ssize_t i
    for i in range(n):
        d[i] = char_upper[p[i]]
    return s
