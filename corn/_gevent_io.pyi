"""Typed surface of corn._gevent_io, the gevent worker's I/O engine."""

from corn._stream import Engine, Stream

def keep_frame_stacks() -> None:
    """Keep the frame stack chunks of ended greenlets for the next ones (no mmap per greenlet)."""

def read_timer_fired(stream: GeventStream) -> None: ...
def out_writable(stream: GeventStream) -> None: ...

class GeventStream(Stream):
    """A gevent socket read and written with direct system calls, its reads parked on the
    worker's edge-triggered poller."""

class ReadPoller:
    """The worker's own epoll set, edge-triggered, watched by one gevent watcher."""

    def dispatch(self) -> None: ...

class GeventEngine(Engine):
    """Makes a GeventStream of each gevent socket; each connection stays in the greenlet that
    calls handle() (the worker's engine is corn._gevent_runners.RunnerEngine)."""

    def __init__(self, parks: bool = False) -> None: ...
    def flush_unsent_callback(self) -> None: ...
