"""Typed surface of corn._gevent_io, the gevent worker's I/O engine."""

from typing import Any, Callable

from corn._handler import ConnectionHandler
from corn._stream import Engine, Stream

def keep_frame_stacks() -> None:
    """Keep the frame stack chunks of ended greenlets for the next ones (no mmap per greenlet)."""

def read_timer_fired(stream: GeventStream) -> None: ...

class GeventStream(Stream):
    """A gevent socket read and written with direct system calls, its reads parked on the
    worker's edge-triggered poller."""

class ReadPoller:
    """The worker's own epoll set, edge-triggered, watched by one gevent watcher."""

    def dispatch(self) -> None: ...

class GeventEngine(Engine):
    """Makes a GeventStream of each gevent socket; with `parks`, serves connections in a few
    runner greenlets and parks the ones waiting for a request on the poller."""

    parked_count: int
    def __init__(self, parks: bool = False) -> None: ...
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
