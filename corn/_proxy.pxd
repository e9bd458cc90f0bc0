# Declarations of the PROXY protocol reader: the table of contents of _proxy.pyx.
#
# A connection behind a proxy that speaks the PROXY protocol opens with one header (v1: a text
# line, v2: a binary block) saying who the client is. The request cycle reads it once, before the
# first request, with the worker's ProxyReader; the request parser never sees it.
#
#   reader = ProxyReader(mode)                         # one per worker
#   end = reader.read(buf, start, stop, allowed, peer)   # -1: need more bytes
#   reader.info                                        # what the header said, for the connection

cimport cython


cpdef enum ProxyMode:
    PROXY_OFF = 0
    PROXY_V1 = 1
    PROXY_V2 = 2
    PROXY_AUTO = 3


@cython.final
cdef class ProxyReader:
    cdef readonly int mode             # ProxyMode, never PROXY_OFF
    cdef readonly object info          # None, or (protocol, src_addr, src_port, dst_addr, dst_port)
                                       # of the header read last

    cpdef Py_ssize_t read(self, object buf, Py_ssize_t start, Py_ssize_t end, bint allowed,
                          object peer) except -2
    cdef Py_ssize_t _v1(self, const unsigned char* p, Py_ssize_t n) except -2
    cdef Py_ssize_t _v2(self, const unsigned char* p, Py_ssize_t n) except -2
