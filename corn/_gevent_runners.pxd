# Declarations of the gevent worker's parking engine: the table of contents of _gevent_runners.pyx.

cimport cython

from corn._gevent_io cimport GeventEngine, GeventStream


@cython.final
cdef class RunnerEngine(GeventEngine):
    cdef object hub
    cdef list ready                    # parked streams to resume, in order, from ready_at on
    cdef Py_ssize_t ready_at
    cdef list idle                     # runner greenlets waiting for work (at most SPARE_RUNNERS)
    cdef set runners                   # every runner greenlet alive
    cdef bint run_scheduled            # run_ready() is due in the hub's next round of callbacks
    cdef readonly Py_ssize_t parked_count  # connections parked now

    cdef int serve(self, GeventStream stream, runner) except -1
    cdef int park(self, GeventStream stream) except -1
    cdef int finished(self, GeventStream stream) except -1
