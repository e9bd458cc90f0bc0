# Declarations of a response: the table of contents of _response.pyx.
#
# The request cycle makes one Response per request; the app gets its start_response (and the
# Response itself as wsgi.early_hints), and the cycle sends what is still owed with finish().

cimport cython

from corn._connection cimport Connection
from corn._state cimport WorkerState as State


cdef str http_date()                   # the Date header value, formatted at most once a second


@cython.final
cdef class Response:
    # --- per request: start_response, write and the framing of the response --------------------
    cdef Connection conn
    cdef State state                   # the worker's: its stopping flag makes the head say close
    cdef str version                   # "HTTP/1.1" or "HTTP/1.0": the status line echoes the request
    cdef bint head_request
    cdef public str status
    cdef public list headers
    cdef readonly int status_code
    cdef bint started                  # start_response was called
    cdef bint headers_sent
    cdef bint chunked
    cdef bint no_body                  # HEAD, 1xx, 204, 304
    cdef bint keep_alive               # the request allows keeping the connection
    cdef long long length              # Content-Length from the app, or -1
    cdef bint overflow                 # the app wrote more than its Content-Length (the excess is dropped)
    cdef public long long sent         # body bytes sent
    cdef str date                      # the Date value of the head being built
    cdef Py_ssize_t head_bytes         # the size of the head sent (for the bytes-out counter)

    cdef Py_ssize_t _head_size(self) except -1
    cdef char* _head_into(self, char* p) except NULL
    cdef bytes _head(self)
    cdef int _write(self, data) except -1
    cdef int finish(self) except -1
    cdef int send_file(self, wrapper, double timeout) except -1
