"""Typed surface of corn._stream, the I/O interface between the request cycle and a worker."""

from typing import Any

class Stream:
    """Reads, writes and waits of one connection, through the socket object's own methods."""

    def __init__(self, sock: Any, parks: bool = False) -> None: ...
    @property
    def sock(self) -> Any: ...
    def wait_write(self, fd: int, timeout: float) -> None:
        """Wait until `fd` can take more bytes (os.sendfile of file bodies)."""

class FdStream(Stream):
    """A standard-library socket's descriptor, read and written with recv(2) and send(2)."""

class Engine:
    """Makes the Stream of each accepted socket. `parks`: never wait for a request's first bytes."""

    def __init__(self, parks: bool = False) -> None: ...
    @property
    def parks(self) -> bool: ...
