"""Typed surface of corn._state: what the handlers of one worker share, and the layout of the
worker's metrics counters (read by corn.metrics)."""

from collections.abc import Callable

DURATION_BUCKETS: tuple[float, ...]
"""Upper bounds of the request duration buckets, in seconds; one more bucket holds the rest."""
METHODS: tuple[str, ...]
"""The method of each row of request counters; the last, "other", holds every other method."""
ERROR_KINDS: tuple[str, ...]
"""The parse error class of each error counter; the last is "other"."""
COUNTER_SLOTS: dict[str, int]
"""Where each counter starts in a slot."""
COUNTER_COUNT: int
"""The 64-bit integers of a slot."""
EXIT_REASONS: dict[int, str]
"""What the exit-reason word of a slot means."""

class WorkerState:
    """The request count (worker.nr), max_requests, the stopping flag and the metrics slot."""

    def __init__(
        self,
        max_requests: int = 0,
        on_last_request: Callable[[], object] | None = None,
        counters: object = None,
    ) -> None:
        """`counters`: a writable buffer of at least COUNTER_COUNT 64-bit integers, or None."""
    stopping: bool
    """Once set, every response begun says Connection: close."""
    @property
    def requests(self) -> int: ...
    def mark_exit(self, reason: str) -> None:
        """Tell the master why this worker leaves: "max_requests" or "reload"."""

DEBUG_NAMES: tuple[str, ...]

def debug_report() -> dict[str, int] | None:
    """The debug counters by name, or None in a release build (see corn/_state.pxd)."""
