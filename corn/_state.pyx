"""What the handlers of one worker share (WorkerState), and the worker's metrics counters
(--metrics-bind): the Python names of their layout and the tables the request cycle counts with.

The request cycle bumps plain C integers in the slot (WorkerState.counters) and nothing else: no
Python object, no system call. gthread workers bump them from several threads; that is safe
because the compiled code holds the GIL while it increments. Each worker owns its slot, the
master only reads it (aligned 64-bit loads), so no lock is shared between processes.

Plane: data (per request; imports only the data plane and the shared modules).
"""

cimport cython
from cpython.unicode cimport PyUnicode_GET_LENGTH

from corn._syscalls cimport monotonic_now

from corn.http_errors import HTTPParseError

DEBUG_NAMES = (
    "buffers_made", "buffers_taken", "buffers_lent", "buffers_dropped",
    "parsers_made", "parsers_taken", "parsers_pooled", "parsers_dropped",
    "connections_opened", "connections_closed", "connections_parked", "connections_unparked",
)
for _i in range(N_DEBUG_COUNTS):
    debug_counts[_i] = 0


def debug_report():
    """The debug counters by name (this process, since it imported corn), or None in a release build.
    At rest, with no connection open: buffers_made + buffers_taken == buffers_lent + buffers_dropped,
    parsers_made + parsers_taken == parsers_pooled + parsers_dropped, connections_opened ==
    connections_closed and connections_parked == connections_unparked."""
    if not CORN_DEBUG:
        return None
    return {name: debug_counts[i] for i, name in enumerate(DEBUG_NAMES)}


# Upper bounds of the duration histogram's buckets, in seconds; the last bucket is +Inf.
cdef double BUCKET_BOUNDS[N_BUCKETS - 1]
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
for _i, _bound in enumerate(DURATION_BUCKETS):
    BUCKET_BOUNDS[_i] = _bound

# The method label of each row of C_REQUESTS; the last row holds every other method.
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other")


def _error_kinds():
    """The parse error classes of corn.http_errors by name, sorted; the last kind is "other"."""
    import corn.http_errors as module

    found = set()
    todo = [HTTPParseError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == module.__name__:
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    names = sorted(found)[:N_ERROR_KINDS - 1]
    return tuple(names) + ("other",)


ERROR_KINDS = _error_kinds()
cdef dict ERROR_INDEX = {name: i for i, name in enumerate(ERROR_KINDS)}

# Where each counter lives in a slot, for the master's reader (corn.metrics).
COUNTER_SLOTS = {
    "requests": C_REQUESTS, "buckets": C_BUCKETS, "duration_us": C_DURATION_US, "bytes_in": C_BYTES_IN,
    "bytes_out": C_BYTES_OUT, "accepted": C_ACCEPTED, "closed": C_CLOSED, "begun": C_BEGUN, "done": C_DONE,
    "reuses": C_REUSES, "exit_reason": C_EXIT_REASON, "errors": C_ERRORS,
}
COUNTER_COUNT = N_COUNTERS
EXIT_REASONS = {EXIT_MAX_REQUESTS: "max_requests", EXIT_RELOAD: "reload"}


cdef inline int method_row(str method) noexcept:
    """The row of C_REQUESTS for a request method."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(method)
    if n == 3:
        if method == "GET":
            return 0
        if method == "PUT":
            return 3
    elif n == 4:
        if method == "HEAD":
            return 1
        if method == "POST":
            return 2
    elif n == 6:
        if method == "DELETE":
            return 4
    elif n == 5:
        if method == "PATCH":
            return 5
    elif n == 7:
        if method == "OPTIONS":
            return 6
    return N_METHODS - 1


cdef class WorkerState:
    """What the handlers of one worker share: the stopping flag, the request count, max_requests,
    and the worker's metrics slot when metrics are on."""

    def __init__(self, long long max_requests=0, on_last_request=None, counters=None):
        cdef long long[::1] view
        self.max_requests = max_requests
        self.on_last_request = on_last_request
        self.stopping = False
        self.requests = 0
        self.counters = NULL
        if counters is not None:
            view = memoryview(counters).cast("B").cast("q")
            if view.shape[0] < N_COUNTERS:
                raise ValueError(f"a metrics slot holds {N_COUNTERS} counters, this one {view.shape[0]}")
            self.counters_view = view  # the mapping cannot be closed while this is exported
            self.counters = &view[0]

    def mark_exit(self, str reason):
        """Tell the master why this worker is about to leave ("max_requests" or "reload")."""
        if self.counters != NULL:
            self.counters[C_EXIT_REASON] = EXIT_RELOAD if reason == "reload" else EXIT_MAX_REQUESTS

    cdef bint request_begins(self) except -1:
        """Counts a request; False when it is the worker's last (max_requests), which the worker
        hears once, through on_last_request."""
        self.requests += 1
        if self.max_requests > 0 and self.requests >= self.max_requests:
            if self.requests == self.max_requests:
                self.stopping = True
                if self.counters != NULL:
                    self.counters[C_EXIT_REASON] = EXIT_MAX_REQUESTS
                if self.on_last_request is not None:
                    self.on_last_request()
            return False
        return True

    @cython.cdivision(True)  # status // 100: a constant divisor, and status >= 0 (0 or a 3-digit code)
    cdef int count_request(self, str method, int status, double started, long long out) except -1:
        """A request has ended: by method and status class (status 0: it got no response), its
        duration since its head was received, the bytes sent for it. Only with counters."""
        cdef long long* c = self.counters
        cdef double seconds
        cdef int cls = status // 100
        cdef int i = 0
        c[C_DONE] += 1
        if status == 0:
            return 0
        if cls < 1:
            cls = 1
        elif cls > N_CLASSES:
            cls = N_CLASSES
        c[C_REQUESTS + method_row(method) * N_CLASSES + cls - 1] += 1
        seconds = monotonic_now() - started
        while i < N_BUCKETS - 1 and seconds > BUCKET_BOUNDS[i]:
            i += 1
        c[C_BUCKETS + i] += 1
        c[C_DURATION_US] += <long long>(seconds * 1e6)
        c[C_BYTES_OUT] += out
        return 0

    cdef int count_error(self, exc, long long out) except -1:
        """A request refused by a parse error, by the error's class name. Only with counters."""
        cdef object index = ERROR_INDEX.get(type(exc).__name__)
        self.counters[C_ERRORS + (<int>index if index is not None else N_ERROR_KINDS - 1)] += 1
        self.counters[C_BYTES_OUT] += out
        return 0
