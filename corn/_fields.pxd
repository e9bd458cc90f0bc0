# Field lines (RFC 9110 5, RFC 9112 5), shared by the head parser (corn/_parser.pyx) and the trailer
# section of chunked bodies (corn/_chunked.pyx): the field names known in advance, and the split and
# checks of one line. Every name corn expects often is one interned str (a keep-alive client's fields
# cost no new name str), found by a hash of its length and first, middle and last bytes, in any case;
# a name that is not known is upper-cased into a new str.
#
# Plane: data.

from libc.stdint cimport uint64_t
from libc.string cimport memcpy

from corn._bytes cimport latin1
from corn._chars cimport (
    C_TOKEN, C_UNDERSCORE, ascii_upper, char_class, char_lower, is_ws, value_scan, value_str,
)


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

cdef tuple KNOWN_NAMES                 # id -> upper-case name, in KnownName order for the first ids

cdef enum ConnectionOption:
    CONN_CLOSE = 1
    CONN_KEEP_ALIVE = 2


cdef list known_str                    # id -> interned upper-case str
cdef const unsigned char* known_ptr[KNOWN_MAX]   # id -> lower-case name
cdef Py_ssize_t known_len[KNOWN_MAX]
cdef short known_slot[KNOWN_SLOTS]     # hash slot -> id + 1, 0 when empty

cdef int invalid_header(object text) except -1   # raises corn.http_errors.InvalidHeader(text)
cdef int invalid_name(object text) except -1     # raises corn.http_errors.InvalidHeaderName(text)
cdef str fold_part(const unsigned char* p, Py_ssize_t n, str name)
cdef unsigned int connection_options(str value) noexcept


# --- inline: every field line of a head goes through them -------------------------------------

cdef inline unsigned int name_slot(const unsigned char* p, Py_ssize_t n) noexcept:
    """The first hash slot of a field name (n > 0): from its length and its first, middle and last
    bytes, any case, so scanning the name costs nothing more."""
    return (<unsigned int>n * 37 + char_lower[p[0]] * 11 + char_lower[p[n >> 1]] * 5
            + char_lower[p[n - 1]]) & (KNOWN_SLOTS - 1)


cdef inline bint same_name(const unsigned char* p, const unsigned char* k, Py_ssize_t n) noexcept:
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


cdef inline int known_id(const unsigned char* p, Py_ssize_t n) noexcept:
    """The id of the field name p[:n] (any case) in KNOWN_NAMES, or -1."""
    cdef unsigned int slot = name_slot(p, n)
    cdef int ident
    while known_slot[slot]:
        ident = known_slot[slot] - 1
        if known_len[ident] == n and same_name(p, known_ptr[ident], n):
            return ident
        slot = (slot + 1) & (KNOWN_SLOTS - 1)
    return -1


cdef inline str field_name(const unsigned char* p, Py_ssize_t n, int* ident):
    cdef int k = known_id(p, n)
    ident[0] = k
    if k >= 0:
        return <str>known_str[k]
    return ascii_upper(p, n)


cdef inline int split_field(const unsigned char* p, Py_ssize_t n, bint strip_spaces,
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
            invalid_header(latin1(p, n))
        if strip_spaces:
            j = i
            while j < colon and is_ws(p[j]):
                j += 1
            if j < colon or i == 0:
                invalid_name(latin1(p, colon))
        else:
            invalid_name(latin1(p, colon))
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


cdef inline str field_value(const unsigned char* p, Py_ssize_t n, str name):
    """The value p[:n] as a str, once its characters are checked (RFC 9110 5.5)."""
    cdef bint is_ascii
    if value_scan(p, n, &is_ascii) != n:
        invalid_header(name)
    return value_str(p, n, is_ascii)
