"""Typed surface of corn._proxy, the PROXY protocol header reader."""

from enum import IntEnum

class ProxyMode(IntEnum):
    """The proxy_protocol setting, as the request cycle reads it."""

    PROXY_OFF = 0
    PROXY_V1 = 1
    PROXY_V2 = 2
    PROXY_AUTO = 3

_ProxyInfo = tuple[str, str | None, int | None, str | None, int | None]

class ProxyReader:
    """Reads the PROXY header that opens each connection, in one mode (never PROXY_OFF)."""

    def __init__(self, mode: int) -> None: ...
    @property
    def mode(self) -> int: ...
    @property
    def info(self) -> _ProxyInfo | None:
        """(protocol, src_addr, src_port, dst_addr, dst_port) of the header read last: protocol is
        TCP4, TCP6, LOCAL or UNSPEC (the last two carry no address)."""
    def read(self, buf: bytes | bytearray, start: int, end: int, allowed: bool, peer: object) -> int:
        """The offset just past the header at buf[start:end], or -1 when more bytes are needed.
        MissingProxyHeader at the first byte no header starts with; ForbiddenProxyRequest (naming
        `peer`) when not `allowed`; InvalidProxyLine / InvalidProxyHeader for a malformed one."""
