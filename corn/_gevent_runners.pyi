"""Typed surface of corn._gevent_runners, the gevent worker's parking engine."""

from typing import Any, Callable

from corn._gevent_io import GeventEngine
from corn._handler import ConnectionHandler

class RunnerEngine(GeventEngine):
    """Serves connections in a few runner greenlets and parks the ones waiting for a request on
    the poller, with no greenlet."""

    parked_count: int
    def __init__(self) -> None: ...
    def start(self, handler: ConnectionHandler, sock: Any, addr: Any, done: Callable[[], None]) -> None:
        """Queue an accepted gevent socket for the runners; `done()` once it has closed."""
    def run_soon(self) -> None:
        """Serve what is queued: at once in the hub, else in its next round of callbacks."""
    def run_ready_callback(self) -> None: ...
    def run_runner(self) -> None: ...
    def close_waiting(self) -> None:
        """Close every queued or parked connection (none of them is in a request)."""
    def busy_runners(self) -> list[Any]:
        """The runner greenlets serving a connection now."""
