"""The character tables of corn/_chars.pxd, filled once at import (RFC 9110 5.6.2, 5.5; RFC 9112 3.2).

Plane: data (per request; imports only the data plane and the shared modules).
"""


cdef void _init_tables() noexcept:
    """Fill char_class, char_lower, char_upper and hex_value."""
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


cdef bint lower_is(str value, const char* lower, Py_ssize_t n) noexcept:
    """value, compared case-insensitively in ASCII, equals lower[:n] (already lower-case)."""
    return lower_equals(<const unsigned char*>PyUnicode_1BYTE_DATA(value), len(value), lower, n)
