# What the handlers of one worker share: WorkerState (the request count, max_requests, the stopping
# flag, the worker's metrics slot) and the layout of the metrics counters (--metrics-bind), bumped by
# the request cycle and read, through corn._state's Python names, by the master (corn.metrics).
#
# Plane: data.

cimport cython


# The worker's counters (--metrics-bind): one array of 64-bit integers in a shared-memory slot the
# master mapped before the fork; the master sums the slots when scraped (corn.metrics). These are
# the indices; corn._state.COUNTER_SLOTS names them for Python.
cdef enum:
    N_METHODS = 8                      # GET HEAD POST PUT DELETE PATCH OPTIONS, then any other
    N_CLASSES = 5                      # status classes 1xx to 5xx
    N_BUCKETS = 12                     # duration histogram buckets, the last one +Inf
    N_ERROR_KINDS = 32                 # parse error classes (corn._state.ERROR_KINDS), the last "other"
    C_REQUESTS = 0                     # [method * N_CLASSES + class - 1] responses by method and class
    C_BUCKETS = 40                     # [i] requests whose duration fell in bucket i (not cumulative)
    C_DURATION_US = 52                 # the sum of request durations, microseconds
    C_BYTES_IN = 53                    # bytes received on connections
    C_BYTES_OUT = 54                   # response bytes sent (heads and bodies)
    C_ACCEPTED = 55                    # connections accepted
    C_CLOSED = 56                      # connections closed
    C_BEGUN = 57                       # requests whose head was received
    C_DONE = 58                        # requests finished (answered or failed)
    C_REUSES = 59                      # requests on a kept-alive connection (not its first)
    C_EXIT_REASON = 60                 # not a counter: why the worker is leaving (EXIT_*)
    C_ERRORS = 64                      # [kind] requests refused by a parse error
    N_COUNTERS = 96

cdef enum:
    EXIT_NONE = 0
    EXIT_MAX_REQUESTS = 1
    EXIT_RELOAD = 2

# Debug counters, kept only in a build with CORN_DEBUG=1 (setup.py): what the request cycle's pools
# lend and get back, per process. In a release build CORN_DEBUG is the constant 0 and the compiler
# drops every `if CORN_DEBUG:` block. corn._state.debug_report() reads them.
cdef extern from *:
    """
    #ifndef CORN_DEBUG
    #define CORN_DEBUG 0
    #endif
    """
    const bint CORN_DEBUG

cdef enum:                             # the debug counters, by index
    D_BUFFERS_MADE = 0                 # receive buffers allocated
    D_BUFFERS_TAKEN                    # receive buffers taken from a handler's pool
    D_BUFFERS_LENT                     # receive buffers given back to the pool
    D_BUFFERS_DROPPED                  # receive buffers let go (pool full, grown, connection closed)
    D_PARSERS_MADE
    D_PARSERS_TAKEN                    # parsers taken from a handler's pool
    D_PARSERS_POOLED                   # parsers given back to the pool
    D_PARSERS_DROPPED                  # parsers let go (pool full)
    D_CONNECTIONS_OPENED
    D_CONNECTIONS_CLOSED
    D_CONNECTIONS_PARKED               # resume() returned PARKED
    D_CONNECTIONS_UNPARKED             # a parked connection was resumed
    N_DEBUG_COUNTS

cdef long long debug_counts[N_DEBUG_COUNTS]


@cython.final
cdef class WorkerState:
    # --- per worker, shared by its handlers ----------------------------------------------------
    cdef public bint stopping          # the worker stops: responses say Connection: close
    cdef readonly long long requests   # requests begun in this worker (worker.nr)
    cdef long long max_requests        # the worker's max_requests (with its jitter), 0 for none
    cdef object on_last_request        # called once, as the max_requests-th request begins
    cdef long long* counters           # the worker's metrics slot, NULL when metrics are off
    cdef object counters_view          # keeps the slot's memory exported while counters points in it

    cdef bint request_begins(self) except -1
    cdef int count_request(self, str method, int status, double started, long long out) except -1
    cdef int count_error(self, exc, long long out) except -1
