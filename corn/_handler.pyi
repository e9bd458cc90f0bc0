"""Typed surface of corn._handler, the request cycle a worker runs on each connection."""

from collections.abc import Callable
from typing import Any

from corn._connection import Connection
from corn._parser import ParserOptions
from corn._state import WorkerState as WorkerState
from corn._stream import Engine

class HandlerOptions:
    """The settings of the request cycle, validated: made by corn.options.request_options."""

    def __init__(
        self,
        parser: ParserOptions,
        *,
        keepalive: float,
        header_timeout: float,
        timeout: float,
        use_sendfile: bool,
        url_scheme: str,
        multiprocess: bool,
        proxy_protocol: int,
        pre_request: Callable[..., object] | None,
        post_request: Callable[..., object] | None,
    ) -> None: ...
    @property
    def parser(self) -> ParserOptions: ...
    @property
    def keepalive(self) -> float: ...
    @property
    def header_timeout(self) -> float: ...
    @property
    def timeout(self) -> float: ...
    @property
    def use_sendfile(self) -> bool: ...
    @property
    def url_scheme(self) -> str: ...
    @property
    def multiprocess(self) -> bool: ...
    @property
    def proxy_protocol(self) -> int:
        """A corn._proxy.ProxyMode."""
    @property
    def pre_request(self) -> Callable[..., object] | None: ...
    @property
    def post_request(self) -> Callable[..., object] | None: ...

class ConnectionHandler:
    """Serves the connections one worker accepts on one listener."""

    def __init__(
        self,
        app: Callable[..., Any],
        options: HandlerOptions,
        log: Any,
        listener: Any,
        engine: Engine,
        state: WorkerState,
        *,
        worker: object = None,
        peer_trusted: Callable[[object], bool] | None = None,
        proxy_allowed: Callable[[object], bool] | None = None,
        multithread: bool = False,
    ) -> None: ...
    @property
    def requests_started(self) -> int: ...
    def handle(self, sock: Any, addr: Any) -> None:
        """Serve one connection until it closes."""
    def open(self, sock: Any, addr: Any) -> Connection:
        """The Connection of an accepted socket, not yet read from."""
    def resume(self, conn: Connection, expired: bool = False) -> int:
        """Serve until the connection closes (0) or, with a parking Engine, waits for a request's
        first bytes (PARKED, -2)."""
    def close(self, conn: Connection) -> None:
        """Close a connection that is not being served (a parked one, at a worker's stop)."""
