# Declarations of the chunked body decoder: the table of contents of _chunked.pyx.
#
# The request cycle (corn._handler) makes one per chunked body, over the same receive buffer the
# head was parsed from:
#   decoder = ChunkedDecoder(parser.options)
#   loop: pos = decoder.advance(buf, pos, end)   # stops at data, at the end, or at `end`
#         take up to decoder.remaining bytes at pos, then decoder.take(n)
#   decoder.done: the last chunk and the trailers (decoder.trailers) are consumed

cimport cython

from corn._parser cimport ParserOptions


@cython.final
cdef class ChunkedDecoder:
    # Decodes chunked framing (RFC 9112 section 7.1) in place: advance() consumes size lines,
    # extensions, the CRLF after each chunk, the last chunk and the trailer section, and stops
    # at the first data byte of a chunk. The caller takes up to `remaining` data bytes straight
    # from its own buffer and reports them with take(n).
    cdef readonly ParserOptions options    # the trailer section follows the head's rules
    cdef readonly Py_ssize_t max_line      # longest chunk-size line (limit_request_field_size)
    cdef readonly Py_ssize_t max_trailers  # longest trailer section (max_head)
    cdef readonly Py_ssize_t remaining     # data bytes of the current chunk not yet taken
    cdef readonly bint done                # the last chunk and the trailers have been consumed
    cdef readonly list trailers            # [(NAME, value)] once done
    cdef int _state
    cdef Py_ssize_t _line_len              # bytes of the current framing line seen so far
    cdef Py_ssize_t _size                  # chunk size being accumulated
    cdef object _line                      # bytearray: the current framing line, when it spans calls
    cdef Py_ssize_t _section_len           # bytes of the trailer section seen so far

    cpdef reset(self)
    cpdef Py_ssize_t advance(self, object buf, Py_ssize_t pos, Py_ssize_t end) except -2
    cpdef take(self, Py_ssize_t n)

    cdef Py_ssize_t _size_line(self, const unsigned char* base, Py_ssize_t pos, Py_ssize_t end) except -2
    cdef Py_ssize_t _trailer_line(self, const unsigned char* base, Py_ssize_t pos, Py_ssize_t end) except -2
    cdef int _parse_size(self, const unsigned char* p, Py_ssize_t n) except -1
    cdef int _parse_trailers(self) except -1
