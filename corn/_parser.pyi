"""Typed surface of corn._parser, the compiled HTTP/1.1 request parser.

Every method that refuses a request raises a `corn.http_errors.HTTPParseError` subclass.
"""

from enum import IntEnum
from typing import Literal

class BodyKind(IntEnum):
    """What follows the head: the value of RequestParser.body_kind."""

    BODY_NONE = 0
    BODY_LENGTH = 1
    BODY_CHUNKED = 2

class HeaderMap(IntEnum):
    """How a field name holding '_' is treated: the value of RequestParser.header_map."""

    HEADER_MAP_DROP = 0
    HEADER_MAP_REFUSE = 1
    HEADER_MAP_DANGEROUS = 2

_ProxyInfo = tuple[str, str | None, int | None, str | None, int | None]
_Buffer = bytes | bytearray

class RequestParser:
    """Parses request heads with gunicorn 27's rules; one instance serves request after request."""

    # per worker: settings, as normalised at construction
    @property
    def limit_request_line(self) -> int: ...
    @property
    def limit_request_fields(self) -> int: ...
    @property
    def limit_request_field_size(self) -> int: ...
    @property
    def max_head(self) -> int: ...
    @property
    def permit_unconventional_http_method(self) -> bool: ...
    @property
    def permit_unconventional_http_version(self) -> bool: ...
    @property
    def casefold_http_method(self) -> bool: ...
    @property
    def strip_header_spaces(self) -> bool: ...
    @property
    def permit_obsolete_folding(self) -> bool: ...
    @property
    def header_map(self) -> int:
        """0 drop, 1 refuse, 2 dangerous."""
    @property
    def proxy_protocol(self) -> int:
        """0 off, 1 v1, 2 v2, 3 auto. When on, a connection that does not open with a PROXY header
        of a version it names is refused with MissingProxyHeader."""

    # per connection: set by the caller
    peer_trusted: bool
    """The peer may set secure_scheme_headers and forwarder_headers (forwarded_allow_ips)."""
    proxy_allowed: bool
    """The peer may send a PROXY protocol header (proxy_allow_ips)."""
    first_request: bool
    """A PROXY header is looked for only while this is true; parse_head clears it once a head is
    complete."""
    peer_host: object
    """The peer's address, used only in the text of ForbiddenProxyRequest."""
    @property
    def proxy_info(self) -> _ProxyInfo | None:
        """(protocol, src_addr, src_port, dst_addr, dst_port) from the connection's PROXY header:
        protocol is TCP4, TCP6, LOCAL or UNSPEC (the last two carry no address). Kept across
        reset() for the later requests of the connection."""

    # per request: the result, valid once parse_head returned an offset
    @property
    def method(self) -> str | None: ...
    @property
    def uri(self) -> str | None:
        """The raw request-target."""
    @property
    def path(self) -> str | None:
        """The raw path, not percent-decoded."""
    @property
    def query(self) -> str | None: ...
    @property
    def fragment(self) -> str | None: ...
    @property
    def version_major(self) -> int: ...
    @property
    def version_minor(self) -> int:
        """HTTP/1.2 to HTTP/1.9 are served as, and reported as, HTTP/1.1 (RFC 9110 2.5)."""
    @property
    def headers(self) -> list[tuple[str, str]]:
        """(UPPER-CASED name, latin-1 value) in arrival order, after the header policy."""
    @property
    def body_kind(self) -> Literal[0, 1, 2]: ...
    @property
    def content_length(self) -> int: ...
    @property
    def should_close(self) -> bool:
        """The request asks for the connection to close after its response: close in any
        Connection field, HTTP/1.0 without keep-alive in one, CONNECT, or a compressing coding."""
    @property
    def expect_continue(self) -> bool:
        """Expect: 100-continue on HTTP/1.1."""
    @property
    def url_scheme(self) -> Literal["https", "http"] | None:
        """Set when a trusted peer sent one of secure_scheme_headers."""

    def __init__(
        self,
        *,
        limit_request_line: int = 4094,
        limit_request_fields: int = 100,
        limit_request_field_size: int = 8190,
        permit_unconventional_http_method: bool = False,
        permit_unconventional_http_version: bool = False,
        casefold_http_method: bool = False,
        strip_header_spaces: bool = False,
        permit_obsolete_folding: bool = False,
        header_map: str = "drop",
        forwarder_headers: str | list[str] | tuple[str, ...] = "SCRIPT_NAME,PATH_INFO",
        secure_scheme_headers: dict[str, str] | None = None,
        proxy_protocol: str | bool = "off",
    ) -> None: ...
    def reset(self) -> None:
        """Forget the previous request; settings and per-connection fields stay."""
    def parse_head(self, buf: _Buffer, start: int, end: int) -> int:
        """Scan buf[start:end], the bytes of the request received so far. Returns the offset just
        past the head's final CRLF once it is complete, else -1. Between calls the caller may
        append bytes and move the request to another start."""

class ChunkedDecoder:
    """Walks the framing of one chunked request body over the caller's buffer."""

    @property
    def max_line(self) -> int: ...
    @property
    def max_trailers(self) -> int: ...
    @property
    def remaining(self) -> int:
        """Data bytes of the current chunk that start at the offset advance() returned."""
    @property
    def done(self) -> bool:
        """The last chunk and the trailer section have been consumed."""
    @property
    def trailers(self) -> list[tuple[str, str]]: ...
    def __init__(
        self, max_line: int = 8190, max_trailers: int = 819204, parser: RequestParser | None = None
    ) -> None:
        """`parser`, when given, supplies the header rules applied to trailers (header_map,
        strip_header_spaces, permit_obsolete_folding, field count and size limits)."""
    def reset(self) -> None: ...
    def advance(self, buf: _Buffer, pos: int, end: int) -> int:
        """Consume framing from buf[pos:end]. Returns the offset of the next data byte when
        remaining > 0, the offset just past the message when done, else end (more bytes needed)."""
    def take(self, n: int) -> None:
        """Report n data bytes (at most remaining) as consumed."""
    def truncated(self) -> Exception:
        """The error to raise when the connection ends inside this body."""
