# Field lines (RFC 9110 5, RFC 9112 5), shared by the head parser (corn/_parser.pyx) and the trailer
# section of chunked bodies (corn/_chunked.pyx): the field names known in advance, each one interned
# str found by a hash of its bytes, and the split and checks of one line.
#
# Plane: data.

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


cdef int known_id(const unsigned char* p, Py_ssize_t n) noexcept
cdef str field_name(const unsigned char* p, Py_ssize_t n, int* ident)
cdef int split_field(const unsigned char* p, Py_ssize_t n, bint strip_spaces, Py_ssize_t* name_len,
                     Py_ssize_t* value_start, Py_ssize_t* value_end, bint* underscore) except -1
cdef str field_value(const unsigned char* p, Py_ssize_t n, str name)
cdef str fold_part(const unsigned char* p, Py_ssize_t n, str name)
cdef unsigned int connection_options(str value) noexcept
