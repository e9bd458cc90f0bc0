# Buffers and the str made of their bytes, shared by the parsers (corn/_parser.pyx, corn/_chunked.pyx,
# corn/_proxy.pyx): inline, so each module compiles its own copy and no call crosses a module.
#
# Plane: data.

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_Check, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeLatin1, PyUnicode_New
from libc.string cimport memcpy


cdef inline const unsigned char* buffer_of(object buf, Py_ssize_t* size) except NULL:
    """The bytes of a bytes or bytearray object and their number, read in place."""
    if PyBytes_CheckExact(buf):
        size[0] = PyBytes_GET_SIZE(buf)
        return <const unsigned char*>PyBytes_AS_STRING(buf)
    if PyByteArray_Check(buf):
        size[0] = PyByteArray_GET_SIZE(buf)
        return <const unsigned char*>PyByteArray_AS_STRING(buf)
    raise TypeError(f"expected bytes or bytearray, got {type(buf).__name__}")


cdef inline int check_range(Py_ssize_t start, Py_ssize_t end, Py_ssize_t size) except -1:
    if start < 0 or end < start or end > size:
        raise ValueError(f"bad range [{start}:{end}] of a buffer of {size} bytes")
    return 0


cdef inline str latin1(const unsigned char* p, Py_ssize_t n):
    return PyUnicode_DecodeLatin1(<char*>p, n, NULL)


cdef inline str ascii(const unsigned char* p, Py_ssize_t n):
    """A str of bytes already checked to be ASCII."""
    cdef str s = PyUnicode_New(n, 127)
    memcpy(PyUnicode_1BYTE_DATA(s), p, n)
    return s
