"""Chunked request bodies (RFC 9112 7.1): the framing decoded in place over the caller's buffer.

Invariants:

- Data bytes are never copied by the decoder: advance() stops at each chunk's first data byte and
  the caller takes them from its own buffer; only a framing line split across two reads is kept.
- The answer to bad framing does not depend on how the bytes were split: a size line is bounded by
  limit_request_field_size and the trailer section by max_head, checked on what a line must at
  least hold.
- The trailer section follows the head's field rules (corn._fields), and refuses the fields RFC
  9110 6.5.1 forbids there.

Plane: data (per request; imports only the data plane and the shared modules).
"""

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING
from libc.string cimport memchr

from corn._bytes cimport buffer_of, check_range
from corn._chars cimport C_QDTEXT, C_QPAIR, C_TOKEN, char_class, hex_value, is_ws, line_floor
from corn._fields cimport H_CONTENT_TYPE, H_TE, field_name, field_value, fold_part, split_field
from corn._parser cimport HEADER_MAP_DROP, HEADER_MAP_REFUSE

from corn.http_errors import (
    ChunkMissingTerminator,
    InvalidChunkExtension,
    InvalidChunkSize,
    InvalidHeader,
    InvalidHeaderName,
    LimitRequestHeaders,
    NoMoreData,
    ObsoleteFolding,
)

cdef enum:
    MAX_CHUNK_DIGITS = 15         # 16**15 - 1 bytes: far beyond any body, far below 2**63


cdef enum ChunkState:
    CH_SIZE = 0        # reading a chunk-size line
    CH_DATA = 1        # `remaining` data bytes to take
    CH_DATA_CR = 2     # the CR after the data
    CH_DATA_LF = 3     # the LF after the data
    CH_TRAILER = 4     # reading the trailer section
    CH_DONE = 5


cdef bint chunk_ext_ok(const unsigned char* p, Py_ssize_t n) noexcept:
    """RFC 9112 7.1.1: p[:n] (from the first ';') is *( BWS ";" BWS token [ BWS "=" BWS
    ( token / quoted-string ) ] )."""
    cdef Py_ssize_t i = 0, j
    while i < n:
        while i < n and is_ws(p[i]):
            i += 1
        if i >= n or p[i] != 59:
            return False
        i += 1
        while i < n and is_ws(p[i]):
            i += 1
        j = i
        while i < n and (char_class[p[i]] & C_TOKEN):
            i += 1
        if i == j:
            return False
        j = i
        while j < n and is_ws(p[j]):
            j += 1
        if j < n and p[j] == 61:
            i = j + 1
            while i < n and is_ws(p[i]):
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
        cdef const unsigned char* base = buffer_of(buf, &size)
        cdef unsigned char c
        check_range(pos, end, size)
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
            floor = line_floor(base + end - 1, self._line_len + k)
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
            while size_n > 0 and is_ws(p[size_n - 1]):
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
        if semi != NULL and not chunk_ext_ok(semi, p + n - semi):
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
            if line_floor(base + end - 1, self._section_len) > self.max_trailers:
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
            split_field(p + ls, le - ls, self.options.strip_header_spaces, &name_len, &vs, &ve, &under)
            name = field_name(p + ls, name_len, &ident)
            if 0 <= ident <= H_TE:
                raise InvalidHeaderName(name)
            value = field_value(p + ls + vs, ve - vs, name)
            size = le - ls + 2
            ls = le + 2
            while ls < n and is_ws(p[ls]):
                if not self.options.permit_obsolete_folding:
                    raise ObsoleteFolding(name)
                le = (<const unsigned char*>memchr(p + ls, 10, n - ls)) - p - 1
                size += le - ls + 2
                if size > self.options.limit_request_field_size:
                    raise LimitRequestHeaders("limit request headers fields size")
                value = value + " " + fold_part(p + ls, le - ls, name)
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
